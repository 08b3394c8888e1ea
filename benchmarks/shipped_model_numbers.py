"""The numbers the shipped models give, so that a refactor can show it changed none of them.

Runs the command line (which stays the same across refactors) on:

* ``qm9-density``: three of its held-out test molecules (QM9 100478, 100803, 101647,
  labelled here with the embedded PySCF engine on its 0.1 Å grid): whole-grid NMAE (%)
  and the electrons predicted (``echemml evaluate --json``), and the predicted grid
  (``echemml predict``) kept for an element-wise comparison;
* ``au100-response``: its six held-out slabs (``data/au100/structures_mt/test_*.xyz``) at
  −0.5 and −1 V/Å on a 0.2 Å grid: charge transfer (e), ESP slope inside the metal
  (V/Å) and the committee's transfer std (``echemml response --json``), and Δn.

    python benchmarks/shipped_model_numbers.py --label before   # on the old code
    python benchmarks/shipped_model_numbers.py --label after    # on the new code

Each run adds its label's numbers to ``benchmarks/results/shipped_model_numbers.json``;
with both labels there, it also records the largest element-wise difference between
their predicted grids (e/Å³) and between their numbers. Grids live under ``--work``
(not committed); the PySCF references are made once and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from ase.io.cube import read_cube_data
from ase.units import Bohr

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QM9_TEST = (100478, 100803, 101647)
FIELDS = (-0.5, -1.0)
SLABS = sorted((ROOT / "data/au100/structures_mt").glob("test_*.xyz"))
RESPONSE_KEYS = ("transfer_e", "esp_slope_inside_V_per_A", "esp_drop_V", "predicted_net_e")


def echemml(*args: str) -> str:
    """Run ``echemml ARGS`` and return its standard output."""
    done = subprocess.run([sys.executable, "-m", "echemml", *args], check=True, capture_output=True, text=True)
    return done.stdout


def qm9_numbers(work: Path, label: str) -> dict:
    """NMAE (%) and electrons of qm9-density on the three test molecules; writes the predicted cubes."""
    references = work / "qm9_reference"
    numbers = {}
    for index in QM9_TEST:
        reference = references / f"qm9_{index:06d}.cube"
        if not reference.exists():
            echemml("dft", "pyscf", "--qm9", str(index), "--no-forces", "--quiet", "--out", str(references))
        report = json.loads(echemml("evaluate", "qm9-density", str(reference), "--json"))
        row = report["files"][0]
        echemml("predict", "qm9-density", str(reference), "-o", str(work / f"qm9_{index}_{label}.cube"))
        numbers[str(index)] = {"nmae_percent": row["nmae"], "electrons_pred": row["electrons_pred"],
                               "electrons_ref": row["electrons_ref"]}
    return numbers


def au100_numbers(work: Path, label: str) -> dict:
    """Transfer, slope, drop and net charge of au100-response on the held-out slabs; writes Δn cubes."""
    numbers = {}
    for slab in SLABS:
        for field in FIELDS:
            output = work / f"{slab.stem}_{field:+.1f}_{label}.cube"
            result = json.loads(echemml("response", "au100-response", str(slab), "--field", "0", "0", str(field),
                                        "--spacing", "0.2", "--json", "-o", str(output)))
            numbers[f"{slab.stem} {field:+.1f} V/Å"] = {
                **{key: result[key] for key in RESPONSE_KEYS},
                "transfer_e_std": result["committee"]["transfer_e_std"],
            }
    return numbers


def largest_grid_difference(work: Path, first: str, second: str) -> float:
    """max |a − b| over every predicted grid point of the two labels' cubes, e/Å³."""
    largest = 0.0
    for path in sorted(work.glob(f"*_{first}.cube")):
        other = path.with_name(path.name.replace(f"_{first}.cube", f"_{second}.cube"))
        a, _ = read_cube_data(str(path))
        b, _ = read_cube_data(str(other))
        largest = max(largest, float(np.max(np.abs(a - b))) / Bohr**3)
    return largest


def largest_number_difference(first: dict, second: dict) -> dict:
    """Per quantity, the largest |first − second| over molecules or slabs."""
    differences: dict[str, float] = {}
    for model in first:
        for case, values in first[model].items():
            for key, value in values.items():
                difference = abs(value - second[model][case][key])
                differences[key] = max(differences.get(key, 0.0), difference)
    return differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", required=True, help="e.g. before / after")
    parser.add_argument("--work", default="runs/shipped_numbers", help="grids and references (not committed)")
    parser.add_argument("--output", default=str(HERE / "results/shipped_model_numbers.json"))
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    output = Path(args.output)
    record = json.loads(output.read_text()) if output.exists() else {"command": {}, "numbers": {}}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    record["command"][args.label] = f"python benchmarks/shipped_model_numbers.py --label {args.label} (at {commit.stdout.strip()})"
    record["numbers"][args.label] = {"qm9-density": qm9_numbers(work, args.label),
                                     "au100-response": au100_numbers(work, args.label)}
    labels = list(record["numbers"])
    if len(labels) >= 2:
        first, second = labels[0], labels[-1]
        record["comparison"] = {
            "labels": [first, second],
            "max_abs_grid_difference_e_per_A3": largest_grid_difference(work, first, second),
            "max_abs_number_difference": largest_number_difference(record["numbers"][first], record["numbers"][second]),
        }
    temporary = output.with_name(output.name + ".tmp")
    temporary.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(temporary, output)
    print(json.dumps(record.get("comparison", record["numbers"][args.label]), indent=1))


if __name__ == "__main__":
    main()
