"""Downloader middlewares: retries that honour ``Retry-After`` on 429 and 503."""
from __future__ import annotations

import asyncio
import email.utils
import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.response import response_status_message

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
