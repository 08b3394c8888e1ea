"""Which model carries the surface Bader error: n_0 or Δn? CP2K's parts swapped for the models' on CP2K's grid.

The calculator's Bader charges of a slab in a field come from n_0 (a density model)
plus Δn(ε) (a response model). On the first ``--frames`` CP2K-labelled frames of
``compare_cp2k.py``'s folders, this rebuilds the density in the field four ways on
CP2K's own grid, n_0 from CP2K or the model and Δn from CP2K or the model, and gives
the surface-Au Bader charges of each against CP2K's n_ε (baderkit), together with the
zero-field charges of the model's n_0 against CP2K's n_0. The model's n_0 is scaled to
CP2K's electron count, as the calculator scales it to the slab's valence electrons.

The floor of such a comparison is the grid itself: CP2K's n_ε shifted by half a voxel
along every axis (a Fourier shift, exact for a plane-wave density) gives Bader charges
that differ from the unshifted ones by ``grid_shift`` below.

    python studies/au100_md/bader_split.py --cubes runs/au100_md/cp2k_2x2 --prefix au2x2 \\
        --density-model au100-density --frames 3 --output studies/au100_md/bader_split.json
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from compare_cp2k import frame_field, labelled_frames, surface_atoms
from echemml.analysis.bader import bader_charges
from echemml.grid import DensityGrid
from echemml.io import read_density
from echemml.io.files import atomic_open
from echemml.model import load_model, predict_grid

PARTS = ("n0_cp2k+dn_model", "n0_model+dn_cp2k", "n0_model+dn_model")


def half_voxel_shift(grid: DensityGrid) -> DensityGrid:
    """The same periodic density sampled half a voxel along every axis further on (Fourier shift)."""
    values = np.asarray(grid.values, dtype=float)
    frequencies = np.meshgrid(*(np.fft.fftfreq(size) for size in values.shape), indexing="ij")
    phase = np.exp(1j * np.pi * sum(frequencies))
    shifted = np.fft.ifftn(np.fft.fftn(values) * phase).real
    return replace(grid, values=shifted, origin=grid.origin + 0.5 * grid.voxel.sum(axis=0))


def split_frame(step: int, zero_path: Path, field_path: Path, density_model, response_model) -> dict:
    """Surface-Au Bader charges (e) of one frame with n_0 and Δn each from CP2K or the models."""
    zero, in_field = read_density(zero_path), read_density(field_path)
    field = frame_field(field_path)
    n0_model = predict_grid(density_model, zero, field=np.zeros(3)).values.astype(float)
    n0_model *= zero.integral() / (n0_model.sum() * zero.voxel_volume)
    dn_model = predict_grid(response_model, zero, field=field).values.astype(float)
    dn_cp2k = in_field.values - zero.values
    densities = {"cp2k": in_field.values, "n0_cp2k+dn_model": zero.values + dn_model,
                 "n0_model+dn_cp2k": n0_model + dn_cp2k, "n0_model+dn_model": n0_model + dn_model,
                 "n0_cp2k": zero.values, "n0_model": n0_model}
    surface = surface_atoms(zero.atoms.positions)
    charges = {name: bader_charges(zero.with_values(values)).charges[surface] for name, values in densities.items()}
    charges["cp2k_grid_shift"] = bader_charges(half_voxel_shift(in_field)).charges[surface]
    row = {"step": step, "field_V_per_A": field, "surface_atoms": surface.tolist(),
           "charges_e": {name: value.tolist() for name, value in charges.items()}}
    row["mae_e"] = {name: float(np.abs(charges[name] - charges["cp2k"]).mean()) for name in PARTS}
    row["max_abs_error_e"] = {name: float(np.abs(charges[name] - charges["cp2k"]).max()) for name in PARTS}
    row["grid_shift_mae_e"] = float(np.abs(charges["cp2k_grid_shift"] - charges["cp2k"]).mean())
    row["zero_field_mae_e"] = float(np.abs(charges["n0_model"] - charges["n0_cp2k"]).mean())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cubes", type=Path, required=True, help="CP2K cube folder of the picked frames")
    parser.add_argument("--prefix", default="frame", help="frame file-name prefix (pick_frames.py --prefix)")
    parser.add_argument("--density-model", default="au100-density", help="zero-field density model")
    parser.add_argument("--response-model", default="au100-response", help="response model")
    parser.add_argument("--frames", type=int, default=3, help="the first K labelled frames")
    parser.add_argument("--output", type=Path, required=True, help="JSON to write")
    args = parser.parse_args()

    pairs = labelled_frames(args.cubes, args.prefix)
    if not pairs:
        sys.exit(f"{args.cubes}: no {args.prefix}_stepNNNN_E0.cube with its field cube")
    density_model, response_model = load_model(args.density_model), load_model(args.response_model)
    frames = [split_frame(step, *pairs[step], density_model, response_model)
              for step in tqdm(sorted(pairs)[: args.frames])]
    result = {"command": "python studies/au100_md/bader_split.py " + " ".join(sys.argv[1:]),
              "density_model": args.density_model, "response_model": args.response_model, "frames": frames,
              "mean_mae_e": {name: float(np.mean([f["mae_e"][name] for f in frames])) for name in PARTS},
              "grid_shift_mean_mae_e": float(np.mean([f["grid_shift_mae_e"] for f in frames])),
              "zero_field_mean_mae_e": float(np.mean([f["zero_field_mae_e"] for f in frames]))}
    zero_cp2k, zero_model = (np.concatenate([f["charges_e"][name] for f in frames]) for name in ("n0_cp2k", "n0_model"))
    result["zero_field_correlation"] = float(np.corrcoef(zero_cp2k, zero_model)[0, 1])
    result["zero_field_std_e"] = {"cp2k": float(zero_cp2k.std()), "model": float(zero_model.std())}
    with atomic_open(args.output) as handle:
        json.dump(result, handle, indent=1)
    for frame in frames:
        print(frame["step"], {name: round(value, 4) for name, value in frame["mae_e"].items()},
              "zero field", round(frame["zero_field_mae_e"], 4), "grid shift", round(frame["grid_shift_mae_e"], 4))
    print("zero-field surface charges, model against CP2K: correlation", round(result["zero_field_correlation"], 2))


if __name__ == "__main__":
    main()
