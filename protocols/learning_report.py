"""The report of an active-learning run: report.json (numbers) and report.png (figure), from its record.

The figure has one panel per signal recorded (LIFS novelty, dimensionless; committee
force deviation, eV/Å) over MD time (fs), with the trust levels lo and hi drawn on the
signal that selected frames and the frames sent to DFT marked (labelled, failed DFT job)
together with those flagged unphysical; a panel of cumulative DFT calls with the
retrainings as vertical lines; and, when held-out data are configured, the test errors
(force RMSE in meV/Å, density NMAE in %) of each iteration's models, iteration 0
being the starting models.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from echemml.io.files import atomic_open

from .learning_settings import SIGNAL_KEYS
from .learning_state import LearningRecord
from .novelty import CANDIDATE, FAILED, TRUSTED

REPORT_JSON = "report.json"
REPORT_PNG = "report.png"
SIGNAL_LABELS = {"novelty": "LIFS novelty (atoms, max)", "deviation": "committee force deviation (eV/Å)",
                 "density_deviation": "density committee spread (%)",
                 "response_deviation": "response committee spread (%)"}
TEST_LABELS = {"forces_rmse_meV_per_A": "force RMSE (meV/Å)", "energy_mae_meV_per_atom": "energy MAE (meV/atom)",
               "density_nmae_percent": "density NMAE (%)"}


def report_numbers(record: LearningRecord, settings) -> dict:
    """The run in numbers (JSON-ready): triggers by class, DFT calls, retrainings, held-out errors, series.

    ``settings``: the run's :class:`~echemml.protocols.learning_settings.LearningSettings`.
    """
    triggers, jobs = record.triggers, record.jobs
    done = [job for job in jobs if job["status"] == "done"]
    return {
        "stop_reason": record.stop_reason,
        "steps": record.md.step,
        "time_fs": record.md.step * settings.md.timestep,
        "iterations": record.iteration,
        "signal": settings.selection.signal,
        "trust_levels": {"lo": settings.selection.lo, "hi": settings.selection.hi,
                         "lo_quantile": settings.selection.lo_quantile, "lo_window": settings.selection.lo_window},
        "frames_scored": len(triggers),
        "frames_by_class": {kind: sum(t["class"] == kind for t in triggers) for kind in (TRUSTED, CANDIDATE, FAILED)},
        "dft": {
            "calls": len(jobs), "done": len(done), "failed": len(jobs) - len(done),
            "seconds": float(sum(job["seconds"] for job in jobs)),
            "labelled_fraction_of_scored": len(done) / len(triggers) if triggers else 0.0,
        },
        "labels_not_yet_trained_on": record.pending,
        "retrainings": record.retrainings,
        "test": record.tests,
        "wall_time_s": record.elapsed,
        "series": {
            "step": [t["step"] for t in triggers],
            "time_fs": [t["time_fs"] for t in triggers],
            **{key: [t.get(key) for t in triggers] for key in ("novelty", "ghost_novelty", "deviation")
               if any(key in t for t in triggers)},
            "class": [t["class"] for t in triggers],
        },
        "labelled_steps": [job["step"] for job in done],
        "failed_dft_steps": [job["step"] for job in jobs if job["status"] == "failed"],
    }


def write_report(record: LearningRecord, settings, folder: str | os.PathLike) -> dict:
    """Write ``folder``/report.json and ``folder``/report.png (atomically); returns the numbers."""
    import json

    folder = Path(folder)
    numbers = report_numbers(record, settings)
    with atomic_open(folder / REPORT_JSON) as handle:
        json.dump(numbers, handle, indent=1, ensure_ascii=False)
    report_figure(record, settings, folder / REPORT_PNG)
    return numbers


def report_figure(record: LearningRecord, settings, path: str | os.PathLike) -> Path:
    """Draw the signals over MD time, the DFT calls and the held-out errors (see the module docstring) to a PNG."""
    from matplotlib.figure import Figure

    from echemml.analysis.plots import save_figure

    signals = [key for key in SIGNAL_LABELS if any(key in t for t in record.triggers)]
    tests = [key for key in TEST_LABELS if any(key in row for row in record.tests)]
    panels = len(signals) + 1 + len(tests)
    figure = Figure(figsize=(7.0, 2.3 * panels))
    axes = np.atleast_1d(figure.subplots(panels, 1))
    selected = SIGNAL_KEYS[settings.selection.signal]
    for axis, key in zip(axes, signals):
        _signal_panel(axis, record, key, settings if key == selected else None)
    _dft_panel(axes[len(signals)], record)
    for axis, key in zip(axes[len(signals) + 1:], tests):
        _test_panel(axis, record, key)
    return save_figure(figure, path)


def _signal_panel(axis, record: LearningRecord, key: str, settings) -> None:
    """One signal over MD time (fs); with ``settings`` (it selected the frames) the trust levels and the frames."""
    triggers = [t for t in record.triggers if key in t]
    time_of = {t["step"]: t["time_fs"] for t in triggers}
    value_of = {t["step"]: t[key] for t in triggers}
    axis.plot([t["time_fs"] for t in triggers], [t[key] for t in triggers], lw=0.8, color="0.3")
    axis.set_yscale("log")
    axis.set_xlim(0.0, max(time_of.values()))
    axis.set_ylabel(SIGNAL_LABELS[key])
    axis.set_xlabel("MD time (fs)")
    if settings is None:
        return
    axis.axhline(settings.selection.lo, color="tab:green", ls="--", lw=0.8, label=f"lo {settings.selection.lo:g}")
    if settings.selection.lo_quantile is not None:  # the rolling lo each frame was sorted by
        axis.step([t["time_fs"] for t in triggers], [t.get("lo", settings.selection.lo) for t in triggers],
                  where="post", color="tab:green", lw=0.8,
                  label=f"rolling lo (q {settings.selection.lo_quantile:g} of {settings.selection.lo_window})")
    axis.axhline(settings.selection.hi, color="tab:red", ls="--", lw=0.8, label=f"hi {settings.selection.hi:g}")
    marks = (
        ([job["step"] for job in record.jobs if job["status"] == "done"], "o", "tab:blue", "labelled"),
        ([job["step"] for job in record.jobs if job["status"] == "failed"], "x", "tab:orange", "DFT failed"),
        ([t["step"] for t in triggers if t["class"] == FAILED], "^", "tab:red", "unphysical"),
    )
    for steps, marker, color, label in marks:
        steps = [step for step in steps if step in value_of]
        if steps:
            axis.scatter([time_of[s] for s in steps], [value_of[s] for s in steps], marker=marker, color=color,
                         s=22, zorder=3, label=f"{label} ({len(steps)})")
    axis.legend(fontsize=7, loc="upper left")


def _dft_panel(axis, record: LearningRecord) -> None:
    """Cumulative DFT calls against the MD time (fs) of their frames, to the end of the MD; retrainings dotted."""
    times = {t["step"]: t["time_fs"] for t in record.triggers}
    calls = sorted(times.get(job["step"], 0.0) for job in record.jobs)
    end = max(times.values(), default=0.0)
    axis.step([0.0, *calls, end], [0, *range(1, len(calls) + 1), len(calls)], where="post", color="tab:blue")
    for retraining in record.retrainings:
        axis.axvline(times.get(retraining["step"], 0.0), color="tab:purple", ls=":", lw=1.0)
    axis.set_xlim(0.0, end or None)
    axis.set_xlabel("MD time (fs)")
    axis.set_ylabel("DFT calls (retrainings dotted)")


def _test_panel(axis, record: LearningRecord, key: str) -> None:
    """A held-out error against the iteration (0: the starting models)."""
    from matplotlib.ticker import MaxNLocator

    rows = [row for row in record.tests if key in row]
    axis.plot([row["iteration"] for row in rows], [row[key] for row in rows], "o-", color="tab:green")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("iteration (models after each retraining)")
    axis.set_ylabel(TEST_LABELS[key])


__all__ = ["REPORT_JSON", "REPORT_PNG", "report_figure", "report_numbers", "write_report"]
