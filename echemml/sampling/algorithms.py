"""Choosing the few grid points a model trains on: random, targeted (TS) and LIFS.

- :func:`random_sampling`: uniform draws without replacement.
- :func:`targeted_sampling`: the paper's Eq. 5 (Focassio et al. 2023): draw without
  replacement with probability ∝ exp(−(1/n)² / (2σ²)), n in e/Å³ and σ in Å³/e, so
  that high-density points are favoured and n ≤ 0 is never drawn by the targeted
  part; an optional uniform share covers the vacuum.
- :func:`lifs_select`: the paper's Eq. 6: keep a candidate only when its feature
  vector is not (nearly) a linear combination of those already kept, judged by the
  normalised least-squares residual against an incrementally built orthonormal basis.

All draws are seeded and reproducible; indices are flat (C-order) grid indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def random_sampling(
    n_total: int, n_points: int, seed: int | np.random.Generator | None = 0, exclude: np.ndarray | None = None
) -> np.ndarray:
    """``n_points`` distinct indices in [0, n_total), uniformly at random.

    ``exclude`` lists indices that must not be drawn. Returns fewer points only
    when fewer are available.
    """
    rng = _generator(seed)
    if exclude is None or len(exclude) == 0:
        count = min(n_points, n_total)
        return np.sort(rng.choice(n_total, size=count, replace=False))
    allowed = np.ones(n_total, dtype=bool)
    allowed[exclude] = False
    pool = np.flatnonzero(allowed)
    count = min(n_points, len(pool))
    return np.sort(rng.choice(pool, size=count, replace=False))


def targeted_log_weights(density: np.ndarray, sigma: float) -> np.ndarray:
    """log of the TS weight exp(−(1/n)²/(2σ²)) per point; −inf where n ≤ 0.

    ``density`` in e/Å³, ``sigma`` in Å³/e.
    """
    if sigma <= 0:
        raise ValueError("TS sigma must be positive (Å³/e)")
    density = np.asarray(density, dtype=np.float64).reshape(-1)
    log_weights = np.full(density.shape, -np.inf)
    positive = density > 0
    log_weights[positive] = -0.5 * (1.0 / (density[positive] * sigma)) ** 2
    return log_weights


def targeted_sampling(
    density: np.ndarray,
    n_points: int,
    sigma: float = 30.0,
    uniform_fraction: float = 0.0,
    seed: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """Targeted sampling (Eq. 5): flat indices of ``n_points`` grid points.

    Args:
        density: density values n (e/Å³), any shape; flattened in C order.
        n_points: points to draw in all.
        sigma: σ of Eq. 5, Å³/e (paper: 30 for QM9, 80 for H2O/Pt).
        uniform_fraction: share of the points drawn uniformly from the rest of the
            grid (any density, vacuum included) after the targeted draw.
        seed: seed or generator.

    The targeted part draws without replacement with probability ∝
    exp(−(1/n)²/(2σ²)) (Gumbel top-k, exact and O(N)); points with n ≤ 0 are never
    drawn by it. Returns sorted unique indices; fewer than ``n_points`` only when
    the grid has fewer positive points than asked for.
    """
    if not 0.0 <= uniform_fraction <= 1.0:
        raise ValueError("uniform_fraction must lie in [0, 1]")
    rng = _generator(seed)
    n_uniform = int(round(uniform_fraction * n_points))
    targeted = targeted_order(density, n_points - n_uniform, sigma, rng)
    uniform = random_sampling(np.size(density), n_uniform, rng, exclude=targeted) if n_uniform else []
    return np.sort(np.concatenate([targeted, uniform]).astype(np.int64))


def targeted_order(
    density: np.ndarray, n_points: int, sigma: float = 30.0, seed: int | np.random.Generator | None = 0
) -> np.ndarray:
    """The targeted part of :func:`targeted_sampling`, in draw order.

    Gumbel top-k: each point with n > 0 gets the key log w + Gumbel noise, and
    the ``n_points`` largest keys, in decreasing order, are a draw without
    replacement with probability ∝ w (Eq. 5). Any prefix of the result is
    therefore itself a TS sample of that size.
    """
    rng = _generator(seed)
    log_weights = targeted_log_weights(density, sigma)
    candidates = np.flatnonzero(np.isfinite(log_weights))
    keys = log_weights[candidates] + rng.gumbel(size=len(candidates))
    if 0 < n_points < len(candidates):
        top = np.argpartition(-keys, n_points - 1)[:n_points]
    else:
        top = np.arange(len(candidates))[: max(n_points, 0)]
    return candidates[top[np.argsort(-keys[top], kind="stable")]]


@dataclass
class LIFSResult:
    """Outcome of :func:`lifs_select`.

    Attributes:
        accepted: positions (into the candidate list) of the accepted candidates,
            in the order they were accepted.
        residuals: for every candidate, its normalised residual ε_k against the
            basis accepted before it was considered (1 for the first, 0 for a zero vector).
        order: the order in which candidates were considered.
        basis: orthonormal basis (rows) spanning the accepted feature vectors.
    """

    accepted: np.ndarray
    residuals: np.ndarray
    order: np.ndarray
    basis: np.ndarray


def lifs_select(
    features: np.ndarray,
    threshold: float,
    seed: int | np.random.Generator | None = 0,
    shuffle: bool = True,
    basis: np.ndarray | None = None,
) -> LIFSResult:
    """Linearly-independent-feature sampling (Eq. 6).

    Candidates are considered in random order (``shuffle``) or as given; the
    first is accepted, and each later candidate k only when

        ε_k = ‖ρ_k − Σ_i γ_i ρ_i‖ / ‖ρ_k‖ > threshold,

    the least-squares residual of its feature vector against those accepted so
    far. The fit uses an orthonormal basis grown by Gram–Schmidt with one
    re-orthogonalisation pass, so each test is O(kept × features).

    Args:
        features: (n_candidates, n_features) ghost-point feature vectors.
        threshold: residual above which a candidate is accepted (0 < threshold < 1).
        seed: seed or generator for the shuffle.
        shuffle: consider candidates in random order (else in the given order).
        basis: an existing orthonormal basis (rows) to start from, e.g. that of
            the training set when scoring novelty; None starts empty.
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError("features must be a 2D array (candidates × features)")
    n_candidates, n_features = features.shape
    order = _generator(seed).permutation(n_candidates) if shuffle else np.arange(n_candidates)
    kept = np.zeros((n_features, n_features))
    n_kept = 0
    if basis is not None and len(basis):
        n_kept = min(len(basis), n_features)
        kept[:n_kept] = basis[:n_kept]
    residuals = np.zeros(n_candidates)
    accepted = []
    for k in order:
        vector = features[k]
        norm = np.linalg.norm(vector)
        if norm == 0.0:
            continue
        residual = vector.copy()
        for _ in range(2):  # classical Gram–Schmidt, twice is enough
            q = kept[:n_kept]
            residual -= q.T @ (q @ residual)
        residual_norm = np.linalg.norm(residual)
        residuals[k] = residual_norm / norm
        if residuals[k] > threshold and n_kept < n_features:
            kept[n_kept] = residual / residual_norm
            n_kept += 1
            accepted.append(k)
    return LIFSResult(
        accepted=np.array(accepted, dtype=np.int64),
        residuals=residuals,
        order=order,
        basis=kept[:n_kept].copy(),
    )
