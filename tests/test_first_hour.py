"""The first hour: bad input gets one line and a non-zero exit and changes nothing; a failing
night is short on the terminal. Each test checks the message, the exit code and the files."""
from __future__ import annotations

import hashlib
import socket
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import run_cli
from cuttings import store
from faultserver import closed_port
from pipeline import cli

REPO = Path(__file__).resolve().parent.parent
SOURCE = '[[source]]\nid = "one"\nname = "One"\nhome = "http://127.0.0.1:9/"\n'


def invoke(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def other_application_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    conn.commit()
    conn.close()
    return path


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------------------------------------
# configuration files
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("crawl_table, message", [
    ('max_pages_per_source = "lots"', "bad.toml: [crawl] max_pages_per_source: expected a whole number, got 'lots'"),
    ("obey_robots = 1", "bad.toml: [crawl] obey_robots: expected true or false, got 1"),
    ("timeout = 0", "bad.toml: [crawl] timeout: must be above 0, got 0"),
    ("max_pages = 10", "bad.toml: [crawl]: unknown setting(s) max_pages (did you mean 'max_page_bytes'?)"),
    ("timout = 5", "bad.toml: [crawl]: unknown setting(s) timout (did you mean 'timeout'?)"),
])
def test_sources_file_wrong_types_refused_before_anything_is_written(tmp_path, crawl_table, message):
    sources = tmp_path / "bad.toml"
    sources.write_text(f"[crawl]\n{crawl_table}\n\n{SOURCE}", encoding="utf-8")
    result = invoke("--db", tmp_path / "new.db", "crawl", "--sources", sources)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path}/{message}"  # the full path, not the base name
    assert files_in(tmp_path) == ["bad.toml"]


def test_source_entry_wrong_type_named(tmp_path):
    sources = tmp_path / "bad.toml"
    sources.write_text(SOURCE + 'verified = "yes"\n', encoding="utf-8")
    result = invoke("--db", tmp_path / "new.db", "crawl", "--sources", sources)
    assert result.exit_code == 1
    assert f"Error: {sources}: source #1 'one': verified: expected true or false, got 'yes'" in result.output
    assert files_in(tmp_path) == ["bad.toml"]


def test_misspelt_source_field_named_with_the_closest_one(tmp_path):
    sources = tmp_path / "bad.toml"
    sources.write_text(SOURCE + "allwo = ['^/news/']\n", encoding="utf-8")
    result = invoke("--db", tmp_path / "new.db", "crawl", "--sources", sources)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {sources}: source #1 'one': unknown field(s) allwo (did you mean 'allow'?)"
    assert files_in(tmp_path) == ["bad.toml"]


def test_unknown_watchlist_key_names_file_entity_and_key(tmp_path):
    text = (REPO / "data" / "watchlist.toml").read_text(encoding="utf-8")
    watchlist = tmp_path / "mine.toml"
    watchlist.write_text(text.replace('category = ', 'categroy = ', 1), encoding="utf-8")
    db = tmp_path / "cuttings.db"
    store.connect(db).conn.close()
    before = digest(db)
    result = invoke("--db", db, "analyse", "--watchlist", watchlist)
    assert result.exit_code == 1
    assert "mine.toml: entity '" in result.output and "unknown key 'categroy'" in result.output
    assert digest(db) == before


def test_unknown_watchlist_table_refused(tmp_path):
    watchlist = tmp_path / "mine.toml"
    watchlist.write_text((REPO / "data" / "watchlist.toml").read_text(encoding="utf-8")
                         + "\n[analysis]\nner_modle = \"en_core_web_sm\"\n", encoding="utf-8")
    result = invoke("analyse-text", "--watchlist", watchlist, "-", input="Headline\nBody text.\n")
    assert result.exit_code == 1
    assert "mine.toml: [analysis]: unknown key 'ner_modle'" in result.output
    assert '"entities"' not in result.output


# ---------------------------------------------------------------------------------------------
# dates and filters
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["crawl", "run"])
def test_impossible_date_refused(tmp_path, command):
    result = invoke("--db", tmp_path / "new.db", command, "--since", "2026-02-30")
    assert result.exit_code == 2
    assert "Invalid value for '--since': not a date: '2026-02-30'" in result.output
    assert files_in(tmp_path) == []


def test_export_unknown_topic_refused(tmp_path):
    db = tmp_path / "cuttings.db"
    store.connect(db).conn.close()
    out = tmp_path / "out.csv"
    result = invoke("--db", db, "export", "--topic", "nosuch", "--out", out)
    assert result.exit_code == 1
    assert "unknown topic 'nosuch': choose from " in result.output and "governance" in result.output
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# --db that is not a cuttings database
# ---------------------------------------------------------------------------------------------

def with_sources(args: list[str], folder: Path) -> list:
    """``SOURCES`` in ``args`` -> a valid sources file outside ``folder`` (the crawl stops at the database)."""
    if "SOURCES" not in args:
        return args
    sources = folder.parent / f"{folder.name}-sources.toml"
    sources.write_text(SOURCE, encoding="utf-8")
    return [sources if a == "SOURCES" else a for a in args]


@pytest.mark.parametrize("args", [["db", "stats"], ["report"], ["export"], ["analyse"], ["crawl", "--sources", "SOURCES"],
                                  ["doctor"]])
def test_other_applications_database_is_left_alone(tmp_path, args):
    db = other_application_db(tmp_path / "notes.db")
    before = digest(db)
    result = invoke("--db", db, *with_sources(args, tmp_path))
    assert result.exit_code == 1
    assert str(db) in result.output and "not a cuttings database" in result.output, result.output
    assert digest(db) == before
    assert files_in(tmp_path) == ["notes.db"]  # no -wal, -shm or .lock beside it
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["notes"]


def test_run_refuses_other_applications_database_before_taking_the_lock(tmp_path):
    db = other_application_db(tmp_path / "notes.db")
    before = digest(db)
    result = invoke("--db", db, "run", "--skip", "classify", "--log-file", tmp_path / "logs" / "run.log")
    assert result.exit_code == 1
    assert f"Error: {db} is not a cuttings database (it holds other tables: notes)" in result.output
    assert digest(db) == before
    assert files_in(tmp_path) == ["logs", "notes.db"]


@pytest.mark.parametrize("args", [["db", "stats"], ["crawl", "--sources", "SOURCES"], ["report"]])
def test_empty_file_is_not_turned_into_a_database(tmp_path, args):
    db = tmp_path / "empty.db"
    db.touch()
    result = invoke("--db", db, *with_sources(args, tmp_path))
    assert result.exit_code == 1
    assert f"{db} is an empty file (0 bytes), not a cuttings database" in result.output
    assert db.stat().st_size == 0 and files_in(tmp_path) == ["empty.db"]


def test_missing_database_not_created_by_reading_commands(tmp_path):
    result = invoke("--db", tmp_path / "typo.db", "db", "stats")
    assert result.exit_code == 1 and "database not found" in result.output
    assert files_in(tmp_path) == []


def test_text_file_as_database_refused(tmp_path):
    db = tmp_path / "notes.txt"
    db.write_text("not a database\n", encoding="utf-8")
    result = invoke("--db", db, *with_sources(["crawl", "--sources", "SOURCES"], tmp_path))
    assert result.exit_code == 1
    assert "is not a SQLite database" in result.output
    assert db.read_text(encoding="utf-8") == "not a database\n" and files_in(tmp_path) == ["notes.txt"]


# ---------------------------------------------------------------------------------------------
# analyse-text: encodings, binary and empty input
# ---------------------------------------------------------------------------------------------

ARTICLE = ("Fire service praised\nHereford and Worcester Fire and Rescue Service sent crews. "
           "\u201cWe did our best for Kidderminster,\u201d said the station commander.\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"])
def test_analyse_text_detects_the_encoding(tmp_path, encoding):
    path = tmp_path / "article.txt"
    path.write_bytes(ARTICLE.encode(encoding))
    result = invoke("analyse-text", "--models", tmp_path / "no-models", path)
    assert result.exit_code == 0, result.output
    import json
    output = json.loads(result.stdout.strip().splitlines()[-1])
    assert "Hereford and Worcester Fire and Rescue Service" in [m["text"] for m in output["entities"]["hwfrs"]]
    assert [q["text"] for q in output["quotes"]] == ["We did our best for Kidderminster,"]


def test_analyse_text_refuses_binary_input(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(bytes(range(256)) * 40)
    result = invoke("analyse-text", path)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {path}: binary data, not text or HTML: refused"


@pytest.mark.parametrize("content", [b"", b"  \n\n", b"\xef\xbb\xbf"])
def test_analyse_text_says_so_for_empty_input(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    result = invoke("analyse-text", path)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {path}: empty input, nothing to analyse"


def test_analyse_text_empty_stdin(tmp_path):
    result = invoke("analyse-text", "-", input="")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: standard input: empty input, nothing to analyse"


# ---------------------------------------------------------------------------------------------
# a night with no network: short output
# ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_quiet_run_against_unreachable_sources_is_short(tmp_path):
    port = closed_port()
    sources = tmp_path / "sources.toml"
    sources.write_text(f"""[crawl]
retry_times = 0
timeout = 5

[[source]]
id = "refusing-times"
name = "Refusing Times"
home = "http://127.0.0.1:{port}/"
sections = ["http://127.0.0.1:{port}/news/"]
local = true

[[source]]
id = "nowhere-gazette"
name = "Nowhere Gazette"
home = "http://news.nowhere-gazette.invalid/"
feeds = ["http://news.nowhere-gazette.invalid/feed.xml"]
""", encoding="utf-8")
    log = tmp_path / "cuttings.log"
    result = run_cli("--db", str(tmp_path / "cuttings.db"), "run", "--quiet", "--sources", str(sources),
                     "--skip", "classify", "--report-dir", str(tmp_path / "reports"), "--log-file", str(log),
                     "--no-politeness", env={"CUTTINGS_HOME": str(tmp_path / "home")}, timeout=300)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert lines[0] == f"source refusing-times: connection refused by 127.0.0.1:{port} (site down, or a wrong port?)"
    assert lines[1] == ("source nowhere-gazette: DNS lookup failed for news.nowhere-gazette.invalid "
                        "(no network, or a wrong host name?)")
    assert lines[2].startswith("run 1: failed (exit 2); 0 new articles, 2 sources failed; log: ")
    assert len(lines) == 3
    assert "Traceback" not in err
    logged = log.read_text(encoding="utf-8")
    assert "DNS lookup failed" in logged and "scrapy" in logged  # the detail is in the log file


# ---------------------------------------------------------------------------------------------
# --help: examples as written, every option explained
# ---------------------------------------------------------------------------------------------

def all_commands():
    import click

    def walk(command, path):
        yield path, command
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, [*path, name])
    return [(path, command) for path, command in walk(cli, []) if isinstance(command, click.Command)]


@pytest.mark.parametrize("path, command", all_commands(), ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_help_prints_examples_verbatim_and_explains_every_option(path, command):
    import click
    import inspect
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    doc = inspect.cleandoc(command.callback.__doc__ or "")
    examples = [line for line in doc.splitlines() if line.startswith("    ") and line.strip() != "\\b"]
    assert examples, f"cuttings {' '.join(path)}: no example in its help"
    for line in examples:
        assert "  " + line.replace("\\\\", "\\") in result.output.splitlines(), (line, result.output)
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert param.help, f"cuttings {' '.join(path)} {param.opts[0]}: no help text"


# ---------------------------------------------------------------------------------------------
# limits instead of crashes
# ---------------------------------------------------------------------------------------------

def test_oversized_article_is_analysed_in_part_and_does_not_block_the_stage(tmp_path, caplog):
    from cuttings.stages import MAX_ANALYSE_CHARS, analyse_stage
    from nlp.entities import Analyser
    from nlp.watchlist import load_watchlist
    db = store.connect(tmp_path / "cuttings.db")
    lead = "Hereford and Worcester Fire and Rescue Service crews were called out.\n"
    bodies = {"huge": lead + ("Filler words about the weather and the roads. " * 40 + "\n") * 600,
              "normal": "Shropshire Fire and Rescue Service opened a new station.\n"}
    assert len(bodies["huge"]) > 1_000_000  # over spaCy's max_length (error E088)
    for n, (name, body) in enumerate(bodies.items()):
        db["articles"].insert({"url": f"http://x/{name}", "canonical_url": f"http://x/{name}", "title": name,
                               "body": body, "first_seen_at": "2026-11-01T00:00:00Z",
                               "last_seen_at": "2026-11-01T00:00:00Z", "content_hash": f"h{n}"})
    with caplog.at_level("WARNING", logger="cuttings.stages"):
        counts = analyse_stage(db, Analyser(load_watchlist()))
    assert counts["articles"] == 2 and counts["truncated"] == 1
    assert any("analysed its first" in r.getMessage() for r in caplog.records)
    mentioned = {r["title"]: r["entity_id"] for r in db.query(
        "SELECT a.title, m.entity_id FROM mentions m JOIN articles a ON a.id = m.article_id")}
    assert mentioned == {"huge": "hwfrs", "normal": "sfrs"}
    assert db.execute("SELECT count(*) FROM processing WHERE stage = 'analyse'").fetchone()[0] == 2
    assert MAX_ANALYSE_CHARS < 1_000_000


@pytest.fixture
def read_only_folder(monkeypatch, tmp_path):
    """A database whose file and folder are not writable. Tests run as root, which chmod does not
    stop, so ``os.access`` answers as it would for a user on read-only storage."""
    import os
    db = tmp_path / "ro" / "cuttings.db"
    db.parent.mkdir()
    store.connect(db).conn.close()
    real = os.access

    def access(path, mode, *args, **kwargs):
        if Path(path).resolve() in (db.parent.resolve(), db.resolve()) and mode & os.W_OK:
            return False
        return real(path, mode, *args, **kwargs)
    monkeypatch.setattr(os, "access", access)
    return db


def test_read_only_storage_reads_and_refuses_writes_in_one_line(read_only_folder):
    db = read_only_folder
    before = files_in(db.parent), digest(db)
    stats = invoke("--db", db, "db", "stats")
    assert stats.exit_code == 0 and "articles" in stats.output
    analyse = invoke("--db", db, "analyse")
    assert analyse.exit_code == 1
    assert analyse.output.strip().splitlines()[-1] == (
        "Error: cannot write the database: attempt to write a readonly database (read-only file or folder? "
        "`cuttings doctor` checks)")
    assert "Traceback" not in analyse.output
    assert (files_in(db.parent), digest(db)) == before


def test_doctor_checks_the_database_folder_is_writable(read_only_folder):
    result = invoke("--db", read_only_folder, "doctor")
    assert result.exit_code == 1
    assert f"[FAIL] writable: the folder {read_only_folder.parent} is read-only" in result.output


def test_sources_check_says_dns_failure_not_robots_missing(tmp_path):
    from cuttings.cli_sources import sources
    config = tmp_path / "sources.toml"
    config.write_text('[crawl]\ntimeout = 5\n\n[[source]]\nid = "nowhere"\nname = "Nowhere"\n'
                      'home = "http://news.nowhere-gazette.invalid/"\n', encoding="utf-8")
    result = CliRunner().invoke(sources, ["check", "--sources", str(config)])
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first == ("nowhere: robots.txt not fetched: DNS lookup failed for news.nowhere-gazette.invalid "
                     "(no network, or a wrong host name?)")
    assert "missing" not in result.output


def test_failure_words_and_the_no_network_hint():
    import errno
    import urllib.error

    from cuttings import failures
    assert failures.describe("dns", "http://news.example.invalid/feed") == (
        "DNS lookup failed for news.example.invalid (no network, or a wrong host name?)")
    assert failures.describe("http_403", "https://a.example/x") == "HTTP 403 from a.example (blocked?)"
    assert failures.describe("robots_disallowed", "https://a.example/x") == "robots.txt of a.example disallows the pages"
    gai = urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))
    assert failures.kind_of_exception(gai) == "dns"
    assert failures.kind_of_exception(urllib.error.URLError(ConnectionRefusedError())) == "connection_refused"
    assert failures.kind_of_exception(urllib.error.URLError(OSError(errno.ENETUNREACH, "unreachable"))) == "no_network"
    assert "offline" in failures.network_hint(["dns", "no_network", "dns"])
    assert failures.network_hint(["dns", "connection_refused"]) is None
    assert failures.network_hint([]) is None


def test_run_report_lines_say_no_network_when_every_source_failed_its_dns_lookup():
    from cuttings import nightly
    from cuttings.cli_ops import run_report_lines
    crawl = nightly.StageResult("failed", counts={"pages_fetched": 0, "articles_new": 0},
                                failures=[("a", "dns", "DNS lookup failed for a.example (no network, or a wrong "
                                           "host name?)"),
                                          ("b", "dns", "DNS lookup failed for b.example (no network, or a wrong "
                                           "host name?)")])
    result = nightly.NightlyResult(7, "failed", nightly.EXIT_FATAL, {"crawl": crawl})
    lines = run_report_lines(result, "/var/log/cuttings.log")
    assert lines[:2] == ["source a: DNS lookup failed for a.example (no network, or a wrong host name?)",
                         "source b: DNS lookup failed for b.example (no network, or a wrong host name?)"]
    assert lines[2] == ("run 7: failed (exit 2); 0 new articles, 2 sources failed; every source failed its DNS "
                        "lookup or found no route: is this machine offline?; log: /var/log/cuttings.log")
    assert len(lines) == 3
