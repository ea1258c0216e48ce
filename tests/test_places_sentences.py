"""Written sentences for places elsewhere (``tests/places_elsewhere_sentences.txt``): speakers "of" or
"from" a town, county, province or country elsewhere link to no watched body; a town of the area
qualified by a place elsewhere ("Kington, Ontario", "Newport, Co Mayo") is that place's town; and
the local controls (villages, suburbs, units, roads, lists, borders, "Evesham, Worcs") keep their
body. Each line of the file is one case, judged as a reader of a West Mercia digest would judge it."""
from pathlib import Path

import pytest

from nlp.entities import Analyser
from tests.written_cases import as_params, read_cases

CASES_FILE = Path(__file__).with_name("places_elsewhere_sentences.txt")
OPENINGS = {
    "{WMP}": "Ludlow disorder\n\nWest Mercia Police said officers attended. ",
    "{SFRS}": "Wem blaze\n\nShropshire Fire and Rescue Service sent four engines. ",
    "{HWFRS}": "Droitwich blaze\n\nHereford & Worcester Fire and Rescue Service sent four engines. ",
    "{INV}": '"We are investigating the attack in the town centre."',
    "{CREWS}": ' said: "Crews worked hard through the night to stop the spread."',
}


def _opened(kind: str, text: str) -> str:
    """A written sentence with its openings filled in; a mention case under a headline."""
    for macro, words in OPENINGS.items():
        text = text.replace(macro, words)
    return "Blaze\n\n" + text if kind == "mention" else text


def load_cases(path: Path = CASES_FILE) -> list[dict]:
    """The cases of the file: ``kind``, ``region``, ``expected``, ``text``, ``xfail`` (the reason or None)."""
    return read_cases(path, _opened)


def outcome(analyser, case: dict) -> str:
    """What the analyser gives for a case, written as its ``expected`` field is."""
    result = analyser.analyse(case["text"], "2024-08-05", case["region"])
    if case["kind"] == "quote":
        [quote] = result["quotes"]
        if not quote["speaker"]:
            return "no speaker"
        return quote["entity_id"] or "none"
    return ",".join(sorted({mention["entity_id"] for mention in result["mentions"]})) or "none"


@pytest.fixture(scope="module")
def analyser():
    return Analyser()


def test_the_file_has_speakers_towns_and_controls():
    cases = load_cases()
    assert len(cases) >= 60
    assert {case["kind"] for case in cases} == {"quote", "mention"}
    assert any(case["expected"] == "none" for case in cases) and any(case["expected"] != "none" for case in cases)


@pytest.mark.parametrize("case", as_params(load_cases(), lambda case: f"line{case['line']}"))
def test_a_written_sentence(analyser, case):
    assert outcome(analyser, case) == case["expected"], case["text"]
