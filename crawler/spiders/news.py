"""The one news spider: every source is data (``data/sources.toml``) on this shared spider.

Layered discovery per source, each URL remembering the layer that found it first:
robots.txt sitemaps and configured sitemaps (indexes and Google News sitemaps),
RSS/Atom feeds (configured and autodiscovered from ``<link rel="alternate">``),
section pages with bounded link following, and optional site-search pages.
Incremental: feed/sitemap entries older than their source's cut-off (``since``, or the source's
own window after a night it failed: ``windows``) are skipped here; URLs already
stored are skipped unless inside the revisit window, and then fetched with conditional
headers, by ``crawler.middlewares.IncrementalMiddleware`` (which also keeps each source's
page budget). Extraction runs in a process pool off the reactor thread.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import multiprocessing
import sqlite3
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from urllib.parse import quote_plus, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import (CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError,
                               DownloadTimeoutError, IgnoreRequest, ResponseDataLossError)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (ConnectionDone, ConnectionLost, ConnectionRefusedError, DNSLookupError,
                                    TCPTimedOutError, TimeoutError as TwistedTimeoutError)
from twisted.web._newclient import ResponseFailed
from twisted.web.http import PotentialDataLoss, _DataLoss

from crawler import discovery
from crawler.dedupe import normalise_url
from crawler.extract import MIN_ARTICLE_WORDS, extract_article
from crawler.items import ArticleItem
from crawler.middlewares import GONE_STATUSES, IncrementalPolicy, SkipRequest, gone_reason
from crawler.resolver import PrivateAddressResolved, resolver_refusal
from crawler.urlpolicy import UrlRefused
from cuttings import store

HTML_TYPES = ("text/html", "application/xhtml+xml")


class ExtractionTimedOut(Exception):
    """A page's extraction took longer than ``CUTTINGS_EXTRACT_TIMEOUT`` (``[crawl] extract_timeout``)."""


def classify_failure(failure) -> tuple[str, int | None, str]:
    """(kind, http status, message) for a failed request.

    Kinds: ``http_<status>``, ``timeout``, ``dns``, ``connection_refused``, ``truncated``
    (body shorter than Content-Length), ``too_large`` (over DOWNLOAD_MAXSIZE, also when
    decompressing), ``robots_disallowed``, ``redirect_loop`` (too many redirects),
    ``connection_lost``, ``ignored``, else the exception's class name in lower case.
    """
    exc = failure.value
    text = str(exc)
    if failure.check(UrlRefused):
        return exc.kind, None, text
    if failure.check(HttpError):
        status = exc.response.status
        return f"http_{status}", status, f"HTTP {status}"
    if failure.check(DownloadTimeoutError, TwistedTimeoutError, TCPTimedOutError):
        return "timeout", None, text or "timed out"
    if failure.check(PrivateAddressResolved) or isinstance(exc.__cause__, PrivateAddressResolved):
        return "private_address", None, str(exc.__cause__ or exc)
    if failure.check(CannotResolveHostError, DNSLookupError):
        # Twisted reports the resolver's refusal as "no results": the resolver remembers it
        request = getattr(failure, "request", None)
        refused = resolver_refusal(urlsplit(request.url).hostname or "") if request is not None else None
        if refused:
            return "private_address", None, refused
        return "dns", None, text
    if failure.check(DownloadConnectionRefusedError, ConnectionRefusedError):
        return "connection_refused", None, text
    if failure.check(ResponseDataLossError, _DataLoss, PotentialDataLoss):
        return "truncated", None, text or "response body shorter than its Content-Length"
    if failure.check(ResponseFailed) and any(f.check(_DataLoss) for f in getattr(exc, "reasons", [])):
        return "truncated", None, "response body shorter than its Content-Length"
    if failure.check(DownloadCancelledError):
        # Scrapy's HTTP handler cancels a download only when it passes DOWNLOAD_MAXSIZE
        # (declared by Content-Length, or counted while receiving: then without a message).
        return "too_large", None, text or "download cancelled: body larger than DOWNLOAD_MAXSIZE"
    if failure.check(IgnoreRequest):
        if "robots.txt" in text:
            return "robots_disallowed", None, text
        if "DOWNLOAD_MAXSIZE" in text:
            return "too_large", None, text
        if "redirection" in text.lower():
            return "redirect_loop", None, text
        return "ignored", None, text
    if failure.check(ResponseFailed, ConnectionLost, ConnectionDone):
        return "connection_lost", None, text
    return type(exc).__name__.lower(), None, text


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, sources=None, db=None, run_id=None, since=None, crawl_settings=None,
                 extract_workers=None, conditional_discovery=True, windows=None, **kwargs):
        super().__init__(**kwargs)
        self.sources = list(sources or [])
        self.db = db
        self.run_id = run_id
        self.since = since
        # {source id: cut-off} (cuttings.crawl.source_windows): each source's own ``since`` when no
        # --since was given; a source not in it (or windows None) has the run's ``since``
        self.windows = dict(windows) if windows is not None else None
        # sources whose window reaches back before the run's: catching up after a failed night, their
        # feeds and sitemaps are read in full (validators saved by a night they failed would hide entries)
        self.catching_up = {source_id for source_id, cutoff in (self.windows or {}).items()
                            if since is not None and (cutoff is None or cutoff < since)}
        # False: fetch feeds and sitemaps in full, ignoring their stored validators (an earlier
        # cut-off than the runs that saved them: their entries older than that were skipped)
        self.conditional_discovery = conditional_discovery
        self.crawl_settings = crawl_settings
        self.extract_workers = extract_workers
        self.found_layers: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
        self.pages_per_source: dict[str, int] = defaultdict(int)
        self.pages_taken: set[str] = set()   # the pages spent from a budget this run (each once)
        # Article requests yielded per source that will spend its page budget (known URLs the
        # incremental rules skip do not): none are built once it reaches max_pages_per_source.
        self.requests_per_source: dict[str, int] = defaultdict(int)
        self.budget_refusals: dict[str, int] = defaultdict(int)
        self.incremental_policy = None
        self.sitemaps_per_source: dict[str, int] = defaultdict(int)
        self.budgets_hit: set[tuple[str, str]] = set()
        self.scheduled: set[str] = set()
        self.pool = None
        self.extract_slots: asyncio.Semaphore | None = None   # one per worker (``extract``)
        self.hosts_seen: set[str] = set()
        # Validators of feeds and sitemaps fetched this run, written to crawl_state only when
        # the crawl finishes: after an interrupted run the next one refetches them in full.
        self.pending_validators: dict[str, tuple[str | None, str | None]] = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(spider.item_error, signal=signals.item_error)
        return spider

    def item_error(self, item, response, spider, failure):
        """An item pipeline failed: a storage error stops the crawl (see storage_failed)."""
        if store.is_storage_error(failure.value):
            self.storage_failed(failure.value)

    # -- lifecycle -------------------------------------------------------------------------------
    def spider_opened(self, spider):
        workers = self.extract_workers
        if workers is None:
            workers = self.settings.getint("CUTTINGS_EXTRACT_WORKERS", 2)
        self.extract_timeout = self.settings.getfloat("CUTTINGS_EXTRACT_TIMEOUT", 60.0)
        if workers > 0:
            self.pool = self.new_pool(workers)
        elif self.extract_timeout > 0:
            # In-process extraction runs in the reactor's thread: nothing can stop it part way (a
            # thread cannot be killed), so the timeout holds only where a pool's worker can be.
            self.logger.warning("extract_workers = 0: pages are extracted in the crawler's own process, "
                                "without [crawl] extract_timeout (%g s): a page whose extraction never "
                                "ends holds the crawl", self.extract_timeout)

    def new_pool(self, workers: int) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # Import the extractor once in the fork server: workers start with it loaded.
        context.set_forkserver_preload(["crawler.extract", "crawler.dedupe"])
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent,
                                   initargs=(os.getpid(),), mp_context=context)
        pool.cuttings_workers = workers
        for _ in range(workers):  # start the workers now, while discovery fetches feeds and sitemaps
            pool.submit(_ready)
        return pool

    def restart_pool(self, pool: ProcessPoolExecutor) -> None:
        """Replace ``pool`` (unless another page replaced it already): its workers are killed, so a
        worker stuck on a page stops holding a core; the pages it still held get BrokenProcessPool
        and are submitted again to the new pool (``extract``)."""
        if pool is not self.pool:
            return
        kill = getattr(pool, "kill_workers", None)  # Python 3.14; before, the workers by their handles
        if kill is not None:
            kill()
        else:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                with contextlib.suppress(OSError, AttributeError, ValueError):
                    process.kill()
        pool.shutdown(wait=False)
        self.pool = self.new_pool(pool.cuttings_workers)
        self.crawler.stats.inc_value("cuttings/extract_pool_restarts")

    async def extract(self, args, kwargs) -> dict:
        """Extract a page in the pool, waiting at most ``extract_timeout`` seconds (0: no limit):
        a page over it raises ExtractionTimedOut and its worker is replaced, so a hostile page
        costs one page's timeout, not the crawl. A page whose worker died under it (replaced
        after another page's timeout, or killed by the system) is tried once more."""
        loop = asyncio.get_running_loop()
        timeout = self.extract_timeout if self.extract_timeout > 0 else None
        if self.extract_slots is None:
            self.extract_slots = asyncio.Semaphore(self.pool.cuttings_workers)
        # At most one page per worker in the pool: the timeout measures a page's own extraction, not
        # its wait behind others (Scrapy runs many callbacks at once), so a page never slow is not
        # timed out, nor the workers of good pages killed, on a busy machine.
        async with self.extract_slots:
            for attempt in range(2):
                pool = self.pool
                future = loop.run_in_executor(pool, _extract, args, kwargs)
                # the pool's future is never cancelled (shield): Python 3.11's pool, broken by the
                # restart, fails on a cancelled future and then never lets the process exit; the
                # outcome of a future given up on is read, so it is not logged as never retrieved
                future.add_done_callback(lambda done: done.cancelled() or done.exception())
                try:
                    return await asyncio.wait_for(asyncio.shield(future), timeout)
                except TimeoutError:
                    self.restart_pool(pool)
                    raise ExtractionTimedOut(f"extraction took longer than {timeout:g} s "
                                             "([crawl] extract_timeout)") from None
                except BrokenProcessPool:
                    self.restart_pool(pool)
                    if attempt:
                        raise
        raise AssertionError("unreachable")

    def spider_closed(self, spider, reason):
        if reason == "finished" and self.db is not None:
            store.save_discovery_validators(self.db, self.pending_validators)
        self.crawler.stats.set_value("cuttings/found_layers", {
            source_id: {layer: set(urls) for layer, urls in layers.items()}
            for source_id, layers in self.found_layers.items()})
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    # -- helpers ---------------------------------------------------------------------------------
    def min_words(self, source) -> int:
        """Fewer words in a page's body is "too short": the source's ``min_words``, else ``[crawl]``'s."""
        if source.min_words is not None:
            return source.min_words
        return self.crawl_settings.min_article_words if self.crawl_settings else MIN_ARTICLE_WORDS

    @property
    def max_depth(self) -> int:
        return self.crawl_settings.max_depth if self.crawl_settings else 2

    @property
    def max_pages(self) -> int:
        return self.crawl_settings.max_pages_per_source if self.crawl_settings else 500

    def take_page(self, source_id: str, url: str | None = None, task: str | None = None) -> bool:
        """Spend one page of the source's budget for this run (``max_pages_per_source``); False
        when it is spent. ``url`` is the page, ``task`` the distributed crawl's task that takes it
        (a worker spends a page once per task and page: see ``crawler.distributed``). A page already
        taken this run is not spent again: a listing page linked from every other listing page (a
        section's "next", the site's menu) costs one page, not one per link to it (Scrapy's duplicate
        filter drops the request again)."""
        if url is not None and url in self.pages_taken:
            return True
        if self.pages_per_source[source_id] >= self.max_pages:
            return False
        self.pages_per_source[source_id] += 1
        if url is not None:
            self.pages_taken.add(url)
        return True

    @property
    def revisit_days(self) -> int:
        return self.crawl_settings.revisit_days if self.crawl_settings else 3

    def is_article_url(self, source, url: str) -> bool:
        return discovery.is_article_url(source, url)

    def discovery_request(self, url: str, callback, source, **meta):
        """A feed or sitemap request (made conditional by the incremental middleware when
        crawl_state holds its validators); None once the source has fetched
        ``CUTTINGS_MAX_SITEMAPS_PER_SOURCE`` sitemaps this run."""
        if callback == self.parse_sitemap:
            limit = self.settings.getint("CUTTINGS_MAX_SITEMAPS_PER_SOURCE", 100)
            if self.sitemaps_per_source[source.id] >= limit:
                self.budget_hit(source.id, "budget_sitemaps", url,
                                f"sitemap budget of {limit} per run reached: further sitemaps skipped")
                return None
            self.sitemaps_per_source[source.id] += 1
        return scrapy.Request(url, callback=callback, errback=self.on_error,
                              meta={"source": source, "incremental": "discovery", **meta})

    def discovery_document_unchanged(self, response, source, kind: str) -> bool:
        """Record a fetched feed/sitemap; True when it answered 304 Not Modified."""
        etag, last_modified = _header(response, "ETag"), _header(response, "Last-Modified")
        store.record_fetch(self.db, response.url, source_id=source.id, kind=kind, http_status=response.status)
        if response.status == 304:
            self.crawler.stats.inc_value("cuttings/discovery_not_modified")
            self.crawler.stats.inc_value(f"cuttings/source/{source.id}/discovery_not_modified")
            return True
        self.pending_validators[response.url] = (etag, last_modified)
        return False

    def since_for(self, source) -> str | None:
        """The source's cut-off: its window (``windows``) if it has one, else the run's ``since``."""
        if self.windows is not None and source.id in self.windows:
            return self.windows[source.id]
        return self.since

    def article_request(self, source, found: discovery.Found):
        """A request for a candidate article, or None if already scheduled or dated before
        its source's cut-off (:meth:`since_for`). Known URLs and the page budget are the incremental middleware's."""
        url = found.url
        key = normalise_url(url)
        self.found_layers[source.id][found.found_by].add(key)
        if key in self.scheduled:
            return None
        since = self.since_for(source)
        if since and found.published_at and found.published_at < since[:len(found.published_at)]:
            self.crawler.stats.inc_value("cuttings/skipped_before_since")
            return None
        counted_before = self.requests_per_source[source.id]
        if not self.request_budget_left(source, key, url):
            return None
        self.scheduled.add(key)
        # dont_filter: the spider dedupes on normalised URLs itself, and a redirect back to a
        # URL already requested must hit REDIRECT_MAX_TIMES (recorded) rather than vanish.
        return scrapy.Request(url, callback=self.parse_article, errback=self.on_error, dont_filter=True,
                              meta={"source": source, "found": found, "state_key": key, "incremental": "article",
                                    "budget_counted": self.requests_per_source[source.id] > counted_before})

    def release_request_budget(self, request) -> None:
        """Give back the request count of an article request dropped before it took a page (refused by
        the URL policy or robots.txt, or another worker's): only requests that fetch a page spend the
        source's budget, so a sitemap whose newest entries robots.txt disallows does not stop the source."""
        meta = request.meta
        if meta.get("budget_counted") and not meta.get("page_taken"):
            meta["budget_counted"] = False
            self.requests_per_source[meta["source"].id] -= 1

    def request_budget_left(self, source, key: str, url: str) -> bool:
        """Whether another article request may be built for the source: False once the requests
        yielded that will spend its page budget (``max_pages_per_source``) reach it, so a sitemap
        of a million URLs does not queue a million requests (the incremental middleware still
        keeps the budget at download time). A known URL the incremental rules will skip does not
        count."""
        if self.page_budget_spent(source.id):
            self.budget_refusals[source.id] += 1
            self.crawler.stats.inc_value("cuttings/skipped_page_cap")
            self.budget_hit(source.id, "budget_pages", url,
                            f"page budget of {self.max_pages} per run reached: further pages skipped")
            return False
        if self.incremental_policy is None:
            self.incremental_policy = IncrementalPolicy(self.revisit_days)
        if self.incremental_policy.skip_reason(self.known_state(key)) is None:
            self.requests_per_source[source.id] += 1
        return True

    def page_budget_spent(self, source_id: str) -> bool:
        """The requests built, or the pages fetched, have reached ``max_pages_per_source``."""
        return (self.requests_per_source[source_id] >= self.max_pages
                or self.pages_per_source[source_id] >= self.max_pages)

    def known_state(self, key: str) -> dict | None:
        """What the store knows of a normalised URL (the incremental middleware's rules read it too)."""
        return store.known_url(self.db, key) if self.db is not None else None

    def record_error(self, source_id, url, kind, status=None, message=None):
        self.crawler.stats.inc_value(f"cuttings/errors/{kind}")
        self.crawler.stats.inc_value(f"cuttings/source/{source_id}/errors")
        if self.db is not None and self.run_id is not None:
            try:
                store.record_error(self.db, self.run_id, kind, url=url, source_id=source_id, http_status=status,
                                   message=message)
            except sqlite3.Error as exc:
                self.storage_failed(exc)

    def record_notice(self, source_id, url, kind, message):
        """A ``crawl_notices`` row (budget hit, canonical refused): not an error of the run."""
        self.crawler.stats.inc_value(f"cuttings/notices/{kind}")
        if self.db is not None and self.run_id is not None:
            try:
                store.record_notice(self.db, self.run_id, kind, url=url, source_id=source_id, message=message)
            except sqlite3.Error as exc:
                self.storage_failed(exc)

    def budget_hit(self, source_id, kind, url, message):
        """Count a source hitting a budget; record the first time in this run."""
        self.crawler.stats.inc_value(f"cuttings/source/{source_id}/{kind}")
        self.record_budget_notice(source_id, kind, url, message)

    def record_budget_notice(self, source_id, kind, url, message):
        """A ``crawl_notices`` row the first time a source hits a budget in this run (the
        distributed writer calls it for the notices of every worker)."""
        if (source_id, kind) not in self.budgets_hit:
            self.budgets_hit.add((source_id, kind))
            self.record_notice(source_id, url, kind, message)

    def storage_failed(self, exc: BaseException) -> None:
        """The database cannot be written: remember why and stop the crawl (everything fetched
        from now on would be lost). The runner marks the run failed and keeps the window."""
        stats = self.crawler.stats
        stats.inc_value("cuttings/storage_errors")
        if not stats.get_value("cuttings/storage_error"):
            stats.set_value("cuttings/storage_error", f"{type(exc).__name__}: {exc}")
            self.logger.info("storage error, stopping the crawl: %s", exc)  # the CLI prints the one line
            engine = self.crawler.engine
            if engine is not None and engine.running:
                asyncio.ensure_future(engine.close_spider_async(reason="storage_error"))

    # -- requests --------------------------------------------------------------------------------
    async def start(self):
        for request in self.start_requests_for_sources():
            yield request

    def start_requests_for_sources(self):
        for source in self.sources:
            meta = {"source": source}
            host = "{0.scheme}://{0.netloc}".format(urlsplit(source.home))
            if host not in self.hosts_seen:
                self.hosts_seen.add(host)
                yield scrapy.Request(host + "/robots.txt", callback=self.parse_robots, errback=self.on_error,
                                     meta={**meta, "dont_obey_robotstxt": True, "sources_on_host": [
                                         s for s in self.sources if urlsplit(s.home).netloc == urlsplit(host).netloc]},
                                     dont_filter=True)
            for url in source.sitemaps:
                request = self.discovery_request(url, self.parse_sitemap, source)
                if request is not None:
                    yield request
            for url in source.feeds:
                yield self.discovery_request(url, self.parse_feed, source)
            yield scrapy.Request(source.home, callback=self.parse_section, errback=self.on_error,
                                 meta={**meta, "depth_left": self.max_depth})
            for url in source.sections:
                yield scrapy.Request(url, callback=self.parse_section, errback=self.on_error,
                                     meta={**meta, "depth_left": self.max_depth})
            if source.search and self.crawl_settings and self.crawl_settings.search_keywords:
                for keyword in self.crawl_settings.search_keywords:
                    url = source.search.replace("{query}", quote_plus(keyword))
                    yield scrapy.Request(url, callback=self.parse_section, errback=self.on_error,
                                         meta={**meta, "depth_left": 0, "layer": "search"})

    def parse_robots(self, response):
        for sitemap_url in discovery.parse_robots_sitemaps(response.text if hasattr(response, "text") else "", response.url):
            path = urlsplit(sitemap_url).path
            owners = [s for s in response.meta["sources_on_host"]
                      if path.startswith(urlsplit(s.home).path) or sitemap_url in s.sitemaps]
            for source in owners or response.meta["sources_on_host"][:1]:
                if sitemap_url in source.sitemaps:
                    continue
                request = self.discovery_request(sitemap_url, self.parse_sitemap, source)
                if request is not None:
                    yield request

    def parse_sitemap(self, response):
        source = response.meta["source"]
        if self.discovery_document_unchanged(response, source, "sitemap"):
            return
        if self.page_budget_spent(source.id):
            # nothing in it could be requested: not parsed (a sitemap index of a hundred big
            # sitemaps), and read in full next run (no validators kept: no 304 hiding its entries)
            self.pending_validators.pop(response.url, None)
            self.crawler.stats.inc_value("cuttings/sitemaps_not_read_budget_spent")
            return
        refused_before = self.budget_refusals[source.id]
        yield from self._sitemap_requests(response, source)
        if self.budget_refusals[source.id] != refused_before:
            self.pending_validators.pop(response.url, None)   # its entries over the budget: next run reads it again

    def _sitemap_requests(self, response, source):
        limit = self.settings.getint("CUTTINGS_MAX_SITEMAP_ENTRIES", 5000)
        read = discovery.read_sitemap(response.body, response.url, max_entries=limit,
                                      max_bytes=self.settings.getint("DOWNLOAD_MAXSIZE") or discovery.MAX_SITEMAP_BYTES)
        if read.bytes_cut or read.entries_cut:
            what = (f"over {limit} entries: {read.entries_cut} skipped (the oldest by date, else the last listed)"
                    if read.entries_cut else "")
            if read.bytes_cut:
                what = "longer than DOWNLOAD_MAXSIZE (max_page_bytes) unzipped: the rest not read" + (
                    f"; {what}" if what else "")
            self.crawler.stats.inc_value("cuttings/sitemaps_cut")
            self.budget_hit(source.id, "sitemap_cut", response.url, f"sitemap {what}")
        children, pages = read.children, read.pages
        for child in children:
            request = self.discovery_request(child, self.parse_sitemap, source)
            if request is None:
                break
            yield request
        for found in pages:
            if self.is_article_url(source, found.url):
                request = self.article_request(source, found)
                if request is not None:
                    yield request

    def parse_feed(self, response):
        source = response.meta["source"]
        if self.discovery_document_unchanged(response, source, "feed"):
            return
        refused_before = self.budget_refusals[source.id]
        for found in discovery.parse_feed(response.body, response.url):
            if self.is_article_url(source, found.url):
                request = self.article_request(source, found)
                if request is not None:
                    yield request
        if self.budget_refusals[source.id] != refused_before:
            self.pending_validators.pop(response.url, None)   # entries over the budget: read in full next run

    def parse_section(self, response):
        source = response.meta["source"]
        if not _is_html(response):
            return
        layer = response.meta.get("layer", "links")
        # response.text: Scrapy's decoding (HTTP charset, BOM, <meta>, else UTF-8 if it decodes),
        # so raw UTF-8 links on a page without a declared charset are read as UTF-8.
        links, feeds, next_url = discovery.page_links(response.text, response.url)
        for feed_url in feeds:
            if feed_url not in source.feeds:
                yield self.discovery_request(feed_url, self.parse_feed, source)
        depth_left = response.meta.get("depth_left", 0)
        link_limit = self.settings.getint("CUTTINGS_MAX_LINKS_PER_PAGE", 100)
        taken = 0
        for kind, url in discovery.read_listing(source, links, next_url, follow=depth_left > 0):
            if kind == "article":
                if taken >= link_limit:
                    self.budget_hit(source.id, "budget_links_per_page", response.url,
                                    f"page has more than {link_limit} article links: the rest were skipped")
                    continue
                taken += 1
                request = self.article_request(source, discovery.Found(url, layer))
                if request is not None:
                    yield request
            elif self.take_page(source.id, url):   # a listing page: spent once per run, whoever links to it
                yield scrapy.Request(url, callback=self.parse_section, errback=self.on_error,
                                     meta={"source": source, "depth_left": depth_left - 1, "layer": layer})

    async def parse_article(self, response):
        source = response.meta["source"]
        found: discovery.Found = response.meta["found"]
        state_key = response.meta.get("state_key") or normalise_url(response.request.url)
        self.crawler.stats.inc_value(f"cuttings/source/{source.id}/pages_fetched")
        self.crawler.stats.inc_value(f"cuttings/source/{source.id}/article_requests")
        if response.status == 304:
            self.crawler.stats.inc_value("cuttings/not_modified")
            unchanged = "stubs_rechecked" if response.meta.get("stub_recheck") else "articles_not_modified"
            self.crawler.stats.inc_value(f"cuttings/source/{source.id}/{unchanged}")
            store.record_not_modified(self.db, state_key)
            return
        if not _is_html(response):
            content_type = _header(response, "Content-Type") or "unknown"
            self.record_error(source.id, response.url, "not_html", response.status,
                              f"skipped non-HTML content ({content_type})")
            store.record_fetch(self.db, state_key, source_id=source.id, kind="rejected", found_by=found.found_by,
                               http_status=response.status, reject_reason=f"not HTML ({content_type})")
            return
        hints = {"published_at": found.published_at, "date_source": found.date_source, "title": found.title}
        # Scrapy's decoding honours the HTTP charset, a BOM and <meta charset> (windows-1252 pages).
        args = (response.text, response.url)
        kwargs = {"overrides": source.selectors or None, "hints": hints, "min_words": self.min_words(source)}
        try:
            if self.pool is not None:
                fields = await self.extract(args, kwargs)
            else:
                fields = _extract(args, kwargs)
        except Exception as exc:  # one bad page must not stop the crawl
            self.record_error(source.id, response.url, "extract_failed", response.status,
                              f"{type(exc).__name__}: {exc}"[:500])
            return
        item = ArticleItem(
            url=response.url, fetched_url=state_key, source_id=source.id, found_by=found.found_by,
            http_status=response.status, etag=_header(response, "ETag"),
            last_modified=_header(response, "Last-Modified"),
            title=fields.get("title"), body=fields.get("body"), author=fields.get("author"),
            authors=fields.get("authors"), author_source=fields.get("author_source"),
            published_at=fields.get("published_at"), published_source=fields.get("date_source"),
            modified_at=fields.get("modified_at"), modified_source=fields.get("modified_source"),
            language=fields.get("language"), description=fields.get("description"),
            section=fields.get("section"), paywalled=bool(fields.get("paywalled")),
            is_article=bool(fields.get("is_article")), reject_reason=fields.get("reject_reason"),
            extracted_canonical=fields.get("canonical_url"), fingerprint=fields.get("fingerprint"),
            rechecked=bool(response.meta.get("stub_recheck")))
        yield item

    def on_error(self, failure):
        request = failure.request
        self.release_request_budget(request)
        if failure.check(SkipRequest):
            return  # skipped by the incremental rules or the page budget: counted, not an error
        source = request.meta.get("source")
        kind, status, message = classify_failure(failure)
        if request.url.endswith("/robots.txt") and kind.startswith("http_4"):
            return  # no robots.txt is normal
        if request.url.endswith("/robots.txt") and kind == "too_large" and self.settings.getbool("ROBOTSTXT_OBEY"):
            return  # recorded once as robots_too_large by CappedRobotsTxtMiddleware
        self.record_error(source.id if source else None, request.url, kind, status, message)
        if request.meta.get("incremental") == "article" and source is not None:
            self.count_failed_article(source.id, kind, status)
        if status in GONE_STATUSES and request.meta.get("incremental") == "article" and source is not None:
            self.remember_gone(source, request, status)

    def count_failed_article(self, source_id: str, kind: str, status: int | None) -> None:
        """Count a failed article request of a source by ``store.failure_class`` (its ``source_runs`` figures:
        a source whose article pages are all refused failed, one whose only failures are dead links did not)."""
        prefix = f"cuttings/source/{source_id}/"
        self.crawler.stats.inc_value(prefix + "article_requests")
        self.crawler.stats.inc_value(prefix + "article_requests_failed")
        what = store.failure_class(kind, status)
        if what is not None:
            self.crawler.stats.inc_value(prefix + f"article_requests_{what}")

    def remember_gone(self, source, request, status: int) -> None:
        """An article URL that answered 404/410: kept in ``crawl_state`` so the next nights do not
        request it again for :data:`~crawler.middlewares.GONE_RECHECK_DAYS` days (a stored article
        that later answers 404 keeps its row: it is fetched only inside its revisit window)."""
        if self.db is None:
            return
        key = request.meta.get("state_key") or normalise_url(request.url)
        state = self.known_state(key)
        if state is not None and state["kind"] != "rejected":
            return
        found = request.meta.get("found")
        try:
            store.record_fetch(self.db, key, source_id=source.id, kind="rejected",
                               found_by=getattr(found, "found_by", None), http_status=status,
                               reject_reason=gone_reason(status))
        except sqlite3.Error as exc:
            self.storage_failed(exc)


def _ready() -> None:
    """A no-op task: submitting one per worker starts the workers at spider open."""


def _die_with_parent(crawler_pid: int) -> None:
    """Extraction workers exit when the crawler process dies, however it dies (SIGKILL, OOM).

    A worker's parent is multiprocessing's fork server, not the crawler, and the fork server
    only exits once every holder of its "alive" pipe is gone - which includes the workers
    themselves (Python hands them that pipe as their parent sentinel). So PR_SET_PDEATHSIG
    alone would leave the fork server and its workers waiting on each other for ever. Each
    worker therefore watches the crawler itself: a daemon thread polls its pid (with its
    start time, against pid reuse) and ends the worker when it is gone; the fork server then
    sees its pipe close and exits too. PR_SET_PDEATHSIG still covers the fork server dying."""
    import ctypes
    import signal
    import threading
    import time

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG

    def started(pid: int) -> str | None:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            return None if fields[0] in ("Z", "X") else fields[19]
        except (OSError, IndexError):
            try:
                os.kill(pid, 0)
                return "alive"
            except ProcessLookupError:
                return None
            except PermissionError:
                return "alive"

    birth = started(crawler_pid)

    def watch():
        while birth is not None and started(crawler_pid) == birth:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="watch-crawler", daemon=True).start()


def _extract(args, kwargs):
    """Runs in a worker process: extraction plus the body's MinHash fingerprint, so the
    reactor thread only does I/O and storage."""
    from crawler.dedupe import fingerprint, to_blob

    fields = extract_article(*args, **kwargs)
    if fields.get("is_article") and fields.get("body"):
        fields["fingerprint"] = to_blob(fingerprint(fields["body"]))
    return fields


def _header(response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _is_html(response) -> bool:
    content_type = (_header(response, "Content-Type") or "").split(";")[0].strip().lower()
    if content_type:
        return content_type in HTML_TYPES
    return isinstance(response, scrapy.http.HtmlResponse)
