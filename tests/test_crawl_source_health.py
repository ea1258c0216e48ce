"""A failed source is told by what its article requests did, by kind (``source_runs.article_requests*``,
``cuttings.failures.source_failed``): dead links (404/410) in a sitemap that answers are per-URL errors however
many there are, as are one new article page answering 503, or one robots.txt disallows; a source that answers
its sitemap but refuses two or more article pages (5xx, mod_security's 406), or its one new article page and
its home page (403), failed, with its cause in words. Real Scrapy crawls of a site on 127.0.0.1
(``faultserver.local_site``), a real SQLite database, the digest's text, `cuttings run`'s lines and exit code,
and `cuttings doctor`'s check."""
from __future__ import annotations

import sqlite3

from cuttings import doctor, report, store
from cuttings.failures import BLOCKED_AFTER_ERRORS, BLOCKED_ARTICLES_FAILED, source_failed, source_failures
from faultserver import SitemapSite, local_site, run_crawl_cli, write_sources
from tests.conftest import run_cli


def _sources(tmp_path, base: str):
    return write_sources(tmp_path / "sources.toml", {
        "id": "health", "name": "Health News", "home": f"{base}/", "sitemaps": [f"{base}/sitemap.xml"],
        "allow": ["^/news/"], "local": True})


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


def _doctor_failing(db_path, name: str = "sources failing") -> list:
    conn = sqlite3.connect(db_path)
    try:
        return [c for c in doctor.check_source_yield(conn, ["health"]) if c.name == name]
    finally:
        conn.close()


def test_three_dead_links_and_nothing_new_is_not_a_failed_source(tmp_path):
    site = SitemapSite("Health News")
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


def _two_nights(tmp_path, site, answers: dict[str, int], name: str, **second_night) -> tuple:
    """Night 1 stores the 3 stories; night 2 (`cuttings run`) finds the paths of ``answers`` new, ``site``'s
    other attributes set from ``second_night``: (exit code, output, paths fetched on night 2, base URL,
    the crawl run, its source_runs row, the digest, doctor's "sources failing" checks)."""
    db_path = tmp_path / f"{name}.db"
    with local_site(site) as server:
        sources = _sources(tmp_path, server.base)
        run_crawl_cli(db_path, sources, since="all")
        site.answers = answers
        for attribute, value in second_night.items():
            setattr(site, attribute, value)
        server.paths.clear()
        code, output = _night_as_run(tmp_path, db_path, sources)
        fetched = list(server.paths)
    db = store.connect(db_path)
    try:
        run, row = _last_crawl(db)
        digest = report.build_digest(db)
    finally:
        db.close()
    return code, output, fetched, server.base, run, row, digest, _doctor_failing(db_path)


def _counts(row) -> tuple:
    return (row["article_requests"], row["article_requests_failed"], row["article_requests_gone"],
            row["article_requests_blocked"])


def _not_failed(code, output, run, row, digest, failing) -> None:
    """A source with a per-URL error and nothing else read: no failed source anywhere, the run partial (exit 4:
    its window moves on)."""
    assert not source_failed(row)
    assert run["status"] == "partial"
    assert code == 4, output[-2000:]
    assert "0 sources failed" in output and "source health" not in output
    assert not [item for item in digest["attention"] if item["kind"] in ("source_failed", "sources_failed")]
    assert "failed" not in _needs_attention(digest)
    assert failing == []


def test_one_new_article_answering_503_is_a_url_error_not_a_failed_source(tmp_path):
    code, output, fetched, _base, run, row, digest, failing = _two_nights(
        tmp_path, SitemapSite("Health News"), {"/news/t1-004/": 503}, "one503")
    assert "/sitemap.xml" in fetched and fetched.count("/news/t1-004/") == 1
    assert (row["errors"], row["articles_stored"], row["pages_fetched"], row["found_by_sitemap"]) == (1, 0, 0, 4)
    assert _counts(row) == (1, 1, 0, 1)
    _not_failed(code, output, run, row, digest, failing)
    assert _doctor_failing(tmp_path / "one503.db", "sources disallowed") == []


def test_one_new_article_robots_txt_disallows_is_not_a_failed_source(tmp_path):
    code, output, fetched, _base, run, row, digest, failing = _two_nights(
        tmp_path, SitemapSite("Health News"), {"/news/private-1/": 200}, "robots", disallow=["/news/private-"])
    assert "/robots.txt" in fetched and "/news/private-1/" not in fetched   # obeyed: never requested
    db = store.connect(tmp_path / "robots.db")
    try:
        assert store.run_errors_by_kind(db, run["id"]) == {"robots_disallowed": 1}
    finally:
        db.close()
    assert (row["errors"], row["articles_stored"], row["pages_fetched"], row["found_by_sitemap"]) == (1, 0, 0, 4)
    assert _counts(row) == (1, 1, 0, 0)    # failed, but neither gone nor blocked: the site's rule
    _not_failed(code, output, run, row, digest, failing)
    # every new page disallowed: a doctor note, not a failed source
    (note,) = _doctor_failing(tmp_path / "robots.db", "sources disallowed")
    assert note.status == "warning" and "health (1 page)" in note.message and "allow patterns" in note.fix


def test_two_new_articles_answering_503_are_a_failed_source(tmp_path):
    code, output, fetched, base, run, row, digest, failing = _two_nights(
        tmp_path, SitemapSite("Health News"), {"/news/t1-004/": 503, "/news/t1-005/": 503}, "two503")
    assert fetched.count("/news/t1-004/") == 1 and fetched.count("/news/t1-005/") == 1
    assert (row["errors"], row["articles_stored"], row["pages_fetched"], row["found_by_sitemap"]) == (2, 0, 0, 5)
    assert _counts(row) == (2, 2, 0, BLOCKED_ARTICLES_FAILED)
    assert source_failed(row)
    cause = f"HTTP 503 from {base[7:]}"
    # the crawl read nothing and its only source failed: the run failed (exit 2, its window does not move)
    assert run["status"] == "failed"
    assert code == 2, output[-2000:]
    assert "1 source failed" in output and cause in output
    (item,) = [item for item in digest["attention"] if item["kind"] == "source_failed"]
    assert report.attention_text(item).startswith(f"Source Health News failed: {cause}")
    (check,) = failing
    assert "health (2 errors)" in check.message


def test_three_new_articles_answering_406_are_a_failed_source(tmp_path):
    """mod_security's usual answer to a crawler is 406 Not Acceptable: a 4xx other than 404/410 is a refusal."""
    code, output, _fetched, base, run, row, digest, failing = _two_nights(
        tmp_path, SitemapSite("Health News"), {f"/news/t1-00{n}/": 406 for n in (4, 5, 6)}, "three406")
    assert (row["errors"], row["articles_stored"], row["pages_fetched"], row["found_by_sitemap"]) == (3, 0, 0, 6)
    assert _counts(row) == (3, 3, 0, 3)
    assert source_failed(row)
    assert run["status"] == "failed"
    assert code == 2, output[-2000:]
    (item,) = [item for item in digest["attention"] if item["kind"] == "source_failed"]
    assert report.attention_text(item).startswith(f"Source Health News failed: HTTP 406 from {base[7:]}")
    (check,) = failing
    assert "health (3 errors)" in check.message


def test_its_one_new_article_and_its_home_page_refused_with_403_is_a_failed_source(tmp_path):
    """One blocked article page fails its source when the source's other requests failed too: every article
    request blocked and its home page refused (the sitemap, served from elsewhere, still answered)."""
    code, output, fetched, base, run, row, digest, failing = _two_nights(
        tmp_path, SitemapSite("Health News"), {"/news/t1-004/": 403}, "blocked", home_status=403)
    assert "/sitemap.xml" in fetched and fetched.count("/news/t1-004/") == 1
    assert (row["errors"], row["articles_stored"], row["pages_fetched"], row["found_by_sitemap"]) == (2, 0, 0, 4)
    assert _counts(row) == (1, 1, 0, 1)
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
    (check,) = failing
    assert "health (2 errors)" in check.message


def test_5xx_on_every_article_page_is_a_failed_source(tmp_path):
    site = SitemapSite("Health News", stories=())
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
    one_refused = _row(errors=1, found_by_sitemap=9, **_counted(1, blocked=1))           # one 503 or 403: a URL
    one_refused_home_too = _row(errors=2, found_by_sitemap=9, **_counted(1, blocked=1))  # and its home page 403
    two_refused = _row(errors=2, found_by_sitemap=9, **_counted(2, blocked=2))
    refused_and_dead = _row(errors=3, found_by_sitemap=9, **_counted(3, gone=2, blocked=1))
    refused_dead_and_sitemap = _row(errors=4, found_by_sitemap=9, **_counted(3, gone=2, blocked=1))
    two_refused_and_dead = _row(errors=4, found_by_sitemap=9, **_counted(4, gone=2, blocked=2))
    refused_but_one_read = _row(errors=2, found_by_sitemap=9, pages_fetched=1, **_counted(3, blocked=2))
    nothing_found = _row(errors=2, **_counted(0))                          # home, feeds, sitemaps unreachable
    other_failures = _row(errors=2, found_by_sitemap=2, **_counted(2, failed=2))   # say two pages over the cap
    disallowed = _row(errors=3, found_by_sitemap=3, **_counted(3, failed=3))       # robots.txt, every one
    disallowed_and_home = _row(errors=4, found_by_sitemap=3, **_counted(3, failed=3))
    discovery_error_only = _row(errors=3, found_by_sitemap=9, **_counted(0))   # a sitemap 503, all URLs known
    quiet = _row(found_by_sitemap=9, **_counted(0))
    rows = {"dead_links": (dead_links, False), "one_refused": (one_refused, False),
            "one_refused_home_too": (one_refused_home_too, True), "two_refused": (two_refused, True),
            "refused_and_dead": (refused_and_dead, False), "refused_dead_and_sitemap": (refused_dead_and_sitemap, False),
            "two_refused_and_dead": (two_refused_and_dead, True), "refused_but_one_read": (refused_but_one_read, False),
            "nothing_found": (nothing_found, True), "other_failures": (other_failures, False),
            "disallowed": (disallowed, False), "disallowed_and_home": (disallowed_and_home, False),
            "discovery_error_only": (discovery_error_only, False), "quiet": (quiet, False)}
    assert {name: source_failed(row) for name, (row, _) in rows.items()} == \
        {name: failed for name, (_, failed) in rows.items()}


def test_failure_class_counts_every_refusal_but_dead_links_robots_txt_and_the_crawls_own_refusals():
    classes = {kind: store.failure_class(kind) for kind in (
        "http_404", "http_410", "http_400", "http_401", "http_403", "http_406", "http_418", "http_429",
        "http_500", "http_503", "timeout", "dns", "connection_refused", "ssl", "redirect_loop", "truncated",
        "robots_disallowed", "too_large", "offsite_host", "url_scheme", "private_address", "ignored")}
    assert classes == {
        "http_404": "gone", "http_410": "gone", "http_400": "blocked", "http_401": "blocked",
        "http_403": "blocked", "http_406": "blocked", "http_418": "blocked", "http_429": "blocked",
        "http_500": "blocked", "http_503": "blocked", "timeout": "blocked", "dns": "blocked",
        "connection_refused": "blocked", "ssl": "blocked", "redirect_loop": "blocked", "truncated": "blocked",
        "robots_disallowed": None, "too_large": None, "offsite_host": None, "url_scheme": None,
        "private_address": None, "ignored": None}
    assert store.failure_class("http_406", 406) == store.failure_class("whatever", 406) == "blocked"


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
        store.record_errors(db, run_id, "http_429", [("health", f"https://health.example/news/new-{n}/", "HTTP 429")
                                                     for n in range(2)])
        row = _row(crawl_run_id=run_id, errors=5, found_by_sitemap=9, **_counted(5, gone=3, blocked=2))
        assert source_failures(db, run_id, [row]) == [
            ("health", "http_429", "HTTP 429 from health.example (blocked?)")]
    finally:
        db.close()


def test_an_old_row_whose_every_error_is_a_dead_link_is_not_a_failed_source(tmp_path):
    """A run recorded before the article requests were counted (``article_requests`` NULL) with 3 errors, every
    one of them a 404/410 in ``crawl_errors``: dead links, not a failed source, in ``source_failures``, the
    digest and `cuttings doctor`; one refusal among them and the earlier rule holds (3 errors: failed)."""
    db_path = tmp_path / "old.db"
    db = store.connect(db_path)
    try:
        db["sources"].insert({"id": "health", "name": "Health News"}, alter=True)
        run_id = store.start_run(db, "crawl")
        store.record_errors(db, run_id, "http_404", [("health", f"https://health.example/news/gone-{n}/", "HTTP 404")
                                                     for n in range(2)])
        store.record_errors(db, run_id, "http_410", [("health", "https://health.example/news/gone-2/", "HTTP 410")])
        store.finish_run(db, run_id, "partial")
        old = _row(crawl_run_id=run_id, errors=BLOCKED_AFTER_ERRORS, found_by_sitemap=9)
        store.save_source_runs(db, [{**old, **{column: None for column in store.schema.SOURCE_RUN_ARTICLE_REQUESTS}}])
        assert source_failed(old)                 # without the database: the earlier rule
        assert not source_failed(old, db)
        assert source_failures(db, run_id, [old]) == []
        digest = report.build_digest(db)
        assert not [item for item in digest["attention"] if item["kind"] in ("source_failed", "sources_failed")]
    finally:
        db.close()
    assert _doctor_failing(db_path) == []
    db = store.connect(db_path)
    try:
        store.record_errors(db, run_id, "http_503", [("health", "https://health.example/news/new/", "HTTP 503")])
        assert source_failed(old, db)
        assert source_failures(db, run_id, [old]) == [("health", "http_503", "HTTP 503 from health.example")]
    finally:
        db.close()
    (check,) = _doctor_failing(db_path)
    assert "health (3 errors)" in check.message


def test_a_first_crawl_whose_allow_pattern_matches_nothing_names_sources_check(tmp_path):
    """A new team's slip: an `allow` pattern that matches none of the outlet's article paths (here `^/articles/`
    for a site under /news/). The sitemap lists 3 stories, none is fetched, and the first night's warning now says
    which command shows why (it said only "found no article URLs")."""
    site = SitemapSite("Health News")
    db_path = tmp_path / "allow.db"
    with local_site(site) as server:
        sources = write_sources(tmp_path / "sources.toml", {
            "id": "health", "name": "Health News", "home": f"{server.base}/", "sitemaps": [f"{server.base}/sitemap.xml"],
            "allow": ["^/articles/"], "local": True})
        result = run_crawl_cli(db_path, sources, since="all")
    db = store.connect(db_path)
    try:
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    finally:
        db.close()
    assert ("health: found no article URLs (`cuttings sources check health` shows what its feeds, sitemaps and pages "
            "list and whether allow/deny refuse it)") in result.stdout, result.stdout
