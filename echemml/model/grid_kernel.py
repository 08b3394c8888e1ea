"""Compiled (numba) kernels for full-grid prediction: neighbour sums and Gram terms.

Full-grid prediction spends its time on tiny per-pair tensors (K radial × A
angular terms) that torch handles one operation at a time. These kernels fuse,
for a block of grid planes, everything from "which voxels does this atom image
reach" to the neighbour sums S[p, a, k] of every point — no pair list is ever
built — and then the Gram terms G[p, l, (k ≤ k')] = Σ_{a of degree l} S[p,a,k]
S[p,a,k'] that the fused readout reads (see
:class:`echemml.model.prediction.FusedGhostReadout`). They compute the same
numbers as :meth:`FieldAwareDensityFeatures.neighbour_sums` and ``gram_terms``
(tested), accumulating in float64.

Units: positions, cutoff and radial parameters in Å.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, parallel=True)
def _accumulate_sums(
    image_positions, image_atoms, atom_species, coefficients, centers, widths, cutoff,
    origin, voxel, inverse, half_width, i0, i1, ny, nz, exponents, sqrt_weights, sums, counts,
):  # pragma: no cover - compiled
    n_radial = coefficients.shape[1]
    n_angular = exponents.shape[0]
    n_images = image_positions.shape[0]
    cutoff2 = cutoff * cutoff
    plane = ny * nz
    # each atom image's box of voxels in grid-index space
    box = np.empty((n_images, 6), dtype=np.int64)
    for m in range(n_images):
        rel0 = image_positions[m, 0] - origin[0]
        rel1 = image_positions[m, 1] - origin[1]
        rel2 = image_positions[m, 2] - origin[2]
        for axis, limit in ((0, -1), (1, ny), (2, nz)):
            f = rel0 * inverse[0, axis] + rel1 * inverse[1, axis] + rel2 * inverse[2, axis]
            low = int(math.floor(f)) - half_width[axis]
            high = int(math.floor(f)) + half_width[axis] + 2
            if axis == 0:
                box[m, 0], box[m, 1] = max(low, i0), min(high, i1)
            else:
                box[m, 2 * axis], box[m, 2 * axis + 1] = max(low, 0), min(high, limit)
    # planes in parallel: each writes only its own points
    for i in numba.prange(i0, i1):
        radial = np.empty(n_radial)
        angular = np.empty(n_angular)
        for m in range(n_images):
            if i < box[m, 0] or i >= box[m, 1]:
                continue
            atom = image_atoms[m]
            species = atom_species[atom]
            x0 = image_positions[m, 0] - origin[0] - i * voxel[0, 0]
            y0 = image_positions[m, 1] - origin[1] - i * voxel[0, 1]
            z0 = image_positions[m, 2] - origin[2] - i * voxel[0, 2]
            for j in range(box[m, 2], box[m, 3]):
                x1 = x0 - j * voxel[1, 0]
                y1 = y0 - j * voxel[1, 1]
                z1 = z0 - j * voxel[1, 2]
                for k in range(box[m, 4], box[m, 5]):
                    x = x1 - k * voxel[2, 0]
                    y = y1 - k * voxel[2, 1]
                    z = z1 - k * voxel[2, 2]
                    d2 = x * x + y * y + z * z
                    if d2 >= cutoff2:
                        continue
                    distance = math.sqrt(max(d2, 1e-20))
                    scale = 1.0 / max(distance, 1e-6)
                    ux, uy, uz = x * scale, y * scale, z * scale
                    fc = 0.5 * math.cos(distance * (math.pi / cutoff)) + 0.5
                    fc = fc * fc
                    for r in range(n_radial):
                        delta = distance - centers[species, r]
                        width = widths[species, r]
                        radial[r] = math.exp(-(delta * delta) / (2.0 * width * width)) * fc * coefficients[atom, r]
                    for a in range(n_angular):
                        angular[a] = sqrt_weights[a] * (
                            ux ** exponents[a, 0] * uy ** exponents[a, 1] * uz ** exponents[a, 2]
                        )
                    p = (i - i0) * plane + j * nz + k
                    counts[p] += 1
                    for a in range(n_angular):
                        for r in range(n_radial):
                            sums[p, a, r] += angular[a] * radial[r]


@numba.njit(cache=True, parallel=True)
def _gram_terms(sums, points, degree_starts, pair_first, pair_second, out):  # pragma: no cover - compiled
    n_pairs = pair_first.shape[0]
    n_degrees = degree_starts.shape[0] - 1
    for q in numba.prange(points.shape[0]):
        p = points[q]
        for l in range(n_degrees):
            for t in range(n_pairs):
                value = 0.0
                for a in range(degree_starts[l], degree_starts[l + 1]):
                    value += sums[p, a, pair_first[t]] * sums[p, a, pair_second[t]]
                out[q, l * n_pairs + t] = value


def grid_neighbour_sums(
    image_positions: np.ndarray,
    image_atoms: np.ndarray,
    atom_species: np.ndarray,
    coefficients: np.ndarray,
    centers: np.ndarray,
    widths: np.ndarray,
    cutoff: float,
    origin: np.ndarray,
    voxel: np.ndarray,
    shape: tuple[int, int, int],
    planes: tuple[int, int],
    exponents: np.ndarray,
    sqrt_weights: np.ndarray,
    field_sums: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour sums S (P, A, K) and neighbour counts (P,) of the grid planes i0 ≤ i < i1.

    ``image_positions`` (m, 3) Å are atom images near the grid, ``image_atoms``
    their atom indices; ``atom_species`` (natoms,) species indices into
    ``centers``/``widths`` (n_species, K) Å; ``coefficients`` (natoms, K) the
    atoms' final c_j; ``exponents`` (A, 3) and ``sqrt_weights`` (A,) the angular
    terms; ``field_sums`` (A, K) the field term every point starts from.
    """
    i0, i1 = planes
    n_points = (i1 - i0) * shape[1] * shape[2]
    voxel = np.ascontiguousarray(voxel, dtype=np.float64)
    inverse = np.linalg.inv(voxel)
    half_width = np.ceil(cutoff * np.linalg.norm(inverse, axis=0)).astype(np.int64)
    sums = np.empty((n_points, len(sqrt_weights), coefficients.shape[1]), dtype=np.float64)
    sums[:] = field_sums
    counts = np.zeros(n_points, dtype=np.int32)
    _accumulate_sums(
        np.ascontiguousarray(image_positions, dtype=np.float64), np.asarray(image_atoms, dtype=np.int64),
        np.asarray(atom_species, dtype=np.int64), np.ascontiguousarray(coefficients, dtype=np.float64),
        np.ascontiguousarray(centers, dtype=np.float64), np.ascontiguousarray(widths, dtype=np.float64),
        float(cutoff), np.asarray(origin, dtype=np.float64), voxel, inverse, half_width,
        int(i0), int(i1), int(shape[1]), int(shape[2]),
        np.asarray(exponents, dtype=np.int64), np.asarray(sqrt_weights, dtype=np.float64), sums, counts,
    )
    return sums, counts


def gram_terms(sums: np.ndarray, points: np.ndarray, max_l: int, dtype: type = np.float32) -> np.ndarray:
    """G (len(points), (L+1)·K(K+1)/2) of the selected points, as ``gram_terms`` orders them."""
    n_radial = sums.shape[2]
    first, second = np.triu_indices(n_radial)
    degree_starts = np.array([l * (l + 1) * (l + 2) // 6 for l in range(max_l + 2)], dtype=np.int64)
    out = np.empty((len(points), (max_l + 1) * len(first)), dtype=dtype)
    _gram_terms(sums, np.asarray(points, dtype=np.int64), degree_starts, first.astype(np.int64),
                second.astype(np.int64), out)
    return out
