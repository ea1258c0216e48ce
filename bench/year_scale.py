"""A year of coverage: what an analyst and the morning read use, timed on a database of N stories.

Builds ``DIR/year.db`` (default 50,000 stories) from a demo database (``cuttings demo`` writes one): the demo's
stories stay as they are (the latest night) and copies of them, with new ids and URLs, are spread back over a
year (first seen and published dates moved back by the copy's place in the year), each with its versions,
fingerprint, byline, mentions, quotes, named entities, classifications, processing rows and crawl state; human
labels are added for every ``--label-every``-th copy (a stance, a topic and a tone for each body mentioned).
Plain SQL on a copy in DIR: the demo database is only read, the project's data never touched.

Then it times, each the best of ``--repeat`` runs:

* every Datasette canned query (cuttings.serve.CANNED_QUERIES, with parameters an analyst would give) and the
  main table and view pages, through Datasette's own test client, with the metadata, plugins, templates and
  settings ``cuttings serve`` gives it (``sql_time_limit_ms`` from ``serve.datasette_command``); a page that
  hits the limit is reported with its status, and any facet that timed out is named;
* ``cuttings report`` (the digest of the last night, ``--no-record``), ``cuttings export`` of a week,
  ``cuttings db stats`` and ``cuttings doctor``, each as a child process;
* full scans of the views article_summary and entity_daily (every row read).

    cuttings --db /tmp/demo.db demo
    PYTHONPATH=. python bench/year_scale.py --demo /tmp/demo.db --dir /tmp/year
    PYTHONPATH=. python bench/year_scale.py --demo /tmp/demo.db --dir /tmp/year --reuse   # time again, no rebuild
    PYTHONPATH=. python bench/year_scale.py --demo /tmp/demo.db --dir /tmp/year --compare  # view rows: demo vs year's code
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuttings import serve, store  # noqa: E402

# Tables whose rows belong to one article (copied with it); the column holding its id.
PER_ARTICLE = ("article_versions", "article_fingerprints", "article_authors", "mentions", "quotes",
               "named_entities", "classifications", "processing", "crawl_state")
MINUTES_A_YEAR = 365 * 24 * 60


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")]


def _shift(column: str) -> str:
    """SQL moving a stored date or timestamp back by ``:minutes`` (a date stays a date)."""
    return (f"CASE WHEN {column} IS NULL THEN NULL "
            f"WHEN length({column}) = 10 THEN date({column}, '-' || (:minutes / 1440) || ' days') "
            f"ELSE strftime('%Y-%m-%dT%H:%M:%SZ', {column}, '-' || :minutes || ' minutes') END")


def build(demo: Path, out: Path, stories: int, label_every: int) -> dict:
    """Write ``out``: the demo database's stories and copies of them up to ``stories`` in all."""
    if out.exists():
        out.unlink()
    with sqlite3.connect(f"{demo.resolve().as_uri()}?mode=ro", uri=True) as source, sqlite3.connect(out) as target:
        source.backup(target)
    conn = sqlite3.connect(out)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = OFF")
    ids = [row[0] for row in conn.execute("SELECT id FROM articles ORDER BY id")]
    n = len(ids)
    copies = max(0, -(-stories // n) - 1)
    top = conn.execute("SELECT max(id) FROM articles").fetchone()[0]
    step = 10 ** len(str(top))                       # copy k's article ids: id + k * step
    top_ids = {table: conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
               for table in ("quotes", "mentions", "classifications", "named_entities", "article_versions", "labels")}
    id_steps = {table: 10 ** len(str(value)) for table, value in top_ids.items()}
    conn.execute("CREATE TEMP TABLE place (id INTEGER PRIMARY KEY, rn INTEGER)")
    conn.executemany("INSERT INTO place VALUES (?, ?)", [(i, rn) for rn, i in enumerate(ids)])
    article_columns = _columns(conn, "articles")
    shifted = {"published_at", "first_seen_at", "last_seen_at", "modified_at", "last_changed_at"}
    made = n
    started = time.perf_counter()
    for k in range(1, copies + 1):
        want = min(n, stories - made)
        if want <= 0:
            break
        # every story of copy k is moved back by its place in the year (g / stories of a year), so that each
        # night holds about stories / 365 of them; the demo's own stories are the latest night
        conn.execute("DROP TABLE IF EXISTS temp.moved")
        conn.execute("CREATE TEMP TABLE moved AS SELECT id, id + :k * :step AS new_id, "
                     "CAST((:k * :n + rn) * :year / :stories AS INTEGER) AS minutes FROM place WHERE rn < :want",
                     {"k": k, "step": step, "n": n, "year": MINUTES_A_YEAR, "stories": stories, "want": want})
        values = []
        for column in article_columns:
            if column == "id":
                values.append("m.new_id")
            elif column in ("url", "canonical_url", "link_url"):
                values.append(f"CASE WHEN a.{column} IS NULL THEN NULL ELSE a.{column} || '#y{k}' END")
            elif column == "duplicate_of":
                values.append(f"CASE WHEN a.duplicate_of IS NULL THEN NULL ELSE a.duplicate_of + {k * step} END")
            elif column in shifted:
                values.append(_shift(f"a.{column}").replace(":minutes", "m.minutes"))
            else:
                values.append(f"a.{column}")
        conn.execute(f"INSERT INTO articles ({', '.join(article_columns)}) SELECT {', '.join(values)} "
                     "FROM articles a JOIN moved m ON m.id = a.id")
        for table in PER_ARTICLE:
            columns = _columns(conn, table)
            if not columns:
                continue
            values = []
            for column in columns:
                if column == "article_id":
                    values.append("m.new_id")
                elif column == "id" and table in id_steps:
                    values.append(f"t.id + {k * id_steps[table]}")
                elif column == "url" and table == "crawl_state":
                    values.append(f"t.url || '#y{k}'")
                elif column == "canonical_url" and table == "crawl_state":
                    values.append(f"CASE WHEN t.canonical_url IS NULL THEN NULL ELSE t.canonical_url || '#y{k}' END")
                elif column in ("captured_at", "processed_at", "first_seen_at", "last_fetched_at"):
                    values.append(_shift(f"t.{column}").replace(":minutes", "m.minutes"))
                else:
                    values.append(f"t.{column}")
            conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
                         f"FROM {table} t JOIN moved m ON m.id = t.article_id")
        # a person's labels on every label_every-th copy: its stance, one topic, the tone towards each body named
        if label_every and k % label_every == 0:
            stamp = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || m.minutes || ' minutes')"
            conn.execute(f"""INSERT INTO labels (article_id, task, target, label, annotator, created_at)
                SELECT c.article_id, c.task, c.target,
                       CASE WHEN c.task = 'stance_governance' AND c.id % 3 = 0 THEN 'against' ELSE c.label END,
                       'bench', {stamp.replace('m.minutes', '(SELECT minutes FROM moved WHERE new_id = c.article_id)')}
                FROM classifications c
                WHERE c.article_id IN (SELECT new_id FROM moved)
                  AND c.task IN ('stance_governance', 'tone', 'topics')""")
        made += want
        conn.commit()
    conn.commit()
    conn.execute("PRAGMA optimize")
    conn.close()
    with sqlite3.connect(out) as conn:
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("articles", "mentions", "quotes", "classifications", "labels")}
    counts["build_s"] = round(time.perf_counter() - started, 1)
    counts["bytes"] = out.stat().st_size
    return counts


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


SUGGEST = {"auto": None, "on": True, "off": False}


def _settings(db_path: Path | None = None, suggest: str = "auto") -> dict:
    """The settings ``cuttings serve`` gives Datasette for this database (``--suggest-facets on|off`` forces
    Datasette's facet suggestions, as ``cuttings serve --suggest-facets`` does)."""
    return serve.datasette_settings(db_path, suggest_facets=SUGGEST[suggest])


def datasette_pages(db_path: Path, night: str) -> list[tuple[str, str]]:
    """(what, path) for every canned query and the main pages an analyst opens."""
    day = night[:10]
    month = (datetime.fromisoformat(day) - timedelta(days=30)).date().isoformat()
    name = db_path.stem
    with sqlite3.connect(db_path) as conn:
        story = conn.execute("SELECT max(id) FROM articles WHERE duplicate_of IS NULL").fetchone()[0]
    params = {"search": "q=fire", "entity_coverage": f"entity=hwfrs&start={month}&end={day}",
              "quotes_by": "speaker=Campion"}
    pages = [("home", "/"), ("database", f"/{name}")]
    for query in serve.canned_queries(db_path):
        pages.append((f"query {query}", f"/{name}/{query}" + (f"?{params[query]}" if query in params else "")))
    for view in ("article_summary", "entity_daily", "quotes_by_speaker", "most_quoted", "syndication",
                 "story_bodies", "quote_people", "speaker_names", "effective_labels", "articles", "mentions",
                 "quotes", "classifications", "labels"):
        pages.append((f"table {view}", f"/{name}/{view}"))
    pages.append(("story page", f"/-/cuttings/story/{name}/{story}"))
    pages.append(("search article_summary", f"/{name}/article_summary?_search=fire"))
    # a body chosen in the bodies facet (cuttings.browse.ListFacet's link)
    pages.append(("article_summary, a body", f"/{name}/article_summary?bodies__arraycontains=HWFRS"))
    return pages


def time_datasette(db_path: Path, night: str, repeat: int, suggest: str = "auto") -> list[dict]:
    from datasette.app import Datasette

    metadata = serve.datasette_metadata(db_path)
    settings = _settings(db_path, suggest)
    rows = []

    async def run():
        ds = Datasette([str(db_path)], metadata=metadata, settings=settings, plugins_dir=str(serve.PLUGINS_DIR),
                       template_dir=str(serve.TEMPLATES_DIR))
        await ds.invoke_startup()
        await ds.client.get("/")                      # warm: connections, introspection
        for what, path in datasette_pages(db_path, night):
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = await ds.client.get(path)
                times.append(time.perf_counter() - started)
            note = ""
            if response.status_code != 200:
                note = "SQL query took too long" if "took too long" in response.text else response.text[:120]
            # Datasette 0.65's JSON has no facets_timed_out: the HTML page names them (a facet past
            # facet_time_limit_ms is left off the page)
            timed_out = re.search(r"These facets timed out: ([^<]*)<", response.text)
            if timed_out:
                note = (note + " facets timed out: " + timed_out.group(1).strip()).strip()
            rows.append({"what": what, "path": path, "status": response.status_code, "s": min(times), "note": note})

    asyncio.run(run())
    return rows


def trace_pages(db_path: Path, views: list[str]) -> None:
    """Where a page's time goes: each SQL statement Datasette ran for it (its ``trace_debug``), longest first, and
    the page with and without facet suggestions (``_nosuggest=1``). A suggestion stopped at
    ``facet_suggest_time_limit_ms`` (Datasette's 50 ms) is in no trace: it is the difference of the two times."""
    import html
    from datasette.app import Datasette

    async def run():
        ds = Datasette([str(db_path)], metadata=serve.datasette_metadata(db_path),
                       settings={**_settings(db_path, "on"), "trace_debug": 1}, plugins_dir=str(serve.PLUGINS_DIR),
                       template_dir=str(serve.TEMPLATES_DIR))
        await ds.invoke_startup()
        await ds.client.get("/")
        for view in views:
            path = f"/{db_path.stem}/{view}"     # VIEW may carry a query string: article_summary?bodies__...
            joiner = "&" if "?" in path else "?"
            started = time.perf_counter()
            await ds.client.get(path + joiner + "_nosuggest=1")
            quiet = time.perf_counter() - started
            started = time.perf_counter()
            try:
                page = await ds.client.get(path + joiner + "_trace=1")
            except AssertionError:     # Datasette 0.65's trace of some table pages (articles) ends no response
                page = await ds.client.get(path)
                print(f"{view}: page {time.perf_counter() - started:.3f} s, without suggestions {quiet:.3f} s; "
                      "no trace (Datasette gave no response with _trace=1)")
                continue
            seconds = time.perf_counter() - started
            text = page.text
            traces = json.loads(html.unescape(text[text.rfind("<pre>") + 5:text.rfind("</pre>")]))["traces"]
            print(f"{view}: page {seconds:.3f} s, without suggestions {quiet:.3f} s; "
                  f"{len(traces)} statements traced, {sum(t['duration_ms'] for t in traces) / 1000:.3f} s")
            for trace in sorted(traces, key=lambda t: -t["duration_ms"])[:6]:
                print(f"  {trace['duration_ms'] / 1000:7.3f} s  {' '.join(trace['sql'].split())[:110]}")

    asyncio.run(run())


def time_cli(db_path: Path, home: Path, night: str, week_start: str, out_dir: Path, repeat: int,
             code: Path = ROOT) -> list[dict]:
    env = {**os.environ, "CUTTINGS_HOME": str(home), "PYTHONPATH": str(code)}
    cuttings = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(code)!r}); import pipeline; pipeline.cli()"]
    commands = {
        "report (one night)": ["--db", str(db_path), "report", "--since", night, "--no-record", "--format", "all",
                               "--out", str(out_dir / "report")],
        "export (a week, csv)": ["--db", str(db_path), "export", "--since", week_start, "--until", night[:10],
                                 "--format", "csv", "--out", str(out_dir / "week.csv")],
        "db stats": ["--db", str(db_path), "db", "stats"],
        "doctor": ["--db", str(db_path), "doctor"],
    }
    rows = []
    for what, args in commands.items():
        seconds, done = best(lambda: subprocess.run(cuttings + args, env=env, capture_output=True, text=True), repeat)
        tail = (done.stdout.strip().splitlines() or [""])[-1][:100] if done.returncode in (0, 1) else \
            (done.stderr.strip().splitlines() or [""])[-1][:160]
        rows.append({"what": what, "command": "cuttings " + " ".join(args), "rc": done.returncode, "s": seconds,
                     "note": tail})
    return rows


def time_scans(db_path: Path, repeat: int, give_up: float) -> list[dict]:
    """Each view read to its last row, the best of ``repeat``; a scan still running after ``give_up`` seconds is
    interrupted and reported as longer than that."""
    rows = []
    for view in ("article_summary", "entity_daily"):
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        timer = threading.Timer(give_up, conn.interrupt)
        timer.start()
        try:
            seconds, count = best(lambda: sum(1 for _ in conn.execute(f"SELECT * FROM {view}")), repeat)
            note = ""
        except sqlite3.OperationalError:
            seconds, count, note = give_up, None, f"interrupted after {give_up:.0f} s"
        timer.cancel()
        conn.close()
        rows.append({"what": f"full scan {view}", "command": f"SELECT * FROM {view}", "rows": count, "s": seconds,
                     "note": note})
    return rows


LABEL_VIEWS = ("article_summary", "entity_daily", "effective_labels")
QUOTE_VIEWS = ("quotes_by_speaker", "quote_people", "most_quoted", "speaker_names", "story_bodies")


def view_rows(db_path: Path, views=LABEL_VIEWS + QUOTE_VIEWS) -> dict[str, list]:
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {view: sorted(map(repr, conn.execute(f"SELECT * FROM {view}"))) for view in views}
    finally:
        conn.close()


def vary_quotes(path: Path) -> dict:
    """What the quote views join that the demo's quotes lack, written into a ``--compare`` copy: speakers named by
    a title and surname only (every 7th quote of a full name: "Mr Campion", speaker_id "campion"), short forms of
    a first name (every 13th: its first three letters, "richard udall" -> "ric udall"),
    people's corrections of a quote's speaker and body (every 17th quote; one body correction in three clears
    the body) and withdrawals of those corrections (every 3rd corrected story's speaker corrections)."""
    conn = sqlite3.connect(path)
    surname = "substr(speaker_id, instr(speaker_id, ' ') + 1)"
    first = "substr(speaker_id, 1, instr(speaker_id, ' ') - 1)"
    conn.execute(f"UPDATE quotes SET speaker = 'Mr ' || upper(substr({surname}, 1, 1)) || substr({surname}, 2), "
                 f"speaker_id = {surname} WHERE id % 7 = 0 AND instr(speaker_id, ' ') > 0")
    conn.execute(f"UPDATE quotes SET speaker_id = substr({first}, 1, 3) || ' ' || {surname} "
                 f"WHERE id % 13 = 0 AND instr(speaker_id, ' ') > 0 AND length({first}) > 3")
    entities = [row[0] for row in conn.execute("SELECT id FROM entities ORDER BY id")]
    rows = conn.execute("SELECT id, article_id, start_char, end_char, text FROM quotes WHERE id % 17 = 0").fetchall()
    labels = []
    for n, (quote_id, article_id, start, end, text) in enumerate(rows):
        target = f"{start}:{end}"
        if n % 2 == 0:
            labels.append((article_id, "quote_speaker", target, ("Jane Doe", "a spokesperson", "Mr Campion")[n % 3],
                           quote_id, text))
        if n % 2 == 1 or n % 5 == 0:
            labels.append((article_id, "quote_entity", target, "" if n % 3 == 0 else entities[n % len(entities)],
                           quote_id, text))
    conn.executemany("INSERT INTO labels (article_id, task, target, label, annotator, created_at, quote_id, "
                     "quote_text) VALUES (?, ?, ?, ?, 'bench', '2026-12-07T00:00:00Z', ?, ?)", labels)
    withdrawn = sorted({row[0] for row in labels})[::3]
    conn.executemany("INSERT INTO labels (article_id, task, target, label, annotator, created_at) "
                     "VALUES (?, 'quote_speaker', '', ?, 'bench', '2026-12-07T01:00:00Z')",
                     [(article_id, store.schema.WITHDRAWN) for article_id in withdrawn])
    conn.commit()
    counts = {"surname_only": conn.execute("SELECT count(*) FROM quotes WHERE instr(speaker_id, ' ') = 0").fetchone()[0],
              "corrections": len(labels), "withdrawals": len(withdrawn)}
    conn.close()
    return counts


def compare(demo: Path, directory: Path, stories: int, label_every: int) -> int:
    """The views' rows as the demo database's code wrote them, then after this code migrated the copy (the copy's
    quotes varied first: :func:`vary_quotes`)."""
    same = True
    for name, size in (("demo-copy.db", 0), ("compare.db", stories)):
        path = directory / name
        build(demo, path, size, label_every)
        print(f"{name}: quotes varied: {json.dumps(vary_quotes(path))}")
        before = view_rows(path)
        store.connect(path).conn.close()
        after = view_rows(path)
        for view in before:
            equal = before[view] == after[view]
            same = same and equal
            print(f"{name}: {view}: {len(before[view])} rows before, {len(after[view])} after, "
                  f"{'the same' if equal else 'DIFFERENT'}")
    return 0 if same else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, required=True, help="a database `cuttings demo` wrote (only read)")
    parser.add_argument("--dir", type=Path, required=True, help="where year.db and the outputs go")
    parser.add_argument("--stories", type=int, default=50_000)
    parser.add_argument("--label-every", type=int, default=20,
                        help="a person's labels on every N-th copy of the demo (default 20: about 2,500 stories)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="time DIR/year.db as it is (after migrating it)")
    parser.add_argument("--only", choices=("datasette", "cli", "scans"), action="append")
    parser.add_argument("--home", type=Path, default=None,
                        help="CUTTINGS_HOME for the commands (the demo's home: its models); default DIR/home")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--give-up", type=float, default=120.0, help="seconds after which a full scan is stopped")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="the tree whose `cuttings` the commands run (e.g. `git archive main` unpacked): the "
                             "database is then left at its migrations (no migration of this tree's applied)")
    parser.add_argument("--trace", action="append", metavar="VIEW",
                        help="only show where the page of VIEW spends its time (each statement; suggestions)")
    parser.add_argument("--suggest-facets", choices=sorted(SUGGEST), default="auto",
                        help="Datasette's facet suggestions for the pages: as `cuttings serve` chooses for the "
                             "database's size (auto, the default), or forced on or off")
    parser.add_argument("--compare", action="store_true",
                        help="only compare the views' rows before and after this code's migrations: on a copy of the "
                             "demo database and on a --stories database built from it (its views as the demo's)")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.compare:
        return compare(args.demo, args.dir, args.stories, args.label_every)
    db_path = args.dir / "year.db"
    result = {"stories": args.stories, "load": os.getloadavg()}
    if not args.reuse:
        result["built"] = build(args.demo, db_path, args.stories, args.label_every)
        print("built", json.dumps(result["built"]), flush=True)
    # this code's migrations (a new index, a view) on the copy, as any cuttings command would apply them
    if args.code.resolve() == ROOT:
        db = store.connect(db_path)
        # quote_people's rows stored, as the nightly analyse leaves them (m038; a database built above wrote its
        # quotes by plain SQL, which marks them stale): the pages then read them
        if store.refresh_quote_people(db) is not None:
            print("quote_people's rows stored again (they were stale)", flush=True)
        # article_summary's label columns stored, as the nightly classify leaves them (m041; predictions and labels
        # written by plain SQL above removed their stories' rows)
        if store.refresh_article_labels(db):
            print("article_summary's label columns stored for the stories without them", flush=True)
        db.conn.close()
    with sqlite3.connect(db_path) as conn:
        night_end = conn.execute("SELECT max(first_seen_at) FROM articles").fetchone()[0]
    end = datetime.strptime(night_end[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    night = (end - timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%SZ")
    week_start = (end - timedelta(days=7)).date().isoformat()
    if args.trace:
        trace_pages(db_path, args.trace)
        return 0
    home = args.home or args.dir / "home"
    home.mkdir(exist_ok=True)
    rows = []
    only = args.only or ("scans", "cli", "datasette")
    if "scans" in only:
        rows += time_scans(db_path, args.repeat, args.give_up)
    if "cli" in only:
        rows += time_cli(db_path, home, night, week_start, args.dir, args.repeat, args.code.resolve())
    if "datasette" in only:
        rows += time_datasette(db_path, night, args.repeat, args.suggest_facets)
    result["settings"] = _settings(db_path, args.suggest_facets)
    result["rows"] = rows
    result["load_after"] = os.getloadavg()
    limit = _settings(db_path, args.suggest_facets).get("sql_time_limit_ms")
    for row in rows:
        flag = " OVER 1 s" if row["s"] > 1 else ""
        status = row.get("status", row.get("rc", ""))
        print(f"{row['s']:8.3f} s  {str(status):>4}  {row['what']:<32} {row.get('path', row.get('command', ''))}"
              f"{flag}  {row.get('note', '') or ''}{(' rows ' + str(row['rows'])) if 'rows' in row else ''}")
    print(f"sql_time_limit_ms {limit}; load {result['load']} -> {result['load_after']}")
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
