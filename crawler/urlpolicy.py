"""Which URLs the crawler may fetch: downloader middlewares for the URL policy and robots.txt.

:class:`UrlPolicyMiddleware` runs first in the downloader chain (before robots.txt, so a
refused host is never even asked for its robots.txt), on every request: start URLs,
robots.txt ``Sitemap:`` lines, sitemap-index children, autodiscovered feeds, article links
and each hop of a redirect (Scrapy sends redirected requests through the whole chain
again). A request is refused, with an :class:`UrlRefused` that the spider's errback records
in ``crawl_errors``, when

* its scheme is not ``http``/``https`` (``url_scheme``: ``file:``, ``ftp:``, ``data:`` ...;
  Scrapy's handlers for those schemes are switched off in the settings as well);
* its host is not one of the source's own hosts (``offsite_host``): the hosts of the source's
  ``home``, ``feeds``, ``sitemaps``, ``sections`` and ``search`` URLs, their ``www.`` twins,
  and the ``hosts`` the source declares in ``sources.toml``;
* its host is, or resolves to, a private, loopback, link-local or otherwise non-public
  address (``private_address``), unless the source says ``local = true`` or the ``[crawl]``
  table says ``allow_private_addresses = true`` (the demo site and the tests on 127.0.0.1).

:class:`CappedRobotsTxtMiddleware` is Scrapy's robots.txt middleware, except that a
robots.txt larger than ``CUTTINGS_ROBOTSTXT_MAXSIZE`` means "disallow everything" for that
site (recorded as ``robots_too_large``) instead of Scrapy's "allow everything".

Every body, wherever it comes from, is under ``DOWNLOAD_MAXSIZE``: only the HTTP(S)
handler, which enforces it, is left enabled.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

log = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")
ROBOTSTXT_MAXSIZE = 500_000  # Google's limit for robots.txt is 500 KiB


class UrlRefused(IgnoreRequest):
    """A request the URL policy refused; ``kind`` is what ``crawl_errors`` records."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _twins(netloc: str) -> set[str]:
    netloc = netloc.lower()
    if netloc.startswith("www."):
        return {netloc, netloc[4:]}
    return {netloc, "www." + netloc}


def source_hosts(source) -> set[str]:
    """The hosts (``host[:port]``, lower case) a source's pages may be fetched from."""
    urls = [source.home, *source.feeds, *source.sitemaps, *source.sections]
    if getattr(source, "search", None):
        urls.append(source.search)
    hosts: set[str] = set()
    for url in urls:
        netloc = urlsplit(url).netloc
        if netloc:
            hosts |= _twins(netloc)
    for host in getattr(source, "hosts", None) or []:
        hosts |= _twins(host)
    return hosts


def non_public(address: str) -> bool:
    """True for private, loopback, link-local, multicast, reserved and unspecified addresses."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True  # not an address we understand: do not connect
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class UrlPolicyMiddleware:
    """Downloader middleware: refuse non-HTTP schemes, other sites' hosts and internal addresses."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.allow_private = crawler.settings.getbool("CUTTINGS_ALLOW_PRIVATE_ADDRESSES", False)
        self.robots_maxsize = crawler.settings.getint("CUTTINGS_ROBOTSTXT_MAXSIZE", ROBOTSTXT_MAXSIZE)
        maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE", 0)
        if maxsize:
            self.robots_maxsize = min(self.robots_maxsize, maxsize)
        self._resolved: dict[str, list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _sources(self) -> list:
        return list(getattr(self.crawler.spider, "sources", None) or [])

    async def process_request(self, request, spider=None):
        parts = urlparse_cached(request)
        scheme = (parts.scheme or "").lower()
        if scheme not in ALLOWED_SCHEMES:
            raise UrlRefused("url_scheme", f"refused: only http and https URLs are fetched (got {scheme or 'no'}: "
                                           "scheme)")
        netloc = (parts.netloc or "").lower()
        if "@" in netloc:
            raise UrlRefused("offsite_host", "refused: URL carries credentials")
        source = request.meta.get("source")
        candidates = [source] if source is not None else [s for s in self._sources() if netloc in source_hosts(s)]
        if source is not None and netloc not in source_hosts(source):
            raise UrlRefused("offsite_host", f"refused: {netloc} is not a host of source {source.id!r} "
                                             "(declare it under 'hosts' in sources.toml if it is)")
        if not candidates:
            raise UrlRefused("offsite_host", f"refused: {netloc} is not a host of any configured source")
        local = self.allow_private or any(getattr(s, "local", False) for s in candidates)
        if not local:
            host = parts.hostname or ""
            for address in await self._addresses(host, parts.port or (443 if scheme == "https" else 80)):
                if non_public(address):
                    raise UrlRefused("private_address",
                                     f"refused: {host} is {address}, a private, loopback or link-local address "
                                     "(set local = true on the source in sources.toml if the site is yours)")
        if parts.path == "/robots.txt" and request.meta.get("dont_obey_robotstxt"):
            request.meta.setdefault("download_maxsize", self.robots_maxsize)
        return None

    def process_exception(self, request, exception, spider=None):
        """A robots.txt over its size cap becomes an IgnoreRequest: Scrapy's robots.txt middleware
        then does not log a traceback, and CappedRobotsTxtMiddleware treats it as disallow-all."""
        if isinstance(exception, DownloadCancelledError) and urlparse_cached(request).path == "/robots.txt" \
                and request.meta.get("dont_obey_robotstxt"):
            raise RobotsTooLarge("too_large", f"robots.txt larger than the size cap: {exception}")
        return None

    async def _addresses(self, host: str, port: int) -> list[str]:
        try:
            ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
            return [host.strip("[]")]
        except ValueError:
            pass
        if host not in self._resolved:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError):
                infos = []  # unresolvable: the download fails and is recorded as a DNS error
            self._resolved[host] = sorted({info[4][0] for info in infos})
        return self._resolved[host]


class RobotsTooLarge(UrlRefused):
    """robots.txt over ``CUTTINGS_ROBOTSTXT_MAXSIZE`` (or DOWNLOAD_MAXSIZE)."""


class _DisallowAll:
    """A robots.txt parser that allows nothing (robots.txt over the size cap)."""

    def allowed(self, url, user_agent) -> bool:
        return False


class CappedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware; a robots.txt over the size cap means disallow-all, recorded."""

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        too_large = isinstance(exc, (RobotsTooLarge, DownloadCancelledError))
        if not too_large:
            return super()._robots_error(exc, netloc)
        self._stats.inc_value("cuttings/robots_too_large")
        spider = self.crawler.spider
        url = f"http://{netloc}/robots.txt"
        for source in [s for s in getattr(spider, "sources", []) if netloc in source_hosts(s)] or [None]:
            if hasattr(spider, "record_error"):
                spider.record_error(source.id if source else None, url, "robots_too_large", None,
                                    "robots.txt is larger than the size cap: the site is treated as "
                                    "disallowing everything")
        deferred = self._parsers[netloc]
        self._parsers[netloc] = _DisallowAll()
        deferred.callback(self._parsers[netloc])
