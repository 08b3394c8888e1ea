"""The shared proton of H5O2+ along MD: its Bader electrons from h5o2-density against PySCF (the paper's Fig. 9).

Reads an ``echemml md`` run that recorded Bader charges (``--record charges``),
finds the shared proton H* in every frame (the H whose farther O is nearest) and its
O–H distance (to the nearer O), and takes its Bader electrons N = Z_val − q = 1 − q
from the record. PySCF (the labels' recipe) and baderkit then give the same number
on ``--dft-frames`` frames spread evenly over the run, in the run's field, and on the
``--switch-frames`` frames whose O–H* distance lies nearest the model's switch (where
H* gains a basin of its own), which an even spread may miss; those are kept in
``RUN/dft_shared_proton.json`` as they finish, so a stopped run resumes.

    echemml md studies/h5o2/zundel.xyz --potential h5o2-energy --density-model h5o2-density \\
        --steps 4000 --timestep 0.5 --temperature 300 --every 20 --record energy,charges --seed 7 \\
        -o runs/h5o2/md_300K_scaled
    python studies/h5o2/shared_proton.py runs/h5o2/md_300K_scaled --dft-frames 20 --switch-frames 10 \\
        --output studies/h5o2/shared_proton_300K.json --plot studies/h5o2/shared_proton_300K.png

The JSON gives the MAE of the model's N(H*) on the evenly spread DFT frames (and on
all DFT frames) and, for model and DFT, the O–H distance at which H* gains a basin of
its own (N > ``BASIN_ELECTRONS``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from ase.io.trajectory import Trajectory
from matplotlib.figure import Figure
from tqdm import tqdm

from echemml.analysis.bader import bader_charges
from echemml.analysis.plots import save_figure
from echemml.calculators.recorder import read_record
from echemml.dft.pyscf import PySCFSettings, run_pyscf
from echemml.io.files import atomic_open

BASIN_ELECTRONS = 0.05  # e: above this H* owns a Bader basin (baderkit gives exactly 0 without one)


def shared_proton(atoms) -> tuple[int, float]:
    """(index of H*, its distance to the nearer O in Å): the H whose distance to the farther O is smallest."""
    oxygens = [i for i, z in enumerate(atoms.numbers) if z == 8]
    hydrogens = [i for i, z in enumerate(atoms.numbers) if z == 1]
    distances = atoms.get_all_distances()[np.ix_(hydrogens, oxygens)]
    index = int(np.argmin(distances.max(axis=1)))
    return hydrogens[index], float(distances[index].min())


def switch_distance(distances: np.ndarray, electrons: np.ndarray) -> float | None:
    """The O–H distance (Å) that best splits frames without a basin of H* (below) from frames with one (above).

    The midpoint between consecutive sorted distances that misclassifies fewest
    frames; None when every frame is on one side.
    """
    order = np.argsort(distances)
    d, has_basin = distances[order], electrons[order] > BASIN_ELECTRONS
    if has_basin.all() or not has_basin.any():
        return None
    errors = [np.count_nonzero(has_basin[:k]) + np.count_nonzero(~has_basin[k:]) for k in range(1, len(d))]
    k = int(np.argmin(errors)) + 1
    return float(0.5 * (d[k - 1] + d[k]))


def dft_electrons(frames: list, field: np.ndarray, cache: Path) -> dict[int, float]:
    """N(H*) by PySCF + baderkit for each (frame number, atoms), cached in ``cache`` as they finish."""
    done = {int(k): v for k, v in json.loads(cache.read_text()).items()} if cache.exists() else {}
    for number, atoms in tqdm([f for f in frames if f[0] not in done], unit="frame", desc="PySCF + Bader"):
        result = run_pyscf(atoms, field=field, settings=PySCFSettings(), charge=1, compute_forces=False)
        bader = bader_charges(result.grid)
        done[number] = float(bader.electrons[shared_proton(atoms)[0]])
        with atomic_open(cache) as handle:
            handle.write(json.dumps(done, indent=1))
    return done


def plot(distances, electrons, dft_distances, dft_values, path: Path, title: str) -> None:
    figure = Figure(figsize=(5.5, 4))
    axis = figure.subplots()
    axis.scatter(distances, electrons, s=8, alpha=0.5, label="h5o2-density (every 10 fs)")
    axis.scatter(dft_distances, dft_values, s=40, marker="x", color="k", label="PySCF + baderkit")
    axis.set_xlabel("O–H* distance to the nearer O (Å)")
    axis.set_ylabel("Bader electrons of H* (e)")
    axis.set_title(title)
    axis.legend()
    save_figure(figure, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="echemml md run folder with charges recorded")
    parser.add_argument("--dft-frames", type=int, default=20, help="frames spread evenly, checked with PySCF + baderkit")
    parser.add_argument("--switch-frames", type=int, default=0,
                        help="frames nearest the model's switch distance, checked as well")
    parser.add_argument("--field", type=float, nargs=3, default=(0.0, 0.0, 0.0), help="the run's field, V/Å")
    parser.add_argument("--output", type=Path, required=True, help="JSON to write")
    parser.add_argument("--plot", type=Path, help="PNG of N(H*) against the O–H* distance")
    args = parser.parse_args()

    record = read_record(args.run / "record.h5")
    with Trajectory(args.run / "md.traj") as trajectory:
        frames = list(trajectory)[-len(record["step"]):]  # the trajectory's last frames are the recorded ones
    protons = [shared_proton(atoms) for atoms in frames]
    distances = np.array([d for _, d in protons])
    electrons = np.array([1.0 - record["charges"][k][i] for k, (i, _) in enumerate(protons)])
    even = np.linspace(0, len(frames) - 1, args.dft_frames).round().astype(int)
    model_switch = switch_distance(distances, electrons)
    near_switch = [] if model_switch is None else np.argsort(np.abs(distances - model_switch))
    near_switch = [int(k) for k in near_switch if k not in set(even.tolist())][: args.switch_frames]
    chosen = np.array(sorted({*even.tolist(), *near_switch}))
    field = np.asarray(args.field, dtype=float)
    dft = dft_electrons([(int(k), frames[k]) for k in chosen], field, args.run / "dft_shared_proton.json")
    dft_values = np.array([dft[int(k)] for k in chosen])
    errors = electrons[chosen] - dft_values
    even_errors = electrons[even] - np.array([dft[int(k)] for k in even])
    result = {
        "command": "python studies/h5o2/shared_proton.py " + " ".join(sys.argv[1:]),
        "frames": len(frames),
        "time_fs": [float(record["time"][0]), float(record["time"][-1])],
        "field_V_per_A": field.tolist(),
        "dft_frames_even": [int(k) for k in even],
        "dft_frames_near_switch": near_switch,
        "shared_proton_electrons_mae_e": float(np.mean(np.abs(even_errors))),
        "shared_proton_electrons_max_error_e": float(np.max(np.abs(even_errors))),
        "all_dft_frames_mae_e": float(np.mean(np.abs(errors))),
        "all_dft_frames_max_error_e": float(np.max(np.abs(errors))),
        "model": {"O_H_distance_A": distances.tolist(), "electrons_e": electrons.tolist(),
                  "switch_O_H_distance_A": model_switch,
                  "mean_electrons_with_basin_e": float(np.mean(electrons[electrons > BASIN_ELECTRONS]))
                  if np.any(electrons > BASIN_ELECTRONS) else None},
        "dft": {"O_H_distance_A": distances[chosen].tolist(), "electrons_e": dft_values.tolist(),
                "switch_O_H_distance_A": switch_distance(distances[chosen], dft_values),
                "mean_electrons_with_basin_e": float(np.mean(dft_values[dft_values > BASIN_ELECTRONS]))
                if np.any(dft_values > BASIN_ELECTRONS) else None},
    }
    with atomic_open(args.output) as handle:
        handle.write(json.dumps(result, indent=1) + "\n")
    if args.plot:
        plot(distances, electrons, distances[chosen], dft_values, args.plot,
             f"H5O2+ at 300 K, |ε| = {np.linalg.norm(field):.2g} V/Å: MAE {result['shared_proton_electrons_mae_e']:.3f} e")
    summary = {k: v for k, v in result.items() if k not in ("model", "dft")}
    print(json.dumps(summary, indent=1))
    print("switch distance (Å): model", result["model"]["switch_O_H_distance_A"],
          "DFT", result["dft"]["switch_O_H_distance_A"])


if __name__ == "__main__":
    main()
