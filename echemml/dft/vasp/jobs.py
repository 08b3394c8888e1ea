"""custodian Job for one VASP density calculation on inputs already written: run vasp, read the CHGCAR back.

The job starts VASP with its own environment (OMP_NUM_THREADS from ``threads``)
and never changes ``os.environ`` of the calling process.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from custodian.custodian import Job

from ...errors import EchemmlError
from ...grid import DensityGrid
from .parser import read_vasp_density

INPUT_FILES = ("INCAR", "POSCAR", "KPOINTS", "POTCAR")
OUTPUT_FILE = "vasp.out"
STDERR_FILE = "std_err.txt"


class VaspDensityJob(Job):
    """VASP in a folder holding INCAR, POSCAR, KPOINTS and POTCAR; after the run ``density`` holds the CHGCAR (e/Å³).

    ``command``: the VASP command line ("vasp_std", "mpirun -n 4 vasp_std");
    ``threads``: OMP_NUM_THREADS of the VASP process.
    """

    def __init__(self, command: str = "vasp_std", threads: int = 1) -> None:
        self.command = command
        self.threads = threads
        self.density: DensityGrid | None = None

    def environment(self) -> dict[str, str]:
        """The environment VASP runs in: this process's, with OMP_NUM_THREADS = ``threads``."""
        return {**os.environ, "OMP_NUM_THREADS": str(self.threads)}

    def setup(self, directory: str = "./") -> None:
        """Check that the inputs are there (:func:`~.inputs.write_vasp_inputs` writes them)."""
        missing = [name for name in INPUT_FILES if not (Path(directory) / name).is_file()]
        if missing:
            raise EchemmlError(f"{directory}: VASP inputs missing: {', '.join(missing)} (write_vasp_inputs writes them)")

    def run(self, directory: str = "./") -> subprocess.Popen:
        """Start VASP in ``directory``, stdout to vasp.out; returns the process for custodian to watch."""
        folder = Path(directory)
        with open(folder / OUTPUT_FILE, "w") as stdout, open(folder / STDERR_FILE, "w", buffering=1) as stderr:
            return subprocess.Popen(self.command.split(), cwd=folder, stdout=stdout, stderr=stderr,
                                    env=self.environment())

    def postprocess(self, directory: str = "./") -> None:
        """Read the CHGCAR into ``density``."""
        self.density = read_vasp_density(directory)
