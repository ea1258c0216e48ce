"""Counts in doctor's and `cuttings label`'s lines are said as English says them (cuttings.wording.counted):
one of a thing is singular. A CSV row with more cells than a one-column header said "2 cells under 1 columns"."""
from __future__ import annotations

import sqlite3

from cuttings import store
from cuttings.doctor import check_database
from tests.test_hostile_files import refused, run
from tests.test_label import make_db


def test_a_row_wider_than_a_one_column_header_says_1_column(tmp_path):
    db_path = tmp_path / "cuttings.db"
    make_db(db_path)
    path = tmp_path / "wide.csv"
    path.write_text("url\nhttps://example.org/a,surplus\n", encoding="utf-8")
    line = refused(run(db_path, "label", "--import", str(path)), f"{path}:2")
    assert line.endswith(": 2 cells under 1 column"), line


def test_one_unknown_migration_is_said_in_the_singular(tmp_path):
    """Pins the singular (the hand-written plural before `counted` was right here too)."""
    path = tmp_path / "c.db"
    store.connect(path).conn.close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('cuttings', 'm999_from_the_future', '2027-01-01')")
    conn = sqlite3.connect(path)
    try:
        [check] = [c for c in check_database(conn, path) if c.name == "migrations"]
    finally:
        conn.close()
    assert "a newer cuttings: 1 migration unknown to this version (m999_from_the_future)" in check.message
