"""Instructions the analyser executes in one pass over the corpus (valgrind's callgrind): a figure load does not move.

On a shared machine the time benchmarks (``bench/analyse_throughput.py``, ``bench/quote_speed.py``)
move by more than a speed change does. The number of instructions does not: the analyser
(``Analyser.pipe`` over the 362 corpus articles, with their dates) is built and warmed up under
callgrind with instrumentation off, instrumentation is switched on (``callgrind_control -i on``)
for one pass and off after it, and callgrind's count of the instructions executed in between is
the figure. Python's hash seed is fixed (``PYTHONHASHSEED=0``) so sets iterate alike from run
to run; two runs of one tree agree within about 0.05%. Instructions are not time (a cache miss
costs more than an add), but a change that executes fewer instructions for the same output is
cheaper. About 40 seconds per tree; needs ``valgrind`` (``apt-get install valgrind``).

``--compare REV`` also counts git revision REV's analyser (``git archive``, reading this checkout's
corpus), alternately, ``--repeat`` times each::

    PYTHONPATH=. python bench/analyse_instructions.py --compare 5b35ef0 --repeat 2
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def worker(corpus: str) -> None:
    """Under callgrind: build and warm the analyser of the tree on ``PYTHONPATH``, then count one pass."""
    from nlp.entities import Analyser
    from nlp.evaluate_entities import article_text, load_corpus

    items = [(article_text(text), record.get("date")) for record, text in load_corpus(corpus)]
    analyser = Analyser()
    list(analyser.pipe(items))   # warm-up: caches of words, patterns, watchlist tables
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    found = sum(len(result["mentions"]) + len(result["quotes"]) for result in analyser.pipe(items))
    subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
    print(f"{len(items)} articles, {found} mentions and quotes")


def count(tree: Path, corpus: Path, scratch: Path) -> tuple[int, str]:
    """(instructions, the worker's line) for one pass of ``tree``'s analyser."""
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={scratch}/callgrind.%p",
         sys.executable, str(Path(__file__).resolve()), "--worker", str(corpus)],
        cwd=tree, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"})
    collected = re.search(r"Collected\s*:\s*(\d+)", run.stderr)
    if collected is None:
        raise SystemExit(f"no instruction count from callgrind:\n{run.stderr[-2000:]}")
    return int(collected.group(1)), run.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="examples:\n  PYTHONPATH=. python bench/analyse_instructions.py\n"
                                            "  PYTHONPATH=. python bench/analyse_instructions.py --compare 5b35ef0 --repeat 2")
    parser.add_argument("--compare", metavar="REV", help="also count git revision REV's analyser, alternated")
    parser.add_argument("--repeat", type=int, default=1, help="counts of each tree")
    parser.add_argument("--worker", metavar="CORPUS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    corpus = REPO / "data" / "corpus"
    with tempfile.TemporaryDirectory(prefix="analyse-instructions-") as tmp:
        scratch = Path(tmp)
        trees = [("this checkout", REPO)]
        if args.compare:
            old = scratch / "tree"
            old.mkdir()
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.compare], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            (old / "cuttings_data").symlink_to(old / "data")   # its own watchlist, not ours
            trees.insert(0, (args.compare, old))
        counts: dict[str, list[int]] = {name: [] for name, _tree in trees}
        articles = 1
        for run in range(1, args.repeat + 1):
            for name, tree in trees:
                instructions, line = count(tree, corpus, scratch)
                counts[name].append(instructions)
                articles = int(line.split()[0])
                print(f"run {run} {name:>13}: {instructions:,} instructions ({line})", flush=True)
        for name, values in counts.items():
            print(f"{name:>13}: {min(values):,} instructions, {min(values) / articles:,.0f} per article")
        if args.compare:
            old_count, new_count = min(counts[args.compare]), min(counts["this checkout"])
            print(f"this checkout against {args.compare}: {(new_count - old_count) / old_count:+.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
