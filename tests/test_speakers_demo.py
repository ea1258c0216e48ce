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


def test_demo_digest_names_each_person_one_way(demo_db):
    """The digest names a speaker identity one way (its most used full name), whatever form an
    article used: "Mr Campion" and "Councillor John Campion" are shown as "John Campion"."""
    db = Database(demo_db)
    digest = report.build_digest(db, since="1970-01-01T00:00:00Z")
    shown = {speaker for speaker, _text in _speakers(digest) if speaker}
    forms = list(db.query("SELECT speaker_id, speaker FROM quotes WHERE speaker_id = 'john campion'"))
    assert len({row["speaker"] for row in forms}) > 1, "the demo writes the commissioner's name several ways"
    assert {row["speaker"] for row in forms} & shown == {"John Campion"}
    by_identity = {}
    for row in db.query("SELECT DISTINCT speaker_id, speaker FROM quote_view WHERE speaker_id IS NOT NULL"):
        if row["speaker"] in shown:
            by_identity.setdefault(row["speaker_id"], set()).add(row["speaker"])
    assert {sid: names for sid, names in by_identity.items() if len(names) > 1} == {}


def test_speaker_names_prefer_the_most_used_full_name(tmp_path):
    """The speaker_names view (the digest's and most_quoted's names): the most used full name of an
    identity, honorifics aside; a person's correction is shown as corrected."""
    from cuttings import store
    db = store.connect(tmp_path / "names.db")   # created with every migration
    db["articles"].insert({"id": 1, "url": "https://x.example/a", "canonical_url": "https://x.example/a",
                           "source_id": None, "title": "t", "body": "b", "first_seen_at": "2026-12-05T00:00:00Z",
                           "last_seen_at": "2026-12-05T00:00:00Z", "content_hash": "h"}, alter=False)
    forms = [("Mr Campion", 5), ("John Campion", 2), ("Councillor John Campion", 1)]
    rows = [{"article_id": 1, "speaker": speaker, "speaker_id": "john campion", "text": "q", "start_char": i,
             "end_char": i + 1, "analyser_version": "v"} for speaker, n in forms for i in range(n)]
    rows.append({"article_id": 1, "speaker": "Guy", "speaker_id": "guy", "text": "q", "start_char": 99,
                 "end_char": 100, "analyser_version": "v"})
    db["quotes"].insert_all(rows)
    assert {r["speaker_id"]: (r["name"], r["spellings"], r["quotes"]) for r in db.query("SELECT * FROM speaker_names")} \
        == {"john campion": ("John Campion", 3, 8), "guy": ("Guy", 1, 1)}
    names = report.speaker_names(db, ["john campion", "guy", None])
    assert names.display("john campion", "Mr Campion") == "John Campion"
    assert names.display("john campion", "Councillor John Campion") == "John Campion"
    assert names.display("john campion", "The Commissioner") == "The Commissioner"  # a person's correction
    assert names.display("guy", "Guy") == "Guy" and names.display(None, "A spokesperson") == "A spokesperson"
