"""An Au(100) electrode along MD against CP2K: charge transfer, ESP drop, density and Bader charges per frame.

Reads an ``echemml md`` run of a slab in a field along z that recorded the electrode
numbers (``--record charge_transfer,esp_drop,esp_slope``) and the CP2K labels of some
of its frames (``pick_frames.py``, then ``echemml dft cp2k FRAMES --field 0 0 EZ --out
CUBES``: ``<prefix>_stepNNNN_E0.cube`` and ``..._Ez<EZ>.cube``). For every labelled frame:

- the transfer across the middle plane, the ESP drop and the ESP slope inside the
  metal from CP2K's Δn = n_ε − n_0 (``slab_response``, as ``echemml response``
  reports them) against what the MD recorded;
- with ``--recompute``: the model's numbers are predicted afresh on each labelled frame
  with ``--response-model`` (the MD trajectory depends on the potential only, so a
  retrained response model is tested on the same frames without rerunning the MD);
- with ``--density-model``: the whole-grid NMAE of the model's n_0 on CP2K's
  zero-field grid (frames no model trained on);
- on ``--bader`` of the frames: Bader charges of the surface Au atoms (the outermost
  layer on each face) from the calculator (n_0 + Δn(ε), ``--spacing``) against
  baderkit on CP2K's n_ε.

    python studies/au100_md/compare_cp2k.py runs/au100_md/fixed_field --cubes runs/au100_md/cp2k_2x2 \\
        --prefix au2x2 --density-model au100-density --bader 3 \\
        --output studies/au100_md/fixed_field_2x2.json --plot studies/au100_md/fixed_field_2x2.png
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from tqdm import tqdm

from echemml.analysis.bader import bader_charges
from echemml.analysis.electrostatics import slab_response
from echemml.analysis.metrics import nmae
from echemml.analysis.plots import save_figure
from echemml.calculators import EChemCalculator
from echemml.calculators.recorder import read_record
from echemml.grid import DensityGrid
from echemml.io import read_density
from echemml.io.files import atomic_open
from echemml.model import load_model, predict_grid

SURFACE_LAYER = 0.5  # Å: atoms within this of the outermost plane on a face belong to its surface layer


def labelled_frames(cubes: Path, prefix: str) -> dict[int, tuple[Path, Path]]:
    """MD step → (zero-field cube, field cube) for every frame CP2K labelled in both."""
    pairs = {}
    for zero in sorted(cubes.glob(f"{prefix}_step*_E0.cube")):
        step = int(re.search(r"_step(\d+)_E0", zero.name).group(1))
        fields = [path for path in cubes.glob(f"{prefix}_step{step:04d}_E*.cube") if path != zero]
        if len(fields) == 1:
            pairs[step] = (zero, fields[0])
    return pairs


def surface_atoms(positions: np.ndarray, axis: int = 2) -> np.ndarray:
    """Indices of the atoms in the outermost layer on either face of a slab."""
    height = positions[:, axis]
    return np.flatnonzero((height < height.min() + SURFACE_LAYER) | (height > height.max() - SURFACE_LAYER))


ELECTRODE_KEYS = ("charge_transfer", "esp_drop", "esp_slope")


def frame_field(field_path: Path) -> list[float]:
    """The field (V/Å) that a CP2K field grid was computed in, from the JSON beside it."""
    return json.loads(field_path.with_suffix(".json").read_text())["field_V_per_A"]


def predicted_numbers(in_field: DensityGrid, field_path: Path, response_model, spacing: float) -> dict[str, float]:
    """The calculator's electrode numbers on the frame of a CP2K field grid (read from ``field_path``),
    in the field its JSON records (V/Å)."""
    atoms = in_field.atoms.copy()
    field = frame_field(field_path)
    atoms.calc = EChemCalculator(response_model=response_model, field=tuple(field), spacing=spacing)
    return {key: float(atoms.calc.get_property(key, atoms)) for key in ELECTRODE_KEYS}


def compare_frame(step: int, zero_path: Path, field_path: Path, record: dict, density_model,
                  response_model=None, spacing: float | None = None) -> dict:
    """CP2K's electrode numbers of one frame against the MD record, or, with a ``spacing`` (Å),
    against ``response_model``'s predicted afresh on the frame (and the model's n_0 against CP2K's)."""
    zero, in_field = read_density(zero_path), read_density(field_path)
    recomputed = predicted_numbers(in_field, field_path, response_model, spacing) if spacing else None
    dft = slab_response(in_field.difference(zero))
    row = int(np.flatnonzero(record["step"] == step)[0])
    result = {"step": step, "time_fs": float(record["time"][row]), "field_file": field_path.name}
    for key, dft_value in zip(ELECTRODE_KEYS, (dft.transfer_e, dft.esp_drop_V, dft.esp_slope_inside_V_per_A)):
        model_value = float(record[key][row]) if recomputed is None else recomputed[key]
        result[key] = {"cp2k": dft_value, "model": model_value,
                       "error_percent": 100.0 * (model_value - dft_value) / abs(dft_value)}
    if density_model is not None:
        predicted = predict_grid(density_model, zero, field=np.zeros(3))
        result["density_nmae_percent"] = nmae(zero.values, predicted.values)
        result["density_electrons"] = {"cp2k": zero.integral(), "model": predicted.integral()}
    return result


def compare_bader(step: int, field_path: Path, density_model, response_model, spacing: float) -> dict:
    """Surface-Au Bader charges of one frame: the calculator's n_0 + Δn(ε) against baderkit on CP2K's n_ε."""
    in_field = read_density(field_path)
    atoms = in_field.atoms.copy()
    field = np.asarray(frame_field(field_path), dtype=float)
    atoms.calc = EChemCalculator(density_model=density_model, response_model=response_model,
                                 field=tuple(field), spacing=spacing)
    model = atoms.calc.get_property("charges", atoms)
    dft = bader_charges(in_field).charges
    surface = surface_atoms(atoms.positions)
    errors = model[surface] - dft[surface]
    return {"step": step, "field_V_per_A": field.tolist(), "surface_atoms": surface.tolist(),
            "cp2k": dft[surface].tolist(), "model": model[surface].tolist(),
            "model_electrons": float(atoms.calc.results["model_electrons"]),
            "electrons": float(atoms.calc.results["electrons"]),
            "mae_e": float(np.abs(errors).mean()), "max_abs_error_e": float(np.abs(errors).max()),
            "all_atoms_mae_e": float(np.abs(model - dft).mean())}


def plot(record: dict, frames: list[dict], path: Path) -> None:
    """The recorded transfer and ESP drop along the run, with CP2K's on the labelled frames."""
    figure = Figure(figsize=(9, 3.6))
    axes = figure.subplots(1, 2)
    time_ps = np.asarray(record["time"]) / 1000.0
    for ax, key, label in ((axes[0], "charge_transfer", "charge transfer (e)"), (axes[1], "esp_drop", "ESP drop (V)")):
        ax.plot(time_ps, record[key], lw=1.2, label="model along MD")
        ax.plot([f["time_fs"] / 1000.0 for f in frames], [f[key]["cp2k"] for f in frames], "o", color="k",
                mfc="none", label="CP2K")
        ax.set_xlabel("time (ps)")
        ax.set_ylabel(label)
    axes[0].legend(frameon=False)
    figure.tight_layout()
    save_figure(figure, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="echemml md run folder")
    parser.add_argument("--cubes", type=Path, required=True, help="CP2K cube folder of the picked frames")
    parser.add_argument("--prefix", default="frame", help="frame file-name prefix (pick_frames.py --prefix)")
    parser.add_argument("--density-model", help="zero-field density model (e.g. au100-density)")
    parser.add_argument("--response-model", default="au100-response", help="response model (default au100-response)")
    parser.add_argument("--bader", type=int, default=0, metavar="K", help="Bader charges on the first K frames")
    parser.add_argument("--spacing", type=float, default=0.09, help="calculator grid spacing for Bader, Å")
    parser.add_argument("--recompute", type=float, metavar="SPACING",
                        help="predict the electrode numbers afresh with --response-model on a grid of SPACING Å "
                        "(the MD records 0.2) instead of reading the run's record")
    parser.add_argument("--output", type=Path, required=True, help="JSON to write")
    parser.add_argument("--plot", type=Path, help="PNG of the transfer and drop along the run")
    args = parser.parse_args()

    pairs = labelled_frames(args.cubes, args.prefix)
    if not pairs:
        sys.exit(f"{args.cubes}: no {args.prefix}_stepNNNN_E0.cube with its field cube")
    record = {key: np.asarray(value) for key, value in read_record(args.run / "record.h5").items()}
    density_model = load_model(args.density_model) if args.density_model else None
    response_model = load_model(args.response_model)
    frames = [compare_frame(step, *paths, record, density_model, response_model, args.recompute)
              for step, paths in tqdm(sorted(pairs.items()))]
    result = {
        "command": "python studies/au100_md/compare_cp2k.py " + " ".join(sys.argv[1:]),
        "run": str(args.run), "response_model": args.response_model,
        "model_numbers": f"recomputed at {args.recompute} Å" if args.recompute else "the run's record",
        "frames": frames,
        "charge_transfer_max_abs_error_percent": max(abs(f["charge_transfer"]["error_percent"]) for f in frames),
        "esp_drop_max_abs_error_percent": max(abs(f["esp_drop"]["error_percent"]) for f in frames),
        "charge_transfer_cp2k_mean_e": float(np.mean([f["charge_transfer"]["cp2k"] for f in frames])),
        "esp_drop_cp2k_mean_V": float(np.mean([f["esp_drop"]["cp2k"] for f in frames])),
        "esp_drop_model_mean_V": float(np.mean([f["esp_drop"]["model"] for f in frames])),
    }
    if density_model is not None:
        result["density_nmae_percent_mean"] = float(np.mean([f["density_nmae_percent"] for f in frames]))
    if args.bader:
        if density_model is None:
            sys.exit("--bader needs --density-model")
        bader = [compare_bader(step, pairs[step][1], density_model, response_model, args.spacing)
                 for step in tqdm(sorted(pairs)[: args.bader], desc="Bader")]
        result["bader"] = {"frames": bader, "spacing_A": args.spacing,
                           "surface_mae_e": float(np.mean([b["mae_e"] for b in bader])),
                           "surface_max_abs_error_e": max(b["max_abs_error_e"] for b in bader)}
    with atomic_open(args.output) as handle:
        json.dump(result, handle, indent=1)
    if args.plot:
        plot(record, frames, args.plot)
    print(json.dumps({key: value for key, value in result.items() if key not in ("frames", "bader")}, indent=1))
    if "bader" in result:
        print("Bader charges of the surface Au: MAE", result["bader"]["surface_mae_e"], "e, max",
              result["bader"]["surface_max_abs_error_e"], "e")


if __name__ == "__main__":
    main()
