"""The training log: one row per epoch, written as CSV and drawn as a learning curve.

Columns: epoch, train_loss and val_loss (weighted mean squared, or absolute, error of the
targets divided by their standard deviation, dimensionless), val_rmse (e/Å³),
lr (learning rate after the epoch), seconds (wall time of the epoch, s).
The whole history travels in the checkpoint, so a resumed run rewrites the
same log it would have written uninterrupted.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..io.files import atomic_open

COLUMNS = ("epoch", "train_loss", "val_loss", "val_rmse", "lr", "seconds")


def write_log(history: Sequence[dict], path: str | os.PathLike) -> Path:
    """Write the history as CSV (atomically)."""
    return _write_rows(history, COLUMNS, path)


def write_member_logs(logs: Mapping[str, Sequence[dict]], path: str | os.PathLike) -> Path:
    """Several runs' histories in one CSV (atomically), a leading ``member`` column naming each run."""
    rows = ({"member": member, **row} for member, history in logs.items() for row in history)
    return _write_rows(rows, ("member", *COLUMNS), path)


def _write_rows(rows: Iterable[dict], columns: Sequence[str], path: str | os.PathLike) -> Path:
    path = Path(path)
    with atomic_open(path, "w") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row[key] for key in columns})
    return path


def read_log(path: str | os.PathLike) -> list[dict]:
    """Rows of a log written by :func:`write_log`, numbers as floats (epoch as int)."""
    with open(path, newline="") as handle:
        return [
            {key: int(row[key]) if key == "epoch" else float(row[key]) for key in COLUMNS}
            for row in csv.DictReader(handle)
        ]


def write_learning_curve(history: Sequence[dict], path: str | os.PathLike) -> Path | None:
    """Train/validation loss and lr against epoch as a PNG; None when there is nothing to draw."""
    if not history:
        return None
    from ..analysis.plots import learning_curve_plot

    columns = {key: [row[key] for row in history] for key in ("epoch", "train_loss", "val_loss", "lr")}
    return learning_curve_plot(columns, path)


def write_member_learning_curves(logs: Mapping[str, Sequence[dict]], path: str | os.PathLike) -> Path:
    """Train/validation loss against epoch of several runs in one PNG, one colour per run."""
    from ..analysis.plots import member_learning_curves_plot

    columns = {
        member: {key: [row[key] for row in history] for key in ("epoch", "train_loss", "val_loss")}
        for member, history in logs.items()
    }
    return member_learning_curves_plot(columns, path)
