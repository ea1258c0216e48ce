"""The everyday `cuttings doctor` checks the model files without loading them (``nlp.model_files``: no
scikit-learn import, about 0.2 s against 2.3 s for the shipped models at any database size); `doctor --full`
loads them as classify does. Each broken file the load refuses, the files check refuses too, in the same words;
the one kind it cannot see (sound bytes holding an object this install cannot build) is --full's."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import skops.io
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from cuttings import stages
from cuttings.doctor import check_models
from nlp.classify import Classifier, ModelLoadError, _library_versions
from nlp.model_files import ModelFileError, check_model_files
from tests.conftest import REPO

LABELS = ["governance", "finance", "other"]


class NotTrusted(BaseEstimator, TransformerMixin):
    """A step of a type no cuttings install trusts: skops refuses to build it."""

    def fit(self, rows, targets=None):
        return self

    def transform(self, rows):
        return rows


def tiny_models(folder: Path, *, step=None) -> Path:
    """A real models folder of one small topics model: a skops file and its card, as `cuttings train` saves them
    (the bundle's plain fields, a fitted scikit-learn Pipeline, the installed library versions)."""
    folder.mkdir(parents=True, exist_ok=True)
    steps = ([("odd", step)] if step is not None else []) + [("model", LogisticRegression())]
    pipeline = Pipeline(steps).fit([[0.0], [1.0], [2.0]], ["governance", "finance", "other"])
    bundle = {"model_version": "topics-1", "task": "topics", "kind": "multi_label", "labels": LABELS,
              "cues": {"finance": ["budget", "precept"]}, "absent": None, "features": "tfidf",
              "pipeline": pipeline, "stacked": None}
    skops.io.dump(bundle, folder / "topics.skops")
    card = {"task": "topics", "kind": "multi_label", "model_version": "topics-1", "labels": LABELS,
            "library_versions": _library_versions(), "features": "tfidf", "analyser_versions": []}
    (folder / "topics.json").write_text(json.dumps(card), encoding="utf-8")
    return folder


def _largest_member_data(path: Path) -> tuple[int, int]:
    """Where the largest member's (compressed) bytes are in the file: (offset, length)."""
    with zipfile.ZipFile(path) as archive:
        info = max(archive.infolist(), key=lambda item: item.compress_size)
    raw = path.read_bytes()
    start = info.header_offset
    name_length = int.from_bytes(raw[start + 26:start + 28], "little")
    extra_length = int.from_bytes(raw[start + 28:start + 30], "little")
    return start + 30 + name_length + extra_length, info.compress_size


def _flip_a_byte(folder: Path) -> None:
    path = folder / "topics.skops"
    offset, length = _largest_member_data(path)
    data = bytearray(path.read_bytes())
    data[offset + length // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(folder: Path) -> None:
    path = folder / "topics.skops"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _not_a_model(folder: Path) -> None:
    (folder / "topics.skops").write_bytes(b"<html>404 Not Found</html>")


def _gone(folder: Path) -> None:
    (folder / "topics.skops").rename(folder / "topics-old.skops")   # a card whose own file is gone


def _edit_card(folder: Path, **fields) -> None:
    card = json.loads((folder / "topics.json").read_text(encoding="utf-8"))
    card.update(fields)
    (folder / "topics.json").write_text(json.dumps(card), encoding="utf-8")


def _other_models_file(folder: Path) -> None:
    other = tiny_models(folder.parent / "other")
    _edit_card(other, model_version="topics-2")
    card = json.loads((other / "topics.json").read_text(encoding="utf-8"))
    bundle_version = json.loads(zipfile.ZipFile(other / "topics.skops").read("schema.json"))
    assert bundle_version["content"]["model_version"]["content"] == '"topics-1"'
    (folder / "topics.json").write_text(json.dumps(card), encoding="utf-8")   # the card of another training


BROKEN = {
    "a byte changed": (_flip_a_byte, "cannot load model"),
    "cut short": (_truncate, "cannot load model"),
    "not a skops file": (_not_a_model, "cannot load model"),
    "missing": (_gone, "cannot load model"),
    "saved with another scikit-learn": (lambda folder: _edit_card(folder, library_versions={
        **_library_versions(), "sklearn": "0.24.2"}), "was saved with sklearn 0.24.2 but"),
    "an unreadable card": (lambda folder: (folder / "topics.json").write_text("{", encoding="utf-8"),
                           "unreadable model card"),
    "another training's card": (_other_models_file, "does not match its card"),
    "an unknown feature set": (lambda folder: _edit_card(folder, features="tfidf+bert"), "does not match its card"),
}


def test_sound_files_check_out_and_load_and_give_what_the_models_checks_read(tmp_path):
    models = tiny_models(tmp_path / "models")
    checked = check_model_files(models)
    loaded = Classifier.load(models)
    assert checked.cards == loaded.cards and checked.versions == loaded.versions == {"topics": "topics-1"}
    assert checked.bundles["topics"]["cues"] == loaded.bundles["topics"]["cues"] == {"finance": ["budget", "precept"]}
    assert checked.bundles["topics"]["features"] == "tfidf"


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_a_model_file_that_will_not_load_is_found_without_loading_it(tmp_path, broken):
    """Every file Classifier.load refuses here, check_model_files refuses too, in the load's words; and doctor's
    models check is an error with and without --full."""
    models = tiny_models(tmp_path / "models")
    spoil, words = BROKEN[broken]
    spoil(models)
    with pytest.raises(ModelLoadError) as loading:
        Classifier.load(models)
    with pytest.raises(ModelFileError) as checking:
        check_model_files(models)
    assert words in str(loading.value) and words in str(checking.value), (loading.value, checking.value)
    assert "retrain with `cuttings train`" in str(checking.value)
    for full in (False, True):
        check = check_models(models, full=full)
        assert check.status == "error" and words in check.message, (full, check.message)
        assert "cuttings train" in check.fix


def test_only_full_finds_sound_bytes_holding_an_object_this_install_cannot_build(tmp_path):
    """The files check reads the file, not the objects: a type skops will not build (here one no install trusts)
    is found by loading it, which --full does (and every classify run)."""
    models = tiny_models(tmp_path / "models", step=NotTrusted())
    check_model_files(models)   # whole, and matching its card
    with pytest.raises(ModelLoadError, match="cannot load model"):
        Classifier.load(models)
    assert check_models(models, full=True).status == "error"
    assert check_models(models).status != "error"


def test_the_everyday_check_reads_the_files_and_full_loads_the_models(tmp_path, monkeypatch):
    models = tiny_models(tmp_path / "models")
    calls = []
    load, files = stages.load_classifier, stages.model_files
    monkeypatch.setattr(stages, "load_classifier", lambda path=None: calls.append("load") or load(path))
    monkeypatch.setattr(stages, "model_files", lambda path=None: calls.append("files") or files(path))
    everyday = check_models(models)
    assert calls == ["files"]
    assert everyday.message.startswith(f"1 model in {models}, its file whole and matching its card "
                                       "(`doctor --full` loads them)")
    full = check_models(models, full=True)
    assert calls == ["files", "load"]
    assert full.message.startswith(f"1 model loads from {models}, but ")
    assert everyday.status == full.status   # the same problems found (here: the scheme's other tasks untrained)
    assert everyday.message.split(", but ", 1)[1:] == full.message.split(", but ", 1)[1:]


def test_the_everyday_models_check_imports_neither_scikit_learn_nor_skops(tmp_path):
    models = tiny_models(tmp_path / "models")
    code = ("import sys; from cuttings.doctor import check_models; check = check_models(sys.argv[1]); "
            "print(check.status, check.message.startswith('1 model in'), 'sklearn' in sys.modules, "
            "'skops' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(models)], capture_output=True, text=True, cwd=REPO,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["warning", "True", "False", "False"]
