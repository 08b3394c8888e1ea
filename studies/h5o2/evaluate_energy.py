"""Energy and force errors of an H5O2+ energy model on the configurations its training held out.

Reconstructs the trainer's split of whole configurations (``training.validation_fraction``
and ``training.seed`` of the run's config.yaml) from the sample set, predicts each
held-out configuration through EChemCalculator (the net charge's field term added back)
and compares with PySCF: energy MAE (meV/atom) and force MAE and RMSE (meV/Å).

    python studies/h5o2/evaluate_energy.py --run runs/h5o2/energy_0 --output studies/h5o2/energy_bootstrap.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from echemml.calculators import EChemCalculator
from echemml.io.samples import SampleSet
from echemml.model import load_model
from echemml.training import load_config
from echemml.training.energy_data import EnergyDataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="training run folder (model.pt, config.yaml)")
    parser.add_argument("--output", required=True, help="JSON to write")
    args = parser.parse_args()
    run = Path(args.run)
    config = load_config(run / "config.yaml")
    model = load_model(run / "model.pt")
    with SampleSet(config.samples) as samples:
        names = samples.names()
        configurations = [samples[name] for name in names]
    _, validation = EnergyDataset.split(configurations, names, model.species, model.cutoff,
                                        config.training.validation_fraction, config.training.seed, torch.float32,
                                        config.training.validation_configurations)
    energy_errors, force_errors = [], []
    for name in validation.names:
        labelled = configurations[names.index(name)]
        atoms = labelled.atoms.copy()
        atoms.info.update(charge=labelled.charge, external_field=labelled.field)
        atoms.calc = EChemCalculator(potential=model)
        energy_errors.append((atoms.get_potential_energy() - labelled.energy) / len(atoms))
        force_errors.append(atoms.get_forces() - labelled.forces)
    forces = np.concatenate(force_errors)
    result = {
        "command": f"python studies/h5o2/evaluate_energy.py --run {args.run} --output {args.output}",
        "model": str(run / "model.pt"),
        "samples": config.samples,
        "held_out_configurations": len(validation.names),
        "energy_mae_meV_per_atom": 1000 * float(np.mean(np.abs(energy_errors))),
        "forces_mae_meV_per_A": 1000 * float(np.mean(np.abs(forces))),
        "forces_rmse_meV_per_A": 1000 * float(np.sqrt(np.mean(forces**2))),
    }
    temporary = Path(args.output + ".tmp")
    temporary.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(temporary, args.output)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
