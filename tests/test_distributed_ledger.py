"""The distributed crawl's task ledger, without Redis: an item that never reaches the Redis item
pipeline (dropped or failed by a pipeline) still ends its task."""
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
    spider.crawler.signals.send_catch_log(signal, item=item, response=None, spider=spider, **extra)
    assert spider.pushed == [([], "task-a")]
    assert spider.item_tasks == {id(other): "task-b"}
    # An item the ledger does not hold (no task: a local item) pushes nothing.
    spider.crawler.signals.send_catch_log(signal, item=ArticleItem(url="https://example.invalid/c"),
                                          response=None, spider=spider, **extra)
    assert spider.pushed == [([], "task-a")]
