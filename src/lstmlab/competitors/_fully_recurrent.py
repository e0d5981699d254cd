"""The 1997 paper's gradient competitors' net: a recurrent hidden layer whose outputs also see
the inputs.

[H97] §5.2 describes the RTRL and BPTT nets of experiment 2 as "one self-recurrent hidden unit
and p+1 non-recurrent output units, each layer connected from all layers below": the output units
read the input units and the hidden layer. ``SkipCell`` wraps an ``ElmanCell`` (or any cell whose
state is ``HiddenState``) so that a readout on ``state.h`` sees exactly that:

    hidden_t = tanh(x_t @ W_ih.T + hidden_{t-1} @ W_hh.T + b)      the wrapped cell
    h_t      = [x_t, hidden_t]                                      (B, I + H), what outputs read

The paper's hidden units are logistic; ours are tanh (the ``ElmanCell`` of torch.nn.RNN): a
documented difference that changes no algorithm. With ``ElmanCell`` and no skip this is also the
Elman net (Elman 1990: context units holding a copy of the hidden layer).

Weight counts differ a little from the paper's. Ours carry torch.nn.RNN's two hidden biases and
output biases, where the 2a nets have none: 43 / 157 / 10,507 weights for p = 4 / 10 / 100
against Table 2's 36 / 144 / 10,404. Table 1's RTRL nets (Smith & Zipser 1989) have ≈170 / ≈494
weights for 3 / 12 hidden units, ours 113 / 392 (our output units do not recur); its Elman net
with 15 hidden units ≈435, ours 472.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from lstmlab.cells import ElmanCell, HiddenState
from lstmlab.training import SequenceModel


class SkipState(NamedTuple):
    """``h`` (B, I + H) = [x_t, hidden_t], the readout's input; ``hidden`` (B, H) recurs."""

    h: Tensor
    hidden: Tensor


class SkipCell(nn.Module):
    """``cell`` with its input passed on beside its output (see the module docstring)."""

    def __init__(self, cell: nn.Module) -> None:
        super().__init__()
        self.cell = cell
        self.input_size = cell.input_size
        self.hidden_size = cell.input_size + cell.hidden_size

    def initial_state(self, batch_size: int, *, dtype: torch.dtype | None = None,
                      device: torch.device | None = None) -> SkipState:
        inner = self.cell.initial_state(batch_size, dtype=dtype, device=device)
        zeros = inner.h.new_zeros(batch_size, self.input_size)
        return SkipState(torch.cat([zeros, inner.h], dim=-1), inner.h)

    def forward(self, x: Tensor, state: SkipState) -> tuple[SkipState, NamedTuple]:
        inner, gates = self.cell(x, HiddenState(state.hidden))
        return SkipState(torch.cat([x, inner.h], dim=-1), inner.h), gates


def fully_recurrent_net(input_size: int, hidden_size: int, output_size: int, *,
                        inputs_to_outputs: bool, weight_range: float,
                        generator: torch.Generator,
                        dtype: torch.dtype = torch.float64) -> SequenceModel:
    """A ``SequenceModel``: Elman hidden layer (optionally with the skip), logistic outputs,
    every weight uniform in ±``weight_range`` ([H97] §5: 0.2 for experiments 1 and 2)."""
    cell = ElmanCell(input_size, hidden_size, dtype=dtype)
    if inputs_to_outputs:
        cell = SkipCell(cell)
    model = SequenceModel(cell, nn.Linear(cell.hidden_size, output_size, dtype=dtype),
                          squash=torch.sigmoid)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(
                (torch.rand(parameter.shape, generator=generator, dtype=dtype) * 2 - 1)
                * weight_range)
    return model
