"""The MT Poisson solver's condition: a cell at least twice as long as the density (CP2K manual, &MT).

Reference: the real CP2K fixture (2×2×3 Au(100), 8 Å of vacuum each side,
tests/data/cp2k_au100) has a 20.1 Å cell and about 9.9 Å of density along z.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from echemml import read_density
from echemml.dft.cp2k import mt_cell_ratio, warn_if_mt_cell_is_short
from echemml.grid import DensityGrid
from tests.conftest import DATA


@pytest.fixture(scope="module")
def slab_density():
    return read_density(DATA / "cp2k_au100" / "au100_field0.cube.gz")


def without_vacuum(grid: DensityGrid, angstrom: float) -> DensityGrid:
    """The same density with ``angstrom`` of vacuum planes cut from both ends of z."""
    planes = int(round(angstrom / grid.voxel[2, 2]))
    values = grid.values[:, :, planes:-planes]
    origin = grid.origin + planes * grid.voxel[2]
    return DensityGrid(grid.atoms, values, origin=origin, voxel=grid.voxel)


def test_fixture_slab_cell_is_twice_its_density(slab_density):
    assert mt_cell_ratio(slab_density, 2) == pytest.approx(2.0, abs=0.1)


def test_slab_with_enough_vacuum_gives_no_warning(slab_density):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_mt_cell_is_short(slab_density, "XY")


def test_slab_with_too_little_vacuum_is_warned_about(slab_density):
    short = without_vacuum(slab_density, 3.0)
    assert mt_cell_ratio(short, 2) < 2.0
    with pytest.warns(UserWarning, match="along z is 1.[0-9]+× the extent"):
        warn_if_mt_cell_is_short(short, "XY")


def test_periodic_axes_are_not_checked(slab_density):
    short = without_vacuum(slab_density, 3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_mt_cell_is_short(short, "XYZ")
    assert np.isfinite(mt_cell_ratio(short, 0))
