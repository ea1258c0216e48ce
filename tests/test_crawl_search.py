"""The site-search discovery layer over real HTTP: ``search = ".../search?q={query}"`` on a source
plus ``[crawl].search_keywords`` finds stories that no feed, sitemap or listing page links to."""
from __future__ import annotations

import sqlite3
from urllib.parse import quote_plus

import pytest

from faultserver import FaultServer, run_crawl_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("search")
    with FaultServer() as server:
        sources = server.sources_toml(tmp / "sources.toml")
        run_crawl_cli(tmp / "search.db", sources, "search-news")
        db = sqlite3.connect(tmp / "search.db")
        db.row_factory = sqlite3.Row
        yield server, db
        db.close()


def test_every_keyword_is_searched_url_encoded(crawled):
    server, _ = crawled
    for keyword in FaultServer.SEARCH_RESULTS:
        assert server.hits(f"/search-site/search?q={quote_plus(keyword)}") == 1


def test_stories_found_only_by_search_are_stored_once_and_marked(crawled):
    server, db = crawled
    rows = db.execute("SELECT canonical_url, title, found_by FROM articles").fetchall()
    by_path = {row["canonical_url"].split("/search-site", 1)[1].rstrip("/"): row for row in rows}
    assert set(by_path) == {path.split("/search-site", 1)[1].rstrip("/") for path in FaultServer.SEARCH_STORIES}
    for path, corpus_id in FaultServer.SEARCH_STORIES.items():
        row = by_path[path.split("/search-site", 1)[1].rstrip("/")]
        assert row["title"] == server.stories[corpus_id][0]
        assert row["found_by"] == ("links" if "listed" in path else "search")
        assert server.hits(path) == 1          # found by both queries, fetched once
    assert server.hits("/search-site/about/") == 0   # a result that is not an article URL


def test_source_run_counts_the_search_layer(crawled):
    _, db = crawled
    run = db.execute("SELECT * FROM source_runs WHERE source_id = 'search-news'").fetchone()
    assert (run["found_by_search"], run["found_by_links"]) == (3, 1)
