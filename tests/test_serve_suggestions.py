"""Datasette's facet suggestions in `cuttings serve`: on for a small database, off past SUGGEST_FACETS_UP_TO stories.

A suggestion is a query over the whole table or view per column, each stopped at 50 ms: at a year's size none
finishes, and every page spent 0.4-1.9 s suggesting nothing (docs/benchmarks.md, "Facet suggestions")."""
from __future__ import annotations

import asyncio
import sqlite3

from click.testing import CliRunner
from datasette.app import Datasette

import pipeline
from cuttings import serve
from tests.report_fixtures import build_sample_db


def suggested(path, settings) -> list[str]:
    async def get():
        ds = Datasette([str(path)], metadata=serve.datasette_metadata(path), settings=settings,
                       plugins_dir=str(serve.PLUGINS_DIR), template_dir=str(serve.TEMPLATES_DIR))
        await ds.invoke_startup()
        response = await ds.client.get(f"/{path.stem}/articles.json?_extra=suggested_facets")
        assert response.status_code == 200
        return [facet["name"] for facet in response.json()["suggested_facets"]]
    return asyncio.run(get())


def test_a_small_database_gets_suggestions_and_a_large_one_none(tmp_path, monkeypatch):
    path = tmp_path / "cuttings.db"
    build_sample_db(path).close()
    stories = serve.story_count(path)
    assert stories > 1
    settings = serve.datasette_settings(path)
    assert settings["suggest_facets"] is True and settings["sql_time_limit_ms"] == 5000
    assert suggested(path, settings)                      # Datasette suggests columns of the sample's articles
    monkeypatch.setattr(serve, "SUGGEST_FACETS_UP_TO", stories - 1)
    settings = serve.datasette_settings(path)
    assert settings["suggest_facets"] is False
    assert suggested(path, settings) == []
    monkeypatch.setattr(serve, "SUGGEST_FACETS_UP_TO", stories)     # up to and including: still on
    assert serve.datasette_settings(path)["suggest_facets"] is True


def test_the_operator_chooses_over_the_size(tmp_path, monkeypatch):
    path = tmp_path / "cuttings.db"
    build_sample_db(path).close()
    assert serve.datasette_settings(path, suggest_facets=False)["suggest_facets"] is False
    monkeypatch.setattr(serve, "SUGGEST_FACETS_UP_TO", 0)
    assert serve.datasette_settings(path, suggest_facets=True)["suggest_facets"] is True


def test_the_command_line_says_on_or_off_as_datasette_reads_it(tmp_path, monkeypatch):
    path = tmp_path / "cuttings.db"
    build_sample_db(path).close()
    monkeypatch.setattr(serve, "SUGGEST_FACETS_UP_TO", 0)
    words = serve.datasette_arguments(serve.datasette_settings(path))
    assert words[words.index("suggest_facets") - 1] == "--setting"
    assert words[words.index("suggest_facets") + 1] == "off"
    assert words[words.index("sql_time_limit_ms") + 1] == "5000"
    words = serve.datasette_arguments(serve.datasette_settings(path, suggest_facets=True))
    assert words[words.index("suggest_facets") + 1] == "on"


def test_serve_passes_the_operators_choice(tmp_path, monkeypatch):
    path = tmp_path / "cuttings.db"
    build_sample_db(path).close()
    chosen = []
    monkeypatch.setattr(serve, "serve", lambda *args, **kwargs: chosen.append(kwargs.get("suggest_facets")) or 0)
    runner = CliRunner()
    for flag, expected in (([], None), (["--no-suggest-facets"], False), (["--suggest-facets"], True)):
        result = runner.invoke(pipeline.cli, ["--db", str(path), "serve", *flag])
        assert result.exit_code == 0, result.output
        assert chosen[-1] is expected


def test_a_database_without_articles_table_is_counted_as_empty(tmp_path):
    assert serve.story_count(tmp_path / "missing.db") == 0


def test_the_size_is_read_from_a_file_whose_name_holds_uri_characters(tmp_path):
    path = tmp_path / "news? #1 100%.db"
    build_sample_db(path).close()
    with sqlite3.connect(path) as conn:
        stories = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert stories > 0 and serve.story_count(path) == stories
