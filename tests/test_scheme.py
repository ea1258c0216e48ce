"""Label scheme and labelled-corpus loading."""

import json
import re

import pytest

from nlp.corpus import DEFAULT_CORPUS_DIR, load_corpus, load_jsonl
from cuttings import labelling
from nlp.scheme import SchemeError, check_label, load_scheme

CUSTOM_SCHEME = """
[entities]
acme_fire = "Acme Fire Service"

[tasks.topics]
kind = "multi_label"
labels = ["budget", "staff", "misc"]
exclusive = "misc"
uncertain_below = 0.4

[tasks.stance_merger]
kind = "single_label"
target = "Merging Acme Fire with the ambulance trust"
labels = ["favour", "against", "none"]
uncertain_below = 0.5

[tasks.tone]
kind = "per_entity"
entities = ["acme_fire"]
labels = ["positive", "negative", "neutral"]
uncertain_below = 0.5
"""


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_default_scheme_has_the_corpus_tasks():
    scheme = load_scheme()
    topics, stance, tone = scheme.tasks["topics"], scheme.tasks["stance_governance"], scheme.tasks["tone"]
    assert topics.kind == "multi_label" and topics.exclusive == "other"
    assert set(topics.labels) == {
        "governance", "collaboration", "finance", "legal", "incident",
        "prevention", "workforce", "inspection", "other",
    }
    assert stance.kind == "single_label" and stance.labels == ("favour", "against", "neutral", "none")
    assert "Commissioner" in stance.target
    assert tone.kind == "per_entity" and tone.entities == ("hwfrs", "sfrs", "wm_pcc")
    assert all(0 < task.uncertain_below < 1 for task in scheme.tasks.values())


def test_a_team_defines_its_own_topics_and_stance_target(tmp_path):
    scheme = load_scheme(write(tmp_path / "scheme.toml", CUSTOM_SCHEME))
    assert scheme.tasks["topics"].labels == ("budget", "staff", "misc")
    assert scheme.tasks["stance_merger"].target.startswith("Merging Acme")
    assert [t.name for t in scheme.tasks_of_kind("per_entity")] == ["tone"]


@pytest.mark.parametrize(
    "broken, message",
    [
        (CUSTOM_SCHEME.replace('kind = "single_label"', 'kind = "ranking"'), "kind must be one of"),
        (CUSTOM_SCHEME.replace('exclusive = "misc"', 'exclusive = "nothing"'), "exclusive"),
        (CUSTOM_SCHEME.replace('entities = ["acme_fire"]', 'entities = ["ghost"]'), "ghost"),
        (CUSTOM_SCHEME.replace("uncertain_below = 0.4", "uncertain_below = 4"), "uncertain_below"),
        (CUSTOM_SCHEME.replace('labels = ["budget", "staff", "misc"]', 'labels = ["budget", "budget"]'), "duplicate"),
        ("[tasks", "invalid TOML"),
        (CUSTOM_SCHEME.replace("[tasks.stance_merger]", "[tasks.quotes]"), "'quotes' names a field of every labelled record"),
        (CUSTOM_SCHEME.replace('exclusive = "misc"', 'exclusive = "misc"\ncues = { misc = ["other"] }'),
         "cues labels not among its labels \\(the exclusive one has none\\): misc"),
        (CUSTOM_SCHEME.replace('exclusive = "misc"', 'exclusive = "misc"\ncues = { pay = ["wage"] }'),
         "cues labels not among its labels .*: pay"),
        (CUSTOM_SCHEME.replace('exclusive = "misc"', 'exclusive = "misc"\ncues = { budget = "precept" }'),
         "cues.budget must be a non-empty list of strings"),
        (CUSTOM_SCHEME.replace('exclusive = "misc"', 'exclusive = "misc"\ncues = { budget = ["  "] }'),
         "a word or phrase is blank"),
        (CUSTOM_SCHEME.replace('target = "Merging', 'cues = { favour = ["yes"] }\ntarget = "Merging'),
         "cues is only allowed for multi_label and per_entity tasks"),
        (CUSTOM_SCHEME + 'cues = { negative = ["cuts"], bad = ["poor"] }\n',
         r"\[tasks.tone\] cues labels not among its labels: bad$"),
        (CUSTOM_SCHEME + 'cues = { negative = [] }\n', r"\[tasks.tone\] cues.negative must be a non-empty list of strings"),
        (CUSTOM_SCHEME + 'cues = { negative = ["cuts", "cuts"] }\n', r"\[tasks.tone\] cues.negative has duplicate entries"),
        (CUSTOM_SCHEME + 'cues = { positive = [" \t"] }\n', r"\[tasks.tone\] cues: a word or phrase is blank"),
        (CUSTOM_SCHEME + 'cues = ["cuts"]\n', r"\[tasks.tone\] cues must be a table of label"),
        (CUSTOM_SCHEME + 'cues = {}\n', r"\[tasks.tone\] cues must be a table of label"),
        (CUSTOM_SCHEME.replace("[tasks.stance_merger]", "[tasks.title]"), "'title' names a field of every labelled record"),
    ],
)
def test_invalid_scheme_raises_one_line_error(tmp_path, broken, message):
    with pytest.raises(SchemeError, match=message) as error:
        load_scheme(write(tmp_path / "scheme.toml", broken))
    assert "\n" not in str(error.value)


def test_missing_scheme_file(tmp_path):
    with pytest.raises(SchemeError, match="cannot read label scheme"):
        load_scheme(tmp_path / "absent.toml")


def record(record_id, **fields):
    base = {
        "id": record_id,
        "title": "Fire service budget agreed",
        "body": "Shropshire Fire and Rescue Service agreed its budget.",
        "entities": {"sfrs": ["Shropshire Fire and Rescue Service"]},
        "topics": ["finance"],
        "stance_governance": "none",
        "tone": {"sfrs": "neutral"},
    }
    base.update(fields)
    return json.dumps(base)


def test_label_outside_scheme_names_record_and_line(tmp_path):
    path = write(tmp_path / "labels.jsonl", record("a-1") + "\n" + record("a-2", topics=["finance", "weather"]) + "\n")
    with pytest.raises(SchemeError) as error:
        load_jsonl(path, load_scheme())
    message = str(error.value)
    assert "labels.jsonl:2:" in message and "'a-2'" in message and "'weather'" in message


def test_broken_json_names_the_full_path_line_and_column(tmp_path):
    broken = record("a-2")[:40]  # cut inside a string: the file was truncated
    path = write(tmp_path / "labels.jsonl", record("a-1") + "\n\n" + broken + "\n")
    with pytest.raises(SchemeError) as error:
        load_jsonl(path, load_scheme())
    column = broken.rindex('"') + 1  # where the unterminated string starts, counted from 1
    assert str(error.value) == (f"{path}:3: invalid JSON: Unterminated string starting at line 3, "
                                f"column {column}")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"topics": ["other", "finance"]}, "must stand alone"),
        ({"stance_governance": "sceptical"}, "'sceptical'"),
        ({"tone": {"sfrs": "furious"}}, "'furious'"),
        ({"tone": {"west_mercia_police": "neutral"}}, "'west_mercia_police'"),
        ({"tone": {"hwfrs": "neutral"}}, "no surface forms"),
        ({"entities": {"martians": ["Mars"]}}, "'martians'"),
    ],
)
def test_records_are_validated_against_the_scheme(tmp_path, fields, message):
    path = write(tmp_path / "labels.jsonl", record("b-1", **fields) + "\n")
    with pytest.raises(SchemeError, match=message):
        load_jsonl(path, load_scheme())


@pytest.mark.parametrize(
    "task, value, message",
    [
        ("topics", ["finance", "weather"], "topics label 'weather' is not in the scheme (governance, "),
        ("topics", [], "must be a non-empty list"),
        ("stance_governance", ["favour"], "label ['favour'] is not in the scheme"),
        ("tone", {"martians": "neutral"}, "entity 'martians' is not in the scheme (hwfrs, sfrs, wm_pcc)"),
        ("tone", "neutral", "must be an object of entity id -> label"),
    ],
)
def test_corpus_loading_and_label_import_share_one_check(task, value, message):
    """The same bad value gets the same message from the scheme and from `label --import`."""
    with pytest.raises(SchemeError, match=re.escape(message)) as from_scheme:
        check_label(load_scheme().tasks[task], value, "f.jsonl:3")
    with pytest.raises(labelling.LabellingError) as from_import:
        labelling.validate_record({task: value}, labelling.load_label_tasks(), "f.jsonl:3")
    assert str(from_import.value) == str(from_scheme.value)


def test_check_label_normalises_topics_to_scheme_order():
    assert check_label(load_scheme().tasks["topics"], ["legal", "governance", "legal"], "x") == ["governance", "legal"]


def test_text_read_from_articles_folder_beside_the_jsonl(tmp_path):
    (tmp_path / "articles").mkdir()
    write(tmp_path / "articles" / "c-1.txt", "Headline here\nFirst paragraph.\n\nSecond paragraph.\n")
    line = json.dumps({"id": "c-1", "date": "2020-01-02", "topics": ["other"], "stance_governance": "none"})
    records = load_jsonl(write(tmp_path / "labels.jsonl", line + "\n"), load_scheme())
    assert records[0]["title"] == "Headline here"
    assert records[0]["body"] == "First paragraph.\n\nSecond paragraph."
    assert records[0]["tone"] is None and records[0]["date"] == "2020-01-02"


def test_seed_corpus_loads():
    records = load_corpus()
    raw = [json.loads(line) for line in (DEFAULT_CORPUS_DIR / "labels.jsonl").read_text().splitlines() if line]
    assert len(records) == len(raw) == len(list((DEFAULT_CORPUS_DIR / "articles").glob("*.txt")))
    first = records[0]
    assert set(first) == {"id", "title", "body", "date", "topics", "stance_governance", "tone", "entities"}
    assert first["id"] == raw[0]["id"] and first["title"] and first["body"]
    assert sum("other" in r["topics"] for r in records) == sum("other" in r["topics"] for r in raw)
    # Corpus v2: every gathering slice (id prefix) is there.
    assert {r["id"].split("-")[0] for r in records} == {"t1", "t2", "t3", "gov", "hw", "sh", "neg"}


def test_absent_label_belongs_to_a_single_label_task(tmp_path):
    scheme = load_scheme()
    assert scheme.tasks["stance_governance"].absent == "none" and scheme.tasks["topics"].absent is None
    path = tmp_path / "scheme.toml"
    text = (DEFAULT_CORPUS_DIR.parent / "label_scheme.toml").read_text()
    path.write_text(text.replace('absent = "none"', 'absent = "nothing"'))
    with pytest.raises(SchemeError, match="absent must be one of its labels"):
        load_scheme(path)
    path.write_text(text.replace('exclusive = "other"', 'exclusive = "other"\nabsent = "other"'))
    with pytest.raises(SchemeError, match="single_label tasks only"):
        load_scheme(path)


def test_a_team_gives_its_topics_their_own_cue_words(tmp_path):
    """Topic evidence counts the paragraphs about each topic; a team names the words of its own topics
    (whole words, any case, a phrase's spaces any whitespace), literal: no pattern of its own."""
    from nlp.features import team_cue_patterns, topic_evidence
    scheme = load_scheme(write(tmp_path / "scheme.toml", CUSTOM_SCHEME.replace(
        'exclusive = "misc"', 'exclusive = "misc"\ncues = { budget = ["council  tax", "precept", "£4m (a.k.a"], '
                              'staff = ["firefighters", "pay"] }')))
    assert scheme.tasks["topics"].cues == (("budget", ("council tax", "precept", "£4m (a.k.a")),
                                           ("staff", ("firefighters", "pay")))
    patterns = team_cue_patterns(dict(scheme.tasks["topics"].cues))
    assert patterns.names == ["budget", "staff"]
    paragraphs = ["Precept rise agreed", "The COUNCIL\nTAX goes up; taxing times.", "Firefighters' pay: pay talks.",
                  "A £4m (a.k.a saving)", "Repayment and prepay are no pay."]
    evidence = topic_evidence(paragraphs, patterns)
    assert evidence["budget:title"] == 1.0 and evidence["staff:title"] == 0.0
    assert evidence["budget:share"] == 2 / 4 and evidence["staff:share"] == 2 / 4
    assert evidence["staff:strong"] > 0 and evidence["budget:strong"] == 0
    assert not any(key.startswith("governance:") for key in evidence)
    shipped = topic_evidence(paragraphs)
    assert "governance:share" in shipped and "budget:share" not in shipped


def test_a_team_gives_its_tone_task_its_own_cue_words(tmp_path):
    """The tone (per_entity) task names its own cue words per label (negative, positive...), as the topics
    do: whole words, any case, literal; the tone cues are counted from them in place of the shipped ones."""
    from nlp.features import team_cue_patterns, tone_cues
    scheme = load_scheme(write(tmp_path / "scheme.toml", CUSTOM_SCHEME
                               + 'cues = { negative = ["waiting  list", "cancelled"], positive = ["praised"] }\n'))
    tone = scheme.tasks["tone"]
    assert tone.cues == (("negative", ("waiting list", "cancelled")), ("positive", ("praised",)))
    assert scheme.tasks["topics"].cues == ()
    patterns = team_cue_patterns(dict(tone.cues))
    counted = tone_cues(["The WAITING\nlist grew; operations cancelled.", "Staff praised; uncancelled."], "near",
                        patterns)
    assert set(counted) == {"near:negative", "near:positive"}
    assert counted["near:negative"] > counted["near:positive"] > 0
    assert tone_cues(["The station will close; crews rescued two."], "near", patterns) == {}
    assert set(tone_cues(["The station will close; crews rescued two."], "near")) == {"near:closure", "near:rescue"}



@pytest.mark.parametrize("old, new, message", [
    ('exclusive = "other"', 'exclusve = "other"',
     "[tasks.topics] unknown key 'exclusve' (did you mean 'exclusive'?"),
    ('absent = "none"', 'absnet = "none"', "[tasks.stance_governance] unknown key 'absnet' (did you mean 'absent'?"),
    ('short_target =', 'shorttarget =', "unknown key 'shorttarget' (did you mean 'short_target'?"),
    ("version = 1", "version = 1\nfoo = 2", "label_scheme.toml: unknown key 'foo' (known: entities, tasks, version)"),
    # a misspelt threshold names the key, not "uncertain_below must be a number in [0, 1], got None"
    ("uncertain_below = 0.5", "uncertain_bellow = 0.5",
     "[tasks.topics] unknown key 'uncertain_bellow' (did you mean 'uncertain_below'?"),
])
def test_a_misspelt_key_in_the_scheme_is_refused_with_did_you_mean(tmp_path, old, new, message):
    from cuttings import paths
    packaged = paths.package_data("label_scheme.toml").read_text(encoding="utf-8")
    assert old in packaged
    path = write(tmp_path / "label_scheme.toml", packaged.replace(old, new, 1))
    with pytest.raises(SchemeError) as error:
        load_scheme(path)
    assert message in str(error.value) and str(error.value).startswith(str(path))
    assert "\n" not in str(error.value)


def test_a_task_without_its_threshold_says_the_key_is_missing(tmp_path):
    path = write(tmp_path / "s.toml", CUSTOM_SCHEME.replace("uncertain_below = 0.4\n", ""))
    with pytest.raises(SchemeError, match=r"\[tasks.topics\] missing key 'uncertain_below'"):
        load_scheme(path)
