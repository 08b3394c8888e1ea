"""``echemml committee MODEL MODEL... -o OUT.pt``: one model file whose prediction is the members' mean.

The members are trained models of one head (density, response or energy) and one
set of hyperparameters (e.g. `echemml fit` or `echemml train` runs that differ in
seed). The output loads like any model file in `predict`, `response`, `evaluate`,
`md`, the calculator and the Python API; an energy committee also gives the
members' spread (``energy_std``, ``forces_std``).

When every member is a model file with the training log that `echemml train`
writes beside it (``log.csv``), the logs are combined into ``OUT.log.csv`` (a
leading ``member`` column, numbered in the command's order) and drawn in
``OUT.learning_curve.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from ..model import committee_from_files, model_summary, save_model

    committee = committee_from_files(args.members, metadata={"note": args.note} if args.note else None)
    save_model(committee, args.output, metadata=committee.metadata)
    print(model_summary(committee))
    print(f"wrote {args.output}")
    for path in combine_member_logs(args.members, Path(args.output)):
        print(f"wrote {path}")
    return 0


def combine_member_logs(members: list[str], output: Path) -> list[Path]:
    """The members' training logs as OUT.log.csv and OUT.learning_curve.png; none unless every member has one."""
    from ..training.log import read_log, write_member_learning_curves, write_member_logs
    from ..training.trainer import LOG_NAME

    log_paths = [Path(member).parent / LOG_NAME for member in members]
    if not all(Path(member).is_file() and log.is_file() for member, log in zip(members, log_paths)):
        return []
    logs = {f"member {index}": read_log(log) for index, log in enumerate(log_paths, start=1)}
    stem = output.with_suffix("")
    return [write_member_logs(logs, f"{stem}.log.csv"), write_member_learning_curves(logs, f"{stem}.learning_curve.png")]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "committee",
        help="combine trained models into a committee that predicts their mean",
        description="Write one model file holding several trained density, response or energy models "
        "(same head and hyperparameters); it predicts the members' mean (and, for energies and forces, "
        "their standard deviation).",
    )
    parser.add_argument("members", nargs="+", metavar="MODEL", help="model files or shipped names (at least 2)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="committee model file to write (.pt)")
    parser.add_argument("--note", help="free text stored in the file's metadata (e.g. how the members were trained)")
    parser.set_defaults(func=run)
