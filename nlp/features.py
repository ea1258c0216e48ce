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

At prediction time the caller passes mentions and quotes (from the spaCy stage);
for training, ``doc_from_record`` derives them from the labelled surface forms.
The sklearn feature union over a row is built by ``text_features``; the feature
set (``FEATURE_SETS``) picks TF-IDF, sentence embeddings (``nlp.embeddings``) or both.
"""

from __future__ import annotations

import math
import re

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
_QUOTED = re.compile(r"\"([^\"]{3,})\"|\u201c([^\u201d]{3,})\u201d")


def split_sentences(text: str) -> list[str]:
    """Split text into sentences: paragraphs (blank lines) then sentence-final punctuation."""
    sentences = []
    for paragraph in re.split(r"\n\s*\n|\n", text):
        paragraph = paragraph.strip()
        if paragraph:
            sentences.extend(s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip())
    return sentences


def doc_from_record(record: dict) -> dict:
    """A prediction-style document for a labelled record.

    Mentions: every sentence (headline included) containing one of the entity's
    labelled surface forms verbatim (``surface``: the first form found). Quotes:
    quoted passages of a paragraph whose unquoted part names the entity (the
    speaker being the surface form found).
    """
    entities: dict[str, list[str]] = record.get("entities") or {}
    title, body = record.get("title", ""), record.get("body", "")
    mentions, quotes = [], []
    for sentence in [title, *split_sentences(body)]:
        for entity_id, forms in entities.items():
            surface = next((form for form in forms if form in sentence), None)
            if surface:
                mentions.append({"entity_id": entity_id, "surface": surface, "sentence": sentence})
    for paragraph in re.split(r"\n\s*\n", body):
        passages = [m.group(1) or m.group(2) for m in _QUOTED.finditer(paragraph)]
        if not passages:
            continue
        narration = _QUOTED.sub(" ", paragraph)
        for entity_id, forms in entities.items():
            speaker = next((form for form in forms if form in narration), None)
            if speaker:
                quotes.extend({"speaker": speaker, "entity_id": entity_id, "text": p} for p in passages)
    return {"title": title, "body": body, "mentions": mentions, "quotes": quotes}


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
               r"concerns?|criticis(?:ed|m|es)|critical|poor|inadequate|requires? improvement|"
               r"lessons (?:to be )?learn(?:ed|t)|apologi[sz](?:e|ed|es))\b",
    "misconduct": r"\b(?:misconduct|bullying|harassment|discriminat(?:ion|ory)|sexis[tm]|racis[tm]|inquiry|"
                  r"investigat(?:ion|ed|ing)|suspend(?:ed|ing)?|suspension|dismiss(?:ed|al)|sacked|tribunal|"
                  r"grievances?|toxic|allegations?|disciplinary)\b",
    "dispute": r"\b(?:strikes?|striking|industrial action|walk-?out|dispute|ballot(?:ed)?|union anger|row)\b",
    "rescue": r"\b(?:rescu(?:e|ed|es|ing)|saved|life-saving|lifesaving|pulled (?:free|from|out)|freed|"
              r"brought to safety|led to safety|revived|resuscitat(?:e|ed|ion)|survived)\b",
    "praise": r"\b(?:prais(?:e|ed|es|ing)|commend(?:ed|ation)|award(?:s|ed)?|outstanding|good|excellent|"
              r"improve(?:d|ment|ments)|proud|brave(?:ry)?|heroic|heroes|thank(?:ed|s)?|grateful|"
              r"recogni(?:s|z)ed|success(?:ful)?|celebrat(?:e|ed|es|ing)|medal|honour(?:ed)?|welcomed?)\b",
    "grade": r"\b(?:HMICFRS|inspect(?:ion|ors?|ed)|rated|rating|graded)\b",
}
_TONE_CUE_PATTERNS = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in TONE_CUES.items()}


def tone_cues(texts: list[str], prefix: str) -> dict[str, float]:
    """Log counts of each tone cue in ``texts``, keyed ``<prefix>:<cue>``."""
    joined = "\n".join(texts)
    counts = {}
    for name, pattern in _TONE_CUE_PATTERNS.items():
        found = len(pattern.findall(joined))
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
_TOPIC_CUE_PATTERNS = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in TOPIC_CUES.items()}


def topic_evidence(paragraphs: list[str]) -> dict[str, float]:
    """Per topic: paragraphs with one cue and with two or more (log), their share, headline and lead hits."""
    features: dict[str, float] = {}
    body = paragraphs[1:] or [""]
    for name, pattern in _TOPIC_CUE_PATTERNS.items():
        hits = [len(pattern.findall(paragraph)) for paragraph in body]
        some, strong = sum(h >= 1 for h in hits), sum(h >= 2 for h in hits)
        features[f"{name}:paragraphs"] = math.log1p(some)
        features[f"{name}:strong"] = math.log1p(strong)
        features[f"{name}:share"] = some / len(body)
        features[f"{name}:title"] = float(bool(pattern.search(paragraphs[0] if paragraphs else "")))
        features[f"{name}:lead"] = float(any(h for h in hits[:2]))
    return features


def _count(value: int) -> float:
    return math.log1p(value)


def _paragraphs(doc: dict) -> list[str]:
    """The headline then the body paragraphs (blank-line separated)."""
    body = doc.get("body") or ""
    return [doc.get("title") or "", *(p.strip() for p in re.split(r"\n\s*\n", body) if p.strip())]


def article_row(doc: dict) -> dict:
    """Row for article-level tasks (topics, stance)."""
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
    body = doc.get("body") or ""
    paragraphs = _paragraphs(doc)
    return {
        "title": title,
        "text": f"{title}\n{body}",
        "lead": "\n".join(paragraphs[: LEAD_PARAGRAPHS + 1]),
        "paragraphs": paragraphs,
        "quotes": "\n".join(quoted_words),
        "domain": domain,
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


def tone_row(doc: dict, entity_id: str, *, neighbours: int = 0, mask: bool = False) -> dict:
    """Row for one (article, entity) pair.

    ``context``: the sentences mentioning the entity and the quotes of its speakers;
    ``window``: the ``neighbours`` sentences either side of each mention sentence;
    ``sentences``: context then window as a list; ``paragraphs``: the whole article's
    (both for embeddings). With ``mask`` the entity's names become
    ``TARGET_PLACEHOLDER`` (other bodies' ``OTHER_PLACEHOLDER``).
    """
    title = doc.get("title") or ""
    mentioned = [m.get("sentence") or "" for m in doc.get("mentions") or [] if m.get("entity_id") == entity_id]
    quoted = [q.get("text") or "" for q in doc.get("quotes") or [] if q.get("entity_id") == entity_id]
    context = list(dict.fromkeys(mentioned + quoted))
    window: list[str] = []
    if neighbours > 0 and mentioned:
        article = [title, *split_sentences(doc.get("body") or "")]
        wanted = set(mentioned)
        for index, sentence in enumerate(article):
            if sentence in wanted or any(m in sentence for m in wanted if len(m) > 20):
                window.extend(article[max(0, index - neighbours) : index + neighbours + 1])
        window = [s for s in dict.fromkeys(window) if s not in context]
    if mask:
        masked = _masker(doc, entity_id)
        context, window = [masked(s) for s in context], [masked(s) for s in window]
    paragraphs = _paragraphs(doc)
    # Each cue plain and crossed with the entity (a closure is bad news for a fire service, not
    # necessarily for the commissioner).
    cues = {}
    for where, texts in (("near", context), ("article", paragraphs), ("title", [title])):
        found = tone_cues(texts, where)
        cues.update(found)
        cues.update({f"{entity_id}*{key}": value for key, value in found.items()})
    return {
        "entity_id": entity_id,
        "cues": cues,
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
) -> FeatureUnion:
    """FeatureUnion over a row for feature set ``features``.

    TF-IDF sets: word TF-IDF of ``field``, plus (when weighted > 0) char_wb TF-IDF,
    headline-word TF-IDF, lead-word TF-IDF (``lead`` of ``article_row``), word
    TF-IDF of ``window_field`` and the row's ``domain`` counts. Embedding sets (``static``, ``minilm``): the standardised mean embedding
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
    if evidence_weight > 0:
        evidence = Pipeline([("select", FieldSelector("topic_evidence")), ("vectorise", DictVectorizer(sparse=False)),
                             ("scale", StandardScaler())])
        branches.append(("evidence", evidence))
        weights["evidence"] = evidence_weight
    return FeatureUnion(branches, transformer_weights=weights)
