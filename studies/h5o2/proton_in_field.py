"""Where a field moves the shared proton of H5O2+: MD with h5o2-energy against PySCF.

Two measures, both along the O–O axis oriented with the field (û, with û·ε ≥ 0; the
proton's displacement δ = (R_H* − (R_O1 + R_O2)/2)·û, Å):

* **MD**: the mean δ over ``echemml md`` runs with and without the field (the same
  start, seed and length), and how the O–O axis lines up with the field (mean cos θ).
* **Scan**: the shared proton moved along the O–O axis of the symmetric ion (O–O 2.4
  and 2.5 Å, everything else fixed) in zero field and in the field along that axis,
  energies from PySCF and from the model; δ at the minimum of each curve (a cubic
  spline through the scan), so the shift the field causes is compared directly.

    echemml md studies/h5o2/zundel.xyz --potential h5o2-energy --steps 4000 --timestep 0.5 \\
        --temperature 300 --every 20 --seed 7 --field 0.5 0 0 -o runs/h5o2/md_300K_field
    python studies/h5o2/proton_in_field.py --potential h5o2-energy --field 0.5 \\
        --runs runs/h5o2/md_300K runs/h5o2/md_300K_field \\
        --output studies/h5o2/proton_in_field.json --plot studies/h5o2/proton_in_field.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from ase.io.trajectory import Trajectory
from matplotlib.figure import Figure
from scipy.interpolate import CubicSpline
from tqdm import tqdm

from echemml.analysis.plots import save_figure
from echemml.calculators import EChemCalculator
from echemml.dft.pyscf import PySCFSettings, run_pyscf
from echemml.io.files import atomic_open

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "data" / "h5o2"))
from make_structures import zundel  # noqa: E402
from shared_proton import shared_proton  # noqa: E402

OFFSETS = np.round(np.arange(-0.30, 0.301, 0.05), 3)  # Å, shared proton from the O–O midpoint


def displacement(atoms, field: np.ndarray) -> tuple[float, float]:
    """(δ in Å, cos θ between the O–O axis and the field) of one frame."""
    oxygens = np.flatnonzero(atoms.numbers == 8)
    first, second = atoms.positions[oxygens]
    axis = (second - first) / np.linalg.norm(second - first)
    direction = field / np.linalg.norm(field)
    if axis @ direction < 0:
        axis = -axis
    proton = atoms.positions[shared_proton(atoms)[0]]
    return float((proton - 0.5 * (first + second)) @ axis), float(axis @ direction)


def md_summary(run: Path, field: np.ndarray) -> dict:
    """Mean and spread of δ (Å) and mean cos θ over a run's frames (its first 10 % dropped)."""
    with Trajectory(run / "md.traj") as trajectory:
        frames = list(trajectory)
    values = np.array([displacement(atoms, field) for atoms in frames[len(frames) // 10:]])
    return {"run": str(run), "frames": len(values), "mean_delta_A": float(values[:, 0].mean()),
            "std_delta_A": float(values[:, 0].std()), "sem_delta_A": float(values[:, 0].std() / np.sqrt(len(values))),
            "mean_cos_axis_field": float(values[:, 1].mean())}


def scan(oo: float, field: np.ndarray, potential) -> dict:
    """Energies (eV, relative to the scan's minimum) along the proton's path, PySCF and model, and the minima (Å)."""
    dft, model = [], []
    for offset in tqdm(OFFSETS, desc=f"O–O {oo} Å, |ε| {np.linalg.norm(field):g} V/Å", unit="point"):
        atoms = zundel(oo, float(offset))
        dft.append(run_pyscf(atoms, field=field, settings=PySCFSettings(), charge=1, compute_forces=False).energy)
        atoms.info.update(charge=1, external_field=field)
        atoms.calc = EChemCalculator(potential=potential)
        model.append(atoms.get_potential_energy())
    result = {"O_O_A": oo, "field_V_per_A": field.tolist(), "offsets_A": OFFSETS.tolist()}
    for name, energies in (("dft", np.array(dft)), ("model", np.array(model))):
        fine = np.linspace(OFFSETS[0], OFFSETS[-1], 1201)
        spline = CubicSpline(OFFSETS, energies)(fine)
        result[name] = {"energies_eV": (energies - energies.min()).tolist(), "minimum_delta_A": float(fine[np.argmin(spline)])}
    return result


def plot(scans: list[dict], path: Path) -> None:
    figure = Figure(figsize=(9, 3.8))
    axes = figure.subplots(1, len({s["O_O_A"] for s in scans}), sharey=True)
    for axis, oo in zip(np.atleast_1d(axes), sorted({s["O_O_A"] for s in scans})):
        for item in (s for s in scans if s["O_O_A"] == oo):
            strength = np.linalg.norm(item["field_V_per_A"])
            axis.plot(item["offsets_A"], item["dft"]["energies_eV"], "k-" if strength == 0 else "r-",
                      label=f"PySCF, {strength:g} V/Å")
            axis.plot(item["offsets_A"], item["model"]["energies_eV"], "ko" if strength == 0 else "ro", mfc="none",
                      label=f"h5o2-energy, {strength:g} V/Å")
        axis.set_title(f"O–O {oo} Å")
        axis.set_xlabel("shared proton δ along the field (Å)")
    np.atleast_1d(axes)[0].set_ylabel("energy − scan minimum (eV)")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    save_figure(figure, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--potential", required=True, help="energy model file or shipped name")
    parser.add_argument("--field", type=float, default=0.5, help="field strength along x (the start's O–O axis), V/Å")
    parser.add_argument("--runs", type=Path, nargs=2, metavar=("ZERO_FIELD", "FIELD"), required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    field = np.array([args.field, 0.0, 0.0])
    zero = np.zeros(3)
    from echemml.model import load_model

    potential = load_model(args.potential)
    scans = [scan(oo, strength, potential) for oo in (2.4, 2.5) for strength in (zero, field)]
    result = {
        "command": "python studies/h5o2/proton_in_field.py " + " ".join(sys.argv[1:]),
        "md": {"zero_field": md_summary(args.runs[0], field), "field": md_summary(args.runs[1], field)},
        "scans": scans,
        "scan_minimum_shift_A": {
            f"O_O_{s0['O_O_A']}": {name: s1[name]["minimum_delta_A"] - s0[name]["minimum_delta_A"] for name in ("dft", "model")}
            for s0, s1 in zip(scans[::2], scans[1::2])
        },
    }
    with atomic_open(args.output) as handle:
        handle.write(json.dumps(result, indent=1) + "\n")
    if args.plot:
        plot(scans, args.plot)
    print(json.dumps({k: result[k] for k in ("md", "scan_minimum_shift_A")}, indent=1))


if __name__ == "__main__":
    main()
