"""`cuttings label`: uncertainty sampling, the key-driven labelling loop, JSONL export/import."""
from __future__ import annotations

import io
import json
import os
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from cuttings import labelling, store
from cuttings.cli_label import label
from nlp.corpus import load_corpus
from nlp.scheme import SchemeError, load_scheme

REPO = Path(__file__).resolve().parent.parent
TASKS = labelling.load_label_tasks()
NOW = "2026-11-20T08:00:00Z"

# (key, title, body, source, published_at, duplicate_of key, mentions [(entity, surface)],
#  predictions [(task, target, label, probability, uncertain)])
ARTICLES = [
    ("confident", "PCC welcomes fire governance decision",
     "Police and Crime Commissioner John Campion said he was pleased with the outcome.\n\nHe said HWFRS would benefit.\n\n"
     "A third paragraph that the lead leaves out.",
     "worcester-news", "2026-11-18T09:00:00Z", None,
     [("wm_pcc", "John Campion"), ("hwfrs", "HWFRS")],
     [("topics", "", "governance", 0.91, 0), ("stance_governance", "", "favour", 0.88, 0),
      ("tone", "wm_pcc", "positive", 0.8, 0), ("tone", "hwfrs", "neutral", 0.7, 0)]),
    ("flagged", "[bold]Fire[/bold] authority [red]budget row",
     "Councillors on the fire authority argued over the precept.\n\nShropshire Fire and Rescue Service was mentioned.",
     "shropshire-star", "2026-11-19", None,
     [("sfrs", "Shropshire Fire and Rescue Service")],
     [("topics", "", "finance", 0.74, 0), ("stance_governance", "", "against", 0.45, 1),
      ("tone", "sfrs", "negative", 0.66, 0)]),
    ("middling", "Crews tackle barn fire near Ledbury",
     "Firefighters from HWFRS spent the night at the scene.",
     "hereford-times", "2026-11-17", None,
     [("hwfrs", "HWFRS")],
     [("topics", "", "incident", 0.83, 0), ("stance_governance", "", "none", 0.55, 0),
      ("tone", "hwfrs", "positive", 0.62, 0)]),
    ("copy", "PCC welcomes fire governance decision (syndicated)",
     "Police and Crime Commissioner John Campion said he was pleased with the outcome.",
     "malvern-gazette", "2026-11-18", "confident",
     [("wm_pcc", "John Campion")],
     [("topics", "", "governance", 0.3, 1), ("stance_governance", "", "favour", 0.2, 1)]),
    ("unclassified", "Smoke alarm campaign launched",
     "Safety officers are visiting homes across the county.", "worcester-news", None, None, [], []),
]


def make_db(path: Path, order: list[str] | None = None) -> dict[str, int]:
    """A cuttings database holding ARTICLES (in ``order``); returns {key: article id}."""
    db = store.connect(path)
    ids: dict[str, int] = {}
    with db.atomic():
        for source_id, name in [("worcester-news", "Worcester News"), ("shropshire-star", "Shropshire Star"),
                                ("hereford-times", "Hereford Times"), ("malvern-gazette", "Malvern Gazette")]:
            db.execute("INSERT INTO sources (id, name) VALUES (?, ?)", [source_id, name])
        for entity_id in ("hwfrs", "sfrs", "wm_pcc"):
            db.execute("INSERT INTO entities (id, name, kind) VALUES (?, ?, 'organisation')", [entity_id, entity_id])
        by_key = {a[0]: a for a in ARTICLES}
        for key in order or [a[0] for a in ARTICLES]:
            _, title, body, source_id, published_at, duplicate_of, mentions, predictions = by_key[key]
            url = f"https://news.example/{key}"
            cursor = db.execute(
                "INSERT INTO articles (url, canonical_url, source_id, title, body, published_at, first_seen_at, "
                "last_seen_at, content_hash, duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [url + "?ref=rss", url, source_id, title, body, published_at, NOW, NOW,
                 store.content_hash(title, body), ids.get(duplicate_of)])
            ids[key] = cursor.lastrowid
            offset = 0
            for entity_id, surface in mentions:
                offset = body.find(surface)
                db.execute("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, "
                           "analyser_version) VALUES (?, ?, ?, ?, ?, 'test')",
                           [ids[key], entity_id, surface, offset, offset + len(surface)])
            for task, target, label_, probability, uncertain in predictions:
                db.execute("INSERT INTO classifications (article_id, task, target, label, probability, uncertain, "
                           "model_version, created_at) VALUES (?, ?, ?, ?, ?, ?, 'model-1', ?)",
                           [ids[key], task, target, label_, probability, uncertain, NOW])
    db.conn.close()
    return ids


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "cuttings.db"
    make_db(path)
    return path


@pytest.fixture
def db(db_path):
    database = store.connect(db_path)
    yield database
    database.conn.close()


def ids_of(db) -> dict[str, int]:
    return {row[0].rsplit("/", 1)[1]: row[1] for row in db.execute("SELECT canonical_url, id FROM articles")}


def scripted(*keys: str):
    """A read_key that returns ``keys`` in turn and fails the test if asked for more."""
    pending = list(keys)

    def read_key() -> str:
        assert pending, "the session asked for more keys than the test scripted"
        key = pending.pop(0)
        if isinstance(key, BaseException):
            raise key
        return key
    read_key.pending = pending
    return read_key


def session(db, task: str, *keys, limit=None, annotator="ana"):
    output = io.StringIO()
    read_key = scripted(*keys)
    summary = labelling.run_session(db, labelling.select_tasks(TASKS, task), annotator, read_key=read_key,
                                    console=Console(file=output, width=100), limit=limit)
    assert read_key.pending == [], "the session ended before using every scripted key"
    return summary, output.getvalue()


def label_rows(db, article_id: int) -> set[tuple]:
    return {tuple(r) for r in db.execute("SELECT task, target, label, annotator FROM labels WHERE article_id = ?",
                                         [article_id])}


def effective(db, article_id: int, task: str) -> list[tuple]:
    return [tuple(r) for r in db.execute(
        "SELECT target, label, human FROM effective_labels WHERE article_id = ? AND task = ? ORDER BY target, label",
        [article_id, task])]


# ---------------------------------------------------------------------------------------------
# choosing articles
# ---------------------------------------------------------------------------------------------

def test_least_certain_first_stories_only(db):
    ids = ids_of(db)
    order = [c.article_id for c in labelling.candidates(db, labelling.select_tasks(TASKS, "stance_governance"))]
    # flagged uncertain, then 0.55, then 0.88, then never classified; the syndicated copy never.
    assert order == [ids["flagged"], ids["middling"], ids["confident"], ids["unclassified"]]
    # all tasks: the lowest best-probability over every pending (task, target) decides.
    everything = labelling.candidates(db, labelling.select_tasks(TASKS, "all"))
    assert [c.article_id for c in everything] == [ids["flagged"], ids["middling"], ids["confident"],
                                                  ids["unclassified"]]
    assert everything[1].confidence == pytest.approx(0.55) and everything[2].confidence == pytest.approx(0.7)
    assert [c.article_id for c in labelling.candidates(db, labelling.select_tasks(TASKS, "topics"), limit=2)] == [
        ids["flagged"], ids["middling"]]


def test_articles_with_a_human_label_leave_the_queue(db):
    ids = ids_of(db)
    labelling.save_labels(db, ids["flagged"], [("stance_governance", "", "neutral")], "bo")
    stance_queue = [c.article_id for c in labelling.candidates(db, labelling.select_tasks(TASKS, "stance_governance"))]
    assert ids["flagged"] not in stance_queue and stance_queue[0] == ids["middling"]
    # Still pending for topics, and now ranked by its topic and tone predictions only (0.66, not uncertain).
    topics_queue = labelling.candidates(db, labelling.select_tasks(TASKS, "all"))
    flagged = next(c for c in topics_queue if c.article_id == ids["flagged"])
    assert not flagged.uncertain and flagged.confidence == pytest.approx(0.66)
    # Tone applies only to articles mentioning (or predicted for) a tone entity.
    tone_queue = [c.article_id for c in labelling.candidates(db, labelling.select_tasks(TASKS, "tone"))]
    assert ids["unclassified"] not in tone_queue


# ---------------------------------------------------------------------------------------------
# the key-driven loop
# ---------------------------------------------------------------------------------------------

def test_accept_stores_predictions_and_human_labels_win(db):
    ids = ids_of(db)
    summary, output = session(db, "all", "a", "q")
    flagged = ids["flagged"]
    assert summary.accepted == 1 and summary.labels_written == 3
    assert label_rows(db, flagged) == {("topics", "", "finance", "ana"), ("stance_governance", "", "against", "ana"),
                                       ("tone", "sfrs", "negative", "ana")}
    assert effective(db, flagged, "stance_governance") == [("", "against", 1)]
    assert effective(db, flagged, "tone") == [("sfrs", "negative", 1)]
    # the other articles are untouched and still show predictions
    assert effective(db, ids["middling"], "stance_governance") == [("", "none", 0)]
    assert "1 of 4" in output


def test_correct_by_number_keys(db):
    ids = ids_of(db)
    # flagged: topics predicted [finance]: toggle finance (3) off, governance (1) on, legal (4) on, Enter;
    # stance: 3 = neutral; tone sfrs: 1 = positive. Then quit on the next article.
    summary, output = session(db, "all", "c", "3", "1", "4", "\r", "3", "1", "q")
    flagged = ids["flagged"]
    assert summary.corrected == 1
    assert "selected: finance;" in output and "selected: governance, legal;" in output
    assert label_rows(db, flagged) == {
        ("topics", "", "governance", "ana"), ("topics", "", "legal", "ana"),
        ("topics", "finance", labelling.REJECTED, "ana"),
        ("stance_governance", "", "neutral", "ana"), ("tone", "sfrs", "positive", "ana")}
    assert effective(db, flagged, "topics") == [("", "governance", 1), ("", "legal", 1)]
    assert effective(db, flagged, "stance_governance") == [("", "neutral", 1)]
    assert effective(db, flagged, "tone") == [("sfrs", "positive", 1)]


def test_correct_enter_keeps_prediction_and_exclusive_topic_stands_alone(db):
    ids = ids_of(db)
    # stance only on the flagged article: Enter keeps "against"
    session(db, "stance_governance", "c", "\r", "q")
    assert label_rows(db, ids["flagged"]) == {("stance_governance", "", "against", "ana")}
    # topics on the next article (middling, predicted incident): 9 = other replaces incident
    session(db, "topics", "s", "c", "9", "\r", "q")
    assert effective(db, ids["middling"], "topics") == [("", "other", 1)]


def test_skip_escape_and_quit_write_nothing(db):
    summary, output = session(db, "stance_governance", "s", "c", "\x1b", "x", "?", "q")
    assert summary.skipped == 1 and summary.accepted == summary.corrected == 0
    assert summary.remaining == 3
    assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == 0
    assert "correction abandoned" in output and "unknown key 'x'" in output and "abandon the correction" in output


def test_accept_needs_a_prediction(db):
    ids = ids_of(db)
    # limit to the never-classified article by labelling the others first
    for key in ("flagged", "middling", "confident"):
        labelling.save_labels(db, ids[key], [("stance_governance", "", "none")], "bo")
    summary, output = session(db, "stance_governance", "a", "c", "4")
    assert "no prediction for stance_governance" in output
    assert summary.corrected == 1
    assert label_rows(db, ids["unclassified"]) == {("stance_governance", "", "none", "ana")}


def test_ctrl_c_ends_the_session_keeping_answers(db):
    ids = ids_of(db)
    summary, _ = session(db, "stance_governance", "a", KeyboardInterrupt())
    assert summary.accepted == 1 and summary.remaining == 3
    assert label_rows(db, ids["flagged"]) == {("stance_governance", "", "against", "ana")}


def test_crash_keeps_answers_already_given(db_path):
    db = store.connect(db_path)
    ids = ids_of(db)
    with pytest.raises(RuntimeError):
        session(db, "stance_governance", "a", "c", "2", RuntimeError("terminal went away"))
    db.conn.close()
    fresh = store.connect(db_path)
    assert label_rows(fresh, ids["flagged"]) == {("stance_governance", "", "against", "ana")}
    assert label_rows(fresh, ids["middling"]) == {("stance_governance", "", "against", "ana")}
    assert fresh.execute("SELECT count(*) FROM labels").fetchone()[0] == 2


def test_crawled_text_is_printed_not_interpreted(db):
    _, output = session(db, "stance_governance", "q")
    assert "[bold]Fire[/bold] authority [red]budget row" in output
    assert "Shropshire Star" in output and "2026-11-19" in output
    assert "sfrs: Shropshire Fire and Rescue Service" in output
    assert "against 0.45" in output and "uncertain" in output


# ---------------------------------------------------------------------------------------------
# precedents: how the most alike labelled stories were labelled
# ---------------------------------------------------------------------------------------------

def test_precedents_are_the_most_alike_labelled_corpus_stories_with_their_labels(db):
    from nlp.corpus import load_corpus
    record = next(r for r in load_corpus() if r["stance_governance"] == "against" and r["tone"])
    tasks = list(TASKS.values())
    precedents = labelling.Precedents.load(db, tasks)
    found = precedents.nearest(record["title"], record["body"])
    assert found[0].source == f"corpus {record['id']}" and found[0].similarity > 0.99
    assert found[0].labels == labelling.label_summary(record, tasks)
    assert f"stance_governance: {record['stance_governance']}" in found[0].labels
    assert 1 <= len(found) <= labelling.PRECEDENTS_SHOWN
    assert all(p.similarity >= labelling.PRECEDENT_MIN_SIMILARITY for p in found)
    assert [p.similarity for p in found] == sorted((p.similarity for p in found), reverse=True)
    # only the tasks being labelled are summarised
    stance_only = labelling.Precedents.load(db, [TASKS["stance_governance"]]).nearest(record["title"], record["body"])
    assert stance_only[0].labels == f"stance_governance: {record['stance_governance']}"
    # nothing alike enough: nothing shown
    assert precedents.nearest("Zzzx qqqv", "Xyzzy plugh.") == []


def test_human_labels_become_precedents_shown_as_text_not_markup(db):
    ids = ids_of(db)
    session(db, "all", "a", "q")  # "flagged" (least certain first) accepted: finance, against, sfrs negative
    precedents = labelling.Precedents.load(db, list(TASKS.values()), corpus_dir=REPO / "no-corpus-here")
    flagged = db.execute("SELECT title, body FROM articles WHERE id = ?", [ids["flagged"]]).fetchone()
    found = precedents.nearest(*flagged)
    assert [(p.source, p.labels) for p in found] == [
        (f"article {ids['flagged']}", "topics: finance · stance_governance: against · tone: sfrs negative")]
    assert precedents.nearest(*flagged, exclude=f"article {ids['flagged']}") == []  # never itself
    # the card of an alike unlabelled story carries the labelled one as its precedent
    db.execute("UPDATE articles SET title = ?, body = ? WHERE id = ?", [*flagged, ids["middling"]])
    card = labelling.load_card(db, ids["middling"], list(TASKS.values()), precedents)
    assert card.precedents == found
    output = io.StringIO()
    Console(file=output, width=200).print(labelling.render_card(card))
    assert "labelled before, the most alike stories:" in output.getvalue()
    assert "[bold]Fire[/bold] authority [red]budget row" in output.getvalue()
    assert "stance_governance: against" in output.getvalue()


def test_labels_given_in_a_session_become_precedents_at_once(db, monkeypatch):
    ids = ids_of(db)
    tasks = list(TASKS.values())
    precedents = labelling.Precedents.load(db, tasks, corpus_dir=REPO / "no-corpus-here")
    assert precedents.entries == []
    labelling.save_labels(db, ids["flagged"], [("stance_governance", "", "against")], "ana")
    precedents.add_articles(db, [ids["flagged"]])
    assert [entry[0::2] for entry in precedents.entries] == [(f"article {ids['flagged']}", "stance_governance: against")]
    labelling.save_labels(db, ids["flagged"], [("stance_governance", "", "neutral")], "ana")
    precedents.add_articles(db, [ids["flagged"]])  # labelled again: replaced, not added twice
    assert [entry[0::2] for entry in precedents.entries] == [(f"article {ids['flagged']}", "stance_governance: neutral")]
    assert precedents.matrix.shape[0] == 1
    precedents.add([], replacing=[f"article {ids['flagged']}"])  # its labels for these tasks gone: it leaves
    assert precedents.entries == [] and precedents.nearest("Fire authority budget row", "The precept.") == []
    added = []
    monkeypatch.setattr(labelling.Precedents, "add_articles", lambda self, _db, article_ids=None: added.extend(article_ids or []))
    session(db, "all", "a", "c", "3", "1", "4", "\r", "3", "q")  # one accepted, one corrected
    assert len(added) == 2 and ids["flagged"] in added


def test_corpus_records_that_do_not_fit_the_scheme_are_left_out_of_the_precedents(db, tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "articles").mkdir(parents=True)
    for record_id in ("x-001", "x-002"):
        (corpus / "articles" / f"{record_id}.txt").write_text(f"Headline {record_id}\nA body.\n", encoding="utf-8")
    unfit = {"id": "x-001", "topics": ["not-a-topic"], "stance_governance": "none", "tone": {}}
    fit = {"id": "x-002", "topics": ["finance"], "stance_governance": "none", "tone": {}}
    (corpus / "labels.jsonl").write_text(json.dumps(unfit) + "\n", encoding="utf-8")
    precedents = labelling.Precedents.load(db, list(TASKS.values()), corpus_dir=corpus)
    assert precedents is not None and precedents.entries == []
    # one record that does not fit (a topic the team dropped) leaves the others
    (corpus / "labels.jsonl").write_text(json.dumps(unfit) + "\n" + json.dumps(fit) + "\n", encoding="utf-8")
    fitting = labelling.Precedents.load(db, list(TASKS.values()), corpus_dir=corpus)
    assert [entry[0] for entry in fitting.entries] == ["corpus x-002"]
    # training still refuses the whole file, naming the record
    with pytest.raises(SchemeError, match="x-001"):
        load_corpus(corpus, load_scheme())
    # a corpus file that is not text: the database's labels only, no traceback
    (corpus / "labels.jsonl").write_bytes(b"\xff\xfe not utf-8")
    assert labelling.Precedents.load(db, list(TASKS.values()), corpus_dir=corpus).entries == []


def test_session_shows_precedents_and_runs_without_the_embeddings(db, monkeypatch):
    _, output = session(db, "all", "q")
    assert "labelled before, the most alike stories:" in output and "(corpus " in output
    from nlp import embeddings

    def unavailable(*_args):
        raise embeddings.EmbeddingUnavailable("no static embeddings")
    monkeypatch.setattr(embeddings, "encode", unavailable)
    monkeypatch.setattr(embeddings, "get_embedder", unavailable)
    assert labelling.Precedents.load(db, list(TASKS.values())) is None
    _, output = session(db, "all", "q")
    assert "1 of 4" in output and "labelled before" not in output
    # nothing labelled anywhere and no embeddings: the session still saves an answer and goes on
    assert labelling.Precedents.load(db, list(TASKS.values()), corpus_dir=REPO / "no-corpus-here") is None
    summary, _ = session(db, "all", "a", "s", "q")
    assert summary.accepted == 1 and summary.skipped == 1


def test_the_screen_starts_without_importing_scikit_learn(db_path):
    """The first story waits for the precedents (the embedding model, the corpus): scikit-learn, which
    the saved models need and the precedents do not, took half of that start (docs/benchmarks.md,
    "The label screen's start"). The queue comes from the stored classifications: no model is loaded either."""
    script = ("import sys, pipeline; from cuttings import labelling, store; "
              f"db = store.connect({str(db_path)!r}); tasks = list(labelling.load_label_tasks().values()); "
              "order = [c.article_id for c in labelling.candidates(db, tasks)]; "
              "precedents = labelling.Precedents.load(db, tasks); "
              "card = labelling.load_card(db, order[0], tasks, precedents); "
              "print(len(precedents.entries), card.title, order, sorted(m for m in sys.modules if m.startswith('sklearn')))")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    entries, _, rest = result.stdout.strip().partition(" ")
    ids = ids_of(store.connect(db_path))
    assert int(entries) > 100 and rest.startswith("[bold]Fire[/bold] authority [red]budget row")
    assert f"[{ids['flagged']}, {ids['middling']}, {ids['confident']}, {ids['unclassified']}] []" in rest
    from nlp import embeddings
    assert embeddings.EmbeddingFeatures.__module__ == "nlp.embeddings"   # the name saved models give it


def test_lead_is_the_first_two_paragraphs_trimmed():
    body = "First para.\n\nSecond " + "word " * 200 + "\n\nThird para."
    lead = labelling.lead_paragraphs(body, max_chars=100)
    assert lead[0] == "First para." and len(lead) == 2
    assert lead[1].endswith("…") and len(lead[1]) <= 102


# ---------------------------------------------------------------------------------------------
# export / import
# ---------------------------------------------------------------------------------------------

def test_export_import_round_trip_into_a_fresh_db(db, tmp_path):
    ids = ids_of(db)
    session(db, "all", "c", "3", "1", "4", "\r", "3", "1", "a", "q")  # flagged corrected, middling accepted
    exported = tmp_path / "labels.jsonl"
    assert labelling.export_labels(db, exported, TASKS) == (2, 0)
    records = [json.loads(line) for line in exported.read_text().splitlines()]
    by_url = {r["url"]: r for r in records}
    flagged = by_url["https://news.example/flagged"]
    assert flagged["id"] == f"db-{ids['flagged']}" and flagged["title"].startswith("[bold]Fire")
    assert flagged["topics"] == ["governance", "legal"] and flagged["stance_governance"] == "neutral"
    assert flagged["tone"] == {"sfrs": "positive"} and flagged["annotator"] == "ana"
    assert flagged["entities"] == {"sfrs": ["Shropshire Fire and Rescue Service"]} and flagged["date"] == "2026-11-19"
    assert by_url["https://news.example/middling"]["topics"] == ["incident"]

    # a fresh database with the same articles stored in another order: ids differ, urls match
    fresh_ids = make_db(tmp_path / "fresh.db", order=["unclassified", "middling", "confident", "copy", "flagged"])
    fresh = store.connect(tmp_path / "fresh.db")
    assert fresh_ids["flagged"] != ids["flagged"]
    summary = labelling.import_labels(fresh, exported, TASKS, "someone-else")
    assert summary.records == 2 and summary.articles_changed == 2 and not summary.unmatched_lines
    original = labelling.human_labels(db, TASKS)
    imported = labelling.human_labels(fresh, TASKS)
    assert imported[fresh_ids["flagged"]] == original[ids["flagged"]]
    assert imported[fresh_ids["middling"]] == original[ids["middling"]]
    assert effective(fresh, fresh_ids["flagged"], "stance_governance") == [("", "neutral", 1)]
    count = fresh.execute("SELECT count(*) FROM labels").fetchone()[0]
    again = labelling.import_labels(fresh, exported, TASKS, "someone-else")
    assert again.labels_added == 0 and fresh.execute("SELECT count(*) FROM labels").fetchone()[0] == count
    # re-exporting gives the same labels (ids follow the new database)
    second = tmp_path / "second.jsonl"
    labelling.export_labels(fresh, second, TASKS)
    strip = lambda r: {k: v for k, v in r.items() if k != "id"}  # noqa: E731
    assert sorted(map(strip, map(json.loads, second.read_text().splitlines())), key=lambda r: r["url"]) == \
        sorted(map(strip, records), key=lambda r: r["url"])


def test_export_keeps_labels_the_scheme_no_longer_has(db, db_path, tmp_path):
    """A topic removed from the scheme after labelling: its labels stay in the database and the
    export carries them in outside_scheme (import and training ignore it), with a note on stderr."""
    ids = ids_of(db)
    store.add_labels(db, [(ids["flagged"], "topics", "", "governance", "ana"),
                          (ids["flagged"], "topics", "", "policing", "ana"),
                          (ids["flagged"], "tone", "dc_pcc", "negative", "ana"),
                          (ids["middling"], "topics", "", "policing", "ana")])
    exported = tmp_path / "labels.jsonl"
    assert labelling.export_labels(db, exported, TASKS) == (2, 3)
    by_url = {r["url"]: r for r in map(json.loads, exported.read_text(encoding="utf-8").splitlines())}
    flagged, middling = by_url["https://news.example/flagged"], by_url["https://news.example/middling"]
    assert flagged["topics"] == ["governance"]
    assert flagged["outside_scheme"] == {"topics": ["policing"], "tone": ["dc_pcc=negative"]}
    assert middling["topics"] is None and middling["outside_scheme"] == {"topics": ["policing"]}
    fresh_ids = make_db(tmp_path / "fresh.db", order=["unclassified", "middling", "confident", "copy", "flagged"])
    fresh = store.connect(tmp_path / "fresh.db")
    summary = labelling.import_labels(fresh, exported, TASKS, "someone-else")
    assert summary.records == 2 and labelling.human_labels(fresh, TASKS)[fresh_ids["flagged"]]["topics"] == ["governance"]
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--export", str(tmp_path / "cli.jsonl")])
    assert result.exit_code == 0, result.output
    assert "exported 2 labelled articles" in result.stdout
    assert "3 labels are not in the label scheme" in result.stderr and "outside_scheme" in result.stderr


def test_a_label_outside_the_scheme_supersedes_the_one_before_it(db, tmp_path):
    """A person changed favour to mixed, and mixed was later removed from the scheme: training and the
    export get no stance for that story (not the superseded favour); a topic given then rejected is
    not counted as outside the scheme."""
    ids = ids_of(db)
    store.add_labels(db, [(ids["middling"], "stance_governance", "", "favour", "ana"),
                          (ids["middling"], "stance_governance", "", "mixed", "ana"),
                          (ids["middling"], "tone", "sfrs", "positive", "ana"),
                          (ids["middling"], "tone", "sfrs", "glowing", "ana"),
                          (ids["middling"], "topics", "", "incident", "ana"),
                          (ids["middling"], "topics", "", "policing", "ana"),
                          (ids["middling"], "topics", "policing", labelling.REJECTED, "ana")])
    labels = labelling.human_labels(db, TASKS)[ids["middling"]]
    assert "stance_governance" not in labels and labels.get("tone", {}) == {} and labels["topics"] == ["incident"]
    assert labelling.labels_outside_scheme(db, TASKS)[ids["middling"]] == {
        "stance_governance": ["mixed"], "tone": ["sfrs=glowing"]}


def test_import_reads_json_lines_split_on_newlines_only(db, tmp_path):
    """A body with U+2028 or U+0085 (legal unescaped in JSON), a byte-order mark and CRLF line ends:
    the file still imports, as it was exported."""
    session(db, "all", "c", "3", "1", "4", "\r", "3", "1", "a", "q")
    exported = tmp_path / "labels.jsonl"
    labelling.export_labels(db, exported, TASKS)
    records = [json.loads(line) for line in exported.read_text(encoding="utf-8").split("\n") if line]
    for record in records:
        record["body"] = "First line\u2028second line\u0085third"
    text = "\r\n".join(json.dumps(record, ensure_ascii=False) for record in records) + "\r\n"
    odd = tmp_path / "odd.jsonl"
    odd.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    fresh_ids = make_db(tmp_path / "fresh.db", order=["unclassified", "middling", "confident", "copy", "flagged"])
    summary = labelling.import_labels(store.connect(tmp_path / "fresh.db"), odd, TASKS, "someone-else")
    assert summary.records == len(records) == 2 and not summary.unmatched_lines
    assert labelling.human_labels(store.connect(tmp_path / "fresh.db"), TASKS)[fresh_ids["flagged"]] == \
        labelling.human_labels(db, TASKS)[ids_of(db)["flagged"]]


def test_import_by_a_syndicated_copys_url_labels_its_story(db, tmp_path):
    """Labels given for a copy (its url, or its db- id) go to the original story, where the digest,
    exports and article_summary read them, not to the folded-in copy."""
    ids = ids_of(db)
    record = {"url": "https://news.example/copy", "stance_governance": "against"}
    labelled = tmp_path / "copy.jsonl"
    labelled.write_text(json.dumps(record) + "\n" + json.dumps({"id": f"db-{ids['copy']}", "topics": ["legal"]})
                        + "\n", encoding="utf-8")
    summary = labelling.import_labels(db, labelled, TASKS, "ana")
    assert summary.records == 2 and not summary.unmatched_lines
    assert effective(db, ids["confident"], "stance_governance") == [("", "against", 1)]
    assert db.execute("SELECT count(*) FROM labels WHERE article_id = ?", [ids["copy"]]).fetchone()[0] == 0
    assert db.execute("SELECT stance, human_corrected FROM article_summary WHERE article_id = ?",
                      [ids["confident"]]).fetchone() == ("against", 1)


def test_import_changes_only_what_differs(db, tmp_path):
    ids = ids_of(db)
    labelling.save_labels(db, ids["confident"], [("topics", "", "governance"), ("stance_governance", "", "favour")],
                          "bo")
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": f"db-{ids['confident']}", "topics": ["finance"], "stance_governance": "favour",
                                "tone": {"wm_pcc": "negative"}, "annotator": "cy"}) + "\n")
    summary = labelling.import_labels(db, path, TASKS, "ana")
    assert summary.labels_added == 3  # finance, governance rejected, tone wm_pcc
    assert labelling.human_labels(db, TASKS)[ids["confident"]] == {
        "topics": ["finance"], "stance_governance": "favour", "tone": {"wm_pcc": "negative"}, "annotator": "cy"}
    assert labelling.import_labels(db, path, TASKS, "ana").labels_added == 0


def test_bad_label_in_import_names_the_line_and_writes_nothing(db, tmp_path):
    ids = ids_of(db)
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": f"db-{ids['flagged']}", "stance_governance": "against"}) + "\n\n"
                    + json.dumps({"id": f"db-{ids['middling']}", "stance_governance": "maybe"}) + "\n")
    with pytest.raises(labelling.LabellingError, match=r"bad\.jsonl:3: stance_governance label 'maybe'"):
        labelling.import_labels(db, path, TASKS, "ana")
    path.write_text(json.dumps({"url": "https://news.example/flagged", "tone": {"west_mercia_police": "positive"}}))
    with pytest.raises(labelling.LabellingError, match=r":1: tone entity 'west_mercia_police'"):
        labelling.import_labels(db, path, TASKS, "ana")
    path.write_text(json.dumps({"url": "https://news.example/flagged", "topics": ["other", "finance"]}))
    with pytest.raises(labelling.LabellingError, match="must stand alone"):
        labelling.import_labels(db, path, TASKS, "ana")
    assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == 0


def cli_group():
    import pipeline
    if "label" not in pipeline.cli.commands:
        pipeline.cli.add_command(label)
    return pipeline.cli


def test_cli_import_error_is_one_line(db_path, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"url": "https://news.example/flagged", "topics": ["weather"]}) + "\n")
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", str(path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {path}:1: topics label 'weather' is not in the scheme "
                                                  f"({', '.join(TASKS['topics'].labels)})"]


def test_cli_import_of_broken_json_gives_line_and_column_and_writes_nothing(db_path, tmp_path):
    path = tmp_path / "broken.jsonl"
    good = json.dumps({"url": "https://news.example/middling", "stance_governance": "neutral"})
    bad = '{"url": "https://news.example/flagged" "topics": ["finance"]}'  # a comma missing
    path.write_text(good + "\n" + bad + "\n", encoding="utf-8")
    before = db_path.read_bytes()
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", str(path)])
    assert result.exit_code == 1
    column = bad.index(' "topics"') + 2  # the parser stops at the second key, counted from 1
    assert result.output.strip().splitlines() == [
        f"Error: {path}:2: invalid JSON: Expecting ',' delimiter at line 2, column {column}"]
    assert db_path.read_bytes() == before  # the good first line was not added either


def test_cli_import_then_export(db_path, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"url": "https://news.example/middling", "stance_governance": "neutral"}) + "\n"
                      + json.dumps({"url": "https://elsewhere.example/x", "stance_governance": "none"}) + "\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--annotator", "dee",
                                              "--import", str(source), "--export", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 label added, 1 article changed; 1 record skipped" in result.output and "(line 2): skipped" in result.output
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["url"] == "https://news.example/middling" and record["annotator"] == "dee"
    assert record["stance_governance"] == "neutral" and record["topics"] is None


def test_cli_cuttings_export_edited_then_imported_stores_the_edits_under_the_annotator(db_path, tmp_path):
    """The analyst's round trip: `cuttings export --format jsonl`, a label corrected in an editor, `label
    --import`: the corrections are stored as hers; the values left as exported (the models' predictions)
    are not; a bad record is one line naming the file, line and field, and nothing is imported."""
    stories = tmp_path / "stories.jsonl"
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "export", "--format", "jsonl",
                                              "--out", str(stories)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in stories.read_text(encoding="utf-8").splitlines()]
    ids = ids_of(store.connect(db_path))
    by_id = {record["article_id"]: record for record in records}
    flagged, middling = by_id[ids["flagged"]], by_id[ids["middling"]]
    assert flagged["stance"] == "against" and flagged["stance_uncertain"] is True and middling["topics"] == ["incident"]
    flagged["stance"] = "neutral"                                   # the two edits
    middling["topics"] = ["incident", "prevention"]
    middling["tone"]["hwfrs"] = "negative"
    edited = tmp_path / "edited.jsonl"
    edited.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")

    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", str(edited),
                                              "--annotator", "akhan"])
    assert result.exit_code == 0, result.output
    assert f"{len(records)} records; 4 labels added, 2 articles changed" in result.output
    db = store.connect(db_path)
    assert {tuple(row) for row in db.execute("SELECT article_id, task, target, label, annotator FROM labels")} == {
        (ids["flagged"], "stance_governance", "", "neutral", "akhan"),
        (ids["middling"], "topics", "", "incident", "akhan"), (ids["middling"], "topics", "", "prevention", "akhan"),
        (ids["middling"], "tone", "hwfrs", "negative", "akhan")}
    assert effective(db, ids["flagged"], "stance_governance") == [("", "neutral", 1)]
    assert effective(db, ids["middling"], "topics") == [("", "incident", 1), ("", "prevention", 1)]
    assert effective(db, ids["confident"], "stance_governance") == [("", "favour", 0)]   # left as exported
    again = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", str(edited)])
    assert again.exit_code == 0 and "; nothing changed" in again.output

    middling["stance"] = "maybe"
    by_id[ids["confident"]]["stance"] = "against"                   # a good edit that must not land either
    line = records.index(middling) + 1
    edited.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    rows_before = db.execute("SELECT count(*) FROM labels").fetchone()[0]
    bad = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", str(edited)])
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines() == [f"Error: {edited}:{line}: stance label 'maybe' is not in the scheme "
                                               f"({', '.join(TASKS['stance_governance'].labels)})"]
    assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == rows_before


def test_cli_cuttings_export_with_a_label_the_scheme_no_longer_has_imports_unless_that_label_is_changed(db_path,
                                                                                                     tmp_path):
    db = store.connect(db_path)
    ids = ids_of(db)
    store.add_labels(db, [(ids["middling"], "tone", "dc_pcc", "negative", "ana"),       # a body since dropped
                          (ids["middling"], "topics", "", "policing", "ana")])           # a topic since dropped
    stories = tmp_path / "stories.jsonl"
    assert CliRunner().invoke(cli_group(), ["--db", str(db_path), "export", "--format", "jsonl",
                                            "--out", str(stories)]).exit_code == 0
    records = [json.loads(line) for line in stories.read_text(encoding="utf-8").splitlines()]
    [middling] = [record for record in records if record["article_id"] == ids["middling"]]
    assert middling["tone"]["dc_pcc"] == "negative" and "policing" in middling["topics"]
    middling["stance"] = "neutral"
    stories.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", str(stories),
                                              "--annotator", "akhan"])
    assert result.exit_code == 0, result.output
    assert "1 label added, 1 article changed" in result.output
    assert effective(db, ids["middling"], "stance_governance") == [("", "neutral", 1)]

    middling["stance"], middling["tone"]["dc_pcc"] = "favour", "positive"   # a changed label outside the scheme
    stories.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    rows = db.execute("SELECT count(*) FROM labels").fetchone()[0]
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", str(stories)])
    assert result.exit_code == 1
    line = records.index(middling) + 1
    assert result.output.strip().splitlines() == [f"Error: {stories}:{line}: tone entity 'dc_pcc' is not in the "
                                                  f"scheme ({', '.join(TASKS['tone'].entities)})"]
    assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == rows


def test_non_tty_is_a_clear_error(db_path):
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label"], input="a\n")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: label needs an interactive terminal; use --export/--import for files"


def test_unknown_task_is_a_clear_error(db_path):
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--task", "mood", "--export", "x"])
    assert result.exit_code == 1 and "unknown task 'mood'" in result.output


# ---------------------------------------------------------------------------------------------
# the real command on a pseudo-terminal
# ---------------------------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LAUNCH = ("import pipeline; from cuttings.cli_label import label; "
          "pipeline.cli.commands.setdefault('label', label); pipeline.cli(prog_name='cuttings')")


class Terminal:
    """A subprocess on a pseudo-terminal: wait for text, press keys."""

    def __init__(self, args: list[str]):
        self.master, slave = os.openpty()
        env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100", "LINES": "50", "TERM": "xterm"}
        self.process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=REPO, env=env,
                                        start_new_session=True)
        os.close(slave)
        self.seen = ""

    def read_until(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while text not in ANSI.sub("", self.seen):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {text!r}; screen so far:\n{ANSI.sub('', self.seen)}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"terminal closed before {text!r}:\n{ANSI.sub('', self.seen)}")
                self.seen += chunk.decode("utf-8", "replace")
        plain = ANSI.sub("", self.seen)
        end = plain.index(text) + len(text)
        self.seen = plain[end:]  # what follows the match is still unread
        return plain[:end]

    def press(self, key: str, timeout: float = 20) -> None:
        """Type a key once the program waits for one (the terminal is in raw, non-canonical mode)."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self.master)[3] & termios.ICANON:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"the program never waited for a key before {key!r}")
            time.sleep(0.01)
        os.write(self.master, key.encode())

    def finish(self, timeout: float = 20) -> str:
        rest = ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                rest += chunk.decode("utf-8", "replace")
            elif self.process.poll() is not None:
                break
        self.process.wait(timeout=timeout)
        os.close(self.master)
        return ANSI.sub("", self.seen + rest)


def test_real_command_on_a_pseudo_terminal(db_path):
    terminal = Terminal([sys.executable, "-c", LAUNCH, "--db", str(db_path), "label",
                         "--task", "stance_governance", "--annotator", "pat"])
    try:
        screen = terminal.read_until(" help")
        assert "[bold]Fire[/bold] authority [red]budget row" in screen and "1 of 4" in screen
        terminal.press("a")                        # flagged: accept "against"
        terminal.read_until("Crews tackle barn fire")
        terminal.read_until(" help")
        terminal.press("c")                        # middling: correct to favour
        terminal.read_until("Esc to go back")
        terminal.press("1")
        terminal.read_until("PCC welcomes")
        terminal.read_until(" help")
        terminal.press("s")                        # confident: skip
        terminal.read_until("Smoke alarm campaign")
        terminal.read_until(" help")
        terminal.press("q")
        tail = terminal.finish()
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    assert terminal.process.returncode == 0, tail
    assert "1 accepted, 1 corrected, 1 skipped (2 labels saved as pat); 1 left" in tail
    db = store.connect(db_path)
    ids = ids_of(db)
    assert label_rows(db, ids["flagged"]) == {("stance_governance", "", "against", "pat")}
    assert label_rows(db, ids["middling"]) == {("stance_governance", "", "favour", "pat")}
    assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == 2
    assert effective(db, ids["middling"], "stance_governance") == [("", "favour", 1)]


def test_training_takes_the_human_labels_as_labelling_resolves_them(db):
    """`cuttings train` adds labelled articles to the corpus, labels resolved as the labelling
    tool resolves them (a later rejection withdraws a topic); articles without a stance are left out."""
    import pipeline

    ids = ids_of(db)
    labelling.save_labels(db, ids["confident"], [("topics", "", "governance"), ("topics", "", "finance"),
                                                 ("stance_governance", "", "favour"), ("tone", "wm_pcc", "negative")],
                          "bo")
    labelling.save_labels(db, ids["confident"], [("topics", "finance", labelling.REJECTED)], "bo")
    labelling.save_labels(db, ids["flagged"], [("topics", "", "finance")], "bo")
    db.execute("UPDATE sources SET region = 'Worcestershire' WHERE id = 'worcester-news'")
    from_db = [r for r in pipeline.training_records(db) if r["id"].startswith("db-")]
    title, body = ARTICLES[0][1], ARTICLES[0][2]
    assert from_db == [{"id": f"db-{ids['confident']}", "title": title, "body": body, "date": "2026-11-18T09:00:00Z",
                        "source_region": "Worcestershire",
                        "entities": {"wm_pcc": ["John Campion"], "hwfrs": ["HWFRS"]}, "topics": ["governance"],
                        "stance_governance": "favour", "tone": {"wm_pcc": "negative"}}]


def test_cli_import_with_annotator_saves_the_importers_name_not_the_files(db_path, tmp_path):
    """A colleague edits the officer's export and imports it under her own name: her changes are
    hers, not the officer's whose name every exported record carries."""
    db = store.connect(db_path)
    ids = ids_of(db)
    labelling.save_labels(db, ids["middling"], [("stance_governance", "", "none"), ("tone", "hwfrs", "neutral")],
                          "officer")
    db.conn.close()
    exported = tmp_path / "officer.jsonl"
    assert CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--export", str(exported)]).exit_code == 0
    [record] = [json.loads(line) for line in exported.read_text().splitlines()]
    assert record["annotator"] == "officer"
    record["tone"]["hwfrs"] = "positive"
    edited = tmp_path / "edited.jsonl"
    edited.write_text(json.dumps(record) + "\n")
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", str(edited),
                                              "--annotator", "colleague"])
    assert result.exit_code == 0, result.output
    db = store.connect(db_path)
    assert db.execute("SELECT task, target, label, annotator FROM labels ORDER BY id").fetchall() == [
        ("stance_governance", "", "none", "officer"), ("tone", "hwfrs", "neutral", "officer"),
        ("tone", "hwfrs", "positive", "colleague")]
    db.conn.close()
    # without --annotator the record's own names and times are kept (moving labels between databases)
    other = tmp_path / "other.db"
    make_db(other)
    result = CliRunner().invoke(cli_group(), ["--db", str(other), "label", "--import", str(exported)],
                                env={"USER": "someone"})
    assert result.exit_code == 0, result.output
    odb = store.connect(other)
    assert odb.execute("SELECT task, target, label, annotator, created_at FROM labels ORDER BY id").fetchall() == [
        ("stance_governance", "", "none", "officer", record["labelled_at"]["stance_governance"]),
        ("tone", "hwfrs", "neutral", "officer", record["labelled_at"]["tone"]["hwfrs"])]
    odb.conn.close()
    # so a record edited by hand and imported without --annotator says the officer gave it when the officer
    # gave the other: older than the colleague's label here, it is not stored, and the import says so
    record["tone"]["hwfrs"] = "negative"
    edited.write_text(json.dumps(record) + "\n")
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", str(edited)],
                                env={"USER": "someone"})
    assert result.exit_code == 0, result.output
    assert ("note: 1 label in the file is older than the label here for the same question: the newer stands"
            in result.stderr)
    db = store.connect(db_path)
    assert db.execute("SELECT label, annotator FROM labels ORDER BY id DESC LIMIT 1").fetchone() == ("positive",
                                                                                                  "colleague")
    db.conn.close()


def test_import_matches_the_url_article_summary_and_exports_show(db, tmp_path):
    """article_summary.url (and `cuttings export`, the digest) is the reader's address, link_url,
    which may differ from the canonical URL: a label file made from them still finds its story."""
    ids = ids_of(db)
    db.execute("UPDATE articles SET link_url = ? WHERE id = ?", ["https://www.news.example/middling/", ids["middling"]])
    db.conn.commit()
    [shown] = db.execute("SELECT url FROM article_summary WHERE article_id = ?", [ids["middling"]]).fetchone()
    assert shown == "https://www.news.example/middling/"
    path = tmp_path / "from-export.jsonl"
    path.write_text(json.dumps({"url": shown, "stance_governance": "neutral"}) + "\n")
    summary = labelling.import_labels(db, path, TASKS, "ana")
    assert (summary.labels_added, summary.unmatched_lines) == (1, [])
    assert labelling.human_labels(db, TASKS)[ids["middling"]]["stance_governance"] == "neutral"


def test_cli_unlabel_withdraws_a_wrong_label_and_the_story_comes_back(db_path):
    """The officer saved stance `against` on a `none` story: --unlabel takes it back, the models'
    prediction applies again and the story waits in the queue; other tasks' labels stay."""
    db = store.connect(db_path)
    ids = ids_of(db)
    story = ids["middling"]
    labelling.save_labels(db, story, [("stance_governance", "", "favour")], "officer")
    labelling.save_labels(db, story, [("stance_governance", "", "against"), ("tone", "hwfrs", "positive")],
                          "officer")
    stance = labelling.select_tasks(TASKS, "stance_governance")
    assert story not in [c.article_id for c in labelling.candidates(db, stance)]
    db.conn.close()
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--unlabel", f"db-{story}",
                                              "--task", "stance_governance", "--annotator", "lead"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"withdrew 2 labels of article {story} (recorded as lead; the labels stay in the table):"
    assert lines[1].startswith("  stance_governance: favour (officer, ")
    assert lines[2].startswith("  stance_governance: against (officer, ")
    db = store.connect(db_path)
    assert db.execute("SELECT label, human FROM effective_labels WHERE article_id = ? AND task = 'stance_governance'",
                      [story]).fetchall() == [("none", 0)]   # the model's prediction again
    assert db.execute("SELECT task, target, label, annotator FROM labels WHERE article_id = ? ORDER BY id",
                      [story]).fetchall() == [   # appended, nothing deleted
        ("stance_governance", "", "favour", "officer"), ("stance_governance", "", "against", "officer"),
        ("tone", "hwfrs", "positive", "officer"), ("stance_governance", "", "__withdrawn__", "lead")]
    assert labelling.human_labels(db, TASKS)[story] == {"tone": {"hwfrs": "positive"}, "annotator": "officer"}
    assert story in [c.article_id for c in labelling.candidates(db, stance)]
    db.conn.close()
    # nothing left to remove, an unknown story: one line each, exit 1, nothing written
    before = db_path.read_bytes()
    for ref, message in [(str(story), f"Error: article {story} has no human label for stance_governance: nothing "
                                      f"withdrawn"),
                         ("9999", "Error: no article '9999' in the database: give an article id (205 or db-205) "
                                  "or its URL")]:
        result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--unlabel", ref,
                                                  "--task", "stance_governance"])
        assert (result.exit_code, result.output.strip()) == (1, message)
    assert db_path.read_bytes() == before


def test_cli_unlabel_by_a_copys_url_withdraws_every_task_of_its_story(db_path):
    db = store.connect(db_path)
    ids = ids_of(db)
    labelling.save_labels(db, ids["confident"], [("topics", "", "finance"), ("topics", "governance", "__rejected__"),
                                                 ("stance_governance", "", "against")], "officer")
    db.conn.close()
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--unlabel",
                                              "https://news.example/copy"])
    assert result.exit_code == 0, result.output
    assert f"withdrew 3 labels of article {ids['confident']}" in result.output
    db = store.connect(db_path)
    assert db.execute("SELECT task, label FROM labels WHERE id > 3 ORDER BY id").fetchall() == [
        ("topics", "__withdrawn__"), ("stance_governance", "__withdrawn__")]   # one row per task withdrawn
    assert labelling.human_labels(db, TASKS) == {}
    assert db.execute("SELECT group_concat(label) FROM effective_labels WHERE article_id = ? AND task = 'topics'",
                      [ids["confident"]]).fetchone()[0] == "governance"
    db.conn.close()


def test_the_disagreements_query_of_the_labelling_guide_lists_two_peoples_different_answers(db):
    guide = (REPO / "docs" / "labelling.md").read_text(encoding="utf-8")
    section = guide.split("## Two people labelling", 1)[1].split("\n## ", 1)[0]
    [query] = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    ids = ids_of(db)
    labelling.save_labels(db, ids["flagged"], [("stance_governance", "", "against"), ("tone", "sfrs", "neutral")],
                          "officer")
    labelling.save_labels(db, ids["flagged"], [("stance_governance", "", "against"), ("tone", "sfrs", "negative")],
                          "colleague")
    labelling.save_labels(db, ids["middling"], [("tone", "hwfrs", "neutral"), ("tone", "hwfrs", "positive")],
                          "officer")   # one person changing her mind is no disagreement
    assert db.execute(query).fetchall() == [(ids["flagged"], "tone", "sfrs", "officer: neutral; colleague: negative")]


def test_cli_dash_is_standard_output_and_input_not_a_file_named_dash(db_path, tmp_path, monkeypatch):
    """`--export -` pipes (as `cuttings export` and sqlite-utils do); it wrote a file named "-"."""
    monkeypatch.chdir(tmp_path)
    db = store.connect(db_path)
    ids = ids_of(db)
    labelling.save_labels(db, ids["middling"], [("stance_governance", "", "neutral")], "officer")
    db.conn.close()
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--export", "-"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "-").exists()
    [record] = [json.loads(line) for line in result.stdout.splitlines()]   # JSONL only on standard output
    assert record["id"] == f"db-{ids['middling']}" and record["stance_governance"] == "neutral"
    assert result.stderr.strip() == "exported 1 labelled article to standard output"
    record["stance_governance"] = "against"
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", "-", "--annotator", "cy"],
                                input=json.dumps(record) + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "imported standard input: 1 record; 1 label added, 1 article changed"
    db = store.connect(db_path)
    assert labelling.human_labels(db, TASKS)[ids["middling"]]["stance_governance"] == "against"
    db.conn.close()
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--import", "-"], input="{nope\n")
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: <stdin>:1: invalid JSON")


def revise(db, key: str, body: str) -> None:
    """Store a material revision of the article ``key`` as the crawler does (``store.add_revision``)."""
    existing = store.find_article(db, f"https://news.example/{key}")
    store.add_revision(db, existing, {"url": existing["url"], "title": existing["title"], "body": body}, None,
                       fingerprint=b"", summary="body changed; correction added", headline_changed=False,
                       is_correction=True)


def test_a_story_revised_after_its_labels_comes_back_first_and_the_new_answer_replaces_them(db):
    """A label given to yesterday's text keeps applying after a correction notice rewrote the story:
    the story comes back at the head of the queue, its card says so, and answering again replaces
    the old labels (a topic given to the old text and not kept is withdrawn)."""
    ids = ids_of(db)
    story = ids["middling"]
    labelling.save_labels(db, story, [("topics", "", "prevention"), ("stance_governance", "", "none"),
                                      ("tone", "hwfrs", "positive")], "officer")
    db.execute("UPDATE labels SET created_at = '2026-11-20T09:00:00Z'")   # labelled yesterday
    db.conn.commit()
    assert story not in [c.article_id for c in labelling.candidates(db, list(TASKS.values()))]
    revise(db, "middling", "Correction: the barn fire was started deliberately; HWFRS crews were criticised.")
    queue = [c.article_id for c in labelling.candidates(db, list(TASKS.values()))]
    assert queue[0] == story    # before the flagged (uncertain) story
    assert effective(db, story, "topics") == [("", "prevention", 1)]   # the old labels apply until answered
    summary, shown = session(db, "all", "a", limit=1)
    assert summary.accepted == 1
    assert "revised since it was labelled (version 2," in " ".join(shown.split())
    assert effective(db, story, "topics") == [("", "incident", 1)]   # the prediction accepted, prevention withdrawn
    assert effective(db, story, "tone") == [("hwfrs", "positive", 1)]
    assert story not in [c.article_id for c in labelling.candidates(db, list(TASKS.values()))]


def test_cli_unlabel_says_when_models_trained_since_learnt_the_label(db_path):
    """The officer retrained after her wrong label: the models now predict it themselves, so taking it
    back is not the end of it until `cuttings train` runs again."""
    db = store.connect(db_path)
    ids = ids_of(db)
    labelling.save_labels(db, ids["middling"], [("stance_governance", "", "against")], "officer")
    db.execute("UPDATE labels SET created_at = '2026-11-20T09:00:00Z'")
    for version, task, at in [("stance-old", "stance_governance", "2026-11-19T09:00:00Z"),
                              ("stance-new", "stance_governance", "2026-11-21T09:00:00Z"),
                              ("tone-new", "tone", "2026-11-21T09:00:00Z")]:
        db.execute("INSERT INTO models (version, task, path, created_at) VALUES (?, ?, 'x.skops', ?)",
                   [version, task, at])
    db.conn.commit()
    db.conn.close()
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--unlabel", str(ids["middling"])])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == ("note: stance-new learnt from these labels and can predict them still: "
                                     "`cuttings train` again to unlearn them")


def test_export_says_who_gave_each_label_and_a_fresh_database_keeps_the_names(db, tmp_path):
    """Two people labelled one story: the export's single `annotator` (whoever labelled it last) put
    every label of the story under that one name when the file was imported into a new database."""
    ids = ids_of(db)
    story = ids["confident"]
    labelling.save_labels(db, story, [("topics", "", "governance"), ("stance_governance", "", "favour"),
                                      ("tone", "wm_pcc", "positive"), ("tone", "hwfrs", "neutral")], "officer")
    labelling.save_labels(db, story, [("tone", "hwfrs", "negative"), ("stance_governance", "", "favour")], "colleague")
    exported = tmp_path / "labels.jsonl"
    labelling.export_labels(db, exported, TASKS)
    [record] = [json.loads(line) for line in exported.read_text().splitlines()]
    assert record["annotator"] == "colleague"
    assert record["annotators"] == {"topics": "officer", "stance_governance": "colleague",
                                    "tone": {"wm_pcc": "officer", "hwfrs": "colleague"}}
    fresh_ids = make_db(tmp_path / "fresh.db")
    fresh = store.connect(tmp_path / "fresh.db")
    labelling.import_labels(fresh, exported, TASKS, "someone-else")
    assert sorted(fresh.execute("SELECT task, target, label, annotator FROM labels WHERE article_id = ?",
                                [fresh_ids["confident"]]).fetchall()) == [
        ("stance_governance", "", "favour", "colleague"), ("tone", "hwfrs", "negative", "colleague"),
        ("tone", "wm_pcc", "positive", "officer"), ("topics", "", "governance", "officer")]
    # a hand-made file without it: the record's annotator, else the importer's name, as before
    record.pop("annotators")
    record["url"] = "https://news.example/middling"
    exported.write_text(json.dumps(record) + "\n")
    labelling.import_labels(fresh, exported, TASKS, "someone-else")
    assert {row[0] for row in fresh.execute("SELECT annotator FROM labels WHERE article_id = ?",
                                            [fresh_ids["middling"]])} == {"colleague"}
    exported.write_text(json.dumps({**record, "annotators": {"tone": ["officer"]}}) + "\n")
    with pytest.raises(labelling.LabellingError, match=r"labels\.jsonl:1: annotators must map each task to a name"):
        labelling.import_labels(fresh, exported, TASKS, "someone-else")
    fresh.conn.close()


def chosen_session(db, articles, *keys, annotator="colleague"):
    output = io.StringIO()
    read_key = scripted(*keys)
    summary = labelling.run_session(db, list(TASKS.values()), annotator, read_key=read_key,
                                    console=Console(file=output, width=120), articles=articles)
    assert read_key.pending == [], "the session ended before using every scripted key"
    return summary, " ".join(output.getvalue().split())


def test_a_chosen_story_is_shown_labelled_or_not_and_a_second_person_agrees_or_corrects(db):
    """The officer labelled a story; her colleague opens it with --article: she sees the officer's labels
    and whose they are; accepting records her agreement under her own name, correcting replaces them
    (a topic she drops is withdrawn)."""
    ids = ids_of(db)
    story = ids["confident"]
    labelling.save_labels(db, story, [("topics", "", "governance"), ("topics", "", "finance"),
                                      ("stance_governance", "", "against"), ("tone", "wm_pcc", "positive")], "officer")
    assert story not in [c.article_id for c in labelling.candidates(db, list(TASKS.values()))]
    summary, shown = chosen_session(db, [story], "a")
    assert summary.accepted == 1
    assert "against labelled by officer" in shown and "governance, finance labelled by officer" in shown
    assert "neutral 0.70" in shown   # hwfrs tone: nobody labelled it, the model's prediction
    assert label_rows(db, story) >= {("topics", "", "governance", "colleague"), ("topics", "", "finance", "colleague"),
                                     ("stance_governance", "", "against", "colleague"),
                                     ("tone", "wm_pcc", "positive", "colleague"),
                                     ("tone", "hwfrs", "neutral", "colleague")}
    # correcting: topics start from the human ones (finance toggled off), stance 1 = favour, tones kept
    summary, _ = chosen_session(db, [story], "c", "3", "\r", "1", "\r", "\r", annotator="chief")
    assert summary.corrected == 1
    assert effective(db, story, "topics") == [("", "governance", 1)]
    assert db.execute("SELECT label, decided_by FROM effective_labels WHERE article_id = ? AND task = ?",
                      [story, "stance_governance"]).fetchall() == [("favour", "chief")]


def test_cli_article_names_an_unknown_story_in_one_line_even_without_a_terminal(db_path):
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--article", "db-999"])
    assert (result.exit_code, result.output.strip()) == (
        1, "Error: no article 'db-999' in the database: give an article id (205 or db-205) or its URL")
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--article", "1"])
    assert result.output.strip() == "Error: label needs an interactive terminal; use --export/--import for files"


def test_cli_train_says_how_many_of_its_articles_this_databases_labels_gave(db_path, tmp_path, monkeypatch):
    """After labelling, `cuttings train` printed only n=395 per model: nothing said whether the team's
    labels were used. (The fitting itself is replaced here: what is checked is what it is given and said.)"""
    import nlp.classify
    from nlp.classify import TrainedModels

    given = {}

    def fake_train(records, scheme, out_dir, **kwargs):
        given["ids"] = [record["id"] for record in records]
        return TrainedModels([], {})
    monkeypatch.setattr(nlp.classify, "train_models", fake_train)
    monkeypatch.setattr(nlp.classify, "analyse_records", lambda records, analyser=None: records)
    db = store.connect(db_path)
    ids = ids_of(db)
    labelling.save_labels(db, ids["confident"], [("topics", "", "governance"), ("stance_governance", "", "favour")],
                          "officer")
    labelling.save_labels(db, ids["flagged"], [("topics", "", "finance")], "officer")   # no stance: not an example
    db.conn.close()
    models = tmp_path / "models"
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "train", "--models", str(models), "--no-slices"])
    assert result.exit_code == 0, result.output
    corpus = len(given["ids"]) - 1
    assert [i for i in given["ids"] if i.startswith("db-")] == [f"db-{ids['confident']}"] and corpus > 100
    assert (f"trained on {corpus + 1} articles: 1 labelled in {db_path}, {corpus} from the corpus; "
            "`cuttings classify` tags the articles with the new models") in result.stdout
    # the story whose topics alone were labelled (a tone-only session, a browser correction of one tone) is named
    assert (f"note: 1 labelled story was left out, as a story teaches the models only once its topics and "
            f"stance_governance are labelled too (article {ids['flagged']}): `cuttings label --article ID`"
            ) in result.stderr


def _quote(db, article_id: int, start: int, words: str) -> None:
    article = {"id": article_id, "content_hash": db.execute("SELECT content_hash FROM articles WHERE id = ?",
                                                            [article_id]).fetchone()[0]}
    store.replace_analysis(db, article, "v1", [], [{"speaker": "a spokesperson", "text": words, "start_char": start,
                                                    "end_char": start + len(words)}])


def test_quote_corrections_go_in_the_export_and_a_fresh_database_finds_their_quotes(db, tmp_path):
    """A quote's corrected speaker was left out of `--export`, so moving a team's labels to a new
    database lost it. The record now carries it by the quote's words (offsets differ between
    databases); a correction whose words are not quoted is counted, not imported."""
    ids = ids_of(db)
    _quote(db, ids["middling"], 10, "we were there all night")
    store.add_correction(db, ids["middling"], [("quote_speaker", "10:33", "Station Manager Jo Bloggs"),
                                               ("quote_entity", "10:33", "hwfrs")], "colleague")
    exported = tmp_path / "labels.jsonl"
    assert labelling.export_labels(db, exported, TASKS) == (1, 0)   # a story with quote corrections only
    [record] = [json.loads(line) for line in exported.read_text().splitlines()]
    at = db.execute("SELECT max(created_at) FROM labels").fetchone()[0]
    assert record["quote_corrections"] == [
        {"task": "quote_speaker", "quote": "we were there all night", "place": "10:33",
         "label": "Station Manager Jo Bloggs", "annotator": "colleague", "at": at},
        {"task": "quote_entity", "quote": "we were there all night", "place": "10:33", "label": "hwfrs",
         "annotator": "colleague", "at": at}]
    assert record["stance_governance"] is None and record["tone"] == {}
    fresh_ids = make_db(tmp_path / "fresh.db", order=["flagged", "middling", "confident", "copy", "unclassified"])
    fresh = store.connect(tmp_path / "fresh.db")
    _quote(fresh, fresh_ids["middling"], 42, "we were there all night")
    summary = labelling.import_labels(fresh, exported, TASKS, "someone-else")
    assert (summary.labels_added, summary.quotes_unmatched) == (2, 0)
    assert fresh.execute("SELECT speaker, entity_id, entity_method FROM quote_view WHERE article_id = ?",
                         [fresh_ids["middling"]]).fetchall() == [("Station Manager Jo Bloggs", "hwfrs", "corrected")]
    assert {row[0] for row in fresh.execute("SELECT annotator FROM labels")} == {"colleague"}
    assert labelling.import_labels(fresh, exported, TASKS, "someone-else").labels_added == 0
    record["quote_corrections"][0]["quote"] = "words nobody said"
    exported.write_text(json.dumps(record) + "\n")
    assert labelling.import_labels(fresh, exported, TASKS, "x").quotes_unmatched == 1
    record["quote_corrections"][1]["label"] = "fire_brigade_union"
    exported.write_text(json.dumps(record) + "\n")
    count = fresh.execute("SELECT count(*) FROM labels").fetchone()[0]
    with pytest.raises(labelling.LabellingError, match=r"labels\.jsonl:1: quote_corrections: 'fire_brigade_union' "
                                                       r"is not a watched body"):
        labelling.import_labels(fresh, exported, TASKS, "x")
    assert fresh.execute("SELECT count(*) FROM labels").fetchone()[0] == count
    fresh.conn.close()


def test_cli_classify_says_when_articles_wait_for_analyse(db_path, monkeypatch):
    """After `cuttings train` the officer ran `cuttings classify`: 'classified 0 articles (0 labels)' and
    nothing else, because the articles' analysis was an older analyser's (an upgrade). The models and
    the fitting are replaced here; the analysis stamps and the count are the database's."""
    import pipeline
    from cuttings import stages

    monkeypatch.setattr(pipeline, "load_classifier", lambda models_path=None: object())
    monkeypatch.setattr(stages, "check_models_fit", lambda classifier: [])
    monkeypatch.setattr(pipeline, "do_classify", lambda db, classifier, version, workers: {"articles": 0,
                                                                                           "classifications": 0})
    db = store.connect(db_path)
    for article_id, content_hash in db.execute("SELECT id, content_hash FROM articles").fetchall():
        store.mark_processed(db, article_id, "analyse", "an-older-analyser", content_hash)
    total = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    db.conn.close()
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "classify"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "classified 0 articles (0 labels)"
    version = pipeline.load_analyser().version
    assert result.stderr.strip() == (f"note: {total} articles wait for `cuttings analyse` (their analysis is not the "
                                     f"current analyser's, {version}): classify tags them after it (`cuttings run` "
                                     "does both)")


def test_cli_unlabel_takes_back_a_quote_correction_only_when_asked(db_path):
    db = store.connect(db_path)
    ids = ids_of(db)
    _quote(db, ids["middling"], 10, "we were there all night")
    store.add_correction(db, ids["middling"], [("quote_speaker", "10:33", "Jo Bloggs")], "colleague")
    labelling.save_labels(db, ids["middling"], [("stance_governance", "", "none")], "officer")
    db.conn.close()
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--unlabel", str(ids["middling"])])
    assert result.exit_code == 0 and "withdrew 1 label" in result.output   # the stance; the quote's stays
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--unlabel", str(ids["middling"]),
                                              "--task", "quote_speaker"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("  quote_speaker 10:33: Jo Bloggs (colleague, ")
    db = store.connect(db_path)
    assert db.execute("SELECT speaker FROM quote_view").fetchall() == [("a spokesperson",)]   # the machine's again
    assert db.execute("SELECT task, target, label FROM labels ORDER BY id").fetchall() == [
        ("quote_speaker", "10:33", "Jo Bloggs"), ("stance_governance", "", "none"),
        ("stance_governance", "", "__withdrawn__"), ("quote_speaker", "", "__withdrawn__")]
    assert store.quote_corrections(db) == []
    db.conn.close()
    result = CliRunner().invoke(cli_group(), ["--db", str(db_path), "label", "--task", "quote_speaker"])
    assert result.exit_code == 1 and "unknown task 'quote_speaker'" in result.output   # not a task of the screen


def test_a_teams_own_scheme_gets_no_precedents_from_the_shipped_seed_corpus(db, tmp_path, monkeypatch):
    """A Devon and Somerset team labelling to its own scheme saw West Mercia's seed-corpus stories as "labelled
    before" ("Views sought from West Midlands residents on precept ... topics: finance"), labels given to the
    shipped scheme, which `cuttings train` refuses for theirs; its own labels are its precedents."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "label_scheme.toml").write_text(
        'version = 1\n[tasks.topics]\nkind = "multi_label"\nlabels = ["incident", "finance", "other"]\n'
        'exclusive = "other"\nuncertain_below = 0.5\n', encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    record = next(r for r in load_corpus() if r["topics"] == ["finance"])
    team_tasks = list(labelling.load_label_tasks().values())
    precedents = labelling.Precedents.load(db, team_tasks)
    assert precedents is not None and precedents.nearest(record["title"], record["body"]) == []
    from cuttings import stages
    assert stages.foreign_seed_corpus()
    assert not any(entry[0].startswith("corpus ") for entry in precedents.entries)
    ids = ids_of(db)
    labelling.save_labels(db, ids["flagged"], [("topics", "", "finance")], "comms")
    own = labelling.Precedents.load(db, team_tasks)
    assert [entry[0::2] for entry in own.entries] == [(f"article {ids['flagged']}", "topics: finance")]
    # a corpus of the team's own (given, or corpus/ in the home folder) is read as before
    corpus = tmp_path / "corpus"
    (corpus / "articles").mkdir(parents=True)
    (corpus / "articles" / "ds-001.txt").write_text("Precept rise\nThe commissioner's budget.\n", encoding="utf-8")
    (corpus / "labels.jsonl").write_text(json.dumps({"id": "ds-001", "topics": ["finance"]}) + "\n", encoding="utf-8")
    given = labelling.Precedents.load(db, team_tasks, corpus_dir=corpus)
    assert "corpus ds-001" in [entry[0] for entry in given.entries]
