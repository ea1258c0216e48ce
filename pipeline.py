"""cuttings: the command line (also installed as the ``cuttings`` console script).

    python pipeline.py --help
    cuttings demo

A thin click layer over the library in ``cuttings/``, ``crawler/`` and ``nlp/``:
user mistakes raise ``click.ClickException`` (one line, non-zero exit), every
command's help carries an example, long work shows progress on a terminal.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from cuttings import paths, store
from cuttings.cli_common import (WATCHLIST_HELP, CuttingsContext, CuttingsGroup, check_label_scheme, err_console,
                                 fail, pass_context, progress_bar, scheme_option, watchlist_option,
                                 show_progress, validate_since)
from cuttings.wording import counted
from cuttings.cli_distributed import PREFIX_HELP as REDIS_PREFIX_HELP, check_redis_url
from nlp.feature_sets import DEFAULT_FEATURES, FEATURE_SETS

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=CuttingsGroup, context_settings=CONTEXT_SETTINGS)
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="SQLite database [default: $CUTTINGS_DB, else cuttings.db in the home folder: $CUTTINGS_HOME, a checkout's data/, or the user data folder].")
@click.version_option(package_name="cuttings")
@click.pass_context
def cli(ctx, db_path):
    """cuttings: press cuttings for local news.

    Crawls local news sites, finds mentions of and quotes by the bodies you watch,
    tags topics, stance and tone, and stores everything in SQLite. The guides that help
    texts name as docs/NAME.md are installed with cuttings: `cuttings docs` says where
    (and where the deploy/ examples are: crontab, systemd units).

    Example (the offline demo, no internet needed):

        cuttings demo
    """
    paths.forget_chosen_config_files()  # a --scheme names the file for its own command only
    ctx.obj = CuttingsContext(db_path or paths.default_db())


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------

def load_sources_or_fail(path, base=None):
    from cuttings.config import ConfigError, load_sources
    try:
        return load_sources(path, base=base)
    except ConfigError as exc:
        fail(str(exc))


def load_analyser(watchlist_path=None):
    """The watchlist analyser, plus the optional statistical NER if the watchlist names one
    (``cuttings.stages.load_analyser``: the same one ``cuttings run`` uses)."""
    from cuttings import stages
    from nlp.watchlist import WatchlistError
    try:
        return stages.load_analyser(watchlist_path)
    except WatchlistError as exc:
        fail(str(exc))


def load_classifier(models_path=None, *, required=True):
    from cuttings import stages
    from nlp.classify import ModelLoadError
    if not stages.models_present(models_path):
        if required:
            fail(f"no trained models in {stages.models_dir(models_path)}: {stages.train_hint()}")
        return None
    try:
        return stages.load_classifier(models_path)
    except ModelLoadError as exc:
        fail(str(exc))


def print_crawl_summary(summary) -> None:
    c = summary.counts
    click.echo(f"crawl run {summary.run_id}: {summary.status}: {counted(c['pages_fetched'], 'page')} fetched, "
               f"{counted(c['articles_new'], 'new article')}, "
               f"{counted(c['duplicates'], 'syndicated copy', 'syndicated copies')}, "
               f"{c['articles_updated']} revised, {c['articles_unchanged']} unchanged, "
               f"{counted(c['pages_rejected'], 'non-article page')}, {counted(c['errors'], 'error')}")
    for row in summary.sources:
        click.echo(f"  {row['source_id']:<24} found by feed {row['found_by_feed']:>4}  sitemap "
                   f"{row['found_by_sitemap']:>4}  links {row['found_by_links']:>4}  search {row['found_by_search']:>3}"
                   f"  | stored {row['articles_stored']:>4} (new {row['articles_new']})  errors {row['errors']}")
    if getattr(summary, "requeued", 0):
        click.echo(f"  re-queued {counted(summary.requeued, 'task')} of workers that stopped")
    if summary.errors_by_kind:
        click.echo("  errors: " + ", ".join(f"{k} {v}" for k, v in summary.errors_by_kind.items()))
    for warning in summary.warnings:
        click.echo(f"  warning: {warning}")


def do_crawl(db, sources_config, source_ids, since, polite, command="crawl", redis=None):
    from cuttings.crawl import run_crawl
    from cuttings.logs import ensure_logging
    from cuttings.stages import resolve_since, resolve_windows
    ensure_logging()  # Scrapy's records to the log file, not the terminal
    sources = sources_config.select(source_ids) if source_ids else sources_config.sources
    windows = resolve_windows(db, since, sources, sources_config.crawl)
    since = resolve_since(db, since, sources_config.crawl.overlap_hours)
    if redis is not None:  # distributed: this process is the writer (cuttings/distributed.py)
        from cuttings.distributed import DistributedError, run_distributed_crawl
        try:
            with progress_bar("crawling", None) as advance:
                return run_distributed_crawl(db, sources, sources_config.crawl, redis["url"], since=since,
                                             windows=windows,
                                             polite=polite, workers=redis["workers"], prefix=redis["prefix"],
                                             on_page=lambda url: advance(), command=command)
        except DistributedError as exc:
            fail(str(exc))
    if show_progress():
        with progress_bar("crawling", None) as advance:
            return run_crawl(db, sources, sources_config.crawl, since=since, windows=windows, polite=polite,
                             on_page=lambda url: advance(), command=command)
    return run_crawl(db, sources, sources_config.crawl, since=since, windows=windows, polite=polite,
                     command=command)


def do_analyse(db, analyser, workers=1):
    from cuttings.stages import analyse_stage
    total = store.count_to_process(db, "analyse", analyser.version)
    if workers > 1:  # process-parallel, this process the only writer (cuttings/parallel.py)
        from cuttings.parallel import analyse_parallel, worker_pool
        with worker_pool(workers, analyser=analyser) as pool, progress_bar("analysing", total) as advance:
            return analyse_parallel(db, analyser, pool, advance=advance)
    with progress_bar("analysing", total) as advance:
        return analyse_stage(db, analyser, advance=advance)


def do_classify(db, classifier, analyser_version, workers=1):
    from cuttings.stages import classify_stage, classify_version
    version = classify_version(classifier, analyser_version)
    total = store.count_to_process(db, "classify", version, requires=("analyse", analyser_version))
    if workers > 1:
        from cuttings.parallel import classify_parallel, worker_pool
        with worker_pool(workers, classifier=classifier) as pool, progress_bar("classifying", total) as advance:
            return classify_parallel(db, classifier, pool, analyser_version=analyser_version, advance=advance)
    with progress_bar("classifying", total) as advance:
        return classify_stage(db, classifier, analyser_version=analyser_version, advance=advance)


# ----------------------------------------------------------------------------------------------
# crawl / analyse / classify / run
# ----------------------------------------------------------------------------------------------

@cli.command()
@click.argument("source_ids", nargs=-1)
@click.option("--sources", "sources_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Sources file [default: sources.toml in the home folder, else the packaged one].")
@click.option("--since", callback=validate_since, default=None,
              help="Skip feed/sitemap entries dated before this (ISO date), for every source; 'all' for "
                   "no cutoff [default: per source, the start of its last crawl that did not fail, minus the "
                   "overlap].")
@click.option("--no-politeness", is_flag=True, help="No delays or throttling: only for your own local servers.")
@click.option("--redis", "redis_url", default=None, callback=check_redis_url,
              help="Distributed crawl: seed this Redis, let workers crawl, and write what they find "
                   "(this process is the only writer).")
@click.option("--workers", type=click.IntRange(0, 256), default=0, show_default=True,
              help="With --redis: local worker processes to start (more may join with `cuttings worker`).")
@click.option("--prefix", default="cuttings", show_default=True, help="With --redis: " + REDIS_PREFIX_HELP)
@pass_context
def crawl(ctx, source_ids, sources_path, since, no_politeness, redis_url, workers, prefix):
    """Crawl news sources and store new and revised articles.

    With --redis the crawl is distributed: workers (`cuttings worker`, on any machine)
    fetch and extract, and this process writes the database (docs/operations.md).

    Examples:

        cuttings crawl my-paper other-paper --since 2026-11-20   # ids from your sources.toml
        cuttings crawl --redis redis://127.0.0.1:6379/0 --workers 2
    """
    if workers and redis_url is None:
        fail("--workers needs --redis (a local crawl runs in one process)")
    config = load_sources_or_fail(sources_path)
    if source_ids:
        from cuttings.config import ConfigError
        try:
            config.select(source_ids)
        except ConfigError as exc:
            fail(str(exc))
    db = ctx.open_db(create=True)
    from cuttings.nightly import mark_stale_runs
    mark_stale_runs(db)  # rows left `running` by a crawl that died (kill -9, storage failure)
    redis = {"url": redis_url, "workers": workers, "prefix": prefix} if redis_url else None
    summary = do_crawl(db, config, source_ids, since, polite=not no_politeness, redis=redis)
    print_crawl_summary(summary)
    if summary.storage_error:
        from cuttings.crawl import storage_error_line
        err_console.print(f"Error: {storage_error_line(summary)}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(5)
    if summary.status == "failed":
        sys.exit(2)


@cli.command()
@click.option("--watchlist", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Watchlist file [default: watchlist.toml in the home folder, else the packaged one].")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Analysis processes (this one still writes alone; same results as one process).")
@pass_context
def analyse(ctx, watchlist, workers):
    """Find mentions of watched bodies and quotes in articles not yet analysed.

    Only articles the current watchlist version has not processed are read;
    running it twice changes nothing. An article the analyser fails on is left
    unanalysed (one line each on stderr, exit 4) and the others are analysed;
    the next run tries it again (docs/operations.md).

    Examples:

        cuttings analyse --watchlist my_watchlist.toml
        cuttings analyse --workers 4
    """
    analyser = load_analyser(watchlist)
    db = ctx.open_db()
    counts = do_analyse(db, analyser, workers)
    linked = counts.get("quotes_linked", 0)
    click.echo(f"analysed {counted(counts['articles'], 'article')}: {counted(counts['mentions'], 'mention')}, "
               f"{counted(counts['quotes'], 'quote')} (watchlist version {analyser.version})"
               + (f"; {counted(linked, 'quote')} linked to {'its body' if linked == 1 else 'their bodies'} by "
                  f"speakers known from other articles" if linked else ""))
    failures = counts["failures"]
    for failure in failures[:ANALYSE_FAILURES_SHOWN]:
        err_console.print(f"article {failure['article_id']} ({failure['url']}) could not be analysed: {failure['error']}",
                          markup=False, highlight=False, soft_wrap=True)
    if failures:
        from cuttings.nightly import EXIT_PARTIAL
        more = len(failures) - ANALYSE_FAILURES_SHOWN
        err_console.print((f"... and {more} more; " if more > 0 else "")
                          + f"{len(failures)} article{'s' if len(failures) != 1 else ''} left unanalysed: the next "
                          "`cuttings analyse` or `cuttings run` tries again", markup=False, highlight=False, soft_wrap=True)
        sys.exit(EXIT_PARTIAL)


ANALYSE_FAILURES_SHOWN = 10   # articles the analyser failed on, listed one a line by `cuttings analyse`


@cli.command()
@click.option("--models", "models_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Models directory [default: $CUTTINGS_MODELS, else models/ in the home folder].")
@click.option("--watchlist", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Watchlist file [default: watchlist.toml in the home folder, else the packaged one].")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Classifying processes (this one still writes alone; same results as one process).")
@scheme_option
@pass_context
def classify(ctx, models_path, watchlist, workers):
    """Tag topics, stance and tone on articles not yet classified by the current models.

    Examples:

        cuttings classify --models ./models     # models `cuttings train --models ./models` wrote
        cuttings classify --workers 4
        cuttings classify --scheme ./label_scheme.toml   # the scheme the models were trained for
    """
    check_label_scheme()  # one line naming a scheme that does not parse, before anything is written
    classifier = load_classifier(models_path)
    from cuttings.stages import ModelsMismatch, check_models_fit, record_user_scheme, train_hint
    # models of another scheme: one line, exit 1 (ModelsMismatch), the user's scheme recorded all the same
    # (the views read it); a task without a model is left out
    try:
        problems = check_models_fit(classifier)
    except ModelsMismatch:
        record_user_scheme(ctx.open_db(), classifier)   # the store commits it (db.atomic)
        raise
    for problem in problems:
        if problem.kind == "untrained":
            click.echo(f"note: {problem.words}: stories get no {problem.task} until you {train_hint()} "
                       f"(`cuttings doctor` says more)", err=True)
    analyser = load_analyser(watchlist)
    db = ctx.open_db()
    counts = do_classify(db, classifier, analyser.version, workers)
    kept = counts.get("unchanged", 0)
    # after a new analyser version: the articles whose mentions and quotes it did not change keep their labels
    click.echo(f"classified {counted(counts['articles'], 'article')} ({counted(counts['classifications'], 'label')})"
               + (f"; {counted(kept, 'article')} kept {'its' if kept == 1 else 'their'} labels (what the models "
                  f"read of {'it' if kept == 1 else 'them'} is unchanged)" if kept else ""))
    # classify reads the current analysis only: after an upgrade or a watchlist edit, "classified 0" alone
    # (new models trained, nothing tagged) said nothing of why
    waiting = store.count_to_process(db, "analyse", analyser.version)
    if waiting:
        click.echo(f"note: {counted(waiting, 'article')} {'waits' if waiting == 1 else 'wait'} for `cuttings analyse` "
                   f"({'its' if waiting == 1 else 'their'} analysis is not the current "
                   f"analyser's, {analyser.version}): classify tags {'it' if waiting == 1 else 'them'} after it "
                   "(`cuttings run` does both)", err=True)


def write_digest(db, report_dir=None, digest=None):
    from cuttings.report import write_report
    return write_report(db, Path(report_dir) if report_dir else paths.reports_dir(), digest=digest)


# ----------------------------------------------------------------------------------------------
# demo
# ----------------------------------------------------------------------------------------------

@cli.command()
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the demo digest goes [default: demo-reports/ beside the database].")
@pass_context
def demo(ctx, report_dir):
    """Run the whole pipeline offline on the bundled demo news sites.

    Serves the bundled demo site on 127.0.0.1, crawls it with Scrapy, analyses and
    classifies what it stored (training the models first if none exist), writes
    the digest beside the database (demo-reports/), and prints a summary ending with
    the database's path. Writes demo.db in the home folder ($CUTTINGS_HOME, a
    checkout's data/, else the user data folder such as ~/.local/share/cuttings)
    unless --db is given; the models used are recorded in its `models` table.

    The demo always reads the shipped watchlist, sources and label scheme, whatever
    `cuttings init` copied and you edited, and classifies with models of the shipped
    scheme: the models folder's when they are (an earlier demo's), else its own in
    demo-models/ in the home folder (trained there the first time), so a team's own
    models are neither used nor replaced.

    \b
    Example:
        cuttings demo                                  # prints where the database is
        cuttings --db demo.db demo && cuttings --db demo.db serve   # in this folder
    """
    from cuttings.config import DEMO_SOURCES
    from cuttings.demo import demo_models, previous_port, serve_directory, use_shipped_configuration

    click_ctx = click.get_current_context()
    db_explicit = click_ctx.find_root().params.get("db_path") or os.environ.get("CUTTINGS_DB")
    db_path = Path(db_explicit) if db_explicit else paths.demo_db()
    report_dir = paths.check_output_dir(report_dir or db_path.parent / f"{db_path.stem}-reports")  # before the crawl
    use_shipped_configuration()   # the shipped watchlist and scheme, whatever the team's copies say
    analyser = load_analyser()
    models, untrained = demo_models()
    if untrained:
        click.echo(f"no trained models of the shipped scheme yet: training them into {models} on the shipped "
                   "corpus first (a few minutes) ...")
        train_models_into(None, models, DEFAULT_FEATURES, 5, corpus=str(paths.package_data("corpus")))
    classifier = load_classifier(models)
    db = CuttingsContext(db_path).open_db(create=True)
    with serve_directory(port=previous_port(db)) as base:
        click.echo(f"demo site served at {base}/")
        config = load_sources_or_fail(DEMO_SOURCES, base=base)
        summary = do_crawl(db, config, None, "all", polite=False, command="crawl (demo)")
    print_crawl_summary(summary)
    analysed = do_analyse(db, analyser)
    classified = do_classify(db, classifier, analyser.version)
    from cuttings.report import build_digest
    digest = build_digest(db)
    written = write_digest(db, report_dir, digest=digest)
    click.echo(f"analysed {counted(analysed['articles'], 'article')}, classified {classified['articles']}")
    click.echo("")
    click.echo(demo_summary(db, digest))
    click.echo("")
    click.echo(f"database: {db_path}")
    click.echo("digest:   " + ", ".join(str(p) for p in written))
    click.echo(f"explore:  cuttings --db {db_path} serve      (Datasette on http://127.0.0.1:8001/)")


STANCE_WORDS = {"none": "not about governance"}  # the shipped scheme's absent stance label, in words


def demo_summary(db, digest: dict) -> str:
    """The demo's closing summary in the digest's words: what is new since the last digest (stories,
    syndicated copies folded, by the digest's names for the watched bodies), then what the database holds."""
    def one(sql, params=()):
        return db.execute(sql, params).fetchone()[0]

    stance_task = digest.get("stance") or {"task": "stance_governance", "heading": "fire governance", "absent": "none"}
    words = STANCE_WORDS if stance_task["task"] == "stance_governance" else \
        {stance_task.get("absent"): f"not about {stance_task['heading']}"}

    def stance_words(counts: dict) -> str:
        return ", ".join(f"{words.get(label, label)} {n}" for label, n in counts.items() if n) or "-"

    new = digest["summary"]
    by_name = ", ".join(f"{name} {n}" for name, n in new["by_name"].items() if n)
    lines = [f"digest: {new['stories']} new {'story' if new['stories'] == 1 else 'stories'} since the last digest"
             + (f" ({by_name})" if by_name else "")]
    if new["stories"]:
        lines.append(f"  stance on {stance_task['heading']}: {stance_words(new['stance'])}")
    stories = one("SELECT count(*) FROM articles WHERE duplicate_of IS NULL")
    copies = one("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL")
    lines.append(f"in the database: {counted(stories, 'story', 'stories')} (and "
                 f"{counted(copies, 'syndicated copy', 'syndicated copies')}) "
                 f"from {counted(one('SELECT count(DISTINCT source_id) FROM articles'), 'outlet')}")
    # counted as the digest files stories: a body named, or speaking in a quote (report._about)
    from cuttings.report import _about
    lines.append("  stories about each watched body (named or quoted):")
    for row in db.query("SELECT e.name, count(DISTINCT coalesce(a.duplicate_of, a.id)) AS stories "
                        f"FROM {_about('SELECT id FROM articles')} m JOIN articles a ON a.id = m.article_id "
                        "JOIN entities e ON e.id = m.entity_id GROUP BY e.id ORDER BY stories DESC, e.name"):
        lines.append(f"    {row['name']:<52} {row['stories']:>4}")
    # counted as quotes_by_speaker and the story counts count them: copies left out, corrections applied
    lines.append(f"  quotes in stories: {one('SELECT count(*) FROM quotes_by_speaker')} "
                 f"({one('SELECT count(*) FROM quotes_by_speaker WHERE entity_id IS NOT NULL')} by watched bodies)")
    from cuttings.report import _label_tasks, report_tasks
    topics_task = report_tasks(_label_tasks()).get("topics")
    topics = ", ".join(f"{r['label']} {r['n']}" for r in db.query(
        "SELECT l.label, count(*) AS n FROM effective_labels l JOIN articles a ON a.id = l.article_id "
        "WHERE l.task = ? AND a.duplicate_of IS NULL GROUP BY l.label ORDER BY n DESC",
        [topics_task.name if topics_task is not None else "topics"]))
    lines.append(f"  topics (stories): {topics or '-'}")
    stance = {r["label"]: r["n"] for r in db.query(
        "SELECT l.label, count(*) AS n FROM effective_labels l JOIN articles a ON a.id = l.article_id "
        "WHERE l.task = ? AND a.duplicate_of IS NULL GROUP BY l.label ORDER BY n DESC", [stance_task["task"]])}
    lines.append(f"  stance on {stance_task['heading']} (stories): {stance_words(stance)}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# train / evaluate
# ----------------------------------------------------------------------------------------------

CORPUS_HELP = ("The labelled corpus to train on besides this database's labels: a directory in the seed "
               "corpus's format (labels.jsonl and articles/), or a JSONL file of records with title and body "
               "(as `cuttings label --export` writes them; its records of this database's articles give way "
               "to the database's labels); `none`: the database's labels alone [default: corpus/ in the home "
               "folder if it holds a labels.jsonl (set CUTTINGS_HOME: in a checkout the home folder is data/), "
               "else the shipped seed corpus]. A team with its own label scheme needs a corpus labelled to it.")
def corpus_hint(command: str = "train") -> str:
    """How to give another labelled corpus to ``cuttings COMMAND`` (train, evaluate): its own --corpus none."""
    does = "train" if command == "train" else "cross-validate"
    return ("; to use another labelled corpus: `--corpus DIR|FILE` (or corpus/ in the home folder), or "
            f"`cuttings {command} --corpus none` to {does} on the database's labels alone")


CORPUS_HINT = corpus_hint()


def load_labelled_corpus(corpus_dir, scheme, command: str = "train", hint: str | None = None) -> list[dict]:
    """The records of a labelled corpus: a directory (``labels.jsonl`` and ``articles/``) or a JSONL
    file, default ``paths.corpus_dir()``; ``"none"``: none. Any problem reading it raises one
    ``SchemeError`` line that says how to give another (to ``cuttings COMMAND``; ``hint``: these words)."""
    from nlp.corpus import load_corpus, load_jsonl
    from nlp.scheme import SchemeError
    if str(corpus_dir) == "none":
        return []
    source = Path(corpus_dir) if corpus_dir else paths.corpus_dir()
    hint = hint if hint is not None else corpus_hint(command)
    if not (source.is_file() or (source / "labels.jsonl").is_file()):
        raise SchemeError(f"no labelled corpus at {source} (a JSONL file, or a directory holding labels.jsonl)"
                          + hint)
    try:
        return load_jsonl(source, scheme) if source.is_file() else load_corpus(source, scheme)
    except SchemeError as exc:
        raise SchemeError(f"{exc}{hint}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemeError(f"cannot read the labelled corpus {source}: {exc}{hint}") from exc


def training_records(db=None, corpus_dir=None, scheme=None, command: str = "train", counts: dict | None = None):
    """The labelled corpus's records (``load_labelled_corpus``) plus the human labels of the
    database, whose records replace a corpus record of the same article (the same ``db-<id>`` and
    headline: a file ``cuttings label --export`` wrote from this database). ``counts``, given, gets
    ``database``: how many of the records are the database's labelled stories."""
    from cuttings.labelling import labelled_records
    from nlp.scheme import load_scheme
    scheme = scheme or load_scheme(paths.config_file("label_scheme.toml"))
    records = load_labelled_corpus(corpus_dir, scheme, command)
    if db is None:
        return records
    left_out: list[int] = []
    labelled = labelled_records(db, scheme.tasks, left_out)
    if counts is not None:
        counts["database"], counts["left_out"] = len(labelled), left_out
    stored = {(record["id"], record["title"]) for record in labelled}
    return [record for record in records if (record["id"], record["title"]) not in stored] + labelled


def train_models_into(db, models_path, features, folds, slices=True, corpus=None, watchlist=None):
    from cuttings.stages import models_dir
    from nlp.classify import TrainingError, analyse_records, train_models
    from nlp.embeddings import EmbeddingUnavailable
    from nlp.scheme import SchemeError, check_watched, load_scheme
    out = paths.check_output_dir(models_dir(models_path))  # a --models under a file: one line before minutes of work
    try:
        scheme = load_scheme(paths.config_file("label_scheme.toml"))
        analyser = load_analyser(watchlist)
        # a tone for a body the watchlist does not watch would never be given: say so before training
        check_watched(scheme, (entity.id for entity in analyser.watchlist.entities), analyser.watchlist.path or "the watchlist")
        counts: dict = {}
        records = training_records(db, corpus, scheme=scheme, counts=counts)
        # the models learn from the configured analyser's mentions and quotes: what they read when serving
        analyse_records(records, analyser)
        # train_models makes ``out``, once there is something to train on
        checks = f"{folds}-fold CV" + (", held-out slices" if slices else "")
        # A bar counting the models saved (one per task), with the elapsed time and the step under
        # way ("tone: leave-one-slice-out (7 slices)"): minutes of work.
        with progress_bar(f"training classifiers on {counted(len(records), 'article')} ({checks})", len(scheme.tasks)) as advance:
            cards = train_models(records, scheme, out, features=features, folds=folds, slices=slices,
                                 progress=lambda message: advance(int(": saved " in message or message.endswith(": not trained")),
                                                              message))
    except (TrainingError, SchemeError, EmbeddingUnavailable) as exc:
        fail(str(exc))
    # Only the configured models folder's models (the ones classify and run use) are recorded in `models`
    # (model_quality, label_reliability): a trial in a scratch folder would head those views as if in use.
    # Models elsewhere are recorded when `cuttings classify --models DIR` classifies with them.
    cards.recorded = db is not None and out.resolve() == models_dir(None).resolve()
    cards.articles, cards.from_database = len(records), counts.get("database")
    cards.left_out = counts.get("left_out") or []
    cards.required = [name for name, task in scheme.tasks.items() if task.kind != "per_entity"]
    cards.label_order = {name: list(task.labels) for name, task in scheme.tasks.items()}
    if db is not None:
        for card in cards if cards.recorded else ():
            store.record_model(db, card, str(out / f"{card['task']}.skops"), record_kind=False)
        # the scheme's topics, stance and tone tasks: with two tasks of a kind, the views read the
        # one the digest and exports read (the first in the scheme), not the last one trained
        from cuttings.labelling import record_scheme_tasks
        record_scheme_tasks(db, dict(scheme.tasks))
    return cards


@cli.command()
@click.option("--models", "models_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the models [default: $CUTTINGS_MODELS, else models/ in the home folder]. Models "
                   "written elsewhere (a trial) are not recorded in the database's `models` table (model_quality) "
                   "until `cuttings classify --models DIR` classifies with them.")
@click.option("--features", type=click.Choice(FEATURE_SETS), default=DEFAULT_FEATURES, show_default=True,
              help="Feature set: tfidf, static (shipped static embeddings), their combination, or minilm "
                   "variants (needs the [transformers] extra).")
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True,
              help="Cross-validation folds.")
@click.option("--slices/--no-slices", default=True, show_default=True,
              help="Also score each model on held-out gathering slices (leave-one-slice-out over the labelled "
                   "ids' prefixes, as `cuttings evaluate --slices`): what to expect, or a little less, on "
                   "coverage unlike the training data, in the model card. --no-slices trains faster.")
@click.option("--corpus", default=None, metavar="DIR|FILE|none", help=CORPUS_HELP)
@click.option("--watchlist", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=WATCHLIST_HELP + " The models learn from its analyser's reading of the articles.")
@scheme_option
@pass_context
def train(ctx, models_path, features, folds, slices, corpus, watchlist):
    """Train the topic, stance and tone classifiers.

    Uses the labelled corpus (the shipped seed corpus; your own with --corpus or
    as corpus/ in the home folder) plus every human label in the database (from
    `cuttings label`). Models are saved with skops beside a JSON model card.

    Each model's line gives its cross-validated figure and its figure on held-out
    gathering slices (leave-one-slice-out): what to expect, or a little less, on
    coverage unlike the training data.

    A task with too few labels to learn from (a new scheme's stance, say) is not
    trained: a warning says how many examples each of its labels has, and the
    other tasks are trained all the same (exit 0). Its previous model, if the
    models folder has one, stays in use. No task trainable: exit 1.

    A model no better than its baseline (its CV figure, or held-out one, at or
    below the baseline printed beside it) is saved all the same, with a warning
    naming both figures, each label's count and `cuttings label --task TASK`.

    Example:

        cuttings train --folds 5
        cuttings train --no-slices     # faster: cross-validation only
        cuttings train --corpus my-labels.jsonl   # a corpus labelled to your own scheme
        cuttings train --scheme ./label_scheme.toml --watchlist ./watchlist.toml --corpus none
    """
    from cuttings.stages import models_dir
    check_label_scheme()  # before the database is opened: a scheme that does not parse writes nothing
    if watchlist is not None:
        load_analyser(watchlist)  # likewise a watchlist that does not parse
    db = ctx.open_db(create=False) if Path(ctx.db_path).exists() else None
    cards = train_models_into(db, models_path, features, folds, slices, corpus, watchlist)
    for card in cards:
        click.echo(f"{card['task']:<18} {card['model_version']}  n={card.get('n_examples')}  "
                   f"{describe_metrics(card.get('metrics') or {})}")
    click.echo(f"models written to {models_dir(models_path)}")
    if cards.from_database is not None:
        # did my labels count? (`cuttings label`: a story with the article-level tasks answered is an example)
        click.echo(f"trained on {counted(cards.articles, 'article')}: {cards.from_database} labelled in {ctx.db_path}, "
                   f"{cards.articles - cards.from_database} from the corpus; `cuttings classify` tags the "
                   "articles with the new models")
    if cards.left_out:
        shown = ", ".join(str(i) for i in cards.left_out[:10]) + (" ..." if len(cards.left_out) > 10 else "")
        one = len(cards.left_out) == 1
        click.echo(f"note: {counted(len(cards.left_out), 'labelled story', 'labelled stories')} "
                   f"{'was' if one else 'were'} left out, as a story teaches the models only "
                   f"once its {' and '.join(cards.required)} are labelled too (article{'' if one else 's'} {shown}): "
                   "`cuttings label --article ID`", err=True)
    if db is not None and not cards.recorded:
        click.echo(f"note: not recorded in {ctx.db_path}'s models table, as {models_dir(models_path)} is not the models "
                   f"folder ({models_dir(None)}): `cuttings classify --models {models_dir(models_path)}` records them "
                   "when it classifies with them", err=True)
    for task, why in cards.skipped.items():
        click.echo(f"warning: {task} not trained: {why}", err=True)
    for card in cards:
        weak = no_better_than_baseline(card, cards.label_order.get(card["task"]))
        if weak:
            click.echo(f"warning: {weak}", err=True)
    for task, why in getattr(cards, "set_aside", {}).items():
        click.echo(f"note: {why}", err=True)


def no_better_than_baseline(card: dict, labels: list[str] | None = None) -> str | None:
    """`cuttings train`'s warning (without "warning: ") for a model whose cross-validated figure, or held-out
    one, is not above its baseline (``nlp.baseline.below_baseline``): both figures, how many labelled
    examples each label has (in ``labels``' order: the scheme's), and the labelling command. None for a
    model above it. The model is saved all the same, as a task with enough labels to train always is."""
    from nlp.baseline import below_baseline
    weak = below_baseline(card)
    if weak is None:
        return None
    task = card["task"]
    have = weak["counts"]
    ordered = [label for label in labels or () if label in have] + [label for label in have if label not in (labels or ())]
    counts = ", ".join(f"{label} {have[label]}" for label in ordered)
    return (f"{task} is no better than its baseline: {weak['words']}; it is saved all the same, but its labels "
            f"are little better than a guess. More labelled examples would help"
            + (f" ({counts})" if counts else "") + f": `cuttings label --task {task}`, then train again")


def describe_metrics(metrics: dict) -> str:
    """A model card's figures (``nlp.classify.card_metrics``) in one line: "macro-F1 0.80 in 5-fold
    CV (baseline 0.22); 0.74 (90% 0.66-0.81, by slice 0.50-1.00) on held-out slices: expect this or a
    little less on unseen coverage" (the settings were chosen on those slices)."""
    if "metric" not in metrics:
        return f"not cross-validated: {metrics.get('error', 'no figures')}"
    name = metrics["metric"].replace("_f1", "-F1")
    line = f"{name} {metrics['cv']:.3f} in {metrics['cv_folds']}-fold CV"
    if metrics.get("baseline") is not None:
        line += f" (baseline {metrics['baseline']:.3f})"
    if metrics.get("unseen_slices") is not None:
        spans = []
        if metrics.get("unseen_slices_interval"):
            spans.append("90% {:.3f}-{:.3f}".format(*metrics["unseen_slices_interval"]))
        if metrics.get("unseen_slices_range"):
            spans.append("by slice {:.3f}-{:.3f}".format(*metrics["unseen_slices_range"]))
        detail = f" ({', '.join(spans)})" if spans else ""
        line += f"; {metrics['unseen_slices']:.3f}{detail} on held-out slices: expect this or a little less on unseen coverage"
    elif metrics.get("unseen_slices_error"):
        line += f"; no figure on held-out slices: {metrics['unseen_slices_error']}"
    return line


def parse_seeds(seeds: str | None) -> list[int] | None:
    """``--seeds 0,1,2`` as a list of ints (None when not given); one clear line for bad input."""
    if seeds is None:
        return None
    try:
        values = [int(part) for part in seeds.split(",") if part.strip()]
    except ValueError:
        fail(f"--seeds must be comma-separated integers, e.g. 0,1,2; got {seeds!r}")
    if not values or any(value < 0 for value in values):
        fail(f"--seeds must be comma-separated non-negative integers, e.g. 0,1,2; got {seeds!r}")
    return values


def evaluation_records(corpus, scheme) -> list[dict]:
    """The labelled records `cuttings evaluate` cross-validates on: the corpus given (else the default one);
    with ``--corpus none`` the database's labels alone (--db, else the default database), as
    `cuttings train --corpus none` trains on them."""
    if str(corpus) != "none":
        return training_records(corpus_dir=corpus, scheme=scheme, command="evaluate")
    ctx = click.get_current_context().find_object(CuttingsContext)
    db_path = Path(ctx.db_path) if ctx is not None else paths.default_db()
    records = training_records(ctx.open_db(), "none", scheme=scheme) if db_path.exists() else []
    if not records:
        fail(f"--corpus none: no article in {db_path} has human labels for every story-level task of "
             f"{scheme.path} ({', '.join(n for n, t in scheme.tasks.items() if t.kind != 'per_entity')}): "
             "label stories with `cuttings label` (or `cuttings label --import FILE`), or give --corpus DIR|FILE")
    return records


def evaluate_classifiers(tasks, data_path, folds, features, slices, seeds, models_path, as_json,
                         corpus=None) -> dict:
    """The classifier part of `cuttings evaluate`: held-out file, k-fold CV, leave-one-slice-out, repeated
    CV over fold seeds, or a side-by-side comparison of feature sets. Prints tables unless ``as_json``."""
    from nlp.classify import (analyse_records, cross_validate, evaluate_models, evaluate_protocol, format_comparison,
                              format_protocol, format_report, summarise_seeds)
    from nlp.corpus import load_jsonl
    from nlp.embeddings import EmbeddingUnavailable
    from nlp.scheme import SchemeError, load_scheme
    seed_list = parse_seeds(seeds)
    feature_sets = [f.strip() for f in features.split(",") if f.strip()]
    unknown = [f for f in feature_sets if f not in FEATURE_SETS]
    if unknown or not feature_sets:
        fail(f"unknown feature set {', '.join(unknown) or features!r} (choose from {', '.join(FEATURE_SETS)})")
    split = "slices" if slices else "kfold"
    results: dict = {}
    lines: list[str] = []
    try:
        scheme = load_scheme(paths.config_file("label_scheme.toml"))
        if data_path:
            labelled = analyse_records(load_jsonl(data_path, scheme), load_analyser())  # the file first, then models
            report = evaluate_models(load_classifier(models_path), labelled, scheme)
        else:
            records = analyse_records(evaluation_records(corpus, scheme), load_analyser())
            if len(feature_sets) > 1:
                reports = {f: cross_validate(records, scheme, features=f, folds=folds, split=split, tasks=tasks)
                           for f in feature_sets}
                results["comparison"] = reports
                lines.append(format_comparison(reports))
                report = {}
            elif seed_list is not None and slices:
                protocol = evaluate_protocol(records, scheme, features=feature_sets[0], folds=folds,
                                             seeds=tuple(seed_list), tasks=tasks)
                report = protocol["slices"]
                results["cv_summary"] = protocol["cv_summary"]
                lines += [format_report(report), format_protocol(protocol), ""]
            elif seed_list is not None:
                runs = [cross_validate(records, scheme, features=feature_sets[0], folds=folds, seed=seed, tasks=tasks)
                        for seed in seed_list]
                report = runs[-1]
                results["cv_summary"] = summarise_seeds(runs)
                for name, entry in results["cv_summary"].items():
                    lines.append(f"{name}: {entry['metric'].replace('_', '-')} over fold seeds {seeds}: "
                                 f"{', '.join(f'{v:.3f}' for v in entry['values'])} "
                                 f"(mean {entry['mean']:.3f}, spread {entry['spread']:.3f})")
                lines += [f"last fold seed ({seed_list[-1]}) in full:", format_report(report)]
            else:
                report = cross_validate(records, scheme, features=feature_sets[0], folds=folds, split=split,
                                        tasks=tasks)
                lines.append(format_report(report))
    except (SchemeError, EmbeddingUnavailable) as exc:
        fail(str(exc))
    if data_path:
        report = {k: v for k, v in report.items() if k in tasks}
        lines.append(format_report(report))
    for task_report in report.values():
        task_report.pop("predictions", None)  # per-article rows: for analysis (bench/classify.py --json-out)
    results.update({k: v for k, v in report.items() if k in tasks})
    if not as_json:
        click.echo("\n".join(line for line in lines if line))
    return results


EXTRACTION_TASKS = ("entities", "quotes")  # what `evaluate` measures besides the label scheme's tasks


def _scheme_task_names(required: bool = True) -> list[str]:
    """The task names of the user's label scheme (``label_scheme.toml``), in file order; a scheme that
    cannot be read fails in one line (``required``) or gives none."""
    from nlp.scheme import SchemeError, load_scheme
    try:
        return list(load_scheme(paths.config_file("label_scheme.toml")).tasks)
    except SchemeError as exc:
        if required:
            fail(str(exc))
        return []


AGREEMENT = "agreement"   # `evaluate agreement [TASK]...`: how far two people's labels in the database agree
PREDICTIONS = "predictions"   # `evaluate predictions [TASK]...`: the stored predictions against later labels
ON_THE_DATABASE = (AGREEMENT, PREDICTIONS)   # targets read from the database's labels, not a labelled corpus


def _evaluate_tasks(ctx, param, value):
    """click callback for `evaluate`'s TASKS: the label scheme's task names, entities, quotes or agreement."""
    if not value or set(value) <= {*EXTRACTION_TASKS, *ON_THE_DATABASE}:
        return tuple(value)
    choices = [*_scheme_task_names(), *EXTRACTION_TASKS, *ON_THE_DATABASE]
    unknown = [task for task in value if task not in choices]
    if unknown:
        raise click.BadParameter(f"{unknown[0]!r} is not one of {', '.join(map(repr, choices))} "
                                 "(the label scheme's tasks, entities, quotes, agreement, predictions)")
    return tuple(value)


def _database_target(tasks: tuple, allowed: tuple[str, ...] = ()):
    """What `evaluate agreement` and `evaluate predictions` share: the target (the first of them named; both:
    one line), the scheme's tasks named besides it, the scheme and the database's path; refuses entities
    and quotes and the options that measure the classifiers on a corpus (``allowed``: those it reads)."""
    from nlp.scheme import SchemeError, load_scheme
    targets = [task for task in ON_THE_DATABASE if task in tasks]
    if len(targets) > 1:
        fail(f"give one of {' and '.join(targets)} at a time")
    target = targets[0]
    asked = [task for task in tasks if task != target]
    if set(asked) & set(EXTRACTION_TASKS):
        fail(f"{target} reads people's labels of the label scheme's tasks, and people label no "
             f"{' or '.join(sorted(set(asked) & set(EXTRACTION_TASKS)))} in the database: "
             f"`cuttings evaluate {target} [TASK]...` with TASK a task of the scheme")
    ctx = click.get_current_context()
    given = [f"--{name.replace('_path', '').replace('_', '-')}" for name in
             ("data_path", "folds", "features", "slices", "seeds", "models_path", "corpus")
             if name not in allowed and ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)]
    if given:
        fail(f"{', '.join(given)} measure{'s' if len(given) == 1 else ''} the classifiers on a labelled corpus, not "
             f"{target} (which reads the database's labels): leave {'it' if len(given) == 1 else 'them'} out, "
             "or run `cuttings evaluate` apart")
    try:
        scheme = load_scheme(paths.config_file("label_scheme.toml"))
    except SchemeError as exc:
        fail(str(exc))
    cuttings_ctx = ctx.find_object(CuttingsContext)
    db_path = Path(cuttings_ctx.db_path) if cuttings_ctx is not None else paths.default_db()
    if not db_path.exists():
        fail(f"no database at {db_path}: {target} reads the labels people gave in it (--db PATH)")
    return target, asked, scheme, db_path, (cuttings_ctx or CuttingsContext(db_path))


def evaluate_agreement(tasks: tuple, as_json: bool) -> None:
    """`cuttings evaluate agreement [TASK]...`: per task of the scheme (those named alone) and pair of
    annotators, how far their own labels in the database agree (``cuttings.agreement``); one line and exit 1
    when no two annotators answered a common question."""
    from cuttings.agreement import agreement, format_agreement
    _target, asked, scheme, db_path, cuttings_ctx = _database_target(tasks)
    db = cuttings_ctx.open_db()
    try:
        result = agreement(db, dict(scheme.tasks), asked or None)
    finally:
        db.conn.close()
    if not any(result.values()):
        fail(f"no two annotators in {db_path} answered a common question of "
             f"{', '.join(result) or 'the scheme'}: agreement needs a second person's labels of the same stories "
             "(`cuttings label --article ID`, or `cuttings label --import FILE --annotator NAME --second-opinion`)")
    if as_json:
        click.echo(json.dumps({AGREEMENT: result}, indent=2))
    else:
        click.echo(format_agreement(result, str(db_path)))


def evaluate_predictions(tasks: tuple, as_json: bool, corpus) -> None:
    """`cuttings evaluate predictions [TASK]...`: the stored predictions against the labels people gave after
    the model that made them was trained, on stories of neither the corpus it trained on nor labelled before
    (``cuttings.later_labels``). Nothing to count: the figures say so, and why (exit 0)."""
    from cuttings.later_labels import format_against_people, models_against_people
    from nlp.scheme import SchemeError
    _target, asked, scheme, db_path, cuttings_ctx = _database_target(tasks, allowed=("corpus",))
    try:
        records = load_labelled_corpus(corpus, scheme, hint=(
            "; `evaluate predictions` leaves out the stories of the corpus the models trained on: give --corpus "
            "DIR|FILE as given to `cuttings train`, or `--corpus none` if they trained on the database's labels alone"))
    except SchemeError as exc:
        fail(str(exc))
    where = None if str(corpus) == "none" else str(Path(corpus) if corpus else paths.corpus_dir())
    db = cuttings_ctx.open_db()
    try:
        result = models_against_people(db, dict(scheme.tasks), records, asked or None)
    finally:
        db.conn.close()
    if as_json:
        click.echo(json.dumps({PREDICTIONS: result}, indent=2))
    else:
        click.echo(format_against_people(result, str(db_path), where))


@cli.command()
@click.argument("tasks", nargs=-1, metavar="[TASK]...", callback=_evaluate_tasks)
@click.option("--data", "data_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Score the trained models on this labelled JSONL (corpus format) instead of cross-validating.")
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True,
              help="Cross-validation folds.")
@click.option("--features", default=DEFAULT_FEATURES, show_default=True,
              help="Feature set, or a comma list to compare sets side by side, e.g. tfidf,tfidf+static.")
@click.option("--slices", is_flag=True,
              help="Leave-one-slice-out instead of k-fold: train on the other gathering slices (id prefix: "
                   "t1, gov, neg...), predict the held-out one, pool the predictions.")
@click.option("--seeds", default=None, metavar="0,1,2",
              help="Fold seeds: repeat the k-fold CV once per seed and report mean and spread; with --slices, "
                   "both evaluations and a summary table.")
@click.option("--models", "models_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Models directory [default: $CUTTINGS_MODELS, else models/ in the home folder].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.option("--corpus", default=None, metavar="DIR|FILE|none",
              help="The labelled corpus to cross-validate the classifiers on: a directory in the seed corpus's "
                   "format or a JSONL file of records with title and body; `none`: the database's labels alone "
                   "(as `cuttings train --corpus none` trains on them) [default: corpus/ in the home folder "
                   "if it holds a labels.jsonl, else the shipped seed corpus]. Not with --data. With `predictions`: "
                   "the corpus the models trained on, whose stories are left out (`none`: trained on none).")
@scheme_option
@watchlist_option
def evaluate(tasks, data_path, folds, features, slices, seeds, models_path, as_json, corpus):
    """Measure the classifiers and the entity/quote extraction; agreement between people.

    TASK: a task of the label scheme (shipped: topics, stance_governance, tone), entities or quotes
    [default: every task of the scheme, and entities; with --corpus none, the scheme's tasks alone:
    the database's labels label no mentions or quotes, so entities and quotes are refused with it];
    or `agreement` or `predictions`, followed by tasks of the scheme or none for all of them.

    `agreement`: how far two people agree, in the database (--db): per task and
    pair of annotators, over the questions both answered (each one's own label
    that stands, not withdrawn; topics: each topic of the scheme a yes/no
    question), the number of questions, the share answered alike and Cohen's
    kappa, with a bootstrap 90% interval over stories from 20 questions of 5
    stories. No two annotators with a question in common: one line, exit 1.

    `predictions`: the predictions stored in the database against the labels
    people gave (the ones that stand), on stories no model trained on: first
    labelled after the model that made the prediction was trained, and no story
    of the corpus it trained on (--corpus, as given to `cuttings train`; matched
    by the crawler's near-copy test: the demo's stories are the corpus's). Per
    task: questions, accuracy, macro-F1 (90% interval from 20 questions), each
    label's precision and recall, what was left out and why, beside the model
    cards' figures (docs/classifiers.md, "How the models do on your coverage").

    Classifiers: stratified k-fold cross-validation on the seed corpus (or, with
    --slices, leave-one-slice-out: the figure that predicts unseen coverage), per-label
    precision/recall/F1 with bootstrap 90% intervals, macro and micro averages,
    confusion matrix, and the majority-class baseline beside them. --seeds repeats
    the CV over fold seeds (mean and spread). `entities`: article-level precision and
    recall per watched entity, per corpus slice. `quotes`: recall, precision and
    speaker-body accuracy against the corpus's quote labels, per slice: each article
    alone, then as stored (the analyse stage over the whole corpus, known-speaker
    links included and counted apart). Both read the file of --data or --corpus when
    given (your own labelled sample), else the shipped corpus; a corpus that names none of
    the watchlist's bodies (a team's watchlist against the shipped West Mercia corpus) is
    refused in one line (exit 1) rather than scored 1.000 with support 0.

    Examples:

        cuttings evaluate topics stance_governance --json   # the shipped scheme's task names
        cuttings evaluate tone --slices --seeds 0,1,2
        cuttings evaluate stance_closures --scheme ./label_scheme.toml --corpus mine.jsonl
        cuttings evaluate entities --watchlist ./watchlist.toml --data my-sample.jsonl
        cuttings evaluate agreement                  # two people's labels in cuttings.db
        cuttings evaluate agreement stance_governance --json
        cuttings evaluate predictions                # models against later labels
        cuttings evaluate predictions tone --corpus my-corpus.jsonl
    """
    if AGREEMENT in tasks and PREDICTIONS not in tasks:
        return evaluate_agreement(tasks, as_json)
    if PREDICTIONS in tasks:
        return evaluate_predictions(tasks, as_json, corpus)
    if data_path and corpus:
        fail("--data scores the trained models on a file; --corpus cross-validates on one: give one of them")
    scheme_tasks = _scheme_task_names() if not tasks or not set(tasks) <= set(EXTRACTION_TASKS) else []
    # --corpus none: the database's story labels, which label no mentions or quotes to score entities and
    # quotes against (and the shipped corpus is another watch's): refused when asked for, else left out
    no_corpus = str(corpus) == "none"
    asked = [task for task in tasks if task in EXTRACTION_TASKS]
    if no_corpus and asked:
        fail(f"--corpus none cross-validates the classifiers on the database's story labels, which label no "
             f"mentions or quotes: score {' and '.join(asked)} on a labelled file with --corpus DIR|FILE or --data FILE")
    if no_corpus and not tasks:
        click.echo("note: --corpus none: entities and quotes left out (the database's labels have no mentions or "
                   "quotes to score them against; give --corpus DIR|FILE for them)", err=True)
    # --data scores the trained models; entities and quotes on a file only when asked for (an export of
    # `cuttings label` lists the analyser's own mentions as entities: score them on hand-labelled records)
    wanted = set(tasks) or {*scheme_tasks, *(() if data_path or no_corpus else ("entities",))}
    results = {}
    classifier_tasks = sorted(wanted & set(scheme_tasks))
    if classifier_tasks:
        results.update(evaluate_classifiers(classifier_tasks, data_path, folds, features, slices, seeds,
                                            models_path, as_json, corpus))
    # entities and quotes are scored on the labelled file or corpus given, else the shipped corpus
    from nlp.evaluate_entities import DEFAULT_CORPUS_DIR
    labelled = Path(data_path or (corpus if corpus not in (None, "none") else None) or DEFAULT_CORPUS_DIR)
    if wanted & set(EXTRACTION_TASKS) and not (labelled / "labels.jsonl" if labelled.is_dir() else labelled).is_file():
        fail(f"no labelled corpus at {labelled} (a folder with labels.jsonl and articles/, or a JSONL file)")
    try:
        results.update(_evaluate_extraction(wanted, labelled, as_json))
    except json.JSONDecodeError as exc:
        fail(f"{labelled}: not JSON Lines (line {exc.lineno}): {exc.msg}")
    except KeyError as exc:
        fail(f"{labelled}: a labelled record has no {exc} field (the seed corpus's format, LABELS.md)")
    if as_json:
        click.echo(json.dumps(results, indent=2, default=str))


def check_watched_bodies_labelled(labelled: Path, watchlist) -> None:
    """One line and exit 1 when no labelled article of ``labelled`` names a body of ``watchlist`` (neither in
    its ``entities`` nor as a quote's ``entity``): every body would score 1.000/1.000 with support 0, as a
    team's watchlist does against the shipped West Mercia corpus."""
    from nlp.evaluate_entities import load_corpus
    watched = set(watchlist.ids)
    records = [record for record, _text in load_corpus(labelled)
               if record.get("entities") is not None or record.get("quotes")]
    if not records:
        return   # no record lists bodies or quotes: the scoring's own error says which field is missing
    named = {entity_id for record in records for entity_id in (record.get("entities") or {})}
    named |= {quote.get("entity") for record in records for quote in record.get("quotes") or ()}
    if not named & watched:
        others = sorted(filter(None, named))
        fail(f"the {len(records)} labelled articles in {labelled} name none of the bodies of the watchlist "
             f"{watchlist.path}" + (f" (they name {', '.join(others[:4])}{', ...' if len(others) > 4 else ''})"
                                    if others else "")
             + ": every body would score 1.000/1.000 with support 0; give articles labelled for this watchlist "
               "with --corpus DIR|FILE (or --data FILE; `cuttings label --export` writes them)")


def _evaluate_extraction(wanted: set, labelled: Path, as_json: bool) -> dict:
    """``evaluate entities`` / ``quotes`` on the labelled corpus or file ``labelled``."""
    results = {}
    if wanted & set(EXTRACTION_TASKS):
        check_watched_bodies_labelled(labelled, load_analyser().watchlist)
    if "entities" in wanted:
        from nlp.evaluate_entities import evaluate_entities, format_table
        result = evaluate_entities(labelled, analyser=load_analyser())
        results["entities"] = result
        if not as_json:
            click.echo(format_table(result))
    if "quotes" in wanted:
        from nlp.evaluate_entities import evaluate_quotes, format_quotes, load_corpus

        from cuttings.stages import stored_quotes
        analyser = load_analyser()
        # Each article alone (the analyser), then what the analyse stage stores: every corpus
        # article in one store, known speakers linked across them as over a whole database.
        quoted = load_corpus(labelled)
        stored = stored_quotes([{"key": record["id"], "title": text.partition("\n")[0].strip(),
                                 "body": text.partition("\n")[2].strip(), "published_at": record.get("date")}
                                for record, text in quoted], analyser)
        for key, predictions, how in (("quotes", None, "each article alone"),
                                      ("quotes_as_stored", stored, "as stored: analyse stage with known-speaker links")):
            result = evaluate_quotes(labelled, analyser=analyser, predictions=predictions, how=how)
            results[key] = result
            if not as_json:
                click.echo(format_quotes(result))
    return results


# ----------------------------------------------------------------------------------------------
# analyse-text / extract
# ----------------------------------------------------------------------------------------------

def read_input(name: str) -> tuple[str, str]:
    """(title, body) of a text file (first line the headline), an HTML page or '-' (stdin)."""
    if name == "-":
        raw = sys.stdin.buffer.read()
    else:
        path = Path(name)
        if not path.is_file():
            fail(f"no such file: {name}")
        raw = path.read_bytes()
        if name.endswith(".gz"):
            import gzip
            raw = gzip.decompress(raw)
    label = "standard input" if name == "-" else name
    text = decode_text(raw, label)
    head = text[:2048].lstrip().lower()
    if head.startswith(("<!doctype html", "<html")) or "<body" in text[:20000].lower():
        from crawler.extract import extract_article
        fields = extract_article(text)
        title, body = fields.get("title") or "", fields.get("body") or ""
        if not (title.strip() or body.strip()):
            fail(f"{label}: no article text found in the HTML page")
        return title, body
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    title, _, body = text.partition("\n")
    return title.strip(), body.strip()


def _verdict(value: dict) -> dict:
    """One prediction as analyse-text prints it: label, probability, and whether the model is unsure
    (probability below the task's ``uncertain_below`` in label_scheme.toml)."""
    return {"label": value["label"], "probability": round(value["probability"], 4),
            "uncertain": bool(value.get("uncertain", False))}


# analyse-text's value for a task with nothing predicted (no models), by the task's kind.
_EMPTY_PREDICTION = {"multi_label": list, "single_label": lambda: None, "per_entity": dict}


def analyse_text_tasks(kinds: dict[str, str]) -> dict:
    """analyse-text's task keys before any prediction, one per task (``{name: kind}``: the label scheme's,
    then any other the models have), each empty in its kind's shape: a multi-label task ``[]``, a
    single-label task ``null``, a per-entity task ``{}`` (shipped scheme: ``topics``, ``stance_governance``,
    ``tone``)."""
    return {name: _EMPTY_PREDICTION[kind]() for name, kind in kinds.items() if kind in _EMPTY_PREDICTION}


def analyse_text_predictions(prediction: dict) -> dict:
    """The classifier part of analyse-text's JSON, one key per task of the label scheme, by the
    prediction's shape: a list of verdicts (multi-label: topics), one verdict (single-label: stance),
    or entity -> verdict (per-entity: tone); each verdict {"label", "probability", "uncertain"}."""
    output: dict = {}
    for task, value in prediction.items():
        if isinstance(value, list):
            output[task] = [_verdict(v) for v in value]
        elif isinstance(value, dict) and "label" in value:
            output[task] = _verdict(value)
        elif isinstance(value, dict):
            output[task] = {entity: _verdict(v) for entity, v in value.items()}
        else:
            output[task] = None
    return output


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode_text(raw: bytes, label: str) -> str:
    """The text of a file: by its byte-order mark, else UTF-8, else the encoding charset-normalizer
    detects (Windows-1252, UTF-16 without a BOM, ...). Empty and binary input are refused."""
    if not raw.strip():
        fail(f"{label}: empty input, nothing to analyse")
    text = None
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                fail(f"{label}: starts with a {encoding} byte-order mark but is not {encoding} text")
            break
    if text is None and b"\x00" not in raw:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if text is None:
        from charset_normalizer import from_bytes
        best = from_bytes(raw).best()
        if best is None:
            fail(f"{label}: binary data, not text or HTML: refused")
        text = str(best)
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f") + text.count("\ufffd")
    if controls > max(2, len(text) // 100):
        fail(f"{label}: binary data, not text or HTML: refused")
    if not text.strip():
        fail(f"{label}: empty input, nothing to analyse")
    return text


@cli.command("analyse-text")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--date", "published_at", default=None, help="Article date (resolves office holders).")
@click.option("--models", "models_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Models directory [default: $CUTTINGS_MODELS, else models/ in the home folder].")
@click.option("--watchlist", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Watchlist file [default: watchlist.toml in the home folder, else the packaged one].")
@scheme_option
def analyse_text(inputs, published_at, models_path, watchlist):
    """Analyse text or HTML files (or - for stdin) and print one JSON object per input.

    A text file's first line is the headline. HTML pages are extracted first.
    Output: {"entities": {id: [{"text", "start", "end"}]}, "quotes": [...],
    "topics": [...], "stance_governance": {...}, "tone": {...}}: one key per task of your label
    scheme, named as it names them (the shipped scheme's are shown), a task without a model
    left empty ([], null or {}). Each topic, the stance and each tone is
    {"label", "probability", "uncertain"}: uncertain is true when the probability is below the
    task's uncertain_below (label_scheme.toml: `cuttings init` copies it).
    An input the analyser fails on gets one "Error:" line on stderr instead (the others are still
    analysed) and the exit status is 1.

    Example:

        cuttings analyse-text article.txt page.html
        printf "Fire chief praised\\nHWFRS crews rescued a family.\\n" | cuttings analyse-text -
        cuttings analyse-text --scheme ./label_scheme.toml article.txt   # your scheme's task keys
    """
    from nlp.entities import document_text
    documents = [read_input(name) for name in inputs]
    analyser = load_analyser(watchlist)
    classifier = load_classifier(models_path, required=False)
    if classifier is None:
        err_console.print("[yellow]no trained models: the label scheme's tasks (topics, stance, tone) left empty "
                          "(run `cuttings train`)[/yellow]")
    from cuttings.labelling import LabellingError, load_label_tasks
    try:   # the scheme's tasks, a task without a model left empty; then any the models have beside them
        kinds = {name: task.kind for name, task in load_label_tasks().items()}
    except LabellingError as exc:   # the scheme only names keys: the models' tasks, else none
        kinds = {}
        if classifier is None:
            from rich.markup import escape
            err_console.print(f"[yellow]{escape(str(exc))}: no task keys in the output[/yellow]", soft_wrap=True)
    if classifier is not None:
        kinds.update({task: card.get("kind") for task, card in classifier.cards.items()})
    from cuttings.stages import AnalysisFailed, analyse_text, fit_text
    failed = 0
    for label, (title, body) in zip(inputs, documents):
        text, cut = fit_text(document_text(title, body))
        if cut:
            err_console.print(f"[yellow]input over {len(text):,} characters: analysed its first part only[/yellow]")
        try:
            result = analyse_text(analyser, text, published_at)
        except AnalysisFailed as exc:   # one line, and the other inputs are still analysed
            failed += 1
            err_console.print(f"Error: {'standard input' if label == '-' else label}: the analyser failed on this "
                              f"text: {exc} (a bug in cuttings: please report it with the text)",
                              markup=False, highlight=False, soft_wrap=True)
            continue
        entities: dict[str, list] = {}
        for m in result["mentions"]:
            entities.setdefault(m["entity_id"], []).append({"text": m["surface"], "start": m["start_char"],
                                                            "end": m["end_char"]})
        output = {"entities": entities,
                  "quotes": [{"speaker": q.get("speaker"), "entity": q.get("entity_id"), "text": q["text"]}
                             for q in result["quotes"]],
                  **analyse_text_tasks(kinds)}
        if classifier is not None:
            prediction = classifier.predict({"title": title, "body": body, "mentions": result["mentions"],
                                             "quotes": result["quotes"]})
            output.update(analyse_text_predictions(prediction))
        click.echo(json.dumps(output, ensure_ascii=False))
    if failed:
        sys.exit(1)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="The page's URL (helps dates and canonical URLs).")
def extract(files, url):
    """Extract article fields from saved HTML pages (.html or .html.gz), one JSON object each.

    Example:

        cuttings extract page.html.gz --url https://news.example.org/2026/11/20/fire-station-vote/
    """
    from crawler.extract import extract_article, extract_file
    for path in files:
        if not path.is_file():
            fail(f"no such file: {path}")
        fields = extract_article(extract_file(path), url)
        keys = ("title", "body", "author", "published_at", "modified_at", "date_source", "is_article", "paywalled")
        click.echo(json.dumps({**{k: fields.get(k) for k in keys}, "reject_reason": fields.get("reject_reason"),
                               "file": str(path)}, ensure_ascii=False))


# ----------------------------------------------------------------------------------------------
# db
# ----------------------------------------------------------------------------------------------

@cli.group()
def db():
    """Database housekeeping.

    Example:

        cuttings db stats
    """


@db.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def db_stats(ctx, as_json):
    """Row counts per table.

    Example:

        cuttings --db demo.db db stats      # the database `cuttings --db demo.db demo` wrote
    """
    database = ctx.open_db()
    counts = store.table_counts(database)
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    width = max(len(k) for k in counts)
    for name, count in counts.items():
        click.echo(f"{name:<{width}}  {count:>8}")


def register_commands() -> None:
    """Commands that live in their own modules."""
    from cuttings import cli_ops
    from cuttings.cli_label import label
    from cuttings.cli_init import docs, init
    from cuttings.cli_report import COMMANDS as report_commands
    from cuttings.cli_distributed import worker
    from cuttings.cli_sources import sources
    for command in (*report_commands, label, sources, init, docs, worker):
        cli.add_command(command)
    cli_ops.register_commands(cli, db)  # run, schedule, doctor; db backup, prune, vacuum


def keep_examples_verbatim(group: click.Group) -> None:
    """Mark every indented block of every command's help (the examples) with click's ``\\b`` so
    click prints it as written instead of re-wrapping its lines into one."""
    def mark(text: str | None) -> str | None:
        if not text:
            return text
        import inspect
        paragraphs = inspect.cleandoc(text).split("\n\n")
        for i, paragraph in enumerate(paragraphs):
            lines = paragraph.split("\n")
            if lines[0].strip() != "\b" and all(line.startswith((" ", "\t")) for line in lines if line.strip()):
                paragraphs[i] = "\b\n" + paragraph
        return "\n\n".join(paragraphs)

    def walk(command: click.Command) -> None:
        command.help = mark(command.help)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)
    walk(group)


register_commands()
keep_examples_verbatim(cli)


if __name__ == "__main__":
    cli()
