"""Export of article_summary with filters; hostile text survives as data."""
from __future__ import annotations

import csv
import io
import json

import pytest

from cuttings import export
from tests.report_fixtures import HOSTILE_TITLE, build_sample_db


@pytest.fixture()
def db(tmp_path):
    database = build_sample_db(tmp_path / "sample.db")
    yield database
    database.close()


def _csv(db, **filters):
    out = io.StringIO()
    count = export.export_summary(db, out, fmt="csv", **filters)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == count
    return rows


def test_csv_all_stories_without_copies(db):
    rows = _csv(db)
    assert len(rows) == 18  # 20 articles, 2 syndicated copies folded in
    assert list(rows[0]) == [row[1] for row in db.execute("PRAGMA table_info(article_summary)")] + ["quotes", "labelled_at"]
    dates = [row["published_at"] for row in rows]
    assert dates == sorted(dates)


def test_time_bounds_with_an_offset_or_a_space_mean_the_same_moment(db):
    """The stored times are UTC; a bound written with an offset or a space is that moment in UTC."""
    latest = max(r["published_at"] for r in _csv(db) if r["published_at"] and len(r["published_at"]) == 20)
    day, clock = latest[:10], latest[11:16]
    hour, minute = int(clock[:2]), int(clock[3:])
    ahead = f"{day}T{hour + 1:02d}:{minute:02d}:00+01:00"  # the same moment, written an hour ahead
    same = [r["published_at"] for r in _csv(db, since=latest)]
    assert latest in same and [r["published_at"] for r in _csv(db, since=ahead)] == same
    assert latest in [r["published_at"] for r in _csv(db, until=ahead)]
    later = f"{day} {hour:02d}:{minute + 1:02d}" if minute < 59 else None
    if later:  # a space between date and time, a minute after: the story is before it
        assert latest not in [r["published_at"] for r in _csv(db, since=later)]
    with pytest.raises(export.ExportError, match="since: not a date or time"):
        _csv(db, since="yesterday")


def test_filters(db):
    assert {r["title"] for r in _csv(db, entity="sfrs", stance="against")} == {
        "Councillors oppose PCC bid to run Shropshire fire service", "Fire chiefs warn over commissioner's plans"}
    assert {r["title"] for r in _csv(db, topic="finance", until="2026-11-10")} == {
        "Fire authority sets out savings plan for next year", "Fire and police alliance: shared headquarters plan"}
    window = _csv(db, since="2026-11-23", until="2026-11-23")
    assert len(window) == 6 and all(r["published_at"].startswith("2026-11-23") for r in window)
    assert _csv(db, entity="wm_pcc", topic="governance", stance="favour", since="2026-11-01")[0]["title"] == \
        "Campion defends fire takeover plan at public meeting"
    # a filter value is data, never SQL
    assert _csv(db, entity="x' OR '1'='1") == []
    with pytest.raises(export.ExportError, match="stance"):
        _csv(db, stance="hostile")
    with pytest.raises(export.ExportError, match="format"):
        export.export_summary(db, io.StringIO(), fmt="pdf")
    with pytest.raises(export.ExportError, match="--out"):
        export.export_summary(db, io.StringIO(), fmt="xlsx")


def test_hostile_title_round_trips(db, tmp_path):
    csv_path, jsonl_path = tmp_path / "out.csv", tmp_path / "out.jsonl"
    export.export_summary(db, csv_path, fmt="csv", entity="hwfrs", topic="workforce")
    with csv_path.open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["title"] == HOSTILE_TITLE
    assert export.export_summary(db, jsonl_path, fmt="jsonl", entity="hwfrs", topic="workforce") == 1
    record = json.loads(jsonl_path.read_text(encoding="utf-8"))
    assert record["title"] == HOSTILE_TITLE
    assert record["tone"] == {"hwfrs": "negative"} and record["topics"] == ["workforce"]
    assert record["entities"] == ["hwfrs"]


@pytest.mark.parametrize("title", ['=HYPERLINK("http://evil.example","Fire chief quits")', "+44 fire calls",
                                   "-5 engines", "@SUM(A1)", "\t=1+1",
                                   # fullwidth (NFKC: = + - @), past spaces and invisible characters
                                   '\uff1dHYPERLINK("http://evil.example","x")', "\uff0b1+1", "\uff0d1+1", "\uff20SUM(A1)",
                                   "\ufe66cmd", "  =1+1", "\u00a0=1+1", "\u200b=1+1", "\ufeff\u200e\uff1d1+1"])
def test_csv_guards_formulas_and_jsonl_keeps_them(db, tmp_path, title):
    article_id = db.execute("SELECT id FROM articles WHERE duplicate_of IS NULL ORDER BY id LIMIT 1").fetchone()[0]
    with db.atomic():
        db.execute("UPDATE articles SET title = ? WHERE id = ?", [title, article_id])
    rows = {row["title"] for row in _csv(db)}
    assert "'" + title in rows and title not in rows
    raw = io.StringIO()
    export.export_summary(db, raw, fmt="csv", guard_formulas=False)
    assert title in {row["title"] for row in csv.DictReader(io.StringIO(raw.getvalue()))}
    jsonl = io.StringIO()
    export.export_summary(db, jsonl, fmt="jsonl")
    assert title in {json.loads(line)["title"] for line in jsonl.getvalue().splitlines()}


def test_csv_guard_leaves_numbers_and_plain_text():
    assert export.guard_formula(-5) == -5
    assert export.guard_formula(2.5) == 2.5
    assert export.guard_formula(None) is None
    assert export.guard_formula("Fire chief quits") == "Fire chief quits"
    for text in ("\uff21 fullwidth letter first", "\u200bZero-width first", "  Spaces first", "A = B", "Q&A: @ the fire",
                 "\u2212 a minus sign is text"):
        assert export.guard_formula(text) == text


def test_exports_say_which_verdicts_are_unsure(db, tmp_path):
    """Per-task uncertainty travels from the classifications to article_summary and both export formats."""
    expected = {}
    for article_id, task, target in db.execute(
            "SELECT article_id, task, target FROM effective_labels WHERE uncertain = 1"):
        expected.setdefault(article_id, set()).add((task, target))
    assert expected, "the sample database has unsure predictions"
    jsonl_path = tmp_path / "out.jsonl"
    export.export_summary(db, jsonl_path, fmt="jsonl")
    records = [json.loads(line) for line in jsonl_path.read_text(encoding="utf-8").splitlines()]
    for record in records:
        unsure = expected.get(record["article_id"], set())
        assert record["stance_uncertain"] == (("stance_governance", "") in unsure)
        assert {e for e, flag in record["tone_uncertain"].items() if flag} == {t for k, t in unsure if k == "tone"}
        assert set(record["tone_uncertain"]) == set(record["tone"])
        assert record["uncertain"] == int(bool(unsure))
    assert any(record["stance_uncertain"] for record in records)
    rows = {int(row["article_id"]): row for row in _csv(db)}
    assert {a for a, row in rows.items() if row["stance_uncertain"] == "1"} == {
        a for a, unsure in expected.items() if ("stance_governance", "") in unsure and a in rows}


def test_every_export_help_example_finds_stories_in_the_demo_database(demo_db, tmp_path, monkeypatch):
    """`cuttings export --help`'s examples, and docs/analysts.md's, name the shipped watchlist's and scheme's names
    and the demo's years: each, with --db the demo's database, exports at least one story (on 9410ebd their
    --since 2026-11-01 examples exported 0, the demo's stories being published 1995 to 2026-02). The help's one
    for a team's own scheme is left out."""
    import re
    from pathlib import Path

    from tests.conftest import invoke_cli
    from tests.test_cli import help_examples

    monkeypatch.chdir(tmp_path)  # the examples' --out files
    examples = help_examples(invoke_cli("export", "--help").stdout.decode())
    assert len(examples) == 4
    analysts = (Path(__file__).resolve().parent.parent / "docs" / "analysts.md").read_text(encoding="utf-8")
    in_docs = help_examples("Example:\n" + "".join(f"  {line}\n" for line in re.findall(r"^cuttings export .*$",
                                                                                          analysts, re.M)))
    assert len(in_docs) == 6
    examples += in_docs
    checked = 0
    for words in examples:
        if "--scheme" in words:
            continue
        result = invoke_cli("--db", str(demo_db), *words)
        said = result.stderr.decode().strip()
        assert result.returncode == 0, said
        count = int(said.removeprefix("exported ").split()[0])
        assert count > 0, f"cuttings {' '.join(words)}: {said}"
        checked += 1
    assert checked == 9 and (tmp_path / "pcc.csv").exists()
