"""A density or response committee's spread scores a frame and can select it (DP-GEN's committee signal on the grid).

The tiny slab run of tests/protocols/slab_learning.py with the shipped four-member
``au100-response``: its members' spread at the frame's ghost points, Σ|σ| / Σ|mean| in %.
"""

from __future__ import annotations

import pytest
from tests.protocols.slab_learning import write_slab_settings

from echemml.cli import main
from echemml.errors import InputFileError
from echemml.protocols import ActiveLearning, load_settings


def test_a_response_committee_scores_each_frame_with_its_spread(tmp_path):
    config = write_slab_settings(tmp_path, {"engine": "cp2k"}, models={"response": "au100-response"},
                                 selection={"signal": "response_committee", "lo": 1.0, "hi": 50.0})
    run = ActiveLearning(load_settings(config), tmp_path / "run", progress_bar=False, echo=lambda line: None)
    scores = run.score(run.atoms, step=5)
    assert 0.0 < scores["response_deviation"] < 50.0  # % of the mean |Δn|: the members disagree, not wildly
    assert scores["response_deviation"] == run.score(run.atoms, step=5)["response_deviation"]  # seeded points
    assert "density_deviation" not in scores  # au100-density is a single model


def test_a_committee_signal_needs_a_committee(tmp_path, capsys):
    config = write_slab_settings(tmp_path, {"engine": "cp2k"}, selection={"signal": "response_committee"})
    assert main(["learn", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "needs a response committee" in capsys.readouterr().err


@pytest.mark.parametrize("signal", ["density_committee", "response_committee", "committee"])
def test_every_committee_signal_is_a_known_setting(tmp_path, signal):
    config = write_slab_settings(tmp_path, {"engine": "cp2k"}, selection={"signal": signal})
    if signal == "committee":  # EMT drives the MD: no energy committee to ask
        with pytest.raises(InputFileError, match="needs an echemml energy committee"):
            load_settings(config)
    else:
        assert load_settings(config).selection.signal == signal
