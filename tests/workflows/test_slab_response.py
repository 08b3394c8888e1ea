"""A slab's predicted response: Fig. 6 numbers from the (committee-mean) Δn, and the committee members' spread."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.model.fireann_model_checks import gold_slab, randomized, small_config

from echemml.analysis.balance import neutralize_response
from echemml.analysis.electrostatics import slab_response
from echemml.cli import main
from echemml.grid import DensityGrid
from echemml.model import CommitteeModel, build_model, predict_grid, save_model
from echemml.workflows import predict_slab_response

FIELD_Z = (0.0, 0.0, -0.5)  # V/Å


def slab_grid() -> DensityGrid:
    return DensityGrid(gold_slab(), np.zeros((6, 6, 40), dtype=np.float32))


def response_members(seeds=(1, 2, 3)):
    return [randomized(build_model(small_config(), "response"), seed=seed) for seed in seeds]


def test_single_model_numbers_are_those_of_its_neutralised_grid():
    model, grid = response_members(seeds=(1,))[0], slab_grid()
    prediction = predict_slab_response(model, grid, FIELD_Z)
    raw = predict_grid(model, grid, field=FIELD_Z)
    expected = slab_response(neutralize_response(raw)[0])
    assert prediction.numbers.transfer_e == pytest.approx(expected.transfer_e, rel=1e-6)
    assert prediction.predicted_net_e == pytest.approx(raw.integral(), rel=1e-6)
    assert abs(prediction.response.integral()) < 1e-3 * abs(prediction.predicted_net_e)  # float32 round-off
    assert prediction.committee_spread() is None


def test_committee_numbers_come_from_the_members_mean():
    trio, grid = response_members(), slab_grid()
    prediction = predict_slab_response(CommitteeModel(trio), grid, FIELD_Z)
    mean = predict_grid(CommitteeModel(trio), grid, field=FIELD_Z)
    np.testing.assert_allclose(prediction.response.values, neutralize_response(mean)[0].values, rtol=1e-5, atol=1e-6)
    assert prediction.predicted_net_e == pytest.approx(mean.integral(), rel=1e-5)


def test_committee_spread_lists_each_members_own_transfer():
    trio, grid = response_members(), slab_grid()
    spread = predict_slab_response(CommitteeModel(trio), grid, FIELD_Z).committee_spread()
    alone = [predict_slab_response(member, grid, FIELD_Z).numbers.transfer_e for member in trio]
    assert spread["members"] == 3
    np.testing.assert_allclose(spread["transfer_e"], alone, rtol=1e-6)
    assert spread["transfer_e_std"] == pytest.approx(np.std(alone), rel=1e-6) and spread["transfer_e_std"] > 0


def test_without_neutralising_the_net_charge_stays():
    model, grid = response_members(seeds=(4,))[0], slab_grid()
    prediction = predict_slab_response(model, grid, FIELD_Z, neutralize=False)
    assert prediction.response.integral() == pytest.approx(prediction.predicted_net_e, rel=1e-6)
    assert abs(prediction.predicted_net_e) > 1e-6  # a random model is not neutral


def test_cli_json_reports_the_committee_spread(tmp_path, capsys):
    path = tmp_path / "committee.pt"
    save_model(CommitteeModel(response_members(seeds=(5, 6))), path)
    slab = tmp_path / "slab.xyz"
    gold_slab().write(slab)
    assert main(["response", str(path), str(slab), "--field", *map(str, FIELD_Z), "--spacing", "0.3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    spread = result["committee"]
    assert spread["members"] == 2 and len(spread["transfer_e"]) == 2
    assert spread["transfer_e_std"] == pytest.approx(abs(spread["transfer_e"][0] - spread["transfer_e"][1]) / 2)
