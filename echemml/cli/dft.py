"""``echemml dft pyscf|cp2k``: label structures with a DFT code.

``pyscf`` labels molecules with the embedded PySCF engine. ``cp2k`` labels slabs
(and molecules in a box) with CP2K, in zero field and in each ``--field``,
keeping the density and the responses Δn = n_ε − n_0.

With ``--out DIR`` it writes, per molecule, ``NAME.cube`` (valence density; bohr
and e/bohr³ in the file, as the format wants) and ``NAME.json`` (energy in eV,
forces in eV/Å, electron counts, settings, timings). With ``--candidates FILE.h5``
it keeps the compact labels instead (random-order and TS-order candidate points
with their densities, see :mod:`echemml.io.candidates`), a few kB per molecule.
With ``--frames FILE.extxyz`` (PySCF) it appends each labelled structure, with its
energy, forces, charge and field, to an extxyz file: what ``echemml train --head
energy`` and ``echemml evaluate`` read (:mod:`echemml.io.labelled_frames`).
Outputs are written last and atomically: a molecule already present is skipped,
so a killed run resumes where it stopped. A structure file of several frames (extxyz)
gives one structure per frame (STEM_0000, …); a frame's ``charge`` and
``external_field`` (V/Å) in its info line set its net charge and field (PySCF).
``--workers N`` labels N molecules (or
slabs) at once in separate processes, ``--dask ADDRESS`` fans them out to a
dask.distributed cluster; the candidate store is written by this process only
(:mod:`echemml.dft.labelling`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import ase.io
import numpy as np
from tqdm import tqdm

from ..dft.cp2k import Cp2kSettings
from ..dft.pyscf import PySCFSettings
from ..errors import EchemmlError, InputFileError
from ..qm9 import available_indices, load_qm9, parse_index_ranges


def _qm9_indices(args: argparse.Namespace) -> list[int]:
    """The --qm9 range, or --qm9-sample N of it drawn at random.

    The sample is returned in draw order, so that a run stopped early holds a
    random subset, and a larger N with the same seed extends a smaller one.
    """
    indices = parse_index_ranges(args.qm9)
    if args.qm9_sample is None:
        return indices
    indices = [int(i) for i in np.intersect1d(indices, available_indices())]
    order = np.random.default_rng(args.seed).permutation(len(indices))
    return [indices[i] for i in order[: args.qm9_sample]]


def _structures(args: argparse.Namespace) -> dict[str, object]:
    """Output stem → ase.Atoms, from --qm9 ranges and structure files."""
    structures: dict[str, object] = {}
    if getattr(args, "qm9", None):
        indices = _qm9_indices(args)
        molecules = load_qm9(indices, args.allow_reserved)
        for index in indices:
            structures[f"qm9_{index:06d}"] = molecules[index]
    for path in args.structures:
        structures.update(_structures_in_file(path))
    if not structures:
        raise EchemmlError("nothing to compute: give structure files or --qm9 RANGE")
    return structures


def _structures_in_file(path: str) -> dict[str, object]:
    """Output stem → ase.Atoms of every frame in a structure file: STEM for one frame, STEM_0000, … for several."""
    if not Path(path).is_file():
        raise InputFileError(path, "no such file")
    try:
        frames = ase.io.read(path, index=":")
    except Exception as exc:  # ase raises many kinds for unreadable files
        raise InputFileError(path, f"cannot read a structure ({type(exc).__name__}: {exc})") from None
    stem = Path(path).stem
    if len(frames) == 1:
        return {stem: frames[0]}
    return {f"{stem}_{index:04d}": atoms for index, atoms in enumerate(frames)}


def run_pyscf_batch(args: argparse.Namespace) -> int:
    from ..dft.labelling import LabelJob, is_labelled, label_molecules

    job = LabelJob(
        settings=PySCFSettings(
            basis=args.basis, xc=args.xc, grid_level=args.grid_level, spacing=args.spacing, margin=args.margin
        ),
        field=tuple(args.field) if args.field else None,
        compute_forces=not args.no_forces,
        threads=args.threads,
        frames=None if args.frames is None else Path(args.frames),
        **_output_options(args, extra_outputs=args.frames),
    )
    if args.frames is not None and args.no_forces:
        raise EchemmlError("--frames keeps energies and forces: drop --no-forces")
    todo = _not_yet_labelled(_structures(args), job, is_labelled, args)
    failed = []
    for label in _with_progress(
        label_molecules, todo, job, args, unit="mol", describe=lambda label: f"{label.name} {label.record['formula']}"
    ):
        if not label.converged:
            failed.append(label.name)
    print(f"labelled {len(todo) - len(failed)} molecules" + "".join(
        f"; {kind} in {where}" for kind, where in (("densities", args.out), ("candidates", args.candidates)) if where
    ))
    if failed:
        print(f"SCF did not converge for {len(failed)}: {', '.join(failed)}")
        return 1
    return 0


def run_cp2k_batch(args: argparse.Namespace) -> int:
    from ..dft.labelling import SlabLabelJob, label_slabs, slab_is_labelled

    job = SlabLabelJob(
        settings=Cp2kSettings(cutoff=args.cutoff, cube_stride=args.stride, forces=not args.no_forces,
                              threads=args.threads, max_scf=args.max_scf, mixing_alpha=args.mixing_alpha,
                              broyden_history=args.broyden_history),
        fields=tuple(tuple(field) for field in args.field or []),
        **_output_options(args),
    )
    todo = _not_yet_labelled(_structures(args), job, slab_is_labelled, args)
    for _ in _with_progress(label_slabs, todo, job, args, unit="slab", describe=str):
        pass
    print(f"labelled {len(todo)} structures in {len(job.labels())} fields")
    return 0


def _output_options(args: argparse.Namespace, extra_outputs: str | None = None) -> dict:
    """The options both DFT batches share: where results go and how candidates are drawn.

    ``extra_outputs``: an output only one batch has (PySCF's --frames), which counts as a place for results.
    """
    if args.out is None and args.candidates is None and extra_outputs is None:
        where = "--out DIR, --candidates FILE.h5" + (" or --frames FILE.extxyz" if hasattr(args, "frames") else "")
        raise EchemmlError(f"say where results go: {where}")
    if args.workers < 1:
        raise EchemmlError(f"--workers {args.workers}: give at least 1")
    return {
        "out": None if args.out is None else Path(args.out),
        "keep_candidates": args.candidates is not None,
        "random_points": args.random_points,
        "ts_points": args.ts_points,
        "ts_sigma": args.ts_sigma,
        "seed": args.seed,
    }


def _not_yet_labelled(structures: dict, job, is_labelled, args: argparse.Namespace) -> dict:
    """The structures that some output of ``job`` still lacks; says how many were skipped."""
    from ..dft.labelling import unlabelled

    todo = unlabelled(structures, job, args.candidates, is_labelled)
    if len(todo) < len(structures):
        print(f"{len(structures) - len(todo)} of {len(structures)} already done, skipping them")
    return todo


def _with_progress(label_all, todo: dict, job, args: argparse.Namespace, unit: str, describe):
    """Run ``label_all`` on ``todo`` locally or on --dask, with a progress bar; yields what it yields."""
    executor = _executor(args)
    try:
        with tqdm(total=len(todo), unit=unit, disable=args.quiet or not todo) as bar:
            for finished in label_all(todo, job, args.candidates, executor=executor, workers=args.workers):
                bar.set_postfix_str(describe(finished))
                bar.update()
                yield finished
    finally:
        if executor is not None:
            executor.close()


def _executor(args: argparse.Namespace):
    """A dask.distributed Client for --dask ADDRESS, or None for local processes."""
    if not args.dask:
        return None
    from dask.distributed import Client

    return Client(args.dask)


def _add_batch_options(parser: argparse.ArgumentParser, unit: str, ts_sigma: float, ts_help: str) -> None:
    """The options of both DFT batches: outputs, candidate draws, fan-out, quiet."""
    parser.add_argument("--out", metavar="DIR", help="write NAME.cube + NAME.json here (resumable)")
    parser.add_argument(
        "--candidates", metavar="FILE.h5", help="keep compact labels (candidate points + values) here (resumable)"
    )
    parser.add_argument("--random-points", type=int, default=1000, help=f"random-order candidates per {unit}")
    parser.add_argument("--ts-points", type=int, default=1000, help=f"TS-order candidates per {unit}")
    parser.add_argument("--ts-sigma", type=float, default=ts_sigma, help=ts_help)
    parser.add_argument("--seed", type=int, default=0, help="seed of the candidate draws (and of --qm9-sample)")
    parser.add_argument("--no-forces", action="store_true", help="skip the force calculation")
    parser.add_argument("--workers", type=int, default=1,
                        help="structures at once, each in its own process (default 1; mind --threads)")
    parser.add_argument("--dask", metavar="ADDRESS", help="dask.distributed scheduler to fan the structures out to")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dft", help="label structures with a DFT code", description=__doc__)
    codes = parser.add_subparsers(dest="code", metavar="CODE", required=True)
    pyscf = codes.add_parser(
        "pyscf",
        help="embedded PySCF engine (PBE, GTH pseudopotentials) for molecules",
        description="Valence densities of molecules with PySCF (PBE, GTH-DZVP, GTH-PBE).",
    )
    pyscf.add_argument("structures", nargs="*", metavar="STRUCTURE",
                       help="structure files ASE can read (every frame; info 'charge' and 'external_field' per frame)")
    pyscf.add_argument("--qm9", metavar="RANGE", help="QM9 indices, e.g. 1-20,25")
    pyscf.add_argument(
        "--allow-reserved", action="store_true", help="allow QM9 indices above 120000 (evaluation data only)"
    )
    pyscf.add_argument("--qm9-sample", type=int, metavar="N", help="draw N indices at random from the --qm9 range")
    engine = PySCFSettings()
    pyscf.add_argument("--spacing", type=float, default=engine.spacing, help="grid spacing in Å (default %(default)g)")
    pyscf.add_argument("--margin", type=float, default=engine.margin,
                       help="vacuum around the atoms in Å (default %(default)g)")
    pyscf.add_argument("--field", type=float, nargs=3, metavar=("EX", "EY", "EZ"), help="uniform field in V/Å")
    pyscf.add_argument("--basis", default=engine.basis, help="GTH-adapted Gaussian basis (default %(default)s)")
    pyscf.add_argument("--xc", default=engine.xc, help="exchange–correlation functional (default %(default)s)")
    pyscf.add_argument("--grid-level", type=int, default=engine.grid_level,
                       help="PySCF integration grid level (default %(default)d)")
    pyscf.add_argument("--threads", type=int,
                       help="PySCF threads per molecule (default: OMP_NUM_THREADS, or CPU count ÷ workers)")
    pyscf.add_argument("--frames", metavar="FILE.extxyz",
                       help="append each labelled structure with its energy, forces, charge and field (resumable)")
    _add_batch_options(pyscf, "molecule", 30.0, "TS σ in Å³/e (paper: 30 for QM9)")
    pyscf.set_defaults(func=run_pyscf_batch)

    cp2k = codes.add_parser(
        "cp2k",
        help="CP2K (GPW, PBE) for slabs and boxed molecules, in zero field and in --field",
        description="Densities in zero field and responses Δn = n_ε − n_0 in each --field, with CP2K "
        "(recipe: PBE, DZVP-MOLOPT-SR-GTH, GTH-PBE, PERIODIC XY + MT Poisson for a field along z).",
    )
    cp2k.add_argument("structures", nargs="+", metavar="STRUCTURE", help="structure files with cell and pbc")
    cp2k.add_argument("--field", type=float, nargs=3, action="append", metavar=("EX", "EY", "EZ"),
                      help="a field in V/Å (repeat for several)")
    recipe = Cp2kSettings()
    cp2k.add_argument("--cutoff", type=float, default=recipe.cutoff, help="plane-wave cutoff, Ry (default %(default)g)")
    cp2k.add_argument("--stride", type=int, default=recipe.cube_stride, help="density cube stride")
    cp2k.add_argument("--threads", type=int, default=recipe.threads, help="OMP_NUM_THREADS of each CP2K run")
    cp2k.add_argument("--max-scf", type=int, default=recipe.max_scf,
                      help="SCF steps before a run counts as failed (default %(default)d)")
    cp2k.add_argument("--mixing-alpha", type=float, default=recipe.mixing_alpha,
                      help="Broyden mixing fraction (default %(default)g)")
    cp2k.add_argument("--broyden-history", type=int, default=recipe.broyden_history,
                      help="NBROYDEN: earlier steps Broyden mixing uses (default %(default)d; "
                      "8 helps thick slabs in long cells)")
    _add_batch_options(cp2k, "grid", 300.0, "TS σ in Å³/e on |Δn| (300: 1e-3 e/Å³ is weighted e^-5.6)")
    cp2k.set_defaults(func=run_cp2k_batch)
