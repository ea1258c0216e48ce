"""bench/classify.py's command line: bad input gets one clear line and a non-zero exit."""
import sys

import pytest

from tests.conftest import load_script


def test_a_task_the_scheme_lacks_is_one_line_naming_the_scheme_tasks(monkeypatch):
    bench = load_script("bench_classify", "bench/classify.py")
    monkeypatch.setattr(sys, "argv", ["classify.py", "--protocol", "--tasks", "stance,topics"])
    with pytest.raises(SystemExit) as exit_info:
        bench.main()
    message = str(exit_info.value.code)
    assert message.startswith("--tasks: unknown task 'stance'; the scheme has: ")
    assert "stance_governance" in message and "\n" not in message
