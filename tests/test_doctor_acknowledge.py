"""A model no better than its baseline, as an operator lives with it: `cuttings doctor` names it in a check of
its own ("model quality", about the task), a known warning can be acknowledged until a date in the sources
file's ``[doctor]`` table (shown as ``[ack ]``, not counted: exit 0, so the morning cron mails nothing while
nothing changed; warns again once the date has passed; an error is never silenced), ``--fail-on error`` exits
1 on errors only; the digest's "Needs attention" and the ``model_quality`` canned query say it too. The
real command line (CliRunner), real SQLite, the session's trained models with one card made weak."""
from __future__ import annotations

import json
import shutil

import pytest

from cuttings import report, store
from cuttings.config import ConfigError, load_sources
from cuttings.serve import CANNED_QUERIES
from tests.conftest import invoke_cli
from tests.ops_support import sources_for
from tests.report_fixtures import MODEL_METRICS, MODEL_REPORTS, NOW, build_sample_db

WEAK_TONE = {"cv": 0.2, "baseline": 0.4}
FUTURE, PAST = "2099-12-31", "2020-01-31"


def _weak_models(tmp_path, trained_models):
    """The session's trained models, the tone card's figures made no better than its baseline."""
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    card = json.loads((models / "tone.json").read_text(encoding="utf-8"))
    card["metrics"] = {**card["metrics"], **WEAK_TONE}
    (models / "tone.json").write_text(json.dumps(card), encoding="utf-8")
    return models


def _healthy_db(tmp_path):
    """A database whose last run, a few seconds old, stored articles from a configured source (made once)."""
    if (tmp_path / "d.db").exists():
        return tmp_path / "d.db"
    db = store.connect(tmp_path / "d.db")
    run_id = db.execute("INSERT INTO crawl_runs (command, started_at, status) VALUES ('run', ?, 'ok')",
                        [store.utcnow()]).lastrowid
    db.execute("INSERT INTO sources (id, name) VALUES ('severn-valley-echo', 'Severn Valley Echo')")
    db.execute("INSERT INTO source_runs (crawl_run_id, source_id, articles_new, articles_stored, errors) "
               "VALUES (?, 'severn-valley-echo', 3, 3, 0)", [run_id])
    db.conn.commit()
    db.conn.close()
    return tmp_path / "d.db"


def _sources(tmp_path, doctor_table: str = ""):
    path = sources_for("http://127.0.0.1:8000", tmp_path / "sources.toml")
    if doctor_table:
        path.write_text(path.read_text(encoding="utf-8") + "\n[doctor]\n" + doctor_table, encoding="utf-8")
    return path


def _doctor(tmp_path, models, sources, *extra):
    result = invoke_cli("--db", str(_healthy_db(tmp_path)), "doctor", "--sources", str(sources),
                        "--models", str(models), *extra)
    return result.returncode, result.stdout.decode() + result.stderr.decode()


def test_a_weak_model_is_its_own_warning_and_exits_1_until_acknowledged(tmp_path, trained_models):
    models = _weak_models(tmp_path, trained_models)
    code, out = _doctor(tmp_path, models, _sources(tmp_path))
    assert code == 1, out
    assert "[ok  ] models: 3 models in" in out    # the models' files are whole and they fit: that check is fine
    assert ("[WARN] model quality: the tone model is no better than its baseline (macro-F1 0.200 in 2-fold CV, "
            "against 0.400 for always giving the most common label): its labels are little better than a guess") in out
    assert "`cuttings label --task tone`" in out
    assert out.strip().endswith("1 problem")
    as_json = json.loads(invoke_cli("--db", str(tmp_path / "d.db"), "doctor", "--json", "--sources",
                                    str(_sources(tmp_path)), "--models", str(models)).stdout)
    (quality,) = [check for check in as_json if check["name"] == "model quality"]
    assert (quality["status"], quality["about"], quality["acknowledged"]) == ("warning", "tone", None)


def test_an_acknowledged_warning_shows_but_does_not_count_until_its_date(tmp_path, trained_models):
    models = _weak_models(tmp_path, trained_models)
    sources = _sources(tmp_path, 'acknowledge = [{ check = "model quality", about = "tone", '
                                 f'until = {FUTURE}, note = "labelling more tone stories" }}]\n')
    code, out = _doctor(tmp_path, models, sources)
    assert code == 0, out   # cron mails nothing: `doctor > file || cat file`
    assert "[ack ] model quality: the tone model is no better than its baseline" in out
    assert (f"       acknowledged until {FUTURE} in {sources} ([doctor] acknowledge): labelling more tone stories"
            in out)
    assert out.strip().endswith("healthy (1 acknowledged warning)")
    assert "fix:" not in out
    as_json = json.loads(invoke_cli("--db", str(tmp_path / "d.db"), "doctor", "--json", "--sources", str(sources),
                                    "--models", str(models)).stdout)
    (quality,) = [check for check in as_json if check["name"] == "model quality"]
    assert quality["status"] == "warning" and quality["acknowledged"].startswith(f"until {FUTURE}")

    # past its date: a warning again, saying so
    expired = _sources(tmp_path, f'acknowledge = [{{ check = "model quality", about = "tone", until = {PAST} }}]\n')
    code, out = _doctor(tmp_path, models, expired)
    assert code == 1, out
    assert "[WARN] model quality: the tone model is no better than its baseline" in out
    assert f"(its acknowledgement in {expired} ended on {PAST})" in out

    # an acknowledgement of another task's model does not cover tone
    other = _sources(tmp_path, f'acknowledge = [{{ check = "model quality", about = "topics", until = {FUTURE} }}]\n')
    code, out = _doctor(tmp_path, models, other)
    assert code == 1 and "[WARN] model quality: the tone model" in out, out
    assert "acknowledgements: 1 no longer needed: model quality (topics): remove it from" in out


def test_once_the_model_is_better_the_acknowledgement_is_said_to_be_unneeded(tmp_path, trained_models):
    sources = _sources(tmp_path, f'acknowledge = [{{ check = "model quality", until = {FUTURE} }}]\n')
    code, out = _doctor(tmp_path, trained_models, sources)
    assert code == 0, out
    assert "model quality" not in out.split("acknowledgements:")[0]
    assert (f"[ok  ] acknowledgements: 1 no longer needed: model quality: remove it from {sources} "
            "([doctor] acknowledge)") in out
    assert out.strip().endswith("healthy")


def test_an_error_is_never_silenced_and_a_misspelt_check_is_said(tmp_path, trained_models):
    models = _weak_models(tmp_path, trained_models)
    card = json.loads((models / "topics.json").read_text(encoding="utf-8"))
    (models / "topics.skops").write_bytes(b"not a model")   # cannot load: an error
    assert card["task"] == "topics"
    sources = _sources(tmp_path, f'acknowledge = [{{ check = "models", until = {FUTURE} }}, '
                                 f'{{ check = "model qualty", until = {FUTURE} }}]\n')
    code, out = _doctor(tmp_path, models, sources)
    assert code == 1, out
    assert "[FAIL] models:" in out and "(acknowledged in" in out and "but an error cannot be)" in out
    assert ("[WARN] acknowledgements: [doctor] acknowledge names 'model qualty', not a check doctor makes "
            "(did you mean 'model quality'?)") in out


def test_fail_on_error_exits_0_on_warnings_and_1_on_errors(tmp_path, trained_models):
    models = _weak_models(tmp_path, trained_models)
    code, out = _doctor(tmp_path, models, _sources(tmp_path), "--fail-on", "error")
    assert code == 0, out
    assert "[WARN] model quality:" in out and out.strip().endswith("1 problem")
    code, out = _doctor(tmp_path, tmp_path / "nothing-here", _sources(tmp_path), "--fail-on", "error")
    assert code == 0 and "[WARN] models: no trained models" in out, out
    broken = tmp_path / "broken.toml"
    broken.write_text("[[source]]\nid = 'x'\nname = 'X'\nhome = 'nope'\n", encoding="utf-8")
    code, out = _doctor(tmp_path, models, broken, "--fail-on", "error")
    assert code == 1 and "[FAIL] sources:" in out, out
    result = invoke_cli("--db", str(tmp_path / "d.db"), "doctor", "--fail-on", "never")
    assert result.returncode == 2 and "Invalid value for '--fail-on'" in result.stderr.decode()


@pytest.mark.parametrize("table, words", [
    ('acknowledge = [{ check = "model quality" }]\n', "[doctor] acknowledge #1: until is required (a date such as 2027-01-31"),
    ('acknowledge = [{ check = "model quality", until = "soon" }]\n', "[doctor] acknowledge #1: until: 'soon' is not a date"),
    ('acknowledge = [{ until = 2027-01-31 }]\n', "[doctor] acknowledge #1: check is required"),
    ('acknowledge = [{ check = "model quality", until = 2027-01-31, for = "tone" }]\n',
     "[doctor] acknowledge #1: unknown field(s) for (known: check, about, until, note, model)"),
    ('acknowledge = [{ check = "source health", until = 2027-01-31, model = "tone-20261205143000-1a2b3c4d" }]\n',
     "[doctor] acknowledge #1: model is for check = \"model quality\" (the version of the model acknowledged), "
     "not 'source health'"),
    ('acknowledge = [{ check = "model quality", until = 2027-01-31, model = "" }]\n',
     "[doctor] acknowledge #1: model: expected a non-empty string, got ''"),
    ('acknowledged = []\n', "[doctor]: unknown setting(s) acknowledged (did you mean 'acknowledge'?)"),
])
def test_the_doctor_table_is_checked_in_one_line(tmp_path, table, words):
    with pytest.raises(ConfigError) as error:
        load_sources(_sources(tmp_path, table))
    assert words in str(error.value) and "\n" not in str(error.value)


def test_the_doctor_table_reads_dates_and_strings(tmp_path):
    config = load_sources(_sources(tmp_path, 'acknowledge = [{ check = "model quality", about = "tone", '
                                             'until = 2027-01-31 }, { check = "source health", until = "2027-02-01" }, '
                                             '{ check = "model quality", until = 2027-01-31, '
                                             'model = " stance_governance-20261205143000-1a2b3c4d " }]\n'))
    assert [(ack.check, ack.about, ack.until.isoformat(), ack.note, ack.model, ack.model_task)
            for ack in config.acknowledge] == [
        ("model quality", "tone", "2027-01-31", None, None, None),
        ("source health", None, "2027-02-01", None, None, None),
        ("model quality", None, "2027-01-31", None, "stance_governance-20261205143000-1a2b3c4d", "stance_governance")]
    assert load_sources(_sources(tmp_path)).acknowledge == []


# ------------------------------------------------------------------------------------------------
# An acknowledgement names the model it acknowledges (model = its version): a model trained since warns again
# ------------------------------------------------------------------------------------------------

RETRAINED = "tone-20261207090000-0badc0de"


def _retrain(models, version: str = RETRAINED) -> None:
    """The tone model trained again, as weak: a new version and time (card and model file, as train writes)."""
    import skops.io

    from nlp.classify import TRUSTED_TYPES
    card = json.loads((models / "tone.json").read_text(encoding="utf-8"))
    bundle = skops.io.load(models / "tone.skops", trusted=TRUSTED_TYPES)
    card["model_version"] = bundle["model_version"] = version
    card["created_at"] = "2026-12-07T09:00:00Z"
    skops.io.dump(bundle, models / "tone.skops")
    (models / "tone.json").write_text(json.dumps(card), encoding="utf-8")


def _tone_version(models) -> tuple[str, str]:
    card = json.loads((models / "tone.json").read_text(encoding="utf-8"))
    return card["model_version"], card["created_at"]


def test_an_acknowledgement_pinned_to_a_model_does_not_cover_a_model_trained_since(tmp_path, trained_models):
    """The warning names the model (its version, as `cuttings train` prints it, and when it was trained); an entry
    with model = that version acknowledges it; the tone model trained again, still weak, warns again, naming the
    model the entry was written for and the line that acknowledges the new one."""
    models = _weak_models(tmp_path, trained_models)
    version, trained = _tone_version(models)
    sources = _sources(tmp_path, f'acknowledge = [{{ check = "model quality", about = "tone", until = {FUTURE}, '
                                 f'model = "{version}", note = "labelling more" }}]\n')
    code, out = _doctor(tmp_path, models, sources)
    assert code == 0, out
    assert "[ack ] model quality: the tone model is no better than its baseline" in out
    assert f"; model {version}, trained {trained}" in out
    assert (f"       acknowledged until {FUTURE} in {sources} ([doctor] acknowledge) for model {version}: "
            "labelling more") in out
    assert "add model =" not in out
    _retrain(models)
    code, out = _doctor(tmp_path, models, sources)
    assert code == 1, out
    assert "[WARN] model quality: the tone model is no better than its baseline" in out
    assert f"; model {RETRAINED}, trained 2026-12-07T09:00:00Z" in out
    assert (f"(its acknowledgement in {sources} is for model {version}, not this one: a model trained since warns "
            f'again; to acknowledge this one, set model = "{RETRAINED}")') in out
    assert "no longer needed" not in out   # the entry is not unneeded: it is out of date, and said so
    assert out.strip().endswith("1 problem")
    # acknowledged again, for the new model; the old entry beside it changes nothing
    both = _sources(tmp_path, f'acknowledge = [{{ check = "model quality", model = "{version}", until = {FUTURE} }}, '
                              f'{{ check = "model quality", model = "{RETRAINED}", until = {FUTURE} }}]\n')
    code, out = _doctor(tmp_path, models, both)
    assert code == 0 and f"([doctor] acknowledge) for model {RETRAINED}" in out, out
    assert (f"acknowledgements: 1 no longer needed: model quality ({version}): remove it from {both}") in out


def test_an_acknowledgement_without_a_model_keeps_its_meaning_and_says_how_to_pin_it(tmp_path, trained_models):
    """An entry written before `model` existed still acknowledges any tone model until its date (a model trained
    again included), and its line says how to keep it to the model warned of now."""
    models = _weak_models(tmp_path, trained_models)
    version, _ = _tone_version(models)
    sources = _sources(tmp_path, f'acknowledge = [{{ check = "model quality", about = "tone", until = {FUTURE} }}]\n')
    code, out = _doctor(tmp_path, models, sources)
    assert code == 0, out
    assert (f"       acknowledged until {FUTURE} in {sources} ([doctor] acknowledge); it covers any tone model: "
            f'add model = "{version}" to it so that a model trained after this one warns again') in out
    _retrain(models)
    code, out = _doctor(tmp_path, models, sources)
    assert code == 0, out
    assert f'add model = "{RETRAINED}" to it' in out
    as_json = json.loads(invoke_cli("--db", str(tmp_path / "d.db"), "doctor", "--json", "--sources", str(sources),
                                    "--models", str(models)).stdout)
    (quality,) = [check for check in as_json if check["name"] == "model quality"]
    assert (quality["about"], quality["model"]) == ("tone", RETRAINED)


def test_the_digest_needs_attention_and_the_model_quality_query_name_a_weak_model(tmp_path):
    db = build_sample_db(tmp_path / "sample.db")
    try:
        sql = CANNED_QUERIES["model_quality"]["sql"]
        assert {row["task"]: row["no_better_than_baseline"] for row in db.query(sql)} == {
            "topics": 0, "stance_governance": 0, "tone": 0}
        digest = report.build_digest(db, now=NOW)
        assert not [item for item in digest["attention"] if item["kind"] == "weak_model"]
        weak = {**MODEL_METRICS["tone"], "cv": 0.2, "baseline": 0.225}
        db.execute("UPDATE models SET card_json = ?, metrics_json = ? WHERE task = 'tone'",
                    [json.dumps({"task": "tone", "kind": "per_entity", "metrics": weak, **MODEL_REPORTS["tone"]}),
                     json.dumps(weak)])
        db.conn.commit()
        assert {row["task"]: row["no_better_than_baseline"] for row in db.query(sql)}["tone"] == 1
        digest = report.build_digest(db, now=NOW)
        (item,) = [item for item in digest["attention"] if item["kind"] == "weak_model"]
        assert digest["attention"][-1] is item   # after the stories, with the other operator items
        line = ("Tone labels are little better than a guess: its model is no better than its baseline (macro-F1 0.200 "
                "in 5-fold CV, against 0.225 for always giving the most common label); label more stories "
                "(`cuttings label --task tone`), then train again (`cuttings doctor` says how)")
        assert report.attention_text(item) == line
        block = report.render_markdown(digest, plain=True).split("Needs attention", 1)[1].split("New stories", 1)[0]
        assert line.replace("`", "") in block.replace("`", "")
        assert "Tone labels are little better than a guess" in report.render_html(digest)
    finally:
        db.close()


def test_doctor_help_says_an_acknowledgement_can_name_its_model():
    """`cuttings doctor --help` says an acknowledgement may pin the model (docs/operations.md, "Known warnings"),
    and keeps its examples."""
    from click.testing import CliRunner

    import pipeline
    text = " ".join(CliRunner().invoke(pipeline.cli, ["doctor", "--help"], terminal_width=200).output.split())
    assert 'model = "' in text and "trained since warns again" in text
    assert "Examples: cuttings --db /srv/cuttings/cuttings.db doctor" in text
