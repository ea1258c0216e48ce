"""The story view's bodies facet (cuttings.browse.ListFacet): the counts of Datasette's array facet, with the same
links, from a statement that reads only a story's key and its bodies. Datasette's own array facet removes repeats
with ``SELECT DISTINCT j.value, inner.*``, which computes every column of article_summary for every story (its
label columns read each story's labels and predictions): 4-5 s at 50,000 stories, past the 3 s facet limit, so
the page showed no bodies facet (docs/benchmarks.md, "Story pages at a year's size")."""
from __future__ import annotations

import asyncio
import copy
import sqlite3

import pytest
from datasette.app import Datasette
from datasette.utils import escape_fts

from cuttings import browse, serve
from tests.report_fixtures import build_sample_db

ARRAY_FACETS = ["outlet", {"array": "bodies"}, "stance", "uncertain"]   # as configured before


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("facets") / "cuttings.db"
    build_sample_db(path).close()
    return path


def _datasette(path, facets=None) -> Datasette:
    metadata = serve.datasette_metadata(path)
    if facets is not None:
        metadata = copy.deepcopy(metadata)
        metadata["databases"][path.stem]["tables"]["article_summary"]["facets"] = facets
    return Datasette([str(path)], metadata=metadata, settings=serve.datasette_settings(path, suggest_facets=False),
                     plugins_dir=str(serve.PLUGINS_DIR))


def _facets(ds: Datasette, path, query: str) -> tuple[dict, list[tuple[str, dict]]]:
    """The page's facet results (value, count, link, selected) and its array facet statements (facet
    suggestions off: they read json_each too)."""
    seen = []
    execute = ds.execute

    async def recording(database, sql, *args, **kwargs):
        seen.append((sql, args[0] if args else kwargs.get("params")))
        return await execute(database, sql, *args, **kwargs)

    ds.execute = recording
    page = asyncio.run(ds.client.get(f"/{path.stem}/article_summary.json?_size=0{query}")).json()
    results = {name: [(item["value"], item["count"], item["toggle_url"], item["selected"])
                      for item in facet["results"]]
               for name, facet in page["facet_results"].items()}
    return results, [(sql, params) for sql, params in seen if "items AS (" in sql or "deduped_array_items" in sql]


def _plan(path, statement: tuple[str, dict]) -> list[str]:
    sql, params = statement
    with sqlite3.connect(path) as conn:
        conn.create_function("escape_fts", 1, escape_fts)   # as Datasette registers it
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params or {}).fetchall()]


def _reads_labels(steps: list[str]) -> list[str]:
    return [step for step in steps if " classifications" in step or " labels" in step
            or "idx_classifications" in step or "idx_labels" in step]


def test_the_story_views_bodies_facet_is_counted_by_story():
    facets = serve.datasette_metadata(":memory:")["databases"][":memory:"]["tables"]["article_summary"]["facets"]
    assert {"list": {"column": "bodies", "key": "article_id"}} in facets and {"array": "bodies"} not in facets
    assert ["outlet", "stance", "uncertain"] == [facet for facet in facets if isinstance(facet, str)]


@pytest.mark.parametrize("query", ["", "&_search=fire", "&bodies__arraycontains=PCC", "&outlet=Shropshire+Star"])
def test_the_bodies_facet_reads_no_label_and_counts_as_datasettes(sample, query):
    new, statements = _facets(_datasette(sample), sample, query)
    old, old_statements = _facets(_datasette(sample, ARRAY_FACETS), sample, query)
    assert new == old and new["bodies"], (new, old)
    # one facet statement each; the configured one reads neither labels nor predictions, Datasette's own does
    assert len(statements) == len(old_statements) == 1
    assert not _reads_labels(_plan(sample, statements[0])), _plan(sample, statements[0])
    assert _reads_labels(_plan(sample, old_statements[0]))


def test_a_list_facet_asked_for_without_a_key_counts_whole_rows(sample):
    """``?_facet_list=COLUMN`` (no key in the request): ArrayFacet's own statement, the same counts."""
    new, statements = _facets(_datasette(sample, ["outlet"]), sample, "&_facet_list=bodies")
    old, _ = _facets(_datasette(sample, ["outlet"]), sample, "&_facet_array=bodies")
    assert [row[:2] for row in new["bodies"]] == [row[:2] for row in old["bodies"]] and new["bodies"]
    sql = statements[0][0]
    assert "[inner].*" in sql
    assert sql == browse.list_facet_sql(sql.split("WITH [inner] AS (", 1)[1].split(
        "), items AS (", 1)[0], "bodies", None, 31)


# A body chosen in the bodies facet (its link: ``bodies__arraycontains=NAME``). Datasette's filter computes every
# story's bodies to test it (count, page and four facets: 2.3-2.4 s at 50,000 stories); cuttings.browse adds the
# same test as the ids of the stories with a mention of that name, sought by index (browse.BODY_NAMED_SQL).
CHOSEN = ["HWFRS", "PCC", "West+Mercia+Police", "ghost", "hwfrs", "Nobody", "H%26W+Fire+Authority",
          "HWFRS&bodies__arraycontains=PCC", "SFRS&_search=fire", "PCC&outlet=Shropshire+Star"]


@pytest.fixture(scope="module")
def ghostly(sample, tmp_path_factory):
    """The sample with a mention of a body the watchlist no longer has ('ghost': its name in bodies is its id)."""
    path = tmp_path_factory.mktemp("ghost") / "cuttings.db"
    with sqlite3.connect(sample) as source, sqlite3.connect(path) as target:
        source.backup(target)
    with sqlite3.connect(path) as conn:
        story = conn.execute("SELECT min(article_id) FROM article_summary WHERE bodies != '[]'").fetchone()[0]
        conn.execute("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char, analyser_version) "
                     "VALUES (?, 'ghost', 'Ghost', 0, 5, 'a')", [story])
    return path


def _page(ds: Datasette, path, query: str) -> tuple[dict, list[str]]:
    seen = []
    execute = ds.execute

    async def recording(database, sql, *args, **kwargs):
        seen.append(sql)
        return await execute(database, sql, *args, **kwargs)

    ds.execute = recording
    page = asyncio.run(ds.client.get(f"/{path.stem}/article_summary.json?_size=max&bodies__arraycontains={query}"))
    assert page.status_code == 200, page.text
    return page.json(), seen


@pytest.mark.parametrize("query", CHOSEN)
def test_a_body_chosen_gives_the_rows_count_and_facets_of_datasettes_filter(ghostly, query, monkeypatch):
    new, statements = _page(_datasette(ghostly), ghostly, query)
    with monkeypatch.context() as patch:
        patch.setattr(browse, "BODY_NAMED_SQL", "1 = 1")   # Datasette's filter alone
        old, old_statements = _page(_datasette(ghostly), ghostly, query)
    # all but the page's SQL (which shows the clause added) and its time
    assert [key for key in new if new[key] != old[key]] == ["query", "query_ms"], (new, old)
    assert new["rows"] == old["rows"] and new["filtered_table_rows_count"] == old["filtered_table_rows_count"]
    assert new["facet_results"] == old["facet_results"] and new["human_description_en"] == old["human_description_en"]
    # the stories sought by the body's entities in each facet's statement (Datasette.execute; the page's query and
    # count go to the database directly: their SQL is the page's "query" above)
    filtered = [sql for sql in statements if "json_each" in sql and "article_summary" in sql]
    assert len(filtered) == len([sql for sql in old_statements if "json_each" in sql
                                 and "article_summary" in sql]) == 4
    assert all("m.entity_id IN (SELECT en.id FROM entities en" in sql for sql in filtered)
    assert "m.entity_id IN (SELECT en.id FROM entities en" in new["query"]["sql"]
    assert "m.entity_id IN" not in old["query"]["sql"] and "m.entity_id IN" not in " ".join(old_statements)
    expected = {"HWFRS": 7, "ghost": 1, "hwfrs": 0, "Nobody": 0, "West+Mercia+Police": 3, "H%26W+Fire+Authority": 3}
    if query in expected:
        assert new["filtered_table_rows_count"] == expected[query]


def test_a_body_chosen_seeks_its_stories_by_index(sample):
    """The count's plan: the chosen body's stories are a list built once from the entities and the mentions by
    body, not every story's bodies computed first."""
    page, _ = _page(_datasette(sample), sample, "PCC")
    count = "select count(*) " + page["query"]["sql"][page["query"]["sql"].index("from article_summary"):]
    count = count[:count.index(" order by")]
    with sqlite3.connect(sample) as conn:
        steps = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {count}", page["query"]["params"]).fetchall()]
    assert "LIST SUBQUERY 2" in steps or any(step.startswith("LIST SUBQUERY") for step in steps), steps
    assert any(step.startswith("SEARCH m USING") and "(entity_id=?)" in step for step in steps), steps
