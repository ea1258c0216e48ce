"""Item pipelines: one class per concern, priorities spaced (see settings.ITEM_PIPELINES).

Each pipeline opens its store in ``open_spider``: the connection the crawl runner gave the
spider (one connection on the reactor thread), else the database named by the
``CUTTINGS_DB`` setting (``scrapy crawl news -s CUTTINGS_DB=...``). Pipelines call store
functions, never SQL, and count what they drop in the stats.
"""
from __future__ import annotations

import sqlite3
import time
from urllib.parse import urlsplit

from scrapy.exceptions import DropItem

from crawler.dedupe import SyndicationIndex, normalise_url
from crawler.extract import TOO_SHORT, cap_fields
from crawler.revisions import save_article
from cuttings import store
from cuttings.redaction import CONTROL_CHARS, strip_controls


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
        # a stub rejected before, checked again while new (IncrementalPolicy), is not a new rejection:
        # counted apart, so a crawl that finds only stored stories and unchanged stubs stays healthy
        counter = "stubs_rechecked" if item.get("rechecked") else "pages_rejected"
        spider.crawler.stats.inc_value(f"cuttings/{counter}")
        spider.crawler.stats.inc_value(f"cuttings/source/{item.get('source_id')}/{counter}")
        if self.db is not None:
            # a stub's validators, so that checking it again while it is new is a conditional request
            stub = reason == TOO_SHORT
            store.record_fetch(self.db, item.get("fetched_url") or item["url"], source_id=item.get("source_id"),
                               kind="rejected", found_by=item.get("found_by"), http_status=item.get("http_status"),
                               reject_reason=reason, etag=item.get("etag") if stub else None,
                               last_modified=item.get("last_modified") if stub else None)
        raise DropItem(f"not an article: {reason}: {item['url']}")


class CleanTextPipeline(_StorePipeline):
    """Strip control characters from the extracted text fields, the byline's names and the
    page's declared canonical URL: NUL and the other C0 controls but tab, newline and carriage
    return (a NUL ends strings early in C tools, CSV readers and terminals; ESC starts a
    terminal escape), DEL, C1 (U+0080-U+009F), the bidirectional override, embedding and
    isolate controls (they reorder what a terminal or a digest shows) and the invisible format
    characters that hide inside words (zero-width space, word joiner, BOM, bidi marks, soft hyphen;
    the zero-width joiners but between two non-ASCII characters): ``cuttings.redaction.CONTROL_CHARS``.
    Then cap the headline, byline and description (``crawler.extract.cap_fields``: extraction caps
    them already; items from elsewhere are capped here too)."""

    FIELDS = ("title", "body", "author", "description", "section", "extracted_canonical")
    CONTROL = CONTROL_CHARS

    def process_item(self, item):
        stripped = False
        for name in self.FIELDS:
            value = item.get(name)
            if isinstance(value, str) and self.CONTROL.search(value):
                item[name] = strip_controls(value)
                stripped = True
        authors = item.get("authors")
        if authors and any(isinstance(a, str) and self.CONTROL.search(a) for a in authors):
            item["authors"] = [strip_controls(a) if isinstance(a, str) else a for a in authors]
            stripped = True
        if stripped:
            self.crawler.stats.inc_value("cuttings/control_chars_stripped")
        cap_fields(item)
        return item


def _host(url: str) -> str:
    netloc = urlsplit(url).netloc.lower()
    return netloc[4:] if netloc.startswith("www.") else netloc


class NormaliseUrlsPipeline(_StorePipeline):
    """Set ``canonical_url``, the article's identity: the page's rel=canonical when it names
    the page's own site or a sister title declared in sources.toml (``sisters``), else the
    fetched URL (the refused canonical is recorded in ``crawl_notices`` as
    ``canonical_offsite``). Both normalised (tracking parameters, AMP/mobile variants,
    trailing slashes and case removed). ``link_url`` is the same choice as written, not
    normalised: the address digests, exports and Datasette link to (a normalised key such
    as ``.../story`` for a page at ``.../story/`` may not open).

    A canonical already held by a stored article fetched from another URL, whose content this
    page would replace, is not taken over: the page is stored under its own URL
    (``canonical_conflict``). So a page cannot overwrite another's article by pointing its
    canonical at it, and two pages sharing one canonical do not swap versions every run.
    """

    def open_spider(self):
        super().open_spider()
        self.sources = {s.id: s for s in getattr(self.spider, "sources", [])}

    def allowed_canonical(self, source, canonical: str, fetched: str) -> bool:
        from crawler.urlpolicy import source_hosts

        host = _host(canonical)
        if host == _host(fetched):
            return True
        if source is None:
            return False
        hosts = set(source_hosts(source))
        for sister in getattr(source, "sister_sources", []):
            hosts |= source_hosts(sister)
        return host in {h[4:] if h.startswith("www.") else h for h in hosts}

    def process_item(self, item):
        fetched = item["url"]
        declared = item.get("extracted_canonical")
        source = self.sources.get(item.get("source_id"))
        chosen = fetched
        if declared and urlsplit(declared).scheme in ("http", "https"):
            if self.allowed_canonical(source, declared, fetched):
                chosen = declared
            else:
                self.notice(item, "canonical_offsite",
                            f"rel=canonical {declared} is not on this site or a declared sister title: "
                            "stored under the fetched URL")
        item["canonical_url"] = normalise_url(chosen)
        item["link_url"] = chosen
        own = normalise_url(fetched)
        db = self.db
        if item["canonical_url"] != own and db is not None:
            existing = store.find_article(db, item["canonical_url"])
            if existing is not None and normalise_url(existing["url"]) != own and \
                    existing["content_hash"] != store.content_hash(item.get("title") or "", item.get("body") or ""):
                self.notice(item, "canonical_conflict",
                            f"rel=canonical {item['canonical_url']} belongs to article {existing['id']} fetched from "
                            f"{existing['url']}: stored under the fetched URL")
                item["canonical_url"], item["link_url"] = own, fetched
        return item

    def notice(self, item, kind, message):
        if hasattr(self.spider, "record_notice"):
            self.spider.record_notice(item.get("source_id"), item["url"], kind, message)


class StoreArticlesPipeline(_StorePipeline):
    """Write articles to the store: new, near-duplicate copy (``duplicate_of``), material
    revision (new ``article_versions`` row) or unchanged. Counts each outcome once its batch
    is committed.

    Articles are committed in batches (``CUTTINGS_COMMIT_EVERY`` items or
    ``CUTTINGS_COMMIT_SECONDS``, and when the spider closes). Each article and its crawl
    state are written together, so a crash loses at most the uncommitted batch, which the
    next crawl fetches again: nothing half-written, nothing duplicated.

    A failed write is an error of the run, never a silent loss: each article not stored is
    counted (``cuttings/write_failed``) and its URL kept (``cuttings/unstored``) for the runner
    to record in ``crawl_errors``; a storage error (disk full, read-only, I/O) also stops the
    crawl, since nothing fetched afterwards could be kept.
    """

    def open_spider(self):
        super().open_spider()
        self.index = SyndicationIndex.from_db(self.db) if self.db is not None else None
        settings = self.crawler.settings
        self.commit_every = settings.getint("CUTTINGS_COMMIT_EVERY", 50)
        self.commit_seconds = settings.getfloat("CUTTINGS_COMMIT_SECONDS", 2.0)
        self.batch: list[tuple[dict, str]] = []
        self.batch_started = 0.0
        self.storage_broken = False

    def process_item(self, item):
        if self.db is None:
            return item
        if self.storage_broken:
            self.lost([dict(item)], "storage unavailable earlier in this run")
            raise DropItem(f"not stored (storage error): {item['url']}")
        try:
            if store.begin(self.db):
                self.batch, self.batch_started = [], time.monotonic()
            status, _article_id = save_article(self.db, dict(item), self.spider.run_id, self.index)
        except sqlite3.Error as exc:
            self.failed(exc, dict(item))
            raise DropItem(f"not stored ({exc}): {item['url']}") from None
        self.batch.append((dict(item), status))
        if len(self.batch) >= self.commit_every or time.monotonic() - self.batch_started >= self.commit_seconds:
            self.commit()
        return item

    def commit(self):
        if self.db is None:
            self.batch = []
            return
        try:
            store.commit(self.db)
        except sqlite3.Error as exc:
            self.failed(exc, None)
            return
        stats = self.crawler.stats
        for item, status in self.batch:
            source_id = item.get("source_id")
            stats.inc_value(f"cuttings/articles_{status}")
            stats.inc_value(f"cuttings/source/{source_id}/articles_{status}")
            stats.inc_value(f"cuttings/source/{source_id}/body_words", store.word_count(item.get("body")))
            if item.get("published_at"):
                stats.inc_value(f"cuttings/source/{source_id}/dated")
        self.batch = []

    def failed(self, exc: sqlite3.Error, item: dict | None) -> None:
        """A write failed. A storage error loses the uncommitted batch (rolled back) and stops the
        crawl; any other error (a bug) loses only this article, whose savepoint was rolled back."""
        if not store.is_storage_error(exc):
            if item is not None:
                self.lost([item], f"{type(exc).__name__}: {exc}")
            return
        lost = [batch_item for batch_item, _ in self.batch] + ([item] if item is not None else [])
        self.batch = []
        try:
            store.rollback(self.db)
        except sqlite3.Error:
            pass
        self.storage_broken = True
        self.lost(lost, f"{type(exc).__name__}: {exc}")
        self.spider.storage_failed(exc)

    def lost(self, items: list[dict], reason: str) -> None:
        stats = self.crawler.stats
        unstored = stats.get_value("cuttings/unstored") or []
        for item in items:
            stats.inc_value("cuttings/write_failed")
            stats.inc_value(f"cuttings/source/{item.get('source_id')}/write_failed")
            unstored.append((item.get("source_id"), item.get("url"), reason[:300]))
        stats.set_value("cuttings/unstored", unstored)

    def close_spider(self):
        self.commit()
        self.index = None
        super().close_spider()
