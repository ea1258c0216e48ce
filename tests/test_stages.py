"""One factory per stage: every command builds the analyser, the classifier and the crawl's
cut-off the same way (cuttings/stages.py)."""
import sqlite3

import pytest

from crawler.revisions import save_article
from cuttings import stages, store
from tests.conftest import run_cli
from tests.test_ner import make_pipeline, watchlist_with


def analyser_versions(db_path) -> set[str]:
    with sqlite3.connect(db_path) as conn:
        return {row[0] for row in conn.execute("SELECT version FROM processing WHERE stage = 'analyse'")}


def test_run_and_analyse_stamp_the_same_analyser_version(tmp_path):
    """With NER configured, `cuttings run` analyses with it too: alternating the two commands
    re-analyses nothing."""
    watchlist = watchlist_with(tmp_path, make_pipeline(tmp_path / "ner-model"))
    db_path = tmp_path / "x.db"
    db = store.connect(db_path)
    save_article(db, {"url": "http://a.example/1", "canonical_url": "http://a.example/1",
                      "title": "Fire authority chairman criticises plan",
                      "body": "Councillor Eric Carter said Telford & Wrekin Council would oppose the plan."}, None)
    db.close()
    env = {"CUTTINGS_MODELS": str(tmp_path / "no-models")}
    ran = run_cli("--db", str(db_path), "run", "--watchlist", str(watchlist), "--skip", "crawl", "--skip", "classify",
                  "--skip", "report", "--log-file", str(tmp_path / "run.log"), env=env)
    assert ran.returncode == 0, ran.stderr.decode()
    after_run = analyser_versions(db_path)
    assert len(after_run) == 1 and "+ner:" in next(iter(after_run))
    analysed = run_cli("--db", str(db_path), "analyse", "--watchlist", str(watchlist), env=env)
    assert analysed.returncode == 0, analysed.stderr.decode()
    assert "analysed 0 articles" in analysed.stdout.decode()
    assert analyser_versions(db_path) == after_run
    assert stages.load_analyser(watchlist).version == next(iter(after_run))


def test_resolve_since(tmp_path):
    db = store.connect(tmp_path / "x.db")
    assert stages.resolve_since(db, "all", 6) is None
    assert stages.resolve_since(db, "2026-11-01", 6) == "2026-11-01"
    assert stages.resolve_since(db, None, 6) is None  # no crawl yet
    with store.clock("2026-11-20T02:00:00Z"):
        run_id = store.start_run(db, "crawl")
        store.finish_run(db, run_id, "ok")
    assert stages.resolve_since(db, None, 6) == "2026-11-19T20:00:00Z"


def test_models_missing_is_a_typed_error(tmp_path):
    assert not stages.models_present(tmp_path)
    with pytest.raises(stages.ModelsMissing, match="no trained models in"):
        stages.load_classifier(tmp_path)


def test_classification_rows_follow_the_prediction_shape_not_task_names():
    """Any scheme's task names: a list is multi-label, a prediction single-label, a dict of
    predictions per entity."""
    prediction = {"themes": [{"label": "budget", "probability": 0.9}, {"label": "staff", "probability": 0.6,
                                                                      "uncertain": True}],
                  "urgency": {"label": "high", "probability": 0.7},
                  "sentiment": {"hwfrs": {"label": "negative", "probability": 0.55, "uncertain": True}}}
    versions = {"themes": "t-1", "urgency": "u-1", "sentiment": "s-1"}
    assert stages.classification_rows(prediction, versions) == [
        {"task": "themes", "target": "", "label": "budget", "probability": 0.9, "uncertain": False,
         "model_version": "t-1"},
        {"task": "themes", "target": "", "label": "staff", "probability": 0.6, "uncertain": True,
         "model_version": "t-1"},
        {"task": "urgency", "target": "", "label": "high", "probability": 0.7, "uncertain": False,
         "model_version": "u-1"},
        {"task": "sentiment", "target": "hwfrs", "label": "negative", "probability": 0.55, "uncertain": True,
         "model_version": "s-1"}]
