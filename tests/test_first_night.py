"""A new team's first night: `cuttings run` with no trained models for the team's label scheme still
analyses and writes the digest, skips classify with one line saying what to do, records the stage as
skipped for that reason (not as waiting every night) and exits 4 (partial); doctor and classify name the
command that trains models for a scheme of the team's own (`cuttings train --corpus none`)."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from crawler.revisions import save_article
from cuttings import store
from pipeline import cli
from tests.conftest import query_rows
from tests.test_scheme_files import TEAM

REPO = Path(__file__).resolve().parent.parent

BODY = ("Devon and Somerset Fire and Rescue Service said on Monday that the station at Budleigh would close. "
        "\"We have listened to the public,\" the chief fire officer said.")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def team_home(tmp_path, monkeypatch, scheme: str | None = TEAM):
    home = tmp_path / "home"
    home.mkdir()
    if scheme is not None:
        (home / "label_scheme.toml").write_text(scheme, encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    monkeypatch.delenv("CUTTINGS_MODELS", raising=False)
    db_path = tmp_path / "cuttings.db"
    db = store.connect(db_path)
    for number in range(3):
        url = f"https://news.example/story-{number}"
        save_article(db, {"url": url, "canonical_url": url, "title": f"Station story {number}", "body": BODY,
                          "published_at": "2026-12-01"}, None)
    db.close()
    return home, db_path


def first_night(tmp_path, db_path, *extra):
    return invoke("--db", db_path, "run", "--skip", "crawl", "--report-dir", tmp_path / "reports",
                  "--log-file", tmp_path / "run.log", *extra)


def test_first_night_without_models_skips_classify_in_one_line_and_writes_the_digest(tmp_path, monkeypatch):
    home, db_path = team_home(tmp_path, monkeypatch)
    result = first_night(tmp_path, db_path, "--quiet")
    assert result.exit_code == 4, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"classify: skipped: no trained models in {home / 'models'}: stories are not "
                               "classified until you label stories (`cuttings label`")
    assert "then run `cuttings train --corpus none`" in lines[0] and "First night for your own team" in lines[0]
    assert lines[1].startswith("run 1: partial (exit 4)")
    assert sorted(p.suffix for p in (tmp_path / "reports").iterdir()) == [".html", ".md"]
    (run,) = query_rows(db_path, "SELECT status, stages_json FROM crawl_runs WHERE command = 'run'")
    stages = json.loads(run["stages_json"])
    assert run["status"] == "partial"
    assert stages["classify"]["status"] == "skipped"
    assert stages["classify"]["message"].startswith(store.SKIPPED_NO_MODELS)
    assert store.skipped_by_design(stages["classify"])
    assert stages["analyse"]["status"] == "ok" and stages["report"]["status"] == "ok"
    assert query_rows(db_path, "SELECT count(*) AS n FROM processing WHERE stage = 'analyse'")[0]["n"] == 3
    # the digest does not say every night that its stories wait for a stage the team cannot run yet
    digest = next((tmp_path / "reports").glob("*.md")).read_text(encoding="utf-8")
    assert "not yet classified" not in digest


def test_doctor_names_train_corpus_none_for_a_teams_scheme_and_no_backlog_warning(tmp_path, monkeypatch):
    home, db_path = team_home(tmp_path, monkeypatch)
    assert first_night(tmp_path, db_path, "--quiet").exit_code == 4
    result = invoke("--db", db_path, "doctor")
    assert "wait for classification" not in result.stdout
    models = [line for line in result.stdout.splitlines() if f"no trained models in {home / 'models'}" in line]
    assert models, result.stdout
    assert "`cuttings train --corpus none`" in result.stdout
    # the planned skip is the models check's warning alone, not a 'latest run' one too
    assert "latest run:" not in result.stdout and "resumes where it stopped" not in result.stdout
    fix = result.stdout[result.stdout.index(f"no trained models in {home / 'models'}"):].splitlines()[1]
    assert "then run `cuttings train --corpus none`" in fix


def test_classify_without_models_names_the_right_command(tmp_path, monkeypatch):
    _home, db_path = team_home(tmp_path, monkeypatch)
    result = invoke("--db", db_path, "classify")
    assert result.exit_code == 1
    assert "then run `cuttings train --corpus none`" in result.stderr


def test_shipped_scheme_keeps_the_plain_train_hint(tmp_path, monkeypatch):
    home, db_path = team_home(tmp_path, monkeypatch, scheme=None)
    result = first_night(tmp_path, db_path)
    assert result.exit_code == 4, (result.stdout, result.stderr)
    line = next(line for line in result.stdout.splitlines() if line.startswith("classify: "))
    assert line == (f"classify: skipped: no trained models in {home / 'models'}: stories are not classified "
                    "until you run `cuttings train` (with this scheme)")


def test_evaluate_entities_and_quotes_refuse_a_corpus_that_names_none_of_the_watched_bodies(tmp_path):
    """A team's watchlist against the shipped West Mercia corpus scored "1.000/1.000 (support 0)" for every
    body: one line instead, naming --corpus, exit 1; with the shipped watchlist the corpus is scored."""
    from tests.conftest import invoke_cli
    from tests.test_quotes_other_watchlist import DEVON
    watchlist = tmp_path / "devon.toml"
    watchlist.write_text(DEVON, encoding="utf-8")
    for task in ("entities", "quotes"):
        result = invoke_cli("evaluate", task, "--watchlist", str(watchlist))
        error = result.stderr.decode()
        assert result.returncode == 1 and error.count("\n") == 1, (result.stdout, error)
        assert f"name none of the bodies of the watchlist {watchlist}" in error and "--corpus" in error
        assert "support" not in result.stdout.decode()


def test_the_first_nights_digest_says_stance_not_rated_not_zeros(tmp_path, monkeypatch):
    """With no stance model and no stance label the digest says "not rated", as it does for tone."""
    _home, db_path = team_home(tmp_path, monkeypatch)
    assert first_night(tmp_path, db_path, "--quiet").exit_code == 4
    text = next((tmp_path / "reports").glob("*.md")).read_text(encoding="utf-8")
    stance_lines = [line for line in text.splitlines() if "Stance on" in line]
    assert len(stance_lines) == 2 and all(line.rstrip(".").endswith(": not rated") for line in stance_lines), stance_lines
    html = next((tmp_path / "reports").glob("*.html")).read_text(encoding="utf-8")
    assert "favour 0" not in html and html.count("not rated") >= 2


def test_train_refusing_a_task_in_one_split_shows_the_tasks_counts_and_the_given_folds(tmp_path):
    """A team's first labels pass the counts check for --folds 3 but leave one fold's training part too few of
    a label: the refusal gives the task's own counts (not one split's) and the folds asked for."""
    from nlp.classify import train_models
    from nlp.corpus import load_corpus
    from nlp.scheme import load_scheme
    scheme = load_scheme()
    records = load_corpus(scheme=scheme)
    with_label = [r for r in records if r["topics"] == ["incident"]][:4]
    without = [r for r in records if "incident" not in r["topics"] and r["topics"]][:5]
    few = with_label + without
    for slices in (True, False):
        cards = train_models(few, scheme, tmp_path / f"models-{slices}", features="tfidf", folds=3, slices=slices)
        message = cards.skipped["topics"]
        assert message.startswith("too few labelled examples to learn from (governance 5, "), message
        assert "incident 4" in message and f"({len(few)} labelled)" in message
        assert "(--folds 3)" in message and "default 5" not in message


def test_report_takes_report_dir_as_the_docs_and_run_name_it(tmp_path):
    """docs/operations.md and configuration.md name --report-dir; `report` took only --out."""
    db_path = tmp_path / "cuttings.db"
    store.connect(db_path).close()
    result = invoke("--db", db_path, "report", "--report-dir", tmp_path / "digests", "--format", "md")
    assert result.exit_code == 0, result.output
    assert [p.suffix for p in (tmp_path / "digests").iterdir()] == [".md"]
    assert "--report-dir" in invoke("report", "--help").output


def test_evaluate_corpus_none_reads_the_databases_labels(tmp_path):
    """`evaluate TASK --corpus none` cross-validates on the database's labels (as `train --corpus none` trains on
    them); it said "no labelled articles to train on" whatever the database held."""
    from nlp.evaluate_entities import load_corpus
    db_path = tmp_path / "cuttings.db"
    db = store.connect(db_path)
    records = []
    for record, text in load_corpus(REPO / "data" / "corpus")[:40]:
        title, _, body = text.partition("\n")
        save_article(db, {"url": record["url"], "canonical_url": record["url"], "title": title.strip(),
                          "body": body.strip(), "published_at": record.get("date")}, None)
        records.append(record)
    db.close()
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    assert invoke("--db", db_path, "label", "--import", labels, "--annotator", "me").exit_code == 0
    result = invoke("--db", db_path, "evaluate", "stance_governance", "--corpus", "none", "--folds", "2", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["stance_governance"]
    assert report["n_examples"] == 40
    empty = tmp_path / "empty.db"
    store.connect(empty).close()
    refused = invoke("--db", empty, "evaluate", "stance_governance", "--corpus", "none")
    assert refused.exit_code == 1 and f"--corpus none: no article in {empty} has human labels" in refused.output


def test_entity_table_names_the_shipped_slice_groups_only_for_the_shipped_slices():
    from nlp.evaluate_entities import format_table
    row = {"precision": 1.0, "recall": 1.0, "support": 1, "surface_recall": 1.0}
    own = {"articles": 1, "per_entity": {"dsfrs": row}, "by_slice": {"db": {"dsfrs": row}, "all": {"dsfrs": row}},
           "slice_articles": {"db": 1, "all": 1}}
    assert "'new' =" not in format_table(own) and "held_out" not in format_table(own)
    shipped = {**own, "by_slice": {**own["by_slice"], "new": {"dsfrs": row}}, "slice_articles": {"db": 1, "new": 1, "all": 1}}
    assert "'new' = gov+hw+sh+neg" in format_table(shipped)


def test_train_records_only_the_configured_models_folders_models(tmp_path, monkeypatch):
    """`train --models /tmp/x` (a trial) wrote its cards into the database's `models` table, heading
    model_quality as if in use: only the configured folder's are recorded, and train says so."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = (REPO / "data" / "corpus" / "labels.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (corpus / "labels.jsonl").write_text("".join(lines[:60]), encoding="utf-8")
    (corpus / "articles").symlink_to(REPO / "data" / "corpus" / "articles")
    configured = tmp_path / "models"
    monkeypatch.setenv("CUTTINGS_MODELS", str(configured))
    db_path = tmp_path / "cuttings.db"
    store.connect(db_path).close()
    train = ("--db", db_path, "train", "--corpus", corpus, "--no-slices", "--folds", "2", "--features", "tfidf")
    trial = invoke(*train, "--models", tmp_path / "trial")
    assert trial.exit_code == 0, trial.output
    assert any((tmp_path / "trial").glob("*.skops"))
    assert query_rows(db_path, "SELECT count(*) AS n FROM models")[0]["n"] == 0
    assert f"note: not recorded in {db_path}'s models table, as {tmp_path / 'trial'} is not the models folder" \
           in trial.stderr
    kept = invoke(*train)
    assert kept.exit_code == 0, kept.output
    paths_recorded = {row["path"] for row in query_rows(db_path, "SELECT path FROM models")}
    assert paths_recorded and all(path.startswith(str(configured)) for path in paths_recorded)
    assert "not recorded" not in kept.stderr
