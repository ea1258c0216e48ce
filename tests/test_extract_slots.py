"""The extraction timeout measures a page's own extraction, not its wait behind the pages before it:
Scrapy runs many callbacks at once, and a page queued behind others must not be timed out (nor the
workers of good pages killed) on a busy machine."""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from scrapy.utils.test import get_crawler

import crawler.spiders.news as news
from crawler.spiders.news import NewsSpider


def _slow_extract(args, kwargs):
    time.sleep(0.2)
    return {"url": args[1]}


def test_pages_queued_behind_others_are_not_timed_out(monkeypatch):
    crawler = get_crawler(NewsSpider, settings_dict={"TWISTED_REACTOR": None})
    spider = NewsSpider.from_crawler(crawler, sources=[], db=None, run_id=None)
    spider.extract_timeout = 1.0
    monkeypatch.setattr(news, "_extract", _slow_extract)
    restarts = []
    monkeypatch.setattr(spider, "restart_pool", restarts.append)
    pool = ThreadPoolExecutor(max_workers=1)
    pool.cuttings_workers = 1
    spider.pool = pool

    async def six_pages():
        return await asyncio.gather(*(spider.extract(("<html/>", f"https://x.example/{i}"), {}) for i in range(6)))

    try:
        # one worker, 0.2 s a page: the sixth ends 1.2 s after all six arrived, each within its 1 s
        fields = asyncio.run(six_pages())
    finally:
        pool.shutdown(wait=True)
    assert [f["url"] for f in fields] == [f"https://x.example/{i}" for i in range(6)]
    assert restarts == []
