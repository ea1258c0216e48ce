"""A hostile outlet must not take another outlet's story over: real crawls of two outlets on 127.0.0.1.

Legit Times publishes a story; Hostile Two republishes the same paragraphs under its own headline
("Flower show dates confirmed"), declaring a publication time two hours earlier, then rewrites its
page to other text.

* Crawled in separate runs (legit first): the stored original is not re-parented onto the page
  crawled later by its declared date alone (``crawler.revisions.may_displace``).
* Crawled in one run: the earlier declared date makes the hostile page the original (crawl order
  within a run says nothing), but once it is revised to other text the legit story is released
  (``crawler.revisions.regroup_after_revision``): its own headline in article_summary, its
  mentions in entity_daily after `cuttings analyse`.
"""
from __future__ import annotations

import datetime as dt
import html
import sqlite3

import pytest

from cuttings.demo import serve_directory
from tests.conftest import query_rows, run_cli

pytestmark = pytest.mark.slow

REAL = ["West Mercia Police Chief Constable Pippa Mills has announced an independent review of call handling after "
        "three 999 calls from Ludlow went unanswered for more than ten minutes during the storm on Saturday night.",
        "The review will be led by a senior officer from another force and will report to the Police and Crime "
        "Commissioner John Campion by the end of January, the force said in a statement on Monday morning.",
        "Families of two of the callers told this newspaper they had been left terrified while waiting for help, "
        "and that the response when it came had been professional but far too slow for a rural emergency.",
        "\u201cWe have let these families down and I am determined to understand exactly why,\u201d said Pippa Mills, "
        "chief constable of West Mercia Police."]
OTHER = ["Shrewsbury flower show organisers have confirmed the dates for next summer and promised more space for "
         "local growers, with a new marquee on the riverside field and longer opening hours on the Saturday.",
         "Tickets go on sale in March, and the organisers say prices will be held at this year's level for "
         "families, pensioners and students, despite rising costs for staging, security and cleaning.",
         "The show has run for more than a century and draws visitors from across the Marches and mid Wales, "
         "filling hotels and guest houses in the town for the whole of the August bank holiday weekend."]
LEGIT_TITLE = "Police chief orders review after unanswered 999 calls in Ludlow"
HOSTILE_TITLE = "Flower show dates confirmed"
# yesterday: inside the revisit window (the revised page is fetched again), never in the future
DAY = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).strftime("%Y-%m-%d")
SOURCE = """
[[source]]
id = "{id}"
name = "{name}"
home = "{base}/{id}/"
feeds = ["{base}/{id}/feed.xml"]
allow = ['/{id}/news/']
verified = true
local = true
"""

def write_page(root, site, slug, title, time_of_day, paragraphs):
    date = f"{DAY}T{time_of_day}Z"
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    page = root / site / "news" / slug
    page.mkdir(parents=True, exist_ok=True)
    (page / "index.html").write_text(
        f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta property="og:type" content="article"><meta property="article:published_time" content="{date}">'
        f'</head><body><main><article><h1>{html.escape(title)}</h1><time datetime="{date}">{DAY}</time>'
        f'<div class="story-body">{body}</div></article></main></body></html>', encoding="utf-8")
    (root / site / "feed.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{site}</title><link>/{site}/</link>'
        f'<item><title>t</title><link>/{site}/news/{slug}/</link></item></channel></rss>', encoding="utf-8")


def build(root):
    write_page(root, "legit", "police-review", LEGIT_TITLE, "08:00:00", REAL)
    write_page(root, "hostile2", "press", HOSTILE_TITLE, "06:00:00", REAL)   # the same text, "earlier"
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")


def rewrite_hostile(root):
    write_page(root, "hostile2", "press", HOSTILE_TITLE, "11:00:00", OTHER)


def sources(tmp, base, *ids):
    names = {"legit": "Legit Times", "hostile2": "Hostile Two"}
    path = tmp / f"sources-{'-'.join(ids)}.toml"
    path.write_text("[crawl]\nmin_article_words = 60\n" + "".join(
        SOURCE.format(id=source_id, name=names[source_id], base=base) for source_id in ids), encoding="utf-8")
    return path


def crawl(db, sources_path):
    result = run_cli("--db", str(db), "crawl", "--sources", str(sources_path), "--no-politeness", "--since", "all")
    assert result.returncode == 0, result.stderr.decode()[-3000:]


def groups(db):
    """{source_id: (title, source_id of its original or None)}"""
    rows = query_rows(db, "SELECT a.source_id, a.title, o.source_id AS parent FROM articles a "
                          "LEFT JOIN articles o ON o.id = a.duplicate_of")
    return {row["source_id"]: (row["title"], row["parent"]) for row in rows}


def summary_titles(db):
    return sorted(row["title"] for row in query_rows(db, "SELECT title FROM article_summary"))


def digest(db, out):
    result = run_cli("--db", str(db), "report", "--since", "2026-01-01", "--format", "md", "--out", str(out),
                     "--no-record")
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return next(out.glob("*.md")).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def separate_runs(tmp_path_factory):
    """legit crawled in one run, hostile2 in the next (state after each), then hostile2 revised."""
    tmp = tmp_path_factory.mktemp("takeover-runs")
    site = tmp / "site"
    build(site)
    db = tmp / "t.db"
    states = []
    with serve_directory(site) as base:
        crawl(db, sources(tmp, base, "legit"))
        crawl(db, sources(tmp, base, "hostile2"))
        states.append(groups(db))
        rewrite_hostile(site)
        crawl(db, sources(tmp, base, "hostile2"))
        states.append(groups(db))
    return db, states


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    """Both outlets crawled in one run, then hostile2 revised and crawled again, then analysed."""
    tmp = tmp_path_factory.mktemp("takeover-one-run")
    site = tmp / "site"
    build(site)
    db = tmp / "t.db"
    states = []
    with serve_directory(site) as base:
        both = sources(tmp, base, "legit", "hostile2")
        crawl(db, both)
        states.append((groups(db), summary_titles(db), digest(db, tmp / "reports")))
        rewrite_hostile(site)
        crawl(db, both)
        states.append((groups(db), summary_titles(db), None))
    result = run_cli("--db", str(db), "analyse")
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return db, states


def test_a_page_crawled_in_a_later_run_does_not_take_a_stored_story_over(separate_runs):
    _, (after_copy, _) = separate_runs
    assert after_copy == {"legit": (LEGIT_TITLE, None), "hostile2": (HOSTILE_TITLE, "legit")}


def test_the_rewritten_copy_becomes_a_story_of_its_own(separate_runs):
    db, (_, after_rewrite) = separate_runs
    assert after_rewrite == {"legit": (LEGIT_TITLE, None), "hostile2": (HOSTILE_TITLE, None)}
    assert summary_titles(db) == sorted([LEGIT_TITLE, HOSTILE_TITLE])
    [notice] = query_rows(db, "SELECT source_id, url, message FROM crawl_notices WHERE kind = 'copy_released'")
    assert notice["source_id"] == "hostile2" and notice["url"].endswith("/hostile2/news/press")
    assert "a story of its own" in notice["message"]


def test_in_one_run_the_earlier_declared_date_is_the_original(one_run):
    _, [(first, titles, markdown), _] = one_run
    # crawl order within a run says nothing: the earlier declared date is the original (agency copies)
    assert first == {"legit": (LEGIT_TITLE, "hostile2"), "hostile2": (HOSTILE_TITLE, None)}
    assert titles == [HOSTILE_TITLE]
    # ... but the digest names the copy's own headline: the legit story is not hidden under the other
    assert f"Also ran in Legit Times as “{LEGIT_TITLE}”" in markdown


def test_revising_the_original_to_other_text_releases_the_copy(one_run):
    db, [_, (second, titles, _)] = one_run
    assert second == {"legit": (LEGIT_TITLE, None), "hostile2": (HOSTILE_TITLE, None)}
    assert titles == sorted([LEGIT_TITLE, HOSTILE_TITLE])
    [legit] = query_rows(db, "SELECT similarity, version FROM articles WHERE source_id = 'legit'")
    assert legit == {"similarity": None, "version": 1}
    [notice] = query_rows(db, "SELECT source_id, message FROM crawl_notices WHERE kind = 'copy_released'")
    assert notice["source_id"] == "legit" and "revised to other text" in notice["message"]


def test_the_released_story_is_analysed_under_its_own_headline(one_run):
    db, _ = one_run
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    legit = conn.execute("SELECT * FROM article_summary WHERE title = ?", [LEGIT_TITLE]).fetchone()
    assert legit["outlet"] == "Legit Times" and "West Mercia Police" in legit["bodies"]
    police = conn.execute("SELECT sum(articles) FROM entity_daily WHERE body LIKE 'West Mercia Police%' AND day = ?",
                          [DAY]).fetchone()[0]
    assert police == 1   # the legit story (the flower show page mentions no watched body)
    speakers = {row[0] for row in conn.execute("SELECT speaker FROM quotes_by_speaker WHERE title = ?", [LEGIT_TITLE])}
    assert "Pippa Mills" in speakers
    conn.close()
