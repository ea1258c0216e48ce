"""Where cuttings finds its files: packaged defaults, the user's configuration and its state.

Two kinds of file (``docs/configuration.md``, "Where files live"):

* **Packaged data** ships inside the package and is only ever read: the default
  configuration (``sources.toml``, ``watchlist.toml``, ``label_scheme.toml``,
  ``demo_sources.toml``), the seed corpus, the gold quotes, the demo site and the static
  embeddings. In the repository it is the ``data/`` folder, installed as the
  ``cuttings_data`` package (``setup.cfg``) and read with :mod:`importlib.resources`.
* **The home folder** holds what a user edits or what cuttings writes: the databases,
  models, digests, logs and the user's own copies of the configuration files
  (``cuttings init``). It is ``$CUTTINGS_HOME`` if set; else, in a source checkout, the
  checkout's ``data/`` folder (developers keep working as before); else the platform's
  user data folder (``platformdirs.user_data_dir("cuttings")``, e.g.
  ``~/.local/share/cuttings``). Nothing is ever written into the installed package.

A configuration file is looked up in the home folder first and falls back to the packaged
default, so ``cuttings init`` followed by an edit changes what every command reads. Every
path here can be overridden per command by its option (``--db``, ``--models``, ...).
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

PACKAGE_DATA = "cuttings_data"
CONFIG_FILES = ("sources.toml", "watchlist.toml", "label_scheme.toml")
_REPO_DIR = Path(__file__).resolve().parent.parent


def source_checkout() -> Path | None:
    """The repository folder when this code runs from a source checkout (editable install or
    ``python pipeline.py``), else None (an installed wheel)."""
    if (_REPO_DIR / "setup.cfg").is_file() and (_REPO_DIR / "pipeline.py").is_file() \
            and (_REPO_DIR / "data" / "watchlist.toml").is_file():
        return _REPO_DIR
    return None


def package_data(*parts: str) -> Path:
    """A file or folder of the packaged data (read only), as a filesystem path."""
    try:
        root = resources.files(PACKAGE_DATA)
    except ModuleNotFoundError:  # running from a checkout that was never installed
        root = _REPO_DIR / "data"
    target = root.joinpath(*parts)
    if not isinstance(target, Path):  # a zipped install: not supported (pip never zips)
        raise RuntimeError(f"cuttings' packaged data must be on the filesystem, not in {target}")
    return target


def docs_dir() -> Path:
    """The folder of the Markdown guides (``docs/*.md``): installed with cuttings as the package
    ``cuttings_docs``, the checkout's ``docs/`` otherwise (``cuttings docs`` prints it)."""
    return _installed_folder("cuttings_docs", "docs", "documentation")


# The examples of deploy/ that `cuttings docs` lists (and setup.cfg's package_data installs).
DEPLOY_EXAMPLES = ("*.cron", "*.service", "*.timer")


def deploy_dir() -> Path:
    """The folder of the scheduling and service examples (``deploy/``: the crontab, the systemd
    units and timer): installed with cuttings as the package ``cuttings_deploy``, the checkout's
    ``deploy/`` otherwise (``cuttings docs`` lists them)."""
    return _installed_folder("cuttings_deploy", "deploy", "deployment examples")


def _installed_folder(package: str, checkout_folder: str, what: str) -> Path:
    """The folder of installed package ``package`` (files shipped for the user to read), else the
    checkout's ``checkout_folder``."""
    try:
        root = resources.files(package)
    except ModuleNotFoundError:  # running from a checkout that was never installed
        return _REPO_DIR / checkout_folder
    if not isinstance(root, Path):
        raise RuntimeError(f"cuttings' {what} must be on the filesystem, not in {root}")
    return root


def doc(name: str) -> str:
    """The path of one guide (``doc("operations.md")``), for a hint a user can open wherever cuttings is installed."""
    return str(docs_dir() / name)


def home() -> Path:
    """The folder for the user's configuration copies and cuttings' state (see the module doc)."""
    if os.environ.get("CUTTINGS_HOME"):
        return Path(os.environ["CUTTINGS_HOME"]).expanduser()
    checkout = source_checkout()
    if checkout is not None:
        return checkout / "data"
    import platformdirs
    return Path(platformdirs.user_data_dir("cuttings", appauthor=False))


# Configuration files a command's option named (``--scheme FILE``): this command reads that file
# wherever it reads the configuration file of that name, however deep in the library. The command
# line sets it (``cuttings.cli_common.scheme_option``) and clears it when each command starts.
_CHOSEN: dict[str, Path] = {}
# ... and for a process the command starts (`cuttings serve`'s Datasette, whose story pages read the label
# scheme): the choices as JSON in this variable of its environment (:func:`chosen_config_env`).
CHOSEN_ENV = "CUTTINGS_CHOSEN_CONFIG"


def choose_config_file(name: str, path: str | Path | None) -> None:
    """Make :func:`config_file` give ``path`` for ``name`` (None: back to the home folder's, else packaged)."""
    if path is None:
        _CHOSEN.pop(name, None)
    else:
        _CHOSEN[name] = Path(path)


def forget_chosen_config_files() -> None:
    _CHOSEN.clear()


def chosen_config_env() -> dict[str, str]:
    """The environment variable that gives a child process this command's chosen configuration files."""
    import json
    return {CHOSEN_ENV: json.dumps({name: str(path) for name, path in _CHOSEN.items()})} if _CHOSEN else {}


def _chosen_by_parent(name: str) -> Path | None:
    import json
    try:
        chosen = json.loads(os.environ.get(CHOSEN_ENV) or "{}")
    except ValueError:
        return None
    return Path(chosen[name]) if isinstance(chosen, dict) and isinstance(chosen.get(name), str) else None


def config_file(name: str) -> Path:
    """A configuration file: the one the command's option named (:func:`choose_config_file`), else the
    user's copy in the home folder if there is one, else the packaged default."""
    if name in _CHOSEN:
        return _CHOSEN[name]
    chosen = _chosen_by_parent(name)
    if chosen is not None:
        return chosen
    mine = home() / name
    return mine if mine.is_file() else package_data(name)


def default_db() -> Path:
    """``$CUTTINGS_DB``, else ``cuttings.db`` in the home folder."""
    return Path(os.environ.get("CUTTINGS_DB") or home() / "cuttings.db")


def demo_db() -> Path:
    return home() / "demo.db"


def models_dir() -> Path:
    """``$CUTTINGS_MODELS``, else ``models/`` in the home folder."""
    return Path(os.environ.get("CUTTINGS_MODELS") or home() / "models")


def reports_dir() -> Path:
    return home() / "reports"


def log_file() -> Path:
    return home() / "logs" / "cuttings.log"


def corpus_dir() -> Path:
    """The labelled corpus training starts from: the user's own (``corpus/`` in the home folder, in the
    seed corpus's format, with a ``labels.jsonl``) if there is one, else the packaged seed corpus."""
    mine = home() / "corpus"
    return mine if (mine / "labels.jsonl").is_file() else package_data("corpus")


def demo_site_dir() -> Path:
    return package_data("demo_site")


# ----------------------------------------------------------------------------------------------
# output paths: every command that writes a file or a folder the user named goes through these
# ----------------------------------------------------------------------------------------------

def output_dir_problem(folder: str | Path) -> str | None:
    """Why files cannot be written in ``folder`` (which may not exist yet: missing folders are
    created), or None when they can. Creates nothing."""
    import os
    folder = Path(folder)
    existing = folder
    try:
        while not existing.exists():  # the nearest folder that exists: the rest will be created in it
            if existing.parent == existing:
                break
            existing = existing.parent
        is_file = existing.exists() and not existing.is_dir()
    except OSError as exc:  # a folder on the way that cannot be searched
        return f"cannot reach {existing}: {exc.strerror or exc}"
    if is_file:
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"the folder {existing} is not writable"
    return None


def check_output_dir(folder: str | Path) -> Path:
    """``folder`` as a Path if files can be written in it (once missing folders are created), else
    :class:`~cuttings.errors.OutputPathError` naming it. Creates nothing."""
    from cuttings.errors import OutputPathError
    folder = Path(folder)
    problem = output_dir_problem(folder)
    if problem:
        raise OutputPathError(f"cannot write to {folder}: {problem}")
    return folder


def check_output_file(path: str | Path, *, needs_folder: bool = False) -> Path:
    """``path`` as a Path if it can be written as a file (once missing folders are created), else
    :class:`~cuttings.errors.OutputPathError` naming it. Creates nothing. A file that exists and
    can be written will do in a folder that cannot (``/dev/stdout``), unless ``needs_folder``: the
    writer makes files beside it (a ``.partial`` copy renamed into place, a rotated log)."""
    import os
    from cuttings.errors import OutputPathError
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"cannot write {path}: it is a folder")
    if not needs_folder and path.exists() and os.access(path, os.W_OK):
        return path
    problem = output_dir_problem(path.parent)
    if problem:
        raise OutputPathError(f"cannot write {path}: {problem}")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"cannot write {path}: the file is read-only")
    return path


def _make_dirs(folder: Path, what: Path) -> None:
    from cuttings.errors import OutputPathError
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a race, or storage the checks cannot see (read-only mount)
        raise OutputPathError(f"cannot write {what}: cannot create the folder {folder}: "
                              f"{exc.strerror or exc}") from None


def output_dir(folder: str | Path) -> Path:
    """Make ``folder`` (and missing parents) ready for files: checked as :func:`check_output_dir`."""
    folder = check_output_dir(folder)
    _make_dirs(folder, folder)
    return folder


def output_file(path: str | Path, *, needs_folder: bool = False) -> Path:
    """Make ``path`` ready to be written as a file: checked as :func:`check_output_file`, missing
    parent folders created (as ``export`` and ``db backup`` always did)."""
    path = check_output_file(path, needs_folder=needs_folder)
    _make_dirs(path.parent, path)
    return path
