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

# Radial values below this are tabulated as 0. The tails of the Gaussians otherwise
# reach float32's subnormal range (< 1.2e-38) in the neighbour sums, where every
# arithmetic operation takes the CPU's slow path: full-grid prediction of the Au
# response model ran 5× slower in the sums (10.4 vs 2.0 s on one core, same values).
RADIAL_FLOOR = 1e-15


@numba.njit(cache=True, parallel=True, fastmath=True)
def _accumulate_sums(
    image_positions, image_atoms, atom_species, coefficients, state_groups, centers, widths, cutoff, table,
    table_step, origin, voxel, inverse, half_width, i0, i1, ny, nz, exponents, sqrt_weights, field_sums, sums,
    counts,
):  # pragma: no cover - compiled
    n_states = coefficients.shape[0]
    n_groups = centers.shape[0]
    n_angular = exponents.shape[0]
    n_terms = coefficients.shape[2]
    n_radial = n_terms // n_angular
    max_power = 0
    for a in range(n_angular):
        for axis in range(3):
            max_power = max(max_power, exponents[a, axis])
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
    # planes in parallel; each row of points is gathered in a small buffer (cache-resident)
    # from the atom images whose boxes cover it, then written once
    for i in numba.prange(i0, i1):
        gaussian = np.empty((n_groups, n_radial), dtype=sums.dtype)
        angular = np.empty(n_angular, dtype=sums.dtype)
        powers = np.ones((3, max_power + 1), dtype=sums.dtype)
        row = np.empty((nz, n_states, n_terms), dtype=sums.dtype)
        terms = np.empty((n_groups, n_terms), dtype=sums.dtype)
        row_counts = np.zeros(nz, dtype=np.int32)
        for j in range(ny):
            for k in range(nz):
                row[k] = field_sums
            row_counts[:] = 0
            for m in range(n_images):
                if i < box[m, 0] or i >= box[m, 1] or j < box[m, 2] or j >= box[m, 3]:
                    continue
                atom = image_atoms[m]
                species = atom_species[atom]
                # image − point at k = 0; the points of the row that lie within the cutoff
                # form one interval of k: solve |x0 − k v|² < rc²
                x0 = image_positions[m, 0] - origin[0] - i * voxel[0, 0] - j * voxel[1, 0]
                y0 = image_positions[m, 1] - origin[1] - i * voxel[0, 1] - j * voxel[1, 1]
                z0 = image_positions[m, 2] - origin[2] - i * voxel[0, 2] - j * voxel[1, 2]
                vv = voxel[2, 0] ** 2 + voxel[2, 1] ** 2 + voxel[2, 2] ** 2
                xv = x0 * voxel[2, 0] + y0 * voxel[2, 1] + z0 * voxel[2, 2]
                discriminant = xv * xv - vv * (x0 * x0 + y0 * y0 + z0 * z0 - cutoff2)
                if discriminant <= 0.0:
                    continue
                root = math.sqrt(discriminant)
                k_low = max(box[m, 4], int(math.floor((xv - root) / vv)))
                k_high = min(box[m, 5], int(math.ceil((xv + root) / vv)) + 1)
                for k in range(k_low, k_high):
                    x = x0 - k * voxel[2, 0]
                    y = y0 - k * voxel[2, 1]
                    z = z0 - k * voxel[2, 2]
                    d2 = x * x + y * y + z * z
                    if d2 >= cutoff2:
                        continue
                    row_counts[k] += 1
                    distance = math.sqrt(max(d2, 1e-20))
                    scale = 1.0 / max(distance, 1e-6)
                    for e in range(1, max_power + 1):
                        powers[0, e] = powers[0, e - 1] * (x * scale)
                        powers[1, e] = powers[1, e - 1] * (y * scale)
                        powers[2, e] = powers[2, e - 1] * (z * scale)
                    if table_step > 0.0:
                        # linear interpolation in the tabulated radial functions
                        position = distance / table_step
                        b = int(position)
                        f = position - b
                        for g in range(n_groups):
                            for r in range(n_radial):
                                gaussian[g, r] = table[g, species, b, r] * (1.0 - f) + table[g, species, b + 1, r] * f
                    else:
                        fc = 0.5 * math.cos(distance * (math.pi / cutoff)) + 0.5
                        fc = fc * fc
                        for g in range(n_groups):
                            for r in range(n_radial):
                                delta = distance - centers[g, species, r]
                                width = widths[g, species, r]
                                gaussian[g, r] = math.exp(-(delta * delta) / (2.0 * width * width)) * fc
                    for a in range(n_angular):
                        angular[a] = (
                            sqrt_weights[a] * powers[0, exponents[a, 0]] * powers[1, exponents[a, 1]]
                            * powers[2, exponents[a, 2]]
                        )
                    # the angular terms are shared by every atom state, the radial ones by the
                    # states of one group (one model's states with and without the field):
                    # the orbital coefficients are given repeated over the angular terms so
                    # that one flat loop (which vectorizes) adds each state
                    for g in range(n_groups):
                        for a in range(n_angular):
                            for r in range(n_radial):
                                terms[g, a * n_radial + r] = angular[a] * gaussian[g, r]
                    for s in range(n_states):
                        g = state_groups[s]
                        for t in range(n_terms):
                            row[k, s, t] += terms[g, t] * coefficients[s, atom, t]
            start = (i - i0) * plane + j * nz
            for k in range(nz):
                counts[start + k] = row_counts[k]
                for s in range(n_states):
                    sums[s, start + k] = row[k, s]


@numba.njit(cache=True, parallel=True, fastmath=True)
def _gram_terms(sums, points, degree_starts, out):  # pragma: no cover - compiled
    n_radial = sums.shape[2]
    n_degrees = degree_starts.shape[0] - 1
    block = 256
    for first in numba.prange((points.shape[0] + block - 1) // block):
        full = np.empty((n_degrees, n_radial, n_radial), dtype=np.float64)
        for q in range(first * block, min(points.shape[0], (first + 1) * block)):
            p = points[q]
            full[:] = 0.0
            # the whole K × K product vectorizes; the upper triangle is read out below
            for l in range(n_degrees):
                for a in range(degree_starts[l], degree_starts[l + 1]):
                    for k in range(n_radial):
                        value = sums[p, a, k]
                        for k2 in range(n_radial):
                            full[l, k, k2] += value * sums[p, a, k2]
            t = 0  # pairs (k ≤ k') in row-major upper-triangle order, as np.triu_indices lists them
            for l in range(n_degrees):
                for k in range(n_radial):
                    for k2 in range(k, n_radial):
                        out[q, t] = full[l, k, k2]
                        t += 1


def radial_table(centers: np.ndarray, widths: np.ndarray, cutoff: float, step: float) -> np.ndarray:
    """g_k(d) = exp(−(d − μ_k)²/2w_k²) f_c(d)² of each species at d = 0, step, … ≥ rc, (S, n, K).

    Tabulated once per prediction so that the float32 kernel interpolates instead of
    evaluating K exponentials per point–atom pair (interpolation error ≤ step²/8w²).
    Values below :data:`RADIAL_FLOOR` are stored as 0.
    """
    distances = np.arange(int(np.ceil(cutoff / step)) + 2) * step
    fc = (0.5 * np.cos(np.minimum(distances, cutoff) * (np.pi / cutoff)) + 0.5) ** 2
    delta = distances[None, :, None] - centers[:, None, :]
    table = np.exp(-(delta**2) / (2.0 * widths[:, None, :] ** 2)) * fc[None, :, None]
    table[table < RADIAL_FLOOR] = 0.0
    return table


def radial_tables(centers: np.ndarray, widths: np.ndarray, cutoff: float, step: float, dtype: type) -> np.ndarray:
    """:func:`radial_table` of each model's radial basis, (G, n_species, n, K) in ``dtype``.

    ``centers`` and ``widths`` are (G, n_species, K) Å, or (n_species, K) for one
    model. ``dtype`` is the one floating-point type of the kernel's pair loop, so
    that it vectorizes.
    """
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, *np.shape(centers)[-2:])
    widths = np.asarray(widths, dtype=np.float64).reshape(centers.shape)
    return np.stack([radial_table(c, w, cutoff, step) for c, w in zip(centers, widths)]).astype(dtype)


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
    dtype: type = np.float64,
    table_step: float = 0.0,
    state_groups: np.ndarray | None = None,
    table: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour sums S (P, A, K) and neighbour counts (P,) of the grid planes i0 ≤ i < i1.

    ``image_positions`` (m, 3) Å are atom images near the grid, ``image_atoms``
    their atom indices; ``atom_species`` (natoms,) species indices into
    ``centers``/``widths`` (n_species, K) Å; ``coefficients`` (natoms, K) the
    atoms' final c_j; ``exponents`` (A, 3) and ``sqrt_weights`` (A,) the angular
    terms; ``field_sums`` (A, K) the field term every point starts from.

    Several atom states of one geometry share one pass: give ``coefficients``
    (S, natoms, K) and ``field_sums`` (S, A, K), and get sums (S, P, A, K). The
    states may come from several models of one cutoff and angular order (a
    committee's members, each with and without the field): then ``centers`` and
    ``widths`` are (G, n_species, K), one radial basis per model, and
    ``state_groups`` (S,) says which basis each state uses (default: all the first).
    Sums are accumulated and returned in ``dtype`` (float32 halves the memory
    traffic of full-grid prediction). With ``table_step`` > 0 (Å) the radial
    functions are interpolated in a table of that spacing (:func:`radial_tables`)
    instead of evaluated exactly; a caller that sums a grid chunk by chunk makes
    that ``table`` once and passes it to every chunk.
    """
    coefficients = np.asarray(coefficients, dtype=np.float64)
    field_sums = np.asarray(field_sums, dtype=np.float64)
    single_state = coefficients.ndim == 2
    if single_state:
        coefficients, field_sums = coefficients[None], field_sums[None]
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    widths = np.ascontiguousarray(widths, dtype=np.float64)
    if centers.ndim == 2:
        centers, widths = centers[None], widths[None]
    if state_groups is None:
        state_groups = np.zeros(len(coefficients), dtype=np.int64)
    state_groups = np.asarray(state_groups, dtype=np.int64)
    if len(state_groups) != len(coefficients) or not np.all((0 <= state_groups) & (state_groups < len(centers))):
        raise ValueError(f"state_groups must give one of {len(centers)} radial bases for each of {len(coefficients)} states")
    i0, i1 = planes
    n_points = (i1 - i0) * shape[1] * shape[2]
    voxel = np.ascontiguousarray(voxel, dtype=np.float64)
    inverse = np.linalg.inv(voxel)
    half_width = np.ceil(cutoff * np.linalg.norm(inverse, axis=0)).astype(np.int64)
    sums = np.empty((len(coefficients), n_points, len(sqrt_weights), coefficients.shape[2]), dtype=dtype)
    counts = np.zeros(n_points, dtype=np.int32)
    if table_step <= 0:
        table = np.zeros((1, 1, 1, 1), dtype=dtype)
    elif table is None:
        table = radial_tables(centers, widths, cutoff, table_step, dtype)
    # c[s, atom, a·K + k] = c[s, atom, k]: the kernel's flat (angular, radial) layout
    tiled_coefficients = np.tile(coefficients, (1, 1, len(sqrt_weights)))
    _accumulate_sums(
        np.ascontiguousarray(image_positions, dtype=np.float64), np.asarray(image_atoms, dtype=np.int64),
        np.asarray(atom_species, dtype=np.int64), np.ascontiguousarray(tiled_coefficients, dtype=dtype),
        state_groups, centers, widths, float(cutoff), table, float(table_step), np.asarray(origin, dtype=np.float64),
        voxel, inverse, half_width, int(i0), int(i1), int(shape[1]), int(shape[2]),
        np.asarray(exponents, dtype=np.int64), np.asarray(sqrt_weights, dtype=dtype),
        np.ascontiguousarray(field_sums.reshape(len(field_sums), -1), dtype=dtype), sums.reshape(len(sums), n_points, -1),
        counts,
    )
    return (sums[0] if single_state else sums), counts


def gram_terms(sums: np.ndarray, points: np.ndarray, max_l: int, dtype: type = np.float32) -> np.ndarray:
    """G (len(points), (L+1)·K(K+1)/2) of the selected points, as ``gram_terms`` orders them."""
    n_radial = sums.shape[2]
    degree_starts = np.array([l * (l + 1) * (l + 2) // 6 for l in range(max_l + 2)], dtype=np.int64)
    out = np.empty((len(points), (max_l + 1) * n_radial * (n_radial + 1) // 2), dtype=dtype)
    _gram_terms(sums, np.asarray(points, dtype=np.int64), degree_starts, out)
    return out
