"""Tensors the model reads: a batch of atomic structures and the ghost points around them.

Built from numpy/ase with :mod:`echemml.neighbors`; positions in Å, fields in V/Å.
Pair vectors are recomputed in torch from positions, shifts and cells so that
forces and stress follow by autograd.

A model's ``forward`` takes a batch dict keyed by :mod:`echemml.keys`
(:func:`model_batch`); :class:`AtomGraph` and :class:`GhostPoints` are its typed
views, which the network code works with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import ase
import numpy as np
import torch
from ase.data import chemical_symbols

from .. import keys
from ..errors import EchemmlError
from ..neighbors import PointPairs, atom_pairs

Batch = dict[str, torch.Tensor]
"""A model's input or output: tensors keyed by :mod:`echemml.keys`."""

_GRAPH_KEYS = {
    "species": keys.SPECIES, "positions": keys.POSITIONS, "cells": keys.CELL, "structure": keys.STRUCTURE,
    "field": keys.FIELD, "centers": keys.EDGE_CENTERS, "neighbors": keys.EDGE_NEIGHBORS, "shifts": keys.EDGE_SHIFTS,
}
_GHOST_KEYS = {
    "positions": keys.POINTS, "structure": keys.POINT_STRUCTURE, "point_index": keys.POINT_EDGE_POINTS,
    "atom_index": keys.POINT_EDGE_ATOMS, "shifts": keys.POINT_EDGE_SHIFTS,
}


@dataclass
class AtomGraph:
    """Real atoms of one or more structures and their atom–atom pairs.

    Attributes:
        species: index of each atom's element in the model's species list, (N,).
        positions: Cartesian positions, (N, 3), Å.
        cells: cell of each structure (rows = cell vectors), (B, 3, 3), Å.
        structure: structure index of each atom, (N,).
        field: uniform electric field of each structure, (B, 3), V/Å.
        centers, neighbors: directed atom pairs within the cutoff, (E,).
        shifts: integer cell shift of each neighbour's image, (E, 3), stored as floats.
    """

    species: torch.Tensor
    positions: torch.Tensor
    cells: torch.Tensor
    structure: torch.Tensor
    field: torch.Tensor
    centers: torch.Tensor
    neighbors: torch.Tensor
    shifts: torch.Tensor

    @property
    def n_atoms(self) -> int:
        return len(self.species)

    @property
    def n_structures(self) -> int:
        return len(self.cells)

    def pair_vectors(self) -> torch.Tensor:
        """r_j + S·cell − r_i for every pair, (E, 3), Å."""
        cell_of_pair = self.cells[self.structure[self.centers]]
        offsets = torch.einsum("ea,eab->eb", self.shifts, cell_of_pair)
        return self.positions[self.neighbors] - self.positions[self.centers] + offsets

    def atom_field(self) -> torch.Tensor:
        """The field at every atom, (N, 3), V/Å."""
        return self.field[self.structure]

    def with_field(self, field: torch.Tensor) -> AtomGraph:
        """The same atoms in another field, (B, 3) V/Å."""
        return replace(self, field=field)

    def to_device(self, device: torch.device | str) -> AtomGraph:
        """A copy with every tensor on ``device``."""
        return replace(self, **{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def as_batch(self) -> Batch:
        """These tensors keyed by :mod:`echemml.keys` (no copies)."""
        return {key: getattr(self, name) for name, key in _GRAPH_KEYS.items()}

    @classmethod
    def from_batch(cls, batch: Batch) -> AtomGraph:
        """The atoms of a batch dict (keys of :mod:`echemml.keys`)."""
        return cls(**{name: batch[key] for name, key in _GRAPH_KEYS.items()})

    def to(self, dtype: torch.dtype) -> AtomGraph:
        """A copy with floating tensors in ``dtype``."""
        return replace(
            self,
            positions=self.positions.to(dtype),
            cells=self.cells.to(dtype),
            field=self.field.to(dtype),
            shifts=self.shifts.to(dtype),
        )

    @classmethod
    def from_atoms(
        cls,
        atoms: ase.Atoms,
        species: Sequence[int],
        cutoff: float,
        field: np.ndarray | Sequence[float] | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> AtomGraph:
        """One structure: ``species`` lists the model's atomic numbers; ``field`` in V/Å."""
        pairs = atom_pairs(atoms, cutoff)
        return cls(
            species=torch.as_tensor(species_indices(atoms.numbers, species)),
            positions=torch.as_tensor(np.asarray(atoms.positions), dtype=dtype),
            cells=torch.as_tensor(np.asarray(atoms.cell)[None], dtype=dtype),
            structure=torch.zeros(len(atoms), dtype=torch.long),
            field=torch.as_tensor(field_vector(field)[None], dtype=dtype),
            centers=torch.as_tensor(pairs.centers),
            neighbors=torch.as_tensor(pairs.neighbors),
            shifts=torch.as_tensor(pairs.shifts, dtype=dtype),
        )


@dataclass
class GhostPoints:
    """Grid points that read the real atoms of an :class:`AtomGraph`.

    Attributes:
        positions: Cartesian positions, (P, 3), Å.
        structure: structure index of each point, (P,).
        point_index, atom_index: point–atom pairs within the cutoff, (E,).
        shifts: integer cell shift of the atom's image, (E, 3), stored as floats.
    """

    positions: torch.Tensor
    structure: torch.Tensor
    point_index: torch.Tensor
    atom_index: torch.Tensor
    shifts: torch.Tensor

    @property
    def n_points(self) -> int:
        return len(self.positions)

    def to_device(self, device: torch.device | str) -> GhostPoints:
        """A copy with every tensor on ``device``."""
        return replace(self, **{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def as_batch(self) -> Batch:
        """These tensors keyed by :mod:`echemml.keys` (no copies)."""
        return {key: getattr(self, name) for name, key in _GHOST_KEYS.items()}

    @classmethod
    def from_batch(cls, batch: Batch) -> GhostPoints:
        """The ghost points of a batch dict (keys of :mod:`echemml.keys`)."""
        return cls(**{name: batch[key] for name, key in _GHOST_KEYS.items()})

    def pair_vectors(self, graph: AtomGraph) -> torch.Tensor:
        """Atom image − point for every pair, (E, 3), Å."""
        cell_of_pair = graph.cells[self.structure[self.point_index]]
        offsets = torch.einsum("ea,eab->eb", self.shifts, cell_of_pair)
        return graph.positions[self.atom_index] + offsets - self.positions[self.point_index]

    @classmethod
    def from_pairs(cls, points: np.ndarray, pairs: PointPairs, dtype: torch.dtype = torch.float64) -> GhostPoints:
        """Points (P, 3) Å of one structure and their pairs from :mod:`echemml.neighbors`."""
        points = np.asarray(points, dtype=float).reshape(-1, 3)
        return cls(
            positions=torch.as_tensor(points, dtype=dtype),
            structure=torch.zeros(len(points), dtype=torch.long),
            point_index=torch.as_tensor(pairs.points),
            atom_index=torch.as_tensor(pairs.atoms),
            shifts=torch.as_tensor(pairs.shifts, dtype=dtype),
        )


def model_batch(graph: AtomGraph, ghosts: GhostPoints | None = None) -> Batch:
    """The batch dict a model's ``forward`` takes: the atoms and, for ghost-point heads, the points."""
    return {**graph.as_batch(), **(ghosts.as_batch() if ghosts is not None else {})}


def species_indices(numbers: np.ndarray, species: Sequence[int]) -> np.ndarray:
    """Index of each atomic number in ``species``; an element the model lacks is an error."""
    numbers = np.asarray(numbers, dtype=np.int64)
    lookup = {int(z): i for i, z in enumerate(species)}
    unknown = sorted({int(z) for z in numbers} - set(lookup))
    if unknown:
        names = ", ".join(chemical_symbols[z] for z in unknown)
        known = ", ".join(chemical_symbols[z] for z in species)
        raise EchemmlError(f"the model does not know element(s) {names}; it was built for {known}")
    return np.array([lookup[int(z)] for z in numbers], dtype=np.int64)


def field_vector(field: np.ndarray | Sequence[float] | None) -> np.ndarray:
    """A field as a float array of shape (3,), V/Å (None means no field)."""
    if field is None:
        return np.zeros(3)
    vector = np.asarray(field, dtype=float).reshape(-1)
    if vector.shape != (3,):
        raise EchemmlError(f"a field needs three components (V/Å), got {vector.size}")
    return vector


def batch_graphs(graphs: Sequence[AtomGraph]) -> AtomGraph:
    """Several structures as one AtomGraph (indices offset, structures numbered in order)."""
    atom_offsets = np.cumsum([0] + [g.n_atoms for g in graphs])
    structure_offsets = np.cumsum([0] + [g.n_structures for g in graphs])
    return AtomGraph(
        species=torch.cat([g.species for g in graphs]),
        positions=torch.cat([g.positions for g in graphs]),
        cells=torch.cat([g.cells for g in graphs]),
        structure=torch.cat([g.structure + int(s) for g, s in zip(graphs, structure_offsets)]),
        field=torch.cat([g.field for g in graphs]),
        centers=torch.cat([g.centers + int(a) for g, a in zip(graphs, atom_offsets)]),
        neighbors=torch.cat([g.neighbors + int(a) for g, a in zip(graphs, atom_offsets)]),
        shifts=torch.cat([g.shifts for g in graphs]),
    )
