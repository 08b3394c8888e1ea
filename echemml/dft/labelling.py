"""Labelling many molecules with the embedded PySCF engine, in parallel, resumably.

:func:`label_molecules` runs PySCF on each molecule — here, in a pool of local
processes, or on a dask.distributed cluster (:func:`echemml.parallel.map_unordered`)
— and keeps, per molecule, what :class:`LabelJob` asks for:

- ``NAME.cube`` (valence density) and ``NAME.json`` (energy in eV, forces in
  eV/Å, electron counts, settings, timings) in ``out``, written atomically by
  the worker;
- the compact labels (random- and TS-order candidates with their densities,
  :func:`echemml.io.candidates.candidates_from_grid`) in a
  :class:`~echemml.io.candidates.CandidateStore`, written by this process only,
  one molecule at a time, so that the store has a single writer.

A molecule whose SCF does not converge leaves ``NAME.failed.json`` and nothing
else. Whatever finished stays when the run is stopped, and a molecule already
labelled is skipped by :func:`is_labelled`, so a rerun resumes.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import ase
import numpy as np

from ..io import write_density
from ..io.candidates import Candidates, CandidateStore, candidates_from_grid
from ..io.files import atomic_open
from ..parallel import map_unordered
from .pyscf import PySCFSettings, run_pyscf


@dataclass(frozen=True)
class LabelJob:
    """How every molecule of a batch is labelled (travels to the workers pickled).

    Attributes:
        settings: the PySCF recipe (basis, functional, grid spacing and margin).
        field: uniform field in V/Å, or None.
        compute_forces: also compute forces (eV/Å) for the JSON record and the store.
        out: folder for NAME.cube + NAME.json, or None.
        keep_candidates: return compact labels for a candidate store.
        random_points, ts_points: candidates per molecule in random and TS order.
        ts_sigma: TS σ, Å³/e.
        seed: added to a QM9 molecule's index to seed its candidate draws.
        threads: PySCF threads per molecule (None: as the environment says).
    """

    settings: PySCFSettings = dataclasses.field(default_factory=PySCFSettings)
    field: tuple[float, float, float] | None = None
    compute_forces: bool = True
    out: Path | None = None
    keep_candidates: bool = False
    random_points: int = 1000
    ts_points: int = 1000
    ts_sigma: float = 30.0
    seed: int = 0
    threads: int | None = None


@dataclass
class MoleculeLabel:
    """What labelling one molecule gave: its JSON record, and its candidates if asked for."""

    name: str
    record: dict
    converged: bool
    candidates: Candidates | None = None


def is_labelled(name: str, job: LabelJob, store: CandidateStore | None) -> bool:
    """Whether every output the job asks for already holds molecule ``name``."""
    in_out = job.out is None or (Path(job.out) / f"{name}.cube").exists()
    return in_out and (store is None or name in store)


def label_molecule(named: tuple[str, ase.Atoms], job: LabelJob) -> MoleculeLabel:
    """Run PySCF on one (name, molecule) pair and write or return what ``job`` asks for."""
    name, atoms = named
    if job.threads:
        from pyscf import lib

        lib.num_threads(job.threads)
    field_v_per_a = None if job.field is None else np.asarray(job.field, dtype=float)
    result = run_pyscf(atoms, field=field_v_per_a, settings=job.settings, compute_forces=job.compute_forces)
    record = {"name": name, **result.summary(), "qm9_index": atoms.info.get("qm9_index")}
    out = None if job.out is None else Path(job.out)
    if not result.converged:
        if out is not None:
            with atomic_open(out / f"{name}.failed.json") as handle:
                json.dump({**record, "error": "SCF did not converge"}, handle, indent=1)
        return MoleculeLabel(name, record, converged=False)
    candidates = None
    if job.keep_candidates:
        candidates = candidates_from_grid(
            name, result.grid, n_random=job.random_points, n_ts=job.ts_points, ts_sigma=job.ts_sigma,
            seed=int(atoms.info.get("qm9_index", 0)) + job.seed, field=result.field, forces=result.forces,
            attrs={
                "code": "pyscf",
                "settings": json.dumps(result.parameters),
                "energy_eV": result.energy,
                "n_valence": result.n_valence,
                "electrons_on_grid": result.grid.integral(),
                "scf_seconds": result.timings.get("scf"),
            },
        )
    if out is not None:
        with atomic_open(out / f"{name}.json") as handle:
            json.dump(record, handle, indent=1)
        write_density(result.grid, out / f"{name}.cube")
    return MoleculeLabel(name, record, converged=True, candidates=candidates)


def label_molecules(
    molecules: Mapping[str, ase.Atoms],
    job: LabelJob,
    store: CandidateStore | None = None,
    executor: object | None = None,
    workers: int = 1,
) -> Iterator[MoleculeLabel]:
    """Label every molecule not yet labelled; yields each :class:`MoleculeLabel` as it finishes.

    ``store`` (open for appending) receives the candidates of each converged
    molecule as soon as it finishes. ``workers`` local processes share the
    machine (each gets CPU count ÷ workers PySCF threads unless ``job.threads``
    says otherwise); ``executor`` (a dask.distributed Client or a
    ``concurrent.futures.Executor``) replaces the local pool, and its workers'
    environment sets their threads unless ``job.threads`` does.
    """
    if job.keep_candidates and store is None:
        raise ValueError("keep_candidates needs a store to put them in")
    if executor is None and workers > 1 and job.threads is None:
        job = dataclasses.replace(job, threads=max(1, (os.cpu_count() or 1) // workers))
    if job.out is not None:
        Path(job.out).mkdir(parents=True, exist_ok=True)
    todo = [(name, atoms) for name, atoms in molecules.items() if not is_labelled(name, job, store)]
    for _, label in map_unordered(label_molecule, todo, job, executor=executor, workers=workers):
        if store is not None and label.candidates is not None and label.name not in store:
            store.add(label.candidates)
        yield label
