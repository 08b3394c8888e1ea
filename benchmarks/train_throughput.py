"""Training throughput of the Table-1 QM9 model: sampled points per second per epoch, on 2 CPU threads.

Run from the repository root:

    python benchmarks/train_throughput.py [--output benchmarks/results/train_throughput.json]

QM9-like batches: the first 128 available QM9 molecules from index 1001 on, with 100 sampled points
each, 9:1 split, batches of 16 molecules (Table 1), float32, the QM9 preset
(readout 32×32, orbital NN 16×16, rc 4 Å, L 2, T 2, K 8 → 108 features).
Targets are an analytic stand-in density (the cost does not depend on the
values). An epoch's time covers the optimiser steps over the training points and
one validation pass; points per second = training points / epoch time, from the
epochs after the first (warm-up). The same run on 1 thread is reported beside
it: with background jobs on the cores, small batches can run faster on one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))  # measure this checkout

import numpy as np  # noqa: E402
import torch  # noqa: E402

from echemml.io.samples import SampledConfiguration, SampleSet  # noqa: E402
from echemml.qm9 import available_indices, load_qm9  # noqa: E402
from echemml.training import Config, Trainer  # noqa: E402

FIRST_INDEX, MOLECULES = 1001, 128
POINTS_PER_MOLECULE = 100
EPOCHS = 4
BUSY_LOAD = 2.5  # a load average above this on 2 cores means other jobs shared the machine


def qm9_indices() -> list[int]:
    """The first MOLECULES characterised QM9 indices from FIRST_INDEX on (all in the training range)."""
    available = available_indices()
    return [int(i) for i in available[available >= FIRST_INDEX][:MOLECULES]]


def write_samples(path: Path) -> None:
    """QM9 molecules with 100 points each near their atoms and a stand-in density (e/Å³)."""
    rng = np.random.default_rng(0)
    with SampleSet(path, "a") as samples:
        for atoms in load_qm9(qm9_indices()).values():
            centres = atoms.positions[rng.integers(len(atoms), size=POINTS_PER_MOLECULE)]
            points = centres + rng.normal(scale=0.7, size=centres.shape)
            squared = ((points[:, None] - atoms.positions[None]) ** 2).sum(-1)
            density = (atoms.numbers[None] * np.exp(-squared / 0.5)).sum(-1) / 10
            samples.append(SampledConfiguration(atoms, points, density))


def measure(samples: Path, threads: int, out_dir: Path) -> dict:
    config = Config()
    config.training.max_epochs = EPOCHS
    config.training.threads = threads
    trainer = Trainer(config, samples, out_dir, progress_bar=False)
    started = time.perf_counter()
    progress = trainer.train()
    seconds = [row["seconds"] for row in progress.history[1:]]
    points = trainer.train_set.n_points
    return {
        "torch_threads": threads,
        "train_points_per_epoch": points,
        "validation_points_per_epoch": trainer.validation_set.n_points,
        "steps_per_epoch": -(-len(trainer.train_set) // config.training.batch_size),
        "epoch_seconds": seconds,
        "points_per_second": points / float(np.median(seconds)),
        "first_epoch_seconds": progress.history[0]["seconds"],
        "total_seconds_with_setup_and_output": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(REPOSITORY / "benchmarks/results/train_throughput.json"))
    args = parser.parse_args()
    load_at_start = list(os.getloadavg())
    with tempfile.TemporaryDirectory() as folder:
        samples = Path(folder) / "qm9_like.h5"
        write_samples(samples)
        two = measure(samples, 2, Path(folder) / "two")
        one = measure(samples, 1, Path(folder) / "one")
    load_at_end = list(os.getloadavg())
    results = {
        "command": "python benchmarks/train_throughput.py",
        "machine": {
            "cpu": cpu_name(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "load_average_at_start": load_at_start,
            "load_average_at_end": load_at_end,
        },
        "note": (
            "other jobs were running (load average above 2.5 on 2 cores): figures are lower bounds"
            if max(load_at_start[0], load_at_end[0]) > BUSY_LOAD else "machine otherwise idle"
        ),
        "case": {
            "preset": "qm9", "head": "density", "dtype": "float32", "molecules": MOLECULES,
            "qm9_indices": f"{qm9_indices()[0]}-{qm9_indices()[-1]} (characterised ones)", "points_per_molecule": POINTS_PER_MOLECULE,
            "batch_size": 16, "epochs": EPOCHS,
        },
        "two_threads": two,
        "one_thread": one,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    summary = {
        "points_per_second_2_threads": two["points_per_second"],
        "points_per_second_1_thread": one["points_per_second"],
        "note": results["note"],
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
