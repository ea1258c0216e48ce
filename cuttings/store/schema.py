"""Schema and migrations: the one place the database's tables and views are defined.

The schema is built and upgraded by sqlite-utils migrations (``Migrations("cuttings")``),
run in order, each once, each in a transaction; nothing outside ``cuttings.store`` writes
DDL. Conventions: WAL journal, foreign keys on, ISO-8601 UTC timestamps
(``YYYY-MM-DDTHH:MM:SSZ``; ``YYYY-MM-DD`` where only a date is known).
``docs/schema.md`` documents every table, column and view.
"""
from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("cuttings")

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
