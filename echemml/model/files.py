"""The model file: one torch.save'd dict, loaded with ``weights_only=True``.

Keys:
    format          "echemml-fireann"
    format_version  integer; files of another version are refused
    head            "density", "response" or "energy"
    hyperparameters FireannConfig.to_dict(): species, cutoff, K, L, T, NN widths
    species         atomic numbers (also inside hyperparameters; kept for readers)
    cutoff          rc, Å
    units           {"length": "Å", "density": "e/Å³", "field": "V/Å", "energy": "eV"} (:mod:`echemml.keys`)
    state_dict      the weights (and target scaling buffers) of a single model
    committee       instead of state_dict, a committee's list of member weights
                    (see :mod:`echemml.model.committee`)
    metadata        free-form facts (training data, command that built it)

MODEL names a file path or a shipped model (see :mod:`echemml.pretrained`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from .. import keys
from ..errors import EchemmlError, InputFileError
from ..io.tagged_files import load_tagged_file
from .committee import CommitteeModel
from .fireann import FireannConfig
from .heads import HEADS, FireannModel

FORMAT = "echemml-fireann"
FORMAT_VERSION = 2  # 2: heads subtract the empty-point readout, no target mean
UNITS = keys.units(keys.LENGTH, keys.DENSITY, keys.FIELD, keys.ENERGY)


def _weights(model: nn.Module) -> dict:
    return {key: value.detach().cpu() for key, value in model.state_dict().items()}


def save_model(model: FireannModel | CommitteeModel, path: str | os.PathLike, metadata: dict | None = None) -> None:
    """Write ``model`` (a single model or a committee) to ``path`` atomically.

    Weights stay in the model's dtype (float32 unless the model is float64).
    """
    members = [_weights(member) for member in model.members]
    weights = {"committee": members} if len(members) > 1 else {"state_dict": members[0]}
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "head": model.head,
        "hyperparameters": model.config.to_dict(),
        "species": list(model.config.species),
        "cutoff": float(model.config.cutoff),
        "units": dict(UNITS),
        **weights,
        "metadata": dict(metadata or {}),
    }
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def load_model(name_or_path: str | os.PathLike) -> FireannModel | CommitteeModel:
    """Load a model file, or a shipped model by name; returns it in eval mode, float32.

    A committee file gives a :class:`CommitteeModel`, which the prediction
    functions accept wherever they accept a density or response model.
    """
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
        if "committee" in payload:
            members = [HEADS[head](config) for _ in payload["committee"]]
            for member, weights in zip(members, payload["committee"]):
                member.load_state_dict(weights)
            model = CommitteeModel(members)
        else:
            model = HEADS[head](config)
            model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise InputFileError(path, f"model file does not match its hyperparameters: {exc}") from None
    except EchemmlError as exc:  # a committee file of fewer than two members
        raise InputFileError(path, str(exc)) from None
    model.metadata = dict(payload.get("metadata", {}))
    return model.float().eval()


def committee_member(model: FireannModel | CommitteeModel, number: int, source: str | os.PathLike = "model") -> FireannModel:
    """Member ``number`` (1-based, the order of ``echemml committee``'s command) of a committee, e.g. to
    warm-start its retraining; it carries the metadata the committee recorded for it and the valence table."""
    members = model.members
    if len(members) < 2:
        raise InputFileError(Path(source), "is a single model, not a committee: it has no members to pick from")
    if not 1 <= number <= len(members):
        raise InputFileError(Path(source), f"has members 1–{len(members)}, not {number}")
    member = members[number - 1]
    recorded = model.metadata.get("members", [])
    member.metadata = dict(recorded[number - 1]) if number <= len(recorded) else {}
    if "valence_charges" in model.metadata:
        member.metadata["valence_charges"] = model.metadata["valence_charges"]
    return member


def model_summary(model: FireannModel | CommitteeModel) -> str:
    """One line describing a model (head, sizes, species; members of a committee)."""
    from ase.data import chemical_symbols

    c = model.config
    elements = "".join(chemical_symbols[z] for z in c.species)
    committee = f", committee of {len(model.members)}" if len(model.members) > 1 else ""
    return (
        f"FIREANN {model.head} model [{elements}], rc {c.cutoff} Å, K {c.n_radial}, L {c.max_l}, "
        f"T {c.n_iterations}, {c.n_features} features{committee}"
    )


def committee_from_files(paths: Sequence[str], metadata: dict | None = None) -> CommitteeModel:
    """A committee of the single models in ``paths`` (files or shipped names).

    The committee's metadata records each member's source and metadata under
    ``members``, plus ``metadata``; the valence table (e per element) the members were
    trained for becomes the committee's own when they all list the same one.
    """
    members = [load_model(path) for path in paths]
    for path, member in zip(paths, members):
        if len(member.members) > 1:
            raise EchemmlError(f"{path}: already a committee; give its single-model members instead")
    committee = CommitteeModel(members)
    committee.metadata = {**(metadata or {}),
                          "members": [{"source": str(path), **member.metadata} for path, member in zip(paths, members)]}
    valence_tables = [member.metadata.get("valence_charges") for member in members]
    if valence_tables[0] is not None and all(table == valence_tables[0] for table in valence_tables):
        committee.metadata.setdefault("valence_charges", valence_tables[0])
    return committee


__all__ = ["FORMAT", "FORMAT_VERSION", "UNITS", "committee_from_files", "save_model", "load_model", "model_summary"]
