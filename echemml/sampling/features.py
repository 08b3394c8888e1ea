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
    if len(model.members) > 1:
        raise TypeError("a committee has no features of its own; use one of its members")
    model = model.in_dtype(dtype)
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    representation = model.representation
    with torch.no_grad():
        graph = AtomGraph.from_atoms(atoms, model.species, model.cutoff, field, dtype)
        states = representation.atom_states(graph)
        pairs = point_atom_pairs(points, atoms, model.cutoff)
        features = representation.ghost_features(
            states,
            torch.as_tensor(pairs.vectors, dtype=dtype),
            torch.as_tensor(pairs.points),
            torch.as_tensor(pairs.atoms),
            len(points),
        )
    return features.numpy()


__all__ = ["point_features"]
