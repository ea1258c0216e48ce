"""The distributed crawl's task ledger, without Redis: a task is done only when everything its
callback produced is safe (requests queued, items pushed), and an item that never reaches the
Redis item pipeline (dropped or failed by a pipeline) still ends its task."""
from __future__ import annotations

import pytest
import scrapy
from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.distributed import WorkerSpider, worker_settings
from crawler.items import ArticleItem


@pytest.fixture
def spider():
    settings = scrapy.settings.Settings()
    # A Redis URL nothing listens on: the client connects lazily and nothing here sends a command.
    worker_settings(settings, "redis://127.0.0.1:9/0")
    from twisted.internet import reactor  # noqa: F401  (the crawler is built here, never started)

    crawler = get_crawler(WorkerSpider, settings_dict={**dict(settings), "TWISTED_REACTOR": None})
    spider = WorkerSpider.from_crawler(crawler, sources=[])
    crawler.spider = spider
    pushed = []
    spider.push = lambda events, done=None: pushed.append((events, done))
    spider.pushed = pushed
    return spider


@pytest.mark.parametrize("signal, extra", [
    (signals.item_dropped, {"exception": DropItem("duplicate")}),
    (signals.item_error, {"failure": None}),
])
def test_an_item_that_is_not_pushed_ends_its_task(spider, signal, extra):
    item, other = ArticleItem(url="https://example.invalid/a"), ArticleItem(url="https://example.invalid/b")
    spider.item_tasks[id(item)] = "task-a"
    spider.item_tasks[id(other)] = "task-b"
    spider.open_outputs.update({"task-a": 1, "task-b": 1})  # each callback has ended; its item is in flight
    spider.crawler.signals.send_catch_log(signal, item=item, response=None, spider=spider, **extra)
    assert spider.pushed == [([], "task-a")]
    assert spider.item_tasks == {id(other): "task-b"}
    # An item the ledger does not hold (no task: a local item) pushes nothing.
    spider.crawler.signals.send_catch_log(signal, item=ArticleItem(url="https://example.invalid/c"),
                                          response=None, spider=spider, **extra)
    assert spider.pushed == [([], "task-a")]


class RecordingEngine:
    """The engine's ``crawl`` as the ledger sees it: the request is in the shared queue."""

    def __init__(self, spider):
        self.spider, self.crawled = spider, []

    def crawl(self, request):
        self.crawled.append(request.url)
        self.spider.pushed.append(("queued", request.url))


def callback_output():
    yield scrapy.Request("https://example.invalid/1")
    yield ArticleItem(url="https://example.invalid/a")
    yield scrapy.Request("https://example.invalid/2")


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_task_is_done_only_when_its_requests_are_queued_and_its_items_pushed(spider, asynchronous):
    """Scrapy's scraper reads a callback's whole output before handling it: the task must not be
    done (and a dead worker's requests lost) while a request or an item waits there."""
    import asyncio

    from crawler.distributed import RedisItemPipeline, TaskLedgerMiddleware

    spider.crawler.engine = engine = RecordingEngine(spider)
    middleware = TaskLedgerMiddleware.from_crawler(spider.crawler)
    response = scrapy.http.HtmlResponse("https://example.invalid/section", body=b"",
                                        request=scrapy.Request("https://example.invalid/section",
                                                               meta={"task": "r:section"}))
    if asynchronous:
        async def output():
            for element in callback_output():
                yield element

        async def read_all():
            return [element async for element in middleware.process_spider_output_async(response, output())]

        handed_on = asyncio.run(read_all())
    else:
        handed_on = list(middleware.process_spider_output(response, callback_output()))
    # Requests are queued as they are produced; only the item goes on to the item pipelines.
    assert engine.crawled == ["https://example.invalid/1", "https://example.invalid/2"]
    assert [type(e) for e in handed_on] == [ArticleItem]
    assert not any(done for _, done in spider.pushed if done not in (None, "https://example.invalid/1",
                                                                     "https://example.invalid/2"))
    # The item reaches the Redis pipeline later: its push ends the task, in one transaction.
    pipeline = RedisItemPipeline.__new__(RedisItemPipeline)
    pipeline.crawler = spider.crawler
    pipeline.process_item(handed_on[0])
    events, done = spider.pushed[-1]
    assert done == "r:section" and events[0]["item"]["url"] == "https://example.invalid/a"
    assert spider.open_outputs == {} and spider.item_tasks == {}


def test_a_failing_callback_ends_its_task_once_its_items_are_pushed(spider):
    from crawler.distributed import TaskLedgerMiddleware

    spider.crawler.engine = RecordingEngine(spider)
    middleware = TaskLedgerMiddleware.from_crawler(spider.crawler)
    response = scrapy.http.HtmlResponse("https://example.invalid/p", body=b"",
                                        request=scrapy.Request("https://example.invalid/p", meta={"task": "r:p"}))

    def failing():
        yield scrapy.Request("https://example.invalid/1")
        raise ValueError("parser bug")

    with pytest.raises(ValueError):
        list(middleware.process_spider_output(response, failing()))
    assert spider.pushed == [("queued", "https://example.invalid/1"), ([], "r:p")]
