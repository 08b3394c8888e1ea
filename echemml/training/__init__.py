"""Training and evaluation: the Trainer, its configuration, checkpoints, DDP, fit cycles, metrics on grids.

torch stays inside this package and :mod:`echemml.model`; the public functions
take paths, numpy arrays and DensityGrid (Å, V/Å, e/Å³).
"""

from .config import DEFAULT_CONFIG_FILE, Config, load_config, write_config
from .trainer import Trainer, TrainingInterrupted

__all__ = ["DEFAULT_CONFIG_FILE", "Config", "Trainer", "TrainingInterrupted", "load_config", "write_config"]
