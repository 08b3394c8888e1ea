"""The train/fit configuration: defaults of Table 1 (QM9 column), read from YAML.

Feng, Zhang & Jiang (JCTC 2025), Table 1 and Sec. 2: AdamW at lr 1e-3, the
learning rate halved when the validation loss has not improved for 50 epochs,
training stopped once lr < 1e-6, a 9:1 train/validation split of the sampled
points, batches of 16 structures for QM9. ``qm9.yaml`` next to this module
lists every key with its unit and meaning; :func:`load_config` reads such a
file, fills the keys it omits with these defaults and refuses unknown keys.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..errors import EchemmlError, InputFileError

DEFAULT_CONFIG_FILE = Path(__file__).with_name("qm9.yaml")
HEAD_NAMES = ("density", "response", "energy")
DTYPE_NAMES = ("float32", "float64")
LOSS_NAMES = ("mse", "mae")
SCHEDULE_NAMES = ("plateau", "cosine")


@dataclass
class ModelSettings:
    """Network sizes (Table 1, QM9 column: 108 features).

    Attributes:
        species: atomic numbers the model knows; None takes every element of the sample set.
        cutoff: rc, Å.
        n_radial: K, radial functions per element (M = K(K+1)/2·(L+1) features).
        max_l: L, highest angular momentum.
        n_iterations: T, message-passing iterations.
        orbital_hidden: hidden widths of the orbital-coefficient NNs.
        readout_hidden: hidden widths of the readout NN.
    """

    species: list[int] | None = None
    cutoff: float = 4.0
    n_radial: int = 8
    max_l: int = 2
    n_iterations: int = 2
    orbital_hidden: list[int] = field(default_factory=lambda: [16, 16])
    readout_hidden: list[int] = field(default_factory=lambda: [32, 32])


@dataclass
class TrainingSettings:
    """Optimiser, schedule, stopping and bookkeeping.

    Attributes:
        batch_size: structures per optimiser step (all ranks together).
        lr: initial AdamW learning rate.
        weight_decay: AdamW decoupled weight decay.
        schedule: "plateau" (the paper's: × lr_factor after ``patience`` epochs without a
            better validation loss) or "cosine" (from lr down to min_lr along a half cosine
            over ``max_epochs``, which must be set: a run of known length, e.g. one sized
            to fit a session, ends at a small rate instead of wherever the plateaus left it).
        lr_factor: learning-rate factor on a plateau (and after a non-finite loss).
        patience: epochs without a better validation loss before the factor applies.
        min_lr: training stops once the learning rate falls below this (cosine: its last rate).
        max_epochs: epoch budget (None: none).
        time_budget: wall-clock budget of one run, s (None: none); checked after each epoch.
        validation_fraction: share of each configuration's points held out for validation.
        validation_configurations: shell patterns (fnmatch) of sample-set names or
            sources (e.g. candidate names such as "train_L4_5_*") whose
            configurations validate with all their points and do not train; the others
            train on all theirs. Empty: every configuration splits its points by
            ``validation_fraction`` (the paper's split). Whole configurations measure
            what held-out structures will see; split points measure interpolation.
        seed: seed of the split, the shuffles and the initial weights.
        grad_clip: maximum gradient norm (None: no clipping).
        ema_decay: decay of an exponential moving average of the weights used for
            validation and the saved model (None: no EMA).
        loss: "mse" (the paper's squared error) or "mae" (absolute error, the
            measure NMAE takes over the whole grid), of the targets divided by
            their standard deviation.
        energy_weight, forces_weight: the energy head's loss, w_E·p(ΔE/N) + w_F·mean p(ΔF)
            per structure (eV per atom, eV/Å; MACE's defaults 1 and 100).
        loss_weights: weight of each configuration's points in the loss, by a
            pattern (fnmatch) of its sample-set name or source, e.g. {"train_L6_*": 3};
            the first pattern that matches counts, others weigh 1.
        checkpoint_every: epochs between checkpoints (one is always written at the end).
        dtype: float32 or float64 arithmetic.
        threads: CPU threads per process (None: torch's default). Small batches
            run fastest on one thread when other jobs share the cores.
        device: "cpu", "cuda" (under torchrun: one GPU per process, by LOCAL_RANK)
            or "auto" (cuda when a GPU is visible).
    """

    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.01
    schedule: str = "plateau"
    lr_factor: float = 0.5
    patience: int = 50
    min_lr: float = 1e-6
    max_epochs: int | None = None
    time_budget: float | None = None
    validation_fraction: float = 0.1
    validation_configurations: list[str] = field(default_factory=list)
    seed: int = 0
    grad_clip: float | None = None
    ema_decay: float | None = None
    loss: str = "mse"
    loss_weights: dict[str, float] = field(default_factory=dict)
    energy_weight: float = 1.0
    forces_weight: float = 100.0
    checkpoint_every: int = 10
    dtype: str = "float32"
    threads: int | None = None
    device: str = "cpu"


@dataclass
class FitSettings:
    """Sampling–training cycles of ``echemml fit``.

    Attributes:
        cycles: number of (sample → train) cycles.
        inputs: density files to sample from (for a response: the files in the field).
        references: zero-field density files, one per input (response only).
        field: the field the inputs were computed in, V/Å (response only).
        candidates: a candidate store (.h5) whose configurations are sampled too
            (those whose labels match the head: densities, or responses Δn).
        names: shell patterns (fnmatch) of the store's configurations to use, e.g.
            ["train_*"]; empty = all.
        sampler: :class:`echemml.sampling.driver.SamplerSettings` keywords (method, ts_points,
            ts_sigma, lifs_threshold, ...); the method defaults to "ts+lifs".
        workers: sampling processes (1: in this process).
    """

    cycles: int = 3
    inputs: list[str] = dataclasses.field(default_factory=list)
    references: list[str] = dataclasses.field(default_factory=list)
    field: list[float] | None = None
    candidates: str | None = None
    names: list[str] = dataclasses.field(default_factory=list)
    sampler: dict = dataclasses.field(default_factory=dict)
    workers: int = 1


@dataclass
class Config:
    """Everything ``echemml train`` and ``echemml fit`` read.

    Attributes:
        samples: sample set (HDF5) to train on, or extxyz of labelled frames (energy head), or a
            list of them; None when the command line names it.
        head: "density", "response" or "energy" (energies and forces of labelled configurations).
        model, training, fit: the sections above.
    """

    samples: str | list[str] | None = None
    head: str = "density"
    model: ModelSettings = field(default_factory=ModelSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    fit: FitSettings = field(default_factory=FitSettings)

    def to_dict(self) -> dict:
        """Plain values (for checkpoints and the config.yaml written next to a run)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict, source: str | os.PathLike | None = None) -> Config:
        """Build from nested plain values; unknown keys and bad values raise an error naming ``source``."""
        if not isinstance(values, dict):
            raise _config_error(source, "the configuration must be a mapping of keys to values")
        sections = {"model": ModelSettings, "training": TrainingSettings, "fit": FitSettings}
        _check_keys(values, cls, "", source)
        top = {key: value for key, value in values.items() if key not in sections}
        for name, section in sections.items():
            given = values.get(name) or {}
            if not isinstance(given, dict):
                raise _config_error(source, f"section '{name}' must be a mapping")
            _check_keys(given, section, f"{name}.", source)
            top[name] = _coerced(section(**given), f"{name}.", source)
        config = _coerced(cls(**top), "", source)
        config.validate(source)
        return config

    def validate(self, source: str | os.PathLike | None = None) -> None:
        """Raise an error naming ``source`` for values that cannot work."""
        t = self.training
        problems = []
        if self.head not in HEAD_NAMES:
            problems.append(f"head must be one of {', '.join(HEAD_NAMES)}, got {self.head!r}")
        if t.dtype not in DTYPE_NAMES:
            problems.append(f"training.dtype must be one of {', '.join(DTYPE_NAMES)}, got {t.dtype!r}")
        if t.schedule not in SCHEDULE_NAMES:
            problems.append(f"training.schedule must be one of {', '.join(SCHEDULE_NAMES)}, got {t.schedule!r}")
        elif t.schedule == "cosine" and t.max_epochs is None:
            problems.append("training.schedule cosine needs training.max_epochs (the length of the cosine)")
        if t.loss not in LOSS_NAMES:
            problems.append(f"training.loss must be one of {', '.join(LOSS_NAMES)}, got {t.loss!r}")
        if not 0.0 < t.validation_fraction < 1.0:
            problems.append("training.validation_fraction must lie in (0, 1)")
        if not isinstance(t.validation_configurations, list) or not all(
            isinstance(pattern, str) for pattern in t.validation_configurations
        ):
            problems.append("training.validation_configurations must be a list of name patterns")
        if not 0.0 < t.lr_factor < 1.0:
            problems.append("training.lr_factor must lie in (0, 1)")
        if t.energy_weight < 0 or t.forces_weight < 0 or t.energy_weight + t.forces_weight == 0:
            problems.append("training.energy_weight and training.forces_weight must be ≥ 0, not both 0")
        for key in ("batch_size", "patience", "checkpoint_every"):
            if int(getattr(t, key)) < 1:
                problems.append(f"training.{key} must be at least 1")
        if t.threads is not None and int(t.threads) < 1:
            problems.append("training.threads must be at least 1 or null")
        if t.device not in ("cpu", "cuda", "auto"):
            problems.append(f"training.device must be cpu, cuda or auto, got {t.device!r}")
        if t.ema_decay is not None and not 0.0 < t.ema_decay < 1.0:
            problems.append("training.ema_decay must lie in (0, 1) or be null")
        if self.model.cutoff <= 0:
            problems.append("model.cutoff must be positive (Å)")
        if problems:
            raise _config_error(source, "; ".join(problems))


def load_config(path: str | os.PathLike | None = None) -> Config:
    """The configuration in a YAML file (keys it omits take the defaults); None gives the defaults."""
    if path is None:
        return Config()
    import yaml

    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such configuration file")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputFileError(path, f"not valid YAML ({exc.__class__.__name__}: {exc})") from None
    return Config.from_dict(values, path)


def write_config(config: Config, path: str | os.PathLike) -> None:
    """Write the resolved configuration as YAML (atomically)."""
    import yaml

    from ..io.files import atomic_open

    with atomic_open(path, "w") as handle:
        yaml.safe_dump(config.to_dict(), handle, sort_keys=False)


def _check_keys(values: dict, known: type | Iterable[str], prefix: str, source) -> None:
    """Raise an error naming ``source`` for keys of ``values`` not in ``known`` (a dataclass's fields, or names)."""
    known = {f.name for f in fields(known)} if isinstance(known, type) else set(known)
    unknown = sorted(set(values) - known)
    if unknown:
        names = ", ".join(prefix + str(key) for key in unknown)
        raise _config_error(source, f"unknown key(s) {names}; known: {', '.join(prefix + k for k in sorted(known))}")


def _coerced(settings, prefix: str, source):
    """``settings`` with numbers given as strings (YAML reads ``1e-3`` as text) converted."""
    for f in fields(settings):
        value = getattr(settings, f.name)
        kind = f.type.split(" ")[0]
        if value is None or kind not in ("float", "int"):
            continue
        try:
            converted = float(value) if kind == "float" else int(value)
        except (TypeError, ValueError):
            raise _config_error(source, f"{prefix}{f.name} must be a number, got {value!r}") from None
        setattr(settings, f.name, converted)
    return settings


def _config_error(source, problem: str) -> EchemmlError:
    return InputFileError(source, problem) if source is not None else EchemmlError(problem)
