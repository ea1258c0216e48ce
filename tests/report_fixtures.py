"""A small, realistic cuttings database for the report, serve, export and SQL-example tests.

``build_sample_db(path)`` fills a real SQLite file through the store's own writers
(``cuttings.store``), their timestamps set with ``store.clock``. The reference clock is :data:`NOW`
(2026-11-24 07:00 UTC, a morning digest); the previous digest covered the day up to
:data:`LAST_REPORT_UNTIL`, so stories first seen after it are "new".
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from sqlite_utils import Database

from crawler.dedupe import fingerprint, to_blob
from crawler.revisions import diff_summary
from cuttings import store
from nlp.entities import document_text
from nlp.quotes import speaker_identity

NOW = "2026-11-24T07:00:00Z"
LAST_REPORT_UNTIL = "2026-11-23T07:00:00Z"
HOSTILE_TITLE = '<script>alert(1)</script> Fire chief "quits"'
HOSTILE_BODY_HTML = "<img src=x onerror=alert(1)>"

SOURCES = [
    ("hereford_times", "Hereford Times", "https://www.herefordtimes.com/", "Herefordshire"),
    ("worcester_news", "Worcester News", "https://www.worcesternews.co.uk/", "Worcestershire"),
    ("shropshire_star", "Shropshire Star", "https://www.shropshirestar.com/", "Shropshire"),
]

ENTITIES = [
    ("hwfrs", "Hereford & Worcester Fire and Rescue Service", "fire_service"),
    ("hw_fire_authority", "Hereford & Worcester Fire Authority", "fire_authority"),
    ("sfrs", "Shropshire Fire and Rescue Service", "fire_service"),
    ("shropshire_fire_authority", "Shropshire and Wrekin Fire Authority", "fire_authority"),
    ("wm_pcc", "West Mercia Police and Crime Commissioner", "office"),
    ("west_mercia_police", "West Mercia Police", "police_force"),
]
# Short display names (data/watchlist.toml `display_name`); West Mercia Police has none: its name is used.
DISPLAY_NAMES = {"hwfrs": "HWFRS", "hw_fire_authority": "H&W Fire Authority", "sfrs": "SFRS",
                 "shropshire_fire_authority": "Shropshire Fire Authority", "wm_pcc": "PCC"}

# key, source, published_at, first_seen_at, title, body paragraphs,
# mentions {entity: [surface...]}, quotes [(speaker, role, entity, text)], topics, stance, tone {entity: label},
# uncertain labels {(task, target)}, duplicate_of key
ARTICLES = [
    dict(key="savings", source="worcester_news", published="2026-10-16T08:00:00Z", seen="2026-10-16T09:10:00Z",
         title="Fire authority sets out savings plan for next year", authors=["Jane Doe"],
         body=["Hereford & Worcester Fire Authority has agreed a savings plan worth £1.2 million.",
               "HWFRS says no fire stations will close under the plan."],
         mentions={"hw_fire_authority": ["Hereford & Worcester Fire Authority"], "hwfrs": ["HWFRS"]},
         topics=["finance"], stance="none", tone={"hwfrs": "neutral"}),
    dict(key="barn", source="shropshire_star", published="2026-10-20T21:15:00Z", seen="2026-10-21T02:05:00Z",
         title="Crews tackle barn blaze near Ludlow",
         body=["Six crews from Shropshire Fire and Rescue Service fought a fire in a hay barn near Ludlow.",
               "Nobody was hurt and the farmer thanked the firefighters."],
         mentions={"sfrs": ["Shropshire Fire and Rescue Service"]},
         topics=["incident"], stance="none", tone={"sfrs": "positive"}),
    dict(key="case", source="hereford_times", published="2026-10-24T10:00:00Z", seen="2026-10-24T11:00:00Z",
         title="Commissioner Campion sets out case for taking over fire governance",
         authors=["Tom Price", "Jane Doe"],
         body=["West Mercia Police and Crime Commissioner John Campion wants to take over the "
               "Hereford & Worcester Fire Authority.",
               "Mr Campion said: \"A single governance body would save money and put the public first.\"",
               "HWFRS would keep its own chief fire officer."],
         mentions={"wm_pcc": ["John Campion", "Mr Campion"], "hw_fire_authority": ["Hereford & Worcester Fire Authority"],
                   "hwfrs": ["HWFRS"]},
         quotes=[("Mr Campion", "Police and Crime Commissioner", "wm_pcc",
                  "A single governance body would save money and put the public first.")],
         topics=["governance"], stance="favour", tone={"wm_pcc": "positive", "hwfrs": "neutral"}),
    dict(key="oppose", source="shropshire_star", published="2026-10-27T17:40:00Z", seen="2026-10-28T02:05:00Z",
         title="Councillors oppose PCC bid to run Shropshire fire service",
         body=["Members of the Shropshire and Wrekin Fire Authority voted against the Commissioner's bid.",
               "Councillor Jane Morris said: \"Shropshire Fire and Rescue Service works well as it is.\"",
               "Mr Campion said he would publish a full business case."],
         mentions={"shropshire_fire_authority": ["Shropshire and Wrekin Fire Authority"],
                   "sfrs": ["Shropshire Fire and Rescue Service"], "wm_pcc": ["Commissioner", "Mr Campion"]},
         quotes=[("Councillor Jane Morris", "councillor", None, "Shropshire Fire and Rescue Service works well as it is.")],
         topics=["governance"], stance="against", tone={"wm_pcc": "negative", "sfrs": "neutral"}),
    dict(key="burglary", source="worcester_news", published="2026-10-30T12:00:00Z", seen="2026-10-30T13:00:00Z",
         title="West Mercia Police appeal after burglaries in Droitwich",
         body=["West Mercia Police is appealing for witnesses after three burglaries in Droitwich."],
         mentions={"west_mercia_police": ["West Mercia Police"]},
         topics=["other"], stance="none", tone={}),
    dict(key="alarms", source="hereford_times", published="2026-11-03T09:00:00Z", seen="2026-11-03T10:00:00Z",
         title="Smoke alarm campaign launched across Herefordshire",
         body=["HWFRS is fitting free smoke alarms for older residents this winter."],
         mentions={"hwfrs": ["HWFRS"]},
         topics=["prevention"], stance="none", tone={"hwfrs": "positive"}),
    dict(key="inspection", source="shropshire_star", published="2026-11-06", seen="2026-11-06T15:00:00Z",
         title="Inspectors rate Shropshire Fire and Rescue Service good",
         body=["HMICFRS rated SFRS good at preventing fires and responding to emergencies."],
         mentions={"sfrs": ["Shropshire Fire and Rescue Service", "SFRS"]},
         topics=["inspection"], stance="none", tone={"sfrs": "positive"}),
    dict(key="hq", source="worcester_news", published="2026-11-10T07:30:00Z", seen="2026-11-10T08:00:00Z",
         title="Fire and police alliance: shared headquarters plan",
         first_title="Shared HQ plan for fire and police",
         body=["HWFRS and West Mercia Police plan to share a headquarters in Worcester.",
               "The move would save £300,000 a year, the report says."],
         first_body=["HWFRS and West Mercia Police plan to share a headquarters in Worcester."],
         edited_at="2026-11-23T15:20:00Z", modified="2026-11-23T15:00:00Z",
         mentions={"hwfrs": ["HWFRS"], "west_mercia_police": ["West Mercia Police"]},
         topics=["collaboration", "finance"], stance="neutral", tone={"hwfrs": "neutral"}),
    dict(key="parking", source="hereford_times", published="2026-11-14T10:00:00Z", seen="2026-11-14T11:00:00Z",
         title="Hereford market traders welcome new parking rules",
         body=["Traders at Hereford's Butter Market say the new parking rules have brought more shoppers."],
         topics=["other"], stance="none", tone={}),
    dict(key="gap", source="shropshire_star", published="2026-11-18T16:00:00Z", seen="2026-11-19T02:05:00Z",
         title="Fire authority budget gap widens",
         body=["The Shropshire and Wrekin Fire Authority faces a £900,000 gap next year.",
               "SFRS may have to leave posts unfilled."],
         mentions={"shropshire_fire_authority": ["Shropshire and Wrekin Fire Authority"], "sfrs": ["SFRS"]},
         topics=["finance"], stance="none", tone={"sfrs": "neutral"}, uncertain={("tone", "sfrs")}),
    dict(key="consult", source="worcester_news", published="2026-11-20T11:00:00Z", seen="2026-11-20T12:00:00Z",
         title="PCC confirms consultation on fire governance",
         body=["The Police and Crime Commissioner will consult the public on fire governance from December."],
         mentions={"wm_pcc": ["Police and Crime Commissioner"]},
         topics=["governance"], stance="neutral", tone={"wm_pcc": "neutral"}),
    # ---- first seen since the last digest ----
    dict(key="defends", source="hereford_times", published="2026-11-23T09:00:00Z", seen="2026-11-23T09:30:00Z",
         title="Campion defends fire takeover plan at public meeting",
         body=["John Campion told a packed meeting in Leominster that HWFRS would be better run under his office.",
               "Mr Campion said: \"This is about a better service for every community in Herefordshire and "
               "Worcestershire.\"",
               "Roger Phillips, chairman of the Hereford & Worcester Fire Authority, said: \"The authority has not "
               "been shown any evidence that the change would save money.\""],
         edited_at="2026-11-23T18:00:00Z",
         first_body=["John Campion told a meeting in Leominster that HWFRS would be better run under his office.",
                     "Mr Campion said: \"This is about a better service for every community in Herefordshire and "
                     "Worcestershire.\""],
         mentions={"wm_pcc": ["John Campion", "Mr Campion"], "hwfrs": ["HWFRS"],
                   "hw_fire_authority": ["Hereford & Worcester Fire Authority"]},
         quotes=[("Mr Campion", "Police and Crime Commissioner", "wm_pcc",
                  "This is about a better service for every community in Herefordshire and Worcestershire."),
                 ("Roger Phillips", "chairman of the fire authority", "hw_fire_authority",
                  "The authority has not been shown any evidence that the change would save money.")],
         topics=["governance"], stance="favour", tone={"wm_pcc": "positive", "hwfrs": "neutral"}),
    dict(key="defends_copy", source="worcester_news", published="2026-11-23T09:05:00Z", seen="2026-11-23T10:30:00Z",
         duplicate_of="defends", title="Campion defends fire takeover plan at meeting",
         body=["John Campion told a packed meeting in Leominster that HWFRS would be better run under his office."],
         mentions={"wm_pcc": ["John Campion"], "hwfrs": ["HWFRS"]},
         topics=["governance"], stance="favour", tone={"wm_pcc": "positive"}),
    dict(key="warn", source="shropshire_star", published="2026-11-23T11:00:00Z", seen="2026-11-23T11:20:00Z",
         title="Fire chiefs warn over commissioner's plans",
         body=["Senior officers at Shropshire Fire and Rescue Service have warned the Shropshire and Wrekin Fire "
               "Authority about the commissioner's plans.",
               "Mr Campion said: \"I will listen to every view before any decision is made.\""],
         mentions={"sfrs": ["Shropshire Fire and Rescue Service"],
                   "shropshire_fire_authority": ["Shropshire and Wrekin Fire Authority"],
                   "wm_pcc": ["commissioner", "Mr Campion"]},
         quotes=[("Mr Campion", "Police and Crime Commissioner", "wm_pcc",
                  "I will listen to every view before any decision is made.")],
         topics=["governance", "workforce"], stance="neutral", human_stance="against",
         tone={"wm_pcc": "negative", "sfrs": "neutral"},
         uncertain={("stance_governance", ""), ("tone", "wm_pcc")}),
    dict(key="warn_copy", source="hereford_times", published="2026-11-23T12:00:00Z", seen="2026-11-23T13:00:00Z",
         duplicate_of="warn", title="Fire chiefs warn over commissioner's plans",
         body=["Senior officers at Shropshire Fire and Rescue Service have warned the Shropshire and Wrekin Fire "
               "Authority about the commissioner's plans."],
         mentions={"sfrs": ["Shropshire Fire and Rescue Service"]},
         topics=["governance"], stance="against", tone={"sfrs": "neutral"}),
    dict(key="rural", source="worcester_news", published="2026-11-23T14:00:00Z", seen="2026-11-23T14:40:00Z",
         title="West Mercia Police and PCC launch rural crime fund",
         body=["West Mercia Police and the Police and Crime Commissioner have launched a £50,000 rural crime fund."],
         mentions={"west_mercia_police": ["West Mercia Police"], "wm_pcc": ["Police and Crime Commissioner"]},
         topics=["finance"], stance="none", tone={"wm_pcc": "positive"}),
    dict(key="hostile", source="hereford_times", published="2026-11-23T16:00:00Z", seen="2026-11-23T16:30:00Z",
         title=HOSTILE_TITLE,
         body=[f"A senior officer at HWFRS has resigned. {HOSTILE_BODY_HTML} The service declined to comment.",
               "Colleagues said: \"<b>We are shocked</b> & saddened.\""],
         mentions={"hwfrs": ["HWFRS"]},
         quotes=[("Colleagues", None, None, "<b>We are shocked</b> & saddened.")],
         topics=["workforce"], stance="none", tone={"hwfrs": "negative"}),
    dict(key="a49", source="shropshire_star", published="2026-11-23T18:30:00Z", seen="2026-11-23T19:00:00Z",
         title="Crews rescue driver after crash on A49",
         body=["Firefighters from Shropshire Fire and Rescue Service cut a driver free after a crash on the A49."],
         mentions={"sfrs": ["Shropshire Fire and Rescue Service"]},
         topics=["incident"], stance="none", tone={"sfrs": "positive"}),
    dict(key="responds", source="worcester_news", published="2026-11-24T05:30:00Z", seen="2026-11-24T06:00:00Z",
         title="Commissioner's office responds to fire consultation criticism",
         body=["The office of the Police and Crime Commissioner said criticism of the consultation was unfair.",
               "HWFRS staff will be briefed next week."],
         mentions={"wm_pcc": ["Police and Crime Commissioner"], "hwfrs": ["HWFRS"]},
         topics=["governance"], stance="neutral", tone={"wm_pcc": "neutral", "hwfrs": "neutral"},
         uncertain={("stance_governance", "")}),
    dict(key="library", source="hereford_times", published="2026-11-23", seen="2026-11-23T20:00:00Z",
         title="Hereford library reopens after refurbishment",
         body=["Hereford library has reopened in the Shirehall after a two-year refurbishment."],
         topics=["other"], stance="none", tone={}),
]

MODEL_VERSIONS = {"topics": "topics-2026.11.1", "stance_governance": "stance-2026.11.1", "tone": "tone-2026.11.1"}
# The model cards' headline figures (``nlp.classify.card_metrics``); tone trained without held-out slices.
MODEL_METRICS = {
    "topics": {"metric": "micro_f1", "cv": 0.824, "cv_folds": 5, "baseline": 0.25, "unseen_slices": 0.777,
               "unseen_slices_interval": [0.752, 0.8], "slices": ["gov", "t1", "t2"]},
    "stance_governance": {"metric": "macro_f1", "cv": 0.823, "cv_folds": 5, "baseline": 0.222,
                          "unseen_slices": 0.738, "unseen_slices_interval": [0.661, 0.805],
                          "unseen_slices_range": [0.497, 1.0], "slices": ["gov", "t1", "t2"]},
    "tone": {"metric": "macro_f1", "cv": 0.717, "cv_folds": 5, "baseline": 0.225},
}

# What each card's reports say per label (``leave_one_slice_out`` / ``cross_validation``); tone has
# no held-out report, as above.
def _per_label(**precisions: float) -> dict:
    return {label: {"precision": precision, "recall": 0.7, "f1": 0.7, "support": 20}
            for label, precision in precisions.items()}


MODEL_REPORTS = {
    "topics": {"leave_one_slice_out": {"per_label": _per_label(governance=0.857, finance=0.702, other=0.567)},
               "cross_validation": {"per_label": _per_label(governance=0.9, finance=0.8, other=0.6)}},
    "stance_governance": {"leave_one_slice_out": {"per_label": _per_label(favour=0.72, against=0.8, neutral=0.5,
                                                                          none=0.98)},
                          "cross_validation": {"per_label": _per_label(favour=0.8, against=0.85, neutral=0.6,
                                                                       none=0.99)}},
    "tone": {"leave_one_slice_out": None,
             "cross_validation": {"per_label": {**_per_label(positive=0.642, neutral=0.751, negative=0.744),
                                                "mixed": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}}}},
}


def _document(title: str, paragraphs: list[str]) -> tuple[str, str]:
    body = "\n\n".join(paragraphs)
    return body, document_text(title, body)


def _paragraph_of(document: str, start: int) -> int:
    """Paragraph number (0 = headline) of a character offset into ``document_text``."""
    return document[:start].count("\n\n")


def _fingerprint(body: str) -> bytes:
    return to_blob(fingerprint(body))


def _insert_article(db: Database, spec: dict, ids: dict[str, int], run_id: int) -> int:
    title, body_paragraphs = spec["title"], spec["body"]
    body, document = _document(title, body_paragraphs)
    first_title = spec.get("first_title", title)
    first_body = "\n\n".join(spec.get("first_body", body_paragraphs))
    slug = spec["key"].replace("_", "-")
    outlet_home = next(s[2] for s in SOURCES if s[0] == spec["source"])
    url = f"{outlet_home}news/2026/{slug}/"
    item = {"url": url, "canonical_url": url, "source_id": spec["source"], "title": first_title, "body": first_body,
            "author": "Staff reporter", "published_at": spec["published"], "published_source": "json-ld",
            "found_by": "feed", "language": "en", "description": body_paragraphs[0][:160], "section": "news"}
    with store.clock(spec["seen"]):
        article_id = store.insert_article(db, item, run_id, fingerprint=_fingerprint(first_body),
                                          duplicate_of=ids.get(spec.get("duplicate_of")),
                                          similarity=0.93 if spec.get("duplicate_of") else None)
    if "edited_at" in spec:
        summary, headline_changed, is_correction = diff_summary(first_title, first_body, title, body)
        revised = {**item, "title": title, "body": body, "modified_at": spec.get("modified"),
                   "modified_source": "json-ld" if spec.get("modified") else None}
        with store.clock(spec["edited_at"]):
            store.add_revision(db, store.find_article(db, url), revised, run_id, fingerprint=_fingerprint(body),
                               summary=summary, headline_changed=headline_changed, is_correction=is_correction)
    with store.clock(NOW):
        store.touch_article(db, article_id, url)
    store.replace_authors(db, article_id, spec.get("authors", []), "json-ld")
    mentions = []
    for entity_id, surfaces in spec.get("mentions", {}).items():
        for surface in surfaces:
            start = document.find(surface)
            assert start >= 0, (spec["key"], surface)
            paragraph = _paragraph_of(document, start)
            mentions.append({"entity_id": entity_id, "surface": surface, "start_char": start,
                             "end_char": start + len(surface), "sentence": document.split("\n\n")[paragraph],
                             "paragraph": paragraph, "method": "matched"})
    quotes = []
    for speaker, role, entity_id, text in spec.get("quotes", []):
        start = document.find(text)
        assert start >= 0, (spec["key"], text)
        quotes.append({"speaker": speaker, "speaker_role": role, "entity_id": entity_id, "text": text,
                       "speaker_id": speaker_identity(speaker),   # as the analyser stores it
                       "start_char": start, "end_char": start + len(text)})
    article = {"id": article_id, "content_hash": store.content_hash(title, body), "processed_version": None}
    uncertain = spec.get("uncertain", set())
    predictions = [("topics", "", topic, 0.81) for topic in spec["topics"]]
    predictions.append(("stance_governance", "", spec["stance"], 0.74))
    predictions += [("tone", entity_id, label, 0.68) for entity_id, label in spec["tone"].items()]
    rows = [{"task": task, "target": target, "label": label,
             "probability": 0.41 if (task, target) in uncertain else probability,
             "uncertain": (task, target) in uncertain, "model_version": MODEL_VERSIONS[task]}
            for task, target, label, probability in predictions]
    with store.clock(spec["seen"]):
        store.replace_analysis(db, article, "analyser-2026.11.1", mentions, quotes)
        store.replace_classifications(db, article, "+".join(sorted(MODEL_VERSIONS.values())), rows)
    if "human_stance" in spec:
        with store.clock("2026-11-23T21:00:00Z"):
            store.add_labels(db, [(article_id, "stance_governance", "", spec["human_stance"], "analyst@example.org")])
    return article_id


@dataclass
class _Source:
    """What ``store.sync_sources`` reads of a configured source."""
    id: str
    name: str
    home: str
    region: str
    verified: bool = True

    def as_dict(self) -> dict:
        return {}


def build_sample_db(path: str | Path) -> Database:
    """Create and fill the sample database at ``path`` through the store's writers; returns the
    open :class:`Database`."""
    db = store.connect(path)
    with store.transaction(db):
        with store.clock("2026-10-01T00:00:00Z"):
            store.sync_sources(db, [_Source(*source) for source in SOURCES])
            store.sync_entities(db, SimpleNamespace(version="watchlist-3", entities=[
                SimpleNamespace(id=entity_id, name=name, kind=kind, display_name=DISPLAY_NAMES.get(entity_id))
                for entity_id, name, kind in ENTITIES]))
        for task, version in MODEL_VERSIONS.items():
            store.record_model(db, {"model_version": version, "task": task, "labels": [],
                                    "training_data_hash": "abc123", "n_examples": 200,
                                    "metrics": MODEL_METRICS[task], **MODEL_REPORTS[task],
                                    "created_at": "2026-11-01T00:00:00Z"}, f"models/{version}.skops")
        with store.clock("2026-11-23T02:00:00Z"):
            previous_run = store.start_run(db, "crawl")
        with store.clock("2026-11-23T02:20:00Z"):
            store.finish_run(db, previous_run, "ok", pages_fetched=240, articles_new=3, errors=0)
        with store.clock("2026-11-24T02:00:00Z"):
            last_run = store.start_run(db, "crawl")
        with store.clock("2026-11-24T02:10:00Z"):
            for kind, status, url, message in [
                    ("http", 503, "https://www.shropshirestar.com/news/feed/", "Service Unavailable"),
                    ("extract", None, "https://www.shropshirestar.com/news/2026/x/", "no article body found")]:
                store.record_error(db, last_run, kind, url=url, source_id="shropshire_star", http_status=status,
                                   message=message)
        with store.clock("2026-11-24T02:25:00Z"):
            store.finish_run(db, last_run, "partial", message="shropshire_star: 2 errors", pages_fetched=180,
                             articles_new=9, errors=2)
        store.save_source_runs(db, [
            # shropshire_star read nothing (its feed answered 503): it failed (cuttings.failures.source_failed)
            {"crawl_run_id": last_run, "source_id": source_id, "found_by_feed": stored, "pages_fetched": 60 if stored else 0,
             "articles_stored": stored, "articles_new": stored, "errors": errors, "mean_body_words": 410.5,
             "date_rate": 0.95, "warning": warning}
            for source_id, stored, errors, warning in [("hereford_times", 5, 0, None), ("worcester_news", 4, 0, None),
                                                       ("shropshire_star", 0, 2, "feed answered HTTP 503")]])
        ids: dict[str, int] = {}
        for spec in ARTICLES:
            ids[spec["key"]] = _insert_article(db, spec, ids, previous_run)
        with store.clock("2026-11-23T07:00:05Z"):
            store.record_reports(db, {"since": "2026-11-22T07:00:00Z", "until": LAST_REPORT_UNTIL,
                                      "summary": {"stories": 1}}, ["html"], ["data/reports/digest-2026-11-23.html"])
    return db


def article_id(db: Database, key: str) -> int:
    """The id of a sample article by its fixture key (its URL slug)."""
    slug = key.replace("_", "-")
    return db.execute("SELECT id FROM articles WHERE url LIKE ?", [f"%/news/2026/{slug}/"]).fetchone()[0]


# A busy night: many new stories about every body, for the e-mail's size budget (tests/test_email_digest.py).
_BUSY_PLACES = ("Hereford", "Worcester", "Ludlow", "Telford", "Bromsgrove", "Oswestry", "Leominster", "Kidderminster")
_BUSY_TONES = ("neutral", "positive", "neutral", "negative", "neutral")


def add_busy_night(db: Database, count: int) -> list[int]:
    """``count`` more stories first seen in the sample's digest window (after :data:`LAST_REPORT_UNTIL`),
    written through the store as :func:`build_sample_db` writes its own: each mentions two watched bodies
    (so it is listed under both), quotes a named speaker for the first at some length, has a topic, a stance
    and a tone towards the first body (every fifth negative); returns their ids."""
    run_id = db.execute("SELECT max(id) FROM crawl_runs").fetchone()[0]
    ids: dict[str, int] = {}
    found = []
    for n in range(count):
        first, second = ENTITIES[n % len(ENTITIES)], ENTITIES[(n + 2) % len(ENTITIES)]
        place = _BUSY_PLACES[n % len(_BUSY_PLACES)]
        quote = (f"We have listened to people in {place} and we will set out what this means for every station, "
                 f"every crew and every household before the authority meets again in the new year, item {n}.")
        spec = dict(key=f"busy_{n}", source=SOURCES[n % len(SOURCES)][0],
                    published=f"2026-11-23T{8 + n // 60 % 20:02d}:{n % 60:02d}:00Z",
                    seen=f"2026-11-23T{8 + n // 60 % 20:02d}:{n % 60:02d}:30Z",
                    title=f"{place} update {n}: {first[1]} and {second[1]} set out next year's plans",
                    authors=["Staff reporter"],
                    body=[f"{first[1]} and {second[1]} have set out their plans for {place} next year.",
                          f"Chief officer Alex Morgan said: \"{quote}\""],
                    mentions={first[0]: [first[1]], second[0]: [second[1]]},
                    quotes=[("Alex Morgan", "chief officer", first[0], quote)],
                    topics=["finance", "governance"] if n % 2 else ["incident"],
                    stance=("against", "none", "favour", "none", "neutral")[n % 5],
                    tone={first[0]: _BUSY_TONES[n % len(_BUSY_TONES)]})
        found.append(_insert_article(db, spec, ids, run_id))
    return found


def quoting_story(db: Database, key: str, quotes: list[tuple[str, str | None]], published="2026-11-20T10:00:00Z",
                  first_seen: str | None = None) -> int:
    """A stored story quoting (speaker, body) pairs, each quote's speaker identity as the analyser gives it, first
    seen at ``first_seen`` (default: when it was published)."""
    text = " ".join(f"Words {n}." for n in range(len(quotes)))
    article_id = db.execute(
        "INSERT INTO articles (url, canonical_url, source_id, title, published_at, first_seen_at, last_seen_at, "
        "body, content_hash) VALUES (?, ?, 'shropshire_star', ?, ?, ?, ?, ?, ?)",
        [f"https://x/{key}", f"https://x/{key}", f"Story {key}", published, first_seen or published, NOW, text,
         key]).lastrowid
    rows = [{"speaker": speaker, "speaker_id": speaker_identity(speaker), "speaker_role": None, "entity_id": body,
             "text": f"Words {n}.", "start_char": 9 * n, "end_char": 9 * n + 8}
            for n, (speaker, body) in enumerate(quotes)]
    store.replace_analysis(db, {"id": article_id, "content_hash": key, "processed_version": None}, "t", [], rows)
    return article_id
