"""Peak memory and time of `cuttings label --import` on a large label file, as a user runs it: the command in a
child process under `/usr/bin/time -v` (its "Maximum resident set size" and wall clock), for this tree and,
with ``--compare REV``, for the code of another commit (``git archive`` into a temporary folder, put first on
PYTHONPATH; the same virtualenv).

The file: `cuttings label --export` records (url, title, a body of some 4.8 KB, date, stance, annotator,
labelled_at) of ``--stories`` stories of a database made for it, as many lines as make ``--size-mb`` (a story
appears again every ``--stories`` lines, each time with a later labelled_at). Each run imports it into a fresh
copy of that database (every line is a label newer than the one before: a label row written per line).

    PYTHONPATH=. python bench/label_import_memory.py --size-mb 50 --compare 608bf1c [--repeat 2] [--stdin]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cuttings import store

REPO = Path(__file__).resolve().parent.parent
BODY = ("Firefighters from the county service spent the night at the scene of a barn fire near the town, the "
        "service said. ") * 40
STANCES = ("favour", "against", "neutral")


def make_db(path: Path, stories: int) -> None:
    db = store.connect(path)
    with db.atomic():
        db.execute("INSERT INTO sources (id, name) VALUES ('news', 'News')")
        db.conn.executemany(
            "INSERT INTO articles (url, canonical_url, source_id, title, body, published_at, first_seen_at, "
            "last_seen_at, content_hash) VALUES (?, ?, 'news', ?, ?, '2026-11-01', ?, ?, ?)",
            [(f"https://news.example/{n}", f"https://news.example/{n}", f"Barn fire {n}", BODY,
              "2026-11-20T08:00:00Z", "2026-11-20T08:00:00Z", store.content_hash(f"Barn fire {n}", BODY))
             for n in range(stories)])
    db.conn.close()


def make_file(path: Path, stories: int, size: int) -> int:
    """Write the label file; returns its line count."""
    start = dt.datetime(2026, 11, 21, 8, 0, 0)
    lines = 0
    with path.open("w", encoding="utf-8") as out:
        while out.tell() < size:
            n = lines % stories
            at = (start + dt.timedelta(seconds=lines)).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.write(json.dumps({"id": f"db-{n + 1}", "url": f"https://news.example/{n}", "title": f"Barn fire {n}",
                                  "body": BODY, "date": "2026-11-01", "stance_governance": STANCES[lines % 3],
                                  "annotator": "akhan", "annotators": {"stance_governance": "akhan"},
                                  "labelled_at": {"stance_governance": at}}) + "\n")
            lines += 1
    return lines


def run(command: list[str], env: dict, db: Path, label_file: Path, stdin: bool
        ) -> tuple[float, float, int, int, str]:
    """(wall seconds, CPU seconds, peak RSS in MB, exit code, the command's first output line); ``stdin``: the file
    given on
    standard input (``--import -``)."""
    with label_file.open("rb") as given:
        result = subprocess.run(["/usr/bin/time", "-v", *command, "--db", str(db), "label", "--import",
                                 "-" if stdin else str(label_file)], stdin=given if stdin else subprocess.DEVNULL,
                                env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    report = result.stderr
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", report)
    seconds = int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    cpu = sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", report).group(1)) for kind in ("User", "System"))
    first = (result.stdout.strip().splitlines() or report.strip().splitlines() or [""])[0]
    return seconds, cpu, round(peak / 1024), result.returncode, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=50)
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--compare", metavar="REV", help="also run the code of this commit")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--stdin", action="store_true", help="give the file on standard input (--import -)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        base_db, label_file = folder / "base.db", folder / "labels.jsonl"
        make_db(base_db, args.stories)
        lines = make_file(label_file, args.stories, int(args.size_mb * 1_000_000))
        print(f"{label_file.stat().st_size / 1_000_000:.1f} MB, {lines:,} lines, {args.stories:,} stories")
        trees = {"this tree": (REPO, [str(Path(sys.executable).parent / "cuttings")])}
        if args.compare:
            tree = folder / "compare"
            tree.mkdir()
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.compare], capture_output=True,
                                     check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
            trees[args.compare] = (tree, [sys.executable, "-c", "import sys; from pipeline import cli; "
                                                               "sys.argv[0] = 'cuttings'; sys.exit(cli())"])
        for round_no in range(args.repeat):
            for name, (tree, command) in trees.items():
                db = folder / f"run-{round_no}.db"
                shutil.copy(base_db, db)
                env = {**os.environ, "PYTHONPATH": str(tree)}
                seconds, cpu, peak, code, first = run(command, env, db, label_file, args.stdin)
                print(f"{name}: {seconds:.1f} s wall, {cpu:.1f} s CPU, {peak:,} MB peak RSS, exit {code}: {first}")
                db.unlink()


if __name__ == "__main__":
    main()
