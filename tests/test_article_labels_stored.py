"""article_summary's label columns stored per story (migration m041, ``article_labels_stored``): the view gives the
rows the definition before m041 gives (each story's labels worked out from its labels and predictions), whether a
story's row is stored, removed by a write (a trigger each), or stored again; a stored row is what the view reads
(docs/benchmarks.md, "Session 23: article_summary at 50k")."""
from __future__ import annotations

import pytest
from sqlite_utils import Database

from cuttings import store
from cuttings.store import schema

STAMP = "2026-11-30T02:00:00Z"
EARLIER = "2026-11-29T02:00:00Z"
LATER = "2026-12-01T02:00:00Z"
ORIGINALS = [1, 2, 3, 4, 5, 6]


def migrated(stop_before: str | None = None) -> Database:
    db = Database(memory=True)
    store.migrations.apply(db, stop_before=stop_before)
    return db


def fill(db: Database) -> None:
    """Six stories and a copy: predictions of four tasks (one the views name no column for), some unsure; a topic
    chosen and one rejected, a stance given then withdrawn, stances and tones corrected, a label given later but
    dated earlier (by time, not id), a quote correction, a stance label '1' (text, not a number)."""
    db.execute("INSERT INTO sources (id, name) VALUES ('s', 'S'), ('t', 'T')")
    for i, source, duplicate_of in ((1, "s", None), (2, "s", None), (3, "t", None), (4, "t", None), (5, "s", None),
                                    (6, "t", None), (7, "t", 1)):
        db.execute("INSERT INTO articles (id, url, canonical_url, source_id, title, published_at, first_seen_at, "
                   "last_seen_at, body, content_hash, duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'b', 'h', ?)",
                   [i, f"https://x/{i}", f"https://x/{i}", source, f"Story {i}", f"2026-11-2{i}", STAMP, STAMP,
                    duplicate_of])
    db.execute("INSERT INTO entities (id, name, kind) VALUES ('hwfrs', 'HWFRS', 'org'), ('sfrs', 'SFRS', 'org')")
    predictions = []
    for i in (1, 2, 3, 4, 5, 7):
        predictions += [(i, "topics", "", "finance", 0), (i, "topics", "", "incident", i % 2),
                        (i, "stance_governance", "", "favour" if i != 5 else "1", i % 2),
                        (i, "tone", "hwfrs", "negative", 0), (i, "tone", "sfrs", "positive", i % 3 == 0),
                        (i, "urgency", "", "high", i == 4)]
    db.conn.executemany("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, "
                        "model_version, created_at) VALUES (?, ?, ?, ?, 0.7, ?, 'm1', ?)",
                        [(*row, STAMP) for row in predictions])
    db.conn.executemany("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, "
                        "analyser_version) VALUES (?, ?, 'x', 0, 1, 'a')",
                        [(1, "hwfrs"), (1, "sfrs"), (2, "hwfrs"), (3, "sfrs"), (4, "hwfrs"), (7, "hwfrs")])
    labels = [(1, "topics", "", "governance", STAMP), (1, "topics", "finance", "__rejected__", STAMP),
              (2, "stance_governance", "", "against", STAMP), (2, "stance_governance", "", schema.WITHDRAWN, STAMP),
              (3, "tone", "sfrs", "negative", STAMP), (3, "stance_governance", "", "neutral", STAMP),
              (3, "stance_governance", "", "against", EARLIER),   # written last, given first: neutral stands
              (4, "quote_speaker", "0:5", "Someone", STAMP), (6, "topics", "", "fire", STAMP),
              (7, "stance_governance", "", "against", STAMP)]
    db.conn.executemany("INSERT INTO labels (article_id, task, target, label, annotator, created_at) "
                        "VALUES (?, ?, ?, ?, 'ann', ?)", labels)
    db.conn.commit()


def reference(db: Database) -> None:
    """The view as it was before m041 (every story's labels worked out), for the roles the database has now."""
    db.execute("DROP VIEW IF EXISTS temp.old_summary")
    db.execute(f"CREATE TEMP VIEW old_summary AS "
               f"{schema.label_view_definitions(schema.label_task_roles(db))['article_summary']}")


def same_as_before(db: Database) -> list[tuple]:
    """article_summary's rows, checked against the definition before m041: values, their types, and the tone
    columns as JSON inside a statement (json_object nests them in both)."""
    reference(db)
    columns = [row[1] for row in db.execute("PRAGMA table_info(article_summary)").fetchall()]
    assert columns == [row[1] for row in db.execute("PRAGMA table_info(old_summary)").fetchall()]
    typed = ", ".join(f"{name}, typeof({name})" for name in columns)
    for select in ("*", typed, "article_id, json_object('tone', tone, 'tone_uncertain', tone_uncertain)"):
        now = db.execute(f"SELECT {select} FROM article_summary ORDER BY article_id").fetchall()
        assert now == db.execute(f"SELECT {select} FROM old_summary ORDER BY article_id").fetchall(), select
    return db.execute("SELECT * FROM article_summary ORDER BY article_id").fetchall()


def stored_ids(db: Database) -> list[int]:
    return [row[0] for row in db.execute("SELECT article_id FROM article_labels_stored ORDER BY article_id")]


@pytest.fixture
def db() -> Database:
    db = migrated()
    fill(db)
    assert store.refresh_article_labels(db) == len(ORIGINALS)
    return db


def test_the_stored_rows_are_the_rows_worked_out(db):
    assert stored_ids(db) == ORIGINALS
    rows = {row[0]: row for row in same_as_before(db)}
    by_id = {row["article_id"]: row for row in db.query("SELECT * FROM article_summary")}
    assert sorted(rows) == ORIGINALS
    assert by_id[1]["topics"] == "governance" and by_id[1]["human_corrected"] == 1   # a person's topics replace all
    assert by_id[2]["stance"] == "favour" and by_id[2]["human_corrected"] == 0   # withdrawn: the prediction again
    assert by_id[3]["stance"] == "neutral" and by_id[3]["tone"] == '{"hwfrs":"negative","sfrs":"negative"}'
    assert by_id[3]["tone_uncertain"] == '{"hwfrs":0,"sfrs":0}'
    assert by_id[4]["uncertain"] == 1 and by_id[4]["stance_uncertain"] == 0   # unsure of urgency only
    assert by_id[5]["stance"] == "1" and by_id[5]["topics_uncertain"] == "incident"
    assert by_id[6]["topics"] == "fire" and by_id[6]["stance"] is None and by_id[6]["tone"] == "{}"
    assert store.refresh_article_labels(db) == 0   # every story's row in step: nothing written


def test_the_view_reads_a_stored_row_and_a_write_takes_it_back(db):
    db.execute("UPDATE article_labels_stored SET stance = 'stored', tone = '{\"x\":1}' WHERE article_id = 2")
    row = db.execute("SELECT stance, tone, json_object('t', tone) FROM article_summary WHERE article_id = 2").fetchone()
    assert row == ("stored", '{"x":1}', '{"t":{"x":1}}')   # read from the row, JSON as the worked-out column is
    db.execute("INSERT INTO labels (article_id, task, target, label, annotator, created_at) "
               "VALUES (2, 'topics', '', 'fire', 'ann', ?)", [LATER])
    assert db.execute("SELECT stance FROM article_summary WHERE article_id = 2").fetchone()[0] == "favour"
    same_as_before(db)


# Each write, and the stories whose row it must remove: each fails without its trigger (the row would stay, and
# for the label and prediction writes the view would show the values from before the write).
WRITES = {
    "label insert": ("INSERT INTO labels (article_id, task, target, label, annotator, created_at) "
                     f"VALUES (4, 'stance_governance', '', 'against', 'ann', '{LATER}')", [4]),
    "label delete": ("DELETE FROM labels WHERE article_id = 3 AND task = 'tone'", [3]),
    "label update": ("UPDATE labels SET article_id = 5 WHERE article_id = 6", [5, 6]),
    "label withdrawn": ("INSERT INTO labels (article_id, task, target, label, annotator, created_at) "
                        f"VALUES (1, 'topics', '', '{schema.WITHDRAWN}', 'ann', '{LATER}')", [1]),
    "prediction insert": ("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, "
                          f"model_version, created_at) VALUES (6, 'tone', 'sfrs', 'neutral', 0.5, 1, 'm1', '{LATER}')",
                          [6]),
    "prediction delete": ("DELETE FROM classifications WHERE article_id = 2 AND task = 'topics'", [2]),
    "prediction update": ("UPDATE classifications SET article_id = 6 WHERE article_id = 4 AND task = 'urgency'",
                          [4, 6]),
    "prediction unsure": ("UPDATE classifications SET uncertain = 1 WHERE article_id = 2 AND task = 'tone'", [2]),
    "story delete": ("DELETE FROM articles WHERE id = 4", [4]),
    "story id": ("UPDATE articles SET id = 40 WHERE id = 4", [4, 40]),
}


@pytest.mark.parametrize("write", WRITES)
def test_a_write_removes_its_storys_row_and_the_view_reads_as_before(db, write):
    sql, stories = WRITES[write]
    before = same_as_before(db)
    db.execute("PRAGMA foreign_keys = OFF")   # (the story's own trigger, not the cascade to its labels)
    db.execute(sql)
    assert stored_ids(db) == [i for i in ORIGINALS if i not in stories]
    after = same_as_before(db)
    if write.startswith(("label", "prediction")):
        assert after != before   # each write changes what the view shows
    assert store.refresh_article_labels(db) == len([i for i in stories if i in [row[0] for row in after]])
    assert same_as_before(db) == after


def test_a_new_story_takes_no_row_left_for_its_id(db):
    db.execute("INSERT INTO article_labels_stored (article_id, stance) VALUES (8, 'left over')")
    db.execute("INSERT INTO articles (id, url, canonical_url, source_id, title, first_seen_at, last_seen_at, body, "
               "content_hash) VALUES (8, 'https://x/8', 'https://x/8', 's', 'Story 8', ?, ?, 'b', 'h')", [STAMP, STAMP])
    assert 8 not in stored_ids(db)
    assert db.execute("SELECT stance FROM article_summary WHERE article_id = 8").fetchone()[0] is None
    same_as_before(db)


def test_new_label_views_remove_every_row(db):
    """A scheme recorded with another stance task: the views read that task, so no stored row is in step."""
    store.record_label_tasks(db, {"topics": "multi_label", "stance_other": "single_label", "tone": "per_entity"},
                             at=LATER)
    assert stored_ids(db) == []
    db.execute("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, model_version, "
               f"created_at) VALUES (1, 'stance_other', '', 'yes', 0.9, 0, 'm2', '{LATER}')")
    rows = {row[0]: row for row in same_as_before(db)}
    assert db.execute("SELECT stance FROM article_summary WHERE article_id = 1").fetchone()[0] == "yes"
    assert store.refresh_article_labels(db) == len(ORIGINALS)
    assert {row[0]: row for row in same_as_before(db)} == rows
    assert not schema.refresh_label_views(db) and stored_ids(db) == ORIGINALS   # unchanged views: rows kept


def test_m041_stores_every_story_and_keeps_the_rows():
    db = migrated(stop_before="m041_article_labels_stored")
    fill(db)
    assert not schema.article_labels_stored_exists(db)
    before = db.execute("SELECT * FROM article_summary ORDER BY article_id").fetchall()
    store.migrations.apply(db)
    assert stored_ids(db) == ORIGINALS
    assert same_as_before(db) == before
    assert "article_labels_stored" in db.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'article_summary'").fetchone()[0]


def test_a_full_read_seeks_no_prediction_of_a_stored_story(db):
    """The worked-out columns run only for a story without a row: with every row stored, a full read steps through
    far fewer SQLite instructions than the definition before m041 (which reads every story's labels 8 times)."""
    reference(db)

    def steps(sql: str) -> int:
        count = [0]

        def tick() -> int:
            count[0] += 1
            return 0
        db.conn.set_progress_handler(tick, 1)
        db.execute(sql).fetchall()
        db.conn.set_progress_handler(None, 1)
        return count[0]
    stored, worked_out = steps("SELECT * FROM article_summary"), steps("SELECT * FROM old_summary")
    assert stored * 2 < worked_out, (stored, worked_out)
    db.execute("DELETE FROM article_labels_stored")
    assert steps("SELECT * FROM article_summary") > worked_out * 0.9   # none stored: as before
