"""An electrode's density in a field through EChemCalculator: au100-density's n0 plus au100-response's Δn(ε)."""

from __future__ import annotations

from pathlib import Path

import ase.io
import numpy as np
import pytest

from echemml.calculators import EChemCalculator
from echemml.model import load_model, predict_grid

SLAB = Path(__file__).resolve().parents[2] / "data" / "au100" / "structures_mt" / "test_L4_0.xyz"  # held out
FIELD = (0.0, 0.0, -1.0)
VALENCE_ELECTRONS = 16 * 11  # GTH-PBE-q11 Au


@pytest.fixture(scope="module")
def slab():
    atoms = ase.io.read(SLAB)
    atoms.calc = EChemCalculator(density_model="au100-density", response_model="au100-response", field=FIELD,
                                 spacing=0.15)
    return atoms


def test_the_density_in_a_field_is_n0_plus_the_response(slab):
    density = slab.calc.get_property("density", slab)
    zero = predict_grid(load_model("au100-density"), density, field=np.zeros(3))
    response = slab.calc.get_property("response", slab)
    scale = VALENCE_ELECTRONS / slab.calc.get_property("model_electrons", slab)
    np.testing.assert_allclose(density.values, scale * zero.values + response.values, atol=1e-6)


def test_the_model_holds_the_valence_electrons_within_half_a_percent_and_the_density_exactly(slab):
    """au100-density's own n0 holds 176 e for 16 Au (GTH-PBE-q11) within 0.5 %; scaled to exactly that,
    plus the neutral response, the density in the field holds 176 e."""
    assert slab.calc.get_property("model_electrons", slab) == pytest.approx(VALENCE_ELECTRONS, rel=0.005)
    assert slab.calc.get_property("electrons", slab) == pytest.approx(VALENCE_ELECTRONS, abs=1e-3)
    assert slab.calc.get_property("charges", slab).sum() == pytest.approx(0.0, abs=0.01)  # Bader leaves out vacuum


def test_the_field_changes_the_lower_half_bader_charges_by_what_it_moved_off_that_face(slab):
    """Σ over the lower half of q(ε) − q(0) is −∫Δn below the middle plane (the lower face's induced electrons)."""
    in_field = slab.calc.get_property("charges", slab)
    lower_face_electrons = slab.calc.get_property("face_charges", slab)[0]
    zero = slab.copy()
    zero.calc = EChemCalculator(density_model="au100-density", spacing=0.15)
    in_zero_field = zero.calc.get_property("charges", zero)
    height = slab.positions[:, 2]
    lower = height < height.mean()
    assert (in_field - in_zero_field)[lower].sum() == pytest.approx(-lower_face_electrons, abs=0.01)
