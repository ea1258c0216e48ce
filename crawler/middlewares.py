"""Downloader middlewares: retries that honour ``Retry-After`` on 429 and 503 (within a wait
budget per source), and the incremental crawl's rules (which known URLs to fetch again, with
which conditional headers); a spider middleware that stops the crawl on storage errors."""
from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import time

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.response import response_status_message

from crawler.extract import TOO_SHORT
from cuttings import store

MAX_RETRY_AFTER = 120.0


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, but a 429/503 carrying Retry-After waits that long before the
    retry is scheduled, within two limits: a Retry-After longer than CUTTINGS_MAX_RETRY_AFTER is
    not waited for at all (the server asked us to come back later: the response is recorded as
    the error it is), and one source waits at most CUTTINGS_MAX_RETRY_WAIT_PER_SOURCE seconds in
    total per run (the budget; its hit is recorded in crawl_notices)."""

    def __init__(self, settings):
        super().__init__(settings)
        self.max_retry_after = settings.getfloat("CUTTINGS_MAX_RETRY_AFTER", MAX_RETRY_AFTER)
        self.max_wait_per_source = settings.getfloat("CUTTINGS_MAX_RETRY_WAIT_PER_SOURCE", 300.0)
        self.waited: dict[str | None, float] = {}

    async def process_response(self, request, response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = None
        if response.status in (429, 503):
            delay = retry_after_seconds(response.headers.get("Retry-After"))
        source = request.meta.get("source")
        source_id = getattr(source, "id", None)
        if delay:
            spent = self.waited.get(source_id, 0.0)
            if delay > self.max_retry_after or spent + delay > self.max_wait_per_source:
                self.crawler.stats.inc_value("retry_after/refused")
                self._notice(source_id, request.url, delay, spent)
                return response  # not retried: the errback records the 429/503
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        if delay:
            self.waited[source_id] = self.waited.get(source_id, 0.0) + delay
            self.crawler.stats.inc_value("retry_after/waits")
            self.crawler.stats.inc_value("retry_after/seconds", delay)
            await asyncio.sleep(delay)
        return retry

    def _notice(self, source_id, url, delay, spent) -> None:
        spider = self.crawler.spider
        if delay > self.max_retry_after:
            kind, message = "retry_after_too_long", (f"Retry-After {delay:.0f} s is over the {self.max_retry_after:.0f} s "
                                                     "limit: not retried this run")
            if hasattr(spider, "budget_hit"):  # recorded once per source and run
                spider.budget_hit(source_id, kind, url, message)
            return
        if hasattr(spider, "budget_hit"):
            spider.budget_hit(source_id, "budget_retry_wait", url,
                              f"Retry-After budget of {self.max_wait_per_source:.0f} s per run reached "
                              f"({spent:.0f} s waited): not retried")


class SkipRequest(IgnoreRequest):
    """A request the incremental rules or the page budget skip (not an error: never recorded)."""


# An article URL that answered 404 Not Found or 410 Gone (a dead link in a sitemap or feed) is kept in
# crawl_state as rejected, reject_reason starting with GONE. While it is new (first seen within the
# revisit window) it is asked again every night: a 404 may be a site mid-deploy, and a new article lost
# to one would be lost for good. After that it is not requested again until this many days after the
# fetch that answered so; then once more (a page that came back is stored as usual).
GONE = "gone"
GONE_STATUSES = store.GONE_HTTP_STATUSES   # (404, 410): the store's "gone" class of failed requests
GONE_RECHECK_DAYS = 7


def gone_reason(status: int) -> str:
    """The ``crawl_state.reject_reason`` of an article URL that answered ``status`` (404, 410)."""
    return f"{GONE}: HTTP {status}"


class IncrementalPolicy:
    """Which known URLs to fetch again and how, as Scrapy's httpcache policies decide for a cache:
    a page rejected before (not an article) is never refetched, except one rejected as too short
    within the revisit window of its first fetch (a breaking-news stub that grows into the story),
    and one that answered 404/410 while it is in its revisit window, or once :data:`GONE_RECHECK_DAYS`
    have passed since;
    a stored article only inside the revisit window (published or first seen within
    ``revisit_days``), and then conditionally (If-None-Match / If-Modified-Since from its last fetch)."""

    def __init__(self, revisit_days: int):
        self.revisit_days = revisit_days

    def skip_reason(self, state: dict | None, now: dt.datetime | None = None) -> str | None:
        """``rejected``, ``gone`` or ``known`` when the URL should not be fetched again, else None."""
        if state is None:
            return None
        if state["kind"] == "rejected" and (state.get("reject_reason") or "").startswith(GONE):
            if self.within_revisit_window(state, now):
                return None   # a new URL's 404 may be a site mid-deploy: asked again while it is new
            fetched = state.get("last_fetched_at") or ""
            now = now or dt.datetime.now(dt.timezone.utc)
            cutoff = (now - dt.timedelta(days=GONE_RECHECK_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
            return GONE if fetched > cutoff else None
        if state["kind"] == "rejected":
            if state.get("reject_reason") == TOO_SHORT and self.within_revisit_window(state, now):
                return None
            return "rejected"
        if state["kind"] == "article" and not self.within_revisit_window(state, now):
            return "known"
        return None

    def within_revisit_window(self, state: dict, now: dt.datetime | None = None) -> bool:
        reference = state.get("published_at") or state.get("first_seen_at")
        if not reference:
            return False
        now = now or dt.datetime.now(dt.timezone.utc)
        cutoff = (now - dt.timedelta(days=self.revisit_days)).strftime("%Y-%m-%d")
        return reference[:10] >= cutoff

    @staticmethod
    def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return headers


class IncrementalMiddleware:
    """The incremental crawl's rules as a downloader middleware, reading the store's
    ``crawl_state``: requests marked ``meta["incremental"] = "article"`` for a URL already stored
    outside the revisit window, or rejected before, are skipped (:class:`SkipRequest`); revisits
    get conditional headers; so do ``"discovery"`` requests (feeds, sitemaps) fetched completely
    before. Article requests that pass count against the source's page budget
    (``max_pages_per_source``); over it they are skipped too.

    The store is the spider's connection (the crawl runner's), else the database named by the
    ``CUTTINGS_DB`` setting; without either every request passes unchanged.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.db = None
        self.owns_db = False
        self.policy = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        self.db = getattr(spider, "db", None)
        path = self.crawler.settings.get("CUTTINGS_DB")
        if self.db is None and path:
            self.db, self.owns_db = store.connect(path), True
        self.policy = IncrementalPolicy(getattr(spider, "revisit_days", 3))

    def spider_closed(self, spider):
        if self.owns_db and self.db is not None:
            self.db.close()
        self.db = None

    def process_request(self, request, spider=None):
        kind = request.meta.get("incremental")
        if kind is None or request.meta.get("incremental_checked"):
            return None  # retries and redirects of a request already checked pass as they are
        request.meta["incremental_checked"] = True
        if kind == "discovery":
            spider, source = self.crawler.spider, request.meta.get("source")
            if getattr(spider, "conditional_discovery", True) and not (
                    source is not None and source.id in getattr(spider, "catching_up", ())):
                request.headers.update(self.policy.conditional_headers(*self.discovery_validators(request.url)))
        elif kind == "article":
            self.article(request)
        return None

    def known_url(self, url: str) -> dict | None:
        """What the crawl knows of a normalised URL (the distributed worker reads a snapshot)."""
        return store.known_url(self.db, url) if self.db is not None else None

    def discovery_validators(self, url: str) -> tuple[str | None, str | None]:
        return store.discovery_validators(self.db, url) if self.db is not None else (None, None)

    def article(self, request) -> None:
        spider, stats = self.crawler.spider, self.crawler.stats
        state = self.known_url(request.meta["state_key"])
        reason = self.policy.skip_reason(state)
        if reason is not None:
            stats.inc_value(f"cuttings/skipped_{reason}")
            raise SkipRequest(f"{reason}: {request.url}")
        source = request.meta["source"]
        take_page = getattr(spider, "take_page", None)
        if take_page is not None and not take_page(source.id, request.url, request.meta.get("task")):
            stats.inc_value("cuttings/skipped_page_cap")
            if hasattr(spider, "budget_hit"):  # recorded once per source and run (crawl_notices)
                spider.budget_hit(source.id, "budget_pages", request.url,
                                  f"page budget of {spider.max_pages} per run reached: further pages skipped")
            raise SkipRequest(f"page budget of {source.id} spent: {request.url}")
        request.meta["page_taken"] = True   # the request count it was built with is spent, not given back
        if state is not None and state["kind"] == "rejected":
            request.meta["stub_recheck"] = True   # its rejection again is not news (RejectNonArticlesPipeline)
        if state is not None and state["kind"] in ("article", "rejected"):
            request.headers.update(self.policy.conditional_headers(state.get("etag"), state.get("last_modified")))
            stats.inc_value("cuttings/revisits")


class StorageErrorSpiderMiddleware:
    """Spider middleware: a callback failing because the database cannot be written (disk
    full, read-only, I/O error) stops the crawl through the spider's ``storage_failed``
    instead of being logged and forgotten page after page."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_exception(self, response, exception, spider=None):
        target = self.crawler.spider
        if store.is_storage_error(exception) and hasattr(target, "storage_failed"):
            target.storage_failed(exception)
            return []
        return None
