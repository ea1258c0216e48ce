"""The label scheme: which classification tasks exist and which labels they use.

The scheme is data (``data/label_scheme.toml``), so a team can define its own
topics, stance target or watched entities by editing that file only.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from nlp import packaged_data
from nlp.errors import NlpError, unknown_keys_problem

DEFAULT_SCHEME_PATH = packaged_data("label_scheme.toml")

TASK_KINDS = ("multi_label", "single_label", "per_entity")
# The kinds whose task may name its own cue words (``cues``): topics' evidence and tone's cues.
CUE_KINDS = ("multi_label", "per_entity")
# The kinds whose task may name its "needs attention" labels (``attention``): the stance's and the tone's.
ATTENTION_KINDS = ("single_label", "per_entity")
# A tone task without ``attention``: its label of this name is the critical one (the shipped scheme's).
TONE_ATTENTION_DEFAULT = "negative"


class SchemeError(NlpError, ValueError):
    """A label scheme, or a record checked against it, is invalid (one-line message)."""


@dataclass(frozen=True)
class Task:
    """One classification task of the scheme.

    ``kind`` is ``multi_label`` (a list of labels per article, ``exclusive`` the
    label that stands alone), ``single_label`` (one label per article) or
    ``per_entity`` (one label per entity of ``entities`` that the article mentions).
    """

    name: str
    kind: str
    labels: tuple[str, ...]
    uncertain_below: float
    description: str = ""
    exclusive: str | None = None
    target: str | None = None
    entities: tuple[str, ...] = ()
    absent: str | None = None
    short_target: str | None = None
    shown: tuple[str, ...] = ()
    attention: tuple[tuple[str, str], ...] = ()
    # multi_label and per_entity: the team's own cue words and phrases per label (``nlp.features``), the
    # topic evidence (multi_label) or the tone cues (per_entity); empty: the shipped scheme's patterns
    # (``TOPIC_CUES``, ``TONE_CUES``)
    cues: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def heading(self) -> str:
        """A few words naming what the task is about, for headings ("Stance on <heading>"): the
        scheme's ``short_target``, else a short ``target``, else the task name in words."""
        if self.short_target:
            return self.short_target
        if self.target and len(self.target) <= 60:
            return self.target.strip().rstrip(".")
        return self.name.replace("_", " ")

    @property
    def counted(self) -> tuple[str, ...]:
        """The labels reports count, chart and badge, in order: ``shown``, else every label but ``absent``."""
        return self.shown or tuple(label for label in self.labels if label != self.absent)

    @property
    def attention_labels(self) -> dict[str, str]:
        """Label -> words for the labels that put a story under "needs attention": the scheme's
        ``attention`` table, else, for a stance (``single_label``), every counted label but ``neutral``
        ("stories <words>"), and for a tone (``per_entity``), its ``negative`` label when it has one
        (the critical tone towards a watched body; none otherwise)."""
        if self.attention:
            return dict(self.attention)
        if self.kind == "per_entity":
            return {TONE_ATTENTION_DEFAULT: TONE_ATTENTION_DEFAULT} if TONE_ATTENTION_DEFAULT in self.labels else {}
        return {label: f"with stance {label} on {self.heading}" for label in self.counted if label != "neutral"}


@dataclass(frozen=True)
class Scheme:
    """All tasks of a label scheme plus the watched entity ids."""

    path: str
    version: int
    entities: dict[str, str]
    tasks: dict[str, Task]

    def tasks_of_kind(self, kind: str) -> list[Task]:
        """The tasks of one kind, in file order."""
        return [task for task in self.tasks.values() if task.kind == kind]

    def task_of_kind(self, kind: str) -> Task | None:
        """The task that reports show for one kind (``multi_label``: the topics, ``single_label``:
        the stance, ``per_entity``: the tone): the first of that kind in file order, or None."""
        return task_of_kind(self.tasks, kind)


def task_of_kind(tasks: dict[str, Task], kind: str) -> Task | None:
    """The first task of ``kind`` among ``tasks`` (name -> Task, file order), or None: the one
    article-level topics (``multi_label``), stance (``single_label``) or tone (``per_entity``) task
    that reports, exports, correction forms and evaluation read."""
    return next((task for task in tasks.values() if task.kind == kind), None)


def check_label(task: Task, value, where: str):
    """``value`` of a record for ``task``, normalised: topics in scheme order without
    repeats, tone as a plain dict. Raises ``SchemeError`` naming
    ``where`` for a value outside the scheme. Shared by corpus loading and label import.
    """
    allowed = ", ".join(task.labels)
    if task.kind == "multi_label":
        if not isinstance(value, list) or not value:
            raise SchemeError(f"{where}: {task.name} must be a non-empty list of labels")
        for label in value:
            if label not in task.labels:
                raise SchemeError(f"{where}: {task.name} label {label!r} is not in the scheme ({allowed})")
        if task.exclusive in value and len(set(value)) > 1:
            raise SchemeError(f"{where}: {task.name} label {task.exclusive!r} must stand alone")
        return [label for label in task.labels if label in value]
    if task.kind == "single_label":
        if not isinstance(value, str) or value not in task.labels:
            raise SchemeError(f"{where}: {task.name} label {value!r} is not in the scheme ({allowed})")
        return value
    if not isinstance(value, dict):
        raise SchemeError(f"{where}: {task.name} must be an object of entity id -> label")
    for entity_id, label in value.items():
        if entity_id not in task.entities:
            raise SchemeError(
                f"{where}: {task.name} entity {entity_id!r} is not in the scheme ({', '.join(task.entities)})"
            )
        if not isinstance(label, str) or label not in task.labels:
            raise SchemeError(f"{where}: {task.name} label {label!r} is not in the scheme ({allowed})")
    return dict(value)


# The database views (cuttings/store/schema.py: label_view_definitions) quote every task name and label,
# and give entity_daily one column per label of the stance (single_label) and tone (per_entity) task:
# stance_<label> (but the absent label) and tone_<label>, beside entity_id, body, day, articles and
# tone_rated. SQLite compares column names without ASCII case ("É" and "é" stay apart), so two labels
# whose columns differ only in ASCII case, or a tone label "rated", cannot be columns; nor can a control
# character be in a name. The store refuses them when it writes the views (LabelNameError); the scheme
# refuses them here, when it is read, so doctor, train, label and classify say so up front, naming the
# file, task and label. nlp imports nothing of cuttings and the store nothing of nlp, so the rule is
# written twice: tests/test_label_views.py checks that this copy and the store's agree.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_VIEW_COLUMN_PREFIX = {"single_label": "stance", "per_entity": "tone"}
_VIEW_FIXED_COLUMNS = ("entity_id", "body", "day", "articles", "tone_rated")


def view_name_problem(name: str, kind: str, labels, absent: str | None = None) -> str | None:
    """Why the database views cannot hold task ``name`` (of ``kind``) with ``labels`` (``absent``: the
    label without a column), in words, or None when they can. Pure: the same rule as the store's."""
    for what, text in (("task name", name), *(("label", label) for label in labels)):
        bad = next((char for char in text if ord(char) < 32 or ord(char) == 127), None)
        if bad is not None:
            return f"{what} {text!r} holds the control character {bad!r}, which the database views cannot hold"
    prefix = _VIEW_COLUMN_PREFIX.get(kind)
    if prefix is None:
        return None
    seen = {column: column for column in _VIEW_FIXED_COLUMNS}
    for label in labels:
        if label == absent:
            continue
        column = f"{prefix}_{label}"
        folded = column.translate(_ASCII_LOWER)
        if folded in seen:
            why = "" if seen[folded] == column else " (SQLite does not tell names apart by ASCII case)"
            return (f"label {label!r} would give the entity_daily view a second column named {seen[folded]!r}"
                    f"{why}: rename the label")
        seen[folded] = column
    return None


def _string_list(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise SchemeError(f"{where} must be a non-empty list of strings")
    if len(set(value)) != len(value):
        raise SchemeError(f"{where} has duplicate entries")
    return tuple(value)


# A labelled record (LABELS.md, `label --export`) keeps each task's labels under the task's name beside
# these fields, and `analyse-text` and `evaluate` print entities and quotes under these names: a task
# named like one would overwrite it.
RESERVED_TASK_NAMES = ("id", "url", "site", "title", "body", "date", "entities", "quotes", "annotator", "annotators",
                       "outside_scheme", "analysis", "quote_corrections")


# The names the database gives "this scheme has no task of this kind" (cuttings.store.schema.NO_TASK: a marker row
# of label_tasks the views read): no task may take one. tests/test_scheme_without_tone_or_topics.py checks they agree.
NO_TASK_NAMES = ("__no_topics_task__", "__no_stance_task__", "__no_tone_task__")


# The keys a [tasks.NAME] table may hold, and the top-level keys of the file: any other is refused.
TASK_KEYS = frozenset({"kind", "description", "labels", "uncertain_below", "exclusive", "target", "entities",
                       "absent", "short_target", "shown", "attention", "cues"})
TOP_KEYS = frozenset({"version", "entities", "tasks"})


def _parse_task(name: str, table, entities: dict[str, str], source: str) -> Task:
    where = f"{source}: [tasks.{name}]"
    if name in RESERVED_TASK_NAMES:
        raise SchemeError(f"{where}: {name!r} names a field of every labelled record ({', '.join(RESERVED_TASK_NAMES)}); "
                          f"give the task another name")
    if name in NO_TASK_NAMES:
        raise SchemeError(f"{where}: {name!r} is reserved (the database's mark of a scheme without a task of a kind); "
                          "give the task another name")
    if not isinstance(table, dict):
        raise SchemeError(f"{where} must be a table")
    problem = unknown_keys_problem(table, TASK_KEYS)
    if problem:  # a misspelt key (`exclusve`, `absnet`) would otherwise be a setting silently left out
        raise SchemeError(f"{where} {problem}")
    for key in ("kind", "labels", "uncertain_below"):
        if key not in table:
            raise SchemeError(f"{where} missing key {key!r}")
    kind = table.get("kind")
    if kind not in TASK_KINDS:
        raise SchemeError(f"{where} kind must be one of {', '.join(TASK_KINDS)}, got {kind!r}")
    labels = _string_list(table.get("labels"), f"{where} labels")
    if len(labels) < 2:
        raise SchemeError(f"{where} labels needs at least two labels")
    threshold = table.get("uncertain_below")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise SchemeError(f"{where} uncertain_below must be a number in [0, 1], got {threshold!r}")
    exclusive = table.get("exclusive")
    if exclusive is not None and (kind != "multi_label" or exclusive not in labels):
        raise SchemeError(f"{where} exclusive must be one of its labels (multi_label tasks only)")
    absent = table.get("absent")
    if absent is not None and (kind != "single_label" or absent not in labels):
        raise SchemeError(f"{where} absent must be one of its labels (single_label tasks only)")
    problem = view_name_problem(name, kind, labels, absent)
    if problem:
        raise SchemeError(f"{where} {problem}")
    task_entities: tuple[str, ...] = ()
    if kind == "per_entity":
        task_entities = _string_list(table.get("entities"), f"{where} entities")
        unknown = [e for e in task_entities if e not in entities]
        if unknown:
            raise SchemeError(f"{where} entities not declared in [entities]: {', '.join(unknown)}")
    elif "entities" in table:
        raise SchemeError(f"{where} entities is only allowed for per_entity tasks")
    target = table.get("target")
    if target is not None and not isinstance(target, str):
        raise SchemeError(f"{where} target must be a string")
    short_target = table.get("short_target")
    if short_target is not None and (not isinstance(short_target, str) or not short_target.strip()):
        raise SchemeError(f"{where} short_target must be a non-empty string")
    shown: tuple[str, ...] = ()
    attention: tuple[tuple[str, str], ...] = ()
    for key in ("short_target", "shown"):
        if key in table and kind != "single_label":
            raise SchemeError(f"{where} {key} is only allowed for single_label tasks")
    if "attention" in table and kind not in ATTENTION_KINDS:
        raise SchemeError(f"{where} attention is only allowed for {' and '.join(ATTENTION_KINDS)} tasks")
    if "shown" in table:
        shown = _string_list(table["shown"], f"{where} shown")
        unknown = [label for label in shown if label not in labels]
        if unknown:
            raise SchemeError(f"{where} shown labels not in its labels: {', '.join(unknown)}")
    if "attention" in table:
        words = table["attention"]
        if not isinstance(words, dict) or not words \
                or not all(isinstance(v, str) and v.strip() for v in words.values()):
            raise SchemeError(f"{where} attention must be a table of label = \"words\"")
        unknown = [label for label in words if label not in labels]
        if unknown:
            raise SchemeError(f"{where} attention labels not in its labels: {', '.join(unknown)}")
        attention = tuple((label, text.strip()) for label, text in words.items())
    cues: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if "cues" in table:
        if kind not in CUE_KINDS:
            raise SchemeError(f"{where} cues is only allowed for {' and '.join(CUE_KINDS)} tasks")
        words = table["cues"]
        if not isinstance(words, dict) or not words:
            raise SchemeError(f"{where} cues must be a table of label = [\"word\", \"a phrase\", ...]")
        unknown = [label for label in words if label not in labels or label == exclusive]
        if unknown:
            raise SchemeError(f"{where} cues labels not among its labels"
                              f"{' (the exclusive one has none)' if exclusive else ''}: {', '.join(map(str, unknown))}")
        cues = tuple((label, tuple(" ".join(phrase.split()) for phrase in
                                   _string_list(phrases, f"{where} cues.{label}")))
                     for label, phrases in words.items())
        if any(not phrase for _label, phrases in cues for phrase in phrases):
            raise SchemeError(f"{where} cues: a word or phrase is blank")
    return Task(
        name=name,
        kind=kind,
        labels=labels,
        uncertain_below=float(threshold),
        description=str(table.get("description", "")),
        exclusive=exclusive,
        target=target,
        entities=task_entities,
        absent=absent,
        short_target=short_target.strip() if short_target else None,
        shown=shown,
        attention=attention,
        cues=cues,
    )


def load_scheme(path: str | Path | None = None) -> Scheme:
    """Read and check a label scheme TOML file (default ``data/label_scheme.toml``)."""
    path = Path(path) if path is not None else DEFAULT_SCHEME_PATH
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise SchemeError(f"cannot read label scheme {path}: {error.strerror or error}") from error
    except tomllib.TOMLDecodeError as error:
        raise SchemeError(f"{path}: invalid TOML: {error}") from error
    source = str(path)
    problem = unknown_keys_problem(data, TOP_KEYS)
    if problem:
        raise SchemeError(f"{source}: {problem}")
    entities = data.get("entities", {})
    if not isinstance(entities, dict) or not all(isinstance(v, str) for v in entities.values()):
        raise SchemeError(f"{source}: [entities] must map entity ids to descriptions")
    tasks_table = data.get("tasks")
    if not isinstance(tasks_table, dict) or not tasks_table:
        raise SchemeError(f"{source}: no [tasks.*] tables defined")
    tasks = {name: _parse_task(name, table, entities, source) for name, table in tasks_table.items()}
    version = data.get("version", 1)
    if not isinstance(version, int):
        raise SchemeError(f"{source}: version must be an integer")
    if path.resolve() != DEFAULT_SCHEME_PATH.resolve():
        tasks = _with_packaged_wording(tasks)
    return Scheme(path=source, version=version, entities=dict(entities), tasks=tasks)


_WORDING = ("short_target", "shown", "attention")


def _with_packaged_wording(tasks: dict[str, Task]) -> dict[str, Task]:
    """A copy of the packaged scheme made before ``short_target``, ``shown`` and ``attention`` existed
    (a home folder's ``label_scheme.toml`` from ``cuttings init``) words its stance as the packaged one
    does: a single-label task with none of them, whose name and labels are the packaged task's, takes
    the packaged task's."""
    try:
        packaged = load_scheme(DEFAULT_SCHEME_PATH).tasks
    except SchemeError:
        return tasks
    result = dict(tasks)
    for name, task in tasks.items():
        shipped = packaged.get(name)
        if (task.kind == "single_label" and shipped is not None and shipped.kind == task.kind
                and shipped.labels == task.labels and not any(getattr(task, field) for field in _WORDING)):
            result[name] = replace(task, **{field: getattr(shipped, field) for field in _WORDING})
    return result


def check_watched(scheme: Scheme, watched_ids, watchlist: str | Path = "the watchlist") -> None:
    """Raise :class:`SchemeError` when a ``per_entity`` task (tone) rates a body that ``watched_ids``
    (the watchlist's entity ids) does not hold: the analyser never finds it, so its label would
    never be given, without a word. ``watchlist`` names the file in the message."""
    watched = set(watched_ids)
    for task in scheme.tasks_of_kind("per_entity"):
        missing = [entity for entity in task.entities if entity not in watched]
        if missing:
            plural = "ies" if len(missing) > 1 else "y"
            raise SchemeError(
                f"{scheme.path}: [tasks.{task.name}] entit{plural} {', '.join(map(repr, missing))} not in "
                f"{watchlist} (its ids: {', '.join(sorted(watched))}): use the watchlist's ids in the "
                f"scheme's [entities] and the task's entities")
