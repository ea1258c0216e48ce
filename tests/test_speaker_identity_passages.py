"""Written passages for a quote's speaker identity (``tests/speaker_identity_passages.txt``): the same
person under a title and surname, a post and surname, a councillor's title or the longer form of the
watchlist's first name is one ``speaker_id``; two people of one surname, and a namesake of a watchlist
person, stay apart. Each judged as an analyst counting quotes by person would judge it, before the
extractor was changed for it."""
from pathlib import Path

import pytest

from nlp.entities import Analyser
from tests.written_cases import as_params, read_cases

CASES_FILE = Path(__file__).with_name("speaker_identity_passages.txt")


def load_cases(path: Path = CASES_FILE) -> list[dict]:
    return read_cases(path, lambda kind, text: text.replace("¶", "\n\n"))


def outcome(analyser, case: dict) -> str:
    """What the analyser gives for a passage, written as its ``expected`` field is."""
    quotes = analyser.analyse(case["text"], "2024-08-05", case["region"])["quotes"]
    return " ; ".join(f"{quote['speaker_id'] or '-'}/{quote['entity_id'] or '-'}" for quote in quotes) or "none"


@pytest.fixture(scope="module")
def analyser():
    return Analyser()


def test_the_file_has_passages_that_join_and_passages_that_keep_apart():
    cases = load_cases()
    assert len(cases) >= 15
    assert {"titled-after-named", "titled-after-quoted", "councillor-title", "watched-short-form",
            "two-of-a-surname", "namesake"} <= {case["kind"] for case in cases}


@pytest.mark.parametrize("case", as_params(load_cases(), lambda case: f"line{case['line']}-{case['kind']}"))
def test_a_written_passage(analyser, case):
    assert outcome(analyser, case) == case["expected"], case["text"]
