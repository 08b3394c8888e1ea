"""The embedded PySCF engine: real GTH-PBE runs on small molecules."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import molecule

pytest.importorskip("pyscf")

from echemml.dft.pyscf import PySCFSettings, run_pyscf  # noqa: E402
from echemml.io import read_density, write_density  # noqa: E402
from echemml.qm9 import load_qm9  # noqa: E402

pytestmark = pytest.mark.dft


@pytest.mark.parametrize("index, valence", [(1, 8), (4, 10), (6, 12)])  # CH4, C2H2, CH2O
def test_qm9_density_integrates_to_valence_electrons(index, valence):
    atoms = load_qm9([index])[index]
    result = run_pyscf(atoms, settings=PySCFSettings(spacing=0.1, margin=4.0), compute_forces=False)
    assert result.converged
    assert result.n_valence == valence
    assert result.grid.integral() == pytest.approx(valence, abs=1e-3)


def test_density_is_non_negative_and_grid_covers_margin(pyscf_water):
    grid = pyscf_water.grid
    assert grid.values.min() >= -1e-10
    positions = grid.atoms.positions
    assert np.all(grid.origin <= positions.min(axis=0) - 3.5 + 1e-9)


def converged_run(atoms, field, settings, compute_forces=True):
    result = run_pyscf(atoms, field=field, settings=settings, compute_forces=compute_forces)
    assert result.converged, "SCF did not converge: forces and energies would be meaningless"
    return result


def finite_difference_forces(atoms, field, settings, atom, step=1e-3):
    forces = []
    for axis in range(3):
        energies = []
        for sign in (1, -1):
            moved = atoms.copy()
            moved.positions[atom, axis] += sign * step
            energies.append(converged_run(moved, field, settings, compute_forces=False).energy)
        forces.append(-(energies[0] - energies[1]) / (2 * step))
    return np.array(forces)


@pytest.mark.parametrize("field", [None, (0.0, 0.1, 0.3)])
def test_forces_equal_finite_differences(field):
    # tolerance: the integration grid does not move with the atoms (no grid response)
    water = molecule("H2O")
    settings = PySCFSettings(spacing=0.3, margin=2.0, conv_tol=1e-10)
    analytic = converged_run(water, field, settings).forces
    numeric = finite_difference_forces(water, field, settings, atom=1)
    np.testing.assert_allclose(analytic[1], numeric, atol=2e-3)


def test_field_induces_dipole_along_the_field(pyscf_water):
    field = np.array([0.0, 0.0, 0.2])  # V/Å
    polarised = run_pyscf(molecule("H2O"), field=field, settings=PySCFSettings(spacing=0.15, margin=3.5))
    response = polarised.grid.difference(pyscf_water.grid)
    points = response.points()
    induced_dipole = -(response.values.reshape(-1)[:, None] * points).sum(axis=0) * response.voxel_volume
    assert induced_dipole[2] > 0.01  # e·Å, electrons pushed against the field
    assert abs(induced_dipole[0]) < 1e-4
    assert response.integral() == pytest.approx(0.0, abs=1e-3)


def test_forces_sum_to_zero_without_field(pyscf_water):
    np.testing.assert_allclose(pyscf_water.forces.sum(axis=0), 0.0, atol=1e-3)


def test_grid_carries_the_gth_valence_charges(pyscf_water):
    assert pyscf_water.grid.metadata["valence_charges"].tolist() == [6.0, 1.0, 1.0]


def test_valence_charges_survive_a_cube_written_and_read(pyscf_water, tmp_path):
    write_density(pyscf_water.grid, tmp_path / "water.cube")
    assert read_density(tmp_path / "water.cube").metadata["valence_charges"].tolist() == [6.0, 1.0, 1.0]
