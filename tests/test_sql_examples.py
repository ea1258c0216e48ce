"""Every ```sql block of docs/schema.md runs against the sample database and the demo
database (or the file CUTTINGS_EXAMPLES_DB names), and several
return exactly the rows the sample data implies. Also: the generated reference
section of docs/schema.md matches cuttings/serve.py and the schema."""
from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest

from cuttings import serve
from tests.report_fixtures import HOSTILE_TITLE, build_sample_db

SCHEMA_DOC = Path(__file__).resolve().parent.parent / "docs" / "schema.md"
_BLOCK = re.compile(r"^### (Q\d+)\.[^\n]*\n+```sql\n(.*?)```", re.M | re.S)


def examples() -> dict[str, str]:
    found = dict(_BLOCK.findall(SCHEMA_DOC.read_text(encoding="utf-8")))
    all_blocks = re.findall(r"```sql\n", SCHEMA_DOC.read_text(encoding="utf-8"))
    assert len(found) == len(all_blocks), "every sql block must follow a '### Qn.' heading"
    return found


EXAMPLES = examples()


def test_at_least_ten_examples():
    assert len(EXAMPLES) >= 10


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("sql") / "sample.db"
    build_sample_db(path).close()
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def _rows(conn, key):
    return [dict(row) for row in conn.execute(EXAMPLES[key])]


@pytest.mark.parametrize("key", sorted(EXAMPLES, key=lambda k: int(k[1:])))
def test_example_runs_on_sample(sample, key):
    rows = _rows(sample, key)
    if key != "Q6":  # Q6 is relative to today's date
        assert rows, f"{key} returned no rows on the sample database"


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(EXAMPLES, key=lambda k: int(k[1:])))
def test_example_runs_on_demo_database(demo_db, key):
    """Every documented example runs on the demo database (or CUTTINGS_EXAMPLES_DB if set)."""
    path = os.environ.get("CUTTINGS_EXAMPLES_DB") or demo_db
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(EXAMPLES[key]).fetchall()
    finally:
        conn.close()
    if key in ("Q1", "Q2", "Q3", "Q8"):  # coverage, outlets, Campion quotes, syndicated copies exist in the demo
        assert rows, f"{key} returned no rows on the demo database"


def test_expected_rows(sample):
    assert [(r["outlet"], r["articles"]) for r in _rows(sample, "Q2")] == [
        ("Shropshire Star", 6), ("Hereford Times", 1)]
    assert [r["quote"] for r in _rows(sample, "Q3")] == [
        "A single governance body would save money and put the public first.",
        "This is about a better service for every community in Herefordshire and Worcestershire.",
        "I will listen to every view before any decision is made."]
    assert [(r["headline_before"], r["headline_after"]) for r in _rows(sample, "Q5")] == [
        ("Shared HQ plan for fire and police", "Fire and police alliance: shared headquarters plan")]
    assert [(r["task"], r["target"]) for r in _rows(sample, "Q7")] == [
        ("tone", "sfrs"), ("tone", "wm_pcc"), ("stance_governance", "")]
    assert [(r["first_outlet"], r["copy_outlet"]) for r in _rows(sample, "Q8")] == [
        ("Hereford Times", "Worcester News"), ("Shropshire Star", "Hereford Times")]
    assert {r["title"] for r in _rows(sample, "Q9")} == {
        "Fire and police alliance: shared headquarters plan", "West Mercia Police and PCC launch rural crime fund"}
    assert [(r["source_id"], r["kind"], r["errors"]) for r in _rows(sample, "Q11")] == [
        ("shropshire_star", "extract", 1), ("shropshire_star", "http", 1)]
    assert [(r["predicted"], r["decided"]) for r in _rows(sample, "Q12")] == [("neutral", "against")]
    assert [(r["journalist"], r["articles"]) for r in _rows(sample, "Q16")] == [("Jane Doe", 2), ("Tom Price", 1)]
    mentions = _rows(sample, "Q14")
    assert len(mentions) == 12 and all(r["at_offsets"] == r["surface"] for r in mentions)
    tone = {r["month"]: (r["positive"], r["neutral"], r["negative"]) for r in _rows(sample, "Q10")}
    assert tone == {"2026-10": (0, 2, 0), "2026-11": (1, 3, 1)}
    hostile = sample.execute("SELECT title FROM article_summary WHERE topics = 'workforce'").fetchone()
    assert hostile["title"] == HOSTILE_TITLE


def test_generated_reference_is_current():
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    assert serve.schema_reference_markdown() in text, (
        "docs/schema.md is out of date: run "
        "python -c \"from cuttings.serve import update_schema_doc; update_schema_doc()\"")
