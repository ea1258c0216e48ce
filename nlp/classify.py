"""Topic, stance and tone classifiers: training, cross-validation, evaluation and safe persistence.

One scikit-learn Pipeline per task of the label scheme (``nlp.scheme``), over a
feature set (``nlp.features.FEATURE_SETS``: word TF-IDF, paragraph-averaged
sentence embeddings from ``nlp.embeddings``, or both):

- ``multi_label`` (topics): one-vs-rest, each label a calibrated
  (``CalibratedClassifierCV``) class-balanced logistic regression whose decision
  threshold is tuned for F1 by inner cross-validation; the exclusive label
  (``other``) is predicted when no label passes its threshold.
- ``single_label`` (stance): class-balanced logistic regression on the whole article
  and, again, its lead.
- ``per_entity`` (tone): one example per (article, entity) pair built from the
  sentences that mention the entity and the quotes of its speakers, plus
  (stacking) the article's probabilities under the scheme's single-label tasks
  (stance) crossed with the entity id: out-of-fold during training, from a
  stance model fitted inside the tone model at prediction. In two steps
  (``PARAMS["per_entity"]["two_stage"]``): P(neutral) from that model, then positive vs negative
  from a second one fitted on the non-neutral pairs; the most probable label wins.

Single-label and per-entity probabilities are calibrated by temperature scaling
(Guo et al. 2017): one temperature per model, fitted on the out-of-fold
probabilities of the model card's cross-validation. It changes how sure a
prediction says it is (hence the uncertain flag), never which label wins.

Models are saved with skops (never pickle) beside a JSON model card, and loaded
with an explicit list of trusted types.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import sklearn
import skops
import skops.io
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from nlp import embeddings
from nlp.errors import NlpError
from nlp.features import (
    DEFAULT_FEATURES,
    FEATURE_SETS,
    SharedTfidf,
    analysis_key,
    article_row,
    team_cue_patterns,
    topic_evidence,
    sharing_analysis,
    text_features,
    tone_row,
)
from nlp.scheme import Scheme, Task
from nlp.model_files import RETRAIN, model_cards

RETRAIN_HINT = RETRAIN   # the words nlp.model_files gives too

# Hyper-parameters per task kind; part of the model version hash.
PARAMS = {
    "multi_label": {
        "C": 30.0,
        "calibration_cv": 3,
        "threshold_cv": 3,
        "threshold_grid": [0.3, 0.6, 13],
        # When no label passes its threshold: the label nearest to passing (highest probability /
        # threshold) if it reaches a share of its threshold, else the exclusive label (other). The
        # share is tuned with the thresholds, on the same inner out-of-fold probabilities, from
        # this grid (1.0: always the exclusive label).
        "near_threshold_grid": [0.4, 1.0, 7],
        "text": {
            "field": "text",
            "word_ngrams": [1, 1],
            "char_ngrams": [3, 5],
            "char_weight": 0.0,
            "embedding_weight": 0.05,
            # Paragraph-level evidence per topic (nlp.features.topic_evidence), standardised.
            "evidence_weight": 0.1,
        },
    },
    "single_label": {
        "C": 30.0,
        # The lead (headline + first paragraphs) again at weight 0.75: stance 0.779 -> 0.812 macro-F1
        # over fold seeds 0-5 (docs/classifiers.md).
        "text": {"field": "text", "word_ngrams": [1, 1], "lead_weight": 0.75, "embedding_weight": 0.03},
        # A task with an ``absent`` label (stance: none) decides in two steps (``TwoStageClassifier``):
        # the model above says whether the target is in the article at all; a second one, fitted on
        # the articles where it is, which side (C 0.3: 72 articles). Stance leave-one-slice-out
        # 0.606 -> 0.679 macro-F1, CV over fold seeds 0-2 0.712 -> 0.757 (docs/classifiers.md).
        "two_stage": {
            "C": 0.3,
            # The presence step also reads the analyser's mention and quote counts per watched body
            # (``article_row``'s ``domain``): whether the fire-governance question is in the article
            # follows which bodies it names. Stance leave-one-slice-out 0.679 -> 0.708, CV over seeds
            # 0-2 0.757 -> 0.788, neutral 0.387 -> 0.424 (weights 0.1-1.0 all 0.700-0.715 LOSO;
            # docs/benchmarks.md, 2026-12-06). Only there: the one-step model tone stacks loses with it.
            "presence_domain_weight": 0.3,
            # The side step also reads who fills the article's quotes (``article_row``'s ``voices``: the
            # share of the quoted words spoken for each watched body and by speakers of none): the label
            # guide's "whose arguments fill the article". Leave-one-slice-out 0.708 -> 0.738, CV over
            # seeds 0-5 0.792 -> 0.801 (weights 0.2-0.3 alike; 0.5 and 1.0 lose in CV: the 72-article
            # side step is then led by the shares; docs/benchmarks.md, 2026-12-06 (6)).
            "text": {"field": "text", "word_ngrams": [1, 1], "lead_weight": 0.75, "embedding_weight": 0.03,
                     "voice_weight": 0.3},
        },
    },
    "per_entity": {
        "C": 3.0,
        # Stack the single-label tasks (stance) into tone: the article's out-of-fold probabilities
        # (inner ``stack_cv`` folds) crossed with the entity id, as domain features.
        "stack_single_label": True,
        "stack_cv": 10,
        # Neighbouring sentences and masked names measured no better in CV (docs/classifiers.md): off.
        "row": {"neighbours": 0, "mask": False},
        # Tone cues crossed with the body's watchlist category ("fire_service", "commissioner")
        # rather than with the body itself: leave-one-slice-out 0.658 -> 0.677 macro-F1, CV over
        # seeds 0-2 0.702 -> 0.707 (sfrs 0.593 -> 0.652 LOSO; docs/benchmarks.md, 2026-12-06).
        # "entity" crosses them with the body, as before.
        "cue_groups": "category",
        # Two steps (``TwoStageClassifier``): the model below, over all three labels, gives P(neutral)
        # (``absent``: the body portrayed neither way); a second one, fitted on the positive and
        # negative pairs only, which way (C; the same features, stacked stance and cues included,
        # computed once for both steps). The label is the most probable of P(neutral) and
        # P(not neutral) * P(side | not neutral). Leave-one-slice-out 0.677 -> 0.684 macro-F1 (paired
        # 90% -0.006 to +0.023), CV over seeds 0-2 0.707 -> 0.712, every seed 0-5 gains
        # (docs/benchmarks.md, 2026-12-06); prediction as fast as one step. Measured and removed
        # (code in 6380981): the second step with its own features, 0.686 / 0.714 but about 15%
        # slower; a first step of neutral against the rest, 0.657 / 0.689 ("not neutral" joins two
        # opposite portrayals). None: one step.
        "two_stage": {"absent": "neutral", "C": 3.0},
        "text": {
            "field": "context",
            "word_ngrams": [1, 1],
            "char_ngrams": [3, 5],
            "char_weight": 0.5,
            "domain_weight": 1.0,
            "window_field": "window",
            "window_weight": 0.0,
            # The whole article's paragraphs: better in CV than the mention sentences (0.61-0.65 vs 0.57-0.59).
            "embedding_field": "paragraphs",
            "embedding_weight": 0.2,
            # Tone cues of the label guide (cuts, closures, misconduct, rescues, praise...) near the
            # entity, in the article and headline, plain and crossed with the entity (nlp.features.tone_cues):
            # leave-one-slice-out 0.635 -> 0.670 macro-F1, CV over seeds 0-2 0.661 -> 0.695.
            "cue_weight": 0.5,
            # Who fills the article's quotes (``tone_row``'s ``voices``): the share of its quoted words
            # spoken by the body's own people, by no watched body (campaigners, residents, unions) and
            # by other watched bodies, plain and crossed with the body's category. Leave-one-slice-out
            # 0.684 -> 0.697 macro-F1 (paired 90% -0.009 to +0.035), CV over seeds 0-5 0.705 -> 0.712
            # (4 of 6 seeds gain; weight 2: 0.693 / 0.712); docs/benchmarks.md, 2026-12-06 (5).
            "voice_weight": 1.0,
        },
    },
}

# Types a saved model holds beyond those skops trusts by default (scikit-learn's
# public estimators, numpy and scipy containers); anything else refuses to load.
TRUSTED_TYPES = [
    "nlp.embeddings.EmbeddingFeatures",
    "nlp.classify.TwoStageClassifier",
    "nlp.features.FieldSelector",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
]


class TwoStageClassifier(BaseEstimator, ClassifierMixin):
    """A single-label classifier in two steps, for a task with an ``absent`` label (stance: ``none``,
    the article is not about the target): ``presence`` decides whether the target is there at all
    (absent vs the rest), ``side`` which of the other labels holds, fitted on the articles where it
    is there. P(absent) = 1 - P(present); P(label) = P(present) * P(label | present).

    ``presence_on_labels``: the first step learns every label (tone: positive / negative / neutral,
    one model) and P(present) = 1 - its P(absent); the second step re-decides the side among the
    others (tone: positive or negative, fitted on those pairs only). Otherwise the first step is
    binary, absent against the rest.
    """

    def __init__(self, presence=None, side=None, absent: str = "none", presence_on_labels: bool = False):
        self.presence = presence
        self.side = side
        self.absent = absent
        self.presence_on_labels = presence_on_labels

    def fit(self, rows, targets):
        targets = np.asarray(targets, dtype=object)
        present = targets != self.absent
        # A step with one class in the training rows (a small training set) is that class for certain.
        # ``presence_on_labels``: the first step learns every label and P(present) = 1 - P(absent).
        presence_targets = targets if self.presence_on_labels else present.astype(int)
        self.presence_ = (clone(self.presence).fit(rows, presence_targets) if 0 < present.sum() < _count(rows)
                          else None)
        self.presence_constant_ = float(present.mean())
        sides = [str(label) for label in sorted(set(targets[present]))]
        # Rows are dicts (a step with its own features) or a feature matrix (steps sharing one).
        side_rows = (rows[np.flatnonzero(present)] if hasattr(rows, "shape")
                     else [row for row, keep in zip(rows, present) if keep])
        self.side_ = clone(self.side).fit(side_rows, targets[present]) if len(sides) > 1 else None
        self.side_classes_ = [str(label) for label in self.side_.classes_] if self.side_ is not None else sides
        self.classes_ = np.array(sorted([*self.side_classes_, self.absent]), dtype=object)
        return self

    def predict_proba(self, rows):
        # Models saved before ``presence_on_labels`` existed (stance) have a binary first step.
        if self.presence_ is not None and getattr(self, "presence_on_labels", False):
            present = 1.0 - self.presence_.predict_proba(rows)[:, list(self.presence_.classes_).index(self.absent)]
        elif self.presence_ is not None:
            present = self.presence_.predict_proba(rows)[:, list(self.presence_.classes_).index(1)]
        else:
            present = np.full(_count(rows), self.presence_constant_)
        side = (self.side_.predict_proba(rows) if self.side_ is not None
                else np.ones((_count(rows), len(self.side_classes_))))
        result = np.zeros((_count(rows), len(self.classes_)))
        columns = list(self.classes_)
        result[:, columns.index(self.absent)] = 1.0 - present
        for index, label in enumerate(self.side_classes_):
            result[:, columns.index(label)] = present * side[:, index]
        return result

    def predict(self, rows):
        return self.classes_[self.predict_proba(rows).argmax(axis=1)]


def _count(rows) -> int:
    """How many rows: a list of dicts or a (sparse) feature matrix."""
    return rows.shape[0] if hasattr(rows, "shape") else len(rows)


def _vectoriser_steps(estimator):
    """(pipeline, step index) of each fitted ``TfidfVectorizer`` step in ``estimator`` (pipelines,
    feature unions and ``TwoStageClassifier`` walked in depth)."""
    if isinstance(estimator, Pipeline):
        for index, (_, step) in enumerate(estimator.steps):
            if isinstance(step, TfidfVectorizer):
                yield estimator, index
            else:
                yield from _vectoriser_steps(step)
    elif isinstance(estimator, FeatureUnion):
        for _, transformer in estimator.transformer_list:
            yield from _vectoriser_steps(transformer)
    elif isinstance(estimator, TwoStageClassifier):
        for fitted in (getattr(estimator, "presence_", None), getattr(estimator, "side_", None)):
            if fitted is not None:
                yield from _vectoriser_steps(fitted)


def share_analysis(estimators: list) -> int:
    """Put a ``SharedTfidf`` in place of each fitted ``TfidfVectorizer`` of ``estimators``: within
    ``sharing_analysis()`` the vectorisers with the same settings analyse each text once (the
    article's text and lead: topics, both stance steps, the stance model stacked into tone), and
    count features faster; the same matrices. In place, for loaded models that only predict
    (``Classifier.load``); never saved. Returns how many vectorisers it replaced."""
    replaced = 0
    for pipeline, index in [step for estimator in estimators for step in _vectoriser_steps(estimator)]:
        name, vectorizer = pipeline.steps[index]
        if analysis_key(vectorizer) is not None:
            pipeline.steps[index] = (name, SharedTfidf(vectorizer))
            replaced += 1
    return replaced


@contextmanager
def one_thread():
    """BLAS and OpenMP limited to one thread while models are fitted (``train_models``, ``cross_validate``).

    scipy's L-BFGS-B calls BLAS (``ddot``, ``dcopy``) on the coefficient vector at every iteration,
    hundreds of thousands of numbers for tone's character n-grams, and OpenBLAS splits each call among
    as many threads as the machine has cores: each call then waits for its other thread to be
    scheduled and that thread spins while it waits. On the 2-core build machine at load 2-4,
    `cuttings train` took 3 min 56 s wall and 292 s of CPU with OpenBLAS's default two threads, 52 s
    and 52 s with one (docs/benchmarks.md, "Classifier training as a user runs it");
    ``bench/classify.py`` always ran with one thread, so its figure never showed it. One thread also
    makes the fits the same on every machine (a threaded ``ddot`` sums in another order)."""
    with threadpool_limits(limits=1):
        yield


class ModelLoadError(NlpError, RuntimeError):
    """A saved model is missing, corrupted or from other library versions."""


class TrainingError(NlpError, ValueError):
    """Training is impossible (no labelled articles, no learnable class...)."""


# ---------------------------------------------------------------- examples

# What the classify stage reads of an article's analysis (``cuttings.store.analyses_of``): the
# models train and are scored on these fields of the analyser's output, never on the labels.
SERVED_MENTION_FIELDS = ("entity_id", "surface", "start_char", "end_char", "sentence", "paragraph", "method")
SERVED_QUOTE_FIELDS = ("speaker", "speaker_role", "entity_id", "text", "start_char", "end_char")
# The prediction scored for a labelled (article, body) pair whose body the analyser does not find
# in the article: the classify stage gives it no tone, so it counts as a miss of its true label.
NOT_FOUND = "(not found)"


def analyse_records(records: list[dict], analyser=None) -> list[dict]:
    """Give each labelled record the mentions and quotes the ``analyse`` stage would store for its
    text (``record["analysis"]``: ``{"version", "mentions", "quotes"}``), so that the models are
    trained and scored on what they read when they serve, not on the labelled surface forms.

    ``analyser``: the configured one (``cuttings.stages.load_analyser``); records analysed by
    another version are analysed again. Without it, records not analysed yet are analysed by the
    default watchlist's ``nlp.entities.Analyser`` (built once). Returns ``records``."""
    from nlp.entities import document_text

    if analyser is None:
        pending = [record for record in records if record.get("analysis") is None]
        analyser = _default_analyser() if pending else None
    else:
        pending = [record for record in records if (record.get("analysis") or {}).get("version") != analyser.version]
    if not pending:
        return records
    # the stage's inputs: text, publication date, the source's region (articles labelled in a store)
    results = analyser.pipe([(document_text(record.get("title"), record.get("body")), record.get("date"),
                              record.get("source_region")) for record in pending])
    for record, result in zip(pending, results):
        record["analysis"] = {
            "version": analyser.version,
            # each watched body's category, for the tone features' cue groups (``cue_groups``)
            "categories": {entity.id: entity.category for entity in analyser.watchlist.entities},
            "mentions": [{field: mention.get(field) for field in SERVED_MENTION_FIELDS} for mention in result["mentions"]],
            "quotes": [{field: quote.get(field) for field in SERVED_QUOTE_FIELDS} for quote in result["quotes"]],
        }
    return records


@functools.cache
def _default_analyser():
    """The default watchlist's analyser, built once per process (spaCy pipeline and patterns)."""
    from nlp.entities import Analyser

    return Analyser()


def record_document(record: dict) -> dict:
    """The document the classifiers read for a labelled record, as the classify stage builds it
    for a stored article: title, body and the analyser's mentions and quotes (``analyse_records``)."""
    if record.get("analysis") is None:
        analyse_records([record])
    analysis = record["analysis"]
    return {"title": record.get("title", ""), "body": record.get("body", ""),
            "mentions": analysis["mentions"], "quotes": analysis["quotes"]}


def _task_examples(
    records: list[dict], task: Task, stacked: tuple[Task, ...] = ()
) -> tuple[list[dict], list, list[str]]:
    """(rows, targets, group ids) of one task; records unlabelled for the task are skipped.

    Per-entity rows also carry their article (``article``, ``article_key``) and the
    record's labels of the ``stacked`` tasks (``stacked_labels``) for stacking.
    """
    rows, targets, groups = [], [], []
    analyse_records([record for record in records if record.get(task.name) is not None])
    for record in records:
        value = record.get(task.name)
        if value is None:
            continue
        doc = record_document(record)
        if task.kind == "per_entity":
            article = article_row(doc)
            stacked_labels = {stacked_task.name: record.get(stacked_task.name) for stacked_task in stacked}
            found = {mention["entity_id"] for mention in doc["mentions"]}
            groups_of = cue_groups(record)
            for entity_id, label in value.items():
                row = tone_row(doc, entity_id, **PARAMS["per_entity"]["row"], article=article, cue_groups=groups_of,
                               cues=_cues_of(task))
                row.update(article=article, article_key=record["id"], stacked_labels=stacked_labels,
                           found=entity_id in found, cue_groups=groups_of)
                rows.append(row)
                targets.append(label)
                groups.append(record["id"])
        else:
            rows.append(article_row(doc))
            targets.append(value)
            groups.append(record["id"])
    if task.kind == "multi_label":
        rows = with_team_cues(rows, _cues_of(task))
    return rows, targets, groups


def _cues_of(task: Task) -> dict[str, list[str]] | None:
    """A task's own cue words (the scheme's ``cues``: a multi-label task's topic evidence, a per-entity
    task's tone cues), as the model bundle keeps them (``"cues"``); None: the shipped patterns."""
    return {label: list(phrases) for label, phrases in task.cues} or None


def with_team_cues(rows: list[dict], cues: dict | None) -> list[dict]:
    """Article rows whose topic evidence is counted with a team's own cues (``cues``: label -> words
    and phrases, a label scheme's); the rows as they are without (the shipped ``TOPIC_CUES``)."""
    if not cues:
        return rows
    patterns = team_cue_patterns(cues)
    return [{**row, "topic_evidence": topic_evidence(row["paragraphs"], patterns)} for row in rows]


def cue_groups(record: dict) -> dict[str, str]:
    """The tone features' cue group of each body (``PARAMS["per_entity"]["cue_groups"]``): the
    category the analyser's watchlist gives it, or (``"entity"``) none, so each body is its own."""
    if PARAMS["per_entity"].get("cue_groups") != "category":
        return {}
    return dict((record.get("analysis") or {}).get("categories") or {})


def _learnable(task: Task, targets: list, folds: int) -> tuple[list[str], list[dict]]:
    """Labels with at least ``folds`` examples, and notes for the others."""
    if task.kind == "multi_label":
        counts = Counter(label for labels in targets for label in labels)
    else:
        counts = Counter(targets)
    learnable, notes = [], []
    for label in task.labels:
        if counts[label] >= folds:
            learnable.append(label)
        elif task.kind != "multi_label" or label != task.exclusive:
            notes.append(
                {
                    "label": label,
                    "examples": counts[label],
                    "note": f"not learnable: {counts[label]} examples, fewer than {folds} folds; excluded",
                }
            )
    return learnable, notes


def _multi_label_matrix(targets: list[list[str]], labels: list[str]) -> np.ndarray:
    return np.array([[label in row for label in labels] for row in targets], dtype=int)


# ---------------------------------------------------------------- calibration

# Down to 0.05: the two-step stance model's side probabilities (C 0.3) are flat, T fell on 0.2 at the edge.
TEMPERATURE_GRID = np.geomspace(0.05, 20.0, 121)  # 1.0 in the middle


def tempered(probabilities: np.ndarray, temperature: float, keep: int | None = None) -> np.ndarray:
    """Temperature scaling: softmax(log p / T) per row; T > 1 softens, T < 1 sharpens, argmax unchanged.

    ``keep``: a column left as it is (a two-step task's ``absent`` label, decided by its own
    probability against 0.5); the other columns are scaled among themselves and share the rest,
    so neither step's decision changes.
    """
    if temperature == 1.0:
        return probabilities
    if keep is not None:
        others = np.delete(probabilities, keep, axis=1)
        total = others.sum(axis=1, keepdims=True)
        scaled = tempered(others / np.where(total > 0, total, 1.0), temperature) * total
        return np.insert(scaled, keep, probabilities[:, keep], axis=1)
    logits = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def fit_temperature(probabilities: np.ndarray, truth: np.ndarray, keep: int | None = None) -> float:
    """The temperature (grid 0.05-20) minimising the log-loss of ``probabilities`` (rows) given
    the true column index of each row (``keep``: see ``tempered``)."""
    rows = np.arange(len(truth))
    losses = [
        -np.log(np.clip(tempered(probabilities, t, keep)[rows, truth], 1e-12, None)).mean() for t in TEMPERATURE_GRID
    ]
    return float(TEMPERATURE_GRID[int(np.argmin(losses))])


def expected_calibration_error(
    probabilities: np.ndarray, truth: np.ndarray, bins: int = 10, keep: int | None = None
) -> float:
    """ECE: the gap between confidence (the chosen label's probability, ``_choice``) and accuracy,
    averaged over equal-width confidence bins weighted by their share of rows."""
    chosen = _choice(probabilities, keep)
    confidence = probabilities[np.arange(len(chosen)), chosen]
    correct = chosen == truth
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(error)


def _calibration(probabilities: np.ndarray, truth: np.ndarray, uncertain_below: float, keep: int | None = None) -> dict:
    """Temperature fitted on out-of-fold ``probabilities``, with the ECE before and after, and what
    the uncertain flag (calibrated probability of the chosen label below ``uncertain_below``)
    separates. ``keep``: the column of a two-step task's absent label (see ``single_label_choice``)."""
    temperature = fit_temperature(probabilities, truth, keep)
    calibrated = tempered(probabilities, temperature, keep)
    chosen = _choice(calibrated, keep)
    uncertain = calibrated[np.arange(len(chosen)), chosen] < uncertain_below
    correct = chosen == truth
    return {
        "method": "temperature scaling on out-of-fold probabilities",
        "temperature": round(temperature, 4),
        "ece": round(expected_calibration_error(probabilities, truth, keep=keep), 4),
        "ece_calibrated": round(expected_calibration_error(calibrated, truth, keep=keep), 4),
        "uncertain_below": uncertain_below,
        "uncertain_share": round(float(uncertain.mean()), 4),
        "accuracy_certain": round(float(correct[~uncertain].mean()), 4) if (~uncertain).any() else None,
        "accuracy_uncertain": round(float(correct[uncertain].mean()), 4) if uncertain.any() else None,
    }


# ---------------------------------------------------------------- models


def _absent(task: Task) -> str | None:
    """The label a single-label task decides in a first step (the scheme's ``absent``), when two-step
    models are on (``PARAMS["single_label"]["two_stage"]``)."""
    if task.kind == "single_label" and PARAMS["single_label"].get("two_stage") and task.absent in task.labels:
        return task.absent
    return None


def _per_entity_two_stage(task: Task) -> dict | None:
    """A per-entity task's two-step settings (``PARAMS["per_entity"]["two_stage"]``) when they are on
    and the task has their ``absent`` label (tone: neutral); else None (one step). Its label is then
    the most probable one, as for one step (``TwoStageClassifier`` gives the three probabilities)."""
    two_stage = PARAMS["per_entity"].get("two_stage")
    if task.kind == "per_entity" and two_stage and two_stage.get("absent") in task.labels:
        return two_stage
    return None


def _logistic(C: float) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced", max_iter=3000)


def _step(features: str, text: dict, C: float) -> Pipeline:
    """One step of a two-step model with its own features: ``text_features(**text)`` -> logistic regression."""
    return Pipeline([("features", text_features(features=features, **text)), ("classify", _logistic(C))])


def _build_pipeline(task: Task, features: str, two_stage: bool = True) -> Pipeline:
    """The pipeline of ``task``; ``two_stage=False`` gives a single-label task its one-step model
    even when it has an ``absent`` label (what tone stacks, see ``_fit_stacked``). A per-entity task
    with ``PARAMS["per_entity"]["two_stage"]`` on has two steps too (P(neutral), then which way)."""
    params = PARAMS[task.kind]
    if two_stage and _absent(task):
        steps = params["two_stage"]
        presence_text = {**params["text"], "domain_weight": steps.get("presence_domain_weight", 0.0)}
        return Pipeline([("classify", TwoStageClassifier(_step(features, presence_text, params["C"]),
                                                         _step(features, steps["text"], steps["C"]),
                                                         task.absent))])
    if two_stage and (steps := _per_entity_two_stage(task)):
        # One feature union, fitted on all pairs, feeds both steps (features computed once); the first
        # step learns all three labels (``presence_on_labels``).
        return Pipeline([("features", text_features(features=features, **params["text"])),
                         ("classify", TwoStageClassifier(_logistic(params["C"]), _logistic(steps["C"]),
                                                         steps["absent"], presence_on_labels=True))])
    union = text_features(features=features, **params["text"])
    if task.kind != "multi_label":
        classifier = _logistic(params["C"])
    else:
        classifier = LogisticRegression(C=params["C"], class_weight="balanced", solver="liblinear")
        calibrated = CalibratedClassifierCV(classifier, cv=params["calibration_cv"], ensemble=False)
        classifier = OneVsRestClassifier(calibrated)
    return Pipeline([("features", union), ("classify", classifier)])


def _stacked_tasks(scheme: Scheme, task: Task) -> tuple[Task, ...]:
    """The tasks whose article probabilities feed ``task`` (stacking): single-label ones into per-entity."""
    if task.kind != "per_entity" or not PARAMS["per_entity"]["stack_single_label"]:
        return ()
    return tuple(other for other in scheme.tasks.values() if other.kind == "single_label")


def _with_stacked(rows: list[dict], name: str, labels: list[str], probabilities: dict) -> list[dict]:
    """Copies of per-entity rows whose ``domain`` adds ``<entity>*<task>=<label>``: the article's
    probability of each label of task ``name`` (``probabilities``: article_key -> vector)."""
    stacked = []
    for row in rows:
        domain = dict(row["domain"])
        for label, probability in zip(labels, probabilities[row["article_key"]]):
            domain[f"{row['entity_id']}*{name}={label}"] = float(probability)
        stacked.append({**row, "domain": domain})
    return stacked


def _stack(rows: list[dict], stacked: dict) -> list[dict]:
    """Per-entity rows with the features of the fitted ``stacked`` models ({task: {pipeline, labels}})."""
    if not stacked or not rows:
        return rows
    articles = {row["article_key"]: row["article"] for row in rows}
    keys = list(articles)
    for name, model in stacked.items():
        matrix = model["pipeline"].predict_proba([articles[key] for key in keys])
        rows = _with_stacked(rows, name, model["labels"], dict(zip(keys, matrix)))
    return rows


def _too_few_examples(task: Task, targets: list, folds: int | None = None, in_split: bool = False) -> TrainingError:
    """What a team with too few labels reads: how many examples each label has (``targets``: all the task's
    labelled examples, not one cross-validation split's), the folds asked for, and what to do. ``in_split``:
    the counts pass the folds, but a cross-validation split's training part has too few of a label."""
    counts = Counter(label for target in targets for label in (target if isinstance(target, list) else [target]))
    have = ", ".join(f"{label} {counts[label]}" for label in task.labels if label != task.exclusive)
    if task.kind == "multi_label":
        needs = (f"one label needs at least as many articles with it, and as many without it ({len(targets)} "
                 f"labelled), as the cross-validation folds")
        if in_split:
            needs += (f", and {PARAMS['multi_label']['calibration_cv']} of each in every fold's training part "
                      "(a label's articles are shared out among the folds)")
    else:
        needs = "two labels need at least as many examples as the cross-validation folds"
        if in_split:
            needs += ", in every fold's training part"
    folds_text = f"--folds {folds}" if folds else ("leave-one-slice-out" if in_split else "train --folds, default 5")
    return TrainingError(f"{task.name}: too few labelled examples to learn from ({have}): {needs} ({folds_text}); "
                         "label more articles with `cuttings label`")


class _TaskModel:
    """A fitted pipeline of one task plus what prediction needs to decode it."""

    def __init__(self, task: Task, features: str, stacked_tasks: tuple[Task, ...] = ()):
        self.task = task
        self.features = features
        self.stacked_tasks = stacked_tasks
        self.pipeline = _build_pipeline(task, features)
        self.labels: list[str] = []
        self.thresholds: list[float] = []
        self.near_threshold = 1.0
        # Fitted stacked models: {task name: {"pipeline", "labels"}}.
        self.stacked: dict[str, dict] = {}
        # Temperature scaling of single-label / per-entity probabilities (set by ``_train_task``).
        self.temperature = 1.0
        # Per-entity tasks: the cue group of each body seen in training (``cue_groups``), kept with
        # the model so that prediction groups the cues as training did.
        self.cue_groups: dict[str, str] = {}

    def fit(self, rows: list[dict], targets: list, labels: list[str]) -> "_TaskModel":
        if self.task.kind == "multi_label":
            candidates = [label for label in labels if label != self.task.exclusive]
            matrix = _multi_label_matrix(targets, candidates)
            columns = self._trainable_columns(matrix)
            self.labels = [candidates[i] for i in columns]
            if not self.labels:
                raise _too_few_examples(self.task, targets)
            matrix = matrix[:, columns]
            self.thresholds = self._tune_thresholds(rows, matrix)
            self.pipeline.fit(rows, matrix)
        else:
            keep = [i for i, label in enumerate(targets) if label in labels]
            if len({targets[i] for i in keep}) < 2:
                raise _too_few_examples(self.task, targets)
            for row in rows:
                self.cue_groups.update(row.get("cue_groups") or {})
            rows = self._fit_stacked(rows)
            self.pipeline.fit([rows[i] for i in keep], [targets[i] for i in keep])
            self.labels = [str(label) for label in self.pipeline.classes_]
        return self

    def _fit_stacked(self, rows: list[dict]) -> list[dict]:
        """Fit each stacked task's model on the rows' articles; return the rows with its
        out-of-fold probabilities (inner stratified CV, so no row sees its own label)."""
        if not self.stacked_tasks:
            return rows
        inner_folds = PARAMS[self.task.kind]["stack_cv"]
        articles = {row["article_key"]: row for row in rows}
        keys = list(articles)
        article_rows = [articles[key]["article"] for key in keys]
        for stacked_task in self.stacked_tasks:
            targets = [articles[key]["stacked_labels"].get(stacked_task.name) for key in keys]
            counts = Counter(label for label in targets if label is not None)
            keep = [i for i, label in enumerate(targets) if label is not None and counts[label] >= inner_folds]
            if len({targets[i] for i in keep}) < 2:
                continue
            # The one-step stance model: its probabilities serve tone better than the two-step model's
            # (tone leave-one-slice-out 0.670 against 0.657, CV 0.695 against 0.683; docs/classifiers.md).
            pipeline = _build_pipeline(stacked_task, self.features, two_stage=False)
            kept_rows, kept_targets = [article_rows[i] for i in keep], [targets[i] for i in keep]
            splitter = StratifiedKFold(n_splits=inner_folds, shuffle=True, random_state=0)
            out_of_fold = _out_of_fold_probabilities(pipeline, kept_rows, kept_targets, splitter)
            pipeline.fit(kept_rows, kept_targets)
            # Articles without a usable label get the fitted model's probabilities.
            matrix = pipeline.predict_proba(article_rows)
            matrix[keep] = out_of_fold
            labels = [str(label) for label in pipeline.classes_]
            self.stacked[stacked_task.name] = {"pipeline": pipeline, "labels": labels}
            rows = _with_stacked(rows, stacked_task.name, labels, dict(zip(keys, matrix)))
        return rows

    def _trainable_columns(self, matrix: np.ndarray) -> np.ndarray:
        """Label columns with enough positives and negatives for the calibration folds."""
        needed = PARAMS["multi_label"]["calibration_cv"]
        positives = matrix.sum(axis=0)
        return np.flatnonzero((positives >= needed) & (len(matrix) - positives >= needed))

    def _tune_thresholds(self, rows: list[dict], matrix: np.ndarray) -> list[float]:
        """Per-label decision thresholds maximising F1 on inner cross-validated probabilities."""
        params = PARAMS[self.task.kind]
        low, high, steps = params["threshold_grid"]
        grid = np.linspace(low, high, int(steps))
        out_of_fold = np.zeros(matrix.shape)
        for test in _iterative_stratified_folds(matrix, params["threshold_cv"], seed=0):
            train = np.setdiff1d(np.arange(len(rows)), test)
            columns = self._trainable_columns(matrix[train])
            if len(columns) == 0:
                continue
            inner = _build_pipeline(self.task, self.features).fit([rows[i] for i in train], matrix[train][:, columns])
            probabilities = inner.predict_proba([rows[i] for i in test])
            out_of_fold[np.ix_(test, columns)] = probabilities[:, -len(columns):]
        thresholds = []
        for column in range(matrix.shape[1]):
            scores = [f1_score(matrix[:, column], out_of_fold[:, column] >= t, zero_division=0) for t in grid]
            best = np.flatnonzero(np.isclose(scores, max(scores)))
            # Among equally good thresholds take the one nearest 0.5.
            thresholds.append(float(grid[best[np.argmin(np.abs(grid[best] - 0.5))]]))
        if self.task.exclusive:
            self.near_threshold = self._tune_near_threshold(out_of_fold, matrix, thresholds)
        return thresholds

    def _tune_near_threshold(self, out_of_fold: np.ndarray, matrix: np.ndarray, thresholds: list[float]) -> float:
        """The share of its threshold the best label needs, when none passes, to be chosen over
        the exclusive label: the one maximising micro-F1 (exclusive label included) on the inner
        out-of-fold probabilities; among equals the highest (nearest to always ``other``)."""
        low, high, steps = PARAMS["multi_label"]["near_threshold_grid"]
        labels = [str(column) for column in range(matrix.shape[1])]
        truth = np.hstack([matrix, (matrix.sum(axis=1) == 0)[:, None]]).astype(int)
        scores = []
        for near in np.linspace(low, high, int(steps)):
            predicted = np.zeros_like(truth)
            for index, row in enumerate(out_of_fold):
                for label, _p in multi_label_choice(row, labels, thresholds, "exclusive", float(near)):
                    predicted[index, -1 if label == "exclusive" else int(label)] = 1
            scores.append((f1_score(truth, predicted, average="micro", zero_division=0), float(near)))
        return max(scores)[1]

    def predict_proba(self, rows: list[dict]) -> np.ndarray:
        return _probabilities(self.bundle(""), rows)

    def decide(self, probabilities: np.ndarray) -> list:
        """Labels per row: a label list (multi_label) or one label."""
        if self.task.kind != "multi_label":
            return [self.labels[i] for i in single_label_choice(probabilities, self.labels, _absent(self.task))]
        return [[label for label, _p in multi_label_choice(row, self.labels, self.thresholds, self.task.exclusive,
                                                            self.near_threshold)]
                for row in probabilities]

    def bundle(self, model_version: str) -> dict:
        """What is saved with skops: the pipeline and plain-data decoding info."""
        return {
            "model_version": model_version,
            "task": self.task.name,
            "kind": self.task.kind,
            "labels": list(self.labels),
            "thresholds": list(self.thresholds),
            "near_threshold": self.near_threshold,
            "exclusive": self.task.exclusive,
            "cues": _cues_of(self.task),
            "absent": _absent(self.task),
            "entities": list(self.task.entities),
            "uncertain_below": self.task.uncertain_below,
            "features": self.features,
            "row": {**PARAMS[self.task.kind].get("row", {}), **({"cue_groups": self.cue_groups} if self.cue_groups else {})},
            "pipeline": self.pipeline,
            "stacked": self.stacked,
            "temperature": self.temperature,
        }


def _out_of_fold_probabilities(pipeline: Pipeline, rows: list[dict], targets: list, splitter) -> np.ndarray:
    """Out-of-fold ``predict_proba`` of ``pipeline``, columns in sorted label order. Unlike
    ``cross_val_predict`` the labels reach the estimator as they are (a two-step model needs to
    see its ``absent`` label, not an integer code)."""
    labels = sorted(set(targets))
    result = np.zeros((len(rows), len(labels)))
    for train, test in splitter.split(np.zeros(len(targets)), targets):
        fitted = clone(pipeline).fit([rows[i] for i in train], [targets[i] for i in train])
        columns = [labels.index(str(label)) for label in fitted.classes_]
        result[np.ix_(test, columns)] = fitted.predict_proba([rows[i] for i in test])
    return result


def single_label_choice(probabilities: np.ndarray, labels: list[str], absent: str | None) -> np.ndarray:
    """Column index of the chosen label per row: the most probable, except that a task with an
    ``absent`` label (the target is not in the article) decides in two steps: ``absent`` when its
    probability is at least 0.5, else the most probable of the other labels."""
    return _choice(probabilities, _absent_column(labels, absent))


def multi_label_choice(row: np.ndarray, labels: list[str], thresholds: list[float], exclusive: str | None,
                       near_threshold: float = 1.0) -> list[tuple[str, float]]:
    """(label, probability) chosen for one row of a multi-label task: every label at or above its
    threshold; if none, the label nearest to passing (probability / threshold) when it reaches
    ``near_threshold`` of its threshold, else the exclusive label (``other``, with probability
    1 - the best label's), else the most probable label."""
    chosen = [(label, float(p)) for label, p, t in zip(labels, row, thresholds) if p >= t]
    if chosen:
        return chosen
    ratios = np.asarray(row, dtype=float) / np.maximum(np.asarray(thresholds, dtype=float), 1e-9)
    best = int(ratios.argmax())
    if exclusive and ratios[best] < near_threshold:
        return [(exclusive, 1.0 - float(np.max(row)))]
    if not exclusive:
        best = int(np.argmax(row))
    return [(labels[best], float(row[best]))]


def _absent_column(labels: list[str], absent: str | None) -> int | None:
    return labels.index(absent) if absent and absent in labels else None


def _choice(probabilities: np.ndarray, absent_column: int | None) -> np.ndarray:
    if absent_column is None:
        return probabilities.argmax(axis=1)
    others = probabilities.copy()
    others[:, absent_column] = -1.0
    return np.where(probabilities[:, absent_column] >= 0.5, absent_column, others.argmax(axis=1))


def _probabilities(bundle: dict, rows: list[dict]) -> np.ndarray:
    """Probabilities of a saved or fitted model (``_TaskModel.bundle``) for ``rows``: stacked
    features added, multi-label columns of the trained labels, others temperature-scaled."""
    probabilities = bundle["pipeline"].predict_proba(_stack(rows, bundle.get("stacked")))
    if bundle["kind"] == "multi_label":
        # A single trained label is a binary problem: keep the positive column.
        return probabilities[:, -len(bundle["labels"]):]
    # Models saved before calibration have no temperature: 1 leaves them as they were.
    keep = _absent_column(bundle["labels"], bundle.get("absent"))
    return tempered(probabilities, bundle.get("temperature", 1.0), keep)


# ---------------------------------------------------------------- cross-validation


def _iterative_stratified_folds(matrix: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """Fold index arrays balancing every label (Sechidis et al. 2011 iterative stratification)."""
    rng = np.random.default_rng(seed)
    n_rows = matrix.shape[0]
    rows_wanted = np.full(folds, n_rows / folds)
    labels_wanted = np.tile(matrix.sum(axis=0) / folds, (folds, 1)).astype(float)
    fold_of = np.full(n_rows, -1)
    remaining = np.ones(n_rows, dtype=bool)
    while remaining.any():
        counts = matrix[remaining].sum(axis=0)
        if counts.sum() == 0:
            candidates = np.flatnonzero(remaining)
            label = None
        else:
            label = int(np.argmin(np.where(counts > 0, counts, np.iinfo(np.int64).max)))
            candidates = np.flatnonzero(remaining & (matrix[:, label] == 1))
        for row in rng.permutation(candidates):
            wanted = labels_wanted[:, label] if label is not None else rows_wanted
            best = np.flatnonzero(wanted == wanted.max())
            best = best[rows_wanted[best] == rows_wanted[best].max()]
            fold = int(rng.choice(best))
            fold_of[row] = fold
            remaining[row] = False
            labels_wanted[fold] -= matrix[row]
            rows_wanted[fold] -= 1
    return [np.flatnonzero(fold_of == fold) for fold in range(folds)]


def _splits(task: Task, targets: list, groups: list[str], labels: list[str], folds: int, seed: int):
    """(train, test) index pairs: iterative stratification, stratified, or grouped by article."""
    indices = np.arange(len(targets))
    if task.kind == "multi_label":
        test_folds = _iterative_stratified_folds(_multi_label_matrix(targets, labels), folds, seed)
        return [(np.setdiff1d(indices, test), test) for test in test_folds]
    if task.kind == "per_entity":
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        return list(splitter.split(indices, targets, groups))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(indices, targets))


def _scores(truth: np.ndarray, predicted: np.ndarray, labels: list[str], multi: bool) -> dict:
    if multi:
        precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, zero_division=0)
        micro = f1_score(truth, predicted, average="micro", zero_division=0)
        macro = f1_score(truth, predicted, average="macro", zero_division=0)
    else:
        precision, recall, f1, support = precision_recall_fscore_support(
            truth, predicted, labels=labels, zero_division=0
        )
        micro = f1_score(truth, predicted, labels=labels, average="micro", zero_division=0)
        macro = f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)
    per_label = {
        label: {
            "precision": round(float(p), 4),
            "recall": round(float(r), 4),
            "f1": round(float(f), 4),
            "support": int(s),
        }
        for label, p, r, f, s in zip(labels, precision, recall, f1, support)
    }
    return {"per_label": per_label, "macro_f1": round(float(macro), 4), "micro_f1": round(float(micro), 4)}


def slice_of(record_id: str) -> str:
    """The gathering slice of a corpus record: its id prefix (``t1-004`` -> ``t1``)."""
    return str(record_id).split("-", 1)[0]


def _slice_splits(groups: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Leave-one-slice-out (train, test) index pairs: each slice (id prefix) held out in turn."""
    slices = np.array([slice_of(group) for group in groups])
    indices = np.arange(len(groups))
    return [(indices[slices != name], indices[slices == name]) for name in dict.fromkeys(slices)]


BOOTSTRAP_SAMPLES = 1000


def _f1_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros_like(denominator, dtype=float), where=denominator > 0)


def _resample_weights(groups: list[str], samples: int, seed: int) -> np.ndarray:
    """(samples x rows) weights of a bootstrap over articles: each row counts as often as its
    article (``groups``) is drawn, so an article's rows (tone pairs) move together."""
    names = {name: i for i, name in enumerate(dict.fromkeys(groups))}
    group_index = np.array([names[g] for g in groups])
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(names), np.full(len(names), 1.0 / len(names)), size=samples)
    return draws[:, group_index].astype(float)


def _indicators(values: list, labels: list[str], multi: bool) -> np.ndarray:
    """(rows x labels) booleans: each row's label (single-label) or labels (a list, multi-label)."""
    if multi:
        return np.array([[label in set(value) for label in labels] for value in values], dtype=bool)
    return np.array([[value == label for label in labels] for value in values], dtype=bool)


def bootstrap_intervals(
    truth: np.ndarray, predicted: np.ndarray, groups: list[str], labels: list[str], multi: bool,
    samples: int = BOOTSTRAP_SAMPLES, level: float = 0.90, seed: int = 0,
) -> dict:
    """Percentile bootstrap intervals of macro-F1, micro-F1 and per-label F1, resampling
    articles (``groups``; a tone article's pairs move together) with replacement.

    ``truth`` / ``predicted``: label strings (single-label) or 0/1 matrices (multi-label).
    Weighted confusion counts make each resample one matrix product.
    """
    weights = _resample_weights(groups, samples, seed)
    if multi:
        t, p = np.asarray(truth, dtype=bool), np.asarray(predicted, dtype=bool)
    else:
        t, p = _indicators(truth, labels, False), _indicators(predicted, labels, False)
    tp = weights @ (t & p).astype(float)
    fp = weights @ (~t & p).astype(float)
    fn = weights @ (t & ~p).astype(float)
    per_label = _f1_from_counts(tp, fp, fn)
    macro = per_label.mean(axis=1)
    micro = _f1_from_counts(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1))
    low, high = (1 - level) / 2 * 100, (1 + level) / 2 * 100

    def interval(values: np.ndarray) -> list[float]:
        return [round(float(np.percentile(values, low)), 4), round(float(np.percentile(values, high)), 4)]

    return {
        "level": level,
        "samples": samples,
        "resampled": "articles",
        "macro_f1": interval(macro),
        "micro_f1": interval(micro),
        "per_label": {label: interval(per_label[:, i]) for i, label in enumerate(labels)},
    }


def paired_difference(
    truth: list, predicted: list, candidate: list, groups: list[str], labels: list[str], multi: bool,
    samples: int = 2000, level: float = 0.90, seed: int = 0,
) -> dict:
    """The headline score (micro-F1 multi-label, else macro-F1) of ``candidate`` minus that of
    ``predicted`` on the same ``truth``, with a paired percentile bootstrap interval: each resample
    of articles (``groups``; a tone article's pairs move together) scores both, so the interval is
    that of the difference, much narrower than the two scores' own intervals when few predictions
    change. Labels are strings (single-label) or label lists (multi-label)."""
    # the observed sample first, then the resamples
    weights = np.vstack([np.ones(len(groups)), _resample_weights(groups, samples, seed)])
    t = _indicators(truth, labels, multi)

    def headline(values: list) -> np.ndarray:
        p = _indicators(values, labels, multi)
        tp, fp, fn = (weights @ (t & p).astype(float), weights @ (~t & p).astype(float),
                      weights @ (t & ~p).astype(float))
        if multi:
            return _f1_from_counts(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1))
        return _f1_from_counts(tp, fp, fn).mean(axis=1)

    difference = headline(candidate) - headline(predicted)
    low, high = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    changed = sum(1 for a, b in zip(predicted, candidate) if (set(a) != set(b) if multi else a != b))
    return {
        "metric": "micro_f1" if multi else "macro_f1",
        "difference": round(float(difference[0]), 4),
        "interval": [round(float(np.percentile(difference[1:], low)), 4),
                     round(float(np.percentile(difference[1:], high)), 4)],
        "level": level,
        "samples": samples,
        "changed": changed,
        "examples": len(truth),
    }


def compare_protocols(baseline: dict, candidate: dict) -> dict:
    """Paired comparison of two ``evaluate_protocol`` results (``bench/classify.py --protocol
    --json-out``) task by task: the leave-one-slice-out difference over the same held-out
    predictions (``paired_difference``), the CV means side by side and, for each CV fold seed both
    ran, its paired difference (``cv_paired``: seeds, differences, mean, gains, losses). ``ValueError``
    when a task's predictions are not of the same examples (another corpus or scheme)."""
    result = {}
    for name, base in baseline["slices"].items():
        other = candidate["slices"].get(name)
        if other is None or "predictions" not in base or "predictions" not in other:
            continue
        metric = headline_metric(base)
        means = [(summary or {}).get(name, {}).get("mean")
                 for summary in (baseline.get("cv_summary"), candidate.get("cv_summary"))]
        result[name] = {"loso": [base[metric], other[metric]], "paired": _paired_reports(name, base, other),
                        "cv_mean": means}
        # The CV fold seeds both results ran: the same folds, so each seed's predictions pair too.
        seeds = [seed for seed, reports in (baseline.get("cv") or {}).items()
                 if "predictions" in reports.get(name, {})
                 and "predictions" in (candidate.get("cv") or {}).get(seed, {}).get(name, {})]
        differences = [_paired_reports(name, baseline["cv"][seed][name], candidate["cv"][seed][name])["difference"]
                       for seed in seeds]
        if differences:
            result[name]["cv_paired"] = {"seeds": seeds, "differences": differences,
                                         "mean": round(float(np.mean(differences)), 4),
                                         "gains": sum(value > 0 for value in differences),
                                         "losses": sum(value < 0 for value in differences)}
    return result


def _paired_reports(name: str, base: dict, other: dict) -> dict:
    """``paired_difference`` of two task reports' predictions, matched by (article, body)."""
    key = lambda item: (item["id"], item.get("entity"))  # noqa: E731
    theirs = {key(item): item for item in other["predictions"]}
    if len(theirs) != len(base["predictions"]) or any(
            key(item) not in theirs or theirs[key(item)]["truth"] != item["truth"] for item in base["predictions"]):
        raise ValueError(f"{name}: the two results do not hold predictions of the same labelled examples")
    return paired_difference(
        [item["truth"] for item in base["predictions"]], [item["predicted"] for item in base["predictions"]],
        [theirs[key(item)]["predicted"] for item in base["predictions"]],
        [item["id"] for item in base["predictions"]], list(base["per_label"]), base["kind"] == "multi_label")


def format_paired(comparison: dict) -> str:
    """A table of ``compare_protocols``: one row per task."""
    lines = ["| task | metric | LOSO baseline -> candidate | paired difference (90% interval) | examples changed "
             "| CV mean baseline -> candidate | CV difference per fold seed |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, row in comparison.items():
        paired = row["paired"]
        low, high = paired["interval"]
        cv = " -> ".join("-" if value is None else f"{value:.3f}" for value in row["cv_mean"])
        per_seed = "-"
        if row.get("cv_paired"):
            seeds = row["cv_paired"]
            per_seed = (" / ".join(f"{value:+.3f}" for value in seeds["differences"])
                        + f" (mean {seeds['mean']:+.3f}; {seeds['gains']} gain, {seeds['losses']} lose)")
        lines.append(f"| {name} | {paired['metric'].replace('_', '-')} | {row['loso'][0]:.3f} -> {row['loso'][1]:.3f} "
                     f"| {paired['difference']:+.3f} ({low:+.3f} to {high:+.3f}) "
                     f"| {paired['changed']} of {paired['examples']} | {cv} | {per_seed} |")
    return "\n".join(lines)


def _cross_validate_task(
    records: list[dict],
    task: Task,
    features: str,
    folds: int,
    seed: int,
    stacked: tuple[Task, ...] = (),
    split: str = "kfold",
    train_fraction: float = 1.0,
) -> dict:
    """Out-of-fold report of one task. ``split``: ``kfold`` (``folds`` stratified folds, fold
    seed ``seed``) or ``slices`` (leave-one-slice-out: train on the other slices, predict the
    held-out one, pool the predictions). ``train_fraction`` below 1 trains each split on that
    share of its training articles, drawn with ``seed`` (a learning curve: what more labels buy)."""
    rows, targets, groups = _task_examples(records, task, stacked)
    if not rows:
        raise TrainingError("no labelled articles to train on")
    learnable, not_learnable = _learnable(task, targets, folds)
    all_targets = targets   # the task's every labelled example, for a refusal's counts
    excluded = {note["label"] for note in not_learnable}
    report = {"task": task.name, "kind": task.kind, "features": features, "folds": folds, "seed": seed}
    if split == "slices":
        report.update(folds=None, seed=None, evaluation="leave-one-slice-out")
    report["not_learnable"] = not_learnable
    multi = task.kind == "multi_label"
    if multi:
        # Evaluated labels: the learnable ones; the exclusive label is derived, not trained.
        eval_labels = learnable + ([task.exclusive] if task.exclusive and task.exclusive not in learnable else [])
        eval_labels = [label for label in task.labels if label in eval_labels]
        keep = list(range(len(rows)))
    else:
        eval_labels = learnable
        keep = [i for i, label in enumerate(targets) if label not in excluded]
    rows = [rows[i] for i in keep]
    targets = [targets[i] for i in keep]
    groups = [groups[i] for i in keep]
    report["n_examples"] = len(rows)
    if len(eval_labels) < 2 or len(rows) < folds:
        report["error"] = "too few examples or learnable labels to cross-validate"
        return report
    predicted: list = [None] * len(rows)
    baseline: list = [None] * len(rows)
    out_of_fold = np.zeros((len(rows), len(eval_labels)))
    splits = _slice_splits(groups) if split == "slices" else _splits(task, targets, groups, eval_labels, folds, seed)
    draw = np.random.default_rng(seed)
    for train, test in splits:
        if train_fraction < 1.0:
            articles = sorted({groups[i] for i in train})
            kept = set(draw.choice(articles, size=max(2, round(train_fraction * len(articles))), replace=False))
            train = np.array([i for i in train if groups[i] in kept])
        try:
            model = _TaskModel(task, features, stacked).fit(
                [rows[i] for i in train], [targets[i] for i in train], learnable
            )
        except TrainingError as error:   # one split's counts: say the task's, and the folds asked for
            raise _too_few_examples(task, all_targets, folds if split == "kfold" else None, in_split=True) from error
        probabilities = model.predict_proba([rows[i] for i in test])
        decided = model.decide(probabilities)
        if not multi:
            for column, label in enumerate(model.labels):
                out_of_fold[test, eval_labels.index(label)] = probabilities[:, column]
        if multi:
            most_common = Counter(label for i in train for label in targets[i]).most_common(1)[0][0]
            guess = [most_common]
        else:
            dummy = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(train), 1)), [targets[i] for i in train])
            guess = dummy.predict(np.zeros((1, 1)))[0]
        for i, label in zip(test, decided):
            predicted[i] = label if rows[i].get("found", True) else NOT_FOUND
            baseline[i] = guess
    if multi:
        truth = _multi_label_matrix(targets, eval_labels)
        predicted_matrix = _multi_label_matrix(predicted, eval_labels)
        scores = _scores(truth, predicted_matrix, eval_labels, True)
        base = _scores(truth, _multi_label_matrix(baseline, eval_labels), eval_labels, True)
        baseline_strategy = "most frequent topic for every article"
        report["intervals"] = bootstrap_intervals(truth, predicted_matrix, groups, eval_labels, True)
        report["confusion"] = {
            label: {
                "tp": int((truth[:, i] & predicted_matrix[:, i]).sum()),
                "fp": int((~truth[:, i].astype(bool) & predicted_matrix[:, i].astype(bool)).sum()),
                "fn": int((truth[:, i].astype(bool) & ~predicted_matrix[:, i].astype(bool)).sum()),
            }
            for i, label in enumerate(eval_labels)
        }
    else:
        scores = _scores(np.array(targets), np.array(predicted), eval_labels, False)
        base = _scores(np.array(targets), np.array(baseline), eval_labels, False)
        baseline_strategy = "majority class"
        matrix = confusion_matrix(targets, predicted, labels=eval_labels)
        report["confusion_matrix"] = {"labels": eval_labels, "matrix": matrix.tolist()}
        truth_index = np.array([eval_labels.index(t) for t in targets])
        report["calibration"] = _calibration(
            out_of_fold, truth_index, task.uncertain_below, _absent_column(eval_labels, _absent(task))
        )
        report["intervals"] = bootstrap_intervals(np.array(targets), np.array(predicted), groups, eval_labels, False)
    report.update(scores)
    report["baseline"] = {"strategy": baseline_strategy, "macro_f1": base["macro_f1"], "micro_f1": base["micro_f1"]}
    if task.kind == "per_entity":
        entity_of = [next(k for k in row["domain"] if k.startswith("entity=")).split("=", 1)[1] for row in rows]
        report["per_entity"] = _per_entity_scores(targets, predicted, entity_of, eval_labels, task)
    if split == "slices":
        report["per_slice"] = _per_slice_scores(targets, predicted, groups, eval_labels, multi)
    report["predictions"] = [
        {"id": group, "truth": target, "predicted": label}
        for group, target, label in zip(groups, targets, predicted)
    ]
    if task.kind == "per_entity":
        for item, entity_id in zip(report["predictions"], entity_of):
            item["entity"] = entity_id
    return report


def _per_slice_scores(targets: list, predicted: list, groups: list[str], labels: list[str], multi: bool) -> dict:
    """The headline score of each held-out slice (micro-F1 multi-label, else macro-F1 over the
    labels present in the slice) and its size."""
    result = {}
    slices = [slice_of(group) for group in groups]
    for name in dict.fromkeys(slices):
        index = [i for i, s in enumerate(slices) if s == name]
        if multi:
            truth = _multi_label_matrix([targets[i] for i in index], labels)
            guess = _multi_label_matrix([predicted[i] for i in index], labels)
            score = f1_score(truth, guess, average="micro", zero_division=0)
        else:
            present = sorted(({targets[i] for i in index} | {predicted[i] for i in index}) & set(labels),
                             key=labels.index)
            score = f1_score([targets[i] for i in index], [predicted[i] for i in index], labels=present,
                             average="macro", zero_division=0)
        result[name] = {"score": round(float(score), 4), "n_examples": len(index),
                        "accuracy": round(float(np.mean([targets[i] == predicted[i] for i in index])), 4)}
    return result


def _check_features(features: str) -> None:
    """``ValueError`` for an unknown feature set; ``EmbeddingUnavailable`` when its embedder is missing."""
    if features not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {features!r}; available: {', '.join(FEATURE_SETS)}")
    for embedder in embeddings.EMBEDDERS:
        if embedder in features.split("+"):
            embeddings.get_embedder(embedder)


def cross_validate(
    records: list[dict],
    scheme: Scheme,
    *,
    features: str = DEFAULT_FEATURES,
    folds: int = 5,
    seed: int = 0,
    split: str = "kfold",
    tasks: list[str] | None = None,
    train_fraction: float = 1.0,
) -> dict:
    """Out-of-fold report per task: per-label P/R/F1, macro/micro F1, baseline, confusion matrix,
    bootstrap 90% intervals. ``split`` ``kfold`` (stratified ``folds``, fold seed ``seed``) or
    ``slices`` (leave-one-slice-out, the slices being the record ids' prefixes); ``tasks``
    limits the tasks (default all of the scheme); ``train_fraction`` below 1 trains each split
    on that share of its training articles (drawn with ``seed``)."""
    if not 0.0 < train_fraction <= 1.0:
        raise ValueError(f"train_fraction must be in (0, 1], not {train_fraction}")
    if not records:
        raise TrainingError("no labelled articles to train on")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; available: {', '.join(SPLITS)}")
    _check_features(features)
    unknown = [name for name in tasks or () if name not in scheme.tasks]
    if unknown:
        raise ValueError(f"unknown task {', '.join(map(repr, unknown))}; the scheme has: {', '.join(scheme.tasks)}")
    wanted = [name for name in scheme.tasks if tasks is None or name in tasks]
    with embeddings.caching(), one_thread():
        return {
            name: _cross_validate_task(
                records, scheme.tasks[name], features, folds, seed, _stacked_tasks(scheme, scheme.tasks[name]), split,
                train_fraction,
            )
            for name in wanted
        }


SPLITS = ("kfold", "slices")


def headline_metric(task_report: dict) -> str:
    """The target metric's key of a task report: ``micro_f1`` for multi-label, else ``macro_f1``."""
    return "micro_f1" if task_report["kind"] == "multi_label" else "macro_f1"


def summarise_seeds(reports: list[dict]) -> dict:
    """Mean, spread (max - min) and per-seed values of each task's headline metric and per-label F1
    over several ``cross_validate`` reports (one per fold seed)."""
    summary: dict = {}
    for name in reports[0]:
        usable = [report[name] for report in reports if "error" not in report[name]]
        if not usable:
            continue
        metric = headline_metric(usable[0])
        values = [task_report[metric] for task_report in usable]
        entry = {
            "metric": metric,
            "seeds": [task_report["seed"] for task_report in usable],
            "values": values,
            "mean": round(float(np.mean(values)), 4),
            "spread": round(float(max(values) - min(values)), 4),
            "per_label": {},
        }
        for label in usable[0]["per_label"]:
            f1s = [task_report["per_label"][label]["f1"] for task_report in usable]
            entry["per_label"][label] = {"mean": round(float(np.mean(f1s)), 4),
                                         "spread": round(float(max(f1s) - min(f1s)), 4)}
        for entity_id in usable[0].get("per_entity", {}):
            f1s = [task_report["per_entity"][entity_id]["macro_f1"] for task_report in usable]
            entry.setdefault("per_entity", {})[entity_id] = {"mean": round(float(np.mean(f1s)), 4),
                                                             "spread": round(float(max(f1s) - min(f1s)), 4)}
        summary[name] = entry
    return summary


def evaluate_protocol(
    records: list[dict],
    scheme: Scheme,
    *,
    features: str = DEFAULT_FEATURES,
    folds: int = 5,
    seeds: tuple[int, ...] = (0, 1, 2),
    tasks: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """The evaluation that predicts tomorrow: leave-one-slice-out (the figure to optimise) and
    ``folds``-fold cross-validation repeated over fold ``seeds`` (mean and spread).

    Returns ``{"slices": report, "cv": {seed: report}, "cv_summary": summarise_seeds(...)}``.
    """
    say = progress or (lambda message: None)
    say("leave-one-slice-out")
    result = {"slices": cross_validate(records, scheme, features=features, split="slices", tasks=tasks)}
    result["cv"] = {}
    for seed in seeds:
        say(f"{folds}-fold CV, fold seed {seed}")
        result["cv"][seed] = cross_validate(records, scheme, features=features, folds=folds, seed=seed, tasks=tasks)
    if seeds:
        result["cv_summary"] = summarise_seeds(list(result["cv"].values()))
    return result


def format_protocol(result: dict) -> str:
    """Summary table of ``evaluate_protocol``: per task, the leave-one-slice-out figure with its
    bootstrap 90% interval and the repeated-CV mean and spread; then per-label F1 both ways."""
    slices, summary = result["slices"], result.get("cv_summary", {})
    seeds = ",".join(str(seed) for seed in result.get("cv", {}))
    lines = [
        f"| task | metric | leave-one-slice-out | 90% interval | CV mean (seeds {seeds}) | CV spread |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, task_report in slices.items():
        if "error" in task_report:
            continue
        metric = headline_metric(task_report)
        low, high = task_report["intervals"][metric]
        cv = summary.get(name, {})
        lines.append(
            f"| {name} | {metric.replace('_', '-')} | {task_report[metric]:.3f} | {low:.3f}-{high:.3f} | "
            f"{cv.get('mean', float('nan')):.3f} | {cv.get('spread', float('nan')):.3f} |"
        )
    lines += ["", "| task / label | LOSO P | LOSO R | LOSO F1 | 90% interval | support | CV F1 mean | CV spread |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, task_report in slices.items():
        if "error" in task_report:
            continue
        for label, s in task_report["per_label"].items():
            low, high = task_report["intervals"]["per_label"][label]
            cv = summary.get(name, {}).get("per_label", {}).get(label, {})
            lines.append(
                f"| {name} / {label} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
                f"{low:.3f}-{high:.3f} | {s['support']} | {cv.get('mean', float('nan')):.3f} | "
                f"{cv.get('spread', float('nan')):.3f} |"
            )
        for entity_id, s in task_report.get("per_entity", {}).items():
            cv = summary.get(name, {}).get("per_entity", {}).get(entity_id, {})
            lines.append(
                f"| {name} / {entity_id} (macro) | | | {s['macro_f1']:.3f} | | {s['n_examples']} | "
                f"{cv.get('mean', float('nan')):.3f} | {cv.get('spread', float('nan')):.3f} |"
            )
    lines += ["", "Leave-one-slice-out, per held-out slice (headline metric / accuracy / examples):"]
    for name, task_report in slices.items():
        if "per_slice" in task_report:
            cells = ", ".join(f"{s} {v['score']:.2f}/{v['accuracy']:.2f}/{v['n_examples']}"
                              for s, v in task_report["per_slice"].items())
            lines.append(f"  {name}: {cells}")
    return "\n".join(lines)


def format_report(report: dict) -> str:
    """Plain-text tables of a ``cross_validate`` or ``evaluate_models`` report."""
    lines = []
    for name, task_report in report.items():
        how = (f"{task_report['folds']}-fold CV, fold seed {task_report.get('seed')}" if task_report.get("folds")
               else task_report.get("evaluation", ""))
        lines.append(
            f"== {name} ({task_report['kind']}, {task_report.get('n_examples', 0)} examples, "
            f"{how}, features={task_report['features']})"
        )
        if "error" in task_report:
            lines.append(f"  {task_report['error']}")
        else:
            lines.append(f"  {'label':<16}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}")
            for label, s in task_report["per_label"].items():
                lines.append(f"  {label:<16}{s['precision']:>10.3f}{s['recall']:>8.3f}{s['f1']:>8.3f}{s['support']:>9}")
            base = task_report["baseline"]
            lines.append(
                f"  macro F1 {task_report['macro_f1']:.3f}   micro F1 {task_report['micro_f1']:.3f}   "
                f"baseline ({base['strategy']}): macro {base['macro_f1']:.3f}, micro {base['micro_f1']:.3f}"
            )
            if "intervals" in task_report:
                iv = task_report["intervals"]
                lines.append(
                    f"  bootstrap {iv['level']:.0%} intervals ({iv['samples']} resamples of {iv['resampled']}): "
                    f"macro F1 {iv['macro_f1'][0]:.3f}-{iv['macro_f1'][1]:.3f}, "
                    f"micro F1 {iv['micro_f1'][0]:.3f}-{iv['micro_f1'][1]:.3f}; per label "
                    + ", ".join(f"{label} {low:.2f}-{high:.2f}" for label, (low, high) in iv["per_label"].items())
                )
            for entity_id, s in task_report.get("per_entity", {}).items():
                lines.append(f"  {entity_id}: macro F1 {s['macro_f1']:.3f} over {s['n_examples']} pairs")
            if "calibration" in task_report:
                c = task_report["calibration"]
                lines.append(
                    f"  calibration: expected calibration error {c['ece']:.3f}, {c['ece_calibrated']:.3f} "
                    f"after temperature scaling (T = {c['temperature']:.2f})"
                )
                if c.get("accuracy_certain") is not None and c.get("accuracy_uncertain") is not None:
                    lines.append(
                        f"  uncertain (probability < {c['uncertain_below']:g}): {c['uncertain_share']:.0%} of "
                        f"predictions, right {c['accuracy_uncertain']:.0%} of the time; the others "
                        f"{c['accuracy_certain']:.0%}"
                    )
            if "confusion" in task_report:
                lines.append("  per label true positives / false positives / false negatives: " + ", ".join(
                    f"{label} {c['tp']}/{c['fp']}/{c['fn']}" for label, c in task_report["confusion"].items()))
            if "confusion_matrix" in task_report:
                cm = task_report["confusion_matrix"]
                lines.append("  confusion matrix (rows true, columns predicted):")
                lines.append("  " + " " * 12 + "".join(f"{label[:9]:>10}" for label in cm["labels"]))
                for label, counts in zip(cm["labels"], cm["matrix"]):
                    lines.append(f"  {label[:12]:<12}" + "".join(f"{c:>10}" for c in counts))
        for note in task_report.get("not_learnable", []):
            lines.append(f"  note: {note['label']}: {note['note']}")
        lines.append("")
    return "\n".join(lines)


def _per_entity_scores(targets: list, predicted: list, entity_of: list[str], labels: list[str], task: Task) -> dict:
    """Macro-F1 and pair count per entity of a per-entity task."""
    return {
        entity_id: {
            "macro_f1": round(
                float(
                    f1_score(
                        [t for t, e in zip(targets, entity_of) if e == entity_id],
                        [p for p, e in zip(predicted, entity_of) if e == entity_id],
                        labels=labels,
                        average="macro",
                        zero_division=0,
                    )
                ),
                4,
            ),
            "n_examples": entity_of.count(entity_id),
        }
        for entity_id in task.entities
        if entity_id in entity_of
    }


def evaluate_models(classifier: Classifier, records: list[dict], scheme: Scheme) -> dict:
    """Score a loaded ``Classifier`` on labelled ``records`` (held-out data).

    Same report structure as ``cross_validate`` (``folds`` is None, ``evaluation``
    says "held-out"), so ``format_report`` prints it. The baseline is the majority
    class (most frequent topic) of the evaluated records themselves, an upper bound
    for any constant guess. Tasks without a model or without labelled records are
    left out.
    """
    if not records:
        raise TrainingError("no labelled articles to evaluate on")
    report = {}
    for name, task in scheme.tasks.items():
        bundle = classifier.bundles.get(name)
        if bundle is None:
            continue
        labelled = [r for r in records if r.get(name) is not None]
        if not labelled:
            continue
        rows, targets, entity_of = [], [], []
        analyse_records(labelled)
        for index, record in enumerate(labelled):
            doc = record_document(record)
            if task.kind == "per_entity":
                article = article_row(doc)
                found = {mention["entity_id"] for mention in doc["mentions"]}
                for entity_id, label in record[name].items():
                    row = tone_row(doc, entity_id, **(bundle.get("row") or {}), article=article,
                                   cues=bundle.get("cues"))
                    rows.append({**row, "article": article, "article_key": index, "found": entity_id in found})
                    targets.append(label)
                    entity_of.append(entity_id)
            else:
                rows.append(article_row(doc))
                targets.append(record[name])
        if task.kind == "multi_label":
            rows = with_team_cues(rows, bundle.get("cues"))
        probabilities = _probabilities(bundle, rows)
        labels = bundle["labels"]
        multi = task.kind == "multi_label"
        task_report = {
            "task": name,
            "kind": task.kind,
            "features": bundle["features"],
            "model_version": bundle["model_version"],
            "folds": None,
            "evaluation": "held-out",
            "n_examples": len(rows),
            "not_learnable": [],
        }
        if multi:
            predicted = [
                [label for label, _p in multi_label_choice(row, labels, bundle["thresholds"], bundle["exclusive"],
                                                           bundle.get("near_threshold", 1.0))]
                for row in probabilities
            ]
            eval_labels = [label for label in task.labels if label in labels or label == task.exclusive]
            truth = _multi_label_matrix(targets, eval_labels)
            scores = _scores(truth, _multi_label_matrix(predicted, eval_labels), eval_labels, True)
            most_common = Counter(label for labels_ in targets for label in labels_).most_common(1)[0][0]
            base = _scores(truth, _multi_label_matrix([[most_common]] * len(targets), eval_labels), eval_labels, True)
            strategy = "most frequent topic of the evaluated records"
        else:
            predicted = [labels[i] if row.get("found", True) else NOT_FOUND
                         for i, row in zip(single_label_choice(probabilities, labels, bundle.get("absent")), rows)]
            eval_labels = [label for label in task.labels if label in labels or label in targets]
            scores = _scores(np.array(targets), np.array(predicted), eval_labels, False)
            majority = Counter(targets).most_common(1)[0][0]
            base = _scores(np.array(targets), np.array([majority] * len(targets)), eval_labels, False)
            strategy = "majority class of the evaluated records"
            matrix = confusion_matrix(targets, predicted, labels=eval_labels)
            task_report["confusion_matrix"] = {"labels": eval_labels, "matrix": matrix.tolist()}
        task_report.update(scores)
        task_report["baseline"] = {"strategy": strategy, "macro_f1": base["macro_f1"], "micro_f1": base["micro_f1"]}
        if task.kind == "per_entity":
            task_report["per_entity"] = _per_entity_scores(targets, predicted, entity_of, eval_labels, task)
        report[name] = task_report
    return report


def _headline_score(task_report: dict, source: dict) -> str:
    """The target metric of a task: micro-F1 for multi-label, macro-F1 otherwise."""
    if "error" in task_report:
        return "n/a"
    return f"{source['micro_f1' if task_report['kind'] == 'multi_label' else 'macro_f1']:.3f}"


def format_comparison(reports: dict[str, dict], extra: dict[str, dict] | None = None) -> str:
    """Markdown table comparing feature sets side by side.

    ``reports`` maps a feature set to its ``cross_validate`` / ``evaluate_models``
    report; one column per task with its target metric (micro-F1 for multi-label
    tasks, macro-F1 otherwise), a first row with the majority baseline. ``extra``
    optionally adds columns per feature set (e.g. ``{"tfidf": {"train s": "8.8"}}``).
    """
    if not reports:
        return ""
    tasks = list(next(iter(reports.values())))
    first = next(iter(reports.values()))
    extra = extra or {}
    extra_columns = list(dict.fromkeys(column for values in extra.values() for column in values))
    names = [f"{task} {'micro' if first[task]['kind'] == 'multi_label' else 'macro'}-F1" for task in tasks]
    lines = [
        "| features | " + " | ".join(names + extra_columns) + " |",
        "| --- |" + " --- |" * (len(names) + len(extra_columns)),
        "| majority baseline | "
        + " | ".join(_headline_score(first[t], first[t].get("baseline", {})) for t in tasks)
        + " |" * (len(extra_columns) + 1),
    ]
    for features, report in reports.items():
        cells = [_headline_score(report[t], report[t]) for t in tasks]
        cells += [str(extra.get(features, {}).get(column, "")) for column in extra_columns]
        lines.append(f"| {features} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- training and persistence


def _library_versions() -> dict:
    return {
        "sklearn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _data_hash(records: list[dict], task: Task) -> str:
    digest = hashlib.sha256()
    for record in sorted(records, key=lambda r: r["id"]):
        if record.get(task.name) is None:
            continue
        item = [record["id"], record["title"], record["body"], record.get("entities"), record[task.name]]
        digest.update(json.dumps(item, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def train_models(
    records: list[dict],
    scheme: Scheme,
    out_dir: str | Path,
    *,
    features: str = DEFAULT_FEATURES,
    folds: int = 5,
    progress: Callable[[str], None] | None = None,
    slices: bool = True,
) -> list[dict]:
    """Cross-validate and train one model per scheme task; save ``<task>.skops`` + ``<task>.json``.

    Returns the model cards (``TrainedModels``: with ``skipped``, the tasks too few labels left
    untrained; ``TrainingError`` when no task could be trained). ``progress`` (optional) receives
    one-line status messages. ``slices``: also score each task leave-one-slice-out when the records span at least ``MIN_SLICES`` gathering
    slices (the card's ``leave_one_slice_out`` and ``metrics["unseen_slices"]``).
    """
    if not records:
        raise TrainingError("no labelled articles to train on: label stories with `cuttings label` (or "
                            "`cuttings label --import FILE`), or give a labelled corpus")
    _check_features(features)
    say = progress or (lambda message: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cards, skipped = [], {}
    with embeddings.caching(), one_thread():
        for name in scheme.tasks:
            # A team labelling its own scheme has topics long before it has enough stance labels: the
            # tasks that can be trained are, and each one that cannot says why (``TrainedModels.skipped``).
            try:
                cards.append(_train_task(records, scheme, name, out_dir, features, folds, say, slices))
            except TrainingError as error:
                message = str(error)
                why = message[len(f"{name}: "):] if message.startswith(f"{name}: ") else message
                skipped[name] = why
                say(f"{name}: not trained")
    if not cards:
        raise TrainingError("no model trained: " + "; ".join(f"{name}: {why}" for name, why in skipped.items()))
    return TrainedModels(cards, {name: f"{why}; {_keep_or_set_aside(out_dir, scheme.tasks[name])}"
                                 for name, why in skipped.items()}, _set_aside_other_tasks(out_dir, scheme))


SET_ASIDE_DIR = "set-aside"


def _keep_or_set_aside(models_dir: Path, task: Task) -> str:
    """What serves ``task`` when it could not be trained: the model already in ``models_dir`` if it still
    loads with this install and predicts the scheme's labels; else (``Classifier.load`` would refuse the
    whole folder, or it would give labels the scheme no longer has) it is moved, not deleted, to
    ``models_dir/set-aside/``. Returns the sentence saying which."""
    name = task.name
    card_path = models_dir / f"{name}.json"
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        version = card["model_version"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"there is no {name} model, so stories get no {name} until it is trained"
    trained_with, current = card.get("library_versions") or {}, _library_versions()
    stale = [f"{library} {trained_with.get(library)} ({current[library]} installed)" for library in ("sklearn", "skops")
             if trained_with.get(library) != current[library]]
    outside = [label for label in card.get("labels") or [] if label not in task.labels]
    other_kind = card.get("kind") not in (None, task.kind)
    if not stale and not outside and not other_kind:
        return f"its previous model ({version}) stays in use"
    aside = models_dir / SET_ASIDE_DIR
    aside.mkdir(exist_ok=True)
    for path in (card_path, models_dir / f"{name}.skops"):
        if path.exists():
            path.replace(aside / path.name)
    why = (f"was saved with {', '.join(stale)}, so no model would load beside it" if stale
           else f"predicts labels the scheme no longer has ({', '.join(outside)})" if outside
           else f"is a {card.get('kind')} model, the task now {task.kind}")
    return f"its previous model ({version}) {why}: moved to {aside}; stories get no {name} until it is trained"


def _set_aside_other_tasks(models_dir: Path, scheme: Scheme) -> dict[str, str]:
    """Move the models of tasks ``scheme`` does not have (another scheme's, or a task since removed) to
    ``models_dir/set-aside/``, not deleted: classify refuses a models folder holding them, since they
    would store another scheme's labels. Returns {task: the sentence saying so}."""
    moved = {}
    aside = models_dir / SET_ASIDE_DIR
    for card_path in sorted(models_dir.glob("*.json")):
        if card_path.stem in scheme.tasks:
            continue
        aside.mkdir(exist_ok=True)
        for path in (card_path, models_dir / f"{card_path.stem}.skops"):
            if path.exists():
                path.replace(aside / path.name)
        moved[card_path.stem] = f"the label scheme has no task {card_path.stem}: its model was moved to {aside}"
    return moved


class TrainedModels(list):
    """What ``train_models`` returns: the cards of the models trained and saved (a list), and
    ``skipped``: {task: why} for the scheme's tasks that could not be trained (too few labels);
    ``set_aside``: {task: why} for the models of tasks the scheme does not have, moved out of the way."""

    def __init__(self, cards: list[dict], skipped: dict[str, str], set_aside: dict[str, str] | None = None):
        super().__init__(cards)
        self.skipped = skipped
        self.set_aside = set_aside or {}


# Leave-one-slice-out needs at least this many gathering slices to say anything about unseen coverage.
MIN_SLICES = 3


def card_metrics(cross_validation: dict, held_out: dict | None, slices: list[str]) -> dict:
    """The model card's headline figures (``models.metrics_json``): the task's metric in ``folds``-fold
    CV and, when there are enough slices, on held-out slices (leave-one-slice-out: the nearest guide
    to unseen coverage, a little optimistic since the settings were chosen on these slices), each with
    its bootstrap 90% interval over articles, and the lowest and highest single slice; flat, for SQL's
    ``json_extract``."""
    if "error" in cross_validation:
        return {"error": cross_validation["error"]}
    metric = headline_metric(cross_validation)
    metrics = {"metric": metric, "cv": cross_validation[metric], "cv_folds": cross_validation["folds"],
               "cv_interval": (cross_validation.get("intervals") or {}).get(metric),
               "baseline": (cross_validation.get("baseline") or {}).get(metric)}
    if held_out is not None and "error" in held_out:
        metrics["unseen_slices_error"] = held_out["error"]
    elif held_out is not None:
        # The interval resamples articles; how far the slices themselves differ is the other uncertainty
        # a new outlet faces, so the lowest and highest slice go with it.
        by_slice = [entry["score"] for entry in (held_out.get("per_slice") or {}).values()]
        metrics.update(unseen_slices=held_out[metric], unseen_slices_interval=(held_out.get("intervals") or {}).get(metric),
                       unseen_slices_range=[min(by_slice), max(by_slice)] if by_slice else None, slices=slices)
    return metrics


def held_out_report(records: list[dict], task: Task, features: str, folds: int, stacked: tuple[Task, ...] = (),
                    say: Callable[[str], None] | None = None) -> tuple[dict | None, list[str]]:
    """(leave-one-slice-out report of ``task`` without its per-article predictions, slice names): the
    nearest figure to unseen coverage, for the model card (CV flatters: docs/classifiers.md). None
    when the labelled records come from fewer than ``MIN_SLICES`` gathering slices (id prefixes);
    ``{"error": ...}`` when a split cannot be trained (a held-out slice taking a label's every
    example): the figure is given up, never the training."""
    names = sorted({slice_of(record["id"]) for record in records if record.get(task.name) is not None})
    if len(names) < MIN_SLICES:
        return None, names
    if say is not None:
        say(f"{task.name}: leave-one-slice-out ({len(names)} slices)")
    try:
        report = _cross_validate_task(records, task, features, folds, seed=0, stacked=stacked, split="slices")
    except TrainingError as error:
        return {"error": str(error)}, names
    report.pop("predictions", None)
    return report, names


def _train_task(
    records: list[dict], scheme: Scheme, name: str, out_dir: Path, features: str, folds: int, say: Callable[[str], None],
    slices: bool = True,
) -> dict:
    """Cross-validate, fit and save the model of one task; return its card."""
    task = scheme.tasks[name]
    started = time.perf_counter()
    stacked = _stacked_tasks(scheme, task)
    rows, targets, _ = _task_examples(records, task, stacked)
    if not rows:
        raise TrainingError(f"{name}: no labelled articles to train on: label stories with `cuttings label`")
    # the counts of all the labels, not of one cross-validation fold's
    if task.kind == "multi_label":
        matrix = _multi_label_matrix(targets, [label for label in task.labels if label != task.exclusive])
        positives = matrix.sum(axis=0)
        if not ((positives >= folds) & (len(targets) - positives >= folds)).any():
            raise _too_few_examples(task, targets, folds)
    elif len(_learnable(task, targets, folds)[0]) < 2:
        raise _too_few_examples(task, targets, folds)
    say(f"{name}: cross-validating ({folds} folds)")
    report = _cross_validate_task(records, task, features, folds, seed=0, stacked=stacked)
    report.pop("predictions", None)  # per-article rows: for analysis, not for the card
    held_out, slice_names = (held_out_report(records, task, features, folds, stacked, say) if slices
                             else (None, []))
    learnable, _ = _learnable(task, targets, folds)
    say(f"{name}: training on {len(rows)} examples")
    model = _TaskModel(task, features, stacked).fit(rows, targets, learnable)
    if "calibration" in report:
        model.temperature = report["calibration"]["temperature"]
    data_hash = _data_hash(records, task)
    # the documents trained on are the analyser's reading of the records (``analyse_records``)
    analyser_versions = sorted({record["analysis"]["version"] for record in records
                                if record.get(task.name) is not None and record.get("analysis")})
    created = datetime.now(timezone.utc).replace(microsecond=0)
    fingerprint = hashlib.sha256(
        json.dumps([data_hash, PARAMS[task.kind], features, folds, list(task.labels), analyser_versions]
                   + ([_cues_of(task)] if task.cues else []), sort_keys=True).encode()
    ).hexdigest()[:8]
    model_version = f"{name}-{created:%Y%m%d%H%M%S}-{fingerprint}"
    card = {
        "task": name,
        "kind": task.kind,
        "model_version": model_version,
        "labels": model.labels,
        "training_data_hash": data_hash,
        "analyser_versions": analyser_versions,
        "n_examples": len(rows),
        "metrics": card_metrics(report, held_out, slice_names),
        "cross_validation": report,
        "leave_one_slice_out": held_out,
        "library_versions": _library_versions(),
        "features": features,
        "params": PARAMS[task.kind],
        "scheme": {"path": scheme.path, "version": scheme.version, "target": task.target},
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "train_seconds": round(time.perf_counter() - started, 2),
    }
    skops.io.dump(model.bundle(model_version), out_dir / f"{name}.skops")
    (out_dir / f"{name}.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    say(f"{name}: saved {model_version}")
    return card


# ---------------------------------------------------------------- prediction


def _pipelines(bundle: dict) -> list[Pipeline]:
    """A model bundle's pipeline and those of its stacked models."""
    return [bundle["pipeline"], *(stacked["pipeline"] for stacked in (bundle.get("stacked") or {}).values())]


def _prediction(label: str, probability: float, uncertain_below: float) -> dict:
    probability = float(min(1.0, max(0.0, probability)))
    return {"label": label, "probability": round(probability, 4), "uncertain": probability < uncertain_below}


class Classifier:
    """The trained models of a models directory, ready to predict."""

    def __init__(self, bundles: dict[str, dict], cards: dict[str, dict]):
        self.bundles = bundles
        self.cards = cards
        self.versions: dict[str, str] = {task: card["model_version"] for task, card in cards.items()}

    @classmethod
    def load(cls, models_dir: str | Path, *, shared: bool = True) -> "Classifier":
        """Load every ``<task>.json`` card and its ``<task>.skops`` model; ``ModelLoadError`` if unusable.

        ``shared`` (default): the pipelines' TF-IDF vectorisers analyse each text once per
        ``predict_many`` call (``share_analysis``); the predictions are the same either way."""
        models_dir = Path(models_dir)
        bundles, cards = {}, {}
        for card_path, card in model_cards(models_dir, _library_versions(), ModelLoadError):
            task, model_version = card["task"], card["model_version"]
            model_path = models_dir / f"{card_path.stem}.skops"
            try:
                bundle = skops.io.load(model_path, trusted=TRUSTED_TYPES)
            except Exception as error:  # skops raises many types for corrupted or foreign files
                raise ModelLoadError(
                    f"cannot load model {model_path}: {type(error).__name__}: {error}; {RETRAIN_HINT}"
                ) from error
            if (
                not isinstance(bundle, dict)
                or bundle.get("model_version") != model_version
                or bundle.get("features") != card.get("features")
                or not isinstance(bundle.get("pipeline"), Pipeline)
            ):
                raise ModelLoadError(f"model {model_path} does not match its card {card_path}; {RETRAIN_HINT}")
            try:
                _check_features(bundle["features"])
            except (ValueError, embeddings.EmbeddingUnavailable) as error:
                raise ModelLoadError(f"model {model_path} needs features {bundle['features']!r}: {error}") from error
            bundles[task] = bundle
            cards[task] = card
        if shared:
            share_analysis([pipeline for bundle in bundles.values() for pipeline in _pipelines(bundle)])
        return cls(bundles, cards)

    def predict(self, doc: dict) -> dict:
        """Predictions for one document (see ``predict_many``)."""
        return self.predict_many([doc])[0]

    def predict_many(self, docs: list[dict]) -> list[dict]:
        """Predict every task for each ``{title, body, mentions, quotes}`` document.

        Multi-label tasks give a list of ``{label, probability, uncertain}`` (the
        exclusive label, with probability 1 - the best other label's, when none
        passes); single-label tasks one such dict; per-entity tasks a dict
        ``{entity_id: {...}}`` for the task's entities present in ``mentions``.
        """
        results: list[dict] = [{} for _ in docs]
        if not docs:
            return results
        # Topics, stance and tone embed the same paragraphs and vectorise the same texts: encode and
        # analyse each once per call.
        with embeddings.caching(), sharing_analysis():
            self._predict_tasks(docs, results)
        return results

    def _predict_tasks(self, docs: list[dict], results: list[dict]) -> None:
        article_rows = None
        for task, bundle in self.bundles.items():
            labels, floor = bundle["labels"], bundle["uncertain_below"]
            if bundle["kind"] == "per_entity":
                pairs = [
                    (index, entity_id)
                    for index, doc in enumerate(docs)
                    for entity_id in dict.fromkeys(m.get("entity_id") for m in doc.get("mentions") or [])
                    if entity_id in bundle["entities"]
                ]
                for result in results:
                    result.setdefault(task, {})
                if not pairs:
                    continue
                row_options = bundle.get("row") or {}
                if article_rows is None:
                    article_rows = [article_row(doc) for doc in docs]
                rows = [
                    {**tone_row(docs[i], e, **row_options, article=article_rows[i], cues=bundle.get("cues")),
                     "article": article_rows[i], "article_key": i}
                    for i, e in pairs
                ]
                probabilities = _probabilities(bundle, rows)
                for (index, entity_id), row in zip(pairs, probabilities):
                    best = int(row.argmax())
                    results[index][task][entity_id] = _prediction(labels[best], row[best], floor)
                continue
            if article_rows is None:
                article_rows = [article_row(doc) for doc in docs]
            probabilities = _probabilities(bundle, with_team_cues(article_rows, bundle.get("cues")))
            choices = single_label_choice(probabilities, labels, bundle.get("absent"))
            for result, row, best in zip(results, probabilities, choices):
                if bundle["kind"] == "single_label":
                    result[task] = _prediction(labels[best], row[best], floor)
                    continue
                chosen = [_prediction(label, p, floor) for label, p in multi_label_choice(
                    row, labels, bundle["thresholds"], bundle["exclusive"], bundle.get("near_threshold", 1.0))]
                result[task] = sorted(chosen, key=lambda p: -p["probability"])
