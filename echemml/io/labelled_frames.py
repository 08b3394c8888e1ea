"""Labelled frames: structures with their DFT energy and forces, in one extxyz file.

The file an energy model trains on and is evaluated against, in the shape MACE and
NequIP read: one extxyz frame per structure, the energy (eV) and forces (eV/Å) as
ASE's extxyz writer keeps a calculator's results, and in each frame's info line
``name``, ``charge`` (e) and ``external_field`` (V/Å, absent in zero field). A
``.gz``, ``.bz2`` or ``.xz`` suffix compresses it.

:func:`append_labelled_frames` rewrites the whole file atomically (temporary file +
rename): a frame is either in the file or not, and a stopped labelling run loses
nothing already written. Files of a few thousand small frames rewrite in well under
the time one DFT label takes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import ase
import ase.io
import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator

from ..errors import InputFileError
from .files import atomic_open, read_text
from .samples import SampledConfiguration

NAME_KEY = "name"


def labelled_frame(
    atoms: ase.Atoms, name: str, energy: float, forces: np.ndarray, charge: int = 0, field: np.ndarray | None = None
) -> ase.Atoms:
    """A copy of ``atoms`` carrying its label: energy (eV), forces (N, 3) eV/Å, name, charge (e), field (V/Å)."""
    frame = ase.Atoms(atoms.numbers, atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    frame.info[NAME_KEY] = name
    frame.info["charge"] = int(charge)
    if field is not None and np.any(np.asarray(field) != 0):
        frame.info["external_field"] = np.asarray(field, dtype=float)
    frame.calc = SinglePointCalculator(frame, energy=float(energy), forces=np.asarray(forces, dtype=float))
    return frame


def read_frames(path: str | os.PathLike) -> list[ase.Atoms]:
    """Every frame of an extxyz file (an absent file has none); a file ASE cannot read raises InputFileError."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        return ase.io.read(path, index=":", format="extxyz")
    except Exception as exc:  # ase raises many kinds for unreadable files
        raise InputFileError(path, f"not a readable extxyz file ({type(exc).__name__}: {exc})") from None


def frame_names(path: str | os.PathLike) -> set[str]:
    """The names of the frames already in ``path`` (empty when it does not exist)."""
    return {str(frame.info.get(NAME_KEY)) for frame in read_frames(path)}


def append_labelled_frames(path: str | os.PathLike, frames: Sequence[ase.Atoms]) -> None:
    """Add ``frames`` (from :func:`labelled_frame`) to the extxyz at ``path``, atomically."""
    path = Path(path)
    old = read_text(path) if path.exists() else ""
    buffer = io.StringIO()
    ase.io.write(buffer, list(frames), format="extxyz")
    with atomic_open(path) as handle:
        handle.write(old + buffer.getvalue())


def read_labelled_frames(path: str | os.PathLike) -> tuple[list[SampledConfiguration], list[str]]:
    """The frames of an extxyz as energy-labelled configurations (no grid points), and their names.

    Each frame needs an energy and forces; its net charge (e) and field (V/Å) come
    from ``charge`` and ``external_field`` in its info line (0 when absent), its name
    from ``name`` (else STEM_0000, …).
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such file")
    frames = read_frames(path)
    if not frames:
        raise InputFileError(path, "holds no frames")
    configurations, names = [], []
    for index, frame in enumerate(frames):
        results = frame.calc.results if frame.calc is not None else {}
        if "energy" not in results or "forces" not in results:
            raise InputFileError(path, f"frame {index} has no energy and forces (an energy label needs both)")
        name = str(frame.info.get(NAME_KEY, f"{path.stem}_{index:04d}"))
        configurations.append(SampledConfiguration(
            atoms=frame,
            points=np.zeros((0, 3)),
            targets=np.zeros(0),
            field=np.asarray(frame.info.get("external_field", np.zeros(3)), dtype=float),
            energy=float(results["energy"]),
            forces=np.asarray(results["forces"], dtype=float),
            charge=int(frame.info.get("charge", 0)),
            provenance={"source": name},
        ))
        names.append(name)
    return configurations, names
