"""Error measures between a reference and a predicted density (numpy only).

- :func:`nmae`: normalised mean absolute error over a whole grid, in % (the
  paper's Eq. 7, as DeepDFT computes it): 100 · Σ|n_ref − n_pred| / Σ|n_ref|.
- :func:`rmse`: root-mean-square error, in the unit of the inputs (e/Å³).
- :func:`r2`: coefficient of determination 1 − Σ(n_ref − n_pred)² / Σ(n_ref − mean n_ref)².

Inputs of any shape are flattened; reference and prediction must have the same size.
"""

from __future__ import annotations

import numpy as np


def _pair(reference: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reference = np.asarray(reference, dtype=np.float64).reshape(-1)
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1)
    if reference.shape != predicted.shape:
        raise ValueError(f"reference has {reference.size} values, prediction {predicted.size}")
    if reference.size == 0:
        raise ValueError("no values to compare")
    return reference, predicted


def nmae(reference: np.ndarray, predicted: np.ndarray) -> float:
    """100 · Σ|n_ref − n_pred| / Σ|n_ref|, in % (inf when the reference is zero everywhere)."""
    reference, predicted = _pair(reference, predicted)
    scale = np.abs(reference).sum()
    error = np.abs(reference - predicted).sum()
    return float(100.0 * error / scale) if scale > 0 else (0.0 if error == 0 else float("inf"))


def rmse(reference: np.ndarray, predicted: np.ndarray) -> float:
    """√(mean (n_ref − n_pred)²), in the inputs' unit (e/Å³)."""
    reference, predicted = _pair(reference, predicted)
    return float(np.sqrt(np.mean((reference - predicted) ** 2)))


def r2(reference: np.ndarray, predicted: np.ndarray) -> float:
    """1 − Σ(n_ref − n_pred)² / Σ(n_ref − mean n_ref)² (nan for a constant reference)."""
    reference, predicted = _pair(reference, predicted)
    total = np.sum((reference - reference.mean()) ** 2)
    residual = np.sum((reference - predicted) ** 2)
    return float(1.0 - residual / total) if total > 0 else float("nan")
