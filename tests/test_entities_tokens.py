"""The analyser's tokens are stock spaCy's: the same texts, offsets, whitespace and norms, whatever
its tokenizer caches (``TOKENIZER_CACHE_SIZE``) and however often a text is seen."""
import pytest
import spacy
from spacy.attrs import IDX, LOWER, NORM, ORTH, SHAPE, SPACY

from nlp.entities import TOKENIZER_CACHE_SIZE, Analyser, normalise_text
from nlp.evaluate_entities import article_text, load_corpus

ATTRS = [ORTH, NORM, IDX, SPACY, LOWER, SHAPE]
# Special cases ("It's", "Mr.", "don't", "'hostile'", "11am", "cannot") early, late, in brackets and
# quotes, next to line breaks, double spaces and odd whitespace; words seen before and after them.
TEXTS = [
    "It's the service.\n\nMr. Campion said the service can't wait and the service won't.",
    "The service said it would act.\n\nThe service said: \"We don't know, it's early.\" Mr. Smith agreed.",
    "Headline without specials\n\nThe fire service was called at 11am. Crews left at 2pm, (Mr. Jones) said "
    "the 'hostile' fire was out; \"I'm relieved,\" he said. Residents' homes cannot be reached.",
    "  Leading spaces. It's late.  Two spaces, and trailing ones.  ",
    "\n\nLeading break. Don't.\n\n\n\nFour breaks. Mr.\n\n",
    "Tabs\tand  spaces. I'm here.  \n \n  Then\r\nlines\u2028here \u00a0 too. We're done.\n",
    "Quotes \u201cit\u2019s\u201d and \u2018don\u2019t\u2019 \u2014 Dr. Who's 5pm, e.g. a.m. and p.m.; U.S. and U.K.",
    "", " ", "\n\n", "Mr.", "It's", "word",
]


@pytest.fixture(scope="module")
def analyser():
    return Analyser()


@pytest.fixture(scope="module")
def corpus_texts():
    return [article_text(text) for _record, text in load_corpus("data/corpus")]


def assert_stock_tokens(analyser, text, stock):
    doc = analyser._make_doc(text, None)
    expected = stock(normalise_text(text))
    assert [token.text_with_ws for token in doc] == [token.text_with_ws for token in expected]
    assert [(token.idx, token.norm_, token.whitespace_) for token in doc] == \
        [(token.idx, token.norm_, token.whitespace_) for token in expected]
    assert (doc.to_array(ATTRS) == expected.to_array(ATTRS)).all()
    assert doc.text == normalise_text(text) == expected.text


def test_tokens_equal_stock_spacy_with_special_cases_early_and_late(analyser):
    stock = spacy.blank("en").tokenizer
    for _pass in range(3):   # the first pass fills the caches, the next ones read them
        for text in TEXTS:
            assert_stock_tokens(analyser, text, stock)
        for first, second in zip(TEXTS, TEXTS[1:]):   # a special case early in one, late in the other
            assert_stock_tokens(analyser, first + " " + second, stock)
            assert_stock_tokens(analyser, second + "\n\n" + first, stock)


def test_the_corpus_tokens_equal_stock_spacy_read_twice(analyser, corpus_texts):
    stock = spacy.blank("en").tokenizer
    for _pass in range(2):
        for text in corpus_texts:
            assert_stock_tokens(analyser, text, stock)


def test_tokens_equal_stock_spacy_past_spacys_default_cache_size():
    analyser = Analyser()
    stock = spacy.blank("en").tokenizer
    chunks = [f"w{index}x, ({index}y). It's" for index in range(6_000)]   # 12,000 distinct chunks and more
    for start in range(0, len(chunks), 500):
        analyser._make_doc(" ".join(chunks[start:start + 500]), None)
    for text in TEXTS + [" ".join(chunks[:300]), " ".join(chunks[-300:])]:
        assert_stock_tokens(analyser, text, stock)


def test_the_tokenizer_cache_holds_every_chunk_of_the_corpus(analyser, corpus_texts):
    # spaCy's cache stops growing at max_cache_size: past it every chunk not kept is split by the
    # affix regexes again each time it is seen (10,000 by default, fewer than the corpus holds)
    chunks = {chunk for text in corpus_texts for chunk in normalise_text(text).split()}
    assert len(chunks) > spacy.blank("en").tokenizer.max_cache_size
    assert analyser.nlp.tokenizer.max_cache_size == TOKENIZER_CACHE_SIZE > len(chunks)
