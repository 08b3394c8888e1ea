"""Sample sets: sampled grid points with their targets, per configuration, in one HDF5 file.

Layout (units in brackets)::

    /                        attrs: format="echemml-samples", version, units (JSON)
    /configs/000000/         attrs: target ("density" | "response"), source, source_sha256,
                                    sampler (JSON), n_grid_points, complete
        numbers   (natoms,)          atomic numbers
        positions (natoms, 3)        [Å]
        cell      (3, 3)             [Å]
        pbc       (3,)               bool
        field     (3,)               applied field [V/Å]
        points    (npoints, 3)       sampled grid-point positions [Å]
        targets   (npoints,)         n or Δn at those points [e/Å³]
        indices   (npoints,)         flat (C-order) indices into the source grid
        valence_charges (natoms,)    each atom's valence charge Z_val [e]; only when
                                     known (files written before it have none)
        energy    ()                 the DFT energy [eV], field included; only when labelled
        forces    (natoms, 3)        the DFT forces [eV/Å]; only when labelled
                                     (attr charge: the net charge [e], 0 when absent)

Configurations are appended as new groups without rewriting earlier ones; the
``complete`` attribute is set last, and readers skip groups that lack it (an
append interrupted by a crash).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import ase
import h5py
import numpy as np

from .. import keys
from ..errors import InputFileError
from .hdf5_store import HDF5Store

FORMAT_NAME = "echemml-samples"
FORMAT_VERSION = 1
UNITS = keys.units(keys.POSITIONS, keys.CELL, keys.FIELD, keys.POINTS, keys.TARGETS)
TARGET_KINDS = ("density", "response")


@dataclass
class SampledConfiguration:
    """One configuration's sampled points and targets.

    Attributes:
        atoms: the structure (Å).
        points: (n, 3) sampled positions, Å.
        targets: (n,) density n or response Δn at the points, e/Å³.
        field: applied field, V/Å.
        target: "density" or "response".
        indices: flat indices of the points in the source grid (or empty).
        provenance: source file, its SHA-256, sampler and parameters, grid size.
        valence_charges: (natoms,) each atom's valence charge Z_val in e, or None when unknown.
        energy: the configuration's DFT energy (eV, the field's interaction included), or None.
        forces: (natoms, 3) its DFT forces (eV/Å), or None.
        charge: its net charge, e.
    """

    atoms: ase.Atoms
    points: np.ndarray
    targets: np.ndarray
    field: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(3))
    target: str = "density"
    indices: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    provenance: dict = dataclasses.field(default_factory=dict)
    valence_charges: np.ndarray | None = None
    energy: float | None = None
    forces: np.ndarray | None = None
    charge: int = 0

    def __post_init__(self) -> None:
        self.points = np.asarray(self.points, dtype=np.float64).reshape(-1, 3)
        self.targets = np.asarray(self.targets, dtype=np.float64).reshape(-1)
        self.field = np.asarray(self.field, dtype=np.float64).reshape(3)
        self.indices = np.asarray(self.indices, dtype=np.int64).reshape(-1)
        if len(self.points) != len(self.targets):
            raise ValueError(f"{len(self.points)} points but {len(self.targets)} targets")
        if self.target not in TARGET_KINDS:
            raise ValueError(f"target must be one of {TARGET_KINDS}, got {self.target!r}")
        if self.valence_charges is not None:
            self.valence_charges = np.asarray(self.valence_charges, dtype=np.float64).reshape(-1)
            if len(self.valence_charges) != len(self.atoms):
                raise ValueError(f"{len(self.valence_charges)} valence charges for {len(self.atoms)} atoms")
        if self.forces is not None:
            self.forces = np.asarray(self.forces, dtype=np.float64).reshape(len(self.atoms), 3)


def element_valence_charges(configurations: Iterable[SampledConfiguration]) -> dict[str, float] | None:
    """The valence charge Z_val (e) of each element, as the configurations that carry them agree on, or None.

    None when no configuration carries valence charges, when two disagree on an
    element, or when an element appears only in configurations without them.
    """
    table: dict[str, float] = {}
    elements: set[str] = set()
    for config in configurations:
        symbols = config.atoms.get_chemical_symbols()
        elements.update(symbols)
        for symbol, charge in zip(symbols, [] if config.valence_charges is None else config.valence_charges):
            if table.setdefault(symbol, float(charge)) != float(charge):
                return None
    return table if table and set(table) == elements else None


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (provenance of a sampled configuration)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    return digest.hexdigest()


class SampleSet(HDF5Store):
    """An HDF5 sample set, opened for reading ("r") or appending ("a").

    Use as a context manager. ``len()`` counts complete configurations; indexing
    (by position or group name) and iteration give :class:`SampledConfiguration`.
    """

    format_name = FORMAT_NAME
    format_version = FORMAT_VERSION
    units = UNITS

    # ------------------------------------------------------------- reading
    def __getitem__(self, item: int | str) -> SampledConfiguration:
        name = self.names()[item] if isinstance(item, int) else item
        group = self._configs[name]
        atoms = ase.Atoms(
            numbers=group["numbers"][()],
            positions=group["positions"][()],
            cell=group["cell"][()],
            pbc=group["pbc"][()],
        )
        return SampledConfiguration(
            atoms=atoms,
            points=group["points"][()],
            targets=group["targets"][()],
            field=group["field"][()],
            target=str(group.attrs["target"]),
            indices=group["indices"][()],
            provenance=self._provenance(group),
            valence_charges=group["valence_charges"][()] if "valence_charges" in group else None,
            energy=float(group["energy"][()]) if "energy" in group else None,
            forces=group["forces"][()] if "forces" in group else None,
            charge=int(group.attrs.get("charge", 0)),
        )

    def __iter__(self) -> Iterator[SampledConfiguration]:
        for name in self.names():
            yield self[name]

    @staticmethod
    def _provenance(group: h5py.Group) -> dict:
        provenance = {key: group.attrs[key] for key in ("source", "source_sha256", "n_grid_points") if key in group.attrs}
        provenance["sampler"] = json.loads(group.attrs.get("sampler", "{}"))
        for key, value in provenance.items():
            if isinstance(value, np.generic):
                provenance[key] = value.item()
        return provenance

    def sources(self) -> dict[str, str]:
        """SHA-256 → group name of every complete configuration with a recorded source."""
        return {
            self._configs[name].attrs["source_sha256"]: name
            for name in self.names()
            if "source_sha256" in self._configs[name].attrs
        }

    def n_points(self) -> int:
        """Total number of sampled points over all complete configurations."""
        return int(sum(self._configs[name]["targets"].shape[0] for name in self.names()))

    # ------------------------------------------------------------- writing
    def append(self, config: SampledConfiguration) -> str:
        """Add one configuration as a new group; returns its name."""
        name = f"{len(self._configs):06d}"
        while name in self._configs:
            name = f"{int(name) + 1:06d}"
        with self._new_group(name) as group:
            atoms = config.atoms
            group["numbers"] = atoms.numbers.astype(np.int32)
            group["positions"] = atoms.positions
            group["cell"] = np.asarray(atoms.cell, dtype=np.float64)
            group["pbc"] = np.asarray(atoms.pbc, dtype=bool)
            group["field"] = config.field
            group["points"] = config.points
            group["targets"] = config.targets
            group["indices"] = config.indices
            if config.valence_charges is not None:
                group["valence_charges"] = config.valence_charges
            if config.energy is not None:
                group["energy"] = float(config.energy)
            if config.forces is not None:
                group["forces"] = config.forces
            group.attrs["charge"] = int(config.charge)
            provenance = dict(config.provenance)
            group.attrs["target"] = config.target
            group.attrs["sampler"] = json.dumps(provenance.pop("sampler", {}))
            for key in ("source", "source_sha256", "n_grid_points"):
                if key in provenance and provenance[key] is not None:
                    group.attrs[key] = provenance[key]
        return name
