"""Neighbour lists against a brute-force enumeration of periodic images."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, fcc100, molecule

from echemml.neighbors import atom_pairs, grid_atom_pairs, point_atom_pairs

CUTOFF = 4.0


def _shift_range(atoms: Atoms, cutoff: float, span: float = 0.0) -> list[np.ndarray]:
    """Every shift that can matter, generously, for a brute-force search."""
    ranges = []
    if np.any(atoms.pbc):
        cell = atoms.cell.complete()
        heights = abs(np.linalg.det(cell)) / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    for axis in range(3):
        if atoms.pbc[axis]:
            n = int(np.ceil((cutoff + span) / heights[axis])) + 2
            ranges.append(range(-n, n + 1))
        else:
            ranges.append(range(1))
    return [np.array(s) for s in itertools.product(*ranges)]


def brute_atom_pairs(atoms: Atoms, cutoff: float) -> set:
    found = set()
    pos = atoms.positions
    for shift in _shift_range(atoms, cutoff, span=np.ptp(pos, axis=0).max()):
        offset = shift @ np.asarray(atoms.cell)
        d = np.linalg.norm(pos[None, :, :] + offset - pos[:, None, :], axis=-1)
        for i, j in zip(*np.nonzero(d < cutoff)):
            if i == j and not shift.any():
                continue
            found.add((int(i), int(j), *map(int, shift)))
    return found


def brute_point_pairs(points: np.ndarray, atoms: Atoms, cutoff: float) -> set:
    found = set()
    span = np.ptp(np.vstack([points, atoms.positions]), axis=0).max()
    for shift in _shift_range(atoms, cutoff, span=span):
        images = atoms.positions + shift @ np.asarray(atoms.cell)
        d = np.linalg.norm(images[None, :, :] - points[:, None, :], axis=-1)
        for p, a in zip(*np.nonzero(d < cutoff)):
            found.add((int(p), int(a), *map(int, shift)))
    return found


def _triclinic() -> Atoms:
    cell = [[4.2, 0.0, 0.0], [1.3, 3.9, 0.0], [0.8, -0.7, 4.4]]
    frac = np.array([[0.1, 0.2, 0.3], [0.6, 0.55, 0.8], [0.9, 0.1, 0.45]])
    return Atoms("OH2", scaled_positions=frac, cell=cell, pbc=True)


SYSTEMS = {
    "open": lambda: molecule("CH3CH2OH"),
    "slab": lambda: fcc100("Au", (2, 2, 2), vacuum=4.0),
    "triclinic": _triclinic,
    "small-cell": lambda: bulk("Cu", "fcc", a=3.6),  # 2.5 Å primitive cell, many images
    "partly-periodic-triclinic": lambda: Atoms(
        "CO", positions=[[0.2, 0.3, 0.1], [1.1, 0.9, 1.4]], cell=[[3.0, 0, 0], [1.5, 2.6, 0], [0, 0, 6]], pbc=[True, True, False]
    ),
}


@pytest.mark.parametrize("name", SYSTEMS)
def test_atom_pairs_match_brute_force(name):
    atoms = SYSTEMS[name]()
    pairs = atom_pairs(atoms, CUTOFF)
    got = {(int(i), int(j), *map(int, s)) for i, j, s in zip(pairs.centers, pairs.neighbors, pairs.shifts)}
    assert got == brute_atom_pairs(atoms, CUTOFF)
    expected_vectors = atoms.positions[pairs.neighbors] + pairs.shifts @ np.asarray(atoms.cell) - atoms.positions[pairs.centers]
    np.testing.assert_allclose(pairs.vectors, expected_vectors, atol=1e-10)


@pytest.mark.parametrize("name", SYSTEMS)
def test_point_pairs_match_brute_force(name):
    atoms = SYSTEMS[name]()
    rng = np.random.default_rng(3)
    low = atoms.positions.min(axis=0) - 3.0
    high = atoms.positions.max(axis=0) + 3.0
    points = rng.uniform(low, high, size=(150, 3))
    pairs = point_atom_pairs(points, atoms, CUTOFF)
    got = {(int(p), int(a), *map(int, s)) for p, a, s in zip(pairs.points, pairs.atoms, pairs.shifts)}
    assert got == brute_point_pairs(points, atoms, CUTOFF)
    expected = atoms.positions[pairs.atoms] + pairs.shifts @ np.asarray(atoms.cell) - points[pairs.points]
    np.testing.assert_allclose(pairs.vectors, expected, atol=1e-10)


def _pair_set(pairs, offset: int = 0) -> set:
    return {(int(p) + offset, int(a), *map(int, s)) for p, a, s in zip(pairs.points, pairs.atoms, pairs.shifts)}


@pytest.mark.parametrize("name", SYSTEMS)
def test_grid_pairs_equal_point_pairs(name):
    atoms = SYSTEMS[name]()
    voxel = np.array([[0.31, 0.02, 0.0], [0.05, 0.29, 0.01], [0.0, -0.03, 0.33]])  # triclinic voxels
    shape = (11, 9, 13)
    origin = atoms.positions.min(axis=0) - 1.0
    ijk = np.stack(np.unravel_index(np.arange(np.prod(shape)), shape), axis=-1)
    points = origin + ijk @ voxel
    whole = grid_atom_pairs(atoms, origin, voxel, shape, CUTOFF)
    reference = _pair_set(point_atom_pairs(points, atoms, CUTOFF))
    assert _pair_set(whole) == reference
    expected = atoms.positions[whole.atoms] + whole.shifts @ np.asarray(atoms.cell) - points[whole.points]
    np.testing.assert_allclose(whole.vectors, expected, atol=1e-9)
    # chunks of planes give the same pairs, indices relative to the chunk
    plane = shape[1] * shape[2]
    chunked = set()
    for i0 in range(0, shape[0], 4):
        part = grid_atom_pairs(atoms, origin, voxel, shape, CUTOFF, planes=(i0, min(shape[0], i0 + 4)))
        assert np.all(part.points < 4 * plane)
        chunked |= _pair_set(part, offset=i0 * plane)
    assert chunked == reference


def test_grid_spanning_a_periodic_cell_sees_atoms_across_faces():
    atoms = fcc100("Au", (1, 1, 2), vacuum=3.0)
    shape = (6, 6, 30)
    voxel = np.asarray(atoms.cell) / np.array(shape)[:, None]
    pairs = grid_atom_pairs(atoms, np.zeros(3), voxel, shape, CUTOFF)
    counts = np.bincount(pairs.points, minlength=int(np.prod(shape)))
    ijk = np.stack(np.unravel_index(np.arange(np.prod(shape)), shape), axis=-1)
    shifted = ijk @ voxel + atoms.cell[0] - 2 * atoms.cell[1]  # the same points, a cell away
    shifted_pairs = point_atom_pairs(shifted, atoms, CUTOFF)
    assert np.array_equal(counts, np.bincount(shifted_pairs.points, minlength=len(shifted)))
    assert counts.min() > 0


def test_empty_and_bad_input():
    atoms = molecule("H2O")
    far = np.array([[100.0, 0.0, 0.0]])
    assert len(point_atom_pairs(far, atoms, CUTOFF)) == 0
    assert len(grid_atom_pairs(atoms, far[0], np.eye(3) * 0.2, (3, 3, 3), CUTOFF)) == 0
    with pytest.raises(ValueError):
        atom_pairs(atoms, 0.0)
