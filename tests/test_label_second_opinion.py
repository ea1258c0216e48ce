"""A second annotator's labels imported from a file record her agreement too (`cuttings label --import FILE
--second-opinion`; carried from sessions 21-22: "`--annotator` imports store only what differs").

`--import FILE --annotator NAME` reads the file as NAME's edits of a file (an export she corrected): a label left
as the file showed it is no answer, so only what differs from the labels here is stored. That is right for an
edited export (storing every unchanged value as her answer, given now, would make stale values the newest answer
everywhere), but a second annotator's own labels (a blind second opinion for inter-annotator agreement) lost
every agreement: the table said nothing of the questions she answered the same. And a `label --export` file of
her own database, imported without `--annotator`, recorded her agreement only when given after the label here.
With `--second-opinion` each label of the file is stored as its annotator's answer, agreeing or not (an older one
does not stand: the newest label still wins); importing the file again adds nothing.
"""
from __future__ import annotations

import json

from click.testing import CliRunner

from cuttings import labelling, store
from tests.test_label import cli_group, ids_of, make_db

T1 = "2026-11-20T09:00:00Z"
T2 = "2026-11-21T09:00:00Z"
AGREEMENT_SQL = """
SELECT article_id, task, target, group_concat(annotator || ': ' || label, '; ')
FROM (SELECT DISTINCT article_id, task, target, label, annotator FROM labels
      WHERE label NOT IN ('__rejected__', '__withdrawn__') ORDER BY annotator, label)
GROUP BY article_id, task, target ORDER BY article_id, task, target"""


def _run(path, *args, at=None):
    def invoke():
        return CliRunner().invoke(cli_group(), ["--db", str(path), "label", *args])
    if at is None:
        return invoke()
    with store.clock(at):
        return invoke()


def _db(tmp_path):
    """A database whose first annotator, jsmith, labelled two stories at T1."""
    path = tmp_path / "cuttings.db"
    make_db(path)
    db = store.connect(path)
    ids = ids_of(db)
    store.add_labels(db, [(ids["flagged"], "stance_governance", "", "against", "jsmith"),
                          (ids["flagged"], "tone", "sfrs", "negative", "jsmith"),
                          (ids["flagged"], "topics", "", "finance", "jsmith"),
                          (ids["middling"], "stance_governance", "", "none", "jsmith")], at=T1)
    db.conn.close()
    return path, ids


def _answers(path) -> list[tuple]:
    db = store.connect(path)
    try:
        return [tuple(row) for row in db.execute(AGREEMENT_SQL)]
    finally:
        db.conn.close()


def _standing(path, ids) -> dict:
    db = store.connect(path)
    try:
        return {key: labelling.human_labels(db, labelling.load_label_tasks(), [ids[key]])[ids[key]]
                for key in ("flagged", "middling")}
    finally:
        db.conn.close()


def _second_opinion_file(tmp_path):
    """akhan's own labels of the two stories, no times (a spreadsheet's, a script's): she agrees on the flagged
    story's stance, tone and topics and disagrees on the middling one's stance."""
    path = tmp_path / "akhan.jsonl"
    path.write_text(json.dumps({"url": "https://news.example/flagged", "stance_governance": "against",
                                "tone": {"sfrs": "negative"}, "topics": ["finance"]}) + "\n"
                    + json.dumps({"url": "https://news.example/middling", "stance_governance": "neutral"}) + "\n")
    return path


def test_a_second_annotators_agreement_is_recorded(tmp_path):
    path, ids = _db(tmp_path)
    label_file = _second_opinion_file(tmp_path)
    result = _run(path, "--import", str(label_file), "--annotator", "akhan", "--second-opinion", at=T2)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"imported {label_file}: 2 records; 4 labels added, 2 articles changed"
    assert "note: 3 labels in the file agree with the label here: recorded as akhan's (--second-opinion)" \
        in result.output
    flagged, middling = ids["flagged"], ids["middling"]
    assert _answers(path) == [
        (flagged, "stance_governance", "", "akhan: against; jsmith: against"),
        (flagged, "tone", "sfrs", "akhan: negative; jsmith: negative"),
        (flagged, "topics", "", "akhan: finance; jsmith: finance"),
        (middling, "stance_governance", "", "akhan: neutral; jsmith: none")]
    # the newest stands, as ever: her different answer replaces his, her agreement changes nothing
    assert _standing(path, ids)["middling"]["stance_governance"] == "neutral"
    assert _standing(path, ids)["flagged"] == {"stance_governance": "against", "tone": {"sfrs": "negative"},
                                               "topics": ["finance"], "annotator": "akhan"}
    # importing it again adds nothing
    again = _run(path, "--import", str(label_file), "--annotator", "akhan", "--second-opinion")
    assert again.exit_code == 0 and again.output.splitlines()[0].endswith("2 records; nothing changed")


def test_without_it_annotator_stores_only_what_differs(tmp_path):
    """The default is unchanged: an edited file's unchanged labels are no answers."""
    path, ids = _db(tmp_path)
    result = _run(path, "--import", str(_second_opinion_file(tmp_path)), "--annotator", "akhan", at=T2)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].endswith("2 records; 1 label added, 1 article changed")
    assert [row[3] for row in _answers(path)] == ["jsmith: against", "jsmith: negative", "jsmith: finance",
                                                  "akhan: neutral; jsmith: none"]


def test_an_older_second_opinion_from_another_database_is_recorded_and_does_not_stand(tmp_path):
    """akhan labelled in her own database before jsmith did here: imported without --annotator (names and times
    kept) her agreement was dropped as not newer; with --second-opinion every answer is recorded at its time, and
    jsmith's newer labels still stand."""
    path, ids = _db(tmp_path)
    hers = tmp_path / "hers.db"
    make_db(hers)
    db = store.connect(hers)
    theirs = ids_of(db)
    store.add_labels(db, [(theirs["flagged"], "stance_governance", "", "against", "akhan"),
                          (theirs["flagged"], "topics", "", "finance", "akhan"),
                          (theirs["middling"], "stance_governance", "", "favour", "akhan")], at="2026-11-19T09:00:00Z")
    db.conn.close()
    exported = tmp_path / "hers.jsonl"
    assert _run(hers, "--export", str(exported), at=T2).exit_code == 0
    plain = tmp_path / "plain.db"
    make_db(plain)
    db = store.connect(plain)
    store.add_labels(db, [(ids_of(db)["flagged"], "stance_governance", "", "against", "jsmith")], at=T1)
    db.conn.close()
    assert _run(plain, "--import", str(exported), at=T2).exit_code == 0   # her other labels: new here, stored
    assert _answers(plain)[0][1:] == ("stance_governance", "", "jsmith: against")   # her agreement: dropped
    result = _run(path, "--import", str(exported), "--second-opinion", at=T2)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"imported {exported}: 2 records; 3 labels added, 2 articles changed"
    flagged, middling = ids["flagged"], ids["middling"]
    assert _answers(path) == [
        (flagged, "stance_governance", "", "akhan: against; jsmith: against"),
        (flagged, "tone", "sfrs", "jsmith: negative"),
        (flagged, "topics", "", "akhan: finance; jsmith: finance"),
        (middling, "stance_governance", "", "akhan: favour; jsmith: none")]
    assert _standing(path, ids)["middling"]["stance_governance"] == "none"   # his, newer, stands
    again = _run(path, "--import", str(exported), "--second-opinion", at=T2)
    assert again.output.splitlines()[0].endswith("2 records; nothing changed")


def test_second_opinion_is_refused_where_it_means_nothing(tmp_path):
    """Without --import, and for a `cuttings export` story (its values are the models' predictions, not a
    person's answers): one line, exit 1, nothing written."""
    path, ids = _db(tmp_path)
    result = _run(path, "--export", str(tmp_path / "out.jsonl"), "--second-opinion")
    assert result.exit_code == 1
    assert result.output.splitlines() == ["Error: --second-opinion goes with --import: a second annotator's label "
                                          "file (cuttings label --import FILE --annotator NAME --second-opinion)"]
    before = _answers(path)
    story = tmp_path / "stories.jsonl"
    story.write_text(json.dumps({"article_id": ids["flagged"], "url": "https://news.example/flagged",
                                 "stance": "against", "topics": ["finance"], "tone": {}}) + "\n")
    result = _run(path, "--import", str(story), "--annotator", "akhan", "--second-opinion")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: {story}:1: a cuttings export story holds the models' predictions, so only what was changed in it "
        "is an answer: import it without --second-opinion"]
    assert _answers(path) == before
