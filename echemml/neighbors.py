"""Neighbour lists within a cutoff: atom–atom, and grid point–atom, periodic or not.

Built outside the network, in numpy, and handed to the model as plain index and
vector arrays. Lengths are in Å. Periodicity follows the atoms' ``pbc`` flags
and cell, so open molecules (no cell), slabs (pbc T T F), bulk cells, triclinic
cells and cells smaller than the cutoff (several images of one atom within
reach) all work.

Conventions for every list: ``vectors[n]`` points from the centre (an atom or a
grid point) to the neighbour's periodic image, ``neighbor_pos + shifts[n] @ cell
- centre_pos``, in Å.

* :func:`atom_pairs` — atom–atom pairs, through ASE's maintained
  ``primitive_neighbor_list`` (linked cells, linear in the number of atoms).
* :func:`point_atom_pairs` — arbitrary points, through a k-d tree over the atoms'
  periodic images near the points (scipy's cKDTree).
* :func:`grid_atom_pairs` — whole regular grids, faster: each atom image touches
  the box of voxel indices around its sphere, evaluated with numpy broadcasting;
  cost is linear in the number of grid points touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ase
import numpy as np
from ase.neighborlist import primitive_neighbor_list
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class AtomPairs:
    """Directed atom–atom pairs within the cutoff (both i→j and j→i are listed).

    Attributes:
        centers: index of the centre atom i, shape (n,).
        neighbors: index of the neighbour atom j, shape (n,).
        shifts: integer cell shift S of j's image, shape (n, 3).
        vectors: r_j + S·cell − r_i, shape (n, 3), Å.
    """

    centers: np.ndarray
    neighbors: np.ndarray
    shifts: np.ndarray
    vectors: np.ndarray


@dataclass(frozen=True)
class PointPairs:
    """Grid point–atom pairs within the cutoff.

    Attributes:
        points: index of the point (into the points given, or the flat index
            relative to the first point of a grid chunk), shape (n,).
        atoms: index of the atom, shape (n,).
        shifts: integer cell shift of the atom's image, shape (n, 3).
        vectors: atom image position − point position, shape (n, 3), Å.
    """

    points: np.ndarray
    atoms: np.ndarray
    shifts: np.ndarray
    vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.points)


def atom_pairs(atoms: ase.Atoms, cutoff: float) -> AtomPairs:
    """All atom pairs closer than ``cutoff`` (Å), with periodic images.

    An atom is never its own neighbour at zero shift, but it is at a non-zero
    shift when the cell is smaller than the cutoff.
    """
    _check_cutoff(cutoff)
    pbc = np.asarray(atoms.pbc, dtype=bool)
    cell = np.asarray(atoms.cell, dtype=float)
    positions = np.asarray(atoms.positions, dtype=float)
    if len(atoms) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return AtomPairs(empty, empty, np.zeros((0, 3), np.int64), np.zeros((0, 3)))
    i, j, shifts, vectors = primitive_neighbor_list(
        "ijSD", pbc, cell, positions, float(cutoff), self_interaction=False, use_scaled_positions=False
    )
    # ASE keeps pairs with distance <= cutoff; the cutoff function is zero there anyway,
    # but keep the strict inequality used by the point lists.
    keep = np.einsum("ij,ij->i", vectors, vectors) < cutoff * cutoff
    return AtomPairs(
        centers=i[keep].astype(np.int64),
        neighbors=j[keep].astype(np.int64),
        shifts=shifts[keep].astype(np.int64),
        vectors=vectors[keep],
    )


def atom_images_near(
    atoms: ase.Atoms, corners: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Periodic images of the atoms that may lie within ``cutoff`` of a region.

    ``corners`` (n, 3), Å, are points whose bounding box in the cell's
    fractional coordinates covers the region (the corners of a grid, or the
    points themselves). Along non-periodic axes only the zero shift is used.

    Returns ``(atom_index, shifts, positions)``: shapes (m,), (m, 3) integer,
    (m, 3) Å.
    """
    positions = np.asarray(atoms.positions, dtype=float)
    natoms = len(positions)
    pbc = np.asarray(atoms.pbc, dtype=bool)
    if natoms == 0 or not pbc.any():
        return np.arange(natoms), np.zeros((natoms, 3), np.int64), positions.copy()
    cell = np.asarray(atoms.cell, dtype=float)
    # complete the cell along non-periodic axes (a zero vector there is allowed)
    full_cell = atoms.cell.complete() if hasattr(atoms.cell, "complete") else cell
    full_cell = np.asarray(full_cell, dtype=float)
    inverse = np.linalg.inv(full_cell)
    reach = cutoff * np.linalg.norm(inverse, axis=0)  # cutoff in fractional units, per axis
    frac_atoms = positions @ inverse
    frac_region = np.asarray(corners, dtype=float).reshape(-1, 3) @ inverse
    low = frac_region.min(axis=0) - reach
    high = frac_region.max(axis=0) + reach
    ranges = []
    for axis in range(3):
        if pbc[axis]:
            n_min = int(np.floor(low[axis] - frac_atoms[:, axis].max()))
            n_max = int(np.ceil(high[axis] - frac_atoms[:, axis].min()))
            ranges.append(np.arange(n_min, n_max + 1))
        else:
            ranges.append(np.zeros(1, dtype=np.int64))
    shifts = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, 3)
    frac_images = frac_atoms[:, None, :] + shifts[None, :, :]  # (natoms, nshift, 3)
    inside = np.all(
        (frac_images >= low - 1e-9) | ~pbc, axis=-1
    ) & np.all((frac_images <= high + 1e-9) | ~pbc, axis=-1)
    atom_index, shift_index = np.nonzero(inside)
    image_shifts = shifts[shift_index].astype(np.int64)
    image_positions = positions[atom_index] + image_shifts @ cell
    return atom_index.astype(np.int64), image_shifts, image_positions


def point_atom_pairs(points: np.ndarray, atoms: ase.Atoms, cutoff: float) -> PointPairs:
    """Pairs (point, atom image) closer than ``cutoff`` (Å) for arbitrary points (n, 3), Å.

    Uses a k-d tree over the atoms' periodic images near the points; memory and
    time grow linearly with the number of points and pairs.
    """
    _check_cutoff(cutoff)
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    if len(points) == 0 or len(atoms) == 0:
        return _empty_point_pairs()
    atom_index, shifts, image_positions = atom_images_near(atoms, _bounding_corners(points), cutoff)
    if len(atom_index) == 0:
        return _empty_point_pairs()
    point_tree = cKDTree(points)
    image_tree = cKDTree(image_positions)
    found = point_tree.sparse_distance_matrix(image_tree, cutoff, output_type="ndarray")
    point_index = found["i"].astype(np.int64)
    image_index = found["j"].astype(np.int64)
    vectors = image_positions[image_index] - points[point_index]
    keep = np.einsum("ij,ij->i", vectors, vectors) < cutoff * cutoff
    order = np.argsort(point_index[keep], kind="stable")
    point_index, image_index, vectors = point_index[keep][order], image_index[keep][order], vectors[keep][order]
    return PointPairs(point_index, atom_index[image_index], shifts[image_index], vectors)


def grid_atom_pairs(
    atoms: ase.Atoms,
    origin: np.ndarray,
    voxel: np.ndarray,
    shape: Sequence[int],
    cutoff: float,
    planes: tuple[int, int] | None = None,
    images: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> PointPairs:
    """Pairs (grid point, atom image) closer than ``cutoff`` (Å) on a regular grid.

    Grid point (i, j, k) sits at ``origin + i*voxel[0] + j*voxel[1] + k*voxel[2]``
    (Å; rows of ``voxel`` are the voxel vectors). ``planes = (i0, i1)`` restricts
    the points to the planes i0 ≤ i < i1 of the first axis, a contiguous block of
    the C-ordered flat index; the returned point indices are flat indices minus
    ``i0 * shape[1] * shape[2]``. Periodic images come from the atoms' pbc and
    cell (a grid spanning a periodic cell sees the atoms across its faces this
    way, with no wrapping of grid indices). Pass ``images`` (from
    :func:`atom_images_near` over the whole grid) to reuse them across chunks.
    """
    _check_cutoff(cutoff)
    shape = tuple(int(n) for n in shape)
    origin = np.asarray(origin, dtype=float).reshape(3)
    voxel = np.asarray(voxel, dtype=float).reshape(3, 3)
    i0, i1 = (0, shape[0]) if planes is None else (int(planes[0]), int(planes[1]))
    if i1 <= i0 or len(atoms) == 0:
        return _empty_point_pairs()
    if images is None:
        images = atom_images_near(atoms, grid_corners(origin, voxel, shape), cutoff)
    atom_index, image_shifts, image_positions = images
    inverse = np.linalg.inv(voxel)
    half_width = np.ceil(cutoff * np.linalg.norm(inverse, axis=0)).astype(np.int64)
    frac = (image_positions - origin) @ inverse  # image positions in grid-index units
    low_bound = np.array([i0, 0, 0])
    high_bound = np.array([i1, shape[1], shape[2]])  # exclusive
    low = np.maximum(np.floor(frac).astype(np.int64) - half_width, low_bound)
    high = np.minimum(np.floor(frac).astype(np.int64) + half_width + 2, high_bound)
    touching = np.nonzero(np.all(high > low, axis=1))[0]
    plane_size = shape[1] * shape[2]
    cutoff2 = cutoff * cutoff
    point_parts, image_parts, vector_parts = [], [], []
    for image in touching:
        ranges = [np.arange(low[image, a], high[image, a]) for a in range(3)]
        # vector from the point to the atom, built axis by axis with broadcasting
        rel = image_positions[image] - origin
        vx = rel - ranges[0][:, None] * voxel[0]  # (ni, 3)
        vy = ranges[1][:, None] * voxel[1]  # (nj, 3)
        vz = ranges[2][:, None] * voxel[2]  # (nk, 3)
        vec = vx[:, None, None, :] - vy[None, :, None, :] - vz[None, None, :, :]
        dist2 = np.einsum("ijkc,ijkc->ijk", vec, vec)
        ii, jj, kk = np.nonzero(dist2 < cutoff2)
        if len(ii) == 0:
            continue
        vector_parts.append(vec[ii, jj, kk])
        flat = (ranges[0][ii] - i0) * plane_size + ranges[1][jj] * shape[2] + ranges[2][kk]
        point_parts.append(flat)
        image_parts.append(np.full(len(flat), image, dtype=np.int64))
    if not point_parts:
        return _empty_point_pairs()
    image_index = np.concatenate(image_parts)
    return PointPairs(
        points=np.concatenate(point_parts).astype(np.int64),
        atoms=atom_index[image_index],
        shifts=image_shifts[image_index],
        vectors=np.concatenate(vector_parts),
    )


def grid_corners(origin: np.ndarray, voxel: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Cartesian positions (Å) of the 8 corner points of a regular grid, shape (8, 3)."""
    extent = (np.asarray(shape, dtype=float) - 1.0)[:, None] * np.asarray(voxel, dtype=float)
    corners = np.array(np.meshgrid([0, 1], [0, 1], [0, 1], indexing="ij")).reshape(3, -1).T
    return np.asarray(origin, dtype=float) + corners @ extent


def _bounding_corners(points: np.ndarray) -> np.ndarray:
    low, high = points.min(axis=0), points.max(axis=0)
    corners = np.array(np.meshgrid([0, 1], [0, 1], [0, 1], indexing="ij")).reshape(3, -1).T
    return low + corners * (high - low)


def _empty_point_pairs() -> PointPairs:
    empty = np.zeros(0, dtype=np.int64)
    return PointPairs(empty, empty, np.zeros((0, 3), np.int64), np.zeros((0, 3)))


def _check_cutoff(cutoff: float) -> None:
    if not cutoff > 0:
        raise ValueError(f"cutoff must be positive, got {cutoff}")
