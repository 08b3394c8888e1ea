"""Whole-grid accuracy of h5o2-density on held-out H5O2+ frames, in and out of a field.

Every grid point of each PySCF cube that ``echemml dft pyscf --out DIR`` wrote is
predicted in that frame's own field (read from the ``NAME.json`` record beside the
cube) with :func:`echemml.training.evaluation.evaluate`; NMAE (%), RMSE (e/Å³) and the
electron count are reported per frame and averaged over the frames in zero field and
in a field.

    echemml dft pyscf runs/h5o2/md_heldout_450K.extxyz --frames data/h5o2/md_heldout_450K.extxyz.gz \\
        --out runs/h5o2/heldout_450K_cubes --workers 2 --threads 1
    python studies/h5o2/evaluate_density.py h5o2-density runs/h5o2/heldout_450K_cubes \\
        --output studies/h5o2/density_heldout_450K.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from echemml.model import load_model
from echemml.training.evaluation import evaluate
from echemml.io.files import atomic_open


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="density model file or shipped name")
    parser.add_argument("cubes", type=Path, help="folder of NAME.cube + NAME.json from echemml dft pyscf --out")
    parser.add_argument("--every", type=int, default=1, help="evaluate every K-th frame (sorted by name)")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    model = load_model(args.model)
    rows = []
    for cube in tqdm(sorted(args.cubes.glob("*.cube"))[:: args.every], unit="frame"):
        field = np.asarray(json.loads(cube.with_suffix(".json").read_text())["field_V_per_A"], dtype=float)
        row = evaluate(model, [cube], field=field)["files"][0]
        rows.append({**row, "field_V_per_A": field.tolist(), "field_strength_V_per_A": float(np.linalg.norm(field))})
    groups = {"zero_field": [r for r in rows if r["field_strength_V_per_A"] == 0],
              "in_field": [r for r in rows if r["field_strength_V_per_A"] > 0]}
    result = {
        "command": "python studies/h5o2/evaluate_density.py " + " ".join(sys.argv[1:]),
        "frames": len(rows),
        **{f"{name}_frames": len(group) for name, group in groups.items()},
        **{f"{name}_mean_nmae_percent": float(np.mean([r["nmae"] for r in group])) for name, group in groups.items() if group},
        **{f"{name}_max_nmae_percent": float(np.max([r["nmae"] for r in group])) for name, group in groups.items() if group},
        "mean_abs_electron_error_e": float(np.mean([abs(r["electrons_pred"] - r["electrons_ref"]) for r in rows])),
        "files": rows,
    }
    with atomic_open(args.output) as handle:
        handle.write(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "files"}, indent=1))


if __name__ == "__main__":
    main()
