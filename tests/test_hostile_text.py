"""Hostile text in crawled pages (red-team findings of 2026-12-06): a 100 KB headline, a 1 MB
description, a 1 MB token, control characters (C0, C1, bidirectional overrides) in the text and
the canonical URL, ESC/BEL in a Content-Type header, and an extraction that takes too long.

Real crawls (``cuttings crawl``) against a server on 127.0.0.1; the unit tests at the top need
no crawl. Nothing here measures time: a pattern that were quadratic again would take hours on
the 1 MB inputs (the crawl's subprocess times out), not seconds."""
from __future__ import annotations

import json
import sqlite3

import pytest

from crawler.extract import (AUTHOR_MAX_CHARS, AUTHOR_NAME_MAX_CHARS, DESCRIPTION_MAX_CHARS, ELLIPSIS, MAX_AUTHORS,
                             TITLE_MAX_CHARS, cap_fields, cap_text, extract_article)
from cuttings import store
from cuttings.redaction import strip_controls
from tests.conftest import query_rows, run_cli
from tests.faultserver import HTML, Reply, article_html, corpus_story, start_local_site

CONTROLS = "\x00\x07\x1b\x7f\x85\x9b\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


# ---------------------------------------------------------------------------------------------
# without a crawl
# ---------------------------------------------------------------------------------------------

INVISIBLE = "\u00ad\u061c\u180e\u200b\u200e\u200f\u2060\u2061\u2062\u2063\u2064\u206a\u206f\ufeff\ufff9\ufffb"


def test_strip_controls_keeps_text_and_right_to_left_letters():
    text = "Vote \u05d0\u05d1\u05d2 \u0627\u0644 \u200f\u200e tab\there\nnew line\r\n" + CONTROLS + INVISIBLE + "end"
    assert strip_controls(text) == "Vote \u05d0\u05d1\u05d2 \u0627\u0644  tab\there\nnew line\r\nend"


def test_strip_controls_takes_invisible_characters_out_of_words_and_keeps_what_text_needs():
    """Zero-width and bidi marks hide inside a name ("HW\u200bFRS" is not HWFRS to search or to a
    reader); the joiners stay where text needs them: an emoji sequence, a Persian word."""
    for hidden in INVISIBLE + "\u200c\u200d":
        assert strip_controls(f"HW{hidden}FRS {hidden}fire{hidden}") == "HWFRS fire", repr(hidden)
    kept = ["\U0001f468\u200d\U0001f469\u200d\U0001f467",  # family: man, woman, girl (ZWJ)
            "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag (variation selector, ZWJ)
            "\U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f",  # the Welsh flag (tags)
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian "I want" (ZWNJ)
            "caf\u00e9 na\u00efve \u2014 \u201cquoted\u201d \u00a31m"]
    for text in kept:
        assert strip_controls(text) == text, text


BARE_LINKS = ("Fire chief: log in at https://evil.example/login or www.evil.example, FTP://evil.example, "
              "HTTP://EVIL.example (www.evil.example) mail help.desk_1@evil.example, mailto:x@evil.example")


def _gfm_links(markdown: str) -> list[str]:
    """The link targets GitHub's own renderer (cmark-gfm with its autolink extension) makes of ``markdown``."""
    import re

    cmarkgfm = pytest.importorskip("cmarkgfm")
    return re.findall(r'<a href="([^"]*)"', cmarkgfm.github_flavored_markdown_to_html(markdown))


def test_markdown_escaping_makes_no_bare_link_live():
    from cuttings.report import escape_markdown

    escaped = escape_markdown(BARE_LINKS)
    outside_code = escaped.split("`")[::2]  # addresses are set as inline code
    for part in outside_code:  # every "://" and "www." broken by a backslash escape
        unescaped = part.replace("\\:", "").replace("\\.", "")
        assert "://" not in unescaped and "www." not in unescaped.lower() and "@" not in part, part
    assert "`help.desk_1@evil.example`" in escaped and "`x@evil.example`" in escaped
    assert _gfm_links(escaped) == []
    # what a reader sees is the text as crawled
    cmarkgfm = pytest.importorskip("cmarkgfm")
    assert cmarkgfm.github_flavored_markdown_to_html(escaped).replace("<code>", "").replace("</code>", "") \
        .replace("&amp;", "&") == f"<p>{BARE_LINKS}</p>\n"


def test_markdown_digest_links_only_its_stories(tmp_path):
    """A headline with bare URLs, a www. name and an address: in the Markdown digest the headline links to its
    story and nothing in it is a link of its own."""
    from cuttings import report
    from tests.report_fixtures import NOW, build_sample_db

    db = build_sample_db(tmp_path / "cuttings.db")
    with db.atomic():
        db.execute("UPDATE articles SET title = ? WHERE url LIKE '%/news/2026/hostile/'", [BARE_LINKS])
    markdown = report.render_markdown(report.build_digest(db, now=NOW))
    line = next(line for line in markdown.splitlines() if "evil" in line)
    assert "https://evil" not in line and "www.evil" not in line, line
    links = _gfm_links(markdown)
    assert "https://www.herefordtimes.com/news/2026/hostile/" in links
    assert not [link for link in links if "evil" in link], links


def test_cap_text_cuts_at_a_word_with_an_ellipsis():
    words = "Council approves the new budget " * 100
    capped = cap_text(words, 100)
    assert len(capped) <= 100 and capped.endswith(ELLIPSIS)
    kept = capped[:-1]
    assert words.startswith(kept) and words[len(kept)] == " " and not kept.endswith(" ")
    assert cap_text("a" * 5000, 100) == "a" * 99 + ELLIPSIS  # no space in reach: cut inside the run
    assert cap_text("Short title", 100) == "Short title" and cap_text(None, 100) is None
    assert cap_text("x" * 100, 100) == "x" * 100


def test_cap_fields_caps_title_byline_and_names():
    fields = cap_fields({"title": "Budget " * 1000, "author": "A. Smith, " * 500,
                         "authors": ["A. Smith"] * 150 + ["Jane " + "Longname" * 100]})
    assert len(fields["title"]) <= TITLE_MAX_CHARS and fields["title"].endswith("Budget" + ELLIPSIS)
    assert len(fields["author"]) <= AUTHOR_MAX_CHARS and fields["author"].endswith(ELLIPSIS)
    assert fields["authors"] == ["A. Smith"] * MAX_AUTHORS
    [long_name] = cap_fields({"authors": ["Jane " + "Longname" * 100]})["authors"]
    assert len(long_name) <= AUTHOR_NAME_MAX_CHARS and long_name.endswith(ELLIPSIS)


def test_cap_fields_caps_the_description_at_a_word():
    description = "Crews were called to the barn fire at dawn. " * 50_000
    capped = cap_fields({"description": description})["description"]
    assert DESCRIPTION_MAX_CHARS // 2 <= len(capped) <= DESCRIPTION_MAX_CHARS and capped.endswith(ELLIPSIS)
    assert description.startswith(capped[:-1] + " ")  # cut at a word
    kept = "Crews were called to the barn fire at dawn."
    assert cap_fields({"description": kept})["description"] == kept
    assert cap_fields({"description": None})["description"] is None


@pytest.mark.parametrize("where", ["json-ld", "og:description", "description"])
def test_extraction_caps_a_one_megabyte_description(where):
    """Wherever the page puts its description (JSON-LD, og:description, meta description), a
    megabyte of it is cut at a word within ``DESCRIPTION_MAX_CHARS``; the body is untouched."""
    title, paragraphs = corpus_story("gov-001")
    huge = "Council approves the new budget. " * 32_000
    if where == "json-ld":
        ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "description": huge}
        head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    else:
        head = f'<meta {"property" if ":" in where else "name"}="{where}" content="{huge}">'
    page = article_html("http://x", "/news/d/", title, paragraphs, "2026-11-20T08:00:00Z", extra_head=head)
    fields = extract_article(page, "http://x/news/d/")
    plain = extract_article(article_html("http://x", "/news/d/", title, paragraphs, "2026-11-20T08:00:00Z"),
                            "http://x/news/d/")
    assert fields["is_article"] and len(fields["description"]) <= DESCRIPTION_MAX_CHARS
    assert fields["description"].endswith(ELLIPSIS) and huge.startswith(fields["description"][:-1] + " ")
    assert fields["body"] == plain["body"] and fields["title"] == title


def test_extraction_caps_a_100kb_headline_and_a_long_byline():
    title, paragraphs = corpus_story("gov-001")
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Budget " + "a" * 100_000,
          "author": [{"@type": "Person", "name": f"{chr(65 + i % 26)}. Smith{'x' * (i % 7)}"} for i in range(150)]}
    page = article_html("http://x", "/news/a/", "Budget " + "a" * 100_000, paragraphs, "2026-11-20T08:00:00Z",
                        extra_head=f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    fields = extract_article(page, "http://x/news/a/")
    assert fields["is_article"] and fields["title"] == "Budget " + "a" * (TITLE_MAX_CHARS - 8) + ELLIPSIS
    assert len(fields["authors"]) == MAX_AUTHORS and fields["authors"][:2] == ["A. Smith", "B. Smithx"]
    assert len(fields["author"]) <= AUTHOR_MAX_CHARS and fields["author"].startswith("A. Smith, B. Smithx, ")


def test_extraction_keeps_a_one_megabyte_token_paragraph():
    """The contact-line test (an e-mail address in a short line is page furniture) is linear: a
    1 MB token is read once; a paragraph with an address stays furniture."""
    title, paragraphs = corpus_story("gov-001")
    token = "x" * 1_000_000
    page = article_html("http://x", "/news/b/", title, [*paragraphs, token, "Contact news@example.org"],
                        "2026-11-20T08:00:00Z")
    fields = extract_article(page, "http://x/news/b/")
    assert fields["is_article"] and token in fields["body"].split("\n\n")
    assert "news@example.org" not in fields["body"]


def test_store_strips_controls_from_messages_and_reject_reasons(tmp_path):
    db = store.connect(tmp_path / "x.db")
    run = store.start_run(db, "crawl")
    content_type = "application/x-evil\x1b]0;owned\x07\x1b[2J\u202e"
    store.record_error(db, run, "not_html", url="http://s.example/a\x1b", message=f"skipped ({content_type})")
    store.record_notice(db, run, "canonical_offsite", url="http://s.example/b", message=f"n {content_type}")
    store.record_errors(db, run, "write_failed", [("s", "http://s.example/c", f"lost {content_type}")])
    store.record_fetch(db, "http://s.example/a", source_id=None, kind="rejected", reject_reason=f"not HTML ({content_type})")
    db.close()
    conn = sqlite3.connect(tmp_path / "x.db")
    stored = [*conn.execute("SELECT url, message FROM crawl_errors ORDER BY id"),
              *conn.execute("SELECT url, message FROM crawl_notices"),
              *conn.execute("SELECT url, reject_reason FROM crawl_state")]
    conn.close()
    assert stored == [("http://s.example/a", "skipped (application/x-evil]0;owned[2J)"),
                      ("http://s.example/c", "lost application/x-evil]0;owned[2J"),
                      ("http://s.example/b", "n application/x-evil]0;owned[2J"),
                      ("http://s.example/a", "not HTML (application/x-evil]0;owned[2J)")]


# ---------------------------------------------------------------------------------------------
# real crawls
# ---------------------------------------------------------------------------------------------

PUBLISHED = "2026-11-20T08:00:00Z"
EVIL_TYPE = "application/octet-stream\x1b[2J\x1b]0;owned\x07"
LONG_TITLE = "Budget " + "a" * 100_000
WORDY_TITLE = "Council approves the new budget " * 3000
HUGE_DESCRIPTION = "Crews were called to the barn fire at dawn. " * 25_000  # 1.1 MB
CONTROL_TITLE = ("Council \u202evo\u200bte\u202c on \u2066the\u2069 \x85bud\u2060get\x9b p\u061cl\u200fa\ufeffn\u00ad "
                 "\U0001f468\u200d\U0001f469\u200d\U0001f467")


class HostileTextSite:
    """Pages on 127.0.0.1: a home page linking to the article pages below and to a page whose
    Content-Type carries ESC and BEL."""

    def __init__(self):
        self.server = start_local_site(self.respond)
        self.base = self.server.base
        _title, self.paragraphs = corpus_story("gov-001")
        self.pages = {
            "/news/long-title/": self.article("/news/long-title/", LONG_TITLE),
            "/news/wordy-title/": self.article("/news/wordy-title/", WORDY_TITLE, corpus_story("gov-010")[1]),
            "/news/token/": self.article("/news/token/", corpus_story("gov-005")[0],
                                         [*corpus_story("gov-005")[1], "x" * 1_000_000]),
            "/news/long-description/": article_html(
                self.base, "/news/long-description/", corpus_story("gov-011")[0], corpus_story("gov-011")[1],
                PUBLISHED, extra_head=f'<meta property="og:description" content="{HUGE_DESCRIPTION}">'),
            "/news/controls/": self.article(
                "/news/controls/\u202eevil\u2069/", CONTROL_TITLE,
                [*corpus_story("gov-003")[1], "Said \u202eevil\u202c words \x9b31m and \u2067more\u2069.",
                 "The \u200bH\u200dW\u200cFRS team \U0001f468\u200d\U0001f469\u200d\U0001f467 cheered."]),
        }
        links = "".join(f'<a href="{path}">{path}</a> ' for path in [*self.pages, "/news/evil-type/"])
        self.home = f"<html><body>{links}</body></html>"

    def article(self, path: str, title: str, paragraphs: list[str] | None = None) -> str:
        return article_html(self.base, path, title, paragraphs or self.paragraphs, PUBLISHED)

    def respond(self, request) -> Reply | None:
        if request.path == "/news/evil-type/":
            return 200, {"Content-Type": EVIL_TYPE}, b"\x00\x01binary"
        if request.path == "/":
            return 200, {"Content-Type": HTML}, self.home
        page = self.pages.get(request.path)
        return None if page is None else (200, {"Content-Type": HTML}, page)

    def sources_toml(self, path, extra: str = ""):
        path.write_text(f'[crawl]\ntimeout = 20\nmax_depth = 1\n{extra}\n[[source]]\nid = "h"\nname = "H"\n'
                        f'home = "{self.base}/"\nallow = ["^/news/"]\nlocal = true\n', encoding="utf-8")
        return path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.stop()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """One crawl with the default settings, one with an extraction timeout no page can meet."""
    root = tmp_path_factory.mktemp("hostile-text")
    with HostileTextSite() as site:
        result = run_cli("--db", str(root / "t.db"), "crawl", "--sources", str(site.sources_toml(root / "s.toml")),
                         "--no-politeness", "--since", "all", env={"CUTTINGS_HOME": str(root / "home")})
        timed = run_cli("--db", str(root / "timeout.db"), "crawl", "--sources",
                        str(site.sources_toml(root / "timeout.toml", "extract_timeout = 0.001")),
                        "--no-politeness", "--since", "all", env={"CUTTINGS_HOME": str(root / "home2")})
        yield {"db": root / "t.db", "result": result, "timed": timed, "timeout_db": root / "timeout.db",
               "log": root / "home" / "logs" / "cuttings.log", "base": site.base}


@pytest.mark.slow
def test_crawl_stores_capped_titles_and_is_not_held_by_long_text(crawled):
    assert crawled["result"].returncode == 0, crawled["result"].stderr.decode()[-3000:]
    titles = {row["canonical_url"].removeprefix(crawled["base"]): row["title"]
              for row in query_rows(crawled["db"], "SELECT canonical_url, title FROM articles")}
    assert titles["/news/long-title"] == "Budget " + "a" * (TITLE_MAX_CHARS - 8) + ELLIPSIS
    wordy = titles["/news/wordy-title"]
    assert len(wordy) <= TITLE_MAX_CHARS and wordy.endswith("budget" + ELLIPSIS)
    assert WORDY_TITLE.startswith(wordy[:-1] + " ")
    assert titles["/news/token"] == corpus_story("gov-005")[0]
    [body] = [r["body"] for r in query_rows(crawled["db"], "SELECT body FROM articles WHERE canonical_url LIKE '%/token'")]
    assert "x" * 1_000_000 in body
    [row] = query_rows(crawled["db"], "SELECT title, description, body FROM articles "
                                      "WHERE canonical_url LIKE '%/long-description'")
    assert len(row["description"]) <= DESCRIPTION_MAX_CHARS and row["description"].endswith(ELLIPSIS)
    assert HUGE_DESCRIPTION.startswith(row["description"][:-1] + " ")  # cut at a word
    assert row["title"] == corpus_story("gov-011")[0] and row["body"] == "\n\n".join(corpus_story("gov-011")[1])
    log = crawled["log"].read_text(encoding="utf-8")
    assert "Scraped from" not in log and "a" * 2000 not in log  # the item is not logged (nor its title)


@pytest.mark.slow
def test_crawl_strips_controls_from_text_and_canonical_url(crawled):
    [row] = query_rows(crawled["db"], "SELECT * FROM articles WHERE title LIKE 'Council %vote%'")
    assert row["title"] == "Council vote on the budget plan \U0001f468\u200d\U0001f469\u200d\U0001f467"  # joiners kept
    assert row["canonical_url"] == crawled["base"] + "/news/controls/evil"
    assert row["url"] == crawled["base"] + "/news/controls/"
    assert "Said evil words 31m and more." in row["body"]
    assert "The HWFRS team \U0001f468" in row["body"]
    for table, columns in (("articles", ("title", "body", "author", "description", "canonical_url")),
                           ("article_authors", ("name",)), ("crawl_errors", ("url", "message")),
                           ("crawl_notices", ("url", "message")), ("crawl_state", ("url", "reject_reason"))):
        for stored in query_rows(crawled["db"], f"SELECT {', '.join(columns)} FROM {table}"):  # noqa: S608 - test tables
            for column, value in stored.items():
                assert value is None or strip_controls(value) == value, (table, column, value[:200])


@pytest.mark.slow
def test_crawl_stores_a_hostile_content_type_without_escapes(crawled):
    [error] = query_rows(crawled["db"], "SELECT * FROM crawl_errors WHERE kind = 'not_html'")
    assert error["url"] == crawled["base"] + "/news/evil-type/"
    assert error["message"] == "skipped non-HTML content (application/octet-stream[2J]0;owned)"
    [state] = query_rows(crawled["db"], "SELECT reject_reason FROM crawl_state WHERE url LIKE '%/news/evil-type%'")
    assert state["reject_reason"] == "not HTML (application/octet-stream[2J]0;owned)"


@pytest.mark.slow
def test_extraction_over_its_timeout_is_an_error_not_a_hang(crawled):
    """With a timeout no extraction can meet, every article page is an ``extract_failed`` error
    naming the timeout; the crawl goes on (each timed-out worker is replaced) and ends."""
    assert crawled["timed"].returncode == 0, crawled["timed"].stderr.decode()[-3000:]
    errors = query_rows(crawled["timeout_db"], "SELECT url, message FROM crawl_errors WHERE kind = 'extract_failed'")
    assert sorted(e["url"].removeprefix(crawled["base"]) for e in errors) == [
        "/news/controls/", "/news/long-description/", "/news/long-title/", "/news/token/", "/news/wordy-title/"]
    assert {e["message"] for e in errors} == {
        "ExtractionTimedOut: extraction took longer than 0.001 s ([crawl] extract_timeout)"}
    assert query_rows(crawled["timeout_db"], "SELECT id FROM articles") == []
    [run] = query_rows(crawled["timeout_db"], "SELECT status, errors FROM crawl_runs")
    assert run == {"status": "partial", "errors": 6}  # five timed out, one not HTML
