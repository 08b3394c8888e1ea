"""``echemml analyze profile|esp|transfer|linescan``: numbers and plots from density files.

- ``profile FILE...``: planar-integrated density λ(z) along an axis (e/Å).
- ``esp FILE...``: 1D Poisson ESP (V) of the file's electrons (for a response
  file: the response ESP), from its planar average.
- ``transfer FILE... [--reference ZERO_FIELD]``: a slab's response to a field:
  charge moved across the middle plane (e), per face, ESP drop (V) and ESP slope
  inside the metal (V/Å). FILE is Δn, or n_ε when a zero-field reference is given.
- ``linescan FILE --start A --end B``: density along a segment between atoms
  (index) or points ("x,y,z" in Å).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from ..analysis.electrostatics import esp_planar, slab_response
from ..analysis.profiles import line_scan, planar_profile
from ..errors import EchemmlError
from ..io import read_density


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


def _print(results: list[dict], kind: str) -> None:
    for result in results:
        if kind == "transfer":
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


ACTIONS = {"profile": _profile, "esp": _esp, "transfer": _transfer, "linescan": _linescan}


def run(args: argparse.Namespace) -> int:
    results = ACTIONS[args.what](args)
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=1))
    else:
        _print(results, args.what)
    if args.plot:
        print(f"plot written to {args.plot}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("analyze", help="profiles, ESP, charge transfer, line scans", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=sorted(ACTIONS), help="which analysis")
    parser.add_argument("files", nargs="+", metavar="FILE", help="density or response files (cube, CHGCAR)")
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
    parser.set_defaults(func=run)
