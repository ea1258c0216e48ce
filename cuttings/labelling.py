"""Human labelling: choose the articles worth an analyst's time, record their answers,
and move labels in and out as JSONL in the seed-corpus record format.

The analyst's answers go to the ``labels`` table (one row per label; see
``docs/labelling.md``), where the ``effective_labels`` view lets them win over the
classifiers' predictions and ``cuttings train`` reads them as training data.

Conventions for ``labels`` rows written here:

* single-label task (``stance_governance``): one row, ``target = ''``;
* per-entity task (``tone``): one row per entity, ``target = entity id``;
* multi-label task (``topics``): one row per chosen label, ``target = ''``, plus one
  row ``label = '__rejected__', target = <topic>`` for each predicted topic the
  analyst removed (a later rejection also cancels an earlier human row of that topic);
* a withdrawal (``--unlabel``): one row ``label = '__withdrawn__', target = ''`` per task,
  which withdraws every earlier row of that article and task (``store.withdraw_labels``); one
  quote's corrections (``--quote``): that row naming the quote, the article's other corrections of
  the task written again after it (``store.withdraw_quote_correction``);
  nothing is ever deleted, so the table is the audit trail.

Every answer is written in its own transaction, so quitting or a crash loses nothing
already answered. Crawled text is untrusted: the screen prints it through
``rich.text.Text``, never as console markup.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterable

import numpy as np

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cuttings import paths, store
from cuttings.wording import counted, noun
from cuttings.errors import CuttingsError
from nlp.corpus import invalid_json_message
from nlp.scheme import ATTENTION_KINDS, Scheme, SchemeError, Task, check_label, load_scheme, task_of_kind

REJECTED = "__rejected__"
WITHDRAWN = store.WITHDRAWN   # "__withdrawn__"


class LabellingError(CuttingsError):
    """A problem the analyst can fix (bad file, unknown task); one-line message."""


# --------------------------------------------------------------------------
# The label scheme, as the labelling screen needs it
# --------------------------------------------------------------------------

def load_label_tasks(path: str | Path | None = None) -> dict[str, Task]:
    """The tasks of the label scheme (``label_scheme.toml``, see ``cuttings.paths``)."""
    try:
        from cuttings import paths
        scheme = load_scheme(path or paths.config_file("label_scheme.toml"))
    except SchemeError as exc:
        raise LabellingError(str(exc)) from None
    return dict(scheme.tasks)


def select_tasks(tasks: dict[str, Task], name: str) -> list[Task]:
    """The tasks named by ``--task`` (``all`` for every task)."""
    if name == "all":
        return list(tasks.values())
    if name not in tasks:
        raise LabellingError(f"unknown task {name!r}: choose one of {', '.join([*tasks, 'all'])}")
    return [tasks[name]]


# --------------------------------------------------------------------------
# Choosing what to label: uncertainty sampling
# --------------------------------------------------------------------------

@dataclass
class Candidate:
    """An article waiting for a human label, with the models' confidence in it."""

    article_id: int
    uncertain: bool
    confidence: float | None  # lowest, over its (task, target) predictions, of the best probability


def candidates(db, tasks: list[Task], limit: int | None = None) -> list[Candidate]:
    """Stories (not syndicated copies) lacking a human label for any of ``tasks``, least
    certain first: any prediction flagged uncertain, then by the lowest best-probability
    over the pending (task, target) pairs; articles never classified come last
    (``store.label_candidates``; a per-entity task waits only for stories about its bodies)."""
    pending = [(task.name, list(task.entities) if task.kind == "per_entity" else None) for task in tasks]
    return [Candidate(article_id, bool(uncertain), confidence)
            for article_id, uncertain, confidence in store.label_candidates(db, pending, limit)]


# --------------------------------------------------------------------------
# One article on screen
# --------------------------------------------------------------------------

@dataclass
class Prediction:
    label: str
    probability: float | None
    uncertain: bool


@dataclass
class Question:
    """One thing to decide: a task, and for per-entity tasks the entity."""

    task: Task
    target: str = ""
    predictions: list[Prediction] = field(default_factory=list)
    labelled: list[str] = field(default_factory=list)  # its human labels from before a revision (multi-label)
    decided_by: str = ""  # a story chosen by hand (--article): whose human labels ``predictions`` are

    @property
    def name(self) -> str:
        return f"{self.task.name} {self.target}".strip()

    @property
    def predicted(self) -> list[str]:
        return [p.label for p in self.predictions]


@dataclass
class ArticleCard:
    article_id: int
    title: str
    outlet: str
    published_at: str | None
    url: str
    lead: list[str]
    mentions: dict[str, list[str]]
    questions: list[Question]
    precedents: list["Precedent"] = field(default_factory=list)
    revised: tuple[int, str] | None = None  # (version, when) of a text changed since its labels were given


def mention_surfaces(db, article_id: int) -> dict[str, list[str]]:
    """The surfaces of an article's stored mentions per watched body, each once, in text order (the
    corpus record's ``entities``)."""
    surfaces: dict[str, list[str]] = {}
    for mention in store.article_mentions(db, article_id):
        found = surfaces.setdefault(mention["entity_id"], [])
        if mention["surface"] not in found:
            found.append(mention["surface"])
    return surfaces


def lead_paragraphs(body: str, paragraphs: int = 2, max_chars: int = 400) -> list[str]:
    """The first paragraphs of a body (blank-line separated, else line separated), each trimmed."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", body or "") if p.strip()]
    if len(parts) <= 1:
        parts = [p.strip() for p in (body or "").splitlines() if p.strip()]
    lead = []
    for paragraph in parts[:paragraphs]:
        paragraph = store.normalise_text(paragraph)
        lead.append(paragraph if len(paragraph) <= max_chars else paragraph[:max_chars].rsplit(" ", 1)[0] + " …")
    return lead


def load_card(db, article_id: int, tasks: list[Task], precedents: "Precedents | None" = None, *,
              chosen: bool = False) -> ArticleCard:
    """Everything the screen shows about one article, with the questions still open for it and,
    given ``precedents``, the labelled stories most like it. ``chosen`` (a story picked with
    ``--article``): every question is asked, labelled or not, and a question with human labels shows
    them (and whose they are) in place of the models' predictions, so accepting them agrees with
    them under your name and correcting starts from them."""
    article = store.article_with_outlet(db, article_id)
    mentions = mention_surfaces(db, article_id)
    labelled = set() if chosen else store.labelled_tasks(db, article_id)
    predictions: dict[tuple[str, str], list[Prediction]] = {}
    for task, target, label, probability, uncertain in store.article_classifications(db, article_id):
        predictions.setdefault((task, target), []).append(Prediction(label, probability, bool(uncertain)))
    questions = []
    for task in tasks:
        if task.name in labelled:
            continue
        if task.kind == "per_entity":
            targets = [e for e in task.entities if e in mentions or (task.name, e) in predictions]
        else:
            targets = [""]
        questions += [Question(task, target, predictions.get((task.name, target), [])) for target in targets]
    if chosen:
        current = human_labels(db, {task.name: task for task in tasks}, [article_id]).get(article_id, {})
        who = label_annotators(db, {task.name: task for task in tasks}, [article_id]).get(article_id, {})
        for question in questions:
            value = current.get(question.task.name)
            name = who.get(question.task.name)
            if question.task.kind == "per_entity":
                value = (value or {}).get(question.target)
                name = name.get(question.target) if isinstance(name, dict) else name
            if value:
                values = value if isinstance(value, list) else [value]
                question.predictions = [Prediction(label, None, False) for label in values]
                question.labelled = list(values) if question.task.kind == "multi_label" else []
                question.decided_by = name or ""
    revised = store.revised_since_labelled(db, article_id, [q.task.name for q in questions])
    if revised:  # the human topics given to the old text stay unless the new answer keeps them
        earlier = human_labels(db, {q.task.name: q.task for q in questions}, [article_id]).get(article_id, {})
        for question in questions:
            if question.task.kind == "multi_label":
                question.labelled = list(earlier.get(question.task.name) or [])
    title, body = article["title"], article["body"]
    similar = precedents.nearest(title or "", body or "", exclude=f"article {article_id}") if precedents else []
    return ArticleCard(article_id, title or "", article["outlet"], article["published_at"], article["canonical_url"],
                       lead_paragraphs(body), mentions, questions, similar, revised)


def _plain(text: str | None) -> str:
    """Stored text as the screen shows it: without control characters (``strip_controls``). Rich passes ESC,
    OSC, C1 and bidi controls through to the terminal; the crawler strips them from what it stores, but a name
    typed in the browser's correction form, a database from before that, or a team's corpus file may hold them."""
    from cuttings.redaction import strip_controls
    return strip_controls(text or "")


def render_card(card: ArticleCard, position: str = "") -> Panel:
    """The article as a rich panel. Crawled text goes in as ``Text``, never as markup, and without control
    characters (:func:`_plain`)."""
    lines: list[Any] = [Text(_plain(card.title) or "(no headline)", style="bold")]
    lines.append(Text(_plain(" · ".join(x for x in (card.outlet, card.published_at or "undated", card.url) if x)),
                      style="dim"))
    if card.revised:
        version, when = card.revised
        lines.append(Text(f"revised since it was labelled (version {version}, {when}): its labels apply until you "
                          f"answer again", style="yellow"))
    for paragraph in card.lead:
        lines += [Text(""), Text(_plain(paragraph))]
    lines.append(Text(""))
    if card.mentions:
        for entity_id, surfaces in card.mentions.items():
            lines.append(Text.assemble((f"{entity_id}: ", "cyan"), _plain(", ".join(surfaces))))
    else:
        lines.append(Text("no watched bodies mentioned", style="dim"))
    chosen = any(question.decided_by for question in card.questions)
    table = Table(title="labels" if chosen else "predictions", title_justify="left", show_header=True, expand=False)
    table.add_column("task")
    table.add_column("labelled, else predicted" if chosen else "predicted")
    for question in card.questions:
        if question.predictions:
            cell = Text(", ".join(f"{p.label} {p.probability:.2f}" if p.probability is not None else p.label
                                  for p in question.predictions))
            if any(p.uncertain for p in question.predictions):
                cell.append("  uncertain", style="yellow")
            if question.decided_by:
                cell.append(f"  labelled by {_plain(question.decided_by)}", style="green")
        else:
            cell = Text("no prediction", style="dim")
        table.add_row(Text(question.name), cell)
    lines += [Text(""), table]
    if card.precedents:
        lines += [Text(""), Text("labelled before, the most alike stories:", style="dim")]
        for precedent in card.precedents:
            lines.append(Text.assemble((f"{precedent.similarity:.0%} ", "dim"), _plain(precedent.title),
                                       (f"  ({_plain(precedent.source)})", "dim")))
            lines.append(Text(f"    {_plain(precedent.labels)}", style="cyan"))
    return Panel(Group(*lines), title=Text(f"article {card.article_id} {position}".strip()), title_align="left")


# --------------------------------------------------------------------------
# Precedents: how the most alike stories were labelled
# --------------------------------------------------------------------------

PRECEDENTS_SHOWN = 2
PRECEDENT_MIN_SIMILARITY = 0.7  # cosine of the static embeddings; the corpus's median nearest neighbour is 0.84


@dataclass
class Precedent:
    source: str       # "corpus t1-004" or "article 12"
    title: str
    labels: str       # "topics: governance, finance · stance_governance: against · tone: wm_pcc negative"
    similarity: float


def label_summary(record: dict, tasks: list[Task]) -> str:
    """A record's labels of ``tasks`` in one line (tasks it has no label for left out)."""
    parts = []
    for task in tasks:
        value = record.get(task.name)
        if not value:
            continue
        if task.kind == "multi_label":
            text = ", ".join(value)
        elif task.kind == "per_entity":
            text = ", ".join(f"{entity} {label}" for entity, label in value.items())
        else:
            text = str(value)
        parts.append(f"{task.name}: {text}")
    return " · ".join(parts)


class Precedents:
    """The labelled stories most like the one on screen, with their labels, so that a new label can
    follow how alike stories were labelled (consistent labels are what the models learn from; the
    slices of the seed corpus disagree most where alike stories got different labels). Similarity:
    cosine of the shipped static embeddings of the headline and lead. Labelled stories: the labelled
    corpus's records whose labels fit the label scheme (not the shipped seed corpus under a scheme of a
    team's own: :func:`cuttings.stages.foreign_seed_corpus`) and this database's human labels."""

    def __init__(self, records: list[dict], tasks: list[Task]):
        self.tasks = tasks
        self.entries: list[tuple[str, str, str]] = []  # (source, headline, labels)
        self.matrix = np.zeros((0, 0))
        self.add(records)

    def add(self, records: list[dict], replacing: Iterable[str] = ()) -> None:
        """Add labelled records (``source``, ``title``, ``body`` and the tasks' labels); a source
        already held is replaced (an article labelled again), and so are those in ``replacing``."""
        from nlp import embeddings
        replaced = {record["source"] for record in records} | set(replacing)
        keep = [i for i, entry in enumerate(self.entries) if entry[0] not in replaced]
        self.entries = [self.entries[i] for i in keep]
        self.matrix = self.matrix[keep] if len(keep) else np.zeros((0, 0))
        summaries = [label_summary(record, self.tasks) for record in records]
        records = [(record, summary) for record, summary in zip(records, summaries) if summary]
        if not records:
            return
        vectors = _unit_rows(embeddings.encode("static", [_similarity_text(record.get("title"), record.get("body"))
                                                          for record, _ in records]))
        self.entries += [(record["source"], store.normalise_text(record.get("title")) or "(no headline)", summary)
                         for record, summary in records]
        self.matrix = np.vstack([self.matrix, vectors]) if len(self.entries) > len(records) else vectors

    def add_articles(self, db, article_ids: Iterable[int] | None = None) -> None:
        """Add (or refresh) the database's human-labelled articles (of ``article_ids``; one whose labels
        for these tasks are gone leaves the precedents)."""
        self.add([{**labels, "source": f"article {article_id}", "title": article["title"], "body": article["body"]}
                  for article_id, labels, article in labelled_articles(db, {task.name: task for task in self.tasks},
                                                                       article_ids)],
                 replacing=[f"article {article_id}" for article_id in article_ids or ()])

    @classmethod
    def load(cls, db, tasks: list[Task], corpus_dir: str | Path | None = None,
             scheme: Scheme | None = None) -> "Precedents | None":
        """The corpus's and the database's labelled stories; None when the static embeddings are
        missing (the session then shows no precedents). ``scheme``: the label scheme the corpus
        must fit (default the user's)."""
        from cuttings import paths
        from nlp import embeddings
        from nlp.corpus import load_corpus
        try:
            embeddings.get_embedder("static")
        except embeddings.EmbeddingUnavailable:
            return None
        from cuttings.stages import foreign_seed_corpus
        records = []
        try:
            scheme = scheme or load_scheme(paths.config_file("label_scheme.toml"))
            # the shipped seed corpus under a team's own scheme: another area's stories labelled to another
            # scheme ("finance" as the shipped scheme means it), which train refuses too: no precedents of it
            if corpus_dir is None and foreign_seed_corpus(scheme):
                raise SchemeError("the shipped seed corpus is labelled to the shipped scheme")
            records += [{**record, "source": f"corpus {record['id']}"}
                        for record in load_corpus(corpus_dir or paths.corpus_dir(), scheme, skip_bad_records=True)]
        except (SchemeError, OSError, UnicodeDecodeError):
            pass  # no corpus, or not text: the database's labels only
        precedents = cls(records, tasks)
        precedents.add_articles(db)
        return precedents

    def nearest(self, title: str, body: str, exclude: str | None = None) -> list[Precedent]:
        """Up to ``PRECEDENTS_SHOWN`` labelled stories at least ``PRECEDENT_MIN_SIMILARITY`` alike."""
        from nlp import embeddings
        if not self.entries:
            return []
        vector = _unit_rows(embeddings.encode("static", [_similarity_text(title, body)]))[0]
        similarity = self.matrix @ vector
        found = []
        for index in np.argsort(-similarity):
            source, headline, labels = self.entries[index]
            if similarity[index] < PRECEDENT_MIN_SIMILARITY or len(found) == PRECEDENTS_SHOWN:
                break
            if source != exclude:
                found.append(Precedent(source, headline, labels, float(similarity[index])))
        return found


def _similarity_text(title: str | None, body: str | None) -> str:
    return "\n".join([title or "", *lead_paragraphs(body or "", paragraphs=3)])


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


# --------------------------------------------------------------------------
# Writing labels
# --------------------------------------------------------------------------

def save_labels(db, article_id: int, rows: Iterable[tuple[str, str, str]], annotator: str) -> int:
    """Insert (task, target, label) rows for one article in one transaction; returns the count."""
    return store.add_labels(db, [(article_id, task, target, label, annotator) for task, target, label in rows])


def answer_rows(question: Question, chosen: list[str]) -> list[tuple[str, str, str]]:
    """The ``labels`` rows for one answered question (multi-label: rejections of dropped predictions)."""
    rows = [(question.task.name, question.target, label) for label in chosen]
    if question.task.kind == "multi_label":
        # a predicted topic left out, or one a person gave before the text was revised: withdrawn
        dropped = [label for label in question.task.labels
                   if label not in chosen and (label in question.predicted or label in question.labelled)]
        rows += [(question.task.name, label, REJECTED) for label in dropped]
    return rows


# --------------------------------------------------------------------------
# The interactive session
# --------------------------------------------------------------------------

ENTER = ("\r", "\n")
ESCAPE = "\x1b"
_OPTION_KEYS = "1234567890bdefghijklmnoprtuvwxyz"

HELP_ARTICLE = """keys on an article:
  a  accept the predictions (stored as your labels)
  c  correct: choose the labels yourself
  s  skip this article (it stays unlabelled)
  q  quit (every answer so far is already saved)
  ?  this help
while correcting:"""


def help_text(tasks: list[Task]) -> str:
    """The screen's help (``?``) for the session's ``tasks``: what a label's key does in each kind of question
    the scheme has, naming its tasks (a key chooses a single-label or per-entity task's label at once; it
    toggles a multi-label task's, Enter confirms), so a scheme without topics (or tone) is told nothing of them."""
    chosen = [task.name for task in tasks if task.kind != "multi_label"]
    toggled = [task.name for task in tasks if task.kind == "multi_label"]
    lines = [HELP_ARTICLE]
    if chosen:
        lines.append(f"  1-9 ...  choose a label ({', '.join(chosen)})")
    if toggled:
        lines.append(f"  1-9 ...  toggle a label ({', '.join(toggled)}), Enter to confirm")
    lines += ["  Enter    keep the prediction shown as the default",
              "  Esc      abandon the correction and go back to the article",
              "keys sent together (a paste, tmux send-keys) count one by one"
              + ("; an Enter sent\nwith a label's key confirms that label" if chosen else "")]
    return "\n".join(lines)


@dataclass
class SessionSummary:
    shown: int = 0
    accepted: int = 0
    corrected: int = 0
    skipped: int = 0
    labels_written: int = 0
    remaining: int = 0


class _Cancel(Exception):
    """The analyst pressed Esc while correcting."""


def split_keys(chars: str) -> list[str]:
    """The keys in one read of the terminal. Keys sent together (tmux ``send-keys 3 Enter``, a paste, a
    fast typist) arrive in one read ("3\r"): each is a key of its own, in order. A Windows line end
    (CR LF) is one Enter; an escape sequence (an arrow or function key: ESC [ ... final byte, or ESC O and
    one character) is one key; ESC followed by anything else is Esc, then that."""
    keys: list[str] = []
    i = 0
    while i < len(chars):
        char = chars[i]
        if char == "\r" and chars[i + 1:i + 2] == "\n":
            keys.append("\r\n")
            i += 2
        elif char == ESCAPE and chars[i + 1:i + 2] == "[":
            end = i + 2
            while end < len(chars) and not "\x40" <= chars[end] <= "\x7e":
                end += 1
            keys.append(chars[i:end + 1])
            i = end + 1
        elif char == ESCAPE and chars[i + 1:i + 2] == "O" and i + 2 < len(chars):
            keys.append(chars[i:i + 3])
            i += 3
        else:
            keys.append(char)
            i += 1
    return ["\r" if key == "\r\n" else key for key in keys]


class KeyReader:
    """One key at a time from a reader of the terminal (``click.getchar``, which returns whatever one read
    holds): the keys of a burst (:func:`split_keys`) are handed out one by one. Ctrl-C and Ctrl-D inside a
    burst end the session as they do alone (click raises only for a read holding nothing else)."""

    def __init__(self, read: Callable[[], str]):
        self._read = read
        self._pending: list[str] = []

    def __call__(self) -> str:
        while not self._pending:
            self._pending = split_keys(self._read())
        key = self._pending.pop(0)
        if key == "\x03":
            raise KeyboardInterrupt
        if key == "\x04":
            raise EOFError
        return key

    def take_enter(self) -> bool:
        """Take an Enter sent in the same burst as the key just read (a person typing "3 Enter" to choose a
        label means the one choice: the Enter is not the next question's "keep the prediction")."""
        if self._pending and self._pending[0] in ENTER:
            self._pending.pop(0)
            return True
        return False


def _option_key(index: int) -> str:
    return _OPTION_KEYS[index]


def _ask_question(question: Question, read_key: Callable[[], str], console: Console) -> list[str]:
    """Ask one question with single keys; returns the chosen labels."""
    task = question.task
    if len(task.labels) > len(_OPTION_KEYS):
        raise LabellingError(f"task {task.name} has more labels than the screen has keys")
    multi = task.kind == "multi_label"
    chosen = list(question.predicted) if multi else []
    default = question.predicted[0] if question.predicted and not multi else None
    while True:
        options = Text.assemble((f"{question.name}: ", "bold"))
        for index, label in enumerate(task.labels):
            marked = label in chosen if multi else label == default
            options.append(f" {_option_key(index)} ", style="reverse" if marked else "bold")
            options.append(f"{label} ")
        console.print(options)
        if multi:
            console.print(Text(f"selected: {', '.join(chosen) or 'nothing'}; toggle with the keys, "
                               "Enter to confirm, Esc to go back", style="dim"))
        else:
            console.print(Text("press a key" + (f", Enter keeps {default}" if default else "") + ", Esc to go back",
                               style="dim"))
        key = read_key()
        if key == ESCAPE:
            raise _Cancel
        if key in ENTER:
            if multi and chosen:
                return [label for label in task.labels if label in chosen]
            if default:
                return [default]
            console.print(Text("choose at least one label first", style="yellow"))
            continue
        position = _OPTION_KEYS.find(key.lower()) if len(key) == 1 else -1
        if not 0 <= position < len(task.labels):
            console.print(Text(f"no label on key {key!r}", style="yellow"))
            continue
        label = task.labels[position]
        if not multi:
            if isinstance(read_key, KeyReader):
                read_key.take_enter()
            return [label]
        if label in chosen:
            chosen.remove(label)
        elif label == task.exclusive:
            chosen = [label]
        else:
            chosen = [c for c in chosen if c != task.exclusive] + [label]


def run_session(db, tasks: list[Task], annotator: str, *, read_key: Callable[[], str],
                console: Console | None = None, limit: int | None = None,
                articles: list[int] | None = None,
                progress: Callable[[str], contextlib.AbstractContextManager] | None = None) -> SessionSummary:
    """Show the least certain unlabelled articles one by one and record the analyst's answers,
    each with how the most alike labelled stories were labelled (``Precedents``). ``articles``:
    these stories instead, in this order, labelled or not (:func:`load_card`'s ``chosen``).
    ``progress(description)``: a context the start's one long step (loading the precedents: the
    embedding model, the corpus) runs in (the CLI's progress line on stderr).

    ``read_key`` returns what one read of the terminal holds (``click.getchar`` on a terminal; a scripted
    callable in tests): one key, or several sent together, taken one by one (:class:`KeyReader`).
    Ctrl-C or Ctrl-D end the session like ``q``.
    """
    console = console or Console()
    read_key = read_key if isinstance(read_key, KeyReader) else KeyReader(read_key)
    summary = SessionSummary()
    queue = candidates(db, tasks, limit) if articles is None else [Candidate(a, False, None) for a in articles]
    if not queue:
        console.print(Text("nothing to label: every story has a human label for "
                           + ", ".join(t.name for t in tasks)))
        return summary
    record_scheme_tasks(db)   # the labels given now are this scheme's
    with (progress or (lambda _description: contextlib.nullcontext()))("loading the labelled stories to compare with"):
        precedents = Precedents.load(db, tasks)
    prompt = Text.assemble(("a", "bold"), " accept  ", ("c", "bold"), " correct  ", ("s", "bold"), " skip  ",
                           ("q", "bold"), " quit  ", ("?", "bold"), " help")
    try:
        for number, candidate in enumerate(queue, start=1):
            card = load_card(db, candidate.article_id, tasks, precedents, chosen=articles is not None)
            summary.shown += 1
            console.print(render_card(card, f"({number} of {len(queue)})"))
            while True:
                console.print(prompt)
                key = read_key().lower()
                if key == "q":
                    summary.remaining = len(queue) - number + 1
                    return summary
                if key == "?":
                    console.print(Text(help_text(tasks)))
                elif key == "s":
                    summary.skipped += 1
                    break
                elif key == "a":
                    missing = [q.name for q in card.questions if not q.predictions]
                    if missing:
                        console.print(Text(f"no prediction for {', '.join(missing)}: press c to choose labels",
                                           style="yellow"))
                        continue
                    rows = [row for q in card.questions for row in answer_rows(q, q.predicted)]
                    summary.labels_written += save_labels(db, card.article_id, rows, annotator)
                    if precedents:
                        precedents.add_articles(db, [card.article_id])
                    summary.accepted += 1
                    console.print(Text(f"saved {counted(len(rows), 'label')}", style="green"))
                    break
                elif key == "c":
                    try:
                        rows = [row for q in card.questions
                                for row in answer_rows(q, _ask_question(q, read_key, console))]
                    except _Cancel:
                        console.print(Text("correction abandoned", style="yellow"))
                        continue
                    summary.labels_written += save_labels(db, card.article_id, rows, annotator)
                    if precedents:
                        precedents.add_articles(db, [card.article_id])
                    summary.corrected += 1
                    console.print(Text(f"saved {counted(len(rows), 'label')}", style="green"))
                    break
                else:
                    console.print(Text(f"unknown key {key!r}: press ? for help", style="yellow"))
    except (KeyboardInterrupt, EOFError):
        summary.remaining = len(queue) - summary.accepted - summary.corrected - summary.skipped
    return summary


# --------------------------------------------------------------------------
# Reading the human labels back, JSONL export and import
# --------------------------------------------------------------------------

def human_labels(db, tasks: dict[str, Task], article_ids: Iterable[int] | None = None) -> dict[int, dict]:
    """The current human labels per article in record form: ``{task: value, "annotator": ...}``
    (multi-label: list; single-label: str; per-entity: {entity: label}). Later rows win;
    a rejection row cancels an earlier human row of that topic. Labels the scheme does not have
    are left out (:func:`labels_outside_scheme` lists them)."""
    state: dict[int, dict] = {}
    for article_id, task_name, target, label, annotator in store.human_label_rows(db, article_ids):
        task = tasks.get(task_name)
        if task is None:
            continue
        rec = state.setdefault(article_id, {"_multi": {}})
        rec["annotator"] = annotator
        if task.kind == "multi_label":
            flags = rec["_multi"].setdefault(task_name, {})
            if label == REJECTED:
                if target:
                    flags[target] = False
            elif not target:
                flags[label] = True
        elif label not in task.labels or task.kind == "per_entity" and target not in task.entities:
            # a label or body the scheme no longer has (labels_outside_scheme): it supersedes the
            # labels before it, and is left out
            if task.kind == "per_entity":
                rec.get(task_name, {}).pop(target, None)
            else:
                rec.pop(task_name, None)
            continue
        elif task.kind == "per_entity":
            rec.setdefault(task_name, {})[target] = label
        else:
            rec[task_name] = label
    result = {}
    for article_id, rec in state.items():
        for task_name, flags in rec.pop("_multi").items():
            chosen = [label for label in tasks[task_name].labels if flags.get(label)]
            if chosen:
                rec[task_name] = chosen
        if any(name in rec for name in tasks):
            result[article_id] = rec
    return result


def label_annotators(db, tasks: dict[str, Task], article_ids: Iterable[int] | None = None) -> dict[int, dict]:
    """Who gave each current human label, per article, in the record's shape: ``{task: name}``
    (per-entity: ``{task: {entity: name}}``; multi-label: the person who last changed the task's
    topics). The later row wins, as in :func:`human_labels`; tasks outside ``tasks`` are left out."""
    who: dict[int, dict] = {}
    for article_id, task_name, target, _label, annotator in store.human_label_rows(db, article_ids):
        task = tasks.get(task_name)
        if task is None:
            continue
        names = who.setdefault(article_id, {})
        if task.kind == "per_entity":
            names.setdefault(task_name, {})[target] = annotator
        else:
            names[task_name] = annotator
    return who


def label_times(db, tasks: dict[str, Task], article_ids: Iterable[int] | None = None) -> dict[int, dict]:
    """When each current human label was given (``created_at``), per article, in the shape of
    :func:`label_annotators` (multi-label: the task's latest row): what ``--export`` writes as
    ``labelled_at``, so that an import elsewhere can tell a label from before a withdrawal."""
    times: dict[int, dict] = {}
    for article_id, task_name, target, _label, _annotator, at in store.human_label_rows_at(db, article_ids):
        task = tasks.get(task_name)
        if task is None:
            continue
        entry = times.setdefault(article_id, {})
        if task.kind == "per_entity":
            entry.setdefault(task_name, {})[target] = at
        else:
            entry[task_name] = at
    return times


def labelled_articles(db, tasks: dict[str, Task], article_ids: Iterable[int] | None = None
                      ) -> list[tuple[int, dict, dict]]:
    """(article id, its human labels as :func:`human_labels` resolves them, the stored article as
    ``store.article_text`` gives it) for every human-labelled article (of ``article_ids``), by id."""
    labelled = human_labels(db, tasks, article_ids)
    articles = store.articles_text(db, labelled)
    return [(article_id, labelled[article_id], articles[article_id]) for article_id in sorted(labelled)
            if article_id in articles]


def labelled_records(db, tasks: dict[str, Task], left_out: list[int] | None = None) -> list[dict]:
    """Training records (the corpus's form) for every article whose human labels answer all the
    article-level tasks, labels resolved as :func:`human_labels` resolves them; ``entities`` are
    the surfaces of the article's stored mentions. ``left_out``, given, gets the ids of the labelled
    articles that are not records (an article-level task unanswered: a tone labelled alone)."""
    required = [name for name, task in tasks.items() if task.kind != "per_entity"]
    empty = {"multi_label": list, "per_entity": dict}
    records = []
    for article_id, labels, article in labelled_articles(db, tasks):
        if not all(labels.get(name) for name in required):
            if left_out is not None:
                left_out.append(article_id)
            continue
        record = {"id": f"db-{article_id}", "title": article["title"], "body": article["body"],
                  "date": article["published_at"], "source_region": article["source_region"],
                  "entities": mention_surfaces(db, article_id)}
        for name, task in tasks.items():
            record[name] = labels.get(name, empty.get(task.kind, lambda: None)())
        records.append(record)
    return records


def labels_outside_scheme(db, tasks: dict[str, Task]) -> dict[int, dict[str, list[str]]]:
    """Current human labels the scheme does not have (a topic or task since removed from it, a tone
    for a body it no longer rates), per article: ``{task: [label, or "entity=label" for per-entity]}``.
    Current as :func:`human_labels` reads them: the latest of a single-label or per-entity task's
    (body's) labels, a topic not rejected since. They stay in the database; :func:`export_labels`
    carries them."""
    from cuttings.store.labels import QUOTE_TASKS
    latest: dict[tuple[int, str, str], str] = {}          # single-label / per-entity: the latest label
    given: dict[tuple[int, str], dict[str, bool]] = {}    # topics (and unknown tasks): given, not rejected
    for article_id, task_name, target, label, _annotator in store.human_label_rows(db):
        task = tasks.get(task_name)
        if task_name in QUOTE_TASKS:
            continue
        if task is not None and task.kind != "multi_label" or task is None and target and label != REJECTED:
            latest[(article_id, task_name, target or "")] = label   # (a removed task's labels of a body too)
        elif label == REJECTED:
            given.setdefault((article_id, task_name), {})[target] = False
        elif not target:
            given.setdefault((article_id, task_name), {})[label] = True
    outside: dict[int, dict[str, list[str]]] = {}
    for (article_id, task_name, target), label in latest.items():
        task = tasks.get(task_name)
        if label != REJECTED and (task is None or label not in task.labels
                                  or task.kind == "per_entity" and target not in task.entities):
            outside.setdefault(article_id, {}).setdefault(task_name, []).append(f"{target}={label}" if target else label)
    for (article_id, task_name), flags in given.items():
        task = tasks.get(task_name)
        gone = [label for label, kept in flags.items() if kept and (task is None or label not in task.labels)]
        if gone:
            outside.setdefault(article_id, {}).setdefault(task_name, []).extend(gone)
    return outside


def export_labels(db, path: str | Path | IO[str], tasks: dict[str, Task]) -> tuple[int, int]:
    """Write every human-labelled article as one JSONL record (corpus format) to ``path`` (or an open
    text stream: standard output for ``--export -``); returns the count of
    records and of labels outside the scheme. Those (``labels_outside_scheme``) go in a record's
    ``outside_scheme`` field, which import and training ignore, so the file loses nothing; an article
    labelled only outside the scheme gets a record too. Corrections of a quote's speaker or body go in
    ``quote_corrections`` (the quote by its words, which import finds again), training ignores them.
    ``labelled_at`` says when each label was given (as ``annotators`` says by whom) and ``withdrawn`` the
    latest withdrawal of each task (``{task: {"annotator", "at"}}``; an article whose labels were all
    withdrawn gets a record for it): an import elsewhere replays the withdrawals, and brings back no label
    given before a withdrawal it has (:func:`import_labels`); ``withdrawn_quotes`` the latest withdrawal of
    each quote's corrections (``--unlabel --quote``: ``[{"task", "quote", "place", "annotator", "at"}]``, the
    quote by its words as ``quote_corrections``), which an import elsewhere replays on that quote only."""
    count = 0
    outside = labels_outside_scheme(db, tasks)
    corrections: dict[int, list[dict]] = {}
    withdrawn_quotes: dict[int, list[dict]] = {}
    for fix in store.quote_corrections(db):
        if fix.words is not None:  # (None: a correction m029 found no quote for; nothing to find it by)
            entry = {"task": fix.task, "quote": fix.words, "place": fix.target, "label": fix.label,
                     "annotator": fix.annotator, "at": fix.created_at}
            if not fix.found:   # its quote is gone here: another database may still have it
                entry["orphaned"] = True
            corrections.setdefault(fix.article_id, []).append(entry)
    withdrawn = {article_id: {task: {"annotator": who, "at": at} for task, (who, at) in found.items()
                              if task in tasks or task in store.QUOTE_TASKS}
                 for article_id, found in store.withdrawals(db).items()}
    withdrawn = {article_id: found for article_id, found in withdrawn.items() if found}
    for gone in store.quote_withdrawals(db):   # one quote's corrections withdrawn: by its words, as corrections
        if gone.words is not None:
            withdrawn_quotes.setdefault(gone.article_id, []).append(
                {"task": gone.task, "quote": gone.words, "place": gone.target, "annotator": gone.annotator,
                 "at": gone.created_at})
    labelled = {article_id: (rec, article) for article_id, rec, article in labelled_articles(db, tasks)}
    only_outside = [article_id for article_id in dict.fromkeys([*outside, *corrections, *withdrawn, *withdrawn_quotes])
                    if article_id not in labelled]
    extra = store.articles_text(db, only_outside)
    for article_id in only_outside:
        if article_id in extra:
            labelled[article_id] = ({"annotator": None}, extra[article_id])
    annotators = label_annotators(db, tasks)
    times = label_times(db, tasks)
    with (contextlib.nullcontext(path) if hasattr(path, "write")
          else paths.output_file(path).open("w", encoding="utf-8")) as handle:
        for article_id in sorted(labelled):
            rec, article = labelled[article_id]
            record = {"id": f"db-{article_id}", "url": article["canonical_url"], "site": article["source_id"],
                      "title": article["title"], "body": article["body"],
                      "date": article["published_at"][:10] if article["published_at"] else None,
                      "entities": mention_surfaces(db, article_id)}
            for task in tasks.values():
                record[task.name] = rec.get(task.name, {} if task.kind == "per_entity" else None)
            record["annotator"] = rec["annotator"]
            names = annotators.get(article_id, {})
            record["annotators"] = {name: {target: who for target, who in value.items() if target in rec[name]}
                                    if isinstance(value, dict) else value
                                    for name, value in names.items() if name in rec}
            given = times.get(article_id, {})
            record["labelled_at"] = {name: {target: at for target, at in value.items() if target in rec[name]}
                                     if isinstance(value, dict) else value
                                     for name, value in given.items() if name in rec}
            if article_id in withdrawn:
                record["withdrawn"] = withdrawn[article_id]
            if article_id in withdrawn_quotes:
                record["withdrawn_quotes"] = withdrawn_quotes[article_id]
            if article_id in outside:
                record["outside_scheme"] = outside[article_id]
            if article_id in corrections:
                record["quote_corrections"] = corrections[article_id]
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count, sum(len(values) for labels in outside.values() for values in labels.values())


def validate_record(raw: Any, tasks: dict[str, Task], where: str) -> dict:
    """The labels of one import record as {task: value}; raises LabellingError naming ``where``."""
    if not isinstance(raw, dict):
        raise LabellingError(f"{where}: not a JSON object")
    labels: dict[str, Any] = {}
    for task in tasks.values():
        value = raw.get(task.name)
        if value is None or value == {} and task.kind == "per_entity":
            continue
        try:
            labels[task.name] = check_label(task, value, where)
        except SchemeError as exc:
            raise LabellingError(str(exc)) from None
    for key in ("url", "canonical_url"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise LabellingError(f"{where}: {key} must be a string (the story's address), not {type(raw[key]).__name__}")
    _clean_names(raw)
    annotator = raw.get("annotator")
    if annotator is not None and (not isinstance(annotator, str) or not annotator.strip()):
        raise LabellingError(f"{where}: annotator must be a non-empty string")
    fixes = raw.get("quote_corrections")
    if fixes is not None and not (isinstance(fixes, list) and all(
            isinstance(fix, dict) and fix.get("task") in store.QUOTE_TASKS and isinstance(fix.get("quote"), str)
            and fix["quote"].strip() and isinstance(fix.get("label"), str)
            and (fix["label"].strip() or fix["task"] == "quote_entity")
            and (fix.get("annotator") is None or isinstance(fix["annotator"], str) and fix["annotator"].strip())
            and (fix.get("place") is None or isinstance(fix["place"], str))
            for fix in fixes)):
        raise LabellingError(f"{where}: quote_corrections must be a list of {{task ({', '.join(store.QUOTE_TASKS)}), "
                             f"quote (its words), place (start:end), label, annotator}}")
    if not _is_time(raw.get("_labelled_at"), none_ok=True):
        raise LabellingError(f"{where}: labelled_at must be a time as cuttings export writes it "
                             f"(2026-11-20T08:00:00Z), or empty")
    withdrawn = raw.get("withdrawn")
    if withdrawn is not None and not (isinstance(withdrawn, dict) and all(
            (task in tasks or task in store.QUOTE_TASKS) and isinstance(value, dict) and _is_time(value.get("at"))
            and (value.get("annotator") is None or isinstance(value["annotator"], str) and value["annotator"].strip())
            for task, value in withdrawn.items())):
        raise LabellingError(f"{where}: withdrawn must map each task of the label scheme (or {', '.join(store.QUOTE_TASKS)}) "
                             f"to {{annotator, at}} (at: 2026-11-20T08:00:00Z)")
    gone = raw.get("withdrawn_quotes")
    if gone is not None and not (isinstance(gone, list) and all(
            isinstance(value, dict) and value.get("task") in store.QUOTE_TASKS and isinstance(value.get("quote"), str)
            and value["quote"].strip() and (value.get("place") is None or isinstance(value["place"], str))
            and _is_time(value.get("at"))
            and (value.get("annotator") is None or isinstance(value["annotator"], str) and value["annotator"].strip())
            for value in gone)):
        raise LabellingError(f"{where}: withdrawn_quotes must be a list of {{task ({', '.join(store.QUOTE_TASKS)}), "
                             f"quote (its words), place (start:end), annotator, at (2026-11-20T08:00:00Z)}}")
    times = raw.get("labelled_at")
    if times is not None and not (isinstance(times, dict) and all(
            _is_time(value) or isinstance(value, dict) and all(_is_time(v) for v in value.values())
            for value in times.values())):
        raise LabellingError(f"{where}: labelled_at must map each task to a time (a per-body task such as tone: a "
                             f"time, or each body to a time; 2026-11-20T08:00:00Z)")
    if fixes and not all(_is_time(fix.get("at"), none_ok=True) for fix in fixes):
        raise LabellingError(f"{where}: quote_corrections: at must be a time (2026-11-20T08:00:00Z)")
    names = raw.get("annotators")
    if names is not None:
        def is_name(value: Any) -> bool:
            return isinstance(value, str) and bool(value.strip())
        if not isinstance(names, dict) or not all(
                is_name(value) or isinstance(value, dict) and all(is_name(v) for v in value.values())
                for value in names.values()):
            raise LabellingError(f"{where}: annotators must map each task to a name (a per-body task such as tone: a "
                                 f"name, or each body to a name)")
    _check_not_ahead(raw, where)
    return labels


_TIME = re.compile(r"[0-9]{4}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# How far after this machine's clock a time in a file may be: a clock some minutes fast, or a time zone's hours
# (at most 14) written as UTC. "The newest labelled_at wins", so a label stamped years ahead would win over every
# later answer to its question, in every database its file reaches: refused (:func:`_check_not_ahead`).
FUTURE_TOLERANCE = dt.timedelta(days=1)


def _clean_names(raw: dict) -> None:
    """The record's names of people (``annotator``, ``annotators``, each quote correction's ``annotator``, a
    ``quote_speaker`` correction's speaker) without control characters (``strip_controls``: terminal escapes,
    bidi overrides), as crawled text is stored: a name from a file is shown on the label screen, by ``--unlabel``,
    and (a speaker) in the quote views, exports, the digest and the story page. A name that was only such
    characters is then empty, and refused as one."""
    from cuttings.redaction import strip_controls

    def clean(value: Any) -> Any:
        return strip_controls(value) if isinstance(value, str) else value
    if "annotator" in raw:
        raw["annotator"] = clean(raw["annotator"])
    if isinstance(raw.get("annotators"), dict):
        raw["annotators"] = {task: {target: clean(name) for target, name in value.items()}
                             if isinstance(value, dict) else clean(value) for task, value in raw["annotators"].items()}
    for fix in raw.get("quote_corrections") or [] if isinstance(raw.get("quote_corrections"), list) else []:
        if isinstance(fix, dict) and "annotator" in fix:
            fix["annotator"] = clean(fix["annotator"])
        if isinstance(fix, dict) and fix.get("task") == "quote_speaker":   # the speaker's name, shown everywhere
            fix["label"] = clean(fix.get("label"))
    for value in (raw.get("withdrawn") or {}).values() if isinstance(raw.get("withdrawn"), dict) else []:
        if isinstance(value, dict) and "annotator" in value:
            value["annotator"] = clean(value["annotator"])


def _is_time(value: Any, none_ok: bool = False) -> bool:
    """An ISO UTC time as the store writes it (``2026-11-20T08:00:00Z``), the form times compare in, and one the
    calendar has (not 2026-02-30 nor 24:00:00)."""
    if value is None:
        return none_ok
    if not isinstance(value, str) or _TIME.fullmatch(value) is None:
        return False
    try:
        dt.datetime.strptime(value, TIME_FORMAT)
    except ValueError:
        return False
    return True


def _record_times(raw: dict) -> list[tuple[str, str]]:
    """Every time a (validated) record gives: ``(the field's name, the time)``."""
    times = [("labelled_at", raw["_labelled_at"])] if isinstance(raw.get("_labelled_at"), str) else []
    for task, value in (raw.get("labelled_at") or {}).items():
        values = value.values() if isinstance(value, dict) else [value]
        times += [(f"labelled_at of {task}", each) for each in values]
    times += [(f"withdrawn {task} at", value["at"]) for task, value in (raw.get("withdrawn") or {}).items()]
    times += [("quote_corrections at", fix["at"]) for fix in raw.get("quote_corrections") or [] if fix.get("at")]
    return times


def _check_not_ahead(raw: dict, where: str) -> None:
    """Raise LabellingError naming ``where`` for a time in the record more than :data:`FUTURE_TOLERANCE` after
    now (``store.utcnow``)."""
    now = store.utcnow()
    limit = (dt.datetime.strptime(now, TIME_FORMAT) + FUTURE_TOLERANCE).strftime(TIME_FORMAT)
    for name, value in _record_times(raw):
        if value > limit:
            raise LabellingError(f"{where}: {name} {value} is more than a day ahead of now ({now}): the newest "
                                 f"label wins, so a time from the future would win over every later answer; correct "
                                 f"it (UTC) or leave it out")


STORY_EXPORT_ROLES = (("topics", "multi_label"), ("stance", "single_label"), ("tone", "per_entity"))


def is_story_export(raw: Any) -> bool:
    """A record ``cuttings export --format jsonl`` wrote (a story: ``article_id``, and its labels under the
    names ``topics``, ``stance``, ``tone``), not a label file's (``id``, the scheme's task names)."""
    return isinstance(raw, dict) and "article_id" in raw and "id" not in raw


def from_story_export(raw: dict, tasks: dict[str, Task], where: str) -> dict:
    """A ``cuttings export`` record as a label record: ``topics``, ``stance`` and ``tone`` under the names of
    the scheme's multi-label, single-label and per-entity tasks (whatever the scheme calls them, as the
    export names them); ``url`` and ``article_id`` find the story. Everything else it carries (the
    ``*_uncertain`` flags, ``human_corrected``, quotes, text) is not a label and is left out; so is an
    empty value (``[]``, ``null``, ``{}``: the story has none)."""
    article_id = raw.get("article_id")
    if not (isinstance(article_id, int) and not isinstance(article_id, bool)) and not raw.get("url"):
        raise LabellingError(f"{where}: article_id must be a number (the story's id, as cuttings export writes it)")
    record: dict[str, Any] = {"url": raw.get("url"), "article_id": article_id, "_outside": {},
                              # when its story's human labels last changed as the export saw them (None: it had
                              # none); an export from before cuttings wrote it has no such key
                              "_labelled_at": raw.get("labelled_at") or None, "_timed": "labelled_at" in raw}
    for field_name, kind in STORY_EXPORT_ROLES:
        task, value = task_of_kind(tasks, kind), raw.get(field_name)
        if task is None or value in (None, [], {}, ""):
            continue
        # a label the scheme no longer has (a topic or body since removed from it) is exported where a story
        # still has one: it stays out of the check here, and is an error at import only if it was changed
        outside: Any = None
        if kind == "multi_label" and isinstance(value, list):
            outside = [label for label in value if label not in task.labels]
            value = [label for label in value if label in task.labels] if outside else value
        elif kind == "per_entity" and isinstance(value, dict):
            outside = {entity: label for entity, label in value.items()
                       if entity not in task.entities or label not in task.labels}
            value = {entity: label for entity, label in value.items() if entity not in outside}
        elif kind == "single_label" and isinstance(value, str) and value not in task.labels:
            outside, value = value, None
        named = dataclasses.replace(task, name=field_name)   # messages name the file's field: "stance label 'maybe'"
        if outside:
            record["_outside"][task.name] = (named, raw[field_name], outside)
        if value not in (None, [], {}):
            try:
                record[task.name] = check_label(named, value, where)
            except SchemeError as exc:
                raise LabellingError(str(exc)) from None
    return record


def _looks_like_csv(text: str) -> bool:
    """Standard input that is a CSV export, not JSON Lines: a first line that is no JSON object but names
    ``article_id`` (the export's header)."""
    first = next((line for line in text.removeprefix("\ufeff").splitlines() if line.strip()), "")
    return not first.lstrip().startswith("{") and "article_id" in first


def _cell_text(value: Any) -> str:
    """An XLSX cell as the CSV would hold it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


# The columns of an XLSX file's header read (`cuttings export` writes some 30); a cell further right is not read.
SHEET_MAX_COLUMNS = 256
# An XLSX part (an XML file in its zip) that unpacks to more than this many times its packed size, and to more
# than XLSX_RATIO_FROM_BYTES, is refused before openpyxl reads it (a zip bomb: openpyxl reads every shared string
# at load, 12 us each, so 5 MB of file unpacking to 2 GB took half an hour); the XML of a real sheet packs 5 to
# 20 times. So is a file whose parts unpack to more than XLSX_MAX_UNPACKED_BYTES in all: a CSV reads any size.
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM_BYTES = 10 * 2**20
XLSX_MAX_UNPACKED_BYTES = 512 * 2**20


def _check_unpacked_sizes(path: Path) -> None:
    """Raise LabellingError for an XLSX file whose parts unpack too far (:data:`XLSX_MAX_RATIO`,
    :data:`XLSX_MAX_UNPACKED_BYTES`), from the sizes its zip directory gives (zipfile reads no more of a part than
    its stated size). A file that is no zip is left to openpyxl's message."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    advice = "save it as CSV and import that"
    for part in parts:
        if part.file_size > XLSX_RATIO_FROM_BYTES and part.file_size > XLSX_MAX_RATIO * max(part.compress_size, 1):
            raise LabellingError(f"{path}: its part {_shown(part.filename)} unpacks to {part.file_size / 2**20:,.0f} MB "
                                 f"from {part.compress_size / 2**10:,.0f} KB, no spreadsheet's XML (a zip bomb?): "
                                 f"{advice}")
    total = sum(part.file_size for part in parts)
    if total > XLSX_MAX_UNPACKED_BYTES:
        raise LabellingError(f"{path}: its parts unpack to {total / 2**20:,.0f} MB, over "
                             f"{XLSX_MAX_UNPACKED_BYTES // 2**20} MB: {advice}")


def _read_sheet(path: Path) -> list[list[str]]:
    """The rows of an XLSX export's ``stories`` sheet (else its first) as a CSV's cells, read as far as its cells
    go, not as far as the sheet's dimension claims (``A1:XFD20002`` padded every row to 16,384 cells: a 106 KB
    file took 52 s and 2.7 GB): the rows up to the header (the first not blank) as far as
    :data:`SHEET_MAX_COLUMNS`, the header to its last cell not blank, each row below it to one cell further (a
    cell there is refused as under no column) and without its blank cells at the end. An error of openpyxl's
    (no workbook, invalid XML, an entity bomb refused by defusedxml) is one line, and so is a zip bomb, before
    it is unpacked (:func:`_check_unpacked_sizes`)."""
    _check_unpacked_sizes(path)
    try:
        from openpyxl import load_workbook
        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook["stories"] if "stories" in workbook.sheetnames else workbook.worksheets[0]
            sheet.reset_dimensions()
            table: list[list[str]] = []
            for row in sheet.iter_rows(min_row=1, max_col=SHEET_MAX_COLUMNS, values_only=True):
                table.append(_row_cells(row))
                if table[-1]:
                    break
            if not table or not table[-1]:
                return []
            width = len(table[-1])
            for row in sheet.iter_rows(min_row=len(table) + 1, max_col=width + 1, values_only=True):
                table.append(_row_cells(row))
            return table
        finally:
            workbook.close()
    except Exception as exc:   # openpyxl raises many kinds for a file that is no workbook
        detail = " ".join((str(exc).strip().splitlines() or [type(exc).__name__])[0].split())
        raise LabellingError(f"cannot read {path} as an XLSX workbook ({detail[:200]}): save it as CSV and import "
                             f"that") from None


def _row_cells(row: tuple) -> list[str]:
    """One XLSX row as a CSV's cells, without its blank cells at the end (the sheet's padding)."""
    cells = [_cell_text(value) for value in row]
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def _shown(text: str, limit: int = 60) -> str:
    """A cell's text as an error line quotes it: its repr (escapes visible), at most ``limit`` characters of it."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f" ... ({len(text):,} characters)"


def _unguarded(text: str) -> str:
    """A CSV cell without the apostrophe the export put before text a spreadsheet would run as a formula."""
    from cuttings.redaction import formula_like
    return text[1:] if text.startswith("'") and formula_like(text[1:]) else text


def read_story_table(db, path: str | Path, text: str | None = None) -> list[tuple[int, dict]]:
    """The rows of a ``cuttings export --format csv`` file (or ``.xlsx``: its ``stories`` sheet), each as
    the story export record ``--format jsonl`` writes (``article_id``, ``url``, ``topics`` a list from the
    comma-separated cell, ``stance``, ``tone`` an object from its JSON cell, ``labelled_at``), with its line
    (row) number. A column the export has not (``cuttings.export.export_columns``), a file without ``article_id`` or
    ``url``, an ``article_id`` that is no number or a ``tone`` that is no JSON object raise LabellingError
    naming the file (and line); an empty cell is no label (a cleared stance withdraws nothing:
    ``cuttings label --unlabel`` does). ``text``: standard input's content."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx" and text is None:
        table = _read_sheet(path)
    else:
        import csv
        import io
        try:
            content = path.read_text(encoding="utf-8-sig") if text is None else text.removeprefix("\ufeff")
        except (OSError, UnicodeDecodeError) as exc:
            raise LabellingError(f"cannot read {path}: {exc} (save it as CSV UTF-8)") from None
        try:   # rows end at CR or LF only: str.splitlines also ends one at U+2028, U+2029, which a headline may hold
            table = list(csv.reader(io.StringIO(content, newline="")))
        except csv.Error as exc:
            raise LabellingError(f"{path}: not a CSV file: {exc}") from None
    while table and not any(cell.strip() for cell in table[0]):
        table.pop(0)
    if not table:
        return []
    header = [cell.strip() for cell in table[0]]
    twice = [column for column in dict.fromkeys(header) if column and header.count(column) > 1]
    if twice:
        raise LabellingError(f"{path}: {noun(len(twice), 'column')} {', '.join(_shown(c) for c in twice)} "
                             f"more than once: which of them is the story's? Keep one")
    from cuttings.export import export_columns
    known = export_columns(db)
    unknown = [column for column in header if column not in known]
    if unknown:
        named = ", ".join(_shown(column) for column in unknown[:5]) + (f" and {len(unknown) - 5} more"
                                                                       if len(unknown) > 5 else "")
        raise LabellingError(f"{path}: unknown {noun(len(unknown), 'column')} {named}: label --import "
                             f"reads the columns cuttings export --format csv writes")
    if "article_id" not in header and "url" not in header:
        raise LabellingError(f"{path}: no article_id or url column: label --import needs one to find each story")
    rows = []
    for line_no, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        where = f"{path}:{line_no}"
        if len(cells) > len(header):
            raise LabellingError(f"{where}: {counted(len(cells), 'cell')} under {counted(len(header), 'column')}")
        cell = dict(zip(header, [_unguarded(value.strip()) for value in cells]))
        raw: dict[str, Any] = {"url": cell.get("url") or None}
        if cell.get("article_id"):
            if not re.fullmatch(r"[0-9]+", cell["article_id"]):
                raise LabellingError(f"{where}: article_id must be a number (the story's id, as cuttings export "
                                     f"writes it), not {_shown(cell['article_id'])}")
            raw["article_id"] = int(cell["article_id"])
        else:
            raw["article_id"] = None
        if "topics" in cell:
            raw["topics"] = [topic.strip() for topic in cell["topics"].split(",") if topic.strip()]
        if "stance" in cell:
            raw["stance"] = cell["stance"] or None
        if "tone" in cell:
            try:
                tone = json.loads(cell["tone"]) if cell["tone"] else {}
            except (ValueError, RecursionError):
                tone = None
            if not isinstance(tone, dict):
                raise LabellingError(f"{where}: tone must be a JSON object of body: tone, as cuttings export "
                                     f"writes it ({{\"hwfrs\": \"negative\"}}), not {_shown(cell['tone'])}")
            raw["tone"] = tone
        if "labelled_at" in cell:
            raw["labelled_at"] = cell["labelled_at"] or None
        rows.append((line_no, raw))
    return rows


def _check_outside_unchanged(record: dict, tasks: dict[str, Task], shown: dict[str, Any], where: str) -> None:
    """A story export's labels outside the scheme (:func:`from_story_export`) must be as the export showed
    them (``shown``): left as they were they are no answer; changed, they are a label the scheme lacks, and
    the import stops (LabellingError naming the line, as any label outside the scheme)."""
    for name, (named, value, outside) in record.get("_outside", {}).items():
        task, before = tasks[name], shown.get(name)
        if task.kind == "multi_label":
            same = set(outside) <= {label for label in before or [] if label not in task.labels}
        elif task.kind == "per_entity":
            same = all((before or {}).get(entity) == label for entity, label in outside.items())
        else:
            same = outside == before
        if not same:
            try:
                check_label(named, value, where)
            except SchemeError as exc:
                raise LabellingError(str(exc)) from None


def _who(raw: dict, task: Task, target: str, fallback: str) -> str:
    """The name an imported label is saved under: the record's ``annotators`` entry for it (what
    ``--export`` writes: who gave each label), else the record's ``annotator``, else ``fallback``."""
    names = raw.get("annotators") or {}
    name = names.get(task.name)
    if isinstance(name, dict):  # per body (tone); a plain name covers all of a task's labels
        name = name.get(target) if task.kind == "per_entity" else None
    return name or raw.get("annotator") or fallback


def _match_article(db, raw: dict) -> int | None:
    """The story a record is about: the article by url (canonical or as fetched), else by an id
    ``db-N``; a syndicated copy gives its original (``duplicate_of``), where the story's labels
    live (as when labelling in the terminal or the browser)."""
    url = raw.get("url") or raw.get("canonical_url")
    if url:
        return store.story_of_url(db, url)
    match = re.fullmatch(r"db-([0-9]+)", str(raw.get("id") or ""))
    if match:
        return _story_of_id(db, int(match.group(1)))
    if isinstance(raw.get("article_id"), int):   # a cuttings export record
        return _story_of_id(db, raw["article_id"])
    return None


SQLITE_INTEGERS = range(-2**63, 2**63)


def _story_of_id(db, article_id: int) -> int | None:
    """``store.story_of`` an id from a file; one past SQLite's integers names no article."""
    return store.story_of(db, article_id) if article_id in SQLITE_INTEGERS else None


def _new_rows(task: Task, wanted: Any, current: Any) -> list[tuple[str, str, str]]:
    """Rows that make the current human labels of one task equal ``wanted``."""
    if task.kind == "multi_label":
        have = set(current or [])
        return ([(task.name, "", label) for label in wanted if label not in have]
                + [(task.name, label, REJECTED) for label in task.labels if label in have and label not in wanted])
    if task.kind == "per_entity":
        current = current or {}
        return [(task.name, entity_id, label) for entity_id, label in wanted.items()
                if current.get(entity_id) != label]
    return [] if wanted == current else [(task.name, "", wanted)]


def effective_labels(db, article_id: int, tasks: dict[str, Task]) -> dict[str, Any]:
    """The labels that stand for one article (a person's, else the models'), in record form: what
    ``cuttings export`` showed of it."""
    labels: dict[str, Any] = {}
    for task_name, target, label in store.effective_label_rows(db, article_id):
        task = tasks.get(task_name)
        if task is None:
            continue
        if task.kind == "multi_label":
            labels.setdefault(task_name, []).append(label)
        elif task.kind == "per_entity":
            labels.setdefault(task_name, {})[target] = label
        else:
            labels[task_name] = label
    return labels


def _changed_rows(tasks: dict[str, Task], wanted: dict[str, Any], current: dict[str, Any],
                  shown: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The rows of a ``cuttings export`` record: a value left as the export showed it (``shown``, the
    effective labels, mostly the models' predictions) is no answer and adds nothing; a changed one is the
    person's answer to that question, stored as the screen stores a correction (topics: every topic
    chosen, and the ones shown or labelled before that were dropped, rejected; tone: each body changed)."""
    rows = []
    for name, value in wanted.items():
        task, before = tasks[name], shown.get(name)
        if task.kind == "multi_label":
            before = [label for label in before or [] if label in task.labels]   # the scheme's part (the rest: above)
            if set(value) != set(before):
                dropped = set(before or []) | set(current.get(name) or [])
                rows += [(name, "", label) for label in value]
                rows += [(name, label, REJECTED) for label in task.labels if label in dropped and label not in value]
        elif task.kind == "per_entity":
            rows += [(name, entity, label) for entity, label in value.items() if (before or {}).get(entity) != label]
        elif value != before:
            rows.append((name, "", value))
    return rows


def story_reference(db, reference: str) -> int:
    """The story ``reference`` names: an article id (``205`` or ``db-205``, as exports write it) or a
    URL (as :func:`import_labels` matches one); a syndicated copy gives its original, where the story's
    labels live. Raises LabellingError for one that names no stored article."""
    text = reference.strip()
    match = re.fullmatch(r"(?:db-)?(\d+)", text)
    article_id = store.story_of(db, int(match.group(1))) if match else store.story_of_url(db, text) if text else None
    if article_id is None:
        raise LabellingError(f"no article {reference!r} in the database: give an article id (205 or db-205) or "
                             f"its URL")
    return article_id


def withdraw_labels(db, reference: str, tasks: list[str], annotator: str
                    ) -> tuple[int, list[tuple[str, str, str, str, str]]]:
    """Withdraw the human labels of the story ``reference`` names (:func:`story_reference`) for the tasks
    named (the scheme's, or ``quote_speaker``/``quote_entity``: corrections of its quotes), recorded as
    ``annotator`` now (a ``__withdrawn__`` row per task, ``store.withdraw_labels``; nothing is deleted):
    ``(article id, the rows withdrawn)``. Raises LabellingError when none stands (nothing to undo)."""
    article_id = story_reference(db, reference)
    withdrawn = store.withdraw_labels(db, article_id, tasks, annotator)
    if not withdrawn:
        raise LabellingError(f"article {article_id} has no human label for {', '.join(tasks)}: nothing withdrawn")
    return article_id, withdrawn


def withdraw_quote_correction(db, reference: str, task: str, quote_id: int, annotator: str
                              ) -> tuple[int, list[tuple[str, str, str, str, str]]]:
    """Withdraw the corrections of one quote (``quote_id``: ``quote_view.quote_id``, or an orphaned
    correction's, the story page's) for ``task`` (``quote_speaker``/``quote_entity``) in the story ``reference``
    names, recorded as ``annotator`` now; the story's corrections of its other quotes stand on
    (``store.withdraw_quote_correction``). ``(article id, the rows withdrawn)``. Raises LabellingError, nothing
    written, for a quote of no story, of another story, or with no correction of ``task`` standing."""
    article_id = story_reference(db, reference)
    owner = store.quote_article(db, quote_id, article_id)
    if owner is None:
        raise LabellingError(f"no quote {quote_id} in the database (give a quote's id: quote_view.quote_id, or the "
                             f"story page's list of orphaned corrections)")
    if owner != article_id:
        raise LabellingError(f"quote {quote_id} is a quote of article {owner}, not of article {article_id}")
    withdrawn = store.withdraw_quote_correction(db, article_id, task, quote_id, annotator)
    if not withdrawn:
        raise LabellingError(f"article {article_id} has no {task} correction of quote {quote_id}: nothing withdrawn")
    return article_id, withdrawn


@dataclass
class ImportSummary:
    records: int = 0
    articles_changed: int = 0
    labels_added: int = 0      # every label row added, the quote corrections among them
    quotes_added: int = 0      # of labels_added: quote corrections (quote_speaker, quote_entity)
    unmatched_lines: list[int] = field(default_factory=list)
    quotes_unmatched: int = 0  # quote corrections whose words are not one quote of the article
    story_exports: int = 0     # records `cuttings export` wrote (only what was changed in them is a label)
    withdrawals_added: int = 0  # the file's withdrawals recorded (newer than any withdrawal of their task here)
    withdrawn_since: int = 0    # the file's labels given before a withdrawal in the database: not brought back
    older_here: int = 0         # the file's labels older than a different label here for the same question: not stored
    agreed: int = 0             # --second-opinion: the file's labels that agree with the label here, stored as answers


def _quote_correction_rows(db, article_id: int, raw: dict, annotator: str, override: bool,
                           summary: ImportSummary, where: str,
                           withdrawn: dict[str, tuple[str, str]]) -> list[tuple]:
    """The ``labels`` rows a record's ``quote_corrections`` add to one article: each goes to the stored quote
    its words and place are (``store.find_quote``, the rule of a re-analysis: quote ids and offsets differ
    between databases, and the text may be another version); one that is no quote there (its words not
    quoted, or quoted twice, and no quote at its place with its opening) is counted, not added. A
    correction with its time (``at``) keeps it and is added when it
    is newer than the current correction of that quote (:func:`_newer`); one given at or before the
    database's latest withdrawal of its task (``withdrawn``) is counted, not added. One without a time (and
    with ``override`` every one) is given now: added when it differs from the current correction."""
    fixes = raw.get("quote_corrections") or []
    if not fixes:
        return []
    current = {(fix.task, fix.quote_id): (fix.created_at, fix.annotator, fix.label)
               for fix in store.quote_corrections(db, [article_id]) if fix.found}
    quote_withdrawn = {(gone.task, gone.quote_id): (gone.annotator, gone.created_at)
                       for gone in store.quote_withdrawals(db, [article_id])}
    bodies = set(store.entity_ids(db))
    rows: list[tuple] = []
    for fix in fixes:
        if fix["task"] == "quote_entity" and fix["label"] and fix["label"] not in bodies:
            raise LabellingError(f"{where}: quote_corrections: {fix['label']!r} is not a watched body")
        at = fix.get("at")
        if _before_withdrawal(at, withdrawn.get(fix["task"]), at_or_before=not override):
            summary.withdrawn_since += 1
            continue
        found = store.find_quote(db, article_id, fix["quote"], fix.get("place"))
        if found is None:
            summary.quotes_unmatched += 1
            continue
        place, quote_id = found
        if _before_withdrawal(at, quote_withdrawn.get((fix["task"], quote_id)), at_or_before=not override):
            summary.withdrawn_since += 1   # that quote's corrections withdrawn here since
            continue
        who = annotator if override else fix.get("annotator") or raw.get("annotator") or annotator
        here = current.get((fix["task"], quote_id))
        if at is None or override:
            if here is None or here[2] != fix["label"]:
                rows.append((article_id, fix["task"], place, fix["label"], who))
        elif _newer((at, who, fix["label"]), here):
            rows.append((article_id, fix["task"], place, fix["label"], who, at))
        elif here[2] != fix["label"]:
            summary.older_here += 1
    return rows


def _newer(given: tuple[str, str, str], here: tuple[str, str, str] | None) -> bool:
    """Whether a label ``given`` elsewhere, ``(labelled_at, annotator, label)``, replaces the one ``here``
    (the same question's standing label, in the same form; None: none): the newer time wins, and of two
    given in the same second the later annotator, then label, in code-point order (the same choice in
    every database, whatever the order of the imports). The same label, by the same person at the same
    time (a file imported twice), replaces nothing."""
    return here is None or given > here


def _before_withdrawal(given: Any, withdrawal: tuple[str, str] | None, *, unknown_is_before: bool = False,
                       at_or_before: bool = False) -> bool:
    """Whether a label given at ``given`` (an ISO UTC time from the file; None: not said) was given before
    ``withdrawal`` (``(annotator, created_at)``, the database's latest withdrawal of its task), so that the
    withdrawal, being later, stands; ``at_or_before``: in the same second too (a label file's time: a
    withdrawal wins a tie). A time not said counts as after it (a label with no time is given now, at the
    import), unless ``unknown_is_before`` (a story export whose story had no human label when it was
    written: every withdrawal since is later than it)."""
    if withdrawal is None:
        return False
    if not isinstance(given, str) or not given:
        return unknown_is_before
    return given <= withdrawal[1] if at_or_before else given < withdrawal[1]


def _label_time(raw: dict, task: Task, target: str) -> Any:
    """When the file says one label was given: its ``labelled_at`` entry (``--export``), else None."""
    times = raw.get("labelled_at") or {}
    value = times.get(task.name) if isinstance(times, dict) else None
    if isinstance(value, dict):
        value = value.get(target) if task.kind == "per_entity" else None
    return value


def _replay_withdrawals(db, article_id: int, raw: dict, annotator: str, override: bool) -> int:
    """Record a record's ``withdrawn`` (``--export``'s latest withdrawal of each task) and ``withdrawn_quotes``
    (of one quote's corrections, :func:`_quote_here`'s quote; ``store.import_quote_withdrawal``) on one article, each
    with its own time, under its annotator (else ``annotator``; with ``override``, ``annotator``), where this
    database has no withdrawal of the task as new (``store.import_withdrawal``: a label here given after it
    stands on). Returns how many were recorded."""
    replayed = 0
    for task, withdrawal in (raw.get("withdrawn") or {}).items():
        who = annotator if override else withdrawal.get("annotator") or annotator
        replayed += store.import_withdrawal(db, article_id, task, who, withdrawal["at"])
    for withdrawal in raw.get("withdrawn_quotes") or []:   # one quote's corrections: that quote's here only
        quote_id = _quote_here(db, article_id, withdrawal["task"], withdrawal["quote"], withdrawal.get("place"))
        if quote_id is None:   # no such quote here, nor a correction of it: nothing to withdraw
            continue
        who = annotator if override else withdrawal.get("annotator") or annotator
        replayed += store.import_quote_withdrawal(db, article_id, withdrawal["task"], quote_id, who, withdrawal["at"])
    return replayed


def _quote_here(db, article_id: int, task: str, words: str, place: str | None) -> int | None:
    """The id of the quote here a file's quote (its ``words`` at ``place``) is: a stored quote of the article
    (``store.find_quote``), else the one gone quote whose corrections of ``task`` here have those words
    (orphaned here too); None: neither."""
    found = store.find_quote(db, article_id, words, place)
    if found is not None:
        return found[1]
    gone = store.gone_quotes_of_words(db, article_id, task, words)
    return gone[0] if len(gone) == 1 else None


def _standing_keys(db, article_id: int, tasks: dict[str, Task], current: dict[str, Any]
                   ) -> dict[tuple[str, str], tuple[str, str, str]]:
    """The standing human label of each question of one article as :func:`_newer` compares them:
    ``{(task, target): (created_at, annotator, label)}`` (target '' but for a per-entity task); a
    multi-label task as one question, its time and annotator its latest row's, its label its topics
    (``current``, :func:`human_labels`) joined by commas."""
    keys: dict[tuple[str, str], tuple[str, str, str]] = {}
    for _, name, target, label, who, at in store.human_label_rows_at(db, [article_id]):
        task = tasks.get(name)
        if task is None:
            continue
        if task.kind == "multi_label":
            keys[(name, "")] = (at, who, ",".join(sorted(current.get(name) or [])))
        else:
            keys[(name, target if task.kind == "per_entity" else "")] = (at, who, label)
    return keys


def _held_answers(db, article_id: int, tasks: dict[str, Task]) -> set[tuple[str, str, str, str]]:
    """The answers this database holds of one article, standing or older, as ``(task, target, label,
    annotator)`` (target '' but for a per-entity task; a multi-label task's chosen topics one row each, its
    rejections none): what a second opinion already recorded (:func:`_timed_rows`)."""
    held = set()
    for _, name, target, label, who, _at in store.human_label_rows_at(db, [article_id]):
        task = tasks.get(name)
        if task is None or label == REJECTED:
            continue
        held.add((name, target if task.kind == "per_entity" else "", label, who))
    return held


def _timed_rows(raw: dict, tasks: dict[str, Task], wanted: dict[str, Any], current: dict[str, Any],
                keys: dict[tuple[str, str], tuple[str, str, str]], withdrawn: dict[str, tuple[str, str]],
                annotator: str, override: bool, summary: ImportSummary,
                held: set[tuple[str, str, str, str]] | None = None) -> list[tuple]:
    """The rows a label file's record (not a story export) adds to one article: a label with its time
    (``labelled_at``) keeps it and is added when it is newer than the standing one of its question
    (:func:`_newer`) and than the latest withdrawal of its task (given at or before it: counted in
    ``withdrawn_since``; older than a different label here: ``older_here``); the same label given later
    elsewhere (a confirmation, a second opinion) is added too, with its name and time, topics as well (the
    task's topics as rows), so it wins by its time wherever this database's export goes. A label without a time, and
    with ``override`` (``--annotator``: the file's labels are the importer's answers) every label, is given
    now: added when it differs from the current one (:func:`_new_rows`), unless the file says it was given
    before the latest withdrawal here. Multi-label: the task's topics are one question, the rows those that
    make the current topics the file's.

    ``held`` (``--second-opinion``: :func:`_held_answers`): the file is its annotators' own answers, so each
    label is stored as one, those that agree with the label here too (counted in ``agreed``; given now, or at
    its own time even when older than the label here: recorded, and the newer still stands), unless this
    database holds that answer from that annotator already (importing the file again adds nothing). Not an
    older set of topics that differs from the topics here: a story's topics are one answer in a file but a
    question per topic here, so its rows could bring back a topic (counted in ``older_here`` as before)."""
    rows: list[tuple] = []
    for name, value in wanted.items():
        task = tasks[name]
        targets = list(value) if task.kind == "per_entity" else [""]
        for target in targets:
            given = value[target] if task.kind == "per_entity" else value
            have = (current.get(name) or {}).get(target) if task.kind == "per_entity" else current.get(name)
            if task.kind == "multi_label":
                changes = _new_rows(task, given, have)
                same = not changes
            else:
                changes = [(name, target, given)]
                same = given == have
            who = annotator if override else _who(raw, task, target, annotator)
            at = _label_time(raw, task, target)
            # the same topics answered again: a confirmation, one row per topic (no change to make)
            answer = [(name, "", topic) for topic in given] if same and task.kind == "multi_label" else changes
            if held is not None and (all((name, "", topic, who) in held for topic in given)
                                     if task.kind == "multi_label" else (name, target, given, who) in held):
                continue   # a second opinion recorded already (the file imported again)
            if at is None or override:   # given now: yours (--annotator), or a file without times
                if same and held is None:
                    continue
                if _before_withdrawal(at, withdrawn.get(name)):   # an edit of a file from before a withdrawal
                    summary.withdrawn_since += 0 if same else len(changes)
                else:
                    rows += [(*row, who) for row in answer]
                    summary.agreed += bool(same)
                continue
            if _before_withdrawal(at, withdrawn.get(name), at_or_before=True):
                summary.withdrawn_since += 0 if same else len(changes)
                continue
            label = ",".join(sorted(given)) if task.kind == "multi_label" else given
            if _newer((at, who, label), keys.get((name, target))):
                rows += [(*row, who, at) for row in answer]   # the same labels too: a confirmation, with its time
                summary.agreed += bool(same and held is not None)
            elif held is not None and (same or task.kind != "multi_label"):   # older: recorded, does not stand
                rows += [(*row, who, at) for row in answer]
                summary.agreed += bool(same)
            elif not same:
                summary.older_here += len(changes)
    return rows


def import_labels(db, path: str | Path, tasks: dict[str, Task], annotator: str, *,
                  override: bool = False, text: str | None = None, stream: IO[bytes] | None = None,
                  second_opinion: bool = False) -> ImportSummary:
    """Read labelled JSONL (export or corpus format) and add what differs from the current
    human labels, all in one transaction. A record ``cuttings export --format jsonl`` wrote (a story,
    :func:`is_story_export`) is read too: its ``topics``, ``stance`` and ``tone`` as the scheme's tasks,
    and only the values changed from what it showed (the effective labels) are added, so an export
    edited in one place stores that one correction, not every model prediction as a person's label.
    The file is read and written a line at a time (its size in memory is one record's, not the file's), in
    one transaction: a line that is no JSON, or a label outside the scheme, raises LabellingError naming
    the file and line, and the transaction is rolled back, so nothing is written.
    Importing the same file twice adds nothing the second time. Labels are saved under the
    record's ``annotator``, else ``annotator``; with ``override`` under ``annotator`` always (the
    person importing a file someone else exported and she edited: the file's names are the
    exporter's). ``text``: the file's content already read, or ``stream``: a binary stream to read it from
    (standard input, ``--import -``); ``path`` then only names it in messages. ``second_opinion``
    (``--second-opinion``): the file is its annotators' own labelling (a second annotator's), so a label that
    agrees with the one here is stored too, as that annotator's answer (:func:`_timed_rows`); a story export
    record is then refused (its values are the models' predictions, not a person's answers).

    Withdrawals (``--unlabel``): a record's ``withdrawn`` is replayed where it is newer than the labels it
    withdraws here (:func:`_replay_withdrawals`), and a label the file says was given (``labelled_at``;
    a story export: its story's ``labelled_at``) before the database's latest withdrawal of its task is
    not brought back (counted in ``withdrawn_since``): of a label and a withdrawal, the later stands.

    A CSV or XLSX file (by its suffix; standard input: a first line that is no JSON object) is read as
    ``cuttings export --format csv``/``xlsx`` wrote it (:func:`read_story_table`, whole: a spreadsheet's
    size): its rows are story export records; there an unknown column or a row naming no article of this
    database is an error too."""
    path = Path(path)
    if stream is not None:
        head = []   # the lines up to the first with text: enough to tell a CSV export from JSON Lines
        for line in stream:
            head.append(line)
            if line.strip():
                break
        if _looks_like_csv(_decoded(path, 1, b"".join(head), whole=True)):
            text = _decoded(path, 1, b"".join(head) + stream.read(), whole=True)
        else:
            return _import_records(db, path, tasks, annotator, override, second_opinion,
                                   _json_lines(path, itertools.chain(head, stream)))
    if path.suffix.lower() in (".csv", ".xlsx") or text is not None and _looks_like_csv(text):
        return _import_records(db, path, tasks, annotator, override, second_opinion,
                               [(line_no, raw, True) for line_no, raw in read_story_table(db, path, text)])
    if text is not None:
        return _import_records(db, path, tasks, annotator, override, second_opinion,
                               _json_lines(path, (line.encode("utf-8") for line in text.split("\n"))))
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise LabellingError(f"cannot read {path}: {exc}") from None
    with handle:
        return _import_records(db, path, tasks, annotator, override, second_opinion, _json_lines(path, handle))


def _decoded(path: Path, line_no: int, line: bytes, *, whole: bool = False) -> str:
    """``line`` (line ``line_no`` of ``path``; ``whole``: a whole file's text) as text: UTF-8, a byte-order
    mark at the start of the first line dropped; else LabellingError naming the line."""
    try:
        return (line.removeprefix(b"\xef\xbb\xbf") if line_no == 1 else line).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LabellingError(f"{path}{'' if whole else f':{line_no}'}: not UTF-8 text: {exc}") from None


def _json_lines(path: Path, lines: Iterable[bytes]) -> Iterable[tuple[int, Any, bool]]:
    """The records of JSON Lines read a line at a time, ``(line number, record, is a story export)``; a
    blank line is none. Lines are split on "\n" only (a binary file's lines): str.splitlines would also split
    inside a string on U+2028, U+0085 and the like, which JSON allows unescaped; a "\r" before it is
    dropped. A line that is not UTF-8 or no JSON raises LabellingError naming its file and line."""
    try:
        for line_no, line in enumerate(lines, start=1):
            text = _decoded(path, line_no, line.removesuffix(b"\n").removesuffix(b"\r"))
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise LabellingError(invalid_json_message(path, line_no, exc)) from None
            except RecursionError:   # arrays or objects nested thousands deep: no record cuttings writes
                raise LabellingError(f"{path}:{line_no}: invalid JSON: nested too deeply") from None
            yield line_no, raw, is_story_export(raw)
    except OSError as exc:   # a read failing half-way (a file gone from a network share)
        raise LabellingError(f"cannot read {path}: {exc}") from None


def _import_records(db, path: Path, tasks: dict[str, Task], annotator: str, override: bool, second_opinion: bool,
                    records: Iterable[tuple[int, Any, bool]]) -> ImportSummary:
    """:func:`import_labels` of parsed records ``(line number, record, is a story export)``, taken one at a
    time (a generator reading the file keeps one record in memory): each checked, then written, all in one
    transaction, so an error in any (raised as LabellingError naming its file and line) rolls back every
    write before it: nothing is written. A record naming no article of this database, in any format, is
    skipped and its line counted (``unmatched_lines``)."""
    summary = ImportSummary()
    with store.transaction(db):
        for line_no, raw, story in records:
            where = f"{path}:{line_no}"
            if story:
                if second_opinion:
                    raise LabellingError(f"{where}: a cuttings export story holds the models' predictions, so only "
                                         f"what was changed in it is an answer: import it without --second-opinion")
                raw = from_story_export(raw, tasks, where)
                summary.story_exports += 1
            wanted = validate_record(raw, tasks, where)
            summary.records += 1
            article_id = _match_article(db, raw)
            if article_id is None:   # a story this database has not (a corpus file, another team's): skipped
                summary.unmatched_lines.append(line_no)
                continue
            earlier = store.withdrawals(db, [article_id]).get(article_id, {})   # before this record's writes
            replayed = _replay_withdrawals(db, article_id, raw, annotator, override)
            withdrawn = store.withdrawals(db, [article_id]).get(article_id, {}) if replayed else earlier
            current = human_labels(db, tasks, [article_id]).get(article_id, {})
            if story:   # a cuttings export record: what was changed from what it showed, given now
                shown = effective_labels(db, article_id, tasks)
                _check_outside_unchanged(raw, tasks, shown, where)
                rows = _changed_rows(tasks, wanted, current, shown)
                kept = [row for row in rows if not _before_withdrawal(raw.get("_labelled_at"), earlier.get(row[0]),
                                                                      unknown_is_before=raw.get("_timed", False))]
                summary.withdrawn_since += len(rows) - len(kept)
                labels = [(article_id, t, target, label,
                           annotator if override else _who(raw, tasks[t], target, annotator))
                          for t, target, label in kept]
            else:
                keys = _standing_keys(db, article_id, tasks, current)
                held = _held_answers(db, article_id, tasks) if second_opinion else None
                labels = [(article_id, *row) for row in _timed_rows(raw, tasks, wanted, current, keys, withdrawn,
                                                                     annotator, override, summary, held)]
            fixes = _quote_correction_rows(db, article_id, raw, annotator, override, summary, where, withdrawn)
            labels += fixes
            if labels:
                store.add_labels(db, labels)
            if labels or replayed:
                summary.articles_changed += 1
                summary.labels_added += len(labels)
                summary.quotes_added += len(fixes)
                summary.withdrawals_added += replayed
        if summary.labels_added:
            record_scheme_tasks(db, tasks)
    return summary


def record_scheme_tasks(db, tasks: dict[str, Task] | None = None) -> None:
    """The label scheme's topics, stance and tone tasks (``task_of_kind``: the first of each kind,
    the ones reports, exports and forms read) in ``label_tasks``, so the views read the same tasks,
    from a team's first labels on, before any model is trained on them. ``tasks``: the whole
    scheme's (default: the user's label scheme). Their labels are recorded too, and the views regenerated
    from them (entity_daily's ``stance_<label>`` columns: ``store.record_label_tasks``). A scheme without a
    stance task records that too (``no_stance``): the views then read no stance (no ``stance_<label>`` columns,
    article_summary.stance NULL), not m013's seeded ``stance_governance``; so does one without a tone or topics
    task (``no_tone``: no ``tone_<label>`` or ``tone_rated`` columns, article_summary.tone NULL; ``no_topics``:
    article_summary.topics NULL)."""
    tasks = tasks if tasks is not None else load_label_tasks()
    roles = [task for task in (task_of_kind(tasks, kind) for kind in ("multi_label", "single_label", "per_entity"))
             if task is not None]
    store.record_label_tasks(db, {task.name: task.kind for task in roles}, labels={
        task.name: {"labels": task.labels, "absent": task.absent,
                    "attention": list(task.attention_labels) if task.kind in ATTENTION_KINDS else None}
        for task in roles}, no_stance=task_of_kind(tasks, "single_label") is None,
        no_tone=task_of_kind(tasks, "per_entity") is None, no_topics=task_of_kind(tasks, "multi_label") is None)
