"""Classifier training, cross-validation, persistence and prediction (trained once on part of the corpus)."""

import json
import re

import numpy as np
import pytest
import skops.io
from sklearn.pipeline import Pipeline

from nlp.classify import (
    PARAMS,
    TRUSTED_TYPES,
    Classifier,
    ModelLoadError,
    TrainingError,
    _stack,
    _stacked_tasks,
    _task_examples,
    _TaskModel,
    cross_validate,
    evaluate_models,
    expected_calibration_error,
    fit_temperature,
    tempered,
    format_comparison,
    format_report,
    multi_label_choice,
    record_document,
    train_models,
)
from nlp.corpus import load_corpus
from nlp.features import (
    DEFAULT_FEATURES,
    LEAD_PARAGRAPHS,
    OTHER_PLACEHOLDER,
    TARGET_PLACEHOLDER,
    article_row,
    text_features,
    tone_row,
)
from nlp.scheme import load_scheme

FOLDS = 3


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


@pytest.fixture(scope="module")
def training_records(scheme):
    """About 90 corpus articles, keeping only two `inspection` ones so that topic is not learnable."""
    records = load_corpus(scheme=scheme)
    inspection = [r for r in records if "inspection" in r["topics"]][:2]
    rest = [r for i, r in enumerate(records) if "inspection" not in r["topics"] and i % 2 == 0]
    return rest + inspection


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, scheme, training_records):
    out_dir = tmp_path_factory.mktemp("models")
    messages = []
    cards = train_models(training_records, scheme, out_dir, folds=FOLDS, progress=messages.append)
    assert [card["task"] for card in cards] == list(scheme.tasks)
    assert any("saved" in message for message in messages)
    return out_dir


@pytest.fixture(scope="module")
def classifier(models_dir):
    return Classifier.load(models_dir)


def test_empty_training_set_is_an_error(scheme, tmp_path):
    with pytest.raises(TrainingError, match="no labelled articles to train on"):
        train_models([], scheme, tmp_path)
    with pytest.raises(TrainingError, match="no labelled articles to train on"):
        cross_validate([], scheme)


def test_too_few_labels_say_how_many_each_label_has_and_what_to_do(scheme, training_records):
    """A team starting its own scheme with a handful of labels: the counts per label and the way on."""
    from nlp.classify import _TaskModel
    task = scheme.tasks["stance_governance"]
    few = [record for record in training_records if record["stance_governance"] == "none"][:6]
    few += [record for record in training_records if record["stance_governance"] == "against"][:1]
    targets = [record["stance_governance"] for record in few]
    with pytest.raises(TrainingError) as caught:
        _TaskModel(task, "tfidf").fit([{}] * len(few), targets, ["none"])
    message = str(caught.value)
    assert message.startswith("stance_governance: too few labelled examples to learn from (")
    assert "favour 0" in message and "against 1" in message and "none 6" in message
    assert "--folds" in message and "cuttings label" in message


def test_model_cards(models_dir, scheme, training_records):
    for task in scheme.tasks:
        assert (models_dir / f"{task}.skops").is_file()
        card = json.loads((models_dir / f"{task}.json").read_text())
        assert card["task"] == task
        assert re.fullmatch(rf"{task}-\d{{14}}-[0-9a-f]{{8}}", card["model_version"])
        assert re.fullmatch(r"[0-9a-f]{64}", card["training_data_hash"])
        assert set(card["library_versions"]) == {"sklearn", "skops", "numpy", "python"}
        assert card["features"] == DEFAULT_FEATURES
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", card["created_at"])
        assert card["labels"] and set(card["labels"]) <= set(scheme.tasks[task].labels)
        assert "macro_f1" in card["cross_validation"] and "baseline" in card["cross_validation"]
        # The headline figures: CV, and on held-out slices (leave-one-slice-out: the training
        # records span the corpus's seven gathering slices), flat for SQL.
        metrics, held_out = card["metrics"], card["leave_one_slice_out"]
        assert metrics["metric"] == ("micro_f1" if task == "topics" else "macro_f1")
        assert metrics["cv"] == card["cross_validation"][metrics["metric"]] and metrics["cv_folds"] == FOLDS
        assert held_out["evaluation"] == "leave-one-slice-out" and "predictions" not in held_out
        assert metrics["unseen_slices"] == held_out[metrics["metric"]]
        low, high = metrics["unseen_slices_interval"]
        assert low <= metrics["unseen_slices"] <= high
        scores = [entry["score"] for entry in held_out["per_slice"].values()]
        assert metrics["unseen_slices_range"] == [min(scores), max(scores)]
        assert metrics["slices"] == sorted({r["id"].split("-")[0] for r in training_records})
    topics = json.loads((models_dir / "topics.json").read_text())
    assert topics["n_examples"] == len(training_records)
    assert "inspection" not in topics["labels"] and "other" not in topics["labels"]


def test_held_out_figure_needs_three_slices_and_never_costs_the_training(scheme, training_records, monkeypatch):
    import nlp.classify as classify
    from nlp.classify import card_metrics, held_out_report
    stance = scheme.tasks["stance_governance"]
    two_slices = [r for r in training_records if r["id"].split("-")[0] in ("t1", "gov")]
    # Two gathering slices: no held-out figure (nothing is trained for it).
    assert held_out_report(two_slices, stance, DEFAULT_FEATURES, FOLDS) == (None, ["gov", "t1"])
    # A split that cannot be trained gives up the figure, with the reason, not the training.
    def impossible(*args, **kwargs):
        raise TrainingError("stance_governance: fewer than two learnable classes")
    monkeypatch.setattr(classify, "_cross_validate_task", impossible)
    three_slices = [r for r in training_records if r["id"].split("-")[0] in ("t1", "gov", "t3")]
    held_out, names = held_out_report(three_slices, stance, DEFAULT_FEATURES, FOLDS)
    assert held_out == {"error": "stance_governance: fewer than two learnable classes"} and names == ["gov", "t1", "t3"]
    report = {"kind": "single_label", "folds": 5, "macro_f1": 0.8, "micro_f1": 0.9,
              "intervals": {"macro_f1": [0.7, 0.85]}, "baseline": {"macro_f1": 0.2}}
    # The card then carries the CV figure only, and says why the held-out one is missing.
    cv_only = {"metric": "macro_f1", "cv": 0.8, "cv_folds": 5, "cv_interval": [0.7, 0.85], "baseline": 0.2}
    assert card_metrics(report, None, names) == cv_only
    assert card_metrics(report, held_out, names) == {
        **cv_only, "unseen_slices_error": "stance_governance: fewer than two learnable classes"}
    assert card_metrics({"error": "too few examples"}, None, []) == {"error": "too few examples"}


def test_saved_models_hold_only_trusted_types(models_dir, scheme):
    for task in scheme.tasks:
        assert set(skops.io.get_untrusted_types(file=models_dir / f"{task}.skops")) <= set(TRUSTED_TYPES)


def test_too_few_examples_reported_not_learnable(models_dir):
    report = json.loads((models_dir / "topics.json").read_text())["cross_validation"]
    notes = {note["label"]: note for note in report["not_learnable"]}
    assert notes["inspection"]["examples"] == 2 and "not learnable" in notes["inspection"]["note"]
    assert "inspection" not in report["per_label"]
    assert "inspection: not learnable" in format_report({"topics": report})


def test_cross_validation_beats_majority_baseline(models_dir, scheme):
    reports = {t: json.loads((models_dir / f"{t}.json").read_text())["cross_validation"] for t in scheme.tasks}
    for task, report in reports.items():
        assert report["macro_f1"] > report["baseline"]["macro_f1"] + 0.1, task
    # Micro-F1 is the target for topics; stance beats the majority class on accuracy too. Tone's
    # class-balanced weights trade majority-class accuracy for minority recall (its target is macro-F1).
    for task in ("topics", "stance_governance"):
        assert reports[task]["micro_f1"] > reports[task]["baseline"]["micro_f1"], task
    for report in reports.values():
        for scores in report["per_label"].values():
            assert 0 <= scores["precision"] <= 1 and 0 <= scores["f1"] <= 1
    stance = reports["stance_governance"]["confusion_matrix"]
    assert sum(map(sum, stance["matrix"])) == reports["stance_governance"]["n_examples"]
    text = format_report(reports)
    assert "macro F1" in text and "micro F1" in text and "baseline (majority class)" in text


def test_predict_shape_and_probabilities(classifier, scheme, models_dir):
    assert classifier.versions == {
        t: json.loads((models_dir / f"{t}.json").read_text())["model_version"] for t in scheme.tasks
    }
    doc = {
        "title": "Firefighters rescue family from house fire in Ludlow",
        "body": "Shropshire Fire and Rescue Service sent three crews to the blaze. "
        "Hereford & Worcester Fire Authority was not involved.",
        "mentions": [
            {"entity_id": "sfrs", "sentence": "Shropshire Fire and Rescue Service sent three crews to the blaze."},
            {"entity_id": "hw_fire_authority", "sentence": "Hereford & Worcester Fire Authority was not involved."},
        ],
        "quotes": [{"speaker": "a spokesman", "entity_id": "sfrs", "text": "Everyone got out safely."}],
    }
    prediction = classifier.predict(doc)
    assert set(prediction) == {"topics", "stance_governance", "tone"}
    assert prediction["topics"] and "incident" in [p["label"] for p in prediction["topics"]]
    assert set(prediction["tone"]) == {"sfrs"}
    stance = prediction["stance_governance"]
    assert stance["label"] in scheme.tasks["stance_governance"].labels
    for item in [*prediction["topics"], stance, *prediction["tone"].values()]:
        assert set(item) == {"label", "probability", "uncertain"}
        assert 0.0 <= item["probability"] <= 1.0


def test_uncertain_flag_follows_scheme_threshold(classifier, scheme, training_records):
    docs = [record_document(r) for r in training_records[:40]]
    floor = scheme.tasks["stance_governance"].uncertain_below
    for prediction in classifier.predict_many(docs):
        stance = prediction["stance_governance"]
        assert stance["uncertain"] == (stance["probability"] < floor)


def test_predict_many_matches_predict(classifier, training_records):
    docs = [record_document(r) for r in training_records[:5]] + [{"title": "", "body": ""}]
    assert classifier.predict_many(docs) == [classifier.predict(doc) for doc in docs]
    assert classifier.predict_many([]) == []
    assert classifier.predict({"title": "", "body": ""})["tone"] == {}


def test_corrupted_model_file_asks_for_retraining(models_dir, tmp_path):
    for path in models_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "stance_governance.skops").write_bytes(b"this is not a skops archive")
    with pytest.raises(ModelLoadError, match="retrain with `cuttings train`"):
        Classifier.load(tmp_path)


def test_model_from_other_library_version_asks_for_retraining(models_dir, tmp_path):
    for path in models_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    card = json.loads((tmp_path / "tone.json").read_text())
    card["library_versions"]["sklearn"] = "0.24.2"
    (tmp_path / "tone.json").write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="sklearn 0.24.2.*retrain"):
        Classifier.load(tmp_path)


def test_untrusted_type_in_model_file_refused(models_dir, tmp_path):
    for path in models_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    card = json.loads((tmp_path / "tone.json").read_text())
    skops.io.dump({"model_version": card["model_version"], "pipeline": json.loads}, tmp_path / "tone.skops")
    with pytest.raises(ModelLoadError, match="retrain"):
        Classifier.load(tmp_path)


def test_empty_models_dir(tmp_path):
    with pytest.raises(ModelLoadError, match="retrain"):
        Classifier.load(tmp_path)


def test_evaluate_models_on_held_out_records(classifier, scheme, training_records):
    held_out = [r for r in load_corpus(scheme=scheme) if r["id"] not in {t["id"] for t in training_records}]
    report = evaluate_models(classifier, held_out, scheme)
    assert set(report) == set(scheme.tasks)
    assert report["topics"]["n_examples"] == len(held_out)
    assert report["tone"]["n_examples"] == sum(len(r["tone"]) for r in held_out if r.get("tone"))
    for task_report in report.values():
        assert task_report["evaluation"] == "held-out" and task_report["folds"] is None
        assert task_report["model_version"] == classifier.versions[task_report["task"]]
        assert task_report["macro_f1"] > task_report["baseline"]["macro_f1"]
    stance = report["stance_governance"]["confusion_matrix"]
    assert sum(map(sum, stance["matrix"])) == len(held_out)
    assert f"held-out, features={DEFAULT_FEATURES})" in format_report(report)
    with pytest.raises(TrainingError):
        evaluate_models(classifier, [], scheme)


def test_unknown_feature_set_is_an_error(scheme, training_records, tmp_path):
    with pytest.raises(ValueError, match="unknown feature set 'bert'"):
        train_models(training_records, scheme, tmp_path, features="bert")


def test_tone_row_masks_entity_names_and_adds_neighbours():
    doc = {
        "title": "Fire service praised",
        "body": "Crews arrived fast. Shropshire Fire and Rescue Service saved the barn. "
        "West Mercia Police closed the road. Everyone was grateful.",
        "mentions": [
            {"entity_id": "sfrs", "surface": "Shropshire Fire and Rescue Service",
             "sentence": "Shropshire Fire and Rescue Service saved the barn."},
            {"entity_id": "west_mercia_police", "surface": "West Mercia Police",
             "sentence": "West Mercia Police closed the road."},
        ],
        "quotes": [{"speaker": "Shropshire Fire and Rescue Service", "entity_id": "sfrs", "text": "A great team."}],
    }
    row = tone_row(doc, "sfrs", neighbours=1, mask=True)
    assert row["context"] == f"{TARGET_PLACEHOLDER} saved the barn.\nA great team."
    assert row["window"] == f"Crews arrived fast.\n{OTHER_PLACEHOLDER} closed the road."
    assert row["sentences"] == row["context"].split("\n") + row["window"].split("\n")
    assert row["paragraphs"] == ["Fire service praised", doc["body"]]
    plain = tone_row(doc, "sfrs", neighbours=0, mask=False)
    assert plain["context"].startswith("Shropshire Fire and Rescue Service saved") and plain["window"] == ""


def test_article_row_lead_is_headline_and_first_paragraphs():
    body = "\n\n".join(f"Paragraph {n} about the fire service." for n in range(1, 6))
    row = article_row({"title": "Commissioner's bid opposed", "body": body})
    assert LEAD_PARAGRAPHS == 2
    assert row["lead"] == "Commissioner's bid opposed\nParagraph 1 about the fire service.\nParagraph 2 about the fire service."
    assert "Paragraph 5" in row["text"] and "Paragraph 3" not in row["lead"]
    assert article_row({"title": "Only a headline", "body": ""})["lead"] == "Only a headline"


def test_stance_features_weight_the_lead(scheme):
    union = text_features(field="text", features="tfidf", lead_weight=0.75)
    assert dict(union.transformer_list)["lead"].steps[0][1].field == "lead"
    assert union.transformer_weights["lead"] == 0.75
    assert "lead" not in dict(text_features(field="text", features="tfidf").transformer_list)
    stance = _TaskModel(scheme.tasks["stance_governance"], "tfidf").pipeline.named_steps["classify"]
    # Both steps of the two-step stance model read the lead again.
    for step in (stance.presence, stance.side):
        assert "lead" in dict(step.named_steps["features"].transformer_list)


def test_temperature_scaling_softens_overconfidence_and_keeps_the_winner():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 600)
    # Says 0.9 for its pick, but is right only 60% of the time: overconfident.
    picked = np.where(rng.random(600) < 0.6, truth, (truth + 1) % 3)
    probabilities = np.full((600, 3), 0.05)
    probabilities[np.arange(600), picked] = 0.9
    temperature = fit_temperature(probabilities, truth)
    calibrated = tempered(probabilities, temperature)
    assert temperature > 1.5
    assert (calibrated.argmax(axis=1) == picked).all() and np.allclose(calibrated.sum(axis=1), 1.0)
    assert expected_calibration_error(probabilities, truth) == pytest.approx(0.3, abs=0.05)
    assert expected_calibration_error(calibrated, truth) < 0.05
    # Underconfident (0.5 for a pick that is always right): sharpened.
    shy = np.full((600, 3), 0.25)
    shy[np.arange(600), truth] = 0.5
    assert fit_temperature(shy, truth) < 1.0
    assert tempered(shy, 1.0) is shy


def test_stance_and_tone_probabilities_are_temperature_scaled(models_dir, classifier, training_records):
    for task in ("stance_governance", "tone"):
        card = json.loads((models_dir / f"{task}.json").read_text())
        calibration = card["cross_validation"]["calibration"]
        assert classifier.bundles[task]["temperature"] == calibration["temperature"] != 1.0
        assert 0 <= calibration["ece_calibrated"] <= calibration["ece"] <= 1
        assert calibration["uncertain_below"] == 0.6 and 0 <= calibration["uncertain_share"] <= 1
        share_right = [calibration[k] for k in ("accuracy_certain", "accuracy_uncertain") if calibration[k] is not None]
        assert share_right and all(0 <= value <= 1 for value in share_right)
    assert "calibration" not in json.loads((models_dir / "topics.json").read_text())["cross_validation"]
    bundle = classifier.bundles["stance_governance"]
    doc = record_document(training_records[0])
    raw = bundle["pipeline"].predict_proba([article_row(doc)])
    # Two-step stance: P(none) is kept as the presence step says, the sides are scaled among themselves.
    none = bundle["labels"].index("none")
    expected = tempered(raw, bundle["temperature"], keep=none)[0]
    assert expected[none] == pytest.approx(raw[0][none])
    predicted = classifier.predict(doc)["stance_governance"]
    chosen = none if raw[0][none] >= 0.5 else max((p, i) for i, p in enumerate(raw[0]) if i != none)[1]
    assert predicted["label"] == bundle["labels"][chosen]
    assert predicted["probability"] == pytest.approx(float(expected[chosen]), abs=1e-4)
    assert "calibration: expected calibration error" in format_report(card_reports(models_dir))


def card_reports(models_dir):
    return {t: json.loads((models_dir / f"{t}.json").read_text())["cross_validation"]
            for t in ("topics", "stance_governance", "tone")}


def test_format_comparison_table(models_dir, scheme):
    report = {t: json.loads((models_dir / f"{t}.json").read_text())["cross_validation"] for t in scheme.tasks}
    table = format_comparison({"tfidf": report, "other": report}, {"tfidf": {"train s": "1.5"}}).splitlines()
    assert table[0] == "| features | topics micro-F1 | stance_governance macro-F1 | tone macro-F1 | train s |"
    assert table[2].startswith(f"| majority baseline | {report['topics']['baseline']['micro_f1']:.3f} |")
    assert table[3] == (
        f"| tfidf | {report['topics']['micro_f1']:.3f} | {report['stance_governance']['macro_f1']:.3f} | "
        f"{report['tone']['macro_f1']:.3f} | 1.5 |"
    )
    assert table[4].startswith("| other |") and table[4].endswith("|  |")
    assert len(table) == 5


def test_tone_stacks_the_stance_probabilities(classifier, scheme, training_records):
    """The tone model carries its own stance model; its probabilities become entity-crossed tone features."""
    stacked = classifier.bundles["tone"]["stacked"]
    assert set(stacked) == {"stance_governance"}
    stance = stacked["stance_governance"]
    assert len(stance["labels"]) >= 2 and set(stance["labels"]) <= set(scheme.tasks["stance_governance"].labels)
    record = next(r for r in training_records if "wm_pcc" in (r.get("tone") or {}))
    doc = record_document(record)
    row = {**tone_row(doc, "wm_pcc"), "article": article_row(doc), "article_key": 0}
    [stacked_row] = _stack([row], stacked)
    expected = stance["pipeline"].predict_proba([article_row(doc)])[0]
    values = [stacked_row["domain"][f"wm_pcc*stance_governance={label}"] for label in stance["labels"]]
    assert values == pytest.approx(list(expected)) and sum(values) == pytest.approx(1.0)
    assert not any("stance_governance" in key for key in row["domain"])  # the input row is not modified


def test_tone_training_uses_out_of_fold_stance_probabilities(scheme, training_records):
    """The stance features a tone model trains on come from models that did not see the article's label."""
    tone = scheme.tasks["tone"]
    stacked_tasks = _stacked_tasks(scheme, tone)
    assert [task.name for task in stacked_tasks] == ["stance_governance"]
    rows, _, _ = _task_examples(training_records, tone, stacked_tasks)
    model = _TaskModel(tone, "tfidf", stacked_tasks)
    training_rows = model._fit_stacked(rows)
    fitted_rows = _stack(rows, model.stacked)
    labels = model.stacked["stance_governance"]["labels"]

    def stance_features(row):
        return [row["domain"][f"{row['entity_id']}*stance_governance={label}"] for label in labels]

    differing = sum(stance_features(a) != pytest.approx(stance_features(b)) for a, b in zip(training_rows, fitted_rows))
    assert differing > len(rows) / 2
    assert all(sum(stance_features(row)) == pytest.approx(1.0) for row in training_rows)


def test_learning_curve_trains_each_split_on_a_seeded_share_of_its_articles(scheme, training_records):
    def predictions(share, seed):
        report = cross_validate(training_records, scheme, split="slices", tasks=["stance_governance"], seed=seed,
                                train_fraction=share)["stance_governance"]
        return report["n_examples"], [item["predicted"] for item in report["predictions"]]

    whole = predictions(1.0, 0)
    assert whole == predictions(1.0, 1)  # the whole set: no draw, the seed does not matter
    half = predictions(0.5, 0)
    assert half[0] == whole[0]  # every article is still predicted, by a model that saw half the others
    assert half == predictions(0.5, 0) and half[1] != whole[1]
    assert predictions(0.5, 1)[1] != half[1]
    with pytest.raises(ValueError):
        cross_validate(training_records, scheme, split="slices", train_fraction=0.0)


def test_cross_validate_refuses_a_task_the_scheme_lacks_rather_than_reporting_nothing(scheme, training_records):
    with pytest.raises(ValueError, match="unknown task 'stance'.*stance_governance"):
        cross_validate(training_records, scheme, tasks=["stance", "topics"])


def test_slice_splits_hold_out_one_id_prefix_at_a_time():
    from nlp.classify import _slice_splits, slice_of
    groups = ["t1-001", "t1-002", "gov-001", "neg-004", "gov-002", "t2-010"]
    splits = _slice_splits(groups)
    assert [sorted({slice_of(groups[i]) for i in test}) for _, test in splits] == [["t1"], ["gov"], ["neg"], ["t2"]]
    for train, test in splits:
        assert not {slice_of(groups[i]) for i in train} & {slice_of(groups[i]) for i in test}
        assert len(train) + len(test) == len(groups)


def test_bootstrap_intervals_bracket_the_score_and_widen_with_fewer_articles():
    from nlp.classify import bootstrap_intervals
    rng = np.random.default_rng(1)
    labels = ["a", "b", "c"]
    truth = rng.choice(labels, size=400)
    predicted = np.where(rng.random(400) < 0.7, truth, rng.choice(labels, size=400))
    groups = [f"x-{i}" for i in range(400)]
    wide = bootstrap_intervals(truth[:40], predicted[:40], groups[:40], labels, False)
    narrow = bootstrap_intervals(truth, predicted, groups, labels, False)
    from sklearn.metrics import f1_score
    macro = f1_score(truth, predicted, average="macro")
    assert narrow["macro_f1"][0] < macro < narrow["macro_f1"][1]
    assert narrow["macro_f1"][1] - narrow["macro_f1"][0] < wide["macro_f1"][1] - wide["macro_f1"][0]
    # Pairs of one article move together: two copies of each row in one group give the same point spread
    # as the rows alone, not a narrower one.
    doubled = bootstrap_intervals(np.repeat(truth, 2), np.repeat(predicted, 2), list(np.repeat(groups, 2)),
                                  labels, False)
    assert abs((doubled["macro_f1"][1] - doubled["macro_f1"][0]) - (narrow["macro_f1"][1] - narrow["macro_f1"][0])) < 0.03
    multi = bootstrap_intervals(np.array([[1, 0], [0, 1], [1, 1]] * 30), np.array([[1, 0], [0, 0], [1, 1]] * 30),
                                [f"y-{i}" for i in range(90)], ["p", "q"], True)
    assert multi["per_label"]["p"] == [1.0, 1.0] and multi["micro_f1"][1] < 1.0


def test_paired_difference_scores_both_predictions_on_the_same_resamples():
    from sklearn.metrics import f1_score

    from nlp.classify import bootstrap_intervals, paired_difference
    rng = np.random.default_rng(2)
    labels = ["a", "b", "c"]
    truth = list(rng.choice(labels, size=300))
    predicted = [t if rng.random() < 0.7 else str(rng.choice(labels)) for t in truth]
    groups = [f"x-{i}" for i in range(300)]
    same = paired_difference(truth, predicted, list(predicted), groups, labels, False)
    assert same["difference"] == 0.0 and same["interval"] == [0.0, 0.0] and same["changed"] == 0
    # Ten wrong predictions put right: the difference is the scores' difference, its interval excludes
    # zero and is far narrower than either score's own interval.
    wrong = [i for i in range(300) if predicted[i] != truth[i]][:10]
    better = [truth[i] if i in wrong else p for i, p in enumerate(predicted)]
    paired = paired_difference(truth, predicted, better, groups, labels, False)
    expected = (f1_score(truth, better, labels=labels, average="macro")
                - f1_score(truth, predicted, labels=labels, average="macro"))
    assert paired["difference"] == pytest.approx(expected, abs=1e-4) and paired["changed"] == 10
    low, high = paired["interval"]
    own = bootstrap_intervals(np.array(truth), np.array(predicted), groups, labels, False)["macro_f1"]
    assert 0 < low < paired["difference"] < high and high - low < (own[1] - own[0]) / 2
    # Multi-label: micro-F1 over label lists; a topic added wrongly lowers it.
    topics_truth = [["p"], ["q"], ["p", "q"]] * 30
    topics_predicted = [["p"], ["q"], ["p"]] * 30
    worse = [["p", "q"], ["q"], ["p"]] * 30
    multi = paired_difference(topics_truth, topics_predicted, worse, [f"y-{i}" for i in range(90)], ["p", "q"], True)
    assert multi["metric"] == "micro_f1" and multi["difference"] < 0 and multi["interval"][1] < 0
    assert multi["changed"] == 30


def test_compare_protocols_pairs_predictions_by_article_and_body():
    from nlp.classify import compare_protocols, format_paired

    def report(predicted):
        predictions = [{"id": f"t1-{i // 2}", "entity": ["hwfrs", "sfrs"][i % 2], "truth": truth, "predicted": p}
                       for i, (truth, p) in enumerate(zip(["positive", "negative"] * 20, predicted))]
        return {"kind": "per_entity", "macro_f1": 0.5, "per_label": {"positive": {}, "negative": {}},
                "predictions": predictions}

    def result(predicted, mean, cv_predicted=None):
        cv = {seed: {"tone": report(cv_predicted or predicted)} for seed in ("0", "1")}
        return {"slices": {"tone": report(predicted)}, "cv": cv, "cv_summary": {"tone": {"mean": mean}}}

    base = result(["positive", "positive"] * 20, 0.6)
    candidate = result(["positive", "negative"] * 20, 0.7, ["negative", "negative"] * 20)
    # The candidate's rows in another order are matched by (article, body), not by position.
    candidate["slices"]["tone"]["predictions"].reverse()
    comparison = compare_protocols(base, candidate)
    assert comparison["tone"]["paired"]["changed"] == 20
    assert comparison["tone"]["paired"]["difference"] > 0.5 and comparison["tone"]["cv_mean"] == [0.6, 0.7]
    # Each CV fold seed run by both pairs too: here the candidate's CV predictions are all negative
    # against all positive, the same macro-F1 (one class right), so no seed gains or loses.
    cv_paired = comparison["tone"]["cv_paired"]
    assert cv_paired["seeds"] == ["0", "1"] and cv_paired["differences"] == [0.0, 0.0]
    assert cv_paired["gains"] == cv_paired["losses"] == 0
    assert "| tone | macro-f1 |" in format_paired(comparison) and "(mean +0.000; 0 gain, 0 lose)" in format_paired(comparison)
    better = result(["positive", "negative"] * 20, 0.7)
    assert compare_protocols(base, better)["tone"]["cv_paired"]["gains"] == 2
    other = result(["positive", "negative"] * 20, 0.7)
    other["slices"]["tone"]["predictions"][0]["id"] = "t9-0"
    with pytest.raises(ValueError, match="same labelled examples"):
        compare_protocols(base, other)


def test_stance_decides_in_two_steps(scheme, training_records):
    """Stance: first whether the governance question is there (absent label `none`), then which side."""
    from nlp.classify import TwoStageClassifier, single_label_choice, tempered
    task = scheme.tasks["stance_governance"]
    assert task.absent == "none"
    records = training_records[::2]
    model = _TaskModel(task, "tfidf").fit([article_row(record_document(r)) for r in records],
                                        [r["stance_governance"] for r in records], list(task.labels))
    two_step = model.pipeline.named_steps["classify"]
    assert isinstance(two_step, TwoStageClassifier)
    # The side model learnt from the governance articles only.
    assert "none" not in two_step.side_.classes_ and set(two_step.side_.classes_) == {"favour", "against", "neutral"}
    rows = [article_row(record_document(r)) for r in training_records[1::2][:60]]
    probabilities = model.predict_proba(rows)
    assert probabilities.sum(axis=1) == pytest.approx(np.ones(len(rows)))
    none = model.labels.index("none")
    present = two_step.presence_.predict_proba(rows)[:, 1]
    assert probabilities[:, none] == pytest.approx(1 - present)
    chosen = single_label_choice(probabilities, model.labels, "none")
    assert all((c == none) == (p[none] >= 0.5) for c, p in zip(chosen, probabilities))
    # A governance article whose side is uncertain still gets a side, not `none` by plurality.
    crafted = np.array([[0.3, 0.25, 0.2, 0.25]])  # against, favour, neutral, none
    assert single_label_choice(crafted, ["against", "favour", "neutral", "none"], "none")[0] == 0
    # Temperature scaling leaves P(none) and the side ranking alone.
    scaled = tempered(probabilities, 2.0, keep=none)
    assert scaled[:, none] == pytest.approx(probabilities[:, none])
    assert (single_label_choice(scaled, model.labels, "none") == chosen).all()
    assert scaled.sum(axis=1) == pytest.approx(np.ones(len(rows)))


def test_tone_decides_neutral_then_which_way_from_the_non_neutral_pairs(classifier, scheme, training_records):
    """Tone in two steps: one model over the three labels gives P(neutral); a second one, fitted on the
    positive and negative pairs only, which way; the most probable label wins."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    from nlp.classify import TwoStageClassifier, _build_pipeline

    class Recorder(BaseEstimator, ClassifierMixin):
        def fit(self, rows, targets):
            self.seen_ = list(targets)
            self.classes_ = np.array(sorted(set(targets)), dtype=object)
            return self

        def predict_proba(self, rows):
            return np.array([[0.2, 0.8] if len(self.classes_) == 2 else [0.5, 0.3, 0.2]] * len(rows))

    step = _build_pipeline(scheme.tasks["tone"], "tfidf").named_steps["classify"]
    assert isinstance(step, TwoStageClassifier) and step.absent == "neutral" and step.presence_on_labels
    # Both steps read one feature matrix (computed once): the step indexes its rows.
    matrix = TwoStageClassifier(Recorder(), Recorder(), "neutral", presence_on_labels=True).fit(
        np.arange(12.0).reshape(6, 2), ["positive", "neutral", "negative", "neutral", "positive", "neutral"])
    assert matrix.side_.seen_ == ["positive", "negative", "positive"]
    targets = ["positive", "neutral", "negative", "neutral", "positive", "neutral"]
    fitted = TwoStageClassifier(Recorder(), Recorder(), "neutral", presence_on_labels=True).fit(
        [{}] * len(targets), targets)
    assert fitted.presence_.seen_ == targets  # the first step learns all three labels
    assert fitted.side_.seen_ == ["positive", "negative", "positive"]  # the second the non-neutral pairs only
    # P(neutral) 0.3 from the first step (classes negative, neutral, positive); the rest split 0.2 / 0.8.
    assert fitted.predict_proba([{}])[0] == pytest.approx([0.7 * 0.2, 0.3, 0.7 * 0.8])

    bundle = classifier.bundles["tone"]
    two_step = bundle["pipeline"].named_steps["classify"]
    assert isinstance(two_step, TwoStageClassifier)
    assert set(two_step.presence_.classes_) == {"positive", "negative", "neutral"}
    assert set(two_step.side_.classes_) == {"positive", "negative"}
    record = next(r for r in training_records if "wm_pcc" in (r.get("tone") or {}))
    doc = record_document(record)
    row = {**tone_row(doc, "wm_pcc", **bundle["row"]), "article": article_row(doc), "article_key": 0}
    [stacked_row] = _stack([row], bundle["stacked"])
    raw = bundle["pipeline"].predict_proba([stacked_row])[0]
    neutral = bundle["labels"].index("neutral")
    features = bundle["pipeline"].named_steps["features"].transform([stacked_row])
    presence = two_step.presence_.predict_proba(features)[0]
    assert raw[neutral] == pytest.approx(presence[list(two_step.presence_.classes_).index("neutral")])
    side = dict(zip(two_step.side_.classes_, two_step.side_.predict_proba(features)[0]))
    for label in ("positive", "negative"):
        assert raw[bundle["labels"].index(label)] == pytest.approx((1 - raw[neutral]) * side[label])
    # Served: the most probable label after temperature scaling (which keeps the winner).
    expected = tempered(raw[None, :], bundle["temperature"])[0]
    predicted = classifier.predict(doc)["tone"]["wm_pcc"]
    assert predicted["label"] == bundle["labels"][int(expected.argmax())]
    assert predicted["probability"] == pytest.approx(float(expected.max()), abs=1e-4)


def test_stance_presence_reads_which_bodies_are_named_and_tones_stacked_stance_does_not(scheme):
    """The presence step weighs the analyser's mention counts per body (``article_row``'s
    ``domain``); the one-step stance model that tone stacks keeps the words alone."""
    from nlp.classify import _build_pipeline

    task = scheme.tasks["stance_governance"]
    two_step = _build_pipeline(task, "tfidf").named_steps["classify"]
    presence = dict(two_step.presence.named_steps["features"].transformer_list)
    side = dict(two_step.side.named_steps["features"].transformer_list)
    assert "domain" in presence and "domain" not in side
    assert two_step.presence.named_steps["features"].transformer_weights["domain"] == (
        PARAMS["single_label"]["two_stage"]["presence_domain_weight"]) > 0
    one_step = dict(_build_pipeline(task, "tfidf", two_stage=False).named_steps["features"].transformer_list)
    assert "domain" not in one_step


def test_tone_cues_and_topic_evidence_read_the_guide_concepts():
    from nlp.features import tone_cues, topic_evidence
    cues = tone_cues(["Crews rescued two people and saved a dog.", "The station will close next year."], "near")
    assert cues["near:rescue"] > 0 and cues["near:closure"] > 0 and "near:misconduct" not in cues
    doc = {"title": "Fire station to close", "body": "Crews rescued a man from the river.\n\nNothing else.",
           "mentions": [{"entity_id": "hwfrs", "sentence": "Crews rescued a man from the river."}], "quotes": []}
    row = tone_row(doc, "hwfrs")
    assert row["cues"]["near:rescue"] > 0 and row["cues"]["hwfrs*near:rescue"] == row["cues"]["near:rescue"]
    assert row["cues"]["title:closure"] > 0
    paragraphs = ["Budget row", "The precept will rise and the budget has a £2m deficit.", "Firefighters attended.",
                  "Council tax is mentioned once."]
    evidence = topic_evidence(paragraphs)
    # Two paragraphs mention money; one is substantively about it.
    assert evidence["finance:strong"] == pytest.approx(np.log1p(1)) and evidence["finance:paragraphs"] == pytest.approx(np.log1p(2))
    assert evidence["finance:title"] == 1.0 and evidence["inspection:paragraphs"] == 0.0


def test_tone_cues_are_crossed_with_the_bodys_group():
    """A cue means the same for every fire service: crossed with the watchlist category, so one
    service's articles teach the model about another's."""
    doc = {"title": "", "body": "Crews rescued a man.", "quotes": [],
           "mentions": [{"entity_id": "sfrs", "sentence": "Crews rescued a man."}]}
    groups = {"hwfrs": "fire_service", "sfrs": "fire_service", "wm_pcc": "commissioner"}
    grouped = tone_row(doc, "sfrs", cue_groups=groups)
    assert grouped["cues"]["fire_service*near:rescue"] == grouped["cues"]["near:rescue"] > 0
    assert not any(key.startswith("sfrs*") for key in grouped["cues"])
    # The body stays in the domain features; a body with no group is its own group.
    assert grouped["domain"]["entity=sfrs"] == 1.0
    assert "sfrs*near:rescue" in tone_row(doc, "sfrs", cue_groups={"hwfrs": "fire_service"})["cues"]


def test_a_tone_task_with_its_own_cue_words_counts_them_in_place_of_the_shipped_ones():
    """A scheme's tone ``cues`` (label -> words): counted near the body, in the article and in the headline,
    plain and crossed with the body's group, instead of the shipped cues; an article row shared between the
    two ways of counting gives each its own (the kept article counts are per cue set)."""
    doc = {"title": "Waiting list grows", "body": "Crews rescued a man.\n\nThe clinic was praised, then closed.",
           "quotes": [], "mentions": [{"entity_id": "sfrs", "sentence": "The clinic was praised, then closed."}]}
    cues = {"negative": ["waiting list", "closed"], "positive": ["praised"]}
    groups = {"sfrs": "clinic"}
    article = article_row(doc)
    shipped = tone_row(doc, "sfrs", cue_groups=groups, article=article)
    team = tone_row(doc, "sfrs", cue_groups=groups, article=article, cues=cues)
    assert set(team["cues"]) == {f"{group}{where}:{label}" for group in ("", "clinic*")
                                 for where, label in (("near", "negative"), ("near", "positive"),
                                                      ("article", "negative"), ("article", "positive"),
                                                      ("title", "negative"))}
    assert team["cues"]["near:negative"] == pytest.approx(np.log1p(1))
    assert team["cues"]["article:negative"] == pytest.approx(np.log1p(2))   # headline and body paragraphs
    assert "near:praise" in shipped["cues"] and "article:rescue" in shipped["cues"]
    assert not any(key.endswith((":negative", ":positive")) for key in shipped["cues"])
    assert tone_row(doc, "sfrs", cue_groups=groups, article=article) == shipped == tone_row(doc, "sfrs",
                                                                                          cue_groups=groups)
    assert tone_row(doc, "sfrs", cue_groups=groups, cues=cues) == team
    assert {key: value for key, value in team.items() if key != "cues"} == {
        key: value for key, value in shipped.items() if key != "cues"}   # nothing else changes


def test_tone_row_says_who_fills_the_articles_quotes():
    """The share of the quoted words spoken by the body's own people, by speakers of no watched body
    and by other watched bodies, plain and crossed with the body's group; "none" without quotes."""
    doc = {"title": "", "body": "x", "mentions": [{"entity_id": "sfrs", "sentence": "x"}],
           "quotes": [{"entity_id": "sfrs", "text": "one two three"},
                      {"entity_id": None, "text": "four five six seven eight nine"},
                      {"entity_id": "wm_pcc", "text": "ten"}]}
    voices = tone_row(doc, "sfrs", cue_groups={"sfrs": "fire_service"})["voices"]
    assert voices["share:own"] == pytest.approx(0.3) and voices["share:outsider"] == pytest.approx(0.6)
    assert voices["share:other"] == pytest.approx(0.1) and voices["fire_service*share:outsider"] == pytest.approx(0.6)
    # For the commissioner the same quotes read the other way round.
    assert tone_row(doc, "wm_pcc")["voices"]["share:own"] == pytest.approx(0.1)
    assert tone_row({**doc, "quotes": []}, "sfrs")["voices"] == {"share:none": 1.0, "sfrs*share:none": 1.0}


def test_trained_tone_model_reads_the_quote_shares(classifier):
    names = _fitted_feature_names(classifier.bundles["tone"]["pipeline"])
    assert {"share:own", "share:outsider", "fire_service*share:outsider"} <= {name.split("__")[-1] for name in names}


def test_article_row_says_who_fills_the_quotes():
    doc = {"title": "T", "body": "B", "mentions": [],
           "quotes": [{"entity_id": "wm_pcc", "text": "a b c"}, {"entity_id": None, "text": "d"},
                      {"entity_id": "hw_fire_authority", "text": "e f g h i j"}]}
    voices = article_row(doc)["voices"]
    assert voices == pytest.approx({"share:wm_pcc": 0.3, "share:outsider": 0.1, "share:hw_fire_authority": 0.6})
    assert article_row({**doc, "quotes": []})["voices"] == {"share:none": 1.0}


def test_trained_stance_side_step_reads_the_quote_shares(classifier):
    stance = classifier.bundles["stance_governance"]["pipeline"].steps[-1][1]
    side_names = {name.split("__")[-1] for name in _fitted_feature_names(stance.side_)}
    presence_names = {name.split("__")[-1] for name in _fitted_feature_names(stance.presence_)}
    assert "share:wm_pcc" in side_names and "share:outsider" in side_names
    assert not any(name.startswith("share:") for name in presence_names)  # the presence step reads counts


def test_trained_tone_model_keeps_the_cue_groups_it_learnt_with(classifier, training_records):
    from nlp.watchlist import load_watchlist

    categories = {entity.id: entity.category for entity in load_watchlist().entities}
    row_options = classifier.bundles["tone"]["row"]
    assert row_options["cue_groups"] == {entity_id: categories[entity_id]
                                         for entity_id in row_options["cue_groups"]}
    assert {"hwfrs", "sfrs", "wm_pcc"} <= set(row_options["cue_groups"])
    # Prediction builds the rows with them: the fitted vectoriser knows only grouped cue names.
    cue_vectoriser_names = [name for name in _fitted_feature_names(classifier.bundles["tone"]["pipeline"])
                            if "*near:" in name or "*article:" in name or "*title:" in name]
    assert cue_vectoriser_names and all(name.split("*")[0].split("__")[-1] in {"fire_service", "commissioner",
                                                                              "fire_authority", "police_force"}
                                        for name in cue_vectoriser_names)


def _fitted_feature_names(estimator) -> list[str]:
    """Every feature name a fitted pipeline's dict vectorisers know (searched recursively)."""
    from sklearn.feature_extraction import DictVectorizer

    names, stack, seen = [], [estimator], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, DictVectorizer) and hasattr(current, "feature_names_"):
            names.extend(current.feature_names_)
            continue
        for value in getattr(current, "__dict__", {}).values():
            if isinstance(value, (list, tuple)):
                stack.extend(v[1] if isinstance(v, tuple) and len(v) >= 2 else v for v in value)
            elif hasattr(value, "__dict__") and value.__class__.__module__.startswith(("sklearn", "nlp")):
                stack.append(value)
    return names


# ---------------------------------------------------------------- fast prediction path, same outputs


def test_cue_counts_are_those_of_case_insensitive_findall():
    """The fast cue counts (lower-cased text, literal prefixes, one pass over joined paragraphs) give
    exactly ``len(re.findall(pattern, text, re.IGNORECASE))`` on corpus text and on awkward strings."""
    from nlp.features import TONE_CUES, TOPIC_CUES, CuePatterns, _paragraphs
    awkward = ["", "£5m £ £", "İnspection ıt ſaved \u212aELVIN", "CUTS cuts-cuts cutting Cutting", "co-location CO-LOCATE",
               "fire\nauthority fire authority", "take over takeover Takeovers", "Requires Improvement improvement",
               "rated requires improvement, requiring improvement; an improvement", "improved",
               "smoke alarms smoke", "Crews were called. Crews called", "rescued\u00a0a dog; RESCUE", "café cuts"]
    records = load_corpus()[::6]
    texts = awkward + [p for record in records for p in _paragraphs(record)]
    for cues in (TONE_CUES, TOPIC_CUES):
        fast = CuePatterns(cues)
        reference = [re.compile(pattern, re.IGNORECASE) for pattern in cues.values()]
        for text in texts:
            assert fast.counts(text) == [len(pattern.findall(text)) for pattern in reference], text
        for record in records:
            body = _paragraphs(record)[1:]
            assert fast.counts_per_line(body) == [[len(p.findall(line)) for p in reference] for line in body]
    assert sum(sum(CuePatterns(TONE_CUES).counts(text)) for text in texts) > 100  # the texts do hold cues


def test_literal_prefixes_and_line_breaks_of_a_pattern():
    from nlp.features import literal_prefixes, matches_newline
    assert literal_prefixes(r"\b(?:cuts?|cutting|loss of|£)\b") == {("cut", True), ("loss of", True), ("£", False)}
    assert literal_prefixes(r"\b(?:a|\w+)") is None
    # lookarounds consume nothing: the literal after them still starts every match
    assert literal_prefixes(r"\b(?:good|(?<!requires )improve(?:d|ment))\b") == {("good", True), ("improved", True), ("improvement", True)}
    assert not matches_newline(r"\b(?:fire (?:and rescue )?authorit(?:y|ies))\b")
    assert matches_newline(r"a\sb") and matches_newline(r"a.b") and matches_newline(r"a[^x]b")


def test_strip_accents_is_scikit_learns():
    from sklearn.feature_extraction.text import strip_accents_unicode as reference

    from nlp.features import strip_accents_unicode
    for text in ["plain", "café Zoë naïve", "\u00a0non-breaking…", "ﬁre ligature", "İstanbul", "e\u0301", ""]:
        assert strip_accents_unicode(text) == reference(text)


def test_tone_row_is_the_same_with_the_article_row_shared():
    doc = record_document(load_corpus()[3])
    article = article_row(doc)
    for entity_id in {m["entity_id"] for m in doc["mentions"]}:
        assert tone_row(doc, entity_id, article=article) == tone_row(doc, entity_id)


def test_shared_analysis_predicts_exactly_as_the_pipelines(models_dir, training_records, scheme):
    """``Classifier.load`` puts ``SharedTfidf`` in place of the vectorisers (``shared=False`` keeps
    scikit-learn's): the same matrices and the same probabilities, to the last bit."""
    from nlp.classify import _pipelines, _probabilities, _vectoriser_steps
    from nlp.features import SharedTfidf, sharing_analysis
    shared, plain = Classifier.load(models_dir), Classifier.load(models_dir, shared=False)
    assert not any(True for bundle in shared.bundles.values() for p in _pipelines(bundle) for _ in _vectoriser_steps(p))
    assert any(True for bundle in plain.bundles.values() for p in _pipelines(bundle) for _ in _vectoriser_steps(p))
    records = load_corpus(scheme=scheme)[1::2][:80]  # other articles than most of the training ones
    docs = [record_document(record) for record in records]
    assert shared.predict_many(docs) == plain.predict_many(docs)
    rows = [article_row(doc) for doc in docs]
    for task in ("topics", "stance_governance"):
        with sharing_analysis():
            fast = _probabilities(shared.bundles[task], rows)
        assert np.array_equal(fast, _probabilities(plain.bundles[task], rows))
    # Every replaced vectoriser: the same sparse matrix, same order, same values.
    texts = [row["text"] for row in rows] + [row["lead"] for row in rows] + ["", "Zoë’s café"]
    wrapped = [step for bundle in shared.bundles.values() for p in _pipelines(bundle) for _, step in _all_steps(p)
               if isinstance(step, SharedTfidf)]
    assert len(wrapped) == 9  # topics 1, stance presence 2 and side 2, tone 2 (both steps) and its stacked stance 2
    with sharing_analysis():
        for step in wrapped:
            fast, reference = step.transform(texts), step.vectorizer.transform(texts)
            assert np.array_equal(fast.indptr, reference.indptr) and np.array_equal(fast.indices, reference.indices)
            assert np.array_equal(fast.data, reference.data)


def _all_steps(estimator):
    from sklearn.pipeline import FeatureUnion

    from nlp.classify import TwoStageClassifier
    if isinstance(estimator, Pipeline):
        for name, step in estimator.steps:
            yield name, step
            yield from _all_steps(step)
    elif isinstance(estimator, FeatureUnion):
        for _, transformer in estimator.transformer_list:
            yield from _all_steps(transformer)
    elif isinstance(estimator, TwoStageClassifier):
        yield from _all_steps(estimator.presence_)
        yield from _all_steps(estimator.side_)


def test_multi_label_choice_takes_the_label_nearest_to_passing_before_other():
    labels, thresholds = ["finance", "workforce"], [0.5, 0.4]
    # Labels at or above their thresholds are chosen.
    assert [label for label, _p in multi_label_choice(np.array([0.6, 0.45]), labels, thresholds, "other")] == [
        "finance", "workforce"]
    # None passes: workforce is nearest (0.3 / 0.4 = 0.75 of its threshold, finance 0.7).
    row = np.array([0.35, 0.3])
    assert multi_label_choice(row, labels, thresholds, "other", near_threshold=0.7) == [("workforce", 0.3)]
    # Not near enough: the exclusive label, with 1 - the best probability.
    assert multi_label_choice(row, labels, thresholds, "other", near_threshold=0.8) == [("other", pytest.approx(0.65))]
    # 1.0 (the default) never overrides the exclusive label; no exclusive label: the most probable.
    assert multi_label_choice(row, labels, thresholds, "other")[0][0] == "other"
    assert multi_label_choice(row, labels, thresholds, None, near_threshold=1.0) == [("finance", 0.35)]


def test_topics_near_threshold_is_tuned_on_inner_folds_and_saved(models_dir, classifier):
    bundle = classifier.bundles["topics"]
    low, high, _steps = PARAMS["multi_label"]["near_threshold_grid"]
    assert low <= bundle["near_threshold"] <= high
    # Prediction uses it: a row with no label past its threshold but one label within the share.
    labels, thresholds = bundle["labels"], bundle["thresholds"]
    row = np.array([t * 0.99 if i == 0 else 0.0 for i, t in enumerate(thresholds)])
    expected = labels[0] if bundle["near_threshold"] <= 0.99 else "other"
    assert multi_label_choice(row, labels, thresholds, "other", bundle["near_threshold"])[0][0] == expected


def test_record_documents_are_the_analysers_reading_not_the_labels():
    """Training and evaluation read what the classify stage reads: the analyser's mentions and
    quotes (a body named only as "the fire service", resolved by context), not the labelled
    surface forms; a record analysed by another analyser version is analysed again."""
    from nlp.classify import SERVED_MENTION_FIELDS, SERVED_QUOTE_FIELDS, analyse_records
    from nlp.entities import Analyser
    record = {"id": "x-1", "title": "Crews tackle barn fire near Leominster",
              "body": "Hereford and Worcester Fire and Rescue Service sent four engines.\n\n"
                      "Later the fire service said the roof had collapsed. \"It was a difficult night for "
                      "everyone,\" said station commander Jo Bloggs of the fire service.",
              # labels name a surface form the text does not contain: the analyser does not read labels
              "entities": {"hwfrs": ["HWFRS"]}, "tone": {"hwfrs": "neutral"}}
    doc = record_document(record)
    assert {m["entity_id"] for m in doc["mentions"]} == {"hwfrs"}
    assert len(doc["mentions"]) >= 2   # the full name and "the fire service"
    assert all(set(m) == set(SERVED_MENTION_FIELDS) for m in doc["mentions"])
    [quote] = doc["quotes"]
    assert set(quote) == set(SERVED_QUOTE_FIELDS) and quote["entity_id"] == "hwfrs"
    assert quote["text"].startswith("It was a difficult night")
    analyser = Analyser()
    analyser.version = "another-version"
    analyse_records([record], analyser)
    assert record["analysis"]["version"] == "another-version"


def test_a_body_the_analyser_does_not_find_is_scored_as_a_miss(classifier, scheme, training_records):
    """The classify stage gives no tone to a body the analyser does not find, so evaluation counts
    that labelled pair as missed, whatever the model would have said."""
    from nlp.classify import NOT_FOUND
    record = next(r for r in load_corpus(scheme=scheme)
                  if r["id"] not in {t["id"] for t in training_records} and r.get("tone")
                  and "sfrs" not in r["tone"])
    unnamed = {**record, "tone": {**record["tone"], "sfrs": "positive"}}
    unnamed.pop("analysis", None)
    report = evaluate_models(classifier, [unnamed], scheme)["tone"]
    assert report["n_examples"] == len(unnamed["tone"])
    # the unfound pair is in the positive support but predicted as no label at all
    matrix = report["confusion_matrix"]
    positive = matrix["labels"].index("positive")
    support = sum(label == "positive" for label in unnamed["tone"].values())
    assert report["per_label"]["positive"]["support"] == support
    assert sum(matrix["matrix"][positive]) == support - 1
    rows, _, _ = _task_examples([unnamed], scheme.tasks["tone"])
    assert [row["found"] for row in rows if row["entity_id"] == "sfrs"] == [False]
    assert NOT_FOUND not in scheme.tasks["tone"].labels


def test_record_documents_read_the_source_region_as_the_stage_does():
    """A labelled article from a store carries its source's region (``labelled_records``), which the
    analyse stage uses when nothing in the text settles which body "the fire service" is; the
    training document reads it too."""
    text = {"title": "Station open day", "body": "The fire service invited families to see its engines.\n\n"
            "Firefighters showed children how to use a hose at the station."}
    by_region = {region: {m["entity_id"] for m in record_document({**text, "source_region": region})["mentions"]}
                 for region in ("Shropshire", "Worcestershire", None)}
    assert by_region == {"Shropshire": {"sfrs"}, "Worcestershire": {"hwfrs"}, None: set()}


def _threads() -> dict[str, int]:
    from threadpoolctl import threadpool_info
    return {info["filepath"]: info["num_threads"] for info in threadpool_info()}


def test_models_are_fitted_with_one_blas_and_openmp_thread_and_the_setting_is_restored(scheme, training_records,
                                                                                        tmp_path, monkeypatch):
    """Threaded BLAS made `cuttings train` 4.5 times slower on the loaded 2-core machine (L-BFGS-B's
    ddot split between threads that wait for each other): training and cross-validation fit with one."""
    import nlp.classify as classify
    from threadpoolctl import threadpool_limits
    seen = []

    def train_task(records, scheme, name, *args, **kwargs):
        seen.append(set(_threads().values()))
        return {"task": name}

    def cross_validate_task(records, task, *args, **kwargs):
        seen.append(set(_threads().values()))
        return {"task": task.name}

    monkeypatch.setattr(classify, "_train_task", train_task)
    monkeypatch.setattr(classify, "_cross_validate_task", cross_validate_task)
    with threadpool_limits(limits=2):   # as on a 2-core machine, whatever this one has
        before = _threads()
        assert 2 in before.values()
        with classify.one_thread():
            assert set(_threads().values()) == {1}
        assert _threads() == before
        train_models(training_records, scheme, tmp_path, folds=FOLDS)
        cross_validate(training_records, scheme, folds=FOLDS)
        assert _threads() == before
    assert seen == [{1}] * (2 * len(scheme.tasks))
