"""echemml: machine-learned electron densities and their field response on DFT grids.

The Python API mirrors the command line: ``read_density``/``write_density`` for
files, :class:`DensityGrid` for a density in memory (Å, e/Å³), and the DFT
backends in :mod:`echemml.dft`.
"""

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
