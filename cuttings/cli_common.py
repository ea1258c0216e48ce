"""Shared pieces of the command line: database option, errors, progress display.

Conventions (as sqlite-utils): user mistakes raise ``click.ClickException`` (one
line, exit 1, no traceback); the library's own errors (``cuttings.errors.CuttingsError``,
``nlp.errors.NlpError``) are turned into one such line by :class:`CuttingsGroup`, with the
hint that fits the command line; every command's help ends with an example; long work
shows a rich progress bar on a terminal and nothing when output is piped.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cuttings import paths, store
from cuttings.errors import CuttingsError, DatabaseNotFound, NotCuttingsDatabase
from nlp.errors import NlpError

err_console = Console(stderr=True)

USER_ERRORS = (CuttingsError, NlpError)


def user_message(exc: Exception) -> str:
    """One line for a library error, with what to do next when the command line knows it."""
    from cuttings.stages import ModelsMissing

    message = str(exc)
    if isinstance(exc, DatabaseNotFound):
        return f"{message} ({_database_hint(exc)})"
    if isinstance(exc, NotCuttingsDatabase):
        return f"{message}: pass a cuttings database with --db"
    if isinstance(exc, ModelsMissing):
        from cuttings.stages import train_hint
        return f"{message}: {train_hint()}"
    return message


def _database_hint(exc: DatabaseNotFound) -> str:
    """What to do about a missing database: after `cuttings demo` (which writes ``demo.db`` in the home
    folder, not the default ``cuttings.db``), the command again with the demo's database."""
    import shlex

    from cuttings import paths

    demo = paths.demo_db()
    missing = Path(exc.path) if exc.path is not None else None
    if demo.is_file() and (missing is None or missing.resolve() != demo.resolve()):
        command = " ".join(_command_words()) or "COMMAND"
        return (f"the demo's database is {demo}: cuttings --db {shlex.quote(str(demo))} {command}; "
                "`cuttings crawl` or `cuttings run` fills this one")
    return f"run `cuttings crawl` or `cuttings run` first, or pass --db; `cuttings demo` writes its own, {demo}"


def _command_words() -> list[str]:
    """The (sub)command being run, without the program name: ``["db", "stats"]``."""
    ctx = click.get_current_context(silent=True)
    words = []
    while ctx is not None and ctx.parent is not None:
        words.append(ctx.info_name)
        ctx = ctx.parent
    return [word for word in reversed(words) if word]


class CuttingsGroup(click.Group):
    """A click group whose commands may let library errors through: each becomes one line on
    stderr and exit status 1 (``click.ClickException``), never a traceback. A database that
    cannot be written because the disk is full (or an I/O error) ends with one line and exit
    status 5 (``EXIT_STORAGE``, docs/operations.md); read-only storage is exit 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if is_disk_storage_error(exc):
                text = str(exc) if str(exc).startswith("storage error") else f"storage error: {exc}"
                if "run again" not in text:
                    text += " (free space, then run again)"
                err_console.print(f"Error: {text}", markup=False, highlight=False, soft_wrap=True)
                ctx.exit(EXIT_STORAGE)
            _raise_one_line(exc)


def is_disk_storage_error(exc: BaseException) -> bool:
    """A storage error that is not read-only storage: disk full, I/O error."""
    return store.is_storage_error(exc) and not is_read_only_error(exc)


def is_read_only_error(exc: BaseException) -> bool:
    import errno
    text = str(exc).lower()
    return (isinstance(exc, OSError) and exc.errno == errno.EROFS) or "readonly" in text or "read-only" in text \
        or "unable to open" in text


def _raise_one_line(exc: Exception):
    import errno
    import sqlite3
    if isinstance(exc, store.StorageError):  # read-only storage, found when opening the database
        raise click.ClickException(f"cannot write the database: {exc} (read-only file or folder? "
                                   "`cuttings doctor` checks)") from None
    if isinstance(exc, USER_ERRORS):
        raise click.ClickException(user_message(exc)) from None
    if isinstance(exc, sqlite3.OperationalError):  # read-only storage: one line, exit 1 (docs/operations.md)
        if "readonly" not in str(exc) and "unable to open" not in str(exc):
            raise exc
        raise click.ClickException(f"cannot write the database: {exc} (read-only file or folder? "
                                   "`cuttings doctor` checks)") from None
    if isinstance(exc, PermissionError):
        raise click.ClickException(f"cannot write {exc.filename or 'a file'}: permission denied") from None
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        raise click.ClickException(f"cannot write {exc.filename or 'a file'}: read-only file system") from None
    raise exc


class CuttingsContext:
    """What the group passes to every command: the database path."""

    def __init__(self, db_path: Path):
        self.db_path = db_path

    def open_db(self, *, create: bool = False):
        """Open the database. ``create=False`` (reading commands) refuses a missing file."""
        try:
            return store.connect(self.db_path, create=create)
        except store.StorageError:
            raise  # CuttingsGroup: one line, exit 5 (disk full) or 1 (read-only)
        except store.StoreError as exc:
            raise click.ClickException(user_message(exc)) from None


pass_context = click.make_pass_decorator(CuttingsContext)

EXIT_STORAGE = 5  # as cuttings.nightly.EXIT_STORAGE


def show_progress() -> bool:
    return sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(description: str, total: int | None):
    """Yield an ``advance(n=1, step=None)`` callable; a rich bar on a terminal, silent otherwise.
    ``step``: what is being done now, shown after the description (long steps of few units)."""
    if not show_progress() or (total is not None and total == 0):
        yield lambda n=1, step=None: None
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True) as progress:
        task = progress.add_task(description, total=total)

        def advance(n: int = 1, step: str | None = None) -> None:
            # The description column reads rich markup: a step's text is escaped ("[" in a task name).
            progress.update(task, advance=n, **({"description": f"{description}: {escape(step)}"} if step else {}))
            if step:
                progress.refresh()  # a new step shows at once (steps are few and long)
        yield advance


SCHEME_HELP = ("Label scheme [default: label_scheme.toml in the home folder, else the packaged one]: what "
               "`cuttings doctor --scheme` checks.")
WATCHLIST_HELP = "Watchlist file [default: watchlist.toml in the home folder, else the packaged one]."


def _choose_scheme(ctx, param, value):
    paths.choose_config_file("label_scheme.toml", value)
    return value


#: ``--scheme FILE`` for a command that reads the label scheme: the command (and every library call it
#: makes) reads FILE where it would read the home folder's label_scheme.toml (``paths.choose_config_file``).
scheme_option = click.option("--scheme", "scheme_path", type=click.Path(dir_okay=False, path_type=Path),
                             default=None, expose_value=False, callback=_choose_scheme, help=SCHEME_HELP,
                             is_eager=True)   # before the arguments that read the scheme (`evaluate TASK`)


def _choose_watchlist(ctx, param, value):
    paths.choose_config_file("watchlist.toml", value)
    return value


#: ``--watchlist FILE`` for a command whose library calls read the watchlist deep down (``evaluate``), as
#: :data:`scheme_option`; the other commands pass their ``--watchlist`` to ``stages.load_analyser``.
watchlist_option = click.option("--watchlist", type=click.Path(dir_okay=False, path_type=Path), default=None,
                                expose_value=False, callback=_choose_watchlist, help=WATCHLIST_HELP)


def check_label_scheme() -> dict:
    """The label scheme's tasks (``--scheme``, else the home folder's, else the packaged one), read before a
    command writes anything: a scheme that does not parse is one line naming the file, and exit 1
    (``LabellingError``), never the packaged scheme in its place."""
    from cuttings.labelling import load_label_tasks
    return load_label_tasks()


def fail(message: str) -> None:
    raise click.ClickException(message)


def validate_since(ctx, param, value):
    """click callback for ``--since``: ``all``, or an ISO date/datetime normalised to UTC."""
    if value in (None, "all"):
        return value
    import datetime as dt
    import re

    from crawler.discovery import iso_utc
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", text):
        try:  # a calendar check: 2026-02-30 has the right shape but is no date
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise click.BadParameter(f"not a date: {value!r} ({exc})") from None
    normalised = iso_utc(value)
    if normalised is None:
        raise click.BadParameter(f"not an ISO date or datetime: {value!r} (e.g. 2026-11-01)")
    return normalised
