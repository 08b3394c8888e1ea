"""Bader charges of a density grid, with baderkit (default) or pybader as the engine.

Units: Å, Å³, e/Å³ (densities), e (electrons and charges).

:func:`bader_charges` is the one entry point. It hands the grid to the backend in
the grid's own frame: the backend's periodic lattice is ``shape × voxel`` (the
cell for a periodic grid, the box for a molecular one) and the atoms are shifted
by ``−origin`` and wrapped into it. Every quirk of the two engines stays here:

- baderkit 0.10.2 wants ``data = n·V_cell`` (pymatgen's VolumetricData
  convention); its ``Structure`` reduces the coordinates it is given modulo 1
  *in place* and treats them as fractional even with ``coords_are_cartesian``, so
  it gets a fresh array of fractional coordinates; importing it installs a
  RichHandler on the root logger (undone here) and its numba kernels print
  progress (silenced). Its vacuum holds the points strictly below its
  ``vacuum_tol``; pybader's those at or below: baderkit gets the next float above
  echemml's threshold, so that both take "at or below". baderkit and its
  pymatgen are imported together, so that a missing pymatgen gives the same
  one-line "install echemml[bader]" error as a missing baderkit.
- pybader 0.3.12's docstring says ``n·V``, but its readers hand it e/Å³ (the
  CHGCAR reader divides ``n·V`` by the cell volume, the cube reader converts
  e/bohr³ to e/Å³) and it sums ``n × voxel volume``: it takes e/Å³ unchanged.
  It imports ``pkg_resources``, prints progress, writes a pickle or ``.dat``
  files into its ``prefix`` (the working directory by default) and reads
  defaults from ``~/.config/bader/config.ini``: every setting is passed
  explicitly, output is switched off and the prefix points into a temporary
  directory that is removed afterwards, so nothing is written and nothing
  chdirs.

Both engines run the same near-grid algorithm (Tang, Sanville & Henkelman, J.
Phys.: Condens. Matter 21, 084204 (2009)). They differ in what counts as a
density maximum: baderkit merges maxima whose topological persistence
``(n_max − n_saddle)/n_saddle`` is below 0.05 into their neighbour's basin,
pybader keeps every maximum the grid resolves. The GTH valence density of an
H bonded to O has only a shallow maximum about 0.07 Å from the proton
(persistence at most 0.044 in PySCF water), so baderkit gives such an H 0.00 e
— the behaviour of the paper's Fig. 9 — while pybader gives it 0.25–0.42 e
whenever the grid resolves that maximum. baderkit is therefore the default.
The margin is thin: in methanol the hydroxyl H's maximum has persistence about
0.051, and on a 0.1 Å grid both engines give that H about 0.34–0.39 e.

Vacuum. A model's density is exactly zero beyond its cutoff from every atom (68 %
of the points of a 0.1 Å methanol grid from the qm9-density model). Such a
plateau is a maximum at every point for the near-grid method: baderkit ran for
over 25 minutes on that 1.03 M-point grid. Points at or below ``vacuum_tol``
(default 1e-4 e/Å³) therefore belong to the vacuum, to no atom; the electrons
there are reported as ``vacuum_electrons``. A threshold is always set (0 keeps
only the points with n ≤ 0 out), so no plateau of zeros reaches an engine.

Valence. Net charges need each atom's valence charge Z_val, which a
pseudopotential density does not tell: it comes from ``valence=``, else from the
grid's metadata "valence_charges" (``echemml predict`` sets them from the
model's metadata; echemml's cube files carry them), else from the charge column
of a cube file ("nuclear_charges") when it is plausible: non-zero, and not just
the atomic numbers Z of a density that holds well under ΣZ electrons. Otherwise
:func:`valence_counts` refuses rather than guess.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import EchemmlError, InputFileError
from ..grid import DensityGrid

BACKENDS = ("baderkit", "pybader")
DEFAULT_BACKEND = "baderkit"
DEFAULT_VACUUM_TOL = 1e-4  # e/Å³: points at or below it are vacuum (see module docstring)
# a density that holds this many electrons fewer than ΣZ lacks core shells (each holds ≥ 2 e)
MISSING_CORE_ELECTRONS = 1.5

# baderkit's topological persistence below which a maximum joins its neighbour
# (its own default; the H of an O–H group sits just below it, see module docstring)
BADERKIT_PERSISTENCE_TOL = 0.05


@dataclass
class BaderResult:
    """Per-atom Bader partition of a density.

    Attributes:
        symbols: chemical symbol of each atom.
        valence: Z_val of each atom (pseudopotential valence), e.
        electrons: N_basin, electrons in each atom's Bader basins, e.
        charges: net charge Z_val − N_basin of each atom, e.
        volumes: volume of each atom's basins, vacuum excluded, Å³.
        maxima: number of density maxima (Bader basins) assigned to each atom;
            0 for an atom that owns no maximum, whose electrons are then 0.
        backend: "baderkit" or "pybader".
        total_electrons: electrons on the grid, basins plus vacuum, e (the
            grid's integral).
        vacuum_electrons: electrons in the points at or below ``vacuum_tol``,
            owned by no atom, e; the atoms' charges sum to
            ``total_charge + vacuum_electrons``.
        vacuum_tol: density at or below which a point is vacuum, e/Å³.
    """

    symbols: list[str]
    valence: np.ndarray
    electrons: np.ndarray
    charges: np.ndarray
    volumes: np.ndarray
    maxima: np.ndarray
    backend: str
    total_electrons: float
    vacuum_electrons: float
    vacuum_tol: float

    @property
    def total_charge(self) -> float:
        """Σ Z_val − total electrons, e (zero for a neutral system without vacuum loss)."""
        return float(self.valence.sum() - self.total_electrons)

    def as_dict(self) -> dict:
        """JSON-ready values (e, Å³): backend, one entry per atom, totals."""
        atoms = [
            {
                "index": index,
                "symbol": symbol,
                "electrons": float(self.electrons[index]),
                "charge": float(self.charges[index]),
                "volume": float(self.volumes[index]),
                "valence": float(self.valence[index]),
                "maxima": int(self.maxima[index]),
            }
            for index, symbol in enumerate(self.symbols)
        ]
        return {
            "backend": self.backend,
            "atoms": atoms,
            "total_electrons": self.total_electrons,
            "vacuum_electrons": self.vacuum_electrons,
            "vacuum_tol": self.vacuum_tol,
            "total_charge": self.total_charge,
        }


@dataclass
class _Partition:
    """What a backend returns: per-atom electrons (e), volumes (Å³), maxima, vacuum (e)."""

    electrons: np.ndarray
    volumes: np.ndarray
    maxima: np.ndarray
    vacuum_electrons: float


def bader_charges(
    grid: DensityGrid,
    backend: str = DEFAULT_BACKEND,
    valence: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
    vacuum_tol: float = DEFAULT_VACUUM_TOL,
    progress: Callable[[str], None] | None = None,
) -> BaderResult:
    """Bader charges of the atoms of a density grid (periodic or molecular).

    Args:
        grid: electron density in e/Å³ with its atoms (Å).
        backend: "baderkit" (default; an H bonded to O keeps no basin, as in the
            paper's Fig. 9) or "pybader".
        valence: Z_val per element (``{"O": 6, "H": 1}``) or per atom, e; None:
            from the grid (see :func:`valence_counts`).
        vacuum_tol: density (e/Å³, ≥ 0) at or below which a point belongs to the
            vacuum and to no atom (default 1e-4).
        progress: called with a one-line message before and after the partition.

    Returns:
        BaderResult with electrons, charges Z_val − N_basin and volumes per atom.

    Raises:
        EchemmlError: unknown backend, backend not installed, negative
            threshold, no point above it, or no valence count for an element.
    """
    if backend not in BACKENDS:
        raise EchemmlError(f"unknown Bader backend {backend!r}; choose from {', '.join(BACKENDS)}")
    z_val = valence_counts(grid, valence)
    values = np.asarray(grid.values, dtype=np.float64)
    inside = _count_above_vacuum(values, vacuum_tol)
    engine = _IMPORTS[backend]()
    lattice, frac = _grid_frame(grid)
    report = progress or (lambda message: None)
    report(f"partitioning {inside} of {values.size} points with {backend} "
           f"(n > {vacuum_tol:g} e/Å³; the rest is vacuum)")
    started = time.perf_counter()
    part = _RUNS[backend](engine, values, lattice, frac, grid.atoms.get_chemical_symbols(), vacuum_tol)
    report(f"partitioned in {time.perf_counter() - started:.1f} s")
    return BaderResult(
        symbols=grid.atoms.get_chemical_symbols(),
        valence=z_val,
        electrons=part.electrons,
        charges=z_val - part.electrons,
        volumes=part.volumes,
        maxima=part.maxima,
        backend=backend,
        total_electrons=float(part.electrons.sum() + part.vacuum_electrons),
        vacuum_electrons=float(part.vacuum_electrons),
        vacuum_tol=float(vacuum_tol),
    )


def _count_above_vacuum(values: np.ndarray, vacuum_tol: float) -> int:
    """Number of points above the vacuum threshold (e/Å³); refuses a negative threshold or none above it."""
    if not vacuum_tol >= 0.0:
        raise EchemmlError(f"the vacuum threshold must be ≥ 0 e/Å³, got {vacuum_tol}")
    inside = int(np.count_nonzero(values > vacuum_tol))
    if inside == 0:
        raise EchemmlError(f"no point of the density exceeds the vacuum threshold {vacuum_tol:g} e/Å³")
    return inside


# ------------------------------------------------------------------ valence
def valence_counts(
    grid: DensityGrid, valence: Mapping[str, float] | Sequence[float] | np.ndarray | None = None
) -> np.ndarray:
    """Z_val of each atom of ``grid``, e.

    In order: ``valence`` (per element or per atom); the grid's metadata
    "valence_charges"; a cube file's charge column ("nuclear_charges") when it
    is plausible (see :func:`_listed_charges_problem`). Otherwise raises
    InputFileError naming the grid's source file and asking for the valence.
    """
    symbols = grid.atoms.get_chemical_symbols()
    if isinstance(valence, Mapping):
        return per_atom_valence(symbols, valence)
    if valence is not None:
        counts = np.asarray(valence, dtype=float).reshape(-1)
        if len(counts) != len(symbols):
            raise EchemmlError(f"{len(counts)} valence counts given for {len(symbols)} atoms")
        return counts
    known = grid.metadata.get("valence_charges")
    if known is not None and len(known) == len(symbols):
        return np.asarray(known, dtype=float)
    listed = np.asarray(grid.metadata.get("nuclear_charges", []), dtype=float).reshape(-1)
    problem = _listed_charges_problem(listed, grid)
    if problem is None:
        return listed
    hint = " ".join(f"{symbol}=N" for symbol in dict.fromkeys(symbols))
    raise InputFileError(
        grid.metadata.get("source"),
        f"{problem}: give the valence electrons of each element (--valence {hint} / valence={{...}})",
    )


def _listed_charges_problem(listed: np.ndarray, grid: DensityGrid) -> str | None:
    """Why a file's per-atom charges (e) cannot serve as valence charges, or None when they can.

    They cannot when missing or zero (CP2K writes zeros), or when they are just
    the atomic numbers Z while the density holds at least
    MISSING_CORE_ELECTRONS fewer than ΣZ electrons (a pseudopotential density).
    """
    numbers = grid.atoms.numbers
    if len(listed) != len(numbers) or np.any(listed <= 0):
        return "the file lists no valence charge per atom"
    electrons = grid.integral()
    if np.array_equal(listed, numbers) and electrons < numbers.sum() - MISSING_CORE_ELECTRONS:
        return (
            f"the file lists the atomic numbers (ΣZ = {numbers.sum()} e) but its density holds "
            f"{electrons:.2f} e, a valence density"
        )
    return None


def per_atom_valence(symbols: Sequence[str], table: Mapping[str, float]) -> np.ndarray:
    """Z_val of each atom (e) from a table per element (``{"O": 6, "H": 1}``)."""
    missing = sorted(set(symbols) - set(table))
    if missing:
        raise EchemmlError(f"no valence electron count given for {', '.join(missing)}")
    return np.array([float(table[symbol]) for symbol in symbols])


def model_valence_charges(metadata: Mapping, symbols: Sequence[str]) -> np.ndarray | None:
    """Z_val of each atom (e) from a model's metadata "valence_charges" ({"C": 4, ...}), or None.

    A committee's table may sit only in its members' metadata ("members"); the
    first member that has one gives it.
    """
    tables = [metadata, *metadata.get("members", [])]
    table = next((entry["valence_charges"] for entry in tables if entry.get("valence_charges")), None)
    return None if table is None else per_atom_valence(symbols, table)


# -------------------------------------------------------------------- frame
def _grid_frame(grid: DensityGrid) -> tuple[np.ndarray, np.ndarray]:
    """The backend's periodic lattice (rows, Å) and the atoms' wrapped fractional coordinates.

    The lattice is ``shape × voxel``, so that grid point (0, 0, 0) sits at the
    lattice origin; the atoms are taken relative to the grid's origin.
    """
    lattice = np.array(grid.shape, dtype=float)[:, None] * grid.voxel
    frac = (grid.atoms.positions - grid.origin) @ np.linalg.inv(lattice)
    return lattice, np.mod(frac, 1.0)


@contextlib.contextmanager
def _quiet(logger_level: int = logging.WARNING) -> Iterator[None]:
    """Swallow what the engines print, log below ``logger_level`` or warn.

    The root logger's handlers and level are restored afterwards: baderkit's
    import calls ``logging.basicConfig`` and its ``logging.info`` calls would
    otherwise leave a stderr handler on a root logger that had none.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    if not handlers:
        root.addHandler(logging.NullHandler())  # keeps logging.info() from calling basicConfig
    root.setLevel(max(level, logger_level))
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


# ----------------------------------------------------------------- baderkit
def _import_baderkit() -> tuple[Any, Any, Any, Any]:
    """baderkit's Bader, Grid, Structure and pymatgen's Lattice, with baderkit's root-logger setup undone."""
    try:
        with _quiet():
            from baderkit.bader import Bader
            from baderkit.toolkit import Grid, Structure
            from pymatgen.core import Lattice
    except ImportError as exc:
        raise EchemmlError(
            f"the baderkit backend is not installed ({exc}): pip install 'echemml[bader]'"
        ) from None
    return Bader, Grid, Structure, Lattice


def _run_baderkit(
    engine: tuple[Any, Any, Any, Any], values: np.ndarray, lattice: np.ndarray, frac: np.ndarray,
    symbols: list[str], vacuum_tol: float,
) -> _Partition:
    """Near-grid Bader partition with baderkit (method "neargrid", persistence 0.05)."""
    Bader, Grid, Structure, Lattice = engine
    with _quiet():
        structure = Structure(Lattice(lattice), symbols, frac.copy())
        charge = Grid(structure, {"total": values * structure.volume})  # n·V_cell
        bader = Bader(
            charge_grid=charge,
            reference_grid=charge,
            method="neargrid",
            vacuum_tol=float(np.nextafter(vacuum_tol, np.inf)),  # baderkit's vacuum is n < tol
            persistence_tol=BADERKIT_PERSISTENCE_TOL,
        )
        electrons = np.asarray(bader.atom_charges, dtype=float)
        volumes = np.asarray(bader.atom_volumes, dtype=float)
        basin_atoms = np.asarray(bader.basin_atoms, dtype=int)
        vacuum = float(bader.vacuum_charge)
    return _Partition(electrons, volumes, _count(basin_atoms, len(symbols)), vacuum)


# ------------------------------------------------------------------ pybader
def _import_pybader() -> Any:
    """pybader's Bader class; its first-import setup (config file, JIT cache) runs quietly."""
    try:
        with _quiet():
            from pybader.interface import Bader
    except ImportError as exc:
        raise EchemmlError(
            f"the pybader backend is not installed or cannot import ({exc}): "
            "pip install 'echemml[pybader]' (it needs setuptools<81 for pkg_resources)"
        ) from None
    return Bader


def _run_pybader(
    Bader: Any, values: np.ndarray, lattice: np.ndarray, frac: np.ndarray, symbols: list[str], vacuum_tol: float
) -> _Partition:
    """Near-grid Bader partition with pybader, writing nothing and printing nothing.

    pybader takes the density in e/Å³ (see the module docstring), the lattice
    as rows in Å and the atoms in Cartesian Å inside that lattice.
    """
    with tempfile.TemporaryDirectory(prefix="echemml-pybader-") as scratch, _quiet():
        prefix = scratch.rstrip("/") + "/"
        file_info = {
            "filename": "echemml",
            "prefix": prefix,
            "out_dest": prefix + "bader.p",
            "file_type": "echemml",
            "write_function": None,
            "voxel_offset": np.zeros(3),  # grid point (0,0,0) sits at the lattice origin
        }
        bader = Bader(
            {"charge": np.ascontiguousarray(values)},
            lattice.copy(),
            frac @ lattice,
            file_info,
            **_pybader_config(vacuum_tol, prefix),
        )
        bader()
        electrons = np.asarray(bader.atoms_charge, dtype=float)
        volumes = np.asarray(bader.atoms_volume, dtype=float)
        basin_atoms = np.asarray(bader.bader_atoms, dtype=int)
        vacuum = float(bader.vacuum_charge)
    return _Partition(electrons, volumes, _count(basin_atoms, len(symbols)), vacuum)


def _pybader_config(vacuum_tol: float, prefix: str) -> dict:
    """Every pybader setting, so that a user's ~/.config/bader/config.ini changes nothing."""
    return {
        "method": "neargrid",
        "refine_method": "neargrid",
        "refine_mode": ("changed", 2),
        "vacuum_tol": float(vacuum_tol),  # pybader's vacuum is n ≤ tol
        "bader_volume_tol": 1e-3,
        "export_mode": None,
        "output": "none",  # neither 'pickle' nor 'dat': pybader writes no result file
        "prefix": prefix,
        "threads": 1,
        "fortran_format": 0,
        "speed_flag": False,
        "spin_flag": False,
    }


def _count(basin_atoms: np.ndarray, natoms: int) -> np.ndarray:
    """Number of basins (density maxima) assigned to each atom."""
    owned = basin_atoms[(basin_atoms >= 0) & (basin_atoms < natoms)]
    return np.bincount(owned, minlength=natoms)


# each backend: how to import it (errors first, before any work) and how to run it
_IMPORTS = {"baderkit": _import_baderkit, "pybader": _import_pybader}
_RUNS = {"baderkit": _run_baderkit, "pybader": _run_pybader}
