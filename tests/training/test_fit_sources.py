"""`echemml fit` picks from a candidate store what the model learns, and only the names asked for."""

from __future__ import annotations

import torch

from echemml.io.candidates import CandidateStore, candidates_from_grid
from echemml.model import build_model, preset_config
from echemml.training.config import FitSettings
from echemml.training.fit import sample_with_model


def test_fit_samples_the_matching_names_and_targets_only(cp2k_water, tmp_path):
    store_path = tmp_path / "labels.h5"
    response = cp2k_water.with_values(cp2k_water.values * 1e-3)
    with CandidateStore(store_path, "a") as store:
        for name, grid, target in (("train_a", cp2k_water, "density"), ("test_b", cp2k_water, "density"),
                                   ("train_c", response, "response")):
            store.add(candidates_from_grid(name, grid, n_random=50, n_ts=50, target=target))
    settings = FitSettings(candidates=str(store_path), names=["train_*"],
                           sampler={"method": "ts", "n_points": 20, "ts_sigma": 30.0})
    torch.manual_seed(0)
    density_model = build_model(preset_config("qm9", [1, 8]), "density")
    response_model = build_model(preset_config("qm9", [1, 8]), "response")
    (density,) = sample_with_model(settings, density_model)
    (delta,) = sample_with_model(settings, response_model)
    assert density.provenance["source"] == "train_a" and density.target == "density"
    assert delta.provenance["source"] == "train_c" and delta.target == "response"
