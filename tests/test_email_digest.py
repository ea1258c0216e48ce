"""The e-mailed digest keeps within its size budget (CUTTINGS_SMTP_MAX_KB): Gmail clips an HTML part over about
102 KB, so on a busy night the e-mail lists each section's most pressing stories, keeps every story "Needs
attention" names, and says how many more each section has and where the full digest is."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from markupsafe import escape   # as the template escapes

from cuttings import delivery, report
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
            line = f"... and {more} more {report.story_noun(more)} {about}: in the full digest, {FULL}"
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
    assert "\r\n" in html and len(html.encode("utf-8")) <= 80 * 1024   # the default budget, as sent (CRLF line ends)
    assert f"in the full digest, {written}" in text and f"in the full digest, {written}" in html
    assert re.search(r"\.\.\. and \d+ more stories about HWFRS(, \d+ of them with a negative tone towards it)?: in the full digest", text)
    on_disk = written.read_text(encoding="utf-8")
    assert _listed(on_disk) == _listed(report.render_html(busy_digest))   # the file lists every story
    assert len(_listed(on_disk)) > BUSY and _listed(html) < _listed(on_disk)
