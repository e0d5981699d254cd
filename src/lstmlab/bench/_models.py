"""The family on the bench: one recurrent layer of each cell and a linear readout per step.

    logits_t = readout(h_t),  h_t from one layer of the cell over inputs (T, B, I) -> (T, B, H)

Each cell runs its fastest path that gives the numbers of its equations: torch's kernels for
``lstm``, ``gru``, ``elman`` (``lstmlab.layers`` with ``fused=True``), ``compiled_unroll`` for the
1997 cell, the parallel forms of ``mlstm``, ``minlstm``, ``mingru``, the step loop for ``slstm``.
``trace`` runs the same cell step by step with ``unroll(record=True)`` (every state and gate).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from lstmlab.cells import LSTM1997Cell
from lstmlab.layers import GRU, LSTM, MLSTM, RNN, SLSTM, MinGRU, MinLSTM, Recording, unroll
from lstmlab.layers._compiled import compiled_unroll

CELLS: dict[str, Callable[[int, int], nn.Module]] = {
    "lstm": lambda i, h: LSTM(i, h),
    "lstm1997": lambda i, h: LSTM1997Cell(i, num_blocks=h, block_size=1),
    "gru": lambda i, h: GRU(i, h),
    "slstm": lambda i, h: SLSTM(i, h),
    "mlstm": lambda i, h: MLSTM(i, h),
    "minlstm": lambda i, h: MinLSTM(i, h),
    "mingru": lambda i, h: MinGRU(i, h),
    "elman": lambda i, h: RNN(i, h),
}
"""Cell names (the bench's and the table's) -> a builder ``(input_size, hidden_size)``."""

class BenchModel(nn.Module):
    """One layer of cell ``name`` (a key of ``CELLS``) and a linear readout to ``classes``."""

    def __init__(self, name: str, input_size: int, hidden_size: int, classes: int) -> None:
        super().__init__()
        if name not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {name!r}")
        self.name = name
        self.recurrent = CELLS[name](input_size, hidden_size)
        self.readout = nn.Linear(hidden_size, classes)

    def cell(self) -> nn.Module:
        """The step module (for ``unroll``), holding the current weights."""
        if isinstance(self.recurrent, LSTM1997Cell):
            return self.recurrent
        return self.recurrent.bound_cell(0)

    def hidden(self, xs: Tensor) -> Tensor:
        """h_t for every step: (T, B, H) from ``xs`` (T, B, I)."""
        if isinstance(self.recurrent, LSTM1997Cell):
            return compiled_unroll(self.recurrent, xs).outputs
        return self.recurrent(xs)[0]

    def forward(self, xs: Tensor) -> Tensor:
        """Logits (T, B, classes) from ``xs`` (T, B, I)."""
        return self.readout(self.hidden(xs))

    @torch.no_grad()
    def trace(self, xs: Tensor) -> Recording:
        """Every step's state and gates (the cell's NamedTuples, each field (T, B, ...))."""
        return unroll(self.cell(), xs, record=True).recording
