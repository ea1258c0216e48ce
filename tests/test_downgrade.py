"""A database a newer cuttings upgraded (migrations this code does not know) is refused for writing
in one line, with nothing changed: older code would re-analyse every article at its own version and
write under views it does not know (the upgrade-day audit: d44327d's `run` on main's database)."""
from __future__ import annotations

import sqlite3

import pytest

from cuttings import store
from cuttings.doctor import doctor_checks
from tests.conftest import invoke_cli

NEWER = ("m900_from_a_newer_cuttings", "m901_also_newer")


def upgraded_by_newer(path):
    """A real database of this version, then stamped with two migrations only a later version has."""
    db = store.connect(path)
    for name in NEWER:
        db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('cuttings', ?, 'now')",
                   [name])
    db.conn.commit()
    db.conn.close()


def snapshot(path):
    conn = sqlite3.connect(path)
    try:
        return (conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0],
                conn.execute("SELECT group_concat(name) FROM sqlite_master").fetchone()[0])
    finally:
        conn.close()


def test_store_refuses_a_database_of_a_newer_cuttings(tmp_path):
    path = tmp_path / "d.db"
    upgraded_by_newer(path)
    before = snapshot(path)
    with pytest.raises(store.NewerDatabase) as raised:
        store.connect(path)
    message = str(raised.value)
    assert "\n" not in message and "newer cuttings" in message and "m900_from_a_newer_cuttings" in message
    assert "restore the backup" in message and "nothing was changed" in message
    assert snapshot(path) == before
    assert store.unknown_migrations(sqlite3.connect(path)) == list(NEWER)


def test_store_opens_its_own_and_older_databases(tmp_path):
    path = tmp_path / "d.db"
    db = store.connect(path)
    assert store.unknown_migrations(db) == []
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm026_one_speaker_one_name'")   # an older database
    db.conn.commit()
    db.conn.close()
    assert store.unknown_migrations(store.connect(path)) == []


def test_cli_command_that_writes_exits_1_in_one_line(tmp_path):
    path = tmp_path / "d.db"
    upgraded_by_newer(path)
    before = snapshot(path)
    result = invoke_cli("--db", str(path), "analyse")
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert len(err.strip().splitlines()) == 1 and "newer cuttings" in err and "Traceback" not in err
    assert snapshot(path) == before


def test_doctor_says_the_database_is_newer(tmp_path):
    path = tmp_path / "d.db"
    upgraded_by_newer(path)
    check = {c.name: c for c in doctor_checks(path, include_config=False)}["migrations"]
    assert check.status == "error" and "newer cuttings" in check.message
    assert all(name in check.message for name in NEWER) and "backup" in check.fix


def test_doctor_says_the_next_run_reads_every_article_again_after_an_upgrade(tmp_path, monkeypatch):
    """Before the first night on a new version, doctor says how many stored articles the next run analyses
    again and what changed (an ok line: expected, not a problem); nothing once they are analysed."""
    from crawler.dedupe import SyndicationIndex
    from crawler.revisions import save_article
    from cuttings import doctor, stages
    from tests.test_store import _item

    path = tmp_path / "d.db"
    db = store.connect(path)
    index = SyndicationIndex()
    ids = [save_article(db, _item(url=f"http://a.example/news/{n}", canonical_url=f"http://a.example/news/{n}"),
                        None, index)[1] for n in range(3)]
    for article_id in ids:
        content_hash = db.execute("SELECT content_hash FROM articles WHERE id = ?", [article_id]).fetchone()[0]
        store.mark_processed(db, article_id, "analyse", "eb91ed74f6df-rules-11-quotes-15", content_hash)
    db.conn.commit()
    current = type("A", (), {"version": "bb98f13f178d-rules-13-quotes-23"})()
    monkeypatch.setattr(stages, "load_analyser", lambda path=None: current)
    [check] = doctor.check_reanalysis(path)
    assert check.status == "ok" and "the next run analyses 3 stored articles again" in check.message
    assert "quote extractor (quotes-15 -> quotes-23)" in check.message and "labels and quote corrections" in check.message
    for article_id in ids:
        content_hash = db.execute("SELECT content_hash FROM articles WHERE id = ?", [article_id]).fetchone()[0]
        store.mark_processed(db, article_id, "analyse", current.version, content_hash)
    db.conn.commit()
    assert doctor.check_reanalysis(path) == []


def test_a_migration_main_renamed_is_no_newer_cuttings(tmp_path):
    """Databases built while main named a migration otherwise (m018_speaker_names_by_outlets before it became
    m017 on 2026-12-06) hold that name: known to this code, so they open and upgrade."""
    path = tmp_path / "d.db"
    db = store.connect(path)
    db.execute("UPDATE _sqlite_migrations SET name = 'm018_speaker_names_by_outlets' "
               "WHERE name = 'm017_speaker_names_by_outlets'")
    db.conn.commit()
    db.conn.close()
    assert store.unknown_migrations(store.connect(path)) == []
    assert set(store.RENAMED_MIGRATIONS.values()) <= {m.name for m in store.migrations.pending(store.Database(memory=True))}
