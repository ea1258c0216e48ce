"""Process-parallel analyse and classify (``--workers N``) with one writer.

Worker processes (forked after the analyser or classifier is loaded, so they share its
memory and load nothing) compute batches of results; this process, the only one holding
the database, writes them in the order a single-process stage writes them, through the
same store functions, one transaction per batch. Same batches, same order, same rows:
the database ends as a single-process run leaves it.
"""
from __future__ import annotations

import contextlib
import multiprocessing

from cuttings.stages import analyse_batch, analyse_stage, classify_stage

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
    return analyse_batch(_STATE["analyser"], batch)


def analyse_parallel(db, analyser, pool, *, advance=None, limit: int | None = None) -> dict:
    """``cuttings.stages.analyse_stage`` with the analysis of each batch done in ``pool``."""
    return analyse_stage(db, analyser, advance=advance, limit=limit,
                         analyse_batches=lambda inputs: pool.imap(_analyse_batch, inputs))


def _classify_batch(docs: list[dict]) -> list[dict]:
    return _STATE["classifier"].predict_many(docs)


def classify_parallel(db, classifier, pool, *, analyser_version: str | None = None, advance=None,
                      limit: int | None = None) -> dict:
    """``cuttings.stages.classify_stage`` with the predictions of each batch made in ``pool``."""
    return classify_stage(db, classifier, analyser_version=analyser_version, advance=advance, limit=limit,
                          predict_batches=lambda inputs: pool.imap(_classify_batch, inputs))