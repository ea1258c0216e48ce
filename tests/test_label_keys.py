"""Keys sent together to the label screen (tmux `send-keys 3 Enter`, a paste, a fast typist): one read of the
terminal holding several keys is taken as those keys, one by one, in order; an Enter sent with a single-label
choice confirms it (it is not taken as "keep the prediction" for the next question); a Windows line end is one
Enter; an arrow key's escape sequence stays one (unknown) key; Ctrl-C inside a burst ends the session keeping
what was saved. Scripted reads (`labelling.run_session`) and the real command on a pseudo-terminal."""
from __future__ import annotations

import sys

import pytest

from cuttings import labelling, store
from tests.test_label import LAUNCH, TASKS, Terminal, ids_of, label_rows, make_db, session

STANCE = TASKS["stance_governance"].labels   # favour, against, neutral, none
TONE = TASKS["tone"].labels                  # positive, negative, neutral


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "cuttings.db"
    make_db(path)   # test_label's five stories: flagged, middling, confident and unclassified to label
    return path


@pytest.fixture
def db(db_path):
    database = store.connect(db_path)
    yield database
    database.conn.close()


def test_split_keys_reads_a_burst_as_its_keys():
    assert labelling.split_keys("3\r") == ["3", "\r"]
    assert labelling.split_keys("c2\r3") == ["c", "2", "\r", "3"]
    assert labelling.split_keys("\r\n1\n") == ["\r", "1", "\n"]        # CR LF: one Enter
    assert labelling.split_keys("\x1b[A\x1bOB2") == ["\x1b[A", "\x1bOB", "2"]   # arrow keys (CSI and SS3)
    assert labelling.split_keys("\x1bs") == ["\x1b", "s"]              # Esc, then s
    assert labelling.split_keys("\x1b") == ["\x1b"] and labelling.split_keys("") == []
    assert labelling.split_keys("\x1b[1;5C") == ["\x1b[1;5C"]          # Ctrl-Right: one key
    assert labelling.split_keys("é1") == ["é", "1"]


def test_a_choice_and_its_enter_sent_together_answer_one_question(db):
    """The audit's tmux case on a card of three questions: the stance's "1" and Enter arrive in one read;
    the tone question after it is still asked (the Enter is the choice's, not tone's "keep")."""
    ids = ids_of(db)
    summary, screen = session(db, "all", "c", "\r", "1\r", "3", "q")
    assert "no label on key" not in screen, screen
    assert (summary.corrected, summary.remaining) == (1, 3)
    assert label_rows(db, ids["flagged"]) == {("topics", "", "finance", "ana"),
                                              ("stance_governance", "", STANCE[0], "ana"),
                                              ("tone", "sfrs", TONE[2], "ana")}


def test_a_pasted_run_of_keys_labels_story_after_story(db):
    """Two stories' answers pasted at once: each key in turn, a CR LF one Enter, nothing lost."""
    ids = ids_of(db)
    summary, screen = session(db, "stance_governance", "c2\r\nc3q")
    assert "no label on key" not in screen and "unknown key" not in screen, screen
    assert (summary.corrected, summary.remaining) == (2, 2)
    assert label_rows(db, ids["flagged"]) == {("stance_governance", "", STANCE[1], "ana")}
    assert label_rows(db, ids["middling"]) == {("stance_governance", "", STANCE[2], "ana")}
    assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == 2


def test_escape_arrows_and_ctrl_c_in_a_burst(db):
    ids = ids_of(db)
    # an arrow key while correcting is one unknown key (not Esc); Esc then s in one read: abandon, then skip
    summary, screen = session(db, "stance_governance", "c", "\x1b[B", "\x1bs", "a\x03")
    assert "no label on key '\\x1b[B'" in screen and "correction abandoned" in screen
    assert (summary.skipped, summary.accepted, summary.remaining) == (1, 1, 2)
    assert label_rows(db, ids["flagged"]) == set()
    assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == 1   # the second story, accepted


def test_the_real_command_reads_keys_sent_together(db_path):
    terminal = Terminal([sys.executable, "-c", LAUNCH, "--db", str(db_path), "label",
                         "--task", "stance_governance", "--annotator", "pat"])
    try:
        terminal.read_until(" help")
        terminal.press("c3\r")                    # as tmux sends `send-keys c 3 Enter`: one read
        terminal.read_until("Crews tackle barn fire")
        terminal.read_until(" help")
        terminal.press("aq")
        tail = terminal.finish()
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    assert terminal.process.returncode == 0, tail
    assert "unknown key" not in tail and "1 accepted, 1 corrected, 0 skipped (2 labels saved as pat); 2 left" in tail
    database = store.connect(db_path)
    try:
        ids = ids_of(database)
        assert label_rows(database, ids["flagged"]) == {("stance_governance", "", STANCE[2], "pat")}
        assert label_rows(database, ids["middling"]) == {("stance_governance", "", "none", "pat")}
    finally:
        database.conn.close()
