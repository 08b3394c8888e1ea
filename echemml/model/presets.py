"""Model sizes of Table 1 of Feng, Zhang & Jiang (JCTC 2025), by name."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import EchemmlError
from .fireann import FireannConfig

# name: (readout hidden, orbital-coefficient hidden, rc Å, L, T, K) → M features
PRESETS: dict[str, dict] = {
    # QM9 molecules: 108 features
    "qm9": dict(readout_hidden=(32, 32), orbital_hidden=(16, 16), cutoff=4.0, max_l=2, n_iterations=2, n_radial=8),
    # H2O on Pt(111): 108 features
    "h2o-pt": dict(readout_hidden=(64, 64), orbital_hidden=(32, 32), cutoff=4.0, max_l=2, n_iterations=2, n_radial=8),
    # Au electrode response: 234 features
    "au-response": dict(readout_hidden=(128, 128), orbital_hidden=(64, 64), cutoff=6.0, max_l=2, n_iterations=6, n_radial=12),
}


def preset_config(name: str, species: Sequence[int]) -> FireannConfig:
    """The configuration of a Table-1 preset for the given atomic numbers."""
    try:
        sizes = PRESETS[name]
    except KeyError:
        raise EchemmlError(f"unknown model preset {name!r}; known: {', '.join(PRESETS)}") from None
    return FireannConfig(species=tuple(int(z) for z in species), **sizes)
