"""VASP volumetric files: CHGCAR, CHG, AECCAR0/1/2, PARCHG.

VASP stores n·V_cell (electrons times the cell volume in Å³) on a grid that spans
the cell, x fastest. The reader divides by V_cell so that a DensityGrid holds
e/Å³; the writer multiplies back. Spin-polarised files hold a second block, the
magnetisation n↑ − n↓ (three blocks for non-collinear runs); augmentation
occupancies and per-atom moment lines between blocks are skipped.

LOCPOT (a potential, eV) and ELFCAR (the electron localisation function,
dimensionless) share the layout but hold no density: the reader refuses them by
name, and an ELFCAR also by content when the name says nothing: every value of
its first block lies in [0, 1], which n·V_cell of a density does not (its mean is
the electron count and its peaks lie far above the mean). A LOCPOT cannot be
told by content from a signed density, such as a field response Δn written in
the same layout, so it is refused by name only.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import ase
import numpy as np
from ase.data import atomic_numbers

from ..errors import InputFileError
from ..grid import DensityGrid
from .files import atomic_open, read_text, strip_compression_suffix
from .numbers import format_block, parse_floats, parse_header_floats, parse_ints

_SPECIES_IN_COMMENT = re.compile(r"[A-Z][a-z]?")
DENSITY_PREFIXES = ("CHGCAR", "CHG", "AECCAR", "PARCHG")  # file names VASP gives densities
NOT_DENSITIES = {  # file names VASP gives other fields in the same layout, and what they hold
    "LOCPOT": "the local potential (eV)",
    "ELFCAR": "the electron localisation function (dimensionless)",
}


def vasp_file_kind(path: str | os.PathLike) -> str | None:
    """The VASP file a name announces ("CHGCAR", "LOCPOT", ...; compression suffixes
    looked through, case ignored), or None when the name does not tell."""
    name = strip_compression_suffix(Path(path).name).upper()
    if name.endswith(".CHGCAR"):
        return "CHGCAR"
    return next((prefix for prefix in (*NOT_DENSITIES, *DENSITY_PREFIXES) if name.startswith(prefix)), None)


def refuse_named_non_density(path: str | os.PathLike) -> None:
    """Raise InputFileError when the file's name says it is a LOCPOT or an ELFCAR."""
    kind = vasp_file_kind(path)
    if kind in NOT_DENSITIES:
        raise InputFileError(
            path, f"a VASP {kind} holds {NOT_DENSITIES[kind]}, not an electron density; "
            "give a CHGCAR, CHG, AECCAR, PARCHG or cube file"
        )


def refuse_elf_values(path: str | os.PathLike, raw: np.ndarray) -> None:
    """Raise InputFileError when a first block read as n·V_cell lies wholly in [0, 1], as an ELFCAR's does."""
    if raw.min() >= 0.0 and raw.max() <= 1.0:
        raise InputFileError(
            path, f"every value lies in [0, 1], as in a VASP ELFCAR ({NOT_DENSITIES['ELFCAR']}), "
            "not n·V_cell of an electron density; name the file CHGCAR if it is one"
        )


def _species(symbols_line: str | None, counts: list[int], comment: str, path) -> list[str]:
    if symbols_line is not None:
        symbols = [s.split("/")[0].split("_")[0] for s in symbols_line.split()]
    else:  # VASP 4: species only in the comment line, if anywhere
        symbols = _SPECIES_IN_COMMENT.findall(comment)
    if len(symbols) != len(counts) or any(s not in atomic_numbers for s in symbols):
        raise InputFileError(path, f"cannot tell the species of the atoms (line 6: {symbols_line or comment!r})")
    return [s for s, n in zip(symbols, counts) for _ in range(n)]


def _read_structure(lines: list[str], path) -> tuple[ase.Atoms, int]:
    """Parse the POSCAR part; return the atoms and the index of the first line after it."""
    if len(lines) < 9:
        raise InputFileError(path, "truncated VASP header")
    comment = lines[0].strip()
    scale = parse_header_floats(lines[1], path, "scale factor (line 2)", 1)[0]
    lattice = np.array([parse_header_floats(lines[2 + i], path, f"lattice vector (line {3 + i})", 3) for i in range(3)])
    if abs(np.linalg.det(lattice)) < 1e-12:
        raise InputFileError(path, "lattice vectors are linearly dependent")
    if scale < 0:  # negative scale: the cell volume
        scale = (-scale / abs(np.linalg.det(lattice))) ** (1.0 / 3.0)
    lattice *= scale
    first = lines[5].split()
    line = 5
    symbols_line = None
    if first and not first[0].lstrip("-").isdigit():
        symbols_line = lines[5]
        line = 6
    counts = parse_ints(lines[line], path, f"atom counts (line {line + 1})", len(lines[line].split()))
    if not counts or any(n < 0 for n in counts):
        raise InputFileError(path, f"bad atom counts on line {line + 1}")
    symbols = _species(symbols_line, counts, comment, path)
    line += 1
    if lines[line].strip()[:1] in ("S", "s"):
        line += 1  # selective dynamics
    mode = lines[line].strip()[:1].lower()
    cartesian = mode in ("c", "k")
    line += 1
    natoms = len(symbols)
    if len(lines) < line + natoms:
        raise InputFileError(path, "truncated atomic positions")
    coordinates = np.array(
        [parse_header_floats(lines[line + i], path, f"position of atom {i + 1}", 3) for i in range(natoms)]
    ).reshape(natoms, 3)
    atoms = ase.Atoms(symbols=symbols, cell=lattice, pbc=True)
    if cartesian:
        atoms.positions = coordinates * scale
    else:
        atoms.set_scaled_positions(coordinates)
    return atoms, line + natoms


def _is_dims_line(line: str, dims: list[int]) -> bool:
    tokens = line.split()
    return len(tokens) == 3 and tokens == [str(n) for n in dims]


def read_chgcar(path: str | os.PathLike) -> DensityGrid:
    """Read a CHGCAR/CHG/AECCAR/PARCHG file into a DensityGrid (Å, e/Å³).

    For a spin-polarised file, ``values`` is the total density and ``spin`` the
    magnetisation density; for a non-collinear one ``spin`` has shape (3, nx, ny, nz).
    A LOCPOT or an ELFCAR raises InputFileError (see the module docstring).
    """
    refuse_named_non_density(path)
    text = read_text(path)
    lines = text.splitlines()
    atoms, line = _read_structure(lines, path)
    while line < len(lines) and not lines[line].strip():
        line += 1
    if line >= len(lines):
        raise InputFileError(path, "no grid found after the atomic positions")
    dims = parse_ints(lines[line], path, f"grid dimensions (line {line + 1})", 3)
    if min(dims) < 1:
        raise InputFileError(path, f"bad grid dimensions {dims}")
    npoints = int(np.prod(dims))
    volume = atoms.cell.volume

    blocks = []
    while True:
        first = line + 1
        if first >= len(lines):
            raise InputFileError(path, f"truncated grid values: expected {npoints} numbers, found 0")
        per_line = len(lines[first].split()) or 1
        last = first + -(-npoints // per_line)
        block = parse_floats(
            "\n".join(lines[first:last]), path, "grid values", expected=npoints
        )
        if not blocks and vasp_file_kind(path) is None:
            refuse_elf_values(path, block)
        blocks.append(block.reshape(dims, order="F") / volume)
        # the next block, if any, starts at a repeat of the dimensions line; between
        # them lie augmentation occupancies and, in spin runs, per-atom moments
        line = next((i for i in range(last, len(lines)) if _is_dims_line(lines[i], dims)), -1)
        if line < 0:
            break
    if len(blocks) not in (1, 2, 4):
        raise InputFileError(path, f"found {len(blocks)} grid blocks; expected 1, 2 or 4")
    spin = None
    if len(blocks) == 2:
        spin = blocks[1]
    elif len(blocks) == 4:
        spin = np.stack(blocks[1:])
    metadata = {"comment": [lines[0].rstrip()], "source": os.fspath(path)}
    return DensityGrid(atoms=atoms, values=blocks[0], spin=spin, metadata=metadata)


def write_chgcar(grid: DensityGrid, path: str | os.PathLike, comment: str = "") -> None:
    """Write a DensityGrid in CHGCAR layout (n·V_cell, x fastest), atomically.

    The grid must span the cell from the origin, as VASP grids do. A collinear
    spin part is written as the second block. Augmentation occupancies are not
    written (echemml densities have none).
    """
    cell = np.asarray(grid.atoms.cell)
    if abs(np.linalg.det(cell)) < 1e-12 or not np.allclose(
        grid.voxel * np.array(grid.shape)[:, None], cell, atol=1e-4
    ) or not np.allclose(grid.origin, 0.0, atol=1e-4):
        raise ValueError("a CHGCAR grid must start at the origin and span the cell exactly")
    atoms = grid.atoms
    symbols = []
    counts = []
    for symbol in atoms.get_chemical_symbols():
        if symbols and symbols[-1] == symbol:
            counts[-1] += 1
        else:
            symbols.append(symbol)
            counts.append(1)
    header = [comment or atoms.get_chemical_formula(), "   1.00000000000000"]
    header += [" %19.12f%19.12f%19.12f" % tuple(vector) for vector in cell]
    header.append("".join(f"{s:>5}" for s in symbols))
    header.append("".join(f"{n:6d}" for n in counts))
    header.append("Direct")
    header += ["%16.10f%16.10f%16.10f" % tuple(p) for p in atoms.get_scaled_positions(wrap=False)]
    header.append(" ")
    volume = atoms.cell.volume
    blocks = [grid.values]
    if grid.spin is not None:
        if grid.spin.ndim != 3:
            raise ValueError("only collinear spin parts can be written to CHGCAR")
        blocks.append(grid.spin)
    with atomic_open(path, "w") as handle:
        handle.write("\n".join(header) + "\n")
        for block in blocks:
            handle.write("   %d   %d   %d\n" % grid.shape)
            flat = np.asarray(block, dtype=np.float64).reshape(-1, order="F") * volume
            handle.write(format_block(flat, 5, "%18.11E"))
