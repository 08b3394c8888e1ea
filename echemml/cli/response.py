"""``echemml response MODEL INPUT --field EX EY EZ``: an electrode's response to a field.

Predicts Δn(r; ε) with a response model on the grid of a density file, or on a
grid spanning the cell of a structure (a slab with vacuum, pbc T T F), then
reports what the paper's Fig. 6 shows: the charge moved across the slab's middle
plane and to each face (e), the response ESP drop across the cell (V) and the
response ESP slope inside the metal (V/Å). The net charge the model predicts is
removed (in proportion to |Δn|) unless ``--no-neutralize``; the correction is reported.
A committee's numbers come from its members' mean Δn; each member's transfer and
slope, and their standard deviations, are reported too (key ``committee`` of the
JSON): the members disagree most where the model is least sure.
"""

from __future__ import annotations

import argparse
import json

from ..errors import EchemmlError
from ..io import write_density
from .predict import add_threads_option, read_input, use_threads


def run(args: argparse.Namespace) -> int:
    from ..model import load_model
    from ..workflows import predict_slab_response

    use_threads(args.threads)
    model = load_model(args.model)
    if model.head != "response":
        raise EchemmlError(f"{args.model}: a {model.head} model; `echemml response` needs a response model")
    grid, _ = read_input(args.input, args.spacing, margin=0.0)
    prediction = predict_slab_response(model, grid, args.field, axis=args.axis, middle=args.middle,
                                       neutralize=not args.no_neutralize)
    response, numbers, predicted_net = prediction.response, prediction.numbers, prediction.predicted_net_e
    spread = prediction.committee_spread()
    result = {
        "input": args.input,
        "field_V_per_A": list(args.field),
        **numbers.as_dict(),
        "predicted_net_e": predicted_net,
        "neutralized": not args.no_neutralize,
        **({"committee": spread} if spread else {}),
    }
    if args.output:
        write_density(response, args.output)
    if args.plot:
        from ..analysis.plots import response_profile_plot  # matplotlib only when asked for

        response_profile_plot(
            numbers.z, {"model": (numbers.line_density, numbers.esp)}, args.plot,
            atom_z=response.atoms.positions[:, args.axis], title=f"response to {list(args.field)} V/Å",
        )
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"charge transfer  {result['transfer_e']:.4f} e across z = {result['middle_A']:.3f} Å "
              f"(left {result['left_e']:+.4f} e, right {result['right_e']:+.4f} e)")
        if spread:
            print(f"committee        {spread['members']} members: transfer "
                  f"{min(spread['transfer_e']):.4f}…{max(spread['transfer_e']):.4f} e "
                  f"(std {spread['transfer_e_std']:.4f} e), slope std {spread['esp_slope_inside_V_per_A_std']:.4f} V/Å")
        print(f"net charge       {predicted_net:+.2e} e predicted" + ("" if args.no_neutralize else ", removed"))
        print(f"ESP drop         {result['esp_drop_V']:+.4f} V")
        print(f"ESP slope inside {result['esp_slope_inside_V_per_A']:+.4f} V/Å")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "response", help="predicted field response of an electrode: charge transfer, ESP drop and slope",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="response model file, or a shipped model's name")
    parser.add_argument("input", metavar="STRUCTURE_OR_DENSITY", help="slab structure (with cell) or density file")
    parser.add_argument("--field", type=float, nargs=3, required=True, metavar=("EX", "EY", "EZ"), help="V/Å")
    parser.add_argument("--axis", type=int, default=2, choices=(0, 1, 2), help="slab normal grid axis (default 2)")
    parser.add_argument("--middle", type=float, help="dividing plane, Å (default: the slab's centre)")
    parser.add_argument("--spacing", type=float, default=0.1, help="grid spacing for a structure, Å")
    parser.add_argument("--no-neutralize", action="store_true", help="keep the model's net charge")
    parser.add_argument("-o", "--output", metavar="DN.cube", help="write the predicted Δn")
    parser.add_argument("--plot", metavar="PNG", help="planar-averaged Δn and its ESP (Fig. 6)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_threads_option(parser)
    parser.set_defaults(func=run)
