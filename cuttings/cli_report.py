"""The ``report``, ``serve`` and ``export`` commands (registered on the ``cuttings`` group by pipeline.py)."""
from __future__ import annotations

from pathlib import Path

import click

from cuttings import delivery, export, report, serve, store
from cuttings.nightly import EXIT_DELIVERY
from cuttings.cli_common import CuttingsContext, check_label_scheme, err_console, pass_context, scheme_option

_FORMATS = {"html": ("html",), "md": ("md",), "text": ("text",), "all": ("html", "md", "text")}


def _timestamp(value: str | None, option: str) -> str | None:
    """Validate a date/time option; returns it in the store's UTC form."""
    if not value:
        return None
    try:
        return report.normalise_timestamp(value)
    except ValueError:
        raise click.ClickException(f"{option} must be a date (YYYY-MM-DD) or UTC time (YYYY-MM-DDTHH:MM:SSZ), "
                                   f"got {value!r}") from None


def delivery_options(command):
    """``--email``, ``--webhook`` and ``--webhook-file``, as ``report`` and ``run`` (and ``schedule``) take them."""
    for option in reversed((
            click.option("--email", is_flag=True,
                         help="Send the digest by e-mail (settings from CUTTINGS_SMTP_* variables)."),
            click.option("--webhook", "webhook", is_flag=False, flag_value="", default=None, metavar="",
                         help="Post a short summary to the Slack or Teams incoming webhook in $CUTTINGS_WEBHOOK_URL "
                              "(the URL is a secret: never on the command line)."),
            click.option("--webhook-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                         help="Post to the webhook URL read from this file (first line) instead."))):
        command = option(command)
    return command


def webhook_requested(webhook: str | None) -> bool:
    """Whether ``--webhook`` was given; a value after it (the secret URL typed on the command line) is
    refused with one line that does not repeat it."""
    if webhook:
        raise click.ClickException(delivery.WEBHOOK_ON_COMMAND_LINE)
    return webhook is not None


ENV_FILE_HELP = ("Read the delivery settings (CUTTINGS_SMTP_*, CUTTINGS_WEBHOOK_URL) from this file of NAME=value "
                 "lines (keep it mode 600); a variable already set in the environment wins over the file. "
                 "Format: docs/operations.md.")


def env_file_option(command):
    """``--env-file FILE`` of ``run``, ``report`` and ``doctor``: the delivery settings from a file."""
    return click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help=ENV_FILE_HELP)(command)


def load_env_file(path: Path | None) -> None:
    """Apply ``--env-file`` to this process's environment (the environment's own non-empty values win):
    a file that cannot be read or has a malformed line is one line and exit 1; a file holding a
    secret that group or others may read gets a warning on stderr (cron mails it)."""
    import logging

    from cuttings.envfile import EnvFileError, read_env_file
    if path is None:
        return
    try:
        env_file = read_env_file(path)
    except EnvFileError as exc:
        raise click.ClickException(str(exc)) from None
    exposure = env_file.exposure()
    if exposure:
        click.echo(f"warning: {exposure}", err=True)
    for name in env_file.apply():
        logging.getLogger("cuttings.envfile").info("%s: the environment's value wins over %s", name, path)


class DeliveryFailed(click.ClickException):
    """Sending the digest failed: one line and exit 6, as ``run`` exits (``nightly.EXIT_DELIVERY``), so a
    cron line or a script tells "fix the mail settings or the server" from a mistake on the command line."""

    exit_code = EXIT_DELIVERY


@click.command("report")
@click.option("--since", help="Stories first seen after this date/time, not later than now "
                                 "(default: where the last report ended).")
@click.option("--format", "fmt", type=click.Choice(list(_FORMATS)), default="all", show_default=True,
              help="Which files to write: all is .html, .md and .txt (`cuttings run` writes .html and .md "
                   "unless its --format says otherwise).")
@click.option("--out", "--report-dir", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for the report files (--report-dir: the same, as `cuttings run` names it) "
                   "[default: reports/ in the home folder].")
@delivery_options
@env_file_option
@click.option("--print", "print_", is_flag=True, help="Also print the digest (Markdown, or plain text with "
                                                       "--format text) to standard output.")
@click.option("--no-record", is_flag=True, help="Do not record the report: the next digest covers the same stories.")
@scheme_option
@pass_context
def report_command(ctx: CuttingsContext, since: str | None, fmt: str, out_dir: Path, email: bool,
                   webhook: str | None, webhook_file: Path | None, env_file: Path | None, print_: bool,
                   no_record: bool) -> None:
    """Write the morning digest of stories first seen since the last report.

    The digest groups new stories by watched body, with topics, stance and tone
    badges, the key quote, syndicated copies, edits, coverage spikes and crawl
    health. The report is recorded only after every delivery succeeded; when sending fails,
    the files are kept, nothing is recorded, and the command exits 6 (as `run` does; bad
    settings are exit 1, before anything is written). --env-file reads the
    CUTTINGS_SMTP_* settings and CUTTINGS_WEBHOOK_URL from a file (a variable already set in the
    environment wins). The e-mail keeps within CUTTINGS_SMTP_MAX_KB (default 80 KB, so Gmail does
    not clip it): on a busy night each section lists its most pressing stories, every story
    "Needs attention" names is kept, and for the rest the e-mail carries the digest file written
    (CUTTINGS_SMTP_ATTACH, on unless 0; up to 5 MB) and links to it where the report folder is
    published (CUTTINGS_SMTP_REPORT_URL), else names its path (docs/configuration.md, "The
    e-mailed digest").

    \b
    Example:
        cuttings report --since 2026-11-01 --format html --email
        cuttings report --report-dir /srv/cuttings/reports --format md
        cuttings report --email --env-file /srv/cuttings/delivery.env --no-record   # try the settings
        cuttings report --scheme /srv/cuttings/label_scheme.toml   # the team's scheme, wherever it is
    """
    since = _timestamp(since, "--since")
    now = store.utcnow()
    if since and since > now:  # an empty digest of a window that has not begun, recorded as covering it
        raise click.ClickException(f"--since {since} is later than now ({now}): no story can have been first "
                                   "seen since then; give a past date (YYYY-MM-DD) or time")
    check_label_scheme()  # one line naming a scheme that does not parse, before anything is written
    load_env_file(env_file)
    try:  # settings checked before the digest is built
        sending = delivery.DigestDelivery.prepare(email=email, webhook=webhook_requested(webhook),
                                                  webhook_file=webhook_file)
    except delivery.DeliveryError as exc:
        raise click.ClickException(str(exc)) from None
    if out_dir is None:
        from cuttings import paths
        out_dir = paths.reports_dir()
    db = ctx.open_db()
    digest = report.build_digest(db, since=since)
    formats = _FORMATS[fmt]
    paths = report.write_report(db, out_dir, formats=formats, digest=digest, record=False)
    if sending:
        try:
            for line in sending.send(digest, full_digest=report.full_digest_path(paths)):
                err_console.print(line)
        except delivery.DeliveryError as exc:
            raise DeliveryFailed(f"{exc} (report files were written but not recorded)") from None
    if not no_record:
        report.record_report(db, digest, formats, paths)
    if print_:
        click.echo(report.render_markdown(digest, plain=fmt == "text"), nl=False)
    for path in paths:
        err_console.print(f"wrote {path}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on. On loopback it answers only requests addressed to 127.0.0.1, "
                   "localhost, [::1] or this name (a guard against DNS rebinding).")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@click.option("--writable", is_flag=True, help="Open the database writable (default: read-only connections that see live writes).")
@click.option("--open", "open_browser", is_flag=True, help="Open a browser at the server.")
@click.option("--corrections", is_flag=True,
              help="Let people correct topics, stance, tone and quote speakers on story pages (written to the "
                   "labels table; opens the database writable; 127.0.0.1 only unless an authentication plugin "
                   "is installed).")
@click.option("--annotator", metavar="NAME", default=None,
              help="With --corrections: save every correction as NAME (the forms then ask no name). Without "
                   "it, a signed-in user's id, else the name typed in the form, which is not verified.")
@click.option("--suggest-facets/--no-suggest-facets", default=None,
              help="Datasette's facet suggestions on every page (default: on up to 2,000 stories, off past it, "
                   "where they cost each page a second or more and suggest little). Configured facets and "
                   "?_facet= work either way.")
@scheme_option
@pass_context
def serve_command(ctx: CuttingsContext, host: str, port: int, writable: bool, open_browser: bool,
                  corrections: bool, annotator: str | None, suggest_facets: bool | None) -> None:
    """Explore the database in the browser with Datasette (stories, story pages, search, canned queries).

    \b
    Example:
        cuttings serve --port 8001
        cuttings serve --corrections      # correct labels and quote speakers from story pages
        cuttings serve --corrections --annotator "$USER"   # ... saved under your name
        cuttings serve --corrections --scheme ./label_scheme.toml   # your scheme's labels in the forms
        cuttings serve --suggest-facets   # Datasette's facet suggestions on a large database too
    """
    # the story pages' correction forms read the label scheme: one that does not parse is one line
    # naming it, before the server starts
    check_label_scheme()
    ctx.open_db().close()  # a clear error for a missing or foreign file, and migrations applied
    try:
        code = serve.serve(ctx.db_path, host=host, port=port, read_only=not writable, open_browser=open_browser,
                           corrections=corrections, annotator=annotator, suggest_facets=suggest_facets)
    except store.StoreError as exc:
        raise click.ClickException(str(exc)) from None
    if code not in (0, -2, -15):
        raise click.ClickException(f"datasette exited with status {code} (is port {port} in use?)")


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(export.FORMATS), default=None,
              help="csv (one row per story), jsonl (JSON Lines) or xlsx (sheets of stories, quotes and "
                   "syndication; needs --out FILE) [default: from --out's suffix (.csv, .jsonl, .ndjson, .xlsx), "
                   "else csv]. One contradicting the suffix is an error.")
@click.option("--entity", help="Only stories mentioning this entity id of the watchlist (shipped: hwfrs, sfrs, wm_pcc...).")
@click.option("--topic", help="Only stories with this topic of the label scheme (shipped: governance, "
                               "finance...).")
@click.option("--stance", metavar="LABEL",
              help="Only stories with this label of the label scheme's stance task (shipped scheme: favour, "
                   "against, neutral or none, on fire governance).")
@click.option("--since", help="Published on or after this date/time.")
@click.option("--until", help="Published on or before this date/time (a date includes the whole day).")
@click.option("--out", default="-", show_default=True, help="Output file, or - for standard output.")
@click.option("--bom/--no-bom", default=None,
              help="CSV: start with a UTF-8 byte-order mark, so Excel reads accents and dashes right "
                   "[default: --bom for a file, --no-bom for standard output].")
@click.option("--keep-formulas", is_flag=True,
              help="CSV: write text starting with = + - @ as it is (by default it gets a leading ' so a "
                   "spreadsheet does not run crawled text as a formula).")
@scheme_option
@pass_context
def export_command(ctx: CuttingsContext, fmt: str, entity: str | None, topic: str | None, stance: str | None,
                   since: str | None, until: str | None, out: str, bom: bool | None, keep_formulas: bool) -> None:
    """Export stories (one row per story, copies folded, with their quotes) as CSV, JSON Lines or XLSX.

    The format follows --out's suffix unless --format says otherwise. XLSX has sheets of stories,
    quotes and syndication, with real dates. A CSV file starts with a UTF-8 byte-order mark for
    Excel (--no-bom: without).

    \b
    Example:
        cuttings export --entity wm_pcc --stance against --since 2018-01-01 --out pcc.csv
        cuttings export --since 2019-01-01 --until 2019-12-31 --out 2019.xlsx
        cuttings export --topic finance --format jsonl | head -n 1
        cuttings export --scheme ./label_scheme.toml --stance oppose   # your scheme's stance labels
    (wm_pcc, against, finance: names in the shipped watchlist and label scheme; the years: those of
    the demo stories, so with --db and the path `cuttings demo` prints each finds some. Use yours.)
    """
    for value, option in ((since, "--since"), (until, "--until")):
        _timestamp(value, option)
    try:  # before the database is opened: a wrong format or suffix writes nothing
        fmt = export.format_for(out, fmt)
    except export.ExportError as exc:
        raise click.ClickException(str(exc)) from None
    if bom and fmt != "csv":
        raise click.ClickException(f"--bom is for CSV only (this export is {fmt})")
    roles = export.scheme_roles()  # the user's label scheme (--scheme, the home folder's, else the packaged one)
    try:
        if stance:
            export.check_stance(stance, roles)
        if topic:
            export.check_topic(topic, roles)
    except export.ExportError as exc:
        raise click.ClickException(str(exc)) from None
    db = ctx.open_db()
    if entity:
        known = store.entity_ids(db)
        if known and entity not in known:
            raise click.ClickException(f"unknown entity {entity!r}: choose from {', '.join(known)}")
    try:
        count = export.export_summary(db, out, fmt=fmt, entity=entity, topic=topic, stance=stance,
                                      since=since, until=until, guard_formulas=not keep_formulas, bom=bom,
                                      roles=roles)
    except export.ExportError as exc:
        raise click.ClickException(str(exc)) from None
    err_console.print(f"exported {count} {'story' if count == 1 else 'stories'}"
                      + ("" if out == "-" else f" to {out}"))


COMMANDS = (report_command, serve_command, export_command)
