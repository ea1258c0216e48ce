"""Output paths the user names (label --export, export --out, report --out, db backup DEST,
run --log-file, run --report-dir): missing folders are created; a parent that is a file, or a
folder that cannot be written, is one line naming the path and exit 1, with nothing written."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cuttings import paths
from cuttings.errors import OutputPathError
from tests.conftest import invoke_cli
from tests.report_fixtures import build_sample_db


@pytest.fixture()
def db_path(tmp_path):
    path = tmp_path / "sample.db"
    build_sample_db(path).conn.close()
    return path


@pytest.fixture()
def a_file(tmp_path):
    """A regular file standing where a folder would have to be."""
    path = tmp_path / "notes.txt"
    path.write_text("keep me\n", encoding="utf-8")
    return path


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def one_error_line(result) -> str:
    assert result.returncode == 1, (result.stdout + result.stderr).decode()
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# ---------------------------------------------------------------------------------------------
# the shared helper
# ---------------------------------------------------------------------------------------------

def test_output_file_creates_missing_folders(tmp_path):
    target = tmp_path / "a" / "b" / "x.jsonl"
    assert paths.output_file(target) == target
    assert target.parent.is_dir() and not target.exists()


def test_output_file_under_a_file_is_refused_naming_both(a_file):
    with pytest.raises(OutputPathError) as error:
        paths.output_file(a_file / "sub" / "x.csv")
    assert str(error.value) == f"cannot write {a_file / 'sub' / 'x.csv'}: {a_file} is a file, not a folder"
    assert a_file.read_text(encoding="utf-8") == "keep me\n"


def test_output_file_that_is_a_folder_is_refused(tmp_path):
    with pytest.raises(OutputPathError, match=f"cannot write {tmp_path}: it is a folder"):
        paths.output_file(tmp_path)


def test_output_dir_under_a_file_is_refused(a_file):
    with pytest.raises(OutputPathError) as error:
        paths.output_dir(a_file / "reports")
    assert str(error.value) == f"cannot write to {a_file / 'reports'}: {a_file} is a file, not a folder"


def test_unwritable_folder_is_refused_and_nothing_created(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access

    def access(path, mode, *args, **kwargs):  # tests run as root, which chmod does not stop
        if Path(path) == locked and mode & os.W_OK:
            return False
        return real(path, mode, *args, **kwargs)
    monkeypatch.setattr(os, "access", access)
    with pytest.raises(OutputPathError) as error:
        paths.output_file(locked / "new" / "x.csv")
    assert str(error.value) == f"cannot write {locked / 'new' / 'x.csv'}: the folder {locked} is not writable"
    assert list(locked.iterdir()) == []


def test_a_writable_file_in_a_folder_that_is_not_will_do_unless_the_writer_needs_the_folder(tmp_path, monkeypatch):
    """``/dev/stdout`` for a non-root user: the file can be written, its folder cannot. A plain write
    may go ahead; a backup (a .partial renamed into place) or a rotating log may not. A read-only
    file is refused either way."""
    locked = tmp_path / "locked"
    locked.mkdir()
    existing, read_only = locked / "out.csv", locked / "ro.csv"
    existing.write_text("", encoding="utf-8")
    read_only.write_text("", encoding="utf-8")
    real = os.access

    def access(path, mode, *args, **kwargs):
        if Path(path) in (locked, read_only) and mode & os.W_OK:
            return False
        return real(path, mode, *args, **kwargs)
    monkeypatch.setattr(os, "access", access)
    assert paths.output_file(existing) == existing
    with pytest.raises(OutputPathError, match=f"the folder {locked} is not writable"):
        paths.output_file(existing, needs_folder=True)
    with pytest.raises(OutputPathError, match="the folder .* is not writable|the file is read-only"):
        paths.output_file(read_only)


def test_a_failed_backup_leaves_no_partial_file(db_path, tmp_path, monkeypatch):
    from cuttings import maintenance, store
    dest = tmp_path / "backups"
    dest.mkdir()

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(store, "backup_copy", interrupted)
    with pytest.raises(KeyboardInterrupt):
        maintenance.backup_database(db_path, dest)
    assert list(dest.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# each command that writes a file the user names
# ---------------------------------------------------------------------------------------------

def test_label_export_creates_missing_folders(db_path, tmp_path):
    out = tmp_path / "new" / "folder" / "labels.jsonl"
    result = invoke_cli("--db", str(db_path), "label", "--annotator", "ana", "--export", str(out))
    assert result.returncode == 0, result.stderr.decode()
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert records and all(r["id"].startswith("db-") for r in records)
    assert f"exported {len(records)} labelled article{'' if len(records) == 1 else 's'} to {out}" in result.stdout.decode()


def test_label_export_under_a_file_is_one_line_and_the_import_is_not_run(db_path, tmp_path, a_file):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"url": "https://elsewhere.example/x", "stance_governance": "none"}) + "\n",
                      encoding="utf-8")
    before = db_path.read_bytes()
    out = a_file / "labels.jsonl"
    result = invoke_cli("--db", str(db_path), "label", "--annotator", "ana", "--import", str(source),
                        "--export", str(out))
    assert one_error_line(result) == f"Error: cannot write {out}: {a_file} is a file, not a folder"
    assert result.stdout == b""  # the import did not run
    assert db_path.read_bytes() == before


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_export_out_under_a_file_is_one_line(db_path, a_file, fmt):
    out = a_file / f"stories.{fmt}"
    result = invoke_cli("--db", str(db_path), "export", "--format", fmt, "--out", str(out))
    assert one_error_line(result) == f"Error: cannot write {out}: {a_file} is a file, not a folder"
    assert a_file.read_text(encoding="utf-8") == "keep me\n"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_out_creates_missing_folders(db_path, tmp_path, fmt):
    out = tmp_path / "made" / f"stories.{fmt}"
    result = invoke_cli("--db", str(db_path), "export", "--format", fmt, "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert out.stat().st_size > 0


def reports_recorded(db_path: Path) -> int:
    import sqlite3
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT count(*) FROM reports").fetchone()[0]
    finally:
        conn.close()


def test_report_out_under_a_file_is_one_line_and_nothing_recorded(db_path, a_file):
    before = reports_recorded(db_path)
    out = a_file / "reports"
    result = invoke_cli("--db", str(db_path), "report", "--out", str(out))
    assert one_error_line(result) == f"Error: cannot write to {out}: {a_file} is a file, not a folder"
    assert reports_recorded(db_path) == before


@pytest.mark.parametrize("dest", ["backup.db", "backups/"])
def test_db_backup_under_a_file_is_one_line(db_path, a_file, tmp_path, dest):
    target = f"{a_file}/{dest}"
    result = invoke_cli("--db", str(db_path), "db", "backup", target)
    shown = a_file / dest.rstrip("/")
    word = "write to" if dest.endswith("/") else "write"
    assert one_error_line(result) == f"Error: cannot {word} {shown}: {a_file} is a file, not a folder"
    assert files_under(tmp_path) == ["notes.txt", "sample.db"]


def test_run_log_file_under_a_file_is_one_line_before_anything(tmp_path, a_file):
    db = tmp_path / "new.db"
    log = a_file / "cuttings.log"
    result = invoke_cli("--db", str(db), "run", "--log-file", str(log))
    assert one_error_line(result) == f"Error: cannot write {log}: {a_file} is a file, not a folder"
    assert files_under(tmp_path) == ["notes.txt"]


# ---------------------------------------------------------------------------------------------
# cuttings run: the report's settings are checked before any stage runs
# ---------------------------------------------------------------------------------------------

def run_in(tmp_path, *args):
    """``cuttings run`` on a new database in ``tmp_path/work``; the log goes to ``tmp_path/log``."""
    work = tmp_path / "work"
    work.mkdir()
    return work, invoke_cli("--db", str(work / "cuttings.db"), "run", "--quiet",
                            "--log-file", str(tmp_path / "log" / "cuttings.log"), *args)


def test_run_unknown_format_refused_before_any_stage(tmp_path):
    work, result = run_in(tmp_path, "--format", "html", "--format", "pdf")
    assert one_error_line(result) == "Error: --format: unknown report format(s) 'pdf' (choose from html, md, text)"
    assert files_under(work) == []  # no database, no lock: nothing ran


def test_run_report_dir_under_a_file_refused_before_any_stage(tmp_path, a_file):
    report_dir = a_file / "reports"
    work, result = run_in(tmp_path, "--report-dir", str(report_dir))
    assert one_error_line(result) == f"Error: cannot write to {report_dir}: {a_file} is a file, not a folder"
    assert files_under(work) == []


def test_run_report_settings_not_checked_when_the_report_is_skipped(tmp_path):
    from cuttings import nightly
    options = nightly.NightlyOptions(report_formats=("pdf",), report_dir=tmp_path / "x", skip=("report",))
    nightly._check_report_options(options)  # no error: the report stage will not run
    with pytest.raises(nightly.UserError, match="'pdf'"):
        nightly._check_report_options(nightly.NightlyOptions(report_formats=("pdf",)))


# ---------------------------------------------------------------------------------------------
# long commands check where they will write before the work (minutes of crawling or training)
# ---------------------------------------------------------------------------------------------

def test_demo_report_dir_under_a_file_refused_before_the_crawl(tmp_path, a_file):
    work = tmp_path / "work"
    work.mkdir()
    report_dir = a_file / "reports"
    result = invoke_cli("--db", str(work / "demo.db"), "demo", "--report-dir", str(report_dir))
    assert one_error_line(result) == f"Error: cannot write to {report_dir}: {a_file} is a file, not a folder"
    assert files_under(work) == []


def test_models_folder_under_a_file_refused_before_any_learning(tmp_path, a_file):
    models = a_file / "models"
    result = invoke_cli("--db", str(tmp_path / "none.db"), "train", "--models", str(models))
    assert one_error_line(result) == f"Error: cannot write to {models}: {a_file} is a file, not a folder"
    assert files_under(tmp_path) == ["notes.txt"]
