"""DFT labellers of an active-learning run and the executor their jobs go through.

:class:`PySCFLabeller` labels molecules with the embedded PySCF engine
(:func:`echemml.dft.labelling.label_molecules`: energy in eV, forces in eV/Å, and the
density's compact-label candidates); :class:`SlabLabeller` labels slabs with CP2K or
VASP (:func:`echemml.dft.labelling.label_slabs`: the zero-field density and Δn in the
MD's field, V/Å). Both take the ``dft`` section of the settings
(:class:`~echemml.protocols.learning_settings.DFTSettings`), label only the frames not
yet in their outputs, and yield a :class:`JobOutcome` (seconds, energy in eV, error)
per frame as it finishes. :func:`dft_executor` opens where the jobs run: a local
process pool, a dask.distributed LocalCluster or a scheduler.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ase
import numpy as np

from echemml.errors import EchemmlError

from .learning_settings import DFTSettings


@dataclass
class JobOutcome:
    """One finished DFT job: the frame's name, whether it gave a label, seconds, energy (eV) and the error."""

    name: str
    ok: bool
    seconds: float
    energy: float | None = None
    error: str = ""


class PySCFLabeller:
    """Labels molecules with the embedded PySCF engine: energy, forces, and density candidates
    (and, with ``response``, the candidates of Δn in the field from a second, zero-field SCF).

    Through :func:`echemml.dft.labelling.label_molecules`: the compact labels go to the
    candidate store ``store``, the labelled frames (energy eV, forces eV/Å, charge,
    field) to the extxyz ``frames``; an SCF that does not converge gives no label.
    """

    def __init__(self, settings: DFTSettings, field: np.ndarray, store: Path, frames: Path, response: bool = False):
        from echemml.dft.labelling import LabelJob
        from echemml.dft.pyscf import PySCFSettings

        self.store = store
        self.workers = settings.workers
        self.job = LabelJob(
            settings=PySCFSettings(**settings.pyscf), field=tuple(float(x) for x in field), compute_forces=True,
            frames=frames, keep_candidates=True, random_points=settings.random_points, ts_points=settings.ts_points,
            ts_sigma=settings.ts_sigma, threads=settings.threads, response=response,
        )

    def label(self, frames: dict[str, ase.Atoms], executor: object | None) -> Iterator[JobOutcome]:
        """Label the frames not yet labelled; yields each outcome as it finishes."""
        from echemml.dft.labelling import label_molecules

        for label in label_molecules(frames, self.job, self.store, executor=executor, workers=self.workers):
            seconds = float(sum(label.record.get("timings_s", {}).values()))
            yield JobOutcome(label.name, label.converged, seconds, label.record.get("energy_eV"),
                             "" if label.converged else "SCF did not converge")

    def is_labelled(self, name: str) -> bool:
        """Whether frame ``name`` is in every output (store and frames)."""
        from echemml.dft.labelling import is_labelled, stored_names

        return is_labelled(name, self.job, stored_names(self.store))


class SlabLabeller:
    """Labels slabs with CP2K or VASP (``dft.engine``): the zero-field density (``NAME_E0``) and Δn in
    the MD's field, as compact labels.

    Through :func:`echemml.dft.labelling.label_slabs`, one slab at a time so that a failed
    run (:class:`echemml.dft.cp2k.Cp2kError`, or VASP failing under custodian) is that frame's
    failure alone. VASP's run folders go to ``work/NAME_E0/`` and so on.
    """

    def __init__(self, settings: DFTSettings, field: np.ndarray, store: Path, work: Path):
        from echemml.dft.cp2k import Cp2kSettings
        from echemml.dft.labelling import SlabLabelJob, VaspSettings

        self.store = store
        self.workers = settings.workers
        fields_ = (tuple(float(x) for x in field),) if np.any(field) else ()
        recipe = (VaspSettings(**settings.vasp, work=work) if settings.engine == "vasp"
                  else Cp2kSettings(**settings.cp2k))
        self.job = SlabLabelJob(settings=recipe, fields=fields_, keep_candidates=True,
                                random_points=settings.random_points, ts_points=settings.ts_points,
                                ts_sigma=settings.ts_sigma)

    def label(self, frames: dict[str, ase.Atoms], executor: object | None) -> Iterator[JobOutcome]:
        """Label the frames not yet labelled, one after the other; yields each outcome."""
        from echemml.dft.labelling import label_slabs

        for name, atoms in frames.items():
            started = time.perf_counter()
            try:
                finished = list(label_slabs({name: atoms}, self.job, self.store, executor=executor, workers=1))
            except EchemmlError as exc:
                yield JobOutcome(name, False, time.perf_counter() - started, error=" ".join(str(exc).split()))
                continue
            if finished:
                yield JobOutcome(name, True, time.perf_counter() - started)

    def is_labelled(self, name: str) -> bool:
        """Whether every SCF of frame ``name`` is in the store."""
        from echemml.dft.labelling import slab_is_labelled, stored_names

        return slab_is_labelled(name, self.job, stored_names(self.store))


@contextlib.contextmanager
def dft_executor(settings: DFTSettings) -> Iterator[object | None]:
    """The executor of the DFT jobs: None (a local pool of ``workers``), a LocalCluster's client or a scheduler's."""
    if settings.dask is None:
        yield None
        return
    from dask.distributed import Client, LocalCluster

    if settings.dask == "local":
        with LocalCluster(n_workers=settings.workers, threads_per_worker=1, processes=settings.dask_processes,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client
    else:
        with Client(settings.dask) as client:
            yield client


__all__ = ["JobOutcome", "PySCFLabeller", "SlabLabeller", "dft_executor"]
