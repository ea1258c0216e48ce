"""Process-parallel analyse and classify (``--workers N``) with one writer.

Worker processes (forked after the analyser or classifier is loaded, so they share its
memory and load nothing) compute batches of results; this process, the only one holding
the database, writes them in the order a single-process stage writes them, through the
same store functions, one transaction per batch. Same batches, same order, same rows:
the database ends as a single-process run leaves it.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing

from cuttings import store
from cuttings.stages import BATCH_SIZE, classify_stage, fit_text, link_known_speakers

log = logging.getLogger("cuttings.stages")  # the stage's warnings, as one process logs them

_STATE: dict = {}  # what forked workers inherit: the analyser or the classifier


@contextlib.contextmanager
def worker_pool(workers: int, **state):
    """A pool of ``workers`` forked processes that inherit ``state`` (open it before any thread,
    e.g. a progress bar, starts)."""
    _STATE.clear()
    _STATE.update(state)
    context = multiprocessing.get_context("fork")
    pool = context.Pool(workers)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()
        _STATE.clear()


def _analyse_batch(batch: list[tuple]) -> list[tuple]:
    """In a worker: the analyse stage's input for each article (its text cut to
    ``MAX_ANALYSE_CHARS``, date, source region) analysed."""
    from nlp.entities import document_text

    analyser = _STATE["analyser"]
    texts = [fit_text(document_text(title, body)) for title, body, _, _ in batch]
    ner = getattr(analyser, "ner", None)
    results = analyser.pipe([(text, published_at, region)
                             for (text, _), (_, _, published_at, region) in zip(texts, batch)])
    return [(result["mentions"], result["quotes"], ner.find(text) if ner else None, len(text) if cut else 0)
            for (text, cut), result in zip(texts, results)]


def analyse_parallel(db, analyser, pool, *, advance=None, limit: int | None = None) -> dict:
    """``cuttings.stages.analyse_stage`` with the analysis of each batch done in ``pool``."""
    store.sync_entities(db, analyser.watchlist)
    articles = list(store.articles_to_process(db, "analyse", analyser.version, limit=limit))
    batches = [articles[i:i + BATCH_SIZE] for i in range(0, len(articles), BATCH_SIZE)]
    inputs = [[(a["title"], a["body"], a["published_at"], a.get("source_region")) for a in batch]
              for batch in batches]
    counts = {"articles": 0, "mentions": 0, "quotes": 0, "truncated": 0}
    for batch, results in zip(batches, pool.imap(_analyse_batch, inputs)):
        with db.atomic():
            for article, (mentions, quotes, named, cut) in zip(batch, results):
                if cut:
                    counts["truncated"] += 1
                    log.warning("article %d is %d characters long: analysed its first %d only", article["id"],
                                len(article["body"] or ""), cut)
                store.replace_analysis(db, article, analyser.version, mentions, quotes, named)
                counts["articles"] += 1
                counts["mentions"] += len(mentions)
                counts["quotes"] += len(quotes)
        if advance:
            advance(len(batch))
    counts["quotes_linked"] = link_known_speakers(db)
    return counts


def _classify_batch(docs: list[dict]) -> list[dict]:
    return _STATE["classifier"].predict_many(docs)


def classify_parallel(db, classifier, pool, *, analyser_version: str | None = None, advance=None,
                      limit: int | None = None) -> dict:
    """``cuttings.stages.classify_stage`` with the predictions of each batch made in ``pool``."""
    return classify_stage(db, classifier, analyser_version=analyser_version, advance=advance, limit=limit,
                          predict_batches=lambda inputs: pool.imap(_classify_batch, inputs))