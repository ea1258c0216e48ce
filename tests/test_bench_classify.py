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


def test_the_training_figure_is_cuttings_train_run_as_the_user_runs_it(monkeypatch, tmp_path):
    """The bench's own one-thread setting hid what threaded BLAS cost `cuttings train`: the figure is
    the command's default run (held-out slices on) in a child process with the user's environment."""
    import json
    import subprocess
    bench = load_script("bench_classify", "bench/classify.py")
    monkeypatch.setattr(bench, "USER_ENVIRONMENT", {"PATH": "/usr/bin", "CUTTINGS_HOME": "/elsewhere"})
    assert bench.os.environ["OPENBLAS_NUM_THREADS"]   # the bench's own setting, for its prediction figures
    calls = []

    def run(command, env, cwd, capture_output, text):
        calls.append((command, env))
        (tmp_path / "tone.json").write_text(json.dumps({"task": "tone", "model_version": "tone-1"}), encoding="utf-8")
        return subprocess.CompletedProcess(command, 0, "tone  tone-1  n=421  macro-F1 0.717\n", "")

    monkeypatch.setattr(subprocess, "run", run)
    trained = bench.train_as_user(str(tmp_path), "tfidf+static", 5)
    [(command, env)] = calls
    assert command[command.index("train"):] == ["train", "--models", str(tmp_path), "--features", "tfidf+static",
                                                 "--folds", "5"]
    assert "--no-slices" not in command and "pipeline" in command[2] and command[0] == sys.executable
    assert not (tmp_path / "none").exists()   # the --db given does not exist: the seed corpus alone
    assert "OPENBLAS_NUM_THREADS" not in env and "OMP_NUM_THREADS" not in env and "CUTTINGS_HOME" not in env
    assert env["PATH"] == "/usr/bin" and env["PYTHONPATH"]
    assert trained["cards"] == [{"task": "tone", "model_version": "tone-1"}]
    assert trained["lines"] == ["tone  tone-1  n=421  macro-F1 0.717"] and trained["wall"] >= 0 and trained["cpu"] >= 0
