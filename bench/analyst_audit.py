"""Time every documented analyst query on a database, and check that views answering one question agree.

Runs, read-only, each SQL example of docs/analysts.md (A1-A10, and section 3's two sqlite3 queries) and
docs/schema.md (Q1-Q18), the pandas recipe of docs/analysts.md step by step, and every canned query of
``cuttings serve`` (through Datasette, as its JSON); then counts one question several ways (stories, tone
and stance per body from entity_daily, article_summary and mentions; unsure predictions; syndicated copies;
most_quoted against quote_people; quote_people's stored rows against the rows worked out live, in a
transaction rolled back). Prints one line each, with the time (best of ``--repeat``) and the row count.

    PYTHONPATH=. .venv/bin/python bench/analyst_audit.py --db /tmp/year/year.db   # a migrated copy
"""
from __future__ import annotations

import argparse
import contextlib
import asyncio
import json
import os
import re
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuttings import serve, store  # noqa: E402

CANNED_PARAMS = {"search": ["q=fire", "q=%22fire+authority%22"],
                 "entity_coverage": ["entity=hwfrs&start=2000-01-01&end=2030-12-31",
                                     "entity=SFRS&start=2026-01-01&end=2026-12-31"],
                 "quotes_by": ["speaker=Campion"]}


def documented_queries() -> list[tuple[str, str]]:
    """(name, SQL) of every ```sql example under a ### A../Q.. heading, and section 3's SELECTs."""
    found = []
    for doc in ("analysts.md", "schema.md"):
        text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
        for heading, body in re.findall(r"^### ([AQ]\d+)\.[^\n]*\n(.*?)(?=^##|\Z)", text, re.M | re.S):
            for number, sql in enumerate(re.findall(r"```sql\n(.*?)```", body, re.S), 1):
                found.append((f"{heading}.{number}", sql.strip().rstrip(";")))
        if doc == "analysts.md":
            section = re.search(r"^## 3\. sqlite3\n(.*?)^## ", text, re.M | re.S).group(1)
            for number, sql in enumerate(re.findall(r"^(SELECT .*?);$", section, re.M), 1):
                found.append((f"sqlite3.{number}", sql))
    return found


def best(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def time_sql(db: Path, repeat: int) -> None:
    conn = store.connect_read_only(db)
    for name, sql in documented_queries():
        try:
            seconds, rows = best(lambda: conn.execute(sql).fetchall(), repeat)
            print(f"{seconds:7.3f} s  rows {len(rows):>7}  {name}{'  OVER 2 s' if seconds > 2 else ''}", flush=True)
        except sqlite3.Error as exc:
            print(f"  ERROR  {name}: {exc}", flush=True)


def time_pandas(db: Path) -> None:
    """The recipe, statement by statement (a statement may span lines), each timed once."""
    text = (ROOT / "docs" / "analysts.md").read_text(encoding="utf-8")
    recipe = re.search(r"## 4\. pandas.*?```python\n(.*?)```", text, re.S).group(1).replace("data/cuttings.db", str(db))
    import ast
    namespace: dict = {}
    for node in ast.parse(recipe).body:
        code = ast.get_source_segment(recipe, node)
        started = time.perf_counter()
        exec(compile(code, "recipe", "exec"), namespace)
        seconds = time.perf_counter() - started
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            value = namespace[node.targets[0].id]
            size = getattr(value, "shape", "")
            print(f"{seconds:7.3f} s  pandas {node.targets[0].id} {size}{'  OVER 2 s' if seconds > 2 else ''}",
                  flush=True)


def time_canned(db: Path, repeat: int) -> None:
    from datasette.app import Datasette

    async def run():
        ds = Datasette([str(db)], metadata=serve.datasette_metadata(db), settings=serve.datasette_settings(db),
                       plugins_dir=str(serve.PLUGINS_DIR), template_dir=str(serve.TEMPLATES_DIR))
        await ds.invoke_startup()
        await ds.client.get("/")
        for query in serve.canned_queries(db):
            for params in CANNED_PARAMS.get(query, [""]):
                path = f"/{db.stem}/{query}.json?_shape=objects&{params}"
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    response = await ds.client.get(path)
                    times.append(time.perf_counter() - started)
                body = response.json() if response.status_code == 200 else {}
                print(f"{min(times):7.3f} s  rows {len(body.get('rows', [])):>7}  canned {query} {params} "
                      f"{response.status_code}{' truncated' if body.get('truncated') else ''}", flush=True)

    asyncio.run(run())


def check(conn: sqlite3.Connection) -> int:
    """Count one question several ways; returns how many disagreed."""
    q = lambda sql: sorted(conn.execute(sql).fetchall())  # noqa: E731
    bad = 0

    def same(what, a, b):
        nonlocal bad
        a, b = sorted(a), sorted(b)
        bad += a != b
        print(f"{'agree   ' if a == b else 'DISAGREE'} {what}" + ("" if a == b else f": {a[:6]} vs {b[:6]}"), flush=True)

    per_body = q("SELECT entity_id, count(DISTINCT article_id) FROM mentions WHERE article_id IN "
                 "(SELECT article_id FROM article_summary) GROUP BY entity_id")
    same("stories per body: entity_daily.articles, mentions", q(
        "SELECT entity_id, sum(articles) FROM entity_daily GROUP BY entity_id"), per_body)
    same("stories per body: story_bodies (mentions > 0), mentions", q(
        "SELECT entity_id, count(*) FROM story_bodies WHERE mentions > 0 GROUP BY entity_id"), per_body)
    mentioned: dict[int, set] = {}
    for article, entity in conn.execute("SELECT DISTINCT article_id, entity_id FROM mentions"):
        mentioned.setdefault(article, set()).add(entity)
    summary = conn.execute("SELECT article_id, tone, stance FROM article_summary").fetchall()
    columns = {row[1] for row in conn.execute("PRAGMA table_info(entity_daily)")}
    for column in sorted(c for c in columns if c.startswith(("tone_", "stance_")) and c != "tone_rated"):
        kind, label = column.split("_", 1)
        if kind == "tone":
            counted = Counter(body for article, tone, _ in summary if tone for body, value in json.loads(tone).items()
                              if value == label and body in mentioned.get(article, ()))
        else:
            counted = Counter(body for article, _, stance in summary if stance == label
                              for body in mentioned.get(article, ()))
        same(f"{column} per body: entity_daily, article_summary", [row for row in q(
            f"SELECT entity_id, sum({column}) FROM entity_daily GROUP BY entity_id") if row[1]], counted.items())
    same("unsure stories: article_summary.uncertain, effective_labels", q(
        "SELECT 'stories', count(*) FROM article_summary WHERE uncertain = 1"), q(
        "SELECT 'stories', count(DISTINCT e.article_id) FROM effective_labels e JOIN article_summary s "
        "ON s.article_id = e.article_id WHERE e.uncertain = 1"))
    same("syndicated copies: article_summary, syndication", q(
        "SELECT 'copies', sum(syndicated_copies) FROM article_summary"), q(
        "SELECT 'copies', sum(copies) FROM syndication"))
    same("unsure predictions: A7's total, Q7's rows", q(
        "SELECT 'unsure', sum(unsure) FROM (" + dict(documented_queries())["A7.1"] + ")"),
        q("SELECT 'unsure', count(*) FROM (" + dict(documented_queries())["Q7.1"] + ")"))
    attention = serve.canned_queries(conn.execute("PRAGMA database_list").fetchone()[2])["critical_articles"]["sql"]
    same("stories needing attention: critical_articles uncapped, effective_labels", q(
        f"SELECT 'stories', count(*) FROM ({attention})"), q(
        "SELECT 'stories', count(DISTINCT e.article_id) FROM effective_labels e JOIN article_summary s "
        "ON s.article_id = e.article_id JOIN label_tasks t ON t.name = e.task "
        "WHERE e.label IN (SELECT value FROM json_each(coalesce(t.attention_json, '[]')))"))
    same("quotes per speaker: speaker_names.quotes, quotes", q("SELECT speaker_id, quotes FROM speaker_names"), q(
        "SELECT speaker_id, count(*) FROM quotes WHERE speaker_id IN (SELECT speaker_id FROM speaker_names) "
        "GROUP BY speaker_id"))
    same("most_quoted against quote_people grouped", q(
        "SELECT entity_id, speaker_id, quotes, stories FROM most_quoted"), q(
        "SELECT entity_id, person_id, count(*), count(DISTINCT article_id) FROM quote_people "
        "WHERE person_id IS NOT NULL AND entity_id IS NOT NULL GROUP BY entity_id, person_id"))
    same("quotes with a speaker: quotes_by_speaker, quote_people", q(
        "SELECT 'quotes', count(*) FROM quotes_by_speaker WHERE speaker IS NOT NULL"), q(
        "SELECT 'quotes', count(*) FROM quote_people"))
    stored = [tuple(map(str, row)) for row in conn.execute("SELECT * FROM quote_people")]
    stored_ranks = [tuple(map(str, row)) for row in conn.execute("SELECT * FROM most_quoted")]
    conn.execute("BEGIN")
    conn.execute("UPDATE quote_people_state SET fresh = 0")   # the view works its rows out; rolled back below
    live = [tuple(map(str, row)) for row in conn.execute("SELECT * FROM quote_people")]
    live_ranks = [tuple(map(str, row)) for row in conn.execute("SELECT * FROM most_quoted")]
    conn.execute("ROLLBACK")
    same("quote_people: stored rows, worked out live", stored, live)
    same("most_quoted: from stored rows, worked out live", stored_ranks, live_ranks)
    # article_summary's label columns (m041): every story's stored row, then none (each worked out), rolled back
    typed = ", ".join(f"{name}, typeof({name})" for name in
                      [row[1] for row in conn.execute("PRAGMA table_info(article_summary)")])
    summary_sql = f"SELECT {typed}, json_object('tone', tone) FROM article_summary ORDER BY article_id"
    stored = conn.execute(summary_sql).fetchall()
    conn.execute("BEGIN")
    conn.execute("DELETE FROM article_labels_stored")
    live = conn.execute(summary_sql).fetchall()
    conn.execute("ROLLBACK")
    same("article_summary: stored label columns, worked out live", stored, live)
    return bad


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a migrated database (the checks roll back their write)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", choices=("sql", "pandas", "canned", "checks"), action="append")
    args = parser.parse_args(argv)
    only = args.only or ("sql", "pandas", "canned", "checks")
    with contextlib.closing(store.connect_read_only(args.db)) as conn:
        _applied, pending = store.migration_status(conn)
    if pending:   # this code's views and tables: the audit writes nothing, so it does not migrate the file
        parser.error(f"{args.db} is not migrated ({len(pending)} pending, from {pending[0]}): "
                     f"run `cuttings --db {args.db} db stats` on it (or a copy) first")
    print(f"# {args.db}, sqlite {sqlite3.sqlite_version}, load {os.getloadavg()}", flush=True)
    bad = 0
    if "sql" in only:
        time_sql(args.db, args.repeat)
    if "pandas" in only:
        time_pandas(args.db)
    if "canned" in only:
        time_canned(args.db, args.repeat)
    if "checks" in only:
        conn = sqlite3.connect(args.db, isolation_level=None)
        try:
            bad = check(conn)
        finally:
            conn.close()
    print(f"# load {os.getloadavg()}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
