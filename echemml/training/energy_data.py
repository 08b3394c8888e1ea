"""Energy training data as tensors: each labelled configuration's atoms, energy and forces, and batches of them.

An :class:`EnergyDataset` holds, per configuration of a sample set that carries DFT
energies and forces, its atom graph (neighbour list built once, Å, field in V/Å)
and the part of its labels an energy model learns: the DFT energy (eV) and forces
(eV/Å) less the net charge's field terms of :mod:`echemml.model.charged_field`. The
split is by whole configurations, seeded (or by name patterns), so validation
measures configurations the model never trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import EchemmlError
from ..io.samples import SampledConfiguration
from ..model.charged_field import net_charge_field_terms
from ..model.inputs import AtomGraph, Batch, batch_graphs, model_batch
from .data import name_matches


@dataclass
class StructureEnergy:
    """One structure and its learned-part labels.

    Attributes:
        graph: the atoms and field (one or more structures when collated).
        energy: energy of each structure less the net charge's field term, (B,), eV.
        forces: forces less the net charge's field term, (N, 3), eV/Å.
    """

    graph: AtomGraph
    energy: torch.Tensor
    forces: torch.Tensor

    @property
    def atoms_per_structure(self) -> torch.Tensor:
        """(B,) atom counts."""
        return torch.bincount(self.graph.structure, minlength=self.graph.n_structures).to(self.energy.dtype)

    def model_input(self) -> Batch:
        """The batch dict an energy model's ``forward`` takes (:mod:`echemml.keys`)."""
        return model_batch(self.graph)

    def to_device(self, device: torch.device | str) -> StructureEnergy:
        """The same structures with every tensor on ``device``."""
        return StructureEnergy(self.graph.to_device(device), self.energy.to(device), self.forces.to(device))


def learned_labels(config: SampledConfiguration) -> tuple[float, np.ndarray]:
    """(energy eV, forces (N, 3) eV/Å) an energy model learns for a labelled configuration."""
    charge_energy, charge_forces = net_charge_field_terms(config.atoms.positions, config.charge, config.field)
    return config.energy - charge_energy, config.forces - charge_forces


def require_energy_labels(configurations: Sequence[SampledConfiguration], names: Sequence[str], source) -> None:
    """Refuse, naming the first, configurations without a DFT energy and forces."""
    for config, name in zip(configurations, names):
        if config.energy is None or config.forces is None:
            raise EchemmlError(f"{source}: configuration {name} has no DFT energy and forces; an energy model "
                               "trains on configurations labelled with them (echemml dft pyscf without --no-forces)")


class EnergyDataset(Dataset):
    """Labelled structures, ready for an energy model."""

    def __init__(self, items: list[StructureEnergy], names: list[str], numbers: list[np.ndarray]):
        self.items = items
        self.names = names
        self.numbers = numbers  # atomic numbers of each structure, for the reference energies

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> StructureEnergy:
        return self.items[index]

    @property
    def n_points(self) -> int:
        """Force components over all structures (what the validation RMSE averages over)."""
        return sum(item.forces.numel() for item in self.items)

    def targets(self) -> np.ndarray:
        """Every force component, eV/Å."""
        return np.concatenate([item.forces.numpy().ravel() for item in self.items]) if self.items else np.zeros(0)

    def energies(self) -> np.ndarray:
        """Each structure's learned-part energy, eV."""
        return np.array([float(item.energy[0]) for item in self.items])

    @staticmethod
    def collate(items: Sequence[StructureEnergy]) -> StructureEnergy:
        """Several structures as one batch (indices offset, structures in order)."""
        return StructureEnergy(
            batch_graphs([item.graph for item in items]),
            torch.cat([item.energy for item in items]),
            torch.cat([item.forces for item in items]),
        )

    @classmethod
    def split(
        cls,
        configurations: Sequence[SampledConfiguration],
        names: Sequence[str],
        species: Sequence[int],
        cutoff: float,
        validation_fraction: float,
        seed: int,
        dtype: torch.dtype = torch.float32,
        validation_configurations: Sequence[str] = (),
    ) -> tuple[EnergyDataset, EnergyDataset]:
        """(training, validation) datasets of whole configurations.

        Without ``validation_configurations`` a seeded share ``validation_fraction``
        of the configurations (at least one) validates; with them (fnmatch patterns
        of names), the matching configurations do.
        """
        if validation_configurations:
            validating = [name_matches(name, config, validation_configurations) for config, name in zip(configurations, names)]
        else:
            order = np.random.default_rng(seed).permutation(len(configurations))
            count = min(max(int(round(validation_fraction * len(configurations))), 1), max(len(configurations) - 1, 0))
            chosen = set(order[:count].tolist())
            validating = [index in chosen for index in range(len(configurations))]
        parts: tuple[tuple[list, list, list], tuple[list, list, list]] = (([], [], []), ([], [], []))
        for config, name, validate in zip(configurations, names, validating):
            energy, forces = learned_labels(config)
            item = StructureEnergy(
                AtomGraph.from_atoms(config.atoms, species, cutoff, config.field, dtype),
                torch.tensor([energy], dtype=dtype),
                torch.as_tensor(forces, dtype=dtype),
            )
            items, kept_names, numbers = parts[1 if validate else 0]
            items.append(item)
            kept_names.append(name)
            numbers.append(np.asarray(config.atoms.numbers))
        return cls(*parts[0]), cls(*parts[1])


def reference_energies(dataset: EnergyDataset, species: Sequence[int]) -> np.ndarray:
    """Per-element reference energies e_Z (eV) fitted by least squares to E ≈ Σ_Z n_Z e_Z over the structures."""
    counts = np.array([[np.count_nonzero(numbers == z) for z in species] for numbers in dataset.numbers], dtype=float)
    solution, *_ = np.linalg.lstsq(counts, dataset.energies(), rcond=None)
    return solution


__all__ = ["EnergyDataset", "StructureEnergy", "learned_labels", "reference_energies", "require_energy_labels"]
