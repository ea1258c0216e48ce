"""The classify stage after a new analyser version: its own time, models loaded, on a copy of a demo database.

On a copy of ``--demo`` (``cuttings demo`` writes one; it is only read): migrate, classify every article again
at the demo's analyser version (so the stamps are this code's), re-analyse with the watchlist plus one comment
line (a new analyser version; the same mentions and quotes), then time ``cuttings.stages.classify_stage`` alone
(models and analyser loaded before the clock starts), ``--repeat`` times from a fresh copy each. Prints each
run's seconds and counts; with the code before m034 every article is predicted again, since it every article
whose mentions and quotes the re-analysis left as they were keeps its predictions.

    CUTTINGS_HOME=/tmp/c-home cuttings --db /tmp/c-demo.db demo
    CUTTINGS_HOME=/tmp/c-home PYTHONPATH=. python bench/classify_after_bump.py --demo /tmp/c-demo.db
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", required=True, help="a database `cuttings demo` wrote (only read)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from cuttings import paths, stages, store
    classifier = stages.load_classifier()
    base = stages.load_analyser()
    with tempfile.TemporaryDirectory(prefix="cuttings-bump-") as scratch:
        bumped_path = Path(scratch) / "watchlist.toml"
        source = paths.config_file("watchlist.toml")
        bumped_path.write_text(source.read_text(encoding="utf-8") + "\n# a comment: a new analyser version\n",
                               encoding="utf-8")
        bumped = stages.load_analyser(bumped_path)
        assert bumped.version != base.version
        for run in range(1, args.repeat + 1):
            copy = Path(scratch) / "bench.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
            with sqlite3.connect(args.demo) as source_db, sqlite3.connect(copy) as target:
                source_db.backup(target)
            db = store.connect(copy)
            db.execute("DELETE FROM processing WHERE stage = 'classify'")
            db.conn.commit()
            stages.classify_stage(db, classifier, analyser_version=base.version)
            analysed = stages.analyse_stage(db, bumped)
            started = time.perf_counter()
            counts = stages.classify_stage(db, classifier, analyser_version=bumped.version)
            seconds = time.perf_counter() - started
            print(f"run {run}: classify_stage {seconds:.2f} s after re-analysing {analysed['articles']} articles: "
                  f"{counts}")
            db.conn.close()


if __name__ == "__main__":
    main()
