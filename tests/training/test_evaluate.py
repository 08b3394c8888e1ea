"""Whole-grid evaluation: metrics by hand, density and response models, the parity plot."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import molecule
from conftest import gaussian_density

from echemml.analysis.metrics import nmae, r2, rmse
from echemml.errors import EchemmlError
from echemml.grid import uniform_grid
from echemml.io import read_density, write_density
from echemml.model import build_model, predict_grid, preset_config
from echemml.training.evaluation import evaluate


def test_metrics_by_hand():
    reference = np.array([1.0, 2.0, -1.0, 0.0])
    predicted = np.array([1.5, 2.0, 0.0, 0.5])
    assert nmae(reference, predicted) == pytest.approx(100 * (0.5 + 0 + 1 + 0.5) / 4)
    assert rmse(reference, predicted) == pytest.approx(np.sqrt((0.25 + 1 + 0.25) / 4))
    assert r2(reference, reference) == 1.0
    assert r2(reference, np.full(4, reference.mean())) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        nmae(reference, predicted[:3])


def water_grid(spacing: float = 0.25):
    grid = uniform_grid(molecule("H2O"), spacing=spacing, margin=2.0)
    return grid.with_values(gaussian_density(grid.atoms, grid.points()).reshape(grid.shape))


def random_model(head: str) -> torch.nn.Module:
    """A model with random (not zero-initialised) readout, so predictions vary over the grid."""
    torch.manual_seed(3)
    model = build_model(preset_config("qm9", [1, 8]), head)
    with torch.no_grad():
        for parameter in model.readout.parameters():
            parameter.normal_(0.0, 0.3)
        model.target_std.fill_(0.1)
    return model


def test_density_nmae_equals_a_numpy_hand_computation(tmp_path):
    path = tmp_path / "water.cube"
    write_density(water_grid(), path)
    model = random_model("density")
    report = evaluate(model, [path], parity_plot=tmp_path / "parity.png")

    reference = read_density(path)
    predicted = predict_grid(model, reference).values.astype(np.float64)
    n_ref = reference.values.astype(np.float64)
    by_hand = 100.0 * np.sum(np.abs(n_ref - predicted)) / np.sum(np.abs(n_ref))
    (row,) = report["files"]
    assert row["file"] == str(path)
    assert row["nmae"] == pytest.approx(by_hand, rel=1e-12)
    assert row["rmse"] == pytest.approx(np.sqrt(np.mean((n_ref - predicted) ** 2)), rel=1e-12)
    assert row["electrons_ref"] == pytest.approx(n_ref.sum() * reference.voxel_volume)
    assert row["electrons_pred"] == pytest.approx(predicted.sum() * reference.voxel_volume, rel=1e-6)
    assert report["mean_nmae"] == row["nmae"] and report["mean_rmse"] == row["rmse"]
    assert (tmp_path / "parity.png").stat().st_size > 1000


def test_response_is_compared_on_the_difference(tmp_path):
    zero = water_grid()
    in_field = zero.with_values(zero.values * (1 + 0.01 * np.linspace(-1, 1, zero.shape[2]))[None, None, :])
    write_density(zero, tmp_path / "zero.cube")
    write_density(in_field, tmp_path / "field.cube")
    model = random_model("response")
    field = [0.0, 0.0, 0.5]
    report = evaluate(model, [tmp_path / "field.cube"], field=field, references=[tmp_path / "zero.cube"])
    delta = read_density(tmp_path / "field.cube").values - read_density(tmp_path / "zero.cube").values.astype(np.float64)
    predicted = predict_grid(model, read_density(tmp_path / "field.cube"), field=field).values.astype(np.float64)
    (row,) = report["files"]
    assert row["nmae"] == pytest.approx(100 * np.abs(delta - predicted).sum() / np.abs(delta).sum(), rel=1e-6)
    assert row["electrons_ref"] == pytest.approx(delta.sum() * zero.voxel_volume, rel=1e-4)  # float32 file values
    with pytest.raises(EchemmlError, match="--reference"):
        evaluate(model, [tmp_path / "field.cube"], field=field)
    with pytest.raises(EchemmlError, match="--field"):
        evaluate(model, [tmp_path / "field.cube"], references=[tmp_path / "zero.cube"])
