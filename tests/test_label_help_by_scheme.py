"""The label screen's help (`?`) says what the scheme's questions take: choosing a label for a single-label or
per-entity task, toggling labels for a multi-label one, each with the task's names; a scheme without a
multi-label task (no topics, since s20-a) is not told about toggling topics."""
import io
import re

import pytest
from rich.console import Console

from cuttings import labelling, store
from cuttings.labelling import load_label_tasks
from tests.report_fixtures import build_sample_db
from tests.test_scheme_without_tone_or_topics import PACKAGED, SCHEMES, _home


def _help(tmp_path, monkeypatch, scheme: str) -> str:
    _home(tmp_path, monkeypatch, scheme)
    path = tmp_path / "screen.db"
    build_sample_db(path).close()
    db = store.connect(path)
    output = io.StringIO()
    keys = iter("?q")
    labelling.run_session(db, labelling.select_tasks(load_label_tasks(), "all"), "ana",
                          read_key=lambda: next(keys), console=Console(file=output, width=120))
    db.close()
    text = output.getvalue()
    return text[text.index("keys on an article:"):]


@pytest.mark.parametrize("shape", ["no_topics", "stance_only", "tone_only"])
def test_a_scheme_without_a_multi_label_task_is_not_told_to_toggle(tmp_path, monkeypatch, shape):
    shown = _help(tmp_path, monkeypatch, SCHEMES[shape])
    assert "toggle" not in shown and not re.search(r"\btopics\b", shown), shown
    names = {"no_topics": "stance_governance, tone", "stance_only": "stance_governance", "tone_only": "tone"}[shape]
    assert f"choose a label ({names})" in shown


def test_a_topics_only_scheme_is_told_to_toggle_and_confirm(tmp_path, monkeypatch):
    shown = _help(tmp_path, monkeypatch, SCHEMES["topics_only"])
    assert "toggle a label (topics), Enter to confirm" in shown
    assert "choose a label" not in shown and "an Enter sent with a label's key confirms that label" not in shown


def test_the_shipped_scheme_is_told_both(tmp_path, monkeypatch):
    shown = _help(tmp_path, monkeypatch, PACKAGED)
    assert "choose a label (stance_governance, tone)" in shown
    assert "toggle a label (topics), Enter to confirm" in shown
