"""Evaluation of a QM9 density model on the held-out test molecules, with the paper's Fig. 2 and Fig. 4.

Every test molecule (QM9 100001–120000, whole PySCF grids) is predicted point by
point; the report gives per molecule the NMAE (%) over the whole grid and the
predicted and DFT electron counts (e) next to the valence count, and writes

- ``evaluation.json``: per-molecule and mean numbers, and the command;
- ``fig2_parity.png``: model vs DFT on the training and validation points (the
  trainer's own 9:1 split of the sample set) and on every grid point of the test
  molecules (Fig. 2);
- ``fig4_line_scan.png``: DFT and model density along the line through the two
  heavy atoms farthest apart in the first test molecule, 1.5 Å beyond each (Fig. 4).

Run from the repository root, e.g. for the shipped model::

    python studies/qm9_density/report.py --model qm9-density --samples runs/qm9_density/samples.h5 \\
        --test-dir runs/qm9_test --out studies/qm9_density
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from echemml.analysis.bader import valence_counts
from echemml.analysis.plots import line_scan_plot, parity_plot
from echemml.analysis.profiles import line_scan
from echemml.io import read_density
from echemml.io.files import atomic_open
from echemml.io.samples import SampleSet
from echemml.model import load_model
from echemml.model.prediction import predict_grid, predict_points
from echemml.pretrained import model_path
from echemml.training.data import split_points
from echemml.training.evaluation import compare

SCAN_EXTENSION = 1.5  # Å beyond each end atom


def resolve_model(name: str) -> Path:
    """A model file, or the path of a shipped model of that name."""
    return Path(name) if Path(name).is_file() else model_path(name)


def sampled_parity(model, samples: Path, validation_fraction: float, seed: int) -> dict[str, tuple]:
    """(DFT, model) at the sampled points, split as the trainer split them (train, validation)."""
    pairs = {"train": ([], []), "validation": ([], [])}
    with SampleSet(samples) as sample_set:
        configurations = list(sample_set)
    for index, configuration in enumerate(tqdm(configurations, desc="sampled points", unit="mol")):
        predicted = predict_points(model, configuration.atoms, configuration.points)
        train_idx, val_idx = split_points(len(configuration.targets), validation_fraction, seed, index)
        for label, chosen in (("train", train_idx), ("validation", val_idx)):
            pairs[label][0].append(configuration.targets[chosen])
            pairs[label][1].append(predicted[chosen])
    return {label: (np.concatenate(ref), np.concatenate(pred)) for label, (ref, pred) in pairs.items()}


def farthest_heavy_atoms(atoms) -> tuple[int, int]:
    """Indices of the two non-hydrogen atoms farthest apart (any two atoms if fewer than two heavy ones)."""
    heavy = [index for index, number in enumerate(atoms.numbers) if number > 1]
    chosen = heavy if len(heavy) >= 2 else list(range(len(atoms)))
    distances = atoms.get_all_distances()[np.ix_(chosen, chosen)]
    first, second = np.unravel_index(np.argmax(distances), distances.shape)
    return chosen[first], chosen[second]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="model file or shipped model name")
    parser.add_argument("--test-dir", type=Path, required=True, help="whole-grid PySCF cubes qm9_*.cube (100001–120000)")
    parser.add_argument("--samples", type=Path, help="the sample set it was trained on (train/validation panels of Fig. 2)")
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0, help="the training run's seed (its 9:1 split)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(resolve_model(args.model))
    test_files = sorted(args.test_dir.glob("qm9_*.cube"))
    if not test_files:
        sys.exit(f"{args.test_dir}: no qm9_*.cube test densities")
    if any(int(path.stem.split("_")[1]) <= 100000 for path in test_files):
        sys.exit(f"{args.test_dir}: test molecules must come from QM9 100001–120000")
    args.out.mkdir(parents=True, exist_ok=True)

    rows, test_reference, test_predicted = [], [], []
    for index, path in enumerate(tqdm(test_files, desc="test molecules", unit="mol")):
        reference = read_density(path)
        predicted = predict_grid(model, reference)
        valence = float(valence_counts(reference).sum())
        row = compare(reference, predicted, path.name)
        rows.append({
            **row, "atoms": len(reference.atoms), "formula": reference.atoms.get_chemical_formula(),
            "valence_electrons": valence,
            "electron_error_percent": 100.0 * (row["electrons_pred"] - valence) / valence,
        })
        test_reference.append(reference.values.ravel())
        test_predicted.append(predicted.values.ravel())
        if index == 0:
            start, end = farthest_heavy_atoms(reference.atoms)
            distance, dft_line = line_scan(reference, start, end, n_points=400, extend=SCAN_EXTENSION)
            _, model_line = line_scan(predicted, start, end, n_points=400, extend=SCAN_EXTENSION)
            symbols = reference.atoms.get_chemical_symbols()
            line_scan_plot(distance, {"DFT (PySCF)": dft_line, "model": model_line}, args.out / "fig4_line_scan.png",
                           title=f"{path.stem} {reference.atoms.get_chemical_formula()}: "
                                 f"{symbols[start]}{start}–{symbols[end]}{end}, ±{SCAN_EXTENSION} Å")

    sets = {}
    if args.samples:
        sets.update(sampled_parity(model, args.samples, args.validation_fraction, args.seed))
    sets["test (whole grids)"] = (np.concatenate(test_reference), np.concatenate(test_predicted))
    parity_plot(sets, args.out / "fig2_parity.png", title=f"{args.model}: model vs DFT")

    errors = np.abs([row["electron_error_percent"] for row in rows])
    report = {
        "command": "python studies/qm9_density/report.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "test_molecules": len(rows),
        "mean_nmae": float(np.mean([row["nmae"] for row in rows])),
        "median_nmae": float(np.median([row["nmae"] for row in rows])),
        "max_nmae": float(np.max([row["nmae"] for row in rows])),
        "mean_abs_electron_error_percent": float(errors.mean()),
        "max_abs_electron_error_percent": float(errors.max()),
        "rmse_by_set": {label: float(np.sqrt(np.mean((ref - pred) ** 2))) for label, (ref, pred) in sets.items()},
        "files": rows,
    }
    with atomic_open(args.out / "evaluation.json") as handle:
        json.dump(report, handle, indent=1)
    print(f"{len(rows)} test molecules: NMAE mean {report['mean_nmae']:.2f} %, median {report['median_nmae']:.2f} %, "
          f"max {report['max_nmae']:.2f} %; |electron error| mean {report['mean_abs_electron_error_percent']:.2f} %, "
          f"max {report['max_abs_electron_error_percent']:.2f} %")


if __name__ == "__main__":
    main()
