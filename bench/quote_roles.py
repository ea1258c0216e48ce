"""The speaker roles the quote extractor gives over the whole corpus, with counts.

Runs the Analyser over every corpus article (each alone, with its date, as ``cuttings evaluate
quotes`` does) and prints each distinct ``speaker_role`` with how many quotes carry it, marking
the ones that cannot be a role by the general criterion of ``nlp.quotes.is_role_phrase`` (no
word that can name a post: only pronouns, determiners, relative or other function words,
numbers; or text across a sentence boundary; or a conjunction with no second member).

    PYTHONPATH=. python bench/quote_roles.py [--corpus DIR] [--junk-only] [--where]

``--where`` prints, for each junk role, the articles it comes from.
"""
from __future__ import annotations

import argparse
from collections import Counter, defaultdict

from nlp.entities import Analyser
from nlp.evaluate_entities import DEFAULT_CORPUS_DIR, article_text, load_corpus
from nlp.quotes import is_role_phrase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS_DIR))
    parser.add_argument("--junk-only", action="store_true")
    parser.add_argument("--where", action="store_true")
    args = parser.parse_args()
    analyser = Analyser()
    counts: Counter[str] = Counter()
    where: dict[str, list[str]] = defaultdict(list)
    quotes = with_role = 0
    for record, text in load_corpus(args.corpus):
        for quote in analyser.analyse(article_text(text), record.get("date"))["quotes"]:
            quotes += 1
            role = quote.get("speaker_role")
            if role:
                with_role += 1
                counts[role] += 1
                where[role].append(record["id"])
    junk = {role for role in counts if not is_role_phrase(role)}
    for role, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if args.junk_only and role not in junk:
            continue
        mark = "JUNK" if role in junk else "    "
        line = f"{count:5d} {mark} {role!r}"
        if args.where and role in junk:
            line += "  " + " ".join(sorted(set(where[role])))
        print(line)
    print(f"quotes {quotes}, with a role {with_role}, distinct roles {len(counts)}, "
          f"junk roles {len(junk)} distinct / {sum(counts[role] for role in junk)} quotes")


if __name__ == "__main__":
    main()
