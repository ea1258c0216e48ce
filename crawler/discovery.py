"""Discovery layers: parse feeds, sitemaps (incl. Google News tags) and section pages.

Pure functions over response bodies, so they are tested on stored files and shared by
the spider and ``cuttings sources check``.
"""
from __future__ import annotations

import datetime as dt
import heapq
import re
import zlib
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree, html as lxml_html

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
# Sitemaps may be 50 MB uncompressed (sitemaps.org); a larger gzip bomb is cut off there.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
# Links to these are never fetched as articles (documents, media, archives).
BINARY_EXTENSIONS = re.compile(r"\.(pdf|docx?|xlsx?|pptx?|odt|zip|gz|rar|jpe?g|png|gif|webp|svg|mp[34]|mov|avi|"
                               r"wav|ics|csv)$", re.I)
# Pagination links the crawl follows from home and section pages, besides the page's rel=next.
LISTING_PAGE = re.compile(r"/page/\d+/?$|[?&]page=\d+")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/xml", "text/xml")


@dataclass
class Found:
    """A URL a discovery layer found, with what the layer said about it."""
    url: str
    found_by: str                 # feed, sitemap, links, search
    published_at: str | None = None
    date_source: str | None = None
    title: str | None = None


def iso_utc(value: dt.datetime | dt.date | str | None) -> str | None:
    """Normalise a date or datetime (or ISO string) to the store's ISO-8601 UTC form."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return text
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def parse_robots_sitemaps(text: str, base_url: str) -> list[str]:
    """Sitemap URLs named in a robots.txt (relative ones resolved against it)."""
    return [urljoin(base_url, line.split(":", 1)[1].strip()) for line in text.splitlines()
            if line.lower().startswith("sitemap:") and line.split(":", 1)[1].strip()]


def parse_feed(body: bytes, base_url: str) -> list[Found]:
    """Entries of an RSS or Atom feed (feedparser), with their dates and titles."""
    parsed = feedparser.parse(body)
    found = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        struct = entry.get("published_parsed") or entry.get("updated_parsed")
        published = iso_utc(dt.datetime(*struct[:6], tzinfo=dt.timezone.utc)) if struct else None
        found.append(Found(urljoin(base_url, link), "feed", published, "feed" if published else None,
                           entry.get("title")))
    return found


def looks_like_feed(body: bytes) -> bool:
    head = body[:2000].lstrip().lower()
    return b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head


def is_article_url(source, url: str) -> bool:
    """The one article-URL filter, shared by the crawl and ``cuttings sources check``.

    True when ``url`` is on the source's host, is not a document/media/archive link
    (``.pdf``, ``.jpg``, ``.zip``...), matches none of the source's ``deny`` patterns and,
    when ``allow`` patterns are set, one of them (patterns see the path and query).
    """
    parts = urlsplit(url)
    if parts.netloc != urlsplit(source.home).netloc:
        return False
    target = parts.path + (("?" + parts.query) if parts.query else "")
    if BINARY_EXTENSIONS.search(parts.path) or any(p.search(target) for p in source.deny_patterns):
        return False
    allow = source.allow_patterns
    return any(p.search(target) for p in allow) if allow else True


def is_listing_url(source, url: str, next_url: str | None = None) -> bool:
    """The one pagination rule, shared by the crawl and ``cuttings sources check``.

    True when ``url`` is a listing page the crawl follows from the source's home or section
    pages (to ``[crawl] max_depth`` levels, within ``max_pages_per_source``): not an article URL
    (:func:`is_article_url`), on the source's host, under the path of its home or of one of its
    sections, and either the page's ``rel=next`` (``next_url``, from ``<link>`` or ``<a>``) or a
    numbered page (``/page/N/``, ``?page=N``).
    """
    if url != next_url and not LISTING_PAGE.search(url):
        return False   # the cheap test first: most links of a page are neither
    parts = urlsplit(url)
    if parts.netloc != urlsplit(source.home).netloc or is_article_url(source, url):
        return False
    return any(parts.path.startswith(urlsplit(u).path) for u in [source.home, *source.sections])


def read_listing(source, links: list[str], next_url: str | None, *, follow: bool = True
                 ) -> Iterator[tuple[str, str]]:
    """A home or section page's links as the crawl reads them, shared by the spider and ``cuttings
    sources check``: ``("article", url)`` for article links, ``("listing", url)`` for pages to
    follow (:func:`is_listing_url`; only when ``follow``), in page order, a ``rel=next`` given only
    in the head last (a listing candidate, never an article)."""
    candidates = dict.fromkeys(links)
    head_next = next_url if next_url and next_url not in candidates else None
    for url in [*candidates, *([head_next] if head_next else [])]:
        if url != head_next and is_article_url(source, url):
            yield "article", url
        elif follow and is_listing_url(source, url, next_url):
            yield "listing", url


def gunzip_sitemap(body: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """The XML of a sitemap fetched as a ``.xml.gz`` file (gzip bytes without a
    Content-Encoding header); other bodies are returned unchanged. Output is capped at
    ``limit`` bytes; a corrupt stream gives what could be decompressed."""
    return b"".join(_sitemap_chunks(body, limit, _Cut()))


class _Cut:
    """Whether a sitemap was cut at its size limit (set by :func:`_sitemap_chunks`)."""
    bytes_cut = False


def _sitemap_chunks(body: bytes, limit: int, cut: _Cut, chunk: int = 256 * 1024) -> Iterator[bytes]:
    """The sitemap's XML in chunks, gunzipped when it is gzip bytes, never more than ``limit``
    bytes in all (``cut.bytes_cut`` says when there was more)."""
    if body[:2] != b"\x1f\x8b":
        if len(body) > limit:
            cut.bytes_cut = True
        for start in range(0, min(len(body), limit), chunk):
            yield body[start:min(start + chunk, limit)]
        return
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data, left = body, limit
    try:
        while left > 0 and not decompressor.eof:
            out = decompressor.decompress(data, min(chunk, left))
            data = decompressor.unconsumed_tail
            if not out:
                return
            left -= len(out)
            yield out
        if left <= 0 and not decompressor.eof and (data or decompressor.decompress(b"", 1)):
            cut.bytes_cut = True
    except zlib.error:
        return


@dataclass
class SitemapRead:
    """What :func:`read_sitemap` read: child sitemaps (of an index), page entries, and whether
    the sitemap was cut (over its size limit, or more entries than ``max_entries``)."""
    children: list[str]
    pages: list[Found]
    entries_seen: int = 0          # <url> or <sitemap> entries read (within ``since``)
    entries_cut: int = 0           # entries left out (the oldest) over ``max_entries``
    bytes_cut: bool = False        # the XML was longer than ``max_bytes``: the rest was not read


def read_sitemap(body: bytes, base_url: str, *, max_entries: int | None = None,
                 max_bytes: int = MAX_SITEMAP_BYTES, since: str | None = None) -> SitemapRead:
    """A sitemap or sitemap index, plain or gzipped, parsed incrementally (lxml's pull parser,
    entities not resolved: XXE-safe) so memory stays small whatever its length.

    At most ``max_bytes`` of XML are read (after gunzipping). Page entries dated before ``since``
    (``lastmod`` or the Google News ``news:publication_date``) are dropped here; of the rest at
    most ``max_entries`` are kept: the newest by date, undated ones after dated ones (the first in
    the file first: sitemaps usually list the newest first), returned in the file's order. An
    index keeps its ``max_entries`` newest children by ``lastmod`` (undated ones after, the first
    listed first), returned newest first. Reads ``news:title`` as well, which Scrapy's
    own sitemap parser drops.
    """
    cut = _Cut()
    url_tag, map_tag = f"{{{SITEMAP_NS}}}url", f"{{{SITEMAP_NS}}}sitemap"
    parser = etree.XMLPullParser(events=("end",), tag=(url_tag, map_tag), resolve_entities=False, no_network=True,
                                 recover=True, huge_tree=False, remove_comments=True, remove_pis=True)
    ns = {"s": SITEMAP_NS, "n": NEWS_NS}
    children: list[tuple[str, int, str]] = []   # a heap, as ``kept``: the oldest kept child first
    kept: list[tuple[str, int, Found]] = []   # a heap: the oldest kept entry first
    seen = dropped = 0
    first = True
    try:
        for data in _sitemap_chunks(body, max_bytes, cut):
            if first:
                data, first = data.lstrip(), False
            parser.feed(data)
            for _event, el in parser.read_events():
                if el.tag == url_tag:
                    entry = _sitemap_entry(el, ns)
                    if entry is not None and not (since and entry[1] and entry[1] < since[:len(entry[1])]):
                        seen += 1
                        key = (entry[1] or "", -seen)
                        if max_entries is not None and len(kept) >= max_entries:
                            dropped += 1
                            if max_entries == 0 or key <= kept[0][:2]:
                                key = None   # older than every entry kept: not even built
                            else:
                                heapq.heappop(kept)
                        if key is not None:
                            heapq.heappush(kept, (*key, _found(base_url, *entry)))
                elif el.tag == map_tag:
                    loc = el.findtext("s:loc", namespaces=ns)
                    if loc and loc.strip():
                        seen += 1
                        key = (iso_utc(el.findtext("s:lastmod", namespaces=ns)) or "", -seen)
                        if max_entries is not None and len(children) >= max_entries:
                            dropped += 1
                            if max_entries == 0 or key <= children[0][:2]:
                                key = None
                            else:
                                heapq.heappop(children)
                        if key is not None:
                            heapq.heappush(children, (*key, urljoin(base_url, loc.strip())))
                el.clear()                      # keep memory flat: drop entries already read
                while el.getprevious() is not None:
                    del el.getparent()[0]
        parser.close()
    except etree.XMLSyntaxError:
        pass
    pages = [found for _date, _order, found in sorted(kept, key=lambda k: -k[1])]
    # the children newest first (by their lastmod; undated ones after, in the file's order): an index
    # often lists its oldest sitemaps first, and the crawl fetches at most so many sitemaps a source
    newest_first = sorted(children, key=lambda k: (k[0] == "", _descending(k[0]), -k[1]))
    return SitemapRead([url for _date, _order, url in newest_first], pages, seen, dropped, cut.bytes_cut)


def _descending(text: str) -> tuple[int, ...]:
    """A sort key ordering ISO date strings newest first."""
    return tuple(-ord(char) for char in text)


def _sitemap_entry(url_el, ns: dict) -> tuple[str, str | None, str | None, str | None] | None:
    """(loc, date, date as given, news title) of a ``<url>`` entry; None without a ``<loc>``."""
    loc = url_el.findtext("s:loc", namespaces=ns)
    if not loc or not loc.strip():
        return None
    news_date = url_el.findtext("n:news/n:publication_date", namespaces=ns)
    news_title = url_el.findtext("n:news/n:title", namespaces=ns)
    lastmod = url_el.findtext("s:lastmod", namespaces=ns)
    published = iso_utc(news_date) if news_date else None
    return loc.strip(), published or iso_utc(lastmod), published or lastmod, news_title


def _found(base_url: str, loc: str, published: str | None, given: str | None, title: str | None) -> Found:
    return Found(urljoin(base_url, loc), "sitemap", published, "sitemap" if given else None,
                 title.strip() if title else None)


def parse_sitemap(body: bytes, base_url: str) -> tuple[list[str], list[Found]]:
    """Return (child sitemaps, page entries) of a sitemap or sitemap index, plain or gzipped
    (:func:`read_sitemap` without an entry limit)."""
    read = read_sitemap(body, base_url)
    return read.children, read.pages


def page_links(body: bytes | str, base_url: str) -> tuple[list[str], list[str], str | None]:
    """(all same-site links, autodiscovered feed URLs, rel=next URL) of an HTML page."""
    try:
        if isinstance(body, str):  # already decoded (the spider passes response.text): parse as UTF-8
            doc = lxml_html.fromstring(body.encode("utf-8"), parser=lxml_html.HTMLParser(encoding="utf-8"))
        else:
            doc = lxml_html.fromstring(body)
    except (etree.ParserError, ValueError):
        return [], [], None
    host = urlsplit(base_url).netloc
    links, feeds, next_url = [], [], None
    for el in doc.iterfind(".//link"):
        rel = (el.get("rel") or "").lower()
        href = el.get("href")
        if not href:
            continue
        if "alternate" in rel and (el.get("type") or "").lower() in FEED_TYPES:
            feeds.append(urljoin(base_url, href))
        elif rel == "next":
            next_url = urljoin(base_url, href)
    for el in doc.iterfind(".//a"):
        href = el.get("href")
        if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
            continue
        url = urljoin(base_url, href).split("#", 1)[0]
        if urlsplit(url).netloc == host:
            links.append(url)
            if (el.get("rel") or "").lower() == "next" and next_url is None:
                next_url = url
    return links, feeds, next_url
