"""Model files: round trip, format version, shipped-model lookup."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.model.fireann_model_checks import FIELD, ethanol, probe_points, randomized, small_config

from echemml.errors import EchemmlError, InputFileError
from echemml.model import FORMAT_VERSION, build_model, load_model, predict_points, save_model
from echemml.pretrained import available_models, model_path


@pytest.mark.parametrize("head", ["density", "response", "energy"])
def test_round_trip_keeps_predictions(tmp_path, head):
    model = randomized(build_model(small_config(), head), seed=2)
    model.target_std = torch.tensor(0.37) if head != "energy" else model.energy_std
    path = tmp_path / "model.pt"
    save_model(model, path, metadata={"note": "test"})
    loaded = load_model(path)
    assert loaded.head == head and loaded.config == model.config and loaded.metadata == {"note": "test"}
    payload = torch.load(path, weights_only=True)
    assert payload["format_version"] == FORMAT_VERSION
    assert payload["units"]["length"] == "Å" and payload["cutoff"] == 4.0
    assert payload["species"] == list(model.config.species)
    if head != "energy":
        atoms = ethanol()
        points = probe_points(atoms)
        np.testing.assert_array_equal(
            predict_points(model, atoms, points, FIELD), predict_points(loaded, atoms, points, FIELD)
        )


def test_other_format_version_is_refused(tmp_path):
    path = tmp_path / "old.pt"
    save_model(build_model(small_config(), "density"), path)
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = FORMAT_VERSION + 1
    torch.save(payload, path)
    with pytest.raises(InputFileError, match="format version"):
        load_model(path)


def test_garbage_and_missing_files(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a model")
    with pytest.raises(InputFileError, match="not an echemml model"):
        load_model(garbage)
    with pytest.raises(InputFileError, match="no such model file"):
        load_model(tmp_path / "missing.pt")


def test_unknown_shipped_name_lists_the_available_ones():
    with pytest.raises(EchemmlError, match="shipped models"):
        model_path("no-such-model")
    with pytest.raises(EchemmlError, match="no-such-model"):
        load_model("no-such-model")
    assert isinstance(available_models(), list)


def test_unknown_element_is_a_clear_error():
    model = build_model(small_config(species=(1, 8)), "density")
    with pytest.raises(EchemmlError, match="C"):
        predict_points(model, ethanol(), np.zeros((1, 3)))
