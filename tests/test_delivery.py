"""Sending the digest through a real local SMTP server (aiosmtpd) and a real local HTTP receiver."""
from __future__ import annotations

import email
import email.policy
import json
import logging

import pytest

from cuttings import delivery, report
from tests.delivery_support import PASSWORD, free_port as _free_port, receiver, smtp_env as _env, smtp_server
from tests.delivery_support import Receiver as _Receiver
from tests.report_fixtures import NOW, build_sample_db

__all__ = ["receiver", "smtp_server"]  # fixtures


@pytest.fixture(scope="module")
def digest(tmp_path_factory):
    db = build_sample_db(tmp_path_factory.mktemp("delivery") / "sample.db")
    yield report.build_digest(db, now=NOW)
    db.close()


def test_send_email_multipart_alternative(smtp_server, digest):
    controller, inbox = smtp_server
    html, text = report.render_html(digest), report.render_markdown(digest, plain=True)
    sent_to = delivery.send_email("Cuttings digest", html, text, env=_env(controller))
    assert sent_to == ["a@example.org", "b@example.org"]
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["a@example.org", "b@example.org"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "Cuttings digest"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert parts["text/plain"].replace("\r\n", "\n").strip() == text.strip()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in parts["text/html"]


def test_send_email_login_without_logging_password(smtp_server, digest, caplog):
    controller, inbox = smtp_server
    caplog.set_level(logging.DEBUG)
    env = _env(controller, CUTTINGS_SMTP_USER="digest", CUTTINGS_SMTP_PASSWORD=PASSWORD,
               CUTTINGS_SMTP_STARTTLS="0", CUTTINGS_SMTP_PLAINTEXT_LOGIN="1")  # the test server has no TLS
    delivery.send_email("s", "<p>h</p>", "t", env=env)
    assert len(inbox.envelopes) == 1
    with pytest.raises(delivery.DeliveryError) as refused:
        delivery.send_email("s", "<p>h</p>", "t", env=env | {"CUTTINGS_SMTP_PASSWORD": "wrong-" + PASSWORD})
    assert "login as 'digest'" in str(refused.value)
    assert PASSWORD not in str(refused.value) and PASSWORD not in caplog.text
    assert "digest" in caplog.text  # the login name is logged, the password is not


@pytest.mark.parametrize("missing", ["CUTTINGS_SMTP_HOST", "CUTTINGS_SMTP_FROM", "CUTTINGS_SMTP_TO"])
def test_missing_setting_named(missing, smtp_server):
    controller, _ = smtp_server
    env = _env(controller)
    del env[missing]
    with pytest.raises(delivery.DeliveryError, match=missing):
        delivery.send_email("s", "h", "t", env=env)


def test_bad_settings(smtp_server):
    controller, _ = smtp_server
    with pytest.raises(delivery.DeliveryError, match="CUTTINGS_SMTP_PASSWORD"):
        delivery.send_email("s", "h", "t", env=_env(controller, CUTTINGS_SMTP_USER="digest"))
    with pytest.raises(delivery.DeliveryError, match="CUTTINGS_SMTP_PORT"):
        delivery.send_email("s", "h", "t", env=_env(controller, CUTTINGS_SMTP_PORT="smtp"))
    with pytest.raises(delivery.DeliveryError, match="unreachable|failed"):
        delivery.send_email("s", "h", "t", env=_env(controller, CUTTINGS_SMTP_PORT=str(_free_port())))


def test_post_webhook_slack_and_teams_compatible(receiver, digest):
    url = f"http://127.0.0.1:{receiver.server_port}/services/T000/B000/token"
    assert delivery.post_webhook(url, digest) == 200
    ((path, content_type, payload),) = _Receiver.received
    assert path == "/services/T000/B000/token" and content_type.startswith("application/json")
    assert payload["@type"] == "MessageCard" and payload["summary"]
    assert payload["text"].startswith("Cuttings morning digest (2026-11-24): 7 new stories")
    spikes = [item for item in digest["attention"] if item["kind"] == "spike"]
    assert spikes and all(report.attention_text(item) in payload["text"] for item in spikes)
    # it leads, as the digest does, with what needs attention, most pressing first
    lines = payload["text"].split("\n")
    assert lines[1] == "Needs attention:" and digest["attention"]
    first = report.attention_text(digest["attention"][0])
    assert lines[2] == "• " + first.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "Also new:" in lines:  # headlines already listed under attention are not repeated
        listed = [line for line in lines[lines.index("Also new:") + 1:]]
        assert not any(line[2:].split(" (")[0] in "\n".join(lines[2:lines.index("Also new:")]) for line in listed)
    # crawled headline escaped the way Slack requires, so it cannot inject <!channel> or links
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in payload["text"] and "<script>" not in payload["text"]
    # Slack previews no link of the message: it fetches no page a crawled headline names (false, not absent:
    # a webhook's message unfurls media by default)
    assert payload["unfurl_links"] is False and payload["unfurl_media"] is False


def test_post_webhook_errors_name_host_not_token(receiver, digest):
    _Receiver.status = 403
    url = f"http://127.0.0.1:{receiver.server_port}/services/T000/B000/secret-token"
    with pytest.raises(delivery.DeliveryError) as error:
        delivery.post_webhook(url, digest)
    assert "HTTP 403" in str(error.value) and "invalid_token" in str(error.value)
    assert "secret-token" not in str(error.value)
    with pytest.raises(delivery.DeliveryError, match="unreachable"):
        delivery.post_webhook(f"http://127.0.0.1:{_free_port()}/hook", digest)
    with pytest.raises(delivery.DeliveryError, match="https://"):
        delivery.post_webhook("file:///etc/passwd", digest)
    with pytest.raises(delivery.DeliveryError, match="plain http only to this machine") as clear:
        delivery.post_webhook("http://hooks.example.org/services/secret-token", digest)  # the token in clear
    assert "secret-token" not in str(clear.value)


def test_a_failed_webhook_after_the_mail_went_out_says_both(smtp_server, receiver, digest):
    """Every delivery is tried; the error names what failed and what went out all the same (the
    next digest mails those stories again, so the reader should know they have them)."""
    controller, inbox = smtp_server
    _Receiver.status = 500
    url = f"http://127.0.0.1:{receiver.server_port}/services/T000/B000/secret-token"
    sender = delivery.DigestDelivery(email=True, webhook_url=url)
    try:
        with pytest.raises(delivery.DeliveryError) as error:
            sender.send(digest, env=_env(controller))
    finally:
        _Receiver.status = 200
    message = str(error.value)
    assert "HTTP 500" in message and "(done all the same: e-mailed to a@example.org, b@example.org)" in message
    assert "secret-token" not in message
    assert len(inbox.envelopes) == 1   # the mail did go out


def test_the_chat_counts_what_the_digest_lists_no_further_and_its_summary_is_plain(digest):
    """The chat's "... and N more in the digest" counts the stories of the digest's own "and K more" lines
    too (it said 14 where the digest held about 146 more); Teams shows `summary` as plain text, so a
    body's name is not HTML-escaped there ("H&amp;W")."""
    import copy
    sample = copy.deepcopy(digest)
    items = [item for item in sample["attention"] if item.get("kind") != "more"]
    assert items, "the sample digest has attention items"
    sample["attention"] = [*items, {"kind": "more", "more": 27, "what": "27 more stories"},
                           {"kind": "more", "more": 5, "what": "5 more stories"}]
    sample["summary"] = {**sample["summary"], "by_name": {"H&W Fire": 3}}
    payload = delivery.webhook_payload(sample, max_items=1)
    assert f"• ... and {len(items) - 1 + 27 + 5} more in the digest" in payload["text"].split("\n")
    assert "(H&amp;W Fire 3)" in payload["text"]          # Slack's escaping in the text
    assert "(H&W Fire 3)" in payload["summary"] and "&amp;" not in payload["summary"]


def test_a_headline_cannot_link_in_teams_nor_swell_the_payload(digest):
    """Teams reads the card's text as Markdown: a crawled `[Log in](https://evil.example)` would be a
    disguised link under the bot's name, and a line break could start a link definition or a heading.
    A 100 KB headline would make a card Teams refuses, every night. Each crawled text is one inert line
    of at most CHAT_TEXT_LIMIT characters."""
    import copy
    hostile = copy.deepcopy(digest)
    story = next(story for group in hostile["groups"] for story in group["stories"])
    story["headline"] = ("Council news [Log in to read](https://evil.example/phish) ![x](https://evil.example/i.png)"
                         "\n[ref]: https://evil.example\n# Heading " + "word " * 20_000)
    for item in hostile["attention"]:
        if item.get("article_id") == story["article_id"]:
            item["headline"] = story["headline"]
    payload = delivery.webhook_payload(hostile)
    text = payload["text"]
    assert "](" not in text and "] (https://evil.example/phish)" in text
    assert "\n[ref]" not in text and "\n# " not in text
    line = next(line for line in text.split("\n") if "Council news" in line)
    assert len(line) < delivery.CHAT_TEXT_LIMIT + 80 and "…" in line
    assert len(json.dumps(payload).encode()) < 10_000


def test_subject_names_the_bodies_a_critical_tone_needs_attention_for(digest):
    """The subject said only "7 new stories", the same on a night of critical coverage of the team's own
    service as on a quiet one: it names the bodies the "needs attention" block finds a negative tone towards."""
    assert delivery.digest_subject(digest) == "Cuttings 2026-11-24: 7 new stories; negative tone towards HWFRS, PCC"
    quiet = {**digest, "attention": [item for item in digest["attention"] if item["kind"] != "negative_tone"]}
    assert delivery.digest_subject(quiet) == "Cuttings 2026-11-24: 7 new stories; needs attention"
    nothing = {**digest, "attention": [], "summary": {**digest["summary"], "stories": 1}}
    assert delivery.digest_subject(nothing) == "Cuttings 2026-11-24: 1 new story"
    critical = {**digest, "attention": [{**item, "words": "critical"} for item in digest["attention"]
                                        if item["kind"] == "negative_tone"]}
    assert delivery.digest_subject(critical).endswith("; critical tone towards HWFRS, PCC")
