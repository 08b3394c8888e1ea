"""Grid-point sampling: TS favours high density, LIFS keeps linearly independent features."""

from __future__ import annotations

import numpy as np
import pytest

from echemml.sampling import lifs_select, random_sampling, targeted_log_weights, targeted_sampling


@pytest.fixture(scope="module")
def water_density(cp2k_water):
    return cp2k_water.values.reshape(-1)


def test_random_sampling_draws_distinct_points_reproducibly():
    first = random_sampling(10_000, 500, seed=3)
    assert len(np.unique(first)) == 500
    np.testing.assert_array_equal(first, random_sampling(10_000, 500, seed=3))


def test_random_sampling_respects_exclusions():
    drawn = random_sampling(100, 90, seed=1, exclude=np.arange(20))
    assert drawn.min() >= 20 and len(drawn) == 80


def test_ts_weight_is_eq5():
    # n = 0.05 e/Å³, σ = 30 Å³/e: exp(−(1/0.05)² / (2·30²)) = exp(−400/1800)
    assert np.exp(targeted_log_weights(np.array([0.05]), 30.0))[0] == pytest.approx(np.exp(-400 / 1800))
    assert targeted_log_weights(np.array([0.0, -1e-3]), 30.0).tolist() == [-np.inf, -np.inf]


def test_ts_is_seeded(water_density):
    np.testing.assert_array_equal(
        targeted_sampling(water_density, 1000, sigma=30, seed=7),
        targeted_sampling(water_density, 1000, sigma=30, seed=7),
    )


def test_ts_never_draws_non_positive_density_in_its_targeted_part():
    rng = np.random.default_rng(0)
    density = rng.normal(0.0, 0.1, size=20_000)  # half the points negative
    drawn = targeted_sampling(density, 3000, sigma=30, seed=0)
    assert len(drawn) == 3000 and np.all(density[drawn] > 0)


def test_ts_mean_density_rises_as_sigma_falls(water_density):
    means = [water_density[targeted_sampling(water_density, 1000, sigma=s, seed=0)].mean() for s in (300, 30, 3)]
    assert means[0] < means[1] < means[2]
    assert means[-1] > 5 * water_density.mean()


def test_ts_uniform_share_reaches_the_vacuum(water_density):
    drawn = targeted_sampling(water_density, 1000, sigma=3, uniform_fraction=0.3, seed=0)
    assert len(drawn) == 1000 and len(np.unique(drawn)) == 1000
    assert np.sum(water_density[drawn] < 1e-3) > 100


def test_ts_returns_all_positive_points_when_asked_for_more():
    density = np.array([0.0, 0.2, -0.1, 0.3, 0.0])
    assert targeted_sampling(density, 10, sigma=30).tolist() == [1, 3]


def low_rank_vectors(rank, n=300, dim=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, rank)) @ rng.normal(size=(rank, dim))


@pytest.mark.parametrize("rank", [1, 5, 17, 40])
def test_lifs_accepts_exactly_the_rank(rank):
    result = lifs_select(low_rank_vectors(rank), threshold=1e-6, seed=0)
    assert len(result.accepted) == rank
    assert np.linalg.matrix_rank(low_rank_vectors(rank)[result.accepted]) == rank


def test_lifs_residuals_agree_with_numpy_lstsq():
    vectors = np.random.default_rng(2).normal(size=(60, 25))
    result = lifs_select(vectors, threshold=0.6, seed=4)
    accepted_before: list[int] = []
    for k in result.order:
        vector = vectors[k]
        if accepted_before:
            basis = vectors[accepted_before].T
            gamma = np.linalg.lstsq(basis, vector, rcond=None)[0]
            expected = np.linalg.norm(vector - basis @ gamma) / np.linalg.norm(vector)
        else:
            expected = 1.0
        assert result.residuals[k] == pytest.approx(expected, abs=1e-10)
        if k in result.accepted:
            accepted_before.append(k)


def test_lifs_is_seeded_and_threshold_controls_count():
    vectors = np.random.default_rng(5).normal(size=(200, 30))
    strict, loose = lifs_select(vectors, 0.9, seed=1), lifs_select(vectors, 0.2, seed=1)
    np.testing.assert_array_equal(strict.accepted, lifs_select(vectors, 0.9, seed=1).accepted)
    assert len(strict.accepted) < len(loose.accepted) <= 30


def test_lifs_with_a_full_basis_accepts_nothing_new():
    vectors = low_rank_vectors(6)
    first = lifs_select(vectors, 1e-6, seed=0)
    again = lifs_select(vectors, 1e-6, seed=1, basis=first.basis)
    assert len(again.accepted) == 0 and again.residuals.max() < 1e-8
