"""An ``echemml md`` run in MDAnalysis: its frames as a Universe, its recorded series as auxiliary data.

MDAnalysis reads no ASE trajectory, so the frames of ``RUN/md.traj`` that have a
record are loaded through ASE into a :class:`~MDAnalysis.coordinates.memory.MemoryReader`
(positions in Å, time in ps, the cell as box dimensions when the frames are
periodic), with elements, names and masses. Every series of ``RUN/record.h5``
(charge transfer, ESP drop, field, Bader charges, …) is written as an XVG file — the
auxiliary format MDAnalysis reads — under ``RUN/mdanalysis/`` and attached, so that
``ts.aux.NAME`` holds that frame's value (a number, or every component of a vector or
per-atom series) in the record's units. :func:`read_run` gives the same frames as ASE
Atoms (cell and pbc kept) with the record, for what needs the atoms themselves.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from echemml.errors import EchemmlError
from echemml.io.files import atomic_open

from .recorder import read_record

AUXILIARY_FOLDER = "mdanalysis"
TRAJECTORY = "md.traj"
RECORD = "record.h5"


def read_run(run: str | os.PathLike) -> tuple[list, dict[str, np.ndarray]]:
    """The recorded frames (ASE Atoms, with cell and pbc) of the ``echemml md`` run folder ``run`` and its
    record (:func:`~echemml.calculators.recorder.read_record`: ``step``, ``time`` in fs, the series)."""
    from ase.io.trajectory import Trajectory

    run = Path(run)
    if not (run / TRAJECTORY).is_file() or not (run / RECORD).is_file():
        raise EchemmlError(f"{run}: not an echemml md run (no {TRAJECTORY} and {RECORD})")
    record = read_record(run / RECORD)
    if len(record.get("step", ())) == 0:
        raise EchemmlError(f"{run}: the md run has no recorded frame yet")
    with Trajectory(run / TRAJECTORY) as trajectory:
        frames = list(trajectory)[-len(record["step"]):]  # the trajectory's last frames are the recorded ones
    return frames, record


def run_universe(run: str | os.PathLike):
    """The recorded frames of the ``echemml md`` run folder ``run`` as an MDAnalysis Universe, series attached."""
    try:
        from MDAnalysis import Universe
        from MDAnalysis.coordinates.memory import MemoryReader
    except ImportError:
        raise EchemmlError("reading an MD run with MDAnalysis needs it: pip install 'echemml[md]'") from None
    from ase.geometry import cell_to_cellpar

    run = Path(run)
    frames, record = read_run(run)
    first = frames[0]
    universe = Universe.empty(len(first), trajectory=False)
    symbols = first.get_chemical_symbols()
    universe.add_TopologyAttr("elements", symbols)
    universe.add_TopologyAttr("names", symbols)
    universe.add_TopologyAttr("masses", first.get_masses())
    times_ps = np.asarray(record["time"], dtype=float) / 1000.0
    periodic = bool(np.any(first.pbc))
    universe.load_new(
        np.array([atoms.positions for atoms in frames], dtype=np.float32), format=MemoryReader,
        dimensions=np.array([cell_to_cellpar(atoms.cell) for atoms in frames], dtype=np.float32) if periodic else None,
        dt=float(times_ps[1] - times_ps[0]) if len(times_ps) > 1 else 1.0, time_offset=float(times_ps[0]),
    )
    folder = run / AUXILIARY_FOLDER
    for name, series in record.items():
        if name in ("step", "time"):
            continue
        values = np.asarray(series, dtype=float).reshape(len(times_ps), -1)
        path = folder / f"{name}.xvg"
        with atomic_open(path) as handle:
            handle.write(f"# {name} of {run / RECORD}; time in ps\n")
            for time, row in zip(times_ps, values):
                handle.write(" ".join(f"{x:.10g}" for x in (time, *row)) + "\n")
        columns = list(range(1, values.shape[1] + 1))
        universe.trajectory.add_auxiliary({name: columns[0] if len(columns) == 1 else columns}, str(path))
    return universe


__all__ = ["read_run", "run_universe"]
