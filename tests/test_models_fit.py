"""Models trained for another label scheme are refused, not used: classify (and so run) store no label
of another scheme, and say in one line to run `cuttings train`; a task of the scheme without a model
(train had too few labels for it) is left out while the models that fit are used; doctor lists every
way the models do not fit. One rule for both (``cuttings.stages.scheme_mismatches``)."""
import json
from pathlib import Path

import pytest

from cuttings import paths, stages, store
from nlp.scheme import load_scheme
from tests.conftest import invoke_cli, query_rows
from tests.test_scheme_files import TEAM

SHIPPED = load_scheme()


class FakeClassifier:
    """What the fit rule reads of a loaded ``nlp.classify.Classifier``: its cards and bundles."""

    def __init__(self, scheme, tasks=None, models_dir="models"):
        tasks = list(scheme.tasks) if tasks is None else tasks
        self.cards = {name: {"task": name, "kind": scheme.tasks[name].kind, "labels": list(scheme.tasks[name].labels),
                             "model_version": f"{name}-1", "analyser_versions": []} for name in tasks}
        self.bundles = {name: {} for name in tasks}
        self.versions = {name: card["model_version"] for name, card in self.cards.items()}
        self.models_dir = Path(models_dir)


def _team_scheme(tmp_path):
    path = tmp_path / "label_scheme.toml"
    path.write_text(TEAM, encoding="utf-8")
    return load_scheme(path)


def test_the_shipped_models_under_a_teams_scheme_are_refused_in_one_line(tmp_path):
    team = _team_scheme(tmp_path)
    classifier = FakeClassifier(SHIPPED, models_dir=tmp_path / "models")
    kinds = {(problem.task, problem.kind) for problem in stages.scheme_mismatches(classifier, team)}
    # the shipped topics and tone fit the team's (the same labels); its stance task is another
    assert kinds == {("stance_closures", "untrained"), ("stance_governance", "foreign")}
    with pytest.raises(stages.ModelsMismatch) as error:
        stages.check_models_fit(classifier, team)
    message = str(error.value)
    assert message == (f"the models in {tmp_path / 'models'} were trained for another label scheme than {team.path}: "
                       "a model for stance_governance, which the scheme does not have: label stories "
                       "(`cuttings label`, or `cuttings label --import FILE`), then run `cuttings train --corpus none` "
                       f"(the shipped corpus is labelled to the shipped scheme, not yours; {paths.doc('configuration.md')}, "
                       "'First night for your own team') before classifying")


def test_labels_or_kinds_of_another_scheme_are_refused_too(tmp_path):
    edited = tmp_path / "s.toml"
    edited.write_text(paths.package_data("label_scheme.toml").read_text(encoding="utf-8").replace(
        '"against"', '"oppose"').replace("against =", "oppose ="), encoding="utf-8")
    classifier = FakeClassifier(SHIPPED)
    with pytest.raises(stages.ModelsMismatch, match="stance_governance predicts against, which the scheme does not"):
        stages.check_models_fit(classifier, load_scheme(edited))
    classifier.cards["tone"]["kind"] = "single_label"
    with pytest.raises(stages.ModelsMismatch, match="tone trained as single_label, now per_entity"):
        stages.check_models_fit(classifier, SHIPPED)


def test_a_task_train_could_not_train_is_left_out_and_the_others_classify(tmp_path):
    """`cuttings train` skips a task with too few labels and keeps (or has) no model for it: the models
    that fit are used; the mismatch is returned, not raised."""
    classifier = FakeClassifier(SHIPPED, tasks=["topics", "tone"])
    problems = stages.check_models_fit(classifier, SHIPPED)
    assert [(problem.task, problem.kind) for problem in problems] == [("stance_governance", "untrained")]


def test_classify_stage_writes_nothing_with_models_of_another_scheme(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "label_scheme.toml").write_text(TEAM, encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    db = store.connect(tmp_path / "c.db")
    with pytest.raises(stages.ModelsMismatch):
        stages.classify_stage(db, FakeClassifier(SHIPPED))
    db.conn.close()
    assert query_rows(tmp_path / "c.db", "SELECT count(*) AS n FROM models")[0]["n"] == 0
    assert query_rows(tmp_path / "c.db", "SELECT count(*) AS n FROM classifications")[0]["n"] == 0


def test_run_skips_the_classify_stage_as_with_no_models_and_runs_the_others(tmp_path, monkeypatch):
    """For `run` models of another scheme are no models for this one: classify is skipped as with none
    (store.SKIPPED_NO_MODELS, exit 4 as then: docs/operations.md), one line saying to run `cuttings train
    --corpus none`; no label of the other scheme is stored, the models are kept."""
    from cuttings import nightly
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "topics.skops").write_bytes(b"")
    (home / "label_scheme.toml").write_text(TEAM, encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    monkeypatch.setattr(stages, "load_classifier", lambda path=None: FakeClassifier(SHIPPED, models_dir=path))
    result = nightly.run_nightly(tmp_path / "c.db", nightly.NightlyOptions(
        models_path=home / "models", skip=("crawl",), report_dir=tmp_path / "reports"))
    assert result.exit_code == nightly.EXIT_PARTIAL, result
    assert result.stages["classify"].status == "skipped"
    assert result.stages["analyse"].status == "ok" and result.stages["report"].status == "ok"
    message = result.stages["classify"].message
    assert message.startswith(f"{store.SKIPPED_NO_MODELS} for this label scheme in {home / 'models'} (the ones "
                              "there are another scheme's, kept)"), message
    assert "run `cuttings train --corpus none`" in message and (home / "models" / "topics.skops").is_file()
    assert "\n" not in message and "ModelsMismatch" not in message
    assert query_rows(tmp_path / "c.db", "SELECT count(*) AS n FROM classifications")[0]["n"] == 0


def test_train_moves_aside_the_models_of_tasks_the_scheme_does_not_have(tmp_path):
    from nlp.classify import SET_ASIDE_DIR, _set_aside_other_tasks
    team = _team_scheme(tmp_path)
    models = tmp_path / "models"
    models.mkdir()
    for name in ("topics", "stance_governance", "stance_closures"):
        (models / f"{name}.json").write_text(json.dumps({"task": name}), encoding="utf-8")
        (models / f"{name}.skops").write_bytes(b"")
    moved = _set_aside_other_tasks(models, team)
    assert list(moved) == ["stance_governance"] and str(models / SET_ASIDE_DIR) in moved["stance_governance"]
    assert sorted(p.name for p in models.glob("*.json")) == ["stance_closures.json", "topics.json"]
    assert sorted(p.name for p in (models / SET_ASIDE_DIR).iterdir()) == [
        "stance_governance.json", "stance_governance.skops"]


# ------------------------------------------------------------------------------------------------
# doctor: every problem, each in its own words
# ------------------------------------------------------------------------------------------------

def _doctor_models(tmp_path, monkeypatch, classifier, scheme_text=None, analyser_version="a-1"):
    from cuttings import doctor
    models = tmp_path / "models"
    models.mkdir(exist_ok=True)
    (models / "topics.skops").write_bytes(b"")
    monkeypatch.setattr(stages, "load_classifier", lambda path=None: classifier)   # doctor --full
    monkeypatch.setattr(stages, "model_files", lambda path=None: classifier)       # the everyday doctor
    monkeypatch.setattr(stages, "load_analyser", lambda path=None: type("A", (), {"version": analyser_version})())
    scheme = None
    if scheme_text is not None:
        scheme = tmp_path / "scheme.toml"
        scheme.write_text(scheme_text, encoding="utf-8")
    return doctor.check_models(models, scheme_path=scheme or paths.package_data("label_scheme.toml"))


def test_doctor_lists_every_models_problem(tmp_path, monkeypatch):
    classifier = FakeClassifier(SHIPPED)
    for card in classifier.cards.values():
        card["analyser_versions"] = ["a-0"]   # and the watchlist was edited since training
    check = _doctor_models(tmp_path, monkeypatch, classifier, TEAM)
    assert check.status == "error"
    assert "trained for another label scheme: a model for stance_governance" in check.message
    assert "no model for stance_closures" in check.message
    assert "they learnt from analyser a-0, not a-1" in check.message and "watchlist was edited" in check.message
    assert "cuttings train" in check.fix


def test_doctor_names_an_upgrade_not_an_edited_watchlist(tmp_path, monkeypatch):
    """Upgrade-day audit: models trained on d44327d's analyser, read on main's; nobody edited the watchlist,
    yet doctor said 'the watchlist was edited since training'."""
    classifier = FakeClassifier(SHIPPED)
    for card in classifier.cards.values():
        card["analyser_versions"] = ["eb91ed74f6df-rules-11-quotes-15"]
    check = _doctor_models(tmp_path, monkeypatch, classifier, analyser_version="bb98f13f178d-rules-13-quotes-23")
    assert check.status == "warning" and "watchlist was edited" not in check.message
    assert ("a cuttings upgrade changed the entity rules (rules-11 -> rules-13) and the quote extractor "
            "(quotes-15 -> quotes-23) since training, and the watchlist changed") in check.message
    assert "cuttings train" in check.fix
    # only the quote extractor: the watchlist is not mentioned
    check = _doctor_models(tmp_path, monkeypatch, classifier, analyser_version="eb91ed74f6df-rules-11-quotes-23")
    assert "changed the quote extractor (quotes-15 -> quotes-23) since training)" in check.message
    # only the watchlist's content: the team's edit
    check = _doctor_models(tmp_path, monkeypatch, classifier, analyser_version="0123456789ab-rules-11-quotes-15")
    assert "(the watchlist was edited since training)" in check.message


def test_doctor_says_a_task_was_not_trained_not_that_the_scheme_changed(tmp_path, monkeypatch):
    classifier = FakeClassifier(SHIPPED, tasks=["topics", "tone"])
    for card in classifier.cards.values():
        card["analyser_versions"] = ["a-1"]
    check = _doctor_models(tmp_path, monkeypatch, classifier)
    assert check.status == "warning"
    assert check.message.startswith("2 models in ") and "each file whole and matching its card" in check.message
    assert "no model for stance_governance: not trained yet, or too few labels" in check.message
    assert "scheme changed" not in check.message
    assert "cuttings label --task stance_governance" in check.fix


def test_doctor_counts_sources_and_says_a_partial_run(tmp_path):
    from cuttings.doctor import check_runs, check_sources
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nid = "one"\nname = "One"\nhome = "https://one.example/"\n', encoding="utf-8")
    check, _ids = check_sources(sources)
    assert check.message.startswith(f"1 source in {sources}")
    import sqlite3
    db = store.connect(tmp_path / "c.db")
    db.execute("INSERT INTO crawl_runs (command, started_at, status) VALUES ('run', ?, 'partial')", [store.utcnow()])
    db.conn.commit()
    db.conn.close()
    conn = sqlite3.connect(tmp_path / "c.db")
    conn.row_factory = sqlite3.Row
    last = next(c for c in check_runs(conn, 36, None) if c.name == "last run")
    conn.close()
    assert "last completed run 1 (run) 0 h ago: partial (some sources or a stage failed)" == last.message


@pytest.mark.slow
def test_classify_refuses_real_models_of_another_scheme_and_uses_the_ones_that_fit(tmp_path, trained_models):
    """README order: `cuttings demo` trains the shipped scheme's models, the team writes its own scheme,
    then classifies: one line and exit 1, nothing stored. With the shipped scheme and its stance model
    missing (train had too few labels), the other models classify and a note names the missing one."""
    import shutil
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    home = tmp_path / "home"
    home.mkdir()
    (home / "label_scheme.toml").write_text(TEAM, encoding="utf-8")
    db = tmp_path / "c.db"
    store.connect(db).conn.close()
    env = {"CUTTINGS_HOME": str(home)}
    result = invoke_cli("--db", str(db), "classify", "--models", str(models), env=env)
    error = result.stderr.decode()
    assert result.returncode == 1 and error.count("\n") == 1, error
    assert f"the models in {models} were trained for another label scheme than {home / 'label_scheme.toml'}" in error
    assert "run `cuttings train --corpus none`" in error
    assert query_rows(db, "SELECT count(*) AS n FROM models")[0]["n"] == 0
    # the shipped scheme, its stance model gone: the rest classify
    for path in models.glob("stance_governance.*"):
        path.unlink()
    result = invoke_cli("--db", str(db), "classify", "--models", str(models),
                        "--scheme", str(paths.package_data("label_scheme.toml")), env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert "note: no model for stance_governance: stories get no stance_governance until" in result.stderr.decode()
    assert {row["task"] for row in query_rows(db, "SELECT task FROM models")} == {"topics", "tone"}


def test_doctor_builds_the_analyser_once_for_the_models_and_the_reanalysis_checks(tmp_path, monkeypatch):
    """Both checks read the analyser's version (the models': what they learnt from; the re-analysis: what the next
    run stamps): one doctor run builds it once (a spaCy pipeline each time: about 0.5 s), and each check says what
    it said when it built its own."""
    from cuttings import doctor
    classifier = FakeClassifier(SHIPPED)
    for card in classifier.cards.values():
        card["analyser_versions"] = ["eb91ed74f6df-rules-11-quotes-15"]
    models = tmp_path / "models"
    models.mkdir()
    (models / "topics.skops").write_bytes(b"")
    db = store.connect(tmp_path / "d.db")
    db.execute("INSERT INTO articles (id, url, canonical_url, title, body, first_seen_at, last_seen_at, content_hash) "
               "VALUES (1, 'https://x/1', 'https://x/1', 't', 'b', '2026-11-24T00:00:00Z', '2026-11-24T00:00:00Z', 'h')")
    store.mark_processed(db, 1, "analyse", "eb91ed74f6df-rules-11-quotes-15", "h")
    db.conn.commit()
    built = []
    monkeypatch.setattr(stages, "load_classifier", lambda path=None: classifier)   # doctor --full
    monkeypatch.setattr(stages, "model_files", lambda path=None: classifier)       # the everyday doctor
    monkeypatch.setattr(stages, "load_analyser", lambda path=None: built.append(path) or type(
        "A", (), {"version": "bb98f13f178d-rules-13-quotes-23"})())
    checks = {check.name: check for check in doctor.doctor_checks(tmp_path / "d.db", models_path=models)}
    assert len(built) == 1
    assert "they learnt from analyser eb91ed74f6df-rules-11-quotes-15, not bb98f13f178d-rules-13-quotes-23" in \
        checks["models"].message
    assert "the next run analyses 1 stored article again" in checks["re-analysis"].message
