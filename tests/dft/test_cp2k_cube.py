"""A real CP2K run writes a cube that echemml reads in e/Å³ (needs cp2k.psmp, apt package cp2k)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from echemml import read_density
from tests.conftest import DATA

pytestmark = pytest.mark.dft


@pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="CP2K not installed (apt-get install cp2k)")
def test_cp2k_water_cube_integrates_to_eight_valence_electrons(tmp_path):
    shutil.copy(DATA / "cp2k_h2o" / "h2o.inp", tmp_path)
    subprocess.run(
        ["cp2k.psmp", "-i", "h2o.inp", "-o", "h2o.out"],
        cwd=tmp_path, check=True, env={**os.environ, "OMP_NUM_THREADS": "2"}, timeout=300,
    )
    grid = read_density(tmp_path / "h2o-ELECTRON_DENSITY-1_0.cube")
    assert grid.shape == (54, 54, 54)
    assert grid.integral() == pytest.approx(8.0, abs=1e-3)
