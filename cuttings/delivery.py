"""Sending the digest: e-mail over SMTP and a chat webhook (Slack or Microsoft Teams).

SMTP settings come from environment variables (see :data:`SMTP_VARIABLES`), so no
password is ever written to a config file or the database; the password is never
logged or included in an error message. Webhook URLs carry a secret token in their
path, so errors name only the host.

:class:`DigestDelivery` is the one way the command line sends a digest (``cuttings report``
and the nightly ``cuttings run``): ``prepare`` checks the settings before anything is built,
``send`` delivers, and the caller records the digest only when ``send`` succeeded.
"""
from __future__ import annotations

import json
import logging
import os
import smtplib
from pathlib import Path
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Mapping

from cuttings.errors import CuttingsError
from cuttings.wording import counted

log = logging.getLogger(__name__)

SMTP_VARIABLES = {
    "CUTTINGS_SMTP_HOST": "SMTP server host name (required)",
    "CUTTINGS_SMTP_PORT": "SMTP port (default 587 with STARTTLS, else 25)",
    "CUTTINGS_SMTP_USER": "login name (optional; set with the password)",
    "CUTTINGS_SMTP_PASSWORD": "login password (optional; never logged)",
    "CUTTINGS_SMTP_FROM": "sender address (required)",
    "CUTTINGS_SMTP_TO": "comma-separated recipient addresses (required)",
    "CUTTINGS_SMTP_STARTTLS": "1/0: upgrade the connection with STARTTLS (default: on when logging in, else off)",
    "CUTTINGS_SMTP_PLAINTEXT_LOGIN": "1 to allow a login with CUTTINGS_SMTP_STARTTLS=0 (password sent in clear; "
                                     "only for a relay on this machine)",
    "CUTTINGS_SMTP_MAX_KB": "the most kilobytes the e-mail's HTML part may take (default 80; 0: no limit): Gmail clips "
                            "a message whose HTML is over about 102 KB, so the e-mail lists each section's most "
                            "pressing stories and says where the rest are",
    "CUTTINGS_SMTP_REPORT_URL": "the http(s) address the report folder is published at, e.g. "
                                "https://intranet.example.org/cuttings/reports/ (optional): the e-mail links to the "
                                "full digest there",
    "CUTTINGS_SMTP_ATTACH": "1/0: attach the full digest file to the e-mail when it is 5 MB or less (default 1)",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class DeliveryError(CuttingsError):
    """Sending failed or is misconfigured; the message says what to fix (never contains secrets)."""


def _setting(env: Mapping[str, str], name: str, *, required: bool = False) -> str:
    value = (env.get(name) or "").strip()
    if required and not value:
        raise DeliveryError(f"{name} is not set: {SMTP_VARIABLES[name]}")
    return value


# The largest digest file attached (CUTTINGS_SMTP_ATTACH): base64 makes 5 MB about 6.8 MB, so with the two
# parts the message stays under 10 MB, the smallest limit mail servers still commonly keep (Exchange's default
# for a message; Gmail takes 25 MB, Microsoft 365 35 MB). A larger digest is not attached: the e-mail says where
# it is instead.
ATTACH_MAX_BYTES = 5 * 1024 * 1024
# the attachment's type by the digest file's suffix (report.full_digest_path: HTML, else Markdown, else text)
_ATTACHMENT_TYPES = {".html": "html", ".md": "plain", ".txt": "plain"}


@dataclass(frozen=True)
class Attachment:
    """A file the e-mail carries: its name, bytes and ``text/`` subtype."""
    filename: str
    data: bytes = field(repr=False)
    subtype: str = "html"


def build_email(subject: str, html: str, text: str, *, sender: str, recipients: list[str],
                attachment: Attachment | None = None) -> EmailMessage:
    """A multipart/alternative message: the plain-text part first, the HTML part preferred; with an
    ``attachment``, that and the file (base64, its bytes as they are) in a multipart/mixed message."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if attachment is not None:
        message.add_attachment(attachment.data, maintype="text", subtype=attachment.subtype,
                               filename=attachment.filename)
    return message


@dataclass(frozen=True)
class SmtpSettings:
    """The checked ``CUTTINGS_SMTP_*`` settings (:func:`smtp_settings`)."""
    host: str
    port: int
    sender: str
    recipients: list[str]
    starttls: bool
    user: str = ""
    password: str = field(default="", repr=False)
    max_kb: int = 80  # CUTTINGS_SMTP_MAX_KB: the HTML part's budget (report.EMAIL_MAX_KB); 0: no limit
    report_url: str = ""  # CUTTINGS_SMTP_REPORT_URL: where the report folder is published ("": not published)
    attach: bool = True  # CUTTINGS_SMTP_ATTACH: attach the full digest (up to ATTACH_MAX_BYTES)


def smtp_settings(env: Mapping[str, str] = os.environ) -> SmtpSettings:
    """The ``CUTTINGS_SMTP_*`` settings in ``env``, checked without connecting: raises
    :class:`DeliveryError` naming the missing or invalid variable."""
    host = _setting(env, "CUTTINGS_SMTP_HOST", required=True)
    if "/" in host or any(ch.isspace() for ch in host) or "@" in host:
        raise DeliveryError("CUTTINGS_SMTP_HOST must be a host name or address (no scheme, path or login: "
                            "mail.example.org)")
    if host.count(":") == 1:
        raise DeliveryError("CUTTINGS_SMTP_HOST holds a port: put the host name in it and the port in CUTTINGS_SMTP_PORT")
    sender = _setting(env, "CUTTINGS_SMTP_FROM", required=True)
    recipients = [address.strip() for address in _setting(env, "CUTTINGS_SMTP_TO", required=True).split(",")
                  if address.strip()]
    if not recipients:
        raise DeliveryError(f"CUTTINGS_SMTP_TO has no addresses: {SMTP_VARIABLES['CUTTINGS_SMTP_TO']}")
    starttls_text = _setting(env, "CUTTINGS_SMTP_STARTTLS").lower()
    if starttls_text not in _TRUE | _FALSE:
        raise DeliveryError(f"CUTTINGS_SMTP_STARTTLS must be one of 1/0, true/false, yes/no, on/off "
                            f"(got {starttls_text!r})")
    user = _setting(env, "CUTTINGS_SMTP_USER")
    # The password never crosses the network in clear: a login means STARTTLS unless turned
    # off explicitly and a plaintext login allowed explicitly too.
    starttls = starttls_text in _TRUE or (starttls_text == "" and bool(user))
    if user and not starttls and _setting(env, "CUTTINGS_SMTP_PLAINTEXT_LOGIN").lower() not in _TRUE:
        raise DeliveryError("refusing to send the SMTP password without STARTTLS: unset CUTTINGS_SMTP_STARTTLS "
                            "(or set it to 1), or set CUTTINGS_SMTP_PLAINTEXT_LOGIN=1 for a relay on this machine")
    port_text = _setting(env, "CUTTINGS_SMTP_PORT") or ("587" if starttls else "25")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise DeliveryError(f"CUTTINGS_SMTP_PORT must be a port number (got {port_text!r})")
    password = env.get("CUTTINGS_SMTP_PASSWORD") or ""
    if bool(user) != bool(password):
        missing = "CUTTINGS_SMTP_PASSWORD" if user else "CUTTINGS_SMTP_USER"
        raise DeliveryError(f"{missing} is not set: set both CUTTINGS_SMTP_USER and CUTTINGS_SMTP_PASSWORD, or neither")
    attach_text = _setting(env, "CUTTINGS_SMTP_ATTACH").lower()
    if attach_text not in _TRUE | _FALSE:
        raise DeliveryError(f"CUTTINGS_SMTP_ATTACH must be one of 1/0, true/false, yes/no, on/off (got {attach_text!r})")
    return SmtpSettings(host=host, port=int(port_text), sender=sender, recipients=recipients, starttls=starttls,
                        user=user, password=password, max_kb=email_max_kb(env), report_url=report_url(env),
                        attach=attach_text in _TRUE or attach_text == "")


_URL_REFUSED = set(' "<>\\^`{|}')


def report_url(env: Mapping[str, str] = os.environ) -> str:
    """``CUTTINGS_SMTP_REPORT_URL``: the http(s) address the report folder is published at ("" when unset).
    Refused (:class:`DeliveryError`, one line that names what is wrong without repeating the value, which
    may hold an unguessable path): another scheme, no host, a login in it (every recipient would read it),
    a ``?query`` or ``#fragment`` (the digest's file name is added to the folder's address), spaces, quotes,
    ``<>`` or characters outside ASCII (percent-encode them)."""
    value = _setting(env, "CUTTINGS_SMTP_REPORT_URL")
    if not value:
        return ""
    parts = urllib.parse.urlsplit(value)

    def refuse(why: str) -> DeliveryError:
        return DeliveryError("CUTTINGS_SMTP_REPORT_URL must be the http(s) address the report folder is published "
                             f"at, such as https://intranet.example.org/cuttings/reports/ ({why})")
    if parts.scheme.lower() not in ("http", "https"):
        raise refuse(f"got scheme {parts.scheme!r}" if parts.scheme else "it does not start with http:// or https://")
    if any(ord(char) < 33 or ord(char) > 126 or char in _URL_REFUSED for char in value):
        raise refuse("it holds a space, a quote, <, >, a control or a non-ASCII character: percent-encode it, "
                     "%20 for a space")
    if "?" in value or "#" in value:
        raise refuse("it holds a ?query or #fragment: the digest's file name is added to the folder's address")
    if "@" in parts.netloc:
        raise refuse("it holds a login: every recipient of the e-mail would read it")
    if not parts.hostname:
        raise refuse("it has no host name")
    try:
        parts.port
    except ValueError:
        raise refuse("its port is not a number from 0 to 65535") from None
    return value


def digest_url(base: str, full_digest: str | os.PathLike) -> str:
    """The address of the digest file ``full_digest`` in the report folder published at ``base``
    (:func:`report_url`): the file's name percent-encoded, joined to the folder's address."""
    return base.rstrip("/") + "/" + urllib.parse.quote(Path(full_digest).name, safe="")


def digest_attachment(full_digest: str | os.PathLike | None) -> Attachment | None:
    """The digest file as the e-mail's attachment, or None (logged) when there is none, it cannot be read, or it is
    over :data:`ATTACH_MAX_BYTES`: the e-mail then says where the file is instead."""
    if not full_digest:
        return None
    path = Path(full_digest)
    try:
        size = path.stat().st_size
        if size > ATTACH_MAX_BYTES:
            log.warning("the full digest %s is %.1f MB, over the %d MB the e-mail attaches: not attached", path,
                        size / 1024 / 1024, ATTACH_MAX_BYTES // (1024 * 1024))
            return None
        data = path.read_bytes()
    except OSError as exc:
        log.warning("the full digest %s cannot be read (%s): not attached", path, exc.strerror or exc)
        return None
    return Attachment(path.name, data, _ATTACHMENT_TYPES.get(path.suffix, "plain"))


def email_max_kb(env: Mapping[str, str] = os.environ) -> int:
    """``CUTTINGS_SMTP_MAX_KB``: a whole number of kilobytes, at least ``report.EMAIL_MIN_KB``, or 0 (no
    limit); unset or empty: ``report.EMAIL_MAX_KB``. Anything else raises :class:`DeliveryError` naming it."""
    from cuttings.report import EMAIL_MAX_KB, EMAIL_MIN_KB
    text = _setting(env, "CUTTINGS_SMTP_MAX_KB")
    if not text:
        return EMAIL_MAX_KB
    if not text.isdigit() or 0 < int(text) < EMAIL_MIN_KB:
        raise DeliveryError(f"CUTTINGS_SMTP_MAX_KB must be a whole number of kilobytes, {EMAIL_MIN_KB} or more "
                            f"(0: no limit; default {EMAIL_MAX_KB}), got {text!r}")
    return int(text)


def send_email(subject: str, html: str, text: str, *, env: Mapping[str, str] = os.environ,
               timeout: float = 30.0, attachment: Attachment | None = None) -> list[str]:
    """Send the digest by SMTP using the ``CUTTINGS_SMTP_*`` settings in ``env`` (with ``attachment``: the
    full digest file).

    Returns the recipient list. Raises :class:`DeliveryError` naming the missing or
    invalid variable, or describing the SMTP failure.
    """
    settings = smtp_settings(env)
    where = f"{settings.host}:{settings.port}"
    message = build_email(subject, html, text, sender=settings.sender, recipients=settings.recipients,
                          attachment=attachment)
    log.info("sending digest to %s via %s (starttls=%s, login=%s)", ", ".join(settings.recipients), where,
             settings.starttls, settings.user or "none")
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password)
            refused = smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login as {settings.user!r} at {where} refused ({exc.smtp_code})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"sending mail via {where} failed: {type(exc).__name__}: "
                            f"{one_line(_without(str(exc), settings.password), ERROR_DETAIL_LIMIT)}") from None
    if refused:
        log.warning("some recipients were refused: %s", ", ".join(refused))
    return [address for address in settings.recipients if address not in refused]


def _without(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


def webhook_payload(digest: dict, *, max_items: int = 8, max_headlines: int = 5, max_per_outlet: int = 2) -> dict:
    """A short summary that both Slack (``text``) and Teams (MessageCard) incoming webhooks accept.

    Like the digest, it leads with what needs attention (negative tone towards a watched
    body, stance on fire governance, coverage spikes, new quotes from principals, crawl
    problems: the digest's own "needs attention" items, most pressing first), then the
    newest other headlines, at most ``max_per_outlet`` of them from one outlet (so one outlet's
    many stories cannot fill the message). Headlines are crawled text (``_chat_escape``): a headline cannot inject a
    Slack mention (``<!channel>``) or link, nor a Teams Markdown link, and each is cut to
    ``CHAT_TEXT_LIMIT`` characters, so the payload stays a few kilobytes. Slack is told not to unfurl
    (``unfurl_links``, ``unfurl_media``: false), so it fetches and previews no page a headline names.
    """
    from cuttings.report import NOT_RATED, attention_text, has_stance, spike_text

    summary = digest["summary"]
    counts = ", ".join(f"{name} {count}" for name, count in summary.get("by_name", summary["by_entity"]).items())
    # as the digest: no stance task, no stance; a stance task no model has rated yet, "not rated", not zeros
    stance = ((", ".join(f"{label} {count}" for label, count in summary["stance"].items())
               if (digest.get("stance") or {}).get("rated", True) else NOT_RATED) if has_stance(digest) else None)
    stance_text = f" Stance: {stance}." if stance is not None else ""
    head = f"{digest['title']} ({digest['until'][:10]}): {counted(summary['stories'], 'new story', 'new stories')}"
    lines = [head + (f" ({_chat_escape(counts)})" if counts else "") + "." + stance_text]
    attention = [item for item in digest.get("attention", []) if item.get("kind") != "more"]
    # the digest's own "and N more ..." items count stories it lists no further: the chat leaves them out too
    not_shown = max(len(attention) - max_items, 0) + sum(
        item.get("more", 0) for item in digest.get("attention", []) if item.get("kind") == "more")
    seen: set[int] = {item["article_id"] for item in attention[:max_items] if item.get("article_id") is not None}
    if attention:
        lines.append("Needs attention:")
        lines += [f"• {_chat_escape(attention_text(item))}" for item in attention[:max_items]]
        if not_shown:
            lines.append(f"• ... and {not_shown} more in the digest")
    else:  # a digest without the attention block: spikes and crawl errors still lead
        lines += [f"Coverage spike: {_chat_escape(spike['name'])}: {spike_text(spike)}"
                  for spike in digest.get("spikes", [])]
        errors = [w for w in digest.get("health", []) if w["level"] == "error"]
        if errors:
            lines.append("Crawl problem: " + _chat_escape(errors[0]["message"]))
    headlines = []
    per_outlet: dict[str, int] = {}
    for group in digest["groups"]:
        for story in group["stories"]:
            outlet = story.get("source_id") or story["outlet"]
            if (story["article_id"] in seen or len(headlines) >= max_headlines
                    or per_outlet.get(outlet, 0) >= max_per_outlet):
                continue
            seen.add(story["article_id"])
            per_outlet[outlet] = per_outlet.get(outlet, 0) + 1
            headlines.append(f"• {_chat_escape(story['headline'])} ({_chat_escape(story['outlet'])})")
    if headlines:
        lines += (["Also new:"] if attention else []) + headlines
    text = "\n".join(lines)
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        # Teams shows the summary as plain text in its notifications (Slack does not read it): the body
        # names and labels (configuration, not crawled text) unescaped, so "H&W" is not "H&amp;W"
        "summary": " ".join((head + (f" ({counts})" if counts else "") + "." + stance_text).split())[:150],
        "title": f"{digest['title']} {digest['until'][:10]}",
        "text": text,
        # Slack would otherwise fetch what a crawled headline links to (media, by default, for a webhook's
        # message) and preview it in the team's channel: both off, Slack's servers fetch no URL of the
        # message (api.slack.com, "Unfurling"). Teams' MessageCard has no such field (its card fields:
        # @type, @context, correlationId, expectedActors, originator, summary, themeColor,
        # hideOriginalBody, title, text, sections, potentialAction): to it these two are extra keys, as
        # the card's own are to Slack (not tried against a live Teams: no Teams server here).
        "unfurl_links": False,
        "unfurl_media": False,
    }


# A chat line's share of crawled text: a headline, an outlet, an attention item, a crawl error. Teams
# refuses a card over about 28 KB, and a refused post would fail the same digest every night.
CHAT_TEXT_LIMIT = 300


# What a delivery error quotes of a server's answer (an HTML error page, a multi-line SMTP reply).
ERROR_DETAIL_LIMIT = 200


def one_line(text: str | None, limit: int = CHAT_TEXT_LIMIT) -> str:
    """``text`` as one line: control characters (terminal escapes) removed, whitespace, line breaks
    included, collapsed to single spaces, cut at a word to at most ``limit`` characters (``…`` marks a cut)."""
    from cuttings.redaction import strip_controls

    text = " ".join(strip_controls(text or "").split())
    if len(text) > limit:
        text = text[:limit - 1].rsplit(" ", 1)[0] + "…"
    return text


def _chat_escape(text: str | None, limit: int = CHAT_TEXT_LIMIT) -> str:
    """Crawled text as one line of the chat summary, inert in both readers of the payload: Slack's
    ``<!channel>`` mentions and ``<url|text>`` links (``&``, ``<``, ``>`` escaped, as Slack requires) and
    Teams' Markdown links and images (``[text](url)``: the ``](`` is parted, which Slack shows as it
    is, where a backslash escape would show in Slack); whitespace, line breaks included, collapsed to
    single spaces (no line of its own: a heading or a link definition); at most ``limit`` characters."""
    text = one_line(text, limit).replace("](", "] (")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


WEBHOOK_VARIABLE = "CUTTINGS_WEBHOOK_URL"


def webhook_url(env: Mapping[str, str] = os.environ, path: str | os.PathLike | None = None) -> str:
    """The webhook URL, a secret: from the file ``path`` (first non-empty line; keep it mode 600)
    or else from ``$CUTTINGS_WEBHOOK_URL``, never from the command line (which ``ps`` and shell
    history show to other users)."""
    if path is not None:
        try:
            lines = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()]
        except (OSError, UnicodeDecodeError) as exc:
            raise DeliveryError(f"cannot read the webhook file {path}: {getattr(exc, 'strerror', None) or exc}") \
                from None
        url = next((line for line in lines if line and not line.startswith("#")), "")
        if not url:
            raise DeliveryError(f"the webhook file {path} holds no URL")
        return url
    url = (env.get(WEBHOOK_VARIABLE) or "").strip()
    if not url:
        raise DeliveryError(f"{WEBHOOK_VARIABLE} is not set: put the webhook URL in it, or in a file "
                            "named with --webhook-file")
    return url


_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def check_webhook_url(url: str) -> urllib.parse.SplitResult:
    """The parts of a webhook URL fit to post to, else :class:`DeliveryError` (naming only the
    scheme: the rest of the URL is a secret). https with a host; plain http only to this machine
    (a relay or test receiver on the loopback address), since the URL's token would cross the
    network in clear."""
    parts = urllib.parse.urlsplit(url)
    local_http = parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK
    if not parts.netloc or not (parts.scheme == "https" or local_http):
        where = "; plain http only to this machine" if parts.scheme == "http" else ""
        raise DeliveryError(f"webhook URL must start with https:// (got scheme {parts.scheme!r}{where})")
    return parts


def post_webhook(url: str, digest: dict, *, timeout: float = 20.0) -> int:
    """POST :func:`webhook_payload` as JSON to a Slack or Teams incoming-webhook URL; returns the HTTP status."""
    parts = check_webhook_url(url)
    body = json.dumps(webhook_payload(digest)).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": "cuttings/0.1"})
    where = parts.hostname + (f":{parts.port}" if parts.port else "")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        # the receiver's answer (often an HTML error page) as one short line: the error is one line
        detail = one_line(_without(_without(exc.read(4096).decode("utf-8", "replace"), url), parts.path),
                          ERROR_DETAIL_LIMIT)
        raise DeliveryError(f"webhook at {where} answered HTTP {exc.code}" + (f": {detail}" if detail else "")) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = one_line(_without(_without(str(getattr(exc, "reason", exc)), url), parts.path), ERROR_DETAIL_LIMIT)
        raise DeliveryError(f"webhook at {where} unreachable: {reason}") from None


WEBHOOK_ON_COMMAND_LINE = ("--webhook takes no URL on the command line (other users can read it in ps and shell "
                           "history): put it in $CUTTINGS_WEBHOOK_URL or a file for --webhook-file")


def digest_subject(digest: dict) -> str:
    """The e-mail subject, what a communications team triages its inbox by: ``Cuttings 2026-11-24: 7 new
    stories; negative tone towards HWFRS, PCC`` (the bodies its "needs attention" block names a critical tone
    towards, in its order), ``...; needs attention`` (the block has other items: a stance, a spike, a new quote,
    a failed source), or ``Cuttings 2026-11-24: 7 new stories`` alone (nothing needs attention). Only the
    watchlist's short names: no crawled text in a header."""
    from cuttings.report import tone_heading
    count = digest["summary"]["stories"]
    subject = f"Cuttings {digest['until'][:10]}: {counted(count, 'new story', 'new stories')}"
    attention = digest.get("attention") or []
    tones: dict[str, list[str]] = {}
    for item in attention:
        if item.get("kind") == "negative_tone" and item["body"] not in tones.setdefault(tone_heading(item), []):
            tones[tone_heading(item)].append(item["body"])
    if tones:
        return subject + "; " + "; ".join(f"{heading.lower()} tone towards {', '.join(bodies)}"
                                          for heading, bodies in tones.items())
    return subject + ("; needs attention" if attention else "")


@dataclass(frozen=True)
class DigestDelivery:
    """Where the digest goes besides its files (e-mail, a webhook), checked before anything is built.

    ``cuttings report`` and ``cuttings run`` both :meth:`prepare` it from their ``--email``,
    ``--webhook`` and ``--webhook-file`` options, :meth:`send` the digest, and record the digest
    only when every delivery succeeded.
    """
    email: bool = False
    webhook_url: str | None = field(default=None, repr=False)  # a secret

    @classmethod
    def prepare(cls, *, email: bool = False, webhook: bool = False, webhook_file: str | os.PathLike | None = None,
                env: Mapping[str, str] = os.environ) -> "DigestDelivery | None":
        """Check the settings without sending (the ``CUTTINGS_SMTP_*`` variables complete and valid;
        the webhook URL readable from ``$CUTTINGS_WEBHOOK_URL`` or ``webhook_file`` and https, or http to this machine).
        None when no delivery was asked for; :class:`DeliveryError` naming what to fix."""
        if email:
            smtp_settings(env)
        url = None
        if webhook or webhook_file is not None:
            url = webhook_url(env, path=webhook_file)
            check_webhook_url(url)
        return cls(email=email, webhook_url=url) if email or url else None

    def send(self, digest: dict, *, env: Mapping[str, str] = os.environ, full_digest: str | None = None) -> list[str]:
        """E-mail the digest and/or post its summary; returns what was done, a line per delivery
        (``e-mailed to a@example.org``, ``posted to the webhook``). Every delivery is tried; when one
        fails, :class:`DeliveryError` says what failed and what went out all the same ("e-mailed
        to ...; webhook at host answered HTTP 500"), since the next digest sends those stories again.

        The e-mail's HTML part keeps within ``CUTTINGS_SMTP_MAX_KB`` (``report.render_email``): each section
        lists its most pressing stories, every story "Needs attention" names is kept, and the rest are
        counted and pointed to ``full_digest`` (the digest file written; ``report.full_digest_path``): attached
        to the e-mail (``CUTTINGS_SMTP_ATTACH``, on unless 0, up to :data:`ATTACH_MAX_BYTES`), linked to where
        the report folder is published (``CUTTINGS_SMTP_REPORT_URL``), else named by its path."""
        from cuttings.report import email_size, render_email
        done, failed = [], []
        if self.email:
            try:
                settings = smtp_settings(env)
                max_kb = settings.max_kb
                attachment = digest_attachment(full_digest) if settings.attach else None
                url = digest_url(settings.report_url, full_digest) if settings.report_url and full_digest else None
                html, text, shown = render_email(digest, max_kb=max_kb, full_digest=full_digest, url=url,
                                                 attached=attachment is not None)
                if max_kb and email_size(html) > max_kb * 1024:
                    log.warning("the e-mail's HTML part is %d KB, over CUTTINGS_SMTP_MAX_KB=%d: it lists no story "
                                "but those Needs attention names, and those are kept", email_size(html) // 1024,
                                max_kb)
                recipients = send_email(digest_subject(digest), html, text, env=env, attachment=attachment)
                done.append(f"e-mailed to {', '.join(recipients)}")
                if attachment is not None:
                    log.info("the e-mail carries the full digest %s (%d KB)", attachment.filename,
                             len(attachment.data) // 1024)
                only = shown["email"]["only_in_full"]
                if only:
                    log.info("the e-mail lists %d stories per section; %d are only in the full digest %s",
                             shown["email"]["per_section"], only, full_digest or "")
            except DeliveryError as exc:
                failed.append(str(exc))
        if self.webhook_url:
            try:
                post_webhook(self.webhook_url, digest)
                done.append("posted to the webhook")
            except DeliveryError as exc:
                failed.append(str(exc))
        if failed:
            raise DeliveryError("; ".join(failed) + (f" (done all the same: {'; '.join(done)})" if done else ""))
        return done
