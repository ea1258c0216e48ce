"""Benchmark the extractor's metadata and body on real news pages with ground truth.

Runs ``crawler.extract.extract_article`` over every page of ``../shared/bench/pages``
(title, authors, published date, body), writes one prediction per page and scores it with
the benchmark's own ``score.py``, on all pages and on each half of a fixed split:

* ``dev``  - pages whose id hashes even (sha1): the half the extraction rules were developed on;
* ``held`` - the other half, not looked at while writing rules: the honest figure.

    PYTHONPATH=. python bench/pages.py [BENCH_DIR] [--out PRED.jsonl] [--show FIELD] [--half dev|held]

``--show title|authors|date`` lists the pages where that field is wrong (development aid;
use it on the dev half only). Times are per page, one process (wall and CPU).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawler.extract import decode_html, extract_article

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BENCH = REPO.parent / "shared" / "bench" / "pages"


def half(page_id: str) -> str:
    """``dev`` or ``held``: a fixed split by a hash of the page id."""
    return "dev" if int(hashlib.sha1(page_id.encode()).hexdigest(), 16) % 2 == 0 else "held"


def load(bench_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (bench_dir / "truth.jsonl").read_text(encoding="utf8").splitlines()
            if line.strip()]


def predict(bench_dir: Path, truth: list[dict]) -> tuple[list[dict], list[tuple[float, float]]]:
    predictions, timings = [], []
    for row in truth:
        raw = gzip.decompress((bench_dir / row["html"]).read_bytes())
        start, start_cpu = time.perf_counter(), time.process_time()
        record = extract_article(decode_html(raw), row.get("url"))
        timings.append((time.perf_counter() - start, time.process_time() - start_cpu))
        predictions.append({"id": row["id"], "title": record["title"], "authors": record["authors"],
                            "published": record["published_at"], "body": record["body"],
                            "date_source": record["date_source"], "is_article": record["is_article"]})
    return predictions, timings


def score(bench_dir: Path, pred_path: Path, truth: list[dict]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf8") as handle:
        for row in truth:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    command = [sys.executable, str(bench_dir / "score.py"), str(pred_path), "--truth", handle.name]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    Path(handle.name).unlink()
    return out


def show(field: str, truth: list[dict], predictions: list[dict], bench_dir: Path) -> None:
    sys.path.insert(0, str(bench_dir))
    import score as scorer  # the benchmark's own normalisation

    by_id = {p["id"]: p for p in predictions}
    for row in truth:
        p = by_id[row["id"]]
        if field == "title" and row.get("title") and scorer.norm(row["title"]) != scorer.norm(p["title"]):
            print(f"{row['id']}\n   truth {row['title']!r}\n   got   {p['title']!r}")
        elif field == "authors" and row.get("authors") is not None and scorer.set_f1(row["authors"], p["authors"]) < 1:
            print(f"{row['id']}\n   truth {row['authors']!r}\n   got   {p['authors']!r}")
        elif field == "date" and row.get("published") and not scorer.same_day(row["published"], p["published"]):
            print(f"{row['id']}\n   truth {row['published']!r}\n   got   {p['published']!r} ({p['date_source']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bench_dir", nargs="?", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "cuttings-pages-PRED.jsonl")
    parser.add_argument("--half", choices=("dev", "held"), help="run on one half only")
    parser.add_argument("--show", choices=("title", "authors", "date"), help="list the pages wrong on FIELD")
    args = parser.parse_args()

    truth = load(args.bench_dir)
    if args.half:
        truth = [row for row in truth if half(row["id"]) == args.half]
    predictions, timings = predict(args.bench_dir, truth)
    with args.out.open("w", encoding="utf8") as handle:
        for prediction in predictions:
            handle.write(json.dumps(prediction, ensure_ascii=False) + "\n")
    if args.show:
        show(args.show, truth, predictions, args.bench_dir)
    for name in ("all", "dev", "held"):
        subset = [row for row in truth if name == "all" or half(row["id"]) == name]
        if subset:
            print(f"{name:<5} {score(args.bench_dir, args.out, subset)}")
    wall = [w * 1000 for w, _ in timings]
    cpu = [c * 1000 for _, c in timings]
    print(f"per page: wall median {statistics.median(wall):.1f} ms, mean {statistics.fmean(wall):.1f} ms; "
          f"CPU median {statistics.median(cpu):.1f} ms, mean {statistics.fmean(cpu):.1f} ms")
    print(f"predictions: {args.out}")


if __name__ == "__main__":
    main()
