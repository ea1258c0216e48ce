"""Benchmark the article extractor on the article-extraction benchmark pages.

Runs ``crawler.extract.extract_article`` over every page of the benchmark (single
process), writes the predicted bodies to PRED.json, scores them with the benchmark's
own ``score.py`` and prints F1, precision, recall and the median/mean time per page.

    PYTHONPATH=. python bench/extraction.py [BENCH_DIR] [--baseline] [--out PRED.json] [--worst N]

Times are per page in one process: wall clock and this process's CPU time (the steadier
figure when other work shares the machine).

``--baseline`` also runs trafilatura alone (default settings) for comparison.
BENCH_DIR defaults to ``../shared/bench/extraction`` relative to the repository.
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trafilatura

from crawler.extract import extract_article

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BENCH = REPO.parent / "shared" / "bench" / "extraction"


def load_pages(bench_dir: Path) -> dict[str, tuple[bytes, str]]:
    """Return {page id: (raw html bytes, url)} for every page in the ground truth."""
    truth = json.loads((bench_dir / "ground-truth.json").read_text(encoding="utf8"))
    return {page_id: (gzip.decompress((bench_dir / "html" / f"{page_id}.html.gz").read_bytes()), item.get("url"))
            for page_id, item in truth.items()}


def run(pages: dict, extractor) -> tuple[dict[str, str], list[tuple[float, float]]]:
    """Apply ``extractor(raw, url) -> text`` to every page.

    Returns the predictions and, per page, (wall-clock seconds, CPU seconds of this process);
    CPU time is the steadier figure on a shared machine.
    """
    predictions, timings = {}, []
    for page_id, (raw, url) in pages.items():
        start, start_cpu = time.perf_counter(), time.process_time()
        predictions[page_id] = extractor(raw, url) or ""
        timings.append((time.perf_counter() - start, time.process_time() - start_cpu))
    return predictions, timings


def ours(raw: bytes, url: str) -> str:
    return extract_article(raw, url)["body"]


def trafilatura_alone(raw: bytes, url: str) -> str:
    return trafilatura.extract(raw, url=url) or ""


def score(bench_dir: Path, pred_path: Path, worst: int) -> dict:
    """Score with the benchmark's score.py (as a subprocess) and return its summary."""
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        command = [sys.executable, str(bench_dir / "score.py"), str(pred_path), "--json", str(result_path)]
        if worst:
            command += ["--worst", str(worst)]
        completed = subprocess.run(command, capture_output=True, text=True, check=True)
        if worst:
            print(completed.stdout)
        return next(iter(json.loads(result_path.read_text()).values()))


def report(name: str, result: dict, timings: list[tuple[float, float]]) -> None:
    wall = [w * 1000 for w, _ in timings]
    cpu = [c * 1000 for _, c in timings]
    print(f"{name:<18} F1 {result['f1']:.3f}±{result.get('f1_std', 0):.3f}  precision {result['precision']:.3f}  "
          f"recall {result['recall']:.3f}  ({result['pages']} pages)\n"
          f"{'':<18} per page: wall median {statistics.median(wall):.1f} ms, mean {statistics.fmean(wall):.1f} ms; "
          f"CPU median {statistics.median(cpu):.1f} ms, mean {statistics.fmean(cpu):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bench_dir", nargs="?", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "cuttings-extraction-PRED.json",
                        help="where to write the predictions (default: in the temp directory)")
    parser.add_argument("--baseline", action="store_true", help="also score trafilatura alone")
    parser.add_argument("--worst", type=int, default=0, help="list the N weakest pages")
    args = parser.parse_args()

    pages = load_pages(args.bench_dir)
    runs = [("cuttings extract", ours, args.out)]
    if args.baseline:
        runs.append(("trafilatura alone", trafilatura_alone, args.out.with_name(args.out.stem + "-trafilatura.json")))
    for name, extractor, out_path in runs:
        predictions, timings = run(pages, extractor)
        out_path.write_text(json.dumps(predictions, ensure_ascii=False, indent=0), encoding="utf8")
        report(name, score(args.bench_dir, out_path, args.worst), timings)
        print(f"{'':<18} predictions: {out_path}")


if __name__ == "__main__":
    main()
