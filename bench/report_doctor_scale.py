"""`cuttings report` and `cuttings doctor` at a year's size: two trees alternated, each statement of a digest timed,
and a digest dumped to compare trees byte for byte (docs/benchmarks.md, "Doctor and the digest at a year's size").

    # the trees: "before" unpacked from git, "after" this one; each on its own copy of a year_scale.py database
    git archive 9410ebd | tar -x -C /tmp/before-code
    PYTHONPATH=. python bench/report_doctor_scale.py alternate --rounds 6 --home HOME --since 2026-12-06T13:21:10Z \
        --tree /tmp/before-code=/tmp/before/year.db --tree .=/tmp/after/year.db
    # doctor alone, everyday and --full side by side with the tree before (docs/benchmarks.md, "Doctor's everyday
    # checks at a year's size")
    PYTHONPATH=. python bench/report_doctor_scale.py alternate --only doctor --rounds 6 --home HOME --since X \
        --tree /tmp/before-code=/tmp/before/year.db --tree .=/tmp/after/year.db --tree .=/tmp/after/year.db=--full
    PYTHONPATH=/tmp/before-code python bench/report_doctor_scale.py statements /tmp/before/year.db \
        --since 2026-12-06T13:21:10Z --now 2026-12-07T16:00:00Z
    PYTHONPATH=/tmp/before-code python bench/report_doctor_scale.py dump /tmp/before/year.db OUT_BEFORE \
        --since 2026-12-06T13:21:10Z --now 2026-12-07T16:00:00Z      # then the same with PYTHONPATH=.; cmp OUT/*

``alternate`` runs each tree's ``cuttings report --since SINCE --no-record --format all`` and ``cuttings doctor`` as
child processes (as bench/year_scale.py --only cli does; CUTTINGS_HOME=HOME, the models), the first tree of a round
alternating, and prints wall seconds and the child's CPU seconds (user + sys): on a shared machine the CPU seconds
are the figure to read. ``statements`` builds the digest in this process with every SQL statement timed, its rows
fetched. ``dump`` writes the digest (JSON) and its HTML, Markdown and text renderings. The databases are only read
(report's --no-record), except that a command of a tree migrates its copy to that tree's migrations.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path


def alternate(trees: list[tuple[str, str]], rounds: int, home: str, since: str, out: Path,
              only: str | None = None) -> None:
    """Each tree is (code, db) or (code, db, doctor's options, e.g. "--full"); ``only``: "report" or "doctor"."""
    results: dict = {}
    for r in range(rounds):
        order = trees if r % 2 == 0 else list(reversed(trees))
        for code, db, *options in order:
            code = str(Path(code).resolve())
            env = {**os.environ, "CUTTINGS_HOME": home, "PYTHONPATH": code}
            cli = [sys.executable, "-c", f"import sys; sys.path.insert(0, {code!r}); import pipeline; pipeline.cli()"]
            doctor = ["--db", db, "doctor", *(options[0].split() if options else [])]
            for what, args in (("report", ["--db", db, "report", "--since", since, "--no-record", "--format", "all",
                                           "--out", str(out / Path(db).parent.name)]),
                               ("doctor", doctor)):
                if only and what != only:
                    continue
                what = " ".join([what, *options])
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                done = subprocess.run(cli + args, env=env, capture_output=True, text=True)
                wall = time.perf_counter() - started
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                results.setdefault((what, code), []).append((wall, cpu))
                print(f"round {r + 1} {code} {what:13} rc {done.returncode} wall {wall:6.2f} s cpu {cpu:6.2f} s "
                      f"load {os.getloadavg()[0]:.2f} {time.strftime('%H:%M:%S', time.gmtime())} UTC", flush=True)
    for (what, code), runs in sorted(results.items()):
        walls, cpus = sorted(w for w, _ in runs), sorted(c for _, c in runs)
        print(f"{what:13} {code}: wall min {walls[0]:.2f} median {statistics.median(walls):.2f} max {walls[-1]:.2f}; "
              f"cpu min {cpus[0]:.2f} median {statistics.median(cpus):.2f} max {cpus[-1]:.2f}")


TIMES: list[tuple[float, str]] = []


class _Rows:
    """A cursor's rows, fetched while the statement was timed."""

    def __init__(self, cursor, rows):
        self.description, self.rowcount, self.lastrowid = cursor.description, cursor.rowcount, cursor.lastrowid
        self._rows, self._at = rows, 0

    def fetchone(self):
        if self._at < len(self._rows):
            self._at += 1
            return self._rows[self._at - 1]
        return None

    def fetchall(self):
        rows, self._at = self._rows[self._at:], len(self._rows)
        return rows

    def fetchmany(self, size=1):
        rows = self._rows[self._at:self._at + size]
        self._at += len(rows)
        return rows

    def __iter__(self):
        while (row := self.fetchone()) is not None:
            yield row

    def close(self):
        pass


class _TimedConnection(sqlite3.Connection):
    def execute(self, sql, params=()):
        started = time.perf_counter()
        cursor = super().execute(sql, params)
        rows = cursor.fetchall()
        TIMES.append((time.perf_counter() - started, " ".join(sql.split())))
        return _Rows(cursor, rows)


def statements(db_path: str, since: str, now: str, top: int) -> None:
    from sqlite_utils import Database

    from cuttings import report
    db = Database(sqlite3.connect(db_path, factory=_TimedConnection))
    started = time.perf_counter()
    report.build_digest(db, since=since, now=now)
    total = time.perf_counter() - started
    by_sql: dict = collections.defaultdict(lambda: [0, 0.0])
    for seconds, sql in TIMES:
        by_sql[sql][0] += 1
        by_sql[sql][1] += seconds
    print(f"build_digest {total:.3f} s; SQL {sum(s for s, _ in TIMES):.3f} s in {len(TIMES)} statements")
    for sql, (count, seconds) in sorted(by_sql.items(), key=lambda item: -item[1][1])[:top]:
        print(f"{seconds:7.3f} s x{count:3d}  {sql[:160]}")


def dump(db_path: str, out: Path, since: str, now: str) -> None:
    from sqlite_utils import Database

    from cuttings import report
    digest = report.build_digest(Database(sqlite3.connect(db_path)), since=since, now=now)
    out.mkdir(parents=True, exist_ok=True)
    (out / "digest.json").write_text(json.dumps(digest, indent=1, default=str))
    (out / "digest.html").write_text(report.render_html(digest))
    (out / "digest.md").write_text(report.render_markdown(digest))
    (out / "digest.txt").write_text(report.render_markdown(digest, plain=True))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    alt = commands.add_parser("alternate")
    alt.add_argument("--tree", action="append", required=True, metavar="CODE=DB[=DOCTOR_OPTIONS]",
                     help="a tree whose cuttings runs, and its copy of the database (two or more); optionally "
                          "doctor's options (CODE=DB=--full: a tree run once plain and once with --full is "
                          "given twice)")
    alt.add_argument("--only", choices=("report", "doctor"), help="time one command only")
    alt.add_argument("--rounds", type=int, default=6)
    alt.add_argument("--home", required=True, help="CUTTINGS_HOME: the models doctor loads")
    alt.add_argument("--since", required=True)
    alt.add_argument("--out", type=Path, default=Path("/tmp/report_doctor_scale"))
    for name in ("statements", "dump"):
        sub = commands.add_parser(name)
        sub.add_argument("db")
        if name == "dump":
            sub.add_argument("out", type=Path)
        sub.add_argument("--since", required=True)
        sub.add_argument("--now", required=True)
        if name == "statements":
            sub.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    if args.command == "alternate":
        alternate([tuple(tree.split("=", 2)) for tree in args.tree], args.rounds, args.home, args.since, args.out,
                  args.only)
    elif args.command == "statements":
        statements(args.db, args.since, args.now, args.top)
    else:
        dump(args.db, args.out, args.since, args.now)
    return 0


if __name__ == "__main__":
    sys.exit(main())
