"""Article extraction: decode a fetched page, pull out its metadata and body text.

Sources of truth, strongest first:

1. per-source ``overrides`` (CSS/XPath selectors) - applied last, win when they match;
2. the page's own structured metadata: JSON-LD (schema.org article types, also inside
   ``@graph``), then OpenGraph / ``<meta>`` / microdata tags;
3. the page text: trafilatura for the body, ``<time datetime>`` and htmldate for dates;
4. the URL (a ``/YYYY/MM/DD/`` style date);
5. ``hints`` from discovery (feed or sitemap date, feed title), only when the page gives nothing.

Everything here is a module-level function of plain data, so it pickles cleanly for a
``ProcessPoolExecutor``. Crawled HTML is untrusted: text is returned as plain data, never
evaluated or re-rendered.
"""
from __future__ import annotations

import bisect
import codecs
import gzip
import html as html_lib
import json
import re
import warnings
from copy import deepcopy
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import htmldate
import trafilatura
from cssselect import SelectorError
from dateutil import parser as date_parser
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement
from rapidfuzz import fuzz
from readability import Document
from trafilatura.utils import load_html

from crawler.bylines import find_authors, find_headline, publisher_words, split_people

__all__ = ["decode_html", "extract_article", "extract_file"]

RESULT_KEYS = (
    "title", "title_source", "body", "author", "authors", "author_source", "published_at", "modified_at", "date_source",
    "modified_source", "canonical_url", "language", "description", "section",
    "is_article", "reject_reason", "paywalled",
)

ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "blogposting", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "askpublicnewsarticle",
    "report", "socialmediaposting", "liveblogposting", "scholarlyarticle", "techarticle",
}
LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage"}

MIN_ARTICLE_WORDS = 60
TOO_SHORT = "too short"  # the reject reason of a body under the word floor (fetched again while new)
# Caps on what a page may make its headline, byline and description (a hostile page's 100 KB
# headline or megabyte meta description would be stored, put in every digest and e-mail): cut at a
# word boundary with an ellipsis. The longest title of the 413 benchmark pages is 144 characters,
# the longest byline 841 (75 names), the longest description 4,427 (a page whose meta description
# is its whole article; the next longest 1,833).
TITLE_MAX_CHARS = 1000
AUTHOR_MAX_CHARS = 1000  # the byline as one string (``author``)
AUTHOR_NAME_MAX_CHARS = 200  # one name of ``authors``
MAX_AUTHORS = 100  # names kept from one byline
DESCRIPTION_MAX_CHARS = 5000  # the page's description / standfirst (JSON-LD, og:description, meta)
ELLIPSIS = "\u2026"


def cap_text(text: str | None, limit: int) -> str | None:
    """``text`` cut to at most ``limit`` characters: at the last space of the first ``limit - 1``
    (when that keeps at least half of them, else there), trailing punctuation dropped, and an
    ellipsis added. Text within the limit is returned as it is."""
    if text is None or len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:|-\u2013\u2014") + ELLIPSIS


def cap_fields(result: dict) -> dict:
    """Cap the headline (``TITLE_MAX_CHARS``), the byline (``AUTHOR_MAX_CHARS``; ``MAX_AUTHORS``
    names of at most ``AUTHOR_NAME_MAX_CHARS``) and the description (``DESCRIPTION_MAX_CHARS``) of
    an extraction result or a crawled item."""
    result["title"] = cap_text(result.get("title"), TITLE_MAX_CHARS)
    if result.get("authors"):
        result["authors"] = [cap_text(name, AUTHOR_NAME_MAX_CHARS) for name in result["authors"][:MAX_AUTHORS]]
    result["author"] = cap_text(result.get("author"), AUTHOR_MAX_CHARS)
    result["description"] = cap_text(result.get("description"), DESCRIPTION_MAX_CHARS)
    return result

# --------------------------------------------------------------------------- decoding

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _codec(name: str | bytes | None) -> str | None:
    """Return a Python codec name for a declared charset, or None if unknown."""
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    name = name.strip().lower()
    # browsers treat latin-1 / ascii declarations as windows-1252 (WHATWG encoding standard)
    if name in {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii"}:
        name = "windows-1252"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(raw: bytes, content_type: str | None = None) -> str:
    """Decode fetched HTML bytes to text; never raises on bad bytes.

    Order: charset in the HTTP ``Content-Type`` header, ``<meta charset>`` or
    ``http-equiv`` in the first 4 KB, a byte-order mark, then charset-normalizer's guess;
    undecodable bytes become U+FFFD.
    """
    if isinstance(raw, str):
        return raw
    declared = None
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        declared = _codec(match.group(1)) if match else None
    if declared is None:
        match = _META_CHARSET.search(raw[:4096])
        declared = _codec(match.group(1)) if match else None
    if declared is None:
        for bom, name in _BOMS:
            if raw.startswith(bom):
                declared = name
                break
    if declared is None:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            best = charset_normalizer.from_bytes(raw[:65536]).best()
            declared = _codec(best.encoding) if best else None
    if declared in {"utf-16", "utf-32", "utf-16-le", "utf-16-be"} and not raw.startswith(tuple(b for b, _ in _BOMS)):
        declared = "utf-8"  # a page that says utf-16 in ASCII markup is not utf-16
    text = raw.decode(declared or "utf-8", errors="replace")
    return text.lstrip("\ufeff")


def extract_file(path: str | Path) -> str:
    """Read a stored ``.html`` or ``.html.gz`` page and decode it to text."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return decode_html(raw)


# --------------------------------------------------------------------------- dates


_ZONE_OFFSETS = {name: hours * 3600 for name, hours in {
    "UTC": 0, "GMT": 0, "BST": 1, "CET": 1, "CEST": 2, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
    "MST": -7, "MDT": -6, "PST": -8, "PDT": -7}.items()}


EARLIEST_DATE_YEAR = 1990   # no local news site dates its stories earlier: a 1970 epoch, a 1900 default
FUTURE_DATE_ALLOWANCE = timedelta(days=1)   # a page's date in a zone ahead of UTC, a clock a little fast


def _believable(parsed: date) -> bool:
    """Whether a date (a ``datetime``, aware or UTC, or a day) can be a page's: not before
    EARLIEST_DATE_YEAR and not later than now plus FUTURE_DATE_ALLOWANCE. Pages are read when they
    are fetched, so a date further ahead (``datePublished`` 2099-12-31) is not believed: it would
    keep a story at the top of every list sorted by date for good. (Re-reading a stored page later,
    as the benchmarks do, only widens the allowance.)"""
    if parsed.year < EARLIEST_DATE_YEAR:
        return False
    latest = datetime.now(timezone.utc) + FUTURE_DATE_ALLOWANCE
    if isinstance(parsed, datetime):
        return parsed <= latest
    return parsed <= latest.date()


def _normalise_date(value) -> str | None:
    """Return ``YYYY-MM-DDTHH:MM:SSZ`` (UTC) or ``YYYY-MM-DD`` for a date string, else None.

    A timestamp without a zone is taken as UTC. A date that is not believable (:func:`_believable`:
    before 1990, or more than a day after now) is None, so the next source of a date is tried.
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if v), None)
        if value is None:
            return None
    text = str(value).strip()
    if not text or not re.search(r"\d{4}|\d{1,2}\D\d{1,2}\D\d{2}", text):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            with warnings.catch_warnings():  # unknown zone names are read as UTC
                warnings.simplefilter("ignore", date_parser.UnknownTimezoneWarning)
                parsed = date_parser.parse(text, fuzzy=False, dayfirst=not re.match(r"\d{4}", text),
                                           tzinfos=_ZONE_OFFSETS)
        except (ValueError, OverflowError, TypeError):
            return None
    if parsed.year < EARLIEST_DATE_YEAR:
        return None
    if not re.search(r"\d:\d{2}", text):  # a day without a time of day
        return parsed.date().isoformat() if _believable(parsed.date()) else None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        parsed = parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):   # year 9999 in a zone behind UTC
        return None
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if _believable(parsed) else None


_URL_DATE = re.compile(r"/(20\d{2}|19\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|-|$)"
                       # eight digits opening a path segment: /20240501/slug, /20240501-slug, /story/20240501
                       r"|/((?:20|19)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=/|-|$)"
                       # a slug ending in its day: /world/some-story-20200113 (.html), the last segment
                       r"|-((?:20|19)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:\.[a-z]{3,5})?/?$")
_LETTER = re.compile(r"[^\W\d_]")
URL_ID_EARLIEST_YEAR = 1995   # eight digits alone in a segment read as a day only from then on (not an id)


def _url_date(url: str | None) -> str | None:
    """Date written in a URL path (``/2024/05/01/``, ``/2024-05-01-slug``, ``/20240501/slug``,
    ``/20240501-slug``, ``/some-story-20240501``: eight digits ending a slug of words).

    Eight digits are also how sites number articles, so they are a day only in a day's context:
    ending a slug, after a word (``fire-at-farm-20231115``, not ``98765-20230412``), or opening a
    segment that a slug or a further segment follows (``/20231115-fire-at-farm``, ``/20231115/...``).
    Alone in the last segment (``/story/20210413``, or followed by digits only) they may be an id
    that happens to parse: read as a day only when it is a plausible one, from
    :data:`URL_ID_EARLIEST_YEAR` to the day the page is read (:func:`_believable`), and not after
    a segment of digits (``/article/98765/20230412``: an id path). Longer runs of digits
    (``-20231115123``, ``/12345678``) are never a day."""
    if not url:
        return None
    path = urlsplit(url).path
    for match in _URL_DATE.finditer(path):
        groups = match.groups()
        if groups[0]:                                    # /2024/05/01/, /2024-05-01-slug
            year, month, day = groups[0:3]
            earliest = EARLIEST_DATE_YEAR
        elif groups[3]:                                  # eight digits opening a segment
            year, month, day = groups[3:6]
            after = path[match.end():]
            in_context = bool(re.match(r"/[^/]|-[^\W\d_]", after))   # a segment or a word follows
            before = path[:match.start()].rsplit("/", 1)[-1]
            if not in_context and before.isdigit():
                continue                                 # /98765/20230412: an id path
            earliest = EARLIEST_DATE_YEAR if in_context else URL_ID_EARLIEST_YEAR
        else:                                            # -YYYYMMDD ending the slug
            year, month, day = groups[6:9]
            slug = path[:match.start()].rsplit("/", 1)[-1]
            if not _LETTER.search(re.split(r"[-_.]", slug)[-1]):
                continue                                 # 98765-20230412: no word before the day
            earliest = EARLIEST_DATE_YEAR
        try:
            found = date(int(year), int(month), int(day))
        except ValueError:
            continue
        if found.year >= earliest and _believable(found):   # /1970/01/01/ is not a story's date
            return found.isoformat()
    return None


# --------------------------------------------------------------------------- metadata


def _walk_json(node):
    """Yield every dict in a parsed JSON-LD structure (``@graph``, lists, nested parts)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from _walk_json(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_json(item)


def _types(node: dict) -> set[str]:
    value = node.get("@type", ())
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values if v}


def _json_ld(tree: HtmlElement) -> tuple[dict | None, set[str], list[dict]]:
    """Return (main article object or None, all schema types seen, all objects)."""
    objects: list[dict] = []
    for script in tree.xpath('//script[starts-with(normalize-space(@type), "application/ld+json")]'):
        text = re.sub(r"^\s*(?:<!--|//\s*<!\[CDATA\[)|(?:-->|//\s*\]\]>)\s*$", "", script.text or "").strip()
        if not text:
            continue
        try:
            data = json.loads(text, strict=False)
        except ValueError:
            # common breakage: trailing commas or several objects without a list
            try:
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", text), strict=False)
            except ValueError:
                continue
        objects.extend(_walk_json(data))
    types: set[str] = set()
    article = None
    for obj in objects:
        obj_types = _types(obj)
        types |= obj_types
        if article is None and obj_types & ARTICLE_TYPES:
            article = obj
    return article, types, objects


def _ld_text(value) -> str | None:
    """Plain text from a JSON-LD value (string, list, or {"name": ...})."""
    if isinstance(value, list):
        parts = [_ld_text(v) for v in value]
        parts = [p for p in parts if p]
        return ", ".join(dict.fromkeys(parts)) if parts else None
    if isinstance(value, dict):
        return _ld_text(value.get("name") or value.get("@value"))
    if value is None or isinstance(value, bool):
        return None
    text = html_lib.unescape(str(value)).strip()
    return re.sub(r"\s+", " ", text) or None


_LEFT_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});", re.I)
# HTML elements a publisher leaves in a description ("<p>Prime Minister ...</p>"); other angle
# brackets are text (a Korean title quoted "<The Palace: Tale of Jang Noksu>")
_TAG = re.compile(r"</?(?:p|br|div|span|a|b|i|em|strong|u|small|sup|sub|font|h[1-6]|ul|ol|li|blockquote|img)"
                  r"(?:\s[^<>]*)?/?>", re.I)


def _plain(text: str | None) -> str | None:
    """A title or description as plain text: the HTML elements a publisher left in it removed, and
    character references that are still there after parsing (escaped twice at the source:
    ``&amp;#039;`` read as ``&#039;``) decoded once more with ``html.unescape``."""
    if not text:
        return text
    if "&" in text and _LEFT_ENTITY.search(text):
        text = html_lib.unescape(text)
    if "<" in text and _TAG.search(text):
        text = " ".join(_TAG.sub(" ", text).split())
    return text or None


def _meta(tree: HtmlElement) -> dict[str, str]:
    """``<meta>`` name/property/itemprop -> content (first occurrence wins), keys lower-cased."""
    found: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop") or element.get("http-equiv")
        content = element.get("content")
        if key and content and content.strip():
            found.setdefault(key.strip().lower(), content.strip())
    for element in tree.xpath('//*[@itemprop="datePublished" or @itemprop="dateModified"][not(self::meta)]'):
        value = element.get("datetime") or element.get("content")
        if value:
            found.setdefault(element.get("itemprop").lower(), value.strip())
    return found


def _meta_all(tree: HtmlElement) -> list[tuple[str, str]]:
    """Every ``<meta>`` (name/property/itemprop, lower-cased) and its content, in page order."""
    found = []
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        content = element.get("content") or element.get("value")
        if key and content and content.strip():
            found.append((key.strip().lower(), content.strip()))
    return found


def _first(mapping: dict, *keys: str) -> str | None:
    for key in keys:
        if mapping.get(key):
            return mapping[key]
    return None


def _is_false(value) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


_PAYWALL_CLASS = re.compile(
    r"(?:^|[\s_-])(paywall\w*|premium-content|subscriber-only|subscribers-only|subscriber-content|"
    r"paid-content|article-locked|locked-content|piano-paywall|regwall)(?:$|[\s_])", re.I)


def _paywalled(tree: HtmlElement, article: dict | None, ld_objects: list[dict], meta: dict,
               markers: list[str] | None = None) -> bool:
    """True when the page itself declares restricted access; nothing is bypassed.
    ``markers``: the page's class/id values, when already collected (:data:`_MARKER_VALUES`)."""
    for obj in ([article] if article else []) + ld_objects:
        if _is_false(obj.get("isAccessibleForFree")):
            return True
    tier = (meta.get("article:content_tier") or "").lower()
    if tier in {"locked", "metered"}:
        return True
    if markers is None:
        markers = _CLASS_ID_VALUES(tree)
    for marker in markers:
        low = marker.lower()
        if ("pay" in low or "subscri" in low or "premium" in low or "locked" in low or "regwall" in low) \
                and _PAYWALL_CLASS.search(marker):
            return True
    return False


_CLASS_ID_VALUES = etree.XPath("//@class | //@id")


# --------------------------------------------------------------------------- body

_WORD = re.compile(r"\w+")
_BOILERPLATE = re.compile(
    r"^(?:related(?: post| stories| articles| content)?:|read more\b|see more:|more:$|also on\b|also read\b|"
    r"also:|explore further$|you may also like|you might also like|don'?t miss$|most read\b|popular on\b|"
    r"filed under:|tags:?$|source:|comments?$|\d*\s*comments?$|share (?:this|on)\b|advertisement$|"
    r"click here\b|sign up\b|subscribe to\b|follow (?:us|@|\w+(?: \w+)? on)\b|copyright\b|©|\(c\) |"
    r"image (?:copyright|caption)|getty images$|photo:|picture:|listen:|download:|"
    r"have a tip\?|get the latest\b|like this story\?|thanks for signing up|"
    r"(?:\(|additional )?reporting by\b|.{0,80}\bcontributed (?:to this report|reporting)\b|"
    r"(?:last )?(?:updated|published|posted)(?: on| at)?:?\s.{0,40}\d.{0,20}$|\d+ min(?:ute)?s? read$|"
    r"reading time:?\s*\d+ min)", re.I)
_METADATA_RESIDUE = re.compile(r"^(?:\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?"
                               r"|https?://\S+\.(?:jpe?g|png|gif|webp|svg)(?:\?\S*)?)$", re.I)
_BYLINE = re.compile(r"^(?i:by|words by|written by)\s+"
                     r"(?!(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|January|February|March|April|May|June|July|"
                     r"August|September|October|November|December|Christmas|Easter|Then|Now|Noon|Midnight)[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|and|&))*"
                     r"\s*(?:[,|–-].*)?$")
# An e-mail address, a Twitter link or handle. Linear: the address starts only at the start of a
# token (the look-behind) and its parts stop at an "@", so a 20,000-character token is scanned
# once (``\S+@\S+\.\w+`` retried from each of its positions: quadratic).
_CONTACT = re.compile(r"(?<!\S)[^\s@]+@[^\s@]+\.\w+|^(?:https?://)?(?:www\.)?twitter\.com/\w+$|^@\w+$")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _key(text: str) -> str:
    """Lower-cased words of a text joined by single spaces, for comparisons."""
    return " ".join(_words(text))


def _matches_any(text: str, keys: list[str], threshold: float = 90.0) -> bool:
    """True if text is (nearly) the same as one of the pre-computed keys."""
    key = _key(text)
    for other in keys:
        # a ratio >= threshold needs similar lengths; skip the comparison otherwise
        if key and abs(len(key) - len(other)) <= (1 - threshold / 100) * 2 * max(len(key), len(other)):
            if key == other or fuzz.ratio(key, other) >= threshold:
                return True
    return False


def _is_boilerplate(paragraph: str) -> bool:
    """Short lines that are page furniture rather than article text."""
    words = _words(paragraph)
    if len(words) > 40:
        return False
    stripped = paragraph.lstrip("-•*|[( ").strip()
    if _BOILERPLATE.match(stripped):
        return True
    if len(words) <= 25 and _CONTACT.search(paragraph):
        return True
    return len(words) <= 12 and bool(_BYLINE.match(stripped)) and not stripped.endswith(".")


def _clean_paragraphs(paragraphs: list[str], headlines: list[str], subheads: tuple[str, ...] = ()) -> list[str]:
    """Drop the headline repeated at the top and furniture lines. A lede that repeats the
    page's description is kept: it is the article's first paragraph, and often the one that
    names the bodies the story is about. A sub-head (``subheads``: the description set as a
    heading beside the headline, not as body text) is dropped like the headline."""
    headline_keys = [k for k in dict.fromkeys(_key(h) for h in [*headlines, *subheads]) if k]
    paragraphs = [p.strip() for p in paragraphs]
    paragraphs = [p for p in paragraphs if _WORD.search(p)]
    # headline repeated at the top of the body
    start = 0
    for index, paragraph in enumerate(paragraphs[:4]):
        # only furniture (short lines) may be cut above a repeated headline, never article text
        if _matches_any(paragraph, headline_keys) and all(len(_words(p)) <= 15 for p in paragraphs[:index]):
            start = index + 1
    paragraphs = paragraphs[start:]
    return [p for p in paragraphs
            if not _is_boilerplate(p) and not _METADATA_RESIDUE.match(p) and not _matches_any(p, headline_keys)]


_SUBHEADS = etree.XPath("//body//*[self::h2 or self::h3]")


def _description_subheads(tree: HtmlElement, description: str | None) -> tuple[str, ...]:
    """Headings (h2/h3) whose text is the page's description: a sub-head set beside the
    headline (a "dek"), which article-body truth leaves out, unlike a lede paragraph."""
    if not description:
        return ()
    key = _key(description)
    if not key:
        return ()
    return tuple(text for text in (" ".join(h.text_content().split()) for h in _SUBHEADS(tree))
                 if text and _key(text) == key)


_LED_BY_LINK = etree.XPath("(.//text()[normalize-space()])[1]/ancestor::a")
_URL_ONLY = re.compile(r"^\s*https?://\S+\s*$")


def _is_link_block(element: HtmlElement) -> bool:
    """A list whose items each start with a link, or a short paragraph that is only a link:
    "related stories" furniture rather than article text. A bare URL is kept (it is content)."""
    if element.tag in {"ul", "ol"}:
        items = [item for item in element if item.tag == "li"]
        if len(items) < 2:
            return False
        return sum(1 for item in items if _LED_BY_LINK(item)) >= 0.8 * len(items)
    text = element.text_content()
    words = len(_words(text))
    if not words or words > 20 or _URL_ONLY.match(text):
        return False
    link_words = sum(len(_words(anchor.text_content())) for anchor in element.iter("a"))
    return link_words >= 0.9 * words


# class/id tokens of page furniture: adverts, widgets, newsletter sign-ups, "read more",
# related/recommended stories, share tools. Matched per token, so "header" or "leads" do not match.
_FURNITURE_TOKEN = re.compile(
    r"^(?:ad|ads|adv|advert\w*|advertisement\w*|advertising|ad[-_]\w+|\w+[-_]ads?|\w+[-_]ad[-_]\w+|adslot\w*|"
    r"dfp\w*|gpt[-_]\w+|sponsor\w*|promo|promos|promoted\w*|\w*newsletter\w*|\w*[-_]?related[-_]?\w*|"
    r"read[-_]?more\w*|more[-_](?:stories|news|articles|from\w*)|recommend\w*|outbrain\w*|taboola\w*|"
    r"widget\w*|\w+[-_]widget|(?:\w+[-_])?share[-_]?(?:tools|bar|buttons|links)?|social[-_]\w+|"
    r"most[-_]?(?:read|popular|viewed)\w*|\w*[-_]signup|signup[-_]?\w*|subscribe[-_]\w+|cookie\w*|cmplz\w*)$",
    re.I)
_PROTECTED_TAGS = {"html", "body", "article", "main"}
# a cheap first pass over the whole class/id string before the per-token regex
# one pass over the attributes that can mark furniture
_MARKER_VALUES = etree.XPath("//body//@class | //body//@id | //body//@data-ad-slot | //body//@data-ad | "
                             "//body//@data-advert | //body//@data-ad-unit | //body//@aria-label")
_AD_ATTRIBUTES = {"data-ad-slot", "data-ad", "data-advert", "data-ad-unit"}
# substrings every furniture token contains: a fast first pass (str.find) before the token regex
_FURNITURE_PARTS = ("ad", "dfp", "gpt", "sponsor", "promo", "newsletter", "related", "read", "more", "recommend",
                    "outbrain", "taboola", "widget", "share", "social", "most", "signup", "subscribe", "cookie", "cmplz")
_ARTICLE_MARKERS = etree.XPath("//article | //main | //h1 | //*[@itemprop='articleBody']")


def _furniture_elements(tree: HtmlElement, markers: list | None = None) -> list[HtmlElement]:
    """Elements marked as furniture: a furniture token in their class or id, an ad-slot
    attribute, or ``aria-label="Advertisement"``; in document order. ``markers``: the result
    of :data:`_MARKER_VALUES` when already collected."""
    found = {}
    values = []
    for value in (_MARKER_VALUES(tree) if markers is None else markers):
        name = value.attrname
        if name in ("class", "id"):
            values.append(value)
        elif name in _AD_ATTRIBUTES or value.strip().lower() == "advertisement":
            element = value.getparent()
            found.setdefault(id(element), element)
    low = "\n".join(v.replace("\n", " ") for v in values).lower()
    starts = [0]
    for value in values:
        starts.append(starts[-1] + len(value) + 1)
    lines: set[int] = set()
    for part in _FURNITURE_PARTS:
        index = low.find(part)
        while index != -1:
            line = bisect.bisect_right(starts, index) - 1
            lines.add(line)
            index = low.find(part, starts[line + 1])
    for line in sorted(lines):
        if any(_FURNITURE_TOKEN.match(token) for token in values[line].split()):
            element = values[line].getparent()
            found.setdefault(id(element), element)
    return list(found.values())


def _furniture_texts(tree: HtmlElement, markers: list | None = None) -> set[str]:
    """Texts (lower-cased, whitespace-normalised) of the blocks inside adverts, widgets,
    newsletter boxes, "read more"/related blocks, share tools and cookie banners (class/id
    tokens, ad-slot attributes): body paragraphs with these texts are dropped.

    The page is not changed, so the body extractor's choice of the article container is
    unaffected (removing the elements before extraction was measured and lost body F1).
    An element holding the article (an ``article``, ``main`` or ``h1`` inside it, or
    ``itemprop=articleBody``), 30% or more of the page's text or of its prose is never
    counted, so a theme that puts "widget" or "related" on the article's own container
    cannot empty the body.
    """
    candidates = _furniture_elements(tree, markers)
    if not candidates:
        return set()
    body = tree.find(".//body")
    total_chars = len(body.text_content()) if body is not None else 0
    total_prose = None
    texts: set[str] = set()
    seen: dict[int, HtmlElement] = {}
    # dicts keep the elements alive: lxml gives a node the same proxy, and id(), only while one exists
    holds_article = {id(a): a for e in _ARTICLE_MARKERS(tree) for a in e.iterancestors()}
    for element in candidates:
        if id(element) in seen or element.tag in _PROTECTED_TAGS or id(element) in holds_article:
            continue
        text = element.text_content()
        if len(text) > 0.3 * total_chars:
            continue
        if total_prose is None:
            total_prose = _prose_words(tree)
        if total_prose and _prose_words(element) > 0.3 * total_prose:
            continue
        texts.add(" ".join(text.split()).lower())
        for block in element.iterdescendants(*_FURNITURE_BLOCKS):
            seen[id(block)] = block
            texts.add(" ".join(block.text_content().split()).lower())
    texts.discard("")
    return texts


_FURNITURE_BLOCKS = ("p", "li", "div", "span", "a", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figcaption",
                     "td", "section", "aside", "label", "button", "form", "ul", "ol", "dd", "dt")


def _prune_link_blocks(tree: HtmlElement) -> None:
    """Remove link lists and link-only paragraphs from the page before body extraction."""
    for element in tree.xpath("//ul | //ol | //p[.//a]"):
        if element.getparent() is not None and _is_link_block(element):
            element.drop_tree()


def _trafilatura_paragraphs(tree: HtmlElement, fast: bool) -> list[str]:
    """Body paragraphs according to trafilatura."""
    # no url: trafilatura would spend time resolving link targets, which are not needed here
    text = trafilatura.extract(tree, fast=fast, include_comments=False, include_tables=True, with_metadata=False)
    return (text or "").split("\n")


_BLOCK_TAGS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd")


def _readability_paragraphs(tree: HtmlElement) -> list[str]:
    """Body paragraphs according to readability-lxml (used only as a second opinion)."""
    try:
        summary = Document(deepcopy(tree)).summary(html_partial=True)
        fragment = load_html(f"<html><body>{summary}</body></html>")
    except Exception:  # readability raises its own Unparseable and assorted lxml errors
        return []
    return _block_paragraphs(fragment) if fragment is not None else []


def _shingles(paragraphs: list[str]) -> set[tuple[str, ...]]:
    words = [w for p in paragraphs for w in _words(p)]
    return {tuple(words[i:i + 4]) for i in range(len(words) - 3)}


def _prose_words(tree: HtmlElement) -> int:
    """Words in the page's long ``<p>`` paragraphs (25+ words): how much prose the page holds."""
    total = 0
    for paragraph in tree.iter("p"):
        count = len(_words(paragraph.text_content()))
        if count >= 25:
            total += count
    return total


def _maybe_readability(tree: HtmlElement, paragraphs: list[str]) -> list[str]:
    """Second opinion for a body that looks truncated.

    When the page holds much more prose than trafilatura kept, readability is run; its text
    replaces trafilatura's only if it contains (nearly) all of it and is at least twice as long,
    i.e. the two agree on the article and readability found the rest of it.
    """
    kept_words = sum(len(_words(p)) for p in paragraphs)
    if _prose_words(tree) <= 1.3 * max(kept_words, 1):
        return paragraphs
    candidate = _readability_paragraphs(tree)
    candidate_words = sum(len(_words(p)) for p in candidate)
    ours = _shingles(paragraphs)
    if not ours or candidate_words < 2 * kept_words:
        return paragraphs
    if len(ours & _shingles(candidate)) / len(ours) >= 0.95:
        return candidate
    return paragraphs


def _looks_like_navigation(paragraphs: list[str]) -> bool:
    """A fast-mode result that is mostly menu entries (many very short lines)."""
    if len(paragraphs) < 30:
        return False
    short = sum(len(_words(p)) <= 4 for p in paragraphs)
    return short / len(paragraphs) > 0.6


def _block_paragraphs(root: HtmlElement) -> list[str]:
    """Text of the outermost block elements (p, li, h2...) under root, whitespace-normalised."""
    paragraphs = []
    for element in root.iter(*_BLOCK_TAGS):
        if any(parent.tag in _BLOCK_TAGS for parent in element.iterancestors()):
            continue
        text = " ".join(element.text_content().split())
        if text:
            paragraphs.append(f"- {text}" if element.tag == "li" else text)
    return paragraphs


def _ld_body_paragraphs(article: dict | None) -> list[str]:
    """JSON-LD articleBody split into paragraphs (some sites put HTML in it)."""
    if not article or not isinstance(article.get("articleBody"), str):
        return []
    raw = article["articleBody"]
    if re.search(r"<(?:p|div|br|li|h\d)\b", raw, re.I):
        fragment = load_html(f"<html><body><div>{raw}</div></body></html>")
        if fragment is not None:
            return _block_paragraphs(fragment) or [" ".join(fragment.text_content().split())]
    raw = html_lib.unescape(raw)
    return [" ".join(p.split()) for p in re.split(r"\n", raw) if p.strip()]


# --------------------------------------------------------------------------- overrides


def _select(tree: HtmlElement, selector: str) -> list:
    """Evaluate a ``css:...`` or ``xpath:...`` selector; bad selectors match nothing."""
    kind, _, expression = selector.partition(":")
    try:
        if kind == "css":
            return CSSSelector(expression)(tree)
        if kind == "xpath":
            result = tree.xpath(expression)
            return result if isinstance(result, list) else [result]
    except (etree.XPathError, SelectorError):
        return []
    return []


def _node_text(node, paragraphs: bool = False) -> str:
    if isinstance(node, str):
        return node.strip()
    if not isinstance(node, etree._Element):
        return str(node).strip()
    if paragraphs:
        blocks = [" ".join(p.text_content().split()) for p in node.iter("p", "li", "h2", "h3", "blockquote")]
        blocks = [b for b in blocks if b]
        if blocks:
            return "\n\n".join(blocks)
    return " ".join(node.text_content().split())


def _evaluate_overrides(tree: HtmlElement, overrides: dict) -> dict:
    """Values of the per-source selectors that match (``title``, ``body``, ``author``, ``published_at``)."""
    found: dict = {}
    for field in ("title", "body", "author", "published_at"):
        selector = overrides.get(field)
        nodes = _select(tree, selector) if isinstance(selector, str) else []
        if not nodes:
            continue
        if field == "published_at":
            node = nodes[0]
            value = node if isinstance(node, str) else (node.get("datetime") or node.get("content") or _node_text(node))
            normalised = _normalise_date(value)
            if normalised:
                found["published_at"], found["date_source"] = normalised, "override"
        elif field == "body":
            text = "\n\n".join(t for t in (_node_text(n, paragraphs=True) for n in nodes) if t)
            if text:
                found["body"] = text
        else:
            text = ", ".join(dict.fromkeys(t for t in (_node_text(n) for n in nodes) if t))
            if text:
                found[field] = text
    return found


# --------------------------------------------------------------------------- classification

_TAG_URL = re.compile(r"/(?:tags?|authors?|topics?|category|categories|people|writers?)/[^/]+/?(?:page/\d+/?)?$", re.I)
_LIVE_URL = re.compile(r"/live/?$", re.I)


def _headline_links(tree: HtmlElement) -> int:
    """Number of links whose anchor text looks like a headline (4+ words)."""
    count = 0
    for anchor in tree.iter("a"):
        text = anchor.text_content()
        if text and len(text.split()) >= 4:
            count += 1
    return count


def _is_prose(body: str) -> bool:
    """Article-like text: at least three paragraphs of 30+ words (listing teasers are shorter)."""
    return sum(1 for p in body.split("\n\n") if len(_words(p)) >= 30) >= 3


def _classify(headline_links: int, url: str | None, types: set[str], has_article_ld: bool,
              og_type: str | None, body: str, paywalled: bool, min_words: int = MIN_ARTICLE_WORDS) -> str | None:
    """Return a reject reason for non-article pages, or None for an article.

    Link density alone never rejects a page whose body is article prose: a listing schema
    type or many headline links reject a page only when its text is not (``_is_prose``).
    """
    words = len(_words(body))
    article_signal = has_article_ld or (og_type or "").lower() == "article"
    path = urlsplit(url).path if url else ""
    prose = _is_prose(body)
    if not has_article_ld:
        if _LIVE_URL.search(path):
            return "live blog index"
        if _TAG_URL.search(path) or "profilepage" in types:
            return "tag/author page"
        if types & LISTING_TYPES and not prose:
            return "section page: many links, little text"
    if not body.strip():
        return "no body"
    if not article_signal and not prose:
        links = headline_links
        listing_signal = (og_type or "").lower() == "website" or "webpage" in types
        if links >= 15 and words < 8 * links and (listing_signal or links >= 40):
            return "section page: many links, little text"
    if words < min_words and not (paywalled and article_signal):
        return TOO_SHORT
    return None


# --------------------------------------------------------------------------- main entry


def _title_from_tag(tree: HtmlElement, strip: bool = True) -> str | None:
    element = tree.find(".//title")
    title = " ".join(element.text_content().split()) if element is not None else ""
    if not title or not strip:
        return title or None
    # drop a trailing " | Site name" / " - Site name"
    parts = re.split(r"\s+[|–—-]\s+", title)
    return parts[0] if len(parts) > 1 and len(parts[0].split()) >= 3 else title


def _language(tree: HtmlElement, article: dict | None, meta: dict) -> str | None:
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    lang = lang or _ld_text((article or {}).get("inLanguage")) or _first(meta, "content-language", "og:locale", "language")
    if not lang:
        return None
    return lang.split(",")[0].strip().replace("_", "-") or None


def extract_article(html: str | bytes, url: str | None = None, *, overrides: dict | None = None,
                    hints: dict | None = None, min_words: int = MIN_ARTICLE_WORDS) -> dict:
    """Extract metadata and body text from one page. A body of fewer than ``min_words`` words is
    rejected as "too short" (a source's ``min_words``, else ``[crawl] min_article_words``).

    Returns a dict with exactly the keys in ``RESULT_KEYS``. Dates are UTC ISO strings
    (``YYYY-MM-DDTHH:MM:SSZ``) or ``YYYY-MM-DD`` when only a day is known;
    ``date_source`` records where ``published_at`` came from.
    """
    result = dict.fromkeys(RESULT_KEYS)
    result.update(is_article=False, paywalled=False, body="", authors=[])
    hints = hints or {}
    text = decode_html(html) if isinstance(html, bytes) else html
    tree = load_html(text) if text and text.strip() else None
    if tree is None:
        result["reject_reason"] = "no body"
        _apply_hints(result, hints)
        return cap_fields(result)

    article, types, ld_objects = _json_ld(tree)
    meta = _meta(tree)
    ld = article or {}

    pub = publisher_words(ld, ld_objects, meta, url)
    title_candidates = [_ld_text(ld.get("headline")), _first(meta, "og:title", "twitter:title"),
                        _ld_text(ld.get("name"))]
    result["title"], result["title_source"] = find_headline(tree, [_plain(t) for t in title_candidates if t], pub,
                                                            _plain(_title_from_tag(tree, strip=False)))
    result["description"] = _plain(_ld_text(ld.get("description")) or _first(meta, "og:description", "description",
                                                                              "twitter:description"))
    result["authors"], result["author_source"] = find_authors(tree, ld, ld_objects, _meta_all(tree), pub)
    result["author"] = ", ".join(result["authors"]) or None
    result["section"] = _ld_text(ld.get("articleSection")) or _first(meta, "article:section", "section")
    if result["section"] and "," in result["section"] and isinstance(ld.get("articleSection"), list):
        result["section"] = result["section"].split(",")[0].strip()
    result["language"] = _language(tree, article, meta)

    canonical = tree.xpath('//link[@rel="canonical"]/@href')
    main_entity = ld.get("mainEntityOfPage")
    main_entity = main_entity.get("@id") if isinstance(main_entity, dict) else main_entity
    candidate = (canonical[0].strip() if canonical else None) or meta.get("og:url") or ld.get("url") or main_entity
    if isinstance(candidate, str) and candidate.strip():
        result["canonical_url"] = urljoin(url or "", candidate.strip())
    else:
        result["canonical_url"] = url

    # dates: JSON-LD, then meta/microdata, then <time> / htmldate in the page, then the URL
    published = _normalise_date(ld.get("datePublished") or ld.get("dateCreated"))
    if published:
        result["published_at"], result["date_source"] = published, "json-ld"
    else:
        published = _normalise_date(_first(meta, "article:published_time", "datepublished", "og:published_time",
                                            "published_time", "pubdate", "publishdate", "publish-date",
                                            "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.created",
                                            "date", "dc.date"))
        if published:
            result["published_at"], result["date_source"] = published, "meta"
    modified = _normalise_date(ld.get("dateModified"))
    if modified:
        result["modified_at"], result["modified_source"] = modified, "json-ld"
    else:
        modified = _normalise_date(_first(meta, "article:modified_time", "datemodified", "og:updated_time",
                                           "last-modified", "dcterms.modified"))
        if modified:
            result["modified_at"], result["modified_source"] = modified, "meta"

    if not result["published_at"]:
        _page_text_date(tree, url, result)
    markers = _MARKER_VALUES(tree)  # class/id/ad attributes of the body: read once, used twice
    result["paywalled"] = _paywalled(tree, article, ld_objects, meta,
                                     [tree.get("class", ""), tree.get("id", ""),
                                      *(m for m in markers if m.attrname in ("class", "id"))])
    overridden = _evaluate_overrides(tree, overrides) if overrides else {}
    headline_links = _headline_links(tree)
    headlines = [h for h in (result["title"], _first(meta, "og:title", "twitter:title"), _title_from_tag(tree),
                             *(" ".join(h.text_content().split()) for h in tree.iter("h1"))) if h]

    # body: trafilatura (fast) on the page without link blocks; full trafilatura when fast mode
    # returns a menu or almost nothing; readability when the result looks truncated; then cleaning
    furniture = _furniture_texts(tree, markers)
    _prune_link_blocks(tree)
    paragraphs = _trafilatura_paragraphs(tree, fast=True)
    fast_words = sum(len(_words(p)) for p in paragraphs)
    ld_paragraphs = _ld_body_paragraphs(article)
    ld_words = _words(" ".join(ld_paragraphs))
    if ld_words and ld_words == _words(" ".join(paragraphs)):
        paragraphs = ld_paragraphs  # the same text, taken from JSON-LD: keep its paragraph breaks
    elif _looks_like_navigation(paragraphs) or fast_words < MIN_ARTICLE_WORDS:
        if len(ld_words) >= MIN_ARTICLE_WORDS:
            # text missing from the markup (rendered by script) but present in JSON-LD articleBody
            paragraphs = ld_paragraphs
        else:
            fuller = _trafilatura_paragraphs(tree, fast=False)
            if sum(len(_words(p)) for p in fuller) > fast_words or _looks_like_navigation(paragraphs):
                paragraphs = fuller
    paragraphs = _maybe_readability(tree, paragraphs)
    if furniture:
        paragraphs = [p for p in paragraphs if " ".join(p.lstrip("- ").split()).lower() not in furniture]
    paragraphs = _clean_paragraphs(paragraphs, headlines, _description_subheads(tree, result["description"]))
    result["body"] = "\n\n".join(paragraphs)

    if overridden.get("body") and furniture:
        # a per-source body selector (e.g. "div.article-text p") can match an advert's own <p>
        kept = [p for p in overridden["body"].split("\n\n") if " ".join(p.split()).lower() not in furniture]
        overridden["body"] = "\n\n".join(kept)
    result.update(overridden)
    if "author" in overridden:
        result["authors"] = split_people(overridden["author"], set()) or [overridden["author"]]
        result["author"], result["author_source"] = ", ".join(result["authors"]), "override"
    _apply_hints(result, hints)
    reason = _classify(headline_links, url, types, article is not None, meta.get("og:type"), result["body"],
                       result["paywalled"], min_words)
    result["is_article"], result["reject_reason"] = reason is None, reason
    if result["is_article"] and not result["published_at"]:
        # last resort for an article: a date written in its text ("Updated: Oct 9, 2019"),
        # htmldate's extensive search (after the markup, the URL and discovery hints gave none)
        published = _normalise_date(_htmldate(tree, extensive=True))
        if published:
            result["published_at"], result["date_source"] = published, "text"
    return cap_fields(result)


def _first_time_element(tree: HtmlElement, xpath: str) -> str | None:
    for value in tree.xpath(xpath):
        published = _normalise_date(value)
        if published:
            return published
    return None


def _page_text_date(tree: HtmlElement, url: str | None, result: dict) -> None:
    """Fallback dates: the article's ``<time datetime>``, the URL, any ``<time datetime>``,
    then htmldate's search of the markup. (The page text is searched later, only for articles
    still without a date after discovery hints.)"""
    sources = (
        ("text", lambda: _first_time_element(tree, "//time[@pubdate]/@datetime | //article//time/@datetime")),
        ("url", lambda: _url_date(url) or _url_date(result.get("canonical_url"))),
        ("text", lambda: _first_time_element(tree, "//time/@datetime")),
        ("text", lambda: _normalise_date(_htmldate(tree))),
    )
    for source, find in sources:
        published = find()
        if published:
            result["published_at"], result["date_source"] = published, source
            return


def _htmldate(tree: HtmlElement, extensive: bool = False) -> str | None:
    try:
        return htmldate.find_date(tree, extensive_search=extensive, original_date=True, deferred_url_extractor=True)
    except (ValueError, TypeError):
        return None


def _apply_hints(result: dict, hints: dict) -> None:
    """Discovery hints fill only what the page did not provide."""
    if not result.get("published_at") and hints.get("published_at"):
        published = _normalise_date(hints["published_at"])
        if published:
            source = hints.get("date_source")
            result["published_at"] = published
            result["date_source"] = source if source in {"feed", "sitemap"} else "feed"
    if not result.get("title") and hints.get("title"):
        result["title"] = " ".join(str(hints["title"]).split())
        result["title_source"] = "hint"
