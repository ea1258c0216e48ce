"""Screenshots of the digest and of every Datasette page, by headless Chromium, for review.

    python -m cuttings.screenshots --db data/demo.db --out screenshots/

serves the database with ``cuttings serve``'s Datasette command (plugin, templates and
metadata included), renders the digest of the last seven days, and writes one PNG per page
(``digest.png``, ``home.png``, ``database.png``, ``stories.png``, ``story.png``, ``search.png``,
``search-empty.png``, ``most-quoted.png``, ``syndication.png``, ``quotes.png``,
``entity-daily.png``). Needs Debian's ``chromium`` (``apt-get install chromium``). Used by
``tests/test_browser.py`` too.
"""
from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--hide-scrollbars")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(url: str, png: str | Path, *, width: int = 1280, height: int = 1600, timeout: int = 90) -> Path:
    """Render ``url`` in headless Chromium (fresh profile) and write a PNG of the viewport."""
    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium not found: apt-get install chromium")
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cuttings-chromium-") as profile:
        subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                        f"--window-size={width},{height}", url],
                       check=True, capture_output=True, timeout=timeout)
    return png


def dump_dom(url: str, *, timeout: int = 90) -> str:
    """The page's DOM after Chromium loaded it (``--dump-dom``)."""
    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium not found: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="cuttings-chromium-") as profile:
        done = subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                              check=True, capture_output=True, timeout=timeout)
    return done.stdout.decode("utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def datasette_server(db_path: str | Path, *, corrections: bool = False, read_only: bool = True,
                     secret: str | None = None, annotator: str | None = None) -> Iterator[str]:
    """Datasette on ``db_path`` exactly as ``cuttings serve`` runs it, on a free port; yields the base URL.
    ``secret`` (``DATASETTE_SECRET``) lets two servers accept the same signed CSRF token; ``annotator`` is
    ``cuttings serve --annotator``."""
    import os

    from cuttings import serve

    db_path = Path(db_path)
    serve.checkpoint(db_path)
    with tempfile.TemporaryDirectory(prefix="cuttings-datasette-") as directory:
        metadata = serve.write_metadata(db_path, directory, corrections=corrections, annotator=annotator)
        port = free_port()
        process = subprocess.Popen(serve.datasette_command(db_path, metadata, port=port,
                                                           read_only=read_only and not corrections),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   env={**os.environ, **({"DATASETTE_SECRET": secret} if secret else {})})
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        try:
            while True:
                try:
                    urllib.request.urlopen(base + "/-/versions.json", timeout=5).read()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        process.kill()
                        output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                        raise RuntimeError("datasette did not start: " + output[-2000:]) from None
                    time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def pages(db_path: str | Path) -> dict[str, str]:
    """The Datasette pages to review, by screenshot name (paths relative to the server)."""
    import contextlib

    from cuttings import store

    name = Path(db_path).stem
    with contextlib.closing(store.connect_read_only(db_path)) as conn:
        row = conn.execute("SELECT s.article_id FROM article_summary s WHERE s.article_id IN "
                           "(SELECT article_id FROM quotes) AND s.syndicated_copies > 0 "
                           "ORDER BY s.published_at DESC LIMIT 1").fetchone() or \
            conn.execute("SELECT article_id FROM article_summary ORDER BY published_at DESC LIMIT 1").fetchone()
    story = row[0] if row else 1
    return {
        "home": "/",
        "database": f"/{name}",
        "stories": f"/{name}/article_summary",
        "story": f"/-/cuttings/story/{name}/{story}",
        "search": f"/{name}/search?q=fire+authority",
        "search-empty": f"/{name}/search?q=",
        "most-quoted": f"/{name}/most_quoted?rank__lte=3",
        "syndication": f"/{name}/syndication",
        "quotes": f"/{name}/quotes_by_speaker",
        "entity-daily": f"/{name}/entity_daily",
    }


def take_all(db_path: str | Path, out_dir: str | Path, *, width: int = 1280, height: int = 1600,
             now: str | None = None) -> list[Path]:
    """The digest and every page of :func:`pages` as PNGs in ``out_dir``; returns their paths."""
    from cuttings import report, store

    out_dir = Path(out_dir).resolve()  # the digest is opened as a file: URI, which must be absolute (--out shots/)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = store.connect(db_path, create=False)
    try:
        until = now or db.execute("SELECT max(first_seen_at) FROM articles").fetchone()[0]
        since = report._iso(report._parse(until) - report.dt.timedelta(days=7))
        digest = report.build_digest(db, since=since, until=until, now=until)
    finally:
        db.close()
    html = out_dir / "digest.html"
    html.write_text(report.render_html(digest), encoding="utf-8")
    shots = [screenshot(html.as_uri(), out_dir / "digest.png", width=1000, height=2400)]
    with datasette_server(db_path) as base:
        for shot, path in pages(db_path).items():
            shots.append(screenshot(base + path, out_dir / f"{shot}.png", width=width, height=height))
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="The cuttings database (e.g. data/demo.db).")
    parser.add_argument("--out", default="screenshots", help="Directory for the PNGs [screenshots].")
    args = parser.parse_args(argv)
    if chromium() is None:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 1
    for path in take_all(args.db, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
