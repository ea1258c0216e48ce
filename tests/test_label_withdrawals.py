"""Withdrawing a label (`cuttings label --unlabel`) appends a row, and `label --import` of a CSV/XLSX export.

`--unlabel` used to DELETE the label rows: who said a story was `against`, and who took it back when, was
lost, and an `--import` of an export written before the withdrawal silently brought the label back. And
`cuttings export --format csv` (or xlsx), the file an analyst corrects in a spreadsheet, could not be
imported at all (JSON Lines only). Every test runs the command line in process on a real SQLite file.
"""
from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from click.testing import CliRunner

from cuttings import labelling, store
from tests.test_label import TASKS, _quote, cli_group, ids_of, make_db

BEFORE = "2026-11-20T09:00:00Z"   # when the officer labelled (long before any withdrawal in these tests)


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "cuttings.db"
    make_db(path)
    return path


def run(db_path, *args, input=None):
    return CliRunner().invoke(cli_group(), ["--db", str(db_path), *args], input=input)


def summary_of(db_path, article_id: int) -> tuple:
    db = store.connect(db_path)
    try:
        return tuple(db.execute("SELECT stance, human_corrected FROM article_summary WHERE article_id = ?",
                                [article_id]).fetchone())
    finally:
        db.conn.close()


def labels_of(db_path, article_id: int) -> list[tuple]:
    db = store.connect(db_path)
    try:
        return [tuple(row) for row in db.execute("SELECT task, target, label, annotator FROM labels "
                                                 "WHERE article_id = ? ORDER BY id", [article_id])]
    finally:
        db.conn.close()


def label_against(db_path, key: str = "middling", at: str = BEFORE) -> int:
    """The officer labels a story `against` (its model says `none`) at ``at``; returns its id."""
    db = store.connect(db_path)
    story = ids_of(db)[key]
    labelling.save_labels(db, story, [("stance_governance", "", "against")], "officer")
    db.execute("UPDATE labels SET created_at = ? WHERE article_id = ?", [at, story])
    db.conn.commit()
    db.conn.close()
    return story


def test_unlabel_appends_a_withdrawal_and_the_models_prediction_shows_again(db_path):
    story = label_against(db_path)
    assert summary_of(db_path, story) == ("against", 1)
    result = run(db_path, "label", "--unlabel", str(story), "--task", "stance_governance", "--annotator", "lead")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        f"withdrew 1 label of article {story} (recorded as lead; the labels stay in the table):",
        f"  stance_governance: against (officer, {BEFORE})"]
    assert summary_of(db_path, story) == ("none", 0)   # the model's prediction, no person's label
    db = store.connect(db_path)
    # the audit trail: who said it, who withdrew it, when
    history = store.label_history(db, story)
    assert [row[1:5] for row in history] == [("stance_governance", "", "against", "officer"),
                                             ("stance_governance", "", "__withdrawn__", "lead")]
    assert history[0][5] == BEFORE and history[1][5] > BEFORE
    assert db.execute("SELECT label, human, decided_by FROM effective_labels WHERE article_id = ? AND task = ?",
                      [story, "stance_governance"]).fetchall() == [("none", 0, "model-1")]
    # no longer training data, and the story waits for a label again
    assert story not in labelling.human_labels(db, TASKS)
    assert f"db-{story}" not in [record["id"] for record in labelling.labelled_records(db, TASKS)]
    assert story in [c.article_id for c in labelling.candidates(db, labelling.select_tasks(TASKS, "stance_governance"))]
    # a label given after the withdrawal stands
    labelling.save_labels(db, story, [("stance_governance", "", "favour")], "colleague")
    db.conn.close()
    assert summary_of(db_path, story) == ("favour", 1)


def test_an_export_written_before_a_withdrawal_does_not_bring_the_label_back(db_path, tmp_path):
    """Both the label export (JSONL) and the story export (CSV) written before `--unlabel`: importing them
    afterwards stores nothing (the withdrawal is the later word), and says so."""
    story = label_against(db_path)
    old_labels, old_stories = tmp_path / "labels.jsonl", tmp_path / "stories.csv"
    assert run(db_path, "label", "--export", str(old_labels)).exit_code == 0
    assert run(db_path, "export", "--out", str(old_stories)).exit_code == 0
    assert json.loads(old_labels.read_text())["labelled_at"] == {"stance_governance": BEFORE}
    assert run(db_path, "label", "--unlabel", str(story), "--annotator", "lead").exit_code == 0
    before = labels_of(db_path, story)
    for path in (old_labels, old_stories):
        result = run(db_path, "label", "--import", str(path), "--annotator", "akhan")
        assert result.exit_code == 0, result.output
        assert "; nothing changed" in result.output
        assert ("warning: 1 label in the file was given before a withdrawal recorded here (label --unlabel): not "
                "brought back") in result.stderr
        assert labels_of(db_path, story) == before
        assert summary_of(db_path, story) == ("none", 0)


def test_the_label_export_carries_withdrawals_and_an_import_elsewhere_replays_them(db_path, tmp_path):
    """The team's second database has the officer's label; the first withdrew it: importing the first's export
    into the second withdraws it there too (under the name and time of the withdrawal), once."""
    story = label_against(db_path)
    exported = tmp_path / "labels.jsonl"
    assert run(db_path, "label", "--export", str(exported)).exit_code == 0
    other = tmp_path / "other.db"
    make_db(other)
    assert run(other, "label", "--import", str(exported)).exit_code == 0
    odb = store.connect(other)
    odb.execute("UPDATE labels SET created_at = ?", ["2026-11-21T09:00:00Z"])   # imported the next day
    odb.conn.commit()
    odb.conn.close()
    assert summary_of(other, story) == ("against", 1)
    assert run(db_path, "label", "--unlabel", str(story), "--annotator", "lead").exit_code == 0
    assert run(db_path, "label", "--export", str(exported)).exit_code == 0
    [record] = [json.loads(line) for line in exported.read_text().splitlines()]   # a story with no label left
    withdrawn_at = labels_of(db_path, story) and store.connect(db_path).execute(
        "SELECT created_at FROM labels WHERE label = '__withdrawn__'").fetchone()[0]
    assert record["withdrawn"] == {"stance_governance": {"annotator": "lead", "at": withdrawn_at}}
    assert record["stance_governance"] is None
    result = run(other, "label", "--import", str(exported), "--annotator", "somebody")
    assert result.exit_code == 0, result.output
    assert "note: 1 withdrawal in the file replayed" in result.stderr
    assert summary_of(other, story) == ("none", 0)
    odb = store.connect(other)
    assert [tuple(row) for row in odb.execute("SELECT label, annotator, created_at FROM labels ORDER BY id")] == [
        ("against", "officer", "2026-11-21T09:00:00Z"), ("__withdrawn__", "somebody", withdrawn_at)]
    odb.conn.close()
    again = run(other, "label", "--import", str(exported))
    assert again.exit_code == 0 and "; nothing changed" in again.output   # nothing left to withdraw


def test_an_import_that_only_replays_withdrawals_says_so_in_its_summary_line(db_path, tmp_path):
    """A file whose records only withdraw labels here used to be summed up as "2 records, 0 labels added to 2
    articles", which read as if nothing happened to two articles: the line says the withdrawals it recorded."""
    stories = [label_against(db_path, key) for key in ("middling", "confident")]
    other = tmp_path / "other.db"
    make_db(other)
    exported = tmp_path / "labels.jsonl"
    assert run(db_path, "label", "--export", str(exported)).exit_code == 0
    result = run(other, "label", "--import", str(exported))
    assert result.stdout.strip() == f"imported {exported}: 2 records; 2 labels added, 2 articles changed"
    for story in stories:
        assert run(db_path, "label", "--unlabel", str(story), "--annotator", "lead").exit_code == 0
    assert run(db_path, "label", "--export", str(exported)).exit_code == 0
    result = run(other, "label", "--import", str(exported), "--annotator", "somebody")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"imported {exported}: 2 records; 2 withdrawals recorded, 2 articles changed"
    assert result.stderr.strip() == ("note: 2 withdrawals in the file replayed (newer than any withdrawal of their "
                                     "task here; a label here given after one stands)")
    assert [summary_of(other, story) for story in stories] == [("none", 0), ("favour", 0)]   # the models' again


def test_a_label_given_after_the_withdrawal_is_not_withdrawn_by_an_import(db_path, tmp_path):
    story = label_against(db_path)
    assert run(db_path, "label", "--unlabel", str(story), "--annotator", "lead").exit_code == 0
    exported = tmp_path / "labels.jsonl"
    assert run(db_path, "label", "--export", str(exported)).exit_code == 0
    other = tmp_path / "other.db"
    make_db(other)
    odb = store.connect(other)
    labelling.save_labels(odb, story, [("stance_governance", "", "neutral")], "colleague")
    odb.execute("UPDATE labels SET created_at = '2099-01-01T00:00:00Z'")   # given after the withdrawal
    odb.conn.commit()
    odb.conn.close()
    result = run(other, "label", "--import", str(exported))
    assert result.exit_code == 0, result.output
    assert summary_of(other, story) == ("neutral", 1)
    # the withdrawal is recorded (a copy of the officer's older label imported later stays withdrawn), and the
    # later label stands by its time, written once (m032: before, it was written again after the withdrawal)
    assert [row[2:] for row in store.label_history(store.connect(other), story)] == [
        ("", "neutral", "colleague", "2099-01-01T00:00:00Z"),
        ("", "__withdrawn__", "lead", record_at(db_path, "__withdrawn__"))]


def record_at(db_path, label: str) -> str:
    db = store.connect(db_path)
    try:
        return db.execute("SELECT created_at FROM labels WHERE label = ?", [label]).fetchone()[0]
    finally:
        db.conn.close()


def test_a_withdrawn_quote_correction_is_kept_and_not_brought_back(db_path, tmp_path):
    db = store.connect(db_path)
    story = ids_of(db)["middling"]
    _quote(db, story, 10, "we were there all night")
    store.add_correction(db, story, [("quote_speaker", "10:33", "Jo Bloggs")], "colleague")
    db.execute("UPDATE labels SET created_at = ?", [BEFORE])
    db.conn.commit()
    db.conn.close()
    exported = tmp_path / "labels.jsonl"
    assert run(db_path, "label", "--export", str(exported)).exit_code == 0
    result = run(db_path, "label", "--unlabel", str(story), "--task", "quote_speaker", "--annotator", "lead")
    assert result.exit_code == 0, result.output
    assert labels_of(db_path, story) == [("quote_speaker", "10:33", "Jo Bloggs", "colleague"),
                                         ("quote_speaker", "", "__withdrawn__", "lead")]
    result = run(db_path, "label", "--import", str(exported))
    assert result.exit_code == 0 and "1 label in the file was given before a withdrawal" in result.stderr
    db = store.connect(db_path)
    assert db.execute("SELECT speaker, entity_method FROM quote_view").fetchall() == [("a spokesperson", None)]
    db.conn.close()


def read_csv_file(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def write_csv_file(path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_csv_export_corrected_in_a_spreadsheet_imports_only_what_was_changed(db_path, tmp_path):
    stories = tmp_path / "stories.csv"
    result = run(db_path, "export", "--out", str(stories))
    assert result.exit_code == 0, result.output
    rows = read_csv_file(stories)
    db = store.connect(db_path)
    ids = ids_of(db)
    db.conn.close()
    edited = {int(row["article_id"]): row for row in rows}
    assert edited[ids["middling"]]["stance"] == "none" and edited[ids["flagged"]]["tone"] == '{"sfrs":"negative"}'
    edited[ids["middling"]]["stance"] = "against"
    edited[ids["flagged"]]["tone"] = '{"sfrs": "neutral"}'
    edited[ids["confident"]]["topics"] = "governance,finance"
    write_csv_file(stories, rows)
    result = run(db_path, "label", "--import", str(stories), "--annotator", "akhan")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"imported {stories}: {len(rows)} records; 4 labels added, 3 articles changed"
    assert labels_of(db_path, ids["middling"]) == [("stance_governance", "", "against", "akhan")]
    assert labels_of(db_path, ids["flagged"]) == [("tone", "sfrs", "neutral", "akhan")]
    assert labels_of(db_path, ids["confident"]) == [("topics", "", "governance", "akhan"),
                                                    ("topics", "", "finance", "akhan")]
    assert summary_of(db_path, ids["middling"]) == ("against", 1)
    again = run(db_path, "label", "--import", str(stories), "--annotator", "akhan")
    assert again.exit_code == 0 and "; nothing changed" in again.stdout   # nothing changed twice


def test_xlsx_export_corrected_in_a_spreadsheet_imports_too(db_path, tmp_path):
    from openpyxl import load_workbook
    stories = tmp_path / "stories.xlsx"
    assert run(db_path, "export", "--out", str(stories)).exit_code == 0
    workbook = load_workbook(stories)
    sheet = workbook["stories"]
    header = [cell.value for cell in sheet[1]]
    db = store.connect(db_path)
    story = ids_of(db)["middling"]
    db.conn.close()
    [row] = [row for row in sheet.iter_rows(min_row=2) if row[header.index("article_id")].value == story]
    row[header.index("stance")].value = "favour"
    workbook.save(stories)
    result = run(db_path, "label", "--import", str(stories), "--annotator", "akhan")
    assert result.exit_code == 0, result.output
    assert "1 label added, 1 article changed" in result.stdout
    assert labels_of(db_path, story) == [("stance_governance", "", "favour", "akhan")]


@pytest.mark.parametrize("change, message", [
    (lambda rows: [{**row, "notes": "x"} for row in rows], "unknown column 'notes'"),
    (lambda rows: [{**row, "stance": "furious"} if i == 1 else row for i, row in enumerate(rows)],
     ":3: stance label 'furious'"),
    (lambda rows: [{**row, "tone": "negative"} if i == 1 else row for i, row in enumerate(rows)],
     ":3: tone must be a JSON object"),
])
def test_a_bad_csv_is_one_line_and_stores_nothing(db_path, tmp_path, change, message):
    # (a row naming no article of this database is skipped and counted, as in JSON Lines: test_label_sync.py)
    stories = tmp_path / "stories.csv"
    assert run(db_path, "export", "--out", str(stories)).exit_code == 0
    rows = read_csv_file(stories)
    rows[0]["stance"] = "against" if rows[0]["stance"] != "against" else "favour"   # a good change first
    write_csv_file(stories, change(rows))
    result = run(db_path, "label", "--import", str(stories))
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: ") and message in line, line
    db = store.connect(db_path)
    assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == 0   # all or nothing
    db.conn.close()


def test_a_file_that_is_no_workbook_says_to_save_it_as_csv(db_path, tmp_path):
    path = tmp_path / "stories.xlsx"
    path.write_text("article_id,stance\n1,against\n")
    result = run(db_path, "label", "--import", str(path))
    assert result.exit_code == 1
    assert "as an XLSX workbook" in result.output and "save it as CSV" in result.output


def test_a_csv_on_standard_input_imports_too(db_path, tmp_path):
    stories = tmp_path / "stories.csv"
    assert run(db_path, "export", "--out", str(stories)).exit_code == 0
    rows = read_csv_file(stories)
    story = int(rows[0]["article_id"])
    rows[0]["stance"] = "neutral" if rows[0]["stance"] != "neutral" else "favour"
    write_csv_file(stories, rows)
    result = run(db_path, "label", "--import", "-", "--annotator", "akhan", input=stories.read_text())
    assert result.exit_code == 0, result.output
    assert "1 label added, 1 article changed" in result.stdout
    assert labels_of(db_path, story) == [("stance_governance", "", rows[0]["stance"], "akhan")]


def test_m028_upgrades_a_database_whose_labels_were_written_before(tmp_path):
    """A database at the schema before m028 (its labels and a quote correction as the old code wrote them)
    reads the same after the upgrade, and --unlabel then appends."""
    path = tmp_path / "old.db"
    ids = make_db(path)
    db = store.connect(path)
    story = ids["middling"]
    _quote(db, story, 10, "we were there all night")
    store.add_correction(db, story, [("quote_speaker", "10:33", "Jo Bloggs")], "colleague")
    labelling.save_labels(db, story, [("stance_governance", "", "against")], "officer")
    db.conn.close()
    old = tmp_path / "before-m028.db"
    db = store.connect(old, migrate=False)
    store.migrations.apply(db, stop_before="m028_label_withdrawals")
    assert [m.name for m in store.migrations.pending(db)][0] == "m028_label_withdrawals"
    db.execute("ATTACH DATABASE ? AS src", [str(path)])
    for table in ("sources", "entities", "articles", "classifications", "quotes"):
        db.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table}")
    columns = "id, article_id, task, target, label, annotator, created_at"   # the labels of before m029
    db.execute(f"INSERT INTO main.labels SELECT {columns} FROM src.labels")
    db.conn.commit()
    db.execute("DETACH DATABASE src")
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'idx_labels_withdrawn'").fetchone() is None
    db.conn.close()
    db = store.connect(old)   # migrates
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'idx_labels_withdrawn'").fetchone()
    assert "__withdrawn__" in db.execute("SELECT sql FROM sqlite_master WHERE name = 'quote_view'").fetchone()[0]
    assert db.execute("SELECT stance, human_corrected FROM article_summary WHERE article_id = ?",
                      [story]).fetchone() == ("against", 1)
    assert db.execute("SELECT speaker FROM quote_view").fetchall() == [("Jo Bloggs",)]
    db.conn.close()
    for task in ("stance_governance", "quote_speaker"):
        assert run(old, "label", "--unlabel", str(story), "--task", task, "--annotator", "lead").exit_code == 0
    assert summary_of(old, story) == ("none", 0)
    assert len(labels_of(old, story)) == 4
    db = store.connect(old)
    assert db.execute("SELECT speaker FROM quote_view").fetchall() == [("a spokesperson",)]
    db.conn.close()


def test_the_label_readers_take_any_number_of_stories(db_path):
    """The label readers asked for more stories than SQLite binds variables (999 in builds before 3.32, 32,766
    after; set low here, this build allows 250,000): one JSON parameter (store.labels._for_articles), the rows
    those of the stories asked for."""
    story = label_against(db_path)
    db = store.connect(db_path)
    assert [row[0] for row in store.human_label_rows_at(db, [story])] == [story]
    db.conn.close()
    assert run(db_path, "label", "--unlabel", str(story), "--task", "stance_governance",
               "--annotator", "lead").exit_code == 0
    db = store.connect(db_path)
    db.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    many = [story, *range(10**6, 10**6 + 40_000)]
    assert store.withdrawals(db, many).keys() == {story}
    assert store.withdrawals(db, [story + 1]) == {}
    assert all(row[0] in many for row in store.human_label_rows_at(db, many))
    assert store.quote_withdrawals(db, many) == [] and store.quote_corrections(db, many) == []
    db.conn.close()
