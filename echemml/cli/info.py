"""``echemml info FILE... [--json]``: what a density file or an echemml HDF5 store holds.

Density files (cube, CHGCAR-type) are described by their atoms, cell, grid and
integrated electrons; candidate stores (compact DFT labels) and sample sets by
their configurations, elements, targets, fields and points. Units: Å, e/Å³, e, V/Å.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence

import ase
import numpy as np
from ase.data import chemical_symbols

from ..grid import DensityGrid
from ..io import detect_format, read_density
from ..io.candidates import FORMAT_NAME as CANDIDATES_FORMAT
from ..io.candidates import CandidateStore
from ..io.hdf5_store import store_format
from ..io.samples import FORMAT_NAME as SAMPLES_FORMAT
from ..io.samples import SampleSet


def summarize(grid: DensityGrid, path: str, format: str) -> dict:
    """One file's facts as plain JSON-ready values (Å, e/Å³, e)."""
    summary = {
        "file": path,
        "format": format,
        "formula": grid.atoms.get_chemical_formula(),
        "natoms": len(grid.atoms),
        "pbc": [bool(p) for p in grid.atoms.pbc],
        "cell_A": np.asarray(grid.atoms.cell).round(6).tolist(),
        "shape": list(grid.shape),
        "npoints": grid.npoints,
        "spacing_A": grid.spacing.round(6).tolist(),
        "origin_A": grid.origin.round(6).tolist(),
        "voxel_volume_A3": grid.voxel_volume,
        "electrons": grid.integral(),
        "min": float(grid.values.min()),
        "max": float(grid.values.max()),
        "spin": grid.spin is not None,
        "units": {"length": "Å", "density": "e/Å³", "electrons": "e"},
    }
    if grid.spin is not None and grid.spin.ndim == 3:
        summary["magnetization"] = float(grid.spin.sum() * grid.voxel_volume)
    return summary


def _configurations(atoms: Sequence[ase.Atoms], targets: Sequence[str], fields: Sequence[np.ndarray]) -> dict:
    """What a store's configurations hold: elements, sizes, targets and fields (V/Å)."""
    return {
        "configurations": len(atoms),
        "elements": [chemical_symbols[z] for z in sorted({int(z) for a in atoms for z in a.numbers})],
        "atoms_per_configuration": [min(map(len, atoms)), max(map(len, atoms))] if atoms else [],
        "targets": dict(Counter(targets)),
        "fields_V_per_A": sorted({tuple(round(float(x), 6) for x in field) for field in fields}),
    }


def summarize_candidates(path: str) -> dict:
    """A candidate store's facts: configurations, elements, targets, fields, DFT codes, candidates each."""
    with CandidateStore(path) as store:
        labels = list(store)
    return {
        "file": path,
        "format": CANDIDATES_FORMAT,
        **_configurations([c.atoms for c in labels], [str(c.attrs.get("target", "density")) for c in labels],
                          [c.field for c in labels]),
        "codes": dict(Counter(str(c.attrs.get("code", "unknown")) for c in labels)),
        "random_candidates": sorted({len(c.random_order) for c in labels}),
        "ts_candidates": sorted({len(c.ts_order) for c in labels}),
    }


def summarize_samples(path: str) -> dict:
    """A sample set's facts: configurations, elements, targets, fields and sampled points."""
    with SampleSet(path) as samples:
        sampled = list(samples)
    points = [len(c.targets) for c in sampled]
    return {
        "file": path,
        "format": SAMPLES_FORMAT,
        **_configurations([c.atoms for c in sampled], [c.target for c in sampled], [c.field for c in sampled]),
        "points": int(sum(points)),
        "points_per_configuration": [min(points), float(np.mean(points)), max(points)] if points else [],
    }


def _print_store_summary(summary: dict) -> None:
    print(f"{summary['file']}  [{summary['format']}]")
    low_high = "–".join(str(n) for n in summary["atoms_per_configuration"])
    print(f"  configurations {summary['configurations']} ({', '.join(summary['elements'])}; {low_high} atoms each)")
    print("  targets        " + ", ".join(f"{kind} {count}" for kind, count in summary["targets"].items()))
    print("  fields (V/Å)   " + ", ".join(str(list(field)) for field in summary["fields_V_per_A"]))
    if "codes" in summary:
        print("  DFT codes      " + ", ".join(f"{code} {count}" for code, count in summary["codes"].items()))
        random, targeted = ("/".join(map(str, summary[key])) for key in ("random_candidates", "ts_candidates"))
        print(f"  candidates     {random} random + {targeted} targeted each")
    else:
        low, mean, high = summary["points_per_configuration"] or (0, 0.0, 0)
        print(f"  points         {summary['points']} ({low}–{high} per configuration, mean {mean:.1f})")


def _print_summary(summary: dict) -> None:
    shape = "×".join(str(n) for n in summary["shape"])
    spacing = ", ".join(f"{h:.4f}" for h in summary["spacing_A"])
    pbc = "".join("T" if p else "F" for p in summary["pbc"])
    print(f"{summary['file']}  [{summary['format']}]")
    print(f"  atoms      {summary['natoms']} ({summary['formula']}), pbc {pbc}")
    for label, row in zip(("cell (Å)", "", ""), summary["cell_A"]):
        print(f"  {label:<10} " + " ".join(f"{x:10.4f}" for x in row))
    print(f"  grid       {shape} = {summary['npoints']} points, spacing {spacing} Å")
    print(f"  electrons  {summary['electrons']:.5f} e")
    print(f"  density    min {summary['min']:.6g}, max {summary['max']:.6g} e/Å³")
    if "magnetization" in summary:
        print(f"  spin       magnetisation {summary['magnetization']:.5f} μB")


STORE_SUMMARIES = {CANDIDATES_FORMAT: summarize_candidates, SAMPLES_FORMAT: summarize_samples}


def summarize_file(path: str) -> dict:
    """The facts of a density file, a candidate store or a sample set."""
    format = store_format(path)
    if format in STORE_SUMMARIES:
        return STORE_SUMMARIES[format](path)
    format = detect_format(path)
    return summarize(read_density(path, format=format), path, format)


def run(args: argparse.Namespace) -> int:
    summaries = [summarize_file(path) for path in args.files]
    if args.json:
        print(json.dumps(summaries, indent=2, ensure_ascii=False))
    else:
        for summary in summaries:
            (_print_summary if "shape" in summary else _print_store_summary)(summary)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info",
        help="describe density files (atoms, grid, electrons) and echemml stores",
        description="Describe density files: atoms, cell, grid shape and spacing, "
        "integrated electrons, min/max density (Å, e/Å³, e); and echemml candidate stores "
        "and sample sets: configurations, elements, targets, fields, points.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="cube or CHGCAR-type files (.gz/.bz2/.xz too), candidate stores, sample sets (.h5)")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    parser.set_defaults(func=run)
