"""``echemml novelty MODEL STRUCTURE``: how new a configuration is to a model (LIFS residual), and where.

Scores STRUCTURE against the model's novelty basis — the LIFS basis of the feature
vectors of its training samples — and prints the frame's largest (``max``) and mean
residual over its atoms and random ghost points within the cutoff: ≈ 0 where the model
interpolates, up to 1 where it meets environments it was never trained on. With ``-o``
it writes the novelty map, each grid point's residual, as a cube file (the values are the
dimensionless residual itself, 0 beyond the cutoff) to view in VESTA or OVITO.

Build the basis first from the model's sample set:

    echemml novelty MODEL --build SAMPLES.h5 [-o BASIS.h5] [--threshold T]

By default the basis is ``<model stem>.novelty.h5`` next to the model file (a shipped
model needs ``-o`` to build and ``--basis`` to score).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import EchemmlError, InputFileError
from .predict import add_threads_option, positive_int, use_threads

BASIS_SUFFIX = ".novelty.h5"


def model_file(model: str) -> tuple[Path, bool]:
    """The file of a model that loaded, and whether it is a shipped model (MODEL names a file or a shipped model)."""
    from ..pretrained import model_path

    path = Path(model)
    return (path, False) if path.exists() else (model_path(model), True)


def default_basis(model: str) -> Path:
    """``<model stem>.novelty.h5`` next to the model's file."""
    path, _ = model_file(model)
    return path.with_name(path.stem + BASIS_SUFFIX)


def read_structure(path: str, species: tuple[int, ...]):
    """The structure in ``path``; a missing or unreadable file, or an element the model lacks, names the file."""
    import ase.io
    from ase.data import chemical_symbols

    if not Path(path).is_file():
        raise InputFileError(path, "no such structure file")
    try:
        atoms = ase.io.read(path)
    except Exception as exc:  # ase raises many kinds for files it cannot parse
        raise InputFileError(path, f"not a structure ase can read ({exc})") from None
    unknown = sorted({int(z) for z in atoms.numbers} - set(species))
    if unknown:
        raise InputFileError(
            path, f"element(s) {', '.join(chemical_symbols[z] for z in unknown)} unknown to the model "
            f"(it knows {', '.join(chemical_symbols[z] for z in species)})"
        )
    return atoms


def build(args: argparse.Namespace, model) -> int:
    from ..io.samples import SampleSet
    from ..protocols.novelty import build_basis

    _, shipped = model_file(args.model)
    if args.output is None and shipped:
        raise EchemmlError(f"{args.model} is a shipped model: give -o BASIS.h5 for its novelty basis")
    output = Path(args.output) if args.output else default_basis(args.model)
    with SampleSet(args.build) as samples:
        threshold = {} if args.threshold is None else {"threshold": args.threshold}
        basis = build_basis(model, samples, seed=args.seed, model_name=args.model, samples=str(args.build), **threshold)
    basis.save(output)
    atoms = ", ".join(f"{symbol} {len(rows)} of {basis.n_atoms_seen[symbol]}" for symbol, rows in sorted(basis.atoms.items()))
    print(f"novelty basis of {args.model} from {basis.n_configurations} configurations of {args.build}, "
          f"threshold {basis.threshold:g}")
    print(f"ghost points  {len(basis.ghost)} of {basis.n_ghost_seen} vectors kept ({basis.n_features} features)")
    print(f"atoms         {atoms}")
    print(f"wrote         {output}")
    return 0


def score(args: argparse.Namespace, model) -> int:
    from ..io import write_cube
    from ..protocols.novelty import NoveltyBasis, novelty_grid, score_frame

    atoms = read_structure(args.structure, model.species)
    basis_path = Path(args.basis) if args.basis else default_basis(args.model)
    if not basis_path.is_file():
        raise InputFileError(basis_path, "no such novelty basis file; build it with "
                                         f"`echemml novelty {args.model} --build SAMPLES.h5`")
    basis = NoveltyBasis.load(basis_path)
    try:
        basis.check_model(model)
    except EchemmlError as exc:
        raise InputFileError(basis_path, str(exc)) from None
    field = args.field if args.field is not None else atoms.info.get("external_field")
    points = {} if args.points is None else {"n_points": args.points}
    frame = score_frame(model, atoms, basis, field=field, seed=args.seed, **points)
    result = {"structure": args.structure, "model": args.model, "basis": str(basis_path), **frame.summary()}
    if args.output:
        grid = novelty_grid(model, atoms, basis, spacing=args.spacing, margin=args.margin, field=field)
        write_cube(grid, args.output, per_volume=False, comment=f"LIFS novelty residual (dimensionless) of {args.structure} for {args.model}")
        result["map"] = {"file": args.output, "shape": list(grid.shape), "max": float(grid.values.max())}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    atom = result["most_novel_atom"]
    print(f"novelty  max {result['max']:.4f}, mean {result['mean']:.4f} (dimensionless LIFS residual)")
    print(f"atoms    max {result['atoms_max']:.4f}: atom {atom['index']} ({atom['element']})")
    print(f"ghosts   max {result['ghost_max']:.4f} over {result['n_ghost_points']} points within {model.cutoff:g} Å")
    if args.output:
        shape = "×".join(str(n) for n in result["map"]["shape"])
        print(f"wrote    {args.output}: novelty map on {shape} points, max {result['map']['max']:.4f}")
    return 0


def run(args: argparse.Namespace) -> int:
    from ..model import load_model

    if (args.structure is None) == (args.build is None):
        raise EchemmlError("give a STRUCTURE to score, or --build SAMPLES.h5 to build a novelty basis (not both)")
    use_threads(args.threads)
    model = load_model(args.model)
    return build(args, model) if args.build else score(args, model)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "novelty", help="how new a structure is to a model (LIFS residual), and a novelty map",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="model file, or the name of a shipped model")
    parser.add_argument("structure", metavar="STRUCTURE", nargs="?", help="structure file to score (xyz, POSCAR, ...)")
    parser.add_argument("--build", metavar="SAMPLES.h5", help="build the novelty basis from this sample set")
    parser.add_argument("--basis", metavar="B.h5", help="novelty basis (default: <model stem>.novelty.h5 next to the model)")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="scoring: write the novelty map (.cube); --build: the basis file")
    parser.add_argument("--threshold", type=float, metavar="T",
                        help="--build: LIFS residual above which a vector joins the basis (default 0.01)")
    parser.add_argument("--field", type=float, nargs=3, metavar=("EX", "EY", "EZ"), default=None,
                        help="uniform electric field, V/Å (default: the structure's external_field, else none)")
    parser.add_argument("--points", type=positive_int, metavar="N", help="random ghost points to score (default 500)")
    parser.add_argument("--spacing", type=float, default=0.2, metavar="S", help="novelty map grid spacing, Å (default 0.2)")
    parser.add_argument("--margin", type=float, default=4.0, metavar="M", help="vacuum around a molecule, Å (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the ghost points and of LIFS's order")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_threads_option(parser)
    parser.set_defaults(func=run)
