"""Downloader middlewares: retries that honour ``Retry-After`` on 429 and 503."""
from __future__ import annotations

import asyncio
import email.utils
import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.response import response_status_message

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
    """Scrapy's RetryMiddleware, but a 429/503 carrying Retry-After waits that long
    (capped by CUTTINGS_MAX_RETRY_AFTER) before the retry is scheduled."""

    def __init__(self, settings):
        super().__init__(settings)
        self.max_retry_after = settings.getfloat("CUTTINGS_MAX_RETRY_AFTER", MAX_RETRY_AFTER)

    async def process_response(self, request, response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = None
        if response.status in (429, 503):
            delay = retry_after_seconds(response.headers.get("Retry-After"))
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        if delay:
            wait = min(delay, self.max_retry_after)
            self.crawler.stats.inc_value("retry_after/waits")
            self.crawler.stats.inc_value("retry_after/seconds", wait)
            await asyncio.sleep(wait)
        return retry
