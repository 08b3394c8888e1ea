"""Workflows built on echemml models (installed as ``echemml.protocols``): active learning
and constant-potential electrode runs.

- :mod:`echemml.protocols.novelty`: how new a configuration is to a model — the LIFS
  residual of its feature vectors against the training data's basis, a novelty map on a
  grid, the committee deviation beside it, and DP-GEN's trust levels.
- :mod:`echemml.protocols.active_learning`: the loop MD → score → DFT → sample → retrain →
  MD (``echemml learn``), resumable after a kill; its settings
  (:mod:`echemml.protocols.learning_settings`), DFT labellers (:mod:`echemml.protocols.labellers`),
  state and record (:mod:`echemml.protocols.learning_state`) and report
  (:mod:`echemml.protocols.learning_report`).
"""

from .active_learning import ActiveLearning
from .learning_settings import LearningSettings, load_settings
from .learning_report import write_report
from .learning_state import LearningRecord
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
    "ActiveLearning",
    "FrameNovelty",
    "LearningRecord",
    "LearningSettings",
    "NoveltyBasis",
    "TrustLevels",
    "build_basis",
    "committee_deviation",
    "load_settings",
    "novelty_grid",
    "residuals",
    "score_frame",
    "write_report",
]
