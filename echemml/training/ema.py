"""Exponential moving average of a model's weights, used for validation and the saved model."""

from __future__ import annotations

import torch
from torch import nn


class WeightAverage:
    """Shadow copies θ̄ ← d·θ̄ + (1 − d)·θ of every floating parameter and buffer."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = float(decay)
        self.shadow = {key: value.detach().clone() for key, value in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the shadow weights towards the model's current ones."""
        for key, value in model.state_dict().items():
            if value.is_floating_point():
                self.shadow[key].mul_(self.decay).add_(value.detach(), alpha=1.0 - self.decay)
            else:
                self.shadow[key].copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {key: value.clone() for key, value in self.shadow.items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.shadow = {key: value.clone() for key, value in state.items()}
