"""Discovery parsers on stored documents: feeds, sitemaps (index, Google News), robots, links."""
from crawler import discovery

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://www.example.co.uk/news/2026/11/20/fire-chief/</loc>
<news:news><news:publication><news:name>Echo</news:name><news:language>en</news:language></news:publication>
<news:publication_date>2026-11-20T08:15:00+01:00</news:publication_date><news:title>Fire chief &amp; PCC</news:title></news:news></url>
<url><loc>/news/2026/11/19/relative/</loc><lastmod>2026-11-19</lastmod></url>
<url><loc>  </loc></url>
</urlset>"""

INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>/sitemaps/2026-11.xml</loc></sitemap><sitemap><loc>https://www.example.co.uk/sitemaps/2026-10.xml</loc></sitemap>
</sitemapindex>"""

XXE = b"""<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://e.example/&x;</loc></url></urlset>"""


def test_google_news_sitemap_dates_and_titles():
    children, pages = discovery.parse_sitemap(NEWS_SITEMAP, "https://www.example.co.uk/sitemap-news.xml")
    assert children == []
    assert [p.url for p in pages] == ["https://www.example.co.uk/news/2026/11/20/fire-chief/",
                                      "https://www.example.co.uk/news/2026/11/19/relative/"]
    assert pages[0].published_at == "2026-11-20T07:15:00Z"  # converted to UTC
    assert pages[0].title == "Fire chief & PCC" and pages[0].date_source == "sitemap"
    assert pages[1].published_at == "2026-11-19" and pages[1].title is None


def test_sitemap_index_children_resolved():
    children, pages = discovery.parse_sitemap(INDEX, "https://www.example.co.uk/sitemap.xml")
    assert children == ["https://www.example.co.uk/sitemaps/2026-11.xml",
                        "https://www.example.co.uk/sitemaps/2026-10.xml"]
    assert pages == []


def test_sitemap_entities_not_resolved_and_garbage_tolerated():
    _, pages = discovery.parse_sitemap(XXE, "https://e.example/s.xml")
    assert all("root:" not in p.url for p in pages)
    assert discovery.parse_sitemap(b"not xml at all <", "https://e.example/s.xml") == ([], [])


def test_robots_sitemap_lines():
    text = "User-agent: *\nDisallow: /private/\nSitemap: /a.xml\nsitemap: https://x.example/b.xml\nSitemap:\n"
    assert discovery.parse_robots_sitemaps(text, "https://x.example/robots.txt") == [
        "https://x.example/a.xml", "https://x.example/b.xml"]


def test_rss_and_atom_feeds():
    rss = b"""<rss version="2.0"><channel><title>T</title>
    <item><title>One</title><link>/news/1/</link><pubDate>Tue, 24 Nov 2026 09:30:00 GMT</pubDate></item>
    <item><title>No link</title></item></channel></rss>"""
    found = discovery.parse_feed(rss, "https://x.example/feed.xml")
    assert [(f.url, f.published_at, f.title, f.found_by) for f in found] == [
        ("https://x.example/news/1/", "2026-11-24T09:30:00Z", "One", "feed")]
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
    <entry><title>Two</title><link href="https://x.example/news/2/"/><updated>2026-11-23T10:00:00+00:00</updated></entry></feed>"""
    found = discovery.parse_feed(atom, "https://x.example/atom.xml")
    assert [(f.url, f.published_at) for f in found] == [("https://x.example/news/2/", "2026-11-23T10:00:00Z")]
    assert discovery.looks_like_feed(atom) and not discovery.looks_like_feed(b"<html><body>")


def test_page_links_autodiscovery_and_next():
    page = b"""<html><head><link rel="alternate" type="application/rss+xml" href="/feed/">
    <link rel="next" href="/news/page/2/"></head><body><a href="/news/2026/11/20/a/">A</a>
    <a href="https://other.example/x">elsewhere</a><a href="mailto:x@y">m</a><a href="/news/2026/11/20/a/#c">A again</a>
    </body></html>"""
    links, feeds, next_url = discovery.page_links(page, "https://x.example/news/")
    assert feeds == ["https://x.example/feed/"]
    assert next_url == "https://x.example/news/page/2/"
    assert links == ["https://x.example/news/2026/11/20/a/", "https://x.example/news/2026/11/20/a/"]


def test_iso_utc():
    assert discovery.iso_utc("2026-11-24") == "2026-11-24"
    assert discovery.iso_utc("2026-06-01T10:00:00+01:00") == "2026-06-01T09:00:00Z"
    assert discovery.iso_utc("nonsense") is None and discovery.iso_utc(None) is None


def test_is_listing_url_is_the_crawls_pagination_rule():
    from cuttings.config import Source
    source = Source("x", "X", "https://x.example/local/", sections=["https://x.example/local/news/"],
                    allow=[r"^/local/news/\d{4}/"])
    listing = discovery.is_listing_url
    assert listing(source, "https://x.example/local/news/page/3/")                       # numbered
    assert listing(source, "https://x.example/local/news/?page=2")
    assert listing(source, "https://x.example/local/news/older/", "https://x.example/local/news/older/")  # rel=next
    assert not listing(source, "https://x.example/local/news/older/")                   # neither
    assert not listing(source, "https://x.example/sport/page/2/")                       # outside home/sections
    assert not listing(source, "https://y.example/local/news/page/2/")                  # another host
    assert not listing(source, "https://x.example/local/news/2026/page/2/")             # an article URL
