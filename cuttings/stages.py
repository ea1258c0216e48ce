"""The analyse and classify stages: read articles from the store, write results back.

Each stage stamps its version on every article it processes (``processing`` table);
an article is processed again only when the stage's version or the article's text
changes, so re-running changes nothing and a new watchlist or model re-processes
only what it must. Articles are written in batches, one transaction each: a crash loses
at most the batch in hand and re-running finishes the rest.
"""
from __future__ import annotations

import itertools
import logging
from pathlib import Path

from cuttings import store

BATCH_SIZE = 64  # articles per transaction: a crash redoes at most one batch
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


def analyse_stage(db, analyser, *, advance=None, limit: int | None = None) -> dict:
    """Write mentions and quotes for every article not yet analysed by ``analyser.version``.

    Then quotes by a person whose article does not say whom they speak for are linked to the
    entity other articles state (``store.link_known_speakers``; ``quotes.entity_method =
    'known_speaker'``), over the whole store, so the result does not depend on article order.
    """

    store.sync_entities(db, analyser.watchlist)
    articles = list(store.articles_to_process(db, "analyse", analyser.version, limit=limit))
    counts = {"articles": 0, "mentions": 0, "quotes": 0, "truncated": 0}

    def text_of(article: dict) -> str:
        text, cut = fit_text(store.document_text(article["title"], article["body"]))
        if cut:
            counts["truncated"] += 1
            log.warning("article %d is %d characters long: analysed its first %d only", article["id"],
                        len(article["body"] or ""), len(text))
        return text

    texts = ((text_of(a), a["published_at"]) for a in articles)
    ner = getattr(analyser, "ner", None)
    results = zip(articles, analyser.pipe(texts))
    while True:
        batch = list(itertools.islice(results, BATCH_SIZE))
        if not batch:
            counts["quotes_linked"] = store.link_known_speakers(db)
            return counts
        with db.atomic():  # one transaction per batch; each article's rows replace its old ones
            for article, result in batch:
                named = ner.find(fit_text(store.document_text(article["title"], article["body"]))[0]) if ner else None
                store.replace_analysis(db, article, analyser.version, result["mentions"], result["quotes"], named)
                counts["articles"] += 1
                counts["mentions"] += len(result["mentions"])
                counts["quotes"] += len(result["quotes"])
        if advance:
            advance(len(batch))


def classification_rows(prediction: dict, versions: dict[str, str]) -> list[dict]:
    """Flatten a Classifier prediction into ``classifications`` rows."""
    rows = []
    for topic in prediction.get("topics", []):
        rows.append({"task": "topics", "target": "", "label": topic["label"], "probability": topic["probability"],
                     "uncertain": topic.get("uncertain", False), "model_version": versions["topics"]})
    for task, value in prediction.items():
        if task in ("topics", "tone") or not isinstance(value, dict) or "label" not in value:
            continue
        rows.append({"task": task, "target": "", "label": value["label"], "probability": value["probability"],
                     "uncertain": value.get("uncertain", False), "model_version": versions[task]})
    for entity_id, value in prediction.get("tone", {}).items():
        rows.append({"task": "tone", "target": entity_id, "label": value["label"],
                     "probability": value["probability"], "uncertain": value.get("uncertain", False),
                     "model_version": versions["tone"]})
    return rows


def classifier_version(classifier) -> str:
    return "+".join(f"{task}={version}" for task, version in sorted(classifier.versions.items()))


def classify_stage(db, classifier, *, analyser_version: str | None = None, advance=None,
                   limit: int | None = None) -> dict:
    """Classify every article not yet classified by the current models.

    The stage version combines the model versions and the analyser version, because
    tone reads the sentences that mention each entity; for the same reason only articles
    already analysed by that analyser version are classified.
    """
    version = classifier_version(classifier) + (f"|analyse={analyser_version}" if analyser_version else "")
    requires = ("analyse", analyser_version) if analyser_version else None
    articles = list(store.articles_to_process(db, "classify", version, limit=limit, requires=requires))
    counts = {"articles": 0, "classifications": 0}
    for start in range(0, len(articles), BATCH_SIZE):
        chunk = articles[start:start + BATCH_SIZE]
        analyses = store.analyses_of(db, [a["id"] for a in chunk])
        docs = [{"title": a["title"], "body": a["body"], **analyses[a["id"]]} for a in chunk]
        predictions = classifier.predict_many(docs)
        with db.atomic():  # one transaction per batch
            for article, prediction in zip(chunk, predictions):
                rows = classification_rows(prediction, classifier.versions)
                store.replace_classifications(db, article, version, rows)
                counts["articles"] += 1
                counts["classifications"] += len(rows)
        if advance:
            advance(len(chunk))
    return counts


def models_dir(path: str | Path | None = None) -> Path:
    """The models directory: the given path, else $CUTTINGS_MODELS, else ``models/`` in the home folder."""
    from cuttings import paths
    return Path(path) if path else paths.models_dir()
