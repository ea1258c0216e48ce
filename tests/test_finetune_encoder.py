"""bench/finetune_encoder.py (issue 18's fine-tuned-encoder lever): importable and documented
without torch; its contrastive loss, when torch is there, prefers texts grouped by label."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import load_script

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "bench" / "finetune_encoder.py"


def _module():
    return load_script("finetune_encoder", "bench/finetune_encoder.py")


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


def test_paired_difference_scores_the_gain_on_the_same_articles():
    module = _module()
    truth = ["favour", "against", "neutral", "none"] * 5
    base = [{"id": f"a{i}", "truth": t, "predicted": "none"} for i, t in enumerate(truth)]
    better = [{**item, "predicted": item["truth"] if i % 2 == 0 else "none"} for i, item in enumerate(base)]
    labels = ["favour", "against", "neutral", "none"]
    same, (low, high) = module.paired_difference(base, base, labels)
    assert same == 0.0 and low == high == 0.0
    gain, (low, high) = module.paired_difference(base, better, labels)
    assert gain > 0 and 0 < low <= gain <= high
    loss, _interval = module.paired_difference(better, base, labels)
    assert loss == -gain
