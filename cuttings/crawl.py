"""Run the Scrapy crawl for a set of sources into the store, and summarise the run.

The crawl runs in-process with ``CrawlerProcess`` (Twisted's reactor starts once per
process, so one crawl per process). Every run gets a ``crawl_runs`` row; per-source
coverage and health figures go to ``source_runs``.
"""
from __future__ import annotations

import datetime as dt
import contextlib
import logging
import os
import sqlite3
from dataclasses import dataclass, field

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from cuttings import store
from cuttings.config import CrawlSettings, Source
from cuttings.failures import private_address_warning, source_failed

log = logging.getLogger(__name__)


@dataclass
class CrawlSummary:
    run_id: int
    status: str
    counts: dict[str, int]
    sources: list[dict] = field(default_factory=list)
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    storage_error: str | None = None


def scrapy_settings(crawl: CrawlSettings, *, polite: bool = True, log_level: str = "WARNING") -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("USER_AGENT", crawl.user_agent if crawl.contact_url in crawl.user_agent
                 else f"{crawl.user_agent} (+{crawl.contact_url})")
    settings.set("ROBOTSTXT_OBEY", crawl.obey_robots)
    settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", crawl.concurrency_per_domain)
    settings.set("DOWNLOAD_TIMEOUT", crawl.timeout)
    settings.set("DOWNLOAD_MAXSIZE", crawl.max_page_bytes)
    settings.set("DOWNLOAD_WARNSIZE", max(1, crawl.max_page_bytes // 2))
    settings.set("RETRY_TIMES", crawl.retry_times)
    settings.set("CUTTINGS_ALLOW_PRIVATE_ADDRESSES", crawl.allow_private_addresses)
    settings.set("CUTTINGS_MAX_SITEMAPS_PER_SOURCE", crawl.max_sitemaps_per_source)
    settings.set("CUTTINGS_MAX_LINKS_PER_PAGE", crawl.max_links_per_page)
    settings.set("CUTTINGS_MAX_SITEMAP_ENTRIES", crawl.max_sitemap_entries)
    settings.set("CUTTINGS_MAX_RETRY_WAIT_PER_SOURCE", crawl.max_retry_wait_per_source)
    settings.set("CUTTINGS_EXTRACT_TIMEOUT", crawl.extract_timeout)
    if polite:
        settings.set("DOWNLOAD_DELAY", crawl.download_delay)
        settings.set("AUTOTHROTTLE_ENABLED", crawl.autothrottle)
    else:
        # Local servers only (demo, tests, benchmarks): no delay, more parallelism.
        settings.set("DOWNLOAD_DELAY", 0)
        settings.set("AUTOTHROTTLE_ENABLED", False)
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 16)
        settings.set("CONCURRENT_REQUESTS", 32)
    settings.set("LOG_LEVEL", log_level)
    settings.set("LOG_INSTALL_ROOT_HANDLER", False)  # records reach cuttings' handlers (log file) only
    return settings


def default_since(db, overlap_hours: int) -> str | None:
    """The last successful crawl's start minus the overlap, or None for a first crawl."""
    last = store.last_successful_run(db, "crawl")
    if last is None:
        return None
    return _iso(_parse(last["started_at"]) - dt.timedelta(hours=overlap_hours))


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(timestamp: str) -> dt.datetime:
    return dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def source_windows(db, sources: list[Source], crawl: CrawlSettings) -> dict[str, str | None]:
    """Each source's cut-off when no ``--since`` is given: the start of the last successful crawl in
    which that source did not fail (``store.last_good_source_runs``, ``cuttings.failures.source_failed``)
    minus ``overlap_hours``, so a source whose site was down last night still gets the stories it
    published meanwhile. A source never crawled without failing (one added to an existing deployment,
    or failing since it was added) reads back as far as the cap allows: its archive is no news, and
    the digest would list all of it as new stories.

    The catch-up is capped: a cut-off is never earlier than ``max_catch_up_days`` before now (the store's
    clock), unless the run-wide window (:func:`default_since`, what every source had before) reaches
    further; so a source dead for months does not re-walk its archive, and ``max_catch_up_days = 0`` is
    the run-wide window for every source. Before the first successful crawl every source has None (a
    first crawl reads everything listed)."""
    run_wide = default_since(db, crawl.overlap_hours)
    if run_wide is None:
        return {source.id: None for source in sources}
    floor = min(run_wide, _iso(_parse(store.utcnow()) - dt.timedelta(days=crawl.max_catch_up_days)))
    last_good = store.last_good_source_runs(db, [source.id for source in sources], failed=lambda row: source_failed(row, db))
    windows: dict[str, str | None] = {}
    for source in sources:
        started = last_good.get(source.id)
        windows[source.id] = floor if started is None else max(
            _iso(_parse(started) - dt.timedelta(hours=crawl.overlap_hours)), floor)
    return windows


def log_catching_up(since: str | None, windows: dict[str, str | None] | None) -> None:
    """One log line per source whose window reaches back before the run's ``since``: no crawl of it
    since then read it (a night it failed, or a source new to the crawl)."""
    for source_id, cutoff in sorted((windows or {}).items()):
        if since is not None and (cutoff is None or cutoff < since):
            log.info("crawl: %s catches up from %s (no crawl since then read it: new, or it failed)", source_id,
                     cutoff or "the beginning")


def conditional_discovery(db, since: str | None) -> bool:
    """Whether feeds and sitemaps may be fetched conditionally (a 304 when unchanged): only when
    every crawl since the last one without a cut-off took every entry this one would, their
    cut-offs no later than this one's (a feed's validators are those of whichever run read it
    last). After a nightly run, ``--since 2026-01-01`` or ``--since all`` reads them in full again: their
    entries older than the nightly cut-off were skipped, and a 304 would hide them for good."""
    cutoff = store.latest_crawl_cutoff(db)
    if cutoff is None:
        return True
    return since is not None and since >= cutoff


def run_crawl(db, sources: list[Source], crawl: CrawlSettings, *, since: str | None = None,
              windows: dict[str, str | None] | None = None,
              polite: bool = True, extract_workers: int | None = None, on_page=None,
              log_level: str = "WARNING", command: str = "crawl") -> CrawlSummary:
    """Crawl ``sources`` into ``db`` and return a summary. Blocks until the crawl ends. ``since``: the
    run's cut-off (recorded on its ``crawl_runs`` row); ``windows``: each source's own, which replaces it
    for that source (:func:`source_windows`, when no ``--since`` was given)."""
    try:
        # rows stored before the store redacted secrets, holding one this crawl knows (m014 only knew
        # the migrating process's): out before the crawl looks its feeds' validators up
        store.redact_known_secrets(db)
        store.sync_sources(db, sources)
        conditional = conditional_discovery(db, since)
        run_id = store.start_run(db, command, since=since)
        log_catching_up(since, windows)
    except sqlite3.Error as exc:
        raise _storage_error(exc, "could not start the crawl") from None
    ballast = Ballast.beside(db)
    try:
        return _crawl_and_record(db, run_id, ballast, sources, crawl, since=since, windows=windows,
                                 polite=polite, extract_workers=extract_workers, on_page=on_page, log_level=log_level,
                                 conditional=conditional)
    finally:
        ballast.release()


def _crawl_and_record(db, run_id, ballast, sources, crawl, *, since, polite, extract_workers, on_page,
                      log_level, conditional=True, windows=None) -> CrawlSummary:
    from crawler.spiders.news import NewsSpider

    # Scrapy's records go through the root logger's handlers (``cuttings.logs``: the log file;
    # the terminal shows only cuttings' own lines), not a terminal handler of Scrapy's own.
    for name in ("scrapy", "twisted"):
        logging.getLogger(name).setLevel(log_level)
    process = CrawlerProcess(scrapy_settings(crawl, polite=polite, log_level=log_level))
    crawler = process.create_crawler(NewsSpider)
    if on_page is not None:
        crawler.signals.connect(lambda response, request, spider: on_page(response.url),
                                signal=signals.response_received)
    status = "ok"
    message = None
    try:
        process.crawl(crawler, sources=sources, db=db, run_id=run_id, since=since, windows=windows,
                      crawl_settings=crawl, extract_workers=extract_workers, conditional_discovery=conditional)
        process.start()
    except KeyboardInterrupt:
        status, message = "interrupted", "interrupted by the user"
    stats = crawler.stats.get_stats() if crawler.stats else {}
    if status == "ok" and stats.get("finish_reason") is None:
        status, message = "failed", "the crawl did not start (see the log for the error)"
    elif status == "ok" and stats.get("finish_reason") != "finished":
        status, message = "interrupted", f"crawl ended: {stats.get('finish_reason')}"
    return finish_crawl(db, run_id, sources, stats, status, message, ballast=ballast)


def finish_crawl(db, run_id: int, sources: list[Source], stats: dict, status: str,
                 message: str | None = None, *, ballast: "Ballast | None" = None) -> CrawlSummary:
    """Per-source rows, the run's status from its figures, and the ``crawl_runs`` row: the end of
    every crawl, local (:func:`run_crawl`) or distributed (``cuttings.distributed``).

    Articles fetched but not stored (``cuttings/unstored``, a storage error) make the run
    ``failed``, so the next run's window (default_since) does not move past them, and each one
    is a ``write_failed`` error of the run. The run row is closed first, with the reserve's
    room: whatever else fails to be written, the run is never left ``running``."""
    storage_error = stats.get("cuttings/storage_error")
    unstored = stats.get("cuttings/unstored") or []
    if storage_error or unstored:
        status = "failed"
        message = (f"storage error: {storage_error}; " if storage_error else "") + \
            f"{len(unstored)} article(s) fetched but not stored; the next crawl fetches them again"
        if ballast is not None:
            ballast.release()
        _mark_finished_or_raise(db, run_id, status, message, errors=len(unstored) or 1)
    try:
        store.record_errors(db, run_id, "write_failed",
                            [(source_id, url, f"article not stored: {reason}") for source_id, url, reason in unstored])
        if storage_error and not unstored:
            store.record_error(db, run_id, "storage_error", message=storage_error)
        summary = summarise(db, run_id, sources, stats)
    except sqlite3.Error as exc:
        _mark_finished_or_raise(db, run_id, "failed", message or f"storage error: {exc}")
        raise _storage_error(exc, f"crawl run {run_id} could not be recorded") from None
    summary.counts["errors"] = max(summary.counts["errors"], len(unstored))
    # failed: errors, and nothing read at all (no article page), and either no article URL found from any
    # source or every source failed (cuttings.failures.source_failed: two or more of its article pages refused
    # or unreachable, say 403 or 503, while its sitemap answered; or its one new page and a discovery request
    # both): the run did nothing useful, and its window (default_since) does not move past the stories it
    # could not read. Errors on a night that found only stories already stored (skipped), only dead links
    # (404/410), pages robots.txt disallows, or one refused page, are a partial run: a URL that answers so
    # every night must not keep the window from moving.
    found = sum(row["found_by_feed"] + row["found_by_sitemap"] + row["found_by_links"] + row["found_by_search"]
                for row in summary.sources)
    every_source_failed = bool(summary.sources) and all(source_failed(row) for row in summary.sources)
    if status == "ok" and summary.counts["errors"] and not (summary.counts["articles_new"]
                                                            or summary.counts["articles_unchanged"]
                                                            or summary.counts["articles_updated"]):
        status = "failed" if summary.counts["pages_fetched"] == 0 and (not found or every_source_failed) \
            else "partial"
    elif status == "ok" and summary.counts["errors"]:
        status = "partial"
    summary.status = status
    summary.storage_error = storage_error
    try:
        store.finish_run(db, run_id, status, message=message, **summary.counts)
    except sqlite3.Error as exc:
        _mark_finished_or_raise(db, run_id, status, message)
        raise _storage_error(exc, f"crawl run {run_id} could not be recorded") from None
    return summary


def storage_error_line(summary: CrawlSummary) -> str | None:
    """The one line the command line prints when a crawl stopped on a storage error."""
    if not summary.storage_error:
        return None
    unstored = summary.counts.get("errors", 0)
    return (f"storage error: {summary.storage_error.split(': ', 1)[-1]}: crawl run {summary.run_id} stopped; "
            f"articles not stored are recorded as write_failed ({unstored} error(s)) and fetched again by the "
            "next run once space is freed or permissions fixed")


class Ballast:
    """A reserve file (``<db>.reserve``, 1 MB) beside the database for the length of a crawl.

    When the disk fills during the crawl, deleting it gives back the room to record each
    article not stored (``write_failed``) and to mark the run failed, so a full disk never
    leaves a run ``running`` with its losses unrecorded. Deleted when the crawl ends."""

    SIZE = 1_000_000

    def __init__(self, path=None):
        self.path = path

    @classmethod
    def beside(cls, db, suffix: str = ".reserve") -> "Ballast":
        rows = [row for row in db.execute("PRAGMA database_list").fetchall() if row[1] == "main" and row[2]]
        if not rows:
            return cls()
        path = rows[0][2] + suffix
        try:
            with open(path, "wb") as handle:
                handle.write(b"\0" * cls.SIZE)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(path)
            return cls()  # no room even for the reserve: the first write will say so
        return cls(path)

    def release(self) -> None:
        if self.path:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.path = None


def _storage_error(exc: BaseException, what: str) -> store.StoreError:
    if store.is_storage_error(exc):
        return store.StorageError(f"storage error: {exc}: {what}; free space or fix permissions and run again")
    return store.StoreError(f"database error: {exc}: {what}")


def _mark_finished_or_raise(db, run_id: int, status: str, message: str | None, **counts: int) -> None:
    """Close the run row with a small write. If even this fails, the row stays ``running`` with
    this process's pid, and the next run (``mark_stale_runs``) marks it interrupted."""
    try:
        store.rollback(db)
        store.finish_run(db, run_id, status, message=message, **counts)
    except sqlite3.Error:
        pass


def summarise(db, run_id: int, sources: list[Source], stats: dict) -> CrawlSummary:
    """Write per-source coverage and health rows and build the run summary."""
    def stat(key):
        return int(stats.get(key, 0) or 0)

    errors = store.run_error_count(db, run_id)
    counts = {
        "pages_fetched": sum(stat(f"cuttings/source/{s.id}/pages_fetched") for s in sources),
        "articles_new": stat("cuttings/articles_new"),
        "duplicates": stat("cuttings/articles_duplicate"),
        "articles_updated": stat("cuttings/articles_updated"),
        "articles_unchanged": stat("cuttings/articles_unchanged") + stat("cuttings/not_modified"),
        "pages_rejected": stat("cuttings/pages_rejected"),
        "errors": errors,
    }
    spider_layers = stats.get("cuttings/found_layers", {})
    summary = CrawlSummary(run_id, "ok", counts)
    summary.errors_by_kind = store.run_errors_by_kind(db, run_id)
    for source in sources:
        prefix = f"cuttings/source/{source.id}/"
        layers = spider_layers.get(source.id, {})
        stored = sum(stat(prefix + f"articles_{k}") for k in ("new", "duplicate", "updated", "unchanged"))
        body_words = stat(prefix + "body_words")
        row = {
            "crawl_run_id": run_id, "source_id": source.id,
            "found_by_feed": len(layers.get("feed", ())), "found_by_sitemap": len(layers.get("sitemap", ())),
            "found_by_links": len(layers.get("links", ())), "found_by_search": len(layers.get("search", ())),
            "pages_fetched": stat(prefix + "pages_fetched"), "articles_stored": stored,
            "articles_new": stat(prefix + "articles_new") + stat(prefix + "articles_duplicate"),
            "pages_rejected": stat(prefix + "pages_rejected"), "errors": stat(prefix + "errors"),
            # what its article requests did (cuttings.failures.source_failed): answered or failed, and why
            "article_requests": stat(prefix + "article_requests"),
            "article_requests_failed": stat(prefix + "article_requests_failed"),
            "article_requests_gone": stat(prefix + "article_requests_gone"),
            "article_requests_blocked": stat(prefix + "article_requests_blocked"),
            "mean_body_words": round(body_words / stored, 1) if stored else None,
            "date_rate": round(stat(prefix + "dated") / stored, 3) if stored else None,
        }
        row["warning"] = health_warning(db, source.id, row,
                                        discovery_not_modified=stat(prefix + "discovery_not_modified"))
        if row["warning"]:
            summary.warnings.append(f"{source.id}: {row['warning']}")
        summary.sources.append(row)
    store.save_source_runs(db, summary.sources)
    return summary


def health_warning(db, source_id: str, row: dict, *, discovery_not_modified: int = 0) -> str | None:
    """Warn when a source's yield, body length or date rate drops sharply against its recent runs
    (the usual sign of a site redesign). ``discovery_not_modified``: feeds/sitemaps that answered
    304 this run; their URLs are not re-listed, so a lower URL count is then expected. A source of which
    nothing was fetched because the crawler refused its private or loopback address (a site of the team's
    own without ``local = true``) is told so first, with what to do (``failures.private_address_warning``)."""
    if not row.get("pages_fetched") and row.get("errors"):
        refused = private_address_warning(store.source_errors(db, row["crawl_run_id"], source_id, messages=True))
        if refused:
            return refused
    recent = [{"found": r["found_by_feed"] + r["found_by_sitemap"] + r["found_by_links"] + r["found_by_search"],
               "mean_body_words": r["mean_body_words"], "date_rate": r["date_rate"]}
              for r in store.recent_source_runs(db, source_id, before_run=row["crawl_run_id"], limit=7)]
    found_now = row["found_by_feed"] + row["found_by_sitemap"] + row["found_by_links"] + row["found_by_search"]
    if not recent:
        # a source's first run: most often its allow/deny patterns refuse every link (sources check says what is listed)
        return (f"found no article URLs (`cuttings sources check {source_id}` shows what its feeds, sitemaps and "
                "pages list and whether allow/deny refuse it)") if found_now == 0 else None
    baseline_found = sum(r["found"] for r in recent) / len(recent)
    if not discovery_not_modified and baseline_found >= 5 and found_now < 0.3 * baseline_found:
        return f"discovery dropped: {found_now} article URLs found against a recent mean of {baseline_found:.0f}"
    words = [r["mean_body_words"] for r in recent if r["mean_body_words"]]
    if words and row["mean_body_words"] and row["mean_body_words"] < 0.5 * (sum(words) / len(words)):
        return (f"extraction dropped: mean body {row['mean_body_words']:.0f} words against "
                f"{sum(words) / len(words):.0f} recently")
    dates = [r["date_rate"] for r in recent if r["date_rate"] is not None]
    if dates and row["date_rate"] is not None and row["date_rate"] < (sum(dates) / len(dates)) - 0.4:
        return f"dates dropped: {row['date_rate']:.0%} of articles dated against {sum(dates) / len(dates):.0%}"
    return None
