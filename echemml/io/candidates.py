"""Compact DFT labels: per-configuration candidate grid points with their densities.

Full grids are millions of points and stay out of git; what training needs from
an expensive DFT run is far smaller. For each configuration this store keeps

- ``random_order``/``random_values``: grid points in uniformly random order, and
- ``ts_order``/``ts_values``: grid points in targeted-sampling order (Eq. 5, Gumbel
  top-k with the stored σ),

so that the first k entries of either list are a valid random or TS sample of
size k for any k up to its length. LIFS then picks from the TS candidates. With
the grid geometry (origin, voxel, shape) a flat index gives the point's position.
The structure, energy (eV), forces (eV/Å), valence electron count and, when the
DFT code gave them, each atom's valence charge (e) come along.

Layout::

    /                   attrs: format="echemml-candidates", version, units (JSON)
    /configs/<name>/    attrs: numbers, positions [Å], cell [Å], pbc, field [V/Å], forces [eV/Å],
                               origin [Å], voxel [Å], shape, code, ts_sigma, n_valence,
                               energy [eV], electrons_on_grid, valence_charges [e] (when known),
                               complete
        random_order (int32), random_values (float32, e/Å³)
        ts_order (int32), ts_values (float32, e/Å³)

Densities are kept as float32 (relative precision 6e-8), indices as int32.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ase
import numpy as np

from .. import keys
from ..errors import InputFileError
from ..grid import DensityGrid
from ..sampling import random_sampling, targeted_order
from .hdf5_store import HDF5Store

FORMAT_NAME = "echemml-candidates"
FORMAT_VERSION = 1
_SMALL_ARRAYS = ("numbers", "positions", "cell", "pbc", "field", "origin", "voxel", "shape", "forces")
UNITS = keys.units(keys.POSITIONS, keys.DENSITY, keys.ENERGY, keys.FORCES, keys.FIELD)
_RENAMED_ATTRS = {"energy_eV": keys.ENERGY}  # stores written before the names were unified


@dataclass
class Candidates:
    """One configuration's candidate points (see module docstring).

    Attributes:
        name: the configuration's key in the store (e.g. "qm9_000123").
        atoms: the structure, Å.
        origin, voxel, shape: the DFT grid's geometry (Å), so that a flat index
            maps to a position.
        random_order, random_values: flat indices in random order and n there (e/Å³).
        ts_order, ts_values: flat indices in TS order and n there (e/Å³).
        field: applied field, V/Å.
        attrs: energy (eV), n_valence, electrons_on_grid, ts_sigma, source, code, and
            "valence_charges" ((natoms,) e) when the DFT code gave them.
        forces: (natoms, 3) eV/Å or None.
    """

    name: str
    atoms: ase.Atoms
    origin: np.ndarray
    voxel: np.ndarray
    shape: tuple[int, int, int]
    random_order: np.ndarray
    random_values: np.ndarray
    ts_order: np.ndarray
    ts_values: np.ndarray
    field: np.ndarray
    attrs: dict
    forces: np.ndarray | None = None

    def positions_of(self, flat_indices: np.ndarray) -> np.ndarray:
        """Cartesian positions (Å) of grid points given by flat (C-order) indices."""
        ijk = np.stack(np.unravel_index(np.asarray(flat_indices), self.shape), axis=-1)
        return self.origin + ijk.astype(float) @ self.voxel


def candidates_from_grid(
    name: str,
    grid: DensityGrid,
    n_random: int = 1000,
    n_ts: int = 1000,
    ts_sigma: float = 30.0,
    seed: int = 0,
    field: np.ndarray | None = None,
    forces: np.ndarray | None = None,
    attrs: dict | None = None,
    target: str = "density",
) -> Candidates:
    """Draw the random-order and TS-order candidate lists from a full grid.

    For a response (``target="response"``) the TS weights use |Δn|.
    """
    rng = np.random.default_rng(seed)
    values = grid.values.reshape(-1)
    random_order = rng.permutation(random_sampling(grid.npoints, n_random, rng))
    ts_order = targeted_order(np.abs(values) if target == "response" else values, n_ts, ts_sigma, rng)
    return Candidates(
        name=name,
        atoms=grid.atoms.copy(),
        origin=grid.origin.copy(),
        voxel=grid.voxel.copy(),
        shape=grid.shape,
        random_order=random_order,
        random_values=values[random_order],
        ts_order=ts_order,
        ts_values=values[ts_order],
        field=np.zeros(3) if field is None else np.asarray(field, dtype=float),
        attrs={"ts_sigma": ts_sigma, "seed": seed, "target": target, **(attrs or {})},
        forces=forces,
    )


class CandidateStore(HDF5Store):
    """An HDF5 file of :class:`Candidates`, opened for reading ("r") or appending ("a")."""

    format_name = FORMAT_NAME
    format_version = FORMAT_VERSION
    units = UNITS

    def __iter__(self) -> Iterator[Candidates]:
        for name in self.names():
            yield self[name]

    def __getitem__(self, name: str) -> Candidates:
        group = self._configs[name]
        attrs = {_RENAMED_ATTRS.get(key, key): (value.item() if isinstance(value, np.generic) else value)
                 for key, value in group.attrs.items()}
        attrs.pop("complete", None)
        small = {key: attrs.pop(key, None) for key in _SMALL_ARRAYS}
        atoms = ase.Atoms(numbers=small["numbers"], positions=small["positions"], cell=small["cell"], pbc=small["pbc"])
        return Candidates(
            name=name,
            atoms=atoms,
            origin=np.asarray(small["origin"]),
            voxel=np.asarray(small["voxel"]),
            shape=tuple(int(n) for n in small["shape"]),
            random_order=group["random_order"][()].astype(np.int64),
            random_values=group["random_values"][()].astype(np.float64),
            ts_order=group["ts_order"][()].astype(np.int64),
            ts_values=group["ts_values"][()].astype(np.float64),
            field=np.asarray(small["field"]),
            attrs=attrs,
            forces=None if small["forces"] is None else np.asarray(small["forces"]),
        )

    def add(self, candidates: Candidates) -> None:
        """Store one configuration (replacing an incomplete group of that name)."""
        with self._new_group(candidates.name) as group:
            atoms = candidates.atoms
            # small arrays live in the group's header (attributes): a dataset each would
            # cost more in HDF5 bookkeeping than the candidates themselves
            small = {
                "numbers": atoms.numbers.astype(np.int16),
                "positions": atoms.positions,
                "cell": np.asarray(atoms.cell, dtype=np.float64),
                "pbc": np.asarray(atoms.pbc, dtype=bool),
                "field": candidates.field,
                "origin": candidates.origin,
                "voxel": candidates.voxel,
                "shape": np.asarray(candidates.shape, dtype=np.int32),
            }
            if candidates.forces is not None:
                small["forces"] = np.asarray(candidates.forces, dtype=np.float64)
            for key, value in {**small, **candidates.attrs}.items():
                if value is not None:
                    group.attrs[key] = value
            for key in ("random_order", "ts_order"):
                group[key] = getattr(candidates, key).astype(np.int32)
            for key in ("random_values", "ts_values"):
                group[key] = getattr(candidates, key).astype(np.float32)


def copy_candidates(source: str | os.PathLike, destination: str | os.PathLike, n_random: int | None = None,
                    n_ts: int | None = None) -> int:
    """Copy every configuration of the store ``source`` into a new store ``destination``, keeping at most
    the first ``n_random`` random-order and ``n_ts`` TS-order candidates of each; returns the count.

    A prefix of either list is a valid sample of its size, so a smaller store serves
    exactly as one labelled with those numbers would. Written in one pass, the copy also
    sheds the free space that a store grown by many appends carries (about a third).
    """
    if Path(destination).exists():
        raise InputFileError(destination, "exists already; copy into a new file")
    count = 0
    with CandidateStore(source) as old, CandidateStore(destination, "a") as new:
        for candidates in old:
            candidates.random_order = candidates.random_order[:n_random]
            candidates.random_values = candidates.random_values[:n_random]
            candidates.ts_order = candidates.ts_order[:n_ts]
            candidates.ts_values = candidates.ts_values[:n_ts]
            new.add(candidates)
            count += 1
    return count
