"""Opening the database, and the transactions every writer in the store uses."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from cuttings.errors import DatabaseNotFound, NotCuttingsDatabase, StoreError
from cuttings.store.schema import migrations

REPO_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = REPO_DIR / "data"
DEFAULT_DB = DATA_DIR / "cuttings.db"

__all__ = ["REPO_DIR", "DATA_DIR", "DEFAULT_DB", "StoreError", "DatabaseNotFound", "utcnow", "clock", "default_db_path", "connect",
           "table_counts", "check_is_cuttings_database", "transaction", "atomic", "begin", "commit", "migrations", "migration_status", "Database"]


_clock: list[str] = []  # a fixed time set by clock(), innermost last


def utcnow() -> str:
    """The current time as an ISO-8601 UTC string, second precision (or the :func:`clock`'s)."""
    if _clock:
        return _clock[-1]
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def clock(at: str):
    """Stamp the writes made inside the block with the time ``at`` (an ISO-8601 UTC string)
    instead of now: for fixtures and for importing history."""
    _clock.append(at)
    try:
        yield
    finally:
        _clock.pop()


def default_db_path() -> Path:
    return Path(os.environ.get("CUTTINGS_DB") or DEFAULT_DB)


def connect(path: str | Path, *, create: bool = True, migrate: bool = True) -> Database:
    """Open (and by default create and migrate) a cuttings database.

    ``create=False`` refuses a missing file with :class:`StoreError` instead of
    creating an empty database, so a mistyped ``--db`` writes nothing.
    """
    path = Path(path)
    if not create and not path.exists():
        raise DatabaseNotFound(f"database not found: {path}")
    if path.exists():
        check_is_cuttings_database(path, allow_new=create)
    if not create and not os.access(path.parent if str(path.parent) else ".", os.W_OK | os.X_OK):
        # Read-only storage (a mounted backup, a read-only share): SQLite cannot create its -shm
        # file beside a WAL database, so read it as immutable; commands that write fail at once.
        return Database(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True))
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of {path}: {exc.strerror}") from None
    try:
        conn = sqlite3.connect(str(path), timeout=30)
        db = Database(conn)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 30000")
        if db.journal_mode != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        if migrate:
            if not create and "articles" not in db.table_names():
                raise StoreError(f"{path} is not a cuttings database")
            migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from None
    return db


SQLITE_HEADER = b"SQLite format 3\x00"


def check_is_cuttings_database(path: Path, *, allow_new: bool) -> None:
    """Refuse, before anything is written (no table, no journal-mode change, no -wal/-shm file), a
    file that is not a cuttings database: an empty (0-byte) file, a file that is not SQLite, or
    another application's SQLite database. ``allow_new``: a SQLite file without any table may
    become one (commands that create databases)."""
    if path.is_dir():
        raise NotCuttingsDatabase(f"{path} is a folder, not a database file")
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if not header:
        raise NotCuttingsDatabase(f"{path} is an empty file (0 bytes), not a cuttings database")
    if header != SQLITE_HEADER:
        raise NotCuttingsDatabase(f"{path} is not a SQLite database (nor a cuttings one)")
    try:
        # immutable: no -wal/-shm files are created beside a file that may not be ours
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from None
    if ("articles" in tables and "crawl_runs" in tables) or (not tables and allow_new):
        return
    shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
    raise NotCuttingsDatabase(f"{path} is not a cuttings database"
                              + (f" (it holds other tables: {shown})" if tables else "")
                              + "; cuttings changes nothing in it")


def migration_status(db) -> tuple[list[str], list[str]]:
    """(applied, pending) migration names of this code's set on ``db`` (a sqlite-utils ``Database``
    or a plain, possibly read-only, ``sqlite3.Connection``), read through sqlite-utils' public API."""
    database = db if isinstance(db, Database) else Database(db)
    return ([m.name for m in migrations.applied(database)], [m.name for m in migrations.pending(database)])


def table_counts(db: Database) -> dict[str, int]:
    """Row counts for every table (FTS shadow tables left out)."""
    counts = {}
    for name in db.table_names():
        if name.startswith("articles_fts") or name.startswith("_"):
            continue
        counts[name] = db.execute(f"SELECT count(*) FROM [{name}]").fetchone()[0]
    return counts


@contextlib.contextmanager
def transaction(db: Database):
    """A transaction, unless the caller already holds one (a stage's batch): then its writes
    join that transaction, without a savepoint per article."""
    if db.conn.in_transaction:
        yield
    else:
        with db.atomic():
            yield


def atomic(db: Database):
    """All or nothing: a transaction, or a savepoint inside the caller's open transaction."""
    return db.atomic()


def begin(db: Database) -> bool:
    """Open a batch transaction unless one is open; True when this call opened it."""
    if db.conn.in_transaction:
        return False
    db.conn.execute("BEGIN")
    return True


def commit(db: Database) -> None:
    """Commit the open batch transaction, if any."""
    if db.conn.in_transaction:
        db.conn.execute("COMMIT")
