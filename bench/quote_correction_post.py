"""What a correction of a quote posted from the story page costs, and what the quote pages cost after it
(docs/benchmarks.md, "A correction keeps the quote pages stored").

    cp /tmp/m-50k/year.db /tmp/x/year.db && cuttings --db /tmp/x/year.db db stats     # a migrated copy
    PYTHONPATH=. python bench/quote_correction_post.py /tmp/x/year.db --repeat 5 --check

Three ways of writing the story page's correction (``browse.correct``'s write: the correction, then the label
scheme recorded), alternated, each in a transaction rolled back after it was timed (so the copy is not changed and
every round starts from rows in step):

- ``mark stale``: ``store.add_correction`` (before: the triggers mark quote_people's stored rows stale);
- ``in step``: ``store.add_correction_in_step`` (the rows the correction touched stored again, fresh);
- ``full refresh``: ``store.add_correction`` then ``store.refresh_quote_people`` (every row stored again).

After each, in the same transaction, the most_quoted page's query and quote_people's first page are timed (as
Datasette runs them: ``SELECT * FROM most_quoted ORDER BY quotes DESC LIMIT 101``). The quotes corrected: one of
the speaker whose surname the most quotes have (the costliest to store again), and one of a median surname.
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time

from sqlite_utils import Database

from cuttings import store
from cuttings.store.schema import QUOTE_PEOPLE_SQL, SURNAME_SQL

PAGES = {"most_quoted": "SELECT * FROM most_quoted ORDER BY quotes DESC LIMIT 101",
         "quote_people": "SELECT * FROM quote_people LIMIT 101"}


def chosen_quotes(db: Database) -> dict[str, tuple[int, str, str]]:
    """(article, place, new speaker) of a quote of the most quoted surname and of a median one."""
    surnames = db.execute(f"SELECT {SURNAME_SQL.format('speaker_id')} AS s, count(*) FROM quotes "
                          "WHERE speaker_id IS NOT NULL GROUP BY s ORDER BY count(*) DESC").fetchall()
    picked = {"most quoted surname": surnames[0], "median surname": surnames[len(surnames) // 2]}
    result = {}
    for what, (surname, count) in picked.items():
        article, start, end, speaker = db.execute(
            f"SELECT q.article_id, q.start_char, q.end_char, q.speaker FROM quotes q JOIN articles a ON "
            f"a.id = q.article_id WHERE {SURNAME_SQL.format('q.speaker_id')} = ? AND a.duplicate_of IS NULL "
            "ORDER BY q.id DESC LIMIT 1", [surname]).fetchone()
        result[f"{what} ({surname!r}, {count} quotes)"] = (article, f"{start}:{end}", f"Alex {speaker.split()[-1]}x")
    return result


def write(db: Database, how: str, article: int, place: str, speaker: str) -> None:
    rows = [("quote_speaker", place, speaker)]
    if how == "in step":
        store.add_correction_in_step(db, article, rows, "bench")
    else:
        store.add_correction(db, article, rows, "bench")
        if how == "full refresh":
            store.refresh_quote_people(db)
    store.record_label_tasks(db, {"topics": "multi_label", "stance_governance": "single_label", "tone": "per_entity"})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--check", action="store_true",
                        help="after each in-step write (first round), compare the stored rows with the live rows")
    args = parser.parse_args(argv)
    conn = sqlite3.connect(args.db, isolation_level=None)
    db = Database(conn)
    assert store.quote_people_fresh(db), "the copy's quote_people rows are stale: run `cuttings analyse` first"
    quotes = chosen_quotes(db)
    hows = ["mark stale", "in step", "full refresh"]
    times: dict = {}
    for round_ in range(args.repeat):
        for what, (article, place, speaker) in quotes.items():
            for how in (hows if round_ % 2 == 0 else list(reversed(hows))):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    started = time.perf_counter()
                    write(db, how, article, place, speaker)
                    times.setdefault((what, how, "post"), []).append(time.perf_counter() - started)
                    fresh = store.quote_people_fresh(db)
                    for page, sql in PAGES.items():
                        started = time.perf_counter()
                        conn.execute(sql).fetchall()
                        times.setdefault((what, how, page), []).append(time.perf_counter() - started)
                    times.setdefault((what, how, "fresh"), []).append(fresh)
                    if args.check and how == "in step" and round_ == 0:
                        stored = sorted(conn.execute("SELECT * FROM quote_people_stored").fetchall(),
                                        key=lambda row: row[0])
                        live = sorted(conn.execute(f"SELECT * FROM ({QUOTE_PEOPLE_SQL})").fetchall(),
                                      key=lambda row: row[0])
                        print(f"check {what}: {len(stored)} stored rows, the same as the {len(live)} live rows: "
                              f"{stored == live}", flush=True)
                finally:
                    conn.execute("ROLLBACK")
        print(f"round {round_ + 1} done", file=sys.stderr, flush=True)
    for (what, how, measure), values in sorted(times.items()):
        if measure == "fresh":
            continue
        values = sorted(values)
        print(f"{what:45} {how:13} {measure:13} median {statistics.median(values):.3f} s "
              f"(min {values[0]:.3f}, max {values[-1]:.3f}); fresh after: {set(times[(what, how, 'fresh')])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
