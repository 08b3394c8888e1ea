"""Energy conservation of h5o2-energy: NVE (velocity Verlet) of H5O2+ from a thermalised 300 K frame.

Starts from the last frame (positions and momenta) of an ``echemml md`` run at 300 K,
runs ``--steps`` of ASE's VelocityVerlet with the centre of mass fixed, and writes
every 10 fs the total, potential and kinetic energy. The drift is the slope of a
straight line through the total energy per atom (meV/atom/ps); the run also reports
the largest excursion of the total energy and the closest approach of two atoms (a
blow-up shows there first).

    python studies/h5o2/nve_stability.py runs/h5o2/md_300K --potential h5o2-energy --steps 40000 \\
        --timestep 0.5 --output studies/h5o2/nve_20ps.json --plot studies/h5o2/nve_20ps.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from ase import units
from ase.constraints import FixCom
from ase.io.trajectory import Trajectory
from ase.md.verlet import VelocityVerlet
from matplotlib.figure import Figure
from tqdm import tqdm

from echemml.analysis.plots import save_figure
from echemml.calculators import EChemCalculator
from echemml.io.files import atomic_open


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="echemml md run whose last frame starts the NVE")
    parser.add_argument("--potential", required=True, help="energy model file or shipped name")
    parser.add_argument("--steps", type=int, default=40000)
    parser.add_argument("--timestep", type=float, default=0.5, help="fs")
    parser.add_argument("--every", type=int, default=20, help="steps between energy records")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()

    with Trajectory(args.run / "md.traj") as trajectory:
        atoms = trajectory[-1]
    atoms.set_constraint(FixCom())
    atoms.calc = EChemCalculator(potential=args.potential)
    dynamics = VelocityVerlet(atoms, args.timestep * units.fs)
    times, potential, kinetic, closest = [], [], [], []

    def record() -> None:
        times.append(dynamics.get_time() / units.fs)
        potential.append(atoms.get_potential_energy())
        kinetic.append(atoms.get_kinetic_energy())
        distances = atoms.get_all_distances()
        closest.append(float(distances[np.triu_indices(len(atoms), 1)].min()))

    record()
    with tqdm(total=args.steps, unit="step", desc="NVE") as bar:
        for _ in range(args.steps // args.every):
            dynamics.run(args.every)
            record()
            bar.update(args.every)
    times_ps = np.array(times) / 1000
    total = (np.array(potential) + np.array(kinetic)) / len(atoms)  # eV/atom
    slope = np.polyfit(times_ps, total, 1)[0]
    temperature = 2 * np.array(kinetic) / (3 * (len(atoms) - 1) * units.kB)  # the centre of mass is fixed
    result = {
        "command": "python studies/h5o2/nve_stability.py " + " ".join(sys.argv[1:]),
        "atoms": len(atoms),
        "timestep_fs": args.timestep,
        "length_ps": float(times_ps[-1]),
        "drift_meV_per_atom_per_ps": 1000 * float(slope),
        "max_excursion_meV_per_atom": 1000 * float(np.max(np.abs(total - total[0]))),
        "total_energy_std_meV_per_atom": 1000 * float(np.std(total)),
        "mean_temperature_K": float(temperature.mean()),
        "closest_atoms_A": float(min(closest)),
    }
    with atomic_open(args.output) as handle:
        handle.write(json.dumps(result, indent=1) + "\n")
    if args.plot:
        figure = Figure(figsize=(6, 3.5))
        axis = figure.subplots()
        axis.plot(times_ps, 1000 * (total - total[0]), lw=0.8, label="total energy")
        axis.plot(times_ps, 1000 * slope * times_ps, "k--", lw=0.8, label="linear fit")
        axis.set_xlabel("time (ps)")
        axis.set_ylabel("E_total − E_total(0) (meV/atom)")
        axis.set_title(f"H5O2+ NVE, {args.timestep} fs: drift {result['drift_meV_per_atom_per_ps']:.1e} meV/atom/ps")
        axis.legend()
        save_figure(figure, args.plot)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
