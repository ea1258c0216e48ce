"""How much reading the label tasks by kind (migration m013, ``label_tasks``) costs the analyst views:
a full scan of ``article_summary`` over N synthetic stories (four predicted labels each), with the
views by kind (m013: a subquery on ``label_tasks``), as regenerated with the recorded task names as
literals (m015, ``schema.refresh_label_views``) and by the shipped task names (m012's definitions),
alternated in one run. ``--labelled N``: the first N stories also have human labels (a stance, a topic and a
tone each, none withdrawn, so every variant gives the same rows), and the current views (m028: only labels no
withdrawal took back stand) are compared with the same views without that check (m022).

    PYTHONPATH=. python bench/summary_view.py --stories 5000 --repeat 5
    PYTHONPATH=. python bench/summary_view.py --stories 5000 --labelled 2000 --repeat 7

``--by-time``: the label views of m032 (the label that stands the newest by created_at, then id) in a database
migrated to the end, against m031's (the newest by id: ``schema.label_views_by_id``; article_summary and
effective_labels as m030 left them) in a database migrated to
just before m032, with that schema's indexes; the same rows filled into both, alternated in one run, and the
effective_labels full scan too (the ``--labelled`` stories' labels none withdrawn, so both give the same rows):

    PYTHONPATH=. python bench/summary_view.py --stories 5000 --labelled 2000 --repeat 7 --by-time
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cuttings import store  # noqa: E402
from cuttings.store import schema  # noqa: E402

VIEWS = ("effective_labels", "article_summary", "entity_daily")


def fill(db, stories: int, labelled: int = 0) -> None:
    rng = random.Random(0)
    db.execute("INSERT INTO sources (id, name) VALUES ('s', 'S')")
    stamp = "2026-11-01T00:00:00Z"
    db.conn.executemany(
        "INSERT INTO articles (id, url, canonical_url, source_id, title, published_at, first_seen_at, last_seen_at, "
        "body, content_hash) VALUES (?, ?, ?, 's', ?, ?, ?, ?, 'body', 'h')",
        [(i, f"https://x/{i}", f"https://x/{i}", f"Story {i}", stamp, stamp, stamp) for i in range(1, stories + 1)])
    rows = []
    for i in range(1, stories + 1):
        rows += [(i, "topics", "", "finance"), (i, "topics", "", "incident"),
                 (i, "stance_governance", "", rng.choice(["favour", "against", "neutral", "none"])),
                 (i, "tone", "hwfrs", rng.choice(["positive", "negative", "neutral"]))]
    db.conn.executemany("INSERT INTO classifications (article_id, task, target, label, probability, model_version, "
                        "created_at) VALUES (?, ?, ?, ?, 0.9, 'm', ?)", [(*row, stamp) for row in rows])
    labels = []
    for i in range(1, labelled + 1):
        labels += [(i, "topics", "", "governance"), (i, "stance_governance", "", rng.choice(["favour", "against"])),
                   (i, "tone", "hwfrs", "negative")]
    db.conn.executemany("INSERT INTO labels (article_id, task, target, label, annotator, created_at) "
                        "VALUES (?, ?, ?, ?, 'a', ?)", [(*row, stamp) for row in labels])
    db.conn.commit()


def use(db, definitions: dict[str, str]) -> None:
    for name in reversed(VIEWS):
        db.execute(f"DROP VIEW IF EXISTS {name}")
    for name in VIEWS:
        db.execute(f"CREATE VIEW {name} AS {definitions[name]}")


def scan(db) -> tuple[float, list]:
    started = time.perf_counter()
    rows = db.execute("SELECT * FROM article_summary").fetchall()
    return time.perf_counter() - started, rows


def by_time(args) -> None:
    """m032's label views (by time) against m030's (by id), each in a database with its own schema."""
    with tempfile.TemporaryDirectory() as directory:
        new = store.connect(Path(directory) / "m032.db")
        old = store.connect(Path(directory) / "m030.db", migrate=False)
        store.migrations.apply(old, stop_before="m032_labels_by_time")
        use(old, schema.label_views_by_id(schema.label_task_roles(old)))   # as a cuttings before m032 left them
        for db in (new, old):
            fill(db, args.stories, args.labelled)
        databases = {"by time (m032)": new, "by id (m030)": old}
        for view in ("article_summary", "effective_labels"):
            times: dict[str, list[float]] = {name: [] for name in databases}
            outputs: dict[str, list] = {}
            for _ in range(args.repeat):
                for name, db in databases.items():
                    started = time.perf_counter()
                    rows = db.execute(f"SELECT * FROM {view}").fetchall()
                    times[name].append(time.perf_counter() - started)
                    outputs.setdefault(name, sorted(map(tuple, rows), key=repr))
            for name, values in times.items():
                print(f"{name}: {view}, {args.stories} stories, {args.labelled} labelled: median "
                      f"{1000 * statistics.median(values):.0f} ms (min {1000 * min(values):.0f}, "
                      f"max {1000 * max(values):.0f}, {args.repeat} runs)")
            same = all(rows == next(iter(outputs.values())) for rows in outputs.values())
            print(f"{view}: same rows in both: {'yes' if same else 'NO'}")
        for db in databases.values():
            db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--labelled", type=int, default=0)
    parser.add_argument("--by-time", action="store_true", help="m032's label views against m031's (by id)")
    args = parser.parse_args()
    if args.by_time:
        by_time(args)
        return
    variants = {"literal names (m015)": None,
                "by kind (m013)": schema._VIEWS_V13,
                "by name (m012)": {"effective_labels": schema._VIEWS["effective_labels"],
                                   "article_summary": schema._VIEWS_V9["article_summary"],
                                   "entity_daily": schema._VIEWS_V9["entity_daily"]}}
    with tempfile.TemporaryDirectory() as directory:
        db = store.connect(Path(directory) / "bench.db")
        fill(db, args.stories, args.labelled)
        variants["literal names (m015)"] = schema.label_view_definitions(schema.label_task_roles(db))
        if args.labelled:
            standing = schema.standing_label_sql("l", by_quote=False)
            check = f" AND {standing}"
            variants = {"current (m028, withdrawals checked)": variants["literal names (m015)"],
                        "without the withdrawal check (m022)": {
                            name: sql.replace(check, "").replace(f"  AND {standing}\n", "")
                            for name, sql in variants["literal names (m015)"].items()}}
            assert all(standing not in sql for sql in variants["without the withdrawal check (m022)"].values())
        times: dict[str, list[float]] = {name: [] for name in variants}
        outputs: dict[str, list] = {}
        for _ in range(args.repeat):
            for name, definitions in variants.items():
                use(db, definitions)
                seconds, rows = scan(db)
                times[name].append(seconds)
                outputs.setdefault(name, rows)
        for name, values in times.items():
            print(f"{name}: article_summary, {args.stories} stories: median {1000 * statistics.median(values):.0f} ms "
                  f"(min {1000 * min(values):.0f}, max {1000 * max(values):.0f}, {args.repeat} runs)")
        same = all(rows == next(iter(outputs.values())) for rows in outputs.values())
        print(f"same rows in every variant: {'yes' if same else 'NO'}")
        db.close()


if __name__ == "__main__":
    main()
