"""Prediction with a trained model: values at points, on whole grids, and energies.

Public functions take numpy arrays, ase.Atoms and DensityGrid and return numpy
arrays or DensityGrid (Å, V/Å, e/Å³, eV). The atoms' message passing runs once
per structure; grid points stream through in chunks, so memory stays bounded
whatever the grid's size. Points with no atom within the cutoff get exactly 0
(the models subtract the readout of such an empty point), on grids and at points alike.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import ase
import numba
import numpy as np
import torch

from ..grid import DensityGrid
from ..neighbors import atom_images_near, grid_corners, point_atom_pairs
from .committee import CommitteeModel
from .grid_kernel import gram_terms, grid_neighbour_sums, radial_tables
from .heads import EnergyModel, FireannModel, GhostPointModel
from .inputs import AtomGraph

DEFAULT_CHUNK_SIZE = 65_536  # grid points per chunk: a few hundred MB at most
RADIAL_TABLE_STEP = 1e-3  # Å: float32 prediction interpolates the radial functions (error ~1e-7)


def model_in_dtype(model: FireannModel, dtype: torch.dtype) -> FireannModel:
    """The model in eval mode with parameters in ``dtype`` (a copy when the dtype changes)."""
    current = next(model.parameters()).dtype
    if current != dtype:
        model = copy.deepcopy(model).to(dtype)
    return model.eval()


def _require_ghost_head(model: FireannModel) -> GhostPointModel:
    if not isinstance(model, GhostPointModel):
        raise TypeError(f"a {model.head} model predicts no grid values; use a density or response model")
    return model


def predict_points(
    model: FireannModel | CommitteeModel,
    atoms: ase.Atoms,
    points: np.ndarray,
    field: Sequence[float] | np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    dtype: torch.dtype = torch.float32,
) -> np.ndarray:
    """Model values (e/Å³) at arbitrary Cartesian points (n, 3) Å, in field ``field`` (V/Å).

    Returns an array of shape (n,) in float32 or float64 as ``dtype`` asks; a
    committee gives its members' mean.
    """
    if isinstance(model, CommitteeModel):
        total = sum(predict_points(member, atoms, points, field, chunk_size, dtype) for member in model.members)
        return total / len(model.members)  # one member's values in memory at a time
    model = model_in_dtype(_require_ghost_head(model), dtype)
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    result = np.zeros(len(points), dtype=_numpy_dtype(dtype))  # no atom within the cutoff: both heads are 0
    with torch.no_grad():
        graph = AtomGraph.from_atoms(atoms, model.species, model.cutoff, field, dtype)
        context = model.atom_context(graph)
        for start in range(0, len(points), chunk_size):
            chunk = points[start : start + chunk_size]
            pairs = point_atom_pairs(chunk, atoms, model.cutoff)
            occupied, occupied_index = np.unique(pairs.points, return_inverse=True)
            if len(occupied) == 0:
                continue
            values = model.evaluate_points(
                context,
                torch.as_tensor(pairs.vectors, dtype=dtype),
                torch.as_tensor(occupied_index.reshape(-1)),
                torch.as_tensor(pairs.atoms),
                len(occupied),
            )
            result[start + occupied] = values.numpy()
    return result


def point_features(
    model: FireannModel,
    atoms: ase.Atoms,
    points: np.ndarray,
    field: Sequence[float] | np.ndarray | None = None,
    dtype: torch.dtype = torch.float64,
) -> np.ndarray:
    """FI-EAD feature vectors ρ (n, M) of ghost points at Cartesian ``points`` (n, 3) Å.

    The features the model's readout sees (final message-passing stage, in
    field ``field`` V/Å): what LIFS compares to pick linearly independent points.
    """
    if isinstance(model, CommitteeModel):
        raise TypeError("a committee has no features of its own; use one of its members")
    model = model_in_dtype(model, dtype)
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


def committee_mean(model: CommitteeModel, grid: DensityGrid, member_values: Iterable[np.ndarray]) -> DensityGrid:
    """The committee's grid: the mean of its members' values on ``grid`` (e/Å³), in their dtype.

    ``member_values`` may be a generator, so that one member's grid is in
    memory at a time; the sum is kept in float64.
    """
    total = None
    for values in member_values:
        total = values.astype(np.float64) if total is None else total + values
    result = grid.with_values((total / len(model.members)).astype(values.dtype))
    result.metadata["model"] = f"echemml FIREANN {model.head}, mean of a committee of {len(model.members)}"
    return result


def predict_grid(
    model: FireannModel | CommitteeModel,
    grid: DensityGrid,
    field: Sequence[float] | np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> DensityGrid:
    """Model values on every point of ``grid`` (its atoms, origin and voxels), e/Å³.

    ``field`` is the uniform field in V/Å. Returns a DensityGrid on the same
    grid whose values are float32 (or float64 if ``dtype`` asks). Chunks are
    whole planes of the first grid axis, about ``chunk_size`` points each.
    Neighbour sums run in compiled CPU kernels; the readout network runs on
    ``device`` (e.g. "cuda"). A committee gives its members' mean.
    """
    if isinstance(model, CommitteeModel):
        return committee_mean(model, grid, predict_member_grids(model, grid, field, chunk_size, dtype, device))
    (values,) = predict_member_grids(model, grid, field, chunk_size, dtype, device)
    result = grid.with_values(values)
    result.metadata["model"] = f"echemml FIREANN {model.head}"
    return result


def predict_member_grids(
    model: FireannModel | CommitteeModel,
    grid: DensityGrid,
    field: Sequence[float] | np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> list[np.ndarray]:
    """Each committee member's values (e/Å³, shaped like ``grid``); a one-item list for a single model.

    The members share one geometry, cutoff and angular order, so one pass over
    the point–atom pairs gives every member's neighbour sums (each with its own
    radial basis and orbital coefficients); only the Gram terms and readouts are
    per member. Chunks hold about ``chunk_size`` points per member.
    """
    members = list(model.members) if isinstance(model, CommitteeModel) else [model]
    members = [model_in_dtype(_require_ghost_head(member), dtype) for member in members]
    numpy_dtype = _numpy_dtype(dtype)
    first = members[0]
    atoms = grid.atoms
    nx, ny, nz = grid.shape
    plane = ny * nz
    planes_per_chunk = max(1, chunk_size // (plane * len(members)))
    values = [np.zeros(grid.npoints, dtype=numpy_dtype) for _ in members]  # no atom within the cutoff: 0
    cutoff = first.cutoff
    angular = first.representation.features.angular
    with torch.no_grad(), kernels_on_torch_threads():
        graph = AtomGraph.from_atoms(atoms, first.species, cutoff, field, dtype)
        states = [_MemberStates(member, graph, device) for member in members]
        atom_index, _, image_positions = atom_images_near(
            atoms, grid_corners(grid.origin, grid.voxel, grid.shape), cutoff
        )
        coefficients = np.concatenate([member.coefficients for member in states])
        field_sums = np.concatenate([member.field_sums for member in states])
        state_groups = np.concatenate([np.full(len(member.coefficients), g) for g, member in enumerate(states)])
        state_slices = np.cumsum([0] + [len(member.coefficients) for member in states])
        radial_centers = np.stack([member.radial_centers for member in states])
        radial_widths = np.stack([member.radial_widths for member in states])
        table_step = RADIAL_TABLE_STEP if dtype == torch.float32 else 0.0
        table = radial_tables(radial_centers, radial_widths, cutoff, table_step, numpy_dtype) if table_step else None
        for i0 in range(0, nx, planes_per_chunk):
            i1 = min(nx, i0 + planes_per_chunk)
            sums, counts = grid_neighbour_sums(
                image_positions, atom_index, states[0].species, coefficients, radial_centers, radial_widths, cutoff,
                grid.origin, grid.voxel, grid.shape, (i0, i1), angular.exponents.numpy(),
                angular.sqrt_weights.numpy(), field_sums, dtype=numpy_dtype,
                table_step=table_step, state_groups=state_groups, table=table,
            )
            occupied = np.flatnonzero(counts)
            if len(occupied) == 0:
                continue
            for g, member in enumerate(states):
                member_sums = sums[state_slices[g] : state_slices[g + 1]]
                values[g][i0 * plane + occupied] = member.values(member_sums, occupied, numpy_dtype)
    return [member_values.reshape(grid.shape) for member_values in values]


@contextmanager
def kernels_on_torch_threads() -> Iterator[None]:
    """Runs the grid kernels on torch's thread count, and leaves torch's count as it was.

    numba's OpenMP layer sets OpenMP's thread count to numba's own (NUMBA_NUM_THREADS,
    by default the core count) whenever a parallel kernel starts, and torch's CPU
    operations read that same count: without this, one grid prediction would undo a
    caller's ``torch.set_num_threads(1)`` for everything that runs after it.
    """
    threads = torch.get_num_threads()
    numba_threads = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(numba_threads)
        torch.set_num_threads(threads)


class _MemberStates:
    """One model's atom states on a geometry, ready for the grid kernels and its fused readout."""

    def __init__(self, model: GhostPointModel, graph: AtomGraph, device: str | torch.device):
        self.model = model
        features = model.representation.features
        stage = model.representation.final_stage
        context = model.atom_context(graph)
        self.species = context[0].species.numpy()
        self.coefficients = np.stack([states.coefficients.double().numpy() for states in context])
        self.field_sums = np.stack(
            [features.field_term(stage, states.field[:1].double()).numpy()[0] for states in context]
        )
        self.radial_centers = features.radial_centers.detach().double().numpy()
        self.radial_widths = features.radial_widths.detach().double().numpy()
        self.empty_readouts = [float(value[0]) for value in model.empty_readouts(context, 1)]
        self.readout = FusedGhostReadout(model, device)

    def values(self, sums: np.ndarray, occupied: np.ndarray, dtype: type) -> np.ndarray:
        """The model's values at the ``occupied`` points from its states' neighbour sums (S, P, A, K)."""
        max_l = self.model.representation.features.max_l
        readouts = [
            self.readout.readout_from_gram(torch.from_numpy(gram_terms(state_sums, occupied, max_l, dtype=dtype))).cpu()
            - empty
            for state_sums, empty in zip(sums, self.empty_readouts)
        ]
        return self.model.combine(readouts).numpy()


class FusedGhostReadout:
    """Ghost-point values from neighbour sums, with the contraction folded into the readout.

    ρ = G·Q (:meth:`FieldAwareDensityFeatures.quadratic_form`), so the readout's
    first layer W·ρ + b equals (Q Wᵀ)ᵀ-weighted Gram terms G: one small matrix
    product per point replaces the (A × K × M) contraction and the M-wide
    features are never formed. Same numbers as :meth:`GhostPointModel.evaluate_points`.
    """

    def __init__(self, model: GhostPointModel, device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        features = model.representation.features
        first_layer = model.readout.hidden[0]
        with torch.no_grad():
            form = features.quadratic_form(model.representation.final_stage).reshape(-1, features.n_features)
            self.weight = (form @ first_layer.weight.T).contiguous().to(self.device)
            self.bias = first_layer.bias.detach().clone().to(self.device)
        self.readout = copy.deepcopy(model.readout).to(self.device) if self.device.type != "cpu" else model.readout

    def readout_from_gram(self, gram: torch.Tensor) -> torch.Tensor:
        """Readout values (P,) on this object's device from Gram terms G (P, (L+1)·K(K+1)/2)."""
        hidden = torch.addmm(self.bias, gram.to(self.device, non_blocking=True), self.weight)
        return self.readout.forward_from_first(hidden).squeeze(-1)


def predict_energy(
    model: EnergyModel,
    atoms: ase.Atoms,
    field: Sequence[float] | np.ndarray | None = None,
    stress: bool | None = None,
    dtype: torch.dtype = torch.float64,
) -> dict[str, np.ndarray | float]:
    """Energy (eV), forces (N, 3) eV/Å and, for fully periodic cells, stress (3, 3) eV/Å³.

    ``stress`` defaults to True when all three axes are periodic.
    """
    if not isinstance(model, EnergyModel):
        raise TypeError(f"a {model.head} model predicts no energy; use an energy model")
    model = model_in_dtype(model, dtype)
    if stress is None:
        stress = bool(np.all(atoms.pbc))
    graph = AtomGraph.from_atoms(atoms, model.species, model.cutoff, field, dtype)
    out = model(graph, compute_forces=True, compute_stress=stress)
    result: dict[str, np.ndarray | float] = {
        "energy": float(out["energy"][0].detach()),
        "forces": out["forces"].detach().numpy(),
    }
    if stress:
        result["stress"] = out["stress"][0].detach().numpy()
    return result


def _numpy_dtype(dtype: torch.dtype) -> type:
    return np.float64 if dtype == torch.float64 else np.float32
