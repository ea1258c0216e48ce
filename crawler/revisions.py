"""The crawler's storage policy: what a fetched article is to the store.

A page whose normalised URL is new is a new story, or a syndicated copy when its MinHash
matches a stored original (``crawler.dedupe``); the copy published first becomes the
original. A known URL whose text changed materially is a revision (a new
``article_versions`` row with a short human summary), else unchanged. The store
(``cuttings.store``) only writes what this module decides.
"""
from __future__ import annotations

import difflib
import re
from typing import Any

from crawler import dedupe
from cuttings import store

_CORRECTION = re.compile(r"\b(correction|clarification|this (article|story) (was|has been) (amended|updated|corrected))\b",
                         re.I)


# Text that changes on every render without the story changing: clock times, dates next to
# "updated"/"published", relative ages, and share/comment/view counters.
_VOLATILE = re.compile(
    r"\b\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s*(?:am|pm|bst|gmt|utc)?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{4}\b"
    r"|\b\d{4}-\d{2}-\d{2}(?:t[\d:.]+z?)?\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|\b\d+\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?)\s+ago\b"
    r"|\b[\d.,]+\s*[km]?\s+(?:shares?|comments?|views?|likes?|reactions?|times)\b"
    r"|\b(?:shared|viewed|liked)\s+[\d.,]+\s*[km]?\s+times\b", re.I)


def _skeleton(text: str | None) -> list[str]:
    """Words of a text with volatile parts (times, dates, counters), punctuation and case removed."""
    return re.findall(r"\w+", _VOLATILE.sub(" ", text or "").lower())


def diff_summary(old_title: str, old_body: str, new_title: str, new_body: str) -> tuple[str, bool, bool]:
    """A short human summary of a revision, whether the headline changed, and whether it is a correction.

    E.g. ``headline changed: 'Old' -> 'New'; body +12/-0 words ("The council said a final ...");
    correction added``.
    """
    old_words, new_words = store.normalise_text(old_body).split(), store.normalise_text(new_body).split()
    added = removed = 0
    first_insert = None
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_words, new_words, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            removed += i2 - i1
        if op in ("replace", "insert"):
            added += j2 - j1
            if first_insert is None:
                first_insert = new_words[j1:j2]
    headline_changed = _skeleton(old_title) != _skeleton(new_title)
    parts = []
    if headline_changed:
        parts.append(f"headline changed: {_clip(store.normalise_text(old_title))!r} -> {_clip(store.normalise_text(new_title))!r}")
    if added or removed:
        sample = " ".join(first_insert[:8]) + (" ..." if len(first_insert) > 8 else "") if first_insert else ""
        parts.append(f"body +{added}/-{removed} words" + (f' ("{sample}")' if sample else ""))
    is_correction = bool(_CORRECTION.search(new_body or "")) and not _CORRECTION.search(old_body or "")
    if is_correction:
        parts.append("correction added")
    return "; ".join(parts) or "formatting only", headline_changed, is_correction


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_material_change(old_title: str, old_body: str, new_title: str, new_body: str) -> bool:
    """Whether a revision matters: changes only to whitespace, punctuation, case, clock times,
    "updated" dates, relative ages or share/comment counts are not material; any other word
    or number (a corrected figure) is."""
    return _skeleton(old_title) != _skeleton(new_title) or _skeleton(old_body) != _skeleton(new_body)


def published_earlier(published_at: str | None, other_published_at: str | None) -> bool:
    """Whether ``published_at`` is strictly earlier than the other article's date. A date
    without a time is compared by day only, so a same-day tie keeps the first copy seen."""
    if not (published_at and other_published_at):
        return False
    mine, theirs = published_at, other_published_at
    if len(mine) == 10 or len(theirs) == 10:
        return mine[:10] < theirs[:10]
    return mine < theirs


def save_article(db, item: dict, run_id: int | None, index: Any = None) -> tuple[str, int]:
    """Store one extracted article idempotently. Returns (status, article_id) where status is
    ``new``, ``duplicate`` (a new syndicated copy, stored and linked), ``updated`` (material
    revision: new ``article_versions`` row), or ``unchanged``.

    ``item`` keys: url, canonical_url (normalised), source_id, title, body, author,
    published_at, published_source, modified_at, modified_source, found_by, language,
    description, section, paywalled, and optional etag / last_modified / fingerprint.
    ``index``: the :class:`crawler.dedupe.SyndicationIndex` of stored originals, kept up to date.
    """
    title, body = item.get("title") or "", item.get("body") or ""
    existing = store.find_article(db, item["canonical_url"])
    with store.atomic(db):  # all of one article or none of it (a savepoint inside a pipeline's batch)
        if existing is None:
            minhash = _minhash(item, body)
            original = (index.find_original(minhash, source_id=item.get("source_id"), text=body)
                        if index is not None else None)
            similarity = round(original[1], 3) if original else None
            article_id = store.insert_article(db, item, run_id, fingerprint=dedupe.to_blob(minhash),
                                              duplicate_of=original[0] if original else None, similarity=similarity)
            status = "duplicate" if original else "new"
            if original and published_earlier(item.get("published_at"), store.article_published_at(db, original[0])):
                # The copy seen first was not the first published: this one becomes the original.
                store.make_original(db, article_id, original[0], similarity)
                if index is not None:
                    index.remove(original[0])
                original = None
            if index is not None and not original:
                index.add(article_id, minhash, source_id=item.get("source_id"), text=body)
        else:
            article_id = existing["id"]
            if existing["content_hash"] == store.content_hash(title, body) or not is_material_change(
                    existing["title"], existing["body"], title, body):
                store.touch_article(db, article_id, item["url"])
                status = "unchanged"
            else:
                summary, headline_changed, is_correction = diff_summary(existing["title"], existing["body"], title, body)
                store.add_revision(db, existing, item, run_id, fingerprint=dedupe.to_blob(_minhash(item, body)),
                                   summary=summary,
                                   headline_changed=headline_changed, is_correction=is_correction)
                status = "updated"
        store.record_article_fetch(db, item, article_id)
        if item.get("authors") is not None:  # the byline, one article_authors row per person
            store.replace_authors(db, article_id, list(item["authors"]), item.get("author_source"))
    return status, article_id


def _minhash(item: dict, body: str):
    """The body's MinHash: computed by the extraction worker when it ran in one, else here."""
    return dedupe.from_blob(item["fingerprint"]) if item.get("fingerprint") else dedupe.fingerprint(body)
