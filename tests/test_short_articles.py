"""Briefs and cut-offs: the word floor under which a page is "too short" is configuration (``[crawl]
min_article_words``, a source's ``min_words``), and a page rejected as too short is fetched
again while it is new (a breaking-news stub grows into the story), never after."""
from __future__ import annotations

import datetime as dt

import pytest

from crawler.extract import MIN_ARTICLE_WORDS, TOO_SHORT, extract_article
from crawler.middlewares import IncrementalPolicy
from crawler.spiders.news import NewsSpider
from cuttings.config import ConfigError, load_sources

BRIEF = ("<html><head><title>Crews called to barn fire</title>"
         '<meta property="og:type" content="article"></head><body><article><h1>Crews called to barn fire</h1>'
         "<p>Firefighters from Ludlow and Craven Arms were called to a barn fire near Onibury on Tuesday "
         "evening. Nobody was hurt and the road has reopened, the fire service said.</p></article></body></html>")

SOURCES = """
[crawl]
{crawl}
[[source]]
id = "brief-news"
name = "Brief News"
home = "https://brief.example/"
{source}
"""


def _sources(tmp_path, crawl: str = "", source: str = ""):
    path = tmp_path / "sources.toml"
    path.write_text(SOURCES.format(crawl=crawl, source=source), encoding="utf-8")
    return load_sources(path)


def test_a_brief_is_too_short_by_default_and_an_article_under_a_lower_floor():
    words = len(extract_article(BRIEF, "https://brief.example/news/barn-fire/", min_words=1)["body"].split())
    assert words < MIN_ARTICLE_WORDS
    assert extract_article(BRIEF, "https://brief.example/news/barn-fire/")["reject_reason"] == TOO_SHORT
    brief = extract_article(BRIEF, "https://brief.example/news/barn-fire/", min_words=20)
    assert brief["is_article"] and brief["reject_reason"] is None and "Onibury" in brief["body"]
    assert extract_article(BRIEF, "https://brief.example/news/barn-fire/", min_words=words + 1)["reject_reason"] == TOO_SHORT


def test_the_floor_is_the_sources_else_the_crawls(tmp_path):
    config = _sources(tmp_path, crawl="min_article_words = 25", source="min_words = 12")
    assert config.crawl.min_article_words == 25 and config.sources[0].min_words == 12
    spider = NewsSpider(sources=config.sources, crawl_settings=config.crawl)
    assert spider.min_words(config.sources[0]) == 12
    config = _sources(tmp_path, crawl="min_article_words = 25")
    assert NewsSpider(sources=config.sources, crawl_settings=config.crawl).min_words(config.sources[0]) == 25
    assert NewsSpider(sources=config.sources).min_words(config.sources[0]) == MIN_ARTICLE_WORDS


@pytest.mark.parametrize("crawl, source, message", [
    ("min_article_words = 0", "", "min_article_words: must be above 0"),
    ("", "min_words = 0", "'min_words' must be above 0"),
    ("", 'min_words = "few"', "min_words: expected a whole number"),
])
def test_a_bad_floor_is_one_line_naming_the_file(tmp_path, crawl, source, message):
    with pytest.raises(ConfigError, match=message) as caught:
        _sources(tmp_path, crawl=crawl, source=source)
    assert str(tmp_path / "sources.toml") in str(caught.value) and "\n" not in str(caught.value)


def test_a_too_short_page_is_fetched_again_while_new_other_rejections_never():
    policy = IncrementalPolicy(revisit_days=3)
    now = dt.datetime(2026, 12, 6, 6, 0, tzinfo=dt.timezone.utc)
    fresh, old = "2026-12-05T01:00:00Z", "2026-11-20T01:00:00Z"
    stub = {"kind": "rejected", "reject_reason": TOO_SHORT, "first_seen_at": fresh, "published_at": None}
    assert policy.skip_reason(stub, now) is None
    assert policy.skip_reason({**stub, "first_seen_at": old}, now) == "rejected"
    assert policy.skip_reason({**stub, "reject_reason": "tag/author page"}, now) == "rejected"


def test_conditional_discovery_only_when_the_last_crawl_took_every_entry_this_one_would(tmp_path):
    from cuttings import store
    from cuttings.crawl import conditional_discovery
    db = store.connect(tmp_path / "c.db")
    assert conditional_discovery(db, "2026-12-05T00:00:00Z")   # no crawl yet: nothing saved
    run = store.start_run(db, "crawl", since="2026-12-04T19:00:00Z")
    db.execute("UPDATE crawl_runs SET status = 'ok' WHERE id = ?", [run])
    assert conditional_discovery(db, "2026-12-05T19:00:00Z")   # the next night: a later cut-off
    assert not conditional_discovery(db, "2026-01-01")         # an earlier one: read feeds in full
    assert not conditional_discovery(db, None)                 # --since all
    # one source crawled from January after the nightly run: the nightly run's validators still
    # stand for the others, so June is still too early for them
    run = store.start_run(db, "crawl srcA", since="2026-01-01")
    db.execute("UPDATE crawl_runs SET status = 'ok', started_at = '2998-01-01T00:00:00Z' WHERE id = ?", [run])
    assert not conditional_discovery(db, "2026-06-01")
    run = store.start_run(db, "crawl", since=None)
    db.execute("UPDATE crawl_runs SET status = 'ok', started_at = '2999-01-01T00:00:00Z' WHERE id = ?", [run])
    assert conditional_discovery(db, "2026-01-01")              # the last crawl took every entry
    db.close()


@pytest.mark.slow
def test_an_earlier_since_than_the_last_crawls_reads_feeds_and_sitemaps_in_full(tmp_path):
    """After a crawl with a cut-off, the feed's entries older than it were skipped; `--since all`
    must not get a 304 for that feed (they would be lost for good)."""
    from faultserver import FaultServer, run_crawl_cli
    db_path = tmp_path / "quiet.db"
    with FaultServer() as server:
        sources = server.sources_toml(tmp_path / "sources.toml")
        run_crawl_cli(db_path, sources, "quiet-news", since="2099-01-01")   # every entry too old
        server.clear_log()
        run_crawl_cli(db_path, sources, "quiet-news", since="2099-02-01")   # later: conditional
        later = {r.path: r for r in server.requests if r.path == "/quiet/feed.xml"}
        server.clear_log()
        run_crawl_cli(db_path, sources, "quiet-news", since="all")
        full = {r.path: r for r in server.requests if r.path == "/quiet/feed.xml"}
    assert later["/quiet/feed.xml"].status == 304 and "if-none-match" in later["/quiet/feed.xml"].headers
    assert full["/quiet/feed.xml"].status == 200 and "if-none-match" not in full["/quiet/feed.xml"].headers
    import sqlite3
    with sqlite3.connect(db_path) as check:
        assert check.execute("SELECT count(*) FROM articles").fetchone()[0] == 10


def test_a_stub_checked_again_is_counted_apart_from_new_rejections(tmp_path):
    """The digest flags an outlet that stored nothing while rejecting pages; a known stub rejected
    again while it is checked for growth is no such sign (a second `make demo` stays healthy)."""
    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from crawler.items import ArticleItem
    from crawler.pipelines import RejectNonArticlesPipeline
    from cuttings import store
    db = store.connect(tmp_path / "c.db")
    store.sync_sources(db, _sources(tmp_path).sources)
    crawler = get_crawler(NewsSpider)
    crawler.spider = NewsSpider.from_crawler(crawler, db=db)
    pipeline = RejectNonArticlesPipeline.from_crawler(crawler)
    pipeline.open_spider()
    for url, rechecked in (("https://brief.example/a/", False), ("https://brief.example/b/", True)):
        with pytest.raises(DropItem):
            pipeline.process_item(ArticleItem(url=url, fetched_url=url, source_id="brief-news", is_article=False,
                                              body="Road closed.", reject_reason=TOO_SHORT, rechecked=rechecked))
    stats = crawler.stats.get_stats()
    assert stats["cuttings/source/brief-news/pages_rejected"] == 1
    assert stats["cuttings/source/brief-news/stubs_rechecked"] == 1
    kinds = {row["url"]: row["kind"] for row in db.query("SELECT url, kind FROM crawl_state")}
    assert kinds == {"https://brief.example/a/": "rejected", "https://brief.example/b/": "rejected"}
    db.close()


STUB_BODY = "<p>Crews are at the scene of a fire at a farm near Onibury. More to follow.</p>"
GROWN_BODY = "".join(f"<p>Paragraph {n}: firefighters from Ludlow and Craven Arms spent the evening at the farm "
                     f"near Onibury, where a barn of hay bales caught fire; nobody was hurt, the service said.</p>"
                     for n in range(4))


class _Site:
    """A one-story site on 127.0.0.1: a feed and a story that is a stub until ``grown``; ETags on both."""

    def __init__(self):
        from faultserver import start_local_site
        self.grown, self.requests, self.feeds = False, [], 0
        self.server = start_local_site(self.respond)
        self.base = self.server.base

    def respond(self, request):
        import hashlib
        base = request.server.base
        if request.path == "/feed.xml":   # a live feed changes between crawls (other stories come and go)
            self.feeds += 1
            body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Brief {self.feeds}</title><item>'
                    f"<title>Barn fire near Onibury</title><link>{base}/news/barn-fire/</link>"
                    f"<pubDate>{dt.datetime.now(dt.timezone.utc):%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
                    f"</item></channel></rss>").encode()
            kind = "application/rss+xml"
        elif request.path == "/news/barn-fire/":
            body = ('<html><head><title>Barn fire near Onibury</title><meta property="og:type" '
                    'content="article"></head><body><article><h1>Barn fire near Onibury</h1>'
                    + (GROWN_BODY if self.grown else STUB_BODY) + "</article></body></html>").encode()
            kind = "text/html; charset=utf-8"
        else:
            body, kind = b"<h1>Brief News</h1>", "text/html"
        etag = f'"{hashlib.sha1(body).hexdigest()[:12]}"'
        self.requests.append((request.path, request.headers.get("If-None-Match")))
        if request.headers.get("If-None-Match") == etag:
            return 304, {}, b""
        return 200, {"Content-Type": kind, "ETag": etag}, body

    def close(self):
        self.server.stop()


@pytest.mark.slow
def test_a_stub_is_checked_again_conditionally_and_stored_once_it_grows(tmp_path):
    """A real crawl: a breaking-news stub is rejected as too short; the next crawl asks for it with
    its ETag (304: still a stub, not a new rejection); once the story is written, it is stored."""
    import sqlite3

    from faultserver import run_crawl_cli
    site = _Site()
    try:
        sources = tmp_path / "sources.toml"
        sources.write_text(f'[crawl]\nrevisit_days = 3\n\n[[source]]\nid = "brief-news"\nname = "Brief News"\n'
                           f'home = "{site.base}/"\nfeeds = ["{site.base}/feed.xml"]\nlocal = true\n', encoding="utf-8")
        db_path = tmp_path / "brief.db"
        run_crawl_cli(db_path, sources, since="all")
        site.requests.clear()
        run_crawl_cli(db_path, sources, since="all")
        stub_again = [etag for path, etag in site.requests if path == "/news/barn-fire/"]
        site.grown = True
        run_crawl_cli(db_path, sources, since="all")
    finally:
        site.close()
    assert stub_again and stub_again[0] is not None   # asked conditionally, answered 304
    with sqlite3.connect(db_path) as db:
        runs = db.execute("SELECT pages_rejected, articles_stored FROM source_runs ORDER BY crawl_run_id").fetchall()
        assert runs[0] == (1, 0) and runs[1] == (0, 0) and runs[2][1] == 1
        assert db.execute("SELECT title FROM articles").fetchall() == [("Barn fire near Onibury",)]
        assert db.execute("SELECT kind FROM crawl_state WHERE url LIKE '%barn-fire%'").fetchone() == ("article",)
