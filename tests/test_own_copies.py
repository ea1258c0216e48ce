"""An outlet's own copies of its story are not syndication: real crawls on 127.0.0.1.

Solo News lists one story under four query strings (``?variant=0..3``, the server ignores them) and
re-posts another story under a second address with a line added; Sister Paper runs a copy of the
first story. The query-string variants are one article (``crawler.revisions.query_variant_of``); the
re-post is stored as a copy, but neither makes a story "syndicated": article_summary.syndicated_copies
and the syndication view count other outlets only (migration m020).
"""
from __future__ import annotations

import html

import pytest

from cuttings.demo import serve_directory
from tests.conftest import query_rows, run_cli

pytestmark = pytest.mark.slow

STORY = ("West Mercia Police and Crime Commissioner John Campion faces fresh criticism after a leaked report showed "
         "the fire governance takeover would cost far more than the public were told. Councillors on the police "
         "and crime panel said they had lost confidence in the commissioner and called for an urgent meeting. "
         "Hereford and Worcester Fire and Rescue Service said it had not seen the report. The union said crews "
         "were angry and that the plan should be scrapped before any more money was wasted on it.")
OTHER = ("Shropshire Fire and Rescue Service will spend more on training next year after the fire authority agreed "
         "its budget at a meeting in Shrewsbury on Wednesday evening. Members voted to raise the fire precept by "
         "just under three per cent, the most allowed without a referendum, to pay for new breathing apparatus "
         "and two replacement engines. The treasurer warned that reserves would fall below the recommended level "
         "within three years unless the government changed the way rural fire services are funded.")
SOURCE = """
[[source]]
id = "{id}"
name = "{name}"
home = "{{base}}/{id}/"
feeds = ["{{base}}/{id}/feed.xml"]
allow = ['/{id}/news/']
verified = true
local = true
"""


def write_site(root, site, pages, links):
    for slug, (title, text, *time) in pages.items():
        folder = root / site / "news" / slug
        folder.mkdir(parents=True)
        (folder / "index.html").write_text(
            f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            '<meta property="og:type" content="article">'
            f'<meta property="article:published_time" content="2026-11-20T{time[0] if time else "08:00"}:00Z"></head>'
            f'<body><article><h1>{html.escape(title)}</h1><div class="story-body"><p>{html.escape(text)}</p></div>'
            '</article></body></html>', encoding="utf-8")
    (root / site / "feed.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{site}</title><link>/{site}/</link>'
        + "".join(f"<item><title>t</title><link>/{site}/news/{link}</link></item>" for link in links)
        + "</channel></rss>", encoding="utf-8")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("own-copies")
    site = tmp / "site"
    write_site(site, "solo", {"leak": ("Commissioner under fire over leaked report", STORY),
                              "budget": ("Fire budget agreed", OTHER),
                              "budget-again": ("Fire budget agreed (updated)", OTHER + " More follows.", "10:00")},
               [f"leak/?variant={n}" for n in range(4)] + ["budget/", "budget-again/"])
    write_site(site, "sister", {"leak-copy": ("Leaked report: commissioner criticised",
                                              STORY + " This story first appeared in Solo News.", "09:00")}, ["leak-copy/"])
    (site / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    db = tmp / "o.db"
    with serve_directory(site) as base:
        sources = tmp / "sources.toml"
        sources.write_text("[crawl]\nmin_article_words = 60\n" + "".join(
            SOURCE.format(id=source_id, name=name) for source_id, name in (("solo", "Solo News"),
                                                                           ("sister", "Sister Paper"))
        ).replace("{base}", base), encoding="utf-8")
        result = run_cli("--db", str(db), "crawl", "--sources", str(sources), "--no-politeness", "--since", "all")
        assert result.returncode == 0, result.stderr.decode()[-3000:]
    return db


def test_query_string_variants_of_one_page_are_one_article(crawled):
    rows = query_rows(crawled, "SELECT id, canonical_url FROM articles WHERE canonical_url LIKE '%/solo/news/leak%'")
    assert len(rows) == 1 and "/solo/news/leak?variant=" in rows[0]["canonical_url"]   # the one fetched first
    state = query_rows(crawled, "SELECT url, article_id FROM crawl_state WHERE url LIKE '%/solo/news/leak%'")
    assert len(state) == 4 and {row["article_id"] for row in state} == {rows[0]["id"]}


def test_the_outlets_own_copies_are_not_syndicated_copies(crawled):
    summary = {row["title"]: row for row in query_rows(
        crawled, "SELECT title, outlet, syndicated_copies FROM article_summary")}
    assert set(summary) == {"Commissioner under fire over leaked report", "Fire budget agreed"}
    assert summary["Commissioner under fire over leaked report"]["syndicated_copies"] == 1   # the sister paper
    assert summary["Fire budget agreed"]["syndicated_copies"] == 0   # its own re-post only
    [again] = query_rows(crawled, "SELECT a.duplicate_of, o.title FROM articles a JOIN articles o "
                                  "ON o.id = a.duplicate_of WHERE a.title = 'Fire budget agreed (updated)'")
    assert again["title"] == "Fire budget agreed"   # still folded under the story: counted once


def test_syndication_view_lists_only_stories_other_outlets_ran(crawled):
    [row] = query_rows(crawled, "SELECT title, outlets, n_outlets, copies FROM syndication")
    assert row["title"] == "Commissioner under fire over leaked report"
    assert sorted(row["outlets"].split(", ")) == ["Sister Paper", "Solo News"]   # one run: in the order fetched
    assert (row["n_outlets"], row["copies"]) == (2, 1)
    a10 = query_rows(crawled, "SELECT first_outlet, count(*) AS stories_syndicated, sum(copies) AS copies_elsewhere "
                              "FROM syndication GROUP BY first_outlet ORDER BY stories_syndicated DESC")
    assert [(row["stories_syndicated"], row["copies_elsewhere"]) for row in a10] == [(1, 1)]
