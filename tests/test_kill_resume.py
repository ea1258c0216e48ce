"""Crash safety: real runs killed with SIGKILL mid-crawl, mid-analyse, mid-classify and mid-`run`,
then run again to completion, end with the same database as a run never interrupted."""
from __future__ import annotations

import json
import re
import sqlite3

import pytest

from cuttings.demo import serve_directory
from tests.conftest import REPO, run_cli
from tests.ops_support import (copy_db, count, duplicate_rows, integrity, kill_when, snapshot, sources_for,
                               start_cli)

pytestmark = pytest.mark.slow

ARTICLES = "SELECT count(*) FROM articles"


def processed(stage):
    return f"SELECT count(*) FROM processing WHERE stage = '{stage}'"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo site served from this process; a sources file pointing at it."""
    directory = tmp_path_factory.mktemp("site")
    with serve_directory() as base:
        yield sources_for(base, directory / "sources.toml")


@pytest.fixture(scope="module")
def clean(tmp_path_factory, site, trained_models):
    """An uninterrupted crawl, analyse and classify; copies of the database after each stage."""
    directory = tmp_path_factory.mktemp("clean")
    db = directory / "clean.db"
    env = {"CUTTINGS_MODELS": str(trained_models)}
    ok(run_cli("--db", str(db), "crawl", "--sources", str(site), "--no-politeness", "--since", "all"))
    copy_db(db, directory / "crawled.db")
    ok(run_cli("--db", str(db), "analyse"))
    copy_db(db, directory / "analysed.db")
    ok(run_cli("--db", str(db), "classify", env=env))
    return {"db": db, "crawled": directory / "crawled.db", "analysed": directory / "analysed.db",
            "env": env, "articles": count(db, ARTICLES)}


def ok(result):
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return result


def assert_same_as_clean(db, clean_db):
    assert integrity(db) == "ok"
    assert duplicate_rows(db) == dict.fromkeys(duplicate_rows(clean_db), 0)
    resumed, expected = snapshot(db), snapshot(clean_db)
    for key in expected:
        if key == "articles":
            continue
        assert resumed[key] == expected[key], key
    # Same articles, hashes and syndication groups; a same-day pair may point either way round.
    strip = [row[:2] + row[3:] for row in expected["articles"]]
    assert [row[:2] + row[3:] for row in resumed["articles"]] == strip
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


def test_clean_run_is_complete(clean):
    assert clean["articles"] >= 150
    assert count(clean["db"], processed("analyse")) == clean["articles"]
    assert count(clean["db"], processed("classify")) == clean["articles"]
    assert count(clean["db"], "SELECT count(*) FROM mentions") > 100


def test_killed_during_crawl_then_resumed(tmp_path, site, clean):
    db = tmp_path / "k.db"
    process = start_cli("--db", str(db), "crawl", "--sources", str(site), "--no-politeness", "--since", "all")
    assert kill_when(process, lambda: count(db, ARTICLES) >= 30), "crawl finished before it could be killed"
    stored = count(db, ARTICLES)
    assert 30 <= stored < clean["articles"]
    assert integrity(db) == "ok"
    assert count(db, "SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 1  # the killed run
    # every stored article is whole: its first version, fingerprint and crawl state committed with it
    assert count(db, "SELECT count(*) FROM articles a WHERE NOT EXISTS (SELECT 1 FROM article_versions v "
                     "WHERE v.article_id = a.id) OR NOT EXISTS (SELECT 1 FROM article_fingerprints f "
                     "WHERE f.article_id = a.id)") == 0

    ok(run_cli("--db", str(db), "crawl", "--sources", str(site), "--no-politeness", "--since", "all"))
    ok(run_cli("--db", str(db), "analyse"))
    ok(run_cli("--db", str(db), "classify", env=clean["env"]))
    assert_same_as_clean(db, clean["db"])


def test_killed_during_analyse_then_resumed(tmp_path, clean):
    db = copy_db(clean["crawled"], tmp_path / "a.db")
    process = start_cli("--db", str(db), "analyse")
    assert kill_when(process, lambda: count(db, processed("analyse")) >= 5), "analyse finished first"
    done = count(db, processed("analyse"))
    assert 5 <= done < clean["articles"]
    assert integrity(db) == "ok"
    # nothing half-written: every analysed article's mentions are complete, unanalysed ones have none
    assert count(db, "SELECT count(DISTINCT article_id) FROM mentions WHERE article_id NOT IN "
                     "(SELECT article_id FROM processing WHERE stage = 'analyse')") == 0

    ok(run_cli("--db", str(db), "analyse"))
    ok(run_cli("--db", str(db), "classify", env=clean["env"]))
    assert_same_as_clean(db, clean["db"])


def test_killed_during_classify_then_resumed(tmp_path, clean):
    db = copy_db(clean["analysed"], tmp_path / "c.db")
    process = start_cli("--db", str(db), "classify", env=clean["env"])
    assert kill_when(process, lambda: count(db, processed("classify")) >= 1), "classify finished first"
    done = count(db, processed("classify"))
    assert 1 <= done < clean["articles"]
    assert integrity(db) == "ok"
    assert count(db, "SELECT count(DISTINCT article_id) FROM classifications WHERE article_id NOT IN "
                     "(SELECT article_id FROM processing WHERE stage = 'classify')") == 0

    ok(run_cli("--db", str(db), "classify", env=clean["env"]))
    assert_same_as_clean(db, clean["db"])


def test_nightly_run_killed_then_rerun_takes_over_lock_and_finishes(tmp_path, site, clean):
    db = tmp_path / "n.db"
    args = ("--db", str(db), "run", "--sources", str(site), "--no-politeness", "--since", "all",
            "--skip", "report", "--log-file", str(tmp_path / "run.log"))
    process = start_cli(*args, env=clean["env"])
    assert kill_when(process, lambda: count(db, ARTICLES) >= 30), "run finished before it could be killed"
    killed_pid = process.pid
    lock_text = (tmp_path / "n.db.lock").read_text()
    assert json.loads(lock_text)["pid"] == killed_pid  # the dead run's lock file is left behind

    result = ok(run_cli(*args, env=clean["env"]))
    assert "run" in result.stdout.decode()
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT command, status, pid, message FROM crawl_runs ORDER BY id").fetchall()
    conn.close()
    killed = [r for r in rows if r[2] == killed_pid]
    assert {r[0] for r in killed} == {"run", "crawl (run)"}
    assert all(r[1] == "interrupted" and "process died" in r[3] for r in killed)
    assert [r[1] for r in rows if r[0] == "run"] == ["interrupted", "ok"]
    assert_same_as_clean(db, clean["db"])


def test_classify_by_hand_after_killed_analyse(tmp_path, clean):
    db = copy_db(clean["crawled"], tmp_path / "x.db")
    process = start_cli("--db", str(db), "analyse")
    assert kill_when(process, lambda: count(db, processed("analyse")) >= 5), "analyse finished first"
    ok(run_cli("--db", str(db), "classify", env=clean["env"]))
    ok(run_cli("--db", str(db), "analyse"))
    ok(run_cli("--db", str(db), "classify", env=clean["env"]))
    assert snapshot(db)["classifications"] == snapshot(clean["db"])["classifications"]


def documented_recovery() -> tuple[str, list[str]]:
    """The SQL and the command docs/operations.md gives to classify everything again."""
    text = (REPO / "docs" / "operations.md").read_text()
    found = re.search(r'`sqlite3 data/cuttings\.db "([^"]+)"`, then `cuttings ([a-z]+)`', text)
    assert found, "docs/operations.md no longer gives the recovery procedure"
    return found.group(1), [found.group(2)]


def test_documented_recovery_reclassifies_without_duplicates(tmp_path, clean):
    """docs/operations.md's procedure, literally: delete the classify stamps, run classify. The old
    classifications are replaced (they collided with the new: IntegrityError, exit 1, and every later
    `cuttings run` exited 4). The same with the analyse stamps: the mentions and quotes are replaced, not
    doubled, and the nightly run afterwards (which classifies again the articles whose quote links the
    re-analysis refreshed) ends with the database a clean run gives."""
    db = copy_db(clean["db"], tmp_path / "r.db")
    sql, command = documented_recovery()
    assert sql == "DELETE FROM processing WHERE stage = 'classify'"

    def delete_stamps(stage_sql):
        conn = sqlite3.connect(db)
        with conn:
            conn.execute(stage_sql)
        conn.close()

    delete_stamps(sql)
    assert count(db, processed("classify")) == 0
    result = ok(run_cli("--db", str(db), *command, env=clean["env"]))
    assert "Traceback" not in result.stderr.decode()
    assert count(db, processed("classify")) == clean["articles"]
    assert_same_as_clean(db, clean["db"])

    delete_stamps(sql.replace("'classify'", "'analyse'"))
    ok(run_cli("--db", str(db), "analyse"))
    assert count(db, processed("analyse")) == clean["articles"]
    assert duplicate_rows(db) == dict.fromkeys(duplicate_rows(clean["db"]), 0)
    for key in ("mentions", "quotes", "classifications"):
        assert snapshot(db)[key] == snapshot(clean["db"])[key], key

    result = run_cli("--db", str(db), "run", "--skip", "crawl", "--skip", "report",
                     "--log-file", str(tmp_path / "run.log"), env=clean["env"])
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert "IntegrityError" not in (tmp_path / "run.log").read_text()
    assert_same_as_clean(db, clean["db"])
