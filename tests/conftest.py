"""Shared fixtures. Crawls run in subprocesses (Twisted's reactor starts once per process).

``slow`` is applied automatically (:func:`pytest_collection_modifyitems`): a test is slow when it,
or any fixture it uses, crawls, trains models or starts a server (see ``SLOW_CALLS``), or uses a
fixture that does (``trained_models``, ``demo_db`` ...). ``pytest -m "not slow"`` runs the rest.
The trained models and the demo database are built once per session.
"""
from __future__ import annotations

import functools
import inspect
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def load_script(name: str, relative: str):
    """The module of a script that is not a package module (``bench/…``, ``data/build_demo_site.py``),
    loaded once per session under ``name``."""
    import importlib.util
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

# Calls that crawl, train or start a server: a test or fixture whose source makes one is slow.
SLOW_CALLS = re.compile(
    r"(?<!def )\b(run_crawl\w*|\w*train\w*|cross_val\w*|_task_examples|serve_directory|\w*local_site|FaultServer|"
    r"Popen|Controller|ThreadingHTTPServer|datasette_command)\(")
# Session fixtures that train or crawl (through the command line, in a subprocess).
SLOW_FIXTURES = {"trained_models", "demo_db"}


@functools.lru_cache(maxsize=None)
def _makes_slow_call(func) -> bool:
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return False
    return bool(SLOW_CALLS.search(source))


def _is_slow(item) -> bool:
    if item.get_closest_marker("slow"):
        return True
    if _makes_slow_call(getattr(item, "function", None)):
        return True
    info = getattr(item, "_fixtureinfo", None)
    if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    for name in getattr(item, "fixturenames", ()):
        for fixturedef in (info.name2fixturedefs.get(name, ()) if info else ()):
            if _makes_slow_call(fixturedef.func):
                return True
    return False


@pytest.fixture(autouse=True)
def _no_chosen_config_files_between_tests():
    """A command's --scheme/--watchlist/--sources choice lives for its process (cuttings.paths); in-process
    CLI tests share one process, so each test starts and ends without a choice left by another."""
    from cuttings import paths
    paths.forget_chosen_config_files()
    yield
    paths.forget_chosen_config_files()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_slow(item) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


def run_cli(*args: str, env: dict | None = None, input: bytes | None = None, timeout: int = 600,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python pipeline.py ARGS` as a user would, capturing output as text."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("CUTTINGS_DB", "CUTTINGS_MODELS")}
    full_env.update({"PYTHONUNBUFFERED": "1", **(env or {})})
    return subprocess.run([sys.executable, str(REPO / "pipeline.py"), *args], capture_output=True,
                          input=input, env=full_env, timeout=timeout, cwd=cwd or REPO)


def query_rows(db_path, sql: str, params=()) -> list[dict]:
    """The rows of ``sql`` on the SQLite file ``db_path`` (a ``file:`` URI too) as dicts, the connection
    closed after: what a test reads of a database a command wrote."""
    conn = sqlite3.connect(db_path, uri=str(db_path).startswith("file:"))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def invoke_cli(*args: str, env: dict | None = None, input: bytes | None = None) -> subprocess.CompletedProcess:
    """Run the command line in this process (click's ``CliRunner``), for tests where a separate
    process is not the point: same result shape as :func:`run_cli` (``returncode``, ``stdout``
    and ``stderr`` as bytes). An exception the command line let through is written to ``stderr``
    as a traceback, as the real process would print it."""
    import traceback

    from click.testing import CliRunner

    import pipeline

    full_env = {"CUTTINGS_DB": None, "CUTTINGS_MODELS": None, **(env or {})}
    result = CliRunner().invoke(pipeline.cli, list(args), env=full_env, input=input)
    stderr = result.stderr_bytes or b""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception)).encode()
    return subprocess.CompletedProcess(["cuttings", *args], result.exit_code, result.stdout_bytes, stderr)


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory) -> Path:
    """Models trained once per test session on the seed corpus (real skops files). Two
    cross-validation folds and no held-out slices: the cards' figures are not what these tests
    check (test_classify and bench/classify.py measure the models), and training is most of a full
    run's time. The command's output is kept beside them (``train_output.txt``; its stderr, ``train_errors.txt``)."""
    directory = tmp_path_factory.mktemp("models")
    result = run_cli("train", "--models", str(directory), "--folds", "2", "--no-slices",
                     env={"CUTTINGS_DB": str(directory / "none.db")}, timeout=1800)
    assert result.returncode == 0, result.stderr.decode()
    assert any(directory.glob("*.skops"))
    (directory / "train_output.txt").write_bytes(result.stdout)
    (directory / "train_errors.txt").write_bytes(result.stderr)
    return directory


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory, trained_models) -> Path:
    """The demo pipeline run once per session into a temporary database."""
    directory = tmp_path_factory.mktemp("demo")
    db = directory / "demo.db"
    result = run_cli("--db", str(db), "demo", "--report-dir", str(directory / "reports"),
                     env={"CUTTINGS_MODELS": str(trained_models)})
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    (directory / "first_run.txt").write_bytes(result.stdout)
    return db
