"""``echemml evaluate MODEL FILES... [--field EX EY EZ] [--reference ZERO_FIELD...] [--json] [--plot PNG]``.

Predicts each file's whole grid and reports NMAE (%), RMSE and R² (e/Å³) and
the integrated electrons of reference and prediction, per file and on average.
A response model compares Δn = n(FILE) − n(ZERO_FIELD) with its prediction in --field.
"""

from __future__ import annotations

import argparse
import json


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


def run(args: argparse.Namespace) -> int:
    import torch

    from ..model import load_model
    from ..training.evaluation import evaluate

    model = load_model(args.model)
    report = evaluate(
        model, args.files, field=args.field, references=args.reference,
        dtype=torch.float64 if args.float64 else torch.float32, parity_plot=args.plot,
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report, model.head)
        if args.plot:
            print(f"wrote {args.plot}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="compare a model's whole-grid prediction with DFT densities (NMAE, RMSE, R²)",
        description="Predict every grid point of each reference density file and report NMAE "
        "(100·Σ|n_ref − n_pred|/Σ|n_ref|, %), RMSE and R² (e/Å³) and the integrated electrons, "
        "per file and on average. For a response model give the field and the zero-field files: "
        "the metrics are then on Δn.",
    )
    parser.add_argument("model", metavar="MODEL", help="model file, or the name of a shipped model")
    parser.add_argument("files", nargs="+", metavar="FILES", help="reference density files (cube, CHGCAR)")
    parser.add_argument(
        "--field", type=float, nargs=3, metavar=("EX", "EY", "EZ"), default=None, help="uniform electric field, V/Å"
    )
    parser.add_argument(
        "--reference", nargs="+", metavar="ZERO_FIELD_FILES", default=None,
        help="zero-field densities, one per file (response models: the reference is Δn = FILE − ZERO_FIELD)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--plot", metavar="PNG", help="write a parity plot of every grid point")
    parser.add_argument("--float64", action="store_true", help="predict in double precision (default float32)")
    parser.set_defaults(func=run)
