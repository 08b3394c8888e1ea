"""Charge balance of predicted densities and responses.

A model's density need not integrate exactly to the valence electron count, nor
its response exactly to zero. These corrections are optional and report what
they changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..grid import DensityGrid


@dataclass
class BalanceCorrection:
    """What a charge-balance correction did.

    Attributes:
        electrons_before, electrons_after: integrals of the grid, e.
        factor: multiplicative factor applied (density), or None.
        shift_e: charge removed (response), e, or None.
    """

    electrons_before: float
    electrons_after: float
    factor: float | None = None
    shift_e: float | None = None


def rescale_to_electrons(grid: DensityGrid, n_electrons: float) -> tuple[DensityGrid, BalanceCorrection]:
    """Scale a density so that it integrates to ``n_electrons`` (e)."""
    before = grid.integral()
    if before <= 0:
        raise ValueError("cannot rescale a density that integrates to zero or less")
    factor = n_electrons / before
    balanced = grid.with_values(grid.values * factor)
    return balanced, BalanceCorrection(before, balanced.integral(), factor=factor)


def neutralize_response(grid: DensityGrid) -> tuple[DensityGrid, BalanceCorrection]:
    """Remove a response's net charge so that ∫Δn = 0.

    The excess is taken away in proportion to |Δn|, so regions where the model
    predicts no response (the vacuum far from the atoms) stay untouched.
    """
    before = grid.integral()
    weights = np.abs(grid.values)
    total_weight = weights.sum() * grid.voxel_volume
    if total_weight == 0:
        return grid.copy(), BalanceCorrection(before, before, shift_e=0.0)
    balanced = grid.with_values(grid.values - before * weights / total_weight)
    return balanced, BalanceCorrection(before, balanced.integral(), shift_e=before)
