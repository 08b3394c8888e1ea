"""The model file: one torch.save'd dict, loaded with ``weights_only=True``.

Keys:
    format          "echemml-fireann"
    format_version  integer; files of another version are refused
    head            "density", "response" or "energy"
    hyperparameters FireannConfig.to_dict(): species, cutoff, K, L, T, NN widths
    species         atomic numbers (also inside hyperparameters; kept for readers)
    cutoff          rc, Å
    units           {"length": "Å", "density": "e/Å³", "field": "V/Å", "energy": "eV"}
    state_dict      the weights (and target scaling buffers)
    metadata        free-form facts (training data, command that built it)

MODEL names a file path or a shipped model (see :mod:`echemml.pretrained`).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..errors import InputFileError
from .fireann import FireannConfig
from .heads import HEADS, FireannModel

FORMAT = "echemml-fireann"
FORMAT_VERSION = 2  # 2: heads subtract the empty-point readout, no target mean
UNITS = {"length": "Å", "density": "e/Å³", "field": "V/Å", "energy": "eV"}


def save_model(model: FireannModel, path: str | os.PathLike, metadata: dict | None = None) -> None:
    """Write ``model`` to ``path`` (weights in float32 unless the model is float64)."""
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "head": model.head,
        "hyperparameters": model.config.to_dict(),
        "species": list(model.config.species),
        "cutoff": float(model.config.cutoff),
        "units": dict(UNITS),
        "state_dict": {key: value.detach().cpu() for key, value in model.state_dict().items()},
        "metadata": dict(metadata or {}),
    }
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def load_tagged_file(
    path: Path, format_name: str, format_version: int, what: str, advice: str = ""
) -> dict:
    """A dict that echemml saved with torch.save under ``format``/``format_version`` tags.

    Garbage, a foreign file or another format version raise InputFileError naming
    ``path`` and saying which (``what`` names the kind of file in the message).
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for garbage
        raise InputFileError(path, f"corrupt or not an echemml {what} ({exc.__class__.__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != format_name:
        raise InputFileError(path, f"not an echemml {what}")
    version = payload.get("format_version")
    if version != format_version:
        message = f"{what} format version {version}; this echemml reads version {format_version}"
        raise InputFileError(path, f"{message}; {advice}" if advice else message)
    return payload


def load_model(name_or_path: str | os.PathLike) -> FireannModel:
    """Load a model file, or a shipped model by name; returns it in eval mode, float32."""
    path = Path(name_or_path)
    if not path.exists():
        from ..pretrained import model_path

        if os.sep in str(name_or_path) or path.suffix:
            raise InputFileError(path, "no such model file")
        path = model_path(str(name_or_path))
    payload = load_tagged_file(
        path, FORMAT, FORMAT_VERSION, what="model file",
        advice="re-export the model with a matching echemml",
    )
    head = payload.get("head")
    if head not in HEADS:
        raise InputFileError(path, f"unknown model head {head!r}")
    try:
        config = FireannConfig.from_dict(payload["hyperparameters"])
        model = HEADS[head](config)
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise InputFileError(path, f"model file does not match its hyperparameters: {exc}") from None
    model.metadata = dict(payload.get("metadata", {}))
    return model.float().eval()


def model_summary(model: FireannModel) -> str:
    """One line describing a model (head, sizes, species)."""
    from ase.data import chemical_symbols

    c = model.config
    elements = "".join(chemical_symbols[z] for z in c.species)
    return (
        f"FIREANN {model.head} model [{elements}], rc {c.cutoff} Å, K {c.n_radial}, L {c.max_l}, "
        f"T {c.n_iterations}, {c.n_features} features"
    )


__all__ = ["FORMAT", "FORMAT_VERSION", "UNITS", "save_model", "load_model", "model_summary"]
