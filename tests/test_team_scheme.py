"""Another team's label scheme is configuration: a Devon & Somerset scheme whose stance task is
``stance_closures`` (support / oppose / neutral / none), whose topics task is ``themes`` and whose tone
task is ``tone_towards`` goes through the digest, export, the story page's correction forms and
`cuttings evaluate` with its own names and labels; nothing says "fire governance"."""
from __future__ import annotations

import http.cookiejar
import json
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request

import pytest

from cuttings import report, screenshots, store
from nlp.scheme import load_scheme
from tests.conftest import invoke_cli
from tests.report_fixtures import NOW, article_id, build_sample_db

TEAM_SCHEME = """\
version = 1

[entities]
hwfrs = "Hereford & Worcester Fire and Rescue Service"
sfrs = "Shropshire Fire and Rescue Service"
wm_pcc = "West Mercia Police and Crime Commissioner"

[tasks.themes]
kind = "multi_label"
labels = ["closures", "budget", "incident", "workforce", "legal", "prevention", "inspection", "collaboration", "other"]
exclusive = "other"
uncertain_below = 0.5

[tasks.stance_closures]
kind = "single_label"
target = "Closing or downgrading fire stations in Devon and Somerset, as the service proposes."
short_target = "station closures"
labels = ["support", "oppose", "neutral", "none"]
absent = "none"
uncertain_below = 0.6

[tasks.tone_towards]
kind = "per_entity"
entities = ["hwfrs", "sfrs", "wm_pcc"]
labels = ["positive", "negative", "neutral"]
uncertain_below = 0.6
"""
STANCE_MAP = {"favour": "support", "against": "oppose"}
TOPIC_MAP = {"governance": "closures", "finance": "budget"}


def team_home(tmp_path, monkeypatch, scheme: str = TEAM_SCHEME):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "label_scheme.toml").write_text(scheme, encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    return home


def relabel(db, stance_task: str = "stance_closures", topics_task: str = "themes", tone_task: str = "tone_towards",
            record_kinds: bool = True):
    """The sample database as the team's models and people would have labelled it: its task names and labels,
    and (``record_kinds``) the kinds of its tasks recorded as its models' would be (``label_tasks``)."""
    for table in ("classifications", "labels"):
        for old, new in STANCE_MAP.items():
            db.execute(f"UPDATE {table} SET label = ? WHERE task = 'stance_governance' AND label = ?", [new, old])
        for old, new in TOPIC_MAP.items():
            db.execute(f"UPDATE {table} SET label = ? WHERE task = 'topics' AND label = ?", [new, old])
            db.execute(f"UPDATE {table} SET target = ? WHERE task = 'topics' AND target = ?", [new, old])
        for old, new in (("stance_governance", stance_task), ("topics", topics_task), ("tone", tone_task)):
            db.execute(f"UPDATE {table} SET task = ? WHERE task = ?", [new, old])
    for row in list(db.query("SELECT version, task, card_json FROM models")):
        card = row["card_json"] or ""
        for old, new in {"stance_governance": STANCE_MAP, "topics": TOPIC_MAP}.get(row["task"], {}).items():
            card = card.replace(f'"{old}"', f'"{new}"')
        new_task = {"stance_governance": stance_task, "topics": topics_task, "tone": tone_task}[row["task"]]
        db.execute("UPDATE models SET task = ?, card_json = ? WHERE version = ?", [new_task, card, row["version"]])
    db.conn.commit()
    if record_kinds:
        store.record_label_tasks(db, {topics_task: "multi_label", stance_task: "single_label", tone_task: "per_entity"})


@pytest.fixture()
def team_db(tmp_path, monkeypatch):
    team_home(tmp_path, monkeypatch)
    path = tmp_path / "team.db"
    db = build_sample_db(path)
    relabel(db)
    yield db
    db.close()


def test_the_scheme_names_its_topics_stance_and_tone_tasks_by_kind(tmp_path):
    (tmp_path / "team.toml").write_text(TEAM_SCHEME, encoding="utf-8")
    team = load_scheme(tmp_path / "team.toml")
    stance = team.task_of_kind("single_label")
    assert (team.task_of_kind("multi_label").name, stance.name, team.task_of_kind("per_entity").name) == (
        "themes", "stance_closures", "tone_towards")
    assert stance.heading == "station closures" and stance.counted == ("support", "oppose", "neutral")
    # no `attention` table: every counted label but neutral, said with the heading
    assert stance.attention_labels == {"support": "with stance support on station closures",
                                       "oppose": "with stance oppose on station closures"}
    # without short_target: a short target is the heading, a long one gives the task name in words
    short = load_scheme_text(tmp_path, TEAM_SCHEME.replace('short_target = "station closures"\n', "").replace(
        "Closing or downgrading fire stations in Devon and Somerset, as the service proposes.", "Station closures."))
    assert short.task_of_kind("single_label").heading == "Station closures"
    long = load_scheme_text(tmp_path, TEAM_SCHEME.replace('short_target = "station closures"\n', ""))
    assert long.task_of_kind("single_label").heading == "stance closures"
    shipped = load_scheme().task_of_kind("single_label")
    assert (shipped.name, shipped.heading, shipped.counted) == (
        "stance_governance", "fire governance", ("favour", "neutral", "against"))
    assert list(shipped.attention_labels) == ["against", "favour"]


def load_scheme_text(tmp_path, text: str):
    path = tmp_path / "variant.toml"
    path.write_text(text, encoding="utf-8")
    return load_scheme(path)


@pytest.mark.parametrize("field,value,message", [
    ("shown", '["support", "maybe"]', "shown labels not in its labels: maybe"),
    ("attention", '{ oppose = "" }', "attention must be a table of label"),
    ("attention", '{ against = "against it" }', "attention labels not in its labels: against"),
    ("short_target", '""', "short_target must be a non-empty string"),
])
def test_bad_stance_wording_fields_are_one_line_errors(tmp_path, field, value, message):
    from nlp.scheme import SchemeError
    text = TEAM_SCHEME.replace('short_target = "station closures"\n', "").replace(
        'absent = "none"\n', f'absent = "none"\n{field} = {value}\n')
    with pytest.raises(SchemeError, match=re.escape(message)):
        load_scheme_text(tmp_path, text)
    with pytest.raises(SchemeError, match="only allowed for single_label tasks"):
        load_scheme_text(tmp_path, TEAM_SCHEME.replace('exclusive = "other"\n', 'exclusive = "other"\nshown = ["other"]\n'))


def test_the_digest_counts_badges_and_flags_the_teams_stance(team_db):
    digest = report.build_digest(team_db, now=NOW)
    assert digest["summary"]["stance"] == {"support": 1, "oppose": 1, "neutral": 1}
    assert list(digest["summary"]["stance"]) == ["support", "oppose", "neutral"]  # the scheme's order
    text = report.render_markdown(digest, plain=True)
    assert "Stance on station closures: support 1, oppose 1, neutral 1." in text
    stances = [(item["label"], item["confidence"]) for item in digest["attention"] if item["kind"] == "stance"]
    assert stances == [("support", "confident"), ("oppose", "checked")]  # the scheme's label order
    assert "Stance oppose on station closures (checked): Fire chiefs warn over commissioner's plans" in text
    assert "stance: oppose (checked)" in text and "stance: none" not in text
    warn = next(story for group in digest["groups"] for story in group["stories"]
                if story["article_id"] == article_id(team_db, "warn"))
    assert [topic["label"] for topic in warn["topics"]] == ["closures", "workforce"]
    # the tone_towards task, read as tone
    assert {body: tone["label"] for body, tone in warn["tone"].items()} == {"wm_pcc": "negative", "sfrs": "neutral"}
    chart = digest["charts"]["stance_totals"]
    assert list(chart) == ["support", "oppose", "neutral"] and sum(chart.values()) >= 3
    html = report.render_html(digest)
    for page in (text, report.render_markdown(digest), re.sub(r"<style>.*?</style>", "", html, flags=re.S)):
        # no shipped wording or label (a headline may still say "fire governance")
        assert "on fire governance" not in page and "governance change" not in page and "“governance”" not in page
        assert "favour" not in page and "against" not in page
    assert "Badges: topics; stance on station closures;" in html and 'class="badge oppose' in html
    assert '<span class="badge topic">closures</span>' in html and "stance: support (checked) ✓" in html
    trust = {entry["task"]: entry for entry in digest["trust"]}
    assert [label["label"] for label in trust["stance_closures"]["labels"]] == ["support", "oppose", "neutral"]


def test_a_scheme_that_keeps_the_shipped_task_name_but_not_its_labels_counts_right(tmp_path, monkeypatch):
    scheme = TEAM_SCHEME.replace("[tasks.stance_closures]", "[tasks.stance_governance]")
    team_home(tmp_path, monkeypatch, scheme)
    db = build_sample_db(tmp_path / "renamed.db")
    relabel(db, stance_task="stance_governance")
    digest = report.build_digest(db, now=NOW)
    assert digest["summary"]["stance"] == {"support": 1, "oppose": 1, "neutral": 1}
    assert "the governance change" not in report.render_markdown(digest)
    db.close()


def test_export_filters_by_the_teams_stance_labels(team_db, tmp_path):
    path = team_db.conn.execute("PRAGMA database_list").fetchone()[2]
    out = tmp_path / "oppose.jsonl"
    result = invoke_cli("--db", path, "export", "--stance", "oppose", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {row["stance"] for row in exported} == {"oppose"}  # the column reads the team's task (label_tasks)
    titles = {row["title"] for row in exported}
    expected = {row[0] for row in team_db.execute(
        "SELECT a.title FROM articles a JOIN effective_labels e ON e.article_id = a.id "
        "WHERE a.duplicate_of IS NULL AND e.task = 'stance_closures' AND e.label = 'oppose'")}
    assert titles == expected and "Fire chiefs warn over commissioner's plans" in titles and len(titles) == 2
    result = invoke_cli("--db", path, "export", "--stance", "against", "--out", str(tmp_path / "x.csv"))
    error = result.stderr.decode()
    assert result.returncode == 1 and error.count("\n") == 1
    assert "unknown stance 'against': choose from support, oppose, neutral, none" in error
    assert not (tmp_path / "x.csv").exists()
    result = invoke_cli("--db", path, "export", "--topic", "closures", "--stance", "support", "--format", "jsonl")
    titles = {json.loads(line)["title"] for line in result.stdout.decode().splitlines()}
    supported = {row[0] for row in team_db.execute(
        "SELECT a.title FROM articles a JOIN effective_labels e ON e.article_id = a.id "
        "JOIN effective_labels t ON t.article_id = a.id AND t.task = 'themes' AND t.label = 'closures' "
        "WHERE a.duplicate_of IS NULL AND e.task = 'stance_closures' AND e.label = 'support'")}
    assert result.returncode == 0 and titles == supported and len(titles) == 2


def test_evaluate_takes_the_schemes_task_names(tmp_path, monkeypatch):
    team_home(tmp_path, monkeypatch)
    result = invoke_cli("evaluate", "stance_governance")
    error = result.stderr.decode()
    assert result.returncode == 2 and "'stance_governance' is not one of" in error and "'stance_closures'" in error
    (tmp_path / "table.csv").write_text("id,topics\nx,finance\n", encoding="utf-8")
    # the team's task name is accepted: the run gets as far as reading the corpus it was given
    result = invoke_cli("evaluate", "stance_closures", "--corpus", str(tmp_path / "table.csv"))
    assert result.returncode == 1 and "invalid JSON" in result.stderr.decode()


def _open(url: str, data: bytes | None = None, opener=None) -> tuple[int, str]:
    origin = urllib.parse.urlsplit(url)  # a form posted from the server's own page says so (Origin)
    headers = {"Origin": f"{origin.scheme}://{origin.netloc}"} if data is not None else {}
    try:
        with (opener or urllib.request.build_opener()).open(urllib.request.Request(url, data=data, headers=headers),
                                                            timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", errors="replace")


def test_story_page_forms_use_the_teams_scheme(tmp_path, monkeypatch):
    home = team_home(tmp_path, monkeypatch)
    path = tmp_path / "team.db"
    db = build_sample_db(path)
    relabel(db)
    warn = article_id(db, "warn")
    db.close()
    story, correct = f"/-/cuttings/story/team/{warn}", f"/-/cuttings/correct/team/{warn}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with screenshots.datasette_server(path, corrections=True) as base:
        status, page = _open(base + story, opener=opener)
        assert status == 200 and "Stance on station closures:" in page and "fire governance" not in page
        assert re.search(r'<span class="chip oppose checked">oppose \(checked\)</span>', page)
        assert re.findall(r'<select name="stance">(.*?)</select>', page, re.S)
        options = re.findall(r'<option value="(\w+)"', re.search(r'<select name="stance">(.*?)</select>', page,
                                                                    re.S).group(1))
        assert options == ["support", "oppose", "neutral", "none"]
        assert 'value="closures"' in page and 'value="governance"' not in page
        token = re.search(r'name="csrftoken" value="([^"]+)"', page).group(1)
        with sqlite3.connect(path) as conn:   # as if the team's tasks were recorded long ago
            conn.execute("UPDATE label_tasks SET updated_at = '2000-01-01T00:00:00Z' WHERE name = 'stance_closures'")
        form = {"what": "stance", "stance": "support", "annotator": "team-test", "csrftoken": token}
        status, after = _open(base + correct, urllib.parse.urlencode(form).encode(), opener)
        assert status == 200 and "support (checked)" in after
        with sqlite3.connect(path) as conn:   # a correction records the scheme's kinds, as `cuttings label` does
            assert conn.execute("SELECT kind, updated_at > '2000-01-01T00:00:00Z' FROM label_tasks "
                                "WHERE name = 'stance_closures'").fetchone() == ("single_label", 1)
        # a scheme that cannot be read: the page says so instead of dropping the forms silently
        (home / "label_scheme.toml").write_text("[tasks\n", encoding="utf-8")
        status, page = _open(base + story, opener=opener)
        assert status == 200 and "Label corrections are off:" in page and "invalid TOML" in page
        assert '<select name="stance">' not in page
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT task, target, label FROM labels WHERE annotator = 'team-test'").fetchall() == [
            ("stance_closures", "", "support")]


def test_the_shipped_scheme_reads_as_before(tmp_path):
    db = build_sample_db(tmp_path / "shipped.db")
    digest = report.build_digest(db, now=NOW)
    text = report.render_markdown(digest, plain=True)
    assert "Stance on fire governance: favour 1, neutral 1, against 1." in text
    assert "* Negative tone towards HWFRS: " in text   # the tone task's default attention label, as before
    assert digest["stance"]["task"] == "stance_governance"
    assert report.legend(digest).startswith("Badges: topics; stance on fire governance; tone")
    db.close()


def test_the_views_read_the_teams_tasks_by_kind(team_db):
    warn = article_id(team_db, "warn")
    row = dict(next(team_db.query("SELECT stance, stance_uncertain, topics, tone FROM article_summary "
                                  "WHERE article_id = ?", [warn])))
    assert row["stance"] == "oppose" and row["topics"] == "closures,workforce"
    assert json.loads(row["tone"]) == {"sfrs": "neutral", "wm_pcc": "negative"}
    from cuttings import serve
    critical = {r["title"] for r in team_db.query(serve.CANNED_QUERIES["critical_articles"]["sql"])}
    negative = {r[0] for r in team_db.execute(
        "SELECT a.title FROM articles a JOIN effective_labels e ON e.article_id = a.id AND e.task = 'tone_towards' "
        "WHERE a.duplicate_of IS NULL AND e.label = 'negative'")}
    assert critical == negative and "Fire chiefs warn over commissioner's plans" in critical  # tone read by kind
    daily = {r["entity_id"]: r for r in team_db.query("SELECT * FROM entity_daily WHERE day = '2026-11-23'")}
    assert daily["wm_pcc"]["tone_negative"] >= 1 and daily["wm_pcc"]["tone_rated"] == 1
    # a person's topics replace every predicted topic of the team's multi-label task, as for `topics`
    store.add_correction(team_db, warn, [("themes", "", "budget")], "ana")
    assert [r[0] for r in team_db.execute("SELECT label FROM effective_labels WHERE article_id = ? AND task = 'themes'",
                                          [warn])] == ["budget"]
    store.add_correction(team_db, warn, [("themes", "", "closures")], "ana")
    topics = team_db.execute("SELECT topics FROM article_summary WHERE article_id = ?", [warn]).fetchone()[0]
    assert topics == "budget,closures"
    # the newest task of a kind is the one read: the shipped names again once their models are newer
    store.record_label_tasks(team_db, {"stance_governance": "single_label"}, at="2999-01-01T00:00:00Z")
    assert team_db.execute("SELECT stance FROM article_summary WHERE article_id = ?", [warn]).fetchone()[0] is None


def test_a_models_card_records_its_tasks_kind(tmp_path):
    db = store.connect(tmp_path / "c.db")
    assert dict(db.execute("SELECT name, kind FROM label_tasks").fetchall()) == {
        "topics": "multi_label", "stance_governance": "single_label", "tone": "per_entity"}
    store.record_model(db, {"model_version": "stance_closures-1", "task": "stance_closures", "kind": "single_label",
                            "labels": ["support", "oppose"], "created_at": "2026-12-01T00:00:00Z"}, "m.skops")
    read = db.execute("SELECT name FROM label_tasks WHERE kind = 'single_label' "
                      "ORDER BY updated_at DESC, name LIMIT 1").fetchone()[0]
    assert read == "stance_closures"
    db.close()


def test_a_database_made_before_label_tasks_reads_its_models_kinds_when_upgraded(tmp_path):
    """m013 on a database whose models were trained to another scheme: their cards' kinds are recorded,
    so article_summary.stance reads the team's stance task at once."""
    path = tmp_path / "old.db"
    db = build_sample_db(path)
    relabel(db, record_kinds=False)
    for name in ("entity_daily", "article_summary", "effective_labels"):
        db.execute(f"DROP VIEW {name}")
    db.execute(f"CREATE VIEW effective_labels AS {store.schema._VIEWS['effective_labels']}")
    for name in ("article_summary", "entity_daily"):
        db.execute(f"CREATE VIEW {name} AS {store.schema._VIEWS_V9[name]}")
    db.execute("DROP TABLE label_tasks")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm013_label_tasks'")
    for version, task, kind in (("s-1", "stance_closures", "single_label"), ("t-1", "themes", "multi_label")):
        db.execute("INSERT INTO models (version, task, path, card_json, created_at) VALUES (?, ?, '', ?, ?)",
                   [version, task, json.dumps({"task": task, "kind": kind}), "2026-12-01T00:00:00Z"])
    db.conn.commit()
    warn = article_id(db, "warn")
    assert db.execute("SELECT stance FROM article_summary WHERE article_id = ?", [warn]).fetchone()[0] is None
    db.close()
    db = store.connect(path)
    assert db.execute("SELECT stance, topics FROM article_summary WHERE article_id = ?", [warn]).fetchone() == (
        "oppose", "closures,workforce")
    kinds = dict(db.execute("SELECT name, kind FROM label_tasks").fetchall())
    assert kinds["stance_closures"] == "single_label" and kinds["stance_governance"] == "single_label"
    db.close()


def test_a_home_copy_of_the_scheme_from_before_the_wording_fields_words_the_digest_as_before(tmp_path, monkeypatch):
    from cuttings import paths
    packaged = paths.package_data("label_scheme.toml").read_text(encoding="utf-8")
    old_copy = re.sub(r"(?m)^(short_target|shown|attention) = .*\n", "", packaged)
    assert "short_target" not in old_copy.replace("#   short_target", "").split("[tasks.stance_governance]")[1]
    team_home(tmp_path, monkeypatch, old_copy)
    stance = report.report_tasks(report._label_tasks())["stance"]
    assert (stance.heading, stance.counted) == ("fire governance", ("favour", "neutral", "against"))
    db = build_sample_db(tmp_path / "old-copy.db")
    text = report.render_markdown(report.build_digest(db, now=NOW), plain=True)
    assert "Stance on fire governance: favour 1, neutral 1, against 1." in text
    assert "Stance against on fire governance (checked): Fire chiefs warn over commissioner's plans" in text
    db.close()
    # the same copy with other labels is another team's: no packaged wording
    other = load_scheme_text(tmp_path, old_copy.replace('"favour",   #', '"support",   #'))
    assert other.task_of_kind("single_label").heading == "stance governance"


def test_a_teams_first_labels_make_the_views_read_its_tasks_before_any_model(tmp_path, monkeypatch):
    """A team labels by hand before it has trained anything: the views read its stance task from
    its labels on (label --import records the scheme's kinds, as the labelling screen does)."""
    from cuttings import labelling
    team_home(tmp_path, monkeypatch)
    db = build_sample_db(tmp_path / "team.db")
    db.execute("DELETE FROM models")
    db.conn.commit()
    warn = article_id(db, "warn")
    url = db.execute("SELECT canonical_url FROM articles WHERE id = ?", [warn]).fetchone()[0]
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"url": url, "stance_closures": "oppose", "themes": ["closures"]}) + "\n",
                    encoding="utf-8")
    tasks = labelling.load_label_tasks()
    assert "stance_closures" in tasks
    summary = labelling.import_labels(db, path, tasks, "ana")
    assert summary.labels_added == 2
    row = db.execute("SELECT stance, topics FROM article_summary WHERE article_id = ?", [warn]).fetchone()
    assert tuple(row) == ("oppose", "closures")
    db.close()


def test_with_two_tasks_of_a_kind_the_views_read_the_one_the_digest_reads(tmp_path, monkeypatch):
    """The first single-label task in the scheme is the stance the digest, exports and forms read; the
    views read the same one, not the alphabetically first or the last one labelled or trained."""
    from cuttings import labelling
    scheme = TEAM_SCHEME + ('\n[tasks.accuracy]\nkind = "single_label"\nlabels = ["accurate", "inaccurate"]\n'
                            'uncertain_below = 0.5\n')
    team_home(tmp_path, monkeypatch, scheme)
    db = build_sample_db(tmp_path / "team.db")
    warn = article_id(db, "warn")
    url = db.execute("SELECT canonical_url FROM articles WHERE id = ?", [warn]).fetchone()[0]
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"url": url, "stance_closures": "oppose", "accuracy": "inaccurate"}) + "\n",
                    encoding="utf-8")
    labelling.import_labels(db, path, labelling.load_label_tasks(), "ana")
    assert db.execute("SELECT stance FROM article_summary WHERE article_id = ?", [warn]).fetchone()[0] == "oppose"
    from cuttings.stages import record_models   # as classify records its models, whatever their order
    card = {"model_version": "accuracy-1", "task": "accuracy", "kind": "single_label", "labels": [],
            "created_at": "2999-01-01T00:00:00Z"}
    record_models(db, type("Models", (), {"cards": {"accuracy": card}})())
    assert db.execute("SELECT stance FROM article_summary WHERE article_id = ?", [warn]).fetchone()[0] == "oppose"
    db.close()


CRITICAL_TONE_SCHEME = TEAM_SCHEME.replace(
    'labels = ["positive", "negative", "neutral"]',
    'labels = ["favourable", "critical", "balanced"]\nattention = { critical = "critical" }')
TONE_MAP = {"positive": "favourable", "negative": "critical", "neutral": "balanced"}


def critical_tone_db(tmp_path, monkeypatch):
    """The sample database as a team with tone labels favourable / critical / balanced (CRITICAL_TONE_SCHEME)
    would have it: its task names and labels, and its scheme's tasks recorded as classify, train and labelling
    record them."""
    from cuttings import labelling
    team_home(tmp_path, monkeypatch, CRITICAL_TONE_SCHEME)
    db = build_sample_db(tmp_path / "team.db")
    relabel(db, record_kinds=False)
    for table in ("classifications", "labels"):
        for old, new in TONE_MAP.items():
            db.execute(f"UPDATE {table} SET label = ? WHERE task = 'tone_towards' AND label = ?", [new, old])
    db.conn.commit()
    labelling.record_scheme_tasks(db)
    return db


def test_critical_articles_reads_the_teams_own_critical_tone_label(tmp_path, monkeypatch):
    """A team whose tone labels are favourable / critical / balanced names its critical one in the tone task's
    ``attention`` (as the stance task names its own): critical_articles reads it from label_tasks, for the tone
    task label_roles names, not the shipped label 'negative'."""
    from cuttings import labelling, serve
    db = critical_tone_db(tmp_path, monkeypatch)
    assert json.loads(db.execute("SELECT attention_json FROM label_tasks WHERE name = 'tone_towards'").fetchone()[0]) \
        == ["critical"]

    def titles(sql, *params):
        return {row[0] for row in db.execute(sql, params)}
    tone_critical = titles("SELECT a.title FROM articles a JOIN effective_labels e ON e.article_id = a.id "
                           "AND e.task = 'tone_towards' WHERE a.duplicate_of IS NULL AND e.label = 'critical'")
    stance_attention = titles("SELECT title FROM article_summary WHERE stance IN ('support', 'oppose')")
    critical = {row["title"] for row in db.query(serve.CANNED_QUERIES["critical_articles"]["sql"])}
    assert tone_critical - stance_attention   # stories only their tone puts under "needs attention"
    assert critical == tone_critical | stance_attention
    assert "Fire chiefs warn over commissioner's plans" in critical
    assert not titles("SELECT title FROM article_summary WHERE tone LIKE '%negative%'")   # no shipped label left
    # the digest's "needs attention" flags the same tone, in the scheme's words
    digest = report.build_digest(db, now=NOW)
    flagged = [item for item in digest["attention"] if item["kind"] == "negative_tone"]
    assert flagged and {item["label"] for item in flagged} == {"critical"}
    assert {item["headline"] for item in flagged} <= tone_critical
    assert "Critical tone towards PCC (unsure): Fire chiefs warn over commissioner's plans" in report.render_markdown(
        digest, plain=True)
    assert '<span class="kind">Critical tone towards PCC</span>' in report.render_html(digest)
    # a team tone label that is not named in `attention` is not critical, whatever it is called
    team_home(tmp_path, monkeypatch, CRITICAL_TONE_SCHEME.replace('attention = { critical = "critical" }',
                                                                  'attention = { balanced = "balanced" }'))
    labelling.record_scheme_tasks(db)
    balanced = titles("SELECT a.title FROM articles a JOIN effective_labels e ON e.article_id = a.id "
                      "AND e.task = 'tone_towards' WHERE a.duplicate_of IS NULL AND e.label = 'balanced'")
    assert {row["title"] for row in db.query(serve.CANNED_QUERIES["critical_articles"]["sql"])} == \
        balanced | stance_attention
    db.close()


def test_a_tone_tasks_attention_labels(tmp_path):
    team = load_scheme_text(tmp_path, CRITICAL_TONE_SCHEME).task_of_kind("per_entity")
    assert team.attention_labels == {"critical": "critical"}
    # without `attention`: the label named negative, when the task has one (the shipped scheme's), else none
    assert load_scheme_text(tmp_path, TEAM_SCHEME).task_of_kind("per_entity").attention_labels == {"negative": "negative"}
    assert load_scheme().task_of_kind("per_entity").attention_labels == {"negative": "negative"}
    assert load_scheme_text(tmp_path, CRITICAL_TONE_SCHEME.replace('attention = { critical = "critical" }\n', "")
                            ).task_of_kind("per_entity").attention_labels == {}
    from nlp.scheme import SchemeError
    with pytest.raises(SchemeError, match=re.escape("attention labels not in its labels: negative")):
        load_scheme_text(tmp_path, CRITICAL_TONE_SCHEME.replace("{ critical =", "{ negative ="))
    with pytest.raises(SchemeError, match="attention is only allowed for single_label and per_entity tasks"):
        load_scheme_text(tmp_path, TEAM_SCHEME.replace('exclusive = "other"\n',
                                                       'exclusive = "other"\nattention = { other = "other" }\n'))


def test_the_digests_tone_charts_count_the_teams_own_tone_labels(tmp_path, monkeypatch):
    """A team whose tone labels are favourable / critical / balanced sees them counted in the charts' tone
    mix (HTML bar, its figures and legend; the Markdown line), not zeros under the shipped three."""
    db = critical_tone_db(tmp_path, monkeypatch)
    digest = report.build_digest(db, now=NOW)
    charts = digest["charts"]
    assert charts["tone_labels"] == ["favourable", "critical", "balanced"]
    mixes = {entity: mix for entity, mix in charts["tone"].items() if mix}
    assert mixes and all(list(mix) == ["favourable", "critical", "balanced"] for mix in mixes.values())
    assert sum(sum(mix.values()) for mix in mixes.values()) > 0   # the team's labels are counted, not zeros
    entity, mix = next((entity, mix) for entity, mix in mixes.items() if sum(mix.values()))
    html = report.render_html(digest)
    figures = ", ".join(f"{label} {count}" for label, count in mix.items())
    assert f'<span class="mix">{figures}</span>' in html
    assert "Tone: favourable, critical, balanced from the left of each bar." in html
    assert "green positive" not in html
    assert f"tone {figures}" in report.render_markdown(digest, plain=True)
    db.close()


def test_the_shipped_tone_charts_read_as_before(tmp_path):
    """The shipped scheme's tone mix keeps its order and compact figures (+positive =neutral −negative)."""
    db = build_sample_db(tmp_path / "shipped.db")
    digest = report.build_digest(db, now=NOW)
    assert digest["charts"]["tone_labels"] == ["positive", "neutral", "negative"]
    mix = next(mix for mix in digest["charts"]["tone"].values() if mix and sum(mix.values()))
    html = report.render_html(digest)
    assert f'+{mix["positive"]} ={mix["neutral"]} −{mix["negative"]}' in html
    assert "Tone: green positive, grey neutral, red negative." in html
    db.close()
