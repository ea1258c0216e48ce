"""Secrets in URLs (``?token=``, ``api_key=``, signed-URL signatures, ``user:pass@``) never reach
``crawl_errors``/``crawl_notices``: the store redacts them with the logs' redaction function."""
from __future__ import annotations

import json
import sqlite3

import pytest

from cuttings import store
from cuttings.demo import serve_directory

SECRETS = ["tok-5ecret", "k3y-5ecret", "s1g-5ecret", "pa55-5ecret", "amz-5ecret", "env-5ecret-value"]
URL = ("https://feeds.example/news/feed.xml?token=tok-5ecret&page=2&api_key=k3y-5ecret&sig=s1g-5ecret"
       "&X-Amz-Signature=amz-5ecret")


def _rows(path, table):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT url, message FROM {table} ORDER BY id").fetchall()  # noqa: S608 - test tables
    finally:
        conn.close()


def test_store_redacts_error_and_notice_urls_and_messages(tmp_path, monkeypatch):
    monkeypatch.setenv("CUTTINGS_FEED_TOKEN", "env-5ecret-value")
    db = store.connect(tmp_path / "x.db")
    run = store.start_run(db, "crawl")
    store.record_error(db, run, "http_404", url=URL, source_id="s", http_status=404,
                       message="HTTP 404 for https://user:pa55-5ecret@feeds.example/x and env-5ecret-value")
    store.record_errors(db, run, "write_failed", [("s", URL, f"lost {URL}")])
    store.record_notice(db, run, "budget_sitemaps", url=URL, source_id="s", message=f"skipped {URL}")
    store.finish_run(db, run, "partial", message=f"stopped at {URL}",
                     stages={"crawl": {"status": "partial", "message": f"stopped at {URL} (env-5ecret-value)"}})
    db.close()
    rows = _rows(tmp_path / "x.db", "crawl_errors") + _rows(tmp_path / "x.db", "crawl_notices")
    conn = sqlite3.connect(tmp_path / "x.db")
    [(run_message, stages_json)] = conn.execute("SELECT message, stages_json FROM crawl_runs").fetchall()
    conn.close()
    assert json.loads(stages_json)["crawl"]["message"].startswith("stopped at https://feeds.example/")
    for secret in SECRETS:
        assert secret not in stages_json, secret
    assert run_message == f"stopped at {URL}".replace("tok-5ecret", "[REDACTED]").replace(
        "k3y-5ecret", "[REDACTED]").replace("s1g-5ecret", "[REDACTED]").replace("amz-5ecret", "[REDACTED]")
    stored = " ".join(f"{u} {m}" for u, m in rows) + " " + run_message
    for secret in SECRETS:
        assert secret not in stored, secret
    assert rows[0] == ("https://feeds.example/news/feed.xml?token=[REDACTED]&page=2&api_key=[REDACTED]"
                       "&sig=[REDACTED]&X-Amz-Signature=[REDACTED]",
                       "HTTP 404 for https://user:[REDACTED]@feeds.example/x and [REDACTED]")
    assert [u for u, _m in rows] == [rows[0][0]] * 3  # the rest of the URL is kept, for finding the page


def test_long_messages_are_cut_then_redacted_no_secret_across_the_cut(tmp_path, monkeypatch):
    """A message is cut to 2000 characters: a secret crossing the cut is redacted, not half kept;
    a 1 MB message (a crawled title in an error) is stored as its first 2000 characters."""
    monkeypatch.setenv("CUTTINGS_FEED_TOKEN", "env-5ecret-value")
    db = store.connect(tmp_path / "x.db")
    run = store.start_run(db, "crawl")
    crossing_password = "x" * 1990 + " https://user:pa55-5ecret@feeds.example/x"
    crossing_value = "y" * 1995 + " env-5ecret-value and more"
    huge = "z" * 1_000_000 + " https://user:pa55-5ecret@feeds.example/x"
    store.record_error(db, run, "extract_failed", url="https://s.example/a", message=crossing_password)
    store.record_notice(db, run, "canonical_offsite", url="https://s.example/b", message=crossing_value)
    store.record_errors(db, run, "write_failed", [("s", "https://s.example/c", huge)])
    db.close()
    messages = [m for _u, m in _rows(tmp_path / "x.db", "crawl_errors") + _rows(tmp_path / "x.db", "crawl_notices")]
    assert messages == [(crossing_password[:1991] + "https://user:[REDACTED]@feeds.example/x")[:2000],
                        huge[:2000], (crossing_value[:1996] + "[REDACTED] and more")[:2000]]
    assert all(len(m) == 2000 for m in messages)
    for fragment in ("pa55", "env-5ecr"):
        assert not any(fragment in m for m in messages), fragment


def test_sources_rows_describe_the_configuration_without_its_secrets(tmp_path):
    import json

    from cuttings.config import Source
    db = store.connect(tmp_path / "x.db")
    store.sync_sources(db, [Source("s", "S", "https://s.example/?key=k3y-5ecret",
                                   feeds=["https://s.example/feed?api_key=k3y-5ecret&page=1"])])
    home, config = db.execute("SELECT home_url, config_json FROM sources").fetchone()
    db.close()
    assert home == "https://s.example/?key=[REDACTED]"
    assert json.loads(config)["feeds"] == ["https://s.example/feed?api_key=[REDACTED]&page=1"]


@pytest.mark.slow
def test_crawl_stores_a_failing_feed_url_without_its_token(tmp_path):
    """A real crawl on 127.0.0.1: the configured feed (with ?token= and api_key=) answers 404; its
    crawl_errors row names the feed with the secrets redacted. Stored article URLs are unchanged."""
    from faultserver import article_html, corpus_story, run_crawl_cli

    site = tmp_path / "site"
    title, paragraphs = corpus_story("gov-001")
    (site / "t" / "news" / "2026" / "a").mkdir(parents=True)
    with serve_directory(site) as base:
        (site / "t" / "index.html").write_text('<html><body><a href="/t/news/2026/a/?ref=home">A</a></body></html>',
                                               encoding="utf-8")
        (site / "t" / "news" / "2026" / "a" / "index.html").write_text(
            article_html(base, "/t/news/2026/a/", title, paragraphs, "2026-11-20T08:00:00Z"), encoding="utf-8")
        sources = tmp_path / "sources.toml"
        sources.write_text(f'[crawl]\ntimeout = 5\nmax_depth = 0\n\n[[source]]\nid = "t"\nname = "T"\n'
                           f'home = "{base}/t/"\nfeeds = ["{base}/t/feed.xml?token=tok-5ecret&api_key=k3y-5ecret"]\n'
                           f'sitemaps = ["{base}/t/sitemap.xml?token=tok-5ecret"]\n'
                           'allow = ["^/t/news/"]\nlocal = true\n', encoding="utf-8")
        (site / "t" / "sitemap.xml").write_text(
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f'<url><loc>{base}/t/news/2026/a/</loc></url></urlset>', encoding="utf-8")
        run_crawl_cli(tmp_path / "t.db", sources, since="all")
        run_crawl_cli(tmp_path / "t.db", sources, since="all")   # the sitemap's validators found again
    errors = _rows(tmp_path / "t.db", "crawl_errors")
    assert set(errors) == {(f"{base}/t/feed.xml?token=[REDACTED]&api_key=[REDACTED]", "HTTP 404")}
    conn = sqlite3.connect(tmp_path / "t.db")
    assert [r[0] for r in conn.execute("SELECT canonical_url FROM articles")] == [f"{base}/t/news/2026/a"]
    # the feed and sitemap rows of the incremental state are keyed without their secrets too
    state = dict(conn.execute("SELECT url, kind FROM crawl_state WHERE kind IN ('feed', 'sitemap')").fetchall())
    assert state == {f"{base}/t/sitemap.xml?token=[REDACTED]": "sitemap"}
    assert conn.execute("SELECT etag IS NOT NULL OR last_modified IS NOT NULL FROM crawl_state "
                        "WHERE kind = 'sitemap'").fetchone() == (1,)
    assert not conn.execute("SELECT count(*) FROM crawl_state WHERE url LIKE '%5ecret%'").fetchone()[0]
    conn.close()
