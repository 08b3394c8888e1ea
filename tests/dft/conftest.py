"""What the CP2K tests share: the tiny H2 every real run uses, and the skip where CP2K is missing."""

from __future__ import annotations

import shutil

import pytest
from ase import Atoms

H2 = Atoms("H2", positions=[(2, 2, 3.63), (2, 2, 4.37)], cell=[4, 4, 8], pbc=[True, True, False])
"""H2 along z in a 4×4×8 Å cell periodic in x and y: the cheapest real CP2K run (its cell is 1.7× its
density along z, shorter than the 2× the MT Poisson solver wants, so runs warn)."""


def require_cp2k() -> None:
    """Skip the calling test or fixture when cp2k.psmp is not installed."""
    if shutil.which("cp2k.psmp") is None:
        pytest.skip("CP2K not installed (apt-get install cp2k)")
