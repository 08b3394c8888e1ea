"""Training the energy head on DFT energies and forces: reference energies by least squares, a falling
force error, and a model the calculator uses with the net charge's field term added back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import small_config

from echemml.calculators import EChemCalculator
from echemml.cli import main
from echemml.io.candidates import CandidateStore
from echemml.io.samples import SampleSet
from echemml.model import load_model
from echemml.sampling.driver import SamplerSettings, sample_candidates
from echemml.training import Trainer
from echemml.training.energy_data import learned_labels

STORE = Path(__file__).resolve().parents[2] / "data" / "h5o2_labels.h5"  # PySCF labels of H5O2+, committed
CONFIGURATIONS = 24


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """The first 24 H5O2+ configurations of the committed store, 10 random points each, and 3 more held out."""
    settings = SamplerSettings(method="random", n_points=10)
    with CandidateStore(STORE, wait=600) as store:
        names = store.names()[: CONFIGURATIONS + 3]
        configurations = [sample_candidates(store[name], settings) for name in names]
    path = tmp_path_factory.mktemp("energy") / "samples.h5"
    with SampleSet(path, "a") as samples:
        for config in configurations[:CONFIGURATIONS]:
            samples.append(config)
    return path, configurations[CONFIGURATIONS:]


def energy_config(**training):
    config = small_config(**training)
    config.head = "energy"
    config.training.batch_size = 4
    return config


def test_sample_sets_keep_the_labels_energy_forces_and_charge(labelled):
    path, _ = labelled
    with SampleSet(path) as samples:
        config = next(iter(samples))
    assert config.charge == 1 and config.forces.shape == (7, 3) and config.energy < -900  # eV, H5O2+ GTH-PBE


def test_reference_energies_make_a_fresh_model_predict_the_mean_training_energy(labelled, tmp_path):
    path, _ = labelled
    trainer = Trainer(energy_config(max_epochs=1), path, tmp_path / "run", progress_bar=False)
    energies = trainer.train_set.energies()
    fresh = float(trainer.model.atomic_energies @ torch.tensor([5.0, 2.0]))  # species (1, 8): 5 H, 2 O
    assert fresh == pytest.approx(energies.mean(), abs=1e-3)


def test_training_lowers_the_force_error_and_the_model_serves_the_calculator(labelled, tmp_path):
    path, held_out = labelled
    trainer = Trainer(energy_config(max_epochs=25, lr=3e-3), path, tmp_path / "run", progress_bar=False)
    trainer.train()
    history = trainer.progress.history
    assert history[-1]["val_rmse"] < 0.7 * history[0]["val_rmse"]  # force RMSE, eV/Å
    model = load_model(tmp_path / "run" / "model.pt")
    assert model.head == "energy"
    config = held_out[0]
    atoms = config.atoms.copy()
    atoms.info.update(charge=config.charge, external_field=config.field)
    atoms.calc = EChemCalculator(potential=model)
    forces = atoms.get_forces()
    np.testing.assert_allclose(forces.sum(axis=0), config.charge * config.field, atol=1e-4)
    _, learned_forces = learned_labels(config)
    assert np.sqrt(np.mean((forces - config.forces) ** 2)) < np.sqrt(np.mean(learned_forces**2))


def test_energy_training_needs_labelled_configurations(sample_file, tmp_path, capsys):
    """The shared PySCF sample set was drawn from grid files, which carry no energies and forces."""
    assert main(["train", str(sample_file), "--head", "energy", "--epochs", "1", "--out", str(tmp_path), "--quiet"]) == 2
    assert "has no DFT energy and forces" in capsys.readouterr().err


def test_the_command_line_reports_the_energy_heads_data_and_error_in_force_units(labelled, tmp_path, capsys):
    path, _ = labelled
    assert main(["train", str(path), "--head", "energy", "--epochs", "1", "--batch-size", "8",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "validation force components" in out and "eV/Å (forces)" in out


def test_labelled_frames_and_a_sample_set_train_one_model_together(labelled, tmp_path):
    """An extxyz of labelled frames (echemml dft pyscf --frames) is an energy head's data, alone or beside a sample set."""
    from echemml.io.labelled_frames import append_labelled_frames, labelled_frame

    path, extra = labelled
    frames = tmp_path / "frames.extxyz"
    append_labelled_frames(frames, [labelled_frame(c.atoms, f"extra_{i}", c.energy, c.forces, c.charge, c.field)
                                    for i, c in enumerate(extra)])
    trainer = Trainer(energy_config(max_epochs=1), [path, frames], tmp_path / "run", progress_bar=False)
    names = trainer.train_set.names + trainer.validation_set.names
    assert trainer.data_summary["configurations"] == CONFIGURATIONS + len(extra)
    assert sum(name.startswith("frames/extra_") for name in names) == len(extra)


def test_fit_refuses_an_energy_model_and_says_to_train_it(tmp_path):
    """fit's cycles sample grid points; an energy model has none to sample."""
    from echemml.errors import EchemmlError
    from echemml.training.fit import fit

    with pytest.raises(EchemmlError, match="echemml train"):
        fit(energy_config(max_epochs=1), tmp_path / "fit", progress_bar=False)
