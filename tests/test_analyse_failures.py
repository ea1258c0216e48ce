"""One article the analyser raises on: recorded, left for the next run, and the rest analysed.

The analyser is made to raise on one article (``Analyser._result``, which ``analyse`` and ``pipe``
both call, raises for a marker in its text), as a bug in the quote rules did on real pages.
Databases are real SQLite files.
"""
from __future__ import annotations

import re

import pytest

from crawler.revisions import save_article
from cuttings import nightly, stages, store
from nlp.entities import Analyser
from tests.conftest import invoke_cli, query_rows

MARKER = "Rosemary Lane"   # the poisoned article's words
BODIES = [
    "Hereford & Worcester Fire and Rescue Service crews rescued a family in Ledbury.",
    'Station manager Ryan Cook said: "The crews worked through the night to save the mill."',
    f'Chief fire officer Jonathon Pryce visited {MARKER}. "We are proud of the crews," said Jonathon Pryce.',
    "West Mercia Police said the road would stay closed until the morning.",
    'Shropshire Fire and Rescue Service said: "Two engines attended the fire at the farm."',
]


@pytest.fixture()
def poisoned(monkeypatch):
    """The analyser raises IndexError on the article holding MARKER, as the quote rules once did."""
    original = Analyser._result

    def result(self, text, doc):
        if MARKER in text:
            return [][0]   # IndexError: list index out of range
        return original(self, text, doc)

    monkeypatch.setattr(Analyser, "_result", result)
    return monkeypatch


def make_db(path):
    db = store.connect(path)
    ids = []
    for number, body in enumerate(BODIES):
        url = f"https://news.example/story-{number}"
        ids.append(save_article(db, {"url": url, "canonical_url": url, "title": f"Story {number} headline",
                                     "body": body, "published_at": "2026-12-01"}, None)[1])
    db.close()
    return ids


def run(db_path, tmp_path) -> nightly.NightlyResult:
    return nightly.run_nightly(db_path, nightly.NightlyOptions(skip=("crawl", "classify"),
                                                               report_dir=tmp_path / "reports",
                                                               report_formats=("md", "html")))


def analysed_ids(db_path) -> list[int]:
    return [row["article_id"] for row in query_rows(db_path, "SELECT article_id FROM processing "
                                                             "WHERE stage = 'analyse' ORDER BY article_id")]


def test_one_articles_analyser_error_is_recorded_and_the_others_are_analysed(tmp_path, poisoned):
    db_path = tmp_path / "cuttings.db"
    ids = make_db(db_path)
    poison = ids[2]
    poisoned.setattr(stages, "BATCH_SIZE", 2)   # the poisoned batch is the second of three: the third still goes

    first = run(db_path, tmp_path)
    analyse = first.stages["analyse"]
    # docs/operations.md: a stage that partly failed is `partial`; the run is partial, exit 4
    assert (analyse.status, first.status, first.exit_code) == ("partial", "partial", nightly.EXIT_PARTIAL)
    assert first.stages["report"].status == "ok"
    assert analyse.counts["articles"] == 4 and analyse.counts["failed"] == 1
    assert analysed_ids(db_path) == [i for i in ids if i != poison]
    assert query_rows(db_path, "SELECT count(*) AS n FROM quotes WHERE article_id = ?", [poison])[0]["n"] == 0
    assert re.search(rf"1 article could not be analysed \(article {poison}: IndexError: list index out of range "
                     r"\(nlp/entities\.py:\d+ in \w+\)\)", analyse.message)
    # recorded: one crawl_errors row of this run, the error in one line
    [error] = query_rows(db_path, "SELECT * FROM crawl_errors")
    assert (error["crawl_run_id"], error["kind"], error["url"]) == (first.run_id, "analyse_failed",
                                                                    "https://news.example/story-2")
    assert error["message"].startswith(f"article {poison}: IndexError: list index out of range (nlp/entities.py:")
    assert "\n" not in error["message"]
    [row] = query_rows(db_path, "SELECT status, message FROM crawl_runs WHERE id = ?", [first.run_id])
    assert row["status"] == "partial" and "could not be analysed" in row["message"]
    # the digest says so under "Needs attention"
    [digest] = (tmp_path / "reports").glob("*.md")
    attention = digest.read_text(encoding="utf-8").split("## Needs attention", 1)[1].split("\n## ", 1)[0]
    assert "- 1 story could not be analysed: Story 2 headline: IndexError: list index out of range" in attention
    [page] = (tmp_path / "reports").glob("*.html")
    assert ('<li class="unanalysed"><span class="kind">1 story could not be analysed:</span> Story 2 headline: '
            'IndexError: list index out of range') in page.read_text(encoding="utf-8")

    # still broken on the next night: tried again, recorded again, still one item
    second = run(db_path, tmp_path)
    assert (second.stages["analyse"].counts["articles"], second.stages["analyse"].counts["failed"]) == (0, 1)
    assert second.exit_code == nightly.EXIT_PARTIAL
    db = store.connect(db_path)
    [unanalysed] = store.unanalysed_articles(db)
    db.close()
    assert (unanalysed["article_id"], unanalysed["runs"]) == (poison, 2)
    assert unanalysed["error"].startswith("IndexError: list index out of range")

    # the analyser fixed: the next run analyses it, once, and nothing else
    poisoned.undo()
    third = run(db_path, tmp_path)
    assert (third.stages["analyse"].status, third.exit_code) == ("ok", nightly.EXIT_OK)
    assert third.stages["analyse"].counts["articles"] == 1 and third.stages["analyse"].counts["failed"] == 0
    assert analysed_ids(db_path) == ids
    stored = query_rows(db_path, "SELECT speaker, text FROM quotes WHERE article_id = ? ORDER BY start_char", [poison])
    expected = Analyser().analyse(f"Story 2 headline\n\n{BODIES[2]}", "2026-12-01")["quotes"]
    assert stored == [{"speaker": q["speaker"], "text": q["text"]} for q in expected]
    assert stored == [{"speaker": "Jonathon Pryce", "text": "We are proud of the crews,"}]
    db = store.connect(db_path)
    assert store.unanalysed_articles(db) == []
    db.close()
    assert run(db_path, tmp_path).stages["analyse"].counts["articles"] == 0   # nothing left, nothing twice
    assert query_rows(db_path, "SELECT count(*) AS n FROM quotes WHERE article_id = ?", [poison])[0]["n"] == 1


def test_every_article_failing_is_a_failed_stage(tmp_path, monkeypatch):
    db_path = tmp_path / "cuttings.db"
    make_db(db_path)
    monkeypatch.setattr(Analyser, "_result", lambda self, text, doc: [][0])
    result = nightly.run_nightly(db_path, nightly.NightlyOptions(skip=("crawl", "classify", "report")))
    assert result.stages["analyse"].status == "failed" and result.stages["analyse"].counts["failed"] == 5
    assert result.exit_code == nightly.EXIT_FATAL   # every stage that ran failed: nothing useful happened
    assert result.stages["analyse"].message.startswith("5 articles could not be analysed (article ")
    assert len(query_rows(db_path, "SELECT id FROM crawl_errors WHERE kind = 'analyse_failed'")) == 5


def test_cuttings_analyse_lists_the_failed_article_and_exits_4(tmp_path, poisoned):
    db_path = tmp_path / "cuttings.db"
    ids = make_db(db_path)
    result = invoke_cli("--db", str(db_path), "analyse")
    assert result.returncode == nightly.EXIT_PARTIAL
    assert result.stdout.decode().startswith("analysed 4 articles")
    lines = result.stderr.decode().strip().splitlines()
    assert "Traceback" not in result.stderr.decode()
    assert lines[0].startswith(f"article {ids[2]} (https://news.example/story-2) could not be analysed: IndexError")
    assert lines[1] == "1 article left unanalysed: the next `cuttings analyse` or `cuttings run` tries again"
    assert analysed_ids(db_path) == [i for i in ids if i != ids[2]]
    poisoned.undo()
    again = invoke_cli("--db", str(db_path), "analyse")
    assert again.returncode == 0 and again.stdout.decode().startswith("analysed 1 article:")


def test_analyse_text_says_in_one_line_which_input_the_analyser_failed_on(tmp_path, poisoned):
    good = tmp_path / "good.txt"
    good.write_text(f"Fire at the mill\n\n{BODIES[0]}\n", encoding="utf-8")
    text = f"Festival opens\n\n{BODIES[2]}\n".encode()
    result = invoke_cli("analyse-text", "--models", str(tmp_path / "no-models"), "-", str(good), input=text)
    assert result.returncode == 1
    errors = [line for line in result.stderr.decode().splitlines() if line.startswith("Error:")]
    assert errors == [line for line in errors if "Traceback" not in line] and len(errors) == 1
    assert re.fullmatch(r"Error: standard input: the analyser failed on this text: IndexError: list index out of "
                        r"range \(nlp/entities\.py:\d+ in analyse\) \(a bug in cuttings: please report it with "
                        r"the text\)", errors[0])
    assert "Traceback" not in result.stderr.decode()
    [output] = result.stdout.decode().splitlines()   # the good file is still analysed
    assert '"hwfrs"' in output


def test_error_line_is_one_line_naming_the_projects_innermost_frame():
    class Broken:
        def analyse(self, *args):
            raise ValueError("first line\n   second line")

    with pytest.raises(stages.AnalysisFailed) as caught:
        stages.analyse_text(Broken(), "x")
    assert re.fullmatch(r"ValueError: first line second line \(cuttings/stages\.py:\d+ in analyse_text\)",
                        str(caught.value))


def test_cuttings_run_prints_the_partial_stage_in_one_line(tmp_path, poisoned):
    db_path = tmp_path / "cuttings.db"
    ids = make_db(db_path)
    result = invoke_cli("--db", str(db_path), "run", "--skip", "crawl", "--skip", "classify", "--skip", "report",
                        "--quiet", "--log-file", str(tmp_path / "run.log"))
    assert result.returncode == nightly.EXIT_PARTIAL
    lines = result.stderr.decode().strip().splitlines()
    assert lines[0].startswith(f"analyse: 1 article could not be analysed (article {ids[2]}: IndexError: list index")
    assert re.match(r"run \d+: partial \(exit 4\)", lines[-1])
    assert "Traceback" not in result.stderr.decode()
    log = (tmp_path / "run.log").read_text(encoding="utf-8")   # the traceback is for the log file
    assert "Traceback" in log and f"article {ids[2]} (https://news.example/story-2) could not be analysed" in log


def test_parallel_workers_isolate_the_article_too(tmp_path, poisoned):
    from cuttings.parallel import analyse_parallel, worker_pool
    db_path = tmp_path / "cuttings.db"
    ids = make_db(db_path)
    poisoned.setattr(stages, "BATCH_SIZE", 2)
    db = store.connect(db_path)
    analyser = stages.load_analyser()
    with worker_pool(2, analyser=analyser) as pool:   # forked: the workers' analyser raises on it as well
        counts = analyse_parallel(db, analyser, pool)
    db.close()
    assert (counts["articles"], counts["failed"]) == (4, 1)
    assert [failure["article_id"] for failure in counts["failures"]] == [ids[2]]
    assert analysed_ids(db_path) == [i for i in ids if i != ids[2]]


def test_an_article_failing_every_night_does_not_stop_classification(tmp_path, poisoned):
    """The second night only the poisoned article is left to analyse, and the analyse stage analyses nothing:
    classify still runs (it takes only analysed articles), so re-classifying after new models is not blocked
    for as long as one article keeps failing. A stage that raised as a whole still skips classify."""
    classified = []
    poisoned.setattr(nightly, "_load_models", lambda options: (Analyser(), object()))
    poisoned.setitem(nightly._STAGE_FUNCTIONS, "classify",
                     lambda *a, **k: classified.append(1) or nightly.StageResult("ok", counts={"articles": 0}))
    db_path = tmp_path / "cuttings.db"
    make_db(db_path)
    options = nightly.NightlyOptions(skip=("crawl", "report"))
    nightly.run_nightly(db_path, options)
    second = nightly.run_nightly(db_path, options)
    assert (second.stages["analyse"].counts["articles"], second.stages["analyse"].counts["failed"]) == (0, 1)
    assert second.stages["classify"].status == "ok" and len(classified) == 2
    poisoned.setitem(nightly._STAGE_FUNCTIONS, "analyse",
                     lambda *a, **k: nightly.StageResult("failed", message="the analyser could not load"))
    third = nightly.run_nightly(db_path, options)
    assert third.stages["classify"].status == "skipped" and len(classified) == 2


def test_crawl_health_does_not_blame_the_outlet_for_an_analyser_error(tmp_path):
    """An article the analyser raised on is no fault of its outlet: the digest's crawl health lists no error for
    the outlet ("Needs attention" names the story on its own), and the outlet is not a failed source."""
    from cuttings import failures, report
    db = store.connect(tmp_path / "h.db")
    db["sources"].insert({"id": "wn", "name": "Worcester News", "region": "Worcestershire"}, alter=True)
    url = "https://wn.example/a"
    article_id = save_article(db, {"url": url, "canonical_url": url, "title": "T", "body": "B", "source_id": "wn"},
                              None)[1]
    run_id = store.start_run(db, "run")
    source_run = {"crawl_run_id": run_id, "source_id": "wn", "articles_stored": 0, "errors": 1}
    db["source_runs"].insert(source_run, alter=True)
    store.record_errors(db, run_id, "http_404", [("wn", "https://wn.example/gone", "HTTP 404")])
    store.record_analyse_failures(db, run_id, [{"article_id": article_id, "url": url, "source_id": "wn",
                                                "error": "IndexError: x"}] * 2)   # more than the source's own errors
    _run, warnings = report._health(db)
    assert not any("analyse_failed" in warning["message"] for warning in warnings)
    assert [kind for _source, kind, _cause in failures.source_failures(db, run_id, [source_run])] == ["http_404"]
    db.close()
