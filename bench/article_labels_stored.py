"""article_summary's label columns stored per story (m041): the same rows as before, and what reading and writing cost.

Two copies of one database, BEFORE at m040 (its article_summary works every story's labels out) and AFTER migrated by
this tree (m041, every story's row stored):

    PYTHONPATH=. python bench/article_labels_stored.py BEFORE AFTER --same       # EXCEPT both ways: values, types, JSON
    PYTHONPATH=. python bench/article_labels_stored.py BEFORE AFTER --reads      # statements, alternated, medians
    PYTHONPATH=. python bench/article_labels_stored.py BEFORE AFTER --writes 300 # a night's predictions written again
    PYTHONPATH=. python bench/article_labels_stored.py BEFORE AFTER --columns    # each column read alone, both copies

--writes rewrites the predictions of the N newest stories (delete, then insert the same rows, as the classify stage's
store.replace_classifications does) in a transaction rolled back, alternated between the copies; on AFTER it then
stores those stories' rows again (store.refresh_article_labels), also rolled back. Neither copy is changed.
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuttings import serve, store  # noqa: E402

BODY = "HWFRS"
BODY_IDS = ("SELECT m.article_id FROM mentions m WHERE m.entity_id IN (SELECT en.id FROM entities en "
            f"WHERE coalesce(en.display_name, en.name, en.id) = '{BODY}')")


def statements(db: Path) -> list[tuple[str, str]]:
    """What reads article_summary: the pandas recipe's full read, Datasette's count and facets of the page with a
    body chosen (as cuttings.browse seeks the body's stories), its rows, the critical_articles canned query, one
    story."""
    chosen = (f"'{BODY}' IN (SELECT value FROM json_each(article_summary.bodies)) AND article_id IN ({BODY_IDS})")
    inner = f"SELECT * FROM article_summary WHERE {chosen}"
    facet = ("SELECT {0} AS value, count(*) AS count FROM ({1}) WHERE {0} IS NOT NULL GROUP BY {0} "
             "ORDER BY count DESC, value LIMIT 31")
    return [
        ("full read (SELECT *)", "SELECT * FROM article_summary"),
        ("count, every story", "SELECT count(*) FROM article_summary"),
        ("count, a body chosen", f"SELECT count(*) FROM article_summary WHERE {chosen}"),
        ("facet outlet, a body chosen", facet.format("outlet", inner)),
        ("facet stance, a body chosen", facet.format("stance", inner)),
        ("facet uncertain, a body chosen", facet.format("uncertain", inner)),
        ("rows, a body chosen (101 newest)", f"{inner} ORDER BY published_at DESC LIMIT 101"),
        ("canned critical_articles", serve.canned_queries(db)["critical_articles"]["sql"]),
        ("one story", "SELECT * FROM article_summary WHERE article_id = (SELECT max(article_id) FROM article_summary)"),
    ]


def connect(path: Path, writable: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None) if writable else \
        sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def same(before: Path, after: Path) -> int:
    conn = connect(after)
    conn.execute("ATTACH ? AS b", [f"{before.resolve().as_uri()}?mode=ro"])
    columns = [row[1] for row in conn.execute("PRAGMA main.table_info(article_summary)")]
    bad = columns != [row[1] for row in conn.execute("PRAGMA b.table_info(article_summary)")]
    typed = ", ".join(f"{name}, typeof({name})" for name in columns)
    for what, select in (("values", "*"), ("values and types", typed),
                         ("tone as JSON", "article_id, json_object('tone', tone, 'tone_uncertain', tone_uncertain)")):
        rows = conn.execute("SELECT count(*) FROM main.article_summary").fetchone()[0]
        new = conn.execute(f"SELECT count(*) FROM (SELECT {select} FROM main.article_summary "
                           f"EXCEPT SELECT {select} FROM b.article_summary)").fetchone()[0]
        old = conn.execute(f"SELECT count(*) FROM (SELECT {select} FROM b.article_summary "
                           f"EXCEPT SELECT {select} FROM main.article_summary)").fetchone()[0]
        bad += new + old
        print(f"{what}: {rows} rows; after EXCEPT before {new}, before EXCEPT after {old}")
    stored = conn.execute("SELECT count(*) FROM article_labels_stored").fetchone()[0]
    print(f"stored rows in AFTER: {stored}")
    return bad


def reads(before: Path, after: Path, repeat: int) -> None:
    conns = [connect(before), connect(after)]
    print(f"# load {os.getloadavg()}; {repeat} alternated runs, median (min)", flush=True)
    for name, sql in statements(before):
        times: list[list[float]] = [[], []]
        for _ in range(repeat):
            for side, conn in enumerate(conns):
                started = time.perf_counter()
                rows = conn.execute(sql).fetchall()
                times[side].append(time.perf_counter() - started)
        print(f"{name:34s} {1000 * statistics.median(times[0]):8.1f} ms ({1000 * min(times[0]):.1f}) -> "
              f"{1000 * statistics.median(times[1]):8.1f} ms ({1000 * min(times[1]):.1f})  rows {len(rows)}", flush=True)
    print(f"# load {os.getloadavg()}")


def columns(before: Path, after: Path, repeat: int) -> None:
    """Where a full read's time goes: ``SELECT article_id, <column>`` for each column, alternated, medians."""
    conns = [connect(before), connect(after)]
    print(f"# load {os.getloadavg()}; each column with article_id, {repeat} alternated runs, median", flush=True)
    names = [row[1] for row in conns[0].execute("PRAGMA table_info(article_summary)")]
    for name in ["article_id", *names[1:]]:
        times: list[list[float]] = [[], []]
        for _ in range(repeat):
            for side, conn in enumerate(conns):
                started = time.perf_counter()
                conn.execute(f"SELECT article_id, {name} FROM article_summary").fetchall()
                times[side].append(time.perf_counter() - started)
        print(f"{name:20s} {1000 * statistics.median(times[0]):8.1f} ms -> {1000 * statistics.median(times[1]):8.1f} ms",
              flush=True)
    print(f"# load {os.getloadavg()}")


def writes(before: Path, after: Path, stories: int, repeat: int) -> None:
    print(f"# load {os.getloadavg()}; the {stories} newest stories' predictions deleted and written again, "
          f"rolled back; {repeat} alternated runs, median (min)", flush=True)
    times: dict[str, list[float]] = {"before": [], "after": [], "refresh": []}
    for _ in range(repeat):
        for side, path in (("before", before), ("after", after)):
            conn = connect(path, writable=True)
            conn.execute("BEGIN")
            ids = [row[0] for row in conn.execute(
                "SELECT id FROM articles WHERE duplicate_of IS NULL ORDER BY id DESC LIMIT ?", [stories])]
            marks = ", ".join("?" for _ in ids)
            rows = conn.execute(f"SELECT article_id, task, target, label, probability, uncertain, model_version, "
                                f"created_at FROM classifications WHERE article_id IN ({marks})", ids).fetchall()
            started = time.perf_counter()
            conn.execute(f"DELETE FROM classifications WHERE article_id IN ({marks})", ids)
            conn.executemany("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, "
                             "model_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            times[side].append(time.perf_counter() - started)
            if side == "after":
                started = time.perf_counter()
                written = store.schema.store_article_label_rows(conn)
                times["refresh"].append(time.perf_counter() - started)
                assert written == stories, written
            conn.execute("ROLLBACK")
            conn.close()
    for what, label in (("before", f"write {len(rows)} predictions, m040"),
                        ("after", f"write {len(rows)} predictions, m041 (triggers)"),
                        ("refresh", f"store the {stories} stories' rows again (m041)")):
        print(f"{label:52s} {1000 * statistics.median(times[what]):8.1f} ms ({1000 * min(times[what]):.1f})")
    print(f"# load {os.getloadavg()}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the database at m040 (only read, or written and rolled back)")
    parser.add_argument("after", type=Path, help="a copy migrated to m041 (only read, or written and rolled back)")
    parser.add_argument("--same", action="store_true", help="compare article_summary's rows, EXCEPT both ways")
    parser.add_argument("--reads", action="store_true", help="time the statements that read article_summary")
    parser.add_argument("--writes", type=int, metavar="N", help="time writing N stories' predictions again")
    parser.add_argument("--columns", action="store_true", help="time each column of the view read alone")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    bad = 0
    if args.same:
        bad = same(args.before, args.after)
    if args.reads:
        reads(args.before, args.after, args.repeat)
    if args.columns:
        columns(args.before, args.after, args.repeat)
    if args.writes:
        writes(args.before, args.after, args.writes, args.repeat)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
