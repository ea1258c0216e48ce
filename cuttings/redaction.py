"""Secrets out of text: the one redaction function, for logs and for what the store records.

:func:`redact` replaces the values of secret environment variables (``CUTTINGS_SMTP_PASSWORD``
and any ``CUTTINGS_*`` variable whose name says PASSWORD, TOKEN, SECRET, KEY or WEBHOOK),
passwords in URLs (``https://user:pass@host``), token-like query parameters (``token=``,
``access_token=``, ``api_key=``, ``key=``, ``password=``, ``sig=``, ``signature=``,
``X-Amz-Signature=``, ``client_secret=`` ...) and the secret path parts of Slack, Discord,
Teams-style and Telegram webhook URLs with ``[REDACTED]``. ``cuttings.logs`` applies it to every
log record; the store (``cuttings.store.runs``) to the URL and message of every ``crawl_errors``
and ``crawl_notices`` row before it is written. Standard library only: the store may import it.

:func:`strip_controls` takes out of crawled text the control characters and the invisible format
characters (zero-width space, word joiner, byte-order mark, bidirectional marks, soft hyphen; the
zero-width joiners except between two non-ASCII characters) that have no place in what is stored or
shown (:data:`CONTROL_CHARS`): the crawler's ``CleanTextPipeline`` applies it to article fields and the
canonical URL, the store to error and notice messages and reject reasons.

:func:`formula_like` tells whether a spreadsheet could read a text cell as a formula: the one test of
both CSV guards (``cuttings export``'s and Datasette's, :mod:`cuttings.datasette_csv_guard`).
"""
from __future__ import annotations

import os
import re
import unicodedata

REDACTED = "[REDACTED]"

_SECRET_ENV_NAME = re.compile(r"^CUTTINGS_.*(PASSWORD|TOKEN|SECRET|KEY|WEBHOOK)", re.I)
# Linear by construction: a match may start only where a run of scheme characters starts (the
# look-behind), so a long letter run (a 100 KB crawled title) is scanned once, not from each of its
# positions (which was quadratic). The scheme part takes the whole run ("1https://" as well as
# "https://"), so every password the unanchored ``[a-z][a-z0-9+.-]*://`` found is still found.
_URL_USERINFO = re.compile(
    r"(?<![a-z0-9+.-])(?P<scheme>[a-z0-9+.-]+://)(?P<user>[^/@:\s]*):(?P<password>[^/@\s]+)@", re.I)
# A query (or fragment) parameter whose name is, or ends in "_"/"-"/"." and, a secret's name:
# token, access_token, refresh_token, api_key, key, client_secret, password, sig, X-Amz-Signature ...
_TOKEN_PARAM = re.compile(
    r"(?P<key>[?&;#](?:[\w.-]*[_.-])?(?:token|api_?key|key|secret|password|passwd|pwd|sig|signature|auth|code"
    r"|credential|session|sessionid|jwt))="
    r"(?P<value>[^&#;\s\"'<>]*[^&#;\s\"'<>:,)])", re.I)  # not the ":", "," or ")" of the sentence after it
_WEBHOOK_PATHS = [
    re.compile(r"(?P<keep>hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s\"'<>]+", re.I),
    re.compile(r"(?P<keep>discord(?:app)?\.com/api/webhooks/\d+/)[^\s\"'<>/?]+", re.I),
    re.compile(r"(?P<keep>\.webhook\.office\.com/webhookb2/)[^\s\"'<>]+", re.I),
    re.compile(r"(?P<keep>api\.telegram\.org/bot)[^\s\"'<>/]+", re.I),
]


# C0 controls but tab, newline and carriage return; DEL; C1 (U+0080-U+009F: U+009B is a
# terminal's CSI, like ESC "["); the bidirectional embedding, override and isolate controls
# (U+202A-U+202E, U+2066-U+2069) that reorder what a terminal or a browser shows.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
# Invisible format characters, which English local news has no use for and which hide inside a word
# ("HW\u200bFRS" is no longer HWFRS to search, entity matching or a reader comparing names): soft
# hyphen (U+00AD), Arabic letter mark (U+061C), Mongolian vowel separator (U+180E), zero-width space
# (U+200B), the left-to-right and right-to-left marks (U+200E, U+200F: right-to-left letters lay
# themselves out without them), word joiner and invisible operators (U+2060-U+2064), deprecated
# format controls (U+206A-U+206F), a byte-order mark inside text (U+FEFF), interlinear annotation
# (U+FFF9-U+FFFB). Tag characters (U+E0020-U+E007F) are kept: they spell the England, Scotland
# and Wales flag emoji.
_INVISIBLE = "\u00ad\u061c\u180e\u200b\u200e\u200f\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb"
# The zero-width non-joiner and joiner (U+200C, U+200D) are kept between two non-ASCII characters,
# where text needs them (a Persian or Indic word, an emoji sequence such as a family or a rainbow
# flag), and stripped next to an ASCII character or at either end, where they only hide.
_JOINERS = "\u200c\u200d"
CONTROL_CHARS = re.compile(f"[{_CONTROLS}{_INVISIBLE}]|(?<![^\\x00-\\x7f])[{_JOINERS}]|[{_JOINERS}](?![^\\x00-\\x7f])")


def strip_controls(text: str) -> str:
    """``text`` without :data:`CONTROL_CHARS` (controls and invisible format characters)."""
    return CONTROL_CHARS.sub("", text)


def secret_values(environ: dict[str, str] | None = None) -> list[str]:
    """Values of the environment variables that hold secrets (longest first, 4+ characters)."""
    environ = os.environ if environ is None else environ
    values = {value for name, value in environ.items() if _SECRET_ENV_NAME.match(name) and len(value) >= 4}
    return sorted(values, key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with secret values, URL passwords, token parameters and webhook secrets replaced."""
    for value in secret_values() if secrets is None else secrets:
        text = text.replace(value, REDACTED)
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    text = _TOKEN_PARAM.sub(lambda m: f"{m['key']}={REDACTED}", text)
    for pattern in _WEBHOOK_PATHS:
        text = pattern.sub(lambda m: m["keep"] + REDACTED, text)
    return text


# What a spreadsheet reads as the start of a formula (OWASP's CSV injection list): = + - @, and a cell
# starting with a tab or a carriage return.
FORMULA_START = ("=", "+", "-", "@")


def _skip_blank(text: str) -> str:
    """``text`` past its leading whitespace and invisible format characters (Unicode category Cf: zero-width
    space and joiners, word joiner, byte-order mark, soft hyphen, bidi marks)."""
    index = 0
    while index < len(text) and (text[index].isspace() or unicodedata.category(text[index]) == "Cf"):
        index += 1
    return text[index:]


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could run text ``text`` as a formula: it starts with a tab or a carriage return,
    or, past leading whitespace and invisible format characters and NFKC-normalised (so the fullwidth
    ``＝＋－＠``, U+FF1D, U+FF0B, U+FF0D, U+FF20, and the small ``﹦﹢﹣﹫`` count as ``= + - @``), with
    ``=``, ``+``, ``-`` or ``@``. Erring towards yes costs an apostrophe; erring towards no runs a formula."""
    if not text:
        return False
    if text[0] in "\t\r":
        return True
    head = _skip_blank(unicodedata.normalize("NFKC", _skip_blank(text)[:8]))
    return head.startswith(FORMULA_START)
