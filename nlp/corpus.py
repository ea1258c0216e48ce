"""Labelled corpora in the seed-corpus format, checked against the label scheme.

A labelled JSONL file holds one JSON object a line (see ``data/corpus/LABELS.md``).
Each record carries its text either in ``title``/``body`` fields or by ``id``, the
text then being ``articles/<id>.txt`` beside the JSONL file (first line the
headline, the rest the body).
"""

from __future__ import annotations

import json
from pathlib import Path

from nlp import packaged_data
from nlp.scheme import Scheme, SchemeError, check_label, load_scheme

DEFAULT_CORPUS_DIR = packaged_data("corpus")


def read_article(path: Path) -> tuple[str, str]:
    """Split an article text file into (headline, body)."""
    text = path.read_text(encoding="utf-8")
    title, _, body = text.partition("\n")
    return title.strip(), body.strip()


def _check_labels(record: dict, scheme: Scheme, where: str) -> dict:
    """Validated task labels of a record: {task name: labels or None when unlabelled}."""
    labels: dict = {}
    listed = record.get("entities") is not None
    entities = record.get("entities") or {}
    if not isinstance(entities, dict):
        raise SchemeError(f"{where}: entities must be an object of entity id -> surface forms")
    for entity_id, forms in entities.items():
        if entity_id not in scheme.entities:
            raise SchemeError(f"{where}: entity {entity_id!r} is not in the scheme")
        if not isinstance(forms, list) or not all(isinstance(f, str) and f for f in forms):
            raise SchemeError(f"{where}: entity {entity_id!r} surface forms must be a list of strings")
    for task in scheme.tasks.values():
        value = record.get(task.name)
        if value is None:
            labels[task.name] = None
            continue
        labels[task.name] = check_label(task, value, where)
        # A record without ``entities`` (a team's own file, written from its spreadsheet) may rate bodies:
        # the classifiers read the analyser's mentions, and the entity evaluation leaves such a record
        # out. A record that lists entities must list each body it rates.
        if task.kind == "per_entity" and listed:
            for entity_id in value:
                if not entities.get(entity_id):
                    raise SchemeError(
                        f"{where}: {task.name} labels entity {entity_id!r} but lists no surface forms for it"
                    )
    return labels


def load_jsonl(path: str | Path, scheme: Scheme, skip_bad_records: bool = False) -> list[dict]:
    """Read a labelled JSONL file into validated records.

    Records: ``{id, title, body, date, entities, <one key per scheme task>}``.
    Raises ``SchemeError`` naming the file, line number and record id for a label
    outside the scheme or a malformed record; with ``skip_bad_records`` such a line is
    left out and the others are read, for a reader that can do with part of a corpus (the
    labelling screen's precedents); training never skips.
    """
    path = Path(path)
    articles_dir = path.parent / "articles"
    records = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append(_record(line, path, line_no, articles_dir, scheme, seen))
            except SchemeError:
                if not skip_bad_records:
                    raise
    return records


def invalid_json_message(path: str | Path, line_no: int, error: json.JSONDecodeError) -> str:
    """What is wrong with line ``line_no`` of the JSONL file ``path`` and where: the full path, the
    line and the column the parser stopped at (``...: invalid JSON: Unterminated string starting
    at line 3, column 17``), so a broken file can be fixed without guessing."""
    line = line_no + error.lineno - 1  # a JSONL line is one JSON text: error.lineno is 1
    at = "" if error.msg.endswith(" at") else " at"
    return f"{path}:{line_no}: invalid JSON: {error.msg}{at} line {line}, column {error.colno}"


def _record(line: str, path: Path, line_no: int, articles_dir: Path, scheme: Scheme, seen: set[str]) -> dict:
    """One validated record of line ``line_no`` of the JSONL file ``path`` (named in errors)."""
    where = f"{path}:{line_no}"
    try:
        raw = json.loads(line.rstrip("\r\n"))  # a cut-off string is "unterminated", not a control character
    except json.JSONDecodeError as error:
        raise SchemeError(invalid_json_message(path, line_no, error)) from error
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise SchemeError(f"{where}: record has no string id")
    record_id = raw["id"]
    where = f"{where}: record {record_id!r}"
    if record_id in seen:
        raise SchemeError(f"{where}: duplicate id")
    seen.add(record_id)
    if "title" in raw or "body" in raw:
        title, body = str(raw.get("title") or ""), str(raw.get("body") or "")
    else:
        article_path = articles_dir / f"{Path(record_id).name}.txt"
        if not article_path.is_file():
            raise SchemeError(f"{where}: no title/body fields and no {article_path}")
        title, body = read_article(article_path)
    record = {"id": record_id, "title": title, "body": body, "date": raw.get("date"),
              "entities": raw.get("entities")}  # None: the record does not say which bodies it names
    record.update(_check_labels(raw, scheme, where))
    return record


def load_corpus(corpus_dir: str | Path | None = None, scheme: Scheme | None = None,
                skip_bad_records: bool = False) -> list[dict]:
    """Load ``labels.jsonl`` and ``articles/`` of a corpus directory (default the seed corpus);
    ``skip_bad_records`` as for ``load_jsonl``."""
    corpus_dir = Path(corpus_dir) if corpus_dir is not None else DEFAULT_CORPUS_DIR
    return load_jsonl(corpus_dir / "labels.jsonl", scheme if scheme is not None else load_scheme(),
                      skip_bad_records)
