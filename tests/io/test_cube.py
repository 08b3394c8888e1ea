"""Cube files: CP2K's real output, ASE's writer, non-orthogonal voxels, any origin (e/Å³, Å)."""

from __future__ import annotations

import ase
import numpy as np
import pytest
from ase.io.cube import read_cube_data, write_cube
from ase.units import Bohr

from echemml import DensityGrid, read_density, write_density
from echemml.io import read_cube
from echemml.io import write_cube as write_echemml_cube


def test_cp2k_cube_integrates_to_valence_electrons(cp2k_water):
    # water with GTH pseudopotentials: O 6 + 2 × H 1 valence electrons
    assert cp2k_water.integral() == pytest.approx(8.0, abs=1e-3)


def test_cp2k_cube_is_periodic_and_in_angstrom(cp2k_water):
    assert cp2k_water.periodic.all()
    np.testing.assert_allclose(np.diag(np.asarray(cp2k_water.atoms.cell)), 5.5, atol=1e-5)
    np.testing.assert_allclose(cp2k_water.atoms.positions[0], [2.75, 2.75, 2.869287], atol=1e-5)


def test_cp2k_cube_in_angstrom_matches_ase_in_bohr(cp2k_water):
    from tests.conftest import CP2K_WATER_CUBE

    data, atoms = read_cube_data(str(CP2K_WATER_CUBE))
    np.testing.assert_allclose(cp2k_water.values, data / Bohr**3, rtol=1e-12)


def test_ase_written_cube_with_origin_and_triclinic_voxels_reads_back(tmp_path):
    rng = np.random.default_rng(1)
    voxel = np.array([[0.21, 0.0, 0.0], [0.05, 0.19, 0.0], [0.02, 0.03, 0.2]])
    shape = (12, 10, 14)
    atoms = ase.Atoms("OH", positions=[(1.0, 1.1, 1.2), (1.5, 1.6, 1.4)], cell=voxel * np.array(shape)[:, None])
    values_bohr = rng.random(shape)  # e/bohr³ as ASE writes them
    origin = np.array([-0.7, 0.4, 1.3])
    path = tmp_path / "ase.cube"
    with open(path, "w") as handle:
        write_cube(handle, atoms, data=values_bohr, origin=origin)
    grid = read_density(path)
    np.testing.assert_allclose(grid.values, values_bohr / Bohr**3, rtol=1e-6)
    np.testing.assert_allclose(grid.voxel, voxel, atol=1e-6)
    np.testing.assert_allclose(grid.origin, origin, atol=1e-6)
    np.testing.assert_allclose(grid.atoms.positions, atoms.positions, atol=1e-6)


def test_echemml_cube_round_trip_keeps_values_origin_and_pbc(tmp_path, cp2k_water):
    shifted = DensityGrid(
        cp2k_water.atoms.copy(), cp2k_water.values, origin=(0.3, -0.2, 0.1), voxel=cp2k_water.voxel
    )
    shifted.atoms.pbc = [True, True, False]
    path = tmp_path / "density.cube"
    write_density(shifted, path)
    grid = read_cube(path)
    np.testing.assert_allclose(grid.values, shifted.values, rtol=1e-6, atol=1e-14)
    np.testing.assert_allclose(grid.origin, shifted.origin, atol=1e-6)
    assert grid.atoms.pbc.tolist() == [True, True, False]


def test_echemml_cube_is_read_by_ase(tmp_path, cp2k_water):
    path = tmp_path / "density.cube"
    write_density(cp2k_water, path)
    data, _ = read_cube_data(str(path))
    np.testing.assert_allclose(data / Bohr**3, cp2k_water.values, rtol=1e-6, atol=1e-14)


def test_a_dimensionless_field_is_written_and_read_back_as_it_is(tmp_path, cp2k_water):
    """per_volume=False (a novelty map): the file holds the values themselves, ASE and echemml read them unscaled."""
    path = tmp_path / "map.cube"
    write_echemml_cube(cp2k_water, path, per_volume=False)
    data, _ = read_cube_data(str(path))
    np.testing.assert_allclose(data, cp2k_water.values, rtol=1e-6, atol=1e-14)
    np.testing.assert_allclose(read_cube(path).values, cp2k_water.values, rtol=1e-6, atol=1e-14)
    assert "dimensionless" in path.read_text().splitlines()[0]


def test_gaussian_cube_with_orbital_line_and_angstrom_units(tmp_path):
    text = "\n".join(
        [
            "Gaussian MO cube",
            "orbital 1",
            "   -1    0.000000    0.000000    0.000000",
            "   -2    0.500000    0.000000    0.000000",
            "   -2    0.000000    0.500000    0.000000",
            "   -3    0.000000    0.000000    0.500000",
            "    1    1.000000    0.000000    0.000000    0.000000",
            "    1    1",
            " 1.0 2.0 3.0 4.0 5.0 6.0",
            " 7.0 8.0 9.0 10.0 11.0 12.0",
        ]
    )
    path = tmp_path / "mo.cube"
    path.write_text(text + "\n")
    grid = read_density(path)
    assert grid.shape == (2, 2, 3)
    np.testing.assert_allclose(grid.voxel, np.eye(3) * 0.5)
    assert grid.values[1, 1, 2] == 12.0


def test_valence_charges_survive_write_and_read(tmp_path, cp2k_water):
    grid = cp2k_water.with_values(cp2k_water.values)
    grid.metadata["valence_charges"] = np.array([6.0, 1.0, 1.0])
    path = tmp_path / "density.cube"
    write_density(grid, path)
    assert read_cube(path).metadata["valence_charges"].tolist() == [6.0, 1.0, 1.0]


def test_a_cube_without_valence_charges_reads_back_without_them(tmp_path, cp2k_water):
    # the charge column then holds what the grid listed (CP2K: zeros), not valence charges
    path = tmp_path / "density.cube"
    write_density(cp2k_water, path)
    grid = read_cube(path)
    assert "valence_charges" not in grid.metadata
    assert grid.metadata["nuclear_charges"].tolist() == [0.0, 0.0, 0.0]
