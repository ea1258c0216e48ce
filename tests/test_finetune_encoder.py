"""bench/finetune_encoder.py (issue 18's fine-tuned-encoder lever): importable and documented
without torch; its contrastive loss, when torch is there, prefers texts grouped by label."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "bench" / "finetune_encoder.py"


def _module():
    spec = importlib.util.spec_from_file_location("finetune_encoder", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_help_runs_without_the_transformers_extra_and_shows_the_command():
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True,
                            cwd=REPO_ROOT, env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "bench/finetune_encoder.py --task stance_governance" in result.stdout
    assert "--seeds" in result.stdout and "--split" in result.stdout


def test_contrastive_loss_is_lower_when_texts_cluster_by_label():
    torch = pytest.importorskip("torch")
    module = _module()
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    grouped = torch.tensor([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.0, 1.0, 0.0], [0.1, 0.9, 0.0],
                            [0.0, 0.0, 1.0], [0.0, 0.1, 0.9]])
    mixed = grouped[[0, 2, 4, 1, 3, 5]]  # each text next to the other labels' texts
    assert module.supervised_contrastive(grouped, labels, 0.1) < module.supervised_contrastive(mixed, labels, 0.1)
    # A label with one text in the batch has no positive: it is skipped, not a NaN.
    single = module.supervised_contrastive(grouped[:5], labels[:5], 0.1)
    assert torch.isfinite(single)
