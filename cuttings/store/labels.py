"""Human labels: the ``labels`` table (appended to, never deleted from: the ``effective_labels`` view decides
which label wins, and a person's withdrawal of a story's labels is a row too, ``withdraw_labels``), and the
labelling tool's reads of it (``cuttings.labelling``: which stories wait for a label, which tasks an article has
labels for, every standing label row in order).

Withdrawals (m028): a row ``(article, task, '', WITHDRAWN, annotator, created_at)`` withdraws every row of that
article and task written before it; the reads here, as the views, take only the rows that stand
(``standing_label_sql``), and ``label_history`` lists them all."""
from __future__ import annotations

from typing import Iterable, Sequence

from sqlite_utils import Database

from cuttings.errors import StoreError
from cuttings.store.connection import transaction, utcnow
from cuttings.store.schema import QUOTE_TASKS  # noqa: F401  (corrections of a quote; target "start:end")
from cuttings.store.schema import WITHDRAWN, standing_label_sql

_STANDING = standing_label_sql("l")


def add_labels(db: Database, rows: Iterable[tuple], at: str | None = None) -> int:
    """Append ``(article_id, task, target, label, annotator)`` rows in one transaction (joining the
    caller's if one is open), stamped ``at`` (default: now), or each with its own time as a sixth item
    (an import: the time the file says it was given); returns the count.

    A row stamped now (no ``at``, no sixth item: a person answering here) is stamped one second after
    the newest row of its article and task when that is not older than now (a label given in the same
    second as the one it replaces, or after a label imported from a clock ahead of this one): the newest
    time wins (docs/labelling.md, "Labels moved between databases"), so the times alone must order the
    rows of one question as the table does."""
    now = at or utcnow()
    stamped = []
    newest: dict[tuple[int, str], str | None] = {}
    with transaction(db):
        for row in rows:
            if len(row) == 6:
                stamped.append(tuple(row))
                continue
            if at is None:
                key = (row[0], row[1])
                if key not in newest:
                    newest[key] = db.execute("SELECT max(created_at) FROM labels WHERE article_id = ? AND task = ?",
                                             list(key)).fetchone()[0]
                latest = newest[key]
                stamped.append((*row, _second_after(latest) if latest is not None and latest >= now else now))
            else:
                stamped.append((*row, now))
        db.conn.executemany(
            "INSERT INTO labels (article_id, task, target, label, annotator, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            stamped)
    return len(stamped)


def _second_after(when: str) -> str:
    """The ISO UTC time one second after ``when`` (``2026-11-20T08:00:00Z``)."""
    import datetime as dt
    moment = dt.datetime.strptime(when[:19], "%Y-%m-%dT%H:%M:%S") + dt.timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def import_withdrawal(db: Database, article_id: int, task: str, annotator: str, at: str) -> bool:
    """Record a withdrawal of one article's ``task`` given elsewhere at ``at`` (a file's ``withdrawn``),
    unless this database has one as new or newer: a :data:`WITHDRAWN` row under ``annotator`` stamped ``at``,
    written even when no label stands here (a copy of a label given before it, imported later, then stays
    withdrawn). A label standing here that was given after ``at`` stands on: it is written again after the
    withdrawal (same label, annotator and time), so that the table's order agrees with the times. Returns
    whether it was recorded."""
    with transaction(db):
        latest = db.execute(f"SELECT max(created_at) FROM labels WHERE article_id = ? AND task = ? "
                            f"AND label = '{WITHDRAWN}'", [article_id, task]).fetchone()[0]
        if latest is not None and latest >= at:
            return False
        later = db.execute(f"SELECT article_id, task, target, label, annotator, created_at FROM labels l "
                           f"WHERE l.article_id = ? AND l.task = ? AND {_STANDING} AND l.created_at > ? ORDER BY l.id",
                           [article_id, task, at]).fetchall()
        add_labels(db, [(article_id, task, "", WITHDRAWN, annotator, at), *[tuple(row) for row in later]])
    return True


def withdraw_labels(db: Database, article_id: int, tasks: Iterable[str], annotator: str,
                    at: str | None = None) -> list[tuple[str, str, str, str, str]]:
    """Withdraw every standing human label of one article for ``tasks`` (a person's undo: the models'
    predictions apply again and the story waits for a label again), in one transaction: one
    :data:`WITHDRAWN` row per task that has any, under ``annotator``, stamped ``at`` (default now). Nothing
    is deleted. Returns the rows withdrawn as ``(task, target, label, annotator, created_at)``, in the order
    they were written (empty: nothing stood, nothing written)."""
    tasks = list(tasks)
    if not tasks:
        return []
    marks = ", ".join("?" for _ in tasks)
    with transaction(db):
        rows = db.execute(f"SELECT task, target, label, annotator, created_at FROM labels l WHERE l.article_id = ? "
                          f"AND l.task IN ({marks}) AND {_STANDING} ORDER BY l.id", [article_id, *tasks]).fetchall()
        withdrawn = list(dict.fromkeys(row[0] for row in rows))
        add_labels(db, [(article_id, task, "", WITHDRAWN, annotator) for task in withdrawn], at)
    return [tuple(row) for row in rows]


def withdrawals(db: Database, article_ids: Iterable[int] | None = None) -> dict[int, dict[str, tuple[str, str]]]:
    """The latest withdrawal of each article's tasks: ``{article_id: {task: (annotator, created_at)}}`` (of
    ``article_ids``)."""
    sql = (f"SELECT article_id, task, annotator, created_at FROM labels WHERE id IN (SELECT max(id) FROM labels "
           f"WHERE label = '{WITHDRAWN}' GROUP BY article_id, task)")
    params: list = []
    if article_ids is not None:
        ids = list(article_ids)
        sql += f" AND article_id IN ({', '.join('?' for _ in ids)})"
        params = ids
    found: dict[int, dict[str, tuple[str, str]]] = {}
    for article_id, task, annotator, created_at in db.execute(sql + " ORDER BY id", params):
        found.setdefault(article_id, {})[task] = (annotator, created_at)
    return found


def label_history(db: Database, article_id: int) -> list[tuple[int, str, str, str, str, str]]:
    """Every ``labels`` row of one article, standing or not, withdrawals included, as ``(id, task, target,
    label, annotator, created_at)`` in the order written: who said what, and who withdrew it, when."""
    return [tuple(row) for row in db.execute(
        "SELECT id, task, target, label, annotator, created_at FROM labels WHERE article_id = ? ORDER BY id",
        [article_id])]


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


# A label given before the article's text last changed materially (a revision: ``last_changed_at``)
# was given to other words: the story waits for a label again (the old one still applies until then).
_LABELLED_SINCE_CHANGE = "l.created_at >= coalesce(a.last_changed_at, '')"


def _pending_sql(task: str, entities: Sequence[str] | None) -> tuple[str, list]:
    """SELECT (article_id, task, revised) for stories with no human label for ``task`` given since
    their text last changed; ``revised``: 1 when the story has a label for it from before the change."""
    sql = ("SELECT a.id AS article_id, ? AS task, "
           f"EXISTS (SELECT 1 FROM labels l WHERE l.article_id = a.id AND l.task = ? AND {_STANDING}) AS revised "
           "FROM articles a WHERE a.duplicate_of IS NULL "
           f"AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.article_id = a.id AND l.task = ? AND {_LABELLED_SINCE_CHANGE} "
           f"AND {_STANDING})")
    params: list = [task, task, task]
    if entities is not None:
        marks = ", ".join("?" for _ in entities)
        sql += (f" AND (EXISTS (SELECT 1 FROM mentions m WHERE m.article_id = a.id AND m.entity_id IN ({marks}))"
                " OR EXISTS (SELECT 1 FROM classifications c WHERE c.article_id = a.id AND c.task = ?))")
        params += [*entities, task]
    return sql, params


def label_candidates(db: Database, tasks: Sequence[tuple[str, Sequence[str] | None]],
                     limit: int | None = None) -> list[tuple[int, int, float | None]]:
    """``(article_id, uncertain, confidence)`` of the stories (not syndicated copies) lacking a human
    label for any of ``tasks`` (or whose label was given before their text last changed: those come
    first), least certain first: any prediction flagged uncertain (``uncertain``
    1), then by ``confidence``, the lowest best-probability over the pending (task, target) pairs;
    articles never classified (``confidence`` None) come last, then by id. ``tasks``: ``(name,
    entities)``, ``entities`` the watched bodies of a per-entity task (a story waits for it only when
    it mentions one of them or has a prediction of it), None for an article-level task. Every name
    and body goes in as a parameter."""
    parts, params = [], []
    for task, entities in tasks:
        sql, task_params = _pending_sql(task, entities)
        parts.append(sql)
        params += task_params
    query = f"""
WITH pending AS ({' UNION ALL '.join(parts)}),
per_target AS (
  SELECT c.article_id, c.task, c.target, max(c.probability) AS confidence, max(c.uncertain) AS uncertain
  FROM classifications c JOIN pending p ON p.article_id = c.article_id AND p.task = c.task
  GROUP BY c.article_id, c.task, c.target
)
SELECT p.article_id, coalesce(max(t.uncertain), 0) AS uncertain, min(t.confidence) AS confidence
FROM pending p LEFT JOIN per_target t ON t.article_id = p.article_id AND t.task = p.task
GROUP BY p.article_id
ORDER BY max(p.revised) DESC, uncertain DESC, confidence IS NULL, confidence, p.article_id"""
    if limit:
        query += " LIMIT ?"
        params.append(limit)
    return db.execute(query, params).fetchall()


def labelled_tasks(db: Database, article_id: int) -> set[str]:
    """The tasks one article has a human label for (a rejection row counts) given since its text last
    changed materially (a label from before a revision was given to other words)."""
    return {row[0] for row in db.execute(
        f"SELECT DISTINCT l.task FROM labels l JOIN articles a ON a.id = l.article_id WHERE l.article_id = ? "
        f"AND {_LABELLED_SINCE_CHANGE} AND {_STANDING}", [article_id])}


def revised_since_labelled(db: Database, article_id: int, tasks: Iterable[str]) -> tuple[int, str] | None:
    """``(version, last_changed_at)`` of an article whose text changed materially after a human label
    for one of ``tasks`` was given, else None."""
    tasks = list(tasks)
    if not tasks:
        return None
    row = db.execute(
        f"SELECT a.version, a.last_changed_at FROM articles a WHERE a.id = ? AND EXISTS (SELECT 1 FROM labels l "
        f"WHERE l.article_id = a.id AND l.task IN ({', '.join('?' for _ in tasks)}) AND NOT ({_LABELLED_SINCE_CHANGE}) "
        f"AND {_STANDING})",
        [article_id, *tasks]).fetchone()
    return (row[0], row[1]) if row else None


def human_label_rows(db: Database, article_ids: Iterable[int] | None = None) -> list[tuple[int, str, str, str, str]]:
    """Every standing ``labels`` row (none withdrawn, no withdrawal) as ``(article_id, task, target, label,
    annotator)`` (of ``article_ids``), in the order they were written (``id``): the rows
    ``cuttings.labelling.human_labels`` resolves, the later winning."""
    return [row[:5] for row in human_label_rows_at(db, article_ids)]


def human_label_rows_at(db: Database, article_ids: Iterable[int] | None = None
                        ) -> list[tuple[int, str, str, str, str, str]]:
    """:func:`human_label_rows` with each row's ``created_at`` as a sixth item."""
    sql = f"SELECT article_id, task, target, label, annotator, created_at FROM labels l WHERE {_STANDING}"
    params: list = []
    if article_ids is not None:
        ids = list(article_ids)
        sql += f" AND article_id IN ({', '.join('?' for _ in ids)})"
        params = ids
    return db.execute(sql + " ORDER BY id", params).fetchall()


def effective_label_rows(db: Database, article_id: int) -> list[tuple[str, str, str]]:
    """The labels that stand for one article, ``(task, target, label)`` from ``effective_labels`` (a
    person's where given, else the models'): what ``cuttings export`` and ``article_summary`` show of it."""
    return db.execute("SELECT task, target, label FROM effective_labels WHERE article_id = ? ORDER BY task, target, "
                      "label", [article_id]).fetchall()


def quote_corrections(db: Database, article_ids: Iterable[int] | None = None
                      ) -> list[tuple[int, str, str, str, str, str | None, str]]:
    """The current corrections of quotes (the latest standing label per article, task and quote), as
    ``(article_id, task, target, label, annotator, words, created_at)``: ``words`` the text of the article's
    quote at ``target`` (``start:end``), None when no stored quote is there any more; by article, then id."""
    marks = ", ".join("?" for _ in QUOTE_TASKS)
    sql = (f"SELECT l.article_id, l.task, l.target, l.label, l.annotator, "
           f"(SELECT q.text FROM quotes q WHERE q.article_id = l.article_id "
           f"AND q.start_char || ':' || q.end_char = l.target LIMIT 1), l.created_at "
           f"FROM labels l WHERE l.id IN (SELECT max(id) FROM labels WHERE task IN ({marks}) "
           f"GROUP BY article_id, task, target) AND {_STANDING}")
    params: list = [*QUOTE_TASKS]
    if article_ids is not None:
        ids = list(article_ids)
        sql += f" AND l.article_id IN ({', '.join('?' for _ in ids)})"
        params += ids
    return [tuple(row) for row in db.execute(sql + " ORDER BY l.article_id, l.id", params)]


def quotes_of(db: Database, article_id: int) -> list[tuple[str, str]]:
    """``(start:end, words)`` of one article's stored quotes, in text order."""
    return [(f"{start}:{end}", text) for start, end, text in db.execute(
        "SELECT start_char, end_char, text FROM quotes WHERE article_id = ? ORDER BY start_char", [article_id])]
