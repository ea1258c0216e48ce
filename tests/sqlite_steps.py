"""How much work SQLite does for a statement, counted rather than timed: the tests of query plans compare the
virtual machine's steps of two statements (the same on every run and machine, unlike a time)."""
from __future__ import annotations

import sqlite3


def vm_steps(conn: sqlite3.Connection, sql: str, params=(), every: int = 1) -> int:
    """The virtual-machine steps ``sql`` takes to run to its last row, in units of ``every`` steps."""
    counted = [0]

    def tick():
        counted[0] += 1
        return 0

    conn.set_progress_handler(tick, every)
    try:
        conn.execute(sql, params).fetchall()
    finally:
        conn.set_progress_handler(None, 0)
    return counted[0]
