"""The learned paragraph topic model (``nlp.features.ParagraphTopics``): pooling, out-of-fold training
features, the switch in ``PARAMS["multi_label"]``, persistence."""

import numpy as np
import pytest
import skops.io

from nlp.classify import PARAMS, TRUSTED_TYPES, _build_pipeline
from nlp.features import ParagraphTopics, text_features
from nlp.scheme import load_scheme

WORDS = {
    0: ["budget", "precept", "savings", "council", "tax", "deficit"],
    1: ["blaze", "crews", "smoke", "flames", "rescued", "attended"],
}


def _rows(n: int, seed: int = 0) -> tuple[list[dict], np.ndarray]:
    """Articles of a headline and three paragraphs; topic 0 (money) and 1 (fire) each put one
    paragraph of their words in the article, the rest is filler shared by all."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for index in range(n):
        topics = [int(rng.random() < 0.5), int(rng.random() < 0.5)]
        paragraphs = [f"headline {index}", "the meeting heard several things about the area"]
        for topic, present in enumerate(topics):
            if present:
                paragraphs.append(" ".join(rng.choice(WORDS[topic], size=4)))
        paragraphs.append("residents were told more later this year")
        rows.append({"paragraphs": paragraphs})
        labels.append(topics)
    return rows, np.array(labels)


def test_pooling_takes_the_maximum_then_the_top_two_mean_per_article():
    probabilities = np.array([[0.1, 0.9], [0.7, 0.2], [0.4, 0.6], [0.3, 0.5]])
    owners = np.array([0, 0, 0, 2])  # article 1 has no paragraph
    pooled = ParagraphTopics.pooled(probabilities, owners, 3)
    assert pooled.shape == (3, 4)
    assert pooled[0].tolist() == pytest.approx([0.7, 0.9, (0.7 + 0.4) / 2, (0.9 + 0.6) / 2])
    assert pooled[1].tolist() == [0.0, 0.0, 0.0, 0.0]
    # one paragraph: the maximum and the top-two mean are that paragraph
    assert pooled[2].tolist() == pytest.approx([0.3, 0.5, 0.3, 0.5])


def test_paragraph_model_learns_which_paragraph_is_about_a_topic():
    rows, labels = _rows(80)
    model = ParagraphTopics(embedder=None, cv=5).fit(rows, labels)
    test_rows, test_labels = _rows(40, seed=1)
    features = model.transform(test_rows)
    assert features.shape == (40, 4)
    for topic in (0, 1):
        with_topic, without = features[test_labels[:, topic] == 1, topic], features[test_labels[:, topic] == 0, topic]
        assert with_topic.min() > without.max()


def test_training_features_are_out_of_fold():
    """An article's training features never depend on its own labels (they come from paragraph
    models fitted on the other inner folds), while the fitted model used at prediction does."""
    rows, labels = _rows(40)
    # An article whose only distinctive words are its own: "unique" words seen twice (min_df 2) in it alone.
    rows[3] = {"paragraphs": ["headline 3", "zebra quokka zebra quokka", "zebra quokka again"]}
    flipped = labels.copy()
    flipped[3] = 1 - labels[3]
    first = ParagraphTopics(embedder=None, cv=5)
    second = ParagraphTopics(embedder=None, cv=5)
    out_of_fold, out_of_fold_flipped = first.fit_transform(rows, labels), second.fit_transform(rows, flipped)
    assert out_of_fold[3] == pytest.approx(out_of_fold_flipped[3])
    # the other folds' articles do see article 3's labels through their models
    assert not np.allclose(np.delete(out_of_fold, 3, axis=0), np.delete(out_of_fold_flipped, 3, axis=0))
    # at prediction (all training articles) article 3's labels move its own features
    assert not np.allclose(first.transform(rows)[3], second.transform(rows)[3])
    # fit alone gives the same prediction model as fit_transform
    assert ParagraphTopics(embedder=None, cv=5).fit(rows, labels).transform(rows) == pytest.approx(first.transform(rows))


def test_a_topic_with_one_class_gets_its_prior():
    rows, labels = _rows(20)
    labels[:, 1] = 0
    features = ParagraphTopics(embedder=None, cv=5).fit(rows, labels).transform(rows)
    assert features[:, 1] == pytest.approx(np.full(20, 1e-6), abs=1e-9)


def test_switch_off_by_default_and_on_as_a_weighted_standardised_branch(monkeypatch):
    task = load_scheme().tasks["topics"]
    assert PARAMS["multi_label"]["text"]["paragraph_topic_weight"] == 0.0
    branches = dict(_build_pipeline(task, "tfidf+static").named_steps["features"].transformer_list)
    assert "paragraph_topics" not in branches
    monkeypatch.setitem(PARAMS["multi_label"]["text"], "paragraph_topic_weight", 0.3)
    union = _build_pipeline(task, "tfidf+static").named_steps["features"]
    branch = dict(union.transformer_list)["paragraph_topics"]
    assert union.transformer_weights["paragraph_topics"] == 0.3
    assert [name for name, _ in branch.steps] == ["pool", "scale"]
    assert branch.named_steps["pool"].embedder == "static" and branch.named_steps["pool"].cv == 5
    # without an embedder in the feature set: TF-IDF paragraphs only
    branch = dict(text_features("text", features="tfidf", paragraph_topic_weight=1.0).transformer_list)
    assert branch["paragraph_topics"].named_steps["pool"].embedder is None


def test_union_training_features_are_the_out_of_fold_ones_and_the_model_saves(tmp_path):
    rows, labels = _rows(60)
    rows = [{**row, "text": "\n".join(row["paragraphs"])} for row in rows]
    union = text_features("text", features="tfidf", paragraph_topic_weight=1.0)
    matrix = union.fit_transform(rows, labels)
    pooled = dict(union.transformer_list)["paragraph_topics"]
    width = pooled.named_steps["pool"].coef_.shape[1] * 2
    assert width == 4
    training = np.asarray(matrix[:, -width:].todense())
    out_of_fold = ParagraphTopics(embedder=None, cv=5).fit_transform(rows, labels)
    assert training == pytest.approx(pooled.named_steps["scale"].transform(out_of_fold))
    path = tmp_path / "union.skops"
    skops.io.dump(union, path)
    loaded = skops.io.load(path, trusted=TRUSTED_TYPES)
    assert (loaded.transform(rows) != union.transform(rows)).nnz == 0
