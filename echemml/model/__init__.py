"""FIREANN for grids: FI-EAD features, message passing, heads, prediction, model files.

torch stays inside this package; its public functions take and return numpy
arrays, ase.Atoms and DensityGrid (Å, V/Å, e/Å³, eV).
"""

from .features import FieldAwareDensityFeatures, feature_count
from .files import FORMAT_VERSION, load_model, model_summary, save_model
from .fireann import FireannConfig, FireannRepresentation
from .heads import DensityModel, EnergyModel, FireannModel, ResponseModel, build_model
from .prediction import point_features, predict_energy, predict_grid, predict_points
from .presets import PRESETS, preset_config

__all__ = [
    "FORMAT_VERSION",
    "PRESETS",
    "DensityModel",
    "EnergyModel",
    "FieldAwareDensityFeatures",
    "FireannConfig",
    "FireannModel",
    "FireannRepresentation",
    "ResponseModel",
    "build_model",
    "feature_count",
    "load_model",
    "model_summary",
    "point_features",
    "predict_energy",
    "predict_grid",
    "predict_points",
    "preset_config",
    "save_model",
]
