"""The command line's conventions: help with examples, one-line errors, nothing written on mistakes."""
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import pipeline
from cuttings import store
from tests.conftest import REPO, invoke_cli, run_cli

REPO_PAGES = REPO / "tests" / "pages"


def all_commands(group=pipeline.cli, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path,command", list(all_commands()), ids=lambda v: " ".join(v) if isinstance(v, tuple)
                         else "")
def test_every_command_has_help_with_example(path, command):
    result = CliRunner().invoke(pipeline.cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`cuttings {' '.join(path)} --help` has no example"
    # examples and defaults work for an installed user too: no path that exists only in a checkout
    # (data/demo.db, data/models ...; "a checkout's data/" explaining the home folder is fine)
    checkout_only = re.findall(r"\bdata/[\w.-]+", result.output.replace("\n", " "))
    assert not checkout_only, f"`cuttings {' '.join(path)} --help` names {checkout_only}"


def test_top_level_help_names_no_checkout_only_path():
    result = CliRunner().invoke(pipeline.cli, ["--help"])
    assert result.exit_code == 0 and not re.findall(r"\bdata/[\w.-]+", result.output)


def test_required_commands_exist():
    names = {" ".join(p) for p, _ in all_commands()}
    for required in ("demo", "crawl", "analyse", "classify", "run", "train", "evaluate", "analyse-text",
                     "report", "serve", "db stats", "extract"):
        assert required in names


def test_group_help_mentions_demo():
    result = CliRunner().invoke(pipeline.cli, ["--help"])
    assert result.exit_code == 0 and "cuttings demo" in result.output


def one_line_error(result):
    err = result.stderr.decode()
    assert result.returncode != 0
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_missing_database_is_a_clear_error_and_creates_nothing(tmp_path):
    db = tmp_path / "nope.db"
    for args in (["db", "stats"], ["analyse"]):
        line = one_line_error(invoke_cli("--db", str(db), *args))
        assert "database not found" in line
        assert not db.exists()


def test_bad_sources_config(tmp_path):
    bad = tmp_path / "sources.toml"
    bad.write_text("[[source]]\nid = 'x'\nname = 'X'\nhome = 'not a url'\n")
    db = tmp_path / "x.db"
    line = one_line_error(invoke_cli("--db", str(db), "crawl", "--sources", str(bad)))
    assert "not an http(s) URL" in line and "sources.toml" in line
    assert not db.exists()
    bad.write_text("[[source]\n")
    assert "not valid TOML" in one_line_error(invoke_cli("--db", str(db), "crawl", "--sources", str(bad)))
    assert not db.exists()


def test_unknown_source(tmp_path):
    db = tmp_path / "x.db"
    line = one_line_error(invoke_cli("--db", str(db), "crawl", "no-such-outlet"))
    assert "unknown source 'no-such-outlet'" in line
    assert not db.exists()


def test_bad_since_value(tmp_path):
    result = invoke_cli("--db", str(tmp_path / "x.db"), "crawl", "--since", "yesterday-ish")
    assert result.returncode == 2 and "not an ISO date" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()


def test_db_stats_counts_rows(demo_db):
    result = run_cli("--db", str(demo_db), "db", "stats", "--json")
    assert result.returncode == 0
    import json
    counts = json.loads(result.stdout)
    import sqlite3
    conn = sqlite3.connect(demo_db)
    for table in ("articles", "mentions", "quotes", "classifications", "sources"):
        assert counts[table] == conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert counts[table] > 0


def test_train_prints_each_models_figures_and_the_models_table_keeps_them(trained_models, demo_db):
    import json
    import re
    import sqlite3
    lines = (trained_models / "train_output.txt").read_text().splitlines()
    cards = {path.stem: json.loads(path.read_text()) for path in trained_models.glob("*.json")}
    for task, card in cards.items():
        line = next(line for line in lines if line.startswith(task + " "))
        metrics = card["metrics"]
        # Trained with --no-slices: the CV figure and the baseline's, no held-out figure.
        assert re.search(rf"(macro|micro)-F1 {metrics['cv']:.3f} in 2-fold CV \(baseline {metrics['baseline']:.3f}\)$",
                         line), line
        assert "unseen_slices" not in metrics and card["leave_one_slice_out"] is None
    stored = dict(sqlite3.connect(demo_db).execute("SELECT task, metrics_json FROM models").fetchall())
    assert set(stored) == set(cards)
    for task, metrics_json in stored.items():
        assert json.loads(metrics_json) == cards[task]["metrics"]


def test_describe_metrics_reads_the_held_out_figure():
    line = pipeline.describe_metrics({"metric": "macro_f1", "cv": 0.8034, "cv_folds": 5, "baseline": 0.2222,
                                      "unseen_slices": 0.7381, "unseen_slices_interval": [0.661, 0.805],
                                      "unseen_slices_range": [0.4966, 1.0]})
    assert line == ("macro-F1 0.803 in 5-fold CV (baseline 0.222); 0.738 (90% 0.661-0.805, by slice 0.497-1.000) "
                    "on held-out slices: expect this or a little less on unseen coverage")
    assert pipeline.describe_metrics({"error": "too few examples"}) == "not cross-validated: too few examples"
    assert pipeline.describe_metrics({"metric": "micro_f1", "cv": 0.8, "cv_folds": 5,
                                      "unseen_slices_error": "topics: no labelled articles"}) == (
        "micro-F1 0.800 in 5-fold CV; no figure on held-out slices: topics: no labelled articles")


def test_extract_command_on_stored_page():
    import json as _json
    page = REPO_PAGES / "jsonld_body_only.html.gz"
    expected = _json.loads(page.with_name("jsonld_body_only.json").read_text())
    result = run_cli("extract", str(page), "--url", expected["url"])
    assert result.returncode == 0, result.stderr.decode()
    output = _json.loads(result.stdout)
    assert {"title", "body", "author", "published_at", "modified_at", "date_source", "is_article",
            "paywalled"} <= set(output)
    for key in ("title", "published_at", "date_source", "is_article"):
        assert output[key] == expected["expected"][key]
    assert all(sentence in output["body"] for sentence in expected["expected"]["body_contains"])


def test_extract_missing_file():
    result = run_cli("extract", "no/such/page.html")
    assert result.returncode != 0 and "Traceback" not in result.stderr.decode()


def test_progress_bar_shows_the_step_under_way_on_a_terminal_and_nothing_otherwise(monkeypatch):
    import io

    from rich.console import Console

    from cuttings import cli_common
    screen = io.StringIO()
    monkeypatch.setattr(cli_common, "err_console", Console(file=screen, force_terminal=True, width=120))
    monkeypatch.setattr(cli_common, "show_progress", lambda: True)
    with cli_common.progress_bar("training classifiers", 3) as advance:
        advance(0, "tone: leave-one-slice-out (7 slices)")
        advance(1, "tone: saved tone-1")
        advance(0, "tone[/x]: a name rich would read as markup")
    shown = screen.getvalue()
    assert "tone[/x]: a name rich would read as markup" in shown
    assert "training classifiers: tone: leave-one-slice-out (7 slices)" in shown
    assert "training classifiers: tone: saved tone-1" in shown and "1/3" in shown
    monkeypatch.setattr(cli_common, "show_progress", lambda: False)
    screen.truncate(0)
    with cli_common.progress_bar("training classifiers", 3) as advance:
        advance(1, "tone: saved tone-1")
    assert screen.getvalue() == ""


def help_examples(text: str) -> list[list[str]]:
    """The `cuttings ...` invocations in a help text's Example(s) block (commands joined with && or
    | split apart, `# comments` and leading VAR=value assignments dropped), as argument lists."""
    import shlex
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if not re.match(r"\s*Examples?:", line):
            continue
        for example in lines[i + 1:]:
            if re.match(r"\S", example):  # the next section (Options:)
                break
            for part in re.split(r"&&|\||;", example.split("  #", 1)[0]):
                words = shlex.split(part)
                while words and re.match(r"[A-Z_]+=", words[0]):
                    words.pop(0)
                if words[:1] == ["cuttings"]:
                    found.append(words[1:])
    return found


def test_every_help_example_names_real_commands_and_options():
    """Each example in every --help parses: its command exists and it passes only options that
    command has (run with --help appended, so nothing is crawled or written)."""
    runner = CliRunner()
    checked = 0
    for path in [(), *(p for p, _c in all_commands())]:
        for words in help_examples(runner.invoke(pipeline.cli, [*path, "--help"]).output):
            result = runner.invoke(pipeline.cli, [*words, "--help"])
            assert result.exit_code == 0, f"`cuttings {' '.join(words)}` (in `cuttings {' '.join(path)} --help`): " \
                                          f"{result.output.strip().splitlines()[-1:]}"
            checked += 1
    assert checked >= len(list(all_commands()))  # every command shows at least one (test above)
    assert help_examples("Example:\n    X=1 cuttings --db d.db demo && cuttings --db d.db serve  # here\n") == [
        ["--db", "d.db", "demo"], ["--db", "d.db", "serve"]]


@pytest.mark.parametrize("args", [["serve"], ["report"], ["db", "stats"]])
def test_missing_database_after_the_demo_names_the_demos_database(tmp_path, args):
    """`cuttings demo` writes demo.db in the home folder, not the default cuttings.db: a reading command
    run next says where the demo's database is, with the command to type, and that command works."""
    env = {"CUTTINGS_HOME": str(tmp_path)}
    line = one_line_error(invoke_cli(*args, env=env))
    assert "database not found" in line and "run `cuttings demo`" not in line
    assert "`cuttings demo` writes its own" in line and str(tmp_path / "demo.db") in line
    store.connect(tmp_path / "demo.db").close()
    line = one_line_error(invoke_cli(*args, env=env))
    suggested = f"cuttings --db {tmp_path / 'demo.db'} {' '.join(args)}"
    assert f"{tmp_path / 'cuttings.db'} (the demo's database is {tmp_path / 'demo.db'}: {suggested};" in line
    if args == ["db", "stats"]:
        assert invoke_cli(*suggested.split()[1:], env=env).returncode == 0
    assert not (tmp_path / "cuttings.db").exists()


def test_docs_says_where_the_guides_are():
    """`cuttings docs` lists the guides help texts name as docs/NAME.md, wherever cuttings is installed;
    `cuttings docs NAME` prints one's path; an unknown name is one line."""
    listing = invoke_cli("docs")
    assert listing.returncode == 0, listing.stderr.decode()
    lines = listing.stdout.decode().splitlines()
    folder = Path(lines[0].removeprefix("guides in ").removesuffix(":"))
    assert {path.stem for path in folder.glob("*.md")} >= {"operations", "configuration", "watchlist", "classifiers"}
    assert any(line.split()[:1] == ["operations"] and "Operations" in line for line in lines[1:])
    for name in ("operations", "docs/operations.md", "operations.md"):
        shown = invoke_cli("docs", name)
        assert shown.returncode == 0 and Path(shown.stdout.decode().strip()) == folder / "operations.md"
    line = one_line_error(invoke_cli("docs", "nonesuch"))
    assert "no guide or example named 'nonesuch': guides " in line and "operations" in line
    assert "cuttings.timer" in line
    top_help = " ".join(invoke_cli("--help").stdout.decode().split())
    assert "installed with cuttings: `cuttings docs` says where" in top_help


def test_docs_says_where_the_deploy_examples_are():
    """The cron and systemd examples help texts name as deploy/FILE: `cuttings docs` lists every one with
    its folder, `cuttings docs FILE` (with or without deploy/) prints its path, `schedule --help` points there."""
    lines = invoke_cli("docs").stdout.decode().splitlines()
    heading = next(line for line in lines if line.startswith("examples to adapt in "))
    folder = Path(heading.removeprefix("examples to adapt in ").split(" (")[0])
    listed = {line.split()[0] for line in lines[lines.index(heading) + 1:] if line.startswith("  ")}
    assert listed == {"cuttings.cron", "cuttings.service", "cuttings.timer", "cuttings-worker.service"}
    assert any(line.split()[:1] == ["cuttings.timer"] and "every night" in line for line in lines)
    for name in ("cuttings.timer", "deploy/cuttings.timer"):
        shown = invoke_cli("docs", name)
        assert shown.returncode == 0 and Path(shown.stdout.decode().strip()) == folder / "cuttings.timer"
        assert "OnCalendar=" in (folder / "cuttings.timer").read_text(encoding="utf-8")
    assert "`cuttings docs` lists them" in " ".join(invoke_cli("schedule", "--help").stdout.decode().split())


_PRIVATE_ADDRESS = re.compile(r"\b(?:10\.\d{1,3}|172\.(?:1[6-9]|2\d|3[01])|192\.168)\.\d{1,3}\.\d{1,3}\b")


def test_no_example_names_a_private_network_address():
    """Help texts, the deploy examples and the operations guide give a server's address in a documentation-safe
    form (a name under example.org, as the guides' other hosts), not a private-range address that may be a real
    machine on the reader's network (`worker --help` gave redis://10.0.0.5:6379/0)."""
    shown = {f"cuttings {' '.join(path)} --help": CliRunner().invoke(pipeline.cli, [*path, "--help"]).output
             for path in [(), *(p for p, _c in all_commands())]}
    shown.update({str(path.relative_to(REPO)): path.read_text(encoding="utf-8")
                  for path in [*(REPO / "deploy").iterdir(), REPO / "docs" / "operations.md", REPO / "README.md"]})
    found = {where: _PRIVATE_ADDRESS.findall(text) for where, text in shown.items() if _PRIVATE_ADDRESS.search(text)}
    assert found == {}
    assert "cuttings worker --redis redis://redis.example.org:6379/0" in shown["cuttings worker --help"]


def test_an_example_with_ids_of_one_crawl_says_where_they_are_found():
    """`label --help`'s one-quote withdrawal names a story and a quote by id, which differ between crawls (a fresh
    demo's too): the example says where the ids come from."""
    output = CliRunner().invoke(pipeline.cli, ["label", "--help"]).output
    block = output[output.index("Example"):output.index("Options:")]
    lines = block.splitlines()
    at = next(i for i, line in enumerate(lines) if "--quote 812" in line)
    said = " ".join(line.strip() for line in lines[at - 2:at + 1])
    assert "quote_view's article_id and quote_id" in said and "each crawl, a demo's too, has its own" in said
