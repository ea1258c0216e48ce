"""The Datasette pages as a reader and a corrector meet them: the real server with the cuttings plugin,
templates and metadata (``cuttings.screenshots.datasette_server`` runs ``cuttings serve``'s command),
a correction posted with Datasette's CSRF token, and headless Chromium screenshots."""
from __future__ import annotations

import http.cookiejar
import json
import re
import sqlite3
import struct
import urllib.error
import urllib.parse
import urllib.request

import pytest

from cuttings import screenshots, serve, store
from tests.report_fixtures import HOSTILE_TITLE, article_id, build_sample_db


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("browse") / "cuttings.db"
    build_sample_db(path).close()
    return path


@pytest.fixture(scope="module")
def ids(sample_path):
    db = store.connect(sample_path, create=False)
    try:
        return {key: article_id(db, key) for key in ("defends", "warn", "hostile", "savings")}
    finally:
        db.close()


@pytest.fixture(scope="module")
def readonly(sample_path):
    with screenshots.datasette_server(sample_path) as base:
        yield base


def _open(url: str, opener=None, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data)
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", errors="replace")


def test_home_and_database_pages_lead_with_stories_and_queries(readonly):
    status, home = _open(readonly + "/")
    assert status == 200
    assert home.index("Latest stories") < home.index("Questions to ask")
    assert "Search articles" in home and "/cuttings/article_summary" in home
    status, page = _open(readonly + "/cuttings")
    assert status == 200
    stories, queries, tables = (page.index("Latest stories"), page.index("Questions to ask"),
                                page.index('id="tables"'))
    assert stories < queries < tables
    assert page.index("Custom SQL query") > tables  # the SQL box comes after the data
    assert "select * from article_summary" in page and "_sqlite_migrations" not in page.split('id="tables"')[1]
    for hidden in ("article_fingerprints", "crawl_state", "processing"):
        assert f'/cuttings/{hidden}"' not in page
    # crawled headlines are escaped on both pages
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home and "<script>alert(1)" not in home + page


def test_story_page_shows_text_bodies_quotes_labels_and_copies(readonly, ids):
    status, page = _open(f"{readonly}/-/cuttings/story/cuttings/{ids['defends']}")
    assert status == 200
    assert "Campion defends fire takeover plan at public meeting" in page
    for section in ("Watched bodies", "Labels", "Quotes (2)", "Copies (1)", "Labels set by people"):
        assert section in page
    assert "PCC ×" in page and "HWFRS ×" in page  # display names, not ids
    assert "Roger Phillips" in page and "Worcester News" in page
    assert "H&amp;W Fire Authority: not rated" in page  # no tone model covers the fire authority
    assert 'name="csrftoken"' not in page  # corrections are off
    status, warn = _open(f"{readonly}/-/cuttings/story/cuttings/{ids['warn']}")
    assert "PCC: negative (unsure)" in warn and "against (checked)" in warn
    status, hostile = _open(f"{readonly}/-/cuttings/story/cuttings/{ids['hostile']}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile and "<script>alert(1)" not in hostile
    assert "&lt;b&gt;We are shocked&lt;/b&gt;" in hostile
    assert _open(f"{readonly}/-/cuttings/story/cuttings/999999")[0] == 404
    # story ids link to the story page from the summary view and from canned queries
    status, summary = _open(readonly + "/cuttings/article_summary")
    assert f'href="/-/cuttings/story/cuttings/{ids["defends"]}"' in summary
    status, found = _open(readonly + "/cuttings/search?q=takeover")
    assert f'href="/-/cuttings/story/cuttings/{ids["defends"]}"' in found
    status, row = _open(f"{readonly}/cuttings/articles/{ids['defends']}")
    assert "Read this story" in row and f'/-/cuttings/story/cuttings/{ids["defends"]}' in row


def test_every_table_and_view_page_opens(readonly, sample_path):
    """Each table's and view's page (with its cell renderers on real rows, long bodies included) and a
    story path that is not a number answer as pages, never a server error."""
    db = sqlite3.connect(sample_path)
    try:
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                              "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'")]
    finally:
        db.close()
    assert "article_versions" in names and "article_summary" in names
    for name in names:
        for query in ("", "?_size=5"):
            status, page = _open(f"{readonly}/cuttings/{urllib.parse.quote(name)}{query}")
            assert status == 200, (name, query, page[-500:])
    status, versions = _open(readonly + "/cuttings/article_versions")
    assert "full text on the story page" in versions and 'href="/-/cuttings/story/cuttings/' in versions
    for segment in ("abc", "%C2%B2", "1.5", "9" * 20, "9" * 5000):
        assert _open(f"{readonly}/-/cuttings/story/cuttings/{segment}")[0] == 404


def _json(base: str, path: str, params: dict) -> list | dict:
    return json.loads(_open(base + path + ".json?" + urllib.parse.urlencode(params))[1])


def test_search_snippets_relevance_and_empty_query(readonly):
    rows = _json(readonly, "/cuttings/search", {"q": "fire authority", "_shape": "array"})
    assert rows and all("«" in row["snippet"] for row in rows)
    assert rows[0]["snippet"].count("«") >= rows[-1]["snippet"].count("«")
    for empty in ("", "   "):
        status, page = _open(readonly + "/cuttings/search?" + urllib.parse.urlencode({"q": empty}))
        assert status == 200 and "syntax error" not in page and "0 results" in page
    # table search on articles is ranked by relevance (no default date sort)
    status, page = _open(readonly + "/cuttings/articles?_search=quits")
    assert status == 200 and "sorted by" not in page.split("</h3>")[0]


def test_facets_show_body_names(readonly):
    status, page = _open(readonly + "/cuttings/article_summary")
    # column descriptions are folded away so the rows are above the fold
    assert page.index("<details class=\"cuttings-columns\">") < page.index('<dl class="column-descriptions">') \
        < page.index("</details>") < page.index('<table class="rows-and-columns">')
    assert "timed out" not in page
    assert "PCC: negative" in page and '{"wm_pcc"' not in page  # tone by body name, not JSON of ids
    header = page.split('<table class="rows-and-columns">', 1)[1].split("</thead>", 1)[0]
    assert header.index("title") < header.index("bodies") < header.index("stance") < header.index("url")
    data = _json(readonly, "/cuttings/article_summary", {"_facet_array": "bodies", "_size": "0"})
    names = {item["value"] for item in data["facet_results"]["bodies"]["results"]}
    assert {"PCC", "HWFRS", "West Mercia Police"} <= names and "wm_pcc" not in names
    data = _json(readonly, "/cuttings/mentions", {"_facet": "entity_id", "_size": "0"})
    labels = {item["label"] for item in data["facet_results"]["entity_id"]["results"]}
    assert "West Mercia Police and Crime Commissioner" in labels
    data = _json(readonly, "/cuttings/entity_daily", {"_facet": "body", "_size": "0"})
    assert {item["value"] for item in data["facet_results"]["body"]["results"]} >= {"PCC", "H&W Fire Authority"}
    status, daily = _open(readonly + "/cuttings/entity_daily?entity_id=hw_fire_authority")
    assert "not rated" in daily and "timed out" not in daily
    data = _json(readonly, "/cuttings/quotes_by_speaker", {"_facet": "body", "_size": "0"})
    assert {item["value"] for item in data["facet_results"]["body"]["results"]} >= {"PCC", "H&W Fire Authority"}


# --------------------------------------------------------------------------
# Corrections through the running server
# --------------------------------------------------------------------------

def _session():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def _csrf(page: str) -> str:
    return re.search(r'name="csrftoken" value="([^"]+)"', page).group(1)


def _labels(path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT article_id, task, target, label, annotator, created_at FROM labels "
                            "WHERE annotator = 'browser-test' ORDER BY id").fetchall()


def test_correction_posted_with_csrf_token_lands_in_labels_and_is_refused_without_corrections(tmp_path, ids):
    path = tmp_path / "cuttings.db"
    build_sample_db(path).close()
    story = f"/-/cuttings/story/cuttings/{ids['defends']}"
    correct = f"/-/cuttings/correct/cuttings/{ids['defends']}"
    form = {"what": "stance", "stance": "against", "annotator": "browser-test"}
    opener = _session()  # one browser: its CSRF cookie goes to both servers (same host, same secret)
    with screenshots.datasette_server(path, corrections=True, secret="test-secret") as base:
        status, page = _open(base + story, opener)
        assert status == 200 and "Correct the labels" in page
        token = _csrf(page)
        # without the token Datasette's CSRF protection refuses the post
        assert _open(base + correct, opener, urllib.parse.urlencode(form).encode())[0] == 403
        assert _labels(path) == []
        status, after = _open(base + correct, opener, urllib.parse.urlencode({**form, "csrftoken": token}).encode())
        assert status == 200 and "Saved 1 correction as browser-test" in after  # redirected to the story
        assert "against (checked)" in after
        quote = re.search(r'name="quote" value="(\d+:\d+)"', after).group(1)
        fields = {"what": "quote", "quote": quote, "speaker": "John Campion", "entity": "wm_pcc",
                  "annotator": "browser-test", "csrftoken": token}
        assert _open(base + correct, opener, urllib.parse.urlencode(fields).encode())[0] == 200
        bad = {**form, "stance": "<script>", "csrftoken": token}
        assert _open(base + correct, opener, urllib.parse.urlencode(bad).encode())[0] == 400
        topics = urllib.parse.urlencode([("what", "topics"), ("topic", "finance"), ("topic", "governance"),
                                         ("annotator", "browser-test"), ("csrftoken", token)]).encode()
        assert _open(base + correct, opener, topics)[0] == 200
        # a correction path whose story is not a story id: 404, nothing written
        for segment in ("abc", "9" * 20):
            posted = _open(f"{base}/-/cuttings/correct/cuttings/{segment}", opener,
                           urllib.parse.urlencode({**form, "csrftoken": token}).encode())
            assert posted[0] == 404 and "no such story" in posted[1]
    rows = _labels(path)
    assert [row[1:4] for row in rows] == [("stance_governance", "", "against"), ("quote_speaker", quote, "John Campion"),
                                          ("topics", "", "finance"), ("topics", "", "governance")]
    assert all(row[0] == ids["defends"] and row[5].endswith("Z") for row in rows)
    with sqlite3.connect(path) as conn:
        speakers = {row[0] for row in conn.execute(
            "SELECT speaker FROM quotes_by_speaker WHERE article_id = ? AND entity_id = 'wm_pcc'", [ids["defends"]])}
        assert speakers == {"John Campion"}
        assert conn.execute("SELECT stance, human_corrected FROM article_summary WHERE article_id = ?",
                            [ids["defends"]]).fetchone() == ("against", 1)
    # the same request, same token and cookie, to the same database served without --corrections: refused
    with screenshots.datasette_server(path, secret="test-secret") as base:
        page = _open(base + story, opener)[1]
        assert 'name="csrftoken"' not in page and "Correct the labels" not in page
        status, body = _open(base + correct, opener, urllib.parse.urlencode({**form, "csrftoken": token}).encode())
        assert status == 403 and "corrections are off" in body
    assert len(_labels(path)) == 4


def test_corrections_refuse_a_public_host_without_authentication(sample_path, monkeypatch):
    monkeypatch.setattr(serve, "authentication_plugins", lambda: [])
    with pytest.raises(store.StoreError, match="127.0.0.1"):
        serve.serve(sample_path, host="0.0.0.0", corrections=True)
    monkeypatch.setattr(serve, "authentication_plugins", lambda: ["datasette-auth-passwords"])
    serve.check_corrections_host("0.0.0.0")  # allowed once an authentication plugin is installed


def test_browser_corrections_train_like_terminal_labels(tmp_path, ids):
    """A story corrected in the browser (topics and stance) becomes a training record, as `cuttings label` does."""
    import pipeline

    db = build_sample_db(tmp_path / "cuttings.db")
    store.add_correction(db, ids["savings"], [("topics", "", "finance"), ("stance_governance", "", "none"),
                                              ("quote_speaker", "0:10", "Someone")], "browser-test")
    records = [record for record in pipeline.training_records(db) if record["id"] == f"db-{ids['savings']}"]
    assert len(records) == 1 and records[0]["topics"] == ["finance"] and records[0]["stance_governance"] == "none"
    assert "quote_speaker" not in records[0]
    with pytest.raises(store.CorrectionError):
        store.add_correction(db, 999999, [("topics", "", "finance")], "browser-test")


# --------------------------------------------------------------------------
# Screenshots by headless Chromium
# --------------------------------------------------------------------------

@pytest.mark.skipif(screenshots.chromium() is None, reason="chromium not installed")
def test_chromium_screenshots_of_every_page(sample_path, readonly, tmp_path):
    for name, path in screenshots.pages(sample_path).items():
        png = screenshots.screenshot(readonly + path, tmp_path / f"{name}.png", width=1280, height=1000)
        header = png.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", header[16:24]) == (1280, 1000)
        assert png.stat().st_size > 20_000, name  # a blank or error page compresses to a few kB
    dom = screenshots.dump_dom(f"{readonly}/cuttings")
    assert dom.index("Latest stories") < dom.index("Questions to ask")
    assert HOSTILE_TITLE not in dom.replace("&lt;", "<").split("<body")[0]


def test_correction_choices_come_from_the_users_label_scheme(tmp_path, monkeypatch):
    from cuttings import browse, paths
    packaged = paths.package_data("label_scheme.toml").read_text(encoding="utf-8")
    edited = packaged.replace('    "other",          # none of the above', '    "housing",\n    "other",')
    assert edited != packaged
    (tmp_path / "label_scheme.toml").write_text(edited, encoding="utf-8")
    monkeypatch.setenv("CUTTINGS_HOME", str(tmp_path))
    choices = browse._scheme_labels()
    assert "housing" in choices["topics"] and choices["topics"][-1] == "other"
    assert browse.correction_rows({"what": ["topics"], "topic": ["housing"]}, [], choices, {}, set()) == [
        ("topics", "", "housing")]
    # a scheme without one of the tasks the forms are for: the page goes without that form only
    without_tone = packaged[:packaged.index("[tasks.tone]")]
    (tmp_path / "label_scheme.toml").write_text(without_tone, encoding="utf-8")
    from cuttings.labelling import load_label_tasks
    choices = browse._scheme_labels()
    assert "tone" not in load_label_tasks() and "tone" not in choices and choices["stance"][0] == "favour"
    with pytest.raises(browse.BadCorrection, match="no tone task"):
        browse.correction_rows({"what": ["tone"], "target": ["sfrs"], "tone": ["negative"]}, [], choices, {}, set())
    # a scheme that cannot be read: no forms, and the reason instead of silence
    (tmp_path / "label_scheme.toml").write_text("[tasks\n", encoding="utf-8")
    choices = browse._scheme_labels()
    assert set(choices) == {"error"} and "invalid TOML" in choices["error"]
    with pytest.raises(browse.BadCorrection, match="cannot correct labels: .*invalid TOML"):
        browse.correction_rows({"what": ["stance"], "stance": ["favour"]}, [], choices, {}, set())
