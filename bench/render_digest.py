"""Build the morning digest, render it to HTML, and screenshot it with headless Chromium.

Measures how long building and rendering take and writes the HTML, Markdown and a
PNG to look at. Uses the sample database from tests/report_fixtures.py unless --db
names a real one (e.g. the demo database).

    PYTHONPATH=. python bench/render_digest.py --out /tmp/digest
    PYTHONPATH=. python bench/render_digest.py --db data/demo.db --since 2026-11-01 --out /tmp/demo-digest
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cuttings import report, store  # noqa: E402


def screenshot(html_path: Path, png_path: Path, width: int, height: int) -> float:
    """Render ``html_path`` to ``png_path`` with headless Chromium; returns the seconds taken."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory(prefix="cuttings-chromium-") as profile:
        started = time.perf_counter()
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
                        f"--screenshot={png_path}", f"--window-size={width},{height}", html_path.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="database to read (default: a fresh sample database)")
    parser.add_argument("--since", help="digest window start (default: the last report, as `cuttings report`)")
    parser.add_argument("--now", help="digest end time (default: now; the sample database uses its own clock)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "cuttings-digest")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20, help="build+render repetitions to time")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    if args.db:
        db = store.connect(args.db, create=False)
        now = args.now
    else:
        from tests.report_fixtures import NOW, build_sample_db
        db = build_sample_db(args.out / "sample.db") if not (args.out / "sample.db").exists() \
            else store.connect(args.out / "sample.db")
        now = args.now or NOW

    timings = {"build": [], "html": [], "markdown": []}
    for _ in range(args.repeat):
        started = time.perf_counter()
        digest = report.build_digest(db, since=args.since, now=now)
        timings["build"].append(time.perf_counter() - started)
        started = time.perf_counter()
        page = report.render_html(digest)
        timings["html"].append(time.perf_counter() - started)
        started = time.perf_counter()
        text = report.render_markdown(digest)
        timings["markdown"].append(time.perf_counter() - started)

    html_path, md_path, png_path = args.out / "digest.html", args.out / "digest.md", args.out / "digest.png"
    html_path.write_text(page, encoding="utf-8")
    md_path.write_text(text, encoding="utf-8")
    seconds = screenshot(html_path, png_path, args.width, args.height)
    print(f"stories={digest['summary']['stories']} groups={len(digest['groups'])} edits={len(digest['edits'])} "
          f"html_bytes={len(page.encode())}")
    for name, values in timings.items():
        print(f"{name}: median {sorted(values)[len(values) // 2] * 1000:.1f} ms over {len(values)} runs")
    print(f"chromium screenshot: {seconds:.2f} s -> {png_path}")


if __name__ == "__main__":
    main()
