"""When the analyse stage fails (e2e audit, finding B): the digest's "Needs attention" says which stage
failed in the runs it covers and how many of its stories are not yet analysed or classified, and lists
those under "Not yet analysed" rather than as other news; `cuttings doctor` warns of the backlog. The
state is built with the store's own functions in a real SQLite database."""
from __future__ import annotations

import pytest

from cuttings import doctor, report, store
from cuttings.config import load_sources

STARTED, CRAWLED, FAILED, NOW = ("2026-12-05T02:30:00Z", "2026-12-05T02:35:00Z", "2026-12-05T02:50:00Z",
                                 "2026-12-05T07:00:00Z")


def _night(tmp_path, *, analysed: int, classified: int, stories: int = 5, analyse_status: str = "failed",
           finished: bool = False, classify: dict | None = None):
    """One `cuttings run` (run 1) that stored ``stories`` articles, analysed the first ``analysed`` and
    classified the first ``classified``; its analyse stage ``analyse_status``. Left running with its stages
    so far recorded (as when its report stage builds the digest) unless ``finished``."""
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nid = "echo"\nname = "Echo"\nhome = "https://echo.example/"\n', encoding="utf-8")
    db = store.connect(tmp_path / "p.db")
    store.sync_sources(db, load_sources(sources).sources)
    with store.clock(STARTED):
        run = store.start_run(db, "run")
    for n in range(stories):
        url = f"https://echo.example/news/story-{n}/"
        item = {"url": url, "canonical_url": url, "source_id": "echo", "title": f"Story {n}",
                "body": f"Body of story {n}. " * 40, "published_at": "2026-12-04", "found_by": "feed"}
        with store.clock(CRAWLED):
            store.insert_article(db, item, run, fingerprint=b"\0" * 8)
    articles = [dict(row) for row in db.query("SELECT id, content_hash FROM articles ORDER BY id")]
    for article in articles[:analysed]:
        store.replace_analysis(db, article, "watch-1", [], [])
    for article in articles[:classified]:
        store.replace_classifications(db, article, "models-1", [])
    stages = {"crawl": {"status": "ok"}, "analyse": {"status": analyse_status},
              "classify": classify or ({"status": "skipped", "message": "analyse failed"} if analyse_status == "failed"
                                       else {"status": "ok"})}
    if finished:
        with store.clock(FAILED):
            store.finish_run(db, run, "partial" if analyse_status == "failed" else "ok",
                             stages={**stages, "report": {"status": "ok"}})
    else:
        store.record_run_stages(db, run, stages)
    return db, run


def test_the_digest_says_the_analyse_stage_failed_and_how_many_stories_wait(tmp_path):
    db, run = _night(tmp_path, analysed=2, classified=1)
    try:
        digest = report.build_digest(db, now=NOW)
    finally:
        db.close()
    first = digest["attention"][0]
    assert first["kind"] == "pipeline"
    assert report.attention_text(first) == (f"3 stories not yet analysed and 1 more story not yet classified: "
                                            f"the analyse stage failed in run {run}; see `cuttings doctor`")
    assert digest["summary"]["stories"] == 5
    assert digest["summary"]["not_analysed"] == 3 and digest["summary"]["not_classified"] == 1
    # the 3 unanalysed stories are not "other local news" (nobody checked whom they mention)
    groups = {group["name"]: [story["headline"] for story in group["stories"]] for group in digest["groups"]}
    assert sorted(groups[report.NOT_ANALYSED_GROUP]) == ["Story 2", "Story 3", "Story 4"]
    assert sorted(groups[report.OTHER_GROUP]) == ["Story 0", "Story 1"]
    for text in (report.render_markdown(digest, plain=True), report.render_markdown(digest)):
        block = text.split("Needs attention", 1)[1].split("new stories", 1)[0]
        assert "3 stories not yet analysed" in block and f"failed in run {run}" in block
        assert "Nothing needs attention" not in text
    html = report.render_html(digest)
    attention = html.split('id="attention"', 1)[1].split("</section>", 1)[0]
    assert f"the analyse stage failed in run {run}" in attention and "Nothing needs attention" not in html


def test_a_healthy_night_adds_no_line(tmp_path):
    db, _run = _night(tmp_path, analysed=5, classified=5, analyse_status="ok")
    try:
        digest = report.build_digest(db, now=NOW)
        checks = doctor.check_backlog(db.conn)
    finally:
        db.close()
    assert not [item for item in digest["attention"] if item["kind"] == "pipeline"]
    assert report.NOT_ANALYSED_GROUP not in [group["name"] for group in digest["groups"]]
    assert digest["summary"]["not_analysed"] == 0
    assert checks == []   # the run is still running: nothing to judge yet


def test_doctor_warns_of_articles_waiting_after_a_finished_run(tmp_path):
    db, run = _night(tmp_path, analysed=2, classified=1, finished=True)
    db.close()
    checks = {check.name: check for check in doctor.doctor_checks(tmp_path / "p.db", include_config=False)}
    backlog = checks["analysis backlog"]
    assert backlog.status == "warning"
    assert backlog.message.startswith("3 articles wait for analysis (analyser watch-1) and 1 analysed article "
                                      f"waits for classification, although run {run} (partial) ended")
    assert "`cuttings analyse`" in backlog.fix and "operations.md" in backlog.fix


def test_doctor_is_quiet_when_everything_was_analysed(tmp_path):
    db, run = _night(tmp_path, analysed=5, classified=5, analyse_status="ok", finished=True)
    db.close()
    checks = {check.name: check for check in doctor.doctor_checks(tmp_path / "p.db", include_config=False)}
    assert checks["analysis backlog"].status == "ok"
    assert checks["analysis backlog"].message == f"every article stored before run {run} ended is analysed and classified"


class _CrashingAnalyser:
    """The watchlist analyser, raising ``error`` on every article it reads."""

    def __init__(self, analyser, error: type[BaseException]):
        self.analyser, self.error = analyser, error

    def __getattr__(self, name):
        return getattr(self.analyser, name)

    def pipe(self, *args, **kwargs):
        raise self.error("analyser crashed")

    def analyse(self, *args, **kwargs):
        raise self.error("analyser crashed")


@pytest.mark.parametrize("error", [MemoryError, RuntimeError])
def test_a_run_whose_analyse_stage_crashes_writes_a_digest_that_says_so(tmp_path, monkeypatch, error):
    """`cuttings run` (in process, crawl skipped) over 5 stored articles with an analyser that crashes:
    exit 4, and the digest it writes and records says the analyse stage failed in that run. MemoryError
    (never one article's fault) stops the stage: the 5 stories are counted not yet analysed; RuntimeError
    on each article: the stage records each (``analyse_failed``) and fails, and the digest's line for
    the articles the analyser failed on names them, so the stage's line does not count them again."""
    from cuttings import nightly, stages
    from tests.test_models_fit import SHIPPED, FakeClassifier
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "topics.skops").write_bytes(b"")
    monkeypatch.setenv("CUTTINGS_HOME", str(home))
    monkeypatch.setattr(stages, "load_classifier", lambda path=None: FakeClassifier(SHIPPED, models_dir=path))
    real = stages.load_analyser
    monkeypatch.setattr(stages, "load_analyser", lambda path=None: _CrashingAnalyser(real(path), error))
    db_path = tmp_path / "run.db"
    db = store.connect(db_path)
    for n in range(5):
        url = f"https://echo.example/news/story-{n}/"
        store.insert_article(db, {"url": url, "canonical_url": url, "source_id": None, "title": f"Story {n}",
                                  "body": f"Body of story {n}. " * 40, "found_by": "feed"}, None,
                             fingerprint=b"\0" * 8)
    db.close()
    result = nightly.run_nightly(db_path, nightly.NightlyOptions(
        models_path=home / "models", skip=("crawl",), report_dir=tmp_path / "reports", report_formats=("md",)))
    assert result.exit_code == nightly.EXIT_PARTIAL, result
    assert result.stages["analyse"].status == "failed" and result.stages["report"].status == "ok"
    (digest_file,) = (tmp_path / "reports").glob("*.md")
    text = digest_file.read_text(encoding="utf-8")
    block = text.split("Needs attention", 1)[1].split("new stories", 1)[0]
    if error is MemoryError:
        assert f"5 stories not yet analysed: the analyse stage failed in run {result.run_id}; see `cuttings doctor`" \
            in block, block
    else:
        assert f"The analyse stage failed in run {result.run_id}; see `cuttings doctor`" in block, block
        assert "5 stories could not be analysed: Story " in block and "not yet analysed" not in block
    assert "Nothing needs attention" not in text
    checks = {check.name: check for check in doctor.doctor_checks(db_path, include_config=False)}
    assert checks["analysis backlog"].status == "warning"
    assert checks["analysis backlog"].message.startswith(
        "5 articles wait for analysis" + ("," if error is MemoryError
                                          else ", 5 of them the analyser failed on (crawl_errors kind analyse_failed),"))


def test_classification_counts_once_a_run_meant_to_classify(tmp_path):
    """No article was ever classified (the audit's database): the run's classify stage, skipped because
    analyse failed, says classification is in use; `--skip classify` says it is not."""
    db, run = _night(tmp_path, analysed=2, classified=0)
    try:
        digest = report.build_digest(db, now=NOW)
    finally:
        db.close()
    assert report.attention_text(digest["attention"][0]) == (
        f"3 stories not yet analysed and 2 more stories not yet classified: the analyse stage failed in run {run}; "
        "see `cuttings doctor`")
    other = tmp_path / "skip"
    other.mkdir()
    db, run = _night(other, analysed=2, classified=0, classify={"status": "skipped", "message": "skipped on request"})
    try:
        digest = report.build_digest(db, now=NOW)
    finally:
        db.close()
    assert report.attention_text(digest["attention"][0]) == (
        f"3 stories not yet analysed: the analyse stage failed in run {run}; see `cuttings doctor`")


def test_a_team_that_stopped_classifying_is_not_told_its_stories_wait_for_it(tmp_path):
    """Articles were classified once, but the team now runs `--skip classify`: the covered run decides, so the
    digest does not say every night that stories wait for classification; a team that does classify and has
    only classification waiting is told to run `cuttings classify`, not `cuttings analyse`."""
    db, run = _night(tmp_path, analysed=5, classified=1, analyse_status="ok",
                     classify={"status": "skipped", "message": "skipped on request"})
    try:
        digest = report.build_digest(db, now=NOW)
    finally:
        db.close()
    assert not [item for item in digest["attention"] if item["kind"] == "pipeline"]
    other = tmp_path / "classifying"
    other.mkdir()
    db, run = _night(other, analysed=5, classified=1, analyse_status="ok", classify={"status": "ok"})
    try:
        digest = report.build_digest(db, now=NOW)
    finally:
        db.close()
    (item,) = [item for item in digest["attention"] if item["kind"] == "pipeline"]
    assert report.attention_text(item) == ("4 stories not yet classified (run `cuttings classify`); "
                                           "see `cuttings doctor`")


def test_doctor_does_not_warn_a_team_that_stopped_classifying(tmp_path):
    """Articles were classified once, but the last run was `--skip classify`: only analysis is checked."""
    db, run = _night(tmp_path, analysed=5, classified=1, analyse_status="ok", finished=True,
                     classify={"status": "skipped", "message": "skipped on request"})
    db.close()
    checks = {check.name: check for check in doctor.doctor_checks(tmp_path / "p.db", include_config=False)}
    assert checks["analysis backlog"].status == "ok"
    assert checks["analysis backlog"].message == f"every article stored before run {run} ended is analysed"
