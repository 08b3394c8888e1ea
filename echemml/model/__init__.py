"""FIREANN for grids: FI-EAD features, message passing, heads, prediction, model files.

torch stays inside this package; its public functions take and return numpy
arrays, ase.Atoms and DensityGrid (Å, V/Å, e/Å³, eV).
"""

from .committee import CommitteeModel, committee_from_files
from .features import FieldAwareDensityFeatures, feature_count
from .files import FORMAT_VERSION, load_model, model_summary, save_model
from .fireann import FireannConfig, FireannRepresentation
from .heads import DensityModel, EnergyModel, FireannModel, ResponseModel, build_model
from .prediction import point_features, predict_energy, predict_grid, predict_member_grids, predict_points
from .presets import PRESETS, preset_config
from .response_prediction import PredictedSlabResponse, predict_slab_response

__all__ = [
    "FORMAT_VERSION",
    "CommitteeModel",
    "PRESETS",
    "DensityModel",
    "EnergyModel",
    "FieldAwareDensityFeatures",
    "FireannConfig",
    "FireannModel",
    "FireannRepresentation",
    "PredictedSlabResponse",
    "ResponseModel",
    "build_model",
    "committee_from_files",
    "feature_count",
    "load_model",
    "model_summary",
    "point_features",
    "predict_energy",
    "predict_grid",
    "predict_member_grids",
    "predict_points",
    "predict_slab_response",
    "preset_config",
    "save_model",
]
