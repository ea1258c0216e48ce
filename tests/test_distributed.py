"""The distributed crawl: a real Redis (Debian's redis-server on 127.0.0.1, a free port), real
workers (`cuttings worker`) and the writer (`cuttings crawl --redis`) against the demo site,
compared with a single-process crawl of the same site."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from cuttings.config import DEMO_SOURCES
from crawler.dedupe import normalise_url
from cuttings.demo import DEMO_SITE, serve_directory
from faultserver import REPO_ROOT, article_html, corpus_story, local_site, run_crawl_cli
from faultserver import closed_port as free_port

pytestmark = pytest.mark.slow

MANIFEST = json.loads((DEMO_SITE / "manifest.json").read_text(encoding="utf-8"))


def _end_with_us() -> None:
    """In redis-server, before exec: stop when the test process dies, even killed (Linux)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@pytest.fixture(scope="module")
def redis_url():
    """A private redis-server for this module (no persistence), stopped afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--protected-mode", "yes"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_end_with_us)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None:
                pytest.fail(f"redis-server exited with {process.returncode}")
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    with serve_directory() as base:
        sources = tmp / "demo_sources.toml"
        sources.write_text(DEMO_SOURCES.read_text(encoding="utf-8").replace("{base}", base), encoding="utf-8")
        yield sources


def cli(*args, timeout=600, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CUTTINGS_DB", "CUTTINGS_MODELS")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run([sys.executable, str(REPO_ROOT / "pipeline.py"), *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=REPO_ROOT, **kwargs)


def distributed_crawl(db, sources, redis_url, *extra) -> subprocess.CompletedProcess:
    result = cli("--db", str(db), "crawl", "--sources", str(sources), "--no-politeness", "--redis", redis_url,
                 *extra)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result


def snapshot(path) -> dict:
    """What the database holds, keyed by URLs (row ids and timestamps differ between runs)."""
    db = sqlite3.connect(path)
    snap = {
        "articles": sorted(db.execute(
            "SELECT canonical_url, url, source_id, title, body, author, published_at, modified_at, content_hash, "
            "word_count, version, paywalled FROM articles")),
        "versions": sorted(db.execute(
            "SELECT a.canonical_url, v.version, v.title, v.body, v.content_hash, v.diff_summary "
            "FROM article_versions v JOIN articles a ON a.id = v.article_id")),
        "crawl_state": sorted(db.execute(
            "SELECT s.url, s.kind, s.canonical_url, s.etag, s.last_modified, s.content_hash, s.http_status, "
            "s.reject_reason, a.canonical_url FROM crawl_state s LEFT JOIN articles a ON a.id = s.article_id")),
        "source_runs": sorted(db.execute(
            "SELECT crawl_run_id, source_id, found_by_feed, found_by_sitemap, found_by_links, found_by_search, "
            "pages_fetched, articles_stored, articles_new, pages_rejected, errors, mean_body_words, date_rate, "
            "warning, article_requests, article_requests_failed, article_requests_gone, article_requests_blocked "
            "FROM source_runs")),
        "crawl_runs": sorted(db.execute(
            "SELECT id, status, pages_fetched, articles_new, articles_updated, articles_unchanged, duplicates, "
            "pages_rejected, errors FROM crawl_runs")),
        "errors": sorted(db.execute("SELECT crawl_run_id, source_id, url, kind, http_status FROM crawl_errors")),
        "stories": stories(db),
        "copy_links": set(db.execute(
            "SELECT a.canonical_url, a.published_at, o.canonical_url, o.published_at FROM articles a "
            "JOIN articles o ON o.id = a.duplicate_of")),
    }
    db.close()
    return snap


def stories(db) -> set[frozenset]:
    """Each story as the set of its copies' URLs (the original and its syndicated copies)."""
    groups: dict[str, set] = {}
    for url, original in db.execute("SELECT a.canonical_url, coalesce(o.canonical_url, a.canonical_url) "
                                    "FROM articles a LEFT JOIN articles o ON o.id = a.duplicate_of"):
        groups.setdefault(original, set()).add(url)
    return {frozenset(g) for g in groups.values()}


def same_day_tie(link) -> bool:
    """Two copies the store cannot order: published the same day, one of them dated without a
    time. The store keeps the first copy it saw as the original, so which copy is the original
    follows arrival order, in a single-process crawl as in a distributed one."""
    _, copy_date, _, original_date = link
    return bool(copy_date and original_date) and copy_date[:10] == original_date[:10] and (
        len(copy_date) == 10 or len(original_date) == 10)


def assert_same_store(local: dict, distributed: dict) -> None:
    for key in ("articles", "versions", "crawl_state", "source_runs", "crawl_runs", "errors", "stories"):
        assert distributed[key] == local[key], key
    # Copies link to the same original, except same-day ties decided by arrival order.
    differing = local["copy_links"] ^ distributed["copy_links"]
    assert all(same_day_tie(link) for link in differing), differing
    assert len(local["copy_links"]) == len(distributed["copy_links"])


def test_two_workers_and_the_writer_store_what_a_local_crawl_stores(tmp_path, site, redis_url):
    local_db, distributed_db = tmp_path / "local.db", tmp_path / "distributed.db"
    run_crawl_cli(local_db, site, since="all")
    result = distributed_crawl(distributed_db, site, redis_url, "--since", "all", "--workers", "2")
    assert "crawl run 1: ok:" in result.stdout
    local, distributed = snapshot(local_db), snapshot(distributed_db)
    assert len(distributed["articles"]) == len(MANIFEST["articles"])
    assert_same_store(local, distributed)

    # The second crawl is incremental: the writer publishes what the store knows, workers skip it.
    run_crawl_cli(local_db, site)
    distributed_crawl(distributed_db, site, redis_url, "--workers", "2")
    local, distributed = snapshot(local_db), snapshot(distributed_db)
    assert distributed["crawl_runs"][1][2] < distributed["crawl_runs"][0][2]  # fewer pages fetched
    assert_same_store(local, distributed)

    # Nothing is left behind in Redis for the next run but the (small) per-run keys.
    import redis

    client = redis.Redis.from_url(redis_url)
    assert client.hlen("cuttings:pending") == 0 and client.llen("cuttings:items") == 0
    assert client.get("cuttings:run") is None and client.get("cuttings:writer") is None


def test_a_worker_killed_mid_crawl_loses_nothing(tmp_path, site, redis_url):
    db = tmp_path / "killed.db"
    writer = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "pipeline.py"), "--db", str(db), "crawl", "--sources", str(site),
         "--since", "all", "--no-politeness", "--redis", redis_url], cwd=REPO_ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    worker_command = [sys.executable, str(REPO_ROOT / "pipeline.py"), "worker", "--redis", redis_url]
    # Each worker in its own process group, so the test can clean up its extraction processes too.
    # Their stderr goes to files, for the assertion messages (the writer's output alone does not say why).
    worker_logs = [tmp_path / f"worker{n}.log" for n in range(2)]
    workers = [subprocess.Popen(worker_command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                                stderr=log.open("w"), env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                                start_new_session=True)
               for log in worker_logs]
    import redis

    from crawler.distributed import Keys

    client = redis.Redis.from_url(redis_url)
    victim = f"{socket.gethostname()}:{workers[0].pid}"  # a worker's id: host and process
    try:
        stored, owned = 0, 0
        deadline = time.monotonic() + 300
        # Mid-crawl: some articles stored, most not, and the worker to kill holds tasks (on a
        # loaded machine one worker may still be starting while the other has stored 20).
        while not (stored >= 20 and owned) and time.monotonic() < deadline:
            time.sleep(0.1)
            owned = sum(1 for owner in client.hvals(Keys().owner) if owner.decode() == victim)
            if db.exists():
                try:
                    with sqlite3.connect(db) as con:
                        stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]
                except sqlite3.OperationalError:
                    pass
        assert 20 <= stored < len(MANIFEST["articles"]) and owned, (stored, owned)
        workers[0].send_signal(signal.SIGKILL)
        stdout, stderr = writer.communicate(timeout=300)
        survivor = workers[1].wait(timeout=60)  # the surviving worker ends with the run
    finally:
        for process in [writer, *workers]:
            if process.poll() is None:
                process.kill()
                process.wait()
        for process in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    assert writer.returncode == 0, stdout + stderr[-3000:]
    assert "crawl run 1: ok:" in stdout
    assert "re-queued" in stdout  # the killed worker's tasks went back on the queue
    with sqlite3.connect(db) as con:
        urls = {row[0] for row in con.execute("SELECT canonical_url FROM articles")}
        missing = {normalise_url(a["canonical_url"]) for a in MANIFEST["articles"]} - urls
        if missing:  # say what the run knew of them: the writer's log, its errors and notices, the workers' logs
            paths = [urlsplit(url).path for url in missing]
            errors = [row for row in con.execute("SELECT url, kind, http_status, message FROM crawl_errors")
                      if any(path in (row[0] or "") for path in paths)]
            notices = list(con.execute("SELECT source_id, kind, url FROM crawl_notices"))
            # The run's Redis keys stay until the next run: which task held each missing URL, what is left.
            keys = Keys()
            holders = {url.decode(): (task or b"").decode() for url, task in client.hgetall(keys.scheduled).items()
                       if any(path in url.decode() for path in paths)}
            left = {"pending": client.hlen(keys.pending), "queued": client.zcard(keys.requests),
                    "items": client.llen(keys.items), "pages": client.hgetall(keys.pages)}
            worker_lines = [f"{log.name}: {line}" for log in worker_logs if log.exists()
                            for line in log.read_text(errors="replace").splitlines()]
            pytest.fail(f"{len(missing)} article(s) never stored: {sorted(missing)}\nheld by: {holders}\n"
                        f"left in Redis: {left}\nerrors: {errors}\nnotices: {notices}\nworkers' stderr:\n"
                        + "\n".join(worker_lines[-40:]) +
                        f"\nwriter stdout:\n{stdout[-3000:]}\nwriter stderr:\n{stderr[-3000:]}")
        assert urls == {normalise_url(a["canonical_url"]) for a in MANIFEST["articles"]}
        assert con.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL").fetchone()[0] == sum(
            1 for a in MANIFEST["articles"] if a["syndicated_from"])
        assert con.execute("SELECT count(*) FROM article_versions").fetchone()[0] == len(MANIFEST["articles"])
        assert con.execute("SELECT count(*) FROM crawl_state WHERE kind = 'article' AND article_id IS NOT NULL"
                           ).fetchone()[0] >= len(MANIFEST["articles"])
    assert survivor == 0


def test_notices_of_a_distributed_crawl_are_stored_as_a_local_crawls(tmp_path, site, redis_url):
    """Budgets are spent in the workers (page budget, per-page link budget, sitemaps); their
    ``crawl_notices`` rows reach the store once per source and kind, as in a local crawl."""
    sources = tmp_path / "budget_sources.toml"
    sources.write_text(site.read_text(encoding="utf-8") + "\n[crawl]\nmax_pages_per_source = 8\n", encoding="utf-8")
    local_db, distributed_db = tmp_path / "local.db", tmp_path / "distributed.db"
    run_crawl_cli(local_db, sources, since="all")
    distributed_crawl(distributed_db, sources, redis_url, "--since", "all", "--workers", "2")

    def notices(path):
        with sqlite3.connect(path) as con:
            return sorted(con.execute("SELECT source_id, kind FROM crawl_notices"))

    local = notices(local_db)
    assert ("severn-valley-echo", "budget_pages") in local  # the budget is spent, so the test means something
    assert notices(distributed_db) == local
    for path in (local_db, distributed_db):  # the budget holds, shared by the workers in a distributed crawl
        with sqlite3.connect(path) as con:
            per_source = dict(con.execute("SELECT source_id, count(*) FROM articles GROUP BY source_id"))
        assert per_source and all(count <= 8 for count in per_source.values()), (path.name, per_source)


# Cubic in the page's paragraphs (libxml2 evaluates the inner paths once per node): a page of ten
# paragraphs takes microseconds, the hostile page's 4,000 about a quarter of an hour.
SLOW_SELECTOR = "xpath://p[count(//p[count(//p) > 0]) > 0]"


@pytest.fixture()
def slow_page_site(tmp_path):
    """Three articles and one page whose extraction does not end (the source's body selector is
    cubic in its 4,000 paragraphs), on 127.0.0.1."""
    pages = {}
    with local_site(pages) as server:
        yield server.base, _slow_page_sources(tmp_path, server.base, pages)


def _slow_page_sources(tmp_path, base: str, pages: dict):
    published = "2026-11-20T08:00:00Z"
    for story in ("gov-001", "gov-003", "gov-005"):
        title, paragraphs = corpus_story(story)
        pages[f"/news/{story}/"] = article_html(base, f"/news/{story}/", title, paragraphs, published).encode()
    pages["/news/slow/"] = article_html(base, "/news/slow/", "Council budget: every line", ["x"] * 4000,
                                        published).encode()
    pages["/"] = "".join(f'<a href="{path}">{path}</a> ' for path in pages).encode()
    sources = tmp_path / "slow_sources.toml"
    sources.write_text(f"""[crawl]
max_depth = 1
extract_timeout = 5

[[source]]
id = "slow"
name = "Slow"
home = "{base}/"
allow = ['^/news/']
selectors = {{body = "{SLOW_SELECTOR}"}}
local = true
""", encoding="utf-8")
    return sources


def test_a_distributed_crawl_holds_the_extraction_timeout(tmp_path, slow_page_site, redis_url):
    """Workers extract in a pool of their own (``cuttings worker``, as a local crawl does) under
    the run's ``[crawl] extract_timeout``; the writer never extracts (it replays only 304 and
    non-HTML answers). A page whose extraction does not end is an ``extract_failed`` error naming
    the timeout, its extraction process is replaced, the other pages are stored and the run ends.
    (With ``cuttings worker --extract-workers 0`` this crawl would wait on the page for minutes.)"""
    base, sources = slow_page_site
    db = tmp_path / "distributed.db"
    result = distributed_crawl(db, sources, redis_url, "--since", "all", "--workers", "1")
    assert "crawl run 1: partial:" in result.stdout, result.stdout
    with sqlite3.connect(db) as con:
        stored = sorted(row[0] for row in con.execute("SELECT url FROM articles"))
        errors = list(con.execute("SELECT url, kind, message FROM crawl_errors"))
    assert stored == [f"{base}/news/{story}/" for story in ("gov-001", "gov-003", "gov-005")]
    assert errors == [(f"{base}/news/slow/", "extract_failed",
                       "ExtractionTimedOut: extraction took longer than 5 s ([crawl] extract_timeout)")]


def test_worker_and_crawl_reject_bad_redis_input(tmp_path):
    result = cli("worker", "--redis", "http://127.0.0.1:1/")
    assert result.returncode == 2 and "not a Redis URL" in result.stderr
    result = cli("--db", str(tmp_path / "x.db"), "crawl", "--workers", "2")
    assert result.returncode == 1 and "--workers needs --redis" in result.stderr
    port = free_port()  # nothing listens there
    result = cli("worker", "--redis", f"redis://127.0.0.1:{port}/0", "--wait", "1")
    assert result.returncode == 1 and "cannot use Redis" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_scheduler_queues_and_records_a_request_once(redis_url):
    """Duplicate check, queue and pending ledger together: a request is queued and owed once."""
    import redis
    import scrapy
    from scrapy.utils.test import get_crawler
    from twisted.internet import reactor  # noqa: F401  (the crawler is built here, never started)

    from crawler.distributed import Keys, LedgerScheduler, WorkerSpider, worker_settings

    settings = scrapy.settings.Settings()
    worker_settings(settings, redis_url, prefix="ledgertest")
    crawler = get_crawler(WorkerSpider, settings_dict={**dict(settings), "TWISTED_REACTOR": None})
    spider = WorkerSpider.from_crawler(crawler, sources=[], redis_prefix="ledgertest")
    crawler.spider = spider
    scheduler = LedgerScheduler.from_crawler(crawler)
    scheduler.open(spider)
    keys, client = Keys("ledgertest"), redis.Redis.from_url(redis_url)
    try:
        page = scrapy.Request("https://example.invalid/news/page/2")
        assert scheduler.enqueue_request(page) is True
        assert scheduler.enqueue_request(scrapy.Request("https://example.invalid/news/page/2")) is False
        again = scrapy.Request("https://example.invalid/news/page/2", dont_filter=True, meta={"task": "r:again"})
        assert scheduler.enqueue_request(again) is True
        assert client.zcard(keys.requests) == 2 and client.scard(keys.dupefilter) == 1
        ledger = {task.decode(): json.loads(value) for task, value in client.hgetall(keys.pending).items()}
        assert sorted(ledger) == sorted([page.meta["task"], "r:again"])
        assert all(entry["queue"] == "requests" and client.zscore(keys.requests, entry["data"]) is not None
                   for entry in ledger.values())
        taken = scheduler.next_request()
        assert taken.url == "https://example.invalid/news/page/2"
        assert client.hget(keys.owner, taken.meta["task"]).decode() == spider.worker_id
    finally:
        client.delete(*keys.per_run)


def test_the_page_budget_shared_by_workers_is_never_overspent(redis_url):
    """Workers spend one source's page budget at once: exactly the budget is taken, never more."""
    import threading

    import redis
    import scrapy
    from scrapy.utils.test import get_crawler
    from twisted.internet import reactor  # noqa: F401  (the crawler is built here, never started)

    from cuttings.config import CrawlSettings
    from crawler.distributed import Keys, WorkerSpider, worker_settings

    settings = scrapy.settings.Settings()
    worker_settings(settings, redis_url, prefix="budgettest")
    spiders = []
    for _ in range(2):  # two workers' spiders on one Redis
        crawler = get_crawler(WorkerSpider, settings_dict={**dict(settings), "TWISTED_REACTOR": None})
        spiders.append(WorkerSpider.from_crawler(crawler, sources=[], redis_prefix="budgettest",
                                                 crawl_settings=CrawlSettings(max_pages_per_source=25)))
    client = redis.Redis.from_url(redis_url)
    taken = []
    try:
        def spend(spider):
            taken.extend(spider.take_page("s") for _ in range(40))

        threads = [threading.Thread(target=spend, args=(spider,)) for spider in spiders for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert taken.count(True) == 25 and len(taken) == 160
        assert int(client.hget(Keys("budgettest").pages, "s")) == 25
        assert spiders[0].take_page("s") is False and spiders[1].take_page("other") is True
    finally:
        client.delete(*Keys("budgettest").per_run)


def test_a_task_run_again_after_its_worker_died_does_not_spend_its_pages_twice(redis_url):
    """A worker dies after taking pages (an article it was fetching, the listing pages a section page
    it was parsing links to); the writer re-queues its tasks and another worker runs them again. The
    pages they take again are not spent twice: the source's budget still reaches its last article.
    (Before, each run of a task spent its pages again: a crawl near its budget, as the demo site's
    Wrekin Courier is at ~415 of 500, lost its last article to ``budget_pages`` after a worker died.)"""
    import redis
    import scrapy
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler
    from twisted.internet import reactor  # noqa: F401  (the crawler is built here, never started)

    from cuttings.config import CrawlSettings, Source
    from crawler import discovery
    from crawler.distributed import Keys, RedisIncrementalMiddleware, WorkerSpider, worker_settings
    from crawler.middlewares import SkipRequest

    home = "https://news.example.invalid/"
    source = Source(id="s", name="S", home=home, sections=[home + "news/"], allow=[r"/news/\d{4}/"])
    settings = scrapy.settings.Settings()
    worker_settings(settings, redis_url, prefix="retakentest")
    workers = []
    for _ in range(2):  # the worker that dies, and the one that runs its tasks again
        crawler = get_crawler(WorkerSpider, settings_dict={**dict(settings), "TWISTED_REACTOR": None})
        spider = WorkerSpider.from_crawler(crawler, sources=[source], redis_prefix="retakentest",
                                           crawl_settings=CrawlSettings(max_pages_per_source=4))
        crawler.spider = spider
        middleware = RedisIncrementalMiddleware.from_crawler(crawler)
        middleware.spider_opened(spider)
        workers.append((spider, middleware))
    client = redis.Redis.from_url(redis_url)

    def fetch(worker, url) -> bool:
        """The request for an article as the scheduler hands it out (its task, fresh from the queue)."""
        spider, middleware = worker
        request = scrapy.Request(url, meta={"incremental": "article", "source": source, "state_key": url,
                                            "found": discovery.Found(url, "links"), "task": f"r:{url}"})
        try:
            middleware.process_request(request)
        except SkipRequest:
            return False
        return True

    listing = HtmlResponse(home + "news/", body=f'<html><body><a href="{home}news/page/2/">2</a></body></html>'.encode(), encoding="utf-8",
                           request=scrapy.Request(home + "news/", meta={"source": source, "depth_left": 1,
                                                                         "task": "r:listing"}))

    def parse(worker) -> list[str]:
        return [request.url for request in worker[0].parse_section(listing)]

    try:
        dead, survivor = workers
        assert fetch(dead, home + "news/2025/01/01/a/") and parse(dead) == [home + "news/page/2/"]
        # The worker dies before pushing anything: both tasks run again on the survivor.
        assert fetch(survivor, home + "news/2025/01/01/a/") and parse(survivor) == [home + "news/page/2/"]
        assert int(client.hget(Keys("retakentest").pages, "s")) == 2  # one article, one listing page
        # Another listing page (another task) linking to the same page does not spend it again.
        other = HtmlResponse(home + "news/local/", body=listing.body, encoding="utf-8",
                             request=scrapy.Request(home + "news/local/", meta={"source": source, "depth_left": 1,
                                                                                 "task": "r:other-listing"}))
        assert [request.url for request in survivor[0].parse_section(other)] == [home + "news/page/2/"]
        assert int(client.hget(Keys("retakentest").pages, "s")) == 2
        # The rest of the budget is whole: two more pages, then it is spent.
        assert fetch(survivor, home + "news/2025/01/02/b/") and fetch(survivor, home + "news/2025/01/03/c/")
        assert not fetch(survivor, home + "news/2025/01/04/d/")
        assert int(client.hget(Keys("retakentest").pages, "s")) == 4
    finally:
        client.delete(*Keys("retakentest").per_run)


def test_a_source_down_for_a_night_catches_up_through_the_workers(tmp_path, redis_url):
    """The writer gives the workers each source's window (the run spec's ``windows``) and which sources read
    their feeds in full, as a local crawl gives its spider (tests/test_crawl_source_window.py)."""
    from tests.test_crawl_source_window import beta_down_for_a_night
    beta_down_for_a_night(tmp_path, "articles", "crawl", ["--redis", redis_url, "--workers", "1"])
