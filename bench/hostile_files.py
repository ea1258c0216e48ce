"""Hostile label files (red-team findings of 2026-12-07, session 20): what `cuttings label --import` spends on
each, as a user runs it (the installed `cuttings` command in a child process; wall seconds and the child's
peak RSS from wait4).

* ``wide.xlsx``: a sheet whose dimension claims ``A1:XFD20002`` (16,384 columns) over 20,000 one-cell rows;
* ``strings.xlsx``: a shared-strings part of 2,000,000 entries (32 MB of XML in some 85 KB);
* ``stories.jsonl``: 20,000 `cuttings export` story records of 4.8 KB each (93 MB) naming no article here
  (the import's memory for a large legitimate file).

    PYTHONPATH=. python bench/hostile_files.py [--cuttings .venv/bin/cuttings]

Every file is made in a temporary folder with a small database of one story; the command's exit code and
first line are printed with the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from cuttings import store

URL = "https://news.example/story"


def make_db(path: Path) -> None:
    db = store.connect(path)
    with db.atomic():
        db.execute("INSERT INTO sources (id, name) VALUES ('news', 'News')")
        db.execute("INSERT INTO articles (url, canonical_url, source_id, title, body, first_seen_at, last_seen_at, "
                   "content_hash) VALUES (?, ?, 'news', 'Barn fire', 'Crews attended.', ?, ?, ?)",
                   [URL, URL, "2026-11-20T08:00:00Z", "2026-11-20T08:00:00Z", store.content_hash("Barn fire", "")])
    db.conn.close()


def _workbook(path: Path) -> dict[str, bytes]:
    from openpyxl import Workbook
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "stories"
    sheet.append(["article_id", "url", "stance"])
    sheet.append([1, URL, "against"])
    workbook.save(path)
    with zipfile.ZipFile(path) as source:
        return {item.filename: source.read(item.filename) for item in source.infolist()}


def _write(path: Path, parts: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in parts.items():
            target.writestr(name, content)


def wide_xlsx(path: Path) -> None:
    parts = _workbook(path)
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(3, 20003))
    sheet = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD20002"/>', parts["xl/worksheets/sheet1.xml"])
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"</sheetData>", rows + b"</sheetData>")
    _write(path, parts)


def strings_xlsx(path: Path, entries: int = 2_000_000) -> None:
    """A workbook whose shared-strings part holds ``entries`` strings: a zip bomb (16 bytes of XML each,
    packed about 350 to 1); tests/test_hostile_files.py builds its own of a million with this."""
    parts = _workbook(path)
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                             b'relationships/sharedStrings" Target="sharedStrings.xml" Id="rId9"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                     b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    parts["xl/sharedStrings.xml"] = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                     + b"<si><t>x</t></si>" * entries + b"</sst>")
    _write(path, parts)


def stories_jsonl(path: Path) -> None:
    body = "Firefighters spent the night at the scene. " * 110
    with path.open("w", encoding="utf-8") as out:
        for number in range(20_000):
            out.write(json.dumps({"article_id": 1000 + number, "url": f"https://elsewhere.example/{number}",
                                  "title": "t", "text": body, "topics": ["incident"], "stance": "none", "tone": {},
                                  "labelled_at": None}) + "\n")


def run(cuttings: str, db: Path, path: Path) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS (MB), exit code and first line of `cuttings label --import path`."""
    with tempfile.TemporaryFile() as log:   # a file, not a pipe: a long error line would fill a pipe and hang
        start = time.monotonic()
        child = subprocess.Popen([cuttings, "--db", str(db), "label", "--import", str(path), "--annotator", "bench"],
                                 stdout=log, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - start
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), (output.splitlines() or [""])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuttings", default="cuttings", help="the cuttings command to run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cuttings-hostile-") as folder:
        folder = Path(folder)
        for name, make in (("wide.xlsx", wide_xlsx), ("strings.xlsx", strings_xlsx), ("stories.jsonl", stories_jsonl)):
            path, db = folder / name, folder / f"{name}.db"
            make(path)
            make_db(db)
            wall, rss, code, line = run(args.cuttings, db, path)
            print(f"{name:14} {path.stat().st_size / 2**10:9,.0f} KB  {wall:6.1f} s  {rss:7,.0f} MB  exit {code}  "
                  f"{line[:110]}", flush=True)


if __name__ == "__main__":
    main()
