"""Label-shift adjustment (a lever under test, off by default): the prior estimators recover a known
prior from posteriors alone, and the bench switches it on only when asked."""
import sys

import numpy as np
import pytest

from nlp.classify import (
    PARAMS,
    bbse_prior,
    bias_corrected,
    em_prior,
    fit_bias_corrected,
    fit_temperature,
    reweighted,
    shift_adjusted,
    tempered,
    _label_shift,
)
from nlp.scheme import load_scheme
from tests.conftest import load_script

MEANS = np.array([-1.5, 0.0, 1.5])   # three overlapping 1-D Gaussian classes, sd 1
SOURCE = np.array([0.5, 0.3, 0.2])
TARGET = np.array([0.1, 0.3, 0.6])


def _sample(prior: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.choice(len(prior), size=n, p=prior)
    return rng.normal(MEANS[labels], 1.0), labels


def _posteriors(x: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """The exact p(y | x) under ``prior``: calibrated for that prior by construction."""
    joint = prior * np.exp(-0.5 * (x[:, None] - MEANS) ** 2)
    return joint / joint.sum(axis=1, keepdims=True)


def test_em_recovers_a_known_target_prior_from_source_calibrated_posteriors():
    x, _labels = _sample(TARGET, 30000, seed=0)
    posteriors = _posteriors(x, SOURCE)
    estimate = em_prior(posteriors, SOURCE, iterations=1000, tolerance=1e-9)
    assert np.abs(estimate - TARGET).max() < 0.02
    assert estimate.sum() == pytest.approx(1.0)
    # The naive estimate (the mean posterior) is biased toward the source prior: the test can tell.
    assert np.abs(posteriors.mean(axis=0) - TARGET).max() > 0.1
    # Re-weighted to the estimate, the posteriors are those computed under the true target prior.
    assert np.abs(reweighted(posteriors, estimate, SOURCE) - _posteriors(x, TARGET)).max() < 0.05


def test_em_leaves_the_prior_where_it_is_when_the_batch_has_the_source_prior():
    x, _labels = _sample(SOURCE, 30000, seed=1)
    estimate = em_prior(_posteriors(x, SOURCE), SOURCE, iterations=1000, tolerance=1e-9)
    assert np.abs(estimate - SOURCE).max() < 0.02


def test_em_damping_pulls_a_small_batch_toward_the_reference():
    x, _labels = _sample(TARGET, 20, seed=2)
    posteriors = _posteriors(x, SOURCE)
    free = em_prior(posteriors, SOURCE)
    damped = em_prior(posteriors, SOURCE, alpha=20.0)
    held = em_prior(posteriors, SOURCE, alpha=1e9)
    assert np.abs(held - SOURCE).max() < 1e-6
    assert np.abs(damped - SOURCE).max() < np.abs(free - SOURCE).max()


def test_bbse_recovers_a_known_target_prior_from_hard_predictions():
    source_x, source_labels = _sample(SOURCE, 30000, seed=3)
    chosen = _posteriors(source_x, SOURCE).argmax(axis=1)
    confusion = np.zeros((3, 3))
    np.add.at(confusion, (chosen, source_labels), 1.0)
    confusion /= len(source_labels)
    target_x, _labels = _sample(TARGET, 30000, seed=4)
    estimate = bbse_prior(_posteriors(target_x, SOURCE).argmax(axis=1), confusion, SOURCE)
    assert np.abs(estimate - TARGET).max() < 0.03
    shares = np.bincount(_posteriors(target_x, SOURCE).argmax(axis=1), minlength=3) / len(target_x)
    assert np.abs(shares - TARGET).max() > 0.05   # the predicted shares alone are off


def _distorted(posteriors: np.ndarray, scale: float, bias: np.ndarray) -> np.ndarray:
    """Posteriors as a miscalibrated model gives them: softmax(scale * log p + bias)."""
    logits = scale * np.log(posteriors) + bias
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_bias_corrected_calibration_undoes_a_systematic_bias_that_temperature_cannot():
    x, labels = _sample(SOURCE, 20000, seed=6)
    true = _posteriors(x, SOURCE)
    model = _distorted(true, 2.0, np.array([0.0, 1.0, -0.5]))   # overconfident and leaning to class 1
    calibration = fit_bias_corrected(model, labels)
    # The inverse map: scale 1/2, bias -(bias)/2 relative to the first class.
    assert calibration["scale"] == pytest.approx([0.5, 0.5, 0.5], abs=0.05)
    assert calibration["bias"] == pytest.approx([0.0, -0.5, 0.25], abs=0.1)
    calibrated = bias_corrected(model, calibration)
    assert np.abs(calibrated - true).max() < 0.05
    # Temperature alone (the same scale, the bias ignored) stays off: the test can tell.
    assert np.abs(tempered(model, 1.0 / calibration["scale"][0]) - true).max() > 0.1
    assert np.abs(tempered(model, fit_temperature(model, labels)) - true).max() > 0.1
    # Unlike temperature, the bias moves decisions: the calibrated argmax is the true posteriors'.
    assert (calibrated.argmax(axis=1) == true.argmax(axis=1)).mean() > 0.99
    assert (model.argmax(axis=1) == true.argmax(axis=1)).mean() < 0.95


def test_vector_scaling_fits_one_scale_per_class_and_a_kept_column_stays_as_it_is():
    x, labels = _sample(SOURCE, 20000, seed=7)
    true = _posteriors(x, SOURCE)
    model = _distorted(true, 2.0, np.array([0.0, 1.0, -0.5]))
    vector = fit_bias_corrected(model, labels, per_class_scale=True)
    assert len(vector["scale"]) == 3
    assert np.abs(bias_corrected(model, vector) - true).max() < 0.05
    # A two-step task's absent column (here column 0) is left alone; the others are calibrated among themselves.
    kept = fit_bias_corrected(model, labels, keep=0)
    assert len(kept["bias"]) == 2
    calibrated = bias_corrected(model, kept, keep=0)
    assert np.allclose(calibrated[:, 0], model[:, 0]) and np.allclose(calibrated.sum(axis=1), 1.0)
    others = true[:, 1:] / true[:, 1:].sum(axis=1, keepdims=True)
    assert np.abs(calibrated[:, 1:] / calibrated[:, 1:].sum(axis=1, keepdims=True) - others).max() < 0.05


def test_shift_adjusted_calibrates_with_the_bias_before_estimating_the_prior():
    x, _labels = _sample(TARGET, 3000, seed=8)
    model = _distorted(_posteriors(x, SOURCE), 2.0, np.array([0.0, 1.0, -0.5]))
    calibration = {"scale": np.full(3, 0.5), "bias": np.array([0.0, -0.5, 0.25])}
    reference = {"temperature": 2.0, "calibration": calibration, "keep": None, "reference": SOURCE}
    settings = {"method": "em", "alpha": 0.0, "iterations": 1000, "tolerance": 1e-9, "batch": None, "seed": 0}
    _adjusted, [prior] = shift_adjusted(model, ["a"] * len(x), reference, settings)
    assert np.abs(prior - TARGET).max() < 0.04
    # With the temperature alone, EM lands far from the batch's prior.
    _adjusted, [tempered_prior] = shift_adjusted(model, ["a"] * len(x), {**reference, "calibration": None}, settings)
    assert np.abs(tempered_prior - TARGET).max() > 0.1
    # Method none: the calibration alone, no prior moved.
    alone, [same] = shift_adjusted(model, ["a"] * len(x), reference, {**settings, "method": "none"})
    assert np.allclose(same, SOURCE) and np.allclose(alone, bias_corrected(model, calibration))


def test_shift_adjusted_estimates_each_sub_batch_apart_and_keeps_an_article_in_one():
    x, _labels = _sample(TARGET, 60, seed=5)
    # Two rows per article (as tone's pairs): the raw probabilities, temperature 1.
    groups = [f"a{i // 2}" for i in range(60)]
    reference = {"temperature": 1.0, "keep": None, "reference": SOURCE, "source_prior": SOURCE,
                 "confusion": np.eye(3) / 3}
    settings = {"method": "em", "alpha": 0.0, "iterations": 100, "tolerance": 1e-6, "batch": 10, "seed": 0}
    adjusted, priors = shift_adjusted(_posteriors(x, SOURCE), groups, reference, settings)
    assert len(priors) == 3 and adjusted.shape == (60, 3)
    assert np.allclose(adjusted.sum(axis=1), 1.0)
    whole, [prior] = shift_adjusted(_posteriors(x, SOURCE), groups, reference, {**settings, "batch": None})
    assert np.allclose(whole, reweighted(_posteriors(x, SOURCE), prior, SOURCE))


def test_label_shift_is_off_unless_asked(monkeypatch):
    scheme = load_scheme()
    assert all(_label_shift(task) is None for task in scheme.tasks.values())
    bench = load_script("bench_classify", "bench/classify.py")
    monkeypatch.setitem(PARAMS["single_label"], "label_shift", None)
    monkeypatch.setitem(PARAMS["per_entity"], "label_shift", None)
    monkeypatch.setitem(PARAMS["multi_label"], "label_shift", None)
    bench.set_label_shift("em,alpha=10,batch=20")
    settings = _label_shift(scheme.tasks["tone"])
    assert settings["method"] == "em" and settings["alpha"] == 10 and settings["batch"] == 20
    assert settings["calibration"] == "temperature"   # s17-a's, unless asked
    bench.set_label_shift("none,calibration=bcts")
    assert _label_shift(scheme.tasks["tone"])["calibration"] == "bcts"
    bench.set_label_shift("em,alpha=10,batch=20")
    topics = _label_shift(scheme.tasks["topics"])   # label by label
    assert topics["method"] == "em" and topics["batch"] == 20
    monkeypatch.setitem(PARAMS["multi_label"], "label_shift", {"method": "bbse"})
    with pytest.raises(ValueError, match="EM only"):
        _label_shift(scheme.tasks["topics"])


@pytest.mark.parametrize("spec", ["kde", "em,damping=3", "em,alpha", "em,calibration=platt"])
def test_a_malformed_label_shift_is_one_line(monkeypatch, spec):
    bench = load_script("bench_classify", "bench/classify.py")
    monkeypatch.setattr(sys, "argv", ["classify.py", "--protocol", "--label-shift", spec])
    with pytest.raises(SystemExit) as exit_info:
        bench.main()
    message = str(exit_info.value.code)
    assert message.startswith(f"--label-shift {spec!r}") and "\n" not in message
