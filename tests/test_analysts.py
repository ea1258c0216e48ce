"""Every analyst question of docs/analysts.md runs against the demo database (and the sample database),
each answer checked against the base tables; the documented pandas recipe loads every date; exports
carry quotes; the XLSX export holds real dates and never a formula."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from cuttings import export, store
from tests.report_fixtures import HOSTILE_TITLE, build_sample_db

DOC = Path(__file__).resolve().parent.parent / "docs" / "analysts.md"
_QUESTION = re.compile(r"^### (A\d+)\.[^\n]*\n(?:(?!^###).)*?```sql\n(.*?)```", re.M | re.S)
QUESTIONS = dict(_QUESTION.findall(DOC.read_text(encoding="utf-8")))
RECIPE = re.search(r"## 4\. pandas.*?```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)


def test_the_eight_questions_and_more_are_documented():
    assert [f"A{n}" for n in range(1, 11)] == sorted(QUESTIONS, key=lambda key: int(key[1:]))


def _ask(conn, key):
    return [dict(row) for row in conn.execute(QUESTIONS[key])]


def _one(conn, sql, params=()):
    return conn.execute(sql, params).fetchone()[0]


def check_answers(conn: sqlite3.Connection) -> None:
    """Each question's answer against the base tables (whatever the database holds)."""
    # A1: every negative tone label, human labels winning
    rows = _ask(conn, "A1")
    predicted = _one(conn, "SELECT count(*) FROM classifications c JOIN articles a ON a.id = c.article_id "
                           "AND a.duplicate_of IS NULL WHERE c.task = 'tone' AND c.label = 'negative' AND NOT EXISTS "
                           "(SELECT 1 FROM labels l WHERE l.article_id = c.article_id AND l.task = 'tone' "
                           "AND l.target = c.target)")
    human = _one(conn, "SELECT count(*) FROM labels l JOIN articles a ON a.id = l.article_id AND a.duplicate_of IS NULL "
                       "WHERE l.task = 'tone' AND l.label = 'negative' AND l.id = (SELECT max(id) FROM labels x "
                       "WHERE x.article_id = l.article_id AND x.task = 'tone' AND x.target = l.target)")
    assert len(rows) == predicted + human > 0
    assert all(row["body"] and (row["human"] or row["probability"] is not None) for row in rows)
    # A2: the most quoted people per body, counts as in the quotes table
    rows = _ask(conn, "A2")
    assert rows
    # (a person's quotes: each quote_people row of theirs, a title and surname joined to the full name)
    person_quotes = ("SELECT {} FROM quote_people p JOIN entities e ON e.id = p.entity_id "
                     "WHERE coalesce(e.display_name, e.name) = ? AND p.person_id {}")
    for row in rows[:6]:
        assert row["speaker_id"] is not None   # descriptions do not rank
        direct = _one(conn, person_quotes.format("count(*)", "= ?"), [row["body"], row["speaker_id"]])
        assert row["quotes"] == direct
    top = {}
    for row in rows:
        top.setdefault(row["body"], row)
    for body, row in top.items():
        best = _one(conn, "SELECT max(n) FROM (" + person_quotes.format("count(*) AS n", "IS NOT NULL")
                    + " GROUP BY p.person_id)", [body])
        assert row["quotes"] == best
    # every quote of a body is counted once: by a person in most_quoted, or as a description
    for body in top:
        people = _one(conn, "SELECT sum(quotes) FROM most_quoted WHERE body = ?", [body])
        described = _one(conn, person_quotes.format("count(*)", "IS NULL"), [body])
        assert people + described == _one(conn, "SELECT count(*) FROM quotes_by_speaker WHERE body = ? "
                                                "AND speaker IS NOT NULL", [body])
    # A3: syndicated stories = originals with copies; outlets listed
    rows = _ask(conn, "A3")
    assert len(rows) == _one(conn, "SELECT count(DISTINCT duplicate_of) FROM articles WHERE duplicate_of IS NOT NULL") > 0
    assert all(row["n_outlets"] >= 1 and row["outlets"] and row["first_seen_at"] <= row["last_seen_at"] for row in rows)
    assert all(len(row["outlets"].split(", ")) == row["n_outlets"] for row in rows)
    # A4: per month coverage sums to the daily view; unrated bodies have NULL tone, rated ones numbers
    rows = _ask(conn, "A4")
    assert sum(row["stories"] for row in rows) == _one(conn, "SELECT sum(articles) FROM entity_daily")
    rated = {row[0] for row in conn.execute("SELECT DISTINCT target FROM classifications WHERE task = 'tone' "
                                            "UNION SELECT target FROM labels WHERE task = 'tone'")}
    for row in rows:
        if row["entity_id"] in rated:
            assert row["tone_rated"] == 1 and row["negative"] is not None
        else:
            assert row["tone_rated"] == 0 and row["negative"] is None and row["positive"] is None
    # A5: shares add up to 100
    rows = _ask(conn, "A5")
    assert abs(sum(row["share_pct"] for row in rows) - 100) < 0.5 and all(row["body"] for row in rows)
    # A6: the PCC's quotes
    rows = _ask(conn, "A6")
    assert sum(row["quotes"] for row in rows) == _one(conn, "SELECT count(*) FROM quotes_by_speaker "
                                                           "WHERE entity_id = 'wm_pcc' AND speaker IS NOT NULL") > 0
    # A7: unsure labels
    rows = _ask(conn, "A7")
    assert sum(row["unsure"] for row in rows) == _one(conn, "SELECT count(*) FROM effective_labels WHERE uncertain = 1")
    # A8: every prediction's model is recorded in `models`
    rows = _ask(conn, "A8")
    assert rows and all(row["n_examples"] and row["trained_at"] for row in rows), rows
    assert sum(row["predictions"] for row in rows) == _one(conn, "SELECT count(*) FROM classifications")
    # A9: every story counted once; precision is day or second
    rows = _ask(conn, "A9")
    assert sum(row["stories"] for row in rows) == _one(conn, "SELECT count(*) FROM articles WHERE duplicate_of IS NULL")
    assert {row["precision"] for row in rows} <= {"day", "second", "unknown"}
    # A10: breaking outlets
    rows = _ask(conn, "A10")
    assert sum(row["copies_elsewhere"] for row in rows) == _one(conn, "SELECT count(*) FROM articles "
                                                                      "WHERE duplicate_of IS NOT NULL")


def run_recipe(db_path: Path) -> dict:
    """The documented pandas recipe, on ``db_path``; returns its variables."""
    pytest.importorskip("pandas")
    namespace: dict = {}
    exec(compile(RECIPE.replace("data/cuttings.db", str(db_path)), "analysts.md recipe", "exec"), namespace)
    return namespace


def check_recipe(db_path: Path) -> None:
    import pandas as pd

    series_made = []

    class CountedSeries(pd.Series):
        def __init__(self, data=None, *args, **kwargs):
            if isinstance(data, dict):   # a story's tone object (pandas' own Series here are of arrays)
                series_made.append(1)
            super().__init__(data, *args, **kwargs)

    real_series = pd.Series
    pd.Series = CountedSeries   # what the recipe's own code names pd.Series
    try:
        found = run_recipe(db_path)
    finally:
        pd.Series = real_series
    stories, tone = found["stories"], found["tone"]
    # the tone frame: one row per story, one column per body rated, each cell the story's tone towards it
    # (NaN: not rated), built from the list of objects: .apply(pd.Series) made a Series per story (8.8 s at
    # 50,000 stories, docs/benchmarks.md, "An analyst's audit at a year's size")
    assert not series_made, f"the recipe built {len(series_made)} Series of a tone object for {len(stories)} stories"
    assert list(tone.index) == list(stories.index)
    objects = [json.loads(text) if text else {} for text in stories["tone"]]
    assert set(tone.columns) == {body for obj in objects for body in obj}
    for position, obj in enumerate(objects):
        row = tone.iloc[position]
        assert {body: value for body, value in row.items() if isinstance(value, str)} == obj
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        for frame_name, view, columns in (
                ("stories", "article_summary", found["DATES"]),
                ("quotes", "quotes_by_speaker", ["published_at"]),
                ("most_quoted", "most_quoted WHERE rank <= 3", ["first_quoted", "last_quoted"]),
                ("syndicated", "syndication", ["published_at", "first_seen_at", "last_seen_at"])):
            frame = found[frame_name]
            assert len(frame) == _one(conn, f"SELECT count(*) FROM {view}")
            for column in columns:
                assert pd.api.types.is_datetime64_any_dtype(frame[column]), (frame_name, column)
                stored = _one(conn, f"SELECT count({column}) FROM {view}")
                assert frame[column].notna().sum() == stored, (frame_name, column)  # no date lost
        raw_dates = _one(conn, "SELECT count(*) FROM articles WHERE duplicate_of IS NULL AND published_at IS NOT NULL")
        assert found["stories"]["published_at"].notna().sum() == raw_dates  # every stored date survives
        day_only = _one(conn, "SELECT count(*) FROM articles WHERE duplicate_of IS NULL AND length(published_at) = 10")
        assert len(found["day_only"]) == day_only
        assert found["weekly"].to_numpy().sum() == _one(conn, "SELECT sum(articles) FROM entity_daily")
        assert set(found["bodies"]["body"].dropna()) <= {row[0] for row in conn.execute(
            "SELECT coalesce(display_name, name) FROM entities")}
    finally:
        conn.close()


# --------------------------------------------------------------------------
# On the sample database (fast) and the demo database (slow)
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("analysts") / "sample.db"
    build_sample_db(path).close()
    return path


def test_questions_on_sample(sample):
    conn = sqlite3.connect(sample)
    conn.row_factory = sqlite3.Row
    try:
        check_answers(conn)
        top = {}
        for row in _ask(conn, "A2"):
            top.setdefault(row["body"], row["speaker"])
        assert top["PCC"] == "Mr Campion"
    finally:
        conn.close()


def test_pandas_recipe_on_sample_loads_every_date(sample):
    check_recipe(sample)


@pytest.mark.slow
def test_questions_on_demo_database(demo_db):
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        check_answers(conn)
        top = {}
        for row in _ask(conn, "A2"):  # ordered by body, rank: the first row of a body is its most quoted
            top.setdefault(row["body"], row["speaker"])
        assert "Campion" in top["PCC"]
    finally:
        conn.close()


@pytest.mark.slow
def test_pandas_recipe_on_demo_database_loads_every_date(demo_db):
    check_recipe(demo_db)


# --------------------------------------------------------------------------
# Exports with quotes, XLSX
# --------------------------------------------------------------------------

def test_exports_carry_quotes(sample, tmp_path):
    db = store.connect(sample, create=False)
    try:
        out = tmp_path / "stories.jsonl"
        export.export_summary(db, out, fmt="jsonl", entity="wm_pcc")
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        with_quotes = {row["title"]: row["quotes"] for row in rows if row["quotes"]}
        expected = {row[0] for row in db.execute(
            "SELECT DISTINCT s.title FROM article_summary s JOIN quotes q ON q.article_id = s.article_id "
            "WHERE s.article_id IN (SELECT article_id FROM mentions WHERE entity_id = 'wm_pcc')")}
        assert set(with_quotes) == expected and expected
        speakers = {quote["speaker"] for quotes in with_quotes.values() for quote in quotes}
        assert "Mr Campion" in speakers and all({"speaker", "entity_id", "text"} <= set(q) for qs in with_quotes.values()
                                                for q in qs)
    finally:
        db.close()


def test_xlsx_export_has_stories_quotes_syndication_real_dates_and_no_formulas(sample, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    db = store.connect(sample, create=False)
    try:
        with db.atomic():
            db.execute("UPDATE articles SET title = ? WHERE id = (SELECT min(id) FROM articles WHERE duplicate_of IS NULL)",
                       ['=HYPERLINK("http://evil.invalid","click")'])
        path = tmp_path / "out.xlsx"
        count = export.export_summary(db, path, fmt="xlsx")
        stories = db.execute("SELECT count(*) FROM article_summary").fetchone()[0]
        quotes = db.execute("SELECT count(*) FROM quotes_by_speaker").fetchone()[0]
        syndicated = db.execute("SELECT count(*) FROM syndication").fetchone()[0]
    finally:
        db.close()
    assert count == stories
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["stories", "quotes", "syndication"]
    assert book["stories"].max_row == stories + 1 and book["quotes"].max_row == quotes + 1
    assert book["syndication"].max_row == syndicated + 1
    header = [cell.value for cell in book["stories"][1]]
    published = header.index("published_at")
    values = [row[published].value for row in book["stories"].iter_rows(min_row=2)]
    assert all(value is None or value.__class__.__name__ == "datetime" for value in values)
    titles = [row[header.index("title")] for row in book["stories"].iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in titles)
    assert '=HYPERLINK("http://evil.invalid","click")' in [cell.value for cell in titles]
    assert HOSTILE_TITLE in [cell.value for cell in titles]


def test_export_command_writes_xlsx_and_refuses_stdout(sample, tmp_path):
    from tests.conftest import run_cli

    out = tmp_path / "stories.xlsx"
    done = run_cli("--db", str(sample), "export", "--format", "xlsx", "--entity", "wm_pcc", "--out", str(out))
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_bytes()[:2] == b"PK" and "exported" in done.stderr.decode()
    refused = run_cli("--db", str(sample), "export", "--format", "xlsx")
    assert refused.returncode != 0 and "--out" in refused.stderr.decode()
    assert len(refused.stderr.decode().strip().splitlines()) == 1
