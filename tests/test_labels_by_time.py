"""The label views and readers pick the label that stands by the time it was given (`labels.created_at`), the
row id only breaking a tie within one second (migration m032).

Labels moved between databases follow "the newest labelled_at wins" (docs/labelling.md), but the views read
the newest *row* (the highest id) and a withdrawal took back every row with a lower id. An import writes a row
with the time the file says, so a row's id and its time can disagree; session 20 kept them in step by writing
rows again (a label given here after an imported withdrawal, and the story's other corrections after one
quote's withdrawal: duplicate rows in the audit trail). Now the views order by (created_at, id), a withdrawal
takes back the rows of its task given at or before it (by time, then id) and one quote's withdrawal only that
quote's; nothing is written twice.

Store-level rows are written with `store.add_labels(..., at)` / six-item rows (as an import writes them), so the
tests say what the views do whatever order the rows arrived in.
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from cuttings import labelling, store
from tests.test_label import _quote, cli_group, ids_of, make_db

T1, T2, T3, T4 = ("2026-11-20T09:00:00Z", "2026-11-21T09:00:00Z", "2026-11-22T09:00:00Z", "2026-11-23T09:00:00Z")
NIGHT, PLEASED = "we were there all night", "we are pleased with this"
COLUMNS = "article_id, task, target, label, annotator, created_at, quote_id, quote_text"


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "cuttings.db"
    make_db(path)
    db = store.connect(path)
    yield db
    db.conn.close()


def story(db) -> int:
    return ids_of(db)["middling"]


def shown(db, article_id: int) -> tuple:
    """(stance, human_corrected) in article_summary, effective_labels' stance row, and the human label the
    labelling tool resolves (what export and training read)."""
    summary = tuple(db.execute("SELECT stance, human_corrected FROM article_summary WHERE article_id = ?",
                               [article_id]).fetchone())
    effective = db.execute("SELECT label, human, decided_by FROM effective_labels WHERE article_id = ? AND task = ?",
                           [article_id, "stance_governance"]).fetchall()
    human = labelling.human_labels(db, labelling.load_label_tasks(), [article_id]).get(article_id, {})
    return (*summary, effective, human.get("stance_governance"))


def duplicates(db) -> list[tuple]:
    """Rows of the audit trail written twice (every column but the id the same)."""
    return db.execute(f"SELECT {COLUMNS}, count(*) FROM labels GROUP BY {COLUMNS} HAVING count(*) > 1").fetchall()


# ------------------------------------------------------------------------------------------------
# The newest by time wins, whatever the ids
# ------------------------------------------------------------------------------------------------

def test_an_imported_older_label_does_not_beat_a_newer_local_one_whatever_its_id(db):
    a = story(db)
    store.add_labels(db, [(a, "stance_governance", "", "favour", "local")], at=T3)
    store.add_labels(db, [(a, "stance_governance", "", "against", "elsewhere", T1)])   # written later, given earlier
    assert shown(db, a) == ("favour", 1, [("favour", 1, "local")], "favour")
    # the same for a per-body task, a topic and a rejection of a topic
    store.add_labels(db, [(a, "tone", "hwfrs", "negative", "local")], at=T3)
    store.add_labels(db, [(a, "tone", "hwfrs", "positive", "elsewhere", T1),
                          (a, "topics", "", "fire", "elsewhere", T2)])
    store.add_labels(db, [(a, "topics", "fire", "__rejected__", "local")], at=T3)
    store.add_labels(db, [(a, "topics", "", "fire", "elsewhere", T1)])   # an older copy of the rejected topic
    assert db.execute("SELECT task, target, label FROM effective_labels WHERE article_id = ? AND human = 1 "
                      "ORDER BY task, target", [a]).fetchall() == [("stance_governance", "", "favour"),
                                                                   ("tone", "hwfrs", "negative")]
    assert db.execute("SELECT tone, topics FROM article_summary WHERE article_id = ?", [a]).fetchone() == (
        '{"hwfrs":"negative"}', None)   # the topic rejected (a person's answer: no predicted topic either)
    assert labelling.label_times(db, labelling.load_label_tasks(), [a])[a]["stance_governance"] == T3


def test_an_imported_newer_withdrawal_beats_an_older_local_label(db):
    a = story(db)
    store.add_labels(db, [(a, "stance_governance", "", store.WITHDRAWN, "elsewhere", T3)])
    store.add_labels(db, [(a, "stance_governance", "", "against", "officer", T1)])   # given before it
    assert shown(db, a) == ("none", 0, [("none", 0, "model-1")], None)
    assert store.human_label_rows(db, [a]) == []
    assert store.labelled_tasks(db, a) == set()   # it waits for a label again
    store.add_labels(db, [(a, "stance_governance", "", "favour", "officer", T4)])   # given after it: stands
    assert shown(db, a) == ("favour", 1, [("favour", 1, "officer")], "favour")


def test_a_withdrawal_written_before_a_label_it_is_older_than_takes_nothing_back(db):
    a = story(db)
    store.add_labels(db, [(a, "stance_governance", "", "against", "officer")], at=T3)
    store.add_labels(db, [(a, "stance_governance", "", store.WITHDRAWN, "elsewhere", T1)])
    assert shown(db, a) == ("against", 1, [("against", 1, "officer")], "against")
    assert store.withdrawals(db, [a]) == {a: {"stance_governance": ("elsewhere", T1)}}


def test_the_latest_withdrawal_is_the_newest_by_time(db):
    """withdrawals (what the export writes as `withdrawn`) and quote_withdrawals name the newest by time."""
    a = story(db)
    store.add_labels(db, [(a, "stance_governance", "", store.WITHDRAWN, "lead", T3)])
    store.add_labels(db, [(a, "stance_governance", "", store.WITHDRAWN, "elsewhere", T1)])
    assert store.withdrawals(db, [a]) == {a: {"stance_governance": ("lead", T3)}}
    _quote(db, a, 10, NIGHT)
    with store.clock(T4):   # the correction before the withdrawal (an `at` older than it would be moved after it)
        store.add_correction(db, a, [("quote_speaker", "10:33", "Jo Bloggs")], "officer")
    quote_id = db.execute("SELECT id FROM quotes WHERE article_id = ?", [a]).fetchone()[0]
    store.withdraw_quote_correction(db, a, "quote_speaker", quote_id, "lead", at="2026-12-01T09:00:00Z")
    db.execute(f"INSERT INTO labels ({COLUMNS}) VALUES (?, 'quote_speaker', '10:33', ?, 'elsewhere', ?, ?, ?)",
               [a, store.WITHDRAWN, T1, quote_id, NIGHT])
    assert [(gone.annotator, gone.created_at) for gone in store.quote_withdrawals(db, [a])] == [
        ("lead", "2026-12-01T09:00:00Z")]


def test_a_quote_correction_stands_by_time(db):
    a = story(db)
    _quote(db, a, 10, NIGHT)
    store.add_correction(db, a, [("quote_speaker", "10:33", "Jo Bloggs")], "officer")
    db.execute("UPDATE labels SET created_at = ?", [T3])
    store.add_labels(db, [(a, "quote_speaker", "10:33", "Someone Else", "elsewhere", T1)])
    assert db.execute("SELECT speaker, entity_method FROM quote_view WHERE article_id = ?", [a]).fetchall() == [
        ("Jo Bloggs", "corrected")]
    assert [(fix.label, fix.created_at) for fix in store.quote_corrections(db, [a])] == [("Jo Bloggs", T3)]


# ------------------------------------------------------------------------------------------------
# One second: the id breaks the tie
# ------------------------------------------------------------------------------------------------

def test_two_labels_in_the_same_second_the_later_written_stands(db):
    a = story(db)
    store.add_labels(db, [(a, "stance_governance", "", "against", "officer", T1),
                          (a, "stance_governance", "", "favour", "colleague", T1)])
    assert shown(db, a) == ("favour", 1, [("favour", 1, "colleague")], "favour")


def test_a_withdrawal_and_a_label_in_the_same_second_the_later_written_stands(db):
    a, b = story(db), ids_of(db)["flagged"]
    store.add_labels(db, [(a, "stance_governance", "", "against", "officer", T1),
                          (a, "stance_governance", "", store.WITHDRAWN, "lead", T1)])
    assert shown(db, a) == ("none", 0, [("none", 0, "model-1")], None)
    store.add_labels(db, [(b, "stance_governance", "", store.WITHDRAWN, "lead", T1),
                          (b, "stance_governance", "", "favour", "officer", T1)])
    assert shown(db, b) == ("favour", 1, [("favour", 1, "officer")], "favour")


# ------------------------------------------------------------------------------------------------
# The flows of sessions 20-b and 20-f write no row twice
# ------------------------------------------------------------------------------------------------

def test_an_imported_withdrawal_older_than_a_label_here_writes_only_the_withdrawal(db):
    """s20-b: a label given here after a withdrawal imported later stands on, without being written again."""
    a = story(db)
    store.add_labels(db, [(a, "stance_governance", "", "favour", "officer")], at=T3)
    assert store.import_withdrawal(db, a, "stance_governance", "elsewhere", T1)
    assert [row[3:5] for row in store.label_history(db, a)] == [("favour", "officer"), (store.WITHDRAWN, "elsewhere")]
    assert shown(db, a) == ("favour", 1, [("favour", 1, "officer")], "favour")
    assert duplicates(db) == []
    # and a quote's correction given here after the imported withdrawal of the quote task
    _quote(db, a, 10, NIGHT)
    store.add_correction(db, a, [("quote_speaker", "10:33", "Jo Bloggs")], "officer")
    assert store.import_withdrawal(db, a, "quote_speaker", "elsewhere", T1)
    assert db.execute("SELECT speaker FROM quote_view WHERE article_id = ?", [a]).fetchall() == [("Jo Bloggs",)]
    assert [fix.label for fix in store.quote_corrections(db, [a])] == ["Jo Bloggs"]
    assert duplicates(db) == []


def test_one_quotes_withdrawal_writes_one_row_and_the_others_stand(tmp_path):
    """s20-f: `--unlabel ID --task quote_speaker --quote QUOTE_ID` writes the withdrawal row naming the quote and
    nothing else; the story's other corrections of the task stand, a later whole-task withdrawal takes them all."""
    path = tmp_path / "a.db"
    make_db(path)
    db = store.connect(path)
    a = story(db)
    article = {"id": a, "content_hash": db.execute("SELECT content_hash FROM articles WHERE id = ?", [a]).fetchone()[0]}
    store.replace_analysis(db, article, "v1", [], [
        {"speaker": "a spokesperson", "text": words, "start_char": start, "end_char": start + len(words)}
        for start, words in ((0, PLEASED), (40, NIGHT))])
    quotes = dict(db.execute("SELECT text, id FROM quotes WHERE article_id = ?", [a]).fetchall())
    store.add_correction(db, a, [("quote_speaker", f"0:{len(PLEASED)}", "Jo Bloggs"),
                                 ("quote_speaker", f"40:{40 + len(NIGHT)}", "Sam Crew")], "officer")
    db.conn.close()
    result = CliRunner().invoke(cli_group(), ["--db", str(path), "label", "--unlabel", str(a), "--task",
                                              "quote_speaker", "--quote", str(quotes[PLEASED]), "--annotator", "akhan"])
    assert result.exit_code == 0, result.output
    db = store.connect(path)
    assert [(row[3], row[4]) for row in store.label_history(db, a)] == [
        ("Jo Bloggs", "officer"), ("Sam Crew", "officer"), (store.WITHDRAWN, "akhan")]
    assert duplicates(db) == []
    assert dict(db.execute("SELECT text, speaker FROM quote_view WHERE article_id = ?", [a]).fetchall()) == {
        PLEASED: "a spokesperson", NIGHT: "Sam Crew"}
    assert [(fix.quote_id, fix.label) for fix in store.quote_corrections(db, [a])] == [(quotes[NIGHT], "Sam Crew")]
    # the withdrawal row of one quote neither stands nor counts as the task's withdrawal
    assert store.human_label_rows(db, [a]) == [(a, "quote_speaker", f"40:{40 + len(NIGHT)}", "Sam Crew", "officer")]
    assert store.withdrawals(db, [a]) == {}
    # an import of the same quote's withdrawal, older: nothing written; of the task's, newer: every one withdrawn
    assert not store.import_quote_withdrawal(db, a, "quote_speaker", quotes[PLEASED], "elsewhere", T1)
    assert store.import_withdrawal(db, a, "quote_speaker", "elsewhere", "2099-01-01T00:00:00Z")
    assert store.quote_corrections(db, [a]) == []
    assert duplicates(db) == []
    db.conn.close()


def test_an_imported_quote_withdrawal_older_than_a_correction_here_writes_only_itself(db):
    a = story(db)
    _quote(db, a, 10, NIGHT)
    store.add_correction(db, a, [("quote_speaker", "10:33", "Jo Bloggs")], "officer")
    db.execute("UPDATE labels SET created_at = ?", [T3])
    quote_id = db.execute("SELECT id FROM quotes WHERE article_id = ?", [a]).fetchone()[0]
    assert store.import_quote_withdrawal(db, a, "quote_speaker", quote_id, "elsewhere", T1)
    assert [row[3] for row in store.label_history(db, a)] == ["Jo Bloggs", store.WITHDRAWN]
    assert db.execute("SELECT speaker FROM quote_view WHERE article_id = ?", [a]).fetchall() == [("Jo Bloggs",)]
    assert duplicates(db) == []


# ------------------------------------------------------------------------------------------------
# The migration
# ------------------------------------------------------------------------------------------------

def test_m032_gives_a_database_from_before_it_the_views_by_time(tmp_path):
    from cuttings.store import schema
    db = store.connect(tmp_path / "old.db", migrate=False)
    store.migrations.apply(db, stop_before="m032_labels_by_time")
    # the label views as a cuttings before m032 left them (the migrations before it write the current ones)
    by_id = schema.label_views_by_id(schema.label_task_roles(db))
    for name in reversed(schema.LABEL_VIEWS):
        db.execute(f"DROP VIEW {name}")
    for name in schema.LABEL_VIEWS:
        db.execute(f"CREATE VIEW {name} AS {by_id[name]}")
    old = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view' "
                          "AND name IN ('effective_labels', 'quote_view')").fetchall())
    assert "max(id)" in old["effective_labels"] and "ORDER BY l.id DESC" in old["quote_view"]
    db.conn.commit()
    db.conn.close()
    db = store.connect(tmp_path / "old.db")   # migrates
    new = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view' "
                          "AND name IN ('effective_labels', 'quote_view')").fetchall())
    assert "max(id)" not in new["effective_labels"] and "(n.created_at, n.id) > (l.created_at, l.id)" in new[
        "effective_labels"]
    assert "ORDER BY l.created_at DESC, l.id DESC" in new["quote_view"]
    indexes = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'labels' "
                              "AND sql IS NOT NULL").fetchall())
    assert "idx_labels_article_task_time" in indexes
    assert "idx_labels_article_task" not in indexes   # the new one's prefix
    assert "(article_id, task, created_at, quote_id, label)" in indexes["idx_labels_withdrawn"]   # by time
    db.conn.close()
