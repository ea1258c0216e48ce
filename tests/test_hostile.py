"""Hostile pages: markup and SQL in crawled text are stored verbatim as text, never run or
interpolated, and come out escaped in the digest (HTML, Markdown), the exports and Datasette."""
from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import sqlite3

import pytest

from cuttings.demo import serve_directory
from tests.conftest import run_cli
from tests.ops_support import sources_for

pytestmark = pytest.mark.slow

SCRIPT_TITLE = "Fire chief <script>alert(1)</script> warns of cuts to Hereford and Worcester Fire and Rescue Service"
SQL_TITLE = "Fire authority's budget'); DROP TABLE articles;-- approved by Shropshire Fire and Rescue Service"
IMG_TEXT = '<img src=x onerror="alert(2)">'

SCRIPT_PARAGRAPHS = [
    "Hereford and Worcester Fire and Rescue Service warns it could be forced to close two stations next year "
    "because its budget will not cover the cost of running every engine through the winter.",
    f"A campaigner posted the markup {IMG_TEXT} in a comment, which this story quotes as text.",
    "The fire authority will meet on Thursday to discuss the plans, which union officials say would leave "
    "rural villages waiting longer for a crew in an emergency.",
    "Shropshire Fire and Rescue Service has faced similar pressures and has already reduced the number of "
    "on-call crews it keeps available overnight across the county.",
    "The chief fire officer said no decision had yet been taken and that residents would be consulted before "
    "any station closed.",
]
SQL_PARAGRAPHS = [
    "Shropshire Fire and Rescue Service will spend more on training next year after the fire authority agreed "
    "its budget at a meeting in Shrewsbury on Wednesday evening.",
    f"One councillor's amendment, circulated as {IMG_TEXT} by a prankster, was ruled out of order.",
    "Members voted to raise the fire precept by just under three per cent, the most allowed without a "
    "referendum, to pay for new breathing apparatus and two replacement engines.",
    "The treasurer warned that reserves would fall below the recommended level within three years unless the "
    "government changed the way it funds rural fire services.",
    "West Mercia Police and Crime Commissioner John Campion, who has argued for a single governance model, "
    "said he would study the figures closely.",
]


def article_page(title: str, day: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    # a real <img onerror> and <script> in the page as well: markup, not text, must not reach the store
    body += '<p>Crews at work <img src="x" onerror="alert(3)"> yesterday.</p><script>alert(4)</script>'
    escaped = html.escape(title)
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                     "datePublished": f"{day}T08:00:00Z"}).replace("</", "<\\/")
    return f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{escaped}</title>
<meta property="og:type" content="article"><meta property="og:title" content="{escaped}">
<script type="application/ld+json">{ld}</script></head>
<body><main><article><h1>{escaped}</h1><p class="byline">By A Reporter</p>
<time datetime="{day}T08:00:00Z">{day}</time><div class="story-body">{body}</div></article></main></body></html>"""


def build_site(root):
    site = root / "hostile"
    stories = [("2026-11-20", "script-title", SCRIPT_TITLE, SCRIPT_PARAGRAPHS),
               ("2026-11-21", "sql-title", SQL_TITLE, SQL_PARAGRAPHS)]
    items = []
    for day, slug, title, paragraphs in stories:
        path = site / "news" / day.replace("-", "/") / slug
        path.mkdir(parents=True)
        (path / "index.html").write_text(article_page(title, day, paragraphs), encoding="utf-8")
        items.append(f"<item><title>{html.escape(title)}</title><link>/hostile/news/{day.replace('-', '/')}/{slug}/"
                     f"</link><pubDate>{day}</pubDate></item>")
    (site / "feed.xml").write_text('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                                   f'<title>Hostile</title><link>/hostile/</link>{"".join(items)}</channel></rss>',
                                   encoding="utf-8")
    (site / "index.html").write_text("<html><body><a href='news/'>news</a></body></html>")
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    template = root / "template.toml"
    template.write_text('[[source]]\nid = "hostile"\nname = "Hostile Gazette"\nhome = "{base}/hostile/"\n'
                        'feeds = ["{base}/hostile/feed.xml"]\n'
                        "allow = ['/hostile/news/\\d{4}/\\d{2}/\\d{2}/[a-z-]+/$']\nverified = true\n")
    return template


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, trained_models):
    root = tmp_path_factory.mktemp("hostile")
    site_dir = root / "site"
    site_dir.mkdir()
    template = build_site(site_dir)
    db = root / "h.db"
    env = {"CUTTINGS_MODELS": str(trained_models)}
    with serve_directory(site_dir) as base:
        sources = sources_for(base, root / "sources.toml", template)
        crawl = run_cli("--db", str(db), "crawl", "--sources", str(sources), "--no-politeness", "--since", "all")
    assert crawl.returncode == 0, crawl.stderr.decode()[-3000:]
    for stage in ("analyse", "classify"):
        result = run_cli("--db", str(db), stage, env=env)
        assert result.returncode == 0, result.stderr.decode()[-3000:]
    commands = run_cli("--help").stdout.decode()
    return {"db": db, "root": root, "env": env, "commands": commands}


def titles(db):
    conn = sqlite3.connect(db)
    rows = dict(conn.execute("SELECT title, body FROM articles"))
    conn.close()
    return rows


def test_stored_verbatim_as_text(hostile):
    stored = titles(hostile["db"])
    assert set(stored) == {SCRIPT_TITLE, SQL_TITLE}
    for body in stored.values():
        assert IMG_TEXT in body  # text that looks like markup is kept as text
        assert "alert(3)" not in body and "alert(4)" not in body  # real markup is not text
    conn = sqlite3.connect(hostile["db"])
    assert conn.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NULL").fetchone()[0] == 2
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # full-text search finds the words, the triggers did not choke on the quotes
    assert conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'DROP'").fetchone()[0] == 1
    conn.close()


def needs(hostile, command):
    if f"  {command} " not in hostile["commands"]:
        pytest.skip(f"`cuttings {command}` is not registered in this checkout")


def test_digest_escapes_markup(hostile):
    needs(hostile, "report")
    out = hostile["root"] / "reports"
    result = run_cli("--db", str(hostile["db"]), "report", "--since", "2026-01-01", "--out", str(out),
                     "--no-record")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    page = next(out.glob("*.html")).read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "<img src=x onerror" not in page
    assert "DROP TABLE articles" in page
    markdown = next(out.glob("*.md")).read_text()
    assert "Fire chief" in markdown
    assert "<script>" not in markdown and "<img" not in markdown  # raw HTML would run in a Markdown viewer


def test_exports_carry_text_verbatim(hostile):
    needs(hostile, "export")
    as_csv = run_cli("--db", str(hostile["db"]), "export", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr.decode()
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout.decode())))
    assert {SCRIPT_TITLE, SQL_TITLE} <= {row["title"] for row in rows}
    as_jsonl = run_cli("--db", str(hostile["db"]), "export", "--format", "jsonl")
    records = [json.loads(line) for line in as_jsonl.stdout.decode().splitlines() if line.strip()]
    assert {SCRIPT_TITLE, SQL_TITLE} <= {record["title"] for record in records}


def test_datasette_html_escapes_markup(hostile):
    datasette_app = pytest.importorskip("datasette.app")
    conn = sqlite3.connect(hostile["db"])
    article_id = conn.execute("SELECT id FROM articles WHERE title = ?", [SCRIPT_TITLE]).fetchone()[0]
    conn.close()

    async def fetch():
        ds = datasette_app.Datasette([str(hostile["db"])], immutables=[])
        name = hostile["db"].stem
        row = await ds.client.get(f"/{name}/articles/{article_id}")
        table = await ds.client.get(f"/{name}/articles")
        search = await ds.client.get(f"/{name}/articles.json?_search=DROP&_shape=array")
        return row, table, search

    row, table, search = asyncio.run(fetch())
    assert row.status_code == 200 and table.status_code == 200
    for page in (row.text, table.text):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert(1)" not in page
    assert "&lt;img src=x onerror=" in row.text and '<img src=x onerror="alert(2)">' not in row.text
    assert "DROP TABLE articles;--" in table.text
    assert [r["title"] for r in search.json()] == [SQL_TITLE]  # full-text search with the hostile word
