"""Hostile files and hostile text on the surfaces added on 2026-12-07 (red-team, session 20): `cuttings label
--import` of JSON Lines, CSV and XLSX files (a label time far in the future that would win over every later
label, impossible dates, JSON nested past the parser's depth, ids past SQLite's integers, a url that is no
string, duplicated columns, digits of other scripts, an XLSX whose dimension claims 16,384 columns, an XML bomb),
terminal escapes from a file's annotator names and from stored text on the label screen, and a server's
escapes in `cuttings sources check`.

The rule: a file is data. Bad input is one line naming the file (and line), a non-zero exit and nothing
written; a record naming no article here is skipped and counted; nothing a file or a server says reaches a
terminal as an escape sequence. Every test runs the command line in process (CliRunner) on real SQLite files;
the sources check test against a server on 127.0.0.1.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from http.server import BaseHTTPRequestHandler

import pytest
from click.testing import CliRunner
from rich.console import Console

from cuttings import labelling, store
from tests.conftest import load_script
from tests.test_label import TASKS, cli_group, make_db

URL = "https://news.example/middling"
ESCAPES = "\x1b]0;owned\x07\x1b]52;c;ZWNobyBvd25lZA==\x07\x1b[2J\x9b31m\u202eevil\u202c"


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "cuttings.db"
    make_db(path)
    return path


def run(db_path, *args, input=None):
    return CliRunner().invoke(cli_group(), ["--db", str(db_path), *args], input=input)


def no_traceback(result):
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}")
    return result


def refused(result, *words: str) -> str:
    """The one line a refused import printed (exit 1), which says ``words``."""
    no_traceback(result)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for word in words:
        assert word in lines[0], lines[0]
    assert len(lines[0]) < 400, lines[0]
    return lines[0]


def label_rows(db_path) -> list[tuple]:
    db = store.connect(db_path)
    try:
        return [tuple(row) for row in db.execute("SELECT article_id, task, target, label, annotator, created_at "
                                                 "FROM labels ORDER BY id")]
    finally:
        db.conn.close()


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = dt.datetime.now(dt.timezone.utc)
AHEAD = iso(NOW + dt.timedelta(days=3))       # more than a day ahead: a clock that wrong is no clock
FAR = "9999-12-31T23:59:59Z"


# ---------------------------------------------------------------------------------------------
# a label time from the future would win over every later label ("the newest labelled_at wins")
# ---------------------------------------------------------------------------------------------

def _label_record(**extra) -> str:
    return json.dumps({"url": URL, "stance_governance": "against", "annotator": "mallory", **extra}) + "\n"


FUTURE_FILES = {
    "labelled_at": (".jsonl", _label_record(labelled_at={"stance_governance": FAR})),
    "labelled_at a few days on": (".jsonl", _label_record(labelled_at={"stance_governance": AHEAD})),
    "per-body labelled_at": (".jsonl", json.dumps({"url": URL, "tone": {"hwfrs": "negative"},
                                                   "labelled_at": {"tone": {"hwfrs": FAR}}}) + "\n"),
    "withdrawal": (".jsonl", json.dumps({"url": URL, "withdrawn": {"stance_governance":
                                                                   {"annotator": "mallory", "at": FAR}}}) + "\n"),
    "quote correction": (".jsonl", json.dumps({"url": URL, "quote_corrections": [
        {"task": "quote_speaker", "quote": "anything", "label": "Mallory", "at": FAR}]}) + "\n"),
    "story export": (".jsonl", json.dumps({"article_id": 3, "url": URL, "stance": "against",
                                           "labelled_at": FAR}) + "\n"),
    "story CSV": (".csv", f"article_id,url,stance,labelled_at\n3,{URL},against,{AHEAD}\n"),
}


@pytest.mark.parametrize("name", FUTURE_FILES)
def test_a_label_time_more_than_a_day_ahead_is_refused_and_nothing_written(db_path, tmp_path, name):
    suffix, content = FUTURE_FILES[name]
    path = tmp_path / f"future{suffix}"
    path.write_text(content, encoding="utf-8")
    before = db_path.read_bytes()
    line = refused(run(db_path, "label", "--import", str(path)), f"{path}:", "ahead")
    assert "now" in line
    assert db_path.read_bytes() == before


def test_a_label_time_from_a_clock_a_little_ahead_is_taken(db_path, tmp_path):
    """A clock some minutes (or a time zone's hours) ahead is no attack: its label is taken with its time."""
    soon = iso(NOW + dt.timedelta(hours=3))
    path = tmp_path / "soon.jsonl"
    path.write_text(_label_record(labelled_at={"stance_governance": soon}), encoding="utf-8")
    no_traceback(run(db_path, "label", "--import", str(path)))
    assert label_rows(db_path)[-1][1:] == ("stance_governance", "", "against", "mallory", soon)


@pytest.mark.parametrize("when", ["2026-02-30T10:00:00Z", "2026-99-99T99:99:99Z", "2026-11-20T24:00:00Z",
                                  "\uff12\uff10\uff12\uff16-11-20T08:00:00Z"])
def test_an_impossible_label_time_is_refused(db_path, tmp_path, when):
    path = tmp_path / "impossible.jsonl"
    path.write_text(_label_record(labelled_at={"stance_governance": when}), encoding="utf-8")
    before = db_path.read_bytes()
    refused(run(db_path, "label", "--import", str(path)), f"{path}:1", "labelled_at")
    assert db_path.read_bytes() == before


def test_the_screen_can_answer_after_a_refused_far_future_label(db_path, tmp_path):
    """Stored, a label of 9999-12-31T23:59:59Z made every later answer to its question fail (the answer is
    stamped a second after it: past the calendar's end)."""
    path = tmp_path / "far.jsonl"
    path.write_text(_label_record(labelled_at={"stance_governance": FAR}), encoding="utf-8")
    run(db_path, "label", "--import", str(path))
    db = store.connect(db_path)
    try:
        story = store.story_of_url(db, URL)
        store.add_labels(db, [(story, "stance_governance", "", "neutral", "jsmith")])
    finally:
        db.conn.close()
    assert label_rows(db_path)[-1][3:5] == ("neutral", "jsmith")


# ---------------------------------------------------------------------------------------------
# malformed records: one line, never a traceback
# ---------------------------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000

ONE_LINE_FILES = {
    "JSON nested past the parser": (".jsonl", json.dumps({"url": URL})[:-1] + f', "x": {DEEP}}}\n', "nested"),
    "tone cell nested": (".csv", f'article_id,url,tone\n3,{URL},"{{""hwfrs"": {"[" * 50_000}}}"\n', "tone"),
    "url a list": (".jsonl", json.dumps({"url": [URL], "stance_governance": "against"}) + "\n", "url"),
    "url an object in a story": (".jsonl", json.dumps({"article_id": 3, "url": {"href": URL},
                                                       "stance": "against"}) + "\n", "url"),
    "duplicated column": (".csv", f"article_id,url,stance,stance\n3,{URL},against,favour\n", "'stance'"),
    "duplicated id column": (".csv", "article_id,stance,article_id\n3,against,1\n", "'article_id'"),
    "id in Arabic-Indic digits": (".csv", "article_id,stance\n\u0663,against\n", "article_id"),
}


@pytest.mark.parametrize("name", ONE_LINE_FILES)
def test_a_malformed_file_is_one_line_and_nothing_written(db_path, tmp_path, name):
    suffix, content, word = ONE_LINE_FILES[name]
    path = tmp_path / f"bad{suffix}"
    path.write_text(content, encoding="utf-8")
    before = db_path.read_bytes()
    refused(run(db_path, "label", "--import", str(path)), str(path), word)
    assert db_path.read_bytes() == before


def test_an_unedited_csv_export_of_a_headline_with_a_line_separator_imports(db_path, tmp_path):
    """U+2028 and U+2029 are no control characters (the crawler keeps them) and the CSV writer quotes no cell for
    them; the import split the file's lines at them (str.splitlines), so one such headline made the team's
    unedited export stop with "article_id must be a number ... not 'barn fire'". A CSV's rows end at CR or LF."""
    db = store.connect(db_path)
    try:
        db.execute("UPDATE articles SET title = ? WHERE canonical_url = ?", ["Crews tackle\u2028barn fire\u2029today", URL])
        db.conn.commit()
    finally:
        db.conn.close()
    path = tmp_path / "stories.csv"
    assert run(db_path, "export", "--out", str(path)).exit_code == 0
    assert "Crews tackle\u2028barn fire\u2029today," in path.read_text(encoding="utf-8-sig")   # not quoted
    result = no_traceback(run(db_path, "label", "--import", str(path), "--annotator", "akhan"))
    assert result.exit_code == 0, result.output
    assert "4 records; nothing changed" in result.output
    path.write_text(path.read_text(encoding="utf-8-sig").replace(",none,", ",against,", 1), encoding="utf-8")
    result = no_traceback(run(db_path, "label", "--import", str(path), "--annotator", "akhan"))
    assert result.exit_code == 0, result.output
    assert label_rows(db_path)[-1][1:5] == ("stance_governance", "", "against", "akhan")


BIG = "9" * 30

NO_SUCH_ARTICLE = {
    "label file id": (".jsonl", json.dumps({"id": f"db-{BIG}", "stance_governance": "against"}) + "\n"),
    "story export article_id": (".jsonl", f'{{"article_id": {BIG}, "stance": "against"}}\n'),
    "CSV article_id": (".csv", f"article_id,url,stance\n{BIG},,against\n"),
}


@pytest.mark.parametrize("name", NO_SUCH_ARTICLE)
def test_an_id_past_sqlite_integers_names_no_article_and_is_skipped(db_path, tmp_path, name):
    suffix, content = NO_SUCH_ARTICLE[name]
    path = tmp_path / f"big{suffix}"
    path.write_text(f"{content}", encoding="utf-8")
    result = no_traceback(run(db_path, "label", "--import", str(path)))
    assert result.exit_code == 0, result.output
    assert "1 record skipped (no such article in this database)" in result.output
    assert label_rows(db_path) == []


# ---------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------

def _workbook(path, rows):
    from openpyxl import Workbook
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "stories"
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def _rewrite_sheet(path, change):
    """``path`` with its first worksheet's XML passed through ``change``."""
    data = {}
    with zipfile.ZipFile(path) as source:
        for item in source.infolist():
            data[item.filename] = source.read(item.filename)
    data["xl/worksheets/sheet1.xml"] = change(data["xl/worksheets/sheet1.xml"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in data.items():
            target.writestr(name, content)


def test_an_xlsx_claiming_every_column_is_read_as_its_cells(db_path, tmp_path):
    """A sheet whose dimension says A1:XFD... (16,384 columns; also what a stray formatted cell far right leaves)
    was read padded to that width: its header's blank cells were 'unknown columns', and a 106 KB file of 20,000
    rows took 52 s and 2.7 GB before that. Its blank cells right of the header are no columns."""
    path = tmp_path / "wide.xlsx"
    _workbook(path, [["article_id", "url", "stance"], [3, URL, "against"]])
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(3, 203))
    _rewrite_sheet(path, lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD202"/>', xml)
                   .replace(b"</sheetData>", rows + b"</sheetData>"))
    result = no_traceback(run(db_path, "label", "--import", str(path)))
    assert result.exit_code == 0, result.output[:300]
    assert label_rows(db_path)[-1][1:4] == ("stance_governance", "", "against")


def test_an_xlsx_data_cell_right_of_the_header_is_still_refused(db_path, tmp_path):
    path = tmp_path / "extra.xlsx"
    _workbook(path, [["article_id", "url", "stance"], [3, URL, "against", "surplus"]])
    refused(run(db_path, "label", "--import", str(path)), f"{path}:2", "4 cells under 3 columns")


def test_an_xlsx_xml_bomb_is_one_line(db_path, tmp_path):
    """An entity-expansion bomb in the sheet: openpyxl reads through defusedxml (Scrapy's dependency), which
    refuses the DTD; its multi-line message was printed whole."""
    path = tmp_path / "bomb.xlsx"
    _workbook(path, [["article_id", "url", "stance"], [3, URL, "against"]])
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1 if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]>'.encode()
    _rewrite_sheet(path, lambda xml: bomb + xml.replace(b"<t>against</t>", b"<t>&lol9;</t>"))
    before = db_path.read_bytes()
    refused(run(db_path, "label", "--import", str(path)), str(path), "XLSX")
    assert db_path.read_bytes() == before


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(db_path, tmp_path):
    """A shared-strings part of a million entries, 16 MB of XML in a 45 KB file: openpyxl reads every shared
    string at load (2 million: 24 s and 290 MB; a 5 MB file so made unpacks to 2 GB: half an hour). A part
    that unpacks to over a hundred times its packed size and over 10 MB is refused before it is read."""
    path = tmp_path / "bomb.xlsx"
    load_script("bench_hostile_files", "bench/hostile_files.py").strings_xlsx(path, entries=1_000_000)
    before = db_path.read_bytes()
    refused(run(db_path, "label", "--import", str(path)), str(path), "xl/sharedStrings.xml", "CSV")
    assert db_path.read_bytes() == before


# ---------------------------------------------------------------------------------------------
# terminal escapes: a file's annotator names, the label screen
# ---------------------------------------------------------------------------------------------

def test_annotator_names_from_a_file_are_stored_without_control_characters(db_path, tmp_path):
    path = tmp_path / "names.jsonl"
    path.write_text(json.dumps({"url": URL, "stance_governance": "against", "annotator": f"eve{ESCAPES}",
                                "tone": {"hwfrs": "negative"},
                                "annotators": {"tone": {"hwfrs": f"\x1b[2Jmallory{ESCAPES}"}}}) + "\n",
                    encoding="utf-8")
    no_traceback(run(db_path, "label", "--import", str(path)))
    names = {row[4] for row in label_rows(db_path)}
    assert names == {"eve]0;owned]52;c;ZWNobyBvd25lZA==[2J31mevil", "[2Jmallory]0;owned]52;c;ZWNobyBvd25lZA==[2J31mevil"}
    assert not any(re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e]", name) for name in names)


def test_a_file_of_names_that_are_only_control_characters_is_refused(db_path, tmp_path):
    path = tmp_path / "blank.jsonl"
    path.write_text(json.dumps({"url": URL, "stance_governance": "against", "annotator": "\x1b\x07"}) + "\n",
                    encoding="utf-8")
    refused(run(db_path, "label", "--import", str(path)), f"{path}:1", "annotator")


def test_a_speaker_named_in_a_file_or_typed_in_the_browser_is_stored_without_control_characters():
    """A quote correction's speaker is free text that the quote_people view, exports, the digest and the story
    page show: from a label file or the story page's form, it is kept without terminal escapes and bidi
    overrides (which reorder the name wherever it is shown)."""
    from cuttings.browse import correction_rows, typed_name
    raw = {"url": URL, "annotator": "eve", "quote_corrections": [
        {"task": "quote_speaker", "quote": "We will", "label": f"\u202eJohn{ESCAPES} Campion", "annotator": "eve"}]}
    labelling.validate_record(raw, TASKS, "file:1")
    assert raw["quote_corrections"][0]["label"] == "John]0;owned]52;c;ZWNobyBvd25lZA==[2J31mevil Campion"
    rows = correction_rows({"what": ["quote"], "quote": ["0:10"], "speaker": ["\u202eJohn\x1b[2J  Campion\u202c"]},
                           [], {"tasks": {}}, {"0:10": {"speaker": None, "entity_id": None}}, set())
    assert rows == [("quote_speaker", "0:10", "John[2J Campion")]
    assert typed_name(f" web\tform {ESCAPES}") == "web form ]0;owned]52;c;ZWNobyBvd25lZA==[2J31mevil"


def test_the_label_screen_shows_no_escape_sequence_of_stored_text(db_path):
    """The screen prints through rich, which passes ESC, OSC, C1 and bidi controls through: a name typed in the
    browser's correction form, a database from before the crawler stripped them, a team's corpus file."""
    db = store.connect(db_path)
    try:
        story = store.story_of_url(db, URL)
        db.execute("UPDATE articles SET title = ?, body = ? WHERE id = ?",
                   [f"Barn fire {ESCAPES}", f"Crews {ESCAPES} attended.\n\nMore.", story])
        store.add_labels(db, [(story, "stance_governance", "", "against", f"web form {ESCAPES}")])
        card = labelling.load_card(db, story, list(TASKS.values()), chosen=True)
    finally:
        db.conn.close()
    card.precedents = [labelling.Precedent("corpus x-1", f"Precedent {ESCAPES}", "topics: finance", 0.9)]
    output = io.StringIO()
    Console(file=output, width=120, color_system=None, force_terminal=False).print(labelling.render_card(card))
    shown = output.getvalue()
    assert "Barn fire" in shown and "labelled by web form" in shown and "Precedent" in shown
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown), repr(shown)


# ---------------------------------------------------------------------------------------------
# cuttings sources check: what a server says
# ---------------------------------------------------------------------------------------------

class _EscapingServer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/robots.txt":   # a reason phrase of terminal escapes (OSC 52 writes the clipboard)
            self.wfile.write(b"HTTP/1.1 404 Not Found \x1b]52;c;ZWNobyBvd25lZA==\x07\x1b]0;owned\x07\r\n"
                             b"Content-Length: 0\r\n\r\n")
        elif self.path == "/sitemap.xml":
            self.wfile.write(b"HTTP/1.1 500 Boom \x1b[2J\x9b31m\r\nContent-Length: 0\r\n\r\n")
        else:
            self.wfile.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    def log_message(self, *args):
        pass


def test_sources_check_prints_no_escape_sequence_a_server_sent(tmp_path):
    from cuttings.cli_sources import sources
    from tests.faultserver import local_site
    with local_site(_EscapingServer) as server:
        path = tmp_path / "sources.toml"
        path.write_text(f'[crawl]\ntimeout = 3\nmax_depth = 0\n\n[[source]]\nid = "esc"\nname = "Esc"\n'
                        f'home = "{server.base}/home/"\nsitemaps = ["{server.base}/sitemap.xml"]\nlocal = true\n',
                        encoding="utf-8")
        result = CliRunner().invoke(sources, ["check", "esc", "--sources", str(path)])
    no_traceback(result)
    assert "robots.txt: HTTP Error 404: Not Found" in result.output, result.output
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", result.output), repr(result.output)


def test_format_check_strips_controls_from_every_line():
    from cuttings.sources_check import SourceCheck, format_check
    report = SourceCheck("esc", "http://127.0.0.1/robots.txt")
    report.problems.append(f"disallowed by robots.txt: http://127.0.0.1/news/{ESCAPES}")
    report.failures.append(f"no article URLs found (offsite host evil{ESCAPES}.example)")
    shown = format_check(report)
    assert "disallowed by robots.txt: http://127.0.0.1/news/" in shown
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", shown), repr(shown)
