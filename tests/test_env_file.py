"""`--env-file FILE` of `cuttings run` and `report`: the delivery settings read from a file of
NAME=value lines by Python (no `set -a; . FILE` in the crontab), in the subset sh and systemd read
alike; a malformed line is one line naming the file and line (never the value); a variable set in
the environment wins; a secret in a file others may read gets a warning. Real SMTP server on 127.0.0.1."""
from __future__ import annotations

import email
import email.policy
import sqlite3
import subprocess

import pytest

from cuttings import envfile, nightly, store
from tests.conftest import invoke_cli, run_cli
from tests.delivery_support import PASSWORD, RECIPIENTS, smtp_server
from tests.test_run_delivery import NO_DELIVERY_SETTINGS, SMTP_VARIABLES

__all__ = ["smtp_server"]  # fixture

GOOD = """# delivery settings for the nightly run
CUTTINGS_SMTP_HOST=mail.example.org

  CUTTINGS_SMTP_PORT=2525
CUTTINGS_SMTP_USER=digest#1
CUTTINGS_SMTP_PASSWORD='pa ss$w"rd#x'
CUTTINGS_SMTP_FROM="Cuttings \\"night\\" <c@example.org>"
CUTTINGS_SMTP_TO='a@example.org, b@example.org'
CUTTINGS_SMTP_STARTTLS=
CUTTINGS_WEBHOOK_URL="https://hooks.example.org/x/\\$y"
"""
GOOD_VALUES = {"CUTTINGS_SMTP_HOST": "mail.example.org", "CUTTINGS_SMTP_PORT": "2525",
               "CUTTINGS_SMTP_USER": "digest#1", "CUTTINGS_SMTP_PASSWORD": 'pa ss$w"rd#x',
               "CUTTINGS_SMTP_FROM": 'Cuttings "night" <c@example.org>',
               "CUTTINGS_SMTP_TO": "a@example.org, b@example.org", "CUTTINGS_SMTP_STARTTLS": "",
               "CUTTINGS_WEBHOOK_URL": "https://hooks.example.org/x/$y"}


def test_the_format_reads_as_sh_reads_it(tmp_path):
    path = tmp_path / "delivery.env"
    path.write_text(GOOD)
    assert envfile.read_env_file(path).values == GOOD_VALUES
    # the same values for sh (`set -a; . FILE`, the crontab form before --env-file)
    script = "set -a; . \"$1\"; " + "; ".join(f'printf "%s\\0" "${name}"' for name in GOOD_VALUES)
    seen = subprocess.run(["sh", "-c", script, "sh", str(path)], capture_output=True, env={"PATH": "/usr/bin:/bin"})
    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.decode().split("\0")[:-1] == list(GOOD_VALUES.values())


@pytest.mark.parametrize("text,line,expected", [
    ("CUTTINGS_SMTP_HOST=a\nexport CUTTINGS_SMTP_TO=b\n", 2, "drop 'export'"),
    ("CUTTINGS_SMTP_HOST = mail.example.org\n", 1, "expected NAME=value"),
    ("just words\n", 1, "expected NAME=value"),
    ("CUTTINGS_SMTP_HOTS=mail.example.org\n", 1, "unknown setting CUTTINGS_SMTP_HOTS (did you mean CUTTINGS_SMTP_HOST?)"),
    ("# x\nHTTPS_PROXY=http://proxy:3128\n", 2, "HTTPS_PROXY is not a delivery setting"),
    ("CUTTINGS_SMTP_HOST=a\nCUTTINGS_SMTP_HOST=b\n", 2, "CUTTINGS_SMTP_HOST is set twice (lines 1 and 2)"),
    ("CUTTINGS_SMTP_PASSWORD='hunter2-secret\n", 1, "the single quote is not closed"),
    ("CUTTINGS_SMTP_PASSWORD=\"hunter2-secret\n", 1, "the double quote is not closed"),
    ("CUTTINGS_SMTP_PASSWORD='hunter2-secret' extra\n", 1, "text after the closing quote"),
    ("CUTTINGS_SMTP_PASSWORD=hunter2 secret\n", 1, "put this value in single quotes"),
    ("CUTTINGS_SMTP_PASSWORD=hunter2-$ecret\n", 1, "put this value in single quotes"),
    ("CUTTINGS_SMTP_PASSWORD=\"hunter2-$ecret\"\n", 1, "$ and ` in double quotes are expanded by sh"),
    ("CUTTINGS_SMTP_PASSWORD=\"hunter2\\n-secret\"\n", 1, "only \\\" \\\\ \\$ and \\` escapes"),
    ("CUTTINGS_SMTP_HOST=mail.example.org\r\nCUTTINGS_SMTP_TO=a@example.org\r\n", 1, "ends in a carriage return (Windows line ending)"),
    # control characters: systemd ends a line at \r and stops at NUL; sh keeps \r and the others
    ("CUTTINGS_SMTP_HOST=a\nCUTTINGS_SMTP_PASSWORD=hunter2\x00secret\n", 2, "holds the control character U+0000 (a NUL byte"),
    ("CUTTINGS_SMTP_PASSWORD=hunter2\rsecret\n", 1, "holds the control character U+000D (a carriage return"),
    ("CUTTINGS_SMTP_PASSWORD='hunter2\rsecret'\n", 1, "holds the control character U+000D"),
    ("CUTTINGS_SMTP_PASSWORD=\"hunter2\x0bsecret\"\n", 1, "holds the control character U+000B: remove it"),
    ("CUTTINGS_SMTP_PASSWORD='hunter2\x7fsecret'\n", 1, "holds the control character U+007F"),
    ("# a comment\rCUTTINGS_SMTP_HOST=a\n", 1, "holds the control character U+000D"),   # systemd reads a setting there
    ("\ufeffCUTTINGS_SMTP_HOST=mail.example.org\n", 1, "starts with a UTF-8 byte order mark"),
])
def test_a_malformed_line_is_one_line_with_its_number(tmp_path, text, line, expected):
    path = tmp_path / "delivery.env"
    path.write_text(text, newline="")
    with pytest.raises(envfile.EnvFileError) as caught:
        envfile.read_env_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, line {line}: {expected}"), message
    assert "\n" not in message and "hunter2" not in message and "secret" not in message.replace("set twice", "")


def test_a_tab_in_a_quoted_value_is_kept(tmp_path):
    path = tmp_path / "delivery.env"
    path.write_text("CUTTINGS_SMTP_PASSWORD='a\tb'\n")
    assert envfile.read_env_file(path).values == {"CUTTINGS_SMTP_PASSWORD": "a\tb"}


def test_doctor_and_report_refuse_a_nul_byte_in_one_line(tmp_path):
    """A NUL byte in a value: one line naming the file and line (never the value), exit non-zero, no traceback."""
    path = tmp_path / "delivery.env"
    path.write_bytes(b"CUTTINGS_SMTP_PASSWORD=hunter2\x00secret\nCUTTINGS_SMTP_HOST=x\n")
    path.chmod(0o600)
    doctor = invoke_cli("--db", str(tmp_path / "none.db"), "doctor", "--env-file", str(path))
    shown = doctor.stdout.decode() + doctor.stderr.decode()
    assert doctor.returncode != 0 and "Traceback" not in shown and "hunter2" not in shown
    assert [line for line in shown.splitlines() if f"{path}, line 1: holds the control character U+0000" in line]
    report = invoke_cli("--db", str(tmp_path / "none.db"), "report", "--env-file", str(path), "--email")
    error = report.stderr.decode()
    assert report.returncode != 0 and "Traceback" not in error and "hunter2" not in error
    assert f"{path}, line 1: holds the control character U+0000" in error


def test_unreadable_and_binary_files(tmp_path):
    with pytest.raises(envfile.EnvFileError, match=r"cannot read the env file .*missing.env: No such file"):
        envfile.read_env_file(tmp_path / "missing.env")
    (tmp_path / "latin1.env").write_bytes(b"CUTTINGS_SMTP_HOST=a\nCUTTINGS_SMTP_FROM=caf\xe9@example.org\n")
    with pytest.raises(envfile.EnvFileError, match=r"latin1.env, line 2: not UTF-8 text"):
        envfile.read_env_file(tmp_path / "latin1.env")


def test_the_environment_wins_over_the_file():
    env_file = envfile.EnvFile("f.env", {"CUTTINGS_SMTP_HOST": "file.example.org", "CUTTINGS_SMTP_TO": "file@x.org",
                                         "CUTTINGS_SMTP_FROM": "file-from@x.org"})
    environ = {"CUTTINGS_SMTP_TO": "me@x.org", "CUTTINGS_SMTP_FROM": "", "PATH": "/bin"}
    assert env_file.merged(environ) == {"CUTTINGS_SMTP_HOST": "file.example.org", "CUTTINGS_SMTP_TO": "me@x.org",
                                        "CUTTINGS_SMTP_FROM": "file-from@x.org", "PATH": "/bin"}
    assert environ["CUTTINGS_SMTP_FROM"] == ""  # merged changes nothing
    assert env_file.apply(environ) == ["CUTTINGS_SMTP_TO"]
    assert environ["CUTTINGS_SMTP_HOST"] == "file.example.org" and environ["CUTTINGS_SMTP_TO"] == "me@x.org"


def test_a_secret_others_can_read_gets_a_warning(tmp_path):
    path = tmp_path / "delivery.env"
    path.write_text("CUTTINGS_SMTP_HOST=a\nCUTTINGS_SMTP_PASSWORD='hunter2-secret'\n")
    path.chmod(0o644)
    warning = envfile.read_env_file(path).exposure()
    assert warning == (f"{path} holds CUTTINGS_SMTP_PASSWORD and can be read by group and others (mode 0644): "
                       f"chmod 600 {path}")
    path.chmod(0o640)
    assert envfile.read_env_file(path).exposure().endswith("can be read by group (mode 0640): chmod 600 " + str(path))
    path.chmod(0o600)
    assert envfile.read_env_file(path).exposure() is None
    path.write_text("CUTTINGS_SMTP_HOST=a\n")  # no secret: nothing to say
    path.chmod(0o644)
    assert envfile.read_env_file(path).exposure() is None


def _settings_file(path, controller, mode=0o600, **extra):
    values = {"CUTTINGS_SMTP_HOST": controller.hostname, "CUTTINGS_SMTP_PORT": str(controller.port),
              "CUTTINGS_SMTP_USER": "digest", "CUTTINGS_SMTP_PASSWORD": f"'{PASSWORD}'",
              "CUTTINGS_SMTP_STARTTLS": "0", "CUTTINGS_SMTP_PLAINTEXT_LOGIN": "1",
              "CUTTINGS_SMTP_FROM": "cuttings@example.org", "CUTTINGS_SMTP_TO": f"'{RECIPIENTS}'", **extra}
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    path.chmod(mode)
    return path


def test_run_reads_the_env_file_and_mails_the_digest(tmp_path, smtp_server):
    """`cuttings run --env-file` in a process whose environment has no delivery variable (as cron
    starts it): the digest is mailed with the file's settings and login, the password in no output or log."""
    controller, inbox = smtp_server
    db = tmp_path / "n.db"
    store.connect(db).conn.close()
    settings = _settings_file(tmp_path / "delivery.env", controller)
    result = run_cli("--db", str(db), "run", "--quiet", "--skip", "crawl", "--skip", "analyse", "--skip", "classify",
                     "--report-dir", str(tmp_path / "reports"), "--log-file", str(tmp_path / "cuttings.log"),
                     "--email", "--env-file", str(settings), env={name: "" for name in SMTP_VARIABLES})
    assert result.returncode == nightly.EXIT_OK, result.stderr.decode()
    assert result.stdout == b"" and result.stderr == b""  # a good night prints nothing
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == [address.strip() for address in RECIPIENTS.split(",")]
    assert PASSWORD not in (tmp_path / "cuttings.log").read_text()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM reports").fetchone()[0] == 2  # recorded: html and md
    conn.close()


def test_report_env_file_environment_wins_and_warns_about_the_mode(tmp_path, smtp_server):
    controller, inbox = smtp_server
    db = tmp_path / "n.db"
    store.connect(db).conn.close()
    settings = _settings_file(tmp_path / "delivery.env", controller, mode=0o644)
    result = invoke_cli("--db", str(db), "report", "--out", str(tmp_path / "reports"), "--no-record", "--email",
                        "--env-file", str(settings),
                        env={**NO_DELIVERY_SETTINGS, "CUTTINGS_SMTP_TO": "me@example.org"})
    assert result.returncode == 0, result.stderr.decode()
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["me@example.org"]  # the environment's value won
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["From"] == "cuttings@example.org"  # the file's
    stderr = result.stderr.decode()
    assert stderr.splitlines()[0] == (f"warning: {settings} holds CUTTINGS_SMTP_PASSWORD and can be read by group "
                                      f"and others (mode 0644): chmod 600 {settings}")
    assert PASSWORD not in stderr


def test_a_bad_env_file_stops_the_run_before_anything(tmp_path):
    db = tmp_path / "n.db"
    store.connect(db).conn.close()
    bad = tmp_path / "delivery.env"
    bad.write_text("CUTTINGS_SMTP_HOST=mail.example.org\nCUTTINGS_SMTP_PASSWORD=hunter2 secret\n")
    result = run_cli("--db", str(db), "run", "--quiet", "--skip", "crawl", "--skip", "analyse", "--skip", "classify",
                     "--report-dir", str(tmp_path / "reports"), "--log-file", str(tmp_path / "log"), "--email",
                     "--env-file", str(bad), env={name: "" for name in SMTP_VARIABLES})
    assert result.returncode == nightly.EXIT_USER_ERROR
    assert result.stderr.decode().splitlines() == [f"Error: {bad}, line 2: put this value in single quotes (it has "
                                                   "spaces or characters sh and systemd read differently)"]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0] == 0
    conn.close()
    assert not nightly.lock_path_for(db).exists() and not (tmp_path / "reports").exists()
