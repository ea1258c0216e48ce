"""article_summary reads each story's own effective labels (migration m030): its per-story subqueries seek the
story's labels and predictions by index, where the view filtered after the UNION ALL built the whole task's
effective labels (and an automatic index) for every story (50,000 stories: minutes; docs/benchmarks.md, "A year
of coverage"). Plans, not timings; and the same rows as the definition before m030."""
from __future__ import annotations

from sqlite_utils import Database

from cuttings import store
from cuttings.store import schema

STAMP = "2026-11-30T02:00:00Z"


def migrated() -> Database:
    db = Database(memory=True)
    store.migrations.apply(db)
    return db


def plan(db: Database, sql: str) -> list[str]:
    # (Python's statement cache kept an EXPLAIN's plan across a view's replacement: the statement is made new)
    plan.asked = getattr(plan, "asked", 0) + 1
    return [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql} -- {plan.asked}").fetchall()]


def test_the_story_view_seeks_each_storys_labels_and_predictions_by_index():
    db = migrated()
    steps = plan(db, "SELECT * FROM article_summary")
    assert not [step for step in steps if "AUTOMATIC" in step], steps
    predictions = [step for step in steps if "idx_classifications_" in step]
    assert len(predictions) == 8 and all("(article_id=?" in step for step in predictions)
    labels = [step for step in steps if step.startswith(("SEARCH l ", "SEARCH labels "))]
    assert labels and all("(article_id=?" in step for step in labels)
    assert not [step for step in steps if step.startswith(("SCAN c", "SCAN labels", "SCAN l"))], steps


def test_the_plan_before_m030_built_the_task_for_every_story():
    """What m030 mended (so the test above can fail): the view as m029 left it."""
    db = migrated()
    roles = schema.label_task_roles(db)
    old = schema._summary_definition(roles, schema._ARTICLE_SUMMARY)
    db.execute(f"CREATE TEMP VIEW old_summary AS {old}")
    assert [step for step in plan(db, "SELECT * FROM old_summary") if "AUTOMATIC" in step]


def fill(db: Database) -> None:
    db.execute("INSERT INTO sources (id, name) VALUES ('s', 'S'), ('t', 'T')")
    for i, source, duplicate_of in ((1, "s", None), (2, "s", None), (3, "t", None), (4, "t", None), (5, "t", 1)):
        db.execute("INSERT INTO articles (id, url, canonical_url, source_id, title, published_at, first_seen_at, "
                   "last_seen_at, body, content_hash, duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'b', 'h', ?)",
                   [i, f"https://x/{i}", f"https://x/{i}", source, f"Story {i}", "2026-11-29", STAMP, STAMP,
                    duplicate_of])
    db.execute("INSERT INTO entities (id, name, kind) VALUES ('hwfrs', 'HWFRS', 'org'), ('sfrs', 'SFRS', 'org')")
    predictions = []
    for i in (1, 2, 3, 4, 5):
        predictions += [(i, "topics", "", "finance", 0), (i, "topics", "", "incident", 1),
                        (i, "stance_governance", "", "favour", i % 2), (i, "tone", "hwfrs", "negative", 0),
                        (i, "tone", "sfrs", "positive", 1)]
    db.conn.executemany("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, "
                        "model_version, created_at) VALUES (?, ?, ?, ?, 0.7, ?, 'm1', ?)",
                        [(*row, STAMP) for row in predictions])
    db.conn.executemany("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, "
                        "analyser_version) VALUES (?, ?, 'x', 0, 1, 'a')",
                        [(1, "hwfrs"), (1, "sfrs"), (2, "hwfrs"), (3, "sfrs"), (4, "hwfrs"), (5, "hwfrs")])
    labels = [(1, "topics", "", "governance"), (1, "topics", "governance", "__rejected__"), (1, "topics", "", "fire"),
              (2, "stance_governance", "", "against"), (2, "stance_governance", "", schema.WITHDRAWN),
              (3, "tone", "sfrs", "negative"), (3, "stance_governance", "", "neutral"),
              (4, "quote_speaker", "0:5", "Someone")]
    db.conn.executemany("INSERT INTO labels (article_id, task, target, label, annotator, created_at) "
                        "VALUES (?, ?, ?, ?, 'ann', ?)", [(*row, STAMP) for row in labels])
    db.conn.commit()


def test_the_story_view_gives_the_rows_it_gave_before_m030():
    db = migrated()
    fill(db)
    roles = schema.label_task_roles(db)
    db.execute(f"CREATE TEMP VIEW old_summary AS {schema._summary_definition(roles, schema._ARTICLE_SUMMARY)}")
    now = db.execute("SELECT * FROM article_summary ORDER BY article_id").fetchall()
    assert now == db.execute("SELECT * FROM old_summary ORDER BY article_id").fetchall()
    by_id = {row["article_id"]: row for row in db.query("SELECT * FROM article_summary")}
    assert sorted(by_id) == [1, 2, 3, 4]
    assert by_id[1]["topics"] == "fire" and by_id[1]["human_corrected"] == 1
    assert by_id[2]["stance"] == "favour" and by_id[2]["human_corrected"] == 0    # withdrawn: the prediction again
    assert by_id[3]["stance"] == "neutral" and '"sfrs":"negative"' in by_id[3]["tone"]
    assert by_id[4]["topics"] == "finance,incident" and by_id[4]["human_corrected"] == 0   # a quote correction


def test_m030_replaces_the_view_of_a_database_m029_left():
    db = Database(memory=True)
    store.migrations.apply(db, stop_before="m030_summary_labels_per_story")
    # the view as m029's code wrote it (the label views' migrations before m030 now write the current one)
    old = schema._summary_definition(schema.label_task_roles(db), schema._ARTICLE_SUMMARY)
    db.execute("DROP VIEW article_summary")
    db.execute(f"CREATE VIEW article_summary AS {old}")
    assert "AUTOMATIC" in " ".join(plan(db, "SELECT * FROM article_summary"))
    store.migrations.apply(db)
    assert "AUTOMATIC" not in " ".join(plan(db, "SELECT * FROM article_summary"))
