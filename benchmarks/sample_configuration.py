"""Benchmark: seconds to sample one configuration end to end with TS + LIFS.

TS over the whole grid (Eq. 5), ghost-point features of the TS candidates from a
freshly initialised QM9-preset model, and LIFS (Eq. 6), for

* a QM9 molecule (index 1340, 20 atoms) labelled by echemml's PySCF engine on a
  0.1 Å grid with 4 Å margin (~2.1 M points), and
* a 5.4-million-point grid: a 2×2×3 Au(100) slab at 160×160×210 (the smooth
  test density of benchmarks/read_density.py), with the Au-response preset.

Reading the file is not included (see read_density.json). Best of ``--repeat``.

Run:  python benchmarks/sample_configuration.py [--repeat 3] [--out benchmarks/results/sample_configuration.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import torch

from echemml.dft.pyscf import PySCFSettings, run_pyscf
from echemml.grid import DensityGrid
from echemml.model import build_model, preset_config
from echemml.qm9 import load_qm9
from echemml.sampling.driver import SamplerSettings, sample_grid

HERE = Path(__file__).parent


def au_grid() -> DensityGrid:
    spec = importlib.util.spec_from_file_location("read_density_benchmark", HERE / "read_density.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    atoms, values = module.make_density()
    return DensityGrid(atoms, values)


def time_sampling(grid: DensityGrid, preset: str, settings: SamplerSettings, repeat: int) -> dict:
    torch.manual_seed(0)
    model = build_model(preset_config(preset, sorted(set(grid.atoms.numbers))))
    sample_grid(grid, settings, model, name="warm-up")
    times, kept = [], 0
    for attempt in range(repeat):
        start = time.perf_counter()
        sampled = sample_grid(grid, settings, model, name=f"run{attempt}")
        times.append(time.perf_counter() - start)
        kept = len(sampled.targets)
    return {"npoints": grid.npoints, "natoms": len(grid.atoms), "preset": preset,
            "seconds": round(min(times), 3), "points_kept": kept,
            "ts_candidates": settings.ts_points, "lifs_threshold": settings.lifs_threshold}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results/sample_configuration.json")
    args = parser.parse_args()
    torch.set_num_threads(2)
    load_at_start = list(os.getloadavg())
    settings = SamplerSettings(method="ts+lifs", ts_points=1000, ts_sigma=30.0, lifs_threshold=0.1)
    molecule = load_qm9([1340])[1340]
    qm9_grid = run_pyscf(molecule, settings=PySCFSettings(spacing=0.1, margin=4.0), compute_forces=False).grid
    result = {
        "benchmark": "sample one configuration end to end: TS over the grid + features + LIFS (seconds, best of repeats)",
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "qm9_1340": time_sampling(qm9_grid, "qm9", settings, args.repeat),
        "au100_5M": time_sampling(au_grid(), "au-response", settings, args.repeat),
        "target_seconds_5M": 5.0,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "torch_threads": 2,
                    "load_average_at_start": load_at_start, "load_average_at_end": list(os.getloadavg())},
        "date": time.strftime("%Y-%m-%d"),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
