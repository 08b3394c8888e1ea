"""PropertyRecorder: per-frame properties of an MD run as an HDF5 time series, resumable.

Attach it to any ASE dynamics (``dyn.attach(recorder, interval=k)``): each call asks
the atoms' calculator for the chosen properties (``energy``, ``forces``,
``energy_std``, ``electrons``, ``charges``, ``dipole``, …; numbers and arrays, not
grids) and appends them, with the MD step and time (fs), to one growing dataset per
property. Units follow :mod:`echemml.keys` and are stored as each dataset's ``unit``.

The file's ``frames`` attribute is written last, after every dataset has its new
row; a run killed between the two leaves rows that the next open cuts back, so the
series stays aligned. A step at or before the last recorded one is skipped, so a
resumed run that calls its observers at its first step does not record it twice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import ase
import h5py
import numpy as np
from ase import units

from echemml import keys
from echemml.errors import EchemmlError

FORMAT_NAME = "echemml-md-record"
UNITS = keys.series_units()


class PropertyRecorder:
    """Appends ``properties`` of the atoms of ``dynamics`` (an ASE MolecularDynamics) to the HDF5 file ``path``.

    Each frame's step is the dynamics' step count and its time step × dt.
    """

    def __init__(self, dynamics, path: str | os.PathLike, properties: Sequence[str] = ("energy",)):
        self.atoms: ase.Atoms = dynamics.atoms
        self.path = Path(path)
        self.properties = list(properties)
        self.dynamics = dynamics
        with h5py.File(self.path, "a") as handle:
            handle.attrs.setdefault("format", FORMAT_NAME)
            if handle.attrs["format"] != FORMAT_NAME:
                raise EchemmlError(f"{self.path}: not an echemml MD record")
            frames = int(handle.attrs.get("frames", 0))
            for name in handle:  # rows of a frame that was never completed
                if len(handle[name]) > frames:
                    handle[name].resize(frames, axis=0)
            self.last_step = int(handle["step"][frames - 1]) if frames else -1

    def __call__(self) -> None:
        """Record the current frame (skipped when its step is already recorded)."""
        step = int(self.dynamics.nsteps)
        if step <= self.last_step:
            return
        row = {"step": np.array(step), "time": np.array(step * self.dynamics.dt / units.fs)}
        for name in self.properties:
            value = self.atoms.calc.get_property(name, self.atoms)
            if not isinstance(value, (int, float, np.ndarray, np.number)):
                raise EchemmlError(f"{name}: a {type(value).__name__}, not a number or array; it cannot be recorded")
            row[name] = np.asarray(value, dtype=float)
        with h5py.File(self.path, "a") as handle:
            frames = int(handle.attrs.get("frames", 0))
            for name, value in row.items():
                if name not in handle:
                    handle.create_dataset(name, shape=(0, *value.shape), maxshape=(None, *value.shape),
                                          dtype=value.dtype, chunks=True)
                    handle[name].attrs["unit"] = UNITS.get(name, "")
                dataset = handle[name]
                dataset.resize(frames + 1, axis=0)
                dataset[frames] = value
            handle.attrs["frames"] = frames + 1  # last: the frame is complete
        self.last_step = step


def read_record(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every recorded series of an MD record, complete frames only (``step``, ``time`` in fs, properties)."""
    with h5py.File(path, "r") as handle:
        if handle.attrs.get("format") != FORMAT_NAME:
            raise EchemmlError(f"{path}: not an echemml MD record")
        frames = int(handle.attrs.get("frames", 0))
        return {name: handle[name][:frames] for name in handle}


__all__ = ["PropertyRecorder", "read_record"]
