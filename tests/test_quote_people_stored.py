"""quote_people's rows stored (migration m038): the view reads ``quote_people_stored`` while
``quote_people_state.fresh`` is 1, and works its rows out as before (m033's logic) otherwise; triggers mark the
stored rows stale in the statement that changes anything the view reads, and the analyse stage stores them again
(docs/benchmarks.md, "The quote pages from stored rows"). Each test checks the view's rows, in their order, against
m033's definition read live (``ref_quote_people``) and most_quoted against m037's over it: after each kind of write
(corrections, withdrawals, re-analysis, a copy folded or released, a story's date, the watchlist's people, a story
deleted), stale and then stored again."""
from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from cuttings import store
from cuttings.store import schema
from tests.sqlite_steps import vm_steps
from tests.test_quote_views_plan import STAMP, fill


def reference(db: Database) -> None:
    """The definitions before m038, read live, beside the new ones."""
    db.execute(f"CREATE TEMP VIEW ref_quote_people AS {schema._VIEWS_V33['quote_people']}")
    db.execute("CREATE TEMP VIEW ref_most_quoted AS "
               + schema._VIEWS_V37["most_quoted"].replace("FROM quote_people p", "FROM ref_quote_people p"))


@pytest.fixture
def db(tmp_path) -> Database:
    db = store.connect(tmp_path / "x.db")     # foreign keys on, as every cuttings command opens it
    fill(db)
    reference(db)
    return db


def fresh(db) -> bool:
    return db.execute("SELECT fresh FROM quote_people_state").fetchone()[0] == 1


def assert_rows_as_before(db: Database) -> None:
    """quote_people and most_quoted give the rows the live definitions give, in the same order."""
    rows = db.execute("SELECT * FROM quote_people").fetchall()
    assert rows == db.execute("SELECT * FROM ref_quote_people").fetchall()
    assert db.execute("SELECT * FROM most_quoted").fetchall() == db.execute("SELECT * FROM ref_most_quoted").fetchall()


def assert_stale_then_stored(db: Database) -> None:
    """The write just made marked the stored rows stale, the view gives the live rows; stored again, the stored
    rows are those rows, read from the table."""
    assert not fresh(db)
    assert_rows_as_before(db)
    assert store.refresh_quote_people(db) == len(db.execute("SELECT * FROM ref_quote_people").fetchall())
    assert fresh(db)
    assert db.execute("SELECT * FROM quote_people_stored").fetchall() == \
        db.execute("SELECT * FROM ref_quote_people").fetchall()
    assert_rows_as_before(db)
    assert store.refresh_quote_people(db) is None     # in step: nothing written


def quote_id(db, words: str) -> int:
    return db.execute("SELECT id FROM quotes WHERE text = ?", [words]).fetchone()[0]


def place(db, words: str) -> str:
    return "{}:{}".format(*db.execute("SELECT start_char, end_char FROM quotes WHERE text = ?", [words]).fetchone())


def test_the_stored_rows_follow_corrections_and_their_withdrawals(db):
    assert_stale_then_stored(db)        # fill() wrote quotes and corrections after the migration
    joined = dict(db.execute("SELECT speaker || ' ' || article_id, joined_by FROM quote_people_stored").fetchall())
    assert joined["Mr Campion 2"] == "same_body" and joined["Jon Pryce 2"] == "short_form"
    # a person names "Mr Smith" (ambiguous between Ann and Bob Smith) as Ann Smith
    store.add_correction(db, 3, [("quote_speaker", place(db, "Words 8."), "Ann Smith")], "ann")
    assert_stale_then_stored(db)
    # ... and moves Jonathan Pryce's quote to another body: Jon Pryce is no longer his short form for hwfrs
    store.add_correction(db, 5, [("quote_entity", place(db, "Words 5."), "sfrs")], "ann")
    assert_stale_then_stored(db)
    assert dict(db.execute("SELECT speaker || ' ' || article_id, joined_by FROM quote_people").fetchall())[
        "Jon Pryce 2"] == "name"
    assert store.withdraw_quote_correction(db, 5, "quote_entity", quote_id(db, "Words 5."), "ann")
    assert_stale_then_stored(db)
    assert dict(db.execute("SELECT speaker || ' ' || article_id, joined_by FROM quote_people").fetchall())[
        "Jon Pryce 2"] == "short_form"
    assert store.withdraw_labels(db, 3, ["quote_speaker", "quote_entity"], "ann")
    assert_stale_then_stored(db)


def test_the_stored_rows_follow_a_re_analysis(db):
    store.refresh_quote_people(db)
    article = {"id": 2, "content_hash": "h"}
    kept = [dict(zip(("speaker", "speaker_id", "entity_id", "text", "start_char", "end_char"), row))
            for row in db.execute("SELECT speaker, speaker_id, entity_id, text, start_char, end_char FROM quotes "
                                  "WHERE article_id = 2 ORDER BY id").fetchall()]
    # Mr Campion found again as "Mr Campion" of sfrs, Jon Pryce no more, a new quote by Ann Smith of sfrs
    changed = [dict(q, entity_id="sfrs") if q["speaker"] == "Mr Campion" else q for q in kept
               if q["speaker"] != "Jon Pryce"]
    changed.append({"speaker": "Ann Smith", "speaker_id": "ann smith", "entity_id": "sfrs", "text": "New words.",
                    "start_char": 500, "end_char": 510})
    store.replace_analysis(db, article, "b", [], changed, [])
    assert_stale_then_stored(db)
    assert "Jon Pryce" not in {row[0] for row in db.execute("SELECT speaker FROM quote_people")}
    # the same analysis again changes no quote row: the stored rows stay in step
    store.replace_analysis(db, article, "b", [], changed, [])
    assert fresh(db)
    # the known-speaker links (the analyse stage's pass over the whole store) move a quote's body
    store.relink_quotes(db, [{"id": quote_id(db, "Words 9."), "article_id": 5, "entity_id": "wm_pcc",
                              "entity_method": "known_speaker"}], invalidate_stage="classify")
    assert_stale_then_stored(db)


def test_the_stored_rows_follow_copies_dates_people_and_deletes(db):
    store.refresh_quote_people(db)
    store.set_duplicate_of(db, 5, 1, 0.9)          # a story becomes a copy: its quotes leave the views
    assert_stale_then_stored(db)
    store.set_duplicate_of(db, 4, None, None)      # a copy released: its quote counts
    assert_stale_then_stored(db)
    db.execute("UPDATE articles SET published_at = '2026-11-30T08:00:00Z' WHERE id = 2")
    assert_stale_then_stored(db)
    store.sync_watched_people(db, [{"entity_id": "hwfrs", "name": "Jon Pryce", "role": "chief",
                                    "speaker_id": "jon pryce"}])
    assert_stale_then_stored(db)
    db.execute("DELETE FROM labels WHERE article_id = 3")
    assert_stale_then_stored(db)
    db.execute("DELETE FROM articles WHERE id = 3")   # its quotes go with it (ON DELETE CASCADE)
    assert_stale_then_stored(db)
    assert not db.execute("SELECT 1 FROM quote_people WHERE article_id = 3").fetchall()


def test_writes_the_view_does_not_read_leave_the_stored_rows_in_step(db):
    store.refresh_quote_people(db)
    people = [{"entity_id": entity, "name": name, "role": role, "speaker_id": speaker}
              for entity, name, role, speaker in db.execute("SELECT * FROM watched_people").fetchall()]
    store.sync_watched_people(db, people)          # the analyse stage's sync of an unchanged watchlist
    store.add_labels(db, [(1, "topics", "", "finance", "ann")])
    store.set_duplicate_of(db, 4, 1, 0.95)         # the same original: the view reads the same
    db.execute("UPDATE articles SET title = 'Another headline', published_at = published_at WHERE id = 2")
    db.execute("UPDATE quotes SET speaker_role = 'chief' WHERE article_id = 2")
    db.execute("INSERT INTO articles (id, url, canonical_url, source_id, title, first_seen_at, last_seen_at, body, "
               "content_hash) VALUES (9, 'https://x/9', 'https://x/9', 's', 'No quotes', ?, ?, 'b', 'h9')",
               [STAMP, STAMP])
    db.conn.commit()
    assert fresh(db)
    assert_rows_as_before(db)


def test_the_view_reads_the_stored_rows_only_while_they_are_in_step(db):
    """Stored rows made wrong by hand are what a fresh view shows (so the view reads them); any change to a quote
    and the view works the rows out again, wrong rows or not."""
    store.refresh_quote_people(db)
    db.execute("UPDATE quote_people_stored SET person_id = 'nobody'")
    db.conn.commit()
    assert {row[0] for row in db.execute("SELECT person_id FROM quote_people")} == {"nobody"}
    db.execute("UPDATE quotes SET speaker = 'Mr Jones' WHERE text = 'Words 9.'")   # the same value: still a write
    db.conn.commit()
    assert "nobody" not in {row[0] for row in db.execute("SELECT person_id FROM quote_people")}
    assert_rows_as_before(db)


def steps(db, sql: str) -> int:
    """How many SQLite virtual-machine steps ``sql`` takes (in thousands)."""
    return vm_steps(db.conn, sql, every=1000)


def test_a_fresh_page_works_out_no_person(tmp_path):
    """The statements of the most_quoted and quote_people pages read the stored rows: a small part of the work of
    working every quote's person out (which each of them did before m038)."""
    db = store.connect(tmp_path / "x.db")
    fill(db)
    for copy in range(1, 40):   # more stories like fill()'s, so the work shows
        db.execute("INSERT INTO articles (id, url, canonical_url, source_id, title, published_at, first_seen_at, "
                   "last_seen_at, body, content_hash) SELECT id + ?, url || ?, canonical_url || ?, source_id, title, "
                   "published_at, first_seen_at, last_seen_at, body, content_hash FROM articles WHERE id <= 5",
                   [copy * 10, f"#{copy}", f"#{copy}"])
        db.execute("INSERT INTO quotes (article_id, speaker, speaker_id, entity_id, text, start_char, end_char, "
                   "analyser_version, entity_method) SELECT article_id + ?, speaker, speaker_id, entity_id, text, "
                   "start_char, end_char, analyser_version, entity_method FROM quotes WHERE article_id <= 5",
                   [copy * 10])
    db.conn.commit()
    statements = ("SELECT count(*) FROM most_quoted", "SELECT * FROM most_quoted",
                  "SELECT body, count(*) FROM (SELECT * FROM most_quoted) GROUP BY body",
                  "SELECT count(*) FROM quote_people", "SELECT * FROM quote_people LIMIT 101")
    stale = [steps(db, sql) for sql in statements]
    store.refresh_quote_people(db)
    stored = [steps(db, sql) for sql in statements]
    assert all(after * 3 < before for before, after in zip(stale, stored)), (stale, stored)


def test_every_trigger_is_there_after_the_migrations(tmp_path):
    db = store.connect(tmp_path / "x.db")
    triggers = dict(db.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' "
                               "AND name LIKE 'quote_people_stale_%'").fetchall())
    assert triggers == {name: table for name, _when, table, _condition in schema.QUOTE_PEOPLE_TRIGGERS}
    assert {table for table in triggers.values()} == {"quotes", "labels", "articles", "watched_people"}


def test_m038_stores_the_rows_of_a_database_m037_left():
    db = Database(memory=True)
    store.migrations.apply(db, stop_before="m038_quote_people_stored")
    fill(db)
    before = db.execute("SELECT * FROM quote_people").fetchall()
    most = db.execute("SELECT * FROM most_quoted").fetchall()
    store.migrations.apply(db)
    assert fresh(db) and len(before) == 12
    assert db.execute("SELECT * FROM quote_people_stored").fetchall() == before
    assert db.execute("SELECT * FROM quote_people").fetchall() == before
    assert db.execute("SELECT * FROM most_quoted").fetchall() == most


def test_a_database_without_the_state_row_reads_the_live_rows(db):
    store.refresh_quote_people(db)
    db.execute("DELETE FROM quote_people_state")
    db.conn.commit()
    assert_rows_as_before(db)
    assert not store.quote_people_fresh(db)
    assert store.refresh_quote_people(db) == 12 and fresh(db)


def test_a_read_only_connection_reads_the_rows_either_way(tmp_path):
    """Datasette opens the file read-only (``mode=ro``): the stored rows are read, or worked out, never written."""
    path = tmp_path / "x.db"
    db = store.connect(path)
    fill(db)
    live = db.execute("SELECT * FROM quote_people").fetchall()
    store.refresh_quote_people(db)
    db.close()
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    assert conn.execute("SELECT * FROM quote_people").fetchall() == live


WRITES = {   # one statement for each trigger: each changes what the view reads
    "quote_people_stale_quote_insert": "INSERT INTO quotes (article_id, speaker, speaker_id, entity_id, text, "
                                       "start_char, end_char, analyser_version) "
                                       "VALUES (3, 'Bob Smith', 'bob smith', 'sfrs', 'More.', 900, 905, 'a')",
    "quote_people_stale_quote_delete": "DELETE FROM quotes WHERE text = 'Words 7.'",
    "quote_people_stale_quote_update": "UPDATE quotes SET speaker_id = 'robert smith' WHERE text = 'Words 7.'",
    "quote_people_stale_label_insert": "INSERT INTO labels (article_id, task, target, label, annotator, created_at, "
                                       f"quote_id) SELECT 3, 'quote_speaker', '', 'Ann Smith', 'ann', '{STAMP}', id "
                                       "FROM quotes WHERE text = 'Words 8.'",
    "quote_people_stale_label_delete": "DELETE FROM labels WHERE task = 'quote_speaker'",
    "quote_people_stale_label_update": "UPDATE labels SET label = 'John Doe' WHERE task = 'quote_speaker'",
    "quote_people_stale_article_update": "UPDATE articles SET duplicate_of = 1 WHERE id = 5",
    "quote_people_stale_article_delete": "DELETE FROM articles WHERE id = 3",
    "quote_people_stale_article_insert": "INSERT INTO articles (id, url, canonical_url, source_id, title, "
                                         "first_seen_at, last_seen_at, body, content_hash) "
                                         f"VALUES (77, 'https://x/77', 'https://x/77', 's', 'T', '{STAMP}', "
                                         f"'{STAMP}', 'b', 'h77')",
    "quote_people_stale_watched_insert": "INSERT INTO watched_people (entity_id, name, role, speaker_id) "
                                         "VALUES ('sfrs', 'Ann Smith', 'chair', 'ann smith')",
    "quote_people_stale_watched_delete": "DELETE FROM watched_people",
    "quote_people_stale_watched_update": "UPDATE watched_people SET speaker_id = 'john campion jr'",
}


@pytest.mark.parametrize("trigger", sorted(WRITES))
def test_each_kind_of_write_marks_the_stored_rows_stale(tmp_path, trigger):
    db = store.connect(tmp_path / "x.db")
    db.execute("PRAGMA foreign_keys = OFF")   # a story deleted or stored after its quotes, by hand
    fill(db)
    reference(db)
    if trigger == "quote_people_stale_article_insert":   # quotes of a story not stored yet
        db.execute("INSERT INTO quotes (article_id, speaker, speaker_id, entity_id, text, start_char, end_char, "
                   "analyser_version) VALUES (77, 'Ann Smith', 'ann smith', 'sfrs', 'Early.', 0, 6, 'a')")
    if trigger == "quote_people_stale_article_delete":
        db.execute("DELETE FROM labels WHERE article_id = 3")
    db.conn.commit()
    store.refresh_quote_people(db)
    db.execute(WRITES[trigger])
    db.conn.commit()
    assert not fresh(db), trigger
    assert_rows_as_before(db)
    store.refresh_quote_people(db)
    assert_rows_as_before(db)
    assert {name for name, *_ in schema.QUOTE_PEOPLE_TRIGGERS} == set(WRITES)


def test_the_analyse_stage_stores_the_rows_again(tmp_path):
    """The stage stores them at its end when anything they read changed (its own quotes, a correction made since),
    and writes nothing when nothing did."""
    from crawler.revisions import save_article
    from cuttings.stages import analyse_stage
    from nlp.entities import Analyser
    from tests.test_quote_ids import BODY, URL

    db = store.connect(tmp_path / "x.db")
    reference(db)
    save_article(db, {"url": URL, "canonical_url": URL, "title": "Station stays open", "body": BODY,
                      "published_at": "2026-12-01"}, None)
    analyser = Analyser()
    assert analyse_stage(db, analyser)["quotes"] == 2
    assert fresh(db)
    rows = db.execute("SELECT * FROM quote_people_stored").fetchall()
    assert len(rows) == 2 and rows == db.execute("SELECT * FROM ref_quote_people").fetchall()
    start, end = db.execute("SELECT start_char, end_char FROM quotes ORDER BY id").fetchone()
    store.add_correction(db, 1, [("quote_speaker", f"{start}:{end}", "Jon Pryce")], "officer")
    assert not fresh(db)
    assert analyse_stage(db, analyser)["articles"] == 0
    assert fresh(db)
    assert "Jon Pryce" in {row[3] for row in db.execute("SELECT * FROM quote_people_stored")}
    assert_rows_as_before(db)
    db.execute("UPDATE quote_people_stored SET joined_by = 'marked'")   # not rewritten by a run with nothing new
    db.conn.commit()
    analyse_stage(db, analyser)
    assert {row[0] for row in db.execute("SELECT joined_by FROM quote_people_stored")} == {"marked"}


def test_the_label_command_stores_the_rows_again_after_quote_corrections(tmp_path):
    """`cuttings label --unlabel ... --quote` and `--import` leave quote_people's rows stored (fresh), so the quote
    pages read them at once rather than working every person out again until the next analyse run."""
    from click.testing import CliRunner

    import pipeline

    path = tmp_path / "x.db"
    db = store.connect(path)
    fill(db)
    reference(db)
    store.add_correction(db, 3, [("quote_speaker", place(db, "Words 8."), "Ann Smith")], "ann")
    assert not fresh(db)
    corrected = quote_id(db, "Words 8.")
    db.close()

    def run(*args):
        result = CliRunner().invoke(pipeline.cli, ["--db", str(path), "label", "--annotator", "lead", *args])
        assert result.exit_code == 0, result.output
        db = store.connect(path)
        reference(db)
        return db
    db = run("--unlabel", "3", "--task", "quote_speaker", "--quote", str(corrected))
    assert fresh(db)
    assert_rows_as_before(db)
    assert db.execute("SELECT * FROM quote_people_stored").fetchall() == \
        db.execute("SELECT * FROM ref_quote_people").fetchall()
    store.add_correction(db, 5, [("quote_entity", place(db, "Words 5."), "sfrs")], "ann")
    assert not fresh(db)
    db.close()
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    db = run("--import", str(empty))
    assert fresh(db)
    assert_rows_as_before(db)
