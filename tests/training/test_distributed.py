"""Two processes under torchrun (gloo, CPU) train exactly as one process does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import small_config

from echemml.training import Trainer
from echemml.training.log import read_log

# float64, four structures, global batches of 2 (one per process): the two-process
# gradient is the one-process gradient summed in another order, so losses agree to
# rounding; 1e-9 relative leaves room for that after three epochs of Adam.
TOLERANCE = 1e-9


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun not on PATH")
def test_two_processes_match_one(toy_sample_file, tmp_path):
    config = small_config(max_epochs=3, dtype="float64", batch_size=2)
    one = Trainer(config, toy_sample_file, tmp_path / "one", progress_bar=False).train()

    from echemml.training import write_config

    config.samples = str(toy_sample_file)
    write_config(config, tmp_path / "config.yaml")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "echemml", "train", str(tmp_path / "config.yaml"), "--out", str(tmp_path / "two"), "--quiet",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 process(es)" in result.stdout
    two = read_log(tmp_path / "two" / "log.csv")
    assert len(two) == 3
    for single, double in zip(one.history, two):
        assert double["val_loss"] == pytest.approx(single["val_loss"], rel=TOLERANCE)
        assert double["train_loss"] == pytest.approx(single["train_loss"], rel=TOLERANCE)
    # only rank 0 wrote: one checkpoint, one model, one log
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [
        "checkpoint.pt", "config.yaml", "learning_curve.png", "log.csv", "model.pt"
    ]
