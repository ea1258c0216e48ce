"""Redaction on hostile text: a crawled 1 MB letter run is redacted in one pass (the URL-password
pattern starts only where a run of scheme characters starts), with the same redactions as before;
log records no handler emits are not redacted at all; Scrapy's "Scraped from" record is not made."""
from __future__ import annotations

import logging
import re

import pytest

from cuttings import logs, redaction
from cuttings.redaction import REDACTED, redact

# The pattern before the fix: retried ``[a-z][a-z0-9+.-]*://`` from every position of a letter run.
UNANCHORED = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/@:\s]*):(?P<password>[^/@\s]+)@", re.I)

SAMPLES = [
    "smtp://user:pa55word@mail.example.org",
    "HTTP 404 for https://user:pa55-5ecret@feeds.example/x and more",
    "(see HTTPS://Admin:Hunter2@Example.ORG/path) and ftp://a:b@c, git+ssh://git:t0k@host/repo",
    "1https://u:p@h 'https://u:p@h' x.y-z+w://u:p@h -https://u:p@h",
    "https://u@host/no-password https://host/a:b@c http://:only-pass@host",
    "feed at https://feeds.example/news/feed.xml?token=tok-5ecret&page=2 and webhook "
    "https://hooks.slack.com/services/T000/B000/XXXX",
    "aaaaaaaaaaaaaaaaaaaa https://u:p@h aaaaaaaaaaaaaaaa://u:p@h https://u:p@h:https://v:q@i",
    "mailto:someone@example.org is not a URL password, nor is user:pass@host without a scheme",
]


def _unanchored_sub(text: str) -> str:
    return UNANCHORED.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)


@pytest.mark.parametrize("text", SAMPLES)
def test_url_passwords_redacted_as_by_the_unanchored_pattern(text):
    anchored = redaction._URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    assert anchored == _unanchored_sub(text)


def test_url_password_pattern_starts_only_at_the_start_of_a_scheme_run():
    """Linear by construction: a match may begin only where the look-behind finds no scheme
    character before it, so each run of letters is scanned from its start alone."""
    pattern = redaction._URL_USERINFO.pattern
    assert pattern.startswith("(?<![a-z0-9+.-])(?P<scheme>[a-z0-9+.-]+://)")
    may_start = re.compile(r"(?<![a-z0-9+.-])(?=[a-z0-9+.-])", re.I)
    assert [m.start() for m in may_start.finditer("a" * 1000)] == [0]  # one start, not one per letter
    assert [m.start() for m in may_start.finditer("ab1.c def://x")] == [0, 6, 12]


def test_a_one_megabyte_title_is_redacted_in_one_pass():
    letters = "a" * 1_000_000
    assert redact(letters, []) == letters
    text = f"{letters} https://u:s3cret@example.org/ {letters}?token=abc&x=1 {letters}"
    redacted = redact(text, [])
    assert "s3cret" not in redacted and "abc" not in redacted.replace(letters, "")
    assert redacted == text.replace("s3cret", REDACTED).replace("token=abc", f"token={REDACTED}")


@pytest.fixture
def record_factory():
    """The process's record factory, restored after the test (install_record_redaction wraps it)."""
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def test_records_no_handler_emits_are_not_redacted(tmp_path, monkeypatch, record_factory):
    monkeypatch.setenv("CUTTINGS_SMTP_PASSWORD", "correct-horse-battery")
    logs.setup_logging(tmp_path / "c.log", stream=open(tmp_path / "console.txt", "w"))  # handlers at INFO
    logger = logging.getLogger("scrapy.core.scraper.test")
    logger.setLevel(logging.DEBUG)
    made = []

    class Keep(logging.Filter):
        def filter(self, record):
            made.append(record.msg)
            return True

    logger.addFilter(Keep())
    root = logging.getLogger()
    others = [h for h in root.handlers if h not in logs._installed]  # pytest's capture handlers take DEBUG
    for handler in others:
        root.removeHandler(handler)
    try:
        logger.debug("item %s", "correct-horse-battery")  # below every handler: not redacted, not emitted
        logger.info("item %s", "correct-horse-battery")
        catch_all = logging.Handler(logging.DEBUG)
        catch_all.emit = lambda record: None
        logger.addHandler(catch_all)  # a handler taking DEBUG: DEBUG records are redacted again
        logger.debug("item %s", "correct-horse-battery")
        logger.removeHandler(catch_all)
    finally:
        logger.filters.clear()
        for handler in others:
            root.addHandler(handler)
    assert made == ["item %s", f"item {REDACTED}", f"item {REDACTED}"]
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = (tmp_path / "c.log").read_text()
    assert "correct-horse-battery" not in text and f"item {REDACTED}" in text
    assert text.count("item ") == 1  # the DEBUG ones went nowhere


def test_scraped_items_are_not_logged():
    from crawler.logformatter import QuietDropLogFormatter

    formatter = QuietDropLogFormatter()
    assert formatter.scraped({"title": "t" * 100_000}, None, None) is None
    dropped = formatter.dropped({"title": "t" * 100}, ValueError("no body"), None)
    assert dropped["level"] == logging.DEBUG and "item" not in dropped["args"]
