"""A quote keeps its id (``quotes.id``, ``quote_id`` in the views) when its article is analysed again.

Found by an analyst audit: ``replace_analysis`` deleted an article's quotes and inserted them again, so
every re-analysis (a new analyser version, the stamps deleted by docs/operations.md's recovery, a revised
article) gave every quote a new id, and a bookmarked row, a saved ``quote_id`` or a join across nights
pointed at nothing or at another quote. The rule (``store.same_quotes``) is the one corrections follow.
"""
from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from crawler.revisions import save_article
from cuttings import store
from cuttings.stages import analyse_stage
from nlp.entities import Analyser

URL = "http://a.example/news/station"
TITLE = "Station stays open"
PRYCE = "We listened to every view before we made this decision,"
TAYLOR = "This is good news for the town and for the crews."
BODY = ("Hereford and Worcester Fire and Rescue Service will keep the Leominster station open, the fire authority "
        "decided on Tuesday.\n\n"
        f"\"{PRYCE}\" said chief fire officer Jonathon Pryce.\n\n"
        f"Councillor Kit Taylor, who chairs the authority, said: \"{TAYLOR}\"")
ABOVE = "The decision follows a long public consultation across the county, with meetings in every town."


@pytest.fixture(scope="module")
def analyser():
    return Analyser()


def _save(db, body: str) -> str:
    status, _ = save_article(db, {"url": URL, "canonical_url": URL, "title": TITLE, "body": body,
                                  "published_at": "2026-12-01"}, None)
    return status


def _save_other(db) -> None:
    """Another story, analysed with the first: its quote has the largest id, so the first story's quotes
    inserted again would get new ids (deleted and inserted alone, they got theirs back by rowid reuse)."""
    save_article(db, {"url": "http://a.example/news/other", "canonical_url": "http://a.example/news/other",
                      "title": "Crews recruit", "published_at": "2026-12-02",
                      "body": "Shropshire Fire and Rescue Service is recruiting on-call firefighters in Ludlow.\n\n"
                              "\"We need people who live or work near the station,\" said station manager Dan Quinn."},
                 None)


def _quotes(db) -> list[tuple]:
    return db.execute("SELECT * FROM quotes ORDER BY id").fetchall()


def _view_ids(db) -> list[tuple]:
    """quote_id and words in the three views that show them."""
    return [db.execute(f"SELECT quote_id, {words} FROM {view} ORDER BY quote_id").fetchall()
            for view, words in (("quote_view", "text"), ("quotes_by_speaker", "quote"), ("quote_people", "speaker"))]


def test_analysing_an_unchanged_article_again_keeps_every_quote_row(tmp_path, analyser):
    db = store.connect(tmp_path / "x.db")
    _save(db, BODY)
    _save_other(db)
    assert analyse_stage(db, analyser)["quotes"] == 3
    before, views = _quotes(db), _view_ids(db)
    assert [(row[0], row[1], row[5]) for row in before][:2] == [(1, 1, PRYCE), (2, 1, TAYLOR)]
    # a new analyser version, then docs/operations.md's recovery (the stamps deleted): both analyse it again
    db.execute("UPDATE processing SET version = 'an older analyser' WHERE stage = 'analyse' AND article_id = 1")
    db.conn.commit()
    assert analyse_stage(db, analyser)["articles"] == 1
    assert _quotes(db) == before and _view_ids(db) == views
    db.execute("DELETE FROM processing WHERE stage = 'analyse' AND article_id = 1")
    db.conn.commit()
    assert analyse_stage(db, analyser)["articles"] == 1
    assert _quotes(db) == before and _view_ids(db) == views


def test_a_paragraph_added_above_keeps_the_quotes_ids_and_their_corrections(tmp_path, analyser):
    db = store.connect(tmp_path / "x.db")
    _save(db, BODY)
    _save_other(db)
    analyse_stage(db, analyser)
    [(pryce_id, start, end)] = db.execute("SELECT id, start_char, end_char FROM quotes WHERE text = ?",
                                          [PRYCE]).fetchall()
    store.add_correction(db, 1, [("quote_speaker", f"{start}:{end}", "Jon Pryce")], "officer")
    before = _quotes(db)
    assert _save(db, f"{ABOVE}\n\n{BODY}") == "updated"
    analyse_stage(db, analyser)
    shift = len(ABOVE) + 2
    # the same rows, every column as before but the offsets
    assert _quotes(db)[:2] == [(*row[:6], row[6] + shift, row[7] + shift, *row[8:]) for row in before[:2]]
    assert _quotes(db)[2] == before[2]
    assert db.execute("SELECT target FROM labels").fetchall() == [(f"{start + shift}:{end + shift}",)]
    assert db.execute("SELECT quote_id, speaker, entity_method FROM quote_view WHERE text = ?",
                      [PRYCE]).fetchall() == [(pryce_id, "Jon Pryce", "corrected")]


def test_a_quote_gone_loses_its_row_and_its_id_is_never_given_again(tmp_path, analyser):
    """The newest quote (the largest id) gone: a plain INTEGER PRIMARY KEY gave its id to the next new
    quote, so a saved link to it showed another quote; AUTOINCREMENT (m027) never gives an id twice."""
    db = store.connect(tmp_path / "x.db")
    _save(db, BODY)
    analyse_stage(db, analyser)
    [pryce, taylor] = _quotes(db)
    other = "We will recruit more on-call firefighters next year."
    assert _save(db, BODY.replace(TAYLOR, other)) == "updated"
    analyse_stage(db, analyser)
    assert [(row[0], row[5]) for row in _quotes(db)] == [(pryce[0], PRYCE), (taylor[0] + 1, other)]
    assert db.execute("SELECT count(*) FROM quote_view WHERE quote_id = ?", [taylor[0]]).fetchone() == (0,)
    assert db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'quotes'").fetchone() == (taylor[0] + 1,)
    # a whole article deleted (its quotes cascade) does not free its ids either
    db.execute("DELETE FROM articles")
    db.conn.commit()
    _save(db, BODY)
    analyse_stage(db, analyser)
    assert [row[0] for row in _quotes(db)] == [taylor[0] + 2, taylor[0] + 3]


def _article(db) -> dict:
    [article_id] = [save_article(db, {"url": URL, "canonical_url": URL, "title": TITLE,
                                      "body": " ".join(f"word{n}" for n in range(80))}, None)[1]]
    return {"id": article_id, "content_hash": db.execute("SELECT content_hash FROM articles").fetchone()[0]}


def _quote(text: str, start: int, speaker: str = "a spokesperson") -> dict:
    return {"speaker": speaker, "text": text, "start_char": start, "end_char": start + len(text)}


def _ids(db) -> dict[tuple[str, int], int]:
    return {(text, start): quote_id for quote_id, text, start in
            db.execute("SELECT id, text, start_char FROM quotes ORDER BY id")}


@pytest.mark.parametrize("rule, before, after, kept", [
    ("same place, same words", [("aa", 10), ("bb", 40)], [("aa", 10), ("bb", 40)], {0: 0, 1: 1}),
    ("moved by text above", [("aa", 10), ("bb", 40)], [("aa", 110), ("bb", 140)], {0: 0, 1: 1}),
    ("one stays, one moves", [("aa", 10), ("bb", 40)], [("aa", 10), ("bb", 90)], {0: 0, 1: 1}),
    # the same words quoted twice, both moved: which is which cannot be told
    ("twice, both moved", [("aa", 10), ("aa", 40)], [("aa", 60), ("aa", 90)], {}),
    # twice, one in its place: that one keeps it, the other moved alone
    ("twice, one in place", [("aa", 10), ("aa", 40)], [("aa", 10), ("aa", 90)], {0: 0, 1: 1}),
    # once before, twice now: neither new one is surely it
    ("once, then twice", [("aa", 10)], [("aa", 60), ("aa", 90)], {}),
    # the analyser reads the same place otherwise (a quote's pieces joined differently)
    ("same place, read differently", [("aa, bb", 10)], [("aa bb.", 10)], {0: 0}),
    # at the old quote's place another quote whose words were quoted before, or the old words still quoted
    ("place taken by moved words", [("aa", 10), ("bb", 40)], [("bb", 10), ("aa", 60)], {0: 1, 1: 0}),
    ("place taken, old words elsewhere", [("aa", 10)], [("cc", 10), ("aa", 60), ("aa", 90)], {}),
    # a revision cut (or added) the paragraph a quote went on into: the same opening, shorter (longer)
    ("continuation cut", [("aa bb, cc dd", 10)], [("aa bb.", 10)], {0: 0}),
    ("continuation added", [("aa bb.", 10)], [("aa bb, cc dd", 10)], {0: 0}),
    ("same opening, other words", [("aa bb", 10)], [("aa cc dd", 10)], {}),
    ("only a stop in common", [(".", 10)], [("aa bb", 10)], {}),
    ("gone and new", [("aa", 10)], [("cc", 50)], {}),
])
def test_which_old_quote_each_new_one_is(rule, before, after, kept):
    found = store.same_quotes([(start, start + len(text), text) for text, start in before],
                              [(start, start + len(text), text) for text, start in after])
    assert {new: old for new, old in enumerate(found) if old is not None} == kept, rule


def test_the_store_updates_kept_quotes_deletes_gone_ones_and_inserts_new_ones(tmp_path):
    db = store.connect(tmp_path / "x.db")
    article = _article(db)
    store.replace_analysis(db, article, "v1", [], [_quote("we are pleased", 10), _quote("it was fine", 40, "Mr X"),
                                                   _quote("no comment", 70)])
    first = _ids(db)
    store.replace_analysis(db, article, "v2", [], [_quote("we are pleased", 30, "John Campion"),
                                                   _quote("a new point", 90)])
    rows = db.execute("SELECT id, speaker, text, start_char, end_char, analyser_version FROM quotes "
                      "ORDER BY id").fetchall()
    assert rows == [(first[("we are pleased", 10)], "John Campion", "we are pleased", 30, 44, "v2"),
                    (max(first.values()) + 1, "a spokesperson", "a new point", 90, 101, "v2")]


def test_a_correction_does_not_jump_to_another_quote_of_the_same_words(tmp_path):
    """The same words quoted twice, the corrected one gone: the correction went to the other, which kept its
    place (the one new quote of those words); it now stays where it was, applying to no quote."""
    db = store.connect(tmp_path / "x.db")
    article = _article(db)
    store.replace_analysis(db, article, "v1", [], [_quote("we are pleased", 10), _quote("we are pleased", 50)])
    store.add_correction(db, article["id"], [("quote_speaker", "50:64", "Jo Bloggs")], "officer")
    store.replace_analysis(db, article, "v2", [], [_quote("we are pleased", 10)])
    assert db.execute("SELECT target FROM labels").fetchall() == [("50:64",)]
    assert db.execute("SELECT speaker, entity_method FROM quote_view").fetchall() == [("a spokesperson", None)]


def test_m027_rebuilds_an_older_databases_quotes_keeping_ids_rows_and_views(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    store.migrations.apply(db, stop_before="m027_quote_ids_never_reused")
    article = _article(db)
    store.replace_analysis(db, article, "v1", [], [_quote("we are pleased", 10), _quote("it was fine", 40),
                                                   _quote("no comment", 70)])
    db.execute("DELETE FROM quotes WHERE id = 2")
    db.conn.commit()
    rows, view = _quotes(db), db.execute("SELECT * FROM quote_view").fetchall()
    assert "AUTOINCREMENT" not in db.execute("SELECT sql FROM sqlite_master WHERE name = 'quotes'").fetchone()[0]
    db.conn.close()
    db = store.connect(path)
    assert "AUTOINCREMENT" in db.execute("SELECT sql FROM sqlite_master WHERE name = 'quotes'").fetchone()[0]
    assert _quotes(db) == rows and db.execute("SELECT * FROM quote_view").fetchall() == view
    assert [c.name for c in db["quotes"].columns] == [
        "id", "article_id", "speaker", "speaker_role", "entity_id", "text", "start_char", "end_char",
        "analyser_version", "entity_method", "speaker_id"]
    assert {index.name for index in db["quotes"].indexes} == {
        "idx_quotes_article_id", "idx_quotes_entity_id", "idx_quotes_speaker_id",
        "idx_quotes_surname"}   # (m040's, after m027)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    store.replace_analysis(db, article, "v2", [], [_quote("we are pleased", 10)])   # 3 (the largest) gone
    store.replace_analysis(db, article, "v3", [], [_quote("we are pleased", 10), _quote("a new point", 90)])
    assert db.execute("SELECT id, text FROM quotes ORDER BY id").fetchall() == [(1, "we are pleased"),
                                                                                (4, "a new point")]
