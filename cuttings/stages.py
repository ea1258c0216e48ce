"""The stages and the one factory for each: read articles from the store, write results back.

Factories (used alike by the command line, ``cuttings run``, ``doctor`` and the tests, so the
stages are built one way): :func:`load_analyser` (the watchlist analyser with the NER the
watchlist configures), :func:`load_classifier` (the trained models), :func:`resolve_since` (the
crawl's cut-off) and :func:`resolve_windows` (each source's), :func:`classify_version` (the classify
stage's version).

Each stage stamps its version on every article it processes (``processing`` table);
an article is processed again only when the stage's version or the article's text
changes, so re-running changes nothing and a new watchlist or model re-processes
only what it must (classify, after a new analyser version, re-predicts only the articles whose
mentions or quotes changed: :func:`classify_inputs_digest`). Articles are written in batches, one transaction each: a crash loses
at most the batch in hand and re-running finishes the rest.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cuttings import store
from cuttings.errors import CuttingsError, Interrupted

BATCH_SIZE = 64  # articles per transaction: a crash redoes at most one batch
# the classifiers predict a batch in one call, with a fixed cost per call (scikit-learn's input
# checks): bigger batches, still one transaction each (bench/classify.py --batch N measures it)
CLASSIFY_BATCH_SIZE = 256
# Text analysed per article. spaCy refuses a text over its max_length (1,000,000 characters, error
# E088) and the crawler accepts pages up to 5 MB, so one oversized page would block the stage on
# every night; 200,000 characters is about 30,000 words, far beyond any news article.
MAX_ANALYSE_CHARS = 200_000
log = logging.getLogger(__name__)


def fit_text(text: str, limit: int = MAX_ANALYSE_CHARS) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters at the last paragraph (else sentence, else word) break;
    True when it was cut."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    for mark in ("\n", ". ", " "):
        cut = head.rfind(mark)
        if cut > limit // 2:
            return head[:cut + len(mark)].rstrip(), True
    return head, True


class AnalysisFailed(CuttingsError):
    """The analyser raised on one text: a bug in the analyser, not a mistake in the input. The message
    is one line (:func:`error_line`); the command line prints it, the ``analyse`` stage records it and
    goes on with the other articles."""


# Exceptions that are never one article's fault: the analyse stage lets them through rather than
# recording the article in hand as failed (SIGTERM, Ctrl-C, memory).
NOT_AN_ARTICLES_FAULT = (Interrupted, MemoryError)
ERROR_LINE_CHARS = 300


def error_line(exc: BaseException) -> str:
    """One line for an unexpected exception: its type, its message (whitespace collapsed, cut to
    ``ERROR_LINE_CHARS``) and the innermost line of cuttings' own code it came from
    (``IndexError: list index out of range (nlp/quotes.py:1403 in _speaker_from_phrase)``)."""
    import traceback

    message = " ".join(str(exc).split())
    if len(message) > ERROR_LINE_CHARS:
        message = message[:ERROR_LINE_CHARS - 3] + "..."
    line = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if path.parent.name in ("nlp", "cuttings", "crawler"):
            return f"{line} ({path.parent.name}/{path.name}:{frame.lineno} in {frame.name})"
    return line


def analyse_text(analyser, text: str, published_at: str | None = None, source_region: str | None = None) -> dict:
    """``analyser.analyse``, raising :class:`AnalysisFailed` (one line) when the analyser raises."""
    try:
        return analyser.analyse(text, published_at, source_region)
    except NOT_AN_ARTICLES_FAULT:
        raise
    except Exception as exc:
        raise AnalysisFailed(error_line(exc)) from exc


def analyse_batch(analyser, batch: list[tuple]) -> list[tuple]:
    """The analysis of one batch of articles ``(title, body, published_at, source_region)``: per
    article its mentions, quotes, the NER model's named entities (None without one), the length
    its text was cut to (0: analysed whole; see :func:`fit_text`) and None; or, for an article the
    analyser raises on, ``([], [], None, 0, error)`` with the error in one line (:func:`error_line`).
    The batch goes through ``analyser.pipe``; when that raises, its articles are analysed one by one,
    so one article's failure costs the others nothing."""
    from nlp.entities import document_text

    texts = [fit_text(document_text(title, body)) for title, body, _, _ in batch]
    ner = getattr(analyser, "ner", None)
    try:
        results = list(analyser.pipe([(text, published_at, region)
                                      for (text, _), (_, _, published_at, region) in zip(texts, batch)]))
    except NOT_AN_ARTICLES_FAULT:
        raise
    except Exception:   # one article (or more) raised: find which, one by one
        results = [None] * len(batch)
    analysed = []
    for (text, cut), (title, _, published_at, region), result in zip(texts, batch, results):
        try:
            if result is None:
                result = analyser.analyse(text, published_at, region)
            named = ner.find(text) if ner else None
        except NOT_AN_ARTICLES_FAULT:
            raise
        except Exception as exc:
            # the traceback, for the log file only (the stage logs the article's id and URL with the line)
            log.warning("the analyser raised on the article headed %r", (title or "")[:80], exc_info=True,
                        extra={"file_only": True})
            analysed.append(([], [], None, 0, error_line(exc)))
            continue
        analysed.append((result["mentions"], result["quotes"], named, len(text) if cut else 0, None))
    return analysed


def watched_people(watchlist) -> list[dict]:
    """The watchlist's office holders and people (``store.sync_watched_people``'s rows), each with its
    speaker identity (``nlp.quotes.speaker_identity``): the digest names a person the watchlist knows by the
    watchlist's name, whatever spelling an outlet prints."""
    from nlp.quotes import speaker_identity

    rows = []
    for entity in watchlist.entities:
        for person in getattr(entity, "holders", ()):
            rows.append({"entity_id": entity.id, "name": person.name, "role": "holder",
                         "speaker_id": speaker_identity(person.name)})
        for person in getattr(entity, "people", ()):
            rows.append({"entity_id": entity.id, "name": person.name, "role": person.role,
                         "speaker_id": speaker_identity(person.name)})
    return rows


def analyse_stage(db, analyser, *, advance=None, limit: int | None = None, analyse_batches=None,
                  run_id: int | None = None) -> dict:
    """Write mentions and quotes for every article not yet analysed by ``analyser.version``.

    Articles go in batches of ``BATCH_SIZE``, one transaction each (a crash redoes at most one
    batch). ``analyse_batches`` (for ``cuttings.parallel``) maps the batches' inputs to their
    :func:`analyse_batch` results elsewhere, in order; by default they are analysed here.
    Then quotes by a person whose article does not say whom they speak for are linked to the
    entity other articles state (:func:`link_known_speakers`; ``quotes.entity_method =
    'known_speaker'``), over the whole store, so the result does not depend on article order.
    Last, quote_people's stored rows are written again if anything they read changed
    (``store.refresh_quote_people``, m038).

    An article the analyser raises on is skipped, not stamped: nothing of it is written (an older
    analysis of it stays), the others go on, and the next run (or a new analyser version) tries it
    again. Each is logged, counted (``failed``) and listed (``failures``: ``{"article_id", "url",
    "error"}``, the error in one line); with ``run_id`` (``cuttings run``'s run) it is also recorded
    as a ``crawl_errors`` row of kind ``analyse_failed``, which the digest's "needs attention"
    block reads (:func:`cuttings.store.unanalysed_articles`).
    """
    store.sync_entities(db, analyser.watchlist)
    store.sync_watched_people(db, watched_people(analyser.watchlist))
    articles = list(store.articles_to_process(db, "analyse", analyser.version, limit=limit))
    batches = [articles[i:i + BATCH_SIZE] for i in range(0, len(articles), BATCH_SIZE)]
    inputs = ([(a["title"], a["body"], a["published_at"], a.get("source_region")) for a in batch]
              for batch in batches)
    if analyse_batches is None:
        results = (analyse_batch(analyser, batch) for batch in inputs)
    else:
        results = analyse_batches(inputs)
    counts = {"articles": 0, "mentions": 0, "quotes": 0, "truncated": 0, "failed": 0}
    failures: list[dict] = []
    for batch, batch_results in zip(batches, results):
        with db.atomic():  # one transaction per batch; each article's rows replace its old ones
            failed = []
            for article, (mentions, quotes, named, cut, error) in zip(batch, batch_results):
                if error is not None:
                    # the log file's line; the command line prints its own (``cuttings analyse``, ``cuttings run``)
                    log.warning("article %d (%s) could not be analysed (left for the next run): %s", article["id"],
                                article["canonical_url"], error, extra={"file_only": True})
                    failed.append({"article_id": article["id"], "url": article["canonical_url"],
                                   "source_id": article["source_id"], "error": error})
                    continue
                if cut:
                    counts["truncated"] += 1
                    log.warning("article %d is %d characters long: analysed its first %d only", article["id"],
                                len(article["body"] or ""), cut)
                store.replace_analysis(db, article, analyser.version, mentions, quotes, named)
                counts["articles"] += 1
                counts["mentions"] += len(mentions)
                counts["quotes"] += len(quotes)
            if failed and run_id is not None:
                store.record_analyse_failures(db, run_id, failed)
        failures += failed
        counts["failed"] += len(failed)
        if advance:
            advance(len(batch))
    counts["quotes_linked"] = link_known_speakers(db)
    # quote_people's rows stored again when anything it reads changed (this run's quotes, a correction since): the
    # quote pages read them (m038); one statement over every quote, only when they are stale
    store.refresh_quote_people(db)
    counts["failures"] = failures
    return counts


def link_known_speakers(db) -> int:
    """Link every quote whose article does not say whom the speaker speaks for to the entity that
    other stored articles state for that person (``nlp.quotes.SpeakerMemory``), over the whole
    database, so the result does not depend on the order articles were analysed in. Articles whose
    quote links change are marked for classification again (tone reads the quotes). Returns how
    many quotes changed."""
    from nlp.quotes import SpeakerMemory

    memory = SpeakerMemory()
    memory.learn(store.stated_speakers(db))
    changed = memory.link(store.unstated_speaker_quotes(db))
    store.relink_quotes(db, changed, invalidate_stage="classify")
    return len(changed)


def stored_quotes(articles, analyser) -> dict[str, list[dict]]:
    """The quotes the ``analyse`` stage stores for ``articles`` (``{"key", "title", "body",
    "published_at"}``), known-speaker links included: the articles are saved to a scratch store
    (no syndication folding), the stage runs over all of them at once, as it does over a whole
    database, and each article's stored quotes come back in text order, keyed by ``key``. Used by
    ``cuttings evaluate quotes`` to score what users store rather than the analyser alone."""
    import tempfile

    from crawler.revisions import save_article

    with tempfile.TemporaryDirectory(prefix="cuttings-eval-") as scratch:
        db = store.connect(Path(scratch) / "eval.db")
        keys = {}
        with db.atomic():
            for number, article in enumerate(articles):
                url = f"https://evaluate.invalid/{number}"
                _status, article_id = save_article(db, {
                    "url": url, "canonical_url": url, "title": article["title"], "body": article["body"],
                    "published_at": article.get("published_at")}, None)
                keys[article_id] = article["key"]
        analyse_stage(db, analyser)
        found: dict[str, list[dict]] = {key: [] for key in keys.values()}
        for row in store.all_quotes(db):
            found[keys[row.pop("article_id")]].append(row)
        db.close()
    return found


def classification_rows(prediction: dict, versions: dict[str, str]) -> list[dict]:
    """Flatten a Classifier prediction into ``classifications`` rows, whatever the scheme's task
    names: a multi-label task gives a list of predictions, a single-label task one prediction
    (``{label, probability, uncertain}``), a per-entity task ``{entity_id: prediction}``
    (``target`` = the entity id; ``''`` for the others)."""
    rows = []

    def row(task: str, target: str, value: dict) -> dict:
        return {"task": task, "target": target, "label": value["label"], "probability": value["probability"],
                "uncertain": value.get("uncertain", False), "model_version": versions[task]}

    for task, value in prediction.items():
        if isinstance(value, list):
            rows += [row(task, "", each) for each in value]
        elif isinstance(value, dict) and "label" in value:
            rows.append(row(task, "", value))
        elif isinstance(value, dict):
            rows += [row(task, entity_id, each) for entity_id, each in value.items()]
    return rows


def classifier_version(classifier) -> str:
    return "+".join(f"{task}={version}" for task, version in sorted(classifier.versions.items()))


def classify_version(classifier, analyser_version: str | None) -> str:
    """The classify stage's version: the model versions and the analyser version (tone reads the
    sentences that mention each entity, so a new analyser means classifying again)."""
    return classifier_version(classifier) + (f"|analyse={analyser_version}" if analyser_version else "")


def classify_inputs_digest(classifier, doc: dict) -> str:
    """The digest of one article's classification: the models' versions (:func:`classifier_version`) and the
    document they predict from (``{title, body, mentions, quotes}``, as :func:`classify_stage` builds it).
    Two equal digests mean the same predictions; the classify stamp keeps it (``processing.inputs_digest``)."""
    import hashlib
    import json

    payload = json.dumps([classifier_version(classifier), doc], sort_keys=True, ensure_ascii=False,
                         separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def classify_stage(db, classifier, *, analyser_version: str | None = None, advance=None,
                   limit: int | None = None, predict_batches=None) -> dict:
    """Classify every article not yet classified by the current models.

    Models of another label scheme than the user's (:func:`check_models_fit`) raise
    :class:`ModelsMismatch` before anything is written: their labels are not stored.

    The stage version combines the model versions and the analyser version, because
    tone reads the sentences that mention each entity; for the same reason only articles
    already analysed by that analyser version are classified. An article stamped at another
    version whose classification digest (:func:`classify_inputs_digest`: the same models, and the
    same title, body, mentions and quotes) is the one its stamp keeps is not predicted again: its
    predictions are kept and it is stamped with this version (``unchanged``). So a new analyser
    version, or quotes linked again as they were, re-predicts only what it changed.
    ``predict_batches`` (the parallel stage's worker pool) maps the list of batches' inputs to their
    predictions; by default each batch is predicted here, as it is read.
    Last, article_summary's label columns are stored for the stories whose row a write removed (new
    predictions, a label since: ``store.refresh_article_labels``, m041).
    """
    try:
        check_models_fit(classifier)
    except ModelsMismatch:
        record_user_scheme(db, classifier)   # what the views read is the user's scheme, whatever the models
        raise
    version = classify_version(classifier, analyser_version)
    record_models(db, classifier)
    requires = ("analyse", analyser_version) if analyser_version else None
    articles = list(store.articles_to_process(db, "classify", version, limit=limit, requires=requires))
    batches = [articles[i:i + CLASSIFY_BATCH_SIZE] for i in range(0, len(articles), CLASSIFY_BATCH_SIZE)]

    def inputs(batch: list[dict]) -> tuple[list[dict], list[str]]:
        analyses = store.analyses_of(db, [a["id"] for a in batch])
        docs = [{"title": a["title"], "body": a["body"], **analyses[a["id"]]} for a in batch]
        return docs, [classify_inputs_digest(classifier, doc) for doc in docs]

    def changed(batch: list[dict], docs: list[dict], digests: list[str]) -> list[dict]:
        return [doc for article, doc, digest in zip(batch, docs, digests) if article["inputs_digest"] != digest]

    if predict_batches is None:
        read = (inputs(batch) for batch in batches)
        predicted = ((docs, digests, classifier.predict_many(changed(batch, docs, digests)))
                     for batch, (docs, digests) in zip(batches, read))
    else:  # every input read first: the pool's feeder thread must not share the connection
        read = [inputs(batch) for batch in batches]
        to_predict = [changed(batch, docs, digests) for batch, (docs, digests) in zip(batches, read)]
        sent = [docs for docs in to_predict if docs]
        answers = iter(predict_batches(sent) if sent else [])
        predicted = ((docs, digests, next(answers) if docs_to_predict else [])
                     for (docs, digests), docs_to_predict in zip(read, to_predict))
    counts = {"articles": 0, "classifications": 0, "unchanged": 0}
    for batch, (_docs, digests, predictions) in zip(batches, predicted):
        predictions = iter(predictions)
        with db.atomic():  # one transaction per batch
            for article, digest in zip(batch, digests):
                if article["inputs_digest"] == digest:
                    store.keep_classifications(db, article, version, digest)
                    counts["unchanged"] += 1
                    continue
                rows = classification_rows(next(predictions), classifier.versions)
                store.replace_classifications(db, article, version, rows, digest)
                counts["articles"] += 1
                counts["classifications"] += len(rows)
        if advance:
            advance(len(batch))
    # article_summary's label columns stored again for the stories whose predictions (or labels) changed (m041):
    # the view then reads their row instead of working their labels out
    store.refresh_article_labels(db)
    return counts


@dataclass(frozen=True)
class SchemeMismatch:
    """One way the trained models differ from the label scheme as it is now (:func:`scheme_mismatches`).
    ``kind``: ``foreign`` (a model for a task the scheme does not have), ``kind`` (trained as another kind),
    ``labels`` (it predicts labels the scheme does not have), ``untrained`` (a task of the scheme without
    a model: never trained, or `cuttings train` skipped it for too few labels), ``cues`` (the task's cue
    words changed since its model learnt them)."""

    task: str
    kind: str
    words: str

    @property
    def foreign_labels(self) -> bool:
        """Whether classifying with these models would store labels outside the scheme."""
        return self.kind in BLOCKING_MISMATCHES


BLOCKING_MISMATCHES = ("foreign", "kind", "labels")


def scheme_mismatches(classifier, scheme) -> list[SchemeMismatch]:
    """Every way ``classifier``'s models (their cards and bundles) differ from ``scheme``, in the scheme's
    task order, then the models'. The one rule doctor (``check_models``) and classify read."""
    problems = [SchemeMismatch(name, "untrained", f"no model for {name}")
                for name in scheme.tasks if name not in classifier.cards]
    for name, card in classifier.cards.items():
        task = scheme.tasks.get(name)
        if task is None:
            problems.append(SchemeMismatch(name, "foreign", f"a model for {name}, which the scheme does not have"))
        elif card.get("kind") != task.kind:
            problems.append(SchemeMismatch(name, "kind", f"{name} trained as {card.get('kind') or 'an unknown kind (a card of an older cuttings)'}, now {task.kind}"))
        else:
            gone = [label for label in card.get("labels") or () if label not in task.labels]
            if gone:
                problems.append(SchemeMismatch(name, "labels", f"{name} predicts {', '.join(gone)}, which the scheme "
                                                               f"does not have"))
            trained_cues = (classifier.bundles.get(name) or {}).get("cues") or None
            # the topics' or the tone's own cue words (nlp.scheme.CUE_KINDS); other kinds have none
            if trained_cues != ({label: list(words) for label, words in task.cues} or None):
                problems.append(SchemeMismatch(name, "cues", f"the cue words of {name} differ from the ones its "
                                                             f"model learnt from"))
    return problems


class ModelsMismatch(CuttingsError):
    """The trained models were trained for another label scheme: classifying would store its labels."""


def check_models_fit(classifier, scheme=None) -> list[SchemeMismatch]:
    """Raise :class:`ModelsMismatch` (one line naming the models folder and the scheme file) when a model
    would store labels outside ``scheme`` (default: the user's, ``paths.config_file``): a model for a task
    the scheme does not have, of another kind, or predicting labels it does not have. Otherwise return
    the mismatches that do not store foreign labels (a task without a model, changed cue words): the
    models that fit are used, as `cuttings train` leaves a task it could not train."""
    if scheme is None:
        from cuttings import paths
        from nlp.scheme import load_scheme
        scheme = load_scheme(paths.config_file("label_scheme.toml"))
    problems = scheme_mismatches(classifier, scheme)
    blocking = [problem.words for problem in problems if problem.foreign_labels]
    if blocking:
        where = getattr(classifier, "models_dir", None) or "the models folder"
        raise ModelsMismatch(f"the models in {where} were trained for another label scheme than {scheme.path}: "
                             f"{'; '.join(blocking)}: {train_hint(scheme)} before classifying")
    return problems


def record_models(db, classifier) -> None:
    """Record the classifier's model cards in ``models`` (idempotent), so that every stored
    classification's ``model_version`` points at a row, whichever command classified it."""
    directory = getattr(classifier, "models_dir", None)
    for task, card in sorted(classifier.cards.items()):
        store.record_model(db, card, str(Path(directory) / f"{task}.skops") if directory else "", record_kind=False)
    record_user_scheme(db, classifier)


def record_user_scheme(db, classifier) -> None:
    """Record the user's label scheme's tasks (``label_tasks``: the views read them), also when the models
    are refused for being another scheme's: the digest and exports read the user's scheme either way."""
    from cuttings.labelling import LabellingError, record_scheme_tasks
    try:   # the views read the tasks the digest and exports read: the user's scheme's of each kind
        record_scheme_tasks(db)
    except LabellingError:   # a scheme that does not parse is doctor's to report: the models' own kinds
        try:
            store.record_label_tasks(db, {card["task"]: card["kind"] for card in classifier.cards.values()
                                          if card.get("kind")})
        except store.StoreError as exc:
            _keep_views(exc)
    except store.StoreError as exc:
        _keep_views(exc)


def _keep_views(exc: Exception) -> None:
    """A name the label views cannot hold (``store.record_label_tasks`` recorded nothing): the views stay as
    they were and the articles are still classified; doctor names the problem."""
    log.warning("label views kept as they were: %s", exc)


def models_dir(path: str | Path | None = None) -> Path:
    """The models directory: the given path, else $CUTTINGS_MODELS, else ``models/`` in the home folder."""
    from cuttings import paths
    return Path(path) if path else paths.models_dir()


class ModelsMissing(CuttingsError):
    """No trained models in the models directory."""


FIRST_NIGHT_SECTION = "'First night for your own team'"   # the section of docs/configuration.md


def _task_shapes(scheme) -> dict:
    return {name: (task.kind, tuple(task.labels), tuple(task.entities)) for name, task in scheme.tasks.items()}


def foreign_seed_corpus(scheme=None) -> bool:
    """Whether the labelled corpus train reads by default is the shipped seed corpus (no ``corpus/`` in the
    home folder) and the configured label scheme (default: the user's) differs from the shipped one: the
    seed corpus is West Mercia's stories labelled to the shipped scheme, which train refuses for a team's
    own scheme and the labelling session does not offer as precedents. False for a scheme that does not
    parse (the scheme check says so)."""
    from cuttings import paths
    from nlp.scheme import DEFAULT_SCHEME_PATH, SchemeError, load_scheme
    if paths.corpus_dir() != paths.package_data("corpus"):
        return False   # the team's own corpus/ in the home folder: train reads it
    try:
        scheme = scheme or load_scheme(paths.config_file("label_scheme.toml"))
        shipped = load_scheme(DEFAULT_SCHEME_PATH)
    except SchemeError:
        return False
    return _task_shapes(scheme) != _task_shapes(shipped)


def train_hint(scheme=None, brief: bool = False) -> str:
    """What to do for models of the configured label scheme (default: the user's, ``paths.config_file``), in
    words for a hint: "run `cuttings train` (with this scheme)" when the labelled corpus train reads by default
    (``corpus/`` in the home folder, else the shipped seed corpus) can be labelled to it; for a team whose
    scheme differs from the shipped one and who has no corpus of its own, which train refuses, label stories,
    then ``cuttings train --corpus none`` (the database's labels alone). ``brief``: without the why, and the
    guide by its name in docs/ (a line `cuttings run` prints every night until there are models)."""
    from cuttings import paths
    usual = "run `cuttings train` (with this scheme)"
    if not foreign_seed_corpus(scheme):
        return usual   # the team's own corpus, the shipped scheme, or a scheme that does not parse (its own error)
    if brief:
        return (f"label stories (`cuttings label`), then run `cuttings train --corpus none` (docs/configuration.md, "
                f"{FIRST_NIGHT_SECTION})")
    return ("label stories (`cuttings label`, or `cuttings label --import FILE`), then run `cuttings train "
            "--corpus none` (the shipped corpus is labelled to the shipped scheme, not yours; "
            f"{paths.doc('configuration.md')}, {FIRST_NIGHT_SECTION})")


def no_models_message(path: str | Path | None = None, other_scheme: bool = False) -> str:
    """The classify stage's message when the models folder holds no trained models (``cuttings run`` skips the
    stage: the crawl, analysis and digest still run): :data:`store.SKIPPED_NO_MODELS`, where, what to do.
    ``other_scheme``: it holds models, of another label scheme (:class:`ModelsMismatch`): none for this one,
    the same skip, the models left where they are."""
    where = (f"for this label scheme in {models_dir(path)} (the ones there are another scheme's, kept)"
             if other_scheme else f"in {models_dir(path)}")
    return f"{store.SKIPPED_NO_MODELS} {where}: stories are not classified until you {train_hint(brief=True)}"


def models_present(path: str | Path | None = None) -> bool:
    """Whether the models directory holds trained models (``*.skops`` files)."""
    directory = models_dir(path)
    return directory.is_dir() and any(directory.glob("*.skops"))


def require_models(path: str | Path | None = None) -> Path:
    """The models directory, or :class:`ModelsMissing` if it holds no trained models."""
    directory = models_dir(path)
    if not models_present(directory):
        raise ModelsMissing(f"no trained models in {directory}")
    return directory


def load_classifier(path: str | Path | None = None):
    """The trained classifiers (``nlp.classify.Classifier``) from the models directory.
    Raises :class:`ModelsMissing`, or ``nlp.classify.ModelLoadError`` for unusable files."""
    from nlp.classify import Classifier

    directory = require_models(path)
    classifier = Classifier.load(directory)
    classifier.models_dir = directory  # where the cards recorded in `models` came from
    return classifier


def model_files(path: str | Path | None = None):
    """The models directory's files checked without loading them (``nlp.model_files.ModelFiles``: the cards and
    each bundle's plain fields, scikit-learn not imported): what the everyday ``cuttings doctor`` reads.
    Raises :class:`ModelsMissing`, or ``nlp.model_files.ModelFileError`` for files ``load_classifier`` would
    refuse (all but sound files holding objects this install cannot build)."""
    from nlp.model_files import check_model_files

    directory = require_models(path)
    checked = check_model_files(directory)
    checked.models_dir = directory
    return checked


def load_analyser(watchlist_path: str | Path | None = None):
    """The watchlist analyser (``nlp.entities.Analyser``), with the statistical NER the watchlist
    configures (``[ner] model``), if any: its version then includes the NER model's, so every
    command that analyses stamps the same version. Raises ``nlp.watchlist.WatchlistError``."""
    from nlp.entities import Analyser
    from nlp.ner import NamedEntityRecogniser, configured_model
    from nlp.watchlist import load_watchlist

    from cuttings import paths
    watchlist_path = watchlist_path or paths.config_file("watchlist.toml")  # the user's copy, else packaged
    analyser = Analyser(load_watchlist(watchlist_path))
    model = configured_model(watchlist_path)
    if model:
        analyser.ner = NamedEntityRecogniser(model)
        analyser.version = f"{analyser.version}+{analyser.ner.version}"
    return analyser


def resolve_since(db, since: str | None, overlap_hours: int) -> str | None:
    """The run's cut-off: None for ``all``; the given date; by default the last successful
    crawl's start minus ``overlap_hours`` (None before the first crawl)."""
    if since == "all":
        return None
    if since is not None:
        return since
    from cuttings.crawl import default_since

    return default_since(db, overlap_hours)


def resolve_windows(db, since: str | None, sources, crawl) -> dict[str, str | None] | None:
    """Each source's cut-off when no ``--since`` was given (``cuttings.crawl.source_windows``: a source
    that failed in the last runs reads back to its last good one); None when ``--since`` was given, a
    date or ``all``, which then applies to every source."""
    if since is not None:
        return None
    from cuttings.crawl import source_windows

    return source_windows(db, sources, crawl)
