"""Trust levels of the learning run: LIFS novelty and committee deviation of the starting models
on their own 30 training frames (300 K, their labelling fields) and on the 41 held-out frames
(600 K, 0.5 V/Å along z).

    python studies/active_learning_h5o2/calibrate_novelty.py -o studies/active_learning_h5o2/novelty_calibration.json

The basis is built as `echemml learn` builds its iteration-0 basis (the density model's
features, its sample set, threshold 0.01, seed = md.seed 602); each frame is scored as the
run scores it (score_frame(...).atoms_max with 100 ghost points; committee_deviation in eV/Å).
"""
import argparse
import json

import ase.io
import numpy as np
from echemml.protocols.novelty import (
    DEFAULT_THRESHOLD,
    build_basis,
    committee_deviation,
    score_frame,
)

from echemml.model import load_model
from echemml.training.trainer import read_samples


def scores(density, energy, basis, frames, field=None):
    out = {"novelty": [], "deviation": []}
    for i, atoms in enumerate(frames):
        f = field if field is not None else atoms.info.get("external_field", np.zeros(3))
        out["novelty"].append(score_frame(density, atoms, basis, f, 100, seed=i).atoms_max)
        out["deviation"].append(committee_deviation(energy, atoms, f))
    return out


def summary(values):
    v = np.asarray(values)
    return {"min": float(v.min()), "median": float(np.median(v)), "p90": float(np.percentile(v, 90)),
            "max": float(v.max())}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--density", default="runs/al_h5o2/density_start/model.pt")
    p.add_argument("--energy", default="runs/al_h5o2/energy_start.pt")
    p.add_argument("--samples", default="runs/al_h5o2/start_density_samples.h5")
    p.add_argument("--train", default="runs/al_h5o2/start_300K.extxyz")
    p.add_argument("--heldout", default="runs/al_h5o2/heldout_600K_labelled.extxyz")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()
    density, energy = load_model(a.density), load_model(a.energy)
    configurations, _ = read_samples([a.samples])
    basis = build_basis(density, configurations, DEFAULT_THRESHOLD, seed=602)
    train = scores(density, energy, basis, ase.io.read(a.train, ":"))
    held = scores(density, energy, basis, ase.io.read(a.heldout, ":"), field=np.array([0.0, 0.0, 0.5]))
    result = {"threshold": DEFAULT_THRESHOLD,
              "train_300K": {k: summary(v) for k, v in train.items()},
              "heldout_600K": {k: summary(v) for k, v in held.items()},
              "per_frame": {"train_300K": train, "heldout_600K": held}}
    with open(a.output, "w") as handle:
        json.dump(result, handle, indent=1)
    for name in ("train_300K", "heldout_600K"):
        print(name, json.dumps(result[name]))


if __name__ == "__main__":
    main()
