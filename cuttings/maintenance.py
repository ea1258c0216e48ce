"""Backups and retention: online backup with a checked copy, pruning old revision texts and
crawl errors, and VACUUM.

* ``backup_database`` uses SQLite's online backup API (``sqlite3.Connection.backup``), safe
  while a crawl writes, into a temporary file beside the destination, checks the copy with
  ``PRAGMA integrity_check`` and only then renames it into place.
* ``prune_versions`` clears the body of ``article_versions`` rows older than N days,
  except each article's two latest versions (the diff summary and flags stay).
* ``prune_errors`` deletes ``crawl_errors`` rows older than N days (run counts stay).
* ``vacuum_database`` rebuilds the file; it needs free space about the database's size.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from cuttings import paths, store
from cuttings.errors import CuttingsError

BACKUP_PREFIX = "cuttings-"


class BackupError(CuttingsError):
    """The backup could not be made or the copy failed its integrity check."""


class MaintenanceError(CuttingsError):
    """A maintenance step that cannot run (for example not enough free disk)."""


@dataclass
class BackupResult:
    path: Path
    size_bytes: int
    removed: list[Path] = field(default_factory=list)


@dataclass
class PruneResult:
    rows: int
    articles: int = 0
    bytes: int = 0


def cutoff(days: int, now: dt.datetime | None = None) -> str:
    """The ISO-8601 UTC timestamp ``days`` before ``now``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return (now - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def backup_database(db_path: str | Path, dest: str | Path, *, keep: int | None = None,
                    now: dt.datetime | None = None) -> BackupResult:
    """Copy the live database to ``dest`` (a file, or a directory for a timestamped file), check
    the copy and, for a directory with ``keep``, delete all but the newest ``keep`` backups."""
    into_directory = Path(dest).is_dir() or str(dest).endswith(os.sep)
    dest = Path(dest)
    if into_directory:
        paths.output_dir(dest)
        stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
        target = dest / f"{BACKUP_PREFIX}{stamp}.db"
    else:
        if keep is not None:
            raise BackupError("--keep needs DEST to be a directory")
        target = paths.output_file(dest)
    if Path(db_path).resolve() == target.resolve():
        raise BackupError("the backup destination is the database itself")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        problems = store.backup_copy(db_path, partial)
    except store.StoreError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(str(exc)) from None
    if problems:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {'; '.join(problems[:5])}")
    os.replace(partial, target)
    removed = []
    if into_directory and keep is not None:
        backups = sorted(dest.glob(f"{BACKUP_PREFIX}*.db"))
        for old in backups[:-keep]:
            old.unlink()
            removed.append(old)
    return BackupResult(target, target.stat().st_size, removed)


def prune_versions(db, keep_days: int, *, dry_run: bool = False, now: dt.datetime | None = None) -> PruneResult:
    """Clear the body of article versions older than ``keep_days`` that are not among their
    article's two latest versions. The row, its title, diff summary and flags stay."""
    rows, articles, size = store.prune_version_bodies(db, cutoff(keep_days, now), dry_run=dry_run)
    return PruneResult(rows=rows, articles=articles, bytes=size)


def prune_errors(db, keep_days: int, *, dry_run: bool = False, now: dt.datetime | None = None) -> PruneResult:
    """Delete ``crawl_errors`` rows older than ``keep_days``."""
    return PruneResult(rows=store.prune_crawl_errors(db, cutoff(keep_days, now), dry_run=dry_run))


def database_bytes(db_path: str | Path) -> int:
    """Size of the database file plus its WAL."""
    path = Path(db_path)
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def vacuum_database(db) -> tuple[int, int]:
    """Checkpoint the WAL and VACUUM; returns (bytes before, bytes after). Refuses when the disk
    beside the database has less free space than the database's size."""
    path = store.database_file(db)
    before = database_bytes(path)
    free = shutil.disk_usage(path.parent).free
    if free < before * 1.1:
        raise MaintenanceError(f"VACUUM needs about {before / 1e6:.0f} MB free beside {path}; only "
                               f"{free / 1e6:.0f} MB free (prune first, or move the database)")
    store.vacuum(db)
    return before, database_bytes(path)

