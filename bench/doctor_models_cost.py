"""What each way of checking the trained models costs, each in a fresh process (docs/benchmarks.md, "Doctor's
everyday checks at a year's size"):

    PYTHONPATH=. python bench/doctor_models_cost.py --models /tmp/home/models --rounds 3

``load``: ``Classifier.load`` (what `doctor --full` and classify do: scikit-learn and skops imported, every model
built); ``imports``: importing nlp.classify alone; ``files``: ``nlp.model_files.check_model_files`` (the everyday
doctor: cards, each file's CRCs and skops schema; no scikit-learn import); and its parts: ``crc`` (each file's
members read and their CRCs checked), ``schema`` (each file's schema.json parsed), ``untrusted`` (skops'
``get_untrusted_types``, a way not taken: it imports skops and scikit-learn). Wall and the process's CPU seconds.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

WAYS = {
    "load": "from nlp.classify import Classifier; Classifier.load(d)",
    "imports": "import nlp.classify",
    "files": "from nlp.model_files import check_model_files; check_model_files(d)",
    "crc": "import zipfile, glob\nfor p in sorted(glob.glob(d + '/*.skops')):\n    zipfile.ZipFile(p).testzip()",
    "schema": ("import zipfile, glob, json\nfor p in sorted(glob.glob(d + '/*.skops')):\n"
               "    json.loads(zipfile.ZipFile(p).read('schema.json'))"),
    "untrusted": ("import glob, skops.io\nfor p in sorted(glob.glob(d + '/*.skops')):\n"
                  "    skops.io.get_untrusted_types(file=p)"),
}
TIMED = """import resource, sys, time
d = sys.argv[1]
started = time.perf_counter()
{code}
usage = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime)
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    results: dict = {}
    for _ in range(args.rounds):
        for way, code in WAYS.items():
            done = subprocess.run([sys.executable, "-c", TIMED.format(code=code), args.models],
                                  capture_output=True, text=True, check=True)
            wall, cpu = map(float, done.stdout.split())
            results.setdefault(way, []).append((wall, cpu))
    for way, runs in results.items():
        walls, cpus = sorted(w for w, _ in runs), sorted(c for _, c in runs)
        print(f"{way:10} wall median {statistics.median(walls):.3f} s ({walls[0]:.3f}-{walls[-1]:.3f}); "
              f"process CPU median {statistics.median(cpus):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
