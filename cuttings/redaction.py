"""Secrets out of text: the one redaction function, for logs and for what the store records.

:func:`redact` replaces the values of secret environment variables (``CUTTINGS_SMTP_PASSWORD``
and any ``CUTTINGS_*`` variable whose name says PASSWORD, TOKEN, SECRET, KEY or WEBHOOK),
passwords in URLs (``https://user:pass@host``), token-like query parameters (``token=``,
``access_token=``, ``api_key=``, ``key=``, ``password=``, ``sig=``, ``signature=``,
``X-Amz-Signature=``, ``client_secret=`` ...) and the secret path parts of Slack, Discord,
Teams-style and Telegram webhook URLs with ``[REDACTED]``. ``cuttings.logs`` applies it to every
log record; the store (``cuttings.store.runs``) to the URL and message of every ``crawl_errors``
and ``crawl_notices`` row before it is written. Standard library only: the store may import it.
"""
from __future__ import annotations

import os
import re

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
