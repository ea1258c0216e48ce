"""Feature extraction for the classifiers.

Every model consumes *rows*, plain dicts built from a document
``{"title", "body", "mentions": [{"entity_id", "sentence"}], "quotes": [{"speaker", "entity_id", "text"}]}``:

- ``article_row``: the whole article, its title and its lead (headline plus the
  first ``LEAD_PARAGRAPHS`` paragraphs) kept apart so they can be weighted, plus
  domain counts (who is mentioned, who is quoted, who is in the headline);
- ``tone_row``: one (article, entity) pair: the sentences that mention the
  entity and the quotes of its speakers (optionally their neighbouring sentences,
  and the entity's names masked to a placeholder so a model learns the evaluative
  words rather than which body it is), the article's paragraphs, plus the entity
  id and counts.

Mentions and quotes are always the analyser's (the spaCy stage's): stored ones at prediction,
and for training and evaluation ``nlp.classify.record_document`` (the same analyser run over the
labelled records), so the models learn from what they read when they serve.
The sklearn feature union over a row is built by ``text_features``; the feature
set (``FEATURE_SETS``) picks TF-IDF, sentence embeddings (``nlp.embeddings``) or both.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections import Counter
from contextlib import contextmanager
from itertools import repeat

import numpy as np
import scipy.sparse as sp

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

from nlp.embeddings import EmbeddingFeatures
from nlp.feature_sets import DEFAULT_FEATURES, FEATURE_SETS  # noqa: F401 - re-exported

TARGET_PLACEHOLDER = "TARGETBODY"
OTHER_PLACEHOLDER = "OTHERBODY"
# Body paragraphs that make an article's lead (with the headline): where a news
# story states its angle, hence its stance (docs/classifiers.md).
LEAD_PARAGRAPHS = 2

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019]?\s+(?=[\"'\u201c\u2018(]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split text into sentences: paragraphs (blank lines) then sentence-final punctuation."""
    sentences = []
    for paragraph in re.split(r"\n\s*\n|\n", text):
        paragraph = paragraph.strip()
        if paragraph:
            sentences.extend(s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip())
    return sentences


# Tone cues from the label guide's conventions (LABELS.md, tone): what makes a portrayal negative
# (cuts, closures, reduced cover, slower response, failures, misconduct, critical inspections, disputes
# with staff) or positive (rescues, lives saved, praise, good inspections, awards).
TONE_CUES = {
    "cuts": r"\b(?:cuts?|cutting|savings? (?:plan|target)s?|reduc(?:e|ed|es|ing|tion|tions)|shortfall|deficit|"
            r"overspend|budget gap|axed?|scrap(?:ped|ping)?|downgrad(?:e|ed|ing)|fewer|lose|losing|loss of)\b",
    "closure": r"\b(?:clos(?:e|ed|es|ing|ure|ures)|shut(?:ting|s)?|merg(?:e|er|ing)|mothball(?:ed)?)\b",
    "cover": r"\b(?:response times?|slower|delay(?:s|ed)?|unavailab(?:le|ility)|off the run|cover(?:age)? "
             r"(?:gaps?|shortfall)|crewing (?:problems?|shortages?)|shortages?|understaff(?:ed|ing))\b",
    "failure": r"\b(?:fail(?:ed|s|ing|ure|ures)?|mistakes?|errors?|blunders?|shortcomings|weakness(?:es)?|"
               r"concerns?|criticis(?:ed|m|es)|critical|poor|inadequate|requir(?:es?|ing) improvement|"
               r"lessons (?:to be )?learn(?:ed|t)|apologi[sz](?:e|ed|es))\b",
    "misconduct": r"\b(?:misconduct|bullying|harassment|discriminat(?:ion|ory)|sexis[tm]|racis[tm]|inquiry|"
                  r"investigat(?:ion|ed|ing)|suspend(?:ed|ing)?|suspension|dismiss(?:ed|al)|sacked|tribunal|"
                  r"grievances?|toxic|allegations?|disciplinary)\b",
    "dispute": r"\b(?:strikes?|striking|industrial action|walk-?out|dispute|ballot(?:ed)?|union anger|row)\b",
    "rescue": r"\b(?:rescu(?:e|ed|es|ing)|saved|life-saving|lifesaving|pulled (?:free|from|out)|freed|"
              r"brought to safety|led to safety|revived|resuscitat(?:e|ed|ion)|survived)\b",
    "praise": r"\b(?:prais(?:e|ed|es|ing)|commend(?:ed|ation)|award(?:s|ed)?|outstanding|good|excellent|"
              r"(?<!requires )(?<!require )(?<!requiring )improve(?:d|ment|ments)|proud|brave(?:ry)?|heroic|heroes|thank(?:ed|s)?|grateful|"
              r"recogni(?:s|z)ed|success(?:ful)?|celebrat(?:e|ed|es|ing)|medal|honour(?:ed)?|welcomed?)\b",
    "grade": r"\b(?:HMICFRS|inspect(?:ion|ors?|ed)|rated|rating|graded)\b",
}


def literal_prefixes(pattern: str) -> set[tuple[str, bool]] | None:
    """Literal strings one of which every match of ``pattern`` starts with (zero-width assertions
    skipped), each with whether it starts a word (a word boundary before a word character), or None
    when a match may start with anything (no such strings)."""
    from re import _constants as constants, _parser as parser

    def walk(items, bounded: bool) -> set[tuple[str, bool]]:
        prefix = ""
        for op, value in items:
            if op is constants.AT:
                if not prefix and value is constants.AT_BOUNDARY:
                    bounded = True
                continue
            if op in (constants.ASSERT, constants.ASSERT_NOT):
                continue   # a lookahead or lookbehind consumes nothing ("(?<!requires )improvement")
            if op is constants.LITERAL:
                prefix += chr(value)
                continue
            if op in (constants.SUBPATTERN, constants.BRANCH):
                branches = [value[3]] if op is constants.SUBPATTERN else value[1]
                rests = {found for branch in branches for found in walk(branch, bounded and not prefix)}
                if not prefix:
                    return rests
                return {(prefix + rest, bounded) for rest, _ in rests}
            break
        return {(prefix, bounded)}

    found = walk(parser.parse(pattern), False)
    if any(not prefix for prefix, _ in found):
        return None
    words = {(prefix, bounded and bool(re.match(r"\w", prefix[0]))) for prefix, bounded in found}
    # A prefix holding a shorter one is implied by it (both kept when only the longer starts a word).
    return {(p, w) for p, w in words if not any(q != p and q in p and (v or not w) for q, v in words)}


def matches_newline(pattern: str) -> bool:
    """Whether a match of ``pattern`` might contain a line break: False only when it is made of
    literals, boundaries, groups, alternations, repeats and plain character sets, none holding one."""
    from re import _constants as constants, _parser as parser

    def walk(items) -> bool:
        for op, value in items:
            if op is constants.LITERAL:
                if chr(value) in "\n\r":
                    return True
            elif op is constants.AT:
                continue
            elif op is constants.SUBPATTERN:
                if walk(value[3]):
                    return True
            elif op is constants.BRANCH:
                if any(walk(branch) for branch in value[1]):
                    return True
            elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT):
                if walk(value[2]):
                    return True
            elif op is constants.IN:
                for set_op, set_value in value:
                    if set_op is constants.LITERAL and chr(set_value) not in "\n\r":
                        continue
                    if set_op is constants.RANGE and not set_value[0] <= ord("\n") <= set_value[1] \
                            and not set_value[0] <= ord("\r") <= set_value[1]:
                        continue
                    return True
            else:
                return True
        return False

    return walk(parser.parse(pattern))


class CuePatterns:
    """Case-insensitive cue patterns, counted fast with the same result as ``len(findall)`` with
    ``re.IGNORECASE`` on the text as it is:

    - on the lower-cased text with the lower-cased patterns (the same matches), except for a text
      holding a character that case-insensitive matching folds onto an ASCII letter although
      ``str.lower`` does not turn it into that letter alone (dotted and dotless I, long s, the Kelvin
      sign), which is matched with ``re.IGNORECASE`` as it is;
    - tried only where the text holds one of the literal strings every match starts with
      (``literal_prefixes``; those that start a word looked up in an index of where the text's words
      start, the others found by ``str.find``), in order, each match resuming after the last one as
      ``findall`` does, rather than at every position of the text.
    """

    _SPECIAL = re.compile("[\u0130\u0131\u017f\u212a]")
    _WORD = re.compile(r"\w+")
    _KEY = 3  # leading characters of a word that pick the prefixes to look for

    def __init__(self, patterns: dict[str, str]):
        for name, pattern in patterns.items():
            # Lower-casing must not change what a pattern means: no upper-case escape (\B, \W, \S, \D...).
            if re.search(r"\\[A-Z]", pattern):
                raise ValueError(f"cue pattern {name!r}: upper-case escapes cannot be lower-cased")
        self.names = list(patterns)
        self.folded = [re.compile(pattern.lower()) for pattern in patterns.values()]
        self.ignorecase = [re.compile(pattern, re.IGNORECASE) for pattern in patterns.values()]
        # The literal prefixes that start a word, by the first characters of that word (looked for
        # only when a word of the text starts with those), and the others (always looked for), with
        # their pattern's column; the columns of patterns without prefixes (tried everywhere).
        self.indexed: dict[str, list[tuple[int, str]]] = {}
        self.elsewhere: list[tuple[int, str]] = []
        self.everywhere: set[int] = set()
        for column, pattern in enumerate(patterns.values()):
            found = literal_prefixes(pattern.lower())
            if found is None:
                self.everywhere.add(column)
                continue
            for prefix, starts_word in sorted(found):
                if starts_word:
                    word = self._WORD.match(prefix).group()
                    self.indexed.setdefault(word[:self._KEY], []).append((column, prefix))
                else:
                    self.elsewhere.append((column, prefix))
        # No match spans a line break: the lines of a text joined by line breaks can be matched in one pass.
        self.line_bound = not any(matches_newline(pattern.lower()) for pattern in patterns.values())

    def match_starts(self, text: str) -> list[list[int]]:
        """Per pattern, in ``names`` order, where its non-overlapping matches in ``text`` start
        (those of ``finditer`` with ``re.IGNORECASE``)."""
        if self._SPECIAL.search(text):
            return [[match.start() for match in pattern.finditer(text)] for pattern in self.ignorecase]
        text = text.lower()
        candidates: list[set[int]] = [set() for _ in self.names]
        # The first characters of the text's words pick the prefixes to look for.
        keys = {word[:self._KEY] for word in self._WORD.findall(text)}
        wanted = [found for key in keys for found in self.indexed.get(key, ())]
        for column, prefix in (*wanted, *self.elsewhere):
            position = text.find(prefix)
            while position >= 0:
                candidates[column].add(position)
                position = text.find(prefix, position + 1)
        result = []
        for column, pattern in enumerate(self.folded):
            if column in self.everywhere:
                result.append([match.start() for match in pattern.finditer(text)])
                continue
            starts, resume = [], 0
            for position in sorted(candidates[column]):
                if position >= resume and (match := pattern.match(text, position)):
                    starts.append(position)
                    # A match is never empty (every match starts with a non-empty prefix).
                    resume = match.end()
            result.append(starts)
        return result

    def counts(self, text: str) -> list[int]:
        """Non-overlapping matches of each pattern in ``text`` (``len(findall)``), in ``names`` order."""
        return [len(starts) for starts in self.match_starts(text)]

    def counts_per_line(self, lines: list[str]) -> list[list[int]]:
        """``counts`` of each line (lines holding no line break), in one pass over the lines joined
        when no match can span a line break (``line_bound``); the same counts."""
        if not self.line_bound or any("\n" in line or "\r" in line for line in lines):
            return [self.counts(line) for line in lines]
        line_starts, offset = [], 0
        for line in lines:
            line_starts.append(offset)
            offset += len(line) + 1
        result = [[0] * len(self.names) for _ in lines]
        for column, starts in enumerate(self.match_starts("\n".join(lines))):
            for start in starts:
                result[bisect.bisect_right(line_starts, start) - 1][column] += 1
        return result


_TONE_CUE_PATTERNS = CuePatterns(TONE_CUES)


def tone_cues(texts: list[str], prefix: str, patterns: CuePatterns | None = None) -> dict[str, float]:
    """Log counts of each tone cue in ``texts``, keyed ``<prefix>:<cue>``. ``patterns``: a team's own
    (``team_cue_patterns`` of its tone task's ``cues``, one cue per label), else the shipped ``TONE_CUES``."""
    patterns = patterns or _TONE_CUE_PATTERNS
    counts = {}
    for name, found in zip(patterns.names, patterns.counts("\n".join(texts))):
        if found:
            counts[f"{prefix}:{name}"] = math.log1p(found)
    return counts


# Topic evidence: the label guide's concept words per topic (LABELS.md, topics). A topic is tagged when
# at least a paragraph is about it (conventions), so the features count paragraphs, not words.
TOPIC_CUES = {
    "governance": r"\b(?:governance|govern(?:s|ed|ing)?|take ?overs?|taking over|take control|in charge of|"
                  r"run(?:ning)? (?:the |their |its )?fire|fire (?:and rescue )?authorit(?:y|ies)|commissioners?|"
                  r"PCCs?|PFCCs?|oversight|accountab(?:le|ility)|boards?|business case|combined authorit(?:y|ies)|"
                  r"scrutiny|mayor)\b",
    "collaboration": r"\b(?:alliance|collaborat(?:e|ion|ive|ing)|joint(?:ly)?|shar(?:e|ed|ing)|partnership|"
                     r"together|merg(?:e|er|ed)|fire control|blue light|co-locat(?:e|ed|ion)|integrat(?:e|ed|ion))\b",
    "finance": r"(?:£|\b(?:budgets?|precept|council tax|savings?|funding|funded|costs?|costing|spend(?:ing)?|"
               r"deficit|reserves|grant|finances?|financial|money|pay rise|overspend|million|afford))\b",
    "legal": r"\b(?:court|judicial review|judge|appeal(?:s|ed)?|tribunal|lawyers?|legal(?:ly)?|solicitors?|"
             r"prosecut(?:e|ed|ion)|sentenced|guilty|hearing|magistrates|crown court|lawsuit|injunction)\b",
    "incident": r"\b(?:blaze|fire(?:s)? (?:broke|started|at|in)|crews? (?:were )?(?:called|sent|attended)|"
                r"firefighters (?:were )?(?:called|tackled|attended|rescued)|crash|collision|flood(?:ing|s)?|"
                r"rescued?|smoke|flames|burning|casualt(?:y|ies)|injured|appliances|call-?outs?|emergency)\b",
    "prevention": r"\b(?:smoke alarms?|safety (?:advice|campaign|checks?|visits?|week|message)|home fire safety|"
                  r"prevention|prevent|campaign|warn(?:s|ed|ing)? (?:residents|people|the public)|urg(?:e|ed|es) "
                  r"(?:residents|people|the public)|tips|awareness|enforcement|fire safety|educat(?:e|ion))\b",
    "workforce": r"\b(?:staff(?:ing)?|firefighters|recruit(?:s|ed|ing|ment)?|pay|strikes?|union|FBU|culture|"
                 r"misconduct|bullying|appoint(?:ed|ment)|chief fire officer|retir(?:e|ed|es|ing|ement)|"
                 r"jobs?|posts?|employees|workforce|on-call|retained|crew(?:ing)?|training|morale|sacked)\b",
    "inspection": r"\b(?:HMICFRS|inspect(?:ion|ions|orate|ors?|ed)|rated|rating|requires improvement|"
                  r"inadequate|outstanding|graded|report card|Her Majesty's Inspectorate|His Majesty's Inspectorate)\b",
}
_TOPIC_CUE_PATTERNS = CuePatterns(TOPIC_CUES)


def phrases_pattern(phrases) -> str:
    """A cue pattern from a team's words and phrases (a label scheme's ``cues``): any of them as
    whole words, case-insensitive, the spaces of a phrase matching any run of whitespace. Literal
    alternatives only (``re.escape``), so a team's cues cannot make a pattern that backtracks for
    long on crawled text."""
    alternatives = sorted({r"\s+".join(re.escape(word) for word in phrase.split()) for phrase in phrases},
                          key=lambda alternative: (-len(alternative), alternative))
    return r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)"


_TEAM_CUE_PATTERNS: dict[tuple, CuePatterns] = {}


def team_cue_patterns(cues) -> CuePatterns:
    """The ``CuePatterns`` of a label scheme's ``cues`` (label -> words and phrases), built once."""
    key = tuple((label, tuple(phrases)) for label, phrases in (cues.items() if isinstance(cues, dict) else cues))
    if key not in _TEAM_CUE_PATTERNS:
        _TEAM_CUE_PATTERNS[key] = CuePatterns({label: phrases_pattern(phrases) for label, phrases in key})
    return _TEAM_CUE_PATTERNS[key]


def topic_evidence(paragraphs: list[str], patterns: CuePatterns | None = None) -> dict[str, float]:
    """Per topic: paragraphs with one cue and with two or more (log), their share, headline and lead
    hits. ``patterns``: a team's own (``team_cue_patterns``), else the shipped ``TOPIC_CUES``."""
    patterns = patterns or _TOPIC_CUE_PATTERNS
    features: dict[str, float] = {}
    body = paragraphs[1:] or [""]
    hits_per_paragraph = patterns.counts_per_line(body)
    title_hits = patterns.counts(paragraphs[0] if paragraphs else "")
    for column, name in enumerate(patterns.names):
        hits = [counts[column] for counts in hits_per_paragraph]
        some, strong = sum(h >= 1 for h in hits), sum(h >= 2 for h in hits)
        features[f"{name}:paragraphs"] = math.log1p(some)
        features[f"{name}:strong"] = math.log1p(strong)
        features[f"{name}:share"] = some / len(body)
        features[f"{name}:title"] = float(title_hits[column] > 0)
        features[f"{name}:lead"] = float(any(h for h in hits[:2]))
    return features


def _count(value: int) -> float:
    return math.log1p(value)


def _paragraphs(doc: dict) -> list[str]:
    """The headline then the body paragraphs (blank-line separated)."""
    body = doc.get("body") or ""
    return [doc.get("title") or "", *(p.strip() for p in re.split(r"\n\s*\n", body) if p.strip())]


def quoted_words_by_body(doc: dict) -> dict[str | None, int]:
    """The words of the document's quotes by the watched body their speaker speaks for (None: none)."""
    spoken: dict[str | None, int] = {}
    for quote in doc.get("quotes") or []:
        key = quote.get("entity_id") or None
        spoken[key] = spoken.get(key, 0) + len((quote.get("text") or "").split())
    return spoken


def article_row(doc: dict) -> dict:
    """Row for article-level tasks (topics, stance). ``domain``: mention and quote counts per watched
    body; ``voices``: who fills the article's quotes (the share of the quoted words spoken for each
    watched body, ``outsider`` for speakers of none; ``none`` without quotes)."""
    title = doc.get("title") or ""
    domain: dict[str, float] = {}
    mention_counts: dict[str, int] = {}
    for mention in doc.get("mentions") or []:
        entity_id = mention.get("entity_id")
        mention_counts[entity_id] = mention_counts.get(entity_id, 0) + 1
        if title and mention.get("sentence") == title:
            domain[f"in_title={entity_id}"] = 1.0
    for entity_id, count in mention_counts.items():
        domain[f"mentions={entity_id}"] = _count(count)
    quote_counts: dict[str, int] = {}
    quoted_words = []
    for quote in doc.get("quotes") or []:
        entity_id = quote.get("entity_id") or "unknown"
        quote_counts[entity_id] = quote_counts.get(entity_id, 0) + 1
        quoted_words.append(quote.get("text") or "")
    for entity_id, count in quote_counts.items():
        domain[f"quotes={entity_id}"] = _count(count)
    spoken = quoted_words_by_body(doc)
    total = sum(spoken.values())
    voices = ({f"share:{key or 'outsider'}": count / total for key, count in spoken.items()} if total
              else {"share:none": 1.0})
    body = doc.get("body") or ""
    paragraphs = _paragraphs(doc)
    return {
        "title": title,
        "text": f"{title}\n{body}",
        "lead": "\n".join(paragraphs[: LEAD_PARAGRAPHS + 1]),
        "paragraphs": paragraphs,
        "quotes": "\n".join(quoted_words),
        "domain": domain,
        "voices": voices,
        "quoted_words_by_body": spoken,
        "topic_evidence": topic_evidence(paragraphs),
    }


def _masker(doc: dict, entity_id: str):
    """A function replacing the entity's names (mention surfaces, quote speakers) by
    ``TARGET_PLACEHOLDER`` and other watched bodies' names by ``OTHER_PLACEHOLDER``."""
    own, other = set(), set()
    for mention in doc.get("mentions") or []:
        surface = (mention.get("surface") or "").strip()
        if len(surface) > 1:
            (own if mention.get("entity_id") == entity_id else other).add(surface)
    for quote in doc.get("quotes") or []:
        speaker = (quote.get("speaker") or "").strip()
        if len(speaker) > 1 and quote.get("entity_id"):
            (own if quote.get("entity_id") == entity_id else other).add(speaker)
    other -= own
    replacements = {**{name: OTHER_PLACEHOLDER for name in other}, **{name: TARGET_PLACEHOLDER for name in own}}
    if not replacements:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(name) for name in sorted(replacements, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda match: replacements[match.group(0)], text)


def _article_tone_cues(article: dict, patterns: CuePatterns | None = None) -> dict[str, float]:
    """The tone cues of a whole article and of its headline (``article_row``), computed once per
    article row and kept in it (``_tone_cues``, for the shipped patterns; ``_team_tone_cues`` with
    the ``patterns`` they were counted with, for a team's): every watched body of the article shares them."""
    if patterns is None:
        if "_tone_cues" not in article:
            article["_tone_cues"] = {"article": tone_cues(article["paragraphs"], "article"),
                                     "title": tone_cues([article["title"]], "title")}
        return article["_tone_cues"]
    kept = article.get("_team_tone_cues")
    if kept is None or kept[0] is not patterns:
        kept = article["_team_tone_cues"] = (patterns, {"article": tone_cues(article["paragraphs"], "article", patterns),
                                                        "title": tone_cues([article["title"]], "title", patterns)})
    return kept[1]


def tone_row(doc: dict, entity_id: str, *, neighbours: int = 0, mask: bool = False, article: dict | None = None,
             cue_groups: dict[str, str] | None = None, cues: dict | None = None) -> dict:
    """Row for one (article, entity) pair.

    ``context``: the sentences mentioning the entity and the quotes of its speakers;
    ``window``: the ``neighbours`` sentences either side of each mention sentence;
    ``sentences``: context then window as a list; ``paragraphs``: the whole article's
    (both for embeddings). With ``mask`` the entity's names become
    ``TARGET_PLACEHOLDER`` (other bodies' ``OTHER_PLACEHOLDER``). ``article``: the document's
    ``article_row`` when the caller has it (its paragraphs and article-level cues are reused; the
    row is the same). ``cues``: the tone cues near the entity, in the article and in the headline;
    ``voices``: who fills the article's quotes (shares of the quoted words by the entity's own
    people, ``outsider`` speakers of no watched body, ``other`` watched bodies; ``none`` without
    quotes); both plain and crossed with the entity's group (``cue_groups``). ``cues``: the tone
    task's own cue words (label -> words and phrases, a label scheme's ``cues``), counted in place
    of the shipped ``TONE_CUES``; None: the shipped ones.
    """
    title = doc.get("title") or ""
    mentioned = [m.get("sentence") or "" for m in doc.get("mentions") or [] if m.get("entity_id") == entity_id]
    quoted = [q.get("text") or "" for q in doc.get("quotes") or [] if q.get("entity_id") == entity_id]
    context = list(dict.fromkeys(mentioned + quoted))
    window: list[str] = []
    if neighbours > 0 and mentioned:
        all_sentences = [title, *split_sentences(doc.get("body") or "")]
        wanted = set(mentioned)
        for index, sentence in enumerate(all_sentences):
            if sentence in wanted or any(m in sentence for m in wanted if len(m) > 20):
                window.extend(all_sentences[max(0, index - neighbours) : index + neighbours + 1])
        window = [s for s in dict.fromkeys(window) if s not in context]
    if mask:
        masked = _masker(doc, entity_id)
        context, window = [masked(s) for s in context], [masked(s) for s in window]
    if article is None:
        article = {"title": title, "paragraphs": _paragraphs(doc)}
    paragraphs = article["paragraphs"]
    # Each cue plain and crossed with the entity's group (a closure is bad news for a fire service,
    # not necessarily for the commissioner). ``cue_groups`` maps entities to groups, the watchlist's
    # categories, so that what a cue means for one fire service is learnt from the others' articles
    # too; an entity it does not map is its own group (models trained before groups existed).
    group = (cue_groups or {}).get(entity_id, entity_id)
    patterns = team_cue_patterns(cues) if cues else None
    shared = _article_tone_cues(article, patterns)
    found_cues = {}
    for found in (tone_cues(context, "near", patterns), shared["article"], shared["title"]):
        found_cues.update(found)
        found_cues.update({f"{group}*{key}": value for key, value in found.items()})
    # Who fills the article's quotes: the share of its quoted words spoken by the body's own people,
    # by speakers of no watched body (residents, campaigners, unions...) and by other watched bodies.
    words = {"own": 0, "outsider": 0, "other": 0}
    spoken = article["quoted_words_by_body"] if "quoted_words_by_body" in article else quoted_words_by_body(doc)
    for speaker, count in spoken.items():
        words["own" if speaker == entity_id else "other" if speaker else "outsider"] += count
    total = sum(words.values())
    shares = {f"share:{key}": count / total for key, count in words.items() if count} if total else {"share:none": 1.0}
    return {
        "entity_id": entity_id,
        "cues": found_cues,
        "voices": {**shares, **{f"{group}*{key}": value for key, value in shares.items()}},
        "context": "\n".join(context),
        "window": "\n".join(window),
        "sentences": context + window,
        "paragraphs": paragraphs,
        "domain": {
            f"entity={entity_id}": 1.0,
            "mentions": _count(len(mentioned)),
            "quotes": _count(len(quoted)),
            "in_title": float(bool(title) and title in mentioned),
        },
    }


class FieldSelector(BaseEstimator, TransformerMixin):
    """Select one field from each row dict (a text or a dict of counts)."""

    def __init__(self, field: str):
        self.field = field

    def fit(self, rows, y=None):
        return self

    def transform(self, rows):
        return [row[self.field] for row in rows]


# ---------------------------------------------------------------- fast TF-IDF at prediction

# TfidfVectorizer parameters that decide how a text becomes features (the rest weight them).
_ANALYSIS_PARAMS = ("input", "encoding", "decode_error", "strip_accents", "lowercase", "preprocessor", "tokenizer",
                    "analyzer", "stop_words", "token_pattern", "ngram_range")


def strip_accents_unicode(text: str) -> str:
    """scikit-learn's ``strip_accents_unicode`` (NFKD, combining marks dropped), with the marks
    removed by ``str.translate`` rather than a loop over the characters: the same string."""
    if text.isascii():
        return text
    normalized = unicodedata.normalize("NFKD", text)
    marks = [ord(character) for character in set(normalized) if unicodedata.combining(character)]
    return normalized.translate(dict.fromkeys(marks)) if marks else normalized


def analysis_key(vectorizer: TfidfVectorizer) -> tuple | None:
    """What decides a fitted vectoriser's analysis of a text, or None when ``SharedTfidf`` leaves
    it to the vectoriser (a callable analyser, preprocessor or tokenizer, stop words, file input,
    accents stripped otherwise than ``unicode``)."""
    params = vectorizer.get_params()
    if (params["input"] != "content" or params["stop_words"] is not None or not isinstance(params["analyzer"], str)
            or params["preprocessor"] is not None or params["tokenizer"] is not None
            or params["strip_accents"] not in (None, "unicode")):
        return None
    return tuple((name, params[name] if name != "ngram_range" else tuple(params[name])) for name in _ANALYSIS_PARAMS)


class _Analysis:
    """What the vectorisers of one ``sharing_analysis()`` block share. The topic model, both steps
    of the stance model and the stance model stacked into tone all vectorise the article's text and
    lead with the same analyser: each text is analysed once, its distinct features numbered across
    the block (``ids``) and each vectoriser looks a feature up in its vocabulary once (``columns``).
    Character n-grams within words (``char_wb``) are made once per distinct word."""

    def __init__(self):
        self.ids: dict[str, int] = {}
        self.features: list[str] = []
        # (analysis key, text) -> (feature ids, counts)
        self.texts: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        # id(vocabulary) -> column of each feature id (-1: not in the vocabulary)
        self.columns: dict[int, np.ndarray] = {}
        # id(vocabulary) -> {word: columns of the word's character n-grams in the vocabulary}
        self.words: dict[int, dict[str, np.ndarray]] = {}

    def _number(self, features) -> np.ndarray:
        ids = self.ids
        for feature in features:
            if feature not in ids:
                ids[feature] = len(self.features)
                self.features.append(feature)
        return np.fromiter(map(ids.__getitem__, features), dtype=np.int64, count=len(features))

    def analysed(self, key: tuple, text: str, vectorizer: TfidfVectorizer) -> tuple[np.ndarray, np.ndarray]:
        """(feature ids, counts) of ``text`` as ``vectorizer`` analyses it (``key``: its ``analysis_key``)."""
        found = self.texts.get((key, text))
        if found is not None:
            return found
        params = dict(key)
        document = text.lower() if params["lowercase"] else text
        if params["strip_accents"] == "unicode":
            document = strip_accents_unicode(document)
        if params["analyzer"] == "word" and params["ngram_range"] == (1, 1):
            features = Counter(vectorizer.build_tokenizer()(document))
        else:
            features = Counter(vectorizer.build_analyzer()(text))
        found = (self._number(list(features)), np.fromiter(features.values(), dtype=np.intc, count=len(features)))
        self.texts[(key, text)] = found
        return found

    def char_wb_matrix(self, texts: list[str], vectorizer: TfidfVectorizer) -> tuple:
        """(counts, columns, indptr) of the CSR counts matrix of ``texts``'s character n-grams within
        words (``analyzer="char_wb"``) in ``vectorizer``'s vocabulary, columns sorted in each row.
        The n-grams of a text are those of its words (``_char_wb_ngrams`` pads each word alone):
        made and looked up once per distinct word."""
        vocabulary = vectorizer.vocabulary_
        known = self.words.setdefault(id(vocabulary), {})
        pieces, rows = [], []
        for row, text in enumerate(texts):
            document = text.lower() if vectorizer.lowercase else text
            if vectorizer.strip_accents == "unicode":
                document = strip_accents_unicode(document)
            for word in document.split():
                columns = known.get(word)
                if columns is None:
                    grams = vectorizer._char_wb_ngrams(word)
                    columns = np.fromiter(map(vocabulary.get, grams, repeat(-1)), dtype=np.int64, count=len(grams))
                    columns = known[word] = columns[columns >= 0]
                pieces.append(columns)
                rows.append(row)
        if not pieces:
            return np.empty(0, dtype=np.intc), np.empty(0, dtype=np.int32), np.zeros(len(texts) + 1, dtype=np.int32)
        lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        columns = np.concatenate(pieces)
        # One entry per n-gram; the CSR conversion sums the repeated (row, column) entries and sorts.
        matrix = sp.coo_matrix((np.ones(len(columns), dtype=np.intc), (np.repeat(np.asarray(rows), lengths), columns)),
                               shape=(len(texts), len(vocabulary))).tocsr()
        matrix.sum_duplicates()
        return matrix.data, matrix.indices.astype(np.int32), matrix.indptr.astype(np.int32)

    def column_map(self, vocabulary: dict) -> np.ndarray:
        columns = self.columns.get(id(vocabulary), np.empty(0, dtype=np.int64))
        if len(columns) < len(self.features):
            new = np.fromiter(map(vocabulary.get, self.features[len(columns):], repeat(-1)), dtype=np.int64)
            columns = np.concatenate([columns, new])
            self.columns[id(vocabulary)] = columns
        return columns


_analysis: _Analysis | None = None


@contextmanager
def sharing_analysis():
    """Within the block, ``SharedTfidf`` remembers each text's analysed features; outside it nothing is kept."""
    global _analysis
    outer = _analysis
    if _analysis is None:
        _analysis = _Analysis()
    try:
        yield
    finally:
        _analysis = outer


class SharedTfidf(BaseEstimator, TransformerMixin):
    """A fitted ``TfidfVectorizer`` for prediction that, within ``sharing_analysis()``, analyses
    each text once for every vectoriser with the same analysis settings (``analysis_key``) and
    counts features without scikit-learn's loop over every token. Gives exactly
    ``vectorizer.transform``: the same counts matrix, sorted the same, weighted by the vectoriser's
    own IDF and norm. Never saved: ``Classifier.load`` puts it in place of the vectorisers of the
    loaded pipelines (``nlp.classify.share_analysis``)."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, texts, y=None):
        return self

    def transform(self, texts):
        vectorizer = self.vectorizer
        key = analysis_key(vectorizer)
        if _analysis is None or key is None or isinstance(texts, str):
            return vectorizer.transform(texts)
        if vectorizer.analyzer == "char_wb":
            counts, columns, indptr = _analysis.char_wb_matrix(texts, vectorizer)
        else:
            rows = []
            for text in texts:
                ids, counts = _analysis.analysed(key, text, vectorizer)
                rows.append((ids, counts))
            column_of = _analysis.column_map(vectorizer.vocabulary_)
            kept = []
            for ids, counts in rows:
                found = column_of[ids]
                keep = found >= 0
                kept.append((found[keep], counts[keep]))
            indptr = np.cumsum([0, *(len(row[0]) for row in kept)]).astype(np.int32)
            counts = np.concatenate([row[1] for row in kept]) if kept else np.empty(0, dtype=np.intc)
            columns = np.concatenate([row[0] for row in kept]).astype(np.int32) if kept else np.empty(0, dtype=np.int32)
        matrix = sp.csr_matrix((counts, columns, indptr), shape=(len(texts), len(vectorizer.vocabulary_)),
                               dtype=vectorizer.dtype)
        matrix.sort_indices()
        if vectorizer.binary:
            matrix.data.fill(1)
        return vectorizer._tfidf.transform(matrix, copy=False)


def _tfidf_words(ngram_range: tuple[int, int]) -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=ngram_range, sublinear_tf=True, min_df=2, strip_accents="unicode")


def _tfidf_chars(ngram_range: tuple[int, int]) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, sublinear_tf=True, min_df=2)


def _branch(field: str, transformer) -> Pipeline:
    return Pipeline([("select", FieldSelector(field)), ("vectorise", transformer)])


def _check_features(features: str) -> None:
    if features not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {features!r}; available: {', '.join(FEATURE_SETS)}")


def text_features(
    field: str,
    *,
    features: str = DEFAULT_FEATURES,
    word_ngrams: tuple[int, int] = (1, 1),
    char_ngrams: tuple[int, int] = (3, 5),
    char_weight: float = 0.0,
    title_weight: float = 0.0,
    lead_weight: float = 0.0,
    domain_weight: float = 0.0,
    window_field: str | None = None,
    window_weight: float = 0.0,
    embedding_field: str = "paragraphs",
    embedding_weight: float = 0.1,
    cue_weight: float = 0.0,
    evidence_weight: float = 0.0,
    voice_weight: float = 0.0,
) -> FeatureUnion:
    """FeatureUnion over a row for feature set ``features``.

    TF-IDF sets: word TF-IDF of ``field``, plus (when weighted > 0) char_wb TF-IDF,
    headline-word TF-IDF, lead-word TF-IDF (``lead`` of ``article_row``), word
    TF-IDF of ``window_field`` and the row's ``domain`` counts (and, when weighted, its ``cues`` and
    ``voices``). Embedding sets (``static``, ``minilm``): the standardised mean embedding
    of the texts in ``embedding_field`` weighted by ``embedding_weight``.
    """
    _check_features(features)
    parts = features.split("+")
    branches, weights = [], {}
    if "tfidf" in parts:
        branches.append(("words", _branch(field, _tfidf_words(tuple(word_ngrams)))))
        weights["words"] = 1.0
        if char_weight > 0:
            branches.append(("chars", _branch(field, _tfidf_chars(tuple(char_ngrams)))))
            weights["chars"] = char_weight
        if title_weight > 0:
            branches.append(("title", _branch("title", _tfidf_words((1, 1)))))
            weights["title"] = title_weight
        if lead_weight > 0:
            branches.append(("lead", _branch("lead", _tfidf_words(tuple(word_ngrams)))))
            weights["lead"] = lead_weight
        if window_field and window_weight > 0:
            branches.append(("window", _branch(window_field, _tfidf_words(tuple(word_ngrams)))))
            weights["window"] = window_weight
    for embedder in ("static", "minilm"):
        if embedder in parts:
            embedding = Pipeline([("embed", EmbeddingFeatures(embedding_field, embedder)), ("scale", StandardScaler())])
            branches.append((embedder, embedding))
            weights[embedder] = embedding_weight if len(parts) > 1 else 1.0
    if domain_weight > 0:
        branches.append(("domain", _branch("domain", DictVectorizer())))
        weights["domain"] = domain_weight
    if cue_weight > 0:
        branches.append(("cues", _branch("cues", DictVectorizer())))
        weights["cues"] = cue_weight
    if voice_weight > 0:
        branches.append(("voices", _branch("voices", DictVectorizer())))
        weights["voices"] = voice_weight
    if evidence_weight > 0:
        evidence = Pipeline([("select", FieldSelector("topic_evidence")), ("vectorise", DictVectorizer(sparse=False)),
                             ("scale", StandardScaler())])
        branches.append(("evidence", evidence))
        weights["evidence"] = evidence_weight
    return FeatureUnion(branches, transformer_weights=weights)
