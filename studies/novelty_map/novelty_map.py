"""Where a model extrapolates: the LIFS novelty map of H5O2+ with one outer O–H stretched.

Scores the Zundel ion of ``studies/h5o2/zundel.xyz`` as it is and with its first outer
O–H bond (atoms 0–3) stretched along the bond to ``--stretch`` Å, for the shipped
``h5o2-density`` against its shipped novelty basis (``echemml/pretrained/h5o2-density.novelty.h5``,
built from its training samples). For each: the frame's max and mean residual, the most
novel atom, the novelty map on a ``--spacing`` Å grid (cubes under ``--cubes``) and the
region it flags — the grid points in the top 1 % of the stretched ion's map, named by the
atom nearest to each of them. Writes ``--output`` (JSON) and ``--plot`` (PNG: the maps'
largest value along z, both ions on one colour scale, atoms marked).

    python studies/novelty_map/novelty_map.py --output studies/novelty_map/novelty_map.json \\
        --plot studies/novelty_map/novelty_map.png --cubes runs/novelty

Residuals are dimensionless; lengths in Å.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import ase.io
import numpy as np
from matplotlib.figure import Figure

from echemml.analysis.plots import save_figure
from echemml.io import write_cube
from echemml.io.files import atomic_open
from echemml.model import load_model
from echemml.pretrained import model_path
from echemml.protocols import NoveltyBasis, novelty_grid, score_frame

ROOT = Path(__file__).resolve().parents[2]
ION = ROOT / "studies" / "h5o2" / "zundel.xyz"
OXYGEN, HYDROGEN = 0, 3  # the outer O–H bond that is stretched
TOP_FRACTION = 0.01


def stretched(atoms: ase.Atoms, length: float) -> ase.Atoms:
    """A copy with the H of the outer O–H bond moved along the bond to ``length`` Å from its O."""
    result = atoms.copy()
    bond = result.positions[HYDROGEN] - result.positions[OXYGEN]
    result.positions[HYDROGEN] = result.positions[OXYGEN] + bond * (length / np.linalg.norm(bond))
    return result


def atom_label(atoms: ase.Atoms, index: int) -> str:
    """'H3 (O0's, the bond stretched)', 'H2 (shared)', 'O0', ... for the atoms of the ion."""
    name = f"{atoms[index].symbol}{index}"
    if index == HYDROGEN:
        return name + f" (O{OXYGEN}'s, the bond stretched)"
    oxygens = [i for i, atom in enumerate(atoms) if atom.symbol == "O"]
    if atoms[index].symbol == "H" and min(atoms.get_distances(index, oxygens)) > 1.1:
        return name + " (shared)"
    return name


def flagged_region(grid, atoms: ase.Atoms) -> dict:
    """The grid points in the top ``TOP_FRACTION`` of the map, counted by their nearest atom."""
    values = grid.values.reshape(-1)
    count = max(1, int(TOP_FRACTION * np.count_nonzero(values)))
    top = np.argsort(values)[-count:]
    points = grid.points(top)
    nearest = np.argmin(np.linalg.norm(points[:, None, :] - atoms.positions[None], axis=2), axis=1)
    counts = Counter(atom_label(atoms, int(i)) for i in nearest)
    return {"points": int(count), "threshold": float(values[top].min()),
            "nearest_atom_share": {name: n / count for name, n in counts.most_common()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stretch", type=float, default=1.6, help="stretched O–H length, Å (default 1.6)")
    parser.add_argument("--spacing", type=float, default=0.2, help="map grid spacing, Å")
    parser.add_argument("--cubes", type=Path, help="folder for the two maps as cube files")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()

    model = load_model("h5o2-density")
    basis = NoveltyBasis.load(model_path("h5o2-density").with_suffix(".novelty.h5"))
    ion = ase.io.read(ION)
    ions = {"as built": ion, f"O–H at {args.stretch} Å": stretched(ion, args.stretch)}
    result = {"command": "python studies/novelty_map/novelty_map.py " + " ".join(sys.argv[1:]),
              "model": "h5o2-density", "ions": {}}
    maps = {}
    for name, atoms in ions.items():
        frame = score_frame(model, atoms, basis)
        grid = novelty_grid(model, atoms, basis, spacing=args.spacing)
        maps[name] = (atoms, grid)
        summary = frame.summary()
        summary["most_novel_atom"]["label"] = atom_label(atoms, summary["most_novel_atom"]["index"])
        result["ions"][name] = {**{key: summary[key] for key in ("max", "mean", "atoms_max", "ghost_max",
                                                                "most_novel_atom")},
                                "map_max": float(grid.values.max()), "flagged_region": flagged_region(grid, atoms)}
        if args.cubes:
            args.cubes.mkdir(parents=True, exist_ok=True)
            write_cube(grid, args.cubes / f"zundel_{'stretched' if 'O–H' in name else 'built'}_novelty.cube",
                       per_volume=False, comment=f"LIFS novelty of H5O2+ ({name}) for h5o2-density")
    with atomic_open(args.output) as handle:
        json.dump(result, handle, indent=1)
    if args.plot:
        plot(maps, args.plot)
    print(json.dumps(result["ions"], indent=1))


def plot(maps: dict, path: Path) -> None:
    """The largest residual along z of each map, one colour scale, atoms as markers."""
    figure = Figure(figsize=(10, 4))
    axes = figure.subplots(1, len(maps))
    top = max(grid.values.max() for _, grid in maps.values())
    for ax, (name, (atoms, grid)) in zip(axes, maps.items()):
        projection = grid.values.max(axis=2).T
        x0, y0 = grid.origin[:2]
        extent = (x0, x0 + grid.voxel[0, 0] * grid.shape[0], y0, y0 + grid.voxel[1, 1] * grid.shape[1])
        image = ax.imshow(projection, origin="lower", extent=extent, vmin=0, vmax=top, cmap="magma")
        for atom in atoms:
            ax.plot(*atom.position[:2], "o", ms=9 if atom.symbol == "O" else 5, mfc="none",
                    mec="tab:cyan" if atom.symbol == "O" else "white")
        ax.set_title(name)
        ax.set_xlabel("x (Å)")
    axes[0].set_ylabel("y (Å)")
    figure.colorbar(image, ax=axes[-1], label="LIFS novelty (max along z)")
    save_figure(figure, path)


if __name__ == "__main__":
    main()
