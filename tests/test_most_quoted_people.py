"""most_quoted counts people, once each: a title and surname ("Councillor Minnery") joins the one full
name with that surname quoted in the same article, else for the same body; descriptions ("the chief fire
officer") are not people. Real SQLite files (the report sample), quotes stored by the store's writer with
the analyser's speaker identity."""
from __future__ import annotations

import pytest

from cuttings import report, store
from nlp.quotes import speaker_identity
from tests.report_fixtures import NOW, build_sample_db

BODY = "shropshire_fire_authority"


@pytest.fixture()
def db(tmp_path):
    database = build_sample_db(tmp_path / "sample.db")
    yield database
    database.close()


def _article(db, key: str, quotes: list[tuple[str, str | None]], published="2026-11-20T10:00:00Z") -> int:
    """A stored story quoting (speaker, body) pairs, each quote's speaker identity as the analyser gives it."""
    text = " ".join(f"Words {n}." for n in range(len(quotes)))
    article_id = db.execute(
        "INSERT INTO articles (url, canonical_url, source_id, title, published_at, first_seen_at, last_seen_at, "
        "body, content_hash) VALUES (?, ?, 'shropshire_star', ?, ?, ?, ?, ?, ?)",
        [f"https://x/{key}", f"https://x/{key}", f"Story {key}", published, published, NOW, text, key]).lastrowid
    rows = [{"speaker": speaker, "speaker_id": speaker_identity(speaker), "speaker_role": None, "entity_id": body,
             "text": f"Words {n}.", "start_char": 9 * n, "end_char": 9 * n + 8}
            for n, (speaker, body) in enumerate(quotes)]
    store.replace_analysis(db, {"id": article_id, "content_hash": key, "processed_version": None}, "t", [], rows)
    return article_id


def _ranked(db, entity_id: str) -> list[tuple[str, str, int]]:
    return [(row["speaker_id"], row["speaker"], row["quotes"]) for row in db.query(
        "SELECT speaker_id, speaker, quotes FROM most_quoted WHERE entity_id = ? ORDER BY rank, speaker_id",
        [entity_id])]


def test_a_title_and_surname_counts_with_the_full_name_and_descriptions_rank_apart(db):
    with db.atomic():
        # the same article names him in full: joined there
        _article(db, "m1", [("David Minnery", BODY), ("Councillor Minnery", BODY), ("the chief fire officer", BODY)])
        # an article that prints only "Councillor Minnery": the one Minnery quoted for the body
        _article(db, "m2", [("Councillor Minnery", BODY), ("the chief fire officer", BODY)])
        _article(db, "m3", [("Councillor Minnery", BODY), ("A spokesperson", BODY), ("Eric Carter", BODY)])
        # two Smiths quoted for the body: a bare "Mr Smith" could be either, and stays apart
        _article(db, "s1", [("Ann Smith", BODY), ("Bob Smith", BODY)])
        _article(db, "s2", [("Mr Smith", BODY)])
        # in an article quoting one Smith, "Mr Smith" is that one, whatever the body's other Smiths
        _article(db, "s3", [("Bob Smith", BODY), ("Mr Smith", BODY)])
        # a full name quoted for another body does not claim a title and surname here
        _article(db, "p1", [("Pippa Mills", "west_mercia_police")])
        _article(db, "p2", [("Ms Mills", BODY)])
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
        _article(db, "t1", [("Ann Smith", BODY), ("Bob Smith", BODY), ("Mr Smith", BODY)])
    assert ("smith", "Mr Smith", 1) in _ranked(db, BODY)


def test_the_digest_names_a_title_and_surname_as_the_person_and_flags_their_new_quote(db):
    """A new story printing only "Councillor Minnery" is a new quote from David Minnery, the body's most
    quoted person, in the digest's "needs attention" block."""
    with db.atomic():
        for n in range(3):
            _article(db, f"old{n}", [("David Minnery", BODY)])
        new = _article(db, "new", [("Councillor Minnery", BODY)], published="2026-11-23T20:00:00Z")
    digest = report.build_digest(db, now=NOW)
    quotes = [item for item in digest["attention"] if item["kind"] == "quote" and item["entity_id"] == BODY]
    assert [(item["speaker"], item["article_id"]) for item in quotes] == [("David Minnery", new)]
    assert "New quote from David Minnery (Shropshire Fire Authority)" in report.render_markdown(digest, plain=True)
