"""The report, serve and export commands through click's CliRunner on a small group."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cuttings import cli_report, serve
from cuttings.cli_common import CuttingsContext
from tests.report_fixtures import HOSTILE_TITLE, build_sample_db


@click.group()
@click.option("--db", required=True)
@click.pass_context
def cli(ctx, db):
    ctx.obj = CuttingsContext(Path(db))


for command in cli_report.COMMANDS:
    cli.add_command(command)


@pytest.fixture()
def db_path(tmp_path):
    path = tmp_path / "sample.db"
    build_sample_db(path).close()
    return path


def test_report_writes_files_prints_and_records(db_path, tmp_path):
    out = tmp_path / "reports"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "report", "--out", str(out), "--print"])
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in out.iterdir()) == [".html", ".md", ".txt"]
    assert "# Cuttings morning digest" in result.stdout and r"\<script\>" in result.stdout
    again = CliRunner().invoke(cli, ["--db", str(db_path), "report", "--out", str(out), "--format", "text",
                                     "--print"])
    assert again.exit_code == 0 and "0 new stories" in again.stdout


def test_report_since_and_no_record(db_path, tmp_path):
    args = ["--db", str(db_path), "report", "--out", str(tmp_path), "--format", "md", "--since", "2026-11-20",
            "--no-record", "--print"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0 and "8 new stories" in result.stdout
    assert CliRunner().invoke(cli, args).stdout == result.stdout  # nothing recorded: same window again


def test_report_user_mistakes(db_path, tmp_path):
    runner = CliRunner()
    bad_date = runner.invoke(cli, ["--db", str(db_path), "report", "--since", "last tuesday"])
    assert bad_date.exit_code == 1 and "--since must be a date" in bad_date.output
    missing = runner.invoke(cli, ["--db", str(tmp_path / "nope.db"), "report"])
    assert missing.exit_code == 1 and "database not found" in missing.output
    no_smtp = runner.invoke(cli, ["--db", str(db_path), "report", "--out", str(tmp_path), "--email"],
                            env={"CUTTINGS_SMTP_HOST": ""})
    assert no_smtp.exit_code == 1 and "CUTTINGS_SMTP_HOST is not set" in no_smtp.output
    assert "Traceback" not in no_smtp.output
    assert not list(tmp_path.glob("digest-*"))  # the settings are checked before the digest is written


def test_export_command(db_path, tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(db_path), "export", "--entity", "hwfrs", "--topic", "workforce"])
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["title"] == HOSTILE_TITLE
    out = tmp_path / "pcc.jsonl"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "export", "--format", "jsonl", "--entity", "wm_pcc",
                                      "--stance", "against", "--out", str(out)])
    assert result.exit_code == 0
    titles = [json.loads(line)["title"] for line in out.read_text().splitlines()]
    assert titles == ["Councillors oppose PCC bid to run Shropshire fire service",
                      "Fire chiefs warn over commissioner's plans"]
    unknown = CliRunner().invoke(cli, ["--db", str(db_path), "export", "--entity", "fire"])
    assert unknown.exit_code == 1 and "unknown entity 'fire'" in unknown.output


def test_serve_command_builds_datasette_call(db_path, monkeypatch):
    calls = []
    monkeypatch.setattr(serve, "serve", lambda path, **kwargs: calls.append((path, kwargs)) or 0)
    result = CliRunner().invoke(cli, ["--db", str(db_path), "serve", "--port", "8123", "--writable"])
    assert result.exit_code == 0, result.output
    assert calls == [(db_path, {"host": "127.0.0.1", "port": 8123, "read_only": False, "open_browser": False,
                                "corrections": False, "annotator": None, "suggest_facets": None})]
    result = CliRunner().invoke(cli, ["--db", str(db_path), "serve", "--corrections", "--annotator", "Ann Lyst"])
    assert result.exit_code == 0 and calls[-1][1]["corrections"] is True and calls[-1][1]["annotator"] == "Ann Lyst"
    monkeypatch.undo()
    alone = CliRunner().invoke(cli, ["--db", str(db_path), "serve", "--annotator", "Ann Lyst"])
    assert alone.exit_code == 1 and "needs --corrections" in alone.output and len(alone.output.splitlines()) == 1
    missing = CliRunner().invoke(cli, ["--db", str(db_path) + ".missing", "serve"])
    assert missing.exit_code == 1 and "database not found" in missing.output


def test_every_command_has_an_example():
    for command in cli_report.COMMANDS:
        assert "Example:" in command.help and "cuttings " + command.name in command.help


def test_export_format_help_names_every_format():
    from cuttings import export
    result = CliRunner().invoke(cli, ["--db", "x.db", "export", "--help"])
    help_text = " ".join(result.output.split())
    start = help_text.index("--format [csv|jsonl|xlsx]")
    described = help_text[start:help_text.index("--entity", start)]
    for fmt in export.FORMATS:
        assert described.count(fmt) >= 2, (fmt, described)  # in the choice list and described


CAFE = "Hereford & Worcester – café"


def _cafe(db_path):
    import sqlite3
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE articles SET title = ? WHERE id = (SELECT min(id) FROM articles "
                     "WHERE duplicate_of IS NULL)", [CAFE])
    conn.close()


def test_export_format_follows_the_out_suffix(db_path, tmp_path):
    runner = CliRunner()
    for name, check in (("s.jsonl", lambda b: json.loads(b.splitlines()[0])["article_id"]),
                        ("s.ndjson", lambda b: json.loads(b.splitlines()[0])["article_id"]),
                        ("s.xlsx", lambda b: b[:2] == b"PK"),
                        ("s.csv", lambda b: b.startswith(b"\xef\xbb\xbfarticle_id,")),
                        ("s", lambda b: b.startswith(b"\xef\xbb\xbfarticle_id,"))):
        result = runner.invoke(cli, ["--db", str(db_path), "export", "--out", str(tmp_path / name)])
        assert result.exit_code == 0, (name, result.output)
        assert check((tmp_path / name).read_bytes()), name
    # an explicit --format that contradicts a known suffix: one line, nothing written
    clash = runner.invoke(cli, ["--db", str(db_path), "export", "--format", "csv", "--out", str(tmp_path / "x.jsonl")])
    assert clash.exit_code == 1 and not (tmp_path / "x.jsonl").exists()
    assert clash.output == (f"Error: --format csv does not match {tmp_path / 'x.jsonl'} (a .jsonl file is jsonl): "
                            "change one of them\n")
    unknown = runner.invoke(cli, ["--db", str(db_path), "export", "--out", str(tmp_path / "x.json")])
    assert unknown.exit_code == 1 and not (tmp_path / "x.json").exists()
    assert "give --format (csv, jsonl, xlsx)" in unknown.output and "end in .jsonl" in unknown.output
    # an unknown suffix is fine when --format says what to write
    assert runner.invoke(cli, ["--db", str(db_path), "export", "--format", "jsonl", "--out",
                               str(tmp_path / "x.json")]).exit_code == 0
    assert json.loads((tmp_path / "x.json").read_text(encoding="utf-8").splitlines()[0])["article_id"]


def test_export_csv_file_has_a_bom_for_excel_and_stdout_has_none(db_path, tmp_path):
    _cafe(db_path)
    runner = CliRunner()
    out = tmp_path / "s.csv"
    assert runner.invoke(cli, ["--db", str(db_path), "export", "--out", str(out)]).exit_code == 0
    data = out.read_bytes()
    assert data[:3] == b"\xef\xbb\xbf" and data[3:14] == b"article_id,"
    assert CAFE.encode("utf-8") in data and data.count(b"\xef\xbb\xbf") == 1
    with out.open(newline="", encoding="utf-8-sig") as handle:  # as Excel and Python read it
        rows = list(csv.DictReader(handle))
    assert "article_id" in rows[0] and CAFE in {row["title"] for row in rows}
    plain = tmp_path / "plain.csv"
    assert runner.invoke(cli, ["--db", str(db_path), "export", "--no-bom", "--out", str(plain)]).exit_code == 0
    assert plain.read_bytes() == data[3:]
    stdout = runner.invoke(cli, ["--db", str(db_path), "export"])
    assert stdout.exit_code == 0 and stdout.stdout_bytes == data[3:]
    asked = runner.invoke(cli, ["--db", str(db_path), "export", "--bom"])
    assert asked.stdout_bytes == data
    jsonl = tmp_path / "s.jsonl"
    assert runner.invoke(cli, ["--db", str(db_path), "export", "--out", str(jsonl)]).exit_code == 0
    assert jsonl.read_bytes()[:1] == b"{" and CAFE.encode("utf-8") in jsonl.read_bytes()
    refused = runner.invoke(cli, ["--db", str(db_path), "export", "--bom", "--out", str(tmp_path / "b.jsonl")])
    assert refused.exit_code == 1 and refused.output == "Error: --bom is for CSV only (this export is jsonl)\n"


def test_report_since_later_than_now_is_one_line_and_records_nothing(db_path, tmp_path):
    """A --since in the future (a typo'd year, tomorrow's date) was an empty digest headed "New since Tue 8 Dec,
    up to Mon 7 Dec", recorded as a report: one line and exit 1 instead, nothing written or recorded."""
    from cuttings import store
    out = tmp_path / "reports"
    with store.clock("2026-11-24T07:00:00Z"):
        result = CliRunner().invoke(cli, ["--db", str(db_path), "report", "--since", "2026-11-25", "--out", str(out)])
        assert result.exit_code == 1, result.output
        assert "--since 2026-11-25T00:00:00Z is later than now (2026-11-24T07:00:00Z)" in result.output
        assert len(result.output.strip().splitlines()) == 1 and not out.exists()
        db = store.connect(db_path)
        assert db.execute("SELECT count(*) FROM reports").fetchone()[0] == 1   # the sample's own report only
        db.close()
        earlier = CliRunner().invoke(cli, ["--db", str(db_path), "report", "--since", "2026-11-24", "--out", str(out),
                                           "--no-record", "--format", "text", "--print"])
        assert earlier.exit_code == 0 and "New since Tue 24 Nov 2026" in earlier.stdout


def test_an_empty_digest_says_since_when_not_since_the_last_digest(db_path, tmp_path):
    """An empty window said "No new stories since the last digest." whatever it was: a --since window, or a
    first digest (there was no last digest). It names the window's start, in every format."""
    from cuttings import store
    with store.clock("2026-11-24T07:00:00Z"):
        result = CliRunner().invoke(cli, ["--db", str(db_path), "report", "--since", "2026-11-24T06:00:00Z",
                                          "--out", str(tmp_path), "--no-record", "--print"])
    assert result.exit_code == 0, result.output
    assert "0 new stories" in result.stdout and "since the last digest" not in result.stdout
    assert "No new stories first seen since Tue 24 Nov 2026, 06:00 UTC." in result.stdout
    for path in tmp_path.glob("digest-*"):
        text = path.read_text(encoding="utf-8")
        assert "No new stories first seen since Tue 24 Nov 2026, 06:00 UTC." in text, path.name
