"""Gzipped sitemaps (``.xml.gz``) in discovery: parsed, crawled over HTTP on 127.0.0.1, and
counted by ``cuttings sources check`` with the crawl's own article-URL filter (no PDFs)."""
from __future__ import annotations

import gzip
import sqlite3

import pytest

from crawler import discovery
from cuttings.config import load_sources
from cuttings.demo import serve_directory
from cuttings.sources_check import check_source
from faultserver import article_html, corpus_story, run_crawl_cli

STORIES = [("/gz/news/barn-fire/", "t1-005", "2026-11-20T08:00:00Z"),
           ("/gz/news/council-budget/", "t1-006", "2026-11-21T09:30:00Z"),
           ("/gz/news/rural-crime/", "t1-007", "2026-11-22T10:45:00Z")]
PDF = "/gz/news/annual-report.pdf"


def _urlset(base: str, paths: list[tuple[str, str]]) -> bytes:
    urls = "".join(f"<url><loc>{base}{path}</loc><lastmod>{when}</lastmod></url>" for path, when in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>").encode()


def test_parse_sitemap_reads_gzip_and_leaves_plain_alone():
    plain = _urlset("https://x.example", [("/gz/news/a/", "2026-11-20")])
    for body in (plain, gzip.compress(plain)):
        children, pages = discovery.parse_sitemap(body, "https://x.example/sitemap.xml.gz")
        assert children == [] and [(p.url, p.published_at) for p in pages] == [("https://x.example/gz/news/a/",
                                                                                 "2026-11-20")]
    assert discovery.gunzip_sitemap(b"\x1f\x8bnot really gzip") == b""


def test_gzip_bomb_is_cut_at_the_limit():
    bomb = gzip.compress(b"<" + b" " * 5_000_000)
    assert len(discovery.gunzip_sitemap(bomb, limit=1000)) == 1000


@pytest.fixture()
def gz_site(tmp_path):
    site = tmp_path / "site"
    with serve_directory(_build(site)) as base:
        _write_sitemaps(site, base)
        sources = tmp_path / "sources.toml"
        sources.write_text(f"""
[crawl]
timeout = 5
max_depth = 0

[[source]]
id = "gz-news"
name = "Gz News"
home = "{base}/gz/"
sitemaps = ["{base}/gz/sitemap_index.xml"]
allow = ['^/gz/news/']
local = true
""", encoding="utf-8")
        yield base, sources


def _build(site):
    (site / "gz").mkdir(parents=True)
    (site / "gz" / "index.html").write_text("<!DOCTYPE html><html><head><title>Gz News</title></head>"
                                            "<body><h1>Gz News</h1><p>Nothing linked here.</p></body></html>")
    (site / "gz" / "news").mkdir()
    (site / "gz" / "news" / "annual-report.pdf").write_bytes(b"%PDF-1.4 not an article")
    return site


def _write_sitemaps(site, base):
    for path, corpus_id, published in STORIES:
        title, paragraphs = corpus_story(corpus_id)
        folder = site / path.strip("/")
        folder.mkdir(parents=True)
        (folder / "index.html").write_text(article_html(base, path, title, paragraphs, published), encoding="utf-8")
    entries = [(path, published[:10]) for path, _c, published in STORIES] + [(PDF, "2026-11-22")]
    (site / "gz" / "sitemap-news.xml.gz").write_bytes(gzip.compress(_urlset(base, entries)))
    (site / "gz" / "sitemap_index.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{base}/gz/sitemap-news.xml.gz</loc></sitemap></sitemapindex>", encoding="utf-8")


@pytest.mark.slow
def test_crawl_follows_a_gzipped_sitemap(gz_site, tmp_path):
    base, sources = gz_site
    run_crawl_cli(tmp_path / "gz.db", sources, since="all")
    db = sqlite3.connect(tmp_path / "gz.db")
    stored = sorted(row for row in db.execute("SELECT canonical_url, found_by FROM articles"))
    assert stored == sorted((f"{base}{path}".rstrip("/"), "sitemap") for path, _c, _p in STORIES)
    fetched = [row[0] for row in db.execute("SELECT url FROM crawl_state")]
    assert f"{base}/gz/sitemap-news.xml.gz" in fetched
    assert not any(url.endswith(".pdf") for url in fetched)
    authors = {row[0] for row in db.execute("SELECT name FROM article_authors")}
    assert authors == {"Jane Reporter"}


def test_sources_check_reads_gzip_and_counts_no_pdf(gz_site):
    _base, sources = gz_site
    config = load_sources(sources)
    report = check_source(config.get("gz-news"), config.crawl)
    assert list(report.sitemaps.values()) == [1, len(STORIES) + 1]  # the index, then the .xml.gz
    assert report.article_urls == len(STORIES) and report.dated == len(STORIES)
