"""Figures worth a look, as PNG files (matplotlib, no screen needed).

Each function takes plain arrays in echemml's units, writes one PNG atomically
and returns its path. They mirror the paper's figures: parity (Fig. 2), line
scan with error (Fig. 4), 2D integrated-density maps (Fig. 5), planar-averaged
response with its ESP (Fig. 6), Bader charges along a reaction coordinate
(Fig. 9), and learning curves; and an MD run's recorded series with its profiles.

Figures are ``matplotlib.figure.Figure`` objects saved through their own canvas,
so nothing global changes: pyplot is not used and the backend of the user's
session (a notebook's) stays as it was.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..io.files import atomic_open


def save_figure(figure: Figure, path: str | os.PathLike) -> Path:
    """Lay out ``figure`` and write it to ``path`` as a PNG (150 dpi) atomically."""
    path = Path(path)
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=150)
    return path


def parity_plot(
    sets: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | os.PathLike, unit: str = "e/Å³",
    title: str = "", max_points: int = 200_000,
) -> Path:
    """Predicted vs reference values, one colour per set ("train", "validation", "test").

    ``sets`` maps a label to (reference, predicted) arrays; the legend gives each
    set's RMSE. At most ``max_points`` points per set are drawn (evenly strided).
    """
    figure = Figure(figsize=(4.8, 4.6))
    axes = figure.subplots()
    low, high = np.inf, -np.inf
    for label, (reference, predicted) in sets.items():
        reference, predicted = np.ravel(reference), np.ravel(predicted)
        rmse = float(np.sqrt(np.mean((reference - predicted) ** 2)))
        stride = max(1, len(reference) // max_points)
        axes.scatter(reference[::stride], predicted[::stride], s=2, alpha=0.5, label=f"{label} (RMSE {rmse:.2e})")
        low, high = min(low, reference.min(), predicted.min()), max(high, reference.max(), predicted.max())
    axes.plot([low, high], [low, high], "k--", lw=0.8)
    axes.set_xlabel(f"DFT ({unit})")
    axes.set_ylabel(f"model ({unit})")
    axes.set_title(title)
    axes.legend(fontsize=7, markerscale=4)
    return save_figure(figure, path)


def energy_parity_plot(
    energy_dft: np.ndarray, energy_model: np.ndarray, forces_dft: Sequence[np.ndarray],
    forces_model: Sequence[np.ndarray], field: np.ndarray, path: str | os.PathLike, title: str = "",
) -> Path:
    """An energy model vs DFT: energy per atom (left) and force components (right), coloured by |ε|.

    ``energy_dft`` and ``energy_model`` are per frame, eV/atom (both drawn shifted by the
    DFT mean); ``forces_dft`` and ``forces_model`` one (N, 3) array per frame, eV/Å;
    ``field`` the strength |ε| of each frame, V/Å.
    """
    energy_dft, energy_model, field = (np.asarray(values, dtype=float) for values in (energy_dft, energy_model, field))
    mean = energy_dft.mean()
    reference = np.concatenate([np.ravel(forces) for forces in forces_dft])
    predicted = np.concatenate([np.ravel(forces) for forces in forces_model])
    component_field = np.concatenate([np.full(np.size(forces), strength) for forces, strength in zip(forces_dft, field)])
    figure = Figure(figsize=(9.0, 4.4))
    left, right = figure.subplots(1, 2)
    panels = (
        (left, energy_dft - mean, energy_model - mean, field, 12, "energy per atom − DFT mean (eV/atom)", 1000, "meV/atom"),
        (right, reference, predicted, component_field, 4, "force component (eV/Å)", 1000, "meV/Å"),
    )
    for axes, x, y, colour, size, label, scale, unit in panels:
        image = axes.scatter(x, y, c=colour, s=size, cmap="viridis", vmin=0.0, vmax=max(field.max(), 1e-12))
        low, high = min(x.min(), y.min()), max(x.max(), y.max())
        axes.plot([low, high], [low, high], "k--", lw=0.8)
        axes.set_xlabel(f"DFT {label}")
        axes.set_ylabel(f"model {label}")
        axes.set_title(f"MAE {scale * np.mean(np.abs(y - x)):.3g} {unit}", fontsize=9)
    figure.colorbar(image, ax=right, label="|ε| (V/Å)")
    figure.suptitle(title)
    return save_figure(figure, path)


def learning_curve_plot(log: Mapping[str, Sequence[float]], path: str | os.PathLike) -> Path:
    """Training and validation loss (log scale) and learning rate against epoch.

    ``log`` has "epoch", "train_loss", "val_loss" and optionally "lr".
    """
    figure = Figure(figsize=(5.5, 4))
    axes = figure.subplots()
    axes.semilogy(log["epoch"], log["train_loss"], label="train")
    axes.semilogy(log["epoch"], log["val_loss"], label="validation")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.legend(loc="upper right")
    if "lr" in log:
        twin = axes.twinx()
        twin.semilogy(log["epoch"], log["lr"], color="grey", lw=0.8, ls=":")
        twin.set_ylabel("learning rate", color="grey")
    return save_figure(figure, path)


def member_learning_curves_plot(logs: Mapping[str, Mapping[str, Sequence[float]]], path: str | os.PathLike) -> Path:
    """Training (thin) and validation (thick) loss against epoch of several runs, e.g. a committee's members.

    ``logs`` maps each run's label to columns "epoch", "train_loss" and "val_loss".
    """
    figure = Figure(figsize=(5.5, 4))
    axes = figure.subplots()
    for index, (label, log) in enumerate(logs.items()):
        color = f"C{index % 10}"
        axes.semilogy(log["epoch"], log["train_loss"], color=color, lw=0.6, alpha=0.6)
        axes.semilogy(log["epoch"], log["val_loss"], color=color, lw=1.4, label=f"{label} (validation)")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (thin: train)")
    axes.legend(loc="upper right", fontsize=7)
    return save_figure(figure, path)


def profile_plot(
    z: np.ndarray, curves: Mapping[str, np.ndarray], path: str | os.PathLike,
    ylabel: str = "planar-integrated density (e/Å)", xlabel: str = "z (Å)",
) -> Path:
    """One or more profiles against a coordinate, e.g. λ(z) of several files."""
    figure = Figure(figsize=(5.5, 3.8))
    axes = figure.subplots()
    for label, values in curves.items():
        axes.plot(z, values, label=label)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.legend(fontsize=8)
    return save_figure(figure, path)


def response_profile_plot(
    z: np.ndarray, curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | os.PathLike,
    atom_z: np.ndarray | None = None, title: str = "",
) -> Path:
    """Planar-averaged Δn (e/Å) and its ESP (V) against z (Å), e.g. DFT vs model (Fig. 6).

    ``curves`` maps a label to (line density Δλ(z), ESP φ(z)).
    """
    figure = Figure(figsize=(5.5, 5.5))
    top, bottom = figure.subplots(2, 1, sharex=True)
    for label, (line_density, esp) in curves.items():
        top.plot(z, line_density, label=label)
        bottom.plot(z, esp, label=label)
    for axes in (top, bottom):
        if atom_z is not None:
            for position in np.unique(np.round(atom_z, 2)):
                axes.axvline(position, color="gold", lw=0.6, zorder=0)
        axes.legend(fontsize=8)
    top.set_ylabel("planar-averaged Δn (e/Å)")
    bottom.set_ylabel("response ESP (V)")
    bottom.set_xlabel("z (Å)")
    top.set_title(title)
    return save_figure(figure, path)


def line_scan_plot(
    distance: np.ndarray, curves: Mapping[str, np.ndarray], path: str | os.PathLike, title: str = ""
) -> Path:
    """Density along a line (e/Å³) for DFT and model, with their difference (Fig. 4)."""
    figure = Figure(figsize=(5.5, 5))
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    for label, values in curves.items():
        top.plot(distance, values, label=label)
    if len(curves) == 2:
        (first_label, first), (second_label, second) = curves.items()
        bottom.plot(distance, np.asarray(second) - np.asarray(first), color="k", lw=0.8)
        bottom.set_ylabel(f"{second_label} − {first_label}", fontsize=8)
    top.set_ylabel("n (e/Å³)")
    bottom.set_xlabel("distance along the line (Å)")
    top.legend()
    top.set_title(title)
    return save_figure(figure, path)


def density_maps_plot(
    u: np.ndarray, v: np.ndarray, maps: Mapping[str, np.ndarray], path: str | os.PathLike
) -> Path:
    """2D integrated densities (e/Å²) side by side, e.g. DFT, model and their difference (Fig. 5)."""
    figure = Figure(figsize=(4 * len(maps), 3.6))
    axes = figure.subplots(1, len(maps), squeeze=False)
    for ax, (label, values) in zip(axes[0], maps.items()):
        limit = np.abs(values).max() or 1.0
        diverging = values.min() < 0
        image = ax.pcolormesh(
            u, v, values.T, shading="auto", cmap="RdBu_r" if diverging else "viridis",
            vmin=-limit if diverging else None, vmax=limit if diverging else None,
        )
        ax.set_aspect("equal")
        ax.set_title(label)
        ax.set_xlabel("Å")
        figure.colorbar(image, ax=ax, label="e/Å²")
    return save_figure(figure, path)


def bader_path_plot(
    coordinate: np.ndarray, charges: Mapping[str, np.ndarray], path: str | os.PathLike,
    xlabel: str = "reaction coordinate (Å)",
) -> Path:
    """Bader charges (e) of chosen atoms along a reaction coordinate, DFT vs model (Fig. 9)."""
    figure = Figure(figsize=(5.5, 4))
    axes = figure.subplots()
    for label, values in charges.items():
        axes.plot(coordinate, values, marker="o", ms=3, label=label)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("Bader charge (e)")
    axes.legend(fontsize=8)
    return save_figure(figure, path)


def md_run_plot(
    time_ps: np.ndarray, series: Mapping[str, tuple[np.ndarray, Sequence[str] | None, str]],
    profiles: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | os.PathLike, profile_xlabel: str = "z (Å)",
    title: str = "",
) -> Path:
    """An MD run in one figure: its recorded series against time (left, one panel each) and profiles
    along the slab normal (right, stacked, sharing z), e.g. atoms per Å and the mean induced λ(z).

    ``series`` maps a name to (values (frames,) or (frames, components), component labels or None,
    unit); a series of more than eight components (one per atom) is drawn in thin lines without a
    legend. ``profiles`` maps a y-axis label (with its unit) to (z, values).
    """
    rows_left, rows_right = max(len(series), 1), max(len(profiles), 1)
    columns = int(bool(series)) + int(bool(profiles)) or 1
    figure = Figure(figsize=(6.0 * columns, max(2.2 * len(series), 3.2 * len(profiles), 3.2)))
    layout = figure.add_gridspec(rows_left * rows_right, columns)
    time_axes = None
    for index, (name, (values, labels, unit)) in enumerate(series.items()):
        axes = figure.add_subplot(layout[index * rows_right:(index + 1) * rows_right, 0], sharex=time_axes)
        time_axes = axes if time_axes is None else time_axes
        values = np.asarray(values, dtype=float).reshape(len(time_ps), -1)
        many = values.shape[1] > 8
        for column in range(values.shape[1]):
            label = labels[column] if labels is not None else None
            axes.plot(time_ps, values[:, column], lw=0.5 if many else 1.2, label=None if many else label)
        if labels is not None and not many:
            axes.legend(fontsize=7, loc="best")
        axes.set_ylabel(f"{name} ({unit})" if unit else name, fontsize=8)
        axes.set_xlabel("time (ps)" if index == len(series) - 1 else "")
    profile_axes = None
    for index, (label, (z, values)) in enumerate(profiles.items()):
        axes = figure.add_subplot(layout[index * rows_left:(index + 1) * rows_left, columns - 1], sharex=profile_axes)
        profile_axes = axes if profile_axes is None else profile_axes
        axes.plot(z, values, color=f"C{index}")
        axes.axhline(0.0, color="grey", lw=0.5, zorder=0)
        axes.set_ylabel(label, fontsize=8)
        axes.set_xlabel(profile_xlabel if index == len(profiles) - 1 else "")
    figure.suptitle(title)
    return save_figure(figure, path)
