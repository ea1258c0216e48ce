"""A team's label scheme without a tone (per-entity) task, without a topics (multi-label) task, or with one task
alone (audit, session 20), as s19 made a scheme without a stance task work: once the scheme is recorded
(``record_scheme_tasks``: `cuttings label`, `train`, `classify`, a correction) the label views read no tone / no
topics (a marker row in ``label_tasks``, as ``__no_stance_task__``), not the rows migration m013 seeded:
entity_daily has no ``tone_<label>`` / ``tone_rated`` columns, article_summary's ``tone`` / ``topics`` (and their
``*_uncertain``) are NULL, the Datasette metadata, the digest, the story page and the exports promise none of them.
The shipped scheme's views are byte-identical (their SQL hashed below, as generated at b00a7b1)."""
from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import re
import sqlite3

import pytest

from cuttings import delivery, labelling, paths, report, serve, store
from cuttings.doctor import check_label_tasks
from cuttings.labelling import load_label_tasks, record_scheme_tasks
from nlp.scheme import SchemeError, load_scheme
from tests.conftest import invoke_cli
from tests.report_fixtures import NOW, build_sample_db

PACKAGED = paths.package_data("label_scheme.toml").read_text(encoding="utf-8")
_HEAD, _, _REST = PACKAGED.partition("[tasks.topics]")
TOPICS = "[tasks.topics]" + _REST.partition("[tasks.stance_governance]")[0]
STANCE = "[tasks.stance_governance]" + _REST.partition("[tasks.stance_governance]")[2].partition("[tasks.tone]")[0]
TONE = "[tasks.tone]" + _REST.partition("[tasks.tone]")[2]
# The shipped scheme's tasks, one or two left out: what a team's own copy (`cuttings init`) looks like after it
# deleted the tables it does not want. The sample database keeps the shipped predictions of every task: the views
# must not read those of a task the scheme does not have.
SCHEMES = {"no_tone": _HEAD + TOPICS + STANCE, "no_topics": _HEAD + STANCE + TONE, "topics_only": _HEAD + TOPICS,
           "stance_only": _HEAD + STANCE, "tone_only": _HEAD + TONE}
STANCE_COLUMNS = ["stance_favour", "stance_against", "stance_neutral"]
TONE_COLUMNS = ["tone_positive", "tone_negative", "tone_neutral", "tone_rated"]
FIXED = ["entity_id", "body", "day", "articles"]
ENTITY_DAILY = {"no_tone": FIXED + STANCE_COLUMNS, "no_topics": FIXED + STANCE_COLUMNS + TONE_COLUMNS,
                "topics_only": FIXED, "stance_only": FIXED + STANCE_COLUMNS, "tone_only": FIXED + TONE_COLUMNS}
ROLES = {"no_tone": [("stance", "stance_governance"), ("tone", None), ("topics", "topics")],
         "no_topics": [("stance", "stance_governance"), ("tone", "tone"), ("topics", None)],
         "topics_only": [("stance", None), ("tone", None), ("topics", "topics")],
         "stance_only": [("stance", "stance_governance"), ("tone", None), ("topics", None)],
         "tone_only": [("stance", None), ("tone", "tone"), ("topics", None)]}
DESCRIPTION = {"no_tone": "with quotes, topics and stance.", "no_topics": "with quotes, stance and tone.",
               "topics_only": "with quotes and topics.", "stance_only": "with quotes and stance.",
               "tone_only": "with quotes and tone."}
HAS = {"no_tone": {"topics", "stance"}, "no_topics": {"stance", "tone"}, "topics_only": {"topics"},
       "stance_only": {"stance"}, "tone_only": {"tone"}}


def _columns(conn, view: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({view})").fetchall()]


def _home(tmp_path, monkeypatch, text: str):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "label_scheme.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    return home


@pytest.fixture(params=list(SCHEMES))
def shaped(request, tmp_path, monkeypatch):
    """The sample database (shipped predictions and labels of all three tasks) with the shape's scheme the
    user's, recorded as `cuttings label` and `cuttings classify` record it."""
    shape = request.param
    _home(tmp_path, monkeypatch, SCHEMES[shape])
    path = tmp_path / "team.db"
    db = build_sample_db(path)
    record_scheme_tasks(db)
    yield shape, db, path
    db.close()


def test_the_views_read_no_tone_or_no_topics(shaped, tmp_path):
    shape, db, path = shaped
    with sqlite3.connect(path) as conn:
        assert _columns(conn, "entity_daily") == ENTITY_DAILY[shape]
        assert conn.execute("SELECT sum(articles) FROM entity_daily").fetchone()[0] > 0   # still counts stories
        shipped = build_sample_db(tmp_path / "shipped.db")
        shipped_columns = _columns(shipped.conn, "article_summary")
        shipped.close()
        assert _columns(conn, "article_summary") == shipped_columns   # kept: exports and canned queries keep them
        counts = dict(zip(("stories", "topics", "topics_uncertain", "stance", "tone", "tone_uncertain"),
                          conn.execute("SELECT count(*), count(topics), count(topics_uncertain), count(stance), "
                                       "count(tone), count(tone_uncertain) FROM article_summary").fetchone()))
        assert counts["stories"] > 0
        assert (counts["tone"] > 0, counts["tone_uncertain"] > 0) == (("tone" in HAS[shape]),) * 2, counts
        assert (counts["topics"] > 0) == ("topics" in HAS[shape]), counts
        if "topics" not in HAS[shape]:
            assert counts["topics_uncertain"] == 0
        assert (counts["stance"] > 0) == ("stance" in HAS[shape]), counts
        assert conn.execute("SELECT role, task FROM label_roles ORDER BY role").fetchall() == ROLES[shape]
    assert check_label_tasks(db.conn) == []   # doctor: nothing missing, no marker taken for a task


def test_a_team_that_adds_the_task_later_gets_its_columns_back(tmp_path, monkeypatch):
    home = _home(tmp_path, monkeypatch, SCHEMES["topics_only"])
    db = build_sample_db(tmp_path / "team.db")
    record_scheme_tasks(db)
    assert _columns(db.conn, "entity_daily") == FIXED
    (home / "label_scheme.toml").write_text(PACKAGED, encoding="utf-8")
    with store.clock("2099-01-01T00:00:00Z"):   # recorded after the scheme with topics alone
        record_scheme_tasks(db)
    assert _columns(db.conn, "entity_daily") == FIXED + STANCE_COLUMNS + TONE_COLUMNS
    assert db.execute("SELECT count(tone), count(stance) FROM article_summary").fetchone() != (0, 0)
    db.close()


@pytest.mark.parametrize("name,kind", [("__no_tone_task__", "per_entity"), ("__no_topics_task__", "multi_label"),
                                       ("__no_stance_task__", "single_label")])
def test_the_reserved_names_name_no_task(tmp_path, name, kind):
    db = store.connect(tmp_path / "c.db")
    before = db.execute("SELECT * FROM label_tasks ORDER BY name").fetchall()
    with pytest.raises(store.StoreError, match=f"'{name}' is reserved"):
        store.record_label_tasks(db, {name: kind})
    assert db.execute("SELECT * FROM label_tasks ORDER BY name").fetchall() == before
    db.close()
    scheme = tmp_path / "scheme.toml"
    scheme.write_text(PACKAGED.replace("[tasks.tone]", f"[tasks.{name}]") if kind == "per_entity" else
                      PACKAGED.replace("[tasks.topics]", f"[tasks.{name}]") if kind == "multi_label" else
                      PACKAGED.replace("[tasks.stance_governance]", f"[tasks.{name}]"), encoding="utf-8")
    with pytest.raises(SchemeError, match=f"{name!r} is reserved"):
        load_scheme(scheme)


def test_the_scheme_and_the_store_reserve_the_same_names():
    from nlp.scheme import NO_TASK_NAMES
    assert sorted(NO_TASK_NAMES) == sorted(store.schema.NO_TASK.values())


# The label views' SQL for these schemes as b00a7b1 generated it (sha256 of "name\nsql" per view, in name order):
# the shipped scheme, a team's with all three tasks renamed, and s19's without stance; since m030 (s20-i) with
# article_summary reading each story's own effective labels (the same rows: tests/test_summary_plan.py; b00a7b1's
# hashes were 0e75c673..., d31b65b4..., 67d38309...), since m031 (s21-a) with entity_daily reading each (story,
# body) once and the labels by index (the same rows: tests/test_entity_daily_plan.py; m030's hashes were
# 7d5734ff..., 4f030705..., a4d9b49f...). Since m032 (s21-b) the label that stands is the newest by time:
# VIEW_HASHES_M032 are m032's, and the views by id (schema.label_views_by_id) still hash to m031's, so the only
# change is m032's. Since m039 (s22-b) entity_daily reads its (body, day) groups first (schema.per_group_daily,
# the same rows: tests/test_entity_daily_plan.py): VIEW_HASHES_M039 are m039's, and with m031's per-body form in its
# place the views still hash to m032's, so the only change is m039's.
VIEW_HASHES_M031 = {"shipped": "fae7f649ca46893d28dc5b4be5cca03e2338bc46d27c5c3a2289f78f46bbafa5",
                    "team": "4d2336d4836a8f7a13ecfee10f42fac19dde629bf28e145acd9ee6caa2a5c432",
                    "no_stance": "96f9fe91b4b6dfb53d7a6d1d27c9c618f3de2196ff67cf0fe6a62940ceb4aadb"}
VIEW_HASHES_M032 = {"shipped": "9495709d957036155edc9b06a17c9068431ef2a1a2d3c83204fb43ed510ad3d8",
                    "team": "5b3aadce6bc3e30836cd41cc6abf040d3aa2e2c038267104495b280dc166c881",
                    "no_stance": "ccb99b3ce9d280bbb649d28a9fca7003733d8f0dd47a36890b932080e7b42299"}
# Since m041 (s23-a) article_summary reads a story's stored label columns when it has a row
# (schema.stored_article_labels, the same rows: tests/test_article_labels_stored.py): VIEW_HASHES are m041's, and
# the label views as label_view_definitions gives them (each column worked out) still hash to m039's.
VIEW_HASHES_M039 = {"shipped": "06c85bc0756d8c169506d85f9d945bdf95d26a1abe9ee16ec0cd8dc30fd16db6",
                    "team": "c23c346dfa3a1885981e199b7d501c5168bf1b14a1c1dc780b4db093867222c6",
                    "no_stance": "6bffc1cf5198f145478483afda7492b571d904281b68ee36d507f7bd17b11801"}
VIEW_HASHES = {"shipped": "f391e237cc851113ce0bb9aa5bf58ac87c3503fbcfcd3899742c7bb0a83242f0",
               "team": "b50df119ba182acd47a375c8cc455808b5b5e4d5856c5c25f98fe9126562bdda",
               "no_stance": "9eb4c696b470b3154729302d68d0dede5bd4d2455b074a552cfac95f637f2a93"}


def test_the_shipped_and_three_task_schemes_views_are_byte_identical(tmp_path, monkeypatch):
    from tests.test_scheme_without_stance import NO_STANCE_SCHEME
    from tests.test_team_scheme import TEAM_SCHEME
    for name, text in (("shipped", None), ("team", TEAM_SCHEME), ("no_stance", NO_STANCE_SCHEME)):
        if text is None:
            tasks = dict(load_scheme().tasks)
        else:
            (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
            tasks = dict(load_scheme(tmp_path / f"{name}.toml").tasks)
        db = store.connect(tmp_path / f"{name}.db")
        record_scheme_tasks(db, tasks)
        views = [(view, sql) for view, sql in db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name").fetchall()
            if view in store.schema.LABEL_VIEWS]
        by_id = store.schema.label_views_by_id(store.schema.label_task_roles(db))
        with monkeypatch.context() as patch:   # entity_daily in m031's form, as m032 wrote it
            patch.setattr(store.schema, "per_group_daily", store.schema.per_body_daily)
            m032 = store.schema.label_view_definitions(store.schema.label_task_roles(db))
        m039 = store.schema.label_view_definitions(store.schema.label_task_roles(db))
        db.close()
        assert len(views) == 4
        text = "\n".join(f"{view}\n{sql}" for view, sql in views)
        assert hashlib.sha256(text.encode()).hexdigest() == VIEW_HASHES[name], name
        text = "\n".join(f"{view}\nCREATE VIEW {view} AS {m039[view]}".rstrip() for view, _ in views)
        assert hashlib.sha256(text.encode()).hexdigest() == VIEW_HASHES_M039[name], name
        text = "\n".join(f"{view}\nCREATE VIEW {view} AS {m032[view]}".rstrip() for view, _ in views)
        assert hashlib.sha256(text.encode()).hexdigest() == VIEW_HASHES_M032[name], name
        text = "\n".join(f"{view}\nCREATE VIEW {view} AS {by_id[view]}".rstrip() for view, _ in views)
        assert hashlib.sha256(text.encode()).hexdigest() == VIEW_HASHES_M031[name], name


def test_the_datasette_metadata_promises_only_the_schemes_tasks(shaped):
    shape, _db, path = shaped
    metadata = serve.datasette_metadata(path)
    assert metadata["description"].endswith(f"{DESCRIPTION[shape]} Human labels win over predictions.")
    tables = metadata["databases"]["team"]["tables"]
    daily = tables["entity_daily"]
    assert sorted(daily["columns"]) == sorted(ENTITY_DAILY[shape])
    assert set(daily["facets"]) <= set(ENTITY_DAILY[shape])   # a facet on a missing column breaks the table page
    summary = tables["article_summary"]
    for role, columns in (("tone", ("tone", "tone_uncertain")), ("topics", ("topics", "topics_uncertain")),
                          ("stance", ("stance", "stance_uncertain"))):
        if role in HAS[shape]:
            assert not summary["columns"][role].startswith("NULL")
            continue
        assert f"has no {role} task" in summary["description"] or f"no {role} (" in summary["description"]
        for column in columns:
            assert summary["columns"][column].startswith(f"NULL: the label scheme has no {role}"), column
        assert role not in summary["columns"]["human_corrected"].split("(")[0]
    if "tone" not in HAS[shape]:   # says there is none, promises none
        assert "one `tone_<label>` column per" not in daily["description"]
        assert "so there is no `tone_<label>`" in daily["description"] or "`tone_<label>` or `tone_rated`" in \
            daily["description"]
    queries = metadata["databases"]["team"]["queries"]
    with sqlite3.connect(path) as conn:   # the canned queries still run
        for name in ("critical_articles", "entity_coverage", "model_quality"):
            sql = queries[name]["sql"]
            params = {"entity": "hwfrs", "start": "2000-01-01", "end": "2100-01-01"}
            conn.execute(sql, {key: value for key, value in params.items() if f":{key}" in sql}).fetchall()
    if "tone" not in HAS[shape]:
        assert "tone` is NULL" in queries["entity_coverage"]["description"] or \
            "no tone" in queries["entity_coverage"]["description"]


def _pages(digest: dict) -> dict[str, str]:
    html = re.sub(r"<style>.*?</style>", "", report.render_html(digest), flags=re.S)
    email_html, email_text, _shown = report.render_email(digest, max_kb=0)
    visible = {"html": html, "email html": email_html}
    pages = {name: re.sub(r"<[^>]+>", " ", re.sub(r"<style[^>]*>.*?</style>", "", page, flags=re.S))
             for name, page in visible.items()}   # the words a reader sees
    return {**pages, "markdown": report.render_markdown(digest), "text": report.render_markdown(digest, plain=True),
            "email text": email_text, "webhook": json.dumps(delivery.webhook_payload(digest))}


def test_the_digest_speaks_only_of_the_schemes_tasks(shaped):
    shape, db, _path = shaped
    digest = report.build_digest(db, now=NOW)
    pages = _pages(digest)
    for name, page in pages.items():
        if "tone" not in HAS[shape]:
            # the sample's headlines and bodies never say "tone": every one here would be the digest's own words
            assert not re.search(r"\btone\b", page, flags=re.I), (name, [line for line in page.splitlines()
                                                                        if re.search(r"\btone\b", line, re.I)])
            assert "not rated" not in page, name
        if "stance" not in HAS[shape]:
            assert "stance" not in page.lower(), name
    html = report.render_html(digest)
    legend = report.legend(digest)
    assert legend.startswith("Badges: topics") == ("topics" in HAS[shape]), legend
    assert ('class="badge topic"' in html) == ("topics" in HAS[shape])   # no topic badge, not even the example
    example = report.legend_example(digest)
    assert (example["topic"] is None) == ("topics" not in HAS[shape])
    assert (example["tone"] is None) == ("tone" not in HAS[shape])
    if "tone" not in HAS[shape]:
        assert digest["tone_attention"] == [] and "tone" not in legend
        assert report.nothing_needs_attention(digest).startswith("Nothing needs attention: no stance, spike" if
                                                                 "stance" in HAS[shape] else
                                                                 "Nothing needs attention: no spike")
        assert all(", tone" not in figures for _name, figures in report.chart_figures(digest))
    text = pages["text"]
    if "topics" not in HAS[shape]:
        # a story's badges are its stance and tone alone (the sample's A49 crash is the shipped topic "incident")
        assert "[incident" not in text and ", incident" not in text


def test_the_shipped_digest_keeps_its_topics_and_tone(tmp_path, monkeypatch):
    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path))
    db = build_sample_db(tmp_path / "shipped.db")
    digest = report.build_digest(db, now=NOW)
    db.close()
    assert report.legend(digest).startswith("Badges: topics; stance on fire governance; tone towards")
    assert report.legend_example(digest) == {"topic": "governance", "tone": "negative", "stance": "against"}
    text = report.render_markdown(digest, plain=True)
    assert ", tone positive " in text and "tone not rated" in text   # a body no tone model rates says so
    assert "Tone towards it" in report.render_html(digest)


def test_the_export_keeps_its_columns_empty_and_refuses_a_topic_filter_without_topics(shaped, tmp_path):
    shape, _db, path = shaped
    out = tmp_path / "team.csv"
    result = invoke_cli("--db", str(path), "export", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {"topics", "stance", "tone", "tone_uncertain", "topics_uncertain"} <= set(rows[0])
    if "tone" not in HAS[shape]:
        assert {row["tone"] for row in rows} == {""} and {row["tone_uncertain"] for row in rows} == {""}
    result = invoke_cli("--db", str(path), "export", "--format", "jsonl")
    exported = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert exported
    for role, columns in (("tone", ("tone", "tone_uncertain")), ("topics", ("topics", "topics_uncertain"))):
        if role not in HAS[shape]:   # null, as the stance of a scheme without one: not an empty list or object
            assert {json.dumps([row[column] for row in exported]) for column in columns} == \
                {json.dumps([None] * len(exported))}, role
        else:
            assert any(row[role] for row in exported)
    result = invoke_cli("--db", str(path), "export", "--topic", "finance", "--out", str(tmp_path / "finance.csv"))
    if "topics" in HAS[shape]:
        assert result.returncode == 0, result.stderr.decode()
    else:
        error = result.stderr.decode()
        assert result.returncode == 1 and error.count("\n") == 1, error
        assert "the label scheme has no topics (multi_label) task" in error
        assert not (tmp_path / "finance.csv").exists()


def _story_page(path, article_id: int) -> str:
    from datasette.app import Datasette
    from datasette.plugins import pm

    from cuttings import browse
    metadata = serve.datasette_metadata(path, corrections=True)

    async def get():
        ds = Datasette([str(path)], metadata=metadata, template_dir=str(serve.TEMPLATES_DIR))
        return await ds.client.get(f"/-/cuttings/story/{path.stem}/{article_id}")

    pm.register(browse, name="cuttings-browse-in-process")
    try:
        page = asyncio.run(get())
    finally:
        pm.unregister(name="cuttings-browse-in-process")
    assert page.status_code == 200
    return page.text


def test_the_story_page_shows_only_the_schemes_tasks(shaped):
    from tests.report_fixtures import article_id
    shape, db, path = shaped
    page = _story_page(path, article_id(db, "defends"))
    assert ("<p>Topics:" in page) == ("topics" in HAS[shape])
    assert ("<p>Stance on" in page) == ("stance" in HAS[shape])
    assert ("<p>Tone:" in page) == ("tone" in HAS[shape])
    if "tone" not in HAS[shape]:
        assert "not rated" not in page   # it said "HWFRS: not rated" of every body
    assert ('name="what" value="topics"' in page) == ("topics" in HAS[shape])   # the forms, as before


def test_the_story_page_of_a_scheme_without_stance_says_nothing_of_stance(tmp_path, monkeypatch):
    from tests.report_fixtures import article_id
    from tests.test_scheme_without_stance import NO_STANCE_SCHEME
    _home(tmp_path, monkeypatch, NO_STANCE_SCHEME)
    db = build_sample_db(tmp_path / "team.db")
    record_scheme_tasks(db)
    warn = article_id(db, "warn")
    db.close()
    page = _story_page(tmp_path / "team.db", warn)
    assert "Stance on" not in page and "<p>Topics:" in page and "<p>Tone:" in page


@pytest.mark.parametrize("shape", ["no_tone", "no_topics"])
def test_a_teams_first_labels_by_file_or_on_the_screen_record_the_scheme(tmp_path, monkeypatch, shape):
    """`cuttings label --import` (a team's first labels, before any model) and the labelling screen (even
    quitting at once) record the scheme: the views stop reading the task it does not have."""
    _home(tmp_path, monkeypatch, SCHEMES[shape])
    path = tmp_path / "team.db"
    db = build_sample_db(path)
    url = db.execute("SELECT canonical_url FROM articles WHERE duplicate_of IS NULL ORDER BY id").fetchone()[0]
    db.close()
    with sqlite3.connect(path) as conn:
        assert _columns(conn, "entity_daily") == FIXED + STANCE_COLUMNS + TONE_COLUMNS   # not recorded yet
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"url": url, "stance_governance": "none"}) + "\n", encoding="utf-8")
    result = invoke_cli("--db", str(path), "label", "--import", str(labels), "--annotator", "me")
    assert result.returncode == 0, result.stderr.decode()
    with sqlite3.connect(path) as conn:
        assert _columns(conn, "entity_daily") == ENTITY_DAILY[shape]
        assert conn.execute("SELECT role, task FROM label_roles ORDER BY role").fetchall() == ROLES[shape]
    # the screen, on a database that has not recorded the scheme: it asks only the scheme's questions
    import io

    from rich.console import Console
    screen = tmp_path / "screen.db"
    build_sample_db(screen).close()
    db = store.connect(screen)
    output = io.StringIO()
    keys = iter("q")
    summary = labelling.run_session(db, labelling.select_tasks(load_label_tasks(), "all"), "ana",
                                    read_key=lambda: next(keys), console=Console(file=output, width=100))
    assert summary.shown == 1
    assert [row[1] for row in db.execute("PRAGMA table_info(entity_daily)")] == ENTITY_DAILY[shape]
    db.close()
    missing = "tone" if shape == "no_tone" else "topics"
    assert not re.search(rf"\b{missing}\b", output.getvalue()), output.getvalue()


# ----------------------------------------------------------------------------------------------------------
# End to end, with real models trained on a small team corpus (slow: trains two models per scheme)
# ----------------------------------------------------------------------------------------------------------

def _team_corpus(path, drop: list[str]) -> int:
    from nlp.corpus import load_corpus
    records = [{key: value for key, value in record.items() if key not in drop} for record in load_corpus()[::3]]
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return len(records)


@pytest.mark.slow
@pytest.mark.parametrize("shape,drop", [("no_tone", ["tone"]), ("no_topics", ["topics"])])
def test_a_team_without_tone_or_topics_trains_classifies_and_reads_its_digest(tmp_path, monkeypatch, shape, drop):
    home = _home(tmp_path, monkeypatch, SCHEMES[shape])
    _team_corpus(home / "mine.jsonl", drop)
    models = home / "models"
    path = tmp_path / "team.db"
    result = invoke_cli("--db", str(path), "train", "--models", str(models), "--no-slices", "--folds", "2",
                        "--corpus", str(home / "mine.jsonl"))
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    scheme_tasks = list(load_label_tasks())
    assert sorted(p.stem for p in models.glob("*.skops")) == sorted(scheme_tasks)
    # the team's database: the sample's stories, none classified yet (no model, label or prediction of the shipped scheme)
    db = build_sample_db(path)
    for table in ("classifications", "labels", "models"):
        db.execute(f"DELETE FROM {table}")
    db.conn.commit()
    db.close()
    for args in (["analyse"], ["classify", "--models", str(models)]):
        result = invoke_cli("--db", str(path), *args)
        assert result.returncode == 0, result.stderr.decode()[-2000:]
    with sqlite3.connect(path) as conn:
        assert _columns(conn, "entity_daily") == ENTITY_DAILY[shape]
        assert conn.execute("SELECT role, task FROM label_roles ORDER BY role").fetchall() == ROLES[shape]
        assert {row[0] for row in conn.execute("SELECT DISTINCT task FROM classifications")} == set(scheme_tasks)
        counts = conn.execute("SELECT count(stance), count(tone), count(topics) FROM article_summary").fetchone()
        assert counts[0] > 0 and (counts[1] > 0) == (shape != "no_tone") and (counts[2] > 0) == (shape != "no_topics")
        assert check_label_tasks(conn) == []
    out = tmp_path / "reports"
    result = invoke_cli("--db", str(path), "report", "--since", "2026-11-20", "--format", "text", "--out", str(out),
                        "--no-record")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    text = next(out.glob("*.txt")).read_text(encoding="utf-8")
    if shape == "no_tone":
        assert not re.search(r"\btone\b", text) and "not rated" not in text, text
    else:
        assert "Badges: topics" not in text and "Badges: stance on fire governance; tone towards" in text
        assert "How far to trust the labels:\n* Stance" in text
    result = invoke_cli("--db", str(path), "export", "--format", "jsonl")
    exported = [json.loads(line) for line in result.stdout.decode().splitlines()]
    column = "tone" if shape == "no_tone" else "topics"
    assert exported and {json.dumps(row[column]) for row in exported} == {"null"}
    result = invoke_cli("evaluate", "--data", str(home / "mine.jsonl"), "--models", str(models), "--json")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert set(json.loads(result.stdout)) == set(scheme_tasks)
    (tmp_path / "story.txt").write_text("Fire chief praised\nHWFRS crews rescued a family.\n", encoding="utf-8")
    result = invoke_cli("analyse-text", "--models", str(models), str(tmp_path / "story.txt"))
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert set(json.loads(result.stdout)) == {"entities", "quotes", *scheme_tasks}
