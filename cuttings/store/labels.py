"""Human labels: the ``labels`` table (append-only; the ``effective_labels`` view decides
which label wins)."""
from __future__ import annotations

from typing import Iterable

from sqlite_utils import Database

from cuttings.errors import StoreError
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


QUOTE_TASKS = ("quote_speaker", "quote_entity")  # corrections of a quote; target "start:end" of the quote


class CorrectionError(StoreError):
    """A correction that cannot be stored (unknown article, quote or label)."""


def add_correction(db: Database, article_id: int, rows: Iterable[tuple[str, str, str]], annotator: str) -> int:
    """Store a person's corrections of one article as ``labels`` rows ``(task, target, label)``, stamped
    with the annotator and the time, in one transaction; returns how many were written. Tasks are the
    scheme's (``topics``, ``stance_governance``, ``tone``) or :data:`QUOTE_TASKS` (target ``start:end``
    of the quote; ``quote_entity`` label ``''`` unlinks the quote from any body)."""
    rows = [(str(task), str(target), str(label)) for task, target, label in rows]
    if not annotator or not annotator.strip():
        raise CorrectionError("a correction needs an annotator")
    if db.execute("SELECT 1 FROM articles WHERE id = ?", [article_id]).fetchone() is None:
        raise CorrectionError(f"no article {article_id}")
    return add_labels(db, [(article_id, task, target, label, annotator.strip()) for task, target, label in rows])
