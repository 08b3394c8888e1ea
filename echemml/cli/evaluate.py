"""``echemml evaluate MODEL FILES... [--field EX EY EZ] [--reference ZERO_FIELD...] [--json] [--plot PNG]``.

Density and response models: predicts each density file's whole grid and reports
NMAE (%), RMSE and R² (e/Å³) and the integrated electrons of reference and
prediction, per file and on average. A response model compares
Δn = n(FILE) − n(ZERO_FIELD) with its prediction in --field.

Energy models (and committees of them): FILES are extxyz files of labelled frames
(DFT energy and forces, each frame's net charge and field in its info line); reports
the energy error per atom (meV/atom) and the force error per component (meV/Å), per
file, by field strength |ε| and over all frames, and a committee's mean spread.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import EchemmlError
from ..io.files import strip_compression_suffix

LABELLED_FRAME_SUFFIXES = (".xyz", ".extxyz")


def _print_table(report: dict, head: str) -> None:
    label = "electrons (ref / model)" if head == "density" else "∫Δn (ref / model)"
    width = max(len("file"), *(len(row["file"]) for row in report["files"]))
    print(f"{'file':<{width}}  {'NMAE %':>8}  {'RMSE e/Å³':>10}  {'R²':>8}  {label}")
    for row in report["files"]:
        print(
            f"{row['file']:<{width}}  {row['nmae']:8.3f}  {row['rmse']:10.3e}  {row['r2']:8.5f}  "
            f"{row['electrons_ref']:.4f} / {row['electrons_pred']:.4f}"
        )
    print(f"{'mean':<{width}}  {report['mean_nmae']:8.3f}  {report['mean_rmse']:10.3e}")


def _print_energy_table(report: dict) -> None:
    """Per file, per |ε| bin and overall: frames, energy MAE (meV/atom), force MAE and RMSE (meV/Å)."""
    rows = [(row["file"], row) for row in report["files"]]
    rows += [(f"|ε| {row['field_V_per_A']} V/Å", row) for row in report["by_field"]]
    width = max(len(name) for name, _ in [*rows, ("all frames", None)])
    header = f"{'':<{width}}  {'frames':>6}  {'E MAE meV/atom':>14}  {'F MAE meV/Å':>11}  {'F RMSE meV/Å':>12}"
    print(header)
    for index, (name, row) in enumerate([*rows, ("all frames", report)]):
        if index in (len(report["files"]), len(rows)):
            print("-" * len(header))
        rmse = f"{row['forces_rmse_meV_per_A']:12.2f}" if "forces_rmse_meV_per_A" in row else ""
        print(f"{name:<{width}}  {row['frames']:6d}  {row['energy_mae_meV_per_atom']:14.3f}  "
              f"{row['forces_mae_meV_per_A']:11.2f}  {rmse}".rstrip())
    if "energy_std_mean_meV_per_atom" in report:
        print(f"committee spread: energy {report['energy_std_mean_meV_per_atom']:.3f} meV/atom, "
              f"forces {report['forces_std_mean_meV_per_A']:.2f} meV/Å (mean std)")


def _refuse_labelled_frames(files: list[str], head: str) -> None:
    """A density or response model given an extxyz: say what it needs instead of failing to read a grid."""
    for path in files:
        if strip_compression_suffix(Path(path).name).lower().endswith(LABELLED_FRAME_SUFFIXES):
            raise EchemmlError(f"{path}: a {head} model is evaluated on density files (cube, CHGCAR), "
                               "not labelled frames; give an energy model for extxyz files")


def _run_energy(args: argparse.Namespace, model) -> dict:
    from ..training.energy_evaluation import evaluate_energy

    for option, value in (("--field", args.field), ("--reference", args.reference)):
        if value is not None:
            raise EchemmlError(f"{option} is for density and response models; an energy model takes each "
                               "frame's field and charge from its extxyz info line")
    return evaluate_energy(model, args.files, parity_plot=args.plot)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..model import load_model
    from ..training.evaluation import evaluate

    model = load_model(args.model)
    if model.head == "energy":
        report = _run_energy(args, model)
    else:
        _refuse_labelled_frames(args.files, model.head)
        report = evaluate(
            model, args.files, field=args.field, references=args.reference,
            dtype=torch.float64 if args.float64 else torch.float32, parity_plot=args.plot,
        )
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if model.head == "energy":
        _print_energy_table(report)
    else:
        _print_table(report, model.head)
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="compare a model with DFT: whole-grid densities (NMAE, RMSE, R²) or labelled frames (energy, force MAE)",
        description="Density and response models: predict every grid point of each reference density file and "
        "report NMAE (100·Σ|n_ref − n_pred|/Σ|n_ref|, %), RMSE and R² (e/Å³) and the integrated electrons, "
        "per file and on average; for a response model give the field and the zero-field files, the metrics are "
        "then on Δn. Energy models: FILES are extxyz files of labelled frames (DFT energy and forces; charge and "
        "field in each frame's info line); report the energy MAE and RMSE per atom (meV/atom) and the force MAE "
        "and RMSE per component (meV/Å), per file, by field strength |ε| and overall, and a committee's spread.",
    )
    parser.add_argument("model", metavar="MODEL", help="model file, or the name of a shipped model")
    parser.add_argument(
        "files", nargs="+", metavar="FILES",
        help="reference density files (cube, CHGCAR), or for an energy model extxyz files of labelled frames",
    )
    parser.add_argument(
        "--field", type=float, nargs=3, metavar=("EX", "EY", "EZ"), default=None,
        help="uniform electric field, V/Å (density and response models)",
    )
    parser.add_argument(
        "--reference", nargs="+", metavar="ZERO_FIELD_FILES", default=None,
        help="zero-field densities, one per file (response models: the reference is Δn = FILE − ZERO_FIELD)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--plot", metavar="PNG",
        help="write a parity plot: every grid point, or an energy model's energies per atom and force components",
    )
    parser.add_argument(
        "--float64", action="store_true",
        help="predict densities in double precision (default float32; energy models always use float64)",
    )
    parser.set_defaults(func=run)
