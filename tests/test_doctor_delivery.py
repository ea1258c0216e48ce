"""`cuttings doctor` checks the delivery settings when any are configured: complete and valid as
`run --email/--webhook` would check them, addresses parseable, secrets kept from other users; one
line each, nothing connected to or sent, no secret printed."""
from __future__ import annotations

import json
import socket

import pytest

from cuttings import store
from cuttings.doctor import check_delivery
from tests.conftest import invoke_cli
from tests.test_run_delivery import NO_DELIVERY_SETTINGS

SECRET = "hunter2-Pa55"
HOOK = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
COMPLETE = {"CUTTINGS_SMTP_HOST": "mail.example.org", "CUTTINGS_SMTP_USER": "cuttings",
            "CUTTINGS_SMTP_PASSWORD": SECRET, "CUTTINGS_SMTP_FROM": "Cuttings <cuttings@example.org>",
            "CUTTINGS_SMTP_TO": "newsdesk@example.org, Press <press@example.org>"}


def one_line(check):
    return f"{check.name} {check.status} {check.message} {check.fix or ''}"


def test_nothing_configured_nothing_checked():
    assert check_delivery({"PATH": "/bin", "CUTTINGS_SMTP_HOST": ""}) == []


def test_complete_settings_are_ok_and_print_no_secret():
    (smtp,) = check_delivery(COMPLETE)
    assert (smtp.name, smtp.status) == ("e-mail", "ok")
    assert smtp.message.startswith("via mail.example.org:587 (STARTTLS, login as cuttings) from cuttings@example.org "
                                   "to 2 addresses, its HTML part within 80 KB")
    (smtp,) = check_delivery({**COMPLETE, "CUTTINGS_SMTP_MAX_KB": "60"})
    assert ", its HTML part within 60 KB, the full digest attached (up to 5 MB) (" in smtp.message
    smtp, hook = check_delivery({**COMPLETE, "CUTTINGS_WEBHOOK_URL": HOOK})
    assert (hook.name, hook.status) == ("webhook", "ok")
    assert hook.message.startswith("https URL from $CUTTINGS_WEBHOOK_URL, host hooks.slack.com")
    assert SECRET not in one_line(smtp) and "XXXXsecret" not in one_line(hook)


@pytest.mark.parametrize("env,expected", [
    ({"CUTTINGS_SMTP_HOST": "mail.example.org"}, "CUTTINGS_SMTP_FROM is not set"),
    ({**COMPLETE, "CUTTINGS_SMTP_TO": " , "}, "CUTTINGS_SMTP_TO has no addresses"),
    ({**COMPLETE, "CUTTINGS_SMTP_HOST": "smtp://mail.example.org"}, "CUTTINGS_SMTP_HOST must be a host name"),
    ({**COMPLETE, "CUTTINGS_SMTP_HOST": "mail.example.org:465"}, "CUTTINGS_SMTP_HOST holds a port"),
    ({**COMPLETE, "CUTTINGS_SMTP_PORT": "smtp"}, "CUTTINGS_SMTP_PORT must be a port number"),
    ({**COMPLETE, "CUTTINGS_SMTP_PORT": "70000"}, "CUTTINGS_SMTP_PORT must be a port number"),
    ({**COMPLETE, "CUTTINGS_SMTP_STARTTLS": "maybe"}, "CUTTINGS_SMTP_STARTTLS must be one of"),
    ({**COMPLETE, "CUTTINGS_SMTP_STARTTLS": "0"}, "refusing to send the SMTP password without STARTTLS"),
    ({**COMPLETE, "CUTTINGS_SMTP_USER": ""}, "CUTTINGS_SMTP_USER is not set"),
    ({**COMPLETE, "CUTTINGS_SMTP_TO": "newsdesk, press@example.org"},
     "not an e-mail address: CUTTINGS_SMTP_TO 'newsdesk'"),
    ({**COMPLETE, "CUTTINGS_SMTP_FROM": "cuttings"}, "not an e-mail address: CUTTINGS_SMTP_FROM 'cuttings'"),
    ({**COMPLETE, "CUTTINGS_SMTP_MAX_KB": "100KB"}, "CUTTINGS_SMTP_MAX_KB must be a whole number of kilobytes"),
    ({**COMPLETE, "CUTTINGS_SMTP_REPORT_URL": "https://intranet.example.org/reports/?key=1"},
     "CUTTINGS_SMTP_REPORT_URL must be the http(s) address the report folder is published at"),
    ({**COMPLETE, "CUTTINGS_SMTP_ATTACH": "maybe"}, "CUTTINGS_SMTP_ATTACH must be one of 1/0"),
])
def test_smtp_problems_are_one_error_line_each(env, expected):
    (check,) = check_delivery(env)
    assert (check.name, check.status) == ("e-mail", "error")
    assert check.message.startswith(expected), check.message
    assert SECRET not in one_line(check) and "\n" not in one_line(check)


def test_doctor_says_where_the_full_digest_goes(tmp_path):
    """Attached (the default), linked where the report folder is published, or named by its path; an env file
    may hold both settings."""
    (smtp,) = check_delivery(COMPLETE)
    assert ", its HTML part within 80 KB, the full digest attached (up to 5 MB) (not connected" in smtp.message
    url = "https://intranet.example.org/cuttings/reports/"
    (smtp,) = check_delivery({**COMPLETE, "CUTTINGS_SMTP_REPORT_URL": url})
    assert f", the full digest attached (up to 5 MB) and linked at {url} (not connected" in smtp.message
    (smtp,) = check_delivery({**COMPLETE, "CUTTINGS_SMTP_REPORT_URL": url, "CUTTINGS_SMTP_ATTACH": "0"})
    assert f", the full digest linked at {url} (not connected" in smtp.message
    (smtp,) = check_delivery({**COMPLETE, "CUTTINGS_SMTP_ATTACH": "off"})
    assert (", the full digest named by its path on this machine (CUTTINGS_SMTP_ATTACH=0, no "
            "CUTTINGS_SMTP_REPORT_URL) (not connected") in smtp.message
    path = tmp_path / "delivery.env"
    path.write_text("".join(f"{name}='{value}'\n" for name, value in COMPLETE.items())
                    + f"CUTTINGS_SMTP_REPORT_URL={url}\nCUTTINGS_SMTP_ATTACH=0\n")
    path.chmod(0o600)
    env_check, smtp = check_delivery({}, env_file=path)
    assert env_check.message == f"{path}: 7 settings" and smtp.status == "ok"
    assert f", the full digest linked at {url} (not connected" in smtp.message


def test_webhook_problems(tmp_path):
    (check,) = check_delivery({"CUTTINGS_WEBHOOK_URL": HOOK.replace("https:", "http:")})
    assert check.status == "error" and check.message.startswith("webhook URL must start with https://")
    (check,) = check_delivery({}, webhook_file=tmp_path / "missing.url")
    assert check.status == "error" and check.message.startswith("cannot read the webhook file")
    hook_file = tmp_path / "hook.url"
    hook_file.write_text(HOOK + "\n")
    hook_file.chmod(0o644)
    (check,) = check_delivery({}, webhook_file=hook_file)
    assert check.status == "warning" and check.fix == f"chmod 600 {hook_file}"
    assert check.message == f"{hook_file} holds the webhook URL (a secret) and can be read by group and others (mode 0644)"
    hook_file.chmod(0o600)
    (check,) = check_delivery({}, webhook_file=hook_file)
    assert check.status == "ok" and check.message.startswith(f"https URL from the file {hook_file}, host hooks.slack.com")
    assert all("XXXXsecret" not in one_line(c) for c in check_delivery({}, webhook_file=hook_file))


def test_env_file_checks(tmp_path):
    path = tmp_path / "delivery.env"
    path.write_text("".join(f"{name}='{value}'\n" for name, value in COMPLETE.items()))
    path.chmod(0o600)
    env_check, smtp = check_delivery({"CUTTINGS_SMTP_TO": "me@example.org"}, env_file=path)
    assert (env_check.status, smtp.status) == ("ok", "ok")
    assert env_check.message == f"{path}: 5 settings (CUTTINGS_SMTP_TO from the environment, which wins)"
    assert smtp.message.split(" to ")[1].startswith("1 address,")  # the environment's one recipient
    path.chmod(0o640)
    env_check, smtp = check_delivery({}, env_file=path)
    assert env_check.status == "warning" and "can be read by group (mode 0640)" in env_check.message
    assert smtp.status == "ok" and SECRET not in one_line(env_check) + one_line(smtp)
    path.write_text("CUTTINGS_SMTP_HOST=mail.example.org\nCUTTINGS_SMTP_PASSWORD=hunter2-Pa55 x\n")
    (check,) = check_delivery({}, env_file=path)
    assert check.name == "env file" and check.status == "error"
    assert check.message.startswith(f"{path}, line 2: put this value in single quotes") and SECRET not in check.message


def test_cli_doctor_checks_delivery_without_connecting(tmp_path):
    """`cuttings doctor --env-file`: the delivery lines in the report and in --json, exit 1 on a problem,
    and the SMTP server named in the settings (a socket listening on 127.0.0.1) is never connected to."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    db = tmp_path / "d.db"
    store.connect(db).conn.close()
    path = tmp_path / "delivery.env"
    path.write_text(f"CUTTINGS_SMTP_HOST=127.0.0.1\nCUTTINGS_SMTP_PORT={listener.getsockname()[1]}\n"
                    f"CUTTINGS_SMTP_USER=cuttings\nCUTTINGS_SMTP_PASSWORD='{SECRET}'\n"
                    "CUTTINGS_SMTP_FROM=cuttings@example.org\nCUTTINGS_SMTP_TO=newsdesk\n")
    path.chmod(0o600)
    try:
        result = invoke_cli("--db", str(db), "doctor", "--env-file", str(path), env=NO_DELIVERY_SETTINGS)
        as_json = invoke_cli("--db", str(db), "doctor", "--json", "--env-file", str(path), env=NO_DELIVERY_SETTINGS)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()
    output = result.stdout.decode()
    assert result.returncode == 1 and SECRET not in output + as_json.stdout.decode()
    lines = output.splitlines()
    assert f"[ok  ] env file: {path}: 6 settings" in lines
    failed = lines.index("[FAIL] e-mail: not an e-mail address: CUTTINGS_SMTP_TO 'newsdesk'")
    assert lines[failed + 1].startswith("       fix: give addresses as name@example.org")
    checks = {c["name"]: c for c in json.loads(as_json.stdout)}
    assert checks["e-mail"]["status"] == "error" and checks["env file"]["status"] == "ok"
    assert as_json.returncode == 1
