"""A model no better than its baseline (always the most common label): `cuttings train` saves it with one
warning line on stderr naming its figures, each label's count and the labelling command; `cuttings
doctor` and the digest's trust note say so in their own words; the shipped corpus's models raise none."""
from __future__ import annotations

import json
from collections import Counter

import pytest

import pipeline
from cuttings import report, store
from cuttings.doctor import check_models, models_checks
from nlp.baseline import below_baseline
from nlp.corpus import load_corpus
from tests.conftest import invoke_cli, query_rows
from tests.report_fixtures import MODEL_METRICS, MODEL_REPORTS, NOW, build_sample_db

WEAK = "no better than its baseline"


def _card(task="tone", kind="per_entity", **metrics) -> dict:
    return {"task": task, "kind": kind, "labels": ["negative", "neutral", "positive"],
            "metrics": {"metric": "macro_f1", "cv_folds": 5, **metrics},
            "cross_validation": {"per_label": {"negative": {"support": 40}, "neutral": {"support": 5},
                                               "positive": {"support": 3}}}}


def test_below_baseline_is_at_or_below_on_either_figure():
    assert below_baseline(_card(cv=0.401, baseline=0.4)) is None
    assert below_baseline(_card(cv=0.5, baseline=0.4, unseen_slices=0.41)) is None
    assert below_baseline({"metrics": {"error": "too few examples"}}) is None and below_baseline({}) is None
    at = below_baseline(_card(cv=0.4, baseline=0.4))
    assert at["words"] == "macro-F1 0.400 in 5-fold CV, against 0.400 for always giving the most common label"
    # the audit's tone model: CV under its baseline
    under = below_baseline(_card(cv=0.333, baseline=0.4, unseen_slices=0.29))
    assert under["words"] == ("macro-F1 0.333 in 5-fold CV and 0.290 on held-out slices, against 0.400 for "
                              "always giving the most common label")
    assert under["counts"] == {"negative": 40, "neutral": 5, "positive": 3}
    # above in CV, but not on held-out slices (unseen coverage): no better than a guess there
    assert below_baseline(_card(cv=0.6, baseline=0.4, unseen_slices=0.4))["unseen_slices"] == 0.4
    topics = below_baseline(_card(task="topics", kind="multi_label", metric="micro_f1", cv=0.2, baseline=0.25))
    assert topics["words"] == "micro-F1 0.200 in 5-fold CV, against 0.250 for always giving the most frequent topic"
    warning = pipeline.no_better_than_baseline(_card(cv=0.333, baseline=0.4), ["positive", "negative", "neutral"])
    assert warning == ("tone is no better than its baseline: macro-F1 0.333 in 5-fold CV, against 0.400 for always "
                       "giving the most common label; it is saved all the same, but its labels are little better "
                       "than a guess. More labelled examples would help (positive 3, negative 40, neutral 5): "
                       "`cuttings label --task tone`, then train again")
    assert pipeline.no_better_than_baseline(_card(cv=0.6, baseline=0.4)) is None


@pytest.mark.slow
def test_train_warns_of_a_model_no_better_than_its_baseline_and_saves_it(tmp_path):
    """Every article given the same headline and body: topics and stance can only guess one label for all
    (a constant guess scores at most the majority baseline), tone still learns which body is rated how."""
    records = load_corpus()[::3]
    same = [{**record, "title": records[0]["title"], "body": records[0]["body"]} for record in records]
    (tmp_path / "same.jsonl").write_text("".join(json.dumps(record) + "\n" for record in same), encoding="utf-8")
    store.connect(tmp_path / "c.db").close()
    models = tmp_path / "models"
    env = {"CUTTINGS_HOME": str(tmp_path), "CUTTINGS_MODELS": str(models)}
    result = invoke_cli("--db", str(tmp_path / "c.db"), "train", "--folds", "2", "--corpus", str(tmp_path / "same.jsonl"),
                        env=env)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    stdout, stderr = result.stdout.decode(), result.stderr.decode()
    assert WEAK not in stdout   # the warning is on stderr, once per task
    warnings = [line for line in stderr.splitlines() if WEAK in line]
    assert [line.split()[1] for line in warnings] == ["topics", "stance_governance"], stderr
    cards = {task: json.loads((models / f"{task}.json").read_text(encoding="utf-8"))
             for task in ("topics", "stance_governance", "tone")}
    assert all((models / f"{task}.skops").exists() for task in cards)   # saved all the same
    stance = cards["stance_governance"]["metrics"]
    assert stance["cv"] <= stance["baseline"] and stance["unseen_slices"] is not None
    have = Counter(record["stance_governance"] for record in records)
    assert warnings[1] == (
        f"warning: stance_governance is no better than its baseline: macro-F1 {stance['cv']:.3f} in 2-fold CV and "
        f"{stance['unseen_slices']:.3f} on held-out slices, against {stance['baseline']:.3f} for always giving the most "
        "common label; it is saved all the same, but its labels are little better than a guess. More labelled "
        f"examples would help (favour {have['favour']}, against {have['against']}, neutral {have['neutral']}, "
        f"none {have['none']}): `cuttings label --task stance_governance`, then train again")
    topics = cards["topics"]["metrics"]
    assert warnings[0].startswith(f"warning: topics is no better than its baseline: micro-F1 {topics['cv']:.3f} in 2-fold CV")
    assert f"governance {sum('governance' in record['topics'] for record in records)}, " in warnings[0]
    assert "`cuttings label --task topics`" in warnings[0]
    tone = cards["tone"]["metrics"]
    assert tone["cv"] > tone["baseline"] and tone["unseen_slices"] > tone["baseline"]   # and so no warning
    # recorded in use, as any trained model
    assert {row["task"] for row in query_rows(tmp_path / "c.db", "SELECT task FROM models")} == set(cards)
    # doctor: the models check is fine; a "model quality" warning for each weak model, about its task
    models_check, *quality = models_checks(models)
    assert models_check.status == "ok" and WEAK not in models_check.message
    assert [(check.name, check.status, check.about) for check in quality] == [
        ("model quality", "warning", "stance_governance"), ("model quality", "warning", "topics")]
    check = quality[0]
    assert (f"the stance_governance model is no better than its baseline (macro-F1 {stance['cv']:.3f} in 2-fold CV "
            f"and {stance['unseen_slices']:.3f} on held-out slices, against {stance['baseline']:.3f} for always giving "
            "the most common label): its labels are little better than a guess") in check.message
    assert "the topics model is no better" in quality[1].message
    assert "`cuttings label --task stance_governance`" in check.fix


def test_no_false_alarm_for_the_shipped_corpus_models(trained_models):
    for path in sorted(trained_models.glob("*.json")):
        card = json.loads(path.read_text(encoding="utf-8"))
        assert below_baseline(card) is None, path.name
    assert WEAK not in (trained_models / "train_errors.txt").read_text(encoding="utf-8")
    assert [check.name for check in models_checks(trained_models)] == ["models"]
    assert WEAK not in check_models(trained_models).message


def test_the_digest_trust_note_says_a_model_is_no_better_than_its_baseline(tmp_path):
    db = build_sample_db(tmp_path / "sample.db")
    try:
        digest = report.build_digest(db, now=NOW)
        assert [entry["below_baseline"] for entry in digest["trust"]] == [None, None, None]   # the sample's figures
        assert WEAK not in report.render_markdown(digest)
        weak = {**MODEL_METRICS["tone"], "cv": 0.2, "baseline": 0.225}
        db.execute("UPDATE models SET card_json = ? WHERE task = 'tone'",
                   [json.dumps({"task": "tone", "kind": "per_entity", "metrics": weak, **MODEL_REPORTS["tone"]})])
        db.conn.commit()
        digest = report.build_digest(db, now=NOW)
        tone = next(entry for entry in digest["trust"] if entry["task"] == "tone")
        line = report.trust_text(tone)
        sentence = ("Tone: its model is no better than its baseline (macro-F1 0.200 in 5-fold CV, against 0.225 for "
                    "always giving the most common label): treat these labels as a guess; see `cuttings doctor`.")
        assert line.startswith("Tone, tested in cross-validation") and line.endswith(sentence)
        for text in (report.render_markdown(digest), report.render_markdown(digest, plain=True)):
            assert sentence.replace("`", "") in text.replace("\\", "").replace("`", "")
        note = report.render_html(digest).split('id="trust"', 1)[1].split("</div>", 1)[0]
        assert "its model is no better than its baseline (macro-F1 0.200 in 5-fold CV" in note
        assert [entry["below_baseline"] is None for entry in digest["trust"]] == [True, True, False]
    finally:
        db.close()
