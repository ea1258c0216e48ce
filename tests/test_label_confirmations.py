"""A person's answer that agrees with the label standing is a label too, with its time, in every database.

The rule (docs/labelling.md, "Labels moved between databases") is that the newest answer to a question wins. A
person who confirms the standing label (the screen's `a` on a story chosen with `--article`, the browser's form
saved as shown, a second opinion in another database) answers later than the label confirmed: that answer must
keep its time here and through export and import, or a different answer given elsewhere between the two wins
where it is imported, though this person answered later.

Before: an import compared a story's topics as a whole and wrote nothing when the file's topics were the ones
standing here, so a later confirmation of them elsewhere kept the old time here (and in this database's export);
and the browser's quote form saved as shown was refused ("nothing changed"), so a person could not confirm a
quote's corrected speaker at all. Three databases, the command line in process (CliRunner), as
tests/test_label_sync.py.
"""
from __future__ import annotations

import json

import pytest

from cuttings import browse, labelling, store
from tests.test_label_sync import label_rows, ok, run, story_id
from tests.test_label import make_db
from tests.test_quote_correction_withdrawal import _quotes

T1 = "2026-11-20T09:00:00Z"   # A's officer labels; B and C import A's file
T3 = "2026-11-22T09:00:00Z"   # B's jsmith answers differently
T4 = "2026-11-23T09:00:00Z"   # A's lead confirms the officer's label
T5 = "2026-11-24T09:00:00Z"   # the files are exported and imported
TASKS = labelling.load_label_tasks()

# per task: the officer's answer and jsmith's different one, as the rows the screen writes
ANSWERS = {
    "stance_governance": ([("stance_governance", "", "against")], [("stance_governance", "", "favour")]),
    "tone": ([("tone", "hwfrs", "negative")], [("tone", "hwfrs", "positive")]),
    "topics": ([("topics", "", "incident")], [("topics", "", "finance"), ("topics", "incident", "__rejected__")]),
}


@pytest.fixture
def dbs(tmp_path):
    paths = {}
    for name in "ABCD":
        paths[name] = tmp_path / f"{name}.db"
        make_db(paths[name])
    return paths


def _save(path, rows, who: str, at: str) -> None:
    db = store.connect(path)
    with store.clock(at):
        labelling.save_labels(db, story_id(path), rows, who)
    db.conn.close()


def _confirm_on_screen(path, task: str, who: str, at: str) -> int:
    """`cuttings label --article STORY` then `a`: the story's human labels shown and accepted (as run_session)."""
    db = store.connect(path)
    try:
        card = labelling.load_card(db, story_id(path), [TASKS[task]], chosen=True)
        rows = [row for question in card.questions if question.decided_by
                for row in labelling.answer_rows(question, question.predicted)]
        with store.clock(at):
            return labelling.save_labels(db, card.article_id, rows, who)
    finally:
        db.conn.close()


def _standing(path, task: str):
    db = store.connect(path)
    try:
        value = labelling.human_labels(db, TASKS, [story_id(path)]).get(story_id(path), {}).get(task)
        return value.get("hwfrs") if isinstance(value, dict) else value
    finally:
        db.conn.close()


def _record(path) -> dict:
    [line] = path.read_text().splitlines()
    return json.loads(line)


@pytest.mark.parametrize("order", ["A then B", "B then A"])
@pytest.mark.parametrize("task", list(ANSWERS))
def test_a_confirmation_given_later_wins_over_a_different_answer_given_between(dbs, tmp_path, task, order):
    """A's officer answers at T1 (B and C import it); B's jsmith answers differently at T3; A's lead confirms
    the officer's answer at T4. C, importing both files in either order, and B, importing A's, stand with
    the lead's confirmation, and C's export says it was the lead's, at T4."""
    officer, other = ANSWERS[task]
    first, a_file, b_file = tmp_path / "a1.jsonl", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _save(dbs["A"], officer, "officer", T1)
    ok(run(dbs["A"], "label", "--export", str(first), at=T1))
    for name in "BC":
        ok(run(dbs[name], "label", "--import", str(first), at=T1))
    _save(dbs["B"], other, "jsmith", T3)
    assert _confirm_on_screen(dbs["A"], task, "lead", T4) == 1   # the screen writes the confirmation: a row
    ok(run(dbs["A"], "label", "--export", str(a_file), at=T5))
    ok(run(dbs["B"], "label", "--export", str(b_file), at=T5))
    assert _record(a_file)["labelled_at"][task] == ({"hwfrs": T4} if task == "tone" else T4)
    mine = _standing(dbs["A"], task)
    assert mine == officer[0][2] or mine == [officer[0][2]]
    for path in ([a_file, b_file] if order == "A then B" else [b_file, a_file]):
        ok(run(dbs["C"], "label", "--import", str(path), at=T5))
    ok(run(dbs["B"], "label", "--import", str(a_file), at=T5))
    assert _standing(dbs["C"], task) == _standing(dbs["B"], task) == mine
    c_file = tmp_path / "c.jsonl"
    ok(run(dbs["C"], "label", "--export", str(c_file), at=T5))
    record = _record(c_file)
    shape = (lambda value: {"hwfrs": value}) if task == "tone" else (lambda value: value)
    assert (record["annotators"][task], record["labelled_at"][task]) == (shape("lead"), shape(T4))


def test_a_confirmation_of_topics_is_stored_with_its_time_and_imported_once(dbs, tmp_path):
    """D holds the officer's topics (T1) and imports A's file, where the lead confirmed them at T4: D records
    the lead's confirmation (the topics' row, the lead's, at T4: one label added), its export carries it, and
    importing the file again adds nothing. With --annotator (your edits of a file) the same topics are no
    answer: nothing is added."""
    first, a_file = tmp_path / "a1.jsonl", tmp_path / "a.jsonl"
    _save(dbs["A"], ANSWERS["topics"][0], "officer", T1)
    ok(run(dbs["A"], "label", "--export", str(first), at=T1))
    ok(run(dbs["D"], "label", "--import", str(first), at=T1))
    _confirm_on_screen(dbs["A"], "topics", "lead", T4)
    ok(run(dbs["A"], "label", "--export", str(a_file), at=T5))
    edited = ok(run(dbs["D"], "label", "--import", str(a_file), "--annotator", "akhan", at=T5))
    assert "; nothing changed" in edited.stdout
    result = ok(run(dbs["D"], "label", "--import", str(a_file), at=T5))
    assert "1 label added, 1 article changed" in result.stdout, result.output
    assert label_rows(dbs["D"]) == [("topics", "", "incident", "officer", T1), ("topics", "", "incident", "lead", T4)]
    again = ok(run(dbs["D"], "label", "--import", str(a_file), at="2026-11-25T09:00:00Z"))
    assert "; nothing changed" in again.stdout
    assert len(label_rows(dbs["D"])) == 2
    d_file = tmp_path / "d.jsonl"
    ok(run(dbs["D"], "label", "--export", str(d_file), at=T5))
    assert (_record(d_file)["annotators"]["topics"], _record(d_file)["labelled_at"]["topics"]) == ("lead", T4)


# ------------------------------------------------------------------------------------------------
# The browser's quote form saved as shown: a confirmation of the speaker and body
# ------------------------------------------------------------------------------------------------

WORDS = "we were there all night"


def _quote_db(path):
    db = store.connect(path)
    _quotes(db, story_id(path), [(0, WORDS)])
    db.conn.close()


def _form_save(path, speaker: str | None, who: str, at: str) -> int:
    """The story page's quote form as the browser posts it (``correct``): ``speaker`` typed (None: left as
    shown), the body left as shown."""
    db = store.connect(path)
    try:
        columns = ("quote_id", "speaker", "entity_id", "start_char", "end_char")
        [quote] = [dict(zip(columns, row)) for row in db.execute(
            f"SELECT {', '.join(columns)} FROM quote_view WHERE article_id = ?", [story_id(path)]).fetchall()]
        key = f"{quote['start_char']}:{quote['end_char']}"
        form = {"what": ["quote"], "quote": [key], "quote_id": [str(quote["quote_id"])],
                "speaker": [quote["speaker"] if speaker is None else speaker], "entity": [quote["entity_id"] or ""]}
        rows = browse.correction_rows(form, [], {}, {key: quote}, {"hwfrs", "sfrs", "wm_pcc"})
        with store.clock(at):
            return store.add_correction(db, story_id(path), rows, who)
    finally:
        db.conn.close()


def _speaker(path) -> str:
    db = store.connect(path)
    try:
        return db.execute("SELECT speaker FROM quote_view WHERE article_id = ?", [story_id(path)]).fetchone()[0]
    finally:
        db.conn.close()


@pytest.mark.parametrize("order", ["A then B", "B then A"])
def test_a_quote_form_saved_as_shown_confirms_the_speaker_and_travels(dbs, tmp_path, order):
    """A's officer corrects a quote's speaker (T1; B and C import it); B's jsmith corrects it otherwise (T3); A's
    lead opens the form and saves it as shown (T4): that is recorded (speaker and body, as the lead's, at T4,
    not refused as "nothing changed"), and C and B end with the lead's speaker."""
    for name in "ABC":
        _quote_db(dbs[name])
    first, a_file, b_file = tmp_path / "a1.jsonl", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert _form_save(dbs["A"], "Jo Bloggs", "officer", T1) == 1   # the speaker changed; the body as shown
    ok(run(dbs["A"], "label", "--export", str(first), at=T1))
    for name in "BC":
        ok(run(dbs[name], "label", "--import", str(first), at=T1))
    assert _form_save(dbs["B"], "Sam Crew", "jsmith", T3) == 1
    assert _form_save(dbs["A"], None, "lead", T4) == 2
    assert [row for row in label_rows(dbs["A"]) if row[3] == "lead"] == [
        ("quote_speaker", f"0:{len(WORDS)}", "Jo Bloggs", "lead", T4), ("quote_entity", f"0:{len(WORDS)}", "", "lead", T4)]
    ok(run(dbs["A"], "label", "--export", str(a_file), at=T5))
    ok(run(dbs["B"], "label", "--export", str(b_file), at=T5))
    for path in ([a_file, b_file] if order == "A then B" else [b_file, a_file]):
        ok(run(dbs["C"], "label", "--import", str(path), at=T5))
    ok(run(dbs["B"], "label", "--import", str(a_file), at=T5))
    assert _speaker(dbs["A"]) == _speaker(dbs["B"]) == _speaker(dbs["C"]) == "Jo Bloggs"
    again = ok(run(dbs["C"], "label", "--import", str(a_file), at=T5))
    assert "; nothing changed" in again.stdout


def test_a_quote_form_with_one_field_changed_stores_that_field_only():
    """Changing the speaker is an answer about the speaker: the body left as shown is not stored with it."""
    quote = {"quote_id": 7, "speaker": "a spokesperson", "entity_id": "hwfrs", "start_char": 0, "end_char": 9}
    form = {"what": ["quote"], "quote": ["0:9"], "quote_id": ["7"], "speaker": ["Jo Bloggs"], "entity": ["hwfrs"]}
    assert browse.correction_rows(form, [], {}, {"0:9": quote}, {"hwfrs"}) == [("quote_speaker", "0:9", "Jo Bloggs")]
    form["speaker"] = ["a spokesperson"]
    assert browse.correction_rows(form, [], {}, {"0:9": quote}, {"hwfrs"}) == [
        ("quote_speaker", "0:9", "a spokesperson"), ("quote_entity", "0:9", "hwfrs")]
    unknown = {**quote, "speaker": None}
    form["speaker"] = [""]
    assert browse.correction_rows(form, [], {}, {"0:9": unknown}, {"hwfrs"}) == [("quote_entity", "0:9", "hwfrs")]
