"""`cuttings label --import` reads a label file a line at a time (carried from session 20: "a label file is held
in memory at about 4 times its size": the file's text, its list of lines and every parsed record, all at once).

Each record is checked, then written, in one transaction: a bad line rolls back what the lines before it wrote, so
nothing is stored, and it is one error line naming the file and the line, exit 1. Figures: docs/benchmarks.md
("A label file read a line at a time"), `python bench/label_import_memory.py`.
"""
from __future__ import annotations

import json
import tracemalloc

from click.testing import CliRunner

from cuttings import labelling, store
from tests.test_label import cli_group, make_db

TASKS = labelling.load_label_tasks()
STORIES = ["confident", "flagged", "middling"]


def _labels(path) -> list[tuple]:
    db = store.connect(path)
    try:
        return db.execute("SELECT * FROM labels ORDER BY id").fetchall()
    finally:
        db.conn.close()


def _records(count: int) -> list[bytes]:
    """``count`` records labelling the stories of tests/test_label.py in turn, each story its own stance."""
    stances = ["favour", "against", "neutral"]
    return [json.dumps({"url": f"https://news.example/{STORIES[n % 3]}", "stance_governance": stances[n % 3],
                        "annotator": "akhan"}).encode() for n in range(count)]


def _import(db_path, path, *extra, input=None):
    return CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", str(path), *extra],
                              input=input)


def test_a_line_that_is_not_utf8_is_named_and_nothing_is_written(tmp_path):
    db_path = tmp_path / "cuttings.db"
    make_db(db_path)
    before = _labels(db_path)
    path = tmp_path / "labels.jsonl"
    lines = _records(3)
    lines[2] = lines[2].replace(b"akhan", b"Ren\xe9e")   # latin-1, on the third line, after two that write
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = _import(db_path, path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: {path}:3: not UTF-8 text: 'utf-8' codec can't decode byte 0xe9 in position 90: invalid "
        "continuation byte"]
    assert _labels(db_path) == before
    # standard input alike
    result = _import(db_path, "-", input=path.read_bytes())
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith("Error: <stdin>:3: not UTF-8 text: ")
    assert _labels(db_path) == before


def test_a_bad_line_after_lines_that_wrote_rolls_them_back(tmp_path):
    """The records before the bad line are written as they are read; the error rolls them back."""
    db_path = tmp_path / "cuttings.db"
    make_db(db_path)
    before = _labels(db_path)
    path = tmp_path / "labels.jsonl"
    path.write_bytes(b"\n".join(_records(200)) + b'\n{"url": "https://news.example/flagged", "stance_governance": '
                                                  b'"maybe"}\n' + b"\n".join(_records(3)) + b"\n")
    result = _import(db_path, path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"Error: {path}:201: stance_governance label 'maybe' is not in the scheme "
                                          "(favour, against, neutral, none)"]
    assert _labels(db_path) == before
    path.write_bytes(b"\n".join(_records(200)) + b"\n{broken\n")
    result = _import(db_path, path)
    assert result.exit_code == 1 and len(result.output.splitlines()) == 1
    assert result.output.startswith(f"Error: {path}:201: invalid JSON: ")
    assert _labels(db_path) == before
    # the good lines alone import
    path.write_bytes(b"\n".join(_records(200)) + b"\n")
    result = _import(db_path, path)
    assert result.exit_code == 0, result.output
    assert "200 records" in result.output
    db = store.connect(db_path)
    stances = {url.rsplit("/", 1)[1].split("?")[0]: stance for url, stance in db.execute(
        "SELECT url, stance FROM article_summary WHERE human_corrected = 1")}
    db.conn.close()
    assert stances == {"confident": "favour", "flagged": "against", "middling": "neutral"}


def test_the_file_is_not_held_in_memory(tmp_path):
    """Python's peak allocation while importing 4 MB of records naming no article here (a corpus file, another
    team's export): a record's worth, not the file's (it was some 4 times the file: text, lines, records)."""
    db_path = tmp_path / "cuttings.db"
    make_db(db_path)
    body = "Crews attended a fire at a barn near the town. " * 90
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for n in range(1000):
            out.write(json.dumps({"url": f"https://elsewhere.example/{n}", "title": f"Story {n}", "body": body,
                                  "stance_governance": "neutral"}) + "\n")
    size = path.stat().st_size
    assert size > 4_000_000
    db = store.connect(db_path)
    tracemalloc.start()
    try:
        summary = labelling.import_labels(db, path, TASKS, "ana")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        db.conn.close()
    assert summary.records == 1000 and len(summary.unmatched_lines) == 1000
    assert peak < size / 10, f"peak {peak:,} bytes for a file of {size:,}"
