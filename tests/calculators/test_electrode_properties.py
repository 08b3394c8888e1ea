"""A slab's electrode numbers through EChemCalculator: the shipped au100-response, per frame, as echemml response gives them."""

from __future__ import annotations

from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.calculators.emt import EMT

from echemml.calculators import EChemCalculator
from echemml.errors import EchemmlError
from echemml.units import EPSILON_0

SLAB = Path(__file__).resolve().parents[2] / "data" / "au100" / "structures_mt" / "test_L4_0.xyz"  # held out


@pytest.fixture(scope="module")
def slab():
    atoms = ase.io.read(SLAB)
    atoms.calc = EChemCalculator(potential=EMT(), response_model="au100-response", spacing=0.3)
    return atoms


def face_area(atoms) -> float:
    return float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))


def test_the_induced_charge_obeys_gausss_law(slab):
    """σ = ε0·E on each face: 0.184 e on this 2×2 cell at 1 V/Å (CP2K gave 0.1798 e, data/README.md)."""
    slab.calc.set(field=(0.0, 0.0, -1.0))
    transfer = slab.calc.get_property("charge_transfer", slab)
    assert transfer == pytest.approx(EPSILON_0 * 1.0 * face_area(slab), rel=0.05)
    assert slab.calc.get_property("surface_charge", slab) == pytest.approx(transfer / face_area(slab))
    assert slab.info["charge_transfer"] == pytest.approx(transfer)


def test_reversing_the_field_reverses_the_charge_on_the_faces(slab):
    slab.calc.set(field=(0.0, 0.0, -1.0))
    down = slab.calc.get_property("face_charges", slab)
    slab.calc.set(field=(0.0, 0.0, 1.0))
    up = slab.calc.get_property("face_charges", slab)
    assert down[0] == pytest.approx(-down[1], abs=1e-6)  # neutralised: what one face gains the other loses
    np.testing.assert_allclose(up, -down, rtol=0.05)


def test_the_esp_slope_inside_the_metal_screens_the_field(slab):
    """Inside a metal the induced charge cancels the applied potential −E_z·z: the response ESP rises as +E_z·z."""
    slab.calc.set(field=(0.0, 0.0, -1.0))
    assert slab.calc.get_property("esp_slope", slab) == pytest.approx(-1.0, abs=0.05)


def test_a_committee_gives_the_spread_of_its_members_transfers(slab):
    """au100-response is four members: their transfers' standard deviation comes with the mean (≈ 1 % of it here)."""
    slab.calc.set(field=(0.0, 0.0, -1.0), potential_drop=None)
    spread = slab.calc.get_property("charge_transfer_std", slab)
    assert 0.0 < spread < 0.05 * slab.calc.get_property("charge_transfer", slab)


def test_moved_atoms_get_their_own_electrode_numbers(slab):
    """The cache belongs to one configuration: after the atoms move, the numbers are those of the new positions."""
    slab.calc.set(field=(0.0, 0.0, -1.0), potential_drop=None)
    slab.calc.get_property("charge_transfer", slab)
    moved = slab.copy()
    moved.rattle(0.1, seed=3)
    moved.calc = slab.calc
    fresh = EChemCalculator(response_model="au100-response", spacing=0.3, field=(0.0, 0.0, -1.0))
    assert slab.calc.get_property("charge_transfer", moved) == fresh.get_property("charge_transfer", moved)
    assert slab.calc.get_property("charge_transfer", moved) != slab.calc.get_property("charge_transfer", slab)


def test_the_energy_still_comes_from_the_potential(slab):
    slab.calc.set(field=(0.0, 0.0, -1.0))
    reference = slab.copy()
    reference.calc = EMT()
    assert slab.get_potential_energy() == pytest.approx(reference.get_potential_energy())


def test_a_molecule_has_no_electrode_numbers():
    from ase.build import molecule

    atoms = molecule("H2O")
    atoms.calc = EChemCalculator(response_model="au100-response", spacing=0.3)
    with pytest.raises(EchemmlError, match="need a slab"):
        atoms.calc.get_property("charge_transfer", atoms)


def test_a_potential_drop_finds_the_field_that_gives_it(slab):
    """Constant potential: the drop the slab has at −1 V/Å, asked for, gives back −1 V/Å and that drop."""
    slab.calc.set(field=(0.0, 0.0, -1.0), potential_drop=None)
    drop = slab.calc.get_property("esp_drop", slab)
    transfer = slab.calc.get_property("charge_transfer", slab)
    slab.calc.set(potential_drop=drop)
    field = slab.calc.get_property("field", slab)
    np.testing.assert_allclose(field, [0.0, 0.0, -1.0], atol=0.01)
    assert slab.calc.get_property("esp_drop", slab) == pytest.approx(drop, rel=1e-3)
    assert slab.calc.get_property("charge_transfer", slab) == pytest.approx(transfer, rel=0.01)
    assert slab.info["field"] == pytest.approx(field)


def test_a_new_potential_drop_is_solved_again(slab):
    slab.calc.set(field=(0.0, 0.0, 0.0), potential_drop=0.5)
    half = slab.calc.get_property("field", slab)
    slab.calc.set(potential_drop=1.0)
    np.testing.assert_allclose(slab.calc.get_property("field", slab), 2 * half, rtol=0.01)
    slab.calc.set(potential_drop=None)


def test_a_nearby_frame_at_the_same_drop_costs_one_prediction(slab, monkeypatch):
    """Along MD the field per volt of the last frame is a trial already within tolerance: one Δn per frame."""
    import echemml.workflows

    slab.calc.set(field=(0.0, 0.0, 0.0), potential_drop=-9.0)
    slab.calc.get_property("field", slab)
    calls = []
    numbers = echemml.workflows.slab_response_of_members
    monkeypatch.setattr(echemml.workflows, "slab_response_of_members",
                        lambda *a, **k: calls.append(1) or numbers(*a, **k))
    moved = slab.copy()
    moved.positions[:, 2] += 0.01  # the whole slab shifted: the same drop at the same field
    moved.calc = slab.calc
    assert slab.calc.get_property("esp_drop", moved) == pytest.approx(-9.0, rel=1e-3)
    assert len(calls) == 1
    slab.calc.set(potential_drop=None)


def test_a_potential_drop_without_a_response_model_is_refused():
    with pytest.raises(EchemmlError, match="needs a response model"):
        EChemCalculator(potential=EMT(), potential_drop=1.0)
    calculator = EChemCalculator(potential=EMT())
    with pytest.raises(EchemmlError, match="needs a response model"):
        calculator.set(potential_drop=1.0)
