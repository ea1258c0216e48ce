"""Withdrawing one quote's correction: `cuttings label --unlabel ID --task quote_speaker --quote QUOTE_ID`.

Since m029 a correction of a quote's speaker or body belongs to its quote by id, and one whose quote a
re-analysis no longer finds is kept and listed as orphaned; but it could only be withdrawn with the story's
other corrections of that task (`--unlabel ID --task quote_speaker` withdraws them all). `--quote` withdraws
one quote's: a withdrawal row keyed to the quote (target, quote_id), which takes back that quote's corrections
only (m032; before, the story's other corrections of the task were written again after it). The export carries it (`withdrawn_quotes`), and an import elsewhere withdraws that quote's
correction only. Every test runs the command line in process on real SQLite files.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cuttings import labelling, store
from tests.test_label import cli_group, ids_of, make_db

PLEASED, NIGHT, OTHER = "we are pleased with this", "we were there all night", "it was a quiet evening"
BEFORE, AFTER = "2026-11-20T09:00:00Z", "2026-11-22T09:00:00Z"


def run(db_path, *args):
    return CliRunner().invoke(cli_group(), ["--db", str(db_path), *args])


def _quotes(db, article_id: int, quotes: list[tuple[int, str]]) -> dict[str, int]:
    """Store ``quotes`` ((start, words)) as the article's analysis; returns {words: quote id}."""
    article = {"id": article_id, "content_hash": db.execute("SELECT content_hash FROM articles WHERE id = ?",
                                                            [article_id]).fetchone()[0]}
    store.replace_analysis(db, article, "v1", [], [{"speaker": "a spokesperson", "text": words, "start_char": start,
                                                    "end_char": start + len(words)} for start, words in quotes])
    return {text: quote_id for quote_id, text in db.execute("SELECT id, text FROM quotes WHERE article_id = ?",
                                                            [article_id])}


def _correct(db, article_id: int, words: str, speaker: str, at: str = BEFORE, task: str = "quote_speaker") -> None:
    [(start, end)] = db.execute("SELECT start_char, end_char FROM quotes WHERE text = ? AND article_id = ?",
                                [words, article_id]).fetchall()
    store.add_correction(db, article_id, [(task, f"{start}:{end}", speaker)], "officer")
    db.execute("UPDATE labels SET created_at = ? WHERE id = (SELECT max(id) FROM labels)", [at])
    db.conn.commit()


def _speakers(db, article_id: int) -> dict[str, tuple[str, str | None]]:
    return {text: (speaker, method) for text, speaker, method in db.execute(
        "SELECT text, speaker, entity_method FROM quote_view WHERE article_id = ?", [article_id])}


def _count(path) -> int:
    db = store.connect(path)
    try:
        return db.execute("SELECT count(*) FROM labels").fetchone()[0]
    finally:
        db.conn.close()


@pytest.fixture
def story(tmp_path):
    """A database whose story `middling` quotes two people, both speakers corrected by the officer."""
    path = tmp_path / "a.db"
    make_db(path)
    db = store.connect(path)
    story = ids_of(db)["middling"]
    ids = _quotes(db, story, [(0, PLEASED), (40, NIGHT)])
    _correct(db, story, PLEASED, "Jo Bloggs")
    _correct(db, story, NIGHT, "Sam Crew")
    db.conn.close()
    return path, story, ids


def test_unlabel_quote_withdraws_that_quotes_correction_only(story):
    path, story_id, ids = story
    result = run(path, "label", "--unlabel", str(story_id), "--task", "quote_speaker", "--quote", str(ids[PLEASED]),
                 "--annotator", "akhan")
    assert result.exit_code == 0, result.output
    assert f"withdrew 1 label of article {story_id}" in result.stdout
    assert "Jo Bloggs" in result.stdout and "Sam Crew" not in result.stdout
    db = store.connect(path)
    assert _speakers(db, story_id) == {PLEASED: ("a spokesperson", None), NIGHT: ("Sam Crew", "corrected")}
    assert [(fix.quote_id, fix.label) for fix in store.quote_corrections(db)] == [(ids[NIGHT], "Sam Crew")]
    # nothing deleted: the withdrawal is a row naming its quote, under its annotator
    rows = db.execute("SELECT task, label, annotator, quote_id FROM labels WHERE article_id = ? ORDER BY id",
                      [story_id]).fetchall()
    assert rows[:3] == [("quote_speaker", "Jo Bloggs", "officer", ids[PLEASED]),
                        ("quote_speaker", "Sam Crew", "officer", ids[NIGHT]),
                        ("quote_speaker", store.WITHDRAWN, "akhan", ids[PLEASED])]
    # it is no whole-task withdrawal: a correction of the other quote is no label given before a withdrawal
    assert store.withdrawals(db, [story_id]) == {}
    # withdrawing the same quote again: nothing stands, nothing written
    count = _count(path)
    again = run(path, "label", "--unlabel", str(story_id), "--task", "quote_speaker", "--quote", str(ids[PLEASED]))
    assert again.exit_code == 1 and len(again.output.strip().splitlines()) == 1
    assert "nothing withdrawn" in again.output
    assert _count(path) == count


def test_an_orphaned_correction_is_withdrawn_by_its_quotes_id(story):
    path, story_id, ids = story
    db = store.connect(path)
    _quotes(db, story_id, [(40, NIGHT)])   # re-analysis: the first quote is gone
    [orphan] = store.orphaned_quote_corrections(db)
    assert orphan.quote_id == ids[PLEASED]
    db.conn.close()
    result = run(path, "label", "--unlabel", str(story_id), "--task", "quote_speaker", "--quote", str(ids[PLEASED]))
    assert result.exit_code == 0, result.output
    db = store.connect(path)
    assert store.orphaned_quote_corrections(db) == []
    assert _speakers(db, story_id) == {NIGHT: ("Sam Crew", "corrected")}


def test_a_body_correction_is_withdrawn_by_quote_and_the_speaker_task_is_untouched(story):
    path, story_id, ids = story
    db = store.connect(path)
    _correct(db, story_id, PLEASED, "hwfrs", task="quote_entity")
    db.conn.close()
    result = run(path, "label", "--unlabel", str(story_id), "--task", "quote_entity", "--quote", str(ids[PLEASED]))
    assert result.exit_code == 0, result.output
    db = store.connect(path)
    assert _speakers(db, story_id)[PLEASED] == ("Jo Bloggs", "corrected")
    assert db.execute("SELECT entity_id FROM quote_view WHERE quote_id = ?", [ids[PLEASED]]).fetchone() == (None,)


@pytest.mark.parametrize("args, message", [
    (["--task", "quote_speaker", "--quote", "9999"], "no quote 9999"),
    (["--task", "stance_governance", "--quote", "QUOTE"], "--quote needs --task quote_speaker or quote_entity"),
    (["--quote", "QUOTE"], "--quote needs --task quote_speaker or quote_entity"),
    (["--task", "quote_speaker", "--quote", "OTHER"], "is a quote of article"),
    (["--task", "quote_entity", "--quote", "QUOTE"], "nothing withdrawn"),
])
def test_bad_quote_input_is_one_line_and_writes_nothing(story, args, message):
    path, story_id, ids = story
    db = store.connect(path)
    other = _quotes(db, ids_of(db)["flagged"], [(5, OTHER)])[OTHER]
    db.conn.close()
    args = [{"QUOTE": str(ids[PLEASED]), "OTHER": str(other)}.get(arg, arg) for arg in args]
    count = _count(path)
    result = run(path, "label", "--unlabel", str(story_id), *args)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and message in result.output, result.output
    assert _count(path) == count


def test_quote_without_unlabel_is_refused(story):
    path, _, ids = story
    result = run(path, "label", "--export", "-", "--task", "quote_speaker", "--quote", str(ids[PLEASED]))
    assert result.exit_code == 1 and "--quote works with --unlabel" in result.output
    assert len(result.output.strip().splitlines()) == 1


def _second_database(tmp_path, a_path, story_id) -> tuple:
    """Database B: the same stories, the quotes stored in another order (other ids), the officer's two
    corrections imported from A before anything was withdrawn."""
    b_path = tmp_path / "b.db"
    make_db(b_path)
    b = store.connect(b_path)
    story_b = ids_of(b)["middling"]
    ids_b = _quotes(b, story_b, [(40, NIGHT)])
    ids_b = _quotes(b, story_b, [(40, NIGHT), (0, PLEASED), (70, OTHER)])
    b.conn.close()
    first = tmp_path / "first.jsonl"
    assert run(a_path, "label", "--export", str(first)).exit_code == 0
    assert run(b_path, "label", "--import", str(first)).exit_code == 0
    return b_path, story_b, ids_b


def test_the_import_summary_counts_quote_corrections_as_such(story, tmp_path):
    """The officer's two corrections of speakers, imported into a second database: the summary line says two quote
    corrections were added (not "2 labels"), in the singular where one is."""
    a_path, story_a, _ = story
    b_path = tmp_path / "b.db"
    make_db(b_path)
    b = store.connect(b_path)
    _quotes(b, ids_of(b)["middling"], [(40, NIGHT), (0, PLEASED), (70, OTHER)])
    b.conn.close()
    first = tmp_path / "first.jsonl"
    assert run(a_path, "label", "--export", str(first)).exit_code == 0
    result = run(b_path, "label", "--import", str(first))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"imported {first}: 1 record; 2 quote corrections added, 1 article changed"
    again = run(b_path, "label", "--import", str(first))
    assert again.stdout.strip() == f"imported {first}: 1 record; nothing changed"


def test_the_export_carries_one_quotes_withdrawal_and_an_import_withdraws_that_correction_only(story, tmp_path):
    a_path, story_a, ids_a = story
    b_path, story_b, ids_b = _second_database(tmp_path, a_path, story_a)
    b = store.connect(b_path)
    assert ids_b[PLEASED] != ids_a[PLEASED]
    _correct(b, story_b, OTHER, "Pat Other")   # a correction only B has, given before A's withdrawal
    b.conn.close()
    assert run(a_path, "label", "--unlabel", str(story_a), "--task", "quote_speaker", "--quote",
               str(ids_a[PLEASED]), "--annotator", "akhan").exit_code == 0
    exported = tmp_path / "labels.jsonl"
    assert run(a_path, "label", "--export", str(exported)).exit_code == 0
    [record] = [json.loads(line) for line in exported.read_text().splitlines()
                if json.loads(line)["id"] == f"db-{story_a}"]
    assert "withdrawn" not in record
    [gone] = record["withdrawn_quotes"]
    assert (gone["task"], gone["quote"], gone["place"], gone["annotator"]) == (
        "quote_speaker", PLEASED, f"0:{len(PLEASED)}", "akhan")
    result = run(b_path, "label", "--import", str(exported))
    assert result.exit_code == 0, result.output
    assert "1 withdrawal in the file replayed" in result.output
    b = store.connect(b_path)
    assert _speakers(b, story_b) == {PLEASED: ("a spokesperson", None), NIGHT: ("Sam Crew", "corrected"),
                                     OTHER: ("Pat Other", "corrected")}
    b.conn.close()
    # the same file again: nothing more
    count = _count(b_path)
    assert run(b_path, "label", "--import", str(exported)).exit_code == 0
    assert _count(b_path) == count


def test_an_import_keeps_a_correction_of_that_quote_given_after_the_withdrawal(story, tmp_path):
    a_path, story_a, ids_a = story
    b_path, story_b, _ = _second_database(tmp_path, a_path, story_a)
    assert run(a_path, "label", "--unlabel", str(story_a), "--task", "quote_speaker", "--quote",
               str(ids_a[PLEASED])).exit_code == 0
    a = store.connect(a_path)
    a.execute(f"UPDATE labels SET created_at = ? WHERE label = '{store.WITHDRAWN}'", ["2026-11-21T09:00:00Z"])
    a.conn.commit()
    a.conn.close()
    b = store.connect(b_path)
    _correct(b, story_b, PLEASED, "Jo Bloggs, mayor", at=AFTER)   # B's officer corrected it again, later
    b.conn.close()
    exported = tmp_path / "labels.jsonl"
    assert run(a_path, "label", "--export", str(exported)).exit_code == 0
    assert run(b_path, "label", "--import", str(exported)).exit_code == 0
    b = store.connect(b_path)
    assert _speakers(b, story_b)[PLEASED] == ("Jo Bloggs, mayor", "corrected")
    assert _speakers(b, story_b)[NIGHT] == ("Sam Crew", "corrected")


def test_an_older_copy_of_a_withdrawn_correction_is_not_brought_back(story, tmp_path):
    """A's export from before the withdrawal, imported after it: the newest labelled_at wins."""
    path, story_id, ids = story
    old = tmp_path / "old.jsonl"
    assert run(path, "label", "--export", str(old)).exit_code == 0
    assert run(path, "label", "--unlabel", str(story_id), "--task", "quote_speaker", "--quote",
               str(ids[PLEASED])).exit_code == 0
    count = _count(path)
    result = run(path, "label", "--import", str(old))
    assert result.exit_code == 0, result.output
    assert _count(path) == count
    db = store.connect(path)
    assert _speakers(db, story_id) == {PLEASED: ("a spokesperson", None), NIGHT: ("Sam Crew", "corrected")}


def test_the_story_page_and_doctor_name_the_command_for_one_quote(story):
    from cuttings import doctor
    from tests.test_scheme_without_tone_or_topics import _story_page
    path, story_id, ids = story
    db = store.connect(path)
    _quotes(db, story_id, [(40, NIGHT)])
    command = f"cuttings label --unlabel {story_id} --task quote_speaker --quote {ids[PLEASED]}"
    [check] = doctor.check_quote_corrections(db.conn)
    assert command in check.message
    db.conn.close()
    page = _story_page(path, story_id)
    section = page[page.index("no longer in this story"):]
    assert f"<code>{command}</code>" in section


def test_docs_and_help_name_the_quote_option():
    from pathlib import Path
    docs = (Path(__file__).resolve().parent.parent / "docs" / "labelling.md").read_text()
    assert "--task quote_speaker --quote" in docs
    assert "withdrawn_quotes" in docs
    result = CliRunner().invoke(cli_group(), ["label", "--help"])
    assert "--quote QUOTE_ID" in result.output and "--task quote_speaker --quote" in result.output


def test_labelling_api_refuses_a_quote_of_another_story(story):
    path, story_id, ids = story
    db = store.connect(path)
    other = _quotes(db, ids_of(db)["flagged"], [(5, OTHER)])[OTHER]
    with pytest.raises(labelling.LabellingError, match=f"quote {other} is a quote of article"):
        labelling.withdraw_quote_correction(db, str(story_id), "quote_speaker", other, "akhan")


def test_a_whole_task_withdrawal_after_one_quotes_still_takes_back_every_correction(story):
    path, story_id, ids = story
    assert run(path, "label", "--unlabel", str(story_id), "--task", "quote_speaker", "--quote",
               str(ids[PLEASED])).exit_code == 0
    result = run(path, "label", "--unlabel", str(story_id), "--task", "quote_speaker")
    assert result.exit_code == 0 and f"withdrew 1 label of article {story_id}" in result.stdout
    db = store.connect(path)
    assert store.quote_corrections(db) == []
    assert _speakers(db, story_id) == {PLEASED: ("a spokesperson", None), NIGHT: ("a spokesperson", None)}


def test_an_older_whole_task_withdrawal_imported_after_one_quotes_is_replayed(story):
    """A withdrawal of one quote's corrections here is no withdrawal of the task: a file's withdrawal of the
    whole task given before it (and after the corrections) is still recorded and takes back the other's."""
    path, story_id, ids = story
    assert run(path, "label", "--unlabel", str(story_id), "--task", "quote_speaker", "--quote",
               str(ids[PLEASED])).exit_code == 0
    db = store.connect(path)
    assert store.import_withdrawal(db, story_id, "quote_speaker", "elsewhere", "2026-11-21T09:00:00Z")
    assert store.quote_corrections(db) == []
    assert [(gone.quote_id, gone.task) for gone in store.quote_withdrawals(db)] == [(ids[PLEASED], "quote_speaker")]


def test_the_story_page_history_says_a_quote_withdrawal_is_that_quotes(story):
    from tests.test_scheme_without_tone_or_topics import _story_page
    path, story_id, ids = story
    assert run(path, "label", "--unlabel", str(story_id), "--task", "quote_speaker", "--quote",
               str(ids[PLEASED])).exit_code == 0
    page = _story_page(path, story_id)
    history = page[page.index('id="human-labels"'):]
    assert "this quote's corrections below no longer count" in history
    assert "the rows below of this task no longer count" not in history


def test_an_import_withdraws_a_correction_orphaned_there_by_its_words(story, tmp_path):
    """B's story was analysed again without the quote (its correction orphaned there): the file's withdrawal
    of that quote's correction finds it by the words the orphaned correction kept."""
    a_path, story_a, ids_a = story
    b_path, story_b, ids_b = _second_database(tmp_path, a_path, story_a)
    b = store.connect(b_path)
    _quotes(b, story_b, [(40, NIGHT), (70, OTHER)])
    assert [fix.quote_id for fix in store.orphaned_quote_corrections(b)] == [ids_b[PLEASED]]
    b.conn.close()
    assert run(a_path, "label", "--unlabel", str(story_a), "--task", "quote_speaker", "--quote",
               str(ids_a[PLEASED])).exit_code == 0
    exported = tmp_path / "labels.jsonl"
    assert run(a_path, "label", "--export", str(exported)).exit_code == 0
    assert run(b_path, "label", "--import", str(exported)).exit_code == 0
    b = store.connect(b_path)
    assert store.orphaned_quote_corrections(b) == []
    assert [(fix.quote_id, fix.label) for fix in store.quote_corrections(b)] == [(ids_b[NIGHT], "Sam Crew")]
