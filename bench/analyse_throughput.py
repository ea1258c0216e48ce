"""Throughput of ``Analyser.pipe`` (mentions + quotes) on one core.

Usage: ``python bench/analyse_throughput.py [--articles 2000] [--stage]``; ``--stage`` times the
whole `analyse` stage (articles read from and results written to a SQLite store).  The seed corpus is
repeated until the requested number of articles; the pipeline is built and warmed up first, so the
figure is steady-state analysis speed.  Wall-clock and CPU time are both reported: on a shared
machine (load average above the core count) the CPU figure is the meaningful one.

``--compare REV [--repeat 3]`` runs the same measurement for the analyser of git revision REV
(``git archive``, given this checkout's corpus so both read the same articles; its own copy of this
script drives it) and for this checkout, alternated REPEAT times in one session, so that a loaded
machine disturbs both alike::

    nice -n 10 python bench/analyse_throughput.py --stage --compare 8e7d52e --repeat 3
"""
from __future__ import annotations

import argparse
import itertools
import os
import time

from nlp.entities import Analyser
from nlp.evaluate_entities import article_text, load_corpus


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python bench/analyse_throughput.py --articles 2000\n"
               "  python bench/analyse_throughput.py --stage --articles 2000\n"
               "  nice -n 10 python bench/analyse_throughput.py --stage --compare 8e7d52e --repeat 3")
    parser.add_argument("--articles", type=int, default=2000, help="articles to analyse (the corpus repeated)")
    parser.add_argument("--batch-size", type=int, default=64, help="Analyser.pipe batch size (not with --stage)")
    parser.add_argument("--stage", action="store_true",
                        help="time the whole analyse stage (read, analyse, store, link known speakers)")
    parser.add_argument("--compare", metavar="REV", help="also measure git revision REV's analyser, alternated")
    parser.add_argument("--repeat", type=int, default=3, help="with --compare: alternated runs of each")
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    corpus = [(article_text(text), record.get("date")) for record, text in load_corpus()]
    items = list(itertools.islice(itertools.cycle(corpus), args.articles))
    analyser = Analyser()
    list(analyser.pipe(corpus[:50]))  # warm-up
    started = time.perf_counter()
    cpu_started = time.process_time()
    mentions = quotes = 0
    for result in analyser.pipe(items, batch_size=args.batch_size):
        mentions += len(result["mentions"])
        quotes += len(result["quotes"])
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    words = sum(len(text.split()) for text, _ in items)
    print(f"{len(items)} articles ({words} words) on one core: wall {elapsed:.2f}s = "
          f"{len(items) / elapsed:.0f} articles/s; CPU {cpu:.2f}s = {len(items) / cpu:.0f} articles/s "
          f"({words / cpu:.0f} words/s); {mentions} mentions, {quotes} quotes; load average "
          f"{os.getloadavg()[0]:.1f}")


def stage(articles: int) -> None:
    """The `cuttings analyse` stage end to end: read articles from a SQLite store, analyse,
    write mentions and quotes in batched transactions (warm analyser, as in a nightly run)."""
    import tempfile
    from pathlib import Path

    from crawler.revisions import save_article
    from cuttings import store
    from cuttings.stages import analyse_stage

    corpus = [(record, text) for record, text in load_corpus()]
    with tempfile.TemporaryDirectory() as tmp:
        db = store.connect(Path(tmp) / "bench.db")
        with db.atomic():
            for number, (record, text) in zip(range(articles), itertools.cycle(corpus)):
                title, _, body = text.partition("\n")
                save_article(db, {"url": f"https://bench.example/{number}",
                                        "canonical_url": f"https://bench.example/{number}", "title": title,
                                        "body": body.strip(),
                                        "published_at": record.get("date")}, None)
        analyser = Analyser()
        list(analyser.pipe([(article_text(t), r.get("date")) for r, t in corpus[:50]]))  # warm-up
        started, cpu_started = time.perf_counter(), time.process_time()
        counts = analyse_stage(db, analyser)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(f"analyse stage (read + analyse + store) on one core: {counts['articles']} articles in "
              f"{elapsed:.2f}s = {counts['articles'] / elapsed:.0f} articles/s (CPU {counts['articles'] / cpu:.0f}/s); "
              f"{counts['mentions']} mentions, {counts['quotes']} quotes")


def compare(revision: str, repeat: int, arguments: list[str]) -> None:
    """This measurement for ``revision``'s analyser and for this checkout, alternated."""
    import re
    import statistics
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = Path(tmp) / revision
        old_tree.mkdir()
        archive = subprocess.run(["git", "-C", str(root), "archive", revision], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        corpus = old_tree / "data" / "corpus"
        if corpus.is_symlink() or corpus.is_file():
            corpus.unlink()
        elif corpus.exists():
            import shutil
            shutil.rmtree(corpus)
        corpus.symlink_to(root / "data" / "corpus")            # the same articles for both
        (old_tree / "cuttings_data").symlink_to(old_tree / "data")   # its own watchlist, not ours
        figures: dict[str, list[float]] = {revision: [], "this checkout": []}
        for run in range(1, repeat + 1):
            for name, tree in ((revision, old_tree), ("this checkout", root)):
                # Each tree's own copy of this script: the store API it drives is that tree's.
                output = subprocess.run(
                    [sys.executable, str(tree / "bench" / "analyse_throughput.py"), *arguments], cwd=tree, check=True,
                    capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)}).stdout.strip()
                rate = re.search(r"= (\d+) articles/s", output)
                figures[name].append(float(rate.group(1)) if rate else float("nan"))
                print(f"run {run} {name:>13}: {output} (load average {os.getloadavg()[0]:.1f})", flush=True)
        for name, rates in figures.items():
            print(f"{name:>13}: median {statistics.median(rates):.0f} articles/s "
                  f"({', '.join(f'{rate:.0f}' for rate in rates)})")


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS.compare:
        compare(ARGS.compare, ARGS.repeat, (["--stage"] if ARGS.stage else []) + ["--articles", str(ARGS.articles)]
                + ([] if ARGS.stage else ["--batch-size", str(ARGS.batch_size)]))
    elif ARGS.stage:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        stage(ARGS.articles)
    else:
        main(ARGS)
