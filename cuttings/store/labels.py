"""Human labels: the ``labels`` table (append-only; the ``effective_labels`` view decides
which label wins)."""
from __future__ import annotations

from typing import Iterable

from sqlite_utils import Database

from cuttings.store.connection import transaction, utcnow


def add_labels(db: Database, rows: Iterable[tuple[int, str, str, str, str]]) -> int:
    """Append ``(article_id, task, target, label, annotator)`` rows in one transaction (joining the
    caller's if one is open); returns the count."""
    now = utcnow()
    rows = [(*row, now) for row in rows]
    with transaction(db):
        db.conn.executemany(
            "INSERT INTO labels (article_id, task, target, label, annotator, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            rows)
    return len(rows)
