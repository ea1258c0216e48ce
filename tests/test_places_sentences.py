"""Written sentences for places elsewhere (``tests/places_elsewhere_sentences.txt``): speakers "of" or
"from" a town, county, province or country elsewhere link to no watched body; a town of the area
qualified by a place elsewhere ("Kington, Ontario", "Newport, Co Mayo") is that place's town; and
the local controls (villages, suburbs, units, roads, lists, borders, "Evesham, Worcs") keep their
body. Each line of the file is one case, judged as a reader of a West Mercia digest would judge it."""
from pathlib import Path

import pytest

from nlp.entities import Analyser

CASES_FILE = Path(__file__).with_name("places_elsewhere_sentences.txt")
OPENINGS = {
    "{WMP}": "Ludlow disorder\n\nWest Mercia Police said officers attended. ",
    "{SFRS}": "Wem blaze\n\nShropshire Fire and Rescue Service sent four engines. ",
    "{HWFRS}": "Droitwich blaze\n\nHereford & Worcester Fire and Rescue Service sent four engines. ",
    "{INV}": '"We are investigating the attack in the town centre."',
    "{CREWS}": ' said: "Crews worked hard through the night to stop the spread."',
}


def load_cases(path: Path = CASES_FILE) -> list[dict]:
    """The cases of the file: ``kind``, ``region``, ``expected``, ``text``, ``xfail`` (the reason or None)."""
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        kind, region, expected, text = (part.strip() for part in line.split(" | ", 3))
        reason = None
        if " xfail # " in text:
            text, reason = text.split(" xfail # ", 1)
        for macro, words in OPENINGS.items():
            text = text.replace(macro, words)
        if kind == "mention":
            text = "Blaze\n\n" + text
        cases.append({"line": number, "kind": kind, "region": None if region == "-" else region,
                      "expected": expected, "text": text.strip(), "xfail": reason})
    return cases


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


@pytest.mark.parametrize("case", [
    pytest.param(case, id=f"line{case['line']}", marks=[pytest.mark.xfail(reason=case["xfail"], strict=True)]
                 if case["xfail"] else [])
    for case in load_cases()])
def test_a_written_sentence(analyser, case):
    assert outcome(analyser, case) == case["expected"], case["text"]
