"""Committees: several independently trained ghost-point models whose mean is the prediction.

A committee of K members of one head and one set of hyperparameters predicts
the mean of its members' values (e/Å³) at every point. Members trained on different validation slabs or seeds
err in different directions where the training data leave a model free, e.g.
on a slab thicker than any trained one, and the mean cancels much of that.

Build one from trained model files with ``echemml committee A.pt B.pt … -o C.pt``
or :func:`echemml.model.committee_from_files`; load it with ``load_model`` like a
single model. Training, warm starts and LIFS features need a single model.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ..errors import EchemmlError
from .fireann import FireannConfig
from .heads import ConfiguredModel, GhostPointModel


class CommitteeModel(ConfiguredModel, nn.Module):
    """K ≥ 2 ghost-point models (density or response) of one head and configuration."""

    def __init__(self, members: Sequence[GhostPointModel]):
        super().__init__()
        members = list(members)
        if len(members) < 2:
            raise EchemmlError(f"a committee needs at least 2 members, got {len(members)}")
        first = members[0]
        for index, member in enumerate(members):
            if not isinstance(member, GhostPointModel):
                raise EchemmlError(f"committee member {index + 1}: a {member.head} model; "
                                   "committees take density or response models")
            if member.head != first.head:
                raise EchemmlError(f"committee member {index + 1}: a {member.head} model among {first.head} models")
            if member.config != first.config:
                raise EchemmlError(f"committee member {index + 1}: hyperparameters differ from member 1's")
        self.members = nn.ModuleList(members)
        self.metadata: dict = {}

    @property
    def head(self) -> str:
        """'density' or 'response', shared by every member."""
        return self.members[0].head

    @property
    def config(self) -> FireannConfig:
        """The members' shared hyperparameters."""
        return self.members[0].config


def committee_from_files(paths: Sequence[str], metadata: dict | None = None) -> CommitteeModel:
    """A committee of the single models in ``paths`` (files or shipped names).

    The committee's metadata records each member's source and metadata under
    ``members``, plus ``metadata``.
    """
    from .files import load_model

    members = [load_model(path) for path in paths]
    for path, member in zip(paths, members):
        if isinstance(member, CommitteeModel):
            raise EchemmlError(f"{path}: already a committee; give its single-model members instead")
    committee = CommitteeModel(members)
    committee.metadata = {**(metadata or {}),
                          "members": [{"source": str(path), **member.metadata} for path, member in zip(paths, members)]}
    return committee


__all__ = ["CommitteeModel", "committee_from_files"]
