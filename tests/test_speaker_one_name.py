"""One speaker, one name in ``most_quoted``: a known short form or a prefix of a first name quoted for the
same watched body is the same person across articles (only then: another body, two possible long forms
or a two-letter prefix keep them apart), and the name shown carries no title ("Cllr", "Coun",
"Councillor"). Real SQLite files (the report sample), quotes stored by the store's writer with the
analyser's speaker identity."""
from __future__ import annotations

from cuttings import store
from cuttings.stages import watched_people
from nlp.watchlist import load_watchlist
from tests.report_fixtures import quoting_story as _article
from tests.test_most_quoted_people import _ranked, db  # noqa: F401 (the fixture)


def _sync(db):  # noqa: F811
    """The watchlist's people, as the analyse stage writes them before it analyses."""
    store.sync_watched_people(db, watched_people(load_watchlist()))


def test_a_short_form_of_the_first_name_quoted_for_the_same_body_is_one_person(db):  # noqa: F811
    with db.atomic():
        _sync(db)
        _article(db, "a1", [("Jonathon Ashdown", "hwfrs")])
        _article(db, "a2", [("Jon Ashdown", "hwfrs"), ("Jon Ashdown", "hwfrs")])
        _article(db, "a3", [("Mr Ashdown", "hwfrs")])   # no full name here: the body's one Ashdown, once joined
        _article(db, "h1", [("William Hurst", "sfrs")])   # a known short form, not a prefix
        _article(db, "h2", [("Bill Hurst", "sfrs")])
        _article(db, "r1", [("Robert Vane", "sfrs")])   # two short forms of one long form: both join it
        _article(db, "r2", [("Rob Vane", "sfrs"), ("Bob Vane", "sfrs")])
        _article(db, "p1", [("Jonathon Pryce", "hwfrs")])   # the watchlist's Jon Pryce: counted under his id
        _article(db, "p2", [("Jon Pryce", "hwfrs")])
    assert ("jonathon ashdown", "Jonathon Ashdown", 4) in _ranked(db, "hwfrs")
    assert ("jon pryce", "Jon Pryce", 2) in _ranked(db, "hwfrs")
    sfrs = _ranked(db, "sfrs")
    assert ("william hurst", "William Hurst", 2) in sfrs and "bill hurst" not in {row[0] for row in sfrs}
    assert ("robert vane", "Robert Vane", 3) in sfrs and not {"rob vane", "bob vane"} & {row[0] for row in sfrs}
    joined = {row["speaker"]: row["joined_by"] for row in db.query(
        "SELECT speaker, joined_by FROM quote_people WHERE speaker IN ('Jon Ashdown', 'Bill Hurst', 'Jonathon Pryce')")}
    assert joined == {"Jon Ashdown": "short_form", "Bill Hurst": "short_form", "Jonathon Pryce": "short_form"}


def test_short_forms_stay_apart_without_strong_evidence(db):  # noqa: F811
    with db.atomic():
        _sync(db)
        _article(db, "c1", [("Christopher Lane", "hwfrs")])   # "Chris" could be either: apart
        _article(db, "c2", [("Christine Lane", "hwfrs")])
        _article(db, "c3", [("Chris Lane", "hwfrs")])
        _article(db, "d1", [("Samuel Dale", "west_mercia_police")])   # another body: apart
        _article(db, "d2", [("Sam Dale", "sfrs")])
        _article(db, "j1", [("John Lake", "sfrs")])   # a two-letter prefix is no evidence
        _article(db, "j2", [("Jo Lake", "sfrs")])
        _article(db, "k1", [("Bob Kerr", "sfrs")])   # a short form of another name: apart
        _article(db, "k2", [("Bobby Kerr", "west_mercia_police"), ("Roberta Kerr", "sfrs")])
    hwfrs = {speaker_id for speaker_id, _name, _quotes in _ranked(db, "hwfrs")}
    assert {"christopher lane", "christine lane", "chris lane"} <= hwfrs
    sfrs = {speaker_id for speaker_id, _name, _quotes in _ranked(db, "sfrs")}
    assert {"sam dale", "john lake", "jo lake", "bob kerr", "roberta kerr"} <= sfrs
    assert "samuel dale" in {speaker_id for speaker_id, _name, _quotes in _ranked(db, "west_mercia_police")}


def test_the_name_shown_carries_no_title(db):  # noqa: F811
    with db.atomic():
        _sync(db)
        _article(db, "w1", [("Cllr Tom Wells", "hw_fire_authority"), ("Cllr Tom Wells", "hw_fire_authority")])
        _article(db, "w2", [("Councillor Tom Wells", "hw_fire_authority")])
        _article(db, "b1", [("Coun Clive Jupp", "hw_fire_authority")])
        _article(db, "j1", [("Brigadier Peter Jones", "hw_fire_authority"), ("Brig Jones", "hw_fire_authority")])
        _article(db, "s1", [("Cllr Jane Smith", "shropshire_fire_authority")])
        _article(db, "s2", [("Jane Smith", "shropshire_fire_authority")])
    authority = _ranked(db, "hw_fire_authority")
    assert ("tom wells", "Tom Wells", 3) in authority and ("clive jupp", "Clive Jupp", 1) in authority
    smiths = [row for row in _ranked(db, "shropshire_fire_authority") if "smith" in row[0]]
    assert smiths == [("jane smith", "Jane Smith", 2)]
    names = {row["speaker_id"]: row["name"] for row in db.query("SELECT speaker_id, name FROM speaker_names")}
    assert names["tom wells"] == "Tom Wells" and names["clive jupp"] == "Clive Jupp"
    assert names["peter jones"] == "Peter Jones"   # "Brig Jones" is a title and surname, no full name


def test_every_title_the_analyser_strips_is_one_the_name_shown_drops():
    """A title the analyser leaves out of a speaker identity (nlp.quotes.TITLES) is one speaker_names drops
    from the name shown and does not count as a first name ("Coun Bayliss", "Brig Jones")."""
    from cuttings.store.schema import _HONORIFICS_V26_SQL
    from nlp.quotes import TITLES

    assert {title for title in TITLES if f"'{title}'" not in _HONORIFICS_V26_SQL} == set()
