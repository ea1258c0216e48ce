"""Trained models: the ``models`` table (one row per model version and its card)."""
from __future__ import annotations

import json

from sqlite_utils import Database

from cuttings.store.connection import utcnow


def record_model(db: Database, card: dict, path: str) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO models (version, task, path, labels_json, training_data_hash, n_examples, metrics_json, "
            "card_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(version) DO UPDATE SET "
            "path = excluded.path, metrics_json = excluded.metrics_json, card_json = excluded.card_json",
            [card["model_version"], card["task"], path, json.dumps(card.get("labels")),
             card.get("training_data_hash"), card.get("n_examples"), json.dumps(card.get("metrics")),
             json.dumps(card, sort_keys=True), card.get("created_at") or utcnow()])
