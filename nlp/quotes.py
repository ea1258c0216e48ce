"""Direct quotations in news text and who said them.

``extract_quotes(text, mentions, watchlist)`` finds quotations in straight or curly double quotes
(a paragraph that opens a quotation and does not close it continues into the next paragraph when
that one opens with a quotation mark), attributes each to a speaker from the usual news patterns
(``X said: "..."``, ``"...," said X``, ``"...," X said``, ``He added: "..."``, pronouns meaning the
last named speaker), splits the speaker's name from a role ("Chief Fire Officer Nathan Travis",
"Roger Phillips, Chair of the Fire Authority") and links the speaker to a watched body when the
attribution (or an earlier description of the same person) contains a mention of it; the link's
``entity_method`` is ``stated``, or ``inferred`` when it rests on an inferred mention or on
``governs``, and no body is linked when the attribution places the speaker elsewhere ("Chief
constable X of Devon and Cornwall Police").

Scare quotes ("power grab") of one to four words are dropped unless their sentence attributes them
(a speech verb, "According to X,", a sentence-final "..., X said." or "according to X", an attributed
quotation earlier in the sentence); a headline's quotations and quoted titles are not quotes. In a
text with no double quotation mark, single marks that open and close quotations are read as double.
The rules are described in ``docs/watchlist.md`` ("Quotes").
"""
from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from nlp.places import QUALIFIER, own_places, qualifies_elsewhere, starts_elsewhere

QUOTES_VERSION = "quotes-23"

# Roles whose holders never speak for a watched body, whatever body their role names.
NOT_FOR_A_BODY_WORDS = (
    "union|FBU|Fire Brigades|minister|MP|secretary of state|ambulance|shadow|Unison|GMB|Unite"
    # people who no longer hold a post speak for themselves: "former chairman", "who retired", "ex-officer"
    "|former|formerly|retired|retirement|ex|used to|once an?"
    # inspectors of constabulary and of fire services speak for the inspectorate, not the inspected
    "|HM|HMI|HMIC|HMICFRS|inspectorate|inspectors|Her Majesty's|His Majesty's")


def _grouped_any_case(words: str) -> str:
    """``union|FBU|former|...`` as ``u(?:nion)|f(?:BU|ormer)|...``, grouped by first letter in any
    case, for a case-insensitive pattern that is only tested for a match (``search`` is not None):
    which of two words matches at a position may change, whether one does cannot."""
    groups: dict[str, list[str]] = {}
    for word in words.split("|"):
        groups.setdefault(word[0].lower(), []).append(word[1:])
    return "|".join(f"{first}(?:{'|'.join(rests)})" for first, rests in groups.items())


NOT_FOR_A_BODY = re.compile(rf"\b(?:{_grouped_any_case(NOT_FOR_A_BODY_WORDS)})\b", re.IGNORECASE)
# The same words lowercase, for a lowercased text (``_not_for_a_body``): a case-sensitive pattern,
# whose alternatives the regex engine skips by their first letter at each word's start.
NOT_FOR_A_BODY_LOWERCASE = re.compile(rf"\b(?:{_grouped_any_case(NOT_FOR_A_BODY_WORDS.lower())})\b")
# "According to X, ..." / "According to the authors: ..." (a parenthesised aside may hold commas:
# "According to Councillor Ann Hale (Labour, Castle), ...").
ACCORDING_TO = re.compile(r"\s*According to (?P<speaker>(?:[^,.;:()]|\([^()]*\)){3,80}?)\s*[,:]")
SPOKES_WORD = re.compile(r"\b(?:spokesman|spokeswoman|spokesperson)\b", re.IGNORECASE)
COUNCILLOR = re.compile(r"\b(?:councillor|cllr|coun)\b\.?", re.IGNORECASE)

SPEECH_VERBS = (
    "said|says|say|added|adds|told|tells|warned|warns|claimed|claims|explained|explains|stated|states|"
    "commented|comments|continued|continues|insisted|insists|argued|argues|admitted|admits|stressed|"
    "stresses|replied|replies|responded|responds|noted|notes|wrote|writes|urged|urges|remarked|"
    "went on|goes on|concluded|concludes|announced|announces|confirmed|confirms|declared|declares|"
    "revealed|reveals|acknowledged|acknowledges|suggested|suggests|asked|asks|believes|believed|"
    "pointed out|points out|emphasised|emphasises|maintained|maintains|predicted|predicts|promised|"
    "promises|recalled|recalls|joked|jokes|vowed|vows|conceded|concedes|agreed|agrees|"
    "described|describes|saying|adding|insisting|explaining|warning|stating|called|calls|branded|brands|"
    "labelled|labels|dubbed|hailed|hails|termed|"
    # participles that open a characterisation or a report ("..., calling it "unrelenting"") and
    # verbs of stating a view or posting one ("expressed their "disappointment"", "posted:")
    "calling|describing|branding|labelling|dubbing|terming|claiming|arguing|telling|noting|stressing|"
    "urging|admitting|expressed|expresses|expressing|flagged|flags|posted|posts|tweeted|tweets|"
    "alleged|alleges|cautioned|cautions"
)


def _grouped_alternation(words: str) -> str:
    """``said|says|added|...`` as ``s(?:aid|ays)|a(?:dded)|...``: the same words, grouped by first
    letter so that the regex engine tries one group instead of every word at each position (the
    speech verbs are looked for after every capitalised word of an article). Every use of the
    verbs is followed by a word boundary or a space, where no two of them can both match, so the
    order in which they are tried does not change any match."""
    groups: dict[str, list[str]] = {}
    for word in words.split("|"):
        groups.setdefault(word[0], []).append(re.escape(word[1:]))
    return "|".join(f"{first}(?:{'|'.join(rests)})" for first, rests in groups.items())


VERB = rf"(?:{_grouped_alternation(SPEECH_VERBS)})"
#: Words that open a clause, not an apposition: "Shaun Davies, have each expressed doubts over ..."
CLAUSE_START = rf"{VERB}|have|has|had|is|was|are|were|will|would|could|can|may|did|does|do|also|and|but"
#: A named council other than a fire authority: "Shropshire Council", "council leader".
# "..., who asked not to be named," / "(who wished to remain anonymous)" right after a description.
ANONYMOUS_VERBS = ("asked", "wished", "wanted", "preferred", "declined", "did not want", "didn't want")
ANONYMOUS = re.compile(rf"[,(]?\s*(?:who\s+)?(?:{'|'.join(ANONYMOUS_VERBS)})\s+"
                       r"(?:not\s+)?to\s+(?:be\s+(?:named|identified)|remain\s+anonymous|give\s+(?:a|his|her|their)\s+name)")
# Civic offices of a council, not of a fire authority.
CIVIC_ROLE = re.compile(r"\b(?:mayor|mayoress|council leader|leader of the council|town council|parish council)\b",
                        re.IGNORECASE)
NAMED_COUNCIL = re.compile(r"\b(?:[A-Z][\w&'-]*\s+)+Council\b(?!\s+(?:of\s+)?Fire)|\bcouncil leader\b")
PRONOUNS = {"he", "she", "they", "it", "i", "we"}
# A quotation that is the title of something: 'under the headline "..."', 'a report entitled "..."'.
TITLE_HINTS = ("eadline", "itled", "ashtag", "logan")   # substrings tested before TITLE_BEFORE
TITLE_BEFORE = re.compile(r"\b(?:headlines?|headlined|entitled|titled|hashtag|slogan)\s*[:,]?\s*$", re.IGNORECASE)
# Abbreviated ranks and posts written before a name ("Det. Insp. Jane Smith", "Supt Mark Jones",
# "Ch. Supt.", "Sgt.", "DCI", "PC"), with or without their full stop ("DI" is left out: "Di" is a
# given name).
RANK_ABBREVIATIONS = {"det", "insp", "supt", "sgt", "ch", "chf", "cst", "const", "cmdr", "comdr", "capt", "col",
                      "lt", "maj", "gen", "cpl", "pte", "asst", "dep",
                      "pc", "pcso", "dc", "ds", "dci", "dsi", "dcs", "acc", "dcc", "acfo", "dcfo"}
# Ranks written as a title before a surname alone ("Officer Myers said", "Inspector Corteen added",
# "Insp. Corteen").
RANK_TITLES = {"officer", "inspector", "sergeant", "superintendent", "commander", "constable", "detective",
               "det", "insp", "supt", "sgt", "cst", "const", "cmdr", "capt", "col", "lt", "maj", "gen", "cpl", "pte",
               "pc", "pcso", "dc", "ds", "dci", "dsi", "dcs", "acc", "dcc"}
# The last words of a post written before a surname ("Station Manager Hughes", "Chief Fire Officer
# Penrose"): with RANK_TITLES, a lone surname after them is a person.
POST_ENDS = {"officer", "manager", "commander", "chief", "director", "commissioner", "chairman", "chairwoman",
             "chair", "leader", "executive", "secretary", "minister", "mayor", "head", "president"}
# Abbreviations that stand before a name (a title's, a rank's, "St." for a saint): their full stop
# ends no sentence ("Det. Insp. Jane Smith", "Dr. Ann Hale", "Mr. Hale").
NAME_ABBREVIATIONS = RANK_ABBREVIATIONS | {"mr", "mrs", "ms", "dr", "cllr", "coun", "prof", "rev", "revd", "brig",
                                           "st", "fr", "rt", "hon"}
# Abbreviations that end an organisation's name ("Acme Ltd.", "Smith & Co."): a role may end with
# one ("managing director of Acme Ltd."), though a sentence may end there too.
ORGANISATION_ABBREVIATIONS = {"ltd", "co", "inc", "plc", "corp", "bros", "llp", "llc", "dept", "govt", "assoc",
                              "assn", "univ"}
TITLES = {"mr", "mrs", "ms", "miss", "dr", "cllr", "coun", "councillor", "sir", "dame", "brig", "brigadier",
          "prof", "professor", "lord", "lady", "baroness", "rev", "revd"}
ROLE_WORDS = {
    "chief", "fire", "officer", "assistant", "deputy", "chairman", "chair", "chairwoman", "leader",
    "police", "crime", "commissioner", "pcc", "station", "commander", "group", "watch", "area",
    "manager", "superintendent", "inspector", "sergeant", "constable", "detective", "mp", "labour",
    "conservative", "liberal", "democrat", "independent", "green", "secretary", "minister", "home",
    "head", "director", "mayor", "cabinet", "member", "spokesman", "spokeswoman", "spokesperson",
    "executive", "president", "vice", "portfolio", "holder", "union", "brigades", "fbu", "council",
    "county", "district", "borough", "and", "of", "&", "the", "for", "west", "mercia", "former",
    "new", "acting", "interim", "senior", "local", "national", "general", "lead", "leading",
    "cfo", "outgoing", "incoming", "retiring",
} | RANK_ABBREVIATIONS
LEADING_FUNCTION_WORDS = {"but", "and", "however", "then", "now", "after", "meanwhile", "speaking",
                          "also", "yet", "so", "in", "on", "at", "today", "yesterday", "last", "later",
                          "earlier", "addressing", "when", "while", "as", "here", "there", "this"}
OPENING_MARKS = "\u201c"
CLOSING_MARKS = "\u201d"
AMBIGUOUS_MARKS = '"'
QUOTE_MARKS = OPENING_MARKS + CLOSING_MARKS + AMBIGUOUS_MARKS
MAX_SCARE_QUOTE_WORDS = 4
MAX_SPEAKER_WORDS = 9
# An unattributed quotation this many paragraphs after an attributed one continues its speaker.
MAX_CONTINUATION_GAP = 2
# How far back (characters) to look for the person a pronoun means.
PERSON_LOOKBACK = 3000

PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v\u00a0]*\n\s*")


def _after_abbreviation_of(words: set[str]) -> str:
    """A regex that holds right after one of ``words`` written as a word in any case and a full stop
    (look-behinds, one per word length, as a look-behind must have a fixed width)."""
    by_length: dict[int, list[str]] = {}
    for word in words:
        by_length.setdefault(len(word), []).append(re.escape(word))
    return "|".join(rf"(?<=\b(?i:{'|'.join(sorted(group))})\.)" for _length, group in sorted(by_length.items()))


#: The full stop of an abbreviation written before a name ("Det.", "Insp.", "Dr."): no sentence ends
#: there (the full stop first, so that the look-behinds are tried only at a full stop).
NAME_ABBREVIATION_DOT = rf"\.(?:{_after_abbreviation_of(NAME_ABBREVIATIONS)})"
#: A character of a name or a post written after a quotation: no punctuation that ends a clause,
#: except the full stop of an abbreviation ("said Det. Insp. Jane Smith").
NAME_CHAR = rf"(?:[^.,;:!?\"\u201c\u201d\n]|{NAME_ABBREVIATION_DOT})"
ROLE_CHAR = rf"(?:[^.;:!?\"\u201c\u201d\n]|{NAME_ABBREVIATION_DOT})"
#: A full stop that closes no abbreviation written before a name (negative look-behinds, one per word length).
POINT_NOT_OF_A_NAME_ABBREVIATION = r"\." + "".join(
    rf"(?<!\b(?i:{'|'.join(sorted(re.escape(word) for word in NAME_ABBREVIATIONS if len(word) == length))})\.)"
    for length in sorted({len(word) for word in NAME_ABBREVIATIONS}))
CLAUSE_END = rf"(?:[,;:!?\n]|{POINT_NOT_OF_A_NAME_ABBREVIATION})"
# A speaker phrase after a quotation is at most this many characters: room for a person, a post and
# whom they are with ("Detective Chief Inspector Mark Tully of West Mercia Police's major investigation
# unit", 85); the words are counted after (``MAX_SPEAKER_WORDS``, ``MAX_BODY_POST_AND_NAME_WORDS``).
MAX_SPEAKER_CHARS = 120
AFTER_VERB_FIRST = re.compile(
    rf"^[\s,.!?;:\u2013\u2014-]*{VERB}\s+(?P<speaker>{NAME_CHAR}{{1,{MAX_SPEAKER_CHARS}}}?)"
    rf"(?:,\s*(?P<role>{ROLE_CHAR}{{1,150}}?))?\s*(?:{CLAUSE_END}|$)")
AFTER_SPEAKER_FIRST = re.compile(
    rf"^[\s,.!?;:\u2013\u2014-]*(?P<speaker>{NAME_CHAR}{{1,{MAX_SPEAKER_CHARS}}}?)\s+{VERB}\b")
# '"...," Rod Hammerton, the county's chief fire officer, said.': a name, its apposition, the verb; a
# post in lower case may come first ('"...," station commander Ann Lee, of Bromyard fire station, said.').
AFTER_NAME_ROLE_VERB = re.compile(
    rf"^[\s,.!?;:\u2013\u2014-]*(?P<speaker>(?:[a-z][\w'\u2019-]*\s+){{0,3}}[A-Z]{NAME_CHAR}{{1,60}}?),\s*"
    rf"(?P<role>{ROLE_CHAR}{{1,150}}?),\s+{VERB}\b")
# '"...," the fire authority's head of finance, Joanne Coadey, told the meeting.': a post, the name, the verb.
AFTER_POST_NAME_VERB = re.compile(
    rf"^[\s,.!?;:\u2013\u2014-]*(?P<role>(?:[Tt]he|[Aa]n?|[Ii]ts|[Tt]heir)\s{NAME_CHAR}{{1,80}}?),\s*"
    rf"(?P<speaker>[A-Z]{NAME_CHAR}{{1,60}}?),\s+{VERB}\b")
TRAILING_AUXILIARY_WORDS = ("has", "have", "had", "was", "is", "then", "also", "later", "simply", "today", "yesterday",
                            "previously", "once", "recently")
TRAILING_AUXILIARIES = re.compile(rf"(?:\s+(?:{'|'.join(TRAILING_AUXILIARY_WORDS)}))+\s*$")
# (its "\b(?:[Aa]n?|[Tt]he)" written as one letter and a look-behind per alternative, so that the
# regex engine skips to those four letters instead of trying every position of the text)
SPOKESPERSON = re.compile(
    r"(?P<phrase>(?:A(?<!\wA)n?|a(?<!\wa)n?|T(?<!\wT)he|t(?<!\wt)he)\s+(?:(?:[A-Z&][\w&'\u2019-]*|and|of)\s+)*"
    r"(?:spokesman|spokeswoman|spokesperson))\b")
SPEECH_VERB_NEXT = re.compile(rf"\s*{VERB}\b")
PERSON_CONTINUATION = re.compile(rf"\s*(?:,|{VERB}\b|who\b|has\b|had\b|is\b|was\b|will\b)")
# "The chairman said it was "...": a speech verb a few words before the quotation mark.
SHORT_REPORTED_TAIL = re.compile(rf"\b{VERB}\b(?:,?\s+[\w'\u2019-]+){{0,5}},?\s*$")
# 'The chief officer said the plans would leave the county "without cover at night"': a speech verb
# up to twelve words before a quotation of more than a few words (a short one that far from its verb
# is a scare quote).
LONG_REPORTED_TAIL = re.compile(rf"\b{VERB}\b(?:\s+[\w'\u2019,-]+){{0,12}}\s*$")
VERB_IN_CLAUSE = re.compile(rf"(?:^|\s){VERB}\b")
#: The end of a sentence before the next quotation mark ('" PC Tom Hunt said. "').
SENTENCE_CLOSE = re.compile(r"[.!?]\s*$")
# A colon that gives a subject's words without a speech verb: 'Station manager Rob Evans had this
# advice: "..."', 'The message from PCSO Gemma Nash was clear: "..."', 'The commissioner's message to
# drivers was simple: "..."', 'A statement from the service read: "..."' (``QuoteAttributor._colon_introduction``).
MESSAGE_NOUNS = r"(?:advice|message|warning|plea|appeal|reminder|verdict|response|reply|words|statement)"
COLON_INTRODUCTION = re.compile(
    rf"^\s*(?:(?P<giver>{ROLE_CHAR}{{1,150}}?)\s+(?:had|has|gave|gives|issued|issues|offered|offers|shared|shares)"
    rf"\s+(?:this|these|a|an|some|the following|one|his|her|their|its)\s+(?:[\w-]+\s+){{0,2}}{MESSAGE_NOUNS}\b[^:]*"
    rf"|(?:[Tt]he|[Aa]n?|[Hh]is|[Hh]er|[Tt]heir|[Ii]ts)\s+(?:[\w-]+\s+)?{MESSAGE_NOUNS}\s+(?:from|of|by)\s+"
    rf"(?P<source>{ROLE_CHAR}{{1,150}}?)\s+(?:was|is|were|are|read|reads)\b[^:]*"
    rf"|(?P<owner>{NAME_CHAR}{{1,120}}?)['\u2019]s\s+(?:[\w-]+\s+)?{MESSAGE_NOUNS}\b[^:]*?\s(?:was|is|were|are)\b[^:]*"
    rf"):\s*$")
# A sentence that ends with its attribution: '... would be "decisions for the chief", a spokesman said.',
# '... has made "solid headway", according to a new report.'
CANDIDATE = re.compile(r"\b(?:candidate|hopeful|would-be)\b(?!s)", re.IGNORECASE)
CLAUSE_CONJUNCTION = re.compile(r"(?:,|;)\s+(?:while|but|whereas|although|though|and)\s+")
QUOTED_SPAN = re.compile(r"[\"\u201c][^\"\u201c\u201d\n]*[\"\u201d]")
SENTENCE_TAIL_ATTRIBUTION = re.compile(
    rf",\s*(?:according\s+to\s+(?P<according>[^,;:\"\u201c\u201d\n]{{3,80}}?)"
    rf"|(?P<speaker>[^,;:\"\u201c\u201d\n]{{3,80}}?)\s+{VERB})\s*[.!?]?\s*$")
# A speech verb after a form of "be" is passive ("it has been argued", "we are told", "Members were
# told"): the subject is not the speaker.
PASSIVE_BEFORE_VERB = re.compile(r"\b(?:is|are|was|were|been|being|be)\s*$", re.IGNORECASE)
#: what the last character before the trailing spaces must be for PASSIVE_BEFORE_VERB to match (the
#: words' last letters in any case, and the long s, which matches "s" case-insensitively)
PASSIVE_LAST_CHARACTERS = "sSeEnNgG\u017f"
RELATIVE_PRONOUNS = {"who", "which", "that", "whom"}
# Words that open a relative clause about something else than the speaker ("..., which Coun B described as").
RELATIVE_OPENERS = {"which", "where", "when", "whom", "whose"}
# A name at the start of a long subject followed by its own verb: "Cllr Patel welcomed Mr Hughes ... adding:".
LEADING_NAME = re.compile(
    r"^(?P<name>(?:(?:Mr|Mrs|Ms|Miss|Dr|Cllr|Councillor|Sir|Dame|Prof)\.?\s+)?[A-Z][\w'\u2019-]+"
    r"(?:\s+[A-Z][\w'\u2019-]+)*)\s+[a-z]")
# Lead-ins before the subject: "According to the fire authority", "In a statement, the service".
LEAD_IN = re.compile(
    r"\s*(?:according\s+to|(?:in|during)\s+(?:a|an|the|its|his|her|their)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:statement|letter|report|interview|release|speech|response|reply|briefing|post|email)\b,?)\s+",
    re.IGNORECASE)
# Before a sentence's subject: an adverbial lead-in up to its comma ("After the result was
# announced at the count, he said ...", "In a letter to members, Councillor A ...").
SUBJECT_LEAD_IN = re.compile(
    r"(?:after|when|while|as|once|before|following|speaking|in|on|at|during|since|earlier|later|today|"
    r"yesterday|last|this|meanwhile|however)\b[^,.;:\"\u201c\u201d\n]{0,120},\s*", re.IGNORECASE)
# An opening participial clause before the subject ("Asked whether the Home Office had been told, the
# force said:", "Pressed on the plan, the service said:"): a participle, then a preposition or
# determiner (so "Manning said" is none), then its words up to the comma.
PARTICIPLE_OPENING = re.compile(
    r"\s*(?P<participle>[A-Z][a-z]{2,}(?:ed|ing))\s+(?:about|whether|if|on|over|what|why|how|to|for|by|at|after|"
    r"in|with|from|of|the|a|an|his|her|its|their)\b")
PARTICIPLE_CLAUSE_REST = re.compile(r"[^,.;:!?\"\u201c\u201d\n]{0,120},")
# A one-word name with a thing's relative clause after it ("Unison, which represents ...").
LONE_ORGANISATION = re.compile(r"(?P<name>[A-Z][\w'\u2019&-]*),\s+which\s")
PRONOUN_SUBJECT = re.compile(r"(?:he|she)\b", re.IGNORECASE)
# ", who said", ", who told the meeting": a person who speaks in a relative clause.
SUBJECT_OF_RELATIVE_SPEECH = re.compile(rf",\s*who\s+(?:[\w'\u2019-]+\s+){{0,2}}?{VERB}\b")
# Words that open a predicate, not a name or a description: "was at the scene and", "has since".
PREDICATE_OPENERS = {"was", "is", "were", "are", "has", "had", "have", "will", "would", "had", "then", "also"}
# Words that open an adverbial phrase before the subject ("On Twitter,", "In a post,", "At the meeting,").
ADVERBIAL_OPENERS = {"on", "in", "at", "during", "after", "before", "following", "via", "through", "from"}
PREPOSITIONS_BEFORE_NAME = {"at", "of", "for", "with", "from", "in", "on", "to", "by", "the", "a", "an"}
AUXILIARIES = {"has", "have", "had", "was", "is", "then", "also", "later", "simply", "today", "yesterday",
               "previously", "once", "recently"}
HONOURS = {"mbe", "obe", "cbe", "qpm", "kpfsm", "qfsm", "dl", "jp", "kc", "qc"}
NOT_NAME_WORDS = ROLE_WORDS | LEADING_FUNCTION_WORDS | {
    "authority", "authorities", "service", "services", "rescue", "brigade", "office", "party",
    "mercia", "midlands", "shropshire", "hereford", "worcester", "herefordshire", "worcestershire",
    "telford", "wrekin", "shrewsbury", "government", "parliament", "court", "high", "the", "a",
    "his", "her", "their", "our", "its", "street", "road", "park", "station", "hall", "house", "centre",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "news", "times", "star", "gazette", "advertiser", "he", "she", "they", "it", "we", "i", "this",
    "fire", "police", "crime", "council", "county", "district", "royal", "national", "union",
}
# A run of capitalised words, or one capitalised word before a speech verb. Written as "a capital
# letter not preceded by a word character" rather than "\b[A-Z]": the same matches, but the regex
# engine can then skip to the next capital letter instead of trying every position (the
# possessive quantifiers give back nothing a space could follow).
CAPITALISED_RUN = re.compile(
    rf"[A-Z](?<!\w[A-Z])(?:[\w'\u2019.-]*+(?:[ \t]+[A-Z][\w'\u2019.-]*+)+|[a-z]++(?=\s+{VERB}\b))")
FUNCTION_WORDS = {"the", "and", "of", "&", "for", "new", "former", "local", "national", "general", "west",
                  "mercia", "county", "district", "home", "group", "area", "watch", "station", "union"}
CONTENT_ROLE_WORDS = ROLE_WORDS - FUNCTION_WORDS  # role words that are not function words
POST_WORDS = ROLE_WORDS - {"the", "and", "of", "&", "for", "new"}   # words of a post ("Group", "Station", "Fire")
PREPOSITIONS = {"at", "in", "on", "from", "to", "of", "by", "near", "for", "into", "with", "and", "the"}
# The end of a sentence: not the full stop of an abbreviation written before a name ("Det. Insp.
# Jane Smith", "Dr. Hale").
SENTENCE_END = re.compile(rf"(?:[!?]|{POINT_NOT_OF_A_NAME_ABBREVIATION})\s+(?=[A-Z\"\u201c])")
TOKEN = re.compile(r"[\w'\u2019&.-]+")
# An apposition after a name: "Roger Phillips, chairman of the fire authority, said".
APPOSITION = re.compile(rf"(?:\s+[A-Z]{{2,4}})*(?P<apposition>,(?!\s*(?:{CLAUSE_START})\b)"
                        rf"[^.;:\"\u201c\u201d\n]{{3,120}}?)"
                        rf"(?=[,.;]|\s+(?:{VERB}|has|had|is|was|who)\b)")
CLAUSE_BREAK = re.compile(r"[.;:\"\u201c\u201d\n]")
PARENTHESES = re.compile(r"\([^()]*\)")
SENTENCE_POINT = re.compile(rf"(?:[!?]|{POINT_NOT_OF_A_NAME_ABBREVIATION})\s")
SENTENCE_POINT_OR_END = re.compile(rf"(?:[!?]|{POINT_NOT_OF_A_NAME_ABBREVIATION})(?=\s|$)")
CONJUNCTION_CLAUSE = re.compile(
    r"(?:^|[,;]\s*)(?:but|and|while|whereas)\s+(?=\S)(?!.*[,;]\s*(?:but|and|while|whereas)\s)", re.IGNORECASE)
COMMA = re.compile(r",\s*")
# The closed word classes of English (determiners, pronouns, relative and question words,
# conjunctions, prepositions, auxiliaries, adverbs of time, place and discourse): none of them names
# a post, so a role made only of them ("But", "which", "him", "one of them") is no role.
CLOSED_CLASS_WORDS = {
    "a", "an", "the", "this", "that", "these", "those", "some", "any", "no", "every", "each", "all", "both",
    "either", "neither", "another", "such", "much", "many", "more", "most", "few", "several", "other",
    "i", "me", "my", "mine", "we", "us", "our", "ours", "you", "your", "yours", "he", "him", "his", "she", "her",
    "hers", "it", "its", "they", "them", "their", "theirs", "myself", "himself", "herself", "itself", "ourselves",
    "themselves", "one", "ones",
    "who", "whom", "whose", "which", "what", "where", "when", "why", "how", "whether", "whatever", "whoever",
    "and", "or", "but", "nor", "yet", "so", "if", "because", "although", "though", "while", "whereas", "as",
    "than", "unless", "until", "since",
    "of", "in", "on", "at", "by", "for", "with", "from", "to", "into", "onto", "about", "after", "before", "over",
    "under", "between", "through", "during", "against", "among", "without", "within", "across", "behind",
    "beyond", "near", "around", "upon", "via", "per",
    "is", "are", "was", "were", "be", "been", "being", "am", "has", "have", "had", "do", "does", "did", "will",
    "would", "shall", "should", "can", "could", "may", "might", "must",
    "not", "also", "then", "now", "here", "there", "today", "yesterday", "tomorrow", "however", "meanwhile",
    "still", "just", "only", "even", "too", "very", "again", "already", "soon", "later", "earlier", "once",
    "ever", "never", "always", "back", "instead", "indeed", "perhaps", "speaking",
}
# Closed-class words that open a clause, not a noun phrase: a personal pronoun ("He welcomed the
# sentences"), a question or relative word other than "who"/"whose"/"whom" ("which", "where
# Telford"), a conjunction ("But"), an auxiliary ("were commended by"). A role may open with other
# closed-class words: a determiner ("the chief"), a preposition ("of the Environment Agency", "as
# interim chief"), a relative "who" ("who chairs the fire authority"), an adverb ("once a watch
# commander", "soon to become").
CLAUSE_OPENERS = {
    "i", "me", "we", "us", "you", "he", "him", "she", "it", "they", "them",
    "which", "what", "where", "when", "why", "how", "whether", "whatever", "whoever", "that",
    "and", "or", "but", "nor", "yet", "so", "if", "because", "although", "though", "while", "whereas", "unless",
    "until", "than",
    "is", "are", "was", "were", "be", "been", "being", "am", "has", "have", "had", "do", "does", "did", "will",
    "would", "shall", "should", "can", "could", "may", "might", "must",
}
# Closed-class words inside a role written before a name ("head of the service", "fire and rescue").
ROLE_INNER_WORDS = {"of", "the", "and", "&"}
# A number or a word that starts with a digit (an age, "56", "the 30-year-old", a year): no post.
NUMBER_WORD = re.compile(r"\d")
# A full stop before a space or the end: a sentence ended inside the phrase, unless it closes an
# initial or an abbreviation (``_sentence_stop``).
SENTENCE_STOP = re.compile(r"\.(?=\s|$)")
WORD_BEFORE = re.compile(r"(?<![\w'\u2019-])[A-Za-z]+$")



def _sentence_stop(phrase: str) -> bool:
    """Whether a sentence ends inside ``phrase`` ("Malvern. Jan Lockett"): a full stop before a space
    or the phrase's end that closes no initial ("J."), no two-letter title ("Dr.", "St."), no
    abbreviation written before a name ("Det. Insp."), and no abbreviation ending an organisation's
    name at the phrase's end or before a lowercase word ("managing director of Acme Ltd.")."""
    for match in SENTENCE_STOP.finditer(phrase):
        dot = match.start()
        if dot > 0 and phrase[dot - 1].isupper():
            continue   # an initial or an acronym ("J.", "FBU.")
        word = WORD_BEFORE.search(phrase, max(0, dot - 6), dot)
        if word is not None:
            word = word.group(0)
            if len(word) == 2 and word[0].isupper() or word.lower() in NAME_ABBREVIATIONS:
                continue   # a title or a rank ("Dr.", "St.", "Insp.")
            rest = phrase[dot + 1:].lstrip()
            if word.lower() in ORGANISATION_ABBREVIATIONS and (not rest or rest[0].islower()):
                continue   # "of Acme Ltd."
        return True
    return False
SPEECH_VERB_WORD = re.compile(VERB, re.IGNORECASE)
# A conjunction with nothing after it but a comma or the phrase's end: a coordination cut in two
# ("Mark Hall and, who run the shop" from "Mark Hall and Lucy Street, who run the shop").
DANGLING_CONJUNCTION = re.compile(r"(?:^|\s)(?:and|or|nor|&)\s*(?:,|$)", re.IGNORECASE)
POSSESSIVE_END = re.compile(r"['\u2019]s$")
SENTENCE_BREAK = re.compile(r"[.;:\n]")
# "PCC John Campion and Chief Constable David Shaw": the body before "and" is the first person's.
COORDINATION = re.compile(r"\s(?:and|&|with|or)\s|,")
CLAUSE_OR_COMMA = re.compile(r"[,.;:\"\u201c\u201d\n]")
# A word of a role written before a name: lowercase, or an acronym ("area FBU secretary").
ROLE_BEFORE_WORD = re.compile(r"[a-z][\w'\u2019-]*|[A-Z]{2,}(?:[&'\u2019]s?)?")


def _word_start(word: str) -> str:
    """A regex for ``\\b`` + ``word`` (literal) that the regex engine can find by its first
    characters: the word, then a look-behind that no word character precedes it (which is what
    ``\\b`` means before a word character)."""
    escaped = re.escape(word)
    if not re.match(r"\w", word[:1]):
        return rf"\b{escaped}"
    return rf"{escaped}(?<!\w{escaped})"


@functools.lru_cache(maxsize=8192)
def _whole_word(word: str) -> re.Pattern:
    """``\\bword\\b``, compiled once per word (surnames are looked up in every quote's article)."""
    return re.compile(rf"{_word_start(word)}\b")


# The characters outside ASCII that a case-insensitive pattern matches to an ASCII letter ("i",
# "s", "k") while str.lower() does not make them that letter one for one: dotted capital I,
# dotless i, long s, the Kelvin sign (every code point tested). In a text without them, a
# lowercase ASCII word is found in the lowercased text exactly where ``_whole_word_any_case``
# finds it in the text (lowercasing keeps every other character's length and word-ness).
CASE_SPECIAL_CHARACTERS = "\u0130\u0131\u017f\u212a"


def _without_trailing_auxiliaries(phrase: str) -> str:
    """``phrase`` less the auxiliaries and adverbs it ends with (``TRAILING_AUXILIARIES``: "Mr Hale
    has", "the chief then"); the regex, which tries every space of the phrase, only for a phrase
    that ends with one of those words (the cheap test first)."""
    return TRAILING_AUXILIARIES.sub("", phrase) if phrase.rstrip().endswith(TRAILING_AUXILIARY_WORDS) else phrase


def _passive_before(phrase: str) -> bool:
    """Whether ``phrase`` ends with a form of "be" (``PASSIVE_BEFORE_VERB``); the regex, which tries
    every character of the phrase, only when its last character can end one."""
    last = phrase.rstrip()[-1:]
    return bool(last) and last in PASSIVE_LAST_CHARACTERS and PASSIVE_BEFORE_VERB.search(phrase) is not None


def _not_for_a_body(role: str) -> bool:
    """Whether ``NOT_FOR_A_BODY`` finds a word in ``role``: found with its lowercase twin in the role
    lowercased, which finds one exactly when it does (``CASE_SPECIAL_CHARACTERS``: the words are
    ASCII), unless the role holds one of those characters."""
    if any(character in role for character in CASE_SPECIAL_CHARACTERS):
        return NOT_FOR_A_BODY.search(role) is not None
    return NOT_FOR_A_BODY_LOWERCASE.search(role.lower()) is not None


@functools.lru_cache(maxsize=8192)
def _whole_word_any_case(word: str) -> re.Pattern:
    return re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)


@functools.lru_cache(maxsize=8192)
def _name_completions(name: str) -> tuple[re.Pattern, re.Pattern]:
    """``Name Other`` and ``Other Name``: a lone first name or surname with the rest of the name."""
    return (re.compile(rf"{_word_start(name)}[ \t]+[A-Z][a-z]+\b"),
            re.compile(rf"[A-Z](?<!\w[A-Z])[a-z]+[ \t]+{re.escape(name)}\b"))


@dataclass
class Speaker:
    """Who said a quote: display name, role phrase, watched entity, and where it was written."""

    name: str | None
    role: str | None = None
    entity_id: str | None = None
    start: int | None = None
    end: int | None = None
    inferred: bool = False   # the body rests on an inferred mention or on `governs` (``entity_method = "inferred"``)
    # "of Staffordshire", "from Warwickshire": whom or where the person is with, written after the
    # name ("Inspector Tom Hale, of Staffordshire", "Ann Lee from Warwickshire"); the role holds it
    # too, joined to the post ("Inspector of Staffordshire"), where it reads like "Head of Prevention"
    affiliation: str | None = None
    # the person a titled or lone surname is when the article names someone of that surname whom
    # the watchlist does not know ("Owner Sarah Campion ... said Mrs Campion": "Sarah Campion"):
    # the speaker id is theirs, not the watchlist person's
    namesake: str | None = None


# Returned when the attribution is a passive report ("it has been argued", "we are told"): the
# quotation has no speaker to name and does not continue the previous speaker's quote.
NO_SPEAKER = Speaker(name=None)


def paragraph_breaks(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the blank-line breaks between the paragraphs of ``text``."""
    return [match.span() for match in PARAGRAPH_BREAK.finditer(text)]


def _paragraph_spans(text: str, breaks: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    spans, start = [], 0
    for break_start, break_end in paragraph_breaks(text) if breaks is None else breaks:
        spans.append((start, break_start))
        start = break_end
    spans.append((start, len(text)))
    return [(start, end) for start, end in spans if end > start]


def _quote_marks(text: str) -> list[int]:
    """Offsets of every quotation mark in ``text``, in order (``str.find`` per mark: a few times
    faster than a regex's match objects)."""
    marks = []
    for char in QUOTE_MARKS:
        offset = text.find(char)
        while offset != -1:
            marks.append(offset)
            offset = text.find(char, offset + 1)
    marks.sort()
    return marks


def _quote_segments(text: str, start: int, end: int,
                    marks: list[int] | None = None) -> tuple[list[tuple[int, int]], bool]:
    """Quoted ``(open, close)`` mark offsets inside one paragraph; True if the last one is unclosed
    (``marks``: the offsets of the text's quotation marks, when the caller has them)."""
    segments: list[tuple[int, int]] = []
    opened: int | None = None
    if marks is None:
        marks = _quote_marks(text)
    for offset in marks[bisect.bisect_left(marks, start):bisect.bisect_left(marks, end)]:
        char = text[offset]
        if opened is None:
            if char in CLOSING_MARKS:
                continue
            # A straight quote right after a letter is an apostrophe-like mark, not an opening.
            if char in AMBIGUOUS_MARKS and offset > start and text[offset - 1].isalnum():
                continue
            opened = offset
        else:
            segments.append((opened, offset))
            opened = None
    if opened is not None:
        segments.append((opened, end))
        return segments, True
    return segments, False


def find_quotations(text: str, breaks: list[tuple[int, int]] | None = None) -> list[dict]:
    """Raw quotations: offsets of the quoted pieces (marks excluded) and the paragraphs they span
    (``breaks``: the text's ``paragraph_breaks``, when the caller has them)."""
    paragraphs = _paragraph_spans(text, breaks)
    quotations: list[dict] = []
    consumed: set[int] = set()        # paragraphs wholly inside an earlier continued quotation
    skip_first: set[int] = set()      # paragraphs whose first segment ended a continued quotation
    marks = _quote_marks(text)
    for index, (para_start, para_end) in enumerate(paragraphs):
        if index in consumed:
            continue
        first_mark = bisect.bisect_left(marks, para_start)
        if first_mark == len(marks) or marks[first_mark] >= para_end:
            continue   # no quotation mark in the paragraph
        segments, unclosed = _quote_segments(text, para_start, para_end, marks)
        if index in skip_first:
            segments = segments[1:]
        for number, (open_mark, close_mark) in enumerate(segments):
            pieces = [(open_mark + 1, close_mark)]
            last_paragraph = index
            if number == len(segments) - 1 and unclosed:
                # An unclosed quotation continues into following paragraphs that open with a mark.
                while last_paragraph + 1 < len(paragraphs):
                    next_start, next_end = paragraphs[last_paragraph + 1]
                    if text[next_start] not in OPENING_MARKS + AMBIGUOUS_MARKS:
                        break
                    next_segments, next_unclosed = _quote_segments(text, next_start, next_end, marks)
                    pieces.append((next_segments[0][0] + 1, next_segments[0][1]))
                    last_paragraph += 1
                    if len(next_segments) == 1 and next_unclosed:
                        consumed.add(last_paragraph)
                        continue
                    skip_first.add(last_paragraph)
                    break
            quotations.append({"pieces": pieces, "open_mark": open_mark, "close_mark": pieces[-1][1],
                               "first_paragraph": index, "last_paragraph": last_paragraph})
    return quotations


def _is_quotation(phrase: str) -> bool:
    """Whether ``phrase`` is one quotation and nothing else ('"We are excited," '): no speaker."""
    stripped = phrase.strip(" ,")
    return len(stripped) > 1 and stripped[0] in QUOTE_MARKS and stripped[-1] in QUOTE_MARKS and not any(
        mark in stripped[1:-1] for mark in QUOTE_MARKS)


def _words(phrase: str) -> list[str]:
    return list(_word_tuple(phrase))


@functools.lru_cache(maxsize=8192)
def _word_tuple(phrase: str) -> tuple[str, ...]:
    """The words of a phrase, found once per phrase: the same speaker names and roles are split
    again and again (each call of ``_words`` gets its own list)."""
    return tuple(TOKEN.findall(phrase))


def _first_word(phrase: str) -> str:
    """The first word of a phrase, lowercase ("" if none)."""
    parts = phrase.split(None, 1)
    return parts[0].lower().strip(",.;:'\"()") if parts else ""


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper()


def _bare(word: str) -> str:
    """A word lowercase without the full stop of an abbreviation ("Insp." -> "insp")."""
    return word.lower().rstrip(".")


# Between a body's name and a person's: "'s chairman, Councillor Stuart " / "'s head of finance, ".
POST_OF_BODY = re.compile(r"^['\u2019]s\s+(?:[a-z]+\s+){0,3}(?P<noun>[a-z]+)(?:\s+of\s+[a-z]+)?,\s+"
                          r"(?:[A-Z][\w'\u2019-]*\.?\s+){0,3}$")
# Words that cannot be a surname even after a title ("Councillor Fire Authority" is no one).
TITLED_STOP = {"the", "of", "and", "for", "fire", "police", "crime", "council", "county", "authority",
               "service", "services", "rescue", "commissioner", "chief", "officer", "brigade", "force"}
# Unions of word sets tested in loops, built once.
TITLED_STOP_OR_TITLES = TITLED_STOP | TITLES
NOT_A_SUBJECT_WORDS = LEADING_FUNCTION_WORDS | RELATIVE_PRONOUNS
TRAILING_ASIDE_WORDS = LEADING_FUNCTION_WORDS | {"though", "too"}


def _titled_tail(words: list[str]) -> int | None:
    """Where a title-led name ending ``words`` starts ("The fire authority's chairman, Councillor Stuart
    West" -> the index of "Councillor"): after a personal title, one to three capitalised words are a
    name even when they are also place or role words ("Mr West", "Cllr Hall")."""
    for count in (1, 2, 3):
        start = len(words) - count - 1
        if start < 0:
            break
        if words[start].lower().rstrip(".") in TITLES and all(
                _is_capitalised(word) and word.lower() not in TITLED_STOP_OR_TITLES for word in words[start + 1:]):
            return start
    return None


def given_names() -> frozenset[str]:
    """Given names, lowercase (``data/given_names.txt``: the 1990 US Census first names), less the
    words that name places, posts, times or closed-class words ("May", "Royal", "In"); read once
    (``_GIVEN_NAMES``, which the hot path tests before calling)."""
    global _GIVEN_NAMES
    if _GIVEN_NAMES is not None:
        return _GIVEN_NAMES
    from nlp import packaged_data

    with open(packaged_data("given_names.txt"), encoding="utf-8") as lines:
        names = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    _GIVEN_NAMES = frozenset(names - NOT_NAME_WORDS - CLOSED_CLASS_WORDS - TIME_WORDS - ORGANISATION_WORDS
                             - ROLE_OR_PERSON_NOUNS)
    return _GIVEN_NAMES


_GIVEN_NAMES: frozenset[str] | None = None   # given_names(), once read


# Words that are no surname even after a given name: organisations', function words, the kinds of
# place a given name often names ("Victoria Road", "Albert Square", "Elizabeth Centre") and a fire
# station's watches, named by colours that are also given names ("Amber Watch").
NOT_A_SURNAME = {"road", "avenue", "square", "centre", "center", "station", "gardens", "crescent", "terrace",
                 "watch"}


def _given_name_then_surname(first: str, last: str) -> bool:
    """Whether ``first last`` is a given name and a surname that is also a word of places or posts
    ("Paul Green", "Mark Hall", "Lucy Street", "Theresa May"): a capitalised given name, then a
    capitalised word that names no organisation, title or kind of road ("Green Party", "Town Hall",
    "Victoria Road" are no one)."""
    if first.lower() not in (_GIVEN_NAMES or given_names()) or not (_is_capitalised(first) and _is_capitalised(last)) or (
            first.isupper() or last.isupper()):
        return False
    lowered = last.lower()
    return (lowered not in TITLED_STOP_OR_TITLES
            and lowered not in ORGANISATION_WORDS and lowered not in NOT_A_SURNAME)


def split_name_role(phrase: str) -> tuple[str | None, str | None]:
    """("Chief Fire Officer Nathan Travis") -> ("Nathan Travis", "Chief Fire Officer")."""
    words = _words(phrase)
    while words and words[0].lower() in LEADING_FUNCTION_WORDS:
        words = words[1:]
    while words and words[-1].lower() in HONOURS:
        words = words[:-1]
    if not words:
        return None, None
    # Trailing run of capitalised words (the name), titles kept with it; a given name makes the
    # word after it a surname even when it is a word of places or posts ("Paul Green").
    end = len(words)
    start = end - 1 if end > 1 and _given_name_then_surname(words[end - 2], words[end - 1]) else end
    while start > 0 and _is_capitalised(words[start - 1]) and _bare(words[start - 1]) not in NOT_NAME_WORDS and not (
            POSSESSIVE_END.search(words[start - 1])):   # "the Service's Paul Smith": the name starts after it
        start -= 1
    titled = _titled_tail(words) if start > 1 or start == end else None
    if titled is not None and titled + 1 < start:
        start = titled + 1   # "Councillor Stuart West": West is a surname here
    if start == end:
        return None, " ".join(words)
    run = start
    while run > 1 and words[run - 1].lower() in ("and", "&") and _is_capitalised(words[run - 2]):
        # "for Devon and Somerset", "of Telford & Wrekin": the last word of a coordinated run of
        # capitalised words starts no name; the run is one object
        run -= 1
        while run > 0 and _is_capitalised(words[run - 1]) and words[run - 1].lower() not in PREPOSITIONS_BEFORE_NAME:
            run -= 1
    if 0 < start and words[start - 1].lower() in PREPOSITIONS_BEFORE_NAME and not any(
            _is_capitalised(word) and _bare(word) not in NOT_NAME_WORDS for word in words[:start - 1]) or (
            run < start and 0 < run and words[run - 1].lower() in PREPOSITIONS_BEFORE_NAME and not any(
                _is_capitalised(word) and _bare(word) not in NOT_NAME_WORDS for word in words[:run - 1])):
        # "Director at Total Developments", "The flood warning for the River Teme": the capitalised run
        # is the object of a preposition, so the phrase is a role or a description, not a person.
        return None, " ".join(words)
    while start > 0 and words[start - 1].lower().rstrip(".") in TITLES:
        start -= 1
    if end - start == 1 and start > 0 and _bare(words[start - 1]) in RANK_TITLES and not (
            start > 1 and _is_capitalised(words[start - 2]) and _bare(words[start - 2]) in POST_WORDS):
        # "Officer Myers", "Inspector Corteen": a rank used as a title before a surname; not the
        # last word of a longer post ("Chief Fire Officer Penrose", "Group Commander Lee"): the
        # post is the role, the surname the name
        start -= 1
    name_words = words[start:end]
    if len(name_words) == 1 and name_words[0].lower() in TITLES:
        return None, " ".join(words)
    if len(name_words) == 1 and _place_acronym(words[start - 1] if start else "", name_words[0]):
        return None, " ".join(words)   # "a spokesperson for Shropshire NFU": no one is called NFU
    role = " ".join(words[:start]).strip(" ,") or None
    if role and role.lower() in ("the", "a", "an"):
        role = None
    return " ".join(name_words), role


def _place_acronym(before: str, word: str) -> bool:
    """Whether ``word`` is an organisation's acronym after a place word that is no given name
    ("Shropshire NFU", "Worcester BID", "West Mercia OPCC"): letters only, all capitals, at least
    two, right after a capitalised word of ``NOT_NAME_WORDS``. A person's name is never written so."""
    bare = word.rstrip(".")
    return (len(bare) >= 2 and bare.isalpha() and bare.isupper()
            and _is_capitalised(before) and _bare(before) in NOT_NAME_WORDS)


POST_END = re.compile(r",|\s(?:of|for|at|with|from|in)\s")


def _surname_after_post(name: str | None, role: str | None) -> bool:
    """Whether ``name`` is a lone surname written after a capitalised post ("Chief Fire Officer
    Penrose", "Station Manager Hughes", "Group Commander Lee"): a person, though one word."""
    if not name or not role or " " in name.strip():
        return False   # most speakers: no post, or more than one word
    words = _words(name)
    role_words = _words(POST_END.split(role, 1)[0])   # "Chief Fire Officer of DSFRS": the post
    return (len(words) == 1 and _is_capitalised(words[0]) and not words[0].isupper()
            and _bare(words[0]) not in NOT_NAME_WORDS and bool(role_words) and _is_capitalised(role_words[-1])
            and _bare(role_words[-1]) in RANK_TITLES | POST_ENDS)


def _lone_surname(name: str) -> bool:
    """Whether ``name`` is one capitalised word that can be a surname and names nobody alone
    ("Johnston"; not "HWFRS", "Police", "He")."""
    words = _words(name)
    return (len(words) == 1 and _is_capitalised(words[0]) and not words[0].isupper() and words[0].isalpha()
            and _bare(words[0]) not in NOT_NAME_WORDS and words[0].lower() not in PRONOUNS
            and words[0].lower() not in TITLES)


def _same_first_name(first: str, known: set[str]) -> bool:
    """Whether a first name may be one of ``known`` (lowercase): the same, or one a short form of
    the other ("Jonathon" and the watchlist's "Jon", "Matt" and "Matthew", "J." and "John")."""
    first = first.split("-")[0].rstrip(".")
    return any(first.startswith(other) or other.startswith(first) for other in known)


def _without_description(offset: int, name: str) -> tuple[int, str]:
    """``(offset, name)`` of a person named with a describing noun first ("Resident Kate Morgan",
    "Owner Sarah Campion"), less it: "Kate Morgan", at its own offset."""
    words = name.split(" ")
    while len(words) > 2 and _bare(words[0]) in ROLE_OR_PERSON_NOUNS:
        offset += len(words[0]) + 1
        words = words[1:]
    return offset, " ".join(words)


# Titles that say whether a man or a woman is meant: an article writing "Mr Corbett" and "Ms Corbett"
# names two people of that surname.
GENDERED_TITLES = {"mr": "m", "sir": "m", "lord": "m", "mrs": "f", "ms": "f", "miss": "f", "dame": "f", "lady": "f",
                   "baroness": "f"}


def _without_leading_description(name: str | None) -> str | None:
    """A person's name less the words before it that describe them ("Vendor Glenn Jones", "Parish
    Councillor Rosy Harding", "Shopkeeper Mark Kemble": the first name, then the surname), for their
    identity: a leading word goes when a title follows it, or when it is no given name and one
    follows it; the last two words always stay ("Mary Ann Smith", "Rhys Ifan Jones" keep theirs)."""
    words = (name or "").split()
    if len(words) < 3:
        return name
    names = _GIVEN_NAMES or given_names()
    while len(words) > 2 and (words[1].lower().rstrip(".") in TITLES or (
            words[0].lower() not in names and words[0].lower().rstrip(".") not in TITLES
            and words[1].lower() in names)):
        words = words[1:]
    return " ".join(words)


def _person_lookup_name(name: str | None, role: str | None) -> str | None:
    """``name`` in a form ``person_key`` reads: a lone surname after a post is looked up as a
    titled surname ("Penrose" -> "Mr Penrose"; the title is never shown)."""
    return f"Mr {name}" if _surname_after_post(name, role) else name


OF_ORGANISATION = re.compile(r"^(?P<person>.+?)\s+(?P<prep>of|from)\s+(?P<body>(?:the\s+)?[A-Z].*)$")


def split_person_of(phrase: str) -> tuple[str | None, str | None]:
    """("Station Manager Peter Grant of Shropshire Fire and Rescue Service") -> ("Peter Grant",
    "Station Manager of Shropshire Fire and Rescue Service"): a person's name followed by "of" or
    "from" and whom they are with. (None, None) when the words before "of" are not a person's
    name ("Friends of the Earth", "Mayor of London Sadiq Khan", "Bank of England")."""
    match = OF_ORGANISATION.match(" ".join(phrase.split()))
    if match is None:
        return None, None
    name, role = split_name_role(match.group("person"))
    if name is None or person_key(name) is None:
        return None, None
    body = f"{match.group('prep')} {match.group('body')}"
    return name, f"{role} {body}" if role else body


def _role_title(segment: str) -> bool:
    """A capitalised job title standing alone ("Ludlow Station Manager", "Chief Fire Officer"):
    at most six words, capitalised or function words, ending in a role word, naming nobody."""
    words = _words(segment)
    return (0 < len(words) <= 6 and _bare(words[-1]) in CONTENT_ROLE_WORDS
            and all(_is_capitalised(word) or word.lower() in FUNCTION_WORDS for word in words)
            and split_name_role(segment)[0] is None)


def _post_then_person(segment: str) -> bool:
    """A post written before a person's name ("Inspector Tom Hale", "Det Insp Tom Hale", "station
    commander Ann Lee"): a name :func:`person_key` reads, after at most six words ending in a role word."""
    name, role = split_name_role(segment)
    if name is None or not role or person_key(name) is None:
        return False
    words = _words(role)
    return 0 < len(words) <= 6 and _bare(words[-1]) in CONTENT_ROLE_WORDS


#: A body's name, its post and the person, after a quotation ('"...," Hereford & Worcester Fire and
#: Rescue Service's prevention manager Sue Hill said.'): longer than a speaker phrase may be.
MAX_BODY_POST_AND_NAME_WORDS = 16


def _body_post_then_person(segment: str) -> bool:
    """A post after a body's name, then a person ("Shropshire Fire and Rescue Service's chief fire
    officer Simon Hughes"): a name :func:`person_key` reads after a role ending in a role word, no comma."""
    if "," in segment or len(_words(segment)) > MAX_BODY_POST_AND_NAME_WORDS:
        return False
    name, role = split_name_role(segment)
    if name is None or not role or person_key(name) is None:
        return False
    return _bare(_words(role)[-1]) in CONTENT_ROLE_WORDS


def _person_of_a_body(segment: str) -> bool:
    """A person, with or without a post, "of" or "from" whom they are with ("Station Manager Tom Hale
    of Hereford & Worcester Fire and Rescue Service", "Detective Chief Inspector Mark Tully of West
    Mercia Police's major investigation unit"): a name :func:`person_key` reads before "of"/"from",
    no comma, at most ``MAX_BODY_POST_AND_NAME_WORDS`` words. Longer than a speaker phrase may be."""
    if "," in segment or len(_words(segment)) > MAX_BODY_POST_AND_NAME_WORDS:
        return False
    return split_person_of(segment)[0] is not None


def _leading_name(phrase: str) -> str | None:
    """The person starting a long subject that has its own verb ("Cllr Patel welcomed Mr Hughes to
    the meeting and"): a titled name or two or more capitalised words, followed by a lowercase word
    that is no role or function word."""
    match = LEADING_NAME.match(phrase.strip())
    if match is None or len(_words(phrase)) <= 3:
        return None
    name_words = _words(match.group("name"))
    following = phrase.strip()[match.end("name"):].split()[0].lower()
    titled = name_words[0].lower().rstrip(".") in TITLES
    if following in NOT_NAME_WORDS or any(word.lower() in NOT_NAME_WORDS for word in name_words[1 if titled else 0:]):
        return None
    if not titled and len(name_words) < 2:
        return None
    return " ".join(name_words)


# Newsroom names for posts: "the fire chief" is the chief fire officer, "the police chief" the chief constable.
ROLE_SYNONYM_OF = {"fire chief": "chief fire officer", "fire chiefs": "chief fire officers",
                   "fire boss": "chief fire officer", "police chief": "chief constable"}
ROLE_SYNONYMS = re.compile(r"\b(?:" + "|".join(sorted(ROLE_SYNONYM_OF, key=len, reverse=True)) + r")\b")
# Nouns that describe a person before their name ("retained firefighter Dave Eyres", "resident Ann Lee").
PERSON_NOUNS = {"firefighter", "firefighters", "resident", "residents", "campaigner", "volunteer", "councillor",
                "officer", "manager", "owner", "landlord", "worker", "driver", "nurse", "teacher", "pensioner",
                "neighbour", "witness", "boss", "member", "activist", "organiser", "founder"}
# The nouns a post ends in: "assistant chief fire officer", "the officer in charge", "head of finance".
ROLE_NOUNS = {"officer", "manager", "commander", "chairman", "chair", "chairwoman", "head", "director",
              "spokesman", "spokeswoman", "spokesperson", "leader", "secretary", "chief", "superintendent",
              "inspector", "sergeant", "constable", "commissioner", "firefighter", "treasurer", "clerk",
              "executive", "president", "controller", "adviser", "advisor", "coordinator", "lead"}
# Offices held by one person, named before them as a post is: "the Mayor of Ludlow, Councillor Ann
# Birch", "the policing minister, Jo Hale" (``_looks_like_description``).
OFFICE_NOUNS = {"mayor", "mayoress", "minister", "president", "governor", "coroner"}
ROLE_OR_PERSON_NOUNS = CONTENT_ROLE_WORDS | ROLE_NOUNS | PERSON_NOUNS   # a word before a name that makes it a person's


def _initials_of(acronym: str, name: str) -> bool:
    """Whether ``acronym`` ("SFRS") is made of the initials of ``name``'s capitalised words
    ("Shropshire Fire and Rescue Service"; "&", "and", "of" may count or not)."""
    if not acronym.isupper():
        return True   # not an acronym: nothing to check
    words = [word for word in re.findall(r"[\w&]+", name) if word[:1].isupper() or word == "&"]
    initials = "".join(word[0] for word in words if word != "&")
    return acronym.replace("&", "") in (initials, "".join(word[0].upper() for word in re.findall(r"\w+", name)))


def _looks_like_description(segment: str) -> bool:
    """Whether an apposition describes a person by their post: "assistant chief fire officer", "the
    officer in charge at Ellesmere Fire Station" (a determiner or a role word first, a role word
    among its first words), not a clause ("the plan is ...")."""
    words = [word.lower() for word in _words(segment)]
    if not words or len(words) > 12:
        return False
    if words[0] in DESCRIPTIVE_DETERMINERS:
        words = words[1:]
    head = []
    for word in words:
        if word in PREPOSITIONS:
            break
        head.append(word)
    return 0 < len(head) <= 5 and (head[-1] in ROLE_NOUNS or head[-1] in OFFICE_NOUNS)


def _looks_like_role(segment: str) -> bool:
    words = _words(segment)
    if not words:
        return False
    if words[0].lower() in ("who", "of", "for", "with", "from", "a", "an") or " of " in f" {segment} ":
        return True
    name, _role = split_name_role(segment)
    return name is None or _possessive_post(segment)


#: An organisation's post for something: "Shropshire Council's member for Church Stretton", "the
#: county's cabinet member for housing" (a possessive, up to two words, a role or person noun, a preposition).
POSSESSIVE_POST = re.compile(r"['\u2019]s\s+(?:[a-z][\w-]*\s+){0,2}?(?P<noun>[a-z][\w-]*)\s+(?:for|of|at|in|on)\s")


def _possessive_post(segment: str) -> bool:
    """Whether ``segment`` is an organisation's post for a place or a matter ("Shropshire Council's
    member for Church Stretton"): a description, though the place after "for" is capitalised (not
    "the service's head of prevention Paul Smith", a post and a name)."""
    match = POSSESSIVE_POST.search(segment)
    if match is None or match.group("noun") not in ROLE_OR_PERSON_NOUNS:
        return False
    name, role = split_name_role(segment)
    return name is None or (role is not None and _words(role)[-1].lower() in ("for", "of", "at", "in", "on"))


def _open_class(word: str) -> bool:
    """Whether ``word`` can name a post: not a closed-class word, a number or a time word."""
    lowered = word.lower().strip(".")
    return bool(lowered) and lowered not in CLOSED_CLASS_WORDS and lowered not in TIME_WORDS and not (
        NUMBER_WORD.match(lowered))


@functools.lru_cache(maxsize=8192)
def is_role_phrase(role: str | None) -> bool:
    """Whether ``role`` can be a speaker's role or description ("chief fire officer", "leader of
    the council", "of the Environment Agency", "who chairs the fire authority"): it holds a word
    that can name a post (not only closed-class words, numbers or time words: "But", "which",
    "him", "56", "Today", "one of them"), it does not open with a closed-class word that starts a
    clause rather than a noun phrase ("He welcomed ...", "where Telford ...", "were commended by
    ...") or with a speech verb ("said chief fire officer"), no sentence ends inside it
    ("Malvern." from "... and Malvern. Jan Lockett") and no conjunction is left without its second
    member ("Mark Hall and, who run the shop"); a capitalised word is a name unless it is a word of
    posts or bodies, and a name alone ("Wrekin", "Telford") is no role."""
    words = _words(role or "")
    if not words or _sentence_stop(role) or DANGLING_CONJUNCTION.search(role):
        return False
    first = words[0].lower()
    if first in CLAUSE_OPENERS or SPEECH_VERB_WORD.fullmatch(first):
        return False
    # a capitalised word outside the vocabulary of posts and bodies is a name (a place's or a
    # person's: "Wrekin", "Shropshire"), and a name alone is not a role
    return any(_open_class(word) and (not _is_capitalised(word) or word.isupper() or _stem(word) in ROLE_WORDS
                                      or _stem(word) in ROLE_OR_PERSON_NOUNS or _stem(word) in ORGANISATION_WORDS)
               for word in words)


def _stem(word: str) -> str:
    """A word lowercase without an abbreviation's full stop or a possessive ("Council's" -> "council")."""
    return POSSESSIVE_END.sub("", _bare(word))


def _role_or_none(role: str | None) -> str | None:
    return role if role and is_role_phrase(role) else None


def _join_roles(before_name: str | None, apposition: str | None) -> str | None:
    """A role written before a name and one written after it, as one ("Det. Insp." + "of West Mercia
    Police" -> "Det. Insp. of West Mercia Police"; "Chief Fire Officer" + "who leads the service" ->
    "Chief Fire Officer, who leads the service")."""
    if not before_name or not apposition:
        return before_name or apposition or None
    joiner = " " if _first_word(apposition) in ("of", "from", "at", "for") else ", "
    return f"{before_name}{joiner}{apposition}"


def _place_qualifier(affiliation: str, segment: str, watchlist=None) -> bool:
    """Whether ``segment``, the comma part after an affiliation ("of Taunton"), only places it: a
    capitalised name of at most three words that is a listed place or one of the watchlist's own
    ("Devon", "Shropshire"), or opens with no given name or title ("Somerset", "Worcs", "Co Mayo",
    "New South Wales"; not "Sarah Jones", "Kerry", "Mr Hale")."""
    if _first_word(affiliation) not in ("of", "from"):
        return False
    segment = segment.strip()
    words = segment.split()
    if not PLACE_NAME.fullmatch(segment) or len(words) > 3 or segment.lower().startswith("the "):
        return False
    if watchlist is not None and (starts_elsewhere(segment, watchlist) or segment.lower() in own_places(watchlist)):
        return True
    first = words[0].lower().strip(".")
    return first not in given_names() and first not in TITLES


#: How many places may qualify an affiliation in a chain ("of Newport, Gwent, Wales, UK").
MAX_PLACE_CHAIN = 3


def _with_place_chain_joined(segments: list[str], watchlist=None) -> list[str]:
    """``segments`` (a speaker phrase's comma parts) with an affiliation and the places qualifying
    it joined into one, when they end the phrase after a name: ["Mark Evans", "of Newport", "Gwent",
    "Wales"] -> ["Mark Evans", "of Newport, Gwent, Wales"]. The longest such chain, up to
    ``MAX_PLACE_CHAIN`` places; one place is quotes-16's "of Taunton, Somerset"."""
    if len(segments) < 3:
        return segments
    for start in range(max(1, len(segments) - 1 - MAX_PLACE_CHAIN), len(segments) - 1):
        if all(_place_qualifier(segments[start], segment, watchlist) for segment in segments[start + 1:]):
            return [*segments[:start], ", ".join([segments[start].rstrip(), *(part.strip() for part in segments[start + 1:])])]
    return segments


#: Relative words that open a clause about a thing or a place, not a person ("..., which is leading
#: the inquiry with West Mercia Police", "..., where the fire started").
THING_RELATIVES = ("which", "where")


def _about_a_thing(apposition: str) -> bool:
    """Whether an apposition after a speaker's name is a relative clause about the organisation or
    place named before it ('said Detective Inspector Rob Kay of Staffordshire Police, which is
    leading the inquiry with West Mercia Police'): a body it names is not the speaker's ("who
    chairs the fire authority" is about the speaker)."""
    return _first_word(apposition) in THING_RELATIVES


def _member_of_a_council(role: str) -> bool:
    """Whether a councillor's own description makes them a named council's member ("Councillor Dan
    Morgan, Shropshire Council's member for Church Stretton"): they speak for that council, not for
    the fire authority an article names."""
    return POSSESSIVE_POST.search(role) is not None and NAMED_COUNCIL.search(role) is not None


ORGANISATION_PREPOSITIONS = ("for", "of")
ORGANISATION_RUN_INNER_WORDS = {"for", "of", "and", "&"}


MAX_ORGANISATION_NAME_WORDS = 12


def _too_long_for_a_speaker(phrase: str) -> bool:
    """Whether ``phrase`` has too many words to be who spoke: more than ``MAX_SPEAKER_WORDS``, unless
    it is an organisation's name read whole with "of the" or "for" in it, of up to
    ``MAX_ORGANISATION_NAME_WORDS`` ("the Office of the Police and Crime Commissioner for West
    Mercia", eleven words)."""
    words = _words(phrase)
    if len(words) <= MAX_SPEAKER_WORDS:
        return False
    return len(words) > MAX_ORGANISATION_NAME_WORDS or _organisation_with_preposition(phrase) is None


def _article_after_preposition(word: str, before: str) -> bool:
    """Whether ``word`` is "the" right after an organisation name's "of" or "for" ("the Office of the
    West Mercia Police and Crime Commissioner", "the Office of the Police and Crime Commissioner for
    West Mercia"): a word of the name, not where it stops."""
    return word.lower() == "the" and before.lower() in ORGANISATION_PREPOSITIONS


def _organisation_with_preposition(segment: str) -> str | None:
    """The whole name of an organisation whose name has "for" or "of" after its noun ("the Department
    for Education", "the Independent Office for Police Conduct", "the Office for Product Safety and
    Standards", "the Office of the Police and Crime Commissioner"), as the segment writes it, or None. A person's name reads only its last capitalised
    words ("Education", "Conduct"), which name no one. Every word is capitalised or "for", "of",
    "and", "&", and an organisation's noun comes right before "for" or "of"; a post before it is
    not one ("the Chief Constable of West Mercia Police")."""
    words = _words(segment)
    while words and words[0].lower() in LEADING_FUNCTION_WORDS:
        words = words[1:]
    run = words[1:] if words and words[0].lower() == "the" else words
    if len(run) < 3 or not _is_capitalised(run[0]) or not _is_capitalised(run[-1]) or not all(
            _is_capitalised(word) or word.lower() in ORGANISATION_RUN_INNER_WORDS or _article_after_preposition(word, before)
            for before, word in zip([""] + run, run)):
        return None
    bare = [_bare(word) for word in run]
    if not any(word in ORGANISATION_WORDS and after in ORGANISATION_PREPOSITIONS for word, after in zip(bare, bare[1:])):
        return None
    return " ".join(words)


DETERMINERS_BEFORE_ADJECTIVE = {"a", "an", "the", "its", "their", "his", "her", "this", "these", "those"}


def _after_determiner(clause: str, verb_start: int) -> bool:
    """Whether the speech verb found at ``verb_start`` (its leading space) follows a determiner, so
    is an adjective ("a recalled dryer", "the agreed plan", "an alleged assault"), not a verb."""
    before = WORD_BEFORE.search(clause, 0, verb_start)
    return before is not None and before.group(0).lower() in DETERMINERS_BEFORE_ADJECTIVE


def _participle_opening(segment: str) -> bool:
    """Whether ``segment`` opens with a participle and a preposition or determiner ("Asked about the
    Home Office's letter", "Pressed on whether ...", "Welcoming the grant"): a lead-in, not a name
    ("According to ..." and a given name such as "Sterling" are not)."""
    match = PARTICIPLE_OPENING.match(segment)
    return match is not None and match.group("participle").lower() != "according" and (
        match.group("participle").lower() not in given_names())


def _participle_lead_in(clause: str) -> int:
    """The length of an opening participial clause up to and with its comma ("Asked whether the
    Home Office had been told,"), or 0: a speech verb inside it ("told") is not the quotation's."""
    if not _participle_opening(clause):
        return 0
    rest = PARTICIPLE_CLAUSE_REST.match(clause, PARTICIPLE_OPENING.match(clause).end())
    return rest.end() if rest is not None and clause[rest.end():].strip(" ,:") else 0


def _affiliation(apposition: str | None) -> str | None:
    """``apposition`` when it says whom or where a person is with: "of" or "from" and what follows,
    written after the name ("Inspector Tom Hale, of Staffordshire", "Ann Lee from Warwickshire")."""
    apposition = (apposition or "").strip(" ,")
    return apposition if _first_word(apposition) in ("of", "from") else None


def _role_without_name(role: str | None, name: str | None) -> str | None:
    """``role`` less a repetition of the speaker's name: a role is never the name itself ("Paul Green"
    as the role of Paul Green, "A spokesman" as the role of A spokesman); a name written at its start
    is dropped ("Paul Green, owner of the bakery" -> "owner of the bakery")."""
    if not role or not name or _first_word(role) != _first_word(name):
        return role
    role_words, name_words = [_bare(word) for word in _words(role)], [_bare(word) for word in _words(name)]
    if role_words == name_words:
        return None
    if role_words[:len(name_words)] == name_words and role[len(name):len(name) + 1] == ",":
        return role[len(name) + 1:].strip() or None
    return role


class QuoteAttributor:
    """Attributes the quotations of one article, remembering speakers for pronouns and surnames."""

    def __init__(self, text: str, mentions: list[dict], watchlist, published_at: str | None = None):
        self.text = text
        self.day = _parse_day(published_at)
        self.known_people = _people_index(watchlist, self.day)
        self.everyone = _people_index(watchlist, None)
        self.full_names, self.role_patterns = _watchlist_tables(watchlist)
        self.governs = _governs(watchlist)   # entity id -> the entity it governs (read only)
        self.place_words = _place_words(watchlist)   # the watchlist's words of places and bodies
        self.mentions = sorted(mentions, key=lambda mention: mention["start_char"])
        self.mention_starts = [mention["start_char"] for mention in self.mentions]
        self.watchlist = watchlist
        self.people: dict[str, Speaker] = {}
        self.last_speaker: Speaker | None = None
        self.last_speaker_offset = -1
        self.quoted_spans: list[tuple[int, int]] = []
        self._people_cache: list[tuple[int, str]] | None = None
        self._run_matches: list[re.Match] | None = None
        self._run_starts: list[int] = []
        self._judged_runs: dict[int, tuple[int, str] | None] = {}
        self._people_roles: dict[int, str | None] = {}   # offset of a person in _people -> role written before the name
        self._weights: dict[str, tuple[int, int, int]] | None = None
        self._has_candidate: bool | None = None
        self._has_anonymous: bool | None = None   # whether the text holds one of ANONYMOUS_VERBS
        self._namings: dict[str, list[tuple[int, str | None, str]]] = {}   # surname -> _surname_namings
        # surname -> the offsets of its whole-word occurrences, and (surname, how many of them come before
        # the quotation) -> _full_naming: what it finds depends on nothing else
        self._occurrences: dict[str, list[int]] = {}
        self._full_namings: dict[tuple[str, int], str | None] = {}
        self._affiliated: frozenset[str] | None = None   # words written right before "of X" / "from X"
        self._lowered: str | None = None   # _lowered_text ("" when it cannot be used)
        # the link checks' answers by their arguments: a speaker quoted again, or registered again
        # on the way (``_complete``, ``_settle_body``), asks the same questions; they read only
        # what is fixed for the article (mentions, watchlist, quotations), so ``attribute`` empties them
        self._role_links: dict[tuple, tuple[str | None, bool]] = {}
        self._elsewhere: dict[tuple, bool] = {}
        self.entity_counts: dict[str, int] = {}
        self.named: set[str] = set()   # bodies the article names (a mention that is not inferred)
        for mention in mentions:
            self.entity_counts[mention["entity_id"]] = self.entity_counts.get(mention["entity_id"], 0) + 1
            if mention.get("method") != INFERRED_MENTION:
                self.named.add(mention["entity_id"])

    # -- entity links --------------------------------------------------------------------
    def _entity_in(self, start: int, end: int) -> str | None:
        """The watched entity mentioned between ``start`` and ``end`` (last one wins)."""
        return self._link_in(start, end)[0]

    def _link_in(self, start: int, end: int) -> tuple[str | None, bool]:
        """``(entity, inferred)``: the watched entity mentioned between ``start`` and ``end`` (last
        one wins), and whether that mention was inferred ("the Commissioner" read as the PCC)
        rather than named."""
        first = bisect.bisect_left(self.mention_starts, start)
        found: tuple[str | None, bool] = (None, False)
        for mention in self.mentions[first:]:
            if mention["start_char"] >= end:
                break
            if mention["end_char"] <= end:
                found = (mention["entity_id"], mention.get("method") == INFERRED_MENTION)
        return found

    def _entity_for_role(self, role: str | None) -> str | None:
        """A watched body whose speaker roles match ``role`` and which the article mentions."""
        return self._role_link(role)[0]

    def _role_link(self, role: str | None, affiliation: str | None = None,
                   own_words: str | None = None) -> tuple[str | None, bool]:
        """``(entity, inferred)``: a watched body whose speaker roles match ``role`` and which the
        article mentions, and whether that rests on inference: the body is only inferred in the
        article, or only the body governing it is mentioned (``governs``). None when the role
        itself names another body or a place outside the watchlist ("Chief constable of Devon and
        Cornwall Police", "IRS Commissioner": ``_names_elsewhere``), or the speaker's
        ``affiliation`` is a place outside it ("Inspector Tom Hale, of Staffordshire":
        ``_place_elsewhere``). ``own_words`` are the words that say who the speaker is, when
        ``role`` holds more (the role and the person's name, whose words are no place: "Inspector
        of Hereford Tom Hale"); ``role`` by default. Asked once per article for the same arguments."""
        if not role or self.watchlist is None:
            return None, False
        key = (role, affiliation, own_words)
        link = self._role_links.get(key)
        if link is None:
            link = self._role_links[key] = self._find_role_link(role, affiliation, own_words)
        return link

    def _find_role_link(self, role: str, affiliation: str | None, own_words: str | None) -> tuple[str | None, bool]:
        """``_role_link``, worked out."""
        station = self._station_body(role)
        if station is not None:
            return station, False   # "the officer in charge at Ellesmere Fire Station": that station's service
        lowered = role.lower()
        if "chief" in lowered or "boss" in lowered:
            lowered = ROLE_SYNONYMS.sub(lambda match: ROLE_SYNONYM_OF[match.group(0)], lowered)
        matching = [entity_id for entity_id, pattern in self.role_patterns if pattern.search(lowered)]
        candidates = [entity_id for entity_id in matching if entity_id in self.entity_counts]
        if not candidates:
            # "Assistant Chief Fire Officer" in an article that names only the fire authority: the
            # officer serves the service that authority governs (inferred: the article does not say so).
            governed = {self.governs[governor] for governor in self.entity_counts if governor in self.governs}
            candidates = [entity_id for entity_id in matching if entity_id in governed]
            link = (candidates[0], True) if len(candidates) == 1 else (None, False)
        else:
            chosen = candidates[0] if len(candidates) == 1 else max(candidates, key=self._article_weight)
            link = (chosen, chosen not in self.named)
        if link[0] is not None and self._names_elsewhere(role if own_words is None else own_words,
                                                         before_posts=link[1], entity_id=link[0],
                                                         places=link[1], affiliation=affiliation):
            return None, False
        return link

    def _names_elsewhere(self, role: str | None, before_posts: bool = True, entity_id: str | None = None,
                         places: bool = True, affiliation: str | None = None) -> bool:
        """Whether a speaker's role names a body or a place outside the watchlist as theirs: another
        body the watchlist excludes ("West Midlands PCC"), or a capitalised name that is none of the
        watchlist's places and bodies nor a word of posts, standing where an affiliation stands:
        after "of", "from", "in" or "at" ("Chief constable of Devon and Cornwall Police", "a
        firefighter in Ohio"), or, with ``before_posts`` (for links that rest on inference), before
        a post or an organisation's noun ("IRS Commissioner", "Metropolitan Police Commissioner",
        "Kent's police and crime commissioner", "New South Wales Rural Fire Service commissioner";
        a body's own units and ranks read so too, "Patrol Inspector",
        "Community Risk Department", so a body the article names is not refused on it). A name
        after a possessive ("the service's Community Risk Department"), or followed in the role by
        a mention of ``entity_id`` ("from the Community Risk Department at the service"), is a
        part of that body.

        Without ``places`` (a post linked to a body the article names), a name after one of those
        prepositions counts only when it names an organisation: the last noun of the name and the
        lower-case nouns after it is one of ``_other_body_nouns`` ("of Devon and Cornwall Police",
        "of Devon and Cornwall police", "of Kent Fire and Rescue Service"), not a unit's
        (``UNIT_NOUNS``). A place, a station or a unit is where the body's officer serves or lives
        ("of Wem fire station", "from Droitwich Spa", "of Ludlow Safer Neighbourhood Team"),
        except a bare name after "in" that ends the role: it places the post itself ("a station
        manager in Ohio"), and a bare place outside the watchlist's places in the speaker's
        ``affiliation`` ("Inspector Tom Hale, of Staffordshire": ``_place_elsewhere``). Asked once
        per article for the same arguments."""
        key = (role, before_posts, entity_id, places, affiliation)
        answer = self._elsewhere.get(key)
        if answer is None:
            answer = self._elsewhere[key] = self._find_names_elsewhere(role, before_posts, entity_id, places,
                                                                       affiliation)
        return answer

    def _find_names_elsewhere(self, role: str | None, before_posts: bool, entity_id: str | None, places: bool,
                              affiliation: str | None) -> bool:
        """``_names_elsewhere``, worked out."""
        if affiliation is not None:
            if self._place_elsewhere(affiliation):
                return True
            if affiliation not in (role or ""):   # written after an earlier naming ("Inspector Tom Hale, of Kent Police")
                role = f"{role or ''} {affiliation}"
        if not role or self.watchlist is None:
            return False
        role = PARENTHESES.sub(" ", role)
        lowered = role.lower()
        other_bodies = _other_bodies(self.watchlist)
        if other_bodies is not None and other_bodies.search(lowered):
            return True
        local = _local_words(self.watchlist)
        tokens = list(TOKEN.finditer(role))
        words = [token.group(0) for token in tokens]
        foreign = [index for index, word in enumerate(words) if _is_capitalised(word) and _foreign_word(word, local)]
        if not foreign:
            return False   # most roles: only the watchlist's words and words of posts
        surfaces = {mention["surface"].lower() for mention in self.mentions if mention["entity_id"] == entity_id}
        nouns = _affiliation_nouns()
        for index in foreign:
            start = index   # the run of capitalised words the name is in ("Devon and Cornwall Police")
            while start and (_is_capitalised(words[start - 1]) or words[start - 1].lower() in RUN_INNER_WORDS):
                start -= 1
            end = index + 1
            while end < len(words) and (_is_capitalised(words[end]) or words[end].lower() in RUN_INNER_WORDS):
                end += 1
            rest = lowered[tokens[end - 1].end():]
            if any(re.match(rf"\s+(?:at|of|in|within|for|with)\s+{re.escape(surface)}\b", rest) or
                   re.match(rf"\s+(?:at|of|in|within|for|with)\s+the\s+{re.escape(surface)}\b", rest)
                   for surface in surfaces):
                continue      # "the Community Risk Department at the service": the body's own unit
            if start and words[start - 1].endswith(("'s", "\u2019s")):
                continue      # "the service's Community Risk Department": the owner's unit
            if start and words[start - 1].lower() in AFFILIATION_PREPOSITIONS:
                if places:
                    return True   # "of Devon and Cornwall Police", "from Florida"
                others, heads_of_names = _other_body_nouns(), _name_head_nouns()
                last = end   # the name and the lower-case nouns after it ("Wem fire station")
                while last < len(words) and (words[last].lower() in heads_of_names
                                             or words[last].lower() in RUN_INNER_WORDS):
                    last += 1
                heads = [_bare(word) for word in words[start:last] if _bare(word) in heads_of_names]
                if heads and heads[-1] in others:
                    return True   # "of Devon and Cornwall Police": another body
                if not heads and words[start - 1].lower() == "in" and end == len(words):
                    return True   # "a station manager in Ohio": the post is elsewhere
            if before_posts and any(_bare(after) in nouns for after in words[index + 1:min(end + 1, len(words))]):
                return True   # "IRS Commissioner", "New South Wales Rural Fire Service commissioner"
        return False

    def _place_elsewhere(self, affiliation: str | None) -> bool:
        """Whether an affiliation written after a speaker's name ("of Staffordshire", "from
        Warwickshire": ``Speaker.affiliation``) starts with a place elsewhere: a listed place
        (``data/uk_places.txt``) that is none of the watchlist's own (``nlp.places.starts_elsewhere``:
        "of Staffordshire", "from the Midlands", "of Stafford CID", "of Stafford fire station"), or
        a name qualified by one ("of Newport, Gwent": ``nlp.places.qualifies_elsewhere``). Unlisted
        names are never elsewhere: villages and suburbs ("from Hagley", "of Belle Vue, Shrewsbury"),
        units and functions ("of Economic Crime", "of the Dog Section", "of Shrewsbury's Red
        Watch"). An organisation ("of Staffordshire Police") is left to ``_names_elsewhere``
        (quotes-11's rule)."""
        if not affiliation or self.watchlist is None:
            return False
        text = " ".join(PARENTHESES.sub(" ", affiliation).split())
        text = re.sub(r"^(?:of|from)\s+", "", text, flags=re.IGNORECASE)
        words = _words(text)
        while words and words[0].lower() == "the":
            words = words[1:]
        end = 0   # the capitalised name ("Staffordshire", "Stafford CID", "Telford & Wrekin")
        while end < len(words) and (_is_capitalised(words[end]) or (
                end and words[end].lower() in RUN_INNER_WORDS and end + 1 < len(words)
                and _is_capitalised(words[end + 1]))):
            end += 1
        if not end:
            return False   # "of the county's fire service": no name
        heads = _name_head_nouns()
        last = end   # and the lower-case nouns after it ("Stafford fire station")
        while last < len(words) and (words[last].lower() in heads or words[last].lower() in RUN_INNER_WORDS):
            last += 1
        named = [_bare(word) for word in words[:last] if _bare(word) in heads]
        if named and named[-1] in _other_body_nouns():
            return False   # an organisation ("of Staffordshire Police"): quotes-11's rule
        if starts_elsewhere(text, self.watchlist):
            return True
        leading = PLACE_NAME.match(text)   # "Newport" of "Newport, Gwent"
        return bool(leading) and qualifies_elsewhere(text[leading.end():], self.watchlist)

    def _names_in_role(self, speaker: Speaker, entity_id: str) -> bool:
        """Whether the speaker's attribution mentions ``entity_id`` other than by the person's own
        name (a holder's name is a mention of their office)."""
        if speaker.start is None or speaker.end is None:
            return False
        name = (speaker.name or "").lower()
        first = bisect.bisect_left(self.mention_starts, speaker.start)
        for mention in self.mentions[first:]:
            if mention["start_char"] >= speaker.end:
                break
            if mention["entity_id"] == entity_id and mention["surface"].lower() not in name:
                return True
        return False

    def _contradicted(self, speaker: Speaker, entity_id: str) -> bool:
        """Whether a watchlist person's name ("John Campion") is someone else here: the attribution
        describes the speaker with a place or body outside the watchlist ("John Campion, a tennis
        coach from Florida"; in a description, not a relative clause, any capitalised word that is
        none of the watchlist's places and bodies nor a word of posts: "Roger Phillips, the Texas
        state senator"), or as "a" something that is no post of the person's body, in a word none
        of the watchlist's nor a word of posts, parties or titles ("John Campion, a tennis coach";
        not "a Conservative", "a Labour councillor"). A role that names the body ("West Mercia PCC
        John Campion") or fits it ("Mr Campion, the commissioner") contradicts nothing."""
        role = (speaker.role or "").strip()
        if not role:
            return False
        if self._names_elsewhere(role, before_posts=False, affiliation=speaker.affiliation):
            return True
        if _first_word(role) in RELATIVE_PRONOUNS:
            return False   # "who last year received a King's Fire Service Medal": what they did, not who they are
        local = _local_words(self.watchlist)
        words = _words(PARENTHESES.sub(" ", role))
        if any(_is_capitalised(word) and _foreign_word(word, local) for word in words):
            return True
        if _first_word(role) not in ("a", "an") or not any(_foreign_word(word, local) for word in words[1:]):
            return False
        lowered = role.lower()
        if "chief" in lowered or "boss" in lowered:
            lowered = ROLE_SYNONYMS.sub(lambda match: ROLE_SYNONYM_OF[match.group(0)], lowered)
        return not any(pattern.search(lowered) for owner, pattern in self.role_patterns if owner == entity_id)

    def _article_weight(self, entity_id: str) -> tuple[int, int, int]:
        """How much an article is about a body, to choose between bodies a role fits ("station
        manager" in a story naming two fire services): its mentions outside quotations, then its
        area's places named outside its mentions ("near Baschurch", "stations at Ellesmere and Wem"),
        then all its mentions."""
        if self._weights is None:
            self._weights = {}
            outside: dict[str, int] = {}
            for mention in self.mentions:
                if not any(start <= mention["start_char"] < end for start, end in self.quoted_spans):
                    outside[mention["entity_id"]] = outside.get(mention["entity_id"], 0) + 1
            spans = [(mention["start_char"], mention["end_char"]) for mention in self.mentions]
            for entity in (self.watchlist.entities if self.watchlist else ()):
                if entity.id not in self.entity_counts:
                    continue
                places = 0
                for term in entity.region_terms:
                    for match in _whole_word(term).finditer(self.text):
                        places += not any(start <= match.start() < end for start, end in spans)
                self._weights[entity.id] = (outside.get(entity.id, 0), places, self.entity_counts[entity.id])
        return self._weights.get(entity_id, (0, 0, self.entity_counts.get(entity_id, 0)))

    def _station_body(self, phrase: str) -> str | None:
        """The fire service whose area holds the fire station a phrase names ("Ellesmere Fire
        Station", "Craven Arms fire station"): the one fire service with that place among its
        region terms."""
        if "station" not in phrase.lower() or self.watchlist is None:
            return None
        words = [word.lower() for word in _words(phrase)]
        if words[0] in ("of", "from") and not ROLE_NOUNS.intersection(words):
            return None   # "Roger Smith, of Market Drayton Fire Station": someone there, not its voice
        places = _station_places(self.watchlist)
        for match in STATION.finditer(phrase):
            words = match.group("place").split()
            for start in range(len(words)):
                entity_id = places.get(" ".join(words[start:]).lower())
                if entity_id is not None:
                    return entity_id
        return None

    def _described_entity(self, name: str, before: int) -> tuple[str | None, str | None, bool]:
        """Role, entity and whether the link is inferred (see ``_role_link``) from an earlier
        description of the person ("X, chairman of Y,")."""
        surname = name.split()[-1]
        occurrences = list(_whole_word(surname).finditer(self.text, 0, before))
        described = None   # the first description that names no body ("Guy Williams, assistant chief fire officer,")
        for occurrence in occurrences:
            match = APPOSITION.match(self.text, occurrence.end(), before)
            if match is None:
                continue
            apposition = match.group("apposition").strip(" ,")
            if self._after_according_to(occurrence.start()) and not _looks_like_description(apposition):
                continue   # "According to X, the plan is ...": the main clause follows, not a description
            entity_id, inferred = self._link_in(match.start("apposition"), match.end("apposition"))
            if entity_id and not (inferred and self._names_elsewhere(apposition, entity_id=entity_id)):
                return apposition, entity_id, inferred
            if described is None and _looks_like_description(apposition):
                described = apposition
        if described is not None:
            entity_id, inferred = self._role_link(described, affiliation=_affiliation(described))
            if entity_id is not None:
                return described, entity_id, inferred
            if self._names_elsewhere(described):
                return described, None, False   # "Glen Mayhew, chief constable of Devon and Cornwall Police,"
        # A role naming the body just before the name: "HWFRS chief fire officer Nathan Travis".
        for occurrence in occurrences:
            window_start = max(0, occurrence.start() - 80)
            entity_id = self._entity_in(window_start, occurrence.start())
            if entity_id is None:
                continue
            last = next(mention for mention in reversed(self.mentions[:bisect.bisect_left(
                self.mention_starts, occurrence.start())]) if mention["entity_id"] == entity_id)
            inferred = last.get("method") == INFERRED_MENTION
            between = self.text[last["end_char"]:occurrence.start()]
            if between.strip() == "(" and not _initials_of(name, self.text[last["start_char"]:last["end_char"]]):
                continue   # "Women in the Fire Service (WFS)": the acronym names a longer name around the mention
            if len(between) <= 40 and not CLAUSE_BREAK.search(between) and not COORDINATION.search(between):
                return None, entity_id, inferred
            post = POST_OF_BODY.match(between)
            if post is not None and post.group("noun").lower() in ROLE_NOUNS:
                # "The fire authority's chairman, Councillor Stuart West": the body's post, then the name
                return self.text[last["start_char"]:last["end_char"]] + between.split(",")[0], entity_id, inferred
        return None, None, False

    def _register(self, speaker: Speaker, quote_start: int) -> Speaker:
        """Complete ``speaker`` from what is known about the same person, remember it, and settle
        the body the speaker speaks for (see ``_settle_body``). A role that cannot be one
        (``is_role_phrase``: "which", "56", "He welcomed the sentences") is dropped."""
        speaker.role = _role_or_none(speaker.role)
        organisation = self._spokesperson_of(speaker, quote_start)
        if organisation is not None:
            speaker.role = f"{speaker.name} for {organisation.name}"
            speaker.start, speaker.end = organisation.start, organisation.end
        speaker = self._complete(speaker, quote_start)
        speaker.role = _role_or_none(speaker.role)
        speaker.entity_id, speaker.inferred = self._settle_body(speaker)
        return speaker

    def _settle_body(self, speaker: Speaker) -> tuple[str | None, bool]:
        """``(body, inferred)``: the body a speaker speaks for, and whether the link rests on
        inference (an inferred mention, a body only inferred in the article, or ``governs``). None
        for union representatives, ministers, MPs and other services' people whatever body their
        role names; else the body their attribution or earlier description names (unless that
        mention was inferred and the role names a body or place outside the watchlist); else their
        known role at the article's date (watchlist people and office holders), unless the
        attribution contradicts it ("John Campion, a tennis coach from Florida"); else the body
        their role words belong to; a councillor quoted in an article about a fire authority
        speaks for the authority."""
        role = f"{speaker.role or ''} {speaker.name or ''}"
        # what says whom the speaker is with: the role, and the name only when it is no person's
        # (an organisation speaking, "the New South Wales Rural Fire Service"; a description, "A
        # spokesman for Kent Police"): a person's name is no place ("Inspector of Hereford Tom Hale")
        own_words = f"{speaker.role or ''} {speaker.name if person_key(speaker.name) is None else ''}"
        if _not_for_a_body(role) or self._anonymous(speaker) or self._unwatched_organisation(speaker):
            return None, False
        known = _known_body(self.known_people, _person_lookup_name(speaker.name, speaker.role))
        if self._candidate(speaker.name):
            # "picked Coun John Campion as their candidate": standing for an office is not holding it
            # (nor is the office's holder list, which names him, a statement of his body here)
            if speaker.entity_id is not None and speaker.entity_id == _known_body(self.everyone, speaker.name):
                speaker.entity_id = None
            known = None
        if known is not None and self._contradicted(speaker, known):
            # the watchlist's person is someone else here: their name links nothing (nor does the
            # body the watchlist gives them, if it came through the name)
            if speaker.entity_id == known and not self._names_in_role(speaker, known):
                speaker.entity_id = None
            known = None
        if known is not None and speaker.namesake is not None:
            # "Owner Sarah Campion ... said Mrs Campion": another person of the watchlist person's
            # surname; neither the body the watchlist gives them nor their name's mention links
            if speaker.entity_id == known and not self._names_in_role(speaker, known):
                speaker.entity_id = None
            known = None
        if known is not None and known in self.entity_counts:
            return known, False
        if speaker.entity_id is not None and not (speaker.inferred and self._names_elsewhere(
                # an organisation speaking is described by its own name ("the New South Wales Rural
                # Fire Service", "Fire Service" read as the local one)
                own_words, entity_id=speaker.entity_id, affiliation=speaker.affiliation)):
            return speaker.entity_id, speaker.inferred
        if known is not None:
            return known, False
        by_role, inferred = self._role_link(role, speaker.affiliation, own_words)
        if by_role is not None:
            return by_role, inferred
        if COUNCILLOR.search(role) and self.watchlist is not None and not CIVIC_ROLE.search(role) and (
                not self._of_a_council(speaker.name)) and not _member_of_a_council(role):
            councillors = _flagged_categories(self.watchlist, "councillors")
            authorities = [entity.id for entity in self.watchlist.entities
                           if entity.category in councillors and entity.id in self.entity_counts]
            if authorities:
                chosen = max(authorities, key=lambda entity_id: self.entity_counts[entity_id])
                return chosen, chosen not in self.named
        return self._document_body(speaker.name)

    def _unwatched_organisation(self, speaker: Speaker) -> bool:
        """Whether the speaker is an organisation named by its own proper name or acronym that is
        none of the watched bodies ("the Home Office", "CIPFA", "the Department for Transport",
        "Herefordshire Council"): it speaks for itself, so a watched body mentioned elsewhere in its
        attribution ("Asking the PCC to hold off ..., the Home Office says", "CIPFA, which was
        brought in to scrutinise the PCC's proposals, concluded") is not its body. The name is the
        run of capitalised words (with "for", "of", "and", "&" inside) that ends with the speaker's
        name in its attribution; it is an organisation's when it holds an acronym that is none of the
        watchlist's words, or has two capitalised words or more and an organisation's noun as its
        head ("Council", "Office"; "Department for ..."). Not when a watched mention lies in it (a
        watched body speaking by name, alias, abbreviation or generic reference), nor after a
        possessive (a body's own unit: "the service's Community Risk Department"), nor for a
        person's name or a name ending in a lower-case word ("a Home Office spokesperson")."""
        name = speaker.name
        if (not name or speaker.start is None or self.watchlist is None or not _is_capitalised(name.split()[-1])
                or person_key(name) is not None):
            return False
        span = self.text[speaker.start:speaker.end]
        at = span.rfind(name)
        if at < 0:
            return False
        tokens = [token for token in TOKEN.finditer(span[:at + len(name)])]
        first = len(tokens)
        while first and (first == len(tokens) or not span[tokens[first - 1].end():tokens[first].start()].strip()) and (
                _is_capitalised(tokens[first - 1].group(0)) or (
                    tokens[first - 1].group(0).lower() in ORGANISATION_NAME_INNER_WORDS and first < len(tokens))):
            first -= 1   # back over the name's words, not over punctuation ("West Mercia Police, the Home Office")
        while first < len(tokens) and not _is_capitalised(tokens[first].group(0)):
            first += 1   # a run opens with a capitalised word ("the Department for Transport")
        if first and tokens[first - 1].group(0).endswith(("'s", "\u2019s")):
            return False   # "the service's Community Risk Department": the owner's unit
        run = [token.group(0) for token in tokens[first:]]
        if run and run[0].lower() == "the":
            run = run[1:]
        if not run:
            return False
        start, end = speaker.start + tokens[first].start(), speaker.start + tokens[-1].end()
        for mention in self.mentions[:bisect.bisect_left(self.mention_starts, end)]:
            if mention["end_char"] > start:
                return False   # a watched body speaking ("the Office of the Police and Crime Commissioner")
        local = _local_words(self.watchlist)
        if any(word.isalpha() and word.isupper() and len(word) >= 2 and (
                word.lower() not in local or word.lower() in ORGANISATION_WORDS) for word in run):
            return True    # "CIPFA", "the LGA", "HMICFRS"
        capitalised = [word for word in run if _is_capitalised(word)]
        if len(capitalised) < 2:
            return len(run) == 1 and self._organisation_by_relative(speaker)   # "Refuge, which works with ..."
        words = [_bare(word) for word in run]
        return words[-1] in _other_body_nouns() or any(
            word in ORGANISATION_WORDS and after in ("for", "of") for word, after in zip(words, words[1:]))

    def _document_body(self, name: str | None) -> tuple[str | None, bool]:
        """The body a document's words speak for ("the report", "the business case", "the
        authors"): the watched body the article says wrote, issued or commissioned it ("a report
        by the service", "the business case commissioned by Mr Campion")."""
        # a cheap filter first (most speakers are no document), then the exact test on the words
        if not name or name.rsplit(None, 1)[-1].lower().strip(".,;:)(\"'\u2019") not in DOCUMENT_OR_AUTHOR_WORDS:
            return None, False
        words = [word.lower() for word in _words(name)]
        if not words or words[-1] not in DOCUMENT_OR_AUTHOR_WORDS:
            return None, False
        nouns = [word for word in words if word in DOCUMENT_WORDS] or sorted(
            DOCUMENT_WORDS - NEWSPAPER_WORDS)
        pattern = _document_by(tuple(nouns))
        for match in pattern.finditer(self.text):
            first = bisect.bisect_left(self.mention_starts, match.end())
            if first < len(self.mentions) and self.mentions[first]["start_char"] <= match.end() + 4:
                return self.mentions[first]["entity_id"], self.mentions[first].get("method") == INFERRED_MENTION
        return None, False

    def _candidate(self, name: str | None) -> bool:
        """Whether the article presents the person as a candidate ("picked Coun John Campion as
        their candidate", "Independent candidate Mr Longmore"): "candidate" in the sentence that
        names them, within a few words."""
        if not name:
            return False
        if self._has_candidate is None:   # plain substring tests, any case: far cheaper than the regex
            self._has_candidate = "andidate" in self.text or "opeful" in self.text or "ould-be" in self.text
        if not self._has_candidate:
            return False
        for occurrence in _whole_word(name.split()[-1]).finditer(self.text):
            window = self.text[max(0, occurrence.start() - 40):occurrence.end() + 120]
            before, after = window[:occurrence.start() - max(0, occurrence.start() - 40)], window[
                occurrence.end() - max(0, occurrence.start() - 40):]
            before = SENTENCE_BREAK.split(before)[-1]
            after = SENTENCE_BREAK.split(after)[0]
            if CANDIDATE.search(before) or CANDIDATE.search(after):
                return True
        return False

    def _anonymous(self, speaker: Speaker) -> bool:
        """Whether the speaker is a source the article does not name ("the firefighter, who asked
        not to be named"): an unnamed source speaks for no body."""
        if not speaker.name or person_key(speaker.name) is not None:
            return False
        if self._has_anonymous is None:   # plain substring tests, once per article: most hold none
            self._has_anonymous = any(verb in self.text for verb in ANONYMOUS_VERBS)
        if not self._has_anonymous:
            return False
        last = _words(speaker.name)[-1]
        for occurrence in _whole_word(last).finditer(self.text):
            clause = self.text[occurrence.end():occurrence.end() + 120].split(".", 1)[0]
            if ANONYMOUS.search(clause):
                return True
        return False

    def _of_a_council(self, name: str | None) -> bool:
        """Whether the person is introduced beside a named council ("the leaders of Shropshire
        Council and Telford & Wrekin Council, Peter Nutting and Shaun Davies"): a council's
        councillor or leader speaks for the council, not for a fire authority."""
        if not name:
            return False
        surname = name.split()[-1]
        for occurrence in _whole_word(surname).finditer(self.text):
            window = self.text[max(0, occurrence.start() - 120):occurrence.start()]
            window = SENTENCE_BREAK.split(window)[-1]
            if NAMED_COUNCIL.search(window):
                return True
        return False

    def _complete(self, speaker: Speaker, quote_start: int) -> Speaker:
        """Complete ``speaker`` from what is known about the same person, and remember it."""
        if speaker.affiliation is None and speaker.end is not None and person_key(speaker.name) is not None:
            # a person named earlier ("he said", "Inspector Tom Hale, of Staffordshire, said ...")
            speaker.affiliation = self._affiliation_after(speaker.end)
        if speaker.name and _surname_after_post(speaker.name, speaker.role):
            # "Chief Fire Officer Penrose": the full name from the watchlist or from earlier in the text
            fuller = self.full_names.get(speaker.name.lower()) or self._complete_name(speaker.name, quote_start)
            if len(fuller.split()) > 1 and person_key(fuller) is not None:
                speaker.name = fuller
        elif speaker.name and _lone_surname(speaker.name):
            # '"...," said Johnston': the person the article introduced in full ("Chief Fire Officer
            # Jon Johnston said", "Jon Johnston, chair of the fire authority,"); else nobody
            introduced = self._introduced_person(speaker.name, quote_start)
            namesake = self._namesake(speaker.name) if introduced is None else None
            if namesake is not None and " " in namesake:
                speaker.name = namesake   # "Owner Sarah Campion ... said Campion": not the watchlist's Campion
            if introduced is not None:
                offset, speaker.name = introduced
                speaker.affiliation = speaker.affiliation or self._affiliation_after(offset + len(speaker.name))
        if speaker.name and speaker.affiliation is None and person_key(speaker.name) is not None:
            # "Inspector Tom Hale, of Staffordshire, was assisting ... said Mr Hale": the affiliation
            # written where the person was named in full, whatever role was written there
            speaker.affiliation = self._earlier_affiliation(speaker.name, quote_start)
        speaker.affiliation = self._qualified(speaker.affiliation, speaker.start)
        if speaker.name:
            surname = speaker.name.split()[-1].lower()
            known = self.people.get(surname)
            speaker.namesake = self._namesake(speaker.name)
            if speaker.namesake is not None and len(speaker.name.split()) == 1 and " " in speaker.namesake:
                speaker.name = speaker.namesake   # "Owner Sarah Campion ... said Campion"
            if speaker.namesake is not None and speaker.entity_id is not None and not self._names_in_role(
                    speaker, speaker.entity_id):
                speaker.entity_id, speaker.inferred = None, False   # the watchlist person's name, someone else's here
            if known is not None and speaker.namesake is not None and known.namesake != speaker.namesake:
                known = None
            if speaker.entity_id is None and speaker.start is not None:
                speaker.entity_id, speaker.inferred = self._link_in(speaker.start, speaker.end)
                if speaker.namesake is not None and speaker.entity_id is not None and not self._names_in_role(
                        speaker, speaker.entity_id):
                    speaker.entity_id, speaker.inferred = None, False
            if speaker.entity_id is None:
                speaker.entity_id, speaker.inferred = self._role_link(speaker.role, speaker.affiliation)
            if known is not None:
                if len(known.name.split()) > len(speaker.name.split()) and not (
                        speaker.name.split()[0].lower() in TITLES and len(speaker.name.split()) > 2):
                    speaker.name = known.name
                if not speaker.role:
                    speaker.role, speaker.affiliation = known.role, known.affiliation
                if speaker.entity_id is None:
                    speaker.entity_id, speaker.inferred = known.entity_id, known.inferred
            if speaker.entity_id is None and speaker.start is not None:
                role, speaker.entity_id, speaker.inferred = self._described_entity(speaker.name, quote_start)
                if not speaker.role:
                    speaker.role, speaker.affiliation = role, _affiliation(role) or speaker.affiliation
                if speaker.entity_id is not None and self._place_elsewhere(speaker.affiliation):
                    # "West Mercia Police said Inspector Tom Hale, of Staffordshire, was assisting"
                    speaker.entity_id, speaker.inferred = None, False
            if speaker.entity_id is None and not speaker.role:
                # The role given where the person was first named ("Assistant chief fire officer
                # David Myers ... Officer Myers said") goes with later mentions, and so does the
                # affiliation written there ("Inspector Tom Hale, of Staffordshire, said ...").
                speaker.role, affiliation = self._earlier_role(surname, quote_start)
                speaker.affiliation = speaker.affiliation or affiliation
                speaker.entity_id, speaker.inferred = self._role_link(speaker.role, speaker.affiliation)
            self.people[surname] = speaker
        elif speaker.start is not None and speaker.entity_id is None:
            speaker.entity_id, speaker.inferred = self._link_in(speaker.start, speaker.end)
            if speaker.entity_id is None:
                speaker.entity_id, speaker.inferred = self._role_link(speaker.role, speaker.affiliation)
        return speaker

    # -- attribution ---------------------------------------------------------------------
    def _people(self) -> list[tuple[int, str]]:
        """``(offset, name)`` of every person named in the text, in order (computed once).

        A run of capitalised words counts as a person when it carries a title ("Mr Barker"), follows a
        role word ("Superintendent Tom Harding"), or is followed by a speech verb, "who" or an
        apposition; never after a preposition ("at Bedstone College")."""
        if self._people_cache is None:
            people = [self._run_person(index) for index in range(len(self._runs()))]
            self._people_cache = [person for person in people if person is not None]
        return self._people_cache

    def _runs(self) -> list[re.Match]:
        """The runs of capitalised words that may name a person (each judged by ``_run_person``
        only when needed: a pronoun usually wants the last person before it, not every one)."""
        if self._run_matches is None:
            self._run_matches = list(CAPITALISED_RUN.finditer(self.text))
            self._run_starts = [match.start() for match in self._run_matches]
        return self._run_matches

    def _run_person(self, run: int) -> tuple[int, str] | None:
        """``(offset, name)`` of the person the ``run``-th capitalised run names, or None."""
        if run in self._judged_runs:
            return self._judged_runs[run]
        self._judged_runs[run] = person = self._judge_run(self._runs()[run])
        return person

    def _judge_run(self, match: re.Match) -> tuple[int, str] | None:
        words = match.group(0).split()
        first = 0
        for position, word in enumerate(words):
            # A full stop ends a sentence unless it closes a title or an initial ("Dr.", "J."): the
            # run's last sentence is what can name a person ("... and Malvern. Jan Lockett, of ...").
            if word.endswith(".") and len(word) > 2 and word[:-1].lower() not in TITLES and (
                    word[:-1].lower() not in NAME_ABBREVIATIONS):
                if position == len(words) - 1:
                    words = words[:position] + [word[:-1]]
                    break
                first = position + 1
        index = first
        for position, word in enumerate(words[first:], first):
            if word.lower().rstrip(".,") in NOT_NAME_WORDS and not (
                    position == len(words) - 1 and position > first
                    and _given_name_then_surname(words[position - 1], word)):   # "Paul Green"
                index = position + 1
            elif position < len(words) - 1 and POSSESSIVE_END.search(word):
                index = position + 1   # "Acme's Paul Smith": a possessive is no part of the name after it
        titled_at = _titled_tail(words) if index > first else None
        if titled_at is not None and first <= titled_at < index:
            index = titled_at   # "Councillor Stuart West": a name after a title
        name_words = words[index:]
        while name_words and name_words[-1].lower() in HONOURS:
            name_words = name_words[:-1]
        if not name_words:
            return None
        titled = name_words[0].lower().rstrip(".") in TITLES
        if titled and len(name_words) == 1:
            return None
        preceded_by_role = any(_bare(word) in CONTENT_ROLE_WORDS for word in words[first:index])
        preceding = self.text[max(0, match.start() - 40):match.start()].split()
        # "according to Mr Campion", "transport manager Jeff Dickson": a person, whatever the
        # preposition or the lowercase role before the name.
        according = [word.lower() for word in preceding[-2:]] == ["according", "to"]
        role_before = not first and bool(preceding) and preceding[-1].lower() in ROLE_OR_PERSON_NOUNS
        preceded_by_role = preceded_by_role or role_before
        if not first and preceding and preceding[-1].lower() in PREPOSITIONS and not (preceded_by_role or according):
            return None
        after = self.text[match.end():match.end() + 40]
        if len(name_words) == 1 and not (SPEECH_VERB_NEXT.match(after) and len(
                self._complete_name(name_words[0], len(self.text)).split()) > 1):
            return None   # a lone word is a person only as "Taylor says", with "Taylor Robinson" elsewhere
        if titled or preceded_by_role or according or PERSON_CONTINUATION.match(after):
            offset = match.start() + len(" ".join(words[:index])) + (1 if index else 0)
            if index > first:
                # "Chief Fire Officer Nathan Travis"; the run's words before a full stop belong to
                # another sentence ("Malvern. Jan Lockett"), and a leading closed-class word is no
                # part of the role ("But Councillor Roger Evans", "Today Mr Campion")
                role_words = words[first:index]
                while role_words and role_words[0].lower() in NOT_ROLE_OPENING_WORDS:
                    role_words = role_words[1:]
                self._people_roles[offset] = _role_or_none(" ".join(role_words))
            return offset, " ".join(name_words)
        return None

    def _after_according_to(self, offset: int) -> bool:
        """Whether the name at ``offset`` follows "according to" in the same clause."""
        window = self.text[max(0, offset - 80):offset]
        position = window.lower().rfind("according to")
        return position >= 0 and not window[position - 1:position].isalnum() and not window[
            position + 12:position + 13].isalnum() and not CLAUSE_OR_COMMA.search(window, position)

    def _runs_holding(self, pattern: re.Pattern, before: int, text: str | None = None):
        """The person ``(offset, name)`` of each capitalised run of the text holding a match of
        ``pattern`` before ``before`` (None for a run that names nobody), each run once, in text
        order: only the runs holding a surname are judged, not every run of the text. ``text``:
        where to look for ``pattern``, when not the text itself (``_lowered_text``)."""
        self._runs()
        judged = set()
        for occurrence in pattern.finditer(self.text if text is None else text, 0, before):
            run = bisect.bisect_right(self._run_starts, occurrence.start()) - 1
            if run < 0 or run in judged or self._run_matches[run].end() < occurrence.end():
                continue
            judged.add(run)
            yield self._run_person(run)

    def _lowered_text(self) -> str | None:
        """The text lowercased, character for character, when a lowercase ASCII word is found in it
        where a case-insensitive pattern finds it in the text: always, unless the text holds one of
        the four characters that match an ASCII letter case-insensitively but do not lowercase to it
        one for one ("\u0130", "\u0131", "\u017f", "\u212a": ``CASE_SPECIAL_CHARACTERS``); None then.
        Computed once per article."""
        if self._lowered is None:
            self._lowered = "" if any(character in self.text for character in CASE_SPECIAL_CHARACTERS) else (
                self.text.lower())
        return self._lowered or None

    def _earlier_role(self, surname: str, before: int) -> tuple[str | None, str | None]:
        """``(role, affiliation)``: the role written before the first naming of a person with this
        surname, before ``before`` (only the capitalised runs holding the surname are judged, not
        every run of the text), and the affiliation written after that name ("Inspector" and "of
        Staffordshire" from "Inspector Tom Hale, of Staffordshire, said ...")."""
        # the surname in any case: as written (lowercase) in the lowercased text, found by its
        # letters, when that finds the same places; else the case-insensitive pattern, which the
        # regex engine tries at every character of the text
        lowered = self._lowered_text() if surname.isascii() and surname == surname.lower() else None
        pattern = _whole_word(surname) if lowered is not None else _whole_word_any_case(surname)
        for person in self._runs_holding(pattern, before, lowered):
            if person is None:
                continue
            offset, name = person
            if offset >= before:
                break
            if name.split()[-1].lower() == surname:
                role = self._person_role(offset)
                if role:
                    return role, self._affiliation_after(offset + len(name))
        return None, None

    def _earlier_affiliation(self, name: str, before: int) -> str | None:
        """The affiliation written after the first full naming of the person ``name`` is (a titled
        or lone surname, or a full name) before ``before``, outside quotations ("of Staffordshire"
        from "Inspector Tom Hale, of Staffordshire, was assisting"); None when there is none."""
        key = person_key(name)
        if key is None:
            return None
        written = next((word for word in reversed(_words(name)) if word.lower() == key[0]), None)
        if self._affiliated is None:
            self._affiliated = frozenset(
                word for opening in AFFILIATION_OPENINGS for match in opening.finditer(self.text)
                for word in self.text[max(0, match.start() - 41):match.start() - 1].rstrip(",").split()[-1:])
        if written is None or written not in self._affiliated:
            return None   # no affiliation is written after that surname anywhere (most speakers)
        # only the capitalised runs holding the surname are judged, as in ``_earlier_role``
        for person in self._runs_holding(_whole_word(written), before):
            if person is None or person[0] >= before or any(
                    start <= person[0] < end for start, end in self.quoted_spans):
                continue
            offset, person = _without_description(*person)
            found = person_key(person)
            if found is None or found[0] != key[0] or found[1] is None or (key[1] is not None and found[1] != key[1]):
                continue
            return self._affiliation_after(offset + len(person))
        return None

    def _introduced_person(self, surname: str, before: int) -> tuple[int, str] | None:
        """``(offset, name)`` of the person the text introduced in full with this lone surname
        before ``before``, outside quotations ("Chief Fire Officer Jon Johnston said ...", "Jon
        Johnston, chair of the fire authority,"); None when none was, or two people share it."""
        found: dict[tuple, tuple[int, str]] = {}
        for person in self._runs_holding(_whole_word(surname), before):
            if person is None or person[0] >= before or any(
                    start <= person[0] < end for start, end in self.quoted_spans):
                continue
            person = _without_description(*person)
            key = person_key(person[1])
            if key is None or key[0] != surname.lower() or person[1].split()[-1] != surname:
                continue
            if key[1] is not None:
                found.setdefault(key, person)
        if len(found) != 1:
            return None
        offset, name = next(iter(found.values()))
        sentence = self._sentence_span(offset)
        if any(sentence[0] <= other < sentence[1] and first is None and other < before
               for other, first, _naming in self._surname_namings(surname)):
            # "Fire officer Jon Johnston ... and Councillor Johnston both attended": two people of
            # that surname, one not named in full
            return None
        return offset, name

    def _sentence_span(self, offset: int) -> tuple[int, int]:
        """The start and end of the sentence holding ``offset`` (a full stop, "!" or "?" before a
        space, or a paragraph break, ends one)."""
        start = max(self.text.rfind("\n", 0, offset), *(self.text.rfind(mark + " ", 0, offset) for mark in ".!?")) + 1
        ends = [position for position in (self.text.find("\n", offset), *(self.text.find(mark + " ", offset)
                                                                            for mark in ".!?")) if position >= 0]
        return start, min(ends, default=len(self.text))

    def _surname_namings(self, surname: str) -> list[tuple[int, str | None, str]]:
        """``(offset, first name or None, name)`` of every naming of a person with ``surname``
        outside quotations: after a first name ("Owner Sarah Campion": "sarah", "Sarah Campion"),
        or after a title, rank or post word ("Councillor Johnston", "Mrs Campion": None). A
        surname with no word before it, or with a capitalised word after it ("Johnston Road",
        "Campion Bakery"), is not counted."""
        if surname in self._namings:
            return self._namings[surname]
        namings = self._namings[surname] = []
        for occurrence in _whole_word(surname).finditer(self.text):
            if any(start <= occurrence.start() < end for start, end in self.quoted_spans):
                continue
            if re.match(r"[ \t]+[A-Z]", self.text[occurrence.end():occurrence.end() + 2]):
                continue
            before = re.search(r"([A-Z][\w'\u2019.-]*)[ \t]+$", self.text[max(0, occurrence.start() - 40):occurrence.start()])
            if before is None:
                continue
            word = before.group(1)
            bare = _bare(word.rstrip("."))
            if word.rstrip(".").lower() in TITLES or bare in RANK_TITLES or bare in ROLE_OR_PERSON_NOUNS:
                namings.append((occurrence.start() - len(before.group(0)), None, f"{word} {surname}"))
            elif bare not in NOT_NAME_WORDS and word.isalpha() and not word.isupper():
                namings.append((occurrence.start() - len(before.group(0)), word.lower(), f"{word} {surname}"))
        return namings

    def _speaker_id(self, speaker: Speaker | None, before: int) -> str | None:
        """The speaker's identity (``speaker_identity``): a namesake's own; a title or post and a
        surname ("Ms Denton", "Chief Fire Officer Pryce") is the one person the article named in
        full with that surname before ``before`` (``_full_naming``: "Carla Denton, Chief Constable of
        West Mercia Police, ...": ``carla denton``), quoted under that name or not, unless the article
        writes two first names before that surname ("Tom Baxter and Dan Baxter"); then a watchlist person's
        identity for the watchlist's first name or a short form of it, for their body."""
        if speaker is None or not speaker.name:
            return None
        if speaker.namesake:
            return speaker_identity(speaker.namesake, None)
        name = _person_lookup_name(speaker.name, speaker.role)
        key = person_key(name)
        if key is not None and key[1] is None:
            written = next((word for word in reversed(_words(name)) if word.lower() == key[0]), None)
            full = self._full_naming(written, before) if written else None
            if full is not None:
                name = full
        return speaker_identity(_without_leading_description(name), self.everyone, speaker.entity_id)

    def _full_naming(self, surname: str, before: int) -> str | None:
        """The person's name in full the article wrote with ``surname`` (as written) before ``before``,
        outside quotations: the person it introduced (``_introduced_person``), else a given name
        written right before the surname ("... and Martin Feld, who holds it", "by Mark Pennock, a
        minister", "Ruth Kessel and Dean Moult"); None when two first names are written before that
        surname ("Brothers Tom Baxter and Dan Baxter": two people), when the article gives the surname
        a man's title and a woman's ("Mr Corbett", "Ms Corbett"), or when a title and the surname
        are written in the sentence of the full name too ("Fire officer Jon Johnston ... and
        Councillor Johnston both attended")."""
        if surname not in self._occurrences:
            self._occurrences[surname] = [match.start() for match in _whole_word(surname).finditer(self.text)]
        key = (surname, bisect.bisect_left(self._occurrences[surname], before))
        if key not in self._full_namings:
            self._full_namings[key] = self._find_full_naming(surname, before)
        return self._full_namings[key]

    def _find_full_naming(self, surname: str, before: int) -> str | None:
        every = self._surname_namings(surname)
        namings = [naming for naming in every if naming[0] < before]
        firsts = [first for _offset, first, _naming in namings if first is not None]
        if firsts and not all(short_form(first, firsts[0]) for first in firsts):
            return None   # two people of that surname
        if len({GENDERED_TITLES[title] for title in (naming.split()[0].lower().rstrip(".")
                                                     for _offset, first, naming in every if first is None)
                if title in GENDERED_TITLES}) > 1:
            return None   # "Mr Corbett ... Ms Corbett": two people of that surname
        introduced = self._introduced_person(surname, before)
        if introduced is not None:
            return introduced[1]
        if not firsts or firsts[0] not in (_GIVEN_NAMES or given_names()):
            return None   # no first name, or no person's ("Worcester Hall")
        offset, _first, naming = next(naming for naming in namings if naming[1] is not None)
        sentence = self._sentence_span(offset)
        if any(sentence[0] <= other < sentence[1] and first is None for other, first, _naming in namings):
            return None
        return naming

    def _namesake(self, name: str | None) -> str | None:
        """The person of the article a watchlist person's surname names here: for a titled or lone
        surname ("Mrs Campion", "Campion") of a person or office holder the watchlist knows, the
        one person the article names in full, outside quotations, with that surname and another
        first name ("Owner Sarah Campion": "Sarah Campion"; the bare surname when it names
        several, or the watchlist's own one too); for a full name ("Sarah Campion"), itself when
        the first name is none the watchlist knows for that surname. None when the name is the
        watchlist's person, or the article names nobody else of that surname."""
        key = person_key(name)
        if key is None and len(_words(name or "")) == 1 and _is_capitalised(name):
            key = (name.lower(), None)   # "said Campion": a watchlist surname alone
        if key is None or key[0] not in self.everyone:
            return None
        surname, first = key
        known_firsts = {known for known, _entity in self.everyone[surname] if known}
        if not known_firsts:
            return None
        if first is not None:
            return name if not _same_first_name(first, known_firsts) else None
        written = next((word for word in _words(name) if word.lower() == surname), None)
        others: dict[str, str] = {}
        watched = False
        for _offset, naming_first, naming in self._surname_namings(written or surname.title()):
            if naming_first is None:
                continue
            if _same_first_name(naming_first, known_firsts):
                watched = True
            else:
                others.setdefault(naming_first, naming)
        if not others:
            return None
        return next(iter(others.values())) if len(others) == 1 and not watched else surname

    def _qualified(self, affiliation: str | None, start: int | None) -> str | None:
        """``affiliation`` with the place elsewhere written right after it, when one qualifies it
        ("of Newport" written "of Newport, Gwent": "of Newport, Gwent"), as written at or after
        ``start``; else ``affiliation`` itself."""
        if not affiliation or start is None or self.watchlist is None:
            return affiliation
        position = self.text.find(affiliation, start, start + 400)
        if position < 0:
            return affiliation
        after = self.text[position + len(affiliation):position + len(affiliation) + 80]
        if not qualifies_elsewhere(after, self.watchlist):
            return affiliation
        qualifier = QUALIFIER.match(after)
        place = PLACE_NAME.match(after, qualifier.end())
        return affiliation + (after[:place.end()] if place else after[:qualifier.end()])

    def _affiliation_after(self, end: int) -> str | None:
        """The affiliation written right after a person's name that ends at ``end`` (", of
        Staffordshire", " from Warwickshire Police"): "of" or "from", then a capitalised name and
        the lower-case nouns of organisations or units after it ("of Wem fire station")."""
        match = AFFILIATION_AFTER.match(self.text, end)
        if match is None:
            return None
        words = match.group("affiliation").split()
        heads = _name_head_nouns()
        keep = 1
        while keep < len(words) and (_is_capitalised(words[keep]) or words[keep].lower() in RUN_INNER_WORDS or (
                words[keep].lower() in heads)):
            keep += 1
        return self._qualified(" ".join(words[:keep]), end) if keep > 1 else None

    def _person_role(self, offset: int) -> str | None:
        """The role written with the person named at ``offset`` (one of ``_people``): the capitalised
        role words before the name ("Chief Fire Officer Nathan Travis"), else the lowercase words or
        acronyms just before it ("area FBU secretary Steve Gould", "transport manager Jeff Dickson"),
        back to the clause's start or a determiner, when the last of them is a role word."""
        if offset not in self._people_roles:
            window = self.text[max(0, offset - 80):offset]
            phrase: list[str] = []
            if window[-1:].isspace():
                for word in reversed(window.split()[-6:]):
                    # a role before a name is a noun phrase: it stops at a closed-class word other
                    # than "of", "the", "and" ("find a replacement for | chief constable David
                    # Shaw", "were commended by | chief fire officer Rod Hammerton") and at a
                    # speech verb ("said | chief fire officer Mark Yates")
                    if not ROLE_BEFORE_WORD.fullmatch(word) or (
                            word.lower() in CLOSED_CLASS_WORDS and word.lower() not in ROLE_INNER_WORDS) or (
                            SPEECH_VERB_WORD.fullmatch(word)):
                        break
                    phrase.insert(0, word)
            role = None
            if phrase and phrase[-1].lower() in CONTENT_ROLE_WORDS:
                while phrase and phrase[0].lower() in NOT_ROLE_LEAD_WORDS:
                    phrase = phrase[1:]
                role = _role_or_none(" ".join(phrase))
            self._people_roles[offset] = role
        return self._people_roles[offset]

    def _last_person(self, before: int) -> tuple[str, int] | None:
        """The last person named outside quotation marks before offset ``before``."""
        self._runs()
        run = bisect.bisect_left(self._run_starts, before)
        while run > 0:
            run -= 1
            person = self._run_person(run)
            if person is None or person[0] >= before:
                continue
            offset, name = person
            if offset < before - PERSON_LOOKBACK:
                return None
            if not any(start <= offset < end for start, end in self.quoted_spans):
                return self._complete_name(name, before), offset
        return None

    def _sentence_subject(self, person: tuple[str, int], depth: int = 2) -> tuple[str, int]:
        """The person a later "he"/"she" means, given the last person named (``(name, offset)``):
        that person, unless they are named after the subject of their sentence, which is another
        person or a "he"/"she" ("Councillor A has called on PCC B to ...", "..., he said his first
        job was to find a replacement for chief constable B"): a pronoun that opens the next
        quotation's attribution carries on the sentence's subject, not its object. A person who
        is the subject of a speech verb themselves ("which Coun B described as", "B, who said") is
        kept."""
        name, start = person
        after = self.text[start + len(name):start + len(name) + 80]
        if SPEECH_VERB_NEXT.match(after) or SUBJECT_OF_RELATIVE_SPEECH.match(after):
            return person
        paragraph_start = self.text.rfind("\n", 0, start) + 1
        sentence_start = paragraph_start
        for match in SENTENCE_END.finditer(self.text, paragraph_start, start):
            sentence_start = match.end()
        lead_in = SUBJECT_LEAD_IN.match(self.text, sentence_start, start)
        subject_start = lead_in.end() if lead_in else sentence_start
        if subject_start >= start:
            return person
        if PRONOUN_SUBJECT.match(self.text, subject_start, start):
            if depth <= 0:
                return person
            earlier = self._last_person(subject_start)
            return self._sentence_subject((earlier[0], earlier[1]), depth - 1) if earlier is not None else person
        self._runs()
        run = bisect.bisect_left(self._run_starts, subject_start)
        if run >= len(self._run_starts) or self._run_starts[run] != subject_start:
            return person
        subject = self._run_person(run)
        if subject is None or subject[0] >= start:
            return person
        subject_name = self._complete_name(subject[1], start)
        if subject_name.split()[-1].lower() == name.split()[-1].lower():
            return person
        return subject_name, subject[0]

    def _organisation_by_relative(self, speaker: Speaker) -> bool:
        """Whether the speaker is one capitalised word followed by ", which" ("Unison, which
        represents police staff at West Mercia Police, said:"): a thing's relative clause, so an
        organisation speaking by its one-word name, not a lone surname or first name (a person takes
        "who"). Not a watchlist word of places or bodies, a pronoun, a title or a given name."""
        name = speaker.name
        if not name or speaker.start is None or " " in name.strip() or not _is_capitalised(name) or (
                name.lower() in PRONOUNS or name.lower() in TITLES or _bare(name) in NOT_NAME_WORDS
                or _bare(name) in self.place_words or name.lower() in given_names()):
            return False
        match = LONE_ORGANISATION.match(self.text, speaker.start)
        return match is not None and match.group("name") == name

    def _only_places(self, name: str) -> bool:
        """Whether ``name``, read as a person's ("Devon Somerset"), is made of the watchlist's words
        of places and bodies (with NOT_NAME_WORDS, which hold the shipped watchlist's places)."""
        if not self.place_words:
            return False
        words = _words(name)
        return (person_key(name) is not None and words[0].lower().rstrip(".") not in TITLES
                and any(_bare(word) in self.place_words for word in words)
                and all(_bare(word) in self.place_words or _bare(word) in NOT_NAME_WORDS for word in words))

    def _complete_name(self, name: str, before: int) -> str:
        """A lone first name or surname completed from a fuller form earlier in the text."""
        if len(name.split()) != 1:
            return name
        for pattern in _name_completions(name):
            for match in pattern.finditer(self.text, 0, before):
                if not any(word.lower() in NOT_NAME_WORDS for word in match.group(0).split()):
                    return match.group(0)
        return name

    def _pronoun_speaker(self, offset: int, pronoun: str = "he") -> Speaker | None:
        """Who "he"/"she" means: the last person named since the previous quote, else its speaker
        ("it" is never a person: the previous speaker or a spokesperson's organisation)."""
        previous_end = self.last_speaker_offset if self.last_speaker is not None else -1
        person = None if pronoun.lower() == "it" else self._last_person(offset)
        if person is not None and person[1] > previous_end:
            person = self._sentence_subject(person)
        if person is not None and person[1] > previous_end:
            name, start = person
            return Speaker(name=name, role=self._person_role(start), start=start, end=start + len(name))
        spokesperson = None
        for match in SPOKESPERSON.finditer(self.text, max(previous_end, offset - PERSON_LOOKBACK, 0), offset):
            spokesperson = match
        if spokesperson is not None:
            # "A West Midlands Ambulance Service spokesman said ... He said:"
            phrase = spokesperson.group("phrase")
            return Speaker(name=phrase, role=phrase, start=spokesperson.start("phrase"),
                           end=spokesperson.end("phrase"))
        if self.last_speaker is not None and not self.last_speaker.name and person is not None and (
                offset - person[1] <= PERSON_LOOKBACK):
            # the last quotation had no one named ("The letter goes on: ..."): "he" is the last person named
            name, start = person
            return Speaker(name=name, role=self._person_role(start), start=start, end=start + len(name))
        if self.last_speaker is None:
            return None
        return Speaker(self.last_speaker.name, self.last_speaker.role, self.last_speaker.entity_id,
                       inferred=self.last_speaker.inferred, affiliation=self.last_speaker.affiliation)

    def _speaker_from_phrase(self, phrase: str, start: int, role: str | None = None) -> Speaker | None:
        # Parenthesised asides are not part of the name: "Councillor Roger Evans (Liberal Democrats, Longden)".
        phrase = PARENTHESES.sub(lambda match: " " * len(match.group(0)), phrase)
        phrase = _without_trailing_auxiliaries(phrase.rstrip(" ,"))
        according = LEAD_IN.match(phrase)
        if according is not None:
            start += according.end()
            phrase = phrase[according.end():]
        # A clause after a conjunction has its own subject: "..., but Shropshire Fire and Rescue Service".
        clause = CONJUNCTION_CLAUSE.search(phrase)
        if clause is not None:
            start += clause.end()
            phrase = phrase[clause.end():]
        stripped = phrase.lstrip(" ,")
        start += len(phrase) - len(stripped)
        phrase = stripped.strip(" ,")
        if not phrase:
            return None
        end = start + len(phrase)
        if phrase.lower() in PRONOUNS:
            return self._pronoun_speaker(start, phrase)
        if all(word.lower() in NOT_A_SUBJECT_WORDS for word in _words(phrase)):
            return None   # '"...", and said': the subject is further back
        segments = [segment for segment in COMMA.split(phrase) if _words(segment)]
        affiliation = None
        while len(segments) > 1 and segments[-1].strip().lower() in TRAILING_ASIDE_WORDS:
            segments = segments[:-1]      # "Councillor Carter, however, said"
        while len(segments) > 1 and _first_word(segments[-1]) in PREDICATE_OPENERS:
            segments = segments[:-1]      # "Ryan Cook, crew manager, was at the scene and [described]": a predicate
        while len(segments) > 1 and (_first_word(segments[0]) in ADVERBIAL_OPENERS or _participle_opening(segments[0])):
            # "On Twitter, Craven Arms fire station posted:", "Asked about the Home Office's letter, Chief
            # Constable Amy Rhodes of West Mercia Police said:": a lead-in, not a name
            segments = segments[1:]
        # "Inspector Tom Hale, of Taunton, Somerset", "Mark Evans, of Newport, Gwent, Wales": the last
        # segments place the affiliation before them, as qualifiers after the quotation do ("...,
        # said Tom Hale, of Newport, Gwent.")
        segments = _with_place_chain_joined(segments, self.watchlist)
        name_segment = segments[-1]
        # "John Smith, a spokesman for the council": the last segment describes the name before it;
        # "Speaking in January, a spokesman for the service": it is the speaker.
        if len(segments) > 1 and _looks_like_role(segments[-1]) and not (
                SPOKES_WORD.search(segments[-1]) and split_name_role(segments[-2])[0] is None):
            index = len(segments) - 2
            name, role_in_name = split_name_role(segments[index])
            if name is None and index > 0 and _looks_like_role(segments[index]):
                # "Craig Jackson, Shrewsbury Station Manager, who helped ...,": a title between
                # the name and the description is a second description of the person before it
                earlier, earlier_role = split_name_role(segments[index - 1])
                if earlier is not None and person_key(earlier) is not None:
                    index -= 1
                    name, role_in_name = earlier, _join_roles(earlier_role, segments[index + 1].strip())
            name_segment = segments[index]
            organisation = _organisation_with_preposition(name_segment) if person_key(name) is None else None
            if organisation is not None:
                name, role_in_name = organisation, None   # "The Department for Education, which ...,"
            role = _join_roles(role_in_name, segments[-1].strip())
            affiliation = _affiliation(segments[-1])   # "Inspector Tom Hale, of Staffordshire"
        else:
            name, role_in_name = split_person_of(name_segment)   # "Peter Grant of the county's fire service"
            if name is None:
                name, role_in_name = split_name_role(name_segment)
            else:   # "Detective Sergeant Ann Lee from Warwickshire": "from Warwickshire"
                written = OF_ORGANISATION.match(" ".join(name_segment.split()))
                affiliation = f"{written.group('prep')} {written.group('body')}"
            organisation = _organisation_with_preposition(name_segment) if person_key(name) is None else None
            if organisation is not None:
                name, role_in_name = organisation, None   # "the Department for Transport said"
            role = role or role_in_name
            if role is None and name is not None and len(segments) > 1 and _role_title(segments[-2]):
                role = segments[-2].strip()   # "Ludlow Station Manager, Peter Grant, said"
        spokesperson = SPOKES_WORD.search(name_segment)
        if name is None and spokesperson is not None:
            # "A spokesperson on behalf of the fire service": the speaker is the spokesperson,
            # the rest says whom for.
            return Speaker(name=name_segment[:spokesperson.end()].strip(), role=name_segment.strip(),
                           start=start, end=end)
        if name is None:
            leading = _leading_name(name_segment)
            if leading is not None:
                name, role = leading, None   # "Cllr Patel welcomed Mr Hughes to the meeting and"
            else:
                # "A neighbour, who did not want to give a name": the description is of the segment before;
                # "Speaking for the service, a spokesperson": the last segment is the speaker.
                described = len(segments) > 1 and _words(segments[-1])[0].lower() in RELATIVE_PRONOUNS
                words = _words(name_segment if described else segments[-1])
                if not words or len(words) > MAX_SPEAKER_WORDS:
                    return None
                name = " ".join(words)
        elif len(segments) > 1 and _first_word(name_segment) in RELATIVE_OPENERS:
            # "Mr A, voted in last month, should oppose the bill, which Coun B described as": the
            # speaker is the subject of a relative clause, whose span starts at it (a body named
            # in the main clause before, with Mr A, is not Coun B's)
            position = phrase.rfind(name_segment)
            if position > 0:
                start += position
        return Speaker(name=name, role=role, start=start, end=end, affiliation=affiliation)

    def _before(self, quotation: dict) -> Speaker | None:
        paragraph_start = self.text.rfind("\n", 0, quotation["open_mark"]) + 1
        before = self.text[paragraph_start:quotation["open_mark"]]
        clause_start = 0
        for match in SENTENCE_END.finditer(before):
            clause_start = match.end()
        clause = before[clause_start:]
        according = ACCORDING_TO.match(clause)
        if according is not None:
            # "According to Cllr Hale, the plan was a "superb campaign"": the sentence is hers.
            return self._speaker_from_phrase(according.group("speaker"),
                                             paragraph_start + clause_start + according.start("speaker"))
        if not clause.rstrip().endswith((":", ",")) and not SHORT_REPORTED_TAIL.search(clause) and not (
                self._quoted_words(quotation) > MAX_SCARE_QUOTE_WORDS and LONG_REPORTED_TAIL.search(clause)):
            return None
        for boundary in reversed(list(CLAUSE_CONJUNCTION.finditer(clause))):
            if VERB_IN_CLAUSE.search(clause, boundary.end()):
                # "X said she had concerns, while Cllr Wells said the plans would "strip" it": the
                # last clause with a speech verb is the quotation's
                clause_start += boundary.end()
                clause = clause[boundary.end():]
                break
        relative = None
        lead_in = _participle_lead_in(clause)
        for match in VERB_IN_CLAUSE.finditer(clause):
            if match.start() < lead_in:
                continue   # "Asked whether the Home Office had been told, the force said:": not "told"
            if _after_determiner(clause, match.start()):
                continue   # "traced a fire to a recalled dryer, the Office ... said:": an adjective
            if _passive_before(clause[:match.start()]):
                return NO_SPEAKER
            if _is_quotation(clause[:match.start()]):
                # '"We are excited," said Johnston, "as it is ...": what precedes the verb is the
                # first half of a split quotation, not a speaker; the half after it is the speaker's
                # of the first half (the same sentence, see ``attribute``)
                return None
            subject_words = _words(clause[:match.start()])
            while subject_words and subject_words[-1].lower() in AUXILIARIES:
                subject_words = subject_words[:-1]
            if subject_words and subject_words[-1].lower() in RELATIVE_PRONOUNS:
                # "A neighbour, who did not want to give a name, said:": the next verb is the one;
                # with none, "chief fire officer Rod Hammerton, who said they would ...": the person before "who".
                relative = self._relative_antecedent(paragraph_start + clause_start, clause[:match.start()])
                continue
            if not subject_words or len(subject_words) > 25:
                return None
            if subject_words[-1].lower() in PRONOUNS:
                return self._pronoun_speaker(paragraph_start + clause_start + match.start(), subject_words[-1])
            subject = _without_trailing_auxiliaries(clause[:match.start()])
            return self._speaker_from_phrase(subject, paragraph_start + clause_start)
        if relative is None and clause.rstrip().endswith(":"):
            return self._colon_introduction(clause, paragraph_start + clause_start)
        return relative

    def _colon_introduction(self, clause: str, clause_start: int) -> Speaker | None:
        """The speaker of a clause that gives a subject's words after a colon, with no speech verb
        ('Station manager Rob Evans had this advice:', 'The message from PCSO Gemma Nash was clear:',
        'The commissioner's message to drivers was simple:'), or None."""
        match = COLON_INTRODUCTION.match(clause)
        if match is None:
            return None
        group = next(group for group in ("giver", "source", "owner") if match.group(group))
        return self._speaker_from_phrase(match.group(group), clause_start + match.start(group))

    def _relative_antecedent(self, clause_start: int, subject: str) -> Speaker | None:
        """The person a relative clause is about: "..., chief fire officer Rod Hammerton, who" (the
        person named right before ", who")."""
        stripped = subject.rstrip()
        if not stripped.lower().endswith("who"):
            return None
        before_who = stripped[:-3].rstrip()
        if not before_who.endswith(","):
            return None
        name_end = clause_start + len(before_who) - 1
        person = self._last_person(name_end + 1)
        if person is None:
            return None
        name, start = person
        if not self.text[start:name_end].endswith(name.split()[-1]):
            return None
        return Speaker(name=name, role=self._person_role(start), start=start, end=name_end)

    def _sentence_after_attribution(self, previous: dict | None, quotation: dict) -> bool:
        """Whether ``quotation`` is a whole sentence that follows, in the same paragraph, the sentence
        attributing the quotation before it ('"...," PC Tom Hunt said. "That is just reckless."'): the
        same speaker's words, however short, not a scare quote."""
        if previous is None or not previous["speaker"]:
            return False
        between = self.text[previous["_close_mark"] + 1:quotation["open_mark"]]
        if "\n" in between or any(mark in between for mark in QUOTE_MARKS) or not (
                SENTENCE_CLOSE.search(between) and VERB_IN_CLAUSE.search(between)):
            return False
        quoted = " ".join(self.text[start:end] for start, end in quotation["pieces"]).strip()
        return quoted[:1].isupper() and quoted.endswith((".", "!", "?"))

    def _headline(self) -> bool:
        """Whether the text's first paragraph is a headline: one line of at most 25 words that does
        not end as a sentence does."""
        first = self.text.strip().split("\n", 1)[0].strip()
        return len(first.split()) <= 25 and not re.search(r"[.!?:][\"'\u201d\u2019]?$", first)

    def _same_sentence(self, end: int, start: int) -> bool:
        """Whether offsets ``end`` < ``start`` are in one sentence of one paragraph."""
        between = self.text[end + 1:start]
        return "\n" not in between and not SENTENCE_POINT.search(between)

    def _sentence_tail(self, quotation: dict) -> Speaker | None:
        """The attribution ending the quotation's sentence: '... would be "decisions led by
        operations" for the chief, a spokesman said.', '... "solid headway", according to a report.'."""
        after_start = quotation["close_mark"] + 1
        line_end = self.text.find("\n", after_start)
        rest = self.text[after_start:line_end if line_end != -1 else len(self.text)]
        if "," not in rest:
            return None   # every sentence-final attribution follows a comma
        # later quotations in the sentence are skipped over ('has made "solid headway" though it has
        # "more to achieve", according to a report'), kept the same length so offsets hold
        rest = QUOTED_SPAN.sub(lambda match: "x" * len(match.group(0)), rest)
        end = SENTENCE_POINT_OR_END.search(rest)
        if end is None or any(mark in rest[:end.start()] for mark in QUOTE_MARKS):
            return None
        match = SENTENCE_TAIL_ATTRIBUTION.search(rest, 0, end.end())
        if match is None:
            return None
        group = "according" if match.group("according") else "speaker"
        phrase = match.group(group)
        if group == "speaker" and (_too_long_for_a_speaker(phrase) or _passive_before(phrase)):
            return None
        return self._speaker_from_phrase(phrase, after_start + match.start(group))

    def _quoted_words(self, quotation: dict) -> int:
        return sum(len(self.text[start:end].split()) for start, end in quotation["pieces"])

    def _reported_before(self, quotation: dict) -> Speaker | None:
        """A paragraph that opens with a quotation mark, right after a paragraph of reported
        speech ("According to chairman Ann Hale, crews liked the old rota."): the reported speaker."""
        open_mark = quotation["open_mark"]
        paragraph_start = self.text.rfind("\n", 0, open_mark) + 1
        if self.text[paragraph_start:open_mark].strip():
            return None
        before = self._paragraph_before(open_mark)
        if before is None:
            return None
        previous, previous_start = before
        match = ACCORDING_TO.match(previous)
        if match is not None:
            return self._speaker_from_phrase(match.group("speaker"), previous_start + match.start("speaker"))
        return self._reported_subject(previous, previous_start)

    def _paragraph_before(self, offset: int) -> tuple[str, int] | None:
        """The text and start of the paragraph before the one holding ``offset``, if it has no quotation mark."""
        paragraph_start = self.text.rfind("\n", 0, offset) + 1
        prior = self.text[:paragraph_start].rstrip()
        previous_start = prior.rfind("\n") + 1
        previous = prior[previous_start:]
        if not previous.strip() or any(mark in previous for mark in QUOTE_MARKS):
            return None
        return previous, previous_start

    def _reported_subject(self, previous: str, previous_start: int) -> Speaker | None:
        """The speaker of a paragraph of reported speech: "Mr Hale said crews liked the old rota."
        (the subject of the speech verb in its first sentence)."""
        first_sentence = SENTENCE_END.split(previous, 1)[0]
        verb = VERB_IN_CLAUSE.search(first_sentence)
        if verb is None or _passive_before(first_sentence[:verb.start()]):
            return None
        subject_words = _words(first_sentence[:verb.start()])
        while subject_words and subject_words[-1].lower() in AUXILIARIES:
            subject_words = subject_words[:-1]
        if not subject_words or len(subject_words) > MAX_SPEAKER_WORDS or subject_words[-1].lower() in RELATIVE_PRONOUNS:
            return None
        if subject_words[-1].lower() in PRONOUNS:
            return self._pronoun_speaker(previous_start + verb.start(), subject_words[-1])
        subject = _without_trailing_auxiliaries(first_sentence[:verb.start()])
        speaker = self._speaker_from_phrase(subject, previous_start)
        return speaker if speaker is not None and speaker.name and is_speaker_name(speaker.name) else None

    def _spokesperson_of(self, speaker: Speaker, quote_start: int) -> Speaker | None:
        """Whom a bare "a spokesperson said" speaks for: the organisation the paragraph before
        reports as speaking ("West Midlands Ambulance Service said it sent two crews.")."""
        if not speaker.name or not SPOKES_WORD.search(speaker.name) or len(_words(speaker.role or speaker.name)) > 2:
            return None
        before = self._paragraph_before(quote_start)
        if before is None:
            return None
        reported = self._reported_subject(*before)
        if reported is None or reported.start is None or not (reported.name.isupper() or any(
                word.lower() in ORGANISATION_WORDS for word in _words(reported.name))):
            return None
        return reported

    def _after(self, quotation: dict) -> Speaker | None:
        after_start = quotation["close_mark"] + 1
        line_end = self.text.find("\n", after_start)
        after = self.text[after_start:line_end if line_end != -1 else len(self.text)]
        match = AFTER_VERB_FIRST.match(after)
        if match and match.group("role") and (_role_title(match.group("speaker")) or (
                _looks_like_description(match.group("speaker")) and split_name_role(match.group("speaker"))[0] is None)) \
                and person_key(match.group("role").strip()) is not None:
            # '"...," said Ludlow Station Manager, Peter Grant.', '"...," said the service's head of
            # operations, Keith Chance.': the post, then the person
            speaker = self._speaker_from_phrase(match.group("role"), after_start + match.start("role"),
                                                role=match.group("speaker").strip())
            if speaker is not None:
                speaker.start = after_start + match.start("speaker")
            return speaker
        if match:
            speaker = self._speaker_from_phrase(match.group("speaker"), after_start + match.start("speaker"))
            if speaker is not None and match.group("role"):
                # '"...," said Det. Insp. Jane Smith, of West Mercia Police.': both say who she is (a
                # relative clause, "who added that ...", is no description to add)
                apposition = match.group("role").strip()
                speaker.role = _join_roles(speaker.role, apposition) if speaker.name and (
                    _first_word(apposition) not in RELATIVE_PRONOUNS) else (speaker.role or apposition)
                speaker.affiliation = speaker.affiliation or _affiliation(apposition)
                if not _about_a_thing(apposition):
                    speaker.end = after_start + match.end("role")
            return speaker
        match = AFTER_SPEAKER_FIRST.match(after)
        if match and _passive_before(match.group("speaker")):
            return NO_SPEAKER   # '"...", it has been argued.'
        if match and (not _too_long_for_a_speaker(match.group("speaker"))
                      or _body_post_then_person(match.group("speaker"))
                      or _person_of_a_body(match.group("speaker"))):
            return self._speaker_from_phrase(match.group("speaker"), after_start + match.start("speaker"))
        match = AFTER_NAME_ROLE_VERB.match(after)
        if match and _role_title(match.group("speaker")) and person_key(match.group("role").strip()) is not None:
            # '"...," Ludlow Station Manager, Peter Grant, said.': the title, then the person
            speaker = self._speaker_from_phrase(match.group("role"), after_start + match.start("role"),
                                                role=match.group("speaker").strip())
            if speaker is not None:
                speaker.start = after_start + match.start("speaker")
            return speaker
        if match and (person_key(match.group("speaker").strip()) is not None
                      or _post_then_person(match.group("speaker"))):
            # '"...," Tom Hale, of West Mercia Police, said.', '"...," Inspector Tom Hale, of Hereford
            # CID, said.', '"...," station commander Ann Lee, from Bromyard fire station, said.'
            speaker = self._speaker_from_phrase(match.group("speaker"), after_start + match.start("speaker"))
            if speaker is not None and speaker.name:
                speaker.role = _join_roles(speaker.role, match.group("role").strip())
                speaker.affiliation = speaker.affiliation or _affiliation(match.group("role"))
                speaker.end = after_start + match.end("role")
            return speaker
        match = AFTER_POST_NAME_VERB.match(after)
        if match and person_key(match.group("speaker").strip()) is not None and _looks_like_description(
                match.group("role")):
            name = match.group("speaker").strip()
            return Speaker(name=name, role=match.group("role").strip(), start=after_start + match.start("role"),
                           end=after_start + match.end("speaker"))
        return None

    def attribute(self, quotations: list[dict]) -> list[dict]:
        self.quoted_spans = [(quotation["open_mark"], quotation["close_mark"]) for quotation in quotations]
        self._role_links.clear()
        self._elsewhere.clear()
        results: list[dict] = []
        previous: dict | None = None
        for quotation in quotations:
            speaker = (self._before(quotation) or self._after(quotation) or self._reported_before(quotation)
                       or self._sentence_tail(quotation))
            passive = speaker is NO_SPEAKER   # "we are told": no speaker to name, nor to continue
            if passive:
                speaker = None
            if speaker is None and not passive and previous is not None and previous["speaker"] and (
                    self._same_sentence(previous["_close_mark"], quotation["open_mark"])) and not (
                    previous["text"].endswith((".", "!", "?"))):
                # 'X said the cuts would be "reckless" and "dangerous"': a quotation in the sentence of
                # an attributed one is the same speaker's.
                speaker = Speaker(previous["speaker"], previous["speaker_role"], previous["entity_id"],
                                  inferred=previous["entity_method"] == INFERRED,
                                  affiliation=previous["_affiliation"])
            attributed = speaker is not None
            if speaker is None and not passive and previous is not None and previous["speaker"] and (
                    quotation["first_paragraph"] - previous["_last_paragraph"] <= MAX_CONTINUATION_GAP):
                speaker = Speaker(previous["speaker"], previous["speaker_role"], previous["entity_id"],
                                  inferred=previous["entity_method"] == INFERRED,
                                  affiliation=previous["_affiliation"])
            quoted = "\n\n".join(self.text[start:end] for start, end in quotation["pieces"]).strip()
            if not quoted or (not attributed and len(quoted.split()) <= MAX_SCARE_QUOTE_WORDS
                              and not self._sentence_after_attribution(previous, quotation)):
                continue
            if not passive and speaker is None and not quoted[:1].isupper():
                continue   # an unattributed fragment ("the end of its working life")
            if speaker is not None:
                speaker = self._register(speaker, quotation["open_mark"])
                if speaker.name and POSSESSIVE_END.search(speaker.name):
                    speaker.name = speaker.name[:-2]   # "Councillor Dent's [letter]"
                owner = DOCUMENT_OF.match(speaker.name) if speaker.name and (
                    "'" in speaker.name or "\u2019" in speaker.name) else None   # (its apostrophe first)
                if owner is not None and person_key(owner.group("owner")) is not None:
                    speaker.name = owner.group("owner")   # "Councillor Carter's letter": Councillor Carter
                if speaker.name and len(_words(speaker.name)) == 1 and speaker.name.lower() in self.full_names:
                    speaker.name = self.full_names[speaker.name.lower()]   # "Hammerton": Rod Hammerton
                document = False
                if speaker.name is not None and (not is_speaker_name(speaker.name) and not (
                        _surname_after_post(speaker.name, speaker.role)) and not (
                        self._organisation_by_relative(speaker)) or self._only_places(speaker.name)):
                    document = any(word.lower() in DOCUMENT_WORDS for word in _words(speaker.name))
                    # A document, a place, a time phrase or a fragment is not who spoke: the
                    # quotation stays, without a speaker (nor a body, unless its role gave one).
                    speaker = Speaker(name=None, role=speaker.role, entity_id=speaker.entity_id,
                                      inferred=speaker.inferred)
                self.last_speaker = speaker
                self.last_speaker_offset = quotation["close_mark"]
                if not speaker.name and not document and len(quoted.split()) <= MAX_SCARE_QUOTE_WORDS:
                    # 'Critics called the plan a "power grab"': no one to quote, a scare quote (a
                    # report's words, 'has made "solid headway", according to the report', are quoted)
                    continue
            if quotation["first_paragraph"] == 0 and "\n" in self.text.strip() and (
                    speaker is None or not speaker.name or self._headline()):
                # a headline's quotation: a scare quote, or the story's key quote repeated ('Plan a
                # "wonderful gift", says MP'); the story itself quotes it
                continue
            window = self.text[max(0, quotation["open_mark"] - 40):quotation["open_mark"]]
            if any(word in window for word in TITLE_HINTS) and TITLE_BEFORE.search(window):
                continue   # 'under the headline "Rates relief hope"', 'a report entitled "..."': a title
            if speaker is not None and speaker.name:
                speaker.role = _role_without_name(speaker.role, speaker.name)
            result = {
                "speaker": speaker.name if speaker else None,
                "speaker_id": self._speaker_id(speaker, quotation["open_mark"]),
                "speaker_role": speaker.role if speaker else None,
                "entity_id": speaker.entity_id if speaker else None,
                "entity_method": (INFERRED if speaker.inferred else STATED) if speaker and speaker.entity_id else None,
                "text": quoted,
                "start_char": quotation["pieces"][0][0],
                "end_char": quotation["pieces"][-1][1],
                "_last_paragraph": quotation["last_paragraph"],
                "_close_mark": quotation["close_mark"],
                "_affiliation": speaker.affiliation if speaker else None,   # the next quote may continue it
            }
            results.append(result)
            previous = result
        for result in results:
            del result["_last_paragraph"], result["_close_mark"], result["_affiliation"]
        return results


def extract_quotes(text: str, mentions: list[dict], watchlist=None, published_at: str | None = None,
                   breaks: list[tuple[int, int]] | None = None) -> list[dict]:
    """Quotes in ``text``: ``{"speaker", "speaker_role", "entity_id", "text", "start_char", "end_char"}``.

    ``published_at`` (ISO date) picks the role a watchlist person held on that day; ``breaks``
    are the text's ``paragraph_breaks``, when the caller has them."""
    if not text:
        return []
    if not any(mark in text for mark in QUOTE_MARKS):
        # Some outlets quote with single marks: 'Mr Ellis said: 'For fire operations, ...''. In a
        # text with no double mark, single marks that open and close quotations are read as double
        # ones (one character for one, so every offset holds).
        if not SINGLE_OPENING.search(text):
            return []   # no single mark opens a quotation (apostrophes only)
        text = single_quotes_as_double(text)
        if '"' not in text:
            return []
    elif SINGLE_OPENING.search(text):
        swapped = _single_outer_quotes(text)   # 'The owner kept shouting "help him",' said Sgt Lyle.
        if swapped is not text:
            return _in_original_marks(QuoteAttributor(swapped, mentions, watchlist, published_at).attribute(
                find_quotations(swapped, breaks)), text, swapped)
    # (single marks made double keep every offset, so the breaks between paragraphs hold)
    return QuoteAttributor(text, mentions, watchlist, published_at).attribute(find_quotations(text, breaks))


SINGLE_MARKS = re.compile("['\u2018\u2019]")
# A mark at a line's start or after a space, colon, bracket or dash: written as the mark, then "not
# after a character outside those" (which holds at the text's start), so that the regex engine
# looks for the mark itself rather than trying every position of the text.
SINGLE_OPENING = re.compile("['\u2018](?<![^\\s:(\u2013\u2014-]['\u2018])(?=[^\\W_])")


def single_quotes_as_double(text: str) -> str:
    """``text`` with the single marks that delimit quotations made straight double marks.

    Per paragraph: a mark opens a quotation at the paragraph's start or after a space, colon or
    bracket, before a letter or digit; an open quotation closes at a mark after punctuation, or
    before punctuation, a space or the paragraph's end, except a plural possessive ("the
    services' work": after an "s", before a lowercase word). A mark between letters is an
    apostrophe ("don't"). A paragraph whose quotation does not close is left as it was."""
    chars = list(text)
    for start, end in _paragraph_spans(text):
        opened = None
        changes: list[int] = []
        for mark in SINGLE_MARKS.finditer(text, start, end):
            offset = mark.start()
            before = text[offset - 1] if offset > start else " "
            after = text[offset + 1] if offset + 1 < end else " "
            if before.isalnum() and after.isalnum():
                continue   # an apostrophe
            if opened is None:
                if (before.isspace() or before in ":([\u2013\u2014-") and after.isalnum() and text[offset] != "\u2019":
                    opened = offset
                continue
            if before.isspace():
                continue
            next_word = text[offset + 1:offset + 3].strip()
            if before in ".,!?;:" or after in ".,;:!?)" or offset + 1 >= end or (after.isspace() and not (
                    before == "s" and next_word[:1].islower())):
                changes += [opened, offset]
                opened = None
        if opened is None:
            for offset in changes:
                chars[offset] = '"'
    return "".join(chars)


def _single_outer_quotes(text: str) -> str:
    """``text`` with its quotations swapped to double marks when it quotes with single marks and
    double ones only inside them, in the British way ('The owner kept shouting "help him" as we
    arrived,' said Sergeant Tom Lyle): the single marks that delimit quotations
    (:func:`single_quotes_as_double`) become double marks and the double marks inside them single
    ones, one character for one. Any double mark outside such a quotation leaves the text as it was."""
    first = DOUBLE_MARK.search(text).start()
    if SINGLE_OPENING.search(text, text.rfind("\n", 0, first) + 1, first) is None:
        return text   # (a cheap test first: the first double mark is inside no single-marked quotation)
    converted = single_quotes_as_double(text)
    changed = [offset for offset, (old, new) in enumerate(zip(text, converted)) if old != new]
    if not changed:
        return text
    spans = list(zip(changed[::2], changed[1::2]))
    inner = [match.start() for match in DOUBLE_MARK.finditer(text)]
    if not all(any(opening < offset < closing for opening, closing in spans) for offset in inner):
        return text
    chars = list(converted)
    for offset in inner:
        chars[offset] = "'"
    return "".join(chars)


DOUBLE_MARK = re.compile(f"[{QUOTE_MARKS}]")


def _in_original_marks(quotes: list[dict], original: str, swapped: str) -> list[dict]:
    """``quotes`` found in ``swapped`` (:func:`_single_outer_quotes`) with their text as ``original``
    writes it: the inner quotation marks as they were (the offsets are the same in both)."""
    for quote in quotes:
        start, end = quote["start_char"], quote["end_char"]
        region, position, pieces = swapped[start:end], 0, []
        for piece in quote["text"].split("\n\n"):
            found = region.find(piece, position)
            pieces.append(original[start + found:start + found + len(piece)] if found >= 0 else piece)
            position = found + len(piece) if found >= 0 else position
        quote["text"] = "\n\n".join(pieces)
    return quotes


def _parse_day(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


_TABLES: dict[tuple[int, str], tuple] = {}
_GOVERNS: dict[tuple[int, str], dict[str, str]] = {}


def _governs(watchlist) -> dict[str, str]:
    """entity id -> the id of the entity it governs, computed once per watchlist."""
    if watchlist is None:
        return {}
    key = (id(watchlist), watchlist.version)
    if key not in _GOVERNS:
        _GOVERNS[key] = {entity.id: entity.governs for entity in watchlist.entities if entity.governs}
    return _GOVERNS[key]


def _watchlist_tables(watchlist) -> tuple[dict[str, str], list]:
    """(surname -> full name of the watchlist's people and holders when unambiguous,
    [(entity id, compiled speaker-role pattern)]), computed once per watchlist."""
    if watchlist is None:
        return {}, []
    key = (id(watchlist), watchlist.version)
    if key not in _TABLES:
        names: dict[str, str | None] = {}
        for entity in watchlist.entities:
            for person in list(getattr(entity, "people", ())) + list(entity.holders):
                surname = person.name.split()[-1].lower()
                names[surname] = person.name if names.get(surname, person.name) == person.name else None
        # ``\bword\b`` for each role word, written so that the regex engine skips to their first
        # letters (``_word_start``): only whether one matches is asked, never which
        patterns = [(entity.id, re.compile("|".join(rf"{_word_start(word)}\b" for word in entity.speaker_roles)))
                    for entity in watchlist.entities if entity.speaker_roles]
        _TABLES[key] = ({surname: name for surname, name in names.items() if name}, patterns)
    return _TABLES[key]


# "Ellesmere Fire Station", "Craven Arms fire station", "Ludlow station": a place, then the station.
STATION = re.compile(r"(?P<place>(?:[A-Z][\w'\u2019-]*\s+){1,3}?)(?:[Ff]ire\s+)?[Ss]tation\b")
_STATION_PLACES: dict[tuple[int, str], dict[str, str]] = {}


_PLACE_WORDS: dict[tuple[int, str], frozenset[str]] = {}


def _place_words(watchlist) -> frozenset[str]:
    """The capitalised words of the watchlist's places and bodies (``area_names``,
    ``bare_area_names``, ``region_terms``, names, aliases), lowercase: like the West Mercia words
    of NOT_NAME_WORDS, no part of a person's name ("Devon Somerset said" names nobody). Given
    names ("Devon", ``given_names``) and the words of the watchlist's people stay names, and a
    given name still makes the word after it a surname ("Jane Castle")."""
    if watchlist is None:
        return frozenset()
    key = (id(watchlist), watchlist.version)
    if key not in _PLACE_WORDS:
        people_words = {word.lower() for entity in watchlist.entities
                        for person in (*getattr(entity, "people", ()), *getattr(entity, "holders", ()))
                        for word in _words(person.name)}
        words = {_bare(word) for entity in watchlist.entities
                 for phrase in (entity.name, *entity.aliases, *entity.area_names, *entity.bare_area_names,
                                *entity.region_terms)
                 for word in _words(phrase) if _is_capitalised(word)}
        _PLACE_WORDS[key] = frozenset(words - people_words - given_names() - CLOSED_CLASS_WORDS)
    return _PLACE_WORDS[key]


# A mention's method when the entity pipeline inferred it ("the Commissioner" read as the PCC).
INFERRED_MENTION = "inferred"
# Prepositions after which a capitalised name in a speaker's role says where or with whom they are.
AFFILIATION_PREPOSITIONS = {"of", "from", "in", "at"}
# An affiliation right after a person's name: ", of Staffordshire", " from the Staffordshire force".
AFFILIATION_AFTER = re.compile(r",?[ \t]+(?P<affiliation>(?:of|from)[ \t]+(?:the[ \t]+)?[A-Z][^,.;:!?\"\u201c\u201d\n()]{0,80})")
# Lowercase words inside a run of capitalised names ("Devon and Cornwall Police", "the United Nations").
RUN_INNER_WORDS = {"the", "and", "&"}
# Words inside an organisation's name ("Department for Transport", "Ministry of Justice").
ORGANISATION_NAME_INNER_WORDS = {"the", "and", "&", "for", "of"}
_LOCAL_WORDS: dict[tuple[int, str], frozenset[str]] = {}
_OTHER_BODIES: dict[tuple[int, str], re.Pattern | None] = {}


# Nouns of a body's own units: a name ending in one is part of the body ("Ludlow Safer
# Neighbourhood Team", "Community Risk Department"), not another body.
UNIT_NOUNS = {"team", "department", "group", "station"}
@functools.lru_cache(maxsize=1)
def _other_body_nouns() -> frozenset[str]:
    """Nouns that end another organisation's name ("Devon and Cornwall Police", "Kent Fire and
    Rescue Service", "Birmingham City Council", "the Fire Service College"): the organisations'
    words and the heads of longer names, less the nouns of a body's own units."""
    from nlp.entities import LONGER_NAME_HEADS   # nlp.entities imports this module
    return frozenset((ORGANISATION_WORDS | LONGER_NAME_HEADS | {"constabulary"}) - UNIT_NOUNS)


@functools.lru_cache(maxsize=1)
def _name_head_nouns() -> frozenset[str]:
    """Nouns that say what a name is: another organisation or a body's own unit."""
    return _other_body_nouns() | UNIT_NOUNS


@functools.lru_cache(maxsize=1)
def _affiliation_nouns() -> frozenset[str]:
    """Nouns of posts and organisations: a capitalised name before one is whose post or body it is
    ("IRS Commissioner", "Metropolitan Police")."""
    return frozenset(ROLE_NOUNS | ORGANISATION_WORDS | RANK_TITLES | {"constabulary", "pcc", "cfo"})


# "of X" / "from X" after a word: the word before it ("Hale" of "Tom Hale, of Staffordshire") may
# be a surname with an affiliation. Each written as its word first, then "a space or tab before
# it" (a look-behind), so that the regex engine finds it by that word's letters instead of trying
# the set [ \t] at every character: a match starts one character after the space.
AFFILIATION_OPENINGS = (re.compile(r"of(?<=[ \t]of)[ \t]+(?:the[ \t]+)?[A-Z]"),
                        re.compile(r"from(?<=[ \t]from)[ \t]+(?:the[ \t]+)?[A-Z]"))
# A name at the start of an affiliation, before what may qualify it ("Newport" of "Newport, Gwent",
# "St John's" of "St John's in Worcester").
PLACE_NAME = re.compile(r"(?:[Tt]he\s+)?[A-Z][\w'\u2019.&-]*(?<!\.)(?:\s+(?:[A-Z][\w'\u2019.&-]*(?<!\.)|and|&))*")


def _local_words(watchlist) -> frozenset[str]:
    """Lowercase words a speaker's role may hold without naming a body or place outside the
    watchlist: every word of the watchlist's bodies, places, references and roles, and the words
    of posts, organisations, titles and times."""
    key = (id(watchlist), watchlist.version)
    if key not in _LOCAL_WORDS:
        words = {_bare(word) for entity in watchlist.entities
                 for phrase in (entity.name, *entity.aliases, *entity.abbreviations, *entity.area_names,
                                *entity.bare_area_names, *entity.region_terms, *entity.generic_references,
                                *entity.speaker_roles)
                 for word in _words(phrase)}
        _LOCAL_WORDS[key] = frozenset(words | ROLE_WORDS | ROLE_NOUNS | PERSON_NOUNS | ORGANISATION_WORDS
                                      | CLOSED_CLASS_WORDS | TITLES | HONOURS | TIME_WORDS | RANK_TITLES
                                      | {"constabulary"})
    return _LOCAL_WORDS[key]


def _foreign_word(word: str, local: frozenset[str]) -> str | None:
    """``word`` lowercase (no possessive, no abbreviation's full stop) when it is none of ``local``."""
    bare = word.lower().rstrip(".")
    if bare in local:
        return None   # the common case, tested first
    if bare.endswith(("'s", "\u2019s")):
        bare = bare[:-2]
    elif bare.endswith(("'", "\u2019")):
        bare = bare[:-1]
    if not bare or bare in local or not bare[0].isalpha():
        return None
    return bare


def _other_bodies(watchlist) -> re.Pattern | None:
    """A whole-word pattern of the watchlist's ``exclude`` phrases that name another body (not a
    phrase holding one of the watched bodies' own names, as "West Mercia Police and Crime
    Commissioner", excluded for the force, holds the commissioner's)."""
    key = (id(watchlist), watchlist.version)
    if key not in _OTHER_BODIES:
        def norm(phrase: str) -> str:
            return " ".join(phrase.lower().replace("&", "and").split())

        names = {norm(name) for entity in watchlist.entities for name in (entity.name, *entity.aliases)}
        patterns = []
        for phrase in sorted({norm(phrase) for entity in watchlist.entities for phrase in entity.exclude}):
            if not any(f" {name} " in f" {phrase} " for name in names):
                words = [re.escape(word) if word != "and" else "(?:and|&)" for word in phrase.split()]
                patterns.append(r"\s+".join(words))
        _OTHER_BODIES[key] = re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)") if patterns else None
    return _OTHER_BODIES[key]


# The category ids a watchlist from before the ``stations``/``councillors`` category flags used.
LEGACY_FLAGGED_CATEGORIES = {"stations": "fire_service", "councillors": "fire_authority"}


def _flagged_categories(watchlist, flag: str) -> set[str]:
    """The ids of the watchlist's categories with ``flag`` ("stations", "councillors") set in their
    [[category]] entry; a watchlist that sets it on none keeps the ids it used to mean."""
    flagged = {category.id for category in getattr(watchlist, "categories", {}).values()
               if getattr(category, flag, False)}
    return flagged or {LEGACY_FLAGGED_CATEGORIES[flag]}


def _station_places(watchlist) -> dict[str, str]:
    """place (lowercase) -> the one fire service with that place among its region terms."""
    key = (id(watchlist), watchlist.version)
    if key not in _STATION_PLACES:
        owners: dict[str, set[str]] = {}
        with_stations = _flagged_categories(watchlist, "stations")
        for entity in watchlist.entities:
            if entity.category in with_stations:
                for term in entity.region_terms:
                    owners.setdefault(term.split(",")[0].lower(), set()).add(entity.id)
        _STATION_PLACES[key] = {place: ids.pop() for place, ids in owners.items() if len(ids) == 1}
    return _STATION_PLACES[key]


_PEOPLE: dict[tuple[int, str, dt.date | None], dict] = {}


def _people_index(watchlist, day: dt.date | None) -> dict[str, list[tuple[str | None, str]]]:
    """surname -> [(first name, entity id)], cached per watchlist and day."""
    if watchlist is None:
        return {}
    key = (id(watchlist), watchlist.version, day)
    index = _PEOPLE.get(key)
    if index is None:
        if len(_PEOPLE) > 4096:
            _PEOPLE.clear()
        index = _PEOPLE[key] = _build_people_index(watchlist, day)
    return index


def _build_people_index(watchlist, day: dt.date | None) -> dict[str, list[tuple[str | None, str]]]:
    """surname -> [(first name, entity id)] of the watchlist's people and office holders in their
    role on ``day`` (every one when the day is unknown)."""
    index: dict[str, list[tuple[str | None, str]]] = {}
    if watchlist is None:
        return index
    for entity in watchlist.entities:
        people = [person for person in getattr(entity, "people", ()) if person.held_on(day)]
        people += list(entity.holders_on(day))
        for person in people:
            words = person.name.split()
            index.setdefault(words[-1].lower(), []).append((words[0].lower() if len(words) > 1 else None, entity.id))
    return index


def _known_body(index: dict, speaker: str | None) -> str | None:
    key = person_key(speaker)
    if key is None or key[0] not in index:
        return None
    surname, first = key
    bodies = {entity_id for known_first, entity_id in index[surname]
              if first is None or known_first is None or known_first == first}
    return bodies.pop() if len(bodies) == 1 else None


# -- who a speaker is ---------------------------------------------------------------------------------

DOCUMENT_WORDS = {
    "report", "reports", "letter", "letters", "statement", "document", "documents", "review", "survey",
    "study", "plan", "plans", "warning", "website", "paper", "minutes", "agenda", "notice", "consultation",
    "petition", "book", "article", "proposal", "proposals", "case", "strategy", "inspection", "findings",
    "figures", "data", "policy", "motion", "leaflet", "post", "tweet", "email", "bulletin", "newsletter",
    "news", "star", "times", "gazette", "advertiser", "journal", "echo", "observer", "herald", "mercury",
}
TIME_WORDS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "today", "yesterday", "week", "month", "year", "years", "morning", "evening", "night", "afternoon",
}
ORGANISATION_WORDS = {
    "council", "service", "services", "authority", "police", "brigade", "union", "party", "group", "trust",
    "association", "federation", "ltd", "limited", "company", "co", "inc", "plc", "corp", "bros", "llp", "llc", "government", "office", "department",
    "commission", "committee", "board", "club", "society", "charity", "ambulance", "force", "fbu",
    "inspectorate", "hmicfrs", "agency", "fire", "rescue", "partnership", "alliance", "campaign", "network", "school",
    "college", "university", "hospital", "nhs", "team", "panel", "church", "cabinet", "ministry",
}
# Words that open a run of capitalised words before a name without being part of its role
# ("But Councillor Roger Evans", "Today Mr Campion").
NOT_ROLE_OPENING_WORDS = CLAUSE_OPENERS | LEADING_FUNCTION_WORDS | TIME_WORDS
AUTHOR_WORDS = {"author", "authors", "writer", "writers"}
NEWSPAPER_WORDS = {"news", "star", "times", "gazette", "advertiser", "journal", "echo", "observer", "herald", "mercury"}
DOCUMENT_OR_AUTHOR_WORDS = DOCUMENT_WORDS | AUTHOR_WORDS
DOCUMENT_OR_TIME_WORDS = DOCUMENT_WORDS | TIME_WORDS


@functools.lru_cache(maxsize=256)
def _document_by(nouns: tuple[str, ...]) -> re.Pattern:
    """'<document> [written|commissioned...] by|from ': what comes next is who wrote it."""
    return re.compile(rf"\b(?:{'|'.join(map(re.escape, nouns))})\b(?:\s+[a-z]+){{0,2}}?\s+(?:by|from)\s+",
                      re.IGNORECASE)


DOCUMENT_OF = re.compile(r"^(?P<owner>.+?)['\u2019]s\s+(?:" + "|".join(sorted(DOCUMENT_WORDS)) + r")$", re.IGNORECASE)
DESCRIPTIVE_DETERMINERS = {"a", "an", "the", "one", "another", "its", "his", "her", "their"}
# Words before a role that are not part of it ("according to the area manager Jo Lee").
NOT_ROLE_LEAD_WORDS = DESCRIPTIVE_DETERMINERS | PREPOSITIONS | {"according", "to"}
SPEAKER_ROLE_ENDS = CONTENT_ROLE_WORDS | {"manager", "officer", "surveyor", "spokesman"}


@functools.lru_cache(maxsize=65536)
def is_speaker_name(name: str | None) -> bool:
    """Whether ``name`` can be who spoke: a person ("John Campion", "Mr Campion", "a resident",
    "the chief fire officer") or an organisation ("Hereford & Worcester Fire and Rescue Service",
    "the FBU"); not a document ("the report"), a time phrase ("In March the Worcester News"), a
    clause fragment ("who was awarded a medal"), a lone first name or a repeated phrase."""
    words = _words(name or "")
    if not words or _too_long_for_a_speaker(name):
        return False
    if (words[0].lower().rstrip(".") in TITLES and len(words) > 1) or (
            len(words) == 2 and _bare(words[0]) in RANK_TITLES and _is_capitalised(words[0])):
        return all(_is_capitalised(word) for word in words[1:]) and not any(
            word.lower() in DOCUMENT_OR_TIME_WORDS for word in words[1:])   # "councillor David Minnery"
    lowered = [word.lower().strip(".") for word in words]
    half = len(lowered) // 2
    if len(lowered) % 2 == 0 and half and lowered[:half] == lowered[half:]:
        return False   # "the report, the report"
    if lowered[0] in TIME_WORDS or lowered[0] in {"in", "on", "at", "last", "this", "next", "since", "during",
                                                  "when", "who", "which", "that", "after", "before"}:
        return False
    if any(word in DOCUMENT_WORDS for word in lowered) and not any(word in ORGANISATION_WORDS for word in lowered):
        return False
    if any(word in TIME_WORDS for word in lowered[1:]) and not any(_is_capitalised(word) and word.lower()
                                                                   not in TIME_WORDS for word in words[1:]):
        return False
    if lowered[0] in DESCRIPTIVE_DETERMINERS:
        return len(words) >= 2   # "a resident", "the chairman", "a spokesperson for the service"
    if not _is_capitalised(words[0]):
        return False             # "put a business case before the public"
    if any(word in ORGANISATION_WORDS for word in lowered) or (len(words) == 1 and words[0].isupper()):
        return True              # "Shropshire Council", "HWFRS", "FBU"
    if len(words) > 1 and lowered[-1] in SPEAKER_ROLE_ENDS:
        return True              # "Shrewsbury Station Manager"
    return person_key(name) is not None


#: A prefix of a first name shorter than this is no evidence of a short form ("Jo" and "John").
MIN_SHORT_FORM_LETTERS = 3


def short_form(first: str, other: str) -> bool:
    """Whether one of two first names (lowercase) is a short form of the other by its letters: the
    same, or one begins the other and has at least ``MIN_SHORT_FORM_LETTERS`` letters ("jon" and
    "jonathon", "matt" and "matthew"; not "jo" and "john", nor "bill" and "william")."""
    first, other = first.split("-")[0].rstrip("."), other.split("-")[0].rstrip(".")
    shorter, longer = sorted((first, other), key=len)
    return longer.startswith(shorter) and (len(shorter) >= MIN_SHORT_FORM_LETTERS or shorter == longer)


def speaker_identity(name: str | None, known_people: dict | None = None, entity_id: str | None = None) -> str | None:
    """One key per person across articles, apart from the role: "John Campion", "Mr Campion",
    "Cllr John Campion" and "John-Paul Campion" are all ``john campion`` when the watchlist knows
    a John Campion (else a lone "Mr Campion" is ``campion``); None for descriptions ("a resident")
    and organisations. With the quote's body ``entity_id``, a first name that is a short or long
    form (``short_form``) of the one first name the watchlist knows for that surname and body is
    the watchlist's ("Jonathon Pryce" speaking for HWFRS, whose watchlist names Jon Pryce: ``jon
    pryce``)."""
    key = person_key(name)
    if key is None:
        return None
    surname, first = key
    if first is None and known_people and surname in known_people:
        firsts = {known_first for known_first, _entity in known_people[surname] if known_first}
        if len(firsts) == 1:
            first = firsts.pop()
    elif first is not None and entity_id is not None and known_people and surname in known_people:
        firsts = {known_first for known_first, known_entity in known_people[surname]
                  if known_first and known_entity == entity_id and short_form(first, known_first)}
        if len(firsts) == 1:
            first = firsts.pop()
    first = first.split("-")[0] if first else None
    return f"{first} {surname}" if first else surname


# -- speakers known from earlier quotes -------------------------------------------------------------

STATED, KNOWN_SPEAKER, INFERRED = "stated", "known_speaker", "inferred"


@functools.lru_cache(maxsize=65536)
def person_key(speaker: str | None) -> tuple[str, str | None] | None:
    """``(surname, first name or None)`` of a person's name ("Councillor Eric Carter" ->
    ("carter", "eric"), "Mr Campion" -> ("campion", None)); None for descriptions ("A spokesman",
    "the fire authority") and single untitled words."""
    words = _words(speaker or "")
    titled = bool(words) and (words[0].lower().rstrip(".") in TITLES or (
        len(words) == 2 and _bare(words[0]) in RANK_TITLES and _is_capitalised(words[0])))
    if titled:
        words = words[1:]
    if not words or len(words) > 4 or not (titled or len(words) > 1):
        return None
    stop = TITLED_STOP_OR_TITLES if titled and len(words) <= 3 else NOT_NAME_WORDS
    if not all(_is_capitalised(word) and word.lower() not in stop for word in words[:-1]):
        return None
    if not (_is_capitalised(words[-1]) and words[-1].lower() not in stop) and not (
            len(words) > 1 and _given_name_then_surname(words[-2], words[-1])):
        return None   # "the Fire Authority"; but "Paul Green" is a person
    return words[-1].lower(), (words[0].lower() if len(words) > 1 else None)


#: A body stated for a person in another article is carried only from articles published within
#: this many days of the quote's (roles change: fire authorities appoint their chairs every year).
KNOWN_SPEAKER_WINDOW_DAYS = 365
#: ... and only when at least this many other articles state it (one article's description may be
#: of a one-off capacity; a body stated again and again, never another, is the person's).
KNOWN_SPEAKER_MIN_ARTICLES = 2


def _story(quote: dict):
    """The story a quote's article tells: ``story_id`` (a syndicated copy's original), else
    ``article_id``, else the quote itself (a quote with neither is its own article)."""
    for key in ("story_id", "article_id"):
        if quote.get(key) is not None:
            return quote[key]
    return id(quote)


class SpeakerMemory:
    """Which watched entity each named person speaks for, learnt from the quotes whose article
    states it ("Councillor Eric Carter, who chairs Shropshire Fire Authority, said").

    ``link`` gives that entity to the person's quotes in articles that do not say it ("Councillor
    Carter said"), marked ``entity_method = "known_speaker"``, only when the evidence is
    consistent and current:

    * every stated link of that surname (and first name, when both are given) agrees on one
      entity (one contradicting article anywhere and nothing is carried);
    * at least ``min_articles`` *other* articles, published within ``window_days`` of the
      quote's article, state it (quotes and stated links carry ``article_id`` and
      ``published_at``; an unknown date is outside every window); syndicated copies of one
      story (same ``story_id``) are one article;
    * the quote's own article gives the speaker no role (``speaker_role``): an article that
      describes the person and names no body for them (a union official, a councillor of a
      council, a former chairman) says they speak in another capacity.

    Only stated links are learnt: not ``known_speaker`` links, nor ``inferred`` ones (a body that
    rests on an inferred mention, "Metropolitan Police Commissioner Sir Mark Rowley" with
    "Commissioner" read as the local PCC, or on ``governs``), so an inferred link never teaches
    another, and the result does not depend on the order in which articles were analysed.
    ``link`` leaves stated and inferred links as their article gave them. ``window_days=None`` and
    ``min_articles=1`` give the unguarded memory (any stated article, any date).
    """

    def __init__(self, window_days: int | None = KNOWN_SPEAKER_WINDOW_DAYS,
                 min_articles: int = KNOWN_SPEAKER_MIN_ARTICLES):
        self.window_days = window_days
        self.min_articles = min_articles
        # surname -> [(first name or None, entity_id, article, day)]
        self._links: dict[str, list[tuple[str | None, str, object, dt.date | None]]] = {}

    def learn(self, quotes: Iterable[dict]) -> None:
        for quote in quotes:
            if quote.get("entity_id") and quote.get("entity_method", STATED) == STATED:
                # "Chief Fire Officer Penrose" (stored "Penrose", role "Chief Fire Officer") is Mr Penrose
                key = person_key(_person_lookup_name(quote.get("speaker"), quote.get("speaker_role")))
                if key is not None:
                    article = _story(quote)
                    self._links.setdefault(key[0], []).append(
                        (key[1], quote["entity_id"], article, _parse_day(quote.get("published_at"))))

    def _usable(self, evidence: tuple, article, day: dt.date | None) -> bool:
        if article is not None and evidence[2] == article:
            return False   # the article itself: what it states, the analyser already used
        if self.window_days is None:
            return True
        return day is not None and evidence[3] is not None and abs((evidence[3] - day).days) <= self.window_days

    def entity_for(self, speaker: str | None, *, article=None, published_at: str | None = None) -> str | None:
        """The entity other articles consistently state for ``speaker`` around ``published_at``
        (the quote's article ``article`` excluded), else None."""
        key = person_key(speaker)
        if key is None or key[0] not in self._links:
            return None
        surname, first = key
        evidence = [link for link in self._links[surname]
                    if first is None or link[0] is None or link[0] == first]
        entities = {link[1] for link in evidence}
        if len(entities) != 1:
            return None
        day = _parse_day(published_at)
        articles = {link[2] for link in evidence if self._usable(link, article, day)}
        return entities.pop() if len(articles) >= self.min_articles else None

    def link(self, quotes: list[dict]) -> list[dict]:
        """Set the entity of quotes whose article links the speaker to no body (again, for earlier
        ``known_speaker`` links) from the known speakers; returns the quotes that changed. Stated
        and inferred links are the article's own and stay."""
        changed = []
        for quote in quotes:
            if quote.get("entity_method", STATED if quote.get("entity_id") else None) in (STATED, INFERRED):
                continue
            entity_id = None
            if not (quote.get("speaker_role") or "").strip():
                entity_id = self.entity_for(quote.get("speaker"), article=_story(quote),
                                            published_at=quote.get("published_at"))
            method = KNOWN_SPEAKER if entity_id else None
            if (quote.get("entity_id"), quote.get("entity_method")) != (entity_id, method):
                quote["entity_id"], quote["entity_method"] = entity_id, method
                changed.append(quote)
        return changed

    def __len__(self) -> int:
        return sum(len(links) for links in self._links.values())
