"""Workflows: a model's prediction turned into the numbers a study reports.

They sit above :mod:`echemml.model` and :mod:`echemml.analysis` and combine them;
neither of those imports this package.

- :func:`predict_slab_response` — an electrode's Δn under a field, neutralised, with
  the paper's Fig. 6 numbers (charge transfer, ESP drop and slope) and a committee's
  spread (:mod:`echemml.workflows.slab_response`).
- :func:`mean_induced_profile` — that Δn's planar-integrated λ(z) averaged over the
  frames of an MD run.
"""

from .slab_response import PredictedSlabResponse, mean_induced_profile, predict_slab_response, slab_response_of_members

__all__ = ["PredictedSlabResponse", "mean_induced_profile", "predict_slab_response", "slab_response_of_members"]
