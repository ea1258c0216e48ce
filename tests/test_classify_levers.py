"""Training-time crops and the nearest-labelled-articles blend (issue 18 levers, off by default)."""

import numpy as np
import pytest
import skops.io
from sklearn.base import BaseEstimator, ClassifierMixin

from nlp.classify import (
    PARAMS,
    TRUSTED_TYPES,
    TwoStageClassifier,
    _crop_rows,
    _plain_calibration,
    _task_examples,
    _TaskModel,
    crop_document,
    document_crops,
    knn_blend,
    knn_index,
    paragraph_spans,
)
from nlp.corpus import load_corpus
from nlp.entities import document_text
from nlp.features import LEAD_PARAGRAPHS, article_row
from nlp.scheme import load_scheme

PARAGRAPHS = [
    "The fire service announced a review of its stations.",
    "Hereford and Worcester Fire and Rescue Service said cover would be kept.",
    "Councillors met on Tuesday to discuss the budget.",
    "The commissioner said savings were needed.",
    "Unions warned that cuts would cost lives.",
    "Residents signed a petition against the closure.",
    "Shropshire Fire and Rescue Service praised its crews.",
    "A decision is expected next month.",
]


def _doc() -> dict:
    """A document with a mention at the start of every body paragraph and a quote in the fourth."""
    title = "Fire stations under review"
    body = "\n\n".join(PARAGRAPHS)
    text = document_text(title, body)
    mentions = []
    for index, paragraph in enumerate(PARAGRAPHS):
        start = text.index(paragraph)
        entity = "sfrs" if "Shropshire" in paragraph else "wm_pcc" if "commissioner" in paragraph else "hwfrs"
        mentions.append({"entity_id": entity, "surface": paragraph.split()[0], "start_char": start,
                         "end_char": start + 3, "sentence": paragraph, "paragraph": index + 1})
    start = text.index("savings were needed")
    quotes = [{"speaker": "the commissioner", "entity_id": "wm_pcc", "text": "savings were needed",
               "start_char": start, "end_char": start + 19}]
    return {"title": title, "body": body, "mentions": mentions, "quotes": quotes}


def test_paragraph_spans_are_article_rows_paragraphs_with_the_analysers_offsets():
    doc = {**_doc(), "body": "\n\n  First para.\n\n\n\nSecond para.  \n \nThird.\n"}
    spans = paragraph_spans(doc)
    assert [text for _, _, text in spans] == article_row(doc)["paragraphs"]
    text = document_text(doc["title"], doc["body"])
    for start, end, paragraph in spans:
        assert text[start:end].strip() == paragraph


def test_crops_keep_the_headline_and_lead_and_are_the_same_for_the_same_seed():
    doc = _doc()
    crops = document_crops(doc, "t1-001", copies=2, drop=0.5, seed=0)
    assert crops == document_crops(doc, "t1-001", copies=2, drop=0.5, seed=0)
    assert len(crops) == 2 and crops[0] != crops[1]
    assert min(len(article_row(crop)["paragraphs"]) for crop in crops) < len(PARAGRAPHS) + 1
    # another seed or another article draws other paragraphs (for these two, at least one copy differs)
    assert document_crops(doc, "t1-001", copies=2, drop=0.5, seed=1) != crops
    assert document_crops(doc, "t1-002", copies=2, drop=0.5, seed=0) != crops
    for crop in crops:
        paragraphs = article_row(crop)["paragraphs"]
        assert paragraphs[: LEAD_PARAGRAPHS + 1] == [doc["title"], *PARAGRAPHS[:LEAD_PARAGRAPHS]]
        assert set(paragraphs[1:]) <= set(PARAGRAPHS)
        # only the mentions and quotes of the kept paragraphs
        assert [m["sentence"] for m in crop["mentions"]] == paragraphs[1:]
        assert [q["text"] in crop["body"] for q in crop["quotes"]] == [True] * len(crop["quotes"])
        assert ("savings were needed" in crop["body"]) == bool(crop["quotes"])
    # drop 0 keeps the whole article, drop 1 the headline and lead only
    whole = document_crops(doc, "t1-001", copies=1, drop=0.0)[0]
    assert whole["body"] == doc["body"] and whole["mentions"] == doc["mentions"]
    lead = document_crops(doc, "t1-001", copies=1, drop=1.0)[0]
    assert lead["body"] == "\n\n".join(PARAGRAPHS[:LEAD_PARAGRAPHS]) and len(lead["mentions"]) == LEAD_PARAGRAPHS
    assert crop_document(doc, [])["body"] == "" and crop_document(doc, [])["mentions"] == []


def test_crops_are_off_by_default_and_a_tone_copy_must_still_mention_its_body(monkeypatch):
    assert PARAMS["multi_label"]["crops"] is None and PARAMS["per_entity"]["crops"] is None
    assert PARAMS["multi_label"]["knn"] is None and PARAMS["per_entity"]["knn"] is None
    scheme = load_scheme()
    doc = _doc()
    record = {"id": "t1-900", "title": doc["title"], "body": doc["body"], "topics": ["governance"],
              "stance_governance": "none", "tone": {"hwfrs": "neutral", "sfrs": "positive"},
              "analysis": {"version": "test", "categories": {}, "mentions": doc["mentions"], "quotes": doc["quotes"]}}
    tone, topics = scheme.tasks["tone"], scheme.tasks["topics"]
    rows, _, _ = _task_examples([record], tone)
    assert _crop_rows(tone, rows) == []
    monkeypatch.setitem(PARAMS["per_entity"], "crops", {"copies": 2, "drop": 1.0, "seed": 0})
    crops = _crop_rows(tone, rows)
    # sfrs is named only in the seventh paragraph, which a crop without the others' paragraphs drops
    assert [rows[parent]["entity_id"] for parent, _ in crops] == ["hwfrs", "hwfrs"]
    assert all(row["crop"] and row["article_key"] == "t1-900" and row["entity_id"] == "hwfrs" for _, row in crops)
    assert all("Shropshire" not in " ".join(row["paragraphs"]) for _, row in crops)
    monkeypatch.setitem(PARAMS["multi_label"], "crops", {"copies": 2, "drop": 0.5, "seed": 0})
    rows, _, _ = _task_examples([record], topics)
    topic_crops = _crop_rows(topics, rows)
    assert [parent for parent, _ in topic_crops] == [0, 0]
    assert [row["text"] for _, row in topic_crops] == [f"{c['title']}\n{c['body']}"
                                                      for c in document_crops(doc, "t1-900", 2, 0.5, 0)]


def _rows(vectors_of: list[str], entity: str | None = None) -> list[dict]:
    return [{"paragraphs": [text], **({"entity_id": entity} if entity else {})} for text in vectors_of]


def test_knn_blend_mixes_the_neighbours_label_shares_and_weight_zero_changes_nothing():
    train = _rows(["fire station closure", "fire station closure plans", "budget savings council tax",
                   "council budget savings", "crews rescue a dog"])
    labels = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [0, 0]], dtype=float)
    test = _rows(["closure of the fire station", "the council's budget savings"])
    probabilities = np.array([[0.2, 0.3], [0.5, 0.5]])
    index = knn_index(train, labels, k=2, weight=0.4)
    blended = knn_blend(probabilities, test, index)
    assert blended.shape == probabilities.shape
    np.testing.assert_allclose(blended, 0.6 * probabilities + 0.4 * np.array([[1.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(knn_blend(probabilities, test, knn_index(train, labels, k=2, weight=0.0)),
                                  probabilities)
    np.testing.assert_array_equal(knn_blend(probabilities, test, None), probabilities)
    # k larger than the training rows: all of them
    np.testing.assert_allclose(knn_blend(probabilities, test, knn_index(train, labels, k=10, weight=1.0)),
                               np.tile(labels.mean(axis=0), (2, 1)))


def test_knn_blend_of_a_per_entity_task_reads_only_the_same_bodys_pairs():
    train = _rows(["fire station closure"], "hwfrs") + _rows(["fire station closure"], "sfrs")
    labels = np.array([[0, 1, 0], [1, 0, 0]], dtype=float)   # hwfrs negative, sfrs positive (say)
    index = knn_index(train, labels, k=5, weight=0.5, entities=["hwfrs", "sfrs"])
    test = _rows(["fire station closure"], "sfrs") + _rows(["fire station closure"], "wm_pcc")
    probabilities = np.full((2, 3), 1 / 3)
    blended = knn_blend(probabilities, test, index)
    np.testing.assert_allclose(blended[0], 0.5 * probabilities[0] + 0.5 * labels[1])
    np.testing.assert_array_equal(blended[1], probabilities[1])   # no wm_pcc pair to learn from


@pytest.fixture(scope="module")
def topic_rows():
    scheme = load_scheme()
    records = [r for i, r in enumerate(load_corpus(scheme=scheme)) if i % 4 == 0]
    task = scheme.tasks["topics"]
    rows, targets, _ = _task_examples(records, task)
    return task, rows, targets


def test_topics_with_crops_and_a_zero_weight_knn_fit_and_predict(topic_rows, monkeypatch):
    task, rows, targets = topic_rows
    labels = list(task.labels)
    baseline = _TaskModel(task, "tfidf").fit(rows, targets, labels)
    monkeypatch.setitem(PARAMS["multi_label"], "knn", {"k": 5, "weight": 0.0})
    zero = _TaskModel(task, "tfidf").fit(rows, targets, labels)
    np.testing.assert_array_equal(zero.predict_proba(rows), baseline.predict_proba(rows))
    assert zero.thresholds == baseline.thresholds and zero.bundle("")["knn"]["vectors"].shape[0] == len(rows)
    monkeypatch.setitem(PARAMS["multi_label"], "knn", {"k": 5, "weight": 0.4})
    blended = _TaskModel(task, "tfidf").fit(rows, targets, labels)
    assert blended.predict_proba(rows).shape == baseline.predict_proba(rows).shape
    assert not np.allclose(blended.predict_proba(rows), baseline.predict_proba(rows))
    monkeypatch.setitem(PARAMS["multi_label"], "knn", None)
    monkeypatch.setitem(PARAMS["multi_label"], "crops", {"copies": 1, "drop": 0.5, "seed": 0})
    cropped = _TaskModel(task, "tfidf").fit(rows, targets, labels)
    # the calibration folds are plain numbers again once fitted (a saved model holds trusted types only)
    classifier = cropped.pipeline.named_steps["classify"]
    assert [estimator.cv for estimator in classifier.estimators_] == [PARAMS["multi_label"]["calibration_cv"]] * len(
        classifier.estimators_)
    assert _plain_calibration(cropped.pipeline, 3) is cropped.pipeline
    # the crops were trained on, but the features (vocabulary, IDF, scaling) are the whole articles'
    assert not np.allclose(cropped.predict_proba(rows), baseline.predict_proba(rows))
    words = [pipeline.named_steps["features"].transformer_list[0][1].named_steps["vectorise"]
             for pipeline in (cropped.pipeline, baseline.pipeline)]
    assert words[0].vocabulary_ == words[1].vocabulary_
    np.testing.assert_array_equal(words[0].idf_, words[1].idf_)


class _Recorder(BaseEstimator, ClassifierMixin):
    """A step that remembers what it was fitted on."""

    def fit(self, rows, targets):
        self.rows_, self.classes_ = list(rows), np.unique(np.asarray(targets, dtype=str))
        return self

    def predict_proba(self, rows):
        return np.full((len(rows), len(self.classes_)), 1.0 / len(self.classes_))


def test_stance_side_step_crops_leave_the_presence_step_the_whole_articles():
    doc = _doc()
    rows = [{**article_row(doc), "document": doc, "article_key": f"t1-{i}"} for i in range(4)]
    rows.append({**article_row(doc), "article_key": "t1-9"})   # no document: no crops
    targets = ["favour", "against", "none", "neutral", "against"]
    plain = TwoStageClassifier(_Recorder(), _Recorder(), "none").fit(rows, targets)
    cropped = TwoStageClassifier(_Recorder(), _Recorder(), "none",
                                 side_crops={"copies": 2, "drop": 0.5, "seed": 0}).fit(rows, targets)
    assert len(cropped.presence_.rows_) == len(plain.presence_.rows_) == 5
    assert len(plain.side_.rows_) == 4 and len(cropped.side_.rows_) == 4 + 2 * 3
    crops = [c for i in (0, 1, 3) for c in document_crops(doc, f"t1-{i}", 2, 0.5, 0)]
    assert [row["text"] for row in cropped.side_.rows_[4:]] == [f"{c['title']}\n{c['body']}" for c in crops]
    assert cropped.side_classes_ == plain.side_classes_ == ["against", "favour", "neutral"]
    assert PARAMS["single_label"]["two_stage"]["side_crops"] is None


def test_a_knn_index_saves_and_loads_with_the_trusted_types(tmp_path):
    train = _rows(["fire station closure", "council budget savings"], "hwfrs")
    index = knn_index(train, np.array([[1.0, 0.0], [0.0, 1.0]]), k=1, weight=0.2, entities=["hwfrs", "hwfrs"])
    skops.io.dump({"knn": index, "topics": knn_index(train, np.eye(2), k=1, weight=0.2)}, tmp_path / "m.skops")
    loaded = skops.io.load(tmp_path / "m.skops", trusted=TRUSTED_TYPES)
    test = _rows(["closure of the fire station"], "hwfrs")
    np.testing.assert_array_equal(knn_blend(np.array([[0.5, 0.5]]), test, loaded["knn"]),
                                  knn_blend(np.array([[0.5, 0.5]]), test, index))
    assert loaded["topics"]["entities"] is None


def test_neighbour_label_features_leave_each_training_row_out_and_keep_to_the_same_body():
    from nlp.features import NeighbourLabels, text_features

    train = _rows(["fire station closure", "fire station closure plans", "council budget savings"])
    labels = ["against", "against", "favour"]
    neighbours = NeighbourLabels(k=1)
    fitted = neighbours.fit_transform(train, labels)
    assert neighbours.classes_ == ["against", "favour"]
    # each training row's nearest other row, never itself
    np.testing.assert_array_equal(fitted, [[1, 0], [1, 0], [1, 0]])
    np.testing.assert_array_equal(neighbours.transform(_rows(["the council's budget savings"])), [[0, 1]])
    matrix = np.array([[1, 0], [1, 1], [0, 1]])
    assert NeighbourLabels(k=2).fit_transform(train, matrix).shape == (3, 2)
    pairs = _rows(["fire station closure"], "hwfrs") + _rows(["fire station closure"], "sfrs")
    tone = NeighbourLabels(k=5).fit(pairs, ["negative", "positive"])
    np.testing.assert_array_equal(tone.transform(_rows(["closure"], "sfrs") + _rows(["closure"], "wm_pcc")),
                                  [[0, 1], [0, 0]])
    names = [name for name, _ in text_features("text", features="tfidf", neighbour_weight=0.3).transformer_list]
    assert "neighbours" in names and "neighbours" not in [
        name for name, _ in text_features("text", features="tfidf").transformer_list]
