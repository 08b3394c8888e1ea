"""Per-configuration sampling (random, TS, TS+LIFS) and its parallel fan-out."""

from __future__ import annotations

import concurrent.futures

import numpy as np
import pytest
import torch

from echemml.errors import EchemmlError
from echemml.io import write_density
from echemml.io.candidates import candidates_from_grid
from echemml.model import build_model, preset_config
from echemml.sampling.driver import (
    SamplerSettings,
    Source,
    sample_configurations,
    sample_source,
    sources_from_paths,
)
from tests.conftest import CP2K_WATER_CUBE, DATA

AU = DATA / "cp2k_au100"


@pytest.fixture(scope="module")
def water_model():
    torch.manual_seed(0)
    return build_model(preset_config("qm9", species=[1, 8]))


def test_ts_lifs_keeps_few_linearly_independent_points(water_model):
    settings = SamplerSettings(method="ts+lifs", ts_points=500, lifs_threshold=0.1)
    sampled = sample_source(Source(path=str(CP2K_WATER_CUBE)), settings, water_model)
    assert 5 <= len(sampled.targets) <= 108  # at most the 108 features can be independent
    assert np.all(sampled.targets > 0)
    assert sampled.provenance["sampler"]["candidates"] == 500
    assert len(sampled.provenance["source_sha256"]) == 64


def test_lower_lifs_threshold_keeps_more_points(water_model):
    counts = [
        len(sample_source(Source(path=str(CP2K_WATER_CUBE)),
                          SamplerSettings(ts_points=500, lifs_threshold=t), water_model).targets)
        for t in (0.3, 0.03)
    ]
    assert counts[0] < counts[1]


def test_sampled_targets_are_the_grid_values_at_the_points(cp2k_water):
    sampled = sample_source(Source(path=str(CP2K_WATER_CUBE)), SamplerSettings(method="ts", n_points=50))
    np.testing.assert_allclose(cp2k_water.interpolate(sampled.points), sampled.targets, rtol=1e-9)


def test_candidates_give_prefixes_of_the_stored_orders(cp2k_water):
    candidates = candidates_from_grid("water", cp2k_water, n_random=300, n_ts=300)
    sampled = sample_source(Source(candidates=candidates), SamplerSettings(method="random", n_points=40))
    np.testing.assert_array_equal(sampled.indices, candidates.random_order[:40])


def test_a_cube_with_valence_charges_gives_them_to_its_sample(cp2k_water, tmp_path):
    grid = cp2k_water.copy()
    grid.metadata["valence_charges"] = np.array([6.0, 1.0, 1.0])
    write_density(grid, tmp_path / "water.cube")
    sampled = sample_source(Source(path=str(tmp_path / "water.cube")), SamplerSettings(method="random", n_points=10))
    assert sampled.valence_charges.tolist() == [6.0, 1.0, 1.0]


def test_a_cube_without_valence_charges_gives_a_sample_without_them():
    sampled = sample_source(Source(path=str(CP2K_WATER_CUBE)), SamplerSettings(method="random", n_points=10))
    assert sampled.valence_charges is None


def test_candidates_with_valence_charges_give_them_to_their_sample(cp2k_water):
    candidates = candidates_from_grid("water", cp2k_water, n_random=300, n_ts=300,
                                      attrs={"valence_charges": np.array([6.0, 1.0, 1.0])})
    sampled = sample_source(Source(candidates=candidates), SamplerSettings(method="ts", n_points=40))
    assert sampled.valence_charges.tolist() == [6.0, 1.0, 1.0]


def test_response_pairs_sample_delta_n_by_its_magnitude():
    sources = sources_from_paths([AU / "au100_fieldm1.cube.gz"], [AU / "au100_field0.cube.gz"], field=(0, 0, -1))
    sampled = sample_source(sources[0], SamplerSettings(method="ts", n_points=300, ts_sigma=3000.0))
    assert sampled.target == "response" and sampled.field.tolist() == [0.0, 0.0, -1.0]
    assert np.any(sampled.targets < 0) and np.any(sampled.targets > 0)


def test_same_seed_same_sample(water_model):
    settings = SamplerSettings(ts_points=300, seed=5)
    first = sample_source(Source(path=str(CP2K_WATER_CUBE)), settings, water_model)
    second = sample_source(Source(path=str(CP2K_WATER_CUBE)), settings, water_model)
    np.testing.assert_array_equal(first.indices, second.indices)


def test_process_pool_gives_what_one_process_gives(water_model):
    sources = [Source(path=str(CP2K_WATER_CUBE)), *sources_from_paths([AU / "au100_field0.cube.gz"])]
    settings = SamplerSettings(method="ts", n_points=100)
    serial = {s.name: r.indices for s, r in sample_configurations(sources, settings, workers=1)}
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        parallel = {s.name: r.indices for s, r in sample_configurations(sources, settings, executor=pool)}
    assert serial.keys() == parallel.keys()
    for name in serial:
        np.testing.assert_array_equal(serial[name], parallel[name])


def test_dask_client_is_accepted_as_it_is(water_model):
    distributed = pytest.importorskip("dask.distributed")
    settings = SamplerSettings(ts_points=200)
    expected = sample_source(Source(path=str(CP2K_WATER_CUBE)), settings, water_model).indices
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            ((_, sampled),) = list(sample_configurations([Source(path=str(CP2K_WATER_CUBE))], settings,
                                                         water_model, executor=client))
    np.testing.assert_array_equal(sampled.indices, expected)


def test_ts_lifs_without_a_model_is_refused():
    with pytest.raises(ValueError, match="needs a model"):
        list(sample_configurations([Source(path=str(CP2K_WATER_CUBE))], SamplerSettings()))


def test_candidate_sampling_mixes_in_the_stored_uniform_draws(cp2k_water):
    grid = cp2k_water
    candidates = candidates_from_grid("g", grid, n_random=200, n_ts=200, ts_sigma=30.0, seed=1)
    settings = SamplerSettings(method="ts", n_points=100, ts_sigma=30.0, uniform_fraction=0.3)
    sampled = sample_source(Source(candidates=candidates), settings)
    uniform = set(candidates.random_order[:30].tolist())
    assert uniform <= set(sampled.indices.tolist())
    assert set(candidates.ts_order[:70].tolist()) <= set(sampled.indices.tolist())
    assert len(set(sampled.indices.tolist())) == len(sampled.indices)
    np.testing.assert_allclose(sampled.targets, grid.values.reshape(-1)[sampled.indices], rtol=1e-6)


def test_candidate_sampling_can_take_every_stored_point(cp2k_water):
    # 200 TS + 200 uniform candidates stored: a 50/50 mix of 400 takes all of both orders
    candidates = candidates_from_grid("g", cp2k_water, n_random=200, n_ts=200, ts_sigma=30.0, seed=1)
    settings = SamplerSettings(method="ts", n_points=400, ts_sigma=30.0, uniform_fraction=0.5)
    sampled = sample_source(Source(candidates=candidates), settings)
    stored = set(candidates.ts_order.tolist()) | set(candidates.random_order.tolist())
    assert set(sampled.indices.tolist()) == stored


def test_candidate_sampling_refuses_more_points_than_stored(cp2k_water):
    candidates = candidates_from_grid("g", cp2k_water, n_random=200, n_ts=200, ts_sigma=30.0, seed=1)
    settings = SamplerSettings(method="ts", n_points=400, ts_sigma=30.0, uniform_fraction=0.3)
    with pytest.raises(EchemmlError, match="280 ts and 120 uniform points asked for, 200 and 200 candidates stored"):
        sample_source(Source(candidates=candidates), settings)


def test_settings_refuse_a_keyword_the_method_ignores():
    # "ts" keeps n_points; a ts_points there would be silently ignored (it once cost a study 10× its points)
    with pytest.raises(ValueError, match="ts_points not used by method 'ts'"):
        SamplerSettings.from_keywords({"method": "ts", "ts_points": 1000})


def test_settings_from_keywords_default_to_ts_lifs():
    settings = SamplerSettings.from_keywords({"ts_points": 300, "lifs_threshold": 0.05})
    assert (settings.method, settings.ts_points, settings.lifs_threshold) == ("ts+lifs", 300, 0.05)
