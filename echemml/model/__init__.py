"""FIREANN for grids: FI-EAD features, message passing, heads, prediction, model files.

torch stays inside this package; its public functions take and return numpy
arrays, ase.Atoms and DensityGrid (Å, V/Å, e/Å³, eV).
"""

from .committee import CommitteeModel
from .features import FieldAwareDensityFeatures, feature_count
from .files import FORMAT_VERSION, committee_from_files, committee_member, load_model, model_summary, save_model
from .fireann import FireannConfig, FireannRepresentation
from .heads import DensityModel, EnergyModel, FireannModel, ResponseModel, build_model
from .inputs import AtomGraph, GhostPoints, model_batch
from .prediction import GridPredictor, predict_energy, predict_grid, predict_member_grids, predict_points
from .presets import PRESETS, preset_config

__all__ = [
    "AtomGraph",
    "FORMAT_VERSION",
    "CommitteeModel",
    "PRESETS",
    "DensityModel",
    "EnergyModel",
    "FieldAwareDensityFeatures",
    "FireannConfig",
    "FireannModel",
    "FireannRepresentation",
    "GhostPoints",
    "GridPredictor",
    "ResponseModel",
    "build_model",
    "committee_from_files",
    "committee_member",
    "feature_count",
    "load_model",
    "model_batch",
    "model_summary",
    "predict_energy",
    "predict_grid",
    "predict_member_grids",
    "predict_points",
    "preset_config",
    "save_model",
]
