"""Line scans, integrated maps and charge balance on a real CP2K water density."""

from __future__ import annotations

import numpy as np
import pytest

from echemml.analysis.balance import neutralize_response, rescale_to_electrons
from echemml.analysis.profiles import integrated_map, line_scan, planar_profile


def test_planar_profile_integrates_to_eight_electrons(cp2k_water):
    z, lam = planar_profile(cp2k_water, axis=1)
    assert lam.sum() * (z[1] - z[0]) == pytest.approx(8.0, abs=1e-3)


def test_line_scan_between_atoms_runs_from_atom_to_atom(cp2k_water):
    distance, density = line_scan(cp2k_water, 1, 0, n_points=101)  # H → O
    assert distance[-1] == pytest.approx(cp2k_water.atoms.get_distance(1, 0))
    np.testing.assert_allclose(density[[0, -1]], cp2k_water.interpolate(cp2k_water.atoms.positions[[1, 0]]))


def test_line_scan_refuses_a_zero_length_segment(cp2k_water):
    with pytest.raises(ValueError):
        line_scan(cp2k_water, 0, 0)


def test_integrated_map_holds_every_electron(cp2k_water):
    u, v, column = integrated_map(cp2k_water, axis=0)
    in_plane = np.linalg.norm(np.cross(cp2k_water.voxel[1], cp2k_water.voxel[2]))
    assert column.shape == (len(u), len(v)) == cp2k_water.shape[1:]
    assert column.sum() * in_plane == pytest.approx(8.0, abs=1e-3)


def test_rescale_to_valence_count(cp2k_water):
    scaled, correction = rescale_to_electrons(cp2k_water.with_values(cp2k_water.values * 1.01), 8.0)
    assert scaled.integral() == pytest.approx(8.0, abs=1e-12)
    assert correction.factor == pytest.approx(1 / 1.01, rel=1e-3)


def test_neutralised_response_integrates_to_zero_and_spares_the_vacuum(cp2k_water):
    response = cp2k_water.with_values(np.where(cp2k_water.values > 1e-3, 0.01 * cp2k_water.values, 0.0))
    balanced, correction = neutralize_response(response)
    assert balanced.integral() == pytest.approx(0.0, abs=1e-12)
    assert correction.shift_e == pytest.approx(response.integral())
    assert np.all(balanced.values[response.values == 0] == 0)
