"""The SQLite store: the one module that owns the database schema.

Every stage (crawl, analyse, classify, report) talks to the others only through
this database. The schema is built and upgraded by sqlite-utils migrations
(``Migrations("cuttings")``); nothing else in the project writes DDL.
Conventions: WAL journal, foreign keys on, ISO-8601 UTC timestamps
(``YYYY-MM-DDTHH:MM:SSZ``; ``YYYY-MM-DD`` where only a date is known).
``docs/schema.md`` documents every table, column and view.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlite_utils import Database, Migrations

REPO_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_DIR / "data"
DEFAULT_DB = DATA_DIR / "cuttings.db"

migrations = Migrations("cuttings")


class StoreError(Exception):
    """A problem with the database a user can fix (missing file, not a cuttings database)."""


def utcnow() -> str:
    """The current time as an ISO-8601 UTC string, second precision."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_db_path() -> Path:
    return Path(os.environ.get("CUTTINGS_DB") or DEFAULT_DB)


# --------------------------------------------------------------------------
# Schema (migrations run in order, each once, each in a transaction)
# --------------------------------------------------------------------------

_INITIAL = [
    """CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        home_url TEXT,
        region TEXT,
        verified INTEGER NOT NULL DEFAULT 0,
        config_json TEXT,
        updated_at TEXT
    )""",
    """CREATE TABLE crawl_runs (
        id INTEGER PRIMARY KEY,
        command TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running'
            CHECK (status IN ('running', 'ok', 'partial', 'failed', 'interrupted')),
        pid INTEGER,
        since TEXT,
        pages_fetched INTEGER NOT NULL DEFAULT 0,
        articles_new INTEGER NOT NULL DEFAULT 0,
        articles_updated INTEGER NOT NULL DEFAULT 0,
        articles_unchanged INTEGER NOT NULL DEFAULT 0,
        duplicates INTEGER NOT NULL DEFAULT 0,
        pages_rejected INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        stages_json TEXT,
        message TEXT
    )""",
    """CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL,
        canonical_url TEXT NOT NULL UNIQUE,
        source_id TEXT REFERENCES sources(id),
        title TEXT,
        author TEXT,
        published_at TEXT,
        published_source TEXT,
        modified_at TEXT,
        modified_source TEXT,
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        last_changed_at TEXT,
        body TEXT NOT NULL DEFAULT '',
        word_count INTEGER NOT NULL DEFAULT 0,
        content_hash TEXT NOT NULL,
        duplicate_of INTEGER REFERENCES articles(id),
        similarity REAL,
        found_by TEXT,
        language TEXT,
        description TEXT,
        section TEXT,
        paywalled INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 1,
        crawl_run_id INTEGER REFERENCES crawl_runs(id)
    )""",
    """CREATE TABLE article_versions (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        title TEXT,
        body TEXT,
        content_hash TEXT NOT NULL,
        captured_at TEXT NOT NULL,
        diff_summary TEXT,
        headline_changed INTEGER NOT NULL DEFAULT 0,
        is_correction INTEGER NOT NULL DEFAULT 0,
        crawl_run_id INTEGER REFERENCES crawl_runs(id),
        UNIQUE (article_id, version)
    )""",
    """CREATE TABLE article_fingerprints (
        article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
        minhash BLOB NOT NULL
    )""",
    """CREATE TABLE crawl_state (
        url TEXT PRIMARY KEY,
        source_id TEXT REFERENCES sources(id),
        kind TEXT NOT NULL DEFAULT 'article' CHECK (kind IN ('article', 'feed', 'sitemap', 'section', 'rejected')),
        canonical_url TEXT,
        article_id INTEGER REFERENCES articles(id) ON DELETE SET NULL,
        etag TEXT,
        last_modified TEXT,
        content_hash TEXT,
        http_status INTEGER,
        found_by TEXT,
        first_seen_at TEXT NOT NULL,
        last_fetched_at TEXT,
        reject_reason TEXT
    )""",
    """CREATE TABLE crawl_errors (
        id INTEGER PRIMARY KEY,
        crawl_run_id INTEGER NOT NULL REFERENCES crawl_runs(id),
        source_id TEXT,
        url TEXT,
        kind TEXT NOT NULL,
        http_status INTEGER,
        message TEXT,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE source_runs (
        crawl_run_id INTEGER NOT NULL REFERENCES crawl_runs(id),
        source_id TEXT NOT NULL REFERENCES sources(id),
        found_by_feed INTEGER NOT NULL DEFAULT 0,
        found_by_sitemap INTEGER NOT NULL DEFAULT 0,
        found_by_links INTEGER NOT NULL DEFAULT 0,
        found_by_search INTEGER NOT NULL DEFAULT 0,
        pages_fetched INTEGER NOT NULL DEFAULT 0,
        articles_stored INTEGER NOT NULL DEFAULT 0,
        articles_new INTEGER NOT NULL DEFAULT 0,
        pages_rejected INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        mean_body_words REAL,
        date_rate REAL,
        warning TEXT,
        PRIMARY KEY (crawl_run_id, source_id)
    )""",
    """CREATE TABLE entities (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        watchlist_version TEXT
    )""",
    """CREATE TABLE mentions (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        entity_id TEXT NOT NULL REFERENCES entities(id),
        surface TEXT NOT NULL,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL,
        sentence TEXT,
        paragraph INTEGER,
        method TEXT NOT NULL DEFAULT 'matched' CHECK (method IN ('matched', 'fuzzy', 'inferred')),
        analyser_version TEXT NOT NULL
    )""",
    """CREATE TABLE quotes (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        speaker TEXT,
        speaker_role TEXT,
        entity_id TEXT REFERENCES entities(id),
        text TEXT NOT NULL,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL,
        analyser_version TEXT NOT NULL
    )""",
    """CREATE TABLE models (
        version TEXT PRIMARY KEY,
        task TEXT NOT NULL,
        path TEXT NOT NULL,
        labels_json TEXT,
        training_data_hash TEXT,
        n_examples INTEGER,
        metrics_json TEXT,
        card_json TEXT,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE classifications (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        task TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        label TEXT NOT NULL,
        probability REAL,
        uncertain INTEGER NOT NULL DEFAULT 0,
        model_version TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        task TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        label TEXT NOT NULL,
        annotator TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE processing (
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        stage TEXT NOT NULL,
        version TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        processed_at TEXT NOT NULL,
        PRIMARY KEY (article_id, stage)
    )""",
    """CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        since TEXT,
        until TEXT NOT NULL,
        format TEXT NOT NULL,
        path TEXT,
        stories INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX idx_articles_published_at ON articles(published_at)",
    "CREATE INDEX idx_articles_first_seen_at ON articles(first_seen_at)",
    "CREATE INDEX idx_articles_source_id ON articles(source_id)",
    "CREATE INDEX idx_articles_duplicate_of ON articles(duplicate_of)",
    "CREATE INDEX idx_articles_content_hash ON articles(content_hash)",
    "CREATE INDEX idx_article_versions_article_id ON article_versions(article_id)",
    "CREATE INDEX idx_crawl_state_article_id ON crawl_state(article_id)",
    "CREATE INDEX idx_crawl_state_canonical_url ON crawl_state(canonical_url)",
    "CREATE INDEX idx_crawl_errors_run ON crawl_errors(crawl_run_id)",
    "CREATE INDEX idx_crawl_errors_created_at ON crawl_errors(created_at)",
    "CREATE INDEX idx_source_runs_source ON source_runs(source_id, crawl_run_id)",
    "CREATE INDEX idx_mentions_article_id ON mentions(article_id)",
    "CREATE INDEX idx_mentions_entity_id ON mentions(entity_id)",
    "CREATE INDEX idx_quotes_article_id ON quotes(article_id)",
    "CREATE INDEX idx_quotes_entity_id ON quotes(entity_id)",
    "CREATE INDEX idx_classifications_article_id ON classifications(article_id)",
    "CREATE INDEX idx_classifications_task_label ON classifications(task, label)",
    "CREATE UNIQUE INDEX idx_classifications_unique ON classifications(article_id, task, target, label)",
    "CREATE INDEX idx_labels_article_task ON labels(article_id, task, target)",
]


@migrations()
def m001_initial_schema(db: Database) -> None:
    for statement in _INITIAL:
        db.execute(statement)
    # Full-text search over title and body, kept in step by triggers.
    db["articles"].enable_fts(["title", "body"], fts_version="FTS5", create_triggers=True,
                              tokenize="porter")


_VIEWS = {
    # One row per story (syndicated copies folded into the first copy); human labels win.
    "article_summary": """
SELECT
  a.id AS article_id,
  a.title,
  a.canonical_url AS url,
  a.source_id,
  s.name AS outlet,
  a.published_at,
  a.first_seen_at,
  a.modified_at,
  a.word_count,
  a.paywalled,
  a.version,
  (SELECT group_concat(entity_id, ',') FROM
     (SELECT DISTINCT m.entity_id FROM mentions m WHERE m.article_id = a.id ORDER BY m.entity_id)) AS entities,
  (SELECT group_concat(label, ',') FROM
     (SELECT label FROM effective_labels e WHERE e.article_id = a.id AND e.task = 'topics' ORDER BY label)) AS topics,
  (SELECT label FROM effective_labels e WHERE e.article_id = a.id AND e.task = 'stance_governance') AS stance,
  (SELECT json_group_object(target, label) FROM effective_labels e
     WHERE e.article_id = a.id AND e.task = 'tone') AS tone,
  (SELECT max(uncertain) FROM effective_labels e WHERE e.article_id = a.id) AS uncertain,
  (SELECT group_concat(label, ',') FROM
     (SELECT label FROM effective_labels e WHERE e.article_id = a.id AND e.task = 'topics' AND e.uncertain
      ORDER BY label)) AS topics_uncertain,
  (SELECT max(uncertain) FROM effective_labels e
     WHERE e.article_id = a.id AND e.task = 'stance_governance') AS stance_uncertain,
  (SELECT json_group_object(target, uncertain) FROM effective_labels e
     WHERE e.article_id = a.id AND e.task = 'tone') AS tone_uncertain,
  (SELECT max(human) FROM effective_labels e WHERE e.article_id = a.id) AS human_corrected,
  (SELECT count(*) FROM articles c WHERE c.duplicate_of = a.id) AS syndicated_copies
FROM articles a
LEFT JOIN sources s ON s.id = a.source_id
WHERE a.duplicate_of IS NULL
""",
    # Labels analysts see: a human label for (article, task, target) replaces every prediction for it;
    # for topics, any human topic answer replaces all predicted topics, and a later '__rejected__'
    # row (target = the topic) withdraws an earlier human topic.
    "effective_labels": """
SELECT article_id, task, target, label, NULL AS probability, 0 AS uncertain, 1 AS human,
       annotator AS decided_by
FROM labels l
WHERE l.id IN (SELECT max(id) FROM labels
               GROUP BY article_id, task,
                        CASE WHEN task != 'topics' THEN target WHEN label = '__rejected__' THEN target ELSE label END)
  AND l.label != '__rejected__'
UNION ALL
SELECT c.article_id, c.task, c.target, c.label, c.probability, c.uncertain, 0 AS human,
       c.model_version AS decided_by
FROM classifications c
WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.article_id = c.article_id AND l.task = c.task
                  AND (c.task = 'topics' OR l.target = c.target))
""",
    "entity_daily": """
SELECT
  m.entity_id,
  substr(coalesce(a.published_at, a.first_seen_at), 1, 10) AS day,
  count(DISTINCT a.id) AS articles,
  count(DISTINCT CASE WHEN st.label = 'favour' THEN a.id END) AS stance_favour,
  count(DISTINCT CASE WHEN st.label = 'against' THEN a.id END) AS stance_against,
  count(DISTINCT CASE WHEN st.label = 'neutral' THEN a.id END) AS stance_neutral,
  count(DISTINCT CASE WHEN tn.label = 'positive' THEN a.id END) AS tone_positive,
  count(DISTINCT CASE WHEN tn.label = 'negative' THEN a.id END) AS tone_negative,
  count(DISTINCT CASE WHEN tn.label = 'neutral' THEN a.id END) AS tone_neutral
FROM mentions m
JOIN articles a ON a.id = m.article_id AND a.duplicate_of IS NULL
LEFT JOIN effective_labels st ON st.article_id = a.id AND st.task = 'stance_governance'
LEFT JOIN effective_labels tn ON tn.article_id = a.id AND tn.task = 'tone' AND tn.target = m.entity_id
GROUP BY m.entity_id, day
""",
    "quotes_by_speaker": """
SELECT
  q.speaker,
  q.speaker_role,
  q.entity_id,
  q.entity_method,
  q.text AS quote,
  a.id AS article_id,
  a.title,
  a.canonical_url AS url,
  a.source_id,
  a.published_at
FROM quotes q
JOIN articles a ON a.id = q.article_id
WHERE a.duplicate_of IS NULL
""",
}


@migrations()
def m002_views(db: Database) -> None:
    # effective_labels first: the others read it.
    for name in ("effective_labels", "article_summary", "entity_daily", "quotes_by_speaker"):
        db.execute(f"CREATE VIEW {name} AS {_VIEWS[name]}")


@migrations()
def m003_named_entities(db: Database) -> None:
    """Other people and organisations found by an optional statistical NER pipeline."""
    db.execute("""CREATE TABLE named_entities (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        label TEXT NOT NULL,
        text TEXT NOT NULL,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL,
        analyser_version TEXT NOT NULL
    )""")
    db.execute("CREATE INDEX idx_named_entities_article_id ON named_entities(article_id)")
    db.execute("CREATE INDEX idx_named_entities_text ON named_entities(label, text)")


@migrations()
def m004_quote_entity_method(db: Database) -> None:
    """How a quote's entity was found: stated in the article, or from the speaker's earlier quotes."""
    db.execute("ALTER TABLE quotes ADD COLUMN entity_method TEXT")
    db.execute("UPDATE quotes SET entity_method = 'stated' WHERE entity_id IS NOT NULL")


@migrations()
def m005_quotes_by_speaker_entity_method(db: Database) -> None:
    """quotes_by_speaker shows how each quote's entity was found (quotes.entity_method)."""
    db.execute("DROP VIEW IF EXISTS quotes_by_speaker")
    db.execute(f"CREATE VIEW quotes_by_speaker AS {_VIEWS['quotes_by_speaker']}")


@migrations()
def m006_article_summary_uncertain_per_task(db: Database) -> None:
    """article_summary says which verdicts are unsure: topics_uncertain, stance_uncertain, tone_uncertain."""
    db.execute("DROP VIEW IF EXISTS article_summary")
    db.execute(f"CREATE VIEW article_summary AS {_VIEWS['article_summary']}")


# --------------------------------------------------------------------------
# Opening
# --------------------------------------------------------------------------

def connect(path: str | Path, *, create: bool = True, migrate: bool = True) -> Database:
    """Open (and by default create and migrate) a cuttings database.

    ``create=False`` refuses a missing file with :class:`StoreError` instead of
    creating an empty database, so a mistyped ``--db`` writes nothing.
    """
    path = Path(path)
    if not create and not path.exists():
        raise StoreError(f"database not found: {path} (run `cuttings demo` or `cuttings crawl` first, or pass --db)")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=30)
        db = Database(conn)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 30000")
        if db.journal_mode != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        if migrate:
            if not create and "articles" not in db.table_names():
                raise StoreError(f"{path} is not a cuttings database")
            migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from None
    return db


def table_counts(db: Database) -> dict[str, int]:
    """Row counts for every table (FTS shadow tables left out)."""
    counts = {}
    for name in db.table_names():
        if name.startswith("articles_fts") or name.startswith("_"):
            continue
        counts[name] = db.execute(f"SELECT count(*) FROM [{name}]").fetchone()[0]
    return counts


# --------------------------------------------------------------------------
# Crawl runs
# --------------------------------------------------------------------------

def start_run(db: Database, command: str, since: str | None = None) -> int:
    with db.atomic():
        cur = db.execute(
            "INSERT INTO crawl_runs (command, started_at, status, pid, since) VALUES (?, ?, 'running', ?, ?)",
            [command, utcnow(), os.getpid(), since],
        )
    return cur.lastrowid


def finish_run(db: Database, run_id: int, status: str, *, message: str | None = None,
               stages: dict | None = None, **counts: int) -> None:
    allowed = {"pages_fetched", "articles_new", "articles_updated", "articles_unchanged",
               "duplicates", "pages_rejected", "errors"}
    values = {k: v for k, v in counts.items() if k in allowed}
    with db.atomic():
        sets = ", ".join(f"{k} = ?" for k in values)
        params = list(values.values())
        db.execute(
            "UPDATE crawl_runs SET finished_at = ?, status = ?, message = ?, stages_json = ?"
            + (", " + sets if sets else "") + " WHERE id = ?",
            [utcnow(), status, message, json.dumps(stages) if stages is not None else None, *params, run_id],
        )


def last_successful_run(db: Database, command_prefix: str = "crawl") -> dict | None:
    rows = list(db.query(
        "SELECT * FROM crawl_runs WHERE status IN ('ok', 'partial') AND command LIKE ? "
        "ORDER BY started_at DESC, id DESC LIMIT 1", [command_prefix + "%"]))
    return rows[0] if rows else None


def record_error(db: Database, run_id: int, kind: str, *, url: str | None = None,
                 source_id: str | None = None, http_status: int | None = None,
                 message: str | None = None) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO crawl_errors (crawl_run_id, source_id, url, kind, http_status, message, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [run_id, source_id, url, kind, http_status, (message or "")[:2000], utcnow()])
        db.execute("UPDATE crawl_runs SET errors = errors + 1 WHERE id = ?", [run_id])


# --------------------------------------------------------------------------
# Sources and entities (configuration mirrored into the database for joins)
# --------------------------------------------------------------------------

def sync_sources(db: Database, sources: Iterable[Any]) -> None:
    now = utcnow()
    with db.atomic():
        for source in sources:
            db.execute(
                "INSERT INTO sources (id, name, home_url, region, verified, config_json, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
                "home_url = excluded.home_url, region = excluded.region, verified = excluded.verified, "
                "config_json = excluded.config_json, updated_at = excluded.updated_at",
                [source.id, source.name, source.home, source.region, int(source.verified),
                 json.dumps(source.as_dict(), sort_keys=True), now])


def sync_entities(db: Database, watchlist: Any) -> None:
    with db.atomic():
        for entity in watchlist.entities:
            db.execute(
                "INSERT INTO entities (id, name, kind, watchlist_version) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
                "watchlist_version = excluded.watchlist_version",
                [entity.id, entity.name, entity.kind, watchlist.version])


# --------------------------------------------------------------------------
# Articles
# --------------------------------------------------------------------------

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


def _to_process_sql(columns: str, requires: tuple[str, str] | None) -> str:
    sql = (f"SELECT {columns} FROM articles a LEFT JOIN processing p ON p.article_id = a.id AND p.stage = ? "
           "WHERE (p.article_id IS NULL OR p.version != ? OR p.content_hash != a.content_hash)")
    if requires:
        sql += (" AND EXISTS (SELECT 1 FROM processing r WHERE r.article_id = a.id AND r.stage = ? "
                "AND r.version = ? AND r.content_hash = a.content_hash)")
    return sql


def articles_to_process(db: Database, stage: str, version: str, *, limit: int | None = None,
                        requires: tuple[str, str] | None = None) -> Iterator[dict]:
    """Articles the given stage has not processed at this version (or whose text changed since).

    ``requires=(stage, version)`` limits them to articles that an earlier stage has already
    processed at its current version (classify needs the mentions that analyse writes).
    """
    sql = _to_process_sql("a.id, a.title, a.body, a.published_at, a.content_hash, p.version AS processed_version",
                          requires) + " ORDER BY a.id"
    params: list[Any] = [stage, version, *(requires or ())]
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    yield from db.query(sql, params)


def count_to_process(db: Database, stage: str, version: str, *, requires: tuple[str, str] | None = None) -> int:
    return db.execute(_to_process_sql("count(*)", requires), [stage, version, *(requires or ())]).fetchone()[0]


def mark_processed(db: Database, article_id: int, stage: str, version: str, content_hash_: str) -> None:
    db.conn.execute(
        "INSERT INTO processing (article_id, stage, version, content_hash, processed_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(article_id, stage) DO UPDATE SET version = excluded.version, "
        "content_hash = excluded.content_hash, processed_at = excluded.processed_at",
        [article_id, stage, version, content_hash_, utcnow()])


@contextlib.contextmanager
def _transaction(db: Database):
    """A transaction, unless the caller already holds one (a stage's batch): then its writes
    join that transaction, without a savepoint per article."""
    if db.conn.in_transaction:
        yield
    else:
        with db.atomic():
            yield


def document_text(title: str | None, body: str | None) -> str:
    """The text the analyser reads and its offsets point into: title, blank line, body."""
    return f"{title or ''}\n\n{body or ''}"


def replace_analysis(db: Database, article: dict, version: str, mentions: list[dict], quotes: list[dict],
                     named_entities: list[dict] | None = None) -> None:
    """Store one article's mentions, quotes (and named entities, when NER is on), replacing
    any older analysis, in one transaction."""
    with _transaction(db):
        if article.get("processed_version") is not None:  # analysed before: replace the old rows
            for table in ("mentions", "quotes", "named_entities"):
                db.conn.execute(f"DELETE FROM {table} WHERE article_id = ?", [article["id"]])
        db.conn.executemany(
            "INSERT INTO named_entities (article_id, label, text, start_char, end_char, analyser_version) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(article["id"], e["label"], e["text"], e["start_char"], e["end_char"], version)
             for e in named_entities or ()])
        db.conn.executemany(
            "INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, sentence, paragraph, "
            "method, analyser_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(article["id"], m["entity_id"], m["surface"], m["start_char"], m["end_char"], m.get("sentence"),
              m.get("paragraph"), m.get("method", "matched"), version) for m in mentions])
        db.conn.executemany(
            "INSERT INTO quotes (article_id, speaker, speaker_role, entity_id, entity_method, text, start_char, "
            "end_char, analyser_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(article["id"], q.get("speaker"), q.get("speaker_role"), q.get("entity_id"),
              q.get("entity_method") or ("stated" if q.get("entity_id") else None), q["text"],
              q["start_char"], q["end_char"], version) for q in quotes])
        mark_processed(db, article["id"], "analyse", version, article["content_hash"])


def replace_classifications(db: Database, article: dict, version: str, rows: list[dict]) -> None:
    """Store one article's predictions (task, target, label, probability, uncertain, model_version)."""
    now = utcnow()
    with _transaction(db):
        if article.get("processed_version") is not None:
            db.conn.execute("DELETE FROM classifications WHERE article_id = ?", [article["id"]])
        db.conn.executemany(
            "INSERT INTO classifications (article_id, task, target, label, probability, uncertain, model_version, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(article["id"], r["task"], r.get("target", ""), r["label"], r.get("probability"),
              int(bool(r.get("uncertain"))), r["model_version"], now) for r in rows])
        mark_processed(db, article["id"], "classify", version, article["content_hash"])


def analyses_of(db: Database, article_ids: list[int]) -> dict[int, dict[str, list[dict]]]:
    """``{article_id: {"mentions": [...], "quotes": [...]}}`` for many articles in two queries,
    each list in text order."""
    found: dict[int, dict[str, list[dict]]] = {article_id: {"mentions": [], "quotes": []} for article_id in article_ids}
    if not article_ids:
        return found
    ids = json.dumps(list(article_ids))
    for row in db.query(
            "SELECT article_id, entity_id, surface, start_char, end_char, sentence, paragraph, method FROM mentions "
            "WHERE article_id IN (SELECT value FROM json_each(?)) ORDER BY article_id, start_char", [ids]):
        found[row.pop("article_id")]["mentions"].append(row)
    for row in db.query(
            "SELECT article_id, speaker, speaker_role, entity_id, text, start_char, end_char FROM quotes "
            "WHERE article_id IN (SELECT value FROM json_each(?)) ORDER BY article_id, start_char", [ids]):
        found[row.pop("article_id")]["quotes"].append(row)
    return found


def link_known_speakers(db: Database) -> int:
    """Link every quote whose article does not say whom the speaker speaks for to the entity that
    other stored articles state for that person (``nlp.quotes.SpeakerMemory``), over the whole
    database, so the result does not depend on the order articles were analysed in. Articles whose
    quote links change are marked for classification again (tone reads the quotes). Returns how
    many quotes changed."""
    from nlp.quotes import SpeakerMemory

    memory = SpeakerMemory()
    memory.learn(db.query("SELECT speaker, entity_id, entity_method FROM quotes "
                          "WHERE entity_method = 'stated' AND speaker IS NOT NULL"))
    changed = memory.link(list(db.query(
        "SELECT id, article_id, speaker, entity_id, entity_method FROM quotes "
        "WHERE speaker IS NOT NULL AND (entity_method IS NULL OR entity_method = 'known_speaker')")))
    if not changed:
        return 0
    with db.atomic():
        db.conn.executemany("UPDATE quotes SET entity_id = ?, entity_method = ? WHERE id = ?",
                            [(row["entity_id"], row["entity_method"], row["id"]) for row in changed])
        db.conn.executemany("UPDATE processing SET version = 'quotes relinked' WHERE article_id = ? AND stage = 'classify'",
                            [(article_id,) for article_id in sorted({row["article_id"] for row in changed})])
    return len(changed)


def article_mentions(db: Database, article_id: int) -> list[dict]:
    """One article's mentions, in text order."""
    return analyses_of(db, [article_id])[article_id]["mentions"]


def record_model(db: Database, card: dict, path: str) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO models (version, task, path, labels_json, training_data_hash, n_examples, metrics_json, "
            "card_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(version) DO UPDATE SET "
            "path = excluded.path, card_json = excluded.card_json",
            [card["model_version"], card["task"], path, json.dumps(card.get("labels")),
             card.get("training_data_hash"), card.get("n_examples"), json.dumps(card.get("metrics")),
             json.dumps(card, sort_keys=True), card.get("created_at") or utcnow()])


# --------------------------------------------------------------------------
# Saving crawled articles: dedupe, syndication, revisions
# --------------------------------------------------------------------------

_CORRECTION = re.compile(r"\b(correction|clarification|this (article|story) (was|has been) (amended|updated|corrected))\b",
                         re.I)


# Text that changes on every render without the story changing: clock times, dates next to
# "updated"/"published", relative ages, and share/comment/view counters.
_VOLATILE = re.compile(
    r"\b\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s*(?:am|pm|bst|gmt|utc)?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{4}\b"
    r"|\b\d{4}-\d{2}-\d{2}(?:t[\d:.]+z?)?\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|\b\d+\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?)\s+ago\b"
    r"|\b[\d.,]+\s*[km]?\s+(?:shares?|comments?|views?|likes?|reactions?|times)\b"
    r"|\b(?:shared|viewed|liked)\s+[\d.,]+\s*[km]?\s+times\b", re.I)


def _skeleton(text: str | None) -> list[str]:
    """Words of a text with volatile parts (times, dates, counters), punctuation and case removed."""
    return re.findall(r"\w+", _VOLATILE.sub(" ", text or "").lower())


def diff_summary(old_title: str, old_body: str, new_title: str, new_body: str) -> tuple[str, bool, bool]:
    """A short human summary of a revision, whether the headline changed, and whether it is a correction.

    E.g. ``headline changed: 'Old' -> 'New'; body +12/-0 words ("The council said a final ...");
    correction added``.
    """
    import difflib

    old_words, new_words = normalise_text(old_body).split(), normalise_text(new_body).split()
    added = removed = 0
    first_insert = None
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_words, new_words, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            removed += i2 - i1
        if op in ("replace", "insert"):
            added += j2 - j1
            if first_insert is None:
                first_insert = new_words[j1:j2]
    headline_changed = _skeleton(old_title) != _skeleton(new_title)
    parts = []
    if headline_changed:
        parts.append(f"headline changed: {_clip(normalise_text(old_title))!r} -> {_clip(normalise_text(new_title))!r}")
    if added or removed:
        sample = " ".join(first_insert[:8]) + (" ..." if len(first_insert) > 8 else "") if first_insert else ""
        parts.append(f"body +{added}/-{removed} words" + (f' ("{sample}")' if sample else ""))
    is_correction = bool(_CORRECTION.search(new_body or "")) and not _CORRECTION.search(old_body or "")
    if is_correction:
        parts.append("correction added")
    return "; ".join(parts) or "formatting only", headline_changed, is_correction


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_material_change(old_title: str, old_body: str, new_title: str, new_body: str) -> bool:
    """Whether a revision matters: changes only to whitespace, punctuation, case, clock times,
    "updated" dates, relative ages or share/comment counts are not material; any other word
    or number (a corrected figure) is."""
    return _skeleton(old_title) != _skeleton(new_title) or _skeleton(old_body) != _skeleton(new_body)


def _published_earlier(published_at: str | None, db: Database, other_id: int) -> bool:
    """Whether ``published_at`` is strictly earlier than the other article's date. A date
    without a time is compared by day only, so a same-day tie keeps the first copy seen."""
    other = db.execute("SELECT published_at FROM articles WHERE id = ?", [other_id]).fetchone()
    if not (published_at and other and other[0]):
        return False
    mine, theirs = published_at, other[0]
    if len(mine) == 10 or len(theirs) == 10:
        return mine[:10] < theirs[:10]
    return mine < theirs


def save_article(db: Database, item: dict, run_id: int | None, index: Any = None) -> tuple[str, int]:
    """Store one extracted article idempotently. Returns (status, article_id) where status is
    ``new``, ``duplicate`` (a new syndicated copy, stored and linked), ``updated`` (material
    revision: new ``article_versions`` row), or ``unchanged``.

    ``item`` keys: url, canonical_url (normalised), source_id, title, body, author,
    published_at, published_source, modified_at, modified_source, found_by, language,
    description, section, paywalled, and optional etag / last_modified.
    """
    from cuttings import dedupe

    now = utcnow()
    title, body = item.get("title") or "", item.get("body") or ""
    digest = content_hash(title, body)
    existing = find_article(db, item["canonical_url"])
    with db.atomic():
        if existing is None:
            minhash = (dedupe.from_blob(item["fingerprint"]) if item.get("fingerprint")
                       else dedupe.fingerprint(body))
            original = index.find_original(minhash) if index is not None else None
            cur = db.execute(
                "INSERT INTO articles (url, canonical_url, source_id, title, author, published_at, published_source, "
                "modified_at, modified_source, first_seen_at, last_seen_at, last_changed_at, body, word_count, "
                "content_hash, duplicate_of, similarity, found_by, language, description, section, paywalled, "
                "version, crawl_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                [item["url"], item["canonical_url"], item.get("source_id"), title, item.get("author"),
                 item.get("published_at"), item.get("published_source"), item.get("modified_at"),
                 item.get("modified_source"), now, now, now, body, word_count(body), digest,
                 original[0] if original else None, round(original[1], 3) if original else None,
                 item.get("found_by"), item.get("language"), item.get("description"), item.get("section"),
                 int(bool(item.get("paywalled"))), run_id])
            article_id = cur.lastrowid
            db.execute(
                "INSERT INTO article_versions (article_id, version, title, body, content_hash, captured_at, "
                "diff_summary, crawl_run_id) VALUES (?, 1, ?, ?, ?, ?, 'first seen', ?)",
                [article_id, title, body, digest, now, run_id])
            db.execute("INSERT INTO article_fingerprints (article_id, minhash) VALUES (?, ?)",
                       [article_id, dedupe.to_blob(minhash)])
            status = "duplicate" if original else "new"
            if original and _published_earlier(item.get("published_at"), db, original[0]):
                # The copy seen first was not the first published: this one becomes the original.
                db.execute("UPDATE articles SET duplicate_of = NULL, similarity = NULL WHERE id = ?", [article_id])
                db.execute("UPDATE articles SET duplicate_of = ? WHERE id = ? OR duplicate_of = ?",
                           [article_id, original[0], original[0]])
                db.execute("UPDATE articles SET similarity = ? WHERE id = ?", [round(original[1], 3), original[0]])
                if index is not None:
                    index.remove(original[0])
                original = None
            if index is not None and not original:
                index.add(article_id, minhash)
        else:
            article_id = existing["id"]
            if existing["content_hash"] == digest or not is_material_change(
                    existing["title"], existing["body"], title, body):
                db.execute("UPDATE articles SET last_seen_at = ?, url = ? WHERE id = ?", [now, item["url"], article_id])
                status = "unchanged"
            else:
                summary, headline_changed, is_correction = diff_summary(existing["title"], existing["body"], title, body)
                version = existing["version"] + 1
                db.execute(
                    "UPDATE articles SET url = ?, title = ?, body = ?, word_count = ?, content_hash = ?, author = ?, "
                    "modified_at = coalesce(?, modified_at), modified_source = coalesce(?, modified_source), "
                    "last_seen_at = ?, last_changed_at = ?, version = ?, paywalled = ? WHERE id = ?",
                    [item["url"], title, body, word_count(body), digest, item.get("author") or existing["author"],
                     item.get("modified_at"), item.get("modified_source"), now, now, version,
                     int(bool(item.get("paywalled"))), article_id])
                db.execute(
                    "INSERT INTO article_versions (article_id, version, title, body, content_hash, captured_at, "
                    "diff_summary, headline_changed, is_correction, crawl_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [article_id, version, title, body, digest, now, summary, int(headline_changed),
                     int(is_correction), run_id])
                minhash = (dedupe.from_blob(item["fingerprint"]) if item.get("fingerprint")
                           else dedupe.fingerprint(body))
                db.execute("UPDATE article_fingerprints SET minhash = ? WHERE article_id = ?",
                           [dedupe.to_blob(minhash), article_id])
                status = "updated"
        db.execute(
            "INSERT INTO crawl_state (url, source_id, kind, canonical_url, article_id, etag, last_modified, "
            "content_hash, http_status, found_by, first_seen_at, last_fetched_at) "
            "VALUES (?, ?, 'article', ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET "
            "kind = 'article', canonical_url = excluded.canonical_url, article_id = excluded.article_id, "
            "etag = excluded.etag, last_modified = excluded.last_modified, content_hash = excluded.content_hash, "
            "http_status = excluded.http_status, last_fetched_at = excluded.last_fetched_at, reject_reason = NULL",
            [item.get("fetched_url") or item["url"], item.get("source_id"), item["canonical_url"], article_id,
             item.get("etag"), item.get("last_modified"), digest, item.get("http_status", 200),
             item.get("found_by"), now, now])
    return status, article_id


def record_fetch(db: Database, url: str, *, source_id: str | None, kind: str, found_by: str | None = None,
                 etag: str | None = None, last_modified: str | None = None, http_status: int | None = None,
                 reject_reason: str | None = None) -> None:
    """Remember a fetched non-article URL (feed, sitemap, section, rejected page) for incremental crawls."""
    now = utcnow()
    with db.atomic():
        db.execute(
            "INSERT INTO crawl_state (url, source_id, kind, etag, last_modified, http_status, found_by, first_seen_at, "
            "last_fetched_at, reject_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET "
            "kind = excluded.kind, etag = coalesce(excluded.etag, etag), "
            "last_modified = coalesce(excluded.last_modified, last_modified), http_status = excluded.http_status, "
            "last_fetched_at = excluded.last_fetched_at, reject_reason = excluded.reject_reason",
            [url, source_id, kind, etag, last_modified, http_status, found_by, now, now, reject_reason])
