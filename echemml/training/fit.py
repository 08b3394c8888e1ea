"""Sampling–training cycles (``echemml fit``): sample with the current model's features, train, repeat.

LIFS judges candidate points by the model's FI-EAD feature vectors, which
depend on learned parameters (Feng, Zhang & Jiang, JCTC 2025, Sec. 2.3). Cycle 1
samples with a freshly initialised model and trains it; each later cycle samples
again with the model trained so far and trains it further (warm start, the
target scaling kept). Folder layout::

    OUT/cycle_1/samples.h5   the points sampled in this cycle
    OUT/cycle_1/train/       the Trainer's run folder (checkpoint.pt, model.pt, log.csv, ...)
    OUT/cycle_2/...

A finished cycle (its train/model.pt exists) is skipped when fit runs again, an
interrupted training resumes from its checkpoint, so rerunning continues the work.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ..errors import EchemmlError
from ..io.samples import SampledConfiguration, SampleSet
from ..model.files import load_model
from ..model.fireann import FireannConfig
from ..model.heads import GhostPointModel, build_model
from . import distributed
from .config import Config, FitSettings
from .trainer import CHECKPOINT_NAME, Trainer

if TYPE_CHECKING:
    from ..io.candidates import Candidates, CandidateStore


def store_candidates(store: CandidateStore, names: Sequence[str], target: str) -> list[Candidates]:
    """The configurations of a candidate store that fit samples: those whose name matches one of
    ``names`` (shell patterns; all when empty) and whose labels are ``target`` ("density" or "response")."""
    chosen = []
    for name in store.names():
        if names and not any(fnmatch.fnmatchcase(name, pattern) for pattern in names):
            continue
        candidates = store[name]
        if candidates.attrs.get("target", "density") == target:
            chosen.append(candidates)
    return chosen


def sample_with_model(settings: FitSettings, model: GhostPointModel) -> list[SampledConfiguration]:
    """The sampling step: every input sampled (TS candidates kept by LIFS on ``model``'s features).

    From a candidate store it takes the configurations that ``settings.names``
    matches and whose labels are what the model learns (densities for a density
    model, responses Δn for a response model).

    Delegates to :func:`echemml.sampling.driver.sample_configurations`; the configurations
    come back in the order of the inputs, whatever order the workers finish in.
    """
    from ..io.candidates import CandidateStore
    from ..sampling.driver import SamplerSettings, Source, sample_configurations, sources_from_paths

    sources = []
    if settings.inputs:
        sources = sources_from_paths(settings.inputs, settings.references or None, settings.field)
    if settings.candidates:
        target = "response" if model.head == "response" else "density"
        with CandidateStore(settings.candidates) as store:
            sources += [Source(candidates=candidates) for candidates in store_candidates(store, settings.names, target)]
    if not sources:
        raise EchemmlError("echemml fit needs fit.inputs (density files) or fit.candidates (a candidate store)")
    try:
        sampler = SamplerSettings.from_keywords(settings.sampler)
    except (TypeError, ValueError) as exc:
        raise EchemmlError(f"fit.sampler: {exc}") from None
    position = {source.name: index for index, source in enumerate(sources)}
    results = sample_configurations(sources, sampler, model, workers=settings.workers)
    return [sampled for _, sampled in sorted(results, key=lambda pair: position[pair[0].name])]


def write_samples(configurations: list[SampledConfiguration], path: Path) -> Path:
    """Write sampled configurations to a new sample set, renamed into place once complete."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    with SampleSet(partial, "a") as samples:
        for configuration in configurations:
            samples.append(configuration)
    os.replace(partial, path)
    return path


def initial_model(config: Config) -> GhostPointModel:
    """The freshly initialised model of cycle 1 (the same weights the Trainer starts from)."""
    m = config.model
    if not m.species:
        raise EchemmlError("echemml fit needs model.species (atomic numbers) in its configuration")
    torch.manual_seed(config.training.seed)
    fireann = FireannConfig(
        species=tuple(int(z) for z in m.species), cutoff=float(m.cutoff), n_radial=int(m.n_radial),
        max_l=int(m.max_l), n_iterations=int(m.n_iterations),
        orbital_hidden=tuple(int(w) for w in m.orbital_hidden), readout_hidden=tuple(int(w) for w in m.readout_hidden),
    )
    return build_model(fireann, config.head)


def fit(config: Config, out_dir: str | os.PathLike, progress_bar: bool = True) -> Path:
    """Run ``config.fit.cycles`` sampling–training cycles; returns the last cycle's model file.

    Density and response heads only: an energy model learns whole configurations'
    energies and forces, which have no grid points to sample (``echemml train``).
    """
    if config.head == "energy":
        raise EchemmlError("fit samples grid points for density and response models; train an energy model "
                           "with echemml train on labelled frames or sample sets (head: energy)")
    out_dir = Path(out_dir)
    context = distributed.start()
    model = initial_model(config)
    model_path = None
    for cycle in range(1, config.fit.cycles + 1):
        cycle_dir = out_dir / f"cycle_{cycle}"
        samples, run_dir = cycle_dir / "samples.h5", cycle_dir / "train"
        model_path = run_dir / "model.pt"
        if not model_path.exists():
            if context.is_main and not samples.exists():
                cycle_dir.mkdir(parents=True, exist_ok=True)
                write_samples(sample_with_model(config.fit, model), samples)
            distributed.barrier(context)
            if (run_dir / CHECKPOINT_NAME).exists():
                trainer = Trainer.resume(run_dir, samples, progress_bar=progress_bar)
            else:
                trainer = Trainer(config, samples, run_dir, None if cycle == 1 else model, progress_bar)
            trainer.train()
        model = load_model(model_path)
    return model_path
