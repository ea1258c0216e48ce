"""Opening the database, and the transactions every writer in the store uses."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from cuttings.errors import DatabaseNotFound, NewerDatabase, NotCuttingsDatabase, StorageError, StoreError
from cuttings.store.schema import migrations

REPO_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = REPO_DIR / "data"
DEFAULT_DB = DATA_DIR / "cuttings.db"

__all__ = ["REPO_DIR", "DATA_DIR", "DEFAULT_DB", "StoreError", "StorageError", "is_storage_error", "DatabaseNotFound", "NewerDatabase", "utcnow", "clock", "default_db_path", "connect", "connect_read_only",
           "table_counts", "table_names_of", "check_is_cuttings_database", "transaction", "atomic", "begin", "commit", "rollback", "migrations", "migration_status", "unknown_migrations", "RENAMED_MIGRATIONS",
           "refuse_newer_database", "Database"]


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
        raise DatabaseNotFound(f"database not found: {path}", path)
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
            try:
                refuse_newer_database(db, path)
            except NewerDatabase:
                conn.close()
                raise
            try:
                migrations.apply(db)
            except (StoreError, ValueError) as exc:   # a migration refusing what it found: one line
                conn.close()
                message = " ".join(str(exc).split())
                raise StoreError(f"cannot upgrade database {path} (it is left as it was): {message}") from None
    except sqlite3.DatabaseError as exc:
        if is_storage_error(exc):
            read_only = not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK))
            raise StorageError(f"storage error: cannot open database {path} for writing: {exc}"
                               + (" (read-only file, directory or filesystem)" if read_only else "")) from None
        raise StoreError(f"cannot open database {path}: {exc}") from None
    return db


STORAGE_ERROR_MARKERS = ("disk is full", "database or disk is full", "readonly database", "read-only",
                         "disk i/o error", "unable to open database", "no space left")


def is_storage_error(exc: BaseException) -> bool:
    """True for SQLite/OS errors meaning the database cannot be written (disk full, read-only,
    I/O error), as opposed to a bug in a query."""
    if isinstance(exc, StorageError):
        return True
    if isinstance(exc, OSError) and exc.errno in (28, 30, 5):  # ENOSPC, EROFS, EIO
        return True
    return isinstance(exc, sqlite3.Error) and any(m in str(exc).lower() for m in STORAGE_ERROR_MARKERS)


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
        tables = _table_names_read_only(path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from None
    if ("articles" in tables and "crawl_runs" in tables) or (not tables and allow_new):
        return
    shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
    raise NotCuttingsDatabase(f"{path} is not a cuttings database"
                              + (f" (it holds other tables: {shown})" if tables else "")
                              + "; cuttings changes nothing in it")


def connect_read_only(path: str | Path, *, timeout: float = 5.0) -> sqlite3.Connection:
    """A plain read-only ``sqlite3`` connection to the database file (``mode=ro``: it reads a WAL another process
    writes, and writes nothing). The path goes in as a ``file:`` URI built by pathlib (``Path.as_uri``), so a
    file name holding ``?``, ``#`` or ``%`` opens that file, not the name cut at that character."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)


def _table_names_read_only(path: Path) -> set[str]:
    """The file's table names, read without writing. Immutable (no -wal/-shm created beside a
    file that may not be ours) unless a -wal file shows a WAL database in use: immutable mode
    ignores the WAL, so a database another process is writing would look empty or malformed;
    then a plain read-only connection, which reads the WAL (issue 14)."""
    uri = path.resolve().as_uri()
    if path.with_name(path.name + "-wal").exists():
        try:
            return _table_names(sqlite3.connect(f"{uri}?mode=ro", uri=True))
        except sqlite3.OperationalError:
            pass  # read-only folder without a -shm file: fall back to what the main file holds
    return _table_names(sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True))


def _table_names(conn: sqlite3.Connection) -> set[str]:
    """:func:`table_names_of`, then the connection closed (it was opened for this read)."""
    try:
        return table_names_of(conn)
    finally:
        conn.close()


def table_names_of(db) -> set[str]:
    """The names of the database's tables (``sqlite_master``), leaving the connection open: ``db`` a
    sqlite-utils ``Database`` or a plain, possibly read-only, ``sqlite3.Connection`` (``cuttings doctor``'s
    "is this a cuttings database" probe)."""
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def migration_status(db) -> tuple[list[str], list[str]]:
    """(applied, pending) migration names of this code's set on ``db`` (a sqlite-utils ``Database``
    or a plain, possibly read-only, ``sqlite3.Connection``), read through sqlite-utils' public API."""
    database = db if isinstance(db, Database) else Database(db)
    return ([m.name for m in migrations.applied(database)], [m.name for m in migrations.pending(database)])


# Names main once gave a migration before renumbering it (databases built on those commits hold them): this
# code runs the migration under its new name and must not take them for a newer cuttings's.
RENAMED_MIGRATIONS = {
    "m006_crawl_notices": "m011_crawl_notices",             # e3ba005 .. 1e5e08d (2026-12-05)
    "m008_crawl_notices": "m011_crawl_notices",             # 1e5e08d .. 6c828a7 (2026-12-05)
    "m018_speaker_names_by_outlets": "m017_speaker_names_by_outlets",   # 3ff3fe8 .. 367ab82 (2026-12-06)
}


def unknown_migrations(db) -> list[str]:
    """The migrations applied to ``db`` (this set's, in the order applied) that this code does not know:
    a newer cuttings upgraded the database. Empty for a database of this version or an older one."""
    database = db if isinstance(db, Database) else Database(db)
    known = {m.name for m in migrations.pending(Database(memory=True))} | set(RENAMED_MIGRATIONS)   # this code's
    return [m.name for m in migrations.applied(database) if m.name not in known]


def refuse_newer_database(db, path) -> None:
    """Raise :class:`NewerDatabase` (one line, nothing written) when a newer cuttings upgraded ``db``:
    this code would write analyses, stamps and views the newer schema does not expect (a downgrade)."""
    unknown = unknown_migrations(db)
    if unknown:
        shown = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
        raise NewerDatabase(f"database {path} was upgraded by a newer cuttings (migration{'s' if len(unknown) > 1 else ''} "
                            f"{shown} unknown to this version): install that version again, or restore the "
                            "backup taken before the upgrade (docs/operations.md, \"Upgrading cuttings\"); "
                            "nothing was changed")


def table_counts(db: Database) -> dict[str, int]:
    """Row counts for every table (FTS shadow tables and SQLite's own, such as its statistics, left out)."""
    counts = {}
    for name in db.table_names():
        if name.startswith(("articles_fts", "_", "sqlite_")):
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


def rollback(db: Database) -> None:
    """Roll back the open batch transaction, if any (a storage error lost it)."""
    if db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


def commit(db: Database) -> None:
    """Commit the open batch transaction, if any."""
    if db.conn.in_transaction:
        db.conn.execute("COMMIT")
