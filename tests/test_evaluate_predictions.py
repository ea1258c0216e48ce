"""`cuttings evaluate predictions`: the stored predictions against the labels people gave after the model that
made them was trained, on stories neither labelled before nor of the corpus the models trained on.

The figures expected are worked out by hand from the fixture below, not read off the output."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from cuttings import later_labels, store
from nlp.corpus import load_corpus
from tests.conftest import run_cli
from tests.test_label import cli_group

TRAINED = "2026-11-20T08:00:00Z"
BEFORE, AFTER = "2026-11-19T08:00:00Z", "2026-11-21T08:00:00Z"
VERSIONS = {"topics": "topics-20261120080000-aaaaaaaa", "stance_governance": "stance_governance-20261120080000-bbbbbbbb",
            "tone": "tone-20261120080000-cccccccc"}
CARD_METRICS = {"metric": "macro_f1", "cv": 0.81, "cv_folds": 5, "unseen_slices": 0.72, "baseline": 0.22}

# stories of the database's own coverage: (key, title, body)
OWN = [
    ("library", "Library opening hours cut in Kidderminster",
     "The county council will close the library on Wednesdays from January to save money on staff."),
    ("bridge", "Footbridge over the Severn reopens after repairs",
     "Walkers can cross the river again after engineers replaced the rotten timber decking."),
    ("market", "Farmers market moves to the square",
     "Stallholders say the new pitch near the church will bring more shoppers into the town centre."),
    ("bus", "Village bus route saved by parish grant",
     "The number 44 will keep running twice a day after parish councillors agreed to cover the shortfall."),
    ("early", "Allotment society elects new chair",
     "Members chose a retired teacher to lead the society at its annual meeting in the village hall."),
]


def _insert(db, key: str, title: str, body: str) -> int:
    url = f"https://news.example/{key}"
    cursor = db.execute(
        "INSERT INTO articles (url, canonical_url, source_id, title, body, published_at, first_seen_at, last_seen_at, "
        "content_hash) VALUES (?, ?, 'worcester-news', ?, ?, '2026-11-18', ?, ?, ?)",
        [url, url, title, body, TRAINED, TRAINED, store.content_hash(title, body)])
    return cursor.lastrowid


def _predict(db, article_id: int, rows: list[tuple[str, str, str]], versions=VERSIONS) -> None:
    for task, target, label in rows:
        db.execute("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, model_version, "
                   "created_at) VALUES (?, ?, ?, ?, 0.8, 0, ?, ?)", [article_id, task, target, label, versions[task], TRAINED])


def _db(tmp_path):
    """Models trained at TRAINED; five stories of the team's own coverage and two of the seed corpus (as the demo
    site renders them: headline in title case on one, paragraphs joined, a sister title's credit line)."""
    path = tmp_path / "cuttings.db"
    db = store.connect(path)
    db.execute("INSERT INTO sources (id, name) VALUES ('worcester-news', 'Worcester News')")
    for task, version in VERSIONS.items():
        store.record_model(db, {"task": task, "model_version": version, "created_at": TRAINED, "metrics": CARD_METRICS},
                           f"/models/{task}.skops", record_kind=False)
    ids = {key: _insert(db, key, title, body) for key, title, body in OWN}
    corpus = {record["id"]: record for record in load_corpus()}
    first, second = corpus["t1-001"], corpus["t1-002"]
    ids["corpus1"] = _insert(db, "corpus1", first["title"].title(), first["body"].replace("\n\n", "\n")
                             + "\n\nThis story first appeared in the Severn Valley Echo, our sister title.")
    ids["corpus2"] = _insert(db, "corpus2", second["title"], second["body"])
    stance = "stance_governance"
    for key, label, topics in (("library", "favour", ["governance"]), ("bridge", "none", ["incident"]),
                               ("market", "against", ["finance"]), ("bus", "favour", ["finance"]),
                               ("early", "none", ["other"]), ("corpus1", "against", ["governance"]),
                               ("corpus2", "against", ["governance"])):
        _predict(db, ids[key], [(stance, "", label)] + [("topics", "", topic) for topic in topics])
    _predict(db, ids["library"], [("tone", "wm_pcc", "positive"), ("tone", "hwfrs", "neutral")])
    db.execute("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, model_version, "
               "created_at) VALUES (?, 'tone', 'sfrs', 'neutral', 0.8, 0, 'an-old-model', ?)", [ids["bus"], TRAINED])
    db.conn.commit()
    # "early" was labelled before the models were trained (they may have learnt it), and again after
    store.add_labels(db, [(ids["early"], stance, "", "none", "jsmith")], at=BEFORE)
    store.add_labels(db, [(ids["library"], stance, "", "favour", "jsmith"),
                          (ids["library"], "topics", "", "governance", "jsmith"),
                          (ids["library"], "topics", "", "finance", "jsmith"),
                          (ids["library"], "tone", "wm_pcc", "negative", "jsmith"),
                          (ids["library"], "tone", "hwfrs", "neutral", "jsmith"),
                          (ids["library"], "tone", "sfrs", "neutral", "jsmith"),     # no prediction for sfrs
                          (ids["bridge"], stance, "", "neutral", "jsmith"),
                          (ids["bridge"], "topics", "", "incident", "jsmith"),
                          (ids["market"], stance, "", "against", "jsmith"),
                          (ids["bus"], stance, "", "against", "jsmith"),
                          (ids["bus"], "tone", "sfrs", "neutral", "jsmith"),         # by a model of unknown time
                          (ids["early"], stance, "", "neutral", "jsmith"),
                          (ids["corpus1"], stance, "", "none", "jsmith"),
                          (ids["corpus2"], stance, "", "none", "jsmith"),
                          (ids["corpus2"], "topics", "", "finance", "jsmith")], at=AFTER)
    db.conn.close()
    return path, ids


def _evaluate(path, *args):
    return CliRunner().invoke(cli_group(), ["--db", str(path), "evaluate", "predictions", *args])


def test_figures_on_stories_no_model_trained_on(tmp_path):
    path, _ids = _db(tmp_path)
    result = _evaluate(path, "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["predictions"]

    # stance: library favour/favour, bridge neutral/none, market against/against, bus against/favour (person, model);
    # "early" labelled before training, the two corpus stories left out
    stance = figures["stance_governance"]
    assert stance["left_out"] == {"labelled_before_training": 1, "corpus_story": 2, "model_time_unknown": 0}
    assert (stance["questions"], stance["stories"], stance["accuracy"]) == (4, 4, 0.5)
    # favour: predicted twice, right once (P 1/2, R 1/1, F1 2/3); against: predicted once, right (P 1, R 1/2,
    # F1 2/3); neutral: labelled once, never predicted (0); none: predicted once, never labelled (0)
    assert stance["per_label"] == {
        "favour": {"precision": 0.5, "recall": 1.0, "labelled": 1, "predicted": 2},
        "against": {"precision": 1.0, "recall": 0.5, "labelled": 2, "predicted": 1},
        "neutral": {"precision": 0.0, "recall": 0.0, "labelled": 1, "predicted": 0},
        "none": {"precision": 0.0, "recall": 0.0, "labelled": 0, "predicted": 1}}
    assert stance["macro_f1"] == pytest.approx((2 / 3 + 2 / 3) / 4, abs=1e-4)
    assert stance["micro_f1"] == 0.5 and stance["macro_f1_interval"] is None   # 4 questions: no interval
    assert stance["models"] == [{"version": VERSIONS["stance_governance"], "trained_at": TRAINED, "recorded": True,
                                 "metric": "macro_f1", "cross_validated": 0.81, "on_held_out_slices": 0.72,
                                 "held_out_90pct_interval": None, "baseline": 0.22}]

    # topics: library {governance, finance} against {governance}; bridge {incident} both; corpus2 left out
    topics = figures["topics"]
    assert topics["left_out"] == {"labelled_before_training": 0, "corpus_story": 1, "model_time_unknown": 0}
    assert (topics["questions"], topics["accuracy"]) == (2, 0.5)
    assert topics["per_label"]["finance"] == {"precision": 0.0, "recall": 0.0, "labelled": 1, "predicted": 0}
    assert topics["per_label"]["governance"] == {"precision": 1.0, "recall": 1.0, "labelled": 1, "predicted": 1}
    assert topics["macro_f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert topics["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 0 + 1), abs=1e-4)   # tp 2, fp 0, fn 1

    # tone: library's wm_pcc (negative / positive) and hwfrs (neutral both); sfrs has no prediction; the bus's
    # sfrs rating is by a model whose training time nothing says
    tone = figures["tone"]
    assert (tone["questions"], tone["stories"], tone["accuracy"]) == (2, 1, 0.5)
    assert tone["left_out"]["model_time_unknown"] == 1


def test_the_text(tmp_path):
    path, _ids = _db(tmp_path)
    result = _evaluate(path, "stance_governance")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "stance_governance: 4 questions on 4 stories; accuracy 0.500, macro-F1 0.333 (no interval" in result.output
    assert ("  left out: 1 questions on stories labelled before their model was trained; 2 on stories of the corpus"
            in lines)
    assert (f"  model {VERSIONS['stance_governance']}: card macro-F1 0.810 in cross-validation, 0.720 on held-out "
            "slices (baseline 0.220)") in lines
    assert not any(line.startswith(("topics", "tone")) for line in lines)


def test_without_the_corpus_its_stories_count(tmp_path):
    path, _ids = _db(tmp_path)
    result = _evaluate(path, "stance_governance", "--corpus", "none", "--json")
    stance = json.loads(result.output)["predictions"]["stance_governance"]
    assert stance["left_out"]["corpus_story"] == 0 and stance["questions"] == 6


def test_matching_a_story_to_the_corpus():
    records = load_corpus()
    matcher = later_labels.CorpusMatcher(records)
    record = records[5]
    assert matcher.match("Another headline", record["body"]) == record["id"]
    assert matcher.match(record["title"], "Nothing of the body.") == record["id"]   # a headline of 5 words or more
    # a rewording (a word inserted every fourth word breaks every shingle): the content words still match
    words = record["body"].split()
    reworded = " ".join(word + (" indeed" if i % 4 == 3 else "") for i, word in enumerate(words))
    assert matcher.match("Another headline", reworded) == record["id"]
    for _key, title, body in OWN:
        assert matcher.match(title, body) is None
    assert later_labels.CorpusMatcher([]).match("x", "y") is None


def test_demo_counts_nothing(demo_db, tmp_path):
    """The demo's stories are the seed corpus's articles: labelled after the models were trained, none counts;
    without leaving the corpus out, they would (and score as the models' training data)."""
    path = tmp_path / "demo.db"
    shutil.copy(demo_db, path)
    db = store.connect(path)
    rows = db.execute("SELECT c.article_id, c.label FROM classifications c JOIN articles a ON a.id = c.article_id "
                      "WHERE c.task = 'stance_governance' AND a.duplicate_of IS NULL ORDER BY c.article_id LIMIT 40").fetchall()
    store.add_labels(db, [(article_id, "stance_governance", "", label, "tester") for article_id, label in rows])
    db.conn.close()
    result = run_cli("--db", str(path), "evaluate", "predictions", "stance_governance", "--json")
    assert result.returncode == 0, result.stderr.decode()
    stance = json.loads(result.stdout)["predictions"]["stance_governance"]
    assert stance["questions"] == 0 and stance["left_out"]["corpus_story"] == len(rows) == 40
    result = run_cli("--db", str(path), "evaluate", "predictions", "stance_governance", "--corpus", "none", "--json")
    assert json.loads(result.stdout)["predictions"]["stance_governance"]["questions"] == 40


def test_refusals_are_one_line(tmp_path):
    path, _ids = _db(tmp_path)
    for args, words in ((["--corpus", str(tmp_path / "nowhere")], "as given to `cuttings train`"),
                        (["--data", str(path)], "--data measures the classifiers"),
                        (["agreement"], "give one of agreement and predictions at a time")):
        result = _evaluate(path, *args)
        assert result.exit_code == 1 and words in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1
