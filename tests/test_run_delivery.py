"""`cuttings run --email/--webhook`: the nightly run sends the digest to a real SMTP server and a
webhook receiver on 127.0.0.1, records it only when every delivery succeeded, refuses missing
settings before crawling, and `schedule --print` carries the options."""
from __future__ import annotations

import email
import email.policy
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from cuttings import delivery, nightly, store
from cuttings.demo import serve_directory
from tests.conftest import invoke_cli, query_rows, run_cli
from tests.delivery_support import RECIPIENTS, Receiver, free_port, receiver, received_email, smtp_env, smtp_server
from tests.ops_support import sources_for

__all__ = ["receiver", "smtp_server"]  # fixtures

SMTP_VARIABLES = ("CUTTINGS_SMTP_HOST", "CUTTINGS_SMTP_PORT", "CUTTINGS_SMTP_USER", "CUTTINGS_SMTP_PASSWORD",
                  "CUTTINGS_SMTP_FROM", "CUTTINGS_SMTP_TO", "CUTTINGS_SMTP_STARTTLS", "CUTTINGS_SMTP_PLAINTEXT_LOGIN",
                  "CUTTINGS_SMTP_MAX_KB", "CUTTINGS_SMTP_REPORT_URL", "CUTTINGS_SMTP_ATTACH", "CUTTINGS_WEBHOOK_URL")
NO_DELIVERY_SETTINGS = {name: None for name in SMTP_VARIABLES}  # whatever this shell has set
HOOK_SECRET = "T0000/B0000/XXXXsecretXXXXtoken"


def _crawl_and_report(db, sources, tmp_path, *delivery, env):
    """`cuttings run` over ``sources`` (crawl and report only: no models needed), quietly as from cron."""
    return run_cli("--db", str(db), "run", "--quiet", "--sources", str(sources), "--skip", "analyse",
                   "--skip", "classify", "--no-politeness", "--since", "all", "--report-dir", str(tmp_path / "reports"),
                   "--log-file", str(tmp_path / "cuttings.log"), *delivery,
                   env={**{name: "" for name in SMTP_VARIABLES}, **env})  # "" counts as not set


def _originals(db) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NULL").fetchone()[0]
    finally:
        conn.close()


def test_run_mails_and_posts_the_digest_then_records_it(tmp_path, smtp_server, receiver):
    controller, inbox = smtp_server
    db = tmp_path / "n.db"
    hook = f"http://127.0.0.1:{receiver.server_port}/services/{HOOK_SECRET}"
    with serve_directory() as base:
        sources = sources_for(base, tmp_path / "sources.toml")
        result = _crawl_and_report(db, sources, tmp_path, "--email", "--webhook",
                                   env={**smtp_env(controller), "CUTTINGS_WEBHOOK_URL": hook})
    assert result.returncode == nightly.EXIT_OK, result.stderr.decode()[-3000:]
    assert result.stdout == b"" and result.stderr == b""  # --quiet: cron mails nothing on a good night
    stories = _originals(db)
    assert stories > 0
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == [address.strip() for address in RECIPIENTS.split(",")]
    message, parts, attachments = received_email(envelope)
    assert f": {stories} new stories" in message["Subject"]   # then what needs attention, if anything
    (title,) = query_rows(db, "SELECT title FROM articles WHERE duplicate_of IS NULL ORDER BY id LIMIT 1")[0].values()
    assert f"{stories} new stories" in parts["text/plain"]
    ((path, _type, payload),) = Receiver.received
    assert path == f"/services/{HOOK_SECRET}" and f": {stories} new stories" in payload["text"]
    # recorded: a reports row per file, and the run says what it sent
    reports = query_rows(db, "SELECT format, stories, path FROM reports ORDER BY id")
    assert [(r["format"], r["stories"]) for r in reports] == [("html", stories), ("md", stories)]
    # the e-mail keeps within the default budget and carries the digest file this run wrote, which lists every story
    assert len(parts["text/html"].encode("utf-8")) <= 80 * 1024
    assert attachments == [(Path(reports[0]["path"]).name, "text/html", Path(reports[0]["path"]).read_bytes())]
    assert "in the attached full digest" in parts["text/plain"] and reports[0]["path"] not in parts["text/plain"]
    assert title.split()[0] in Path(reports[1]["path"]).read_text(encoding="utf-8")
    (run,) = query_rows(db, "SELECT status, stages_json FROM crawl_runs WHERE command = 'run'")
    stage = json.loads(run["stages_json"])["report"]
    assert run["status"] == "ok" and stage["stories"] == stories
    assert stage["delivered"] == [f"e-mailed to {RECIPIENTS}", "posted to the webhook"]
    assert HOOK_SECRET not in (tmp_path / "cuttings.log").read_text()
    # the next digest starts where this one ended: nothing new to report
    again = invoke_cli("--db", str(db), "report", "--out", str(tmp_path / "reports"), "--format", "text",
                       "--print", env=NO_DELIVERY_SETTINGS)
    assert again.returncode == 0 and "0 new stories" in again.stdout.decode()


def test_failed_delivery_exits_6_and_the_next_report_sends_the_stories(tmp_path, smtp_server):
    controller, inbox = smtp_server
    db = tmp_path / "n.db"
    down = free_port()  # an SMTP server that is not there
    with serve_directory() as base:
        sources = sources_for(base, tmp_path / "sources.toml")
        result = _crawl_and_report(db, sources, tmp_path, "--email",
                                   env=smtp_env(controller, CUTTINGS_SMTP_PORT=str(down)))
    assert result.returncode == nightly.EXIT_DELIVERY == 6, result.stderr.decode()[-3000:]
    stderr = result.stderr.decode()
    assert result.stdout == b"" and "Traceback" not in stderr
    (line,) = [line for line in stderr.splitlines() if line.startswith("report:")]
    assert line.startswith(f"report: delivery failed: sending mail via 127.0.0.1:{down} failed: ")
    assert "not recorded" in line and f"(exit {nightly.EXIT_DELIVERY})" in stderr.splitlines()[-1]
    assert "the next run or `cuttings report --email` sends it again" in line   # plain report would record it
    stories = _originals(db)
    assert stories > 0  # the crawl's results are kept
    assert query_rows(db, "SELECT * FROM reports") == []  # the digest is not recorded
    (run,) = query_rows(db, "SELECT status, message, stages_json FROM crawl_runs WHERE command = 'run'")
    stages = json.loads(run["stages_json"])
    assert run["status"] == "partial" and stages["crawl"]["status"] == "ok"
    assert stages["report"]["status"] == "failed" and "delivery failed" in run["message"]
    assert len(stages["report"]["files"]) == 2 and all((tmp_path / "reports").glob("digest-*.html"))
    assert inbox.envelopes == []
    # `cuttings report --email` with the server still down: exit 6 as `run`, one line, nothing recorded
    still_down = invoke_cli("--db", str(db), "report", "--out", str(tmp_path / "reports"), "--email",
                            env={**NO_DELIVERY_SETTINGS, **smtp_env(controller, CUTTINGS_SMTP_PORT=str(down))})
    error = still_down.stderr.decode()
    assert still_down.returncode == nightly.EXIT_DELIVERY, error
    assert error.startswith(f"Error: sending mail via 127.0.0.1:{down} failed: ") and error.count("\n") == 1
    assert "(report files were written but not recorded)" in error
    assert query_rows(db, "SELECT * FROM reports") == []
    # the morning after: `cuttings report --email` sends those stories, then records them
    sent = invoke_cli("--db", str(db), "report", "--out", str(tmp_path / "reports"), "--email",
                      env={**NO_DELIVERY_SETTINGS, **smtp_env(controller)})
    assert sent.returncode == 0, sent.stderr.decode()
    (envelope,) = inbox.envelopes
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert f": {stories} new stories" in message["Subject"]   # then what needs attention, if anything
    assert {r["stories"] for r in query_rows(db, "SELECT stories FROM reports")} == {stories}


@pytest.mark.parametrize("args,env,expected", [
    (["--email"], {}, "Error: CUTTINGS_SMTP_HOST is not set"),
    (["--email"], {"CUTTINGS_SMTP_HOST": "127.0.0.1", "CUTTINGS_SMTP_FROM": "c@example.org"},
     "Error: CUTTINGS_SMTP_TO is not set"),
    (["--email"], {"CUTTINGS_SMTP_HOST": "127.0.0.1", "CUTTINGS_SMTP_FROM": "c@example.org",
                   "CUTTINGS_SMTP_TO": "a@example.org", "CUTTINGS_SMTP_PORT": "smtp"}, "Error: CUTTINGS_SMTP_PORT"),
    (["--email"], {"CUTTINGS_SMTP_HOST": "127.0.0.1", "CUTTINGS_SMTP_FROM": "c@example.org",
                   "CUTTINGS_SMTP_TO": "a@example.org", "CUTTINGS_SMTP_MAX_KB": "lots"},
     "Error: CUTTINGS_SMTP_MAX_KB must be a whole number of kilobytes, 20 or more (0: no limit; default 80), "
     "got 'lots'"),
    (["--email"], {"CUTTINGS_SMTP_HOST": "127.0.0.1", "CUTTINGS_SMTP_FROM": "c@example.org",
                   "CUTTINGS_SMTP_TO": "a@example.org", "CUTTINGS_SMTP_REPORT_URL": "file:///srv/cuttings/reports/"},
     "Error: CUTTINGS_SMTP_REPORT_URL must be the http(s) address the report folder is published at, such as "
     "https://intranet.example.org/cuttings/reports/ (got scheme 'file')"),
    (["--webhook"], {}, "Error: CUTTINGS_WEBHOOK_URL is not set"),
    (["--webhook"], {"CUTTINGS_WEBHOOK_URL": f"ftp://hooks.example.org/{HOOK_SECRET}"},
     "Error: webhook URL must start with https://"),
    (["--webhook"], {"CUTTINGS_WEBHOOK_URL": f"http://hooks.example.org/{HOOK_SECRET}"},
     "Error: webhook URL must start with https:// (got scheme 'http'; plain http only to this machine)"),
    (["--webhook", f"https://hooks.slack.com/services/{HOOK_SECRET}"], {},
     "Error: --webhook takes no URL on the command line"),
    (["--webhook-file", "missing.url"], {}, "Error: cannot read the webhook file"),
    (["--email", "--skip", "report"], {"CUTTINGS_SMTP_HOST": "127.0.0.1"}, "Error: --email and --webhook send the digest"),
])
def test_run_refuses_delivery_settings_before_crawling(tmp_path, args, env, expected):
    """Missing or invalid delivery settings: one line, exit 1, before the lock, the crawl or any run row."""
    db = tmp_path / "n.db"
    store.connect(db).conn.close()
    sources = sources_for("http://127.0.0.1:9", tmp_path / "sources.toml")  # would fail if it were crawled
    args = [str(tmp_path / a) if a.endswith(".url") else a for a in args]
    result = invoke_cli("--db", str(db), "run", "--quiet", "--sources", str(sources), "--skip", "analyse",
                        "--skip", "classify", "--log-file", str(tmp_path / "log"), *args,
                        env={**NO_DELIVERY_SETTINGS, **env})
    assert result.returncode == nightly.EXIT_USER_ERROR
    output = (result.stdout + result.stderr).decode()
    assert output.splitlines() == [output.splitlines()[0]] and output.startswith(expected), output
    assert HOOK_SECRET not in output
    assert query_rows(db, "SELECT * FROM crawl_runs") == []  # nothing ran
    assert not nightly.lock_path_for(db).exists()


def test_overall_status_of_a_failed_delivery():
    stages = {name: nightly.StageResult("ok") for name in ("crawl", "analyse", "classify")}
    stages["report"] = nightly.StageResult("failed", delivery_error=True)
    assert nightly.overall_status(stages) == ("partial", nightly.EXIT_DELIVERY)
    stages["crawl"] = nightly.StageResult("partial")  # the undelivered digest is what the reader misses
    assert nightly.overall_status(stages) == ("partial", nightly.EXIT_DELIVERY)
    stages["classify"] = nightly.StageResult("failed", storage_error=True)
    assert nightly.overall_status(stages) == ("failed", nightly.EXIT_STORAGE)


def _stages(**statuses):
    flags = {"delivery": {"delivery_error": True}, "storage": {"storage_error": True}}
    out = {}
    for name, status in statuses.items():
        status, _, flag = status.partition("+")
        out[name] = nightly.StageResult(status, **flags.get(flag, {}))
    return out


@pytest.mark.parametrize("stages,expected", [
    # one condition each
    (_stages(crawl="ok", analyse="ok", classify="ok", report="ok"), [0]),
    (_stages(crawl="partial", analyse="ok", classify="ok", report="ok"), [4]),
    (_stages(crawl="ok", analyse="ok", classify="ok", report="failed+delivery"), [6]),
    # only the report stage ran and only its delivery failed: the digest was written (6, not "nothing useful")
    (_stages(crawl="skipped", analyse="skipped", classify="skipped", report="failed+delivery"), [6]),
    # several: storage > fatal/interrupted > delivery > partial
    (_stages(crawl="partial", analyse="ok", classify="ok", report="failed+delivery"), [6, 4]),
    (_stages(crawl="partial", analyse="ok", classify="failed+storage", report="skipped"), [5, 4]),
    (_stages(crawl="ok", analyse="ok", classify="failed+storage", report="failed+delivery"), [5, 6]),
    (_stages(crawl="failed", analyse="ok", classify="ok", report="failed+delivery"), [2, 6]),
    (_stages(crawl="partial", analyse="interrupted"), [2, 4]),
    (_stages(crawl="failed", analyse="failed", classify="skipped", report="failed"), [2]),
])
def test_exit_precedence(stages, expected):
    """When a run meets several exit conditions, the code is the first in CODE_PRECEDENCE and the
    others are still reported (docs/operations.md, "Exit codes")."""
    conditions = nightly.exit_conditions(stages)
    assert [code for code, _status, _reason in conditions] == expected
    assert expected == sorted(expected, key=nightly.CODE_PRECEDENCE.index)
    assert nightly.overall_status(stages)[1] == expected[0]


def test_failed_delivery_with_only_the_report_stage_exits_6(tmp_path):
    """`run --skip crawl --skip analyse --skip classify --email` with the SMTP server down: the digest
    is written and not recorded, exit 6 (it used to be 2, "nothing useful happened")."""
    db = tmp_path / "n.db"
    store.connect(db).conn.close()
    down = free_port()
    env = {**NO_DELIVERY_SETTINGS, "CUTTINGS_SMTP_HOST": "127.0.0.1", "CUTTINGS_SMTP_PORT": str(down),
           "CUTTINGS_SMTP_FROM": "cuttings@example.org", "CUTTINGS_SMTP_TO": RECIPIENTS}
    result = invoke_cli("--db", str(db), "run", "--quiet", "--skip", "crawl", "--skip", "analyse", "--skip",
                        "classify", "--report-dir", str(tmp_path / "reports"), "--log-file",
                        str(tmp_path / "log"), "--email", env=env)
    assert result.returncode == nightly.EXIT_DELIVERY, result.stderr.decode()
    lines = result.stderr.decode().splitlines()
    assert lines[0].startswith(f"report: delivery failed: sending mail via 127.0.0.1:{down} failed: ")
    assert lines[-1].startswith("run 1: partial (exit 6); log: ") and len(lines) == 2
    assert len(list((tmp_path / "reports").glob("digest-*.html"))) == 1
    assert query_rows(db, "SELECT * FROM reports") == []


def test_failed_delivery_and_failed_source_exit_6_and_name_4(tmp_path, smtp_server):
    """A dead source (4) and a failed delivery (6) in one run: exit 6, and the summary line says 4
    applies too; the failed source still gets its line."""
    controller, _inbox = smtp_server
    db = tmp_path / "n.db"
    with serve_directory() as base:
        sources = sources_for(base, tmp_path / "sources.toml")
        sources.write_text(sources.read_text() + '\n[[source]]\nid = "gone"\nname = "Gone"\n'
                           'home = "http://127.0.0.1:9/"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\nlocal = true\n')
        result = _crawl_and_report(db, sources, tmp_path, "--email",
                                   env=smtp_env(controller, CUTTINGS_SMTP_PORT=str(free_port())))
    assert result.returncode == nightly.EXIT_DELIVERY, result.stderr.decode()[-3000:]
    lines = result.stderr.decode().splitlines()
    assert [line.split(":")[0] for line in lines] == ["source gone", "report", lines[-1].split(":")[0]]
    assert lines[-1].startswith("run 1: partial (exit 6; also 4: some sources or a stage failed); ")
    assert ", 1 source failed; log: " in lines[-1]


def test_schedule_carries_delivery_options(tmp_path):
    env_file = tmp_path / "my env" / "delivery.env"
    env_file.parent.mkdir()
    env_file.write_text("CUTTINGS_SMTP_HOST=mail.example.org\n")
    env_file.chmod(0o600)
    hook_file = tmp_path / "hook.url"
    cron = invoke_cli("--db", str(tmp_path / "c.db"), "schedule", "--print", "--email", "--webhook-file",
                      str(hook_file), "--env-file", str(env_file))
    assert cron.returncode == 0 and cron.stderr == b"", cron.stderr.decode()
    command = cron.stdout.decode().strip().split(None, 5)[5]
    assert "set -a" not in command and ". " not in command  # the run reads the file itself
    assert command.rstrip().endswith(f"run --quiet --email --webhook-file {hook_file} --env-file '{env_file}'")
    assert subprocess.run(["sh", "-n", "-c", command]).returncode == 0  # valid shell
    units = invoke_cli("--db", str(tmp_path / "c.db"), "schedule", "--print", "--systemd", "--email", "--webhook",
                       "--env-file", str(env_file)).stdout.decode()
    assert f'EnvironmentFile="{env_file}"\nExecStart=' in units  # systemd's convention: systemd reads it
    assert "run --quiet --email --webhook\n" in units and "6 delivery failed" in units
    # without an env file: a note on stderr (cron and systemd start without this shell's variables)
    bare = invoke_cli("--db", str(tmp_path / "c.db"), "schedule", "--print", "--email")
    assert bare.returncode == 0 and "--env-file" in bare.stderr.decode()
    assert bare.stdout.decode().rstrip().endswith("run --quiet --email")
    typed = invoke_cli("--db", str(tmp_path / "c.db"), "schedule", "--print", "--webhook",
                       f"https://hooks.slack.com/services/{HOOK_SECRET}")
    assert typed.returncode == 1 and typed.stdout == b"" and HOOK_SECRET not in typed.stderr.decode()


def test_schedule_refuses_an_env_file_the_nightly_run_cannot_read(tmp_path):
    """A cron line naming a missing, unreadable or malformed env file would fail every night (exit 1):
    schedule refuses it in one line and prints nothing. systemd reads the file as root, so one this
    user cannot read is a warning there; a malformed one it can read is refused."""
    db = str(tmp_path / "c.db")
    missing = tmp_path / "nonexist.env"
    result = invoke_cli("--db", db, "schedule", "--print", "--email", "--env-file", str(missing))
    assert result.returncode == 1 and result.stdout == b""
    [line] = result.stderr.decode().strip().splitlines()
    assert line.startswith(f"Error: cannot read the env file {missing}: No such file or directory: the scheduled "
                           "run reads it every night and would fail; create it first")
    bad = tmp_path / "bad.env"
    bad.write_text("CUTTINGS_SMTP_HOTS=mail.example.org\n")
    bad.chmod(0o600)
    for kind in ("--cron", "--systemd"):
        result = invoke_cli("--db", db, "schedule", "--print", kind, "--email", "--env-file", str(bad))
        assert result.returncode == 1 and result.stdout == b""
        assert "unknown setting CUTTINGS_SMTP_HOTS" in result.stderr.decode()
    units = invoke_cli("--db", db, "schedule", "--print", "--systemd", "--email", "--env-file", str(missing))
    assert units.returncode == 0 and f"EnvironmentFile={missing}\n" in units.stdout.decode()
    [warning] = units.stderr.decode().strip().splitlines()
    assert warning.startswith(f"warning: cannot read the env file {missing} as this user: systemd reads it as root")
    exposed = tmp_path / "exposed.env"
    exposed.write_text("CUTTINGS_SMTP_PASSWORD=x\n")
    exposed.chmod(0o644)
    cron = invoke_cli("--db", db, "schedule", "--print", "--email", "--env-file", str(exposed))
    assert cron.returncode == 0 and f"--env-file {exposed}" in cron.stdout.decode()
    assert f"chmod 600 {exposed}" in cron.stderr.decode()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_schedule_systemd_units_with_env_file_verify(tmp_path):
    env_file = tmp_path / "delivery.env"
    env_file.write_text("CUTTINGS_SMTP_HOST=mail.example.org\n")
    text = invoke_cli("--db", str(tmp_path / "s.db"), "schedule", "--print", "--systemd", "--email",
                      "--env-file", str(env_file)).stdout.decode()
    service, timer = text.split("# /etc/systemd/system/cuttings.timer\n")
    (tmp_path / "cuttings.service").write_text(service.split("# /etc/systemd/system/cuttings.service\n")[1])
    (tmp_path / "cuttings.timer").write_text(timer)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "cuttings.service"),
                             str(tmp_path / "cuttings.timer")], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if "cuttings." in line]
    assert complaints == [] and result.returncode == 0, complaints


def test_a_webhook_error_page_is_one_line(tmp_path, receiver):
    """A webhook answering an error with an HTML page: `cuttings report` says so in one line (the page's
    text collapsed and cut, no markup lines, no terminal escapes), exit 6, nothing recorded."""
    db = tmp_path / "n.db"
    store.connect(db).conn.close()
    hook = tmp_path / "hook.url"
    hook.write_text(f"http://127.0.0.1:{receiver.server_port}/services/{HOOK_SECRET}\n")
    Receiver.status = 502
    Receiver.error_body = ("<!DOCTYPE html>\n<html>\n<head>\n  <title>502 Bad Gateway</title>\n</head>\n"
                           "<body>\n\t<h1>Bad Gateway</h1>\n\x1b[31m<p>The proxy got nothing back.</p>\n"
                           + "\n".join(f"<!-- padding {n} -->" for n in range(100)) + "\n</body>\n</html>\n").encode()
    result = invoke_cli("--db", str(db), "report", "--since", "2000-01-01", "--out", str(tmp_path / "reports"),
                        "--webhook-file", str(hook))
    assert result.returncode == nightly.EXIT_DELIVERY
    [line] = result.stderr.decode().strip().splitlines()
    assert line.startswith(f"Error: webhook at 127.0.0.1:{receiver.server_port} answered HTTP 502: <!DOCTYPE html> "
                           "<html> <head> <title>502 Bad Gateway</title> </head> <body> <h1>Bad Gateway</h1> [31m<p>The proxy")
    assert "\x1b" not in line and "\t" not in line and HOOK_SECRET not in line
    detail = line.split("answered HTTP 502: ", 1)[1].split("…", 1)[0]
    assert "…" in line and len(detail) < delivery.ERROR_DETAIL_LIMIT
    assert query_rows(db, "SELECT * FROM reports") == []
