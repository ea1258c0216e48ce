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


DEMO_CONFIG_FILES = ("watchlist.toml", "label_scheme.toml")   # the shipped copies the demo reads, always


def use_shipped_configuration() -> None:
    """Make this command read the shipped watchlist and label scheme wherever it reads them (as a ``--scheme``
    option does, ``paths.choose_config_file``): the demo's sites are West Mercia's, whatever the team's copies
    in the home folder say. (Its sources are ``config.DEMO_SOURCES`` already.)"""
    for name in DEMO_CONFIG_FILES:
        paths.choose_config_file(name, paths.package_data(name))


def own_models_dir() -> Path:
    """The demo's own models folder: ``demo-models/`` in the home folder."""
    return paths.home() / "demo-models"


def _fits_shipped_scheme(directory: Path) -> bool:
    """Whether ``directory``'s models load and are the shipped scheme's, every task of it trained."""
    from nlp.classify import ModelLoadError
    from nlp.scheme import load_scheme

    from cuttings import stages
    if not stages.models_present(directory):
        return False
    try:
        classifier = stages.load_classifier(directory)
        return not stages.check_models_fit(classifier, load_scheme(paths.package_data("label_scheme.toml")))
    except (ModelLoadError, stages.ModelsMismatch, stages.ModelsMissing):
        return False


def demo_models() -> tuple[Path, bool]:
    """The models folder the demo classifies with, and whether it must train them first (on the shipped corpus,
    scheme and watchlist). The configured models folder (``$CUTTINGS_MODELS``, else ``models/`` in the home
    folder) when its models are the shipped scheme's (an earlier demo's, or `cuttings train` with the shipped
    files); else the demo's own folder (:func:`own_models_dir`), so a team's models of its own scheme are neither
    used nor replaced. With no models anywhere, the configured folder when the configured scheme is the shipped
    one (the demo's models then serve `cuttings run` too, as before), else the demo's own."""
    from nlp.scheme import DEFAULT_SCHEME_PATH, SchemeError, load_scheme

    from cuttings import stages
    configured = stages.models_dir(None)
    if _fits_shipped_scheme(configured):
        return configured, False
    own = own_models_dir()
    if stages.models_present(own):
        return own, False
    if not stages.models_present(configured):
        try:
            mine = paths.home() / "label_scheme.toml"
            shipped = load_scheme(DEFAULT_SCHEME_PATH)
            if not mine.is_file() or stages._task_shapes(load_scheme(mine)) == stages._task_shapes(shipped):
                return configured, True
        except SchemeError:
            pass
    return own, True
