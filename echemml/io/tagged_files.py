"""Files echemml writes with ``torch.save``: a dict tagged with its format name and version.

Model files (:mod:`echemml.model.files`) and training checkpoints
(:mod:`echemml.training.checkpoints`) are such files; both are read here, with
``weights_only=True`` so that loading one runs no code.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputFileError


def load_tagged_file(path: Path, format_name: str, format_version: int, what: str, advice: str = "") -> dict:
    """A dict that echemml saved with torch.save under ``format``/``format_version`` tags.

    Garbage, a foreign file or another format version raise InputFileError naming
    ``path`` and saying which (``what`` names the kind of file in the message).
    """
    import torch  # only readers of model files and checkpoints pay for torch

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


__all__ = ["load_tagged_file"]
