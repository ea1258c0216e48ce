"""Database-level maintenance: online backup copies, pruning old rows, VACUUM.

The retention policy (how many days, which disk checks) lives in ``cuttings.maintenance``;
these functions do the SQLite work.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from cuttings.errors import StoreError
from cuttings.store.connection import connect_read_only

_OLD_VERSIONS = """
FROM article_versions v
WHERE v.captured_at < :cutoff
  AND v.body IS NOT NULL
  AND (SELECT count(*) FROM article_versions newer
       WHERE newer.article_id = v.article_id AND newer.version > v.version) >= 2
"""


def integrity_problems(conn: sqlite3.Connection, pragma: str = "integrity_check") -> list[str]:
    """Rows of ``PRAGMA integrity_check`` (or ``quick_check``) other than 'ok'."""
    rows = [row[0] for row in conn.execute(f"PRAGMA {pragma}")]
    return [] if rows == ["ok"] else rows


def foreign_key_problems(db) -> list[tuple]:
    """Rows of ``PRAGMA foreign_key_check``: ``(table, rowid, parent table, foreign key index)`` of each row
    pointing at a missing row; empty when every reference holds. ``db``: a sqlite-utils ``Database`` or a
    plain, possibly read-only, ``sqlite3.Connection``."""
    return [tuple(row) for row in db.execute("PRAGMA foreign_key_check").fetchall()]


def backup_copy(db_path: str | Path, target: str | Path) -> list[str]:
    """Copy the live database at ``db_path`` into ``target`` with SQLite's online backup API (safe
    while a crawl writes) as a self-contained single file; returns the copy's integrity problems
    (empty when it is sound). Raises :class:`StoreError` if SQLite fails."""
    source = connect_read_only(db_path, timeout=30)
    copy = sqlite3.connect(str(target))
    try:
        source.backup(copy, pages=1024)
        copy.execute("PRAGMA journal_mode = DELETE")  # a self-contained single file
        return integrity_problems(copy)
    except sqlite3.Error as exc:
        raise StoreError(f"backup of {db_path} failed: {exc}") from None
    finally:
        source.close()
        copy.close()


def prune_version_bodies(db: Database, cutoff: str, *, dry_run: bool = False) -> tuple[int, int, int]:
    """Clear the body of article versions captured before ``cutoff`` that are not among their
    article's two latest versions. Returns (rows, articles, bytes) affected (or that would be)."""
    params = {"cutoff": cutoff}
    row = db.execute("SELECT count(*), count(DISTINCT article_id), coalesce(sum(length(CAST(body AS BLOB))), 0) "
                     + _OLD_VERSIONS, params).fetchone()
    if not dry_run and row[0]:
        with db.atomic():
            db.execute("UPDATE article_versions SET body = NULL WHERE id IN (SELECT v.id " + _OLD_VERSIONS + ")",
                       params)
    return row[0], row[1], row[2]


def prune_crawl_errors(db: Database, cutoff: str, *, dry_run: bool = False) -> int:
    """Delete ``crawl_errors`` rows created before ``cutoff``; returns how many (or would be)."""
    params = {"cutoff": cutoff}
    rows = db.execute("SELECT count(*) FROM crawl_errors WHERE created_at < :cutoff", params).fetchone()[0]
    if not dry_run and rows:
        with db.atomic():
            db.execute("DELETE FROM crawl_errors WHERE created_at < :cutoff", params)
    return rows


def database_file(db: Database) -> Path:
    """The file behind a connection."""
    return Path(db.execute("PRAGMA database_list").fetchone()[2])


# ANALYZE reads at most about this many rows of each index (SQLite's own advice for PRAGMA optimize), so keeping
# the statistics fresh costs milliseconds at a year's size
ANALYSIS_LIMIT = 1000


def optimize(db: Database) -> None:
    """Keep SQLite's planner statistics (``sqlite_stat1``) fresh, as SQLite advises before a long-used connection
    closes: ``PRAGMA optimize`` runs ANALYZE on the tables this connection's queries used that have no statistics
    yet or have grown much since, each bounded by :data:`ANALYSIS_LIMIT`. Without statistics the planner guesses;
    at a year's size some views' plans were then far slower (entity_daily before m031; docs/benchmarks.md)."""
    db.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
    db.execute("PRAGMA optimize")


def vacuum(db: Database) -> None:
    """Checkpoint the WAL, rebuild the file, checkpoint again."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
