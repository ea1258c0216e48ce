"""The views a migration must not change, before and after it, on a copy of a real database.

    PYTHONPATH=. python bench/quote_corrections_views.py --code a8f26d0 --db demo.db

A copy of ``--db`` is given a few people's corrections with the older tree's code (``--code``, extracted with
``git archive``): one per kind on each of the first six quotes, one naming no quote's place, and a stance label;
then the label views (label_roles, effective_labels, article_summary, entity_daily) and the quote views
(quote_view, quotes_by_speaker, most_quoted, story_bodies, quote_people) are read with the older code, and
again after this tree's code has opened (and so migrated) the copy: each view's row count and a hash of its
sorted rows, which must agree. Written for m029 (quote corrections by quote id); the database is not changed.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

VIEWS = ("label_roles", "effective_labels", "article_summary", "entity_daily", "quote_view", "quotes_by_speaker",
         "most_quoted", "story_bodies", "quote_people")

# run in a child process with the code to measure first on sys.path: seeds (argv[2] == "seed"), then dumps
CHILD = r'''
import hashlib, json, sys
from cuttings import store
db = store.connect(sys.argv[1])
if sys.argv[2] == "seed":
    quotes = db.execute("SELECT article_id, start_char, end_char FROM quotes ORDER BY id LIMIT 6").fetchall()
    for n, (article_id, start, end) in enumerate(quotes):
        fix = ("quote_speaker", "Jo Bloggs") if n % 2 == 0 else ("quote_entity", "")
        store.add_correction(db, article_id, [(fix[0], f"{start}:{end}", fix[1])], "officer")
    if quotes:
        db.execute("INSERT INTO labels (article_id, task, target, label, annotator, created_at) "
                   "VALUES (?, 'quote_speaker', '1:2', 'Nobody', 'officer', '2026-12-01T10:00:00Z')", [quotes[0][0]])
        store.add_labels(db, [(quotes[0][0], "stance_governance", "", "against", "officer")])
        db.conn.commit()
out = {}
for name in json.loads(sys.argv[3]):
    rows = sorted(json.dumps(list(row), default=str) for row in db.execute(f"SELECT * FROM {name}").fetchall())
    out[name] = [len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]]
out["_migration"] = db.execute("SELECT name FROM _sqlite_migrations ORDER BY id DESC LIMIT 1").fetchone()[0]
db.conn.close()
print(json.dumps(out))
'''


def dump(code: Path, db: Path, seed: bool) -> dict:
    result = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(code)!r})\n{CHILD}",
                             str(db), "seed" if seed else "read", json.dumps(VIEWS)],
                            capture_output=True, text=True, cwd=code, check=True)
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", required=True, help="the older commit (before the migration)")
    parser.add_argument("--db", required=True, type=Path, help="a database the older code wrote (not changed)")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as scratch:
        old = Path(scratch) / "old"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(here), "archive", args.code], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        copy = Path(scratch) / "copy.db"
        shutil.copyfile(args.db, copy)
        before = dump(old, copy, seed=True)
        after = dump(here, copy, seed=False)
    print(f"{'view':<18} {'rows':>6} {'before':<17} {'after':<17} same")
    for name in VIEWS:
        print(f"{name:<18} {before[name][0]:>6} {before[name][1]:<17} {after[name][1]:<17} "
              f"{'yes' if before[name] == after[name] else 'NO'}")
    print(f"migration: {before['_migration']} -> {after['_migration']}")
    sys.exit(0 if all(before[name] == after[name] for name in VIEWS) else 1)


if __name__ == "__main__":
    main()
