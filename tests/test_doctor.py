"""`cuttings doctor` and `doctor_checks`: each problem found, named, and given a fix."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
import json
import subprocess
import sys

import pytest

from cuttings import store
from cuttings.doctor import doctor_checks
from tests.conftest import REPO, invoke_cli, run_cli
from tests.ops_support import sources_for

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.timezone.utc)


def by_name(checks):
    return {c.name: c for c in checks}


def checks_for(db_path, **kwargs):
    return doctor_checks(db_path, include_config=False, now=NOW, **kwargs)


def add_run(db, started_at, status="ok", command="run", pid=None):
    run_id = db.execute("INSERT INTO crawl_runs (command, started_at, status, pid) VALUES (?, ?, ?, ?)",
                        [command, started_at, status, pid]).lastrowid
    db.conn.commit()
    return run_id


def add_source_run(db, run_id, source_id, new, errors=0, warning=None):
    db.execute("INSERT OR IGNORE INTO sources (id, name) VALUES (?, ?)", [source_id, source_id])
    db.execute("INSERT INTO source_runs (crawl_run_id, source_id, articles_new, articles_stored, errors, warning) "
               "VALUES (?, ?, ?, ?, ?, ?)", [run_id, source_id, new, new, errors, warning])
    db.conn.commit()


def test_missing_database(tmp_path):
    checks = by_name(checks_for(tmp_path / "none.db"))
    assert checks["database"].status == "error" and "does not exist" in checks["database"].message
    assert not (tmp_path / "none.db").exists()


def test_fresh_database_has_integrity_but_no_run(tmp_path):
    store.connect(tmp_path / "d.db").conn.close()
    checks = by_name(checks_for(tmp_path / "d.db"))
    assert checks["quick_check"].status == "ok" and "integrity_check" not in checks
    full = by_name(checks_for(tmp_path / "d.db", full=True))
    assert full["integrity_check"].status == "ok" and full["quick_check"].status == "ok"
    assert checks["migrations"].status == "ok"
    assert checks["last run"].status == "warning" and "no successful run" in checks["last run"].message
    assert "cuttings run" in checks["last run"].fix


def _recording_database_checks(monkeypatch) -> list:
    """The PRAGMAs doctor's database checks run, in their order (store.integrity_problems and
    store.foreign_key_problems recorded, then run)."""
    ran = []
    integrity, foreign = store.integrity_problems, store.foreign_key_problems
    monkeypatch.setattr(store, "integrity_problems", lambda conn, pragma="integrity_check": ran.append(pragma)
                        or integrity(conn, pragma))
    monkeypatch.setattr(store, "foreign_key_problems", lambda db: ran.append("foreign_key_check") or foreign(db))
    return ran


def test_the_everyday_doctor_runs_quick_check_and_the_foreign_keys_not_integrity_check(tmp_path, monkeypatch):
    """integrity_check (every index compared with its table: 1.5-1.7 s of CPU at 50,000 stories) is --full's;
    every day doctor runs quick_check (every page and record) and foreign_key_check, and says quick_check's
    line only."""
    store.connect(tmp_path / "d.db").conn.close()
    ran = _recording_database_checks(monkeypatch)
    checks = checks_for(tmp_path / "d.db")
    assert ran == ["quick_check", "foreign_key_check"]
    assert [(c.name, c.status, c.message) for c in checks[:1]] == [("quick_check", "ok", "ok")]
    assert "integrity_check" not in by_name(checks)


def test_a_sound_file_is_read_once_for_both_integrity_lines_with_full(tmp_path, monkeypatch):
    """--full: integrity_check makes every check quick_check makes: on a sound file quick_check is not run (the
    file is read once, not twice), and both lines say ok, in their order; the foreign keys are checked too."""
    store.connect(tmp_path / "d.db").conn.close()
    ran = _recording_database_checks(monkeypatch)
    checks = checks_for(tmp_path / "d.db", full=True)
    assert ran == ["integrity_check", "foreign_key_check"]
    assert [(c.name, c.status, c.message) for c in checks[:2]] == [("quick_check", "ok", "ok"),
                                                                     ("integrity_check", "ok", "ok")]


def test_an_index_that_no_longer_matches_its_table_is_integrity_checks_error_not_quick_checks(tmp_path):
    """When integrity_check finds a problem, quick_check is run too and says what it finds: here nothing (it does
    not compare an index with its table), so each line says what its own check found, as before. The everyday
    doctor, which runs quick_check alone, does not see it: --full's reason to be."""
    import sqlite3

    path = tmp_path / "d.db"
    db = store.connect(path)
    db.execute("INSERT INTO sources (id, name) VALUES ('s', 'S'), ('t', 'T')")
    db.conn.commit()
    db.conn.close()
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE extra (x TEXT)")
    raw.execute("CREATE INDEX idx_extra ON extra(x)")
    raw.executemany("INSERT INTO extra VALUES (?)", [("a",), ("b",)])
    raw.commit()
    raw.execute("PRAGMA writable_schema = ON")   # the index's definition no longer what its rows were written by
    raw.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX idx_extra ON extra(upper(x))' WHERE name = 'idx_extra'")
    raw.commit()
    raw.close()
    checks = by_name(checks_for(path, full=True))
    assert checks["quick_check"].status == "ok"
    assert checks["integrity_check"].status == "error" and "missing from index idx_extra" in \
        checks["integrity_check"].message
    assert "backup" in checks["integrity_check"].fix
    everyday = by_name(checks_for(path))
    assert everyday["quick_check"].status == "ok" and "integrity_check" not in everyday


@pytest.mark.parametrize("hours,status", [(10, "ok"), (35, "ok"), (40, "warning")])
def test_age_of_last_successful_run(tmp_path, hours, status):
    db = store.connect(tmp_path / "d.db")
    add_run(db, (NOW - dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    add_run(db, (NOW - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), status="failed")  # not a success
    check = by_name(checks_for(tmp_path / "d.db"))["last run"]
    assert check.status == status, check
    assert f"{hours} h ago" in check.message
    latest = by_name(checks_for(tmp_path / "d.db"))["latest run"]
    assert latest.status == "warning" and "failed" in latest.message


def test_sources_that_stopped_yielding_or_fail(tmp_path):
    db = store.connect(tmp_path / "d.db")
    yields = {"stopped": [4, 6, 0, 0, 0], "never": [0, 0, 0, 0, 0], "steady": [3, 0, 2, 0, 1],
              "recent-gap": [5, 5, 5, 0, 0]}
    for n in range(5):
        run_id = add_run(db, f"2026-11-{19 + n}T02:30:00Z", command="crawl (run)")
        for source, series in yields.items():
            add_source_run(db, run_id, source, series[n])
        add_source_run(db, run_id, "broken", 0 if n == 4 else 2, errors=7 if n == 4 else 0,
                       warning="discovery dropped: 0 article URLs found against a recent mean of 12" if n == 4
                       else None)
    checks = by_name(checks_for(tmp_path / "d.db"))
    assert checks["sources yielding"].status == "warning"
    assert "stopped" in checks["sources yielding"].message
    # a source no run ever stored an article from is named too (it used to pass in silence)
    assert checks["sources never yielding"].message == "no article stored in any of their runs: never"
    assert checks["sources never yielding"].status == "warning"
    for fine in ("never", "steady", "recent-gap"):
        assert fine not in checks["sources yielding"].message
    assert "broken (7 errors)" in checks["sources failing"].message
    assert "discovery dropped" in checks["source health"].message and checks["source health"].fix


def test_healthy_sources_are_ok(tmp_path):
    db = store.connect(tmp_path / "d.db")
    for n in range(4):
        run_id = add_run(db, f"2026-11-{20 + n}T02:30:00Z")
        add_source_run(db, run_id, "a", 2)
    checks = by_name(checks_for(tmp_path / "d.db"))
    assert checks["sources yielding"].status == "ok"
    assert "sources failing" not in checks and "source health" not in checks


def test_source_yield_counts_the_sources_it_checked():
    """Configured sources without runs are not counted as checked; sources the database has runs
    of (a demo crawled with its own sources) are checked even when not configured."""
    import sqlite3

    from cuttings import doctor
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.execute("CREATE TABLE source_runs (crawl_run_id INTEGER, source_id TEXT, articles_new INTEGER, "
                 "articles_stored INTEGER, errors INTEGER, warning TEXT)")
    for run in (1, 2):
        conn.execute("INSERT INTO source_runs VALUES (?, 'demo-outlet', 3, 3, 0, NULL)", [run])
    [check] = doctor.check_source_yield(conn, ["configured-a", "configured-b"])
    assert check.status == "ok"
    assert check.message == "1 source with runs checked; 2 configured sources not crawled yet"
    conn.execute("INSERT INTO source_runs VALUES (3, 'demo-outlet', 0, 0, 4, NULL)")
    names = {c.name: c.message for c in doctor.check_source_yield(conn, ["configured-a"])}
    assert names["sources failing"] == "latest run got only errors: demo-outlet (4 errors)"


def test_stale_running_rows(tmp_path):
    db = store.connect(tmp_path / "d.db")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    add_run(db, "2026-11-24T02:30:00Z", status="running", pid=dead.pid)
    check = by_name(checks_for(tmp_path / "d.db"))["stale runs"]
    assert check.status == "warning" and "process is gone" in check.message


def test_pending_migration(tmp_path):
    db = store.connect(tmp_path / "d.db")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm002_views'")
    db.conn.commit()
    check = by_name(checks_for(tmp_path / "d.db"))["migrations"]
    assert check.status == "warning" and "m002_views" in check.message and "back up" in check.fix


@pytest.mark.parametrize("full", [False, True])
def test_corrupt_database(tmp_path, full):
    """A file whose pages were overwritten is an error with and without --full (quick_check reads every page)."""
    path = tmp_path / "d.db"
    db = store.connect(path)
    run_id = add_run(db, "2026-11-24T02:30:00Z")
    for n in range(300):
        db.execute("INSERT INTO crawl_errors (crawl_run_id, kind, message, created_at) VALUES (?, 'x', ?, 'now')",
                   [run_id, "error text " * 40 + str(n)])
    db.conn.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    data = bytearray(path.read_bytes())
    for page in range(5, len(data) // 4096 - 1, 4):
        data[page * 4096 + 8: page * 4096 + 100] = b"\x07" * 92
    path.write_bytes(bytes(data))
    checks = checks_for(path, full=full)
    errors = [c for c in checks if c.status == "error"]
    assert errors and {c.name for c in errors} & {"integrity_check", "quick_check", "database"}
    assert all("backup" in c.fix for c in errors)
    assert full or "integrity_check" not in by_name(checks)


def test_rows_pointing_at_missing_rows_and_another_applications_database(tmp_path):
    """A row whose article is gone (written with foreign keys off): a warning naming the table, the rest
    of the checks still run; a SQLite file without the articles table is no cuttings database. Neither
    file is changed."""
    import sqlite3

    path = tmp_path / "d.db"
    store.connect(path).conn.close()
    raw = sqlite3.connect(path)
    raw.execute("INSERT INTO processing (article_id, stage, version, content_hash, processed_at) "
                "VALUES (404, 'analyse', 'w1', 'h', '2026-11-24T02:00:00Z')")
    raw.commit()
    raw.close()
    before = path.read_bytes()
    checks = by_name(checks_for(path))
    assert checks["foreign keys"].status == "warning"
    assert checks["foreign keys"].message == "1 row points at missing rows (first in table processing)"
    assert checks["quick_check"].status == "ok" and "last run" in checks
    other = tmp_path / "other.db"
    raw = sqlite3.connect(other)
    raw.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    raw.commit()
    raw.close()
    other_before = other.read_bytes()
    checks = [c for c in checks_for(other) if c.name not in ("disk", "writable")]
    assert [(c.name, c.status, c.message) for c in checks] == [
        ("database", "error", f"{other} is not a cuttings database")]
    assert path.read_bytes() == before and other.read_bytes() == other_before


def test_disk_space(tmp_path):
    store.connect(tmp_path / "d.db").conn.close()
    check = by_name(checks_for(tmp_path / "d.db", min_free_bytes=10 ** 18))["disk"]
    assert check.status == "error" and "GB free" in check.message


def test_cli_reports_problems_with_fixes_and_exit_1(tmp_path):
    bad = tmp_path / "sources.toml"
    bad.write_text("[[source]]\nid = 'x'\nname = 'X'\nhome = 'nope'\n")
    result = invoke_cli("--db", str(tmp_path / "none.db"), "doctor", "--sources", str(bad),
                        "--models", str(tmp_path / "no-models"))
    out = result.stdout.decode()
    assert result.returncode == 1, result.stderr.decode()
    assert "[FAIL] sources:" in out and "not an http(s) URL" in out
    assert "[FAIL] database:" in out and "[WARN] models:" in out and "cuttings train" in out
    assert out.count("fix:") >= 3 and "Traceback" not in result.stderr.decode()
    as_json = json.loads(invoke_cli("--db", str(tmp_path / "none.db"), "doctor", "--json", "--sources",
                                    str(bad)).stdout)
    assert {"name", "status", "message", "fix"} <= set(as_json[0])


def test_cli_full_adds_integrity_check_to_the_json_and_keeps_its_shape_and_exit(tmp_path):
    """`doctor --json` lists the checks made: integrity_check with --full only; every entry has the same keys, and
    the exit status follows --fail-on either way."""
    store.connect(tmp_path / "d.db").conn.close()
    runs = {}
    for options in ((), ("--full",)):
        result = invoke_cli("--db", str(tmp_path / "d.db"), "doctor", "--json", *options,
                            "--models", str(tmp_path / "no-models"))
        runs[options] = result.returncode, json.loads(result.stdout)
    (code, everyday), (full_code, full) = runs[()], runs[("--full",)]
    assert code == full_code == 1   # no run yet, no models: warnings
    assert {entry["name"] for entry in full} - {entry["name"] for entry in everyday} == {"integrity_check"}
    assert {entry["name"] for entry in everyday} - {entry["name"] for entry in full} == set()
    keys = {"name", "status", "message", "fix", "about", "acknowledged", "model"}
    assert all(set(entry) == keys for entry in everyday + full)
    quick = [entry for entry in everyday if entry["name"] == "quick_check"]
    assert [entry["status"] for entry in quick] == ["ok"]
    errors_only = invoke_cli("--db", str(tmp_path / "d.db"), "doctor", "--full", "--fail-on", "error",
                             "--models", str(tmp_path / "no-models"))
    assert errors_only.returncode == 0 and "[ok  ] integrity_check: ok" in errors_only.stdout.decode()


@pytest.mark.slow
def test_cli_healthy_install_exits_0(tmp_path, trained_models):
    db = store.connect(tmp_path / "d.db")
    run_id = add_run(db, store.utcnow())
    add_source_run(db, run_id, "severn-valley-echo", 3)
    db.conn.close()
    sources = sources_for("http://127.0.0.1:8000", tmp_path / "sources.toml")
    result = run_cli("--db", str(tmp_path / "d.db"), "doctor", "--sources", str(sources),
                     "--models", str(trained_models), cwd=REPO)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    out = result.stdout.decode()
    assert out.strip().endswith("healthy") and "[ok  ] models:" in out and "[ok  ] watchlist:" in out


@pytest.mark.slow
def test_models_trained_on_another_analysers_reading_are_a_warning(tmp_path, trained_models):
    """Tone learns from the analyser's mentions and quotes: models trained under another watchlist
    (another analyser version) load, but doctor says to retrain; under the same one all is well."""
    import shutil

    from cuttings.doctor import check_models
    assert check_models(trained_models).status == "ok"
    other = tmp_path / "watchlist.toml"
    text = (REPO / "data" / "watchlist.toml").read_text(encoding="utf-8")
    other.write_text(text.replace('aliases = [', 'aliases = ["Hereford Fire Brigade Trust", ', 1), encoding="utf-8")
    copied = tmp_path / "models"
    shutil.copytree(trained_models, copied)
    check = check_models(copied, other)
    assert check.status == "warning" and "learnt from analyser" in check.message
    assert "cuttings train" in check.fix


@pytest.mark.slow
def test_a_label_scheme_changed_since_training_is_an_error_or_a_warning(tmp_path, trained_models):
    """Models keep predicting the labels they learnt: a scheme edited since (a stance label renamed: an
    error, classify refuses them; cue words changed: a warning) makes doctor say to retrain; the scheme
    they were trained on is ok."""
    from cuttings.doctor import check_models
    packaged = (REPO / "data" / "label_scheme.toml").read_text(encoding="utf-8")
    assert check_models(trained_models, scheme_path=REPO / "data" / "label_scheme.toml").status == "ok"
    edited = tmp_path / "label_scheme.toml"
    edited.write_text(packaged.replace('"against"', '"oppose"').replace("{ against =", "{ oppose ="), encoding="utf-8")
    from nlp.scheme import load_scheme
    assert "oppose" in load_scheme(edited).tasks["stance_governance"].labels   # the edited scheme parses
    check = check_models(trained_models, scheme_path=edited)
    assert check.status == "error", check.message   # classify refuses them: they would store `against`
    assert "stance_governance predicts against, which the scheme does not have" in check.message
    assert "cuttings train" in check.fix
    # the team names its topics' own cue words after training: the model still counts the old ones
    cued = tmp_path / "cued.toml"
    cued.write_text(packaged.replace('exclusive = "other"', 'exclusive = "other"\ncues = { finance = ["budget"] }', 1),
                    encoding="utf-8")
    assert load_scheme(cued).tasks["topics"].cues == (("finance", ("budget",)),)
    check = check_models(trained_models, scheme_path=cued)
    assert check.status == "warning" and "the cue words of topics differ from the ones its model learnt from" in check.message


def test_source_fixes_name_the_sources_file_read(tmp_path):
    """The fix for a source that stopped or never yielded names the sources file doctor read (it said
    data/sources.toml, which an installed user does not have)."""
    sources = tmp_path / "my sources.toml"
    sources.write_text((REPO / "data" / "sources.toml").read_text(encoding="utf-8"), encoding="utf-8")
    from cuttings.config import load_sources
    source_id = load_sources(sources).sources[0].id
    db = store.connect(tmp_path / "d.db")
    for n in range(3):
        add_source_run(db, add_run(db, f"2026-11-{20 + n}T02:30:00Z", command="crawl (run)"), source_id, 0)
    db.conn.commit()
    result = invoke_cli("--db", str(tmp_path / "d.db"), "doctor", "--json", "--sources", str(sources))
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["sources never yielding"]["fix"] == (f"check the feeds/sections/selectors in {sources} "
                                                       "(`cuttings sources check` reads them)")
    assert "data/sources.toml" not in result.stdout.decode()


def test_an_installed_user_is_sent_to_the_files_and_guides_they_have(tmp_path, monkeypatch):
    """Without a copy in the home folder, an installed cuttings reads the packaged sources file, which is no
    file to edit: the fix names the copy `cuttings init` writes. The scheme's guide is classifiers.md."""
    from cuttings import doctor, paths
    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path))
    monkeypatch.setattr(paths, "source_checkout", lambda: None)
    assert doctor.sources_to_edit() == (f"{tmp_path / 'sources.toml'} (`cuttings init` writes it, a copy of the "
                                        "packaged default, which cuttings then reads)")
    (tmp_path / "sources.toml").write_text("", encoding="utf-8")
    assert doctor.sources_to_edit() == str(tmp_path / "sources.toml")
    assert doctor.sources_to_edit(tmp_path / "x.toml") == str(tmp_path / "x.toml")
    bad = tmp_path / "label_scheme.toml"
    bad.write_text("[[task]]\nname = 3\n", encoding="utf-8")
    check = doctor.check_scheme(bad)
    assert check.status == "error" and paths.doc("classifiers.md") in check.fix
    assert "## Label scheme as data" in Path(paths.doc("classifiers.md")).read_text(encoding="utf-8")


def test_doctor_says_whom_the_crawler_names_as_its_contact(tmp_path):
    """Site owners read the user agent's contact: doctor says when it is still the project's page,
    and names the team's own once [crawl] contact_url is set."""
    store.connect(tmp_path / "d.db").conn.commit()
    text = (REPO / "data" / "sources.toml").read_text(encoding="utf-8")
    shipped = tmp_path / "shipped.toml"
    shipped.write_text(text, encoding="utf-8")
    own = tmp_path / "own.toml"
    own.write_text(text.replace('contact_url = "https://github.com/cuttings-news/cuttings"',
                                'contact_url = "mailto:press@example.gov.uk"'), encoding="utf-8")
    shipped_check = by_name(doctor_checks(tmp_path / "d.db", sources_path=shipped))["sources"]
    own_check = by_name(doctor_checks(tmp_path / "d.db", sources_path=own))["sources"]
    assert shipped_check.status == own_check.status == "ok"
    assert "set [crawl] contact_url to your team's page" in shipped_check.message
    assert own_check.message.endswith("the crawler names mailto:press@example.gov.uk as its contact")


@pytest.mark.parametrize("name", ["odd#name.db", "what?.db", "100%.db"])
def test_a_database_whose_file_name_holds_uri_characters_is_checked_and_backed_up(tmp_path, name):
    """doctor and backup open the file read-only through a file: URI (store.connect_read_only): a name holding
    '#', '?' or '%' is that file, not the name cut there (before, doctor found no database to read and the
    backup failed)."""
    db = store.connect(tmp_path / name)
    db.execute("INSERT INTO sources (id, name) VALUES ('s', 'S')")
    db.conn.commit()
    db.conn.close()
    checks = by_name(checks_for(tmp_path / name, full=True))
    assert checks["integrity_check"].status == "ok" and checks["quick_check"].status == "ok"
    assert not [c for c in checks.values() if c.status == "error"], [c.message for c in checks.values()]
    copy = tmp_path / "copy.db"
    assert store.backup_copy(tmp_path / name, copy) == []
    assert store.connect(copy, create=False).execute("SELECT id FROM sources").fetchall() == [("s",)]
    with store.connect_read_only(tmp_path / name) as conn:
        assert conn.execute("SELECT name FROM sources").fetchall() == [("S",)]
