"""Datasette metadata and a real Datasette server on the sample database."""
from __future__ import annotations

import json
import signal
import sys
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from datasette.utils import escape_fts
from sqlite_utils import Database

from cuttings import serve, store
from tests.faultserver import closed_port as _free_port
from tests.report_fixtures import HOSTILE_TITLE, MODEL_METRICS, MODEL_REPORTS, MODEL_VERSIONS, build_sample_db


def test_metadata_describes_every_table_view_and_column():
    db = Database(memory=True)
    store.migrations.apply(db)
    # sqlite_sequence (quotes.id AUTOINCREMENT, m027): SQLite's own, which Datasette hides
    names = [n for n in db.table_names() + db.view_names() if not n.startswith(("articles_fts", "_", "sqlite_"))]
    metadata = serve.datasette_metadata("/data/cuttings.db")
    tables = metadata["databases"]["cuttings"]["tables"]
    assert sorted(name for name in tables if not name.startswith("_")) == sorted(names)
    for name in names:
        actual = [row[1] for row in db.execute(f"PRAGMA table_info([{name}])").fetchall()]
        assert sorted(tables[name]["columns"]) == sorted(actual), name
        assert tables[name]["description"] and all(tables[name]["columns"].values())
    assert "sort_desc" not in tables["articles"]  # its search is ranked by relevance
    assert tables["article_summary"]["sort_desc"] == "published_at"
    hidden = {name for name, entry in tables.items() if entry.get("hidden")}
    assert hidden == {"article_fingerprints", "crawl_state", "processing", "quote_view", "quote_people_stored",
                      "quote_people_state", "article_labels_stored", "_sqlite_migrations"}
    assert {"list": {"column": "bodies", "key": "article_id"}} in tables["article_summary"]["facets"] and "body" in tables["most_quoted"]["facets"]
    assert tables["entities"]["label_column"] == "name"
    assert metadata["plugins"] == {"cuttings": {"corrections": False, "host": "127.0.0.1"}}
    assert serve.datasette_metadata("x.db", corrections=True)["plugins"]["cuttings"]["corrections"] is True
    assert "entity_id" in tables["mentions"]["facets"] and "label" in tables["classifications"]["facets"]


def test_canned_queries_run_against_sample_db(tmp_path):
    db = build_sample_db(tmp_path / "cuttings.db")
    db.conn.create_function("escape_fts", 1, escape_fts)
    queries = serve.CANNED_QUERIES
    found = list(db.query(queries["search"]["sql"], {"q": 'headquarters "fire and police"'}))
    assert [row["title"] for row in found] == ["Fire and police alliance: shared headquarters plan"]
    assert list(db.query(queries["search"]["sql"], {"q": 'unbalanced " quote AND ('})) == []
    for quotes_only in ('"', '""', '" "', "  "):   # escape_fts makes these an empty match: no rows, no error
        assert list(db.query(queries["search"]["sql"], {"q": quotes_only})) == []
    coverage = list(db.query(queries["entity_coverage"]["sql"],
                             {"entity": "wm_pcc", "start": "2026-11-20", "end": "2026-11-23"}))
    assert [row["title"] for row in coverage][-1] == "PCC confirms consultation on fire governance"
    assert len(coverage) == 4 and {row["tone_towards_entity"] for row in coverage} == {"neutral", "negative",
                                                                                         "positive"}
    critical = {row["title"] for row in db.query(queries["critical_articles"]["sql"])}
    # negative tone, or a stance the scheme's `attention` names (shipped: against and favour, as the digest flags)
    assert {HOSTILE_TITLE, "Fire chiefs warn over commissioner's plans",
            "Councillors oppose PCC bid to run Shropshire fire service",
            "Campion defends fire takeover plan at public meeting",
            "Commissioner Campion sets out case for taking over fire governance"} == critical
    assert {row["stance"] for row in db.query(queries["critical_articles"]["sql"])} >= {"against", "favour"}
    quality = {row["task"]: row for row in db.query(queries["model_quality"]["sql"])}
    assert set(quality) == set(MODEL_METRICS)
    assert quality["stance_governance"]["on_held_out_slices"] == 0.738
    assert quality["stance_governance"]["cross_validated"] == 0.823
    assert json.loads(quality["topics"]["held_out_90pct_interval"]) == [0.752, 0.8]
    assert json.loads(quality["stance_governance"]["held_out_slice_range"]) == [0.497, 1.0]
    assert quality["tone"]["on_held_out_slices"] is None and quality["tone"]["baseline"] == 0.225
    labels = {row["model_version"]: row["n"] for row in db.query(
        "SELECT model_version, count(*) AS n FROM classifications GROUP BY model_version")}
    assert {row["version"]: row["labels_given"] for row in quality.values()} == {
        version: labels.get(version, 0) for version in MODEL_VERSIONS.values()}
    reliability = list(db.query(queries["label_reliability"]["sql"]))
    by_label = {(row["task"], row["label"]): row for row in reliability}
    for task, reports in MODEL_REPORTS.items():
        report, tested_on = ((reports["leave_one_slice_out"], "held-out slices") if reports["leave_one_slice_out"]
                             else (reports["cross_validation"], "cross-validation"))
        for label, scores in report["per_label"].items():
            row = by_label[(task, label)]
            assert (row["right_when_said"], row["found"], row["labelled_articles"], row["tested_on"]) == (
                round(scores["precision"], 3), round(scores["recall"], 3), scores["support"], tested_on)
    assert len(reliability) == sum(len((r["leave_one_slice_out"] or r["cross_validation"])["per_label"])
                                   for r in MODEL_REPORTS.values())
    quotes = list(db.query(queries["quotes_by"]["sql"], {"speaker": "Campion"}))
    assert len(quotes) == 3 and {row["entity_id"] for row in quotes} == {"wm_pcc"}


def _get(base: str, path: str, params: dict | None = None):
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("serve")
    db_path = directory / "cuttings.db"
    build_sample_db(db_path).close()
    serve.checkpoint(db_path)
    metadata = serve.write_metadata(db_path, directory)
    process, base = _started(lambda port: serve.datasette_command(db_path, metadata, port=port))
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_server_articles_json_returns_hostile_title_as_data(server):
    rows = _get(server, "/cuttings/articles.json", {"_shape": "array", "_size": "100", "_sort_desc": "published_at"})
    assert len(rows) == 20
    assert [row["published_at"] for row in rows] == sorted((row["published_at"] for row in rows), reverse=True)
    assert HOSTILE_TITLE in {row["title"] for row in rows}
    with urllib.request.urlopen(server + "/cuttings/articles?_search=quits", timeout=10) as response:
        page = response.read().decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


def test_server_canned_query_with_parameters(server):
    rows = _get(server, "/cuttings/quotes_by.json", {"speaker": "Campion", "_shape": "array"})
    assert len(rows) == 3 and all("Campion" in row["speaker"] for row in rows)
    found = _get(server, "/cuttings/search.json", {"q": "shocked", "_shape": "array"})
    assert [row["title"] for row in found] == [HOSTILE_TITLE]


def test_server_metadata_and_read_only(server):
    metadata = _get(server, "/-/metadata.json")
    assert metadata["databases"]["cuttings"]["tables"]["mentions"]["columns"]["entity_id"].startswith("The entity")
    databases = _get(server, "/-/databases.json")
    assert databases[0]["is_mutable"] is True  # mode=ro connections that read the live WAL (issue 14)
    facets = _get(server, "/cuttings/mentions.json", {"_facet": "entity_id"})
    counts = {item["value"]: item["count"] for item in facets["facet_results"]["entity_id"]["results"]}
    assert counts["wm_pcc"] == 12


def _started(command) -> tuple[subprocess.Popen, str]:
    """``command(port)`` (a server's argv) run on a free port, its output piped, once Datasette answers there: the
    process and the server's address. The caller stops it."""
    port = _free_port()
    process = subprocess.Popen(command(port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            _get(base, "/-/versions.json")
            return process, base
        except OSError:
            if process.poll() is not None or time.monotonic() >= deadline:
                process.kill()
                pytest.fail("datasette did not start: " + process.communicate()[0].decode(errors="replace"))
            time.sleep(0.2)


def _serving(db_path) -> tuple[subprocess.Popen, str]:
    """serve() of ``db_path`` in a process of its own (:func:`_started`): the process and the server's address."""
    return _started(lambda port: [sys.executable, "-c", "import sys; from cuttings.serve import serve; "
                                  "sys.exit(serve(sys.argv[1], port=int(sys.argv[2])))", str(db_path), str(port)])


def test_serve_checkpoints_wal_and_stops_datasette_on_sigterm(tmp_path):
    """serve() itself: the sample data still sits in the WAL (a connection is open), yet the immutable
    server sees it; SIGTERM to the cuttings process stops Datasette too."""
    db_path = tmp_path / "cuttings.db"
    db = build_sample_db(db_path)
    assert (tmp_path / "cuttings.db-wal").stat().st_size > 0
    process, base = _serving(db_path)
    try:
        rows = _get(base, "/cuttings/article_summary.json", {"_shape": "array", "_size": "100"})
        assert len(rows) == 18 and rows[0]["published_at"] == "2026-11-24T05:30:00Z"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        db.close()
    with pytest.raises(OSError):
        _get(base, "/-/versions.json")


def test_a_page_not_found_is_one_log_line_not_a_traceback(tmp_path):
    """A mistyped URL under `cuttings serve`: a 404 page, and on the terminal (or the journal) the access line
    alone, not Datasette's rich traceback with its local variables (188 lines on 9410ebd)."""
    db_path = tmp_path / "cuttings.db"
    build_sample_db(db_path).close()
    process, base = _serving(db_path)
    try:
        request = urllib.request.Request(base + "/cuttings/no_such_table", headers={"Cookie": "ds_actor=s3cr3t"})
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(request, timeout=10)
        assert missing.value.code == 404 and "Table not found" in missing.value.read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=15)[0].decode(errors="replace")
    assert '"GET /cuttings/no_such_table HTTP/1.1" 404' in output
    assert "Traceback" not in output and "locals" not in output and "s3cr3t" not in output


def test_the_critical_query_reads_the_stance_task_the_label_views_read(tmp_path):
    """The canned SQL keeps no "newest task of a kind" rule of its own: it reads the task label_roles names,
    written with the views by store.schema.label_task_roles (newest updated_at, ties broken by name)."""
    from cuttings.store import schema
    sql = serve.CANNED_QUERIES["critical_articles"]["sql"]
    assert "kind = 'single_label'" not in sql and "FROM label_roles WHERE role = 'stance'" in sql
    db = build_sample_db(tmp_path / "cuttings.db")
    for rows in ([("b_task", "2026-12-02"), ("a_task", "2026-12-02"), ("c_task", "2026-12-01")],
                 [("z_task", "2026-12-03"), ("a_task", "2026-12-02")],
                 [("m_task", "2026-12-05T00:00:00Z"), ("n_task", "2026-12-05T00:00:00Z")]):
        for name, at in rows:
            db.execute("INSERT OR REPLACE INTO label_tasks (name, kind, updated_at, labels_json, absent, "
                       "attention_json) VALUES (?, 'single_label', ?, '[\"favour\", \"against\", \"neutral\", "
                       "\"none\"]', 'none', '[\"neutral\"]')", [name, at])
        schema.refresh_label_views(db)
        picked = db.execute("SELECT task FROM label_roles WHERE role = 'stance'").fetchone()[0]
        assert picked == schema.label_task_roles(db.conn)["stance"] == min(
            rows, key=lambda row: (-int(row[1][:10].replace("-", "")), row[0]))[0]
        assert f"e.task = '{picked}'" in db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'article_summary'").fetchone()[0]
        db.execute("DELETE FROM label_tasks WHERE name LIKE '%\\_task' ESCAPE '\\'")
    db.close()


def test_a_database_served_without_m016_gets_the_stance_task_its_views_read(tmp_path):
    """Read-only storage: a database from before m016 has no label_roles view; its critical_articles names the
    stance task the views read (the views' rule, run when it is served), also when the newest stance row is one
    the views cannot hold, and lists what the upgraded database lists."""
    import sqlite3
    path = tmp_path / "cuttings.db"
    db = build_sample_db(path)
    db.execute("INSERT INTO label_tasks (name, kind, updated_at, labels_json, absent, attention_json) VALUES "
               "('stance\x07x', 'single_label', '2026-12-05T00:00:00Z', '[\"favour\", \"against\", \"none\"]', "
               "'none', '[\"favour\"]')")   # as an old database could hold it
    store.schema.refresh_label_views(db)
    db.conn.commit()
    upgraded = [tuple(row) for row in db.execute(serve.CANNED_QUERIES["critical_articles"]["sql"]).fetchall()]
    db.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP VIEW label_roles")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm016_label_roles'")
    conn.commit()
    conn.close()
    query = serve.datasette_metadata(path)["databases"]["cuttings"]["queries"]["critical_articles"]
    assert "label_roles" not in query["sql"] and "t.name = 'stance_governance'" in query["sql"]
    assert "predates migration m016" in query["description"]
    conn = sqlite3.connect(path)
    assert conn.execute(query["sql"]).fetchall() == upgraded
    conn.close()
    assert {"against", "favour"} <= {row[5] for row in upgraded}   # article_id, ..., url, stance


def test_a_database_served_without_m015_gets_a_critical_query_it_can_run(tmp_path):
    """Read-only storage: `connect` opens the file as it is, so a database from before m015 is served without
    label_tasks.attention_json; its critical_articles reads the shipped attention labels and says so."""
    import sqlite3
    path = tmp_path / "cuttings.db"
    db = build_sample_db(path)
    db.conn.commit()
    db.close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE label_tasks DROP COLUMN attention_json")
    conn.close()
    query = serve.datasette_metadata(path)["databases"]["cuttings"]["queries"]["critical_articles"]
    assert "attention_json" not in query["sql"] and "predates migration m015" in query["description"]
    conn = sqlite3.connect(path)
    degraded = [row[:6] for row in conn.execute(query["sql"])]
    conn.close()
    fresh = tmp_path / "fresh.db"
    db = build_sample_db(fresh)
    shipped = [row[:6] for row in db.execute(serve.CANNED_QUERIES["critical_articles"]["sql"]).fetchall()]
    db.close()
    assert degraded == shipped and {"against", "favour"} <= {row[5] for row in degraded}   # as the shipped scheme
    assert serve.datasette_metadata(fresh)["databases"]["fresh"]["queries"]["critical_articles"]["sql"] == \
        serve.CANNED_QUERIES["critical_articles"]["sql"]


def test_home_page_describes_the_watchlist_the_database_stores_escaped(tmp_path):
    """Another team's watchlist (Devon and Somerset fire, Devon and Cornwall police and PCC): the home page
    names its bodies (display names, else names, in its order), not the shipped West Mercia ones, and a
    display name is shown as text, never as markup."""
    import asyncio

    from datasette.app import Datasette

    from nlp.watchlist import parse_watchlist
    from tests.test_quotes_other_watchlist import DEVON

    marked = DEVON.replace('name = "Devon and Cornwall Police"\n',
                           'name = "Devon and Cornwall Police"\ndisplay_name = "D&C Police <b>"\n', 1)
    path = tmp_path / "devon.db"
    db = Database(path)
    store.migrations.apply(db)
    store.sync_entities(db, parse_watchlist(marked.encode(), "devon.toml"))
    db.close()
    metadata = serve.datasette_metadata(path)
    assert metadata["description"].startswith(
        "Local news about DSFRS, Devon and Somerset Fire and Rescue Authority, Devon and Cornwall Police and Crime "
        "Commissioner and D&C Police <b>, with quotes")
    assert "West Mercia" not in json.dumps(metadata["description"])

    async def home():
        return (await Datasette([str(path)], metadata=metadata).client.get("/")).text

    page = asyncio.run(home())
    assert "Local news about DSFRS, Devon and Somerset Fire and Rescue Authority" in page
    assert "D&amp;C Police &lt;b&gt;, with quotes" in page and "<b>" not in page
    assert "West Mercia" not in page
    # nothing stored yet (no analysis has run): no body is named, none invented
    empty = tmp_path / "empty.db"
    fresh = Database(empty)
    store.migrations.apply(fresh)
    fresh.close()
    assert serve.datasette_metadata(empty)["description"].startswith("Local news about the watched bodies, with")
