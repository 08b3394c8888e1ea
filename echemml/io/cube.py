"""Gaussian/CP2K cube files: read and write densities on any grid.

Cube files hold lengths in bohr (Å when the point counts are negative) and
densities in e/bohr³; this module converts at the boundary so that a
DensityGrid holds Å and e/Å³. Any origin and non-orthogonal voxels are allowed.

Periodicity is not part of the format: grids written by CP2K (comment line
"-Quickstep-") and grids written by echemml with a periodic cell are read as
periodic; other cubes (Gaussian, PySCF, ASE) are read as molecular grids in vacuum.

Charges: the reader keeps the file's per-atom charge column (e) as metadata
"nuclear_charges", whatever the writer meant by it (Gaussian: the atomic number Z;
CP2K: 0; PySCF: the pseudopotential's valence). The writer fills that column with
the grid's metadata "valence_charges" (e) when it has them and then says so on the
first comment line ("charges: valence"), so that echemml reads them back as
"valence_charges"; otherwise it writes the grid's "nuclear_charges", else Z.
"""

from __future__ import annotations

import os

import ase
import numpy as np
from ase.data import chemical_symbols
from ase.units import Bohr

from ..errors import InputFileError
from ..grid import DensityGrid
from .files import atomic_open, read_text
from .numbers import format_block, parse_floats, parse_header_floats, parse_ints

BOHR3 = Bohr**3  # Å³ per bohr³
_ECHEMML_TAG = "echemml pbc="
_VALENCE_TAG = "charges: valence"  # on an echemml cube's first line: the charge column holds valence charges
_DIMENSIONLESS_UNITS = "dimensionless"  # on an echemml cube's first line: the values are not per volume


def _split_header(text: str, path) -> tuple[list[str], int]:
    """The first lines of a cube file and the character offset of the line after them."""
    lines: list[str] = []
    position = 0
    while len(lines) < 6:
        end = text.find("\n", position)
        if end < 0:
            raise InputFileError(path, "truncated cube header")
        lines.append(text[position:end])
        position = end + 1
    return lines, position


def _take_lines(text: str, position: int, count: int, path, what: str) -> tuple[list[str], int]:
    lines = []
    for _ in range(count):
        end = text.find("\n", position)
        if end < 0:
            end = len(text)
            if position >= end:
                raise InputFileError(path, f"truncated cube file: missing {what}")
        lines.append(text[position:end])
        position = end + 1
    return lines, position


def read_cube(path: str | os.PathLike, pbc: bool | tuple[bool, bool, bool] | None = None) -> DensityGrid:
    """Read a cube file into a DensityGrid (Å, e/Å³).

    ``pbc`` overrides the periodicity guessed from the file (see module docstring).
    """
    text = read_text(path)
    header, position = _split_header(text, path)
    natoms_line = header[2].split()
    natoms = parse_ints(header[2], path, "atom-count line (line 3)", 1)[0]
    origin = np.array(parse_header_floats(" ".join(natoms_line[1:]), path, "origin (line 3)", 3))
    counts = []
    voxel = np.zeros((3, 3))
    for axis in range(3):
        line = header[3 + axis]
        counts.append(parse_ints(line, path, f"grid line {4 + axis}", 1)[0])
        voxel[axis] = parse_header_floats(" ".join(line.split()[1:]), path, f"voxel vector (line {4 + axis})", 3)
    if any(n == 0 for n in counts):
        raise InputFileError(path, f"grid has zero points along an axis: {counts}")
    in_angstrom = counts[0] < 0
    shape = tuple(abs(n) for n in counts)
    length = 1.0 if in_angstrom else Bohr
    origin *= length
    voxel *= length
    if abs(np.linalg.det(voxel)) < 1e-14:
        raise InputFileError(path, "voxel vectors are linearly dependent")

    has_orbital_line = natoms < 0
    natoms = abs(natoms)
    atom_lines, position = _take_lines(text, position, natoms, path, "atom lines")
    numbers = np.zeros(natoms, dtype=int)
    charges = np.zeros(natoms)
    positions = np.zeros((natoms, 3))
    for i, line in enumerate(atom_lines):
        fields = parse_header_floats(line, path, f"atom line {i + 1}", 5)
        numbers[i] = int(round(fields[0]))
        charges[i] = fields[1]
        positions[i] = fields[2:5]
        if not 0 <= numbers[i] < len(chemical_symbols):
            raise InputFileError(path, f"atom line {i + 1}: no element with number {numbers[i]}")
    positions *= length
    if has_orbital_line:
        _, position = _take_lines(text, position, 1, path, "orbital line")

    values = parse_floats(text[position:], path, "grid values", expected=int(np.prod(shape)))
    comment = header[0].strip()
    per_volume = not (comment.startswith(_ECHEMML_TAG) and _DIMENSIONLESS_UNITS in comment)
    values = values.reshape(shape) / (BOHR3 if per_volume and not in_angstrom else 1.0)

    cell = voxel * np.array(shape)[:, None]
    if pbc is None:
        pbc = _guess_pbc(comment)
    atoms = ase.Atoms(numbers=numbers, positions=positions, cell=cell, pbc=pbc)
    metadata = {
        "comment": [header[0].rstrip(), header[1].rstrip()],
        "nuclear_charges": charges,
        "source": os.fspath(path),
    }
    if comment.startswith(_ECHEMML_TAG) and _VALENCE_TAG in comment:
        metadata["valence_charges"] = charges.copy()
    return DensityGrid(atoms=atoms, values=values, origin=origin, voxel=voxel, metadata=metadata)


def _guess_pbc(comment: str) -> bool | list[bool]:
    if comment.startswith("-Quickstep-"):
        return True
    if comment.startswith(_ECHEMML_TAG):
        flags = comment[len(_ECHEMML_TAG):].split()[:3]
        if len(flags) == 3 and all(flag in "TF" for flag in flags):
            return [flag == "T" for flag in flags]
    return False


def _charge_column(grid: DensityGrid) -> tuple[np.ndarray, bool]:
    """The per-atom charges (e) a cube file lists, and whether they are valence charges.

    The grid's "valence_charges" when known, else its "nuclear_charges", else Z.
    """
    natoms = len(grid.atoms)
    for key in ("valence_charges", "nuclear_charges"):
        charges = grid.metadata.get(key)
        if charges is not None and len(charges) == natoms:
            return np.asarray(charges, dtype=float), key == "valence_charges"
    return grid.atoms.numbers.astype(float), False


def write_cube(grid: DensityGrid, path: str | os.PathLike, comment: str = "", per_volume: bool = True) -> None:
    """Write a DensityGrid as a cube file (bohr, e/bohr³), atomically.

    The first comment line records the periodicity so that echemml reads the
    file back with the same pbc, and whether the charge column holds valence
    charges (see the module docstring); the second holds ``comment``.
    ``per_volume=False`` writes a dimensionless field (e.g. a novelty map) as it is,
    marked so that :func:`read_cube` does not convert it either.
    """
    pbc = " ".join("T" if p else "F" for p in grid.atoms.pbc)
    charges, valence = _charge_column(grid)
    lines = [
        f"{_ECHEMML_TAG}{pbc} units: bohr, " + ("e/bohr^3" if per_volume else _DIMENSIONLESS_UNITS)
        + (f"; {_VALENCE_TAG}" if valence else ""),
        (comment or "electron density").replace("\n", " "),
        "%5d %12.6f %12.6f %12.6f" % (len(grid.atoms), *(grid.origin / Bohr)),
    ]
    for n, vector in zip(grid.shape, grid.voxel / Bohr):
        lines.append("%5d %12.6f %12.6f %12.6f" % (n, *vector))
    for number, charge, position in zip(grid.atoms.numbers, charges, grid.atoms.positions / Bohr):
        lines.append("%5d %12.6f %12.6f %12.6f %12.6f" % (number, charge, *position))
    header = "\n".join(lines) + "\n"
    # one z-column per block of lines, as Gaussian writes them
    values = np.asarray(grid.values, dtype=np.float64) * (BOHR3 if per_volume else 1.0)
    nz = grid.shape[2]
    with atomic_open(path, "w") as handle:
        handle.write(header)
        if nz % 6 == 0:
            handle.write(format_block(values.reshape(-1), 6, "%14.6E"))
        else:
            for column in values.reshape(-1, nz):
                handle.write(format_block(column, 6, "%14.6E"))
