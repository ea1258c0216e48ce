"""The stacked stance side step (``StackedSide``, ``PARAMS["single_label"]["two_stage"]["stack_structure"]``)."""

import numpy as np
import pytest
import skops.io
from sklearn.base import BaseEstimator, ClassifierMixin

from nlp.classify import (
    PARAMS,
    STRUCTURE_FEATURES,
    TRUSTED_TYPES,
    StackedSide,
    TwoStageClassifier,
    _build_pipeline,
    _step,
    structure_features,
)
from nlp.features import article_row
from nlp.scheme import load_scheme

CATEGORIES = {"wm_pcc": "commissioner", "hwfrs": "fire_service", "hw_fire_authority": "fire_authority",
              "west_mercia_police": "police_force"}
WORDS = {"favour": "takeover savings accountability single leader", "against": "opposed local control scrap fight",
         "neutral": "meeting consultation report date decision", "none": "crew rescue blaze road crash"}


def _doc(label: str, index: int, quotes=()) -> dict:
    return {"title": f"Story {index}", "body": f"{WORDS[label]} item{index} {WORDS[label]}",
            "mentions": [], "quotes": list(quotes)}


def _rows(labels: list[str]) -> list[dict]:
    return [{**article_row(_doc(label, i)), "categories": CATEGORIES} for i, label in enumerate(labels)]


def test_structure_features_of_a_small_document():
    quotes = [{"entity_id": "wm_pcc", "text": "one two three four"},            # commissioner: 4 words
              {"entity_id": "hwfrs", "text": "five six"},                       # fire service: 2
              {"entity_id": "hw_fire_authority", "text": "seven"},              # fire authority: 1
              {"entity_id": None, "text": "eight nine"},                        # outsider: 2
              {"entity_id": "west_mercia_police", "text": "ten"}]               # police: the total only
    row = article_row({"title": "A title", "body": " ".join(["w"] * 38), "mentions": [], "quotes": quotes})
    features = dict(zip(STRUCTURE_FEATURES, structure_features(row, CATEGORIES)))
    assert features["share:commissioner"] == pytest.approx(0.4)
    assert features["share:fire"] == pytest.approx(0.3)
    assert features["share:outsider"] == pytest.approx(0.2)
    assert features["balance"] == pytest.approx(3 / 4)
    assert features["quoted_share"] == pytest.approx(10 / 40)  # headline and body: 40 words
    assert features["has_quotes"] == 1.0
    # Without categories no body is on a side; without quotes everything is 0.
    assert structure_features(row, {})[:2] == [0.0, 0.0]
    assert structure_features(article_row({"title": "t", "body": "b", "quotes": []}), CATEGORIES) == [0.0] * 6


class Memoriser(BaseEstimator, ClassifierMixin):
    """Certain of the label of a row it was fitted on, uniform on any other row."""

    def fit(self, rows, targets):
        self.seen_ = {row["text"]: str(target) for row, target in zip(rows, targets)}
        self.classes_ = np.array(sorted(set(self.seen_.values())), dtype=object)
        return self

    def predict_proba(self, rows):
        result = np.full((len(rows), len(self.classes_)), 1.0 / len(self.classes_))
        for index, row in enumerate(rows):
            if row["text"] in self.seen_:
                result[index] = (self.classes_ == self.seen_[row["text"]]).astype(float)
        return result


def test_the_second_level_learns_from_out_of_fold_text_probabilities():
    labels = ["favour", "against", "neutral"] * 8
    rows = _rows(labels)
    side = StackedSide(Memoriser(), C=1.0, structure=False, cv=5).fit(rows, labels)
    # Each training row's text probabilities come from a model that did not see it: all uniform, so
    # the scaled log-probability inputs are constant (a model fitted on all rows would be certain).
    assert side.stack_.named_steps["scale"].var_ == pytest.approx(np.zeros(3))
    assert side.stack_.named_steps["scale"].n_features_in_ == 3
    # At prediction the text model is the one fitted on every training row.
    assert len(side.text_.seen_) == len(rows)
    assert list(side.classes_) == ["against", "favour", "neutral"]
    assert side.predict_proba(rows).sum(axis=1) == pytest.approx(np.ones(len(rows)))
    # With the structure the second level reads six more inputs, and the bodies' categories are kept.
    structured = StackedSide(Memoriser(), C=1.0, structure=True, cv=5).fit(rows, labels)
    assert structured.stack_.named_steps["scale"].n_features_in_ == 3 + len(STRUCTURE_FEATURES)
    assert structured.categories_ == CATEGORIES


def test_a_real_text_model_stacked_separates_the_sides_and_survives_skops(tmp_path):
    labels = ["favour", "against", "neutral", "none"] * 8
    rows = _rows(labels)
    text = _step("tfidf", {"field": "text", "lead_weight": 0.75, "voice_weight": 0.3}, 0.3)
    model = TwoStageClassifier(_step("tfidf", {"field": "text"}, 30.0), StackedSide(text, C=0.1), "none").fit(rows, labels)
    new = [{k: v for k, v in article_row(_doc(label, 100 + i)).items()} for i, label in enumerate(labels[:4])]
    assert list(model.predict(new)) == labels[:4]  # served rows carry no categories: the model keeps them
    path = tmp_path / "stance.skops"
    skops.io.dump(model, path)
    assert set(skops.io.get_untrusted_types(file=path)) <= set(TRUSTED_TYPES)
    loaded = skops.io.load(path, trusted=TRUSTED_TYPES)
    assert loaded.predict_proba(new) == pytest.approx(model.predict_proba(new))


def test_switch_off_keeps_the_side_step_and_its_predictions(monkeypatch):
    task = load_scheme().tasks["stance_governance"]
    assert PARAMS["single_label"]["two_stage"]["stack_structure"] is None
    off = _build_pipeline(task, "tfidf").named_steps["classify"]
    assert not isinstance(off.side, StackedSide)
    labels = ["favour", "against", "neutral", "none"] * 6
    rows = _rows(labels)
    # The categories the training rows carry change nothing when the switch is off.
    plain = [{k: v for k, v in row.items() if k != "categories"} for row in rows]
    with_categories = _build_pipeline(task, "tfidf").fit(rows, labels).predict_proba(rows)
    without = _build_pipeline(task, "tfidf").fit(plain, labels).predict_proba(plain)
    assert with_categories == pytest.approx(without)
    monkeypatch.setitem(PARAMS["single_label"]["two_stage"], "stack_structure", {"C": 1.0, "structure": True, "cv": 5})
    on = _build_pipeline(task, "tfidf").named_steps["classify"]
    assert isinstance(on.side, StackedSide) and on.side.C == 1.0 and on.side.structure
