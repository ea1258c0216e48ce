"""Generated quotation shapes: the analyser never raises on one, and every quote it gives is in the text.

A split quotation around an inverted attribution ('"...," said X, "..."') raised IndexError on real
pages; these shapes (every speech verb, quotation marks of every kind, empty and punctuation-only
quotations and speakers, unbalanced and nested marks, a text of quotation marks only, very long and
very short quotations) are the family of inputs around it. Written, not copied from crawled pages.
"""
import itertools

import pytest

from nlp.entities import Analyser
from nlp.quotes import SPEECH_VERBS

MARK_PAIRS = [('"', '"'), ("\u201c", "\u201d"), ("\u2018", "\u2019"), ("'", "'"), ("\u201e", "\u201c"),
              ("\u00ab", "\u00bb"), ("\u201d", "\u201d"), ("\u201c", "\u201c"), ("\u201d", "\u201c"), ('"', "\u201d"),
              ("\u201c", '"'), ("``", "''")]
# speakers, punctuation-only ones among them: a comma segment without a word is what raised
SPEAKERS = ["John Johnston", "Johnston", "Mr Johnston", "he", "a spokesman", "HWFRS",
            "Cllr Jo Hale, chairman of the fire authority", "a neighbour, who did not want to be named",
            "", ",", ", ,", '"', "\u201c", "\u201d", "'", "\u2014", "\u2026", "(", "who", "John Johnston, who",
            "Johnston,", "Mr", "\u2019s"]
LONG = " ".join(["word"] * 300)
QUOTED = ["We are excited", "We are excited,", "as it is a celebration.", "", " ", ",", ".", "\u2026", "\u2014", "?",
          "a", "He said 'no' to me", "It is, he said, \"wrong\".", LONG]


@pytest.fixture(scope="module")
def analyser():
    return Analyser()


def split_quotes_with_every_verb():
    for verb, speaker, (opening, closing) in itertools.product(
            SPEECH_VERBS.split("|"), ["John Johnston", "Johnston", "he", "", ",", '"', "\u2014", "who"],
            MARK_PAIRS[:2]):
        first, second = f"{opening}We are excited,{closing}", f"{opening}as it is a celebration.{closing}"
        yield f"Festival opens\n\n{first} {verb} {speaker}, {second}"
        yield f"Festival opens\n\n{first} {speaker} {verb}, {second}"
        yield f"{first} {verb} {speaker}, {opening}as{closing}"
        yield f"Festival opens\n\n{speaker} criticised the {opening}plan,{closing} {verb}, {opening}It is wrong.{closing}"
        yield f"Festival opens\n\n{speaker} {verb}: {opening}We are excited.{closing}"


def marks_speakers_and_quotations():
    for (opening, closing), speaker, quoted in itertools.product(MARK_PAIRS, SPEAKERS, QUOTED):
        if quoted == LONG and speaker not in SPEAKERS[:3]:
            continue   # a very long quotation with a few speakers is enough (and keeps this test short)
        q = f"{opening}{quoted}{closing}"
        yield f"Festival opens\n\n{q} said {speaker}, {q}"
        yield f"{speaker} said: {q}"                                 # no headline: the quote's paragraph is the first
        yield f"Festival opens\n\n{q}, {speaker} said."
        yield f"Festival opens\n\n{opening}{quoted}"                  # unclosed, at the end of the text
        yield f"{quoted}{closing} {speaker} said"                     # a closing mark only, at the start
        yield f"Festival opens\n\n{speaker} said {q} and {q}, according to {speaker}."
        yield f"Festival opens\n\n{opening}{quoted}\n\n{q} {speaker} added."   # continued over paragraphs


def marks_only():
    marks = ['"', "\u201c", "\u201d", "'", "\u2018", "\u2019"]
    for count in range(1, 4):
        for combination in itertools.product(marks, repeat=count):
            for separator in ("", " ", "\n\n", ", ", ": "):
                yield separator.join(combination)
                yield "Festival opens\n\n" + separator.join(combination)
                yield "Mr Hale said" + separator.join(combination)


def nested():
    for (opening, closing), (inner_opening, inner_closing) in itertools.product(MARK_PAIRS, MARK_PAIRS[:4]):
        inner = f"{inner_opening}we are excited{inner_closing}"
        yield (f"Festival opens\n\n{opening}He told me {inner} and left,{closing} said John Johnston, "
               f"{opening}it is {inner}.{closing}")
        yield f"Festival opens\n\nJohn Johnston said: {opening}{inner}, {inner}.{closing}"


@pytest.mark.parametrize("shapes", [split_quotes_with_every_verb, marks_speakers_and_quotations, marks_only, nested])
def test_no_quotation_shape_raises_and_every_quote_is_in_the_text(analyser, shapes):
    count = 0
    for text in shapes():
        count += 1
        for quote in analyser.analyse(text, "2024-05-01")["quotes"]:
            assert quote["text"], text
            assert 0 <= quote["start_char"] < quote["end_char"] <= len(text), text
            assert quote["text"].split("\n\n")[0].strip() in text[quote["start_char"]:quote["end_char"]], text
    assert count >= 96


def test_the_split_shapes_attribute_both_halves_to_a_full_name(analyser):
    # not only no exception: with a full name, every verb's inverted split quotation is that person's twice
    wrong = []
    for verb in SPEECH_VERBS.split("|"):
        text = f'Festival opens\n\n"We are excited," {verb} John Johnston, "as it is a celebration."'
        speakers = [quote["speaker"] for quote in analyser.analyse(text)["quotes"]]
        if speakers and speakers != ["John Johnston", "John Johnston"]:
            wrong.append((verb, speakers))
    assert wrong == []
