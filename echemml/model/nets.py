"""Small residual MLPs: the atomic orbital-coefficient NNs and the readouts."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class ResidualMLP(nn.Module):
    """Linear → SiLU, then residual SiLU layers where widths repeat, then a linear output.

    ``zero_output`` initialises the last layer to zero, so that a message-passing
    update starts as the identity and a readout starts at its bias.
    """

    def __init__(self, n_in: int, hidden: Sequence[int], n_out: int, zero_output: bool = True):
        super().__init__()
        widths = [n_in, *hidden]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.output = nn.Linear(widths[-1], n_out)
        self.activation = nn.SiLU()
        if zero_output:
            nn.init.zeros_(self.output.weight)
            nn.init.zeros_(self.output.bias)

    def first_layer_output(self, x: torch.Tensor) -> torch.Tensor:
        """The pre-activation of the first hidden layer (fast prediction fuses this one)."""
        return self.hidden[0](x)

    def forward_from_first(self, h: torch.Tensor) -> torch.Tensor:
        """The rest of the network, from the first layer's pre-activation."""
        h = self.activation(h)
        for layer in self.hidden[1:]:
            update = self.activation(layer(h))
            h = h + update if update.shape == h.shape else update
        return self.output(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_from_first(self.first_layer_output(x))


class SpeciesMLP(nn.Module):
    """One ResidualMLP per element, applied to the rows of that element."""

    def __init__(self, n_species: int, n_in: int, hidden: Sequence[int], n_out: int, zero_output: bool = True):
        super().__init__()
        self.n_out = n_out
        self.nets = nn.ModuleList(ResidualMLP(n_in, hidden, n_out, zero_output) for _ in range(n_species))

    def forward(self, x: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        out = x.new_zeros(len(x), self.n_out)
        for index, net in enumerate(self.nets):
            rows = torch.nonzero(species == index).squeeze(1)
            if len(rows):
                out = out.index_copy(0, rows, net(x[rows]))
        return out
