"""``cuttings sources check``: what discovery finds for a source, without crawling articles.

Fetches the source's robots.txt, configured and robots.txt sitemaps (indexes followed),
configured and autodiscovered feeds, and the home and section pages, with plain urllib
(timeouts, size cap, robots.txt obeyed), then reports the article URLs the crawl would
fetch (``discovery.is_article_url``: same host, allow/deny patterns, no document or media
links) and how many carry dates. Gzipped sitemaps (``.xml.gz``) are read.
"""
from __future__ import annotations

import functools
import socket
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler import discovery, urlpolicy
from cuttings.config import CrawlSettings, Source

MAX_SITEMAPS = 200


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
    article_urls: int = 0
    dated: int = 0
    newest: str | None = None
    oldest: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def date_share(self) -> float:
        return self.dated / self.article_urls if self.article_urls else 0.0


class UrlRefused(urllib.error.URLError):
    """A URL the crawl's URL policy would refuse (``crawler.urlpolicy``): reported, never fetched."""


def _check_url(url: str, source: Source, settings: CrawlSettings) -> None:
    """The crawl's URL policy for the check's own fetches: http(s) only, the source's own hosts,
    no private/loopback/link-local address unless the source (or ``[crawl]``) allows it."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in urlpolicy.ALLOWED_SCHEMES:
        raise UrlRefused(f"refused: only http and https URLs are fetched (got {scheme or 'no'}: scheme)")
    netloc = parts.netloc.lower()
    if "@" in netloc or netloc not in urlpolicy.source_hosts(source):
        raise UrlRefused(f"refused: {netloc} is not a host of source {source.id!r}")
    if not (settings.allow_private_addresses or source.local):
        for address in _addresses(parts.hostname or "", parts.port or (443 if scheme == "https" else 80)):
            if urlpolicy.non_public(address):
                raise UrlRefused(f"refused: {parts.hostname} is {address}, a private, loopback or "
                                 "link-local address")


@functools.lru_cache(maxsize=256)
def _addresses(host: str, port: int) -> tuple[str, ...]:
    """The addresses a host resolves to, looked up once per host for a check of many sitemaps."""
    return tuple(info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP))


class _PolicyRedirects(urllib.request.HTTPRedirectHandler):
    """Each redirect hop is checked like the first URL."""

    def __init__(self, source: Source, settings: CrawlSettings):
        self.source, self.settings = source, settings

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        _check_url(newurl, self.source, self.settings)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _fetch(url: str, settings: CrawlSettings, source: Source) -> bytes:
    _check_url(url, source, settings)
    opener = urllib.request.build_opener(_PolicyRedirects(source, settings))
    request = urllib.request.Request(url, headers={"User-Agent": settings.user_agent})
    with opener.open(request, timeout=settings.timeout) as response:  # noqa: S310 - checked above
        return response.read(settings.max_page_bytes + 1)[: settings.max_page_bytes]


def _words(exc: BaseException, url: str) -> str:
    if isinstance(exc, UrlRefused):
        return str(exc.reason)
    from cuttings.failures import describe_exception
    return describe_exception(exc, url)


def check_source(source: Source, settings: CrawlSettings) -> SourceCheck:
    """Run discovery for one source and report what it finds (no article pages are fetched)."""
    parts = urlsplit(source.home)
    report = SourceCheck(source.id, f"{parts.scheme}://{parts.netloc}/robots.txt")
    robots = urllib.robotparser.RobotFileParser()
    try:
        text = _fetch(report.robots_url, settings, source).decode("utf-8", "replace")
        report.robots_found = True
        robots.parse(text.splitlines())
        report.robots_sitemaps = [u for u in discovery.parse_robots_sitemaps(text, report.robots_url)
                                  if urlsplit(u).path.startswith(parts.path) or u in source.sitemaps]
    except (urllib.error.URLError, OSError) as exc:
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

    def keep(entry: discovery.Found) -> None:
        if not discovery.is_article_url(source, entry.url):  # the crawl's own filter
            return
        previous = found.get(entry.url)
        if previous is None or (not previous.published_at and entry.published_at):
            found[entry.url] = entry

    feeds = list(source.feeds)
    for page in [source.home, *source.sections]:
        if not allowed(page):
            continue
        try:
            links, page_feeds, _next = discovery.page_links(_fetch(page, settings, source), page)
        except (urllib.error.URLError, OSError) as exc:
            report.problems.append(f"{page}: {_words(exc, page)}")
            continue
        for url in page_feeds:
            if url not in feeds:
                feeds.append(url)
                report.autodiscovered_feeds.append(url)
        for url in links:
            keep(discovery.Found(url, "links"))
    for url in feeds:
        if not allowed(url):
            continue
        try:
            entries = discovery.parse_feed(_fetch(url, settings, source), url)
        except (urllib.error.URLError, OSError) as exc:
            report.feeds[url] = -1
            report.problems.append(f"feed {url}: {_words(exc, url)}")
            continue
        report.feeds[url] = len(entries)
        for entry in entries:
            keep(entry)
    queue = list(dict.fromkeys([*source.sitemaps, *report.robots_sitemaps]))
    while queue and len(report.sitemaps) < MAX_SITEMAPS:
        url = queue.pop(0)
        if url in report.sitemaps or not allowed(url):
            continue
        try:
            children, pages = discovery.parse_sitemap(_fetch(url, settings, source), url)
        except (urllib.error.URLError, OSError) as exc:
            report.sitemaps[url] = -1
            report.problems.append(f"sitemap {url}: {_words(exc, url)}")
            continue
        report.sitemaps[url] = len(pages) + len(children)
        queue.extend(children)
        for entry in pages:
            keep(entry)
    if queue:
        report.problems.append(f"stopped after {MAX_SITEMAPS} sitemaps; {len(queue)} not read")
    dates = sorted(e.published_at for e in found.values() if e.published_at)
    report.article_urls, report.dated = len(found), len(dates)
    report.oldest, report.newest = (dates[0], dates[-1]) if dates else (None, None)
    if not found:
        report.problems.append("no article URLs match the allow/deny patterns")
    return report


def format_check(report: SourceCheck) -> str:
    robots = "found" if report.robots_found else (f"not fetched: {report.robots_error}" if report.robots_error
                                                  else "missing")
    lines = [f"{report.source_id}: robots.txt {robots}"]
    for url, count in report.feeds.items():
        tag = " (autodiscovered)" if url in report.autodiscovered_feeds else ""
        lines.append(f"  feed     {url}{tag}: {'FAILED' if count < 0 else f'{count} entries'}")
    for url, count in report.sitemaps.items():
        tag = " (robots.txt)" if url in report.robots_sitemaps else ""
        lines.append(f"  sitemap  {url}{tag}: {'FAILED' if count < 0 else f'{count} entries'}")
    lines.append(f"  article URLs matching allow/deny: {report.article_urls}; with dates: {report.dated} "
                 f"({report.date_share:.0%}); newest {report.newest or '-'}; oldest {report.oldest or '-'}")
    lines += [f"  problem: {p}" for p in dict.fromkeys(report.problems)]
    return "\n".join(lines)
