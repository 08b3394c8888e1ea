"""Held-out error against DFT labels used, for the learning runs, with the shipped models' error and the 1.5× goal.

    python studies/active_learning_h5o2/plot_errors.py run_a=runs/al_h5o2/learn run_b=runs/al_h5o2/learn_long \
        -o studies/active_learning_h5o2/errors.png --json studies/active_learning_h5o2/errors.json
"""
import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

STUDY = Path(__file__).parent
SHIPPED = {
    "forces_rmse_meV_per_A": json.loads((STUDY / "shipped_energy_heldout_600K.json").read_text())["forces_rmse_meV_per_A"],
    "density_nmae_percent": json.loads((STUDY / "shipped_density_heldout_600K.json").read_text())["mean_nmae"],
}
LABELS = {"forces_rmse_meV_per_A": "force RMSE (meV/Å)", "density_nmae_percent": "density NMAE (%)"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", help="NAME=RUN_FOLDER")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--json")
    args = parser.parse_args()
    table = {"shipped": SHIPPED, "runs": {}}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for spec in args.runs:
        name, folder = spec.split("=", 1)
        record = json.loads((Path(folder) / "record.json").read_text())
        labels = [0] + [r["labels"] for r in record["retrainings"]]
        tests = record["tests"]
        scored = len(record["triggers"])
        table["runs"][name] = {"labels": labels[:len(tests)], "tests": tests, "frames_scored": scored,
                               "dft_calls": len(record["jobs"])}
        for ax, key in zip(axes, LABELS):
            ax.plot(labels[:len(tests)], [t[key] for t in tests], "o-", label=f"{name} ({len(record['jobs'])} labels / {scored} scored)")
    for ax, key in zip(axes, LABELS):
        ax.axhline(SHIPPED[key], color="k", ls="--", label="shipped models")
        ax.axhline(1.5 * SHIPPED[key], color="r", ls=":", label="goal: 1.5 × shipped")
        ax.set_xlabel("DFT labels trained on")
        ax.set_ylabel(LABELS[key])
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    fig.suptitle("H5O2+ held-out set, 600 K, 0.5 V/Å (41 frames)")
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
