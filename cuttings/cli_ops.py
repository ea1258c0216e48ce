"""Operations commands: ``run`` (the nightly job), ``schedule``, ``doctor`` and ``db backup/prune/vacuum``.

``pipeline.py`` registers them with ``cli_ops.register_commands(cli, db)``.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from cuttings import nightly, store
from cuttings.cli_common import fail, pass_context, scheme_option, user_message, validate_since
from cuttings.wording import counted
from cuttings.cli_report import delivery_options, env_file_option, load_env_file


@click.command()
@click.option("--sources", "sources_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Sources file [default: sources.toml in the home folder, else the packaged one].")
@click.option("--watchlist", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Watchlist file [default: watchlist.toml in the home folder, else the packaged one].")
@click.option("--models", "models_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Models directory [default: $CUTTINGS_MODELS, else models/ in the home folder].")
@click.option("--since", callback=validate_since, default=None,
              help="Crawl cutoff (ISO date) for every source, or 'all' [default: per source, the start of its "
                   "last crawl that did not fail, minus the overlap].")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the digest goes [default: reports/ in the home folder].")
@click.option("--format", "report_formats", multiple=True, help="Digest format(s), repeatable (html, md, text).")
@click.option("--skip", type=click.Choice(nightly.STAGES), multiple=True, help="Leave out a stage (repeatable).")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Rotating log file [default: logs/cuttings.log in the home folder].")
@click.option("--quiet", "-q", is_flag=True, help="Terminal shows warnings and errors only (for cron mail).")
@click.option("--no-politeness", is_flag=True, help="No crawl delays: only for your own local servers.")
@delivery_options
@env_file_option
@scheme_option
@pass_context
def run(ctx, sources_path, watchlist, models_path, since, report_dir, report_formats, skip, log_file, quiet,
        no_politeness, email, webhook, webhook_file, env_file):
    """The nightly job: crawl, analyse, classify, then write the digest.

    With --email (and/or --webhook) it sends the digest too, and records it only
    after every delivery succeeded; the delivery settings (from the environment, or
    from the file named with --env-file: a variable set in the environment wins) are
    checked before the crawl starts. One run at a time per database (a lock beside it); a second run
    exits at once with code 3. Each stage resumes where a crashed run stopped. Exit codes:
    0 ok, 1 configuration error (nothing ran; missing CUTTINGS_SMTP_* settings too),
    2 fatal error or interrupted (or, as for every click program, a mistyped option: nothing ran),
    3 already running, 4 partial (some sources or a stage failed, the rest ran; or no trained
    models yet: classify skipped with one line saying what to do, the crawl, analysis and digest ran),
    5 storage error (the database could not be written: disk full, I/O error; what was
    not stored is fetched again next run), 6 delivery failed (the digest was written
    but not sent, so not recorded: the next run or `cuttings report --email` sends its
    stories; the rest of the run is kept). When several apply, the exit code is the first of
    5, 2, 6, 4 (a storage error outranks a fatal or interrupted run, which outranks a failed
    delivery, which outranks failed sources), and the summary line names the others
    ("run 57: partial (exit 6; also 4: some sources or a stage failed)"). Details: docs/operations.md.

    \b
    Example (in cron):
        cuttings --db /srv/cuttings/cuttings.db run --quiet
        cuttings --db /srv/cuttings/cuttings.db run --quiet --email   # mail the digest (CUTTINGS_SMTP_*)
        cuttings --db /srv/cuttings/cuttings.db run --quiet --email --env-file /srv/cuttings/delivery.env
        cuttings run --quiet --sources ./sources.toml --watchlist ./watchlist.toml --scheme ./label_scheme.toml
    """
    from cuttings.cli_report import webhook_requested
    from cuttings.logs import setup_logging
    webhook = webhook_requested(webhook)  # a URL typed after --webhook: one line, before anything
    log_path = setup_logging(log_file, console_level=logging.WARNING if quiet else logging.INFO)
    load_env_file(env_file)  # one line and exit 1 for a bad file, before anything runs
    options = nightly.NightlyOptions(sources_path=sources_path, watchlist_path=watchlist, models_path=models_path,
                                     since=since, report_dir=report_dir, report_formats=tuple(report_formats) or None,
                                     polite=not no_politeness, skip=tuple(skip), email=email, webhook=webhook,
                                     webhook_file=webhook_file)
    result = nightly.run_nightly(ctx.db_path, options)
    if result.exit_code == nightly.EXIT_ALREADY_RUNNING:
        click.echo(f"cuttings run: {result.message}", err=True)
        sys.exit(result.exit_code)
    if result.exit_code == nightly.EXIT_USER_ERROR and result.run_id is None:
        click.echo(f"Error: {user_message(result.error) if result.error else result.message}", err=True)
        sys.exit(result.exit_code)
    if result.exit_code == nightly.EXIT_STORAGE:
        click.echo(f"cuttings run: {result.message}", err=True)
        if result.run_id is None:
            sys.exit(result.exit_code)
    if not quiet:
        for name, stage in result.stages.items():
            detail = ", ".join(f"{k} {v}" for k, v in stage.counts.items() if isinstance(v, int) and k != "crawl_run_id")
            # the no-models skip's what-to-do is a line of its own below (run_report_lines): not twice
            message = (store.SKIPPED_NO_MODELS if (stage.message or "").startswith(store.SKIPPED_NO_MODELS)
                       else stage.message)
            click.echo(f"{name:<9} {stage.status:<11} {stage.seconds:7.1f}s  {detail}"
                       + (f"  ({message})" if message else ""))
    if not quiet or result.exit_code != nightly.EXIT_OK:
        # --quiet (cron): nothing on a good night; on a bad one, a line per failed source and the summary.
        for line in run_report_lines(result, log_path):
            click.echo(line, err=quiet)
    sys.exit(result.exit_code)


def run_report_lines(result, log_path) -> list[str]:
    """One line per source that failed (its cause in words), one per failed or partial stage (the analyse
    stage's articles that could not be analysed), then the summary."""
    from cuttings.failures import network_hint
    crawl = result.stages.get("crawl")
    failures = crawl.failures if crawl else []
    lines = [f"source {source_id}: {words}" for source_id, _kind, words in failures]
    lines += [f"{name}: {stage.message}" for name, stage in result.stages.items()
              if name != "crawl" and stage.message and (stage.status in ("failed", "partial", "interrupted")
                                                        or stage.message.startswith(store.SKIPPED_NO_MODELS))]
    also = "".join(f"; also {code}: {reason}" for code, reason in result.hidden)
    summary = f"run {result.run_id}: {result.status} (exit {result.exit_code}{also})"
    if crawl and crawl.counts:
        summary += (f"; {counted(crawl.counts.get('articles_new', 0), 'new article')}, "
                    f"{counted(len(failures), 'source')} failed")
    hint = network_hint([kind for _source, kind, _words in failures])
    if hint and crawl and not crawl.counts.get("pages_fetched"):
        summary += f"; {hint}"
    lines.append(f"{summary}; log: {log_path}")
    return lines


def check_scheduled_env_file(path: Path, *, systemd: bool) -> None:
    """The --env-file of ``schedule``, read now as the scheduled run will read it every night. For cron (the
    run reads it as this user): a file missing, unreadable or malformed is one line and exit 1, nothing
    printed, rather than a line that fails every night. For systemd (systemd reads it as root before the
    service starts, so it may be root's, mode 600): a file this user cannot read is a warning, a malformed
    one readable here is refused. A secret others may read gets the warning the run would print."""
    import os

    from cuttings.envfile import EnvFileError, read_env_file
    if systemd and not os.access(path, os.R_OK):
        click.echo(f"warning: cannot read the env file {path} as this user: systemd reads it as root before "
                   "the service starts, and refuses to start it when the file is missing; create it first "
                   "(format: docs/operations.md)", err=True)
        return
    try:
        env_file = read_env_file(path)
    except EnvFileError as exc:
        fail(f"{exc}: the scheduled run reads it every night and would fail; create it first "
             "(format: docs/operations.md), then print the lines again")
    exposure = env_file.exposure()
    if exposure:
        click.echo(f"warning: {exposure}", err=True)


@click.command(options_metavar="--print [OPTIONS]")
@click.option("--print", "print_", is_flag=True,
              help="Required: print the lines (schedule never installs anything itself).")
@click.option("--cron", "kind", flag_value="cron", default=True, help="A crontab line (default).")
@click.option("--systemd", "kind", flag_value="systemd", help="A systemd service and timer.")
@click.option("--at", "at", default="02:30", show_default=True, help="Time of day (HH:MM, local time).")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Log file the scheduled run writes [default: logs/cuttings.log in the home folder].")
@delivery_options
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File of NAME=value lines the scheduled run reads (the CUTTINGS_SMTP_* settings, "
                   "CUTTINGS_WEBHOOK_URL; keep it mode 600): `run --env-file FILE` on the cron line, "
                   "EnvironmentFile= for systemd.")
@pass_context
def schedule(ctx, print_, kind, at, log_file, email, webhook, webhook_file, env_file):
    """Print a crontab line or systemd units that run `cuttings run` nightly for this install.

    Needs --print: it only prints, it installs nothing. Uses the absolute paths of this
    environment's `cuttings`, the database and the working directory. Install them yourself
    (see docs/operations.md). --email, --webhook and --webhook-file go on to the run, which
    then sends the digest; cron and systemd start without your shell's variables, so put the
    CUTTINGS_SMTP_* settings (and CUTTINGS_WEBHOOK_URL) in a file named with --env-file: the
    cron line passes it on as `run --env-file FILE`, the systemd unit names it as EnvironmentFile=
    (systemd reads it before starting the run, so it may belong to root). Examples to adapt (a
    crontab with the weekly backup, monthly prune and morning doctor too; the systemd units and
    timer; a distributed crawl's worker unit) are installed with cuttings: `cuttings docs` lists
    them, `cuttings docs cuttings.cron` prints one's path.

    \b
    Examples:
        cuttings schedule --print
        cuttings --db /srv/cuttings/cuttings.db schedule --print --systemd
        cuttings schedule --print --email --env-file /srv/cuttings/delivery.env
        cuttings schedule --print --systemd --email --env-file /srv/cuttings/delivery.env
    """
    from cuttings.cli_report import webhook_requested
    from cuttings.nightly import cron_line, systemd_units
    delivery = {"email": email, "webhook": webhook_requested(webhook), "webhook_file": webhook_file}
    if not print_:
        fail("schedule installs nothing, it prints the lines for you to install: add --print "
             "(`cuttings schedule --print` for a crontab line, `--print --systemd` for systemd units)")
    try:
        hour, minute = (int(part) for part in at.split(":"))
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise ValueError
    except ValueError:
        fail(f"--at: expected HH:MM, got {at!r}")
    if env_file is not None:
        check_scheduled_env_file(env_file, systemd=kind == "systemd")
    if (email or delivery["webhook"]) and not env_file:
        click.echo("note: cron and systemd start without this shell's variables: put the "
                   + ("CUTTINGS_SMTP_* settings" if email else "CUTTINGS_WEBHOOK_URL")
                   + " in a file named with --env-file (or in the crontab or unit yourself)", err=True)
    if kind == "systemd":
        service, timer = systemd_units(ctx.db_path, hour=hour, minute=minute, log_file=log_file, env_file=env_file,
                                       **delivery)
        click.echo("# /etc/systemd/system/cuttings.service")
        click.echo(service)
        click.echo("# /etc/systemd/system/cuttings.timer")
        click.echo(timer)
    else:
        click.echo(cron_line(ctx.db_path, hour=hour, minute=minute, log_file=log_file, env_file=env_file,
                             **delivery))


@click.command()
@click.option("--sources", "sources_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Sources file [default: sources.toml in the home folder, else the packaged one].")
@click.option("--watchlist", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Watchlist file [default: watchlist.toml in the home folder, else the packaged one].")
@click.option("--models", "models_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Models directory [default: $CUTTINGS_MODELS, else models/ in the home folder].")
@click.option("--scheme", "scheme_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Label scheme [default: label_scheme.toml in the home folder, else the packaged one].")
@click.option("--max-age-hours", type=float, default=36, show_default=True,
              help="Warn when the last successful run is older than this.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--fail-on", type=click.Choice(["warning", "error"]), default="warning", show_default=True,
              help="Exit 1 on any warning or error not acknowledged (warning), or on errors only (error).")
@click.option("--full", is_flag=True,
              help="Also run PRAGMA integrity_check (every index compared with its table: seconds on a "
                   "large database) and load the models as classify does, where the everyday checks run "
                   "quick_check and check the model files without loading them.")
@env_file_option
@click.option("--webhook-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Check the webhook URL in this file (as `run --webhook-file` reads it).")
@pass_context
def doctor(ctx, sources_path, watchlist, models_path, scheme_path, max_age_hours, as_json, fail_on, full,
           env_file, webhook_file):
    """Check configuration, database, disk, recent runs, sources, models and delivery settings.

    Prints each problem with what to do. Exit 0 when healthy, 1 when anything needs attention:
    an error, or a warning not acknowledged (--fail-on error: errors only). A warning the team
    knows of (a model no better than its baseline while it labels more) can be acknowledged until
    a date in the sources file's [doctor] table: it is shown as [ack ] and does not count, so a
    cron job that mails doctor's output on failure stays quiet (docs/operations.md, "Known
    warnings"). An entry can name the model it acknowledges (model = "tone-..."): a model
    trained since warns again. The delivery settings (CUTTINGS_SMTP_*, CUTTINGS_WEBHOOK_URL, from the environment
    or the --env-file; --webhook-file) are checked when any is configured: complete, valid, kept
    from other users. Nothing is sent and no secret is printed.

    Every day it runs the cheaper checks: PRAGMA quick_check of the whole file (every page and
    record), the foreign keys, and the model files checked whole and matching their cards.
    --full runs PRAGMA integrity_check too (it also compares every index with its table) and
    loads the models as classify does: seconds more on a year's database, once a week in the
    example crontab (docs/operations.md, "Health checks").

    \b
    Examples:
        cuttings --db /srv/cuttings/cuttings.db doctor
        cuttings --db /srv/cuttings/cuttings.db doctor --full
        cuttings --db /srv/cuttings/cuttings.db doctor --env-file /srv/cuttings/delivery.env
        cuttings --db /srv/cuttings/cuttings.db doctor --fail-on error
    """
    import json

    from cuttings.doctor import doctor_checks
    checks = doctor_checks(ctx.db_path, sources_path=sources_path, watchlist_path=watchlist,
                           models_path=models_path, scheme_path=scheme_path, max_age_hours=max_age_hours,
                           env_file=env_file, webhook_file=webhook_file, full=full)
    if as_json:
        click.echo(json.dumps([c.as_dict() for c in checks], indent=2))
    else:
        marks = {"ok": "ok  ", "warning": "WARN", "error": "FAIL"}
        for check in checks:
            click.echo(f"[{'ack ' if check.acknowledged else marks[check.status]}] {_shown(check.name)}: "
                       f"{_shown(check.message)}")
            if check.acknowledged:
                click.echo(f"       acknowledged {_shown(str(check.acknowledged))}")
            elif check.status != "ok" and check.fix:
                click.echo(f"       fix: {_shown(check.fix)}")
        problems = sum(c.problem for c in checks)
        acknowledged = sum(bool(c.acknowledged) for c in checks)
        known = counted(acknowledged, "acknowledged warning") if acknowledged else ""
        click.echo(counted(problems, "problem") + (f"; {known}" if known else "") if problems else
                   "healthy" + (f" ({known})" if known else ""))
    failing = [c for c in checks if c.problem and (fail_on == "warning" or c.status == "error")]
    sys.exit(1 if failing else 0)


def _shown(text: str) -> str:
    """A doctor line's words as the terminal shows them: stored crawl errors and names from configuration may
    hold controls (ESC, OSC 52, C1, bidi overrides: ``strip_controls``, as the label screen and failures.py strip
    them) and line breaks (each check is one line: a stored message must not start a line of its own)."""
    from cuttings.redaction import strip_controls
    return strip_controls(text).replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def register_commands(cli_group: click.Group, db_group: click.Group) -> None:
    """Add ``run``, ``schedule`` and ``doctor`` to the top-level group and the ``db`` subcommands."""
    for command in (run, schedule, doctor):
        cli_group.add_command(command)
    register_db_commands(db_group)


def register_db_commands(db_group: click.Group) -> None:
    """Add ``backup``, ``prune`` and ``vacuum`` to the ``cuttings db`` group."""
    for command in (db_backup, db_prune, db_vacuum):
        db_group.add_command(command)


@click.command("backup")
@click.argument("dest", type=click.Path())
@click.option("--keep", type=click.IntRange(1, None), default=None,
              help="When DEST is a directory: keep only the newest N backups there.")
@pass_context
def db_backup(ctx, dest, keep):
    """Copy the database safely while it is in use, then check the copy.

    Uses SQLite's online backup API, then `PRAGMA integrity_check` on the copy. DEST
    is a file, or a directory (existing, or ending in /) that gets a timestamped file
    (cuttings-YYYYMMDDTHHMMSSZ.db; -2, -3 ... for another backup in the same second).

    Example:

        cuttings db backup /srv/backups/cuttings/ --keep 14
    """
    from cuttings.maintenance import BackupError, backup_database
    if not Path(ctx.db_path).exists():
        fail(f"database not found: {ctx.db_path}")
    try:
        result = backup_database(ctx.db_path, dest, keep=keep)
    except BackupError as exc:
        fail(str(exc))
    click.echo(f"backup: {result.path} ({result.size_bytes / 1e6:.1f} MB, integrity ok)")
    for removed in result.removed:
        click.echo(f"removed old backup {removed}")


@click.command("prune")
@click.option("--keep-versions-days", type=click.IntRange(0, None), default=None,
              help="Drop the text of article versions older than N days (the latest two per article stay).")
@click.option("--keep-errors-days", type=click.IntRange(0, None), default=None,
              help="Delete crawl error rows older than N days.")
@click.option("--dry-run", is_flag=True, help="Print what would go; change nothing.")
@pass_context
def db_prune(ctx, keep_versions_days, keep_errors_days, dry_run):
    """Retention: drop old revision texts and old crawl errors. Run `cuttings db vacuum` after
    to give the space back to the disk.

    Example:

        cuttings db prune --keep-versions-days 365 --keep-errors-days 90 --dry-run
    """
    from cuttings.maintenance import prune_errors, prune_versions
    if keep_versions_days is None and keep_errors_days is None:
        fail("nothing to prune: give --keep-versions-days and/or --keep-errors-days")
    database = ctx.open_db()
    verb = "would drop" if dry_run else "dropped"
    if keep_versions_days is not None:
        result = prune_versions(database, keep_versions_days, dry_run=dry_run)
        click.echo(f"article_versions: {verb} the text of {counted(result.rows, 'old version')} of "
                   f"{counted(result.articles, 'article')}, {result.bytes / 1e6:.2f} MB")
    if keep_errors_days is not None:
        result = prune_errors(database, keep_errors_days, dry_run=dry_run)
        click.echo(f"crawl_errors: {verb} {counted(result.rows, 'row')} older than {counted(keep_errors_days, 'day')}")


@click.command("vacuum")
@pass_context
def db_vacuum(ctx):
    """Rebuild the database file to give freed space back to the disk.

    Needs free space about the size of the database (SQLite writes a new copy) and
    blocks writers while it runs: run it after `cuttings db prune`, not during the crawl.

    Example:

        cuttings db vacuum
    """
    from cuttings.maintenance import MaintenanceError, vacuum_database
    if not Path(ctx.db_path).exists():
        fail(f"database not found: {ctx.db_path}")
    lock = nightly.RunLock(ctx.db_path)
    try:
        lock.acquire()
    except nightly.AlreadyRunning as exc:
        click.echo(f"cuttings db vacuum: {exc}", err=True)
        sys.exit(nightly.EXIT_ALREADY_RUNNING)
    try:
        database = ctx.open_db()
        before, after = vacuum_database(database)
    except MaintenanceError as exc:
        fail(str(exc))
    finally:
        lock.release()
    click.echo(f"vacuum: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")

