"""Physical constants and file-boundary conversions, taken from ``ase.units`` and ``scipy.constants``.

echemml's own units are Å, eV, e/Å³, V/Å, e and V everywhere inside the package
(:mod:`echemml.keys` names each quantity with its unit); the constants here convert
at the boundary of a file or a DFT code that speaks atomic units, and are never typed
in as literals elsewhere.
"""

from __future__ import annotations

from ase.units import Bohr, Hartree
from scipy import constants

BOHR_IN_A = Bohr
"""1 bohr in Å (0.529177…)."""

DENSITY_AU_IN_E_PER_A3 = 1.0 / Bohr**3
"""1 e/bohr³ in e/Å³ (6.7483…): cube files hold densities in e/bohr³."""

FIELD_AU_IN_V_PER_A = Hartree / Bohr
"""1 Hartree/(e·bohr), the atomic unit of field, in V/Å (51.422…)."""

EPSILON_0 = constants.epsilon_0 / constants.elementary_charge * constants.angstrom
"""Vacuum permittivity ε0 in e/(V·Å) (0.0055263…): φ in V from charge in e/Å³ and lengths in Å."""

__all__ = ["BOHR_IN_A", "DENSITY_AU_IN_E_PER_A3", "EPSILON_0", "FIELD_AU_IN_V_PER_A"]
