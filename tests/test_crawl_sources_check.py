"""``cuttings sources check`` against the demo site served on 127.0.0.1."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cuttings.cli_sources import sources
from cuttings.config import DEMO_SOURCES, load_sources
from cuttings.demo import DEMO_SITE, serve_directory
from cuttings.config import Source
from cuttings.sources_check import check_source, format_check
from faultserver import local_site

MANIFEST = json.loads((DEMO_SITE / "manifest.json").read_text(encoding="utf-8"))


def test_check_finds_feeds_sitemaps_and_dated_articles():
    with serve_directory() as base:
        config = load_sources(DEMO_SOURCES, base=base)
        chronicle = check_source(config.get("marches-chronicle"), config.crawl)
        echo = check_source(config.get("severn-valley-echo"), config.crawl)
    # The Chronicle configures no sitemap: its index comes from robots.txt and is followed.
    assert chronicle.robots_sitemaps == [f"{base}/marches-chronicle/sitemap.xml"]
    assert len(chronicle.sitemaps) > 1 and all(n > 0 for n in chronicle.sitemaps.values())
    assert chronicle.feeds[f"{base}/marches-chronicle/atom.xml"] == 12
    chronicle_articles = [a for a in MANIFEST["articles"] if a["outlet"] == "marches-chronicle"]
    assert chronicle.article_urls == len(chronicle_articles)
    assert chronicle.dated == chronicle.article_urls
    dates = sorted(a["published_at"] for a in chronicle_articles)
    assert chronicle.oldest[:10] == dates[0][:10] and chronicle.newest[:10] == dates[-1][:10]
    assert echo.feeds[f"{base}/severn-valley-echo/feed.xml"] == 15
    assert echo.article_urls == sum(1 for a in MANIFEST["articles"] if a["outlet"] == "severn-valley-echo")
    # The disallowed staff preview is linked from every Chronicle page but never fetched or counted.
    assert not any("private" in u for u in chronicle.sitemaps)


def test_cli_check_prints_report_and_substitutes_base():
    with serve_directory() as base:
        result = CliRunner().invoke(sources, ["check", "wrekin-courier", "--sources", str(DEMO_SOURCES),
                                              "--base", base])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("wrekin-courier: robots.txt found")
    assert f"feed     {base}/wrekin-courier/rss.xml: 20 entries" in result.output
    assert "article URLs matching allow/deny:" in result.output


def test_cli_check_unknown_source_fails_cleanly():
    result = CliRunner().invoke(sources, ["check", "nope", "--sources", str(DEMO_SOURCES), "--base", "http://x"])
    assert result.exit_code == 1 and "unknown source 'nope'" in result.output


def test_check_fetches_only_what_the_source_owns(tmp_path):
    """`sources check` follows the crawl's URL policy: a robots.txt or sitemap index cannot make it
    read a local file or another (internal) service, and a private address needs `local = true`."""
    from cuttings.config import CrawlSettings, Source

    with local_site(lambda request: (200, {}, b"<urlset></urlset>")) as internal:
        other = f"http://localhost:{internal.server_address[1]}"
        site = tmp_path / "site"
        site.mkdir()
        (site / "robots.txt").write_text(f"User-agent: *\nAllow: /\nSitemap: file:///etc/passwd\n"
                                         f"Sitemap: {other}/secret.xml\nSitemap: /sitemap.xml\n")
        (site / "sitemap.xml").write_text(
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{other}/admin.xml</loc></sitemap></sitemapindex>")
        (site / "index.html").write_text("<html><body><p>Home</p></body></html>")
        with serve_directory(site) as base:
            settings = CrawlSettings()
            source = Source("hostile", "Hostile", f"{base}/", sitemaps=[f"{base}/sitemap.xml"], local=True)
            report = check_source(source, settings)
            assert internal.paths == []
            refused = [p for p in report.problems if "refused" in p]
            assert any("file" in p for p in refused) and any("not a host of source" in p for p in refused)
            assert report.sitemaps[f"{base}/sitemap.xml"] == 1
            # the same site without `local = true`: its own loopback address is refused too
            private = check_source(Source("hostile", "Hostile", f"{base}/"), settings)
            assert private.robots_found is False and "private, loopback" in private.robots_error
            assert internal.paths == []


def test_a_feed_of_another_hosts_articles_is_named_as_such_not_as_the_patterns(tmp_path):
    """A feed whose entries are on another host (the source's home on the wrong host, or an aggregator)
    gives no article URL: the failure names the hosts the entries are on, not the allow/deny patterns."""
    site = tmp_path / "site"
    items = "".join(f"<item><title>Story {n}</title><link>https://news.elsewhere.example/news/story-{n}/</link>"
                    "</item>" for n in range(3))
    _write(site / "feed.xml", f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}'
                              "<item><title>Local</title><link>file:///etc/passwd</link></item></channel></rss>")
    _write(site / "index.html", "<html><body><p>Home</p></body></html>")
    with serve_directory(site) as base:
        report = check_source(Source("moved", "Moved", f"{base}/", feeds=[f"{base}/feed.xml"], local=True),
                              load_sources(DEMO_SOURCES, base=base).crawl)
    assert report.article_urls == 0 and report.offsite == {"news.elsewhere.example": 3, "file: URLs": 1}
    (problem,) = [p for p in report.problems if "other hosts" in p]
    assert problem.startswith("its feeds and sitemaps list 4 URLs on other hosts (news.elsewhere.example, "
                              "file: URLs) than its home's (127.0.0.1:")
    assert "allow/deny" not in " ".join(report.problems + report.failures)
    assert report.failures and "news.elsewhere.example" in report.failures[0]


def test_cli_check_passes_the_demo_and_counts_paginated_listing_pages():
    """The Wrekin Courier's sitemap lists 128 articles; its numbered listing pages (news/page/2..16,
    linked from news/) lead to the rest, as the crawl follows them."""
    with serve_directory() as base:
        config = load_sources(DEMO_SOURCES, base=base)
        wrekin = check_source(config.get("wrekin-courier"), config.crawl)
        result = CliRunner().invoke(sources, ["check", "--sources", str(DEMO_SOURCES), "--base", base])
    assert result.exit_code == 0, result.output
    assert "FAILED" not in result.output
    articles = {base + a["path"] for a in MANIFEST["articles"] if a["outlet"] == "wrekin-courier"}
    assert articles <= set(wrekin.urls)
    assert wrekin.by_layer["sitemap"] < len(articles) <= wrekin.by_layer["links"]
    assert sorted(wrekin.listing_pages) == sorted(f"{base}/wrekin-courier/news/page/{n}/" for n in range(2, 17))


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _sources_file(tmp_path, base, **fields):
    lines = [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    text = ('[crawl]\ntimeout = 5\nmax_depth = 2\n\n[[source]]\nid = "paged"\nname = "Paged"\n'
            f'home = "{base}/paged/"\nallow = ["^/paged/news/[0-9]{{4}}/"]\nlocal = true\n' + "\n".join(lines) + "\n")
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _listing(links, head=""):
    anchors = "".join(f'<a href="{href}">story</a>' for href in links)
    return f"<html><head><title>News</title>{head}</head><body>{anchors}</body></html>"


def test_cli_check_fails_a_source_whose_feed_and_sitemap_answer_404(tmp_path):
    site = tmp_path / "site"
    _write(site / "paged" / "index.html", _listing(["/paged/news/2026/a/", "/paged/about/"]))
    with serve_directory(site) as base:
        path = _sources_file(tmp_path, base, feeds=[f"{base}/paged/feed.xml?token=t0k-5ecret"],
                             sitemaps=[f"{base}/paged/sitemap.xml"])
        result = CliRunner().invoke(sources, ["check", "--sources", str(path)])
        host = base.split("//", 1)[1]
    assert result.exit_code == 1, result.output
    assert "t0k-5ecret" not in result.output
    assert (f"paged: FAILED: every feed and sitemap failed or gave no article URL (feed {base}/paged/feed.xml"
            "?token=[REDACTED]: "
            f"HTTP 404 from {host}; sitemap {base}/paged/sitemap.xml: HTTP 404 from {host}); only links on its "
            "pages remain (1 article URL)") in result.output.splitlines()
    assert result.output.splitlines()[-1] == "Error: 1 of 1 sources failed the check: paged"


def test_cli_check_fails_a_broken_configured_feed_and_a_source_with_nothing(tmp_path):
    site = tmp_path / "site"
    _write(site / "paged" / "index.html", _listing([]))
    _write(site / "paged" / "sitemap.xml",
           '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>/paged/news/2026/a/</loc>'
           "<lastmod>2026-11-20</lastmod></url></urlset>")
    with serve_directory(site) as base:
        path = _sources_file(tmp_path, base, feeds=[f"{base}/paged/feed.xml"], sitemaps=[f"{base}/paged/sitemap.xml"])
        config = load_sources(path)
        partly = check_source(config.get("paged"), config.crawl)
        empty = check_source(Source("empty", "Empty", f"{base}/paged/", allow=["^/nothing/"], local=True),
                             config.crawl)
    host = base.split("//", 1)[1]
    assert partly.article_urls == 1 and partly.failures == [
        f"configured feed {base}/paged/feed.xml: HTTP 404 from {host}"]
    assert empty.failures == ["no article URLs found (no feed or sitemap, and its pages link to no URL matching "
                              "allow/deny)"]


def test_check_follows_pagination_like_the_crawl_bounded_and_same_site(tmp_path):
    """Listing pages reached only by <link rel=next> in the head are followed to [crawl] max_depth
    levels; a rel=next to another host, and pages outside the home/section paths, are not fetched."""
    offsite = _listing(["/paged/news/2026/offsite/"]).encode()
    with local_site(lambda request: (200, {}, offsite)) as other_server:
        other = f"http://localhost:{other_server.server_address[1]}"
        site = tmp_path / "site"
        _write(site / "paged" / "index.html", _listing(["/paged/news/2026/home/", "/elsewhere/page/2/"],
                                                       f'<link rel="next" href="{other}/paged/news/older-9/">'))
        for n in range(1, 5):  # news/ -> older-2/ -> older-3/ -> older-4/, each found only by <link rel=next>
            page = site / "paged" / "news" / ("index.html" if n == 1 else f"older-{n}/index.html")
            _write(page, _listing([f"/paged/news/2026/story-{n}-{k}/" for k in (1, 2)],
                                  f'<link rel="next" href="/paged/news/older-{n + 1}/">'))
        # site search (the crawl's search layer): the result page's article links count, its pages are not followed
        _write(site / "paged" / "search" / "index.html", _listing(["/paged/news/2026/found/", "/paged/news/page/7/"]))
        with serve_directory(site) as base:
            path = _sources_file(tmp_path, base, sections=[f"{base}/paged/news/"],
                                 search=f"{base}/paged/search/?q={{query}}")
            config = load_sources(path)
            config.crawl.search_keywords = ["fire and rescue"]
            report = check_source(config.get("paged"), config.crawl)
            config.crawl.search_keywords = []
            config.crawl.max_depth = 0
            flat = check_source(config.get("paged"), config.crawl)
    assert other_server.paths == []
    assert report.listing_pages == [f"{base}/paged/news/older-2/", f"{base}/paged/news/older-3/"]
    assert report.urls == sorted([f"{base}/paged/news/2026/home/", f"{base}/paged/news/2026/found/"] + [
        f"{base}/paged/news/2026/story-{n}-{k}/" for n in (1, 2, 3) for k in (1, 2)])
    assert report.by_layer == {"feed": 0, "sitemap": 0, "links": 7, "search": 1}
    assert report.search_pages == {f"{base}/paged/search/?q=fire+and+rescue": 1}
    assert flat.listing_pages == [] and flat.article_urls == 3 and flat.search_pages == {}
    assert "+ 2 listing pages (rel=next, page N; max_depth 2): 4 read\n" in format_check(report)


@pytest.mark.slow
def test_crawl_and_check_follow_the_same_pagination(tmp_path):
    """The spider follows a rel=next given only as <link> in the head, to max_depth levels, and
    stores from the page links exactly the article URLs `sources check` counts."""
    import sqlite3

    from faultserver import article_html, corpus_story, run_crawl_cli

    site = tmp_path / "site"
    _write(site / "paged" / "index.html", _listing([]))
    stories = ["gov-001", "gov-003", "gov-005", "gov-010"]
    for n, corpus_id in enumerate(stories, start=1):
        page = site / "paged" / "news" / ("index.html" if n == 1 else f"older-{n}/index.html")
        _write(page, _listing([f"/paged/news/2026/{corpus_id}/"], f'<link rel="next" href="/paged/news/older-{n + 1}/">'))
    with serve_directory(site) as base:
        for corpus_id in stories:
            title, paragraphs = corpus_story(corpus_id)
            path = f"/paged/news/2026/{corpus_id}/"
            _write(site / path.strip("/") / "index.html",
                   article_html(base, path, title, paragraphs, "2026-11-20T08:00:00Z"))
        sources_path = _sources_file(tmp_path, base, sections=[f"{base}/paged/news/"])
        config = load_sources(sources_path)
        report = check_source(config.get("paged"), config.crawl)
        run_crawl_cli(tmp_path / "paged.db", sources_path, since="all")
    db = sqlite3.connect(tmp_path / "paged.db")
    stored = sorted(row[0] for row in db.execute("SELECT url FROM articles WHERE found_by = 'links'"))
    assert report.urls == [f"{base}/paged/news/2026/{c}/" for c in stories[:3]], format_check(report)
    assert [u.rstrip("/") for u in stored] == [u.rstrip("/") for u in report.urls]


def test_check_fails_a_source_robots_txt_shuts_out_and_says_so(tmp_path):
    site = tmp_path / "site"
    _write(site / "robots.txt", "User-agent: *\nDisallow: /paged/\n")
    _write(site / "paged" / "index.html", _listing(["/paged/news/2026/a/"]))
    with serve_directory(site) as base:
        path = _sources_file(tmp_path, base, feeds=[f"{base}/paged/feed.xml"])
        result = CliRunner().invoke(sources, ["check", "--sources", str(path)])
    assert result.exit_code == 1
    assert (f"paged: FAILED: no article URLs found (feed {base}/paged/feed.xml: disallowed by robots.txt; "
            f"{base}/paged/: disallowed by robots.txt)") in result.output.splitlines()
    assert f"  feed     {base}/paged/feed.xml: FAILED" in result.output.splitlines()
