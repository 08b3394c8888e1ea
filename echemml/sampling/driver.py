"""The per-configuration sampling driver: random, TS, or TS followed by LIFS, in parallel.

For each configuration — a density file (cube, CHGCAR), a (field, zero-field)
pair of files for a response, or compact candidates from a
:class:`~echemml.io.candidates.CandidateStore` — this draws the grid points a
model trains on and returns a :class:`~echemml.io.samples.SampledConfiguration`
(with each atom's valence charge when the grid or the candidates carry them):

- ``random``: ``n_points`` uniform draws;
- ``ts``: ``n_points`` targeted draws (Eq. 5);
- ``ts+lifs``: ``ts_points`` targeted candidates, then LIFS (Eq. 6) on the
  model's ghost-point features keeps the linearly independent ones (typically
  10–100). A freshly initialised model serves the first cycle, a trained one later.

For a response (Δn can be negative) the targeted weights use |Δn|.
Configurations run in parallel through any ``concurrent.futures.Executor`` — a
local process pool by default — or a dask.distributed Client as it is.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import EchemmlError
from ..grid import DensityGrid
from ..io import read_density
from ..io.candidates import Candidates
from ..io.samples import SampledConfiguration, file_sha256
from ..parallel import map_unordered
from .algorithms import lifs_select, random_sampling, targeted_sampling

# The sampling methods and the settings each reads (besides its name); a setting another method reads is refused.
METHOD_SETTINGS = {
    "random": {"n_points", "seed"},
    "ts": {"n_points", "ts_sigma", "uniform_fraction", "seed"},
    "ts+lifs": {"ts_points", "ts_sigma", "uniform_fraction", "lifs_threshold", "seed"},
}
METHODS = tuple(METHOD_SETTINGS)


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample one configuration.

    Attributes:
        method: "random", "ts" or "ts+lifs".
        n_points: points kept by "random" and "ts" (per configuration).
        ts_points: TS candidates that LIFS screens ("ts+lifs").
        ts_sigma: σ of Eq. 5, Å³/e.
        uniform_fraction: share of uniform draws mixed into TS (vacuum coverage).
        lifs_threshold: residual above which LIFS keeps a candidate.
        seed: base seed; each configuration derives its own from it and its name.
    """

    method: str = "ts+lifs"
    n_points: int = 100
    ts_points: int = 1000
    ts_sigma: float = 30.0
    uniform_fraction: float = 0.0
    lifs_threshold: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown sampling method {self.method!r}; known: {', '.join(METHODS)}")

    @classmethod
    def from_keywords(cls, keywords: dict, default_method: str = "ts+lifs") -> SamplerSettings:
        """Settings from a configuration's keywords, refusing any the chosen method would ignore.

        ``{"method": "ts", "ts_points": 1000}`` raises ValueError: "ts" keeps
        ``n_points``, and a silently ignored ``ts_points`` would train on far
        fewer points than the file says.
        """
        method = keywords.get("method", default_method)
        settings = cls(**{**keywords, "method": method})
        unused = sorted(set(keywords) - {"method"} - METHOD_SETTINGS[method])
        if unused:
            raise ValueError(f"{', '.join(unused)} not used by method {method!r} "
                             f"(it reads {', '.join(sorted(METHOD_SETTINGS[method]))})")
        return settings


@dataclass(frozen=True)
class Source:
    """One configuration to sample: a density file, a (field, zero-field) pair, or candidates.

    ``field`` (V/Å) is the field the file was computed in (files do not record it).
    """

    path: str | None = None
    reference: str | None = None
    candidates: Candidates | None = None
    field: tuple[float, float, float] | None = None

    @property
    def name(self) -> str:
        if self.candidates is not None:
            return self.candidates.name
        return self.path if self.reference is None else f"{self.path} - {self.reference}"

    def identity(self) -> str:
        """A SHA-256 that names this source's content (resumable sampling skips known ones)."""
        if self.candidates is not None:
            digest = hashlib.sha256(self.candidates.name.encode())
            digest.update(self.candidates.ts_values.tobytes())
            return digest.hexdigest()
        digest = file_sha256(self.path)
        if self.reference is not None:
            digest = hashlib.sha256((digest + file_sha256(self.reference)).encode()).hexdigest()
        return digest


def _seed_for(settings: SamplerSettings, name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{settings.seed}:{name}".encode()).digest()[:8], "little")


def _lifs(model, atoms, positions, field, threshold, rng) -> tuple[np.ndarray, np.ndarray]:
    from .features import point_features  # torch only when LIFS runs

    features = point_features(model, atoms, positions, field)
    result = lifs_select(features, threshold, seed=rng)
    return result.accepted, result.residuals


def sample_grid(
    grid: DensityGrid,
    settings: SamplerSettings,
    model=None,
    field: np.ndarray | None = None,
    target: str = "density",
    name: str = "",
) -> SampledConfiguration:
    """Sample one density (or response, ``target="response"``) grid (e/Å³), keeping its "valence_charges" (e)."""
    rng = np.random.default_rng(_seed_for(settings, name))
    values = grid.values.reshape(-1)
    weights = np.abs(values) if target == "response" else values
    if settings.method == "random":
        chosen = random_sampling(grid.npoints, settings.n_points, rng)
    else:
        count = settings.n_points if settings.method == "ts" else settings.ts_points
        chosen = targeted_sampling(weights, count, settings.ts_sigma, settings.uniform_fraction, rng)
    positions = grid.points(chosen)
    residual_info: dict = {}
    if settings.method == "ts+lifs":
        accepted, residuals = _lifs(model, grid.atoms, positions, field, settings.lifs_threshold, rng)
        residual_info = {"candidates": int(len(chosen)), "median_residual": float(np.median(residuals))}
        chosen, positions = chosen[accepted], positions[accepted]
    return SampledConfiguration(
        atoms=grid.atoms.copy(),
        points=positions,
        targets=values[chosen],
        field=np.zeros(3) if field is None else field,
        target=target,
        indices=chosen,
        provenance={"n_grid_points": grid.npoints, "sampler": {**asdict(settings), **residual_info}},
        valence_charges=grid.metadata.get("valence_charges"),
    )


def sample_candidates(candidates: Candidates, settings: SamplerSettings, model=None) -> SampledConfiguration:
    """Sample from compact labels: prefixes of the stored random/TS orders, then LIFS.

    The configuration keeps the labels' valence charges (e), energy (eV), forces (eV/Å) and net charge (e).
    """
    rng = np.random.default_rng(_seed_for(settings, candidates.name))
    if settings.method == "random":
        order, values = candidates.random_order, candidates.random_values
        count = settings.n_points
    else:
        order, values = candidates.ts_order, candidates.ts_values
        count = settings.n_points if settings.method == "ts" else settings.ts_points
        if candidates.attrs.get("ts_sigma") not in (None, settings.ts_sigma):
            raise EchemmlError(
                f"{candidates.name}: its TS candidates were drawn with σ = {candidates.attrs['ts_sigma']} Å³/e, "
                f"not {settings.ts_sigma}: sample with that σ (--ts-sigma {candidates.attrs['ts_sigma']})"
            )
    n_uniform = int(round(settings.uniform_fraction * count)) if settings.method != "random" else 0
    if count - n_uniform > len(order) or n_uniform > len(candidates.random_order):
        raise EchemmlError(
            f"{candidates.name}: {count - n_uniform} {settings.method} and {n_uniform} uniform points asked for, "
            f"{len(order)} and {len(candidates.random_order)} candidates stored"
        )
    chosen, values = order[:count], values[:count]
    if n_uniform > 0:
        # TS mixed with uniform draws: the first of the stored random order replace the last TS ones
        chosen = np.concatenate([order[: count - n_uniform], candidates.random_order[:n_uniform]])
        values = np.concatenate([values[: count - n_uniform], candidates.random_values[:n_uniform]])
        keep = np.sort(np.unique(chosen, return_index=True)[1])  # a point drawn by both, once
        chosen, values = chosen[keep], values[keep]
    positions = candidates.positions_of(chosen)
    residual_info: dict = {}
    if settings.method == "ts+lifs":
        accepted, residuals = _lifs(
            model, candidates.atoms, positions, candidates.field, settings.lifs_threshold, rng
        )
        residual_info = {"candidates": int(count), "median_residual": float(np.median(residuals))}
        chosen, values, positions = chosen[accepted], values[accepted], positions[accepted]
    n_grid = int(np.prod(candidates.shape))
    return SampledConfiguration(
        atoms=candidates.atoms.copy(),
        points=positions,
        targets=values,
        field=candidates.field,
        target=str(candidates.attrs.get("target", "density")),
        indices=chosen,
        provenance={"source": candidates.name, "n_grid_points": n_grid,
                    "sampler": {**asdict(settings), **residual_info}},
        valence_charges=candidates.attrs.get("valence_charges"),
        energy=candidates.attrs.get("energy"),
        forces=candidates.forces,
        charge=int(candidates.attrs.get("charge", 0)),
    )


def sample_source(source: Source, settings: SamplerSettings, model=None) -> SampledConfiguration:
    """Sample one :class:`Source` and record where it came from."""
    if source.candidates is not None:
        sampled = sample_candidates(source.candidates, settings, model)
    else:
        grid = read_density(source.path)
        target = "density"
        field = None if source.field is None else np.asarray(source.field, dtype=float)
        if source.reference is not None:
            grid = grid.difference(read_density(source.reference))
            target = "response"
        sampled = sample_grid(grid, settings, model, field, target, name=source.name)
        sampled.provenance["source"] = source.name
    sampled.provenance["source_sha256"] = source.identity()
    return sampled


def sample_configurations(
    sources: Sequence[Source],
    settings: SamplerSettings,
    model=None,
    executor: concurrent.futures.Executor | object | None = None,
    workers: int | None = None,
) -> Iterator[tuple[Source, SampledConfiguration]]:
    """Sample many configurations in parallel; yields (source, sample) as each finishes.

    ``executor``: a ``concurrent.futures.Executor``, or a dask.distributed Client
    (its ``get_executor()`` is used), or None for a local process pool of
    ``workers`` processes (default: the CPU count; 1 runs in this process).
    ``model`` (a FIREANN model whose features LIFS screens) travels to the workers
    pickled; it is only needed for "ts+lifs".
    """
    if settings.method == "ts+lifs" and model is None:
        raise ValueError("ts+lifs sampling needs a model whose ghost-point features LIFS screens")
    yield from map_unordered(sample_source, sources, settings, model, executor=executor, workers=workers)


def sources_from_paths(
    paths: Sequence[str | os.PathLike],
    references: Sequence[str | os.PathLike] | None = None,
    field: Sequence[float] | None = None,
) -> list[Source]:
    """Sources for density files, or (field, zero-field) pairs when ``references`` are given.

    ``field`` (V/Å) is the field of every file (needed for responses).
    """
    paths = [str(Path(p)) for p in paths]
    field = None if field is None else tuple(float(x) for x in field)
    if references:
        if len(references) not in (1, len(paths)):
            raise ValueError("give one zero-field reference, or one per field file")
        references = list(references) * (len(paths) if len(references) == 1 else 1)
        return [Source(path=p, reference=str(r), field=field) for p, r in zip(paths, references)]
    return [Source(path=p, field=field) for p in paths]
