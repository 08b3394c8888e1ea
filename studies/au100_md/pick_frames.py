"""Write N frames of an ``echemml md`` run, evenly spaced after the first, as extxyz files for CP2K.

    python studies/au100_md/pick_frames.py runs/au100_md/fixed_field --frames 5 -o runs/au100_md/frames_2x2

Each file is named ``<prefix>_step<NNNN>.xyz`` after its MD step, so that the CP2K
labels (``echemml dft cp2k ... --out CUBES``) and the recorded series pair up by step.
``--summary FILE.json`` keeps each picked frame's step and the spacings of its atomic
layers along z (Å, lower to upper; atoms grouped into layers of equal size by height).

    python studies/au100_md/pick_frames.py runs/au100_md/fixed_field --frames 5 --prefix au2x2 \
        -o runs/au100_md/frames_2x2 --summary studies/au100_md/frames_2x2.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import ase.io
import numpy as np

from echemml.cli.md import STEP_KEY, TRAJECTORY
from echemml.io.files import atomic_open


def pick(run: Path, n_frames: int) -> list:
    """``n_frames`` frames of ``run``'s trajectory, evenly spaced from its last back, never the starting frame."""
    frames = ase.io.read(run / TRAJECTORY, index=":")
    chosen = np.linspace(len(frames) - 1, 0, n_frames + 1)[:-1].round().astype(int)[::-1]
    return [frames[index] for index in chosen]


def layer_spacings(atoms, layers: int) -> list[float]:
    """Distances (Å) between the mean heights of consecutive atomic layers along z, lower to upper."""
    heights = np.sort(atoms.positions[:, 2]).reshape(layers, -1).mean(axis=1)
    return np.diff(heights).round(4).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="echemml md run folder")
    parser.add_argument("--frames", type=int, default=5, help="how many frames (default 5)")
    parser.add_argument("--prefix", default="frame", help="file-name prefix (default frame)")
    parser.add_argument("--layers", type=int, default=5, help="atomic layers of the slab (default 5)")
    parser.add_argument("--summary", type=Path, help="JSON of the picked frames' steps and layer spacings")
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder for the extxyz files")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    summary = []
    for atoms in pick(args.run, args.frames):
        path = args.output / f"{args.prefix}_step{int(atoms.info[STEP_KEY]):04d}.xyz"
        atoms.calc = None
        ase.io.write(path, atoms, format="extxyz")
        summary.append({"file": path.name, "step": int(atoms.info[STEP_KEY]),
                        "layer_spacings_A": layer_spacings(atoms, args.layers)})
        print(path, summary[-1]["layer_spacings_A"])
    if args.summary:
        with atomic_open(args.summary) as handle:
            json.dump({"command": "python studies/au100_md/pick_frames.py " + " ".join(sys.argv[1:]),
                       "frames": summary}, handle, indent=1)


if __name__ == "__main__":
    main()
