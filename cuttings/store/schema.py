"""Schema and migrations: the one place the database's tables and views are defined.

The schema is built and upgraded by sqlite-utils migrations (``Migrations("cuttings")``),
run in order, each once, each in a transaction; nothing outside ``cuttings.store`` writes
DDL. Conventions: WAL journal, foreign keys on, ISO-8601 UTC timestamps
(``YYYY-MM-DDTHH:MM:SSZ``; ``YYYY-MM-DD`` where only a date is known).
``docs/schema.md`` documents every table, column and view.
"""
from __future__ import annotations

import json
import re

from sqlite_utils import Database, Migrations

migrations = Migrations("cuttings")
# A name that landed on main is final: a database holding a name this code does not know is taken for a newer
# cuttings's and refused (store.connection.unknown_migrations); renumbering one that landed needs an entry in
# store.connection.RENAMED_MIGRATIONS.

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


# SQL turning a stored date or timestamp (``YYYY-MM-DD`` or ISO with ``Z``/offset) into the one
# form pandas and spreadsheets read without loss: ``YYYY-MM-DDTHH:MM:SSZ`` (a date becomes midnight
# UTC; its ``*_precision`` column says ``day``). Unparseable text gives NULL (the raw value stays in
# ``articles``).
def _iso_sql(column: str) -> str:
    return f"strftime('%Y-%m-%dT%H:%M:%SZ', {column})"


def _precision_sql(column: str) -> str:
    return (f"CASE WHEN {column} IS NULL OR strftime('%s', {column}) IS NULL THEN NULL "
            f"WHEN length(trim({column})) = 10 THEN 'day' ELSE 'second' END")


_VIEWS_V6 = {
    "article_summary": f"""
SELECT
  a.id AS article_id,
  a.title,
  a.canonical_url AS url,
  a.source_id,
  s.name AS outlet,
  {_iso_sql('a.published_at')} AS published_at,
  {_precision_sql('a.published_at')} AS published_precision,
  {_iso_sql('a.first_seen_at')} AS first_seen_at,
  {_iso_sql('a.modified_at')} AS modified_at,
  a.word_count,
  a.paywalled,
  a.version,
  (SELECT group_concat(entity_id, ',') FROM
     (SELECT DISTINCT m.entity_id FROM mentions m WHERE m.article_id = a.id ORDER BY m.entity_id)) AS entities,
  (SELECT json_group_array(name) FROM
     (SELECT DISTINCT coalesce(en.display_name, en.name, m.entity_id) AS name FROM mentions m
      LEFT JOIN entities en ON en.id = m.entity_id WHERE m.article_id = a.id ORDER BY name)) AS bodies,
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
    # Tone columns are NULL ("not rated") for a body no tone model or person has ever rated.
    "entity_daily": """
SELECT
  m.entity_id,
  substr(coalesce(a.published_at, a.first_seen_at), 1, 10) AS day,
  count(DISTINCT a.id) AS articles,
  count(DISTINCT CASE WHEN st.label = 'favour' THEN a.id END) AS stance_favour,
  count(DISTINCT CASE WHEN st.label = 'against' THEN a.id END) AS stance_against,
  count(DISTINCT CASE WHEN st.label = 'neutral' THEN a.id END) AS stance_neutral,
  CASE WHEN r.rated THEN count(DISTINCT CASE WHEN tn.label = 'positive' THEN a.id END) END AS tone_positive,
  CASE WHEN r.rated THEN count(DISTINCT CASE WHEN tn.label = 'negative' THEN a.id END) END AS tone_negative,
  CASE WHEN r.rated THEN count(DISTINCT CASE WHEN tn.label = 'neutral' THEN a.id END) END AS tone_neutral,
  r.rated AS tone_rated
FROM mentions m
JOIN articles a ON a.id = m.article_id AND a.duplicate_of IS NULL
JOIN (SELECT e.id AS entity_id,
             EXISTS (SELECT 1 FROM classifications c WHERE c.task = 'tone' AND c.target = e.id)
             OR EXISTS (SELECT 1 FROM labels l WHERE l.task = 'tone' AND l.target = e.id) AS rated
      FROM entities e) r ON r.entity_id = m.entity_id
LEFT JOIN effective_labels st ON st.article_id = a.id AND st.task = 'stance_governance'
LEFT JOIN effective_labels tn ON tn.article_id = a.id AND tn.task = 'tone' AND tn.target = m.entity_id
GROUP BY m.entity_id, day
""",
    # Every quote, with a person's correction of its speaker or body (labels task quote_speaker /
    # quote_entity, target "start:end" of the quote) applied, and its body's display name.
    "quote_view": """
SELECT
  q.id AS quote_id,
  q.article_id,
  coalesce((SELECT l.label FROM labels l WHERE l.article_id = q.article_id AND l.task = 'quote_speaker'
            AND l.target = q.start_char || ':' || q.end_char ORDER BY l.id DESC LIMIT 1), q.speaker) AS speaker,
  q.speaker_role,
  coalesce((SELECT nullif(l.label, '') FROM labels l WHERE l.article_id = q.article_id AND l.task = 'quote_entity'
            AND l.target = q.start_char || ':' || q.end_char ORDER BY l.id DESC LIMIT 1), q.entity_id) AS entity_id,
  CASE WHEN EXISTS (SELECT 1 FROM labels l WHERE l.article_id = q.article_id AND l.task IN ('quote_speaker', 'quote_entity')
                    AND l.target = q.start_char || ':' || q.end_char) THEN 'corrected' ELSE q.entity_method END
    AS entity_method,
  q.text,
  q.start_char,
  q.end_char
FROM quotes q
""",
    "quotes_by_speaker": f"""
SELECT
  q.speaker,
  q.speaker_role,
  q.entity_id,
  coalesce(en.display_name, en.name) AS body,
  q.entity_method,
  q.text AS quote,
  a.id AS article_id,
  a.title,
  a.canonical_url AS url,
  a.source_id,
  {_iso_sql('a.published_at')} AS published_at,
  {_precision_sql('a.published_at')} AS published_precision
FROM quote_view q
JOIN articles a ON a.id = q.article_id
LEFT JOIN entities en ON en.id = q.entity_id
WHERE a.duplicate_of IS NULL
""",
    # Who is quoted most for each watched body (copies left out), ranked within the body.
    "most_quoted": """
SELECT entity_id, body, speaker, quotes, stories, first_quoted, last_quoted,
       rank() OVER (PARTITION BY entity_id ORDER BY quotes DESC, stories DESC) AS rank
FROM (SELECT entity_id, body, speaker, count(*) AS quotes, count(DISTINCT article_id) AS stories,
             min(coalesce(published_at, '')) AS first_quoted, max(published_at) AS last_quoted
      FROM quotes_by_speaker WHERE entity_id IS NOT NULL AND speaker IS NOT NULL
      GROUP BY entity_id, body, speaker)
""",
    # Stories that ran in more than one outlet: the original, every outlet in order first seen.
    "syndication": f"""
SELECT
  o.id AS article_id,
  o.title,
  o.canonical_url AS url,
  coalesce(so.name, o.source_id) AS first_outlet,
  (SELECT group_concat(outlet, ', ') FROM
     (SELECT coalesce(s.name, c.source_id) AS outlet, min(c.first_seen_at) AS seen FROM articles c
      LEFT JOIN sources s ON s.id = c.source_id WHERE c.id = o.id OR c.duplicate_of = o.id
      GROUP BY outlet ORDER BY seen, outlet)) AS outlets,
  (SELECT count(DISTINCT c.source_id) FROM articles c WHERE c.id = o.id OR c.duplicate_of = o.id) AS n_outlets,
  (SELECT count(*) FROM articles c WHERE c.duplicate_of = o.id) AS copies,
  {_iso_sql('o.published_at')} AS published_at,
  {_precision_sql('o.published_at')} AS published_precision,
  (SELECT {_iso_sql('min(c.first_seen_at)')} FROM articles c WHERE c.id = o.id OR c.duplicate_of = o.id) AS first_seen_at,
  (SELECT {_iso_sql('max(c.first_seen_at)')} FROM articles c WHERE c.id = o.id OR c.duplicate_of = o.id) AS last_seen_at
FROM articles o
LEFT JOIN sources so ON so.id = o.source_id
WHERE o.duplicate_of IS NULL AND EXISTS (SELECT 1 FROM articles c WHERE c.duplicate_of = o.id)
""",
}


@migrations()
def m006_analyst_views(db: Database) -> None:
    """Display names of watched bodies; uniform ISO dates with a precision column in the views;
    "not rated" tone in entity_daily; quote corrections applied; most_quoted and syndication views."""
    if "display_name" not in db["entities"].columns_dict:
        db.execute("ALTER TABLE entities ADD COLUMN display_name TEXT")
    for name in ("quotes_by_speaker", "article_summary", "entity_daily"):
        db.execute(f"DROP VIEW IF EXISTS {name}")
    for name in ("article_summary", "entity_daily", "quote_view", "quotes_by_speaker", "most_quoted",
                 "syndication"):
        db.execute(f"CREATE VIEW {name} AS {_VIEWS_V6[name]}")


@migrations()
def m007_article_authors(db: Database) -> None:
    """One row per person in an article's byline, so analysts can group by journalist."""
    db.execute("""CREATE TABLE article_authors (
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        source TEXT,
        PRIMARY KEY (article_id, position)
    )""")
    db.execute("CREATE INDEX idx_article_authors_name_key ON article_authors(name_key)")


# Which verdicts of a story are unsure (issue 18), for the digest's "(unsure)" and the exports.
_UNCERTAIN_LINE = "  (SELECT max(uncertain) FROM effective_labels e WHERE e.article_id = a.id) AS uncertain,\n"
_PER_TASK_UNCERTAIN = """\
  (SELECT group_concat(label, ',') FROM
     (SELECT label FROM effective_labels e WHERE e.article_id = a.id AND e.task = 'topics' AND e.uncertain
      ORDER BY label)) AS topics_uncertain,
  (SELECT max(uncertain) FROM effective_labels e
     WHERE e.article_id = a.id AND e.task = 'stance_governance') AS stance_uncertain,
  (SELECT json_group_object(target, uncertain) FROM effective_labels e
     WHERE e.article_id = a.id AND e.task = 'tone') AS tone_uncertain,
"""
_VIEWS_V7 = {
    "article_summary": _VIEWS_V6["article_summary"].replace(_UNCERTAIN_LINE, _UNCERTAIN_LINE + _PER_TASK_UNCERTAIN),
}


# The speaker's identity: one key per person across articles (nlp.quotes.speaker_identity), so
# analysts count quotes per person, not per spelling ("John Campion", "Mr Campion").
_VIEWS_V8 = {
    "quote_view": _VIEWS_V6["quote_view"].replace("  q.speaker_role,\n", "  q.speaker_id,\n  q.speaker_role,\n", 1),
    "quotes_by_speaker": _VIEWS_V6["quotes_by_speaker"].replace(
        "SELECT\n  q.speaker,\n",
        "SELECT\n  q.speaker_id,\n"
        "  count(*) OVER (PARTITION BY coalesce(q.speaker_id, q.speaker)) AS speaker_quotes,\n  q.speaker,\n", 1),
    # Who is quoted most for each watched body, one row per person (all their spellings together).
    "most_quoted": """
SELECT entity_id, body, speaker_id, speaker, quotes, stories, first_quoted, last_quoted,
       rank() OVER (PARTITION BY entity_id ORDER BY quotes DESC, stories DESC) AS rank
FROM (SELECT entity_id, body, max(speaker_id) AS speaker_id, max(speaker) AS speaker, count(*) AS quotes,
             count(DISTINCT article_id) AS stories,
             min(coalesce(published_at, '')) AS first_quoted, max(published_at) AS last_quoted
      FROM quotes_by_speaker WHERE entity_id IS NOT NULL AND speaker IS NOT NULL
      GROUP BY entity_id, body, coalesce(speaker_id, speaker))
""",
}


@migrations()
def m008_article_summary_uncertain_per_task(db: Database) -> None:
    """article_summary says which verdicts are unsure: topics_uncertain, stance_uncertain, tone_uncertain."""
    db.execute("DROP VIEW IF EXISTS article_summary")
    db.execute(f"CREATE VIEW article_summary AS {_VIEWS_V7['article_summary']}")


_VIEWS_V9 = {
    # The same columns as m008's (per-task uncertainty included), in reading order: what a story is and what it says first,
    # identifiers and housekeeping last (Datasette shows them left to right).
    "article_summary": f"""
SELECT
  a.id AS article_id,
  a.title,
  s.name AS outlet,
  {_iso_sql('a.published_at')} AS published_at,
  (SELECT json_group_array(name) FROM
     (SELECT DISTINCT coalesce(en.display_name, en.name, m.entity_id) AS name FROM mentions m
      LEFT JOIN entities en ON en.id = m.entity_id WHERE m.article_id = a.id ORDER BY name)) AS bodies,
  (SELECT label FROM effective_labels e WHERE e.article_id = a.id AND e.task = 'stance_governance') AS stance,
  (SELECT json_group_object(target, label) FROM effective_labels e
     WHERE e.article_id = a.id AND e.task = 'tone') AS tone,
  (SELECT group_concat(label, ',') FROM
     (SELECT label FROM effective_labels e WHERE e.article_id = a.id AND e.task = 'topics' ORDER BY label)) AS topics,
  (SELECT max(uncertain) FROM effective_labels e WHERE e.article_id = a.id) AS uncertain,
  (SELECT max(human) FROM effective_labels e WHERE e.article_id = a.id) AS human_corrected,
  (SELECT count(*) FROM articles c WHERE c.duplicate_of = a.id) AS syndicated_copies,
  {_precision_sql('a.published_at')} AS published_precision,
  {_iso_sql('a.first_seen_at')} AS first_seen_at,
  {_iso_sql('a.modified_at')} AS modified_at,
  (SELECT group_concat(entity_id, ',') FROM
     (SELECT DISTINCT m.entity_id FROM mentions m WHERE m.article_id = a.id ORDER BY m.entity_id)) AS entities,
  a.source_id,
  a.canonical_url AS url,
  a.word_count,
  a.paywalled,
  a.version
FROM articles a
LEFT JOIN sources s ON s.id = a.source_id
WHERE a.duplicate_of IS NULL
""",
    # entity_daily with each body's display name beside its id (facets by name).
    "entity_daily": """
SELECT
  m.entity_id,
  coalesce(en.display_name, en.name, m.entity_id) AS body,
  substr(coalesce(a.published_at, a.first_seen_at), 1, 10) AS day,
  count(DISTINCT a.id) AS articles,
  count(DISTINCT CASE WHEN st.label = 'favour' THEN a.id END) AS stance_favour,
  count(DISTINCT CASE WHEN st.label = 'against' THEN a.id END) AS stance_against,
  count(DISTINCT CASE WHEN st.label = 'neutral' THEN a.id END) AS stance_neutral,
  CASE WHEN r.rated THEN count(DISTINCT CASE WHEN tn.label = 'positive' THEN a.id END) END AS tone_positive,
  CASE WHEN r.rated THEN count(DISTINCT CASE WHEN tn.label = 'negative' THEN a.id END) END AS tone_negative,
  CASE WHEN r.rated THEN count(DISTINCT CASE WHEN tn.label = 'neutral' THEN a.id END) END AS tone_neutral,
  r.rated AS tone_rated
FROM mentions m
JOIN articles a ON a.id = m.article_id AND a.duplicate_of IS NULL
JOIN (SELECT e.id AS entity_id,
             EXISTS (SELECT 1 FROM classifications c WHERE c.task = 'tone' AND c.target = e.id)
             OR EXISTS (SELECT 1 FROM labels l WHERE l.task = 'tone' AND l.target = e.id) AS rated
      FROM entities e) r ON r.entity_id = m.entity_id
LEFT JOIN entities en ON en.id = m.entity_id
LEFT JOIN effective_labels st ON st.article_id = a.id AND st.task = 'stance_governance'
LEFT JOIN effective_labels tn ON tn.article_id = a.id AND tn.task = 'tone' AND tn.target = m.entity_id
GROUP BY m.entity_id, day
""",
}
_VIEWS_V9["article_summary"] = _VIEWS_V9["article_summary"].replace(_UNCERTAIN_LINE, _UNCERTAIN_LINE + _PER_TASK_UNCERTAIN)


@migrations()
def m009_reading_order_and_body_names(db: Database) -> None:
    """article_summary's columns in reading order (headline, outlet, date, bodies, stance, tone first);
    entity_daily gains the body's display name."""
    for name in ("article_summary", "entity_daily"):
        db.execute(f"DROP VIEW IF EXISTS {name}")
        db.execute(f"CREATE VIEW {name} AS {_VIEWS_V9[name]}")


@migrations()
def m010_quote_speaker_identity(db: Database) -> None:
    """quotes.speaker_id: who the speaker is across articles ("john campion" for John Campion, Mr
    Campion and John-Paul Campion); quote_view, quotes_by_speaker (with each person's quote count)
    and most_quoted group by it. Filled by `cuttings analyse` (the analyser version changed)."""
    db.execute("ALTER TABLE quotes ADD COLUMN speaker_id TEXT")
    db.execute("CREATE INDEX idx_quotes_speaker_id ON quotes(speaker_id)")
    for name in ("most_quoted", "quotes_by_speaker", "quote_view"):
        db.execute(f"DROP VIEW IF EXISTS {name}")
    for name in ("quote_view", "quotes_by_speaker", "most_quoted"):
        db.execute(f"CREATE VIEW {name} AS {_VIEWS_V8[name]}")


@migrations()
def m011_crawl_notices(db: Database) -> None:
    """Things a crawl did on purpose that a user should be able to see: a budget hit, a
    rel=canonical refused or in conflict (not errors: they do not make a run partial)."""
    db.execute("""CREATE TABLE crawl_notices (
        id INTEGER PRIMARY KEY,
        crawl_run_id INTEGER NOT NULL REFERENCES crawl_runs(id),
        source_id TEXT,
        url TEXT,
        kind TEXT NOT NULL,
        message TEXT,
        created_at TEXT NOT NULL
    )""")
    db.execute("CREATE INDEX idx_crawl_notices_run ON crawl_notices(crawl_run_id)")


# One name per speaker identity, for people reading the output: the spelling the stored quotes use
# most among full names (first name and surname, no honorific), so "Mr Campion" and "Councillor John
# Campion" are shown as "John Campion". The digest and most_quoted both read it.
_HONORIFICS_SQL = ", ".join(f"'{word}'" for word in (
    "mr", "mrs", "ms", "miss", "mx", "dr", "councillor", "cllr", "sir", "dame", "lord", "lady", "baroness",
    "prof", "professor", "rev", "revd"))
_VIEWS_V12 = {
    "speaker_names": f"""
SELECT speaker_id, name, spellings, quotes FROM (
  SELECT speaker_id, speaker AS name,
         count(*) OVER (PARTITION BY speaker_id) AS spellings,
         sum(n) OVER (PARTITION BY speaker_id) AS quotes,
         row_number() OVER (PARTITION BY speaker_id
                            ORDER BY full_name DESC, n DESC, length(speaker) DESC, speaker) AS pick
  FROM (SELECT speaker_id, speaker, count(*) AS n,
               (instr(trim(speaker), ' ') > 0
                AND lower(rtrim(substr(trim(speaker), 1, instr(trim(speaker), ' ') - 1), '.'))
                    NOT IN ({_HONORIFICS_SQL})
                AND substr(trim(speaker), 1, 1) != lower(substr(trim(speaker), 1, 1))) AS full_name
        FROM quotes WHERE speaker_id IS NOT NULL AND speaker IS NOT NULL
        GROUP BY speaker_id, speaker))
WHERE pick = 1
""",
    "most_quoted": _VIEWS_V8["most_quoted"].replace(
        "SELECT entity_id, body, speaker_id, speaker, quotes,",
        "SELECT entity_id, body, grouped.speaker_id, coalesce(n.name, grouped.speaker) AS speaker, quotes,", 1).replace(
        "quotes, stories, first_quoted, last_quoted,\n       rank() OVER (PARTITION BY entity_id ORDER BY quotes DESC",
        "grouped.quotes AS quotes, stories, first_quoted, last_quoted,\n"
        "       rank() OVER (PARTITION BY entity_id ORDER BY grouped.quotes DESC", 1).replace(
        "      GROUP BY entity_id, body, coalesce(speaker_id, speaker))",
        "      GROUP BY entity_id, body, coalesce(speaker_id, speaker)) AS grouped\n"
        "LEFT JOIN speaker_names n ON n.speaker_id = grouped.speaker_id", 1),
}


@migrations()
def m012_speaker_names(db: Database) -> None:
    """speaker_names: the name shown for each speaker identity (its most used full name);
    most_quoted shows it instead of one spelling picked at random."""
    db.execute(f"CREATE VIEW speaker_names AS {_VIEWS_V12['speaker_names']}")
    db.execute("DROP VIEW IF EXISTS most_quoted")
    db.execute(f"CREATE VIEW most_quoted AS {_VIEWS_V12['most_quoted']}")


# The label scheme's tasks by kind (issue: another team's stance task): the views read "the topics task",
# "the stance task" and "the tone task" by kind, not by the shipped names, so a scheme whose single-label
# task is `stance_closures` fills article_summary.stance. label_tasks is written when a model is recorded
# (its card's kind: store.record_model) or by store.record_label_tasks; a kind's newest row is the one read.
# Seeded with the shipped scheme's tasks (and the kinds of models already recorded), so a database that
# never saw another scheme reads as before.
_LABEL_TASK_KINDS = ("multi_label", "single_label", "per_entity")
_TASK_OF_KIND = {kind: f"(SELECT name FROM label_tasks WHERE kind = '{kind}' ORDER BY updated_at DESC, name LIMIT 1)"
                 for kind in _LABEL_TASK_KINDS}
_MULTI_LABEL_TASKS = "(SELECT name FROM label_tasks WHERE kind = 'multi_label')"


def _by_kind(sql: str, replacements: list[tuple[str, str, int]]) -> str:
    for old, new, count in replacements:
        assert sql.count(old) == count, (old, sql.count(old))
        sql = sql.replace(old, new)
    return sql


_VIEWS_V13 = {
    "effective_labels": _by_kind(_VIEWS["effective_labels"], [
        ("CASE WHEN task != 'topics' THEN", f"CASE WHEN task NOT IN {_MULTI_LABEL_TASKS} THEN", 1),
        ("(c.task = 'topics' OR", f"(c.task IN {_MULTI_LABEL_TASKS} OR", 1)]),
    "article_summary": _by_kind(_VIEWS_V9["article_summary"], [
        ("e.task = 'topics'", f"e.task = {_TASK_OF_KIND['multi_label']}", 2),
        ("e.task = 'stance_governance'", f"e.task = {_TASK_OF_KIND['single_label']}", 2),
        ("e.task = 'tone'", f"e.task = {_TASK_OF_KIND['per_entity']}", 2)]),
    "entity_daily": _by_kind(_VIEWS_V9["entity_daily"], [
        ("c.task = 'tone'", f"c.task = {_TASK_OF_KIND['per_entity']}", 1),
        ("l.task = 'tone'", f"l.task = {_TASK_OF_KIND['per_entity']}", 1),
        ("st.task = 'stance_governance'", f"st.task = {_TASK_OF_KIND['single_label']}", 1),
        ("tn.task = 'tone'", f"tn.task = {_TASK_OF_KIND['per_entity']}", 1)]),
}


@migrations()
def m013_label_tasks(db: Database) -> None:
    """label_tasks: each label-scheme task's kind; effective_labels, article_summary and entity_daily
    read the topics, stance and tone tasks by kind instead of by the shipped names."""
    kinds = ", ".join(f"'{kind}'" for kind in _LABEL_TASK_KINDS)
    db.execute(f"""CREATE TABLE label_tasks (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ({kinds})),
        updated_at TEXT NOT NULL
    )""")
    db.execute("INSERT INTO label_tasks (name, kind, updated_at) VALUES ('topics', 'multi_label', ''), "
               "('stance_governance', 'single_label', ''), ('tone', 'per_entity', '')")
    db.execute("INSERT INTO label_tasks (name, kind, updated_at) "
               "SELECT task, json_extract(card_json, '$.kind'), max(created_at) FROM models "
               "WHERE json_valid(card_json) AND json_extract(card_json, '$.kind') IN (" + kinds + ") GROUP BY task "
               "ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, updated_at = excluded.updated_at")
    for name in ("entity_daily", "article_summary", "effective_labels"):
        db.execute(f"DROP VIEW IF EXISTS {name}")
    for name in ("effective_labels", "article_summary", "entity_daily"):
        db.execute(f"CREATE VIEW {name} AS {_VIEWS_V13[name]}")


@migrations()
def m014_redact_stored_secrets(db: Database) -> None:
    """Secrets out of rows written before the store redacted them: feed, sitemap and section rows of
    crawl_state re-keyed by their redacted URL (store.discovery_key; merged with a row already under
    it, the newest state kept), and the URLs and messages of crawl_errors, crawl_notices, crawl_runs
    and sources redacted (cuttings.redaction.redact, with this process's secret variables)."""
    from cuttings.store.articles import rekey_discovery_state
    from cuttings.store.runs import redact_stored_messages
    db.execute("PRAGMA secure_delete = ON")   # freed pages overwritten (this connection; a no-op where it is the default)
    rekey_discovery_state(db)
    redact_stored_messages(db)
# The label views name the label scheme's tasks as SQL string literals (issue: another team's scheme
# without paying for it). m013's views looked the task of each kind up in `label_tasks` on every row (a
# subquery SQLite cannot push into effective_labels: article_summary 171 ms instead of 116 ms over 5,000
# stories, docs/benchmarks.md); now the views are regenerated whenever `label_tasks` changes
# (store.record_label_tasks, which every writer of the scheme's tasks calls, and the migrations), in
# the transaction that changes it, so a crash leaves the old views or the new, never a mix.
#
# The rules (documented in serve.TABLE_DOCS and docs/schema.md):
# * the topics, stance and tone tasks are the newest recorded task of kind multi_label, single_label and
#   per_entity (`label_tasks`, newest `updated_at`, then name); a kind with no row reads the shipped
#   scheme's task name for it (topics, stance_governance, tone), so the views always work; so does a kind
#   whose newest row the views cannot hold (label_task_problem: recorded before the scheme refused such
#   names; doctor warns), so m015 and every refresh succeed on an old database;
# * entity_daily has one `stance_<label>` column per label of the stance task, in the scheme's order,
#   except its `absent` label, and one `tone_<label>` column per label of the tone task: the shipped
#   scheme gives stance_favour, stance_against, stance_neutral and tone_positive, tone_negative,
#   tone_neutral, as before; a task whose labels were never recorded (a database from before m015 whose
#   row the scheme has not yet refreshed) gets the shipped scheme's columns for its kind;
# * the label_roles view names the task each role reads (topics, stance, tone), written by the same rule
#   (label_task_roles) in the same refresh, so SQL that must read what the views read, such as the
#   critical_articles canned query's stance attention labels, looks the task up there rather than
#   repeating the rule (which the row a view cannot hold makes more than "the newest of its kind"; m016);
# * names come from a user's scheme file: every task name and label goes through sql_literal (and
#   sql_identifier for a column name), which quote them; a control character is refused in one line.
LABEL_VIEWS = ("label_roles", "effective_labels", "article_summary", "entity_daily")   # in creation order
# labels rows that correct a quote (its speaker, its body; target "start:end"), not an article's label: quote_view
# reads them, the label views leave them out (m022)
QUOTE_TASKS = ("quote_speaker", "quote_entity")
_QUOTE_TASKS_SQL = "(" + ", ".join(f"'{task}'" for task in QUOTE_TASKS) + ")"
# A person's withdrawal of a story's human labels for one task (`cuttings label --unlabel`, m028): a labels row
# (article, task, target '', label WITHDRAWN), appended like any answer, with its annotator and time. Every row
# of that article and task given before it (m032: by created_at, then id; m028 to m031: a lower id) stands no
# more: the label views, the queue, training and the exports read only the rows standing (standing_label_sql);
# the table keeps them all (the audit trail).
WITHDRAWN = "__withdrawn__"


def _standing_by_id_sql(alias: str = "l") -> str:
    """m028's test of a standing row, by id (frozen: the views of m028 to m031 and quote_view of m028 and m029):
    written after the latest withdrawal of its article and task (any withdrawal row, one quote's too)."""
    return (f"{alias}.id > coalesce((SELECT max(w.id) FROM labels w WHERE w.article_id = {alias}.article_id "
            f"AND w.task = {alias}.task AND w.label = '{WITHDRAWN}'), 0)")


# Since m032 the rows of one question are ordered by the time they were given (created_at), the id breaking a
# tie within one second: an import writes a row with the time its file says, so a row written later may have
# been given earlier (docs/labelling.md, "Labels moved between databases: the newest wins").
BY_TIME = "created_at, id"


def standing_label_sql(alias: str = "l", *, by_quote: bool = True) -> str:
    """SQL true for a ``labels`` row (``alias``) that stands (m032): no withdrawal of its article and task was
    given at or after it, by (created_at, id) (so no withdrawal row itself stands either); ``by_quote``: and,
    for a correction of a quote, no withdrawal of that quote's corrections (a withdrawal row naming its quote,
    ``quote_id``: ``--unlabel ID --task quote_speaker --quote QUOTE_ID``) either; one quote's withdrawal takes
    back no other row. A seek of the partial index idx_labels_withdrawn (as m032 redefined it), which holds every
    column it reads.
    The label views (effective_labels, entity_daily) read no quote correction and are written by migrations
    from before ``labels.quote_id`` (m029): they take ``by_quote=False`` (a withdrawal of one quote is a row of a
    quote task only)."""
    quote = f" AND (w.quote_id IS NULL OR w.quote_id = {alias}.quote_id)" if by_quote else ""
    return (f"NOT EXISTS (SELECT 1 FROM labels w WHERE w.article_id = {alias}.article_id AND w.task = {alias}.task "
            f"AND w.label = '{WITHDRAWN}' AND (w.created_at, w.id) >= ({alias}.created_at, {alias}.id){quote})")
ROLES = {"topics": "multi_label", "stance": "single_label", "tone": "per_entity"}   # label_roles' rows
# A label scheme without a stance (single-label) task (audit, session 19: a team with topics and tone only still
# read m013's seeded `stance_governance`, entity_daily kept stance_favour/against/neutral columns always 0): recording
# that scheme writes this row (kind single_label, stamped like the scheme's tasks) and, while it is the newest of its
# kind, the stance role is absent: no stance_<label> columns in entity_daily, article_summary.stance and
# .stance_uncertain NULL, label_roles' stance task NULL. A scheme that gains a stance task records it newer, which
# the views then read. No database from before has the row: the shipped scheme and every existing database read
# as before (no migration).
NO_STANCE_TASK = "__no_stance_task__"
# The same for a scheme without a tone (per-entity) or topics (multi-label) task (audit, session 20: a team with
# topics and stance only still read m013's seeded `tone`: entity_daily kept tone_positive/negative/neutral and
# tone_rated columns always NULL or 0, article_summary.tone '{}', the digest said "tone not rated" of every body).
# While the newest row of its kind: no tone_<label> or tone_rated columns in entity_daily, article_summary.tone and
# .tone_uncertain NULL; no topics: article_summary.topics and .topics_uncertain NULL; label_roles' task NULL.
NO_TONE_TASK = "__no_tone_task__"
NO_TOPICS_TASK = "__no_topics_task__"
NO_TASK = {"multi_label": NO_TOPICS_TASK, "single_label": NO_STANCE_TASK, "per_entity": NO_TONE_TASK}   # by kind
SHIPPED_TASKS = {"multi_label": "topics", "single_label": "stance_governance", "per_entity": "tone"}
_SHIPPED_COLUMN_LABELS = {"single_label": ("favour", "against", "neutral"),
                          "per_entity": ("positive", "negative", "neutral")}


class LabelNameError(ValueError):
    """A label-scheme task name or label cannot be written into the views (one-line message)."""


def _checked(text, what: str) -> str:
    if not isinstance(text, str) or not text:
        raise LabelNameError(f"label scheme {what} {text!r} cannot name a database view column: not a non-empty string")
    bad = next((char for char in text if ord(char) < 32 or ord(char) == 127), None)
    if bad is not None:
        raise LabelNameError(f"label scheme {what} {text!r} cannot be used in the database views: "
                             f"it holds the control character {bad!r}")
    return text


def sql_literal(text: str, what: str = "name") -> str:
    """``text`` (a task name or label from a user's scheme) as an SQL string literal: single quotes doubled,
    control characters refused (:class:`LabelNameError`). The one way label names enter view SQL."""
    return "'" + _checked(text, what).replace("'", "''") + "'"


def sql_identifier(text: str, what: str = "column") -> str:
    """``text`` as a quoted SQL identifier (double quotes doubled), for a column named after a label."""
    return '"' + _checked(text, what).replace('"', '""') + '"'


def _json_list(value) -> list[str] | None:
    try:
        parsed = json.loads(value) if value else None
    except ValueError:
        return None
    return [item for item in parsed if isinstance(item, str)] if isinstance(parsed, list) else None


NEWEST_FIRST = "updated_at DESC, name"   # which label_tasks row of a kind the views read (the canned SQL too)


def newest_label_tasks(db) -> dict[str, dict]:
    """The newest ``label_tasks`` row of each kind (``{kind: {"name", "labels", "absent", "attention"}}``,
    ``labels``/``attention`` a list or None when not recorded; ``{}`` without the table): the rule the label
    views, doctor and the "critical" canned query (in SQL) read. ``db``: a sqlite3 or sqlite-utils connection."""
    newest: dict[str, dict] = {}
    for row in label_task_rows(db):
        newest.setdefault(row["kind"], row)
    return newest


def label_task_columns(db) -> set[str]:
    """The columns ``label_tasks`` has in this database (empty without the table): which migrations it has,
    ``labels_json`` and ``absent`` from m015 on. ``db``: a sqlite3 or sqlite-utils connection."""
    return {row[1] for row in db.execute("PRAGMA table_info(label_tasks)").fetchall()}


def label_task_rows(db) -> list[dict]:
    """Every ``label_tasks`` row, newest first (:data:`NEWEST_FIRST`), as :func:`newest_label_tasks` gives them."""
    columns = label_task_columns(db)
    if not columns:
        return []
    details = ", ".join(column if column in columns else "NULL"
                        for column in ("labels_json", "absent", "attention_json"))
    return [{"name": name, "kind": kind, "labels": _json_list(labels_json), "absent": absent,
             "attention": _json_list(attention_json)}
            for name, kind, labels_json, absent, attention_json in db.execute(
                f"SELECT name, kind, {details} FROM label_tasks ORDER BY {NEWEST_FIRST}").fetchall()]


def label_task_problem(name, kind: str, labels=None, absent=None) -> str | None:
    """Why the label views cannot read task ``name`` of ``kind`` with ``labels`` (``absent``: the label
    without an entity_daily column), in one line, or None when they can. The store's copy of
    ``nlp.scheme.view_name_problem`` (tests/test_label_views.py checks they agree)."""
    try:
        _checked(name, "task name")
        prefix = {"single_label": "stance", "per_entity": "tone"}.get(kind)
        if labels is not None:
            for label in labels:
                _checked(label, "label")
            if prefix:
                _label_columns(prefix, [label for label in labels if label != absent], "{}",
                               {name: name for name in _ENTITY_DAILY_FIXED})
    except LabelNameError as exc:
        return str(exc)
    return None


def label_task_roles(db) -> dict:
    """What the label views read, from ``label_tasks``: ``multi_label`` (every multi-label task's name, for
    effective_labels), ``topics``, ``stance``, ``tone`` (the task names), ``stance_labels`` and ``tone_labels``
    (the labels that get an entity_daily column). A stored row the views cannot hold (a name with a control
    character, from before the scheme refused it: :func:`label_task_problem`) is not read: when it is the
    newest of its kind, that kind reads the shipped scheme's task name and columns, and ``cuttings doctor``
    warns (so migration m015 and every later refresh succeed on such a database)."""
    rows = label_task_rows(db)
    usable = [row for row in rows if label_task_problem(row["name"], row["kind"], row["labels"], row["absent"]) is None]
    newest = {}
    for row in rows:
        newest.setdefault(row["kind"], (row["name"], row["labels"], row["absent"]) if row in usable else None)
    newest = {kind: role for kind, role in newest.items() if role is not None}

    def role(kind):
        name, labels, absent = newest.get(kind, (SHIPPED_TASKS[kind], None, None))
        if name == NO_TASK[kind]:   # the scheme has no task of this kind
            return None, ()
        if kind in _SHIPPED_COLUMN_LABELS:
            counted = [label for label in labels or () if label != absent]
            return name, tuple(counted) if counted else _SHIPPED_COLUMN_LABELS[kind]
        return name, ()

    (topics, _), (stance, stance_labels), (tone, tone_labels) = (role(kind) for kind in SHIPPED_TASKS)
    return {"multi_label": sorted({row["name"] for row in usable if row["kind"] == "multi_label"
                                   and row["name"] != NO_TOPICS_TASK} or {topics or SHIPPED_TASKS["multi_label"]}),
            "topics": topics, "stance": stance, "tone": tone,
            "stance_labels": stance_labels, "tone_labels": tone_labels}


_ENTITY_DAILY_FIXED = ("entity_id", "body", "day", "articles", "tone_rated")


# SQLite folds ASCII letters only when it compares names ("É" and "é" are two columns). The label scheme
# (nlp/scheme.view_name_problem) applies the same rule when it is read; tests/test_label_views.py checks
# that the two agree (the store does not import nlp).
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_folded(name: str) -> str:
    """``name`` with its ASCII letters lower-cased: how SQLite compares column names."""
    return name.translate(_ASCII_LOWER)


def _label_columns(prefix: str, labels, expression: str, seen: dict[str, str]) -> str:
    """entity_daily's ``<prefix>_<label>`` columns; ``seen`` (ASCII-folded name -> name) holds the columns
    so far: a label whose column would repeat one (SQLite compares names without ASCII case) is refused."""
    names = [f"{prefix}_{label}" for label in labels]
    for name in names:
        folded = ascii_folded(name)
        if folded in seen:
            raise LabelNameError(f"label scheme label {name[len(prefix) + 1:]!r} would give entity_daily a second "
                                 f"column named {seen[folded]!r} (names differing only in ASCII case are the same "
                                 "column)")
        seen[folded] = name
    return "".join(f"  {expression.format(sql_literal(label, 'label'))} AS {sql_identifier(name)},\n"
                   for label, name in zip(labels, names))


def label_view_definitions(roles: dict) -> dict[str, str]:
    """The label views (``LABEL_VIEWS``) for ``roles`` (:func:`label_task_roles`): m013's definitions
    with every task named as a literal, entity_daily's stance and tone columns from the scheme's labels,
    and label_roles, which names the task each role reads (for SQL that must read the same task); the label
    that stands the newest by (created_at, id) (m032: :func:`label_views_by_id` with :func:`_by_time`).
    These are the label views' current definitions: a later migration that changes one of them changes it
    here and calls :func:`refresh_label_views` (and gives m015 a frozen copy if the new SQL needs a column
    that only a migration after m015 adds: m017's ``articles.link_url``, see :func:`refresh_label_views`).
    article_summary here works every label column out; from m041 on, :func:`refresh_label_views` writes it as
    :func:`stored_article_labels` of this (the reference the tests compare the stored rows with)."""
    by_id = _label_views_m030(roles)
    multi = "(" + ", ".join(sql_literal(name, "task name") for name in roles["multi_label"]) + ")"
    effective_labels = _by_time(by_id["effective_labels"], multi)
    # m030's entity_daily with tone_rated's withdrawals by time (m032), then read per (story, body) and through
    # the by-time effective_labels' two arms (m031)
    daily = _by_kind(by_id["entity_daily"], [(_standing_by_id_sql("l"), standing_label_sql("l", by_quote=False), 1)]) \
        if roles["tone"] is not None else by_id["entity_daily"]
    return {
        "label_roles": by_id["label_roles"],
        "effective_labels": effective_labels,
        "article_summary": per_article_labels(_summary_definition(roles, _ARTICLE_SUMMARY), effective_labels),
        "entity_daily": per_group_daily(daily, roles, effective_labels),
    }


# effective_labels' human arm: the newest row of each question by id (m002 to m031)
_NEWEST_BY_ID = ("WHERE l.id IN (SELECT max(id) FROM labels\n"
                 "               GROUP BY article_id, task,\n"
                 "                        CASE WHEN task NOT IN {multi} THEN target WHEN label = '__rejected__' "
                 "THEN target ELSE label END)\n")


def _question_key(alias: str, multi: str) -> str:
    """The question a ``labels`` row answers within its article and task, as effective_labels groups them: its
    target (a per-body task's body; '' otherwise), but in a multi-label task the topic (a chosen topic's label, a
    rejection's target)."""
    return (f"CASE WHEN {alias}.task NOT IN {multi} THEN {alias}.target WHEN {alias}.label = '__rejected__' "
            f"THEN {alias}.target ELSE {alias}.label END")


def _by_time(effective_labels: str, multi: str) -> str:
    """effective_labels (m030's, by id) with the label that stands picked by time (m032): a row stands when no
    row of its question was given after it by (created_at, id), and no withdrawal of its task at or after it
    (:func:`standing_label_sql`). Per row a seek of idx_labels_article_task_time and of
    idx_labels_withdrawn, where the newest id was one GROUP BY of the whole table."""
    return _by_kind(effective_labels, [
        (_NEWEST_BY_ID.format(multi=multi),
         f"WHERE NOT EXISTS (SELECT 1 FROM labels n WHERE n.article_id = l.article_id AND n.task = l.task\n"
         f"                  AND (n.created_at, n.id) > (l.created_at, l.id)\n"
         f"                  AND {_question_key('n', multi)} = {_question_key('l', multi)})\n", 1),
        (_standing_by_id_sql("l"), standing_label_sql("l", by_quote=False), 2)])


def label_views_by_id(roles: dict) -> dict[str, str]:
    """The label views as m031 wrote them: the newest label by id, a withdrawal taking back every row of its
    article and task with a lower id (frozen: bench/summary_view.py compares them with m032's)."""
    views = _label_views_m030(roles)
    return {**views, "entity_daily": per_body_daily(views["entity_daily"], roles, views["effective_labels"])}


def _label_views_m030(roles: dict) -> dict[str, str]:
    """The label views as m030 wrote them (by id; entity_daily as m015-m030 wrote it, before m031's
    :func:`per_body_daily`)."""
    multi = "(" + ", ".join(sql_literal(name, "task name") for name in roles["multi_label"]) + ")"
    if roles["tone"] is None:   # no tone task (NO_TONE_TASK): no tone join, no tone_<label> or tone_rated column
        entity_daily = _by_kind(_VIEWS_V9["entity_daily"], [(_RATED_JOIN, "", 1), (_TONE_JOIN, "", 1),
                                                            ("AS tone_neutral,\n  r.rated AS tone_rated\n",
                                                             "AS tone_neutral,\n", 1)])
    else:
        tone = sql_literal(roles["tone"], "task name")
        entity_daily = _by_kind(_VIEWS_V9["entity_daily"], [
            ("c.task = 'tone'", f"c.task = {tone}", 1),
            ("l.task = 'tone'", f"l.task = {tone} AND {_standing_by_id_sql('l')}", 1),   # a withdrawn tone rates nothing (m028)
            ("tn.task = 'tone'", f"tn.task = {tone}", 1)])
    if roles["stance"] is None:   # no stance task (NO_STANCE_TASK): no stance join, no stance_<label> columns
        entity_daily = _by_kind(entity_daily, [(_STANCE_JOIN.format("'stance_governance'"), "", 1)])
    else:
        entity_daily = _by_kind(entity_daily, [(_STANCE_JOIN.format("'stance_governance'"),
                                                _STANCE_JOIN.format(sql_literal(roles["stance"], "task name")), 1)])
    shipped_columns = entity_daily[entity_daily.index("  count(DISTINCT CASE WHEN st.label"):
                                   entity_daily.index("  r.rated AS tone_rated") if roles["tone"] is not None
                                   else entity_daily.index("FROM mentions m\n")]
    seen = {name: name for name in _ENTITY_DAILY_FIXED}
    columns = (_label_columns("stance", roles["stance_labels"], "count(DISTINCT CASE WHEN st.label = {} THEN a.id END)",
                              seen)
               + _label_columns("tone", roles["tone_labels"],
                                "CASE WHEN r.rated THEN count(DISTINCT CASE WHEN tn.label = {} THEN a.id END) END",
                                seen))
    if roles["tone"] is None:   # the select list's last column takes no comma
        columns = columns[:-2] + "\n" if columns else ""
        entity_daily = entity_daily.replace("  count(DISTINCT a.id) AS articles,\n" + shipped_columns,
                                            "  count(DISTINCT a.id) AS articles" + ("," if columns else "") + "\n"
                                            + shipped_columns, 1)
    effective_labels = _by_kind(_VIEWS["effective_labels"], [
        ("CASE WHEN task != 'topics' THEN", f"CASE WHEN task NOT IN {multi} THEN", 1),
        ("(c.task = 'topics' OR", f"(c.task IN {multi} OR", 1),
        # a person's correction of a quote's speaker or body is no label of the article (m022)
        ("  AND l.label != '__rejected__'\n", f"  AND l.label != '__rejected__' AND l.task NOT IN {_QUOTE_TASKS_SQL}\n"
                                               f"  AND {_standing_by_id_sql('l')}\n", 1),
        # a withdrawn label hides no prediction (m028)
        ("                  AND (c.task IN", f"                  AND {_standing_by_id_sql('l')} AND (c.task IN", 1)])
    return {
        "label_roles": "\nUNION ALL\n".join(
            f"SELECT {sql_literal(role, 'role')} AS role, {sql_literal(kind, 'kind')} AS kind, "
            f"{'NULL' if roles[role] is None else sql_literal(roles[role], 'task name')} AS task"
            for role, kind in ROLES.items()),
        "effective_labels": effective_labels,
        # each of its label columns reads the story's own effective labels (m030), not the view filtered after
        "article_summary": per_article_labels(_summary_definition(roles, _ARTICLE_SUMMARY), effective_labels),
        "entity_daily": entity_daily.replace(shipped_columns, columns, 1),
    }


def effective_labels_of(effective_labels: str, article: str) -> str:
    """effective_labels (its SQL) for the one story ``article`` (an SQL expression, e.g. ``a.id``): the story's
    filter in each arm of the UNION ALL, before the labels' grouping and the predictions' NOT EXISTS, so each is
    a seek of the story's rows (idx_labels_article_task_time, idx_classifications_unique). The same rows as
    ``SELECT * FROM effective_labels WHERE article_id = <article>`` (its grouping is by story too)."""
    by_id = "FROM labels l\nWHERE l.id IN (SELECT max(id) FROM labels\n" in effective_labels   # m030's (bench)
    return _by_kind(effective_labels, [
        ("FROM labels l\nWHERE l.id IN (SELECT max(id) FROM labels\n",
         f"FROM labels l\nWHERE l.article_id = {article} AND l.id IN (SELECT max(id) FROM labels "
         f"WHERE article_id = {article}\n", 1) if by_id else
        ("FROM labels l\nWHERE NOT EXISTS", f"FROM labels l\nWHERE l.article_id = {article} AND NOT EXISTS", 1),
        ("FROM classifications c\nWHERE NOT EXISTS", f"FROM classifications c\nWHERE c.article_id = {article} "
                                                    "AND NOT EXISTS", 1)])


def per_article_labels(summary: str, effective_labels: str) -> str:
    """article_summary (its SQL) with every ``FROM effective_labels e`` of its per-story subqueries read as
    :func:`effective_labels_of` the story (m030). SQLite (3.40) pushes no correlated term (``e.article_id =
    a.id``) into a UNION ALL view: each of the nine subqueries built the whole task's effective labels and an
    automatic index on them for every story, so a full scan grew with the square of the stories (50,000 stories:
    minutes; docs/benchmarks.md, "A year of coverage"). The same rows and columns: the tone objects keep their
    bodies in the order the view's automatic index gave them (by body id), now said with ORDER BY."""
    summary = re.sub(r"\(SELECT json_group_object\(target, (\w+)\) FROM effective_labels e\s+WHERE ([^)]*)\)",
                     r"(SELECT json_group_object(target, \1) FROM\n     (SELECT target, \1 FROM effective_labels e "
                     r"WHERE \2 ORDER BY target))", summary)
    return summary.replace("FROM effective_labels e\n", "FROM effective_labels e ")\
        .replace("FROM effective_labels e ", f"FROM ({effective_labels_of(effective_labels, 'a.id')}) e ")


def per_body_daily(daily: str, roles: dict, effective_labels: str) -> str:
    """entity_daily (its SQL as m015-m030 wrote it for ``roles``) as m031 writes it: the same rows, in time that
    grows with the stories, whether or not the database has statistics (docs/benchmarks.md, "A year of
    coverage"). Each column counts DISTINCT stories, so the rows stay the same when:

    * the mentions are read once per (story, body) (a story naming a body ten times was joined ten times), in
      that order (CROSS JOIN: the stories are sought by id);
    * ``r``, the bodies a tone model or a person rated, is kept apart (a subquery with a LIMIT is not flattened
      into a join) and reads the rated bodies in one pass: flattened, its two EXISTS (a scan of the tone
      predictions, and one of the labels, for a body no model rates) ran for every mention;
    * the stance and tone joins read effective_labels' two arms (:func:`effective_label_arms`), a person's
      labels and the predictions no person's label replaces, each by index, a label counted when either arm
      has it: joined as one UNION ALL view, it was materialised and then either indexed for the statement (the
      plan with ANALYZE's statistics) or scanned for every mention (without them: every database cuttings
      writes), which grew with the square of the stories.

    ``effective_labels`` is the one the view reads: since m032 by time (:func:`label_view_definitions`), so the
    person's arm is the newest row of each question by (created_at, id), as the view itself has it;
    :func:`label_views_by_id` passes m030's, by id (m031's view)."""
    people, machines = effective_label_arms(effective_labels)
    replacements = [("FROM mentions m\nJOIN articles a ON", "FROM (SELECT DISTINCT article_id, entity_id FROM mentions) m\n"
                                                         "CROSS JOIN articles a ON", 1)]
    for role, alias, extra in (("stance", "st", ""), ("tone", "tn", " AND {0}.target = m.entity_id")):
        if roles[role] is None:
            continue
        task = sql_literal(roles[role], "task name")
        old = f"LEFT JOIN effective_labels {alias} ON {alias}.article_id = a.id AND {alias}.task = {task}"
        replacements.append((old + extra.format(alias) + "\n",
                             f"LEFT JOIN ({people}) {alias} ON {alias}.article_id = a.id AND {alias}.task = {task}"
                             + extra.format(alias) + "\n"
                             f"LEFT JOIN ({machines}) {alias}p ON {alias}p.article_id = a.id AND {alias}p.task = {task}"
                             + extra.format(alias + "p") + "\n", 1))
        replacements += [(f"WHEN {alias}.label = {sql_literal(label, 'label')} THEN",
                          f"WHEN {alias}.label = {sql_literal(label, 'label')} OR {alias}p.label = "
                          f"{sql_literal(label, 'label')} THEN", 1) for label in roles[f"{role}_labels"]]
    if roles["tone"] is not None:
        tone = sql_literal(roles["tone"], "task name")
        replacements += [
            (f"             EXISTS (SELECT 1 FROM classifications c WHERE c.task = {tone} AND c.target = e.id)\n"
             "             OR EXISTS (SELECT 1 FROM labels l WHERE ",
             f"             e.id IN (SELECT c.target FROM classifications c WHERE c.task = {tone}\n"
             "                      UNION ALL\n"
             "                      SELECT l.target FROM labels l WHERE ", 1),   # (target is NOT NULL: IN gives 0 or 1)
            ("JOIN (SELECT e.id AS entity_id,\n", "CROSS JOIN (SELECT e.id AS entity_id,\n", 1),
            (" AND l.target = e.id) AS rated\n      FROM entities e) r ON",
             ") AS rated\n      FROM entities e LIMIT -1) r ON", 1)]
    return _by_kind(daily, replacements)


def per_group_daily(daily: str, roles: dict, effective_labels: str) -> str:
    """entity_daily as m039 writes it: the same rows and columns as ``daily`` (its plain form, m015-m030's SQL for
    ``roles``, whose rows m031's :func:`per_body_daily` gave), built as (body, day) groups first and each label
    count then read for its group only (``daily`` itself is not read: the plain form stays the reference the
    tests compare with).

    * ``d``, the groups: each (story, body) pair once (``SELECT DISTINCT article_id, entity_id FROM mentions``,
      idx_mentions_article_entity), the story's day, and the group's stories as a JSON list (``ids``). Within a
      group (one body) a story is one pair, so ``count(*)`` is the plain form's ``count(DISTINCT a.id)``. Sorted
      by day, newest first (then body), the order of the Datasette page (``sort_desc: day``).
    * Each ``stance_<label>``/``tone_<label>`` column is a subquery over the group's stories: a story counts when
      a person's label that stands (effective_labels' person's arm) or a prediction no person's label replaces
      (its other arm) gives that label, for the tone towards the group's body; the plain form's
      ``count(DISTINCT CASE WHEN st.label = X OR stp.label = X THEN a.id END)`` over its LEFT JOINs counts the same
      stories. A tone column is NULL for a body nobody rates (``rated``, one list a statement, as in m031).

    SQLite flattens the outer select into a statement that reads the view: a column no statement reads is not
    computed. So Datasette's count and its facets (body, tone_rated) read the groups and no label, and its page
    (``ORDER BY day DESC LIMIT 101``) reads the labels of the rows it keeps only (SQLite tests a row against the
    full LIMIT before it computes the other columns; the groups come newest first). Before, each of the page's four
    statements built the whole aggregate with its label joins (docs/benchmarks.md, "entity_daily and a body's
    stories at a year's size"). A full ``SELECT *`` reads the labels once per column, not once per row."""
    people, machines = effective_label_arms(effective_labels)
    people, machines = people.replace("{", "{{").replace("}", "}}"), machines.replace("{", "{{").replace("}", "}}")
    seen = {name: name for name in _ENTITY_DAILY_FIXED}
    columns = ""
    for role, alias in (("stance", "st"), ("tone", "tn")):
        if roles[role] is None:
            continue
        task = sql_literal(roles[role], "task name").replace("{", "{{").replace("}", "}}")
        body = " AND {a}.target = d.entity_id" if role == "tone" else ""
        story = (f"(SELECT count(*) FROM json_each(d.ids) j\n"
                 f"     WHERE EXISTS (SELECT 1 FROM ({people}) {alias}\n"
                 f"                   WHERE {alias}.article_id = j.value AND {alias}.task = {task}"
                 f"{body.format(a=alias)} AND {alias}.label = {{0}})\n"
                 f"        OR EXISTS (SELECT 1 FROM ({machines}) {alias}p\n"
                 f"                   WHERE {alias}p.article_id = j.value AND {alias}p.task = {task}"
                 f"{body.format(a=alias + 'p')} AND {alias}p.label = {{0}}))")
        if role == "tone":
            story = f"CASE WHEN r.rated THEN {story} END"
        columns += _label_columns(role, roles[f"{role}_labels"], story, seen)
    join = ""
    if roles["tone"] is not None:
        tone = sql_literal(roles["tone"], "task name")
        join = (f"CROSS JOIN (SELECT e.id AS entity_id,\n"
                f"             e.id IN (SELECT c.target FROM classifications c WHERE c.task = {tone}\n"
                f"                      UNION ALL\n"
                f"                      SELECT l.target FROM labels l WHERE l.task = {tone} AND "
                f"{standing_label_sql('l', by_quote=False)}) AS rated\n"
                f"      FROM entities e LIMIT -1) r ON r.entity_id = d.entity_id\n")
        columns += "  r.rated AS tone_rated\n"
    else:
        columns = columns[:-2] + "\n" if columns else ""
    return (f"\nSELECT d.entity_id, coalesce(en.display_name, en.name, d.entity_id) AS body, d.day, d.articles"
            f"{',' if columns else ''}\n{columns}"
            f"FROM (SELECT m.entity_id, substr(coalesce(a.published_at, a.first_seen_at), 1, 10) AS day,\n"
            f"             count(*) AS articles, json_group_array(a.id) AS ids\n"
            f"      FROM (SELECT DISTINCT article_id, entity_id FROM mentions) m\n"
            f"      CROSS JOIN articles a ON a.id = m.article_id AND a.duplicate_of IS NULL\n"
            f"      GROUP BY day, m.entity_id\n"
            f"      ORDER BY day DESC, m.entity_id) d\n"
            f"{join}"
            f"LEFT JOIN entities en ON en.id = d.entity_id\n")


def effective_label_arms(effective_labels: str) -> tuple[str, str]:
    """effective_labels (its SQL) as its two arms, each a plain SELECT that SQLite flattens into a LEFT JOIN and
    reads by index: a person's labels (the newest of each, standing) and the predictions no person's label
    replaces. By id (m031), the person's arm tests ``+l.id`` against the newest ids (a list built once): as
    ``l.id``, SQLite took the list as a key of idx_labels_article_task and sought every id in it for every row
    joined. By time (m032) it is the arm as effective_labels has it: the newest row of a question is a NOT EXISTS
    over the story's rows of that task (idx_labels_article_task_time), run for the story's labels only."""
    assert effective_labels.count("\nUNION ALL\n") == 1
    people, machines = effective_labels.split("\nUNION ALL\n")
    if "WHERE l.id IN (SELECT max(id) FROM labels" in people:   # by id (label_views_by_id)
        people = _by_kind(people, [("WHERE l.id IN (SELECT max(id) FROM labels",
                                    "WHERE +l.id IN (SELECT max(id) FROM labels", 1)])
    return people, machines


def _summary_definition(roles: dict, base: str) -> str:
    """article_summary from ``base`` (its SQL with the shipped task names) with the roles' tasks as literals."""
    replacements = []
    # a role without a task (NO_STANCE_TASK, NO_TOPICS_TASK, NO_TONE_TASK): its columns NULL, kept for the exports
    # and canned queries; else its task's name as a literal
    for role, shipped, sql in (("topics", "topics", _TOPICS_SQL), ("stance", "stance_governance", _STANCE_SQL),
                               ("tone", "tone", _TONE_SQL)):
        if roles[role] is None:
            replacements += [(column, f"  NULL AS {name},\n", 1) for name, column in sql.items()]
        else:
            replacements.append((f"e.task = '{shipped}'", f"e.task = {sql_literal(roles[role], 'task name')}", 2))
    return _by_kind(base, replacements)


_STANCE_JOIN = "LEFT JOIN effective_labels st ON st.article_id = a.id AND st.task = {}\n"
# article_summary's columns of each role, as m009 wrote them (name -> its line)
_STANCE_SQL = {
    "stance": "  (SELECT label FROM effective_labels e WHERE e.article_id = a.id AND e.task = 'stance_governance') AS stance,\n",
    "stance_uncertain": ("  (SELECT max(uncertain) FROM effective_labels e\n"
                         "     WHERE e.article_id = a.id AND e.task = 'stance_governance') AS stance_uncertain,\n")}
_TOPICS_SQL = {
    "topics": ("  (SELECT group_concat(label, ',') FROM\n     (SELECT label FROM effective_labels e WHERE e.article_id = a.id "
               "AND e.task = 'topics' ORDER BY label)) AS topics,\n"),
    "topics_uncertain": ("  (SELECT group_concat(label, ',') FROM\n     (SELECT label FROM effective_labels e WHERE "
                         "e.article_id = a.id AND e.task = 'topics' AND e.uncertain\n      ORDER BY label)) AS topics_uncertain,\n")}
_TONE_SQL = {
    "tone": ("  (SELECT json_group_object(target, label) FROM effective_labels e\n"
             "     WHERE e.article_id = a.id AND e.task = 'tone') AS tone,\n"),
    "tone_uncertain": ("  (SELECT json_group_object(target, uncertain) FROM effective_labels e\n"
                       "     WHERE e.article_id = a.id AND e.task = 'tone') AS tone_uncertain,\n")}
# entity_daily's tone joins (the bodies a tone model or a person rated; the tone towards each)
_RATED_JOIN = ("JOIN (SELECT e.id AS entity_id,\n"
               "             EXISTS (SELECT 1 FROM classifications c WHERE c.task = 'tone' AND c.target = e.id)\n"
               "             OR EXISTS (SELECT 1 FROM labels l WHERE l.task = 'tone' AND l.target = e.id) AS rated\n"
               "      FROM entities e) r ON r.entity_id = m.entity_id\n")
_TONE_JOIN = "LEFT JOIN effective_labels tn ON tn.article_id = a.id AND tn.task = 'tone' AND tn.target = m.entity_id\n"


def refresh_label_views(db, *, summary: str | None = None) -> bool:
    """Regenerate the label views from ``label_tasks`` when they differ from what it says (True when they
    were replaced), all in one transaction (a savepoint inside the caller's): the old views or the new.
    ``summary``: a migration's frozen article_summary base instead of the current one (m015 and m016 run
    before m017 adds ``articles.link_url``, which the current one reads). From m041 on (the database has
    ``article_labels_stored``) article_summary reads a story's stored label columns (:func:`stored_article_labels`),
    and replacing the views deletes every stored row (they were worked out by the views replaced)."""
    roles = label_task_roles(db)
    wanted = label_view_definitions(roles)
    if summary is not None:
        wanted["article_summary"] = _summary_definition(roles, summary)
    stored = article_labels_stored_exists(db)
    if stored:   # m041: a story's label columns read from its stored row when it has one
        wanted["article_summary"] = stored_article_labels(wanted["article_summary"])
    placeholders = ", ".join("?" for _ in LABEL_VIEWS)
    current = dict(db.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'view' AND name IN ({placeholders})",
                              list(LABEL_VIEWS)).fetchall())
    # (SQLite keeps the statement as written, trailing white space left off)
    if all((current.get(name) or "").rstrip() == f"CREATE VIEW {name} AS {wanted[name]}".rstrip()
           for name in LABEL_VIEWS):
        return False
    with db.atomic():
        for name in reversed(LABEL_VIEWS):
            db.execute(f"DROP VIEW IF EXISTS {name}")
        for name in LABEL_VIEWS:
            db.execute(f"CREATE VIEW {name} AS {wanted[name]}")
        if stored:   # the stored label columns were worked out by the views replaced (m041): none is in step now
            db.execute("DELETE FROM article_labels_stored")
    return True


@migrations()
def m015_label_views_by_name(db: Database) -> None:
    """label_tasks keeps each task's labels (labels_json, absent, attention_json: the scheme's stance labels
    that put a story under "needs attention"); the label views name the tasks as literals (regenerated
    whenever label_tasks changes) and entity_daily's stance and tone columns follow the scheme's labels."""
    for column in ("labels_json", "absent", "attention_json"):
        db.execute(f"ALTER TABLE label_tasks ADD COLUMN {column} TEXT")
    # The rows m013 seeded for the shipped tasks get the shipped scheme's labels (what those columns were).
    for name, kind, labels, absent, attention in (
            ("stance_governance", "single_label", ["favour", "against", "neutral", "none"], "none",
             ["against", "favour"]),
            ("tone", "per_entity", ["positive", "negative", "neutral"], None, None)):
        db.execute("UPDATE label_tasks SET labels_json = ?, absent = ?, attention_json = ? "
                   "WHERE name = ? AND kind = ? AND labels_json IS NULL",
                   [json.dumps(labels), absent, json.dumps(attention) if attention else None, name, kind])
    refresh_label_views(db, summary=_VIEWS_V9["article_summary"])   # frozen: articles.link_url comes later


@migrations()
def m016_label_roles(db: Database) -> None:
    """label_roles: the task the label views read for the topics, stance and tone, written with them by one
    rule (``label_task_roles``), so the critical_articles canned query reads the stance task's attention
    labels from the task article_summary.stance reads, also when the newest stance row is one the views
    cannot hold. (A database m015 upgraded after this one was written already has it: no change then.)"""
    refresh_label_views(db, summary=_VIEWS_V9["article_summary"])   # frozen: articles.link_url comes later


# The address a reader can open (issue: digest links were the normalised dedupe key, `.../barn-fire` for a
# page at `.../barn-fire/`, a 404 where the server does not redirect). articles.canonical_url stays the
# identity (dedupe, the UNIQUE key); articles.link_url is the rel=canonical the page declares as written,
# when the crawler accepted it (http(s), on the source's own site or a declared sister title, not held by
# another article), else the URL fetched after redirects (crawler.pipelines.NormaliseUrlsPipeline). Rows
# stored before this migration have no link_url (none is invented): the views show their fetched URL
# (articles.url), which opens too, until a revision of the article is stored.
def readable_url_sql(alias: str = "a") -> str:
    """SQL for the URL a reader opens of article ``alias``: its link_url, else the URL it was fetched from."""
    return f"coalesce({alias}.link_url, {alias}.url)"


# article_summary.syndicated_copies (m020): the other outlets that ran the story, not every copy row: an
# outlet's own near-duplicates (query-string variants of one page, a story re-posted under new URLs) are
# folded under the story as copies but are not "syndicated" (the syndication view and A10 count the same way).
_ALL_COPIES_SQL = "(SELECT count(*) FROM articles c WHERE c.duplicate_of = a.id) AS syndicated_copies"
_OTHER_OUTLETS_SQL = ("(SELECT count(DISTINCT coalesce(c.source_id, '')) FROM articles c "
                      "WHERE c.duplicate_of = a.id AND c.source_id IS NOT a.source_id) AS syndicated_copies")
_ARTICLE_SUMMARY = _by_kind(_VIEWS_V9["article_summary"], [
    ("  a.canonical_url AS url,\n", f"  {readable_url_sql('a')} AS url,\n", 1),
    (_ALL_COPIES_SQL, _OTHER_OUTLETS_SQL, 1)])
_VIEWS_LINK_URL = {
    "quotes_by_speaker": _by_kind(_VIEWS_V8["quotes_by_speaker"], [
        ("  a.canonical_url AS url,\n", f"  {readable_url_sql('a')} AS url,\n", 1)]),
    "syndication": _by_kind(_VIEWS_V6["syndication"], [
        ("  o.canonical_url AS url,\n", f"  {readable_url_sql('o')} AS url,\n", 1)]),
}




# Who names a person (red team, session 13: one outlet quoting "John Disgraced Campion" six times in one
# article renamed the commissioner in speaker_names, most_quoted and the digest). The name shown for a
# speaker identity is now, in order:
# * the watchlist's own name for the person (`watched_people`: its office holders and people, written by
#   the analyse stage from the watchlist, with their speaker identity), when it has one;
# * else a full name (first name and surname, no honorific) before a bare "Mr Campion", as before;
# * then the spelling the most outlets use (each outlet counts once, however many quotes or articles it
#   prints the spelling in), so one outlet cannot choose how a person is named;
# * ties (one outlet each): the shorter name (fewest words, then fewest characters), then the most quotes.
_VIEWS_V17 = {
    "speaker_names": f"""
WITH spelled AS (
  SELECT q.speaker_id, q.speaker, count(*) AS n, count(DISTINCT coalesce(a.source_id, '')) AS outlets,
         (instr(trim(q.speaker), ' ') > 0
          AND lower(rtrim(substr(trim(q.speaker), 1, instr(trim(q.speaker), ' ') - 1), '.'))
              NOT IN ({_HONORIFICS_SQL})
          AND substr(trim(q.speaker), 1, 1) != lower(substr(trim(q.speaker), 1, 1))) AS full_name
  FROM quotes q JOIN articles a ON a.id = q.article_id
  WHERE q.speaker_id IS NOT NULL AND q.speaker IS NOT NULL
  GROUP BY q.speaker_id, q.speaker),
ranked AS (
  SELECT speaker_id, speaker,
         count(*) OVER (PARTITION BY speaker_id) AS spellings,
         sum(n) OVER (PARTITION BY speaker_id) AS quotes,
         row_number() OVER (PARTITION BY speaker_id
                            ORDER BY full_name DESC, outlets DESC,
                                     length(trim(speaker)) - length(replace(trim(speaker), ' ', '')),
                                     length(trim(speaker)), n DESC, speaker) AS pick
  FROM spelled)
SELECT r.speaker_id, coalesce(w.name, r.speaker) AS name, r.spellings, r.quotes,
       CASE WHEN w.name IS NOT NULL THEN 'watchlist' ELSE 'outlets' END AS named_by
FROM ranked r
LEFT JOIN (SELECT speaker_id, name FROM
             (SELECT speaker_id, name, row_number() OVER (PARTITION BY speaker_id ORDER BY length(name), name) AS k
              FROM watched_people WHERE speaker_id IS NOT NULL)
           WHERE k = 1) w ON w.speaker_id = r.speaker_id
WHERE r.pick = 1
""",
}


@migrations()
def m017_speaker_names_by_outlets(db: Database) -> None:
    """watched_people: the watchlist's office holders and people, with their speaker identity; speaker_names
    shows the watchlist's name for a person it knows, else the full name the most outlets use (each outlet
    counted once; ties: the shorter name), so one outlet's spelling cannot rename a person."""
    db.execute("""CREATE TABLE IF NOT EXISTS watched_people (
        entity_id TEXT NOT NULL REFERENCES entities(id),
        name TEXT NOT NULL,
        role TEXT,
        speaker_id TEXT,
        PRIMARY KEY (entity_id, name)
    )""")
    db.execute("CREATE INDEX IF NOT EXISTS idx_watched_people_speaker_id ON watched_people(speaker_id)")
    db.execute("DROP VIEW IF EXISTS most_quoted")   # reads speaker_names: re-created unchanged
    db.execute("DROP VIEW IF EXISTS speaker_names")
    db.execute(f"CREATE VIEW speaker_names AS {_VIEWS_V17['speaker_names']}")
    db.execute(f"CREATE VIEW most_quoted AS {_VIEWS_V12['most_quoted']}")


@migrations()
def m018_article_link_url(db: Database) -> None:
    """articles.link_url: the address a reader opens (the page's accepted rel=canonical as written, else the
    URL fetched after redirects); article_summary, quotes_by_speaker and syndication show it as ``url``
    (else articles.url) instead of the normalised canonical_url, which stays the article's identity.
    Old rows keep what they have (no link_url: their fetched URL is shown)."""
    db.execute("ALTER TABLE articles ADD COLUMN link_url TEXT")
    for name in ("most_quoted", "quotes_by_speaker", "syndication"):   # most_quoted reads quotes_by_speaker
        db.execute(f"DROP VIEW IF EXISTS {name}")
    for name, sql in (("quotes_by_speaker", _VIEWS_LINK_URL["quotes_by_speaker"]),
                      ("most_quoted", _VIEWS_V12["most_quoted"]), ("syndication", _VIEWS_LINK_URL["syndication"])):
        db.execute(f"CREATE VIEW {name} AS {sql}")
    refresh_label_views(db)


# One person, counted once, in most_quoted (review, session 13: "Councillor Minnery" ranked beside "David
# Minnery" for one body, and descriptions such as "the chief fire officer" took top-3 places). A speaker
# printed as title + surname only (speaker_id a bare surname: "minnery") is joined to the full name with that
# surname (speaker_id "david minnery") quoted in the same article when exactly one is; when the article
# quotes none, to the one quoted for the same body over every stored story; when two or more could be meant,
# it stays apart. Descriptions and organisations (no speaker_id: "the PCC", "a spokesperson") are not
# people: they stay in quote_people (person_id NULL), not in most_quoted. Copies are left out, as in
# quotes_by_speaker; people's corrections of speaker and body apply (quote_view).
_VIEWS_V19 = {
    "quote_people": """
WITH q AS (
  SELECT qv.quote_id, qv.article_id, qv.speaker, qv.speaker_id, qv.entity_id, a.published_at
  FROM quote_view qv JOIN articles a ON a.id = qv.article_id
  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL),
full_names AS (
  SELECT DISTINCT article_id, entity_id, speaker_id, substr(speaker_id, instr(speaker_id, ' ') + 1) AS surname
  FROM q WHERE instr(speaker_id, ' ') > 0),
in_article AS (
  SELECT article_id, surname, count(DISTINCT speaker_id) AS n, max(speaker_id) AS speaker_id
  FROM full_names GROUP BY article_id, surname),
for_body AS (
  SELECT entity_id, surname, count(DISTINCT speaker_id) AS n, max(speaker_id) AS speaker_id
  FROM full_names WHERE entity_id IS NOT NULL GROUP BY entity_id, surname)
SELECT
  q.quote_id,
  q.article_id,
  q.entity_id,
  q.speaker,
  q.speaker_id,
  CASE WHEN q.speaker_id IS NULL OR instr(q.speaker_id, ' ') > 0 THEN q.speaker_id
       WHEN ia.n = 1 THEN ia.speaker_id
       WHEN ia.n > 1 THEN q.speaker_id
       WHEN fb.n = 1 THEN fb.speaker_id
       ELSE q.speaker_id END AS person_id,
  CASE WHEN q.speaker_id IS NULL THEN 'description'
       WHEN instr(q.speaker_id, ' ') > 0 THEN 'name'
       WHEN ia.n = 1 THEN 'same_article'
       WHEN ia.n > 1 THEN 'ambiguous'
       WHEN fb.n = 1 THEN 'same_body'
       WHEN fb.n > 1 THEN 'ambiguous'
       ELSE 'surname' END AS joined_by,
  strftime('%Y-%m-%dT%H:%M:%SZ', q.published_at) AS published_at
FROM q
LEFT JOIN in_article ia ON ia.article_id = q.article_id AND ia.surname = q.speaker_id
LEFT JOIN for_body fb ON fb.entity_id = q.entity_id AND fb.surname = q.speaker_id
""",
    "most_quoted": """
SELECT grouped.entity_id, grouped.body, grouped.speaker_id, coalesce(n.name, grouped.speaker) AS speaker,
       grouped.quotes AS quotes, stories, first_quoted, last_quoted,
       rank() OVER (PARTITION BY grouped.entity_id ORDER BY grouped.quotes DESC, stories DESC) AS rank
FROM (SELECT p.entity_id, coalesce(en.display_name, en.name) AS body, p.person_id AS speaker_id,
             max(p.speaker) AS speaker, count(*) AS quotes, count(DISTINCT p.article_id) AS stories,
             min(coalesce(p.published_at, '')) AS first_quoted, max(p.published_at) AS last_quoted
      FROM quote_people p LEFT JOIN entities en ON en.id = p.entity_id
      WHERE p.entity_id IS NOT NULL AND p.person_id IS NOT NULL
      GROUP BY p.entity_id, p.person_id) AS grouped
LEFT JOIN speaker_names n ON n.speaker_id = grouped.speaker_id
""",
}


@migrations()
def m019_most_quoted_people(db: Database) -> None:
    """quote_people: each quote's person (``person_id``: a title + surname joined to the one full name with
    that surname quoted in the same article, else for the same body; NULL for descriptions); most_quoted
    counts people by it, one row per person, descriptions ("the chief fire officer") left out."""
    db.execute("DROP VIEW IF EXISTS most_quoted")
    db.execute("DROP VIEW IF EXISTS quote_people")
    db.execute(f"CREATE VIEW quote_people AS {_VIEWS_V19['quote_people']}")
    db.execute(f"CREATE VIEW most_quoted AS {_VIEWS_V19['most_quoted']}")


_VIEWS_V20 = {
    # Stories that ran in more than one outlet: an outlet's own copies of its story (query-string variants,
    # re-posts, rewordings) do not make it syndicated, and `copies` counts the other outlets that ran it.
    "syndication": _by_kind(_VIEWS_LINK_URL["syndication"], [
        ("  (SELECT count(*) FROM articles c WHERE c.duplicate_of = o.id) AS copies,",
         "  (SELECT count(DISTINCT coalesce(c.source_id, '')) FROM articles c\n"
         "     WHERE c.duplicate_of = o.id AND c.source_id IS NOT o.source_id) AS copies,", 1),
        ("WHERE o.duplicate_of IS NULL AND EXISTS (SELECT 1 FROM articles c WHERE c.duplicate_of = o.id)",
         "WHERE o.duplicate_of IS NULL\n"
         "  AND EXISTS (SELECT 1 FROM articles c WHERE c.duplicate_of = o.id AND c.source_id IS NOT o.source_id)", 1)]),
}


@migrations()
def m020_syndication_other_outlets(db: Database) -> None:
    """An outlet's own copies of its story (query-string variants of one page, re-posts, rewordings) are not
    syndication: article_summary.syndicated_copies and syndication.copies count the other outlets that ran a
    story, and the syndication view lists only stories another outlet ran."""
    db.execute("DROP VIEW IF EXISTS syndication")
    db.execute(f"CREATE VIEW syndication AS {_VIEWS_V20['syndication']}")
    refresh_label_views(db)


# The article requests of a source in a crawl run, and those that failed by kind class (``crawler.spiders.news
# .failure_class``): a failed source is told by what its article requests did (``cuttings.failures.source_failed``).
SOURCE_RUN_ARTICLE_REQUESTS = ("article_requests", "article_requests_failed", "article_requests_gone",
                               "article_requests_blocked")


@migrations()
def m021_source_run_article_requests(db: Database) -> None:
    """source_runs: the article requests each source's crawl made (answered or failed) and those that failed,
    all of them, gone (404/410) and blocked or unreachable (401/403/429/5xx, timeouts, DNS, connection).
    NULL in the rows of runs before this migration (not counted then): read as unknown, not as 0."""
    for column in SOURCE_RUN_ARTICLE_REQUESTS:
        db.execute(f"ALTER TABLE source_runs ADD COLUMN {column} INTEGER")


@migrations()
def m022_label_views_without_quote_corrections(db: Database) -> None:
    """A person's correction of a quote (labels task quote_speaker / quote_entity) is no label of the article:
    effective_labels leaves it out, so article_summary.human_corrected (and every export) no longer says a
    story's topics, stance or tone were set by a person when only a quote's speaker was corrected. quote_view
    still applies those corrections."""
    refresh_label_views(db)


_VIEWS_V23 = {
    # first_quoted: the earliest dated story (min() skips NULL); an undated story no longer makes it ''.
    "most_quoted": _by_kind(_VIEWS_V19["most_quoted"], [
        ("min(coalesce(p.published_at, '')) AS first_quoted", "min(p.published_at) AS first_quoted", 1)]),
}


@migrations()
def m023_most_quoted_first_dated(db: Database) -> None:
    """most_quoted.first_quoted is the publication time of the person's first dated story: a quote in a story
    without a date made it '' (not even NULL), so pandas' parse_dates lost it and a sort put it first."""
    db.execute("DROP VIEW IF EXISTS most_quoted")
    db.execute(f"CREATE VIEW most_quoted AS {_VIEWS_V23['most_quoted']}")


_VIEWS_V24 = {
    # quote_id: the quote's row (quotes.id, quote_view and quote_people's quote_id), to join a quote to its
    # person (quote_people.person_id) or its corrections; the columns before it are unchanged.
    "quotes_by_speaker": _by_kind(_VIEWS_LINK_URL["quotes_by_speaker"], [
        (" AS published_precision\nFROM quote_view q\n", " AS published_precision,\n  q.quote_id\nFROM quote_view q\n", 1)]),
}


@migrations()
def m024_quotes_by_speaker_quote_id(db: Database) -> None:
    """quotes_by_speaker gains quote_id: without it a quote could not be joined to quote_people (the person
    most_quoted counts it for) nor to the quotes table, except by matching its words."""
    db.execute("DROP VIEW IF EXISTS quotes_by_speaker")
    db.execute(f"CREATE VIEW quotes_by_speaker AS {_VIEWS_V24['quotes_by_speaker']}")


# One row per (story, watched body it is about), the digest's rule (cuttings.report._about): the bodies it
# names (mentions) and those a quote in it speaks for (quote_view: people's corrections applied). The join
# table analysts lacked: joining stories to `mentions` repeats a story once per mention.
_VIEWS_V25 = {
    "story_bodies": """
SELECT ab.article_id, ab.entity_id, coalesce(e.display_name, e.name, ab.entity_id) AS body,
       (SELECT count(*) FROM mentions m WHERE m.article_id = ab.article_id AND m.entity_id = ab.entity_id) AS mentions,
       (SELECT count(*) FROM quote_view q WHERE q.article_id = ab.article_id AND q.entity_id = ab.entity_id) AS quotes
FROM (SELECT article_id, entity_id FROM mentions
      UNION
      SELECT article_id, entity_id FROM quote_view WHERE entity_id IS NOT NULL) ab
JOIN articles a ON a.id = ab.article_id AND a.duplicate_of IS NULL
LEFT JOIN entities e ON e.id = ab.entity_id
""",
}


@migrations()
def m025_story_bodies(db: Database) -> None:
    """story_bodies: one row per story and watched body it is about, as the digest counts (named, or quoted
    for), with how many mentions and quotes tie it there: the join from stories to bodies without repeating a
    story per mention, and the counts the digest gives."""
    db.execute("DROP VIEW IF EXISTS story_bodies")
    db.execute(f"CREATE VIEW story_bodies AS {_VIEWS_V25['story_bodies']}")


# One speaker, one name (session 18: an analyst's "who is quoted most about us" split one person across
# spellings and titles).
# * The name shown carries no title: a leading honorific ("Cllr", "Coun", "Councillor", "Mr" ...) is dropped
#   from a printed name of three words or more ("Cllr Richard Udall" -> "Richard Udall"; "Mr Campion" stays,
#   it has no first name) before the spellings are weighed, so "Cllr Tom Wells" and "Councillor Tom Wells" count
#   together as "Tom Wells" (the column spellings still counts each printed form). "Coun", "Brig", "Brigadier" and "Professor" join the honorifics (the analyser's
#   titles), so "Brig Jones" is no full name and "Brigadier Peter Jones" is shown "Peter Jones".
# * Across articles, two full names with the same surname quoted for the same watched body are one person when
#   one first name is a short form of the other: it begins the other and has 3 letters or more ("Jon" and
#   "Jonathon", "Matt" and "Matthew"; not "Jo" and "John"), or the pair is in FIRST_NAME_SHORT_FORMS ("Bill"
#   and "William"). Only when the evidence is one-to-one: a name related so to two others of that surname and
#   body ("Chris" beside "Christopher" and "Christine") joins neither, and a full name joins another only when
#   that one is related to it alone, or is the long form it shortens. The pair is counted under the watchlist's
#   identity when one of the two is the body's watched person, else under the long form. Another body, or no
#   body, joins nothing. A title and surname with no full name in its article joins the body's one person of
#   that surname, a short form and its long form counting as one.
FIRST_NAME_SHORT_FORMS = (
    ("alf", "alfred"), ("andy", "andrew"), ("drew", "andrew"), ("bert", "albert"), ("bill", "william"),
    ("billy", "william"), ("will", "william"), ("bob", "robert"), ("bobby", "robert"), ("rob", "robert"),
    ("robbie", "robert"), ("becky", "rebecca"), ("beth", "elizabeth"), ("liz", "elizabeth"),
    ("lizzie", "elizabeth"), ("betty", "elizabeth"), ("charlie", "charles"), ("chas", "charles"),
    ("dave", "david"), ("davy", "david"), ("debbie", "deborah"), ("dick", "richard"), ("rick", "richard"),
    ("ricky", "richard"), ("ted", "edward"), ("eddie", "edward"), ("ed", "edward"), ("gerry", "gerald"),
    ("harry", "henry"), ("hal", "henry"), ("jack", "john"), ("johnny", "john"), ("jim", "james"),
    ("jimmy", "james"), ("jamie", "james"), ("jeff", "jeffrey"), ("jeff", "geoffrey"), ("jenny", "jennifer"),
    ("jackie", "jacqueline"), ("kate", "katherine"), ("kate", "catherine"), ("katie", "katherine"),
    ("kathy", "katherine"), ("larry", "lawrence"), ("maggie", "margaret"), ("meg", "margaret"),
    ("peggy", "margaret"), ("mandy", "amanda"), ("mick", "michael"), ("mike", "michael"), ("mickey", "michael"),
    ("nick", "nicholas"), ("nicky", "nicola"), ("nikki", "nicola"), ("ollie", "oliver"), ("pippa", "philippa"),
    ("polly", "mary"), ("sally", "sarah"), ("sandy", "alexander"), ("steve", "stephen"),
    ("sue", "susan"), ("susie", "susan"), ("terry", "terence"), ("tony", "anthony"), ("vicky", "victoria"),
    ("wendy", "gwendolyn"), ("bart", "bartholomew"), ("kit", "christopher"), ("fred", "frederick"),
    ("freddie", "frederick"), ("gill", "gillian"), ("jill", "gillian"), ("jo", "joanne"), ("jo", "joanna"),
    ("jo", "josephine"), ("joe", "joseph"), ("joey", "joseph"), ("jon", "jonathan"), ("jon", "jonathon"),
    ("ben", "benjamin"), ("dan", "daniel"), ("danny", "daniel"), ("sam", "samuel"), ("sam", "samantha"),
    ("tom", "thomas"), ("tommy", "thomas"), ("tim", "timothy"), ("matt", "matthew"), ("pete", "peter"),
    ("phil", "philip"), ("phil", "phillip"), ("chris", "christopher"), ("chris", "christine"),
    ("alex", "alexander"), ("alex", "alexandra"), ("nat", "nathan"), ("nat", "natalie"), ("ken", "kenneth"),
    ("len", "leonard"), ("ron", "ronald"), ("ray", "raymond"), ("reg", "reginald"), ("stan", "stanley"),
    ("val", "valerie"), ("viv", "vivienne"), ("di", "diana"), ("di", "diane"), ("di", "dianne"),
)
_SHORT_FORMS_SQL = ", ".join(f"('{short}', '{long}')" for short, long in FIRST_NAME_SHORT_FORMS)
# The analyser's titles (nlp.quotes.TITLES) not in _HONORIFICS_SQL: "Coun Bayliss", "Brig Jones" are no full names.
_HONORIFICS_V26_SQL = _HONORIFICS_SQL + ", 'coun', 'brig', 'brigadier', 'professor'"
# The printed name less a leading honorific, when a first name and a surname stay ("Cllr Tom Wells").
_UNTITLED_SPEAKER_SQL = f"""CASE WHEN instr(trim(q.speaker), ' ') > 0
       AND lower(rtrim(substr(trim(q.speaker), 1, instr(trim(q.speaker), ' ') - 1), '.')) IN ({_HONORIFICS_V26_SQL})
       AND instr(trim(substr(trim(q.speaker), instr(trim(q.speaker), ' ') + 1)), ' ') > 0
  THEN trim(substr(trim(q.speaker), instr(trim(q.speaker), ' ') + 1)) ELSE trim(q.speaker) END"""
_VIEWS_V26 = {
    "speaker_names": f"""
WITH printed AS (
  SELECT q.speaker_id, {_UNTITLED_SPEAKER_SQL} AS speaker, q.speaker AS as_printed, a.source_id
  FROM quotes q JOIN articles a ON a.id = q.article_id
  WHERE q.speaker_id IS NOT NULL AND q.speaker IS NOT NULL),
printings AS (
  SELECT speaker_id, count(DISTINCT as_printed) AS spellings FROM printed GROUP BY speaker_id),
spelled AS (
  SELECT speaker_id, speaker, count(*) AS n, count(DISTINCT coalesce(source_id, '')) AS outlets,
         (instr(speaker, ' ') > 0
          AND lower(rtrim(substr(speaker, 1, instr(speaker, ' ') - 1), '.')) NOT IN ({_HONORIFICS_V26_SQL})
          AND substr(speaker, 1, 1) != lower(substr(speaker, 1, 1))) AS full_name
  FROM printed
  GROUP BY speaker_id, speaker),
ranked AS (
  SELECT speaker_id, speaker,
         sum(n) OVER (PARTITION BY speaker_id) AS quotes,
         row_number() OVER (PARTITION BY speaker_id
                            ORDER BY full_name DESC, outlets DESC,
                                     length(speaker) - length(replace(speaker, ' ', '')),
                                     length(speaker), n DESC, speaker) AS pick
  FROM spelled)
SELECT r.speaker_id, coalesce(w.name, r.speaker) AS name, pr.spellings, r.quotes,
       CASE WHEN w.name IS NOT NULL THEN 'watchlist' ELSE 'outlets' END AS named_by
FROM ranked r
JOIN printings pr ON pr.speaker_id = r.speaker_id
LEFT JOIN (SELECT speaker_id, name FROM
             (SELECT speaker_id, name, row_number() OVER (PARTITION BY speaker_id ORDER BY length(name), name) AS k
              FROM watched_people WHERE speaker_id IS NOT NULL)
           WHERE k = 1) w ON w.speaker_id = r.speaker_id
WHERE r.pick = 1
""",
    "quote_people": f"""
WITH q AS (
  SELECT qv.quote_id, qv.article_id, qv.speaker, qv.speaker_id, qv.entity_id, a.published_at
  FROM quote_view qv JOIN articles a ON a.id = qv.article_id
  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL),
full_names AS (
  SELECT DISTINCT article_id, entity_id, speaker_id, substr(speaker_id, instr(speaker_id, ' ') + 1) AS surname
  FROM q WHERE instr(speaker_id, ' ') > 0),
in_article AS (
  SELECT article_id, surname, count(DISTINCT speaker_id) AS n, max(speaker_id) AS speaker_id
  FROM full_names GROUP BY article_id, surname),
short_forms(short, long) AS (VALUES {_SHORT_FORMS_SQL}),
people AS (
  SELECT DISTINCT entity_id, speaker_id, surname, substr(speaker_id, 1, instr(speaker_id, ' ') - 1) AS first
  FROM full_names WHERE entity_id IS NOT NULL),
related AS (
  SELECT a.entity_id, a.speaker_id, b.speaker_id AS other,
         (length(a.first) >= 3 AND length(a.first) < length(b.first) AND substr(b.first, 1, length(a.first)) = a.first)
         OR EXISTS (SELECT 1 FROM short_forms f WHERE f.short = a.first AND f.long = b.first) AS shorter,
         (length(b.first) >= 3 AND length(b.first) < length(a.first) AND substr(a.first, 1, length(b.first)) = b.first)
         OR EXISTS (SELECT 1 FROM short_forms f WHERE f.short = b.first AND f.long = a.first) AS longer
  FROM people a JOIN people b
    ON b.entity_id = a.entity_id AND b.surname = a.surname AND b.speaker_id != a.speaker_id),
forms AS (
  SELECT * FROM related WHERE shorter OR longer),
counted AS (
  SELECT entity_id, speaker_id, count(*) AS n FROM forms GROUP BY entity_id, speaker_id),
short_form AS (
  SELECT f.entity_id, f.speaker_id,
         CASE WHEN o.n = 1 AND wa.speaker_id IS NOT NULL AND wb.speaker_id IS NULL THEN f.speaker_id
              WHEN o.n = 1 AND wb.speaker_id IS NOT NULL AND wa.speaker_id IS NULL THEN f.other
              WHEN f.shorter THEN f.other
              ELSE f.speaker_id END AS person_id
  FROM forms f
  JOIN counted c ON c.entity_id = f.entity_id AND c.speaker_id = f.speaker_id AND c.n = 1
  JOIN counted o ON o.entity_id = f.entity_id AND o.speaker_id = f.other
  LEFT JOIN (SELECT DISTINCT entity_id, speaker_id FROM watched_people) wa
    ON wa.entity_id = f.entity_id AND wa.speaker_id = f.speaker_id
  LEFT JOIN (SELECT DISTINCT entity_id, speaker_id FROM watched_people) wb
    ON wb.entity_id = f.entity_id AND wb.speaker_id = f.other
  WHERE o.n = 1 OR f.shorter),
for_body AS (
  -- the people quoted for the body, a short form joined to its long form counted once
  SELECT fn.entity_id, fn.surname, count(DISTINCT coalesce(sf.person_id, fn.speaker_id)) AS n,
         max(coalesce(sf.person_id, fn.speaker_id)) AS speaker_id
  FROM full_names fn LEFT JOIN short_form sf ON sf.entity_id = fn.entity_id AND sf.speaker_id = fn.speaker_id
  WHERE fn.entity_id IS NOT NULL GROUP BY fn.entity_id, fn.surname),
joined AS (
  SELECT
    q.quote_id,
    q.article_id,
    q.entity_id,
    q.speaker,
    q.speaker_id,
    CASE WHEN q.speaker_id IS NULL OR instr(q.speaker_id, ' ') > 0 THEN q.speaker_id
         WHEN ia.n = 1 THEN ia.speaker_id
         WHEN ia.n > 1 THEN q.speaker_id
         WHEN fb.n = 1 THEN fb.speaker_id
         ELSE q.speaker_id END AS person_id,
    CASE WHEN q.speaker_id IS NULL THEN 'description'
         WHEN instr(q.speaker_id, ' ') > 0 THEN 'name'
         WHEN ia.n = 1 THEN 'same_article'
         WHEN ia.n > 1 THEN 'ambiguous'
         WHEN fb.n = 1 THEN 'same_body'
         WHEN fb.n > 1 THEN 'ambiguous'
         ELSE 'surname' END AS joined_by,
    q.published_at
  FROM q
  LEFT JOIN in_article ia ON ia.article_id = q.article_id AND ia.surname = q.speaker_id
  LEFT JOIN for_body fb ON fb.entity_id = q.entity_id AND fb.surname = q.speaker_id)
SELECT
  j.quote_id,
  j.article_id,
  j.entity_id,
  j.speaker,
  j.speaker_id,
  coalesce(sf.person_id, j.person_id) AS person_id,
  CASE WHEN sf.person_id IS NOT NULL AND sf.person_id != j.person_id THEN 'short_form'
       ELSE j.joined_by END AS joined_by,
  strftime('%Y-%m-%dT%H:%M:%SZ', j.published_at) AS published_at
FROM joined j
LEFT JOIN short_form sf ON sf.entity_id = j.entity_id AND sf.speaker_id = j.person_id
""",
}


@migrations()
def m026_one_speaker_one_name(db: Database) -> None:
    """speaker_names shows a person's name without a leading title ("Cllr Richard Udall" is shown "Richard
    Udall"; "Coun" is a title), counting "Cllr Tom Wells" and "Councillor Tom Wells" as one spelling;
    quote_people counts a short form of a first name ("Jon", "Bill") quoted for the same body as the same
    surname's long form ("Jonathon", "William") as one person (``joined_by = 'short_form'``), only where the
    pairing is one-to-one, under the watchlist's identity when one of the two is the body's watched person."""
    db.execute("DROP VIEW IF EXISTS most_quoted")   # reads both: re-created unchanged
    for name in ("speaker_names", "quote_people"):
        db.execute(f"DROP VIEW IF EXISTS {name}")
        db.execute(f"CREATE VIEW {name} AS {_VIEWS_V26[name]}")
    db.execute(f"CREATE VIEW most_quoted AS {_VIEWS_V23['most_quoted']}")


@migrations()
def m027_quote_ids_never_reused(db: Database) -> None:
    """quotes.id is AUTOINCREMENT: a quote id, once given, never names another quote. The analyse stage keeps
    a quote's row when a re-analysis finds the quote again (store.same_quotes) and deletes a quote found no
    more; a plain INTEGER PRIMARY KEY gave the next new quote the deleted one's id when it was the largest,
    so a saved quote_id could show another quote. The table is rebuilt with its columns, ids and indexes
    as they were (the views read it by name and are left as they are)."""
    columns = ("id, article_id, speaker, speaker_role, entity_id, text, start_char, end_char, analyser_version, "
               "entity_method, speaker_id")
    db.execute("""CREATE TABLE quotes_m027 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        speaker TEXT,
        speaker_role TEXT,
        entity_id TEXT REFERENCES entities(id),
        text TEXT NOT NULL,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL,
        analyser_version TEXT NOT NULL,
        entity_method TEXT,
        speaker_id TEXT
    )""")
    db.execute(f"INSERT INTO quotes_m027 ({columns}) SELECT {columns} FROM quotes ORDER BY id")
    db.execute("DROP TABLE quotes")
    # legacy: rename the table only; the views naming `quotes` are neither rewritten nor checked
    db.execute("PRAGMA legacy_alter_table = ON")
    try:
        db.execute("ALTER TABLE quotes_m027 RENAME TO quotes")
    finally:
        db.execute("PRAGMA legacy_alter_table = OFF")
    db.execute("CREATE INDEX idx_quotes_article_id ON quotes(article_id)")
    db.execute("CREATE INDEX idx_quotes_entity_id ON quotes(entity_id)")
    db.execute("CREATE INDEX idx_quotes_speaker_id ON quotes(speaker_id)")


_VIEWS_V28 = {
    # a withdrawn correction of a quote applies no more: the machine's speaker and body show again
    "quote_view": _by_kind(_VIEWS_V8["quote_view"], [
        ("AND l.target = q.start_char || ':' || q.end_char", f"AND l.target = q.start_char || ':' || q.end_char "
                                                             f"AND {_standing_by_id_sql('l')}", 3)]),
}


@migrations()
def m028_label_withdrawals(db: Database) -> None:
    """A person's withdrawal of a story's labels (``cuttings label --unlabel``) is a ``labels`` row of label
    :data:`WITHDRAWN` (target ''), appended with its annotator and time, no longer a DELETE: the rows it
    withdraws stay in the table (who gave the label, who withdrew it, when) and stand no more. effective_labels
    (so article_summary and entity_daily), entity_daily's tone_rated and quote_view read only the standing rows
    (:func:`standing_label_sql`). A database without withdrawal rows reads as before; rows an older cuttings
    deleted are gone and need nothing."""
    # the check every standing row needs: a probe of this (small, partial) index, not of the article's rows
    db.execute(f"CREATE INDEX IF NOT EXISTS idx_labels_withdrawn ON labels(article_id, task, id) "
               f"WHERE label = '{WITHDRAWN}'")
    refresh_label_views(db)
    db.execute("DROP VIEW IF EXISTS quote_view")   # the views reading it read the new one (same columns)
    db.execute(f"CREATE VIEW quote_view AS {_VIEWS_V28['quote_view']}")


_VIEWS_V29 = {
    # a person's correction of a quote applies to its quote by id (labels.quote_id), wherever the quote is now;
    # a correction whose quote is gone applies to nothing (before: to any quote found at its old place)
    "quote_view": _by_kind(_VIEWS_V28["quote_view"], [
        ("AND l.target = q.start_char || ':' || q.end_char", "AND l.quote_id = q.id", 3)]),
}


@migrations()
def m029_quote_corrections_by_id(db: Database) -> None:
    """A person's correction of a quote (labels task quote_speaker / quote_entity) carries its quote's id
    (``labels.quote_id``) and words (``labels.quote_text``, as last found), and quote_view applies it by id:
    keyed by its place (``target`` ``start:end``) alone, a correction of a quote a re-analysis no longer found
    applied to any quote found at that place later. Back-filled from each correction's place (the quote there
    now, the first stored if two); one naming no quote gets NULL: it applies to nothing, as before, and stays
    so. ``target`` keeps the quote's place as last found. Other rows: NULL."""
    db.execute("ALTER TABLE labels ADD COLUMN quote_id INTEGER")
    db.execute("ALTER TABLE labels ADD COLUMN quote_text TEXT")
    quote = ("(SELECT q.{} FROM quotes q WHERE q.article_id = labels.article_id "
             "AND q.start_char || ':' || q.end_char = labels.target ORDER BY q.id LIMIT 1)")
    db.execute(f"UPDATE labels SET quote_id = {quote.format('id')}, quote_text = {quote.format('text')} "
               f"WHERE task IN {_QUOTE_TASKS_SQL} AND label != '{WITHDRAWN}'")
    # an analyst's join of a correction to its quote, and the orphan check, by id
    db.execute("CREATE INDEX idx_labels_quote_id ON labels(quote_id) WHERE quote_id IS NOT NULL")
    db.execute("DROP VIEW IF EXISTS quote_view")   # the views reading it read the new one (same columns)
    db.execute(f"CREATE VIEW quote_view AS {_VIEWS_V29['quote_view']}")


@migrations()
def m030_summary_labels_per_story(db: Database) -> None:
    """article_summary's label columns (topics, stance, tone, their uncertain columns, uncertain, human_corrected)
    read each story's own effective labels (:func:`per_article_labels`): the same rows, but a full scan of the
    view (the critical_articles canned query, facets, exports, the digest) no longer grows with the square of the
    stories. No table or index changes."""
    refresh_label_views(db)


@migrations()
def m031_entity_daily_per_body(db: Database) -> None:
    """entity_daily reads each (story, body) once, the rated bodies once per statement and the stories' stance
    and tone by index (:func:`per_body_daily`): the same rows, but at a year's size (50,000 stories) its full
    scan ran past 9 minutes and its Datasette page hit the 5 s limit; now both take seconds. No table or index
    changes."""
    refresh_label_views(db)


_VIEWS_V32 = {
    # the correction of a quote that stands is the newest by time (then id); a withdrawal of one quote's
    # corrections takes back that quote's only (standing_label_sql)
    "quote_view": _by_kind(_VIEWS_V29["quote_view"], [
        ("ORDER BY l.id DESC LIMIT 1", "ORDER BY l.created_at DESC, l.id DESC LIMIT 1", 2),
        (_standing_by_id_sql("l"), standing_label_sql("l"), 3)]),
}


@migrations()
def m032_labels_by_time(db: Database) -> None:
    """The label that stands is the newest by the time it was given (``labels.created_at``), the row id breaking a
    tie within one second, as between databases (docs/labelling.md, "Labels moved between databases: the newest
    wins"): effective_labels (so article_summary, and entity_daily: m031's form, :func:`per_body_daily`, reading the
    by-time effective_labels' two arms), entity_daily's tone_rated, quote_view and the store's readers. A withdrawal takes back the rows of its article and task given at or before it, by (time,
    id); one quote's withdrawal (``quote_id``) that quote's corrections only. Before, by id: an import writes a
    row with its file's time, so the store wrote rows again to keep ids in time order (duplicates in the audit
    trail; rows an older cuttings copied stay, and read the same). Indexes: idx_labels_article_task_time
    (article, task, target, created_at, label: the views' seeks read no other column) replaces
    idx_labels_article_task (its prefix); idx_labels_withdrawn (m028's partial index of the withdrawals, by id)
    is made again by time, with every column the check reads (quote_id, and label: covering); idx_labels_quote_id_time
    (quote, task, created_at) replaces m029's idx_labels_quote_id, so quote_view reads a quote's newest correction
    first, with no sort per quote."""
    db.execute("DROP INDEX IF EXISTS idx_labels_article_task")
    db.execute("CREATE INDEX idx_labels_article_task_time ON labels(article_id, task, target, created_at, label)")
    db.execute("DROP INDEX IF EXISTS idx_labels_withdrawn")
    db.execute(f"CREATE INDEX idx_labels_withdrawn ON labels(article_id, task, created_at, quote_id, label) "
               f"WHERE label = '{WITHDRAWN}'")
    # a quote's corrections of one task, newest first, straight from the index (no sort per quote)
    db.execute("DROP INDEX IF EXISTS idx_labels_quote_id")
    db.execute("CREATE INDEX idx_labels_quote_id_time ON labels(quote_id, task, created_at) WHERE quote_id IS NOT NULL")
    refresh_label_views(db)
    db.execute("DROP VIEW IF EXISTS quote_view")   # the views reading it read the new one (same columns)
    db.execute(f"CREATE VIEW quote_view AS {_VIEWS_V32['quote_view']}")


# A year of coverage (50,000 stories, docs/benchmarks.md): a Datasette page of a quote view runs its query, its
# count, its facets and the facet suggestions, each a statement of its own, and each built the whole view first.
# The short-form pairing of quote_people (related .. short_form) is kept as m026 wrote it.
_QUOTE_PEOPLE_GROUPS = _VIEWS_V26["quote_people"][_VIEWS_V26["quote_people"].index("related AS ("):
                                                  _VIEWS_V26["quote_people"].index("for_body AS (")]
# ... and its answer: each quote's person, a short form joined to its long form (m026's, unchanged)
_QUOTE_PEOPLE_ANSWER = _VIEWS_V26["quote_people"][_VIEWS_V26["quote_people"].rindex("SELECT\n  j.quote_id"):]
_VIEWS_V33 = {
    # speaker_quotes: a lookup in the speakers' counts (built once a statement, and only when the column is read),
    # not a window over the whole view, which every statement (a count, a facet, a page of 100) built and sorted
    "quotes_by_speaker": _by_kind(_VIEWS_V24["quotes_by_speaker"], [
        ("\nSELECT\n", """
WITH speakers AS (
  SELECT coalesce(x.speaker_id, x.speaker) AS who, count(*) AS quotes
  FROM quote_view x JOIN articles xa ON xa.id = x.article_id
  WHERE xa.duplicate_of IS NULL
  GROUP BY coalesce(x.speaker_id, x.speaker))
SELECT
""", 1),
        ("  count(*) OVER (PARTITION BY coalesce(q.speaker_id, q.speaker)) AS speaker_quotes,\n",
         "  (SELECT s.quotes FROM speakers s WHERE s.who IS coalesce(q.speaker_id, q.speaker)) AS speaker_quotes,\n",
         1)]),
    # each quote reads the full names of its own article by the article's quotes (every article's names were
    # built and grouped first), and the body's people are grouped from the distinct people quoted for each body
    # (from every article's names before); quotes are read once, not stored for three readers
    "quote_people": f"""
WITH short_forms(short, long) AS (VALUES {_SHORT_FORMS_SQL}),
people AS (
  -- surname TEXT, as speaker_id: for_body's (automatic) index then serves both terms of a quote's lookup
  SELECT DISTINCT qv.entity_id, qv.speaker_id,
         CAST(substr(qv.speaker_id, instr(qv.speaker_id, ' ') + 1) AS TEXT) AS surname,
         substr(qv.speaker_id, 1, instr(qv.speaker_id, ' ') - 1) AS first
  FROM quote_view qv JOIN articles a ON a.id = qv.article_id
  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL AND instr(qv.speaker_id, ' ') > 0
    AND qv.entity_id IS NOT NULL),
{_QUOTE_PEOPLE_GROUPS}for_body AS (
  -- the people quoted for the body, a short form joined to its long form counted once
  SELECT p.entity_id, p.surname, count(DISTINCT coalesce(sf.person_id, p.speaker_id)) AS n,
         max(coalesce(sf.person_id, p.speaker_id)) AS speaker_id
  FROM people p LEFT JOIN short_form sf ON sf.entity_id = p.entity_id AND sf.speaker_id = p.speaker_id
  GROUP BY p.entity_id, p.surname),
q AS (
  SELECT qv.quote_id, qv.article_id, qv.speaker, qv.speaker_id, qv.entity_id, a.published_at,
         -- a surname's person, read once: 'same_article <full name>' (the one full name with this surname quoted
         -- in the same article), 'ambiguous' (more than one), else 'same_body <full name>' (the body's one person
         -- with it), 'ambiguous', or 'surname'; NULL for a full name or none
         CASE WHEN qv.speaker_id IS NOT NULL AND instr(qv.speaker_id, ' ') = 0 THEN coalesce(
           (SELECT CASE WHEN count(DISTINCT x.speaker_id) = 1 THEN 'same_article ' || max(x.speaker_id)
                        WHEN count(DISTINCT x.speaker_id) > 1 THEN 'ambiguous' END
            FROM quote_view x
            WHERE x.article_id = qv.article_id AND x.speaker IS NOT NULL AND instr(x.speaker_id, ' ') > 0
              AND substr(x.speaker_id, instr(x.speaker_id, ' ') + 1) = qv.speaker_id),
           CASE WHEN fb.n = 1 THEN 'same_body ' || fb.speaker_id WHEN fb.n > 1 THEN 'ambiguous' END,
           'surname') END AS found
  FROM quote_view qv JOIN articles a ON a.id = qv.article_id
  LEFT JOIN for_body fb ON fb.entity_id = qv.entity_id AND fb.surname = qv.speaker_id
                           AND instr(qv.speaker_id, ' ') = 0
  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL),
joined AS (
  SELECT
    q.quote_id,
    q.article_id,
    q.entity_id,
    q.speaker,
    q.speaker_id,
    coalesce(nullif(substr(q.found, instr(q.found, ' ') + 1), q.found), q.speaker_id) AS person_id,
    CASE WHEN q.speaker_id IS NULL THEN 'description'
         WHEN instr(q.speaker_id, ' ') > 0 THEN 'name'
         ELSE substr(q.found, 1, instr(q.found || ' ', ' ') - 1) END AS joined_by,
    q.published_at
  FROM q)
{_QUOTE_PEOPLE_ANSWER}""",
}
# speaker_names: each speaker's spellings read by the speaker (idx_quotes_speaker_id), so a page of 100 speakers
# or most_quoted's lookup of one reads those speakers' quotes, not every quote ranked first
_FULL_NAME_V33_SQL = f"""(instr(p.speaker, ' ') > 0
                   AND lower(rtrim(substr(p.speaker, 1, instr(p.speaker, ' ') - 1), '.')) NOT IN ({_HONORIFICS_V26_SQL})
                   AND substr(p.speaker, 1, 1) != lower(substr(p.speaker, 1, 1)))"""
_VIEWS_V33["speaker_names"] = f"""
SELECT s.speaker_id,
       coalesce(w.name, (
         SELECT p.speaker FROM (
           SELECT {_UNTITLED_SPEAKER_SQL} AS speaker, count(*) AS n,
                  count(DISTINCT coalesce(a.source_id, '')) AS outlets
           FROM quotes q JOIN articles a ON a.id = q.article_id
           WHERE q.speaker_id = s.speaker_id AND q.speaker IS NOT NULL
           GROUP BY 1) p
         ORDER BY {_FULL_NAME_V33_SQL} DESC, p.outlets DESC,
                  length(p.speaker) - length(replace(p.speaker, ' ', '')), length(p.speaker), p.n DESC, p.speaker
         LIMIT 1)) AS name,
       (SELECT count(DISTINCT q.speaker) FROM quotes q JOIN articles a ON a.id = q.article_id
        WHERE q.speaker_id = s.speaker_id AND q.speaker IS NOT NULL) AS spellings,
       (SELECT count(*) FROM quotes q JOIN articles a ON a.id = q.article_id
        WHERE q.speaker_id = s.speaker_id AND q.speaker IS NOT NULL) AS quotes,
       CASE WHEN w.name IS NOT NULL THEN 'watchlist' ELSE 'outlets' END AS named_by
FROM quotes s
LEFT JOIN (SELECT speaker_id, name FROM
             (SELECT speaker_id, name, row_number() OVER (PARTITION BY speaker_id ORDER BY length(name), name) AS k
              FROM watched_people WHERE speaker_id IS NOT NULL)
           WHERE k = 1) w ON w.speaker_id = s.speaker_id
-- one row a speaker: its first quote (with a printed name, in a stored story)
WHERE s.speaker_id IS NOT NULL AND s.speaker IS NOT NULL
  AND EXISTS (SELECT 1 FROM articles a WHERE a.id = s.article_id)
  AND NOT EXISTS (SELECT 1 FROM quotes e JOIN articles a ON a.id = e.article_id
                  WHERE e.speaker_id = s.speaker_id AND e.speaker IS NOT NULL AND e.id < s.id)
"""
# most_quoted looks up each person's name (a speaker_names row by its speaker_id), not every speaker's joined
_VIEWS_V33["most_quoted"] = _by_kind(_VIEWS_V23["most_quoted"], [
    ("coalesce(n.name, grouped.speaker) AS speaker",
     "coalesce((SELECT n.name FROM speaker_names n WHERE n.speaker_id = grouped.speaker_id), grouped.speaker) "
     "AS speaker", 1),
    ("\nLEFT JOIN speaker_names n ON n.speaker_id = grouped.speaker_id", "", 1)])


# The quote views' pages in published order: a story's own copies left out (duplicate_of IS NULL) in the order
# quotes_by_speaker shows published_at (its default sort), with what quote_people and a facet by outlet read.
_ARTICLES_PUBLISHED_INDEX = ("CREATE INDEX IF NOT EXISTS idx_articles_duplicate_published ON articles("
                             "duplicate_of, strftime('%Y-%m-%dT%H:%M:%SZ', published_at), published_at, source_id)")


@migrations()
def m033_quote_views_per_row(db: Database) -> None:
    """The quote views read what a row needs, not the whole view first (the same rows, docs/benchmarks.md "A year
    of coverage"): quotes_by_speaker.speaker_quotes looks the speaker up in counts built once a statement (a
    window over the whole view before); quote_people reads a quote's own article's names by the article, the
    body's people from the distinct people quoted for it (every article's names before), and builds nothing for
    a count; speaker_names reads each speaker's quotes by idx_quotes_speaker_id (every speaker ranked first),
    so most_quoted looks up the names of the people it ranks. idx_articles_duplicate_published gives the stories
    (copies left out) in quotes_by_speaker's published order."""
    db.execute(_ARTICLES_PUBLISHED_INDEX)
    for name in ("most_quoted", "quotes_by_speaker", "quote_people", "speaker_names"):
        db.execute(f"DROP VIEW IF EXISTS {name}")
    for name in ("speaker_names", "quote_people", "quotes_by_speaker", "most_quoted"):
        db.execute(f"CREATE VIEW {name} AS {_VIEWS_V33[name]}")


@migrations()
def m034_classify_inputs_digest(db: Database) -> None:
    """``processing.inputs_digest``: on a classify stamp, the digest of what the models read of the article
    (its title, body, mentions and quotes as the classifiers receive them) and of the models' versions
    (``cuttings.stages.classify_inputs_digest``). A new analyser version then re-predicts only the articles whose
    mentions or quotes it changed; the others keep their predictions and are stamped with the new version.
    Existing stamps get NULL: the next version change re-predicts them, as before. Other stages' stamps: NULL."""
    db.execute("ALTER TABLE processing ADD COLUMN inputs_digest TEXT")


@migrations()
def m035_strip_stored_controls(db: Database) -> None:
    """Stored crawled text without control characters, as the crawler stores it since 2026-12-06 (b1e45c9,
    13fce03: ``crawler.pipelines.CleanTextPipeline``): C0 but tab/newline/CR, DEL, C1, bidi embedding/override/
    isolate controls and invisible format characters (``cuttings.redaction.strip_controls``) are removed from
    the articles' title, body, author, description and section, from every version's title and body, and from
    byline names (``article_authors``). What is derived from the text follows: an article's and a version's
    ``content_hash`` and the article's ``word_count`` are computed again as the store computes them (so the
    cleaned article is analysed and classified again: its mentions' and quotes' offsets were the old text's);
    ``crawl_state.content_hash`` follows the article's; a byline's ``name_key`` is computed again; a cleaned
    body's MinHash fingerprint is deleted, and the next crawl computes it from the clean body with the crawler's
    own function before it reads any (``crawler.dedupe.SyndicationIndex.from_db``: the store computes no
    fingerprint). Rows without a control are not written. Without it, the first recrawl of such a page stored a
    spurious revision. URLs are left as they are (a cleaned canonical URL could collide with another's)."""
    from cuttings.redaction import CONTROL_CHARS, strip_controls
    from cuttings.store.articles import author_key, content_hash, word_count

    def dirty(*values) -> bool:
        return any(isinstance(value, str) and CONTROL_CHARS.search(value) for value in values)

    def clean(value):
        return strip_controls(value) if isinstance(value, str) else value

    article_fields = ("title", "body", "author", "description", "section")
    rows = db.execute(f"SELECT id, content_hash, {', '.join(article_fields)} FROM articles").fetchall()
    for article_id, old_hash, *values in rows:
        if not dirty(*values):
            continue
        title, body, author, description, section = (clean(value) for value in values)
        new_hash = content_hash(title, body)
        db.execute("UPDATE articles SET title = ?, body = ?, author = ?, description = ?, section = ?, "
                   "content_hash = ?, word_count = ? WHERE id = ?",
                   [title, body, author, description, section, new_hash, word_count(body), article_id])
        db.execute("UPDATE crawl_state SET content_hash = ? WHERE article_id = ? AND content_hash = ?",
                   [new_hash, article_id, old_hash])
        if body != values[1]:   # the fingerprint is the body's: the crawler computes it again
            db.execute("DELETE FROM article_fingerprints WHERE article_id = ?", [article_id])
    for version_id, title, body in db.execute("SELECT id, title, body FROM article_versions").fetchall():
        if dirty(title, body):
            title, body = clean(title), clean(body)
            db.execute("UPDATE article_versions SET title = ?, body = ?, content_hash = ? WHERE id = ?",
                       [title, body, content_hash(title, body), version_id])
    for article_id, position, name in db.execute("SELECT article_id, position, name FROM article_authors").fetchall():
        if dirty(name):
            name = " ".join(strip_controls(name).split())
            db.execute("UPDATE article_authors SET name = ?, name_key = ? WHERE article_id = ? AND position = ?",
                       [name, author_key(name), article_id, position])


# most_quoted names a person after ranking (speaker_names looked up by speaker_id in the outer select): a count(*)
# or a facet of the view (Datasette's page runs both) then reads no name; m033 looked it up in the ranked select,
# which a window keeps whole, so every statement looked up every person's name (0.3-0.4 s at 50,000 stories).
_MOST_QUOTED_LOOKUP = ("coalesce((SELECT n.name FROM speaker_names n WHERE n.speaker_id = grouped.speaker_id), "
                       "grouped.speaker) AS speaker")
_VIEWS_V37 = {"most_quoted": f"""
SELECT r.entity_id, r.body, r.speaker_id,
       coalesce((SELECT n.name FROM speaker_names n WHERE n.speaker_id = r.speaker_id), r.speaker) AS speaker,
       r.quotes, r.stories, r.first_quoted, r.last_quoted, r.rank
FROM ({_by_kind(_VIEWS_V33["most_quoted"], [(_MOST_QUOTED_LOOKUP, "grouped.speaker AS speaker", 1)])}) r
"""}


# There is no m036: session 21 reserved the number for a label change that turned out to need no schema change.
@migrations()
def m037_most_quoted_names_after_ranking(db: Database) -> None:
    """most_quoted looks up a person's name (speaker_names) outside the ranked select, so a count or a facet of the
    view reads no name (the same rows, in the same order; docs/benchmarks.md, "Story pages at a year's size")."""
    db.execute("DROP VIEW IF EXISTS most_quoted")
    db.execute(f"CREATE VIEW most_quoted AS {_VIEWS_V37['most_quoted']}")


# quote_people at a year's size (docs/benchmarks.md, "The quote pages from stored rows"): every statement of the
# quote_people and most_quoted pages (the rows, the count, the body facet) worked out every quote's person again,
# each reading every quote with its corrections twice and grouping the bodies' people (most_quoted 1.8-1.9 s at
# 50,000 stories). Since m038 the view's rows are stored (`quote_people_stored`, in the order the view gives them)
# and read from there while `quote_people_state.fresh` is 1; otherwise the view works them out as before (m033's
# logic, unchanged). So the rows never depend on the stored copy being in step:
# * triggers mark the stored rows stale (fresh = 0) in the statement that changes anything the view reads: a quote
#   (its id, article, speaker, speaker identity or body), a quote correction or its withdrawal (`labels` of the
#   quote tasks), a story's id, copy-of (`duplicate_of`) or publication time, a deleted story, a story inserted
#   whose quotes were stored before it, `watched_people`. Whoever writes (the store, an import, plain SQL), the
#   view then reads the live logic, never an old row;
# * `store.refresh_quote_people` stores the rows again (one transaction: the view's rows worked out live, then
#   fresh = 1); the analyse stage calls it at its end, when the rows are stale. A label write only marks them
#   stale (the quote form stays as fast as before); the pages then work the rows out, as before m038, until the
#   next analyse run, or until `cuttings label` ends (it stores them too).
# A later migration that changes quote_people's logic (or quote_view's) marks the rows stale; one that rebuilds a
# table read here (as m027 rebuilt `quotes`) makes its triggers again (tests/test_quote_people_stored.py checks them).
QUOTE_PEOPLE_COLUMNS = ("quote_id", "article_id", "entity_id", "speaker", "speaker_id", "person_id", "joined_by",
                        "published_at")
QUOTE_PEOPLE_FRESH = "coalesce((SELECT s.fresh FROM quote_people_state s WHERE s.id = 1), 0)"
_QUOTE_PEOPLE_LIVE_V38 = _by_kind(_VIEWS_V33["quote_people"], [
    # the live logic reads its quotes only while the stored rows are stale: a term with no column, tested once before
    # the scan, so a fresh read builds none of its groups
    ("  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL AND instr(qv.speaker_id, ' ') > 0\n"
     "    AND qv.entity_id IS NOT NULL),",
     "  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL AND instr(qv.speaker_id, ' ') > 0\n"
     f"    AND qv.entity_id IS NOT NULL AND NOT {QUOTE_PEOPLE_FRESH}),", 1),
    ("  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL),",
     f"  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL AND NOT {QUOTE_PEOPLE_FRESH}),", 1)])
_QUOTE_PEOPLE_SELECT = ", ".join(QUOTE_PEOPLE_COLUMNS)
_VIEWS_V38 = {"quote_people": f"""
SELECT {_QUOTE_PEOPLE_SELECT} FROM quote_people_stored WHERE {QUOTE_PEOPLE_FRESH}
UNION ALL
SELECT * FROM ({_QUOTE_PEOPLE_LIVE_V38}) WHERE NOT {QUOTE_PEOPLE_FRESH}
"""}
_STALE = "UPDATE quote_people_state SET fresh = 0 WHERE fresh != 0;"
# (name, when, table, condition): every change to what quote_people reads marks the stored rows stale
QUOTE_PEOPLE_TRIGGERS = (
    ("quote_people_stale_quote_insert", "AFTER INSERT", "quotes", ""),
    ("quote_people_stale_quote_delete", "AFTER DELETE", "quotes", ""),
    ("quote_people_stale_quote_update", "AFTER UPDATE OF id, article_id, speaker, speaker_id, entity_id", "quotes", ""),
    ("quote_people_stale_label_insert", "AFTER INSERT", "labels", f"NEW.task IN {_QUOTE_TASKS_SQL}"),
    ("quote_people_stale_label_delete", "AFTER DELETE", "labels", f"OLD.task IN {_QUOTE_TASKS_SQL}"),
    ("quote_people_stale_label_update", "AFTER UPDATE", "labels",
     f"OLD.task IN {_QUOTE_TASKS_SQL} OR NEW.task IN {_QUOTE_TASKS_SQL}"),
    ("quote_people_stale_article_update", "AFTER UPDATE OF id, duplicate_of, published_at", "articles",
     "OLD.id IS NOT NEW.id OR OLD.duplicate_of IS NOT NEW.duplicate_of OR OLD.published_at IS NOT NEW.published_at"),
    ("quote_people_stale_article_delete", "AFTER DELETE", "articles", ""),
    ("quote_people_stale_article_insert", "AFTER INSERT", "articles",
     "EXISTS (SELECT 1 FROM quotes q WHERE q.article_id = NEW.id)"),
    ("quote_people_stale_watched_insert", "AFTER INSERT", "watched_people", ""),
    ("quote_people_stale_watched_delete", "AFTER DELETE", "watched_people", ""),
    ("quote_people_stale_watched_update", "AFTER UPDATE", "watched_people", ""),
)


# most_quoted groups the stored rows themselves while they are in step (through quote_people, a compound view, each
# row was copied out first: about 0.1 s more a statement at 50,000 stories), else quote_people's live rows
_MOST_QUOTED_GROUPED = _VIEWS_V37["most_quoted"][_VIEWS_V37["most_quoted"].index("FROM (SELECT p.entity_id") + 6:
                                                 _VIEWS_V37["most_quoted"].index(") AS grouped")]
_VIEWS_V38["most_quoted"] = _by_kind(_VIEWS_V37["most_quoted"], [
    (_MOST_QUOTED_GROUPED, _by_kind(_MOST_QUOTED_GROUPED, [
        ("FROM quote_people p", "FROM quote_people_stored p", 1),
        ("p.person_id IS NOT NULL\n", f"p.person_id IS NOT NULL AND {QUOTE_PEOPLE_FRESH}\n", 1)])
     + "\n      UNION ALL\n      "
     + _by_kind(_MOST_QUOTED_GROUPED, [
         ("p.person_id IS NOT NULL\n", f"p.person_id IS NOT NULL AND NOT {QUOTE_PEOPLE_FRESH}\n", 1)]), 1)])


def store_quote_people_rows(db) -> int:
    """Store quote_people's rows again (``quote_people_stored``, in the view's order) and mark them fresh; the
    caller holds the transaction. Returns how many rows. ``db``: a sqlite3 or sqlite-utils connection."""
    db.execute("INSERT OR REPLACE INTO quote_people_state (id, fresh) VALUES (1, 0)")   # the view reads the live logic
    db.execute("DELETE FROM quote_people_stored")
    db.execute(f"INSERT INTO quote_people_stored ({_QUOTE_PEOPLE_SELECT}) SELECT {_QUOTE_PEOPLE_SELECT} "
               f"FROM quote_people")
    count = db.execute("SELECT count(*) FROM quote_people_stored").fetchone()[0]
    db.execute("UPDATE quote_people_state SET fresh = 1")
    return count


@migrations()
def m038_quote_people_stored(db: Database) -> None:
    """quote_people's rows are stored (``quote_people_stored``) and read from there while they are in step
    (``quote_people_state.fresh``); triggers mark them stale whenever anything the view reads changes, and the view
    then works them out as before (the same rows either way). The analyse stage stores them again
    (``store.refresh_quote_people``). most_quoted groups the stored rows while they are in step, else quote_people's:
    its page at a year's size no longer works out every quote's person three times (docs/benchmarks.md, "The quote
    pages from stored rows")."""
    db.execute("""CREATE TABLE quote_people_stored (
        quote_id INTEGER,
        article_id INTEGER,
        entity_id TEXT,
        speaker TEXT,
        speaker_id TEXT,
        person_id TEXT,
        joined_by TEXT,
        published_at TEXT
    )""")
    # the digest's join of a quote to its person (report.speaker_names, the digest's quotes), by quote id
    db.execute("CREATE INDEX idx_quote_people_stored_quote_id ON quote_people_stored(quote_id)")
    db.execute("CREATE TABLE quote_people_state (id INTEGER PRIMARY KEY CHECK (id = 1), fresh INTEGER NOT NULL)")
    db.execute("INSERT INTO quote_people_state (id, fresh) VALUES (1, 0)")
    for name, when, table, condition in QUOTE_PEOPLE_TRIGGERS:
        db.execute(f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW "
                   f"{'WHEN ' + condition + ' ' if condition else ''}BEGIN {_STALE} END")
    db.execute("DROP VIEW IF EXISTS most_quoted")
    db.execute("DROP VIEW IF EXISTS quote_people")
    db.execute(f"CREATE VIEW quote_people AS {_VIEWS_V38['quote_people']}")
    db.execute(f"CREATE VIEW most_quoted AS {_VIEWS_V38['most_quoted']}")
    store_quote_people_rows(db)


@migrations()
def m039_entity_daily_groups_first(db: Database) -> None:
    """entity_daily reads its (body, day) groups first and each label count for its own group
    (:func:`per_group_daily`): the same rows and columns, but a statement that reads no label column (Datasette's
    count and facets) reads no label, and the page (newest days first, 101 rows) reads its own rows' labels only
    (docs/benchmarks.md, "entity_daily and a body's stories at a year's size"). idx_mentions_article_entity
    (article, body) gives the (story, body) pairs, and a story's bodies (article_summary.bodies, the bodies filter,
    story_bodies), from the index alone; idx_mentions_article_id is kept (its prefix: a story's mentions in
    the order they were written)."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_mentions_article_entity ON mentions(article_id, entity_id)")
    refresh_label_views(db)


# The digest's day of a story (published, else first seen), as report.py's window queries spell it: a story's day
# and whether it is an original are read from the index, so the charts' 30 days and the spikes' baseline seek
# those days' stories instead of reading every stored article (docs/benchmarks.md, "Doctor and the digest at a
# year's size").
STORY_DAY_SQL = "substr(coalesce(published_at, first_seen_at), 1, 10)"
SURNAME_SQL = "substr({0}, instr({0}, ' ') + 1)"   # a speaker_id's surname as quote_people reads it (itself: one word)
QUOTE_PEOPLE_SQL = _VIEWS_V33["quote_people"]      # the view as m033 wrote it (tests/test_digest_scale.py: the live one)


@migrations()
def m040_digest_indexes(db: Database) -> None:
    """Four indexes for the morning digest: ``idx_articles_story_day`` on (duplicate_of, the story's day:
    :data:`STORY_DAY_SQL`), so the charts and spikes read the days they show; ``idx_classifications_task_target``
    on (task, target), so the bodies a tone model rated are found one target at a time, not from every
    prediction of the task; ``idx_quotes_surname`` on a speaker's surname (:data:`SURNAME_SQL`), so
    :func:`quote_people_of` reads the quotes of the surnames it is asked for; ``idx_article_versions_revised_at``
    on the revisions' capture time, so the night's edits are a range of it, not a scan of every stored version
    (and its body). No row or view changes."""
    db.execute(f"CREATE INDEX IF NOT EXISTS idx_articles_story_day ON articles(duplicate_of, {STORY_DAY_SQL})")
    db.execute("CREATE INDEX IF NOT EXISTS idx_classifications_task_target ON classifications(task, target)")
    db.execute(f"CREATE INDEX IF NOT EXISTS idx_quotes_surname ON quotes({SURNAME_SQL.format('speaker_id')})")
    db.execute("CREATE INDEX IF NOT EXISTS idx_article_versions_revised_at ON article_versions(captured_at) "
               "WHERE version > 1")


def quote_people_of(quote_people: str, surnames: str, quotes: str | None = None) -> str:
    """quote_people (its SQL, m033's) for the quotes whose speaker's surname (:data:`SURNAME_SQL` of
    ``speaker_id``) is among ``surnames`` (SQL selecting surnames), and of them only ``quotes`` (SQL selecting
    quote ids), when given: the same rows as ``SELECT * FROM quote_people`` gives for those quotes. A quote's person
    has its speaker's surname (a title + surname is joined to a full name with that surname, a short form of a first
    name to a long form with the same surname), and the people its person is chosen among (``people``, the body's
    people with that surname and their short forms) are read for those surnames only, so the statement reads the
    stories that quote people of those surnames, not every stored quote (the digest's night and its principal
    people: docs/benchmarks.md, "Doctor and the digest at a year's size")."""
    people_where = "    AND qv.entity_id IS NOT NULL),\n"
    quotes_where = "  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL),\njoined AS ("
    only = f" AND qv.quote_id IN ({quotes})" if quotes is not None else ""
    return _by_kind(quote_people, [
        # the quotes first, found by their surname or id (idx_quotes_surname, the rowid), then their stories: a
        # CROSS JOIN keeps that order (an inner join's rows, whichever is read first)
        ("  FROM quote_view qv JOIN articles a ON a.id = qv.article_id\n",
         "  FROM quote_view qv CROSS JOIN articles a ON a.id = qv.article_id\n", 2),
        (people_where, f"    AND qv.entity_id IS NOT NULL AND {SURNAME_SQL.format('qv.speaker_id')} IN ({surnames})),\n",
         1),
        (quotes_where, "  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL "
                       f"AND {SURNAME_SQL.format('qv.speaker_id')} IN ({surnames}){only}),\njoined AS (", 1)])


def quote_people_touched(quote_people: str, surnames: str, quotes: str) -> str:
    """quote_people (its SQL, m033's) for the quotes ``quotes`` (SQL selecting quote ids) and every quote whose
    speaker's surname is among ``surnames`` (SQL selecting surnames): the same rows as ``SELECT * FROM quote_people``
    gives for them. What a correction of some quotes can change: those quotes' own rows (a description, with no
    surname, is its quote's alone), and the rows of every quote whose person is chosen among people of the
    surnames those quotes had or have (:func:`quote_people_of`), whatever their story or body
    (:func:`store_quote_people_rows_of`)."""
    people_where = "    AND qv.entity_id IS NOT NULL),\n"
    quotes_where = "  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL),\njoined AS ("
    surname = SURNAME_SQL.format('qv.speaker_id')
    return _by_kind(quote_people, [
        ("  FROM quote_view qv JOIN articles a ON a.id = qv.article_id\n",
         "  FROM quote_view qv CROSS JOIN articles a ON a.id = qv.article_id\n", 2),
        (people_where, f"    AND qv.entity_id IS NOT NULL AND {surname} IN ({surnames})),\n", 1),
        (quotes_where, "  WHERE a.duplicate_of IS NULL AND qv.speaker IS NOT NULL "
                       f"AND ({surname} IN ({surnames}) OR qv.quote_id IN ({quotes}))),\njoined AS (", 1)])


def store_quote_people_rows_of(db, quotes: list[int], surnames: list[str]) -> int:
    """Store again the quote_people rows a change of ``quotes`` alone can have changed, and mark the rows fresh:
    the rows of those quotes and of every quote whose speaker's surname is among ``surnames`` (those the quotes'
    speakers had before the change and have after it), worked out live (:func:`quote_people_touched`) in place
    of the stored ones; the other stored rows are left as they are. Right only when the stored rows were in step
    before the change and it changed nothing else quote_people reads: the caller
    (``store.add_correction_in_step``) checks that, and holds the transaction. Each re-stored quote keeps its
    place (rowid) among the stored rows; a quote that had no row is added at the end. Returns how many rows were
    stored. ``db``: a sqlite3 or sqlite-utils connection."""
    import json

    conn = getattr(db, "conn", db)
    params = {"quotes": json.dumps(sorted(set(quotes))), "surnames": json.dumps(sorted(set(surnames)))}
    chosen_quotes, chosen_surnames = "SELECT value FROM json_each(:quotes)", "SELECT value FROM json_each(:surnames)"
    places = dict(conn.execute(
        f"SELECT quote_id, rowid FROM quote_people_stored WHERE quote_id IN ({chosen_quotes}) "
        f"OR {SURNAME_SQL.format('speaker_id')} IN ({chosen_surnames})", params).fetchall())
    live = quote_people_touched(QUOTE_PEOPLE_SQL, chosen_surnames, chosen_quotes)
    rows = conn.execute(f"SELECT {_QUOTE_PEOPLE_SELECT} FROM ({live})", params).fetchall()
    conn.execute("DELETE FROM quote_people_stored WHERE rowid IN (SELECT value FROM json_each(?))",
                 [json.dumps(list(places.values()))])
    marks = ", ".join("?" for _ in QUOTE_PEOPLE_COLUMNS)
    conn.executemany(f"INSERT INTO quote_people_stored (rowid, {_QUOTE_PEOPLE_SELECT}) VALUES (?, {marks})",
                     [(places.get(row[0]), *row) for row in rows])
    conn.execute("UPDATE quote_people_state SET fresh = 1")
    return len(rows)


def effective_labels_among(db, articles: str) -> str:
    """The database's effective_labels (the view as it stands: its tasks are the label scheme's) for the stories
    ``articles`` (SQL selecting article ids) only: their filter in each arm of the UNION ALL, as
    :func:`effective_labels_of` writes one story's, so a statement joining it to a window's stories (the digest's
    charts) reads those stories' labels, not the whole task's. The same rows as ``SELECT * FROM effective_labels
    WHERE article_id IN (<articles>)`` (its grouping is by story)."""
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'effective_labels'").fetchone()
    view = row[0][row[0].index(" AS ") + len(" AS "):]
    mark = "(:effective_labels_story)"
    return effective_labels_of(view, mark).replace(f"= {mark}", f"IN ({articles})")


# article_summary at a year's size (docs/benchmarks.md, "Session 23: article_summary at 50k"): its eight label
# columns (topics, stance, tone, uncertain, their `*_uncertain`, human_corrected) each read the story's effective
# labels again (effective_labels_of: a seek of its labels and of its predictions, each prediction tested against
# the labels, each label against the withdrawals), eight times a story: 1.7 s of the 2.6 s a full read took at
# 50,000 stories, and most of what the page with a body chosen and the critical_articles query spend. Since m041 a
# story's eight values are stored (`article_labels_stored`, one row per story) and read from there when the story
# has a row; a story without one works them out as before (the same SQL, in a CASE). A row is there only while it
# is in step, story by story:
# * triggers delete a story's row in the statement that changes anything its columns read: any insert, update or
#   delete of its labels or its predictions (whoever writes: the store, an import, plain SQL), and the story's own
#   insert, delete or change of id; refresh_label_views deletes every row when it replaces the label views (a new
#   task of the scheme, a migration): the rows were worked out by the views replaced;
# * `store.refresh_article_labels` stores the rows of the stories without one, read from the view itself (which
#   works them out for exactly those); the classify stage calls it at its end, `cuttings label` when it has
#   written. Until then those stories read as before m041, the others from their row.
# The values are stored as the view computes them (columns without a type: no affinity changes a label '1' into
# 1); tone and tone_uncertain are read back through json(), which gives json_group_object's text and, as the live
# column does, marks it JSON (`json_object('tone', tone)` nests the object, as before).
ARTICLE_LABEL_COLUMNS = ("topics", "stance", "tone", "uncertain", "topics_uncertain", "stance_uncertain",
                         "tone_uncertain", "human_corrected")
_ARTICLE_LABEL_JSON = ("tone", "tone_uncertain")
_ARTICLE_LABEL_SELECT = ", ".join(ARTICLE_LABEL_COLUMNS)
_ARTICLE_LABELS_STALE = "DELETE FROM article_labels_stored WHERE article_id IN ({});"
# (name, when, table, the story ids whose row is no longer in step)
ARTICLE_LABELS_TRIGGERS = (
    ("article_labels_stale_label_insert", "AFTER INSERT", "labels", "NEW.article_id"),
    ("article_labels_stale_label_delete", "AFTER DELETE", "labels", "OLD.article_id"),
    ("article_labels_stale_label_update", "AFTER UPDATE", "labels", "OLD.article_id, NEW.article_id"),
    ("article_labels_stale_prediction_insert", "AFTER INSERT", "classifications", "NEW.article_id"),
    ("article_labels_stale_prediction_delete", "AFTER DELETE", "classifications", "OLD.article_id"),
    ("article_labels_stale_prediction_update", "AFTER UPDATE", "classifications", "OLD.article_id, NEW.article_id"),
    ("article_labels_stale_article_insert", "AFTER INSERT", "articles", "NEW.id"),
    ("article_labels_stale_article_delete", "AFTER DELETE", "articles", "OLD.id"),
    ("article_labels_stale_article_update", "AFTER UPDATE OF id", "articles", "OLD.id, NEW.id"),
)


def _select_columns(sql: str) -> list[tuple[int, int]]:
    """The (start, end) of each column of ``sql``'s outer select list (its first SELECT to its FROM at depth 0),
    each without its comma; string literals and quoted names are skipped (a task name may hold a bracket)."""
    start = sql.index("SELECT") + len("SELECT")
    depth, quote, cuts = 0, None, [start]
    for i in range(start, len(sql)):
        char = sql[i]
        if quote:
            quote = None if char == quote else quote   # a doubled quote closes and opens again
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and char == ",":
            cuts.append(i)
        elif depth == 0 and sql.startswith("\nFROM ", i):
            return [(begin + (begin != start), end) for begin, end in zip(cuts, cuts[1:] + [i])]
    raise ValueError("no FROM after the select list")


def stored_article_labels(summary: str) -> str:
    """article_summary (its SQL, :func:`per_article_labels`' form) as m041 writes it: each label column
    (:data:`ARTICLE_LABEL_COLUMNS`) read from the story's ``article_labels_stored`` row when it has one, else worked
    out as in ``summary`` (a column that is NULL for a scheme without that task stays NULL). The same rows and
    columns, in the same order, whichever way a story's are read."""
    parts, at = [], 0
    for begin, end in _select_columns(summary):
        expression, _, name = summary[begin:end].rstrip().rpartition(" AS ")
        if name in ARTICLE_LABEL_COLUMNS and expression.strip() != "NULL":
            column = f"json(stored.{name})" if name in _ARTICLE_LABEL_JSON else f"stored.{name}"
            parts += [summary[at:begin], f"\n  CASE WHEN stored.article_id IS NULL THEN {expression.strip()}\n"
                                         f"       ELSE {column} END AS {name}"]
            at = end
    parts.append(summary[at:])
    return _by_kind("".join(parts), [
        ("\nLEFT JOIN sources s ON s.id = a.source_id\n",
         "\nLEFT JOIN sources s ON s.id = a.source_id\n"
         "LEFT JOIN article_labels_stored stored ON stored.article_id = a.id\n", 1)])


def article_labels_stored_exists(db) -> bool:
    """Whether the database has m041's ``article_labels_stored`` (the label views then read it)."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'article_labels_stored'"
                      ).fetchone() is not None


def store_article_label_rows(db) -> int:
    """Store the label columns of every story (an original: article_summary's rows) without a row in
    ``article_labels_stored``, as the view works them out for it; the caller holds the transaction. Returns how
    many rows were written. ``db``: a sqlite3 or sqlite-utils connection."""
    db.execute(f"INSERT INTO article_labels_stored (article_id, {_ARTICLE_LABEL_SELECT}) "
               f"SELECT article_id, {_ARTICLE_LABEL_SELECT} FROM article_summary "
               f"WHERE article_id NOT IN (SELECT article_id FROM article_labels_stored)")
    return db.execute("SELECT changes()").fetchone()[0]


@migrations()
def m041_article_labels_stored(db: Database) -> None:
    """article_summary's eight label columns are stored per story (``article_labels_stored``) and read from there
    while the story's row is in step; triggers delete a story's row whenever its labels, its predictions or its id
    change (and refresh_label_views every row), and the view then works that story's columns out as before (the
    same rows either way). The classify stage stores the missing rows again (``store.refresh_article_labels``):
    a full read of the view at a year's size no longer works out every story's labels eight times
    (docs/benchmarks.md, "Session 23: article_summary at 50k")."""
    # no column types: each value is kept as the view computed it (text, integer or NULL)
    columns = ",\n        ".join(ARTICLE_LABEL_COLUMNS)
    db.execute(f"""CREATE TABLE article_labels_stored (
        article_id INTEGER PRIMARY KEY,
        {columns}
    )""")
    for name, when, table, stories in ARTICLE_LABELS_TRIGGERS:
        db.execute(f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW "
                   f"BEGIN {_ARTICLE_LABELS_STALE.format(stories)} END")
    refresh_label_views(db)   # article_summary reads the table now that it exists
    store_article_label_rows(db)
