"""The crawler's storage policy: what a fetched article is to the store.

A page whose normalised URL is new is a new story, or a syndicated copy when its MinHash
matches a stored original (``crawler.dedupe``); within one crawl run the copy published first
becomes the original, across runs the copy stored first stays it (:func:`may_displace`). A known
URL whose text changed materially is a revision (a new ``article_versions`` row with a short
human summary), after which copies that no longer match are released
(:func:`regroup_after_revision`), else unchanged. The store
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


SAME_PAGE_THRESHOLD = 0.9   # a query-string variant this close to the stored page is that page


def query_variant_of(db, item: dict, minhash) -> int | None:
    """The stored article of the same source whose URL differs from this new page's only in the query
    string (``/story?variant=2`` and ``/story`` or ``/story?variant=0``) and whose text is the same
    (MinHash similarity >= SAME_PAGE_THRESHOLD), else None. Such a page is the article itself, fetched
    under another address: it is not stored again (and not counted as a syndicated copy). A site whose
    article id is a query parameter (``?id=123``) is unaffected: its articles' texts differ; a
    variant with other text (``?page=2``) is stored as before."""
    candidates = store.same_path_articles(db, item["canonical_url"], item.get("source_id"))
    for article_id, blob in candidates:
        if minhash.jaccard(dedupe.from_blob(blob)) >= SAME_PAGE_THRESHOLD:
            return article_id
    return None


def may_displace(published_at: str | None, run_id: int | None, original: dict | None) -> bool:
    """Whether a newly stored copy, declaring ``published_at``, takes the place of the stored
    ``original`` (:func:`cuttings.store.syndication_facts`: its ``published_at`` and ``crawl_run_id``).

    A page's declared date is its own claim: only our clock cannot be forged. Within one crawl run
    the order pages are fetched in says nothing (feeds of many outlets are read at once), so the
    earlier declared date decides (:func:`published_earlier`: an agency story published first
    elsewhere is the original). An original first seen in an earlier run stays the original: a
    page we had not seen then cannot take the story over (and its headline) by declaring an
    earlier date. A run without an id (a scratch store) counts as one run."""
    if original is None or original.get("crawl_run_id") != run_id:
        return False
    return published_earlier(published_at, original.get("published_at"))


def regroup_after_revision(db, existing: dict, minhash, text: str, run_id: int | None,
                           index: Any = None) -> list[int]:
    """After ``existing`` (its ``articles`` row before the revision) was revised to ``text`` (with
    ``minhash``): the syndicated copies that no longer match the text they were folded under (the two
    tests that fold a new page, :func:`crawler.dedupe.copy_similarity`: 5-shingle MinHash, or content
    words within one outlet) are released, each a story of its own again, or a copy of another stored
    original it matches. So an original rewritten to another story (a hostile outlet's republished
    page, a reused URL) cannot keep other outlets' stories hidden under its headline. Returns the ids
    released; each gets a ``copy_released`` crawl notice."""
    thresholds = ({"threshold": index.threshold, "word_threshold": index.word_threshold} if index is not None
                  else {})
    source_id = existing["source_id"]

    def still_a_copy(member: dict, other_hash, other_text: str | None, other_source) -> float | None:
        return dedupe.copy_similarity(dedupe.from_blob(member["minhash"]), other_hash,
                                      same_source=member["source_id"] is not None and member["source_id"] == other_source,
                                      text=member["body"], other_text=other_text, **thresholds)

    members: dict[int, dict] = {}
    if existing["duplicate_of"] is not None:   # a copy revised: does it still match its original?
        parent = store.syndication_member(db, existing["duplicate_of"])
        similarity = still_a_copy(parent, minhash, text, source_id) if parent else None
        if similarity is not None:
            store.set_similarity(db, existing["id"], round(similarity, 3))
            return []
        members[existing["id"]] = {"id": existing["id"], "minhash": dedupe.to_blob(minhash), "source_id": source_id,
                                   "body": text}
    else:                                  # an original revised: its copies are checked against the new text
        if index is not None:
            index.add(existing["id"], minhash, source_id=source_id, text=text)
        for copy in store.copies_of(db, existing["id"]):
            similarity = still_a_copy(copy, minhash, text, source_id)
            if similarity is not None:
                store.set_similarity(db, copy["id"], round(similarity, 3))
            else:
                members[copy["id"]] = copy
    for copy_id, member in members.items():   # first stored first: a later one may fold under an earlier one
        copy_hash = dedupe.from_blob(member["minhash"])
        found = (index.find_original(copy_hash, exclude=copy_id, source_id=member["source_id"], text=member["body"])
                 if index is not None else None)
        if found is not None and found[0] == existing["duplicate_of"]:
            found = None
        store.set_duplicate_of(db, copy_id, found[0] if found else None, round(found[1], 3) if found else None)
        if found is None and index is not None:
            index.add(copy_id, copy_hash, source_id=member["source_id"], text=member["body"])
        if run_id is not None:
            facts = store.syndication_facts(db, copy_id)
            store.record_notice(db, run_id, "copy_released", url=facts["canonical_url"], source_id=facts["source_id"],
                                message=f"no longer a copy of article {existing['duplicate_of'] or existing['id']} "
                                        f"(revised to other text): " + ("a copy of article " + str(found[0])
                                                                        if found else "a story of its own"))
    return list(members)


def save_article(db, item: dict, run_id: int | None, index: Any = None) -> tuple[str, int]:
    """Store one extracted article idempotently. Returns (status, article_id) where status is
    ``new``, ``duplicate`` (a new syndicated copy, stored and linked), ``updated`` (material
    revision: new ``article_versions`` row), or ``unchanged`` (also a query-string variant of a stored
    page of the same source with the same text: :func:`query_variant_of`).

    ``item`` keys: url, canonical_url (normalised), source_id, title, body, author,
    published_at, published_source, modified_at, modified_source, found_by, language,
    description, section, paywalled, and optional etag / last_modified / fingerprint.
    ``index``: the :class:`crawler.dedupe.SyndicationIndex` of stored originals, kept up to date.
    """
    title, body = item.get("title") or "", item.get("body") or ""
    existing = store.find_article(db, item["canonical_url"])
    with store.atomic(db):  # all of one article or none of it (a savepoint inside a pipeline's batch)
        same_page = None
        if existing is None:
            minhash = _minhash(item, body)
            same_page = query_variant_of(db, item, minhash)
        if same_page is not None:
            # the outlet's own page under another query string (?variant=2): one article, not a copy
            article_id, status = same_page, "unchanged"
            store.touch_article(db, article_id, None)
        elif existing is None:
            original = (index.find_original(minhash, source_id=item.get("source_id"), text=body)
                        if index is not None else None)
            similarity = round(original[1], 3) if original else None
            article_id = store.insert_article(db, item, run_id, fingerprint=dedupe.to_blob(minhash),
                                              duplicate_of=original[0] if original else None, similarity=similarity)
            status = "duplicate" if original else "new"
            if original and may_displace(item.get("published_at"), run_id, store.syndication_facts(db, original[0])):
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
                minhash = _minhash(item, body)
                store.add_revision(db, existing, item, run_id, fingerprint=dedupe.to_blob(minhash),
                                   summary=summary,
                                   headline_changed=headline_changed, is_correction=is_correction)
                regroup_after_revision(db, existing, minhash, body, run_id, index)
                status = "updated"
        store.record_article_fetch(db, item, article_id)
        if item.get("authors") is not None and same_page is None:  # the byline, one article_authors row per person
            store.replace_authors(db, article_id, list(item["authors"]), item.get("author_source"))
    return status, article_id


def _minhash(item: dict, body: str):
    """The body's MinHash: computed by the extraction worker when it ran in one, else here."""
    return dedupe.from_blob(item["fingerprint"]) if item.get("fingerprint") else dedupe.fingerprint(body)
