"""Exporting stories (the ``article_summary`` view) to CSV or JSON Lines, with filters.

All filters are bound parameters. CSV keeps the view's columns as they are (``tone``
as JSON text, ``entities`` and ``topics`` comma-separated); JSON Lines turns ``tone``
into an object and ``entities`` / ``topics`` into lists.

Crawled text is untrusted: a headline such as ``=HYPERLINK("http://evil", "click")``
would run as a formula when a CSV is opened in a spreadsheet (CSV injection). CSV
text cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are
therefore written with a leading apostrophe (the OWASP recommendation), which
spreadsheets show as text; ``guard_formulas=False`` (``--keep-formulas``) writes
them unchanged. JSON Lines is always verbatim.
"""
from __future__ import annotations

import contextlib
import csv
import json
import sys
from pathlib import Path
from typing import IO, Any, Iterator

from sqlite_utils import Database

from cuttings.errors import CuttingsError

FORMATS = ("csv", "jsonl")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def guard_formula(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
STANCES = ("favour", "against", "neutral", "none")


class ExportError(CuttingsError, ValueError):
    """A bad export request (unknown format or stance)."""


def summary_query(entity: str | None = None, topic: str | None = None, stance: str | None = None,
                  since: str | None = None, until: str | None = None) -> tuple[str, list[Any]]:
    """The SELECT over ``article_summary`` for these filters, and its parameters.

    ``since`` / ``until`` bound the publication time (first-seen time when unknown) and
    accept a date or a timestamp; ``until`` is inclusive to its precision (a date includes that whole day).
    """
    clauses, params = [], []
    if entity:
        clauses.append("article_id IN (SELECT article_id FROM mentions WHERE entity_id = ?)")
        params.append(entity)
    if topic:
        clauses.append("article_id IN (SELECT article_id FROM effective_labels WHERE task = 'topics' AND label = ?)")
        params.append(topic)
    if stance:
        if stance not in STANCES:
            raise ExportError(f"unknown stance {stance!r}: choose from {', '.join(STANCES)}")
        clauses.append("stance = ?")
        params.append(stance)
    if since:
        clauses.append("coalesce(published_at, first_seen_at) >= ?")
        params.append(since)
    if until:
        clauses.append("substr(coalesce(published_at, first_seen_at), 1, length(?)) <= ?")
        params += [until, until]
    sql = "SELECT * FROM article_summary"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY coalesce(published_at, first_seen_at), article_id"
    return sql, params


def _jsonl_row(row: dict) -> dict:
    row = dict(row)
    row["entities"] = row["entities"].split(",") if row["entities"] else []
    row["topics"] = row["topics"].split(",") if row["topics"] else []
    row["tone"] = json.loads(row["tone"]) if row["tone"] else {}
    return row


@contextlib.contextmanager
def _open(out: str | Path | IO[str]) -> Iterator[IO[str]]:
    if hasattr(out, "write"):
        yield out  # type: ignore[misc]
    elif str(out) == "-":
        yield sys.stdout
    else:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            yield handle


def export_summary(db: Database, out: str | Path | IO[str], fmt: str = "csv", entity: str | None = None,
                   topic: str | None = None, stance: str | None = None, since: str | None = None,
                   until: str | None = None, guard_formulas: bool = True) -> int:
    """Write the matching ``article_summary`` rows to ``out`` (a path, ``-`` for stdout, or an open
    text file) as ``csv`` or ``jsonl``; returns the number of rows written. CSV text cells that a
    spreadsheet would run as formulas are prefixed with an apostrophe unless ``guard_formulas`` is off."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: choose from {', '.join(FORMATS)}")
    sql, params = summary_query(entity=entity, topic=topic, stance=stance, since=since, until=until)
    cursor = db.execute(sql, params)
    columns = [description[0] for description in cursor.description]
    count = 0
    with _open(out) as handle:
        if fmt == "csv":
            writer = csv.writer(handle)
            writer.writerow(columns)
            for values in cursor:
                writer.writerow([guard_formula(value) for value in values] if guard_formulas else values)
                count += 1
        else:
            for values in cursor:
                handle.write(json.dumps(_jsonl_row(dict(zip(columns, values))), ensure_ascii=False) + "\n")
                count += 1
    return count
