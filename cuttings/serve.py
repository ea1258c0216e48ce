"""Serving the database with Datasette, and the one place that describes every table and column.

:data:`TABLE_DOCS` holds the description of every table, view and column; it feeds
Datasette's metadata (shown above each table and in column headers) and the reference
section of ``docs/schema.md`` (:func:`schema_reference_markdown`, kept in step by
``tests/test_sql_examples.py``; regenerate with :func:`update_schema_doc`).
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from cuttings import paths, store
from nlp.scheme import TONE_ATTENTION_DEFAULT

log = logging.getLogger(__name__)

SCHEMA_DOC = store.REPO_DIR / "docs" / "schema.md"
_BEGIN = "<!-- BEGIN GENERATED: schema reference (cuttings.serve.update_schema_doc) -->"
_END = "<!-- END GENERATED: schema reference -->"

TS = "2026-11-24T02:10:05Z"

# table -> (description, {column: (description, example)})
TABLE_DOCS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "sources": ("News outlets (or newsrooms) crawled, mirrored from `data/sources.toml` on every crawl.", {
        "id": ("Short identifier used everywhere else as `source_id`.", "hereford-times"),
        "name": ("Outlet name as readers know it.", "Hereford Times"),
        "home_url": ("Home page.", "https://www.herefordtimes.com/"),
        "region": ("County or area the outlet covers.", "Herefordshire"),
        "verified": ("1 when the feeds and selectors were checked against the live site.", "1"),
        "config_json": ("The full source entry from the config file, as JSON (secrets in its URLs redacted).",
                        '{"feeds": [...]}'),
        "updated_at": ("When this row was last synchronised from the config (UTC).", TS),
    }),
    "crawl_runs": ("One row per pipeline run (`cuttings crawl`, `cuttings run`...), with totals.", {
        "id": ("Run number.", "42"),
        "command": ("The command that started the run.", "crawl"),
        "started_at": ("Start time (UTC).", TS),
        "finished_at": ("End time (UTC); NULL while running or if the process died.", TS),
        "status": ("`running`, `ok`, `partial` (some sources failed), `failed` or `interrupted`.", "ok"),
        "pid": ("Process id, to detect a run that died without finishing.", "12345"),
        "since": ("Lower date bound the run was asked to crawl from, if any.", "2026-11-01"),
        "pages_fetched": ("Pages downloaded.", "240"),
        "articles_new": ("Articles stored for the first time.", "12"),
        "articles_updated": ("Articles whose text changed materially (new version).", "2"),
        "articles_unchanged": ("Articles fetched again with no material change.", "30"),
        "duplicates": ("New syndicated copies of an already stored story.", "3"),
        "pages_rejected": ("Pages fetched but not stored (not an article, too short, off-topic...).", "55"),
        "errors": ("Rows in `crawl_errors` for this run.", "1"),
        "stages_json": ("Per-stage timings and counts, as JSON.", '{"crawl": {"seconds": 310}}'),
        "message": ("Human-readable summary or failure reason.", "shropshire-star: 2 errors"),
    }),
    "articles": ("One row per article URL (canonicalised). Syndicated copies are rows too, linked by "
                 "`duplicate_of`; edits update the row and add an `article_versions` row.", {
        "id": ("Article id.", "17"),
        "url": ("URL the article was last fetched from (after redirects).", "https://www.herefordtimes.com/news/123/"),
        "canonical_url": ("Normalised canonical URL (unique): the article's identity for deduplication, not "
                          "always an address that opens (no trailing slash, mobile/AMP hosts as www., query "
                          "sorted).", "https://www.herefordtimes.com/news/123"),
        "link_url": ("The address a reader opens, shown as `url` by the views, the digest and exports: the "
                     "rel=canonical the page declares, as written, when the crawler accepted it (http(s), this "
                     "site or a declared sister title), else the URL fetched after redirects. Empty for articles "
                     "stored before migration m018 (the views show `url` then) until a revision is stored.",
                     "https://www.herefordtimes.com/news/123/"),
        "source_id": ("Outlet (`sources.id`).", "hereford-times"),
        "title": ("Headline (current version). Crawled text: treat as untrusted.", "Fire chief quits"),
        "author": ("Byline, if found.", "Staff reporter"),
        "published_at": ("Publication time (UTC), or a date when only the day is known; NULL when unknown. A date "
                         "before 1990 or more than a day after the page was fetched is not believed (docs/extraction.md).",
                         "2026-11-23T16:00:00Z"),
        "published_source": ("Where the publication date came from: `json-ld`, `meta`, `text` (a `<time>` element or "
                             "the page's markup or text), `url`, `feed` or `sitemap` (discovery's date, the page "
                             "giving none) or `override` (the source's own selector); docs/extraction.md.", "json-ld"),
        "modified_at": ("Last-modified time the page declares (UTC).", "2026-11-23T18:00:00Z"),
        "modified_source": ("Where `modified_at` came from: `json-ld` or `meta`.", "json-ld"),
        "first_seen_at": ("When cuttings first stored the article (UTC).", "2026-11-23T16:30:00Z"),
        "last_seen_at": ("When cuttings last fetched it (UTC).", "2026-11-24T02:10:00Z"),
        "last_changed_at": ("When its text last changed materially (UTC).", "2026-11-23T18:00:00Z"),
        "body": ("Article text, paragraphs separated by a blank line.", "A senior officer..."),
        "word_count": ("Words in the body.", "412"),
        "content_hash": ("SHA-256 of the normalised title and body.", "9f2c...e1"),
        "duplicate_of": ("For a syndicated copy: the `articles.id` of its original (the copy stored first; within one "
                         "crawl run the copy published first); NULL for originals. A copy that no longer matches its "
                         "revised original is released (NULL again): docs/crawler.md.", "12"),
        "similarity": ("Estimated Jaccard similarity to `duplicate_of` (MinHash of 5-word shingles); for a rewording "
                       "from the same outlet that the shingles miss, the Jaccard similarity of the two stories' sets of "
                       "words of more than three letters (docs/crawler.md).", "0.93"),
        "found_by": ("How the URL was discovered: feed, sitemap, links or search.", "feed"),
        "language": ("The language the page declares (its `lang` attribute, JSON-LD `inLanguage` or a meta tag), "
                     "as written: not detected from the text.", "en-GB"),
        "description": ("The page's meta description / standfirst.", "A senior officer has resigned."),
        "section": ("Site section, if known.", "news"),
        "paywalled": ("1 when the page looked paywalled (body may be partial).", "0"),
        "version": ("Current version number (1 = never edited).", "2"),
        "crawl_run_id": ("Run that first stored it (`crawl_runs.id`).", "42"),
    }),
    "article_versions": ("Every material version of every article, version 1 = as first seen.", {
        "id": ("Row id.", "301"),
        "article_id": ("The article (`articles.id`).", "12"),
        "version": ("Version number, 1, 2, ...", "2"),
        "title": ("Headline in this version.", "Shared HQ plan for fire and police"),
        "body": ("Body in this version.", "HWFRS and West Mercia Police..."),
        "content_hash": ("Hash of this version's title and body.", "9f2c...e1"),
        "captured_at": ("When cuttings saw this version (UTC).", "2026-11-23T15:20:00Z"),
        "diff_summary": ("Short summary of the change from the previous version.", "body +26/-0 words"),
        "headline_changed": ("1 when the headline differs from the previous version.", "1"),
        "is_correction": ("1 when this version added a correction or clarification notice.", "0"),
        "crawl_run_id": ("Run that captured it.", "42"),
    }),
    "article_authors": ("The people in each article's byline, one row each: group by `name_key` for a journalist.", {
        "article_id": ("The article (`articles.id`).", "12"),
        "position": ("Order in the byline, 0 = first named.", "0"),
        "name": ("The name as the page gives it.", "Jane Doe"),
        "name_key": ("Folded name (lower case, accents and punctuation removed): group by this.", "jane doe"),
        "source": ("Where the byline came from: `json-ld`, `meta`, `markup`, `text` or `override`.", "json-ld"),
    }),
    "article_fingerprints": ("MinHash signatures used to spot syndicated copies (binary; not for analysis).", {
        "article_id": ("The article (`articles.id`).", "12"),
        "minhash": ("MinHash signature, packed bytes.", "(blob)"),
    }),
    "crawl_state": ("Every URL the crawler has fetched, for incremental crawls (ETag, Last-Modified, hash).", {
        "url": ("URL as fetched; for `feed`, `sitemap` and `section` rows the discovery key, the URL with "
                "secrets redacted (token parameters, URL passwords, the values of secret environment variables: "
                "`store.discovery_key`, since migration m014).", "https://www.shropshirestar.com/news/feed/"),
        "source_id": ("Outlet.", "shropshire-star"),
        "kind": ("`article`, `feed`, `sitemap`, `section` or `rejected`.", "feed"),
        "canonical_url": ("Canonical URL for articles.", "https://www.shropshirestar.com/news/2026/a49/"),
        "article_id": ("Stored article, if any.", "18"),
        "etag": ("HTTP ETag from the last fetch.", '"abc123"'),
        "last_modified": ("HTTP Last-Modified from the last fetch.", "Mon, 23 Nov 2026 18:31:00 GMT"),
        "content_hash": ("Hash of the extracted text at the last fetch.", "9f2c...e1"),
        "http_status": ("HTTP status of the last fetch.", "200"),
        "found_by": ("How it was discovered.", "sitemap"),
        "first_seen_at": ("First fetch (UTC).", TS),
        "last_fetched_at": ("Last fetch (UTC).", TS),
        "reject_reason": ("Why a page was not stored as an article; `gone: HTTP 404` (or 410): an article URL "
                          "that answered so, not requested again for 7 days after `last_fetched_at`.", "too short"),
    }),
    "crawl_errors": ("Errors met during a run: HTTP failures, timeouts, extraction failures, and the articles "
                     "the analyse stage could not analyse (kind `analyse_failed`, tried again by the next run).", {
        "id": ("Row id.", "7"),
        "crawl_run_id": ("The run.", "42"),
        "source_id": ("Outlet, if known.", "shropshire-star"),
        "url": ("URL that failed, secrets redacted (`?token=[REDACTED]`, `user:[REDACTED]@`).",
                "https://www.shropshirestar.com/news/feed/"),
        "kind": ("Error kind: http, timeout, dns, extract, robots, write_failed, analyse_failed (the message then "
                 "starts `article ID:`), ...", "http"),
        "http_status": ("HTTP status, for HTTP errors.", "503"),
        "message": ("Error message (secrets redacted, control characters stripped, truncated to 2000 characters).", "Service Unavailable"),
        "created_at": ("When it happened (UTC).", TS),
    }),
    "crawl_notices": ("Things a run did on purpose that are not errors: a per-source budget hit (sitemaps, "
                      "pages, links per page, Retry-After wait), a rel=canonical refused (another site) or in "
                      "conflict (held by another page). See docs/operations.md.", {
        "id": ("Row id.", "3"),
        "crawl_run_id": ("The run.", "42"),
        "source_id": ("Outlet.", "shropshire-star"),
        "url": ("The page or sitemap concerned, secrets redacted (`?token=[REDACTED]`).",
                "https://www.shropshirestar.com/news/sitemap-51.xml"),
        "kind": ("budget_sitemaps, budget_pages, budget_links_per_page, budget_retry_wait, retry_after_too_long, "
                 "canonical_offsite, canonical_conflict, sitemap_cut, copy_released (a syndicated copy that no longer "
                 "matches its revised original is a story again: docs/crawler.md)", "budget_sitemaps"),
        "message": ("What happened, in a sentence.", "sitemap budget of 100 per run reached: further sitemaps skipped"),
        "created_at": ("When (UTC).", TS),
    }),
    "source_runs": ("Per-outlet statistics for each run: discovery channels, yield, warnings.", {
        "crawl_run_id": ("The run.", "42"),
        "source_id": ("The outlet.", "worcester-news"),
        "found_by_feed": ("Article URLs found through RSS/Atom feeds.", "14"),
        "found_by_sitemap": ("Article URLs found through sitemaps.", "3"),
        "found_by_links": ("Article URLs found by following section links.", "5"),
        "found_by_search": ("Article URLs found through the site's search.", "0"),
        "pages_fetched": ("Pages downloaded.", "60"),
        "articles_stored": ("Articles stored or refreshed.", "4"),
        "articles_new": ("Articles stored for the first time.", "4"),
        "pages_rejected": ("Pages not stored.", "10"),
        "errors": ("Errors for this outlet.", "0"),
        "mean_body_words": ("Mean body length of stored articles (a drop means broken extraction).", "410.5"),
        "date_rate": ("Share of stored articles with a publication date.", "0.95"),
        "warning": ("Health warning for the outlet, if any.", "feed answered HTTP 503"),
        "article_requests": ("Article pages requested this run, answered or failed (URLs skipped as already stored "
                             "are not counted); NULL in runs before this was counted.", "5"),
        "article_requests_failed": ("Article requests that failed, for any reason; NULL in older runs.", "3"),
        "article_requests_gone": ("Article requests answered 404 or 410 (dead links: never alone a failed "
                                  "outlet); NULL in older runs.", "2"),
        "article_requests_blocked": ("Article requests refused or unreachable: any HTTP error but 404/410 (401, 403, "
                                     "406, 429, 5xx ...), timeouts, DNS, refused or dropped connections; not "
                                     "robots.txt, nor a page over the size cap. An outlet of which nothing was read "
                                     "with 2 of these (or its only one and a failed home page, feed or sitemap) "
                                     "failed; NULL in older runs.", "1"),
    }),
    "entities": ("The watched organisations and office-holders (from the watchlist).", {
        "id": ("Entity id used in `mentions`, `quotes` and tone `target`.", "wm_pcc"),
        "name": ("Full name.", "West Mercia Police and Crime Commissioner"),
        "kind": ("The watchlist's `kind`: `organisation`, `office` or `person`.", "office"),
        "watchlist_version": ("Version of the watchlist the row came from.", "watchlist-3"),
        "display_name": ("Short name for reports and Datasette (`display_name` in the watchlist); NULL: use `name`.",
                         "PCC"),
    }),
    "watched_people": ("The watchlist's office holders and the people who speak for each body (its `holders` and "
                       "`people`), written by `cuttings analyse`: `speaker_names` shows a person the watchlist knows "
                       "by this name.", {
        "entity_id": ("The body or office (`entities.id`).", "wm_pcc"),
        "name": ("The name as the watchlist writes it.", "John Campion"),
        "role": ("`holder` for an office holder, else the role the watchlist gives.", "holder"),
        "speaker_id": ("The person's speaker identity (`quotes.speaker_id`).", "john campion"),
    }),
    "mentions": ("Each place an article mentions a watched entity. Offsets point into "
                 "`document_text` = title + blank line + body.", {
        "id": ("Row id, new each time the article is analysed (nothing refers to it: a mention is its article "
               "and `start_char`).", "88"),
        "article_id": ("The article.", "12"),
        "entity_id": ("The entity mentioned (`entities.id`).", "wm_pcc"),
        "surface": ("The words as printed.", "Mr Campion"),
        "start_char": ("Start offset into title + \"\\n\\n\" + body.", "120"),
        "end_char": ("End offset (exclusive).", "130"),
        "sentence": ("The sentence containing the mention.", "Mr Campion said: ..."),
        "paragraph": ("Paragraph number (0 = headline).", "2"),
        "method": ("`matched` (watchlist form), `fuzzy` (near match) or `inferred` (e.g. \"the service\").", "matched"),
        "analyser_version": ("Version of the analyser that found it.", "analyser-2026.11.1"),
    }),
    "quotes": ("Direct quotations, with the speaker and the watched entity they speak for, if any.", {
        "id": ("The quote's id (`quote_id` in the views), kept when the article is analysed again (a new "
               "analyser, a revised text) and the quote found again: at its place with its words, its words "
               "moved (a revision added or cut text above; words quoted twice in the article cannot be told "
               "apart), its place read differently, or its opening with a continuation added or cut; a quote "
               "found no more is deleted and its id never given again (since migration m027).", "31"),
        "article_id": ("The article.", "12"),
        "speaker": ("Speaker as named in the text.", "Mr Campion"),
        "speaker_id": ("Who the speaker is across articles: one key per person, whatever the spelling or title "
                       "(`john campion` for John Campion, Mr Campion, John-Paul Campion); NULL for organisations "
                       "and descriptions (a spokesperson, a resident).", "john campion"),
        "speaker_role": ("Role given in the text, if any.", "Police and Crime Commissioner"),
        "entity_id": ("Watched entity the speaker belongs to or speaks for; NULL otherwise.", "wm_pcc"),
        "entity_method": ("How `entity_id` was found: `stated` (this article says whom the speaker speaks "
                          "for: a body named in the attribution or an earlier description, a watched person's "
                          "name, a post of a body the article names), `inferred` (the link rests on inference: "
                          "an inferred mention such as \"the Commissioner\" or \"the service\", a body the "
                          "article only infers, or the body governed by one it names) or `known_speaker` (two or "
                          "more other articles within a year stated it for this person, none another body, and "
                          "this article gives the speaker no role); NULL when there is no entity.", "stated"),
        "text": ("The quoted words, without quotation marks.", "This is about a better service..."),
        "start_char": ("Start offset into `document_text`.", "210"),
        "end_char": ("End offset (exclusive).", "298"),
        "analyser_version": ("Version of the analyser.", "analyser-2026.11.1"),
    }),
    "named_entities": ("Other people and organisations, found only when an optional statistical spaCy "
                       "pipeline is named in watchlist.toml ([analysis] ner_model); empty by default.", {
        "id": ("Row id, new each time the article is analysed.", "5"),
        "article_id": ("The article.", "12"),
        "label": ("spaCy label: PERSON or ORG.", "PERSON"),
        "text": ("The name as printed.", "Eric Carter"),
        "start_char": ("Start offset into `document_text`.", "120"),
        "end_char": ("End offset (exclusive).", "131"),
        "analyser_version": ("Version of the analyser (includes the NER pipeline's name and version).",
                             "3f2a...+ner:core_web_sm-3.8.0"),
    }),
    "label_tasks": ("Each label-scheme task's kind and labels, recorded with its model and whenever the scheme is "
                    "used (train, classify, label): the views' `topics`, `stance` and `tone` columns read the newest "
                    "task of kind `multi_label`, `single_label` and `per_entity`, whatever the scheme names it (no row "
                    "of a kind: the shipped name, `topics`, `stance_governance` or `tone`; a newest row whose name or labels "
                    "the views cannot hold, such as a control character, recorded before the scheme refused it: the "
                    "shipped name too, and `cuttings doctor` warns). The views are rewritten "
                    "with these names whenever this table changes, so reading them costs nothing.", {
        "name": ("The task's name in the label scheme (`labels.task`, `classifications.task`).", "stance_governance"),
        "kind": ("`multi_label` (topics), `single_label` (stance) or `per_entity` (tone).", "single_label"),
        "updated_at": ("When recorded (the model's creation time; '' for the shipped tasks seeded by the "
                       "migration): the newest of a kind is read.", TS),
        "labels_json": ("The task's labels in the scheme's order, as JSON (NULL: not recorded yet; `entity_daily` "
                        "then has the shipped scheme's columns for its kind).",
                        '["favour", "against", "neutral", "none"]'),
        "absent": ("The label meaning the target is not in the article (no `entity_daily` column).", "none"),
        "attention_json": ("The stance or tone labels that put a story under \"needs attention\" (the scheme's "
                           "`attention`; for a tone task without it, its `negative` label), as JSON; the "
                           "`critical_articles` query reads those of the stance and tone tasks the views read "
                           "(`label_roles`; a tone task with NULL here: its label `negative`).",
                           '["against", "favour"]'),
    }),
    "label_roles": ("The label scheme's task each label view reads for the topics, the stance and the tone, one "
                    "row each: what `label_tasks` says by its rule (the newest task of the kind; the shipped name when "
                    "there is none, or when the newest is one the views cannot hold). Written with the views, so SQL "
                    "that must read the task they read (the `critical_articles` query) looks it up here.", {
        "role": ("`topics`, `stance` or `tone`: the `article_summary` column the task fills.", "stance"),
        "kind": ("The role's kind: `multi_label`, `single_label` or `per_entity`.", "single_label"),
        "task": ("The task's name (`label_tasks.name`, `classifications.task`).", "stance_governance"),
    }),
    "models": ("Trained classifiers (one row per model version) with their model cards.", {
        "version": ("Model version, referenced by `classifications.model_version`.", "tone-2026.11.1"),
        "task": ("The label scheme's task (shipped scheme: `topics`, `stance_governance` or `tone`).", "tone"),
        "path": ("Model file (skops format).", "models/tone-2026.11.1.skops"),
        "labels_json": ("Labels the model predicts, as JSON.", '["negative", "neutral", "positive"]'),
        "training_data_hash": ("Hash of the training data.", "abc123"),
        "n_examples": ("Training examples.", "200"),
        "metrics_json": ("The card's headline figures, as JSON: `metric`, `cv` (`cv_folds`-fold cross-validation), `baseline` (the majority class; for topics the most frequent topic), `unseen_slices` (leave-one-slice-out: what to expect, or a little less, on unseen coverage) with their 90% intervals, and `unseen_slices_range` (the lowest and highest single slice).",
                         '{"metric": "macro_f1", "cv": 0.82, "unseen_slices": 0.74}'),
        "card_json": ("The full model card, as JSON.", "{...}"),
        "created_at": ("When it was trained (UTC).", TS),
    }),
    "classifications": ("Model predictions: one row per (article, task, target, label). Topics may have "
                        "several rows; stance one; tone one per watched entity (`target`).", {
        "id": ("Row id.", "640"),
        "article_id": ("The article.", "14"),
        "task": ("The label scheme's task (shipped scheme: `topics`, `stance_governance` or `tone`).", "tone"),
        "target": ("For tone: the entity id the tone is about; '' for other tasks.", "wm_pcc"),
        "label": ("Predicted label.", "negative"),
        "probability": ("Model probability for the label.", "0.41"),
        "uncertain": ("1 when the model was unsure (low margin): worth a human check.", "1"),
        "model_version": ("`models.version` that predicted it.", "tone-2026.11.1"),
        "created_at": ("When predicted (UTC).", TS),
    }),
    "labels": ("Human labels (corrections and training data), appended, never deleted: the audit trail. They replace "
               "predictions in `effective_labels`; corrections of a quote (tasks `quote_speaker`, `quote_entity`) are "
               "applied in `quote_view`, to the quote named by `quote_id`. A withdrawal (`cuttings label --unlabel`, "
               "since m028) is a row of label `__withdrawn__`: every row of its article and task given at or before "
               "it stays here but no longer counts (one quote's, `--quote`, names its quote in `quote_id` and takes "
               "back that quote's corrections only). Of a question's rows the newest by `created_at` counts, the "
               "later `id` of two given in the same second (since m032; before, the latest `id`).", {
        "id": ("Row id (in the order written; of two rows given in the same second, the later wins).", "5"),
        "article_id": ("The article.", "14"),
        "task": ("The label scheme's task (shipped scheme: `topics`, `stance_governance` or `tone`), or "
                 "`quote_speaker` / `quote_entity` for a person's correction of a quote's speaker or body.",
                 "stance_governance"),
        "target": ("Entity id for tone; `start:end` (the quote's offsets, as last found) for a quote correction; "
                   "'' otherwise (and for a withdrawal).", ""),
        "label": ("The label; `__rejected__` removes a topic; `__withdrawn__` withdraws the rows of the article and "
                  "task given at or before it; for `quote_entity`, the body's id ('': no body).", "against"),
        "annotator": ("Who labelled it (or withdrew the labels).", "analyst@example.org"),
        "created_at": ("When it was given (UTC); a label or withdrawal imported from another database keeps the "
                       "time it was given there (`labelled_at`): the newest time wins.", TS),
        "quote_id": ("For a quote correction: the quote it corrects (`quotes.id`, `quote_view.quote_id`; since m029), "
                     "which it follows wherever a re-analysis finds the quote; a quote no longer found leaves it "
                     "orphaned, applied to no quote. NULL otherwise.", "812"),
        "quote_text": ("For a quote correction: its quote's words as last found (kept when the quote is gone; "
                       "exports carry them). NULL otherwise.", "We listened to every view before we decided,"),
    }),
    "processing": ("Which analysis stage processed which article, at which version (for incremental runs).", {
        "article_id": ("The article.", "12"),
        "stage": ("`analyse` or `classify`.", "classify"),
        "version": ("Analyser or model version used.", "tone-2026.11.1"),
        "content_hash": ("Article hash when processed; a changed article is processed again.", "9f2c...e1"),
        "processed_at": ("When (UTC).", TS),
        "inputs_digest": ("On a `classify` stamp (since m034): SHA-256 of the models' versions and of what they read "
                          "of the article (title, body, mentions, quotes). Stamped at another version with the same "
                          "digest, the article keeps its predictions and is stamped again without being predicted "
                          "(docs/operations.md, \"What classify does again\"). NULL on `analyse` stamps and on stamps "
                          "from before m034.", "3b9e...07"),
    }),
    "reports": ("Digests produced; the next digest starts at the last row's `until`.", {
        "id": ("Row id.", "9"),
        "created_at": ("When the report was written (UTC).", "2026-11-24T07:00:05Z"),
        "since": ("Stories first seen after this time...", "2026-11-23T07:00:00Z"),
        "until": ("...and up to this time.", "2026-11-24T07:00:00Z"),
        "format": ("`html`, `md` or `text`.", "html"),
        "path": ("File written.", "data/reports/digest-2026-11-24T070000Z.html"),
        "stories": ("New stories in the digest.", "7"),
    }),
    "effective_labels": ("VIEW. The labels analysts should use: human labels where they exist, else predictions. "
                         "Only the label scheme's tasks: a person's correction of a quote's speaker or body (a "
                         "`labels` row of task `quote_speaker` or `quote_entity`) is applied in `quote_view` and "
                         "the quote views, not here (since migration m022).", {
        "article_id": ("The article.", "14"),
        "task": ("The label scheme's task (shipped scheme: `topics`, `stance_governance` or `tone`).",
                 "stance_governance"),
        "target": ("Entity id for tone; '' otherwise.", ""),
        "label": ("The label.", "against"),
        "probability": ("Model probability; NULL for human labels.", "0.74"),
        "uncertain": ("1 for an unsure prediction; always 0 for human labels.", "0"),
        "human": ("1 when a person decided the label.", "1"),
        "decided_by": ("Annotator, or the model version.", "analyst@example.org"),
    }),
    "article_summary": ("VIEW. One row per story (syndicated copies folded into the first copy), "
                        "with entities, topics, stance and tone (human labels win).", {
        "article_id": ("The article.", "12"),
        "title": ("Headline.", "Campion defends fire takeover plan at public meeting"),
        "url": ("The address to open (`articles.link_url`, else `articles.url`).",
                "https://www.herefordtimes.com/news/2026/defends/"),
        "source_id": ("Outlet id.", "hereford-times"),
        "outlet": ("Outlet name.", "Hereford Times"),
        "published_at": ("Publication time (UTC), always `YYYY-MM-DDTHH:MM:SSZ` (a date alone becomes midnight; "
                         "see `published_precision`), so every value loads as a date in pandas.", "2026-11-23T09:00:00Z"),
        "published_precision": ("`second` for a full timestamp, `day` when the page gave only the date; "
                                "NULL when unknown.", "second"),
        "first_seen_at": ("First stored (UTC).", "2026-11-23T09:30:00Z"),
        "modified_at": ("Declared modification time (UTC, same form as `published_at`).", "2026-11-23T18:00:00Z"),
        "word_count": ("Words in the body.", "96"),
        "paywalled": ("1 when paywalled.", "0"),
        "version": ("Current version number.", "2"),
        "entities": ("Watched entities mentioned, comma-separated, sorted.", "hw_fire_authority,hwfrs,wm_pcc"),
        "bodies": ("Display names of the watched bodies mentioned, as a JSON array (facet by body name).",
                   '["HWFRS","PCC"]'),
        "topics": ("Topics (the label scheme's multi-label task, see `label_tasks`), comma-separated, sorted.",
                   "governance"),
        "stance": ("Stance: the label of the scheme's single-label task (`label_tasks`); shipped scheme: on fire "
                   "governance, favour, against, neutral or none.", "favour"),
        "tone": ("Tone per entity as a JSON object.", '{"hwfrs":"neutral","wm_pcc":"positive"}'),
        "uncertain": ("1 when any of its predicted labels is uncertain.", "0"),
        "topics_uncertain": ("Predicted topics the model is unsure of, comma-separated, sorted.", "finance"),
        "stance_uncertain": ("1 when the predicted stance is unsure; 0 when sure or set by a person.", "0"),
        "tone_uncertain": ("Per entity, 1 when its predicted tone is unsure (JSON object).",
                           '{"hwfrs":0,"wm_pcc":1}'),
        "human_corrected": ("1 when a person set any of its topics, stance or tone labels (a corrected quote "
                            "speaker or body is not one: see `quotes_by_speaker.entity_method`).", "0"),
        "syndicated_copies": ("How many other outlets ran the story (copies folded in, one per outlet; the outlet's "
                              "own repeats, such as a re-post under a new URL, are not counted).", "1"),
    }),
    "entity_daily": ("VIEW. Stories per entity per day (by publication date, else first seen), with stance "
                     "and tone counts: one `stance_<label>` column per label of the label scheme's stance task "
                     "(its single-label task, see `label_tasks`) in the scheme's order, except its `absent` label, "
                     "and one `tone_<label>` column per label of its tone task. The columns below are the shipped "
                     "scheme's; another scheme's stance labels support / oppose / neutral give `stance_support`, "
                     "`stance_oppose`, `stance_neutral`.", {
        "entity_id": ("The entity.", "wm_pcc"),
        "body": ("Its display name.", "PCC"),
        "day": ("Day (UTC), YYYY-MM-DD.", "2026-11-23"),
        "articles": ("Stories mentioning the entity that day.", "3"),
        "stance_favour": ("...of which stance favour (shipped scheme; `stance_<label>` for each label of the "
                          "scheme's stance task).", "1"),
        "stance_against": ("...stance against (shipped scheme).", "1"),
        "stance_neutral": ("...stance neutral (shipped scheme).", "0"),
        "tone_positive": ("...tone towards this entity positive (`tone_<label>` for each label of the scheme's "
                          "tone task).", "2"),
        "tone_negative": ("...tone towards this entity negative.", "1"),
        "tone_neutral": ("...tone towards this entity neutral.", "0"),
        "tone_rated": ("1 when a tone model (or a person) rates this body; 0: the tone columns are NULL, "
                       "\"not rated\", rather than 0.", "1"),
    }),
    "quotes_by_speaker": ("VIEW. Every quote with its article (syndicated copies left out); corrections "
                          "made in the browser applied.", {
        "speaker_id": ("Who the speaker is across articles (see `quotes.speaker_id`).", "john campion"),
        "speaker_quotes": ("How many stored quotes share this `speaker_id` (without one, this speaker name; quotes "
                           "with no speaker count together). By the identity as stored: \"Mr Udall\" (`udall`) counts "
                           "apart from \"Richard Udall\"; `most_quoted` joins them (`quote_people.person_id`, "
                           "by `quote_id`).", "12"),
        "speaker": ("Speaker (a person's correction wins).", "Mr Campion"),
        "speaker_role": ("Role.", "Police and Crime Commissioner"),
        "entity_id": ("Watched entity the speaker speaks for (a person's correction wins).", "wm_pcc"),
        "body": ("Display name of that body.", "PCC"),
        "entity_method": ("How `entity_id` was found: `stated` (this article says whom the speaker speaks "
                          "for), `inferred` (the link rests on an inferred mention or on `governs`), "
                          "`known_speaker` (two or more other articles within a year stated it for this person, "
                          "none another body, and this article gives the speaker no role) or `corrected` "
                          "(a person corrected the speaker or body).", "stated"),
        "quote": ("The quoted words.", "I will listen to every view before any decision is made."),
        "article_id": ("The article.", "14"),
        "title": ("Its headline.", "Fire chiefs warn over commissioner's plans"),
        "url": ("Its address to open (`articles.link_url`, else `articles.url`).",
                "https://www.shropshirestar.com/news/2026/warn/"),
        "source_id": ("Outlet id.", "shropshire-star"),
        "published_at": ("Publication time (UTC, `YYYY-MM-DDTHH:MM:SSZ`).", "2026-11-23T11:00:00Z"),
        "published_precision": ("`second` or `day` (only the date was known).", "second"),
        "quote_id": ("`quotes.id`: joins `quote_people` (the person it counts for in `most_quoted`) and `quotes` "
                     "(since migration m024); kept when the article is analysed again and the quote found again "
                     "(see `quotes.id`).", "31"),
    }),
    "quote_view": ("VIEW. Every quote (copies included) with people's corrections of speaker and body applied, "
                   "each to its quote by id (`labels.quote_id`, since m029: a correction whose quote is gone applies "
                   "to none); `quotes_by_speaker` and `most_quoted` read it.", {
        "quote_id": ("`quotes.id` (kept when the article is analysed again and the quote found again).", "31"),
        "article_id": ("The article.", "14"),
        "speaker": ("Speaker (corrected).", "Mr Campion"),
        "speaker_id": ("Who the speaker is across articles (see `quotes.speaker_id`).", "john campion"),
        "speaker_role": ("Role.", "Police and Crime Commissioner"),
        "entity_id": ("Body (corrected).", "wm_pcc"),
        "entity_method": ("`stated`, `inferred`, `known_speaker` or `corrected`.", "stated"),
        "text": ("The quoted words.", "I will listen to every view."),
        "start_char": ("Start offset (with `end_char`, the correction target `start:end`).", "120"),
        "end_char": ("End offset.", "160"),
    }),
    "quote_people": ("VIEW. Each quote (copies left out, corrections applied) with the person who said it: a "
                     "title and surname (\"Councillor Minnery\") is joined to the one full name with that surname "
                     "quoted in the same article, else for the same body (since migration m019); a full name whose "
                     "first name is a short form of another's with that surname quoted for the same body (\"Jon\" "
                     "and \"Jonathon\", \"Bill\" and \"William\"; one-to-one only) is that person, under the "
                     "watchlist's identity when one of the two is the body's watched person, else the long form, "
                     "and counts once when a title and surname is joined for the same body (since migration m026); descriptions (\"the chief fire officer\", \"a spokesperson\") have "
                     "no person. `most_quoted` reads it. Its rows are stored by `cuttings analyse` and read from there while "
                     "nothing they read has changed since (`quote_people_stored`, since migration m038); else worked "
                     "out from the quotes: the same rows either way.", {
        "quote_id": ("`quotes.id` (kept when the article is analysed again and the quote found again).", "31"),
        "article_id": ("The article.", "14"),
        "entity_id": ("Body (corrected).", "shropshire_fire_authority"),
        "speaker": ("Speaker as printed (corrected).", "Councillor Minnery"),
        "speaker_id": ("Speaker identity as stored (see `quotes.speaker_id`).", "minnery"),
        "person_id": ("The person counted in `most_quoted`; NULL for a description or organisation.",
                      "david minnery"),
        "joined_by": ("`name` (a full name), `same_article` or `same_body` (a title and surname joined to the one "
                      "full name with that surname), `short_form` (joined to the same surname's other form of the "
                      "first name quoted for the body: \"Jon Pryce\" and \"Jonathon Pryce\"), `ambiguous` (two or "
                      "more could be meant: kept apart), `surname` (no full name to join), `description` (not a "
                      "person).", "same_article"),
        "published_at": ("The article's publication time (UTC).", "2026-11-23T11:00:00Z"),
    }),
    "most_quoted": ("VIEW. Who is quoted most for each watched body (copies left out), ranked within the body: "
                    "people only (`quote_people.person_id`), so a title and surname counts with the full name "
                    "and descriptions such as \"the chief fire officer\" are left out (since migration m019).", {
        "entity_id": ("The body.", "wm_pcc"),
        "body": ("Its display name.", "PCC"),
        "speaker_id": ("The person (`quote_people.person_id`): all their spellings count together.", "john campion"),
        "speaker": ("The person's name as shown (`speaker_names.name`: the watchlist's name for them, else the full "
                    "name the most outlets print).", "John Campion"),
        "quotes": ("Quotes by the speaker for the body.", "12"),
        "stories": ("Stories they were quoted in.", "9"),
        "first_quoted": ("Publication time of the first such story with a date (NULL when none has one).",
                         "2026-10-24T10:00:00Z"),
        "last_quoted": ("...and of the latest.", "2026-11-23T09:00:00Z"),
        "rank": ("1 = most quoted for this body.", "1"),
    }),
    "speaker_names": ("VIEW. The name shown for each speaker identity: the watchlist's own name for a person it "
                      "knows (`watched_people`), else the full name (first name and surname, no honorific) the most "
                      "outlets print, each outlet counted once however many quotes it prints, a tie going to the "
                      "shorter name; so Mr Campion and Councillor John Campion are shown as John Campion, and one "
                      "outlet printing its own spelling many times cannot rename a person (since migration m017). "
                      "A leading title is no part of a printed first name and surname (Cllr, Coun, Councillor, Mr "
                      "...): \"Cllr Richard Udall\" is shown as Richard Udall, and \"Cllr Tom Wells\" and "
                      "\"Councillor Tom Wells\" count together when the name is chosen (`spellings` still counts "
                      "each printed form; since migration m026). "
                      "The digest and `most_quoted` use it.", {
        "speaker_id": ("The person (see `quotes.speaker_id`).", "john campion"),
        "name": ("The name shown.", "John Campion"),
        "spellings": ("How many different spellings the stored quotes use for the person.", "3"),
        "quotes": ("Quotes stored for the person (copies included, before corrections).", "12"),
        "named_by": ("`watchlist` (the watchlist's name for the person) or `outlets` (the spelling the most "
                     "outlets print).", "watchlist"),
    }),
    "quote_people_stored": ("The rows of `quote_people`, stored by `cuttings analyse` (since migration m038) and "
                            "read by the view while `quote_people_state.fresh` is 1: query `quote_people`, which "
                            "gives the same rows either way.", {
        "quote_id": ("As `quote_people.quote_id`.", "31"),
        "article_id": ("As `quote_people.article_id`.", "14"),
        "entity_id": ("As `quote_people.entity_id`.", "shropshire_fire_authority"),
        "speaker": ("As `quote_people.speaker`.", "Councillor Minnery"),
        "speaker_id": ("As `quote_people.speaker_id`.", "minnery"),
        "person_id": ("As `quote_people.person_id`.", "david minnery"),
        "joined_by": ("As `quote_people.joined_by`.", "same_article"),
        "published_at": ("As `quote_people.published_at`.", "2026-11-23T11:00:00Z"),
    }),
    "article_labels_stored": ("The label columns of `article_summary`, stored per story (since migration m041) and "
                              "read by the view for a story with a row here; a story's row is deleted (triggers) "
                              "whenever its labels or predictions change, and the view then works its columns out "
                              "until `cuttings classify` (or `cuttings label`) stores them again: query "
                              "`article_summary`, which gives the same rows either way.", {
        "article_id": ("The story (`article_summary.article_id`).", "12"),
        "topics": ("As `article_summary.topics`.", "fire_safety,governance"),
        "stance": ("As `article_summary.stance`.", "against"),
        "tone": ("As `article_summary.tone`.", '{"hwfrs":"negative"}'),
        "uncertain": ("As `article_summary.uncertain`.", "0"),
        "topics_uncertain": ("As `article_summary.topics_uncertain`.", "governance"),
        "stance_uncertain": ("As `article_summary.stance_uncertain`.", "0"),
        "tone_uncertain": ("As `article_summary.tone_uncertain`.", '{"hwfrs":0}'),
        "human_corrected": ("As `article_summary.human_corrected`.", "0"),
    }),
    "quote_people_state": ("Whether `quote_people_stored` is in step (since migration m038): any change to a quote, a "
                           "quote correction or its withdrawal, a story's copy-of or publication time, a deleted "
                           "story or `watched_people` sets `fresh` to 0 (triggers), and `quote_people` then works "
                           "its rows out from those tables until `cuttings analyse` (or `cuttings label`) stores them "
                           "again; a quote correction from the story page stores the rows it changed and leaves it "
                           "1 when it was 1.", {
        "id": ("Always 1 (one row).", "1"),
        "fresh": ("1: `quote_people` reads `quote_people_stored`; 0: it works its rows out.", "1"),
    }),
    "story_bodies": ("VIEW. One row per story (copies left out) and watched body it is about, as the digest counts "
                     "it: the bodies it names (`mentions`) and those a quote in it speaks for (`quote_view`, "
                     "corrections applied), so a story quoting \"the West Mercia Chief Constable\" without naming "
                     "the force is about West Mercia Police here, as in the digest, though not in "
                     "`article_summary.bodies` or `entity_daily`. Join stories to bodies here: joining `mentions` "
                     "repeats a story once per mention (since migration m025).", {
        "article_id": ("The story (`article_summary.article_id`).", "12"),
        "entity_id": ("The body (`entities.id`).", "west_mercia_police"),
        "body": ("Its display name.", "West Mercia Police"),
        "mentions": ("How many times the story names it (0: only quoted for).", "0"),
        "quotes": ("How many of its quotes speak for it.", "1"),
    }),
    "syndication": ("VIEW. Stories that ran in more than one outlet: the original, every outlet in the order "
                    "first seen, and when. A story only its own outlet repeated is not listed.", {
        "article_id": ("The original (the copy stored first; within one crawl run the copy published first).", "12"),
        "title": ("Its headline.", "Campion defends fire takeover plan at public meeting"),
        "url": ("The original's address to open (`articles.link_url`, else `articles.url`).",
                "https://www.herefordtimes.com/news/2026/defends/"),
        "first_outlet": ("The original's outlet.", "Hereford Times"),
        "outlets": ("Every outlet that ran it, in order first seen.", "Hereford Times, Worcester News"),
        "n_outlets": ("How many outlets.", "2"),
        "copies": ("Other outlets that ran it (`n_outlets` - 1): an outlet's own repeats are not counted.", "1"),
        "published_at": ("The original's publication time (UTC).", "2026-11-23T09:00:00Z"),
        "published_precision": ("`second` or `day`.", "second"),
        "first_seen_at": ("When the first copy was stored.", "2026-11-23T09:30:00Z"),
        "last_seen_at": ("When the latest copy was stored.", "2026-11-23T12:10:00Z"),
    }),
}

VIEWS = ("effective_labels", "article_summary", "entity_daily", "quotes_by_speaker", "quote_view", "quote_people",
         "most_quoted", "speaker_names", "syndication")
# Tables analysts do not need: hidden from the home and database pages (still reachable by URL and SQL).
HIDDEN = ("article_fingerprints", "crawl_state", "processing", "quote_view", "quote_people_stored",
          "quote_people_state", "article_labels_stored", "_sqlite_migrations")
PLUGINS_DIR = Path(__file__).resolve().parent / "datasette_plugins"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates" / "datasette"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

# Facets show names: foreign keys to `entities` and `sources` are labelled by their label_column;
# views carry a `body` / `outlet` name column or a JSON array of names (`bodies`, an array facet).
_FACETS = {
    "story_bodies": ["body"],
    "articles": ["source_id", "paywalled", "found_by"],
    # bodies: Datasette's array facet, counted by story (cuttings.browse.ListFacet: the same counts and links
    # without computing every column of every story, 4-5 s at 50,000 stories)
    "article_summary": ["outlet", {"list": {"column": "bodies", "key": "article_id"}}, "stance", "uncertain"],
    "mentions": ["entity_id", "method"],
    "quotes": ["entity_id"],
    "quotes_by_speaker": ["body", "source_id"],
    "most_quoted": ["body"],
    "syndication": ["first_outlet", "n_outlets"],
    "classifications": ["task", "label", "uncertain"],
    "effective_labels": ["task", "label", "human"],
    "labels": ["task", "label", "annotator"],
    "crawl_errors": ["source_id", "kind"],
    "crawl_notices": ["source_id", "kind"],
    "entity_daily": ["body", "tone_rated"],
}
# `articles` has no default sort, so its search (?_search=) is ranked by relevance.
_SORT_DESC = {
    "article_summary": "published_at", "syndication": "n_outlets", "quotes_by_speaker": "published_at",
    "crawl_runs": "started_at", "crawl_errors": "created_at", "crawl_notices": "created_at", "reports": "created_at",
    "article_versions": "captured_at", "entity_daily": "day", "source_runs": "crawl_run_id",
}

# The stance and tone tasks article_summary.stance and .tone read, as the label views name them (label_roles,
# written with them by store.schema.label_task_roles): the critical query takes those tasks' attention labels
# (label_tasks.attention_json, the scheme's `attention`), never a rule of its own.
_STANCE_TASK = "(SELECT task FROM label_roles WHERE role = 'stance')"
_TONE_TASK = "(SELECT task FROM label_roles WHERE role = 'tone')"
# A tone task recorded without attention labels (before they were recorded for tone, or a scheme whose tone
# task has none) reads its label named so: the shipped scheme's critical tone (nlp.scheme.TONE_ATTENTION_DEFAULT).
_TONE_DEFAULT = TONE_ATTENTION_DEFAULT
_TONE_ATTENTION = ("tn.value IN (SELECT j.value FROM json_each(coalesce(\n"
                   f"                 (SELECT t.attention_json FROM label_tasks t WHERE t.name = {_TONE_TASK}),\n"
                   f"                 '{json.dumps([_TONE_DEFAULT])}')) j)")

CANNED_QUERIES = {
    "search": {
        "title": "Search articles",
        "description": "Full-text search of headlines and bodies (words, \"phrases\"; stemmed), the 200 best matches "
                       "first, with the matching words «marked». Copies left out. To count every match, search "
                       "the article_summary table (its search box) instead.",
        "sql": "SELECT s.article_id, s.title, snippet(articles_fts, 1, '«', '»', '…', 16) AS snippet,\n"
               "       s.published_at, s.outlet, s.bodies, s.topics, s.stance\n"
               "FROM articles_fts\n"
               "JOIN article_summary s ON s.article_id = articles_fts.rowid\n"
               "WHERE trim(replace(:q, '\"', '')) != '' AND articles_fts MATCH escape_fts(:q)\n"
               "ORDER BY articles_fts.rank\nLIMIT 200",
    },
    "entity_coverage": {
        "title": "Coverage of an entity between two dates",
        "description": "Stories mentioning :entity (a watchlist id, e.g. the shipped hwfrs, sfrs, wm_pcc, or the body's "
                       "name or short name as the facets show it, e.g. SFRS) published between :start and :end "
                       "(YYYY-MM-DD, inclusive), with the stance and the tone towards it and whether the model was "
                       "unsure of each; `article_id` opens the story page.",
        "sql": "WITH target AS (SELECT coalesce(\n"
               "    (SELECT id FROM entities WHERE id = trim(:entity)),\n"
               "    (SELECT min(id) FROM entities WHERE lower(trim(:entity)) IN (lower(display_name), lower(name))),\n"
               "    trim(:entity)) AS id)\n"
               "SELECT s.article_id, s.published_at, s.outlet, s.title, s.url, s.topics, s.stance, s.stance_uncertain,\n"
               "       json_extract(s.tone, '$.\"' || t.id || '\"') AS tone_towards_entity,\n"
               "       json_extract(s.tone_uncertain, '$.\"' || t.id || '\"') AS tone_uncertain\n"
               "FROM article_summary s, target t\n"
               "WHERE s.article_id IN (SELECT m.article_id FROM mentions m WHERE m.entity_id = t.id)\n"
               "  AND substr(coalesce(s.published_at, s.first_seen_at), 1, 10) BETWEEN :start AND :end\n"
               "ORDER BY coalesce(s.published_at, s.first_seen_at) DESC, s.article_id DESC",
    },
    "critical_articles": {
        "title": "Latest stories needing attention",
        "description": "Stories with a tone towards a watched body, or a stance, that the label scheme puts under "
                       "\"needs attention\" (the `attention` labels of the tone and stance tasks `article_summary` "
                       "reads, see `label_roles` and `label_tasks.attention_json`; a tone task without them: its "
                       "label `negative`; shipped scheme: negative tone, or against or in favour of the governance "
                       "change), newest first, every one (up to Datasette's 1,000 rows). `stance_uncertain` and "
                       "`tone_uncertain` (per body) say which of its labels the model was unsure of, as the "
                       "digest's \"(unsure)\"; `article_id` opens the story page.",
        "sql": "SELECT s.article_id, s.published_at, s.outlet, s.title, s.url, s.stance, s.stance_uncertain, s.tone,\n"
               "       s.tone_uncertain\n"
               "FROM article_summary s\n"
               "WHERE s.stance IN (SELECT j.value FROM label_tasks t, json_each(coalesce(t.attention_json, '[]')) j\n"
               f"                   WHERE t.name = {_STANCE_TASK})\n"
               f"   OR EXISTS (SELECT 1 FROM json_each(s.tone) tn WHERE {_TONE_ATTENTION})\n"
               "ORDER BY coalesce(s.published_at, s.first_seen_at) DESC, s.article_id DESC",
    },
    "model_quality": {
        "title": "How far to trust each model",
        "description": "Each trained model's headline figure in cross-validation and on held-out gathering "
                       "slices (leave-one-slice-out: what to expect, or a little less, on coverage unlike the "
                       "training data; the settings were chosen on these slices), with its 90% interval over "
                       "articles and the lowest and highest single slice, newest first, and how many stored labels "
                       "it gave. `no_better_than_baseline` is 1 for a model whose figure in cross-validation, or on "
                       "held-out slices, is at or below its baseline (always giving the most common label; for topics "
                       "the most frequent topic): its labels are little better than a guess, as `cuttings train`, "
                       "`cuttings doctor` and the digest say. Empty figures: a model trained before 2026-12-06 or "
                       "with `cuttings train --no-slices`.",
        "sql": "SELECT m.task, m.version, m.created_at, m.n_examples,\n"
               "       json_extract(m.metrics_json, '$.metric') AS metric,\n"
               "       json_extract(m.metrics_json, '$.cv') AS cross_validated,\n"
               "       json_extract(m.metrics_json, '$.unseen_slices') AS on_held_out_slices,\n"
               "       json_extract(m.metrics_json, '$.unseen_slices_interval') AS held_out_90pct_interval,\n"
               "       json_extract(m.metrics_json, '$.unseen_slices_range') AS held_out_slice_range,\n"
               "       json_extract(m.metrics_json, '$.baseline') AS baseline,\n"
               "       CASE WHEN json_extract(m.metrics_json, '$.cv') IS NULL\n"
               "              OR json_extract(m.metrics_json, '$.baseline') IS NULL THEN NULL\n"
               "            WHEN json_extract(m.metrics_json, '$.cv') <= json_extract(m.metrics_json, '$.baseline')\n"
               "              OR json_extract(m.metrics_json, '$.unseen_slices') <= json_extract(m.metrics_json, '$.baseline')\n"
               "            THEN 1 ELSE 0 END AS no_better_than_baseline,\n"
               "       coalesce(given.n, 0) AS labels_given\n"
               "FROM models m\n"
               "LEFT JOIN (SELECT model_version, count(*) AS n FROM classifications GROUP BY model_version) given\n"
               "  ON given.model_version = m.version\n"
               "ORDER BY m.created_at DESC, m.task",
    },
    "label_reliability": {
        "title": "How often each label is right",
        "description": "For each trained model and label: of the articles it gave that label, the share that "
                       "carried it (right_when_said, precision), of the articles that carried it, the share it "
                       "found (found, recall), and how many labelled articles carried it, measured on held-out "
                       "gathering slices (leave-one-slice-out) where the model card has them, else in "
                       "cross-validation (tested_on says which). The digest's \"How far to trust the labels\" "
                       "note quotes right_when_said for the labels it shows (not stance's none, nor a label the "
                       "test set did not hold). Newest models first.",
        "sql": "SELECT m.task, m.version, m.created_at, l.key AS label,\n"
               "       CASE WHEN json_extract(m.card_json, '$.leave_one_slice_out.per_label') IS NOT NULL\n"
               "            THEN 'held-out slices' ELSE 'cross-validation' END AS tested_on,\n"
               "       round(json_extract(l.value, '$.precision'), 3) AS right_when_said,\n"
               "       round(json_extract(l.value, '$.recall'), 3) AS found,\n"
               "       round(json_extract(l.value, '$.f1'), 3) AS f1,\n"
               "       json_extract(l.value, '$.support') AS labelled_articles\n"
               "FROM models m,\n"
               "     json_each(coalesce(json_extract(m.card_json, '$.leave_one_slice_out.per_label'),\n"
               "                        json_extract(m.card_json, '$.cross_validation.per_label'), '{}')) l\n"
               "ORDER BY m.created_at DESC, m.task, right_when_said DESC",
    },
    "quotes_by": {
        "title": "Quotes by a speaker",
        "description": "Every quote whose speaker contains :speaker as written, ignoring case (e.g. Campion).",
        "sql": "SELECT published_at, speaker, speaker_role, body, entity_id, quote, title, url, article_id\n"
               "FROM quotes_by_speaker\n"
               "WHERE instr(lower(speaker), lower(trim(:speaker))) > 0\n"
               "ORDER BY published_at DESC",
    },
}


def datasette_metadata(db_path: str | Path, *, corrections: bool = False, host: str = "127.0.0.1",
                       annotator: str | None = None) -> dict[str, Any]:
    """Datasette metadata for the database: descriptions, default sorts, facets, hidden internal
    tables, canned queries, and the ``cuttings`` plugin's configuration (``corrections``; ``host``, the
    address served, for the Host check of :mod:`cuttings.browse`; ``annotator``, the name corrections
    are saved under, when the server is told it)."""
    tables = {}
    for name, (description, columns) in TABLE_DOCS.items():
        entry: dict[str, Any] = {"description": description,
                                 "columns": {column: text for column, (text, _example) in columns.items()}}
        if name in _SORT_DESC:
            entry["sort_desc"] = _SORT_DESC[name]
        if name in _FACETS:
            entry["facets"] = _FACETS[name]
        if name in HIDDEN:
            entry["hidden"] = True
        tables[name] = entry
    tables["entities"]["label_column"] = "name"
    tables["sources"]["label_column"] = "name"
    # Search on the story view: the articles' full-text index, keyed by article id.
    tables["article_summary"]["fts_table"] = "articles_fts"
    tables["article_summary"]["fts_pk"] = "article_id"
    tables["_sqlite_migrations"] = {"hidden": True}
    _describe_label_columns(tables["entity_daily"]["columns"], _view_columns(db_path, "entity_daily"))
    queries = canned_queries(db_path)
    roles = _tasks_read(db_path) if Path(db_path).is_file() else None
    missing = [role for role in _LABEL_ROLES if roles is not None and roles[role] is None]
    if missing:
        _describe_without(tables, queries, missing)
    present = [role for role in _LABEL_ROLES if role not in missing]
    return {
        "title": "Cuttings: local press cuttings",
        "description": f"Local news about {_watched_bodies(db_path)}, with {_and(['quotes', *present])}. "
                       "Human labels win over predictions.",
        "databases": {Path(db_path).stem: {"tables": tables,
                                           "queries": {name: {**query, "hide_sql": True}
                                                       for name, query in queries.items()}}},
        "plugins": {"cuttings": {"corrections": bool(corrections), "host": host,
                                 **({"annotator": annotator} if annotator else {})}},
    }


_LABEL_ROLES = ("topics", "stance", "tone")   # article_summary's label columns, in the order the descriptions name them
_ROLE_KIND = {"topics": "multi-label", "stance": "single-label", "tone": "per-entity"}


def _and(words: list[str], last: str = "and") -> str:
    """``["quotes", "topics", "tone"]`` as "quotes, topics and tone" (``last``: "or" for "topics or tone")."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def _missing_note(role: str) -> str:
    return f"The label scheme has no {role} task: `{role}` and `{role}_uncertain` are NULL."


def _describe_without(tables: dict[str, dict], queries: dict[str, dict], missing: list[str]) -> None:
    """The descriptions for a database whose label scheme lacks a topics, stance or tone task (``missing``, roles;
    ``store.schema.NO_TASK``: article_summary's columns of that role are NULL, entity_daily has no
    ``stance_<label>`` columns without stance, no ``tone_<label>`` or ``tone_rated`` without tone): they promise
    only what the scheme has. The canned queries keep their columns (NULL) and say why."""
    present = [role for role in _LABEL_ROLES if role not in missing]
    notes = " ".join(_missing_note(role) for role in missing)
    summary = tables["article_summary"]
    summary["description"] = ("VIEW. One row per story (syndicated copies folded into the first copy), with "
                              f"{_and(['entities', *present])} (human labels win). " + notes)
    for role in missing:
        for column in (role, f"{role}_uncertain"):
            summary["columns"][column] = f"NULL: the label scheme has no {role} ({_ROLE_KIND[role]}) task."
    if present:
        summary["columns"]["human_corrected"] = (f"1 when a person set any of its {_and(present, 'or')} labels (a "
                                                 "corrected quote speaker or body is not one: see "
                                                 "`quotes_by_speaker.entity_method`).")
    daily = tables["entity_daily"]
    counted = {"stance": "one `stance_<label>` column per label of the label scheme's stance task (its single-label "
                         "task, see `label_tasks`) in the scheme's order, except its `absent` label",
               "tone": "one `tone_<label>` column per label of the label scheme's tone task (its per-entity task, "
                       "see `label_tasks`), in the scheme's order"}
    kept = [role for role in ("stance", "tone") if role not in missing]
    lacking = [role for role in ("stance", "tone") if role in missing]
    if lacking:
        columns = [f"`{role}_<label>`" for role in lacking] + (["`tone_rated`"] if "tone" in lacking else [])
        daily["description"] = (
            "VIEW. Stories per entity per day (by publication date, else first seen)"
            + (f", with {_and(kept)} counts: " + "; ".join(counted[role] for role in kept) if kept else "")
            + f". The label scheme has no {_and(lacking, 'or')} task, so there is no {_and(columns, 'or')} column.")
    if "tone" in missing:
        daily["facets"] = [facet for facet in daily.get("facets", ()) if facet != "tone_rated"]
    for name, query in list(queries.items()):
        said = [_missing_note(role) for role in missing if f"s.{role}" in query.get("sql", "")]
        if said:
            queries[name] = {**query, "description": query["description"] + " " + " ".join(said)}


# The stance labels the shipped scheme puts under "needs attention" (what migration m015 records for it).
_SHIPPED_ATTENTION = "('against', 'favour')"


def canned_queries(db_path: str | Path) -> dict[str, dict]:
    """:data:`CANNED_QUERIES` as this database can run them. A database served without its migrations
    (read-only storage: ``connect`` opens it as it is) whose ``label_tasks`` has no ``attention_json`` (before
    migration m015) gets a ``critical_articles`` that reads the shipped scheme's attention labels, and says so;
    one without the ``label_roles`` view (before m016) gets the stance task the views read named as a literal,
    found by the views' own rule (``store.schema.label_task_roles``) when it is served."""
    queries = dict(CANNED_QUERIES)
    if not Path(db_path).is_file():
        return queries
    critical = queries["critical_articles"]
    if "attention_json" not in (_view_columns(db_path, "label_tasks") or ()):
        sql = re.sub(r"s\.stance IN \(SELECT j\.value .*?" + re.escape(_STANCE_TASK) + r"\)",
                     f"s.stance IN {_SHIPPED_ATTENTION}", critical["sql"], count=1, flags=re.S)
        sql = sql.replace(_TONE_ATTENTION, f"tn.value = {store.schema.sql_literal(_TONE_DEFAULT, 'label')}", 1)
        queries["critical_articles"] = {
            **critical, "sql": sql,
            "description": critical["description"] + " This database predates migration m015 (it was served "
                           "without being upgraded, e.g. from read-only storage): the shipped scheme's stance "
                           "labels, against and favour, and tone label, negative, are read; any command that "
                           "writes upgrades it."}
    elif not _view_columns(db_path, "label_roles") and (roles := _tasks_read(db_path)) is not None:
        stance, tone = roles["stance"], roles["tone"]
        queries["critical_articles"] = {
            **critical, "sql": critical["sql"].replace(_STANCE_TASK, store.schema.sql_literal(stance, "task name")
                                                                if stance else "NULL")
                                              .replace(_TONE_TASK, store.schema.sql_literal(tone, "task name")
                                                                if tone else "NULL"),
            "description": critical["description"] + " This database predates migration m016 (it was served "
                           "without being upgraded, e.g. from read-only storage): the stance and tone tasks its "
                           f"views read when it was served, {stance} and {tone}, are named here; any command that "
                           "writes upgrades it."}
    return queries


def _read_only(db_path: str | Path) -> contextlib.closing:
    """A read-only connection to the database file (its path as a ``file:`` URI, so any file name works),
    closed when the ``with`` block ends; ``sqlite3.Error`` when the file cannot be opened."""
    return contextlib.closing(store.connect_read_only(db_path))


def _tasks_read(db_path: str | Path) -> dict | None:
    """The tasks the label views of the database file read (``store.schema.label_task_roles``, read only:
    ``{"stance": name, "tone": name, ...}``), or None when they cannot be read."""
    try:
        with _read_only(db_path) as conn:
            return store.schema.label_task_roles(conn)
    except (sqlite3.Error, ValueError):
        return None


def _watched_bodies(db_path: str | Path) -> str:
    """The watched bodies of the database, as the home page names them: each one's display name (else its
    name) from ``entities`` (the watchlist ``cuttings analyse`` stored; the digest's sections), in the
    watchlist's order, read only: "HWFRS, SFRS and PCC". Plain text (Datasette escapes a ``description``);
    "the watched bodies" when none is stored yet or the file cannot be read."""
    path = Path(db_path)
    names: list[str] = []
    if path.is_file():
        try:
            with _read_only(path) as conn:
                names = [" ".join(str(row[0]).split()) for row in conn.execute(
                    "SELECT coalesce(nullif(trim(display_name), ''), name) FROM entities ORDER BY rowid")]
        except sqlite3.Error:
            names = []
    names = [name for name in names if name]
    if not names:
        return "the watched bodies"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _view_columns(db_path: str | Path, name: str) -> list[str] | None:
    """The columns of view ``name`` in the database file (read only), or None when it cannot be read."""
    path = Path(db_path)
    if not path.is_file():
        return None
    try:
        with _read_only(path) as conn:
            return [row[1] for row in conn.execute(f"PRAGMA table_info([{name}])").fetchall()] or None
    except sqlite3.Error:
        return None


def _describe_label_columns(described: dict[str, str], columns: list[str] | None) -> None:
    """entity_daily's stance and tone columns are named from the database's label scheme (``label_tasks``):
    describe the ones this database has, drop the shipped scheme's it has not."""
    if not columns:
        return
    for column in columns:
        for prefix, what in (("stance_", "stance"), ("tone_", "tone towards this entity")):
            if column.startswith(prefix) and column not in described:
                described[column] = (f"...of which {what} {column[len(prefix):]} (a label of the label scheme's "
                                     f"{prefix[:-1]} task).")
    for column in [column for column in described if column not in columns]:
        del described[column]


def write_metadata(db_path: str | Path, directory: str | Path, *, corrections: bool = False, host: str = "127.0.0.1",
                   annotator: str | None = None) -> Path:
    """Write :func:`datasette_metadata` to ``directory/metadata.json`` and return the path. (Datasette 0.65
    reads settings from the command line and everything else from this file; ``datasette.yaml`` arrives
    with Datasette 1.0.)"""
    path = Path(directory) / "metadata.json"
    metadata = datasette_metadata(db_path, corrections=corrections, host=host, annotator=annotator)
    path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


# Datasette's facet suggestions run, for every column of a page's table or view not already a facet, a query over
# all of it, each stopped at facet_suggest_time_limit_ms (50 ms). On a small database they finish and help an
# analyst explore; past a couple of weeks of coverage most stop unfinished, so a page spends 0.4-1.9 s suggesting
# little or nothing (2,000-50,000 stories measured: docs/benchmarks.md, "Facet suggestions"). The facets the
# metadata configures, and ?_facet= in a URL, work either way.
SUGGEST_FACETS_UP_TO = 2_000     # stories (rows of articles); `cuttings serve --suggest-facets` overrides


def story_count(db_path: str | Path) -> int:
    """Rows of ``articles`` (0 for a file that has none or is not there), read through a read-only connection."""
    try:
        with _read_only(db_path) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def datasette_settings(db_path: str | Path | None = None, *, suggest_facets: bool | None = None) -> dict[str, Any]:
    """The Datasette settings ``cuttings serve`` runs with (``Datasette(settings=...)`` takes them as they are;
    :func:`datasette_arguments` writes them for the command line). ``suggest_facets`` None: on up to
    :data:`SUGGEST_FACETS_UP_TO` stories in ``db_path``, off past it."""
    if suggest_facets is None:
        suggest_facets = db_path is None or story_count(db_path) <= SUGGEST_FACETS_UP_TO
    return {"sql_time_limit_ms": 5000,
            # facets over the story view (bodies, stance) need more than Datasette's 200 ms default
            "facet_time_limit_ms": 3000,
            "suggest_facets": bool(suggest_facets)}


def datasette_arguments(settings: dict[str, Any]) -> list[str]:
    """``--setting NAME VALUE`` for each setting, a boolean written ``on`` or ``off`` as Datasette reads it."""
    words = []
    for name, value in settings.items():
        words += ["--setting", name, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    return words


def datasette_command(db_path: str | Path, metadata_path: str | Path, *, host: str = "127.0.0.1",
                      port: int = 8001, read_only: bool = True, open_browser: bool = False,
                      suggest_facets: bool | None = None) -> list[str]:
    """The ``datasette serve`` command line, with the cuttings plugin (``--plugins-dir``), its
    templates (``--template-dir``) and :func:`datasette_settings`.

    Never ``-i`` (immutable): the nightly run writes to the database while it is served, and
    an immutable connection neither reads the WAL nor expects the file to change (stale pages,
    then "database disk image is malformed"). Datasette opens a mutable file with ``mode=ro``
    connections, which read the WAL live and cannot write; ``read_only`` keeps the callers'
    intent (only the corrections plugin writes, and only when turned on)."""
    command = [sys.executable, "-m", "datasette", "serve", str(db_path)]
    command += ["--metadata", str(metadata_path), "--host", host, "--port", str(port),
                "--plugins-dir", str(PLUGINS_DIR), "--template-dir", str(TEMPLATES_DIR)]
    command += datasette_arguments(datasette_settings(db_path, suggest_facets=suggest_facets))
    if open_browser:
        command.append("--open")
    return command


def authentication_plugins() -> list[str]:
    """Installed Datasette plugins that authenticate users (their names contain ``auth``)."""
    from importlib.metadata import entry_points
    return sorted({entry.name for entry in entry_points(group="datasette") if "auth" in entry.name.lower()})


def check_corrections_host(host: str) -> None:
    """Corrections write to the database: only on 127.0.0.1 unless an authentication plugin is installed."""
    if host not in LOCAL_HOSTS and not authentication_plugins():
        raise store.StoreError(f"--corrections writes to the database: it serves on 127.0.0.1 only, not {host}, "
                               "unless a Datasette authentication plugin (e.g. datasette-auth-passwords) is installed")


def checkpoint(db_path: str | Path) -> None:
    """Fold the WAL into the main file: Datasette's immutable mode (``-i``) does not read the WAL."""
    with contextlib.closing(sqlite3.connect(str(db_path), timeout=30)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8001, read_only: bool = True,
          open_browser: bool = False, corrections: bool = False, annotator: str | None = None,
          suggest_facets: bool | None = None) -> int:
    """Run Datasette on the database until it is stopped (Ctrl-C); returns its exit code.
    ``corrections`` turns on the correction forms (and opens the database writable); ``annotator`` is the
    name they are saved under (else the signed-in user's, else the one typed in the form); ``suggest_facets``
    None chooses by the database's size (:func:`datasette_settings`)."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise store.StoreError(f"database not found: {db_path}")
    annotator = " ".join((annotator or "").split()) or None
    if annotator and not corrections:
        raise store.StoreError("--annotator names who makes corrections: it needs --corrections")
    if corrections:
        check_corrections_host(host)
        read_only = False
    with tempfile.TemporaryDirectory(prefix="cuttings-datasette-") as directory:
        metadata_path = write_metadata(db_path, directory, corrections=corrections, host=host, annotator=annotator)
        process = subprocess.Popen(datasette_command(db_path, metadata_path, host=host, port=port,
                                                     read_only=read_only, open_browser=open_browser,
                                                     suggest_facets=suggest_facets),
                                   # the story pages read the label scheme `serve --scheme` named
                                   env={**os.environ, **paths.chosen_config_env()})
        with _sigterm_as_interrupt():
            try:
                return process.wait()
            except KeyboardInterrupt:
                process.terminate()
                return process.wait()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Treat SIGTERM like Ctrl-C while serving, so stopping ``cuttings serve`` also stops Datasette."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------
# docs/schema.md reference section
# --------------------------------------------------------------------------

def _column_types(db: Database, name: str) -> dict[str, str]:
    return {row[1]: row[2] or "(expression)" for row in db.execute(f"PRAGMA table_info([{name}])").fetchall()}


def schema_reference_markdown() -> str:
    """The reference part of ``docs/schema.md``: every table and view, every column, its type and an example.
    Types are read from a freshly migrated database, so they cannot drift from ``store.py``."""
    db = Database(memory=True)
    store.migrations.apply(db)
    lines = []
    for name, (description, columns) in TABLE_DOCS.items():
        types = _column_types(db, name)
        lines += [f"### `{name}`", "", description, "", "| column | type | what | example |", "| --- | --- | --- | --- |"]
        for column, (text, example) in columns.items():
            cell = example.replace("|", "\\|")
            lines.append(f"| `{column}` | {types.get(column, '?')} | {text.replace('|', '/')} | "
                         f"{'`' + cell + '`' if cell else '(empty)'} |")
        lines.append("")
    return "\n".join(lines)


def update_schema_doc(path: str | Path = SCHEMA_DOC) -> bool:
    """Rewrite the generated section of ``docs/schema.md``; returns True when it changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, end = text.index(_BEGIN) + len(_BEGIN), text.index(_END)
    updated = text[:start] + "\n\n" + schema_reference_markdown() + "\n" + text[end:]
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text
