"""custodian Validators of a finished CP2K run: a converged SCF, and a cell long enough for the MT solver.

custodian calls ``check(directory)`` after the run and before the job's
postprocess; True means the run failed validation. ``explain(directory)`` says
why, for the error message.
"""

from __future__ import annotations

from pathlib import Path

from custodian.custodian import Validator

from ...io.cube import read_cube
from .inputs import read_periodicity
from .mt_cell import mt_cell_message, short_mt_axes
from .parser import log_tail, read_output, scf_summary

CUBE_PATTERN = "*-ELECTRON_DENSITY-1_*.cube"  # what &E_DENSITY_CUBE writes


class ScfConvergedValidator(Validator):
    """Fails a run whose output does not end normally with every SCF converged."""

    def __init__(self, output_file: str = "cp2k.out") -> None:
        self.output_file = output_file

    def check(self, directory: str = "./") -> bool:
        """True when CP2K did not finish or an SCF did not converge."""
        path = Path(directory) / self.output_file
        if not path.is_file():
            return True
        summary = read_output(path)
        return not (summary.completed and summary.scf_converged)

    def explain(self, directory: str = "./") -> str:
        """Why the run failed: where its SCF stood, or the end of its log."""
        path = Path(directory) / self.output_file
        if not path.is_file():
            return f"{path}: CP2K wrote no output"
        summary = read_output(path)
        if summary.completed and not summary.scf_converged:
            return (f"{path}: SCF did not converge ({scf_summary(summary)}); "
                    "raise max_scf, lower mixing_alpha or set broyden_history 8 "
                    "(echemml dft cp2k --max-scf, --mixing-alpha, --broyden-history)")
        return f"{path}: CP2K did not finish: {log_tail(path)}"


class MtCellValidator(Validator):
    """Fails a run whose cell is shorter than twice its density along an axis the MT Poisson solver treats.

    Reads the Poisson PERIODIC directions from the input file and the density
    from the cube (``cube_file``, or the latest ``*-ELECTRON_DENSITY-1_*.cube``).
    A fully periodic run passes.
    """

    def __init__(self, input_file: str = "cp2k.inp", cube_file: str | None = None) -> None:
        self.input_file = input_file
        self.cube_file = cube_file

    def short_axes(self, directory: str = "./") -> dict[int, float]:
        """Axis → cell length over density extent, for every axis under 2."""
        folder = Path(directory)
        periodic = read_periodicity(folder / self.input_file)
        if periodic == "XYZ":
            return {}
        cubes = [folder / self.cube_file] if self.cube_file else sorted(folder.glob(CUBE_PATTERN))
        if not cubes or not cubes[-1].is_file():
            return {}  # nothing to judge: the job's postprocess reports the missing cube
        return short_mt_axes(read_cube(cubes[-1]), periodic)

    def check(self, directory: str = "./") -> bool:
        """True when some non-periodic axis is shorter than twice the density."""
        return bool(self.short_axes(directory))

    def explain(self, directory: str = "./") -> str:
        """Which axes are short, by how much, and the fix."""
        return "; ".join(mt_cell_message(axis, ratio) for axis, ratio in self.short_axes(directory).items())
