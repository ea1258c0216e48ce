"""The story page's flash message after a correction says what was stored: a quote form saved as shown is a
confirmation of the speaker (when one is shown) and the body, not "Saved 2 corrections"; a changed field is a
correction; the label forms count their rows as English says them (``cuttings.wording.counted``)."""
from __future__ import annotations

from cuttings import browse

QUOTE = {"quote_id": 7, "speaker": "a spokesperson", "entity_id": "hwfrs", "start_char": 0, "end_char": 9}


def _message(quote: dict, speaker: str, body: str, who: str = "lead") -> str:
    form = {"what": ["quote"], "quote": ["0:9"], "quote_id": ["7"], "speaker": [speaker], "entity": [body]}
    quotes = {"0:9": quote}
    rows = browse.correction_rows(form, [], {}, quotes, {"hwfrs", "sfrs"})
    return browse.correction_message(rows, quotes, who)


def test_a_quote_form_saved_as_shown_says_it_confirmed_the_speaker_and_body():
    assert _message(QUOTE, "a spokesperson", "hwfrs") == "Confirmed the speaker and body as lead"
    # no speaker shown and none typed: only the body (here: none) is confirmed
    assert _message({**QUOTE, "speaker": None, "entity_id": None}, "", "") == "Confirmed the body as lead"


def test_a_quote_form_with_a_field_changed_says_it_corrected_that_field():
    assert _message(QUOTE, "Jo Bloggs", "hwfrs") == "Corrected the speaker as lead"
    assert _message(QUOTE, "a spokesperson", "sfrs") == "Corrected the body as lead"
    assert _message(QUOTE, "Jo Bloggs", "") == "Corrected the speaker and body as lead"


def test_a_mixed_quote_save_says_what_it_corrected_and_what_it_confirmed():
    rows = [("quote_speaker", "0:9", "Jo Bloggs"), ("quote_entity", "0:9", "hwfrs")]
    assert browse.correction_message(rows, {"0:9": QUOTE}, "lead") == \
        "Corrected the speaker and confirmed the body as lead"


def test_label_corrections_are_counted_in_english():
    assert browse.correction_message([("stance_governance", "", "against")], {}, "lead") == \
        "Saved 1 correction as lead"
    topics = [("topics", "", "finance"), ("topics", "", "governance"), ("topics", "fire", "__rejected__")]
    assert browse.correction_message(topics, {}, "lead") == "Saved 3 corrections as lead"
