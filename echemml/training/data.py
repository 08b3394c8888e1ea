"""Training data as tensors: each configuration's atoms with its sampled points, and batches of them.

A :class:`PointDataset` holds, per configuration of a sample set, the atom graph
and the ghost points (neighbour lists built once, Å) of either its training or
its validation points with their targets (e/Å³) and loss weights. By default
the 9:1 split is made per configuration and seeded, so every configuration
trains on most of its points and validates on the rest; named validation
configurations instead validate with all their points and train on none.
:func:`collate` joins structures into one batch, offsetting atom, point and
structure indices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

import numpy as np
import torch
from torch.utils.data import Dataset

from ..io.samples import SampledConfiguration
from ..model.inputs import AtomGraph, Batch, GhostPoints, batch_graphs, model_batch
from ..neighbors import point_atom_pairs


@dataclass
class StructurePoints:
    """One structure and some of its sampled points.

    Attributes:
        graph: the structure's atoms and field (one structure).
        ghosts: the points and their point–atom pairs.
        targets: n or Δn at the points, (P,), e/Å³.
        weights: loss weight of each point, (P,).
    """

    graph: AtomGraph
    ghosts: GhostPoints
    targets: torch.Tensor
    weights: torch.Tensor

    def model_input(self) -> Batch:
        """The batch dict a model's ``forward`` takes (:mod:`echemml.keys`)."""
        return model_batch(self.graph, self.ghosts)

    def to_device(self, device: torch.device | str) -> StructurePoints:
        """The same structure and points with every tensor on ``device``."""
        return StructurePoints(
            self.graph.to_device(device), self.ghosts.to_device(device), self.targets.to(device), self.weights.to(device)
        )


def split_points(n_points: int, validation_fraction: float, seed: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation) of one configuration's points; seeded by (seed, configuration index).

    The validation share is rounded, with at least one validation point when there
    are two or more points.
    """
    order = np.random.default_rng([seed, index]).permutation(n_points)
    n_validation = int(round(validation_fraction * n_points))
    if n_points >= 2:
        n_validation = min(max(n_validation, 1), n_points - 1)
    return np.sort(order[n_validation:]), np.sort(order[:n_validation])


def name_matches(name: str, config: SampledConfiguration, patterns: Sequence[str]) -> bool:
    """Whether a configuration's sample-set name or its source (e.g. the candidate name) matches a pattern."""
    labels = [name, str(config.provenance.get("source", ""))]
    return any(fnmatchcase(label, pattern) for label in labels for pattern in patterns)


class PointDataset(Dataset):
    """Structures with their training (or validation) points, ready for the model."""

    @staticmethod
    def collate(items: Sequence[StructurePoints]) -> StructurePoints:
        """Several structures with their points as one batch (:func:`collate`)."""
        return collate(items)

    def __init__(self, items: list[StructurePoints], names: list[str]):
        self.items = items
        self.names = names

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> StructurePoints:
        return self.items[index]

    @property
    def n_points(self) -> int:
        """Sampled points over all structures."""
        return sum(len(item.targets) for item in self.items)

    def targets(self) -> np.ndarray:
        """Every target, concatenated, e/Å³."""
        return np.concatenate([item.targets.numpy() for item in self.items]) if self.items else np.zeros(0)

    @classmethod
    def split(
        cls,
        configurations: Sequence[SampledConfiguration],
        names: Sequence[str],
        species: Sequence[int],
        cutoff: float,
        validation_fraction: float,
        seed: int,
        loss_weights: Mapping[str, float] | None = None,
        dtype: torch.dtype = torch.float32,
        validation_configurations: Sequence[str] = (),
    ) -> tuple[PointDataset, PointDataset]:
        """(training, validation) datasets of the configurations' points.

        ``species`` are the model's atomic numbers, ``cutoff`` its rc in Å,
        ``loss_weights`` maps a pattern of configuration names (sample-set name or
        source, fnmatch; the first that matches counts) to the weight of its points.
        Without ``validation_configurations`` each configuration's points split
        1 − f : f; with them (fnmatch patterns of names), matching configurations
        validate with all their points and the others train with all theirs.
        """
        weights = dict(loss_weights or {})
        train, validation = ([], []), ([], [])
        for index, (config, name) in enumerate(zip(configurations, names)):
            graph = AtomGraph.from_atoms(config.atoms, species, cutoff, config.field, dtype)
            everything = np.arange(len(config.targets))
            if not validation_configurations:
                parts = zip(split_points(len(config.targets), validation_fraction, seed, index), (train, validation))
            elif name_matches(name, config, validation_configurations):
                parts = [(everything, validation)]
            else:
                parts = [(everything, train)]
            weight = next((float(w) for pattern, w in weights.items() if name_matches(name, config, [pattern])), 1.0)
            for chosen, (items, kept_names) in parts:
                points = config.points[chosen]
                ghosts = GhostPoints.from_pairs(points, point_atom_pairs(points, config.atoms, cutoff), dtype)
                targets = torch.as_tensor(config.targets[chosen], dtype=dtype)
                items.append(StructurePoints(graph, ghosts, targets, torch.full_like(targets, weight)))
                kept_names.append(name)
        return cls(*train), cls(*validation)


def collate(items: Sequence[StructurePoints]) -> StructurePoints:
    """Several structures with their points as one batch (indices offset, structures in order)."""
    graph = batch_graphs([item.graph for item in items])
    atom_offsets = np.cumsum([0] + [item.graph.n_atoms for item in items])
    point_offsets = np.cumsum([0] + [item.ghosts.n_points for item in items])
    ghosts = GhostPoints(
        positions=torch.cat([item.ghosts.positions for item in items]),
        structure=torch.cat(
            [torch.full((item.ghosts.n_points,), s, dtype=torch.long) for s, item in enumerate(items)]
        ),
        point_index=torch.cat([item.ghosts.point_index + int(p) for item, p in zip(items, point_offsets)]),
        atom_index=torch.cat([item.ghosts.atom_index + int(a) for item, a in zip(items, atom_offsets)]),
        shifts=torch.cat([item.ghosts.shifts for item in items]),
    )
    return StructurePoints(
        graph,
        ghosts,
        torch.cat([item.targets for item in items]),
        torch.cat([item.weights for item in items]),
    )
