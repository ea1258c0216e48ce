"""Evaluate the Analyser against the labelled corpus: entity mentions and quote attribution.

Scores are per slice (the id prefix: ``t1``, ``t2``, ``t3``, ``gov``, ``hw``, ``sh``, ``neg``) and over
groups of slices, so that figures on slices the rules were not written against are read apart.
Quotes are scored against the corpus's own ``quotes`` labels (speaker, body, first words of the
quotation) on the articles that carry them.

``python -m nlp.evaluate_entities`` prints the tables.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from nlp import packaged_data
from nlp.entities import Analyser, document_text
from nlp.quotes import KNOWN_SPEAKER, SpeakerMemory

DEFAULT_CORPUS_DIR = packaged_data("corpus")
#: Slices added with corpus version 2: the unseen-coverage figure is read on them.
NEW_SLICES = ("gov", "hw", "sh", "neg")
#: Slices kept out of rule development: checked only as held-out.
HELD_OUT_SLICES = ("sh", "neg")
DEVELOPMENT_SLICES = ("gov", "hw")


def load_corpus(corpus_dir: str | Path = DEFAULT_CORPUS_DIR) -> list[tuple[dict, str]]:
    """``(label record, article text)`` pairs from ``labels.jsonl`` and ``articles/ID.txt``, or from
    a JSONL file of records with ``title`` and ``body`` inline (``cuttings label --export``)."""
    corpus_dir = Path(corpus_dir)
    records = []
    if corpus_dir.is_file():
        with open(corpus_dir, encoding="utf-8-sig") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    if "body" not in record:   # a labels file beside its articles/ folder
                        text = (corpus_dir.parent / "articles" / f"{record['id']}.txt").read_text(encoding="utf-8")
                    else:
                        text = f"{record.get('title') or ''}\n{record.get('body') or ''}"
                    records.append((record, text))
        return records
    with open(corpus_dir / "labels.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                text = (corpus_dir / "articles" / f"{record['id']}.txt").read_text(encoding="utf-8")
                records.append((record, text))
    return records


def slice_of(article_id: str) -> str:
    """The corpus slice of an article: its id prefix (``hw-012`` -> ``hw``)."""
    return article_id.split("-", 1)[0]


def article_text(raw: str) -> str:
    """The text the lead passes to the Analyser: headline, blank line, body."""
    headline, _, body = raw.partition("\n")
    return document_text(headline.strip(), body.strip())


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def _groups(slices: list[str]) -> dict[str, tuple[str, ...]]:
    """Named groups of slices reported beside each slice: all, the new slices, development, held-out."""
    groups = {name: (name,) for name in slices}
    groups["new"] = tuple(name for name in NEW_SLICES if name in slices)
    groups["development"] = tuple(name for name in DEVELOPMENT_SLICES if name in slices)
    groups["held_out"] = tuple(name for name in HELD_OUT_SLICES if name in slices)
    groups["all"] = tuple(slices)
    return {name: members for name, members in groups.items() if members}


def _entity_rows(outcomes: list[tuple[str, dict[str, str]]], ids: list[str], members: tuple[str, ...]) -> dict:
    rows = {}
    for entity_id in ids:
        tp = fp = fn = 0
        for slice_name, outcome in outcomes:
            if slice_name in members:
                result = outcome.get(entity_id)
                tp += result == "tp"
                fp += result == "fp"
                fn += result == "fn"
        rows[entity_id] = {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
                           "support": tp + fn, "false_positives": fp, "missed": fn}
    return rows


def evaluate_entities(corpus_dir: str | Path = DEFAULT_CORPUS_DIR, analyser: Analyser | None = None) -> dict:
    """Article-level precision/recall per entity over the corpus, per slice and slice group,
    and surface-form recall over the whole corpus."""
    analyser = analyser or Analyser()
    corpus = load_corpus(corpus_dir)
    # A record without ``entities`` (a team's own file may rate bodies without listing their names) says
    # nothing about which bodies the article names: left out, and counted.
    unlisted = sum(record.get("entities") is None for record, _text in corpus)
    corpus = [(record, text) for record, text in corpus if record.get("entities") is not None]
    if not corpus:
        raise KeyError("entities")
    results = analyser.pipe((article_text(text), record.get("date")) for record, text in corpus)
    ids = analyser.watchlist.ids
    forms = {entity_id: [0, 0] for entity_id in ids}
    outcomes: list[tuple[str, dict[str, str]]] = []
    errors = []
    for (record, _text), result in zip(corpus, results):
        predicted = {mention["entity_id"] for mention in result["mentions"]}
        gold = record["entities"]
        outcome = {}
        for entity_id in ids:
            if entity_id in predicted and entity_id in gold:
                outcome[entity_id] = "tp"
            elif entity_id in predicted:
                outcome[entity_id] = "fp"
                errors.append((record["id"], entity_id, "false positive"))
            elif entity_id in gold:
                outcome[entity_id] = "fn"
                errors.append((record["id"], entity_id, "missed"))
            found = {re.sub(r"\s+", " ", mention["surface"]).lower()
                     for mention in result["mentions"] if mention["entity_id"] == entity_id}
            for form in gold.get(entity_id, []):
                lowered = re.sub(r"\s+", " ", form).lower()
                forms[entity_id][0] += 1
                forms[entity_id][1] += any(lowered in surface or surface in lowered for surface in found)
        outcomes.append((slice_of(record["id"]), outcome))
    slices = list(dict.fromkeys(slice_name for slice_name, _ in outcomes))
    by_slice = {name: _entity_rows(outcomes, ids, members) for name, members in _groups(slices).items()}
    per_entity = by_slice["all"]
    for entity_id, (total, found) in forms.items():
        per_entity[entity_id]["surface_recall"] = _ratio(found, total)
    counts = {name: sum(slice_name in members for slice_name, _ in outcomes)
              for name, members in _groups(slices).items()}
    return {"articles": len(corpus), "without_entities": unlisted, "per_entity": per_entity, "by_slice": by_slice,
            "slice_articles": counts, "errors": errors}


def format_table(result: dict) -> str:
    """Plain-text tables of ``evaluate_entities`` output: the whole corpus, then P/R per slice."""
    lines = [f"{'entity':28} {'precision':>9} {'recall':>7} {'support':>7} {'surface_recall':>14}"]
    for entity_id, row in result["per_entity"].items():
        lines.append(f"{entity_id:28} {row['precision']:9.3f} {row['recall']:7.3f} {row['support']:7d} "
                     f"{row['surface_recall']:14.3f}")
    unlisted = result.get("without_entities")
    lines.append(f"({result['articles']} articles" + (f"; {unlisted} without `entities` left out)" if unlisted else ")"))
    entity_ids = list(result["per_entity"])
    lines.append("")
    # the shipped corpus's slice groups, named only when its slices are there (not for a team's own file)
    groups = [f"'{name}' = " + "+".join(members) for name, members in (("new", NEW_SLICES), ("held_out", HELD_OUT_SLICES))
              if name in result["by_slice"]]
    lines.append("precision/recall (support) per slice" + ("; " + ", ".join(groups) if groups else ""))
    lines.append(f"{'slice':12} {'articles':>8} " + " ".join(f"{entity_id[:22]:>22}" for entity_id in entity_ids))
    for name, rows in result["by_slice"].items():
        cells = [f"{rows[e]['precision']:.3f}/{rows[e]['recall']:.3f} ({rows[e]['support']:3d})" for e in entity_ids]
        lines.append(f"{name:12} {result['slice_articles'][name]:8d} " + " ".join(f"{cell:>22}" for cell in cells))
    return "\n".join(lines)


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[\w']+", text.replace("\u2019", "'").lower()))


def _speaker_words(name: str | None) -> set[str]:
    return {word for word in re.findall(r"[\w'-]+", (name or "").lower())
            if word not in {"a", "an", "the", "of", "for", "mr", "mrs", "ms", "dr", "cllr", "councillor"}}


# A label that gives the speaker only as a pronoun ("he") does not say who spoke: the analyser's
# answer (the person the pronoun stands for) cannot be checked against it.
PRONOUN_SPEAKERS = {"he", "she", "they", "it", "we", "i", "you"}
# Where a label's role after the name starts ("X, the commercial manager"; "a spokesman for Y").
_ROLE_START = re.compile(r",|\s(?:of|from|for|at|in)\s|\s\(", re.IGNORECASE)
_POST_NOMINAL = re.compile(r"^(?:[A-Z]{2,4}|KC|QC)$")


def _gold_name(gold: str) -> str:
    """The name part of a labelled speaker: the role after it and post-nominal letters dropped
    ("Derek Prodger MBE, chairman of HWFRS" -> "Derek Prodger")."""
    name = _ROLE_START.split(gold, maxsplit=1)[0].strip()
    words = name.split()
    while len(words) > 1 and _POST_NOMINAL.match(words[-1]):
        words.pop()
    return " ".join(words)


def _same_speaker(gold: str, predicted: str | None) -> bool | None:
    """Speakers agree when the last word of the labelled speaker's name (surname, or "spokesperson")
    is among the predicted speaker's words; None when the label names no one (a pronoun)."""
    if gold.strip().lower() in PRONOUN_SPEAKERS:
        return None
    if not predicted:
        return False
    gold_words = re.findall(r"[\w'-]+", _gold_name(gold).lower())
    return bool(gold_words) and gold_words[-1] in _speaker_words(predicted)


def _dated(quotes: list[dict], record: dict) -> list[dict]:
    """The quotes with their article (``article_id``) and date, as the store gives them to ``SpeakerMemory``."""
    for quote in quotes:
        quote["article_id"], quote["published_at"] = record["id"], record.get("date")
    return quotes


def _quote_predictions(corpus, analyser: Analyser, memory: SpeakerMemory | None) -> dict[str, list[dict]]:
    predictions = {}
    for record, text in corpus:
        quotes = _dated(analyser.analyse(article_text(text), record.get("date"))["quotes"], record)
        if memory is not None:
            memory.link(quotes)
        predictions[record["id"]] = quotes
    return predictions


def evaluate_quotes(corpus_dir: str | Path = DEFAULT_CORPUS_DIR, analyser: Analyser | None = None,
                    known_speakers: bool = False, predictions: dict[str, list[dict]] | None = None,
                    how: str | None = None) -> dict:
    """Quotes against the corpus's ``quotes`` labels, on the articles that carry them.

    A gold quote is found when a predicted quote's text begins with (or, for quotations the labels
    split, contains) its first words. Recall: share of gold quotes found; precision: share of
    predicted quotes that are a gold quote or continue one (same speaker, next quote); speaker-body accuracy: share of found quotes whose
    ``entity_id`` is the labelled body (null included); speaker accuracy: among found quotes whose
    label names the speaker (not a pronoun), share whose speaker has the last word of the labelled
    name (its role and post-nominal letters dropped). With ``known_speakers`` the analyser first learns who speaks for
    whom from the whole corpus's predicted quotes (``SpeakerMemory``), as the analyse stage does
    from the database: the labels are never used for learning. ``predictions`` (corpus id ->
    quotes, e.g. what the ``analyse`` stage stored for each article) are scored instead of the
    analyser's; ``how`` names them in the printed table. Quotes whose body was carried from
    other articles (``entity_method = 'known_speaker'``) are counted apart: ``linked`` and
    ``linked_correct`` per slice."""
    analyser = analyser or Analyser()
    corpus = load_corpus(corpus_dir)
    labelled = [(record, text) for record, text in corpus if "quotes" in record]
    if predictions is None:
        memory = None
        if known_speakers:
            memory = SpeakerMemory()
            for record, text in corpus:
                memory.learn(_dated(analyser.analyse(article_text(text), record.get("date"))["quotes"], record))
        predictions = _quote_predictions(labelled, analyser, memory)
    tallies: dict[str, dict[str, int]] = {}
    errors = []
    for record, _text in labelled:
        slice_name = slice_of(record["id"])
        tally = tallies.setdefault(slice_name, dict.fromkeys(
            ("gold", "predicted", "found", "correct_predictions", "speaker_named", "speaker_ok", "entity_ok", "linked",
             "linked_ok"), 0))
        predicted = predictions[record["id"]]
        texts = [_normalise(quote["text"]) for quote in predicted]
        used = set()
        tally["gold"] += len(record["quotes"])
        tally["predicted"] += len(predicted)
        for item in record["quotes"]:
            wanted = _normalise(item["start"])
            index = next((i for i, text in enumerate(texts) if text.startswith(wanted)), None)
            if index is None:
                index = next((i for i, text in enumerate(texts) if wanted and wanted in text), None)
            if index is None:
                errors.append((record["id"], item["start"], f"not found (speaker {item['speaker']!r})"))
                continue
            used.add(index)
            match = predicted[index]
            tally["found"] += 1
            same = _same_speaker(item["speaker"], match["speaker"])
            if same is not None:
                tally["speaker_named"] += 1
            if same:
                tally["speaker_ok"] += 1
            elif same is False:
                errors.append((record["id"], item["start"], f"speaker {match['speaker']!r} != {item['speaker']!r}"))
            linked = match.get("entity_method") == KNOWN_SPEAKER
            tally["linked"] += linked
            if match["entity_id"] == item.get("entity"):
                tally["entity_ok"] += 1
                tally["linked_ok"] += linked
            else:
                errors.append((record["id"], item["start"], f"entity {match['entity_id']!r} != "
                               f"{item.get('entity')!r} (speaker {match['speaker']!r} / {item['speaker']!r})"
                               + (" [known_speaker]" if linked else "")))
        # The labels give one entry per run of quotation by one speaker where the labeller read it
        # as one quote (a paragraph that goes on quoting the same speaker is not listed again):
        # a predicted quote that continues a found one, same speaker, no other labelled quote
        # starting in between, is part of it, not a false quote.
        correct = set(used)
        for index in range(1, len(predicted)):
            if index not in used and index - 1 in correct and predicted[index]["speaker"] and (
                    predicted[index]["speaker"] == predicted[index - 1]["speaker"]):
                correct.add(index)
        tally["correct_predictions"] += len(correct)
        for index, quote in enumerate(predicted):
            if index not in correct:
                errors.append((record["id"], quote["text"][:40], f"not a labelled quote (speaker {quote['speaker']!r})"))
    by_slice = {}
    for name, members in _groups(list(tallies)).items():
        total = {key: sum(tallies[member][key] for member in members) for key in next(iter(tallies.values()))}
        by_slice[name] = {
            "articles": sum(slice_of(record["id"]) in members for record, _ in labelled),
            "gold_quotes": total["gold"],
            "predicted_quotes": total["predicted"],
            "recall": _ratio(total["found"], total["gold"]),
            "precision": _ratio(total["correct_predictions"], total["predicted"]),
            "speaker_body_accuracy": _ratio(total["entity_ok"], total["found"]),
            # among found quotes whose label names the speaker (not "he" or "she")
            "speaker_accuracy": _ratio(total["speaker_ok"], total["speaker_named"]),
            "speaker_named": total["speaker_named"],
            "linked": total["linked"],
            "linked_correct": total["linked_ok"],
        }
    overall = by_slice.get("all", {})
    return {"gold_quotes": overall.get("gold_quotes", 0), "recall": overall.get("recall", 1.0),
            "precision": overall.get("precision", 1.0),
            "speaker_body_accuracy": overall.get("speaker_body_accuracy", 1.0),
            "speaker_accuracy": overall.get("speaker_accuracy", 1.0),
            "by_slice": by_slice, "known_speakers": known_speakers, "how": how, "errors": errors}


def format_quotes(result: dict) -> str:
    """Quote figures per slice, then the errors."""
    how = result.get("how") or ("with known speakers" if result.get("known_speakers") else "")
    how = f" ({how})" if how else ""
    lines = [f"quotes{how}: {result['gold_quotes']} labelled",
             f"{'slice':12} {'articles':>8} {'gold':>5} {'pred':>5} {'recall':>7} {'precision':>9} "
             f"{'speaker_body':>12} {'speaker':>8} {'linked_ok/linked':>16}"]
    for name, row in result["by_slice"].items():
        lines.append(f"{name:12} {row['articles']:8d} {row['gold_quotes']:5d} {row['predicted_quotes']:5d} "
                     f"{row['recall']:7.3f} {row['precision']:9.3f} {row['speaker_body_accuracy']:12.3f} "
                     f"{row['speaker_accuracy']:8.3f} {row['linked_correct']:>8d}/{row['linked']:<7d}")
    lines += ["   " + " ".join(str(part) for part in error) for error in result["errors"]]
    return "\n".join(lines)


if __name__ == "__main__":
    entity_result = evaluate_entities()
    print(format_table(entity_result))
    for error in entity_result["errors"]:
        print("  ", *error)
    print(format_quotes(evaluate_quotes()))
