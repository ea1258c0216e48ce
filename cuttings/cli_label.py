"""The ``cuttings label`` command: the analysts' labelling screen and label files.

Register it on the main group with ``cli.add_command(label)``.
"""
from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import click
from rich.console import Console

from cuttings import labelling, paths, store
from cuttings.cli_common import fail, pass_context, progress_bar, scheme_option
from cuttings.wording import counted, noun
from cuttings.redaction import strip_controls


def import_line(summary: labelling.ImportSummary) -> str:
    """What an import did, in one line after "imported FILE: ": the records read, then what changed (labels
    and quote corrections added, withdrawals recorded, on how many articles; else "nothing changed"), then
    the records naming no article here. ``2 records; 2 withdrawals recorded, 2 articles changed``."""
    labels = summary.labels_added - summary.quotes_added
    changes = ([f"{counted(labels, 'label')} added"] if labels else []) + (
        [f"{counted(summary.quotes_added, 'quote correction')} added"] if summary.quotes_added else []) + (
        [f"{counted(summary.withdrawals_added, 'withdrawal')} recorded"] if summary.withdrawals_added else [])
    changed = (", ".join(changes) + f", {counted(summary.articles_changed, 'article')} changed" if changes
               else "nothing changed")
    skipped = len(summary.unmatched_lines)
    return (f"{counted(summary.records, 'record')}; {changed}"
            + (f"; {counted(skipped, 'record')} skipped (no such article in this database)" if skipped else ""))


def default_annotator() -> str:
    """$USER, else the login name."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return ""


@click.command()
@click.option("--task", "task_name", default="all", show_default=True, metavar="TASK",
              help="Task to label: a task of your label scheme (shipped scheme: topics, stance_governance, "
                   "tone) or all.")
@click.option("--annotator", default=default_annotator, show_default="$USER",
              help="Name stored with every label (and with an --unlabel withdrawal). With --import: given, the "
                   "file is your edits, and each label that differs from the one here is stored under it as given "
                   "now (one left as it was is no answer; --second-opinion: every label); not given, each "
                   "record's own annotator and time are kept (else $USER, now).")
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N", help="Show at most N articles.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False, writable=True, allow_dash=True,
                                                          path_type=Path),
              default=None, help="Write every human label to FILE as JSONL (corpus record format); missing "
                                 "folders are created. -: standard output.")
@click.option("--import", "import_path", type=click.Path(dir_okay=False, exists=True, allow_dash=True,
                                                          path_type=Path),
              default=None, help="Add the labels in FILE: JSONL (--export's records, the corpus's, or `cuttings export "
                                 "--format jsonl` stories), or the CSV or XLSX `cuttings export` writes (by the "
                                 "suffix); of a story export only the changed topics, stance and tone are stored. "
                                 "For each question the label or withdrawal given last wins: a label file's keep "
                                 "their names and times (labelled_at), and one older than the label or withdrawal "
                                 "here is not stored. A record naming no article here is skipped and counted. "
                                 "-: standard input (JSONL or CSV). Rules: docs/labelling.md.")
@click.option("--second-opinion", is_flag=True,
              help="With --import: the file is a second annotator's own labels (--annotator NAME, else the "
                   "file's names), so every label in it is stored as that person's answer, those that agree with "
                   "the label here too (agreement recorded, e.g. for inter-annotator agreement; an older one is "
                   "recorded and does not stand). Importing it again adds nothing. Not for a cuttings export "
                   "story file.")
@click.option("--unlabel", "unlabel_ref", default=None, metavar="STORY",
              help="Withdraw the human labels of one story (an article id, db-N, or its URL) for --task (default: "
                   "every task of the scheme; quote_speaker or quote_entity: the browser's corrections of its "
                   "quotes): the models' predictions show again and the story waits for a label again. The "
                   "withdrawal is recorded under --annotator with the time, the labels stay in the table (the "
                   "audit trail); prints what it withdrew.")
@click.option("--quote", "quote_id", type=int, default=None, metavar="QUOTE_ID",
              help="With --unlabel and --task quote_speaker or quote_entity: withdraw the correction of this one "
                   "quote (its id: quote_view.quote_id, or the story page's list of corrections of quotes no longer "
                   "in the story); the story's corrections of its other quotes stand.")
@click.option("--article", "article_refs", multiple=True, metavar="STORY",
              help="Label this story (an article id, db-N, or its URL; repeatable) on the screen, labelled or "
                   "not: its human labels are shown with whose they are, a accepts them under your name (a "
                   "second opinion), c corrects them.")
@scheme_option
@pass_context
def label(ctx, task_name, annotator, limit, export_path, import_path, second_opinion, unlabel_ref, quote_id,
          article_refs):
    """Label articles by hand, least certain predictions first; or move labels in/out as files.

    Shows one story at a time (headline, outlet, date, lead, mentions, the models'
    predictions, and how the most alike stories were labelled before). Keys: a accept the predictions, c correct them, s skip, q quit,
    ? help. Every answer is saved at once; `cuttings train` then learns from them.
    With --import and/or --export it works on files and needs no terminal
    (import runs first).

    Example:

    \b
        cuttings label --task stance_governance --limit 20   # the shipped scheme's stance task
        cuttings label --export labels.jsonl
        cuttings label --import labels.jsonl   # another database's file: names and times kept, the newest wins
        cuttings export --format jsonl --out stories.jsonl   # edit a stance, then:
        cuttings label --import stories.jsonl --annotator akhan
        cuttings export --out stories.csv    # correct stances in a spreadsheet, save as CSV, then:
        cuttings label --import stories.csv --annotator akhan
        cuttings label --import akhan.jsonl --annotator akhan --second-opinion   # her own labels: agreement too
        cuttings label --unlabel 205 --task stance_governance   # withdraw a wrong stance on article 205
        # one quote's corrected speaker; the ids are quote_view's article_id and quote_id (`cuttings serve`;
        # for a correction whose quote is gone, its story page prints this line): each crawl, a demo's too, has its own
        cuttings label --unlabel 349 --task quote_speaker --quote 812
        cuttings label --article 205 --annotator akhan          # this story, labelled or not (a second opinion)
        cuttings label --scheme ./label_scheme.toml --task stance_closures   # your own scheme's task
    """
    annotator = (annotator or "").strip()
    if not annotator:
        fail("no annotator name: pass --annotator NAME")
    if second_opinion and import_path is None:
        fail("--second-opinion goes with --import: a second annotator's label file "
             "(cuttings label --import FILE --annotator NAME --second-opinion)")
    if quote_id is not None and unlabel_ref is None:
        fail("--quote works with --unlabel: cuttings label --unlabel ID --task quote_speaker --quote QUOTE_ID")
    if quote_id is not None and task_name not in store.QUOTE_TASKS:
        fail(f"--quote needs --task {' or '.join(store.QUOTE_TASKS)} (the correction of that quote to withdraw)")
    quotes = unlabel_ref is not None and task_name in store.QUOTE_TASKS   # --unlabel: a quote's corrections
    try:
        tasks = labelling.load_label_tasks()
        selected = [] if quotes else labelling.select_tasks(tasks, task_name)
    except labelling.LabellingError as exc:
        fail(str(exc))
    if unlabel_ref is not None:
        if export_path is not None or import_path is not None:
            fail("--unlabel works alone: run --import/--export as a command of their own")
        db = ctx.open_db()
        try:
            if quote_id is not None:   # one quote's corrections: the story's others stand
                article_id, removed = labelling.withdraw_quote_correction(db, unlabel_ref, task_name, quote_id,
                                                                          annotator)
            else:
                article_id, removed = labelling.withdraw_labels(db, unlabel_ref,
                                                                [task_name] if quotes else [t.name for t in selected],
                                                                annotator)
        except labelling.LabellingError as exc:
            fail(str(exc))
        click.echo(f"withdrew {counted(len(removed), 'label')} of article {article_id} "
                   f"(recorded as "
                   f"{strip_controls(annotator)}; the labels stay in the table):")
        for task, target, value, who, when in removed:  # names typed in a browser form: no terminal escapes
            shown = strip_controls(f"{task} {target}" if target else task)
            click.echo(f"  {shown}: {strip_controls(value)} ({strip_controls(who)}, {when})")
        click.echo("the quote extractor's speakers and bodies apply again" if quotes else
                   "the models' predictions apply again; the story is back in the label queue")
        if quotes:   # the quote pages read quote_people's stored rows again, not until the next analyse (m038)
            store.refresh_quote_people(db)
        store.refresh_article_labels(db)   # article_summary's label columns of the story stored again (m041)
        learnt = store.models_trained_since(db, {row[0] for row in removed}, min(row[4] for row in removed))
        if learnt:
            click.echo(f"note: {', '.join(learnt)} learnt from these labels and can predict them still: "
                       f"`cuttings train` again to unlearn them", err=True)
        return
    interactive = export_path is None and import_path is None
    articles, db = None, None
    if article_refs:
        if not interactive:
            fail("--article is for the labelling screen: run --import/--export as a command of their own")
        db = ctx.open_db()
        try:
            articles = list(dict.fromkeys(labelling.story_reference(db, ref) for ref in article_refs))
        except labelling.LabellingError as exc:
            fail(str(exc))
    to_stdout = export_path is not None and str(export_path) == "-"
    from_stdin = import_path is not None and str(import_path) == "-"
    if export_path is not None and not to_stdout:
        paths.check_output_file(export_path)  # before the import: a bad path is refused before anything is done
    if interactive and not sys.stdin.isatty():
        fail("label needs an interactive terminal; use --export/--import for files")
    db = db or ctx.open_db()
    if not interactive:
        if import_path is not None:
            try:
                override = click.get_current_context().get_parameter_source("annotator") in (
                    click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)
                # read a line at a time, standard input too (a line that is not UTF-8: one line naming it)
                summary = labelling.import_labels(db, "<stdin>" if from_stdin else import_path, tasks, annotator,
                                                  override=override,
                                                  stream=click.get_binary_stream("stdin") if from_stdin else None,
                                                  second_opinion=second_opinion)
            except labelling.LabellingError as exc:
                fail(str(exc))
            skipped = len(summary.unmatched_lines)
            click.echo(f"imported {'standard input' if from_stdin else import_path}: {import_line(summary)}",
                       err=to_stdout)   # the JSONL on standard output stays JSONL
            if summary.story_exports:
                many = summary.story_exports != 1
                click.echo(f"note: {counted(summary.story_exports, 'record')} "
                           f"{'are cuttings export stories' if many else 'is a cuttings export story'}: a label "
                           f"changed from what the export showed is stored, one left as it was is not", err=True)
            if summary.agreed:
                whose = f"{strip_controls(annotator)}'s" if override else "the file's annotators'"
                click.echo(f"note: {counted(summary.agreed, 'label')} in the file "
                           f"{'agrees' if summary.agreed == 1 else 'agree'} with the label here: recorded as "
                           f"{whose} (--second-opinion)", err=True)
            if summary.withdrawals_added:
                click.echo(f"note: {counted(summary.withdrawals_added, 'withdrawal')} in the file replayed (newer "
                           f"than any withdrawal of their task here; a label here given after one stands)", err=True)
            if summary.withdrawn_since:
                click.echo(f"warning: {counted(summary.withdrawn_since, 'label')} in the file "
                           f"{'was' if summary.withdrawn_since == 1 else 'were'} given before a withdrawal "
                           f"recorded here (label --unlabel): not brought back", err=True)
            if summary.older_here:
                click.echo(f"note: {counted(summary.older_here, 'label')} in the file "
                           f"{'is' if summary.older_here == 1 else 'are'} older than the label here for the same "
                           f"question: the newer stands", err=True)
            if summary.quotes_unmatched:
                one = summary.quotes_unmatched == 1
                click.echo(f"warning: {counted(summary.quotes_unmatched, 'quote correction')} "
                           f"{'matches no quote of its' if one else 'match no quote of their'} story "
                           f"(its words are not quoted there or are quoted twice, and no quote there stands at its "
                           f"place): not imported", err=True)
            if skipped:   # every format alike: a file may name stories this database has not
                shown = ", ".join(str(n) for n in summary.unmatched_lines[:10])
                more = " ..." if skipped > 10 else ""
                click.echo(f"warning: {counted(skipped, 'record')} {'names' if skipped == 1 else 'name'} no article "
                           f"in this database ({noun(skipped, 'line')} {shown}{more}): skipped", err=True)
            store.refresh_quote_people(db)   # quote corrections imported: quote_people's rows stored again (m038)
            store.refresh_article_labels(db)   # the labelled stories' article_summary columns stored again (m041)
        if export_path is not None:
            count, outside = labelling.export_labels(db, click.get_text_stream("stdout") if to_stdout
                                                     else export_path, tasks)
            click.echo(f"exported {counted(count, 'labelled article')} to "
                       f"{'standard output' if to_stdout else export_path}",
                       err=to_stdout)
            if outside:
                click.echo(f"note: {counted(outside, 'label')} {'is' if outside == 1 else 'are'} not in the label "
                           f"scheme (a topic, task or body since "
                           f"removed): written in each record's outside_scheme field, which import and training "
                           f"ignore; they stay in the database", err=True)
        return
    summary = labelling.run_session(db, selected, annotator, read_key=click.getchar, console=Console(),
                                    limit=limit, articles=articles,
                                    progress=lambda description: progress_bar(description, None))
    store.refresh_quote_people(db)   # a quote corrected on the screen: quote_people's rows stored again (m038)
    store.refresh_article_labels(db)   # the labelled stories' article_summary columns stored again (m041)
    click.echo(f"{summary.accepted} accepted, {summary.corrected} corrected, {summary.skipped} skipped "
               f"({counted(summary.labels_written, 'label')} saved as {annotator})"
               + (f"; {summary.remaining} left" if summary.remaining else ""))
