"""Delivery settings from a file: ``--env-file FILE`` of ``cuttings run``, ``report`` and ``doctor``.

The file holds the ``CUTTINGS_SMTP_*`` settings and ``CUTTINGS_WEBHOOK_URL``, one ``NAME=value``
a line, so a crontab line does not need ``set -a; . FILE`` in sh. Its format is the part that
sh, systemd's ``EnvironmentFile=`` and this reader read alike (``cuttings schedule --systemd``
names the same file as ``EnvironmentFile=``), and anything outside it is refused with the file
name and line number, never the value (it may be a password):

* ``NAME=value``, no spaces around ``=``, no ``export``; blank lines and ``#`` comment lines;
* ``NAME='value'``: everything between single quotes as it is (a value with spaces, ``$``, ``"``, ``#``);
* ``NAME="value"``: double quotes, with ``\\"``, ``\\\\``, ``\\$`` and ``\\``` escapes; an unescaped ``$`` or
  backquote is refused (sh would expand it, systemd would not);
* an unquoted value has no spaces, quotes, backslashes or ``$ ` ; & | < > ( )``, nor a leading ``~``;
* one line per value; each name once; only the delivery settings (a mistyped ``CUTTINGS_SMTP_HOTS``
  gets "did you mean"); Unix line endings;
* no control character but tab anywhere: systemd ends a line at a carriage return (a CRLF line end,
  or one inside a value, splits it) and stops reading at a NUL byte, where sh keeps the one and
  refuses the other; and no UTF-8 byte order mark (systemd reads it as part of the first name, so
  that setting would be lost).

Precedence: a variable already set (non-empty) in the environment wins over the file, as with
python-dotenv and Docker Compose, so ``CUTTINGS_SMTP_TO=me@example.org cuttings report --env-file
FILE --email`` tries the settings on yourself. cron and systemd start without these variables, so
there the file is all there is.

A file that holds ``CUTTINGS_SMTP_PASSWORD`` or ``CUTTINGS_WEBHOOK_URL`` (secrets) and that group
or others may read gets a warning (``chmod 600 FILE``) but is still read. That is laxer than
libpq, which ignores such a ``.pgpass``, and ssh, which refuses such a key: a backup restored with
the wrong mode should not cost a night's digest, and the warning repeats every run (cron mails it)
until the mode is fixed.
"""
from __future__ import annotations

import difflib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import MutableMapping

from cuttings.delivery import SMTP_VARIABLES, WEBHOOK_VARIABLE
from cuttings.errors import CuttingsError

DELIVERY_VARIABLES = (*SMTP_VARIABLES, WEBHOOK_VARIABLE)
SECRET_VARIABLES = ("CUTTINGS_SMTP_PASSWORD", WEBHOOK_VARIABLE)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNQUOTED_REFUSED = set("'\"\\$`;&|<>() \t")
_DOUBLE_ESCAPES = set('"\\$`')


class EnvFileError(CuttingsError):
    """The env file cannot be read or has a malformed line (the message names the file and line, never a value)."""


@dataclass(frozen=True)
class EnvFile:
    """The settings of an env file (:func:`read_env_file`)."""
    path: Path
    values: dict[str, str] = field(repr=False)  # may hold secrets
    mode: int = 0o600

    def exposure(self) -> str | None:
        """A warning when the file holds a secret and group or others may read it, else None."""
        secrets = [name for name in SECRET_VARIABLES if self.values.get(name)]
        readers = readable_by_others(self.mode)
        if not secrets or not readers:
            return None
        return f"{self.path} holds {' and '.join(secrets)} and can be read by {readers}: chmod 600 {self.path}"

    def apply(self, environ: MutableMapping[str, str] | None = None) -> list[str]:
        """Set the file's variables in ``environ`` (default ``os.environ``) except those already set
        to a non-empty value there (the environment wins); returns the names the environment kept."""
        environ = os.environ if environ is None else environ
        kept = [name for name in self.values if environ.get(name)]
        for name, value in self.values.items():
            if name not in kept:
                environ[name] = value
        return kept

    def merged(self, environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
        """``environ`` with the file applied (a copy: nothing is changed)."""
        merged = dict(os.environ if environ is None else environ)
        self.apply(merged)
        return merged


def readable_by_others(mode: int) -> str | None:
    """"group and others" (or one of them) with the mode, e.g. "group and others (mode 0644)", when a
    file of ``mode`` (``st_mode``) may be read by them, else None: the check for files holding secrets."""
    readers = [who for who, bit in (("group", stat.S_IRGRP), ("others", stat.S_IROTH)) if mode & bit]
    return f"{' and '.join(readers)} (mode {mode & 0o777:04o})" if readers else None


def read_env_file(path: str | os.PathLike) -> EnvFile:
    """Read and check an env file, or :class:`EnvFileError` (one line: the file, the line number, what is wrong)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except OSError as exc:
        raise EnvFileError(f"cannot read the env file {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise EnvFileError(f"{path}, line {line}: not UTF-8 text") from None
    return EnvFile(path, parse_env_text(text, path), mode)


def parse_env_text(text: str, path: str | os.PathLike = "the env file") -> dict[str, str]:
    """``{name: value}`` of the env file text (see the module docstring), or :class:`EnvFileError`."""
    values: dict[str, str] = {}
    first_line: dict[str, int] = {}
    if text.startswith("\ufeff"):
        raise EnvFileError(f"{path}, line 1: starts with a UTF-8 byte order mark, which systemd reads as part of "
                           "the first name: save the file without it (e.g. sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)")
    for number, line in enumerate(text.split("\n"), 1):
        def fail(what: str, number: int = number) -> EnvFileError:
            return EnvFileError(f"{path}, line {number}: {what}")
        if line.endswith("\r"):
            raise fail("ends in a carriage return (Windows line ending): convert the file, e.g. with dos2unix")
        control = next((char for char in line if (ord(char) < 32 and char != "\t") or ord(char) == 127), None)
        if control is not None:   # named by its code point, never shown with the value around it
            raise fail(f"holds the control character U+{ord(control):04X}"
                       + (" (a carriage return: systemd ends the line there, sh does not)" if control == "\r" else
                          " (a NUL byte: systemd stops reading the file there)" if control == "\0" else "")
                       + ": remove it")
        stripped = line.lstrip(" \t")
        if not stripped.strip() or stripped.startswith("#"):
            continue
        if re.match(r"export\s", stripped):
            raise fail("drop 'export': the file holds NAME=value lines (systemd's EnvironmentFile= reads it too)")
        name, equals, rest = stripped.partition("=")
        if not equals or not _NAME.fullmatch(name):
            raise fail("expected NAME=value (a variable name, then = with no spaces around it)")
        if name not in DELIVERY_VARIABLES:
            close = difflib.get_close_matches(name, DELIVERY_VARIABLES, n=1, cutoff=0.8)
            if close or name.startswith(("CUTTINGS_SMTP_", "CUTTINGS_WEBHOOK")):
                raise fail(f"unknown setting {name}" + (f" (did you mean {close[0]}?)" if close else
                                                        f" (known: {', '.join(DELIVERY_VARIABLES)})"))
            raise fail(f"{name} is not a delivery setting: the file holds CUTTINGS_SMTP_* and {WEBHOOK_VARIABLE} "
                       "only (set other variables in the crontab line or the unit)")
        if name in values:
            raise fail(f"{name} is set twice (lines {first_line[name]} and {number})")
        values[name] = _value(rest, fail)
        first_line[name] = number
    return values


def _value(rest: str, fail) -> str:
    """The value after ``NAME=`` (quotes removed), or ``fail(what)`` raised."""
    if rest.startswith("'"):
        end = rest.find("'", 1)
        if end < 0:
            raise fail("the single quote is not closed (a value is on one line)")
        if rest[end + 1:].strip(" \t"):
            raise fail("text after the closing quote")
        return rest[1:end]
    if rest.startswith('"'):
        out, i = [], 1
        while i < len(rest):
            char = rest[i]
            if char == "\\":
                if i + 1 >= len(rest) or rest[i + 1] not in _DOUBLE_ESCAPES:
                    raise fail('only \\" \\\\ \\$ and \\` escapes in double quotes (use single quotes)')
                out.append(rest[i + 1])
                i += 2
                continue
            if char in "$`":
                raise fail("$ and ` in double quotes are expanded by sh, not by systemd: use single quotes")
            if char == '"':
                if rest[i + 1:].strip(" \t"):
                    raise fail("text after the closing quote")
                return "".join(out)
            out.append(char)
            i += 1
        raise fail("the double quote is not closed (a value is on one line)")
    value = rest.rstrip(" \t")
    if _UNQUOTED_REFUSED & set(value) or value.startswith("~"):
        raise fail("put this value in single quotes (it has spaces or characters sh and systemd read differently)")
    return value
