"""echemml: machine-learned electron densities and their field response on DFT grids.

The Python API mirrors the command line: ``read_density``/``write_density`` for
files, :class:`DensityGrid` for a density in memory (Å, e/Å³), and the DFT
backends in :mod:`echemml.dft`.
"""

import os

# Grid prediction alternates numba's parallel kernels with torch's operations, and the two
# run on separate OpenMP runtimes. With OpenMP's default wait policy the idle runtime's
# threads spin while the other works, so on a few cores each slows the other (a 0.3 Å
# electrode frame took 0.56–0.67 s instead of 0.51–0.53 s on 2 cores; benchmarks/
# electrode_frame_cost.py). Passive waiting lets them take turns. Set before torch is
# first imported; a caller's own OMP_WAIT_POLICY wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .errors import EchemmlError, GridMismatchError, InputFileError
from .grid import DensityGrid
from .io import read_density, write_density

__version__ = "0.1.0"

__all__ = [
    "DensityGrid",
    "EchemmlError",
    "GridMismatchError",
    "InputFileError",
    "read_density",
    "write_density",
    "__version__",
]
