"""model.pt records the valence charge of each element (e) when the training samples carry them."""

from __future__ import annotations

import pytest
from conftest import GTH_VALENCE, small_config, write_toy_samples

from echemml.model import load_model
from echemml.training import Trainer


@pytest.fixture(scope="module")
def valence_sample_file(tmp_path_factory):
    """The toy molecules, each atom with its GTH valence charge."""
    return write_toy_samples(tmp_path_factory.mktemp("valence") / "toy.h5", with_valence=True)


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
