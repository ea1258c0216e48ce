"""Optional statistical NER: other people and organisations in the coverage.

Off by default (the default pipeline needs no model download). To switch it on, install a
spaCy pipeline package (e.g. ``en_core_web_sm``) and name it, or a pipeline directory, in
``data/watchlist.toml``::

    [analysis]
    ner_model = "en_core_web_sm"

``cuttings analyse`` then also records every PERSON and ORG the model finds in the
``named_entities`` table, and the analyser version changes so articles are re-analysed.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import spacy

from nlp import packaged_data
from nlp.watchlist import WatchlistError

LABELS = ("PERSON", "ORG")
DEFAULT_WATCHLIST = packaged_data("watchlist.toml")


class NerUnavailable(WatchlistError):
    """The configured pipeline cannot be loaded."""


def configured_model(watchlist_path: str | Path | None = None) -> str | None:
    """The ``[analysis] ner_model`` named in the watchlist file, or None."""
    path = Path(watchlist_path) if watchlist_path else DEFAULT_WATCHLIST
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None  # the watchlist loader reports these
    value = (document.get("analysis") or {}).get("ner_model")
    return value.strip() if isinstance(value, str) and value.strip() else None


class NamedEntityRecogniser:
    """A statistical spaCy pipeline used only for its named entities."""

    def __init__(self, name: str):
        try:
            self.nlp = spacy.load(name, exclude=["lemmatizer", "textcat"])
        except OSError:
            raise NerUnavailable(f"watchlist.toml: [analysis] ner_model {name!r} is not installed "
                                 f"(install the spaCy pipeline package, or remove ner_model)") from None
        if "ner" not in self.nlp.pipe_names and "entity_ruler" not in self.nlp.pipe_names:
            raise NerUnavailable(f"watchlist.toml: [analysis] ner_model {name!r} has no named-entity component")
        self.name = name
        self.version = f"ner:{self.nlp.meta.get('name', name)}-{self.nlp.meta.get('version', '0')}"
        self.nlp.max_length = max(self.nlp.max_length, 2_000_000)

    def find(self, text: str) -> list[dict]:
        doc = self.nlp(text)
        return [{"label": ent.label_, "text": ent.text, "start_char": ent.start_char, "end_char": ent.end_char}
                for ent in doc.ents if ent.label_ in LABELS]

    def pipe(self, texts, batch_size: int = 32):
        for doc in self.nlp.pipe(texts, batch_size=batch_size):
            yield [{"label": ent.label_, "text": ent.text, "start_char": ent.start_char, "end_char": ent.end_char}
                   for ent in doc.ents if ent.label_ in LABELS]
