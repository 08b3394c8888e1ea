"""Benchmark: what one MD step and one analysed frame of H5O2+ cost through EChemCalculator.

With the models loaded (start-up excluded) and torch on ``--threads`` threads:

* **energy + forces** of the 7-atom ion with the shipped h5o2-energy committee, per
  step of ASE's Langevin integrator (0.5 fs, 300 K, 0.5 V/Å): the median over
  ``--steps`` steps after ``--warmup`` (goal ≤ 20 ms);
* **density + Bader charges** per frame with h5o2-density on the calculator's default
  grid (0.1 Å spacing, 4 Å margin; baderkit), on ``--frames`` frames of that run after a
  first one, timed apart, that also pays baderkit's one-time compilation (goal ≤ 2 s).

    python benchmarks/md_step_cost.py --output benchmarks/results/md_step_cost.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from ase import units
from ase.constraints import FixCom
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import thermalize_momenta

from echemml.calculators import EChemCalculator
from echemml.model import load_model
from echemml.io.files import atomic_open

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_name  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data" / "h5o2"))
from make_structures import zundel  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--potential", default="h5o2-energy")
    parser.add_argument("--density-model", default="h5o2-density")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    potential, density_model = load_model(args.potential), load_model(args.density_model)
    atoms = zundel(2.4, 0.0)
    atoms.info.update(charge=1, external_field=[0.5, 0.0, 0.0])
    atoms.set_constraint(FixCom())
    calculator = EChemCalculator(potential=potential, density_model=density_model)
    atoms.calc = calculator
    thermalize_momenta(atoms, 300, rng=np.random.default_rng(0))
    dynamics = Langevin(atoms, 0.5 * units.fs, temperature_K=300, friction=0.01 / units.fs, fixcm=False,
                        rng=np.random.default_rng(0))  # FixCom holds the centre of mass, as echemml md does
    dynamics.run(args.warmup)
    step_seconds = []
    for _ in range(args.steps):
        start = time.perf_counter()
        dynamics.run(1)
        step_seconds.append(time.perf_counter() - start)

    frame_seconds, electrons = [], []
    for _ in range(args.frames + 1):  # the first frame also pays baderkit's one-time compilation
        dynamics.run(20)
        start = time.perf_counter()
        charges = calculator.get_property("charges", atoms)
        frame_seconds.append(time.perf_counter() - start)
        electrons.append(float(calculator.results["electrons"]))
        assert len(charges) == len(atoms)
    grid = calculator.results["density"]
    result = {
        "command": "python benchmarks/md_step_cost.py " + " ".join(sys.argv[1:]),
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch_threads": args.threads,
        "system": "H5O2+ (7 atoms), charge +1, 0.5 V/Å",
        "potential": args.potential,
        "potential_members": len(potential.members),
        "energy_forces_step_ms_median": 1000 * float(np.median(step_seconds)),
        "energy_forces_step_ms_p90": 1000 * float(np.percentile(step_seconds, 90)),
        "steps_timed": args.steps,
        "density_model": args.density_model,
        "grid_points": int(np.prod(grid.shape)),
        "grid_spacing_A": float(calculator.parameters.spacing),
        "density_bader_first_frame_s": float(frame_seconds[0]),
        "density_bader_frame_s_median": float(np.median(frame_seconds[1:])),
        "density_bader_frame_s_max": float(np.max(frame_seconds[1:])),
        "frames_timed": args.frames,
        "electrons_on_grid_mean": float(np.mean(electrons)),
        "goals": {"energy_forces_step_ms": 20, "density_bader_frame_s": 2},
    }
    text = json.dumps(result, indent=1) + "\n"
    if args.output:
        with atomic_open(args.output) as handle:
            handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
