"""``echemml info FILE... [--json]``: what a density file holds, in echemml's units."""

from __future__ import annotations

import argparse
import json

import numpy as np

from ..grid import DensityGrid
from ..io import detect_format, read_density


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


def run(args: argparse.Namespace) -> int:
    summaries = []
    for path in args.files:
        format = detect_format(path)
        summaries.append(summarize(read_density(path, format=format), path, format))
    if args.json:
        print(json.dumps(summaries, indent=2, ensure_ascii=False))
    else:
        for summary in summaries:
            _print_summary(summary)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info",
        help="describe density files (atoms, grid, electrons)",
        description="Describe density files: atoms, cell, grid shape and spacing, "
        "integrated electrons, min/max density (Å, e/Å³, e).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="cube or CHGCAR-type files (.gz/.bz2/.xz too)")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    parser.set_defaults(func=run)
