"""Frames of the issue-36 study: the 600 K held-out set and the 30 starting configurations at 300 K.

    python studies/active_learning_h5o2/prepare_frames.py

* held out: frames 10-50 (every 40 steps = 20 fs, the first 180 fs dropped) of
  runs/al_h5o2/md_heldout_600K (h5o2-energy, 600 K, 0.5 V/Å along z, seed 601), charge +1, each
  labelled in the MD's own field [0, 0, 0.5] V/Å -> runs/al_h5o2/heldout_600K.extxyz (to label)
* start: 30 frames spread evenly over the 300 K run of data/h5o2/md_round1.extxyz.gz (its first 91
  frames: runs t300, t450, t600 were written in that order, 91 frames each) with their PySCF
  energies, forces, charge and field -> runs/al_h5o2/start_300K.extxyz
"""
from pathlib import Path

import ase.io
import numpy as np
from ase.io.trajectory import Trajectory

RUNS = Path("runs/al_h5o2")

with Trajectory(RUNS / "md_heldout_600K" / "md.traj") as trajectory:
    frames = list(trajectory)[10:]
held = []
for atoms in frames:
    atoms = atoms.copy()
    atoms.calc = None
    atoms.set_momenta(None)
    atoms.info = {"charge": 1, "external_field": np.array([0.0, 0.0, 0.5])}
    held.append(atoms)
ase.io.write(RUNS / "heldout_600K.extxyz", held, format="extxyz")
print(f"{len(held)} held-out frames")

round1 = ase.io.read("data/h5o2/md_round1.extxyz.gz", ":")[:91]
picked = [round1[i] for i in np.linspace(0, 90, 30).round().astype(int)]
ase.io.write(RUNS / "start_300K.extxyz", picked, format="extxyz")
print(f"{len(picked)} starting frames: {[a.info['name'] for a in picked]}")
