"""Written passages for quote attribution (``tests/quote_attribution_sentences.txt``): the ways local
papers attribute quotes ("said X", "X said", "X, post at body, said:", "according to", colons, split
and continued quotations, "added", pronouns, spokespeople, statements, speakers of bodies not
watched, councillors, place qualifiers, headlines, reported speech, nested and curly quotes), each
judged as a reader of a West Mercia digest would judge it, before the extractor was run on it."""
from pathlib import Path

import pytest

from nlp.entities import Analyser
from nlp.quotes import SPOKES_WORD
from tests.written_cases import as_params, read_cases

CASES_FILE = Path(__file__).with_name("quote_attribution_sentences.txt")


def load_cases(path: Path = CASES_FILE) -> list[dict]:
    """The passages of the file: ``kind``, ``region``, ``expected``, ``text`` ("¶" a paragraph break),
    ``xfail`` (the reason or None)."""
    return read_cases(path, lambda kind, text: text.replace("¶", "\n\n"))


def _speaker(speaker: str | None, wanted: str) -> str:
    """The quote's speaker written as ``wanted`` is when it is the same speaker, else as it is."""
    if wanted == "*":
        return "*"
    if speaker is None:
        return "?"
    if wanted == "spokes" and SPOKES_WORD.search(speaker):
        return "spokes"
    words, wanted_words = speaker.lower().split(), wanted.lower().split()
    if wanted != "?" and words[-len(wanted_words):] == wanted_words:
        return wanted
    return speaker


def outcome(analyser, case: dict) -> str:
    """What the analyser gives for a passage, written as its ``expected`` field is."""
    quotes = analyser.analyse(case["text"], "2024-08-05", case["region"])["quotes"]
    if not quotes:
        return "none"
    wanted = [] if case["expected"] == "none" else [entry.split("/")[0] for entry in case["expected"].split(" ; ")]
    return " ; ".join(f"{_speaker(quote['speaker'], wanted[index] if index < len(wanted) else '?')}/"
                      f"{quote['entity_id'] or '-'}" for index, quote in enumerate(quotes))


@pytest.fixture(scope="module")
def analyser():
    return Analyser()


def test_the_file_has_many_kinds_of_attribution():
    cases = load_cases()
    assert len(cases) >= 60
    assert len({case["kind"] for case in cases}) >= 15
    assert any(case["expected"] == "none" for case in cases)
    assert any("/-" in case["expected"] for case in cases) and any("/sfrs" in case["expected"] for case in cases)


@pytest.mark.parametrize("case", as_params(load_cases(), lambda case: f"line{case['line']}-{case['kind']}"))
def test_a_written_passage(analyser, case):
    assert outcome(analyser, case) == case["expected"], case["text"]
