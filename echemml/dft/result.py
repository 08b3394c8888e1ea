"""DFTResult: what every DFT backend returns for one configuration."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..grid import DensityGrid


@dataclass
class DFTResult:
    """One labelled configuration.

    Attributes:
        grid: valence electron density on a grid (Å, e/Å³), atoms included.
        energy: total energy in eV (including the field's interaction energy).
        forces: (natoms, 3) in eV/Å, or None when not computed.
        n_valence: number of valence electrons the calculation held, e.
        converged: whether the SCF converged.
        field: applied uniform field in V/Å, shape (3,).
        parameters: the settings that produced it (basis, functional, spacing, ...).
        timings: wall seconds per stage ("scf", "forces", "grid").
    """

    grid: DensityGrid
    energy: float
    forces: np.ndarray | None
    n_valence: float
    converged: bool
    field: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(3))
    parameters: dict = dataclasses.field(default_factory=dict)
    timings: dict = dataclasses.field(default_factory=dict)

    def summary(self) -> dict:
        """JSON-ready facts about the run (eV, eV/Å, V/Å, e, s)."""
        return {
            "formula": self.grid.atoms.get_chemical_formula(),
            "energy_eV": self.energy,
            "forces_eV_per_A": None if self.forces is None else np.asarray(self.forces).tolist(),
            "n_valence": self.n_valence,
            "electrons_on_grid": self.grid.integral(),
            "converged": self.converged,
            "field_V_per_A": np.asarray(self.field, dtype=float).tolist(),
            "grid_shape": list(self.grid.shape),
            "parameters": self.parameters,
            "timings_s": self.timings,
        }
