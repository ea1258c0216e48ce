"""`cuttings demo` after a team configured its own files: the demo reads the shipped watchlist, sources and
label scheme and classifies with models of the shipped scheme (the configured folder's when they are, else
its own demo-models/), whatever the team's copies in the home folder say."""
from __future__ import annotations

from pathlib import Path

import pytest

from cuttings import demo, paths, stages
from nlp.scheme import load_scheme
from tests.conftest import query_rows, run_cli
from tests.test_models_fit import FakeClassifier
from tests.test_scheme_files import TEAM

SHIPPED = load_scheme()
# a team's watchlist: the shipped one with the Hereford & Worcester service renamed (its id kept)
TEAM_WATCHLIST = paths.package_data("watchlist.toml").read_text(encoding="utf-8").replace(
    'name = "Hereford & Worcester Fire and Rescue Service"', 'name = "Devon and Somerset Fire and Rescue Service"')


def team_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "label_scheme.toml").write_text(TEAM, encoding="utf-8")
    (home / "watchlist.toml").write_text(TEAM_WATCHLIST, encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    monkeypatch.delenv("CUTTINGS_MODELS", raising=False)
    return home


def fake_models(folder: Path, scheme) -> None:
    folder.mkdir(parents=True)
    (folder / "topics.skops").write_bytes(b"")
    (folder / "scheme.txt").write_text(scheme.path, encoding="utf-8")


@pytest.fixture
def fake_loading(monkeypatch):
    """stages.load_classifier gives the scheme the folder's scheme.txt names."""
    monkeypatch.setattr(stages, "load_classifier", lambda path=None: FakeClassifier(
        load_scheme((Path(path) / "scheme.txt").read_text(encoding="utf-8")), models_dir=path))


def test_the_teams_own_models_are_neither_used_nor_replaced(tmp_path, monkeypatch, fake_loading):
    home = team_home(tmp_path, monkeypatch)
    fake_models(home / "models", load_scheme(home / "label_scheme.toml"))
    assert demo.demo_models() == (home / "demo-models", True)     # trained there, on the shipped files
    fake_models(home / "demo-models", SHIPPED)
    assert demo.demo_models() == (home / "demo-models", False)


def test_models_of_the_shipped_scheme_in_the_models_folder_serve_the_demo(tmp_path, monkeypatch, fake_loading):
    home = team_home(tmp_path, monkeypatch)
    fake_models(home / "models", SHIPPED)
    assert demo.demo_models() == (home / "models", False)


def test_with_no_models_and_the_shipped_scheme_the_demo_trains_the_models_folder(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    monkeypatch.delenv("CUTTINGS_MODELS", raising=False)
    assert demo.demo_models() == (home / "models", True)   # `cuttings run` then uses them, as before
    (home / "label_scheme.toml").write_text(TEAM, encoding="utf-8")
    assert demo.demo_models() == (home / "demo-models", True)


def test_the_demo_reads_the_shipped_watchlist_and_scheme(tmp_path, monkeypatch):
    team_home(tmp_path, monkeypatch)
    demo.use_shipped_configuration()
    assert paths.config_file("watchlist.toml") == paths.package_data("watchlist.toml")
    assert paths.config_file("label_scheme.toml") == paths.package_data("label_scheme.toml")


def test_demo_after_a_team_configured_its_own_files(tmp_path, trained_models):
    """The whole demo, with a team's scheme and watchlist in the home folder and the shipped scheme's models
    configured: it ran (it used to stop at the team's scheme), named the shipped bodies, labelled stories with the
    shipped scheme's tasks."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "label_scheme.toml").write_text(TEAM, encoding="utf-8")
    (home / "watchlist.toml").write_text(TEAM_WATCHLIST, encoding="utf-8")
    db = tmp_path / "demo.db"
    result = run_cli("--db", str(db), "demo", env={"CUTTINGS_HOME": str(home), "CUTTINGS_MODELS": str(trained_models)})
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    out = result.stdout.decode()
    assert "Hereford & Worcester Fire and Rescue Service" in out and "Devon and Somerset" not in out
    tasks = {row["task"] for row in query_rows(db, "SELECT DISTINCT task FROM classifications")}
    assert "stance_governance" in tasks and "stance_closures" not in tasks
    assert not (home / "demo-models").exists()
