"""The feature vectors LIFS compares: FI-EAD features ρ of ghost points, from a model's representation.

LIFS (the paper's Eq. 6) keeps a candidate grid point when its feature vector is not
a linear combination of those already kept; these are the vectors the model's
readout sees (the final message-passing stage), so a freshly initialised model serves
the first sampling cycle and a trained one later cycles.
"""

from __future__ import annotations

from collections.abc import Sequence

import ase
import numpy as np
import torch

from ..model.heads import FireannModel
from ..model.inputs import AtomGraph
from ..neighbors import point_atom_pairs


FEATURE_CHUNK = 4096  # points per feature evaluation: the contraction holds (points × 10 × M) floats


class StructureFeatures:
    """FI-EAD feature vectors of one structure in one field (V/Å): its atoms', and any points'.

    The message passing runs once; ghost points then cost one feature evaluation each,
    :data:`FEATURE_CHUNK` at a time so that memory stays bounded. ``model`` must be a
    single model: a committee has no features of its own.
    """

    def __init__(self, model: FireannModel, atoms: ase.Atoms, field: Sequence[float] | np.ndarray | None = None,
                 dtype: torch.dtype = torch.float64):
        if len(model.members) > 1:
            raise TypeError("a committee has no features of its own; use one of its members")
        self.atoms, self.dtype = atoms, dtype
        self.model = model.in_dtype(dtype)
        graph = AtomGraph.from_atoms(atoms, self.model.species, self.model.cutoff, field, dtype)
        with torch.no_grad():
            self.states = self.model.representation.atom_states(graph)

    def atom_features(self) -> np.ndarray:
        """Final-stage features of every atom, (N, M)."""
        return self.states.features.numpy()

    def point_features(self, points: np.ndarray) -> np.ndarray:
        """Features (n, M) of ghost points at Cartesian ``points`` (n, 3) Å; a point with no atom within
        the cutoff gets the features of an empty point (the field term alone)."""
        points = np.asarray(points, dtype=float).reshape(-1, 3)
        parts = [self._features(pairs, pairs.points, len(chunk)) for chunk, pairs in self._chunks(points)]
        return np.concatenate(parts) if parts else np.zeros((0, self.model.config.n_features))

    def occupied_point_features(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the ``points`` (n, 3) Å with an atom within the cutoff, and their features (n_in, M)."""
        points = np.asarray(points, dtype=float).reshape(-1, 3)
        occupied_parts, feature_parts = [], []
        start = 0
        for chunk, pairs in self._chunks(points):
            occupied, index = np.unique(pairs.points, return_inverse=True)
            if len(occupied):
                occupied_parts.append(start + occupied)
                feature_parts.append(self._features(pairs, index.reshape(-1), len(occupied)))
            start += len(chunk)
        if not occupied_parts:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.model.config.n_features))
        return np.concatenate(occupied_parts), np.concatenate(feature_parts)

    def _chunks(self, points: np.ndarray):
        for start in range(0, len(points), FEATURE_CHUNK):
            chunk = points[start : start + FEATURE_CHUNK]
            yield chunk, point_atom_pairs(chunk, self.atoms, self.model.cutoff)

    def _features(self, pairs, point_index: np.ndarray, n_points: int) -> np.ndarray:
        with torch.no_grad():
            return self.model.representation.ghost_features(
                self.states, torch.as_tensor(pairs.vectors, dtype=self.dtype), torch.as_tensor(point_index),
                torch.as_tensor(pairs.atoms), n_points,
            ).numpy()


def point_features(
    model: FireannModel,
    atoms: ase.Atoms,
    points: np.ndarray,
    field: Sequence[float] | np.ndarray | None = None,
    dtype: torch.dtype = torch.float64,
) -> np.ndarray:
    """FI-EAD feature vectors ρ (n, M) of ghost points at Cartesian ``points`` (n, 3) Å, in ``field`` (V/Å).

    ``model`` must be a single model: a committee has no features of its own.
    """
    return StructureFeatures(model, atoms, field, dtype).point_features(points)


__all__ = ["FEATURE_CHUNK", "StructureFeatures", "point_features"]
