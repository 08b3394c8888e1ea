"""Shared fixtures: small real densities (CP2K water cube, PySCF water) for the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CP2K_WATER_CUBE = DATA / "cp2k_h2o" / "h2o-ELECTRON_DENSITY-1_0.cube.gz"


@pytest.fixture(scope="session")
def cp2k_water():
    """CP2K GPW valence density of water in a 5.5 Å periodic box (8 valence electrons)."""
    from echemml import read_density

    return read_density(CP2K_WATER_CUBE)


@pytest.fixture(scope="session")
def pyscf_water():
    """PySCF GTH-PBE valence density of water on a 0.15 Å molecular grid."""
    pytest.importorskip("pyscf")
    from ase.build import molecule

    from echemml.dft.pyscf import PySCFSettings, run_pyscf

    return run_pyscf(molecule("H2O"), settings=PySCFSettings(spacing=0.15, margin=3.5))


@pytest.fixture
def torch_threads():
    """Restores torch's intra-op thread count after a test that sets it."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
