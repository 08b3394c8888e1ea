"""The energy of a net charge in a uniform field, which an energy model leaves out and adds back explicitly.

A system of net charge Q (e) in a uniform field ε (V/Å) has the energy −Q ε·R of its
charge at some centre R, which depends on the origin; no local model can learn it from
invariant features. echemml puts the charge at the centroid of the atoms, R_c = ΣR_a/N,
with the field's origin at 0 as in :mod:`echemml.dft.pyscf`: an energy model learns
E − E_Q (translation-invariant), training subtracts these terms from the DFT labels
and :class:`echemml.calculators.EChemCalculator` adds them to the prediction, so the
total force on an ion is exactly Q ε.
"""

from __future__ import annotations

import numpy as np


def net_charge_field_terms(positions: np.ndarray, charge: float, field: np.ndarray) -> tuple[float, np.ndarray]:
    """(E_Q in eV, forces (N, 3) in eV/Å) of charge Q (e) at the centroid of ``positions`` (Å) in ``field`` (V/Å).

    E_Q = −Q ε·R_c and F_a = −∂E_Q/∂R_a = Q ε / N.
    """
    positions = np.asarray(positions, dtype=float).reshape(-1, 3)
    field = np.asarray(field, dtype=float).reshape(3)
    energy = -float(charge) * float(field @ positions.mean(axis=0))
    forces = np.broadcast_to(float(charge) * field / len(positions), positions.shape).copy()
    return energy, forces


def net_charge_dipole(positions: np.ndarray, charge: float) -> np.ndarray:
    """−∂E_Q/∂ε = Q R_c (e·Å, origin 0): the dipole of charge Q (e) at the centroid of ``positions`` (Å)."""
    return float(charge) * np.asarray(positions, dtype=float).reshape(-1, 3).mean(axis=0)


__all__ = ["net_charge_dipole", "net_charge_field_terms"]
