"""Training checkpoints: one torch.save'd dict, written atomically, loaded with ``weights_only=True``.

Keys:
    format          "echemml-checkpoint"
    format_version  integer; files of another version are refused
    head            "density" or "response"
    hyperparameters FireannConfig.to_dict() of the model
    config          the training configuration (Config.to_dict())
    data            what the run trained on (sample-set path, configurations, points)
    state           model, optimiser, scheduler, EMA and best-model state dicts
    rng             torch, numpy and python random states
    progress        epoch (completed), batch (next batch of the current epoch),
                    running train-loss sums of that epoch, best validation loss,
                    history (one row per completed epoch)

A checkpoint is written to a temporary file in the same folder and renamed
into place, so a crash while writing leaves the previous one intact.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from ..errors import InputFileError
from ..io.files import atomic_open
from ..io.tagged_files import load_tagged_file

FORMAT = "echemml-checkpoint"
FORMAT_VERSION = 1
REQUIRED_KEYS = ("head", "hyperparameters", "config", "data", "state", "rng", "progress")


def save_checkpoint(payload: dict, path: str | os.PathLike) -> Path:
    """Write ``payload`` (the keys above except format) to ``path`` atomically."""
    path = Path(path)
    with atomic_open(path, "wb") as handle:
        torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **payload}, handle)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint; a missing, corrupt, foreign or other-version file raises InputFileError."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such checkpoint (nothing to resume)")
    payload = load_tagged_file(path, FORMAT, FORMAT_VERSION, what="training checkpoint")
    missing = [key for key in REQUIRED_KEYS if key not in payload]
    if missing:
        raise InputFileError(path, f"checkpoint lacks {', '.join(missing)}")
    return payload


def capture_rng() -> dict:
    """The torch, numpy and python global random states as plain tensors and tuples."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": kind,
            "keys": torch.as_tensor(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": random.getstate(),
    }


def restore_rng(state: dict) -> None:
    """Inverse of :func:`capture_rng`."""
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
