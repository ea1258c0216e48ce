"""The offline demo: serve ``data/demo_site/`` on 127.0.0.1 and run the whole pipeline on it."""
from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path

from cuttings.store import DATA_DIR

DEMO_SITE = DATA_DIR / "demo_site"


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
    """Serve a directory over HTTP on a free port in a background thread; yields the base URL."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"demo site not found: {directory} (regenerate it with data/build_demo_site.py)")
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = DemoServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
