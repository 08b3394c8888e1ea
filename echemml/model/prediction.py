"""Prediction with a trained model: values at points, on whole grids, and energies.

Public functions take numpy arrays, ase.Atoms and DensityGrid and return numpy
arrays or DensityGrid (Å, V/Å, e/Å³, eV). The atoms' message passing runs once
per structure; grid points stream through in chunks, so memory stays bounded
whatever the grid's size. Points with no atom within the cutoff get exactly 0
(the models subtract the readout of such an empty point), on grids and at points alike.

Every function takes a single model or a committee alike (a committee predicts its
members' mean); a model used in another dtype than its own is converted once
(:meth:`~echemml.model.heads.ConfiguredModel.in_dtype`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import ase
import numba
import numpy as np
import torch

from .. import keys
from ..grid import DensityGrid
from ..neighbors import atom_images_near, grid_corners, point_atom_pairs
from .committee import CommitteeModel
from .grid_kernel import gram_terms, grid_neighbour_sums, radial_tables
from .heads import FireannModel, GhostPointModel
from .inputs import AtomGraph, model_batch

DEFAULT_CHUNK_SIZE = 65_536  # grid points per chunk: a few hundred MB at most
RADIAL_TABLE_STEP = 1e-3  # Å: float32 prediction interpolates the radial functions (error ~1e-7)
GHOST_POINT_HEADS = (keys.DENSITY, keys.RESPONSE)


def ghost_point_members(model: FireannModel | CommitteeModel, dtype: torch.dtype) -> list[GhostPointModel]:
    """The single density or response models whose mean ``model`` predicts, in eval mode and ``dtype``."""
    if model.head not in GHOST_POINT_HEADS:
        raise TypeError(f"a {model.head} model predicts no grid values; use a density or response model")
    return list(model.in_dtype(dtype).members)


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
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    members = ghost_point_members(model, dtype)
    # one member's values in memory at a time; a single model's mean is its own values
    total = sum(member_points(member, atoms, points, field, chunk_size, dtype) for member in members)
    return total / len(members)


def member_points(
    model: GhostPointModel,
    atoms: ase.Atoms,
    points: np.ndarray,
    field: Sequence[float] | np.ndarray | None,
    chunk_size: int,
    dtype: torch.dtype,
) -> np.ndarray:
    """One single model's values (e/Å³) at ``points`` (n, 3) Å; its message passing runs once."""
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


def mean_grid(model: FireannModel | CommitteeModel, grid: DensityGrid, member_values: Sequence[np.ndarray]) -> DensityGrid:
    """``grid`` with the mean of the members' values (e/Å³), in their dtype; a single model's own values.

    The committee's sum is kept in float64.
    """
    if len(member_values) == 1:
        result = grid.with_values(member_values[0])
        result.metadata["model"] = f"echemml FIREANN {model.head}"
        return result
    total = sum(values.astype(np.float64) for values in member_values)
    result = grid.with_values((total / len(member_values)).astype(member_values[0].dtype))
    result.metadata["model"] = f"echemml FIREANN {model.head}, mean of a committee of {len(member_values)}"
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
    return mean_grid(model, grid, predict_member_grids(model, grid, field, chunk_size, dtype, device))


def predict_member_grids(
    model: FireannModel | CommitteeModel,
    grid: DensityGrid,
    field: Sequence[float] | np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> list[np.ndarray]:
    """Each committee member's values (e/Å³, shaped like ``grid``) in ``field`` (V/Å); a one-item
    list for a single model. One field: :class:`GridPredictor` for several on the same atoms."""
    return GridPredictor(model, grid, chunk_size, dtype, device).member_grids(field)


class GridPredictor:
    """Each committee member's values on one grid around one configuration, field after field.

    The members share one geometry, cutoff and angular order, so one pass over the
    point–atom pairs gives every member's neighbour sums (each with its own radial basis
    and orbital coefficients); only the Gram terms and readouts are per member. Chunks
    hold about ``chunk_size`` points per member. What does not depend on the field is
    done once, with the first field, and reused: the atom images that reach the grid
    and, for a response model (Δn = NN(ρ_ε) − NN(ρ_0)), the field-free atom states'
    readouts NN(ρ_0) at every point — a second field on the same atoms (a
    constant-potential solve) costs about half the first. The grid's atoms must not
    change between calls.
    """

    def __init__(
        self,
        model: FireannModel | CommitteeModel,
        grid: DensityGrid,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        dtype: torch.dtype = torch.float32,
        device: str | torch.device = "cpu",
    ):
        self.members = ghost_point_members(model, dtype)
        self.grid, self.dtype, self.device = grid, dtype, device
        first = self.members[0]
        _, ny, nz = grid.shape
        self.planes_per_chunk = max(1, chunk_size // (ny * nz * len(self.members)))
        self.atom_index, _, self.image_positions = atom_images_near(
            grid.atoms, grid_corners(grid.origin, grid.voxel, grid.shape), first.cutoff
        )
        # per member, per field-free atom state: its readout minus the empty point's, at every grid point
        self._field_free_readouts: list[list[np.ndarray]] | None = None

    def member_grids(self, field: Sequence[float] | np.ndarray | None = None) -> list[np.ndarray]:
        """Each member's values (e/Å³, shaped like the grid) in ``field`` (V/Å)."""
        grid, members, dtype = self.grid, self.members, self.dtype
        numpy_dtype = _numpy_dtype(dtype)
        first = members[0]
        nx, ny, nz = grid.shape
        plane = ny * nz
        reuse = self._field_free_readouts is not None
        values = [np.zeros(grid.npoints, dtype=numpy_dtype) for _ in members]  # no atom within the cutoff: 0
        cutoff = first.cutoff
        angular = first.representation.features.angular
        with torch.no_grad(), kernels_on_torch_threads():
            graph = AtomGraph.from_atoms(grid.atoms, first.species, cutoff, field, dtype)
            # both halves from one pass even when the field-free one is kept: a second field then gets
            # the same float32 numbers as a fresh prediction, for one message-passing pass of 20-odd ms
            contexts = [member.contexts(graph) for member in members]
            states = [
                _MemberStates(member, field_states, [] if reuse else field_free_states, self.device)
                for member, (field_states, field_free_states) in zip(members, contexts)
            ]
            if not reuse:
                self._field_free_readouts = [
                    [np.zeros(grid.npoints, dtype=numpy_dtype) for _ in range(member.n_field_free)] for member in states
                ]
            coefficients = np.concatenate([member.coefficients for member in states])
            field_sums = np.concatenate([member.field_sums for member in states])
            state_groups = np.concatenate([np.full(len(member.coefficients), g) for g, member in enumerate(states)])
            state_slices = np.cumsum([0] + [len(member.coefficients) for member in states])
            radial_centers = np.stack([member.radial_centers for member in states])
            radial_widths = np.stack([member.radial_widths for member in states])
            table_step = RADIAL_TABLE_STEP if dtype == torch.float32 else 0.0
            table = (radial_tables(radial_centers, radial_widths, cutoff, table_step, numpy_dtype) if table_step
                     else None)
            for i0 in range(0, nx, self.planes_per_chunk):
                i1 = min(nx, i0 + self.planes_per_chunk)
                sums, counts = grid_neighbour_sums(
                    self.image_positions, self.atom_index, states[0].species, coefficients, radial_centers,
                    radial_widths, cutoff, grid.origin, grid.voxel, grid.shape, (i0, i1), angular.exponents.numpy(),
                    angular.sqrt_weights.numpy(), field_sums, dtype=numpy_dtype,
                    table_step=table_step, state_groups=state_groups, table=table,
                )
                occupied = np.flatnonzero(counts)
                if len(occupied) == 0:
                    continue
                points = i0 * plane + occupied
                for g, member in enumerate(states):
                    readouts = member.readouts(sums[state_slices[g] : state_slices[g + 1]], occupied, numpy_dtype)
                    kept = self._field_free_readouts[g]
                    if reuse:
                        readouts += [torch.from_numpy(readout[points]) for readout in kept]
                    else:
                        for readout, new in zip(kept, readouts[member.n_field :]):
                            readout[points] = new.numpy()
                    values[g][points] = member.model.combine(readouts).numpy()
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
    """One model's atom states on a geometry (field-dependent, then field-free), ready for the grid
    kernels and its fused readout."""

    def __init__(self, model: GhostPointModel, field_states: list, field_free_states: list,
                 device: str | torch.device):
        self.model = model
        self.n_field = len(field_states)
        self.n_field_free = len(field_free_states)
        context = [*field_states, *field_free_states]
        features = model.representation.features
        stage = model.representation.final_stage
        self.species = context[0].species.numpy()
        self.coefficients = np.stack([states.coefficients.double().numpy() for states in context])
        self.field_sums = np.stack(
            [features.field_term(stage, states.field[:1].double()).numpy()[0] for states in context]
        )
        self.radial_centers = features.radial_centers.detach().double().numpy()
        self.radial_widths = features.radial_widths.detach().double().numpy()
        self.empty_readouts = [float(value[0]) for value in model.empty_readouts(context, 1)]
        self.readout = FusedGhostReadout(model, device)

    def readouts(self, sums: np.ndarray, occupied: np.ndarray, dtype: type) -> list[torch.Tensor]:
        """Each state's readout minus the empty point's at the ``occupied`` points, from its neighbour
        sums (S, P, A, K)."""
        max_l = self.model.representation.features.max_l
        return [
            self.readout.readout_from_gram(torch.from_numpy(gram_terms(state_sums, occupied, max_l, dtype=dtype))).cpu()
            - empty
            for state_sums, empty in zip(sums, self.empty_readouts)
        ]


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
    model: FireannModel | CommitteeModel,
    atoms: ase.Atoms,
    field: Sequence[float] | np.ndarray | None = None,
    stress: bool | None = None,
    dtype: torch.dtype = torch.float64,
    dipole: bool = False,
) -> dict[str, np.ndarray | float]:
    """Energy (eV), forces (N, 3) eV/Å and, for fully periodic cells, stress (3, 3) eV/Å³.

    ``stress`` defaults to True when all three axes are periodic; ``dipole`` adds
    −∂E/∂ε (3,) e·Å, the learned energy's dipole. A committee adds its members'
    std of each (keys ``energy_std``, ``forces_std``, ``stress_std``, ``dipole_std``).
    """
    if model.head != keys.ENERGY:
        raise TypeError(f"a {model.head} model predicts no energy; use an energy model")
    model = model.in_dtype(dtype)
    if stress is None:
        stress = bool(np.all(atoms.pbc))
    graph = AtomGraph.from_atoms(atoms, model.species, model.cutoff, field, dtype)
    out = model(model_batch(graph), compute_forces=True, compute_stress=stress, compute_dipole=dipole)
    result: dict[str, np.ndarray | float] = {}
    for key, value in out.items():
        value = value.detach()
        if key in (keys.ENERGY, keys.std_key(keys.ENERGY)):
            result[key] = float(value[0])
        elif key in (keys.STRESS, keys.std_key(keys.STRESS), keys.DIPOLE, keys.std_key(keys.DIPOLE)):
            result[key] = value[0].numpy()
        else:
            result[key] = value.numpy()
    return result


def _numpy_dtype(dtype: torch.dtype) -> type:
    return np.float64 if dtype == torch.float64 else np.float32
