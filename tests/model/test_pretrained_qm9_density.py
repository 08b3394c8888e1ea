"""The shipped qm9-density model on a fresh install: the valence electron count of a QM9 molecule.

Reference: the model's card (echemml/pretrained/qm9-density.md) gives a mean |electron
error| of 0.11 % (max 0.43 %) on 50 held-out QM9 molecules; the target is 0.5 %.
Ethanol (C2H6O, QM9 index 15) has 2·4 + 6·1 + 6 = 20 valence electrons (GTH-PBE).
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import molecule

from echemml.cli import main
from echemml.io import read_density

ETHANOL_VALENCE_E = 20.0


@pytest.fixture(scope="module")
def predicted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qm9_density")
    molecule("CH3CH2OH").write(folder / "ethanol.xyz")
    assert main(["predict", "qm9-density", str(folder / "ethanol.xyz"), "-o", str(folder / "ethanol.cube")]) == 0
    return read_density(folder / "ethanol.cube")


def test_shipped_model_counts_the_valence_electrons(predicted):
    assert predicted.integral() == pytest.approx(ETHANOL_VALENCE_E, rel=0.005)


def test_shipped_model_density_is_nowhere_markedly_negative(predicted):
    assert np.min(predicted.values) > -1e-2 * np.max(predicted.values)
