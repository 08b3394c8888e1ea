"""custodian Job for one CP2K density calculation: write the input, run cp2k, read the results back.

The job starts CP2K with its own environment (OMP_NUM_THREADS from the
settings) and never changes ``os.environ`` of the calling process, so that jobs
in threads (dask workers) do not see each other's settings.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import ase
import numpy as np
from custodian.custodian import Job

from ...io.cube import read_cube
from ..result import DFTResult
from .inputs import Cp2kSettings, read_periodicity, write_input
from .mt_cell import warn_if_mt_cell_is_short
from .parser import Cp2kError, log_tail, read_output
from .validators import CUBE_PATTERN

INPUT_FILE = "cp2k.inp"
OUTPUT_FILE = "cp2k.out"
STDERR_FILE = "std_err.txt"
PROJECT = "echemml"


class Cp2kDensityJob(Job):
    """CP2K on ``atoms`` (Å) in a uniform ``field`` (V/Å); after the run, ``result`` holds its DFTResult.

    setup writes ``cp2k.inp``; run starts ``settings.command`` with
    OMP_NUM_THREADS = ``settings.threads`` in the subprocess's environment,
    stdout to ``cp2k.out``; postprocess reads energy (eV), forces (eV/Å), the
    density cube (Å, e/Å³) and each atom's valence charge (e, the grid's
    metadata "valence_charges", when the output lists every kind), and warns
    when the cell is too short for the MT Poisson solver.
    """

    def __init__(self, atoms: ase.Atoms, field: np.ndarray | None = None, settings: Cp2kSettings | None = None) -> None:
        self.atoms = atoms
        self.field = np.zeros(3) if field is None else np.asarray(field, dtype=float).reshape(3)
        self.settings = settings or Cp2kSettings()
        self.result: DFTResult | None = None
        self._start = 0.0

    def environment(self) -> dict[str, str]:
        """The environment CP2K runs in: this process's, with the settings' OMP_NUM_THREADS."""
        return {**os.environ, "OMP_NUM_THREADS": str(self.settings.threads)}

    def setup(self, directory: str = "./") -> None:
        """Write the input file."""
        self._start = time.perf_counter()
        text = write_input(self.atoms, self.field, self.settings, project=PROJECT)
        (Path(directory) / INPUT_FILE).write_text(text)

    def run(self, directory: str = "./") -> subprocess.Popen:
        """Start CP2K in ``directory``; returns the process for custodian to watch."""
        folder = Path(directory)
        with open(folder / OUTPUT_FILE, "w") as stdout, open(folder / STDERR_FILE, "w", buffering=1) as stderr:
            return subprocess.Popen(
                [self.settings.command, "-i", INPUT_FILE], cwd=folder, stdout=stdout, stderr=stderr,
                env=self.environment(),
            )

    def postprocess(self, directory: str = "./") -> None:
        """Read energy, forces, electron count and density into ``result``."""
        folder = Path(directory)
        summary = read_output(folder / OUTPUT_FILE)
        if summary.energy is None:
            raise Cp2kError(f"{folder / OUTPUT_FILE}: no final energy (CP2K failed?): {log_tail(folder / OUTPUT_FILE)}")
        cubes = sorted(folder.glob(CUBE_PATTERN))
        if not cubes:
            raise Cp2kError(f"CP2K wrote no density cube: {log_tail(folder / OUTPUT_FILE)}")
        grid = read_cube(cubes[-1], pbc=list(self.atoms.pbc))
        warn_if_mt_cell_is_short(grid, read_periodicity(folder / INPUT_FILE))
        grid.metadata["comment"] = [
            "CP2K valence density", f"{self.settings.xc} {self.settings.basis} {self.settings.potential}",
        ]
        valence = atom_valences(summary.valence_charges, self.atoms.get_chemical_symbols())
        if valence is not None:
            grid.metadata["valence_charges"] = valence
        forces = summary.forces if summary.forces is not None and len(summary.forces) == len(self.atoms) else None
        self.result = DFTResult(
            grid=grid,
            energy=summary.energy,
            forces=forces,
            n_valence=summary.n_valence,
            converged=summary.scf_converged,
            field=self.field,
            parameters={**self.settings.as_dict(), "code": "cp2k"},
            timings={"total": time.perf_counter() - self._start},
        )

    def as_dict(self) -> dict:
        """What custodian logs of the job (formula, field in V/Å, settings): atoms are not JSON."""
        return {
            "@module": type(self).__module__, "@class": type(self).__name__,
            "formula": self.atoms.get_chemical_formula(), "field_V_per_A": self.field.tolist(),
            "settings": self.settings.as_dict(),
        }


def atom_valences(kind_valences: dict[str, float], symbols: list[str]) -> np.ndarray | None:
    """Z_val of each atom (e) from the valence of each kind (the input names each kind by its element), or None.

    None when some element's kind has no valence listed (an output without ``&PRINT / &KINDS``).
    """
    if not set(symbols) <= set(kind_valences):
        return None
    return np.array([kind_valences[symbol] for symbol in symbols])
