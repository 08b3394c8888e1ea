"""``echemml dft pyscf``: label molecules with the embedded PySCF engine.

For each molecule it writes ``NAME.cube`` (valence density; bohr and e/bohr³ in
the file, as the format wants) and ``NAME.json`` (energy in eV, forces in eV/Å,
electron counts, settings, timings). The cube is written last and atomically:
a molecule whose cube exists is done, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import ase.io
import numpy as np
from tqdm import tqdm

from ..errors import EchemmlError, InputFileError
from ..io import write_density
from ..io.files import atomic_open
from ..qm9 import load_qm9, parse_index_ranges


def _structures(args: argparse.Namespace) -> dict[str, object]:
    """Output stem → ase.Atoms, from --qm9 ranges and structure files."""
    structures: dict[str, object] = {}
    if args.qm9:
        for index, atoms in load_qm9(parse_index_ranges(args.qm9), args.allow_reserved).items():
            structures[f"qm9_{index:06d}"] = atoms
    for path in args.structures:
        if not Path(path).is_file():
            raise InputFileError(path, "no such file")
        try:
            atoms = ase.io.read(path)
        except Exception as exc:  # ase raises many kinds for unreadable files
            raise InputFileError(path, f"cannot read a structure ({type(exc).__name__}: {exc})") from None
        structures[Path(path).stem] = atoms
    if not structures:
        raise EchemmlError("nothing to compute: give structure files or --qm9 RANGE")
    return structures


def run_pyscf_batch(args: argparse.Namespace) -> int:
    from ..dft.pyscf import PySCFSettings, run_pyscf

    settings = PySCFSettings(
        basis=args.basis, xc=args.xc, grid_level=args.grid_level, spacing=args.spacing, margin=args.margin
    )
    structures = _structures(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    field = np.array(args.field, dtype=float) if args.field else None
    todo = {stem: atoms for stem, atoms in structures.items() if not (out / f"{stem}.cube").exists()}
    skipped = len(structures) - len(todo)
    if skipped:
        print(f"{skipped} of {len(structures)} already done in {out}, skipping them")
    failed = []
    with tqdm(todo.items(), total=len(todo), unit="mol", disable=args.quiet) as bar:
        for stem, atoms in bar:
            bar.set_postfix_str(f"{stem} {atoms.get_chemical_formula()}")
            result = run_pyscf(atoms, field=field, settings=settings, compute_forces=not args.no_forces)
            summary = {"name": stem, **result.summary(), "qm9_index": atoms.info.get("qm9_index")}
            if not result.converged:
                failed.append(stem)
                summary["error"] = "SCF did not converge"
                with atomic_open(out / f"{stem}.failed.json") as handle:
                    json.dump(summary, handle, indent=1)
                continue
            with atomic_open(out / f"{stem}.json") as handle:
                json.dump(summary, handle, indent=1)
            write_density(result.grid, out / f"{stem}.cube")
    print(f"wrote {len(todo) - len(failed)} densities to {out}")
    if failed:
        print(f"SCF did not converge for {len(failed)}: {', '.join(failed)} (see *.failed.json)")
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dft", help="label structures with a DFT code", description=__doc__)
    codes = parser.add_subparsers(dest="code", metavar="CODE", required=True)
    pyscf = codes.add_parser(
        "pyscf",
        help="embedded PySCF engine (PBE, GTH pseudopotentials) for molecules",
        description="Valence densities of molecules with PySCF (PBE, GTH-DZVP, GTH-PBE).",
    )
    pyscf.add_argument("structures", nargs="*", metavar="STRUCTURE", help="structure files ASE can read")
    pyscf.add_argument("--qm9", metavar="RANGE", help="QM9 indices, e.g. 1-20,25")
    pyscf.add_argument(
        "--allow-reserved", action="store_true", help="allow QM9 indices above 120000 (evaluation data only)"
    )
    pyscf.add_argument("--out", required=True, metavar="DIR", help="output folder (resumable)")
    pyscf.add_argument("--spacing", type=float, default=0.1, help="grid spacing in Å (default 0.1)")
    pyscf.add_argument("--margin", type=float, default=4.0, help="vacuum around the atoms in Å (default 4.0)")
    pyscf.add_argument("--field", type=float, nargs=3, metavar=("EX", "EY", "EZ"), help="uniform field in V/Å")
    pyscf.add_argument("--basis", default="gth-dzvp")
    pyscf.add_argument("--xc", default="pbe")
    pyscf.add_argument("--grid-level", type=int, default=2, help="PySCF integration grid level")
    pyscf.add_argument("--no-forces", action="store_true", help="skip the force calculation")
    pyscf.add_argument("--quiet", action="store_true", help="no progress bar")
    pyscf.set_defaults(func=run_pyscf_batch)
