"""How well LIFS novelty and committee deviation predict the actual force error on the held-out frames.

    python studies/active_learning_h5o2/rank_correlation.py runs/al_h5o2/learn \
        -o studies/active_learning_h5o2/rank_correlation.json \
        [--also h5o2-energy h5o2-density echemml/pretrained/h5o2-density.novelty.h5]

For each held-out frame (600 K, 0.5 V/Å along z) and for the run's first and last iteration:
(a) the LIFS novelty score_frame(...).atoms_max of that iteration's density model against its novelty
basis (models/iter_NNN/novelty.h5; 100 ghost points, seed = frame index), (b) the energy committee's
largest force deviation committee_deviation (eV/Å), and the frame's actual force error: the RMSE over
atoms and components of the committee's forces (through EChemCalculator, the −Qε force included, as
`echemml evaluate` does) against PySCF, meV/Å. Spearman rank correlations (scipy.stats.spearmanr) of
(a) and (b) with the error.
"""
import argparse
import json
from pathlib import Path

import ase.io
import numpy as np
from echemml.calculators import EChemCalculator
from echemml.protocols.novelty import NoveltyBasis, committee_deviation, score_frame
from scipy.stats import spearmanr

from echemml.model import load_model

FIELD = np.array([0.0, 0.0, 0.5])


def iteration_rows(folder: Path, frames, models: tuple[str, str, str] | None = None) -> dict:
    """The rows of one model set: a run's models/iter_NNN folder, or ``models`` (energy, density, basis)."""
    energy = load_model(models[0] if models else folder / "energy.pt")
    density = load_model(models[1] if models else folder / "density.pt")
    basis = NoveltyBasis.load(models[2] if models else folder / "novelty.h5")
    novelty, deviation, error = [], [], []
    for i, labelled in enumerate(frames):
        atoms = labelled.copy()
        reference = labelled.get_forces()
        atoms.info.update(charge=1, external_field=FIELD)
        atoms.calc = EChemCalculator(potential=energy)
        forces = atoms.get_forces()
        error.append(1000.0 * float(np.sqrt(np.mean((forces - reference) ** 2))))
        novelty.append(score_frame(density, atoms, basis, FIELD, 100, seed=i).atoms_max)
        deviation.append(committee_deviation(energy, atoms, FIELD))
    rho_n = spearmanr(novelty, error)
    rho_d = spearmanr(deviation, error)
    return {
        "iteration": folder.name if models is None else "models: " + ", ".join(models),
        "spearman_novelty_vs_error": {"rho": float(rho_n.statistic), "p": float(rho_n.pvalue)},
        "spearman_deviation_vs_error": {"rho": float(rho_d.statistic), "p": float(rho_d.pvalue)},
        "spearman_novelty_vs_deviation": float(spearmanr(novelty, deviation).statistic),
        "force_rmse_meV_per_A": {"mean": float(np.mean(error)), "max": float(np.max(error))},
        "per_frame": {"novelty": novelty, "deviation_eV_per_A": deviation, "force_rmse_meV_per_A": error},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="echemml learn run folder")
    parser.add_argument("--heldout", default="runs/al_h5o2/heldout_600K_labelled.extxyz")
    parser.add_argument("--also", nargs=3, metavar=("ENERGY", "DENSITY", "BASIS"),
                        help="also score this model set (e.g. h5o2-energy h5o2-density echemml/pretrained/h5o2-density.novelty.h5)")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    frames = ase.io.read(args.heldout, ":")
    iterations = sorted((args.run / "models").glob("iter_*"))
    chosen = [iterations[0], iterations[-1]] if len(iterations) > 1 else iterations
    rows = [iteration_rows(f, frames) for f in chosen]
    if args.also:
        rows.append(iteration_rows(args.run, frames, tuple(args.also)))
    result = {"heldout": args.heldout, "frames": len(frames), "iterations": rows}
    args.output.write_text(json.dumps(result, indent=1))
    for row in result["iterations"]:
        print(row["iteration"], "novelty rho", round(row["spearman_novelty_vs_error"]["rho"], 3),
              "p", f'{row["spearman_novelty_vs_error"]["p"]:.2g}',
              "deviation rho", round(row["spearman_deviation_vs_error"]["rho"], 3),
              "p", f'{row["spearman_deviation_vs_error"]["p"]:.2g}',
              "novelty~deviation", round(row["spearman_novelty_vs_deviation"], 3),
              "mean force RMSE", round(row["force_rmse_meV_per_A"]["mean"], 1))


if __name__ == "__main__":
    main()
