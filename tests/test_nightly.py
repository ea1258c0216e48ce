"""`cuttings run`: the lock, stale runs, exit codes, the run record, logs and redaction, scheduling."""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from cuttings import logs, nightly, store
from cuttings.demo import serve_directory
from tests.conftest import REPO, invoke_cli, run_cli
from tests.ops_support import sources_for


# ----------------------------------------------------------------------------------------------
# the lock
# ----------------------------------------------------------------------------------------------

HOLD_LOCK = "import sys, time; from cuttings.nightly import RunLock; RunLock(sys.argv[1]).acquire(); " \
            "print('locked', flush=True); time.sleep(600)"


def hold_lock_in_subprocess(db):
    process = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db)], stdout=subprocess.PIPE, cwd=REPO,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    assert process.stdout.readline().strip() == b"locked"
    return process


def test_second_run_exits_at_once_with_code_3(tmp_path):
    db = tmp_path / "x.db"
    sources = sources_for("http://127.0.0.1:9", tmp_path / "sources.toml")
    holder = hold_lock_in_subprocess(db)
    try:
        started = time.monotonic()
        result = run_cli("--db", str(db), "run", "--sources", str(sources), "--skip", "classify",
                         "--skip", "analyse", "--log-file", str(tmp_path / "log"))
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == nightly.EXIT_ALREADY_RUNNING
    lines = [line for line in result.stderr.decode().splitlines() if line.startswith("cuttings run:")]
    assert len(lines) == 1 and "in progress" in lines[0]
    assert f"pid {holder.pid}" in lines[0]
    assert elapsed < 30  # interpreter start-up only: it loads no models and opens no database
    assert not db.exists()  # it did nothing


def test_lock_of_a_killed_process_is_taken_over(tmp_path):
    db = tmp_path / "x.db"
    holder = hold_lock_in_subprocess(db)
    with pytest.raises(nightly.AlreadyRunning):
        nightly.RunLock(db).acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = nightly.RunLock(db).acquire()
    try:
        assert lock.previous_holder["pid"] == holder.pid  # the dead holder's note, left behind
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    finally:
        lock.release()
    assert lock.path.read_text() == ""  # released: no holder recorded


def test_stale_running_rows_marked_interrupted(tmp_path):
    db = store.connect(tmp_path / "x.db")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = db.execute("INSERT INTO crawl_runs (command, started_at, status, pid) VALUES "
                       "('run', '2026-01-01T00:00:00Z', 'running', ?)", [dead.pid]).lastrowid
    alive = db.execute("INSERT INTO crawl_runs (command, started_at, status, pid) VALUES "
                       "('crawl', '2026-01-01T00:00:00Z', 'running', ?)", [os.getppid()]).lastrowid
    db.conn.commit()
    assert nightly.mark_stale_runs(db) == [stale]
    rows = dict(db.execute("SELECT id, status FROM crawl_runs").fetchall())
    assert rows == {stale: "interrupted", alive: "running"}


# ----------------------------------------------------------------------------------------------
# exit codes and the run record
# ----------------------------------------------------------------------------------------------

def test_bad_sources_is_user_error_and_writes_nothing(tmp_path):
    bad = tmp_path / "sources.toml"
    bad.write_text("[[source]]\nid = 'x'\nname = 'X'\nhome = 'not a url'\n")
    db = tmp_path / "sub" / "x.db"
    result = run_cli("--db", str(db), "run", "--sources", str(bad), "--log-file", str(tmp_path / "log"))
    assert result.returncode == nightly.EXIT_USER_ERROR
    assert "not an http(s) URL" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    assert not db.parent.exists()


def test_missing_models_skip_classify_not_the_run(tmp_path):
    """No trained models: the run still starts (a team's first night; tests/test_first_night.py), classify
    is skipped with one line. Here the one source is dead, so the night did nothing useful (exit 2)."""
    sources = sources_for("http://127.0.0.1:9", tmp_path / "sources.toml")
    result = run_cli("--db", str(tmp_path / "x.db"), "run", "--sources", str(sources), "--models",
                     str(tmp_path / "none"), "--log-file", str(tmp_path / "log"))
    assert result.returncode == nightly.EXIT_FATAL
    assert f"classify: skipped: no trained models in {tmp_path / 'none'}" in result.stdout.decode()


@pytest.mark.parametrize("statuses,expected", [
    ({"crawl": "ok", "analyse": "ok", "classify": "ok", "report": "ok"}, ("ok", 0)),
    ({"crawl": "partial", "analyse": "ok", "classify": "ok", "report": "ok"}, ("partial", 4)),
    ({"crawl": "ok", "analyse": "failed", "classify": "skipped", "report": "ok"}, ("partial", 4)),
    ({"crawl": "failed", "analyse": "failed", "classify": "skipped", "report": "failed"}, ("failed", 2)),
    ({"crawl": "ok", "analyse": "interrupted"}, ("interrupted", 2)),
])
def test_overall_status(statuses, expected):
    stages = {name: nightly.StageResult(status) for name, status in statuses.items()}
    assert nightly.overall_status(stages) == expected


@pytest.mark.slow
def test_nightly_run_end_to_end(tmp_path, trained_models):
    """A real run over the demo site plus one dead source: partial (exit 4), every stage recorded;
    the second run (dead source removed) adds nothing and is ok."""
    db = tmp_path / "n.db"
    log_file = tmp_path / "logs" / "cuttings.log"
    env = {"CUTTINGS_MODELS": str(trained_models), "CUTTINGS_SMTP_PASSWORD": "hunter2-secret"}
    with serve_directory() as base:
        good = sources_for(base, tmp_path / "good.toml")
        bad = tmp_path / "bad.toml"
        bad.write_text(good.read_text() + '\n[[source]]\nid = "gone"\nname = "Gone"\n'
                       'home = "http://127.0.0.1:9/"\nfeeds = ["http://127.0.0.1:9/feed.xml?token=hunter2-secret"]\n')
        common = ("--no-politeness", "--since", "all", "--report-dir", str(tmp_path / "reports"),
                  "--log-file", str(log_file))
        first = run_cli("--db", str(db), "run", "--sources", str(bad), *common, env=env)
        second = run_cli("--db", str(db), "run", "--sources", str(good), *common, env=env)
    assert first.returncode == nightly.EXIT_PARTIAL, first.stderr.decode()[-3000:]
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    runs = conn.execute("SELECT * FROM crawl_runs WHERE command = 'run' ORDER BY id").fetchall()
    assert [r["status"] for r in runs] == ["partial", "ok" if second.returncode == 0 else "partial"]
    stages = json.loads(runs[0]["stages_json"])
    assert list(stages) == list(nightly.STAGES)
    articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert stages["crawl"]["articles_new"] + stages["crawl"]["duplicates"] == articles
    assert stages["crawl"]["sources_failed"] == 1 and stages["crawl"]["status"] == "partial"
    assert stages["analyse"]["articles"] == articles and stages["classify"]["articles"] == articles
    assert all(stages[name]["seconds"] > 0 for name in ("crawl", "analyse", "classify"))
    assert runs[0]["articles_new"] == stages["crawl"]["articles_new"]
    # every classification's model is recorded in `models`, with its card and file (as by `classify`)
    used = {r[0] for r in conn.execute("SELECT DISTINCT model_version FROM classifications")}
    recorded = {r["version"]: r for r in conn.execute("SELECT * FROM models")}
    assert used and used <= set(recorded)
    assert all(recorded[v]["path"].endswith(".skops") and json.loads(recorded[v]["card_json"]) for v in used)
    assert runs[0]["finished_at"] >= runs[0]["started_at"]
    # second run: nothing new, nothing re-analysed
    second_stages = json.loads(runs[1]["stages_json"])
    assert second_stages["crawl"]["articles_new"] == 0
    assert second_stages["analyse"]["articles"] == 0 and second_stages["classify"]["articles"] == 0
    if second_stages["report"]["status"] == "ok":
        assert second.returncode == nightly.EXIT_OK, second.stderr.decode()[-2000:]
    text = log_file.read_text()
    assert re.search(rf"run {runs[0]['id']} finished: partial", text)
    assert "hunter2-secret" not in text and "hunter2-secret" not in first.stderr.decode()


# ----------------------------------------------------------------------------------------------
# logs
# ----------------------------------------------------------------------------------------------

def test_redacting_filter_removes_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("CUTTINGS_SMTP_PASSWORD", "correct-horse-battery")
    log_file = tmp_path / "cuttings.log"
    logs.setup_logging(log_file, stream=open(tmp_path / "console.txt", "w"))
    log = logging.getLogger("cuttings.test")
    log.info("smtp login with %s", "correct-horse-battery")
    log.warning("webhook failed: https://hooks.slack.com/services/T000/B000/XXXXSECRET and "
                "https://discord.com/api/webhooks/123/DISCORDTOKEN and https://example.org/hook?token=abc123&x=1 "
                "and smtp://user:pa55word@mail.example.org")
    try:
        raise RuntimeError("failed with password correct-horse-battery")
    except RuntimeError:
        log.exception("delivery failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    for path in (log_file, tmp_path / "console.txt"):
        text = path.read_text()
        for secret in ("correct-horse-battery", "XXXXSECRET", "DISCORDTOKEN", "abc123", "pa55word"):
            assert secret not in text, (path.name, secret)
        assert "hooks.slack.com/services/[REDACTED]" in text and "token=[REDACTED]&x=1" in text
        assert "smtp://user:[REDACTED]@mail.example.org" in text
    assert "RuntimeError" in log_file.read_text()  # the traceback is kept, redacted
    logs.setup_logging(tmp_path / "other.log")  # replaces, does not add, handlers
    assert sum(isinstance(h, logging.handlers.RotatingFileHandler) for h in logging.getLogger().handlers) == 1


def test_log_file_rotates(tmp_path):
    log_file = tmp_path / "r.log"
    logs.setup_logging(log_file, max_bytes=2000, backup_count=2, stream=open(os.devnull, "w"))
    for i in range(100):
        logging.getLogger("cuttings.test").info("line %d %s", i, "x" * 50)
    assert (tmp_path / "r.log.1").exists() and (tmp_path / "r.log.2").exists()
    assert not (tmp_path / "r.log.3").exists()


# ----------------------------------------------------------------------------------------------
# scheduling
# ----------------------------------------------------------------------------------------------

CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def parse_cron(line):
    fields = line.split(None, 5)
    assert len(fields) == 6, line
    for value, (low, high) in zip(fields[:5], CRON_RANGES):
        if value == "*":
            continue
        for part in value.split(","):
            first, _, last = part.partition("-")   # a value, or a range (1-6)
            assert first.isdigit() and low <= int(first) <= high, (value, line)
            assert not last or (last.isdigit() and int(first) <= int(last) <= high), (value, line)
    return fields


def test_schedule_cron_line(tmp_path):
    db = tmp_path / "c.db"
    result = invoke_cli("--db", str(db), "schedule", "--print", "--cron", "--at", "03:45")
    assert result.returncode == 0, result.stderr.decode()
    lines = [line for line in result.stdout.decode().splitlines() if line.strip()]
    assert len(lines) == 1
    fields = parse_cron(lines[0])
    assert fields[:5] == ["45", "3", "*", "*", "*"]
    command = fields[5]
    assert f"--db {db}" in command and command.rstrip().endswith("run --quiet")
    executable = command.split("&&")[1].split()[0]
    assert os.path.isabs(executable) and os.path.exists(executable)
    assert command.startswith(f"cd {REPO} ")


def test_schedule_carries_the_home_folder(tmp_path):
    """cron and systemd start without this shell's environment: a CUTTINGS_HOME set here (the
    configuration copies, models, reports and logs) is written into the line and the unit."""
    home = tmp_path / "my home"
    env = {"CUTTINGS_HOME": str(home)}
    cron = invoke_cli("--db", str(tmp_path / "c.db"), "schedule", "--print", env=env).stdout.decode().strip()
    command = parse_cron(cron)[5]
    assert f"&& CUTTINGS_HOME='{home}' " in command and command.rstrip().endswith("run --quiet")
    assert subprocess.run(["sh", "-n", "-c", command]).returncode == 0  # valid shell
    units = invoke_cli("--db", str(tmp_path / "c.db"), "schedule", "--print", "--systemd", env=env).stdout.decode()
    assert f'Environment="CUTTINGS_HOME={home}"\nExecStart=' in units
    assert "5 storage" in units
    plain = invoke_cli("--db", str(tmp_path / "c.db"), "schedule", "--print", env={"CUTTINGS_HOME": None})
    assert "CUTTINGS_HOME" not in plain.stdout.decode()


def test_schedule_rejects_bad_time(tmp_path):
    result = invoke_cli("--db", str(tmp_path / "c.db"), "schedule", "--print", "--at", "25:00")
    assert result.returncode == 1 and "HH:MM" in result.stderr.decode()


def test_schedule_without_print_says_what_to_add_in_one_line(tmp_path):
    result = invoke_cli("--db", str(tmp_path / "c.db"), "schedule", "--systemd")
    assert result.returncode == 1 and result.stdout == b""
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: schedule installs nothing") and "add --print" in lines[0]
    assert not (tmp_path / "c.db").exists()
    usage = invoke_cli("schedule", "--help").stdout.decode()
    assert "schedule --print [OPTIONS]\n" in usage.splitlines()[0] + "\n"


def test_run_help_lists_every_exit_code():
    text = " ".join(invoke_cli("run", "--help").stdout.decode().split())
    listed = text[text.index("Exit codes:"):text.index("Example")]
    codes = sorted(value for name, value in vars(nightly).items() if name.startswith("EXIT_"))
    assert codes == list(range(len(codes)))
    found = [int(code) for code in re.findall(r"(?:codes:|,) (\d) [a-z]", listed)]
    assert found == codes, listed
    assert "5 storage error" in listed


def test_deploy_cron_example_parses():
    lines = [line for line in (REPO / "deploy" / "cuttings.cron").read_text().splitlines()
             if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    assert lines
    for line in lines:
        parse_cron(line)
    # the morning doctor: the everyday checks Monday to Saturday, --full (integrity_check, the models loaded) Sundays
    doctors = {tuple(parse_cron(line)[:5]): line for line in lines if " doctor" in line}
    assert set(doctors) == {("0", "7", "*", "*", "1-6"), ("0", "7", "*", "*", "0")}
    assert "doctor --full" in doctors[("0", "7", "*", "*", "0")] and "--full" not in doctors[("0", "7", "*", "*", "1-6")]
    for bad in ("0 7 * * 1-9 x", "0 7 * * 6-1 x", "0 7 * * a-b x"):
        with pytest.raises(AssertionError):
            parse_cron(bad)


def test_deploy_cron_maintenance_lines_print_nothing_when_they_succeed(tmp_path):
    """The weekly backup and the monthly prune and vacuum of deploy/cuttings.cron, run by bash as cron runs them
    (this environment's cuttings, a sample database): a good week mails nothing, since cron mails anything
    printed (on 9410ebd: "backup: ... integrity ok" every Sunday, the prune's and vacuum's lines every month);
    a failure still prints."""
    from pathlib import Path

    from tests.report_fixtures import build_sample_db

    build_sample_db(tmp_path / "data" / "cuttings.db").close()
    (tmp_path / "backups").mkdir()
    cuttings = Path(sys.executable).with_name("cuttings")
    lines = [line for line in (REPO / "deploy" / "cuttings.cron").read_text().splitlines()
             if not line.startswith("#") and (" db backup " in line or " db prune " in line)]
    assert len(lines) == 2
    for line in lines:
        command = " ".join(line.split()[5:]).replace("/srv/cuttings/.venv/bin/cuttings", str(cuttings))
        command = command.replace("/srv/backups/cuttings/", f"{tmp_path}/backups/").replace("/srv/cuttings", str(tmp_path))
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
        assert (done.returncode, done.stdout + done.stderr) == (0, ""), command
    assert len(list((tmp_path / "backups").glob("cuttings-*.db"))) == 1
    (tmp_path / "data" / "cuttings.db").unlink()
    failed = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and "database not found" in failed.stderr


def systemd_verify(directory):
    """``systemd-analyze verify`` on the units in ``directory``; its complaints about our units."""
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(directory / "cuttings.service"),
                             str(directory / "cuttings.timer")], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if "cuttings." in line]
    return result.returncode, complaints


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_schedule_systemd_units_verify(tmp_path):
    result = invoke_cli("--db", str(tmp_path / "s.db"), "schedule", "--print", "--systemd")
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    service, timer = text.split("# /etc/systemd/system/cuttings.timer\n")
    service = service.split("# /etc/systemd/system/cuttings.service\n")[1]
    assert "Type=oneshot" in service and "Persistent=true" in timer and "OnCalendar=*-*-* 02:30:00" in timer
    (tmp_path / "cuttings.service").write_text(service)
    (tmp_path / "cuttings.timer").write_text(timer)
    code, complaints = systemd_verify(tmp_path)
    assert complaints == [] and code == 0, complaints


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_deploy_systemd_examples_verify(tmp_path):
    for name in ("cuttings.service", "cuttings.timer"):
        text = (REPO / "deploy" / name).read_text()
        # the example's paths are placeholders: point them at real files so verify checks the rest
        text = text.replace("/srv/cuttings/.venv/bin/cuttings", sys.executable).replace("/srv/cuttings", str(REPO))
        text = re.sub(r"^User=.*$", f"User={os.environ.get('USER', 'root')}", text, flags=re.M)
        (tmp_path / name).write_text(text)
    code, complaints = systemd_verify(tmp_path)
    assert complaints == [] and code == 0, complaints


@pytest.mark.slow
def test_sigterm_mid_crawl_records_interrupted_and_exits_2(tmp_path):
    """systemd stops an overrunning run with SIGTERM: the run stops, says so, and the next resumes."""
    from tests.ops_support import count, start_cli
    db = tmp_path / "t.db"
    with serve_directory() as base:
        sources = sources_for(base, tmp_path / "sources.toml")
        args = ("--db", str(db), "run", "--sources", str(sources), "--no-politeness", "--since", "all",
                "--skip", "classify", "--skip", "report", "--log-file", str(tmp_path / "t.log"))
        process = start_cli(*args)
        deadline = time.monotonic() + 120
        while count(db, "SELECT count(*) FROM articles") < 10 and process.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert process.poll() is None, "run finished before it could be stopped"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == nightly.EXIT_FATAL
        conn = sqlite3.connect(db)
        run_row = conn.execute("SELECT status, stages_json FROM crawl_runs WHERE command = 'run'").fetchone()
        assert run_row[0] == "interrupted"
        stages = json.loads(run_row[1])
        assert stages["crawl"]["status"] == "interrupted" and "analyse" not in stages
        conn.close()
        assert nightly.lock_path_for(db).read_text() == ""  # released on the way out
        again = run_cli(*args)
    assert again.returncode == nightly.EXIT_OK, again.stderr.decode()[-2000:]
    manifest = json.loads((REPO / "data" / "demo_site" / "manifest.json").read_text())
    assert count(db, "SELECT count(*) FROM articles") == len(manifest["articles"])


# ----------------------------------------------------------------------------------------------
# the planner's statistics
# ----------------------------------------------------------------------------------------------

def test_optimize_gives_the_tables_queried_statistics_and_stats_do_not_list_them(tmp_path):
    """store.optimize (PRAGMA optimize, run at the end of `cuttings run`): the tables the connection's queries
    used get ANALYZE's statistics; `db stats` counts cuttings's tables, not SQLite's sqlite_stat1."""
    from tests.report_fixtures import build_sample_db
    db = build_sample_db(tmp_path / "s.db")
    db.execute("SELECT * FROM article_summary ORDER BY published_at DESC LIMIT 10").fetchall()
    assert "sqlite_stat1" not in db.table_names()
    store.optimize(db)
    analysed = {row[0] for row in db.execute("SELECT tbl FROM sqlite_stat1")}
    assert {"articles", "classifications"} <= analysed
    assert not [name for name in store.table_counts(db) if name.startswith("sqlite_")]
    assert "articles" in store.table_counts(db)


def test_a_run_leaves_statistics_for_the_morning(tmp_path):
    """A night that stored nothing new still refreshes the statistics of what it read."""
    from tests.report_fixtures import build_sample_db
    db_path = tmp_path / "x.db"
    sample = build_sample_db(db_path)
    assert "sqlite_stat1" not in sample.table_names()
    sample.conn.close()
    sources = sources_for("http://127.0.0.1:9", tmp_path / "sources.toml")
    result = invoke_cli("--db", str(db_path), "run", "--sources", str(sources), "--models", str(tmp_path / "none"),
                        "--log-file", str(tmp_path / "log"), "--skip", "crawl", "--skip", "report")
    assert result.returncode in (nightly.EXIT_FATAL, nightly.EXIT_PARTIAL), result.stdout
    with sqlite3.connect(db_path) as conn:
        analysed = {row[0] for row in conn.execute("SELECT tbl FROM sqlite_stat1")}
    assert {"processing", "mentions"} <= analysed      # what the analyse stage read to find its work
