"""``cuttings sources check`` against hostile servers on 127.0.0.1 (red-team): a non-ASCII
autodiscovered feed link is fetched percent-encoded as Scrapy does, a URL urllib cannot fetch is
one problem line for its source (the other sources are still checked), and a server dripping a
byte at a time is cut off at ``[crawl] timeout`` in all, not per read; so are a TLS handshake
never answered, a connect that stalls (a listening socket whose backlog is full) and a DNS lookup
that never answers (the resolver is replaced in the test: there is no DNS server here)."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest
from click.testing import CliRunner

from cuttings.cli_sources import sources
from cuttings.config import load_sources
from cuttings.sources_check import check_source
from faultserver import local_site, send_reply

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
        send_reply(self, (status, {"Content-Type": kind}, body))

    def log_message(self, *args):
        pass


@pytest.fixture()
def hostile(tmp_path):
    _Hostile.paths = []
    with local_site(_Hostile) as server:
        yield server.base, _sources(tmp_path, server.base)


def _sources(tmp_path, base: str):
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
    return path


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


# ---------------------------------------------------------------------------------------------
# the deadline covers the lookup, the connect and the TLS handshake (red-team, session 13)
# ---------------------------------------------------------------------------------------------

def _in_time(check):
    """``check()`` in a thread: the join is a guard against a hang only."""
    result = {}
    worker = threading.Thread(target=lambda: result.update(answer=check()), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "sources check hung"
    return result["answer"]


@pytest.fixture()
def silent_tls():
    """A TCP server on 127.0.0.1 that accepts and reads, and never answers: a TLS handshake
    (an https:// URL) waits for a ServerHello that never comes."""
    server = socket.create_server(("127.0.0.1", 0))
    held = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for conn in held:
        conn.close()


@pytest.fixture()
def stalled_port():
    """A port on 127.0.0.1 whose listening socket's backlog is full (it never accepts): a connect
    to it stalls, its SYN dropped. Skipped where the kernel answers such a connect at once."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        for _ in range(64):
            filler = socket.socket()
            fillers.append(filler)
            filler.settimeout(0.5)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                break  # the backlog is full: connects to it now stall
            except OSError:
                pytest.skip("a connect to a full backlog is refused here, not stalled")
        else:
            pytest.skip("could not fill a listening socket's backlog on 127.0.0.1")
        yield port
    finally:
        for sock in [*fillers, server]:
            sock.close()


@pytest.fixture()
def fake_dns(monkeypatch):
    """Host names for the test: {name: answer} where the answer is a list of (address, port), or
    None for a lookup that never answers; other names are looked up as usual."""
    real, release, names = socket.getaddrinfo, threading.Event(), {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        if names[host] is None:
            release.wait()
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", answer) for answer in names[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield names
    release.set()  # the lookups left waiting end


def _source(tmp_path, home: str, extra: str = ""):
    path = tmp_path / "sources.toml"
    path.write_text(f'[crawl]\ntimeout = 1\nmax_depth = 0\n\n[[source]]\nid = "s"\nname = "S"\nhome = "{home}"\n'
                    f"{extra}local = true\n", encoding="utf-8")
    config = load_sources(path)
    return config.get("s"), config.crawl, path


@pytest.mark.slow
def test_a_tls_handshake_never_answered_is_one_problem_line_and_the_others_are_checked(silent_tls, hostile,
                                                                                       tmp_path):
    base, path = hostile
    path.write_text(path.read_text(encoding="utf-8") + f"""
[[source]]
id = "tls"
name = "Tls"
home = "https://{silent_tls}/"
sitemaps = ["https://{silent_tls}/sitemap.xml"]
local = true
""", encoding="utf-8")
    result = _in_time(lambda: CliRunner().invoke(sources, ["check", "tls", "utf", "--sources", str(path)]))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = result.output.splitlines()
    timeout = f"{silent_tls} did not answer in time (timeout)"
    assert f"tls: robots.txt not fetched: {timeout}" in lines
    assert f"  sitemap  https://{silent_tls}/sitemap.xml: FAILED" in lines
    assert [line for line in lines if line.startswith("tls: FAILED")] == [
        f"tls: FAILED: no article URLs found (sitemap https://{silent_tls}/sitemap.xml: {timeout}; "
        f"https://{silent_tls}/: {timeout})"]
    assert "utf: robots.txt missing" in lines and not [line for line in lines if line.startswith("utf: FAILED")]
    assert lines[-1] == "Error: 1 of 2 sources failed the check: tls"


@pytest.mark.slow
def test_a_connect_that_stalls_is_cut_at_the_timeout_over_all_addresses(stalled_port, fake_dns, tmp_path):
    """A host whose 500 addresses all stall: urllib alone gives each its own timeout (500 s here);
    the fetch's deadline covers them all."""
    fake_dns["stalled.test"] = [("127.0.0.1", stalled_port)] * 500
    source, settings, _path = _source(tmp_path, f"http://stalled.test:{stalled_port}/")
    report = _in_time(lambda: check_source(source, settings))
    timeout = f"stalled.test:{stalled_port} did not answer in time (timeout)"
    assert report.robots_error == timeout
    assert report.pages == {f"http://stalled.test:{stalled_port}/": -1}
    assert report.failures == [f"no article URLs found (http://stalled.test:{stalled_port}/: {timeout})"]


@pytest.mark.slow
def test_a_dns_lookup_that_never_answers_is_cut_at_the_timeout(fake_dns, hostile, tmp_path):
    """A lookup has no timeout of its own (getaddrinfo cannot be interrupted): it is waited for until
    the fetch's deadline; the source fails on its own line, the next source is checked."""
    base, path = hostile
    fake_dns["hang.test"] = None
    path.write_text(path.read_text(encoding="utf-8") + """
[[source]]
id = "hang"
name = "Hang"
home = "https://hang.test/"
feeds = ["https://hang.test/feed.xml"]
local = true
""", encoding="utf-8")
    lines = _in_time(lambda: CliRunner().invoke(sources, ["check", "hang", "utf", "--sources", str(path)])).output
    lines = lines.splitlines()
    timeout = "hang.test did not answer in time (timeout)"
    assert "hang: robots.txt not fetched: " + timeout in lines
    assert "  feed     https://hang.test/feed.xml: FAILED" in lines
    assert f"hang: FAILED: no article URLs found (feed https://hang.test/feed.xml: {timeout}; " \
           f"https://hang.test/: {timeout})" in lines
    assert "utf: robots.txt missing" in lines
    assert lines[-1] == "Error: 1 of 2 sources failed the check: hang"
