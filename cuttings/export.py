"""Exporting stories (the ``article_summary`` view) to CSV, JSON Lines or XLSX, with filters.

All filters are bound parameters. Every story carries its quotes (speaker, body, words;
people's corrections applied). CSV keeps the view's columns as they are (``tone``,
``bodies`` and ``quotes`` as JSON text, ``entities`` and ``topics`` comma-separated, flags 0/1); JSON
Lines turns them into objects, lists and booleans (``JSON_FLAGS``). The last column, ``labelled_at``, is when a person last
changed the story's labels (NULL: never), so that ``cuttings label --import`` of the file (CSV, XLSX or
JSON Lines, with labels corrected in it) brings back no label withdrawn after it was written. XLSX has three sheets: ``stories``, ``quotes``
(one row per quote) and ``syndication``, with dates as real spreadsheet dates (UTC) and
crawled text always stored as text, never as a formula.

Crawled text is untrusted: a headline such as ``=HYPERLINK("http://evil", "click")``
would run as a formula when a CSV is opened in a spreadsheet (CSV injection). CSV
text cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (also past
leading spaces and invisible characters, and in their fullwidth forms such as ``＝``:
:func:`cuttings.redaction.formula_like`) are therefore written with a leading apostrophe
(the OWASP recommendation), which spreadsheets show as text; ``guard_formulas=False``
(``--keep-formulas``) writes them unchanged. JSON Lines is always verbatim.

The format follows ``--out``'s suffix (``.csv``, ``.jsonl`` or ``.ndjson``, ``.xlsx``) unless
``--format`` is given; a ``--format`` that contradicts a known suffix is an error (one line),
not a silent choice; standard output and a file without a suffix are CSV by default.
A CSV written to a file starts with a UTF-8 byte-order mark (``EF BB BF``), so Excel reads
its accents and dashes as UTF-8 (without it, Excel for Windows reads the file as Windows-1252:
"café" shows as "cafÃ©"); Python's ``utf-8-sig``, pandas, LibreOffice, Google Sheets and
sqlite-utils (``insert --csv``) read past it. ``bom=False`` (``--no-bom``) leaves it out;
standard output gets none unless ``bom=True`` (``--bom``), as the SQLite shell's ``.output --bom``.
"""
from __future__ import annotations

import contextlib
import csv
import json
import sqlite3
import sys
from pathlib import Path
from typing import IO, Any, Iterator

from sqlite_utils import Database

from cuttings import paths
from cuttings.errors import CuttingsError
from cuttings.redaction import formula_like

FORMATS = ("csv", "jsonl", "xlsx")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}
BOM = "\ufeff"
DATE_COLUMNS = ("published_at", "first_seen_at", "modified_at", "last_seen_at", "first_quoted", "last_quoted")
_QUOTES_SQL = ("(SELECT json_group_array(json_object('speaker', speaker, 'entity_id', entity_id, 'text', text)) "
               "FROM (SELECT q.speaker, q.entity_id, q.text FROM quote_view q "
               "WHERE q.article_id = article_summary.article_id ORDER BY q.start_char)) AS quotes")
# When a person last changed the story's labels (a label or a withdrawal; NULL: never): `cuttings label --import`
# of this file then brings back no label a person withdrew after it was written (cuttings.labelling.import_labels)
_LABELLED_AT_SQL = ("(SELECT max(l.created_at) FROM labels l WHERE l.article_id = article_summary.article_id "
                    "AND l.task NOT IN ('quote_speaker', 'quote_entity')) AS labelled_at")


def guard_formula(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def scheme_roles(tasks: dict | None = None) -> dict[str, Any]:
    """The scheme's topics, stance and tone tasks (``cuttings.report.report_tasks``) of the user's label
    scheme (``tasks``, else ``--scheme``, else ``label_scheme.toml`` from the home folder, else the packaged
    one); a scheme file that cannot be read raises ``LabellingError`` naming it."""
    from cuttings.report import _label_tasks, report_tasks
    return report_tasks(_label_tasks() if tasks is None else tasks)


def stance_labels(roles: dict[str, Any] | None = None) -> tuple[str, ...]:
    """The labels ``--stance`` accepts: every label of the scheme's stance (single-label) task."""
    task = (scheme_roles() if roles is None else roles).get("stance")
    return tuple(task.labels) if task is not None else ()


def check_stance(stance: str, roles: dict[str, Any] | None = None) -> None:
    """Raise :class:`ExportError` (one line naming the scheme's labels) for a stance the scheme lacks."""
    labels = stance_labels(roles)
    if stance not in labels:
        raise ExportError(f"unknown stance {stance!r}: choose from {', '.join(labels) or '(no stance task in the label scheme)'}")


def check_topic(topic: str, roles: dict[str, Any] | None = None) -> None:
    """Raise :class:`ExportError` (one line) for ``--topic`` when the scheme has no topics (multi-label) task:
    there is nothing to filter by (it exported nothing, without a word), or for a topic the task lacks."""
    task = (scheme_roles() if roles is None else roles).get("topics")
    if task is None:
        raise ExportError(f"the label scheme has no topics (multi_label) task: --topic {topic!r} has nothing to "
                          "filter by")
    if topic not in task.labels:
        raise ExportError(f"unknown topic {topic!r}: choose from {', '.join(task.labels)}")


def roles_without_task(db: Database) -> set[str]:
    """The roles (``topics``, ``stance``, ``tone``) the database's label views read no task for (its scheme has
    none: ``label_roles.task`` NULL), whose article_summary columns are therefore NULL."""
    try:
        return {role for role, task in db.execute("SELECT role, task FROM label_roles").fetchall() if task is None}
    except sqlite3.Error:   # a database from before m016 has no label_roles: every role is read
        return set()


class ExportError(CuttingsError, ValueError):
    """A bad export request (unknown format or stance)."""


def _bound(value: str | None, name: str, whole_day: bool = False) -> str | None:
    """A ``since``/``until`` bound in the store's UTC form (an offset or a space in the time is
    converted, as the stored times are UTC ``...Z``); with ``whole_day`` a plain date stays a date,
    which the query compares as a prefix (the whole day)."""
    from cuttings.report import normalise_timestamp
    if not value:
        return None
    value = value.strip()
    try:
        normalised = normalise_timestamp(value)
    except ValueError:
        raise ExportError(f"{name}: not a date or time: {value!r}") from None
    return value if whole_day and len(value) == 10 else normalised


def summary_query(entity: str | None = None, topic: str | None = None, stance: str | None = None,
                  since: str | None = None, until: str | None = None,
                  roles: dict[str, Any] | None = None) -> tuple[str, list[Any]]:
    """The SELECT over ``article_summary`` for these filters, and its parameters.

    ``topic`` and ``stance`` are labels of the label scheme's topics (multi-label) and stance
    (single-label) tasks, whatever the scheme names them (``roles``: :func:`scheme_roles`).
    ``since`` / ``until`` bound the publication time (first-seen time when unknown) and
    accept a date or a timestamp; ``until`` is inclusive to its precision (a date includes that whole day).
    """
    clauses, params = [], []
    if topic or stance:
        roles = scheme_roles() if roles is None else roles
    if entity:
        clauses.append("article_id IN (SELECT article_id FROM mentions WHERE entity_id = ?)")
        params.append(entity)
    if topic:
        check_topic(topic, roles)
        clauses.append("article_id IN (SELECT article_id FROM effective_labels WHERE task = ? AND label = ?)")
        params += [roles["topics"].name, topic]
    if stance:
        check_stance(stance, roles)
        clauses.append("article_id IN (SELECT article_id FROM effective_labels WHERE task = ? AND label = ?)")
        params += [roles["stance"].name, stance]
    since, until = _bound(since, "since"), _bound(until, "until", whole_day=True)
    if since:
        clauses.append("coalesce(published_at, first_seen_at) >= ?")
        params.append(since)
    if until:
        clauses.append("substr(coalesce(published_at, first_seen_at), 1, length(?)) <= ?")
        params += [until, until]
    sql = f"SELECT *, {_QUOTES_SQL}, {_LABELLED_AT_SQL} FROM article_summary"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY coalesce(published_at, first_seen_at), article_id"
    return sql, params


def export_columns(db: Database) -> list[str]:
    """The columns a CSV export (and the XLSX ``stories`` sheet) has: what ``cuttings label --import`` of one
    accepts."""
    sql, params = summary_query()
    return [description[0] for description in db.execute(f"SELECT * FROM ({sql}) LIMIT 0", params).description]


# article_summary's 0/1 columns: true/false in JSON Lines (as stance_uncertain, tone_uncertain and analyse-text's
# "uncertain" are), 0/1 in CSV and XLSX as docs/schema.md documents them
JSON_FLAGS = ("uncertain", "human_corrected", "paywalled")


def _jsonl_row(row: dict, missing: set[str] | frozenset[str] = frozenset()) -> dict:
    """One JSON Lines record; ``missing``: the roles the scheme has no task for (:func:`roles_without_task`),
    whose columns stay null (as ``stance`` is), not an empty list or object that would say "none given"."""
    row = dict(row)
    row["entities"] = row["entities"].split(",") if row["entities"] else []
    row["topics"] = row["topics"].split(",") if row["topics"] else []
    row["tone"] = json.loads(row["tone"]) if row["tone"] else {}
    row["topics_uncertain"] = row["topics_uncertain"].split(",") if row.get("topics_uncertain") else []
    if row.get("stance_uncertain") is not None:
        row["stance_uncertain"] = bool(row["stance_uncertain"])
    row["tone_uncertain"] = {k: bool(v) for k, v in json.loads(row["tone_uncertain"]).items()} \
        if row.get("tone_uncertain") else {}
    for flag in JSON_FLAGS:   # 0/1 in the view and the CSV; JSON booleans here (null: not classified)
        if row.get(flag) is not None:
            row[flag] = bool(row[flag])
    row["bodies"] = json.loads(row["bodies"]) if row.get("bodies") else []
    row["quotes"] = json.loads(row["quotes"]) if row.get("quotes") else []
    for role in missing & {"topics", "tone"}:
        row[role] = row[f"{role}_uncertain"] = None
    return row


def format_for(out: str | Path | IO[str], fmt: str | None = None) -> str:
    """The export format: ``fmt`` when given, else the one ``out``'s suffix names (``.csv``,
    ``.jsonl``/``.ndjson``, ``.xlsx``), else CSV (standard output, an open file, no suffix).
    Raises :class:`ExportError` for an unknown format, a ``fmt`` that contradicts a known suffix,
    or an unknown suffix without ``fmt`` (``report.json``: JSON Lines files end in ``.jsonl``)."""
    if fmt is not None and fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: choose from {', '.join(FORMATS)}")
    suffix = "" if hasattr(out, "write") or str(out) == "-" else Path(str(out)).suffix.lower()
    named = SUFFIXES.get(suffix)
    if fmt is None:
        if suffix and named is None:
            hint = " (JSON Lines files end in .jsonl)" if suffix == ".json" else ""
            raise ExportError(f"cannot tell the format from {out}: give --format ({', '.join(FORMATS)}) or end "
                              f"the file name in {', '.join(SUFFIXES)}{hint}")
        return named or "csv"
    if named is not None and named != fmt:
        raise ExportError(f"--format {fmt} does not match {out} (a {suffix} file is {named}): change one of them")
    return fmt


@contextlib.contextmanager
def _open(out: str | Path | IO[str], bom: bool | None = None) -> Iterator[IO[str]]:
    """A text handle on ``out``; with ``bom`` (default: only for a file) it starts with a UTF-8 BOM."""
    if hasattr(out, "write") or str(out) == "-":
        handle = out if hasattr(out, "write") else sys.stdout
        if bom:
            handle.write(BOM)  # type: ignore[union-attr]
        yield handle  # type: ignore[misc]
    else:
        path = paths.output_file(out)
        encoding = "utf-8" if bom is False else "utf-8-sig"
        with path.open("w", encoding=encoding, newline="") as handle:
            yield handle


def export_summary(db: Database, out: str | Path | IO[str], fmt: str | None = None, entity: str | None = None,
                   topic: str | None = None, stance: str | None = None, since: str | None = None,
                   until: str | None = None, guard_formulas: bool = True, bom: bool | None = None,
                   roles: dict[str, Any] | None = None) -> int:
    """Write the matching ``article_summary`` rows to ``out`` (a path, ``-`` for stdout, or an open
    text file) as ``csv``, ``jsonl`` or ``xlsx`` (``fmt``, else from the suffix: :func:`format_for`);
    returns the number of rows written. CSV text cells that a spreadsheet would run as formulas are
    prefixed with an apostrophe unless ``guard_formulas`` is off. A CSV file starts with a UTF-8 BOM
    unless ``bom`` is False; standard output or an open file gets one only when ``bom`` is True."""
    fmt = format_for(out, fmt)
    if bom and fmt != "csv":
        raise ExportError(f"--bom is for CSV only (this export is {fmt})")
    sql, params = summary_query(entity=entity, topic=topic, stance=stance, since=since, until=until, roles=roles)
    if fmt == "xlsx":
        if str(out) == "-" or hasattr(out, "write"):
            raise ExportError("XLSX is a binary file: give --out FILE.xlsx")
        return export_xlsx(db, Path(out), sql, params)
    cursor = db.execute(sql, params)
    columns = [description[0] for description in cursor.description]
    count = 0
    with _open(out, bom if fmt == "csv" else False) as handle:
        if fmt == "csv":
            writer = csv.writer(handle)
            writer.writerow(columns)
            for values in cursor:
                writer.writerow([guard_formula(value) for value in values] if guard_formulas else values)
                count += 1
        else:
            missing = roles_without_task(db)
            for values in cursor:
                handle.write(json.dumps(_jsonl_row(dict(zip(columns, values)), missing), ensure_ascii=False) + "\n")
                count += 1
    return count


def _xlsx_value(column: str, value: Any) -> Any:
    """A cell value: ISO dates as naive UTC datetimes (spreadsheets have no time zones), text without
    the control characters XLSX cannot hold."""
    import datetime as dt

    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        if column in DATE_COLUMNS and len(value) == 20 and value.endswith("Z"):
            try:
                return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
            except ValueError:
                pass
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _xlsx_sheet(workbook, title: str, cursor) -> int:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    sheet = workbook.create_sheet(title)
    columns = [description[0] for description in cursor.description]
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for values in cursor:
        cells = []
        for column, value in zip(columns, values):
            cell = WriteOnlyCell(sheet, value=_xlsx_value(column, value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # crawled text stays text: "=HYPERLINK(...)" is never a formula
            elif column in DATE_COLUMNS and cell.value is not None:
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    return count


def export_xlsx(db: Database, path: Path, sql: str, params: list[Any]) -> int:
    """Write stories (``sql``), their quotes and their syndication to an XLSX workbook; returns the story count."""
    from openpyxl import Workbook

    paths.output_file(path)
    workbook = Workbook(write_only=True)
    count = _xlsx_sheet(workbook, "stories", db.execute(sql, params))
    ids = json.dumps([row[0] for row in db.execute(f"SELECT article_id FROM ({sql})", params)])
    _xlsx_sheet(workbook, "quotes", db.execute(
        "SELECT article_id, published_at, published_precision, speaker, speaker_role, entity_id, body, "
        "entity_method, quote, title, url FROM quotes_by_speaker WHERE article_id IN (SELECT value FROM json_each(?)) "
        "ORDER BY published_at, article_id", [ids]))
    _xlsx_sheet(workbook, "syndication", db.execute(
        "SELECT * FROM syndication WHERE article_id IN (SELECT value FROM json_each(?)) ORDER BY first_seen_at", [ids]))
    partial = path.with_name(path.name + ".partial")
    workbook.save(partial)
    partial.replace(path)
    return count
