"""A failed source is told by what its article requests did, by kind (``source_runs.article_requests*``,
``cuttings.failures.source_failed``): dead links (404/410) in a sitemap that answers are per-URL errors however
many there are, while a source that answers its sitemap but refuses its one new article page (403) or answers
5xx on every article page failed, with its cause in words. Real Scrapy crawls of a site on 127.0.0.1
(``faultserver.local_site``), a real SQLite database, the digest's text, `cuttings run`'s lines and exit code,
and `cuttings doctor`'s check."""
from __future__ import annotations

import sqlite3

from cuttings import doctor, report, store
from cuttings.failures import BLOCKED_AFTER_ERRORS, source_failed, source_failures
from faultserver import HTML, Reply, article_html, corpus_story, listing_html, local_site, run_crawl_cli
from tests.conftest import run_cli

PUBLISHED = "2025-01-10T08:00:00Z"   # outside the revisit window: a second night skips the stored stories
STORIES = ("t1-001", "t1-002", "t1-003")


class _Site:
    """``/news/<corpus id>/`` stories (:attr:`stories`) listed by the home page and the sitemap; the paths of
    :attr:`answers` are listed too (undated: new every night) and answer their status."""

    def __init__(self, stories=STORIES):
        self.stories = tuple(stories)
        self.answers: dict[str, int] = {}

    def __call__(self, request) -> Reply | None:
        base = f"http://127.0.0.1:{request.server.server_address[1]}"
        links = [f"/news/{story}/" for story in self.stories] + list(self.answers)
        if request.path == "/":
            return 200, {"Content-Type": HTML}, listing_html("Health News", links, None)
        if request.path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{base}{path}</loc>"
                           + ("" if path in self.answers else f"<lastmod>{PUBLISHED}</lastmod>") + "</url>"
                           for path in links)
            return 200, {"Content-Type": "application/xml"}, (
                '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{urls}</urlset>")
        if request.path in self.answers:
            return self.answers[request.path], {"Content-Type": HTML}, "<html><body>no</body></html>"
        story = request.path.strip("/").split("/")[-1]
        if request.path.startswith("/news/") and story in self.stories:
            title, paragraphs = corpus_story(story)
            return 200, {"Content-Type": HTML}, article_html(base, request.path, title, paragraphs, PUBLISHED)
        return None   # 404


def _sources(tmp_path, base: str):
    path = tmp_path / "sources.toml"
    path.write_text(f"""
[crawl]
timeout = 5
retry_times = 0

[[source]]
id = "health"
name = "Health News"
home = "{base}/"
sitemaps = ["{base}/sitemap.xml"]
allow = ['^/news/']
local = true
""", encoding="utf-8")
    return path


def _night_as_run(tmp_path, db_path, sources):
    """One `cuttings run`, crawl only (as cron runs it, less the other stages)."""
    result = run_cli("--db", str(db_path), "run", "--sources", str(sources), "--no-politeness", "--skip", "analyse",
                     "--skip", "classify", "--skip", "report", "--log-file", str(tmp_path / "run.log"))
    return result.returncode, result.stdout.decode() + result.stderr.decode()


def _last_crawl(db) -> tuple[dict, dict]:
    """The latest crawl run's row and its one source_runs row."""
    run = dict(next(db.query("SELECT * FROM crawl_runs WHERE command LIKE 'crawl%' ORDER BY id DESC LIMIT 1")))
    row = dict(next(db.query("SELECT * FROM source_runs WHERE crawl_run_id = ?", [run["id"]])))
    return run, row


def _needs_attention(digest) -> str:
    text = report.render_markdown(digest, plain=True)
    return text.split("Needs attention", 1)[1].split("new stories", 1)[0] if "Needs attention" in text else ""


def _doctor_failing(db_path) -> list:
    conn = sqlite3.connect(db_path)
    try:
        return [c for c in doctor.check_source_yield(conn, ["health"]) if c.name == "sources failing"]
    finally:
        conn.close()


def test_three_dead_links_and_nothing_new_is_not_a_failed_source(tmp_path):
    site = _Site()
    db_path = tmp_path / "dead.db"
    with local_site(site) as server:
        sources = _sources(tmp_path, server.base)
        run_crawl_cli(db_path, sources, since="all")                      # night 1: 3 stories
        site.answers = {"/news/gone-1/": 404, "/news/gone-2/": 404, "/news/gone-3/": 410}
        code, output = _night_as_run(tmp_path, db_path, sources)         # night 2: only 3 dead links new
        second_night = list(server.paths)
    assert sorted(path for path in second_night if "gone" in path) == ["/news/gone-1/", "/news/gone-2/",
                                                                        "/news/gone-3/"]
    db = store.connect(db_path)
    try:
        run, row = _last_crawl(db)
        kinds = store.run_errors_by_kind(db, run["id"])
        digest = report.build_digest(db)
    finally:
        db.close()
    assert kinds == {"http_404": 2, "http_410": 1}
    assert (row["errors"], row["articles_stored"], row["pages_fetched"]) == (BLOCKED_AFTER_ERRORS, 0, 0)
    assert (row["article_requests"], row["article_requests_failed"], row["article_requests_gone"],
            row["article_requests_blocked"]) == (3, 3, 3, 0)
    assert not source_failed(row)
    assert run["status"] == "partial"
    assert code == 4, output[-2000:]
    assert "3 errors on single URLs, every source was read" in output and "0 sources failed" in output
    assert "source health" not in output
    assert not [item for item in digest["attention"] if item["kind"] in ("source_failed", "sources_failed")]
    (warning,) = [w for w in digest["health"] if w["source_id"] == "health"]
    assert not warning.get("failed") and "errors: 2 http_404, 1 http_410" in warning["message"]
    assert "failed" not in _needs_attention(digest)
    assert _doctor_failing(db_path) == []


def test_a_sitemap_that_answers_and_its_one_new_article_refused_with_403_is_a_failed_source(tmp_path):
    site = _Site()
    db_path = tmp_path / "blocked.db"
    with local_site(site) as server:
        base = server.base
        sources = _sources(tmp_path, base)
        run_crawl_cli(db_path, sources, since="all")                      # night 1: 3 stories
        site.answers = {"/news/t1-004/": 403}
        code, output = _night_as_run(tmp_path, db_path, sources)         # night 2: its one new story refused
        second_night = list(server.paths)
    assert "/sitemap.xml" in second_night and second_night.count("/news/t1-004/") == 1
    db = store.connect(db_path)
    try:
        run, row = _last_crawl(db)
        digest = report.build_digest(db)
    finally:
        db.close()
    assert (row["errors"], row["articles_stored"], row["pages_fetched"], row["found_by_sitemap"]) == (1, 0, 0, 4)
    assert (row["article_requests"], row["article_requests_failed"], row["article_requests_gone"],
            row["article_requests_blocked"]) == (1, 1, 0, 1)
    assert source_failed(row)
    cause = f"HTTP 403 from {base[7:]} (blocked?)"
    # the crawl read nothing and its only source failed: the run failed (exit 2, its window does not move)
    assert run["status"] == "failed"
    assert code == 2, output[-2000:]
    assert f"source health: {cause}" in output and "1 source failed" in output
    (item,) = [item for item in digest["attention"] if item["kind"] == "source_failed"]
    assert item["source_id"] == "health"
    assert report.attention_text(item).startswith(f"Source Health News failed: {cause}")
    assert f"Source Health News failed: {cause}" in _needs_attention(digest)
    (check,) = _doctor_failing(db_path)
    assert "health (1 errors)" in check.message


def test_5xx_on_every_article_page_is_a_failed_source(tmp_path):
    site = _Site(stories=())
    site.answers = {"/news/a-1/": 500, "/news/a-2/": 503}
    db_path = tmp_path / "5xx.db"
    with local_site(site) as server:
        base = server.base
        sources = _sources(tmp_path, base)
        printed = run_crawl_cli(db_path, sources, since="all").stdout   # one night: both article pages 5xx
        fetched = list(server.paths)
    assert fetched.count("/news/a-1/") == 1 and fetched.count("/news/a-2/") == 1
    db = store.connect(db_path)
    try:
        run, row = _last_crawl(db)
        failures = source_failures(db, run["id"], [row])
        digest = report.build_digest(db)
    finally:
        db.close()
    assert (row["errors"], row["articles_stored"], row["pages_fetched"], row["found_by_sitemap"]) == (2, 0, 0, 2)
    assert (row["article_requests"], row["article_requests_failed"], row["article_requests_gone"],
            row["article_requests_blocked"]) == (2, 2, 0, 2)
    assert run["status"] == "failed", printed
    ((source_id, kind, words),) = failures
    assert source_id == "health" and kind in ("http_500", "http_503") and words == f"HTTP {kind[5:]} from {base[7:]}"
    (item,) = [item for item in digest["attention"] if item["kind"] == "source_failed"]
    assert report.attention_text(item).startswith(f"Source Health News failed: {words}")


def _row(**figures) -> dict:
    return {"source_id": "health", "found_by_feed": 0, "found_by_sitemap": 0, "found_by_links": 0,
            "found_by_search": 0, "pages_fetched": 0, "articles_stored": 0, "errors": 0, **figures}


def _counted(requests: int, *, gone: int = 0, blocked: int = 0, failed: int | None = None) -> dict:
    return {"article_requests": requests, "article_requests_failed": gone + blocked if failed is None else failed,
            "article_requests_gone": gone, "article_requests_blocked": blocked}


def test_source_failed_reads_what_the_article_requests_did():
    dead_links = _row(errors=5, found_by_sitemap=9, **_counted(5, gone=5))
    one_refused = _row(errors=1, found_by_sitemap=9, **_counted(1, blocked=1))
    refused_and_dead = _row(errors=3, found_by_sitemap=9, **_counted(3, gone=2, blocked=1))
    refused_but_one_read = _row(errors=1, found_by_sitemap=9, pages_fetched=1, **_counted(2, blocked=1))
    nothing_found = _row(errors=2, **_counted(0))                          # home, feeds, sitemaps unreachable
    other_failures = _row(errors=2, found_by_sitemap=2, **_counted(2, failed=2))   # say two pages over the cap
    discovery_error_only = _row(errors=3, found_by_sitemap=9, **_counted(0))   # a sitemap 503, all URLs known
    quiet = _row(found_by_sitemap=9, **_counted(0))
    assert [source_failed(row) for row in (dead_links, one_refused, refused_and_dead, refused_but_one_read,
                                           nothing_found, other_failures, discovery_error_only, quiet)] == \
        [False, True, True, False, True, False, False, False]


def test_source_failed_keeps_the_earlier_rule_for_rows_without_the_counts():
    """Rows of runs before migration m021 (the columns NULL) and rows built without them (a dict, an old
    database's sqlite3.Row) are judged by errors and found URLs, as before."""
    blocked = _row(errors=BLOCKED_AFTER_ERRORS, found_by_sitemap=12)
    dead_link = _row(errors=1, found_by_sitemap=1)
    unreachable = _row(errors=1)
    healthy = _row(found_by_feed=5, articles_stored=5, pages_fetched=5)
    rows = (blocked, dead_link, unreachable, {**blocked, "pages_fetched": 1}, healthy)
    assert [source_failed(row) for row in rows] == [True, False, True, False, False]
    nulls = {column: None for column in store.schema.SOURCE_RUN_ARTICLE_REQUESTS}
    assert [source_failed({**row, **nulls}) for row in rows] == [True, False, True, False, False]
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.execute("CREATE TABLE source_runs (source_id TEXT, found_by_sitemap INTEGER, pages_fetched INTEGER, "
                 "articles_stored INTEGER, errors INTEGER)")
    conn.execute("INSERT INTO source_runs VALUES ('health', 12, 0, 0, ?)", [BLOCKED_AFTER_ERRORS])
    assert source_failed(conn.execute("SELECT * FROM source_runs").fetchone())
    conn.close()


def test_the_cause_of_a_failed_source_is_the_refusal_not_its_commoner_dead_links(tmp_path):
    db = store.connect(tmp_path / "cause.db")
    try:
        run_id = store.start_run(db, "crawl")
        store.record_errors(db, run_id, "http_404", [("health", f"https://health.example/news/gone-{n}/", "HTTP 404")
                                                     for n in range(3)])
        store.record_errors(db, run_id, "http_429", [("health", "https://health.example/news/new/", "HTTP 429")])
        row = _row(crawl_run_id=run_id, errors=4, found_by_sitemap=9, **_counted(4, gone=3, blocked=1))
        assert source_failures(db, run_id, [row]) == [
            ("health", "http_429", "HTTP 429 from health.example (blocked?)")]
    finally:
        db.close()
