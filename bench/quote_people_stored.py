"""quote_people's stored rows (m038) against the live definitions, in one migrated database.

For each database: whether the stored rows are in step (``quote_people_state.fresh``), then quote_people and
most_quoted as the page reads them (the stored rows when fresh) against m033's quote_people and m037's most_quoted
read live (TEMP views of their definitions), row for row and in order, with each statement's time; and the body
facet's counts. Only reads (a read-only connection):

    PYTHONPATH=. python bench/quote_people_stored.py /tmp/year/year.db [more.db ...]
    PYTHONPATH=. python bench/quote_people_stored.py --pages BEFORE.db AFTER.db   # the Datasette pages' JSON

``--pages``: the JSON of the quote_people and most_quoted pages (rows, count, facets with their counts), as
``cuttings serve`` configures Datasette, of two databases (say one left at m037 and a copy migrated to m038):
the same or not, and how long each page took.
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


def pages(before: Path, after: Path) -> bool:
    import asyncio
    import json

    from datasette.app import Datasette

    from cuttings import serve

    async def read(path: Path) -> dict:
        ds = Datasette([str(path)], metadata=serve.datasette_metadata(path), settings=serve.datasette_settings(path),
                       plugins_dir=str(serve.PLUGINS_DIR), template_dir=str(serve.TEMPLATES_DIR))
        await ds.invoke_startup()
        found = {}
        for page in ("most_quoted.json?_shape=objects&_size=max", "quote_people.json?_shape=objects",
                     "quote_people.json?_shape=objects&_facet=joined_by&_facet=entity_id",
                     "most_quoted.json?_shape=objects&rank__lte=3"):
            started = time.perf_counter()
            data = (await ds.client.get(f"/{path.stem}/{page}")).json()
            seconds = time.perf_counter() - started
            facets = {name: [(v["value"], v["count"]) for v in facet["results"]]
                      for name, facet in (data.get("facet_results") or {}).items()}
            found[page] = ({"rows": data["rows"], "count": data.get("filtered_table_rows_count"), "facets": facets},
                           seconds)
        return found

    one, two = asyncio.run(read(before)), asyncio.run(read(after))
    same = True
    for page in one:
        equal = one[page][0] == two[page][0]
        same = same and equal
        content = one[page][0]
        print(f"{page:<62} {len(content['rows'])} rows of {content['count']}, facets "
              f"{json.dumps({name: len(values) for name, values in content['facets'].items()})}: "
              f"{'the same' if equal else 'DIFFERENT'}; {one[page][1]:.3f} s / {two[page][1]:.3f} s")
    return same


if __name__ == "__main__":
    if sys.argv[1:2] == ["--pages"]:
        sys.exit(0 if pages(Path(sys.argv[2]), Path(sys.argv[3])) else 1)
    sys.exit(0 if all([check(Path(arg)) for arg in sys.argv[1:]]) else 1)
