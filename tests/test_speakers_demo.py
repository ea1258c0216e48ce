"""Speakers in the demo database and its digest: people or organisations, one identity per person."""
from sqlite_utils import Database

from cuttings import report
from nlp.quotes import is_speaker_name


def _speakers(value):
    """Every (speaker, text) pair of the quotes inside a digest structure."""
    if isinstance(value, dict):
        if "speaker" in value and "text" in value:
            yield value["speaker"], value["text"]
        for item in value.values():
            yield from _speakers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _speakers(item)


def test_demo_digest_speakers_are_people_or_organisations_and_shown_once(demo_db):
    db = Database(demo_db)
    digest = report.build_digest(db, since="1970-01-01T00:00:00Z")   # every story, not only new ones
    shown = [(speaker, text) for speaker, text in _speakers(digest) if speaker]
    assert shown, "the demo digest shows quotes with speakers"
    for speaker, _text in shown:
        assert is_speaker_name(speaker), speaker
        words = speaker.lower().split()
        half = len(words) // 2
        assert not (len(words) % 2 == 0 and half and words[:half] == words[half:]), speaker
    markdown = report.render_markdown(digest)
    for speaker, text in shown:
        line = next((line for line in markdown.splitlines() if report.escape_markdown(text)[:40] in line), None)
        if line is not None:
            assert line.count(f"({report.escape_markdown(speaker)})") <= 1, line
    stored = [row["speaker"] for row in db.query("SELECT DISTINCT speaker FROM quotes WHERE speaker IS NOT NULL")]
    assert [speaker for speaker in stored if not is_speaker_name(speaker)] == []


def test_demo_one_identity_per_person(demo_db):
    db = Database(demo_db)
    rows = list(db.query("SELECT speaker, speaker_id, speaker_quotes FROM quotes_by_speaker "
                         "WHERE speaker LIKE '%Campion%'"))
    assert rows, "the demo coverage quotes the commissioner"
    assert {row["speaker_id"] for row in rows} == {"john campion"}
    assert {row["speaker_quotes"] for row in rows} == {len(rows)}
