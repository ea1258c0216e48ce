"""`analyse --workers N` and `classify --workers N`: the same rows as one process."""
from __future__ import annotations

import shutil
import sqlite3

import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow

RESULT_TABLES = {
    "mentions": "SELECT article_id, entity_id, surface, start_char, end_char, sentence, paragraph, method, "
                "analyser_version FROM mentions",
    "quotes": "SELECT article_id, speaker, speaker_role, entity_id, entity_method, text, start_char, end_char, "
              "analyser_version FROM quotes",
    "named_entities": "SELECT article_id, label, text, start_char, end_char FROM named_entities",
    "classifications": "SELECT article_id, task, target, label, round(probability, 9), uncertain, model_version "
                       "FROM classifications",
    "processing": "SELECT article_id, stage, version, content_hash FROM processing",
}


def fresh_copy(source, target):
    """The demo database with every analysis and classification removed."""
    shutil.copy(source, target)
    with sqlite3.connect(target) as con:
        for table in ("mentions", "quotes", "named_entities", "classifications", "processing"):
            con.execute(f"DELETE FROM {table}")
    return target


def results(path) -> dict:
    with sqlite3.connect(path) as con:
        return {table: sorted(con.execute(sql), key=repr) for table, sql in RESULT_TABLES.items()}


def test_parallel_analyse_and_classify_write_what_one_process_writes(tmp_path, demo_db, trained_models):
    one, two = fresh_copy(demo_db, tmp_path / "one.db"), fresh_copy(demo_db, tmp_path / "two.db")
    env = {"CUTTINGS_MODELS": str(trained_models)}
    for db, extra in ((one, []), (two, ["--workers", "2"])):
        analysed = run_cli("--db", str(db), "analyse", *extra, env=env)
        assert analysed.returncode == 0, analysed.stderr.decode()[-2000:]
        classified = run_cli("--db", str(db), "classify", *extra, env=env)
        assert classified.returncode == 0, classified.stderr.decode()[-2000:]
    with sqlite3.connect(demo_db) as con:
        articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert analysed.stdout.decode().startswith(f"analysed {articles} articles")
    assert classified.stdout.decode().startswith(f"classified {articles} articles")
    single, parallel = results(one), results(two)
    assert single["mentions"] and single["quotes"] and single["classifications"]
    assert parallel == single
    again = run_cli("--db", str(two), "analyse", "--workers", "2", env=env)  # nothing left to do
    assert again.stdout.decode().startswith("analysed 0 articles")
