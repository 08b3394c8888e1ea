"""CP2K backend: slabs and molecules, optionally in a uniform field, labelled with GPW densities.

Recipe (../shared/design/DFT_RECIPES.md): PBE, DZVP-MOLOPT-SR-GTH, GTH-PBE
pseudopotentials, CUTOFF 300 / REL_CUTOFF 40, Fermi–Dirac smearing, Broyden
mixing. A field ε along axis a is a linear external potential φ = −ε_a·x_a with
the Poisson solver periodic in the other two directions (MT solver), so that the
periodic images do not depolarise the cell; the cell must be periodic in those
two directions and have vacuum along a — enough that the cell is at least twice
as long as the density along a, which the MT solver needs to be exact
(:func:`mt_cell_ratio`; a shorter cell is warned about after the run).

:func:`write_input` gives the input text; :func:`run_cp2k` runs cp2k.psmp in a
scratch folder (through custodian's Cp2kJob with its error handlers when
custodian is installed, else a plain subprocess), checks convergence, and parses
the energy (eV), forces (eV/Å) and the density cube into a DFTResult. A failed or
unconverged run raises :class:`Cp2kError` with the log's last lines; outputs are
copied out only from a successful run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import ase
import numpy as np
from ase.units import Bohr, Hartree

from ..errors import EchemmlError
from ..grid import DensityGrid
from ..io.cube import read_cube
from .result import DFTResult

FIELD_AU_IN_V_PER_A = Hartree / Bohr  # 1 Hartree/(e·bohr) = 51.42 V/Å
_AXES = "XYZ"


class Cp2kError(EchemmlError):
    """CP2K failed or did not converge; the message ends with the log's last lines."""


@dataclass(frozen=True)
class Cp2kSettings:
    """Settings of a CP2K GPW calculation.

    Attributes:
        basis: basis set name for every element (from BASIS_MOLOPT).
        potential: pseudopotential family (GTH_POTENTIALS alias, e.g. GTH-PBE).
        xc: functional.
        cutoff, rel_cutoff: plane-wave cutoffs, Ry.
        smearing_K: Fermi–Dirac electronic temperature, K (0 for none).
        added_mos: extra orbitals for smearing.
        mixing_alpha: Broyden mixing fraction.
        broyden_history: NBROYDEN, the number of earlier steps Broyden mixing uses
            (8 helps thick metal slabs in long vacuum cells converge).
        eps_scf: SCF convergence.
        max_scf: SCF iterations before giving up.
        cube_stride: write every n-th grid point of the density cube.
        forces: compute forces.
        command: the CP2K executable.
        threads: OMP_NUM_THREADS.
    """

    basis: str = "DZVP-MOLOPT-SR-GTH"
    potential: str = "GTH-PBE"
    xc: str = "PBE"
    cutoff: float = 300.0
    rel_cutoff: float = 40.0
    smearing_K: float = 300.0
    added_mos: int = 40
    mixing_alpha: float = 0.2
    broyden_history: int = 4
    eps_scf: float = 1e-6
    max_scf: int = 200
    cube_stride: int = 1
    forces: bool = True
    command: str = "cp2k.psmp"
    threads: int = 2

    def as_dict(self) -> dict:
        """The settings as a plain dict (for provenance records)."""
        return dict(self.__dict__)


def field_axis(field: np.ndarray | None) -> int | None:
    """The one Cartesian axis a field points along (None for no field)."""
    if field is None or not np.any(np.asarray(field) != 0):
        return None
    nonzero = np.flatnonzero(np.asarray(field, dtype=float))
    if len(nonzero) != 1:
        raise EchemmlError(f"CP2K fields must point along x, y or z; got {list(field)} V/Å")
    return int(nonzero[0])


def write_input(
    atoms: ase.Atoms, field: np.ndarray | None = None, settings: Cp2kSettings | None = None,
    project: str = "echemml", periodic: str | None = None,
) -> str:
    """CP2K input text for ``atoms`` (Å) in a uniform ``field`` (V/Å, along one axis).

    ``periodic`` ("XYZ", "XY", "NONE", ...) defaults to the atoms' pbc, and to the
    two directions normal to the field when there is one.
    """
    settings = settings or Cp2kSettings()
    axis = field_axis(field)
    if periodic is None:
        if axis is not None:
            periodic = "".join(_AXES[a] for a in range(3) if a != axis)
        else:
            periodic = "".join(_AXES[a] for a in range(3) if atoms.pbc[a]) or "NONE"
    if axis is not None and _AXES[axis] in periodic:
        raise EchemmlError(f"a field along {_AXES[axis]} needs a cell that is not periodic along {_AXES[axis]}")
    cell = np.asarray(atoms.cell)
    if abs(np.linalg.det(cell)) < 1e-9:
        raise EchemmlError("CP2K needs a cell: give the atoms one (with vacuum around a molecule)")
    lines = [
        "&GLOBAL",
        f"  PROJECT {project}",
        "  RUN_TYPE ENERGY_FORCE" if settings.forces else "  RUN_TYPE ENERGY",
        "  PRINT_LEVEL LOW",
        "&END GLOBAL",
        "&FORCE_EVAL",
        "  METHOD Quickstep",
        "  &DFT",
        "    BASIS_SET_FILE_NAME BASIS_MOLOPT",
        "    POTENTIAL_FILE_NAME GTH_POTENTIALS",
        "    &MGRID",
        f"      CUTOFF {settings.cutoff:g}",
        f"      REL_CUTOFF {settings.rel_cutoff:g}",
        "    &END MGRID",
        "    &POISSON",
        f"      PERIODIC {periodic}",
        f"      POISSON_SOLVER {'PERIODIC' if periodic == 'XYZ' else 'MT'}",
        "    &END POISSON",
    ]
    if axis is not None:
        # φ = −ε·r for the electrons' potential energy −φ: CP2K's external potential
        # is an electrostatic potential, A·x_a with A = −ε_a in Hartree/bohr
        a_value = -float(np.asarray(field)[axis]) / FIELD_AU_IN_V_PER_A
        lines += [
            "    &EXTERNAL_POTENTIAL",
            f"      FUNCTION A*{_AXES[axis]}",
            "      PARAMETERS A",
            f"      VALUES {a_value:.10f}",
            "    &END EXTERNAL_POTENTIAL",
        ]
    lines += [
        "    &SCF",
        f"      EPS_SCF {settings.eps_scf:g}",
        f"      MAX_SCF {settings.max_scf}",
    ]
    if settings.smearing_K > 0:
        lines += [
            f"      ADDED_MOS {settings.added_mos}",
            "      &SMEAR ON",
            "        METHOD FERMI_DIRAC",
            f"        ELECTRONIC_TEMPERATURE [K] {settings.smearing_K:g}",
            "      &END SMEAR",
            "      &MIXING",
            "        METHOD BROYDEN_MIXING",
            f"        ALPHA {settings.mixing_alpha:g}",
            f"        NBROYDEN {settings.broyden_history}",
            "      &END MIXING",
        ]
    lines += [
        "    &END SCF",
        "    &XC",
        f"      &XC_FUNCTIONAL {settings.xc}",
        "      &END XC_FUNCTIONAL",
        "    &END XC",
        "    &PRINT",
        "      &E_DENSITY_CUBE",
        f"        STRIDE {settings.cube_stride}",
        "      &END E_DENSITY_CUBE",
        "    &END PRINT",
        "  &END DFT",
        "  &SUBSYS",
        "    &CELL",
        *(f"      {name} {vector[0]:.10f} {vector[1]:.10f} {vector[2]:.10f}" for name, vector in zip("ABC", cell)),
        f"      PERIODIC {periodic}",
        "    &END CELL",
        "    &COORD",
        *(f"      {s} {p[0]:.10f} {p[1]:.10f} {p[2]:.10f}" for s, p in zip(atoms.get_chemical_symbols(), atoms.positions)),
        "    &END COORD",
    ]
    for symbol in sorted(set(atoms.get_chemical_symbols())):
        lines += [
            f"    &KIND {symbol}",
            f"      BASIS_SET {settings.basis}",
            f"      POTENTIAL {settings.potential}",
            "    &END KIND",
        ]
    lines += ["  &END SUBSYS"]
    if settings.forces:
        lines += ["  &PRINT", "    &FORCES ON", "    &END FORCES", "  &END PRINT"]
    lines += ["&END FORCE_EVAL", ""]
    return "\n".join(lines)


_ENERGY = re.compile(r"ENERGY\| Total FORCE_EVAL \( QS \) energy \[a\.u\.\]:\s+(\S+)")
_ELECTRONS = re.compile(r"Number of electrons:\s+(\d+)")
_NOT_CONVERGED = re.compile(r"SCF run NOT converged|\*\*\* SCF run NOT converged")


# an SCF step line: step, method, ..., convergence, total energy (a.u.), change
_SCF_STEP = re.compile(r"^\s*(\d+)\s.*\s(\d\.\d+(?:E[-+]\d+)?)\s+(-?\d+\.\d+)\s+(-?\d\.\d+E[-+]\d+)\s*$")


def _tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return "(no output written)"
    return " | ".join(line.strip() for line in path.read_text(errors="replace").splitlines()[-lines:] if line.strip())


def _scf_summary(text: str) -> str:
    """Where an unconverged SCF stood: its step count and the convergence of its last steps."""
    steps = [match.groups() for match in map(_SCF_STEP.match, text.splitlines()) if match]
    if not steps:
        return "no SCF step was printed"
    last = ", ".join(convergence for _, convergence, _, _ in steps[-5:])
    return f"{steps[-1][0]} SCF steps, convergence of the last ones {last}"


def parse_output(output: Path, natoms: int) -> tuple[float, np.ndarray | None, float]:
    """Energy (eV), forces (eV/Å, or None) and valence electron count from a CP2K output file."""
    text = output.read_text(errors="replace")
    if _NOT_CONVERGED.search(text):
        raise Cp2kError(f"{output}: SCF did not converge ({_scf_summary(text)}); "
                        "raise max_scf, lower mixing_alpha or set broyden_history 8 "
                        "(echemml dft cp2k --max-scf, --mixing-alpha, --broyden-history)")
    energies = _ENERGY.findall(text)
    if not energies:
        raise Cp2kError(f"{output}: no final energy (CP2K failed?): {_tail(output)}")
    forces = None
    block = text.rfind("ATOMIC FORCES in [a.u.]")
    if block >= 0:
        rows = []
        for line in text[block:].splitlines()[3:]:
            fields = line.split()
            if len(fields) == 6 and fields[0].isdigit():
                rows.append([float(x) for x in fields[3:6]])
            elif rows:
                break
        if len(rows) == natoms:
            forces = np.array(rows) * Hartree / Bohr
    electrons = _ELECTRONS.findall(text)
    return float(energies[-1]) * Hartree, forces, float(electrons[0]) if electrons else float("nan")


def _run(folder: Path, settings: Cp2kSettings) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(settings.threads)}
    try:
        from custodian import Custodian
        from custodian.cp2k.handlers import AbortHandler, StdErrHandler
        from custodian.cp2k.jobs import Cp2kJob
    except ImportError:
        Custodian = None  # noqa: N806
    if Custodian is not None:
        # absolute paths: not every custodian CP2K handler honours ``directory``
        inp, out, err = (str(folder / name) for name in ("cp2k.inp", "cp2k.out", "std_err.txt"))
        job = Cp2kJob([settings.command], input_file=inp, output_file=out, stderr_file=err, backup=False)
        handlers = [AbortHandler(input_file=inp, output_file=out), StdErrHandler(std_err=err)]
        old_threads = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = env["OMP_NUM_THREADS"]  # Cp2kJob passes the environment on
        try:
            Custodian(handlers, [job], max_errors=3, polling_time_step=2, directory=str(folder)).run()
        except Exception as exc:  # custodian raises its own error types
            raise Cp2kError(f"CP2K failed in {folder} ({type(exc).__name__}: {exc}): {_tail(folder / 'cp2k.out')}") from None
        finally:
            if old_threads is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = old_threads
        return
    completed = subprocess.run(
        [settings.command, "-i", "cp2k.inp", "-o", "cp2k.out"], cwd=folder, env=env, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise Cp2kError(f"CP2K exited with code {completed.returncode}: {_tail(folder / 'cp2k.out')}")


MT_VACUUM_LINE_DENSITY = 1e-3  # planes whose line density is below this fraction of the peak count as vacuum


def mt_cell_ratio(grid: DensityGrid, axis: int) -> float:
    """Cell length along a non-periodic grid ``axis`` over the extent of the density along it.

    CP2K's Martyna–Tuckerman solver is exact only when the cell is at least twice
    as long as the charge density (CP2K manual, &POISSON &MT): a ratio below 2
    means the electrostatics, and so a field response, carry an artefact. The
    extent spans the planes whose line density exceeds
    ``MT_VACUUM_LINE_DENSITY`` of its peak.
    """
    positions, line_density = grid.planar_average(axis)
    spacing = positions[1] - positions[0]
    dense = np.flatnonzero(line_density > MT_VACUUM_LINE_DENSITY * line_density.max())
    extent = (dense[-1] - dense[0] + 1) * spacing
    return len(positions) * spacing / extent


def warn_if_mt_cell_is_short(grid: DensityGrid, periodic: str) -> None:
    """Warn (once per axis) when a non-periodic axis is shorter than twice the density's extent."""
    for axis in range(3):
        if _AXES[axis] in periodic.upper():
            continue
        ratio = mt_cell_ratio(grid, axis)
        if ratio < 2.0:
            warnings.warn(
                f"CP2K MT Poisson solver: the cell along {_AXES[axis].lower()} is {ratio:.2f}× the extent of the "
                "density, less than the 2× the solver needs to be exact; add vacuum along that axis",
                stacklevel=3,
            )


def run_cp2k(
    atoms: ase.Atoms,
    field: np.ndarray | None = None,
    settings: Cp2kSettings | None = None,
    keep: str | os.PathLike | None = None,
) -> DFTResult:
    """Run CP2K on ``atoms`` (Å) in ``field`` (V/Å) and return its density, energy and forces.

    ``keep``: a folder to copy the input, output and cube into after success.
    """
    settings = settings or Cp2kSettings()
    if shutil.which(settings.command) is None:
        raise Cp2kError(f"{settings.command} not found: install CP2K (Debian: apt-get install cp2k)")
    field_v = np.zeros(3) if field is None else np.asarray(field, dtype=float).reshape(3)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="echemml-cp2k-") as scratch:
        folder = Path(scratch)
        (folder / "cp2k.inp").write_text(write_input(atoms, field_v, settings, project="echemml"))
        _run(folder, settings)
        energy, forces, valence = parse_output(folder / "cp2k.out", len(atoms))
        cubes = sorted(folder.glob("echemml-ELECTRON_DENSITY-1_*.cube"))
        if not cubes:
            raise Cp2kError(f"CP2K wrote no density cube: {_tail(folder / 'cp2k.out')}")
        grid = read_cube(cubes[-1], pbc=list(atoms.pbc))
        periodic = re.search(r"PERIODIC (\w+)", (folder / "cp2k.inp").read_text())[1]
        if periodic != "XYZ":
            warn_if_mt_cell_is_short(grid, periodic)
        if keep is not None:
            keep = Path(keep)
            keep.mkdir(parents=True, exist_ok=True)
            for name in ("cp2k.inp", "cp2k.out"):
                shutil.copy(folder / name, keep / name)
            shutil.copy(cubes[-1], keep / "density.cube")
    grid.metadata["comment"] = ["CP2K valence density", f"{settings.xc} {settings.basis} {settings.potential}"]
    return DFTResult(
        grid=grid,
        energy=energy,
        forces=forces,
        n_valence=valence,
        converged=True,
        field=field_v,
        parameters={**settings.as_dict(), "code": "cp2k"},
        timings={"total": time.perf_counter() - start},
    )
