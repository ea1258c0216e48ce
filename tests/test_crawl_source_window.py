"""Each source's window (``cuttings.crawl.source_windows``): a source that failed last night keeps the
cut-off of its last crawl that did not fail, so the stories it published during the outage are fetched when
it is back, while the other sources keep the normal window; capped by ``[crawl] max_catch_up_days``; an
explicit ``--since`` applies to every source. Real Scrapy crawls (`cuttings crawl` and `cuttings run`) of two
sources on 127.0.0.1 (``faultserver.local_site``), a real SQLite database; the earlier good night is recorded
through the store under its clock (``store.clock``)."""
from __future__ import annotations

import datetime as dt

import pytest

from cuttings import stages, store
from cuttings.config import ConfigError, CrawlSettings, load_sources
from cuttings.crawl import source_windows
from faultserver import HTML, article_html, corpus_story, local_site, rss, write_sources
from tests.conftest import run_cli


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
NIGHT_0 = _iso(NOW - dt.timedelta(days=3))     # the last night both sources were read (recorded, not crawled)
# story path -> (corpus id, published): the window of night 1 starts 3 days 6 hours ago; that of night 2 is
# 6 hours before night 1, except for a source that failed on night 1
A_FRESH = "/a/news/fresh/"          # alpha, an hour old: fetched on night 1
A_LATE = "/a/news/late-listed/"     # alpha, 2 days old, first listed on night 2: outside alpha's normal window
B_OUTAGE = "/b/news/outage/"        # beta, 2 days old, published while beta was down: fetched on night 2
B_OUTAGE_2 = "/b/news/outage-2/"    # beta, 2 days old too: two pages refused make beta failed, one would not
B_ANCIENT = "/b/news/ancient/"      # beta, 5 days old: before beta's last good night, never fetched
STORIES = {A_FRESH: ("gov-001", NOW - dt.timedelta(hours=1)), A_LATE: ("gov-003", NOW - dt.timedelta(days=2)),
           B_OUTAGE: ("gov-005", NOW - dt.timedelta(days=2)), B_OUTAGE_2: ("gov-011", NOW - dt.timedelta(days=2)),
           B_ANCIENT: ("gov-010", NOW - dt.timedelta(days=5))}
FEED_ETAG = '"beta-feed-1"'


class _Site:
    """Two sources on one server: alpha (``/a/``) and beta (``/b/``), each with an RSS feed. On a night
    beta is down (``beta_down``), it answers 503 for everything (``"site"``) or only for its article pages
    (``"articles"``: its feed still answers, with an ETag, as a site whose article servers are down)."""

    def __init__(self):
        self.night = 1
        self.beta_down: str | None = None
        self.requests: list[tuple[int, str, str | None]] = []   # (night, path, If-None-Match)

    def fetched(self, path: str, night: int) -> bool:
        return any(n == night and p == path for n, p, _ in self.requests)

    def __call__(self, request):
        base = f"http://127.0.0.1:{request.server.server_address[1]}"
        path = request.path
        self.requests.append((self.night, path, request.headers.get("If-None-Match")))
        if path.startswith("/b/") and self.beta_down == "site":
            return 503, {"Content-Type": HTML}, "<html><body>down for maintenance</body></html>"
        if path in ("/a/", "/b/"):
            return 200, {"Content-Type": HTML}, "<html><head><title>Home</title></head><body>home</body></html>"
        if path == "/a/feed.xml":
            listed = [A_FRESH] + ([A_LATE] if self.night >= 2 else [])
            return 200, {"Content-Type": "application/rss+xml"}, rss(base, [
                (p, corpus_story(STORIES[p][0])[0], _iso(STORIES[p][1])) for p in listed])
        if path == "/b/feed.xml":
            if request.headers.get("If-None-Match") == FEED_ETAG:
                return 304, {"ETag": FEED_ETAG}, b""
            return 200, {"Content-Type": "application/rss+xml", "ETag": FEED_ETAG}, rss(base, [
                (p, corpus_story(STORIES[p][0])[0], _iso(STORIES[p][1])) for p in (B_OUTAGE, B_OUTAGE_2, B_ANCIENT)])
        if path in STORIES:
            if path.startswith("/b/") and self.beta_down == "articles":
                return 503, {"Content-Type": HTML}, "<html><body>down for maintenance</body></html>"
            title, paragraphs = corpus_story(STORIES[path][0])
            return 200, {"Content-Type": HTML}, article_html(base, path, title, paragraphs, _iso(STORIES[path][1]))
        return None   # 404


def _sources(tmp_path, base: str):
    return write_sources(tmp_path / "sources.toml", *(
        {"id": source_id, "name": f"{source_id.title()} News", "home": f"{base}/{short}/",
         "feeds": [f"{base}/{short}/feed.xml"], "allow": [f"^/{short}/news/"], "local": True}
        for source_id, short in (("alpha", "a"), ("beta", "b"))))


def _good_night(db, sources, at: str) -> int:
    """A crawl run at ``at`` in which every source read an article (what a real good night records)."""
    with store.clock(at):
        store.sync_sources(db, sources)
        run_id = store.start_run(db, "crawl", since=None)
        store.save_source_runs(db, [{"crawl_run_id": run_id, "source_id": s.id, "found_by_feed": 1,
                                     "pages_fetched": 1, "articles_stored": 1, "articles_new": 1}
                                    for s in sources])
        store.finish_run(db, run_id, "ok")
    return run_id


def _night(tmp_path, db_path, sources_path, command: str, crawl_args=()) -> tuple[int, str]:
    args = ["--db", str(db_path)]
    if command == "crawl":
        args += ["crawl", "--sources", str(sources_path), "--no-politeness", *crawl_args]
    else:   # `cuttings run`, crawl only (as cron runs it, less the other stages)
        args += ["run", "--sources", str(sources_path), "--no-politeness", "--skip", "analyse", "--skip",
                 "classify", "--skip", "report", "--log-file", str(tmp_path / "run.log")]
    result = run_cli(*args)
    return result.returncode, result.stdout.decode() + result.stderr.decode()


def _stored(db, path: str) -> bool:
    return any(row["url"].endswith(path) for row in db.query("SELECT url FROM articles"))


def beta_down_for_a_night(tmp_path, down: str, command: str, crawl_args=()) -> None:
    """Night 0 (3 days ago, recorded) both sources read; night 1 beta down (``down``: ``"site"`` or
    ``"articles"``: its 2 new article pages refused, cuttings.failures.BLOCKED_ARTICLES_FAILED), alpha fine;
    night 2 beta back: beta's outage stories are stored, nothing older than its
    last good night is fetched, alpha keeps the normal window. ``crawl_args``: more `cuttings crawl` options
    (``--redis URL``: the distributed crawl, tests/test_distributed.py)."""
    site = _Site()
    db_path = tmp_path / "cuttings.db"
    with local_site(site) as server:
        sources_path = _sources(tmp_path, server.base)
        db = store.connect(db_path)
        _good_night(db, load_sources(sources_path).sources, NIGHT_0)
        db.close()

        site.beta_down = down   # night 1: beta is down, alpha is fine
        code, out = _night(tmp_path, db_path, sources_path, command, crawl_args)
        assert code == (4 if command == "run" else 0), out   # `cuttings run`: partial, a source failed
        db = store.connect(db_path)
        night_1 = dict(next(db.query("SELECT * FROM crawl_runs WHERE command LIKE 'crawl%' ORDER BY id DESC")))
        assert night_1["status"] == "partial", night_1
        assert _stored(db, A_FRESH) and not _stored(db, B_OUTAGE) and not _stored(db, B_OUTAGE_2)
        assert site.fetched(B_OUTAGE, 1) == site.fetched(B_OUTAGE_2, 1) == (down == "articles")   # listed, refused
        db.close()

        site.night, site.beta_down = 2, None   # night 2: beta is back
        code, out = _night(tmp_path, db_path, sources_path, command, crawl_args)
        assert code == 0, out
        db = store.connect(db_path)
        night_2 = dict(next(db.query("SELECT * FROM crawl_runs WHERE command LIKE 'crawl%' ORDER BY id DESC")))
        assert night_2["status"] == "ok", night_2
        # beta read back to its last good night (3 days ago, less the overlap): the outage story is stored
        assert _stored(db, B_OUTAGE) and _stored(db, B_OUTAGE_2), out
        assert site.fetched(B_OUTAGE, 2)
        # ... its feed read in full, not answered 304 by the validators of the night it failed
        assert [inm for night, path, inm in site.requests if night == 2 and path == "/b/feed.xml"] == [None]
        # ... but not further back than that night
        assert not site.fetched(B_ANCIENT, 1) and not site.fetched(B_ANCIENT, 2) and not _stored(db, B_ANCIENT)
        # alpha's window is the normal one: a 2-day-old story listed only now is older than it
        assert not site.fetched(A_LATE, 2) and not _stored(db, A_LATE)
        db.close()


@pytest.mark.slow
@pytest.mark.parametrize("down, command", [("site", "crawl"), ("articles", "run")])
def test_a_source_down_for_a_night_gets_the_stories_it_published_meanwhile(tmp_path, down, command):
    beta_down_for_a_night(tmp_path, down, command)


# ----------------------------------------------------------------------------------------------
# The windows, from the store's runs (no crawl)
# ----------------------------------------------------------------------------------------------

def _config(tmp_path, base="http://127.0.0.1:9"):
    return load_sources(_sources(tmp_path, base))


def _run(db, at: str, rows: dict[str, dict], status: str = "ok", command: str = "crawl") -> int:
    """A run at ``at`` with a ``source_runs`` row per source (``{source id: figures}``)."""
    with store.clock(at):
        run_id = store.start_run(db, command)
        store.save_source_runs(db, [{"crawl_run_id": run_id, "source_id": sid, **figures}
                                    for sid, figures in rows.items()])
        store.finish_run(db, run_id, status)
    return run_id


GOOD = {"found_by_feed": 2, "pages_fetched": 2, "articles_stored": 2, "article_requests": 2}
FAILED = {"errors": 1}   # nothing found, an error: its feed unreachable (cuttings.failures.source_failed)


def test_last_good_source_runs_skips_the_runs_a_source_failed_or_missed(tmp_path):
    from cuttings.failures import source_failed
    config = _config(tmp_path)
    db = store.connect(tmp_path / "x.db")
    store.sync_sources(db, config.sources)
    _run(db, "2026-11-01T02:00:00Z", {"alpha": GOOD, "beta": GOOD})
    _run(db, "2026-11-02T02:00:00Z", {"alpha": GOOD, "beta": FAILED})
    _run(db, "2026-11-03T02:00:00Z", {"alpha": GOOD, "beta": GOOD}, status="failed")    # a storage error
    _run(db, "2026-11-04T02:00:00Z", {"alpha": GOOD, "beta": GOOD}, status="interrupted")
    _run(db, "2026-11-05T02:00:00Z", {"alpha": GOOD})    # `cuttings crawl alpha`
    assert store.last_good_source_runs(db, ["alpha", "beta", "gamma"], failed=source_failed) == {
        "alpha": "2026-11-05T02:00:00Z", "beta": "2026-11-01T02:00:00Z", "gamma": None}


def test_source_windows(tmp_path):
    config = _config(tmp_path)
    crawl = config.crawl
    assert (crawl.overlap_hours, crawl.max_catch_up_days) == (6, 14)
    db = store.connect(tmp_path / "x.db")
    store.sync_sources(db, config.sources)
    with store.clock("2026-11-20T02:00:00Z"):
        assert source_windows(db, config.sources, crawl) == {"alpha": None, "beta": None}   # a first crawl
    _run(db, "2026-11-10T02:00:00Z", {"alpha": GOOD, "beta": GOOD})
    for day in range(11, 20):
        _run(db, f"2026-11-{day}T02:00:00Z", {"alpha": GOOD, "beta": FAILED})
    with store.clock("2026-11-20T02:00:00Z"):
        assert source_windows(db, config.sources, crawl) == {
            "alpha": "2026-11-18T20:00:00Z",   # the last run's start minus the overlap, as before
            "beta": "2026-11-09T20:00:00Z"}    # its last good run's
        assert stages.resolve_windows(db, None, config.sources, crawl) == source_windows(db, config.sources, crawl)
        # an explicit --since (or all) applies to every source: no windows
        assert stages.resolve_windows(db, "2026-11-01", config.sources, crawl) is None
        assert stages.resolve_windows(db, "all", config.sources, crawl) is None
    # capped: a source dead for longer reads back max_catch_up_days only
    with store.clock("2026-12-20T02:00:00Z"):
        _run(db, "2026-12-19T02:00:00Z", {"alpha": GOOD, "beta": FAILED})
        assert source_windows(db, config.sources, crawl) == {"alpha": "2026-12-18T20:00:00Z",
                                                             "beta": "2026-12-06T02:00:00Z"}
        assert source_windows(db, config.sources, CrawlSettings(max_catch_up_days=0)) == {
            "alpha": "2026-12-18T20:00:00Z", "beta": "2026-12-18T20:00:00Z"}   # no catch-up: the run's window
    # ... but never shorter than the run-wide window (no crawl for three weeks: as before, from the last one)
    with store.clock("2027-01-10T02:00:00Z"):
        assert source_windows(db, config.sources, crawl) == {"alpha": "2026-12-18T20:00:00Z",
                                                             "beta": "2026-12-18T20:00:00Z"}
    # a source added since (never crawled) reads back as far as the cap: its archive is no news (a
    # product review of 2026-12-06 late: a new source's whole sitemap, back to 2025, was listed as new
    # stories); with no catch-up, the run's window
    gamma = type(config.sources[0])(id="gamma", name="Gamma", home="http://127.0.0.1:9/g/")
    with store.clock("2026-12-20T02:00:00Z"):
        assert source_windows(db, [gamma], crawl) == {"gamma": "2026-12-06T02:00:00Z"}
        assert source_windows(db, [gamma], CrawlSettings(max_catch_up_days=0)) == {"gamma": "2026-12-18T20:00:00Z"}


def test_max_catch_up_days_is_validated(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text('[crawl]\nmax_catch_up_days = -1\n\n[[source]]\nid = "a"\nname = "A"\nhome = "https://a.example/"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[crawl\] max_catch_up_days: must be at least 0, got -1"):
        load_sources(path)
