"""The numbers of an ``echemml md`` run: its recorded series, its atoms along the slab normal, its mean line density.

- :func:`series_summary`: mean, standard deviation, minimum and maximum over the
  frames of every recorded series (per component for vectors and per-atom
  series), in the record's units (:data:`SERIES_UNITS`).
- :func:`atom_profile`: the atoms' number profile along one axis over the frames of
  an MDAnalysis Universe (:func:`echemml.calculators.universe.run_universe`), by
  MDAnalysis' ``LinearDensity``, as atoms per Å (it integrates to the atom count).
- :func:`mean_line_density`: the mean of per-frame planar-integrated densities
  λ(z) (e/Å), e.g. the predicted response Δn of each frame, with the charge below
  and above the slab's middle plane.

Units: Å, ps (time), e, e/Å (line densities), atoms/Å and atoms/Å³ (atom profiles).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .. import keys
from .electrostatics import split_line_density

SERIES_UNITS: dict[str, str] = keys.series_units()  # unit of each series an MD record may hold
COMPONENT_LABELS: dict[str, tuple[str, ...]] = {  # the components of a record's vector series, in order
    "face_charges": ("lower", "upper"), "field": ("Ex", "Ey", "Ez"), "dipole": ("px", "py", "pz"),
}
NOT_SERIES = ("step", "time")
CM3_PER_A3 = 1e-24  # LinearDensity gives densities per cm³


@dataclass
class SeriesSummary:
    """One recorded series over the frames: per component (``labels``; None for a scalar) its statistics.

    Attributes:
        unit: the series' unit ('' when unknown).
        labels: one label per component (vectors: e.g. "Ex"; per-atom series: "Au3"), None for a scalar.
        mean, std, min, max: over the frames (std with ddof 0), one value per component.
    """

    unit: str
    labels: list[str] | None
    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray

    def as_dict(self) -> dict:
        """JSON-ready: numbers for a scalar, lists (with ``components``) for a vector."""
        def value(array: np.ndarray):
            return float(array[0]) if self.labels is None else [float(x) for x in array]

        result = {"unit": self.unit, **({"components": self.labels} if self.labels is not None else {})}
        return {**result, **{name: value(getattr(self, name)) for name in ("mean", "std", "min", "max")}}


def series_components(name: str, values: np.ndarray, symbols: Sequence[str] | None = None
                      ) -> tuple[np.ndarray, list[str] | None]:
    """A recorded series as (frames, components) with a label per component (None for a scalar series).

    Known vectors get named components (faces "lower"/"upper", field "Ex"/"Ey"/"Ez"); a
    series with one row per atom (Bader ``charges``, ``forces``) gets the atoms'
    symbol and index ("Au3", "Au3 z"); anything else its component index.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        return values[:, None], None
    frames = values.shape[0]
    if values.ndim == 2 and name in COMPONENT_LABELS and values.shape[1] == len(COMPONENT_LABELS[name]):
        return values, list(COMPONENT_LABELS[name])
    if symbols is not None and values.shape[1] == len(symbols):
        atoms = [f"{symbol}{index}" for index, symbol in enumerate(symbols)]
        if values.ndim == 2:
            return values, atoms
        if values.ndim == 3 and values.shape[2] == 3:
            return values.reshape(frames, -1), [f"{atom} {axis}" for atom in atoms for axis in "xyz"]
    flat = values.reshape(frames, -1)
    return flat, [str(index) for index in range(flat.shape[1])]


def series_summary(record: Mapping[str, np.ndarray], symbols: Sequence[str] | None = None
                   ) -> dict[str, SeriesSummary]:
    """Statistics over the frames of every series of an MD record (:func:`~echemml.calculators.recorder.read_record`)
    but ``step`` and ``time``; ``symbols`` (the atoms' chemical symbols) label per-atom series."""
    summary = {}
    for name, values in record.items():
        if name in NOT_SERIES or len(values) == 0:
            continue
        table, labels = series_components(name, values, symbols)
        summary[name] = SeriesSummary(
            unit=SERIES_UNITS.get(name, ""), labels=labels, mean=table.mean(axis=0), std=table.std(axis=0),
            min=table.min(axis=0), max=table.max(axis=0),
        )
    return summary


@dataclass
class AtomProfile:
    """Atoms along one axis, averaged over frames: bins of ``width`` Å centred on ``z``.

    Attributes:
        z: bin centres, Å (from the box's origin along the axis).
        atoms_per_A: atoms per Å along the axis (∑ atoms_per_A × width = the atom count).
        number_density: atoms/Å³, atoms_per_A / area.
        width: bin width, Å (the box length over a whole number of bins, close to the binsize asked for).
        area: cross-section of the box normal to the axis, Å².
        frames: frames averaged.
    """

    z: np.ndarray
    atoms_per_A: np.ndarray
    number_density: np.ndarray
    width: float
    area: float
    frames: int

    def atoms(self) -> float:
        """The mean number of atoms in the profile (its integral)."""
        return float(self.atoms_per_A.sum() * self.width)

    def as_dict(self) -> dict:
        return {"z_A": self.z.tolist(), "atoms_per_A": self.atoms_per_A.tolist(),
                "number_density_per_A3": self.number_density.tolist(), "bin_width_A": self.width,
                "area_A2": self.area, "atoms": self.atoms(), "frames": self.frames}


def atom_profile(universe, axis: int = 2, binsize: float = 0.1) -> AtomProfile | None:
    """The atoms' number profile along ``axis`` (0, 1, 2) over every frame of ``universe``, by MDAnalysis'
    ``LinearDensity`` (grouping 'atoms', bins of about ``binsize`` Å); None when the Universe has no box.

    ``LinearDensity`` (MDAnalysis 2.11) gives mass and charge densities, no number
    density, and needs charges: it runs on a copy of the Universe whose atoms carry
    unit charges, so that its charge density counts atoms; its normalisation is undone
    to atoms per bin. The copy also keeps the wrapping into the box, which it does
    in place, out of the caller's frames.
    """
    if universe.dimensions is None:
        return None
    from MDAnalysis.analysis.lineardensity import LinearDensity
    from MDAnalysis.lib.mdamath import triclinic_vectors
    from MDAnalysis.units import constants

    counted = universe.copy()
    counted.add_TopologyAttr("charges", np.ones(len(counted.atoms)))
    density = LinearDensity(counted.atoms, grouping="atoms", binsize=binsize).run()
    result = density.results["xyz"[axis]]
    edges = np.asarray(result.hist_bin_edges, dtype=float)
    per_bin = np.asarray(result.charge_density) * constants["N_Avogadro"] * CM3_PER_A3 * result.slice_volume
    # every axis is binned over the box's longest side: keep the bins inside this axis' length
    inside = edges[:-1] < float(universe.dimensions[axis]) - 1e-6
    width = float(edges[1] - edges[0])
    cell = triclinic_vectors(universe.dimensions)
    area = float(np.linalg.norm(np.cross(*(cell[a] for a in range(3) if a != axis))))
    per_A = per_bin[inside] / width
    return AtomProfile(z=0.5 * (edges[:-1] + edges[1:])[inside], atoms_per_A=per_A, number_density=per_A / area,
                       width=width, area=area, frames=int(density.n_frames))


@dataclass
class LineDensityProfile:
    """The mean of per-frame line densities λ(z) (e/Å) on one z grid, split at the mean middle plane.

    Attributes:
        z: plane positions, Å (the first frame's).
        line_density: mean λ(z), e/Å.
        middle: mean of the frames' middle planes, Å.
        lower_e, upper_e: ∫λ dz below and above ``middle``, e.
        net_e: ∫λ dz, e.
        frames: frames averaged.
    """

    z: np.ndarray
    line_density: np.ndarray
    middle: float
    lower_e: float
    upper_e: float
    net_e: float
    frames: int

    def as_dict(self) -> dict:
        return {"z_A": self.z.tolist(), "line_density_e_per_A": self.line_density.tolist(), "middle_A": self.middle,
                "lower_e": self.lower_e, "upper_e": self.upper_e, "net_e": self.net_e, "frames": self.frames}


def mean_line_density(z: Sequence[np.ndarray], line_densities: Sequence[np.ndarray], middles: Sequence[float]
                      ) -> LineDensityProfile:
    """Average the frames' line densities (e/Å on equally spaced planes z, Å); a frame whose planes differ
    from the first frame's is interpolated onto them (zero outside its own). ``middles`` (Å): each frame's
    plane between the slab's faces; their mean splits the mean profile."""
    if not len(z):
        raise ValueError("no frames to average")
    reference = np.asarray(z[0], dtype=float)
    rows = []
    for planes, values in zip(z, line_densities):
        planes, values = np.asarray(planes, dtype=float), np.asarray(values, dtype=float)
        same = planes.shape == reference.shape and np.allclose(planes, reference, atol=1e-6)
        rows.append(values if same else np.interp(reference, planes, values, left=0.0, right=0.0))
    mean = np.mean(rows, axis=0)
    middle = float(np.mean(middles))
    lower, upper = split_line_density(reference, mean, middle)
    return LineDensityProfile(z=reference, line_density=mean, middle=middle, lower_e=lower, upper_e=upper,
                              net_e=lower + upper, frames=len(rows))


__all__ = ["AtomProfile", "LineDensityProfile", "SERIES_UNITS", "SeriesSummary", "atom_profile",
           "mean_line_density", "series_components", "series_summary"]
