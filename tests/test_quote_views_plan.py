"""The quote views read what a row needs (migration m033): a Datasette page of them runs its query, its count, its
facets and the facet suggestions as statements of their own, and each built the whole view first (50,000 stories:
quotes_by_speaker's page 5.7 s, most_quoted's 4.2 s; docs/benchmarks.md, "A year of coverage"). Plans, not
timings, each checked against the definition before m033 (so each test can fail); and the same rows."""
from __future__ import annotations

from sqlite_utils import Database

from cuttings import store
from cuttings.store import schema

STAMP = "2026-11-30T02:00:00Z"


def migrated() -> Database:
    db = Database(memory=True)
    store.migrations.apply(db)
    # the definitions m033 replaced, beside the new ones (most_quoted's reading the old quote_people and names)
    db.execute(f"CREATE TEMP VIEW old_quotes_by_speaker AS {schema._VIEWS_V24['quotes_by_speaker']}")
    db.execute(f"CREATE TEMP VIEW old_quote_people AS {schema._VIEWS_V26['quote_people']}")
    db.execute(f"CREATE TEMP VIEW old_speaker_names AS {schema._VIEWS_V26['speaker_names']}")
    db.execute("CREATE TEMP VIEW old_most_quoted AS " + schema._VIEWS_V23["most_quoted"].replace(
        "FROM quote_people p", "FROM old_quote_people p").replace("JOIN speaker_names n", "JOIN old_speaker_names n"))
    return db


def plan(db: Database, sql: str) -> list[str]:
    plan.asked = getattr(plan, "asked", 0) + 1    # a new statement each time (no cached plan)
    return [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql} -- {plan.asked}").fetchall()]


def test_quotes_by_speaker_gives_its_page_in_published_order_by_index():
    db = migrated()
    page = "SELECT * FROM {} ORDER BY published_at DESC LIMIT 101"     # Datasette's page (its default sort)
    steps = plan(db, page.format("quotes_by_speaker"))
    assert "SEARCH a USING INDEX idx_articles_duplicate_published (duplicate_of=?)" in steps
    assert not [step for step in steps if "TEMP B-TREE FOR ORDER BY" in step], steps
    # before: the speaker count's window sorted the whole view, and the page sorted it again
    assert len([step for step in plan(db, page.format("old_quotes_by_speaker")) if "FOR ORDER BY" in step]) == 2


def test_counting_quotes_by_speaker_builds_no_speaker_count():
    db = migrated()
    steps = plan(db, "SELECT count(*) FROM quotes_by_speaker")
    assert not [step for step in steps if step.startswith(("CO-ROUTINE", "MATERIALIZE")) or "TEMP B-TREE" in step]
    old = plan(db, "SELECT count(*) FROM old_quotes_by_speaker")
    assert "CO-ROUTINE old_quotes_by_speaker" in old and "USE TEMP B-TREE FOR ORDER BY" in old


def test_quote_people_reads_a_quotes_article_names_by_the_article():
    db = migrated()
    steps = plan(db, "SELECT * FROM quote_people LIMIT 101")
    for every_article in ("MATERIALIZE q", "MATERIALIZE full_names", "MATERIALIZE in_article"):
        assert every_article not in steps
    assert "SEARCH q USING INDEX idx_quotes_article_id (article_id=?)" in steps
    old = plan(db, "SELECT * FROM old_quote_people LIMIT 101")
    assert "MATERIALIZE in_article" in old and "MATERIALIZE full_names" in old


def test_one_speakers_name_reads_that_speakers_quotes():
    db = migrated()
    steps = plan(db, "SELECT * FROM speaker_names WHERE speaker_id = 'john campion'")
    assert "SEARCH s USING INDEX idx_quotes_speaker_id (speaker_id=?)" in steps
    assert not [step for step in steps if step.startswith(("SCAN q", "SCAN s", "MATERIALIZE printed"))], steps
    old = plan(db, "SELECT * FROM old_speaker_names WHERE speaker_id = 'john campion'")
    assert "MATERIALIZE printed" in old and "SCAN q" in old


def test_most_quoted_looks_up_the_names_of_the_people_it_ranks():
    db = migrated()
    steps = plan(db, "SELECT * FROM most_quoted")
    assert "SEARCH s USING INDEX idx_quotes_speaker_id (speaker_id=?)" in steps
    assert not [step for step in steps if step.startswith(("MATERIALIZE speaker_names", "MATERIALIZE printed"))]
    assert "MATERIALIZE printed" in plan(db, "SELECT * FROM old_most_quoted")


def fill(db: Database) -> None:
    """Every way quote_people joins a speaker to a person, corrections (one withdrawn) and a syndicated copy."""
    db.execute("INSERT INTO sources (id, name) VALUES ('s', 'S'), ('t', 'T')")
    stories = ((1, "s", None, "2026-11-29T10:00:00Z"), (2, "t", None, "2026-11-28"), (3, "s", None, None),
               (4, "t", 1, "2026-11-29T11:00:00Z"), (5, "t", None, "2026-11-27T09:30:00Z"))
    for i, source, duplicate_of, published in stories:
        db.execute("INSERT INTO articles (id, url, canonical_url, source_id, title, published_at, first_seen_at, "
                   "last_seen_at, body, content_hash, duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'b', 'h', ?)",
                   [i, f"https://x/{i}", f"https://x/{i}", source, f"Story {i}", published, STAMP, STAMP,
                    duplicate_of])
    db.execute("INSERT INTO entities (id, name, kind) VALUES ('wm_pcc', 'PCC', 'org'), ('hwfrs', 'HWFRS', 'org'), "
               "('sfrs', 'SFRS', 'org')")
    db.execute("INSERT INTO watched_people (entity_id, name, role, speaker_id) "
               "VALUES ('wm_pcc', 'John Campion', 'commissioner', 'john campion')")
    quotes = [  # article, speaker, speaker_id, body
        (1, "John Campion", "john campion", "wm_pcc"), (1, "Mr Campion", "campion", "wm_pcc"),
        (1, "a spokesperson", None, "hwfrs"), (2, "Mr Campion", "campion", "wm_pcc"),
        (2, "Jon Pryce", "jon pryce", "hwfrs"), (5, "Jonathan Pryce", "jonathan pryce", "hwfrs"),
        (3, "Ann Smith", "ann smith", "sfrs"), (3, "Bob Smith", "bob smith", "sfrs"), (3, "Mr Smith", "smith", "sfrs"),
        (5, "Mr Jones", "jones", "sfrs"), (5, "Cllr Ann Smith", "ann smith", "sfrs"), (5, "the council", None, None),
        (4, "John Campion", "john campion", "wm_pcc"), (2, None, None, None)]
    for n, (article, speaker, speaker_id, body) in enumerate(quotes):
        db.execute("INSERT INTO quotes (article_id, speaker, speaker_id, entity_id, text, start_char, end_char, "
                   "analyser_version, entity_method) VALUES (?, ?, ?, ?, ?, ?, ?, 'a', 'stated')",
                   [article, speaker, speaker_id, body, f"Words {n}.", n * 10, n * 10 + 8])
    ids = {row[0]: row[1] for row in db.execute("SELECT text, id FROM quotes").fetchall()}
    labels = [(5, "quote_speaker", "Jane Doe", ids["Words 11."]), (3, "quote_entity", "", ids["Words 8."]),
              (2, "quote_entity", "sfrs", ids["Words 4."]), (2, "quote_entity", schema.WITHDRAWN, None)]
    db.conn.executemany("INSERT INTO labels (article_id, task, target, label, annotator, created_at, quote_id) "
                        "VALUES (?, ?, '', ?, 'ann', ?, ?)",
                        [(article, task, label, STAMP, quote) for article, task, label, quote in labels])
    db.conn.commit()


def test_the_quote_views_give_the_rows_they_gave_before_m033():
    db = migrated()
    fill(db)
    for view in ("quotes_by_speaker", "quote_people", "speaker_names", "most_quoted"):
        now = sorted(map(repr, db.execute(f"SELECT * FROM {view}").fetchall()))
        assert now and now == sorted(map(repr, db.execute(f"SELECT * FROM old_{view}").fetchall())), view
    joined = dict(db.execute("SELECT speaker || ' ' || article_id, joined_by FROM quote_people").fetchall())
    assert joined == {"John Campion 1": "name", "Mr Campion 1": "same_article", "a spokesperson 1": "description",
                      "Mr Campion 2": "same_body", "Jon Pryce 2": "short_form", "Jonathan Pryce 5": "name",
                      "Ann Smith 3": "name", "Bob Smith 3": "name", "Mr Smith 3": "ambiguous",
                      "Mr Jones 5": "surname", "Cllr Ann Smith 5": "name", "Jane Doe 5": "description"}
    counts = dict(db.execute("SELECT speaker, speaker_quotes FROM quotes_by_speaker").fetchall())
    assert counts["John Campion"] == 1 and counts["Mr Campion"] == 2 and counts["Jane Doe"] == 1


def test_m033_replaces_the_views_and_adds_the_index_on_a_database_m030_left():
    db = Database(memory=True)
    store.migrations.apply(db, stop_before="m033_quote_views_per_row")
    assert "count(*) OVER" in db.execute("SELECT sql FROM sqlite_master WHERE name = 'quotes_by_speaker'").fetchone()[0]
    assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'idx_articles_duplicate_published'").fetchall()
    store.migrations.apply(db, stop_before="m034_classify_inputs_digest")   # m037 replaced most_quoted again
    definitions = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
    for view in ("quotes_by_speaker", "quote_people", "speaker_names", "most_quoted"):
        assert definitions[view].endswith(schema._VIEWS_V33[view].rstrip()), view
    assert "SEARCH a USING INDEX idx_articles_duplicate_published (duplicate_of=?)" in plan(
        db, "SELECT * FROM quotes_by_speaker ORDER BY published_at DESC LIMIT 101")


def test_counting_most_quoted_or_its_bodies_looks_up_no_name():
    """m037: the name (speaker_names, by idx_quotes_speaker_id) is looked up outside the ranked select, so the page's
    count and its facet on body read none (m033's definition looked up every person's name for each); the rows,
    which show the name, still do."""
    db = migrated()
    db.execute(f"CREATE TEMP VIEW m033_most_quoted AS {schema._VIEWS_V33['most_quoted']}")
    facet = "SELECT body, count(*) FROM (SELECT * FROM {}) WHERE body IS NOT NULL GROUP BY body"
    for sql in ("SELECT count(*) FROM {}", facet):
        assert not [step for step in plan(db, sql.format("most_quoted")) if "idx_quotes_speaker_id" in step]
        assert [step for step in plan(db, sql.format("m033_most_quoted")) if "idx_quotes_speaker_id" in step]
    assert "SEARCH s USING INDEX idx_quotes_speaker_id (speaker_id=?)" in plan(db, "SELECT * FROM most_quoted")


def test_most_quoted_gives_m033s_rows_in_m033s_order():
    db = migrated()
    fill(db)
    db.execute(f"CREATE TEMP VIEW m033_most_quoted AS {schema._VIEWS_V33['most_quoted']}")
    rows = db.execute("SELECT * FROM most_quoted").fetchall()
    assert len(rows) >= 5 and rows == db.execute("SELECT * FROM m033_most_quoted").fetchall()
    assert ("wm_pcc", "PCC", "john campion", "John Campion") in [row[:4] for row in rows]


def test_m037_replaces_most_quoted_on_a_database_m035_left():
    db = Database(memory=True)
    store.migrations.apply(db, stop_before="m037_most_quoted_names_after_ranking")
    store.migrations.apply(db, stop_before="m038_quote_people_stored")   # m038 replaced it again
    definition = db.execute("SELECT sql FROM sqlite_master WHERE name = 'most_quoted'").fetchone()[0]
    assert definition.endswith(schema._VIEWS_V37["most_quoted"].rstrip())
