"""The digest reads the night and the people it names, not every stored quote or label (docs/benchmarks.md,
"Doctor and the digest at a year's size"): quote_people read for the surnames asked (``quote_people_of``), the
window's effective labels alone (``effective_labels_among``), the principal people's names as most_quoted gives
them, and m040's indexes. Each is checked against the views it stands for, on the report sample with people
joined by a title and surname, by a short form of a first name, and people's corrections of quote speakers."""
from __future__ import annotations

import json
import sqlite3

import pytest

from cuttings import report, store
from cuttings.store import schema
from tests.report_fixtures import NOW, build_sample_db, quoting_story

BODY = "shropshire_fire_authority"
POLICE = "west_mercia_police"
SINCE = "2026-11-23T00:00:00Z"


def _article(db, key: str, quotes: list[tuple[str, str | None]], published="2026-11-20T10:00:00Z") -> int:
    """A stored story quoting (speaker, body) pairs, first seen in the digest's night (NOW)."""
    return quoting_story(db, key, quotes, published, first_seen=NOW)


@pytest.fixture()
def db(tmp_path):
    database = build_sample_db(tmp_path / "sample.db")
    with database.atomic():
        _article(database, "m1", [("David Minnery", BODY), ("Councillor Minnery", BODY), ("the chief fire officer", BODY)])
        _article(database, "m2", [("Councillor Minnery", BODY), ("Councillor David Minnery", BODY)])
        _article(database, "m3", [("Councillor Minnery", BODY), ("A spokesperson", BODY)])
        _article(database, "s1", [("Ann Smith", BODY), ("Bob Smith", BODY)])
        _article(database, "s2", [("Mr Smith", BODY), ("Bill Jones", BODY)])
        _article(database, "s3", [("William Jones", BODY), ("Mr Jones", BODY), ("Pippa Mills", POLICE)])
        corrected = _article(database, "c1", [("David Minnery", BODY), ("Bob Smith", BODY), ("Ann Smith", POLICE)])
    # a person's corrections: to another stored spelling of the same person, to words no quote prints, and to
    # another person's name (the quote keeps its speaker identity: its person is read from that)
    store.add_correction(database, corrected, [("quote_speaker", "0:8", "Councillor David Minnery"),
                                              ("quote_speaker", "9:17", "The Commissioner"),
                                              ("quote_speaker", "18:26", "Mr Smith")], "officer")
    yield database
    database.close()


def _rows(db, sql: str, params=None) -> list[tuple]:
    return sorted(map(tuple, db.execute(sql, params or {}).fetchall()), key=repr)


def test_the_live_quote_people_view_is_the_one_quote_people_of_narrows(db):
    """The view as it stands is m038's: its stored rows while fresh, else m033's logic (QUOTE_PEOPLE_SQL, which
    quote_people_of narrows) with only m038's freshness test added; a later migration changing the logic fails
    here until quote_people_of follows it."""
    live = db.execute("SELECT sql FROM sqlite_master WHERE name = 'quote_people'").fetchone()[0]
    assert live.rstrip() == f"CREATE VIEW quote_people AS {schema._VIEWS_V38['quote_people']}".rstrip()
    logic = schema._QUOTE_PEOPLE_LIVE_V38.replace(f" AND NOT {schema.QUOTE_PEOPLE_FRESH}", "")
    assert logic == schema.QUOTE_PEOPLE_SQL
    assert f"SELECT * FROM ({schema._QUOTE_PEOPLE_LIVE_V38}) WHERE NOT {schema.QUOTE_PEOPLE_FRESH}" in live
    assert schema._QUOTE_PEOPLE_LIVE_V38.count(f" AND NOT {schema.QUOTE_PEOPLE_FRESH}") == 2   # its two reads of the quotes


def test_quote_people_of_gives_the_views_rows_for_the_surnames_and_quotes_asked(db):
    surname = schema.SURNAME_SQL.format("speaker_id")
    every = _rows(db, "SELECT * FROM quote_people WHERE speaker_id IS NOT NULL")
    joined = {row[6] for row in every}
    assert {"same_article", "same_body", "short_form", "name"} <= joined   # every way a person is found
    for surnames in (["minnery"], ["smith"], ["jones"], ["smith", "mills"], ["minnery", "smith", "jones", "mills"]):
        asked = "SELECT value FROM json_each(:surnames)"
        params = {"surnames": json.dumps(surnames)}
        view = _rows(db, f"SELECT * FROM quote_people WHERE {surname} IN ({asked})", params)
        assert view and _rows(db, f"SELECT * FROM ({schema.quote_people_of(schema.QUOTE_PEOPLE_SQL, asked)})",
                              params) == view
        some = [row[0] for row in view][::2]
        params["quotes"] = json.dumps(some)
        narrowed = schema.quote_people_of(schema.QUOTE_PEOPLE_SQL, asked, "SELECT value FROM json_each(:quotes)")
        assert _rows(db, f"SELECT * FROM ({narrowed})", params) == [row for row in view if row[0] in some]
    # a title and surname is joined to the body's one full name with that surname: read among that surname's people
    minnery = {row[0]: row[5] for row in every if row[4] == "minnery"}
    assert set(minnery.values()) == {"david minnery"}


def test_effective_labels_among_gives_the_views_rows_of_those_stories(db):
    store.add_correction(db, 1, [("tone", BODY, "negative"), ("stance_governance", "", "against")], "officer")
    store.add_correction(db, 2, [("stance_governance", "", "favour")], "officer")
    with store.clock("2099-01-01T00:00:00Z"):
        store.withdraw_labels(db, 2, ["stance_governance"], "officer")   # the prediction stands again
    ids = [row[0] for row in db.execute("SELECT id FROM articles ORDER BY id")]
    assert _rows(db, "SELECT * FROM effective_labels WHERE human = 1")
    for some in (ids[:1], ids[1:4], ids, []):
        params = {"ids": json.dumps(some)}
        among = schema.effective_labels_among(db, "SELECT value FROM json_each(:ids)")
        assert _rows(db, f"SELECT * FROM ({among})", params) == _rows(
            db, "SELECT * FROM effective_labels WHERE article_id IN (SELECT value FROM json_each(:ids))", params)


def test_the_principal_people_are_most_quoteds_names_as_the_digest_displays_them(db):
    """_principals takes most_quoted's speaker as it stands: the name speaker_names gives the person, which
    SpeakerNames.display gives back, as it gives back a speaker without one (the reference: each row displayed)."""
    rows = list(db.query("SELECT entity_id, speaker_id, speaker FROM most_quoted ORDER BY entity_id, rank, speaker"))
    names = report.speaker_names(db, (row["speaker_id"] for row in rows))
    assert [(row["speaker_id"], row["speaker"]) for row in rows if names.display(row["speaker_id"], row["speaker"])
            != row["speaker"]] == []
    expected: dict[str, list[str]] = {}
    for row in rows:
        speaker = names.display(row["speaker_id"], row["speaker"])
        if report.named_speaker(speaker) and len(expected.setdefault(row["entity_id"], [])) < report.PRINCIPALS_PER_BODY:
            expected[row["entity_id"]].append(speaker)
    expected = {entity: people for entity, people in expected.items() if people}
    assert report._principals(db) == expected and expected[BODY][0] == "David Minnery"


def _displayed_before(db, article_ids: list[int]) -> list[tuple]:
    """The night's quotes as the digest showed them before: each quote's person from the whole quote_people view,
    every spelling of each person read from every quote."""
    found = db.execute(
        "SELECT q.article_id, q.speaker, coalesce(p.person_id, q.speaker_id) AS speaker_id FROM quote_view q "
        "LEFT JOIN quote_people p ON p.quote_id = q.quote_id WHERE q.article_id IN (SELECT value FROM json_each(?)) "
        "ORDER BY q.article_id, q.start_char", [json.dumps(article_ids)]).fetchall()
    wanted = json.dumps(sorted({sid for _a, _s, sid in found if sid}))
    names = dict(db.execute("SELECT speaker_id, name FROM speaker_names WHERE speaker_id IN "
                            "(SELECT value FROM json_each(?))", [wanted]).fetchall())
    forms: dict[str, set] = {}
    for sid, speaker in db.execute(
            "SELECT DISTINCT coalesce(p.person_id, q.speaker_id), q.speaker FROM quotes q LEFT JOIN quote_people p "
            "ON p.quote_id = q.id WHERE coalesce(p.person_id, q.speaker_id) IN (SELECT value FROM json_each(?)) "
            "AND q.speaker IS NOT NULL", [wanted]).fetchall():
        forms.setdefault(sid, set()).add(speaker)
    return [(article_id, names[sid] if sid and speaker in forms.get(sid, ()) and sid in names else speaker)
            for article_id, speaker, sid in found]


def test_the_nights_quotes_name_their_people_as_before(db):
    rows = report._story_rows(db, SINCE, "2026-11-25T00:00:00Z")
    ids = [row["id"] for row in rows]
    stamps = report._current_stamps(db, ids)
    stories = report._stories(db, rows, stamps, report._thresholds())
    shown = sorted((story["article_id"], quote["speaker"]) for story in stories for quote in story["quotes"])
    assert shown == sorted(_displayed_before(db, sorted(stamps["analyse"])))
    speakers = {speaker for _id, speaker in shown}
    # corrected to another spelling of the same person: the person's name; to words no quote of theirs prints:
    # as corrected; a title and surname joined to the full name in the article or for the body: the full name
    assert {"David Minnery", "The Commissioner", "Bob Smith", "William Jones"} <= speakers
    assert not speakers & {"Councillor David Minnery", "Councillor Minnery", "Mr Jones"}


def test_the_digest_reads_no_whole_quote_or_label_view(db):
    """Every statement the digest runs: quote_people, speaker_names and effective_labels are read narrowed (or by
    the night's stories), and most_quoted once (its ranking is over every stored story by design)."""
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        digest = report.build_digest(db, since=SINCE, now="2026-11-25T00:00:00Z")
    finally:
        db.conn.set_trace_callback(None)
    assert digest["summary"]["stories"] > 0
    flat = [" ".join(sql.split()) for sql in statements]
    assert not [sql for sql in flat if "JOIN quote_people " in sql or "FROM quote_people " in sql]
    assert not [sql for sql in flat if "JOIN effective_labels " in sql or "FROM effective_labels " in sql]
    assert sum("FROM most_quoted" in sql for sql in flat) == 1
    assert sum("FROM speaker_names WHERE" in sql for sql in flat) == 1


def _plan(db, sql: str, params) -> list[str]:
    return [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()]


def test_m040_indexes_serve_the_window_and_the_rated_bodies(db):
    window = {"start": "2026-10-26", "end": "2026-11-24"}
    assert "SEARCH a USING INDEX idx_articles_story_day (duplicate_of=? AND <expr>>? AND <expr><?)" in _plan(
        db, report._ANALYSED_BETWEEN, window)
    latest = _plan(db, "SELECT max(substr(coalesce(published_at, first_seen_at), 1, 10)) FROM articles "
                       "WHERE duplicate_of IS NULL AND substr(coalesce(published_at, first_seen_at), 1, 10) <= :end",
                   window)
    assert [step for step in latest if "idx_articles_story_day" in step]
    rated = _plan(db, "SELECT min(target) FROM classifications WHERE task = 'tone' AND target > ''", {})
    assert [step for step in rated if "idx_classifications_task_target (task=? AND target>?)" in step]
    assert report.tone_rated(db, "tone") == {row[0] for row in db.execute(
        "SELECT DISTINCT target FROM classifications WHERE task = 'tone' UNION SELECT DISTINCT target FROM labels l "
        f"WHERE task = 'tone' AND {store.standing_label_sql('l')}")}


def test_the_night_and_its_edits_are_ranges_of_their_times_not_every_stored_story(db):
    """The night's stories by first_seen_at (not every original story by duplicate_of, which SQLite preferred);
    its edits by the revisions' capture time (m040; not a scan of every stored version)."""
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        report._story_rows(db, SINCE, "2026-11-25T00:00:00Z")
        report._edits(db, SINCE, "2026-11-25T00:00:00Z")
    finally:
        db.conn.set_trace_callback(None)
    night, edits = (statement for statement in statements if statement.lstrip().startswith("SELECT"))
    assert "SEARCH a USING INDEX idx_articles_first_seen_at (first_seen_at>? AND first_seen_at<?)" in _plan(
        db, night, {})
    assert "SEARCH v USING INDEX idx_article_versions_revised_at (captured_at>? AND captured_at<?)" in _plan(
        db, edits, {})


def test_m040_adds_the_indexes_to_a_database_m037_left(tmp_path):
    path = tmp_path / "old.db"
    from sqlite_utils import Database
    old = Database(sqlite3.connect(path))
    store.migrations.apply(old, stop_before="m040_digest_indexes")
    indexes = {"idx_articles_story_day", "idx_classifications_task_target", "idx_quotes_surname",
               "idx_article_versions_revised_at"}
    assert not {row[0] for row in old.execute("SELECT name FROM sqlite_master WHERE type = 'index'")} & indexes
    old.conn.close()
    db = store.connect(path)
    assert indexes <= {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
