"""Bootstrap configurations of the Zundel ion H5O2+ for the embedded PySCF engine to label (issue 34).

Before any model of H5O2+ exists there is no potential to run MD with, so the first
labels come from two kinds of configurations around a C2 Zundel geometry (O–O along x,
the shared proton H* between the oxygens, each water's two outer H at 0.97 Å):

* **proton scans**: O–O 2.3, 2.4, …, 2.8 Å, H* at 7 positions from 0.95 Å of one O to
  0.95 Å of the other, every atom rattled by 0.03 Å (Gaussian);
* **rattled configurations**: O–O uniform in 2.3–2.8 Å, H* uniform between the two
  0.95 Å limits, outer-H bond lengths 0.92–1.02 Å and angles jittered, every atom
  rattled by 0.03–0.08 Å (drawn again while two atoms come closer than 0.75 Å), the
  whole ion rotated at random.

Every configuration has charge +1 (``info["charge"]``); two thirds of them carry a
uniform field of 0–0.5 V/Å in a random direction (``info["external_field"]``, V/Å),
the rest none. Written as one extxyz (Å), labelled with

    python data/h5o2/make_structures.py                       # data/h5o2/structures/bootstrap.extxyz
    echemml dft pyscf data/h5o2/structures/bootstrap.extxyz --candidates h5o2_labels_300.h5 \\
        --random-points 300 --ts-points 300 --workers 2 --threads 1   # resumable

and cut to 150 + 150 candidates into ``data/h5o2_labels.h5`` (``data/README.md``).

Later rounds add MD frames from the previous round's model (issue 34).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms
from scipy.spatial.transform import Rotation

HERE = Path(__file__).resolve().parent
OH_BOND = 0.97  # Å, outer O–H
PROTON_LIMIT = 0.95  # Å: the shared proton stays at least this far from either O
CLOSEST = 0.75  # Å: a rattled configuration with two atoms closer than this is drawn again
MAX_FIELD = 0.5  # V/Å


def zundel(oo: float, offset: float, rng: np.random.Generator | None = None) -> Atoms:
    """H5O2+ with O–O distance ``oo`` (Å) along x and the shared proton ``offset`` Å from the midpoint.

    With ``rng``, the outer H bond lengths (0.92–1.02 Å), their angle to the O–O axis
    (±8°) and their twist about it (±15°) are drawn at random.
    """
    positions = [(-oo / 2, 0.0, 0.0), (oo / 2, 0.0, 0.0), (offset, 0.0, 0.0)]
    for sign, twist in ((-1.0, 0.0), (1.0, 90.0)):  # the two waters stand crossed, as in the C2 minimum
        for side in (-1.0, 1.0):
            bond = OH_BOND if rng is None else rng.uniform(0.92, 1.02)
            # 65° from the outward axis and ±63° about it: H*–O–H 115°, H–O–H 108°
            tilt = np.radians(65.0 + (0.0 if rng is None else rng.uniform(-8.0, 8.0)))
            azimuth = np.radians(twist + side * 63.0 + (0.0 if rng is None else rng.uniform(-15.0, 15.0)))
            direction = np.array([sign * np.cos(tilt), np.sin(tilt) * np.cos(azimuth), np.sin(tilt) * np.sin(azimuth)])
            positions.append(tuple(np.array([sign * oo / 2, 0.0, 0.0]) + bond * direction))
    return Atoms("O2H5", positions=positions)


def random_field(rng: np.random.Generator) -> list[float]:
    """A field of uniform strength in 0–0.5 V/Å along a uniformly random direction, V/Å."""
    direction = rng.normal(size=3)
    return list(rng.uniform(0.0, MAX_FIELD) * direction / np.linalg.norm(direction))


def labelled(atoms: Atoms, rng: np.random.Generator, field_share: float = 2 / 3) -> Atoms:
    """``atoms`` with charge +1 and, with probability ``field_share``, a random field."""
    atoms.info["charge"] = 1
    if rng.uniform() < field_share:
        atoms.info["external_field"] = random_field(rng)
    return atoms


def proton_scans(rng: np.random.Generator) -> list[Atoms]:
    """O–O 2.3–2.8 Å in 0.1 Å steps × 7 shared-proton positions, rattled by 0.03 Å."""
    frames = []
    for oo in np.arange(2.3, 2.81, 0.1):
        limit = oo / 2 - PROTON_LIMIT
        for offset in np.linspace(-limit, limit, 7):
            atoms = zundel(oo, offset)
            atoms.rattle(0.03, seed=int(rng.integers(2**31)))
            frames.append(labelled(atoms, rng))
    return frames


def rattled(count: int, rng: np.random.Generator) -> list[Atoms]:
    """``count`` random Zundel geometries, rattled by 0.03–0.08 Å and rotated at random."""
    frames = []
    while len(frames) < count:
        oo = rng.uniform(2.3, 2.8)
        limit = oo / 2 - PROTON_LIMIT
        atoms = zundel(oo, rng.uniform(-limit, limit), rng)
        atoms.rattle(rng.uniform(0.03, 0.08), seed=int(rng.integers(2**31)))
        if atoms.get_all_distances()[np.triu_indices(len(atoms), 1)].min() < CLOSEST:
            continue
        atoms.positions = Rotation.random(random_state=int(rng.integers(2**31))).apply(atoms.positions)
        frames.append(labelled(atoms, rng))
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rattled", type=int, default=600, help="random configurations (default 600)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", default=str(HERE / "structures" / "bootstrap.extxyz"))
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    frames = proton_scans(rng) + rattled(args.rattled, rng)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    ase.io.write(args.output, frames, format="extxyz")
    print(f"wrote {len(frames)} configurations to {args.output}")


if __name__ == "__main__":
    main()
