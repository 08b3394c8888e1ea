"""``echemml fit CONFIG [--out DIR] [--cycles K] [--seed S]``: k cycles of (sample with the model's features → train)."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from ..training import load_config
    from ..training.fit import fit

    config = load_config(args.config)
    if args.cycles is not None:
        config.fit.cycles = args.cycles
    if args.seed is not None:
        config.training.seed = args.seed
    model_path = fit(config, args.out, progress_bar=not args.quiet)
    print(f"wrote      {model_path} after {config.fit.cycles} cycle(s)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit",
        help="sampling–training cycles: sample with the current model's features, train, repeat",
        description="Run k cycles of sampling (TS candidates kept by LIFS on the current model's "
        "features) and training (warm-started from the previous cycle), as the paper does. "
        "Rerunning continues: finished cycles are skipped, interrupted training resumes.",
    )
    parser.add_argument("config", metavar="CONFIG", help="YAML configuration with model.species and a fit section")
    parser.add_argument("--out", default="fit", metavar="DIR", help="output folder (default ./fit)")
    parser.add_argument("--cycles", type=int, metavar="K", help="number of cycles (default: the configuration's)")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="seed of the initial weights, split and shuffles (default: the configuration's); "
                        "fits that differ only in seed make a committee")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)
