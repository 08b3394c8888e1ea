"""Regenerate the CP2K Au(100) response fixture (field 0 and E_z = −1 V/Å).

2×2 Au(100), 3 layers, 8 Å vacuum on each side, the recipe of
shared/design/DFT_RECIPES.md, density cubes at STRIDE 2 (32×32×108) gzipped:

    python tests/data/cp2k_au100/make_fixture.py      # about 2–4 minutes on 2 cores
"""

import gzip
import shutil
from pathlib import Path

from ase.build import fcc100

from echemml.dft.cp2k import Cp2kSettings, run_cp2k

HERE = Path(__file__).parent
slab = fcc100("Au", size=(2, 2, 3), vacuum=8.0)
slab.pbc = [True, True, False]
settings = Cp2kSettings(cube_stride=2, forces=False)
for name, field in (("field0", None), ("fieldm1", [0.0, 0.0, -1.0])):
    run_cp2k(slab, field=field, settings=settings, keep=HERE / name)
    with open(HERE / name / "density.cube", "rb") as src, gzip.open(HERE / f"au100_{name}.cube.gz", "wb", 9) as dst:
        shutil.copyfileobj(src, dst)
    shutil.copy(HERE / name / "cp2k.inp", HERE / f"au100_{name}.inp")
    shutil.copy(HERE / name / "cp2k.out", HERE / f"au100_{name}.out")
    shutil.rmtree(HERE / name)
