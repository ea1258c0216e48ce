"""Backups (online, checked), retention (old revision texts, old crawl errors) and VACUUM."""
from __future__ import annotations

import datetime as dt
import re
import sqlite3
import threading
from pathlib import Path

import pytest

from crawler.revisions import save_article
from cuttings import maintenance, nightly, store
from tests.conftest import invoke_cli, run_cli

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.timezone.utc)


def item(url, body, title="Fire station plan"):
    return {"url": url, "canonical_url": url, "source_id": None, "title": title, "body": body,
            "published_at": "2026-01-01"}


def letters(number):
    """A number spelt in letters (revisions must differ in words, not digits, to count)."""
    return "".join("abcdefghij"[int(d)] for d in str(number))


def make_db(path, versions=5, articles=3):
    """``articles`` articles, the first with ``versions`` material revisions."""
    db = store.connect(path)
    for n in range(articles):
        url = f"https://news.example/story-{n}/"
        revisions = versions if n == 0 else 1
        for v in range(revisions):
            body = " ".join(f"{letters(n)}word{letters(v)}text{letters(i)}" for i in range(200))
            save_article(db, item(url, body), None)
    return db


def set_captured(db, article_id, version, when):
    db.execute("UPDATE article_versions SET captured_at = ? WHERE article_id = ? AND version = ?",
               [when, article_id, version])
    db.conn.commit()


# ----------------------------------------------------------------------------------------------
# backup
# ----------------------------------------------------------------------------------------------

def test_backup_is_a_complete_checked_single_file_while_writes_go_on(tmp_path):
    db = make_db(tmp_path / "live.db")
    stop = threading.Event()

    def writer():
        conn = store.connect(tmp_path / "live.db")
        n = 0
        while not stop.is_set():
            save_article(conn, item(f"https://news.example/live-{n}/", "busy newsroom " * 50 + str(n)), None)
            n += 1
        conn.conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = maintenance.backup_database(tmp_path / "live.db", tmp_path / "backup.db")
    finally:
        stop.set()
        thread.join()
    assert result.path == tmp_path / "backup.db" and result.size_bytes > 0
    assert not (tmp_path / "backup.db-wal").exists() and not (tmp_path / "backup.db.partial").exists()
    copy = sqlite3.connect(tmp_path / "backup.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copied = copy.execute("SELECT count(*) FROM articles").fetchone()[0]
    # a consistent snapshot: every copied article has its version and fingerprint
    assert copy.execute("SELECT count(*) FROM article_versions WHERE version = 1").fetchone()[0] == copied
    assert copy.execute("SELECT count(*) FROM article_fingerprints").fetchone()[0] == copied
    assert copied >= 3
    db.conn.close()


def test_backup_into_directory_keeps_newest(tmp_path):
    make_db(tmp_path / "live.db").conn.close()
    backups = tmp_path / "backups"
    backups.mkdir()
    for day in range(1, 5):
        result = maintenance.backup_database(tmp_path / "live.db", backups, keep=2,
                                             now=dt.datetime(2026, 11, day, tzinfo=dt.timezone.utc))
    assert sorted(p.name for p in backups.iterdir()) == ["cuttings-20261103T000000Z.db",
                                                          "cuttings-20261104T000000Z.db"]
    assert result.removed == [backups / "cuttings-20261102T000000Z.db"]


def test_backups_in_the_same_second_get_their_own_names_and_prune_by_age(tmp_path):
    make_db(tmp_path / "live.db").conn.close()
    backups = tmp_path / "backups"
    backups.mkdir()
    second = dt.datetime(2026, 11, 5, 9, 59, 8, tzinfo=dt.timezone.utc)
    made = [maintenance.backup_database(tmp_path / "live.db", backups, keep=2, now=second) for _ in range(4)]
    assert [r.path.name for r in made] == ["cuttings-20261105T095908Z.db", "cuttings-20261105T095908Z-2.db",
                                           "cuttings-20261105T095908Z-3.db", "cuttings-20261105T095908Z-4.db"]
    assert [[p.name for p in r.removed] for r in made] == [[], [], ["cuttings-20261105T095908Z.db"],
                                                           ["cuttings-20261105T095908Z-2.db"]]
    assert sorted(p.name for p in backups.iterdir()) == ["cuttings-20261105T095908Z-3.db",
                                                          "cuttings-20261105T095908Z-4.db"]
    # the next second's backup is newer than every numbered one of this second
    later = maintenance.backup_database(tmp_path / "live.db", backups, keep=2,
                                        now=second + dt.timedelta(seconds=1))
    assert [p.name for p in later.removed] == ["cuttings-20261105T095908Z-3.db"]
    assert [p.name for p in maintenance.backups_in(backups)] == ["cuttings-20261105T095908Z-4.db",
                                                                 "cuttings-20261105T095909Z.db"]


def test_backup_never_writes_over_one_in_progress_and_prunes_only_backups(tmp_path):
    make_db(tmp_path / "live.db").conn.close()
    backups = tmp_path / "backups"
    backups.mkdir()
    in_progress = backups / "cuttings-20261105T095908Z.db.partial"
    in_progress.write_bytes(b"another process is writing this")
    (backups / "cuttings-notes.db").write_text("not a backup")
    now = dt.datetime(2026, 11, 5, 9, 59, 8, tzinfo=dt.timezone.utc)
    result = maintenance.backup_database(tmp_path / "live.db", backups, keep=1, now=now)
    assert result.path.name == "cuttings-20261105T095908Z-2.db" and result.removed == []
    assert in_progress.read_bytes() == b"another process is writing this"
    assert (backups / "cuttings-notes.db").read_text() == "not a backup"


def test_concurrent_backups_in_one_second_keep_every_copy(tmp_path):
    make_db(tmp_path / "live.db").conn.close()
    backups = tmp_path / "backups"
    backups.mkdir()
    now = dt.datetime(2026, 11, 5, 9, 59, 8, tzinfo=dt.timezone.utc)
    results, errors = [], []

    def backup():
        try:
            results.append(maintenance.backup_database(tmp_path / "live.db", backups, now=now))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=backup) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    names = sorted(r.path.name for r in results)
    assert len(set(names)) == 4 and sorted(p.name for p in backups.iterdir()) == names
    for path in backups.iterdir():
        copy = sqlite3.connect(path)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM articles").fetchone()[0] == 3
        copy.close()


def test_backup_of_corrupt_database_fails_and_leaves_nothing(tmp_path):
    path = tmp_path / "live.db"
    db = make_db(path, articles=40)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    page_size = 4096
    data = bytearray(path.read_bytes())
    assert len(data) > 12 * page_size
    for page in range(4, len(data) // page_size - 1, 3):  # scribble over b-tree pages, keep the header
        data[page * page_size + 8: page * page_size + 200] = b"\xff" * 192
    path.write_bytes(bytes(data))
    with pytest.raises(maintenance.BackupError):
        maintenance.backup_database(path, tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists() and not (tmp_path / "copy.db.partial").exists()


def test_backup_cli(tmp_path):
    make_db(tmp_path / "live.db").conn.close()
    result = invoke_cli("--db", str(tmp_path / "live.db"), "db", "backup", str(tmp_path / "b") + "/", "--keep", "3")
    assert result.returncode == 0, result.stderr.decode()
    assert "integrity ok" in result.stdout.decode()
    (copy,) = (tmp_path / "b").glob("cuttings-*.db")
    assert store.table_counts(store.connect(copy, create=False)) == store.table_counts(
        store.connect(tmp_path / "live.db", create=False))
    for _ in range(3):  # in the same second or not, each run writes its own file and says which
        again = invoke_cli("--db", str(tmp_path / "live.db"), "db", "backup", str(tmp_path / "b") + "/", "--keep", "2")
        assert again.returncode == 0, again.stderr.decode()
    reported = re.findall(r"backup: (\S+) ", again.stdout.decode())
    assert [Path(p).name for p in reported] == [maintenance.backups_in(tmp_path / "b")[-1].name]
    assert len(list((tmp_path / "b").glob("cuttings-*.db"))) == 2
    missing = invoke_cli("--db", str(tmp_path / "none.db"), "db", "backup", str(tmp_path / "c.db"))
    assert missing.returncode == 1 and "database not found" in missing.stderr.decode()


# ----------------------------------------------------------------------------------------------
# prune
# ----------------------------------------------------------------------------------------------

def test_prune_versions_keeps_latest_two_and_recent(tmp_path):
    db = make_db(tmp_path / "p.db", versions=5)
    story = db.execute("SELECT id FROM articles WHERE canonical_url LIKE '%story-0/'").fetchone()[0]
    for version in (1, 2, 3, 4):
        set_captured(db, story, version, "2024-01-01T00:00:00Z")  # old
    set_captured(db, story, 5, "2026-11-20T00:00:00Z")
    other = db.execute("SELECT id FROM articles WHERE canonical_url LIKE '%story-1/'").fetchone()[0]
    set_captured(db, other, 1, "2020-01-01T00:00:00Z")  # old but its only version

    dry = maintenance.prune_versions(db, 365, dry_run=True, now=NOW)
    assert (dry.rows, dry.articles) == (3, 1) and dry.bytes > 3 * 1000
    assert db.execute("SELECT count(*) FROM article_versions WHERE body IS NULL").fetchone()[0] == 0

    done = maintenance.prune_versions(db, 365, now=NOW)
    assert (done.rows, done.bytes) == (dry.rows, dry.bytes)
    pruned = [r[0] for r in db.execute("SELECT version FROM article_versions WHERE body IS NULL AND article_id = ? "
                                       "ORDER BY version", [story])]
    assert pruned == [1, 2, 3]
    kept = db.execute("SELECT title, diff_summary FROM article_versions WHERE article_id = ? AND version = 1",
                      [story]).fetchone()
    assert kept[0] == "Fire station plan" and kept[1] == "first seen"
    assert db.execute("SELECT body FROM articles WHERE id = ?", [story]).fetchone()[0]  # current text untouched
    assert maintenance.prune_versions(db, 365, now=NOW).rows == 0  # idempotent
    # nothing is old enough at 3000 days
    assert maintenance.prune_versions(db, 3000, dry_run=True, now=NOW).rows == 0


def test_prune_errors(tmp_path):
    db = store.connect(tmp_path / "e.db")
    run_id = store.start_run(db, "crawl")
    for created in ("2025-01-01T00:00:00Z", "2026-06-01T00:00:00Z", "2026-11-23T00:00:00Z"):
        db.execute("INSERT INTO crawl_errors (crawl_run_id, kind, message, created_at) VALUES (?, 'http', 'x', ?)",
                   [run_id, created])
    db.conn.commit()
    assert maintenance.prune_errors(db, 90, dry_run=True, now=NOW).rows == 2
    assert db.execute("SELECT count(*) FROM crawl_errors").fetchone()[0] == 3
    assert maintenance.prune_errors(db, 90, now=NOW).rows == 2
    assert [r[0] for r in db.execute("SELECT created_at FROM crawl_errors")] == ["2026-11-23T00:00:00Z"]


def test_prune_cli_dry_run_then_real(tmp_path):
    path = tmp_path / "p.db"
    db = make_db(path, versions=4)
    db.execute("UPDATE article_versions SET captured_at = '2020-01-01T00:00:00Z'")
    db.conn.commit()
    db.conn.close()
    dry = invoke_cli("--db", str(path), "db", "prune", "--keep-versions-days", "30", "--keep-errors-days", "30",
                     "--dry-run")
    assert dry.returncode == 0, dry.stderr.decode()
    assert "would drop the text of 2 old versions of 1 article" in dry.stdout.decode()
    real = invoke_cli("--db", str(path), "db", "prune", "--keep-versions-days", "30")
    assert "dropped the text of 2 old versions" in real.stdout.decode()
    nothing = invoke_cli("--db", str(path), "db", "prune")
    assert nothing.returncode == 1 and "nothing to prune" in nothing.stderr.decode()


# ----------------------------------------------------------------------------------------------
# vacuum
# ----------------------------------------------------------------------------------------------

def test_vacuum_gives_space_back(tmp_path):
    path = tmp_path / "v.db"
    db = make_db(path, versions=30)
    db.execute("UPDATE article_versions SET captured_at = '2020-01-01T00:00:00Z'")
    db.conn.commit()
    pruned = maintenance.prune_versions(db, 30)
    db.conn.close()
    assert pruned.rows == 28 and pruned.bytes > 50_000
    before = maintenance.database_bytes(path)
    result = run_cli("--db", str(path), "db", "vacuum")
    assert result.returncode == 0, result.stderr.decode()
    # the space of the bodies pruned comes back (not a share of the file: the schema, about 90 pages of views and
    # indexes, grows with the migrations; m031's entity_daily took "under 0.7 of the file" to exactly 0.7, and m032's label
    # views would have tipped it again)
    assert before - maintenance.database_bytes(path) >= 0.8 * pruned.bytes
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_vacuum_waits_for_no_run(tmp_path):
    path = tmp_path / "v.db"
    make_db(path).conn.close()
    with nightly.RunLock(path):
        result = run_cli("--db", str(path), "db", "vacuum")
    assert result.returncode == nightly.EXIT_ALREADY_RUNNING
    assert "in progress" in result.stderr.decode()
