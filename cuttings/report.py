"""The morning digest: what needs attention first, then what is new since the last report,
grouped by watched body.

Order (HTML, Markdown and plain text alike): the "needs attention" block (negative tone
towards a watched body, a stance taken on fire governance, coverage spikes, new quotes from
people speaking for each body, crawl failures); the summary; the 30-day charts (coverage and
tone per body, share of voice, stance); the badge legend and how far to trust the labels
(each shown label's precision on news its model was not trained on, from the model card: ``_trust``);
then one section per watched body
(stories ranked: negative tone about that body, a stance, the body's own quotes and
syndication first), "Other local news", edits and crawl health. A story's "Also ran in" line names
every other outlet that ran it, with that outlet's own headline when it differs from the story's
("Also ran in Legit Times as “Police chief orders review ...”"): which copy is the original is the
crawler's choice (docs/crawler.md), and no outlet's story is hidden under another's headline.

Confidence is said in words: ``tone: negative (unsure)`` when the classifier was unsure (the
stored ``uncertain`` flag, or a probability below the scheme's ``uncertain_below`` where no
flag is stored), ``(checked)`` when a person set the label. Bodies that no tone model covers
show "not rated", never a zero.

``build_digest`` reads the database (never writes) and returns a plain dict;
``render_html`` and ``render_markdown`` turn it into a page or text; ``render_email`` into the
e-mail's two parts, within a size budget (:data:`EMAIL_MAX_KB`: Gmail clips an HTML part over about
102 KB): each section's most pressing stories, every story "Needs attention" names, and for the rest
how many and where the digest file is (:func:`email_digest`: attached, at its published address, which the
HTML part links to, or its path);
``write_report`` writes the files and records a ``reports`` row so the next digest
starts where this one ended.

Everything crawled (headlines, quotes, outlet names, URLs) is untrusted: the HTML
template runs with autoescape on, URLs other than http(s) are dropped, and the
Markdown renderer backslash-escapes every Markdown- or HTML-significant character.

Spike rule (per watched entity): the number of stories (syndicated copies folded)
published in the 24 hours before ``until`` (a story whose page gave a date but no time counts on
that date: :func:`spike_moment`), each outlet counting at most
:data:`SPIKE_STORIES_PER_OUTLET` of them, is a spike when it is at least
:data:`SPIKE_MIN_STORIES`, comes from at least :data:`SPIKE_MIN_OUTLETS` outlets, and is at
least the mean plus :data:`SPIKE_SD` standard deviations of the same count (capped alike) over
the :data:`BASELINE_DAYS` preceding 24-hour windows. A spike means coverage spreading across
the press: one outlet alone, however many stories it runs (a campaigning title, a live story
split into pages, a hostile site rewording one story), never makes one.

The "needs attention" block lists at most :data:`ATTENTION_PER_GROUP` stories per body (or
stance label) and at most :data:`ATTENTION_PER_OUTLET` of them from one outlet; the rest are
one "... and N more ... below (n from <outlet>, ...)" line, so one outlet cannot fill the block.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import statistics
import urllib.parse
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape
from sqlite_utils import Database

from cuttings import store
from cuttings.failures import source_failed, source_failures
from cuttings.paths import output_dir
from cuttings.store.schema import QUOTE_PEOPLE_SQL, SURNAME_SQL, effective_labels_among, quote_people_of
from cuttings.wording import counted, noun
from nlp.baseline import below_baseline
from nlp.scheme import TONE_ATTENTION_DEFAULT

SPIKE_MIN_STORIES = 3
SPIKE_STORIES_PER_OUTLET = 2  # stories one outlet counts towards a body's spike in one 24-hour window
SPIKE_MIN_OUTLETS = 2  # outlets a spike's stories must come from
SPIKE_SD = 2.0
BASELINE_DAYS = 14
CHART_DAYS = 30
FIRST_DIGEST_DAYS = 7  # the first digest (no report recorded yet) lists stories first seen this many days back
OTHER_GROUP = "Other local news"
NOT_ANALYSED_GROUP = "Not yet analysed"  # stories the analyse stage has not read: their bodies and labels unknown
PIPELINE_STAGES = ("analyse", "classify")  # stages whose failure in a covered run "needs attention" names
ATTENTION_PER_GROUP = 2  # stories per body (or stance) in the "needs attention" block
ATTENTION_PER_OUTLET = 1  # ... of them from one outlet (the rest: "and N more ... (n from <outlet>)")
MORE_OUTLETS_NAMED = 3  # outlets a "more" line names (the rest: "from other outlets")
PRINCIPALS_PER_BODY = 2  # a body's most quoted named speakers, whose new quotes need attention
FAILED_SOURCES_LISTED = 3  # failed sources listed one a line in "needs attention" (more: one line naming them)
# what the "needs attention" item of stories the analyser failed on adds about them
UNANALYSED_NOTE = ("no mentions, quotes or labels for them yet; each run tries again; the list: crawl_errors "
                   "of kind analyse_failed")
STANCES = ("favour", "neutral", "against")  # the shipped scheme's counted stance labels (its ``shown``)
TONES = ("positive", "neutral", "negative")
NOT_RATED = "not rated"
_CONFIDENCE_WORDS = {"unsure": " (unsure)", "checked": " (checked)", "confident": ""}

LEGEND = ("Badges: {badges}. "
          "“(unsure)”, dashed outline: the classifier was unsure, worth a check; "
          "“(checked)”, ✓: a person set the label (it replaces the prediction); "
          "no note: the classifier was confident.{not_rated}")
LEGEND_NOT_RATED = " “not rated”: no tone model covers that body."
# the longest quote each place shows, in characters (cut at a word, "..." added; the story's link has the rest):
# the same in the HTML, Markdown, plain-text and webhook digests (:func:`quote_excerpt`)
QUOTE_CHARS = {"attention": 160, "key": 280, "repeat": 200}
FORMAT_SUFFIXES = {"html": ".html", "md": ".md", "text": ".txt"}
DEFAULT_FORMATS = ("html", "md")  # what write_report and `cuttings run` write unless told

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


# --------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------

def _parse(timestamp: str) -> dt.datetime:
    """An ISO timestamp or date (UTC) as an aware datetime."""
    text = timestamp.strip().replace("Z", "+00:00")
    if len(text) == 10:
        text += "T00:00:00+00:00"
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalise_timestamp(timestamp: str | None) -> str | None:
    """A date or ISO timestamp (``Z`` or offset; naive means UTC) in the store's canonical ``YYYY-MM-DDTHH:MM:SSZ`` form."""
    return _iso(_parse(timestamp)) if timestamp else None


# --------------------------------------------------------------------------
# Building the digest
# --------------------------------------------------------------------------

def _last_report_until(db: Database) -> str | None:
    row = db.execute("SELECT until FROM reports ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else None


def _label_tasks() -> dict:
    """The tasks of the user's label scheme (``--scheme``, else ``label_scheme.toml`` in the home folder,
    else the packaged one). One that cannot be read raises ``LabellingError`` naming the file: a digest
    of another scheme's labels, without a word, is worse than none."""
    from cuttings.labelling import load_label_tasks
    return load_label_tasks()


def report_tasks(tasks: dict | None = None) -> dict[str, Any]:
    """The scheme tasks the digest shows, by role: ``topics`` (its multi-label task), ``stance``
    (its single-label task) and ``tone`` (its per-entity task), whatever the scheme names them;
    each a ``Task`` or None. ``tasks``: the scheme's tasks (empty or None: the user's scheme's,
    :func:`_label_tasks`, which raises when it cannot be read)."""
    from nlp.scheme import task_of_kind
    if not tasks:
        tasks = _label_tasks()
    return {role: task_of_kind(tasks, kind)
            for role, kind in (("topics", "multi_label"), ("stance", "single_label"), ("tone", "per_entity"))}


def stance_view(roles: dict[str, Any]) -> dict[str, Any]:
    """How the digest speaks of the stance task: its ``task`` name, ``heading`` ("fire governance"),
    the ``labels`` it counts (in order), the ``attention`` labels with their words and its ``absent`` label."""
    task = roles.get("stance")
    topics = roles.get("topics")
    topic_example = topics.labels[0] if topics is not None else None
    if task is None:  # a scheme without a stance task (a team's topics and tone only): the digest says nothing of stance
        return {"task": None, "heading": "stance", "labels": [], "attention": {}, "absent": None,
                "topic_example": topic_example}
    return {"task": task.name, "heading": task.heading, "labels": list(task.counted),
            "attention": task.attention_labels, "absent": task.absent, "topic_example": topic_example}


def _thresholds(tasks: dict | None = None) -> dict[str, float]:
    """The label scheme's ``uncertain_below`` per task (``tasks``: its tasks, when already read)."""
    return {name: task.uncertain_below for name, task in (_label_tasks() if tasks is None else tasks).items()}


def confidence(row: dict, thresholds: dict[str, float]) -> str:
    """``checked`` (a person set it), ``unsure`` or ``confident``: the stored ``uncertain`` flag when
    present, else the stored probability against the task's ``uncertain_below``."""
    if row.get("human"):
        return "checked"
    flag = row.get("uncertain")
    if flag is None and row.get("probability") is not None and row.get("task") in thresholds:
        flag = row["probability"] < thresholds[row["task"]]
    return "unsure" if flag else "confident"


def _labels(db: Database, article_ids: list[int], thresholds: dict[str, float],
            roles: dict[str, Any] | None = None, classified: set[int] | None = None) -> dict[int, dict[str, Any]]:
    """Effective labels (human labels win) per article: topics, stance and tone per target, each
    ``{"label", "uncertain", "human", "confidence"}``; ``roles`` (:func:`report_tasks`) names the
    scheme's task of each role. ``classified``: the articles whose current text the classify stage
    read (:func:`_current_stamps`); the predictions of any other (a revision not yet classified: they
    are its earlier text's) are left out, a person's labels kept. None: every prediction."""
    result: dict[int, dict[str, Any]] = {i: {"topics": [], "stance": None, "tone": {}} for i in article_ids}
    if not article_ids:
        return result
    roles = report_tasks() if roles is None else roles
    role_of = {task.name: role for role, task in roles.items() if task is not None}
    # (the night's stories' effective labels alone: store.schema.effective_labels_among; the view filtered after
    # it is built reads every stored label and prediction)
    night = "SELECT value FROM json_each(:ids)"
    rows = db.query(
        "SELECT article_id, task, target, label, probability, uncertain, human "
        f"FROM ({effective_labels_among(db, night)}) WHERE article_id IN ({night}) "
        "ORDER BY article_id, task, target, label", {"ids": json.dumps(article_ids)})
    for row in rows:
        if classified is not None and not row["human"] and row["article_id"] not in classified:
            continue
        level = confidence(row, thresholds)
        badge = {"label": row["label"], "uncertain": level == "unsure", "human": bool(row["human"]),
                 "confidence": level}
        labels = result[row["article_id"]]
        role = role_of.get(row["task"])
        if role == "topics":
            labels["topics"].append(badge)
        elif role == "stance":
            labels["stance"] = badge
        elif role == "tone":
            labels["tone"][row["target"]] = badge
    return result


class SpeakerNames:
    """One name per speaker identity (``speaker_id``), from the ``speaker_names`` view: the watchlist's
    name for a person it knows, else the full name the most outlets print (each outlet counted once), so
    the digest says "John Campion" whether an article wrote "Mr Campion", "John Campion" or, six times,
    "John Disgraced Campion". A speaker a person corrected (a spelling never stored for that identity)
    keeps the corrected text."""

    def __init__(self, names: dict[str, str], forms: dict[str, set[str]]):
        self.names, self.forms = names, forms

    def display(self, speaker_id: str | None, speaker: str | None) -> str | None:
        if speaker_id and speaker and speaker in self.forms.get(speaker_id, ()) and speaker_id in self.names:
            return self.names[speaker_id]
        return speaker


def speaker_names(db: Database, speaker_ids, *, spellings=None) -> SpeakerNames:
    """:class:`SpeakerNames` for these identities. Their spellings are read from the quotes of their surnames only
    (``store.schema.quote_people_of``: a quote's person has its speaker's surname), not from every stored quote;
    ``spellings``: only these ``(speaker_id, speaker)`` pairs (those the caller will display) are looked up among
    the stored spellings, from the quotes printing those speakers, and the result displays those pairs only."""
    wanted = json.dumps(sorted({sid for sid in speaker_ids if sid}))
    names = {row["speaker_id"]: row["name"] for row in db.query(
        "SELECT speaker_id, name FROM speaker_names WHERE speaker_id IN (SELECT value FROM json_each(?))", [wanted])}
    forms: dict[str, set[str]] = {}
    if spellings is None:
        people = wanted
        surnames = f"SELECT DISTINCT {SURNAME_SQL.format('value')} FROM json_each(:people)"
        printed, only = "", None
    else:
        pairs = sorted({(sid, speaker) for sid, speaker in spellings if sid and speaker})
        if not pairs:
            return SpeakerNames(names, forms)
        people = json.dumps(sorted({sid for sid, _speaker in pairs}))
        surnames = f"SELECT DISTINCT {SURNAME_SQL.format('value')} FROM json_each(:people)"
        printed = " AND q.speaker IN (SELECT value FROM json_each(:speakers))"
        only = (f"SELECT id FROM quotes q WHERE {SURNAME_SQL.format('q.speaker_id')} IN ({surnames}){printed}")
    # a person's stored spellings, a title and surname joined to their full name included (quote_people)
    for row in db.query("SELECT DISTINCT coalesce(p.person_id, q.speaker_id) AS speaker_id, q.speaker FROM quotes q "
                        f"LEFT JOIN ({quote_people_of(QUOTE_PEOPLE_SQL, surnames, only)}) p ON p.quote_id = q.id "
                        f"WHERE {SURNAME_SQL.format('q.speaker_id')} IN ({surnames}){printed} "
                        "AND coalesce(p.person_id, q.speaker_id) IN (SELECT value FROM json_each(:people)) "
                        "AND q.speaker IS NOT NULL",
                        {"people": people} | ({} if spellings is None else
                                              {"speakers": json.dumps(sorted({sp for _sid, sp in pairs}))})):
        forms.setdefault(row["speaker_id"], set()).add(row["speaker"])
    return SpeakerNames(names, forms)


def _current_stamps(db: Database, article_ids: list[int]) -> dict[str, set[int]]:
    """The articles among ``article_ids`` whose current text each stage has read: a ``processing`` stamp
    (at any version) for their current ``content_hash``, ``{"analyse": {...}, "classify": {...}}``. A
    revised article (``store.add_revision``: same id, new text) keeps its earlier text's mentions, quotes
    and predictions until the stages read it again: those describe a text the story no longer has."""
    stamped: dict[str, set[int]] = {"analyse": set(), "classify": set()}
    if article_ids:
        for row in db.query("SELECT p.article_id, p.stage FROM processing p JOIN articles a ON a.id = p.article_id "
                            "AND p.content_hash = a.content_hash WHERE p.stage IN ('analyse', 'classify') AND "
                            "p.article_id IN (SELECT value FROM json_each(?))", [json.dumps(article_ids)]):
            stamped[row["stage"]].add(row["article_id"])
    return stamped


def _about(articles: str) -> str:
    """SQL: each (article_id, entity_id) a story among ``articles`` (SQL selecting article ids) is about: the
    bodies it mentions, and those a quote in it speaks for (quote_view's entity_id, a person's correction
    applied), as if mentioned. A watchlist person's name makes no mention ("Chief Constable Will Kerr" is a
    quote stated for the force), and a body the digest credits a quote to ("New quote from Will Kerr (D&C
    Police)") has the story in its section, however the link was found (stated, inferred, known_speaker,
    corrected). The ids are selected in each half (quote_view's corrections are looked up per quote).
    The ``story_bodies`` view spells the same rule (tests/test_analyst_afternoon.py checks they agree); reading it
    here instead would be slower: SQLite (3.40) pushes no ``article_id IN (subquery)`` into the view's UNION and
    builds every story's bodies each time (2 story ids on the demo database: 1.11 ms, against 0.03 ms here;
    the 43-story digest 84 ms against 72 ms), a cost that grows with the database, not the night."""
    return (f"(SELECT article_id, entity_id FROM mentions WHERE article_id IN ({articles}) UNION "
            f"SELECT article_id, entity_id FROM quote_view WHERE entity_id IS NOT NULL AND article_id IN ({articles}))")


def _read_now(stage: str, article: str = "a") -> str:
    """SQL: the ``stage`` (analyse, classify) has read the current text of article ``article`` (an alias of
    ``articles``): :func:`_current_stamps`' rule, for the queries that count over days (spikes, charts)."""
    assert stage in PIPELINE_STAGES
    return (f"EXISTS (SELECT 1 FROM processing p WHERE p.article_id = {article}.id AND p.stage = '{stage}' "
            f"AND p.content_hash = {article}.content_hash)")


# SQL: the original stories published (or, undated, first seen) from :start to :end whose current text the
# analyse stage read (:func:`_read_now`): those the spikes and charts count
_ANALYSED_BETWEEN = ("SELECT a.id FROM articles a WHERE a.duplicate_of IS NULL AND "
                     "substr(coalesce(a.published_at, a.first_seen_at), 1, 10) BETWEEN :start AND :end AND "
                     + _read_now("analyse"))


def _story_rows(db: Database, since: str | None, until: str) -> list[dict]:
    """The ``articles`` rows of the original stories (not syndicated copies) first seen in (since, until]."""
    return list(db.query(
        "SELECT a.id, a.title, coalesce(a.link_url, a.url) AS url, a.source_id, coalesce(s.name, a.source_id) AS outlet, "
        "a.published_at, a.first_seen_at FROM articles a LEFT JOIN sources s ON s.id = a.source_id "
        # (+: the night's range of idx_articles_first_seen_at, not every original story by idx_articles_duplicate_of,
        # which SQLite's estimate of "duplicate_of IS NULL" preferred, with or without ANALYZE's statistics)
        "WHERE +a.duplicate_of IS NULL AND a.first_seen_at > coalesce(?, '') AND a.first_seen_at <= ? "
        "ORDER BY coalesce(a.published_at, a.first_seen_at) DESC, a.id DESC", [since, until]))


def _stories(db: Database, rows: list[dict], stamps: dict[str, set[int]], thresholds: dict[str, float],
             roles: dict[str, Any] | None = None) -> list[dict]:
    """The digest's stories of ``rows`` (:func:`_story_rows`), each once, as it reads now (its latest
    version). Whom it mentions and its quotes come from the analysis of its current text only, and its
    predicted labels from the classification of that text (``stamps``: :func:`_current_stamps`): a story
    revised since it was analysed has no bodies until the analyse stage reads it again, so it is listed
    once, under "Not yet analysed", not also under the bodies its earlier text mentioned."""
    ids = [row["id"] for row in rows]
    analysed = [i for i in ids if i in stamps["analyse"]]
    labels = _labels(db, ids, thresholds, roles, classified=stamps["classify"])
    entities: dict[int, list[str]] = {i: [] for i in ids}
    quotes: dict[int, list[dict]] = {i: [] for i in ids}
    copies: dict[int, list[str]] = {i: [] for i in ids}
    headlines: dict[int, dict[str, str]] = {i: {} for i in ids}   # each other outlet's headline for the story
    authors: dict[int, list[str]] = {i: [] for i in ids}
    if analysed:
        # the bodies it mentions, and those a quote in it speaks for, as if mentioned
        for row in db.query(f"SELECT DISTINCT article_id, entity_id FROM {_about('SELECT value FROM json_each(:ids)')} "
                            "ORDER BY article_id, entity_id", {"ids": json.dumps(analysed)}):
            entities[row["article_id"]].append(row["entity_id"])
        # the person (quote_people.person_id): "Councillor Minnery" is David Minnery when the article or the
        # body's quotes name exactly one Minnery, so the digest names him as most_quoted counts him
        # (quote_people of the night's quotes alone: their people are chosen among those of their surnames)
        night = "SELECT id FROM quotes WHERE article_id IN (SELECT value FROM json_each(:ids))"
        surnames = (f"SELECT DISTINCT {SURNAME_SQL.format('speaker_id')} FROM quotes "
                    "WHERE article_id IN (SELECT value FROM json_each(:ids))")
        found = list(db.query(f"SELECT q.article_id, q.speaker, coalesce(p.person_id, q.speaker_id) AS speaker_id, "
                              f"q.speaker_role, q.entity_id, q.text, s.speaker AS stored FROM quote_view q "
                              f"JOIN quotes s ON s.id = q.quote_id "
                              f"LEFT JOIN ({quote_people_of(QUOTE_PEOPLE_SQL, surnames, night)}) p "
                              f"ON p.quote_id = q.quote_id "
                              f"WHERE q.article_id IN (SELECT value FROM json_each(:ids)) "
                              f"ORDER BY q.article_id, q.start_char", {"ids": json.dumps(analysed)}))
        # a quote's own printed speaker is a stored spelling of its person (the quote itself stores it); only a
        # person's correction of the speaker is looked up among the person's other quotes
        stored = {(row["speaker_id"], row["stored"]) for row in found if row["speaker_id"] and row["stored"]}
        names = speaker_names(db, (row["speaker_id"] for row in found),
                              spellings=[(row["speaker_id"], row["speaker"]) for row in found
                                         if (row["speaker_id"], row["speaker"]) not in stored])
        for speaker_id, speaker in stored:
            names.forms.setdefault(speaker_id, set()).add(speaker)
        for row in found:
            quote = {k: row[k] for k in ("speaker", "speaker_role", "entity_id", "text")}
            quote["speaker"] = names.display(row["speaker_id"], row["speaker"])
            quotes[row["article_id"]].append(quote)
    if ids:
        marks = ",".join("?" * len(ids))
        for row in db.query(f"SELECT a.duplicate_of, coalesce(s.name, a.source_id) AS outlet, a.title FROM articles a "
                            f"LEFT JOIN sources s ON s.id = a.source_id WHERE a.duplicate_of IN ({marks}) "
                            f"ORDER BY a.first_seen_at", ids):
            if row["outlet"] not in copies[row["duplicate_of"]]:
                copies[row["duplicate_of"]].append(row["outlet"])
                headlines[row["duplicate_of"]][row["outlet"]] = row["title"]
        if "article_authors" in db.table_names():
            for row in db.query(f"SELECT article_id, name FROM article_authors WHERE article_id IN ({marks}) "
                                f"ORDER BY article_id, position", ids):
                authors[row["article_id"]].append(row["name"])
    stories = []
    for row in rows:
        article_id = row["id"]
        stories.append({
            "article_id": article_id,
            "headline": store.normalise_text(row["title"]) or "(no headline)",
            "url": row["url"],
            "outlet": row["outlet"],
            "authors": authors[article_id],
            "source_id": row["source_id"],
            "published": (row["published_at"] or "")[:10] or None,
            "published_at": row["published_at"],
            "first_seen_at": row["first_seen_at"],
            "entities": entities[article_id],
            "topics": labels[article_id]["topics"],
            "stance": labels[article_id]["stance"],
            "tone": labels[article_id]["tone"],
            "quotes": quotes[article_id],
            "also_ran_in": [outlet for outlet in copies[article_id] if outlet != row["outlet"]],
            "also_ran": [_also_ran(outlet, headlines[article_id][outlet], row["title"])
                         for outlet in copies[article_id] if outlet != row["outlet"]],
        })
    return stories


def _headline_words(title: str | None) -> list[str]:
    return re.findall(r"\w+", (title or "").lower())


def _also_ran(outlet: str, headline: str | None, story_headline: str | None) -> str:
    """One entry of "Also ran in": the outlet, and its own headline when it differs from the story's
    (which copy is the original is the crawler's choice: an outlet that ran the text under another
    headline is shown with it, so no outlet's story is hidden under another's headline)."""
    if not headline or _headline_words(headline) == _headline_words(story_headline):
        return outlet
    headline = store.normalise_text(headline)
    return f"{outlet} as “{headline if len(headline) <= 100 else headline[:97] + '...'}”"


def named_speaker(speaker: str | None) -> bool:
    """A person's name, not "a spokesperson", "the statement" or none."""
    speaker = speaker or ""
    return speaker[:1].isupper() and not speaker.lower().startswith(("the ", "a ", "an "))


def _quote_rank(quote: dict, principals: list[str] | tuple[str, ...] = ()) -> tuple:
    """How informative a quote is as a story's one quote, higher first: a statement in its own right (its
    first letter a capital or a digit: "Within the coming year or two, there may have to be changes ...")
    over a fragment of the reporter's sentence ("not looking good"); then a principal person's of the body
    (``principals``: those "Needs attention" reports new quotes from); then the longer, up to the excerpt shown
    (:data:`QUOTE_CHARS` ``key``: beyond it the reader sees the same length); then a named speaker over none
    ("a spokesperson"). Callers take the first of the highest, so ties go by order in the story."""
    text = (quote["text"] or "").strip().lstrip("'\"‘“([")
    return (text[:1].isupper() or text[:1].isdigit(), quote.get("speaker") in principals,
            min(len(text), QUOTE_CHARS["key"]), named_speaker(quote.get("speaker")))


def best_quote(quotes: list[dict], principals: list[str] | tuple[str, ...] = ()) -> dict | None:
    """The most informative of ``quotes`` (:func:`_quote_rank`; the first of equals), or None."""
    return max(quotes, key=lambda quote: _quote_rank(quote, principals), default=None)


def _key_quote(story: dict, entity_id: str | None, short_names: dict[str, str] | None = None,
               principals: dict[str, list[str]] | None = None) -> dict | None:
    """The quote to show under a group. Under a body's heading: the body's own quote, else another watched
    body's, its ``body`` (short name) set so the digest names it ("the commissioner, PCC"), else none: a quote
    linked to no body (an out-of-area sergeant, a resident) is nobody's word for the section's body and is not
    shown as if it were. Under "Other local news": a quote for a watched body (named), else any. Of those, the
    most informative (:func:`best_quote`, ``principals``: each body's principal people, :func:`_principals`),
    not the first: "Needs attention" picks a principal's quote the same way, so both show the same words."""
    quotes = story["quotes"]
    names = short_names or {}
    own = [q for q in quotes if entity_id and q["entity_id"] == entity_id]
    other = [q for q in quotes if q["entity_id"] and q["entity_id"] != entity_id]
    for candidate in (own, other) if entity_id else (other, quotes):
        if candidate:
            quote = dict(best_quote(candidate, (principals or {}).get(entity_id, ()) if candidate is own else ()))
            quote["body"] = (names.get(quote["entity_id"], quote["entity_id"])
                             if quote["entity_id"] and quote["entity_id"] != entity_id else None)
            return quote
    return None


def quote_excerpt(text: str, where: str) -> str:
    """A quote as the digest shows it in ``where`` (a :data:`QUOTE_CHARS` key): whole when short, else cut at the
    last word that fits with "..." added (a chief's 1,000-character statement is one line of the morning read,
    not a page; the story's link has the rest). Every format shows the same excerpt."""
    return jinja2.filters.do_truncate(_TEMPLATES, text, QUOTE_CHARS[where])


def quote_credit(quote: dict, *, role: bool = False) -> str:
    """Whose a key quote is: ``Will Kerr`` (the section's body's), ``the commissioner, PCC`` (another watched
    body's: its short name), with the speaker's role when ``role`` (``Will Kerr, Chief Constable``); "" when
    neither is known. Crawled text unescaped: callers escape."""
    parts = [quote.get("speaker"), quote.get("speaker_role") if role else None, quote.get("body")]
    return ", ".join(part for part in parts if part)


def _story_in_group(story: dict, entity_id: str | None, shown: dict[int, str | None],
                    short_names: dict[str, str] | None = None, principals: dict[str, list[str]] | None = None) -> dict:
    """A story as listed under one group: its key quote and tone for that group's entity, and
    ``repeat`` when an earlier group already listed it (renderers show repeats compactly), with
    ``listed_under``, the short name of the group that listed it in full ("listed above under HWFRS":
    a plain-text reader has no link to follow to it). ``shown``: article id -> that short name."""
    entry = {k: v for k, v in story.items() if k != "quotes"}
    entry["key_quote"] = _key_quote(story, entity_id, short_names, principals)
    entry["group_tone"] = story["tone"].get(entity_id) if entity_id else None
    entry["repeat"] = story["article_id"] in shown
    entry["listed_under"] = shown.get(story["article_id"])
    shown.setdefault(story["article_id"], (short_names or {}).get(entity_id, entity_id) if entity_id else None)
    return entry


def _attention_score(story: dict, entity_id: str | None, attention_labels=("favour", "against"),
                     tone_attention=(TONE_ATTENTION_DEFAULT,)) -> int:
    """How much a story needs the reader, within one body's section: a critical tone about the body
    (3: the tone task's ``attention`` labels; the shipped scheme's negative), a stance that needs attention
    (2: the stance task's ``attention`` labels; the shipped scheme's favour and against on fire governance),
    a quote from someone speaking for the body (1)."""
    score = 0
    tone = story["tone"].get(entity_id) if entity_id else None
    if tone and tone["label"] in tone_attention:
        score += 3
    if story["stance"] and story["stance"]["label"] in attention_labels:
        score += 2
    if entity_id and any(quote["entity_id"] == entity_id for quote in story["quotes"]):
        score += 1
    return score


def _ranked(stories: list[dict], entity_id: str | None, attention_labels=("favour", "against"),
            tone_attention=(TONE_ATTENTION_DEFAULT,)) -> list[dict]:
    """Stories of one section, most in need of attention first, then most syndicated, then newest."""
    newest_first = sorted(stories, key=lambda story: (story["published_at"] or story["first_seen_at"] or "",
                                                      story["article_id"]), reverse=True)
    return sorted(newest_first, key=lambda story: (-_attention_score(story, entity_id, attention_labels,
                                                                     tone_attention),
                                                   -len(story["also_ran_in"])))


def _principals(db: Database) -> dict[str, list[str]]:
    """Each body's principal people: its :data:`PRINCIPALS_PER_BODY` most quoted named speakers over
    every stored story (``most_quoted``; "a spokesperson" or "the statement" are not people). most_quoted's
    ``speaker`` is already the person's name as the digest shows it: the ``speaker_names`` name when the person
    has one (:meth:`SpeakerNames.display` gives that name back), else the speaker as printed (which display gives
    back too), so the names are not looked up again (for every person quoted, from every stored quote)."""
    found: dict[str, list[str]] = {}
    for row in db.query("SELECT entity_id, speaker FROM most_quoted ORDER BY entity_id, rank, speaker"):
        speaker = row["speaker"]
        if not named_speaker(speaker):
            continue
        people = found.setdefault(row["entity_id"], [])
        if len(people) < PRINCIPALS_PER_BODY:
            people.append(speaker)
    return found


def _attention(stories: list[dict], entities: list[dict], spikes: dict[str, dict],
               health: list[dict], principals: dict[str, list[str]], stance: dict | None = None,
               tone_attention: dict[str, str] | None = None, unanalysed: list[dict] | None = None,
               pipeline: dict | None = None) -> list[dict]:
    """The "needs attention" items, most pressing kind first: a critical tone towards a watched
    body (``tone_attention``: the tone task's ``attention`` labels and their words; the shipped scheme's
    negative), a stance that needs attention (``stance``: :func:`stance_view`; its ``attention`` labels, in
    order: the shipped scheme's against, then favour, on fire governance), coverage spikes, new quotes by each body's principal people
    (its most quoted named speakers), crawl failures, then the stored stories the analyser failed on
    (``unanalysed``: ``store.unanalysed_articles``; one item naming the first, with how many). Short by design: at most :data:`ATTENTION_PER_GROUP` stories per body (or per
    stance), at most :data:`ATTENTION_PER_OUTLET` of them from one outlet, confident labels before unsure ones, newest
    first; the rest as one "and N more" line that says which outlets they came from (``by_outlet``: [(outlet, n)])."""
    items: list[dict] = []
    if pipeline and (pipeline["not_analysed"] or pipeline["not_classified"] or pipeline["failed"]):
        items.append({"kind": "pipeline", **pipeline})   # first: every other line rests on the analysis
    rank = {"checked": 0, "confident": 1, "unsure": 2}

    def story_item(kind: str, story: dict, **extra) -> dict:
        return {"kind": kind, "article_id": story["article_id"], "headline": story["headline"],
                "url": story["url"], "outlet": story["outlet"], "source_id": story.get("source_id"), **extra}

    def capped(found: list[dict], what, **more) -> None:
        """``what(noun)``: the stories left out, given their noun (``wording.noun``)."""
        found.sort(key=lambda item: rank.get(item.get("confidence"), 1))  # stable: newest first within
        shown: list[dict] = []
        left: list[dict] = []
        per_outlet: dict[str, int] = {}
        for item in found:
            outlet = item.get("source_id") or item["outlet"]
            if len(shown) < ATTENTION_PER_GROUP and per_outlet.get(outlet, 0) < ATTENTION_PER_OUTLET:
                shown.append(item)
                per_outlet[outlet] = per_outlet.get(outlet, 0) + 1
            else:
                left.append(item)
        items.extend(shown)
        if left:
            outlets: dict[str, int] = {}
            for item in left:
                outlets[item["outlet"]] = outlets.get(item["outlet"], 0) + 1
            items.append({"kind": "more", "more": len(left), "what": what(noun(len(left), "story", "stories")),
                          "by_outlet": sorted(outlets.items(), key=lambda pair: (-pair[1], pair[0])),
                          # which stories: the e-mail says whether it lists them below (:func:`email_digest`)
                          "article_ids": [item["article_id"] for item in left], **more})

    tone_attention = {TONE_ATTENTION_DEFAULT: TONE_ATTENTION_DEFAULT} if tone_attention is None else tone_attention
    for entity in entities:
        for label, words in tone_attention.items():
            found = []
            for story in stories:
                tone = story["tone"].get(entity["id"])
                if tone and tone["label"] == label:
                    found.append(story_item("negative_tone", story, entity_id=entity["id"], body=entity["short_name"],
                                            confidence=tone["confidence"], label=label, words=words))
            capped(found, lambda noun, name=entity["short_name"], words=words: f"{words} {noun} about {name}",
                   entity_id=entity["id"])
    stance = stance or stance_view(report_tasks())
    for label, words in stance["attention"].items():
        found = [story_item("stance", story, label=label, about=stance["heading"],
                            confidence=story["stance"]["confidence"])
                 for story in stories if story["stance"] and story["stance"]["label"] == label]
        capped(found, lambda noun, words=words: f"{noun} {words}")
    for entity in entities:
        info = spikes[entity["id"]]
        if info["spike"]:
            items.append({"kind": "spike", "entity_id": entity["id"], "body": entity["short_name"],
                          "today": info["today"], "stories": info["stories"], "outlets": info["outlets"],
                          "per_outlet": SPIKE_STORIES_PER_OUTLET, "baseline_mean": info["baseline_mean"]})
    for entity in entities:
        people = principals.get(entity["id"], [])
        for person in people:  # the latest new quote of each of the body's principal people
            for story in stories:
                # the most informative of theirs, as the story's key quote under the body picks it
                quote = best_quote([q for q in story["quotes"] if q["entity_id"] == entity["id"]
                                    and q["speaker"] == person], people)
                if quote:
                    items.append(story_item("quote", story, entity_id=entity["id"], body=entity["short_name"],
                                            speaker=person, text=quote["text"]))
                    break
    for warning in health:
        if warning["level"] == "error":
            items.append({"kind": "crawl", "message": warning["message"]})
    failed = [warning for warning in health if warning.get("failed")]
    # the digest's stories from each failed source (first seen by earlier crawls of its window)
    listed = {warning["source_id"]: sum(1 for story in stories if story.get("source_id") == warning["source_id"])
              for warning in failed}
    if len(failed) <= FAILED_SOURCES_LISTED:
        items += [{"kind": "source_failed", "source_id": warning["source_id"], "outlet": warning["outlet"],
                   "cause": warning["cause"], "stories": listed[warning["source_id"]]} for warning in failed]
    else:  # one line naming them all: a night without network must not fill the block
        items.append({"kind": "sources_failed", "outlets": [warning["outlet"] for warning in failed],
                      "causes": sorted({warning["cause"] for warning in failed}),
                      "stories": sum(listed.values())})
    if unanalysed:   # no mentions, quotes or labels until a run analyses them: one line, however many
        first = unanalysed[0]
        items.append({"kind": "unanalysed", "count": len(unanalysed), "article_id": first["article_id"],
                      "headline": first["title"] or first["url"], "url": first["url"], "outlet": first["outlet"] or "",
                      "error": first["error"], "runs": first["runs"]})
    return items


def spike_moment(published_at: str | None, first_seen_at: str | None) -> dt.datetime:
    """When a story counts for the spike rule: its ``published_at``; for a date-only ``published_at``
    (a page that printed no time) the moment it was first seen if that was on its date, else the last
    second of its date (a story dated yesterday and crawled at 02:00 today counts in yesterday's
    evening, inside a 02:30 digest's last 24 hours); no date at all: when first seen. Raises
    ``ValueError`` for a malformed date."""
    if not published_at:
        return _parse(first_seen_at or "")
    text = published_at.strip()
    if len(text) != 10:
        return _parse(text)
    start = _parse(text)
    end = start + dt.timedelta(days=1, seconds=-1)
    try:
        seen = _parse(first_seen_at) if first_seen_at else end
    except ValueError:
        seen = end
    return max(start, min(seen, end))


def _window_counts(db: Database, until: dt.datetime, days: int) -> dict[str, list[dict[str, int]]]:
    """Stories per entity and outlet (``source_id``; '' when unknown) in each of ``days`` 24-hour windows
    ending at ``until`` (oldest first): ``{entity_id: [{outlet: stories}, ...]}``. Each story counts at
    its :func:`spike_moment` (a date-only story on its own date), today's window and the baseline's alike.
    Whom a story is about is what the analysis of its current text found, as the sections list it: a story
    revised since (:func:`_current_stamps`) counts for no body until the analyse stage reads it again."""
    start = until - dt.timedelta(days=days)
    rows = db.query(
        # by date first (a date-only published_at sorts before the same day's timestamps), exactly below
        "SELECT DISTINCT m.entity_id, a.id, coalesce(a.source_id, '') AS outlet, "
        f"a.published_at, a.first_seen_at FROM {_about(_ANALYSED_BETWEEN)} m JOIN articles a ON a.id = m.article_id",
        {"start": start.date().isoformat(), "end": until.date().isoformat()})
    counts: dict[str, list[dict[str, int]]] = {}
    for row in rows:
        try:
            moment = spike_moment(row["published_at"], row["first_seen_at"])
        except ValueError:  # a malformed date from a crawled page: leave it out of the counts
            continue
        if not start < moment <= until:
            continue
        index = days - 1 - math.floor((until - moment).total_seconds() / 86400)
        if 0 <= index < days:
            window = counts.setdefault(row["entity_id"], [{} for _ in range(days)])[index]
            window[row["outlet"]] = window.get(row["outlet"], 0) + 1
    return counts


def _counted(window: dict[str, int]) -> int:
    """A window's stories as a spike counts them: at most :data:`SPIKE_STORIES_PER_OUTLET` per outlet."""
    return sum(min(stories, SPIKE_STORIES_PER_OUTLET) for stories in window.values())


def _spikes(db: Database, entities: list[dict], until: dt.datetime) -> dict[str, dict]:
    """Per entity: ``today`` (the last 24 hours' stories as counted, at most :data:`SPIKE_STORIES_PER_OUTLET`
    per outlet), ``stories`` and ``outlets`` (all of them, and how many outlets ran them), the baseline of
    the counted figure and ``spike`` (the module's spike rule)."""
    counts = _window_counts(db, until, BASELINE_DAYS + 1)
    result = {}
    for entity in entities:
        series = counts.get(entity["id"], [{} for _ in range(BASELINE_DAYS + 1)])
        baseline, window = [_counted(day) for day in series[:-1]], series[-1]
        today = _counted(window)
        mean = statistics.fmean(baseline)
        sd = statistics.pstdev(baseline)
        threshold = mean + SPIKE_SD * sd
        result[entity["id"]] = {
            "today": today, "stories": sum(window.values()), "outlets": len(window),
            "baseline_mean": round(mean, 2), "baseline_sd": round(sd, 2),
            "threshold": round(threshold, 2),
            "spike": today >= SPIKE_MIN_STORIES and len(window) >= SPIKE_MIN_OUTLETS and today >= threshold,
        }
    return result


def tone_rated(db: Database, task: str = "tone") -> set[str]:
    """Bodies a tone model (or a person) has rated (``task``: the scheme's tone task): the others are
    "not rated", never 0. The predictions' bodies are read one at a time from idx_classifications_task_target
    (m040: the next body after the last), not from every prediction of the task."""
    return {row[0] for row in db.execute(
        "WITH RECURSIVE rated(target) AS (SELECT (SELECT min(target) FROM classifications WHERE task = :task) "
        "UNION ALL SELECT (SELECT min(target) FROM classifications WHERE task = :task AND target > rated.target) "
        "FROM rated WHERE rated.target IS NOT NULL) "
        "SELECT target FROM rated WHERE target IS NOT NULL "
        f"UNION SELECT DISTINCT target FROM labels l WHERE task = :task AND {store.standing_label_sql('l')}",
        {"task": task})}


def _charts(db: Database, entities: list[dict], until: dt.datetime, stance_task: str | None = "stance_governance",
            stance_labels=STANCES, tone_task: str | None = "tone", tone_labels=TONES,
            rated: set[str] | None = None) -> dict:
    """Over the :data:`CHART_DAYS` days ending on ``until``'s date (the digest's own day, whatever
    the newest story: a quiet spell or a crawl outage shows as empty days, never as a window moved
    back): stories a day per body, the tone mix towards each body (None: not rated), each body's
    share of voice (its share of all body mentions by story) and the stance mix; ``latest``: the
    newest published day of a stored story by ``until`` (None: none), so captions can say when the
    window's last days are empty because nothing was published (or crawled). Counted as the sections
    list stories (:func:`_current_stamps`): whom a story is about from the analysis of its current text,
    its predicted stance and tone from the classification of that text (a person's label always), so a
    story revised since it was read counts for no body, stance or tone until the stages read it again."""
    latest = db.execute("SELECT max(substr(coalesce(published_at, first_seen_at), 1, 10)) FROM articles "
                        "WHERE duplicate_of IS NULL AND substr(coalesce(published_at, first_seen_at), 1, 10) <= ?",
                        [until.date().isoformat()]).fetchone()[0]
    last_day = until.date()
    # Nothing published in the whole window (an archive such as the demo's, or a crawl that has not run
    # for a month): the window ends on the newest story's day instead, and the caption says so, rather
    # than 30 empty days.
    ends_on = "digest"
    if latest is not None and (last_day - dt.date.fromisoformat(latest[:10])).days >= CHART_DAYS:
        last_day, ends_on = dt.date.fromisoformat(latest[:10]), "newest"
    days = [(last_day - dt.timedelta(days=n)).isoformat() for n in range(CHART_DAYS - 1, -1, -1)]
    coverage = {entity["id"]: [0] * CHART_DAYS for entity in entities}
    tone: dict[str, dict[str, int] | None] = {entity["id"]: None for entity in entities}
    stance = {label: [0] * CHART_DAYS for label in stance_labels}
    position = {day: i for i, day in enumerate(days)}
    if rated is None:   # (build_digest passes the bodies it read: :func:`tone_rated`)
        rated = tone_rated(db, tone_task) if tone_task is not None else set()   # None: the scheme has no tone task
    for entity_id in tone:
        if entity_id in rated:
            tone[entity_id] = {label: 0 for label in tone_labels}  # rated: counted below, 0 without a story
    # the original stories about each body a day (entity_daily's count, by the current-text rule), and the
    # tone towards it (the scheme's tone task, a person's label or a prediction for the current text)
    window = {"start": days[0], "end": days[-1], "tone_task": tone_task}
    about = f"FROM {_about(_ANALYSED_BETWEEN)} m JOIN articles a ON a.id = m.article_id"
    for row in db.query("SELECT m.entity_id, substr(coalesce(a.published_at, a.first_seen_at), 1, 10) AS day, "
                        f"count(DISTINCT a.id) AS n {about} GROUP BY m.entity_id, day", window):
        if row["entity_id"] in coverage and row["day"] in position:
            coverage[row["entity_id"]][position[row["day"]]] = row["n"]
    # (the window's stories' effective labels alone: store.schema.effective_labels_among)
    for row in db.query(
            f"SELECT m.entity_id, t.label, count(DISTINCT a.id) AS n {about} "
            f"JOIN ({effective_labels_among(db, _ANALYSED_BETWEEN)}) t "
            "ON t.article_id = a.id AND t.task = :tone_task AND t.target = m.entity_id "
            f"WHERE t.human OR {_read_now('classify')} GROUP BY m.entity_id, t.label", window):
        mix = tone.get(row["entity_id"])
        if mix is not None and row["label"] in mix:
            mix[row["label"]] += row["n"]
    # the stance task's effective label per original story (as article_summary's ``stance`` column,
    # but by the scheme's stance task, whatever its name, and a prediction only for the current text)
    in_window = ("SELECT a.id FROM articles a WHERE a.duplicate_of IS NULL "
                 "AND substr(coalesce(a.published_at, a.first_seen_at), 1, 10) BETWEEN :start AND :end")
    for row in db.query(
            "SELECT substr(coalesce(a.published_at, a.first_seen_at), 1, 10) AS day, e.label AS stance, "
            f"count(DISTINCT a.id) AS n FROM articles a JOIN ({effective_labels_among(db, in_window)}) e "
            "ON e.article_id = a.id AND e.task = :stance_task WHERE a.duplicate_of IS NULL "
            "AND substr(coalesce(a.published_at, a.first_seen_at), 1, 10) BETWEEN :start AND :end "
            f"AND (e.human OR {_read_now('classify')}) GROUP BY day, e.label",
            {"stance_task": stance_task, "start": days[0], "end": days[-1]}):
        if row["stance"] in stance and row["day"] in position:
            stance[row["stance"]][position[row["day"]]] = row["n"]
    totals = {entity_id: sum(values) for entity_id, values in coverage.items()}
    all_mentions = sum(totals.values())
    share = {entity_id: (round(100 * total / all_mentions, 1) if all_mentions else 0.0)
             for entity_id, total in totals.items()}
    return {"days": days, "latest": latest, "ends_on": ends_on, "digest_day": until.date().isoformat(),
            "coverage": coverage, "totals": totals, "tone": tone, "tone_labels": list(tone_labels), "share": share,
            "stance": stance, "stance_totals": {label: sum(values) for label, values in stance.items()}}


def _health(db: Database) -> tuple[dict | None, list[dict]]:
    """The last crawl run and warnings about it: failed status; sources with errors, that stored no
    articles with errors or rejected pages, or that stopped yielding or never did
    (``store.yield_problem``: a crawl that found only stories already stored is healthy). A source
    that stored nothing and recorded errors in that run failed: its warning has ``failed`` and
    ``cause`` (its most frequent error in words, :func:`cuttings.failures.source_failures`), and
    the "needs attention" block names it."""
    run = next(iter(db.query("SELECT * FROM crawl_runs ORDER BY started_at DESC, id DESC LIMIT 1")), None)
    if run is None:
        return None, [{"source_id": None, "outlet": None, "level": "warning",
                       "message": "no crawl has run yet: run `cuttings crawl`"}]
    warnings = []
    if run["status"] != "ok":
        warnings.append({"source_id": None, "outlet": None, "level": "error" if run["status"] == "failed" else "warning",
                         "message": f"last crawl (crawl run {run['id']}, started {run['started_at']}) ended "
                                    f"'{run['status']}'" + (f": {run['message']}" if run["message"] else "")})
    error_kinds: dict[str, list[str]] = {}
    # an article the analyser raised on is no fault of its outlet: "Needs attention" names it on its own
    for row in db.query("SELECT coalesce(source_id, '') AS source_id, kind, count(*) AS n FROM crawl_errors "
                        "WHERE crawl_run_id = ? AND kind != ? GROUP BY 1, 2 ORDER BY 1, 2", [run["id"], store.ANALYSE_FAILED]):
        error_kinds.setdefault(row["source_id"], []).append(f"{row['n']} {row['kind']}")
    source_rows = {row["source_id"]: row for row in db.query(
        "SELECT * FROM source_runs WHERE crawl_run_id = ?", [run["id"]])}
    # sources that stored nothing and recorded errors: failed, with their most frequent error in words
    causes = {source_id: cause for source_id, _kind, cause in source_failures(db, run["id"], list(source_rows.values()))}
    for source in db.query("SELECT id, name FROM sources ORDER BY id"):
        problems = []
        if source["id"] in error_kinds:
            problems.append("errors: " + ", ".join(error_kinds.pop(source["id"])))
        source_run = source_rows.get(source["id"])
        if source_run is None:
            problems.append("not crawled in the last run")
        else:
            if source_run["articles_stored"] == 0 and (source_failed(source_run, db) or source_run["pages_rejected"]):
                problems.append("no articles")
            else:
                problem = store.yield_problem(store.recent_source_runs(db, source["id"], limit=store.YIELD_RUNS))
                if problem == "stopped":
                    problems.append(f"no new stories in the last {counted(store.STOPPED_AFTER_RUNS, 'crawl')}")
                elif problem == "never":
                    problems.append("no story stored yet")
            if source_run["warning"]:
                problems.append(source_run["warning"])
        if problems:
            warning = {"source_id": source["id"], "outlet": source["name"], "level": "warning",
                       "message": "; ".join(problems)}
            if source["id"] in causes:
                warning.update(failed=True, cause=causes[source["id"]])
            warnings.append(warning)
    for source_id, kinds in error_kinds.items():
        warnings.append({"source_id": source_id or None, "outlet": source_id or None, "level": "warning",
                         "message": "errors: " + ", ".join(kinds)})
    return dict(run), warnings


def _pipeline(db: Database, since: str, until: str, stories: list[dict], stamps: dict[str, set[int]],
              failed_on: set[int] | None = None) -> dict:
    """What the analysis behind the digest lacks: the digest's stories not yet analysed (no ``analyse``
    stamp for their current text, at any analyser version) and, when classification is in use (any
    article was ever classified when no ``cuttings run`` is covered, else a covered run meant to classify),
    those analysed but not yet classified;
    and the analyse and classify stages
    that failed (or were interrupted) in the ``cuttings run`` runs the digest covers (started after
    ``since``; the run writing it has its stages so far recorded, ``store.record_run_stages``).
    ``stamps``: :func:`_current_stamps` of the stories. ``failed_on``: the articles the analyser failed on (``store.unanalysed_articles``): listed under "Not yet
    analysed" (``not_analysed_ids``) but not counted, as their own "needs attention" line names them.
    ``{"not_analysed", "not_classified", "failed": [{"stage", "run_id", "status"}], "not_analysed_ids"}``."""
    ids = [story["article_id"] for story in stories]
    failed, covered_runs, meant_to_classify = [], 0, False
    for run in db.query("SELECT id, status, stages_json FROM crawl_runs WHERE command = 'run' AND started_at > ? "
                        "AND started_at <= ? ORDER BY id", [since, until]):
        try:
            stages = json.loads(run["stages_json"]) if run["stages_json"] else {}
        except ValueError:
            stages = {}
        covered_runs += 1
        for stage in PIPELINE_STAGES:
            result = (stages.get(stage) or {}) if isinstance(stages, dict) else {}
            if result.get("status") in ("failed", "interrupted"):
                failed.append({"stage": stage, "run_id": run["id"], "status": result["status"]})
            if stage == "classify" and result and not store.skipped_by_design(result):
                meant_to_classify = True   # it ran, failed, or was skipped as analyse failed
    # Classification is in use when a covered run meant to classify; with no covered run (stages run by
    # hand), when any article was ever classified. A team that runs `--skip classify` is not told nightly
    # that its stories wait for a stage it does not run.
    classifying = meant_to_classify if covered_runs else \
        db.execute("SELECT EXISTS (SELECT 1 FROM processing WHERE stage = 'classify')").fetchone()[0]
    not_analysed = [i for i in ids if i not in stamps["analyse"]]
    not_classified = ([i for i in ids if i in stamps["analyse"] and i not in stamps["classify"]]
                      if classifying else [])
    waiting = [i for i in not_analysed if i not in (failed_on or set())]
    return {"not_analysed": len(waiting), "not_classified": len(not_classified), "failed": failed,
            "not_analysed_ids": not_analysed}


def pipeline_text(item: dict) -> str:
    """"12 stories not yet analysed: the analyse stage failed in run 5; see `cuttings doctor`": the
    digest's stories the analysis has not reached, and the stages that failed in its runs."""
    waiting = []
    if item["not_analysed"]:
        waiting.append(f"{counted(item['not_analysed'], 'story', 'stories')} not yet analysed")
    if item["not_classified"]:
        waiting.append(counted(item["not_classified"], "more story", "more stories") if waiting else
                       counted(item["not_classified"], "story", "stories"))
        waiting[-1] += " not yet classified"
    runs: dict[tuple[str, str], list[str]] = {}
    for failure in item["failed"]:
        runs.setdefault((failure["stage"], failure["status"]), []).append(str(failure["run_id"]))
    causes = [f"the {stage} stage {status} in {noun(len(ids), 'run')} {', '.join(ids)}"
              for (stage, status), ids in runs.items()]
    if waiting:
        command = "`cuttings analyse`, then `cuttings classify`" if item["not_analysed"] else "`cuttings classify`"
        text = " and ".join(waiting) + (": " + "; ".join(causes) if causes else f" (run {command})")
    else:
        text = "; ".join(causes)
        text = text[0].upper() + text[1:]
    return f"{text}; see `cuttings doctor`"


# counts in the template's words: {{ n | counted("new story", "new stories") }} (cuttings.wording: one rule)
_TEMPLATES.filters["counted"] = counted


# The roles of the tasks whose labels the digest shows (:func:`report_tasks`), in the order it names them.
TRUST_TASKS = (("topics", "Topics"), ("stance", "Stance"), ("tone", "Tone"))


def _trust(db: Database, article_ids: list[int], tasks: dict) -> list[dict]:
    """How far to trust the labels the digest shows: per task, how often each label was right
    (its precision) on labelled articles the model was not trained on, from the recorded card of the
    model that labelled these stories (the newest by creation, if several did). The card's
    leave-one-slice-out report when it has one (each gathering slice held out in turn: the nearest
    guide to tomorrow's news), else its cross-validation report; a task without a recorded card is
    left out, and so are the labels the digest never shows (the stance task's labels it does not
    count, such as its ``absent`` label) and those the test set did not hold. ``tasks``: the label
    scheme's tasks (their label order; empty: the packaged scheme's); each entry's ``task`` is the
    scheme's name for it. ``below_baseline``: the figures of a model no better than its baseline
    (``nlp.baseline.below_baseline``), else None; such a task is kept even without a label to show."""
    if not article_ids:
        return []
    cards = {row["task"]: (row["version"], row["card_json"]) for row in db.query(
        "SELECT m.task, m.version, m.card_json FROM models m WHERE m.version IN (SELECT DISTINCT model_version "
        "FROM classifications WHERE article_id IN (SELECT value FROM json_each(?))) ORDER BY m.created_at, m.version",
        [json.dumps(article_ids)])}
    trust = []
    roles = report_tasks(tasks)
    for role, title in TRUST_TASKS:
        scheme_task = roles.get(role)
        task = scheme_task.name if scheme_task is not None else None
        if task not in cards:
            continue
        version, card_json = cards[task]
        try:
            card = json.loads(card_json) if card_json else {}
        except ValueError:
            card = {}
        held_out = card.get("leave_one_slice_out") or {}
        report, basis = ((held_out, "held_out") if held_out.get("per_label") and "error" not in held_out
                         else (card.get("cross_validation") or {}, "cross_validation"))
        hidden = set(scheme_task.labels) - set(scheme_task.counted) if role == "stance" else set()
        labels = [{"label": label, "precision": scores["precision"], "recall": scores.get("recall"),
                   "support": scores["support"]}
                  for label, scores in (report.get("per_label") or {}).items()
                  if label not in hidden and scores.get("support") and scores.get("precision") is not None]
        order = list(scheme_task.labels)
        labels.sort(key=lambda entry: order.index(entry["label"]) if entry["label"] in order else len(order))
        weak = below_baseline(card)
        if labels or weak:
            trust.append({"task": task, "title": title, "basis": basis, "model_version": version,
                          "labels": labels, "below_baseline": weak["words"] if weak else None})
    return trust


def _weak_models(trust: list[dict]) -> list[dict]:
    """The "needs attention" items of the models behind the digest's labels that are no better than their
    baseline (the trust note's ``below_baseline``): one each, last in the block (the team's to fix, by
    labelling more; `cuttings doctor` warns of it too)."""
    return [{"kind": "weak_model", "task": entry["task"], "title": entry["title"], "figures": entry["below_baseline"]}
            for entry in trust if entry.get("below_baseline")]


def trust_text(entry: dict) -> str:
    """``Tone, tested on ...: of every 100 labels of each kind, this many were right: “positive” 63;
    “negative” 72; “neutral” 77.``: one task's line of the trust note ("never right" for a label given
    in testing and never rightly, "under 1" for one right less than once in 100). A model no better than
    its baseline (``below_baseline``, from ``nlp.baseline.below_baseline``) gets a sentence saying so."""
    basis = ("tested on labelled news its model was not trained on" if entry["basis"] == "held_out"
             else "tested in cross-validation on its own training articles (expect less on new coverage)")

    def share(precision: float) -> str:
        return "never right" if precision == 0 else "under 1" if precision < 0.005 else str(round(100 * precision))
    parts = [f"“{label['label']}” {share(label['precision'])}" for label in entry["labels"]]
    text = (f"{entry['title']}, {basis}: of every 100 labels of each kind, this many were right: " + "; ".join(parts) + "."
            if parts else "")
    if entry.get("below_baseline"):
        # the model as a whole is no better than a guess, whatever a label's share: say so in the same note
        text += (" " if text else "") + (f"{entry['title']}: its model is no better than its baseline "
                                         f"({entry['below_baseline']}): treat these labels as a guess; see `cuttings doctor`.")
    return text


def _edits(db: Database, since: str | None, until: str) -> list[dict]:
    """Revisions (version > 1) captured in (since, until], newest first, with the headline before."""
    rows = db.query(
        "SELECT v.article_id, v.version, v.captured_at, v.diff_summary, v.headline_changed, v.is_correction, "
        "v.title AS headline, p.title AS previous_headline, coalesce(a.link_url, a.url) AS url, "
        "coalesce(s.name, a.source_id) AS outlet FROM article_versions v "
        "JOIN articles a ON a.id = v.article_id LEFT JOIN sources s ON s.id = a.source_id "
        "LEFT JOIN article_versions p ON p.article_id = v.article_id AND p.version = v.version - 1 "
        "WHERE v.version > 1 AND v.captured_at > coalesce(?, '') AND v.captured_at <= ? "
        "ORDER BY v.captured_at DESC, v.id DESC", [since, until])
    edits = []
    for row in rows:
        edit = dict(row)
        edit["headline"] = store.normalise_text(edit["headline"])
        edit["previous_headline"] = store.normalise_text(edit["previous_headline"])
        edit["headline_changed"] = bool(edit["headline_changed"])
        edit["is_correction"] = bool(edit["is_correction"])
        edits.append(edit)
    return edits


def build_digest(db: Database, since: str | None = None, until: str | None = None,
                 now: str | None = None) -> dict:
    """Everything the morning digest shows, as a JSON-serialisable dict.

    ``since`` defaults to the ``until`` of the last ``reports`` row; when no report was ever made
    (the first digest) it covers everything not yet reported, back to :data:`FIRST_DIGEST_DAYS` days
    before ``until``, and ``older`` counts the stories first seen before that (still in the
    database: ``cuttings export``, Datasette). ``until`` defaults to ``now``, which defaults to the
    current UTC time. Stories are articles first seen in (since, until].
    """
    now = normalise_timestamp(now) or store.utcnow()
    until = normalise_timestamp(until) or now
    until_dt = _parse(until)
    first_digest = not since and _last_report_until(db) is None
    since = normalise_timestamp(since) or _last_report_until(db) or _iso(until_dt - dt.timedelta(days=FIRST_DIGEST_DAYS))
    older = (db.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NULL AND first_seen_at <= ?",
                        [since]).fetchone()[0] if first_digest else 0)
    entities = [dict(row) | {"short_name": row["display_name"] or row["name"]}
                for row in db.query("SELECT id, name, kind, display_name FROM entities ORDER BY rowid")]
    names = {entity["id"]: entity["name"] for entity in entities}
    short_names = {entity["id"]: entity["short_name"] for entity in entities}
    tasks = _label_tasks()
    roles = report_tasks(tasks)
    stance = stance_view(roles)
    # no stance model's predictions yet (a team's first nights): "not rated", as tone says, never zeros; the
    # human labels of a handful of stories (the team labelling to train) are no rating of the night's stories
    stance["rated"] = stance["task"] is not None and bool(db.execute(
        "SELECT EXISTS (SELECT 1 FROM classifications WHERE task = ?)", [stance["task"]]).fetchone()[0])
    attention_labels = tuple(stance["attention"])
    # a scheme without a tone task (topics and stance only): no tone is rated, flagged or named
    tone_attention = roles["tone"].attention_labels if roles.get("tone") is not None else {}
    rows = _story_rows(db, since, until)
    stamps = _current_stamps(db, [row["id"] for row in rows])
    stories = _stories(db, rows, stamps, _thresholds(tasks), roles)
    spikes = _spikes(db, entities, until_dt)

    tone_task = roles["tone"].name if roles.get("tone") is not None else None
    rated = tone_rated(db, tone_task) if tone_task is not None else set()
    groups: list[dict] = []
    shown: dict[int, str | None] = {}
    principals = _principals(db)
    for entity in entities:
        members = [_story_in_group(story, entity["id"], shown, short_names, principals)
                   for story in _ranked([story for story in stories if entity["id"] in story["entities"]],
                                        entity["id"], attention_labels, tuple(tone_attention))]
        if members:
            groups.append({"entity_id": entity["id"], "name": entity["name"], "short_name": entity["short_name"],
                           "kind": entity["kind"], "stories": members, "spike": spikes[entity["id"]],
                           "tone_rated": entity["id"] in rated if tone_task is not None else None})
    unanalysed = store.unanalysed_articles(db)
    pipeline = _pipeline(db, since, until, stories, stamps, {row["article_id"] for row in unanalysed})
    waiting = set(pipeline["not_analysed_ids"])
    # a story the analyse stage has not read is not "other news": nobody checked whom it mentions
    unwatched = [_story_in_group(story, None, shown, short_names)
                 for story in _ranked([story for story in stories if not set(story["entities"]) & set(names)
                                       and story["article_id"] not in waiting], None,
                                      attention_labels, tuple(tone_attention))]
    if unwatched:
        groups.append({"entity_id": None, "name": OTHER_GROUP, "short_name": "Other", "kind": None,
                       "stories": unwatched, "spike": None, "tone_rated": None})
    not_analysed = [_story_in_group(story, None, shown) for story in stories if story["article_id"] in waiting]
    if not_analysed:
        groups.append({"entity_id": None, "name": NOT_ANALYSED_GROUP, "short_name": NOT_ANALYSED_GROUP, "kind": None,
                       "stories": not_analysed, "spike": None, "tone_rated": None})
    del pipeline["not_analysed_ids"]

    stance_counts = {label: 0 for label in stance["labels"]}
    for story in stories:
        if story["stance"] and story["stance"]["label"] in stance_counts:
            stance_counts[story["stance"]["label"]] += 1
    run, health = _health(db)
    edits = _edits(db, since, until)
    # the models behind the labels shown: those of the stories' current text (_stories)
    trust = _trust(db, [story["article_id"] for story in stories if story["article_id"] in stamps["classify"]], tasks)
    return {
        "title": "Cuttings morning digest",
        "generated_at": now,
        "since": since,
        "until": until,
        "summary": {
            "stories": len(stories),
            "by_entity": {group["entity_id"]: len(group["stories"]) for group in groups if group["entity_id"]},
            "by_name": {group["short_name"]: len(group["stories"]) for group in groups},
            "other": len(unwatched),
            "not_analysed": pipeline["not_analysed"],
            "not_classified": pipeline["not_classified"],
            "stance": stance_counts,
            "edits": len(edits),
            "headline_changes": sum(1 for edit in edits if edit["headline_changed"]),
            # the first digest only: stories first seen before its window (not listed, still stored)
            "older": older,
        },
        "stance": stance,
        # the scheme's task of each role (None: it has none, and the digest says nothing of that role)
        "tasks": {role: task.name if task is not None else None for role, task in roles.items()},
        # the words of the tone labels that put a story under "needs attention" (the scheme's: "negative",
        # a team's "critical"), for the sentence an empty block shows
        "tone_attention": list(dict.fromkeys(tone_attention.values())),
        "tone_attention_labels": list(tone_attention),  # their labels: the legend's example tone badge is the first
        "attention": _attention(stories, entities, spikes, health, principals, stance, tone_attention,
                                unanalysed=unanalysed, pipeline=pipeline) + _weak_models(trust),
        "pipeline": pipeline,
        "entities": entities,
        "groups": groups,
        "edits": edits,
        "spikes": [{"entity_id": entity_id, "name": names[entity_id], "short_name": short_names[entity_id], **info}
                   for entity_id, info in spikes.items() if info["spike"]],
        "charts": _charts(db, entities, until_dt, stance["task"], stance["labels"], tone_task,
                          digest_tone_labels(roles.get("tone")), rated),
        "trust": trust,
        "last_run": run,
        "health": health,
    }


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------

def safe_url(url: str | None) -> str:
    """The URL if it is http(s), else ``#``: a crawled ``javascript:`` link must not become clickable."""
    if url and urllib.parse.urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        return url.strip()
    return "#"


def _when(timestamp: str | None) -> str:
    """``2026-11-24T07:00:00Z`` as ``Tue 24 Nov 2026, 07:00 UTC`` (unparseable text shown as it is)."""
    try:
        value = _parse(timestamp) if timestamp else None
    except ValueError:
        return timestamp or ""
    return f"{value:%a} {value.day} {value:%b %Y, %H:%M} UTC" if value else ""


def _day(timestamp: str | None) -> str:
    """``2026-11-24`` as ``Tue 24 Nov 2026`` (unparseable text shown as it is)."""
    try:
        value = _parse(timestamp) if timestamp else None
    except ValueError:
        return timestamp or ""
    return f"{value:%a} {value.day} {value:%b %Y}" if value else ""


def _bars(values: list[int], width: int = 300, height: int = 26) -> dict:
    """Geometry of a small bar chart (one bar per day), for the SVG in the template."""
    top = max(max(values, default=0), 1)
    step = width / max(len(values), 1)
    bars = []
    for index, value in enumerate(values):
        bar_height = round(value / top * (height - 2), 1)
        bars.append({"x": round(index * step + 0.5, 1), "w": round(max(step - 1.5, 1), 1),
                     "y": round(height - 1 - bar_height, 1), "h": bar_height, "value": value})
    return {"width": width, "height": height, "bars": bars}


_STANCE_COLOURS = {"favour": "#3f8f4f", "neutral": "#8a9ab5", "against": "#c0392b"}
_OTHER_COLOURS = ("#4f7fb0", "#d08c2c", "#8e5ea2", "#5a9e9a", "#b05a7a", "#7a7a3a")  # another scheme's stance labels
_TONE_COLOURS = {"positive": "#3f8f4f", "neutral": "#8a9ab5", "negative": "#c0392b"}


def _stacked_bar(mix: dict[str, int], labels, colours: dict[str, str], width: int, height: int) -> dict:
    """Geometry of a 100% stacked bar of ``mix`` (label -> count), parts in ``labels`` order."""
    total = sum(mix.values())
    parts, x = [], 0.0
    for label in labels:
        value = mix.get(label, 0)
        part_width = width * value / total if total else 0
        parts.append({"label": label, "value": value, "x": round(x, 1), "w": round(part_width, 1),
                      "colour": colours[label]})
        x += part_width
    return {"width": width, "height": height, "parts": parts, "total": total}


def _stacked(totals: dict[str, int], width: int = 300, height: int = 16) -> dict:
    """A mix (the stance mix, a tone mix) as a stacked bar, parts in the order of ``totals`` (the scheme's counted labels)."""
    others = iter(_OTHER_COLOURS * (1 + len(totals) // len(_OTHER_COLOURS)))
    colours = {label: _STANCE_COLOURS.get(label) or _TONE_COLOURS.get(label) or next(others) for label in totals}
    return _stacked_bar(totals, list(totals), colours, width, height)


def digest_tone_labels(task) -> tuple[str, ...]:
    """The tone labels the digest counts, in the order it shows them: the shipped three as
    :data:`TONES` (positive, neutral, negative), another scheme's in its own order."""
    if task is None or set(task.labels) == set(TONES):
        return TONES
    return tuple(task.labels)


def _tone_bar(mix: dict[str, int], width: int = 160, height: int = 14) -> dict:
    """The tone towards one body as a stacked bar, parts in the mix's order (:func:`tone_labels`);
    a label of another scheme gets a colour of its own, as the stance mix's do."""
    return _stacked(mix, width, height)


_TEMPLATES.filters.update(safe_url=safe_url, when=_when, day=_day)
_TEMPLATES.globals.update(bars=_bars, stacked=_stacked, tone_bar=lambda mix: _tone_bar(mix),
                          baseline_days=BASELINE_DAYS, legend=lambda digest: legend(digest), not_rated=NOT_RATED,
                          stance_heading=lambda digest: stance_heading(digest), has_stance=lambda digest: has_stance(digest),
                          has_tone=lambda digest: has_tone(digest), has_topics=lambda digest: has_topics(digest),
                          stance_shown=lambda digest: stance_shown(digest),
                          legend_example=lambda digest: legend_example(digest),
                          attention_text=lambda item: attention_text(item), tone_heading=lambda item: tone_heading(item),
                          weak_model_text=lambda item: weak_model_text(item),
                          trust_text=lambda entry: trust_text(entry), quote_credit=quote_credit,
                          quote_excerpt=quote_excerpt, no_stories_text=lambda digest: no_stories_text(digest),
                          spike_text=lambda item: spike_text(item), more_outlets_text=lambda item: more_outlets_text(item),
                          nothing_text=lambda digest: nothing_text(digest), unanalysed_note=UNANALYSED_NOTE,
                          failed_stories_text=lambda item, pronoun: failed_stories_text(item, pronoun),
                          pipeline_text=lambda item: pipeline_text(item),
                          charts_title=lambda charts: charts_title(charts), older_text=lambda digest: older_text(digest),
                          charts_gap_text=lambda charts: charts_gap_text(charts),
                          email_note=lambda digest: email_note(digest, html=True),
                          email_link=lambda digest: email_link(digest, html=True),
                          more_where=lambda item, digest: more_where(item, digest),
                          chart_figures=lambda digest: chart_figures(digest),
                          email_charts_text=lambda digest: email_charts_text(digest, html=True),
                          group_more_text=lambda group, digest: group_more_text(group, digest, html=True),
                          edits_more_text=lambda digest: edits_more_text(digest, html=True))


def has_stance(digest: dict) -> bool:
    """Whether the scheme the digest was built with has a stance task (a single_label one): without, the
    digest shows no stance line, chart, badge or legend words. A digest built before this was known
    (no ``stance`` entry) has the shipped one."""
    stance = digest.get("stance")
    return stance is None or stance.get("task", "") is not None


def has_tone(digest: dict) -> bool:
    """Whether the scheme the digest was built with has a tone task (a per_entity one): without, the digest shows
    no tone badge, mix, chart column or legend words, and never "not rated". A digest built before this was known
    (no ``tasks`` entry) has the shipped one."""
    return (digest.get("tasks") or {}).get("tone", "") is not None


def has_topics(digest: dict) -> bool:
    """Whether the scheme the digest was built with has a topics task (a multi_label one): without, the legend
    names no topic badge (and shows none as its example)."""
    return (digest.get("tasks") or {}).get("topics", "") is not None


def stance_heading(digest: dict) -> str:
    """What the digest's stance is about ("fire governance"), from the scheme when it was built."""
    return (digest.get("stance") or {}).get("heading") or "fire governance"


def stance_shown(digest: dict) -> list[str]:
    """The stance labels the digest counts and shows as badges (the scheme's, when it was built)."""
    return list((digest.get("stance") or {}).get("labels") or STANCES)


def legend_example(digest: dict) -> dict[str, str]:
    """The legend's example badges: the scheme's first topic and first stance label that needs attention."""
    stance = digest.get("stance") or {}
    tone = next(iter(digest.get("tone_attention_labels") or []), None)
    return {"topic": (stance.get("topic_example") or "governance") if has_topics(digest) else None,
            "tone": tone or (TONE_ATTENTION_DEFAULT if "tone_attention_labels" not in digest else None),
            "stance": (next(iter(stance.get("attention") or {}), None) or (stance.get("labels") or ["against"])[0]
                       if has_stance(digest) else None)}


def legend(digest: dict) -> str:
    """The badge legend, naming the scheme's stance target and only the badges its tasks give."""
    badges = [*(["topics"] if has_topics(digest) else []),
              *([f"stance on {stance_heading(digest)}"] if has_stance(digest) else []),
              *(["tone towards the section's body"] if has_tone(digest) else [])]
    return LEGEND.format(badges="; ".join(badges) or "none", not_rated=LEGEND_NOT_RATED if has_tone(digest) else "")


def render_html(digest: dict) -> str:
    """The digest as one self-contained HTML page (inline CSS and SVG, no scripts, all text escaped)."""
    return _TEMPLATES.get_template("digest.html.j2").render(digest=digest)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~&])")
# What GitHub-flavoured Markdown turns into a link by itself (its autolink extension): an address
# (local part, "@", a domain with a dot; also after "mailto:" or "xmpp:"), "scheme://" and "www.".
_AUTOLINK_EMAIL = re.compile(r"[A-Za-z0-9.+_-]+@[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+")
_AUTOLINK_URL = re.compile(r"(:)(?=//)|(?<![A-Za-z0-9])(www)(\.)", re.I)


def _escape_markdown_part(text: str) -> str:
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _AUTOLINK_URL.sub(lambda m: "\\:" if m[1] else m[2] + "\\.", escaped)


def escape_markdown(text: str | None) -> str:
    """Crawled text made inert in Markdown: whitespace collapsed (so it never starts a line, where
    ``#``, ``-`` or ``1.`` would matter) and every inline-significant character backslash-escaped,
    ``<``, ``>`` and ``&`` included so no raw HTML or entity gets through; ``(`` and ``!`` are inert
    once ``[`` and ``]`` are escaped. Bare links are not made live (GFM's autolinks): the ``:`` of
    ``://`` and the ``.`` of ``www.`` are escaped (rendered as they were, not linked), and an e-mail
    address, which GFM links whatever is escaped in it, is set as inline code (no backtick can be in it)."""
    text = store.normalise_text(text)
    parts, start = [], 0
    for match in _AUTOLINK_EMAIL.finditer(text):
        parts += [_escape_markdown_part(text[start:match.start()]), f"`{match[0]}`"]
        start = match.end()
    return "".join(parts) + _escape_markdown_part(text[start:])


_CODE_SPAN = re.compile(r"(`[^`\n]+`)")


def markdown_with_code(text: str) -> str:
    """The digest's own words (no crawled text) in Markdown: its backtick-quoted commands ("see `cuttings
    doctor`") kept as inline code, the rest escaped as :func:`escape_markdown` escapes crawled text."""
    parts = _CODE_SPAN.split(store.normalise_text(text))
    return "".join(part if index % 2 else _escape_markdown_part(part) for index, part in enumerate(parts))


def _markdown_url(url: str | None) -> str:
    """A link target that cannot break out of ``(...)``: http(s) only, brackets and spaces percent-encoded."""
    return urllib.parse.quote(safe_url(url), safe=":/?#@!$&'*+,;=%~.-_")


def label_text(kind: str, value: dict | None) -> str:
    """``tone: negative (unsure)``: a badge's text with its confidence in words."""
    if not value:
        return ""
    return f"{kind}: {value['label']}" + _CONFIDENCE_WORDS.get(value.get("confidence", ""), "")


def _topic_text(topic: dict) -> str:
    return topic["label"] + _CONFIDENCE_WORDS.get(topic.get("confidence", ""), "")


def tone_heading(item: dict) -> str:
    """How a "needs attention" tone item names its tone: the tone task's ``attention`` words, first letter
    capitalised ("Negative", the shipped scheme's; a team's "critical" gives "Critical")."""
    words = item.get("words") or TONE_ATTENTION_DEFAULT
    return words[:1].upper() + words[1:]


def attention_text(item: dict) -> str:
    """One "needs attention" item as plain text (crawled parts unescaped: callers escape)."""
    kind = item["kind"]
    if kind == "negative_tone":
        return f"{tone_heading(item)} tone towards {item['body']}{_CONFIDENCE_WORDS[item['confidence']]}: {item['headline']} ({item['outlet']})"
    if kind == "stance":
        return (f"Stance {item['label']} on {item.get('about') or 'fire governance'}"
                f"{_CONFIDENCE_WORDS[item['confidence']]}: {item['headline']} ({item['outlet']})")
    if kind == "spike":
        return f"Coverage spike: {item['body']}: {spike_text(item)}"
    if kind == "quote":
        return (f"New quote from {item['speaker']} ({item['body']}): “{quote_excerpt(item['text'], 'attention')}” "
                f"({item['headline']})")
    if kind == "more":
        return f"... and {item['more']} more {item['what']} {item.get('where', 'below')}" + more_outlets_text(item)
    if kind == "pipeline":
        return pipeline_text(item)
    if kind == "source_failed":
        return f"Source {item['outlet']} failed: {item['cause']} ({failed_stories_text(item, 'it')})"
    if kind == "sources_failed":
        return (f"{counted(len(item['outlets']), 'source')} failed: {', '.join(item['outlets'])} "
                f"({failed_stories_text(item, 'them')}; see Crawl health)")
    if kind == "weak_model":
        return f"{item['title']} labels are little better than a guess: {weak_model_text(item)}"
    if kind == "unanalysed":
        return (f"{counted(item['count'], 'story', 'stories')} could not be analysed: {item['headline']}"
                + (f" ({item['outlet']})" if item["outlet"] else "") + f": {item['error']}"
                + (f", and {item['count'] - 1} more" if item["count"] > 1 else "")
                + f" ({UNANALYSED_NOTE})")
    return f"Crawl problem: {item['message']}"


def weak_model_text(item: dict) -> str:
    """What a "needs attention" item of a model no better than its baseline says after its heading."""
    return (f"its model is no better than its baseline ({item['figures']}); label more stories (`cuttings label "
            f"--task {item['task']}`), then train again (`cuttings doctor` says how)")


def failed_stories_text(item: dict, pronoun: str) -> str:
    """What a failed-source line says of the digest's stories from the source(s): none, or how many
    (first seen by an earlier crawl of the digest's window, before the last one failed)."""
    count = item.get("stories") or 0
    if not count:
        return f"no stories from {pronoun} in this digest"
    return f"{counted(count, 'story', 'stories')} from {pronoun} in this digest, found by earlier crawls"


NOTHING_NEEDS_ATTENTION = "Nothing needs attention: no {tone}stance, spike or new quote from a watched body"


def nothing_needs_attention(digest: dict) -> str:
    """"Nothing needs attention: no negative tone, stance, ...": the tone named by the scheme's attention
    words (``digest["tone_attention"]``: a team's "critical"); none when its tone task has none."""
    words = digest.get("tone_attention", [TONE_ATTENTION_DEFAULT])
    text = NOTHING_NEEDS_ATTENTION.format(tone=f"{' or '.join(words)} tone, " if words else "")
    return text if has_stance(digest) else text.replace("stance, ", "")


def nothing_text(digest: dict) -> str:
    """The sentence an empty "needs attention" block shows. It says nothing about the crawl when the
    crawl has warnings (a failed source is an attention item itself: then the block is not empty)."""
    warnings = len(digest.get("health") or [])
    if warnings:
        return f"{nothing_needs_attention(digest)}; {counted(warnings, 'crawl warning')} under Crawl health."
    return f"{nothing_needs_attention(digest)}, and every source was crawled without errors."


def spike_text(item: dict) -> str:
    """A spike's figures: ``6 stories from 3 outlets in the last 24 hours (usually 0.4 a day)``, and how
    many counted when one outlet ran more than :data:`SPIKE_STORIES_PER_OUTLET` (crawled parts: none)."""
    stories = item.get("stories", item["today"])
    outlets = item.get("outlets")
    per_outlet = item.get("per_outlet", SPIKE_STORIES_PER_OUTLET)
    text = f"{counted(stories, 'story', 'stories')}"
    if outlets is None:   # a digest built before spikes counted outlets
        return text + f" in the last 24 hours (usually {item['baseline_mean']:.1f} a day)"
    text += f" from {counted(outlets, 'outlet')} in the last 24 hours"
    if per_outlet == 1:   # the spike counts outlets
        return text + f" (usually {item['baseline_mean']:.1f} outlets a day)"
    text += f" (usually {item['baseline_mean']:.1f} a day"
    if stories != item["today"]:
        text += f"; {item['today']} counted, at most {per_outlet} per outlet"
    return text + ")"


def more_outlets_text(item: dict) -> str:
    """`` (all from Hostile Three)`` or `` (4 from Hostile Three, 1 from Worcester News)``: where the stories
    a "more" line leaves out came from (outlet names are crawled configuration: callers escape)."""
    outlets = item.get("by_outlet") or []
    if not outlets:
        return ""
    if len(outlets) == 1:
        return f" (all from {outlets[0][0]})"
    named = [f"{count} from {name}" for name, count in outlets[:MORE_OUTLETS_NAMED]]
    rest = sum(count for _name, count in outlets[MORE_OUTLETS_NAMED:])
    if rest:
        named.append(f"{rest} from other outlets")
    return " (" + ", ".join(named) + ")"


def no_stories_text(digest: dict) -> str:
    """What a digest without stories says in place of the sections: "No new stories first seen since Mon 7 Dec
    2026, 00:00 UTC." (its own window's start: the last digest's end, a --since, or the first digest's 7 days)."""
    return f"No new stories first seen since {_when(digest['since'])}."


def older_text(digest: dict) -> str:
    """The first digest's line about the stories it leaves out: "212 older stories, first seen before
    Tue 17 Nov 2026, 07:00 UTC, are in the database (cuttings export, cuttings serve)." ("" otherwise)."""
    older = (digest.get("summary") or {}).get("older") or 0
    if not older:
        return ""
    return (f"This is the first digest: it lists the last {counted(FIRST_DIGEST_DAYS, 'day')}. "
            f"{counted(older, 'older story', 'older stories')}, first seen before {_when(digest['since'])}, "
            f"{'is' if older == 1 else 'are'} in the database (cuttings export, cuttings serve).")


def charts_title(charts: dict) -> str:
    """The charts' heading: ``30 days to Tue 24 Nov 2026 (the digest's day)``, or, when nothing was
    published in the 30 days to the digest's day, ``... (the newest stored story's day)``."""
    if charts.get("ends_on") == "newest":
        return f"{counted(len(charts['days']), 'day')} to {_day(charts['days'][-1])} (the newest stored story's day)"
    return f"{counted(len(charts['days']), 'day')} to {_day(charts['days'][-1])} (the digest's day)"


def charts_gap_text(charts: dict) -> str:
    """A note when the charts' last days are empty because no stored story was published on them
    (a quiet spell, or a crawl outage): "No stored story published since Fri 20 Feb 2026." ("" when
    the newest story is from the digest's day or the day before)."""
    latest = charts.get("latest")
    last = charts["days"][-1]
    if charts.get("ends_on") == "newest":
        return (f"No stored story was published in the {counted(len(charts['days']), 'day')} to the digest's day "
                f"({_day(charts['digest_day'])}): the charts show the {counted(len(charts['days']), 'day')} to the newest "
                "one (an archive, or the crawl has not run?).")
    try:
        gap = (dt.date.fromisoformat(last) - dt.date.fromisoformat(latest)).days if latest else None
    except ValueError:
        return ""
    if latest is None:
        return "No stored story published in these days."
    if gap is not None and gap >= 2:
        return f"No stored story published since {_day(latest)} (a quiet spell, or the crawl has not run?)."
    return ""


def _tone_mix_text(mix: dict | None) -> str:
    if mix is None:
        return f"tone {NOT_RATED}"
    return "tone " + ", ".join(f"{label} {count}" for label, count in mix.items())


def chart_figures(digest: dict) -> list[tuple[str, str]]:
    """The 30-day charts in words, a (name, figures) pair a line: ``("HWFRS", "160 stories, share of voice
    22%, tone positive 3, neutral 10, negative 2")``, then the stance mix: what the Markdown and text digests
    and the e-mail show in place of the charts (names are the watchlist's: callers escape)."""
    charts = digest["charts"]
    pairs = []
    for entity in digest["entities"]:
        entity_id = entity["id"]
        total = charts["totals"][entity_id]
        tone = f", {_tone_mix_text(charts['tone'][entity_id])}" if has_tone(digest) else ""
        pairs.append((entity["short_name"], f"{counted(total, 'story', 'stories')}, share of voice "
                                            f"{charts['share'][entity_id]:.0f}%{tone}"))
    if has_stance(digest):
        stance_totals = (", ".join(f"{label} {count}" for label, count in charts["stance_totals"].items())
                         if (digest.get("stance") or {}).get("rated", True) else NOT_RATED)
        pairs.append((f"Stance on {stance_heading(digest)}", stance_totals))
    return pairs


def render_markdown(digest: dict, *, plain: bool = False) -> str:
    """The digest as Markdown (crawled text escaped), or as plain text with ``plain=True``
    (for the text part of an e-mail: nothing escaped, URLs on their own line). Same order as the HTML:
    needs attention, summary, 30-day charts, legend and trust note, sections per body, edits, crawl health."""
    esc = (lambda text: store.normalise_text(text)) if plain else escape_markdown
    bullet = "*" if plain else "-"
    summary = digest["summary"]
    shown_stances = set(stance_shown(digest))

    def heading(text: str) -> list[str]:
        return ["", text, "-" * len(text), ""] if plain else ["", f"## {text}", ""]

    lines = [f"{digest['title']}" if plain else f"# {digest['title']}", "",
             f"New since {_when(digest['since'])}, up to {_when(digest['until'])}."]
    if email_link(digest):
        lines.append(esc(email_link(digest)))
    if email_note(digest):
        lines += ["", esc(email_note(digest))]
    lines += heading("Needs attention")
    if digest["attention"]:
        for item in digest["attention"]:
            # a pipeline item is the digest's own words (stage names, run ids, commands): its commands as code
            own = item["kind"] in ("pipeline", "weak_model") and not plain
            lines.append(f"{bullet} {(markdown_with_code if own else esc)(attention_text(item))}")
    else:
        lines.append(nothing_text(digest))
    lines.append("")
    counts = ", ".join(f"{esc(name)} {count}" for name, count in summary["by_name"].items())
    stance = (", ".join(f"{label} {count}" for label, count in summary["stance"].items())
              if (digest.get("stance") or {}).get("rated", True) else NOT_RATED)
    lines.append(counted(summary["stories"], "new story", "new stories") + (f" ({counts})" if counts else "")
                 + f"; {summary['edits']} edited."
                 + (f" Stance on {esc(stance_heading(digest))}: {stance}." if has_stance(digest) else ""))
    if older_text(digest):
        lines += ["", older_text(digest)]
    charts = digest["charts"]
    lines += heading(charts_title(charts))
    if charts_gap_text(charts):
        lines += [charts_gap_text(charts), ""]
    lines += [f"{bullet} {esc(name)}: {figures}" for name, figures in chart_figures(digest)]
    if digest.get("email"):
        lines += ["", esc(email_charts_text(digest))]
    lines += ["", esc(legend(digest)) if not plain else legend(digest)]
    if digest.get("trust"):
        lines += ["", "How far to trust the labels:"]
        lines += [f"{bullet} {esc(trust_text(entry))}" for entry in digest["trust"]]
    for group in digest["groups"]:
        title = group["name"] + (" (SPIKE)" if group["spike"] and group["spike"]["spike"] else "")
        lines += heading(esc(title))
        for story in group["stories"]:
            if story["repeat"]:
                tone = f" ({esc(label_text('tone', story['group_tone']))})" if story["group_tone"] else ""
                under = f" under {esc(story['listed_under'])}" if story.get("listed_under") else ""
                lines.append(f"{bullet} {esc(story['headline'])}{tone}: listed above{under}")
                continue
            badges = [_topic_text(topic) for topic in story["topics"]]
            if story["stance"] and story["stance"]["label"] in shown_stances:
                badges.append(label_text("stance", story["stance"]))
            if story["group_tone"]:
                badges.append(label_text("tone", story["group_tone"]))
            elif group.get("tone_rated") is False:
                badges.append(f"tone: {NOT_RATED}")
            meta = (f"{esc(story['outlet'])}" + (f", by {esc(', '.join(story['authors']))}" if story["authors"] else "")
                    + (f", {story['published']}" if story["published"] else ""))
            if plain:
                lines.append(f"* {esc(story['headline'])}")
                lines.append(f"  {meta}" + (f" [{', '.join(badges)}]" if badges else ""))
                lines.append(f"  {safe_url(story['url'])}")
            else:
                lines.append(f"- **[{esc(story['headline'])}]({_markdown_url(story['url'])})**  ")
                lines.append(f"  {meta}" + (f" · {escape_markdown(', '.join(badges))}" if badges else "")
                             + ("  " if story["key_quote"] or story["also_ran_in"] else ""))
            quote = story["key_quote"]
            if quote:
                speaker = f" ({esc(quote_credit(quote))})" if quote_credit(quote) else ""
                lines.append(f"  “{esc(quote_excerpt(quote['text'], 'key'))}”{speaker}" + ("  " if story["also_ran_in"] and not plain else ""))
            if story["also_ran_in"]:
                lines.append(f"  Also ran in {esc(', '.join(story['also_ran']))}")
        if group_more_text(group, digest):
            lines.append(f"{bullet} {esc(group_more_text(group, digest))}")
    if not digest["groups"]:
        lines += ["", no_stories_text(digest)]
    if digest["edits"]:
        lines += heading("Edited since the last digest")
        for edit in digest["edits"]:
            headline = esc(edit["headline"])
            entry = (f"* {headline} ({esc(edit['outlet'])}, version {edit['version']}): {safe_url(edit['url'])}"
                     if plain else f"- [{headline}]({_markdown_url(edit['url'])}) ({esc(edit['outlet'])}, "
                                   f"version {edit['version']})")
            if edit["headline_changed"]:
                entry += f"; headline was “{esc(edit['previous_headline'])}”"
            if edit["is_correction"]:
                entry += "; correction added"
            lines.append(entry)
        if edits_more_text(digest):
            lines.append(f"{bullet} {esc(edits_more_text(digest))}")
    lines += heading("Crawl health")
    if digest["health"]:
        for warning in digest["health"]:
            who = f"{esc(warning['outlet'])}: " if warning["outlet"] else ""
            lines.append(f"{bullet} {who}{esc(warning['message'])}")
    else:
        lines.append("All sources crawled without errors.")
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------
# The e-mailed digest
# --------------------------------------------------------------------------

# The most the e-mail's HTML part may take, in kilobytes of 1,024 bytes (``CUTTINGS_SMTP_MAX_KB``): Gmail
# shows "[Message clipped]" and hides the rest of a message whose HTML is over about 102 KB, and other
# mail clients slow down on long HTML mail. 0: no limit.
EMAIL_MAX_KB = 80
EMAIL_MIN_KB = 20  # below this the needs-attention block, summary and legend alone may not fit
_EMAIL_STORY_ITEMS = ("negative_tone", "stance", "quote", "unanalysed")  # attention items naming one story


def email_size(html: str) -> int:
    """The bytes of an e-mail's HTML part as sent, before the transfer encoding: UTF-8, CRLF line ends."""
    return len(html.encode("utf-8")) + html.count("\n")


def full_digest_path(paths) -> str | None:
    """The digest file an e-mail points to for what it leaves out: the HTML one written, else the
    Markdown, else the plain text; None when none was written."""
    by_suffix = {Path(path).suffix: str(path) for path in paths}
    return next((by_suffix[suffix] for suffix in (".html", ".md", ".txt") if suffix in by_suffix), None)


def _in_full(digest: dict, html: bool = False, anchor: str | None = None) -> str:
    """Where the rest of the digest is, as the e-mail's lines end: "in the full digest, URL" (the digest file
    published at ``CUTTINGS_SMTP_REPORT_URL``: in the HTML part "full digest" is a link to it), "in the attached
    full digest" (the file is attached: ``CUTTINGS_SMTP_ATTACH``), both ("in the attached full digest, URL"), or
    "in the full digest, PATH" (the file on the machine that ran cuttings). ``html``: the HTML part's markup;
    ``anchor``: the place in the published file to open at (a section's id)."""
    email = digest.get("email") or {}
    where, url = email.get("full_digest"), email.get("url")
    if url and anchor:
        url += "#" + anchor
    words = "the attached full digest" if email.get("attached") else "the full digest"
    if url and html:
        head, _space, tail = words.rpartition(" full")
        return Markup('in {} <a href="{}">full{}</a>').format(head, url, tail)
    if url:
        return f"in {words}, {url}"
    if email.get("attached"):
        return f"in {words}"
    text = f"in the full digest, {where}" if where else "in the full digest (the report folder)"
    return escape(text) if html else text


def _ending(text: str, digest: dict, html: bool, after: str = "", anchor: str | None = None) -> str:
    """``text`` followed by :func:`_in_full` and ``after``: in the HTML part (``html``), markup whose words
    are escaped."""
    if html:
        return escape(text) + _in_full(digest, html=True, anchor=anchor) + escape(after)
    return text + _in_full(digest, anchor=anchor) + after


def section_id(group: dict, digest: dict) -> str | None:
    """The id of ``group``'s section in the digest's HTML (``section-1`` for the first: the e-mail and the digest
    file list the same sections in the same order), so a capped section's line can open the published file
    there; None for a group that is not the digest's."""
    return next((f"section-{number}" for number, each in enumerate(digest.get("groups", ()), 1)
                 if each is group), None)


def more_where(item: dict, digest: dict) -> str:
    """Where the stories of a "... and N more ..." item of the block are ("below", "in the full digest", "below and
    in the attached full digest" ...), as the HTML part's markup: "full digest" a link to the published file when
    ``CUTTINGS_SMTP_REPORT_URL`` is set (the text part gives the address under the title)."""
    where = item.get("where", "below")
    url = (digest.get("email") or {}).get("url")
    if url and where.endswith(" full digest"):
        return Markup('{} <a href="{}">full digest</a>').format(where[:-len(" full digest")], url)
    return where


def email_link(digest: dict, html: bool = False) -> str:
    """The e-mail's link to the published digest file under its title, when ``CUTTINGS_SMTP_REPORT_URL`` is
    set ("" otherwise): "The full digest: URL" (in the HTML part, a link)."""
    url = (digest.get("email") or {}).get("url")
    if not url:
        return ""
    if html:
        return Markup('<a href="{}">The full digest</a>').format(url)
    return f"The full digest: {url}"


def email_note(digest: dict, html: bool = False) -> str:
    """The e-mail's line under its title when it lists less than the digest: "This e-mail lists the 12 most
    pressing stories of each section, and every story Needs attention names; 290 of the 362 stories are
    only in the full digest, /srv/.../digest-....html." ("" when it lists every story)."""
    email = digest.get("email") or {}
    if not email.get("only_in_full") and not email.get("edits_more"):
        return ""
    stories = digest["summary"]["stories"]
    cap = email["per_section"]
    text = (f"This e-mail lists the {counted(cap, 'most pressing story', 'most pressing stories')} of each section, "
            "and every story "
            f"Needs attention names" if cap else "This e-mail lists only the stories Needs attention names")
    if email.get("only_in_full"):
        text += (f"; {email['only_in_full']} of the {counted(stories, 'story', 'stories')} "
                 f"{'is' if email['only_in_full'] == 1 else 'are'} only")
    else:
        text += "; the rest of the edits are"
    return _ending(text + " ", digest, html, ".")


def email_charts_text(digest: dict, html: bool = False) -> str:
    """Where the e-mail's figures in words point to for the charts themselves (mail clients such as Gmail
    and Outlook show no inline SVG)."""
    return _ending("The charts are ", digest, html, ".")


def group_more_text(group: dict, digest: dict, html: bool = False) -> str:
    """A capped section's last line in the e-mail: "... and 148 more stories about HWFRS, 20 of them with a
    negative tone towards it: in the full digest, PATH" (how many of them have a tone towards the body that
    needs attention, when any; a body's short name, else the section's name: configuration, escaped in the
    HTML part's markup (``html``) as the template escapes). A link to the published file opens it at the
    section (:func:`section_id`)."""
    count = group.get("more") or 0
    if not count:
        return ""
    about = f"about {group['short_name']}" if group.get("entity_id") else f"in {group['name']}"
    critical = "".join(f", {n} of them with a {words} tone towards it"
                       for words, n in (group.get("more_critical") or {}).items() if n)
    return _ending(f"... and {counted(count, 'more story', 'more stories')} {about}{critical}: ", digest, html,
                   anchor=section_id(group, digest))


def edits_more_text(digest: dict, html: bool = False) -> str:
    """The e-mail's line after the edits it lists, when it lists fewer than the digest ("" otherwise)."""
    count = (digest.get("email") or {}).get("edits_more") or 0
    if not count:
        return ""
    return _ending(f"... and {counted(count, 'more edited story', 'more edited stories')}: ", digest, html)


def email_digest(digest: dict, per_section: int, full_digest: str | None = None, *, url: str | None = None,
                 attached: bool = False) -> dict:
    """The digest as the e-mail lists it: each section's first ``per_section`` stories (the sections are
    ranked, most in need of attention first) and every story an item of "Needs attention" names (in the
    body's section it is about), each section ending with how many more it has and where they are
    (``full_digest``: the digest file written); at most ``per_section`` edits. What a story listed in full in
    a section it is cut from becomes: the full entry where the e-mail lists it first, the later ones "listed
    above under ..." it. The needs-attention block, summary, charts' figures, legend, trust note and crawl
    health are whole; a "... and N more ... below" line of the block says "in the full digest" for stories
    the e-mail does not list. ``url``: where the digest file is published (``delivery.digest_url``), which the
    lines saying where the rest is link to; ``attached``: the e-mail carries the file. ``digest`` is left as it is."""
    groups = digest["groups"]
    pinned: list[set[int]] = [set() for _group in groups]
    for item in digest["attention"]:
        story = item.get("article_id")
        if item["kind"] not in _EMAIL_STORY_ITEMS or story is None:
            continue
        holding = [index for index, group in enumerate(groups)
                   if any(entry["article_id"] == story for entry in group["stories"])]
        own = [index for index in holding if item.get("entity_id") and groups[index]["entity_id"] == item["entity_id"]]
        for index in (own or holding)[:1]:
            pinned[index].add(story)
    # the tone labels that need attention and their words ("negative"; a team's "critical"), as the block has them
    critical_words = {item["label"]: item["words"] for item in digest["attention"]
                      if item["kind"] == "negative_tone" and item.get("label")}
    shown: dict[int, str | None] = {}
    capped = []
    for index, group in enumerate(groups):
        entries, more, more_critical = [], 0, {}
        for rank, entry in enumerate(group["stories"]):
            if rank >= per_section and entry["article_id"] not in pinned[index]:
                more += 1
                tone = entry.get("group_tone") or {}
                if tone.get("label") in critical_words:
                    words = critical_words[tone["label"]]
                    more_critical[words] = more_critical.get(words, 0) + 1
                continue
            entry = dict(entry)
            entry["repeat"] = entry["article_id"] in shown
            entry["listed_under"] = shown.get(entry["article_id"])
            shown.setdefault(entry["article_id"], group["short_name"] if group["entity_id"] else None)
            entries.append(entry)
        capped.append({**group, "stories": entries, "more": more, "more_critical": more_critical})
    attention = []
    for item in digest["attention"]:
        if item["kind"] == "more" and item.get("article_ids"):
            listed = sum(1 for story in item["article_ids"] if story in shown)
            full = "the attached full digest" if attached else "the full digest"
            where = ("below" if listed == len(item["article_ids"])
                     else f"in {full}" if not listed else f"below and in {full}")
            item = {**item, "where": where}
        attention.append(item)
    stories = {entry["article_id"] for group in groups for entry in group["stories"]}
    return {**digest, "groups": capped, "attention": attention, "edits": digest["edits"][:per_section],
            "email": {"full_digest": full_digest, "url": url, "attached": attached, "per_section": per_section,
                      "only_in_full": len(stories - set(shown)),
                      "edits_more": max(len(digest["edits"]) - per_section, 0)}}


def render_email(digest: dict, *, max_kb: int | None = EMAIL_MAX_KB, full_digest: str | None = None,
                 url: str | None = None, attached: bool = False) -> tuple[str, str, dict]:
    """The e-mail's HTML and plain-text parts, and the digest they show (:func:`email_digest`): as many
    stories per section as keep the HTML part within ``max_kb`` kilobytes (:func:`email_size`; None or 0: no
    limit, every story), the text part listing the same. When even no story per section fits (the
    needs-attention block alone is over it), that e-mail is the one returned: nothing it holds is dropped.
    ``url`` and ``attached``: where the full digest is besides ``full_digest`` (:func:`email_digest`)."""
    budget = (max_kb or 0) * 1024

    def attempt(cap: int) -> tuple[dict, str]:
        shown = email_digest(digest, cap, full_digest, url=url, attached=attached)
        return shown, render_html(shown)

    every = max([len(group["stories"]) for group in digest["groups"]] + [len(digest["edits"])])
    shown, html = attempt(every)
    if budget and email_size(html) > budget:
        low, high, best = 0, every - 1, None
        while low <= high:   # the most stories per section that fit
            middle = (low + high) // 2
            candidate = attempt(middle)
            if email_size(candidate[1]) <= budget:
                best, low = candidate, middle + 1
            else:
                high = middle - 1
        shown, html = best or attempt(0)
    return html, render_markdown(shown, plain=True), shown


def write_report(db: Database, out_dir: str | Path, *, formats: tuple[str, ...] | list[str] = DEFAULT_FORMATS,
                 since: str | None = None, record: bool = True, now: str | None = None,
                 digest: dict | None = None) -> list[Path]:
    """Write the digest in each format (``html``, ``md``, ``text``) to ``out_dir`` as
    ``digest-YYYY-MM-DDTHHMMSSZ.<ext>``; with ``record`` add a ``reports`` row per file so the next
    digest starts at this one's ``until``. Returns the paths written."""
    unknown = [fmt for fmt in formats if fmt not in FORMAT_SUFFIXES]
    if unknown:
        raise ValueError(f"unknown report format(s): {', '.join(unknown)} (choose from {', '.join(FORMAT_SUFFIXES)})")
    digest = digest or build_digest(db, since=since, now=now)
    out_dir = output_dir(out_dir)  # missing folders made; a file in the way: one clear error
    stem = "digest-" + digest["until"].replace(":", "")
    renderers = {"html": render_html, "md": render_markdown,
                 "text": lambda d: render_markdown(d, plain=True)}
    paths = []
    for fmt in formats:
        path = out_dir / (stem + FORMAT_SUFFIXES[fmt])
        partial = path.with_name(path.name + ".partial")
        partial.write_text(renderers[fmt](digest), encoding="utf-8")
        os.replace(partial, path)  # a reader never sees half a digest
        paths.append(path)
    if record:
        record_report(db, digest, formats, paths)
    return paths


def record_report(db: Database, digest: dict, formats: tuple[str, ...] | list[str], paths: list[Path]) -> None:
    """Add one ``reports`` row per written file; the next digest starts at ``digest["until"]``."""
    store.record_reports(db, digest, formats, paths)

