"""``cuttings sources check`` against hostile servers on 127.0.0.1 (red-team): a non-ASCII
autodiscovered feed link is fetched percent-encoded as Scrapy does, a URL urllib cannot fetch is
one problem line for its source (the other sources are still checked), and a server dripping a
byte at a time is cut off at ``[crawl] timeout`` in all, not per read."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from cuttings.cli_sources import sources
from cuttings.config import load_sources
from cuttings.sources_check import check_source

FEED = ('<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>'
        "<item><title>Barn fire</title><link>/news/barn-fire/</link>"
        "<pubDate>Fri, 20 Nov 2026 08:00:00 GMT</pubDate></item></channel></rss>").encode()


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    paths: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        self.paths.append(self.path)
        if self.path == "/utf/":
            self._send(b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed-\xc3\xa9\xe2\x80\xa6.xml">'
                       b'</head><body><a href="/news/ok/">ok</a></body></html>', "text/html; charset=utf-8")
        elif self.path == "/feed-%C3%A9%E2%80%A6.xml":
            self._send(FEED, "application/rss+xml")
        elif self.path == "/drip/":
            self._send(b'<html><head><link rel="alternate" type="application/rss+xml" href="/drip/feed.xml">'
                       b'</head><body><a href="/drip/news/ok/">ok</a></body></html>', "text/html")
        elif self.path == "/drip/feed.xml":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(100_000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.3)   # each read answers well within the timeout; the whole never does
            except OSError:
                pass
        elif self.path == "/drip/sitemap.xml":   # the headers never end
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
                for _ in range(100_000):
                    self.wfile.write(b"a")
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass
        else:
            self._send(b"", "text/plain", 404)

    def _send(self, body: bytes, kind: str, status: int = 200):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def hostile(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    _Hostile.paths = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    path = tmp_path / "sources.toml"
    path.write_text(f"""
[crawl]
timeout = 1.5
max_depth = 0

[[source]]
id = "bad-port"
name = "Bad Port"
home = "{base}/nothing/"
sitemaps = ["http://127.0.0.1:99999/sitemap.xml"]
local = true

[[source]]
id = "utf"
name = "Utf"
home = "{base}/utf/"
allow = ['^/news/']
local = true

[[source]]
id = "drip"
name = "Drip"
home = "{base}/drip/"
sitemaps = ["{base}/drip/sitemap.xml"]
allow = ['^/drip/news/']
local = true
""", encoding="utf-8")
    yield base, path
    server.shutdown()
    server.server_close()


def test_non_ascii_feed_link_is_percent_encoded(hostile):
    base, path = hostile
    config = load_sources(path)
    report = check_source(config.get("utf"), config.crawl)
    [feed] = report.autodiscovered_feeds
    assert report.feeds[feed] == 1 and f"{base}/news/barn-fire/" in report.urls
    assert "/feed-%C3%A9%E2%80%A6.xml" in _Hostile.paths and report.failures == []


def test_dripping_body_and_headers_are_cut_at_the_timeout_in_all(hostile):
    base, path = hostile
    config = load_sources(path)
    result = {}
    worker = threading.Thread(target=lambda: result.update(report=check_source(config.get("drip"), config.crawl)),
                              daemon=True)
    worker.start()
    worker.join(60)   # a guard against a hang only (urllib's timeout alone is per read: forever here)
    assert not worker.is_alive(), "sources check hung on a dripping server"
    report = result["report"]
    assert report.feeds == {f"{base}/drip/feed.xml": -1} and report.sitemaps == {f"{base}/drip/sitemap.xml": -1}
    host = base.split("//", 1)[1]
    assert f"feed {base}/drip/feed.xml: {host} did not answer in time (timeout)" in report.problems
    assert f"sitemap {base}/drip/sitemap.xml: {host} did not answer in time (timeout)" in report.problems
    assert report.article_urls == 1   # the page's link still counted


def test_an_unfetchable_url_is_a_problem_line_and_the_others_are_checked(hostile):
    base, path = hostile
    result = CliRunner().invoke(sources, ["check", "bad-port", "utf", "--sources", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any("http://127.0.0.1:99999/sitemap.xml: cannot fetch this URL" in line for line in lines), result.output
    assert any(line.startswith("utf: robots.txt") for line in lines)
    assert lines[-1] == "Error: 1 of 2 sources failed the check: bad-port"
