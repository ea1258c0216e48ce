"""A person's correction of a quote belongs to its quote (``labels.quote_id``), not to a place in the text.

Corrections of a quote's speaker or body (``labels`` tasks ``quote_speaker``/``quote_entity``) were keyed by
the quote's place, ``target`` = ``start:end``. Since s19-b a quote keeps its id across re-analysis
(``store.same_quotes``) and a correction was re-keyed when its quote moved, but a correction of a quote the
re-analysis no longer found stayed keyed by its old place: a different quote found at that place later (a
revision, or another quote moving there) silently took the correction, a person's words about one quote
applied to other words. Analysts could not join a correction to its quote by id either.

Now (m029) a correction carries its quote's id (``labels.quote_id``) and its words (``labels.quote_text``, as
last found); ``quote_view`` applies it by id only; a correction whose quote is gone applies to nothing and
is shown as orphaned (the story page, ``cuttings doctor``); exports carry the words and the place, which an
import into another database (other quote ids) matches by the same identity rule.

Real SQLite files; the analyser is the real one where an article is analysed.
"""
from __future__ import annotations

import json

import pytest
from sqlite_utils import Database

from crawler.revisions import save_article
from cuttings import browse, labelling, serve, store
from cuttings.stages import analyse_stage
from nlp.entities import Analyser
from tests.test_quote_ids import BODY, TAYLOR, _save, _save_other

TAYLOR_PARAGRAPH = f"\n\nCouncillor Kit Taylor, who chairs the authority, said: \"{TAYLOR}\""
LATER = "We will look at the cost of this again next year."   # as long as TAYLOR: the same place
LONGER = TAYLOR[:-1] + ", and for everyone who campaigned to keep it."


@pytest.fixture(scope="module")
def analyser():
    return Analyser()


def _view(db, text: str) -> list[tuple]:
    return db.execute("SELECT quote_id, speaker, entity_method FROM quote_view WHERE text = ?", [text]).fetchall()


def _quote_id(db, text: str) -> int:
    [(quote_id,)] = db.execute("SELECT id FROM quotes WHERE text = ?", [text]).fetchall()
    return quote_id


def _place(db, text: str) -> str:
    [(start, end)] = db.execute("SELECT start_char, end_char FROM quotes WHERE text = ?", [text]).fetchall()
    return f"{start}:{end}"


def _correct_taylor(db, article_id: int = 1) -> int:
    """A person corrects Taylor's quote's speaker (as the story page does); returns the quote's id."""
    store.add_correction(db, article_id, [("quote_speaker", _place(db, TAYLOR), "Kit Taylor, chair")], "officer")
    return _quote_id(db, TAYLOR)


def test_a_quote_later_found_at_a_gone_quotes_place_does_not_take_its_correction(tmp_path, analyser):
    """The story is revised twice: Taylor's paragraph is cut (his quote, corrected, is gone), then a new
    paragraph quotes other words of his at exactly the place his first quote had. The new quote is another
    quote (a new id): it shows the analyser's speaker; the correction stays, applying to no quote, orphaned."""
    db = store.connect(tmp_path / "x.db")
    _save(db, BODY)
    analyse_stage(db, analyser)
    taylor = _correct_taylor(db)
    place = _place(db, TAYLOR)
    assert _view(db, TAYLOR) == [(taylor, "Kit Taylor, chair", "corrected")]
    assert _save(db, BODY.replace(TAYLOR_PARAGRAPH, "")) == "updated"
    analyse_stage(db, analyser)
    assert _save(db, BODY.replace(TAYLOR, LATER)) == "updated"
    analyse_stage(db, analyser)
    later = _quote_id(db, LATER)
    assert later != taylor and _place(db, LATER) == place
    assert _view(db, LATER) == [(later, "Councillor Kit Taylor", "inferred")]
    # the correction is kept, still naming its quote and words: orphaned
    assert db.execute("SELECT task, target, label, quote_id, quote_text FROM labels").fetchall() == [
        ("quote_speaker", place, "Kit Taylor, chair", taylor, TAYLOR)]
    [fix] = store.quote_corrections(db)
    assert (fix.quote_id, fix.words, fix.found) == (taylor, TAYLOR, False)
    assert store.orphaned_quote_corrections(db) == [fix]


def test_a_quote_moving_into_a_gone_quotes_place_keeps_its_own_correction_only(tmp_path):
    """One re-analysis: the corrected quote is gone and another quote of the same length moved into its
    place. The moved quote kept its id (same words) and its own correction; the gone one's applies to nothing."""
    db = store.connect(tmp_path / "x.db")
    article = _article(db)
    store.replace_analysis(db, article, "v1", [], [_quote("we are pleased", 10), _quote("it was not fun", 40),
                                                   _quote("no comment", 70)])
    ids = {text: quote_id for quote_id, text in db.execute("SELECT id, text FROM quotes")}
    store.add_correction(db, article["id"], [("quote_speaker", "10:24", "Jo Bloggs"),
                                             ("quote_entity", "70:80", "")], "officer")
    store.replace_analysis(db, article, "v2", [], [_quote("it was not fun", 10), _quote("no comment", 90)])
    assert db.execute("SELECT quote_id, text, speaker, entity_method FROM quote_view ORDER BY start_char").fetchall() == [
        (ids["it was not fun"], "it was not fun", "a spokesperson", None),
        (ids["no comment"], "no comment", "a spokesperson", "corrected")]
    assert db.execute("SELECT task, target, quote_id, quote_text FROM labels ORDER BY id").fetchall() == [
        ("quote_speaker", "10:24", ids["we are pleased"], "we are pleased"),
        ("quote_entity", "90:100", ids["no comment"], "no comment")]
    assert [(fix.quote_id, fix.found) for fix in store.quote_corrections(db)] == [
        (ids["we are pleased"], False), (ids["no comment"], True)]


def test_a_moved_quote_keeps_its_correction_by_id(tmp_path, analyser):
    db = store.connect(tmp_path / "x.db")
    _save(db, BODY)
    _save_other(db)
    analyse_stage(db, analyser)
    taylor = _correct_taylor(db)
    assert _save(db, f"A paragraph added above.\n\n{BODY}") == "updated"
    analyse_stage(db, analyser)
    assert _view(db, TAYLOR) == [(taylor, "Kit Taylor, chair", "corrected")]
    assert db.execute("SELECT target, quote_id, quote_text FROM labels").fetchall() == [
        (_place(db, TAYLOR), taylor, TAYLOR)]
    # an analyst joins a correction to its quote by id
    assert db.execute("SELECT q.text FROM labels l JOIN quotes q ON q.id = l.quote_id").fetchall() == [(TAYLOR,)]
    assert store.orphaned_quote_corrections(db) == []


def test_a_quote_whose_words_change_slightly_keeps_its_correction_and_its_words_follow(tmp_path, analyser):
    """A revision carries Taylor's sentence on: the same opening, longer (store.same_quotes' fourth pass).
    The quote keeps its id and its correction; the correction's words are the quote's as last found."""
    db = store.connect(tmp_path / "x.db")
    _save(db, BODY)
    analyse_stage(db, analyser)
    taylor = _correct_taylor(db)
    assert _save(db, BODY.replace(TAYLOR, LONGER)) == "updated"
    analyse_stage(db, analyser)
    assert _view(db, LONGER) == [(taylor, "Kit Taylor, chair", "corrected")]
    assert db.execute("SELECT target, quote_id, quote_text FROM labels").fetchall() == [
        (_place(db, LONGER), taylor, LONGER)]


def _two_databases(tmp_path, analyser, *, theirs: str = BODY) -> tuple[Database, Database]:
    """Database A (the story alone) and B (another story first, so the story's quotes have other ids)."""
    a = store.connect(tmp_path / "a.db")
    _save(a, BODY)
    analyse_stage(a, analyser)
    b = store.connect(tmp_path / "b.db")
    _save_other(b)
    analyse_stage(b, analyser)
    _save(b, theirs)
    analyse_stage(b, analyser)
    return a, b


def _move(a, b, tmp_path) -> labelling.ImportSummary:
    tasks = labelling.load_label_tasks()
    path = tmp_path / "labels.jsonl"
    labelling.export_labels(a, path, tasks)
    return labelling.import_labels(b, path, tasks, "importer")


def _records(tmp_path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text().splitlines()]


def test_an_imported_correction_goes_to_its_quote_by_words_where_ids_differ(tmp_path, analyser):
    a, b = _two_databases(tmp_path, analyser)
    _correct_taylor(a)
    story_b = b.execute("SELECT id FROM articles WHERE canonical_url LIKE '%station'").fetchone()[0]
    assert _quote_id(a, TAYLOR) != _quote_id(b, TAYLOR)
    summary = _move(a, b, tmp_path)
    [fix] = _records(tmp_path)[0]["quote_corrections"]
    assert (fix["quote"], fix["place"], fix.get("orphaned")) == (TAYLOR, _place(a, TAYLOR), None)
    assert summary.quotes_unmatched == 0 and summary.labels_added == 1
    assert _view(b, TAYLOR) == [(_quote_id(b, TAYLOR), "Kit Taylor, chair", "corrected")]
    assert b.execute("SELECT article_id, target, quote_id, quote_text FROM labels").fetchall() == [
        (story_b, _place(b, TAYLOR), _quote_id(b, TAYLOR), TAYLOR)]


def test_an_imported_correction_finds_its_quote_whose_words_changed_slightly_by_place(tmp_path, analyser):
    """Database B holds a later version of the story (Taylor's sentence carried on): the words are not
    quoted there, but the quote at the same place with the same opening is the quote (the identity rule)."""
    a, b = _two_databases(tmp_path, analyser, theirs=BODY.replace(TAYLOR, LONGER))
    _correct_taylor(a)
    summary = _move(a, b, tmp_path)
    assert summary.quotes_unmatched == 0
    assert _view(b, LONGER) == [(_quote_id(b, LONGER), "Kit Taylor, chair", "corrected")]


def test_an_orphaned_correction_is_exported_with_its_words_and_applies_where_its_quote_still_is(tmp_path, analyser):
    """A's story was revised (Taylor's paragraph cut): the correction is orphaned there, but B has the story
    as it was: exported with its words (and said orphaned), it applies to B's quote of those words."""
    a, b = _two_databases(tmp_path, analyser)
    _correct_taylor(a)
    _save(a, BODY.replace(TAYLOR_PARAGRAPH, ""))
    analyse_stage(a, analyser)
    assert len(store.orphaned_quote_corrections(a)) == 1
    _move(a, b, tmp_path)
    [fix] = _records(tmp_path)[0]["quote_corrections"]
    assert (fix["quote"], fix["orphaned"]) == (TAYLOR, True)
    assert _view(b, TAYLOR) == [(_quote_id(b, TAYLOR), "Kit Taylor, chair", "corrected")]
    assert store.orphaned_quote_corrections(b) == []


def test_a_withdrawal_replayed_on_import_keeps_a_later_corrections_quote(tmp_path, analyser):
    """A withdrawal replayed on import older than a correction here leaves it standing, with its quote id and
    words (here an orphaned correction's), written once (m032: before, import_withdrawal wrote it again after
    the withdrawal, and had to keep its quote id rather than find it again by its place)."""
    a, b = _two_databases(tmp_path, analyser)
    story_b = b.execute("SELECT id FROM articles WHERE canonical_url LIKE '%station'").fetchone()[0]
    taylor = _correct_taylor(b, story_b)
    b.execute("UPDATE labels SET created_at = '2026-12-01T10:00:00Z'")
    b.conn.commit()
    _save(b, BODY.replace(TAYLOR_PARAGRAPH, ""))   # its quote gone: nothing at its place to find it by
    analyse_stage(b, analyser)
    assert store.import_withdrawal(b, story_b, "quote_speaker", "elsewhere", "2026-11-30T10:00:00Z")
    assert b.execute("SELECT label, quote_id, quote_text FROM labels ORDER BY id").fetchall() == [
        ("Kit Taylor, chair", taylor, TAYLOR), ("__withdrawn__", None, None)]
    assert [(fix.quote_id, fix.found) for fix in store.quote_corrections(b)] == [(taylor, False)]


def test_a_correction_of_no_quote_is_refused(tmp_path):
    db = store.connect(tmp_path / "x.db")
    article = _article(db)
    store.replace_analysis(db, article, "v1", [], [_quote("we are pleased", 10)])
    with pytest.raises(store.CorrectionError, match="no quote at 11:24"):
        store.add_correction(db, article["id"], [("quote_speaker", "11:24", "Jo Bloggs")], "officer")
    assert db.execute("SELECT count(*) FROM labels").fetchone() == (0,)


def test_the_story_form_names_its_quote_by_id(tmp_path):
    """The story page's form carries the quote's id: a quote that moved since the page was loaded gets the
    correction at its new place; one gone is refused (not given to whatever is at its old place now)."""
    quotes = {"60:74": {"quote_id": 7, "speaker": "a spokesperson", "entity_id": None},
              "10:24": {"quote_id": 9, "speaker": "Mr X", "entity_id": None}}
    form = {"what": ["quote"], "quote": ["10:24"], "quote_id": ["7"], "speaker": ["Jo Bloggs"], "entity": [""]}
    assert browse.correction_rows(form, [], {}, quotes, set()) == [("quote_speaker", "60:74", "Jo Bloggs")]
    with pytest.raises(browse.BadCorrection, match="no longer in this story"):
        browse.correction_rows({**form, "quote_id": ["8"]}, [], {}, quotes, set())
    # a form without the id (an older page) names the quote by its place, as before
    assert browse.correction_rows({**form, "quote_id": []}, [], {}, quotes, set()) == [
        ("quote_speaker", "10:24", "Jo Bloggs")]


def test_the_story_page_and_doctor_show_an_orphaned_correction(tmp_path, analyser):
    from cuttings import doctor
    from tests.test_scheme_without_tone_or_topics import _story_page
    path = tmp_path / "x.db"
    db = store.connect(path)
    _save(db, BODY)
    analyse_stage(db, analyser)
    _correct_taylor(db)
    page = _story_page(path, 1)
    assert "no longer in this story" not in page
    assert f'name="quote_id" value="{_quote_id(db, TAYLOR)}"' in page
    [check] = doctor.check_quote_corrections(db.conn)
    assert check.status == "ok" and "orphaned" not in check.message
    _save(db, BODY.replace(TAYLOR_PARAGRAPH, ""))
    analyse_stage(db, analyser)
    page = _story_page(path, 1)
    section = page[page.index("no longer in this story"):]
    assert TAYLOR in section and "Kit Taylor, chair" in section and "officer" in section
    assert "cuttings label --unlabel 1 --task quote_speaker" in section
    [check] = doctor.check_quote_corrections(db.conn)
    assert check.status == "ok" and check.message.startswith("1 correction of a quote no longer found")
    assert "story 1" in check.message


def _article(db) -> dict:
    [article_id] = [save_article(db, {"url": "http://a.example/x", "canonical_url": "http://a.example/x",
                                      "title": "T", "body": " ".join(f"word{n}" for n in range(80))}, None)[1]]
    return {"id": article_id, "content_hash": db.execute("SELECT content_hash FROM articles").fetchone()[0]}


def _quote(text: str, start: int, speaker: str = "a spokesperson") -> dict:
    return {"speaker": speaker, "text": text, "start_char": start, "end_char": start + len(text)}


def test_m029_back_fills_each_corrections_quote_from_its_place_and_keeps_the_views_rows(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    store.migrations.apply(db, stop_before="m029_quote_corrections_by_id")
    article = _article(db)
    store.replace_analysis(db, article, "v1", [], [_quote("we are pleased", 10), _quote("it was fine", 40)])
    db.conn.executemany("INSERT INTO labels (article_id, task, target, label, annotator, created_at) "
                        "VALUES (?, ?, ?, ?, 'officer', '2026-12-01T10:00:00Z')",
                        [(article["id"], "quote_speaker", "10:24", "Jo Bloggs"),
                         (article["id"], "quote_entity", "40:51", ""),
                         (article["id"], "quote_speaker", "70:80", "Nobody"),   # its quote already gone
                         (article["id"], "stance_governance", "", "against")])
    db.conn.commit()
    views = {name: db.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()
             for name in ("quote_view", "quotes_by_speaker", "effective_labels", "article_summary")}
    db.conn.close()
    db = store.connect(path)
    assert {name: db.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall() for name in views} == views
    assert db.execute("SELECT task, target, quote_id, quote_text FROM labels ORDER BY id").fetchall() == [
        ("quote_speaker", "10:24", 1, "we are pleased"), ("quote_entity", "40:51", 2, "it was fine"),
        ("quote_speaker", "70:80", None, None), ("stance_governance", "", None, None)]
    assert [(fix.target, fix.found) for fix in store.orphaned_quote_corrections(db)] == [("70:80", False)]
    # a quote found at the orphaned correction's place later does not take it
    store.replace_analysis(db, article, "v2", [], [_quote("we are pleased", 10), _quote("it was fine", 40),
                                                   _quote("a new point", 70)])
    assert db.execute("SELECT speaker, entity_method FROM quote_view WHERE text = 'a new point'").fetchall() == [
        ("a spokesperson", None)]


def test_the_labels_columns_are_documented():
    columns = serve.TABLE_DOCS["labels"][1]
    assert "quote_id" in columns and "quote_text" in columns
