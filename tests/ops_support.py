"""Helpers for the operations tests: a served site, a sources file for it, database snapshots."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO

DEMO_SOURCES = REPO / "data" / "demo_sources.toml"


def sources_for(base: str, dest: Path, template: Path = DEMO_SOURCES) -> Path:
    """A sources file with ``{base}`` replaced by the served site's address."""
    dest.write_text(template.read_text(encoding="utf-8").replace("{base}", base), encoding="utf-8")
    return dest


def start_cli(*args: str, env: dict | None = None, log_path: Path | None = None) -> subprocess.Popen:
    """Start `python pipeline.py ARGS` without waiting (output to ``log_path`` or discarded)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("CUTTINGS_DB", "CUTTINGS_MODELS")}
    full_env.update({"PYTHONUNBUFFERED": "1", **(env or {})})
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, str(REPO / "pipeline.py"), *args], stdout=out, stderr=subprocess.STDOUT,
                            env=full_env, cwd=REPO)


def count(db: Path, sql: str, params=()) -> int:
    """One number from the database (0 while the file or table does not exist yet)."""
    if not Path(db).exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def kill_when(process: subprocess.Popen, condition, *, timeout: float = 120, interval: float = 0.02) -> bool:
    """SIGKILL ``process`` as soon as ``condition()`` holds; False if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if condition():
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            return True
        time.sleep(interval)
    process.kill()
    raise AssertionError("condition not reached before the timeout")


def copy_db(source: Path, dest: Path) -> Path:
    """A consistent copy of a database (SQLite backup API)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    dst.close()
    return dest


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def snapshot(db: Path) -> dict:
    """The database's content keyed by canonical URL (row ids differ between runs)."""
    conn = sqlite3.connect(db)
    url = dict(conn.execute("SELECT id, canonical_url FROM articles"))
    groups = {}
    for article_id, parent in conn.execute("SELECT id, duplicate_of FROM articles"):
        story = parent if parent is not None else article_id
        groups.setdefault(url[story], set()).add(url[article_id])
    snap = {
        "articles": sorted(conn.execute(
            "SELECT a.canonical_url, a.content_hash, p.canonical_url, a.title, a.published_at, a.version "
            "FROM articles a LEFT JOIN articles p ON p.id = a.duplicate_of")),
        # Copies published the same day without a time may be linked either way round (see
        # crawler.revisions.published_earlier), so the syndication groups are compared as sets as well.
        "story_groups": sorted(sorted(members) for members in groups.values()),
        "versions": sorted(conn.execute(
            "SELECT a.canonical_url, v.version, v.content_hash FROM article_versions v "
            "JOIN articles a ON a.id = v.article_id")),
        "mentions": sorted(conn.execute(
            "SELECT a.canonical_url, m.entity_id, m.surface, m.start_char, m.end_char, m.method FROM mentions m "
            "JOIN articles a ON a.id = m.article_id")),
        "quotes": sorted(conn.execute(
            "SELECT a.canonical_url, coalesce(q.speaker, ''), coalesce(q.entity_id, ''), q.text, q.start_char "
            "FROM quotes q JOIN articles a ON a.id = q.article_id")),
        "classifications": sorted(conn.execute(
            "SELECT a.canonical_url, c.task, c.target, c.label, round(c.probability, 6), c.uncertain "
            "FROM classifications c JOIN articles a ON a.id = c.article_id")),
        "processing": sorted(conn.execute(
            "SELECT a.canonical_url, p.stage, p.version FROM processing p JOIN articles a ON a.id = p.article_id")),
    }
    conn.close()
    return snap


def duplicate_rows(db: Path) -> dict[str, int]:
    """Rows that repeat another row's identifying columns, per table (all zero when clean)."""
    conn = sqlite3.connect(db)
    checks = {
        "articles": "SELECT count(*) - count(DISTINCT canonical_url) FROM articles",
        "article_versions": "SELECT count(*) - count(DISTINCT article_id || ':' || version) FROM article_versions",
        "mentions": "SELECT count(*) FROM (SELECT 1 FROM mentions GROUP BY article_id, entity_id, start_char, "
                    "end_char HAVING count(*) > 1)",
        "quotes": "SELECT count(*) FROM (SELECT 1 FROM quotes GROUP BY article_id, start_char, end_char "
                  "HAVING count(*) > 1)",
        "classifications": "SELECT count(*) FROM (SELECT 1 FROM classifications GROUP BY article_id, task, "
                           "target, label HAVING count(*) > 1)",
        "fingerprints": "SELECT count(*) - count(DISTINCT article_id) FROM article_fingerprints",
    }
    result = {name: conn.execute(sql).fetchone()[0] for name, sql in checks.items()}
    conn.close()
    return result
