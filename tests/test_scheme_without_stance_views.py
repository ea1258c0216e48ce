"""A team's label scheme without a stance task (topics and tone only) in the database (audit, session 19): once
the scheme is recorded (``record_scheme_tasks``: `cuttings label`, `cuttings train`, `cuttings classify`, a
correction), the label views read no stance, not the ``stance_governance`` row migration m013 seeded:
entity_daily has no ``stance_<label>`` columns (they were always 0), article_summary's ``stance`` and
``stance_uncertain`` are NULL (kept, so the exports and canned queries keep their columns), and the Datasette
metadata promises no stance. The shipped scheme and a database that never recorded such a scheme read as before."""
from __future__ import annotations

import csv
import json
import os
import sqlite3
from pathlib import Path

import pytest

from cuttings import serve, store
from cuttings.doctor import check_label_tasks
from cuttings.labelling import load_label_tasks, record_scheme_tasks
from tests.conftest import invoke_cli
from tests.report_fixtures import build_sample_db
from tests.test_scheme_without_stance import NO_STANCE_SCHEME, TONE_MAP

SHIPPED_ENTITY_DAILY = ["entity_id", "body", "day", "articles", "stance_favour", "stance_against", "stance_neutral",
                        "tone_positive", "tone_negative", "tone_neutral", "tone_rated"]
TEAM_ENTITY_DAILY = ["entity_id", "body", "day", "articles", "tone_favourable", "tone_critical", "tone_balanced",
                     "tone_rated"]


def _columns(conn, view: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({view})").fetchall()]


def _views(conn) -> dict[str, str]:
    return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name").fetchall())


def _team_sample_db(tmp_path, monkeypatch):
    """The sample database at tmp_path/team.db, with the team's scheme (no stance task) as the user's."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "label_scheme.toml").write_text(NO_STANCE_SCHEME, encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    path = tmp_path / "team.db"
    return path, build_sample_db(path)


@pytest.fixture()
def team(tmp_path, monkeypatch):
    """The sample database (which has shipped-scheme stance_governance predictions and labels: the views must
    not read them) as the team's: its tone labels, and its scheme recorded as `cuttings label` records it."""
    path, db = _team_sample_db(tmp_path, monkeypatch)
    for table in ("classifications", "labels"):
        for old, new in TONE_MAP.items():
            db.execute(f"UPDATE {table} SET label = ? WHERE task = 'tone' AND label = ?", [new, old])
    db.conn.commit()
    assert db.execute("SELECT count(*) FROM effective_labels WHERE task = 'stance_governance'").fetchone()[0] > 0
    record_scheme_tasks(db)
    yield db, path
    db.close()


def test_entity_daily_has_no_stance_columns_and_article_summary_no_stance(team, tmp_path):
    db, path = team
    with sqlite3.connect(path) as conn:
        assert _columns(conn, "entity_daily") == TEAM_ENTITY_DAILY
        rows = conn.execute("SELECT sum(articles), sum(tone_critical) FROM entity_daily").fetchone()
        assert rows[0] > 0 and rows[1] > 0   # the view still counts
        shipped = build_sample_db(tmp_path / "shipped.db")
        shipped_columns = _columns(shipped.conn, "article_summary")
        shipped.close()
        assert _columns(conn, "article_summary") == shipped_columns   # same columns: exports and queries keep them
        stances = conn.execute("SELECT count(*), count(stance), count(stance_uncertain), count(tone) "
                               "FROM article_summary").fetchone()
        assert stances[0] > 0 and stances[1:3] == (0, 0) and stances[3] > 0
        assert conn.execute("SELECT role, task FROM label_roles ORDER BY role").fetchall() == [
            ("stance", None), ("tone", "tone"), ("topics", "topics")]
    assert check_label_tasks(db.conn) == []   # doctor: nothing is missing


def test_a_team_that_adds_a_stance_task_gets_its_columns(team):
    db, path = team
    tasks = load_label_tasks()
    scheme = NO_STANCE_SCHEME + ('\n[tasks.stance_closures]\nkind = "single_label"\ntarget = "Closing stations."\n'
                                 'labels = ["support", "oppose", "neutral", "none"]\nabsent = "none"\nuncertain_below = 0.6\n')
    (Path(os.environ["CUTTINGS_HOME"]) / "label_scheme.toml").write_text(scheme, encoding="utf-8")
    assert "stance_closures" not in tasks and "stance_closures" in load_label_tasks()
    with store.clock("2099-01-01T00:00:00Z"):   # recorded after the scheme without stance
        record_scheme_tasks(db)
    with sqlite3.connect(path) as conn:
        assert [c for c in _columns(conn, "entity_daily") if c.startswith("stance_")] == [
            "stance_support", "stance_oppose", "stance_neutral"]
        assert conn.execute("SELECT task FROM label_roles WHERE role = 'stance'").fetchone() == ("stance_closures",)


def test_the_export_keeps_its_columns_with_stance_empty(team, tmp_path):
    _db, path = team
    out = tmp_path / "team.csv"
    result = invoke_cli("--db", str(path), "export", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and "stance" in rows[0] and "stance_uncertain" in rows[0]
    assert {row["stance"] for row in rows} == {""} and {row["stance_uncertain"] for row in rows} == {""}
    assert {row["topics"] for row in rows} != {""}
    result = invoke_cli("--db", str(path), "export", "--format", "jsonl")
    exported = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert exported and {row["stance"] for row in exported} == {None}


def test_the_datasette_metadata_promises_no_stance(team):
    _db, path = team
    metadata = serve.datasette_metadata(path)
    assert metadata["description"].endswith("with quotes, topics and tone. Human labels win over predictions.")
    tables = metadata["databases"]["team"]["tables"]
    daily = tables["entity_daily"]
    assert sorted(daily["columns"]) == sorted(TEAM_ENTITY_DAILY)   # described: the columns it has, none of stance
    assert "stance_<label> column per" not in daily["description"] and "with tone counts" in daily["description"]
    summary = tables["article_summary"]
    assert "topics, stance and tone" not in summary["description"]
    assert "has no stance task" in summary["description"]
    assert summary["columns"]["stance"].startswith("NULL: the label scheme has no stance")
    assert "stance" not in summary["columns"]["human_corrected"]
    queries = metadata["databases"]["team"]["queries"]
    assert queries["critical_articles"]["description"].endswith("`stance` and `stance_uncertain` are NULL.")
    with sqlite3.connect(path) as conn:   # the canned queries still run
        for name in ("critical_articles", "entity_coverage"):
            sql = queries[name]["sql"]
            params = {"entity": "hwfrs", "start": "2000-01-01", "end": "2100-01-01"}
            rows = conn.execute(sql, {key: value for key, value in params.items() if f":{key}" in sql}).fetchall()
            assert name == "critical_articles" or rows   # hwfrs has stories; no stance puts one under attention


def test_the_shipped_scheme_reads_as_before(tmp_path, monkeypatch):
    """No scheme file (the shipped scheme): recording it changes no view, and the columns are the shipped ones."""
    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path))
    db = build_sample_db(tmp_path / "cuttings.db")
    before = _views(db.conn)
    record_scheme_tasks(db)
    assert _views(db.conn) == before
    assert _columns(db.conn, "entity_daily") == SHIPPED_ENTITY_DAILY
    assert db.execute("SELECT count(stance) FROM article_summary").fetchone()[0] > 0
    assert db.execute("SELECT count(*) FROM label_tasks WHERE name = ?", [store.schema.NO_STANCE_TASK]).fetchone()[0] == 0
    metadata = serve.datasette_metadata(tmp_path / "cuttings.db")
    assert "with quotes, topics, stance and tone." in metadata["description"]
    tables = metadata["databases"]["cuttings"]["tables"]
    assert list(tables["entity_daily"]["columns"]) == SHIPPED_ENTITY_DAILY
    assert tables["article_summary"]["description"].endswith("with entities, topics, stance and tone (human labels win).")
    db.close()


def test_the_reserved_name_names_no_task(team):
    db, path = team
    with sqlite3.connect(path) as conn:
        before = _views(conn), conn.execute("SELECT * FROM label_tasks ORDER BY name").fetchall()
    with pytest.raises(store.StoreError, match="'__no_stance_task__' is reserved"):
        store.record_label_tasks(db, {store.schema.NO_STANCE_TASK: "single_label"})
    with sqlite3.connect(path) as conn:
        assert (_views(conn), conn.execute("SELECT * FROM label_tasks ORDER BY name").fetchall()) == before


def test_the_first_imported_label_records_the_scheme_without_stance(tmp_path, monkeypatch):
    """`cuttings label --import` (a team's first labels, before any model): the views stop reading stance."""
    path, db = _team_sample_db(tmp_path, monkeypatch)
    url = db.execute("SELECT canonical_url FROM articles WHERE duplicate_of IS NULL ORDER BY id").fetchone()[0]
    db.close()
    with sqlite3.connect(path) as conn:
        assert _columns(conn, "entity_daily") == SHIPPED_ENTITY_DAILY   # not recorded yet: as m013 seeded it
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"url": url, "topics": ["finance"]}) + "\n", encoding="utf-8")
    result = invoke_cli("--db", str(path), "label", "--import", str(labels), "--annotator", "me")
    assert result.returncode == 0, result.stderr.decode()
    with sqlite3.connect(path) as conn:
        assert [c for c in _columns(conn, "entity_daily") if c.startswith("stance_")] == []
        assert conn.execute("SELECT count(stance) FROM article_summary").fetchone() == (0,)
