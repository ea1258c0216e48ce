"""Runs, errors and the reports log: ``crawl_runs``, ``crawl_errors``, ``source_runs``, ``reports``.

The URL and message of every ``crawl_errors`` and ``crawl_notices`` row are written with their
secrets redacted (``cuttings.redaction.redact``, the function the logs use): a feed URL with
``?token=...``, a signed sitemap URL, ``https://user:pass@host``, and without control
characters (``cuttings.redaction.strip_controls``: ESC or BEL from a response header). Article
URLs (``articles``, ``crawl_state``) are the identity of what was fetched and are stored as they are.
"""
from __future__ import annotations

import contextlib
import json
import os

from sqlite_utils import Database

from cuttings.redaction import redact, secret_values, strip_controls
from cuttings.store.connection import transaction, utcnow


def _redacted(text: str | None, secrets: list[str]) -> str | None:
    return None if text is None else redact(text, secrets)


MESSAGE_CHARS = 2000  # a crawl_errors / crawl_notices message is cut to this many characters


def _message(text: str | None, secrets: list[str]) -> str:
    """A stored message: cut, then redacted and stripped of control characters (ESC or BEL from
    a response header: ``cuttings.redaction.CONTROL_CHARS``), then cut to ``MESSAGE_CHARS``. Cut
    first so a huge message (a 100 KB crawled title in an error) is not redacted in full for 2000
    characters; the first cut keeps the longest secret value and 1000 characters more past the
    cap, so a secret or a URL password crossing the cap is still whole when it is redacted."""
    margin = 1000 + max((len(secret) for secret in secrets), default=0)
    return strip_controls(redact((text or "")[:MESSAGE_CHARS + margin], secrets))[:MESSAGE_CHARS]


def _url(url: str | None, secrets: list[str]) -> str | None:
    """A ``crawl_errors``/``crawl_notices`` URL: redacted, without control characters."""
    return None if url is None else strip_controls(redact(url, secrets))


def redact_stored_messages(db: Database, only_secret_values: bool = False) -> int:
    """Redact, in place, what was written before the store redacted it: the URL and message of
    ``crawl_errors`` and ``crawl_notices`` rows, ``crawl_runs.message`` and ``stages_json``, the
    ``sources`` rows' ``home_url`` and ``config_json``. Runs inside the caller's transaction (a
    migration); returns the number of rows changed. ``only_secret_values``: only the rows holding
    a value of this process's secret variables (found by SQLite's ``instr``, without reading every
    row into Python: what a crawl does at its start, see :func:`redact_known_secrets`)."""
    secrets = secret_values()
    if only_secret_values and not secrets:
        return 0
    changed = 0
    for table, columns in (("crawl_errors", ("url", "message")), ("crawl_notices", ("url", "message")),
                           ("crawl_runs", ("message", "stages_json")), ("sources", ("home_url", "config_json"))):
        if table not in db.table_names():
            continue
        where, parameters = "", []
        if only_secret_values:
            where = " WHERE " + " OR ".join(f"instr({column}, ?) > 0" for column in columns for _ in secrets)
            parameters = [secret for _ in columns for secret in secrets]
        for rowid, *values in db.execute(f"SELECT rowid, {', '.join(columns)} FROM {table}{where}",
                                         parameters).fetchall():
            redacted = [_redacted(value, secrets) for value in values]
            if redacted != values:
                db.execute(f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE rowid = ?",
                           [*redacted, rowid])
                changed += 1
    return changed


def start_run(db: Database, command: str, since: str | None = None) -> int:
    with db.atomic():
        cur = db.execute(
            "INSERT INTO crawl_runs (command, started_at, status, pid, since) VALUES (?, ?, 'running', ?, ?)",
            [command, utcnow(), os.getpid(), since],
        )
    return cur.lastrowid


def finish_run(db: Database, run_id: int, status: str, *, message: str | None = None,
               stages: dict | None = None, **counts: int) -> None:
    allowed = {"pages_fetched", "articles_new", "articles_updated", "articles_unchanged",
               "duplicates", "pages_rejected", "errors"}
    values = {k: v for k, v in counts.items() if k in allowed}
    with db.atomic():
        sets = ", ".join(f"{k} = ?" for k in values)
        params = list(values.values())
        db.execute(
            "UPDATE crawl_runs SET finished_at = ?, status = ?, message = ?, stages_json = ?"
            + (", " + sets if sets else "") + " WHERE id = ?",
            [utcnow(), status, _redacted(message, secrets := secret_values()),
             _redacted(json.dumps(stages), secrets) if stages is not None else None, *params, run_id],
        )


# The message of a stage `cuttings run --skip NAME` left out, as recorded in ``crawl_runs.stages_json``: the
# digest and doctor read it to tell a stage a team does not run from one that failed.
SKIPPED_ON_REQUEST = "skipped on request"
# The start of the message of a classify stage `cuttings run` skipped because the models folder holds no
# trained models (a team's first nights, before it has labelled and trained): like a stage skipped on
# request, the digest and doctor do not count its stories as waiting for classification every night.
SKIPPED_NO_MODELS = "skipped: no trained models"


def skipped_by_design(result: dict | None) -> bool:
    """Whether a stage record (``stages_json``'s entry) is a stage the run was not meant to run: skipped on
    request (``--skip``) or, for classify, for want of trained models (:data:`SKIPPED_NO_MODELS`)."""
    message = (result or {}).get("message") or ""
    return (result or {}).get("status") == "skipped" and (
        message == SKIPPED_ON_REQUEST or message.startswith(SKIPPED_NO_MODELS))


def record_run_stages(db: Database, run_id: int, stages: dict) -> None:
    """The stages a run still ``running`` has finished so far (``stages_json``), so the digest it writes
    can say which of them failed (``cuttings.report``); :func:`finish_run` writes the final ones."""
    with db.atomic():
        db.execute("UPDATE crawl_runs SET stages_json = ? WHERE id = ? AND status = 'running'",
                   [_redacted(json.dumps(stages), secret_values()), run_id])


def last_successful_run(db: Database, command_prefix: str = "crawl") -> dict | None:
    rows = list(db.query(
        "SELECT * FROM crawl_runs WHERE status IN ('ok', 'partial') AND command LIKE ? "
        "ORDER BY started_at DESC, id DESC LIMIT 1", [command_prefix + "%"]))
    return rows[0] if rows else None


def _first(cursor) -> dict | None:
    """The cursor's first row as a dict (None without one), whatever the connection's row factory."""
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    return None if row is None else dict(zip(names, row))


def last_completed_run(db) -> dict | None:
    """The latest run that completed (``ok`` or ``partial``) of the pipeline (``cuttings run``) or a crawl
    (``crawl...``): ``{"id", "command", "started_at", "status", "stages_json"}``, or None. Latest by start;
    of two started in the same second, the ``run`` first, then the higher id. Unlike
    :func:`last_successful_run`, ``run`` commands count (``cuttings doctor``'s "last run": the schedule's
    freshness). ``db``: a sqlite-utils ``Database`` or a plain (read-only) ``sqlite3.Connection``."""
    return _first(db.execute(
        "SELECT id, command, started_at, status, stages_json FROM crawl_runs WHERE status IN ('ok', 'partial') "
        "AND (command = 'run' OR command LIKE 'crawl%') ORDER BY started_at DESC, command = 'run' DESC, id DESC LIMIT 1"))


def latest_pipeline_run(db) -> dict | None:
    """The latest ``cuttings run`` (command ``run``) by id, in whatever state (running included):
    ``{"id", "status", "message", "stages_json"}``, or None. ``db``: a sqlite3 or sqlite-utils connection."""
    return _first(db.execute("SELECT id, status, message, stages_json FROM crawl_runs WHERE command = 'run' "
                             "ORDER BY id DESC LIMIT 1"))


def latest_finished_pipeline_run(db) -> dict | None:
    """The ``cuttings run`` (command ``run``) that finished last (``finished_at`` set: ended in any status),
    the higher id on a tie: ``{"id", "status", "finished_at", "stages_json"}``, or None. ``db``: a sqlite3
    or sqlite-utils connection."""
    return _first(db.execute("SELECT id, status, finished_at, stages_json FROM crawl_runs WHERE command = 'run' "
                             "AND finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1"))


def last_good_source_runs(db: Database, source_ids, failed) -> dict[str, str | None]:
    """Each source's last good crawl: ``{source id: started_at}`` of the latest successful crawl run
    (``ok`` or ``partial``, a ``crawl...`` command) in which the source did not fail, that is whose
    ``source_runs`` row ``failed(row)`` (``cuttings.failures.source_failed``) finds false; None for a
    source no successful run crawled without it failing. A run that did not crawl the source (``cuttings
    crawl --source OTHER``) is not one of its runs. Rows are read newest first, and only until one is good."""
    out: dict[str, str | None] = {}
    for source_id in source_ids:
        out[source_id] = None
        cursor = db.execute(
            "SELECT sr.*, cr.started_at AS run_started_at FROM source_runs sr "
            "JOIN crawl_runs cr ON cr.id = sr.crawl_run_id "
            "WHERE sr.source_id = ? AND cr.status IN ('ok', 'partial') AND cr.command LIKE 'crawl%' "
            "ORDER BY cr.started_at DESC, cr.id DESC", [source_id])
        names = [d[0] for d in cursor.description]
        for values in cursor:
            row = dict(zip(names, values))
            if not failed(row):
                out[source_id] = row["run_started_at"]
                break
        cursor.close()
    return out


def latest_crawl_cutoff(db: Database) -> str | None:
    """The latest cut-off (``since``) among the successful crawls since the last one without a
    cut-off: feed and sitemap entries older than it may have been skipped by the run whose validators
    are stored. None when there is no successful crawl or the last one took every entry."""
    cutoffs = []
    for (since,) in db.execute("SELECT since FROM crawl_runs WHERE status IN ('ok', 'partial') AND command LIKE "
                               "'crawl%' ORDER BY started_at DESC, id DESC"):
        if since is None:
            break
        cutoffs.append(since)
    return max(cutoffs, default=None)


def record_error(db: Database, run_id: int, kind: str, *, url: str | None = None,
                 source_id: str | None = None, http_status: int | None = None,
                 message: str | None = None) -> None:
    secrets = secret_values()
    with db.atomic():
        db.execute(
            "INSERT INTO crawl_errors (crawl_run_id, source_id, url, kind, http_status, message, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [run_id, source_id, _url(url, secrets), kind, http_status, _message(message, secrets),
             utcnow()])
        db.execute("UPDATE crawl_runs SET errors = errors + 1 WHERE id = ?", [run_id])


def record_errors(db: Database, run_id: int, kind: str, rows: list[tuple[str | None, str | None, str]]) -> None:
    """Many ``crawl_errors`` rows of one kind, (source_id, url, message) each, in one transaction
    (the run's ``errors`` count is set by ``finish_run``)."""
    if not rows:
        return
    now, secrets = utcnow(), secret_values()
    with db.atomic():
        db.conn.executemany("INSERT INTO crawl_errors (crawl_run_id, source_id, url, kind, message, created_at) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            [(run_id, source_id, _url(url, secrets), kind,
                              _message(message, secrets), now)
                             for source_id, url, message in rows])


ANALYSE_FAILED = "analyse_failed"   # the crawl_errors kind of an article the analyser raised on


def record_analyse_failures(db: Database, run_id: int, failures: list[dict]) -> None:
    """One ``crawl_errors`` row of kind ``analyse_failed`` per article the analyse stage could not analyse
    (``{"article_id", "url", "source_id", "error"}``): the URL is the article's canonical URL, the
    message ``article ID: ERROR`` (the id first: :func:`unanalysed_articles` reads it, whatever the
    URL's redaction made of it)."""
    record_errors(db, run_id, ANALYSE_FAILED, [
        (failure.get("source_id"), failure["url"], f"article {int(failure['article_id'])}: {failure['error']}")
        for failure in failures])


# An analyse_failed row's message is "article 123: IndexError: ..." (record_analyse_failures writes it):
# the SQL that reads the article id back from the message column ``column``, and the messages of that form.
def _failed_article_id(column: str = "message") -> str:
    return f"CAST(substr({column}, 9, instr({column}, ':') - 9) AS INTEGER)"


_FAILED_ARTICLE_ID = _failed_article_id()
_FAILED_MESSAGE = "'article %:%'"   # a LIKE pattern


def unanalysed_articles(db: Database) -> list[dict]:
    """Articles the analyse stage could not analyse and has not analysed since (the latest
    ``analyse_failed`` error of each, newer than its ``processing`` stamp or without one), oldest
    failure first: ``{"article_id", "title", "url", "source_id", "outlet", "error", "failed_at",
    "runs"}`` (``error``: the recorded line without its ``article ID:`` prefix; ``runs``: how many
    runs failed on it). An article a later run analyses leaves the list; one deleted since is not in it."""
    return list(db.query(f"""
        WITH failed AS (
            SELECT {_FAILED_ARTICLE_ID} AS article_id, max(id) AS last_id, count(DISTINCT crawl_run_id) AS runs
            FROM crawl_errors WHERE kind = '{ANALYSE_FAILED}' AND message LIKE {_FAILED_MESSAGE} GROUP BY 1)
        SELECT a.id AS article_id, a.title, a.canonical_url AS url, a.source_id,
               coalesce(s.name, a.source_id) AS outlet, substr(e.message, instr(e.message, ':') + 2) AS error,
               e.created_at AS failed_at, f.runs
        FROM failed f
        JOIN crawl_errors e ON e.id = f.last_id
        JOIN articles a ON a.id = f.article_id
        LEFT JOIN sources s ON s.id = a.source_id
        WHERE NOT EXISTS (SELECT 1 FROM processing p WHERE p.article_id = a.id AND p.stage = 'analyse'
                          AND p.content_hash = a.content_hash AND p.processed_at >= e.created_at)
        ORDER BY e.created_at, a.id"""))


def failed_articles_unanalysed_count(db) -> int:
    """How many articles have an ``analyse_failed`` error (the analyser raised on them: the article id read
    from the message, ``article ID: ...``) and no ``analyse`` stamp for their current text, whenever the
    error was recorded (unlike :func:`unanalysed_articles`, which compares the times). ``db``: a sqlite3 or
    sqlite-utils connection (``cuttings doctor``'s analysis backlog)."""
    return db.execute(
        "SELECT count(DISTINCT a.id) FROM crawl_errors e JOIN articles a ON a.id = "
        f"{_failed_article_id('e.message')} WHERE e.kind = ? "
        f"AND e.message LIKE {_FAILED_MESSAGE} AND NOT EXISTS (SELECT 1 FROM processing p WHERE "
        "p.article_id = a.id AND p.stage = 'analyse' AND p.content_hash = a.content_hash)",
        [ANALYSE_FAILED]).fetchone()[0]


def record_notice(db: Database, run_id: int, kind: str, *, url: str | None = None,
                  source_id: str | None = None, message: str | None = None) -> None:
    """A ``crawl_notices`` row: a budget hit or a refused canonical URL (not an error)."""
    secrets = secret_values()
    with db.atomic():
        db.execute("INSERT INTO crawl_notices (crawl_run_id, source_id, url, kind, message, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)", [run_id, source_id, _url(url, secrets), kind,
                                                 _message(message, secrets), utcnow()])


def mark_runs_interrupted(db: Database, run_ids: list[int]) -> None:
    """Mark ``running`` rows whose process is gone as ``interrupted``."""
    if not run_ids:
        return
    with db.atomic():
        db.conn.executemany(
            "UPDATE crawl_runs SET status = 'interrupted', finished_at = coalesce(finished_at, ?), "
            "message = coalesce(message, 'process died before finishing (marked by a later run)') "
            "WHERE id = ? AND status = 'running'", [(utcnow(), run_id) for run_id in run_ids])


def running_runs(db) -> list[dict]:
    """``(id, pid)`` of every run still marked ``running``."""
    return [{"id": row[0], "pid": row[1]} for row in
            db.execute("SELECT id, pid FROM crawl_runs WHERE status = 'running'").fetchall()]


def run_error_count(db: Database, run_id: int) -> int:
    return db.execute("SELECT count(*) FROM crawl_errors WHERE crawl_run_id = ?", [run_id]).fetchone()[0]


def run_errors_by_kind(db: Database, run_id: int) -> dict[str, int]:
    """``{kind: count}`` of one run's errors, commonest first."""
    return {row["kind"]: row["n"] for row in db.query(
        "SELECT kind, count(*) AS n FROM crawl_errors WHERE crawl_run_id = ? GROUP BY kind ORDER BY n DESC",
        [run_id])}


def source_error_kinds(db, run_id: int, source_id: str) -> list[str]:
    """The distinct ``crawl_errors`` kinds one source recorded in one crawl run, the analyser's left out
    (``analyse_failed``: an article the analyser raised on is no fault of its source). ``db``: a sqlite-utils
    ``Database`` or a ``sqlite3.Connection`` (``cuttings.failures.source_failed`` is given either)."""
    return [kind for (kind,) in db.execute(
        "SELECT DISTINCT kind FROM crawl_errors WHERE crawl_run_id = ? AND source_id = ? AND kind != ?",
        [run_id, source_id, ANALYSE_FAILED]).fetchall()]


def source_errors(db, run_id: int, source_id: str, *, messages: bool = False) -> list[dict]:
    """``{"kind", "url"}`` of every ``crawl_errors`` row one source recorded in one crawl run, the analyser's
    left out (``analyse_failed``), in the order SQLite reads them (the table's, by the run's index);
    ``messages``: with each row's ``message`` too."""
    rows = db.execute("SELECT kind, url, message FROM crawl_errors WHERE crawl_run_id = ? AND source_id = ? "
                      "AND kind != ?", [run_id, source_id, ANALYSE_FAILED]).fetchall()
    return [{"kind": kind, "url": url, **({"message": message} if messages else {})} for kind, url, message in rows]


def source_error_count(db, run_id: int, source_id: str | None, kind: str) -> int:
    """How many ``crawl_errors`` rows of ``kind`` one source recorded in one crawl run (``robots_disallowed``:
    the article pages robots.txt kept the crawler from)."""
    (count,) = db.execute("SELECT count(*) FROM crawl_errors WHERE crawl_run_id = ? AND source_id = ? AND kind = ?",
                          [run_id, source_id, kind]).fetchone()
    return count


# How a failed article request counts towards its source's health (``source_runs.article_requests_gone`` and
# ``article_requests_blocked``, read by ``cuttings.failures.source_failed``): a page that is gone (a dead link
# in a sitemap: a per-URL error), or a site that refused the crawler or could not be reached ("blocked": every
# other failed request, an unlisted 4xx such as mod_security's 406 or a 400/418 bot block included), or neither:
# robots.txt disallowing it (the site's own rule, not an outage) and the crawl's own refusals (a page over the
# size cap, a URL the crawl's URL policy refused, a request a middleware dropped).
FAILURE_GONE = "gone"
FAILURE_BLOCKED = "blocked"
GONE_HTTP_STATUSES = (404, 410)
ROBOTS_DISALLOWED = "robots_disallowed"
NOT_BLOCKED_KINDS = frozenset({ROBOTS_DISALLOWED, "too_large", "url_scheme", "offsite_host", "private_address",
                               "ignored"})


def failure_class(kind: str, status: int | None = None) -> str | None:
    """The class of a failed request's ``crawl_errors`` kind (``http_403``, ``timeout`` ...): ``"gone"`` for
    404/410; None for robots.txt disallowing it (the site's rule) and for the crawl's own refusals (a page over
    the size cap ``too_large``; ``url_scheme``, ``offsite_host``, ``private_address`` from the URL policy;
    ``ignored``); ``"blocked"`` for every other failure: any other HTTP error status (401, 403, 406, 429, 5xx
    ...), a timeout, DNS, a refused or dropped connection, TLS, a truncated body, a redirect loop."""
    if status is None and kind.startswith("http_") and kind[5:].isdigit():
        status = int(kind[5:])
    if status in GONE_HTTP_STATUSES:
        return FAILURE_GONE
    if status is None and kind in NOT_BLOCKED_KINDS:
        return None
    return FAILURE_BLOCKED


def save_source_runs(db: Database, rows: list[dict]) -> None:
    """Write a run's per-source coverage and health rows (``source_runs``), replacing any earlier ones."""
    with db.atomic():
        for row in rows:
            db["source_runs"].insert(row, replace=True)


def crawled_source_ids(db) -> list[str]:
    """The ids of every source the database has ``source_runs`` rows of, sorted (configured now or not: a
    database crawled with other sources, such as the demo's). ``db``: a sqlite3 or sqlite-utils connection."""
    return [row[0] for row in db.execute("SELECT DISTINCT source_id FROM source_runs ORDER BY 1")]


def recent_source_runs(db, source_id: str, *, before_run: int | None = None, limit: int = 7) -> list[dict]:
    """A source's latest ``source_runs`` rows, newest first (only runs before ``before_run`` if given).
    Works on a sqlite-utils ``Database`` and on a plain (read-only) ``sqlite3.Connection``."""
    sql = "SELECT * FROM source_runs WHERE source_id = ?"
    params: list = [source_id]
    if before_run is not None:
        sql += " AND crawl_run_id < ?"
        params.append(before_run)
    sql += " ORDER BY crawl_run_id DESC LIMIT ?"
    params.append(limit)
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# A source whose last this many runs stored no new article, though earlier ones did, has stopped
# yielding (usually a redesign or a moved feed): `cuttings doctor` and the digest say so.
STOPPED_AFTER_RUNS = 3
YIELD_RUNS = 50  # the runs ``yield_problem`` looks back over


def yield_problem(runs: list[dict]) -> str | None:
    """What is wrong with a source's yield, from its ``source_runs`` rows newest first (as
    ``recent_source_runs(..., limit=YIELD_RUNS)`` gives them): ``"never"`` when no run stored a new
    article, ``"stopped"`` when the last ``STOPPED_AFTER_RUNS`` did not although an earlier one did,
    else None (an incremental crawl that finds only stored stories is healthy)."""
    if not runs:
        return None
    if not any(run["articles_new"] for run in runs):
        return "never"
    recent, earlier = runs[:STOPPED_AFTER_RUNS], runs[STOPPED_AFTER_RUNS:]
    if len(recent) == STOPPED_AFTER_RUNS and not any(run["articles_new"] for run in recent) and any(
            run["articles_new"] for run in earlier):
        return "stopped"
    return None


def record_reports(db: Database, digest: dict, formats, paths) -> None:
    """Add one ``reports`` row per written digest file; the next digest starts at ``digest["until"]``."""
    with db.atomic():
        for fmt, path in zip(formats, paths):
            db.execute("INSERT INTO reports (created_at, since, until, format, path, stories) VALUES (?, ?, ?, ?, ?, ?)",
                       [utcnow(), digest["since"], digest["until"], fmt, str(path), digest["summary"]["stories"]])


def redact_known_secrets(db: Database) -> dict[str, int]:
    """The values of this process's secret variables out of rows stored before the store redacted
    them, in one transaction. Migration m014 did it once, but only with the secrets of the process that
    migrated (often an interactive command without them); the crawl, which reads the configured feeds'
    secrets, does it again at its start, cheaply: nothing without secret variables, and only the rows
    holding one. Returns the counts of :func:`rekey_discovery_state` and ``"redacted"``."""
    from cuttings.store.articles import rekey_discovery_state
    if not secret_values():
        return {"rekeyed": 0, "merged": 0, "dropped": 0, "redacted": 0}
    with secure_delete(db), transaction(db):
        counts = rekey_discovery_state(db)
        counts["redacted"] = redact_stored_messages(db, only_secret_values=True)
    return counts


@contextlib.contextmanager
def secure_delete(db: Database):
    """SQLite's ``secure_delete`` on for the block: the pages a redaction frees are overwritten with
    zeros, so the secret is not left in the file's free pages (many builds, not all, default to it)."""
    previous = db.execute("PRAGMA secure_delete").fetchone()[0]
    db.execute("PRAGMA secure_delete = ON")
    try:
        yield
    finally:
        db.execute(f"PRAGMA secure_delete = {int(previous)}")
