"""The analyser's cheap paths answer as the work they stand in for (same output, fewer instructions)."""
import numpy
import pytest
from spacy.attrs import SENT_START

from nlp.entities import SENTENCE_STARTS_KEY, Analyser
from nlp.evaluate_entities import article_text, load_corpus

TEXTS = [
    "",
    "Word",
    "Fire!",
    "Headline\n\nWest Mercia Police said. The service agreed... \"It is,\" he said?! Yes\n\n",
    "A line\nbroken once. Shropshire Fire and Rescue Service was called.\n\n\n\nThe PCC, John Campion, said: "
    "\"We act.\"\u2026 Then \u201cthe service\u201d left.",
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
