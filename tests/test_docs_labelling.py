"""docs/labelling.md and docs/operations.md ("Health checks") against the code: every `cuttings label`
and `cuttings doctor` command line shown parses with the options the commands have, and the
"Quote corrections" query tells an orphaned correction from an applied one."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from cuttings import store
from tests.test_label import cli_group, ids_of, make_db
from tests.test_quote_correction_withdrawal import NIGHT, PLEASED, _correct, _quotes

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _command_lines(text: str, command: str) -> list[str]:
    """The `cuttings ... COMMAND ...` lines of the indented and fenced examples, comments cut off."""
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("cuttings ") and f" {command}" in line.split("#")[0]:
            lines.append(line.split("  #")[0].split(" | ")[0].strip())
    return lines


def _parse(line: str) -> None:
    """Parse a documented command line as click would, running nothing (an unknown option fails)."""
    group = cli_group()
    words = shlex.split(line)[1:]
    while words and words[0] == "--db":
        words = words[2:]
    name, args = words[0], words[1:]
    with group.make_context("cuttings", [name], resilient_parsing=True) as ctx:
        command = group.get_command(ctx, name)
        command.make_context(name, args, parent=ctx)   # raises click.UsageError on an unknown option


@pytest.mark.parametrize("doc, command", [("labelling.md", "label"), ("operations.md", "doctor")])
def test_documented_command_lines_parse(doc, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # the files an example reads exist (--import FILE must), empty
    text = (DOCS / doc).read_text(encoding="utf-8")
    lines = _command_lines(text, command)
    assert len(lines) >= 3, f"{doc} shows no `cuttings {command}` examples any more"
    for line in lines:
        line = line.replace("...", "x.db")   # `cuttings --db ... doctor`
        for word in shlex.split(line):
            if word.endswith((".jsonl", ".csv", ".xlsx")):
                (tmp_path / Path(word).name).touch()
                line = line.replace(word, Path(word).name)
        try:
            _parse(line)
        except click.UsageError as exc:
            pytest.fail(f"{doc}: `{line}` does not parse: {exc}")


def test_the_quote_corrections_query_flags_the_orphaned_one(tmp_path):
    guide = (DOCS / "labelling.md").read_text(encoding="utf-8")
    section = guide.split("### Quote corrections", 1)[1].split("\n## ", 1)[0]
    [query] = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    path = tmp_path / "a.db"
    make_db(path)
    db = store.connect(path)
    story = ids_of(db)["middling"]
    _quotes(db, story, [(0, PLEASED), (40, NIGHT)])
    _correct(db, story, PLEASED, "Jo Bloggs")
    _correct(db, story, NIGHT, "Sam Crew")
    _quotes(db, story, [(40, NIGHT)])   # a revision cut the first quote: its correction is orphaned
    rows = {(task, label, words, orphaned) for _, task, label, _, words, orphaned in db.execute(query)}
    assert rows == {("quote_speaker", "Jo Bloggs", PLEASED, 1), ("quote_speaker", "Sam Crew", NIGHT, 0)}
    db.conn.close()


def test_withdrawing_a_quote_correction_says_what_applies_again(tmp_path):
    from tests.test_quote_correction_withdrawal import run
    path = tmp_path / "a.db"
    make_db(path)
    db = store.connect(path)
    story = ids_of(db)["middling"]
    ids = _quotes(db, story, [(0, PLEASED)])
    _correct(db, story, PLEASED, "Jo Bloggs")
    db.conn.close()
    result = run(path, "label", "--unlabel", str(story), "--task", "quote_speaker", "--quote", str(ids[PLEASED]))
    assert result.exit_code == 0, result.output
    assert "label queue" not in result.output and "models' predictions" not in result.output
    assert "withdrew 1 label of article" in result.output
    assert "the quote extractor's speakers and bodies apply again" in result.output
