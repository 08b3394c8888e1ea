"""``echemml sample``: draw training points from densities into an HDF5 sample set.

Sources are density files (cube, CHGCAR), (field, zero-field) file pairs for a
response (``--reference``), or the compact labels of a candidate store
(``--candidates``, one or more stores). Configurations already in the output (same content hash)
are skipped, so an interrupted run resumes. Prints, per run, the points kept per
configuration, the fraction of the grid, and a histogram of the kept densities.
"""

from __future__ import annotations

import argparse
import fnmatch

import numpy as np
from tqdm import tqdm

from ..errors import EchemmlError
from ..io.candidates import CandidateStore
from ..io.samples import SampleSet
from ..sampling.driver import METHODS, SamplerSettings, Source, sample_configurations, sources_from_paths

DEFAULT_SPECIES = {"qm9": (1, 6, 7, 8, 9), "h2o-pt": (1, 8, 78), "au-response": (79,)}


def feature_model(args: argparse.Namespace):
    """The model whose ghost-point features LIFS screens: --model, or a fresh --preset one."""
    import torch

    from ..model import build_model, load_model, preset_config

    if args.model:
        model = load_model(args.model)
        if len(model.members) > 1:
            raise EchemmlError(f"{args.model}: a committee has no features of its own; give one of its members")
        return model
    species = args.species or DEFAULT_SPECIES.get(args.preset)
    if not species:
        raise EchemmlError(f"say which elements the fresh {args.preset} model knows: --species 1 6 8 ...")
    torch.manual_seed(args.seed)
    return build_model(preset_config(args.preset, species), "response" if args.reference else "density")


def _sources(args: argparse.Namespace) -> list[Source]:
    sources = sources_from_paths(args.files, args.reference, args.field) if args.files else []
    patterns = args.names or []
    matched: set[str] = set()
    for path in args.candidates or []:
        with CandidateStore(path) as store:
            names = [name for name in store.names() if not patterns or _matches(name, patterns, matched)]
            sources += [Source(candidates=store[name]) for name in names]
    missing = [pattern for pattern in patterns if pattern not in matched]
    if args.candidates and missing:
        raise EchemmlError(f"{', '.join(args.candidates)}: no configurations match {', '.join(missing[:5])}")
    if not sources:
        raise EchemmlError("nothing to sample: give density files or --candidates STORE.h5")
    return sources


def _matches(name: str, patterns: list[str], matched: set[str]) -> bool:
    """Whether ``name`` matches one of the shell ``patterns``; records in ``matched`` those that did."""
    hits = [pattern for pattern in patterns if fnmatch.fnmatchcase(name, pattern)]
    matched.update(hits)
    return bool(hits)


def _histogram(values: np.ndarray, bins: int = 8) -> str:
    """A text histogram of densities on a log scale (e/Å³)."""
    positive = values[values > 0]
    if len(positive) == 0:
        return "  (no positive values)"
    edges = np.logspace(np.log10(positive.min()), np.log10(positive.max()), bins + 1)
    counts, _ = np.histogram(positive, edges)
    width = max(counts.max(), 1)
    return "\n".join(
        f"  {low:9.2e}–{high:9.2e} e/Å³ {'█' * int(round(30 * count / width)):<30} {count}"
        for low, high, count in zip(edges[:-1], edges[1:], counts)
    )


def run(args: argparse.Namespace) -> int:
    settings = SamplerSettings(
        method=args.method, n_points=args.n_points, ts_points=args.ts_points, ts_sigma=args.ts_sigma,
        uniform_fraction=args.uniform_fraction, lifs_threshold=args.lifs_threshold, seed=args.seed,
    )
    sources = _sources(args)
    model = feature_model(args) if settings.method == "ts+lifs" else None
    executor = None
    if args.dask:
        from dask.distributed import Client

        executor = Client(args.dask)
    kept, fractions, values = [], [], []
    with SampleSet(args.output, "a") as samples:
        known = samples.sources()
        todo = [source for source in sources if source.identity() not in known]
        if len(todo) < len(sources):
            print(f"{len(sources) - len(todo)} of {len(sources)} configurations already in {args.output}, skipping")
        results = sample_configurations(todo, settings, model, executor=executor, workers=args.workers)
        for _, sampled in tqdm(results, total=len(todo), unit="config", disable=args.quiet or not todo):
            samples.append(sampled)
            kept.append(len(sampled.targets))
            fractions.append(len(sampled.targets) / sampled.provenance["n_grid_points"])
            values.append(sampled.targets)
        total = len(samples)
    if kept:
        all_values = np.concatenate(values)
        print(
            f"sampled {len(kept)} configurations with {args.method}: {np.mean(kept):.1f} points each "
            f"(min {min(kept)}, max {max(kept)}), {100 * np.mean(fractions):.4f}% of the grid"
        )
        print(f"kept values, {len(all_values)} points:\n{_histogram(np.abs(all_values))}")
    print(f"{args.output} holds {total} configurations")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample", help="draw training points (random, TS, TS+LIFS) into a sample set", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="density files (with --reference: field files)")
    parser.add_argument("--candidates", nargs="+", metavar="STORE.h5", help="compact DFT labels to sample from")
    parser.add_argument("--names", nargs="+", metavar="NAME", help="with --candidates: only the configurations these names or shell patterns (e.g. \"train_L4_*\") match")
    parser.add_argument("--reference", nargs="+", metavar="ZERO", help="zero-field files: sample Δn = FILE − ZERO")
    parser.add_argument("--field", type=float, nargs=3, metavar=("EX", "EY", "EZ"), help="field of the files, V/Å")
    parser.add_argument("--method", choices=METHODS, default="ts+lifs")
    parser.add_argument("--n-points", type=int, default=100, help="points per configuration (random, ts)")
    parser.add_argument("--ts-points", type=int, default=1000, help="TS candidates that LIFS screens")
    parser.add_argument("--ts-sigma", type=float, default=30.0, help="σ of Eq. 5, Å³/e (default 30)")
    parser.add_argument("--uniform-fraction", type=float, default=0.0, help="share of uniform draws in TS")
    parser.add_argument("--lifs-threshold", type=float, default=0.1, help="LIFS residual threshold")
    parser.add_argument("--model", help="model file or shipped name whose features LIFS uses")
    parser.add_argument("--preset", default="qm9", help="fresh model preset when --model is absent")
    parser.add_argument("--species", type=int, nargs="+", help="atomic numbers of a fresh model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, help="local processes (default: CPU count)")
    parser.add_argument("--dask", metavar="ADDRESS", help="dask.distributed scheduler to fan out to")
    parser.add_argument("-o", "--output", required=True, metavar="SAMPLES.h5")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
