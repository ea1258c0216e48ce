"""quote_people's stored rows (m038) against the live definitions, in one migrated database.

For each database: whether the stored rows are in step (``quote_people_state.fresh``), then quote_people and
most_quoted as the page reads them (the stored rows when fresh) against m033's quote_people and m037's most_quoted
read live (TEMP views of their definitions), row for row and in order, with each statement's time; and the body
facet's counts. Only reads (a read-only connection):

    PYTHONPATH=. python bench/quote_people_stored.py /tmp/year/year.db [more.db ...]
"""
from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuttings.store import schema  # noqa: E402

STATEMENTS = {   # what the pages run (Datasette's query, count and facet), and the whole rows
    "quote_people rows": "SELECT * FROM {qp}",
    "quote_people count": "SELECT count(*) FROM {qp}",
    "most_quoted rows": "SELECT * FROM {mq}",
    "most_quoted count": "SELECT count(*) FROM {mq}",
    "most_quoted body facet": "SELECT body, count(*) FROM (SELECT * FROM {mq}) WHERE body IS NOT NULL "
                              "GROUP BY body ORDER BY count(*) DESC, body",
}


def timed(conn: sqlite3.Connection, sql: str) -> tuple[list, float]:
    started = time.perf_counter()
    rows = conn.execute(sql).fetchall()
    return rows, time.perf_counter() - started


def check(path: Path) -> bool:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.execute(f"CREATE TEMP VIEW live_quote_people AS {schema._VIEWS_V33['quote_people']}")
    conn.execute("CREATE TEMP VIEW live_most_quoted AS "
                 + schema._VIEWS_V37["most_quoted"].replace("FROM quote_people p", "FROM live_quote_people p"))
    fresh = conn.execute("SELECT fresh FROM quote_people_state").fetchone()
    print(f"{path}: quote_people_state.fresh = {fresh[0] if fresh else None}")
    same = True
    for what, sql in STATEMENTS.items():
        now, now_s = timed(conn, sql.format(qp="quote_people", mq="most_quoted"))
        live, live_s = timed(conn, sql.format(qp="live_quote_people", mq="live_most_quoted"))
        equal = now == live
        same = same and equal
        print(f"  {what:<24} {len(now):>7} rows  {'the same, in order' if equal else 'DIFFERENT'}  "
              f"view {now_s:.3f} s, live {live_s:.3f} s")
    conn.close()
    return same


if __name__ == "__main__":
    sys.exit(0 if all([check(Path(arg)) for arg in sys.argv[1:]]) else 1)
