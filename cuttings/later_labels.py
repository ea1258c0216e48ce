"""The models against people, on stories they never trained on: `cuttings evaluate predictions`
(docs/classifiers.md, "How the models do on your coverage").

Each stored prediction (``classifications``, with the version of the model that made it) is compared with the
human label that stands for its question (``cuttings.labelling.human_labels``: the newest, not withdrawn), on a
story the model could not have learnt from:

* the story's first label (of any task of the scheme, by anyone, withdrawn or not: ``store.first_label_times``)
  was given after the model was trained (its ``models.created_at``, the card's time, written after the labels
  were read; a version not recorded: the time in its name, ``task-YYYYmmddHHMMSS-hash``). `cuttings train`
  learns from every story of the database whose topics and stance are labelled then; a story labelled before
  is left out whether or not it was, and so is a label moved from another database with a time from before;
* the story is no story of the labelled corpus the models were trained on besides the database's labels
  (``--corpus``, the default `cuttings train` reads: corpus/ in the home folder, else the shipped seed
  corpus): a stored story is that corpus record when its body is a near copy of the record's by the crawler's
  own test of one story (``crawler.dedupe.copy_similarity``: a 5-shingle MinHash estimate of 0.5 or more, or
  content words' Jaccard of 0.6 or more; distinct corpus stories score at most 0.17 and 0.38), or their
  headlines are the same (five words or more). The demo's stories are the seed corpus's: none of them counts.

Per task: the questions compared (a single-label task: one per story; per-entity: per story and body both the
model and a person rated; multi-label: one per story, its set of topics), accuracy (multi-label: the exact
set), macro-F1 and micro-F1 over the labels the people or the models gave, each label's precision and recall,
a bootstrap 90% interval of the headline figure over stories (``nlp.classify.bootstrap_intervals``) from
``MIN_INTERVAL_QUESTIONS`` questions, beside each model's card figures (what ``model_quality`` shows)."""
from __future__ import annotations

import re

from cuttings import labelling, store

MIN_INTERVAL_QUESTIONS = 20
MIN_TITLE_WORDS = 5
_VERSION_TIME = re.compile(r"-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-[0-9a-f]+$")


def trained_at(version: str, models: dict[str, dict]) -> str | None:
    """When the model ``version`` was trained: its ``models`` row's time, else the time in its name; None if
    neither says."""
    if version in models and models[version]["created_at"]:
        return models[version]["created_at"]
    match = _VERSION_TIME.search(version)
    return "{}-{}-{}T{}:{}:{}Z".format(*match.groups()) if match else None


def _words(text: str | None) -> str:
    return " ".join(re.findall(r"\w+", (text or "").lower()))


class CorpusMatcher:
    """Whether a stored story is a record of a labelled corpus: a near copy of a record's body, by the
    crawler's test of one story, or the same headline of ``MIN_TITLE_WORDS`` words or more."""

    def __init__(self, records: list[dict]):
        from crawler.dedupe import NEAR_DUPLICATE_THRESHOLD, NUM_PERM, content_words, fingerprint
        from datasketch import MinHashLSH
        self.ids = [record.get("id") for record in records]
        self.hashes = [fingerprint(record.get("body") or "") for record in records]
        self.words = [content_words(record.get("body")) for record in records]
        self.lsh = MinHashLSH(threshold=max(0.1, NEAR_DUPLICATE_THRESHOLD - 0.15), num_perm=NUM_PERM)
        for index, minhash in enumerate(self.hashes):
            self.lsh.insert(str(index), minhash)
        self.titles: dict[str, str] = {}
        for record in records:
            title = _words(record.get("title"))
            if len(title.split()) >= MIN_TITLE_WORDS:
                self.titles.setdefault(title, record.get("id"))

    def match(self, title: str | None, body: str | None) -> str | None:
        """The id of the corpus record the story is, or None: ``copy_similarity``'s two tests (the shingles'
        MinHash on the LSH's candidates, then content words against every record, as a rewording breaks the
        shingles), with each record's content words worked out once."""
        from crawler.dedupe import (NEAR_DUPLICATE_THRESHOLD, REWORDING_MIN_WORDS, REWORDING_THRESHOLD, content_words,
                                    fingerprint, word_similarity)
        if not self.ids:
            return None
        title_words = _words(title)
        if title_words in self.titles:
            return self.titles[title_words]
        minhash = fingerprint(body or "")
        for index in sorted(int(key) for key in self.lsh.query(minhash)):
            if minhash.jaccard(self.hashes[index]) >= NEAR_DUPLICATE_THRESHOLD:
                return self.ids[index]
        words = content_words(body)
        if len(words) < REWORDING_MIN_WORDS:
            return None
        for index, record_words in enumerate(self.words):
            if len(record_words) >= REWORDING_MIN_WORDS and word_similarity(words, record_words) >= REWORDING_THRESHOLD:
                return self.ids[index]
        return None


def _figures(task, truth: list, predicted: list, stories: list[int]) -> dict:
    """Accuracy, macro- and micro-F1 and each label's precision and recall of ``predicted`` against ``truth``
    (label strings; multi-label: label lists), with the headline's bootstrap interval over ``stories``."""
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    from nlp.classify import bootstrap_intervals
    multi = task.kind == "multi_label"
    given = {label for value in truth + predicted for label in (value if multi else [value])}
    labels = [label for label in task.labels if label in given]
    if multi:
        t = np.array([[label in value for label in labels] for value in truth], dtype=int)
        p = np.array([[label in value for label in labels] for value in predicted], dtype=int)
        accuracy = float(np.mean([set(a) == set(b) for a, b in zip(truth, predicted)]))
        precision, recall, _f1, support = precision_recall_fscore_support(t, p, zero_division=0)
        macro = f1_score(t, p, average="macro", zero_division=0)
        micro = f1_score(t, p, average="micro", zero_division=0)
    else:
        t, p = np.array(truth), np.array(predicted)
        accuracy = float(accuracy_score(t, p))
        precision, recall, _f1, support = precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
        macro = f1_score(t, p, labels=labels, average="macro", zero_division=0)
        micro = f1_score(t, p, labels=labels, average="micro", zero_division=0)
    intervals = None
    if len(truth) >= MIN_INTERVAL_QUESTIONS:
        intervals = bootstrap_intervals(t, p, [str(s) for s in stories], labels, multi)
    predicted_counts = (p.sum(axis=0) if multi else [int((p == label).sum()) for label in labels])
    return {
        "questions": len(truth), "stories": len(set(stories)), "accuracy": round(accuracy, 4),
        "macro_f1": round(float(macro), 4), "micro_f1": round(float(micro), 4),
        "macro_f1_interval": intervals["macro_f1"] if intervals else None,
        "micro_f1_interval": intervals["micro_f1"] if intervals else None,
        "per_label": {label: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
                              "labelled": int(support[i]), "predicted": int(predicted_counts[i])}
                      for i, label in enumerate(labels)},
    }


def card_figures(version: str, models: dict[str, dict]) -> dict:
    """A model's card figures as ``model_quality`` reads them (None for a model not recorded)."""
    metrics = (models.get(version) or {}).get("metrics") or {}
    return {"version": version, "trained_at": trained_at(version, models), "recorded": version in models,
            "metric": metrics.get("metric"), "cross_validated": metrics.get("cv"),
            "on_held_out_slices": metrics.get("unseen_slices"),
            "held_out_90pct_interval": metrics.get("unseen_slices_interval"), "baseline": metrics.get("baseline")}


def models_against_people(db, tasks: dict, corpus_records: list[dict], wanted=None) -> dict[str, dict]:
    """``{task: figures}`` for each task of ``tasks`` (``wanted``: those alone), see the module's docstring;
    each with ``left_out`` (how many questions with a prediction and a person's label were not counted, and
    why), ``models`` (the card figures of the models whose predictions were counted) and, when any question
    was counted, the figures of :func:`_figures`."""
    names = [name for name in tasks if wanted is None or name in set(wanted)]
    models = store.recorded_models(db)
    human = labelling.human_labels(db, {name: tasks[name] for name in names})
    first = store.first_label_times(db, list(tasks))
    predicted: dict[tuple[int, str], dict] = {}   # (article, task) -> {"version": v, target: label or [labels]}
    for article_id, task_name, target, label, version in store.stored_predictions(db, names):
        if article_id not in human or task_name not in human[article_id]:
            continue
        entry = predicted.setdefault((article_id, task_name), {"versions": set(), "labels": {}})
        entry["versions"].add(version)
        if tasks[task_name].kind == "multi_label":
            entry["labels"].setdefault("", []).append(label)
        else:
            entry["labels"][target] = label
    texts = store.articles_text(db, sorted({article_id for article_id, _task in predicted}))
    matcher = CorpusMatcher(corpus_records) if corpus_records else None
    corpus_of: dict[int, str | None] = {}
    result = {}
    for name in names:
        task = tasks[name]
        truth, guesses, stories, versions = [], [], [], set()
        left_out = {"labelled_before_training": 0, "corpus_story": 0, "model_time_unknown": 0}
        for (article_id, task_name), entry in sorted(predicted.items()):
            if task_name != name:
                continue
            value = human[article_id][name]
            pairs = ([(value, entry["labels"].get("", []))] if task.kind == "multi_label" else
                     [(value[target], entry["labels"][target]) for target in sorted(value) if target in entry["labels"]]
                     if task.kind == "per_entity" else
                     [(value, entry["labels"][""])] if "" in entry["labels"] else [])
            if not pairs:
                continue
            times = [trained_at(version, models) for version in entry["versions"]]
            if any(time is None for time in times):
                left_out["model_time_unknown"] += len(pairs)
                continue
            if first.get(article_id, "") <= max(times):
                left_out["labelled_before_training"] += len(pairs)
                continue
            if matcher is not None and article_id not in corpus_of:
                text = texts.get(article_id) or {}
                corpus_of[article_id] = matcher.match(text.get("title"), text.get("body"))
            if corpus_of.get(article_id):
                left_out["corpus_story"] += len(pairs)
                continue
            for human_label, model_label in pairs:
                truth.append(human_label)
                guesses.append(model_label)
                stories.append(article_id)
            versions |= entry["versions"]
        result[name] = {"kind": task.kind, "left_out": left_out, "models": [card_figures(v, models) for v in sorted(versions)],
                        **(_figures(task, truth, guesses, stories) if truth else {"questions": 0})}
    return result


def format_against_people(result: dict[str, dict], where: str, corpus: str) -> str:
    """The text of :func:`models_against_people` (``where``: the database; ``corpus``: the corpus left out)."""
    lines = [f"The stored predictions against the labels people gave in {where}, on stories no model "
             f"trained on (first labelled after the model was trained; "
             + (f"not a story of the corpus {corpus})" if corpus else "no corpus left out: --corpus none)")]
    for task, figures in result.items():
        left = figures["left_out"]
        why = [f"{left['labelled_before_training']} questions on stories labelled before their model was trained",
               f"{left['corpus_story']} on stories of the corpus"]
        if left["model_time_unknown"]:
            why.append(f"{left['model_time_unknown']} by a model whose training time is unknown")
        lines.append("")
        if not figures["questions"]:
            lines.append(f"{task}: no question to count (left out: {'; '.join(why)})")
            continue
        multi = figures["kind"] == "multi_label"   # the headline, as the cards': micro-F1 for topics
        interval = figures["micro_f1_interval" if multi else "macro_f1_interval"]
        shown = " (90% {:.3f}-{:.3f})".format(*interval) if interval else \
            f" (no interval: fewer than {MIN_INTERVAL_QUESTIONS} questions)"
        macro, micro = f"macro-F1 {figures['macro_f1']:.3f}", f"micro-F1 {figures['micro_f1']:.3f}"
        lines.append(f"{task}: {figures['questions']} questions on {figures['stories']} stories; accuracy "
                     f"{figures['accuracy']:.3f}{' (the exact set)' if multi else ''}, "
                     + (f"{micro}{shown}, {macro}" if multi else f"{macro}{shown}, {micro}"))
        lines.append(f"  left out: {'; '.join(why)}")
        for card in figures["models"]:
            metric = (card["metric"] or "").replace("_f1", "-F1")
            if card["metric"] is None:
                lines.append(f"  model {card['version']}: no card figures"
                             + ("" if card["recorded"] else " (not in the models table)"))
                continue
            held = card["on_held_out_slices"]
            lines.append(f"  model {card['version']}: card {metric} {card['cross_validated']:.3f} in "
                         "cross-validation" + (f", {held:.3f} on held-out slices" if held is not None else "")
                         + (f" (baseline {card['baseline']:.3f})" if card["baseline"] is not None else ""))
        lines.append(f"  {'label':<16} {'precision':>9} {'recall':>7} {'labelled':>8} {'predicted':>9}")
        for label, row in figures["per_label"].items():
            lines.append(f"  {label:<16} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['labelled']:>8} "
                         f"{row['predicted']:>9}")
    return "\n".join(lines)
