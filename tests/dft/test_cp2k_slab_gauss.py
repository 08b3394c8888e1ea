"""A real CP2K run of a tiny Au(100) slab in a field obeys Gauss's law (needs cp2k.psmp).

Two SCFs (E = 0 and E_z = −1 V/Å) of a 1×1×2 Au(100) slab at a 200 Ry cutoff, Γ point,
with the field recipe of ../shared/design/DFT_RECIPES.md (PERIODIC XY, MT Poisson,
linear external potential). Whatever the slab's crude k-sampling, a conductor
screens the field: the electrons moved to the face the field points away from
equal ε₀·|E|·A (Gauss's law), here 0.0460 e for A = 8.32 Å² (measured: 0.0447 e, −2.9 %).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from ase.build import fcc100

from echemml.analysis.electrostatics import EPSILON_0, slab_response
from echemml.dft.cp2k import Cp2kSettings, run_cp2k

pytestmark = [
    pytest.mark.dft,
    pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="CP2K not installed (apt-get install cp2k)"),
]

FIELD_Z = -1.0  # V/Å
TINY = Cp2kSettings(cutoff=200.0, rel_cutoff=30.0, added_mos=10, forces=False)


@pytest.fixture(scope="module")
def tiny_slab_response():
    slab = fcc100("Au", size=(1, 1, 2), a=4.08, vacuum=8.0)  # cell > 2× the density, as MT needs
    slab.pbc = (True, True, False)
    zero = run_cp2k(slab, settings=TINY)
    field = run_cp2k(slab, field=[0.0, 0.0, FIELD_Z], settings=TINY)
    return slab, field.grid.difference(zero.grid)


def test_induced_charge_of_a_tiny_slab_follows_gauss_law(tiny_slab_response):
    slab, response = tiny_slab_response
    area = float(np.linalg.norm(np.cross(slab.cell[0], slab.cell[1])))
    gauss = EPSILON_0 * abs(FIELD_Z) * area
    numbers = slab_response(response)
    assert abs(numbers.net_e) < 1e-3
    assert numbers.right_e > 0 > numbers.left_e  # electrons move against the field, to the upper face
    assert numbers.transfer_e == pytest.approx(gauss, rel=0.10)
