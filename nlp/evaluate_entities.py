"""Evaluate the Analyser against the labelled corpus: entity mentions and quote attribution.

``python -m nlp.evaluate_entities`` prints the per-entity table and the quote figures.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from nlp import packaged_data
from nlp.entities import Analyser
from nlp.quotes import SpeakerMemory

DEFAULT_CORPUS_DIR = packaged_data("corpus")
DEFAULT_GOLD_QUOTES = packaged_data("gold_quotes.jsonl")


def load_corpus(corpus_dir: str | Path = DEFAULT_CORPUS_DIR) -> list[tuple[dict, str]]:
    """``(label record, article text)`` pairs from ``labels.jsonl`` and ``articles/ID.txt``."""
    corpus_dir = Path(corpus_dir)
    records = []
    with open(corpus_dir / "labels.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                text = (corpus_dir / "articles" / f"{record['id']}.txt").read_text(encoding="utf-8")
                records.append((record, text))
    return records


def article_text(raw: str) -> str:
    """The text the lead passes to the Analyser: headline, blank line, body."""
    headline, _, body = raw.partition("\n")
    return headline.strip() + "\n\n" + body.strip()


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def evaluate_entities(corpus_dir: str | Path = DEFAULT_CORPUS_DIR, analyser: Analyser | None = None) -> dict:
    """Article-level precision/recall per entity and surface-form recall, over the corpus."""
    analyser = analyser or Analyser()
    corpus = load_corpus(corpus_dir)
    results = analyser.pipe((article_text(text), record.get("date")) for record, text in corpus)
    counts: dict[str, dict[str, int]] = {
        entity_id: {"tp": 0, "fp": 0, "fn": 0, "forms": 0, "forms_found": 0} for entity_id in analyser.watchlist.ids}
    errors = []
    for (record, _text), result in zip(corpus, results):
        predicted = {mention["entity_id"] for mention in result["mentions"]}
        gold = record["entities"]
        for entity_id, row in counts.items():
            if entity_id in predicted and entity_id in gold:
                row["tp"] += 1
            elif entity_id in predicted:
                row["fp"] += 1
                errors.append((record["id"], entity_id, "false positive"))
            elif entity_id in gold:
                row["fn"] += 1
                errors.append((record["id"], entity_id, "missed"))
            found = {re.sub(r"\s+", " ", mention["surface"]).lower()
                     for mention in result["mentions"] if mention["entity_id"] == entity_id}
            for form in gold.get(entity_id, []):
                row["forms"] += 1
                lowered = form.lower()
                row["forms_found"] += any(lowered in surface or surface in lowered for surface in found)
    per_entity = {}
    for entity_id, row in counts.items():
        per_entity[entity_id] = {
            "precision": _ratio(row["tp"], row["tp"] + row["fp"]),
            "recall": _ratio(row["tp"], row["tp"] + row["fn"]),
            "support": row["tp"] + row["fn"],
            "surface_recall": _ratio(row["forms_found"], row["forms"]),
        }
    return {"articles": len(corpus), "per_entity": per_entity, "errors": errors}


def format_table(result: dict) -> str:
    """A plain-text table of ``evaluate_entities`` output."""
    lines = [f"{'entity':28} {'precision':>9} {'recall':>7} {'support':>7} {'surface_recall':>14}"]
    for entity_id, row in result["per_entity"].items():
        lines.append(f"{entity_id:28} {row['precision']:9.3f} {row['recall']:7.3f} {row['support']:7d} "
                     f"{row['surface_recall']:14.3f}")
    lines.append(f"({result['articles']} articles)")
    return "\n".join(lines)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _same_speaker(gold: str, predicted: str | None) -> bool:
    """Speakers agree when their last words (surname, or "spokesperson") agree."""
    if not predicted:
        return False
    gold_words = re.findall(r"[\w'-]+", gold.lower())
    predicted_words = re.findall(r"[\w'-]+", predicted.lower())
    return bool(gold_words and predicted_words and gold_words[-1] == predicted_words[-1])


def evaluate_quotes(gold_path: str | Path = DEFAULT_GOLD_QUOTES, corpus_dir: str | Path = DEFAULT_CORPUS_DIR,
                    analyser: Analyser | None = None, known_speakers: bool = False) -> dict:
    """Quote recall (gold quote text found inside a predicted quote), speaker accuracy (share of the
    found quotes whose speaker matches) and entity accuracy (share whose entity_id matches).

    With ``known_speakers`` the analyser first learns who speaks for whom from the whole corpus
    (``SpeakerMemory``), as the analyse stage does from the database."""
    analyser = analyser or Analyser()
    corpus = {record["id"]: (record, text) for record, text in load_corpus(corpus_dir)}
    memory = None
    if known_speakers:
        # As the analyse stage does over a database holding the corpus: who speaks for whom is
        # learnt from the links the articles state (predicted, never the gold file), then applied.
        memory = SpeakerMemory()
        for record, text in corpus.values():
            memory.learn(analyser.analyse(article_text(text), record.get("date"))["quotes"])
    return _score_quotes(gold_path, corpus, analyser, memory) | {"known_speakers": known_speakers}


def _score_quotes(gold_path: str | Path, corpus: dict, analyser: Analyser, memory: SpeakerMemory | None) -> dict:
    with open(gold_path, encoding="utf-8") as handle:
        gold = [json.loads(line) for line in handle if line.strip()]
    predictions: dict[str, list[dict]] = {}
    found = speaker_ok = entity_ok = 0
    misses = []
    for item in gold:
        article_id = item["article_id"]
        if article_id not in predictions:
            record, text = corpus[article_id]
            predictions[article_id] = analyser.analyse(article_text(text), record.get("date"))["quotes"]
            if memory is not None:
                memory.link(predictions[article_id])
        wanted = _normalise(item["text"])
        match = next((quote for quote in predictions[article_id] if wanted in _normalise(quote["text"])), None)
        if match is None:
            misses.append((article_id, item["text"], "not found"))
            continue
        found += 1
        if _same_speaker(item["speaker"], match["speaker"]):
            speaker_ok += 1
        else:
            misses.append((article_id, item["text"], f"speaker {match['speaker']!r} != {item['speaker']!r}"))
        if match["entity_id"] == item.get("entity_id"):
            entity_ok += 1
        else:
            misses.append((article_id, item["text"],
                           f"entity {match['entity_id']!r} != {item.get('entity_id')!r} (speaker {match['speaker']!r})"))
    return {
        "gold_quotes": len(gold),
        "recall": _ratio(found, len(gold)),
        "speaker_accuracy": _ratio(speaker_ok, found),
        "entity_accuracy": _ratio(entity_ok, found),
        "errors": misses,
    }


def format_quotes(result: dict) -> str:
    """One line of quote-extraction figures, then the misses."""
    how = " (with known speakers)" if result.get("known_speakers") else ""
    lines = [f"quotes{how}: {result['gold_quotes']} gold, recall {result['recall']:.3f}, "
             f"speaker accuracy {result['speaker_accuracy']:.3f}, entity accuracy {result['entity_accuracy']:.3f}"]
    lines += ["   " + " ".join(str(part) for part in error) for error in result["errors"]]
    return "\n".join(lines)


if __name__ == "__main__":
    entity_result = evaluate_entities()
    print(format_table(entity_result))
    for error in entity_result["errors"]:
        print("  ", *error)
    print(format_quotes(evaluate_quotes()))
