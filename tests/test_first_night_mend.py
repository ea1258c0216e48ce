"""The product review of the first night for a team with its own label scheme: every hint names the command
that trains that scheme's models (``stages.train_hint``: label, then `cuttings train --corpus none`), not
plain `cuttings train`, which refuses the shipped corpus for another scheme."""
from __future__ import annotations

import json
from pathlib import Path

import pipeline
from cuttings import paths, stages
from nlp.scheme import load_scheme
from tests.test_first_night import invoke, team_home
from tests.test_models_fit import SHIPPED, FakeClassifier, _doctor_models
from tests.test_scheme_files import TEAM


def _team_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "label_scheme.toml").write_text(TEAM, encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    monkeypatch.delenv("CUTTINGS_MODELS", raising=False)
    return home


def test_doctor_names_one_command_for_foreign_models_and_an_edited_watchlist(tmp_path, monkeypatch):
    home = _team_home(tmp_path, monkeypatch)
    classifier = FakeClassifier(SHIPPED)
    for card in classifier.cards.values():
        card["analyser_versions"] = ["a-0"]   # the watchlist was edited since training too
    check = _doctor_models(tmp_path, monkeypatch, classifier, TEAM)
    assert check.fix.count("cuttings train") == 1, check.fix
    assert "`cuttings train --corpus none`" in check.fix
    assert check.fix.endswith("so the models learn the scheme as it is and learn from what they now read")
    assert str(home) in str(paths.config_file("label_scheme.toml"))


def test_doctor_untrained_task_of_a_teams_scheme_names_train_corpus_none(tmp_path, monkeypatch):
    _team_home(tmp_path, monkeypatch)
    team = load_scheme(paths.config_file("label_scheme.toml"))
    classifier = FakeClassifier(team, tasks=["topics", "tone"])
    for card in classifier.cards.values():
        card["analyser_versions"] = ["a-1"]
    check = _doctor_models(tmp_path, monkeypatch, classifier, TEAM)
    assert check.status == "warning", check
    assert "no model for stance_closures" in check.message
    assert "`cuttings label --task stance_closures`" in check.fix and "`cuttings train --corpus none`" in check.fix
    assert check.fix.count("cuttings train") == 1, check.fix


def test_doctor_untrained_task_of_the_shipped_scheme_keeps_plain_train(tmp_path, monkeypatch):
    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path / "home"))
    classifier = FakeClassifier(SHIPPED, tasks=["topics", "tone"])
    for card in classifier.cards.values():
        card["analyser_versions"] = ["a-1"]
    check = _doctor_models(tmp_path, monkeypatch, classifier)
    assert check.fix == ("label stories (`cuttings label --task stance_governance`), then run `cuttings train` "
                         "(with this scheme)")


def test_classify_note_for_an_untrained_task_names_train_corpus_none(tmp_path, monkeypatch):
    _home, db_path = team_home(tmp_path, monkeypatch)
    team = load_scheme(paths.config_file("label_scheme.toml"))
    monkeypatch.setattr(pipeline, "load_classifier", lambda *a, **k: FakeClassifier(team, tasks=["topics", "tone"]))
    monkeypatch.setattr(pipeline, "do_classify", lambda *a, **k: {"articles": 0, "classifications": 0})
    monkeypatch.setattr(stages, "record_user_scheme", lambda *a, **k: None)
    result = invoke("--db", db_path, "classify")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    note = next(line for line in result.stderr.splitlines() if line.startswith("note: no model for stance_closures"))
    assert "then run `cuttings train --corpus none`" in note and "until `cuttings train` trains" not in note


def test_readme_names_train_corpus_none_for_a_teams_scheme():
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = text.index("The demo trains the shipped label scheme's models.")
    paragraph = " ".join(text[start:text.index("\n\n", start)].split())
    assert "`cuttings train --corpus none`" in paragraph and "First night for your own team" in paragraph


# ------------------------------------------------------------------------------------------------
# evaluate --corpus none: the database's story labels; entities and quotes are not among them
# ------------------------------------------------------------------------------------------------

def test_evaluate_corpus_none_refuses_entities_and_quotes_in_one_line(tmp_path, monkeypatch):
    _home, db_path = team_home(tmp_path, monkeypatch)
    for asked in (["entities"], ["quotes"], ["stance_closures", "quotes"]):
        result = invoke("--db", db_path, "evaluate", *asked, "--corpus", "none")
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, (asked, result.output)
        assert "--corpus none" in result.stderr and "--corpus DIR|FILE" in result.stderr
        assert "name none of the bodies" not in result.stderr


def test_evaluate_corpus_none_leaves_entities_out_of_the_default_tasks(tmp_path, monkeypatch):
    from tests.test_first_night import test_evaluate_corpus_none_reads_the_databases_labels as labelled_db
    labelled_db(tmp_path)   # 40 articles of the shipped corpus labelled in tmp_path/cuttings.db
    result = invoke("--db", tmp_path / "cuttings.db", "evaluate", "--corpus", "none", "--folds", "2", "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("\n") == 1 and "entities and quotes left out" in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert "entities" not in report and "quotes" not in report and report["stance_governance"]["n_examples"] == 40


def test_evaluate_names_evaluate_corpus_none_not_train(tmp_path, monkeypatch):
    _team_home(tmp_path, monkeypatch)
    missing = tmp_path / "no-such-corpus"
    result = invoke("evaluate", "stance_closures", "--corpus", missing)
    assert result.exit_code == 1 and f"no labelled corpus at {missing}" in result.stderr, result.output
    assert "`cuttings evaluate --corpus none` to cross-validate" in result.stderr, result.stderr
    assert "cuttings train" not in result.stderr


# ------------------------------------------------------------------------------------------------
# the demo's models (the shipped scheme's) in models/, then a scheme of the team's own: no models for it
# ------------------------------------------------------------------------------------------------

def test_first_run_after_the_demo_skips_classify_as_with_no_models(tmp_path, monkeypatch):
    from cuttings import store
    from tests.conftest import query_rows
    from tests.test_first_night import first_night
    home, db_path = team_home(tmp_path, monkeypatch)
    (home / "models").mkdir()
    (home / "models" / "topics.skops").write_bytes(b"")   # the demo trained the shipped scheme's models here
    monkeypatch.setattr(stages, "load_classifier",
                        lambda path=None: FakeClassifier(SHIPPED, models_dir=path or home / "models"))
    result = first_night(tmp_path, db_path)
    assert result.exit_code == 4, (result.stdout, result.stderr)
    (run,) = query_rows(db_path, "SELECT stages_json FROM crawl_runs WHERE command = 'run'")
    classify = json.loads(run["stages_json"])["classify"]
    assert classify["status"] == "skipped" and store.skipped_by_design(classify), classify
    assert "`cuttings train --corpus none`" in classify["message"]
    assert (home / "models" / "topics.skops").is_file()
    digest = next((tmp_path / "reports").glob("*.md")).read_text(encoding="utf-8")
    assert "classify stage failed" not in digest and "not yet classified" not in digest


def test_markdown_digest_shows_commands_as_code_not_escaped_backticks(tmp_path, monkeypatch):
    _home, db_path = team_home(tmp_path, monkeypatch)   # 3 stories never analysed
    result = invoke("--db", db_path, "report", "--report-dir", tmp_path / "reports", "--format", "md")
    assert result.exit_code == 0, result.output
    digest = next((tmp_path / "reports").glob("*.md")).read_text(encoding="utf-8")
    line = next(line for line in digest.splitlines() if "not yet analysed" in line)
    assert "\\`" not in line and "see `cuttings doctor`" in line, line


# ------------------------------------------------------------------------------------------------
# doctor after a first night whose one shortfall is the planned skip; the skip line, once and short
# ------------------------------------------------------------------------------------------------

def test_doctor_after_a_healthy_first_night_counts_the_planned_skip_once(tmp_path, monkeypatch):
    from tests.test_first_night import first_night
    home, db_path = team_home(tmp_path, monkeypatch)
    assert first_night(tmp_path, db_path, "--quiet").exit_code == 4
    result = invoke("--db", db_path, "doctor")
    lines = result.stdout.splitlines()
    last = next(line for line in lines if line.startswith("[ok  ] last run:"))
    assert last.endswith(": partial (classify skipped: no models for this scheme)"), last
    assert not any("latest run" in line for line in lines), result.stdout
    models = next(line for line in lines if " models: " in line)
    assert models.startswith(f"[WARN] models: no trained models in {home / 'models'}"), models
    assert not any(line.startswith("[FAIL]") for line in lines), result.stdout
    # one warning, the models': exit 1 as documented for anything that needs attention (docs/operations.md)
    assert lines[-1] == "1 problem" and result.exit_code == 1, result.stdout


def test_the_skip_line_is_printed_once_and_short(tmp_path, monkeypatch):
    from tests.test_first_night import first_night
    home, db_path = team_home(tmp_path, monkeypatch)
    result = first_night(tmp_path, db_path)
    assert result.exit_code == 4, result.output
    assert result.stdout.count("cuttings train --corpus none") == 1, result.stdout
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("classify: skipped")]
    assert len(line) - len(str(home / "models")) < 220, (len(line), line)   # was 291 besides the folder
    table = next(line for line in result.stdout.splitlines() if line.startswith("classify "))
    assert table.endswith(f"({store_prefix()})"), table


def store_prefix() -> str:
    from cuttings import store
    return store.SKIPPED_NO_MODELS


# ------------------------------------------------------------------------------------------------
# the digest in the team's words: its tone's attention label; stance "not rated" until predicted
# ------------------------------------------------------------------------------------------------

CRITICAL = TEAM.replace('labels = ["positive", "negative", "neutral"]',
                        'labels = ["favourable", "critical", "balanced"]\nattention = { critical = "critical" }')


def test_nothing_needs_attention_names_the_schemes_tone_label(tmp_path, monkeypatch):
    from tests.test_first_night import first_night
    assert CRITICAL != TEAM
    _home, db_path = team_home(tmp_path, monkeypatch, scheme=CRITICAL)
    assert first_night(tmp_path, db_path, "--quiet").exit_code == 4
    for digest in (tmp_path / "reports").iterdir():
        text = digest.read_text(encoding="utf-8")
        assert "Nothing needs attention: no critical tone, stance" in text, digest
        assert "no negative tone" not in text, digest


def test_stance_with_human_labels_but_no_model_is_not_rated(tmp_path, monkeypatch):
    """Labels on a handful of stories (the team labelling to train) are no rating of the night's stories:
    the summary says "not rated" until a stance model has predicted."""
    from cuttings import store
    from tests.test_first_night import first_night
    _home, db_path = team_home(tmp_path, monkeypatch)
    db = store.connect(db_path)
    article_id = db.execute("SELECT id FROM articles ORDER BY id LIMIT 1").fetchone()[0]
    db.close()
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"id": f"db-{article_id}", "stance_closures": "oppose"}) + "\n", encoding="utf-8")
    imported = invoke("--db", db_path, "label", "--import", labels, "--annotator", "me")
    assert imported.exit_code == 0, imported.output
    from tests.conftest import query_rows
    assert query_rows(db_path, "SELECT count(*) AS n FROM labels WHERE task = 'stance_closures'")[0]["n"] == 1
    assert first_night(tmp_path, db_path, "--quiet").exit_code == 4
    text = next((tmp_path / "reports").glob("*.md")).read_text(encoding="utf-8")
    stance_lines = [line for line in text.splitlines() if "Stance on" in line]
    assert stance_lines and all(line.rstrip(".").endswith(": not rated") for line in stance_lines), stance_lines
    assert "support 0" not in text and "oppose 0" not in text and "oppose 1" not in text
