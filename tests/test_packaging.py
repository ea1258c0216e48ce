"""Installs anywhere: the wheel carries its data, and an installed cuttings writes nothing into site-packages.

The install test builds a wheel from the tracked files (copied to a temporary folder, so the
checkout gets no build/ or egg-info), installs it NON-editable with ``--no-deps --no-index``
into a fresh virtualenv created without access to any site-packages, and only then adds a
``.pth`` line naming this test environment's site-packages so the dependencies (Scrapy, spaCy,
...) are importable without a network. The wheel's own copy comes first on ``sys.path``, and
the ``.pth`` does not activate this checkout's editable finder (a plain path line in a .pth
adds a folder, it does not process the .pth files inside it), so ``cuttings`` is imported
from the fresh virtualenv: the test asserts that too.
"""
from __future__ import annotations

import configparser
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MAX_TRACKED_BYTES = 5 * 1024 * 1024


def _tracked_files() -> list[str]:
    result = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True)
    if result.returncode != 0:
        pytest.skip("not a git checkout")
    return [name for name in result.stdout.decode().split("\0") if name]


def test_setup_cfg_lists_every_code_package():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {".".join(init.parent.relative_to(REPO).parts)
             for top in ("cuttings", "crawler", "nlp") for init in (REPO / top).rglob("__init__.py")}
    assert found <= listed, f"packages missing from setup.cfg [options] packages: {sorted(found - listed)}"
    assert "cuttings_data" in listed and "cuttings_data = data" in config["options"]["package_dir"]
    # the guides that help texts and hints name (docs/NAME.md) go into the wheel too: `cuttings docs`
    assert "cuttings_docs" in listed and "cuttings_docs = docs" in config["options"]["package_dir"]
    assert config["options.package_data"]["cuttings_docs"].split() == ["*.md"]
    # so do the cron and systemd examples of deploy/ (`cuttings docs` lists them): every one of them
    from cuttings.paths import DEPLOY_EXAMPLES
    assert "cuttings_deploy" in listed and "cuttings_deploy = deploy" in config["options"]["package_dir"]
    assert config["options.package_data"]["cuttings_deploy"].split() == sorted(DEPLOY_EXAMPLES)
    shipped = {path.name for pattern in DEPLOY_EXAMPLES for path in (REPO / "deploy").glob(pattern)}
    tracked = {Path(name).name for name in _tracked_files() if name.startswith("deploy/")} - {"__init__.py"}
    assert tracked and tracked == shipped, f"deploy/ files the wheel leaves out: {sorted(tracked - shipped)}"


def test_no_tracked_file_over_5_mib():
    big = [name for name in _tracked_files() if (REPO / name).is_file()
           and (REPO / name).stat().st_size > MAX_TRACKED_BYTES]
    assert big == []


def test_home_folder_rules(monkeypatch, tmp_path):
    from cuttings import paths
    monkeypatch.delenv("CUTTINGS_DB", raising=False)
    monkeypatch.delenv("CUTTINGS_MODELS", raising=False)
    monkeypatch.delenv("CUTTINGS_HOME", raising=False)
    assert paths.source_checkout() == REPO
    assert paths.home() == REPO / "data"  # developers keep working as before
    assert paths.package_data("watchlist.toml") == REPO / "data" / "watchlist.toml"
    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path))
    assert paths.default_db() == tmp_path / "cuttings.db"
    assert paths.models_dir() == tmp_path / "models"
    assert paths.config_file("sources.toml") == REPO / "data" / "sources.toml"  # no copy yet: packaged
    (tmp_path / "sources.toml").write_text("# mine\n", encoding="utf-8")
    assert paths.config_file("sources.toml") == tmp_path / "sources.toml"


def test_init_writes_copies_and_keeps_existing_ones(tmp_path):
    from click.testing import CliRunner
    from pipeline import cli
    target = tmp_path / "conf"
    result = CliRunner().invoke(cli, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert "next: edit them" in result.output and "cuttings doctor" in result.output
    for name in ("sources.toml", "watchlist.toml", "label_scheme.toml"):
        assert (target / name).read_bytes() == (REPO / "data" / name).read_bytes()
    (target / "watchlist.toml").write_text("# edited\n", encoding="utf-8")
    (target / "label_scheme.toml").unlink()   # e.g. a file a newer version adds
    again = CliRunner().invoke(cli, ["init", str(target)])
    assert again.exit_code == 0, again.output   # re-running is safe (scripts, upgrades)
    assert (target / "watchlist.toml").read_text(encoding="utf-8") == "# edited\n"
    assert (target / "label_scheme.toml").read_bytes() == (REPO / "data" / "label_scheme.toml").read_bytes()
    assert f"wrote {target / 'label_scheme.toml'}" in again.output
    assert "kept sources.toml, watchlist.toml" in again.output and "--force" in again.output
    forced = CliRunner().invoke(cli, ["init", "--force", str(target)])
    assert forced.exit_code == 0, forced.output
    assert (target / "watchlist.toml").read_bytes() == (REPO / "data" / "watchlist.toml").read_bytes()
    assert "kept" not in forced.output


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel installed (non-editable); returns its bin/ folder."""
    import setuptools
    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    assert (major, minor) >= (70, 1), (f"setuptools {setuptools.__version__} cannot build the wheel offline: the test "
                                       "extra needs setuptools>=70.1 (run `make install`)")
    work = tmp_path_factory.mktemp("install")
    source = work / "src"
    for name in _tracked_files():
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "--wheel-dir", str(work / "dist"), str(source)], capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    assert "BuildBackendWarning" not in build.stdout + build.stderr
    wheel, = (work / "dist").glob("cuttings-*.whl")
    target = work / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(target)
    python = target / "bin" / "python"
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                              "--no-index", str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return target / "bin"


@pytest.fixture
def models_for_install(request) -> Path:
    """The session's trained models; ``$CUTTINGS_TEST_MODELS`` names already trained ones instead
    (training takes minutes on a loaded machine)."""
    given = os.environ.get("CUTTINGS_TEST_MODELS")
    return Path(given) if given else request.getfixturevalue("trained_models")


def _user_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTTINGS_") and k != "PYTHONPATH"}
    env.update({"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "xdg"), **extra})
    return env


@pytest.mark.slow
def test_installed_wheel_runs_demo_and_analyse_text_from_an_empty_folder(installed, tmp_path, models_for_install):
    site = Path(subprocess.run([str(installed / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    where = subprocess.run([str(installed / "python"), "-c", "import cuttings, cuttings_data, nlp; "
                            "print(cuttings.__file__); print(cuttings_data.__file__); print(nlp.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path).stdout.split()
    assert all(path.startswith(str(site)) for path in where), where
    before = _snapshot(site)
    empty = tmp_path / "empty"
    empty.mkdir()
    # Models trained once per session (training takes minutes); everything else comes from the wheel.
    env = _user_env(tmp_path, CUTTINGS_MODELS=str(models_for_install))

    demo = subprocess.run([str(installed / "cuttings"), "demo"], cwd=empty, env=env, capture_output=True,
                          text=True, timeout=900)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
    home = tmp_path / "xdg" / "cuttings"  # platformdirs' user data folder under XDG_DATA_HOME
    assert (home / "demo.db").is_file()
    assert list((home / "demo-reports").glob("digest-*.html"))  # the digest goes beside the database
    assert "stories" in demo.stdout and "Traceback" not in demo.stdout + demo.stderr
    stats = subprocess.run([str(installed / "cuttings"), "--db", str(home / "demo.db"), "db", "stats", "--json"],
                           cwd=empty, env=env, capture_output=True, text=True)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["articles"] > 100

    article = empty / "article.txt"
    article.write_text("Fire service praised after warehouse blaze\n"
                       "Hereford and Worcester Fire and Rescue Service sent six crews to the blaze. "
                       '"Our crews worked through the night," said Chief Fire Officer Jonathon Pryce.\n',
                       encoding="utf-8")
    analysed = subprocess.run([str(installed / "cuttings"), "analyse-text", "article.txt"], cwd=empty, env=env,
                              capture_output=True, text=True, timeout=300)
    assert analysed.returncode == 0, analysed.stderr[-2000:]
    output = json.loads(analysed.stdout)
    assert "hwfrs" in output["entities"]
    assert output["quotes"] and output["quotes"][0]["text"].startswith("Our crews")
    assert output["topics"], output

    # the guides are installed: `cuttings docs NAME` prints a file in site-packages
    guide = subprocess.run([str(installed / "cuttings"), "docs", "operations"], cwd=empty, env=env,
                           capture_output=True, text=True)
    assert guide.returncode == 0, guide.stderr
    assert guide.stdout.strip().startswith(str(site)) and Path(guide.stdout.strip()).read_text().startswith("# ")

    assert os.listdir(empty) == ["article.txt"]  # nothing written into the working folder
    assert _snapshot(site) == before  # nothing written into site-packages


@pytest.mark.slow
def test_installed_wheel_ships_the_deploy_examples(installed, tmp_path):
    """A user who pip-installs cuttings gets the deploy/ examples: `cuttings docs` lists them in site-packages
    and `cuttings docs FILE` prints the path of the installed copy, the same file as the checkout's."""
    site = Path(subprocess.run([str(installed / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    env = _user_env(tmp_path)
    listing = subprocess.run([str(installed / "cuttings"), "docs"], cwd=tmp_path, env=env, capture_output=True,
                             text=True)
    assert listing.returncode == 0, listing.stderr
    assert f"examples to adapt in {site / 'cuttings_deploy'} " in listing.stdout
    for name in ("cuttings.cron", "cuttings.service", "cuttings.timer", "cuttings-worker.service"):
        shown = subprocess.run([str(installed / "cuttings"), "docs", name], cwd=tmp_path, env=env,
                               capture_output=True, text=True)
        assert shown.returncode == 0, shown.stderr
        path = Path(shown.stdout.strip())
        assert path == site / "cuttings_deploy" / name and path.read_bytes() == (REPO / "deploy" / name).read_bytes()
