"""``echemml committee MODEL MODEL... -o OUT.pt``: one model file whose prediction is the members' mean.

The members are trained density or response models of one head and one set of
hyperparameters (e.g. `echemml fit` runs that differ in seed or validation
slabs). The output loads like any model file in `predict`, `response`,
`evaluate` and the Python API.
"""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from ..model import committee_from_files, model_summary, save_model

    committee = committee_from_files(args.members, metadata={"note": args.note} if args.note else None)
    save_model(committee, args.output, metadata=committee.metadata)
    print(model_summary(committee))
    print(f"wrote {args.output}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "committee",
        help="combine trained models into a committee that predicts their mean",
        description="Write one model file holding several trained density or response models "
        "(same head and hyperparameters); it predicts the members' mean at every point.",
    )
    parser.add_argument("members", nargs="+", metavar="MODEL", help="model files or shipped names (at least 2)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="committee model file to write (.pt)")
    parser.add_argument("--note", help="free text stored in the file's metadata (e.g. how the members were trained)")
    parser.set_defaults(func=run)
