"""The distributed crawl worker: the news spider over a shared Redis (scrapy-redis).

Any number of workers, on any machines, share one crawl through Redis:

- requests go through scrapy-redis's ``Scheduler`` (its ``PriorityQueue`` and its
  ``RFPDupeFilter``), so every worker takes the next request from one shared queue and no
  discovery document is fetched twice;
- the worker spider is the ordinary :class:`~crawler.spiders.news.NewsSpider` with its
  own ``async def start()`` and ``spider_idle`` handling (scrapy-redis's ``RedisMixin``
  feeds spiders through ``start_requests()``, which Scrapy >= 2.13 no longer calls; this
  follows rmax/scrapy-redis pull request 316): seeds come from a Redis list, and an idle
  worker keeps waiting for work until the writer ends the run;
- workers never open the SQLite file. Incremental state (which URLs are known, their
  validators) is read from a snapshot the writer publishes; everything that would write
  to the store (items, errors, fetched feeds and sitemaps, 304s) is pushed to one Redis
  list as an event, like scrapy-redis's ``RedisPipeline`` does with items, and the single
  writer (``cuttings.distributed``) applies it with the same spider and pipeline code as
  a local crawl.

Nothing is lost when a worker dies: every request the scheduler queues is also written
to a *pending* hash (one Redis transaction), a worker notes which task it took, and a
task leaves the hash only in the same transaction that pushes its results. The writer
puts pending tasks whose worker stopped heart-beating back on the queue.

Redis keys (``PREFIX`` is ``cuttings`` unless configured): ``PREFIX:run`` (the run spec),
``PREFIX:start`` (seeds), ``PREFIX:requests`` and ``PREFIX:dupefilter`` (scrapy-redis),
``PREFIX:items`` (events for the writer), ``PREFIX:pending``, ``PREFIX:owner``,
``PREFIX:worker:ID`` (heartbeats), ``PREFIX:state`` (the incremental snapshot),
``PREFIX:scheduled``, ``PREFIX:pages`` and ``PREFIX:pages_taken`` (per-run article dedupe, page
caps and the pages each task took).
"""
from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import socket
from collections import defaultdict
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.statscollectors import MemoryStatsCollector
from scrapy_redis import connection
from scrapy_redis.pipelines import RedisPipeline
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from scrapy_redis.spiders import RedisMixin

from crawler import discovery
from crawler.spiders.news import NewsSpider, _header, _is_html
from crawler.dedupe import normalise_url
from crawler.middlewares import IncrementalMiddleware

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "cuttings"
HEARTBEAT_SECONDS = 2.0
HEARTBEAT_TTL = 10  # a worker silent this long is taken for dead and its tasks re-queued


class Keys:
    """The Redis keys of one crawl namespace."""

    def __init__(self, prefix: str = DEFAULT_PREFIX):
        self.prefix = prefix
        self.run = f"{prefix}:run"
        self.start = f"{prefix}:start"
        self.requests = f"{prefix}:requests"
        self.dupefilter = f"{prefix}:dupefilter"
        self.items = f"{prefix}:items"
        self.pending = f"{prefix}:pending"
        self.owner = f"{prefix}:owner"
        self.state = f"{prefix}:state"
        self.scheduled = f"{prefix}:scheduled"
        self.pages = f"{prefix}:pages"
        self.pages_taken = f"{prefix}:pages_taken"
        self.writer = f"{prefix}:writer"

    def worker(self, worker_id: str) -> str:
        return f"{self.prefix}:worker:{worker_id}"

    @property
    def per_run(self) -> list[str]:
        """Keys a new run starts without (the run spec is replaced, not deleted)."""
        return [self.start, self.requests, self.dupefilter, self.items, self.pending, self.owner, self.state,
                self.scheduled, self.pages, self.pages_taken]


# ----------------------------------------------------------------------------------------------
# JSON codec: requests and items cross machines as JSON, never pickle (a Redis client must not
# be able to make a worker run code). Bytes, Found and Source objects are tagged.
# ----------------------------------------------------------------------------------------------

def to_json(value):
    if isinstance(value, bytes):
        return {"__b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, discovery.Found):
        return {"__found": dataclasses.asdict(value)}
    if dataclasses.is_dataclass(value) and hasattr(value, "home") and hasattr(value, "id"):
        return {"__source": value.id}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: to_json(v) for k, v in value.items()}
        return {"__map": [[to_json(k), to_json(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    return value


def from_json(value, sources: dict | None = None):
    if isinstance(value, list):
        return [from_json(v, sources) for v in value]
    if not isinstance(value, dict):
        return value
    if "__b" in value:
        return base64.b64decode(value["__b"])
    if "__found" in value:
        return discovery.Found(**value["__found"])
    if "__source" in value:
        if sources is None or value["__source"] not in sources:
            raise ValueError(f"unknown source {value['__source']!r} (is this worker on the same run?)")
        return sources[value["__source"]]
    if "__map" in value:
        return {from_json(k, sources): from_json(v, sources) for k, v in value["__map"]}
    return {k: from_json(v, sources) for k, v in value.items()}


def dumps(value) -> str:
    return json.dumps(to_json(value), ensure_ascii=False, separators=(",", ":"))


def loads(text, sources: dict | None = None):
    return from_json(json.loads(text), sources)


def encode_request(request: scrapy.Request, spider) -> str:
    return dumps(request.to_dict(spider=spider))


def decode_request(data, spider) -> scrapy.Request:
    from scrapy.utils.request import request_from_dict

    return request_from_dict(loads(data, spider.sources_by_id), spider=spider)


# ----------------------------------------------------------------------------------------------
# scrapy-redis parts: queue, scheduler, item pipeline, stats
# ----------------------------------------------------------------------------------------------

class TaskQueue(PriorityQueue):
    """scrapy-redis's priority queue, with requests as JSON instead of pickle."""

    def _encode_request(self, request):
        return encode_request(request, self.spider)

    def _decode_request(self, encoded_request):
        return decode_request(encoded_request, self.spider)


class LedgerScheduler(Scheduler):
    """scrapy-redis's scheduler plus the pending ledger: queueing a request also records it
    in ``PREFIX:pending``, taking one records which worker took it.

    The duplicate check, the queueing and the ledger entry are one Redis script (atomic):
    were the fingerprint recorded first and the worker to die before queueing, the task
    that produced the request would be parsed again elsewhere and its request refused as
    already seen, so the page would be lost."""

    ENQUEUE = """
    if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
    redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
    redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
    return 1
    """

    def open(self, spider):
        super().open(spider)
        self.keys = spider.keys
        self.worker_id = spider.worker_id
        self.enqueue_script = self.server.register_script(self.ENQUEUE)

    def enqueue_request(self, request):
        fingerprint = self.df.request_fingerprint(request)
        task = request.meta.setdefault("task", "r:" + fingerprint)
        data = self.queue._encode_request(request)
        score = -request.priority
        ledger = json.dumps({"queue": "requests", "score": score, "data": data})
        queued = self.enqueue_script(keys=[self.df.key, self.queue.key, self.keys.pending],
                                     args=["" if request.dont_filter else fingerprint, score, data, task, ledger])
        if not queued:
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self):
        request = self.queue.pop(self.idle_before_close)
        if request is None:
            return None
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        if request.meta.get("task"):
            self.server.hset(self.keys.owner, request.meta["task"], self.worker_id)
        return request


class ForwardingStatsCollector(MemoryStatsCollector):
    """Scrapy's stats, also buffering every ``cuttings/...`` increment so the worker can hand it
    to the writer with its next event (the writer's run figures add up every worker's)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.forward: dict[str, int] = defaultdict(int)

    def inc_value(self, key, count=1, start=0, spider=None):
        super().inc_value(key, count, start)
        if key.startswith("cuttings/"):
            self.forward[key] += count

    def take(self) -> dict[str, int]:
        taken, self.forward = dict(self.forward), defaultdict(int)
        return taken


class RedisItemPipeline(RedisPipeline):
    """scrapy-redis's ``RedisPipeline`` (items pushed to a Redis list, JSON), pushing each item
    in the transaction that marks its task done when it is the task's last output. Synchronous:
    a push is a fraction of a millisecond, and the order of events must be the order they
    happened in."""

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(connection.from_settings(crawler.settings), key=Keys(crawler.settings.get(
            "CUTTINGS_REDIS_PREFIX", DEFAULT_PREFIX)).items, serialize_func=dumps)
        pipeline.crawler = crawler
        return pipeline

    def process_item(self, item, spider=None):
        spider = self.crawler.spider
        spider.output_done(spider.item_tasks.pop(id(item), None), [{"type": "item", "item": dict(item)}])
        return item


class TaskLedgerMiddleware:
    """Spider middleware (outermost): a response's task is done only when everything its
    callback produced is safe in Redis: every request queued (with its own pending task) and
    every item pushed to the writer.

    Scrapy's scraper reads a callback's output ahead of handling it (up to twice
    ``CONCURRENT_ITEMS`` elements wait in a queue), so a task marked done when the callback
    ends could lose requests still waiting there if the worker dies, and the writer could
    see no pending task and end the run early. This middleware therefore schedules the
    requests itself, as the scraper would (``engine.crawl``), at the moment they are
    produced; and counts the items in flight per task (:meth:`WorkerSpider.output_done`)."""

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls()
        middleware.crawler = crawler
        return middleware

    def _take(self, element, task: str) -> bool:
        """Schedule a request now (True), or note an item as the task's output in flight."""
        if isinstance(element, scrapy.Request):
            self.crawler.engine.crawl(element)
            return True
        if element is not None:
            spider = self.crawler.spider
            spider.item_tasks[id(element)] = task
            spider.open_outputs[task] += 1
        return False

    async def process_spider_output_async(self, response, result):
        task = response.request.meta.get("task") if response.request is not None else None
        if not task:
            async for element in result:
                yield element
            return
        spider = self.crawler.spider
        spider.open_outputs[task] += 1  # the callback itself, until it ends
        try:
            async for element in result:
                if not self._take(element, task):
                    yield element
        except Exception:  # a callback that fails is done (Scrapy logs the error), as in a local crawl
            spider.output_done(task)
            raise
        spider.output_done(task)

    def process_spider_output(self, response, result):
        task = response.request.meta.get("task") if response.request is not None else None
        if not task:
            yield from result
            return
        spider = self.crawler.spider
        spider.open_outputs[task] += 1
        try:
            for element in result:
                if not self._take(element, task):
                    yield element
        except Exception:
            spider.output_done(task)
            raise
        spider.output_done(task)


class RedisSet:
    """The spider's per-run set of scheduled article URLs, shared by all workers: a hash of
    URL -> the task that scheduled it. ``add`` remembers whether this task holds the URL
    (``HSETNX`` is atomic); a task parsed again after its worker died holds its URLs again,
    so requests it had not queued yet are not lost."""

    def __init__(self, server, key):
        self.server, self.key, self.last_added, self.task = server, key, None, ""

    def __contains__(self, member) -> bool:
        holder = self.server.hget(self.key, member)
        return holder is not None and holder.decode() != self.task

    def add(self, member) -> None:
        if self.server.hsetnx(self.key, member, self.task):
            self.last_added = True
        else:
            holder = self.server.hget(self.key, member)
            self.last_added = holder is not None and holder.decode() == self.task


class RedisIncrementalMiddleware(IncrementalMiddleware):
    """The incremental rules of a local crawl, reading the snapshot of ``crawl_state`` the writer
    published in Redis (``PREFIX:state``) instead of the database, which workers never open."""

    def spider_opened(self, spider):
        super().spider_opened(spider)
        self.server, self.key = spider.server, spider.keys.state

    def state(self, url: str) -> dict | None:
        value = self.server.hget(self.key, url)
        return json.loads(value) if value else None

    def known_url(self, url: str) -> dict | None:
        return self.state(url)

    def discovery_validators(self, url: str) -> tuple[str | None, str | None]:
        from cuttings.store import discovery_key
        state = self.state(discovery_key(url))   # feeds and sitemaps are stored under their redacted URL
        if state and state.get("kind") in ("feed", "sitemap"):
            return state.get("etag"), state.get("last_modified")
        return None, None


# ----------------------------------------------------------------------------------------------
# The worker spider
# ----------------------------------------------------------------------------------------------

class WorkerSpider(RedisMixin, NewsSpider):
    """The news spider as a crawl worker: seeds from ``PREFIX:start``, requests from the shared
    scrapy-redis queue, incremental state from the writer's snapshot, results to the writer."""

    name = "news"

    def __init__(self, *args, redis_prefix: str = DEFAULT_PREFIX, worker_id: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = Keys(redis_prefix)
        self.redis_key = self.keys.start
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.sources_by_id = {s.id: s for s in self.sources}
        self.item_tasks: dict[int, str] = {}
        self.open_outputs: dict[str, int] = defaultdict(int)  # task -> its callback and items in flight
        self.found_buffer: list[list[str]] = []
        self.heartbeat = None
        self.take_page_script = None
        self.max_idle_time = 0  # never close when idle: the writer says when the run is over

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup_redis(crawler)
        # An item that never reaches RedisItemPipeline (a pipeline dropped it or failed on it)
        # still ends its task, as its loss ends the work in a local crawl.
        crawler.signals.connect(spider.item_not_pushed, signal=signals.item_dropped)
        crawler.signals.connect(spider.item_not_pushed, signal=signals.item_error)
        spider.scheduled = RedisSet(spider.server, spider.keys.scheduled)
        return spider

    def item_not_pushed(self, item, **_signal_args):
        """``item_dropped`` / ``item_error``: forget the item; its task may be done."""
        self.output_done(self.item_tasks.pop(id(item), None))

    def output_done(self, task: str | None, events: list[dict] = ()) -> None:
        """Push ``events``; one output of ``task`` (its callback, or an item) is finished, and
        when it was the last, the task is done in the same transaction."""
        if task and task in self.open_outputs:
            self.open_outputs[task] -= 1
            if self.open_outputs[task] <= 0:
                del self.open_outputs[task]
                self.push(list(events), done=task)
                return
        if events:
            self.push(list(events))

    # -- lifecycle -------------------------------------------------------------------------------
    def spider_opened(self, spider):
        super().spider_opened(spider)
        from twisted.internet import task

        self.heartbeat = task.LoopingCall(self.beat)
        self.heartbeat.start(HEARTBEAT_SECONDS, now=True)

    def spider_closed(self, spider, reason):
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        super().spider_closed(spider, reason)
        self.push([])  # figures buffered since the last event
        self.server.delete(self.keys.worker(self.worker_id))

    def beat(self):
        self.server.set(self.keys.worker(self.worker_id), str(self.run_id), ex=HEARTBEAT_TTL)

    def run_is_current(self) -> bool:
        spec = self.server.get(self.keys.run)
        return spec is not None and json.loads(spec).get("run_id") == self.run_id

    async def start(self):
        """Scrapy >= 2.13 start: the seeds already in Redis (later ones arrive through
        :meth:`spider_idle`, as in scrapy-redis)."""
        for request in self.next_requests():
            yield request

    def spider_idle(self):
        """Take seeds from Redis if any; keep the worker open until the writer ends the run."""
        if not self.run_is_current():
            self.logger.info("the crawl run is over: worker closing")
            return  # let the spider close
        self._poll_soon()
        super().spider_idle()  # schedules seeds, raises DontCloseSpider
        raise DontCloseSpider

    def _poll_soon(self):
        """Look at the shared queue again in half a second rather than at Scrapy's 5-second
        idle heartbeat, so idle workers pick up new requests quickly."""
        from twisted.internet import reactor

        def nudge():
            slot = getattr(self.crawler.engine, "_slot", None)
            if slot is not None and getattr(slot, "nextcall", None) is not None:
                slot.nextcall.schedule()

        reactor.callLater(0.5, nudge)

    # -- seeds -----------------------------------------------------------------------------------
    def next_requests(self):
        """Seeds are JSON ``{"task": ..., "sources": [ids]}`` (the sources of one host): each
        becomes that host's discovery requests; the seed's task is done once they are queued."""
        for data in self.fetch_data(self.redis_key, self.redis_batch_size):
            seed = json.loads(data)
            self.server.hset(self.keys.owner, seed["task"], self.worker_id)
            chosen = [self.sources_by_id[s] for s in seed["sources"] if s in self.sources_by_id]
            everything, self.sources = self.sources, chosen
            try:
                requests = list(self.start_requests_for_sources())
            finally:
                self.sources = everything
            for request in requests:
                yield request
            self.push([], done=seed["task"])

    def known_state(self, key: str) -> dict | None:
        """The writer's snapshot of ``crawl_state`` (workers never open the database)."""
        value = self.server.hget(self.keys.state, key)
        return json.loads(value) if value else None

    # The page budget shared by all workers, spent atomically (two workers cannot both take the
    # last page), once per task and page: a task run again after its worker died (re-queued, or a
    # discovery task parsed again) takes the pages it took before without spending them twice, or
    # the pages the dead worker spent for nothing would be missing at the end of the budget and the
    # run's last articles skipped; a listing page is spent once per run whichever task links to it
    # (ARGV: source, budget, "task URL", the listing page's URL, or "").
    TAKE_PAGE = """
    if ARGV[3] ~= '' and redis.call('SISMEMBER', KEYS[2], ARGV[3]) == 1 then return 1 end
    if redis.call('HINCRBY', KEYS[1], ARGV[1], 1) > tonumber(ARGV[2]) then
        redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
        return 0
    end
    if ARGV[3] ~= '' then redis.call('SADD', KEYS[2], ARGV[3]) end
    return 1
    """

    def take_page(self, source_id: str, url: str | None = None, task: str | None = None) -> bool:
        """The page budget shared by all workers (:attr:`TAKE_PAGE`): ``url`` is the page, ``task``
        the task that takes it (a request's own task), or None for a listing page, spent once per run
        whichever page links to it."""
        if self.take_page_script is None:
            self.take_page_script = self.server.register_script(self.TAKE_PAGE)
        taken = f"{task} {url}" if task and url else (url or "")   # no task: the page alone (a listing page)
        return bool(self.take_page_script(keys=[self.keys.pages, self.keys.pages_taken],
                                          args=[source_id, self.max_pages, taken]))

    def article_request(self, source, found: discovery.Found):
        self.scheduled.last_added = None
        request = super().article_request(source, found)
        self.found_buffer.append([source.id, found.found_by, normalise_url(found.url)])
        if request is not None and self.scheduled.last_added is False:
            self.release_request_budget(request)
            return None  # another worker scheduled this URL between our check and our add
        return request

    # -- discovery callbacks: article URLs they schedule are held by their task ------------------
    def _as_task(self, response, results):
        task = response.meta.get("task") or ""
        results = iter(results or ())
        while True:
            self.scheduled.task = task  # set again at every resumption: callbacks interleave
            try:
                element = next(results)
            except StopIteration:
                return
            yield element

    def parse_sitemap(self, response):
        return self._as_task(response, super().parse_sitemap(response))

    def parse_feed(self, response):
        return self._as_task(response, super().parse_feed(response))

    def parse_section(self, response):
        return self._as_task(response, super().parse_section(response))

    # -- everything that writes to the store becomes an event for the writer -----------------------
    def push(self, events: list[dict], done: str | None = None) -> None:
        """Push events (with the figures buffered so far) and mark a task done, atomically."""
        stats = self.crawler.stats.take() if hasattr(self.crawler.stats, "take") else {}
        if stats or self.found_buffer:
            events = [*events, {"type": "figures", "stats": stats, "found": self.found_buffer}]
            self.found_buffer = []
        if not events and not done:
            return
        pipe = self.server.pipeline(transaction=True)
        for event in events:
            pipe.rpush(self.keys.items, dumps(event))
        if done:
            pipe.hdel(self.keys.pending, done)
            pipe.hdel(self.keys.owner, done)
        pipe.execute()

    def record_error(self, source_id, url, kind, status=None, message=None):
        self.push([{"type": "error", "source_id": source_id, "url": url, "kind": kind, "status": status,
                    "message": message}])

    def record_notice(self, source_id, url, kind, message):
        """A ``crawl_notices`` row (a budget hit, a refused canonical) for the writer to store."""
        self.push([{"type": "notice", "source_id": source_id, "url": url, "kind": kind, "message": message}])

    def response_event(self, response, what: str, **extra) -> dict:
        headers = {name: _header(response, name) for name in ("ETag", "Last-Modified", "Content-Type")}
        return {"type": "response", "what": what, "url": response.url, "status": response.status,
                "headers": {k: v for k, v in headers.items() if v is not None},
                "meta": {k: response.meta.get(k) for k in ("source", "found", "state_key") if k in response.meta},
                **extra}

    def discovery_document_unchanged(self, response, source, kind: str) -> bool:
        self.push([self.response_event(response, "discovery", kind=kind)])
        return response.status == 304

    async def parse_article(self, response):
        if response.status == 304 or not _is_html(response):
            # No extraction: the writer replays the spider's handling of the response.
            self.push([self.response_event(response, "article")], done=response.meta.get("task"))
            return
        async for element in super().parse_article(response):
            yield element

    def on_error(self, failure):
        super().on_error(failure)
        self.push([], done=failure.request.meta.get("task"))


def worker_settings(settings, redis_url: str, prefix: str = DEFAULT_PREFIX) -> None:
    """Turn crawl settings (``cuttings.crawl.scrapy_settings``) into a worker's."""
    settings.set("REDIS_URL", redis_url)
    settings.set("CUTTINGS_REDIS_PREFIX", prefix)
    settings.set("SCHEDULER", "crawler.distributed.LedgerScheduler")
    settings.set("SCHEDULER_QUEUE_CLASS", "crawler.distributed.TaskQueue")
    settings.set("SCHEDULER_QUEUE_KEY", Keys(prefix).requests)
    settings.set("SCHEDULER_DUPEFILTER_KEY", Keys(prefix).dupefilter)
    settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter")
    settings.set("SCHEDULER_PERSIST", True)  # a worker closing must not empty the shared queue
    settings.set("REDIS_START_URLS_KEY", Keys(prefix).start)
    settings.set("STATS_CLASS", "crawler.distributed.ForwardingStatsCollector")
    settings.set("ITEM_PIPELINES", {"crawler.distributed.RedisItemPipeline": 300})
    downloader = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    position = downloader.pop("crawler.middlewares.IncrementalMiddleware", 560)
    downloader["crawler.middlewares.IncrementalMiddleware"] = None
    downloader["crawler.distributed.RedisIncrementalMiddleware"] = position
    settings.set("DOWNLOADER_MIDDLEWARES", downloader)
    middlewares = dict(settings.getdict("SPIDER_MIDDLEWARES"))
    middlewares["crawler.distributed.TaskLedgerMiddleware"] = 1
    settings.set("SPIDER_MIDDLEWARES", middlewares)


def host_seeds(sources) -> list[dict]:
    """One seed per host (robots.txt is fetched once per host, as in a local crawl)."""
    by_host: dict[str, list[str]] = {}
    for source in sources:
        by_host.setdefault(urlsplit(source.home).netloc, []).append(source.id)
    return [{"task": f"seed:{host}", "sources": ids} for host, ids in by_host.items()]
