"""What limits the Table-1 QM9 model: training molecules, the loss, or the network's size?

Each variant trains on the TS+LIFS samples (1000 candidates, 30 % uniform, LIFS 1e-3 on a
fresh model's features: ~91 points per molecule) of the first N frozen training molecules
of the learning curves, for 1000 epochs on one thread with the plateau schedule, then gives

- ``test10_nmae``: whole-grid NMAE (%) on the first 10 test cubes (QM9 100001–120000);
- ``train_random_point_nmae``: the same measure estimated on the training molecules from
  their 1000 uniform-random candidate points (a grid-wide estimate: the random candidates
  are a uniform draw of the whole grid), to see whether training molecules are fitted
  better than test ones;
- ``test10_electron_error_pct``: mean predicted − DFT electron count, %.

Run from the repository root (the samples come from the learning curves' run folder):

    python studies/qm9_learning_curves/run.py --test-dir runs/qm9_test --out runs/qm9_curves \\
        --only tslifs_u0.3_0.001
    python studies/qm9_density/ablation.py --curves runs/qm9_curves --test-dir runs/qm9_test \\
        --out runs/qm9_ablation

Writes ``studies/qm9_density/ablation.json``. Resumes: trained variants and their results
are kept in ``--out``. The candidate store must not be open for writing by a labelling job.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from echemml.io.candidates import CandidateStore
from echemml.io.files import atomic_open
from echemml.io.samples import SampleSet
from echemml.model import load_model
from echemml.model.prediction import predict_points
from echemml.training import Trainer, load_config
from echemml.training.evaluation import evaluate
from echemml.training.trainer import CHECKPOINT_NAME

HERE = Path(__file__).resolve().parent
FROZEN = HERE.parent / "qm9_learning_curves" / "training_molecules.txt"
LARGE = {"n_radial": 10, "n_iterations": 3, "orbital_hidden": [32, 32], "readout_hidden": [64, 64]}
VARIANTS = {  # name: (training molecules, model sizes over Table 1, training settings)
    "table1_150": (150, {}, {}),
    "table1_300": (300, {}, {}),
    "table1_300_mae": (300, {}, {"loss": "mae"}),
    "large_300_mae": (300, LARGE, {"loss": "mae"}),
}
EPOCHS = 1000
TEST_MOLECULES = 10


def first_samples(source: Path, molecules: int, out: Path) -> Path:
    """A sample set of the first ``molecules`` configurations of ``source``."""
    path = out / f"samples_{molecules}.h5"
    if not path.exists():
        partial = path.with_name(path.name + ".partial")
        partial.unlink(missing_ok=True)
        with SampleSet(source) as everything, SampleSet(partial, "a") as chosen:
            for index, configuration in enumerate(everything):
                if index == molecules:
                    break
                chosen.append(configuration)
        partial.replace(path)
    return path


def random_point_nmae(model, store: Path, names: list[str]) -> float:
    """Mean over molecules of 100·Σ|model − DFT| / Σ|DFT| at their uniform-random candidates."""
    rows = []
    with CandidateStore(store) as candidates:
        for name in names:
            molecule = candidates[name]
            predicted = predict_points(model, molecule.atoms, molecule.positions_of(molecule.random_order))
            reference = molecule.random_values
            rows.append(100.0 * np.abs(predicted - reference).sum() / np.abs(reference).sum())
    return float(np.mean(rows))


def run_variant(name: str, args) -> dict:
    molecules, model_sizes, training = VARIANTS[name]
    run_dir = args.out / name
    result_path = run_dir / "result.json"
    if result_path.exists():
        return json.loads(result_path.read_text())
    config = load_config()
    config.model.species = [1, 6, 7, 8, 9]
    for key, value in model_sizes.items():
        setattr(config.model, key, value)
    config.training.max_epochs, config.training.threads = EPOCHS, 1
    for key, value in training.items():
        setattr(config.training, key, value)
    samples = first_samples(args.curves / "tslifs_u0.3_0.001" / "samples.h5", molecules, args.out)
    if not (run_dir / "model.pt").exists():
        if (run_dir / CHECKPOINT_NAME).exists():
            Trainer.resume(run_dir, samples, progress_bar=False).train()
        else:
            Trainer(config, samples, run_dir, progress_bar=False).train()
    model = load_model(run_dir / "model.pt")
    names = FROZEN.read_text().split()[:molecules]
    tests = evaluate(model, sorted(args.test_dir.glob("qm9_*.cube"))[:TEST_MOLECULES])["files"]
    result = {
        "name": name, "training_molecules": molecules, "model": model_sizes, "training": training,
        "n_params": sum(parameter.numel() for parameter in model.parameters()),
        "train_random_point_nmae": random_point_nmae(model, args.candidates, names),
        "test10_nmae": float(np.mean([row["nmae"] for row in tests])),
        "test10_electron_error_pct": float(np.mean(
            [100.0 * (row["electrons_pred"] / row["electrons_ref"] - 1.0) for row in tests])),
    }
    with atomic_open(result_path) as handle:
        json.dump(result, handle, indent=1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--curves", type=Path, required=True, help="the learning curves' run folder")
    parser.add_argument("--test-dir", type=Path, required=True, help="PySCF cubes of the test molecules")
    parser.add_argument("--out", type=Path, required=True, help="run folder of the variants")
    parser.add_argument("--candidates", type=Path, default=Path("data/qm9_train_candidates.h5"))
    parser.add_argument("--only", nargs="*", choices=sorted(VARIANTS), help="variants to run (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    results = [run_variant(name, args) for name in (args.only or VARIANTS)]
    for result in results:
        print(f"{result['name']:>15}: test NMAE {result['test10_nmae']:.2f} %, training molecules (random points) "
              f"{result['train_random_point_nmae']:.2f} %, electrons {result['test10_electron_error_pct']:+.2f} %")
    if args.only:
        return
    report = {
        "command": f"python studies/qm9_density/ablation.py --curves {args.curves} --test-dir {args.test_dir} "
                   f"--out {args.out}",
        "schedule": f"{EPOCHS} epochs, plateau schedule of Table 1, one thread",
        "samples": "TS+LIFS, 1000 candidates (30 % uniform), LIFS 1e-3 on a fresh model: ~91 points per molecule",
        "test_molecules": TEST_MOLECULES,
        "variants": results,
    }
    with atomic_open(HERE / "ablation.json", "w") as handle:
        json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
