"""A sequence model: any cell run over time, plus a readout from its output ``h``.

Shapes: T time, B batch, I input, P the cell's output size (``state.h``), O output units.

    state_t, _ = cell(x_t, state_{t-1})            for t = 1..T (``unroll``), state_0 = zeros
    y_t        = squash(state_t.h @ W.T + b)       readout = nn.Linear(P, O), squash optional

The output at step t reads the hidden units of step t, as in the 1997 paper's three processing
steps per time step ([H97] App. A.1).
The 1997 nets use logistic output units (``squash=torch.sigmoid``); cross-entropy wants logits
(``squash=None``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from torch import Tensor, nn

from lstmlab.cells import Cell
from lstmlab.layers import unroll


class SequenceModel(nn.Module):
    """``cell`` (a :class:`~lstmlab.cells._state.Cell` module) + ``readout`` (+ ``squash``)."""

    def __init__(
        self, cell: Cell, readout: nn.Linear, squash: Callable[[Tensor], Tensor] | None = None
    ) -> None:
        super().__init__()
        if not isinstance(cell, nn.Module) or not isinstance(cell, Cell):
            raise ValueError(f"cell: expected an nn.Module following Cell, received {cell!r}")
        if not isinstance(readout, nn.Linear):
            raise ValueError(f"readout: expected nn.Linear, received {type(readout).__name__}")
        self.cell = cell
        self.readout = readout
        self.squash = squash

    def initial_state(self, batch_size: int, like: Tensor) -> NamedTuple:
        """The cell's zero state for ``batch_size`` sequences, in ``like``'s dtype and device."""
        return self.cell.initial_state(batch_size, dtype=like.dtype, device=like.device)

    def output(self, h: Tensor) -> Tensor:
        """``h`` (..., P) -> ``y`` (..., O): the readout and its squashing."""
        y = self.readout(h)
        return y if self.squash is None else self.squash(y)

    def forward(self, inputs: Tensor, state: NamedTuple | None = None) -> tuple[Tensor, NamedTuple]:
        """``inputs`` (T, B, I) -> outputs ``y`` (T, B, O) and the state after step T."""
        if inputs.dim() != 3:
            raise ValueError(f"inputs: expected (T, B, I), received shape {tuple(inputs.shape)}")
        if state is None:
            state = self.initial_state(inputs.shape[1], inputs)
        hs, state, _ = unroll(self.cell, inputs, state)
        return self.output(hs), state


def detach_state(state: NamedTuple) -> NamedTuple:
    """The same state cut from the graph: where truncated BPTT stops the gradient."""
    return type(state)(*(field.detach() for field in state))
