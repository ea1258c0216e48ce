"""Watchlist-driven spaCy pipeline: mentions of watched bodies and quotes of their speakers.

``build_nlp(watchlist)`` returns ``spacy.blank("en")`` with three components:

* ``cuttings_sentencizer``: rule-based sentence splitter (the rules of spaCy's ``sentencizer``,
  vectorised, plus a break at every blank line so the headline and paragraphs are sentences);
* ``cuttings_watchlist_ruler``: phrase patterns generated from the watchlist (names, abbreviations,
  office holders, generic and group references, exclusions) in ``SpanRuler`` format, matched over
  token norms into ``doc._.watchlist_matches``; saved and loaded as JSONL by ``to_disk``/``from_disk``;
* ``cuttings_reference_resolver``: picks non-overlapping matches (longest first, exclusions
  included so "West Midlands Police and Crime Commissioner" hides "Police and Crime Commissioner"),
  adds fuzzy matches of misspelt long names, resolves holders by the article date and generic
  references ("the service", "the PCC") to the bodies the article names (region terms, matched
  lazily, only when nothing is named), and writes the result to
  ``doc.spans["watchlist_mentions"]`` (label = entity id, ``id_`` = method).

:class:`Analyser` wraps the pipeline and the quote extractor behind ``analyse``/``pipe``.
"""
from __future__ import annotations

import bisect
import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy
import spacy
import srsly
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from spacy.lang.lex_attrs import word_shape
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.attrs import IS_PUNCT, IS_SPACE, LOWER, NORM, ORTH, SENT_START, SHAPE
from spacy.tokens import Doc, Span

from nlp import quotes as quote_extractor
from nlp.places import placed_elsewhere, qualifies_elsewhere
from nlp.watchlist import Entity, Watchlist, load_watchlist, parse_watchlist

MATCHES_EXTENSION = "watchlist_matches"   # doc._.watchlist_matches: the ruler's raw matches
if not Doc.has_extension(MATCHES_EXTENSION):
    Doc.set_extension(MATCHES_EXTENSION, default=None)
MENTIONS_KEY = "watchlist_mentions"
PUBLISHED_AT_KEY = "published_at"
SOURCE_REGION_KEY = "source_region"   # the region of the outlet (sources.toml), a last resort for "the service"
REGION_COUNTS_KEY = "watchlist_region_counts"
REGION_ELSEWHERE_KEY = "watchlist_region_elsewhere"
PLACED_ELSEWHERE_KEY = "watchlist_placed_elsewhere"
ABOUT_FIRE_KEY = "watchlist_about_fire"
OTHER_BODIES_KEY = "watchlist_other_bodies"
FIELD_WORDS_KEY = "watchlist_field_words"
TEXT_KEY = "text"
SENTENCE_STARTS_KEY = "sentence_starts"   # the token indices where the sentencizer starts a sentence
# A generic reference after one of these is not the local body.
NOT_LOCAL_WORDS = {"national", "every", "any", "another", "other", "each", "uk", "british", "english", "whole"}
# Head nouns of the longer proper names a capitalised generic reference can open: "the Fire Service
# College", "the King's Fire Service Medal", "the Fire Brigades Union", "the Fire Services Management
# Committee", "the Fire Service Minister" name a college, a medal, a union, a committee, an office,
# never the local body.
LONGER_NAME_HEADS = {
    "college", "colleges", "medal", "medals", "award", "awards", "union", "unions", "minister", "ministers",
    "committee", "committees", "association", "associations", "federation", "society", "trust", "charity",
    "fund", "foundation", "conference", "museum", "academy", "act", "regulations", "network",
    "institute", "institution", "journal", "magazine", "games", "league", "club",
}
LONGER_NAME_WORDS_AFTER = 3   # capitalised words looked through for the head: "Management Committee"
# Another body's name ending in a generic reference: "Cleveland Police and Crime Commissioner", "Essex
# Fire Service", "Hong Kong's new police commissioner", "PCC for Essex". A capitalised word before the
# reference is no such name when it is one of these (an office's or a party's word, a time word).
NOT_NAME_MODIFIERS = {
    "former", "new", "acting", "interim", "current", "incoming", "outgoing", "elected", "re-elected", "local",
    "joint", "combined", "deputy", "conservative", "conservatives", "labour", "tory", "tories", "liberal", "democrat",
    "democrats", "democratic", "independent", "green", "reform", "ukip", "plaid",
    "yesterday", "today", "tonight", "tomorrow", "overnight", "earlier", "later", "meanwhile", "now",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
    "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
}
OTHER_NAME_RUN = 6            # capitalised words looked through for a watched place ("Hereford and Worcester Combined")
OTHER_NAME_ADJECTIVES = 2     # lower-case words between a possessive and the reference ("Kong's new police commissioner")
OTHER_NAME_PREPOSITIONS = ("for", "of")
# Words many places' names share: a capitalised one of them before a reference is no sign of a watched place.
SHARED_PLACE_WORDS = {
    "north", "south", "east", "west", "northern", "southern", "eastern", "western", "mid", "central",
    "greater", "great", "little", "upper", "lower", "new", "old", "royal", "county", "city", "borough",
}
# A title after one of these is a deputy's (a "Deputy Police and Crime Commissioner"): the person
# named after it is no holder of the office, so the watchlist not knowing them says nothing.
DEPUTY_WORDS = {"deputy", "assistant"}
PERSON_TITLES = {"sir", "dame", "dr", "lord", "lady", "baroness", "baron", "professor", "prof", "mr", "mrs", "ms", "miss"}
FIRE_CONTEXT_WORDS = ("fire station", "firefighter", "fire engine", "fire crew")

# Ruler labels: what a matched phrase is, and what its pattern id points at.
NAME, HOLDER, GENERIC, GROUP, GROUP_GENERIC, GROUP_AREA, EXCLUDE, PERSON = (
    "name", "holder", "generic", "group", "group_generic", "group_area", "exclude", "person")
FUZZY = "fuzzy"
COORDINATED = "coordinated"   # target: entity ids joined by "+"
AREA = "area"                 # target: an area name (lowercase) that watched bodies are named after
BARE_AREA = "bare_area"       # target: the body a bare area name names ("assisting Hereford & Worcester")
# Prepositions that put a body's head before its area: "the fire and rescue service in Shropshire".
AREA_PREPOSITIONS = ("in", "for", "of", "across", "covering", "from")
# Words before a bare area name that make it the place, not the body: "crews in Hereford and Worcester".
PLACE_WORDS = {"in", "for", "of", "across", "covering", "covers", "from", "throughout", "within", "around",
               "to", "at", "into", "near", "between", "serving", "serves", "outside", "beyond", "across"}
# A sentence about fire: a bare area name in it (or just after it) names the area's fire body.
FIRE_SENTENCE = re.compile(r"\b(?:fire|brigade|rescue|firefight)", re.IGNORECASE)
# Words of a generic reference that make it about fire bodies whatever else the article names.
FIRE_WORDS = {"fire", "brigade", "brigades", "rescue", "fra"}

# Words that do not distinguish one body from another: fuzzy matches must agree on the others.
COMMON_NAME_WORDS = {
    "the", "and", "&", "of", "for", "in", "'s", "fire", "rescue", "service", "services", "police",
    "crime", "commissioner", "authority", "authorities", "and", "county", "council", ",", "-",
}
NON_CONTENT_WORDS = {"the", "a", "an", "our", "its", "his", "her", "their", "your", "'s", "this", "that"}
MAX_CACHED_WORDS = 500_000
# Whitespace-separated chunks spaCy's tokenizer keeps the tokens of (its ``max_cache_size``,
# 10,000 by default). The cache never evicts: once full, every chunk not in it is split again by
# the prefix, suffix and infix regexes each time it is seen, and the corpus alone holds 13,556
# distinct chunks. About 250 bytes per chunk (25 MB when full); the tokens are the same either way.
TOKENIZER_CACHE_SIZE = 100_000
INFLECTIONS = {"s", "es", "d", "ed", "n", "r"}
FUZZY_MIN_TOKENS = 3
# Shorter words are one edit from too many common words ("over"/"ever", "five"/"fire") to be
# worth checking as misspellings: a misspelt long name still has a misspelt long word.
FUZZY_MIN_WORD_LENGTH = 5
FUZZY_MIN_SCORE = 90.0
FUZZY_PLACE_SCORE = 80.0
# Characters replaced by a space before tokenising (same length, so offsets are unchanged).
ODD_WHITESPACE = "\t\r\f\v\u00a0\u2028\u2029"
ODD_WHITESPACE_PATTERN = re.compile(f"[{ODD_WHITESPACE}]")
SINGLE_LINE_BREAK = re.compile(r"(?<!\n)(?<!\n )\n(?! *\n)")


def doc_text(doc: Doc) -> str:
    """The document's text: kept in ``user_data`` by the Analyser (``Doc.text`` rebuilds it)."""
    text = doc.user_data.get(TEXT_KEY)
    if text is None:
        text = doc.user_data[TEXT_KEY] = doc.text
    return text


def document_text(title: str | None, body: str | None) -> str:
    """The text the analyser reads and its offsets point into: title, blank line, body (the
    ``document_text`` the store's ``mentions``/``quotes`` offsets refer to)."""
    return f"{title or ''}\n\n{body or ''}"


def normalise_text(text: str) -> str:
    """Replace single line breaks and odd whitespace by spaces, keeping length and offsets."""
    if any(char in text for char in ODD_WHITESPACE):
        text = ODD_WHITESPACE_PATTERN.sub(" ", text)
    newlines = text.count("\n")
    if newlines and (newlines != 2 * text.count("\n\n") or "\n\n\n" in text):
        text = SINGLE_LINE_BREAK.sub(" ", text)
    return text


# Endings of a field word's forms that drop its final "e" ("policing", "criminals"); forms that
# keep the whole word ("policeman", "crimes", "firefighters", "rescued") are matched as they are.
FIELD_WORD_ENDINGS = ("ing", "ed", "inal", "inals", "inality")


def field_word_pattern(word: str) -> str:
    """A regex (to follow ``\\b``) for the forms of a body's field word: the word and any word it
    begins ("police", "policeman", "crimes"), and for a word ending in "e" its stem with a verb's or
    an adjective's ending ("policing", "criminal"): not any word of its first letters ("policy",
    "firm")."""
    forms = re.escape(word) + r"\w*"
    if word.endswith("e") and len(word) > 4:
        forms += "|" + re.escape(word[:-1]) + "(?:" + "|".join(FIELD_WORD_ENDINGS) + r")\b"
    return forms


def surface_variants(phrase: str) -> set[str]:
    """Spellings of ``phrase`` with every combination of "and"/"&" and straight/curly apostrophes."""
    parts = re.split(r"(\s(?:and|&)\s)", phrase)
    joiners = [index for index, part in enumerate(parts) if part in (" and ", " & ")]
    variants = set()
    choices = [(" and ", " & ")] * len(joiners) if len(joiners) <= 4 else [(" and ",), (" & ",)]
    for combination in itertools.product(*choices) if len(joiners) <= 4 else [
            (" and ",) * len(joiners), (" & ",) * len(joiners)]:
        for index, joiner in zip(joiners, combination):
            parts[index] = joiner
        variants.add("".join(parts))
    variants |= {variant.replace("'", "\u2019") for variant in variants}
    return variants


def watchlist_patterns(watchlist: Watchlist) -> list[dict]:
    """SpanRuler phrase patterns for every phrase of the watchlist (label = role, id = target)."""
    patterns: list[dict] = []

    def add(label: str, target: str, phrases: Iterable[str]) -> None:
        for phrase in phrases:
            for variant in sorted(surface_variants(phrase)):
                patterns.append({"label": label, "pattern": variant, "id": target})

    for entity in watchlist.entities:
        add(NAME, entity.id, entity.aliases + entity.abbreviations + structural_names(watchlist, entity))
        add(PERSON, entity.id, [person.name for person in entity.people])
        add(GENERIC, entity.id, entity.generic_references)
        add(EXCLUDE, entity.id, entity.exclude)
        for holder in entity.holders:
            target = f"{entity.id}|{holder.name}"
            add(HOLDER, target, [holder.name, holder.surname] + [
                f"{title} {holder.surname}" for title in ("Mr", "Mrs", "Ms", "Cllr", "Councillor", "Dr")])
    areas = {area.lower(): area for entity in watchlist.entities if entity.category in watchlist.categories
             for area in entity.area_names}
    for key, area in areas.items():
        add(AREA, key, [area])
    for group in watchlist.groups:
        add(GROUP, group.id, group.aliases)
        add(GROUP_GENERIC, group.id, group.generic_references)
        add(GROUP_AREA, group.id, group.area_references)
    return patterns


def structural_names(watchlist: Watchlist, entity) -> tuple[str, ...]:
    """Names built from the body's area and its category's head words: "Hereford and Worcester
    brigade", "Shropshire's fire service", "the fire and rescue services in Herefordshire"."""
    category = watchlist.categories.get(entity.category)
    if category is None or not entity.area_names:
        return ()
    names = []
    for area in entity.area_names:
        for head in category.heads + category.weak_heads + category.plural_heads:
            names += [f"{area} {head}", f"{area}'s {head}"]
        for head in category.heads + category.plural_heads:
            if len(head.split()) > 1:   # "services in Shropshire" could be any services
                names += [f"{head} {preposition} {area}" for preposition in AREA_PREPOSITIONS]
    return tuple(dict.fromkeys(names))


SENTENCE_FINAL = {".", "!", "?", "\u2026", "!?", "?!", "...", ".."}
SENT_CONTINUES = numpy.uint64(2 ** 64 - 1)   # SENT_START -1 (not a start), as the uint64 from_array takes


# What a token is to the sentencizer: a word, punctuation (sentence-final or not), whitespace (with a
# line break or without); LONG: spaCy's shape of any token of 100 characters or more, which says nothing.
WORD, PUNCTUATION, FINAL_PUNCTUATION, SPACE, LINE_BREAK, LONG = range(6)
LONG_SHAPE = "LONG"


@Language.factory("cuttings_sentencizer", assigns=["token.is_sent_start"], default_config={})
def make_sentencizer(nlp: Language, name: str):
    """Rule-based sentencizer over token attributes.

    Like spaCy's ``sentencizer``: a sentence ends after ".", "!", "?" and any closing punctuation
    or quotation marks that follow; in addition a blank line (paragraph or headline break) always
    ends a sentence. Walks only the punctuation and whitespace tokens, not every token. Keeps the
    indices of the sentences' first tokens in ``doc.user_data["sentence_starts"]`` (the Analyser
    reads them rather than the doc's array).

    Which tokens are punctuation or whitespace is read from their shapes, not from their flags:
    spaCy's ``word_shape`` writes every letter as "X" or "x" and every digit as "d" and keeps every
    other character (a run of one character cut at four), so a shape is punctuation, whitespace or
    a line break exactly when its token is, and "...", "?!" and the other sentence-final marks are
    their own shapes. A doc has a few dozen distinct shapes, classified once per process, and one
    SHAPE array costs a third of the ORTH, IS_PUNCT and IS_SPACE arrays (a few hundred instructions
    a token and attribute). A doc holding a token of 100 characters or more (shape "LONG"), or a
    vocabulary with another shape function, is read by its flags.
    """
    vocab = nlp.vocab
    strings = vocab.strings
    getters = vocab.lex_attr_getters
    by_shape = getters.get(SHAPE) is word_shape and IS_PUNCT in getters and IS_SPACE in getters
    shape_kinds: dict[int, int] = {}   # shape hash -> kind, and the same as sorted arrays
    shape_table = [numpy.zeros(0, dtype=numpy.uint64), numpy.zeros(0, dtype=numpy.uint8)]

    def kind(text: str, is_punct: bool, is_space: bool) -> int:
        if is_punct:
            return FINAL_PUNCTUATION if text in SENTENCE_FINAL else PUNCTUATION
        if is_space:
            return LINE_BREAK if "\n" in text else SPACE
        return WORD

    def kinds_by_shape(shapes: numpy.ndarray) -> numpy.ndarray:
        known, kinds = shape_table
        positions = numpy.searchsorted(known, shapes)
        if not len(known) or not numpy.array_equal(known[numpy.minimum(positions, len(known) - 1)], shapes):
            if len(shape_kinds) > MAX_CACHED_WORDS:
                shape_kinds.clear()
            for shape in set(shapes.tolist()) - shape_kinds.keys():
                text = strings[shape]
                shape_kinds[shape] = LONG if text == LONG_SHAPE else kind(
                    text, getters[IS_PUNCT](text), getters[IS_SPACE](text))
            known = numpy.array(sorted(shape_kinds), dtype=numpy.uint64)
            kinds = numpy.array([shape_kinds[shape] for shape in known.tolist()], dtype=numpy.uint8)
            shape_table[:] = known, kinds
            positions = numpy.searchsorted(known, shapes)
        return kinds[positions]

    def kinds_by_flags(doc: Doc) -> numpy.ndarray:
        return numpy.array([kind(strings[orth], punct, space) for orth, punct, space in
                            doc.to_array([ORTH, IS_PUNCT, IS_SPACE]).tolist()], dtype=numpy.uint8)

    def sentencizer(doc: Doc) -> Doc:
        length = len(doc)
        if length < 2:
            return doc
        kinds = kinds_by_shape(doc.to_array(SHAPE)) if by_shape else None
        if kinds is None or (kinds == LONG).any():
            kinds = kinds_by_flags(doc)
        # Only punctuation and whitespace tokens can end a sentence, and a sentence starts at the
        # first token after one that is neither (quotation marks are punctuation): a few tokens
        # per sentence, walked in Python, rather than numpy operations over every token.
        marks = numpy.flatnonzero(kinds)
        starts = numpy.empty(length, dtype=numpy.uint64)
        starts.fill(SENT_CONTINUES)
        starts[0] = 1
        if len(marks):
            mark_list = marks.tolist()
            is_mark = set(mark_list)
            last = length - 1
            for index, token_kind in zip(mark_list, kinds[marks].tolist()):
                if token_kind == PUNCTUATION or token_kind == SPACE:
                    continue
                if token_kind == LINE_BREAK:
                    if index == last:
                        continue
                    starts[index + 1] = 1   # a line break always ends a sentence
                following = index + 1
                while following in is_mark:
                    following += 1
                if following < length:
                    starts[following] = 1
        doc.from_array([SENT_START], starts.reshape(-1, 1))
        doc.user_data[SENTENCE_STARTS_KEY] = numpy.flatnonzero(starts == 1).tolist()
        return doc

    return sentencizer


class WatchlistRuler:
    """The phrase patterns of a watchlist, matched over token norms.

    Patterns have the format of spaCy's ``SpanRuler`` (``{"label", "pattern", "id"}``, saved as JSONL)
    and are matched as ``SpanRuler(phrase_matcher_attr="NORM")`` would, but the raw matches are set
    as plain ``(start, end, label, target)`` tuples on ``doc._.watchlist_matches`` (sorted, without
    duplicates) rather than as a Span per match: the resolver needs only the offsets, and building
    Spans cost a tenth of the pipeline's time.
    """

    def __init__(self, nlp: Language, name: str):
        self.name = name
        self.nlp = nlp
        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        self._patterns: list[dict] = []
        # match key -> (label hash, target hash, label, target): sorted after (start, end), the
        # matches come in the order of their label and target hashes
        self._rows: dict[int, tuple[int, int, str, str]] = {}

    def add_patterns(self, patterns: list[dict]) -> None:
        phrases: dict[str, list[str]] = {}
        strings = self.nlp.vocab.strings
        for pattern in patterns:
            if not isinstance(pattern.get("pattern"), str) or not pattern["pattern"].strip():
                raise ValueError(f"watchlist ruler: not a phrase pattern: {pattern!r}")
            label, target = pattern["label"], pattern.get("id") or ""
            key = f"{label}\x1f{target}"
            key_hash = strings.add(key)   # the match id the PhraseMatcher returns
            self._rows[key_hash] = (strings.add(label), strings.add(target) if target else 0, label, target)
            phrases.setdefault(key, []).append(pattern["pattern"])
            self._patterns.append(dict(pattern))
        for key, texts in phrases.items():
            self.matcher.add(key, list(self.nlp.tokenizer.pipe(texts)))

    def initialize(self, get_examples=None, *, nlp=None, watchlist=None, watchlist_path: str | None = None,
                   patterns=None) -> None:
        """Set the patterns: from ``patterns``, else from the watchlist (object or TOML path)."""
        if patterns is None:
            if watchlist is None:
                watchlist = load_watchlist(watchlist_path)
            patterns = watchlist_patterns(watchlist)
        self.clear()
        self.add_patterns(patterns)

    @property
    def patterns(self) -> list[dict]:
        return list(self._patterns)

    def clear(self) -> None:
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        self._patterns, self._rows = [], {}

    def __call__(self, doc: Doc) -> Doc:
        rows = self._rows
        found = sorted({(start, end, *rows[key]) for key, start, end in self.matcher(doc) if start != end})
        doc._.set(MATCHES_EXTENSION, [(start, end, label, target) for start, end, _, _, label, target in found])
        return doc

    def to_disk(self, path, exclude=tuple()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_jsonl(path / "patterns.jsonl", self.patterns)

    def from_disk(self, path, exclude=tuple()) -> "WatchlistRuler":
        self.clear()
        self.add_patterns(list(srsly.read_jsonl(Path(path) / "patterns.jsonl")))
        return self


@Language.factory("cuttings_watchlist_ruler", assigns=[f"doc._.{MATCHES_EXTENSION}"], default_config={})
def make_watchlist_ruler(nlp: Language, name: str) -> WatchlistRuler:
    """Phrase patterns of the watchlist; set them with ``initialize(watchlist=...)`` (or
    ``watchlist_path`` in ``[initialize.components.NAME]``); saved as ``patterns.jsonl``."""
    return WatchlistRuler(nlp, name)


def _parse_day(value) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


class ReferenceResolver:
    """Turns raw ruler matches into resolved watchlist mentions (see module docstring)."""

    def __init__(self, nlp: Language, name: str):
        self.name = name
        self.tokenizer = nlp.tokenizer
        self.watchlist: Watchlist | None = None
        self._clean_hashes: set[int] = set()               # words that are no misspelling
        self._typo_hashes: dict[int, tuple[str, ...]] = {}  # misspelling -> watchlist words it is near

    def initialize(self, get_examples=None, *, nlp=None, watchlist=None, watchlist_path: str | None = None) -> None:
        """Set the watchlist the resolver resolves against (object, or TOML path; default the
        project's ``data/watchlist.toml``). It is saved with the pipeline by ``to_disk``."""
        self.set_watchlist(watchlist if watchlist is not None else load_watchlist(watchlist_path))

    def set_watchlist(self, watchlist: Watchlist) -> None:
        self.watchlist = watchlist
        self.entities = {entity.id: entity for entity in watchlist.entities}
        self.groups = {group.id: group for group in watchlist.groups}
        # bodies whose holders or people the watchlist lists (``_names_other_body``'s stranger test)
        self.personal_targets = {entity.id for entity in watchlist.entities if entity.holders or entity.people}
        self.vocabulary: set[str] = set()
        self.fuzzy_targets: list[tuple[str, str, list[str], set[str], list[set[int]]]] = []
        tokenizer = self.tokenizer
        # Region terms are only needed when a generic reference has no named antecedent, so they
        # are matched lazily by a separate phrase matcher rather than by the ruler.
        self.region_matcher = PhraseMatcher(tokenizer.vocab, attr="NORM")
        self.region_entities: dict[str, list[str]] = {}
        for entity in watchlist.entities:
            for term in entity.region_terms:
                for variant in surface_variants(term):
                    key = variant.lower()
                    if key not in self.region_entities:
                        self.region_matcher.add(key, [tokenizer(variant)])
                    self.region_entities.setdefault(key, [])
                    if entity.id not in self.region_entities[key]:
                        self.region_entities[key].append(entity.id)
        # Areas bodies are named after, for coordinated mentions ("the Shropshire, Herefordshire and
        # Worcestershire fire services"): matched lazily, only in documents with a plural head.
        # Area names that name a body on their own ("assisting Hereford & Worcester"): area -> body.
        self.bare_areas = {area.lower(): entity.id for entity in watchlist.entities
                           for area in entity.bare_area_names}
        self.category_of = {entity.id: entity.category for entity in watchlist.entities}
        self.area_bodies: dict[str, dict[str, str]] = {}   # area (lowercase) -> {category: entity id}
        for entity in watchlist.entities:
            if entity.category not in watchlist.categories:
                continue
            for area in entity.area_names:
                self.area_bodies.setdefault(area.lower(), {}).setdefault(entity.category, entity.id)
        strings = tokenizer.vocab.strings
        self.list_heads: dict[int, str] = {}   # norm hash of a head's last word -> category
        for category in watchlist.categories.values():
            for head in category.plural_heads + category.heads + category.weak_heads:
                self.list_heads.setdefault(strings.add(head.split()[-1].lower()), category.id)
        # Lists are looked for only in documents with a plural head ("services") or "brigade".
        triggers = sorted({head.split()[-1].lower() for category in watchlist.categories.values()
                           for head in category.plural_heads} | {"brigade"})
        # (looked for as plain substrings, each a fast scan of the text: one regex of all the forms
        # tries them at every letter they begin with)
        self.list_triggers = tuple(form for word in triggers for form in (word, word.title(), word.upper()))
        self.glue_hashes = {strings.add(word) for word in (",", "and", "&", "the", "'s", "of", "both", "each", "every")}
        self.head_word_hashes = {strings.add(word) for word in ("fire", "and", "&", "rescue", "'s", "the")}
        self.fire_hashes = {strings.add(word) for word in ("fire", "rescue", "brigade", "brigades")}
        self.preposition_hashes = {strings.add(word) for word in AREA_PREPOSITIONS}
        self.possessive_hash = strings.add("'s")
        self.not_local_hashes = {strings.add(word) for word in NOT_LOCAL_WORDS}
        # Words that make a capitalised name a watched one: the last word of each comma-separated part
        # of every place a watched body is named after or known by ("Mercia", "Worcester", "Whitchurch"
        # and "Shropshire" of "Whitchurch, Shropshire", "Drayton" of "Market Drayton", "Wells") but
        # stop words and the compass and size words other places share, and the names of its people
        # and office holders ("Campion's police commissioner"). A place's other words are no watched
        # word alone: "Market" of "Market Drayton" is no "Market Harborough", "Bishop" of "Bishop's
        # Castle" no "Bishop Auckland", "Upton" of "Upton-upon-Severn" no Upton on the Wirral; the
        # backward walk over a capitalised run still reaches the last word ("Market Drayton's").
        place_phrases = [phrase for entity in watchlist.entities
                         for phrase in entity.area_names + entity.bare_area_names + entity.region_terms]
        self.watched_name_words = set()
        for part in (part for phrase in place_phrases for part in phrase.split(",")):
            words = [token for token in tokenizer(part.strip())
                     if token.is_alpha and not token.is_stop and token.norm_ not in SHARED_PLACE_WORDS]
            if words:
                self.watched_name_words.add(words[-1].norm_)
        self.watched_name_words |= {token.norm_ for entity in watchlist.entities
                                    for person in entity.people + entity.holders
                                    for token in tokenizer(person.name) if token.is_alpha}
        place_words = {token.norm_ for phrase in place_phrases for token in tokenizer(phrase)}
        # The words a generic reference is made of ("Police Fire and Crime Commissioner" is one,
        # written without its comma), walked over back to the name before them.
        self.reference_words = {token.norm_ for entity in watchlist.entities for phrase in entity.generic_references
                                for token in tokenizer(phrase) if token.norm_ not in NON_CONTENT_WORDS}
        self.reference_words |= {token.norm_ for category in watchlist.categories.values()
                                 for head in category.heads + category.weak_heads
                                 for token in tokenizer(head)}
        # A body's field, in the words of its name that are no place ("police", "crime" for West
        # Mercia Police and Crime Commissioner): a one-word reference ("the Commissioner") is
        # inferred from places only in an article that uses one of them.
        self.field_words = {entity.id: {token.norm_ for token in tokenizer(entity.name)
                                        if token.is_alpha and token.norm_ not in place_words
                                        and token.norm_ not in NON_CONTENT_WORDS and not token.is_stop}
                            for entity in watchlist.entities}
        # The words each body is called by: its name's, aliases' and abbreviations', and its
        # category's heads ("brigade" for a fire service named "... Fire and Rescue Service").
        self.naming_words = {}
        for entity in watchlist.entities:
            category = watchlist.categories.get(entity.category)
            heads = category.heads + category.weak_heads + category.plural_heads if category else ()
            self.naming_words[entity.id] = {token.norm_ for phrase in (entity.name, *entity.aliases,
                                                                       *entity.abbreviations, *heads)
                                            for token in tokenizer(phrase) if token.is_alpha}
        # Heads of the categories ("fire and rescue service"), to find other bodies' names ("Kent
        # Fire and Rescue Service") when an outlet's region is the last resort: matched lazily.
        self.head_matcher = PhraseMatcher(tokenizer.vocab, attr="NORM")
        for category in watchlist.categories.values():
            if category.heads:
                self.head_matcher.add(category.id, [tokenizer(head) for head in category.heads])
        for entity in watchlist.entities:
            phrases = entity.aliases + entity.abbreviations + entity.generic_references + tuple(
                holder.name for holder in entity.holders)
            for phrase in phrases:
                self.vocabulary.update(token.norm_ for token in tokenizer(phrase))
            for alias in entity.aliases:
                words = [token.norm_ for token in tokenizer(alias.replace("&", "and"))]
                if len(words) >= FUZZY_MIN_TOKENS:
                    places = {word for word in words if word not in COMMON_NAME_WORDS and word.isalpha()}
                    hashes = [{tokenizer.vocab.strings.add(word)} | (
                        {tokenizer.vocab.strings.add("&")} if word == "and" else set()) for word in words]
                    self.fuzzy_targets.append((entity.id, " ".join(words), words, places, hashes))
        self.long_vocabulary = sorted({word for target in self.fuzzy_targets for word in target[2]
                                       if len(word) >= FUZZY_MIN_WORD_LENGTH and word.isalpha()})
        self.fuzzy_index: dict[str, list[tuple[str, str, list[str], set[str], list[set[int]], int]]] = {}
        for fuzzy_target in self.fuzzy_targets:
            for offset, word in enumerate(fuzzy_target[2]):
                self.fuzzy_index.setdefault(word, []).append((*fuzzy_target, offset))
        self._clean_hashes.clear()
        self._typo_hashes.clear()
        # Per-entity tables the resolution reads for every reference, computed once here.
        self.linked = {entity.id: ([entity.governs] if entity.governs else []) for entity in watchlist.entities}
        self.governed_by = {entity.id: [other.id for other in watchlist.entities if other.governs == entity.id]
                            for entity in watchlist.entities}
        self.holder_offices: dict[str, list[Entity]] = {}   # holder name -> offices they held, in watchlist order
        self._offices: dict[tuple[str, dt.date | None], str] = {}   # (holder target, day) -> _office_of
        # Entity ids and methods -> their StringStore hashes, for the mention spans' labels and ids.
        self._label_hashes = {name: strings.add(name) for name in itertools.chain(
            self.entities, ("matched", "fuzzy", "inferred"))}
        for entity in watchlist.entities:
            for holder in entity.holders:
                offices = self.holder_offices.setdefault(holder.name, [])
                if entity not in offices:
                    offices.append(entity)
        self.holder_surnames = {holder.surname.lower() for entity in watchlist.entities for holder in entity.holders}

    # -- serialisation: the resolver's data is the watchlist itself, saved as its TOML text ------
    def to_disk(self, path, exclude=tuple()) -> None:
        if self.watchlist is None:
            raise ValueError("cuttings_reference_resolver: nothing to save before initialize()")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "watchlist.toml").write_text(self.watchlist.source, encoding="utf-8")

    def from_disk(self, path, exclude=tuple()) -> "ReferenceResolver":
        source = Path(path) / "watchlist.toml"
        self.set_watchlist(parse_watchlist(source.read_bytes(), source.name))
        return self

    # -- fuzzy matching --------------------------------------------------------------------
    def _near_words(self, word: str) -> tuple[str, ...]:
        """Watchlist words one edit (two for long words) away from ``word``, which is not one itself."""
        if word in self.vocabulary or len(word) < FUZZY_MIN_WORD_LENGTH or not word.isalpha():
            return ()
        limit = 1 if len(word) < 9 else 2
        matches = process.extract(word, self.long_vocabulary, scorer=OSA.distance, score_cutoff=limit, limit=None)
        # Inflections ("fires", "policed") are other words, not misspellings.
        return tuple(known for known, _distance, _index in matches
                     if not (word.startswith(known) and word[len(known):] in INFLECTIONS))

    def _fuzzy_spans(self, doc: Doc, norms: numpy.ndarray | None = None,
                     norm_list: list[int] | None = None) -> list[tuple[int, int, str, str]]:
        """Windows around a misspelt watchlist word that closely match a long alias (``norms``,
        ``norm_list``: the doc's NORM array and list, when the caller has them)."""
        found = []
        if norms is None:
            norms = doc.to_array(NORM)
        if norm_list is None:
            norm_list = norms.tolist()
        if self._clean_hashes.issuperset(norm_list):
            return found   # every word already known to be no misspelling: the usual case
        for norm_hash in set(norm_list) - self._clean_hashes:
            near_words = self._typo_hashes.get(norm_hash)
            if near_words is None:
                near_words = self._near_words(doc.vocab.strings[norm_hash])
                if not near_words:
                    if len(self._clean_hashes) < MAX_CACHED_WORDS:
                        self._clean_hashes.add(norm_hash)
                    continue
                self._typo_hashes[norm_hash] = near_words
            for token_index in numpy.flatnonzero(norms == norm_hash).tolist():
                found.extend(self._fuzzy_windows(doc, norm_list, token_index, near_words))
        return found

    def _fuzzy_windows(self, doc: Doc, norms: list[int], token_index: int, near_words: tuple[str, ...]):
        for near in near_words:
            for entity_id, target, words, places, hashes, offset in self.fuzzy_index.get(near, ()):
                start = token_index - offset
                end = start + len(words)
                if start < 0 or end > len(norms):
                    continue
                # Cheap pre-check: all but two words must match exactly.
                exact = sum(norms[start + index] in word_hashes for index, word_hashes in enumerate(hashes))
                if exact < len(words) - 2:
                    continue
                candidate_words = [t.norm_ if t.text != "&" else "and" for t in doc[start:end]]
                if fuzz.ratio(" ".join(candidate_words), target) < FUZZY_MIN_SCORE:
                    continue
                if all(max(fuzz.ratio(place, word) for word in candidate_words) >= FUZZY_PLACE_SCORE
                       for place in places):
                    yield (start, end, FUZZY, entity_id)

    # -- coordinated mentions ----------------------------------------------------------------
    def _coordinated_spans(self, doc: Doc, area_hits: list[tuple[int, int, str]],
                           norms: numpy.ndarray | None = None, norm_list: list[int] | None = None,
                           ) -> list[tuple[int, int, str, str]]:
        """A list of areas with a head word of a category after it ("the Hereford and Worcester and
        Shropshire Fire & Rescue Services", "each West Midlands, Shropshire and Staffordshire
        brigade") or before it ("fire and rescue services across the Shropshire, Telford & Wrekin,
        Herefordshire and Worcestershire areas") names every watched body of the listed areas."""
        if not area_hits:
            return []
        text = doc_text(doc)
        if not any(form in text for form in self.list_triggers):
            return []
        if norm_list is None:
            norm_list = (norms if norms is not None else doc.to_array(NORM)).tolist()
        # Capitalised words (other places in the list) that do not start a sentence; a line break
        # is a space token, which ends any list. Looked up for the few tokens around areas only.
        capitalised_tokens: dict[int, bool] = {}

        def capitalised(index: int) -> bool:
            known = capitalised_tokens.get(index)
            if known is None:
                token = doc[index]
                known = capitalised_tokens[index] = bool(token.is_title or token.is_upper) and (
                    token.is_sent_start is not True)
            return known
        hits = sorted(area_hits, key=lambda hit: (hit[0], -hit[1]))
        covered: dict[int, str] = {}
        for start, end, key in hits:
            for index in range(start, end):
                covered.setdefault(index, key)
        glue = self.glue_hashes

        def in_list(index: int) -> bool:
            return index in covered or norm_list[index] in glue or capitalised(index)

        found = []
        done_until = -1
        length = len(norm_list)
        for start, _end, _key in hits:
            if start < done_until:
                continue
            first = start
            while first > 0 and start - first < 25 and in_list(first - 1):
                first -= 1
            last = start
            while last + 1 < length and last - start < 25 and in_list(last + 1):
                last += 1
            done_until = last + 1
            # Trim glue at both ends; what remains must list two places or more.
            while first < last and norm_list[first] in glue:
                first += 1
            areas = set()
            separators = 0
            for index in range(first, last + 1):
                if index in covered:
                    areas.add(covered[index])
                elif norm_list[index] in glue:
                    separators += 1
            if not areas or not separators:
                continue
            head = self._head_after(doc, norm_list, last + 1) or self._head_before(doc, norm_list, first)
            if head is None:
                continue
            category, head_start, head_end = head
            bodies = sorted({self.area_bodies[key][category] for key in areas if category in self.area_bodies[key]})
            if bodies and (len(bodies) > 1 or len(areas) > 1 or separators > 1):
                found.append((min(first, head_start), max(last + 1, head_end), COORDINATED, "+".join(bodies)))
        return found

    def _bare_area_spans(self, doc: Doc, area_hits: list[tuple[int, int, str]], norms: list[int],
                         coordinated: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str]]:
        """A bare area name used as the body it names ("Cleobury's crew was assisting Hereford &
        Worcester with rescues"; "Hereford and Worcester, by comparison, have been cut"): only in
        a sentence about fire or just after one, not after a preposition or a place word ("in
        Hereford and Worcester" is the area), not inside a longer name ("BBC Hereford & Worcester",
        "Hereford and Worcester FBU", "Hereford & Worcester's fire authority"), not in a list of
        areas before a head, and not where the sentence's only head words are another category's
        ("the two fire authorities, Shropshire and Hereford & Worcester")."""
        found = []
        for start, end, key in area_hits:
            entity_id = self.bare_areas.get(key)
            if entity_id is None or any(first <= start and end <= last for first, last, _l, _t in coordinated):
                continue
            if start > 0:
                before = doc[start - 1]
                if before.is_alpha and (before.is_upper or (before.is_title and (
                        before.is_sent_start is not True or not before.is_stop))):
                    continue
                # The word before the list the name ends, if any ("in Shropshire, Hereford and Worcester").
                first = start
                while first > 0 and start - first < 12 and (doc[first - 1].lower_ in (",", "and", "&") or (
                        doc[first - 1].is_title and doc[first - 1].is_sent_start is not True)):
                    first -= 1
                if first > 0 and doc[first - 1].lower_ in PLACE_WORDS:
                    continue
            if end < len(doc):
                after = doc[end]
                if after.norm_ == "'s" or (after.text == "-" and not doc[end - 1].whitespace_) or (after.is_alpha and (after.is_title or after.is_upper)):
                    continue
                if after.lower_ in (",", "and", "&") and end + 1 < len(doc) and doc[end + 1].is_title:
                    continue   # a list of areas goes on: its head, if any, says which bodies
            # Without a sentencizer in the pipeline, the document is the sentence.
            sentence = doc[start].sent if doc.has_annotation("SENT_START") else doc[:]
            context = sentence.text
            if sentence.start > 0:
                context = doc[sentence.start - 1].sent.text + " " + context
            if not FIRE_SENTENCE.search(context):
                continue
            # The nearest head word in the sentence says which of the area's bodies is meant
            # ("the two local fire authorities - Shropshire and Hereford & Worcester"); the last
            # word of a run of heads counts ("Fire and Rescue Authorities").
            heads = [index for index in range(sentence.start, sentence.end)
                     if norms[index] in self.list_heads and not (
                         index + 1 < sentence.end and norms[index + 1] in self.list_heads)]
            if heads:
                nearest = min(heads, key=lambda index: min(abs(index - start), abs(index - (end - 1))))
                entity_id = self.area_bodies.get(key, {}).get(self.list_heads[norms[nearest]])
                if entity_id is None:
                    continue
            found.append((start, end, entity_id))
        return found

    def _head_after(self, doc: Doc, norms: list[int], index: int):
        """("category", start, end) of a head such as "Fire & Rescue Services" starting at ``index``."""
        end = index
        while end < len(norms) and end - index < 4 and norms[end] in self.head_word_hashes:
            end += 1
        if end < len(norms) and norms[end] in self.list_heads:
            if any(norms[position] in self.fire_hashes for position in range(index, end + 1)):
                return self.list_heads[norms[end]], index, end + 1
        return None

    def _head_before(self, doc: Doc, norms: list[int], index: int):
        """A head before "in/across/of/for/covering [the]" ending just before ``index``."""
        position = index - 1
        if position >= 0 and doc[position].lower_ == "the":
            position -= 1
        if position < 1 or norms[position] not in self.preposition_hashes:
            return None
        head_end = position
        if norms[head_end - 1] not in self.list_heads:
            return None
        head_start = head_end - 1
        while head_start > 0 and head_end - head_start < 5 and norms[head_start - 1] in self.head_word_hashes:
            head_start -= 1
        if any(norms[p] in self.fire_hashes for p in range(head_start, head_end)):
            return self.list_heads[norms[head_end - 1]], head_start, head_end
        return None

    # -- resolution ------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        if self.watchlist is None:
            raise ValueError("cuttings_reference_resolver needs initialize() before use")
        day = _parse_day(doc.user_data.get(PUBLISHED_AT_KEY))
        matches: dict[tuple[int, int], list[tuple[str, str]]] = {}
        area_hits = []
        holder_keys = set()   # the spans where the ruler matched an office holder's name
        for start, end, label, target in doc._.get(MATCHES_EXTENSION) or ():
            if label == AREA:
                area_hits.append((start, end, target))
            else:
                matches.setdefault((start, end), []).append((label, target))
                if label == HOLDER:
                    holder_keys.add((start, end))
        norms = doc.to_array(NORM)
        norm_list = norms.tolist()
        for start, end, label, target in self._fuzzy_spans(doc, norms, norm_list):
            matches.setdefault((start, end), []).append((label, target))
        coordinated = self._coordinated_spans(doc, area_hits, norms, norm_list)
        for start, end, label, target in coordinated:
            matches.setdefault((start, end), []).append((label, target))
        if self.bare_areas and area_hits:
            for start, end, target in self._bare_area_spans(doc, area_hits, norm_list, coordinated):
                matches.setdefault((start, end), []).append((BARE_AREA, target))

        if holder_keys:
            self._drop_namesakes(doc, matches, holder_keys)
        selected = self._select(doc, matches, norm_list)
        # Salience: how often each body (or the body it governs / is governed by) is named.
        named: dict[str, list[int]] = {}
        for (start, _end), items in selected:
            for label, target in items:
                if label in (NAME, FUZZY):
                    named.setdefault(target, []).append(start)
                elif label == GROUP:
                    for member in self.groups[target].members:
                        named.setdefault(member, []).append(start)
                elif label == HOLDER:
                    named.setdefault(target.split("|")[0], []).append(start)
                elif label == PERSON:
                    named.setdefault(target, []).append(start)
                elif label == COORDINATED:
                    for member in target.split("+"):
                        named.setdefault(member, []).append(start)
        for positions in named.values():
            positions.sort()
        excluded = {target for _key, items in selected for label, target in items if label == EXCLUDE}

        mentions: list[Span] = []
        hashes = self._label_hashes
        for (start, end), items in selected:
            for entity_id, method in self._resolve(items, doc, start, end, day, named, excluded, norm_list):
                mentions.append(Span(doc, start, end, label=hashes.get(entity_id) or entity_id,
                                     span_id=hashes.get(method) or method))
        doc.spans[MENTIONS_KEY] = mentions
        return doc

    def _drop_namesakes(self, doc: Doc, matches: dict[tuple[int, int], list[tuple[str, str]]],
                        holder_keys: set[tuple[int, int]]) -> None:
        """Drop the office holder matches that are someone else of the holder's surname: the surname
        right after another given name ("Owner Sarah Campion" is not John Campion), and a lone or
        titled surname ("Campion", "Mrs Campion") in an article that names such a namesake and not
        the holder in full; never in an article that names the holder's office or refers to it ("PCC
        Jon Campion"). A short form of the holder's first name is the holder ("Jonathon", "Jon").
        ``holder_keys``: the spans of ``matches`` holding a holder's name (the caller calls this only
        when there is one: most articles name no holder)."""
        holder_keys = [key for key in matches if key in holder_keys]   # in the order of the matches
        names = quote_extractor.given_names()
        # an article that names the office or refers to it ("PCC Jon Campion", "the commissioner") is
        # about the holder: a variant of the first name there is no namesake
        referred = {target for items in matches.values() for label, target in items if label in (NAME, GENERIC, FUZZY)}

        def namesake_before(index: int, first: str) -> bool:
            if index <= 0:
                return False
            word = doc[index - 1]
            return (word.is_alpha and word.is_title and word.lower_ in names
                    and not quote_extractor._same_first_name(word.lower_, {first}))

        namesakes: dict[str, bool] = {}
        full_names: dict[str, bool] = {}
        text = None
        lowers = None
        for key in holder_keys:
            start, end = key
            kept = []
            for label, target in matches[key]:
                if label == HOLDER:
                    holder = target.split("|", 1)[1]
                    first, surname = holder.split()[0].lower(), holder.split()[-1].lower()
                    if doc[start:end].text.lower() != holder.lower() and not any(
                            office.id in referred for office in self.holder_offices.get(holder, ())):
                        if namesake_before(start, first):
                            continue
                        if surname not in namesakes:
                            # the tokens written as the surname, found in the doc's LOWER array (no
                            # Token made for every word of the article)
                            if lowers is None:
                                lowers = doc.to_array(LOWER)
                            namesakes[surname] = any(
                                namesake_before(index, first)
                                for index in numpy.flatnonzero(lowers == doc.vocab.strings[surname]).tolist())
                        if namesakes[surname]:
                            if holder not in full_names:
                                text = text if text is not None else doc_text(doc).lower()
                                full_names[holder] = holder.lower() in text
                            if not full_names[holder]:
                                continue
                kept.append((label, target))
            if kept:
                matches[key] = kept
            else:
                del matches[key]

    def _select(self, doc: Doc, matches: dict[tuple[int, int], list[tuple[str, str]]], norms: list[int]):
        """Longest-first non-overlapping matches, in text order (``norms``: the doc's NORM hashes).

        A name of another body nested in a longer name survives ("PCC for West Mercia Police" also
        names West Mercia Police) if it ends the longer name or is followed by a possessive, unless
        an exclusion of that body covers it.
        """
        occupied = bytearray(len(doc))
        chosen = []
        for _negative_length, start, end in sorted([(start - end, start, end) for start, end in matches]):
            if 1 in occupied[start:end]:
                continue
            occupied[start:end] = b"\x01" * (end - start)
            chosen.append(((start, end), matches[(start, end)]))
        chosen.sort()
        if len(chosen) == len(matches):
            return chosen   # no match inside another: nothing nested to keep
        # The matches left out that lie inside a chosen one, by the chosen one they lie in (at most
        # one chosen match covers a position: the last one starting at or before it).
        chosen_starts = [start for (start, _end), _items in chosen]
        inside: dict[int, list[tuple[int, int]]] = {}
        for key in matches:
            outer_index = bisect.bisect_right(chosen_starts, key[0]) - 1
            if outer_index >= 0 and key[1] <= chosen[outer_index][0][1] and key != chosen[outer_index][0]:
                inside.setdefault(outer_index, []).append(key)
        nested = []
        possessive = self.possessive_hash
        for outer_index, inner_keys in inside.items():
            (start, end), items = chosen[outer_index]
            outer = {target for label, target in items if label == NAME or label == FUZZY}
            if not outer:
                continue
            exclusions = [(key, target) for key in inner_keys for label, target in matches[key] if label == EXCLUDE]
            for inner_start, inner_end in inner_keys:
                if inner_end != end and norms[inner_end] != possessive:
                    continue
                for label, target in matches[(inner_start, inner_end)]:
                    blocked = any(target == excluded and s2 <= inner_start and inner_end <= e2
                                  for (s2, e2), excluded in exclusions)
                    if label == NAME and target not in outer and not blocked:
                        nested.append(((inner_start, inner_end), [(label, target)]))
        if nested:
            chosen.extend(nested)
            chosen.sort()
        return chosen

    def _region_counts(self, doc: Doc) -> Counter:
        """How many region terms of each entity the article contains (computed once per doc)."""
        counts = doc.user_data.get(REGION_COUNTS_KEY)
        if counts is None:
            counts, elsewhere = Counter(), Counter()
            for match_id, _start, end in self.region_matcher(doc):
                (elsewhere if self._qualified_elsewhere(doc, end) else counts).update(
                    self.region_entities[doc.vocab.strings[match_id]])
            doc.user_data[REGION_COUNTS_KEY] = counts
            doc.user_data[REGION_ELSEWHERE_KEY] = elsewhere
        return counts

    def _places_elsewhere(self, doc: Doc) -> Counter:
        """How many region terms of each entity the article qualifies as another place's
        ("Newport, South Wales"): :meth:`_qualified_elsewhere`."""
        self._region_counts(doc)
        return doc.user_data[REGION_ELSEWHERE_KEY]

    def _qualified_elsewhere(self, doc: Doc, end: int) -> bool:
        """Whether the place ending before token ``end`` is qualified by a place elsewhere, which makes
        it that place's town: "Newport, South Wales", "Wellington in Somerset", "Newport on the Isle
        of Wight" (:func:`nlp.places.qualifies_elsewhere`: ``data/uk_places.txt`` less the
        watchlist's own places; a list of towns, a person, a street or a broad area after the comma
        qualifies nothing)."""
        if end >= len(doc):
            return False
        after = doc[end - 1].idx + len(doc[end - 1].text)
        return qualifies_elsewhere(doc_text(doc)[after:after + 80], self.watchlist)

    def _placed_elsewhere(self, doc: Doc) -> bool:
        """Whether the article sets its story in a place elsewhere that it qualifies ("a fire in
        Taunton, Somerset": :func:`nlp.places.placed_elsewhere`), computed once per doc."""
        placed = doc.user_data.get(PLACED_ELSEWHERE_KEY)
        if placed is None:
            placed = doc.user_data[PLACED_ELSEWHERE_KEY] = placed_elsewhere(doc_text(doc), self.watchlist)
        return placed

    @staticmethod
    def _about_fire(doc: Doc) -> bool:
        """Whether the article is about fire cover (its stations, engines, firefighters): then
        "the service" in it, with its area named, is the area's fire service."""
        about = doc.user_data.get(ABOUT_FIRE_KEY)
        if about is None:
            lowered = doc_text(doc).lower()
            about = sum(lowered.count(word) for word in FIRE_CONTEXT_WORDS) >= 2
            doc.user_data[ABOUT_FIRE_KEY] = about
        return about

    def _linked(self, entity_id: str) -> list[str]:
        """The body ``entity_id`` governs: naming a fire service makes "the fire authority" its authority."""
        return self.linked[entity_id]

    def _resolve(self, items, doc, start, end, day, named, excluded, norms: list[int]):
        """(entity_id, method) pairs for the matches sharing one span (``norms``: the doc's NORM hashes)."""
        if len(items) == 1:
            label, target = items[0]
            if label == NAME:
                return [(target, "matched")]   # the common case: one body's name
            if label == GENERIC:   # the next most common: one generic reference ("the service")
                return self._resolve_generic_reference([target], doc, start, end, named, excluded, norms)
        # An exclusion blocks its own body only: "West Mercia Police and Crime Commissioner" is
        # excluded for the force and still names the commissioner.
        blocked = {target for label, target in items if label == EXCLUDE}
        if blocked:
            items = [(label, target) for label, target in items
                     if label != EXCLUDE and label in (NAME, FUZZY) and target not in blocked]
            if not items:
                return []
        resolved: dict[str, str] = {}
        for label, target in items:
            if label == NAME:
                resolved[target] = "matched"
            elif label == BARE_AREA:   # named, but too weak to settle what "the service" means
                resolved.setdefault(target, "matched")
            elif label == FUZZY:
                resolved.setdefault(target, "fuzzy")
            elif label == GROUP:
                for member in self.groups[target].members:
                    resolved[member] = "matched"
            elif label == HOLDER:
                resolved[self._office_of(target, day)] = "matched"
            elif label == COORDINATED:
                for member in target.split("+"):
                    resolved.setdefault(member, "matched")
        if resolved:
            return list(resolved.items())
        if all(label == PERSON for label, _ in items):
            return []   # a body's person settles references; the person is no mention of the body
        generic_targets = [target for label, target in items if label == GENERIC]
        if generic_targets:
            return self._resolve_generic_reference(generic_targets, doc, start, end, named, excluded, norms)
        for label, target in items:
            members = self.groups[target].members if label in (GROUP_GENERIC, GROUP_AREA) else ()
            if any(member in excluded for member in members):
                continue
            if label == GROUP_GENERIC and self._opens_longer_name(doc, start, end):
                continue
            members_named = any(member in named or any(linked in named for linked in self._linked(member))
                                for member in members)
            if label == GROUP_GENERIC and self.groups[target].generic_needs_all:
                members_named = all(member in named or any(linked in named for linked in self._linked(member))
                                    for member in members)
            if (label == GROUP_GENERIC and members_named) or (
                    label == GROUP_AREA and named):
                return [(member, "inferred") for member in members]
        return []

    def _resolve_generic_reference(self, targets, doc, start, end, named, excluded, norms: list[int]):
        """[(entity_id, "inferred")] for a generic reference ("the service"), none after a word
        that makes it no local body ("national fire service matters", "every fire service"),
        inside a longer proper name ("the Fire Service College") or in another body's name
        ("Essex Fire Service", "the PCC for Essex")."""
        if start > 0 and norms[start - 1] in self.not_local_hashes:
            return []
        if self._opens_longer_name(doc, start, end) or self._names_other_body(doc, start, end, targets):
            return []
        choice = self._resolve_generic(targets, doc, start, end, named, excluded)
        return [(choice, "inferred")] if choice else []

    @staticmethod
    def _opens_longer_name(doc: Doc, start: int, end: int) -> bool:
        """Whether a capitalised generic reference is the start of a longer proper name: capitalised
        words follow it, the last of them (within ``LONGER_NAME_WORDS_AFTER``) the head noun of
        a college, medal, union, committee or office (``LONGER_NAME_HEADS``)."""
        if end >= len(doc) or not doc[end].is_title:
            return False   # the common case: the reference ends the phrase
        if not all(token.is_title or token.is_upper or not token.is_alpha or token.is_stop
                   for token in doc[start:end]):
            return False   # "the fire service College ..." is no proper name
        for token in doc[end:min(len(doc), end + LONGER_NAME_WORDS_AFTER)]:
            if not token.is_title or token.is_sent_start:
                return False
            if token.lower_ in LONGER_NAME_HEADS:
                return True
        return False

    def _watched_run(self, doc: Doc, index: int, step: int) -> bool:
        """Whether the capitalised words from ``index`` on (backwards with ``step`` -1, forwards with
        1; "and", "&", "of" and the hyphens of "Ross-on-Wye" bridge them, a sentence's start ends
        them) hold a watched place or person ("Hereford and Worcester Combined", "Campion")."""
        words = self.watched_name_words
        for _ in range(OTHER_NAME_RUN):
            if index < 0 or index >= len(doc):
                return False
            token = doc[index]
            if token.is_alpha and (token.is_title or token.is_upper):
                if token.norm_ in words:
                    return True
            elif token.lower_ not in ("and", "&", "of", "-", "on", "upon"):
                return False
            if token.is_sent_start or (step > 0 and index + 1 < len(doc) and doc[index + 1].is_sent_start):
                return False
            index += step
        return False

    @staticmethod
    def _name_word(token) -> bool:
        """A capitalised word that can be part of a proper name (not "The", "Former", "Monday")."""
        return (token.is_alpha and (token.is_title or token.is_upper) and not token.is_stop
                and token.lower_ not in NOT_NAME_MODIFIERS)

    def _names_other_body(self, doc: Doc, start: int, end: int, targets=()) -> bool:
        """Whether the generic reference ``doc[start:end]`` ends or opens another body's proper name:
        a capitalised name that is no watched place before it ("Cleveland Police and Crime
        Commissioner", "Essex Fire Service", "the Metropolitan Police Commissioner", "New South
        Wales Rural Fire Service commissioner": the reference's own words are walked over), a
        possessive proper noun ("Hong Kong's new police commissioner"), or "for"/"of" and such a
        name after it ("the PCC for Essex", "Commissioner of Police"); or a capitalised title before
        a person none of whose names the watchlist knows, for ``targets`` whose holders or people it
        lists ("Police and Crime Commissioner Steve Turner"; not after "Deputy" or "Assistant": a
        deputy is no holder). A reference that opens its noun
        phrase ("the fire service") has nothing of the name before it."""
        if end + 1 < len(doc) and doc[end].lower_ in OTHER_NAME_PREPOSITIONS and not doc[end + 1].is_sent_start:
            after = doc[end + 1]
            if self._name_word(after) and not self._watched_run(doc, end + 1, 1):
                return True
        if targets and end + 1 < len(doc) and not doc[end - 1].is_lower and any(
                target in self.personal_targets for target in targets) and not self._deputys_title(doc, start) and (
                self._stranger_after(doc, end)):
            return True   # (the cheap test of the targets first: most bodies list no people)
        first = doc[start]
        if start == 0 or first.is_sent_start or first.norm_ in NON_CONTENT_WORDS:
            return False
        # The reference's own words written before it: "Police Fire and Crime" + "Commissioner".
        index = start - 1
        while index >= 0 and not doc[index + 1].is_sent_start and (doc[index].lower_ in ("and", "&") or (
                doc[index].norm_ in self.reference_words and not doc[index].is_lower)):
            index -= 1
        if index < 0 or doc[index + 1].is_sent_start:
            return False
        # "Hong Kong's new police commissioner": lower-case words between a possessive and the reference.
        adjectives = 0
        while (index > 0 and adjectives < OTHER_NAME_ADJECTIVES and doc[index].is_alpha and doc[index].is_lower
               and not doc[index].is_stop and not doc[index].is_sent_start):
            index -= 1
            adjectives += 1
        token = doc[index]
        if token.norm_ == "'s" and index > 0:
            owner = doc[index - 1]
            return self._name_word(owner) and not self._watched_run(doc, index - 1, -1)
        if adjectives or (token.is_sent_start and first.is_lower):
            return False   # "Contentious fire service cuts deferred": a headline's first word, capitalised as such
        return (self._name_word(token) and not self._watched_run(doc, index, -1)
                and not self._in_title_case(doc, index))

    @staticmethod
    def _in_title_case(doc: Doc, index: int) -> bool:
        """Whether the sentence around ``index`` capitalises every word of four letters or more, as
        a headline in title case does ("Home Office Backs Commissioner's Plan"): a capitalised word
        in it says nothing of a name."""
        sentence = doc[index].sent if doc.has_annotation("SENT_START") else doc[:]
        words = [token for token in sentence if token.is_alpha and len(token) >= 4]
        return len(words) >= 4 and all(token.is_title or token.is_upper for token in words)

    def _deputys_title(self, doc: Doc, start: int) -> bool:
        """Whether the reference starting at ``start`` (with its own words written before it, "Police
        Fire and Crime") is a deputy's or an assistant's title ("Deputy Police and Crime
        Commissioner"): whoever follows is no holder, known to the watchlist or not."""
        index = start - 1
        while index >= 0 and (doc[index].lower_ in ("and", "&", ",") or doc[index].norm_ in self.reference_words):
            index -= 1
        return index >= 0 and doc[index].lower_ in DEPUTY_WORDS

    def _stranger_after(self, doc: Doc, index: int) -> bool:
        """Whether a person the watchlist does not know is named from ``index`` on: a given name
        (``nlp.quotes.given_names``, after "Sir", "Dame", "Dr" and the like) and a capitalised
        surname, in one sentence, neither of them a watched person's or place's word."""
        while index < len(doc) and doc[index].lower_.rstrip(".") in PERSON_TITLES:
            index += 1
        if index + 1 >= len(doc) or doc[index].is_sent_start or doc[index + 1].is_sent_start:
            return False
        first, last = doc[index], doc[index + 1]
        if not (first.is_title and last.is_title and first.is_alpha and last.is_alpha):
            return False
        if first.lower_ not in quote_extractor.given_names():
            return False
        return first.norm_ not in self.watched_name_words and last.norm_ not in self.watched_name_words

    def _other_body_categories(self, doc: Doc) -> set[str]:
        """The categories of which the article names a body that is not watched ("Kent Fire and
        Rescue Service", "the Cleveland Police and Crime Commissioner"): generic references and the
        categories' heads written as part of another body's name (computed once per doc, only when
        the outlet's region is the last resort)."""
        categories = doc.user_data.get(OTHER_BODIES_KEY)
        if categories is None:
            categories = set()
            for start, end, label, target in doc._.get(MATCHES_EXTENSION) or ():
                if label == GENERIC and self.category_of[target] not in categories and not self._opens_longer_name(
                        doc, start, end) and self._names_other_body(doc, start, end, (target,)):
                    categories.add(self.category_of[target])
            for match_id, start, end in self.head_matcher(doc):
                category = doc.vocab.strings[match_id]
                if category not in categories and (doc[start].is_title or doc[start].is_upper) and (
                        not self._opens_longer_name(doc, start, end)) and self._names_other_body(doc, start, end):
                    categories.add(category)
            doc.user_data[OTHER_BODIES_KEY] = categories
        return categories

    def _field_named(self, doc: Doc, entity_id: str, word: str) -> bool:
        """Whether the article uses a word of the body's field other than ``word`` (the reference's
        one word) in any of its forms ("police", "policing", "crimes", "criminals":
        ``field_word_pattern``) for "the Commissioner" to be the Police and Crime Commissioner; or a
        place of a body it governs or is governed by ("West Mercia", the force's area)."""
        field = self.field_words[entity_id] - {word}
        if not field:
            return True
        regions = self._region_counts(doc)
        if any(regions[other] for other in self.linked[entity_id] + self.governed_by[entity_id]):
            return True
        key = (entity_id, word)
        known = doc.user_data.setdefault(FIELD_WORDS_KEY, {})
        if key not in known:
            known[key] = re.search(r"\b(?:" + "|".join(map(field_word_pattern, sorted(field))) + r")",
                                   doc_text(doc), re.IGNORECASE) is not None
        return known[key]

    @staticmethod
    def _head_word(doc: Doc, start: int, end: int) -> str | None:
        """The norm of a reference's head: its last content word before a preposition ("service"
        in "the fire service in the county"); None for an abbreviation ("the PCC")."""
        head = None
        for index in range(start, end):   # (token by token: no Span made for the walk)
            token = doc[index]
            if token.lower_ in AREA_PREPOSITIONS and head is not None:
                break
            if token.is_alpha and token.norm_ not in NON_CONTENT_WORDS:
                head = token
        if head is None or (head.is_upper and len(head) <= 4):
            return None
        return head.norm_

    def _office_of(self, target: str, day: dt.date | None) -> str:
        """The office a holder mention means: the one held on ``day``, else the one ever held."""
        office = self._offices.get((target, day))
        if office is None:
            office, holder_name = target.split("|", 1)
            for entity in self.holder_offices.get(holder_name, ()):
                if any(holder.name == holder_name for holder in entity.holders_on(day)):
                    office = entity.id
                    break
            if len(self._offices) > MAX_CACHED_WORDS:
                self._offices.clear()
            self._offices[(target, day)] = office
        return office

    def _resolve_generic(self, candidates, doc, start, end, named, excluded) -> str | None:
        """The body a generic reference means.

        1. the most often named candidate, counting names of the body it governs ("the fire
           authority" in an article naming HWFRS), the nearest preceding one on ties; for a
           nickname ("the police chief": its head is none of the body's own words) only names of
           the body itself count, and the steps below are not tried;
        2. else the candidate whose governing body is named ("the service" in an article naming
           only its fire authority), but not in articles about an office (the PCC), where "the fire
           service" usually means the institution in general;
        3. else, for entities with ``infer_from_region`` and a specific enough reference ("the fire
           authority", not "the authority"; a one-word one, "the Commissioner", only in an article
           using a word of the body's field, "police", "policing", "crime"), the candidate whose area the
           article names most; with no area named, the outlet's region, unless the article names
           another body of the category ("Kent Fire and Rescue Service").
        """
        def salience(entity_id: str, related: list[str]) -> tuple[int, int]:
            count, nearest = 0, None
            for body in [entity_id, *related]:
                positions = named.get(body, [])   # sorted: built in text order
                count += len(positions)
                before = bisect.bisect_right(positions, position)
                if before:
                    nearest = max(nearest or 0, positions[before - 1])
            return (count, -(position - nearest) if nearest is not None else -10**9)

        position = start
        linked = self.linked
        # A reference whose head is no word the body is called by (its name, aliases and its
        # category's heads) is a newsroom's nickname ("the police chief" for the commissioner):
        # only a body the article names itself settles it, never a body it governs or a place.
        head = self._head_word(doc, start, end)
        nicknamed = {entity_id for entity_id in candidates
                     if head is not None and head not in self.naming_words[entity_id]
                     and head.removesuffix("s") not in self.naming_words[entity_id]}
        scored = max((salience(entity_id, [] if entity_id in nicknamed else linked[entity_id]), entity_id)
                     for entity_id in candidates)
        if scored[0][0] > 0:
            return scored[1]
        candidates = [entity_id for entity_id in candidates if entity_id not in nicknamed]
        if not candidates:
            return None
        governed_by = self.governed_by
        scored = max((salience(entity_id, governed_by[entity_id]), entity_id) for entity_id in candidates)
        if scored[0][0] > 0:
            return scored[1]
        content = [token for token in doc[start:end] if token.norm_ not in NON_CONTENT_WORDS]
        if len(content) < 2 and not any(token.is_upper or token.is_title or token.norm_ in FIRE_WORDS
                                        for token in content) and not self._about_fire(doc):
            return None
        regional = [entity_id for entity_id in candidates
                    if self.entities[entity_id].infer_from_region and entity_id not in excluded]
        if len(content) == 1 and not (content[0].is_upper and len(content[0]) <= 4):   # not "PCC", "FRA"
            regional = [entity_id for entity_id in regional if self._field_named(doc, entity_id, content[0].norm_)]
        if not regional:
            return None
        regions = self._region_counts(doc)
        by_region = sorted(((regions[entity_id], entity_id) for entity_id in regional), reverse=True)
        if by_region and by_region[0][0] > 0 and (len(by_region) == 1 or by_region[0][0] > by_region[1][0]):
            return by_region[0][1]
        if (by_region and by_region[0][0] == 0 and not any(self._places_elsewhere(doc)[entity_id] for entity_id in regional)
                and not self._placed_elsewhere(doc)):
            # No place in the text: the outlet's own region, when it is one body's area and the
            # article names no other body of its category ("Kent Fire and Rescue Service"), no
            # town of the area as another place's ("Newport, South Wales") and sets its story in
            # no place elsewhere it qualifies ("a fire in Taunton, Somerset", rules-13).
            source_region = str(doc.user_data.get(SOURCE_REGION_KEY) or "").strip().lower()
            local = [entity_id for entity_id in regional if entity_id in self.region_entities.get(source_region, ())]
            if len(local) == 1 and self.category_of[local[0]] not in self._other_body_categories(doc):
                return local[0]
        return None


@Language.factory("cuttings_reference_resolver", assigns=["doc.spans"],
                  requires=[f"doc._.{MATCHES_EXTENSION}"], default_config={})
def make_reference_resolver(nlp: Language, name: str) -> ReferenceResolver:
    """Resolved mentions of watched bodies; its data (the watchlist) is set by ``initialize``
    and saved with the pipeline by ``to_disk``, so a saved pipeline needs no watchlist file."""
    return ReferenceResolver(nlp, name)


def build_nlp(watchlist: Watchlist) -> Language:
    """A blank English pipeline that finds and resolves the watchlist's mentions."""
    nlp = spacy.blank("en")
    nlp.tokenizer.max_cache_size = TOKENIZER_CACHE_SIZE
    nlp.add_pipe("cuttings_sentencizer")
    nlp.add_pipe("cuttings_watchlist_ruler")
    nlp.add_pipe("cuttings_reference_resolver")
    for name in ("cuttings_watchlist_ruler", "cuttings_reference_resolver"):
        nlp.get_pipe(name).initialize(nlp=nlp, watchlist=watchlist)
    return nlp


class Analyser:
    """Mentions of watched bodies and quotes of their speakers, for one article at a time."""

    def __init__(self, watchlist: Watchlist | None = None):
        self.watchlist = watchlist if watchlist is not None else load_watchlist()
        self.nlp = build_nlp(self.watchlist)
        self.version = f"{self.watchlist.version}-{quote_extractor.QUOTES_VERSION}"

    def _make_doc(self, text: str, published_at: str | None, source_region: str | None = None) -> Doc:
        normalised = normalise_text(text or "")
        doc = self.nlp.make_doc(normalised)
        doc.user_data[PUBLISHED_AT_KEY] = published_at
        doc.user_data[SOURCE_REGION_KEY] = source_region
        doc.user_data[TEXT_KEY] = normalised
        return doc

    def analyse(self, text: str, published_at: str | None = None, source_region: str | None = None) -> dict:
        """``{"mentions": [...], "quotes": [...]}`` for ``text`` (title + blank line + body);
        ``source_region`` is the outlet's region (``sources.toml``), used when nothing else in the
        article settles which body "the fire service" is."""
        doc = self._make_doc(text, published_at, source_region)
        for _name, component in self.nlp.pipeline:
            doc = component(doc)
        return self._result(text or "", doc)

    def pipe(self, items: Iterable[tuple[str, str | None]], batch_size: int = 64) -> Iterator[dict]:
        """``analyse`` over ``(text, published_at)`` pairs or ``(text, published_at, source_region)``
        triples, streamed through ``nlp.pipe``."""
        texts: list[str] = []

        def docs():
            for item in items:
                texts.append(item[0] or "")
                yield self._make_doc(*item)

        for doc in self.nlp.pipe(docs(), batch_size=batch_size):
            yield self._result(texts.pop(0), doc)

    def _result(self, text: str, doc: Doc) -> dict:
        mention_spans = doc.spans.get(MENTIONS_KEY, [])
        mentions = []
        breaks = None   # the text's paragraph breaks, for the mentions' paragraphs and the quotations
        if len(mention_spans):
            sentence_starts = doc.user_data.get(SENTENCE_STARTS_KEY)   # set by the sentencizer
            if sentence_starts is None:
                sentence_starts = numpy.flatnonzero(doc.to_array(SENT_START) == 1).tolist()
            if not sentence_starts or sentence_starts[0] != 0:
                sentence_starts = [0, *sentence_starts]
            # the character offsets of the few tokens that start or end a mention's sentence
            # (no IDX array of every token)
            token_offsets: dict[int, int] = {len(doc): len(text)}

            def token_offset(index: int) -> int:
                if index not in token_offsets:
                    token_offsets[index] = doc[index].idx
                return token_offsets[index]

            breaks = quote_extractor.paragraph_breaks(text)
            paragraphs = [0] + [end for _start, end in breaks]
            for span in mention_spans:
                start = span.start
                start_char, end_char = span.start_char, span.end_char   # set from the tokens by Span()
                sentence_index = bisect.bisect_right(sentence_starts, start) - 1
                sentence_end = (sentence_starts[sentence_index + 1] if sentence_index + 1 < len(sentence_starts)
                                else len(doc))
                mentions.append({
                    "entity_id": span.label_,
                    "surface": text[start_char:end_char],
                    "start_char": start_char,
                    "end_char": end_char,
                    "sentence": text[token_offset(sentence_starts[sentence_index]):token_offset(sentence_end)].strip(),
                    "sentence_index": sentence_index,
                    "paragraph": bisect.bisect_right(paragraphs, start_char) - 1,
                    "method": span.id_,
                })
        quotes = quote_extractor.extract_quotes(text, mentions, self.watchlist, doc.user_data.get(PUBLISHED_AT_KEY),
                                                breaks)
        return {"mentions": mentions, "quotes": quotes}

