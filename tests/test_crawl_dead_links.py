"""A dead link in a source's sitemap (issue: e2e audit, finding A): one article URL answering 404 is a
per-URL crawl error, not a failed source, and it is not requested again on the next nights for
``GONE_RECHECK_DAYS`` days; a source that really failed says truthfully how many of the digest's stories
still come from it. Real Scrapy crawls (``cuttings crawl``'s runner, in a subprocess) of a site on
127.0.0.1, a real SQLite database, the digest's text."""
from __future__ import annotations

import datetime as dt

from crawler.middlewares import GONE_RECHECK_DAYS, IncrementalPolicy
from cuttings import report, store
from faultserver import SitemapSite, local_site, run_crawl_cli, write_sources
from tests.conftest import run_cli

STORIES = ("t1-001", "t1-002", "t1-003")


def _sources(tmp_path, base: str):
    return write_sources(tmp_path / "sources.toml", {
        "id": "deadlink", "name": "Dead Link News", "home": f"{base}/", "sitemaps": [f"{base}/sitemap.xml"],
        "allow": ["^/news/"], "local": True})


def _age_first_404(db_path, path: str, days: int = 4) -> None:
    """Move the first fetch of the crawl_state row of ``path`` back ``days`` days: the URL is no longer new
    (outside the revisit window of 3 days), its last 404 as recent as it was."""
    db = store.connect(db_path)
    try:
        db.execute("UPDATE crawl_state SET first_seen_at = strftime('%Y-%m-%dT%H:%M:%SZ', first_seen_at, ?) "
                   "WHERE url LIKE ?", [f"-{days} days", f"%{path}"])
        db.conn.commit()
    finally:
        db.close()


def test_a_dead_link_is_a_url_error_not_a_failed_source_and_is_not_fetched_again(tmp_path):
    site = SitemapSite("Dead Link News", STORIES)
    site.answers = {"/news/gone-1/": 404}
    db_path = tmp_path / "dead.db"
    with local_site(site) as server:
        base = server.base
        sources = _sources(tmp_path, base)
        run_crawl_cli(db_path, sources, since="all")                     # night 1: 3 stories, 1 dead link
        first_night, server.paths[:] = list(server.paths), []
        run_crawl_cli(db_path, sources)                                  # the same night again: a new URL's
        again, server.paths[:] = list(server.paths), []                  # 404 is asked again while it is new
        _age_first_404(db_path, "/news/gone-1")                          # a week on: no longer new
        site.answers = {"/news/gone-1/": 404, "/news/gone-2/": 404}
        run_crawl_cli(db_path, sources)                                  # night 2: nothing new, a new dead link
        second_night, server.paths[:] = list(server.paths), []
        _age_first_404(db_path, "/news/gone-2")
        # night 3, as `cuttings run` (crawl only): a third dead link; the others are not requested
        site.answers = {"/news/gone-1/": 404, "/news/gone-2/": 404, "/news/gone-3/": 404}
        night3 = run_cli("--db", str(db_path), "run", "--sources", str(sources), "--no-politeness", "--skip", "analyse",
                         "--skip", "classify", "--skip", "report", "--log-file", str(tmp_path / "run.log"))
        third_night = list(server.paths)
    assert first_night.count("/news/gone-1/") == 1 and again.count("/news/gone-1/") == 1
    # the dead link of night 1 is not requested again; night 2's own dead link is, once
    assert "/news/gone-1/" not in second_night and second_night.count("/news/gone-2/") == 1
    assert not [path for path in second_night if path.strip("/").split("/")[-1] in STORIES]
    assert [path for path in third_night if "gone" in path] == ["/news/gone-3/"]
    assert night3.returncode == 4, night3.stderr.decode()[-2000:]   # partial: a crawl error, the source was read
    assert "1 error on single URLs, every source was read" in night3.stdout.decode() + night3.stderr.decode()
    output = night3.stdout.decode() + night3.stderr.decode()
    assert "sources_failed 0" in output and "source deadlink" not in output and "1 source failed" not in output
    db = store.connect(db_path)
    try:
        runs = [row[0] for row in db.execute("SELECT id FROM crawl_runs WHERE command LIKE 'crawl%' "
                                             "AND id < (SELECT min(id) FROM crawl_runs WHERE command = 'run') "
                                             "ORDER BY id")]
        row = dict(next(db.query("SELECT * FROM source_runs WHERE crawl_run_id = ?", [runs[-1]])))
        assert row["errors"] == 1 and row["articles_stored"] == 0 and row["pages_fetched"] == 0
        errors = [tuple(r) for r in db.execute("SELECT url, kind FROM crawl_errors WHERE crawl_run_id = ?",
                                               [runs[-1]])]
        assert errors == [(f"{base}/news/gone-2/", "http_404")]
        state = dict(next(db.query("SELECT kind, reject_reason, http_status FROM crawl_state WHERE url LIKE ?",
                                   ["%/news/gone-1"])))
        assert state == {"kind": "rejected", "reject_reason": "gone: HTTP 404", "http_status": 404}
        known = store.known_url(db, next(r[0] for r in db.execute(
            "SELECT url FROM crawl_state WHERE url LIKE '%/news/gone-1'")))
        digest = report.build_digest(db)
    finally:
        db.close()
    # the period: skipped for GONE_RECHECK_DAYS after the 404, then requested once more
    fetched = dt.datetime.strptime(known["last_fetched_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    policy = IncrementalPolicy(3)
    new_404 = {**known, "first_seen_at": known["last_fetched_at"]}   # first answered 404 on that fetch
    assert policy.skip_reason(new_404, now=fetched + dt.timedelta(days=1)) is None   # still new: asked again
    assert policy.skip_reason(known, now=fetched + dt.timedelta(days=GONE_RECHECK_DAYS - 1)) == "gone"
    assert policy.skip_reason(known, now=fetched + dt.timedelta(days=GONE_RECHECK_DAYS + 1)) is None
    # the digest: the 3 stories, no failed source, the dead link a per-URL error under Crawl health
    assert digest["summary"]["stories"] == 3
    assert not [item for item in digest["attention"] if item["kind"] in ("source_failed", "sources_failed")]
    (warning,) = [w for w in digest["health"] if w["source_id"] == "deadlink"]
    assert not warning.get("failed") and "errors: 1 http_404" in warning["message"]
    assert "no articles" not in warning["message"]
    text = report.render_markdown(digest, plain=True)
    assert "failed" not in text.split("Needs attention", 1)[1].split("new stories", 1)[0]


def test_a_source_that_failed_says_how_many_of_the_digests_stories_came_from_it(tmp_path):
    db_path = tmp_path / "down.db"
    with local_site(SitemapSite("Dead Link News", STORIES)) as server:
        base = server.base
        sources = _sources(tmp_path, base)
        run_crawl_cli(db_path, sources, since="all")                     # night 1: 3 stories
    run_crawl_cli(db_path, sources)                                      # night 2: the site is down
    db = store.connect(db_path)
    try:
        digest = report.build_digest(db)
    finally:
        db.close()
    (item,) = [item for item in digest["attention"] if item["kind"] == "source_failed"]
    text = report.attention_text(item)
    assert text == (f"Source Dead Link News failed: connection refused by {base[7:]} (site down, or a wrong port?) "
                    "(3 stories from it in this digest, found by earlier crawls)")
    assert "no stories from it" not in report.render_html(digest)
    assert text in report.render_markdown(digest, plain=True)


def test_a_source_fails_when_its_sitemap_answers_but_every_article_page_is_refused():
    """The rule behind "Source X failed" (``cuttings.failures.source_failed``) for rows of runs before
    ``source_runs`` counted article requests by kind (these rows have no ``article_requests``): one or two
    errors of a source whose discovery worked are URL errors; a source that reads nothing and whose several
    article fetches all failed failed, as does one none of whose entry points answered. Rows with the counts:
    ``tests/test_crawl_source_health.py``."""
    from cuttings.failures import BLOCKED_AFTER_ERRORS, source_failed
    dead_link = {"errors": 1, "found_by_sitemap": 1, "articles_stored": 0, "pages_fetched": 0}
    blocked = {"errors": BLOCKED_AFTER_ERRORS, "found_by_sitemap": 12, "articles_stored": 0, "pages_fetched": 0}
    unreachable = {"errors": 1, "articles_stored": 0, "pages_fetched": 0}
    some_read = {**blocked, "pages_fetched": 1}
    healthy = {"errors": 0, "found_by_feed": 5, "articles_stored": 5, "pages_fetched": 5}
    assert [source_failed(row) for row in (dead_link, blocked, unreachable, some_read, healthy)] == \
        [False, True, True, False, False]


def test_a_source_of_an_older_run_whose_every_error_is_a_dead_link_did_not_fail(tmp_path):
    """The older rule's exception (a row without ``article_requests``): given the database, a source whose
    every error in that run's ``crawl_errors`` is a 404/410 did not fail, the analyser's ``analyse_failed``
    rows and other runs' and sources' errors aside; one error of another kind, or no database, and it failed."""
    from cuttings import store
    from cuttings.failures import BLOCKED_AFTER_ERRORS, source_failed

    db = store.connect(tmp_path / "health.db")
    run, later_run = store.start_run(db, "crawl"), store.start_run(db, "crawl")
    for number in range(BLOCKED_AFTER_ERRORS):
        store.record_error(db, run, "http_404" if number % 2 else "http_410", url=f"https://a.example/{number}",
                           source_id="a")
    store.record_error(db, run, "analyse_failed", url="https://a.example/story", source_id="a")
    store.record_error(db, run, "timeout", url="https://b.example/", source_id="b")
    store.record_error(db, later_run, "http_403", url="https://a.example/x", source_id="a")
    row = {"crawl_run_id": run, "source_id": "a", "errors": BLOCKED_AFTER_ERRORS, "found_by_sitemap": 12,
           "articles_stored": 0, "pages_fetched": 0}
    assert not source_failed(row, db)
    assert source_failed(row)                                        # no database: the count alone decides
    assert source_failed({**row, "crawl_run_id": later_run}, db)     # that run's error is a 403
    store.record_error(db, run, "timeout", url="https://a.example/slow", source_id="a")
    assert source_failed(row, db)
