"""``echemml bader FILE [--backend baderkit|pybader] [--valence SYMBOL=N ...] [--json]``.

Per atom: electrons in its Bader basins (e), net charge Z_val − N_basin (e) and
basin volume (Å³), with the totals. Z_val comes from ``--valence``, else from the
nuclear charges the file lists when they are all non-zero, else from the GTH-PBE
pseudopotentials (PySCF's data).
"""

from __future__ import annotations

import argparse
import json

from ..analysis.bader import BACKENDS, DEFAULT_BACKEND, BaderResult, bader_charges
from ..errors import EchemmlError
from ..io import read_density


def parse_valence(items: list[str] | None) -> dict[str, float] | None:
    """``["O=6", "H=1"]`` → ``{"O": 6.0, "H": 1.0}`` (electrons); None when not given."""
    if not items:
        return None
    counts: dict[str, float] = {}
    for item in items:
        symbol, sep, number = item.partition("=")
        try:
            if not sep or not symbol.strip():
                raise ValueError
            counts[symbol.strip()] = float(number)
        except ValueError:
            raise EchemmlError(f"--valence wants SYMBOL=N (e.g. O=6), got {item!r}") from None
    return counts


def _print_table(path: str, result: BaderResult) -> None:
    """Human-readable table: index, symbol, electrons (e), charge (e), volume (Å³)."""
    print(f"{path}  [Bader, {result.backend}]")
    print(f"  {'index':>5} {'symbol':<6} {'electrons':>10} {'charge':>9} {'volume':>10}")
    for atom in result.as_dict()["atoms"]:
        print(
            f"  {atom['index']:>5} {atom['symbol']:<6} {atom['electrons']:>10.4f} "
            f"{atom['charge']:>+9.4f} {atom['volume']:>10.3f}"
        )
    print(f"  total electrons  {result.total_electrons:.4f} e (vacuum {result.vacuum_electrons:.4f} e)")
    print(f"  total charge     {result.total_charge:+.4f} e")
    print("  units: electrons and charge in e, volume in Å³")


def run(args: argparse.Namespace) -> int:
    valence = parse_valence(args.valence)
    grid = read_density(args.file)
    result = bader_charges(grid, backend=args.backend, valence=valence, vacuum_tol=args.vacuum_tol)
    if args.json:
        print(json.dumps({"file": args.file, **result.as_dict()}, indent=2, ensure_ascii=False))
    else:
        _print_table(args.file, result)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bader",
        help="Bader charges of a density file (electrons, charge, volume per atom)",
        description="Bader partition of a density file: electrons (e), net charge "
        "Z_val − N (e) and volume (Å³) of each atom.",
    )
    parser.add_argument("file", metavar="FILE", help="cube or CHGCAR-type file (.gz/.bz2/.xz too)")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=DEFAULT_BACKEND,
        help=f"Bader engine (default {DEFAULT_BACKEND}: an H bonded to O keeps no basin, as in the paper)",
    )
    parser.add_argument(
        "--valence",
        nargs="+",
        metavar="SYMBOL=N",
        help="valence electrons per element, e.g. O=6 H=1 (default: the file's nuclear "
        "charges when non-zero, else GTH-PBE)",
    )
    parser.add_argument(
        "--vacuum-tol",
        type=float,
        default=None,
        metavar="N",
        help="density (e/Å³) at or below which a point is vacuum, owned by no atom (default: none)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)
