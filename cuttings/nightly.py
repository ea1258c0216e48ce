"""The nightly job: crawl, analyse, classify and report, under a lock, resumable after a crash.

Exit codes (``cuttings run``):

* 0 ``EXIT_OK``: every stage ran and every source answered.
* 1 ``EXIT_USER_ERROR``: bad configuration, unreadable models, an unknown report format or a report
  folder that cannot be written, unreadable database path, delivery settings missing or invalid.
  Found before the lock is taken: nothing ran.
* 2 ``EXIT_FATAL``: nothing useful happened (every stage that ran failed, or the crawl fetched
  nothing and nothing was analysed), an unexpected error, or the run was interrupted (SIGTERM / Ctrl-C).
* 3 ``EXIT_ALREADY_RUNNING``: another run holds the lock; this one did nothing.
* 4 ``EXIT_PARTIAL``: some sources failed or a stage failed, but the others ran; or classify was skipped
  because the models folder holds no trained models (a team's first nights: crawl, analyse and the
  digest run; the stage's message says what to do, ``store.SKIPPED_NO_MODELS``).
* 5 ``EXIT_STORAGE``: the database could not be written (disk full, I/O error; read-only
  storage is 1, found before anything is done). What was not stored is recorded when possible and fetched or
  processed again by the next run; no run row is left ``running``.
* 6 ``EXIT_DELIVERY``: the digest was written but sending it (``--email``, ``--webhook``) failed,
  so it was not recorded: its stories go out with the next digest. The other stages' results are
  kept. (Delivery settings that are missing or invalid are 1, found before anything is done.)

1 and 3 end the run before any stage. When a run that started meets several of the others, the
exit code is the first that applies in :data:`CODE_PRECEDENCE`: 5 (storage), 2 (fatal or
interrupted), 6 (delivery), 4 (partial), 0; the summary line names the ones it hides
(``run 57: partial (exit 6; also 4: some sources or a stage failed)``): see :func:`exit_conditions`.

The lock is ``fcntl.flock`` on ``<db>.lock`` (holding the pid and start time). The
kernel releases a flock when its process dies, so a lock left by a killed run is
simply taken over; the killed run's ``crawl_runs`` rows (status ``running``, pid
dead) are then marked ``interrupted``. The lock file itself is never deleted:
deleting it would let two processes lock two different inodes.

Every stage writes each article in its own transaction and picks up only what is
not yet done (the crawl skips stored URLs, analyse and classify skip articles
already stamped with their version), so running again after a crash finishes the job.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import fcntl
import json
import logging
import os
import signal
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from cuttings import store
from cuttings.wording import counted
from cuttings.delivery import DeliveryError, DigestDelivery
from cuttings.errors import CuttingsError, Interrupted

log = logging.getLogger("cuttings.nightly")

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_FATAL = 2
EXIT_ALREADY_RUNNING = 3
EXIT_PARTIAL = 4
EXIT_STORAGE = 5
EXIT_DELIVERY = 6

# Which exit code a run that started gives when several apply, most pressing first: a database that
# cannot be written stops everything; a night that did nothing useful; a digest the newsroom did not
# get (act today: `cuttings report --email` resends it); sources or a stage that failed (usually
# heals by the next night).
CODE_PRECEDENCE = (EXIT_STORAGE, EXIT_FATAL, EXIT_DELIVERY, EXIT_PARTIAL, EXIT_OK)

STAGES = ("crawl", "analyse", "classify", "report")


class AlreadyRunning(CuttingsError):
    """Another process holds the run lock."""


FILE_ONLY = {"file_only": True}  # log-record flag: the command line shows this message itself


class UserError(CuttingsError):
    """A problem the user must fix before the run can start (one line)."""


# --------------------------------------------------------------------------
# Lock
# --------------------------------------------------------------------------

def lock_path_for(db_path: str | Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".lock")


class RunLock:
    """An exclusive, non-blocking ``flock`` on ``<db>.lock``; use as a context manager.

    ``acquire`` raises :class:`AlreadyRunning` (message names the holder's pid and start
    time) when another live process holds it.
    """

    def __init__(self, db_path: str | Path):
        self.path = lock_path_for(db_path)
        self._fd: int | None = None
        self.previous_holder: dict | None = None

    def acquire(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_holder(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            who = (f"pid {holder.get('pid')}, started {holder.get('started_at')}" if holder
                   else "another process")
            raise AlreadyRunning(f"another cuttings run is in progress ({who}); lock {self.path}") from None
        self.previous_holder = _read_holder(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "started_at": store.utcnow()}).encode() + b"\n", 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_holder(fd: int) -> dict | None:
    try:
        raw = os.pread(fd, 4096, 0)
        return json.loads(raw) if raw.strip() else None
    except (OSError, ValueError):
        return None


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_stale_runs(db) -> list[int]:
    """Mark ``running`` rows whose process is gone as ``interrupted``; returns their ids.

    A row carrying this process's own pid is stale too (pid reuse after a reboot or in a
    container), since this process has not started a run yet when it calls this.
    """
    stale = [row["id"] for row in store.running_runs(db)
             if row["pid"] == os.getpid() or not pid_alive(row["pid"])]
    store.mark_runs_interrupted(db, stale)
    return stale


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

@dataclass
class StageResult:
    status: str  # ok, partial, failed, skipped, interrupted
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)
    message: str | None = None
    storage_error: bool = False  # failed because the database could not be written
    delivery_error: bool = False  # the digest was written but could not be sent (so not recorded)
    failures: list = field(default_factory=list)  # (source id, error kind, cause in words) per failed source

    def as_dict(self) -> dict:
        out = {"status": self.status, "seconds": round(self.seconds, 2), **self.counts}
        if self.message:
            out["message"] = self.message
        if self.failures:
            out["failed_sources"] = {source_id: words for source_id, _kind, words in self.failures}
        return out


@dataclass
class NightlyResult:
    run_id: int | None
    status: str  # ok, partial, failed, interrupted
    exit_code: int
    stages: dict[str, StageResult] = field(default_factory=dict)
    message: str | None = None
    error: Exception | None = None  # the user error that stopped the run before it started
    hidden: list[tuple[int, str]] = field(default_factory=list)  # (code, reason) the exit code outranks


@dataclass
class NightlyOptions:
    sources_path: Path | None = None
    watchlist_path: Path | None = None
    models_path: Path | None = None
    since: str | None = None
    report_dir: Path | None = None
    report_formats: tuple[str, ...] | None = None
    polite: bool = True
    skip: tuple[str, ...] = ()
    email: bool = False  # send the digest by e-mail (CUTTINGS_SMTP_*)
    webhook: bool = False  # post its summary to $CUTTINGS_WEBHOOK_URL
    webhook_file: Path | None = None  # ... or to the URL in this file
    delivery: DigestDelivery | None = None  # the checked delivery; run_nightly sets it from the three above


def run_nightly(db_path: str | Path, options: NightlyOptions) -> NightlyResult:
    """Run the nightly job under the lock. Never raises for expected failures: the result's
    ``exit_code`` says what happened (see the module docstring). Configuration is checked
    before the lock is taken, so a mistake writes nothing."""
    try:
        config = _load_sources(options)
        options = dataclasses.replace(options, delivery=_check_report_options(options))
        _check_scheme(options)
        if Path(db_path).exists():  # refuse another application's file before the lock is created beside it
            store.check_is_cuttings_database(Path(db_path), allow_new=True)
    except CuttingsError as exc:
        log.error("%s", exc, extra=FILE_ONLY)  # the command line prints it
        return NightlyResult(None, "failed", EXIT_USER_ERROR, message=str(exc), error=exc)
    lock = RunLock(db_path)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        log.warning("%s", exc, extra=FILE_ONLY)
        return NightlyResult(None, "locked", EXIT_ALREADY_RUNNING, message=str(exc))
    try:
        return _run_locked(Path(db_path), options, config)
    finally:
        lock.release()


def _run_locked(db_path: Path, options: NightlyOptions, config) -> NightlyResult:
    try:
        analyser, classifier = _load_models(options)
        db = store.connect(db_path, create=True)
    except (UserError, store.StoreError) as exc:
        log.error("%s", exc, extra=FILE_ONLY)
        code = EXIT_STORAGE if isinstance(exc, store.StorageError) and not _read_only(exc) else EXIT_USER_ERROR
        return NightlyResult(None, "failed", code, message=str(exc), error=exc)

    try:
        stale = mark_stale_runs(db)
        run_id = store.start_run(db, "run", since=options.since)
    except Exception as exc:
        if not store.is_storage_error(exc):
            raise
        message = f"storage error: {exc}: the run could not start; free space or fix permissions"
        log.error("%s", message, extra=FILE_ONLY)
        return NightlyResult(None, "failed", EXIT_STORAGE, message=message)
    from cuttings.crawl import Ballast
    ballast = Ballast.beside(db, ".run-reserve")  # room to close the run row if the disk fills
    if stale:
        log.warning("marked %d run(s) left 'running' by dead processes as interrupted: %s",
                    len(stale), ", ".join(map(str, stale)))
    log.info("run %d started (pid %d, database %s)", run_id, os.getpid(), db_path)
    stages: dict[str, StageResult] = {}
    previous_handler = signal.signal(signal.SIGTERM, _raise_interrupted)
    name = STAGES[0]
    try:
        for name in STAGES:
            if name in options.skip:
                stages[name] = StageResult("skipped", message=store.SKIPPED_ON_REQUEST)
                continue
            if name == "classify" and classifier is None:   # no trained models yet: one line, the rest runs
                from cuttings.stages import no_models_message
                stages[name] = StageResult("skipped", message=no_models_message(options.models_path))
                log.warning("classify %s", stages[name].message, extra=FILE_ONLY)   # the command line prints it
                continue
            if any(stage.storage_error for stage in stages.values()):
                stages[name] = StageResult("skipped", message="skipped: the database cannot be written")
                continue
            if name == "classify" and stages.get("analyse") and stages["analyse"].status == "failed" \
                    and not stages["analyse"].counts.get("failed"):
                # Classifying unanalysed articles would stamp them done without their mentions. Articles the
                # analyser raised on (``counts["failed"]``) are left unstamped, and classify takes only stamped
                # ones: it runs, or one article failing every night would stop classification for good.
                stages[name] = StageResult("skipped", message="analyse failed")
                log.warning("classify skipped: analyse failed")
                continue
            if name == "report":   # the digest says which stages of this run failed (report._pipeline)
                _record_stages(db, run_id, stages)
            stages[name] = _timed_stage(name, lambda n=name: _STAGE_FUNCTIONS[n](db, options, config, analyser,
                                                                                  classifier, run_id=run_id))
            if stages[name].status == "interrupted":
                break
    except (KeyboardInterrupt, Interrupted) as exc:
        stages[name] = StageResult("interrupted", message=str(exc) or "interrupted by the user")
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    conditions = exit_conditions(stages)
    (exit_code, status, _reason), hidden = conditions[0], [(code, reason) for code, _s, reason in conditions[1:]]
    message = "; ".join(f"{n}: {s.message}" for n, s in stages.items() if s.message and s.status != "ok") or None
    crawl_counts = stages.get("crawl").counts if stages.get("crawl") else {}
    ballast.release()
    try:
        store.finish_run(db, run_id, status, message=message, stages={n: s.as_dict() for n, s in stages.items()},
                         **{k: v for k, v in crawl_counts.items() if isinstance(v, int)})
    except Exception as exc:
        if not store.is_storage_error(exc):
            raise
        try:  # a smaller write; if it fails too, the next run marks this row interrupted
            store.rollback(db)
            store.finish_run(db, run_id, "failed", message=f"storage error: {exc}")
        except Exception:
            pass
        status, exit_code = "failed", EXIT_STORAGE
        hidden = [(code, reason) for code, _s, reason in conditions if code not in (EXIT_STORAGE, EXIT_OK)]
        message = f"storage error: {exc}"
    try:
        store.optimize(db)          # the planner's statistics, for the morning's queries (never fails the run)
    except sqlite3.Error as exc:
        log.warning("could not refresh the query planner's statistics: %s", exc, extra=FILE_ONLY)
    log.info("run %d finished: %s (exit %d)", run_id, status, exit_code)
    db.conn.close()
    return NightlyResult(run_id, status, exit_code, stages, message, hidden=hidden)


def _record_stages(db, run_id: int, stages: dict[str, StageResult]) -> None:
    """The stages so far on the run's row; a storage error here is the report stage's to meet."""
    try:
        store.record_run_stages(db, run_id, {n: s.as_dict() for n, s in stages.items()})
    except Exception as exc:
        if not store.is_storage_error(exc):
            raise
        store.rollback(db)


def _read_only(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "unable to open" in text


def exit_conditions(stages: dict[str, StageResult]) -> list[tuple[int, str, str]]:
    """Every exit condition the run's stages meet, as ``(exit code, run status, reason)``, in the
    order of :data:`CODE_PRECEDENCE` (the first is the run's); ``[(0, "ok", ...)]`` when none.

    * 5 when a stage could not write the database;
    * 2 when the run was interrupted, when every stage that ran failed (a report stage whose only
      failure is the delivery wrote the digest: that is 6, not "nothing useful"), or when the crawl
      failed and analyse and classify processed no article;
    * 6 when the digest was written but could not be sent;
    * 4 when a source or a stage failed (or was partial) while others ran, for another reason than
      storage or delivery (those are 5 and 6), and not when 2 says nothing useful happened; or when
      classify was skipped for want of trained models (``store.SKIPPED_NO_MODELS``).
    """
    values = list(stages.values())
    statuses = [s.status for s in values]
    found: list[tuple[int, str, str]] = []
    if any(s.storage_error for s in values):
        found.append((EXIT_STORAGE, "failed", "the database could not be written"))
    ran = [s for s in values if s.status != "skipped"]
    nothing_useful = bool(ran) and all(s.status == "failed" and not s.delivery_error for s in ran)
    crawl = stages.get("crawl")
    if crawl and crawl.status == "failed" and not any(
            stages[n].counts.get("articles") for n in ("analyse", "classify") if n in stages):
        nothing_useful = True
    if "interrupted" in statuses:
        found.append((EXIT_FATAL, "interrupted", "interrupted"))
    elif nothing_useful:
        found.append((EXIT_FATAL, "failed", "nothing useful happened"))
    if any(s.delivery_error for s in values):
        found.append((EXIT_DELIVERY, "partial", "the digest was written but not sent"))
    if not nothing_useful and any(s.status in ("failed", "partial") and not (s.delivery_error or s.storage_error)
                                  for s in values):
        found.append((EXIT_PARTIAL, "partial", "some sources or a stage failed"))
    elif not nothing_useful and any(s.status == "skipped" and (s.message or "").startswith(store.SKIPPED_NO_MODELS)
                                    for s in values):
        found.append((EXIT_PARTIAL, "partial", "classify skipped: no trained models"))
    return found or [(EXIT_OK, "ok", "every stage ran")]


def overall_status(stages: dict[str, StageResult]) -> tuple[str, int]:
    """The run's status and exit code from its stages' results: the first of :func:`exit_conditions`."""
    code, status, _reason = exit_conditions(stages)[0]
    return status, code


def _raise_interrupted(signum, frame):
    raise Interrupted(f"received signal {signum}")


def _timed_stage(name: str, work: Callable[[], StageResult]) -> StageResult:
    log.info("%s: starting", name)
    started = time.monotonic()
    try:
        result = work()
    except Interrupted as exc:
        result = StageResult("interrupted", message=str(exc))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a stage's failure must not stop the others
        if store.is_storage_error(exc):
            log.error("%s failed: storage error: %s", name, exc, extra=FILE_ONLY)
            result = StageResult("failed", message=f"storage error: {exc}", storage_error=True)
        else:
            log.exception("%s failed", name, extra=FILE_ONLY)  # the command line prints the stage's message
            result = StageResult("failed", message=f"{type(exc).__name__}: {exc}")
    result.seconds = time.monotonic() - started
    log.info("%s: %s in %.1fs %s", name, result.status, result.seconds,
             json.dumps(result.counts, sort_keys=True) if result.counts else "")
    return result


def _load_sources(options: NightlyOptions):
    """The sources file, or :class:`UserError` naming the entry to fix."""
    from cuttings.config import ConfigError, load_sources
    if "crawl" in options.skip:
        return None
    try:
        return load_sources(options.sources_path)
    except ConfigError as exc:
        raise UserError(str(exc)) from None


def _check_report_options(options: NightlyOptions) -> DigestDelivery | None:
    """Refuse an unknown digest format, a report folder that cannot be written, or delivery settings
    that are missing or invalid (``CUTTINGS_SMTP_*`` for ``--email``; a readable https webhook URL)
    before any stage runs (:class:`UserError`, :class:`~cuttings.errors.OutputPathError`,
    :class:`~cuttings.delivery.DeliveryError`): the night would otherwise crawl and analyse, then fail
    at the report. Returns the checked delivery, or None when none was asked for."""
    wants_delivery = options.email or options.webhook or options.webhook_file is not None
    if "report" in options.skip:
        if wants_delivery:
            raise UserError("--email and --webhook send the digest, which --skip report leaves out: "
                            "drop one or the other")
        return None
    from cuttings import paths
    from cuttings.report import FORMAT_SUFFIXES
    unknown = [fmt for fmt in options.report_formats or () if fmt not in FORMAT_SUFFIXES]
    if unknown:
        raise UserError(f"--format: unknown report format(s) {', '.join(map(repr, unknown))} "
                        f"(choose from {', '.join(FORMAT_SUFFIXES)})")
    paths.check_output_dir(options.report_dir or paths.reports_dir())
    return DigestDelivery.prepare(email=options.email, webhook=options.webhook, webhook_file=options.webhook_file)


def _check_scheme(options: NightlyOptions) -> None:
    """The label scheme classify and report read (``--scheme``, else the home folder's, else the packaged
    one), or ``LabellingError`` naming the file: found before the crawl, not after it."""
    if {"classify", "report"} <= set(options.skip):
        return
    from cuttings.labelling import load_label_tasks
    load_label_tasks()


def _load_models(options: NightlyOptions):
    """The analyser and classifier (slow: spaCy and the skops files), or :class:`UserError`. The classifier is
    None when the models folder holds no trained models: the classify stage is then skipped
    (:func:`cuttings.stages.no_models_message`), the other stages run."""
    analyser = classifier = None
    if not {"analyse", "classify"} <= set(options.skip):
        from cuttings.stages import load_analyser
        from nlp.watchlist import WatchlistError
        try:
            analyser = load_analyser(options.watchlist_path)
        except WatchlistError as exc:
            raise UserError(str(exc)) from None
    from cuttings.stages import models_present
    if "classify" not in options.skip and models_present(options.models_path):
        from cuttings.stages import load_classifier
        from nlp.classify import ModelLoadError
        try:
            classifier = load_classifier(options.models_path)
        except ModelLoadError as exc:
            raise UserError(str(exc)) from None
    return analyser, classifier


def _crawl(db, options: NightlyOptions, config, analyser, classifier, run_id: int | None = None) -> StageResult:
    from cuttings.crawl import run_crawl
    from cuttings.stages import resolve_since, resolve_windows
    windows = resolve_windows(db, options.since, config.sources, config.crawl)
    since = resolve_since(db, options.since, config.crawl.overlap_hours)
    log.info("crawl: %d sources, since %s", len(config.sources), since or "the beginning")
    summary = run_crawl(db, config.sources, config.crawl, since=since, windows=windows, polite=options.polite,
                        command="crawl (run)")
    # Scrapy replaces the SIGTERM handler while it runs; take it back for the later stages.
    signal.signal(signal.SIGTERM, _raise_interrupted)
    from cuttings.failures import source_failed, source_failures
    failures = source_failures(db, summary.run_id, summary.sources)
    counts = {"crawl_run_id": summary.run_id, **summary.counts,
              "sources_failed": sum(1 for s in summary.sources if source_failed(s))}
    failed_ids = {source_id for source_id, _kind, _words in failures}
    for source_id, _kind, words in failures:
        log.warning("crawl: source %s failed: %s", source_id, words, extra=FILE_ONLY)  # the command line prints it
    for warning in summary.warnings:
        log.warning("crawl: %s", warning, extra=FILE_ONLY if warning.split(":", 1)[0] in failed_ids else {})
    for kind, n in summary.errors_by_kind.items():
        log.info("crawl: %d %s error(s)", n, kind)
    status = {"ok": "ok", "partial": "partial", "failed": "failed", "interrupted": "interrupted"}.get(
        summary.status, "failed")
    message = None
    if status == "ok" and counts["sources_failed"]:
        status = "partial"
    discovered = sum(s["found_by_feed"] + s["found_by_sitemap"] + s["found_by_links"] + s["found_by_search"]
                     for s in summary.sources)
    if status in ("ok", "partial") and config.sources and not (counts["pages_fetched"] or discovered):
        # Scrapy can end "finished" having done nothing when the spider fails to start (an
        # exception opening a pipeline is only logged): a night that found no URL at all failed.
        status, message = "failed", "the crawl found and fetched nothing (see the log)"
    elif summary.storage_error:
        from cuttings.crawl import storage_error_line
        return StageResult("failed", counts=counts, message=storage_error_line(summary), storage_error=True)
    elif status != "ok":
        # partial with no failed source: errors on single URLs (a dead link), every source was read
        message = (f"{counted(counts['errors'], 'error')} on single URLs, every source was read"
                   if status == "partial" and not counts["sources_failed"] and counts["errors"]
                   else f"{counted(counts['errors'], 'error')}, {counts['sources_failed']} of "
                        f"{counted(len(config.sources), 'source')} yielded nothing")
    return StageResult(status, counts=counts, message=message, failures=failures)


def _analyse(db, options: NightlyOptions, config, analyser, classifier, run_id: int | None = None) -> StageResult:
    """The analyse stage. An article the analyser raises on does not stop it: it is recorded
    (``crawl_errors`` kind ``analyse_failed``, this run's), left unstamped for the next run, and the
    stage is ``partial`` (``failed`` when it analysed no other article)."""
    from cuttings.stages import analyse_stage
    counts = analyse_stage(db, analyser, run_id=run_id)
    failures = counts.pop("failures")
    if not failures:
        return StageResult("ok", counts={**counts, "version": analyser.version})
    first = failures[0]   # each is in the log file (cuttings.stages); the command line prints this message
    message = (f"{counted(len(failures), 'article')} could not be analysed (article "
               f"{first['article_id']}: {first['error']}{'; ...' if len(failures) > 1 else ''}): left for the "
               f"next run, listed in crawl_errors (kind analyse_failed) and the digest")
    return StageResult("partial" if counts["articles"] else "failed", message=message,
                       counts={**counts, "version": analyser.version})


def _classify(db, options: NightlyOptions, config, analyser, classifier, run_id: int | None = None) -> StageResult:
    from cuttings.stages import ModelsMismatch, classify_stage
    try:
        counts = classify_stage(db, classifier, analyser_version=analyser.version if analyser else None)
    except ModelsMismatch as exc:
        # models of another label scheme (the demo's, trained for the shipped scheme, before `cuttings init`)
        # are no models for this one: skipped as with none (store.SKIPPED_NO_MODELS), the models kept
        from cuttings.stages import no_models_message
        log.warning("classify: %s", exc, extra=FILE_ONLY)   # the details, in the log file
        result = StageResult("skipped", message=no_models_message(options.models_path, other_scheme=True))
        log.warning("classify %s", result.message, extra=FILE_ONLY)   # the command line prints it
        return result
    return StageResult("ok", counts=counts)


def _report(db, options: NightlyOptions, config, analyser, classifier, run_id: int | None = None) -> StageResult:
    """Write the digest, send it when asked (``options.delivery``), then record it, so the next
    digest starts where this one ended. A failed delivery leaves the digest unrecorded: its
    stories go out with the next one (``EXIT_DELIVERY``)."""
    from cuttings import paths, report
    out_dir = Path(options.report_dir) if options.report_dir else paths.reports_dir()
    formats = options.report_formats or report.DEFAULT_FORMATS
    digest = report.build_digest(db)
    files = report.write_report(db, out_dir, formats=formats, digest=digest, record=False)
    for path in files:
        log.info("report: wrote %s", path)
    stories = digest["summary"]["stories"]
    counts = {"stories": stories, "files": [str(p) for p in files]}
    message = None
    if options.delivery:
        try:
            done = options.delivery.send(digest, full_digest=report.full_digest_path(files))
        except DeliveryError as exc:
            resend = ("`cuttings report --email`" if not options.delivery.webhook_url
                      else "`cuttings report` with this run's --email/--webhook options")
            message = (f"delivery failed: {exc}; the digest ({counted(stories, 'story', 'stories')}) was written "
                       f"but not recorded, so the next run or {resend} sends it again")
            log.error("report: %s", message, extra=FILE_ONLY)  # the command line prints it
            return StageResult("failed", counts=counts, message=message, delivery_error=True)
        for line in done:
            log.info("report: %s", line)
        counts["delivered"] = done
        message = "; ".join(done)
    report.record_report(db, digest, formats, files)
    return StageResult("ok", counts=counts, message=message)


_STAGE_FUNCTIONS = {"crawl": _crawl, "analyse": _analyse, "classify": _classify, "report": _report}


def hours_since(timestamp: str, now: dt.datetime | None = None) -> float:
    """Hours between an ISO-8601 UTC timestamp (or date) and ``now``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    fmt = "%Y-%m-%d" if len(timestamp) == 10 else "%Y-%m-%dT%H:%M:%SZ"
    then = dt.datetime.strptime(timestamp, fmt).replace(tzinfo=dt.timezone.utc)
    return (now - then).total_seconds() / 3600


# --------------------------------------------------------------------------
# Scheduling: a crontab line or systemd units for this install
# --------------------------------------------------------------------------

def cuttings_command() -> list[str]:
    """How to start this install's command line: the venv's ``cuttings`` script when installed,
    else this Python running ``pipeline.py``; absolute paths."""
    import shutil
    import sys
    beside = Path(sys.executable).parent / "cuttings"
    if beside.is_file():
        return [str(beside.absolute())]
    found = shutil.which("cuttings")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), str(store.REPO_DIR / "pipeline.py")]


def run_arguments(db_path: str | Path, log_file: str | Path | None = None, *, email: bool = False,
                  webhook: bool = False, webhook_file: str | Path | None = None,
                  env_file: str | Path | None = None) -> list[str]:
    """The full ``cuttings ... run`` command line with absolute paths (models from $CUTTINGS_MODELS if set),
    with ``--email``, ``--webhook``, ``--webhook-file`` and ``--env-file`` when asked for."""
    args = [*cuttings_command(), "--db", str(Path(db_path).absolute()), "run", "--quiet"]
    if log_file:
        args += ["--log-file", str(Path(log_file).absolute())]
    if os.environ.get("CUTTINGS_MODELS"):
        args += ["--models", str(Path(os.environ["CUTTINGS_MODELS"]).absolute())]
    if email:
        args.append("--email")
    if webhook:
        args.append("--webhook")
    if webhook_file:
        args += ["--webhook-file", str(Path(webhook_file).absolute())]
    if env_file:
        args += ["--env-file", str(Path(env_file).absolute())]
    return args


def run_environment() -> dict[str, str]:
    """Environment the scheduled run needs from this one: ``CUTTINGS_HOME`` when set (the home
    folder's configuration copies, models, reports and logs; cron and systemd start without it)."""
    home = os.environ.get("CUTTINGS_HOME")
    return {"CUTTINGS_HOME": str(Path(home).absolute())} if home else {}


def cron_line(db_path: str | Path, *, hour: int = 2, minute: int = 30, log_file: str | Path | None = None,
              workdir: str | Path | None = None, env_file: str | Path | None = None, **delivery) -> str:
    """One crontab line: at HH:MM every day, cd to the working directory and run quietly (cron mails
    whatever is printed, so only warnings and errors), with ``run_environment()``; the run reads
    ``env_file`` itself (``run --env-file``: the ``CUTTINGS_SMTP_*`` settings, ``CUTTINGS_WEBHOOK_URL``),
    so the line needs no ``set -a; . FILE``. ``delivery``: ``email``, ``webhook``, ``webhook_file``
    for :func:`run_arguments`."""
    import shlex
    workdir = Path(workdir or Path.cwd()).absolute()
    environment = "".join(f"{name}={shlex.quote(value)} " for name, value in run_environment().items())
    command = (f"cd {shlex.quote(str(workdir))} && {environment}"
               + " ".join(shlex.quote(a) for a in run_arguments(db_path, log_file, env_file=env_file, **delivery)))
    return f"{minute} {hour} * * * {command.replace('%', chr(92) + '%')}"


def _systemd_quote(value: str) -> str:
    value = value.replace("%", "%%")
    if any(ch.isspace() or ch in "\"'\\;$" for ch in value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def systemd_units(db_path: str | Path, *, hour: int = 2, minute: int = 30, log_file: str | Path | None = None,
                  workdir: str | Path | None = None, user: str | None = None, env_file: str | Path | None = None,
                  **delivery) -> tuple[str, str]:
    """The text of ``cuttings.service`` (oneshot; ``EnvironmentFile=env_file`` when given: systemd's
    convention, read by systemd before the run starts, so the file may belong to root) and
    ``cuttings.timer`` (daily, persistent). ``delivery`` as for :func:`cron_line`."""
    import getpass
    workdir = Path(workdir or Path.cwd()).absolute()
    user = user or getpass.getuser()
    exec_start = " ".join(_systemd_quote(a) for a in run_arguments(db_path, log_file, **delivery))
    environment = "".join(f"Environment={_systemd_quote(f'{name}={value}')}\n" for name, value in run_environment().items())
    if env_file:
        environment += f"EnvironmentFile={_systemd_quote(str(Path(env_file).absolute()))}\n"
    service = f"""[Unit]
Description=cuttings nightly run (crawl, analyse, classify, digest)
Documentation=https://github.com/cuttings-news/cuttings/blob/main/docs/operations.md
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
User={user}
WorkingDirectory={_systemd_quote(str(workdir))}
{environment}ExecStart={exec_start}
# Exit codes: 0 ok, 1 configuration, 2 fatal/interrupted, 3 already running, 4 partial, 5 storage,
# 6 delivery failed (digest written, not sent, not recorded: the next run sends it).
# Several at once: the first of 5, 2, 6, 4; the summary line in the journal names the others.
# Anything but 0 leaves the unit "failed", so `systemctl --failed` (or OnFailure=) shows it.
Nice=10
IOSchedulingClass=idle
TimeoutStartSec=6h
"""
    timer = f"""[Unit]
Description=Run cuttings every night

[Timer]
OnCalendar=*-*-* {hour:02d}:{minute:02d}:00
Persistent=true
RandomizedDelaySec=10min
Unit=cuttings.service

[Install]
WantedBy=timers.target
"""
    return service, timer
