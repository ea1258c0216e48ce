"""Human labels: the ``labels`` table (appended to, never deleted from: the ``effective_labels`` view decides
which label wins, and a person's withdrawal of a story's labels is a row too, ``withdraw_labels``), and the
labelling tool's reads of it (``cuttings.labelling``: which stories wait for a label, which tasks an article has
labels for, every standing label row in order).

Of the rows of one question the newest by the time it was given stands (``created_at``, then ``id`` within one
second; m032): an import writes rows with the times its file says, so a row written later may be older.

Withdrawals (m028): a row ``(article, task, '', WITHDRAWN, annotator, created_at)`` withdraws every row of that
article and task given at or before it; the reads here, as the views, take only the rows that stand
(``standing_label_sql``), and ``label_history`` lists them all. A withdrawal of one quote's corrections
(``withdraw_quote_correction``, ``--unlabel ID --task quote_speaker --quote QUOTE_ID``) is such a row naming the
quote (its ``quote_id``, place and words): it withdraws that quote's corrections only. Nothing is written twice."""
from __future__ import annotations

import json
from typing import Iterable, NamedTuple, Sequence

from sqlite_utils import Database

from cuttings.errors import StoreError
from cuttings.store.analyses import quote_people_fresh, same_quotes
from cuttings.store.connection import transaction, utcnow
from cuttings.store.schema import QUOTE_TASKS  # corrections of a quote: quote_id, target "start:end" (m029)
from cuttings.store.schema import SURNAME_SQL, WITHDRAWN, standing_label_sql, store_quote_people_rows_of

_STANDING = standing_label_sql("l")
_IS_WITHDRAWAL = f"label = '{WITHDRAWN}'"
_PER_QUOTE = "article_id, task, quote_id, CASE WHEN quote_id IS NULL THEN target END"   # a quote correction's question


def _for_articles(column: str, article_ids: Iterable[int] | None) -> tuple[str, list]:
    """The SQL that keeps a reader's rows to ``article_ids`` (`` AND column IN ...``) and its parameter; no
    condition for None (every article). One JSON parameter read by ``json_each``, as ``analyses_of`` does: no
    bound-variable limit however many stories are asked for."""
    if article_ids is None:
        return "", []
    return f" AND {column} IN (SELECT value FROM json_each(?))", [json.dumps(list(article_ids))]


def add_labels(db: Database, rows: Iterable[tuple], at: str | None = None) -> int:
    """Append ``(article_id, task, target, label, annotator)`` rows in one transaction (joining the
    caller's if one is open), given ``at`` (default: now), or each with its own time as a sixth item
    (an import: the time the file says it was given, kept as it is); returns the count.

    A row without a sixth item (a person answering here, now or at the ``at`` an API caller names) is
    stamped one second after the newest row of its article and task when that is not older than its time
    (a label given in the same second as the one it replaces, or after a label imported from a clock ahead
    of this one): the views here order one second's rows by id, but a file carries times to the second
    only, and between databases the newest time wins, a withdrawal wins a tie, and two labels of one
    second are ordered by annotator (docs/labelling.md, "Labels moved between databases"), so the row
    written later must be newer by its time than what it answers, or it would stand here and lose in every
    database its export reaches. The rows of one call for one article and task (a story's topics) share one
    time. Before session 23 a row given an explicit ``at`` kept it even in the second of an earlier row."""
    now = at or utcnow()
    stamped = []
    newest: dict[tuple[int, str], str | None] = {}
    with transaction(db):
        for row in rows:
            if len(row) == 6:
                stamped.append(tuple(row))
                continue
            key = (row[0], row[1])
            if key not in newest:
                newest[key] = db.execute("SELECT max(created_at) FROM labels WHERE article_id = ? AND task = ?",
                                         list(key)).fetchone()[0]
            stamped.append((*row, _given_after(newest[key], now)))
        db.conn.executemany(
            "INSERT INTO labels (article_id, task, target, label, annotator, created_at, quote_id, quote_text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, *(_quote_at(db, row[0], row[2]) if row[1] in QUOTE_TASKS and row[3] != WITHDRAWN
                      else (None, None))) for row in stamped])
    return len(stamped)


def _quote_at(db: Database, article_id: int, place: str) -> tuple[int | None, str | None]:
    """``(id, words)`` of the article's quote at ``place`` (``start:end``; the first stored of two there), or
    ``(None, None)``: the quote a correction keyed by that place corrects (m029)."""
    row = db.execute("SELECT id, text FROM quotes WHERE article_id = ? AND start_char || ':' || end_char = ? "
                     "ORDER BY id LIMIT 1", [article_id, place]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def _given_after(latest: str | None, now: str) -> str:
    """The time of a row given at ``now`` after the newest row of its article and task (``latest``; None:
    none): ``now``, or one second after ``latest`` when that is not older (:func:`add_labels`)."""
    return _second_after(latest) if latest is not None and latest >= now else now


def _second_after(when: str) -> str:
    """The ISO UTC time one second after ``when`` (``2026-11-20T08:00:00Z``)."""
    import datetime as dt
    moment = dt.datetime.strptime(when[:19], "%Y-%m-%dT%H:%M:%S") + dt.timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def import_withdrawal(db: Database, article_id: int, task: str, annotator: str, at: str) -> bool:
    """Record a withdrawal of one article's ``task`` given elsewhere at ``at`` (a file's ``withdrawn``),
    unless this database has one as new or newer: a :data:`WITHDRAWN` row under ``annotator`` stamped ``at``,
    written even when no label stands here (a copy of a label given before it, imported later, then stays
    withdrawn). A label here given after ``at`` stands on, by its time (nothing is written again). Returns
    whether it was recorded."""
    with transaction(db):
        latest = db.execute(f"SELECT max(created_at) FROM labels WHERE article_id = ? AND task = ? "
                            f"AND label = '{WITHDRAWN}' AND quote_id IS NULL", [article_id, task]).fetchone()[0]
        if latest is not None and latest >= at:
            return False
        add_labels(db, [(article_id, task, "", WITHDRAWN, annotator, at)])
    return True


_COLUMNS = "article_id, task, target, label, annotator, created_at, quote_id, quote_text"


def withdraw_labels(db: Database, article_id: int, tasks: Iterable[str], annotator: str,
                    at: str | None = None) -> list[tuple[str, str, str, str, str]]:
    """Withdraw every standing human label of one article for ``tasks`` (a person's undo: the models'
    predictions apply again and the story waits for a label again), in one transaction: one
    :data:`WITHDRAWN` row per task that has any, under ``annotator``, given ``at`` (default now; stamped as
    :func:`add_labels` stamps an answer). Nothing
    is deleted. Returns the rows withdrawn as ``(task, target, label, annotator, created_at)``, in the order
    they were given (empty: nothing stood, nothing written)."""
    tasks = list(tasks)
    if not tasks:
        return []
    marks = ", ".join("?" for _ in tasks)
    with transaction(db):
        rows = db.execute(f"SELECT task, target, label, annotator, created_at FROM labels l WHERE l.article_id = ? "
                          f"AND l.task IN ({marks}) AND {_STANDING} ORDER BY l.created_at, l.id", [article_id, *tasks]).fetchall()
        withdrawn = list(dict.fromkeys(row[0] for row in rows))
        add_labels(db, [(article_id, task, "", WITHDRAWN, annotator) for task in withdrawn], at)
    return [tuple(row) for row in rows]


def withdraw_quote_correction(db: Database, article_id: int, task: str, quote_id: int, annotator: str,
                              at: str | None = None) -> list[tuple[str, str, str, str, str]]:
    """Withdraw the standing corrections of one quote (``quote_id``, found or orphaned) for ``task`` (one of
    :data:`QUOTE_TASKS`) in one article, leaving the article's other corrections of the task standing, in one
    transaction: a :data:`WITHDRAWN` row naming the quote (``target`` its place, ``quote_id``, ``quote_text``),
    given ``at`` (default: now) and stamped as :func:`add_labels` stamps a person's answer, under ``annotator``: it
    takes back that quote's corrections given at or before it, no other row (:func:`standing_label_sql`).
    Returns the rows withdrawn as ``(task, target, label, annotator, created_at)`` (empty: none stood,
    nothing written)."""
    with transaction(db):
        rows = db.execute(f"SELECT task, target, label, annotator, created_at FROM labels l WHERE l.article_id = ? "
                          f"AND l.task = ? AND l.quote_id = ? AND {_STANDING} ORDER BY l.created_at, l.id",
                          [article_id, task, quote_id]).fetchall()
        if not rows:
            return []
        latest = db.execute("SELECT max(created_at) FROM labels WHERE article_id = ? AND task = ?",
                            [article_id, task]).fetchone()[0]
        at = _given_after(latest, at or utcnow())
        _write_quote_withdrawal(db, article_id, task, quote_id, annotator, at)
    return [tuple(row) for row in rows]


def _write_quote_withdrawal(db: Database, article_id: int, task: str, quote_id: int, annotator: str, at: str) -> None:
    """The row of a withdrawal of one quote's corrections (:func:`withdraw_quote_correction`): :data:`WITHDRAWN`
    naming the quote (its place and words now, else as its corrections last had them). A correction of it given
    after ``at`` (imported from elsewhere) stands on, and so do the article's corrections of other quotes."""
    place = db.execute("SELECT start_char || ':' || end_char, text FROM quotes WHERE id = ? AND article_id = ?",
                       [quote_id, article_id]).fetchone() or db.execute(
        "SELECT target, quote_text FROM labels WHERE article_id = ? AND task = ? AND quote_id = ? "
        "ORDER BY created_at DESC, id DESC LIMIT 1", [article_id, task, quote_id]).fetchone() or ("", None)
    db.execute(f"INSERT INTO labels ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [article_id, task, place[0], WITHDRAWN, annotator, at, quote_id, place[1]])


def import_quote_withdrawal(db: Database, article_id: int, task: str, quote_id: int, annotator: str, at: str) -> bool:
    """Record a withdrawal of one quote's corrections given elsewhere at ``at`` (a file's ``withdrawn_quotes``;
    ``quote_id`` the quote here it names), unless this database has a withdrawal as new or newer of the task
    (all its corrections) or of that quote: written even when no correction of the quote stands here (a copy
    imported later then stays withdrawn); a correction of that quote given here after ``at`` stands on, and so
    do the article's corrections of other quotes. Returns whether it was recorded."""
    with transaction(db):
        latest = db.execute(f"SELECT max(created_at) FROM labels WHERE article_id = ? AND task = ? "
                            f"AND label = '{WITHDRAWN}' AND (quote_id IS NULL OR quote_id = ?)",
                            [article_id, task, quote_id]).fetchone()[0]
        if latest is not None and latest >= at:
            return False
        _write_quote_withdrawal(db, article_id, task, quote_id, annotator, at)
    return True


def _newest(where: str, partition: str) -> str:
    """SELECT of the id of the newest ``labels`` row by (created_at, id) of each ``partition`` among those
    ``where`` says."""
    return (f"SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY {partition} ORDER BY created_at DESC, "
            f"id DESC) AS newest FROM labels WHERE {where}) WHERE newest = 1")


def quote_withdrawals(db: Database, article_ids: Iterable[int] | None = None) -> list[QuoteWithdrawal]:
    """The latest withdrawal of each quote's corrections (``withdraw_quote_correction``) per article, task and
    quote (the newest by time, then id), by article and id (of ``article_ids``)."""
    sql = (f"SELECT article_id, task, quote_id, target, quote_text, annotator, created_at FROM labels "
           f"WHERE id IN ({_newest(_IS_WITHDRAWAL + ' AND quote_id IS NOT NULL', 'article_id, task, quote_id')})")
    more, params = _for_articles("article_id", article_ids)
    sql += more
    return [QuoteWithdrawal(*row) for row in db.execute(sql + " ORDER BY article_id, id", params)]


def quote_article(db: Database, quote_id: int, article_id: int | None = None) -> int | None:
    """The article a quote id is of: its stored quote's, else (a gone quote) that of the corrections naming
    it (``article_id``'s first, when it has one); None: no quote and no correction has the id."""
    row = db.execute("SELECT article_id FROM quotes WHERE id = ?", [quote_id]).fetchone() or db.execute(
        "SELECT article_id FROM labels WHERE quote_id = ? ORDER BY article_id = ? DESC LIMIT 1",
        [quote_id, article_id]).fetchone()
    return row[0] if row else None


def gone_quotes_of_words(db: Database, article_id: int, task: str, words: str) -> list[int]:
    """The ids of the article's gone quotes (no longer stored) whose corrections of ``task`` have ``words``."""
    return [row[0] for row in db.execute(
        "SELECT DISTINCT quote_id FROM labels l WHERE article_id = ? AND task = ? AND quote_text = ? "
        "AND quote_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM quotes q WHERE q.id = l.quote_id) ORDER BY quote_id",
        [article_id, task, words])]


def withdrawals(db: Database, article_ids: Iterable[int] | None = None) -> dict[int, dict[str, tuple[str, str]]]:
    """The latest withdrawal of each article's tasks: ``{article_id: {task: (annotator, created_at)}}`` (of
    ``article_ids``); a withdrawal of one quote's corrections (``quote_withdrawals``) is not one of its task."""
    sql = (f"SELECT article_id, task, annotator, created_at FROM labels WHERE id IN "
           f"({_newest(_IS_WITHDRAWAL + ' AND quote_id IS NULL', 'article_id, task')})")
    more, params = _for_articles("article_id", article_ids)
    sql += more
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
    of a quote of the article now: the row keeps that quote's id and words, ``quote_id``/``quote_text``, and
    applies to it wherever a re-analysis finds it; ``quote_entity`` label ``''`` unlinks the quote from any
    body). A quote correction naming no quote's place raises :class:`CorrectionError`."""
    rows = [(str(task), str(target), str(label)) for task, target, label in rows]
    if not annotator or not annotator.strip():
        raise CorrectionError("a correction needs an annotator")
    if db.execute("SELECT 1 FROM articles WHERE id = ?", [article_id]).fetchone() is None:
        raise CorrectionError(f"no article {article_id}")
    for task, target, _label in rows:
        if task in QUOTE_TASKS and _quote_at(db, article_id, target)[0] is None:
            raise CorrectionError(f"no quote at {target} in article {article_id}")
    return add_labels(db, [(article_id, task, target, label, annotator.strip()) for task, target, label in rows])


def _quote_speakers(db: Database, article_id: int) -> list[tuple[int, str | None]]:
    """(quote id, its speaker's surname as quote_people reads it, or None) of each quote of the article, its
    corrections applied (quote_view)."""
    return [tuple(row) for row in db.execute(
        f"SELECT quote_id, {SURNAME_SQL.format('speaker_id')} FROM quote_view WHERE article_id = ?",
        [article_id]).fetchall()]


def add_correction_in_step(db: Database, article_id: int, rows: Iterable[tuple[str, str, str]],
                           annotator: str) -> int:
    """:func:`add_correction`, keeping quote_people's stored rows in step (m038) when it corrects a quote: in
    the same transaction (``BEGIN IMMEDIATE``, so no other write comes between), when the rows were in step
    before, the rows a correction of the article's quotes can change are worked out again and stored
    (``schema.store_quote_people_rows_of``: the article's quotes and every quote whose speaker has a surname
    one of them had or has now), and the rows are fresh again: the quote pages read stored rows after a
    correction from the story page, where a full refresh would cost about 1 s at 50,000 stories (this, about
    0.1 s: docs/benchmarks.md, "A correction keeps the quote pages stored"). Rows already stale before (a write
    of another kind since the last refresh) stay stale: the next analyse or label run stores them all."""
    rows = [(str(task), str(target), str(label)) for task, target, label in rows]
    if not any(task in QUOTE_TASKS for task, _target, _label in rows):
        return add_correction(db, article_id, rows, annotator)
    own = not db.conn.in_transaction
    if own:
        db.conn.execute("BEGIN IMMEDIATE")
    try:
        in_step = "quote_people_state" in db.table_names() and quote_people_fresh(db)
        before = _quote_speakers(db, article_id) if in_step else []
        count = add_correction(db, article_id, rows, annotator)
        if in_step:
            after = _quote_speakers(db, article_id)
            store_quote_people_rows_of(db, [quote for quote, _surname in before + after],
                                       [surname for _quote, surname in before + after if surname is not None])
    except BaseException:
        if own:
            db.conn.execute("ROLLBACK")
        raise
    if own:
        db.conn.execute("COMMIT")
    return count


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
    annotator)`` (of ``article_ids``), in the order they were given (``created_at``, then ``id``): the rows
    ``cuttings.labelling.human_labels`` resolves, the later winning."""
    return [row[:5] for row in human_label_rows_at(db, article_ids)]


def human_label_rows_at(db: Database, article_ids: Iterable[int] | None = None
                        ) -> list[tuple[int, str, str, str, str, str]]:
    """:func:`human_label_rows` with each row's ``created_at`` as a sixth item."""
    sql = f"SELECT article_id, task, target, label, annotator, created_at FROM labels l WHERE {_STANDING}"
    more, params = _for_articles("article_id", article_ids)
    sql += more
    return db.execute(sql + " ORDER BY created_at, id", params).fetchall()


def effective_label_rows(db: Database, article_id: int) -> list[tuple[str, str, str]]:
    """The labels that stand for one article, ``(task, target, label)`` from ``effective_labels`` (a
    person's where given, else the models'): what ``cuttings export`` and ``article_summary`` show of it."""
    return db.execute("SELECT task, target, label FROM effective_labels WHERE article_id = ? ORDER BY task, target, "
                      "label", [article_id]).fetchall()


class QuoteWithdrawal(NamedTuple):
    """The latest withdrawal of one quote's corrections (:func:`quote_withdrawals`)."""
    article_id: int
    task: str
    quote_id: int
    target: str           # the quote's place when withdrawn
    words: str | None     # its words when withdrawn
    annotator: str
    created_at: str


class QuoteCorrection(NamedTuple):
    """One current correction of a quote (:func:`quote_corrections`)."""
    article_id: int
    task: str             # quote_speaker or quote_entity
    target: str           # the quote's place (start:end) as last found
    label: str
    annotator: str
    words: str | None     # the quote's words now, else as last found (None: a correction m029 found no quote for)
    created_at: str
    quote_id: int | None  # the quote it corrects (quotes.id; None: m029 found no quote at its place)
    found: bool           # its quote is stored: False, orphaned (the quote is gone; it applies to no quote)


def quote_corrections(db: Database, article_ids: Iterable[int] | None = None) -> list[QuoteCorrection]:
    """The current corrections of quotes: the latest standing row (by time, then id) per article, task and quote
    (``quote_id``; one without, per place), by article, then id, orphaned ones (``found`` False: their quote is
    gone) included."""
    marks = ", ".join("?" for _ in QUOTE_TASKS)
    sql = (f"SELECT l.article_id, l.task, l.target, l.label, l.annotator, "
           f"coalesce((SELECT q.text FROM quotes q WHERE q.id = l.quote_id), l.quote_text), l.created_at, "
           f"l.quote_id, EXISTS (SELECT 1 FROM quotes q WHERE q.id = l.quote_id AND q.article_id = l.article_id) "
           f"FROM labels l WHERE l.id IN ({_newest(f'task IN ({marks}) AND NOT {_IS_WITHDRAWAL}', _PER_QUOTE)}) "
           f"AND {_STANDING}")
    params: list = [*QUOTE_TASKS]
    more, chosen = _for_articles("l.article_id", article_ids)
    sql += more
    params += chosen
    return [QuoteCorrection(*row[:8], bool(row[8])) for row in db.execute(sql + " ORDER BY l.article_id, l.id", params)]


def label_columns(db) -> set[str]:
    """The columns ``labels`` has in this database (``quote_id``, ``quote_text`` from m029 on). ``db``: a sqlite3
    or sqlite-utils connection."""
    return {row[1] for row in db.execute("PRAGMA table_info(labels)").fetchall()}


def orphaned_quote_corrections(db: Database, article_ids: Iterable[int] | None = None) -> list[QuoteCorrection]:
    """The current corrections whose quote is gone (a re-analysis no longer found it): kept, applying to no
    quote, until a person withdraws them (``cuttings label --unlabel ID --task quote_speaker --quote QUOTE_ID``)."""
    return [fix for fix in quote_corrections(db, article_ids) if not fix.found]


def find_quote(db: Database, article_id: int, words: str, place: str | None = None) -> tuple[str, int] | None:
    """``(start:end, id)`` of the article's quote that a quote elsewhere (another database's: other ids, maybe
    another version of the text) of ``words`` at ``place`` is, by the rule of a re-analysis
    (``store.same_quotes``): the same place and words; else the one quote of those words; else the quote at
    that place read differently; else the one starting there with the same opening. None: no such quote."""
    quotes = db.execute("SELECT start_char, end_char, text, id FROM quotes WHERE article_id = ? ORDER BY start_char, id",
                        [article_id]).fetchall()
    start, _, end = (place or "").partition(":")
    where = (int(start), int(end)) if start.isdigit() and end.isdigit() else (-1, -1)
    found = same_quotes([(*where, words)], [(row[0], row[1], row[2]) for row in quotes])
    index = next((index for index, old in enumerate(found) if old == 0), None)
    return None if index is None else (f"{quotes[index][0]}:{quotes[index][1]}", quotes[index][3])


def first_label_times(db: Database, tasks: Iterable[str]) -> dict[int, str]:
    """``{article_id: created_at}`` of the first ``labels`` row of ``tasks`` each story has, withdrawn or not
    (a withdrawal row too): from then on a model trained could have learnt from a label of it."""
    return dict(db.execute("SELECT article_id, min(created_at) FROM labels WHERE task IN "
                           "(SELECT value FROM json_each(?)) GROUP BY article_id", [json.dumps(list(tasks))]))
