"""Links people follow (digest, exports, Datasette views) are the page's real address, not the
normalised dedupe key: a crawl of quiet-news on 127.0.0.1, whose pages live at ``.../old-1/`` and
declare that canonical, and whose server answers 404 to ``.../old-1`` (it does not redirect)."""
from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request

import pytest

from faultserver import FaultServer, run_crawl_cli
from tests.conftest import query_rows, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("links")
    with FaultServer() as server:
        db = tmp / "quiet.db"
        run_crawl_cli(db, server.sources_toml(tmp / "sources.toml"), "quiet-news", since="all")
        yield server, db, tmp


def status_of(url: str) -> tuple[int, str]:
    """The status and final address of a GET (redirects followed)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.url
    except urllib.error.HTTPError as exc:
        return exc.code, url


def test_views_link_to_the_address_that_opens(crawled):
    server, db, _ = crawled
    rows = query_rows(db, "SELECT s.url, a.canonical_url, a.link_url FROM article_summary s "
                          "JOIN articles a ON a.id = s.article_id ORDER BY s.url")
    assert len(rows) == 10
    expected = sorted(f"{server.base}{path}" for path in [*server.QUIET_OLD, "/quiet/news/edited-story/",
                                                          "/quiet/news/trivial-story/"])
    assert [row["url"] for row in rows] == expected        # what each page declares, trailing slash kept
    assert all(row["link_url"] == row["url"] for row in rows)
    for row in rows:
        assert status_of(row["url"]) == (200, row["url"])
        # the identity key stays normalised (dedupe), and is no address to link to on this server
        assert row["canonical_url"] == row["url"].rstrip("/")
        assert status_of(row["canonical_url"])[0] == 404


def test_digest_and_export_link_to_the_address_that_opens(crawled):
    server, db, tmp = crawled
    out = tmp / "reports"
    result = run_cli("--db", str(db), "report", "--since", "2000-01-01", "--format", "all", "--out", str(out),
                     "--no-record")
    assert result.returncode == 0, result.stderr.decode()
    story = f"{server.base}/quiet/news/edited-story/"
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    markdown = next(out.glob("*.md")).read_text(encoding="utf-8")
    assert f'href="{story}"' in html and f"({story})" in markdown
    assert f'href="{story.rstrip("/")}"' not in html and f"({story.rstrip('/')})" not in markdown

    exported = run_cli("--db", str(db), "export", "--format", "csv")
    assert exported.returncode == 0, exported.stderr.decode()
    urls = {row["url"] for row in csv.DictReader(io.StringIO(exported.stdout.decode("utf-8-sig")))}
    assert story in urls and all(url.endswith("/") for url in urls)
    lines = run_cli("--db", str(db), "export", "--format", "jsonl").stdout.decode().splitlines()
    assert {json.loads(line)["url"] for line in lines} == urls
