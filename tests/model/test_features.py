"""FI-EAD features against a literal transcription of the paper's formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from echemml.model import PRESETS, feature_count, preset_config
from echemml.model.features import (
    FieldAwareDensityFeatures,
    cartesian_components,
    cosine_cutoff,
    multinomial_weight,
)


def test_table1_feature_counts():
    assert feature_count(8, 2) == 108
    assert feature_count(12, 2) == 234
    assert preset_config("qm9", [1, 6, 7, 8, 9]).n_features == 108
    assert preset_config("au-response", [79]).n_features == 234
    assert set(PRESETS) >= {"qm9", "au-response"}


def test_cartesian_components_and_weights():
    components = cartesian_components(2)
    assert len(components) == 10
    # Σ over the components of l of the multinomial weights is 3^l
    for l in range(3):
        assert sum(multinomial_weight(c) for c in components if sum(c) == l) == 3**l


def test_cutoff_function_is_smooth_at_rc():
    r = torch.tensor([0.0, 2.0, 3.999999, 4.0, 5.0], dtype=torch.float64, requires_grad=True)
    value = cosine_cutoff(r, 4.0)
    assert value[0] == 1.0 and value[3] == 0.0 and value[4] == 0.0
    (grad,) = torch.autograd.grad(value.sum(), r)
    assert abs(float(grad[2])) < 1e-9 and float(grad[3]) == 0.0


def _literal_features(feats: FieldAwareDensityFeatures, stage, vectors, species, coefficients, field):
    """ρ^m = Σ_l Σ_{lx+ly+lz=l} l!/(lx!ly!lz!) [Σ_k d^m_lk (c_ε,k ε^.. + Σ_j c_jk φ^k(r_j))]²."""
    rs = feats.radial_centers.detach().numpy()
    sigma = feats.radial_widths.detach().numpy()
    d = feats.contraction[stage].detach().numpy()
    c_field = feats.field_coefficients[stage].detach().numpy()
    rc = feats.cutoff
    rho = np.zeros(feats.n_features)
    for (lx, ly, lz) in cartesian_components(feats.max_l):
        l = lx + ly + lz
        inner = np.zeros(feats.n_features)
        for k in range(feats.n_radial):
            term = c_field[k] * field[0] ** lx * field[1] ** ly * field[2] ** lz
            for v, s, c in zip(vectors, species, coefficients):
                r = np.linalg.norm(v)
                u = v / r
                fc = (0.5 * math.cos(math.pi * r / rc) + 0.5) ** 2 if r < rc else 0.0
                gauss = math.exp(-((r - rs[s, k]) ** 2) / (2 * sigma[s, k] ** 2))
                term += c[k] * u[0] ** lx * u[1] ** ly * u[2] ** lz * gauss * fc
            inner += d[l, k] * term
        rho += multinomial_weight((lx, ly, lz)) * inner**2
    return rho


@pytest.fixture
def features():
    torch.manual_seed(0)
    feats = FieldAwareDensityFeatures(n_species=2, n_radial=5, max_l=2, cutoff=4.0, n_stages=2).double()
    with torch.no_grad():
        feats.field_coefficients.normal_()
        feats.radial_centers.add_(0.1 * torch.randn_like(feats.radial_centers))
    return feats


def test_features_match_the_formula(features):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 3)) * 1.6
    species = rng.integers(0, 2, size=6)
    coefficients = rng.normal(size=(6, 5))
    field = np.array([0.2, -0.1, 0.4])
    sums = features.neighbour_sums(
        1, torch.tensor(vectors), torch.zeros(6, dtype=torch.long), 1,
        torch.tensor(species), torch.tensor(coefficients), torch.tensor(field)[None],
    )
    got = features.contract(1, sums)[0].detach().numpy()
    np.testing.assert_allclose(got, _literal_features(features, 1, vectors, species, coefficients, field), rtol=1e-10)


def test_gram_form_equals_contraction(features):
    sums = torch.randn(7, 10, 5, dtype=torch.float64)
    direct = features.contract(0, sums)
    via_gram = features.gram_terms(sums) @ features.quadratic_form(0).reshape(-1, features.n_features)
    torch.testing.assert_close(via_gram, direct)


def test_zero_field_terms(features):
    """At ε = 0 the field term is c_ε in the l = 0 component and exactly zero for l ≥ 1."""
    term = features.field_term(1, torch.zeros(1, 3, dtype=torch.float64))[0]
    degree = features.angular.degree
    assert torch.all(term[degree >= 1] == 0.0)
    torch.testing.assert_close(term[degree == 0][0], features.field_coefficients[1])
    # and for any other field the l = 0 term is the same constant
    other = features.field_term(1, torch.tensor([[0.3, -0.7, 1.1]], dtype=torch.float64))[0]
    torch.testing.assert_close(other[degree == 0][0], features.field_coefficients[1])
    assert torch.any(other[degree >= 1] != 0.0)
