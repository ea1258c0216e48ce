"""How each gathering slice of the labelled corpus labels a topic, given the same kind of text.

For each topic, among the articles that have at least one body paragraph with two or more of the
topic's cue words (``nlp.features.TOPIC_CUES``, the label guide's concept words, as the topics
model's paragraph evidence counts them), the share labelled with the topic, per slice (the id
prefix). Leave-one-slice-out trains on six slices and predicts the
seventh: when the slices label alike text differently, part of its errors are disagreements between
slices, not misreadings. The cue words only approximate "a paragraph about it", so a gap between
slices suggests a difference of convention or of content; reading the articles tells which.

    PYTHONPATH=. .venv/bin/python bench/label_rates.py [--corpus data/corpus] [--within governance]

``--within TOPIC`` counts only the articles labelled with TOPIC (e.g. finance on governance stories,
the case the guide's topics convention 2 settles).
"""
import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.classify import slice_of  # noqa: E402
from nlp.corpus import load_corpus  # noqa: E402
from nlp.features import TOPIC_CUES, article_row  # noqa: E402


def label_rates(records: list[dict], topic: str, within: str | None = None) -> dict[str, tuple[int, int]]:
    """Per slice: (articles labelled ``topic``, articles with a paragraph of two or more of its cue
    words), among the records labelled ``within`` when given."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record in records:
        topics = record.get("topics") or []
        if within is not None and within not in topics:
            continue
        # the topics model's own paragraph evidence: body paragraphs with two or more of the cue words
        evidence = article_row({"title": record.get("title"), "body": record.get("body")})["topic_evidence"]
        if evidence[f"{topic}:strong"] > 0:
            counts[slice_of(record["id"])][1] += 1
            counts[slice_of(record["id"])][0] += topic in topics
    return {name: (labelled, dense) for name, (labelled, dense) in sorted(counts.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="labelled corpus directory (default data/corpus)")
    parser.add_argument("--within", metavar="TOPIC", help="only articles labelled with this topic")
    args = parser.parse_args()
    records = load_corpus(args.corpus)
    if args.within is not None and args.within not in TOPIC_CUES:
        raise SystemExit(f"--within {args.within!r}: expected one of {', '.join(TOPIC_CUES)}")
    slices = sorted({slice_of(record["id"]) for record in records})
    print("| topic | " + " | ".join(slices) + " |")
    print("| --- | " + " | ".join("---" for _ in slices) + " |")
    for topic in TOPIC_CUES:
        if topic == args.within:
            continue
        rates = label_rates(records, topic, args.within)
        cells = [f"{rates[name][0]}/{rates[name][1]} ({rates[name][0] / rates[name][1]:.2f})" if name in rates else "-"
                 for name in slices]
        print(f"| {topic} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
