"""The ordinal decomposition (Frank & Hall 2001) behind the ``frank_hall`` switches: two cumulative
binary models on an ordered three-label scale, class probabilities from their differences."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from nlp.classify import PARAMS, OrdinalClassifier, TwoStageClassifier, _build_pipeline, _ordered
from nlp.scheme import Task

ORDER = ["against", "neutral", "favour"]  # deliberately not alphabetical


def _ordered_data(seed: int = 0, per_label: int = 60):
    """One feature; the label is the band it falls in: against < -1 <= neutral < 1 <= favour."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, size=3 * per_label)
    labels = np.where(x < -1, "against", np.where(x < 1, "neutral", "favour"))
    return x[:, None], labels


def test_probabilities_are_the_differences_of_the_cumulative_models_and_sum_to_one():
    x, y = _ordered_data()
    model = OrdinalClassifier(LogisticRegression(C=10.0), ORDER).fit(x, y)
    assert list(model.classes_) == ["against", "favour", "neutral"]  # sorted, as scikit-learn's
    assert model.order_ == ORDER and len(model.cumulative_) == 2
    grid = np.linspace(-3, 3, 61)[:, None]
    above = model.cumulative_proba(grid)  # P(y > against), P(y > neutral)
    probabilities = model.predict_proba(grid)
    assert probabilities.sum(axis=1) == pytest.approx(np.ones(len(grid)))
    assert (probabilities >= 0).all()
    column = {label: list(model.classes_).index(label) for label in ORDER}
    # Where the cumulative models are monotone (no clipping), the decomposition is exact.
    monotone = above[:, 0] >= above[:, 1]
    assert monotone.mean() > 0.9
    assert probabilities[monotone, column["against"]] == pytest.approx(1 - above[monotone, 0])
    assert probabilities[monotone, column["neutral"]] == pytest.approx(above[monotone, 0] - above[monotone, 1])
    assert probabilities[monotone, column["favour"]] == pytest.approx(above[monotone, 1])


def test_the_middle_label_wins_in_the_middle_and_the_ends_at_the_ends():
    x, y = _ordered_data()
    model = OrdinalClassifier(LogisticRegression(C=10.0), ORDER).fit(x, y)
    predicted = model.predict(np.array([[-2.5], [-2.0], [0.0], [0.3], [2.0], [2.5]]))
    assert list(predicted) == ["against", "against", "neutral", "neutral", "favour", "favour"]
    # Along the scale, P(against) falls and P(favour) rises.
    probabilities = model.predict_proba(np.linspace(-3, 3, 25)[:, None])
    against, favour = (probabilities[:, list(model.classes_).index(label)] for label in ("against", "favour"))
    assert (np.diff(against) <= 1e-9).all() and (np.diff(favour) >= -1e-9).all()
    # Accurate on fresh data from the same scale.
    fresh_x, fresh_y = _ordered_data(seed=1)
    assert (model.predict(fresh_x) == fresh_y).mean() > 0.9


def test_crossing_cumulative_models_are_clipped_and_renormalised():
    class Fixed(BaseEstimator, ClassifierMixin):
        """P(class 1) = the value given, whatever the row."""

        def __init__(self, value=0.5):
            self.value = value

        def fit(self, rows, targets):
            self.classes_ = np.array([0, 1])
            return self

        def predict_proba(self, rows):
            return np.tile([1 - self.value, self.value], (len(rows), 1))

    model = OrdinalClassifier(Fixed(), ORDER).fit(np.zeros((3, 1)), ORDER)
    model.cumulative_ = [Fixed(0.4).fit(None, None), Fixed(0.7).fit(None, None)]  # P(> neutral) > P(> against)
    probabilities = dict(zip(model.classes_, model.predict_proba(np.zeros((1, 1)))[0]))
    # Unclipped: against 0.6, neutral -0.3, favour 0.7; clipped 0.6 / 0 / 0.7, over 1.3.
    assert probabilities == pytest.approx({"against": 0.6 / 1.3, "neutral": 0.0, "favour": 0.7 / 1.3})


def test_missing_labels_leave_the_order_and_unknown_labels_are_refused():
    x, y = _ordered_data()
    two = y != "neutral"
    model = OrdinalClassifier(LogisticRegression(), ORDER).fit(x[two], y[two])
    assert model.order_ == ["against", "favour"] and len(model.cumulative_) == 1
    assert model.predict_proba(x[:5]).shape == (5, 2)
    with pytest.raises(ValueError, match="not in the order"):
        OrdinalClassifier(LogisticRegression(), ["against", "favour"]).fit(x, y)


def test_the_switches_are_off_by_default_and_used_only_for_matching_labels(monkeypatch):
    assert PARAMS["single_label"]["two_stage"]["frank_hall"] is None
    assert PARAMS["per_entity"]["two_stage"]["frank_hall"] is None
    assert _ordered(["favour", "neutral", "against"], ["favour", "against", "neutral"]) == ["favour", "neutral", "against"]
    assert _ordered(["favour", "neutral", "against"], ["favour", "against"]) is None
    assert _ordered(None, ["favour", "against", "neutral"]) is None

    stance = Task(name="stance_governance", kind="single_label", labels=("favour", "against", "neutral", "none"),
                  uncertain_below=0.6, absent="none")
    tone = Task(name="tone", kind="per_entity", labels=("positive", "negative", "neutral"), uncertain_below=0.6)
    off_side = _build_pipeline(stance, "tfidf").named_steps["classify"].side.named_steps["classify"]
    off_first = _build_pipeline(tone, "tfidf").named_steps["classify"].presence
    assert isinstance(off_side, LogisticRegression) and isinstance(off_first, LogisticRegression)

    monkeypatch.setitem(PARAMS["single_label"]["two_stage"], "frank_hall", ["favour", "neutral", "against"])
    monkeypatch.setitem(PARAMS["per_entity"]["two_stage"], "frank_hall", ["negative", "neutral", "positive"])
    side = _build_pipeline(stance, "tfidf").named_steps["classify"].side.named_steps["classify"]
    assert isinstance(side, OrdinalClassifier) and side.order == ["favour", "neutral", "against"]
    two_step = _build_pipeline(tone, "tfidf").named_steps["classify"]
    assert isinstance(two_step, TwoStageClassifier) and two_step.presence_on_labels
    assert isinstance(two_step.presence, OrdinalClassifier) and two_step.presence.order == ["negative", "neutral", "positive"]
    assert isinstance(two_step.side, LogisticRegression)  # the polarity step stays nominal
    # A team's own labels that are not the listed ones keep the nominal model.
    other = Task(name="tone", kind="per_entity", labels=("positive", "negative", "neutral", "mixed"),
                 uncertain_below=0.6)
    assert isinstance(_build_pipeline(other, "tfidf").named_steps["classify"].presence, LogisticRegression)


def test_tone_first_step_gives_p_neutral_from_the_ordinal_pair():
    """In the two-step tone model, the ordinal first step's P(neutral) = P(> negative) - P(> neutral)
    is the model's P(neutral); the polarity step splits the rest."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=(240, 1))
    y = np.where(x[:, 0] < -1, "negative", np.where(x[:, 0] < 1, "neutral", "positive"))
    first = OrdinalClassifier(LogisticRegression(C=10.0), ["negative", "neutral", "positive"])
    model = TwoStageClassifier(first, LogisticRegression(C=10.0), "neutral", presence_on_labels=True).fit(x, y)
    grid = np.linspace(-3, 3, 13)[:, None]
    probabilities = model.predict_proba(grid)
    assert probabilities.sum(axis=1) == pytest.approx(np.ones(len(grid)))
    above = model.presence_.cumulative_proba(grid)
    neutral = list(model.classes_).index("neutral")
    expected = np.clip(above[:, 0] - above[:, 1], 0, None)
    expected /= np.clip(1 - above[:, 0], 0, None) + expected + np.clip(above[:, 1], 0, None)
    assert probabilities[:, neutral] == pytest.approx(expected)
    assert list(model.predict(np.array([[-2.5], [0.0], [2.5]]))) == ["negative", "neutral", "positive"]
