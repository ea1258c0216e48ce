"""The label views (effective_labels, article_summary, entity_daily) name the label scheme's tasks as SQL
literals, rewritten whenever ``label_tasks`` changes, and entity_daily's stance and tone columns follow the
scheme's labels: another team's scheme gets its own columns, the shipped scheme keeps its column names,
names with quotes are quoted, a control character is refused in one line, and an older database is migrated."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest

from cuttings import labelling, serve, store
from cuttings.store import schema
from nlp.scheme import SchemeError, load_scheme, view_name_problem
from tests.report_fixtures import article_id, build_sample_db
from tests.test_team_scheme import TEAM_SCHEME, relabel

SHIPPED_DAILY = ["entity_id", "body", "day", "articles", "stance_favour", "stance_against", "stance_neutral",
                 "tone_positive", "tone_negative", "tone_neutral", "tone_rated"]


def columns(db, view: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info([{view}])").fetchall()]


def view_sql(db) -> dict[str, str]:
    return dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view' AND name IN "
                           "('effective_labels', 'article_summary', 'entity_daily')").fetchall())


def scheme_tasks(tmp_path, text: str, name: str = "scheme.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return dict(load_scheme(path).tasks)


def daily_counts(db, task: str, label: str) -> dict:
    """Stories per (entity, day) whose effective label for ``task`` is ``label``, counted from effective_labels."""
    return {(row[0], row[1]): row[2] for row in db.execute(
        "SELECT m.entity_id, substr(coalesce(a.published_at, a.first_seen_at), 1, 10) AS day, count(DISTINCT a.id) "
        "FROM mentions m JOIN articles a ON a.id = m.article_id AND a.duplicate_of IS NULL "
        "JOIN effective_labels e ON e.article_id = a.id AND e.task = ? AND e.label = ? "
        "GROUP BY m.entity_id, day", [task, label])}


def test_the_shipped_scheme_keeps_its_columns_and_the_views_name_its_tasks(tmp_path):
    db = build_sample_db(tmp_path / "shipped.db")
    assert columns(db, "entity_daily") == SHIPPED_DAILY
    labelling.record_scheme_tasks(db, dict(load_scheme().tasks))
    assert columns(db, "entity_daily") == SHIPPED_DAILY
    sql = view_sql(db)
    assert all("label_tasks" not in text for text in sql.values())   # no lookup per row
    assert "e.task = 'stance_governance'" in sql["article_summary"] and "task NOT IN ('topics')" in sql[
        "effective_labels"]
    against = daily_counts(db, "stance_governance", "against")
    rows = {(r["entity_id"], r["day"]): r["stance_against"] for r in db.query("SELECT * FROM entity_daily")}
    assert against and all(rows[key] == count for key, count in against.items())
    assert sum(rows.values()) == sum(against.values())
    db.close()


def test_another_teams_scheme_gets_columns_named_from_its_own_labels(tmp_path):
    db = build_sample_db(tmp_path / "team.db")
    relabel(db, record_kinds=False)
    before = view_sql(db)
    labelling.record_scheme_tasks(db, scheme_tasks(tmp_path, TEAM_SCHEME))
    assert columns(db, "entity_daily") == [
        "entity_id", "body", "day", "articles", "stance_support", "stance_oppose", "stance_neutral",   # not `none`
        "tone_positive", "tone_negative", "tone_neutral", "tone_rated"]
    sql = view_sql(db)
    assert sql != before and "'stance_closures'" in sql["entity_daily"] and "'tone_towards'" in sql["entity_daily"]
    assert "task NOT IN ('themes', 'topics')" in sql["effective_labels"]   # every recorded multi-label task
    for label in ("support", "oppose", "neutral"):
        expected = daily_counts(db, "stance_closures", label)
        got = {(r["entity_id"], r["day"]): r[f"stance_{label}"] for r in db.query("SELECT * FROM entity_daily")}
        assert {key: n for key, n in got.items() if n} == expected
    assert sum(r["stance_oppose"] for r in db.query("SELECT stance_oppose FROM entity_daily")) >= 1
    warn = article_id(db, "warn")
    assert db.execute("SELECT stance, topics FROM article_summary WHERE article_id = ?", [warn]).fetchone() == (
        "oppose", "closures,workforce")
    # "needs attention" is the team's: its scheme has no `attention`, so every counted label but neutral
    assert json.loads(db.execute("SELECT attention_json FROM label_tasks WHERE name = 'stance_closures'")
                      .fetchone()[0]) == ["support", "oppose"]
    critical = list(db.query(serve.CANNED_QUERIES["critical_articles"]["sql"]))
    stances = {row["stance"] for row in critical}
    assert {"support", "oppose"} <= stances
    assert all(row["stance"] in ("support", "oppose") or "negative" in json.loads(row["tone"] or "{}").values()
               for row in critical)
    assert {row["title"] for row in critical} >= {
        r[0] for r in db.execute("SELECT a.title FROM articles a JOIN effective_labels e ON e.article_id = a.id "
                                 "WHERE a.duplicate_of IS NULL AND e.task = 'stance_closures' "
                                 "AND e.label IN ('support', 'oppose')")}
    # Datasette describes the columns this database has, not the shipped ones it has not
    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    described = serve.datasette_metadata(path)["databases"]["team"]["tables"]["entity_daily"]["columns"]
    assert sorted(described) == sorted(columns(db, "entity_daily"))
    assert "stance oppose" in described["stance_oppose"] and "stance_favour" not in described
    db.close()


def test_changing_the_scheme_regenerates_the_views(tmp_path):
    db = build_sample_db(tmp_path / "change.db")
    relabel(db, record_kinds=False)
    labelling.record_scheme_tasks(db, scheme_tasks(tmp_path, TEAM_SCHEME))
    assert "stance_oppose" in columns(db, "entity_daily")
    # the team adds a label: a column appears, in the scheme's order
    mixed = TEAM_SCHEME.replace('labels = ["support", "oppose", "neutral", "none"]',
                                'labels = ["support", "oppose", "mixed", "neutral", "none"]')
    labelling.record_scheme_tasks(db, scheme_tasks(tmp_path, mixed, "mixed.toml"))
    assert columns(db, "entity_daily")[4:8] == ["stance_support", "stance_oppose", "stance_mixed", "stance_neutral"]
    # recording the same scheme again leaves the views as they are (no schema change for readers)
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    labelling.record_scheme_tasks(db, scheme_tasks(tmp_path, mixed, "mixed.toml"))
    assert db.execute("PRAGMA schema_version").fetchone()[0] == version
    # back to the shipped scheme (newer): its names and columns again
    with store.clock("2999-01-01T00:00:00Z"):
        labelling.record_scheme_tasks(db, dict(load_scheme().tasks))
    assert columns(db, "entity_daily") == SHIPPED_DAILY
    warn = article_id(db, "warn")
    assert db.execute("SELECT stance FROM article_summary WHERE article_id = ?", [warn]).fetchone()[0] is None
    db.close()


def test_names_with_quotes_are_quoted(tmp_path):
    scheme = TEAM_SCHEME.replace("[tasks.stance_closures]", "[tasks.\"o'brien's \\\"stance\\\"\"]").replace(
        'labels = ["support", "oppose", "neutral", "none"]', 'labels = ["it\'s fine", "say \\"no\\"", "none"]')
    tasks = scheme_tasks(tmp_path, scheme)
    stance_task = 'o\'brien\'s "stance"'
    assert tasks[stance_task].labels == ("it's fine", 'say "no"', "none")
    db = build_sample_db(tmp_path / "quotes.db")
    warn = article_id(db, "warn")
    db.execute("INSERT INTO classifications (article_id, task, target, label, probability, model_version, "
               "created_at) VALUES (?, ?, '', ?, 0.9, 'm-1', '2026-12-01T00:00:00Z')", [warn, stance_task, 'say "no"'])
    labelling.record_scheme_tasks(db, tasks)
    assert columns(db, "entity_daily")[4:6] == ["stance_it's fine", 'stance_say "no"']
    assert db.execute("SELECT stance FROM article_summary WHERE article_id = ?", [warn]).fetchone()[0] == 'say "no"'
    said = db.execute('SELECT sum("stance_say ""no""") FROM entity_daily').fetchone()[0]
    assert said == len(daily_counts(db, stance_task, 'say "no"')) >= 1
    db.close()


def test_a_control_character_in_a_name_is_refused_in_one_line_and_changes_nothing(tmp_path):
    db = build_sample_db(tmp_path / "bad.db")
    before, tasks_before = view_sql(db), db.execute("SELECT * FROM label_tasks ORDER BY name").fetchall()
    tasks = scheme_tasks(tmp_path, TEAM_SCHEME)   # (the scheme file refuses it too: see below)
    tasks["stance_closures"] = replace(tasks["stance_closures"], labels=("support", "op\x07pose", "neutral", "none"))
    with pytest.raises(store.StoreError) as error:
        labelling.record_scheme_tasks(db, tasks)
    message = str(error.value)
    assert "\n" not in message and "control character" in message and "'op\\x07pose'" in message
    assert view_sql(db) == before
    assert db.execute("SELECT * FROM label_tasks ORDER BY name").fetchall() == tasks_before
    with pytest.raises(store.StoreError, match="second column named 'stance_Yes'"):
        store.record_label_tasks(db, {"s": "single_label"}, labels={"s": {"labels": ["Yes", "yes"]}})
    with pytest.raises(store.StoreError, match="label 'rated' would give entity_daily a second column named "
                                               "'tone_rated'"):   # the view's own column
        store.record_label_tasks(db, {"t": "per_entity"}, labels={"t": {"labels": ["rated", "unrated"]}})
    assert view_sql(db) == before
    db.close()


def test_a_failure_while_rewriting_the_views_leaves_the_old_ones(tmp_path, monkeypatch):
    """The new label_tasks rows and the views are written in one transaction: a failure half-way through
    the views (after effective_labels and article_summary were replaced) leaves the old rows and views."""
    db = build_sample_db(tmp_path / "crash.db")
    before, tasks_before = view_sql(db), db.execute("SELECT * FROM label_tasks ORDER BY name").fetchall()
    real = schema.label_view_definitions

    def broken(roles):
        definitions = real(roles)
        return {**definitions, "entity_daily": definitions["entity_daily"] + " GROUP BY nonsense ("}

    monkeypatch.setattr(schema, "label_view_definitions", broken)
    with pytest.raises(Exception):
        labelling.record_scheme_tasks(db, scheme_tasks(tmp_path, TEAM_SCHEME))
    assert view_sql(db) == before
    assert db.execute("SELECT * FROM label_tasks ORDER BY name").fetchall() == tasks_before
    assert columns(db, "entity_daily") == SHIPPED_DAILY and not db.conn.in_transaction
    db.close()


def pre_m015_db(path, tasks=(("stance_closures", "single_label"), ("themes", "multi_label"))):
    """The sample database relabelled by the team's scheme as it was before m015: m013's views (no
    label_roles), no label columns in label_tasks, ``tasks`` recorded (by their models) with their kinds only."""
    db = build_sample_db(path)
    relabel(db, record_kinds=False)
    for name in reversed(schema.LABEL_VIEWS):
        db.execute(f"DROP VIEW {name}")
    for name in schema._VIEWS_V13:
        db.execute(f"CREATE VIEW {name} AS {schema._VIEWS_V13[name]}")
    for column in ("labels_json", "absent", "attention_json"):
        db.execute(f"ALTER TABLE label_tasks DROP COLUMN {column}")
    db.execute("DELETE FROM _sqlite_migrations WHERE name IN ('m015_label_views_by_name', 'm016_label_roles')")
    db.conn.executemany("INSERT INTO label_tasks (name, kind, updated_at) VALUES (?, ?, '2026-12-01T00:00:00Z')",
                        list(tasks))
    db.conn.commit()
    return db


def test_an_older_database_is_migrated_to_literal_views(tmp_path):
    """A database from before m015 (m013's views reading label_tasks per row, no label columns) whose team recorded its
    tasks: m015 rewrites the views with the recorded names; the shipped rows get the shipped labels; a
    task whose labels were never recorded gets the shipped columns until the scheme is recorded again."""
    path = tmp_path / "old.db"
    db = pre_m015_db(path)
    warn = article_id(db, "warn")
    assert db.execute("SELECT stance FROM article_summary WHERE article_id = ?", [warn]).fetchone()[0] == "oppose"
    db.close()

    db = store.connect(path)
    assert "m015_label_views_by_name" in store.migration_status(db)[0]
    sql = view_sql(db)
    assert all("label_tasks" not in text for text in sql.values()) and "'stance_closures'" in sql["article_summary"]
    assert db.execute("SELECT stance, topics FROM article_summary WHERE article_id = ?", [warn]).fetchone() == (
        "oppose", "closures,workforce")
    shipped = dict(db.execute("SELECT name, labels_json FROM label_tasks WHERE labels_json IS NOT NULL").fetchall())
    assert json.loads(shipped["stance_governance"]) == ["favour", "against", "neutral", "none"]
    assert "stance_closures" not in shipped and columns(db, "entity_daily") == SHIPPED_DAILY
    labelling.record_scheme_tasks(db, scheme_tasks(tmp_path, TEAM_SCHEME))   # the next classify or label run
    assert columns(db, "entity_daily")[4:7] == ["stance_support", "stance_oppose", "stance_neutral"]
    db.close()


def test_doctor_warns_while_the_team_tasks_the_views_read_have_no_labels(tmp_path):
    """A database upgraded by m015 whose team scheme has not been recorded since: `cuttings doctor` names the
    tasks and the command that records the scheme, until it is recorded; a shipped database gets no warning."""
    from cuttings.doctor import doctor_checks
    from tests.conftest import invoke_cli

    def label_checks(path):
        return [c for c in doctor_checks(path, include_config=False) if c.name == "label tasks"]

    build_sample_db(tmp_path / "shipped.db").close()
    assert label_checks(tmp_path / "shipped.db") == []

    path = tmp_path / "old.db"
    pre_m015_db(path, tasks=[("stance_closures", "single_label"), ("tone_towards", "per_entity")]).close()
    store.connect(path).close()   # any command that writes: m015
    [check] = label_checks(path)
    assert check.status == "warning"
    assert "stance_closures (single_label), tone_towards (per_entity)" in check.message
    assert "needs attention" in check.message and "`cuttings classify`" in check.fix
    shown = invoke_cli("--db", str(path), "doctor").stdout.decode()
    assert [line for line in shown.splitlines() if "no labels recorded for stance_closures" in line]

    db = store.connect(path)
    db.execute("UPDATE label_tasks SET labels_json = '[\"support\", \"oppose\", \"neutral\", \"none\"]' "
               "WHERE name = 'stance_closures'")   # only tone's missing: no "needs attention" then
    db.conn.commit()
    db.close()
    [check] = label_checks(path)
    assert "tone_towards (per_entity)" in check.message and "stance_closures" not in check.message
    assert "needs attention" not in check.message

    db = store.connect(path)
    labelling.record_scheme_tasks(db, scheme_tasks(tmp_path, TEAM_SCHEME))   # what classify, train and label do
    db.close()
    assert label_checks(path) == []


@pytest.mark.slow
def test_the_fix_doctor_names_clears_its_warning(tmp_path, trained_models):
    """`cuttings classify`, as the warning says, records the team's scheme (its home folder's): the warning
    goes and entity_daily gets the team's columns."""
    from cuttings.doctor import doctor_checks
    from tests.conftest import invoke_cli
    home = tmp_path / "home"
    home.mkdir()
    (home / "label_scheme.toml").write_text(TEAM_SCHEME, encoding="utf-8")
    path = tmp_path / "old.db"
    pre_m015_db(path).close()
    store.connect(path).close()
    [check] = [c for c in doctor_checks(path, include_config=False) if c.name == "label tasks"]
    assert "stance_closures (single_label)" in check.message and "`cuttings classify`" in check.fix
    # the shipped models are refused for the team's scheme (classify's one line says to train), but the
    # team's scheme is recorded all the same: the views read it, as the digest and exports do
    result = invoke_cli("--db", str(path), "classify", "--models", str(trained_models),
                        env={"CUTTINGS_HOME": str(home)})
    assert result.returncode == 1 and "then run `cuttings train --corpus none`" in result.stderr.decode()
    assert [c for c in doctor_checks(path, include_config=False) if c.name == "label tasks"] == []
    db = store.connect(path)
    assert columns(db, "entity_daily")[4:7] == ["stance_support", "stance_oppose", "stance_neutral"]
    db.close()


def test_without_any_label_task_the_views_read_the_shipped_names(tmp_path):
    db = build_sample_db(tmp_path / "empty.db")
    labelling.record_scheme_tasks(db, scheme_tasks(tmp_path, TEAM_SCHEME))
    db.execute("DELETE FROM label_tasks")
    assert schema.refresh_label_views(db) is True
    db.conn.commit()
    assert columns(db, "entity_daily") == SHIPPED_DAILY
    assert "e.task = 'stance_governance'" in view_sql(db)["article_summary"]
    warn = article_id(db, "warn")
    assert db.execute("SELECT stance FROM article_summary WHERE article_id = ?", [warn]).fetchone()[0] == "against"
    db.close()


def test_label_import_with_a_control_character_in_the_scheme_is_one_line_and_adds_nothing(tmp_path, monkeypatch):
    from tests.conftest import invoke_cli
    from tests.test_team_scheme import team_home
    team_home(tmp_path, monkeypatch, TEAM_SCHEME.replace('"oppose", "neutral"', '"op\\u0007pose", "neutral"'))
    path = tmp_path / "team.db"
    db = build_sample_db(path)
    url = db.execute("SELECT canonical_url FROM articles WHERE id = ?", [article_id(db, "warn")]).fetchone()[0]
    labels_before = db.execute("SELECT count(*) FROM labels").fetchone()[0]
    db.close()
    (tmp_path / "l.jsonl").write_text(json.dumps({"url": url, "stance_closures": "support"}) + "\n", encoding="utf-8")
    result = invoke_cli("--db", str(path), "label", "--import", str(tmp_path / "l.jsonl"))
    error = result.stderr.decode()
    assert result.returncode == 1 and error.count("\n") == 1 and "control character" in error, error
    db = store.connect(path)
    assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == labels_before
    assert columns(db, "entity_daily") == SHIPPED_DAILY
    db.close()


# Names the views cannot hold: the scheme's rule (nlp.scheme.view_name_problem) and the store's
# (schema.label_task_problem, what label_view_definitions raises on) are written twice, as neither package
# imports the other; these cases pin that they agree. SQLite folds ASCII case only.
NAME_CASES = [
    ("s", "single_label", ["Support", "support", "none"], "none"),
    ("s", "single_label", ["Yes", "no", "none"], "none"),
    ("s", "single_label", ["\u00c9", "\u00e9", "none"], "none"),          # É / é: two columns in SQLite
    ("s", "single_label", ["None", "none", "x"], "none"),                 # the absent label has no column
    ("s", "single_label", ["rated", "x", "none"], "none"),                # stance_rated is not tone_rated
    ("s\x1b", "single_label", ["a", "b"], None),
    ("t", "per_entity", ["rated", "x"], None),
    ("t", "per_entity", ["Rated", "x"], None),
    ("t", "per_entity", ["RATED\u0131", "x"], None),
    ("t", "per_entity", ["pos", "neg\x7f"], None),
    ("t", "per_entity", ["Pos", "pos"], None),
    ("m", "multi_label", ["Pos", "pos", "rated"], None),                  # topics give no columns
    ("m", "multi_label", ["a\tb", "c"], None),
]


@pytest.mark.parametrize("name,kind,labels,absent", NAME_CASES)
def test_the_scheme_and_the_store_refuse_the_same_names(name, kind, labels, absent):
    scheme_says = view_name_problem(name, kind, labels, absent)
    store_says = schema.label_task_problem(name, kind, labels, absent)
    assert (scheme_says is None) == (store_says is None), (scheme_says, store_says)
    roles = {"multi_label": [name if kind == "multi_label" else "topics"],
             "topics": name if kind == "multi_label" else "topics",
             "stance": name if kind == "single_label" else "stance_governance",
             "tone": name if kind == "per_entity" else "tone",
             "stance_labels": tuple(label for label in labels if label != absent) if kind == "single_label"
             else ("favour",),
             "tone_labels": tuple(labels) if kind == "per_entity" else ("positive",)}
    try:
        definitions = schema.label_view_definitions(roles)
    except schema.LabelNameError:
        definitions = None
    if kind != "multi_label":   # (the views name no topic label: only the task name matters there)
        assert (definitions is None) == (store_says is not None)


def test_the_scheme_file_refuses_names_the_views_cannot_hold_in_one_line(tmp_path):
    cases = {'"positive", "negative", "neutral", "rated"]': ("tone_towards", "'rated'", "'tone_rated'"),
             '"positive", "negative", "neutral", "Rated"]': ("tone_towards", "'Rated'", "'tone_rated'"),
             '"positive", "negative", "neutral", "Positive"]': ("tone_towards", "'Positive'", "'tone_positive'"),
             '"positive", "negative", "neu\\u0001tral"]': ("tone_towards", "'neu\\x01tral'", "control character")}
    for new, (task, label, why) in cases.items():
        path = tmp_path / "scheme.toml"
        path.write_text(TEAM_SCHEME.replace('"positive", "negative", "neutral"]', new), encoding="utf-8")
        with pytest.raises(SchemeError) as error:
            load_scheme(path)
        message = str(error.value)
        assert "\n" not in message and str(path) in message and f"[tasks.{task}]" in message, message
        assert label in message and why in message, message
    stance = tmp_path / "stance.toml"
    stance.write_text(TEAM_SCHEME.replace('["support", "oppose", "neutral", "none"]', '["Support", "support", "none"]'),
                      encoding="utf-8")
    with pytest.raises(SchemeError, match=r"\[tasks.stance_closures\] label 'support' .* named 'stance_Support'"):
        load_scheme(stance)
    accented = tmp_path / "accented.toml"   # not the same column in SQLite: accepted, and the views take them
    accented.write_text(TEAM_SCHEME.replace('["support", "oppose", "neutral", "none"]', '["\u00c9", "\u00e9", "none"]'),
                        encoding="utf-8")
    db = build_sample_db(tmp_path / "accented.db")
    labelling.record_scheme_tasks(db, dict(load_scheme(accented).tasks))
    assert columns(db, "entity_daily")[4:6] == ["stance_\u00c9", "stance_\u00e9"]
    db.close()


def test_doctor_reports_a_scheme_the_views_cannot_hold(tmp_path):
    from cuttings.doctor import check_scheme
    path = tmp_path / "scheme.toml"
    path.write_text(TEAM_SCHEME.replace('"positive", "negative", "neutral"]', '"positive", "negative", "neutral", '
                                        '"rated"]'), encoding="utf-8")
    check = check_scheme(path, tmp_path / "no-watchlist.toml")
    assert check.status == "error" and "'rated'" in check.message and "tone_rated" in check.message


class Models:
    """What ``stages.record_models`` reads of a classifier: its model cards (no files)."""
    models_dir = None

    def __init__(self, *tasks):
        self.cards = {task: {"task": task, "kind": kind, "model_version": f"{task}-1", "labels": ["a", "b"],
                             "created_at": "2026-12-01T00:00:00Z"} for task, kind in tasks}


def test_classify_carries_on_when_the_scheme_or_a_model_names_what_the_views_cannot_hold(tmp_path, monkeypatch,
                                                                                         caplog):
    """record_models (the start of the classify stage): a scheme refused when read falls back to the models'
    own task kinds; a name the store refuses leaves the views as they were with one warning: no error, so the
    night's articles are still classified."""
    from cuttings import stages
    from tests.test_team_scheme import team_home
    team_home(tmp_path, monkeypatch, TEAM_SCHEME.replace('"positive", "negative", "neutral"]',
                                                         '"positive", "negative", "neutral", "rated"]'))
    db = build_sample_db(tmp_path / "night.db")
    stages.record_models(db, Models(("stance_closures", "single_label")))
    assert "'stance_closures'" in view_sql(db)["article_summary"]   # the models' own kinds were recorded
    before, tasks_before = view_sql(db), db.execute("SELECT * FROM label_tasks ORDER BY name").fetchall()
    with caplog.at_level("WARNING", logger="cuttings.stages"):
        stages.record_models(db, Models(("stance\x07x", "single_label")))
    [warning] = [record.getMessage() for record in caplog.records if record.name == "cuttings.stages"]
    assert warning.startswith("label views kept as they were:") and "control character" in warning
    assert "\n" not in warning
    assert view_sql(db) == before
    assert db.execute("SELECT * FROM label_tasks ORDER BY name").fetchall() == tasks_before
    assert db.execute("SELECT count(*) FROM models WHERE version = 'stance\x07x-1'").fetchone()[0] == 1
    db.close()


def test_a_stored_task_name_the_views_cannot_hold_does_not_stop_m015_and_doctor_warns(tmp_path):
    """A label_tasks row recorded before names were checked, with a control character (a database from before
    m015): the migration succeeds, that kind reads the shipped task (documented), every command works, and
    doctor names the row."""
    from cuttings.doctor import doctor_checks
    from tests.conftest import invoke_cli
    path = tmp_path / "old.db"
    pre_m015_db(path, tasks=[("stance\x07x", "single_label"), ("themes", "multi_label")]).close()
    result = invoke_cli("--db", str(path), "label", "--export", str(tmp_path / "x.jsonl"))
    assert result.returncode == 0, result.stderr.decode()
    db = store.connect(path)
    assert "m015_label_views_by_name" in store.migration_status(db)[0]
    sql = view_sql(db)
    assert "e.task = 'stance_governance'" in sql["article_summary"] and "'themes'" in sql["effective_labels"]
    assert "\x07" not in "".join(sql.values()) and columns(db, "entity_daily") == SHIPPED_DAILY
    db.close()
    [check] = [c for c in doctor_checks(path, include_config=False) if c.name == "label tasks"]
    assert check.status == "warning" and "'stance\\x07x'" in check.message and "control character" in check.message
    assert "shipped scheme's task" in check.message


def test_a_migration_that_refuses_what_it_finds_is_one_line_and_leaves_the_database(tmp_path, monkeypatch):
    """A migration raising ValueError (or StoreError): `connect` says so in one line, never a traceback, and
    the migration is not recorded as applied."""
    path = tmp_path / "old.db"
    pre_m015_db(path).close()

    def refuse(roles):
        raise schema.LabelNameError("label scheme label 'x' cannot be used:\nsecond line")

    monkeypatch.setattr(schema, "label_view_definitions", refuse)
    with pytest.raises(store.StoreError) as error:
        store.connect(path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message and "label 'x' cannot be used: second line" in message
    monkeypatch.undo()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM _sqlite_migrations WHERE name = 'm015_label_views_by_name'"
                        ).fetchone()[0] == 0
    assert "labels_json" not in [row[1] for row in conn.execute("PRAGMA table_info(label_tasks)")]
    conn.close()
    db = store.connect(path)   # and, the cause gone, it upgrades
    assert "m015_label_views_by_name" in store.migration_status(db)[0]
    db.close()


def critical_rows(db) -> list[tuple]:
    return [tuple(row) for row in db.execute(serve.CANNED_QUERIES["critical_articles"]["sql"]).fetchall()]


def expected_critical(db, stance_task: str) -> list[tuple]:
    """What critical_articles should list when the views read ``stance_task``: article_summary's stories whose
    stance is one of that task's recorded attention labels, or with a negative tone, newest first."""
    [attention] = db.execute("SELECT attention_json FROM label_tasks WHERE name = ?", [stance_task]).fetchone()
    labels = json.loads(attention or "[]")
    rows = db.execute("SELECT article_id, published_at, outlet, title, url, stance, stance_uncertain, tone, "
                      "tone_uncertain FROM article_summary "
                      "ORDER BY coalesce(published_at, first_seen_at) DESC, article_id DESC").fetchall()
    return [tuple(row) for row in rows
            if row[5] in labels or "negative" in json.loads(row[7] or "{}").values()]


# A newest stance row the views cannot hold, written as an old database could hold it (before the store and
# the scheme refused such names): a control character in the name, or two labels whose entity_daily columns
# SQLite cannot tell apart. Its attention labels differ from the shipped task's, so a query that reads them
# lists other stories than the views' stance says.
UNHOLDABLE_STANCE_ROWS = {
    "control character": ("stance\x07x", ["favour", "against", "neutral", "none"], "none", ["neutral"]),
    "ASCII case": ("stance_case", ["Neutral", "neutral", "favour", "none"], "none", ["neutral"]),
}


@pytest.mark.parametrize("row", UNHOLDABLE_STANCE_ROWS.values(), ids=list(UNHOLDABLE_STANCE_ROWS))
def test_critical_articles_reads_the_stance_task_the_views_read_when_the_newest_cannot_be_held(tmp_path, row):
    from cuttings.doctor import doctor_checks
    path = tmp_path / "old.db"
    build_sample_db(path).close()
    name, labels, absent, attention = row
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO label_tasks (name, kind, updated_at, labels_json, absent, attention_json) "
                 "VALUES (?, 'single_label', '2026-12-05T00:00:00Z', ?, ?, ?)",
                 [name, json.dumps(labels), absent, json.dumps(attention)])
    conn.commit()
    conn.close()
    db = store.connect(path)
    schema.refresh_label_views(db)   # what the next record of the scheme's tasks does: the row is passed over
    db.conn.commit()
    assert schema.label_task_roles(db)["stance"] == "stance_governance"
    assert "e.task = 'stance_governance'" in view_sql(db)["article_summary"]
    got = critical_rows(db)
    assert got == expected_critical(db, "stance_governance")
    assert {"against", "favour"} <= {r[5] for r in got} and "neutral" not in {r[5] for r in got
                                                                               if "negative" not in (r[7] or "")}
    db.close()
    [check] = [c for c in doctor_checks(path, include_config=False) if c.name == "label tasks"]
    assert check.status == "warning" and repr(name) in check.message and "shipped scheme's task" in check.message
    assert "'stance_governance'" in check.message and "needs attention" in check.message
