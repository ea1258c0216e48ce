"""Migration m014: rows written before the store redacted secrets lose them. Feed, sitemap and
section rows of ``crawl_state`` keyed by their raw URL (``?token=...``) are re-keyed by
``store.discovery_key`` (merged with a row already under that key, the newest state kept), so
conditional discovery finds their validators again; old error, notice, run and source rows are
redacted. Real SQLite files built at the schema before m014 with the old key form."""
from __future__ import annotations

import sqlite3

import pytest

from cuttings import store

MIGRATION = "m014_redact_stored_secrets"
SECRET = "tok-5ecret"
BASE = "https://s.example"


def _old_database(path, rows):
    """A database migrated up to (not including) m014, with ``crawl_state`` rows as the old code wrote them."""
    db = store.connect(path, migrate=False)
    store.migrations.apply(db, stop_before=MIGRATION)
    assert [m.name for m in store.migrations.pending(db)][0] == MIGRATION   # later migrations may follow
    db.execute("INSERT INTO sources (id, name, home_url, config_json) VALUES ('s', 'S', ?, ?)",
               [f"{BASE}/?key={SECRET}", f'{{"feeds": ["{BASE}/feed.xml?token={SECRET}"]}}'])
    for row in rows:
        db.execute("INSERT INTO crawl_state (url, source_id, kind, etag, last_modified, http_status, found_by, "
                   "first_seen_at, last_fetched_at) VALUES (:url, 's', :kind, :etag, :last_modified, 200, "
                   ":found_by, :first_seen_at, :last_fetched_at)",
                   {"etag": None, "last_modified": None, "found_by": None, **row})
    run_id = db.execute("INSERT INTO crawl_runs (command, started_at, status, message) VALUES "
                        "('crawl', '2026-11-01T00:00:00Z', 'partial', ?)",
                        [f"1 errors: {BASE}/feed.xml?token={SECRET} answered 404"]).lastrowid
    db.execute("INSERT INTO crawl_errors (crawl_run_id, source_id, url, kind, message, created_at) "
               "VALUES (?, 's', ?, 'http_404', ?, '2026-11-01T00:00:00Z')",
               [run_id, f"{BASE}/feed.xml?token={SECRET}", f"HTTP 404 for {BASE}/feed.xml?token={SECRET}"])
    db.conn.commit()
    db.conn.close()


def _text_holding(path, needle: str) -> list[str]:
    """``table.column`` of every stored text value that contains ``needle`` (every table, every column)."""
    conn = sqlite3.connect(path)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                 "AND name NOT LIKE '%_fts%' AND name NOT LIKE 'sqlite_%'")]
        found = []
        for table in tables:
            for (column,) in conn.execute(f"SELECT name FROM pragma_table_info('{table}')"):
                hits = conn.execute(f'SELECT count(*) FROM "{table}" WHERE instr(CAST("{column}" AS TEXT), ?)',
                                    [needle]).fetchone()[0]
                if hits:
                    found.append(f"{table}.{column}")
        return found
    finally:
        conn.close()


def test_old_keys_rekeyed_and_merged_newest_state_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("CUTTINGS_FEED_TOKEN", "abcd-1234-path")  # a secret variable used in a URL path
    path = tmp_path / "old.db"
    rows = [
        # alone: re-keyed, its validators kept
        {"url": f"{BASE}/feed.xml?token={SECRET}", "kind": "feed", "etag": '"f1"',
         "first_seen_at": "2026-10-01T00:00:00Z", "last_fetched_at": "2026-11-01T00:00:00Z"},
        # an older raw row and a newer redacted one (the crawl after the redaction change): merged,
        # the redacted row's state, the earliest first sighting
        {"url": f"{BASE}/sitemap.xml?token={SECRET}", "kind": "sitemap", "etag": '"old"',
         "last_modified": "Sun, 01 Nov 2026 00:00:00 GMT",
         "first_seen_at": "2026-10-01T00:00:00Z", "last_fetched_at": "2026-11-01T00:00:00Z"},
        {"url": f"{BASE}/sitemap.xml?token=[REDACTED]", "kind": "sitemap", "etag": '"new"',
         "first_seen_at": "2026-12-05T00:00:00Z", "last_fetched_at": "2026-12-05T00:00:00Z"},
        # a newer raw row over an older redacted one (e.g. an older code version crawled last): the raw row's state
        {"url": f"{BASE}/news/?sig={SECRET}", "kind": "section",
         "first_seen_at": "2026-11-02T00:00:00Z", "last_fetched_at": "2026-12-06T00:00:00Z", "found_by": "config"},
        {"url": f"{BASE}/news/?sig=[REDACTED]", "kind": "section", "etag": '"s-old"',
         "first_seen_at": "2026-11-03T00:00:00Z", "last_fetched_at": "2026-11-03T00:00:00Z"},
        # a secret from the environment in the path
        {"url": f"{BASE}/hooks/abcd-1234-path/rss", "kind": "feed", "etag": '"env"',
         "first_seen_at": "2026-10-01T00:00:00Z", "last_fetched_at": "2026-11-01T00:00:00Z"},
        # article URLs are the identity of what was fetched: left as they are
        {"url": f"{BASE}/news/a/?code=abc", "kind": "article",
         "first_seen_at": "2026-10-01T00:00:00Z", "last_fetched_at": "2026-11-01T00:00:00Z"},
    ]
    _old_database(path, rows)
    assert _text_holding(path, SECRET)  # the old form really holds it

    db = store.connect(path)  # applies m014
    assert store.migration_status(db)[1] == []
    state = {row["url"]: row for row in db.query("SELECT * FROM crawl_state ORDER BY url")}
    assert sorted(state) == sorted([f"{BASE}/feed.xml?token=[REDACTED]", f"{BASE}/sitemap.xml?token=[REDACTED]",
                                    f"{BASE}/news/?sig=[REDACTED]", f"{BASE}/hooks/[REDACTED]/rss",
                                    f"{BASE}/news/a/?code=abc"])
    feed = state[f"{BASE}/feed.xml?token=[REDACTED]"]
    assert (feed["kind"], feed["etag"], feed["first_seen_at"]) == ("feed", '"f1"', "2026-10-01T00:00:00Z")
    sitemap = state[f"{BASE}/sitemap.xml?token=[REDACTED]"]
    assert (sitemap["etag"], sitemap["last_modified"], sitemap["first_seen_at"], sitemap["last_fetched_at"]) == (
        '"new"', "Sun, 01 Nov 2026 00:00:00 GMT", "2026-10-01T00:00:00Z", "2026-12-05T00:00:00Z")
    section = state[f"{BASE}/news/?sig=[REDACTED]"]
    assert (section["etag"], section["found_by"], section["first_seen_at"], section["last_fetched_at"]) == (
        '"s-old"', "config", "2026-11-02T00:00:00Z", "2026-12-06T00:00:00Z")
    # conditional discovery: the validators are found from the configured (secret-holding) URL
    assert store.discovery_validators(db, f"{BASE}/feed.xml?token={SECRET}") == ('"f1"', None)
    assert store.discovery_validators(db, f"{BASE}/sitemap.xml?token={SECRET}")[0] == '"new"'
    assert store.discovery_validators(db, f"{BASE}/hooks/abcd-1234-path/rss") == ('"env"', None)
    db.conn.close()
    # no secret stays anywhere: errors, runs and sources rows redacted too
    assert _text_holding(path, SECRET) == []
    assert _text_holding(path, "abcd-1234-path") == []
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT url, message FROM crawl_errors").fetchone() == (
        f"{BASE}/feed.xml?token=[REDACTED]", f"HTTP 404 for {BASE}/feed.xml?token=[REDACTED]")
    assert conn.execute("SELECT home_url FROM sources").fetchone() == (f"{BASE}/?key=[REDACTED]",)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


def test_a_key_taken_by_an_article_keeps_the_article(tmp_path):
    path = tmp_path / "old.db"
    _old_database(path, [
        {"url": f"{BASE}/x?token={SECRET}", "kind": "feed", "etag": '"f"',
         "first_seen_at": "2026-10-01T00:00:00Z", "last_fetched_at": "2026-12-01T00:00:00Z"},
        {"url": f"{BASE}/x?token=[REDACTED]", "kind": "article",
         "first_seen_at": "2026-10-01T00:00:00Z", "last_fetched_at": "2026-11-01T00:00:00Z"}])
    db = store.connect(path)
    assert [(r["url"], r["kind"]) for r in db.query("SELECT url, kind FROM crawl_state")] == [
        (f"{BASE}/x?token=[REDACTED]", "article")]
    db.conn.close()


@pytest.mark.slow
def test_conditional_discovery_works_after_the_migration(tmp_path):
    """A real crawl (fault server on 127.0.0.1) of a feed and a sitemap configured with ?token=; the
    database is then put back in the old key form (the raw URL as key, as before the redaction
    change) and m014 marked not applied. The next crawl migrates it and fetches both
    conditionally (If-None-Match, 304), and nothing in the file holds the token."""
    from faultserver import FaultServer, run_crawl_cli

    class TokenServer(FaultServer):
        def respond(self, handler, entry):
            entry.path, _, entry.query = entry.path.partition("?")  # the token is the query
            return super().respond(handler, entry)

    db_path = tmp_path / "t.db"
    with TokenServer() as server:
        sources = tmp_path / "sources.toml"
        sources.write_text(f'[crawl]\ntimeout = 5\nrevisit_days = 3\nmax_depth = 1\nallow_private_addresses = true\n\n'
                           f'[[source]]\nid = "quiet-news"\nname = "Quiet News"\nhome = "{server.base}/quiet/"\n'
                           f'feeds = ["{server.base}/quiet/feed.xml?token={SECRET}"]\n'
                           f'sitemaps = ["{server.base}/quiet/sitemap.xml?token={SECRET}"]\n'
                           "allow = ['^/quiet/news/']\n", encoding="utf-8")
        run_crawl_cli(db_path, sources, since="all")
        conn = sqlite3.connect(db_path)
        keys = {url for (url,) in conn.execute("SELECT url FROM crawl_state WHERE kind IN ('feed', 'sitemap')")}
        assert {f"{server.base}/quiet/feed.xml?token=[REDACTED]",
                f"{server.base}/quiet/sitemap.xml?token=[REDACTED]"} <= keys
        # the old key form: what the crawler stored before discovery_key
        conn.execute("UPDATE crawl_state SET url = replace(url, '[REDACTED]', ?) WHERE kind IN ('feed', 'sitemap')",
                     [SECRET])
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [MIGRATION])
        conn.commit()
        conn.close()
        assert _text_holding(db_path, SECRET) == ["crawl_state.url"]
        server.clear_log()
        run_crawl_cli(db_path, sources, since="all")
        second = {r.path: (r.headers.get("if-none-match"), r.status) for r in server.requests
                  if r.path in ("/quiet/feed.xml", "/quiet/sitemap.xml") and r.query == f"token={SECRET}"}
    assert second == {"/quiet/feed.xml": ('"feed.xml-0"', 304), "/quiet/sitemap.xml": ('"sitemap.xml-0"', 304)}
    assert _text_holding(db_path, SECRET) == []


def test_a_secret_the_migrating_process_did_not_know_goes_at_the_next_crawls_start(tmp_path, monkeypatch):
    """m014 redacts the values of the secret variables of the process that migrates, often an
    interactive command without them; the crawl, which has them, redacts what is left at its start."""
    path_secret = "abcd-1234-path"
    monkeypatch.delenv("CUTTINGS_FEED_TOKEN", raising=False)
    feed = f"{BASE}/{path_secret}/feed.xml"
    _old_database(tmp_path / "c.db", [
        {"url": feed, "kind": "feed", "etag": '"e1"', "first_seen_at": "2026-10-01T00:00:00Z",
         "last_fetched_at": "2026-11-01T00:00:00Z"}])
    db = store.connect(tmp_path / "c.db")   # migrates: the path secret is no pattern, and not known here
    db.execute("INSERT INTO crawl_errors (crawl_run_id, source_id, url, kind, message, created_at) VALUES "
               "(1, 's', ?, 'http_500', 'HTTP 500', '2026-11-02T00:00:00Z')", [feed])
    db.conn.commit()
    assert store.redact_known_secrets(db) == {"rekeyed": 0, "merged": 0, "dropped": 0, "redacted": 0}
    assert _text_holding(tmp_path / "c.db", path_secret) == ["crawl_state.url", "crawl_errors.url"]
    monkeypatch.setenv("CUTTINGS_FEED_TOKEN", path_secret)   # the crawl's environment
    counts = store.redact_known_secrets(db)
    assert counts == {"rekeyed": 1, "merged": 0, "dropped": 0, "redacted": 1}
    assert _text_holding(tmp_path / "c.db", path_secret) == []
    assert store.discovery_validators(db, feed) == ('"e1"', None)   # found again under the redacted key
    assert store.redact_known_secrets(db) == {"rekeyed": 0, "merged": 0, "dropped": 0, "redacted": 0}
    db.conn.close()
