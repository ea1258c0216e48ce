"""Health checks for an install: configuration, database, disk, recent runs, sources, models.

``doctor_checks`` returns a list of :class:`Check` (status ``ok``, ``warning`` or ``error``,
a one-line message and what to do) for ``cuttings doctor``. The delivery checks
(:func:`check_delivery`) read the settings without connecting or sending, and print no secret. The per-run source health warning
it repeats is the crawler's (``cuttings.crawl.health_warning``, stored in
``source_runs.warning``); the digest's crawl-health section reads the same rows itself. It never
writes to the database: it opens it read-only, unmigrated, and reads it through the store's functions
(which take that plain ``sqlite3`` connection), running no SQL of its own (docs/architecture.md, rule 5).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping

from cuttings import paths, store
from cuttings.wording import counted, noun
from cuttings.failures import robots_refused_every_article, source_failed, source_failures
from cuttings.nightly import hours_since, pid_alive


@dataclass
class Check:
    name: str
    status: str  # ok, warning, error
    message: str
    fix: str | None = None
    about: str | None = None          # what a warning is about, where a check says (a model quality's task)
    acknowledged: str | None = None   # a warning the team acknowledged ([doctor] acknowledge): until when, where
    model: str | None = None          # the model a model quality warning is about (its version, as train prints it)

    @property
    def problem(self) -> bool:
        """Whether it counts: an error, or a warning not acknowledged."""
        return self.status == "error" or (self.status == "warning" and not self.acknowledged)

    def as_dict(self) -> dict:
        return asdict(self)


def _ok(name: str, message: str) -> Check:
    return Check(name, "ok", message)


def doctor_checks(db_path: str | Path, *, sources_path: str | Path | None = None,
                  watchlist_path: str | Path | None = None, models_path: str | Path | None = None,
                  scheme_path: str | Path | None = None, max_age_hours: float = 36,
                  min_free_bytes: int = 500_000_000, now: dt.datetime | None = None,
                  include_config: bool = True, env: Mapping[str, str] | None = None,
                  env_file: str | Path | None = None, webhook_file: str | Path | None = None,
                  full: bool = False) -> list[Check]:
    """Every check, in a stable order. ``include_config=False`` leaves out the configuration,
    model and delivery checks (only the database, run and source health). ``env`` (default
    ``os.environ``), ``env_file`` and ``webhook_file``: where the delivery settings are
    (:func:`check_delivery`). ``full`` (``doctor --full``): the checks that read everything, whatever
    they cost at a year's size: ``PRAGMA integrity_check`` of the whole file in place of ``quick_check``
    (:func:`check_database`), and the models loaded as classify loads them in place of their files
    checked (:func:`models_checks`)."""
    checks: list[Check] = []
    source_ids = None
    acknowledge: list = []
    if include_config:
        sources_check, source_ids, acknowledge = check_sources(sources_path, with_acknowledgements=True)
        checks += [sources_check, check_watchlist(watchlist_path), check_scheme(scheme_path, watchlist_path)]
    db_path = Path(db_path)
    if not db_path.exists():
        checks.append(Check("database", "error", f"{db_path} does not exist",
                            "run `cuttings run` (or `cuttings crawl`) to create it, or pass --db"))
    else:
        conn = store.connect_read_only(db_path, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            db_checks = check_database(conn, db_path, full=full)
            checks += db_checks
            if all(c.status != "error" for c in db_checks):
                checks += check_runs(conn, max_age_hours, now)
                checks += check_backlog(conn)
                checks += check_source_yield(conn, source_ids, sources_file=sources_to_edit(sources_path))
                checks += check_label_tasks(conn)
                checks += check_quote_corrections(conn)
        except sqlite3.DatabaseError as exc:
            checks.append(Check("database", "error", f"cannot read {db_path}: {exc}",
                                "restore the latest backup (`cuttings db backup` copies) or re-create it"))
        finally:
            conn.close()
    checks.append(check_disk(db_path, min_free_bytes))
    checks.append(check_writable(db_path))
    if include_config:
        analysers: dict = {}   # the analyser's version, read once for both checks (spaCy's pipeline built once)
        checks += models_checks(models_path, watchlist_path, scheme_path, analysers=analysers, full=full)
        if db_path.exists() and all(c.status != "error" for c in checks if c.name in ("database", "migrations")):
            checks += check_reanalysis(db_path, watchlist_path, analysers=analysers)
        checks += check_delivery(env, env_file=env_file, webhook_file=webhook_file)
        checks += acknowledge_warnings(checks, acknowledge, (now or dt.datetime.now(dt.timezone.utc)).date(),
                                       sources_to_edit(sources_path))
    return checks


# The checks doctor makes that can warn (those a [doctor] acknowledge entry may name).
WARNING_CHECKS = ("env file", "webhook", "foreign keys", "migrations", "last run", "latest run",
                  "stale runs", "analysis backlog", "sources yielding", "sources never yielding", "sources failing",
                  "sources disallowed", "source health", "label tasks", "disk", "models", "model quality")
ACKNOWLEDGE_WHERE = "([doctor] acknowledge)"


def acknowledge_warnings(checks: list[Check], acknowledge: list, today: dt.date, sources_file: str) -> list[Check]:
    """Mark the warnings the team acknowledged in the sources file's ``[doctor] acknowledge`` list
    (``config.Acknowledgement``: a check's name, optionally what it is about, and a date): until that date
    (inclusive) a matching warning is shown as acknowledged and does not count (``Check.problem``: exit 0 when
    nothing else is wrong, so a cron job that mails doctor's output only on failure stays quiet while nothing
    changes); after it, it warns again and says the acknowledgement ended. An error is never acknowledged.
    A model quality entry pinned to a model (``model``, its version) acknowledges that model only: another
    model of its task (trained since) warns again, saying which model the entry was written for; an entry
    not pinned acknowledges any model of its task, and says how to pin it to the one warned of now.
    Returns the ``acknowledgements`` check: a warning for an entry naming no check doctor makes, an ok line
    for entries no warning matched (no longer needed); none without entries."""
    if not acknowledge:
        return []
    used: set[int] = set()
    for check in checks:
        if check.status == "ok":
            continue
        matching = [(index, ack) for index, ack in enumerate(acknowledge)
                    if ack.check == check.name and (ack.about is None or ack.about == check.about)
                    and (ack.model is None or ack.model_task == check.about)]
        if not matching:
            continue
        # the entry pinned to this very model first, then one for any model, then one for another model
        index, ack = min(matching, key=lambda pair: (0 if pair[1].model is not None and pair[1].model == check.model
                                                     else 1 if pair[1].model is None else 2, pair[0]))
        used.add(index)
        if check.status == "error":
            check.message += f" (acknowledged in {sources_file}, but an error cannot be)"
        elif ack.model is not None and ack.model != check.model:
            check.message += (f" (its acknowledgement in {sources_file} is for model {ack.model}, not this one: "
                              f"a model trained since warns again; to acknowledge this one, set "
                              f"model = \"{check.model}\")")
        elif today <= ack.until:
            check.acknowledged = (f"until {ack.until.isoformat()} in {sources_file} {ACKNOWLEDGE_WHERE}"
                                  + (f" for model {ack.model}" if ack.model else "")
                                  + (f": {ack.note}" if ack.note else ""))
            if ack.model is None and check.model:
                check.acknowledged += (f"; it covers any {check.about} model: add model = \"{check.model}\" to it "
                                       f"so that a model trained after this one warns again")
        else:
            check.message += f" (its acknowledgement in {sources_file} ended on {ack.until.isoformat()})"
    from nlp.errors import did_you_mean
    unknown = [ack for ack in acknowledge if ack.check not in WARNING_CHECKS]
    result = [Check("acknowledgements", "warning", f"[doctor] acknowledge names {ack.check!r}, not a check doctor "
                    f"makes{did_you_mean(ack.check, WARNING_CHECKS)}",
                    f"give a check's name as doctor prints it, in {sources_file}") for ack in unknown]
    unneeded = [ack for index, ack in enumerate(acknowledge) if index not in used and ack not in unknown]
    if unneeded:
        named = ", ".join(ack.check + (f" ({', '.join(filter(None, (ack.about, ack.model)))})"
                                       if ack.about or ack.model else "") for ack in unneeded)
        result.append(_ok("acknowledgements", f"{len(unneeded)} no longer needed: {named}: remove "
                          f"{'it' if len(unneeded) == 1 else 'them'} from {sources_file} {ACKNOWLEDGE_WHERE}"))
    return result


def check_delivery(env: Mapping[str, str] | None = None, *, env_file: str | Path | None = None,
                   webhook_file: str | Path | None = None) -> list[Check]:
    """The delivery settings, when any are configured (a ``CUTTINGS_SMTP_*`` variable or
    ``CUTTINGS_WEBHOOK_URL`` set in ``env`` or the ``env_file``, or a ``webhook_file``): one check
    each for the env file, e-mail and the webhook. Complete and valid as ``cuttings run --email``
    / ``--webhook`` would check them (:class:`cuttings.delivery.DigestDelivery`), the addresses
    parseable, secrets kept from group and others; nothing is connected to or sent, and no password
    or webhook URL is printed (the webhook's host is). No delivery configured: no check."""
    import os

    from cuttings import delivery
    from cuttings.envfile import EnvFileError, read_env_file
    checks: list[Check] = []
    environ = dict(os.environ if env is None else env)
    if env_file is not None:
        try:
            settings = read_env_file(env_file)
        except EnvFileError as exc:
            return [Check("env file", "error", str(exc), f"fix that line (the format: {paths.doc('operations.md')})")]
        exposure = settings.exposure()
        if exposure:
            checks.append(Check("env file", "warning", exposure, f"chmod 600 {env_file}"))
        else:
            kept = [name for name in settings.values if environ.get(name)]
            checks.append(_ok("env file", f"{env_file}: {counted(len(settings.values), 'setting')}"
                              + (f" ({', '.join(kept)} from the environment, which wins)" if kept else "")))
        environ = settings.merged(environ)
    if any(environ.get(name) for name in delivery.SMTP_VARIABLES):
        checks.append(_check_smtp(environ))
    if environ.get(delivery.WEBHOOK_VARIABLE) or webhook_file is not None:
        checks.append(_check_webhook(environ, webhook_file))
    return checks


def _check_smtp(environ: Mapping[str, str]) -> Check:
    from email.utils import getaddresses, parseaddr

    from cuttings import delivery
    fix = f"set the CUTTINGS_SMTP_* variables ({paths.doc('analysts.md')}) in the environment or the --env-file"
    try:
        settings = delivery.smtp_settings(environ)
    except delivery.DeliveryError as exc:
        return Check("e-mail", "error", str(exc), fix)
    odd = [f"CUTTINGS_SMTP_FROM {settings.sender!r}"] if "@" not in parseaddr(settings.sender)[1] else []
    parsed = [address for _name, address in getaddresses(settings.recipients)]
    odd += [f"CUTTINGS_SMTP_TO {address!r}" for address in parsed if "@" not in address]
    if odd:
        return Check("e-mail", "error", f"not an e-mail address: {', '.join(odd)}",
                     "give addresses as name@example.org (or Name <name@example.org>), separated by commas")
    how = ("STARTTLS" if settings.starttls else "no TLS") + (f", login as {settings.user}" if settings.user else
                                                              ", no login")
    count = len(settings.recipients)
    budget = f"its HTML part within {settings.max_kb} KB" if settings.max_kb else "every story (no size limit)"
    where = [f"attached (up to {delivery.ATTACH_MAX_BYTES // (1024 * 1024)} MB)"] if settings.attach else []
    where += [f"linked at {settings.report_url}"] if settings.report_url else []
    full = ("the full digest " + " and ".join(where) if where else
            "the full digest named by its path on this machine (CUTTINGS_SMTP_ATTACH=0, no CUTTINGS_SMTP_REPORT_URL)")
    return _ok("e-mail", f"via {settings.host}:{settings.port} ({how}) from {parseaddr(settings.sender)[1]} to "
                         f"{counted(count, 'address', 'addresses')}, {budget}, {full} (not connected: "
                         "`cuttings report --email --no-record` sends one)")


def _check_webhook(environ: Mapping[str, str], webhook_file: str | Path | None) -> Check:
    from cuttings import delivery
    where = f"the file {webhook_file}" if webhook_file is not None else f"${delivery.WEBHOOK_VARIABLE}"
    try:
        url = delivery.webhook_url(environ, path=webhook_file)
        parts = delivery.check_webhook_url(url)
    except delivery.DeliveryError as exc:
        return Check("webhook", "error", str(exc), "put the https URL of the incoming webhook in "
                     f"${delivery.WEBHOOK_VARIABLE} or the file named with --webhook-file")
    if webhook_file is not None:
        from cuttings.envfile import readable_by_others
        readers = readable_by_others(Path(webhook_file).stat().st_mode)
        if readers:
            return Check("webhook", "warning", f"{webhook_file} holds the webhook URL (a secret) and can be read by "
                         f"{readers}", f"chmod 600 {webhook_file}")
    return _ok("webhook", f"{parts.scheme} URL from {where}, host {parts.hostname} (not posted to)")


def sources_to_edit(sources_path=None) -> str:
    """The sources file a fix goes in: the one read (``--sources``, else the home folder's copy). When that is
    the packaged default of an installed cuttings, which is no file to edit, the copy `cuttings init` writes."""
    read = Path(sources_path) if sources_path else paths.config_file("sources.toml")
    if not sources_path and paths.source_checkout() is None and \
            read.resolve() == paths.package_data("sources.toml").resolve():
        return (f"{paths.home() / 'sources.toml'} (`cuttings init` writes it, a copy of the packaged default, "
                "which cuttings then reads)")
    return str(read)


def check_sources(path, *, with_acknowledgements: bool = False):
    """The sources file's check and its source ids (None when it does not load); ``with_acknowledgements``:
    and its ``[doctor] acknowledge`` entries (``config.Acknowledgement``) too."""
    from cuttings.config import ConfigError, load_sources
    try:
        config = load_sources(path)
    except ConfigError as exc:
        failed = Check("sources", "error", str(exc), f"fix the sources file (see {paths.doc('configuration.md')})")
        return (failed, None, []) if with_acknowledgements else (failed, None)
    unverified = [s.id for s in config.sources if not s.verified]
    count = len(config.sources)
    message = f"{counted(count, 'source')} in {config.path}"
    if unverified:
        message += f" ({len(unverified)} unverified)"
    message += f"; {_contact_note(config.crawl)}"
    ids = [s.id for s in config.sources]
    return (_ok("sources", message), ids, config.acknowledge) if with_acknowledgements else (_ok("sources", message), ids)


def _contact_note(crawl) -> str:
    """Whom the crawler's user agent tells site owners to contact: the team's own page once
    ``[crawl] contact_url`` is set, else the project's page (said, so a team sees it has not set it)."""
    from cuttings.config import CrawlSettings
    if crawl.contact_url == CrawlSettings.contact_url:
        return (f"the crawler names the project's page ({crawl.contact_url}) as its contact: set [crawl] "
                "contact_url to your team's page or mailto: address")
    return f"the crawler names {crawl.contact_url} as its contact"


def check_watchlist(path) -> Check:
    try:
        from nlp.watchlist import WatchlistError, load_watchlist
    except ImportError as exc:
        return Check("watchlist", "error", f"the nlp package is missing: {exc}", "reinstall cuttings")
    try:
        watchlist = load_watchlist(path or paths.config_file("watchlist.toml"))
    except WatchlistError as exc:
        return Check("watchlist", "error", str(exc), f"fix the watchlist file (see {paths.doc('watchlist.md')})")
    return _ok("watchlist", f"{len(watchlist.entities)} watched bodies (version {watchlist.version})")


def check_scheme(path, watchlist_path=None) -> Check:
    """The label scheme parses, and the bodies its per-entity task (tone) rates are watched."""
    try:
        from nlp.scheme import SchemeError, check_watched, load_scheme
        from nlp.watchlist import WatchlistError, load_watchlist
    except ImportError as exc:
        return Check("label scheme", "error", f"the nlp package is missing: {exc}", "reinstall cuttings")
    try:
        scheme = load_scheme(path or paths.config_file("label_scheme.toml"))
    except SchemeError as exc:
        return Check("label scheme", "error", str(exc),
                     f"fix the label scheme (see \"Label scheme as data\" in {paths.doc('classifiers.md')})")
    watchlist_path = watchlist_path or paths.config_file("watchlist.toml")
    try:
        watchlist = load_watchlist(watchlist_path)
    except WatchlistError:   # the watchlist check's error, not this one's
        return _ok("label scheme", "parses")
    try:
        check_watched(scheme, (entity.id for entity in watchlist.entities), watchlist_path)
    except SchemeError as exc:
        return Check("label scheme", "error", str(exc), "fix the label scheme or the watchlist, then `cuttings train`")
    return _ok("label scheme", "parses; the bodies it rates are watched")


def _scheme_problems(classifier, scheme_path) -> list:
    """How the trained models differ from the label scheme as it is now (``stages.scheme_mismatches``, the
    rule classify reads too); none when the scheme does not parse (the scheme check's error)."""
    from cuttings import paths
    from cuttings.stages import scheme_mismatches
    from nlp.scheme import SchemeError, load_scheme
    try:
        scheme = load_scheme(scheme_path or paths.config_file("label_scheme.toml"))
    except SchemeError:
        return []
    return scheme_mismatches(classifier, scheme)


def _label_then_train(task: str) -> str:
    """What to do for a task of the scheme without a model: label it, then the command that trains this
    scheme's models (``stages.train_hint``, which says to label first when the team has its own scheme)."""
    from cuttings.stages import train_hint
    hint = train_hint()
    if hint.startswith("label stories"):
        return hint.replace("(`cuttings label`", f"(`cuttings label --task {task}`", 1)
    return f"label stories (`cuttings label --task {task}`), then {hint}"


_ANALYSER_VERSION = re.compile(r"^(?P<watchlist>[0-9a-f]+)-(?P<rules>rules-\d+)-(?P<quotes>quotes-\d+)$")


def analyser_change(trained_on: set[str], current: str, since: str = "since training") -> str:
    """What changed between the analyser the models learnt from and the one the analyse stage runs now,
    read from the versions (``WATCHLIST-rules-N-quotes-N``): after an upgrade of cuttings its rules and
    quote extractor (and the packaged watchlist), not the team's edits."""
    now = _ANALYSER_VERSION.match(current)
    then = [_ANALYSER_VERSION.match(version) for version in trained_on]
    if now is None or len(then) != 1 or then[0] is None:
        return f"the watchlist was edited or cuttings was upgraded {since}"
    then = then[0]
    code = [f"{what} ({then[part]} -> {now[part]})" for part, what in (("rules", "the entity rules"),
                                                                       ("quotes", "the quote extractor"))
            if then[part] != now[part]]
    watchlist = then["watchlist"] != now["watchlist"]
    if not code:
        return f"the watchlist was edited {since}"
    said = f"a cuttings upgrade changed {' and '.join(code)} {since}"
    return said + (", and the watchlist changed (edited, or the upgrade's packaged one)" if watchlist else "")


def check_models(path, watchlist_path=None, scheme_path=None, *, full: bool = False) -> Check:
    """The ``models`` check of :func:`models_checks` alone."""
    return models_checks(path, watchlist_path, scheme_path, full=full)[0]


def _analyser_version(watchlist_path, analysers: dict | None) -> str | None:
    """The version of the analyser the analyse stage runs now (``stages.load_analyser``), None for a watchlist
    that does not load (the watchlist check's error); ``analysers``: the versions this doctor run already read
    (by watchlist path), so the analyser is built once for the checks that read its version."""
    from cuttings.stages import load_analyser
    from nlp.errors import NlpError
    if analysers is not None and watchlist_path in analysers:
        return analysers[watchlist_path]
    try:
        current = load_analyser(watchlist_path).version
    except NlpError:
        current = None
    if analysers is not None:
        analysers[watchlist_path] = current
    return current


def models_checks(path, watchlist_path=None, scheme_path=None, *, analysers: dict | None = None,
                  full: bool = False) -> list[Check]:
    """The ``models`` check, then a ``model quality`` warning for each model no better than its baseline
    (``nlp.baseline.below_baseline``, about its task: the one a ``[doctor] acknowledge`` entry names).

    ``full``: the models load (``stages.load_classifier``, as classify loads them: scikit-learn and skops
    imported, every model built, about 2.3 s); else their files are checked without loading them
    (``nlp.model_files.check_model_files``: the cards, the installed library versions, each file whole, its
    CRCs and skops schema, the card's model version and feature set; about 0.2 s), which finds a file that
    would not load but for one whose sound bytes hold objects this install cannot build. Then every way they
    do not fit what the pipeline reads today, in one check: models of another label scheme (an error:
    classify refuses them), a task of the scheme without a model (not trained yet, or too few labels when
    `cuttings train` ran), cue words changed since training, and
    models that learnt from another analyser's reading of the training articles than the watchlist's
    analyser gives today (tone reads its mentions and quotes)."""
    from cuttings.stages import load_classifier, model_files, models_dir, models_present
    directory = models_dir(path)
    if not models_present(directory):
        from cuttings.stages import train_hint
        # not an error: `cuttings run` skips classify in one line and does the rest (a team's first nights)
        return [Check("models", "warning", f"no trained models in {directory}: `cuttings run` skips classify "
                      "until there are", train_hint())]
    try:
        if full:
            from nlp.classify import ModelLoadError as Unusable
        else:
            from nlp.model_files import ModelFileError as Unusable
    except ImportError as exc:
        return [Check("models", "error", f"the nlp package is missing: {exc}", "reinstall cuttings")]
    try:
        classifier = load_classifier(directory) if full else model_files(directory)
    except Unusable as exc:
        from cuttings.stages import train_hint
        return [Check("models", "error", str(exc), f"{train_hint()}: it retrains them with the installed libraries")]
    problems = _scheme_problems(classifier, scheme_path)
    foreign = [problem.words for problem in problems if problem.foreign_labels]
    untrained = [problem.task for problem in problems if problem.kind == "untrained"]
    cues = [problem.words for problem in problems if problem.kind == "cues"]
    found, fixes, reasons = [], [], []
    if foreign:
        found.append(f"they were trained for another label scheme: {'; '.join(foreign)} (classify refuses them, `cuttings run` skips classify as with no models)")
    if untrained:
        found.append(f"no model for {', '.join(untrained)}: not trained yet, or too few labels when `cuttings "
                     f"train` ran (it says which); stories get no {', '.join(untrained)} until it is trained")
        if not foreign:
            fixes.append(_label_then_train(untrained[0]))
    if cues:
        found.append(f"the label scheme changed since they were trained: {'; '.join(cues)}")
    from nlp.baseline import below_baseline
    weak = {task: below_baseline(card) for task, card in sorted(classifier.cards.items())}
    # a check each, about its task (foreign models: that error says to retrain them all)
    quality = [] if foreign else [
        Check("model quality", "warning", f"the {task} model is no better than its baseline ({why['words']}): its "
              "labels are little better than a guess (the digest's trust note and \"Needs attention\" say so too); "
              f"model {classifier.versions[task]}" + (f", trained {classifier.cards[task]['created_at']}"
                                                       if classifier.cards[task].get("created_at") else ""),
              _label_then_train(task), about=task, model=classifier.versions[task])
        for task, why in weak.items() if why is not None]
    trained_on = {version for card in classifier.cards.values() for version in card.get("analyser_versions") or ()}
    # None: a broken watchlist is the watchlist check's error, not this one's
    current = _analyser_version(watchlist_path, analysers)
    if current is not None and trained_on != {current}:
        read = ", ".join(sorted(trained_on)) or "the labelled surface forms (models trained before 2026-12-05)"
        found.append(f"they learnt from analyser {read}, not {current}, which the analyse stage runs now "
                     f"({analyser_change(trained_on, current)})")
        reasons.append("learn from what they now read")
    if foreign or cues:
        reasons.insert(0, "learn the scheme as it is")
    if reasons:   # one command, whatever the reasons: the one that trains models of this scheme
        from cuttings.stages import train_hint
        needs_labels = untrained   # retraining alone does not give a task labels
        first = _label_then_train(needs_labels[0]) if needs_labels and not foreign else train_hint()
        fixes[:] = [f"{first} so the models {' and '.join(reasons)}"]
    count = len(classifier.versions)
    # what was checked: the models loaded (--full), or their files (whole, matching their cards)
    said = (f"{counted(count, 'model')} {'loads' if count == 1 else 'load'} from {directory}" if full else
            f"{counted(count, 'model')} in {directory}, {'its file' if count == 1 else 'each file'} whole and "
            "matching its card (`doctor --full` loads them)")
    if found:
        # another scheme's models are an error (classify refuses them, and a team whose scheme was edited
        # since training gets no classification until it retrains); no models at all is a team's first
        # nights: a warning (above)
        return [Check("models", "error" if foreign else "warning",
                      f"{said}, but " + "; and ".join(found), "; ".join(fixes))] + quality
    return [_ok("models", said)] + quality


def check_database(conn: sqlite3.Connection, db_path: Path, *, full: bool = False) -> list[Check]:
    """The file's soundness, its foreign keys and its migrations. Every day ``PRAGMA quick_check`` (every page,
    record and b-tree of the file: about a third of integrity_check's CPU); ``full`` (``doctor --full``)
    ``PRAGMA integrity_check`` too, which also compares each index with its table (1.5-1.7 s of CPU at
    50,000 stories: docs/benchmarks.md, "Doctor's everyday checks at a year's size")."""
    checks = []
    tables = store.table_names_of(conn)
    if "articles" not in tables:
        return [Check("database", "error", f"{db_path} is not a cuttings database",
                      "check --db / $CUTTINGS_DB")]
    # integrity_check makes every check quick_check makes (and those of the indexes' contents): a sound file
    # is sound to both, so with --full quick_check reads the file (a second time) only when integrity_check finds
    # a problem (docs/benchmarks.md, "Doctor and the digest at a year's size")
    if full:
        problems = {"integrity_check": store.integrity_problems(conn, "integrity_check")}
        problems["quick_check"] = store.integrity_problems(conn, "quick_check") if problems["integrity_check"] else []
    else:
        problems = {"quick_check": store.integrity_problems(conn, "quick_check")}
    for pragma in [name for name in ("quick_check", "integrity_check") if name in problems]:
        rows = problems[pragma]
        if not rows:
            checks.append(_ok(pragma, "ok"))
        else:
            checks.append(Check(pragma, "error", "; ".join(rows[:3]) + (" ..." if len(rows) > 3 else ""),
                                f"stop the nightly job, restore the latest backup (see {paths.doc('operations.md')})"))
    foreign = store.foreign_key_problems(conn)
    if foreign:
        checks.append(Check("foreign keys", "warning", f"{counted(len(foreign), 'row')} {'points' if len(foreign) == 1 else 'point'} at missing rows "
                            f"(first in table {foreign[0][0]})", "report it as a bug; restore a backup if it grows"))
    applied, pending = store.migration_status(conn)
    unknown = store.unknown_migrations(conn)
    if unknown:
        checks.append(Check("migrations", "error", f"the database was upgraded by a newer cuttings: "
                            f"{counted(len(unknown), 'migration')} unknown to this version "
                            f"({', '.join(unknown)}); this version refuses to write to it",
                            "install that cuttings version again, or restore the backup taken before the upgrade "
                            f"(see \"Upgrading cuttings\" in {paths.doc('operations.md')})"))
    elif pending:
        checks.append(Check("migrations", "warning", f"{len(pending)} pending: {', '.join(pending)}",
                            "any `cuttings` command that writes applies them; back up first (`cuttings db backup`)"))
    else:
        checks.append(_ok("migrations", f"{len(applied)} applied, none pending"))
    return checks


def check_label_tasks(conn: sqlite3.Connection) -> list[Check]:
    """A warning when the stance or tone task the label views read (the newest ``label_tasks`` row of kind
    ``single_label`` / ``per_entity``, ``store.schema.newest_label_tasks``) has no labels recorded: a team's
    task recorded before migration m015 gave the table its label columns. Until the scheme is recorded
    again, entity_daily has the shipped scheme's columns for it and the "needs attention" query
    (``critical_articles``) finds no stance. And a warning when the newest task of a kind has a name the
    views cannot hold (recorded before the scheme refused it): the views read the shipped task for it."""
    from cuttings.store.schema import (NO_TASK, ROLES, label_task_columns, label_task_problem, label_task_roles,
                                       newest_label_tasks)
    if "labels_json" not in label_task_columns(conn):   # before m015: the migrations check says so
        return []
    newest = newest_label_tasks(conn)
    roles = label_task_roles(conn)   # the task each kind's views read, by the views' own rule
    read = {kind: roles[role] for role, kind in ROLES.items()}
    checks = []
    unusable = {kind: (row["name"], problem) for kind, row in newest.items()
                if (problem := label_task_problem(row["name"], kind, row["labels"], row["absent"]))}
    for kind, (name, problem) in unusable.items():
        also = " (so does the \"needs attention\" query)" if kind in ("single_label", "per_entity") else ""
        checks.append(Check("label tasks", "warning",
                            f"the {kind} task {name!r} cannot be read by the label views ({problem}): they read "
                            f"the shipped scheme's task for its kind, {read[kind]!r}, instead{also}",
                            "fix the label scheme, then run `cuttings classify` (it records the scheme)"))
    missing = {kind: newest[kind]["name"] for kind in ("single_label", "per_entity")
               if kind in newest and kind not in unusable and not newest[kind]["labels"]
               and newest[kind]["name"] != NO_TASK[kind]}   # a scheme without a stance or tone task: nothing missing
    if not missing:
        return checks
    effects = "entity_daily has the shipped scheme's stance/tone columns for " + ("them" if len(missing) > 1 else "it")
    if "single_label" in missing:
        effects += " and the \"needs attention\" query finds no stance"
    return checks + [Check("label tasks", "warning",
                           f"no labels recorded for {', '.join(f'{name} ({kind})' for kind, name in missing.items())}: "
                           f"{effects} until the label scheme is recorded",
                           "run `cuttings classify` (or `cuttings train`, or label a story): each records the label scheme")]


def check_quote_corrections(conn: sqlite3.Connection) -> list[Check]:
    """How many people's corrections of quotes stand, and which apply to no quote: orphaned, their quote gone
    (a re-analysis of a revised story no longer found it; m029 keeps a correction with its quote's id, so it is
    not applied to another quote found where it was). Said, not warned: nothing is wrong with the install, and
    a cron job mailing doctor's output would mail it daily; the story page lists them, and the line names the
    command that withdraws each (the first three)."""
    from cuttings import store
    if "quote_id" not in store.label_columns(conn):   # before m029: the migrations check says it is pending
        return []
    fixes = store.quote_corrections(conn)
    if not fixes:
        return []
    orphaned = [fix for fix in fixes if not fix.found]
    if not orphaned:
        return [_ok("quote corrections", f"{len(fixes)} standing, each applied to its quote")]
    stories = sorted({fix.article_id for fix in orphaned})
    shown = ", ".join(str(story) for story in stories[:10]) + (f" and {len(stories) - 10} more" if len(stories) > 10
                                                                else "")
    commands = [f"`{withdraw_command(fix)}`" for fix in orphaned[:3]]
    more = f" and {len(orphaned) - 3} more" if len(orphaned) > 3 else ""
    return [_ok("quote corrections",
                f"{counted(len(orphaned), 'correction')} of a quote no longer found in "
                f"{'its story' if len(orphaned) == 1 else 'their stories'} ({noun(len(stories), 'story', 'stories')} "
                f"{shown}): kept, applied to no quote; {len(fixes) - len(orphaned)} applied. The story page lists "
                f"them; to withdraw {'it' if len(orphaned) == 1 else 'one'}: {', '.join(commands)}{more}")]


def withdraw_command(fix) -> str:
    """The command that withdraws one correction of a quote (``store.QuoteCorrection``): by its quote's id; one
    m029 found no quote for (no id) only with its story's other corrections of the task."""
    command = f"cuttings label --unlabel {fix.article_id} --task {fix.task}"
    return f"{command} --quote {fix.quote_id}" if fix.quote_id is not None else command


def check_writable(db_path: Path) -> Check:
    """The database file and its folder must be writable: every stage writes the file, and SQLite
    creates its -wal/-shm journal and cuttings its .lock beside it."""
    import os
    folder = db_path.parent if str(db_path.parent) else Path(".")
    if not folder.exists():
        return Check("writable", "error", f"the folder {folder} does not exist", "create it, or pass another --db")
    if not os.access(folder, os.W_OK | os.X_OK):
        return Check("writable", "error", f"the folder {folder} is read-only: SQLite cannot write its journal "
                     "and cuttings its lock beside the database", "make the folder writable, or move the database")
    if db_path.exists() and not os.access(db_path, os.W_OK):
        return Check("writable", "error", f"{db_path} is read-only", "make the file writable (chmod u+w)")
    return _ok("writable", f"{db_path.name} and its folder are writable")


def check_disk(db_path: Path, min_free_bytes: int) -> Check:
    from cuttings.maintenance import database_bytes
    directory = db_path.parent if db_path.parent.exists() else Path.cwd()
    free = shutil.disk_usage(directory).free
    size = database_bytes(db_path) if db_path.exists() else 0
    message = f"{free / 1e9:.1f} GB free beside the database ({size / 1e6:.1f} MB)"
    if free < max(min_free_bytes, size):
        return Check("disk", "error", message, "free disk space: the crawl, backups and VACUUM need room")
    if free < 2 * size:
        return Check("disk", "warning", message + "; VACUUM needs about the database's size free",
                     "free disk space or prune (`cuttings db prune`)")
    return _ok("disk", message)


def _only_models_skipped(stages_json: str | None) -> bool:
    """Whether a partial run's one shortfall is the planned one: classify skipped for want of models of this
    scheme (:data:`store.SKIPPED_NO_MODELS`), every other stage ok or skipped on request."""
    try:
        stages = json.loads(stages_json or "{}") or {}
    except ValueError:
        return False
    classify = stages.get("classify") or {}
    return (classify.get("status") == "skipped" and (classify.get("message") or "").startswith(store.SKIPPED_NO_MODELS)
            and all(stage.get("status") == "ok" or store.skipped_by_design(stage) for stage in stages.values()))


def check_runs(conn: sqlite3.Connection, max_age_hours: float, now: dt.datetime | None) -> list[Check]:
    checks = []
    last_ok = store.last_completed_run(conn)
    if last_ok is None:
        checks.append(Check("last run", "warning", "no successful run yet",
                            "run `cuttings run` and schedule it (`cuttings schedule --print`)"))
    else:
        age = hours_since(last_ok["started_at"], now)
        # a partial run (some sources or a stage failed) still ran: it counts for the schedule's freshness,
        # and says it was partial
        partial = ("classify skipped: no models for this scheme" if _only_models_skipped(last_ok["stages_json"])
                   else "some sources or a stage failed")
        message = (f"last completed run {last_ok['id']} ({last_ok['command']}) {age:.0f} h ago"
                   + (f": partial ({partial})" if last_ok["status"] == "partial" else ": ok"))
        if age > max_age_hours:
            checks.append(Check("last run", "warning", message,
                                "check the schedule (`systemctl list-timers cuttings.timer` or crontab -l) "
                                "and the log (data/logs/cuttings.log)"))
        else:
            checks.append(_ok("last run", message))
    latest = store.latest_pipeline_run(conn)
    # a run partial only for the planned skip (no models for this scheme yet) is the models check's warning,
    # with its hint: not counted twice
    planned = latest is not None and latest["status"] == "partial" and _only_models_skipped(latest["stages_json"])
    if latest is not None and latest["status"] in ("failed", "interrupted", "partial") and not planned:
        from cuttings.stages import train_hint
        no_models = store.SKIPPED_NO_MODELS in (latest["message"] or "")   # classify skipped: nothing to rerun
        checks.append(Check("latest run", "warning", f"run {latest['id']} {latest['status']}: "
                            f"{latest['message'] or 'no message'}",
                            "read the log; `cuttings run` again resumes where it stopped" if not no_models else
                            f"{train_hint()}; the next `cuttings run` then classifies"))
    stale = [row["id"] for row in store.running_runs(conn) if not pid_alive(row["pid"])]
    if stale:
        checks.append(Check("stale runs", "warning",
                            f"{len(stale)} run(s) still marked running but their process is gone: "
                            + ", ".join(map(str, stale)),
                            "nothing to do: the next `cuttings run` marks them interrupted and resumes"))
    return checks


def check_backlog(conn: sqlite3.Connection) -> list[Check]:
    """Articles still waiting for analysis or classification although a ``cuttings run`` finished after
    their text was stored (a stage failed, was skipped or interrupted): their stories reach the digest
    unread. The version waited for is the one each stage stamped last (the analyser and models it runs
    now); classification is checked when the last run meant to classify (not ``--skip classify``), or, for a
    run that recorded no stages, once any article was classified (models in use)."""
    import json

    run = store.latest_finished_pipeline_run(conn)
    if run is None:
        return []
    analyse, analyser = store.stage_backlog(conn, "analyse", run["finished_at"])
    try:
        classify_stage = (json.loads(run["stages_json"] or "{}") or {}).get("classify") or {}
    except (ValueError, AttributeError):
        classify_stage = {}
    # classification is in use when the last run meant to classify (not `--skip classify`: a team that stopped
    # classifying is not warned every day); a run that recorded no stages: when any article was classified
    classifying = (not store.skipped_by_design(classify_stage) if classify_stage else
                   store.any_classified(conn))
    classify = store.stage_backlog(conn, "classify", run["finished_at"], requires="analyse")[0] if classifying else 0
    if not (analyse or classify):
        return [_ok("analysis backlog", f"every article stored before run {run['id']} ended is analysed"
                                        + (" and classified" if classifying else ""))]
    waiting = []
    if analyse:
        # of them, those the analyser raised on (a bug: recorded as analyse_failed, tried again each run)
        raised = store.failed_articles_unanalysed_count(conn)
        waiting.append(f"{analyse} article{'s wait' if analyse != 1 else ' waits'} for analysis"
                       + (f" (analyser {analyser})" if analyser else "")
                       + (f", {min(raised, analyse)} of them the analyser failed on (crawl_errors kind "
                          f"{store.ANALYSE_FAILED})" if raised else ""))
    if classify:
        waiting.append(f"{classify} analysed article{'s wait' if classify != 1 else ' waits'} for classification")
    return [Check("analysis backlog", "warning",
                  " and ".join(waiting) + f", although run {run['id']} ({run['status']}) ended after they were "
                  "stored: their stories reach the digest unchecked (a stage failed, was skipped or interrupted)",
                  "run `cuttings analyse` then `cuttings classify` (or the next `cuttings run` does both); if a stage "
                  f"fails again, see the log and 'Crash safety' in {paths.doc('operations.md')} (an article the "
                  "analyser fails on: 'An article the analyser fails on' there)")]


def check_reanalysis(db_path: Path, watchlist_path=None, *, analysers: dict | None = None) -> list[Check]:
    """After an upgrade of cuttings or an edit of the watchlist (the analyser's version is not the one the
    analyse stage stamped last): how many stored articles the next run analyses and classifies again, and
    what changed. Expected, so not a problem (``ok``): the operator reads it before the first night.
    ``analysers``: :func:`_analyser_version`'s."""
    current = _analyser_version(watchlist_path, analysers)
    if current is None:   # the watchlist check's error
        return []
    conn = store.connect_read_only(db_path, timeout=30)
    try:
        if "processing" not in store.table_names_of(conn):
            return []
        stamped = store.latest_stamp_version(conn, "analyse")
        if stamped is None or stamped == current:
            return []
        count = store.count_to_process(conn, "analyse", current)
    except sqlite3.DatabaseError:   # the database check's error
        return []
    finally:
        conn.close()
    return [_ok("re-analysis", f"the next run analyses {counted(count, 'stored article')} again and "
                f"classifies them again: analyser {current}, not {stamped} "
                f"({analyser_change({stamped}, current, 'since the last analysis')}); labels and quote corrections "
                f"are kept (\"Upgrading cuttings\" in {paths.doc('operations.md')})")]


def check_source_yield(conn: sqlite3.Connection, source_ids: list[str] | None, *,
                       sources_file: str = "the sources file") -> list[Check]:
    """Sources with no new articles in their last 3 runs although they had some before, or in
    any run (``store.yield_problem``); sources whose latest run only failed; the crawler's own
    health warnings."""
    # The configured sources and any the database has runs of (a database crawled with other
    # sources, such as the demo's, is checked on what it holds).
    crawled = store.crawled_source_ids(conn)
    source_ids = sorted(set(source_ids or ()) | set(crawled))
    stopped, never, failing, warned, checked, disallowed = [], [], [], [], [], []
    for source_id in source_ids:
        runs = store.recent_source_runs(conn, source_id, limit=store.YIELD_RUNS)
        if not runs:
            continue
        checked.append(source_id)
        problem = store.yield_problem(runs)
        if problem == "stopped":
            stopped.append(source_id)
        elif problem == "never":
            never.append(source_id)
        if source_failed(runs[0], conn):
            # why, in words, when its run's crawl_errors say (the cause `cuttings run` and the digest give)
            try:
                causes = [words for _id, _kind, words in source_failures(conn, runs[0]["crawl_run_id"], [dict(runs[0])])]
            except sqlite3.OperationalError:   # a database without crawl_errors (the migrations check's concern)
                causes = []
            failing.append(f"{source_id} ({counted(runs[0]['errors'], 'error')})" + (f", because {causes[0]}" if causes else ""))
        elif refused := robots_refused_every_article(runs[0], conn):
            disallowed.append(f"{source_id} ({counted(refused, 'page')})")
        if runs[0]["warning"]:
            warned.append(f"{source_id}: {runs[0]['warning']}")
    checks = []
    if stopped:
        checks.append(Check("sources yielding", "warning",
                            f"no new articles in the last {store.STOPPED_AFTER_RUNS} runs: {', '.join(stopped)}",
                            "open the site: a redesign or moved feed usually needs new feeds/sections/selectors "
                            f"in {sources_file}"))
    if never:
        checks.append(Check("sources never yielding", "warning",
                            f"no article stored in any of their runs: {', '.join(never)}",
                            f"check the feeds/sections/selectors in {sources_file} "
                            "(`cuttings sources check` reads them)"))
    if failing:
        checks.append(Check("sources failing", "warning", "latest run got only errors: "
                            + ("; " if any(", because " in entry for entry in failing) else ", ").join(failing),
                            "see `SELECT * FROM crawl_errors ORDER BY id DESC` or the log"))
    if disallowed:
        checks.append(Check("sources disallowed", "warning",
                            "robots.txt disallowed every new article page of the latest run (not a failed "
                            "source: the site's rule): " + ", ".join(disallowed),
                            f"compare the source's allow patterns in {sources_file} with its robots.txt; "
                            "see `SELECT url FROM crawl_errors WHERE kind = 'robots_disallowed'`"))
    if warned:
        from cuttings.failures import LOCAL_FIX
        refused = sum(LOCAL_FIX in warning for warning in warned)   # a site of the team's own, not local = true
        fixes = ([f"set local = true on the source in {sources_file} if the site is yours"] if refused else []) + (
            ["compare a recent page with the extractor output (`cuttings extract`)"] if refused < len(warned) else [])
        checks.append(Check("source health", "warning", "; ".join(warned), "; ".join(fixes)))
    if not (stopped or never or failing or warned):
        not_run = len(source_ids) - len(checked)
        checks.append(_ok("sources yielding", f"{len(checked)} source{'' if len(checked) == 1 else 's'} with runs "
                                              "checked" + (f"; {not_run} configured source{'' if not_run == 1 else 's'}"
                                                           " not crawled yet" if not_run else "")))
    return checks
