"""CP2K input: the GPW recipe as settings, and the input text for atoms (Å) in a uniform field (V/Å).

Recipe (../shared/design/DFT_RECIPES.md): PBE, DZVP-MOLOPT-SR-GTH, GTH-PBE
pseudopotentials, CUTOFF 300 / REL_CUTOFF 40, Fermi–Dirac smearing, Broyden
mixing. A field ε along axis a is a linear external potential φ = −ε_a·x_a with
the Poisson solver periodic in the other two directions (MT solver), so that the
periodic images do not depolarise the cell. The input asks CP2K to print each
atomic kind (``&SUBSYS / &PRINT / &KINDS``: its potential and valence charge,
read back by :mod:`.parser`); print keys leave the density unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import ase
import numpy as np

from ...errors import EchemmlError
from ...units import FIELD_AU_IN_V_PER_A

AXES = "XYZ"


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
        threads: OpenMP threads of the CP2K process (OMP_NUM_THREADS in its environment only).
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
            periodic = "".join(AXES[a] for a in range(3) if a != axis)
        else:
            periodic = "".join(AXES[a] for a in range(3) if atoms.pbc[a]) or "NONE"
    if axis is not None and AXES[axis] in periodic:
        raise EchemmlError(f"a field along {AXES[axis]} needs a cell that is not periodic along {AXES[axis]}")
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
            f"      FUNCTION A*{AXES[axis]}",
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
    lines += ["    &PRINT", "      &KINDS", "        POTENTIAL", "      &END KINDS", "    &END PRINT", "  &END SUBSYS"]
    if settings.forces:
        lines += ["  &PRINT", "    &FORCES ON", "    &END FORCES", "  &END PRINT"]
    lines += ["&END FORCE_EVAL", ""]
    return "\n".join(lines)


def read_periodicity(input_file: str | Path) -> str:
    """The PERIODIC directions ("XYZ", "XY", "NONE", ...) of the Poisson solver in a CP2K input file."""
    found = re.search(r"^\s*PERIODIC\s+(\w+)", Path(input_file).read_text(), flags=re.MULTILINE)
    if found is None:
        raise EchemmlError(f"{input_file}: no PERIODIC keyword")
    return found[1].upper()
