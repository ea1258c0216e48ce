"""article_summary's bodies facet: Datasette's array facet against cuttings' (``cuttings.browse.ListFacet``).

For each database (only read): the story view's page as ``cuttings serve`` configures it and again with the bodies
facet configured as before (``{"array": "bodies"}``), through Datasette's test client with serve's settings, for
all stories, a search and a search with a body chosen; the facets' values, counts, links and selections compared,
and a facet left off for its time limit named. Then the two facet statements themselves (Datasette 0.65's
ArrayFacet SQL and ListFacet's), with no time limit, timed alternately and their rows compared.

    PYTHONPATH=. python bench/summary_facets.py DB [DB ...]
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasette.app import Datasette  # noqa: E402

from cuttings import browse, serve  # noqa: E402

QUERIES = ("", "&_search=fire", "&_search=fire&bodies__arraycontains=PCC")
ARRAY_SQL = """with inner as ({sql}), deduped_array_items as (select distinct j.value, inner.* from
json_each([inner].[bodies]) j join inner) select value as value, count(*) as count from deduped_array_items
group by value order by count(*) desc, value limit 31"""      # datasette/facets.py, ArrayFacet (0.65.5)


async def pages(db: Path) -> bool:
    metadata = serve.datasette_metadata(db)
    before = copy.deepcopy(metadata)
    before["databases"][db.stem]["tables"]["article_summary"]["facets"] = [
        {"array": "bodies"} if isinstance(facet, dict) else facet
        for facet in metadata["databases"][db.stem]["tables"]["article_summary"]["facets"]]
    seen, same = {}, True
    for label, chosen in (("array facet", before), ("list facet", metadata)):
        ds = Datasette([str(db)], metadata=chosen, settings=serve.datasette_settings(db),
                       plugins_dir=str(serve.PLUGINS_DIR))
        await ds.client.get("/")
        for query in QUERIES:
            started = time.perf_counter()
            page = await ds.client.get(f"/{db.stem}/article_summary?_size=0{query}")
            took = time.perf_counter() - started
            data = (await ds.client.get(f"/{db.stem}/article_summary.json?_size=0{query}")).json()
            facets = {name: [(item["value"], item["count"], item["toggle_url"], item["selected"])
                             for item in facet["results"]] for name, facet in data["facet_results"].items()}
            timed_out = "These facets timed out" in page.text
            seen.setdefault(query, {})[label] = facets
            print(f"{db.name} {label:11s} {query or '(all)':40s} page {took:5.2f} s  facets {sorted(facets)}"
                  + ("  (a facet timed out)" if timed_out else ""), flush=True)
    for query, both in seen.items():
        old, new = both["array facet"], both["list facet"]
        shared = sorted(set(old) & set(new))
        equal = [old[name] for name in shared] == [new[name] for name in shared] and set(old) <= set(new)
        same = same and equal
        left_off = sorted(set(new) - set(old))
        print(f"{db.name} {query or '(all)'}: facets {', '.join(shared)} {'the same' if equal else 'DIFFERENT'}"
              + (f"; {', '.join(left_off)} left off with the array facet (timed out): its statements below"
                 if left_off else ""))
    return same


def statements(db: Path) -> bool:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    columns = ", ".join(f"[{row[1]}]" for row in conn.execute("PRAGMA table_info(article_summary)"))
    same = True
    for name, where in (("(all)", ""), ("_search=fire", " where article_id in (select rowid from articles_fts "
                                                        "where articles_fts match :search)")):
        sql = f"select {columns} from article_summary{where}"
        old, new = ARRAY_SQL.format(sql=sql), browse.list_facet_sql(sql, "bodies", "article_id", 31)
        rows, times = {}, {"array": [], "list": []}
        for label, statement in (("array", old), ("list", new)) * 2:
            started = time.perf_counter()
            rows[label] = conn.execute(statement, {"search": "fire"}).fetchall()
            times[label].append(time.perf_counter() - started)
        equal = rows["array"] == rows["list"]
        same = same and equal
        print(f"{db.name} {name}: ArrayFacet SQL {' / '.join(f'{t:.2f}' for t in times['array'])} s, ListFacet SQL "
              f"{' / '.join(f'{t:.2f}' for t in times['list'])} s; {len(rows['list'])} values, "
              f"{'the same' if equal else 'DIFFERENT'}: {rows['list']}")
    return same


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, nargs="+")
    args = parser.parse_args(argv)
    same = True
    for db in args.db:
        shown = asyncio.run(pages(db))
        same = statements(db) and shown and same
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
