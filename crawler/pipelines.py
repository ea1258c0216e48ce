"""Item pipelines: one class per concern, priorities spaced (see settings.ITEM_PIPELINES).

Each pipeline opens its store in ``open_spider``: the connection the crawl runner gave the
spider (one connection on the reactor thread), else the database named by the
``CUTTINGS_DB`` setting (``scrapy crawl news -s CUTTINGS_DB=...``). Pipelines call store
functions, never SQL, and count what they drop in the stats.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from scrapy.exceptions import DropItem

from crawler.dedupe import SyndicationIndex, normalise_url
from crawler.revisions import save_article
from cuttings import store


class _StorePipeline:
    """Base: keeps the crawler and opens the store when the spider opens."""

    db = None
    owns_db = False

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def spider(self):
        return self.crawler.spider

    def open_spider(self):
        self.db = getattr(self.spider, "db", None)
        path = self.crawler.settings.get("CUTTINGS_DB")
        if self.db is None and path:
            self.db, self.owns_db = store.connect(path), True

    def close_spider(self):
        if self.owns_db and self.db is not None:
            self.db.close()
        self.db = None


class RejectNonArticlesPipeline(_StorePipeline):
    """Drop pages the extractor says are not articles (section, tag, author, live-blog index,
    too short) and remember them in ``crawl_state`` so they are not fetched again."""

    def process_item(self, item):
        spider = self.spider
        if item.get("is_article") and (item.get("body") or "").strip():
            return item
        reason = item.get("reject_reason") or "no article body"
        spider.crawler.stats.inc_value("cuttings/pages_rejected")
        spider.crawler.stats.inc_value(f"cuttings/source/{item.get('source_id')}/pages_rejected")
        if self.db is not None:
            store.record_fetch(self.db, item.get("fetched_url") or item["url"], source_id=item.get("source_id"),
                               kind="rejected", found_by=item.get("found_by"), http_status=item.get("http_status"),
                               reject_reason=reason)
        raise DropItem(f"not an article: {reason}: {item['url']}")


class NormaliseUrlsPipeline(_StorePipeline):
    """Set ``canonical_url``: the page's rel=canonical when it points at the same site (or
    a sister title on the same scheme), else the fetched URL; both normalised (tracking
    parameters, AMP/mobile variants, trailing slashes and case removed)."""

    def process_item(self, item):
        declared = item.get("extracted_canonical")
        chosen = declared if declared and urlsplit(declared).scheme in ("http", "https") else item["url"]
        item["canonical_url"] = normalise_url(chosen)
        return item


class StoreArticlesPipeline(_StorePipeline):
    """Write articles to the store: new, near-duplicate copy (``duplicate_of``), material
    revision (new ``article_versions`` row) or unchanged. Counts each outcome.

    Articles are committed in batches (``CUTTINGS_COMMIT_EVERY`` items or
    ``CUTTINGS_COMMIT_SECONDS``, and when the spider closes). Each article and its crawl
    state are written together, so a crash loses at most the uncommitted batch, which the
    next crawl fetches again: nothing half-written, nothing duplicated.
    """

    def open_spider(self):
        super().open_spider()
        self.index = SyndicationIndex.from_db(self.db) if self.db is not None else None
        settings = self.crawler.settings
        self.commit_every = settings.getint("CUTTINGS_COMMIT_EVERY", 50)
        self.commit_seconds = settings.getfloat("CUTTINGS_COMMIT_SECONDS", 2.0)
        self.pending = 0
        self.batch_started = 0.0

    def process_item(self, item):
        spider = self.spider
        if self.db is None:
            return item
        if store.begin(self.db):
            self.pending, self.batch_started = 0, time.monotonic()
        status, article_id = save_article(self.db, dict(item), spider.run_id, self.index)
        self.pending += 1
        if self.pending >= self.commit_every or time.monotonic() - self.batch_started >= self.commit_seconds:
            self.commit()
        stats = spider.crawler.stats
        stats.inc_value(f"cuttings/articles_{status}")
        stats.inc_value(f"cuttings/source/{item.get('source_id')}/articles_{status}")
        stats.inc_value(f"cuttings/source/{item.get('source_id')}/body_words", store.word_count(item.get("body")))
        if item.get("published_at"):
            stats.inc_value(f"cuttings/source/{item.get('source_id')}/dated")
        return item

    def commit(self):
        if self.db is not None:
            store.commit(self.db)
        self.pending = 0

    def close_spider(self):
        self.commit()
        self.index = None
        super().close_spider()
