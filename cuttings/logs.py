"""Logging for unattended runs: a rotating log file plus the terminal, secrets redacted.

``setup_logging`` attaches two handlers to the root logger (so Scrapy's and the
library's records reach both), each carrying a :class:`RedactingFilter`, and
installs a record factory that redacts every record as it is made (so handlers
other libraries add are covered too). Redacted: the values of secret environment
variables (``CUTTINGS_SMTP_PASSWORD`` and any ``CUTTINGS_*`` variable whose name
says PASSWORD, TOKEN, SECRET, KEY or WEBHOOK), passwords in URLs
(``https://user:pass@host``), token-like query parameters and the secret path
parts of Slack, Discord and Teams-style webhook URLs.
"""
from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from cuttings import paths
# The one redaction function (also used by the store on crawl_errors/crawl_notices): re-exported here.
from cuttings.redaction import REDACTED, redact, secret_values  # noqa: F401

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
def redact_record(record: logging.LogRecord) -> None:
    """Replace the record's message (merged with its arguments), traceback and stack text by
    their redacted versions."""
    secrets = secret_values()
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed call: redact the parts as they are
        message = f"{record.msg} {record.args}"
    record.msg = redact(message, secrets)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text, secrets)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, secrets)


class RedactingFilter(logging.Filter):
    """Rewrite each record's message (and its traceback text) with secrets redacted.

    Attach it to handlers: a handler filter sees records from every logger that
    propagates to it, a logger filter only that logger's own records.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def _some_handler_takes(record: logging.LogRecord) -> bool:
    """Whether a handler on the record's way up the logger tree (or ``logging.lastResort`` when
    there is none) takes its level: a record no handler will emit (Scrapy's DEBUG records, the
    ``scrapy`` logger being at DEBUG while the handlers are at INFO) is not worth redacting, and
    redacting a crawled page's text costs time on the crawl's main thread."""
    logger: logging.Logger | None = logging.getLogger(record.name)
    found = False
    while logger is not None:
        for handler in logger.handlers:
            found = True
            if record.levelno >= handler.level:
                return True
        logger = logger.parent if logger.propagate else None
    last_resort = logging.lastResort
    return not found and (last_resort is None or record.levelno >= last_resort.level)


def install_record_redaction() -> None:
    """Redact every log record as it is created, so handlers other libraries install (Scrapy
    adds its own root handler during a crawl) never see a secret either."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacting", False):
        return

    def redacting_factory(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        if _some_handler_takes(record):
            redact_record(record)
        return record

    redacting_factory.redacting = True
    logging.setLogRecordFactory(redacting_factory)


class _ConsoleFilter(logging.Filter):
    """The terminal gets the project's own records at ``level`` and nothing from other libraries
    (Scrapy, Twisted, ...: their records, tracebacks included, go to the log file);
    records logged with ``extra={"file_only": True}`` (messages the command line prints
    itself) go to the log file alone, so the terminal shows them once."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "file_only", False):
            return False
        own = record.name == "cuttings" or record.name.startswith(("cuttings.", "nlp.", "crawler."))
        return own and record.levelno >= self.level


class _ConsoleFormatter(logging.Formatter):
    """``LEVEL: message`` on one line: tracebacks go to the log file only."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().strip().splitlines()
        return f"{record.levelname}: {message[0] if message else ''}"


_installed: list[logging.Handler] = []


def ensure_logging(log_file: str | Path | None = None) -> None:
    """``setup_logging`` unless it already ran (commands that crawl outside ``cuttings run``)."""
    if not _installed:
        setup_logging(log_file)


def setup_logging(log_file: str | Path | None = None, *, console_level: int = logging.INFO,
                  file_level: int = logging.INFO, max_bytes: int = 5_000_000, backup_count: int = 10,
                  stream=None) -> Path:
    """Log to a rotating file (default ``logs/cuttings.log`` in the home folder) and to stderr; returns the file path.

    Calling it again replaces the handlers it installed before (tests run several jobs in one process).
    """
    path = paths.output_file(log_file if log_file else paths.log_file(), needs_folder=True)  # rotation renames
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()

    redacting = RedactingFilter()
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backup_count,
                                                        encoding="utf-8")
    file_handler.setLevel(file_level)
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z"))
    file_handler.addFilter(redacting)

    console = logging.StreamHandler(stream or sys.stderr)
    console.setLevel(console_level)
    console.setFormatter(_ConsoleFormatter())
    console.addFilter(_ConsoleFilter(console_level))
    console.addFilter(redacting)

    for handler in (file_handler, console):
        root.addHandler(handler)
        _installed.append(handler)
    install_record_redaction()
    root.setLevel(min(file_level, console_level))
    logging.getLogger("cuttings").setLevel(logging.INFO)
    return path
