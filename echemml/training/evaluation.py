"""Whole-grid evaluation of a model against DFT densities: NMAE (%), RMSE and R² (e/Å³), electron counts.

For a density model each file is a reference n(r); the model predicts every
point of its grid. For a response model each file is the density in the field
and ``references`` gives the zero-field density of the same structure and grid:
the reference is Δn = n_ε − n_0 and the metrics are on Δn.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch

from ..analysis.metrics import nmae, r2, rmse
from ..errors import EchemmlError
from ..grid import DensityGrid
from ..io import read_density
from ..model.heads import FireannModel
from ..model.prediction import predict_grid


def reference_grid(
    path: str | os.PathLike, head: str, zero_field: str | os.PathLike | None = None
) -> DensityGrid:
    """The reference a model of ``head`` is compared with: n, or Δn = n(path) − n(zero_field), e/Å³."""
    grid = read_density(path)
    if head != "response":
        return grid
    if zero_field is None:
        raise EchemmlError(f"{path}: a response model needs the zero-field density of the same grid (--reference)")
    return grid.difference(read_density(zero_field))


def compare(reference: DensityGrid, predicted: DensityGrid, name: str) -> dict:
    """Metrics of one grid: NMAE %, RMSE and R² in e/Å³, integrated reference and prediction in e."""
    return {
        "file": name,
        "nmae": nmae(reference.values, predicted.values),
        "rmse": rmse(reference.values, predicted.values),
        "r2": r2(reference.values, predicted.values),
        "electrons_ref": reference.integral(),
        "electrons_pred": predicted.integral(),
    }


def evaluate(
    model: FireannModel,
    files: Sequence[str | os.PathLike],
    field: Sequence[float] | np.ndarray | None = None,
    references: Sequence[str | os.PathLike] | None = None,
    dtype: torch.dtype = torch.float32,
    parity_plot: str | os.PathLike | None = None,
) -> dict:
    """Predict each file's whole grid and compare.

    Args:
        model: a density or response model.
        files: reference density files (for a response model: in the field).
        field: uniform field of the predictions, V/Å (a response model needs one).
        references: zero-field density files, one per file (response models only).
        dtype: float32 or float64 prediction.
        parity_plot: write a parity plot (model vs DFT over every grid point) to this PNG.

    Returns:
        {"files": [{"file", "nmae", "rmse", "r2", "electrons_ref", "electrons_pred"}],
        "mean_nmae", "mean_rmse"}: NMAE in %, RMSE in e/Å³, electrons in e (∫Δn for a response).
    """
    if references is not None and len(references) != len(files):
        raise EchemmlError(f"{len(files)} files but {len(references)} zero-field references; give one per file")
    if model.head == "response" and (field is None or not np.any(np.asarray(field, dtype=float))):
        raise EchemmlError("a response model is evaluated in a field: give --field EX EY EZ (V/Å)")
    rows, pairs = [], {}
    for index, path in enumerate(files):
        reference = reference_grid(path, model.head, None if references is None else references[index])
        predicted = predict_grid(model, reference, field=field, dtype=dtype)
        rows.append(compare(reference, predicted, os.fspath(path)))
        pairs[os.path.basename(os.fspath(path))] = (reference.values, predicted.values)
    if parity_plot is not None:
        from ..analysis.plots import parity_plot as draw_parity

        draw_parity(pairs, parity_plot, unit="e/Å³", title=f"{model.head}: model vs DFT, every grid point")
    return {
        "files": rows,
        "mean_nmae": float(np.mean([row["nmae"] for row in rows])),
        "mean_rmse": float(np.mean([row["rmse"] for row in rows])),
    }
