"""A site of the team's own on 127.0.0.1 configured without `local = true`: the crawler refuses it (the URL
policy's ``private_address``), and every place that reports the refusals says in one line what happened and
what to do (set ``local = true`` on the source) instead of "errors: private_address 4" and a "found no article
URLs ... allow/deny" warning that sends the operator to the patterns: the crawl's warning (stored in
``source_runs.warning``, so `cuttings doctor`'s source health check and the digest's crawl health say it too),
`cuttings sources check`, and the failed source's cause under "Needs attention". A real Scrapy crawl of a
server on 127.0.0.1 (``faultserver.local_site``), a real SQLite database, the command line."""
from __future__ import annotations

import sqlite3

from cuttings import doctor, report, store
from faultserver import SitemapSite, local_site, run_crawl_cli, write_sources
from tests.conftest import invoke_cli

FIX = "if the site is yours, set local = true on its [[source]] in sources.toml"


def _sources(tmp_path, base: str, **extra):
    return write_sources(tmp_path / "sources.toml", {
        "id": "health", "name": "Health News", "home": f"{base}/", "sitemaps": [f"{base}/sitemap.xml"],
        "allow": ["^/news/"], **extra})


def test_a_local_site_without_local_true_is_said_in_one_line_everywhere(tmp_path):
    db_path = tmp_path / "local.db"
    with local_site(SitemapSite("Health News")) as server:
        sources = _sources(tmp_path, server.base)
        crawl = run_crawl_cli(db_path, sources, since="all")
        check = invoke_cli("sources", "check", "--sources", str(sources))
        host = server.base.removeprefix("http://")
    db = store.connect(db_path)
    try:
        refused = db.execute("SELECT count(*) FROM crawl_errors WHERE kind = 'private_address'").fetchone()[0]
        digest = report.build_digest(db)
    finally:
        db.close()
    assert refused >= 2   # robots.txt, the home page, the sitemap
    line = f"the crawler refused {refused} requests to {host}, a private or loopback address: {FIX}"
    # the crawl's warning, in place of the first night's "found no article URLs ... allow/deny"
    assert f"warning: health: {line}" in crawl.stdout, crawl.stdout
    assert "found no article URLs" not in crawl.stdout
    # sources check: one problem line saying what to do, and no word of the allow/deny patterns
    out = check.stdout.decode()
    assert check.returncode == 1
    assert f"  problem: the crawler refuses {host}, a private or loopback address: {FIX}" in out, out
    assert "allow/deny patterns" not in out
    # doctor's source health check, with a fix that fits it
    conn = sqlite3.connect(db_path)
    try:
        checks = {c.name: c for c in doctor.check_source_yield(conn, ["health"])}
    finally:
        conn.close()
    assert checks["source health"].message == f"health: {line}"
    assert "local = true" in checks["source health"].fix
    # and its failing line says why, not only how many errors
    cause = f"{host} is a private or loopback address, which the crawler refuses: {FIX}"
    assert checks["sources failing"].message == f"latest run got only errors: health ({refused} errors), because {cause}"
    # the digest: crawl health, and the failed source's cause under "Needs attention"
    (warning,) = [w for w in digest["health"] if w["source_id"] == "health"]
    assert line in warning["message"]
    (failed,) = [item for item in digest["attention"] if item["kind"] == "source_failed"]
    assert failed["cause"] == cause


def test_the_same_site_with_local_true_is_crawled(tmp_path):
    """The fix the line names works: the same site and file with `local = true` stores its stories."""
    db_path = tmp_path / "fixed.db"
    with local_site(SitemapSite("Health News")) as server:
        crawl = run_crawl_cli(db_path, _sources(tmp_path, server.base, local=True), since="all")
    assert "local = true" not in crawl.stdout
    db = store.connect(db_path)
    try:
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 3
        assert db.execute("SELECT count(*) FROM crawl_errors WHERE kind = 'private_address'").fetchone()[0] == 0
    finally:
        db.close()
