"""Profiles of a density: planar averages, line scans and 2D integrated maps.

- :func:`planar_profile`: λ(z) = ∬ n dA along a grid axis (e/Å).
- :func:`line_scan`: n along a straight segment between two points or atoms (e/Å³),
  the paper's Fig. 4.
- :func:`integrated_map`: ∫ n dz along one axis, a 2D map in e/Å² (Fig. 5).
"""

from __future__ import annotations

import numpy as np

from ..grid import DensityGrid


def planar_profile(grid: DensityGrid, axis: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(z in Å, λ(z) in e/Å) along grid axis ``axis``; ``λ.sum()·dz`` is the electron count."""
    return grid.planar_average(axis)


def _endpoint(grid: DensityGrid, point: int | np.ndarray) -> np.ndarray:
    if np.ndim(point) == 0:
        return grid.atoms.positions[int(point)].copy()
    return np.asarray(point, dtype=float).reshape(3)


def line_scan(
    grid: DensityGrid, start: int | np.ndarray, end: int | np.ndarray, n_points: int = 200, extend: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Density along the segment from ``start`` to ``end`` (Cartesian Å or atom indices).

    ``extend`` lengthens the segment by that many Å beyond each end. Returns the
    distance from the (extended) start in Å and n in e/Å³ (trilinear interpolation).
    """
    a, b = _endpoint(grid, start), _endpoint(grid, end)
    direction = b - a
    length = float(np.linalg.norm(direction))
    if length == 0.0:
        raise ValueError("line scan needs two different end points")
    unit = direction / length
    distance = np.linspace(0.0, length + 2 * extend, n_points)
    points = a - extend * unit + distance[:, None] * unit
    return distance, grid.interpolate(points)


def integrated_map(grid: DensityGrid, axis: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Density integrated along ``axis``: a 2D map in e/Å² over the other two axes.

    Returns (u, v, map): u and v are the coordinates (Å) along the two remaining
    voxel vectors' directions, map has shape (len(u), len(v)). Its sum times the
    in-plane voxel area is the electron count.
    """
    others = [a for a in range(3) if a != axis]
    in_plane_area = float(np.linalg.norm(np.cross(grid.voxel[others[0]], grid.voxel[others[1]])))
    column = grid.values.sum(axis=axis) * grid.voxel_volume / in_plane_area
    u = grid.origin @ _unit(grid.voxel[others[0]]) + np.arange(grid.shape[others[0]]) * grid.spacing[others[0]]
    v = grid.origin @ _unit(grid.voxel[others[1]]) + np.arange(grid.shape[others[1]]) * grid.spacing[others[1]]
    return u, v, column


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)
