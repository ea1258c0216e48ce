"""A real crawl of one outlet rewording one story six times (red team, session 13): a filler word before
every fourth word breaks every 5-word shingle, so each page was stored as a new story; now the pages
after the first are copies of it (crawler.dedupe's same-source content-word test)."""
from __future__ import annotations

import html
import sqlite3

import pytest

from cuttings.demo import serve_directory
from tests.conftest import run_cli
from tests.ops_support import sources_for
from tests.test_dedupe import reworded

pytestmark = pytest.mark.slow

OTHER = ("Hereford and Worcester Fire and Rescue Service opened its new training centre at Droitwich on Monday, "
         "where on-call firefighters from across both counties will practise rescues from cars and rivers. The "
         "centre cost four million pounds and replaces a yard the service had used since the nineteen seventies. "
         "The chief fire officer said crews would no longer have to travel to Wales for water rescue courses, and "
         "that the building would also host first aid lessons for schools, scout groups and village halls. Local "
         "councillors welcomed the opening but asked how the running costs would be met after the first year.")


def _page(title: str, published: str, text: str) -> str:
    return (f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta property="og:type" content="article"><meta property="article:published_time" content="{published}">'
            f'</head><body><article><h1>{html.escape(title)}</h1><div class="story-body"><p>{html.escape(text)}</p>'
            "</div></article></body></html>")


def test_one_outlets_rewordings_are_stored_as_copies_of_one_story(tmp_path):
    site = tmp_path / "site"
    pages = [(f"s{n}", f"Commissioner under fire over leaked takeover report (update {n})",
              f"2026-12-06T{8 + n:02d}:00:00Z", reworded(n)) for n in range(6)]
    pages.append(("centre", "Fire service opens training centre", "2026-12-06T15:00:00Z", OTHER))
    links = []
    for slug, title, published, text in pages:
        folder = site / "flood" / "news" / slug
        folder.mkdir(parents=True)
        (folder / "index.html").write_text(_page(title, published, text), encoding="utf-8")
        links.append(f"<item><title>{html.escape(title)}</title><link>/flood/news/{slug}/</link></item>")
    (site / "flood" / "feed.xml").write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>Flood</title>'
                                             f'<link>/flood/</link>{"".join(links)}</channel></rss>', encoding="utf-8")
    (site / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    template = tmp_path / "template.toml"
    template.write_text('[[source]]\nid = "flood"\nname = "Hostile Three"\nhome = "{base}/flood/"\n'
                        'feeds = ["{base}/flood/feed.xml"]\nallow = [\'/flood/news/\']\nverified = true\nlocal = true\n')
    db = tmp_path / "flood.db"
    with serve_directory(site) as base:
        crawl = run_cli("--db", str(db), "crawl", "--sources", str(sources_for(base, tmp_path / "sources.toml", template)),
                        "--no-politeness", "--since", "all")
    assert crawl.returncode == 0, crawl.stderr.decode()[-3000:]
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT title, duplicate_of, similarity, id FROM articles ORDER BY published_at").fetchall()
    conn.close()
    assert len(rows) == 7
    by_title = {title: (duplicate_of, similarity, article_id) for title, duplicate_of, similarity, article_id in rows}
    first = by_title["Commissioner under fire over leaked takeover report (update 0)"]
    assert first[0] is None   # the first published is the story
    copies = [value for title, value in by_title.items() if "(update" in title and "(update 0)" not in title]
    assert len(copies) == 5 and all(duplicate_of == first[2] and similarity >= 0.6 for duplicate_of, similarity, _ in copies)
    assert by_title["Fire service opens training centre"][0] is None   # the outlet's other story stays a story
