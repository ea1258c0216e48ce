"""Trained models: the ``models`` table (one row per model version and its card), and ``label_tasks``
(each label-scheme task's kind, which the views read to find the topics, stance and tone tasks)."""
from __future__ import annotations

import json

from sqlite_utils import Database

from cuttings.store.connection import utcnow


TASK_KINDS = ("multi_label", "single_label", "per_entity")


def record_label_tasks(db: Database, kinds: dict[str, str], at: str | None = None) -> None:
    """Record each task's kind (``{name: kind}``, e.g. a label scheme's tasks) in ``label_tasks``, stamped
    ``at`` (default now): the views' ``topics``, ``stance`` and ``tone`` columns read the newest task of
    kind ``multi_label``, ``single_label`` and ``per_entity``. Kinds outside :data:`TASK_KINDS` are skipped."""
    at = at or utcnow()
    rows = [(name, kind, at) for name, kind in kinds.items() if kind in TASK_KINDS]
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO label_tasks (name, kind, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "kind = excluded.kind, updated_at = max(label_tasks.updated_at, excluded.updated_at)", rows)


def record_model(db: Database, card: dict, path: str, record_kind: bool = True) -> None:
    """Record a trained model and its card; the card's ``kind`` is recorded as its task's (``label_tasks``)
    unless ``record_kind`` is false (``cuttings train`` records the scheme's tasks of each kind itself)."""
    if record_kind and card.get("kind") in TASK_KINDS:
        record_label_tasks(db, {card["task"]: card["kind"]}, card.get("created_at") or utcnow())
    with db.atomic():
        db.execute(
            "INSERT INTO models (version, task, path, labels_json, training_data_hash, n_examples, metrics_json, "
            "card_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(version) DO UPDATE SET "
            "path = excluded.path, metrics_json = excluded.metrics_json, card_json = excluded.card_json",
            [card["model_version"], card["task"], path, json.dumps(card.get("labels")),
             card.get("training_data_hash"), card.get("n_examples"), json.dumps(card.get("metrics")),
             json.dumps(card, sort_keys=True), card.get("created_at") or utcnow()])
