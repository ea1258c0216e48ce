"""The Datasette plugin of cuttings: stories first, a story page, and corrections from the browser.

Loaded by ``cuttings serve`` with ``--plugins-dir`` (``cuttings/datasette_plugins/``) and
``--template-dir`` (``cuttings/templates/datasette/``); configured in the metadata file under
``plugins.cuttings``:

- the home and database pages lead with the latest stories (``article_summary``) and the canned
  queries (templates ``index.html`` / ``database.html``, data from :func:`extra_template_vars`);
- ``/-/cuttings/story/<database>/<article id>``: one story with its text, watched bodies, labels
  (with confidence in words), quotes, the labels people gave it and its syndicated copies;
  story ids in tables and views link there (:func:`render_cell`);
- ``POST /-/cuttings/correct/<database>/<article id>``: a correction of topics, stance, tone or
  a quote's speaker/body, written through :func:`cuttings.store.add_correction_in_step` into ``labels``
  (a quote's correction stores again the quote pages' rows it changed, so they stay read from stored rows).
  Off unless the metadata says ``"corrections": true`` (``cuttings serve --corrections``), which
  also opens the database writable; ``serve`` binds to 127.0.0.1 unless an authentication plugin
  is installed.

Requests from elsewhere (:func:`correction_refusal`, :func:`host_refusal`):

- a correction is accepted only from this server's own pages: its ``Origin`` (or, without one, its
  ``Referer``) must name this server, and the form must carry Datasette's CSRF token (``csrftoken``)
  matching the ``ds_csrftoken`` cookie and signed with Datasette's secret (``datasette.unsign``).
  Datasette's own check is not enough: asgi-csrf lets a POST without any cookie through, and a
  cross-site POST carries none (the cookie is ``SameSite=Lax``), so any web page could post one;
- who made the correction: the signed-in actor's id (an authentication plugin), else the server's
  configured name (``cuttings serve --annotator NAME``, ``plugins.cuttings.annotator``), else the name
  typed in the form, stored as typed and not verified. Served beyond 127.0.0.1, a correction needs a
  signed-in actor;
- a server bound to a loopback address answers only requests whose ``Host`` is a loopback name
  (``127.0.0.1``, ``localhost``, ``[::1]``, any port) or the configured host (``plugins.cuttings.host``):
  a page on another site whose DNS name is re-pointed at 127.0.0.1 (DNS rebinding) is refused with a
  one-line 400 before it can read anything (:class:`HostGuard`, an ``asgi_wrapper``).

Everything shown comes from crawled pages and is escaped by Datasette's Jinja autoescape.
"""
from __future__ import annotations

import ipaddress
import json
import secrets
import urllib.parse
from typing import Any

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import ArrayFacet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args
from datasette.utils.asgi import Response
from itsdangerous import BadSignature

# Datasette's default error handler prints every error it answers, a 404 for a mistyped URL too, as a rich
# traceback with its local variables (the request's scope among them) whenever rich can be imported, and
# cuttings depends on rich: `cuttings serve` wrote some 180 lines to the terminal (or the journal) per 404.
# Without rich the same handler prints nothing for a 4xx and a plain traceback for a server error.
import datasette.handle_exception as _datasette_errors

_datasette_errors.rich = None

PLUGIN = "cuttings"
STORY_PATH = "/-/cuttings/story/{database}/{article_id}"
CORRECT_PATH = "/-/cuttings/correct/{database}/{article_id}"
_STORY_ID_COLUMNS = {"article_summary": "article_id", "articles": "id", "quotes_by_speaker": "article_id",
                     "syndication": "article_id", "mentions": "article_id", "quotes": "article_id",
                     "effective_labels": "article_id", "labels": "article_id", "classifications": "article_id",
                     "story_bodies": "article_id"}
LATEST_STORIES = 12
BODY_PREVIEW = 300  # characters of an article body shown in table and row pages


def _config(datasette) -> dict:
    return datasette.plugin_config(PLUGIN) or {}


def corrections_enabled(datasette) -> bool:
    """Whether the metadata turned corrections on (``cuttings serve --corrections``)."""
    return bool(_config(datasette).get("corrections"))


def annotator_of(datasette, request) -> str | None:
    """Who a correction is from, when the server knows: the signed-in actor's id (an authentication
    plugin), else the configured name (``cuttings serve --annotator``); None: the form asks."""
    return (request.actor or {}).get("id") or _config(datasette).get("annotator") or None


async def _display_names(datasette, database: str) -> dict[str, str]:
    """Entity id -> display name (the watchlist's short name, else the name)."""
    try:
        result = await datasette.get_database(database).execute(
            "SELECT id, coalesce(display_name, name) FROM entities")
    except Exception:  # noqa: BLE001 - not a cuttings database
        return {}
    return {row[0]: row[1] for row in result.rows}


def story_url(database: str, article_id: Any) -> str:
    return STORY_PATH.format(database=urllib.parse.quote(database), article_id=int(article_id))


def _safe_url(url: str | None) -> str:
    from cuttings.report import safe_url
    return safe_url(url)


# --------------------------------------------------------------------------
# Home and database pages: stories and canned queries first
# --------------------------------------------------------------------------

# The home and database pages' newest stories: their ids chosen first (article_summary reads only its dates for
# that), then their columns. Sorting the view's whole rows and keeping 12 computes every story's bodies and labels
# whenever SQLite reads the stories through an index that does not defer them: 1.1 s at 50,000 stories after m040
# gave the planner idx_articles_story_day, against 0.14 s so (docs/benchmarks.md, "The home page's newest stories").
NEWEST = "ORDER BY coalesce(published_at, first_seen_at) DESC, article_id DESC"
LATEST_STORIES_SQL = ("SELECT article_id, title, outlet, published_at, published_precision, bodies, topics, stance, "
                      "tone, syndicated_copies FROM article_summary WHERE article_id IN "
                      f"(SELECT article_id FROM article_summary {NEWEST} LIMIT :limit) {NEWEST}")


async def _latest_stories(datasette, database: str) -> list[dict]:
    db = datasette.get_database(database)
    try:
        result = await db.execute(LATEST_STORIES_SQL, {"limit": LATEST_STORIES})
    except Exception:  # noqa: BLE001 - not a cuttings database: show Datasette's page unchanged
        return []
    stories = []
    for row in result.rows:
        story = dict(row)
        story["bodies"] = json.loads(story["bodies"]) if story["bodies"] else []
        story["tone"] = json.loads(story["tone"]) if story["tone"] else {}
        story["url"] = story_url(database, story["article_id"])
        story["day"] = (story["published_at"] or "")[:10]
        stories.append(story)
    return stories


def _queries(datasette, database: str) -> list[dict]:
    queries = (datasette.metadata("queries", database=database) or {})
    return [{"name": name, "title": query.get("title") or name, "description": query.get("description", "")}
            for name, query in queries.items()]


@hookimpl
def extra_template_vars(template, database, table, datasette, request):
    if template == "row.html":
        story = (request.url_vars.get("pks") or "") if request else ""
        if table == "articles" and story.isdigit():
            return {"cuttings_story_url": story_url(database, int(story))}
        return {}
    if template not in ("index.html", "database.html"):
        return {}

    async def inner():
        names = [database] if database else [name for name in datasette.databases if name != "_internal"]
        leads = []
        for name in names:
            leads.append({"database": name, "stories": await _latest_stories(datasette, name),
                          "queries": _queries(datasette, name)})
        return {"cuttings_leads": leads, "cuttings_corrections": corrections_enabled(datasette)}

    return inner


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Story ids link to the story page (in tables, views and canned queries); ``bodies`` (a JSON
    array of names) reads as a list."""
    from markupsafe import Markup, escape

    if column == "bodies" and isinstance(value, str) and value.startswith("["):
        try:
            names = json.loads(value)
        except ValueError:
            return None
        return ", ".join(str(name) for name in names) or "–"
    if column == "tone" and isinstance(value, str) and value.startswith("{"):
        try:
            tones = json.loads(value)
        except ValueError:
            return None

        async def tone_text():
            names = await _display_names(datasette, database)
            return ", ".join(f"{names.get(target, target)}: {label}" for target, label in sorted(tones.items())) or "–"
        return tone_text
    if column == "body" and table in ("articles", "article_versions") and isinstance(value, str) \
            and len(value) > BODY_PREVIEW:
        story = row["id"] if table == "articles" else row["article_id"]
        # A table page gives a foreign key as {"value", "label"}, a row page as a cell with ``.value``.
        story = story["value"] if isinstance(story, dict) else getattr(story, "value", story)
        return Markup(f"{escape(value[:BODY_PREVIEW])}… "
                      f'<a href="{escape(story_url(database, story))}">full text on the story page</a>')
    if value is None and table == "entity_daily" and column.startswith("tone_") and column != "tone_rated":
        return Markup('<span style="color:#888;font-style:italic">not rated</span>')
    if value is None or column != _STORY_ID_COLUMNS.get(table, "article_id"):
        return None
    if table is not None and table not in _STORY_ID_COLUMNS:
        return None
    try:
        article_id = int(value)
    except (TypeError, ValueError):
        return None
    return Markup(f'<a href="{escape(story_url(database, article_id))}" title="story page">{article_id}</a>')


# --------------------------------------------------------------------------
# The story page
# --------------------------------------------------------------------------

async def _rows(db, sql: str, params: list) -> list[dict]:
    return [dict(row) for row in (await db.execute(sql, params)).rows]


async def story_context(datasette, database: str, article_id: int) -> dict | None:
    """Everything the story page shows, or None when there is no such article."""
    from cuttings.report import confidence

    db = datasette.get_database(database)
    found = await _rows(db, "SELECT a.*, coalesce(s.name, a.source_id) AS outlet FROM articles a "
                            "LEFT JOIN sources s ON s.id = a.source_id WHERE a.id = ?", [article_id])
    if not found:
        return None
    article = found[0]
    original_id = article["duplicate_of"] or article["id"]
    thresholds = _thresholds()
    labels = await _rows(db, "SELECT task, target, label, probability, uncertain, human, decided_by "
                             "FROM effective_labels WHERE article_id = ? ORDER BY task, target, label", [original_id])
    for label in labels:
        label["confidence"] = confidence(label, thresholds)
    bodies = await _rows(db, "SELECT m.entity_id, coalesce(e.display_name, e.name, m.entity_id) AS body, "
                             "e.name, count(*) AS mentions, group_concat(DISTINCT m.surface) AS surfaces "
                             "FROM mentions m LEFT JOIN entities e ON e.id = m.entity_id WHERE m.article_id = ? "
                             "GROUP BY m.entity_id ORDER BY mentions DESC", [original_id])
    quotes = await _rows(db, "SELECT q.quote_id, q.speaker, q.speaker_role, q.entity_id, q.entity_method, q.text, "
                             "q.start_char, q.end_char, coalesce(e.display_name, e.name) AS body FROM quote_view q "
                             "LEFT JOIN entities e ON e.id = q.entity_id WHERE q.article_id = ? ORDER BY q.start_char",
                             [original_id])
    orphaned = await db.execute_fn(lambda conn: [fix._asdict() for fix in _orphaned(conn, original_id)])
    human = await _rows(db, "SELECT id, task, target, label, annotator, created_at FROM labels "
                            "WHERE article_id = ? ORDER BY created_at DESC, id DESC", [original_id])
    copies = await _rows(db, "SELECT a.id, coalesce(a.link_url, a.url) AS url, coalesce(s.name, a.source_id) AS outlet, "
                             "a.first_seen_at, a.published_at, a.similarity FROM articles a "
                             "LEFT JOIN sources s ON s.id = a.source_id WHERE (a.duplicate_of = ? OR a.id = ?) "
                             "AND a.id != ? ORDER BY a.first_seen_at", [original_id, original_id, article_id])
    entities = await _rows(db, "SELECT id, coalesce(display_name, name) AS body FROM entities ORDER BY rowid", [])
    scheme = _scheme_labels()
    for copy in copies:
        copy["url"] = _safe_url(copy["url"])
        copy["story_url"] = story_url(database, copy["id"])
    tone_targets = [body["entity_id"] for body in bodies if body["entity_id"] in scheme.get("tone_entities", ())]
    names = scheme.get("tasks") or {"topics": "topics", "stance": "stance_governance", "tone": "tone"}
    return {
        "database": database,
        "article": article,
        "url": _safe_url(article.get("link_url") or article["url"]),   # the address a reader opens
        "paragraphs": [part.strip() for part in (article["body"] or "").split("\n") if part.strip()],
        "is_copy": article["duplicate_of"] is not None,
        "original_url": story_url(database, original_id),
        "original_id": original_id,
        "topics": [label for label in labels if label["task"] == names["topics"]],
        "stance": next((label for label in labels if label["task"] == names["stance"]), None),
        "tone": {label["target"]: label for label in labels if label["task"] == names["tone"]},
        "stance_heading": scheme.get("stance_heading") or "fire governance",
        "bodies": bodies,
        "quotes": quotes,
        "human_labels": human,
        "orphaned": orphaned,   # corrections of quotes a re-analysis no longer found: applying to no quote
        "copies": copies,
        "entities": entities,
        "scheme": scheme,
        "tone_targets": tone_targets,
        "corrections": corrections_enabled(datasette),
        "correct_url": CORRECT_PATH.format(database=urllib.parse.quote(database), article_id=original_id),
        "annotator": None,
    }


def _orphaned(conn, article_id: int) -> list:
    """The story's corrections of quotes whose quote is gone (``store.orphaned_quote_corrections``)."""
    from sqlite_utils import Database

    from cuttings import store
    return store.orphaned_quote_corrections(Database(conn), [article_id])


def _thresholds() -> dict[str, float]:
    """The scheme's ``uncertain_below`` per task; none when the scheme was broken since `cuttings serve`
    started (which refuses one that does not parse): the page then says so (``_scheme_labels``)."""
    from cuttings.labelling import LabellingError
    from cuttings.report import _thresholds as thresholds
    try:
        return thresholds()
    except LabellingError:
        return {}


def _scheme_labels() -> dict[str, Any]:
    """Label choices for the correction forms, from the user's label scheme (``label_scheme.toml`` in
    the home folder, else the packaged one: the scheme the models were trained on): the labels of its
    topics (multi-label), stance (single-label) and tone (per-entity) tasks, whatever their names
    (``tasks``: role -> the scheme's task name; a role the scheme lacks has no form), the stance's
    ``stance_heading``. A scheme that cannot be read gives only ``error`` (the page says it, no forms)."""
    from cuttings.labelling import LabellingError, load_label_tasks
    from cuttings.report import report_tasks
    try:
        tasks = load_label_tasks()
    except LabellingError as exc:
        return {"error": str(exc)}
    roles = report_tasks(tasks)
    if not any(roles.values()):
        return {"error": "the label scheme has no topics, stance or tone task"}
    choices: dict[str, Any] = {"tasks": {role: task.name if task is not None else None for role, task in roles.items()}}
    if roles["topics"] is not None:
        choices["topics"] = list(roles["topics"].labels)
    if roles["stance"] is not None:
        choices["stance"] = list(roles["stance"].labels)
        choices["stance_heading"] = roles["stance"].heading
    if roles["tone"] is not None:
        choices["tone"] = list(roles["tone"].labels)
        choices["tone_entities"] = list(roles["tone"].entities)
    return choices


def _story_id(request) -> int | None:
    """The story id of a story or correction path, or None when the segment is not one."""
    segment = request.url_vars["article_id"]
    # SQLite integers have at most 19 digits; a longer run of digits is no story either.
    return int(segment) if segment.isascii() and segment.isdigit() and len(segment) <= 18 else None


async def story_page(datasette, request):
    database = request.url_vars["database"]
    if database not in datasette.databases:
        return Response.html("<h1>No such database</h1>", status=404)
    article_id = _story_id(request)
    if article_id is None:
        return Response.html("<h1>No such story</h1>", status=404)
    context = await story_context(datasette, database, article_id)
    if context is None:
        return Response.html("<h1>No such story</h1>", status=404)
    context["annotator"] = annotator_of(datasette, request)
    return Response.html(await datasette.render_template("cuttings_story.html", context, request=request))


# --------------------------------------------------------------------------
# Corrections
# --------------------------------------------------------------------------

class BadCorrection(ValueError):
    pass


def typed_name(value: str) -> str:
    """A name typed in the form (a speaker, the annotator) as stored: without control characters (terminal
    escapes, bidi overrides that reorder it wherever it is shown: ``strip_controls``, as crawled text is
    stored), whitespace collapsed to single spaces."""
    from cuttings.redaction import strip_controls
    return " ".join(strip_controls(value).split())


def correction_rows(form: dict[str, list[str]], current_topics: list[str], scheme: dict[str, Any],
                    quotes: dict[str, dict], entities: set[str]) -> list[tuple[str, str, str]]:
    """The ``labels`` rows for one submitted form (``what`` = topics, stance, tone or quote).
    Topics: the chosen set, with ``__rejected__`` rows for current topics left out (as ``cuttings label``).
    Every save is the person's answer, stored with its time even when it agrees with what the page shows (a
    confirmation wins by its time over a different answer given before it in another database): a quote's
    form stores the field changed, or, saved as shown, the speaker shown (if any) and the body, confirmed."""
    what = (form.get("what") or [""])[0]
    names = scheme.get("tasks") or {}
    if what in ("topics", "stance", "tone") and not names.get(what):
        raise BadCorrection(f"the label scheme has no {what} task" if "error" not in scheme
                            else f"cannot correct labels: {scheme['error']}")
    if what == "topics":
        chosen = [topic for topic in form.get("topic", []) if topic]
        unknown = [topic for topic in chosen if topic not in scheme.get("topics", ())]
        if not chosen or unknown:
            raise BadCorrection(f"choose topics from {', '.join(scheme.get('topics', ()))}")
        return ([(names["topics"], "", topic) for topic in chosen]
                + [(names["topics"], topic, "__rejected__") for topic in current_topics if topic not in chosen])
    if what == "stance":
        label = (form.get("stance") or [""])[0]
        if label not in scheme.get("stance", ()):
            raise BadCorrection(f"choose a stance from {', '.join(scheme.get('stance', ()))}")
        return [(names["stance"], "", label)]
    if what == "tone":
        target, label = (form.get("target") or [""])[0], (form.get("tone") or [""])[0]
        if target not in scheme.get("tone_entities", ()) or label not in scheme.get("tone", ()):
            raise BadCorrection("choose a rated body and a tone")
        return [(names["tone"], target, label)]
    if what == "quote":
        key = (form.get("quote") or [""])[0]
        quote_id = (form.get("quote_id") or [""])[0]
        if quote_id:   # the quote by its id (m029), wherever a re-analysis since the page was loaded put it
            key = next((place for place, quote in quotes.items() if str(quote.get("quote_id")) == quote_id), None)
            if key is None:
                raise BadCorrection("that quote is no longer in this story (it was analysed again since the page "
                                    "was loaded): reload the page")
        if key not in quotes:
            raise BadCorrection("no such quote in this story")
        speaker = typed_name((form.get("speaker") or [""])[0])
        body = (form.get("entity") or [""])[0]
        if body and body not in entities:
            raise BadCorrection("choose a watched body, or none")
        rows = []
        if speaker and speaker != (quotes[key]["speaker"] or ""):
            rows.append(("quote_speaker", key, speaker[:200]))
        if body != (quotes[key]["entity_id"] or ""):
            rows.append(("quote_entity", key, body))
        if not rows:   # saved as shown: the person confirms the speaker (when one is shown) and the body
            rows = ([("quote_speaker", key, speaker[:200])] if speaker else []) + [("quote_entity", key, body)]
        return rows
    raise BadCorrection("unknown correction")


QUOTE_FIELDS = {"quote_speaker": ("speaker", "speaker"), "quote_entity": ("body", "entity_id")}


def correction_message(rows: list[tuple[str, str, str]], quotes: dict[str, dict], annotator: str) -> str:
    """The flash message for the rows :func:`correction_rows` gave: a quote's field stored as the page showed
    it was confirmed, one stored otherwise corrected ("Confirmed the speaker and body as NAME", "Corrected the
    speaker and confirmed the body as NAME"); label corrections are counted ("Saved 1 correction as NAME")."""
    from cuttings.wording import counted
    if not rows or any(task not in QUOTE_FIELDS for task, _, _ in rows):
        return f"Saved {counted(len(rows), 'correction')} as {annotator}"
    corrected, confirmed = [], []
    for task, target, label in rows:
        field, column = QUOTE_FIELDS[task]
        shown = (quotes.get(target) or {}).get(column) or ""
        (confirmed if label == shown else corrected).append(field)
    said = [f"{verb} the {' and '.join(fields)}"
            for verb, fields in (("corrected", corrected), ("confirmed", confirmed)) if fields]
    message = " and ".join(said)
    return f"{message[0].upper()}{message[1:]} as {annotator}"


# Datasette's CSRF cookie (asgi-csrf's, renamed) and asgi-csrf's signing namespace (with Datasette's secret).
CSRF_COOKIE = "ds_csrftoken"
CSRF_NAMESPACE = "csrftoken"
FORM_TYPE = "application/x-www-form-urlencoded"


def _origin_is_this_server(request) -> bool:
    """Whether the request's ``Origin``, or without one its ``Referer``, names this server (``Host``). Every
    current browser sends ``Origin`` with a form POST; a privacy setting may drop it, never forge it.
    The scheme is not compared: behind a TLS proxy the browser says https and Datasette sees http."""
    origin = request.headers.get("origin")
    if origin is None:
        origin = request.headers.get("referer") or ""
    parts = urllib.parse.urlsplit(origin)  # "null" (a sandboxed frame, a file) has no scheme: refused
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()


ORIGIN_REFUSAL = ("refused: a correction must be posted from this server's story page (the request came from "
                  "another site, or said neither Origin nor Referer)")


def correction_refusal(datasette, request, form: dict[str, list[str]]) -> str | None:
    """Why a correction POST is not from this server's story page (one line), or None when it is: the
    ``Origin`` (or ``Referer``) names this server and the form's ``csrftoken`` is Datasette's own, as the
    ``ds_csrftoken`` cookie holds it and signed with Datasette's secret."""
    if not _origin_is_this_server(request):
        return ORIGIN_REFUSAL
    token = (form.get("csrftoken") or [""])[0]
    cookie = request.cookies.get(CSRF_COOKIE, "")
    try:
        valid = bool(token) and secrets.compare_digest(token, cookie) and datasette.unsign(token, CSRF_NAMESPACE)
    except BadSignature:
        valid = False
    if not valid:
        return "refused: the form's CSRF token is missing or not this server's (reload the story page and try again)"
    return None


async def correct(datasette, request):
    """POST a correction (form fields, Datasette's ``csrftoken`` included); redirects to the story."""
    if request.method != "POST":
        return Response.text("POST a correction from the story page", status=405)
    if not corrections_enabled(datasette):
        return Response.text("corrections are off: start the server with `cuttings serve --corrections`", status=403)
    if not _origin_is_this_server(request):  # before reading anything another site sent
        return Response.text(ORIGIN_REFUSAL, status=403)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
        return Response.text(f"post the story page's form ({FORM_TYPE})", status=415)
    form = urllib.parse.parse_qs((await request.post_body()).decode("utf-8", "replace"), keep_blank_values=True)
    refusal = correction_refusal(datasette, request, form)
    if refusal:
        return Response.text(refusal, status=403)
    if not _bound_to_loopback(_config(datasette).get("host"), (request.scope.get("server") or ("",))[0]) \
            and not request.actor:
        return Response.text("sign in first: corrections on a server beyond 127.0.0.1 need a signed-in user",
                             status=403)
    database = request.url_vars["database"]
    article_id = _story_id(request)
    if database not in datasette.databases or article_id is None:
        return Response.text("no such story", status=404)
    db = datasette.get_database(database)
    if not db.is_mutable:
        return Response.text("the database is open read-only", status=403)
    context = await story_context(datasette, database, article_id)
    if context is None:
        return Response.text("no such story", status=404)
    annotator = annotator_of(datasette, request) or typed_name((form.get("annotator") or [""])[0])
    if not annotator:
        return Response.text("say who you are (annotator)", status=400)
    quotes = {f"{quote['start_char']}:{quote['end_char']}": quote for quote in context["quotes"]}
    try:
        rows = correction_rows(form, [topic["label"] for topic in context["topics"]], context["scheme"], quotes,
                               {entity["id"] for entity in context["entities"]})
    except BadCorrection as exc:
        return Response.text(str(exc), status=400)

    def write(conn):
        from sqlite_utils import Database

        from cuttings import store
        database = Database(conn)
        # a quote's correction stores the quote pages' rows it changed again (quote_people_stored stays fresh)
        count = store.add_correction_in_step(database, context["original_id"], rows, annotator[:200])
        # the views read the scheme's own tasks from its first labels on (as `cuttings label` records)
        kinds = {"topics": "multi_label", "stance": "single_label", "tone": "per_entity"}
        scheme_tasks = context["scheme"].get("tasks") or {}
        store.record_label_tasks(database, {name: kinds[role] for role, name in scheme_tasks.items()
                                            if name and role in kinds},
                                 **{f"no_{role}": role in scheme_tasks and scheme_tasks[role] is None
                                    for role in ("stance", "tone", "topics")})
        return count

    await db.execute_write_fn(write, block=True)
    datasette.add_message(request, correction_message(rows, quotes, annotator), datasette.INFO)
    return Response.redirect(story_url(database, article_id))


# --------------------------------------------------------------------------
# The Host check (DNS rebinding)
# --------------------------------------------------------------------------

LOOPBACK_NAMES = ("localhost",)


def _is_loopback(host: str | None) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine's loopback."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str | None:
    """The name of a ``Host`` header (``[::1]:8001`` -> ``::1``), or None when it is malformed."""
    try:
        parts = urllib.parse.urlsplit(f"//{header}")
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    return parts.hostname if parts.netloc == header and "@" not in header and parts.hostname else None


def _bound_to_loopback(configured: str | None, address: str | None) -> bool:
    """Whether the server listens on loopback: its ``--host`` says so (``127.0.0.1``, ``localhost``, ``::1``), or
    it names no address (no host configured, or a name such as the machine's own, which Debian maps to
    127.0.1.1) and the connection came in on a loopback address. ``0.0.0.0`` / ``::`` (every interface,
    an authentication plugin installed) is not loopback, whichever interface a request came in on."""
    if _is_loopback(configured):
        return True
    try:
        ipaddress.ip_address((configured or "").strip("[]"))
        return False  # an address that is not loopback, or the unspecified one
    except ValueError:
        return _is_loopback(address)


def host_refusal(scope, configured: str | None) -> str | None:
    """Why a request to a server bound to loopback (``configured``: the ``--host`` it was started with, see
    :func:`_bound_to_loopback`) names another host (one line), or None when it may be served: its ``Host``
    is a loopback name or address, any port (an SSH tunnel may forward another port; no other site can own
    these names), or the configured host. A server bound beyond loopback is not checked."""
    if not _bound_to_loopback(configured, (scope.get("server") or ("",))[0]):
        return None
    header = next((value.decode("latin-1") for key, value in scope.get("headers") or [] if key.lower() == b"host"), "")
    name = _host_name(header)
    if name is not None and (_is_loopback(name) or name.lower() == (configured or "").strip("[]").lower()):
        return None
    return (f"Host {header[:100]!r} is not this server: it answers to 127.0.0.1, localhost and [::1] only "
            "(a guard against DNS rebinding)")


class HostGuard:
    """ASGI middleware answering 400 with :func:`host_refusal`'s line to a request naming another host."""

    def __init__(self, app, datasette):
        self.app = app
        self.datasette = datasette

    async def __call__(self, scope, receive, send):
        if scope.get("type") == "http":
            refusal = host_refusal(scope, _config(self.datasette).get("host"))
            if refusal:
                await send({"type": "http.response.start", "status": 400,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": (refusal + "\n").encode("utf-8")})
                return
        await self.app(scope, receive, send)


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: HostGuard(app, datasette)


@hookimpl
def register_routes(datasette):
    return [
        # Any last segment: one that is not a story id is a 404 here (left to Datasette, whose own
        # routes read "/-/..." paths, it is a server error).
        (r"^/-/cuttings/story/(?P<database>[^/]+)/(?P<article_id>[^/]+)$", story_page),
        (r"^/-/cuttings/correct/(?P<database>[^/]+)/(?P<article_id>[^/]+)$", correct),
        # Any other path under the plugin's prefix (a story path with a segment more or less): a 404 here,
        # where Datasette would answer a server error.
        (r"^/-/cuttings(/.*)?$", not_found),
    ]


async def not_found(request):
    return Response.html("<h1>Not found</h1>", status=404)


def list_facet_sql(sql: str, column: str, key: str | None, limit: int) -> str:
    """:class:`ListFacet`'s SQL: the values of the JSON array ``column`` of ``sql``'s rows, each counted once per
    ``key`` (a column unique to a row), most frequent first; without a key once per whole row (ArrayFacet's)."""
    counted = (f"SELECT DISTINCT [inner].{escape_sqlite(key)}, j.value FROM [inner] "
               f"JOIN json_each([inner].{escape_sqlite(column)}) j" if key else
               f"SELECT DISTINCT j.value, [inner].* FROM json_each([inner].{escape_sqlite(column)}) j JOIN [inner]")
    return (f"WITH [inner] AS ({sql}), items AS ({counted}) SELECT value, count(*) AS count FROM items "
            f"GROUP BY value ORDER BY count(*) DESC, value LIMIT {int(limit)}")


class ListFacet(ArrayFacet):
    """Datasette's array facet (the same counts, filters and links: ``COLUMN__arraycontains``), counted without
    building whole rows. ArrayFacet removes a value repeated within a row with ``SELECT DISTINCT j.value, inner.*``,
    which makes SQLite compute every column of every row of the table's query: on article_summary (one story a
    row), its eight label columns and text as well as ``bodies``, 4-5 s at 50,000 stories (docs/benchmarks.md,
    "Story pages at a year's size"). Configured as ``{"list": {"column": COLUMN, "key": KEY}}`` where KEY is a
    column unique to a row (a view's key): a value counts once per KEY, as ArrayFacet counts it once per row, and
    SQLite reads only the two columns. Without a key (``?_facet_list=COLUMN``) it is ArrayFacet's SQL."""

    type = "list"

    async def suggest(self):
        return []   # ArrayFacet suggests the array columns (as ``_facet_array``)

    async def facet_results(self):
        results, timed_out = [], []
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            size = self.get_facet_size()
            sql = list_facet_sql(self.sql, column, config.get("key"), size + 1)
            try:
                rows = await self.ds.execute(self.database, sql, self.params, truncate=False,
                                             custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append(column)
                continue
            pairs = self.get_querystring_pairs()
            values = []
            for row in rows.rows[:size]:
                value = str(row["value"])
                arg = {f"{column}__arraycontains": value}
                selected = (f"{column}__arraycontains", value) in pairs
                path = path_with_removed_args(self.request, arg) if selected else path_with_added_args(self.request, arg)
                values.append({"value": value, "label": value, "count": row["count"],
                               "toggle_url": self.ds.absolute_url(self.request, path), "selected": selected})
            results.append({"name": column, "type": self.type, "results": values,
                            "hideable": source_and_config["source"] != "metadata",
                            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request,
                                                                                   {"_facet_list": column})),
                            "truncated": len(rows) > size})
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [ListFacet]

# The story view's bodies filter (``bodies__arraycontains=NAME``: a body chosen in the bodies facet) computes each
# story's ``bodies`` (its mentions' names, sorted, as JSON) to test it: for the count, the page and each of the four
# facets, about 0.3-0.4 s a statement at 50,000 stories. :func:`filters_from_request` adds the same test as a list of
# story ids sought by index (the stories with a mention of an entity of that name: the ``bodies`` of article_summary
# is exactly their names, ``coalesce(display_name, name, entity_id)``), so only the stories in it compute ``bodies``.
# Datasette's own clause stays: the rows are the same; the clause added is implied by it, and it implies it.
BODY_NAMED_SQL = ("article_id IN (SELECT m.article_id FROM mentions m WHERE m.entity_id IN ("
                  "SELECT en.id FROM entities en WHERE coalesce(en.display_name, en.name, en.id) = :{p} "
                  "UNION ALL SELECT :{p} WHERE NOT EXISTS (SELECT 1 FROM entities en WHERE en.id = :{p})))")


@hookimpl
def filters_from_request(request, database, table, datasette):
    """For article_summary's ``bodies__arraycontains`` filters, :data:`BODY_NAMED_SQL` (no description: Datasette's
    own filter says "bodies contains NAME")."""
    if table != "article_summary":
        return None
    names = request.args.getlist("bodies__arraycontains")
    if not names:
        return None

    async def inner():
        from datasette.filters import FilterArguments

        db = datasette.get_database(database)
        if not (await db.table_exists("mentions") and await db.table_exists("entities")):
            return None
        params = {f"cuttings_body_{i}": name for i, name in enumerate(names)}
        return FilterArguments([BODY_NAMED_SQL.format(p=param) for param in params], params=params)

    return inner
