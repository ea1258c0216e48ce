"""Analyses and classifications: ``entities``, ``mentions``, ``quotes``, ``named_entities``,
``classifications`` and the ``processing`` stamps each stage leaves on an article.

The analyse and classify stages read and write through these functions; what the results
mean (speaker linking, label policy) is the stages' business, not the store's.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from sqlite_utils import Database

from cuttings.store.connection import transaction, utcnow
from cuttings.store.schema import QUOTE_TASKS, store_article_label_rows, store_quote_people_rows


def sync_entities(db: Database, watchlist: Any) -> None:
    with db.atomic():
        for entity in watchlist.entities:
            db.execute(
                "INSERT INTO entities (id, name, kind, watchlist_version, display_name) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
                "watchlist_version = excluded.watchlist_version, display_name = excluded.display_name",
                [entity.id, entity.name, entity.kind, watchlist.version, getattr(entity, "display_name", None) or None])


def entity_ids(db: Database) -> list[str]:
    """The ids of the watched bodies the store knows (``entities``, as ``sync_entities`` wrote them), sorted."""
    return [entity_id for (entity_id,) in db.execute("SELECT id FROM entities ORDER BY id").fetchall()]


def sync_watched_people(db: Database, people: list[dict]) -> None:
    """Replace ``watched_people`` with the watchlist's office holders and people: each ``{"entity_id",
    "name", "role", "speaker_id"}`` (``speaker_id``: the person's speaker identity, as ``quotes.speaker_id``
    gives it). The ``speaker_names`` view shows the watchlist's name for a person it knows. The first of
    two rows with one (entity, name) is kept. The same rows as stored write nothing (m038: a write marks
    quote_people's stored rows stale)."""
    kept: dict[tuple, tuple] = {}
    for person in people:
        row = (person["entity_id"], person["name"], person.get("role") or None, person.get("speaker_id"))
        kept.setdefault(row[:2], row)
    if sorted(kept.values(), key=repr) == sorted(
            db.execute("SELECT entity_id, name, role, speaker_id FROM watched_people").fetchall(), key=repr):
        return
    with transaction(db):
        db.execute("DELETE FROM watched_people")
        db.conn.executemany(
            "INSERT OR IGNORE INTO watched_people (entity_id, name, role, speaker_id) VALUES (?, ?, ?, ?)",
            list(kept.values()))


def set_display_names(db: Database, names: dict[str, str]) -> None:
    """Store the watchlist's short display names of watched bodies (``entities.display_name``)."""
    with transaction(db):
        db.conn.executemany("UPDATE entities SET display_name = ? WHERE id = ?",
                            [(name or None, entity_id) for entity_id, name in names.items()])


def _to_process_sql(columns: str, requires: tuple[str, str] | None) -> str:
    sql = (f"SELECT {columns} FROM articles a LEFT JOIN processing p ON p.article_id = a.id AND p.stage = ? "
           "WHERE (p.article_id IS NULL OR p.version != ? OR p.content_hash != a.content_hash)")
    if requires:
        sql += (" AND EXISTS (SELECT 1 FROM processing r WHERE r.article_id = a.id AND r.stage = ? "
                "AND r.version = ? AND r.content_hash = a.content_hash)")
    return sql


def articles_to_process(db: Database, stage: str, version: str, *, limit: int | None = None,
                        requires: tuple[str, str] | None = None) -> Iterator[dict]:
    """Articles the given stage has not processed at this version (or whose text changed since), each with
    its stamp's version (``processed_version``) and ``inputs_digest`` (None without a stamp).

    ``requires=(stage, version)`` limits them to articles that an earlier stage has already
    processed at its current version (classify needs the mentions that analyse writes).
    """
    sql = _to_process_sql("a.id, a.title, a.body, a.published_at, a.content_hash, a.canonical_url, a.source_id, "
                          "p.version AS processed_version, p.inputs_digest, "
                          "(SELECT s.region FROM sources s WHERE s.id = a.source_id) AS source_region",
                          requires) + " ORDER BY a.id"
    params: list[Any] = [stage, version, *(requires or ())]
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    yield from db.query(sql, params)


def count_to_process(db: Database, stage: str, version: str, *, requires: tuple[str, str] | None = None) -> int:
    return db.execute(_to_process_sql("count(*)", requires), [stage, version, *(requires or ())]).fetchone()[0]


def latest_stamp_version(db, stage: str) -> str | None:
    """The version of ``stage``'s newest ``processing`` stamp (the analyser or models the stage runs now:
    latest ``processed_at``, then the latest written), or None when it has stamped nothing. ``db``: a sqlite3
    or sqlite-utils connection."""
    row = db.execute("SELECT version FROM processing WHERE stage = ? ORDER BY processed_at DESC, rowid DESC "
                     "LIMIT 1", [stage]).fetchone()
    return row[0] if row else None


def stage_backlog(db, stage: str, before: str, *, requires: str | None = None) -> tuple[int, str | None]:
    """(articles waiting for ``stage``, the version it stamps now: :func:`latest_stamp_version`): articles
    whose current text was captured by ``before`` (timestamps are to the second: the same second counts)
    and has no ``stage`` stamp at that version (``IS NOT``: with no stamp at all, every article waits), or a
    stamp of older text; ``requires``: only those the earlier stage has stamped for their current text, at
    any version (classify reads analyse's mentions). Unlike :func:`count_to_process`, which counts what a
    stage will process now, this is ``cuttings doctor``'s backlog: what a run that ended at ``before``
    left. ``db``: a sqlite3 or sqlite-utils connection."""
    version = latest_stamp_version(db, stage)
    sql = ("SELECT count(*) FROM articles a LEFT JOIN processing p ON p.article_id = a.id AND p.stage = ? "
           "WHERE (p.article_id IS NULL OR p.version IS NOT ? OR p.content_hash != a.content_hash) "
           "AND coalesce((SELECT max(v.captured_at) FROM article_versions v WHERE v.article_id = a.id), "
           "a.first_seen_at) <= ?")
    params: list = [stage, version, before]
    if requires:
        sql += (" AND EXISTS (SELECT 1 FROM processing r WHERE r.article_id = a.id AND r.stage = ? "
                "AND r.content_hash = a.content_hash)")
        params.append(requires)
    return db.execute(sql, params).fetchone()[0], version


def any_classified(db) -> bool:
    """Whether any article has a ``classify`` stamp (classification was ever in use). ``db``: a sqlite3 or
    sqlite-utils connection."""
    return bool(db.execute("SELECT EXISTS (SELECT 1 FROM processing WHERE stage = 'classify')").fetchone()[0])


def mark_processed(db: Database, article_id: int, stage: str, version: str, content_hash_: str,
                   inputs_digest: str | None = None) -> None:
    """Stamp ``article_id`` done by ``stage`` at ``version`` for its text ``content_hash_``; ``inputs_digest``
    (the classify stage's, m034: what its models read of the article) is written with it when given."""
    if inputs_digest is None:
        db.conn.execute(
            "INSERT INTO processing (article_id, stage, version, content_hash, processed_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(article_id, stage) DO UPDATE SET version = excluded.version, "
            "content_hash = excluded.content_hash, processed_at = excluded.processed_at",
            [article_id, stage, version, content_hash_, utcnow()])
        return
    db.conn.execute(
        "INSERT INTO processing (article_id, stage, version, content_hash, processed_at, inputs_digest) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(article_id, stage) DO UPDATE SET version = excluded.version, "
        "content_hash = excluded.content_hash, processed_at = excluded.processed_at, "
        "inputs_digest = excluded.inputs_digest",
        [article_id, stage, version, content_hash_, utcnow(), inputs_digest])


_QUOTE_COLUMNS = ("speaker", "speaker_id", "speaker_role", "entity_id", "entity_method", "text", "start_char",
                  "end_char", "analyser_version")
_OLD_QUOTES_SQL = f"SELECT id, {', '.join(_QUOTE_COLUMNS)} FROM quotes WHERE article_id = ? ORDER BY id"
_UPDATE_QUOTE_SQL = f"UPDATE quotes SET {', '.join(f'{column} = ?' for column in _QUOTE_COLUMNS)} WHERE id = ?"


def replace_analysis(db: Database, article: dict, version: str, mentions: list[dict], quotes: list[dict],
                     named_entities: list[dict] | None = None) -> None:
    """Store one article's mentions, quotes (and named entities, when NER is on), replacing
    any older analysis, in one transaction.

    A quote the new analysis finds again keeps its row, so its id (``quote_id`` in the views) stays:
    which old quote a new one is follows :func:`same_quotes` (same place and words; else the same words
    moved; else the same place read differently; else the same opening, longer or shorter). A kept
    quote's row is updated (when a value changed), a quote found no more is deleted and a new one
    inserted (``quotes.id`` is AUTOINCREMENT since m027: a deleted id is never given again). A person's
    correction of a quote (``labels`` tasks ``quote_speaker``/``quote_entity``) names its quote by id
    (``quote_id``, m029): its ``target`` (``start:end``) and ``quote_text`` follow a kept quote; one whose
    quote is gone applies to no quote (orphaned), whatever is found at its old place. Mentions and named
    entities are replaced (new ids: nothing refers to them)."""
    article_id = article["id"]
    rows = [(article_id, q.get("speaker"), q.get("speaker_id"), q.get("speaker_role"), q.get("entity_id"),
             q.get("entity_method") or ("stated" if q.get("entity_id") else None), q["text"],
             q["start_char"], q["end_char"], version) for q in quotes]
    with transaction(db):
        old = db.conn.execute(_OLD_QUOTES_SQL, [article_id]).fetchall()
        # Always replace, whatever the stamp says: an article whose stamp was deleted by hand (the
        # recovery in docs/operations.md) or lost still has its old rows, which must not stay beside the new.
        for table in ("mentions", "named_entities"):
            db.conn.execute(f"DELETE FROM {table} WHERE article_id = ?", [article_id])
        db.conn.executemany(
            "INSERT INTO named_entities (article_id, label, text, start_char, end_char, analyser_version) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(article_id, e["label"], e["text"], e["start_char"], e["end_char"], version)
             for e in named_entities or ()])
        db.conn.executemany(
            "INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, sentence, paragraph, "
            "method, analyser_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(article_id, m["entity_id"], m["surface"], m["start_char"], m["end_char"], m.get("sentence"),
              m.get("paragraph"), m.get("method", "matched"), version) for m in mentions])
        found: list[int | None] = [None] * len(quotes)
        if old:
            found = same_quotes([(row[7], row[8], row[6]) for row in old],
                                [(q["start_char"], q["end_char"], q["text"]) for q in quotes])
            kept = set(found)
            gone = [(row[0],) for index, row in enumerate(old) if index not in kept]
            if gone:
                db.conn.executemany("DELETE FROM quotes WHERE id = ?", gone)
            changed = [(*row[1:], old[old_index][0]) for row, old_index in zip(rows, found)
                       if old_index is not None and old[old_index][1:] != row[1:]]   # unchanged: not written
            if changed:
                db.conn.executemany(_UPDATE_QUOTE_SQL, changed)
            # a person's corrections of a kept quote name it by id (m029): their place and words follow it
            followed = [(f"{row[7]}:{row[8]}", row[6], article_id, old[old_index][0])
                        for row, old_index in zip(rows, found)
                        if old_index is not None and (old[old_index][7:9] != row[7:9] or old[old_index][6] != row[6])]
            if followed:
                db.conn.executemany(_FOLLOW_CORRECTIONS_SQL, followed)
        added = [row for row, old_index in zip(rows, found) if old_index is None]
        if added:
            db.conn.executemany(
                "INSERT INTO quotes (article_id, speaker, speaker_id, speaker_role, entity_id, entity_method, text, "
                "start_char, end_char, analyser_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", added)
        mark_processed(db, article_id, "analyse", version, article["content_hash"])


def same_quotes(old: list[tuple[int, int, str]], new: list[tuple[int, int, str]]) -> list[int | None]:
    """Which of an article's quotes before (``old``) each quote now (``new``) is, both as ``(start_char,
    end_char, text)``: for each new quote, the index of its old quote, or None for a new quote. The one
    rule for a quote's row (its id) and for a person's corrections of it, in four passes, each old quote
    matched once:

    1. the same place and the same words;
    2. the same words moved (a revision added or cut text above): the words of exactly one old quote
       still unmatched and of exactly one new quote still unmatched (quoted twice: which is which cannot
       be told, so neither is matched);
    3. the same place read differently (an analyser that joins a quote's pieces otherwise): an unmatched
       old and new quote at one place, neither's words quoted on the other side;
    4. the same opening, longer or shorter (a revision added or cut the paragraph a quote went on into):
       an unmatched old and new quote starting at one place, the shorter's words (without the stop or
       comma that ends them) beginning the longer's.
    """
    found: list[int | None] = [None] * len(new)
    matched: set[int] = set()
    at_place: dict[tuple[int, int], list[int]] = {}
    for index, (start, end, _text) in enumerate(old):
        at_place.setdefault((start, end), []).append(index)

    def match(new_index: int, old_index: int) -> None:
        found[new_index] = old_index
        matched.add(old_index)

    for new_index, (start, end, text) in enumerate(new):
        for old_index in at_place.get((start, end), ()):
            if old_index not in matched and old[old_index][2] == text:
                match(new_index, old_index)
                break
    old_by_words: dict[str, list[int]] = {}
    for old_index, (_start, _end, text) in enumerate(old):
        if old_index not in matched:
            old_by_words.setdefault(text, []).append(old_index)
    new_by_words: dict[str, list[int]] = {}
    for new_index, (_start, _end, text) in enumerate(new):
        if found[new_index] is None:
            new_by_words.setdefault(text, []).append(new_index)
    for text, new_indexes in new_by_words.items():
        old_indexes = old_by_words.get(text, [])
        if len(new_indexes) == 1 and len(old_indexes) == 1:
            match(new_indexes[0], old_indexes[0])
    old_words = {text for _start, _end, text in old}
    new_words = {text for _start, _end, text in new}
    for new_index, (start, end, text) in enumerate(new):
        if found[new_index] is None and text not in old_words:
            for old_index in at_place.get((start, end), ()):
                if old_index not in matched and old[old_index][2] not in new_words:
                    match(new_index, old_index)
                    break
    starts: dict[int, list[int]] = {}
    for old_index, (start, _end, _text) in enumerate(old):
        if old_index not in matched:
            starts.setdefault(start, []).append(old_index)
    for new_index, (start, _end, text) in enumerate(new):
        if found[new_index] is None:
            for old_index in starts.get(start, ()):
                shorter, longer = sorted((text, old[old_index][2]), key=len)
                opening = shorter.rstrip(".,;:!?")
                if old_index not in matched and opening and longer.startswith(opening):
                    match(new_index, old_index)
                    break
    return found


# The place and words a correction of a quote (labels task quote_speaker / quote_entity, m029) keeps of its quote,
# as last found; it applies by quote_id alone. A correction whose quote is gone keeps its last place and words.
_FOLLOW_CORRECTIONS_SQL = ("UPDATE labels SET target = ?, quote_text = ? WHERE article_id = ? "
                           f"AND task IN ({', '.join(repr(task) for task in QUOTE_TASKS)}) AND quote_id = ?")


def replace_classifications(db: Database, article: dict, version: str, rows: list[dict],
                            inputs_digest: str | None = None) -> None:
    """Store one article's predictions (task, target, label, probability, uncertain, model_version),
    replacing all its older ones, in one transaction (or the caller's batch transaction); its stamp keeps
    ``inputs_digest`` (:func:`keep_classifications`)."""
    now = utcnow()
    with transaction(db):
        # Always replace, stamp or none: with its stamp deleted (docs/operations.md's recovery) the old
        # predictions are still there, and keeping them collided with the new (classifications_unique).
        db.conn.execute("DELETE FROM classifications WHERE article_id = ?", [article["id"]])
        db.conn.executemany(
            "INSERT INTO classifications (article_id, task, target, label, probability, uncertain, model_version, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(article["id"], r["task"], r.get("target", ""), r["label"], r.get("probability"),
              int(bool(r.get("uncertain"))), r["model_version"], now) for r in rows])
        mark_processed(db, article["id"], "classify", version, article["content_hash"], inputs_digest)


def keep_classifications(db: Database, article: dict, version: str, inputs_digest: str) -> None:
    """Stamp one article classified at ``version`` and keep its predictions as they are: the classify stage
    found that what its models read of the article (``inputs_digest``, m034) is what they read when they made
    them. In one transaction (or the caller's batch transaction)."""
    with transaction(db):
        mark_processed(db, article["id"], "classify", version, article["content_hash"], inputs_digest)


def analyses_of(db: Database, article_ids: list[int]) -> dict[int, dict[str, list[dict]]]:
    """``{article_id: {"mentions": [...], "quotes": [...]}}`` for many articles in two queries,
    each list in text order."""
    found: dict[int, dict[str, list[dict]]] = {article_id: {"mentions": [], "quotes": []} for article_id in article_ids}
    if not article_ids:
        return found
    ids = json.dumps(list(article_ids))
    for row in db.query(
            "SELECT article_id, entity_id, surface, start_char, end_char, sentence, paragraph, method FROM mentions "
            "WHERE article_id IN (SELECT value FROM json_each(?)) ORDER BY article_id, start_char", [ids]):
        found[row.pop("article_id")]["mentions"].append(row)
    for row in db.query(
            "SELECT article_id, speaker, speaker_role, entity_id, text, start_char, end_char FROM quotes "
            "WHERE article_id IN (SELECT value FROM json_each(?)) ORDER BY article_id, start_char", [ids]):
        found[row.pop("article_id")]["quotes"].append(row)
    return found


def article_classifications(db: Database, article_id: int) -> list[tuple[str, str, str, float | None, int]]:
    """One article's predictions as ``(task, target, label, probability, uncertain)``, by task and
    target, the most probable label first (ties by label)."""
    return db.execute("SELECT task, target, label, probability, uncertain FROM classifications WHERE article_id = ? "
                      "ORDER BY task, target, probability DESC, label", [article_id]).fetchall()


def all_quotes(db: Database) -> Iterator[dict]:
    """Every stored quote as the analyse stage left it, speaker linking included: ``article_id``,
    ``speaker``, ``speaker_id``, ``speaker_role``, ``entity_id``, ``entity_method``, ``text``,
    ``start_char``, ``end_char``, by article and in text order (``cuttings evaluate quotes``' scratch store)."""
    yield from db.query("SELECT article_id, speaker, speaker_id, speaker_role, entity_id, entity_method, text, "
                        "start_char, end_char FROM quotes ORDER BY article_id, start_char")


def stated_speakers(db: Database) -> Iterator[dict]:
    """Quotes whose article states whom the speaker speaks for (``entity_method = 'stated'``),
    with their article's id, story (``story_id``: a syndicated copy's original) and publication date."""
    yield from db.query("SELECT q.speaker, q.speaker_role, q.entity_id, q.entity_method, q.article_id, "
                        "coalesce(a.duplicate_of, a.id) AS story_id, a.published_at "
                        "FROM quotes q JOIN articles a ON a.id = q.article_id "
                        "WHERE q.entity_method = 'stated' AND q.speaker IS NOT NULL")


def unstated_speaker_quotes(db: Database) -> list[dict]:
    """Quotes with a speaker whose entity is unknown or was carried from other articles
    (``known_speaker``), with the role their article gives, its story (``story_id``) and its
    publication date. The analyser's own links, ``stated`` or ``inferred``, are not among them."""
    return list(db.query(
        "SELECT q.id, q.article_id, coalesce(a.duplicate_of, a.id) AS story_id, q.speaker, q.speaker_role, "
        "q.entity_id, q.entity_method, a.published_at "
        "FROM quotes q JOIN articles a ON a.id = q.article_id "
        "WHERE q.speaker IS NOT NULL AND (q.entity_method IS NULL OR q.entity_method = 'known_speaker')"))


def relink_quotes(db: Database, changed: list[dict], *, invalidate_stage: str | None = None) -> None:
    """Set ``entity_id``/``entity_method`` of the given quotes (rows with id, article_id, entity_id,
    entity_method); their articles' ``invalidate_stage`` stamp is cleared so that stage runs again."""
    if not changed:
        return
    with db.atomic():
        db.conn.executemany("UPDATE quotes SET entity_id = ?, entity_method = ? WHERE id = ?",
                            [(row["entity_id"], row["entity_method"], row["id"]) for row in changed])
        if invalidate_stage:
            db.conn.executemany("UPDATE processing SET version = 'quotes relinked' WHERE article_id = ? AND stage = ?",
                                [(article_id, invalidate_stage)
                                 for article_id in sorted({row["article_id"] for row in changed})])


def article_mentions(db: Database, article_id: int) -> list[dict]:
    """One article's mentions, in text order."""
    return analyses_of(db, [article_id])[article_id]["mentions"]


def quote_people_fresh(db) -> bool:
    """True when quote_people reads its stored rows (``quote_people_state.fresh``, m038): nothing it reads has
    changed since they were stored."""
    row = db.execute("SELECT fresh FROM quote_people_state WHERE id = 1").fetchone()
    return bool(row and row[0])


def refresh_quote_people(db: Database) -> int | None:
    """Store quote_people's rows again when they are stale (m038; one transaction): the view then reads them
    instead of working every quote's person out for each statement. Returns how many rows were stored, or None
    when they were in step (nothing written). The analyse stage calls it at its end."""
    if quote_people_fresh(db):
        return None
    with transaction(db):
        return store_quote_people_rows(db)


def refresh_article_labels(db: Database) -> int:
    """Store article_summary's label columns for every story without a stored row (m041: a story's row is deleted
    whenever its labels or predictions change; one transaction): the view then reads them instead of working the
    story's labels out eight times. Returns how many rows were stored (0: every story's row was in step). The
    classify stage calls it at its end, ``cuttings label`` after it has written."""
    with transaction(db):
        return store_article_label_rows(db)


def stored_predictions(db: Database, tasks: Iterable[str]) -> list[tuple[int, str, str, str, str]]:
    """Every stored prediction of ``tasks`` as ``(article_id, task, target, label, model_version)``, by article,
    task and target: what `cuttings evaluate predictions` compares with the labels people gave later."""
    return db.execute("SELECT article_id, task, target, label, model_version FROM classifications "
                      "WHERE task IN (SELECT value FROM json_each(?)) ORDER BY article_id, task, target, label",
                      [json.dumps(list(tasks))]).fetchall()
