"""``cuttings sources check`` against the demo site served on 127.0.0.1."""
from __future__ import annotations

import json

from click.testing import CliRunner

from cuttings.cli_sources import sources
from cuttings.config import DEMO_SOURCES, load_sources
from cuttings.demo import DEMO_SITE, serve_directory
from cuttings.sources_check import check_source

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
    import http.server
    import threading

    from cuttings.config import CrawlSettings, Source

    hits: list[str] = []

    class Internal(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<urlset></urlset>")

        def log_message(self, *args):
            pass

    internal = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Internal)
    threading.Thread(target=internal.serve_forever, daemon=True).start()
    other = f"http://localhost:{internal.server_address[1]}"
    site = tmp_path / "site"
    site.mkdir()
    (site / "robots.txt").write_text(f"User-agent: *\nAllow: /\nSitemap: file:///etc/passwd\n"
                                     f"Sitemap: {other}/secret.xml\nSitemap: /sitemap.xml\n")
    (site / "sitemap.xml").write_text(
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{other}/admin.xml</loc></sitemap></sitemapindex>")
    (site / "index.html").write_text("<html><body><p>Home</p></body></html>")
    try:
        with serve_directory(site) as base:
            settings = CrawlSettings()
            source = Source("hostile", "Hostile", f"{base}/", sitemaps=[f"{base}/sitemap.xml"], local=True)
            report = check_source(source, settings)
            assert hits == []
            refused = [p for p in report.problems if "refused" in p]
            assert any("file" in p for p in refused) and any("not a host of source" in p for p in refused)
            assert report.sitemaps[f"{base}/sitemap.xml"] == 1
            # the same site without `local = true`: its own loopback address is refused too
            private = check_source(Source("hostile", "Hostile", f"{base}/"), settings)
            assert private.robots_found is False and "private, loopback" in private.robots_error
            assert hits == []
    finally:
        internal.shutdown()
