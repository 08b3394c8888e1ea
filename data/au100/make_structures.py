"""Write the Au(100) slab configurations of the response data set (extxyz, Å).

2×2 Au(100) slabs (a = 4.08 Å), 8 Å of vacuum on each side, pbc T T F, atoms
rattled with a Gaussian of 0.05 Å (seeded). Training: 3, 4 and 5 layers, six
rattled copies each (not all labelled yet), and one 6-layer slab. Held out: two
more rattled 4-layer slabs and one 7-layer slab (a thickness training never sees).

    python data/au100/make_structures.py      # writes data/au100/structures/*.xyz

The CP2K labels then come from two resumable commands (PBE, DZVP-MOLOPT-SR-GTH,
GTH-PBE-q11, 300 Ry; 3–16 min per SCF on one core, longer for thicker slabs).
Training slabs are kept as compact labels (candidate points of n_0 and of
Δn = n_E − n_0) in the committed store; held-out slabs as full cubes, from which
``studies/au100_response/evaluate.py --from-cubes`` keeps the compact reference:

    OMP_NUM_THREADS=1 echemml dft cp2k data/au100/structures/train_*.xyz \
        --field 0 0 -0.5 --field 0 0 -1 --no-forces --threads 1 --candidates data/au100_response.h5
    OMP_NUM_THREADS=1 echemml dft cp2k data/au100/structures/test_*.xyz \
        --field 0 0 -0.5 --field 0 0 -1 --no-forces --threads 1 --out au100_cubes
"""

from pathlib import Path

from ase.build import fcc100

HERE = Path(__file__).parent
LATTICE = 4.08  # Å
VACUUM = 8.0  # Å
RATTLE = 0.05  # Å


def slab(layers: int, seed: int | None):
    atoms = fcc100("Au", size=(2, 2, layers), a=LATTICE, vacuum=VACUUM)
    atoms.pbc = [True, True, False]
    if seed is not None:
        atoms.rattle(stdev=RATTLE, seed=seed)
    return atoms


def main() -> None:
    folder = HERE / "structures"
    folder.mkdir(exist_ok=True)
    for layers in (3, 4, 5):
        for copy in range(6):
            slab(layers, seed=100 * layers + copy).write(folder / f"train_L{layers}_{copy}.xyz")
    # The 6-layer slab was labelled first as a held-out thickness; the shipped model trains on it.
    slab(6, seed=2000).write(folder / "train_L6_0.xyz")
    for copy in range(2):
        slab(4, seed=1000 + copy).write(folder / f"test_L4_{copy}.xyz")
    slab(7, seed=3000).write(folder / "test_L7_0.xyz")


if __name__ == "__main__":
    main()
