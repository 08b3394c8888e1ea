"""``echemml bader FILE [--backend B] [--valence SYMBOL=N ...] [--vacuum-tol N] [--json] [--quiet]``.

Per atom: electrons in its Bader basins (e), net charge Z_val − N_basin (e) and
basin volume (Å³), with the totals and the electrons left in the vacuum (points
at or below the vacuum threshold, 1e-4 e/Å³ by default). Z_val comes from
``--valence``, else from the valence charges the file carries (cube files that
echemml wrote), else from a cube's charge column when those are plausibly
valence charges; otherwise the command asks for ``--valence``. Progress, one
line per stage, goes to standard error unless ``--quiet``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from ..analysis.bader import BACKENDS, DEFAULT_BACKEND, DEFAULT_VACUUM_TOL, BaderResult, bader_charges
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


def stage_logger(quiet: bool) -> Callable[[str], None]:
    """A function that prints a stage message to standard error with the seconds since now (reading included)."""
    started = time.perf_counter()

    def log(message: str) -> None:
        if not quiet:
            print(f"[{time.perf_counter() - started:7.1f} s] {message}", file=sys.stderr, flush=True)

    return log


def _print_table(path: str, result: BaderResult) -> None:
    """Human-readable table: index, symbol, electrons (e), charge (e), volume (Å³), then the totals."""
    print(f"{path}  [Bader, {result.backend}]")
    print(f"  {'index':>5} {'symbol':<6} {'electrons':>10} {'charge':>9} {'volume':>10}")
    for atom in result.as_dict()["atoms"]:
        print(
            f"  {atom['index']:>5} {atom['symbol']:<6} {atom['electrons']:>10.4f} "
            f"{atom['charge']:>+9.4f} {atom['volume']:>10.3f}"
        )
    print(f"  vacuum electrons {result.vacuum_electrons:.4f} e (points with n ≤ {result.vacuum_tol:g} e/Å³)")
    print(f"  total electrons  {result.total_electrons:.4f} e (atoms + vacuum)")
    print(f"  total charge     {result.total_charge:+.4f} e (Σ Z_val − total electrons)")
    print("  units: electrons and charge in e, volume in Å³")


def run(args: argparse.Namespace) -> int:
    valence = parse_valence(args.valence)
    log = stage_logger(args.quiet)  # its first line comes once the input is checked: errors stay one line
    grid = read_density(args.file)
    result = bader_charges(
        grid, backend=args.backend, valence=valence, vacuum_tol=args.vacuum_tol, progress=log
    )
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
        "Z_val − N (e) and volume (Å³) of each atom, and the electrons in the vacuum.",
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
        help="valence electrons per element, e.g. C=4 H=1 O=6 (default: the valence charges the "
        "file carries; needed for CHGCAR and CP2K files and for cubes that list only Z)",
    )
    parser.add_argument(
        "--vacuum-tol",
        type=float,
        default=DEFAULT_VACUUM_TOL,
        metavar="N",
        help=f"density (e/Å³) at or below which a point is vacuum, owned by no atom (default {DEFAULT_VACUUM_TOL:g}; "
        "0 still keeps the zeros a model predicts beyond its cutoff out of the partition)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quiet", action="store_true", help="print no progress lines on standard error")
    parser.set_defaults(func=run)
