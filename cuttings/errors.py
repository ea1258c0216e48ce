"""The project's exceptions: one base class, typed subclasses.

Library code raises these with a message that says what is wrong and where (a path, a line,
a value), never what to type next: the command line (``pipeline.py``) turns every
:class:`CuttingsError` into one line on stderr and a non-zero exit, adding the hint that fits
the command (sqlite-utils' pattern). ``nlp`` imports nothing of the rest of the project, so its
errors derive from :class:`nlp.errors.NlpError`, which the command line catches beside this one.
"""
from __future__ import annotations


class CuttingsError(Exception):
    """Base class of every error a user can fix (bad input, missing file, wrong state)."""


class StoreError(CuttingsError):
    """A problem with the database a user can fix (missing file, not a cuttings database)."""


class StorageError(StoreError):
    """The database cannot be written (disk full, read-only file or directory, I/O error).
    The command line prints one line and exits with code 5 (``EXIT_STORAGE``)."""


class DatabaseNotFound(StoreError):
    """The database file does not exist (and the caller asked not to create it); ``path``: that file."""

    def __init__(self, message: str, path=None):
        super().__init__(message)
        self.path = path


class NotCuttingsDatabase(StoreError):
    """The file given as the database is not one of cuttings' (empty, not SQLite, or another
    application's database); it was left untouched."""


class NewerDatabase(StoreError):
    """The database was upgraded by a newer cuttings: it holds migrations this code does not know,
    so this code must not write to it (a downgrade); nothing was changed."""


class OutputPathError(CuttingsError):
    """An output file or folder that cannot be written (its parent is a file, or read-only);
    the message names the path."""


class Interrupted(Exception):
    """SIGTERM arrived (``cuttings run``'s handler raises it wherever the run is): stop after the article
    in hand. Not a :class:`CuttingsError`, and never one article's failure: the analyse stage, which
    records an article the analyser raises on and goes on, lets it through."""
