"""`echemml response` (whole process) against the two CP2K runs it replaces, same slab, same run.

Run from the repository root, on an otherwise idle machine:

    python benchmarks/response_vs_cp2k.py [--model au100-response] [--slab data/au100/structures_mt/test_L4_0.xyz]

The larger slab ``benchmarks/data/au100_3x3_L5.xyz`` (3×3 Au(100), 5 layers, 45 atoms,
rattled 0.05 Å with seed 5000, the MT-safe vacuum of data/au100/make_structures.py:
``fcc100("Au", (3, 3, 5), a=4.08, vacuum=mt_vacuum(5))``) shows how the ratio grows with size.

Measures, with the same number of threads (2) for both:

* CP2K (cp2k.psmp through echemml.dft.cp2k, the data set's recipe: PBE,
  DZVP-MOLOPT-SR-GTH, GTH-PBE-q11, 300 Ry, PERIODIC XY + MT Poisson) in zero field
  and in E_z = −1 V/Å, wall time of each run (input, SCF, density cube);
* the whole ``echemml response MODEL SLAB.xyz --field 0 0 -1 --spacing S --json``
  process (start-up, model loading, Δn on every point of the grid, charge
  transfer and ESP), median of three, at S = 0.09 Å (as fine as CP2K's grid),
  0.2 Å and 0.3 Å (the planar-averaged observables change little on coarser
  grids: the JSON shows every transfer and slope next to CP2K's);

and reports the speed-up at each spacing and every charge transfer. Results go to
benchmarks/results/response_vs_cp2k.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import cpu_name

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))  # measure this checkout

import ase.io  # noqa: E402

from echemml.analysis.electrostatics import slab_response  # noqa: E402
from echemml.dft.cp2k import Cp2kSettings, run_cp2k  # noqa: E402
from echemml.io.files import atomic_open  # noqa: E402

THREADS = 2
FIELD = (0.0, 0.0, -1.0)  # V/Å
SPACINGS = (0.09, 0.2, 0.3)  # Å: CP2K's grid spacing for these cells at 300 Ry, and two coarse grids


def time_cp2k(slab) -> dict:
    """Wall time of the zero-field and in-field CP2K runs, and the transfer they give."""
    settings = Cp2kSettings(forces=False, threads=THREADS)
    runs = {}
    for name, field in (("zero_field", None), ("field", FIELD)):
        start = time.perf_counter()
        runs[name] = run_cp2k(slab, field=field, settings=settings)
        runs[name + "_seconds"] = round(time.perf_counter() - start, 1)
    numbers = slab_response(runs["field"].grid.difference(runs["zero_field"].grid))
    return {
        "zero_field_seconds": runs["zero_field_seconds"],
        "field_seconds": runs["field_seconds"],
        "total_seconds": round(runs["zero_field_seconds"] + runs["field_seconds"], 1),
        "grid_shape": list(runs["field"].grid.shape),
        "transfer_e": round(numbers.transfer_e, 5),
        "esp_slope_inside_V_per_A": round(numbers.esp_slope_inside_V_per_A, 4),
    }


def time_response(model: str, slab_path: Path, spacing: float, repeats: int = 3) -> dict:
    """Median wall time of the whole `echemml response` process, and what it printed."""
    command = [
        sys.executable, "-c", "import sys; from echemml.cli import main; sys.exit(main())",
        "response", model, str(slab_path), "--field", *map(str, FIELD), "--spacing", str(spacing), "--json",
    ]
    environment = dict(os.environ, PYTHONPATH=str(REPOSITORY), OMP_NUM_THREADS=str(THREADS),
                       NUMBA_NUM_THREADS=str(THREADS))
    seconds, output = [], None
    for _ in range(repeats + 1):  # the first run warms the numba cache and the disk
        start = time.perf_counter()
        done = subprocess.run(command, env=environment, capture_output=True, text=True)
        seconds.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(done.stderr.strip()[-800:])
        output = json.loads(done.stdout)
    return {
        "command": "echemml response " + " ".join(command[4:]).replace(str(REPOSITORY) + "/", ""),
        "seconds": [round(s, 2) for s in seconds[1:]],
        "median_seconds": round(statistics.median(seconds[1:]), 2),
        "transfer_e": round(output["transfer_e"], 5),
        "esp_slope_inside_V_per_A": round(output["esp_slope_inside_V_per_A"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="au100-response")
    parser.add_argument("--slab", type=Path, default=REPOSITORY / "data/au100/structures_mt/test_L4_0.xyz")
    parser.add_argument("--output", type=Path, default=REPOSITORY / "benchmarks/results/response_vs_cp2k.json")
    args = parser.parse_args()
    slab = ase.io.read(args.slab)
    responses = {f"spacing_{spacing:g}": time_response(args.model, args.slab, spacing) for spacing in SPACINGS}
    cp2k = time_cp2k(slab)
    result = {
        "command": "python " + " ".join([str(Path(__file__).resolve().relative_to(REPOSITORY)), *sys.argv[1:]]),
        "machine": {"cpu": cpu_name(), "cpus": os.cpu_count(), "threads": THREADS,
                    "python": platform.python_version(), "load_average_at_end": list(os.getloadavg())},
        "slab": f"{args.slab.relative_to(REPOSITORY) if args.slab.is_absolute() else args.slab} "
                f"({slab.get_chemical_formula()}, {len(slab)} atoms)",
        "field_V_per_A": list(FIELD),
        "cp2k": cp2k,
        "echemml_response": responses,
        "speedup": {key: round(cp2k["total_seconds"] / response["median_seconds"], 1)
                    for key, response in responses.items()},
    }
    with atomic_open(args.output) as handle:
        json.dump(result, handle, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
