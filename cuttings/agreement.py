"""How far two people agree: `cuttings evaluate agreement` (docs/labelling.md, "How far two people agree").

Each annotator's own answer to a question is the newest of her rows that stands (``store.human_label_rows_at``:
no withdrawal of the story's task given at or after it; a withdrawal row is no answer), whoever's label stands
for the story (the newest wins: ``effective_labels``). A question is ``(article, task, target)``:

* a single-label task (stance): one question per story, target ``''``;
* a per-entity task (tone): one per story and body (the target);
* a multi-label task (topics): one yes/no question per topic of the scheme, for a story whose topics the
  annotator answered. Topics are stored one row per topic given (``target`` ``''``, the topic as ``label``)
  and a ``__rejected__`` row per topic taken away (the topic as ``target``): her rows, replayed in the order
  given, leave the set of topics she gave; every other topic of the scheme she answered "no" (the screen,
  the story page's form and an import all answer the whole set: a topic not chosen is not chosen).

A row whose label (or body) the scheme no longer has is no answer, and it supersedes her answers before it to
that question, as ``cuttings.labelling.human_labels`` reads it. Quote corrections (``quote_speaker``,
``quote_entity``) are no task of the scheme and are not read.

Per task and pair of annotators, over the questions both answered: how many, the share answered alike, and
Cohen's kappa (``sklearn.metrics.cohen_kappa_score``: agreement beyond what the two people's own label rates
would give by chance), with a percentile bootstrap 90% interval over stories (a story's questions move
together, as ``nlp.classify`` resamples articles) when there are ``MIN_INTERVAL_QUESTIONS`` questions from
``MIN_INTERVAL_STORIES`` stories or more."""
from __future__ import annotations

import itertools
import warnings
from typing import Iterable

import numpy as np

from cuttings import store

REJECTED = "__rejected__"
YES, NO = "yes", "no"
MIN_INTERVAL_QUESTIONS = 20
MIN_INTERVAL_STORIES = 5
INTERVAL_LEVEL = 0.90
INTERVAL_SAMPLES = 1000


def answers(rows: Iterable[tuple], tasks: dict) -> dict[tuple[int, str, str], dict[str, str]]:
    """``{(article_id, task, target): {annotator: label}}``: each annotator's own answer to each question, from
    standing ``labels`` rows ``(article_id, task, target, label, annotator, ...)`` in the order given (see the
    module's docstring; topics as ``yes``/``no`` per topic of the scheme)."""
    own: dict[tuple[int, str, str], dict[str, str | None]] = {}
    topics: dict[tuple[int, str, str], dict[str, bool]] = {}   # (article, task, annotator) -> {topic: given}
    for article_id, task_name, target, label, annotator, *_ in rows:
        task = tasks.get(task_name)
        if task is None:
            continue
        if task.kind == "multi_label":
            key = (article_id, task_name, annotator)
            if label == REJECTED and target in task.labels:
                topics.setdefault(key, {})[target] = False
            elif not target and label in task.labels:
                topics.setdefault(key, {})[label] = True
            continue   # a topic the scheme no longer has: no answer
        answer = own.setdefault((article_id, task_name, target), {})
        outside = label not in task.labels or (task.kind == "per_entity" and target not in task.entities)
        answer[annotator] = None if outside else label   # outside the scheme: no answer, and it supersedes
    result = {question: {who: label for who, label in by.items() if label is not None} for question, by in own.items()}
    for (article_id, task_name, annotator), flags in topics.items():
        for topic in tasks[task_name].labels:
            result.setdefault((article_id, task_name, topic), {})[annotator] = YES if flags.get(topic) else NO
    return result


def kappa(first: list[str], second: list[str], weights: np.ndarray | None = None) -> float | None:
    """Cohen's kappa of two people's answers (``sample_weight`` ``weights``); None where it is undefined (both
    gave one and the same label throughout: no agreement beyond chance can be told)."""
    from sklearn.metrics import cohen_kappa_score
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # one label throughout: undefined (nan), said as None
        value = cohen_kappa_score(first, second, sample_weight=weights)
    return None if np.isnan(value) else float(value)


def kappas(first: list[str], second: list[str], weights: np.ndarray) -> np.ndarray:
    """Cohen's kappa (as ``sklearn.metrics.cohen_kappa_score`` with ``sample_weight``) under each row of
    ``weights`` (resamples x questions) at once, from weighted counts of the pairs of answers; NaN where it is
    undefined."""
    labels = sorted(set(first) | set(second))
    index = {label: i for i, label in enumerate(labels)}
    size = len(labels)
    cells = np.zeros((len(first), size * size))
    cells[np.arange(len(first)), [index[a] * size + index[b] for a, b in zip(first, second)]] = 1
    counts = (weights @ cells).reshape(-1, size, size)
    total = counts.sum(axis=(1, 2))
    observed = np.trace(counts, axis1=1, axis2=2) / total
    chance = (counts.sum(axis=2) * counts.sum(axis=1)).sum(axis=1) / total ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(chance < 1, (observed - chance) / (1 - chance), np.nan)


def kappa_interval(first: list[str], second: list[str], stories: list[int], samples: int = INTERVAL_SAMPLES,
                   level: float = INTERVAL_LEVEL, seed: int = 0) -> list[float] | None:
    """The percentile bootstrap interval of :func:`kappa`, resampling stories (``stories``: each question's),
    with ``nlp.classify``'s resampling of articles; resamples where kappa is undefined are left out (None if
    all are)."""
    from nlp.classify import _resample_weights
    values = kappas(first, second, _resample_weights([str(s) for s in stories], samples, seed))
    values = values[~np.isnan(values)]
    if not len(values):
        return None
    low, high = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return [round(float(np.percentile(values, low)), 4), round(float(np.percentile(values, high)), 4)]


def pair_figures(questions: list[tuple[int, str, str]], first: list[str], second: list[str]) -> dict:
    """The figures of one pair of annotators on one task: their answers ``first``/``second`` to ``questions``."""
    stories = [question[0] for question in questions]
    agreeing = sum(a == b for a, b in zip(first, second))
    enough = len(questions) >= MIN_INTERVAL_QUESTIONS and len(set(stories)) >= MIN_INTERVAL_STORIES
    value = kappa(first, second)
    interval = kappa_interval(first, second, stories) if enough and value is not None else None
    confusion: dict[str, dict[str, int]] = {}
    for a, b in zip(first, second):
        confusion.setdefault(a, {}).setdefault(b, 0)
        confusion[a][b] += 1
    return {"questions": len(questions), "stories": len(set(stories)), "agreeing": agreeing,
            "share_agreeing": round(agreeing / len(questions), 4),
            "kappa": None if value is None else round(value, 4),
            "kappa_interval": interval, "interval_level": INTERVAL_LEVEL if interval else None,
            "answers": confusion}


def agreement(db, tasks: dict, wanted: Iterable[str] | None = None) -> dict[str, list[dict]]:
    """``{task: [pair, ...]}`` for each task of ``tasks`` (a scheme's, in its order; ``wanted``: those alone):
    one entry per pair of annotators (names in order) who answered a common question of it, with
    :func:`pair_figures`. A task no two people answered in common has an empty list."""
    names = [name for name in tasks if wanted is None or name in set(wanted)]
    by_question = answers(store.human_label_rows_at(db), {name: tasks[name] for name in names})
    result: dict[str, list[dict]] = {name: [] for name in names}
    for name in names:
        questions = sorted(q for q in by_question if q[1] == name and len(by_question[q]) > 1)
        people = sorted({who for q in questions for who in by_question[q]})
        for first, second in itertools.combinations(people, 2):
            common = [q for q in questions if first in by_question[q] and second in by_question[q]]
            if common:
                result[name].append({"annotators": [first, second], **pair_figures(
                    common, [by_question[q][first] for q in common], [by_question[q][second] for q in common])})
    return result


def format_agreement(result: dict[str, list[dict]], where: str) -> str:
    """The text table of :func:`agreement` (``where``: the database, for the heading)."""
    lines = [f"Agreement between annotators in {where}: each one's own standing answer to the questions both "
             "answered (topics: each topic a yes/no question)",
             f"{'task':<20} {'annotators':<28} {'questions':>9} {'stories':>7} {'agreeing':>8} {'kappa':>6}  "
             f"{INTERVAL_LEVEL:.0%} interval"]
    for task, pairs in result.items():
        if not pairs:
            lines.append(f"{task:<20} {'-':<28} {0:>9}  (no question of it answered by two annotators)")
        for pair in pairs:
            value = "-" if pair["kappa"] is None else f"{pair['kappa']:.3f}"
            if pair["kappa_interval"]:
                interval = "{:.3f}-{:.3f}".format(*pair["kappa_interval"])
            elif pair["kappa"] is None:
                interval = "(kappa undefined: both gave one label throughout)"
            else:
                interval = (f"(none: fewer than {MIN_INTERVAL_QUESTIONS} questions or "
                            f"{MIN_INTERVAL_STORIES} stories)")
            lines.append(f"{task:<20} {' / '.join(pair['annotators']):<28} {pair['questions']:>9} "
                         f"{pair['stories']:>7} {pair['share_agreeing']:>8.3f} {value:>6}  {interval}")
    lines.append("kappa: agreement beyond chance (1 the same answers, 0 no better than chance); "
                 "`--json` adds each pair's answers side by side")
    return "\n".join(lines)
