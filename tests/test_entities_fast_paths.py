"""The analyser's cheap paths answer as the work they stand in for (same output, fewer instructions)."""
import numpy
import pytest
from spacy.attrs import IS_PUNCT, IS_SPACE, ORTH, SENT_START
from spacy.lang.lex_attrs import word_shape

from nlp.entities import SENTENCE_FINAL, SENTENCE_STARTS_KEY, Analyser
from nlp.evaluate_entities import article_text, load_corpus

TEXTS = [
    "",
    "Word",
    "Fire!",
    "Headline\n\nWest Mercia Police said. The service agreed... \"It is,\" he said?! Yes\n\n",
    "A line\nbroken once. Shropshire Fire and Rescue Service was called.\n\n\n\nThe PCC, John Campion, said: "
    "\"We act.\"\u2026 Then \u201cthe service\u201d left.",
    "Wait.... What?! No!? Really\u2026 yes.. ok \u3002 end \u00bf \u00a1 \u2014 -- (sic) [a] {b} \"x\" 'y'.",
    "Tabs\tand  spaces.  \n \n  Then\r\nlines\u2028here \u00a0 too.\n",
    "A long rule " + "-" * 120 + " then more. And a " + "x" * 130 + " word. End" + "." * 104,
    "Numbers 1.5m and 12:30pm, e-mail a@b.com, www.example.com/x?y=1. Next!",
]


@pytest.fixture(scope="module")
def analyser():
    return Analyser()


@pytest.fixture(scope="module")
def corpus_texts():
    return [article_text(text) for _record, text in load_corpus("data/corpus")][:60]


def _doc(analyser, text):
    doc = analyser._make_doc(text, "2024-06-01")
    for _name, component in analyser.nlp.pipeline:
        doc = component(doc)
    return doc


def test_the_kept_sentence_starts_are_the_docs_sentence_starts(analyser, corpus_texts):
    for text in TEXTS + corpus_texts:
        doc = _doc(analyser, text)
        kept = doc.user_data.get(SENTENCE_STARTS_KEY)
        if len(doc) < 2:
            assert kept is None   # nothing set: the analyser reads the doc's array
            continue
        assert kept == numpy.flatnonzero(doc.to_array(SENT_START) == 1).tolist()
        assert kept == [sentence.start for sentence in doc.sents]


def test_mentions_read_with_the_kept_starts_are_those_read_from_the_doc(analyser, corpus_texts):
    compared = 0
    for text in TEXTS + corpus_texts:
        doc = _doc(analyser, text)
        fast = analyser._result(text, doc)
        doc.user_data.pop(SENTENCE_STARTS_KEY, None)   # the doc's own SENT_START array instead
        assert analyser._result(text, doc) == fast
        for mention in fast["mentions"]:
            sentence = doc.char_span(mention["start_char"], mention["end_char"]).sent
            assert mention["sentence"] == text[sentence.start_char:sentence.end_char].strip()
            compared += 1
    assert compared > 100


def _starts_by_flags(doc) -> list[int]:
    """The sentencizer's rule over the doc's ORTH, IS_PUNCT and IS_SPACE arrays (as it read them before)."""
    attributes = doc.to_array([ORTH, IS_PUNCT, IS_SPACE]).tolist()
    marks = [index for index, (_orth, punct, space) in enumerate(attributes) if punct or space]
    starts = {0}
    for index in marks:
        orth, punct, _space = attributes[index]
        text = doc.vocab.strings[orth]
        if punct:
            if text not in SENTENCE_FINAL:
                continue
        elif index == len(doc) - 1 or "\n" not in text:
            continue
        else:
            starts.add(index + 1)
        following = index + 1
        while following in marks:
            following += 1
        if following < len(doc):
            starts.add(following)
    return sorted(starts)


def test_sentences_read_by_shape_are_those_read_by_flags(analyser, corpus_texts):
    for text in TEXTS + corpus_texts:
        doc = _doc(analyser, text)
        if len(doc) >= 2:
            assert doc.user_data[SENTENCE_STARTS_KEY] == _starts_by_flags(doc)


def test_a_shape_is_punctuation_or_whitespace_as_its_words_are(analyser, corpus_texts):
    # the property the sentencizer reads shapes by, for every word of the vocabulary
    for text in TEXTS + corpus_texts:
        _doc(analyser, text)
    getters = analyser.nlp.vocab.lex_attr_getters
    checked = 0
    for lexeme in analyser.nlp.vocab:
        text = lexeme.orth_
        if not text or len(text) >= 100:
            continue   # (shape "LONG": such a doc is read by its flags)
        shape = word_shape(text)
        assert lexeme.shape_ == shape
        assert (getters[IS_PUNCT](shape), getters[IS_SPACE](shape)) == (lexeme.is_punct, lexeme.is_space), text
        assert ("\n" in shape) == ("\n" in text)
        assert (shape in SENTENCE_FINAL) == (text in SENTENCE_FINAL)
        checked += 1
    assert checked > 3000
