"""Crawls of the offline demo site: coverage per discovery layer, incremental re-crawl,
resuming an interrupted crawl, and the extraction-health warning."""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from lxml import etree

from cuttings import store
from cuttings.config import DEMO_SOURCES, load_sources
from cuttings.crawl import health_warning
from cuttings.demo import DEMO_SITE, serve_directory
from faultserver import REPO_ROOT, run_crawl_cli

pytestmark = pytest.mark.slow

MANIFEST = json.loads((DEMO_SITE / "manifest.json").read_text(encoding="utf-8"))


def demo_sources_file(tmp_path, base):
    path = tmp_path / "demo_sources.toml"
    path.write_text(DEMO_SOURCES.read_text(encoding="utf-8").replace("{base}", base), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    """The demo site crawled twice by one server (same port, so the same URLs)."""
    tmp = tmp_path_factory.mktemp("demo")
    with serve_directory() as base:
        sources = demo_sources_file(tmp, base)
        first = run_crawl_cli(tmp / "demo.db", sources, since="all")
        second = run_crawl_cli(tmp / "demo.db", sources)
    db = sqlite3.connect(tmp / "demo.db")
    db.row_factory = sqlite3.Row
    yield db, base, first, second
    db.close()


def _count_entries(path, base):
    """Article URLs listed by a feed or (nested) sitemap file, read with lxml (not the crawler's parser)."""
    root = etree.parse(str(DEMO_SITE / path.lstrip("/"))).getroot()
    locs = [el.text.strip() for el in root.iter() if etree.QName(el).localname == "loc" and el.text]
    links = [el.get("href") or (el.text or "").strip() for el in root.iter() if etree.QName(el).localname == "link"
             and etree.QName(el.getparent()).localname in ("item", "entry")]
    if etree.QName(root).localname == "sitemapindex":
        return sum(_count_entries(re.sub(r"^https?://[^/]+", "", loc), base) for loc in locs)
    return len(locs) + len(links), locs + links


def test_first_crawl_stores_every_article_once(twice):
    db, *_ = twice
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(MANIFEST["articles"])
    copies = db.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL").fetchone()[0]
    assert copies == sum(1 for a in MANIFEST["articles"] if a["syndicated_from"])


def test_coverage_per_layer_matches_the_site(twice):
    db, base, first, _ = twice
    rows = {r["source_id"]: r for r in db.execute("SELECT * FROM source_runs WHERE crawl_run_id = 1")}
    sources = {s.id: s for s in load_sources(DEMO_SOURCES, base=base).sources}
    for outlet in MANIFEST["outlets"]:
        source = sources[outlet["slug"]]
        row = rows[outlet["slug"]]
        feed_count, _ = _count_entries(outlet["feed"], base)
        assert row["found_by_feed"] == feed_count
        sitemap_urls = []
        for sitemap_file in outlet["sitemap_files"]:
            root = etree.parse(str(DEMO_SITE / sitemap_file.lstrip("/"))).getroot()
            if etree.QName(root).localname == "urlset":
                sitemap_urls += [el.text.strip() for el in root.iter() if etree.QName(el).localname == "loc"]
        matching = {u for u in sitemap_urls if any(p.search(u) for p in source.allow_patterns)}
        assert row["found_by_sitemap"] == len(matching)
        articles = sum(1 for a in MANIFEST["articles"] if a["outlet"] == outlet["slug"])
        assert row["articles_stored"] == articles
        assert row["found_by_links"] > 0 and row["errors"] == 0 and row["warning"] is None
        assert f"{outlet['slug']}" in first.stdout


def test_second_crawl_fetches_at_most_five_percent(twice):
    db, *_ = twice
    runs = db.execute("SELECT * FROM crawl_runs ORDER BY id").fetchall()
    assert runs[0]["pages_fetched"] >= len(MANIFEST["articles"])
    assert runs[1]["pages_fetched"] <= 0.05 * runs[0]["pages_fetched"]
    assert runs[1]["articles_new"] == 0 and runs[1]["status"] == "ok"
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(MANIFEST["articles"])
    # Links are still counted on the incremental run (found, though not fetched); feeds and
    # sitemaps answered 304, and that must not raise a "discovery dropped" warning.
    rows = db.execute("SELECT a.found_by_links AS first, b.found_by_links AS second, b.found_by_feed, "
                      "b.found_by_sitemap, b.warning FROM source_runs a JOIN source_runs b "
                      "ON a.source_id = b.source_id AND a.crawl_run_id = 1 AND b.crawl_run_id = 2").fetchall()
    assert len(rows) == 3
    for row in rows:
        assert row["second"] == row["first"] > 0
        assert (row["found_by_feed"], row["found_by_sitemap"], row["warning"]) == (0, 0, None)


def test_interrupted_crawl_resumes_without_refetching(tmp_path):
    db_path = tmp_path / "resume.db"
    with serve_directory() as base:
        sources = demo_sources_file(tmp_path, base)
        command = [sys.executable, str(REPO_ROOT / "tests" / "faultserver.py"), str(db_path), str(sources),
                   "--since", "all"]
        crawl = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
        stored_first = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and crawl.poll() is None:
            time.sleep(0.2)
            if db_path.exists():
                try:
                    with sqlite3.connect(db_path, timeout=1) as probe:
                        stored_first = probe.execute("SELECT count(*) FROM articles").fetchone()[0]
                except sqlite3.OperationalError:
                    continue
                if stored_first >= 40:
                    crawl.send_signal(signal.SIGINT)
                    break
        crawl.communicate(timeout=60)
        assert 40 <= stored_first < len(MANIFEST["articles"]), "the crawl finished before it could be interrupted"
        db = sqlite3.connect(db_path)
        run = db.execute("SELECT status FROM crawl_runs").fetchone()
        assert run[0] == "interrupted"
        stored_first = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        run_crawl_cli(db_path, sources)
    second = db.execute("SELECT pages_fetched, articles_new + duplicates FROM crawl_runs WHERE id = 2").fetchone()
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(MANIFEST["articles"])
    assert second[1] == len(MANIFEST["articles"]) - stored_first
    # Only pages not stored before are fetched (plus the one non-article page rejected).
    assert second[0] <= len(MANIFEST["articles"]) - stored_first + 2
    db.close()


def _source_run(db, run_id, found, words, date_rate):
    db["crawl_runs"].insert({"id": run_id, "command": "crawl", "started_at": f"2026-11-{run_id:02d}T01:00:00Z",
                             "status": "ok"})
    row = {"crawl_run_id": run_id, "source_id": "echo", "found_by_feed": found, "found_by_sitemap": 0,
           "found_by_links": 0, "found_by_search": 0, "mean_body_words": words, "date_rate": date_rate}
    return row


@pytest.mark.parametrize("found, words, date_rate, expected", [
    (40, 300.0, 1.0, None),
    (5, 300.0, 1.0, "discovery dropped: 5 article URLs found against a recent mean of 40"),
    (40, 90.0, 1.0, "extraction dropped: mean body 90 words against 300 recently"),
    (40, 300.0, 0.2, "dates dropped: 20% of articles dated against 100%"),
])
def test_health_warning_against_recent_runs(tmp_path, found, words, date_rate, expected):
    db = store.connect(tmp_path / "health.db")
    db["sources"].insert({"id": "echo", "name": "Echo"})
    for run_id in range(1, 6):
        db["source_runs"].insert(_source_run(db, run_id, 40, 300.0, 1.0))
    row = _source_run(db, 6, found, words, date_rate)
    assert health_warning(db, "echo", row) == expected


def test_health_warning_for_a_new_source_that_finds_nothing(tmp_path):
    db = store.connect(tmp_path / "health.db")
    db["sources"].insert({"id": "echo", "name": "Echo"})
    assert health_warning(db, "echo", _source_run(db, 1, 0, None, None)) == (
        "found no article URLs (`cuttings sources check echo` shows what its feeds, sitemaps and pages list and "
        "whether allow/deny refuse it)")
    assert health_warning(db, "echo", _source_run(db, 2, 12, 250.0, 1.0)) is None


def test_no_discovery_warning_when_feeds_answered_304(tmp_path):
    db = store.connect(tmp_path / "health.db")
    db["sources"].insert({"id": "echo", "name": "Echo"})
    for run_id in range(1, 4):
        db["source_runs"].insert(_source_run(db, run_id, 40, 300.0, 1.0))
    assert health_warning(db, "echo", _source_run(db, 4, 3, 300.0, 1.0), discovery_not_modified=2) is None
