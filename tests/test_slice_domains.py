"""Feature augmentation by gathering slice (``nlp.classify.SliceDomains``, Daume III 2007)."""

import numpy as np
import pytest
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from nlp.classify import PARAMS, SliceDomains, TwoStageClassifier, _build_pipeline, _record_slice, _vectoriser_steps
from nlp.features import FieldSelector
from nlp.scheme import load_scheme


def _union():
    return Pipeline([("select", FieldSelector("domain")), ("vectorise", DictVectorizer())])


ROWS = [
    {"domain": {"a": 1.0}, "slice": "t1"},
    {"domain": {"b": 2.0}, "slice": "gov"},
    {"domain": {"a": 3.0, "b": 1.0}, "slice": None},
    {"domain": {"b": 4.0}, "slice": "t1"},
]


def test_training_rows_fill_the_general_block_and_their_own_slice_block():
    augmenter = SliceDomains(_union(), weight=0.5)
    matrix = augmenter.fit_transform(ROWS).toarray()
    # Blocks: general (a, b), then the slices in CORPUS_SLICES order: t1, gov.
    assert augmenter.slices_ == ["t1", "gov"]
    assert matrix.shape == (4, 6)
    np.testing.assert_allclose(matrix[0], [1, 0, 0.5, 0, 0, 0])
    np.testing.assert_allclose(matrix[1], [0, 2, 0, 0, 0, 1])
    np.testing.assert_allclose(matrix[2], [3, 1, 0, 0, 0, 0])   # no slice: general block only
    np.testing.assert_allclose(matrix[3], [0, 4, 0, 2, 0, 0])


def test_prediction_fills_only_the_general_block():
    augmenter = SliceDomains(_union(), weight=1.0)
    augmenter.fit_transform(ROWS)
    matrix = augmenter.transform(ROWS).toarray()
    assert matrix.shape == (4, 6)
    np.testing.assert_allclose(matrix[:, :2], [[1, 0], [0, 2], [3, 1], [0, 4]])
    assert not matrix[:, 2:].any()


def test_slice_blocks_absorb_a_slice_s_own_labelling_habit():
    # Feature "x" means label 1 in slice t1 and label 0 in gov; "y" means 1 and "z" 0 in both.
    rows, targets = [], []
    for _ in range(20):
        rows += [{"domain": {"x": 1.0}, "slice": "t1"}, {"domain": {"z": 1.0}, "slice": "t1"},
                 {"domain": {"y": 1.0}, "slice": "t1"},
                 {"domain": {"x": 1.0}, "slice": "gov"}, {"domain": {"y": 1.0}, "slice": "gov"},
                 {"domain": {"z": 1.0}, "slice": "gov"}]
        targets += [1, 0, 1, 0, 1, 0]
    augmented = Pipeline([("features", SliceDomains(_union(), 1.0)),
                          ("classify", LogisticRegression(C=1.0))]).fit(rows, targets)
    names = list(augmented.named_steps["features"].features.named_steps["vectorise"].feature_names_)
    coef = augmented.named_steps["classify"].coef_[0].reshape(3, len(names))   # general, t1, gov
    x, y = names.index("x"), names.index("y")
    assert coef[1, x] > 0.5 and coef[2, x] < -0.5       # each slice's habit in its own block
    assert abs(coef[0, x]) < 0.1                         # the general weight of "x" stays near 0
    assert coef[0, y] > 0.5                              # what the slices agree on is general
    # At prediction (general block only) "x" says neither way, "y" says 1.
    probabilities = augmented.predict_proba([{"domain": {"x": 1.0}}, {"domain": {"y": 1.0}}])[:, 1]
    assert abs(probabilities[0] - 0.5) < 0.1 < probabilities[1] - 0.5


def test_record_slice_is_the_corpus_prefix_or_none():
    assert _record_slice({"id": "gov-012"}) == "gov"
    assert _record_slice({"id": "t1-004"}) == "t1"
    assert _record_slice({"id": "db-17"}) is None
    assert _record_slice({"id": "x"}) is None


SCHEME = load_scheme()


def _unions(pipeline):
    """The feature unions a pipeline fits: its own first step, or each step of a two-step model."""
    first = pipeline.steps[0][1]
    if isinstance(first, TwoStageClassifier):
        return [first.presence.steps[0][1], first.side.steps[0][1]]
    return [first]


@pytest.mark.parametrize("task_name,path", [("topics", ("multi_label",)),
                                            ("stance_governance", ("single_label", "two_stage")),
                                            ("tone", ("per_entity",))])
def test_the_switch_wraps_the_task_s_features_only_when_on(monkeypatch, task_name, path):
    task = SCHEME.tasks[task_name]
    table = PARAMS
    for key in path:
        table = table[key]
    assert not table.get("slice_domains")   # off by default
    plain = _build_pipeline(task, "tfidf+static")
    assert not any(isinstance(union, SliceDomains) for union in _unions(plain))
    monkeypatch.setitem(table, "slice_domains", 0.5)
    augmented = _build_pipeline(task, "tfidf+static")
    assert all(isinstance(union, SliceDomains) and union.weight == 0.5 for union in _unions(augmented))
    # The prediction-speed path (``share_analysis``) still finds the wrapped unions' TF-IDF vectorisers.
    # (a two-step model's are walked once fitted: its fitted steps)
    found = len(list(_vectoriser_steps(augmented)))
    assert found == len(list(_vectoriser_steps(plain)))
    assert found > 0 or isinstance(plain.steps[0][1], TwoStageClassifier)
    # The one-step stance model that tone stacks is never augmented.
    assert not isinstance(_build_pipeline(SCHEME.tasks["stance_governance"], "tfidf+static", two_stage=False)
                          .steps[0][1], SliceDomains)
