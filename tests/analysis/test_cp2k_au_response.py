"""Charge transfer and response ESP of a real CP2K Au(100) slab in E_z = −1 V/Å.

Fixture: tests/data/cp2k_au100 (2×2×3 Au(100), PBE, DZVP-MOLOPT-SR-GTH, GTH-PBE-q11,
PERIODIC XY + MT Poisson, linear external potential; cubes at STRIDE 2), made by
``python tests/data/cp2k_au100/make_fixture.py``.
"""

from __future__ import annotations

import pytest

from echemml import read_density
from echemml.analysis.electrostatics import slab_response
from echemml.units import EPSILON_0
from tests.conftest import DATA

FIELD_Z = -1.0  # V/Å


@pytest.fixture(scope="module")
def au_response():
    folder = DATA / "cp2k_au100"
    field = read_density(folder / "au100_fieldm1.cube.gz")
    zero = read_density(folder / "au100_field0.cube.gz")
    return slab_response(field.difference(zero), axis=2)


def test_slab_densities_hold_132_valence_electrons():
    grid = read_density(DATA / "cp2k_au100" / "au100_field0.cube.gz")
    assert grid.integral() == pytest.approx(132.0, abs=1e-2)  # 12 Au × 11 (GTH-PBE-q11)


def test_induced_charge_follows_gauss_law(au_response):
    area = 2 * 2 * (4.08 / 2**0.5) ** 2  # the 2×2 Au(100) surface cell, Å²
    gauss = EPSILON_0 * abs(FIELD_Z) * area  # 0.184 e
    assert au_response.transfer_e == pytest.approx(gauss, rel=0.10)


def test_electrons_move_against_the_field_to_the_upper_face(au_response):
    assert au_response.right_e > 0 > au_response.left_e
    assert abs(au_response.net_e) < 1e-3


def test_response_esp_slope_inside_the_metal_equals_the_field(au_response):
    assert au_response.esp_slope_inside_V_per_A == pytest.approx(FIELD_Z, rel=0.05)
