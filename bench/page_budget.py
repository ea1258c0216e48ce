"""How much of a source's page budget a crawl of the demo site spends, and what it finds, per source.

Serves the embedded demo site on 127.0.0.1, crawls it once (``cuttings crawl --since all
--no-politeness``) with ``max_pages_per_source`` set to each budget given, and prints per source the
articles stored (against the site's manifest) and whether the budget was hit (``crawl_notices``).
``--code DIR`` crawls with another tree's code (e.g. ``git archive REV | tar -x -C DIR``) beside this
one, so the two are compared in one run.

    PYTHONPATH=. python bench/page_budget.py --budget 500 --budget 250 --code /tmp/old
"""
from __future__ import annotations

import argparse
import collections
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from cuttings.demo import DEMO_SITE, serve_directory

REPO = Path(__file__).resolve().parent.parent
DEMO_SOURCES = REPO / "data" / "demo_sources.toml"


def crawl(code: Path, sources: Path, db: Path) -> None:
    result = subprocess.run([sys.executable, str(code / "pipeline.py"), "--db", str(db), "crawl", "--sources",
                             str(sources), "--since", "all", "--no-politeness"],
                            cwd=code, capture_output=True, text=True, env={"PYTHONPATH": str(code), "PATH": ""})
    if result.returncode != 0:
        raise SystemExit(f"crawl failed with {code}: {result.stderr.strip().splitlines()[-1:]}")


def figures(db: Path) -> dict[str, dict]:
    con = sqlite3.connect(db)
    stored = collections.Counter(dict(con.execute("SELECT source_id, count(*) FROM articles GROUP BY source_id")))
    hit = {row[0] for row in con.execute("SELECT source_id FROM crawl_notices WHERE kind = 'budget_pages'")}
    return {source: {"stored": stored[source], "budget_hit": source in hit} for source in sorted(stored)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, action="append", help="max_pages_per_source (repeatable)")
    parser.add_argument("--code", type=Path, action="append", default=[], help="another tree to compare")
    args = parser.parse_args()
    manifest = json.loads((DEMO_SITE / "manifest.json").read_text(encoding="utf-8"))
    expected = collections.Counter(article["outlet"] for article in manifest["articles"])
    print("manifest:", dict(expected))
    with serve_directory() as base, tempfile.TemporaryDirectory() as tmp:
        for budget in args.budget or [500]:
            sources = Path(tmp) / f"sources-{budget}.toml"
            sources.write_text(f"[crawl]\nmax_pages_per_source = {budget}\n\n"
                               + DEMO_SOURCES.read_text(encoding="utf-8").replace("{base}", base), encoding="utf-8")
            for number, code in enumerate([REPO, *args.code]):
                db = Path(tmp) / f"{budget}-{number}.db"
                crawl(code, sources, db)
                print(f"budget {budget}, {code}:", json.dumps(figures(db)))


if __name__ == "__main__":
    main()
