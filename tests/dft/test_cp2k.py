"""CP2K backend: inputs for slabs in a field, and real runs of H2 (needs cp2k.psmp)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from ase.build import fcc100

from echemml import EchemmlError
from echemml.dft.cp2k import Cp2kError, Cp2kSettings, run_cp2k, write_input
from tests.dft.conftest import H2, require_cp2k

needs_cp2k = pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="CP2K not installed (apt-get install cp2k)")


def test_field_input_uses_xy_periodic_mt_poisson_and_electrostatic_sign():
    slab = fcc100("Au", size=(2, 2, 3), vacuum=8.0)
    text = write_input(slab, field=[0.0, 0.0, -1.0])
    assert "PERIODIC XY" in text and "POISSON_SOLVER MT" in text and "FUNCTION A*Z" in text
    # recipe: A = −E_z in Hartree/bohr, 1 V/Å = 0.0194469 Hartree/bohr
    assert "VALUES 0.0194469" in text


def test_field_along_a_periodic_direction_is_refused():
    slab = fcc100("Au", size=(2, 2, 3), vacuum=8.0)
    with pytest.raises(EchemmlError, match="not periodic along Z"):
        write_input(slab, field=[0.0, 0.0, 1.0], periodic="XYZ")


def test_metal_scf_mixing_settings_reach_the_input():
    """Broyden α, history and step limit: what a thick slab in a long cell may need to converge."""
    slab = fcc100("Au", size=(2, 2, 3), vacuum=8.0)
    text = write_input(slab, settings=Cp2kSettings(mixing_alpha=0.1, broyden_history=8, max_scf=400))
    assert "ALPHA 0.1" in text and "NBROYDEN 8" in text and "MAX_SCF 400" in text


def test_oblique_field_is_refused():
    with pytest.raises(EchemmlError, match="along x, y or z"):
        write_input(fcc100("Au", size=(1, 1, 2), vacuum=5.0), field=[0.1, 0.0, 1.0])


FAST = Cp2kSettings(cutoff=200, smearing_K=0)


@pytest.fixture(scope="module")
def h2_runs():
    require_cp2k()
    return {sign: run_cp2k(H2, field=[0, 0, 0.5 * sign] if sign else None, settings=FAST) for sign in (0, 1, -1)}


pytestmark = pytest.mark.dft


@needs_cp2k
def test_h2_density_integrates_to_two_electrons_with_forces(h2_runs):
    result = h2_runs[0]
    assert result.n_valence == 2
    assert result.grid.integral() == pytest.approx(2.0, abs=1e-3)
    assert result.forces.shape == (2, 3)
    np.testing.assert_allclose(result.forces.sum(axis=0), 0.0, atol=1e-3)


@needs_cp2k
def test_field_moves_electrons_against_it_and_reversal_reverses(h2_runs):
    dipoles = {}
    for sign in (1, -1):
        response = h2_runs[sign].grid.difference(h2_runs[0].grid)
        assert response.integral() == pytest.approx(0.0, abs=1e-4)
        points = response.points()
        dipoles[sign] = -(response.values.reshape(-1)[:, None] * points).sum(axis=0) * response.voxel_volume
    assert dipoles[1][2] > 0.01
    assert dipoles[-1][2] == pytest.approx(-dipoles[1][2], rel=0.05)


@needs_cp2k
def test_unconverged_scf_raises_saying_where_the_scf_stood(tmp_path):
    with pytest.raises(Cp2kError, match=r"did not converge \(1 SCF steps, convergence of the last ones \d\.\d+e[-+]\d+\)"):
        run_cp2k(H2, settings=Cp2kSettings(cutoff=200, smearing_K=0, max_scf=1, forces=False), keep=tmp_path / "out")
    assert not (tmp_path / "out").exists()
