"""Bylines and headlines: who wrote a page and the headline it shows.

Pure functions over an lxml tree plus the page's parsed JSON-LD and ``<meta>`` tags, used
by ``crawler.extract``. Rules are general (no per-site lists); docs/extraction.md describes them.

Authors come from the first source, in this order, that yields at least one person:

1. JSON-LD ``author``/``creator`` of the article object (``@id`` references resolved);
2. ``<meta>`` author tags (``author``, ``article:author``, ``parsely-author``, ``dc.creator``...);
3. the markup: ``itemprop=author``, ``rel=author`` links, then the first byline element
   (class or id naming a byline or author);
4. a "By ..." line near the top of the page text.

Each value is split into people (commas, "and", "&", "|", ";") and cleaned ("By", "Written
by", "Analysis by", trailing "for The Paper", a trailing date, a trailing weekday after "on" or
after a name of two or more words: "Sally Sunday" and "Simon Tuesday-Jones" keep theirs), and
a part is dropped when it is an e-mail address, a handle or URL, has digits, is too long to be
a name, or consists only of role words ("Staff", "Reporter", "Editor"...), placeholders ("No
Author", "Published by", "Wednesday") and the publisher's own name. A photo credit
("Photograph by") ends the value; a value that reads as a sentence (two lower-case words that
are not name particles, a job title after a name not counted: "Tom Jones, chief reporter") is
no byline; after a person, a job title ("AP Sports Writer"), credentials ("MS, RD") or an
organisation ("NJ Advance Media", "Local Democracy Reporting Service", "... Associated Press",
one word in capitals: "PA", "CNN") is not a person, unless it is a given name and a surname
listed with "and" ("Ben Price and John Group", "Jane Smith and Tom Post"); a newspaper's word rarely
borne as a surname is a newspaper's even then ("Jane Smith and Jordan Times", "... and John Times").
"""
from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

__all__ = ["find_authors", "find_headline", "strip_site_name", "name_key"]

_ROLE_WORDS = {
    "staff", "staffer", "reporter", "reporters", "writer", "writers", "editor", "editors", "editorial",
    "correspondent", "correspondents", "contributor", "contributors", "contributing", "desk", "team",
    "admin", "administrator", "newsroom", "news", "web", "online", "digital", "senior", "chief", "deputy",
    "political", "politics", "sport", "sports", "business", "guest", "author", "authors", "unknown",
    "anonymous", "press", "release", "wire", "wires", "service", "services", "agency", "agencies",
    "special", "multimedia", "content", "producer", "the", "our", "by", "and", "of", "a", "an", "from",
    "local", "city", "community", "bureau", "associate", "assistant", "freelance", "columnist",
    "journalist", "journalists", "media", "group", "partner", "sponsored", "post", "posts", "user",
    # profile-box furniture next to a byline
    "see", "full", "bio", "email", "e", "mail", "follow", "more", "profile", "view", "all", "articles",
    "stories", "contact", "twitter", "facebook", "instagram", "linkedin", "read", "about", "share",
}
_PREFIX = re.compile(r"^(?:(?:written|words|posted|published|reported|story|text|report|analysis|opinion|"
                     r"commentary|perspective|review|interview|column|essay)\s+by|by|from|"
                     r"authors?|reporter|writer|byline)\s*[:\-–—]?\s+", re.I)
_SUFFIX = re.compile(r"\s+(?:for|at|in)\s+(?:the\s+)?[A-Z].*$|\s*[(\[].*$|\s+(?:updated|published|posted|last)\b.*$"
                     r"|\s+(?:on\s+)?(?:\d{1,2}\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d.*$",
                     re.I)
# a weekday after the name: "Jeff Foust Monday", "Louis Jacobson on Monday, May 4"; not a surname
# ("Sally Sunday", "Simon Tuesday-Jones"): without "on", cut only when two or more words are left
_WEEKDAY_TAIL = re.compile(r"\s+(on\s+)?(?:mon|tues|wednes|thurs|fri|satur|sun)day(?![\w'’-]).*$", re.I)
# placeholders a CMS prints where no author was entered: "No Author", "Published by", a weekday alone
_PLACEHOLDER_WORDS = {"no", "none", "n", "na", "nobody", "published", "posted", "written", "updated", "submitted",
                      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
                      "yesterday"}
# a job title after a name ("Tom Krisher, AP Auto Writer", "Chris Cillizza, CNN Editor-at-large")
_ROLE_NOUNS = {"writer", "writers", "editor", "editors", "correspondent", "correspondents", "reporter", "reporters",
               "columnist", "contributor", "producer", "journalist", "critic", "analyst", "large"}
# the last word of a newspaper's name ("Jordan Times", "Hereford Times", "Shropshire Star", "Argus"; the UK's
# "Warrington Guardian", "Bristol Live", "Stoke Sentinel", "Kent Messenger", "Gloucester Citizen", "Wrexham
# Leader", "Daily Record")
_OUTLET_WORDS = {"news", "press", "today", "times", "post", "echo", "star", "gazette", "journal", "advertiser",
                 "chronicle", "mercury", "herald", "express", "telegraph", "mail", "standard", "observer", "courier",
                 "argus", "reporter", "tribune", "magazine", "guardian", "live", "sentinel", "messenger", "citizen",
                 "leader", "record"}
# outlet words that are also surnames of at least 1 in 100,000 people (US census 1990, "dist.all.last": Post
# 0.008%, Press, Herald, Standard 0.001%; Star, Times, Mail, Mercury, Courier under 0.001%; the rest none),
# and Messenger and Leader, English surnames ("Tom Messenger", "Ann Leader")
_SURNAME_OUTLET_WORDS = {"post", "press", "herald", "standard", "messenger", "leader"}
# the last word of an organisation's name ("NJ Advance Media", "USA TODAY", "Associated Press")
_ORG_WORDS = _OUTLET_WORDS | {"media", "network", "agency", "newswire", "wire", "inc", "ltd", "llc", "corp", "group",
                              "radio", "tv", "service"}
# letters after a name ("Rachael Link, MS, RD")
_CREDENTIALS = {"phd", "md", "ms", "msc", "ma", "mba", "mph", "rd", "rdn", "ld", "ldn", "rn", "np", "dds", "jd", "esq",
                "cpa", "cfp", "cde", "facp", "mrcp", "frcp", "bsc", "ba"}
# a photo, video or illustration credit: what follows it is not the author
_CREDIT = re.compile(r"\b(?:photo(?:graph)?s?|pictures?|images?|illustrations?|videos?|graphics?)\s*(?:by\b|:)"
                     r"|\b(?:photo\s+)?credits?\s*:", re.I)
# name particles written in lower case ("Ludwig van Beethoven", "Ana de Armas")
_PARTICLES = {"van", "von", "der", "den", "de", "da", "di", "du", "del", "della", "la", "le", "bin", "bint", "al",
              "el", "y", "e", "ter", "ten", "zu", "dos", "das", "and", "&"}
# two words glued by a publisher's template ("Isabel KeaneJournal News"): a capital after four or more
# lower-case letters inside a word (not "McGrath", "DeArdo", "LaMotte")
_GLUED = re.compile(r"(?<=[a-z]{4})(?=[A-Z][a-z])")
_SENTENCE_END = re.compile(r"(?<=[a-z]{2})\.\s+(?=[A-Z])")
_SPLIT = re.compile(r"(\s*(?:,|;|\s\|\s|\||\s/\s|\band\b|&|\bwith\b|\+)\s*)", re.I)  # separators kept
_AND = {"and", "&", "+", "with"}
_ARTICLES = {"a", "an", "the"}
_CONTACT = re.compile(r"@|https?:|www\.|\.com\b|\.co\.|\.org\b|\d")
_NAME_CHARS = re.compile(r"^[\w .'’‘`\-]+$")
_BYLINE_LINE = re.compile(r"^\s*(?:written\s+by|words\s+by|by)\s+(\S.{1,120})$", re.I)
_BYLINE_CLASS = re.compile(r"byline|author|writer|contributor|reporter", re.I)
_NOT_BYLINE_CLASS = re.compile(r"comment|avatar|(?:^|[-_\s])bio|about|related|more|other|recommend|"
                               r"follow|share|social|email|twitter|photo|image|img|caption|widget|newsletter|"
                               r"footer|popup|modal|list|card|teaser|promo", re.I)
_SKIP_ANCESTOR = re.compile(r"comment|related|recommend|sidebar|footer|teaser|promo|widget|newsletter|"
                            r"popular|trending|most-read|more-from|read-more|outbrain|taboola", re.I)


def name_key(name: str) -> str:
    """Comparison key for a name: ASCII-folded, lower-cased words."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^\w\s-]", " ", folded.lower()).replace("_", " ").split())


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _clean_part(part: str) -> str:
    part = " ".join(part.replace("\u00a0", " ").split()).strip(" .:-–—·•|")
    for _ in range(2):
        part = _PREFIX.sub("", part).strip(" .:-–—·•|")
    part = _SUFFIX.sub("", part).strip(" .:-–—·•|")
    weekday = _WEEKDAY_TAIL.search(part)
    if weekday and (weekday.group(1) or len(part[:weekday.start()].split()) >= 2):
        part = part[:weekday.start()].strip(" .:-–—·•|")
    return part


def _is_prose(value: str) -> bool:
    """A sentence, not a byline: two or more lower-case words that are not name particles
    ("The Russian and Syrian defense ministries"; parts with digits, such as dates, not counted)."""
    lower = [w for w in value.split() if w[:1].islower() and w.lower() not in _PARTICLES]
    return len(lower) >= 2


def _is_role_after_name(part: str) -> bool:
    """A job title, credentials or an organisation that follow a name: "AP Auto Writer",
    "CNN Editor-at-large", "MS", "NJ Advance Media", "Local Democracy Reporting Service", or one
    word in capitals ("PA", "LDRS")."""
    words = _words(part)
    return bool(words) and (words[-1] in _ROLE_NOUNS | _ORG_WORDS or all(w in _CREDENTIALS for w in words)
                            or (len(words) == 1 and part.isupper() and 2 <= len(part) <= 5))


def _name_shaped(part: str) -> bool:
    """Capitalised words, name particles allowed ("Tom Jones", "Ludwig van Beethoven")."""
    words = part.split()
    return any(w[:1].isupper() for w in words) and all(w[:1].isupper() or w.lower() in _PARTICLES for w in words)


def _is_title_after(part: str, before: list[str]) -> bool:
    """A job title after a name, in lower case as British bylines write it ("Tom Jones, chief
    reporter", "local democracy reporter"): not a sentence."""
    words = _words(part)
    return (any(_name_shaped(b) for b in before) and _is_role_after_name(part) and len(words) <= 4
            and not _ARTICLES & set(words[1:]))


def _data_lines(name: str) -> list[str]:
    """The lines of a file of ``data/`` (installed as ``cuttings_data``) that are neither blank, nor
    comments, nor section headers ("[areas]"). The crawler reads them itself: it imports only
    itself and the store (``tests/test_architecture.py``)."""
    try:
        path = Path(str(resources.files("cuttings_data"))) / name
    except ModuleNotFoundError:  # a checkout that was never installed
        path = Path(__file__).resolve().parent.parent / "data" / name
    with open(path, encoding="utf-8") as lines:
        return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "["))]


@functools.lru_cache(maxsize=1)
def _given_names() -> frozenset[str]:
    """Given names, lower case (``data/given_names.txt``)."""
    return frozenset(_data_lines("given_names.txt"))


@functools.lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    """The one-word places of ``data/uk_places.txt``, lower case ("kent", "chester", "bristol")."""
    return frozenset(place.lower() for place in _data_lines("uk_places.txt") if " " not in place)


def _named_person(part: str, join: str) -> bool:
    """A person whose surname is an organisation's or a title's word, listed with "and" after
    another person: a given name, then the surname ("Ben Price and John Group", "Jane Smith and Tom
    Post"). Not when that word is a newspaper's that is rarely a surname (:data:`_OUTLET_WORDS` less
    :data:`_SURNAME_OUTLET_WORDS`): "Jane Smith and Jordan Times" names a newspaper, although Jordan
    is a given name, and so does "and John Times"; nor when a newspaper's word follows a listed place that
    is also a given name ("Kent Messenger", "Chester Post": ``data/uk_places.txt``)."""
    words = part.split()
    last = words[-1].lower() if words else ""
    return (join in _AND and len(words) == 2 and all(w[:1].isupper() and not w.isupper() for w in words)
            and (last not in _OUTLET_WORDS or (last in _SURNAME_OUTLET_WORDS and words[0].lower() not in _places()))
            and words[0].lower() not in _PLACEHOLDER_WORDS and words[0].lower() in _given_names())  # not "Sunday Times"


def _without_org_tail(part: str) -> str:
    """A name with an organisation's two-word name set after it without a comma ("Tom Davies
    Associated Press", "Kevin McCoy USA TODAY"): the name, when two or more words are left."""
    words = part.split()
    if (len(words) >= 4 and words[-1].lower().strip(".") in _ORG_WORDS and all(w[:1].isupper() for w in words[-2:])
            and not _ROLE_WORDS & set(_words(" ".join(words[:-2])))):  # "Local Democracy Reporting Service"
        return " ".join(words[:-2]).rstrip(" .,")
    return part


def _is_person(part: str, publisher_words: set[str]) -> bool:
    if not part or len(part) > 60 or _CONTACT.search(part) or not _NAME_CHARS.match(part):
        return False
    words = part.split()
    if len(words) > 5:
        return False
    if not any(ch.isupper() for ch in part) and not any(ord(ch) > 0x2e80 for ch in part):
        return False  # lower-case prose ("by the way") or a handle
    return not _only_publisher_or_roles(_words(part), publisher_words)


def _only_publisher_or_roles(words: list[str], pub: set[str]) -> bool:
    """True when the words are role words plus the publisher's name ("Courier Staff";
    "Marches Courier" for marchescourier.example)."""
    rest = [w for w in words if w not in _ROLE_WORDS and w not in _PLACEHOLDER_WORDS]
    return not rest or all(w in pub for w in rest) or "".join(rest) in pub


def split_people(value: str, publisher_words: set[str]) -> list[str]:
    """People named in one byline value, cleaned; non-people dropped."""
    if not value:
        return []
    value = _PREFIX.sub("", " ".join(value.split()))
    value = _CREDIT.split(value, maxsplit=1)[0]
    pieces = _SPLIT.split(value)
    parts = [_clean_part(part) for part in pieces[0::2]]
    joins = [""] + [" ".join(sep.lower().split()) for sep in pieces[1::2]]
    # a sentence is no byline; a job title after a name is no sentence ("Jane Smith, health correspondent")
    if _is_prose(" ".join(part for i, part in enumerate(parts)
                          if not _CONTACT.search(part) and not (i and _is_title_after(part, parts[:i])))):
        return []
    people: list[str] = []
    for part, join in zip(parts, joins):
        # a name ending a sentence before an organisation ("Finian Cunningham. Sputnik International");
        # not after an initial or a short title ("J. R. Stone", "Rev. Jesse Jackson")
        ended = _SENTENCE_END.split(part, maxsplit=1)
        if len(ended) > 1 and len(ended[0].split()) >= 2:
            part = ended[0]
        glued = _GLUED.split(part, maxsplit=1)
        if len(glued) > 1 and len(glued[0].split()) >= 2:
            part = glued[0]
        part = _without_org_tail(part)
        if people and _is_role_after_name(part) and not _named_person(part, join):
            continue
        if _is_person(part, publisher_words):
            people.append(part)
    return people


def _dedupe(names: list[str]) -> list[str]:
    seen, out = set(), []
    for name in names:
        key = name_key(name)
        if key and key not in seen:
            seen.add(key)
            out.append(name)
    return out


def _ld_names(value, by_id: dict) -> list[str]:
    if isinstance(value, list):
        return [n for v in value for n in _ld_names(v, by_id)]
    if isinstance(value, dict):
        if not value.get("name") and isinstance(value.get("@id"), str) and value["@id"] in by_id:
            value = by_id[value["@id"]]
        name = value.get("name")
        if isinstance(name, (list, dict)):
            return _ld_names(name, by_id)
        return [str(name)] if name else []
    if isinstance(value, str):
        return [value]
    return []


_COPYRIGHT_WORDS = {"copyright", "all", "rights", "reserved", "the"}


def publisher_words(ld: dict, ld_objects: list[dict], meta: dict, url: str | None) -> set[str]:
    """Words of the publisher's own names (og:site_name, JSON-LD publisher, host name)."""
    names = [meta.get("og:site_name"), meta.get("application-name"), meta.get("twitter:site")]
    publisher = ld.get("publisher")
    names += _ld_names(publisher, {}) if publisher else []
    for obj in ld_objects:
        types = obj.get("@type")
        types = types if isinstance(types, list) else [types]
        if any(str(t).lower() in {"organization", "newsmediaorganization", "website"} for t in types):
            names += _ld_names(obj, {})
    words = {w for n in names if isinstance(n, str) for w in _words(n.lstrip("@"))}
    # the copyright holder is the publisher too ("Copyright (c) Condé Nast 2022")
    holders = [meta.get("copyright"), meta.get("dcterms.rights"), meta.get("rights"),
               *_ld_names(ld.get("copyrightHolder"), {})]
    words |= {w for h in holders if isinstance(h, str) for w in _words(h)
              if w.isalpha() and len(w) > 1 and w not in _COPYRIGHT_WORDS}
    if url:
        host = urlsplit(url).netloc.lower().split(":")[0]
        words |= {p for p in host.split(".") if p not in {"www", "com", "co", "uk", "org", "net", "news"}}
    return words


def _skipped(element: HtmlElement) -> bool:
    for ancestor in element.iterancestors():
        if ancestor.tag in {"body", "html"}:
            return False
        if ancestor.tag in {"footer", "nav"}:
            return True
        marker = f"{ancestor.get('class', '')} {ancestor.get('id', '')}"
        if marker.strip() and _SKIP_ANCESTOR.search(marker):
            return True
    return False


def _text(element: HtmlElement) -> str:
    """Text of an element, its nested elements' texts separated by spaces."""
    return " ".join(" ".join(element.itertext()).split())


def _markup_authors(tree: HtmlElement, pub: set[str]) -> list[str]:
    # itemprop=author and rel=author: every one outside comments/related blocks
    names: list[str] = []
    elements = tree.xpath('//*[@itemprop="author"] | //a[contains(concat(" ", @rel, " "), " author ")]')
    # author links inside the headline's <article> beat those of story lists elsewhere on the page
    # (elements kept in the dict: lxml reuses a Python proxy, and so its id(), only while it is alive)
    headline_articles = {id(a): a for h1 in tree.iter("h1") for a in h1.iterancestors("article")}
    if headline_articles:
        inside = [e for e in elements if any(id(a) in headline_articles for a in e.iterancestors("article"))]
        elements = inside or elements
    for element in elements:
        if element.tag in {"meta", "link"} or _skipped(element):
            if element.tag == "meta" and element.get("content") and not _skipped(element):
                names += split_people(element.get("content"), pub)
            continue
        inner = element.xpath('.//*[@itemprop="name"]')
        text = (inner[0].get("content") or _text(inner[0])) if inner else _text(element)
        if len(text) <= 120:
            names += split_people(text, pub)
    if names:
        return _dedupe(names)
    # the first byline element
    for element in _byline_class_elements(tree):
        marker = f"{element.get('class', '')} {element.get('id', '')}"
        if not _BYLINE_CLASS.search(marker) or _NOT_BYLINE_CLASS.search(marker):
            continue
        if element.tag in {"meta", "link", "script", "style", "img", "body", "html", "article", "main"}:
            continue
        text = _text(element)
        if not text or len(text) > 150 or _skipped(element):
            continue
        # links of the byline, not of a "follow these topics" or share block inside it
        links = [_text(a) for a in element.iter("a") if _text(a) and not _in_marked_block(a, element)]
        found = [n for link in links for n in split_people(link, pub)] if links else []
        in_text = {name_key(n) for n in split_people(text, pub)}
        if in_text and any(name_key(n) in in_text for n in found):
            # "Written by <a>Jane Doe</a> in <a>Valve</a> on 1 June": the link read as a place or
            # a section in the byline's sentence is not a person
            found = [n for n in found if name_key(n) in in_text]
        found = found or split_people(text, pub)
        if found:
            return _dedupe(found)
    return []


def _in_marked_block(element: HtmlElement, container: HtmlElement) -> bool:
    """Whether ``element`` (or a block between it and ``container``) is marked as not a byline
    (follow, share, social, list...)."""
    for node in (element, *element.iterancestors()):
        if node is container:
            return False
        marker = f"{node.get('class', '')} {node.get('id', '')}"
        if marker.strip() and _NOT_BYLINE_CLASS.search(marker):
            return True
    return False


_CLASS_VALUES = etree.XPath("//body//@class | //body//@id")
_BY_TEXT = etree.XPath("//body//text()[contains(., 'By') or contains(., 'by') or contains(., 'BY')]")
_BY_START = ("by ", "written by", "words by")


def _byline_class_elements(tree: HtmlElement) -> list[HtmlElement]:
    """Elements whose class or id mentions a byline/author, in document order, each once."""
    found = {}
    for value in _CLASS_VALUES(tree):
        low = value.lower()
        if "author" in low or "byline" in low or "writer" in low or "contributor" in low or "reporter" in low:
            element = value.getparent()
            found.setdefault(id(element), element)
    return list(found.values())


def _byline_lines(tree: HtmlElement, pub: set[str]) -> list[str]:
    """A short "By Jane Doe" line (a block starting with "By", "Written by", "Words by")."""
    seen: dict[int, HtmlElement] = {}
    for text_node in _BY_TEXT(tree):
        start = text_node.lstrip()[:10].lower()
        if not (start.startswith(_BY_START) or start.rstrip() == "by"):
            continue
        element = text_node.getparent()
        if element is not None and text_node.is_tail:
            element = element.getparent()
        # the "By" may be in its own span: "<p><span>By</span> <a>Jane Doe</a></p>"
        if element is not None and element.tag in {"span", "strong", "em", "b", "i"} and len(_text(element)) <= 3:
            element = element.getparent()
        if element is None or id(element) in seen or element.tag in {"script", "style", "title"}:
            continue
        seen[id(element)] = element  # kept alive, so that its id() is not given to another element
        if len(element) > 3:
            continue
        text = _text(element)
        match = _BYLINE_LINE.match(text)
        if match and len(text) <= 100 and not _skipped(element):
            people = split_people(match.group(1), pub)
            if people and all(p[0].isupper() for p in people):
                return _dedupe(people)
    return []


_PARAGRAPHS = etree.XPath("//body//p")
_NAME_WORD = re.compile(r"^[A-ZÀ-Þ][\w'’.\-]*$")
_NAME_LIST_SPLIT = re.compile(r"\s*(?:/|,|&|\band\b)\s*")
_NOT_NAME_WORDS = {"the", "of", "in", "on", "for", "to", "a", "an", "at", "with", "from", "by", "news", "update",
                   "updates", "points", "key", "summary", "background", "analysis", "comment", "opinion", "read"}


def _bold_name_line(tree: HtmlElement, pub: set[str]) -> list[str]:
    """A byline set as a bold paragraph of names just above article prose
    ("<p><strong>Jane Doe/John Smith</strong></p>" followed by the story), a common layout
    on small news sites that give no byline markup. Names only: two to four capitalised
    words each, one to three names."""
    paragraphs = [(element, _text(element)) for element in _PARAGRAPHS(tree)]
    paragraphs = [(element, text) for element, text in paragraphs if text]
    for (element, text), (_, following) in zip(paragraphs, paragraphs[1:]):
        if len(following.split()) < 12 or len(text) > 100:
            continue
        bold = " ".join(" ".join(b.itertext()) for b in element.iter("strong", "b"))
        if " ".join(bold.split()) != text or _skipped(element):
            continue
        parts = [p for p in _NAME_LIST_SPLIT.split(text) if p]
        if 1 <= len(parts) <= 3 and all(
                2 <= len(p.split()) <= 4 and all(_NAME_WORD.match(w) for w in p.split())
                and not any(w.lower() in _NOT_NAME_WORDS for w in p.split()) and _is_person(p, pub)
                for p in parts):
            return _dedupe(parts)
    return []


_META_AUTHOR_KEYS = ("author", "article:author", "byl", "parsely-author", "sailthru.author", "dc.creator",
                     "dcterms.creator", "citation_author", "cxenseparse:author")
_AUTHOR_LABELS = {"written by", "author", "authors", "by", "words by"}


def _labelled_author(meta_all: list[tuple[str, str]]) -> list[str]:
    """The value of a ``twitter:labelN``/``twitter:dataN`` pair labelled "Written by" (what
    WordPress SEO plugins emit for link previews)."""
    labels = {key[len("twitter:label"):]: value for key, value in meta_all if key.startswith("twitter:label")}
    wanted = {n for n, label in labels.items() if " ".join(label.lower().split()).rstrip(":") in _AUTHOR_LABELS}
    return [value for key, value in meta_all if key.startswith("twitter:data") and key[len("twitter:data"):] in wanted]


def find_authors(tree: HtmlElement, ld: dict, ld_objects: list[dict], meta_all: list[tuple[str, str]],
                 pub: set[str]) -> tuple[list[str], str | None]:
    """(authors, source) where source is json-ld, meta, markup, text or None."""
    by_id = {o["@id"]: o for o in ld_objects if isinstance(o.get("@id"), str) and o.get("name")}
    values = _ld_names(ld.get("author"), by_id) or _ld_names(ld.get("creator"), by_id)
    people = _dedupe([p for v in values for p in split_people(v, pub)])
    if people:
        return people, "json-ld"
    values = [content for key, content in meta_all if key in _META_AUTHOR_KEYS] + _labelled_author(meta_all)
    people = _dedupe([p for v in values for p in split_people(v, pub)])
    if people:
        return people, "meta"
    people = _markup_authors(tree, pub)
    if people:
        return people, "markup"
    people = _byline_lines(tree, pub) or _bold_name_line(tree, pub)
    if people:
        return people, "text"
    return [], None


# --------------------------------------------------------------------------- headlines

_SEPARATORS = re.compile(r"\s+[|–—:·•»«-]{1,2}\s+|\s+::\s+")


def strip_site_name(title: str | None, pub: set[str]) -> str | None:
    """Remove a leading or trailing " | Site name" segment naming the publisher."""
    if not title:
        return title
    title = " ".join(title.split())
    parts = _SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    peeled = False

    def is_site(segment: str) -> bool:
        words = _words(segment)
        if not words or len(words) > 6:
            return False
        if peeled and all(w in _ROLE_WORDS for w in words):
            return True  # "Headline | News | Site": a section name next to the site name
        names = [w for w in words if w not in _ROLE_WORDS]
        return bool(names) and (all(w in pub for w in names) or "".join(names) in pub)
    # peel site-name segments from the end, then from the start
    match_iter = list(_SEPARATORS.finditer(title))
    end = len(title)
    for match in reversed(match_iter):
        if is_site(title[match.end():end]):
            end, peeled = match.start(), True
        else:
            break
    start = 0
    for match in match_iter:
        if match.start() >= end:
            break
        if is_site(title[start:match.start()]):
            start, peeled = match.end(), True
        else:
            break
    stripped = title[start:end].strip()
    return stripped or title


def _similar(a: str, b: str) -> float:
    wa, wb = set(_words(a)), set(_words(b))
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


def find_headline(tree: HtmlElement, candidates: list[str], pub: set[str],
                  title_tag: str | None = None) -> tuple[str | None, str | None]:
    """(headline, source): the page's shown ``h1`` when it is the article's headline, else
    the first metadata candidate (JSON-LD headline, og:title), else the ``<title>``, site
    name removed.

    An ``h1`` counts as the headline when it shares most of its words with one of the
    titles (a site logo or section name in an ``h1`` does not), even inside a block whose
    class would otherwise mark it as a teaser. When the page has no editorial title in
    its metadata (only ``<title>``, which is often an older or SEO wording) and no ``h1``
    agrees with it, the first sentence-length ``h1`` outside navigation, related-story
    and widget blocks is the headline shown to readers.
    """
    # the site's name as its home link or its feed's title shows it is the publisher's in a title
    pub = pub | _site_name_words(tree)
    candidates = [strip_site_name(c, pub) for c in candidates if c and c.strip()]
    tag = strip_site_name(title_tag, pub) if title_tag and title_tag.strip() else None
    shown, teasers = [], []
    for element in tree.iter("h1"):
        text = _text(element)
        if text and 2 <= len(text.split()) <= 40:
            (teasers if _skipped(element) else shown).append(strip_site_name(text, pub))
    # an h1 that agrees with the editorial title (JSON-LD, og:title) first, then one that agrees
    # with the <title>: a logo h1 ("KBS WORLD") shares its words with a "Headline | KBS WORLD" tag
    for titles in (candidates, [tag] if tag else []):
        for h1 in shown + teasers:
            if any(_similar(h1, t) >= 0.6 for t in titles):
                return h1, "h1"
    if not candidates:
        # no editorial metadata: the headline on the page beats the <title> tag, but a
        # site name or a section label ("Business Monday") in an h1 is not a headline
        sentences = [h for h in shown if len(h.split()) >= 4 and not _is_publisher(h, pub)]
        if sentences:
            return sentences[0], "h1"
        if not tag and shown:
            return shown[0], "h1"
        # no h1 is a headline (a theme that sets its logo in the h1): the heading that the
        # markup marks as the article's headline (microdata, hAtom, or the article's header)
        marked = _marked_headline(tree, pub)
        if marked:
            return marked, "h1"
    if candidates:
        return candidates[0], "meta"
    if tag:
        return tag, "meta"
    return None, None


_HOME_LINKS = etree.XPath('//body//a[@href="/" or @href="./" or @href="/index.html" or @href="/index.php"]')
_FEED_TITLES = etree.XPath('//link[@rel="alternate"][contains(@type, "rss") or contains(@type, "atom")]/@title')
_FEED_WORDS = {"feed", "feeds", "rss", "atom", "xml", "comments", "comment", "latest", "all", "home"}


def _site_name_words(tree: HtmlElement) -> set[str]:
    """Words of the site's name as the page shows it without a host name to go by (a crawl of a
    mirror, a page read from disk): its home link's text or logo alt text, and the first segment
    of its feeds' titles ("Marches Courier Feed", "Python Wiki: Page name"), one to four words each,
    comment feeds left out."""
    names = []
    for link in _HOME_LINKS(tree)[:5]:
        names += [_text(link)] + [img.get("alt") or "" for img in link.iter("img")]
    for title in _FEED_TITLES(tree)[:5]:
        if "comment" not in title.lower():
            names.append(_SEPARATORS.split(title.strip())[0].split(":")[0])
    words: set[str] = set()
    for name in names:
        found = [w for w in _words(name) if w not in _FEED_WORDS]
        if 1 <= len(found) <= 4:
            words |= set(found)
    return words


_MARKED_HEADLINE = ('//*[@itemprop="headline"][not(self::meta)]'
                    ' | //*[self::h1 or self::h2][contains(concat(" ", normalize-space(@class), " "), " entry-title ")]'
                    ' | //article/header//*[self::h1 or self::h2]')


def _marked_headline(tree: HtmlElement, pub: set[str]) -> str | None:
    """The first heading the markup marks as the article's headline: schema.org microdata
    ``itemprop=headline``, hAtom's ``entry-title``, or an ``h1``/``h2`` in an ``<article>``'s
    ``<header>``; sentence-length, outside skipped blocks, not the publisher's name."""
    for element in tree.xpath(_MARKED_HEADLINE):
        text = strip_site_name(_text(element), pub)
        if text and 4 <= len(text.split()) <= 40 and not _skipped(element) and not _is_publisher(text, pub):
            return text
    return None


def _is_publisher(text: str, pub: set[str]) -> bool:
    names = [w for w in _words(text) if w not in _ROLE_WORDS]
    return bool(names) and (all(w in pub for w in names) or "".join(names) in pub)
