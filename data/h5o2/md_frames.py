"""MD frames of H5O2+ for the embedded PySCF engine to label (issue 34, after the bootstrap).

Takes the frames of ``echemml md`` runs (``RUN/md.traj``), drops the first
``--skip`` of each run (the thermostat's first 100 fs at 10 fs a frame), gives every frame charge +1
and, with probability 2/3, a uniform field of 0–0.5 V/Å in a random direction (as
``make_structures.py`` does), and writes them as one extxyz to label::

    python data/h5o2/md_frames.py runs/h5o2/md_round1/t*/ -o runs/h5o2/md_round1.extxyz --seed 1
    echemml dft pyscf runs/h5o2/md_round1.extxyz --frames data/h5o2/md_round1.extxyz.gz --workers 2 --threads 1

The labelled frames (structure, energy, forces, charge, field) are what is committed;
``data/README.md`` lists the MD runs that gave them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import ase.io
import numpy as np
from ase.io.trajectory import Trajectory

from make_structures import labelled


def md_frames(runs: list[Path], skip: int, rng: np.random.Generator) -> list:
    """Every frame after the first ``skip`` of each run's md.traj, with charge +1 and 2/3 of them in a random field."""
    frames = []
    for run in runs:
        with Trajectory(run / "md.traj") as trajectory:
            for atoms in list(trajectory)[skip:]:
                atoms = atoms.copy()
                atoms.calc = None
                atoms.set_momenta(None)
                frames.append(labelled(atoms, rng))
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="echemml md run folders")
    parser.add_argument("-o", "--output", type=Path, required=True, help="extxyz to write")
    parser.add_argument("--skip", type=int, default=10, help="frames dropped at the start of each run")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fields")
    args = parser.parse_args()
    frames = md_frames(args.runs, args.skip, np.random.default_rng(args.seed))
    ase.io.write(args.output, frames, format="extxyz")
    print(f"{len(frames)} frames from {len(args.runs)} runs in {args.output}")


if __name__ == "__main__":
    main()
