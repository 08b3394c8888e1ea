"""Reading and writing density files: VASP CHGCAR family and Gaussian/CP2K cube.

``read_density`` and ``write_density`` choose the format from the file name
(compression suffixes .gz/.bz2/.xz are looked through) and, for reading, from
the content when the name says nothing. Every reader returns a DensityGrid in
Å and e/Å³.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputFileError
from ..grid import DensityGrid
from .cube import read_cube, write_cube
from .files import read_text, strip_compression_suffix
from .vasp import read_chgcar, vasp_file_kind, write_chgcar

FORMATS = ("cube", "chgcar")


def format_from_name(path: str | os.PathLike) -> str | None:
    """'cube', 'chgcar' or None when the name does not tell."""
    name = strip_compression_suffix(Path(path).name)
    lower = name.lower()
    if lower.endswith((".cube", ".cub")):
        return "cube"
    if vasp_file_kind(name) is not None or lower.endswith(".vasp"):
        return "chgcar"  # the layout; read_chgcar refuses a LOCPOT or an ELFCAR
    return None


def format_from_content(path: str | os.PathLike, text: str) -> str:
    """Tell a cube file from a CHGCAR by its header lines."""
    lines = text.splitlines()[:6]
    if len(lines) >= 3:
        scale = lines[1].split()
        if len(scale) == 1:
            try:
                float(scale[0])
                return "chgcar"
            except ValueError:
                pass
        atoms_line = lines[2].split()
        if len(atoms_line) in (4, 5):
            try:
                int(atoms_line[0])
                [float(x) for x in atoms_line[1:4]]
                return "cube"
            except ValueError:
                pass
    raise InputFileError(path, "unknown format: neither a cube file nor a VASP CHGCAR-type file")


def detect_format(path: str | os.PathLike) -> str:
    """The format of a density file: by name first, then by content."""
    return format_from_name(path) or format_from_content(path, read_text(path, limit=4096))


def read_density(path: str | os.PathLike, format: str | None = None) -> DensityGrid:
    """Read a density file (cube, CHGCAR, CHG, AECCAR, PARCHG; optionally compressed).

    Returns a DensityGrid in Å and e/Å³. Raises InputFileError with the file's
    name and the problem for missing, truncated or garbled files, and for VASP
    files that hold no density (LOCPOT: a potential in eV; ELFCAR: the
    dimensionless electron localisation function).
    """
    format = format or detect_format(path)
    if format == "cube":
        return read_cube(path)
    if format == "chgcar":
        return read_chgcar(path)
    raise ValueError(f"unknown density format {format!r}; known: {', '.join(FORMATS)}")


def write_density(grid: DensityGrid, path: str | os.PathLike, format: str | None = None) -> None:
    """Write a DensityGrid, choosing the format from the name (cube unless it looks like VASP)."""
    format = format or format_from_name(path) or "cube"
    if format == "cube":
        write_cube(grid, path)
    elif format == "chgcar":
        write_chgcar(grid, path)
    else:
        raise ValueError(f"unknown density format {format!r}; known: {', '.join(FORMATS)}")


__all__ = [
    "FORMATS",
    "detect_format",
    "read_density",
    "write_density",
    "read_cube",
    "write_cube",
    "read_chgcar",
    "write_chgcar",
]
