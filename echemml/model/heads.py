"""Heads on the shared FIREANN representation: density n(r), response Δn(r; ε), energy.

* :class:`DensityModel` — n(r) = std · [NN(ρ_ε(r)) − NN(ρ_ε^∅)], e/Å³, at ghost points.
* :class:`ResponseModel` — Δn(r; ε) = n-like readout with the field minus the same
  without it: std · [(NN(ρ_ε) − NN(ρ_ε^∅)) − (NN(ρ_0) − NN(ρ_0^∅))], e/Å³, so Δn
  vanishes exactly at ε = 0 and the model need not learn that; the zero-field
  pass costs a second feature evaluation per point.

ρ^∅ is the feature vector of a point with no atom within the cutoff (only the
field term). Subtracting its readout makes both heads exactly zero far from the
atoms, in the vacuum that targeted sampling never shows the model.
* :class:`EnergyModel` — E = Σ_i [e_Z + std · NN_Z(ρ_i)], eV, with forces
  (eV/Å) and, for periodic cells, stress (eV/Å³, ASE's sign: (1/V) ∂E/∂strain)
  by autograd; the field is an input tensor.

Every model, a committee included (:mod:`echemml.model.committee`), has one
interface: ``forward(batch)`` takes a batch dict and returns a dict, both keyed by
:mod:`echemml.keys` (a ghost-point head returns its ``output_key``, 'density' or
'response'; the energy head 'energy', 'forces' and 'stress'); ``members`` lists the
single models whose values it averages (a single model is its own only member).

Ghost-point heads split their work into :meth:`GhostPointModel.atom_context`
(once per structure) and :meth:`GhostPointModel.evaluate_points` (per chunk of
points), which is what full-grid prediction streams.
"""

from __future__ import annotations

import copy
from typing import ClassVar

import torch
from torch import nn

from .. import keys
from .fireann import AtomStates, FireannConfig, FireannRepresentation
from .inputs import AtomGraph, Batch, GhostPoints, batch_graphs
from .nets import ResidualMLP, SpeciesMLP


class ConfiguredModel:
    """What every model offers besides ``forward``: its hyperparameters (``config``) and dtype copies."""

    config: FireannConfig
    head: str

    @property
    def output_key(self) -> str:
        """The key (:mod:`echemml.keys`) of the quantity the head predicts; the head's name."""
        return self.head

    def in_dtype(self, dtype: torch.dtype) -> ConfiguredModel:
        """This model in eval mode with its weights in ``dtype``.

        Itself when the weights already are; otherwise a converted copy, made once and
        reused for as long as this model's weights (and buffers) are unchanged.
        """
        if next(self.parameters()).dtype == dtype:
            return self.eval()
        converted = self.__dict__.setdefault("_converted", {})
        version = sum(tensor._version for tensor in (*self.parameters(), *self.buffers()))
        if dtype not in converted or converted[dtype][0] != version:
            del self.__dict__["_converted"]  # the copy carries no copies of its own
            try:
                converted[dtype] = (version, copy.deepcopy(self).to(dtype))
            finally:
                self.__dict__["_converted"] = converted
        return converted[dtype][1].eval()

    @property
    def cutoff(self) -> float:
        """rc, Å."""
        return self.config.cutoff

    @property
    def species(self) -> tuple[int, ...]:
        """Atomic numbers the model knows."""
        return self.config.species


class FireannModel(ConfiguredModel, nn.Module):
    """Base of every head: the configuration and the shared representation."""

    head: ClassVar[str] = ""
    output_unit: ClassVar[str] = ""

    def __init__(self, config: FireannConfig):
        super().__init__()
        self.config = config
        self.representation = FireannRepresentation(config)

    @property
    def members(self) -> tuple[FireannModel]:
        """The single models this model averages: itself."""
        return (self,)


class GhostPointModel(FireannModel):
    """A head that reads ghost grid points: one scalar per point from ρ of the point."""

    output_unit = keys.QUANTITIES[keys.DENSITY].unit

    def __init__(self, config: FireannConfig, target_std: float = 1.0):
        super().__init__(config)
        self.readout = ResidualMLP(config.n_features, config.readout_hidden, 1, zero_output=True)
        self.register_buffer("target_std", torch.tensor(float(target_std)))  # e/Å³

    def atom_context(self, graph: AtomGraph) -> list[AtomStates]:
        """The atom states every point of these structures reads (once per structure): the
        field-dependent ones, then the field-free ones (the order :meth:`combine` reads)."""
        field_states, field_free_states = self.contexts(graph)
        return field_states + field_free_states

    def contexts(self, graph: AtomGraph) -> tuple[list[AtomStates], list[AtomStates]]:
        """:meth:`field_context` and :meth:`field_free_context` of the graph (a head may run
        both in one pass)."""
        return self.field_context(graph), self.field_free_context(graph)

    def field_context(self, graph: AtomGraph) -> list[AtomStates]:
        """The atom states that depend on the graph's field."""
        raise NotImplementedError

    def field_free_context(self, graph: AtomGraph) -> list[AtomStates]:
        """The atom states that do not depend on the field (none unless the head says so): a
        prediction in another field on the same atoms may reuse their readouts."""
        return []

    def combine(self, readouts: list[torch.Tensor]) -> torch.Tensor:
        """The head's value from each atom state's readout minus its empty-point readout, (P,)."""
        raise NotImplementedError

    def point_readout(self, sums: torch.Tensor) -> torch.Tensor:
        """Readout NN of ghost points from their neighbour sums S (P, A, K) → (P,)."""
        features = self.representation.features.contract(self.representation.final_stage, sums)
        return self.readout(features).squeeze(-1)

    def empty_readouts(
        self, context: list[AtomStates], n_points: int, point_structure: torch.Tensor | None = None
    ) -> list[torch.Tensor]:
        """Readout of a point with no atom in range (field term only), per atom state, (P,).

        Evaluated once per structure and spread to the points of that structure.
        """
        none = torch.zeros(0, dtype=torch.long, device=context[0].coefficients.device)
        vectors = torch.zeros(0, 3, dtype=context[0].coefficients.dtype, device=none.device)
        n_structures = len(context[0].field)
        structures = torch.arange(n_structures, device=none.device)
        empties = []
        for states in context:
            sums = self.representation.ghost_sums(states, vectors, none, none, n_structures, structures)
            per_structure = self.point_readout(sums)
            empties.append(per_structure[point_structure] if point_structure is not None
                           else per_structure[:1].expand(n_points))
        return empties

    def evaluate_points(
        self,
        context: list[AtomStates],
        vectors: torch.Tensor,
        point_index: torch.Tensor,
        atom_index: torch.Tensor,
        n_points: int,
        point_structure: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Values at P points from their pairs (atom image − point, Å), e/Å³, (P,)."""
        readouts = [
            self.point_readout(
                self.representation.ghost_sums(states, vectors, point_index, atom_index, n_points, point_structure)
            )
            for states in context
        ]
        empties = self.empty_readouts(context, n_points, point_structure)
        return self.combine([value - empty for value, empty in zip(readouts, empties)])

    def forward(self, batch: Batch) -> Batch:
        """``{output_key: values at the batch's ghost points (P,), e/Å³}``."""
        graph, ghosts = AtomGraph.from_batch(batch), GhostPoints.from_batch(batch)
        context = self.atom_context(graph)
        values = self.evaluate_points(
            context, ghosts.pair_vectors(graph), ghosts.point_index, ghosts.atom_index,
            ghosts.n_points, ghosts.structure,
        )
        return {self.output_key: values}


class DensityModel(GhostPointModel):
    """Electron density n(r) in the structure's field, e/Å³."""

    head = keys.DENSITY

    def field_context(self, graph: AtomGraph) -> list[AtomStates]:
        return [self.representation.atom_states(graph)]

    def combine(self, readouts: list[torch.Tensor]) -> torch.Tensor:
        (readout,) = readouts
        return self.target_std.to(readout.dtype) * readout


class ResponseModel(GhostPointModel):
    """Density response Δn(r; ε) = n_ε(r) − n_0(r), e/Å³; exactly zero at ε = 0."""

    head = keys.RESPONSE

    def __init__(self, config: FireannConfig, target_std: float = 1.0):
        super().__init__(config, target_std)
        # with c_ε = 0 and the readout's last layer at zero, NN(ρ_ε) − NN(ρ_0) would sit on a
        # saddle where neither gets a gradient: start the field coefficients small but not zero
        with torch.no_grad():
            self.representation.features.field_coefficients.normal_(0.0, 0.1)

    def field_context(self, graph: AtomGraph) -> list[AtomStates]:
        return [self.representation.atom_states(graph)]

    def field_free_context(self, graph: AtomGraph) -> list[AtomStates]:
        return [self.representation.atom_states(graph.with_field(torch.zeros_like(graph.field)))]

    def contexts(self, graph: AtomGraph) -> tuple[list[AtomStates], list[AtomStates]]:
        """The states in the field and in zero field from one message-passing pass over the
        structures twice: the same numbers as two passes, with half the small operations."""
        both = self.representation.atom_states(
            batch_graphs([graph, graph.with_field(torch.zeros_like(graph.field))])
        )
        n_atoms, n_structures = graph.n_atoms, graph.n_structures
        halves = [
            AtomStates(both.species[atoms], both.coefficients[atoms], both.features[atoms], both.field[structures])
            for atoms, structures in ((slice(None, n_atoms), slice(None, n_structures)),
                                      (slice(n_atoms, None), slice(n_structures, None)))
        ]
        return [halves[0]], [halves[1]]

    def combine(self, readouts: list[torch.Tensor]) -> torch.Tensor:
        with_field, without_field = readouts
        return self.target_std.to(with_field.dtype) * (with_field - without_field)


class EnergyModel(FireannModel):
    """Energy as a sum of atomic energies, eV; forces and stress by autograd."""

    head = keys.ENERGY
    output_unit = keys.QUANTITIES[keys.ENERGY].unit

    def __init__(self, config: FireannConfig, energy_std: float = 1.0):
        super().__init__(config)
        n_species = len(config.species)
        self.readout = SpeciesMLP(n_species, config.n_features, config.readout_hidden, 1, zero_output=True)
        self.register_buffer("atomic_energies", torch.zeros(n_species))  # eV per atom of each element
        self.register_buffer("energy_std", torch.tensor(float(energy_std)))

    def atomic_energies_of(self, graph: AtomGraph, pair_vectors: torch.Tensor) -> torch.Tensor:
        """Energy of every atom, (N,), eV."""
        states = self.representation.atom_states(graph, pair_vectors)
        readout = self.readout(states.features, graph.species).squeeze(-1)
        return self.atomic_energies.to(readout.dtype)[graph.species] + self.energy_std.to(readout.dtype) * readout

    def forward(
        self, batch: Batch, compute_forces: bool = True, compute_stress: bool = False, compute_dipole: bool = False
    ) -> Batch:
        """{'energy': (B,) eV, 'forces': (N, 3) eV/Å, 'stress': (B, 3, 3) eV/Å³, 'dipole': (B, 3) e·Å} as asked.

        Stress is (1/V) ∂E/∂ε for a symmetric strain ε of positions and cell
        (ASE's convention); ask for it only for periodic cells. The dipole is
        −∂E/∂ε of the applied field ε (V/Å), the FIREANN way: the dipole of a
        neutral structure (a charged one adds Q·R of its net charge, which this
        translation-invariant energy leaves out: :mod:`echemml.model.charged_field`).
        """
        graph = AtomGraph.from_batch(batch)
        positions = graph.positions
        cells = graph.cells
        field = graph.field
        strain = None
        if compute_forces:
            positions = positions.detach().requires_grad_(True)
        if compute_dipole:
            field = field.detach().requires_grad_(True)
        if compute_stress:
            strain = torch.zeros_like(cells, requires_grad=True)
            symmetric = 0.5 * (strain + strain.transpose(1, 2))
            positions = positions + torch.einsum("na,nab->nb", positions, symmetric[graph.structure])
            cells = cells + torch.bmm(cells, symmetric)
        strained = AtomGraph(
            graph.species, positions, cells, graph.structure, field,
            graph.centers, graph.neighbors, graph.shifts,
        )
        atom_energy = self.atomic_energies_of(strained, strained.pair_vectors())
        energy = torch.zeros(graph.n_structures, dtype=atom_energy.dtype).index_add(0, graph.structure, atom_energy)
        results = {keys.ENERGY: energy}
        wanted = {keys.FORCES: positions if compute_forces else None, keys.STRESS: strain,
                  keys.DIPOLE: field if compute_dipole else None}
        wanted = {key: tensor for key, tensor in wanted.items() if tensor is not None}
        if wanted:
            grads = torch.autograd.grad(energy.sum(), list(wanted.values()), create_graph=self.training,
                                        allow_unused=True)
            grads = dict(zip(wanted, (torch.zeros_like(x) if g is None else g for g, x in zip(grads, wanted.values()))))
            if keys.FORCES in grads:
                results[keys.FORCES] = -grads[keys.FORCES]
            if keys.STRESS in grads:
                volume = torch.abs(torch.linalg.det(graph.cells))
                results[keys.STRESS] = grads[keys.STRESS] / volume[:, None, None]
            if keys.DIPOLE in grads:
                results[keys.DIPOLE] = -grads[keys.DIPOLE]
        return results


HEADS: dict[str, type[FireannModel]] = {
    model.head: model for model in (DensityModel, ResponseModel, EnergyModel)
}


def build_model(config: FireannConfig, head: str = "density") -> FireannModel:
    """A fresh model of one head ('density', 'response' or 'energy')."""
    try:
        return HEADS[head](config)
    except KeyError:
        raise ValueError(f"unknown head {head!r}; known: {', '.join(HEADS)}") from None
