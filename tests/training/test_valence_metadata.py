"""model.pt records the valence charge of each element (e) when the training samples carry them."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import molecule
from conftest import gaussian_density, small_config

from echemml.io.samples import SampledConfiguration, SampleSet
from echemml.model import load_model
from echemml.training import Trainer

GTH_VALENCE = {"H": 1, "C": 4, "N": 5, "O": 6, "F": 7}


@pytest.fixture(scope="module")
def valence_sample_file(tmp_path_factory):
    """Four molecules with 60 points each of an analytic density, each atom with its GTH valence charge."""
    path = tmp_path_factory.mktemp("valence") / "toy.h5"
    rng = np.random.default_rng(7)
    with SampleSet(path, "a") as samples:
        for name in ("H2O", "NH3", "CH4", "HF"):
            atoms = molecule(name)
            points = atoms.positions[rng.integers(len(atoms), size=60)] + rng.normal(scale=0.8, size=(60, 3))
            valence = [GTH_VALENCE[symbol] for symbol in atoms.get_chemical_symbols()]
            targets = gaussian_density(atoms, points)
            samples.append(SampledConfiguration(atoms, points, targets, valence_charges=valence))
    return path


@pytest.fixture(scope="module")
def valence_model(valence_sample_file, tmp_path_factory):
    """The model.pt of one epoch on the samples that carry valence charges."""
    out = tmp_path_factory.mktemp("run")
    Trainer(small_config(max_epochs=1), valence_sample_file, out, progress_bar=False).train()
    return load_model(out / "model.pt")


def test_model_records_the_valence_charges_of_its_samples(valence_model):
    assert valence_model.metadata["valence_charges"] == GTH_VALENCE


def test_model_trained_on_samples_without_them_records_none(toy_sample_file, tmp_path):
    Trainer(small_config(max_epochs=1), toy_sample_file, tmp_path, progress_bar=False).train()
    assert "valence_charges" not in load_model(tmp_path / "model.pt").metadata


def test_warm_start_on_samples_without_them_keeps_the_init_models_table(valence_model, toy_sample_file, tmp_path):
    Trainer(small_config(max_epochs=1), toy_sample_file, tmp_path, init_model=valence_model, progress_bar=False).train()
    assert load_model(tmp_path / "model.pt").metadata["valence_charges"] == GTH_VALENCE
