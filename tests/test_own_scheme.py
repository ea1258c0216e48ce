"""A team with its own label scheme trains on a corpus labelled to it (`--corpus`), or on its home
folder's corpus; the shipped seed corpus that does not fit says how, in one line."""
import json

import pytest

from cuttings import paths
from nlp.corpus import load_corpus
from tests.conftest import invoke_cli


def _team_home(tmp_path):
    """A home folder whose label scheme has no `prevention` topic."""
    packaged = paths.package_data("label_scheme.toml").read_text(encoding="utf-8")
    scheme = packaged.replace('    "prevention",     # safety campaigns, smoke alarms, enforcement\n', "")
    assert scheme != packaged
    (tmp_path / "label_scheme.toml").write_text(scheme, encoding="utf-8")
    return tmp_path


def _relabelled_corpus(path, every: int = 2) -> list[dict]:
    """Every ``every``-th seed corpus record with `prevention` dropped (`other` if nothing is left), title
    and body inline: the JSONL a team would write (as `cuttings label --export` does)."""
    records = []
    for record in load_corpus()[::every]:
        topics = [topic for topic in record["topics"] if topic != "prevention"] or ["other"]
        records.append({**record, "topics": topics})
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return records


def test_a_seed_corpus_that_does_not_fit_the_scheme_says_how_to_give_one(tmp_path):
    home = _team_home(tmp_path)
    env = {"CUTTINGS_HOME": str(home)}
    result = invoke_cli("--db", str(home / "c.db"), "train", "--models", str(home / "models"), env=env)
    error = result.stderr.decode()
    assert result.returncode == 1 and error.count("\n") == 1
    assert "topics label 'prevention' is not in the scheme" in error and "--corpus DIR" in error
    result = invoke_cli("--db", str(home / "c.db"), "train", "--models", str(home / "models"),
                        "--corpus", "none", env=env)
    assert result.returncode == 1 and "no labelled articles to train on" in result.stderr.decode()
    result = invoke_cli("--db", str(home / "c.db"), "train", "--corpus", str(home / "missing"), env=env)
    assert result.returncode == 1 and "no labelled corpus at" in result.stderr.decode()
    assert not (home / "models").exists()


def test_the_home_folders_corpus_replaces_the_seed_corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path))
    assert paths.corpus_dir() == paths.package_data("corpus")
    (tmp_path / "corpus").mkdir()
    assert paths.corpus_dir() == paths.package_data("corpus")  # no labels.jsonl: not a corpus
    (tmp_path / "corpus" / "labels.jsonl").write_text("", encoding="utf-8")
    assert paths.corpus_dir() == tmp_path / "corpus"


@pytest.mark.slow
def test_a_team_trains_on_a_corpus_labelled_to_its_own_scheme(tmp_path):
    home = _team_home(tmp_path)
    records = _relabelled_corpus(home / "mine.jsonl")
    result = invoke_cli("--db", str(home / "c.db"), "train", "--models", str(home / "models"), "--no-slices",
                        "--folds", "2", "--corpus", str(home / "mine.jsonl"), env={"CUTTINGS_HOME": str(home)})
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    card = json.loads((home / "models" / "topics.json").read_text(encoding="utf-8"))
    assert "prevention" not in card["labels"] and "governance" in card["labels"]
    assert card["n_examples"] == len(records)


def test_the_home_folders_corpus_is_what_training_reads(tmp_path, monkeypatch):
    import pipeline
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "labels.jsonl").write_text(json.dumps(
        {"id": "mine-001", "title": "Crews rescue family from flood", "body": "Firefighters pulled a family out.",
         "topics": ["incident"], "stance_governance": "none", "tone": {}}) + "\n", encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path))
    assert [record["id"] for record in pipeline.training_records()] == ["mine-001"]
    assert pipeline.training_records(corpus_dir="none") == []


def test_bad_corpus_input_is_one_line(tmp_path):
    env = {"CUTTINGS_HOME": str(tmp_path)}
    (tmp_path / "empty-dir").mkdir()
    (tmp_path / "latin1.jsonl").write_bytes('{"id": "x", "title": "Caf\xe9"}\n'.encode("latin-1"))
    (tmp_path / "table.csv").write_text("id,topics\nx,finance\n", encoding="utf-8")
    for corpus, expected in (("empty-dir", "no labelled corpus at"), ("latin1.jsonl", "cannot read the labelled corpus"),
                             ("table.csv", "invalid JSON")):
        result = invoke_cli("--db", str(tmp_path / "c.db"), "train", "--corpus", str(tmp_path / corpus), env=env)
        error = result.stderr.decode()
        assert result.returncode == 1 and error.count("\n") == 1 and expected in error, error
        assert "Traceback" not in error and "--corpus DIR|FILE" in error
    result = invoke_cli("evaluate", "stance_governance", "--corpus", str(tmp_path / "table.csv"),
                        "--data", str(tmp_path / "table.csv"), env=env)
    assert result.returncode == 1 and "give one of them" in result.stderr.decode()


def test_an_exported_file_of_this_databases_labels_is_not_counted_twice(tmp_path):
    from cuttings import labelling, store
    from nlp.scheme import load_scheme

    import pipeline
    from tests.test_label import make_db
    ids = make_db(tmp_path / "c.db")
    db = store.connect(tmp_path / "c.db")
    labelling.save_labels(db, ids["flagged"], [("topics", "", "finance"), ("stance_governance", "", "against"),
                                               ("tone", "sfrs", "negative")], "ana")
    tasks = labelling.load_label_tasks()
    assert labelling.export_labels(db, tmp_path / "mine.jsonl", tasks) == (1, 0)
    records = pipeline.training_records(db, tmp_path / "mine.jsonl", load_scheme())
    assert [record["id"] for record in records] == [f"db-{ids['flagged']}"]
    # the same id from another database (another headline) is another article: both kept
    other = json.loads((tmp_path / "mine.jsonl").read_text(encoding="utf-8"))
    other["title"] = "Another database's story"
    (tmp_path / "other.jsonl").write_text(json.dumps(other) + "\n", encoding="utf-8")
    assert len(pipeline.training_records(db, tmp_path / "other.jsonl", load_scheme())) == 2


@pytest.mark.slow
def test_a_team_evaluates_on_a_corpus_labelled_to_its_own_scheme(tmp_path):
    home = _team_home(tmp_path)
    records = _relabelled_corpus(home / "mine.jsonl", every=4)
    result = invoke_cli("evaluate", "topics", "--folds", "2", "--json", "--corpus", str(home / "mine.jsonl"),
                        env={"CUTTINGS_HOME": str(home)})
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    report = json.loads(result.stdout)["topics"]
    labels = set(report["per_label"])
    assert "prevention" not in labels and {"governance", "incident"} <= labels
    assert report["n_examples"] == len(records)


def test_a_tone_for_a_body_the_watchlist_does_not_watch_is_one_line_before_training(tmp_path):
    """A team that renames a body in its watchlist but not in the scheme (or keeps the shipped
    scheme) would get a tone model for a body the analyser never finds: its tone never given."""
    from cuttings.doctor import check_scheme
    packaged = paths.package_data("watchlist.toml").read_text(encoding="utf-8")
    watchlist = packaged.replace('id = "wm_pcc"', 'id = "pcc"')
    assert watchlist != packaged
    (tmp_path / "watchlist.toml").write_text(watchlist, encoding="utf-8")
    env = {"CUTTINGS_HOME": str(tmp_path)}
    result = invoke_cli("--db", str(tmp_path / "c.db"), "train", "--models", str(tmp_path / "models"), env=env)
    error = result.stderr.decode()
    assert result.returncode == 1 and error.count("\n") == 1, error
    assert "[tasks.tone] entity 'wm_pcc' not in" in error and str(tmp_path / "watchlist.toml") in error
    assert "its ids: " in error and "pcc" in error
    assert not (tmp_path / "models").exists()
    check = check_scheme(paths.package_data("label_scheme.toml"), tmp_path / "watchlist.toml")
    assert check.status == "error" and "'wm_pcc' not in" in check.message and "cuttings train" in check.fix
    shipped = check_scheme(paths.package_data("label_scheme.toml"), paths.package_data("watchlist.toml"))
    assert shipped.status == "ok", shipped.message


@pytest.mark.slow
def test_a_task_with_too_few_labels_is_skipped_and_the_others_are_trained(tmp_path):
    """A team labelling its own watch has topics and tones long before it has stance labels: `train`
    trains what it can, says which task it left and why, and the stories get those predictions."""
    from nlp.classify import Classifier
    records = []
    for index, record in enumerate(load_corpus()[::3]):
        records.append({**record, "stance_governance": record["stance_governance"] if index < 4 else None})
    (tmp_path / "mine.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    models = tmp_path / "models"
    result = invoke_cli("--db", str(tmp_path / "c.db"), "train", "--models", str(models), "--no-slices", "--folds", "2",
                        "--corpus", str(tmp_path / "mine.jsonl"), env={"CUTTINGS_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    warnings = [line for line in result.stderr.decode().splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.stderr.decode()
    assert warnings[0].startswith("warning: stance_governance not trained: too few labelled examples to learn from (")
    assert "cuttings label" in warnings[0] and "there is no stance_governance model" in warnings[0]
    assert sorted(path.name for path in models.glob("*.json")) == ["tone.json", "topics.json"]
    classifier = Classifier.load(models)
    record = records[0]
    prediction = classifier.predict({"title": record["title"], "body": record["body"], "mentions": [], "quotes": []})
    assert "topics" in prediction and "stance_governance" not in prediction



def test_a_previous_model_of_a_skipped_task_stays_only_if_it_can_serve(tmp_path):
    """A task not trained keeps its model when that model loads with this install and gives the scheme's
    labels; otherwise (it would make `Classifier.load` refuse every model, or predict labels the scheme
    dropped) it is moved to set-aside/, not deleted, and the warning says so."""
    from nlp.classify import SET_ASIDE_DIR, _keep_or_set_aside, _library_versions
    from nlp.scheme import load_scheme
    task = load_scheme().tasks["stance_governance"]
    assert _keep_or_set_aside(tmp_path, task) == ("there is no stance_governance model, so stories get no "
                                                  "stance_governance until it is trained")
    card = {"model_version": "stance_governance-1", "labels": ["favour", "against", "neutral", "none"],
            "library_versions": _library_versions()}
    (tmp_path / "stance_governance.json").write_text(json.dumps(card), encoding="utf-8")
    (tmp_path / "stance_governance.skops").write_bytes(b"model")
    assert _keep_or_set_aside(tmp_path, task) == "its previous model (stance_governance-1) stays in use"
    assert (tmp_path / "stance_governance.skops").exists()
    for stale, expected in (({"library_versions": {**_library_versions(), "sklearn": "1.0.0"}},
                             "was saved with sklearn 1.0.0 ("),
                            ({"labels": ["favour", "against", "undecided", "none"]},
                             "predicts labels the scheme no longer has (undecided)")):
        (tmp_path / "stance_governance.json").write_text(json.dumps({**card, **stale}), encoding="utf-8")
        (tmp_path / "stance_governance.skops").write_bytes(b"model")
        note = _keep_or_set_aside(tmp_path, task)
        assert note.startswith("its previous model (stance_governance-1) ") and expected in note
        assert f"moved to {tmp_path / SET_ASIDE_DIR}" in note and note.endswith("until it is trained")
        assert not list(tmp_path.glob("stance_governance.*"))
        assert sorted(path.name for path in (tmp_path / SET_ASIDE_DIR).iterdir()) == [
            "stance_governance.json", "stance_governance.skops"]


def test_no_task_trainable_is_one_line_naming_each(tmp_path):
    records = [{**record, "topics": ["finance"], "stance_governance": "none", "tone": {}}
               for record in load_corpus()[:6]]
    (tmp_path / "mine.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    result = invoke_cli("--db", str(tmp_path / "c.db"), "train", "--models", str(tmp_path / "models"), "--no-slices",
                        "--folds", "2", "--corpus", str(tmp_path / "mine.jsonl"), env={"CUTTINGS_HOME": str(tmp_path)})
    error = result.stderr.decode()
    assert result.returncode == 1 and error.count("\n") == 1, error
    assert error.startswith("Error: no model trained: topics: ") and "; stance_governance: " in error


def _two_records(path, with_entities: bool):
    base = {"title": "Crews rescue family from flood at Tenbury",
            "body": "Hereford and Worcester Fire and Rescue Service crews pulled a family from a car.",
            "topics": ["incident"], "stance_governance": "none", "tone": {"hwfrs": "positive"}}
    first = {**base, "id": "mine-001"}
    second = {**base, "id": "mine-002", **({"entities": {"hwfrs": ["Hereford and Worcester Fire and Rescue Service"]}}
                                          if with_entities else {})}
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n", encoding="utf-8")


def test_a_record_may_rate_bodies_without_listing_their_names(tmp_path):
    """The classifiers read the analyser's mentions, so a team's own file needs no surface forms to
    rate a body; one that lists entities must list the body it rates; entity evaluation leaves the
    records without `entities` out and says how many."""
    from nlp.corpus import load_jsonl
    from nlp.scheme import SchemeError, load_scheme
    _two_records(tmp_path / "mine.jsonl", with_entities=True)
    records = load_jsonl(tmp_path / "mine.jsonl", load_scheme())
    assert [record["entities"] for record in records] == [None, {"hwfrs": ["Hereford and Worcester Fire and Rescue Service"]}]
    assert [record["tone"] for record in records] == [{"hwfrs": "positive"}] * 2
    contradicting = json.loads((tmp_path / "mine.jsonl").read_text(encoding="utf-8").splitlines()[1])
    contradicting["entities"] = {"sfrs": ["Shropshire Fire and Rescue Service"]}
    (tmp_path / "bad.jsonl").write_text(json.dumps(contradicting) + "\n", encoding="utf-8")
    with pytest.raises(SchemeError, match="tone labels entity 'hwfrs' but lists no surface forms for it"):
        load_jsonl(tmp_path / "bad.jsonl", load_scheme())
    result = invoke_cli("evaluate", "entities", "--json", "--corpus", str(tmp_path / "mine.jsonl"))
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    report = json.loads(result.stdout)["entities"]
    assert report["articles"] == 1 and report["without_entities"] == 1
    assert report["per_entity"]["hwfrs"]["support"] == 1
    _two_records(tmp_path / "none.jsonl", with_entities=False)
    result = invoke_cli("evaluate", "entities", "--corpus", str(tmp_path / "none.jsonl"))
    error = result.stderr.decode()
    assert result.returncode == 1 and error.count("\n") == 1 and "has no 'entities' field" in error, error


@pytest.mark.slow
def test_a_topics_model_counts_the_teams_own_cue_words(tmp_path, monkeypatch):
    """A scheme's `cues` are the topic evidence its model learns from and predicts with (kept in the
    model, so prediction counts what training counted), in place of the shipped topics' patterns."""
    import nlp.classify as classify
    from nlp.scheme import load_scheme
    packaged = paths.package_data("label_scheme.toml").read_text(encoding="utf-8")
    head, _, _ = packaged.partition("[tasks.stance_governance]")
    cued = head.replace('exclusive = "other"', 'exclusive = "other"\ncues = { finance = ["budget", "council tax"], '
                                                'incident = ["blaze", "crash"] }')
    assert cued != head
    scheme = load_scheme((tmp_path / "label_scheme.toml").write_text(cued, encoding="utf-8") and
                         tmp_path / "label_scheme.toml")
    assert list(scheme.tasks) == ["topics"]
    records = [record for record in load_corpus(scheme=scheme)[::2]]
    cards = classify.train_models(records, scheme, tmp_path / "models", folds=2, slices=False)
    assert [card["task"] for card in cards] == ["topics"]
    model = classify.Classifier.load(tmp_path / "models")
    bundle = model.bundles["topics"]
    assert bundle["cues"] == {"finance": ["budget", "council tax"], "incident": ["blaze", "crash"]}
    union = bundle["pipeline"].named_steps["features"]
    evidence = dict(union.transformer_list)["evidence"].named_steps["vectorise"]
    names = set(evidence.get_feature_names_out())
    assert "finance:paragraphs" in names and "incident:title" in names
    assert not any(name.startswith(("governance:", "inspection:")) for name in names)
    counted = []
    monkeypatch.setattr(classify, "topic_evidence", lambda paragraphs, patterns: counted.append(patterns.names)
                        or {"finance:paragraphs": 1.0})
    model.predict({"title": "Council tax rise for fire service", "body": "The budget ...", "mentions": [], "quotes": []})
    assert counted == [["finance", "incident"]]


TONE_CUES = 'cues = { negative = ["criticised", "cuts", "closure", "concerns"], positive = ["rescued", "praised"] }\n'


@pytest.mark.slow
def test_a_tone_model_counts_the_teams_own_tone_cue_words(tmp_path, monkeypatch):
    """A scheme's tone `cues` are the tone cues its model learns from and predicts with (kept in the model,
    so prediction and evaluation count what training counted), in place of the shipped tone cues; doctor
    warns when the scheme's words are no longer the model's."""
    import nlp.classify as classify
    import nlp.features as features
    from cuttings.doctor import check_models
    from nlp.scheme import load_scheme
    packaged = paths.package_data("label_scheme.toml").read_text(encoding="utf-8")
    head, _, _ = packaged.partition("[tasks.topics]")
    _, _, tone = packaged.partition("[tasks.tone]")
    text = f"{head}[tasks.tone]{tone.rstrip()}\n{TONE_CUES}"
    path = tmp_path / "label_scheme.toml"
    path.write_text(text, encoding="utf-8")
    scheme = load_scheme(path)
    assert list(scheme.tasks) == ["tone"] and dict(scheme.tasks["tone"].cues)["positive"] == ("rescued", "praised")
    records = load_corpus(scheme=scheme)[::2]
    cards = classify.train_models(records, scheme, tmp_path / "models", folds=2, slices=False)
    assert [card["task"] for card in cards] == ["tone"]
    model = classify.Classifier.load(tmp_path / "models")
    bundle = model.bundles["tone"]
    assert bundle["cues"] == {"negative": ["criticised", "cuts", "closure", "concerns"], "positive": ["rescued", "praised"]}
    union = bundle["pipeline"].named_steps["features"]
    names = set(dict(union.transformer_list)["cues"].named_steps["vectorise"].get_feature_names_out())
    assert {"near:negative", "article:positive", "fire_service*article:negative"} <= names
    assert all(name.rsplit(":", 1)[1] in ("negative", "positive") for name in names)   # no shipped cue
    counted = []
    real = features.tone_cues
    monkeypatch.setattr(features, "tone_cues", lambda texts, prefix, patterns=None: counted.append(
        patterns.names if patterns else None) or real(texts, prefix, patterns))
    doc = {"title": "Fire service criticised over station closure", "body": "Crews rescued a man from the river.",
           "mentions": [{"entity_id": "hwfrs", "sentence": "Crews rescued a man from the river."}], "quotes": []}
    predicted = model.predict(doc)["tone"]["hwfrs"]
    assert predicted["label"] in ("positive", "negative", "neutral")
    assert counted and all(names == ["negative", "positive"] for names in counted)
    counted.clear()
    report = classify.evaluate_models(model, records[:10], scheme)
    assert report["tone"]["n_examples"] > 0 and counted and None not in counted
    monkeypatch.undo()
    assert "cue words of tone" not in check_models(tmp_path / "models", scheme_path=path).message
    path.write_text(text.replace('"praised"', '"thanked"'), encoding="utf-8")
    check = check_models(tmp_path / "models", scheme_path=path)
    assert check.status == "warning" and "the cue words of tone differ from the ones its model learnt from" in check.message
    path.write_text(text.replace(TONE_CUES, ""), encoding="utf-8")   # back to the shipped tone cues
    assert "the cue words of tone differ" in check_models(tmp_path / "models", scheme_path=path).message
