"""The e-mailed digest keeps within its size budget (CUTTINGS_SMTP_MAX_KB): Gmail clips an HTML part over about
102 KB, so on a busy night the e-mail lists each section's most pressing stories, keeps every story "Needs
attention" names, and says how many more each section has and where the full digest is."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from markupsafe import escape   # as the template escapes

from cuttings import delivery, report
from cuttings.wording import counted
from pipeline import cli
from tests.delivery_support import received_email, smtp_env, smtp_server
from tests.report_fixtures import ENTITIES, HOSTILE_TITLE, NOW, add_busy_night, build_sample_db

__all__ = ["smtp_server"]  # fixture

FULL = "/srv/cuttings/reports/digest-2026-11-24T070000Z.html"
BUSY = 400


@pytest.fixture(scope="module")
def busy_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("busy") / "busy.db"
    db = build_sample_db(path)
    add_busy_night(db, BUSY)
    db.close()
    return path


@pytest.fixture(scope="module")
def busy_digest(busy_db):
    from cuttings import store
    db = store.connect(busy_db)
    yield report.build_digest(db, now=NOW)
    db.close()


def _listed(html: str) -> set[int]:
    """The stories an HTML digest lists in full (their anchors)."""
    return {int(found) for found in re.findall(r'<article class="story" id="story-(\d+)"', html)}


def _attention_block(html: str) -> str:
    return re.search(r'<section class="attention".*?</section>', html, re.S).group(0)


def test_a_busy_night_is_mailed_within_the_budget_and_each_capped_section_says_how_many_more_and_where(busy_digest):
    whole = report.render_html(busy_digest)
    assert report.email_size(whole) > 4 * 80 * 1024   # the digest file: every story, far over what Gmail shows
    html, text, shown = report.render_email(busy_digest, max_kb=80, full_digest=FULL)
    assert report.email_size(html) <= 80 * 1024
    cap = shown["email"]["per_section"]
    assert cap >= 3   # a useful read, not only the headings
    capped = 0
    for full, mailed in zip(busy_digest["groups"], shown["groups"]):
        assert mailed["name"] == full["name"]
        # the first stories of each section, in its order (most in need of attention first)
        assert [entry["article_id"] for entry in mailed["stories"]][:cap] == [
            entry["article_id"] for entry in full["stories"]][:cap]
        more = len(full["stories"]) - len(mailed["stories"])
        assert mailed["more"] == more
        if more:
            capped += 1
            about = f"about {full['short_name']}" if full["entity_id"] else f"in {full['name']}"
            # how many of the stories cut have a negative tone towards the body: the officer knows what waits there
            kept = {entry["article_id"] for entry in mailed["stories"]}
            negative = sum(1 for entry in full["stories"] if entry["article_id"] not in kept
                           and (entry["group_tone"] or {}).get("label") == "negative")
            if negative:
                about += f", {negative} of them with a negative tone towards it"
            line = f"... and {counted(more, 'more story', 'more stories')} {about}: in the full digest, {FULL}"
            assert line in text
            assert line.replace("&", "&amp;") in html
    assert capped >= len(ENTITIES)   # every body's section is capped on a night this busy
    assert "of them with a negative tone towards it: in the full digest" in text
    # the line under the title says what the e-mail leaves out, and where it is, in both parts
    only = len({entry["article_id"] for group in busy_digest["groups"] for entry in group["stories"]}
               - {entry["article_id"] for group in shown["groups"] for entry in group["stories"]})
    assert only == shown["email"]["only_in_full"] > 0
    note = (f"This e-mail lists the {cap} most pressing stories of each section, and every story Needs attention "
            f"names; {only} of the {busy_digest['summary']['stories']} stories are only in the full digest, {FULL}.")
    assert note in text and note in html
    assert text.index(note) < text.index("Needs attention")
    # the text part lists what the HTML part lists, no more, no less
    assert _listed(html) == {
        entry["article_id"] for group in shown["groups"] for entry in group["stories"] if not entry["repeat"]}
    mailed = {entry["article_id"] for group in shown["groups"] for entry in group["stories"]}
    for group in busy_digest["groups"]:
        for entry in group["stories"]:
            if entry["headline"].startswith(tuple(f"{place} update " for place in ("Hereford", "Ludlow"))):
                # the busy night's headlines are unique: a story cut from the e-mail is in neither part
                assert (entry["headline"] in text) == (entry["article_id"] in mailed)
                assert (str(escape(entry["headline"])) in html) == (entry["article_id"] in mailed)
            elif entry["article_id"] in mailed:
                assert entry["headline"] in text
    assert report.email_size(text) < report.email_size(html)


def test_the_budget_keeps_every_needs_attention_item_and_the_stories_they_name(busy_digest):
    html, text, shown = report.render_email(busy_digest, max_kb=40, full_digest=FULL)
    assert report.email_size(html) <= 40 * 1024
    full_html = report.render_html(busy_digest)
    # the block is the same, item for item (only "below" becomes "in the full digest" where it must)
    assert [item["kind"] for item in shown["attention"]] == [item["kind"] for item in busy_digest["attention"]]
    assert _attention_block(html).count("<li") == _attention_block(full_html).count("<li")
    for mailed, full in zip(shown["attention"], busy_digest["attention"]):
        if full["kind"] != "more":
            assert report.attention_text(mailed) == report.attention_text(full)
            assert report.attention_text(full) in text
    # every story an item names is in the e-mail, where its link goes
    listed = _listed(html)
    named = [item["article_id"] for item in busy_digest["attention"]
             if item["kind"] in ("negative_tone", "stance", "quote")]
    assert named and set(named) <= listed
    for anchor in set(re.findall(r'href="#story-(\d+)"', html)):
        assert int(anchor) in listed   # no link in the e-mail leads nowhere ("listed above under ...")
    # an "and N more ... below" line says where its stories are, truly
    mores = [item for item in shown["attention"] if item["kind"] == "more"]
    assert mores
    for item in mores:
        present = sum(1 for story in item["article_ids"] if story in listed or f"story-{story}" in html)
        expected = ("below" if present == len(item["article_ids"]) else
                    "in the full digest" if not present else "below and in the full digest")
        assert item["where"] == expected
        assert f"{item['what']} {expected}" in text


def test_crawled_text_stays_escaped_in_the_email(busy_digest):
    html, text, _shown = report.render_email(busy_digest, max_kb=40, full_digest=FULL)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE_TITLE in text   # the plain-text part is text: nothing to escape, nothing rendered


def test_the_budget_setting_is_honoured(busy_digest, tmp_path):
    sizes = {}
    for max_kb in (40, 60, 100):
        html, _text, shown = report.render_email(busy_digest, max_kb=max_kb, full_digest=FULL)
        assert report.email_size(html) <= max_kb * 1024
        sizes[max_kb] = shown["email"]["per_section"]
    assert sizes[40] < sizes[60] < sizes[100]
    # a budget the needs-attention block and its stories alone are over: they are kept all the same, and nothing else
    html, text, shown = report.render_email(busy_digest, max_kb=report.EMAIL_MIN_KB, full_digest=FULL)
    assert shown["email"]["per_section"] == 0 and report.email_size(html) > report.EMAIL_MIN_KB * 1024
    assert "This e-mail lists only the stories Needs attention names" in text
    assert {item["article_id"] for item in busy_digest["attention"] if item["kind"] == "negative_tone"} <= _listed(html)
    # 0: no limit, every story (and no line about the rest)
    html, text, shown = report.render_email(busy_digest, max_kb=0, full_digest=FULL)
    assert shown["email"]["only_in_full"] == 0 and "more stories about" not in text
    assert _listed(html) == _listed(report.render_html(busy_digest))
    # a small digest is mailed whole, its charts as figures (mail clients show no inline SVG)
    db = build_sample_db(tmp_path / "small.db")
    small = report.build_digest(db, now=NOW)
    db.close()
    html, text, shown = report.render_email(small, max_kb=80, full_digest=FULL)
    assert shown["email"]["only_in_full"] == 0 and not report.email_note(shown)
    assert "<svg" not in html and f"The charts are in the full digest, {FULL}." in html
    assert _listed(html) == _listed(report.render_html(small))


@pytest.mark.parametrize("value", ["abc", "80.5", "-5", "10", "80 KB"])
def test_a_bad_budget_is_one_clear_line(value):
    env = {"CUTTINGS_SMTP_HOST": "mail.example.org", "CUTTINGS_SMTP_FROM": "c@example.org",
           "CUTTINGS_SMTP_TO": "a@example.org", "CUTTINGS_SMTP_MAX_KB": value}
    with pytest.raises(delivery.DeliveryError) as caught:
        delivery.smtp_settings(env)
    assert str(caught.value) == (f"CUTTINGS_SMTP_MAX_KB must be a whole number of kilobytes, {report.EMAIL_MIN_KB} "
                                 f"or more (0: no limit; default {report.EMAIL_MAX_KB}), got {value!r}")
    assert delivery.smtp_settings({**env, "CUTTINGS_SMTP_MAX_KB": "120"}).max_kb == 120
    assert delivery.smtp_settings({**env, "CUTTINGS_SMTP_MAX_KB": ""}).max_kb == report.EMAIL_MAX_KB


def test_report_refuses_a_bad_budget_before_writing_anything(busy_db, tmp_path, monkeypatch):
    for name, value in {"CUTTINGS_SMTP_HOST": "127.0.0.1", "CUTTINGS_SMTP_FROM": "c@example.org",
                        "CUTTINGS_SMTP_TO": "a@example.org", "CUTTINGS_SMTP_MAX_KB": "lots"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["--db", str(busy_db), "report", "--email", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: CUTTINGS_SMTP_MAX_KB must be a whole number of kilobytes, {report.EMAIL_MIN_KB} or more "
        f"(0: no limit; default {report.EMAIL_MAX_KB}), got 'lots'"]
    assert not (tmp_path / "out").exists()


def test_report_email_of_a_busy_night_arrives_whole(busy_db, busy_digest, tmp_path, smtp_server, monkeypatch):
    """Through a real SMTP server: the HTML part within the default budget, naming the digest file written,
    which keeps every story. Without CUTTINGS_SMTP_REPORT_URL and with CUTTINGS_SMTP_ATTACH=0, the e-mail is
    what it was before either existed: two alternative parts, the file named by its path."""
    controller, inbox = smtp_server
    for name, value in smtp_env(controller, CUTTINGS_SMTP_ATTACH="0").items():
        monkeypatch.setenv(name, value)
    for name in ("CUTTINGS_SMTP_MAX_KB", "CUTTINGS_SMTP_REPORT_URL"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "reports"
    result = CliRunner().invoke(cli, ["--db", str(busy_db), "report", "--email", "--no-record", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (written,) = out.glob("*.html")
    message, parts, attachments = received_email(inbox.envelopes[0])
    assert message.get_content_type() == "multipart/alternative" and attachments == []
    html, text = parts["text/html"], parts["text/plain"]
    assert "attached" not in text + html and f'{written.name}"' not in html   # nothing links to the file
    assert 'id="section-' not in html and '<section id="section-1">' in written.read_text(encoding="utf-8")
    assert "\r\n" in html and len(html.encode("utf-8")) <= 80 * 1024   # the default budget, as sent (CRLF line ends)
    assert f"in the full digest, {written}" in text and f"in the full digest, {written}" in html
    assert re.search(r"\.\.\. and \d+ more stories about HWFRS(, \d+ of them with a negative tone towards it)?: in the full digest", text)
    on_disk = written.read_text(encoding="utf-8")
    assert _listed(on_disk) == _listed(report.render_html(busy_digest))   # the file lists every story
    assert len(_listed(on_disk)) > BUSY and _listed(html) < _listed(on_disk)


# --------------------------------------------------------------------------
# Reaching the rest from a phone: the digest file attached, and linked where the report folder is published
# --------------------------------------------------------------------------

# a report folder's address with a percent-encoded space (kept as it is) and an "&" (escaped in the HTML part)
BASE = "https://intranet.example.org/press%20office/R&D/reports/"
FILE_URL = BASE + "digest-2026-11-24T070000Z.html"


def _hrefs_to(html: str, prefix: str) -> list[str]:
    """The targets of the HTML part's links that start with ``prefix``, unescaped."""
    return [target.replace("&amp;", "&") for target in re.findall(r'href="([^"]*)"', html)
            if target.replace("&amp;", "&").startswith(prefix)]


def test_the_lines_link_to_the_published_digest(busy_digest):
    url = delivery.digest_url(BASE, FULL)
    assert url == FILE_URL
    html, text, shown = report.render_email(busy_digest, max_kb=80, full_digest=FULL, url=url)
    assert report.email_size(html) <= 80 * 1024 and shown["email"]["only_in_full"] > 0
    capped = [group for group in shown["groups"] if group["more"]]
    assert capped
    full_html = report.render_html(busy_digest)
    sections = []
    for group in capped:
        head = report.group_more_text({**group}, {"email": {}}).rpartition(": in the full digest")[0]
        number = shown["groups"].index(group) + 1
        at = f"{url}#section-{number}"   # the file opens at the section
        assert f"{head}: in the full digest, {at}\n" in text   # the text part shows the address
        assert f'{escape(head)}: in the <a href="{escape(at)}">full digest</a>' in html   # the HTML part links it
        # the digest file's section of that id is the same body's
        assert re.search(f'<section id="section-{number}">\\s*<h2><span>{re.escape(str(escape(group["name"])))}[<]',
                         full_html)
        sections.append(at)
    # the line under the title and the charts' line end the same way; the title has the link whatever is cut
    assert re.search(r"are only in the full digest, " + re.escape(url) + r"\.\n", text)
    assert f'are only in the <a href="{escape(url)}">full digest</a>.' in html
    assert f'The charts are in the <a href="{escape(url)}">full digest</a>.' in html
    assert text.splitlines()[3] == f"The full digest: {url}"   # under "New since ..., up to ...."
    assert re.search(r'<p class="window">New since [^<]*· <a href="' + re.escape(str(escape(url)))
                     + r'">The full digest</a></p>', html)
    # no path on the server, and every link to the report folder is the digest file's address
    assert FULL not in text and FULL not in html
    assert set(_hrefs_to(html, "https://intranet.example.org/")) == {url, *sections}
    block = [item for item in shown["attention"] if item["kind"] == "more" and "full digest" in item["where"]]
    assert block   # "... and 79 more stories against ... below and in the full digest" links its words too
    assert len(_hrefs_to(html, "https://intranet.example.org/")) == (
        len(capped) + len(block) + 3 + bool(shown["email"]["edits_more"]))   # + the note, the charts, the title
    # the stories the e-mail lists and their links are unchanged
    plain, _text, unlinked = report.render_email(busy_digest, max_kb=80, full_digest=FULL)
    assert unlinked["email"]["per_section"] - shown["email"]["per_section"] in (0, 1)   # the links cost a few bytes
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_lines_say_the_digest_is_attached(busy_digest):
    html, text, shown = report.render_email(busy_digest, max_kb=80, full_digest=FULL, attached=True)
    assert shown["email"]["only_in_full"] > 0
    more = [report.group_more_text(group, shown) for group in shown["groups"] if group["more"]]
    assert more and all(line.endswith(": in the attached full digest") and f"* {line}\n" in text for line in more)
    block = [item["where"] for item in shown["attention"] if item["kind"] == "more"]
    assert "below and in the attached full digest" in block and not any(
        "full digest" in where and "attached" not in where for where in block)
    assert "more stories against the governance change below and in the attached full digest (" in text
    assert "only in the attached full digest." in text and "The charts are in the attached full digest." in html
    assert FULL not in text and FULL not in html and "The full digest:" not in text   # no address to give
    # attached and published: the words say it is attached, the link opens it where it is published
    html, text, shown = report.render_email(busy_digest, max_kb=80, full_digest=FULL, url=FILE_URL, attached=True)
    assert f": in the attached full digest, {FILE_URL}#section-1\n" in text
    assert f': in the attached <a href="{escape(FILE_URL)}#section-1">full digest</a>' in html
    assert f"The full digest: {FILE_URL}" in text
    # the block's "... and N more ... below and in the full digest" links the words too
    assert f'below and in the attached <a href="{escape(FILE_URL)}">full digest</a> (' in html


def test_the_digest_address_escapes_the_file_name():
    assert delivery.digest_url("https://x.example/r", "/srv/r/digest-2026-11-24T070000Z.html") == \
        "https://x.example/r/digest-2026-11-24T070000Z.html"
    assert delivery.digest_url("http://x.example:8080/", "/srv/r/a b#c?d&e\"<.html") == \
        "http://x.example:8080/a%20b%23c%3Fd%26e%22%3C.html"
    assert delivery.digest_url("https://x.example", "digest.md") == "https://x.example/digest.md"


_SMTP = {"CUTTINGS_SMTP_HOST": "mail.example.org", "CUTTINGS_SMTP_FROM": "c@example.org",
         "CUTTINGS_SMTP_TO": "a@example.org"}
_URL_ERROR = ("CUTTINGS_SMTP_REPORT_URL must be the http(s) address the report folder is published at, such as "
              "https://intranet.example.org/cuttings/reports/ ")


@pytest.mark.parametrize("value,why", [
    ("ftp://files.example.org/reports/", "(got scheme 'ftp')"),
    ("javascript:alert(1)//", "(got scheme 'javascript')"),
    ("intranet.example.org/reports", "(it does not start with http:// or https://)"),
    ("/srv/cuttings/reports", "(it does not start with http:// or https://)"),
    ("https://intranet.example.org/reports/?token=s3cr3t", "(it holds a ?query or #fragment: the digest's file "
                                                          "name is added to the folder's address)"),
    ("https://intranet.example.org/reports/#s3cr3t", "(it holds a ?query or #fragment: the digest's file name is "
                                                     "added to the folder's address)"),
    ("https://press:s3cr3t@intranet.example.org/reports/", "(it holds a login: every recipient of the e-mail would "
                                                           "read it)"),
    ("https:///reports/", "(it has no host name)"),
    ("https://intranet.example.org:99999/", "(its port is not a number from 0 to 65535)"),
    ("https://intranet.example.org/press office/s3cr3t", "(it holds a space, a quote, <, >, a control or a "
                                                         "non-ASCII character: percent-encode it, %20 for a space)"),
    ('https://intranet.example.org/"><script>s3cr3t', "(it holds a space, a quote, <, >, a control or a non-ASCII "
                                                      "character: percent-encode it, %20 for a space)"),
    ("https://intranet.example.org/presse-écrite/s3cr3t", "(it holds a space, a quote, <, >, a control or a "
                                                          "non-ASCII character: percent-encode it, %20 for a space)"),
])
def test_a_bad_report_url_is_one_clear_line(value, why):
    with pytest.raises(delivery.DeliveryError) as caught:
        delivery.smtp_settings({**_SMTP, "CUTTINGS_SMTP_REPORT_URL": value})
    assert str(caught.value) == _URL_ERROR + why
    assert "s3cr3t" not in str(caught.value)   # the value is not repeated: it may hold an unguessable path


def test_good_report_urls_and_the_attachment_switch():
    for value in ("https://intranet.example.org/cuttings/reports/", "http://10.0.0.5:8080/reports",
                  "https://[::1]/r/", "https://files.example.org/press%20office/", " https://x.example/ "):
        assert delivery.smtp_settings({**_SMTP, "CUTTINGS_SMTP_REPORT_URL": value}).report_url == value.strip()
    assert delivery.smtp_settings(_SMTP).report_url == ""
    assert delivery.smtp_settings(_SMTP).attach is True   # on unless turned off
    for value, attach in (("0", False), ("off", False), ("1", True), ("yes", True), ("", True)):
        assert delivery.smtp_settings({**_SMTP, "CUTTINGS_SMTP_ATTACH": value}).attach is attach
    with pytest.raises(delivery.DeliveryError) as caught:
        delivery.smtp_settings({**_SMTP, "CUTTINGS_SMTP_ATTACH": "always"})
    assert str(caught.value) == "CUTTINGS_SMTP_ATTACH must be one of 1/0, true/false, yes/no, on/off (got 'always')"


@pytest.mark.parametrize("name,value,expected", [
    ("CUTTINGS_SMTP_REPORT_URL", "ftp://files.example.org/", _URL_ERROR + "(got scheme 'ftp')"),
    ("CUTTINGS_SMTP_ATTACH", "always",
     "CUTTINGS_SMTP_ATTACH must be one of 1/0, true/false, yes/no, on/off (got 'always')"),
])
def test_report_refuses_a_bad_report_url_or_attach_before_writing_anything(busy_db, tmp_path, monkeypatch, name,
                                                                          value, expected):
    for variable, setting in {**_SMTP, "CUTTINGS_SMTP_HOST": "127.0.0.1", name: value}.items():
        monkeypatch.setenv(variable, setting)
    result = CliRunner().invoke(cli, ["--db", str(busy_db), "report", "--email", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {expected}"]
    assert not (tmp_path / "out").exists()


def test_report_email_carries_the_digest_file_and_links_to_it(busy_db, tmp_path, smtp_server, monkeypatch):
    """Through a real SMTP server: the digest file attached as it was written (text/html, its own name), the
    lines saying so and linking to where the report folder is published; nothing crawled in a header."""
    controller, inbox = smtp_server
    for name, value in smtp_env(controller, CUTTINGS_SMTP_REPORT_URL=BASE).items():
        monkeypatch.setenv(name, value)
    for name in ("CUTTINGS_SMTP_MAX_KB", "CUTTINGS_SMTP_ATTACH"):
        monkeypatch.delenv(name, raising=False)   # the defaults: 80 KB, attached
    out = tmp_path / "reports"
    result = CliRunner().invoke(cli, ["--db", str(busy_db), "report", "--email", "--no-record", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (written,) = out.glob("*.html")
    message, parts, attachments = received_email(inbox.envelopes[0])
    assert message.get_content_type() == "multipart/mixed"
    assert attachments == [(written.name, "text/html", written.read_bytes())]   # the file, byte for byte
    (attached,) = message.iter_attachments()
    assert attached["Content-Disposition"] == f'attachment; filename="{written.name}"'
    assert attached.get_content_charset() is None and attached["Content-Transfer-Encoding"] == "base64"
    url = BASE + written.name
    html, text = parts["text/html"], parts["text/plain"]
    assert len(html.encode("utf-8")) <= 80 * 1024
    assert re.search(r"\.\.\. and \d+ more stories about HWFRS(, \d+ of them with a negative tone towards it)?: "
                     r"in the attached full digest, " + re.escape(url) + r"#section-\d\r?\n", text)
    assert f'in the attached <a href="{escape(url)}">full digest</a>' in html
    assert f'<a href="{escape(url)}">The full digest</a>' in html and f"The full digest: {url}" in text
    assert {target.partition("#")[0] for target in _hrefs_to(html, "https://intranet.example.org/")} == {url}
    assert str(written) not in text + html
    for header, value in message.items():   # no crawled text in a header: a headline can add none
        assert "script" not in value.lower() and "\n" not in value.strip(), header
    assert "<script>" not in html


def test_a_digest_over_the_attachment_cap_is_named_not_attached(busy_digest, tmp_path, smtp_server, monkeypatch,
                                                                caplog):
    controller, inbox = smtp_server
    full = tmp_path / "digest-2026-11-24T070000Z.html"
    full.write_text(report.render_html(busy_digest), encoding="utf-8")
    monkeypatch.setattr(delivery, "ATTACH_MAX_BYTES", full.stat().st_size - 1)
    sending = delivery.DigestDelivery(email=True)
    sending.send(busy_digest, env=smtp_env(controller), full_digest=str(full))
    message, parts, attachments = received_email(inbox.envelopes[0])
    assert attachments == [] and message.get_content_type() == "multipart/alternative"
    assert f"in the full digest, {full}" in parts["text/plain"] and "attached" not in parts["text/plain"]
    assert f"the full digest {full} is 0.5 MB, over the 0 MB the e-mail attaches: not attached" in caplog.text
    # at the cap it is attached
    monkeypatch.setattr(delivery, "ATTACH_MAX_BYTES", full.stat().st_size)
    sending.send(busy_digest, env=smtp_env(controller, CUTTINGS_SMTP_REPORT_URL=BASE), full_digest=str(full))
    _message, parts, attachments = received_email(inbox.envelopes[1])
    assert attachments == [(full.name, "text/html", full.read_bytes())]
    assert f"in the attached full digest, {BASE}{full.name}" in parts["text/plain"]
