"""The shipped H5O2+ models through the calculator, checked against the committed PySCF labels."""

from __future__ import annotations

from pathlib import Path

import ase.io
import numpy as np
import pytest

from echemml.calculators import EChemCalculator
from echemml.model import load_model
from echemml.training.energy_evaluation import evaluate_energy

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT = ROOT / "data" / "h5o2" / "md_heldout_450K.extxyz.gz"  # PySCF labels of 92 frames never trained on
ZUNDEL = ROOT / "studies" / "h5o2" / "zundel.xyz"  # C2 geometry, O–O 2.4 Å, shared proton at the midpoint


def test_h5o2_energy_reproduces_pyscf_on_held_out_md_frames():
    """studies/h5o2: 1.48 meV/atom and 12.8 meV/Å on these frames; a broken or swapped model is far off."""
    report = evaluate_energy(load_model("h5o2-energy"), [HELD_OUT])
    assert report["frames"] == 92
    assert report["energy_mae_meV_per_atom"] < 2.5 and report["forces_mae_meV_per_A"] < 25
    assert report["energy_std_mean_meV_per_atom"] > 0  # a committee


def test_the_symmetric_zundel_ions_shared_proton_owns_a_third_of_an_electron():
    """Fig. 9: the outer H (bonded) have no basin (0 e), the shared proton between the O has about
    1/3 e (PySCF + baderkit along 2 ps at 300 K: 0.333 e on average); charges add up to +1."""
    pytest.importorskip("baderkit")
    atoms = ase.io.read(ZUNDEL)
    atoms.calc = EChemCalculator(potential="h5o2-energy", density_model="h5o2-density")
    electrons = 1.0 - atoms.calc.get_property("charges", atoms)[2:]
    assert electrons[0] == pytest.approx(0.33, abs=0.05)
    assert electrons[1:] == pytest.approx(np.zeros(4), abs=0.01)
    assert atoms.calc.get_property("charges", atoms).sum() == pytest.approx(1.0, abs=0.05)
