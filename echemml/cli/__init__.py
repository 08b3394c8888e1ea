"""The ``echemml`` command line: one entry point, one module per verb.

Each verb module defines ``register(subparsers)``, which adds its parser and sets
``func`` to a function taking the parsed arguments and returning an exit code.
A command imports only its own verb's module (``echemml response`` need not load
the DFT drivers, HDF5 or the sampler); ``echemml --help`` and a mistyped verb
load them all.
Errors a user can fix (:class:`echemml.errors.EchemmlError`) print one line to
standard error and exit with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import EchemmlError

VERBS = (
    "dft", "info", "sample", "train", "fit", "committee", "predict", "evaluate", "response", "analyze", "bader", "md",
    "novelty", "learn",
)


def build_parser(verbs: Sequence[str] = VERBS) -> argparse.ArgumentParser:
    """The argument parser with ``verbs`` (default: every verb), in the order of :data:`VERBS`."""
    parser = argparse.ArgumentParser(
        prog="echemml",
        description="Machine-learned electron densities and field responses on DFT grids.",
    )
    parser.add_argument("--version", action="version", version=f"echemml {__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS:
        if verb in verbs:
            importlib.import_module(f"{__name__}.{verb}").register(subparsers)
    return parser


def _stop(signum, frame) -> None:
    """SIGTERM: stop the programs this one started (CP2K under custodian, worker
    processes), which would otherwise run on, then stop like Ctrl-C."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.terminate()
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 success, 2 bad input, 130 stopped).

    SIGTERM stops like Ctrl-C: long jobs (DFT batches, sampling) close their
    output files cleanly, and whatever they finished stays for a resumed run.
    Jobs started in the background by a non-interactive shell ignore SIGINT, so
    `kill PID` is the way to stop them.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    verb = next((word for word in argv if not word.startswith("-")), None)
    args = build_parser([verb] if verb in VERBS else VERBS).parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    try:
        return int(args.func(args) or 0)
    except EchemmlError as exc:
        print(f"echemml: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("echemml: interrupted", file=sys.stderr)
        return 130
