"""DNS resolution that refuses internal addresses at connection time (DNS rebinding).

:class:`crawler.urlpolicy.UrlPolicyMiddleware` refuses a request whose host resolves to a
private, loopback or link-local address, but it asks the DNS before the download, and the
connection asks again. A host whose name server answers a public address to the first
question and ``127.0.0.1`` or ``169.254.169.254`` to the second ("DNS rebinding") would get
past that check. This resolver, installed with Scrapy's ``TWISTED_DNS_RESOLVER`` setting, applies
the same rule to the address the connection actually uses: an answer that is not a public
address fails the download with :class:`PrivateAddressResolved` (recorded in
``crawl_errors`` as ``private_address``), unless the host belongs to a source with
``local = true`` or the crawl allows private addresses (the demo and the tests).
"""
from __future__ import annotations

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from crawler.urlpolicy import non_public, source_hosts


# host name -> why it was refused, for the spider's errback: Twisted's name resolution turns
# the resolver's error into "no results for hostname lookup", losing the reason
_REFUSED: dict[str, str] = {}


def resolver_refusal(host: str) -> str | None:
    """Why the connection-time resolver refused ``host``, or None."""
    return _REFUSED.get(host.lower())


class PrivateAddressResolved(DNSLookupError):
    """The connection's DNS answer for a host is not a public address."""


class PublicOnlyResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing non-public answers for hosts that are not local."""

    crawler = None
    allow_private = False

    @classmethod
    def from_crawler(cls, crawler, reactor):  # crawler: a Crawler or the CrawlerProcess
        resolver = super().from_crawler(crawler, reactor)
        resolver.crawler = crawler
        resolver.allow_private = crawler.settings.getbool("CUTTINGS_ALLOW_PRIVATE_ADDRESSES", False)
        return resolver

    def getHostByName(self, name, timeout=()):  # noqa: N802 - Twisted's interface
        deferred = super().getHostByName(name, timeout)
        deferred.addCallback(self._public_only, name)
        return deferred

    def local_hosts(self) -> set[str]:
        """Host names (no port) of the sources that declare ``local = true``."""
        # Scrapy builds the resolver once per process, from the CrawlerProcess (its crawlers'
        # spiders hold the sources) or, in tests, from one Crawler
        owner = self.crawler
        crawlers = list(getattr(owner, "crawlers", None) or []) + ([owner] if owner is not None else [])
        spiders = [getattr(c, "spider", None) for c in crawlers]
        hosts = set()
        for source in [s for spider in spiders if spider is not None for s in (getattr(spider, "sources", None) or [])]:
            if getattr(source, "local", False):
                hosts |= {h.rsplit(":", 1)[0] if h.count(":") == 1 else h for h in source_hosts(source)}
        return hosts

    def _public_only(self, address: str, name: str) -> str:
        if self.allow_private or not non_public(address) or name.lower() in self.local_hosts():
            return address
        message = (f"refused: {name} now resolves to {address}, a private, loopback or link-local address "
                   "(set local = true on the source in sources.toml if the site is yours)")
        _REFUSED[name.lower()] = message
        raise PrivateAddressResolved(message)
