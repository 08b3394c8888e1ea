"""Write the Au(100) slab configurations of the response data set (extxyz, Å).

2×2 Au(100) slabs (a = 4.08 Å), pbc T T F, atoms rattled with a Gaussian of
0.05 Å (seeded). ``structures/``: 8 Å of vacuum on each side (the data of the
shipped au100-response model). ``structures_mt/``: the same slabs with vacuum
0.55·t + 6.5 Å per side for a slab t Å thick (L3 8.7 … L7 13.2 Å), so that the
cell is ≥ 2.1× the density along z, as CP2K's MT Poisson solver needs (with 8 Å
the 6- and 7-layer cells are only 1.7× and their screening charge is off).
Training: 3, 4 and 5 layers, six rattled copies each, and one 6-layer slab; the
MT-safe set adds six more rattled copies of the 4-, 5- and 6-layer slabs
(train_L4_6…11, train_L5_6…11, train_L6_1…6), labelled by the same command,
and two rattled 8-layer slabs (train_L8_0, train_L8_1; vacuum 14.4 Å per side).
Held out: two more rattled 4-layer slabs, two rattled 3-layer slabs, one
7-layer slab and, in the MT-safe set, one 9-layer slab (test_L9_0, vacuum
15.5 Å per side). The shipped model trains on 3-, 4-, 5-, 6- and 8-layer slabs,
so it never sees 9 layers (thicker than any it trains on) nor 7 (between two it
does).

    python data/au100/make_structures.py      # writes structures/*.xyz and structures_mt/*.xyz

The CP2K labels then come from two resumable commands (PBE, DZVP-MOLOPT-SR-GTH,
GTH-PBE-q11, 300 Ry; 3–16 min per SCF on one core, longer for thicker slabs).
Training slabs are kept as compact labels (candidate points of n_0 and of
Δn = n_E − n_0) in the committed store; held-out slabs as full cubes, from which
``studies/au100_response/evaluate.py --from-cubes`` keeps the compact reference:

    OMP_NUM_THREADS=1 echemml dft cp2k data/au100/structures/train_*.xyz \
        --field 0 0 -0.5 --field 0 0 -1 --no-forces --threads 1 --candidates au100_response.h5
    OMP_NUM_THREADS=1 echemml dft cp2k data/au100/structures/test_*.xyz \
        --field 0 0 -0.5 --field 0 0 -1 --no-forces --threads 1 --out au100_cubes

and for the MT-safe set the same commands on ``structures_mt/`` into a new store,
``data/au100_response_mt.h5``, and ``au100_mt_cubes`` (stores resume by
configuration name, so the two sets must not share one). ``--workers 2`` runs two
single-thread slabs at once on a 2-core machine, into the same store. The 7-layer
slab in its 13.2 Å of vacuum per side does not converge in 200 SCF steps with the
default Broyden mixing (α 0.2, 4 steps of history); ``--mixing-alpha 0.1
--broyden-history 8 --max-scf 400`` converges each of its SCFs in about 70 steps
(the converged density does not depend on the mixing); the 8-layer slabs were
labelled with the same three options (about 11 s per SCF step on one core,
45–48 min per slab for its three SCFs, 0 V/Å and the two fields), and so was the held-out
9-layer slab (54 min on one core):

    OMP_NUM_THREADS=1 echemml dft cp2k data/au100/structures_mt/test_L9_0.xyz \
        --field 0 0 -0.5 --field 0 0 -1 --no-forces --threads 1 \
        --mixing-alpha 0.1 --broyden-history 8 --max-scf 400 --out au100_mt_cubes
"""

from pathlib import Path

from ase.build import fcc100

HERE = Path(__file__).parent
LATTICE = 4.08  # Å
VACUUM = 8.0  # Å
RATTLE = 0.05  # Å
EXTRA_COPIES = 6  # more 4-, 5- and 6-layer training slabs in the MT-safe set
THICK_COPIES = 2  # 8-layer training slabs in the MT-safe set (7 layers then lies between trained thicknesses)


def mt_vacuum(layers: int) -> float:
    """Vacuum per side (Å) that keeps the cell ≥ 2.1× the density extent of a ``layers``-layer slab."""
    thickness = (layers - 1) * LATTICE / 2
    return round(0.55 * thickness + 6.5, 1)


def slab(layers: int, seed: int | None, vacuum: float = VACUUM):
    atoms = fcc100("Au", size=(2, 2, layers), a=LATTICE, vacuum=vacuum)
    atoms.pbc = [True, True, False]
    if seed is not None:
        atoms.rattle(stdev=RATTLE, seed=seed)
    return atoms


def write_set(
    folder: Path, vacuum, extra_copies: int = 0, thick_copies: int = 0, thick_held_out: bool = False
) -> None:
    """Every slab of the data set into ``folder``; ``vacuum(layers)`` gives Å per side.

    ``extra_copies`` more rattled 4-, 5- and 6-layer training slabs are written
    after the first ones (the MT-safe set has them: with 19 slabs the response
    model fitted its training slabs but not new rattles of them); ``thick_copies``
    rattled 8-layer training slabs after those; ``thick_held_out`` adds the
    held-out 9-layer slab test_L9_0.
    """
    folder.mkdir(exist_ok=True)
    for layers in (3, 4, 5):
        for copy in range(6):
            slab(layers, 100 * layers + copy, vacuum(layers)).write(folder / f"train_L{layers}_{copy}.xyz")
    # The 6-layer slab was labelled first as a held-out thickness; the shipped model trains on it.
    slab(6, 2000, vacuum(6)).write(folder / "train_L6_0.xyz")
    for copy in range(1, extra_copies + 1):
        for layers in (4, 5):
            slab(layers, 100 * layers + 5 + copy, vacuum(layers)).write(folder / f"train_L{layers}_{5 + copy}.xyz")
        slab(6, 2000 + copy, vacuum(6)).write(folder / f"train_L6_{copy}.xyz")
    for copy in range(thick_copies):
        slab(8, 4000 + copy, vacuum(8)).write(folder / f"train_L8_{copy}.xyz")
    for copy in range(2):
        slab(4, 1000 + copy, vacuum(4)).write(folder / f"test_L4_{copy}.xyz")
        slab(3, 1300 + copy, vacuum(3)).write(folder / f"test_L3_{copy}.xyz")
    slab(7, 3000, vacuum(7)).write(folder / "test_L7_0.xyz")
    if thick_held_out:
        slab(9, 3900, vacuum(9)).write(folder / "test_L9_0.xyz")


def main() -> None:
    write_set(HERE / "structures", lambda layers: VACUUM)
    write_set(HERE / "structures_mt", mt_vacuum, extra_copies=EXTRA_COPIES, thick_copies=THICK_COPIES,
              thick_held_out=True)


if __name__ == "__main__":
    main()
