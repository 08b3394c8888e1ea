"""LOCPOT and ELFCAR share the CHGCAR layout but hold no density: the reader refuses them.

The files are written by pymatgen's own Locpot and Elfcar writers on the CP2K
water cell (5.5 Å cube, 3 atoms) with a coarse 16³ grid.
"""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.vasp import Poscar
from pymatgen.io.vasp.outputs import Elfcar, Locpot

from echemml import read_density
from echemml.errors import InputFileError

SHAPE = (16, 16, 16)


def distances_to_atoms(atoms) -> np.ndarray:
    """Distance (Å) of each grid point to each atom, nearest periodic image; shape (*SHAPE, natoms)."""
    frac = np.stack(np.meshgrid(*[np.arange(n) / n for n in SHAPE], indexing="ij"), axis=-1)
    delta = frac[..., None, :] - atoms.get_scaled_positions()
    delta -= np.round(delta)
    return np.linalg.norm(delta @ np.asarray(atoms.cell), axis=-1)


def write_locpot(atoms, path) -> None:
    """A screened Coulomb potential energy of an electron near the nuclei, eV (negative wells)."""
    r = distances_to_atoms(atoms)
    potential = -14.4 * np.sum(atoms.numbers / np.sqrt(r**2 + 0.3**2), axis=-1)
    Locpot(Poscar(AseAtomsAdaptor.get_structure(atoms)), {"total": potential}).write_file(str(path))


def write_elfcar(atoms, path) -> None:
    """An electron localisation function: dimensionless, between 0 and 1."""
    r = distances_to_atoms(atoms)
    elf = np.clip(np.sum(np.exp(-(r**2)), axis=-1), 0.0, 1.0)
    Elfcar(Poscar(AseAtomsAdaptor.get_structure(atoms)), {"total": elf}).write_file(str(path))


@pytest.mark.parametrize("name", ["LOCPOT", "LOCPOT.gz"])
def test_locpot_is_refused_as_a_potential(tmp_path, cp2k_water, name):
    path = tmp_path / name
    write_locpot(cp2k_water.atoms, path)
    with pytest.raises(InputFileError, match=r"LOCPOT holds the local potential \(eV\), not an electron density"):
        read_density(path)


def test_elfcar_is_refused_as_the_localisation_function(tmp_path, cp2k_water):
    path = tmp_path / "ELFCAR"
    write_elfcar(cp2k_water.atoms, path)
    with pytest.raises(InputFileError, match=r"ELFCAR holds the electron localisation function"):
        read_density(path)


def test_elfcar_under_a_silent_name_is_refused_by_its_values(tmp_path, cp2k_water):
    path = tmp_path / "grid.dat"
    write_elfcar(cp2k_water.atoms, path)
    with pytest.raises(InputFileError, match=r"every value lies in \[0, 1\], as in a VASP ELFCAR"):
        read_density(path)
