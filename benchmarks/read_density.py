"""Benchmark: seconds to read a ~5.4-million-point CHGCAR and cube file.

echemml's readers against pymatgen's Chgcar and ASE's readers, on the same files,
in the same run. The files are written by pymatgen's CHGCAR writer and ASE's cube
writer from a smooth periodic test density (sum of atom-centred Gaussians on a
2×2×3 Au(100)-like cell, 160×160×210 points), so each reader parses what its own
ecosystem writes.

Run:  python benchmarks/read_density.py [--repeat 3] [--out benchmarks/results/read_density.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHAPE = (160, 160, 210)


def make_density():
    from ase.build import fcc100

    atoms = fcc100("Au", size=(2, 2, 3), vacuum=8.0)
    atoms.pbc = True
    cell = np.asarray(atoms.cell)
    frac = np.stack(np.meshgrid(*[np.arange(n) / n for n in SHAPE], indexing="ij"), axis=-1)
    values = np.zeros(SHAPE)
    for position in atoms.get_scaled_positions():
        delta = frac - position
        delta -= np.round(delta)
        r2 = np.sum((delta @ cell) ** 2, axis=-1)
        values += 11.0 * np.exp(-r2 / 0.8) / (np.pi * 0.8) ** 1.5
    return atoms, values


def best_of(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results/read_density.json")
    args = parser.parse_args()

    from ase.calculators.vasp import VaspChargeDensity
    from ase.io.cube import read_cube_data, write_cube
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.vasp import Chgcar, Poscar

    from echemml import read_density

    atoms, values = make_density()
    with tempfile.TemporaryDirectory() as folder:
        chgcar = Path(folder) / "CHGCAR"
        cube = Path(folder) / "density.cube"
        structure = AseAtomsAdaptor.get_structure(atoms)
        Chgcar(Poscar(structure), {"total": values * structure.volume}).write_file(chgcar)
        with open(cube, "w") as handle:
            write_cube(handle, atoms, data=values)
        timings = {
            "chgcar": {
                "echemml.read_density": best_of(lambda: read_density(chgcar), args.repeat),
                "pymatgen Chgcar.from_file": best_of(lambda: Chgcar.from_file(chgcar), args.repeat),
                "ase VaspChargeDensity": best_of(lambda: VaspChargeDensity(str(chgcar)), args.repeat),
            },
            "cube": {
                "echemml.read_density": best_of(lambda: read_density(cube), args.repeat),
                "ase read_cube_data": best_of(lambda: read_cube_data(str(cube)), args.repeat),
            },
        }
        sizes = {"chgcar_MB": chgcar.stat().st_size / 1e6, "cube_MB": cube.stat().st_size / 1e6}
        check = read_density(chgcar).integral()
    result = {
        "benchmark": "read a density file (best of repeats, seconds)",
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "grid_shape": list(SHAPE),
        "npoints": int(np.prod(SHAPE)),
        "file_sizes": sizes,
        "electrons_read_by_echemml": check,
        "seconds": timings,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d"),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
