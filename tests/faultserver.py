"""A purpose-built misbehaving news site on 127.0.0.1 for the crawler fault tests.

:class:`FaultServer` serves two sources from one threaded HTTP server on a free port:

* ``fault-news`` (home ``/``): one page per fault the crawler must survive and record -
  500, 503 then OK (Retry-After: 1), 429 (Retry-After: 1), a response slower than the
  timeout, a truncated body, pages over the size limit (declared and undeclared length),
  a gzip bomb, a windows-1252 page, a redirect loop, a robots.txt-disallowed page, a PDF,
  a syndicated copy, and ``utm_*`` / AMP variants of one URL.
* ``search-news`` (home ``/search-site/``): stories reachable only through the site's search
  page (``/search-site/search?q=...``), for the ``[crawl].search_keywords`` discovery layer.
* ``quiet-news`` (home ``/quiet/``): well-behaved old articles plus two fresh ones - one the
  test edits between crawls (:attr:`FaultServer.edited`) and one whose timestamp and share
  count change on every request; its feed and sitemap answer conditional requests with 304.

Every request is logged (:attr:`FaultServer.requests`) with its time and headers so tests
can assert what was fetched, how often, and with which conditional headers. Article texts
are seed-corpus stories. :func:`run_crawl_cli` runs one ``cuttings crawl`` in a subprocess
(Twisted's reactor runs once per process).

Any test's own site on 127.0.0.1 starts and stops here too (:func:`local_site`,
:func:`start_local_site`): a dict of pages, a function answering each request, or a handler class
of its own for a server that must misbehave below HTTP (drips, stalls).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import html
import json
import os
import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cuttings.demo import DemoServer

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT / "data" / "corpus" / "articles"

MAX_PAGE_BYTES = 100_000
TIMEOUT_SECONDS = 1.0
RETRY_TIMES = 1
SLOW_SECONDS = 2.5

OLD_DATE = "2019-03-14T09:30:00Z"


def corpus_story(corpus_id: str) -> tuple[str, list[str]]:
    """(headline, paragraphs) of a seed-corpus article."""
    lines = (CORPUS / f"{corpus_id}.txt").read_text(encoding="utf-8").split("\n", 1)
    paragraphs = [p.strip() for p in lines[1].split("\n\n") if p.strip()]
    return lines[0].strip(), paragraphs


@dataclass
class Logged:
    path: str
    at: float
    headers: dict
    status: int | None = None


def article_html(base: str, path: str, title: str, paragraphs: list[str], published_at: str,
                 *, extra_head: str = "", charset: str | None = "utf-8", byline: str = "Jane Reporter") -> str:
    """A plain news-article page with OpenGraph dates and a self canonical link."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    meta_charset = f'<meta charset="{charset}">' if charset else ""
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head>{meta_charset}
<title>{html.escape(title)} | Fault News</title>
<link rel="canonical" href="{base}{path}">
<meta property="og:type" content="article">
<meta property="og:title" content="{html.escape(title)}">
<meta property="article:published_time" content="{published_at}">
{extra_head}
</head><body>
<nav><a href="/">Home</a> <a href="/quiet/">Quiet</a></nav>
<article>
<h1>{html.escape(title)}</h1>
<p class="byline">By {byline}</p>
<time datetime="{published_at}">{published_at[:10]}</time>
<div class="article-body">
{body}
</div>
</article>
<footer><p>Fault News, a test site.</p></footer>
</body></html>"""


def listing_html(title: str, links: list[str], feed: str | None) -> str:
    feed_link = f'<link rel="alternate" type="application/rss+xml" href="{feed}">' if feed else ""
    items = "\n".join(f'<li><a href="{html.escape(link)}">{html.escape(link)}</a></li>' for link in links)
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>{feed_link}'
            f'<meta property="og:type" content="website"></head><body><h1>{title}</h1><ul>{items}</ul></body></html>')


def rss(base: str, entries: list[tuple[str, str, str]]) -> str:
    """RSS 2.0 with (path, title, published_at) entries."""
    items = "".join(
        f"<item><title>{html.escape(title)}</title><link>{base}{path}</link>"
        f"<pubDate>{formatdate(dt.datetime.strptime(published, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=dt.timezone.utc).timestamp(), usegmt=True)}</pubDate></item>"
        for path, title, published in entries)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Fault News</title>'
            f"<link>{base}/</link><description>test</description>{items}</channel></rss>")


def sitemap(base: str, entries: list[tuple[str, str, str | None]]) -> str:
    """A sitemap of (path, title, published_at) entries; an entry published ``None`` has no lastmod."""
    urls = "".join(f"<url><loc>{base}{path}</loc>"
                   + (f"<lastmod>{published}</lastmod>" if published else "") + "</url>"
                   for path, _title, published in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(value)   # a JSON string is a TOML basic string


def write_sources(path: Path, *sources: dict) -> Path:
    """Write a sources file of ``sources`` (each a dict of one ``[[source]]`` table's keys) with a 5 s timeout
    and no retries, as the crawl tests want, and return its path."""
    tables = "".join("\n[[source]]\n" + "".join(f"{key} = {_toml_value(value)}\n" for key, value in source.items())
                     for source in sources)
    path.write_text(f"[crawl]\ntimeout = 5\nretry_times = 0\n{tables}", encoding="utf-8")
    return path


SITEMAP_SITE_PUBLISHED = "2025-01-10T08:00:00Z"   # outside the revisit window: a second night skips them


class SitemapSite:
    """A news site for ``local_site``: ``/news/<corpus id>/`` stories (:attr:`stories`, published
    :data:`SITEMAP_SITE_PUBLISHED`) listed by the home page and the sitemap; the paths of
    :attr:`answers` are listed too (undated: new every night) and answer their status; the home page answers
    :attr:`home_status`; robots.txt disallows the paths of :attr:`disallow` (none: no robots.txt, 404)."""

    def __init__(self, name: str, stories=("t1-001", "t1-002", "t1-003")):
        self.name = name
        self.stories = tuple(stories)
        self.answers: dict[str, int] = {}
        self.home_status = 200
        self.disallow: list[str] = []

    def __call__(self, request) -> Reply | None:
        base = f"http://127.0.0.1:{request.server.server_address[1]}"
        links = [f"/news/{story}/" for story in self.stories] + list(self.answers)
        if request.path == "/":
            return self.home_status, {"Content-Type": HTML}, listing_html(self.name, links, None)
        if request.path == "/robots.txt" and self.disallow:
            rules = "".join(f"Disallow: {path}\n" for path in self.disallow)
            return 200, {"Content-Type": "text/plain"}, f"User-agent: *\n{rules}"
        if request.path == "/sitemap.xml":
            return 200, {"Content-Type": "application/xml"}, sitemap(
                base, [(path, "", None if path in self.answers else SITEMAP_SITE_PUBLISHED) for path in links])
        if request.path in self.answers:
            return self.answers[request.path], {"Content-Type": HTML}, "<html><body>no</body></html>"
        story = request.path.strip("/").split("/")[-1]
        if request.path.startswith("/news/") and story in self.stories:
            title, paragraphs = corpus_story(story)
            return 200, {"Content-Type": HTML}, article_html(base, request.path, title, paragraphs, SITEMAP_SITE_PUBLISHED)
        return None   # 404


class FaultServer:
    """The fault site; use as a context manager (``with FaultServer() as server: server.base``)."""

    def __init__(self):
        self.requests: list[Logged] = []
        self.edited = False
        self.lock = threading.Lock()
        self.fresh_date = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.server = None
        self.base = ""
        self.stories = {cid: corpus_story(cid) for cid in
                        [f"t1-{n:03d}" for n in range(1, 25)]}

    # -- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> "FaultServer":
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - name fixed by the base class
                entry = Logged(self.path, time.monotonic(), {k.lower(): v for k, v in self.headers.items()})
                with owner.lock:
                    owner.requests.append(entry)
                try:
                    owner.respond(self, entry)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format, *args):  # noqa: A002
                pass

        # LocalServer's listen backlog: the default (5) drops connections under the crawler's 16
        # parallel requests; the kernel's SYN retry then takes longer than the 1 s test timeout.
        self.server = start_local_site(Handler)
        self.base = self.server.base
        return self

    def __exit__(self, *exc):
        self.server.stop()

    # -- what the tests read ------------------------------------------------------------------
    def hits(self, path: str) -> int:
        """Requests for exactly this path (query string included)."""
        return sum(1 for r in self.requests if r.path == path)

    def hits_matching(self, prefix: str) -> list[Logged]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def clear_log(self) -> None:
        with self.lock:
            self.requests.clear()

    def sources_toml(self, path: Path, *, dead_port: int | None = None) -> Path:
        """Write a sources file for this server (timeout 1 s, 100 kB limit, one retry)."""
        dead = ""
        if dead_port:
            dead = f"""
[[source]]
id = "dead-news"
name = "Dead News"
home = "http://127.0.0.1:{dead_port}/"
feeds = ["http://127.0.0.1:{dead_port}/feed.xml"]
"""
        path.write_text(f"""
[crawl]
timeout = {TIMEOUT_SECONDS}
max_page_bytes = {MAX_PAGE_BYTES}
retry_times = {RETRY_TIMES}
revisit_days = 3
max_depth = 1
search_keywords = {list(self.SEARCH_RESULTS)!r}
allow_private_addresses = true  # the fault site is on 127.0.0.1

[[source]]
id = "fault-news"
name = "Fault News"
home = "{self.base}/"
feeds = ["{self.base}/feed.xml"]
allow = ['^/news/']
deny = ['/tag/']

[[source]]
id = "quiet-news"
name = "Quiet News"
home = "{self.base}/quiet/"
feeds = ["{self.base}/quiet/feed.xml"]
sitemaps = ["{self.base}/quiet/sitemap.xml"]
allow = ['^/quiet/news/']

[[source]]
id = "search-news"
name = "Search News"
home = "{self.base}/search-site/"
search = "{self.base}/search-site/search?q={{query}}"
allow = ['^/search-site/news/']
{dead}""", encoding="utf-8")
        return path

    # -- the site -----------------------------------------------------------------------------
    FAULT_LINKS = [
        "/news/ok-story/", "/news/ok-story/?utm_source=twitter&utm_medium=social", "/news/ok-story/amp/",
        "/news/server-error/", "/news/busy-story/", "/news/rate-limited/", "/news/slow-story/",
        "/news/truncated-story/", "/news/huge-story/", "/news/huge-chunked/", "/news/gzip-bomb/",
        "/news/cafe-story/", "/news/loop-a/", "/news/private-draft/", "/news/annual-report/",
        "/news/fire-plan/", "/news/fire-plan-sister/", "/tag/fire/",
    ]
    QUIET_OLD = [f"/quiet/news/old-{n}/" for n in range(1, 9)]
    # search-news: query -> result links (one shared by both queries); the home lists one story only.
    SEARCH_RESULTS = {
        "fire authority": ["/search-site/news/found-authority/", "/search-site/news/found-both/", "/search-site/about/"],
        "Campion & PCC": ["/search-site/news/found-campion/", "/search-site/news/found-both/"],
    }
    SEARCH_STORIES = {"/search-site/news/listed-story/": "t1-005", "/search-site/news/found-authority/": "t1-006",
                      "/search-site/news/found-both/": "t1-007", "/search-site/news/found-campion/": "t1-008"}

    def quiet_entries(self) -> list[tuple[str, str, str]]:
        entries = [(path, self.stories[f"t1-{n:03d}"][0], OLD_DATE) for n, path in enumerate(self.QUIET_OLD, 15)]
        entries.append(("/quiet/news/edited-story/", self.edited_story()[0], self.fresh_date))
        entries.append(("/quiet/news/trivial-story/", self.stories["t1-023"][0], self.fresh_date))
        return entries

    def edited_story(self) -> tuple[str, list[str]]:
        title, paragraphs = self.stories["t1-024"]
        if not self.edited:
            return title, paragraphs
        return (f"{title} as council delays decision",
                paragraphs[:2] + ["The council said a final decision would now be taken in the spring."]
                + paragraphs[2:] + ["Correction: an earlier version of this article gave the wrong date "
                                    "for the meeting."])

    def respond(self, handler, entry: Logged) -> None:  # noqa: C901 - one branch per fault page
        path = entry.path
        base = self.base
        if path == "/robots.txt":
            return self.send(handler, entry, 200, "User-agent: *\nDisallow: /news/private-draft/\n"
                             "Sitemap: /sitemap.xml\n", "text/plain")
        if path == "/":
            return self.send(handler, entry, 200, listing_html("Fault News", self.FAULT_LINKS, "/feed.xml"))
        if path == "/feed.xml":
            return self.send(handler, entry, 200, rss(base, [("/news/fire-plan/", "Fire plan", OLD_DATE)]),
                             "application/rss+xml")
        if path == "/sitemap.xml":
            return self.send(handler, entry, 200, sitemap(base, [("/news/ok-story/", "", OLD_DATE)]),
                             "application/xml")
        if path.startswith("/news/ok-story/"):
            title, paragraphs = self.stories["t1-001"]
            return self.send(handler, entry, 200, article_html(base, "/news/ok-story/", title, paragraphs, OLD_DATE))
        if path == "/news/server-error/":
            return self.send(handler, entry, 500, "<h1>Internal Server Error</h1>")
        if path == "/news/busy-story/":
            if self.hits(path) == 1:
                return self.send(handler, entry, 503, "<h1>Busy</h1>", extra={"Retry-After": "1"})
            title, paragraphs = self.stories["t1-002"]
            return self.send(handler, entry, 200, article_html(base, path, title, paragraphs, OLD_DATE))
        if path == "/news/rate-limited/":
            return self.send(handler, entry, 429, "<h1>Too many requests</h1>", extra={"Retry-After": "1"})
        if path == "/news/slow-story/":
            time.sleep(SLOW_SECONDS)
            title, paragraphs = self.stories["t1-003"]
            return self.send(handler, entry, 200, article_html(base, path, title, paragraphs, OLD_DATE))
        if path == "/news/truncated-story/":
            title, paragraphs = self.stories["t1-004"]
            page = article_html(base, path, title, paragraphs, OLD_DATE).encode("utf-8")
            entry.status = 200
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Content-Length", str(len(page) + 5000))
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(page[: len(page) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return None
        if path == "/news/huge-story/":
            title, paragraphs = self.stories["t1-005"]
            return self.send(handler, entry, 200, article_html(base, path, title, paragraphs * 200, OLD_DATE))
        if path == "/news/huge-chunked/":
            title, paragraphs = self.stories["t1-005"]
            page = article_html(base, path, title, paragraphs * 200, OLD_DATE).encode("utf-8")
            entry.status = 200
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Connection", "close")  # no Content-Length: the size is not declared
            handler.end_headers()
            for start in range(0, len(page), 16384):
                handler.wfile.write(page[start:start + 16384])
            handler.close_connection = True
            return None
        if path == "/news/gzip-bomb/":
            bomb = gzip.compress(b"<p>" + b" " * (MAX_PAGE_BYTES * 50) + b"</p>", compresslevel=9)
            return self.send(handler, entry, 200, bomb, extra={"Content-Encoding": "gzip"})
        if path == "/news/cafe-story/":
            title = "Café owner’s £2.5m plan for Ledbury fire station site"
            paragraphs = ["The owner of a Ledbury café has put forward a “bold” £2.5m plan to reuse the old fire "
                          "station site once the crew moves to its new base next year, the town council heard.",
                          *self.stories["t1-006"][1]]
            page = article_html(base, path, title, paragraphs, OLD_DATE, charset="windows-1252")
            return self.send(handler, entry, 200, page.encode("cp1252"), "text/html")
        if path == "/news/loop-a/":
            return self.send(handler, entry, 302, "", extra={"Location": "/news/loop-b/"})
        if path == "/news/loop-b/":
            return self.send(handler, entry, 302, "", extra={"Location": "/news/loop-a/"})
        if path == "/news/private-draft/":
            title, paragraphs = self.stories["t1-007"]
            return self.send(handler, entry, 200, article_html(base, path, title, paragraphs, OLD_DATE))
        if path == "/news/annual-report/":
            return self.send(handler, entry, 200, b"%PDF-1.4\n% fake annual report\n%%EOF\n", "application/pdf")
        if path == "/news/fire-plan/":
            title, paragraphs = self.stories["t1-008"]
            return self.send(handler, entry, 200, article_html(base, path, title, paragraphs, "2019-03-14T08:00:00Z"))
        if path == "/news/fire-plan-sister/":
            title, paragraphs = self.stories["t1-008"]
            copy = paragraphs[:-1] + [paragraphs[-1] + " This story first appeared in the Fault Gazette, "
                                      "our sister title."]
            return self.send(handler, entry, 200, article_html(base, path, title.title(), copy,
                                                               "2019-03-14T11:30:00Z", byline="Sam Syndicate"))
        if path == "/tag/fire/":
            return self.send(handler, entry, 200, listing_html("Tag: fire", ["/news/fire-plan/"], None))
        # -- search-news ------------------------------------------------------------------------
        if path == "/search-site/":
            return self.send(handler, entry, 200, listing_html("Search News", ["/search-site/news/listed-story/"], None))
        if path.startswith("/search-site/search?"):
            query = parse_qs(urlsplit(path).query).get("q", [""])[0]
            return self.send(handler, entry, 200, listing_html(f"Results for {query}",
                                                              self.SEARCH_RESULTS.get(query, []), None))
        if path in self.SEARCH_STORIES:
            title, paragraphs = self.stories[self.SEARCH_STORIES[path]]
            return self.send(handler, entry, 200, article_html(base, path, title, paragraphs, self.fresh_date))
        # -- quiet-news -------------------------------------------------------------------------
        if path == "/quiet/":
            return self.send(handler, entry, 200, listing_html("Quiet News", [p for p, _, _ in self.quiet_entries()],
                                                              "/quiet/feed.xml"))
        if path in ("/quiet/feed.xml", "/quiet/sitemap.xml"):
            etag = f'"{path.rsplit("/", 1)[1]}-{int(self.edited)}"'
            if handler.headers.get("If-None-Match") == etag:
                return self.send(handler, entry, 304, b"", extra={"ETag": etag})
            render = rss if path.endswith("feed.xml") else sitemap
            return self.send(handler, entry, 200, render(base, self.quiet_entries()),
                             "application/rss+xml" if path.endswith("feed.xml") else "application/xml",
                             extra={"ETag": etag, "Last-Modified": formatdate(time.time() - 3600, usegmt=True)})
        if path in self.QUIET_OLD:
            title, paragraphs = self.stories[f"t1-{self.QUIET_OLD.index(path) + 15:03d}"]
            return self.send(handler, entry, 200, article_html(base, path, title, paragraphs, OLD_DATE))
        if path == "/quiet/news/edited-story/":
            etag = f'"edited-{int(self.edited)}"'
            if handler.headers.get("If-None-Match") == etag:
                return self.send(handler, entry, 304, b"", extra={"ETag": etag})
            title, paragraphs = self.edited_story()
            return self.send(handler, entry, 200, article_html(base, path, title, paragraphs, self.fresh_date),
                             extra={"ETag": etag})
        if path == "/quiet/news/trivial-story/":
            title, paragraphs = self.stories["t1-023"]
            now = dt.datetime.now(dt.timezone.utc)
            counter = self.hits(path)
            noisy = [f"Updated {now:%H:%M:%S} on {now:%d %B %Y}. Shared {137 * counter} times.", *paragraphs,
                     f"{12 * counter} comments"]
            if counter > 1:  # whitespace changes too
                noisy = [p.replace(" ", "  ", 3) for p in noisy]
            return self.send(handler, entry, 200, article_html(base, path, title, noisy, self.fresh_date))
        return self.send(handler, entry, 404, "<h1>Not found</h1>")

    @staticmethod
    def send(handler, entry: Logged, status: int, body: str | bytes, content_type: str = "text/html; charset=utf-8",
             extra: dict | None = None) -> None:
        entry.status = status
        headers = {} if status == 304 else {"Content-Type": content_type}
        send_reply(handler, (status, {**headers, **(extra or {})}, body))


class HostileWeb:
    """A hostile web on 127.0.0.1 for issue 14: five servers (one per role), every request logged.

    * ``hostile`` (source ``hostile-news``, local): robots.txt ``Sitemap:`` lines to ``file://``,
      to the ``internal`` server and to an over-size sitemap; a sitemap index of
      :attr:`INDEX_CHILDREN` children (the sitemap budget); a feed link to the internal server;
      redirects to ``file://`` and to the internal server; a page whose rel=canonical points at
      the victim's story (hijack); two pages sharing one canonical; a page of
      :attr:`JUNK_LINKS` junk article links; 429s with ``Retry-After`` (the wait budget and one
      of an hour); a NUL byte in a title; raw UTF-8 links on a page without a charset.
    * ``victim`` (source ``victim-news``, local): one story, the hijack's target.
    * ``sister`` (source ``sister-news``, local, declares ``sisters = ["victim-news"]``): a copy of
      the victim's story with its canonical pointing at the victim (accepted).
    * ``internal``: an "internal service" no source names; it must never be asked anything.
    * ``bigrobots`` (source ``bigrobots-news``, local): a robots.txt over the size cap.
    * ``notlocal`` (source ``notlocal-news``): a site on 127.0.0.1 not marked local: refused.
    """

    ROLES = ("hostile", "victim", "sister", "internal", "bigrobots", "notlocal")
    INDEX_CHILDREN = 12
    # robots.txt names 5 sitemaps, the index 2 refused ones first: 9 lets 2 of its 12 children through
    SITEMAP_BUDGET = 9
    JUNK_LINKS = 2500
    LINK_BUDGET = 25
    RETRY_WAIT_BUDGET = 2.0
    RATE_LIMITED = 5

    def __init__(self):
        self.requests: dict[str, list[Logged]] = {role: [] for role in self.ROLES}
        self.lock = threading.Lock()
        self.servers: dict[str, LocalServer] = {}
        self.base: dict[str, str] = {}
        self.fresh = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.stories = {cid: corpus_story(cid) for cid in [f"t1-{n:03d}" for n in range(1, 13)]}
        self.twin_version = 0

    def __enter__(self) -> "HostileWeb":
        for role in self.ROLES:
            owner, this_role = self, role

            class Handler(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                site_role = this_role

                def do_GET(self):  # noqa: N802
                    entry = Logged(self.path, time.monotonic(), {k.lower(): v for k, v in self.headers.items()})
                    with owner.lock:
                        owner.requests[self.site_role].append(entry)
                    try:
                        owner.respond(self.site_role, self, entry)
                    except (BrokenPipeError, ConnectionResetError):
                        pass

                def log_message(self, format, *args):  # noqa: A002
                    pass

            server = self.servers[role] = start_local_site(Handler)
            self.base[role] = server.base
        return self

    def __exit__(self, *exc):
        for server in self.servers.values():
            server.stop()

    def hits(self, role: str, prefix: str = "/") -> list[Logged]:
        return [r for r in self.requests[role] if r.path.startswith(prefix)]

    def sources_toml(self, path: Path) -> Path:
        b = self.base
        path.write_text(f"""
[crawl]
timeout = {TIMEOUT_SECONDS * 3}
max_page_bytes = {MAX_PAGE_BYTES}
retry_times = 1
revisit_days = 3
max_depth = 1
max_pages_per_source = 200
max_sitemaps_per_source = {self.SITEMAP_BUDGET}
max_links_per_page = {self.LINK_BUDGET}
max_retry_wait_per_source = {self.RETRY_WAIT_BUDGET}

[[source]]
id = "hostile-news"
name = "Hostile News"
home = "{b['hostile']}/"
sections = ["{b['hostile']}/junk/", "{b['hostile']}/utf8/"]
allow = ['^/news/']
local = true

[[source]]
id = "victim-news"
name = "Victim News"
home = "{b['victim']}/"
allow = ['^/news/']
local = true

[[source]]
id = "sister-news"
name = "Sister News"
home = "{b['sister']}/"
allow = ['^/news/']
sisters = ["victim-news"]
local = true

[[source]]
id = "bigrobots-news"
name = "Big Robots News"
home = "{b['bigrobots']}/"
allow = ['^/news/']
local = true

[[source]]
id = "notlocal-news"
name = "Not Local News"
home = "{b['notlocal']}/"
feeds = ["{b['notlocal']}/feed.xml"]
allow = ['^/news/']
""", encoding="utf-8")
        return path

    HOSTILE_LINKS = ["/news/plain-story/", "/news/redirect-file/", "/news/redirect-internal/", "/news/hijack/",
                     "/news/twin-a/", "/news/twin-b/", "/news/nul-title/", "/news/come-back-later/",
                     "/news/rate-limited-0/", "/news/rate-limited-1/", "/news/rate-limited-2/",
                     "/news/rate-limited-3/", "/news/rate-limited-4/"]
    NUL_TITLE = "Fire station\x00 closure delayed again"
    UTF8_PATH = "/news/café-crème-plan/"

    def article(self, role: str, path: str, story: str, *, canonical: str | None = None,
                title: str | None = None) -> str:
        headline, paragraphs = self.stories[story]
        return article_html(self.base[role], path, title or headline, paragraphs, self.fresh).replace(
            f'<link rel="canonical" href="{self.base[role]}{path}">',
            f'<link rel="canonical" href="{html.escape(canonical or self.base[role] + path)}">')

    def respond(self, role: str, handler, entry: Logged) -> None:  # noqa: C901 - one branch per page
        send = FaultServer.send
        path = entry.path
        b = self.base
        if role in ("internal", "notlocal"):
            return send(handler, entry, 200, "internal secret: root:x:0:0", "text/plain")
        if role == "bigrobots":
            if path == "/robots.txt":
                return send(handler, entry, 200, "User-agent: *\nAllow: /\n" + "# padding\n" * 20_000, "text/plain")
            if path == "/":
                return send(handler, entry, 200, listing_html("Big Robots", ["/news/story/"], None))
            return send(handler, entry, 200, self.article(role, path, "t1-010"))
        if role == "victim":
            if path == "/":
                return send(handler, entry, 200, listing_html("Victim", ["/news/victim-story/"], None))
            if path == "/news/victim-story/":
                return send(handler, entry, 200, self.article(role, path, "t1-001"))
            return send(handler, entry, 404, "<h1>Not found</h1>")
        if role == "sister":
            if path == "/":
                return send(handler, entry, 200, listing_html("Sister", ["/news/copy-of-victim/"], None))
            if path == "/news/copy-of-victim/":
                return send(handler, entry, 200, self.article(role, path, "t1-001",
                                                              canonical=f"{b['victim']}/news/victim-story/"))
            return send(handler, entry, 404, "<h1>Not found</h1>")
        # role == "hostile"
        if path == "/robots.txt":
            return send(handler, entry, 200, "User-agent: *\nAllow: /\n"
                        "Sitemap: file:///etc/passwd\nSitemap: file:///dev/zero\n"
                        f"Sitemap: {b['internal']}/secret-sitemap.xml\n"
                        "Sitemap: /huge-sitemap.xml\nSitemap: /sitemap-index.xml\n", "text/plain")
        if path == "/":
            page = listing_html("Hostile", self.HOSTILE_LINKS, None).replace(
                "</head>", f'<link rel="alternate" type="application/rss+xml" href="{b["internal"]}/feed.xml">'
                           '<link rel="alternate" type="application/rss+xml" href="file:///etc/passwd"></head>')
            return send(handler, entry, 200, page)
        if path == "/sitemap-index.xml":
            children = "".join(f"<sitemap><loc>{b['hostile']}/sitemaps/{n}.xml</loc></sitemap>"
                               for n in range(self.INDEX_CHILDREN))
            children = (f"<sitemap><loc>file:///dev/zero</loc></sitemap>"
                        f"<sitemap><loc>{b['internal']}/child.xml</loc></sitemap>{children}")
            return send(handler, entry, 200, '<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
                        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>',
                        "application/xml")
        if path.startswith("/sitemaps/"):
            number = path.rsplit("/", 1)[1].split(".")[0]
            return send(handler, entry, 200, sitemap(b["hostile"], [(f"/news/from-sitemap-{number}/", "", self.fresh)]),
                        "application/xml")
        if path == "/huge-sitemap.xml":
            entries = [(f"/news/huge-{n}/", "", self.fresh) for n in range(3000)]
            return send(handler, entry, 200, sitemap(b["hostile"], entries), "application/xml")
        if path == "/junk/":
            links = "".join(f'<a href="/news/junk-{n}/">{n}</a>' for n in range(self.JUNK_LINKS))
            return send(handler, entry, 200, f"<html><head><title>Junk</title></head><body>{links}</body></html>")
        if path == "/utf8/":
            page = ('<html><head><title>Sections</title></head><body>'
                    f'<a href="{self.UTF8_PATH}">Café</a></body></html>').encode("utf-8")
            return send(handler, entry, 200, page, "text/html")  # no charset anywhere
        if path == "/news/caf%C3%A9-cr%C3%A8me-plan/":
            return send(handler, entry, 200, self.article(role, self.UTF8_PATH, "t1-011"))
        if path == "/news/redirect-file/":
            return send(handler, entry, 302, "", extra={"Location": "file:///etc/passwd"})
        if path == "/news/redirect-internal/":
            return send(handler, entry, 302, "", extra={"Location": f"{b['internal']}/admin"})
        if path == "/news/hijack/":
            return send(handler, entry, 200, self.article(role, path, "t1-002",
                                                          canonical=f"{b['victim']}/news/victim-story/"))
        if path in ("/news/twin-a/", "/news/twin-b/"):
            story = "t1-003" if path.endswith("a/") else "t1-004"
            return send(handler, entry, 200, self.article(role, path, story,
                                                          canonical=f"{b['hostile']}/news/twin-canonical/"))
        if path == "/news/nul-title/":
            # the NUL reaches the extractor through JSON-LD (lxml drops raw NUL bytes from HTML)
            ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": self.NUL_TITLE})
            page = self.article(role, path, "t1-005", title=self.NUL_TITLE.replace("\x00", "")).replace(
                "</head>", f'<script type="application/ld+json">{ld}</script></head>')
            return send(handler, entry, 200, page.encode("utf-8"))
        if path == "/news/come-back-later/":
            return send(handler, entry, 429, "<h1>Later</h1>", extra={"Retry-After": "3600"})
        if path.startswith("/news/rate-limited-"):
            return send(handler, entry, 429, "<h1>Slow down</h1>", extra={"Retry-After": "1"})
        if path.startswith("/news/"):
            if path.startswith(("/news/junk-", "/news/huge-")):
                return send(handler, entry, 404, "<h1>Not found</h1>")
            return send(handler, entry, 200, self.article(role, path, "t1-006"))
        return send(handler, entry, 404, "<h1>Not found</h1>")


# -- any test's site on 127.0.0.1: start, answer, stop --------------------------------------------

Reply = tuple[int, Mapping[str, str], bytes | str]
"""``(status, headers, body)`` of one answer; a ``str`` body is sent as UTF-8, with its Content-Length."""
Page = bytes | str | Reply
"""A page of :func:`pages_handler`: a body (``200``, ``text/html; charset=utf-8``) or a whole :data:`Reply`."""

HTML = "text/html; charset=utf-8"
NOT_FOUND: Reply = (404, {"Content-Type": HTML}, b"")


class LocalServer(DemoServer):
    """A threaded HTTP server on a free port of 127.0.0.1 (the demo site's: daemon threads, a listen
    backlog for the crawler's parallel connections). ``paths`` lists the path of every request the
    handlers of :func:`reply_handler` answered (a handler of a test's own may append to it)."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]):
        super().__init__(("127.0.0.1", 0), handler)
        self.paths: list[str] = []

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``, no trailing slash."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def send_reply(request: http.server.BaseHTTPRequestHandler, reply: Reply) -> None:
    """Answer ``request`` (in a handler's ``do_GET``) with ``reply``, its Content-Length added."""
    status, headers, body = reply
    data = body.encode("utf-8") if isinstance(body, str) else body
    request.send_response(status)
    for name, value in headers.items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    if data:
        request.wfile.write(data)


def reply_handler(respond: Callable[[http.server.BaseHTTPRequestHandler], Reply | None]):
    """A handler class answering GET and POST with ``respond(request)``: the request handler, its
    ``path``, ``headers``, ``server`` and (POST) ``body`` read; ``None`` answers :data:`NOT_FOUND`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        body = b""

        def do_GET(self):  # noqa: N802 - http.server's name
            self.answer()

        def do_POST(self):  # noqa: N802
            self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.answer()

        def answer(self) -> None:
            self.server.paths.append(self.path)
            send_reply(self, respond(self) or NOT_FOUND)

        def log_message(self, *args):
            pass

    return Handler


def pages_handler(pages: Mapping[str, Page]):
    """A handler class answering GET ``path`` with ``pages[path]`` (:data:`Page`), read at each request:
    pages may be added once the server's address is known. Other paths are :data:`NOT_FOUND`."""

    def respond(request) -> Reply | None:
        page = pages.get(request.path)
        return (200, {"Content-Type": HTML}, page) if isinstance(page, (bytes, str)) else page

    return reply_handler(respond)


def start_local_site(site) -> LocalServer:
    """A :class:`LocalServer` serving ``site`` in a daemon thread (stop it with ``.stop()``): a dict of
    :data:`Page` (:func:`pages_handler`), a function ``request -> Reply | None`` (:func:`reply_handler`)
    or a handler class."""
    if isinstance(site, Mapping):
        handler = pages_handler(site)
    elif isinstance(site, type) and issubclass(site, http.server.BaseHTTPRequestHandler):
        handler = site
    else:
        handler = reply_handler(site)
    server = LocalServer(handler)
    threading.Thread(target=server.serve_forever, name="local-site", daemon=True).start()
    return server


@contextlib.contextmanager
def local_site(site) -> Iterator[LocalServer]:
    """:func:`start_local_site` for the ``with`` block: ``with local_site({"/": b"..."}) as server: server.base``."""
    server = start_local_site(site)
    try:
        yield server
    finally:
        server.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_crawl_cli(db: Path, sources: Path, *source_ids: str, since: str | None = None,
                  timeout: float = 120) -> subprocess.CompletedProcess:
    """Crawl in a subprocess (this file's ``main``: ``cuttings crawl --no-politeness`` without
    the rest of the CLI); raises if it fails. ``since="all"`` disables the date filter."""
    command = [sys.executable, __file__, str(db), str(sources), *source_ids]
    if since:
        command += ["--since", since]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    if result.returncode != 0:
        raise AssertionError(f"crawl failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-3000:]}")
    return result


def main(argv: list[str] | None = None) -> None:
    """``faultserver.py DB SOURCES [ID...] [--since DATE|all]``: one crawl, politeness off, as the CLI does."""
    import argparse

    from cuttings import store
    from cuttings.config import load_sources
    from cuttings.crawl import run_crawl
    from cuttings.stages import resolve_since, resolve_windows

    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("sources")
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--since")
    args = parser.parse_args(argv)
    db = store.connect(args.db)
    config = load_sources(args.sources)
    sources = config.select(args.ids)
    windows = resolve_windows(db, args.since, sources, config.crawl)
    since = resolve_since(db, args.since, config.crawl.overlap_hours)
    summary = run_crawl(db, sources, config.crawl, since=since, windows=windows, polite=False)
    print(f"crawl run {summary.run_id}: {summary.status}: {summary.counts}")
    for row in summary.sources:
        print(row["source_id"], {k: v for k, v in row.items() if k.startswith(("found_by", "articles", "errors"))})
    for warning in summary.warnings:
        print(f"warning: {warning}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    main()
