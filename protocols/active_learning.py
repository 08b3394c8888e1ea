"""Active learning along MD: explore, select, label with DFT, retrain, continue (DP-GEN's steps, FLARE's loop).

:class:`ActiveLearning` runs Langevin MD (ASE, as ``echemml md`` does) on an echemml
energy model through :class:`echemml.calculators.EChemCalculator`, in chunks of
``selection.every`` steps. After each chunk it scores the frame — the LIFS novelty of
its atoms against the training data's basis (:func:`~echemml.protocols.novelty.score_frame`,
``atoms_max``, dimensionless) or the energy committee's force deviation
(:func:`~echemml.protocols.novelty.committee_deviation`, eV/Å) — and DP-GEN's trust
levels sort it: trusted (continue), candidate (queued for DFT), failed (recorded as
unphysical, not labelled). A full queue is labelled through an executor (a local
process pool, or a dask.distributed cluster) by the embedded PySCF engine
(:func:`echemml.dft.labelling.label_molecules`: energy, forces and density candidates)
or CP2K (:func:`~echemml.dft.labelling.label_slabs`: zero-field density and Δn in the
MD's field). Once enough new labels arrived, the density and response labels are
sampled (TS+LIFS with the current model) into the run's sample sets, every head with
data is retrained warm-started (a committee member by member), the novelty basis is
rebuilt, and the MD continues from the same frame with the new models. Budgets on DFT
calls, wall time and retrainings stop the run cleanly.

Everything persists in the run folder, written atomically, so that a killed run
resumes (``resume=True``) without recomputing a finished DFT job, losing or
duplicating a label:

    settings.yaml   the resolved settings (absolute paths)
    record.json     state and record (:mod:`echemml.protocols.learning_state`)
    data/HEAD/      the run's own copies of each head's training data; new labelled frames
                    are appended to the energy head's first extxyz (else al_frames.extxyz),
                    new samples to the head's first sample set (else al_samples.h5)
    data/labels.h5  the compact DFT labels of the new frames (a candidate store)
    models/iter_NNN/HEAD.pt, novelty.h5   the models and novelty basis of each iteration
    train/iter_NNN/HEAD[_mK]/             the Trainer's folders (checkpoints: a killed
                                          retraining resumes)
    report.json, report.png               :mod:`echemml.protocols.learning_report`

Frames are named by their MD step (``al_step000120``), so a resumed run asks DFT only
for names not yet labelled. Units: Å, eV, eV/Å, V/Å, fs, K, s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path

import ase
import numpy as np

from echemml import keys
from echemml.errors import EchemmlError, InputFileError
from echemml.io.files import atomic_open
from echemml.io.hdf5_store import store_format

from .learning_state import LearningRecord, MDState, QueuedFrame
from .novelty import CANDIDATE, DEFAULT_THRESHOLD, TrustLevels

HEADS = (keys.ENERGY, keys.DENSITY, keys.RESPONSE)
SIGNALS = ("novelty", "committee")
SIGNAL_KEYS = {"novelty": "novelty", "committee": "deviation"}  # signal → the trigger's score key
ENGINES = ("pyscf", "cp2k")
SAMPLE_SET_FORMAT = "echemml-samples"
CANDIDATE_FORMAT = "echemml-candidates"
RECORD_NAME = "record.json"
SETTINGS_NAME = "settings.yaml"
RESUMABLE_CHANGES = ("budget", "md.steps")  # what --resume may change in the settings
NEW_FRAMES_NAME = "al_frames.extxyz"
NEW_SAMPLES_NAME = "al_samples.h5"
VALIDATION_FACTS = ("best_val_loss", "best_val_rmse", "epochs", "configurations")  # of each retrained member


# ====================================================================== settings
@dataclass
class StructureSettings:
    """The starting structure.

    Attributes:
        file: any file ase reads (Å).
        charge: net charge, e (None: the file's ``info["charge"]``, else 0).
    """

    file: str = ""
    charge: int | None = None


@dataclass
class ModelFiles:
    """The models (files or shipped names) of each head; the energy model drives the MD.

    Attributes:
        energy: an echemml energy model or committee (e.g. ``h5o2-energy``).
        density: a density model n(r; ε), or None.
        response: a response model Δn(r; ε), or None.
    """

    energy: str = ""
    density: str | None = None
    response: str | None = None


@dataclass
class DataFiles:
    """The data each head was trained on; a head with data is retrained, one without is kept.

    Attributes:
        energy: sample sets (.h5) and/or extxyz files of labelled frames (energy eV, forces eV/Å).
        density, response: sample sets (.h5).
    """

    energy: list[str] = field(default_factory=list)
    density: list[str] = field(default_factory=list)
    response: list[str] = field(default_factory=list)


@dataclass
class MDSettings:
    """Langevin NVT MD (the centre of mass fixed), as ``echemml md`` runs it.

    Attributes:
        temperature: thermostat temperature, K.
        timestep: time step, fs.
        steps: MD steps in all.
        field: uniform field, V/Å.
        seed: seed of the initial velocities and the thermostat.
        friction: Langevin friction, 1/fs.
    """

    temperature: float = 300.0
    timestep: float = 0.5
    steps: int = 1000
    field: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    seed: int = 0
    friction: float = 0.01


@dataclass
class SelectionSettings:
    """Which frames are scored and how they are sorted (DP-GEN's trust levels).

    Attributes:
        every: MD steps between scored frames.
        signal: "novelty" (largest atom LIFS residual, dimensionless) or "committee" (the energy
            committee's largest force deviation, eV/Å).
        lo, hi: trust levels: below lo trusted, from lo to below hi labelled, from hi up unphysical.
        max_labels: frames queued before they are labelled (one iteration's labels at most).
        model: the head whose features give the novelty (None: density, else response, else energy).
        basis_threshold: LIFS threshold of the novelty basis.
        ghost_points: ghost points scored around the atoms per frame (recorded as ``ghost_novelty``).
    """

    every: int = 10
    signal: str = "novelty"
    lo: float = 0.05
    hi: float = 0.5
    max_labels: int = 4
    model: str | None = None
    basis_threshold: float = DEFAULT_THRESHOLD
    ghost_points: int = 100


@dataclass
class DFTSettings:
    """How frames are labelled.

    Attributes:
        engine: "pyscf" (embedded, molecules: energy, forces, density) or "cp2k" (slabs: zero-field
            density and Δn in the MD's field).
        pyscf: :class:`echemml.dft.pyscf.PySCFSettings` keywords (basis, max_cycle, spacing, ...).
        cp2k: :class:`echemml.dft.cp2k.Cp2kSettings` keywords.
        random_points, ts_points: compact-label candidates kept per grid, random and TS order.
        ts_sigma: TS σ of the candidates, Å³/e.
        threads: PySCF threads per job (None: as the environment says).
        workers: local processes labelling at once (1: in this process).
        dask: None, "local" (a dask.distributed LocalCluster of ``workers`` workers) or a scheduler address.
        dask_processes: the LocalCluster's workers are processes (False: threads of this process).
    """

    engine: str = "pyscf"
    pyscf: dict = field(default_factory=dict)
    cp2k: dict = field(default_factory=dict)
    random_points: int = 300
    ts_points: int = 300
    ts_sigma: float = 30.0
    threads: int | None = None
    workers: int = 1
    dask: str | None = None
    dask_processes: bool = True


@dataclass
class RetrainSettings:
    """When and how the heads are retrained (warm-started from the current models).

    Attributes:
        after: new labels that trigger a retraining.
        epochs: epochs per retraining (``training.max_epochs``).
        lr: initial learning rate.
        training: per head ("energy", "density", "response"), more ``training`` keys of
            ``echemml train`` (they override epochs and lr; ``seed`` is member 1's, member k's is seed + k − 1).
        sampler: per head ("density", "response"), :class:`echemml.sampling.driver.SamplerSettings`
            keywords for the new labels (default ts+lifs over all stored TS candidates, σ = dft.ts_sigma).
    """

    after: int = 4
    epochs: int = 50
    lr: float = 3e-4
    training: dict = field(default_factory=dict)
    sampler: dict = field(default_factory=dict)


@dataclass
class BudgetSettings:
    """Limits that stop the run cleanly (None: none).

    Attributes:
        dft_calls: DFT jobs in all (done and failed).
        wall_time: seconds of all sessions together.
        retrainings: retrainings in all.
    """

    dft_calls: int | None = None
    wall_time: float | None = None
    retrainings: int | None = None


@dataclass
class HeldOutSettings:
    """Held-out data measured before and after each retraining (YAML section ``test``).

    Attributes:
        frames: extxyz files of labelled frames: force RMSE (meV/Å) and energy MAE (meV/atom).
        cubes: density files (cube, CHGCAR) in ``field``: whole-grid NMAE (%).
        field: the field of the density files, V/Å (None: zero).
    """

    frames: list[str] = field(default_factory=list)
    cubes: list[str] = field(default_factory=list)
    field: list[float] | None = None


SECTIONS = {
    "structure": StructureSettings, "models": ModelFiles, "data": DataFiles, "md": MDSettings,
    "selection": SelectionSettings, "dft": DFTSettings, "retrain": RetrainSettings, "budget": BudgetSettings,
    "test": HeldOutSettings,
}


@dataclass
class LearningSettings:
    """Everything ``echemml learn`` reads (YAML sections of the same names; ``test`` is :class:`HeldOutSettings`)."""

    structure: StructureSettings = field(default_factory=StructureSettings)
    models: ModelFiles = field(default_factory=ModelFiles)
    data: DataFiles = field(default_factory=DataFiles)
    md: MDSettings = field(default_factory=MDSettings)
    selection: SelectionSettings = field(default_factory=SelectionSettings)
    dft: DFTSettings = field(default_factory=DFTSettings)
    retrain: RetrainSettings = field(default_factory=RetrainSettings)
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    test: HeldOutSettings = field(default_factory=HeldOutSettings)
    source: str = ""

    @classmethod
    def from_dict(cls, values: dict, source: str | os.PathLike) -> LearningSettings:
        """Settings from nested plain values; unknown keys and bad values raise InputFileError naming ``source``.

        Relative paths are taken from the current folder and stored absolute.
        """
        if not isinstance(values, dict):
            raise InputFileError(source, "the settings must be a mapping of sections to keys")
        _refuse_unknown(values, SECTIONS, "", source)
        parts = {}
        for name, section in SECTIONS.items():
            given = values.get(name) or {}
            if not isinstance(given, dict):
                raise InputFileError(source, f"section '{name}' must be a mapping")
            _refuse_unknown(given, {f.name: f for f in fields(section)}, f"{name}.", source)
            parts[name] = _coerced(section(**given), name, source)
        settings = cls(**parts, source=os.fspath(source))
        settings.resolve_paths()
        settings.validate()
        return settings

    def resolve_paths(self) -> None:
        """Make every file path absolute (a model name that is no file stays a name)."""
        self.structure.file = _absolute(self.structure.file)
        for head in HEADS:
            model = getattr(self.models, head)
            if model and Path(model).exists():
                setattr(self.models, head, _absolute(model))
            setattr(self.data, head, [_absolute(path) for path in getattr(self.data, head)])
        self.test.frames = [_absolute(path) for path in self.test.frames]
        self.test.cubes = [_absolute(path) for path in self.test.cubes]

    def trained_heads(self) -> list[str]:
        """The heads with data: those retrained."""
        return [head for head in HEADS if getattr(self.data, head)]

    def novelty_head(self) -> str:
        """The head whose features give the novelty: ``selection.model``, else density, response, energy."""
        return self.selection.model or next(head for head in (keys.DENSITY, keys.RESPONSE, keys.ENERGY)
                                            if getattr(self.models, head))

    def trust_levels(self) -> TrustLevels:
        """The trust levels of ``selection``."""
        return TrustLevels(self.selection.lo, self.selection.hi)

    def validate(self) -> None:
        """Raise InputFileError naming the settings file for values that cannot work (all problems in one line)."""
        problems = [*self._md_problems(), *self._selection_problems(), *self._dft_problems(),
                    *self._retrain_problems(), *self._data_problems()]
        if problems:
            raise InputFileError(self.source, "; ".join(problems))

    def _md_problems(self) -> Iterator[str]:
        md = self.md
        if not self.structure.file:
            yield "structure.file is missing"
        elif not Path(self.structure.file).is_file():
            yield f"structure.file {self.structure.file}: no such file"
        if not self.models.energy:
            yield "models.energy is missing (the energy model drives the MD)"
        if md.temperature < 0 or md.timestep <= 0 or md.friction < 0:
            yield "md.temperature (K) and md.friction (1/fs) must be ≥ 0, md.timestep (fs) > 0"
        if md.steps < 1:
            yield "md.steps must be at least 1"
        if len(md.field) != 3:
            yield "md.field must be 3 numbers (V/Å)"

    def _selection_problems(self) -> Iterator[str]:
        s = self.selection
        if s.every < 1 or s.max_labels < 1 or s.ghost_points < 0:
            yield "selection.every and selection.max_labels must be at least 1, selection.ghost_points ≥ 0"
        if s.signal not in SIGNALS:
            yield f"selection.signal must be one of {', '.join(SIGNALS)}, got {s.signal!r}"
        try:
            self.trust_levels()
        except EchemmlError as exc:
            yield f"selection: {exc}"
        if not 0.0 < s.basis_threshold < 1.0:
            yield "selection.basis_threshold must lie in (0, 1)"
        if s.model is not None and s.model not in HEADS:
            yield f"selection.model must be one of {', '.join(HEADS)}, got {s.model!r}"
        elif s.signal == "novelty" and self.models.energy:
            head = self.novelty_head()
            if not getattr(self.models, head) or not getattr(self.data, head):
                yield (f"selection.signal novelty scores against the {head} model's training data: "
                       f"give models.{head} and data.{head}")

    def _dft_problems(self) -> Iterator[str]:
        from echemml.dft.cp2k import Cp2kSettings
        from echemml.dft.pyscf import PySCFSettings

        d = self.dft
        if d.engine not in ENGINES:
            yield f"dft.engine must be one of {', '.join(ENGINES)}, got {d.engine!r}"
        for name, recipe in (("pyscf", PySCFSettings), ("cp2k", Cp2kSettings)):
            unknown = sorted(set(getattr(d, name)) - {f.name for f in fields(recipe)})
            if unknown:
                known = ", ".join(f.name for f in fields(recipe))
                yield f"dft.{name}: unknown key(s) {', '.join(unknown)}; known: {known}"
        if d.workers < 1 or d.random_points < 1 or d.ts_points < 1 or d.ts_sigma <= 0:
            yield "dft.workers, dft.random_points and dft.ts_points must be at least 1, dft.ts_sigma (Å³/e) > 0"
        if d.engine == "pyscf" and self.data.response:
            yield "data.response: PySCF labels give no response Δn; label slabs with dft.engine cp2k"
        if d.engine == "cp2k" and self.data.energy:
            yield "data.energy: CP2K labels here give no forces; retrain the energy head with dft.engine pyscf"

    def _retrain_problems(self) -> Iterator[str]:
        from echemml.sampling.driver import SamplerSettings
        from echemml.training import Config

        r = self.retrain
        if r.after < 1 or r.epochs < 1 or r.lr <= 0:
            yield "retrain.after and retrain.epochs must be at least 1, retrain.lr > 0"
        for key, heads in (("training", HEADS), ("sampler", (keys.DENSITY, keys.RESPONSE))):
            unknown = sorted(set(getattr(r, key)) - set(heads))
            if unknown:
                yield f"retrain.{key}: unknown head(s) {', '.join(unknown)}; known: {', '.join(heads)}"
        for head, values in r.training.items():
            if head in HEADS and not isinstance(values, dict):
                yield f"retrain.training.{head} must be a mapping of training keys"
            elif head in HEADS:
                try:
                    Config.from_dict(self.training_values(head, {}, 1), self.source)
                except InputFileError as exc:
                    yield f"retrain.training.{head}: {exc.problem}"
                except (TypeError, ValueError):
                    yield f"retrain.training.{head}.seed must be an integer"
        for head in r.sampler:
            try:
                SamplerSettings.from_keywords(self.sampler_keywords(head))
            except (TypeError, ValueError) as exc:
                yield f"retrain.sampler.{head}: {exc}"
        b = self.budget
        if any(value is not None and value <= 0 for value in (b.dft_calls, b.wall_time, b.retrainings)):
            yield "budget.dft_calls, budget.wall_time (s) and budget.retrainings must be positive or null"

    def _data_problems(self) -> Iterator[str]:
        for head in HEADS:
            paths = getattr(self.data, head)
            if paths and not getattr(self.models, head):
                yield f"data.{head} needs models.{head} (the model retrained on it)"
            for path in paths:
                problem = _data_file_problem(Path(path), head)
                if problem:
                    yield f"data.{head}: {path}: {problem}"
            if len({Path(path).name for path in paths}) < len(paths):
                yield f"data.{head}: two files of the same name (the run copies them side by side)"
        for path in [*self.test.frames, *self.test.cubes]:
            if not Path(path).is_file():
                yield f"test: {path}: no such file"
        if self.test.cubes and not self.models.density:
            yield "test.cubes need models.density"
        if self.test.field is not None and len(self.test.field) != 3:
            yield "test.field must be 3 numbers (V/Å)"

    def sampler_keywords(self, head: str) -> dict:
        """The sampler keywords of ``head``'s new labels: ts+lifs over all stored candidates, then retrain.sampler's."""
        return {"ts_points": self.dft.ts_points, "ts_sigma": self.dft.ts_sigma, **self.retrain.sampler.get(head, {})}

    def training_values(self, head: str, member_config: dict, member: int) -> dict:
        """The ``echemml train`` configuration (plain values) of committee member ``member`` (1-based) of ``head``."""
        overrides = dict(self.retrain.training.get(head) or {})
        seed = int(overrides.pop("seed", 0)) + member - 1
        training = {"max_epochs": self.retrain.epochs, "lr": self.retrain.lr, **overrides, "seed": seed}
        return {"head": head, "model": member_config, "training": training}

    def to_dict(self) -> dict:
        """The sections as plain values (what settings.yaml holds)."""
        values = dataclasses.asdict(self)
        values.pop("source")
        return values

    def changes_from(self, other: LearningSettings) -> list[str]:
        """The keys (``section.key``) whose values differ from ``other``'s."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [f"{section}.{key}" for section in SECTIONS for key in mine[section]
                if mine[section][key] != theirs[section][key]]


def _absolute(path: str) -> str:
    return str(Path(path).expanduser().resolve()) if path else path


def _data_file_problem(path: Path, head: str) -> str:
    """Why ``path`` cannot be training data of ``head`` ("" when it can)."""
    if not path.is_file():
        return "no such file"
    kind = store_format(path)
    if kind == CANDIDATE_FORMAT:
        return "a candidate store: sample it into a sample set first (echemml sample --candidates ...)"
    if kind is None and head != keys.ENERGY:
        return f"not a sample set (.h5): a {head} model trains on sampled points"
    if kind not in (None, SAMPLE_SET_FORMAT):
        return f"an {kind} file, not a sample set"
    return ""


def _refuse_unknown(values: dict, known: dict, prefix: str, source) -> None:
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InputFileError(source, f"unknown key(s) {', '.join(prefix + str(key) for key in unknown)}; "
                             f"known: {', '.join(prefix + key for key in known)}")


def _coerced(section, name: str, source):
    """``section`` with each value converted to its field's type (YAML reads ``1e-3`` as text); bad values raise."""
    for f in fields(section):
        value = getattr(section, f.name)
        kind = f.type.split(" | ")[0]
        if value is None:
            if "None" not in f.type:
                raise InputFileError(source, f"{name}.{f.name} must not be null")
            continue
        try:
            setattr(section, f.name, _converted(kind, value))
        except (TypeError, ValueError):
            raise InputFileError(source, f"{name}.{f.name} must be {kind}, got {value!r}") from None
    return section


def _converted(kind: str, value):
    """``value`` as ``kind`` ("float", "int", "str", "bool", "dict", "list[float]", "list[str]"); TypeError if not."""
    scalars = {"float": float, "int": int}
    if kind in scalars:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise TypeError(kind)
        number = scalars[kind](value)
        if kind == "int" and isinstance(value, float) and number != value:
            raise ValueError(kind)
        return number
    if kind.startswith("list["):
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            raise TypeError(kind)
        return [_converted(kind[5:-1], item) for item in items]
    expected = {"str": str, "bool": bool, "dict": dict}[kind]
    if not isinstance(value, expected):
        raise TypeError(kind)
    return value


def load_settings(path: str | os.PathLike) -> LearningSettings:
    """The settings in a YAML file; a missing or unreadable file, unknown keys or bad values raise InputFileError."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such settings file")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"not valid YAML ({type(exc).__name__}: {' '.join(str(exc).split())})") from None
    return LearningSettings.from_dict(values, path)


def write_settings(settings: LearningSettings, path: str | os.PathLike) -> None:
    """Write the resolved settings as YAML (atomically)."""
    import yaml

    with atomic_open(path) as handle:
        yaml.safe_dump(settings.to_dict(), handle, sort_keys=False, allow_unicode=True)


# ====================================================================== labellers
@dataclass
class JobOutcome:
    """One finished DFT job: the frame's name, whether it gave a label, seconds, energy (eV) and the error."""

    name: str
    ok: bool
    seconds: float
    energy: float | None = None
    error: str = ""


class PySCFLabeller:
    """Labels molecules with the embedded PySCF engine: energy, forces, and density candidates.

    Through :func:`echemml.dft.labelling.label_molecules`: the compact labels go to the
    candidate store ``store``, the labelled frames (energy eV, forces eV/Å, charge,
    field) to the extxyz ``frames``; an SCF that does not converge gives no label.
    """

    def __init__(self, settings: DFTSettings, field: np.ndarray, store: Path, frames: Path):
        from echemml.dft.labelling import LabelJob
        from echemml.dft.pyscf import PySCFSettings

        self.store = store
        self.workers = settings.workers
        self.job = LabelJob(
            settings=PySCFSettings(**settings.pyscf), field=tuple(float(x) for x in field), compute_forces=True,
            frames=frames, keep_candidates=True, random_points=settings.random_points, ts_points=settings.ts_points,
            ts_sigma=settings.ts_sigma, threads=settings.threads,
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


class Cp2kLabeller:
    """Labels slabs with CP2K: the zero-field density (``NAME_E0``) and Δn in the MD's field, as compact labels.

    Through :func:`echemml.dft.labelling.label_slabs`, one slab at a time so that a
    failed run (:class:`echemml.dft.cp2k.Cp2kError`) is that frame's failure alone.
    """

    def __init__(self, settings: DFTSettings, field: np.ndarray, store: Path):
        from echemml.dft.cp2k import Cp2kSettings
        from echemml.dft.labelling import SlabLabelJob

        self.store = store
        self.workers = settings.workers
        fields_ = (tuple(float(x) for x in field),) if np.any(field) else ()
        self.job = SlabLabelJob(settings=Cp2kSettings(**settings.cp2k), fields=fields_, keep_candidates=True,
                                random_points=settings.random_points, ts_points=settings.ts_points,
                                ts_sigma=settings.ts_sigma)

    def label(self, frames: dict[str, ase.Atoms], executor: object | None) -> Iterator[JobOutcome]:
        """Label the frames not yet labelled, one after the other; yields each outcome."""
        from echemml.dft.cp2k import Cp2kError
        from echemml.dft.labelling import label_slabs

        for name, atoms in frames.items():
            started = time.perf_counter()
            try:
                finished = list(label_slabs({name: atoms}, self.job, self.store, executor=executor, workers=1))
            except Cp2kError as exc:
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
        resume: continue the run in ``out`` (its settings may differ only in ``budget`` and ``md.steps``).
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
                               f"{', '.join(changed)}; only budget and md.steps may change on --resume")

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
                  if getattr(self.settings.models, head)}
        _check_heads(models)
        if self.settings.selection.signal == "committee" and len(models[keys.ENERGY].members) < 2:
            raise EchemmlError(f"{self.settings.source}: selection.signal committee needs an energy committee "
                               "(models.energy of at least 2 members)")
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

    def _labeller(self) -> PySCFLabeller | Cp2kLabeller:
        if self.settings.dft.engine == "cp2k":
            return Cp2kLabeller(self.settings.dft, self.field, self.folder.labels)
        return PySCFLabeller(self.settings.dft, self.field, self.folder.labels, self.folder.new_frames(self.settings))

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

    def _calculator(self):
        from echemml.calculators import EChemCalculator

        return EChemCalculator(potential=self.models[keys.ENERGY], field=tuple(self.field))

    def score(self, atoms: ase.Atoms, step: int) -> dict:
        """The frame's scores: ``novelty`` (largest atom residual) and ``ghost_novelty`` when a basis exists,
        ``deviation`` (eV/Å) for an energy committee."""
        from .novelty import committee_deviation, score_frame

        scores = {}
        if self.basis is not None:
            novelty = score_frame(self.novelty_model, atoms, self.basis, self.field,
                                  self.settings.selection.ghost_points, seed=step)
            scores.update(novelty=novelty.atoms_max, ghost_novelty=novelty.ghost_max)
        energy = self.models[keys.ENERGY]
        if len(energy.members) > 1:
            scores["deviation"] = committee_deviation(energy, atoms, self.field)
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

    def _queue_ready(self) -> bool:
        """Whether the queue goes to DFT now: full, the MD or the DFT budget done, or a killed session labelling it."""
        queued = len(self.record.queue)
        return queued > 0 and (self.record.labelling or queued >= self.settings.selection.max_labels
                               or self._md_done() or self._dft_budget_full())

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
        kind = self.levels.classify(scores[self.signal_key])
        trigger = {"step": step, "time_fs": step * self.settings.md.timestep, **scores, "class": kind,
                   "iteration": self.record.iteration, "queued": False}
        if kind == CANDIDATE and not self._dft_budget_full():
            name = f"al_step{step:06d}"
            self.record.queue.append(QueuedFrame.capture(name, step, self.atoms, self.charge(self.atoms), self.field))
            trigger.update(queued=True, name=name)
        self.record.triggers.append(trigger)
        self.record.md = MDState.capture(step, self.atoms, self.dynamics.rng)
        self._save()
        self.bar.update(steps)

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


__all__ = [
    "ActiveLearning", "BudgetSettings", "Cp2kLabeller", "DFTSettings", "DataFiles", "HeldOutSettings", "JobOutcome",
    "LearningSettings", "MDSettings", "ModelFiles", "PySCFLabeller", "RetrainSettings", "RunFolder",
    "SelectionSettings", "StructureSettings", "dft_executor", "load_settings", "write_settings",
]
