"""Evaluation of an energy model on labelled frames: energy (meV/atom) and force (meV/Å) errors.

Each frame of each extxyz file (:func:`echemml.io.labelled_frames.read_labelled_frames`)
is predicted through :class:`echemml.calculators.EChemCalculator` with the frame's own
net charge (e) and field (V/Å) in ``atoms.info``, so that the −Q ε·R energy of a
charged frame is in the prediction as it is in the DFT label. Errors are reported per
file, over all frames, and by field strength |ε|; a committee adds its mean spread.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import keys
from ..errors import EchemmlError
from ..io import format_from_name
from ..io.labelled_frames import read_labelled_frames
from ..io.samples import SampledConfiguration

FIELD_BINS = (("0", 0.0, 0.0), ("0-0.25", 0.0, 0.25), ("0.25-0.5", 0.25, 0.5), (">0.5", 0.5, np.inf))
"""|ε| bins, V/Å: (label, low, high] — the first holds exactly zero field only."""


@dataclass
class FramePrediction:
    """One frame's DFT label and model prediction.

    Energies in eV, forces (N, 3) in eV/Å, ``field`` the strength |ε| in V/Å;
    ``energy_std`` (eV) and ``forces_std`` ((N, 3) eV/Å) are a committee's spread, else None.
    """

    energy_dft: float
    energy_model: float
    forces_dft: np.ndarray
    forces_model: np.ndarray
    field: float
    energy_std: float | None = None
    forces_std: np.ndarray | None = None

    @property
    def atoms(self) -> int:
        return len(self.forces_dft)

    @property
    def energy_error(self) -> float:
        """(E_model − E_DFT) / N_atoms, eV/atom."""
        return (self.energy_model - self.energy_dft) / self.atoms

    @property
    def forces_error(self) -> np.ndarray:
        """F_model − F_DFT, (N, 3) eV/Å."""
        return self.forces_model - self.forces_dft


def field_bin(strength: float) -> str:
    """The label of the bin of :data:`FIELD_BINS` a field strength |ε| (V/Å) falls in."""
    if strength == 0.0:
        return FIELD_BINS[0][0]
    return next(label for label, low, high in FIELD_BINS[1:] if low < strength <= high)


def predict_frame(model, configuration: SampledConfiguration) -> FramePrediction:
    """Energy and forces of one labelled configuration from ``model`` through EChemCalculator."""
    from echemml.calculators import EChemCalculator

    atoms = configuration.atoms.copy()
    atoms.info.update(charge=configuration.charge, external_field=configuration.field)
    atoms.calc = EChemCalculator(potential=model)
    committee = len(model.members) > 1
    return FramePrediction(
        energy_dft=configuration.energy,
        energy_model=atoms.get_potential_energy(),
        forces_dft=configuration.forces,
        forces_model=atoms.get_forces(),
        field=float(np.linalg.norm(configuration.field)),
        energy_std=atoms.calc.get_property("energy_std", atoms) if committee else None,
        forces_std=atoms.calc.get_property("forces_std", atoms) if committee else None,
    )


def error_metrics(frames: Sequence[FramePrediction]) -> dict:
    """Frame count, energy MAE and RMSE (meV/atom, over frames), force MAE and RMSE (meV/Å, over all components)."""
    energy = 1000.0 * np.array([frame.energy_error for frame in frames])
    forces = 1000.0 * np.concatenate([frame.forces_error.ravel() for frame in frames])
    return {
        "frames": len(frames),
        "energy_mae_meV_per_atom": float(np.mean(np.abs(energy))),
        "energy_rmse_meV_per_atom": float(np.sqrt(np.mean(energy**2))),
        "forces_mae_meV_per_A": float(np.mean(np.abs(forces))),
        "forces_rmse_meV_per_A": float(np.sqrt(np.mean(forces**2))),
    }


def by_field(frames: Sequence[FramePrediction]) -> list[dict]:
    """Energy (meV/atom) and force (meV/Å) MAE of the frames in each |ε| bin that has any."""
    rows = []
    for label, _, _ in FIELD_BINS:
        chosen = [frame for frame in frames if field_bin(frame.field) == label]
        if chosen:
            metrics = error_metrics(chosen)
            rows.append({
                "field_V_per_A": label,
                "frames": len(chosen),
                "energy_mae_meV_per_atom": metrics["energy_mae_meV_per_atom"],
                "forces_mae_meV_per_A": metrics["forces_mae_meV_per_A"],
            })
    return rows


def evaluate_energy(model, paths: Sequence[str | os.PathLike], parity_plot: str | os.PathLike | None = None) -> dict:
    """Predict every labelled frame of ``paths`` with an energy model and compare with its DFT label.

    Args:
        model: an energy model or a committee of energy models.
        paths: extxyz files of labelled frames (energy eV, forces eV/Å, ``charge`` e,
            ``external_field`` V/Å in each frame's info).
        parity_plot: write a parity plot (energy per atom and force components, coloured by |ε|) to this PNG.

    Returns:
        A JSON-ready dict: ``files`` (per file: ``file``, ``frames``, ``energy_mae_meV_per_atom``,
        ``energy_rmse_meV_per_atom``, ``forces_mae_meV_per_A``, ``forces_rmse_meV_per_A``), the same
        metrics over every frame, ``by_field`` (per |ε| bin in V/Å: ``field_V_per_A``, ``frames``, energy and
        force MAE) and, for a committee, ``energy_std_mean_meV_per_atom`` and ``forces_std_mean_meV_per_A``
        (the members' std, averaged over frames and over force components). The energy error of a frame is
        (E_model − E_DFT)/N_atoms; force errors are per Cartesian component.

    Raises:
        EchemmlError: the model is no energy model, or a path is a density file (cube, CHGCAR).
        InputFileError: a file is unreadable or a frame lacks its energy or forces.
    """
    if model.head != keys.ENERGY:
        raise EchemmlError(f"a {model.head} model has no energy; evaluate it on density files (cube, CHGCAR)")
    if not paths:
        raise EchemmlError("no labelled-frame files to evaluate on")
    for path in paths:
        if format_from_name(path) is not None:
            raise EchemmlError(f"{path}: an energy model is evaluated on labelled frames (extxyz with energy and forces)")
    rows, frames = [], []
    for path in paths:
        configurations, _ = read_labelled_frames(path)
        predictions = [predict_frame(model, configuration) for configuration in configurations]
        rows.append({"file": os.fspath(path), **error_metrics(predictions)})
        frames += predictions
    report = {"files": rows, **error_metrics(frames), "by_field": by_field(frames)}
    if frames[0].energy_std is not None:
        report["energy_std_mean_meV_per_atom"] = 1000.0 * float(np.mean([f.energy_std / f.atoms for f in frames]))
        report["forces_std_mean_meV_per_A"] = 1000.0 * float(np.mean(np.concatenate([f.forces_std.ravel() for f in frames])))
    if parity_plot is not None:
        from ..analysis.plots import energy_parity_plot

        energy_parity_plot(
            np.array([f.energy_dft / f.atoms for f in frames]), np.array([f.energy_model / f.atoms for f in frames]),
            [f.forces_dft for f in frames], [f.forces_model for f in frames], np.array([f.field for f in frames]),
            parity_plot, title=f"energy model vs DFT, {len(frames)} frames",
        )
    return report


__all__ = ["FIELD_BINS", "FramePrediction", "by_field", "error_metrics", "evaluate_energy", "field_bin", "predict_frame"]
