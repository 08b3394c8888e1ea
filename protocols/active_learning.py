"""Active learning along MD: explore, select, label with DFT, retrain, continue (DP-GEN's steps, FLARE's loop).

:class:`ActiveLearning` runs Langevin MD (ASE, as ``echemml md`` does) on an echemml
energy model — or on a universal potential (``models.energy: chgnet`` or ``emt``) while
the density and response of a metal electrode are learnt — through
:class:`echemml.calculators.EChemCalculator`, in chunks of
``selection.every`` steps. After each chunk it scores the frame — the LIFS novelty of
its atoms against the training data's basis (:func:`~echemml.protocols.novelty.score_frame`,
``atoms_max``, dimensionless) or the energy committee's force deviation
(:func:`~echemml.protocols.novelty.committee_deviation`, eV/Å) — and DP-GEN's trust
levels sort it: trusted (continue), candidate (queued for DFT), failed (recorded as
unphysical, not labelled; ``budget.failed_in_row`` of them in a row stop the run). A
full queue is labelled through an executor (a local process pool, or a
dask.distributed cluster) by the embedded PySCF engine, CP2K or VASP
(:mod:`echemml.protocols.labellers`). Once enough new labels arrived, the density and
response labels are sampled (TS+LIFS with the current model) into the run's sample
sets, every head with data is retrained warm-started (a committee member by member),
the novelty basis is rebuilt, and the MD continues from the same frame with the new
models. Budgets on DFT calls, wall time and retrainings stop the run cleanly. The
settings, every key with its unit: :mod:`echemml.protocols.learning_settings`.

Everything persists in the run folder (:class:`RunFolder`), written atomically, so
that a killed run resumes (``resume=True``) without recomputing a finished DFT job,
losing or duplicating a label:

    settings.yaml   the resolved settings (absolute paths)
    record.json     state and record (:mod:`echemml.protocols.learning_state`)
    data/HEAD/      the run's own copies of each head's training data; new labelled frames
                    are appended to the energy head's first extxyz (else al_frames.extxyz),
                    new samples to the head's first sample set (else al_samples.h5)
    data/labels.h5  the compact DFT labels of the new frames (a candidate store)
    dft/NAME/       VASP's run folder of each SCF (dft.engine vasp)
    models/iter_NNN/HEAD.pt, novelty.h5   the models and novelty basis of each iteration
    train/iter_NNN/HEAD[_mK]/             the Trainer's folders (checkpoints: a killed
                                          retraining resumes)
    report.json, report.png               :mod:`echemml.protocols.learning_report`

Frames are named by their MD step (``al_step000120``), so a resumed run asks DFT only
for names not yet labelled. Units: Å, eV, eV/Å, V/Å, fs, K, s.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ase
import numpy as np

from echemml import keys
from echemml.errors import EchemmlError, InputFileError

from .labellers import JobOutcome, PySCFLabeller, SlabLabeller, dft_executor
from .learning_settings import (
    COMMITTEE_HEADS, HEADS, SIGNAL_KEYS, SLAB_ENGINES, LearningSettings, load_settings, write_settings,
)
from .learning_state import LearningRecord, MDState, QueuedFrame
from .novelty import CANDIDATE, FAILED, TrustLevels

RECORD_NAME = "record.json"
SETTINGS_NAME = "settings.yaml"
# what --resume may change in the settings: budgets, the MD's length, and where the DFT jobs run
RESUMABLE_CHANGES = ("budget", "md.steps", "dft.workers", "dft.dask", "dft.dask_processes")
NEW_FRAMES_NAME = "al_frames.extxyz"
NEW_SAMPLES_NAME = "al_samples.h5"
VALIDATION_FACTS = ("best_val_loss", "best_val_rmse", "epochs", "configurations")  # of each retrained member


# ====================================================================== the run folder
@dataclass(frozen=True)
class RunFolder:
    """The paths of a run folder (see the module docstring)."""

    root: Path

    @property
    def record(self) -> Path:
        return self.root / RECORD_NAME

    @property
    def settings(self) -> Path:
        return self.root / SETTINGS_NAME

    @property
    def labels(self) -> Path:
        """The candidate store of the new frames' compact labels."""
        return self.root / "data" / "labels.h5"

    def data(self, head: str) -> Path:
        return self.root / "data" / head

    def copies(self, settings: LearningSettings, head: str) -> list[Path]:
        """The run's copies of ``head``'s training data."""
        return [self.data(head) / Path(path).name for path in getattr(settings.data, head)]

    def new_frames(self, settings: LearningSettings) -> Path:
        """The extxyz labelled frames are appended to: the energy data's first extxyz copy, else al_frames.extxyz."""
        extxyz = [path for path in self.copies(settings, keys.ENERGY) if not _is_hdf5_name(path)]
        return extxyz[0] if extxyz else self.data(keys.ENERGY) / NEW_FRAMES_NAME

    def new_samples(self, settings: LearningSettings, head: str) -> Path:
        """The sample set new samples of ``head`` are appended to: its first copy, else al_samples.h5."""
        copies = [path for path in self.copies(settings, head) if _is_hdf5_name(path)]
        return copies[0] if copies else self.data(head) / NEW_SAMPLES_NAME

    def training_sources(self, settings: LearningSettings, head: str) -> list[Path]:
        """What ``head`` trains on: its copies, and the file its new labels go to once it exists."""
        sources = self.copies(settings, head)
        new = self.new_frames(settings) if head == keys.ENERGY else self.new_samples(settings, head)
        return sources + [new] if new.exists() and new not in sources else sources

    def iteration(self, number: int) -> Path:
        return self.root / "models" / f"iter_{number:03d}"

    def training(self, number: int, head: str, member: int | None) -> Path:
        return self.root / "train" / f"iter_{number:03d}" / (head if member is None else f"{head}_m{member}")


def _check_heads(models: dict) -> None:
    """Raise EchemmlError unless each model (by head name) is a model of that head."""
    for head, model in models.items():
        if model.head != head:
            raise EchemmlError(f"models.{head} is a {model.head} model, not a {head} model")


def _is_hdf5_name(path: Path) -> bool:
    return path.suffix.lower() in (".h5", ".hdf5")


def _copy_atomically(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` unless it is there; the copy appears only once complete."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)


# ====================================================================== the loop
class ActiveLearning:
    """An active-learning run in a folder: MD → score → DFT → sample → retrain → MD, resumable.

    Args:
        settings: the run's settings (:func:`load_settings`).
        out: the run folder. A fresh run refuses a folder that is not empty.
        resume: continue the run in ``out`` (its settings may differ only in ``budget``, ``md.steps`` and
            where DFT runs: ``dft.workers``, ``dft.dask``, ``dft.dask_processes``).
        progress_bar: show a tqdm bar over the MD steps.
        echo: where summary lines go (default: tqdm.write to standard output).
    """

    def __init__(self, settings: LearningSettings, out: str | os.PathLike, resume: bool = False,
                 progress_bar: bool = True, echo: Callable[[str], None] | None = None):
        from tqdm import tqdm

        self.settings = settings
        self.folder = RunFolder(Path(out))
        self.progress_bar = progress_bar
        self.echo = echo or tqdm.write
        self.field = np.asarray(settings.md.field, dtype=float)
        self.signal_key = SIGNAL_KEYS[settings.selection.signal]
        self.levels = settings.trust_levels()
        self._check_folder(resume)
        self.record = self._open_record()
        self.models = self._load_models()
        self.basis = self._basis()
        self.labeller = self._labeller()
        self._potential = None
        self.atoms, self.dynamics = self._dynamics()
        self.started = time.perf_counter()
        self.elapsed_before = self.record.elapsed
        self._executor_scope = contextlib.ExitStack()
        self._executor: object | None = None

    # ------------------------------------------------------------ opening the folder
    def _check_folder(self, resume: bool) -> None:
        root = self.folder.root
        if not resume:
            if root.exists() and any(root.iterdir()):
                raise EchemmlError(f"{root}: the run folder is not empty; continue its run with --resume, "
                                   "or give another --out")
            return
        if not self.folder.settings.exists():
            raise EchemmlError(f"{root}: no run to resume (no {SETTINGS_NAME}); start it without --resume")
        stored = load_settings(self.folder.settings)
        changed = [key for key in self.settings.changes_from(stored)
                   if not any(key == allowed or key.startswith(allowed + ".") for allowed in RESUMABLE_CHANGES)]
        if changed:
            raise EchemmlError(f"{self.settings.source}: differs from the run's {self.folder.settings} in "
                               f"{', '.join(changed)}; only budget, md.steps and where DFT runs (dft.workers, "
                               "dft.dask) may change on --resume")

    def _open_record(self) -> LearningRecord:
        """The run's record; a fresh run (or one killed while being set up) copies its data and models first.

        The models and the structure are read before anything is written, so that bad input leaves no folder.
        """
        if self.folder.record.exists():
            return LearningRecord.load(self.folder.record)
        from echemml.model import save_model

        initial = self._initial_models()
        md = self._initial_md_state()
        self.folder.labels.parent.mkdir(parents=True, exist_ok=True)
        write_settings(self.settings, self.folder.settings)
        for head in HEADS:
            for source, copy in zip(getattr(self.settings.data, head), self.folder.copies(self.settings, head),
                                    strict=True):
                _copy_atomically(Path(source), copy)
        models = {}
        for head, model in initial.items():
            target = self.folder.iteration(0) / f"{head}.pt"
            target.parent.mkdir(parents=True, exist_ok=True)
            save_model(model, target, metadata={**model.metadata, "source": getattr(self.settings.models, head)})
            models[head] = str(target.relative_to(self.folder.root))
        record = LearningRecord(md=md, models=models)
        record.save(self.folder.record)
        return record

    def _initial_models(self) -> dict:
        """The models the settings name, checked: each of its head; an energy committee for the committee signal."""
        from echemml.model import load_model

        models = {head: load_model(getattr(self.settings.models, head)) for head in HEADS
                  if getattr(self.settings.models, head) and not (head == keys.ENERGY and self._universal)}
        _check_heads(models)
        signal = self.settings.selection.signal
        head = COMMITTEE_HEADS.get(signal)
        if head is not None and (head not in models or len(models[head].members) < 2):
            raise EchemmlError(f"{self.settings.source}: selection.signal {signal} needs a {head} committee "
                               f"(models.{head} of at least 2 members)")
        return models

    def _initial_md_state(self) -> MDState:
        """The structure with Maxwell–Boltzmann momenta at the temperature; the thermostat's generator fresh."""
        from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta

        md = self.settings.md
        atoms = self._structure()
        thermalize_momenta(atoms, md.temperature, rng=np.random.default_rng(md.seed))
        Stationary(atoms)
        if not atoms.pbc.any():
            ZeroRotation(atoms)
        return MDState.capture(0, atoms, np.random.default_rng([md.seed, 0]))

    def _structure(self) -> ase.Atoms:
        import ase.io

        path = self.settings.structure.file
        try:
            atoms = ase.io.read(path)
        except Exception as exc:  # ase raises many kinds for unreadable files
            raise InputFileError(path, f"cannot read a structure ({type(exc).__name__}: {exc})") from None
        atoms.info["charge"] = self.charge(atoms)
        return atoms

    def charge(self, atoms: ase.Atoms) -> int:
        """The net charge, e: ``structure.charge``, else the structure file's, else 0."""
        charge = self.settings.structure.charge
        return int(atoms.info.get("charge", 0) if charge is None else charge)

    def _load_models(self) -> dict:
        from echemml.model import load_model

        return {head: load_model(self.folder.root / path) for head, path in self.record.models.items()}

    def _labeller(self) -> PySCFLabeller | SlabLabeller:
        if self.settings.dft.engine in SLAB_ENGINES:
            return SlabLabeller(self.settings.dft, self.field, self.folder.labels, self.folder.root / "dft")
        return PySCFLabeller(self.settings.dft, self.field, self.folder.labels, self.folder.new_frames(self.settings),
                             response=bool(self.settings.data.response))

    # ------------------------------------------------------------ models and novelty
    @property
    def novelty_model(self):
        return self.models.get(self.settings.novelty_head())

    def _basis(self):
        """The current iteration's novelty basis (built and saved when missing), or None without data for it."""
        from echemml.training.trainer import read_samples

        from .novelty import NoveltyBasis, build_basis

        head = self.settings.novelty_head()
        if self.novelty_model is None or not getattr(self.settings.data, head):
            return None
        path = self.folder.iteration(self.record.iteration) / "novelty.h5"
        if path.exists():
            return NoveltyBasis.load(path)
        sources = self.folder.training_sources(self.settings, head)
        configurations, _ = read_samples(sources)
        basis = build_basis(self.novelty_model, configurations, self.settings.selection.basis_threshold,
                            seed=self.settings.md.seed, model_name=self.record.models[head],
                            samples=", ".join(str(path) for path in sources))
        basis.save(path)
        return basis

    @property
    def _universal(self) -> bool:
        return self.settings.universal_potential()

    def _calculator(self):
        """The MD's calculator: the current energy model's forces, or the universal potential's (made once)."""
        from echemml.calculators import EChemCalculator, universal_potential

        if self._universal:
            if self._potential is None:
                self._potential = universal_potential(self.settings.models.energy)
            return EChemCalculator(potential=self._potential, field=tuple(self.field))
        return EChemCalculator(potential=self.models[keys.ENERGY], field=tuple(self.field))

    def score(self, atoms: ase.Atoms, step: int) -> dict:
        """The frame's scores: ``novelty`` (largest atom residual) and ``ghost_novelty`` when a basis exists,
        ``deviation`` (eV/Å) for an energy committee, ``density_deviation`` and ``response_deviation``
        (%, NMAE scale, at the frame's ghost points) for density and response committees."""
        from .novelty import committee_deviation, points_near_atoms, score_frame

        scores = {}
        ghost_points = self.settings.selection.ghost_points
        if self.basis is not None:
            novelty = score_frame(self.novelty_model, atoms, self.basis, self.field, ghost_points, seed=step)
            scores.update(novelty=novelty.atoms_max, ghost_novelty=novelty.ghost_max)
        for head, key in ((keys.ENERGY, "deviation"), (keys.DENSITY, "density_deviation"),
                          (keys.RESPONSE, "response_deviation")):
            model = self.models.get(head)
            if model is None or len(model.members) < 2:
                continue
            points = None if head == keys.ENERGY else points_near_atoms(atoms, model.cutoff, max(ghost_points, 1),
                                                                          seed=step)
            scores[key] = committee_deviation(model, atoms, self.field, points)
        return scores

    # ------------------------------------------------------------ the loop
    def run(self) -> LearningRecord:
        """Run until the MD is done or a budget is spent; returns the record (also in record.json, report.json)."""
        from tqdm import tqdm

        from .learning_report import write_report

        if not self.record.tests and self._has_tests():
            self.record.tests.append(self._test_errors(0))
            self._save()
        md = self.settings.md
        with self._executor_scope, tqdm(total=md.steps, initial=min(self.record.md.step, md.steps), unit="step",
                                        disable=not self.progress_bar, dynamic_ncols=True) as self.bar:
            reason = ""
            while not reason:
                reason = self._advance()
        self.record.stop_reason = reason
        self.record.sessions.append({"stopped": reason, "step": self.record.md.step,
                                     "seconds": time.perf_counter() - self.started})
        self._save()
        write_report(self.record, self.settings, self.folder.root)
        return self.record

    def _advance(self) -> str:
        """One move of the loop: label a ready queue, retrain when due, else explore a chunk; the stop reason or ""."""
        if self._out_of_time():
            return f"wall-time budget of {self.settings.budget.wall_time:g} s spent"
        if self._queue_ready():
            self._label_queue()
            return ""
        if self._retraining_due():
            self._retrain()
            return ""
        reason = self._finished()
        if not reason:
            self._explore()
        return reason

    def _out_of_time(self) -> bool:
        budget = self.settings.budget.wall_time
        return budget is not None and self._elapsed() >= budget

    def _elapsed(self) -> float:
        return self.elapsed_before + time.perf_counter() - self.started

    def _md_done(self) -> bool:
        return self.record.md.step >= self.settings.md.steps

    def _dft_budget_full(self) -> bool:
        calls = self.settings.budget.dft_calls
        return calls is not None and len(self.record.jobs) + len(self.record.queue) >= calls

    def _within_labelled_fraction(self) -> bool:
        """Whether one more DFT job keeps the jobs per scored frame (this one and its frame counted)
        within ``budget.labelled_fraction``, or is one of the first ``selection.max_labels``."""
        fraction = self.settings.budget.labelled_fraction
        if fraction is None:
            return True
        calls = len(self.record.jobs) + len(self.record.queue) + 1
        return calls <= max(self.settings.selection.max_labels, fraction * (len(self.record.triggers) + 1)) + 1e-9

    def _md_lost(self) -> bool:
        """Whether the last ``budget.failed_in_row`` scored frames all failed."""
        limit = self.settings.budget.failed_in_row
        if not limit:
            return False
        last = self.record.triggers[-limit:]
        return len(last) == limit and all(trigger["class"] == FAILED for trigger in last)

    def _queue_ready(self) -> bool:
        """Whether the queue goes to DFT now: full, the MD or the DFT budget done, or a killed session labelling it."""
        queued = len(self.record.queue)
        return queued > 0 and (self.record.labelling or queued >= self.settings.selection.max_labels
                               or self._md_done() or self._dft_budget_full() or self._md_lost())

    def _retraining_due(self) -> bool:
        budget = self.settings.budget.retrainings
        within = budget is None or len(self.record.retrainings) < budget
        return bool(self.settings.trained_heads()) and within and self.record.pending >= self.settings.retrain.after

    def _finished(self) -> str:
        """Why the run stops now ("" to go on): the retraining or DFT budget spent, or the MD done."""
        b, record = self.settings.budget, self.record
        if b.retrainings is not None and len(record.retrainings) >= b.retrainings:
            return f"retraining budget of {b.retrainings} spent"
        if b.dft_calls is not None and len(record.jobs) >= b.dft_calls:
            return f"DFT budget of {b.dft_calls} calls spent"
        if self._md_done():
            return f"MD done: {record.md.step} steps"
        if self._md_lost():
            return (f"{b.failed_in_row} frames in a row failed (signal above selection.hi): the MD left what "
                    f"the models know")
        return ""

    def _save(self) -> None:
        self.record.elapsed = self._elapsed()
        self.record.save(self.folder.record)

    # ------------------------------------------------------------ explore and select
    def _dynamics(self):
        """The MD atoms (positions, momenta from the record) and the Langevin integrator with the saved generator."""
        from ase import units
        from ase.constraints import FixCom
        from ase.md.langevin import Langevin

        md, state = self.settings.md, self.record.md
        atoms = self._structure()
        atoms.positions = np.asarray(state.positions, dtype=float)
        atoms.set_momenta(np.asarray(state.momenta, dtype=float), apply_constraint=False)
        atoms.set_constraint(FixCom())  # an ion in a field would otherwise drift away under Qε
        atoms.calc = self._calculator()
        dynamics = Langevin(atoms, md.timestep * units.fs, temperature_K=md.temperature,
                            friction=md.friction / units.fs, fixcm=False, rng=state.generator())
        dynamics.nsteps = state.step
        return atoms, dynamics

    def _explore(self) -> None:
        """Run the next chunk of MD, score its last frame, queue it when it is a candidate, save."""
        steps = min(self.settings.selection.every, self.settings.md.steps - self.record.md.step)
        self.dynamics.run(steps)
        step = self.record.md.step + steps
        scores = self.score(self.atoms, step)
        levels = self.current_levels()
        kind = levels.classify(scores[self.signal_key])
        trigger = {"step": step, "time_fs": step * self.settings.md.timestep, **scores, "lo": levels.lo,
                   "class": kind, "iteration": self.record.iteration, "queued": False}
        if kind == CANDIDATE and not self._dft_budget_full() and self._within_labelled_fraction():
            name = f"al_step{step:06d}"
            self.record.queue.append(QueuedFrame.capture(name, step, self.atoms, self.charge(self.atoms), self.field))
            trigger.update(queued=True, name=name)
        self.record.triggers.append(trigger)
        self.record.md = MDState.capture(step, self.atoms, self.dynamics.rng)
        self._save()
        self.bar.update(steps)

    def current_levels(self) -> TrustLevels:
        """The trust levels for the next frame: ``selection``'s, with lo raised to the rolling quantile
        (``lo_quantile``) of the signal over the last ``lo_window`` scored frames (all of them while fewer)."""
        selection = self.settings.selection
        if selection.lo_quantile is None or not self.record.triggers:
            return self.levels
        recent = np.array([trigger[self.signal_key] for trigger in self.record.triggers[-selection.lo_window:]],
                          dtype=float)
        recent = recent[np.isfinite(recent)]
        if len(recent) == 0:
            return self.levels
        return self.levels.raised_to(float(np.quantile(recent, selection.lo_quantile)))

    # ------------------------------------------------------------ label
    def _label_queue(self) -> None:
        """Label every queued frame through the executor, recording each job as it finishes."""
        queue = {frame.name: frame for frame in self.record.queue}
        started = time.perf_counter()
        self.record.labelling = True
        self._save()
        outcomes = self.labeller.label({name: frame.atoms() for name, frame in queue.items()}, self._dft_executor())
        for outcome in outcomes:
            self._record_job(queue[outcome.name], outcome)
        for frame in list(self.record.queue):  # labelled by a killed session, whose record did not follow
            if self.labeller.is_labelled(frame.name):
                self._record_job(frame, JobOutcome(frame.name, True, 0.0), recovered=True)
        self.record.labelling = False
        self._save()
        jobs = [job for job in self.record.jobs if job["name"] in queue]
        failed = sum(job["status"] == "failed" for job in jobs)
        self.echo(f"step {self.record.md.step}: labelled {len(jobs) - failed} frames ({failed} failed) in "
                  f"{time.perf_counter() - started:.1f} s; {self.record.pending} new labels not yet trained on")

    def _dft_executor(self) -> object | None:
        if self._executor is None and self.settings.dft.dask is not None:
            self._executor = self._executor_scope.enter_context(dft_executor(self.settings.dft))
        return self._executor

    def _record_job(self, frame: QueuedFrame, outcome: JobOutcome, recovered: bool = False) -> None:
        """Record one job, move its frame from the queue to the labels (or drop it when it failed), save."""
        job = {"name": outcome.name, "step": frame.step, "status": "done" if outcome.ok else "failed",
               "seconds": outcome.seconds, "energy_eV": outcome.energy, "iteration": self.record.iteration,
               "elapsed_s": self._elapsed()}
        if outcome.error:
            job["error"] = outcome.error
        if recovered:
            job["recovered"] = True
        self.record.jobs.append(job)
        if outcome.ok:
            self.record.labelled.append(outcome.name)
        self.record.queue = [queued for queued in self.record.queue if queued.name != outcome.name]
        self._save()

    # ------------------------------------------------------------ retrain
    def _retrain(self) -> None:
        """Sample the new labels, retrain every head with data, rebuild the basis, swap the models in; record."""
        iteration = self.record.iteration + 1
        started = time.perf_counter()
        sampled = {head: self._sample_new_labels(head) for head in self.settings.trained_heads() if head != keys.ENERGY}
        heads = {head: self._retrain_head(head, iteration) for head in self.settings.trained_heads()}
        for head in heads:
            path = self.folder.iteration(iteration) / f"{head}.pt"
            self.record.models[head] = str(path.relative_to(self.folder.root))
        self.record.iteration = iteration
        self.models = self._load_models()
        self.basis = self._basis()
        self.atoms.calc = self._calculator()
        self.record.retrainings.append({
            "iteration": iteration, "step": self.record.md.step, "labels": len(self.record.labelled),
            "new_labels": self.record.pending, "new_samples": sampled, "heads": heads,
            "seconds": time.perf_counter() - started, "elapsed_s": self._elapsed(),
        })
        self.record.trained = len(self.record.labelled)
        if self._has_tests():
            self.record.tests.append(self._test_errors(iteration))
        self._save()
        self.echo(self._retraining_line())

    def _sample_new_labels(self, head: str) -> int:
        """Sample (TS+LIFS with the current model) the stored labels of ``head`` not yet in its sample set; how many."""
        from echemml.io.candidates import CandidateStore
        from echemml.io.samples import SampleSet
        from echemml.sampling.driver import SamplerSettings, Source, sample_configurations

        from .novelty import feature_model

        if not self.folder.labels.exists():
            return 0
        with CandidateStore(self.folder.labels) as store:
            candidates = [store[name] for name in store.names()]
        sources = [Source(candidates=c) for c in candidates if c.attrs.get("target", keys.DENSITY) == head]
        settings = SamplerSettings.from_keywords(self.settings.sampler_keywords(head))
        added = 0
        with SampleSet(self.folder.new_samples(self.settings, head), "a") as samples:
            known = samples.sources()
            todo = [source for source in sources if source.identity() not in known]
            for _, sampled in sample_configurations(todo, settings, feature_model(self.models[head]), workers=1):
                samples.append(sampled)
                added += 1
        return added

    def _retrain_head(self, head: str, iteration: int) -> dict:
        """Retrain ``head`` warm-started, member by member, into models/iter_NNN/HEAD.pt; its validation numbers."""
        from echemml.model import CommitteeModel, committee_member, load_model, save_model

        target = self.folder.iteration(iteration) / f"{head}.pt"
        if target.exists():  # retrained before a kill
            return load_model(target).metadata["active_learning"]
        model = self.models[head]
        committee = len(model.members) > 1
        members = [committee_member(model, k) for k in range(1, len(model.members) + 1)] if committee else [model]
        started = time.perf_counter()
        trained = [self._train_member(head, member, iteration, k if committee else None)
                   for k, member in enumerate(members, start=1)]
        facts = {
            "members": [{key: m.metadata.get(key) for key in VALIDATION_FACTS} for m in trained],
            "seconds": time.perf_counter() - started,
        }
        if committee:
            combined = CommitteeModel(trained)
            metadata = {"members": [m.metadata for m in trained], "active_learning": facts}
            if "valence_charges" in model.metadata:
                metadata["valence_charges"] = model.metadata["valence_charges"]
        else:
            combined = trained[0]
            metadata = {**trained[0].metadata, "active_learning": facts}
        target.parent.mkdir(parents=True, exist_ok=True)
        save_model(combined, target, metadata=metadata)
        return facts

    def _train_member(self, head: str, member, iteration: int, number: int | None):
        """The model trained warm-started from ``member`` (resumed from its checkpoint after a kill)."""
        from echemml.model import load_model
        from echemml.training import Config, Trainer
        from echemml.training.trainer import CHECKPOINT_NAME, MODEL_NAME

        folder = self.folder.training(iteration, head, number)
        if not (folder / MODEL_NAME).exists():
            sources = self.folder.training_sources(self.settings, head)
            if (folder / CHECKPOINT_NAME).exists():
                trainer = Trainer.resume(folder, sources, progress_bar=False)
            else:
                values = self.settings.training_values(head, member.config.to_dict(), number or 1)
                config = Config.from_dict(values, self.settings.source)
                trainer = Trainer(config, sources, folder, init_model=member, progress_bar=False)
            trainer.train()
        return load_model(folder / MODEL_NAME)

    def _retraining_line(self) -> str:
        last = self.record.retrainings[-1]
        line = (f"iteration {last['iteration']} (step {last['step']}): retrained {', '.join(last['heads'])} with "
                f"{last['new_labels']} new labels ({last['labels']} in all) in {last['seconds']:.1f} s")
        if len(self.record.tests) >= 2:
            before, after = self.record.tests[-2], self.record.tests[-1]
            line += "; test " + ", ".join(f"{key} {before[key]:.3g} → {after[key]:.3g}"
                                          for key in after if key != "iteration" and key in before)
        return line

    # ------------------------------------------------------------ held-out errors
    def _has_tests(self) -> bool:
        return bool(self.settings.test.frames or self.settings.test.cubes)

    def _test_errors(self, iteration: int) -> dict:
        """Held-out errors of the current models: force RMSE (meV/Å), energy MAE (meV/atom), density NMAE (%)."""
        row: dict = {"iteration": iteration}
        test = self.settings.test
        if test.frames:
            from echemml.training.energy_evaluation import evaluate_energy

            report = evaluate_energy(self.models[keys.ENERGY], test.frames)
            row.update(forces_rmse_meV_per_A=report["forces_rmse_meV_per_A"],
                       energy_mae_meV_per_atom=report["energy_mae_meV_per_atom"])
        if test.cubes:
            from echemml.training.evaluation import evaluate

            row["density_nmae_percent"] = evaluate(self.models[keys.DENSITY], test.cubes, field=test.field)["mean_nmae"]
        return row


__all__ = ["ActiveLearning", "RunFolder"]
