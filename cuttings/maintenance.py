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
import re
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
    the copy and, for a directory with ``keep``, delete all but the newest ``keep`` backups.

    In a directory the copy is ``cuttings-YYYYMMDDTHHMMSSZ.db``, or ``...Z-2.db``, ``-3`` ... when
    a backup of the same second is there already (or being written): a backup never replaces
    another."""
    into_directory = Path(dest).is_dir() or str(dest).endswith(os.sep)
    dest = Path(dest)
    if into_directory:
        paths.output_dir(dest)
        stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
        target, partial = _reserve_backup_name(dest, stamp)
    else:
        if keep is not None:
            raise BackupError("--keep needs DEST to be a directory")
        target = paths.output_file(dest, needs_folder=True)  # a .partial copy renamed into place
        if Path(db_path).resolve() == target.resolve():
            raise BackupError("the backup destination is the database itself")
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
    try:
        problems = store.backup_copy(db_path, partial)
    except store.StoreError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(str(exc)) from None
    except BaseException:  # any other failure, Ctrl-C included: no reserved .partial left behind
        partial.unlink(missing_ok=True)
        raise
    if problems:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {'; '.join(problems[:5])}")
    os.replace(partial, target)
    removed = []
    if into_directory and keep is not None:
        for old in backups_in(dest)[:-keep]:
            try:
                old.unlink()
            except FileNotFoundError:  # another backup's pruning took it first
                continue
            removed.append(old)
    return BackupResult(target, target.stat().st_size, removed)


_BACKUP_NAME = re.compile(re.escape(BACKUP_PREFIX) + r"(\d{8}T\d{6}Z)(?:-(\d+))?\.db")


def _reserve_backup_name(folder: Path, stamp: str) -> tuple[Path, Path]:
    """A backup file name of ``stamp`` that no other backup has, and its ``.partial`` file, created
    empty and exclusively (``O_EXCL``) so that a backup started in the same second by another
    process picks the next name instead of writing over this one. Numbers only go up within a
    second (after the highest there, even if lower ones were pruned), so the names sort by age."""
    taken = [int(match.group(2) or 1) for path in folder.glob(f"{BACKUP_PREFIX}{stamp}*")
             if (match := _BACKUP_NAME.fullmatch(path.name.removesuffix(".partial"))) and match.group(1) == stamp]
    for number in range(max(taken, default=0) + 1, 10_000):
        target = folder / f"{BACKUP_PREFIX}{stamp}{'' if number == 1 else f'-{number}'}.db"
        partial = target.with_name(target.name + ".partial")
        if target.exists():
            continue
        try:
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # the umask's mode, as before
        except FileExistsError:  # being written by another backup (or left by a crashed one)
            continue
        if target.exists():  # finished by another backup between the two checks
            partial.unlink(missing_ok=True)
            continue
        return target, partial
    raise BackupError(f"no free backup file name for {stamp} in {folder}")


def backups_in(folder: str | Path) -> list[Path]:
    """The backups ``backup_database`` wrote in ``folder``, oldest first: by their time stamp, then
    by their number within the same second (``-2``, ``-3`` ...). Other files are left out."""
    found = []
    for path in Path(folder).glob(f"{BACKUP_PREFIX}*.db"):
        match = _BACKUP_NAME.fullmatch(path.name)
        if match:
            found.append(((match.group(1), int(match.group(2) or 1)), path))
    return [path for _key, path in sorted(found)]


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

