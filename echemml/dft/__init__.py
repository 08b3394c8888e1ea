"""DFT backends that label configurations with densities: PySCF (embedded), CP2K, VASP.

Each backend returns a :class:`DFTResult` holding a DensityGrid in Å and e/Å³.
Backends import their DFT code lazily, so ``import echemml.dft`` works without them.
"""

from .result import DFTResult

__all__ = ["DFTResult"]
