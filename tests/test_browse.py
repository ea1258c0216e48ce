"""The Datasette pages as a reader and a corrector meet them: the real server with the cuttings plugin,
templates and metadata (``cuttings.screenshots.datasette_server`` runs ``cuttings serve``'s command),
a correction posted with Datasette's CSRF token, and headless Chromium screenshots."""
from __future__ import annotations

import http.cookiejar
import json
import re
import sqlite3
import struct
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import pytest

from cuttings import screenshots, serve, store
from tests.report_fixtures import HOSTILE_TITLE, article_id, build_sample_db
from tests.sqlite_steps import vm_steps


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


def _open(url: str, opener=None, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
    if data is not None and headers is None:  # a browser posting a form from this server's page
        origin = urllib.parse.urlsplit(url)
        headers = {"Origin": f"{origin.scheme}://{origin.netloc}"}
    request = urllib.request.Request(url, data=data, headers=headers or {})
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
    for path in ("/-/cuttings/story/cuttings/1/x", "/-/cuttings/story/cuttings", "/-/cuttings/story",
                 "/-/cuttings", "/-/cuttings/", "/-/cuttings/nothing/here"):   # was a server error (500)
        assert _open(readonly + path)[0] == 404, path


def test_a_request_naming_another_host_is_refused(readonly):
    """DNS rebinding: a page on attacker.example whose name is made to point at 127.0.0.1 reaches the
    server with ``Host: attacker.example``. Such requests get a one-line 400 and no data; the loopback
    names (any port: an SSH tunnel may forward another) and the configured host are served."""
    port = urllib.parse.urlsplit(readonly).port
    for host in ("attacker.example", f"attacker.example:{port}", f"localhost.attacker.example:{port}",
                 f"127.0.0.1.attacker.example:{port}", ""):
        for path in ("/", "/cuttings/articles.json"):
            status, body = _open(readonly + path, headers={"Host": host})
            assert status == 400, (host, path)
            assert "not this server" in body and "articles" not in body and body.count("\n") <= 1, body
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", f"[::1]:{port}", "localhost:9000",
                 "127.0.0.1"):
        assert _open(readonly + "/cuttings/articles.json", headers={"Host": host})[0] == 200, host


@pytest.mark.parametrize("host, configured, allowed", [
    ("127.0.0.1:8001", "127.0.0.1", True), ("localhost:8001", "127.0.0.1", True), ("[::1]:8001", "::1", True),
    ("[::1]", "localhost", True), ("127.0.0.2:80", "127.0.0.1", True), ("LOCALHOST:8001", "127.0.0.1", True),
    ("myhost:8001", "myhost", True), ("attacker.example:8001", "myhost", False),  # a name bound to loopback
    ("attacker.example:8001", "127.0.0.1", False), ("attacker.example", "localhost", False),
    ("localhost.:8001", "127.0.0.1", False), ("", "127.0.0.1", False), ("[::1", "127.0.0.1", False),
    ("evil.example@localhost:8001", "127.0.0.1", False), ("localhost:80/x", "127.0.0.1", False),
    ("localhost:http", "127.0.0.1", False),
    ("attacker.example", "0.0.0.0", True),  # served beyond loopback (an authentication plugin): not checked
    ("attacker.example", "::", True), ("attacker.example", "192.0.2.7", True),
    ("attacker.example", None, False),  # no configured host: the connection's loopback address decides
])
def test_host_check(host, configured, allowed):
    from cuttings import browse
    scope = {"type": "http", "server": ("127.0.0.1", 8001), "headers": [(b"host", host.encode())]}
    assert (browse.host_refusal(scope, configured) is None) is allowed


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


def _post(base: str, path: str, fields: dict, opener=None, headers: dict | None = None) -> tuple[int, str]:
    return _open(base + path, opener, urllib.parse.urlencode(fields).encode(), headers)


def test_a_correction_from_another_site_or_without_a_valid_token_is_refused(tmp_path, ids):
    """The red team's forged corrections: a POST from another site (no cookie: asgi-csrf skips its check),
    without Origin or Referer, without the token, with a token that is not Datasette's, or with
    another site's Origin and a valid token. Each is refused (403) and writes nothing; the story page's
    own post (Origin, or Referer alone) is saved."""
    path = tmp_path / "cuttings.db"
    build_sample_db(path).close()
    story = f"/-/cuttings/story/cuttings/{ids['defends']}"
    correct = f"/-/cuttings/correct/cuttings/{ids['defends']}"
    form = {"what": "stance", "stance": "favour", "annotator": "browser-test"}
    evil = {"Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded"}
    with screenshots.datasette_server(path, corrections=True) as base:
        own = {"Origin": base, "Content-Type": "application/x-www-form-urlencoded"}
        # the red team's curl: text/plain from another site, no cookie
        plain = urllib.request.Request(base + correct, data=urllib.parse.urlencode(form).encode(),
                                       headers={"Origin": "http://evil.example", "Content-Type": "text/plain"})
        assert _open_request(plain)[0] == 403
        tone = {"what": "tone", "target": "hwfrs", "tone": "positive", "annotator": "browser-test"}
        assert _post(base, correct, tone, headers=evil)[0] == 403
        # this server's origin but no cookie and no token (asgi-csrf lets a cookie-less POST through)
        status, body = _post(base, correct, form, headers=own)
        assert status == 403 and "CSRF token" in body
        opener = _session()
        token = _csrf(_open(base + story, opener)[1])
        # a valid token and cookie, posted from another site, or with an opaque ("null") origin
        for origin in ("http://evil.example", f"{base}.evil.example", "null"):
            status, body = _post(base, correct, {**form, "csrftoken": token}, opener,
                                 {**own, "Origin": origin})
            assert status == 403 and "another site" in body, origin
        # no Origin: the Referer decides; neither: refused
        assert _post(base, correct, {**form, "csrftoken": token}, opener,
                     {"Referer": "http://evil.example/attack"})[0] == 403
        assert _post(base, correct, {**form, "csrftoken": token}, opener, {})[0] == 403
        # a token in the form without its cookie, or one Datasette did not sign (in both places)
        assert _post(base, correct, {**form, "csrftoken": token}, headers=own)[0] == 403
        forged = _session()
        forged.addheaders = [("Cookie", "ds_csrftoken=forged")]
        assert _post(base, correct, {**form, "csrftoken": "forged"}, forged, own)[0] == 403
        assert _labels(path) == []
        # the story page's own form: Origin (every current browser), or Referer alone
        status, page = _post(base, correct, {**form, "csrftoken": token}, opener, own)
        assert status == 200 and "Saved 1 correction as browser-test" in page
        status, page = _post(base, correct, {**form, "stance": "against", "csrftoken": token}, opener,
                             {"Referer": base + story})
        assert status == 200 and "Saved 1 correction as browser-test" in page
    assert [row[1:5] for row in _labels(path)] == [("stance_governance", "", "favour", "browser-test"),
                                                   ("stance_governance", "", "against", "browser-test")]


def _open_request(request: urllib.request.Request, opener=None) -> tuple[int, str]:
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", errors="replace")


def test_the_annotator_is_the_servers_configured_name_not_the_forms(tmp_path, ids):
    """`cuttings serve --corrections --annotator NAME`: every correction is saved as NAME, whatever the
    form says, and the forms do not ask for a name."""
    path = tmp_path / "cuttings.db"
    build_sample_db(path).close()
    story = f"/-/cuttings/story/cuttings/{ids['defends']}"
    with screenshots.datasette_server(path, corrections=True, annotator="browser-test") as base:
        opener = _session()
        page = _open(base + story, opener)[1]
        assert "Correct the labels" in page and 'name="annotator"' not in page
        assert "saved as browser-test" in page
        fields = {"what": "stance", "stance": "against", "annotator": "senior.analyst@example.org",
                  "csrftoken": _csrf(page)}
        status, after = _post(base, f"/-/cuttings/correct/cuttings/{ids['defends']}", fields, opener)
        assert status == 200 and "Saved 1 correction as browser-test" in after
    assert [row[1:5] for row in _labels(path)] == [("stance_governance", "", "against", "browser-test")]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM labels WHERE annotator LIKE 'senior%'").fetchone() == (0,)


def test_served_beyond_loopback_a_correction_needs_a_signed_in_user(tmp_path, ids):
    """Datasette in-process (its own client) with the cuttings plugin and ``--host 0.0.0.0`` (allowed only with
    an authentication plugin): a correction from the story page without a signed-in actor is refused; a
    signed-in actor's is saved under the actor's id, whatever name the form gives."""
    import asyncio

    from datasette.app import Datasette
    from datasette.plugins import pm

    from cuttings import browse

    path = tmp_path / "cuttings.db"
    build_sample_db(path).close()
    metadata = serve.datasette_metadata(path, corrections=True, host="0.0.0.0")
    story = f"/-/cuttings/story/cuttings/{ids['defends']}"
    correct = f"/-/cuttings/correct/cuttings/{ids['defends']}"

    async def session():
        ds = Datasette([str(path)], metadata=metadata, template_dir=str(serve.TEMPLATES_DIR))
        page = await ds.client.get(story)
        cookies = {"ds_csrftoken": page.cookies["ds_csrftoken"]}
        fields = {"what": "stance", "stance": "against", "annotator": "browser-test", "csrftoken": _csrf(page.text)}
        headers = {"Origin": "http://localhost"}
        anonymous = await ds.client.post(correct, data=fields, headers=headers, cookies=cookies)
        actor = {"ds_actor": ds.sign({"a": {"id": "alice@example.org"}}, "actor")}
        signed_in = await ds.client.post(correct, data=fields, headers=headers, cookies={**cookies, **actor})
        return page, anonymous, signed_in

    pm.register(browse, name="cuttings-browse-in-process")
    try:
        page, anonymous, signed_in = asyncio.run(session())
    finally:
        pm.unregister(name="cuttings-browse-in-process")
    assert page.status_code == 200 and "Correct the labels" in page.text
    assert anonymous.status_code == 403 and "sign in" in anonymous.text
    assert signed_in.status_code == 302
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT task, label, annotator FROM labels WHERE annotator IN ('alice@example.org', "
                            "'browser-test')").fetchall() == [("stance_governance", "against", "alice@example.org")]


@pytest.mark.skipif(screenshots.chromium() is None, reason="chromium not installed")
def test_chromium_on_another_site_cannot_post_a_correction(tmp_path, ids):
    """The red team's attack page in a real browser: headless Chromium opens a page on another site
    (``localhost`` against the server's ``127.0.0.1``) whose script submits a correction form to the
    server; nothing is written, and the browser is shown the refusal."""
    import subprocess

    from faultserver import local_site

    path = tmp_path / "cuttings.db"
    build_sample_db(path).close()
    with screenshots.datasette_server(path, corrections=True) as base:
        attack = (f'<!DOCTYPE html><html><body><form id="f" method="post" '
                  f'action="{base}/-/cuttings/correct/cuttings/{ids["warn"]}">'
                  '<input type="hidden" name="what" value="stance"><input type="hidden" name="stance" value="favour">'
                  '<input type="hidden" name="annotator" value="browser-test"></form>'
                  "<script>document.getElementById('f').submit()</script></body></html>").encode()

        with local_site(lambda request: (200, {"Content-Type": "text/html"}, attack)) as site, \
                tempfile.TemporaryDirectory() as profile:
            done = subprocess.run([screenshots.chromium(), *screenshots.CHROMIUM_FLAGS,
                                   f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom",
                                   f"http://localhost:{site.server_address[1]}/"],
                                  capture_output=True, timeout=120)
        dom = done.stdout.decode("utf-8", errors="replace")
    assert "another site" in dom, dom[-2000:]
    assert _labels(path) == []


def test_corrections_refuse_a_public_host_without_authentication(sample_path, monkeypatch):
    monkeypatch.setattr(serve, "authentication_plugins", lambda: [])
    with pytest.raises(store.StoreError, match="127.0.0.1"):
        serve.serve(sample_path, host="0.0.0.0", corrections=True)
    monkeypatch.setattr(serve, "authentication_plugins", lambda: ["datasette-auth-passwords"])
    serve.check_corrections_host("0.0.0.0")  # allowed once an authentication plugin is installed
    with pytest.raises(store.StoreError, match="needs --corrections"):
        serve.serve(sample_path, annotator="browser-test")


def test_browser_corrections_train_like_terminal_labels(tmp_path, ids):
    """A story corrected in the browser (topics and stance) becomes a training record, as `cuttings label` does."""
    import pipeline

    db = build_sample_db(tmp_path / "cuttings.db")
    # a correction names a quote of the story (m029): the sample's savings story quotes nobody, so one is stored
    db.execute("INSERT INTO quotes (article_id, speaker, text, start_char, end_char, analyser_version) "
               "VALUES (?, 'a spokesperson', 'savings now', 0, 10, 'v')", [ids["savings"]])
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


def test_screenshots_with_a_relative_out_folder(sample_path, tmp_path, monkeypatch):
    """`python -m cuttings.screenshots --db DB --out screenshots/` (docs/analysts.md): a relative --out renders
    the digest from an absolute file: URI (a relative path has none: ValueError before the first PNG)."""
    from contextlib import contextmanager
    from pathlib import Path

    shot = []
    monkeypatch.setattr(screenshots, "chromium", lambda: "/usr/bin/chromium")  # not run: screenshot is replaced
    monkeypatch.setattr(screenshots, "screenshot", lambda url, png, **size: shot.append((url, Path(png))) or png)

    @contextmanager
    def no_server(db_path):
        yield "http://127.0.0.1:9"

    monkeypatch.setattr(screenshots, "datasette_server", no_server)
    monkeypatch.setattr(screenshots, "pages", lambda db_path: {})
    monkeypatch.chdir(tmp_path)
    assert screenshots.main(["--db", str(sample_path), "--out", "shots/"]) == 0
    assert shot == [((tmp_path / "shots" / "digest.html").as_uri(), tmp_path / "shots" / "digest.png")]
    assert "<html" in (tmp_path / "shots" / "digest.html").read_text(encoding="utf-8")


def test_the_newest_stories_are_the_plain_sorts_first_rows_and_cost_less(tmp_path):
    """The home page's newest stories (browse.LATEST_STORIES_SQL: the ids chosen first, then their columns) are the
    rows of sorting article_summary whole and keeping the first, in order, with ties by id; choosing the ids first
    runs fewer SQLite steps than computing every story's columns to sort them (1.1 s against 0.14 s at 50,000
    stories once m040's idx_articles_story_day was the planner's choice)."""
    from cuttings import browse
    from tests.report_fixtures import add_busy_night

    db = build_sample_db(tmp_path / "newest.db")
    add_busy_night(db, 60)
    db.conn.commit()
    conn = db.conn
    limit = {"limit": browse.LATEST_STORIES}
    columns = browse.LATEST_STORIES_SQL.split(" FROM ")[0]
    plain = f"{columns} FROM article_summary {browse.NEWEST} LIMIT :limit"
    assert conn.execute("SELECT count(*) FROM article_summary").fetchone()[0] > 3 * browse.LATEST_STORIES
    newest = conn.execute(browse.LATEST_STORIES_SQL, limit).fetchall()
    assert len(newest) == browse.LATEST_STORIES and newest == conn.execute(plain, limit).fetchall()

    def steps(sql: str) -> int:
        return vm_steps(conn, sql, limit, every=100)
    assert steps(browse.LATEST_STORIES_SQL) < steps(plain) / 2
