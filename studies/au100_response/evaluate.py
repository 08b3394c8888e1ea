"""Held-out evaluation of an Au(100) response model against CP2K (the paper's Fig. 6).

Two steps, so that the CP2K runs need not be repeated on a new machine:

1. ``--from-cubes DIR [DIR ...]`` reads the CP2K cubes of the held-out slabs
   (``NAME_E0.cube`` and ``NAME_Ez-0.50.cube`` … written by ``echemml dft cp2k
   --out DIR``) and adds them to the compact DFT reference ``reference.json``
   (an entry of the same slab and field is replaced): per slab and field, the
   grid geometry, the planar-averaged Δn(z) and its response ESP, the charge
   transfer and the ESP slope inside the metal. With a model, the
   cubes also give the model's whole-grid NMAE of Δn (not stored in the reference).
2. ``--model MODEL`` predicts Δn on each reference grid, compares charge
   transfer (target: within 2 % of CP2K) and ESP slope inside the metal (target:
   within 5 % of E_z), and writes ``heldout.json`` and ``fig6_response.png``.

Run from the repository root::

    python studies/au100_response/evaluate.py --from-cubes au100_mt_cubes \
        --model echemml/pretrained/au100-response.pt

Units: Å, e, V, V/Å, e/Å³.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import ase.io
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from echemml.analysis.electrostatics import slab_response  # noqa: E402
from echemml.analysis.metrics import nmae, r2, rmse  # noqa: E402
from echemml.analysis.plots import save_figure  # noqa: E402
from echemml.grid import DensityGrid  # noqa: E402
from echemml.io import read_density  # noqa: E402
from echemml.io.files import atomic_open  # noqa: E402
from echemml.model import load_model  # noqa: E402
from echemml.workflows import predict_slab_response  # noqa: E402

HERE = Path(__file__).resolve().parent
STRUCTURES = Path("data/au100/structures_mt")
FIELD_FILE = re.compile(r"^(?P<slab>test_L\d+_\d+)_Ez(?P<field>[-+]\d+\.\d+)\.cube$")
TRANSFER_TOLERANCE = 0.02  # relative, vs CP2K
SLOPE_TOLERANCE = 0.05  # relative, vs E_z


def cube_responses(cube_dir: Path, structures: Path):
    """(slab name, field, structure path, CP2K Δn grid) of every complete held-out cube pair."""
    for path in sorted(cube_dir.glob("test_*_Ez*.cube")):
        match = FIELD_FILE.match(path.name)
        zero_path = cube_dir / f"{match['slab']}_E0.cube"
        structure = structures / f"{match['slab']}.xyz"
        if not zero_path.exists() or not structure.exists():
            continue  # incomplete, or no longer held out
        response = read_density(path).difference(read_density(zero_path))
        yield match["slab"], [0.0, 0.0, float(match["field"])], structure, response


def reference_from_cubes(cube_dir: Path, structures: Path, model=None) -> tuple[list[dict], dict]:
    """DFT reference numbers of every held-out cube pair, and the model on the same grids.

    ``structures`` is the folder of the slabs the cubes were computed for; each
    entry records its structure file so that the reference stands on its own.
    With a ``model``, its Δn is predicted on each whole CP2K grid in the same pass
    (every cube is read once): the second result maps (slab, E_z) to the
    prediction (:class:`echemml.model.PredictedSlabResponse`) and the
    point-by-point comparison of its neutralised Δn with CP2K, NMAE (%), RMSE
    (e/Å³) and R²; without a model it is empty.
    """
    entries, comparisons = [], {}
    for slab, field, structure, response in cube_responses(cube_dir, structures):
        numbers = slab_response(response)
        entries.append({
            "slab": slab,
            "structure": structure.as_posix(),
            "field_V_per_A": field,
            "layers": int(re.search(r"_L(\d+)_", slab)[1]),
            "grid": {"origin": response.origin.tolist(), "voxel": response.voxel.tolist(),
                     "shape": list(response.shape)},
            "dft": {**numbers.as_dict(), "z": numbers.z.tolist(), "line_density": numbers.line_density.tolist(),
                    "esp": numbers.esp.tolist()},
        })
        if model is not None:
            prediction = predict_slab_response(model, response, field)
            predicted = prediction.response.values
            comparisons[slab, field[2]] = prediction, {
                "nmae_percent": nmae(response.values, predicted),
                "rmse_e_per_A3": rmse(response.values, predicted),
                "r2": r2(response.values, predicted)}
    return entries, comparisons


def merged_reference(reference: list[dict], fresh: list[dict]) -> list[dict]:
    """``reference`` with the entries of ``fresh`` added, replacing those of the same slab and field.

    The held-out cubes need not all lie in one folder (a new machine regenerates
    only the slabs it adds), so each ``--from-cubes`` updates the reference
    rather than rewriting it. Entries are ordered by slab name, then field.
    """
    merged = {(entry["slab"], entry["field_V_per_A"][2]): entry for entry in reference + fresh}
    return [merged[key] for key in sorted(merged, key=lambda key: (key[0], abs(key[1])))]


def evaluate(model, reference: list[dict], comparisons: dict | None = None) -> list[dict]:
    """Model vs CP2K on every reference slab and field.

    ``comparisons`` (from :func:`reference_from_cubes`) gives predictions already
    made on the reference grids, with their whole-grid Δn metrics; the other
    entries are predicted here.
    """
    results = []
    for entry in reference:
        field_z = entry["field_V_per_A"][2]
        prediction, grid_metrics = (comparisons or {}).get((entry["slab"], field_z), (None, None))
        if prediction is None:
            atoms = ase.io.read(entry["structure"])
            grid = DensityGrid(atoms, np.zeros(entry["grid"]["shape"], dtype=np.float32),
                               origin=entry["grid"]["origin"], voxel=np.array(entry["grid"]["voxel"]))
            prediction = predict_slab_response(model, grid, entry["field_V_per_A"])
        numbers = prediction.numbers
        dft = entry["dft"]
        transfer_error = numbers.transfer_e / dft["transfer_e"] - 1.0
        slope_error = numbers.esp_slope_inside_V_per_A / field_z - 1.0
        results.append({
            "slab": entry["slab"], "layers": entry["layers"], "field_V_per_A": entry["field_V_per_A"],
            "transfer_e": {"cp2k": dft["transfer_e"], "model": numbers.transfer_e,
                           "relative_error": transfer_error},
            "esp_slope_inside_V_per_A": {"cp2k": dft["esp_slope_inside_V_per_A"],
                                         "model": numbers.esp_slope_inside_V_per_A,
                                         "relative_error_vs_field": slope_error},
            "esp_drop_V": {"cp2k": dft["esp_drop_V"], "model": numbers.esp_drop_V},
            "model_net_e_before_neutralizing": prediction.predicted_net_e,
            "committee": prediction.committee_spread(),
            "whole_grid_delta_n": grid_metrics,
            "passes": bool(abs(transfer_error) <= TRANSFER_TOLERANCE and abs(slope_error) <= SLOPE_TOLERANCE),
            "profiles": {"z": numbers.z, "line_density": numbers.line_density, "esp": numbers.esp},
        })
    return results


def figure(reference: list[dict], results: list[dict], path: Path) -> None:
    """Fig. 6: planar-averaged Δn and response ESP, CP2K vs model, one column per slab (strongest field)."""
    strongest = {}
    for entry, result in zip(reference, results):
        best = strongest.get(entry["slab"])
        if best is None or abs(entry["field_V_per_A"][2]) > abs(best[0]["field_V_per_A"][2]):
            strongest[entry["slab"]] = (entry, result)
    columns = list(strongest.values())
    fig, axes = plt.subplots(2, len(columns), figsize=(4.2 * len(columns), 5.5), sharex="col", squeeze=False)
    for column, (entry, result) in enumerate(columns):
        atoms = ase.io.read(entry["structure"])
        dft, model = entry["dft"], result["profiles"]
        top, bottom = axes[0, column], axes[1, column]
        top.plot(dft["z"], dft["line_density"], color="k", lw=1.6, label="CP2K")
        top.plot(model["z"], model["line_density"], color="tab:red", lw=1.0, ls="--", label="model")
        bottom.plot(dft["z"], dft["esp"], color="k", lw=1.6, label="CP2K")
        bottom.plot(model["z"], model["esp"], color="tab:red", lw=1.0, ls="--", label="model")
        for axis in (top, bottom):
            for z in np.unique(np.round(atoms.positions[:, 2], 1)):
                axis.axvline(z, color="gold", lw=0.6, zorder=0)
        transfer = result["transfer_e"]
        top.set_title(f"{entry['slab']} ({entry['layers']} layers), E_z = {entry['field_V_per_A'][2]:g} V/Å\n"
                      f"transfer CP2K {transfer['cp2k']:.4f} e, model {transfer['model']:.4f} e", fontsize=9)
        bottom.set_xlabel("z (Å)")
        top.legend(fontsize=8)
    axes[0, 0].set_ylabel("planar-averaged Δn (e/Å)")
    axes[1, 0].set_ylabel("response ESP (V)")
    save_figure(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from-cubes", type=Path, metavar="DIR", nargs="+",
                        help="add the CP2K cubes in each DIR to the reference (same slab and field: replaced)")
    parser.add_argument("--structures", type=Path, default=STRUCTURES,
                        help=f"folder of the held-out slabs the cubes belong to (default: {STRUCTURES})")
    parser.add_argument("--model", help="response model file or shipped name")
    parser.add_argument("--reference", type=Path, default=HERE / "reference.json",
                        help="compact CP2K reference (default: this study's)")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: this study's)")
    args = parser.parse_args()
    model = load_model(args.model) if args.model else None
    comparisons = None
    reference_path = args.reference
    cube_dirs = " ".join(map(str, args.from_cubes or []))
    if args.from_cubes:
        fresh, comparisons = [], {}
        for cube_dir in args.from_cubes:
            entries, compared = reference_from_cubes(cube_dir, args.structures, model)
            fresh += entries
            comparisons.update(compared)
        reference = merged_reference(json.loads(reference_path.read_text()) if reference_path.exists() else [], fresh)
        with atomic_open(reference_path) as handle:
            json.dump(reference, handle)
        print(f"wrote {reference_path}: {len(fresh)} slab/field pairs from {cube_dirs}, "
              f"{len(reference)} held-out slab/field pairs in all")
    else:
        reference = json.loads(reference_path.read_text())
    if model is None:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    results = evaluate(model, reference, comparisons)
    figure(reference, results, args.out / "fig6_response.png")
    report = [{key: value for key, value in result.items() if key != "profiles"} for result in results]
    with atomic_open(args.out / "heldout.json") as handle:
        json.dump({"model": args.model, "command": "python studies/au100_response/evaluate.py "
                   + (f"--from-cubes {cube_dirs} " if args.from_cubes else "") + f"--model {args.model}",
                   "results": report}, handle, indent=1)
    for result in report:
        t, s = result["transfer_e"], result["esp_slope_inside_V_per_A"]
        grid_nmae = (result["whole_grid_delta_n"] or {}).get("nmae_percent")
        spread = result["committee"]
        print(f"{result['slab']} E_z {result['field_V_per_A'][2]:+.2f}: transfer CP2K {t['cp2k']:.4f} "
              f"model {t['model']:.4f} e ({100 * t['relative_error']:+.2f} %"
              + (f", members' std {100 * spread['transfer_e_std'] / t['model']:.1f} %" if spread else "")
              + f"), slope {s['model']:+.4f} V/Å "
              f"(CP2K {s['cp2k']:+.4f}; {100 * s['relative_error_vs_field']:+.2f} % vs E_z)"
              + (f", whole-grid Δn NMAE {grid_nmae:.1f} %" if grid_nmae is not None else "")
              + ("  ok" if result["passes"] else "  MISSES"))


if __name__ == "__main__":
    main()
