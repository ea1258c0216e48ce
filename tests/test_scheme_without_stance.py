"""A team's label scheme without a stance task (topics and tone only: a Devon and Somerset comms team
that rates the service and the commissioner but takes no position to track) is configuration too: the
digest (HTML, Markdown, plain text, e-mail) and the chat webhook say nothing of stance, and the legend's
example badges are the scheme's own topic and tone labels, not the shipped "governance" and "negative"."""
from __future__ import annotations

import re

import pytest

from cuttings import delivery, report
from tests.report_fixtures import NOW, build_sample_db

NO_STANCE_SCHEME = """\
version = 1

[entities]
hwfrs = "Hereford & Worcester Fire and Rescue Service"
sfrs = "Shropshire Fire and Rescue Service"
wm_pcc = "West Mercia Police and Crime Commissioner"

[tasks.topics]
kind = "multi_label"
labels = ["incident", "finance", "governance", "collaboration", "legal", "prevention", "workforce", "inspection", "other"]
exclusive = "other"
uncertain_below = 0.5

[tasks.tone]
kind = "per_entity"
entities = ["hwfrs", "sfrs", "wm_pcc"]
labels = ["favourable", "critical", "balanced"]
uncertain_below = 0.6
attention = { critical = "critical" }
"""
TONE_MAP = {"positive": "favourable", "negative": "critical", "neutral": "balanced"}


@pytest.fixture()
def digest(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "label_scheme.toml").write_text(NO_STANCE_SCHEME, encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    db = build_sample_db(tmp_path / "team.db")
    for table in ("classifications", "labels"):
        for old, new in TONE_MAP.items():
            db.execute(f"UPDATE {table} SET label = ? WHERE task = 'tone' AND label = ?", [new, old])
    db.conn.commit()
    yield report.build_digest(db, now=NOW)
    db.close()


def _pages(digest: dict) -> dict[str, str]:
    html = re.sub(r"<style>.*?</style>", "", report.render_html(digest), flags=re.S)
    email_html, email_text, _shown = report.render_email(digest, max_kb=0)
    return {"html": html, "markdown": report.render_markdown(digest), "text": report.render_markdown(digest, plain=True),
            "email html": email_html, "email text": email_text}


def test_a_digest_of_a_scheme_without_stance_says_nothing_of_stance(digest):
    assert digest["stance"]["task"] is None and not report.has_stance(digest)
    for name, page in _pages(digest).items():
        # the sample's headlines and bodies never say "stance": every one here would be the digest's own words
        assert "stance" not in page.lower(), (name, [line for line in page.splitlines() if "tance" in line])
        assert "stance mix" not in page
    text = report.render_markdown(digest, plain=True)
    assert re.search(r"^\d+ new stories \(.*\); \d+ edited\.$", text, flags=re.M), text
    assert report.legend(digest).startswith("Badges: topics; tone towards the section's body.")


def test_the_legend_shows_the_schemes_own_topic_and_tone_badges(digest):
    assert report.legend_example(digest) == {"topic": "incident", "tone": "critical", "stance": None}
    html = report.render_html(digest)
    example = re.search(r"Example: (.*?)</p>", html).group(1)
    assert example == ('<span class="badge topic">incident</span>'
                       '<span class="badge critical uncertain">tone: critical (unsure)</span>'), example


def test_the_webhook_summary_has_no_stance_for_a_scheme_without_one(digest):
    payload = delivery.webhook_payload(digest)
    assert "Stance" not in payload["text"] and "Stance" not in payload["summary"]
    assert payload["text"].splitlines()[0].endswith(")."), payload["text"].splitlines()[0]


def test_the_webhook_says_not_rated_for_a_stance_no_model_has_rated(tmp_path, monkeypatch):
    """A team's first nights: the digest says "Stance on ...: not rated"; the chat said "favour 0, neutral 0, against 0"."""
    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path))  # no scheme file: the shipped scheme
    db = build_sample_db(tmp_path / "unrated.db")
    db.execute("DELETE FROM classifications WHERE task = 'stance_governance'")
    db.conn.commit()
    unrated = report.build_digest(db, now=NOW)
    db.close()
    assert unrated["stance"]["rated"] is False
    line = delivery.webhook_payload(unrated)["text"].splitlines()[0]
    assert line.endswith(". Stance: not rated."), line


def test_the_shipped_schemes_digest_keeps_its_stance_and_legend(tmp_path, monkeypatch):
    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path))
    db = build_sample_db(tmp_path / "shipped.db")
    shipped = report.build_digest(db, now=NOW)
    db.close()
    assert report.has_stance(shipped) and report.has_stance({})  # a digest without the entry: the shipped one
    assert report.legend(shipped).startswith("Badges: topics; stance on fire governance; tone towards")
    assert report.legend_example(shipped) == {"topic": "governance", "tone": "negative", "stance": "against"}
    text = report.render_markdown(shipped, plain=True)
    assert "edited. Stance on fire governance: favour " in text and "- Stance on fire governance: " in text.replace("* ", "- ")
    assert ". Stance: favour " in delivery.webhook_payload(shipped)["text"].splitlines()[0]
