"""The distributed crawl over Redis: the single writer, and the worker's process.

``cuttings crawl --redis URL`` runs :func:`run_distributed_crawl`, the one process that
writes the SQLite file. It publishes the run (sources, crawl settings, the incremental
snapshot of ``crawl_state``), seeds one discovery task per host into Redis, optionally
starts local workers, and drains the workers' events into the store through the same
spider and item-pipeline code as a local crawl (dedupe, syndication, revisions, crawl
state, errors). The run ends when no task is pending and every event is applied; the
``crawl_runs`` and ``source_runs`` rows are written as a local crawl writes them.

``cuttings worker --redis URL`` runs :func:`run_worker`: it waits for a run, crawls it
with :class:`crawler.distributed.WorkerSpider` and exits when the writer ends the run (a
service manager restarts it for the next one). See ``docs/operations.md``.
"""
from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time

from cuttings import store
from cuttings.config import CrawlSettings, Source
from cuttings.errors import CuttingsError

log = logging.getLogger(__name__)

ORPHAN_CHECK_SECONDS = 2.0
WRITER_LOCK_SECONDS = 30


class DistributedError(CuttingsError):
    """A problem a user can fix: Redis unreachable, another writer running."""


def connect_redis(url: str):
    import redis

    try:
        server = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=30, retry_on_timeout=True)
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise DistributedError(f"cannot use Redis at {url}: {exc}") from None
    return server


# ----------------------------------------------------------------------------------------------
# The writer's stand-in for Scrapy: the spider and item pipelines run here without a crawl,
# on events, with the writer's database and one stats collector for the whole run.
# ----------------------------------------------------------------------------------------------

class _WriterCrawler:
    def __init__(self, settings):
        from scrapy.statscollectors import MemoryStatsCollector

        self.settings = settings
        self.stats = MemoryStatsCollector(self)
        self.spider = None


def _call(method, *args):
    """Call a Scrapy component method written for either signature (with or without ``spider``)."""
    if method is None:
        return None
    params = [p for p in inspect.signature(method).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(params) > len(args):
        return method(*args, method.__self__.crawler.spider if hasattr(method.__self__, "crawler") else None)
    return method(*args)


class Writer:
    """Applies worker events to the store, as the local crawl's spider and pipelines would."""

    def __init__(self, db, run_id: int, sources: list[Source], crawl: CrawlSettings, since: str | None,
                 settings, windows: dict[str, str | None] | None = None):
        from scrapy.utils.conf import build_component_list
        from scrapy.utils.misc import load_object

        from crawler.spiders.news import NewsSpider

        self.db = db
        self.sources = {s.id: s for s in sources}
        self.crawler = _WriterCrawler(settings)
        spider = NewsSpider(sources=sources, db=db, run_id=run_id, since=since, windows=windows,
                            crawl_settings=crawl, extract_workers=0)
        spider.crawler = self.crawler
        spider.settings = settings
        self.crawler.spider = spider
        self.spider = spider
        self.pipelines = []
        for path in build_component_list(settings.getwithbase("ITEM_PIPELINES")):
            cls = load_object(path)
            pipeline = cls.from_crawler(self.crawler) if hasattr(cls, "from_crawler") else cls()
            self.pipelines.append(pipeline)
        for pipeline in self.pipelines:
            _call(getattr(pipeline, "open_spider", None))
        self.loop = asyncio.new_event_loop()
        self.applied = 0

    def apply(self, event: dict) -> None:
        from crawler import distributed

        kind = event.get("type")
        if kind == "figures":
            for key, count in (event.get("stats") or {}).items():
                if isinstance(key, str) and key.startswith("cuttings/") and isinstance(count, int):
                    self.crawler.stats.inc_value(key, count)
            for source_id, layer, url in event.get("found") or []:
                self.spider.found_layers[source_id][layer].add(url)
            return
        self.applied += 1
        if kind == "item":
            self.process_item(event["item"])
        elif kind == "error":
            self.spider.record_error(event.get("source_id"), event.get("url"), str(event.get("kind")),
                                     event.get("status"), event.get("message"))
        elif kind == "notice":
            self.notice(event)
        elif kind == "response":
            response = self.response(event, distributed)
            source = response.meta.get("source")
            if event.get("what") == "discovery":
                self.spider.discovery_document_unchanged(response, source, event.get("kind"))
            else:
                self.loop.run_until_complete(self._drain(self.spider.parse_article(response)))
        else:
            log.warning("unknown event from a worker ignored: %r", kind)

    def notice(self, event: dict) -> None:
        """Store a worker's notice. A budget is recorded once per source and run, as a local crawl
        records it, however many workers hit it."""
        kind = str(event.get("kind"))
        if kind.startswith("budget_"):
            self.spider.record_budget_notice(event.get("source_id"), kind, event.get("url"), event.get("message"))
        else:
            self.spider.record_notice(event.get("source_id"), event.get("url"), kind, event.get("message"))

    @staticmethod
    async def _drain(generator) -> None:
        async for _ in generator:
            pass

    def response(self, event: dict, distributed):
        import scrapy
        from scrapy.http import Response

        meta = distributed.from_json(event.get("meta") or {}, self.sources)
        request = scrapy.Request(event["url"], meta=meta)
        return Response(event["url"], status=int(event["status"]), headers=event.get("headers") or {},
                        request=request)

    def process_item(self, fields: dict) -> None:
        from scrapy.exceptions import DropItem

        from crawler import distributed
        from crawler.items import ArticleItem

        item = ArticleItem(**distributed.from_json(fields))
        for pipeline in self.pipelines:
            try:
                result = _call(pipeline.process_item, item)
                if inspect.isawaitable(result):
                    result = self.loop.run_until_complete(result)
                item = result if result is not None else item
            except DropItem:
                return

    def flush(self) -> None:
        """Commit the batch the store pipeline holds open (the writer is about to wait)."""
        for pipeline in self.pipelines:
            flush = getattr(pipeline, "commit", None)
            if callable(flush):
                flush()

    def close(self, reason: str) -> dict:
        for pipeline in self.pipelines:
            _call(getattr(pipeline, "close_spider", None))
        self.spider.spider_closed(self.spider, reason)
        self.loop.close()
        return self.crawler.stats.get_stats()


# ----------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------

def publish_run(server, keys, db, run_id: int, sources: list[Source], crawl: CrawlSettings,
                since: str | None, polite: bool, windows: dict[str, str | None] | None = None,
                conditional: bool = True) -> int:
    """Clear the previous run's keys, publish the incremental snapshot, the run spec and the
    seeds. Returns how many crawl_state rows were published. The spec carries the run's cut-off
    (``since``), each source's (``windows``) and whether feeds may be fetched conditionally, as a local
    crawl gives them to its spider (``cuttings.crawl.run_crawl``)."""
    from crawler.distributed import host_seeds

    server.delete(*keys.per_run)
    published = 0
    pipe = server.pipeline(transaction=False)
    for row in db.query(store.KNOWN_URL_SQL):
        url = row.pop("url")
        pipe.hset(keys.state, url, json.dumps(row))
        published += 1
        if published % 1000 == 0:
            pipe.execute()
    pipe.execute()
    spec = {"run_id": run_id, "since": since, "windows": windows, "conditional_discovery": conditional,
            "polite": polite, "crawl": dataclasses.asdict(crawl),
            "sources": [s.as_dict() for s in sources], "writer": f"{socket.gethostname()}:{os.getpid()}"}
    pipe = server.pipeline(transaction=True)
    pipe.set(keys.run, json.dumps(spec))
    for seed in host_seeds(sources):
        data = json.dumps(seed)
        pipe.hset(keys.pending, seed["task"], json.dumps({"queue": "start", "data": data}))
        pipe.rpush(keys.start, data)
    pipe.execute()
    return published


class OrphanWatch:
    """Finds pending tasks nobody holds: not queued, and taken by no live worker. A task must
    look orphaned in two checks in a row (a worker records a task just after taking it)."""

    def __init__(self, server, keys):
        self.server, self.keys = server, keys
        self.suspects: set[bytes] = set()
        self.requeued = 0
        self.last_check = 0.0
        self.last_live: set[str] = set()

    def live_workers(self) -> set[str]:
        prefix = self.keys.worker("")
        return {key.decode()[len(prefix):] for key in self.server.scan_iter(match=prefix + "*", count=1000)}

    def check(self, quiet: bool) -> int:
        now = time.monotonic()
        live = self.live_workers()
        changed = live != self.last_live
        self.last_live = live
        if not (quiet or changed or self.suspects) or now - self.last_check < ORPHAN_CHECK_SECONDS:
            if not (now - self.last_check >= 15 * ORPHAN_CHECK_SECONDS):
                return 0
        self.last_check = now
        pending = self.server.hgetall(self.keys.pending)
        owners = self.server.hgetall(self.keys.owner)
        suspects = set()
        for task, value in pending.items():
            owner = owners.get(task)
            if owner is not None and owner.decode() in live:
                continue
            spec = json.loads(value)
            if spec["queue"] == "requests":
                queued = self.server.zscore(self.keys.requests, spec["data"]) is not None
            else:
                queued = self.server.lpos(self.keys.start, spec["data"]) is not None
            if not queued:
                suspects.add(task)
        confirmed = suspects & self.suspects
        self.suspects = suspects - confirmed
        for task in confirmed:
            spec = json.loads(pending[task])
            pipe = self.server.pipeline(transaction=True)
            if spec["queue"] == "requests":
                pipe.execute_command("ZADD", self.keys.requests, spec["score"], spec["data"])
            else:
                pipe.rpush(self.keys.start, spec["data"])
            pipe.hdel(self.keys.owner, task)
            pipe.execute()
            log.info("re-queued task %s of a worker that stopped", task.decode())
        self.requeued += len(confirmed)
        return len(confirmed)


def run_distributed_crawl(db, sources: list[Source], crawl: CrawlSettings, redis_url: str, *,
                          since: str | None = None, windows: dict[str, str | None] | None = None,
                          polite: bool = True, workers: int = 0,
                          prefix: str | None = None, extract_workers: int | None = None, on_page=None,
                          log_level: str = "WARNING", command: str = "crawl", wait_workers: float = 600.0):
    """Crawl ``sources`` through Redis into ``db`` (this process is the only writer) and return
    the same summary as :func:`cuttings.crawl.run_crawl`. ``workers``: local worker processes to
    start (others may join from any machine with ``cuttings worker``)."""
    from crawler.distributed import DEFAULT_PREFIX, Keys
    from cuttings.crawl import conditional_discovery, finish_crawl, log_catching_up, scrapy_settings

    keys = Keys(prefix or DEFAULT_PREFIX)
    server = connect_redis(redis_url)
    me = f"{socket.gethostname()}:{os.getpid()}"
    if not server.set(keys.writer, me, nx=True, ex=WRITER_LOCK_SECONDS):
        holder = (server.get(keys.writer) or b"?").decode()
        raise DistributedError(f"another writer ({holder}) is running a crawl on {redis_url} "
                               f"(prefix {keys.prefix!r})")
    store.redact_known_secrets(db)   # as a local crawl does (cuttings.crawl.run_crawl)
    store.sync_sources(db, sources)
    conditional = conditional_discovery(db, since)
    run_id = store.start_run(db, command, since=since)
    log_catching_up(since, windows)
    settings = scrapy_settings(crawl, polite=polite, log_level=log_level)
    writer = Writer(db, run_id, sources, crawl, since, settings, windows=windows)
    publish_run(server, keys, db, run_id, sources, crawl, since, polite, windows=windows, conditional=conditional)
    processes = start_local_workers(redis_url, keys.prefix, workers, extract_workers=extract_workers,
                                    log_level=log_level)
    watch = OrphanWatch(server, keys)
    status, message = "ok", None
    last_lock = time.monotonic()
    no_workers_since = time.monotonic()
    try:
        while True:
            pipe = server.pipeline(transaction=True)
            pipe.lrange(keys.items, 0, 499)
            pipe.ltrim(keys.items, 500, -1)
            batch, _ = pipe.execute()
            for data in batch:
                try:
                    event = json.loads(data)
                    writer.apply(event)
                except Exception as exc:  # one bad event must not stop the run
                    log.error("could not apply a worker event: %s: %s", type(exc).__name__, exc)
                    continue
                if on_page is not None and event.get("type") in ("item", "response"):
                    on_page(event.get("url") or "")
            if time.monotonic() - last_lock > WRITER_LOCK_SECONDS / 3:
                server.set(keys.writer, me, ex=WRITER_LOCK_SECONDS)
                last_lock = time.monotonic()
            if batch:
                continue
            writer.flush()
            pipe = server.pipeline(transaction=True)
            pipe.hlen(keys.pending).llen(keys.items).llen(keys.start).zcard(keys.requests)
            pending, items, seeds, queued = pipe.execute()
            if pending == 0 and items == 0:
                break
            watch.check(quiet=items == 0 and seeds == 0 and queued == 0)
            if watch.last_live or any(p.poll() is None for p in processes):
                no_workers_since = time.monotonic()
            elif time.monotonic() - no_workers_since > wait_workers:
                status, message = "interrupted", f"no worker took part for {wait_workers:.0f} seconds"
                break
            time.sleep(0.05)
    except KeyboardInterrupt:
        status, message = "interrupted", "interrupted by the user"
    finally:
        server.delete(keys.run)  # workers close when idle
        stop_local_workers(processes)
    stats = writer.close("finished" if status == "ok" else "shutdown")
    stats["cuttings/requeued_tasks"] = watch.requeued
    if server.get(keys.writer) == me.encode():
        server.delete(keys.writer)
    summary = finish_crawl(db, run_id, sources, stats, status, message)
    summary.requeued = watch.requeued
    return summary


# ----------------------------------------------------------------------------------------------
# Workers
# ----------------------------------------------------------------------------------------------

def start_local_workers(redis_url: str, prefix: str, count: int, *, extract_workers: int | None = None,
                        log_level: str = "WARNING") -> list[subprocess.Popen]:
    command = [sys.executable, "-m", "pipeline", "worker", "--redis", redis_url, "--prefix", prefix,
               "--log-level", log_level]
    if extract_workers is not None:
        command += ["--extract-workers", str(extract_workers)]
    from cuttings.store import REPO_DIR

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_DIR), os.environ.get("PYTHONPATH")]))}
    return [subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, preexec_fn=_end_with_writer)
            for _ in range(count)]


def _end_with_writer() -> None:
    """In a local worker, before exec: SIGTERM (a graceful stop) when the writer dies, even by
    SIGKILL (Linux ``PR_SET_PDEATHSIG``; elsewhere the worker ends with the run)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def stop_local_workers(processes: list[subprocess.Popen], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_run(server, keys, timeout: float | None = None) -> dict | None:
    """The published run spec, waiting for one (None after ``timeout`` seconds)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        spec = server.get(keys.run)
        if spec is not None:
            return json.loads(spec)
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(0.5)


def run_worker(redis_url: str, *, prefix: str | None = None, extract_workers: int | None = None,
               log_level: str = "WARNING", wait: float | None = None) -> dict | None:
    """Wait for a crawl run on Redis, work on it until the writer ends it, return the worker's
    Scrapy stats (None if no run came within ``wait`` seconds)."""
    from scrapy.crawler import CrawlerProcess

    from crawler.distributed import DEFAULT_PREFIX, Keys, WorkerSpider, worker_settings
    from cuttings.crawl import scrapy_settings

    keys = Keys(prefix or DEFAULT_PREFIX)
    server = connect_redis(redis_url)
    spec = wait_for_run(server, keys, wait)
    if spec is None:
        return None
    crawl = CrawlSettings(**spec["crawl"])
    sources = [Source(**entry) for entry in spec["sources"]]
    settings = scrapy_settings(crawl, polite=spec.get("polite", True), log_level=log_level)
    worker_settings(settings, redis_url, keys.prefix)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(WorkerSpider)
    process.crawl(crawler, sources=sources, db=None, run_id=spec["run_id"], since=spec.get("since"),
                  windows=spec.get("windows"), conditional_discovery=spec.get("conditional_discovery", True),
                  crawl_settings=crawl, extract_workers=extract_workers, redis_prefix=keys.prefix)
    process.start()
    return crawler.stats.get_stats() if crawler.stats else {}
