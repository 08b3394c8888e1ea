"""Reading a VASP run: energy (eV), forces (eV/Å) and convergence from vasprun.xml, the density from CHGCAR.

pymatgen's ``Vasprun`` serves the energy, forces and electronic convergence. The
CHGCAR is read by echemml's own reader (:func:`echemml.io.read_density`), which
divides pymatgen's and VASP's ρ·V by the cell volume once, returning e/Å³.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import EchemmlError
from ...grid import DensityGrid
from ...io import read_density


@dataclass(frozen=True)
class VaspOutputSummary:
    """What vasprun.xml says about a static run.

    Attributes:
        energy: final total energy, eV.
        forces: (natoms, 3) forces of the last ionic step, eV/Å.
        scf_converged: the electronic loop of the last ionic step converged.
    """

    energy: float
    forces: np.ndarray
    scf_converged: bool


def read_vasprun(folder: str | os.PathLike) -> VaspOutputSummary:
    """Energy, forces and convergence from ``folder``/vasprun.xml (pymatgen's Vasprun)."""
    from pymatgen.io.vasp import Vasprun

    path = Path(folder) / "vasprun.xml"
    if not path.is_file():
        raise EchemmlError(f"{path}: VASP wrote no vasprun.xml")
    run = Vasprun(str(path), parse_dos=False, parse_eigen=False, parse_potcar_file=False)
    return VaspOutputSummary(
        energy=float(run.final_energy),
        forces=np.asarray(run.ionic_steps[-1]["forces"], dtype=float),
        scf_converged=bool(run.converged_electronic),
    )


def read_vasp_density(folder: str | os.PathLike) -> DensityGrid:
    """The valence density of ``folder``/CHGCAR (Å, e/Å³)."""
    return read_density(Path(folder) / "CHGCAR")
