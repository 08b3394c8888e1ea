"""The persisted state and record of an active-learning run: one JSON file, rewritten atomically.

DP-GEN keeps a record of finished steps from which a killed run resumes exactly; FLARE
keeps the MD state so that the trajectory continues from the frame where it paused. An
``echemml learn`` run keeps both in ``RUN/record.json``, rewritten (temporary file +
rename, :func:`echemml.io.files.atomic_open`) after every MD chunk, every DFT job and
every retraining, so that a kill at any moment leaves the last consistent state:

``state``
    where the run stands: the MD step, positions (Å), momenta (ASE units, amu·Å/t with
    t = Å·√(amu/eV)) and the Langevin thermostat's random-generator state (numpy
    ``bit_generator.state``), the queue of frames waiting for DFT, the names labelled so
    far, whether the queue is being labelled, how many labels the latest retraining used, the
    iteration, the model file of each head (relative to the run folder) and the wall time spent
    over all sessions, s.
``triggers``
    one entry per scored frame: step, time (fs), scores (novelty dimensionless,
    deviation eV/Å), class (trusted, candidate, failed), whether it was queued.
``jobs``
    one entry per DFT job: name, step, status (done or failed), seconds, energy (eV),
    error; ``recovered`` when a killed run had stored the label but not yet its record.
``retrainings``
    one entry per retraining: iteration, labels used, seconds, each head's validation
    numbers.
``tests``
    the held-out errors of each iteration's models (iteration 0: the starting models).
``sessions``
    one entry per ``echemml learn`` invocation that ended without being killed.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import ase
import numpy as np

from echemml.errors import InputFileError
from echemml.io.files import atomic_open

FORMAT_NAME = "echemml-learning"
FORMAT_VERSION = 1
UNITS = {
    "positions": "Å", "momenta": "amu·Å/(Å·√(amu/eV))", "time": "fs", "seconds": "s", "field": "V/Å",
    "energy": "eV", "charge": "e", "novelty": "", "deviation": "eV/Å",
}


@dataclass
class QueuedFrame:
    """A frame waiting for its DFT label: structure (Å), net charge (e), field (V/Å), and the step it came from."""

    name: str
    step: int
    numbers: list[int]
    positions: list[list[float]]
    cell: list[list[float]]
    pbc: list[bool]
    charge: int
    field: list[float]

    @classmethod
    def capture(cls, name: str, step: int, atoms: ase.Atoms, charge: int, field: np.ndarray) -> QueuedFrame:
        """The frame of ``atoms`` as it is now."""
        return cls(
            name=name, step=int(step), numbers=[int(z) for z in atoms.numbers], positions=atoms.positions.tolist(),
            cell=np.asarray(atoms.cell).tolist(), pbc=[bool(p) for p in atoms.pbc], charge=int(charge),
            field=[float(value) for value in field],
        )

    def atoms(self) -> ase.Atoms:
        """The structure to label, with ``info["charge"]`` and (in a field) ``info["external_field"]``."""
        atoms = ase.Atoms(self.numbers, self.positions, cell=self.cell, pbc=self.pbc)
        atoms.info["charge"] = self.charge
        if any(self.field):
            atoms.info["external_field"] = np.asarray(self.field, dtype=float)
        return atoms


@dataclass
class MDState:
    """Where the MD stands after ``step`` steps: positions (Å), momenta (ASE units), thermostat RNG state."""

    step: int
    positions: list[list[float]]
    momenta: list[list[float]]
    rng: dict

    @classmethod
    def capture(cls, step: int, atoms: ase.Atoms, rng: np.random.Generator) -> MDState:
        """The state of ``atoms`` and of the thermostat's generator ``rng`` after ``step`` steps."""
        return cls(step=int(step), positions=atoms.positions.tolist(), momenta=atoms.get_momenta().tolist(),
                   rng=rng.bit_generator.state)

    def generator(self) -> np.random.Generator:
        """A generator in the saved state (it continues the same stream of random numbers)."""
        rng = np.random.default_rng()
        rng.bit_generator.state = self.rng
        return rng


@dataclass
class LearningRecord:
    """The state of an active-learning run and the record of everything it did (see the module docstring)."""

    md: MDState
    models: dict[str, str]
    iteration: int = 0
    queue: list[QueuedFrame] = field(default_factory=list)
    labelling: bool = False
    labelled: list[str] = field(default_factory=list)
    trained: int = 0
    elapsed: float = 0.0
    stop_reason: str = ""
    triggers: list[dict] = field(default_factory=list)
    jobs: list[dict] = field(default_factory=list)
    retrainings: list[dict] = field(default_factory=list)
    tests: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)

    @property
    def pending(self) -> int:
        """Labels that no retraining has used yet."""
        return len(self.labelled) - self.trained

    def job_names(self) -> set[str]:
        """Names of the frames whose DFT job is recorded (done or failed)."""
        return {job["name"] for job in self.jobs}

    def to_dict(self) -> dict:
        """The JSON document: format header, ``state`` and the record lists."""
        state = {
            "step": self.md.step, "positions": self.md.positions, "momenta": self.md.momenta, "rng": self.md.rng,
            "models": self.models, "iteration": self.iteration, "queue": [dataclasses.asdict(q) for q in self.queue],
            "labelling": self.labelling, "labelled": self.labelled, "trained": self.trained, "elapsed_s": self.elapsed,
            "stop_reason": self.stop_reason,
        }
        return {
            "format": FORMAT_NAME, "version": FORMAT_VERSION, "units": UNITS, "state": state,
            "triggers": self.triggers, "jobs": self.jobs, "retrainings": self.retrainings, "tests": self.tests,
            "sessions": self.sessions,
        }

    def save(self, path: str | os.PathLike) -> None:
        """Rewrite the record at ``path`` atomically: a reader sees the old file or the new, never a part."""
        with atomic_open(path) as handle:
            json.dump(self.to_dict(), handle, indent=1, ensure_ascii=False)

    @classmethod
    def load(cls, path: str | os.PathLike) -> LearningRecord:
        """Read a record written by :meth:`save`; a missing, foreign or damaged file raises InputFileError."""
        path = Path(path)
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError:
            raise InputFileError(path, "no such record") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputFileError(path, f"not a readable record ({exc})") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
            raise InputFileError(path, f"not an {FORMAT_NAME} record")
        if document.get("version") != FORMAT_VERSION:
            raise InputFileError(path, f"record version {document.get('version')}; this echemml reads {FORMAT_VERSION}")
        try:
            state = document["state"]
            return cls(
                md=MDState(int(state["step"]), state["positions"], state["momenta"], state["rng"]),
                models=dict(state["models"]), iteration=int(state["iteration"]),
                queue=[QueuedFrame(**frame) for frame in state["queue"]], labelling=bool(state["labelling"]),
                labelled=list(state["labelled"]),
                trained=int(state["trained"]), elapsed=float(state["elapsed_s"]), stop_reason=str(state["stop_reason"]),
                **{key: list(document[key]) for key in ("triggers", "jobs", "retrainings", "tests", "sessions")},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputFileError(path, f"damaged record ({type(exc).__name__}: {exc})") from None


__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "LearningRecord", "MDState", "QueuedFrame"]
