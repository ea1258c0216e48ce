"""Human labels moved between databases with `cuttings label --export`/`--import` (and `cuttings export`).

The rule (docs/labelling.md, "Labels moved between databases"): every label and every withdrawal keeps the
time it was given (`labelled_at`, a withdrawal's `at`) through every export and import, and for each
question the newest stands; a withdrawal takes back every label of its task given at or before it; two labels
given in the same second are ordered by annotator, then label. So three databases that exchange files end up
agreeing whatever the order of the imports, and importing a file twice adds nothing.

Before this, an import stamped each label with the time of the import: database C, importing B's copy of A's
label after A's withdrawal of it, brought the withdrawn label back (or kept an older label over a newer one).

Every test runs the command line in process (CliRunner) on real SQLite files.
"""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from cuttings import labelling, store
from tests.test_label import cli_group, make_db
from tests.test_label_withdrawals import read_csv_file, write_csv_file

T1 = "2026-11-20T09:00:00Z"   # A's officer labels
T2 = "2026-11-21T09:00:00Z"   # B imports A's file
T3 = "2026-11-22T09:00:00Z"   # A withdraws (or relabels)
T4 = "2026-11-23T09:00:00Z"   # B exports
T5 = "2026-11-24T09:00:00Z"   # C imports
STORY_URL = "https://news.example/middling"


def run(db_path, *args, at: str | None = None, input=None):
    """The command line on ``db_path``; ``at``: the time the command runs (store.clock)."""
    if at is None:
        return CliRunner().invoke(cli_group(), ["--db", str(db_path), *args], input=input)
    with store.clock(at):
        return CliRunner().invoke(cli_group(), ["--db", str(db_path), *args], input=input)


def ok(result):
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def story_id(db_path) -> int:
    db = store.connect(db_path)
    try:
        return db.execute("SELECT id FROM articles WHERE canonical_url = ?", [STORY_URL]).fetchone()[0]
    finally:
        db.conn.close()


def stance(db_path) -> tuple:
    """(stance, human_corrected) of the story as article_summary shows it, and the human label that stands."""
    db = store.connect(db_path)
    try:
        story = story_id(db_path)
        shown = tuple(db.execute("SELECT stance, human_corrected FROM article_summary WHERE article_id = ?",
                                 [story]).fetchone())
        human = labelling.human_labels(db, labelling.load_label_tasks(), [story]).get(story, {})
        return (*shown, human.get("stance_governance"))
    finally:
        db.conn.close()


def label_rows(db_path) -> list[tuple]:
    db = store.connect(db_path)
    try:
        return [tuple(row) for row in db.execute("SELECT task, target, label, annotator, created_at FROM labels "
                                                 "ORDER BY id")]
    finally:
        db.conn.close()


def give(db_path, value: str, who: str, at: str) -> None:
    """A person labels the story's stance ``value`` at ``at`` (as the screen saves an answer)."""
    db = store.connect(db_path)
    with store.clock(at):
        labelling.save_labels(db, story_id(db_path), [("stance_governance", "", value)], who)
    db.conn.close()


@pytest.fixture
def dbs(tmp_path):
    paths = {}
    for name in "ABC":
        paths[name] = tmp_path / f"{name}.db"
        make_db(paths[name])
    return paths


def _three_databases(dbs, tmp_path, then: str):
    """A labels the story `against` at T1; B imports A's export at T2; at T3 A ``then`` withdraws it
    ("withdraw") or relabels it `favour` ("relabel"); A and B export at T4. Returns (A's file, B's file)."""
    a_first, a_file, b_file = tmp_path / "a1.jsonl", tmp_path / "a2.jsonl", tmp_path / "b.jsonl"
    give(dbs["A"], "against", "officer", T1)
    ok(run(dbs["A"], "label", "--export", str(a_first), at=T1))
    ok(run(dbs["B"], "label", "--import", str(a_first), at=T2))
    if then == "withdraw":
        ok(run(dbs["A"], "label", "--unlabel", STORY_URL, "--task", "stance_governance", "--annotator", "lead", at=T3))
    else:
        give(dbs["A"], "favour", "lead", T3)
    ok(run(dbs["A"], "label", "--export", str(a_file), at=T4))
    ok(run(dbs["B"], "label", "--export", str(b_file), at=T4))
    return a_file, b_file


def test_an_import_keeps_the_files_labelled_at_and_the_export_carries_it_on(dbs, tmp_path):
    a_file, b_file = _three_databases(dbs, tmp_path, "relabel")
    # B's copy of A's label keeps the time A's officer gave it, not the time B imported it
    assert label_rows(dbs["B"]) == [("stance_governance", "", "against", "officer", T1)]
    assert json.loads(b_file.read_text())["labelled_at"] == {"stance_governance": T1}
    ok(run(dbs["C"], "label", "--import", str(a_file), at=T5))
    assert label_rows(dbs["C"]) == [("stance_governance", "", "favour", "lead", T3)]


@pytest.mark.parametrize("order", ["B then A", "A then B"])
def test_a_withdrawal_is_not_undone_by_an_older_copy_of_the_label(dbs, tmp_path, order):
    """A withdrew its label after B copied it: C, importing both files in either order, has no label."""
    a_file, b_file = _three_databases(dbs, tmp_path, "withdraw")
    files = [b_file, a_file] if order == "B then A" else [a_file, b_file]
    for path in files:
        ok(run(dbs["C"], "label", "--import", str(path), at=T5))
    assert stance(dbs["C"]) == ("none", 0, None)   # the model's prediction; no person's label stands
    assert stance(dbs["A"]) == ("none", 0, None)
    # and B, importing A's withdrawal, agrees
    ok(run(dbs["B"], "label", "--import", str(a_file), at=T5))
    assert stance(dbs["B"]) == ("none", 0, None)


@pytest.mark.parametrize("order", ["B then A", "A then B"])
def test_the_newest_label_wins_whatever_the_order_of_the_imports(dbs, tmp_path, order):
    """A relabelled `favour` after B copied its `against`: C has `favour` whichever file it imports first."""
    a_file, b_file = _three_databases(dbs, tmp_path, "relabel")
    files = [b_file, a_file] if order == "B then A" else [a_file, b_file]
    for path in files:
        ok(run(dbs["C"], "label", "--import", str(path), at=T5))
    assert stance(dbs["C"]) == ("favour", 1, "favour")
    assert stance(dbs["A"]) == ("favour", 1, "favour")
    ok(run(dbs["B"], "label", "--import", str(a_file), at=T5))
    assert stance(dbs["B"]) == ("favour", 1, "favour")
    # and C's own export says what A's does: the same label, given by the same person at the same time
    c_file = tmp_path / "c.jsonl"
    ok(run(dbs["C"], "label", "--export", str(c_file), at=T5))
    [record] = [json.loads(line) for line in c_file.read_text().splitlines()]
    assert (record["stance_governance"], record["annotators"], record["labelled_at"]) == (
        "favour", {"stance_governance": "lead"}, {"stance_governance": T3})


@pytest.mark.parametrize("order", ["B then A", "A then B"])
def test_a_label_given_after_a_withdrawal_stands_whatever_the_order(dbs, tmp_path, order):
    """A withdrew at T3 and a colleague labelled `neutral` at T3 + 1 h: C has `neutral` from either order,
    and not B's old `against`."""
    a_file, b_file = _three_databases(dbs, tmp_path, "withdraw")
    give(dbs["A"], "neutral", "colleague", "2026-11-22T10:00:00Z")
    ok(run(dbs["A"], "label", "--export", str(a_file), at=T4))
    files = [b_file, a_file] if order == "B then A" else [a_file, b_file]
    for path in files:
        ok(run(dbs["C"], "label", "--import", str(path), at=T5))
    assert stance(dbs["C"]) == ("neutral", 1, "neutral")


@pytest.mark.parametrize("order", ["A then B", "B then A"])
def test_two_labels_given_in_the_same_second_are_ordered_the_same_everywhere(dbs, tmp_path, order):
    """A and B label the story differently in the same second, on their own: C (in either order) and A and B
    (each importing the other's) all keep the same one (annotator, then label: the later in that order)."""
    give(dbs["A"], "against", "akhan", T1)
    give(dbs["B"], "favour", "jsmith", T1)
    a_file, b_file = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    ok(run(dbs["A"], "label", "--export", str(a_file), at=T2))
    ok(run(dbs["B"], "label", "--export", str(b_file), at=T2))
    for path in ([a_file, b_file] if order == "A then B" else [b_file, a_file]):
        ok(run(dbs["C"], "label", "--import", str(path), at=T5))
    ok(run(dbs["A"], "label", "--import", str(b_file), at=T5))
    ok(run(dbs["B"], "label", "--import", str(a_file), at=T5))
    assert stance(dbs["C"]) == stance(dbs["A"]) == stance(dbs["B"]) == ("favour", 1, "favour")   # jsmith > akhan


def test_importing_the_same_file_twice_adds_no_row(dbs, tmp_path):
    """A file with a label and a withdrawal, imported twice into a database that had neither: the second
    import adds nothing and says so; the rows are the file's (who, when), once."""
    a_file, _ = _three_databases(dbs, tmp_path, "withdraw")
    give(dbs["A"], "neutral", "colleague", "2026-11-22T10:00:00Z")
    ok(run(dbs["A"], "label", "--export", str(a_file), at=T4))
    first = ok(run(dbs["C"], "label", "--import", str(a_file), at=T5))
    rows = label_rows(dbs["C"])
    assert rows == [("stance_governance", "", "__withdrawn__", "lead", T3),
                    ("stance_governance", "", "neutral", "colleague", "2026-11-22T10:00:00Z")], first.output
    again = ok(run(dbs["C"], "label", "--import", str(a_file), at="2026-11-25T09:00:00Z"))
    assert "; nothing changed" in again.stdout
    assert "replayed" not in again.stderr
    assert label_rows(dbs["C"]) == rows
    # and B, which had the withdrawn label, gets the withdrawal and the new label once
    for _ in range(2):
        ok(run(dbs["B"], "label", "--import", str(a_file), at=T5))
    assert [row[2] for row in label_rows(dbs["B"])] == ["against", "__withdrawn__", "neutral"]
    assert stance(dbs["B"]) == ("neutral", 1, "neutral")


def test_a_withdrawal_alone_travels_on(dbs, tmp_path):
    """C imports only A's withdrawal (it never had the label): importing B's older copy afterwards brings
    nothing back, and C's own export carries the withdrawal to a fourth database."""
    a_file, b_file = _three_databases(dbs, tmp_path, "withdraw")
    ok(run(dbs["C"], "label", "--import", str(a_file), at=T5))
    c_file = tmp_path / "c.jsonl"
    ok(run(dbs["C"], "label", "--export", str(c_file), at=T5))
    [record] = [json.loads(line) for line in c_file.read_text().splitlines()]
    assert record["withdrawn"] == {"stance_governance": {"annotator": "lead", "at": T3}}
    result = ok(run(dbs["C"], "label", "--import", str(b_file), at=T5))
    assert "; nothing changed" in result.stdout
    assert stance(dbs["C"]) == ("none", 0, None)


# ------------------------------------------------------------------------------------------------
# Records naming no article of the database: one policy for every format
# ------------------------------------------------------------------------------------------------

def test_a_record_naming_no_article_here_is_skipped_and_counted_in_every_format(dbs, tmp_path):
    """A story export (CSV, and JSON Lines) and a label file, each with one record of a story this database
    does not have: the others are imported, the summary line and the warning say the same thing in the
    same words for each format, with the line."""
    stories_csv, stories_jsonl = tmp_path / "stories.csv", tmp_path / "stories.jsonl"
    ok(run(dbs["A"], "export", "--out", str(stories_csv)))
    ok(run(dbs["A"], "export", "--format", "jsonl", "--out", str(stories_jsonl)))
    rows = read_csv_file(stories_csv)
    story = story_id(dbs["A"])
    [edited] = [row for row in rows if int(row["article_id"]) == story]
    edited["stance"] = "against"
    rows[-1] = {**rows[-1], "article_id": "9999", "url": "https://elsewhere.example/9999"}
    write_csv_file(stories_csv, rows)
    records = [json.loads(line) for line in stories_jsonl.read_text().splitlines()]
    for record in records:
        if record["article_id"] == story:
            record["stance"] = "against"
    records[-1] = {**records[-1], "article_id": 9999, "url": "https://elsewhere.example/9999"}
    stories_jsonl.write_text("".join(json.dumps(record) + "\n" for record in records))
    label_file = tmp_path / "labels.jsonl"
    label_file.write_text(json.dumps({"url": STORY_URL, "stance_governance": "against"}) + "\n"
                          + json.dumps({"url": "https://elsewhere.example/9999", "stance_governance": "favour"}) + "\n")
    for path, last_line in ((stories_csv, len(rows) + 1), (stories_jsonl, len(records)), (label_file, 2)):
        make_db(target := tmp_path / f"into-{path.name}.db")
        result = ok(run(target, "label", "--import", str(path), "--annotator", "akhan"))
        count = 2 if path == label_file else len(records)
        assert result.stdout.strip() == (f"imported {path}: {count} records; 1 label added, 1 article changed; "
                                         f"1 record skipped (no such article in this database)"), result.output
        assert (f"warning: 1 record names no article in this database (line {last_line}): skipped"
                in result.stderr.splitlines()), result.stderr
        assert stance(target)[:2] == ("against", 1)


def test_bad_input_is_still_one_line_and_writes_nothing(dbs, tmp_path):
    """The skip is for records of stories elsewhere only: a bad label in the same file stops the import."""
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"url": STORY_URL, "stance_governance": "against"}) + "\n"
                    + json.dumps({"url": "https://elsewhere.example/1", "stance_governance": "favour"}) + "\n"
                    + json.dumps({"url": STORY_URL, "stance_governance": "furious"}) + "\n")
    result = run(dbs["A"], "label", "--import", str(path))
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: ") and ":3: stance_governance label 'furious'" in line
    assert label_rows(dbs["A"]) == []


# ------------------------------------------------------------------------------------------------
# Flags in JSON are JSON booleans, in every JSON output
# ------------------------------------------------------------------------------------------------

FLAG_KEYS = ("uncertain", "human_corrected", "paywalled", "is_article")


def _flags(value, found: list) -> list:
    """Every value under a flag key (``FLAG_KEYS``, ``*_uncertain``), anywhere in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in FLAG_KEYS or key.endswith("_uncertain"):
                if isinstance(item, dict):   # tone_uncertain: {body: flag}
                    found.extend(item.values())
                elif not isinstance(item, list):   # topics_uncertain: the list of unsure topics
                    found.append(item)
            _flags(item, found)
    elif isinstance(value, list):
        for item in value:
            _flags(item, found)
    return found


def test_every_json_output_writes_flags_as_json_booleans(dbs, tmp_path):
    db = store.connect(dbs["A"])
    story = story_id(dbs["A"])
    labelling.save_labels(db, story, [("stance_governance", "", "against")], "officer")
    db.conn.close()
    outputs = {}
    outputs["export --format jsonl"] = ok(run(dbs["A"], "export", "--format", "jsonl", "--out", "-")).stdout
    outputs["label --export"] = ok(run(dbs["A"], "label", "--export", "-")).stdout
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>Barn fire</title></head><body><article><h1>Barn fire</h1>"
                    + "<p>Firefighters from HWFRS spent the night at the scene of a barn fire.</p>" * 20
                    + "</article></body></html>")
    outputs["extract"] = ok(run(dbs["A"], "extract", str(page))).stdout
    flags = {name: _flags([json.loads(line) for line in text.splitlines() if line.strip()], [])
             for name, text in outputs.items()}
    assert flags["export --format jsonl"] and flags["extract"]   # the test reads flags where there are some
    for name, values in flags.items():
        assert all(value is None or isinstance(value, bool) for value in values), (name, values)
    rows = [json.loads(line) for line in outputs["export --format jsonl"].splitlines()]
    by_id = {row["article_id"]: row for row in rows}
    assert by_id[story]["human_corrected"] is True and by_id[story]["uncertain"] is False
    assert by_id[story]["paywalled"] is False
    # CSV keeps 0/1, as docs/schema.md documents the columns
    csv_rows = {int(row["article_id"]): row for row in _csv_rows_text(
        ok(run(dbs["A"], "export", "--format", "csv", "--out", "-")).stdout)}
    assert (csv_rows[story]["human_corrected"], csv_rows[story]["uncertain"], csv_rows[story]["paywalled"]) == (
        "1", "0", "0")


def _csv_rows_text(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_analyse_text_flags_are_json_booleans():
    import pipeline
    output = pipeline.analyse_text_predictions({
        "topics": [{"label": "governance", "probability": 0.5, "uncertain": 1}],
        "stance_governance": {"label": "favour", "probability": 0.9, "uncertain": 0},
        "tone": {"hwfrs": {"label": "neutral", "probability": 0.4, "uncertain": 1}}})
    assert _flags(output, []) == [True, False, True]


def test_answers_given_in_the_same_second_keep_their_order_in_another_database(dbs, tmp_path):
    """In A, a label, its withdrawal and a new label all in one second (a script, a quick hand): each is
    stamped a second after the one before, so the times alone say which came last, and C, importing A's
    file, has what A has."""
    give(dbs["A"], "against", "officer", T1)
    ok(run(dbs["A"], "label", "--unlabel", STORY_URL, "--task", "stance_governance", "--annotator", "lead", at=T1))
    give(dbs["A"], "favour", "colleague", T1)
    assert [row[2:] for row in label_rows(dbs["A"])] == [
        ("against", "officer", T1), ("__withdrawn__", "lead", "2026-11-20T09:00:01Z"),
        ("favour", "colleague", "2026-11-20T09:00:02Z")]
    a_file = tmp_path / "a.jsonl"
    ok(run(dbs["A"], "label", "--export", str(a_file), at=T1))
    ok(run(dbs["C"], "label", "--import", str(a_file), at=T5))
    assert stance(dbs["C"]) == stance(dbs["A"]) == ("favour", 1, "favour")
    assert [row[2:] for row in label_rows(dbs["C"])] == [
        ("__withdrawn__", "lead", "2026-11-20T09:00:01Z"), ("favour", "colleague", "2026-11-20T09:00:02Z")]


def test_an_answer_given_here_after_a_label_from_a_clock_ahead_is_the_newer(dbs, tmp_path):
    """B imports a label stamped by a clock ahead of its own (11 hours: a time zone's hours written as UTC; more
    than a day ahead is refused, tests/test_hostile_files.py); a person then answers in B: the answer is
    stamped a second after it, so it stands in B and wherever B's file goes."""
    future = "2026-11-21T20:00:00Z"   # 11 hours after T2
    give(dbs["A"], "against", "officer", future)
    a_file, b_file = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    ok(run(dbs["A"], "label", "--export", str(a_file), at=future))
    ok(run(dbs["B"], "label", "--import", str(a_file), at=T2))
    give(dbs["B"], "neutral", "jsmith", "2026-11-21T09:05:00Z")
    assert label_rows(dbs["B"])[-1] == ("stance_governance", "", "neutral", "jsmith", "2026-11-21T20:00:01Z")
    ok(run(dbs["B"], "label", "--export", str(b_file), at=T3))
    for path in (a_file, b_file):
        ok(run(dbs["C"], "label", "--import", str(path), at=T5))
    ok(run(dbs["A"], "label", "--import", str(b_file), at=T5))
    assert stance(dbs["A"]) == stance(dbs["B"]) == stance(dbs["C"]) == ("neutral", 1, "neutral")
