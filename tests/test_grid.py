"""DensityGrid: geometry, integrals, interpolation and grid arithmetic."""

from __future__ import annotations

import ase
import numpy as np
import pytest

from echemml import DensityGrid, GridMismatchError
from echemml.grid import uniform_grid


def gaussian_grid(voxel, shape, center, width=0.6, pbc=True, origin=(0.0, 0.0, 0.0)):
    """A normalised Gaussian of one electron on a grid (periodic images summed when pbc)."""
    voxel = np.asarray(voxel, float)
    cell = voxel * np.array(shape)[:, None]
    atoms = ase.Atoms("H", positions=[center], cell=cell, pbc=pbc)
    grid = DensityGrid(atoms, np.zeros(shape), origin, voxel)
    points = grid.points()
    values = np.zeros(len(points))
    images = [(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)] if pbc else [(0, 0, 0)]
    for image in images:
        r2 = np.sum((points - center - np.array(image) @ cell) ** 2, axis=1)
        values += np.exp(-r2 / (2 * width**2)) / (2 * np.pi * width**2) ** 1.5
    return grid.with_values(values.reshape(shape))


@pytest.fixture
def triclinic():
    voxel = np.array([[0.2, 0.0, 0.0], [0.07, 0.19, 0.0], [0.03, 0.04, 0.21]])
    return gaussian_grid(voxel, (30, 32, 28), center=(3.5, 3.4, 2.9))


def test_integral_of_normalised_gaussian_is_one_electron(triclinic):
    assert triclinic.integral() == pytest.approx(1.0, abs=1e-6)


def test_voxel_volume_is_determinant_of_voxel_vectors(triclinic):
    assert triclinic.voxel_volume == pytest.approx(0.2 * 0.19 * 0.21)


def test_chunked_points_equal_all_points(triclinic):
    chunks = [points for _, points in triclinic.iter_points(chunk_size=997)]
    np.testing.assert_allclose(np.concatenate(chunks), triclinic.points())


def test_points_follow_c_order_of_values(triclinic):
    i, j, k = 3, 5, 7
    flat = np.ravel_multi_index((i, j, k), triclinic.shape)
    expected = triclinic.origin + np.array([i, j, k]) @ triclinic.voxel
    np.testing.assert_allclose(triclinic.points(np.array([flat]))[0], expected)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_planar_average_integrates_to_electron_count(triclinic, axis):
    z, lam = triclinic.planar_average(axis)
    dz = z[1] - z[0]
    assert lam.sum() * dz == pytest.approx(triclinic.integral(), rel=1e-12)


def test_planar_average_peaks_at_the_gaussian_centre():
    grid = gaussian_grid(np.eye(3) * 0.2, (30, 30, 40), center=(3.0, 3.0, 5.0))
    z, lam = grid.planar_average(2)
    assert z[np.argmax(lam)] == pytest.approx(5.0, abs=0.1)


def test_interpolation_reproduces_values_at_grid_points(triclinic):
    flat = np.array([0, 17, 5000, triclinic.npoints - 1])
    np.testing.assert_allclose(
        triclinic.interpolate(triclinic.points(flat)), triclinic.values.reshape(-1)[flat], rtol=1e-10
    )


def test_interpolation_is_linear_between_points(triclinic):
    a = triclinic.points(np.array([np.ravel_multi_index((10, 10, 10), triclinic.shape)]))[0]
    b = a + triclinic.voxel[1]
    mid = triclinic.interpolate(((a + b) / 2)[None])[0]
    assert mid == pytest.approx(triclinic.interpolate(np.array([a, b])).mean(), rel=1e-12)


def test_interpolation_wraps_periodic_images(triclinic):
    points = triclinic.points(np.arange(0, triclinic.npoints, 997))
    shifted = points + np.array([1, -2, 1]) @ np.asarray(triclinic.atoms.cell)
    np.testing.assert_allclose(triclinic.interpolate(shifted), triclinic.interpolate(points), rtol=1e-9)


def test_interpolation_outside_a_molecular_grid_is_zero():
    grid = gaussian_grid(np.eye(3) * 0.2, (20, 20, 20), center=(2.0, 2.0, 2.0), pbc=False)
    assert grid.interpolate(np.array([[-1.0, 2.0, 2.0], [9.0, 2.0, 2.0]])).tolist() == [0.0, 0.0]


def test_difference_of_identical_grids_is_zero(triclinic):
    assert np.abs(triclinic.difference(triclinic.copy()).values).max() == 0.0


def test_difference_refuses_different_shapes(triclinic):
    other = gaussian_grid(triclinic.voxel, (30, 32, 29), center=(3.5, 3.4, 2.9))
    with pytest.raises(GridMismatchError, match="shapes differ"):
        triclinic.difference(other)


def test_difference_refuses_moved_atoms(triclinic):
    moved = triclinic.copy()
    moved.atoms.positions += 0.1
    with pytest.raises(GridMismatchError, match="positions differ"):
        triclinic.difference(moved)


def test_with_values_keeps_grid_and_refuses_wrong_shape(triclinic):
    doubled = triclinic.with_values(2 * triclinic.values)
    assert doubled.integral() == pytest.approx(2 * triclinic.integral())
    with pytest.raises(GridMismatchError):
        triclinic.with_values(np.zeros((2, 2, 2)))


def test_periodic_only_where_grid_spans_periodic_cell(triclinic):
    assert triclinic.periodic.tolist() == [True, True, True]
    slab = triclinic.copy()
    slab.atoms.pbc = [True, True, False]
    assert slab.periodic.tolist() == [True, True, False]


def test_uniform_grid_around_molecule_has_margin():
    atoms = ase.Atoms("H2", positions=[(0, 0, 0), (0, 0, 0.74)])
    grid = uniform_grid(atoms, spacing=0.1, margin=3.0)
    points = grid.points(np.array([0, grid.npoints - 1]))
    np.testing.assert_allclose(points[0], [-3.0, -3.0, -3.0])
    assert np.all(points[1] >= [3.0, 3.0, 3.74 - 1e-9])
    assert not grid.periodic.any()


def test_uniform_grid_of_periodic_cell_spans_it():
    atoms = ase.Atoms("H", cell=[3.0, 3.05, 4.0], pbc=True)
    grid = uniform_grid(atoms, spacing=0.1)
    assert grid.shape == (30, 31, 40)
    assert grid.periodic.all()
