"""GPU timings on a lent accelerator: full-grid prediction and training epochs, GPU vs its host's CPUs.

Run on the device machine (no qm9pack there: the molecule comes from
benchmarks/data/qm9_001340.xyz, and the training set from --samples, written
here by benchmarks/train_throughput.py's sample writer):

    python benchmarks/gpu_timings.py --samples SAMPLES.h5 --out $OUT/gpu_timings.json

Cases: the QM9 preset on QM9 molecule 1340 at 0.1 Å (4 Å margin) and the
Au-response preset (density and response heads) on a 2×2×3 Au(100) slab grid
of 64×64×216, predicted with the readout on the GPU (neighbour sums in the
compiled CPU kernels) and entirely on the CPU; then QM9-preset training epochs
(16 molecules × 100 points per batch) on the GPU and on the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch
from ase.build import fcc100
from ase.io import read

from echemml.grid import DensityGrid, uniform_grid
from echemml.model import build_model, predict_grid, preset_config

HERE = Path(__file__).parent


def time_prediction(model, grid, field, device, repeats=3) -> dict:
    predict_grid(model, grid, field=field, device=device)  # warm-up: compiles kernels, CUDA context
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        predict_grid(model, grid, field=field, device=device)
        times.append(time.perf_counter() - start)
    return {"device": device, "seconds": round(min(times), 4), "points_per_second": round(grid.npoints / min(times))}


def prediction_cases() -> dict:
    molecule = read(HERE / "data" / "qm9_001340.xyz")
    molecule_grid = uniform_grid(molecule, 0.1, 4.0, dtype=np.float32)
    slab = fcc100("Au", (2, 2, 3), vacuum=8.0)
    slab_grid = DensityGrid(slab, np.zeros((64, 64, 216), dtype=np.float32))
    cases = {}
    torch.manual_seed(0)
    qm9 = build_model(preset_config("qm9", [1, 6, 7, 8, 9]), "density")
    cases["qm9_1340_density"] = {"npoints": molecule_grid.npoints, "runs": [
        time_prediction(qm9, molecule_grid, None, device) for device in ("cuda", "cpu")]}
    for head in ("density", "response"):
        model = build_model(preset_config("au-response", [79]), head)
        cases[f"au100_{head}"] = {"npoints": slab_grid.npoints, "runs": [
            time_prediction(model, slab_grid, [0.0, 0.0, -1.0], device) for device in ("cuda", "cpu")]}
    return cases


def training_case(samples: Path, device: str, epochs: int = 4) -> dict:
    from echemml.training import Config, Trainer

    config = Config()
    config.training.max_epochs = epochs
    config.training.device = device
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(config, samples, folder, progress_bar=False)
        progress = trainer.train()
    seconds = [row["seconds"] for row in progress.history[1:]]
    return {"device": device, "epoch_seconds": seconds, "train_points": trainer.train_set.n_points,
            "points_per_second": round(trainer.train_set.n_points / float(np.median(seconds)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    result = {
        "command": "python benchmarks/gpu_timings.py --samples SAMPLES.h5 --out $OUT/gpu_timings.json",
        "machine": {
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "cpus": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(),
            "torch_threads": torch.get_num_threads(),
        },
        "date": time.strftime("%Y-%m-%d"),
    }
    for name, work in (("prediction", prediction_cases),
                       ("training", lambda: [training_case(args.samples, d) for d in ("cuda", "cpu")])):
        try:
            result[name] = work()
        except Exception:  # record the failure and go on: one device call, every answer it can give
            result[name] = {"error": traceback.format_exc()[-3000:]}
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
