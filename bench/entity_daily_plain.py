"""entity_daily's rows against its plain form, in databases this code has migrated (session 21: m031's per-body
form merged with m032's labels by time): the plain form is entity_daily as m015-m030 wrote it (each mention
joined to the effective_labels view), reading the current effective_labels (since m032: the newest label by
created_at, then id), made a TEMP view; the view migrated must give the same rows.

    PYTHONPATH=. python bench/entity_daily_plain.py DB [DB ...]   # each DB migrated first (a copy: it is written)

Prints per database the rows of each and whether they are the same; exits 1 when one differs.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cuttings import store  # noqa: E402
from cuttings.store import schema  # noqa: E402


def plain_definition(roles: dict) -> str:
    """The current label views' entity_daily without m031's or m039's rewriting (schema.per_body_daily,
    schema.per_group_daily: the current definitions call the latter)."""
    per_body_daily, per_group_daily = schema.per_body_daily, schema.per_group_daily
    schema.per_body_daily = schema.per_group_daily = lambda daily, roles, effective_labels: daily
    try:
        plain = schema.label_view_definitions(roles)["entity_daily"]
    finally:
        schema.per_body_daily, schema.per_group_daily = per_body_daily, per_group_daily
    assert plain != schema.label_view_definitions(roles)["entity_daily"]
    return plain


def compare(path: str) -> bool:
    db = store.connect(path)
    try:
        db.execute(f"CREATE TEMP VIEW plain_daily AS {plain_definition(schema.label_task_roles(db))}")
        view = sorted(map(repr, db.execute("SELECT * FROM entity_daily").fetchall()))
        plain = sorted(map(repr, db.execute("SELECT * FROM plain_daily").fetchall()))
        labels = db.execute("SELECT count(*) FROM labels").fetchone()[0]
    finally:
        db.close()
    print(f"{path}: {labels} label rows; entity_daily {len(view)} rows, plain form {len(plain)}: "
          f"{'the same' if view == plain else 'DIFFERENT'}")
    return view == plain


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: entity_daily_plain.py DB [DB ...]", file=sys.stderr)
        return 2
    results = [compare(path) for path in argv]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
