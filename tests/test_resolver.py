"""DNS rebinding: the address the connection resolves is checked again (crawler/resolver.py).

The URL policy middleware asks the DNS before a download; a rebinding name server can answer
a public address then and an internal one when the connection resolves the host. These tests
put the connection-time answer in Scrapy's DNS cache (what a second, different answer looks
like to the resolver) and check that it is refused, and recorded as ``private_address``."""
from types import SimpleNamespace

import pytest
from scrapy.exceptions import CannotResolveHostError
from scrapy.resolver import dnscache
from scrapy.utils.test import get_crawler
from twisted.internet import reactor
from twisted.python.failure import Failure

from crawler.resolver import PrivateAddressResolved, PublicOnlyResolver
from crawler.spiders.news import classify_failure


def _source(home, local=False):
    return SimpleNamespace(id="s", home=home, feeds=[], sitemaps=[], sections=[], search=None, hosts=[], local=local)


@pytest.fixture
def resolver():
    crawler = get_crawler(settings_dict={"DNSCACHE_ENABLED": True, "DNSCACHE_SIZE": 100})
    crawler.spider = SimpleNamespace(sources=[_source("https://news.example/"),
                                              _source("http://devsite.test:8080/", local=True)])
    found = PublicOnlyResolver.from_crawler(crawler, reactor)
    yield found
    for name in ("news.example", "devsite.test", "public.example"):
        dnscache.pop(name, None)


def _answer(resolver, name, address):
    dnscache[name] = address  # the answer the connection gets
    outcome = []
    resolver.getHostByName(name).addCallbacks(outcome.append, outcome.append)
    return outcome[0]


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1", "::ffff:192.168.1.1"])
def test_internal_answer_at_connection_time_is_refused(resolver, address):
    outcome = _answer(resolver, "news.example", address)
    assert isinstance(outcome, Failure) and outcome.check(PrivateAddressResolved)
    assert address in str(outcome.value) and "local = true" in str(outcome.value)


def test_public_answer_and_local_sources_pass(resolver):
    assert _answer(resolver, "public.example", "93.184.216.34") == "93.184.216.34"
    assert _answer(resolver, "devsite.test", "127.0.0.1") == "127.0.0.1"  # its source says local = true
    resolver.allow_private = True
    assert _answer(resolver, "news.example", "127.0.0.1") == "127.0.0.1"


def test_refusal_recorded_as_private_address_not_dns(resolver):
    refused = _answer(resolver, "news.example", "10.0.0.7").value
    try:  # what Scrapy's download handler raises: CannotResolveHostError from the Twisted error
        raise CannotResolveHostError(str(refused)) from refused
    except CannotResolveHostError as wrapped:
        kind, status, message = classify_failure(Failure(wrapped))
    assert (kind, status) == ("private_address", None) and "10.0.0.7" in message
    assert classify_failure(Failure(CannotResolveHostError("no such host")))[0] == "dns"


def test_installed_by_the_project_settings():
    from scrapy.settings import Settings
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    assert settings.get("TWISTED_DNS_RESOLVER") == "crawler.resolver.PublicOnlyResolver"


REBIND_CRAWL = """
import sys
from crawler import urlpolicy

async def first_answer(self, host, port):  # the name server's first answer: a public address
    return ["93.184.216.34"]

urlpolicy.UrlPolicyMiddleware._addresses = first_answer
from pipeline import cli
cli(["--db", sys.argv[1], "crawl", "--sources", sys.argv[2], "--no-politeness"])
"""


def test_rebinding_host_refused_in_a_real_crawl(tmp_path):
    """A real crawl over HTTP: the policy middleware is told the host is public (the first DNS
    answer), the connection resolves it to 127.0.0.1 (the second): nothing is fetched and the
    refusal is recorded as ``private_address``."""
    import sqlite3
    import subprocess
    import sys

    from faultserver import local_site

    home = b"<html><body><a href='/news/a/'>A story</a></body></html>"
    with local_site(lambda request: (200, {"Content-Type": "text/html"}, home)) as server:
        sources = tmp_path / "sources.toml"
        sources.write_text(f'[[source]]\nid = "rebind-news"\nname = "Rebind News"\n'
                           f'home = "http://localhost:{server.server_port}/"\nregion = "test"\n')
        db = tmp_path / "r.db"
        result = subprocess.run([sys.executable, "-c", REBIND_CRAWL, str(db), str(sources)],
                                capture_output=True, timeout=300)
    assert result.returncode != 0 and b"Traceback" not in result.stderr, result.stderr[-2000:]
    assert server.paths == []
    conn = sqlite3.connect(db)
    kinds = {row[0] for row in conn.execute("SELECT kind FROM crawl_errors")}
    messages = [row[0] for row in conn.execute("SELECT message FROM crawl_errors")]
    conn.close()
    assert kinds == {"private_address"} and "now resolves to 127.0.0.1" in messages[0]


def test_local_sources_found_through_the_crawler_process(resolver):
    """Scrapy builds the resolver from the CrawlerProcess: its crawlers' spiders hold the sources."""
    crawler = resolver.crawler
    resolver.crawler = SimpleNamespace(crawlers={crawler}, settings=crawler.settings)
    assert _answer(resolver, "devsite.test", "127.0.0.1") == "127.0.0.1"
    assert isinstance(_answer(resolver, "news.example", "127.0.0.1"), Failure)
