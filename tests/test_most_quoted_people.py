"""most_quoted counts people, once each: a title and surname ("Councillor Minnery") joins the one full
name with that surname quoted in the same article, else for the same body; descriptions ("the chief fire
officer") are not people. Real SQLite files (the report sample), quotes stored by the store's writer with
the analyser's speaker identity."""
from __future__ import annotations

import pytest

from cuttings import report
from tests.report_fixtures import NOW, build_sample_db, quoting_story

BODY = "shropshire_fire_authority"


@pytest.fixture()
def db(tmp_path):
    database = build_sample_db(tmp_path / "sample.db")
    yield database
    database.close()




def _ranked(db, entity_id: str) -> list[tuple[str, str, int]]:
    return [(row["speaker_id"], row["speaker"], row["quotes"]) for row in db.query(
        "SELECT speaker_id, speaker, quotes FROM most_quoted WHERE entity_id = ? ORDER BY rank, speaker_id",
        [entity_id])]


def test_a_title_and_surname_counts_with_the_full_name_and_descriptions_rank_apart(db):
    with db.atomic():
        # the same article names him in full: joined there
        quoting_story(db, "m1", [("David Minnery", BODY), ("Councillor Minnery", BODY), ("the chief fire officer", BODY)])
        # an article that prints only "Councillor Minnery": the one Minnery quoted for the body
        quoting_story(db, "m2", [("Councillor Minnery", BODY), ("the chief fire officer", BODY)])
        quoting_story(db, "m3", [("Councillor Minnery", BODY), ("A spokesperson", BODY), ("Eric Carter", BODY)])
        # two Smiths quoted for the body: a bare "Mr Smith" could be either, and stays apart
        quoting_story(db, "s1", [("Ann Smith", BODY), ("Bob Smith", BODY)])
        quoting_story(db, "s2", [("Mr Smith", BODY)])
        # in an article quoting one Smith, "Mr Smith" is that one, whatever the body's other Smiths
        quoting_story(db, "s3", [("Bob Smith", BODY), ("Mr Smith", BODY)])
        # a full name quoted for another body does not claim a title and surname here
        quoting_story(db, "p1", [("Pippa Mills", "west_mercia_police")])
        quoting_story(db, "p2", [("Ms Mills", BODY)])
    ranked = _ranked(db, BODY)
    assert ranked[0] == ("david minnery", "David Minnery", 4)   # 1 full name + 3 "Councillor Minnery"
    ids = [speaker_id for speaker_id, _name, _quotes in ranked]
    assert "minnery" not in ids
    assert ("bob smith", "Bob Smith", 3) in ranked and ("smith", "Mr Smith", 1) in ranked
    assert ("mills", "Ms Mills", 1) in ranked and "pippa mills" not in ids
    # descriptions are not people: listed apart in quote_people, never ranked
    assert all(name[:1].isupper() and not name.lower().startswith(("the ", "a ")) for _id, name, _q in ranked)
    described = {row["speaker"]: row["n"] for row in db.query(
        "SELECT speaker, count(*) AS n FROM quote_people WHERE entity_id = ? AND person_id IS NULL GROUP BY speaker",
        [BODY])}
    assert described == {"the chief fire officer": 2, "A spokesperson": 1}
    joined = {row["joined_by"] for row in db.query(
        "SELECT joined_by FROM quote_people WHERE speaker = 'Councillor Minnery'")}
    assert joined == {"same_article", "same_body"}
    # the digest's principal people follow: David Minnery leads Shropshire Fire Authority, once
    assert report._principals(db)[BODY] == ["David Minnery", "Bob Smith"]


def test_a_second_full_name_in_the_same_article_keeps_a_title_and_surname_apart(db):
    with db.atomic():
        quoting_story(db, "t1", [("Ann Smith", BODY), ("Bob Smith", BODY), ("Mr Smith", BODY)])
    assert ("smith", "Mr Smith", 1) in _ranked(db, BODY)


def test_the_digest_names_a_title_and_surname_as_the_person_and_flags_their_new_quote(db):
    """A new story printing only "Councillor Minnery" is a new quote from David Minnery, the body's most
    quoted person, in the digest's "needs attention" block."""
    with db.atomic():
        for n in range(3):
            quoting_story(db, f"old{n}", [("David Minnery", BODY)])
        new = quoting_story(db, "new", [("Councillor Minnery", BODY)], published="2026-11-23T20:00:00Z")
    digest = report.build_digest(db, now=NOW)
    quotes = [item for item in digest["attention"] if item["kind"] == "quote" and item["entity_id"] == BODY]
    assert [(item["speaker"], item["article_id"]) for item in quotes] == [("David Minnery", new)]
    assert "New quote from David Minnery (Shropshire Fire Authority)" in report.render_markdown(digest, plain=True)
