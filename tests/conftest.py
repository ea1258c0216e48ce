"""Shared fixtures. Crawls run in subprocesses (Twisted's reactor starts once per process)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict | None = None, input: bytes | None = None, timeout: int = 600,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python pipeline.py ARGS` as a user would, capturing output as text."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("CUTTINGS_DB", "CUTTINGS_MODELS")}
    full_env.update({"PYTHONUNBUFFERED": "1", **(env or {})})
    return subprocess.run([sys.executable, str(REPO / "pipeline.py"), *args], capture_output=True,
                          input=input, env=full_env, timeout=timeout, cwd=cwd or REPO)


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory) -> Path:
    """Models trained once per test session on the seed corpus (real skops files)."""
    directory = tmp_path_factory.mktemp("models")
    result = run_cli("train", "--models", str(directory), env={"CUTTINGS_DB": str(directory / "none.db")})
    assert result.returncode == 0, result.stderr.decode()
    assert any(directory.glob("*.skops"))
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
