"""The names of every quantity echemml's models and files exchange, with unit and shape — stated once.

A model's ``forward`` takes a batch dict keyed by the inputs below and returns a
dict keyed by the outputs below (the NequIP / MACE shape); files, calculators and
reports use the same names. Shapes: N atoms, B structures in a batch, E directed
atom–atom pairs, P ghost (grid) points, Q point–atom pairs. A committee's output adds
``std_key(name)`` for each output: its members' standard deviation, in the same unit.

:data:`QUANTITIES` is the one table of units; :func:`units` gives any subset of it
for a file's ``units`` record.
"""

from __future__ import annotations

from typing import NamedTuple


class Quantity(NamedTuple):
    """What a key holds: its unit ('' when dimensionless or an index), shape and meaning."""

    unit: str
    shape: str
    meaning: str


# inputs: the atoms of a batch of structures
SPECIES = "species"
ATOMIC_NUMBERS = "numbers"
POSITIONS = "positions"
CELL = "cell"
PBC = "pbc"
STRUCTURE = "structure"
FIELD = "field"
CHARGE = "charge"
EDGE_CENTERS = "edge_centers"
EDGE_NEIGHBORS = "edge_neighbors"
EDGE_SHIFTS = "edge_shifts"
# inputs: ghost (grid) points that read the atoms
POINTS = "points"
POINT_STRUCTURE = "point_structure"
POINT_EDGE_POINTS = "point_edge_points"
POINT_EDGE_ATOMS = "point_edge_atoms"
POINT_EDGE_SHIFTS = "point_edge_shifts"
# outputs
ENERGY = "energy"
FORCES = "forces"
STRESS = "stress"
DIPOLE = "dipole"
DENSITY = "density"
RESPONSE = "response"
ELECTRONS = "electrons"
CHARGES = "charges"
# a slab's electrode numbers (from a response model)
CHARGE_TRANSFER = "charge_transfer"
FACE_CHARGES = "face_charges"
ESP_DROP = "esp_drop"
ESP_SLOPE = "esp_slope"
SURFACE_CHARGE = "surface_charge"
# sampled targets and grids in files
TARGETS = "targets"
LENGTH = "length"

QUANTITIES: dict[str, Quantity] = {
    SPECIES: Quantity("", "(N,)", "index of each atom's element in the model's species list"),
    ATOMIC_NUMBERS: Quantity("", "(N,)", "atomic number of each atom"),
    POSITIONS: Quantity("Å", "(N, 3)", "Cartesian positions of the atoms"),
    CELL: Quantity("Å", "(B, 3, 3)", "cell of each structure, rows are the cell vectors"),
    PBC: Quantity("", "(B, 3)", "periodic along each cell vector"),
    STRUCTURE: Quantity("", "(N,)", "structure index of each atom"),
    FIELD: Quantity("V/Å", "(B, 3)", "uniform external electric field of each structure"),
    CHARGE: Quantity("e", "(B,)", "net charge of each structure"),
    EDGE_CENTERS: Quantity("", "(E,)", "centre atom of each directed atom–atom pair within the cutoff"),
    EDGE_NEIGHBORS: Quantity("", "(E,)", "neighbour atom of each pair"),
    EDGE_SHIFTS: Quantity("", "(E, 3)", "integer cell shift of the neighbour's image (stored as floats)"),
    POINTS: Quantity("Å", "(P, 3)", "Cartesian positions of ghost (grid) points"),
    POINT_STRUCTURE: Quantity("", "(P,)", "structure index of each ghost point"),
    POINT_EDGE_POINTS: Quantity("", "(Q,)", "ghost point of each point–atom pair within the cutoff"),
    POINT_EDGE_ATOMS: Quantity("", "(Q,)", "atom of each point–atom pair"),
    POINT_EDGE_SHIFTS: Quantity("", "(Q, 3)", "integer cell shift of the atom's image (stored as floats)"),
    ENERGY: Quantity("eV", "(B,)", "potential energy of each structure"),
    FORCES: Quantity("eV/Å", "(N, 3)", "force on each atom, −∂E/∂R"),
    STRESS: Quantity("eV/Å³", "(B, 3, 3)", "stress, (1/V) ∂E/∂strain (ASE's sign)"),
    DIPOLE: Quantity("e·Å", "(B, 3)", "dipole moment"),
    DENSITY: Quantity("e/Å³", "(P,)", "valence electron density n(r), electrons positive"),
    RESPONSE: Quantity("e/Å³", "(P,)", "density response Δn(r; ε) = n_ε(r) − n_0(r)"),
    ELECTRONS: Quantity("e", "(B,)", "electrons of a structure's density (its integral over the grid)"),
    CHARGES: Quantity("e", "(N,)", "Bader net charge of each atom, Z_val − electrons in its basins"),
    TARGETS: Quantity("e/Å³", "(P,)", "sampled density or response values a model trains on"),
    CHARGE_TRANSFER: Quantity("e", "(B,)", "charge a field moves across a slab's middle plane (≥ 0)"),
    FACE_CHARGES: Quantity("e", "(B, 2)", "induced charge on a slab's lower and upper face along its axis"),
    ESP_DROP: Quantity("V", "(B,)", "drop of the response ESP across the cell along the slab axis"),
    ESP_SLOPE: Quantity("V/Å", "(B,)", "slope of the response ESP inside the metal"),
    SURFACE_CHARGE: Quantity("e/Å²", "(B,)", "charge transfer per area of a slab's face"),
    LENGTH: Quantity("Å", "", "any length: cutoffs, grid spacings, voxel vectors"),
}

STD_SUFFIX = "_std"


def std_key(key: str) -> str:
    """The key of a committee's standard deviation of ``key`` (same unit)."""
    return key + STD_SUFFIX


def series_units() -> dict[str, str]:
    """``{name: unit}`` of every series an MD record (``echemml md --record``) may hold, committee spreads included."""
    table = {"step": "", "time": "fs", "free_energy": "eV"}
    for key, quantity in QUANTITIES.items():
        table[key] = table[std_key(key)] = quantity.unit
    return table


def units(*keys: str) -> dict[str, str]:
    """``{key: unit}`` for ``keys`` (a file's ``units`` record); an unknown key is an error."""
    return {key: QUANTITIES[key].unit for key in keys}


__all__ = [name for name in dir() if name.isupper()] + ["Quantity", "series_units", "std_key", "units"]
