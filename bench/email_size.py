"""Send a digest by e-mail to an SMTP server on 127.0.0.1 (aiosmtpd) and measure the message received:
the HTML and text parts (decoded, as sent: UTF-8, CRLF), the attachment (decoded and as sent, base64),
the whole message, and whether the attachment is the digest file's bytes.

Runs ``cuttings report --email --no-record --format all`` with the code of ``--code`` (a checkout: the
current one, or an older commit's ``git archive`` to compare), on a copy of a database (it records
nothing, but keep the original safe), with the e-mail settings given as NAME=value arguments:

    python bench/email_size.py --db /tmp/me/demo.db --since 2026-11-30
    python bench/email_size.py --db /tmp/me/demo.db --since 2026-11-30 CUTTINGS_SMTP_ATTACH=0 \\
        CUTTINGS_SMTP_REPORT_URL=https://intranet.example.org/cuttings/reports/
    git archive 6b85b0e | tar -x -C /tmp/old && python bench/email_size.py --code /tmp/old --db ... --since ...
"""
from __future__ import annotations

import argparse
import email
import email.policy
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout whose cuttings runs (default: this one)")
    parser.add_argument("--db", type=Path, required=True, help="the database (a copy)")
    parser.add_argument("--since", required=True, help="report --since")
    parser.add_argument("settings", nargs="*", metavar="NAME=value", help="e-mail settings (CUTTINGS_SMTP_*)")
    args = parser.parse_args()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    out = Path(tempfile.mkdtemp(prefix="cuttings-email-size-"))
    env = {name: value for name, value in os.environ.items() if not name.startswith("CUTTINGS_")}
    env.update({"CUTTINGS_HOME": str(out / "home"), "CUTTINGS_SMTP_HOST": "127.0.0.1",
                "CUTTINGS_SMTP_PORT": str(controller.port), "CUTTINGS_SMTP_FROM": "cuttings@example.org",
                "CUTTINGS_SMTP_TO": "newsdesk@example.org", **dict(arg.split("=", 1) for arg in args.settings)})
    try:   # -c: the checkout's folder (the working directory) comes first on the import path
        result = subprocess.run([sys.executable, "-c", "from pipeline import cli; cli()", "--db", str(args.db),
                                 "report", "--since", args.since, "--no-record", "--email", "--format", "all",
                                 "--out", str(out / "reports")], cwd=args.code, env=env, capture_output=True, text=True)
    finally:
        controller.stop()
    if result.returncode:
        sys.exit(result.stderr)
    (envelope,) = inbox.envelopes
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    html, text = message.get_body(("html",)), message.get_body(("plain",))
    written = next((out / "reports").glob("*.html"))
    print(f"HTML part {len(html.get_payload(decode=True)):,} B "
          f"(as sent, {html['Content-Transfer-Encoding']}: {len(html.as_bytes(policy=email.policy.SMTP)):,} B)")
    print(f"text part {len(text.get_payload(decode=True)):,} B")
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        print(f"attachment {part.get_filename()} {part.get_content_type()} {len(data):,} B (as sent: "
              f"{len(part.as_bytes(policy=email.policy.SMTP)):,} B); the digest file's bytes: {data == written.read_bytes()}")
    print(f"whole message {len(envelope.content):,} B; digest file {written.stat().st_size:,} B")
    for line in text.get_content().splitlines():
        if "full digest" in line:
            print("first line naming the full digest:", line)
            break


if __name__ == "__main__":
    main()
