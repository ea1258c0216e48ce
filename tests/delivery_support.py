"""Servers a delivery test starts on 127.0.0.1: an SMTP server (aiosmtpd) that keeps what it is sent,
and an HTTP receiver standing in for a Slack or Teams incoming webhook.

Import the fixtures into a test module (``from tests.delivery_support import receiver, smtp_server``).
"""
from __future__ import annotations

import email
import email.policy
import json

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.faultserver import Reply, local_site
from tests.faultserver import closed_port as free_port  # a port nothing listens on (re-exported)

PASSWORD = "s3cret-Pa55word"
RECIPIENTS = "a@example.org, b@example.org"


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"digest" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture()
def smtp_server():
    """``(controller, inbox)``: a real SMTP server on 127.0.0.1 (login ``digest`` / :data:`PASSWORD`)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=_authenticator,
                            auth_require_tls=False)
    controller.start()
    yield controller, inbox
    controller.stop()


def smtp_env(controller, **extra) -> dict[str, str]:
    """``CUTTINGS_SMTP_*`` settings for the server of :func:`smtp_server`, plus ``extra``."""
    env = {"CUTTINGS_SMTP_HOST": controller.hostname, "CUTTINGS_SMTP_PORT": str(controller.port),
           "CUTTINGS_SMTP_FROM": "cuttings@example.org", "CUTTINGS_SMTP_TO": RECIPIENTS}
    env.update(extra)
    return env


class Receiver:
    """Keeps ``(path, content type, JSON body)`` of each POST in ``received``; answers ``status``
    (with ``error_body`` when it is not 200)."""
    received: list = []
    status = 200
    error_body = b"invalid_token"

    @classmethod
    def respond(cls, request) -> Reply:
        cls.received.append((request.path, request.headers["Content-Type"], json.loads(request.body)))
        return cls.status, {}, b"ok" if cls.status == 200 else cls.error_body


@pytest.fixture()
def receiver():
    """A webhook receiver on 127.0.0.1 (plain http: the webhook check accepts http(s))."""
    Receiver.received, Receiver.status, Receiver.error_body = [], 200, b"invalid_token"
    with local_site(Receiver.respond) as server:
        yield server


def received_email(envelope) -> tuple[email.message.EmailMessage, dict[str, str], list]:
    """``(message, {"text/plain": ..., "text/html": ...}, attachments)`` of an envelope :func:`smtp_server`
    received: the two parts of the digest (multipart/alternative, alone or inside multipart/mixed) and the
    parts attached, each ``(file name, content type, bytes)``."""
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    parts = {kind: message.get_body((kind.split("/")[1],)).get_content() for kind in ("text/plain", "text/html")}
    attachments = [(part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
                   for part in message.iter_attachments()]
    return message, parts, attachments
