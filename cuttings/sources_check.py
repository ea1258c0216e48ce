"""``cuttings sources check``: what discovery finds for a source, without crawling articles.

Fetches the source's robots.txt, configured and robots.txt sitemaps (indexes followed),
configured and autodiscovered feeds, and the home and section pages, with plain urllib
(timeouts, size cap, robots.txt obeyed), then reports the article URLs the crawl would
fetch (``discovery.is_article_url``: same host, allow/deny patterns, no document or media
links) and how many carry dates. Gzipped sitemaps (``.xml.gz``) are read. Listing pages are
followed as the crawl follows them (``discovery.is_listing_url``: rel=next and numbered pages
under the home or a section, ``[crawl] max_depth`` levels), up to ``MAX_LISTING_PAGES``; a source
with a ``search`` URL has its result page for each ``[crawl] search_keywords`` read too.

A source *fails* the check (:attr:`SourceCheck.failures`; ``cuttings sources check`` exits 1)
when it gives no article URL at all, when every feed and sitemap it has (configured, in
robots.txt or autodiscovered) failed or gave no article URL, or when a feed or sitemap
configured in sources.toml could not be fetched.
"""
from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections import deque
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlsplit

from w3lib.encoding import html_to_unicode
from w3lib.url import safe_url_string

from crawler import discovery, urlpolicy
from cuttings.wording import counted
from cuttings.config import CrawlSettings, Source
from cuttings.redaction import redact, strip_controls

MAX_SITEMAPS = 200
MAX_LISTING_PAGES = 100  # listing pages read besides the home and section pages (the crawl: max_pages_per_source)


@dataclass
class SourceCheck:
    source_id: str
    robots_url: str
    robots_found: bool = False
    robots_error: str | None = None  # why robots.txt could not be fetched, in words (None: found, or 404)
    feeds: dict[str, int] = field(default_factory=dict)        # feed URL -> entries (-1: failed)
    autodiscovered_feeds: list[str] = field(default_factory=list)
    sitemaps: dict[str, int] = field(default_factory=dict)     # sitemap URL -> entries (-1: failed)
    robots_sitemaps: list[str] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)        # home/section/listing page -> article links (-1: failed)
    listing_pages: list[str] = field(default_factory=list)     # pages reached by pagination (rel=next, page N)
    search_pages: dict[str, int] = field(default_factory=dict)  # site-search result page -> article links (-1: failed)
    max_depth: int = 0
    private_address: str | None = None   # the home refused for its private/loopback address: what to do
    by_layer: dict[str, int] = field(default_factory=dict)     # feed/sitemap/links/search -> article URLs it gave
    urls: list[str] = field(default_factory=list)              # the article URLs found, sorted
    article_urls: int = 0
    dated: int = 0
    newest: str | None = None
    oldest: str | None = None
    problems: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # why the source fails the check (empty: it passes)
    offsite: dict[str, int] = field(default_factory=dict)  # host -> feed/sitemap entries on another host than home

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @property
    def date_share(self) -> float:
        return self.dated / self.article_urls if self.article_urls else 0.0


class UrlRefused(urllib.error.URLError):
    """A URL the crawl's URL policy would refuse (``crawler.urlpolicy``): reported, never fetched."""


class PrivateAddressRefused(UrlRefused):
    """A URL whose host is (or resolves to) a private, loopback or link-local address, of a source without
    ``local = true``."""

    def __init__(self, reason: str, netloc: str, hostname: str, address: str):
        super().__init__(reason)
        self.netloc, self.hostname, self.address = netloc, hostname, address


class FetchTimeout(TimeoutError):
    """No complete answer within ``[crawl] timeout`` seconds in all: a DNS lookup, connect or TLS
    handshake that hangs, or a server dripping bytes."""


# What one fetch can raise: each is a problem line for that URL, and the check goes on.
FETCH_ERRORS = (urllib.error.URLError, OSError, ValueError, http.client.HTTPException)


def _check_url(url: str, source: Source, settings: CrawlSettings, deadline: _Deadline) -> None:
    """The crawl's URL policy for the check's own fetches: http(s) only, the source's own hosts,
    no private/loopback/link-local address unless the source (or ``[crawl]``) allows it (the
    addresses are the fetch's own lookup, the ones it then connects to)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in urlpolicy.ALLOWED_SCHEMES:
        raise UrlRefused(f"refused: only http and https URLs are fetched (got {scheme or 'no'}: scheme)")
    netloc = parts.netloc.lower()
    if "@" in netloc or netloc not in urlpolicy.source_hosts(source):
        raise UrlRefused(f"refused: {netloc} is not a host of source {source.id!r}")
    if not (settings.allow_private_addresses or source.local):
        port = parts.port or (443 if scheme == "https" else 80)
        for address in (info[4][0] for info in deadline.resolve(parts.hostname or "", port)):
            if urlpolicy.non_public(address):
                raise PrivateAddressRefused(f"refused: {parts.hostname} is {address}, a private, loopback or "
                                            "link-local address", netloc, parts.hostname or "", address)


class _Deadline:
    """One fetch's deadline, ``[crawl] timeout`` seconds from its start, over everything the fetch
    does: the DNS lookups (each in a thread of its own, waited for until the deadline: a lookup
    cannot be interrupted), the connects and TLS handshakes (each given only the time left as its
    socket timeout; CPython bounds a whole handshake by it) and the reads (a watchdog shuts every
    socket of the fetch down at the deadline, so a server dripping a byte at a time is cut off: a
    socket's own timeout is per read). A socket made after the watchdog fired is shut down at once.
    Each step past the deadline raises :class:`FetchTimeout`."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._expired = False
        self._lookups: dict[tuple[str, int], list] = {}
        self._watchdog = threading.Timer(seconds, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def timeout(self) -> FetchTimeout:
        return FetchTimeout(f"no complete answer within {self.seconds:g} s")

    def left(self) -> float:
        """Seconds left before the deadline; :class:`FetchTimeout` when there are none."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise self.timeout()
        return left

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def cancel(self) -> None:
        self._watchdog.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if not self._expired:
                self._sockets.append(sock)
                return
        _shut_down([sock])

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            sockets = list(self._sockets)
        _shut_down(sockets)

    def resolve(self, host: str, port: int) -> list:
        """``socket.getaddrinfo(host, port)`` for TCP, within the time left; looked up once per
        fetch, so the URL policy checks the addresses the fetch connects to."""
        key = (host, port)
        if key not in self._lookups:
            done, answer = threading.Event(), {}

            def lookup():
                try:
                    answer["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                except BaseException as exc:  # noqa: BLE001 - handed to the fetch's thread below
                    answer["error"] = exc
                finally:
                    done.set()

            threading.Thread(target=lookup, name=f"sources-check lookup {host}", daemon=True).start()
            if not done.wait(self.left()):
                raise self.timeout()
            if "error" in answer:
                raise answer["error"]
            self._lookups[key] = answer["infos"]
        return self._lookups[key]

    def connect(self, address: tuple[str, int], timeout=None, source_address=None) -> socket.socket:
        """``socket.create_connection`` within the deadline (http.client's ``_create_connection``):
        every address the host has is tried in turn in the time left, each socket watched."""
        host, port = address
        error: OSError | None = None
        for family, kind, proto, _name, sockaddr in self.resolve(host, port):
            sock = socket.socket(family, kind, proto)
            self.watch(sock)
            try:
                sock.settimeout(self.left())
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                sock.settimeout(self.left())  # the TLS handshake, if any, comes next on this socket
                return sock
            except OSError as exc:
                sock.close()
                if self.passed:
                    raise self.timeout() from exc
                error = exc
        raise error or OSError(f"getaddrinfo returned no address for {host}")


class _PolicyRedirects(urllib.request.HTTPRedirectHandler):
    """Each redirect hop is checked like the first URL."""

    def __init__(self, source: Source, settings: CrawlSettings, deadline: _Deadline):
        self.source, self.settings, self.deadline = source, settings, deadline

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        _check_url(newurl, self.source, self.settings, self.deadline)
        return super().redirect_request(req, fp, code, msg, headers, safe_url_string(newurl))


def _fetch(url: str, settings: CrawlSettings, source: Source) -> bytes:
    return _get(url, settings, source)[0]


def _fetch_html(url: str, settings: CrawlSettings, source: Source) -> str:
    """A page decoded as Scrapy decodes it for the crawl (HTTP charset, BOM, ``<meta>``, else UTF-8
    if it decodes: ``w3lib.encoding.html_to_unicode``), so its links read the same."""
    body, content_type = _get(url, settings, source)
    return html_to_unicode(content_type, body)[1]


def _get(url: str, settings: CrawlSettings, source: Source) -> tuple[bytes, str | None]:
    """The body of ``url`` (at most ``max_page_bytes``) and its Content-Type, within ``[crawl]
    timeout`` seconds in all: DNS lookups, connects, TLS handshakes, redirects, headers and body
    together (:class:`_Deadline`; urllib's own timeout is per step and per read, and a lookup has
    none), the body read in chunks against the deadline. Non-ASCII URLs are percent-encoded as
    Scrapy does (``w3lib.url.safe_url_string``)."""
    deadline = _Deadline(settings.timeout)
    try:
        _check_url(url, source, settings, deadline)
        opener = urllib.request.build_opener(_PolicyRedirects(source, settings, deadline),
                                             _DeadlineHTTPHandler(deadline), _DeadlineHTTPSHandler(deadline))
        request = urllib.request.Request(safe_url_string(url), headers={"User-Agent": settings.user_agent})
        with opener.open(request, timeout=settings.timeout) as response:  # noqa: S310 - checked above
            chunks, size = [], 0
            while size <= settings.max_page_bytes and not deadline.passed:
                chunk = response.read1(min(65536, settings.max_page_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if deadline.passed:
                raise deadline.timeout()
            return b"".join(chunks)[: settings.max_page_bytes], response.headers.get("Content-Type")
    except FETCH_ERRORS as exc:
        if deadline.passed and not isinstance(exc, (FetchTimeout, urllib.error.HTTPError)):
            raise deadline.timeout() from exc
        raise
    finally:
        deadline.cancel()


def _shut_down(sockets: list[socket.socket]) -> None:
    for sock in list(sockets):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    """urllib's HTTP handler, its connections made within the fetch's deadline."""

    def __init__(self, deadline: _Deadline):
        super().__init__()
        self.deadline = deadline

    def http_open(self, req):
        return self.do_open(_connection_class(http.client.HTTPConnection, self.deadline), req)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline):
        super().__init__()
        self.deadline = deadline

    def https_open(self, req):
        return self.do_open(_connection_class(http.client.HTTPSConnection, self.deadline), req,
                            context=self._context, check_hostname=self._check_hostname)


def _connection_class(base, deadline: _Deadline):
    class Connection(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._create_connection = deadline.connect  # lookup and connect within the deadline

        def connect(self):
            super().connect()  # TCP, then (https) the TLS handshake, bounded by the time left
            deadline.watch(self.sock)  # the TLS socket replaces the plain one the handshake detached
    return Connection


def _words(exc: BaseException, url: str) -> str:
    if isinstance(exc, UrlRefused):
        return str(exc.reason)
    host = urlsplit(url).netloc or "the site"
    if isinstance(exc, http.client.HTTPException):
        return f"bad HTTP answer from {host} ({type(exc).__name__})"
    if isinstance(exc, ValueError):
        return f"cannot fetch this URL at {host} ({type(exc).__name__})"
    from cuttings.failures import describe_exception
    return describe_exception(exc, url)


def check_source(source: Source, settings: CrawlSettings) -> SourceCheck:
    """Run discovery for one source and report what it finds (no article pages are fetched)."""
    parts = urlsplit(source.home)
    report = SourceCheck(source.id, f"{parts.scheme}://{parts.netloc}/robots.txt")
    report.private_address = _private_address(source, settings)
    if report.private_address:
        report.problems.append(report.private_address)
    robots = urllib.robotparser.RobotFileParser()
    try:
        text = _fetch(report.robots_url, settings, source).decode("utf-8", "replace")
        report.robots_found = True
        robots.parse(text.splitlines())
        report.robots_sitemaps = [u for u in discovery.parse_robots_sitemaps(text, report.robots_url)
                                  if urlsplit(u).path.startswith(parts.path) or u in source.sitemaps]
    except FETCH_ERRORS as exc:
        if not (isinstance(exc, urllib.error.HTTPError) and 400 <= exc.code < 500):
            report.robots_error = _words(exc, report.robots_url)  # not "missing": unreachable
        report.problems.append(f"robots.txt: {report.robots_error or exc}")
        robots.parse([])

    def allowed(url: str) -> bool:
        if settings.obey_robots and not robots.can_fetch(settings.user_agent, url):
            report.problems.append(f"disallowed by robots.txt: {url}")
            return False
        return True

    found: dict[str, discovery.Found] = {}
    layers: dict[str, set[str]] = {"feed": set(), "sitemap": set(), "links": set(), "search": set()}
    failed: dict[str, str] = {}  # URL -> "feed URL: words", each feed or sitemap that could not be read
    failed_pages: list[str] = []  # "URL: words" for each home, section, listing or search page not read

    home_host = urlsplit(source.home).netloc

    def keep(entry: discovery.Found) -> bool:
        if not discovery.is_article_url(source, entry.url):  # the crawl's own filter
            parts = urlsplit(entry.url)
            host = parts.netloc if parts.scheme in ("http", "https") else f"{parts.scheme or 'relative'}: URLs"
            if entry.found_by in ("feed", "sitemap") and host != home_host:   # pages link off-site all the time
                report.offsite[host] = report.offsite.get(host, 0) + 1
            return False
        layers[entry.found_by].add(entry.url)
        previous = found.get(entry.url)
        if previous is None or (not previous.published_at and entry.published_at):
            found[entry.url] = entry
        return True

    feeds = list(source.feeds)
    report.max_depth = settings.max_depth
    link_limit = settings.max_links_per_page
    starts = list(dict.fromkeys([source.home, *source.sections]))
    queue: deque[tuple[str, int, str]] = deque((page, settings.max_depth, "links") for page in starts)
    if source.search and settings.search_keywords:  # the crawl's search layer: result pages, not followed
        report.search_pages = {source.search.replace("{query}", quote_plus(k)): 0 for k in settings.search_keywords}
        queue.extend((url, 0, "search") for url in report.search_pages)
    queued = {page for page, _depth, _layer in queue}
    first = set(queued)
    while queue:
        page, depth_left, layer = queue.popleft()
        listing = page not in first
        if listing and len(report.listing_pages) >= min(MAX_LISTING_PAGES, settings.max_pages_per_source):
            report.problems.append(f"stopped after {len(report.listing_pages)} listing pages; "
                                   f"{sum(p not in first for p, _d, _l in queue) + 1} not read")
            queue = deque(item for item in queue if item[0] in first)
            continue
        if listing:
            report.listing_pages.append(page)
        counts = report.search_pages if layer == "search" else report.pages
        if not allowed(page):
            counts[page] = -1
            failed_pages.append(f"{page}: disallowed by robots.txt")
            continue
        try:
            links, page_feeds, next_url = discovery.page_links(_fetch_html(page, settings, source), page)
        except FETCH_ERRORS as exc:
            counts[page] = -1
            report.problems.append(f"{page}: {_words(exc, page)}")
            failed_pages.append(f"{page}: {_words(exc, page)}")
            continue
        for url in page_feeds:
            if url not in feeds:
                feeds.append(url)
                report.autodiscovered_feeds.append(url)
        # as the spider's parse_section: article links (at most max_links_per_page), then pagination
        taken = 0
        for kind, url in discovery.read_listing(source, links, next_url, follow=depth_left > 0):
            if kind == "article":
                if taken < link_limit:
                    taken += keep(discovery.Found(url, layer))
            elif url not in queued:
                queued.add(url)
                queue.append((url, depth_left - 1, layer))
        counts[page] = taken
    for url in feeds:
        if not allowed(url):
            report.feeds[url] = -1
            failed[url] = f"feed {url}: disallowed by robots.txt"
            continue
        try:
            entries = discovery.parse_feed(_fetch(url, settings, source), url)
        except FETCH_ERRORS as exc:
            report.feeds[url] = -1
            report.problems.append(f"feed {url}: {_words(exc, url)}")
            failed[url] = f"feed {url}: {_words(exc, url)}"
            continue
        report.feeds[url] = len(entries)
        for entry in entries:
            keep(entry)
    queue = list(dict.fromkeys([*source.sitemaps, *report.robots_sitemaps]))
    while queue and len(report.sitemaps) < MAX_SITEMAPS:
        url = queue.pop(0)
        if url in report.sitemaps:
            continue
        if not allowed(url):
            report.sitemaps[url] = -1
            failed[url] = f"sitemap {url}: disallowed by robots.txt"
            continue
        try:
            read = discovery.read_sitemap(_fetch(url, settings, source), url, max_bytes=settings.max_page_bytes,
                                          max_entries=settings.max_sitemap_entries)
        except FETCH_ERRORS as exc:
            report.sitemaps[url] = -1
            report.problems.append(f"sitemap {url}: {_words(exc, url)}")
            failed[url] = f"sitemap {url}: {_words(exc, url)}"
            continue
        children, pages = read.children, read.pages
        if read.bytes_cut or read.entries_cut:   # as the crawl reads it (notice sitemap_cut)
            report.problems.append(f"sitemap {url}: {sitemap_cut_words(read, settings.max_sitemap_entries)}")
        report.sitemaps[url] = len(pages) + len(children)
        queue.extend(children)
        for entry in pages:
            keep(entry)
    if queue:
        report.problems.append(f"stopped after {counted(MAX_SITEMAPS, 'sitemap')}; {len(queue)} not read")
    dates = sorted(e.published_at for e in found.values() if e.published_at)
    report.urls = sorted(found)
    report.article_urls, report.dated = len(found), len(dates)
    report.oldest, report.newest = (dates[0], dates[-1]) if dates else (None, None)
    report.by_layer = {layer: len(urls) for layer, urls in layers.items()}
    if not found:
        report.problems.append(_no_article_urls(report, home_host))
    report.failures = _failures(report, source, failed, failed_pages)
    return report


def sitemap_cut_words(read, max_entries: int) -> str:
    """What the check says of a sitemap the crawl reads only in part (``discovery.read_sitemap``'s ``bytes_cut``,
    ``entries_cut``; the crawl's notice ``sitemap_cut``): "over max_page_bytes unzipped, read up to there; 1 entry
    read", "5000 entries, the newest 1000 counted (max_sitemap_entries)"."""
    cut = "over max_page_bytes unzipped, read up to there; " if read.bytes_cut else ""
    seen = counted(read.entries_seen, "entry", "entries")
    if read.entries_cut:
        return f"{cut}{seen}, the newest {max_entries} counted (max_sitemap_entries)"
    return f"{cut}{seen} read"


def _private_address(source: Source, settings: CrawlSettings) -> str | None:
    """The one line for a source whose home the crawl refuses for its private or loopback address (a site
    of the team's own without ``local = true``): what happened and what to do (``failures.LOCAL_FIX``)."""
    from cuttings.failures import LOCAL_FIX
    deadline = _Deadline(settings.timeout)
    try:
        _check_url(source.home, source, settings, deadline)
    except PrivateAddressRefused as refused:
        shown = refused.netloc + (f" ({refused.address})" if refused.address != refused.hostname else "")
        return f"the crawler refuses {shown}, a private or loopback address: {LOCAL_FIX}"
    except FETCH_ERRORS:   # any other refusal or failure: the fetches below report it
        return None
    finally:
        deadline.cancel()
    return None


def _no_article_urls(report: SourceCheck, home_host: str) -> str:
    """Why no article URL was found, naming the hosts when the feeds and sitemaps list other hosts' URLs
    (the crawl fetches only the host of the source's ``home``), else the allow/deny patterns; for a home
    refused for its private address, that (said once already: :func:`_private_address`)."""
    if report.private_address:
        return report.private_address
    if not report.offsite:
        return "no article URLs match the allow/deny patterns"
    hosts = sorted(report.offsite, key=lambda host: (-report.offsite[host], host))
    named = ", ".join(hosts[:3]) + (f" and {len(hosts) - 3} more" if len(hosts) > 3 else "")
    offsite = sum(report.offsite.values())
    return (f"its feeds and sitemaps list {counted(offsite, 'URL')} on other hosts ({named}) than "
            f"its home's ({home_host}), which the crawl does not fetch: if the articles live there, make "
            "that host the source's home")


def _failures(report: SourceCheck, source: Source, failed_routes: dict[str, str],
              failed_pages: list[str]) -> list[str]:
    """Why the source fails the check, one reason a line (empty: it passes). ``failed_routes``: the
    feeds and sitemaps that could not be read, URL -> why in words."""
    failures = []
    configured = [words for url, words in failed_routes.items() if url in (*source.feeds, *source.sitemaps)]
    failed = list(failed_routes.values())
    routes = len(report.feeds) + len(report.sitemaps)
    if not report.article_urls:
        what = "; ".join(failed + failed_pages) or (
            _no_article_urls(report, urlsplit(source.home).netloc) if report.offsite else
            "its feeds, sitemaps and pages list no URL matching allow/deny" if routes else
            "no feed or sitemap, and its pages link to no URL matching allow/deny")
        failures.append(f"no article URLs found ({what})")
    elif routes and not (report.by_layer["feed"] or report.by_layer["sitemap"]):
        what = "; ".join(failed) or "they list no URL matching allow/deny"
        failures.append(f"every feed and sitemap failed or gave no article URL ({what}); only links on "
                        f"its pages remain ({counted(report.by_layer['links'], 'article URL')})")
    else:
        failures += [f"configured {f}" for f in configured]
    return failures


def format_check(report: SourceCheck) -> str:
    robots = "found" if report.robots_found else (f"not fetched: {report.robots_error}" if report.robots_error
                                                  else "missing")
    lines = [f"{report.source_id}: robots.txt {robots}"]
    for url, count in report.feeds.items():
        tag = " (autodiscovered)" if url in report.autodiscovered_feeds else ""
        lines.append(f"  feed     {url}{tag}: {'FAILED' if count < 0 else counted(count, 'entry', 'entries')}")
    for url, count in report.sitemaps.items():
        tag = " (robots.txt)" if url in report.robots_sitemaps else ""
        lines.append(f"  sitemap  {url}{tag}: {'FAILED' if count < 0 else counted(count, 'entry', 'entries')}")
    read = [n for n in report.pages.values() if n >= 0]
    listing = f" + {counted(len(report.listing_pages), 'listing page')} (rel=next, page N; max_depth {report.max_depth})"
    lines.append(f"  pages    home and sections: {len(report.pages) - len(report.listing_pages)}{listing}: "
                 f"{len(read)} read" + (f", {len(report.pages) - len(read)} FAILED" if len(read) < len(report.pages)
                                        else ""))
    if report.search_pages:
        failed = sum(n < 0 for n in report.search_pages.values())
        lines.append(f"  search   {counted(len(report.search_pages), 'result page')} ([crawl] search_keywords): "
                     f"{len(report.search_pages) - failed} read" + (f", {failed} FAILED" if failed else ""))
    names = [("feed", "feeds"), ("sitemap", "sitemaps"), ("links", "page links")]
    layers = ", ".join(f"{name} {report.by_layer.get(key, 0)}" for key, name in
                       names + ([("search", "search")] if report.search_pages else []))
    lines.append(f"  article URLs matching allow/deny: {report.article_urls} ({layers}); with dates: "
                 f"{report.dated} ({report.date_share:.0%}); newest {report.newest or '-'}; "
                 f"oldest {report.oldest or '-'}")
    lines += [f"  problem: {p}" for p in dict.fromkeys(report.problems)]
    lines += [f"{report.source_id}: FAILED: {f}" for f in report.failures]
    # a feed configured with ?token=... is not printed with it; nor is a terminal escape a server sent (an HTTP
    # reason phrase: OSC 52 writes some terminals' clipboard), nor one in a URL its feeds or sitemaps list
    return redact(strip_controls("\n".join(lines)))
