"""The FIREANN representation: element embeddings, T message-passing iterations, FI-EAD.

Real atoms exchange messages: the orbital coefficients c_j start as an element
embedding and are updated c_j ← c_j + NN_t(ρ_j) for t = 1..T (Eq. 4 of Feng,
Zhang & Jiang, JCTC 2025), each NN's last layer zero-initialised. Ghost grid
points have no species and are nobody's neighbour: they read the real atoms'
final c_j once, so the T iterations run once per structure and a grid point
costs one feature evaluation (plus the readout of its head).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .features import FieldAwareDensityFeatures, feature_count
from .nets import SpeciesMLP


@dataclass(frozen=True)
class FireannConfig:
    """Hyperparameters of a FIREANN model (sizes as in Table 1 of the paper).

    Attributes:
        species: atomic numbers the model knows, in the order of its parameters.
        cutoff: rc, Å.
        n_radial: K, radial functions per element.
        max_l: L, highest angular momentum.
        n_iterations: T, message-passing iterations.
        orbital_hidden: hidden widths of the orbital-coefficient NNs.
        readout_hidden: hidden widths of the readout NN.
    """

    species: tuple[int, ...]
    cutoff: float = 4.0
    n_radial: int = 8
    max_l: int = 2
    n_iterations: int = 2
    orbital_hidden: tuple[int, ...] = (16, 16)
    readout_hidden: tuple[int, ...] = (32, 32)

    @property
    def n_features(self) -> int:
        """M = K(K+1)/2 · (L+1)."""
        return feature_count(self.n_radial, self.max_l)

    def to_dict(self) -> dict:
        """Plain JSON-like values (for the model file)."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> FireannConfig:
        """Inverse of :meth:`to_dict`."""
        values = dict(values)
        for key in ("species", "orbital_hidden", "readout_hidden"):
            values[key] = tuple(int(v) for v in values[key])
        return cls(**values)


@dataclass
class AtomStates:
    """What ghost points need from the real atoms, computed once per structure.

    Attributes:
        species: element index of each atom, (N,).
        coefficients: final orbital coefficients c_j, (N, K).
        features: final FI-EAD features of the atoms, (N, M).
        field: the field of each structure, (B, 3), V/Å.
    """

    species: torch.Tensor
    coefficients: torch.Tensor
    features: torch.Tensor
    field: torch.Tensor


class FireannRepresentation(nn.Module):
    """FI-EAD features of atoms after message passing, and of ghost points."""

    def __init__(self, config: FireannConfig):
        super().__init__()
        self.config = config
        n_species = len(config.species)
        self.features = FieldAwareDensityFeatures(
            n_species, config.n_radial, config.max_l, config.cutoff, n_stages=config.n_iterations + 1
        )
        self.embedding = nn.Parameter(torch.ones(n_species, config.n_radial) + 0.1 * torch.randn(n_species, config.n_radial))
        self.orbital_nets = nn.ModuleList(
            SpeciesMLP(n_species, config.n_features, config.orbital_hidden, config.n_radial, zero_output=True)
            for _ in range(config.n_iterations)
        )

    @property
    def final_stage(self) -> int:
        return self.config.n_iterations

    def atom_states(self, graph, pair_vectors: torch.Tensor | None = None) -> AtomStates:
        """Run the T message-passing iterations on an AtomGraph; returns :class:`AtomStates`.

        ``pair_vectors`` (E, 3) Å default to ``graph.pair_vectors()``.
        """
        vectors = graph.pair_vectors() if pair_vectors is None else pair_vectors
        atom_field = graph.atom_field()
        neighbour_species = graph.species[graph.neighbors]
        coefficients = self.embedding[graph.species].to(vectors.dtype)
        features = None
        for stage in range(self.config.n_iterations + 1):
            sums = self.features.neighbour_sums(
                stage, vectors, graph.centers, graph.n_atoms, neighbour_species,
                coefficients[graph.neighbors], atom_field,
            )
            features = self.features.contract(stage, sums)
            if stage < self.config.n_iterations:
                coefficients = coefficients + self.orbital_nets[stage](features, graph.species)
        return AtomStates(graph.species, coefficients, features, graph.field)

    def ghost_sums(
        self,
        states: AtomStates,
        vectors: torch.Tensor,
        point_index: torch.Tensor,
        atom_index: torch.Tensor,
        n_points: int,
        point_structure: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Neighbour sums S (P, A, K) of ghost points from pairs (atom image − point, Å)."""
        point_field = self._point_field(states, n_points, point_structure, vectors.dtype)
        return self.features.neighbour_sums(
            self.final_stage, vectors, point_index, n_points,
            states.species[atom_index], states.coefficients[atom_index], point_field,
        )

    def ghost_features(
        self,
        states: AtomStates,
        vectors: torch.Tensor,
        point_index: torch.Tensor,
        atom_index: torch.Tensor,
        n_points: int,
        point_structure: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """FI-EAD features ρ (P, M) of ghost points."""
        sums = self.ghost_sums(states, vectors, point_index, atom_index, n_points, point_structure)
        return self.features.contract(self.final_stage, sums)

    @staticmethod
    def _point_field(states: AtomStates, n_points: int, point_structure, dtype) -> torch.Tensor:
        field = states.field.to(dtype)
        if point_structure is None:
            return field[:1].expand(n_points, 3)
        return field[point_structure]
