"""Speed of the quote extractor alone (``nlp.quotes.extract_quotes``), per corpus article.

The Analyser runs once over every corpus article (each alone, with its date) to record the
arguments it gives the quote extractor (text, mentions, watchlist, date, paragraph breaks); then
the extractor alone is timed on those arguments, CPU time on one core, after one warm-up pass.
With ``--compare REV`` the ``nlp/quotes.py`` of git revision REV is loaded beside this checkout's
and the two are timed alternately, REPEAT times each in one process, so that a loaded machine
disturbs both alike; the quotes they give are compared article by article.

    nice -n 10 python bench/quote_speed.py --compare 786cba5 --repeat 5
"""
from __future__ import annotations

import argparse
import importlib.util
import inspect
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nlp.entities
from nlp import quotes as this_quotes
from nlp.entities import Analyser
from nlp.evaluate_entities import DEFAULT_CORPUS_DIR, article_text, load_corpus

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python bench/quote_speed.py\n"
               "  nice -n 10 python bench/quote_speed.py --compare 786cba5 --repeat 5")
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS_DIR))
    parser.add_argument("--compare", metavar="REV", help="also time git revision REV's nlp/quotes.py, alternated")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the corpus per extractor")
    return parser.parse_args(argv)


def recorded_calls(corpus: str) -> list[tuple[tuple, dict]]:
    """The arguments the Analyser gives ``extract_quotes`` for each corpus article."""
    calls = []
    original = nlp.entities.quote_extractor.extract_quotes

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    analyser = Analyser()
    nlp.entities.quote_extractor.extract_quotes = record
    try:
        for record_, text in load_corpus(corpus):
            analyser.analyse(article_text(text), record_.get("date"))
    finally:
        nlp.entities.quote_extractor.extract_quotes = original
    return calls


def module_at(rev: str):
    """``nlp/quotes.py`` of git revision ``rev``, loaded as a module of its own."""
    source = subprocess.run(["git", "show", f"{rev}:nlp/quotes.py"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    folder = tempfile.mkdtemp(prefix="quote-speed-")
    path = Path(folder) / f"quotes_at_{rev}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"quotes_at_{rev}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run(module, calls) -> tuple[float, list[list[dict]]]:
    """CPU seconds for one pass of ``module.extract_quotes`` over ``calls``, and its quotes."""
    takes_breaks = "breaks" in inspect.signature(module.extract_quotes).parameters
    outputs = []
    started = time.process_time()
    for args, kwargs in calls:
        if not takes_breaks:
            args, kwargs = args[:4], {key: value for key, value in kwargs.items() if key != "breaks"}
        outputs.append(module.extract_quotes(*args, **kwargs))
    return time.process_time() - started, outputs


def main(args: argparse.Namespace) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    calls = recorded_calls(args.corpus)
    extractors = [("this checkout", this_quotes)]
    if args.compare:
        extractors.append((args.compare, module_at(args.compare)))
    times: dict[str, list[float]] = {name: [] for name, _module in extractors}
    outputs = {}
    for name, module in extractors:
        outputs[name] = run(module, calls)[1]   # warm-up (caches of words, patterns, watchlist tables)
    for repeat in range(args.repeat):
        order = extractors if repeat % 2 == 0 else list(reversed(extractors))
        for name, module in order:
            times[name].append(run(module, calls)[0])
    articles = len(calls)
    for name, _module in extractors:
        quotes = sum(len(result) for result in outputs[name])
        per_article = [seconds / articles * 1000 for seconds in times[name]]
        print(f"{name:>14}: {articles} articles, {quotes} quotes; CPU per article min "
              f"{min(per_article):.3f} ms, median {statistics.median(per_article):.3f} ms "
              f"(runs: {', '.join(f'{value:.3f}' for value in per_article)})")
    if args.compare:
        changed = sum(this != other for this, other in zip(outputs["this checkout"], outputs[args.compare]))
        print(f"articles whose quotes differ: {changed} of {articles}")
    print(f"load average {', '.join(f'{value:.1f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main(parse_args())
