"""Incremental crawls and revisions against ``quiet-news`` on the fault server.

Three crawls share one server: (1) first crawl; (2) nothing edited: old articles are not
fetched again, feed and sitemap answer 304 to conditional requests, the fresh article with
volatile timestamps and share counts is re-fetched but gets no new version; (3) the test
edits one fresh article (headline, a paragraph, a correction): a new version is stored.
"""
from __future__ import annotations

import sqlite3

import pytest

from faultserver import FaultServer, run_crawl_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("revisions")
    db_path = tmp / "quiet.db"
    logs = []
    with FaultServer() as server:
        sources = server.sources_toml(tmp / "sources.toml")
        for edited in (False, False, True):
            server.edited = edited
            server.clear_log()
            run_crawl_cli(db_path, sources, "quiet-news", since="all")
            logs.append(list(server.requests))
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    yield logs, db
    db.close()


def paths(log, prefix):
    return [r.path for r in log if r.path.startswith(prefix)]


def test_first_crawl_stores_every_article(crawls):
    logs, db = crawls
    assert len(set(paths(logs[0], "/quiet/news/"))) == 10
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 10
    assert db.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL").fetchone()[0] == 0


def test_second_crawl_fetches_only_articles_inside_the_revisit_window(crawls):
    logs, _ = crawls
    assert sorted(set(paths(logs[1], "/quiet/news/"))) == ["/quiet/news/edited-story/", "/quiet/news/trivial-story/"]
    assert all(path.count("old-") == 0 for path in paths(logs[1], "/quiet/news/"))


def test_feed_and_sitemap_are_fetched_conditionally(crawls):
    logs, _ = crawls
    first = {r.path: r for r in logs[0] if r.path in ("/quiet/feed.xml", "/quiet/sitemap.xml")}
    second = {r.path: r for r in logs[1] if r.path in ("/quiet/feed.xml", "/quiet/sitemap.xml")}
    assert all("if-none-match" not in r.headers for r in first.values())
    assert {p: (r.headers.get("if-none-match"), r.status) for p, r in second.items()} == {
        "/quiet/feed.xml": ('"feed.xml-0"', 304), "/quiet/sitemap.xml": ('"sitemap.xml-0"', 304)}


def test_unchanged_article_with_etag_answers_304(crawls):
    logs, db = crawls
    [revisit] = [r for r in logs[1] if r.path == "/quiet/news/edited-story/"]
    assert revisit.headers.get("if-none-match") == '"edited-0"' and revisit.status == 304
    state = db.execute("SELECT etag FROM crawl_state WHERE url LIKE '%/quiet/news/edited-story'").fetchone()
    assert state["etag"] == '"edited-1"'


def test_trivial_changes_make_no_new_version(crawls):
    logs, db = crawls
    assert sum(1 for log in logs for r in log if r.path == "/quiet/news/trivial-story/") == 3
    article = db.execute("SELECT * FROM articles WHERE canonical_url LIKE '%trivial-story'").fetchone()
    assert article["version"] == 1
    assert db.execute("SELECT count(*) FROM article_versions WHERE article_id = ?", [article["id"]]).fetchone()[0] == 1


def test_edit_stores_a_new_version_with_summary(crawls):
    _, db = crawls
    article = db.execute("SELECT * FROM articles WHERE canonical_url LIKE '%edited-story'").fetchone()
    assert article["version"] == 2
    assert article["title"].endswith("as council delays decision")
    versions = db.execute("SELECT * FROM article_versions WHERE article_id = ? ORDER BY version",
                          [article["id"]]).fetchall()
    assert [v["version"] for v in versions] == [1, 2]
    first, second = versions
    assert (first["headline_changed"], first["is_correction"]) == (0, 0)
    assert (second["headline_changed"], second["is_correction"]) == (1, 1)
    assert "headline changed" in second["diff_summary"]
    assert "The council said a final decision" in second["diff_summary"]
    assert "correction added" in second["diff_summary"]
    assert second["title"] == article["title"] and first["title"] != article["title"]
    runs = db.execute("SELECT articles_updated, articles_unchanged FROM crawl_runs ORDER BY id").fetchall()
    assert [r["articles_updated"] for r in runs] == [0, 0, 1]


def test_no_errors_recorded(crawls):
    _, db = crawls
    assert db.execute("SELECT count(*) FROM crawl_errors").fetchone()[0] == 0
