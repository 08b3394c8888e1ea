"""Workflows built on echemml models (installed as ``echemml.protocols``): active learning
and constant-potential electrode runs.

- :mod:`echemml.protocols.novelty`: how new a configuration is to a model — the LIFS
  residual of its feature vectors against the training data's basis, a novelty map on a
  grid, the committee deviation beside it, and DP-GEN's trust levels.
"""

from .novelty import (
    FrameNovelty,
    NoveltyBasis,
    TrustLevels,
    build_basis,
    committee_deviation,
    novelty_grid,
    residuals,
    score_frame,
)

__all__ = [
    "FrameNovelty",
    "NoveltyBasis",
    "TrustLevels",
    "build_basis",
    "committee_deviation",
    "novelty_grid",
    "residuals",
    "score_frame",
]
