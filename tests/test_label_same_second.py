"""A label written through the store's API with an explicit time (``store.add_labels(..., at=T)``) in the same
second as a row of its story and task already stored (carried from sessions 21-22: "the same-second API edge").

Here the views order one second's rows by id, so the later-written row stands; but a label file carries times to
the second only, and between databases a withdrawal wins a tie and two labels of one second are ordered by
annotator, then label (docs/labelling.md, "Labels moved between databases"). So the row that stood here could lose
in every database its export reached. A person's answer (no ``at``) was already stamped one second later; now a
row given ``at`` an explicit time is too, so the later-written row wins by its time, here and elsewhere.
"""
from __future__ import annotations

from cuttings import labelling, store
from tests.test_label import ids_of, make_db
from tests.test_label_sync import label_rows, ok, run, stance, story_id

T1 = "2026-11-20T09:00:00Z"
T1_NEXT = "2026-11-20T09:00:01Z"
T2 = "2026-11-21T09:00:00Z"


def _write(path, rows, at):
    db = store.connect(path)
    try:
        store.add_labels(db, rows, at=at)
    finally:
        db.conn.close()


def _withdraw(path, at):
    db = store.connect(path)
    try:
        assert store.withdraw_labels(db, story_id(path), ["stance_governance"], "lead", at=at)
    finally:
        db.conn.close()


def _databases(tmp_path):
    paths = {name: tmp_path / f"{name}.db" for name in "AB"}
    for path in paths.values():
        make_db(path)
    return paths


def test_a_label_given_in_the_second_of_a_withdrawal_stands_here_and_elsewhere(tmp_path):
    dbs = _databases(tmp_path)
    _write(dbs["A"], [(story_id(dbs["A"]), "stance_governance", "", "against", "officer")], T1)
    _withdraw(dbs["A"], T1)
    _write(dbs["A"], [(story_id(dbs["A"]), "stance_governance", "", "favour", "colleague")], T1)   # written last
    assert stance(dbs["A"]) == ("favour", 1, "favour")
    # each later row is later by its time, not only by its id
    assert [row[2:] for row in label_rows(dbs["A"])] == [
        ("against", "officer", T1), (store.WITHDRAWN, "lead", T1_NEXT), ("favour", "colleague", "2026-11-20T09:00:02Z")]
    exported = tmp_path / "a.jsonl"
    ok(run(dbs["A"], "label", "--export", str(exported), at=T2))
    ok(run(dbs["B"], "label", "--import", str(exported), at=T2))
    assert stance(dbs["B"]) == stance(dbs["A"]) == ("favour", 1, "favour")


def test_two_labels_of_one_second_the_later_written_stands_here_and_elsewhere(tmp_path):
    dbs = _databases(tmp_path)
    _write(dbs["A"], [(story_id(dbs["A"]), "stance_governance", "", "against", "officer")], T1)
    first = tmp_path / "first.jsonl"
    ok(run(dbs["A"], "label", "--export", str(first), at=T1))
    ok(run(dbs["B"], "label", "--import", str(first), at=T1))   # B holds the officer's label, given at T1
    # written later through the API with the same explicit time, by an annotator sorting before "officer"
    _write(dbs["A"], [(story_id(dbs["A"]), "stance_governance", "", "favour", "colleague")], T1)
    assert stance(dbs["A"]) == ("favour", 1, "favour")
    second = tmp_path / "second.jsonl"
    ok(run(dbs["A"], "label", "--export", str(second), at=T2))
    result = ok(run(dbs["B"], "label", "--import", str(second), at=T2))
    assert "older than the label here" not in result.output
    assert stance(dbs["B"]) == ("favour", 1, "favour")


def test_an_explicit_time_is_the_answers_time_unless_a_row_is_as_new(tmp_path):
    """``at`` is the time the call answers at, as a person's now: kept when every row of the story's task is
    older; a row written after one as new or newer is stamped a second after it (it answers it); the import
    form (a sixth item, the file's time) is kept as it is."""
    path = tmp_path / "a.db"
    make_db(path)
    a = story_id(path)
    _write(path, [(a, "stance_governance", "", "against", "officer")], T1)
    _write(path, [(a, "stance_governance", "", "neutral", "officer")], T2)    # a later second: kept
    _write(path, [(a, "stance_governance", "", "favour", "colleague")], T1)   # written after a newer row
    _write(path, [(a, "tone", "hwfrs", "negative", "colleague")], T1)         # another task: its own rows
    _write(path, [(a, "stance_governance", "", "against", "elsewhere", T1)], None)   # an import's row
    assert [row[2:] for row in label_rows(path)] == [
        ("against", "officer", T1), ("neutral", "officer", T2), ("favour", "colleague", "2026-11-21T09:00:01Z"),
        ("negative", "colleague", T1), ("against", "elsewhere", T1)]
    assert stance(path) == ("favour", 1, "favour")


def test_topics_given_in_one_second_are_one_answer(tmp_path):
    """The rows of one answer (a story's topics) written in one call share one time, moved together."""
    path = tmp_path / "a.db"
    make_db(path)
    db = store.connect(path)
    a = ids_of(db)["middling"]
    store.add_labels(db, [(a, "topics", "", "incident", "officer")], at=T1)
    store.add_labels(db, [(a, "topics", "", "finance", "colleague"), (a, "topics", "incident", labelling.REJECTED,
                                                                     "colleague")], at=T1)
    assert [row[5] for row in store.label_history(db, a)] == [T1, T1_NEXT, T1_NEXT]
    assert labelling.human_labels(db, labelling.load_label_tasks(), [a])[a]["topics"] == ["finance"]
    db.conn.close()
