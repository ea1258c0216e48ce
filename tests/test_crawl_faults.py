"""Crawler faults over real HTTP on 127.0.0.1 (tests/faultserver.py): what is stored, what is recorded.

One crawl of ``fault-news`` plus ``dead-news`` (a source whose server refuses connections)
serves every test in this module.
"""
from __future__ import annotations

import sqlite3

import pytest

from faultserver import MAX_PAGE_BYTES, RETRY_TIMES, FaultServer, closed_port, corpus_story, run_crawl_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    with FaultServer() as server:
        sources = server.sources_toml(tmp / "sources.toml", dead_port=closed_port())
        result = run_crawl_cli(tmp / "faults.db", sources, "fault-news", "dead-news")
        db = sqlite3.connect(tmp / "faults.db")
        db.row_factory = sqlite3.Row
        yield server, db, result
        db.close()


def errors_for(db, path_suffix: str) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM crawl_errors WHERE url LIKE ?", ["%" + path_suffix]).fetchall()


def article(db, path: str) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM articles WHERE canonical_url LIKE ?", ["%" + path.rstrip("/")]).fetchone()


def test_http_500_is_retried_then_recorded(crawled):
    server, db, _ = crawled
    assert server.hits("/news/server-error/") == RETRY_TIMES + 1
    [error] = errors_for(db, "/news/server-error/")
    assert (error["kind"], error["http_status"]) == ("http_500", 500)
    assert article(db, "/news/server-error/") is None


def test_503_with_retry_after_waits_then_stores(crawled):
    server, db, _ = crawled
    attempts = server.hits_matching("/news/busy-story/")
    assert [a.status for a in attempts] == [503, 200]
    assert attempts[1].at - attempts[0].at >= 0.9, "the retry did not honour Retry-After: 1"
    assert errors_for(db, "/news/busy-story/") == []
    stored = article(db, "/news/busy-story/")
    assert stored is not None and stored["title"] == corpus_story("t1-002")[0]


def test_429_honours_retry_after_and_is_recorded(crawled):
    server, db, _ = crawled
    attempts = server.hits_matching("/news/rate-limited/")
    assert len(attempts) == RETRY_TIMES + 1
    assert attempts[1].at - attempts[0].at >= 0.9
    [error] = errors_for(db, "/news/rate-limited/")
    assert (error["kind"], error["http_status"]) == ("http_429", 429)


def test_slow_response_times_out(crawled):
    _, db, _ = crawled
    [error] = errors_for(db, "/news/slow-story/")
    assert error["kind"] == "timeout" and error["http_status"] is None
    assert article(db, "/news/slow-story/") is None


def test_truncated_body_is_not_stored(crawled):
    _, db, _ = crawled
    [error] = errors_for(db, "/news/truncated-story/")
    assert error["kind"] == "truncated"
    assert article(db, "/news/truncated-story/") is None


@pytest.mark.parametrize("path", ["/news/huge-story/", "/news/huge-chunked/", "/news/gzip-bomb/"])
def test_size_limit_covers_declared_streamed_and_decompressed_bodies(crawled, path):
    _, db, _ = crawled
    [error] = errors_for(db, path)
    assert error["kind"] == "too_large"
    assert article(db, path) is None
    if path == "/news/gzip-bomb/":
        assert "decompress" in error["message"] and str(MAX_PAGE_BYTES) in error["message"]


def test_windows_1252_page_is_decoded(crawled):
    _, db, _ = crawled
    stored = article(db, "/news/cafe-story/")
    assert stored["title"] == "Café owner’s £2.5m plan for Ledbury fire station site"
    assert "Ledbury café has put forward a “bold” £2.5m plan" in stored["body"]
    assert "\ufffd" not in stored["body"]


def test_redirect_loop_is_recorded(crawled):
    server, db, _ = crawled
    errors = errors_for(db, "/news/loop-a/") + errors_for(db, "/news/loop-b/")
    assert [e["kind"] for e in errors] == ["redirect_loop"]
    assert 2 <= server.hits("/news/loop-a/") + server.hits("/news/loop-b/") <= 8


def test_robots_disallowed_page_is_never_fetched(crawled):
    server, db, _ = crawled
    assert server.hits("/news/private-draft/") == 0
    [error] = errors_for(db, "/news/private-draft/")
    assert error["kind"] == "robots_disallowed"


def test_pdf_is_skipped_and_remembered(crawled):
    _, db, _ = crawled
    [error] = errors_for(db, "/news/annual-report/")
    assert (error["kind"], error["http_status"]) == ("not_html", 200)
    assert "application/pdf" in error["message"]
    state = db.execute("SELECT kind, reject_reason FROM crawl_state WHERE url LIKE '%/news/annual-report'").fetchone()
    assert state["kind"] == "rejected" and "pdf" in state["reject_reason"]
    assert article(db, "/news/annual-report/") is None


def test_syndicated_copy_points_at_the_original(crawled):
    _, db, _ = crawled
    original, copy = article(db, "/news/fire-plan/"), article(db, "/news/fire-plan-sister/")
    assert original["duplicate_of"] is None
    assert copy["duplicate_of"] == original["id"]
    assert 0.5 <= copy["similarity"] < 1.0


def test_tracking_and_amp_variants_fetch_one_page_and_store_one_article(crawled):
    server, db, _ = crawled
    variants = server.hits_matching("/news/ok-story/")
    assert len(variants) == 1
    rows = db.execute("SELECT canonical_url FROM articles WHERE canonical_url LIKE '%ok-story%'").fetchall()
    assert [r["canonical_url"] for r in rows] == [f"{server.base}/news/ok-story"]


def test_tag_page_is_not_an_article_candidate(crawled):
    server, _, _ = crawled
    assert server.hits("/tag/fire/") == 0


def test_a_dead_source_does_not_stop_the_others(crawled):
    _, db, result = crawled
    dead = db.execute("SELECT DISTINCT kind FROM crawl_errors WHERE source_id = 'dead-news'").fetchall()
    assert [r["kind"] for r in dead] == ["connection_refused"]
    stored = db.execute("SELECT count(*) FROM articles WHERE source_id = 'fault-news'").fetchone()[0]
    assert stored == 5  # ok-story, busy-story, cafe-story, fire-plan and its copy
    run = db.execute("SELECT * FROM crawl_runs").fetchone()
    assert run["status"] == "partial"
    assert run["errors"] == db.execute("SELECT count(*) FROM crawl_errors").fetchone()[0]
    assert "dead-news: found no article URLs" in result.stdout


def test_every_error_kind_is_classified(crawled):
    _, db, _ = crawled
    kinds = {r[0] for r in db.execute("SELECT kind FROM crawl_errors")}
    assert kinds == {"http_500", "http_429", "timeout", "truncated", "too_large", "redirect_loop",
                     "robots_disallowed", "not_html", "connection_refused"}
