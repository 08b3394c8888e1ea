"""The settings of an active-learning run (``echemml learn CONFIG.yaml``): read, checked, written.

:class:`LearningSettings` holds one dataclass per YAML section — ``structure``,
``models``, ``data``, ``md``, ``selection``, ``dft``, ``retrain``, ``budget`` and
``test`` — with every key's default, meaning and unit in its docstring.
:func:`load_settings` reads a YAML file: unknown keys, values of the wrong type (a
number YAML read as text is converted) and values that cannot work raise
:class:`~echemml.errors.InputFileError` naming the file, all problems in one line;
relative paths are taken from the current folder and stored absolute.
:func:`write_settings` writes the resolved settings back (atomically), as the run
folder's settings.yaml. Units: Å, eV, eV/Å, V/Å, fs, K, 1/fs, Å³/e, s.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path

from echemml import keys
from echemml.calculators.universal import UNIVERSAL_POTENTIALS
from echemml.errors import EchemmlError, InputFileError
from echemml.io.candidates import FORMAT_NAME as CANDIDATE_FORMAT
from echemml.io.files import atomic_open
from echemml.io.hdf5_store import store_format
from echemml.io.samples import FORMAT_NAME as SAMPLE_SET_FORMAT
from echemml.training.config import _check_keys

from .novelty import DEFAULT_THRESHOLD, TrustLevels

HEADS = (keys.ENERGY, keys.DENSITY, keys.RESPONSE)
SIGNALS = ("novelty", "committee", "density_committee", "response_committee")
COMMITTEE_HEADS = {"committee": keys.ENERGY, "density_committee": keys.DENSITY, "response_committee": keys.RESPONSE}
SIGNAL_KEYS = {"novelty": "novelty", "committee": "deviation",  # signal → the trigger's score key
               "density_committee": "density_deviation", "response_committee": "response_deviation"}
SLAB_ENGINES = ("cp2k", "vasp")
ENGINES = ("pyscf", *SLAB_ENGINES)


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
        energy: an echemml energy model or committee (e.g. ``h5o2-energy``), or a universal
            potential that drives the MD untrained (``chgnet``, ``emt``: metal electrodes, whose
            density and response are what is learnt).
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
        signal: "novelty" (largest atom LIFS residual, dimensionless), "committee" (the energy
            committee's largest force deviation, eV/Å), or "density_committee" / "response_committee"
            (the density or response committee's spread at the frame's ghost points, % on the NMAE
            scale: Σ|σ| / Σ|mean|).
        lo, hi: trust levels: below lo trusted, from lo to below hi labelled, from hi up unphysical.
        lo_quantile: when set (e.g. 0.9), lo follows the run: a frame's lower level is the larger of
            ``lo`` and this quantile of the signal over the ``lo_window`` frames scored before it, so
            that about a fraction 1 − lo_quantile of frames stay candidates as retraining lowers the
            signal (a fixed lo falls silent as the training set grows); ``lo`` is then the floor.
        lo_window: scored frames the rolling quantile reads (all scored so far while fewer; the
            first frame is sorted by ``lo`` alone).
        max_labels: frames queued before they are labelled (one iteration's labels at most).
        model: the head whose features give the novelty (None: density, else response, else energy).
        basis_threshold: LIFS threshold of the novelty basis.
        ghost_points: ghost points scored around the atoms per frame (recorded as ``ghost_novelty``).
    """

    every: int = 10
    signal: str = "novelty"
    lo: float = 0.05
    hi: float = 0.5
    lo_quantile: float | None = None
    lo_window: int = 50
    max_labels: int = 4
    model: str | None = None
    basis_threshold: float = DEFAULT_THRESHOLD
    ghost_points: int = 100


@dataclass
class DFTSettings:
    """How frames are labelled.

    Attributes:
        engine: "pyscf" (embedded, molecules: energy, forces, density), "cp2k" or "vasp" (slabs:
            zero-field density and Δn in the MD's field).
        pyscf: :class:`echemml.dft.pyscf.PySCFSettings` keywords (basis, max_cycle, spacing, ...).
        cp2k: :class:`echemml.dft.cp2k.Cp2kSettings` keywords.
        vasp: :class:`echemml.dft.labelling.VaspSettings` keywords (command, threads, incar,
            potcar_spec); the runs go to the run folder's ``dft/``.
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
    vasp: dict = field(default_factory=dict)
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
        labelled_fraction: the most DFT jobs (done, failed and queued) per scored frame, e.g.
            0.1: a candidate is queued only while that holds with it and its frame counted. The
            first ``selection.max_labels`` jobs are always allowed: a model must learn from one
            batch before its MD can be trusted (a start without them can leave the region the
            model knows before the fraction allows a batch).
        failed_in_row: consecutive failed frames (signal above ``selection.hi``) that stop the
            run: the MD has left what the models know, and scoring more of it labels nothing.
    """

    dft_calls: int | None = None
    wall_time: float | None = None
    retrainings: int | None = None
    labelled_fraction: float | None = None
    failed_in_row: int | None = 20


@dataclass
class HeldOutSettings:
    """Held-out data measured before and after each retraining (YAML section ``test``).

    Attributes:
        frames: extxyz files of labelled frames: force RMSE (meV/Å) and energy MAE (meV/atom).
        cubes: density files (cube, CHGCAR) in ``field``: whole-grid NMAE (%).
        Both take shell patterns (``heldout/*.cube``), expanded in sorted order when the settings load.
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
        _check_keys(values, SECTIONS, "", source)
        parts = {}
        for name, section in SECTIONS.items():
            given = values.get(name) or {}
            if not isinstance(given, dict):
                raise InputFileError(source, f"section '{name}' must be a mapping")
            _check_keys(given, section, f"{name}.", source)
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
        self.test.frames = [_absolute(path) for path in _expanded(self.test.frames)]
        self.test.cubes = [_absolute(path) for path in _expanded(self.test.cubes)]

    def trained_heads(self) -> list[str]:
        """The heads with data: those retrained."""
        return [head for head in HEADS if getattr(self.data, head)]

    def universal_potential(self) -> bool:
        """Whether ``models.energy`` names a universal potential (no echemml energy model, never retrained)."""
        return self.models.energy.lower() in UNIVERSAL_POTENTIALS

    def novelty_head(self) -> str | None:
        """The head whose features give the novelty: ``selection.model``, else density, response, energy
        (an echemml energy model); None when there is none."""
        heads = (keys.DENSITY, keys.RESPONSE) + (() if self.universal_potential() else (keys.ENERGY,))
        return self.selection.model or next((head for head in heads if getattr(self.models, head)), None)

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
            yield "models.energy is missing (an energy model, or chgnet or emt, drives the MD)"
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
        if s.lo_quantile is not None and not 0.0 < s.lo_quantile < 1.0:
            yield f"selection.lo_quantile must lie in (0, 1), got {s.lo_quantile}"
        if s.lo_window < 2:
            yield "selection.lo_window must be at least 2 scored frames"
        if not 0.0 < s.basis_threshold < 1.0:
            yield "selection.basis_threshold must lie in (0, 1)"
        if s.model is not None and s.model not in HEADS:
            yield f"selection.model must be one of {', '.join(HEADS)}, got {s.model!r}"
        elif s.signal == "novelty" and self.models.energy:
            head = self.novelty_head()
            if head is None:
                yield (f"selection.signal novelty: models.energy {self.models.energy} is no echemml model; "
                       "give models.density or models.response with its data")
            elif not getattr(self.models, head) or not getattr(self.data, head):
                yield (f"selection.signal novelty scores against the {head} model's training data: "
                       f"give models.{head} and data.{head}")

    def _dft_problems(self) -> Iterator[str]:
        from echemml.dft.cp2k import Cp2kSettings
        from echemml.dft.labelling import VaspSettings
        from echemml.dft.pyscf import PySCFSettings

        d = self.dft
        if d.engine not in ENGINES:
            yield f"dft.engine must be one of {', '.join(ENGINES)}, got {d.engine!r}"
        for name, recipe in (("pyscf", PySCFSettings), ("cp2k", Cp2kSettings), ("vasp", VaspSettings)):
            unknown = sorted(set(getattr(d, name)) - {f.name for f in fields(recipe) if f.name != "work"})
            if unknown:
                known = ", ".join(f.name for f in fields(recipe))
                yield f"dft.{name}: unknown key(s) {', '.join(unknown)}; known: {known}"
        if d.workers < 1 or d.random_points < 1 or d.ts_points < 1 or d.ts_sigma <= 0:
            yield "dft.workers, dft.random_points and dft.ts_points must be at least 1, dft.ts_sigma (Å³/e) > 0"
        if d.engine == "pyscf" and self.data.response and not any(self.md.field):
            yield "data.response: PySCF labels a response Δn in the MD's field, and md.field is zero"
        if self.universal_potential():
            if self.data.energy:
                yield f"data.energy: models.energy {self.models.energy} is a universal potential, not retrained"
            if self.selection.signal == "committee":
                yield f"selection.signal committee needs an echemml energy committee, not {self.models.energy}"
            if self.test.frames:
                yield f"test.frames measure an echemml energy model, not {self.models.energy}"
        if d.engine in SLAB_ENGINES and self.data.energy:
            yield (f"data.energy: {d.engine} labels here give no forces; retrain the energy head with "
                   "dft.engine pyscf")

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
        if any(value is not None and value <= 0
               for value in (b.dft_calls, b.wall_time, b.retrainings, b.failed_in_row)):
            yield ("budget.dft_calls, budget.wall_time (s), budget.retrainings and budget.failed_in_row must be "
                   "positive or null")
        if b.labelled_fraction is not None and not 0.0 < b.labelled_fraction <= 1.0:
            yield f"budget.labelled_fraction must lie in (0, 1], got {b.labelled_fraction}"

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


def _expanded(paths: list[str]) -> list[str]:
    """``paths`` with each shell pattern replaced by the files it matches, sorted (kept as given if none match)."""
    expanded = []
    for path in paths:
        matches = sorted(glob.glob(os.path.expanduser(path))) if glob.has_magic(path) else []
        expanded.extend(matches or [path])
    return expanded


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


__all__ = [
    "BudgetSettings", "DFTSettings", "DataFiles", "HeldOutSettings", "LearningSettings", "MDSettings", "ModelFiles",
    "RetrainSettings", "SelectionSettings", "StructureSettings", "load_settings", "write_settings",
]
