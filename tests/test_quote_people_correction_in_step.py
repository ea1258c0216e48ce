"""A correction of a quote from the story page keeps quote_people's stored rows in step
(``store.add_correction_in_step``): in the correction's transaction, the rows of the article's quotes and of every
quote whose speaker has a surname one of them had or has are worked out again and stored, and the state is fresh
again, so the quote pages keep reading stored rows. Each test compares the stored rows with a full rebuild
(m033's definition read live) after every kind of correction: a speaker named, a body moved or unlinked, a
description given a name, a name taken away, corrections of other quotes, a label correction."""
from __future__ import annotations

import pytest
from sqlite_utils import Database

from cuttings import store
from cuttings.store import schema
from tests.test_quote_people_stored import assert_rows_as_before, fresh, place, quote_id, reference
from tests.test_quote_views_plan import fill


@pytest.fixture
def db(tmp_path) -> Database:
    db = store.connect(tmp_path / "x.db")
    fill(db)
    reference(db)
    store.refresh_quote_people(db)
    assert fresh(db)
    return db


def by_quote(rows) -> list[tuple]:
    return sorted(map(tuple, rows), key=lambda row: row[0])


def assert_in_step_as_a_full_rebuild(db: Database) -> None:
    """Fresh, and the stored rows are the rows a full rebuild stores (by quote); the view (read from them) gives
    the live definition's rows and most_quoted's ranking."""
    assert fresh(db)
    stored = by_quote(db.execute("SELECT * FROM quote_people_stored").fetchall())
    assert stored == by_quote(db.execute("SELECT * FROM ref_quote_people").fetchall())
    assert by_quote(db.execute("SELECT * FROM quote_people").fetchall()) == stored
    assert sorted(db.execute("SELECT * FROM most_quoted").fetchall()) == \
        sorted(db.execute("SELECT * FROM ref_most_quoted").fetchall())
    with db.conn:
        assert schema.store_quote_people_rows(db) == len(stored)   # a full rebuild: the same rows
    assert by_quote(db.execute("SELECT * FROM quote_people_stored").fetchall()) == stored and fresh(db)


CORRECTIONS = [
    # a person names "Mr Smith" (ambiguous between Ann and Bob Smith) as Ann Smith
    (3, "quote_speaker", "Words 8.", "Ann Smith"),
    # moves Jonathan Pryce's quote to another body: Jon Pryce is no longer his short form for hwfrs
    (5, "quote_entity", "Words 5.", "sfrs"),
    # unlinks a quote from any body
    (1, "quote_entity", "Words 1.", ""),
    # gives a description ("a spokesperson") a name whose surname others have
    (1, "quote_speaker", "Words 2.", "Alan Campion"),
    # renames a full name to another surname: both surnames' people change
    (2, "quote_speaker", "Words 4.", "Jon Smith"),
    # a bare surname to a new person no one else is
    (5, "quote_speaker", "Words 9.", "Mr Newcomer"),
]


@pytest.mark.parametrize("article,task,words,label", CORRECTIONS)
def test_a_quote_correction_stores_what_it_changed_and_stays_fresh(db, article, task, words, label):
    store.add_correction_in_step(db, article, [(task, place(db, words), label)], "ann")
    assert_in_step_as_a_full_rebuild(db)


def test_corrections_one_after_another_and_a_withdrawal(db):
    for article, task, words, label in CORRECTIONS:
        store.add_correction_in_step(db, article, [(task, place(db, words), label)], "ann")
        assert_in_step_as_a_full_rebuild(db)
    # two of an article's quotes at once, and a label of the story with them
    store.add_correction_in_step(db, 5, [("quote_speaker", place(db, "Words 10."), "Bob Smith"),
                                         ("quote_entity", place(db, "Words 9."), "wm_pcc"),
                                         ("topics", "", "finance")], "bob")
    assert_in_step_as_a_full_rebuild(db)
    # a withdrawal (`cuttings label --unlabel`) only marks them stale, as before: a full refresh then
    assert store.withdraw_quote_correction(db, 5, "quote_entity", quote_id(db, "Words 5."), "ann")
    assert not fresh(db)
    assert_rows_as_before(db)


def test_rows_stale_before_stay_stale_and_right(db):
    """A write of another kind since the last refresh (a story's date): the stored rows were not in step, so a
    correction does not mark them fresh; the view works the rows out live, right."""
    db.execute("UPDATE articles SET published_at = '2026-11-30T08:00:00Z' WHERE id = 2")
    db.conn.commit()
    assert not fresh(db)
    store.add_correction_in_step(db, 3, [("quote_speaker", place(db, "Words 8."), "Ann Smith")], "ann")
    assert not fresh(db)
    assert_rows_as_before(db)


def test_a_label_correction_writes_no_quote_row(db):
    before = db.execute("SELECT rowid, * FROM quote_people_stored").fetchall()
    assert store.add_correction_in_step(db, 1, [("topics", "", "finance")], "ann") == 1
    assert fresh(db) and db.execute("SELECT rowid, * FROM quote_people_stored").fetchall() == before


def test_only_the_touched_surnames_rows_are_written_and_each_keeps_its_place(db):
    """The rows of other surnames are not rewritten (their rowids and order stay); a re-stored row keeps its rowid."""
    before = {row[1]: row for row in db.execute("SELECT rowid, * FROM quote_people_stored").fetchall()}
    store.add_correction_in_step(db, 3, [("quote_speaker", place(db, "Words 8."), "Ann Smith")], "ann")
    after = {row[1]: row for row in db.execute("SELECT rowid, * FROM quote_people_stored").fetchall()}
    assert set(after) == set(before)
    assert {quote: row[0] for quote, row in after.items()} == {quote: row[0] for quote, row in before.items()}
    changed = {quote for quote in after if after[quote] != before[quote]}
    assert changed == {quote_id(db, "Words 8.")}


def test_a_failed_correction_writes_nothing(db):
    before = db.execute("SELECT rowid, * FROM quote_people_stored").fetchall()
    with pytest.raises(store.CorrectionError):
        store.add_correction_in_step(db, 3, [("quote_speaker", "999:1000", "Ann Smith")], "ann")
    assert not db.conn.in_transaction and fresh(db)
    assert db.execute("SELECT rowid, * FROM quote_people_stored").fetchall() == before


def test_a_quote_correction_posted_from_the_story_page_leaves_the_stored_rows_fresh_as_a_full_rebuild(tmp_path):
    """Through the running server (`cuttings serve --corrections`): the story page's quote form posted with its
    CSRF token; after it the rows are fresh and the stored rows are a full rebuild's, so the quote pages read them
    (before, the post marked them stale and each quote page worked every quote's person out until the next
    analyse or label run)."""
    import re
    import sqlite3
    import urllib.parse

    from cuttings import screenshots
    from tests.report_fixtures import article_id, build_sample_db
    from tests.test_browse import _csrf, _open, _session

    path = tmp_path / "cuttings.db"
    build_sample_db(path).close()
    db = store.connect(path, create=False)
    story_id = article_id(db, "defends")
    store.refresh_quote_people(db)
    assert fresh(db)
    db.close()
    story, correct = f"/-/cuttings/story/cuttings/{story_id}", f"/-/cuttings/correct/cuttings/{story_id}"
    opener = _session()
    with screenshots.datasette_server(path, corrections=True, secret="test-secret") as base:
        page = _open(base + story, opener)[1]
        quote = re.search(r'name="quote" value="(\d+:\d+)"', page).group(1)
        fields = {"what": "quote", "quote": quote, "speaker": "Mr Pryce", "entity": "hwfrs",
                  "annotator": "browser-test", "csrftoken": _csrf(page)}
        assert _open(base + correct, opener, urllib.parse.urlencode(fields).encode())[0] == 200
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM labels WHERE annotator = 'browser-test' AND task = 'quote_speaker'"
                            ).fetchone()[0] == 1
        assert conn.execute("SELECT fresh FROM quote_people_state").fetchone()[0] == 1
        stored = by_quote(conn.execute("SELECT * FROM quote_people_stored").fetchall())
        live = by_quote(conn.execute(f"SELECT * FROM ({schema.QUOTE_PEOPLE_SQL})").fetchall())
        assert stored == live and any(row[3] == "Mr Pryce" for row in stored)
