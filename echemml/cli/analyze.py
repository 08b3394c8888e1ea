"""``echemml analyze profile|esp|transfer|linescan|md``: numbers and plots from density files and MD runs.

- ``profile FILE...``: planar-integrated density λ(z) along an axis (e/Å).
- ``esp FILE...``: 1D Poisson ESP (V) of the file's electrons (for a response
  file: the response ESP), from its planar average.
- ``transfer FILE... [--reference ZERO_FIELD]``: a slab's response to a field:
  charge moved across the middle plane (e), per face, ESP drop (V) and ESP slope
  inside the metal (V/Å). FILE is Δn, or n_ε when a zero-field reference is given.
- ``linescan FILE --start A --end B``: density along a segment between atoms
  (index) or points ("x,y,z" in Å).
- ``md RUN``: an ``echemml md`` run folder: mean, std, min and max of every recorded
  series (per component), the atoms per Å along the axis (MDAnalysis LinearDensity,
  bins of ``--bins`` Å; periodic runs only) and, with ``--response-model``, the
  predicted induced charge λ(z) (e/Å) averaged over every ``--every``-th frame, each
  in its recorded field (else ``--field``). ``--plot``: the series against time
  beside the profiles.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ..analysis.electrostatics import esp_planar, slab_response
from ..analysis.profiles import line_scan, planar_profile
from ..errors import EchemmlError
from ..io import read_density
from .predict import add_threads_option, positive_int, use_threads


def _point(text: str) -> int | np.ndarray:
    """An atom index ("3") or a Cartesian point ("1.0,2.0,3.5", Å)."""
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        point = np.array([float(x) for x in text.split(",")])
    except ValueError:
        point = np.zeros(0)
    if point.shape != (3,):
        raise EchemmlError(f"not an atom index or an x,y,z point: {text!r}")
    return point


def _profile(args: argparse.Namespace) -> list[dict]:
    results, curves, z = [], {}, None
    for path in args.files:
        z, lam = planar_profile(read_density(path), args.axis)
        results.append({"file": path, "z_A": z.tolist(), "line_density_e_per_A": lam.tolist(),
                        "electrons": float(lam.sum() * (z[1] - z[0]))})
        curves[path] = lam
    if args.plot:
        from ..analysis.plots import profile_plot  # matplotlib only when a plot is asked for

        profile_plot(z, curves, args.plot)
    return results


def _esp(args: argparse.Namespace) -> list[dict]:
    results, curves, z = [], {}, None
    for path in args.files:
        grid = read_density(path)
        z, lam = planar_profile(grid, args.axis)
        esp = esp_planar(z, -lam, grid.plane_area(args.axis), boundary=args.boundary)
        results.append({"file": path, "z_A": z.tolist(), "esp_V": esp.tolist(), "esp_drop_V": float(esp[-1] - esp[0])})
        curves[path] = (lam, esp)
    if args.plot:
        from ..analysis.plots import response_profile_plot

        response_profile_plot(z, curves, args.plot, title="ESP of the electrons")
    return results


def _transfer(args: argparse.Namespace) -> list[dict]:
    reference = read_density(args.reference) if args.reference else None
    results, curves, response = [], {}, None
    for path in args.files:
        grid = read_density(path)
        response = grid.difference(reference) if reference is not None else grid
        numbers = slab_response(response, axis=args.axis, middle=args.middle)
        results.append({"file": path, **numbers.as_dict()})
        curves[path] = (numbers.line_density, numbers.esp)
    if args.plot:
        from ..analysis.plots import response_profile_plot

        response_profile_plot(
            numbers.z, curves, args.plot, atom_z=response.atoms.positions[:, args.axis], title="slab response"
        )
    return results


def _linescan(args: argparse.Namespace) -> list[dict]:
    results, curves, distance = [], {}, None
    for path in args.files:
        distance, values = line_scan(read_density(path), _point(args.start), _point(args.end), args.points, args.extend)
        results.append({"file": path, "distance_A": distance.tolist(), "density": values.tolist()})
        curves[path] = values
    if args.plot:
        from ..analysis.plots import line_scan_plot

        line_scan_plot(distance, curves, args.plot, title=f"{args.start} → {args.end}")
    return results


def _frame_fields(record: dict[str, np.ndarray], field: list[float] | None, run: str) -> np.ndarray:
    """Each recorded frame's field (V/Å): the record's ``field`` series, else ``--field`` for every frame."""
    if "field" in record:
        return np.asarray(record["field"], dtype=float).reshape(-1, 3)
    if field is None:
        raise EchemmlError(f"{run}: no field recorded; give the run's field with --field EX EY EZ (V/Å)")
    return np.tile(np.asarray(field, dtype=float), (len(record["step"]), 1))


def _md(args: argparse.Namespace) -> list[dict]:
    from ..analysis.md_run import atom_profile, series_components, series_summary
    from ..calculators.universe import read_run, run_universe

    if len(args.files) != 1:
        raise EchemmlError(f"md: give one run folder, not {len(args.files)}")
    run = args.files[0]
    frames, record = read_run(run)
    notes, induced = [], None
    if args.response_model:
        from ..model import load_model
        from ..workflows import mean_induced_profile

        fields = _frame_fields(record, args.field, run)
        if "field" in record and args.field is not None:
            notes.append("--field ignored: the run recorded each frame's field")
        model = load_model(args.response_model)
        if model.head != "response":
            raise EchemmlError(f"{args.response_model}: a {model.head} model; --response-model needs a response model")
        use_threads(args.threads)
        chosen = slice(None, None, args.every or 1)
        induced = mean_induced_profile(frames[chosen], fields[chosen], model, axis=args.axis, spacing=args.spacing)
    symbols = frames[0].get_chemical_symbols()
    summary = series_summary(record, symbols)
    profile = atom_profile(run_universe(run), args.axis, args.bins)
    if profile is None:
        notes.append("no atom profile: the run is not periodic (LinearDensity needs a box)")
    time_ps = np.asarray(record["time"], dtype=float) / 1000.0
    result = {
        "run": run, "frames": len(time_ps), "time_ps": [float(time_ps[0]), float(time_ps[-1])], "atoms": len(symbols),
        "series": {name: numbers.as_dict() for name, numbers in summary.items()},
        "atom_profile": profile.as_dict() if profile is not None else None,
        "induced_profile": induced.as_dict() if induced is not None else None,
        "notes": notes,
    }
    if args.plot:
        from ..analysis.plots import md_run_plot

        series = {}
        for name, numbers in summary.items():
            values, labels = series_components(name, record[name], symbols)
            series[name] = (values, labels, numbers.unit)
        profiles = {}
        if profile is not None:
            profiles["atoms per Å"] = (profile.z, profile.atoms_per_A)
        if induced is not None:
            profiles[f"mean induced λ (e/Å), {induced.frames} frames"] = (induced.z, induced.line_density)
        md_run_plot(time_ps, series, profiles, args.plot, profile_xlabel=f"{'xyz'[args.axis]} (Å)", title=run)
    return [result]


def _print_md(result: dict) -> None:
    times = result["time_ps"]
    print(f"{result['run']}: {result['frames']} frames, {result['atoms']} atoms, {times[0]:.4f}–{times[1]:.4f} ps")
    print(f"  {'series':<24} {'unit':<6} {'mean':>11} {'std':>11} {'min':>11} {'max':>11}")
    for name, numbers in result["series"].items():
        labels = numbers.get("components")
        if labels is None:
            rows = [(name, numbers["mean"], numbers["std"], numbers["min"], numbers["max"])]
        elif len(labels) <= 6:
            rows = [(f"{name}[{label}]", *(numbers[key][i] for key in ("mean", "std", "min", "max")))
                    for i, label in enumerate(labels)]
        else:  # per-atom: the range of the components' statistics
            rows = [(f"{name} (mean of {len(labels)})", *(float(np.mean(numbers[key])) for key in ("mean", "std")),
                     min(numbers["min"]), max(numbers["max"]))]
        for label, mean, std, low, high in rows:
            print(f"  {label:<24} {numbers['unit']:<6} {mean:>11.5g} {std:>11.5g} {low:>11.5g} {high:>11.5g}")
    profile = result["atom_profile"]
    if profile is not None:
        print(f"  atom profile: {len(profile['z_A'])} bins of {profile['bin_width_A']:.4f} Å, "
              f"∫ = {profile['atoms']:.3f} atoms, {profile['frames']} frames")
    induced = result["induced_profile"]
    if induced is not None:
        print(f"  induced charge ({induced['frames']} frames): below z = {induced['middle_A']:.3f} Å "
              f"{induced['lower_e']:+.4f} e, above {induced['upper_e']:+.4f} e, net {induced['net_e']:+.2e} e")
    for note in result["notes"]:
        print(f"  note: {note}")


def _print(results: list[dict], kind: str) -> None:
    for result in results:
        if kind == "md":
            _print_md(result)
        elif kind == "transfer":
            print(
                f"{result['file']}: transfer {result['transfer_e']:.4f} e (left {result['left_e']:+.4f}, "
                f"right {result['right_e']:+.4f}, net {result['net_e']:+.2e}); ESP drop {result['esp_drop_V']:+.4f} V; "
                f"slope inside {result['esp_slope_inside_V_per_A']:+.4f} V/Å"
            )
        elif kind == "profile":
            print(f"{result['file']}: {len(result['z_A'])} planes, ∫λ dz = {result['electrons']:.5f} e")
        elif kind == "esp":
            print(f"{result['file']}: ESP drop across the cell {result['esp_drop_V']:+.4f} V")
        else:
            values = np.array(result["density"])
            print(f"{result['file']}: {len(values)} points over {result['distance_A'][-1]:.3f} Å, "
                  f"max {values.max():.5g} e/Å³")


ACTIONS = {"profile": _profile, "esp": _esp, "transfer": _transfer, "linescan": _linescan, "md": _md}


def run(args: argparse.Namespace) -> int:
    results = ACTIONS[args.what](args)
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=1))
    else:
        _print(results, args.what)
    if args.plot:
        print(f"plot written to {args.plot}", file=sys.stderr if args.json else sys.stdout)  # JSON stays parseable
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("analyze", help="profiles, ESP, charge transfer, line scans, MD runs",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=sorted(ACTIONS), help="which analysis")
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="density or response files (cube, CHGCAR); md: the run folder (echemml md -o RUN)")
    parser.add_argument("--axis", type=int, default=2, choices=(0, 1, 2), help="grid axis normal to the planes (default 2)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--plot", metavar="PNG", help="write a plot")
    parser.add_argument("--boundary", choices=("open", "periodic"), default="open", help="esp: boundary along the axis")
    parser.add_argument("--reference", metavar="FILE", help="transfer: zero-field density; FILE is then n_ε")
    parser.add_argument("--middle", type=float, help="transfer: dividing plane in Å (default: the slab's centre)")
    parser.add_argument("--start", default="0", help="linescan: atom index or x,y,z (Å)")
    parser.add_argument("--end", default="1", help="linescan: atom index or x,y,z (Å)")
    parser.add_argument("--points", type=int, default=200, help="linescan: number of points")
    parser.add_argument("--extend", type=float, default=0.0, help="linescan: Å beyond each end")
    parser.add_argument("--bins", type=float, default=0.1, metavar="DZ", help="md: atom profile bin width, Å (default 0.1)")
    parser.add_argument("--response-model", metavar="MODEL",
                        help="md: response model (file or shipped name) for the mean induced charge profile")
    parser.add_argument("--field", type=float, nargs=3, metavar=("EX", "EY", "EZ"),
                        help="md: the run's field, V/Å, when it recorded none")
    parser.add_argument("--spacing", type=float, default=0.2, metavar="H",
                        help="md: grid spacing of the predicted response, Å (default 0.2)")
    parser.add_argument("--every", type=positive_int, metavar="N",
                        help="md: predict the response on every N-th recorded frame (default: all)")
    add_threads_option(parser)
    parser.set_defaults(func=run)
