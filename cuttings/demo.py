"""The offline demo: serve the packaged demo site (``data/demo_site/``) on 127.0.0.1 and run the whole pipeline on it."""
from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path

from cuttings import paths

DEMO_SITE = paths.demo_site_dir()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, no request log on stderr; XML feeds and sitemaps typed as XML."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".xml": "application/xml", ".html": "text/html; charset=utf-8",
                      ".txt": "text/plain; charset=utf-8"}

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


class DemoServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the crawler opens many connections at once; the default 5 drops some


@contextlib.contextmanager
def serve_directory(directory: str | Path = DEMO_SITE, host: str = "127.0.0.1", port: int = 0):
    """Serve a directory over HTTP in a background thread and yield its base URL.

    ``port`` is a preference (0: any free port); if it is taken a free port is used.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"demo site not found: {directory} (regenerate it with data/build_demo_site.py)")
    handler = functools.partial(QuietHandler, directory=str(directory))
    try:
        server = DemoServer((host, port), handler)
    except OSError:
        if not port:
            raise
        server = DemoServer((host, 0), handler)  # the preferred port is taken: any free one
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def previous_port(db) -> int:
    """The port the demo site had in this database's last demo run (0 if none), so a re-run
    can serve it at the same address and find its stored URLs again."""
    from urllib.parse import urlsplit

    row = db.execute("SELECT home_url FROM sources WHERE home_url LIKE 'http://127.0.0.1:%' "
                     "ORDER BY updated_at DESC LIMIT 1").fetchone() if "sources" in db.table_names() else None
    return (urlsplit(row[0]).port or 0) if row else 0
