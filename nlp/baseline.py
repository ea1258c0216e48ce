"""Whether a trained model is better than its baseline, read from its model card alone: what `cuttings
train`, `cuttings doctor` and the digest's trust note each say of a model no better than a guess. Apart
from ``nlp.classify`` so that reading a card does not load scikit-learn."""
from __future__ import annotations


def below_baseline(card: dict) -> dict | None:
    """Whether a model is no better than its baseline (always the most common label; for topics the most
    frequent topic): its cross-validated figure, or its figure on held-out slices when it has one, at or
    below the baseline of its card's ``metrics`` (the one `cuttings train` prints beside them). None for a
    model above it on both, or a card without the figures; else ``metric``, ``cv``, ``cv_folds``,
    ``unseen_slices`` (None without held-out slices), ``baseline``, ``counts`` (how many labelled examples
    each label had in cross-validation, in the card's label order) and ``words``: "macro-F1 0.333 in
    5-fold CV and 0.310 on held-out slices, against 0.400 for always giving the most common label"."""
    metrics = card.get("metrics") or {}
    baseline, cv = metrics.get("baseline"), metrics.get("cv")
    if "metric" not in metrics or baseline is None or cv is None:
        return None
    held_out = metrics.get("unseen_slices")
    if cv > baseline and (held_out is None or held_out > baseline):
        return None
    name = metrics["metric"].replace("_f1", "-F1")
    figures = f"{name} {cv:.3f} in {metrics.get('cv_folds')}-fold CV"
    if held_out is not None:
        figures += f" and {held_out:.3f} on held-out slices"
    guess = "the most frequent topic" if card.get("kind") == "multi_label" else "the most common label"
    per_label = (card.get("cross_validation") or {}).get("per_label") or {}
    order = list(card.get("labels") or per_label)
    counts = {label: per_label[label].get("support", 0) for label in order if label in per_label}
    return {"metric": metrics["metric"], "cv": cv, "cv_folds": metrics.get("cv_folds"), "unseen_slices": held_out,
            "baseline": baseline, "counts": counts,
            "words": f"{figures}, against {baseline:.3f} for always giving {guess}"}
