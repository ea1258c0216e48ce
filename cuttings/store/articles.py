"""Articles and crawl state: ``sources``, ``articles``, ``article_versions``,
``article_fingerprints`` and ``crawl_state``.

These are the crawler's reads and writes. What counts as a new story, a syndicated copy or
a material revision is the crawler's policy (``crawler.revisions``); the functions here only
store what it decided, each write in a transaction (joining the caller's batch if one is open).
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any, Iterable, Iterator

from sqlite_utils import Database

from cuttings.redaction import redact, secret_values, strip_controls
from cuttings.store.connection import transaction, utcnow
from cuttings.store.schema import QUOTE_TASKS


def sync_sources(db: Database, sources: Iterable[Any]) -> None:
    """The ``sources`` rows, a description of the configuration (the crawl reads sources.toml): a
    feed configured as ``...?token=...`` is stored redacted (``cuttings.redaction``), as in ``crawl_errors``."""
    now, secrets = utcnow(), secret_values()
    with db.atomic():
        for source in sources:
            db.execute(
                "INSERT INTO sources (id, name, home_url, region, verified, config_json, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
                "home_url = excluded.home_url, region = excluded.region, verified = excluded.verified, "
                "config_json = excluded.config_json, updated_at = excluded.updated_at",
                [source.id, source.name, redact(source.home, secrets), source.region, int(source.verified),
                 redact(json.dumps(source.as_dict(), sort_keys=True), secrets), now])


_WS = re.compile(r"\s+")


def normalise_text(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def content_hash(title: str | None, body: str | None) -> str:
    """Hash of the whitespace-normalised title and body: trivial reflows do not change it."""
    material = normalise_text(title).lower() + "\n" + normalise_text(body).lower()
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def word_count(text: str | None) -> int:
    return len(re.findall(r"\w+", text or ""))


def find_article(db: Database, canonical_url: str) -> dict | None:
    rows = list(db.query("SELECT * FROM articles WHERE canonical_url = ?", [canonical_url]))
    return rows[0] if rows else None


def article_text(db: Database, article_id: int) -> dict | None:
    """An article's ``title``, ``body``, ``published_at``, ``canonical_url``, ``source_id`` and its
    source's ``source_region`` (what the ``analyse`` stage reads of it)."""
    return articles_text(db, [article_id]).get(article_id)


def articles_text(db: Database, article_ids: Iterable[int]) -> dict[int, dict]:
    """``article_text`` of many articles in one query: {article id: row}; ids not stored are left out."""
    ids = list(article_ids)
    if not ids:
        return {}
    rows = db.query("SELECT a.id, a.title, a.body, a.published_at, a.canonical_url, a.source_id, "
                    "(SELECT s.region FROM sources s WHERE s.id = a.source_id) AS source_region "
                    "FROM articles a WHERE a.id IN (SELECT value FROM json_each(?))", [json.dumps(ids)])
    return {row.pop("id"): row for row in rows}


def article_with_outlet(db: Database, article_id: int) -> dict | None:
    """An article's ``title``, ``body``, ``published_at``, ``canonical_url`` and ``outlet`` (its source's
    name, else its source id, else ``''``), as the labelling screen shows it; None for an id not stored."""
    row = db.execute(
        "SELECT a.title, a.body, a.published_at, a.canonical_url, coalesce(s.name, a.source_id, '') "
        "FROM articles a LEFT JOIN sources s ON s.id = a.source_id WHERE a.id = ?", [article_id]).fetchone()
    if row is None:
        return None
    return dict(zip(("title", "body", "published_at", "canonical_url", "outlet"), row))


def story_of_url(db: Database, url: str) -> int | None:
    """The story an article URL is: the id of the article stored at that canonical URL, else fetched at
    it, else whose reader's address (``link_url``: the ``url`` of ``article_summary``, exports and the
    digest) it is, or of its original when that article is a syndicated copy (``duplicate_of``); None if
    no article has the URL."""
    row = db.execute("SELECT coalesce(duplicate_of, id) FROM articles WHERE canonical_url = ? OR url = ? "
                     "OR link_url = ? ORDER BY canonical_url = ? DESC, url = ? DESC LIMIT 1",
                     [url, url, url, url, url]).fetchone()
    return row[0] if row else None


def story_of(db: Database, article_id: int) -> int | None:
    """The story an article is: its own id, or its original's when it is a syndicated copy; None for an
    id not stored."""
    row = db.execute("SELECT coalesce(duplicate_of, id) FROM articles WHERE id = ?", [article_id]).fetchone()
    return row[0] if row else None


def syndication_facts(db: Database, article_id: int) -> dict | None:
    """What the crawler's syndication rules read of a stored article: ``published_at``,
    ``crawl_run_id`` (the run that first stored it), ``duplicate_of``, ``source_id`` and ``canonical_url``."""
    rows = list(db.query("SELECT published_at, crawl_run_id, duplicate_of, source_id, canonical_url FROM articles "
                         "WHERE id = ?", [article_id]))
    return rows[0] if rows else None


def copies_of(db: Database, original_id: int) -> list[dict]:
    """The syndicated copies of an original, first stored first: ``id``, ``minhash`` (blob),
    ``source_id`` and ``body`` of each (what the crawler compares with a revised original)."""
    return list(db.query(_MEMBER_SQL + " WHERE a.duplicate_of = ? ORDER BY a.id", [original_id]))


def syndication_member(db: Database, article_id: int) -> dict | None:
    """``id``, ``minhash`` (blob), ``source_id`` and ``body`` of one stored article, or None."""
    rows = list(db.query(_MEMBER_SQL + " WHERE a.id = ?", [article_id]))
    return rows[0] if rows else None


_MEMBER_SQL = ("SELECT a.id, f.minhash, a.source_id, a.body FROM articles a "
               "JOIN article_fingerprints f ON f.article_id = a.id")


def set_similarity(db: Database, article_id: int, similarity: float) -> None:
    """A syndicated copy's similarity to its original, measured again (its original or it was revised)."""
    with transaction(db):
        db.execute("UPDATE articles SET similarity = ? WHERE id = ? AND duplicate_of IS NOT NULL",
                   [similarity, article_id])


def set_duplicate_of(db: Database, article_id: int, original_id: int | None, similarity: float | None) -> None:
    """Re-link an article: a copy of ``original_id`` (with its ``similarity``), or, with None, an original
    of its own (a copy released because the text it was folded under changed)."""
    with transaction(db):
        db.execute("UPDATE articles SET duplicate_of = ?, similarity = ? WHERE id = ?",
                   [original_id, similarity if original_id is not None else None, article_id])


def articles_without_fingerprint(db: Database) -> list[tuple[int, str]]:
    """``(article_id, body)`` of the stored articles without a MinHash fingerprint: those whose body migration
    m035 cleaned of control characters, for the crawler to fingerprint with its own function
    (:func:`set_fingerprint`)."""
    return [tuple(row) for row in db.execute(
        "SELECT a.id, a.body FROM articles a WHERE NOT EXISTS "
        "(SELECT 1 FROM article_fingerprints f WHERE f.article_id = a.id) ORDER BY a.id").fetchall()]


def set_fingerprint(db: Database, fingerprints: list[tuple[int, bytes]]) -> None:
    """Store articles' MinHash fingerprints (``(article_id, blob)``), replacing any, in one transaction."""
    with transaction(db):
        db.conn.executemany("INSERT INTO article_fingerprints (article_id, minhash) VALUES (?, ?) "
                            "ON CONFLICT(article_id) DO UPDATE SET minhash = excluded.minhash", fingerprints)


def original_fingerprints(db: Database) -> Iterator[tuple[int, bytes]]:
    """``(article_id, minhash blob)`` of every stored original (not of syndicated copies)."""
    for row in db.query("SELECT f.article_id, f.minhash FROM article_fingerprints f "
                        "JOIN articles a ON a.id = f.article_id WHERE a.duplicate_of IS NULL"):
        yield row["article_id"], row["minhash"]


def recent_original_bodies(db: Database, days: int) -> Iterator[tuple[int, str | None, str]]:
    """``(article_id, source_id, body)`` of every original (not a syndicated copy) first seen in the last
    ``days`` days: the crawler compares a new page with these for rewordings within one outlet."""
    for row in db.query("SELECT id, source_id, body FROM articles WHERE duplicate_of IS NULL AND source_id IS NOT NULL "
                        "AND first_seen_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?)", [f"-{int(days)} days"]):
        yield row["id"], row["source_id"], row["body"] or ""


def insert_article(db: Database, item: dict, run_id: int | None, *, fingerprint: bytes,
                   duplicate_of: int | None = None, similarity: float | None = None) -> int:
    """Store a first-seen article (version 1, its first ``article_versions`` row and its MinHash
    fingerprint); returns its id. ``item`` keys: url, canonical_url (normalised), link_url (the
    address a reader opens; ``url`` when missing), source_id, title, body, author, published_at,
    published_source, modified_at, modified_source, found_by, language, description, section, paywalled."""
    now = utcnow()
    title, body = item.get("title") or "", item.get("body") or ""
    digest = content_hash(title, body)
    with transaction(db):
        cur = db.execute(
            "INSERT INTO articles (url, canonical_url, link_url, source_id, title, author, published_at, "
            "published_source, modified_at, modified_source, first_seen_at, last_seen_at, last_changed_at, body, "
            "word_count, content_hash, duplicate_of, similarity, found_by, language, description, section, "
            "paywalled, version, crawl_run_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
            [item["url"], item["canonical_url"], item.get("link_url") or item["url"], item.get("source_id"), title,
             item.get("author"),
             item.get("published_at"), item.get("published_source"), item.get("modified_at"),
             item.get("modified_source"), now, now, now, body, word_count(body), digest,
             duplicate_of, similarity, item.get("found_by"), item.get("language"), item.get("description"),
             item.get("section"), int(bool(item.get("paywalled"))), run_id])
        article_id = cur.lastrowid
        db.execute(
            "INSERT INTO article_versions (article_id, version, title, body, content_hash, captured_at, "
            "diff_summary, crawl_run_id) VALUES (?, 1, ?, ?, ?, ?, 'first seen', ?)",
            [article_id, title, body, digest, now, run_id])
        db.execute("INSERT INTO article_fingerprints (article_id, minhash) VALUES (?, ?)", [article_id, fingerprint])
    return article_id


def make_original(db: Database, article_id: int, former_original: int, similarity: float) -> None:
    """``article_id`` becomes the original of its syndication group: the former original and
    its copies point at it instead. The story's human labels (given to the former original, where
    a story's labels live) go with it; corrections of a quote stay with the article whose quote
    they correct."""
    with transaction(db):
        db.execute("UPDATE labels SET article_id = ? WHERE article_id = ? AND task NOT IN "
                   f"({', '.join('?' for _ in QUOTE_TASKS)})", [article_id, former_original, *QUOTE_TASKS])
        db.execute("UPDATE articles SET duplicate_of = NULL, similarity = NULL WHERE id = ?", [article_id])
        db.execute("UPDATE articles SET duplicate_of = ? WHERE id = ? OR duplicate_of = ?",
                   [article_id, former_original, former_original])
        db.execute("UPDATE articles SET similarity = ? WHERE id = ?", [similarity, former_original])


def touch_article(db: Database, article_id: int, url: str | None) -> None:
    """Seen again without a material change: move ``last_seen_at`` (and the URL it was seen at, unless None)."""
    with transaction(db):
        db.execute("UPDATE articles SET last_seen_at = ?, url = coalesce(?, url) WHERE id = ?",
                   [utcnow(), url, article_id])


def same_path_articles(db: Database, canonical_url: str, source_id: str | None) -> list[tuple[int, bytes]]:
    """``(article_id, minhash blob)`` of the stored articles of ``source_id`` whose canonical URL is
    ``canonical_url`` without its query string, or that with any query string (``/story``, ``/story?x=1``),
    first stored first. (A range over the unique index on canonical_url: ``?`` then ``@`` in ASCII.)"""
    base = canonical_url.split("#", 1)[0].split("?", 1)[0]
    return [tuple(row) for row in db.execute(
        "SELECT a.id, f.minhash FROM articles a JOIN article_fingerprints f ON f.article_id = a.id "
        "WHERE (a.canonical_url = ? OR (a.canonical_url >= ? AND a.canonical_url < ?)) AND a.source_id IS ? "
        "AND a.canonical_url != ? ORDER BY a.id", [base, base + "?", base + "@", source_id, canonical_url]).fetchall()]


def add_revision(db: Database, existing: dict, item: dict, run_id: int | None, *, fingerprint: bytes,
                 summary: str, headline_changed: bool, is_correction: bool) -> int:
    """Store a material revision of ``existing`` (its ``articles`` row): the new text on the
    article, a new ``article_versions`` row, the new fingerprint. Returns the new version."""
    now = utcnow()
    title, body = item.get("title") or "", item.get("body") or ""
    digest = content_hash(title, body)
    article_id, version = existing["id"], existing["version"] + 1
    with transaction(db):
        db.execute(
            "UPDATE articles SET url = ?, link_url = ?, title = ?, body = ?, word_count = ?, content_hash = ?, "
            "author = ?, modified_at = coalesce(?, modified_at), modified_source = coalesce(?, modified_source), "
            "last_seen_at = ?, last_changed_at = ?, version = ?, paywalled = ? WHERE id = ?",
            [item["url"], item.get("link_url") or item["url"], title, body, word_count(body), digest,
             item.get("author") or existing["author"],
             item.get("modified_at"), item.get("modified_source"), now, now, version,
             int(bool(item.get("paywalled"))), article_id])
        db.execute(
            "INSERT INTO article_versions (article_id, version, title, body, content_hash, captured_at, "
            "diff_summary, headline_changed, is_correction, crawl_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [article_id, version, title, body, digest, now, summary, int(headline_changed),
             int(is_correction), run_id])
        db.execute("UPDATE article_fingerprints SET minhash = ? WHERE article_id = ?", [fingerprint, article_id])
    return version


def record_article_fetch(db: Database, item: dict, article_id: int) -> None:
    """Remember a fetched article page in ``crawl_state`` (validators, hash, status) for incremental crawls."""
    now = utcnow()
    with transaction(db):
        db.execute(
            "INSERT INTO crawl_state (url, source_id, kind, canonical_url, article_id, etag, last_modified, "
            "content_hash, http_status, found_by, first_seen_at, last_fetched_at) "
            "VALUES (?, ?, 'article', ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET "
            "kind = 'article', canonical_url = excluded.canonical_url, article_id = excluded.article_id, "
            "etag = excluded.etag, last_modified = excluded.last_modified, content_hash = excluded.content_hash, "
            "http_status = excluded.http_status, last_fetched_at = excluded.last_fetched_at, reject_reason = NULL",
            [item.get("fetched_url") or item["url"], item.get("source_id"), item["canonical_url"], article_id,
             item.get("etag"), item.get("last_modified"), content_hash(item.get("title"), item.get("body")),
             item.get("http_status", 200), item.get("found_by"), now, now])


DISCOVERY_KINDS = ("feed", "sitemap", "section")


def discovery_key(url: str) -> str:
    """The ``crawl_state`` key of a feed, sitemap or section page: its URL with secrets redacted
    (``?token=...`` of a configured feed), as every stored URL that comes from the configuration."""
    return redact(url, secret_values())


def rekey_discovery_state(db: Database) -> dict[str, int]:
    """Re-key ``crawl_state`` feed, sitemap and section rows stored under their raw URL (before
    :func:`discovery_key`: a configured ``?token=...`` in the key) by their redacted key, so no
    secret stays in the table and the validators are found again (conditional requests).

    A row whose redacted key is already taken by another feed, sitemap or section row is merged
    into it: the row fetched last (``last_fetched_at``; the already-redacted row on a tie) gives
    the state, its ETag and Last-Modified falling back on the other's as :func:`record_fetch`
    does, and ``first_seen_at`` is the earlier of the two. A key taken by an article or rejected
    page keeps that row; the secret-keyed one is dropped (the feed is fetched unconditionally
    once). Runs inside the caller's transaction (a migration). Returns ``{"rekeyed": n, "merged": n,
    "dropped": n}``."""
    secrets = secret_values()
    counts = {"rekeyed": 0, "merged": 0, "dropped": 0}
    kinds = ", ".join(f"'{kind}'" for kind in DISCOVERY_KINDS)
    columns = ("url", "source_id", "kind", "etag", "last_modified", "http_status", "found_by", "first_seen_at",
               "last_fetched_at", "reject_reason")
    rows = db.execute(f"SELECT {', '.join(columns)} FROM crawl_state WHERE kind IN ({kinds}) ORDER BY rowid").fetchall()
    for values in rows:
        old = dict(zip(columns, values))
        key = redact(old["url"], secrets)
        if key == old["url"]:
            continue
        found = db.execute(f"SELECT {', '.join(columns)} FROM crawl_state WHERE url = ?", [key]).fetchone()
        if found is None:
            db.execute("UPDATE crawl_state SET url = ? WHERE url = ?", [key, old["url"]])
            counts["rekeyed"] += 1
            continue
        current = dict(zip(columns, found))
        db.execute("DELETE FROM crawl_state WHERE url = ?", [old["url"]])
        if current["kind"] not in DISCOVERY_KINDS:
            counts["dropped"] += 1
            continue
        newer, older = ((old, current) if (old["last_fetched_at"] or "") > (current["last_fetched_at"] or "")
                        else (current, old))
        db.execute("UPDATE crawl_state SET source_id = ?, kind = ?, etag = ?, last_modified = ?, http_status = ?, "
                   "found_by = ?, first_seen_at = ?, last_fetched_at = ?, reject_reason = ? WHERE url = ?",
                   [newer["source_id"] or older["source_id"], newer["kind"],
                    newer["etag"] if newer["etag"] is not None else older["etag"],
                    newer["last_modified"] if newer["last_modified"] is not None else older["last_modified"],
                    newer["http_status"], newer["found_by"] or older["found_by"],
                    min(old["first_seen_at"], current["first_seen_at"]), newer["last_fetched_at"],
                    newer["reject_reason"], key])
        counts["merged"] += 1
    return counts


def record_fetch(db: Database, url: str, *, source_id: str | None, kind: str, found_by: str | None = None,
                 etag: str | None = None, last_modified: str | None = None, http_status: int | None = None,
                 reject_reason: str | None = None) -> None:
    """Remember a fetched non-article URL (feed, sitemap, section, rejected page) for incremental crawls.
    Feeds, sitemaps and section pages are keyed by :func:`discovery_key`."""
    if kind in DISCOVERY_KINDS:
        url = discovery_key(url)
    if reject_reason is not None:  # may quote a response header (Content-Type): no ESC, BEL ...
        reject_reason = strip_controls(reject_reason)
    now = utcnow()
    with db.atomic():
        db.execute(
            "INSERT INTO crawl_state (url, source_id, kind, etag, last_modified, http_status, found_by, first_seen_at, "
            "last_fetched_at, reject_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET "
            "kind = excluded.kind, etag = coalesce(excluded.etag, etag), "
            "last_modified = coalesce(excluded.last_modified, last_modified), http_status = excluded.http_status, "
            "last_fetched_at = excluded.last_fetched_at, reject_reason = excluded.reject_reason",
            [url, source_id, kind, etag, last_modified, http_status, found_by, now, now, reject_reason])


def known_url(db: Database, url: str) -> dict | None:
    """What the store knows of a (normalised) URL: its ``crawl_state`` kind, validators and reject
    reason, and the stored article's dates (a rejected page's first fetch as ``first_seen_at``);
    None for a URL never fetched."""
    rows = list(db.query(KNOWN_URL_SQL + " WHERE s.url = ?", [url]))
    return rows[0] if rows else None


# What the incremental rules read of a URL (``known_url``; the distributed writer publishes every row).
KNOWN_URL_SQL = ("SELECT s.url, s.kind, s.etag, s.last_modified, s.reject_reason, s.last_fetched_at, a.published_at, "
                 "coalesce(a.first_seen_at, s.first_seen_at) AS first_seen_at "
                 "FROM crawl_state s LEFT JOIN articles a ON a.id = s.article_id")


def discovery_validators(db: Database, url: str) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) of a feed or sitemap fetched completely before, else (None, None)."""
    row = db.execute("SELECT etag, last_modified FROM crawl_state WHERE url = ? AND kind IN ('feed', 'sitemap')",
                     [discovery_key(url)]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def save_discovery_validators(db: Database, validators: dict[str, tuple[str | None, str | None]]) -> None:
    """Store ``{url: (etag, last_modified)}`` of feeds and sitemaps read in full this run."""
    with transaction(db):
        for url, (etag, last_modified) in validators.items():
            db.execute("UPDATE crawl_state SET etag = ?, last_modified = ? WHERE url = ?",
                       [etag, last_modified, discovery_key(url)])


def record_not_modified(db: Database, url: str) -> None:
    """A known article answered 304 Not Modified: it was seen now, unchanged."""
    now = utcnow()
    with transaction(db):
        db.execute("UPDATE crawl_state SET last_fetched_at = ?, http_status = 304 WHERE url = ?", [now, url])
        db.execute("UPDATE articles SET last_seen_at = ? WHERE id = "
                   "(SELECT article_id FROM crawl_state WHERE url = ?)", [now, url])


def author_key(name: str) -> str:
    """``article_authors.name_key``: the name ASCII-folded, lower-cased, punctuation removed."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^\w\s-]", " ", folded.lower()).replace("_", " ").split())


def replace_authors(db: Database, article_id: int, authors: list[str], source: str | None = None) -> None:
    """Store an article's byline as one ``article_authors`` row per person, in byline order,
    replacing earlier rows. ``source``: where the byline came from (json-ld, meta, markup, text)."""
    with transaction(db):
        db.execute("DELETE FROM article_authors WHERE article_id = ?", [article_id])
        for position, name in enumerate(dict.fromkeys(a.strip() for a in authors if a and a.strip())):
            db.execute("INSERT INTO article_authors (article_id, position, name, name_key, source) "
                       "VALUES (?, ?, ?, ?, ?)", [article_id, position, name, author_key(name), source])
