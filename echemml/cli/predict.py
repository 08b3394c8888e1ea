"""``echemml predict MODEL INPUT -o OUT.cube``: a model's density (or response) on a grid.

INPUT is a density file (the prediction uses its grid and atoms) or any
structure file ase can read (the prediction uses a uniform grid: spanning the
cell for periodic structures, or the atoms' box plus a margin for molecules).
Prints the integrated prediction: the electron count for a density model.
"""

from __future__ import annotations

import argparse
import os
import time

import ase
import ase.io
import numpy as np

from ..analysis.bader import model_valence_charges
from ..errors import EchemmlError, InputFileError
from ..grid import DensityGrid, uniform_grid
from ..io import detect_format, format_from_name, read_density, write_density


def read_input(path: str, spacing: float, margin: float) -> tuple[DensityGrid, str]:
    """The grid to predict on, and a word for where it came from ('density file' or 'structure')."""
    if not os.path.exists(path):
        raise InputFileError(path, "no such file")
    if format_from_name(path):
        return read_density(path), "density file"
    try:
        atoms = ase.io.read(path)
    except Exception as structure_error:  # ase raises many kinds; try a density file next
        try:
            return read_density(path, format=detect_format(path)), "density file"
        except EchemmlError:
            raise InputFileError(
                path, f"neither a density file nor a structure ase can read ({structure_error})"
            ) from None
    return uniform_grid(atoms, spacing, margin, dtype=np.float32), "structure"


def set_model_valence(prediction: DensityGrid, model_metadata: dict) -> None:
    """Record the valence charges (e) the model was trained for as the grid's "valence_charges", when it lists them."""
    valence = model_valence_charges(model_metadata, prediction.atoms.get_chemical_symbols())
    if valence is not None:
        prediction.metadata["valence_charges"] = valence


def use_threads(threads: int | None) -> None:
    """Torch's intra-op threads for a prediction: THREADS when given, else torch's own
    (OMP_NUM_THREADS, or the core count) capped at the CPU count. Next to other busy
    processes (an MD run, DFT), pass 1: on 2 busy cores, 2 threads made the atoms'
    message passing 40–170 times slower than 1 thread (0.6–2.5 s against 15 ms per member)."""
    import torch

    torch.set_num_threads(threads or max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    """The ``--threads T`` option of the prediction commands."""
    parser.add_argument("--threads", type=positive_int, metavar="T",
                        help="CPU threads (default: OMP_NUM_THREADS, or the core count); 1 next to busy processes")


def run(args: argparse.Namespace) -> int:
    import torch

    from ..model import load_model, model_summary, predict_grid

    started = time.perf_counter()
    use_threads(args.threads)
    model = load_model(args.model)
    grid, source = read_input(args.input, args.spacing, args.margin)
    dtype = torch.float64 if args.float64 else torch.float32
    prediction = predict_grid(model, grid, field=args.field, dtype=dtype)
    if source == "structure":  # a DFT file's grid keeps the file's valence charges
        set_model_valence(prediction, model.metadata)
    write_density(prediction, args.output)
    shape = "×".join(str(n) for n in prediction.shape)
    print(model_summary(model))
    print(f"grid       {shape} = {prediction.npoints} points from the {source}")
    label = "electrons " if model.head == "density" else "∫Δn      "
    print(f"{label} {prediction.integral():.5f} e")
    print(f"wrote      {args.output} in {time.perf_counter() - started:.2f} s")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="predict a density (or response) on a grid with a model",
        description="Predict the electron density (or its field response) with a FIREANN "
        "model on the grid of a density file, or on a uniform grid around a structure, "
        "and write it as a cube file (e/Å³ converted to the file's units).",
    )
    parser.add_argument("model", metavar="MODEL", help="model file, or the name of a shipped model")
    parser.add_argument("input", metavar="INPUT", help="density file (cube, CHGCAR) or structure file (xyz, POSCAR, ...)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output density file (.cube)")
    parser.add_argument(
        "--field", type=float, nargs=3, metavar=("EX", "EY", "EZ"), default=None, help="uniform electric field, V/Å"
    )
    parser.add_argument("--spacing", type=float, default=0.1, metavar="H", help="grid spacing for structure input, Å (default 0.1)")
    parser.add_argument("--margin", type=float, default=4.0, metavar="M", help="vacuum around a molecule, Å (default 4)")
    parser.add_argument("--float64", action="store_true", help="compute in double precision (default float32)")
    add_threads_option(parser)
    parser.set_defaults(func=run)
