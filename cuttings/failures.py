"""Why a source could not be read, in words: one line per source for the terminal.

The crawler records each failed request in ``crawl_errors`` with a kind (``dns``,
``connection_refused``, ``timeout``, ``robots_disallowed``, ``http_<status>``, ...; see
``crawler.spiders.news.classify_failure``); ``sources check`` sees urllib's exceptions.
Both are described here with the same words, and a night on which every source failed
its DNS lookup or found the network unreachable says "no network?".
"""
from __future__ import annotations

import errno
import re
import socket
import urllib.error
from collections import Counter
from urllib.parse import urlsplit

from cuttings.redaction import strip_controls
from cuttings.store.runs import (
    FAILURE_BLOCKED,
    FAILURE_GONE,
    ROBOTS_DISALLOWED,
    failure_class,
    source_error_count,
    source_error_kinds,
    source_errors,
)

# kind -> words; {host} is the failing URL's host
CAUSES = {
    "dns": "DNS lookup failed for {host} (no network, or a wrong host name?)",
    "no_network": "no network (the network is unreachable)",
    "connection_refused": "connection refused by {host} (site down, or a wrong port?)",
    "timeout": "{host} did not answer in time (timeout)",
    "robots_disallowed": "robots.txt of {host} disallows the pages",
    "too_large": "pages larger than the size limit (max_page_bytes)",
    "truncated": "{host} cut the pages short (connection dropped)",
    "connection_lost": "{host} dropped the connection",
    "redirect_loop": "too many redirects at {host}",
    "ssl": "TLS/certificate error at {host}",
    # the URL policy (crawler/urlpolicy.py, issue 14)
    "private_address": "{host} is a private or loopback address, which the crawler refuses: " + "{local_fix}",
    "offsite_host": "links to {host}, not a host of the source (declare it under hosts if it is)",
    "url_scheme": "a non-HTTP URL was refused ({host})",
    "robots_too_large": "robots.txt of {host} is over the size cap: treated as disallowing everything",
    "write_failed": "articles fetched but not stored (storage error)",
    "analyse_failed": "an article the analyser failed on (a bug: left unanalysed, tried again by the next run)",
}
NETWORK_KINDS = {"dns", "no_network"}
# what to do about a source the URL policy refused for its private or loopback address (crawler/urlpolicy.py):
# said wherever the refusals are counted (the crawl's warning, sources check, doctor, the digest)
LOCAL_FIX = "if the site is yours, set local = true on its [[source]] in sources.toml"
_REFUSED_ADDRESS = re.compile(r" (?:is|resolves to) ([^\s,]+), a private")


def private_address_warning(errors: list[dict]) -> str | None:
    """One line for a source whose requests the crawler refused for a private or loopback address (the
    URL policy's ``private_address``: a site of the team's own on 127.0.0.1 or the intranet configured
    without ``local = true``): how many, to which host (and the address it resolved to, when that is not
    the host itself), and what to do. ``errors``: its ``crawl_errors`` rows of a run (``kind``, ``url``,
    ``message``; ``store.source_errors(..., messages=True)``). None when none was refused so."""
    refused = [error for error in errors if error["kind"] == "private_address"]
    if not refused:
        return None
    host = _host(refused[0]["url"])
    found = _REFUSED_ADDRESS.search(strip_controls(refused[0].get("message") or ""))
    address = found.group(1) if found and found.group(1) != _hostname(refused[0]["url"]) else None
    count = len(refused)
    return (f"the crawler refused {count} request{'s' if count != 1 else ''} to {host}"
            + (f" ({address})" if address else "") + f", a private or loopback address: {LOCAL_FIX}")


def _host(url: str | None) -> str:
    """The host (and port) of a failed request's URL for a line a terminal shows: no control characters (the
    URL may come from a crawled link), "the site" when there is none or it does not parse."""
    try:
        host = urlsplit(url).netloc if url else ""
    except ValueError:   # e.g. an unbalanced "[" in the host: not a URL, no host to name
        host = ""
    return strip_controls(host) or "the site"


def _hostname(url: str | None) -> str | None:
    """The host name alone (no port, no brackets) of a URL, without control characters; None if none."""
    try:
        name = urlsplit(url).hostname if url else None
    except ValueError:
        name = None
    return strip_controls(name) if name else None


def describe(kind: str, url: str | None = None, status: int | None = None) -> str:
    """Words for one failure kind (``http_404`` -> "HTTP 404 from host")."""
    host = _host(url)
    if kind in CAUSES:
        return CAUSES[kind].format(host=host, local_fix=LOCAL_FIX)
    if kind.startswith("http_"):
        code = kind[5:]
        return f"HTTP {code} from {host}" + (" (blocked?)" if code in ("401", "403", "429") else "")
    return f"{kind.replace('_', ' ')} at {host}"


def kind_of_exception(exc: BaseException) -> str:
    """The crawl's failure kind for a urllib/socket exception (``sources check``)."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"http_{exc.code}"
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        return "dns"
    if isinstance(reason, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "no_network"
    if type(reason).__name__.startswith("SSL"):
        return "ssl"
    return type(reason).__name__.lower()


def describe_exception(exc: BaseException, url: str | None = None) -> str:
    return describe(kind_of_exception(exc), url)


# A source of which nothing was read failed when at least this many of its article requests were blocked
# (``source_runs.article_requests_blocked``: refused or unreachable, ``store.failure_class``): one such page
# is a per-URL error (one new article answering 503 after its retries, or 403 behind a paywall rule), two
# or more with nothing read is the site refusing the crawler or down.
BLOCKED_ARTICLES_FAILED = 2
# ... or when every one of its article requests (at least one) was blocked and at least this many of its
# other requests (home page, sections, feeds, sitemaps: ``errors`` less ``article_requests_failed``) failed
# too: the whole site is in trouble, not one URL, even on a night with a single new story.
DISCOVERY_ERRORS_WITH_ONE_BLOCKED = 1
# Rows of runs before source_runs counted article requests (migration m021: NULL there) are judged by the
# rule of that time: errors, nothing read, and no URL found or at least this many errors (unless every one
# of the source's errors in that run's crawl_errors is a dead link, 404/410).
BLOCKED_AFTER_ERRORS = 3


def source_failed(row, db=None) -> bool:
    """Whether a source failed in a crawl run, from its ``source_runs`` row: nothing of it could be read
    (no article page answered: none stored, rejected or unchanged) and either

    * discovery found no article URL while recording errors (its home page, sections, feeds and sitemaps
      unreachable), or
    * at least ``BLOCKED_ARTICLES_FAILED`` (2) of its article requests were blocked
      (``article_requests_blocked``: refused or unreachable, 401, 403, 406, 429, 5xx, a timeout, DNS, a refused
      connection ...; see ``store.failure_class``), or
    * every one of its article requests (at least one) was blocked and its discovery requests recorded at
      least ``DISCOVERY_ERRORS_WITH_ONE_BLOCKED`` (1) errors too (``errors`` less ``article_requests_failed``).

    One blocked article page alone (a 503 after its retries) is a per-URL error, as are article URLs answering
    404/410 (dead links in a sitemap, ``article_requests_gone``) however many, pages robots.txt disallows (the
    site's rule, not an outage) and the crawl's own refusals (size cap, URL policy). A row of a run before the
    article requests were counted (``article_requests`` NULL or absent) falls back to the earlier rule:
    errors, nothing read, and no URL found or at least ``BLOCKED_AFTER_ERRORS`` errors; given ``db`` (a
    sqlite-utils ``Database`` or a ``sqlite3.Connection``) and a row with ``crawl_run_id`` and ``source_id``,
    a source whose every error in that run's ``crawl_errors`` is a 404/410 did not fail."""
    row = dict(row)   # a dict or a sqlite3.Row; a figure it lacks counts as 0
    errors = row.get("errors") or 0
    found = sum(row.get(key) or 0 for key in ("found_by_feed", "found_by_sitemap", "found_by_links", "found_by_search"))
    read = row.get("articles_stored") or row.get("pages_fetched")
    if read:
        return False
    if not found:
        return bool(errors)
    requests = row.get("article_requests")
    if requests is None:
        return errors >= BLOCKED_AFTER_ERRORS and not _only_dead_links(db, row)
    blocked = row.get("article_requests_blocked") or 0
    discovery_errors = errors - (row.get("article_requests_failed") or 0)
    return blocked >= BLOCKED_ARTICLES_FAILED or (
        0 < blocked == requests and discovery_errors >= DISCOVERY_ERRORS_WITH_ONE_BLOCKED)


def _only_dead_links(db, row: dict) -> bool:
    """Every error the row's source recorded in its crawl run (``crawl_errors``; the analyser's left out) is
    a 404/410: False without a database or the row's run and source."""
    if db is None or row.get("crawl_run_id") is None or row.get("source_id") is None:
        return False
    kinds = source_error_kinds(db, row["crawl_run_id"], row["source_id"])
    return bool(kinds) and all(failure_class(kind) == FAILURE_GONE for kind in kinds)


def robots_refused_every_article(row, db) -> int:
    """How many article pages robots.txt disallowed, when it disallowed every article request of the row's
    source in its crawl run (``article_requests`` at least 1, none answered, and as many ``robots_disallowed``
    rows in ``crawl_errors``); else 0. Not a failed source (robots.txt is the site's rule, not an outage),
    but worth a doctor note: the source's ``allow`` patterns may point at pages the site keeps from crawlers."""
    row = dict(row)
    requests = row.get("article_requests") or 0
    if not requests or row.get("article_requests_failed") != requests or row.get("crawl_run_id") is None:
        return 0
    disallowed = source_error_count(db, row["crawl_run_id"], row.get("source_id"), ROBOTS_DISALLOWED)
    return requests if disallowed >= requests else 0


def source_failures(db, crawl_run_id: int, source_rows: list[dict]) -> list[tuple[str, str, str]]:
    """(source id, error kind, cause in words) for each source that failed in this crawl run
    (:func:`source_failed`); the cause is its most frequent error kind, a refusal or an unreachable site
    (``store.failure_class`` "blocked") before a dead link or robots.txt (a source failed for the pages it was
    refused, not for its 404s). An article the analyser raised on (``analyse_failed``) is no fault of its
    source: the digest names it on its own."""
    failed = [row["source_id"] for row in source_rows if source_failed(row, db)]
    out = []
    for source_id in failed:
        rows = source_errors(db, crawl_run_id, source_id)
        if not rows:
            continue
        counts = Counter(r["kind"] for r in rows)
        kind = max(counts, key=lambda k: (failure_class(k) == FAILURE_BLOCKED, counts[k]))
        url = next(r["url"] for r in rows if r["kind"] == kind)
        out.append((source_id, kind, describe(kind, url)))
    return out


def network_hint(kinds: list[str]) -> str | None:
    """"no network?" when every failure is a DNS or network one."""
    if kinds and all(k in NETWORK_KINDS for k in kinds):
        return "every source failed its DNS lookup or found no route: is this machine offline?"
    return None
