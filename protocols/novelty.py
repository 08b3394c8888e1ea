"""Novelty of a configuration for a model: its LIFS residual against the training data's feature basis.

LIFS (:func:`echemml.sampling.lifs_select`, the paper's Eq. 6) keeps a grid point when
its FIREANN feature vector ρ is not (nearly) a linear combination of those already kept,
judged by the normalised least-squares residual ε = ‖ρ − QᵀQρ‖ / ‖ρ‖ against the
orthonormal rows Q of the kept vectors. Run over a model's training samples, LIFS leaves
a basis that spans every environment the model was trained on; the same residual of a
new configuration's vectors against that basis is its **novelty**: ≈ 0 where the model
interpolates between environments it has seen, up to 1 where it extrapolates. It is
dimensionless, needs no committee and no DFT, and says *where* (which atom, which point
in space) the configuration is new.

Two kinds of vectors, two kinds of bases (:class:`NoveltyBasis`):

* ghost points — the final-stage FI-EAD features ρ of grid points, what a density or
  response readout sees (:func:`echemml.sampling.point_features`);
* atoms — the final-stage FI-EAD features of each real atom after the T message-passing
  iterations (:attr:`echemml.model.fireann.AtomStates.features`), one basis per element.
  They are what an energy head's readout sees. A density or response head has no
  per-atom readout; for it the same vectors serve: an atom's final-stage features are
  the ghost-point features at the atom's position (same radial functions, contraction,
  final orbital coefficients and field term) without the atom's own contribution, so
  they are the representation the head reads, evaluated at the atom.

A committee has no features of its own: its first member's stand for it.
Points with no atom within the cutoff carry no information (their features are the
field term alone) and are left out of bases and scores (residual 0). Lengths in Å,
fields in V/Å; residuals are dimensionless.

Beside it, :func:`committee_deviation` gives DP-GEN's committee signal (force std for
energy committees, NMAE-scale std for density and response committees), and
:class:`TrustLevels` turns either score into DP-GEN's three classes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import ase
import h5py
import numpy as np
import torch

from echemml import keys
from echemml.errors import EchemmlError, InputFileError
from echemml.grid import DensityGrid, uniform_grid
from echemml.io.files import atomic_open
from echemml.io.samples import SampledConfiguration
from echemml.model import CommitteeModel, FireannModel, predict_energy, predict_points
from echemml.sampling import lifs_select
from echemml.sampling.features import FEATURE_CHUNK, StructureFeatures

FORMAT_NAME = "echemml-novelty"
FORMAT_VERSION = 1
UNITS = {"threshold": "", "ghost": "", "atoms": ""}  # residuals and orthonormal rows are dimensionless
DEFAULT_THRESHOLD = 0.01
DEFAULT_GHOST_POINTS = 500
TRUSTED, CANDIDATE, FAILED = "trusted", "candidate", "failed"

Model = FireannModel | CommitteeModel


# ------------------------------------------------------------------- residuals
def residuals(basis_rows: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Normalised residuals ‖x − QᵀQx‖ / ‖x‖ of many vectors at once, (n,), dimensionless.

    ``basis_rows`` Q (r, M) are orthonormal rows (r may be 0: every non-zero vector then
    has residual 1); ``features`` (n, M) (or one vector (M,)). A zero vector has residual 0.
    """
    features = np.atleast_2d(np.asarray(features, dtype=np.float64))
    basis_rows = np.asarray(basis_rows, dtype=np.float64)
    if basis_rows.size == 0:
        basis_rows = np.zeros((0, features.shape[1]))
    elif basis_rows.ndim != 2 or basis_rows.shape[1] != features.shape[1]:
        raise ValueError(f"basis rows of shape {basis_rows.shape} for vectors of length {features.shape[1]}")
    norms = np.linalg.norm(features, axis=1)
    rest = features - (features @ basis_rows.T) @ basis_rows
    result = np.zeros(len(features))
    nonzero = norms > 0
    result[nonzero] = np.linalg.norm(rest[nonzero], axis=1) / norms[nonzero]
    return result


# ------------------------------------------------------------------- features
def feature_model(model: Model) -> FireannModel:
    """The single model whose features stand for ``model``: itself, or a committee's first member."""
    return model.members[0]


def feature_fingerprint(model: Model) -> str:
    """SHA-256 of the weights that shape :func:`feature_model`'s features (its representation, as float32).

    A basis holds for the model it was built with: retrained features need a new basis.
    """
    digest = hashlib.sha256()
    for name, tensor in sorted(feature_model(model).representation.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to(torch.float32).cpu().numpy().tobytes())
    return digest.hexdigest()


def points_near_atoms(atoms: ase.Atoms, cutoff: float, n_points: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """``n_points`` random points (n, 3), Å, each within ``cutoff`` Å of an atom.

    Each point lies uniformly in the sphere of radius ``cutoff`` around an atom drawn at
    random, so every point has an atom in range (points where spheres overlap are
    drawn more often, as the atoms there are more).
    """
    rng = np.random.default_rng(seed)
    centres = atoms.positions[rng.integers(len(atoms), size=n_points)]
    directions = rng.normal(size=(n_points, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = cutoff * rng.uniform(size=n_points) ** (1.0 / 3.0)
    return centres + directions * radii[:, None]


# ------------------------------------------------------------------- the basis
@dataclass
class NoveltyBasis:
    """Orthonormal bases of a model's training-set feature vectors (rows, dimensionless).

    Attributes:
        ghost: (r, M) rows spanning the ghost-point features at the training samples.
        atoms: element symbol → (r_e, M) rows spanning that element's atom features.
            An element the model knows but the training set lacked has no entry: all
            its atoms are new (residual 1).
        threshold: the LIFS residual above which a vector joined the basis; every
            training vector's residual against the basis is at most this.
        model: the model (file or shipped name) whose features these are.
        samples: the sample set the vectors came from.
        n_configurations: configurations read.
        n_ghost_seen: ghost-point vectors LIFS considered.
        n_atoms_seen: element symbol → atom vectors LIFS considered.
        fingerprint: :func:`feature_fingerprint` of the model; scoring with another model is refused.
    """

    ghost: np.ndarray
    atoms: dict[str, np.ndarray]
    threshold: float
    model: str = ""
    samples: str = ""
    n_configurations: int = 0
    n_ghost_seen: int = 0
    n_atoms_seen: dict[str, int] = dataclasses.field(default_factory=dict)
    fingerprint: str = ""

    @property
    def n_features(self) -> int:
        """M, the length of the feature vectors."""
        return int(self.ghost.shape[1])

    def atom_rows(self, symbol: str) -> np.ndarray:
        """The rows spanning element ``symbol``'s atom features, (r_e, M); (0, M) for an unseen element."""
        return self.atoms.get(symbol, np.zeros((0, self.n_features)))

    def check_model(self, model: Model) -> None:
        """Raise EchemmlError unless ``model``'s features are the ones this basis was built from."""
        if self.n_features != model.config.n_features or feature_fingerprint(model) != self.fingerprint:
            raise EchemmlError(
                f"novelty basis built from the features of another model (recorded: {self.model or 'unnamed'}); "
                "build one for this model with `echemml novelty MODEL --build SAMPLES.h5`"
            )

    def save(self, path: str | os.PathLike) -> None:
        """Write the basis as a small HDF5 file, atomically.

        Layout: root attributes ``format`` ("echemml-novelty"), ``version``, ``units``
        (JSON), ``threshold``, ``model``, ``samples``, ``n_configurations``,
        ``n_ghost_seen``, ``fingerprint``; dataset ``ghost`` (r, M); group ``atoms``
        with one dataset (r_e, M) per element symbol, attribute ``n_seen``.
        """
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as handle:
            handle.attrs.update({
                "format": FORMAT_NAME, "version": FORMAT_VERSION, "units": json.dumps(UNITS),
                "threshold": self.threshold, "model": self.model, "samples": self.samples,
                "n_configurations": self.n_configurations, "n_ghost_seen": self.n_ghost_seen,
                "fingerprint": self.fingerprint,
            })
            handle["ghost"] = np.asarray(self.ghost, dtype=np.float64)
            group = handle.create_group("atoms")
            for symbol, rows in sorted(self.atoms.items()):
                group[symbol] = np.asarray(rows, dtype=np.float64)
                group[symbol].attrs["n_seen"] = self.n_atoms_seen.get(symbol, 0)
        with atomic_open(path, "wb") as handle:
            handle.write(buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike) -> NoveltyBasis:
        """Read a basis written by :meth:`save`; a missing, foreign or damaged file raises InputFileError naming it."""
        path = Path(path)
        if not path.is_file():
            raise InputFileError(path, "no such novelty basis file")
        try:
            handle = h5py.File(path, "r")
        except OSError as exc:
            raise InputFileError(path, f"not a readable HDF5 file ({exc})") from None
        with handle:
            if handle.attrs.get("format") != FORMAT_NAME:
                raise InputFileError(path, f"not an {FORMAT_NAME} file")
            version = int(handle.attrs.get("version", -1))
            if version != FORMAT_VERSION:
                raise InputFileError(path, f"{FORMAT_NAME} format version {version}; this echemml reads {FORMAT_VERSION}")
            try:
                attrs = handle.attrs
                basis = cls(
                    ghost=handle["ghost"][()],
                    atoms={symbol: rows[()] for symbol, rows in handle["atoms"].items()},
                    threshold=float(attrs["threshold"]),
                    model=str(attrs["model"]),
                    samples=str(attrs["samples"]),
                    n_configurations=int(attrs["n_configurations"]),
                    n_ghost_seen=int(attrs["n_ghost_seen"]),
                    n_atoms_seen={symbol: int(rows.attrs["n_seen"]) for symbol, rows in handle["atoms"].items()},
                    fingerprint=str(attrs["fingerprint"]),
                )
            except (AttributeError, KeyError, OSError, TypeError, ValueError) as exc:
                raise InputFileError(path, f"damaged novelty basis ({exc})") from None
        shapes_agree = basis.ghost.ndim == 2 and all(
            rows.ndim == 2 and rows.shape[1] == basis.n_features for rows in basis.atoms.values()
        )
        if not shapes_agree or not 0.0 < basis.threshold < 1.0:
            raise InputFileError(path, "damaged novelty basis (inconsistent shapes or threshold)")
        return basis


def build_basis(
    model: Model,
    configurations: Iterable[SampledConfiguration],
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 0,
    model_name: str = "",
    samples: str = "",
) -> NoveltyBasis:
    """The novelty basis of a model's training samples, grown configuration by configuration with LIFS.

    For each configuration (its atoms, sampled points in Å and field in V/Å), the
    ghost-point features at its sampled points (those with an atom within the cutoff)
    and each element's atom features are screened by :func:`lifs_select` against the
    basis so far; a vector joins when its residual exceeds ``threshold`` (0 < t < 1).
    A committee's first member gives the features. ``model_name`` and ``samples`` are
    recorded as provenance.
    """
    if not 0.0 < threshold < 1.0:
        raise EchemmlError(f"the novelty threshold must lie in (0, 1), got {threshold}")
    rng = np.random.default_rng(seed)
    n_features = model.config.n_features
    ghost = np.zeros((0, n_features))
    atom_bases: dict[str, np.ndarray] = {}
    n_atoms_seen: dict[str, int] = {}
    n_configurations = n_ghost_seen = 0
    for config in configurations:
        features = StructureFeatures(feature_model(model), config.atoms, config.field)
        _, point_features = features.occupied_point_features(config.points)
        ghost = lifs_select(point_features, threshold, seed=rng, basis=ghost).basis
        n_ghost_seen += len(point_features)
        symbols = np.array(config.atoms.get_chemical_symbols())
        atom_features = features.atom_features()
        for symbol in sorted(set(symbols)):
            vectors = atom_features[symbols == symbol]
            atom_bases[symbol] = lifs_select(vectors, threshold, seed=rng, basis=atom_bases.get(symbol)).basis
            n_atoms_seen[symbol] = n_atoms_seen.get(symbol, 0) + len(vectors)
        n_configurations += 1
    return NoveltyBasis(
        ghost=ghost, atoms=atom_bases, threshold=float(threshold), model=model_name, samples=samples,
        n_configurations=n_configurations, n_ghost_seen=n_ghost_seen, n_atoms_seen=n_atoms_seen,
        fingerprint=feature_fingerprint(model),
    )


# ------------------------------------------------------------------- scoring
@dataclass
class FrameNovelty:
    """The novelty of one configuration: residuals of its atoms and of ghost points around it (dimensionless).

    Attributes:
        elements: element symbol of each atom.
        atom_residuals: (N,) each atom's residual against its element's basis.
        ghost_points: (P, 3) the ghost points scored, Å.
        ghost_residuals: (P,) their residuals against the ghost basis (0 with no atom in range).
    """

    elements: list[str]
    atom_residuals: np.ndarray
    ghost_points: np.ndarray
    ghost_residuals: np.ndarray

    @property
    def atoms_max(self) -> float:
        """The largest atom residual."""
        return float(self.atom_residuals.max(initial=0.0))

    @property
    def ghost_max(self) -> float:
        """The largest ghost-point residual."""
        return float(self.ghost_residuals.max(initial=0.0))

    @property
    def max(self) -> float:
        """The largest residual over atoms and ghost points: the frame's novelty."""
        return max(self.atoms_max, self.ghost_max)

    @property
    def mean(self) -> float:
        """The mean residual over atoms and ghost points together."""
        return float(np.concatenate([self.atom_residuals, self.ghost_residuals]).mean())

    @property
    def most_novel_atom(self) -> int:
        """Index of the atom with the largest residual."""
        return int(np.argmax(self.atom_residuals))

    def summary(self) -> dict:
        """Plain JSON-ready numbers: max, mean, atoms_max, ghost_max, the most novel atom, per-atom residuals."""
        atom = self.most_novel_atom
        return {
            "max": self.max,
            "mean": self.mean,
            "atoms_max": self.atoms_max,
            "ghost_max": self.ghost_max,
            "most_novel_atom": {"index": atom, "element": self.elements[atom],
                                "residual": float(self.atom_residuals[atom])},
            "atom_residuals": [float(value) for value in self.atom_residuals],
            "n_ghost_points": len(self.ghost_points),
        }


def score_frame(
    model: Model,
    atoms: ase.Atoms,
    basis: NoveltyBasis,
    field: Sequence[float] | np.ndarray | None = None,
    n_points: int = DEFAULT_GHOST_POINTS,
    seed: int = 0,
) -> FrameNovelty:
    """The novelty of ``atoms`` in ``field`` (V/Å) against ``basis`` (built with this model).

    Every atom is scored against its element's basis; ``n_points`` ghost points drawn at
    random within the model's cutoff of the atoms (:func:`points_near_atoms`, seeded by
    ``seed``) against the ghost basis.
    """
    basis.check_model(model)
    features = StructureFeatures(feature_model(model), atoms, field)
    symbols = atoms.get_chemical_symbols()
    atom_features = features.atom_features()
    atom_residuals = np.zeros(len(atoms))
    for symbol in set(symbols):
        mine = np.array(symbols) == symbol
        atom_residuals[mine] = residuals(basis.atom_rows(symbol), atom_features[mine])
    points = points_near_atoms(atoms, model.cutoff, n_points, seed)
    ghost_residuals = np.zeros(len(points))
    occupied, point_features = features.occupied_point_features(points)
    ghost_residuals[occupied] = residuals(basis.ghost, point_features)
    return FrameNovelty(symbols, atom_residuals, points, ghost_residuals)


def novelty_grid(
    model: Model,
    atoms: ase.Atoms,
    basis: NoveltyBasis,
    spacing: float = 0.2,
    margin: float = 4.0,
    field: Sequence[float] | np.ndarray | None = None,
) -> DensityGrid:
    """The novelty map: each grid point's ghost residual against ``basis`` (dimensionless, float32).

    The grid is :func:`echemml.grid.uniform_grid` of ``atoms`` (``spacing`` and
    ``margin`` in Å; a periodic structure's grid spans its cell); points with no atom
    within the cutoff are 0. Features are computed in chunks, so memory stays bounded.
    """
    basis.check_model(model)
    grid = uniform_grid(atoms, spacing, margin, dtype=np.float32)
    features = StructureFeatures(feature_model(model), atoms, field)
    values = grid.values.reshape(-1)
    for chunk, points in grid.iter_points(chunk_size=FEATURE_CHUNK * 16):
        occupied, point_features = features.occupied_point_features(points)
        values[chunk.start + occupied] = residuals(basis.ghost, point_features)
    grid.metadata.update({"quantity": "LIFS novelty residual", "unit": "", "model": basis.model})
    return grid


# ------------------------------------------------------------------- committees and trust levels
def committee_deviation(
    model: CommitteeModel,
    atoms: ase.Atoms,
    field: Sequence[float] | np.ndarray | None = None,
    points: np.ndarray | None = None,
) -> float:
    """DP-GEN's committee signal for ``atoms`` in ``field`` (V/Å).

    * energy committee: the largest, over atoms, force deviation
      max_i √(Σ_c σ²_{i,c}) in eV/Å, σ the members' std (ddof 0) of each force component;
    * density or response committee: Σ|σ| / Σ|mean| × 100 over ``points`` (n, 3) Å, in %
      (the NMAE scale), σ the members' std of the values; ``points`` default to
      :data:`DEFAULT_GHOST_POINTS` random points within the cutoff (seed 0). 0 when
      the members agree on zero everywhere.

    A single model has no spread: EchemmlError.
    """
    if len(model.members) < 2:
        raise EchemmlError("committee deviation needs a committee (a model of at least 2 members), "
                           "not a single model")
    if model.head == keys.ENERGY:
        if points is not None:
            raise ValueError("an energy committee's deviation reads the forces; it takes no points")
        forces_std = predict_energy(model, atoms, field=field, stress=False)[keys.std_key(keys.FORCES)]
        return float(np.linalg.norm(forces_std, axis=1).max())
    if points is None:
        points = points_near_atoms(atoms, model.cutoff, DEFAULT_GHOST_POINTS)
    values = np.stack([predict_points(member, atoms, points, field, dtype=torch.float64) for member in model.members])
    spread = np.abs(values.std(axis=0)).sum()
    total = np.abs(values.mean(axis=0)).sum()
    if spread == 0.0:
        return 0.0
    return float(100.0 * spread / total) if total > 0.0 else math.inf


@dataclass(frozen=True)
class TrustLevels:
    """DP-GEN's two trust levels on a score (novelty residual, force deviation in eV/Å, or % spread).

    Below ``lo`` a frame is trusted; from ``lo`` to below ``hi`` it is a candidate for
    labelling; at ``hi`` or above (or NaN) it has failed: flagged as unphysical, not labelled.
    """

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and 0.0 <= self.lo < self.hi):
            raise EchemmlError(f"trust levels need 0 ≤ lo < hi (finite), got lo {self.lo}, hi {self.hi}")

    def raised_to(self, lo: float) -> "TrustLevels":
        """These levels with ``lo`` raised to ``lo`` where that is higher (kept below ``hi``)."""
        if not lo > self.lo:
            return self
        return dataclasses.replace(self, lo=min(float(lo), math.nextafter(self.hi, 0.0)))

    def classify(self, score: float) -> str:
        """"trusted", "candidate" or "failed" for ``score``."""
        if score < self.lo:
            return TRUSTED
        if score < self.hi:
            return CANDIDATE
        return FAILED


__all__ = [
    "CANDIDATE", "DEFAULT_GHOST_POINTS", "DEFAULT_THRESHOLD", "FAILED", "FORMAT_NAME", "FORMAT_VERSION", "TRUSTED",
    "FrameNovelty", "NoveltyBasis", "TrustLevels", "build_basis", "committee_deviation",
    "feature_fingerprint", "feature_model", "novelty_grid", "points_near_atoms", "residuals", "score_frame",
]
