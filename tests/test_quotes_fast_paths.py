"""The quote extractor's cheap paths answer as the regexes they stand in for (same output, fewer instructions)."""
import re

import pytest

from nlp import quotes
from nlp.quotes import (ANONYMOUS, CASE_SPECIAL_CHARACTERS, DOCUMENT_OF, NOT_FOR_A_BODY, PASSIVE_BEFORE_VERB, SPOKESPERSON,
                        TRAILING_AUXILIARIES, QuoteAttributor, _not_for_a_body, _passive_before, _whole_word,
                        _whole_word_any_case, _without_trailing_auxiliaries)

PHRASES = ["Former chief fire officer", "FORMER", "ex-officer", "Unionist", "the MP", "an MP's aide",
           "Her Majesty's Inspector", "HMIC's report", "\u017fhadow minister", "the \u017fhadow", "\u0130nspectorate",
           "once a firefighter", "Mr Hale has", "Mr Hale has also ", "Mr Hale", "it has been", "we were\n",
           "they ARE", "the report wa\u017f", "Councillor Carter's letter", "Carter\u2019s Letter", "", " ",
           "was", "Being", "Cllr Ann Lee then", "the chief simply", "said", "the Unite union"]


@pytest.mark.parametrize("phrase", PHRASES)
def test_cheap_tests_answer_as_the_regexes(phrase):
    assert _not_for_a_body(phrase) == (NOT_FOR_A_BODY.search(phrase) is not None)
    assert _passive_before(phrase) == (PASSIVE_BEFORE_VERB.search(phrase) is not None)
    assert _without_trailing_auxiliaries(phrase) == TRAILING_AUXILIARIES.sub("", phrase)
    has_apostrophe = "'" in phrase or "\u2019" in phrase
    assert has_apostrophe or DOCUMENT_OF.match(phrase) is None


def test_the_lowercased_text_finds_a_surname_where_the_case_insensitive_pattern_does():
    text = 'Inspector Tom HALE, of Hereford, was there. Mr hale\'s car; "Hale" said HALE-SMITH and Hales.'
    lowered = QuoteAttributor(text, [], None)._lowered_text()
    assert lowered == text.lower()
    for surname in ("hale", "hales", "hale-smith", "tom"):
        for before in (0, 20, len(text)):
            found = [match.span() for match in _whole_word(surname).finditer(lowered, 0, before)]
            assert found == [match.span() for match in _whole_word_any_case(surname).finditer(text, 0, before)]
    assert [match.span() for match in _whole_word("hale").finditer(lowered)]   # it does find them


@pytest.mark.parametrize("character", list(CASE_SPECIAL_CHARACTERS))
def test_a_text_with_a_character_of_other_case_rules_keeps_the_case_insensitive_pattern(character):
    # "\u017f" (long s) matches "s" case-insensitively, "\u0130" lowercases to two characters: the
    # lowercased text would find other places, so there is none
    assert QuoteAttributor(f"Inspector Tom Hale{character} said", [], None)._lowered_text() is None
    assert re.search("s", "\u017f", re.IGNORECASE) and len("\u0130".lower()) == 2


def test_the_anonymous_check_needs_one_of_its_verbs_in_the_article():
    for verb in quotes.ANONYMOUS_VERBS:
        assert ANONYMOUS.search(f"a neighbour, who {verb} not to be named")
    text = 'A neighbour said: "It was loud." The resident added: "Very loud."'
    attributor = QuoteAttributor(text, [], None)
    assert not attributor._anonymous(quotes.Speaker(name="A neighbour"))
    assert attributor._has_anonymous is False
    text = 'A neighbour, who asked not to be named, said: "It was loud."'
    assert QuoteAttributor(text, [], None)._anonymous(quotes.Speaker(name="A neighbour"))


def test_the_speaker_role_patterns_match_where_the_word_bounded_words_do():
    from nlp.quotes import _watchlist_tables
    from nlp.watchlist import load_watchlist

    watchlist = load_watchlist()
    _names, patterns = _watchlist_tables(watchlist)
    roles = {entity.id: entity.speaker_roles for entity in watchlist.entities if entity.speaker_roles}
    assert [entity_id for entity_id, _pattern in patterns] == list(roles)
    words = sorted({word for entity_roles in roles.values() for word in entity_roles})
    phrases = [f"{before}{word}{after}" for word in words
               for before, after in (("", ""), ("the ", " of x"), ("x", ""), ("", "s"), ("-", "-"), ("deputy_", ""))]
    phrases += [word[1:] for word in words] + [word[:-1] for word in words] + ["", " ", "chief-fire officer"]
    for (entity_id, pattern), entity_roles in zip(patterns, roles.values()):
        old = re.compile("|".join(rf"\b{re.escape(word)}\b" for word in entity_roles))
        for phrase in phrases:
            assert (pattern.search(phrase) is None) == (old.search(phrase) is None), (entity_id, phrase)
    assert any(pattern.search(words[0]) for _entity_id, pattern in patterns)


def test_the_spokesperson_pattern_finds_what_the_word_bounded_one_does():
    from nlp.evaluate_entities import article_text, load_corpus

    old = re.compile(r"(?P<phrase>\b(?:[Aa]n?|[Tt]he)\s+(?:(?:[A-Z&][\w&'\u2019-]*|and|of)\s+)*"
                     r"(?:spokesman|spokeswoman|spokesperson))\b")
    texts = [article_text(text) for _record, text in load_corpus("data/corpus")]
    texts += ["A spokesman said", "aN Acme spokeswoman", "xA spokesman", "Tthe spokesman", "_the spokesman",
              "THE spokesman", "the West Mercia Police and Crime Commissioner's spokesperson", "An  spokesmanx",
              "said a spokesperson", "the & of and spokesman", "A\tspokesman", "the\u00e9 spokesman"]
    found = 0
    for text in texts:
        for pos, endpos in ((0, len(text)), (1, len(text)), (len(text) // 3, len(text) // 2)):
            spans = [match.span("phrase") for match in SPOKESPERSON.finditer(text, pos, endpos)]
            assert spans == [match.span("phrase") for match in old.finditer(text, pos, endpos)]
            found += len(spans)
    assert found > 10


def test_the_words_of_a_phrase_are_found_once_and_handed_out_as_new_lists():
    from nlp.quotes import TOKEN, _words

    for phrase in PHRASES + ["Mr Campion", "Chief Fire Officer Rod Hammerton's", "J. R. Smith-Jones & Co."]:
        first = _words(phrase)
        assert first == TOKEN.findall(phrase)
        first.append("changed")   # a caller's list is its own
        assert _words(phrase) == TOKEN.findall(phrase)
