"""Trained models: the ``models`` table (one row per model version and its card), and ``label_tasks``
(each label-scheme task's kind, which the views read to find the topics, stance and tone tasks)."""
from __future__ import annotations

import json
from typing import Iterable

from sqlite_utils import Database

from cuttings.errors import StoreError
from cuttings.store.connection import utcnow
from cuttings.store.schema import NO_TASK, LabelNameError, label_task_problem, refresh_label_views


TASK_KINDS = ("multi_label", "single_label", "per_entity")


def record_label_tasks(db: Database, kinds: dict[str, str], at: str | None = None,
                       labels: dict[str, dict] | None = None, no_stance: bool = False, no_tone: bool = False,
                       no_topics: bool = False) -> None:
    """Record each task's kind (``{name: kind}``, e.g. a label scheme's tasks) in ``label_tasks``, stamped
    ``at`` (default now): the views' ``topics``, ``stance`` and ``tone`` columns read the newest task of
    kind ``multi_label``, ``single_label`` and ``per_entity``. Kinds outside :data:`TASK_KINDS` are skipped.
    ``labels``: ``{name: {"labels": [...], "absent": label or None, "attention": [...] or None}}`` from the
    scheme (entity_daily's ``stance_<label>`` / ``tone_<label>`` columns, the "critical" canned query); a task
    recorded without them keeps those it had. The views are regenerated from ``label_tasks`` in the same
    transaction (``schema.refresh_label_views``); a name the views cannot hold raises ``StoreError``
    (one line) and nothing is recorded. ``no_stance``: the scheme has no stance (single-label) task, recorded
    as the newest of that kind (``schema.NO_STANCE_TASK``), so the views read no stance until one is recorded;
    ``no_tone`` and ``no_topics`` the same for a scheme without a tone (per-entity) or topics (multi-label) task
    (``schema.NO_TONE_TASK``, ``schema.NO_TOPICS_TASK``). Those names are refused as a task's."""
    at = at or utcnow()
    labels = labels or {}

    def described(name: str) -> tuple:
        entry = labels.get(name)
        if not entry:
            return (None, None, None)
        attention = entry.get("attention")
        return (json.dumps(list(entry["labels"])), entry.get("absent"),
                json.dumps(list(attention)) if attention else None)

    reserved = next((name for name in kinds if name in NO_TASK.values()), None)
    if reserved is not None:   # a name that says "no task of this kind" cannot name one
        raise StoreError(f"label scheme task name {reserved!r} is reserved: rename the task")
    rows = [(name, kind, at, *described(name)) for name, kind in kinds.items() if kind in TASK_KINDS]
    for kind, missing in (("single_label", no_stance), ("per_entity", no_tone), ("multi_label", no_topics)):
        if missing:
            rows.append((NO_TASK[kind], kind, at, "[]", None, None))
    for name, kind, *_ in rows:   # the views pass over a stored row they cannot hold: refuse one up front
        entry = labels.get(name) or {}
        problem = label_task_problem(name, kind, entry.get("labels"), entry.get("absent"))
        if problem:
            raise StoreError(problem)
    try:
        with db.atomic():
            db.conn.executemany(
                "INSERT INTO label_tasks (name, kind, updated_at, labels_json, absent, attention_json) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "kind = excluded.kind, updated_at = max(label_tasks.updated_at, excluded.updated_at), "
                "labels_json = coalesce(excluded.labels_json, label_tasks.labels_json), "
                "absent = CASE WHEN excluded.labels_json IS NULL THEN label_tasks.absent ELSE excluded.absent END, "
                "attention_json = CASE WHEN excluded.labels_json IS NULL THEN label_tasks.attention_json "
                "ELSE excluded.attention_json END", rows)
            refresh_label_views(db)
    except LabelNameError as exc:
        raise StoreError(str(exc)) from None


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


def models_trained_since(db: Database, tasks: Iterable[str], since: str) -> list[str]:
    """The versions of the recorded models of ``tasks`` trained at or after ``since`` (ISO UTC): the
    models that learnt from a label given then."""
    tasks = list(tasks)
    if not tasks:
        return []
    return [row[0] for row in db.execute(
        f"SELECT version FROM models WHERE task IN ({', '.join('?' for _ in tasks)}) AND created_at >= ? "
        f"ORDER BY created_at", [*tasks, since])]


def recorded_models(db: Database) -> dict[str, dict]:
    """``{version: {"task", "created_at", "metrics", "card"}}`` of every model in the ``models`` table (its
    card's figures and the card, parsed; ``created_at``: when it was trained, its card's time)."""
    return {version: {"task": task, "created_at": created_at, "metrics": json.loads(metrics or "null") or {},
                      "card": json.loads(card or "null") or {}}
            for version, task, created_at, metrics, card in db.execute(
                "SELECT version, task, created_at, metrics_json, card_json FROM models")}
