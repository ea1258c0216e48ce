"""entity_daily reads each (story, body) once, the rated bodies once per statement and the stories' stance and tone
by index (migration m031, store.schema.per_body_daily): before, its plan ran the rated check for every mention and,
in a database without ANALYZE's statistics (every database cuttings writes), scanned the materialised effective
labels for every mention (50,000 stories: a full scan past 9 minutes; docs/benchmarks.md, "A year of coverage").
Since m039 (store.schema.per_group_daily) it reads its (body, day) groups first and each label count for its own
group: Datasette's count and facets read no label, its page the labels of its own rows only.
Plans and the virtual machine's steps, not timings; and the same rows as the plain definition (before m031), for
every kind of label scheme."""
from __future__ import annotations

import pytest
from sqlite_utils import Database

from cuttings import store
from cuttings.store import schema
from tests.sqlite_steps import vm_steps

STAMP = "2026-11-30T02:00:00Z"


def migrated() -> Database:
    db = Database(memory=True)
    store.migrations.apply(db)
    return db


def plan(db: Database, sql: str) -> list[tuple[int, int, str]]:
    # (Python's statement cache kept an EXPLAIN's plan across a view's replacement: the statement is made new)
    plan.asked = getattr(plan, "asked", 0) + 1
    return [(row[0], row[1], row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {sql} -- {plan.asked}").fetchall()]


def per_row_steps(steps: list[tuple[int, int, str]]) -> list[str]:
    """The steps of the view's join loop and of the subqueries it runs for each row (not those run once: a
    MATERIALIZE, a CO-ROUTINE, a list subquery)."""
    top = next(i for i, _, detail in steps if detail == "CO-ROUTINE entity_daily")
    children: dict[int, list[tuple[int, str]]] = {}
    for i, parent, detail in steps:
        children.setdefault(parent, []).append((i, detail))

    def below(i):
        for j, detail in children.get(i, []):
            yield detail
            yield from below(j)

    found = []
    for i, detail in children[top]:
        if detail.startswith(("SEARCH ", "SCAN ")):
            found.append(detail)
        elif detail.startswith("CORRELATED "):
            found += list(below(i))
    return found


def assert_reads_by_index(steps: list[tuple[int, int, str]], arms: int = 4, watchlist_scans=()) -> None:
    """m031's plan (kept for the tests of what it mended): no effective_labels built for the statement; the join
    loop scans only the (story, body) pairs, first (and ``watchlist_scans``: the bodies, a few rows), and each of
    the ``arms`` joins (a person's labels, the predictions; for the stance, the tone) seeks the story's rows by
    index."""
    details = [detail for _, _, detail in steps]
    assert "MATERIALIZE effective_labels" not in details, details
    loop = per_row_steps(steps)
    assert loop[0] == "SCAN m", loop
    assert [step for step in loop if step.startswith("SCAN ") and step not in watchlist_scans] == ["SCAN m"], loop
    reads = [step for step in loop if step.startswith(("SEARCH l ", "SEARCH c ", "SEARCH w "))]
    assert all("(article_id=?" in step and "AUTOMATIC" not in step for step in reads), loop
    # (not every newest label id sought for each row: the newest ids are a list to test, not a key; m031's `+l.id`)
    assert not [step for step in reads if "rowid=?" in step], loop
    assert len([step for step in loop if step.startswith(("SEARCH l ", "SEARCH c ")) and "LEFT-JOIN" in step]) == arms


def children_of(steps: list[tuple[int, int, str]]) -> dict[int, list[tuple[int, str]]]:
    children: dict[int, list[tuple[int, str]]] = {}
    for i, parent, detail in steps:
        children.setdefault(parent, []).append((i, detail))
    return children


def below(children: dict, i: int):
    for j, detail in children.get(i, []):
        yield detail
        yield from below(children, j)


def assert_groups_first(steps: list[tuple[int, int, str]], label_columns: int, watchlist_scans=()) -> None:
    """m039's plan (store.schema.per_group_daily): no effective_labels built for the statement; the (body, day)
    groups (``d``) read the (story, body) pairs from idx_mentions_article_entity and seek each story by id; the
    statement's loop scans the groups only (and ``watchlist_scans``), and each of its ``label_columns`` label
    columns is a subquery over its group's stories that seeks each story's labels and predictions by index."""
    details = [detail for _, _, detail in steps]
    assert "MATERIALIZE effective_labels" not in details, details
    children = children_of(steps)
    groups = next(i for i, parent, detail in steps if parent == 0 and detail == "CO-ROUTINE d")
    inside = list(below(children, groups))
    assert "SCAN mentions USING COVERING INDEX idx_mentions_article_entity" in inside, inside
    assert [step for step in inside if step.startswith("SCAN ") and " mentions " not in step] == ["SCAN m"], inside
    assert "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)" in inside, inside
    top = [detail for _, detail in children[0]]
    scans = [step for step in top if step.startswith("SCAN ") and step not in watchlist_scans]
    assert scans == ["SCAN d"], top
    columns = [i for i, detail in children[0] if detail.startswith("CORRELATED SCALAR SUBQUERY")]
    assert len(columns) == label_columns, top
    for column in columns:
        reads = list(below(children, column))
        assert reads[0] == "SCAN j VIRTUAL TABLE INDEX 1:", reads     # the group's stories
        seeks = [step for step in reads if step.startswith(("SEARCH l ", "SEARCH c ", "SEARCH w ", "SEARCH n "))]
        assert [step for step in reads if step.startswith("SCAN ")] == ["SCAN j VIRTUAL TABLE INDEX 1:"], reads
        assert all("(article_id=?" in step and "AUTOMATIC" not in step and "rowid=?" not in step for step in seeks)
        assert [step for step in seeks if step.startswith("SEARCH l ")] and \
            [step for step in seeks if step.startswith("SEARCH c ")], reads   # both arms


def label_column_count(roles: dict) -> int:
    return len(roles["stance_labels"] if roles["stance"] else ()) + len(roles["tone_labels"] if roles["tone"] else ())


def old_definition(roles: dict, monkeypatch) -> str:
    """entity_daily in the form m015-m030 wrote for ``roles``, reading the current effective_labels (since m032 by
    time): the current definitions without m031's rewriting."""
    with monkeypatch.context() as patch:
        patch.setattr(schema, "per_group_daily", lambda daily, roles, effective_labels: daily)
        return schema.label_view_definitions(roles)["entity_daily"]


def m030_definition(roles: dict, monkeypatch) -> str:
    """entity_daily as m030 wrote it for ``roles`` (by id, without m031's rewriting)."""
    with monkeypatch.context() as patch:
        patch.setattr(schema, "per_body_daily", lambda daily, roles, effective_labels: daily)
        patch.setattr(schema, "per_group_daily", lambda daily, roles, effective_labels: daily)
        return schema.label_views_by_id(roles)["entity_daily"]


def m031_definition(roles: dict, monkeypatch) -> str:
    """entity_daily as m031 and m032 wrote it for ``roles`` (store.schema.per_body_daily, by time)."""
    with monkeypatch.context() as patch:
        patch.setattr(schema, "per_group_daily", schema.per_body_daily)
        return schema.label_view_definitions(roles)["entity_daily"]


def test_the_daily_view_reads_the_stories_labels_by_index_and_the_rated_bodies_once():
    db = migrated()
    steps = plan(db, "SELECT * FROM entity_daily")
    assert_groups_first(steps, label_columns=6)
    # the bodies rated: one list for the statement, in `r` (materialised once), not an EXISTS per group
    details = [detail for _, _, detail in steps]
    children = children_of(steps)
    assert "MATERIALIZE r" in details
    assert not [step for i, detail in children[0] if detail.startswith("CORRELATED")
                for step in below(children, i) if "idx_classifications_task_label" in step or "(task=?)" in step]


def test_the_plan_holds_with_statistics():
    """ANALYZE's statistics (bench/year_scale.py runs PRAGMA optimize) gave another plan before: the same now,
    but that the planner may scan the bodies (three here) rather than index them."""
    db = migrated()
    fill(db)
    db.execute("ANALYZE")
    assert_groups_first(plan(db, "SELECT * FROM entity_daily"), label_columns=6,
                        watchlist_scans=("SCAN r", "SCAN en LEFT-JOIN"))


def test_the_plan_before_m031_scanned_for_every_mention(monkeypatch):
    """What m031 mended (so the tests above can fail): the view as m030 left it."""
    db = migrated()
    db.execute(f"CREATE TEMP VIEW old_daily AS {m030_definition(schema.label_task_roles(db), monkeypatch)}")
    steps = [(i, parent, detail.replace("old_daily", "entity_daily")) for i, parent, detail in
             plan(db, "SELECT * FROM old_daily")]
    with pytest.raises(AssertionError):
        assert_reads_by_index(steps)
    assert "MATERIALIZE effective_labels" in [detail for _, _, detail in steps]
    loop = per_row_steps(steps)
    # for every mention, a scan: on m030's indexes the stance labels of every story ("SCAN st LEFT-JOIN"); on
    # m032's (idx_labels_article_task_time) SQLite orders the loop otherwise, builds an automatic index on the
    # materialised effective labels and scans the labels in the rated check ("SCAN l ...")
    assert [step for step in loop if step.startswith(("SCAN st ", "SCAN l "))], loop
    # the rated check, for every mention (a seek of the body's predictions since m040's
    # idx_classifications_task_target: "(task=? AND target=?)")
    assert [step for step in loop if "(task=?)" in step or "(task=? AND target=?)" in step], loop


def fill(db: Database) -> None:
    db.execute("INSERT INTO sources (id, name) VALUES ('s', 'S'), ('t', 'T')")
    for i, source, duplicate_of, published in ((1, "s", None, "2026-11-29"), (2, "s", None, "2026-11-29"),
                                               (3, "t", None, None), (4, "t", None, "2026-11-28T10:00:00Z"),
                                               (5, "t", 1, "2026-11-29"), (6, "s", None, "2026-11-28")):
        db.execute("INSERT INTO articles (id, url, canonical_url, source_id, title, published_at, first_seen_at, "
                   "last_seen_at, body, content_hash, duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'b', 'h', ?)",
                   [i, f"https://x/{i}", f"https://x/{i}", source, f"Story {i}", published, STAMP, STAMP,
                    duplicate_of])
    db.execute("INSERT INTO entities (id, name, kind) VALUES ('hwfrs', 'HWFRS', 'org'), ('sfrs', 'SFRS', 'org'), "
               "('police', 'Police', 'org')")
    predictions = []
    for i in (1, 2, 3, 4, 5):
        predictions += [(i, "topics", "", "finance"), (i, "stance_governance", "", ("favour", "against")[i % 2]),
                        (i, "tone", "hwfrs", "negative"), (i, "tone", "sfrs", "positive")]
    predictions.append((6, "stance_governance", "", "neutral"))
    db.conn.executemany("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, "
                        "model_version, created_at) VALUES (?, ?, ?, ?, 0.7, 0, 'm1', ?)",
                        [(*row, STAMP) for row in predictions])
    # a body named twice in a story, a body no model rates (police), a body not on the watchlist (ghost)
    db.conn.executemany("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, "
                        "analyser_version) VALUES (?, ?, 'x', 0, 1, 'a')",
                        [(1, "hwfrs"), (1, "hwfrs"), (1, "sfrs"), (2, "hwfrs"), (3, "sfrs"), (3, "police"),
                         (4, "hwfrs"), (4, "police"), (5, "hwfrs"), (6, "sfrs"), (6, "ghost"), (2, "sfrs")])
    labels = [(1, "stance_governance", "", "neutral"),                          # a person's stance replaces the model's
              (2, "stance_governance", "", "neutral"), (2, "stance_governance", "", schema.WITHDRAWN),   # withdrawn
              (3, "tone", "sfrs", "negative"), (3, "tone", "sfrs", "neutral"),  # the newest of two
              (4, "tone", "police", "positive"),                                # rates a body no model rates
              (6, "stance_governance", "", "against"), (6, "stance_governance", "", "favour"),
              (4, "quote_speaker", "0:5", "Someone")]
    db.conn.executemany("INSERT INTO labels (article_id, task, target, label, annotator, created_at) "
                        "VALUES (?, ?, ?, ?, 'ann', ?)", [(*row, STAMP) for row in labels])
    db.conn.commit()


SCHEMES = {
    "shipped": {},
    "no tone": {"tone": None, "tone_labels": ()},
    "no stance": {"stance": None, "stance_labels": ()},
    "neither": {"tone": None, "tone_labels": (), "stance": None, "stance_labels": ()},
    "other labels": {"stance_labels": ("favour", "it's against", "neutral"), "tone_labels": ("negative", "positive")},
    # (m039 writes its columns through str.format: a label may hold braces)
    "braces": {"stance_labels": ("favour", "{against}", "neutral"), "tone_labels": ("negative", "{0}", "positive")},
}


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_the_daily_view_gives_the_rows_it_gave_before_m031(scheme, monkeypatch):
    db = migrated()
    fill(db)
    roles = {**schema.label_task_roles(db), **SCHEMES[scheme]}
    db.execute(f"CREATE TEMP VIEW old_daily AS {old_definition(roles, monkeypatch)}")
    db.execute(f"CREATE TEMP VIEW new_daily AS {schema.label_view_definitions(roles)['entity_daily']}")
    assert_groups_first(plan(db, "SELECT * FROM new_daily"), label_columns=label_column_count(roles))
    new = db.execute("SELECT * FROM new_daily ORDER BY entity_id, day").fetchall()
    assert new == db.execute("SELECT * FROM old_daily ORDER BY entity_id, day").fetchall()
    columns = [row[1] for row in db.execute("PRAGMA table_info(new_daily)").fetchall()]
    assert columns == [row[1] for row in db.execute("PRAGMA table_info(old_daily)").fetchall()]
    rows = {(row[0], row[2]): dict(zip(columns, row)) for row in new}
    # a body not on the watchlist: the rated join keeps it out (and so only where there is a tone task, as before)
    assert (("ghost", "2026-11-28") in rows) == (roles["tone"] is None)
    hwfrs = rows[("hwfrs", "2026-11-29")]
    assert hwfrs["articles"] == 2                         # story 1 (named twice) and 2; 5 is a copy of 1
    if scheme == "shipped":
        # story 1: the person's neutral; story 2: the person's label withdrawn, the model's favour
        assert (hwfrs["stance_favour"], hwfrs["stance_against"], hwfrs["stance_neutral"]) == (1, 0, 1)
        assert hwfrs["tone_negative"] == 2 and hwfrs["tone_rated"] == 1
        police = rows[("police", "2026-11-28")]
        assert police["tone_rated"] == 1 and police["tone_positive"] == 1 and police["tone_negative"] == 0
        assert rows[("police", STAMP[:10])]["tone_positive"] == 0   # story 3: rated, but not in this story
        assert rows[("sfrs", "2026-11-28")]["stance_favour"] == 1   # story 6: the person's newest stance
        assert rows[("sfrs", STAMP[:10])]["tone_neutral"] == 1       # story 3 (undated): the newest tone label


def test_m031_replaces_the_view_of_a_database_m030_left(monkeypatch):
    db = Database(memory=True)
    store.migrations.apply(db, stop_before="m031_entity_daily_per_body")
    # the view as m030's code wrote it (the label views' migrations before m031 now write the current one)
    db.execute("DROP VIEW entity_daily")
    db.execute(f"CREATE VIEW entity_daily AS {m030_definition(schema.label_task_roles(db), monkeypatch)}")
    assert "MATERIALIZE effective_labels" in [detail for _, _, detail in plan(db, "SELECT * FROM entity_daily")]
    store.migrations.apply(db)
    assert_groups_first(plan(db, "SELECT * FROM entity_daily"), label_columns=6)


EARLIER = "2026-11-29T00:00:00Z"


def fill_imported(db: Database) -> None:
    """fill's rows and, after them (higher ids), rows given earlier (an import writes its file's time): since m032
    none of them stands over fill's rows, and a withdrawal takes back only the rows given at or before it."""
    fill(db)
    db.conn.executemany("INSERT INTO labels (article_id, task, target, label, annotator, created_at) "
                        "VALUES (?, ?, ?, ?, 'imported', ?)",
                        [(1, "stance_governance", "", "against", EARLIER),     # story 1 stays the person's neutral
                         (3, "tone", "sfrs", "positive", EARLIER),            # story 3's sfrs stays neutral
                         (6, "stance_governance", "", schema.WITHDRAWN, EARLIER),   # before story 6's labels
                         (4, "tone", "", schema.WITHDRAWN, EARLIER)])          # before story 4's police tone
    db.conn.commit()


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_the_daily_view_counts_the_labels_by_time(scheme, monkeypatch):
    """m031's form after m032 gives the rows entity_daily's plain form gives from m032's effective_labels (the
    newest by created_at, then id; a withdrawal given at or after a row takes it back), not the rows by id."""
    db = migrated()
    fill_imported(db)
    roles = {**schema.label_task_roles(db), **SCHEMES[scheme]}
    db.execute(f"CREATE TEMP VIEW plain_daily AS {old_definition(roles, monkeypatch)}")
    db.execute(f"CREATE TEMP VIEW new_daily AS {schema.label_view_definitions(roles)['entity_daily']}")
    db.execute(f"CREATE TEMP VIEW by_id_daily AS {schema.label_views_by_id(roles)['entity_daily']}")
    assert_groups_first(plan(db, "SELECT * FROM new_daily"), label_columns=label_column_count(roles))
    new = db.execute("SELECT * FROM new_daily ORDER BY entity_id, day").fetchall()
    assert new == db.execute("SELECT * FROM plain_daily ORDER BY entity_id, day").fetchall()
    by_id = db.execute("SELECT * FROM by_id_daily ORDER BY entity_id, day").fetchall()
    assert (new == by_id) == (roles["stance"] is None and roles["tone"] is None)   # the imported rows matter
    columns = [row[1] for row in db.execute("PRAGMA table_info(new_daily)").fetchall()]
    rows = {(row[0], row[2]): dict(zip(columns, row)) for row in new}
    if scheme == "shipped":
        hwfrs = rows[("hwfrs", "2026-11-29")]
        # story 1: the person's neutral (the imported against was given before it); story 2: the model's favour
        assert (hwfrs["stance_favour"], hwfrs["stance_against"], hwfrs["stance_neutral"]) == (1, 0, 1)
        # story 6: the person's newest stance, favour (the imported withdrawal was given before it)
        assert rows[("sfrs", "2026-11-28")]["stance_favour"] == 1
        assert rows[("sfrs", "2026-11-28")]["stance_neutral"] == 0
        assert rows[("sfrs", STAMP[:10])]["tone_neutral"] == 1 and rows[("sfrs", STAMP[:10])]["tone_positive"] == 0
        # story 4's police tone stands (the withdrawal was given before it): police still rated, positive
        police = rows[("police", "2026-11-28")]
        assert police["tone_rated"] == 1 and police["tone_positive"] == 1
        old = {(row[0], row[2]): dict(zip(columns, row)) for row in by_id}
        assert old[("police", "2026-11-28")]["tone_rated"] == 0   # by id, the withdrawal took it back


# Datasette's page of the view runs these four statements (its query, count and the two configured facets)
PAGE_STATEMENTS = {
    "count": "SELECT count(*) FROM {view}",
    "facet body": "SELECT body AS value, count(*) AS count FROM (SELECT * FROM {view}) WHERE body IS NOT NULL "
                  "GROUP BY body ORDER BY count DESC, value LIMIT 31",
    "facet tone_rated": "SELECT tone_rated AS value, count(*) AS count FROM (SELECT * FROM {view}) "
                        "WHERE tone_rated IS NOT NULL GROUP BY tone_rated ORDER BY count DESC, value LIMIT 31",
}


def reads_labels_per_row(steps: list[tuple[int, int, str]]) -> list[str]:
    """The steps reading labels or predictions that run for each row or group (not the rated list ``r``,
    built once a statement)."""
    children = children_of(steps)
    once = {i for i, _, detail in steps if detail in ("MATERIALIZE r", "MATERIALIZE effective_labels")}
    skipped = set()
    for i in once:
        skipped |= {j for j, _, _ in steps if j == i} | set(_descendants(children, i))
    return [detail for i, _, detail in steps if i not in skipped
            and detail.startswith(("SEARCH l ", "SEARCH c ", "SCAN l ", "SCAN c ", "SEARCH st", "SEARCH tn",
                                   "SCAN st", "SCAN tn"))]


def _descendants(children: dict, i: int):
    for j, _ in children.get(i, []):
        yield j
        yield from _descendants(children, j)


@pytest.mark.parametrize("statement", list(PAGE_STATEMENTS))
def test_the_pages_count_and_facets_read_no_label(statement, monkeypatch):
    """m039: Datasette's count and facets of entity_daily (each a statement of its own, each a pass over the view)
    read the (body, day) groups and no label or prediction; m031's view joined every story's labels for each."""
    db = migrated()
    fill(db)
    assert not reads_labels_per_row(plan(db, PAGE_STATEMENTS[statement].format(view="entity_daily")))
    db.execute(f"CREATE TEMP VIEW m031_daily AS {m031_definition(schema.label_task_roles(db), monkeypatch)}")
    assert reads_labels_per_row(plan(db, PAGE_STATEMENTS[statement].format(view="m031_daily")))
    # the same answers
    for view in ("entity_daily", "m031_daily"):
        assert db.execute(PAGE_STATEMENTS[statement].format(view=view)).fetchall() == \
            db.execute(PAGE_STATEMENTS[statement].format(view="entity_daily")).fetchall()


def steps_of(db: Database, sql: str) -> int:
    """SQLite's virtual machine steps for ``sql``: the work done, the same on every run (no timing)."""
    return vm_steps(db.conn, sql)


def test_the_page_reads_the_labels_of_its_own_rows_only(monkeypatch):
    """The page's query (newest days first, its first rows) computes the label columns of the rows it shows, not
    of every group: the groups come newest first, and SQLite tests a row against the full LIMIT before it computes
    its other columns. m031's view built every group's counts for it."""
    db = migrated()
    fill(db)
    stories = [(100 + i, f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}") for i in range(120)]
    db.conn.executemany("INSERT INTO articles (id, url, canonical_url, source_id, title, published_at, first_seen_at, "
                        "last_seen_at, body, content_hash) VALUES (?, ?, ?, 's', 't', ?, ?, ?, 'b', 'h')",
                        [(i, f"https://x/{i}", f"https://x/{i}", day, STAMP, STAMP) for i, day in stories])
    db.conn.executemany("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, analyser_version) "
                        "VALUES (?, ?, 'x', 0, 1, 'a')", [(i, body) for i, _ in stories for body in ("hwfrs", "sfrs")])
    db.conn.executemany("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, "
                        "model_version, created_at) VALUES (?, ?, ?, ?, 0.7, 0, 'm1', ?)",
                        [row for i, _ in stories for row in ((i, "stance_governance", "", "favour", STAMP),
                                                             (i, "tone", "hwfrs", "negative", STAMP))])
    db.conn.commit()
    db.execute(f"CREATE TEMP VIEW m031_daily AS {m031_definition(schema.label_task_roles(db), monkeypatch)}")
    page = "SELECT * FROM {view} ORDER BY day DESC LIMIT 5"
    groups = "SELECT entity_id, body, day, articles FROM {view} ORDER BY day DESC LIMIT 5"
    assert db.execute(page.format(view="entity_daily")).fetchall() == \
        db.execute(page.format(view="m031_daily")).fetchall()
    new_labels = steps_of(db, page.format(view="entity_daily")) - steps_of(db, groups.format(view="entity_daily"))
    full_labels = steps_of(db, "SELECT * FROM entity_daily") - steps_of(db, "SELECT entity_id FROM entity_daily")
    assert 0 < new_labels < full_labels / 10, (new_labels, full_labels)    # 5 rows of about 245
    # m031's: the page and the count as dear as the whole view
    old_page, old_full = steps_of(db, page.format(view="m031_daily")), steps_of(db, "SELECT * FROM m031_daily")
    assert old_page > old_full * 0.9 and steps_of(db, "SELECT count(*) FROM m031_daily") > old_full * 0.9
    assert steps_of(db, page.format(view="entity_daily")) < old_page / 2   # (the groups remain: about 0.4)


def test_m039_replaces_the_view_of_a_database_m037_left_and_adds_the_index(monkeypatch):
    db = Database(memory=True)
    store.migrations.apply(db, stop_before="m039_entity_daily_groups_first")
    # the view as m031/m032's code wrote it (the label views' migrations before m039 now write the current one)
    db.execute("DROP VIEW entity_daily")
    db.execute(f"CREATE VIEW entity_daily AS {m031_definition(schema.label_task_roles(db), monkeypatch)}")
    fill_imported(db)
    before = db.execute("SELECT * FROM entity_daily ORDER BY entity_id, day").fetchall()
    assert "idx_mentions_article_entity" not in [index.name for index in db["mentions"].indexes]
    assert reads_labels_per_row(plan(db, "SELECT count(*) FROM entity_daily"))
    store.migrations.apply(db)
    assert "idx_mentions_article_entity" in [index.name for index in db["mentions"].indexes]
    assert_groups_first(plan(db, "SELECT * FROM entity_daily"), label_columns=6)
    assert not reads_labels_per_row(plan(db, "SELECT count(*) FROM entity_daily"))
    assert db.execute("SELECT * FROM entity_daily ORDER BY entity_id, day").fetchall() == before and len(before) > 5
