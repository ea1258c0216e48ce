"""Throughput of ``Analyser.pipe`` (mentions + quotes) on one core.

Usage: ``PYTHONPATH=. python bench/analyse_throughput.py [--articles 2000]``.  The seed corpus is
repeated until the requested number of articles; the pipeline is built and warmed up first, so the
figure is steady-state analysis speed.
"""
from __future__ import annotations

import argparse
import itertools
import os
import time

from nlp.entities import Analyser
from nlp.evaluate_entities import article_text, load_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    corpus = [(article_text(text), record.get("date")) for record, text in load_corpus()]
    items = list(itertools.islice(itertools.cycle(corpus), args.articles))
    analyser = Analyser()
    list(analyser.pipe(corpus[:50]))  # warm-up
    started = time.perf_counter()
    mentions = quotes = 0
    for result in analyser.pipe(items, batch_size=args.batch_size):
        mentions += len(result["mentions"])
        quotes += len(result["quotes"])
    elapsed = time.perf_counter() - started
    words = sum(len(text.split()) for text, _ in items)
    print(f"{len(items)} articles ({words} words) in {elapsed:.2f}s on one core: "
          f"{len(items) / elapsed:.0f} articles/s, {words / elapsed:.0f} words/s; "
          f"{mentions} mentions, {quotes} quotes")


if __name__ == "__main__":
    main()
