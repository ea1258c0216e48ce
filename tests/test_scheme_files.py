"""Every command that reads the label scheme reads the same file (``--scheme``, else the home folder's
``label_scheme.toml``, else the packaged one), and one that does not parse stops it in one line naming
the file, before anything is written: never the packaged scheme in its place without a word."""
from pathlib import Path

import pytest

from cuttings import paths, store
from tests.conftest import invoke_cli, query_rows

PACKAGED = paths.package_data("label_scheme.toml").read_text(encoding="utf-8")
# A team's stance task: its own name and labels.
TEAM = PACKAGED.replace("[tasks.stance_governance]", "[tasks.stance_closures]").replace(
    '"against"', '"oppose"').replace("against =", "oppose =")
BROKEN = {
    "not TOML": ("not toml [", "invalid TOML"),
    "a bad value": (PACKAGED.replace('exclusive = "other"', 'exclusive = "others"'),
                    "[tasks.topics] exclusive must be one of its labels"),
    "a misspelt key": (PACKAGED.replace('exclusive = "other"', 'exclusve = "other"'),
                       "[tasks.topics] unknown key 'exclusve' (did you mean 'exclusive'?"),
}


def _home(tmp_path: Path, scheme_text: str | None) -> dict:
    home = tmp_path / "home"
    home.mkdir()
    if scheme_text is not None:
        (home / "label_scheme.toml").write_text(scheme_text, encoding="utf-8")
    (home / "models").mkdir()
    (home / "models" / "topics.skops").write_bytes(b"")   # "models present": the scheme is checked next
    (home / "sources.toml").write_text(
        '[[source]]\nid = "gone"\nname = "Gone"\nhome = "http://127.0.0.1:9/"\nlocal = true\n', encoding="utf-8")
    return {"CUTTINGS_HOME": str(home)}


def _one_line_naming(result, path: Path, problem: str) -> None:
    error = result.stderr.decode()
    assert result.returncode == 1, (result.returncode, error, result.stdout.decode())
    assert error.count("\n") == 1 and "Traceback" not in error, error
    assert str(path) in error and problem in error, error


COMMANDS = {
    "run": ["run", "--quiet"],
    "report": ["report"],
    "export": ["export", "--stance", "oppose"],
    "classify": ["classify"],
    "train": ["train", "--corpus", "none"],
    "label": ["label", "--export", "labels.jsonl"],
    "serve": ["serve", "--port", "0"],
}


@pytest.mark.parametrize("broken", BROKEN)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_broken_scheme_in_the_home_folder_stops_every_command_that_reads_it(tmp_path, command, broken):
    text, problem = BROKEN[broken]
    env = _home(tmp_path, text)
    db = tmp_path / "c.db"
    store.connect(db).conn.close()
    before = db.read_bytes()
    args = [arg if arg != "labels.jsonl" else str(tmp_path / arg) for arg in COMMANDS[command]]
    result = invoke_cli("--db", str(db), *args, env=env)
    _one_line_naming(result, tmp_path / "home" / "label_scheme.toml", problem)
    # nothing written: no run row, no crawl, no digest, no export, no models
    assert db.read_bytes() == before
    assert query_rows(db, "SELECT count(*) AS n FROM crawl_runs")[0]["n"] == 0
    home = tmp_path / "home"
    assert not (home / "reports").exists() and not (tmp_path / "labels.jsonl").exists()
    assert sorted(p.name for p in (home / "models").iterdir()) == ["topics.skops"]


@pytest.mark.parametrize("command", ["run", "report", "export", "classify", "train", "label", "serve"])
def test_scheme_names_the_file_each_command_reads(tmp_path, command):
    """``--scheme FILE`` on every command that reads the scheme: a broken FILE is named, a good one is
    read in place of the home folder's (broken here)."""
    env = _home(tmp_path, BROKEN["not TOML"][0])
    db = tmp_path / "c.db"
    store.connect(db).conn.close()
    broken = tmp_path / "theirs.toml"
    broken.write_text(BROKEN["a bad value"][0], encoding="utf-8")
    args = [arg if arg != "labels.jsonl" else str(tmp_path / arg) for arg in COMMANDS[command]]
    result = invoke_cli("--db", str(db), *args, "--scheme", str(broken), env=env)
    _one_line_naming(result, broken, BROKEN["a bad value"][1])


def test_export_reads_the_scheme_given_and_only_for_that_command(tmp_path):
    env = _home(tmp_path, None)
    db = tmp_path / "c.db"
    store.connect(db).conn.close()
    team = tmp_path / "team.toml"
    team.write_text(TEAM, encoding="utf-8")
    result = invoke_cli("--db", str(db), "export", "--stance", "oppose", "--scheme", str(team), env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert "exported 0 stories" in result.stderr.decode()
    # the next command (same process) reads the home folder's scheme again: here the packaged one
    result = invoke_cli("--db", str(db), "export", "--stance", "oppose", env=env)
    assert result.returncode == 1 and "unknown stance 'oppose': choose from favour, against" in result.stderr.decode()


def test_no_scheme_file_at_all_is_the_shipped_default(tmp_path):
    env = _home(tmp_path, None)
    db = tmp_path / "c.db"
    store.connect(db).conn.close()
    result = invoke_cli("--db", str(db), "export", "--stance", "against", env=env)
    assert result.returncode == 0, result.stderr.decode()


def test_train_takes_the_watchlist_it_learns_from(tmp_path):
    env = _home(tmp_path, None)
    bad = tmp_path / "watchlist.toml"
    bad.write_text("[[entity]]\nid = 'x'\nnmae = 'X'\n", encoding="utf-8")
    result = invoke_cli("--db", str(tmp_path / "c.db"), "train", "--watchlist", str(bad), "--corpus", "none", env=env)
    _one_line_naming(result, bad, "unknown key 'nmae' (did you mean 'name'?")
    assert not (tmp_path / "c.db").exists()


def test_evaluate_reads_the_task_names_of_the_scheme_given(tmp_path):
    """`--scheme` is read before TASK (which names a task of the scheme), wherever it is written."""
    env = _home(tmp_path, None)
    team = tmp_path / "team.toml"
    team.write_text(TEAM, encoding="utf-8")
    table = tmp_path / "table.csv"
    table.write_text("id,topics\nx,finance\n", encoding="utf-8")
    result = invoke_cli("evaluate", "stance_closures", "--corpus", str(table), env=env)
    assert result.returncode == 2 and "'stance_closures' is not one of" in result.stderr.decode()
    result = invoke_cli("evaluate", "stance_closures", "--corpus", str(table), "--scheme", str(team), env=env)
    assert result.returncode == 1 and "invalid JSON" in result.stderr.decode()   # past the task names


@pytest.mark.parametrize("command", ["run", "classify", "train", "report", "export", "label", "evaluate",
                                     "analyse-text", "serve", "doctor"])
def test_every_command_that_reads_the_scheme_has_scheme(command):
    result = invoke_cli(command, "--help")
    assert result.returncode == 0 and "--scheme" in result.stdout.decode()


def test_serves_datasette_reads_the_scheme_serve_was_given(tmp_path):
    """`cuttings serve --scheme FILE`: the story pages (in Datasette's process) read FILE too."""
    import os
    import subprocess
    import sys
    team = tmp_path / "team.toml"
    team.write_text(TEAM, encoding="utf-8")
    paths.choose_config_file("label_scheme.toml", team)
    try:
        env = {**os.environ, "CUTTINGS_HOME": str(tmp_path), **paths.chosen_config_env()}
    finally:
        paths.forget_chosen_config_files()
    child = subprocess.run([sys.executable, "-c", "from cuttings import paths; print(paths.config_file('label_scheme.toml'))"],
                           env=env, capture_output=True, text=True, check=True)
    assert child.stdout.strip() == str(team)
    assert paths.config_file("label_scheme.toml") != team   # this process forgot it


def test_evaluate_reads_the_watchlist_given(tmp_path):
    env = _home(tmp_path, None)
    bad = tmp_path / "watchlist.toml"
    bad.write_text("[[entity]]\nid = 'x'\nnmae = 'X'\n", encoding="utf-8")
    sample = tmp_path / "sample.jsonl"
    sample.write_text('{"id": "a", "title": "T", "body": "B", "entities": []}\n', encoding="utf-8")
    result = invoke_cli("evaluate", "entities", "--data", str(sample), "--watchlist", str(bad), env=env)
    assert result.returncode == 1 and str(bad) in result.stderr.decode(), result.stderr.decode()
    assert "unknown key 'nmae'" in result.stderr.decode() and "Traceback" not in result.stderr.decode()
