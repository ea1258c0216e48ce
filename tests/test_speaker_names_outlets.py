"""Who names a person (red team, session 13): one outlet printing a spelling of a watched person's name
many times must not rename them in speaker_names, most_quoted and the digest. Real analyse runs on
SQLite files written through the store."""
from types import SimpleNamespace

from cuttings import report, store
from cuttings.stages import analyse_stage
from crawler.revisions import save_article
from nlp.entities import Analyser

NOW = "2026-12-06T18:00:00Z"
REAL = ("\u201cWe will put more officers on the streets of {town} this winter and I am proud of that,\u201d said "
        "{name}, the West Mercia Police and Crime Commissioner.\n\n"
        "The commissioner was speaking at a public meeting in the Shirehall on Tuesday evening, attended by about "
        "forty residents, councillors and representatives of local businesses.")
HOSTILE = "\n\n".join(
    "\u201cI have nothing more to add about the budget item number %d tonight,\u201d said {name}, "
    "the West Mercia Police and Crime Commissioner." % i for i in range(6))
CIVIC = ("\u201cThe square needs more benches and fewer cars, and we will keep saying so,\u201d said {name}, "
         "chair of the Hereford Civic Society.\n\nThe society meets monthly at the library.")


def _source(source_id: str, name: str) -> SimpleNamespace:
    return SimpleNamespace(id=source_id, name=name, home=f"https://{source_id}.example/", region=None, verified=True,
                           as_dict=lambda: {"id": source_id})


def _db(tmp_path, stories):
    """A database with ``stories`` ((source, slug, title, body, published), ...) saved and analysed."""
    db = store.connect(tmp_path / "names.db")
    store.sync_sources(db, [_source("legit", "Legit Echo"), _source("other", "Other Times"),
                            _source("hostile", "Hostile Four")])
    for source_id, slug, title, body, published in stories:
        url = f"https://{source_id}.example/news/{slug}"
        save_article(db, {"url": url, "canonical_url": url, "source_id": source_id, "title": title, "body": body,
                          "published_at": published}, None)
    # first seen on the digest's day whatever the clock says (save_article stamps the real time, and a story
    # first seen after NOW is not in NOW's digest: the test failed from 18:00 UTC on the day it was written)
    with db.conn:
        db.conn.execute("UPDATE articles SET first_seen_at = ?", ["2026-12-06T09:00:00Z"])
    analyse_stage(db, Analyser())
    return db


def test_one_outlet_cannot_rename_a_watched_person(tmp_path):
    db = _db(tmp_path, [
        ("legit", "real", "Commissioner promises more officers", REAL.format(town="Hereford", name="John Campion"),
         "2026-12-06T08:00:00Z"),
        ("hostile", "names", "Notes from the council chamber", HOSTILE.format(name="John Disgraced Campion"),
         "2026-11-20T08:00:00Z")])
    spellings = {row["speaker"]: row["n"] for row in db.query(
        "SELECT speaker, count(*) AS n FROM quotes WHERE speaker_id = 'john campion' GROUP BY speaker")}
    assert spellings == {"John Campion": 1, "John Disgraced Campion": 6}   # the attack as the red team built it
    assert [dict(row) for row in db.query("SELECT speaker_id, name, named_by FROM speaker_names")] == [
        {"speaker_id": "john campion", "name": "John Campion", "named_by": "watchlist"}]
    assert [row["speaker"] for row in db.query("SELECT speaker FROM most_quoted WHERE speaker_id = 'john campion'")] \
        == ["John Campion"]
    assert db.execute("SELECT name, role FROM watched_people WHERE speaker_id = 'john campion'").fetchall() == [
        ("John Campion", "holder")]
    digest = report.build_digest(db, since="2026-12-01T00:00:00Z", now=NOW)
    quotes = [item for item in digest["attention"] if item["kind"] == "quote"]
    assert [(item["speaker"], item["body"]) for item in quotes] == [("John Campion", "PCC")]
    text = report.render_markdown(digest, plain=True)
    assert "Disgraced" not in text and "New quote from John Campion (PCC)" in text


def test_a_person_the_watchlist_does_not_know_is_named_as_most_outlets_name_them(tmp_path):
    """Each outlet counts once for a spelling, however many quotes it prints; a tie goes to the shorter name."""
    db = _db(tmp_path, [
        ("legit", "civic", "Civic society wants benches", CIVIC.format(name="Jane Doughty"), "2026-12-06T08:00:00Z"),
        ("hostile", "civic", "Notes", HOSTILE.replace("the West Mercia Police and Crime Commissioner",
                                                      "chair of the Hereford Civic Society").format(
                                                          name="Jane Disgraced Doughty"), "2026-12-05T08:00:00Z")])
    assert db.execute("SELECT count(*) FROM quotes WHERE speaker = 'Jane Disgraced Doughty'").fetchone()[0] == 6
    assert db.execute("SELECT name, spellings, quotes, named_by FROM speaker_names WHERE speaker_id = 'jane doughty'"
                      ).fetchall() == [("Jane Doughty", 2, 7, "outlets")]
    # a longer spelling two outlets print beats the shorter one a single outlet prints
    db = _db(tmp_path / "two", [
        ("legit", "civic", "Civic society wants benches", CIVIC.format(name="Jane Mary Doughty"),
         "2026-12-06T08:00:00Z"),
        ("other", "civic", "Benches call", CIVIC.format(name="Jane Mary Doughty"), "2026-12-06T09:00:00Z"),
        ("hostile", "civic", "Notes", CIVIC.format(name="Jane Doughty"), "2026-12-05T08:00:00Z")])
    assert db.execute("SELECT name FROM speaker_names WHERE speaker_id = 'jane doughty'").fetchone()[0] \
        == "Jane Mary Doughty"
