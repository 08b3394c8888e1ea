"""DensityGrid: the one in-memory form of a scalar field (electron density) on a grid.

Units: lengths in Å, densities in e/Å³ (electrons positive), electron counts in e.

A grid point with integer index (i, j, k) sits at ``origin + i*voxel[0] + j*voxel[1] +
k*voxel[2]``; the rows of ``voxel`` are the three (possibly non-orthogonal) voxel
vectors. A grid is periodic along axis a when the atoms are periodic along a and
the grid spans exactly one cell vector there (``shape[a] * voxel[a] == cell[a]``), as
for CHGCAR files and CP2K cubes; elsewhere the density is taken as zero outside
the grid, as for a molecule in a box of vacuum.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import ase
import numpy as np

from .errors import EchemmlError, GridMismatchError

_POSITION_TOLERANCE = 1e-4  # Å: atoms or grids closer than this are the same


@dataclass(eq=False)
class DensityGrid:
    """Electron density on a regular grid, with the atoms it belongs to.

    Attributes:
        atoms: the structure (positions in Å, cell in Å, pbc).
        values: density, shape (nx, ny, nz), e/Å³.
        origin: Cartesian position of grid point (0, 0, 0), Å.
        voxel: (3, 3) array whose rows are the voxel vectors, Å.
        spin: magnetisation density n↑ − n↓ in e/Å³, shape (nx, ny, nz) for a
            collinear spin-polarised calculation or (3, nx, ny, nz) for a
            non-collinear one; None when the file has no spin part.
        metadata: free-form facts read from the file (comment lines, the nuclear
            charges a cube lists, the source path).
    """

    atoms: ase.Atoms
    values: np.ndarray
    origin: np.ndarray = field(default_factory=lambda: np.zeros(3))
    voxel: np.ndarray | None = None
    spin: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values)
        if self.values.ndim != 3:
            raise ValueError(f"grid values must be 3-dimensional, got shape {self.values.shape}")
        self.origin = np.asarray(self.origin, dtype=float).reshape(3)
        if self.voxel is None:
            cell = np.asarray(self.atoms.cell, dtype=float)
            if abs(np.linalg.det(cell)) < 1e-12:
                raise ValueError("voxel vectors are required when the atoms have no cell")
            self.voxel = cell / np.array(self.values.shape)[:, None]
        self.voxel = np.asarray(self.voxel, dtype=float).reshape(3, 3)
        if abs(np.linalg.det(self.voxel)) < 1e-14:
            raise ValueError("voxel vectors are linearly dependent")
        if self.spin is not None:
            self.spin = np.asarray(self.spin)
            if self.spin.shape[-3:] != self.values.shape:
                raise ValueError(
                    f"spin part has shape {self.spin.shape}, grid has {self.values.shape}"
                )

    # ------------------------------------------------------------------ geometry
    @property
    def shape(self) -> tuple[int, int, int]:
        """Number of grid points along each voxel vector."""
        return tuple(int(n) for n in self.values.shape)  # type: ignore[return-value]

    @property
    def npoints(self) -> int:
        """Total number of grid points."""
        return int(self.values.size)

    @property
    def voxel_volume(self) -> float:
        """Volume of one voxel, Å³."""
        return float(abs(np.linalg.det(self.voxel)))

    @property
    def spacing(self) -> np.ndarray:
        """Length of each voxel vector, Å."""
        return np.linalg.norm(self.voxel, axis=1)

    @property
    def periodic(self) -> np.ndarray:
        """Per axis: True where the grid wraps around a periodic cell vector."""
        cell = np.asarray(self.atoms.cell, dtype=float)
        spans = np.array(
            [
                np.allclose(self.shape[a] * self.voxel[a], cell[a], atol=_POSITION_TOLERANCE)
                for a in range(3)
            ]
        )
        return np.asarray(self.atoms.pbc, dtype=bool) & spans

    def points(self, indices: np.ndarray | slice | None = None) -> np.ndarray:
        """Cartesian positions (Å) of grid points, shape (n, 3).

        ``indices`` selects points by their flat (C-order) index; None gives all
        of them (npoints × 3 floats: use :meth:`iter_points` for large grids).
        """
        flat = np.arange(self.npoints)[indices] if indices is not None else np.arange(self.npoints)
        ijk = np.stack(np.unravel_index(flat, self.shape), axis=-1).astype(float)
        return self.origin + ijk @ self.voxel

    def iter_points(self, chunk_size: int = 1_000_000) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield ``(flat_slice, positions)`` for consecutive chunks of grid points.

        ``flat_slice`` indexes ``values.reshape(-1)``; positions are in Å. Memory
        stays bounded by ``chunk_size`` points whatever the grid's size.
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        for start in range(0, self.npoints, chunk_size):
            chunk = slice(start, min(start + chunk_size, self.npoints))
            yield chunk, self.points(chunk)

    # ---------------------------------------------------------------- integrals
    def integral(self) -> float:
        """Integral of the density over the grid: the electron count, e."""
        return float(self.values.sum(dtype=np.float64) * self.voxel_volume)

    def planar_average(self, axis: int = 2) -> tuple[np.ndarray, np.ndarray]:
        """Density integrated over the planes normal to one grid axis.

        Returns ``(z, lam)``: z (Å) is the distance of each plane of grid points
        from the origin along the plane's normal, and lam (e/Å) the line density
        λ(z) = ∬ n dA, so that ``lam.sum() * dz`` is the electron count, with dz
        the distance between neighbouring planes. Divide by the plane's area
        (``self.plane_area(axis)``) for the mean density in e/Å³.
        """
        other = [a for a in range(3) if a != axis]
        normal = np.cross(self.voxel[other[0]], self.voxel[other[1]])
        normal /= np.linalg.norm(normal)
        if self.voxel[axis] @ normal < 0:
            normal = -normal
        dz = float(self.voxel[axis] @ normal)
        plane_sum = self.values.sum(axis=tuple(other), dtype=np.float64)
        lam = plane_sum * self.voxel_volume / dz
        z = float(self.origin @ normal) + dz * np.arange(self.shape[axis])
        return z, lam

    def plane_area(self, axis: int = 2) -> float:
        """Area (Å²) of the grid's face normal to ``axis``: the other two axes' extent."""
        a, b = (self.shape[i] * self.voxel[i] for i in range(3) if i != axis)
        return float(np.linalg.norm(np.cross(a, b)))

    # ------------------------------------------------------------ interpolation
    def interpolate(self, points: np.ndarray) -> np.ndarray:
        """Trilinear interpolation of the density (e/Å³) at Cartesian points (Å).

        Periodic axes wrap around; along non-periodic axes the density outside
        the grid is zero. ``points`` has shape (n, 3); the result has shape (n,).
        """
        points = np.asarray(points, dtype=float).reshape(-1, 3)
        frac = (points - self.origin) @ np.linalg.inv(self.voxel)
        base = np.floor(frac).astype(np.int64)
        weight = frac - base
        shape = np.array(self.shape)
        periodic = self.periodic
        flat_values = self.values.reshape(-1)
        result = np.zeros(len(points), dtype=np.float64)
        for corner in np.ndindex(2, 2, 2):
            offset = np.array(corner)
            idx = base + offset
            w = np.prod(np.where(offset == 1, weight, 1.0 - weight), axis=1)
            idx = np.where(periodic, np.mod(idx, shape), idx)
            inside = np.all((idx >= 0) & (idx < shape), axis=1)
            flat = np.ravel_multi_index(tuple(idx[inside].T), self.shape)
            result[inside] += w[inside] * flat_values[flat]
        return result

    # ------------------------------------------------------------- comparisons
    def check_same_grid(self, other: DensityGrid) -> None:
        """Raise GridMismatchError unless ``other`` has the same grid and atoms."""
        problems = []
        if self.shape != other.shape:
            problems.append(f"grid shapes differ: {self.shape} vs {other.shape}")
        else:
            if not np.allclose(self.voxel, other.voxel, atol=1e-6):
                problems.append("voxel vectors differ")
            if not np.allclose(self.origin, other.origin, atol=_POSITION_TOLERANCE):
                problems.append(f"origins differ: {self.origin} vs {other.origin}")
        if len(self.atoms) != len(other.atoms) or np.any(
            self.atoms.numbers != other.atoms.numbers
        ):
            problems.append("the atoms differ (count or elements)")
        elif not np.allclose(
            self.atoms.positions, other.atoms.positions, atol=_POSITION_TOLERANCE
        ):
            problems.append("atomic positions differ")
        if problems:
            raise GridMismatchError("; ".join(problems))

    def difference(self, other: DensityGrid) -> DensityGrid:
        """``self − other`` on the same grid (e.g. Δn = n_ε − n_0); refuses mismatches."""
        self.check_same_grid(other)
        spin = None
        if self.spin is not None and other.spin is not None:
            spin = self.spin - other.spin
        return self.with_values(self.values - other.values, spin=spin)

    def with_values(self, values: np.ndarray, spin: np.ndarray | None = None) -> DensityGrid:
        """A copy on the same grid and atoms holding new values (e/Å³)."""
        values = np.asarray(values)
        if values.shape != self.shape:
            raise GridMismatchError(f"new values have shape {values.shape}, grid is {self.shape}")
        return DensityGrid(
            atoms=self.atoms.copy(),
            values=values,
            origin=self.origin.copy(),
            voxel=self.voxel.copy(),
            spin=spin,
            metadata=dict(self.metadata),
        )

    def copy(self) -> DensityGrid:
        """A deep copy."""
        spin = None if self.spin is None else self.spin.copy()
        return self.with_values(self.values.copy(), spin=spin)

    def __repr__(self) -> str:
        return (
            f"DensityGrid({self.atoms.get_chemical_formula()}, shape={self.shape}, "
            f"electrons={self.integral():.4f})"
        )


def uniform_grid(
    atoms: ase.Atoms, spacing: float = 0.1, margin: float = 4.0, dtype: type = np.float64
) -> DensityGrid:
    """An all-zero DensityGrid suited to ``atoms``, with voxels of about ``spacing`` Å.

    With any periodic axis the grid spans the atoms' cell (slabs included, their
    vacuum being part of the cell), with the largest point count along each cell
    vector whose spacing does not exceed ``spacing``. A fully open system gets an
    orthogonal box around the atoms, extended by ``margin`` Å on each side, as its
    cell, and pbc False. ``dtype`` is the values' type (float32 saves memory for
    predictions).
    """
    if spacing <= 0:
        raise EchemmlError(f"grid spacing must be positive, got {spacing} Å")
    if margin < 0:
        raise EchemmlError(f"grid margin must not be negative, got {margin} Å")
    if len(atoms) == 0:
        raise EchemmlError("the structure has no atoms")
    grid_atoms = atoms.copy()
    if np.any(atoms.pbc):
        cell = np.asarray(atoms.cell, dtype=float)
        lengths = np.linalg.norm(cell, axis=1)
        if np.any(lengths < 1e-8):
            raise EchemmlError("a periodic structure needs all three cell vectors to place a grid in its cell")
        shape = np.maximum(1, np.ceil(lengths / spacing - 1e-9)).astype(int)
        return DensityGrid(grid_atoms, np.zeros(tuple(shape), dtype=dtype), np.zeros(3), cell / shape[:, None])
    positions = atoms.positions
    low = positions.min(axis=0) - margin
    high = positions.max(axis=0) + margin
    shape = np.ceil((high - low) / spacing - 1e-9).astype(int) + 1
    grid_atoms.cell = np.diag(shape * spacing)
    grid_atoms.pbc = False
    return DensityGrid(grid_atoms, np.zeros(tuple(shape), dtype=dtype), low, np.eye(3) * spacing)
