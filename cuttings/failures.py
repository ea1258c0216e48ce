"""Why a source could not be read, in words: one line per source for the terminal.

The crawler records each failed request in ``crawl_errors`` with a kind (``dns``,
``connection_refused``, ``timeout``, ``robots_disallowed``, ``http_<status>``, ...; see
``crawler.spiders.news.classify_failure``); ``sources check`` sees urllib's exceptions.
Both are described here with the same words, and a night on which every source failed
its DNS lookup or found the network unreachable says "no network?".
"""
from __future__ import annotations

import errno
import socket
import urllib.error
from collections import Counter
from urllib.parse import urlsplit

from cuttings.store.runs import ANALYSE_FAILED, FAILURE_GONE, failure_class

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
    "private_address": "{host} is a private or loopback address (set local = true on the source if it is yours)",
    "offsite_host": "links to {host}, not a host of the source (declare it under hosts if it is)",
    "url_scheme": "a non-HTTP URL was refused ({host})",
    "robots_too_large": "robots.txt of {host} is over the size cap: treated as disallowing everything",
    "write_failed": "articles fetched but not stored (storage error)",
    "analyse_failed": "an article the analyser failed on (a bug: left unanalysed, tried again by the next run)",
}
NETWORK_KINDS = {"dns", "no_network"}


def describe(kind: str, url: str | None = None, status: int | None = None) -> str:
    """Words for one failure kind (``http_404`` -> "HTTP 404 from host")."""
    host = urlsplit(url).netloc if url else "the site"
    if kind in CAUSES:
        return CAUSES[kind].format(host=host)
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


# Rows of runs before source_runs counted article requests (migration m021: NULL there) are judged by the
# rule of that time: errors, nothing read, and no URL found or at least this many errors.
BLOCKED_AFTER_ERRORS = 3


def source_failed(row) -> bool:
    """Whether a source failed in a crawl run, from its ``source_runs`` row: nothing of it could be read
    (no article page answered: none stored, rejected or unchanged) and either

    * discovery found no article URL while recording errors (its home page, sections, feeds and sitemaps
      unreachable), or
    * at least one of its article requests failed because the site refused it or could not be reached
      (``article_requests_blocked``: 401, 403, 429, 5xx, a timeout, DNS, a refused connection; see
      ``store.failure_class``) and none succeeded.

    Article URLs answering 404/410 (dead links in a sitemap, ``article_requests_gone``) are per-URL errors:
    alone they never make a source failed. A row of a run before the article requests were counted
    (``article_requests`` NULL or absent) falls back to the earlier rule: errors, nothing read, and no URL
    found or at least ``BLOCKED_AFTER_ERRORS`` errors."""
    row = dict(row)   # a dict or a sqlite3.Row; a figure it lacks counts as 0
    errors = row.get("errors") or 0
    found = sum(row.get(key) or 0 for key in ("found_by_feed", "found_by_sitemap", "found_by_links", "found_by_search"))
    read = row.get("articles_stored") or row.get("pages_fetched")
    if read:
        return False
    if not found:
        return bool(errors)
    if row.get("article_requests") is None:
        return errors >= BLOCKED_AFTER_ERRORS
    return bool(row.get("article_requests_blocked"))


def source_failures(db, crawl_run_id: int, source_rows: list[dict]) -> list[tuple[str, str, str]]:
    """(source id, error kind, cause in words) for each source that failed in this crawl run
    (:func:`source_failed`); the cause is its most frequent error kind, a refusal or an unreachable site
    before a dead link (a source failed for the article pages it was refused, not for its 404s). An article
    the analyser raised on (``analyse_failed``) is no fault of its source: the digest names it on its own."""
    failed = [row["source_id"] for row in source_rows if source_failed(row)]
    out = []
    for source_id in failed:
        rows = list(db.query("SELECT kind, url FROM crawl_errors WHERE crawl_run_id = ? AND source_id = ? "
                             "AND kind != ?", [crawl_run_id, source_id, ANALYSE_FAILED]))
        if not rows:
            continue
        counts = Counter(r["kind"] for r in rows)
        kind = max(counts, key=lambda k: (failure_class(k) != FAILURE_GONE, counts[k]))
        url = next(r["url"] for r in rows if r["kind"] == kind)
        out.append((source_id, kind, describe(kind, url)))
    return out


def network_hint(kinds: list[str]) -> str | None:
    """"no network?" when every failure is a DNS or network one."""
    if kinds and all(k in NETWORK_KINDS for k in kinds):
        return "every source failed its DNS lookup or found no route: is this machine offline?"
    return None
