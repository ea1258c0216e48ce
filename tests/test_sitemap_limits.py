"""Huge sitemaps (red-team: a gzipped sitemap of a million URLs queued a million requests and
took 3 GB): entries read per sitemap are capped (the newest kept), the XML is read up to
``max_page_bytes``, and article requests stop being built once the source's page budget is
spent. Parsed on bytes, through the spider's own callback, and crawled over HTTP on 127.0.0.1."""
from __future__ import annotations

import datetime as dt
import gzip
import sqlite3

import pytest
import scrapy
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler import discovery
from crawler.spiders.news import NewsSpider
from cuttings import store
from cuttings.config import CrawlSettings, Source
from faultserver import HTML, Reply, article_html, corpus_story, local_site, run_crawl_cli

START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _urlset(base: str, count: int, *, dated: bool = True, oldest_first: bool = True) -> bytes:
    order = range(count) if oldest_first else range(count - 1, -1, -1)
    urls = "".join(f"<url><loc>{base}/big/news/{i}/</loc>"
                   + (f"<lastmod>{(START + dt.timedelta(hours=i)).strftime('%Y-%m-%dT%H:%M:%SZ')}</lastmod>"
                      if dated else "") + "</url>" for i in order)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>").encode()


def _numbers(pages) -> list[int]:
    return [int(p.url.rstrip("/").rsplit("/", 1)[1]) for p in pages]


@pytest.mark.parametrize("oldest_first", [True, False])
def test_the_newest_entries_by_date_are_kept(oldest_first):
    body = _urlset("https://x.example", 300, oldest_first=oldest_first)
    read = discovery.read_sitemap(gzip.compress(body), "https://x.example/s.xml.gz", max_entries=50)
    assert sorted(_numbers(read.pages)) == list(range(250, 300))
    assert read.entries_seen == 300 and read.entries_cut == 250 and not read.bytes_cut
    order = _numbers(read.pages)          # in the file's order
    assert order == sorted(order, reverse=not oldest_first)
    assert read.pages[0].published_at and read.pages[0].date_source == "sitemap"


def test_undated_entries_keep_the_first_listed():
    read = discovery.read_sitemap(_urlset("https://x.example", 300, dated=False), "https://x.example/s.xml",
                                  max_entries=40)
    assert _numbers(read.pages) == list(range(40)) and read.entries_cut == 260


def test_since_drops_older_entries_before_the_cap():
    since = (START + dt.timedelta(hours=280)).strftime("%Y-%m-%dT%H:%M:%SZ")
    read = discovery.read_sitemap(_urlset("https://x.example", 300), "https://x.example/s.xml",
                                  max_entries=50, since=since)
    assert _numbers(read.pages) == list(range(280, 300)) and read.entries_cut == 0


@pytest.mark.parametrize("zipped", [False, True])
def test_xml_is_read_up_to_max_bytes(zipped):
    body = _urlset("https://x.example", 2000)
    read = discovery.read_sitemap(gzip.compress(body) if zipped else body, "https://x.example/s.xml",
                                  max_bytes=len(body) // 4)
    assert read.bytes_cut and 400 < len(read.pages) < 700
    assert _numbers(read.pages) == list(range(len(read.pages)))   # the entries before the cut, all of them
    whole = discovery.read_sitemap(gzip.compress(body) if zipped else body, "https://x.example/s.xml",
                                   max_bytes=len(body))
    assert not whole.bytes_cut and len(whole.pages) == 2000


def test_index_children_are_capped():
    index = ('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             + "".join(f"<sitemap><loc>/s-{i}.xml</loc></sitemap>" for i in range(30)) + "</sitemapindex>").encode()
    read = discovery.read_sitemap(index, "https://x.example/index.xml", max_entries=10)
    assert read.children == [f"https://x.example/s-{i}.xml" for i in range(10)] and read.entries_cut == 20


def test_index_children_newest_first_by_lastmod():
    """A WordPress-style index lists its oldest sitemaps first: the newest are kept and come first,
    so the crawl's sitemap budget per source goes to the ones holding recent stories."""
    children = "".join(f"<sitemap><loc>/post-sitemap{i}.xml</loc><lastmod>2026-{1 + i // 28:02d}-{1 + i % 28:02d}"
                       f"T00:00:00+00:00</lastmod></sitemap>" for i in range(30))   # later in the file, newer
    index = ('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             "<sitemap><loc>/page-sitemap.xml</loc></sitemap>" + children + "</sitemapindex>").encode()
    read = discovery.read_sitemap(index, "https://x.example/index.xml", max_entries=5)
    assert read.children == [f"https://x.example/post-sitemap{i}.xml" for i in (29, 28, 27, 26, 25)]
    assert read.entries_cut == 26
    everything = discovery.read_sitemap(index, "https://x.example/index.xml")
    assert everything.children[-1] == "https://x.example/page-sitemap.xml"   # undated: after the dated ones
    assert everything.children[:2] == ["https://x.example/post-sitemap29.xml", "https://x.example/post-sitemap28.xml"]


def test_entities_are_still_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = (f'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file://{secret}">]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>https://x.example/a/&x;</loc></url></urlset>").encode()
    pages = discovery.read_sitemap(body, "https://x.example/s.xml").pages
    assert not any("TOP-SECRET" in p.url for p in pages)


SOURCE = Source(id="big", name="Big", home="https://x.example/big/")


def _spider(tmp_path, max_pages: int, max_entries: int):
    from twisted.internet import reactor  # noqa: F401  (the crawler is built here, never started)

    crawler = get_crawler(NewsSpider, settings_dict={"CUTTINGS_MAX_SITEMAP_ENTRIES": max_entries,
                                                     "DOWNLOAD_MAXSIZE": 5_000_000, "TWISTED_REACTOR": None})
    db = store.connect(tmp_path / "spider.db")
    store.sync_sources(db, [SOURCE])
    run_id = store.start_run(db, "crawl")
    spider = NewsSpider.from_crawler(crawler, sources=[], db=db, run_id=run_id,
                                     crawl_settings=CrawlSettings(max_pages_per_source=max_pages))
    crawler.spider = spider
    return spider, db, run_id


def test_spider_yields_no_more_article_requests_than_the_budget(tmp_path):
    spider, db, run_id = _spider(tmp_path, max_pages=25, max_entries=1000)
    source = SOURCE
    url = "https://x.example/big/sitemap.xml.gz"
    response = Response(url, body=gzip.compress(_urlset("https://x.example", 20_000)),
                        request=scrapy.Request(url, meta={"source": source}))
    requests = list(spider.parse_sitemap(response))
    numbers = [int(r.url.rstrip("/").rsplit("/", 1)[1]) for r in requests]
    assert len(requests) == 25 and all(n >= 19_000 for n in numbers)   # of the 1,000 newest
    notices = {row[0]: row[1] for row in db.execute("SELECT kind, message FROM crawl_notices WHERE crawl_run_id = ?",
                                                   [run_id])}
    assert set(notices) == {"sitemap_cut", "budget_pages"}
    assert "19000 skipped (the oldest" in notices["sitemap_cut"] and "budget of 25" in notices["budget_pages"]


def test_a_listing_page_linked_from_many_pages_spends_one_page_of_the_budget(tmp_path):
    """Every listing page links to the section's other pages (its menu, "next"): each listing page is
    spent once per run, however many pages link to it (Scrapy's duplicate filter drops the requests
    again). Before, each link spent a page: the demo's Wrekin Courier spent about 415 pages for its 189
    articles, and with a budget of 300 stored 74 of them (bench/page_budget.py)."""
    from scrapy.http import HtmlResponse

    spider, _db, _run = _spider(tmp_path, max_pages=2, max_entries=1000)
    source = Source(id="big", name="Big", home="https://x.example/big/", sections=["https://x.example/big/news/"],
                    allow=[r"/big/news/\d+/$"])
    menu = '<a href="https://x.example/big/news/page/2/">2</a><a href="https://x.example/big/news/page/3/">3</a>'

    def listing(url: str, extra: str = "") -> list[str]:
        response = HtmlResponse(url, body=f"<html><body>{menu}{extra}</body></html>".encode(), encoding="utf-8",
                                request=scrapy.Request(url, meta={"source": source, "depth_left": 1}))
        return [request.url for request in spider.parse_section(response)]

    both = ["https://x.example/big/news/page/2/", "https://x.example/big/news/page/3/"]
    assert listing("https://x.example/big/news/") == both
    assert listing("https://x.example/big/news/page/2/") == both   # the same two pages: nothing more spent
    assert spider.pages_per_source["big"] == 2
    # A page not linked before needs a page of its own: the budget of two is spent.
    assert listing("https://x.example/big/news/page/3/", '<a href="https://x.example/big/news/page/4/">4</a>') == both
    assert spider.pages_per_source["big"] == 2


def test_known_urls_the_crawl_will_skip_do_not_spend_the_budget(tmp_path):
    spider, db, _run = _spider(tmp_path, max_pages=5, max_entries=1000)
    source = SOURCE
    for i in range(10, 20):   # rejected pages are never fetched again
        store.record_fetch(db, f"https://x.example/big/news/{i}", source_id="big", kind="rejected",
                           reject_reason="not an article")
    url = "https://x.example/big/sitemap.xml"
    response = Response(url, body=_urlset("https://x.example", 20, oldest_first=False),
                        request=scrapy.Request(url, meta={"source": source}))
    numbers = [int(r.url.rstrip("/").rsplit("/", 1)[1]) for r in spider.parse_sitemap(response)]
    assert numbers == list(range(19, 4, -1))   # ten known, then the budget of five new ones


def test_requests_dropped_before_they_take_a_page_give_their_count_back(tmp_path):
    """The request count is only a forecast of the page budget: a request robots.txt or the URL policy
    drops (the errback gets it before the incremental middleware takes a page) is given back, so a
    sitemap whose newest entries robots.txt disallows does not stop the source; one that took a page
    keeps it."""
    from scrapy.exceptions import IgnoreRequest
    from twisted.python.failure import Failure

    spider, db, _run = _spider(tmp_path, max_pages=3, max_entries=1000)
    url = "https://x.example/big/sitemap.xml"
    response = Response(url, body=_urlset("https://x.example", 10, oldest_first=False),
                        request=scrapy.Request(url, meta={"source": SOURCE}))
    first = list(spider.parse_sitemap(response))
    assert len(first) == 3 and spider.page_budget_spent("big")
    first[2].meta["page_taken"] = True   # the incremental middleware let this one through
    for request in first:
        failure = Failure(IgnoreRequest(f"Forbidden by robots.txt: {request.url}"))
        failure.request = request
        spider.on_error(failure)
        spider.on_error(failure)   # given back once, however often it is seen
    assert spider.requests_per_source["big"] == 1 and not spider.page_budget_spent("big")
    again = Response(url + "?2", body=_urlset("https://x.example", 20, oldest_first=False),
                     request=scrapy.Request(url + "?2", meta={"source": SOURCE}))
    assert len(list(spider.parse_sitemap(again))) == 2


# -- over HTTP ---------------------------------------------------------------------------------

def _big_site(request) -> Reply | None:
    """A gzipped sitemap (the server's ``sitemap``, set by the test) and the article pages it lists."""
    if request.path == "/big/sitemap.xml.gz":
        return 200, {"Content-Type": "application/gzip"}, request.server.sitemap
    if request.path.startswith("/big/news/"):
        title, paragraphs = corpus_story("t1-005")
        return 200, {"Content-Type": HTML}, article_html(request.server.base, request.path, title, paragraphs,
                                                         "2026-11-20T08:00:00Z")
    if request.path == "/big/":
        return 200, {"Content-Type": "text/html"}, (b"<!DOCTYPE html><html><head><title>Big</title></head>"
                                                    b"<body>Big</body></html>")
    return None


@pytest.mark.slow
def test_crawl_of_a_huge_gzipped_sitemap_stops_at_the_budget(tmp_path):
    with local_site(_big_site) as server:
        base = server.base
        # newest first, as news sites list them: 20 MB of XML, 1.3 MB on the wire
        server.sitemap = gzip.compress(_urlset(base, 200_000, oldest_first=False))
        sources = tmp_path / "sources.toml"
        sources.write_text(f"""
[crawl]
timeout = 5
max_depth = 0
max_pages_per_source = 12
max_sitemap_entries = 2000

[[source]]
id = "big-news"
name = "Big News"
home = "{base}/big/"
sitemaps = ["{base}/big/sitemap.xml.gz"]
allow = ['^/big/news/']
local = true
""", encoding="utf-8")
        run_crawl_cli(tmp_path / "big.db", sources, since="all")
    fetched = [int(p.split("/")[3]) for p in server.paths if p.startswith("/big/news/")]
    assert len(fetched) == 12 and all(n >= 198_000 for n in fetched)   # the budget, of the 2,000 newest
    db = sqlite3.connect(tmp_path / "big.db")
    notices = dict(db.execute("SELECT kind, message FROM crawl_notices WHERE source_id = 'big-news'"))
    assert set(notices) == {"sitemap_cut", "budget_pages"}
    assert "DOWNLOAD_MAXSIZE" in notices["sitemap_cut"] and "skipped (the oldest" in notices["sitemap_cut"]


def test_once_the_budget_is_spent_sitemaps_are_not_parsed_and_are_read_in_full_next_run(tmp_path):
    spider, _db, _run = _spider(tmp_path, max_pages=25, max_entries=1000)
    small, first, second = ("https://x.example/big/" + name for name in ("small.xml", "one.xml.gz", "two.xml.gz"))
    few = _urlset("https://x.example", 10).replace(b"/big/news/", b"/big/few/")
    assert len(list(spider.parse_sitemap(Response(small, body=few, request=scrapy.Request(
        small, meta={"source": SOURCE}))))) == 10
    assert len(list(spider.parse_sitemap(Response(first, body=gzip.compress(_urlset("https://x.example", 5000)),
                                                  request=scrapy.Request(first, meta={"source": SOURCE}))))) == 15
    other = _urlset("https://x.example", 5000).replace(b"/big/news/", b"/big/other/")
    assert list(spider.parse_sitemap(Response(second, body=gzip.compress(other),
                                              request=scrapy.Request(second, meta={"source": SOURCE})))) == []
    found = spider.found_layers["big"]["sitemap"]
    assert not any("/big/other/" in url for url in found)      # never parsed
    # validators kept only for the sitemap read whole: the others are fetched in full next run
    assert small in spider.pending_validators
    assert first not in spider.pending_validators and second not in spider.pending_validators


def test_a_feed_cut_by_the_budget_is_read_in_full_next_run(tmp_path):
    spider, _db, _run = _spider(tmp_path, max_pages=3, max_entries=1000)
    items = [f"<item><title>S{i}</title><link>https://x.example/big/news/{i}/</link></item>" for i in range(5)]
    feeds = {name: ('<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>'
                    f'{"".join(entries)}</channel></rss>').encode()
             for name, entries in (("whole.xml", items[:2]), ("cut.xml", items))}
    got = {}
    for name, body in feeds.items():
        url = "https://x.example/big/" + name
        got[name] = len(list(spider.parse_feed(Response(url, body=body, request=scrapy.Request(
            url, meta={"source": SOURCE})))))
    assert got == {"whole.xml": 2, "cut.xml": 1}   # two of the budget, then one more of five
    assert "https://x.example/big/whole.xml" in spider.pending_validators
    assert "https://x.example/big/cut.xml" not in spider.pending_validators
