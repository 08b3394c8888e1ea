"""Small shipped models, addressable by name (``echemml predict NAME ...``).

A shipped model is a file ``<name>.pt`` in this package's folder, written by
:func:`echemml.model.save_model`, next to the command that rebuilt it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import EchemmlError

MODEL_SUFFIX = ".pt"


def _folder() -> Path:
    return Path(str(resources.files(__name__)))


def available_models() -> list[str]:
    """Names of the shipped models, sorted."""
    return sorted(path.stem for path in _folder().glob(f"*{MODEL_SUFFIX}"))


def model_path(name: str) -> Path:
    """Path of the shipped model ``name``; an unknown name lists the available ones."""
    path = _folder() / f"{name}{MODEL_SUFFIX}"
    if not path.is_file():
        names = available_models()
        listing = ", ".join(names) if names else "none shipped yet"
        raise EchemmlError(f"no model file or shipped model named {name!r} (shipped models: {listing})")
    return path
