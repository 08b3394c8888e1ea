"""Whole-grid prediction: equals point-wise prediction, chunk sizes do not matter."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import fcc100
from tests.model.fireann_model_checks import FIELD, ethanol, randomized, small_config

from echemml.grid import DensityGrid
from echemml.model import build_model, predict_grid, predict_points


@pytest.fixture(scope="module", params=["density", "response"])
def model(request):
    return randomized(build_model(small_config(), request.param), seed=4)


def molecule_grid() -> DensityGrid:
    atoms = ethanol()
    origin = atoms.positions.min(axis=0) - 4.5  # corners hold points with no atom in range
    voxel = np.array([[0.45, 0.0, 0.0], [0.05, 0.42, 0.0], [0.0, 0.03, 0.47]])
    return DensityGrid(atoms, np.zeros((26, 24, 22)), origin=origin, voxel=voxel)


def slab_grid() -> DensityGrid:
    atoms = fcc100("Au", (2, 2, 2), vacuum=5.0)
    return DensityGrid(atoms, np.zeros((12, 12, 40)))  # spans the periodic cell


@pytest.mark.parametrize("make_grid", [molecule_grid, slab_grid])
def test_grid_equals_points_and_chunks_do_not_matter(model, make_grid):
    grid = make_grid()
    whole = predict_grid(model, grid, field=FIELD, dtype=torch.float64, chunk_size=10**7)
    chunked = predict_grid(model, grid, field=FIELD, dtype=torch.float64, chunk_size=500)
    pointwise = predict_points(model, grid.atoms, grid.points(), field=FIELD, dtype=torch.float64, chunk_size=3000)
    scale = np.abs(whole.values).max()
    np.testing.assert_allclose(chunked.values, whole.values, atol=1e-12 * scale)
    np.testing.assert_allclose(whole.values.ravel(), pointwise, atol=1e-12 * scale)
    assert whole.shape == grid.shape and whole.values.dtype == np.float64
    np.testing.assert_allclose(whole.origin, grid.origin)


def test_float32_grid_agrees_with_float64(model):
    grid = molecule_grid()
    single = predict_grid(model, grid, field=FIELD)
    double = predict_grid(model, grid, field=FIELD, dtype=torch.float64)
    assert single.values.dtype == np.float32
    np.testing.assert_allclose(single.values, double.values, atol=2e-5 * np.abs(double.values).max())


def test_points_far_from_atoms_are_exactly_zero(model):
    grid = molecule_grid()
    values = predict_grid(model, grid, field=FIELD, dtype=torch.float64).values
    far = np.array([[-50.0, -50.0, -50.0], [60.0, 0.0, 0.0]])
    far_values = predict_points(model, grid.atoms, far, field=FIELD, dtype=torch.float64)
    assert far_values.tolist() == [0.0, 0.0]
    assert values[0, 0, 0] == 0.0


def test_grid_prediction_keeps_the_callers_torch_thread_count(model, torch_threads):
    """numba's OpenMP kernels would otherwise reset it to numba's count (the core count)."""
    torch.set_num_threads(1)
    predict_grid(model, slab_grid(), field=FIELD)
    assert torch.get_num_threads() == 1


def test_energy_model_refuses_grids():
    with pytest.raises(TypeError, match="energy"):
        predict_grid(build_model(small_config(), "energy"), molecule_grid())


MEMORY_SCRIPT = """
import resource, numpy as np, torch
from ase.build import fcc100
from echemml.grid import DensityGrid
from echemml.model import build_model, predict_grid, preset_config
atoms = fcc100("Au", (2, 2, 3), vacuum=8.0)
grid = DensityGrid(atoms, np.zeros((128, 128, 330), dtype=np.float32))  # 5.4 M points
model = build_model(preset_config("au-response", [79]), "density")
predict_grid(model, grid, field=[0, 0, -1])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


@pytest.mark.slow
def test_a_five_million_point_grid_stays_under_four_gigabytes():
    import subprocess
    import sys
    from pathlib import Path

    repository = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(repository), "OMP_NUM_THREADS": "2", "PATH": "/usr/bin:/bin"},
    )
    peak_bytes = int(done.stdout.split()[-1])
    assert peak_bytes < 4 * 1024**3


@pytest.mark.parametrize("head", ["density", "response"])
def test_both_heads_are_zero_beyond_the_cutoff_of_every_atom(head):
    # targeted sampling never shows the model the vacuum: the heads must give zero there
    from ase.build import molecule

    from echemml.model import build_model, predict_points, preset_config

    torch.manual_seed(1)
    model = build_model(preset_config("qm9", [1, 8]), head)
    with torch.no_grad():
        for parameter in model.readout.parameters():
            parameter.normal_(0.0, 0.3)
        model.representation.features.field_coefficients.normal_(0.0, 0.3)
    water = molecule("H2O")
    far = np.array([[0.0, 0.0, 4.5], [6.0, 0.0, 0.0]])  # > rc = 4 Å from every atom
    near = np.array([[0.0, 0.3, 0.5]])
    values = predict_points(model, water, np.vstack([far, near]), field=[0.0, 0.0, 0.5], dtype=torch.float64)
    np.testing.assert_allclose(values[:2], 0.0, atol=1e-12)
    assert values[2] != 0.0


def test_a_float32_model_used_in_float64_is_converted_once_and_again_after_its_weights_change():
    model = randomized(build_model(small_config(), "density"), seed=3)
    atoms, points = ethanol(), np.array([[0.3, 0.2, 0.1], [1.0, -0.4, 0.5]])
    converted = model.in_dtype(torch.float64)
    assert converted is not model and next(converted.parameters()).dtype == torch.float64
    first = predict_points(model, atoms, points, dtype=torch.float64)
    assert model.in_dtype(torch.float64) is converted  # reused, not deep-copied per call
    assert model.in_dtype(torch.float32) is model
    with torch.no_grad():
        model.readout.hidden[0].bias.add_(0.5)
    assert model.in_dtype(torch.float64) is not converted
    assert not np.allclose(predict_points(model, atoms, points, dtype=torch.float64), first)
