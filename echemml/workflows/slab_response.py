"""A slab's predicted response to a field, with the spread of a committee's members.

:func:`predict_slab_response` is what ``echemml response`` and the held-out
evaluation of a response model compute: Δn(r; ε) (e/Å³) on a grid, its net
charge removed (in proportion to |Δn|), and the Fig. 6 numbers of
:func:`echemml.analysis.electrostatics.slab_response` (charge transfer in e,
ESP drop in V, ESP slope inside the metal in V/Å). For a committee the numbers
come from the members' mean Δn, and each member's own numbers are kept too:
their spread says how far the members disagree, which is largest where the
training data leave the model free (a slab thickness it never saw).
:func:`mean_induced_profile` averages the predicted λ(z) over the frames of an MD run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field as dataclass_field

import numpy as np

from ..analysis.balance import neutralize_response
from ..analysis.electrostatics import SlabResponse, slab_response
from ..analysis.md_run import LineDensityProfile, mean_line_density
from ..errors import EchemmlError
from ..grid import DensityGrid, uniform_grid
from ..model import CommitteeModel, FireannModel
from ..model.prediction import mean_grid, predict_member_grids


@dataclass
class PredictedSlabResponse:
    """A model's Δn on a slab's grid and what it implies.

    Attributes:
        response: predicted Δn (e/Å³), the committee's mean for a committee,
            neutralised unless asked not to.
        numbers: charge transfer, ESP drop and slope from ``response``.
        predicted_net_e: ∫Δn before neutralising, e.
        member_numbers: each committee member's numbers from its own
            (likewise neutralised) Δn; empty for a single model.
    """

    response: DensityGrid
    numbers: SlabResponse
    predicted_net_e: float
    member_numbers: list[SlabResponse] = dataclass_field(default_factory=list)

    def committee_spread(self) -> dict | None:
        """The members' transfers (e) and slopes (V/Å) with their standard deviations; None for a single model.

        The standard deviation is over the members (ddof 0), the committee's own
        uncertainty, not an error against DFT.
        """
        if not self.member_numbers:
            return None
        transfers = [numbers.transfer_e for numbers in self.member_numbers]
        slopes = [numbers.esp_slope_inside_V_per_A for numbers in self.member_numbers]
        return {
            "members": len(self.member_numbers),
            "transfer_e": transfers,
            "transfer_e_std": float(np.std(transfers)),
            "esp_slope_inside_V_per_A": slopes,
            "esp_slope_inside_V_per_A_std": float(np.std(slopes)),
        }


def predict_slab_response(
    model: FireannModel | CommitteeModel,
    grid: DensityGrid,
    field: Sequence[float],
    axis: int = 2,
    middle: float | None = None,
    neutralize: bool = True,
) -> PredictedSlabResponse:
    """Predict Δn of the slab in ``grid`` under ``field`` (V/Å) and its Fig. 6 numbers along ``axis``.

    ``middle`` (Å) is the plane dividing the faces (default: the slab's centre).
    A committee's members share one neighbour pass (:func:`predict_member_grids`);
    memory holds one grid per member.
    """
    return slab_response_of_members(model, grid, predict_member_grids(model, grid, field=field), axis, middle,
                                    neutralize)


def slab_response_of_members(
    model: FireannModel | CommitteeModel,
    grid: DensityGrid,
    member_grids: Sequence[np.ndarray],
    axis: int = 2,
    middle: float | None = None,
    neutralize: bool = True,
) -> PredictedSlabResponse:
    """:func:`predict_slab_response` from the members' Δn already predicted on ``grid`` (e/Å³, one
    array per member, as :class:`~echemml.model.GridPredictor` gives them)."""
    def numbers_of(predicted: DensityGrid) -> tuple[DensityGrid, SlabResponse]:
        response = neutralize_response(predicted)[0] if neutralize else predicted
        return response, slab_response(response, axis=axis, middle=middle)

    mean = mean_grid(model, grid, member_grids)
    member_numbers = ([numbers_of(grid.with_values(values))[1] for values in member_grids]
                      if len(member_grids) > 1 else [])
    return PredictedSlabResponse(*numbers_of(mean), mean.integral(), member_numbers)


def mean_induced_profile(
    frames: Sequence, fields: Sequence[Sequence[float]], model: FireannModel | CommitteeModel, axis: int = 2,
    spacing: float = 0.2, margin: float = 4.0,
) -> LineDensityProfile:
    """The slab's induced charge along ``axis`` averaged over ``frames`` (ASE Atoms, e.g. an MD run's):
    each frame's predicted, neutralised Δn in its field (``fields``, one (3,) V/Å per frame) on a
    uniform grid of about ``spacing`` Å spanning the cell, planar-integrated to λ(z) (e/Å), then the
    mean λ and its charge below and above the mean middle plane (e)."""
    profiles = []
    for atoms, field in zip(frames, fields, strict=True):
        if not np.any(atoms.pbc):
            raise EchemmlError("an induced-charge profile needs a slab: atoms periodic in the plane of its faces")
        grid = uniform_grid(atoms, spacing, margin, dtype=np.float32)
        profiles.append(predict_slab_response(model, grid, field=field, axis=axis).numbers)
    return mean_line_density([numbers.z for numbers in profiles], [numbers.line_density for numbers in profiles],
                             [numbers.middle for numbers in profiles])


__all__ = ["PredictedSlabResponse", "mean_induced_profile", "predict_slab_response", "slab_response_of_members"]
