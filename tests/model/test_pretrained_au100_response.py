"""The shipped au100-response model: a neutral Δn, odd in the field, and CP2K's charge transfer.

Reference: the CP2K fixture slab (tests/data/cp2k_au100, an unrattled 2×2×3 Au(100)
slab with 8 Å of vacuum, a geometry training never saw: the training slabs are rattled
and have the MT-safe vacuum of data/au100/structures_mt) moves 0.1925 e across its middle plane in
E_z = −1 V/Å (tests/analysis/test_cp2k_au_response.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from echemml import read_density
from echemml.analysis.balance import neutralize_response
from echemml.analysis.electrostatics import slab_response
from echemml.io.candidates import CandidateStore
from echemml.model import load_model, predict_grid
from echemml.training.config import load_config
from echemml.training.fit import store_candidates
from tests.conftest import DATA

REPOSITORY = Path(__file__).parents[2]

CP2K_TRANSFER_E = 0.1925  # e, CP2K at E_z = −1 V/Å on the fixture slab


@pytest.fixture(scope="module")
def model():
    return load_model("au100-response")


@pytest.fixture(scope="module")
def fixture_grid():
    return read_density(DATA / "cp2k_au100" / "au100_field0.cube.gz")


@pytest.fixture(scope="module")
def responses(model, fixture_grid):
    return {sign: predict_grid(model, fixture_grid, field=[0.0, 0.0, sign]) for sign in (-1.0, 1.0)}


def test_raw_response_nets_little_charge(responses):
    """Before any correction the model's Δn nets under 10 % of the charge it moves."""
    for response in responses.values():
        assert abs(response.integral()) < 0.1 * CP2K_TRANSFER_E


def test_neutralized_response_integrates_to_zero(responses):
    balanced, correction = neutralize_response(responses[-1.0])
    assert balanced.integral() == pytest.approx(0.0, abs=1e-6)
    assert correction.shift_e == pytest.approx(responses[-1.0].integral())


def test_reversing_the_field_reverses_the_charge_transfer(responses):
    down, up = (slab_response(responses[sign]) for sign in (-1.0, 1.0))
    assert down.right_e > 0 > down.left_e
    assert up.left_e > 0 > up.right_e
    assert up.transfer_e == pytest.approx(down.transfer_e, rel=0.05)


def test_charge_transfer_matches_cp2k_on_an_unseen_slab(responses):
    numbers = slab_response(neutralize_response(responses[-1.0])[0])
    assert numbers.transfer_e == pytest.approx(CP2K_TRANSFER_E, rel=0.05)
    assert np.isfinite(numbers.esp_slope_inside_V_per_A)


def test_training_recipe_selects_the_release_slabs():
    """data/au100/fit_response.yaml picks the 35 slabs × 2 fields the shipped members trained on
    (3, 4, 5, 6 and 8 layers), however many slabs the store gains later (its card lists them)."""
    fit = load_config(REPOSITORY / "data" / "au100" / "fit_response.yaml").fit
    with CandidateStore(REPOSITORY / fit.candidates) as store:
        chosen = [candidates.name for candidates in store_candidates(store, fit.names, "response")]
    assert len(chosen) == 70
    assert {name.rsplit("_", 2)[0] for name in chosen} == {"train_L3", "train_L4", "train_L5", "train_L6", "train_L8"}
