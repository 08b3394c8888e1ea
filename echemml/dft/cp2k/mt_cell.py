"""The Martyna–Tuckerman Poisson solver's cell condition: a cell at least twice as long as the density.

CP2K's MT solver (CP2K manual, &POISSON &MT) is exact only when the cell is at
least twice as long as the charge density along each non-periodic axis: a ratio
below 2 means the electrostatics, and so a field response, carry an artefact.
"""

from __future__ import annotations

import warnings

import numpy as np

from ...grid import DensityGrid
from .inputs import AXES

MT_VACUUM_LINE_DENSITY = 1e-3  # planes whose line density is below this fraction of the peak count as vacuum
MT_MIN_RATIO = 2.0  # cell length over density extent the MT solver needs


def mt_cell_ratio(grid: DensityGrid, axis: int) -> float:
    """Cell length along a non-periodic grid ``axis`` over the extent of the density (Å/Å) along it.

    The extent spans the planes whose line density exceeds
    ``MT_VACUUM_LINE_DENSITY`` of its peak.
    """
    positions, line_density = grid.planar_average(axis)
    spacing = positions[1] - positions[0]
    dense = np.flatnonzero(line_density > MT_VACUUM_LINE_DENSITY * line_density.max())
    extent = (dense[-1] - dense[0] + 1) * spacing
    return len(positions) * spacing / extent


def short_mt_axes(grid: DensityGrid, periodic: str) -> dict[int, float]:
    """The non-periodic axes (not in ``periodic``, e.g. "XY") whose cell is under 2× the density, with their ratios."""
    ratios = {axis: mt_cell_ratio(grid, axis) for axis in range(3) if AXES[axis] not in periodic.upper()}
    return {axis: ratio for axis, ratio in ratios.items() if ratio < MT_MIN_RATIO}


def mt_cell_message(axis: int, ratio: float) -> str:
    """What is wrong with a short cell along ``axis`` and how to fix it."""
    return (
        f"CP2K MT Poisson solver: the cell along {AXES[axis].lower()} is {ratio:.2f}× the extent of the "
        f"density, less than the {MT_MIN_RATIO:g}× the solver needs to be exact; add vacuum along that axis"
    )


def warn_if_mt_cell_is_short(grid: DensityGrid, periodic: str) -> None:
    """Warn (once per axis) when a non-periodic axis is shorter than twice the density's extent."""
    for axis, ratio in short_mt_axes(grid, periodic).items():
        warnings.warn(mt_cell_message(axis, ratio), stacklevel=3)
