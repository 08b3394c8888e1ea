"""Committees: several independently trained models whose mean is the prediction, and whose spread its uncertainty.

A committee of K members of one head and one set of hyperparameters is a model
like any other: its ``forward`` takes the same batch dict and returns, for every
key its members return (:mod:`echemml.keys`), their mean, and under
``std_key(key)`` their standard deviation (over the members, ddof 0, same unit) —
the uncertainty the calculator and active learning read. Members trained on
different validation slabs or seeds err in different directions where the
training data leave a model free, e.g. on a slab thicker than any trained one; the
mean cancels much of that and the std shows where.

Build one from trained model files with ``echemml committee A.pt B.pt … -o C.pt``
or :func:`echemml.model.committee_from_files`; load it with ``load_model`` like a
single model. Training, warm starts and LIFS features need a single model.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..errors import EchemmlError
from ..keys import std_key
from .fireann import FireannConfig
from .heads import ConfiguredModel, FireannModel
from .inputs import Batch


class CommitteeModel(ConfiguredModel, nn.Module):
    """K ≥ 2 single models of one head and configuration; predicts their mean and std."""

    def __init__(self, members: Sequence[FireannModel]):
        super().__init__()
        members = list(members)
        if len(members) < 2:
            raise EchemmlError(f"a committee needs at least 2 members, got {len(members)}")
        first = members[0]
        for index, member in enumerate(members):
            if not isinstance(member, FireannModel):
                raise EchemmlError(f"committee member {index + 1}: a committee; give its single-model members")
            if member.head != first.head:
                raise EchemmlError(f"committee member {index + 1}: a {member.head} model among {first.head} models")
            if member.config != first.config:
                raise EchemmlError(f"committee member {index + 1}: hyperparameters differ from member 1's")
        self.members = nn.ModuleList(members)
        self.metadata: dict = {}

    @property
    def head(self) -> str:
        """'density', 'response' or 'energy', shared by every member."""
        return self.members[0].head

    @property
    def config(self) -> FireannConfig:
        """The members' shared hyperparameters."""
        return self.members[0].config

    def forward(self, batch: Batch, **options) -> Batch:
        """The members' mean of every output key, and its std under ``std_key(key)``.

        ``options`` go to each member's forward (e.g. ``compute_forces`` of energy models).
        """
        outputs = [member(batch, **options) for member in self.members]
        result = {}
        for key in outputs[0]:
            stacked = torch.stack([output[key] for output in outputs])
            result[key] = stacked.mean(dim=0)
            result[std_key(key)] = stacked.std(dim=0, correction=0)
        return result


__all__ = ["CommitteeModel"]
