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


def _opened(extract_workers, timeout, caplog) -> tuple[NewsSpider, list[str]]:
    crawler = get_crawler(NewsSpider, settings_dict={"TWISTED_REACTOR": None, "CUTTINGS_EXTRACT_TIMEOUT": timeout})
    spider = NewsSpider.from_crawler(crawler, sources=[], db=None, run_id=None, extract_workers=extract_workers)
    caplog.clear()
    spider.spider_opened(spider)
    return spider, [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_without_a_pool_the_crawl_warns_that_the_extraction_timeout_cannot_hold(caplog):
    """``extract_workers = 0`` (``cuttings worker --extract-workers 0``) extracts in the crawler's
    own thread, which nothing can stop part way: the crawl says the timeout does not hold."""
    spider, warnings = _opened(0, 60.0, caplog)
    assert spider.pool is None
    assert warnings == ["extract_workers = 0: pages are extracted in the crawler's own process, without "
                        "[crawl] extract_timeout (60 s): a page whose extraction never ends holds the crawl"]
    assert _opened(0, 0.0, caplog)[1] == []  # no timeout asked for: nothing to say
