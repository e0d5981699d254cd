"""``MinGRU`` and ``MinLSTM``: stacks of the minimal cells with ``torch.nn.GRU``'s interface.

Their only state is h (``lstmlab.cells.min_rnn``), so they take and return ``hx`` as
``torch.nn.GRU`` does, not ``nn.LSTM``'s (h, c): a minLSTM has no cell state apart from h.
Constructor, input layouts (batch_first, unbatched, ``PackedSequence``), dropout between layers
and parameter names (``weight_ih_l0``, ``bias_ih_l0``, ``*_reverse``) are torch's.

    output, h_n = layer(input, h_0)        h_0, h_n (L*D, B, H); output (T, B, D*H)

Each layer and direction runs ``cell.parallel`` (the scan, ``parallel=True``, the default) or
the step loop ``unroll`` (``parallel=False``; also for a ``PackedSequence``, whose sequences end
at different steps): the same numbers, tested. The reverse direction scans the flipped input.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from lstmlab.cells.min_rnn import MinGRUCell, MinLSTMCell
from lstmlab.cells.state import HiddenState
from lstmlab.layers.stack import Prepared, RecurrentStack


class _MinStack(RecurrentStack):
    """A stack of ``cell_class`` cells run by their parallel scan; see the module docstring."""

    state_fields = ("h",)
    cell_class: type[nn.Module]

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
        device: torch.device | str | None = None, dtype: torch.dtype | None = None, *,
        parallel: bool = True, method: str = "linear", chunk_size: int | None = None,
    ) -> None:
        def make_cell(size: int) -> nn.Module:
            return self.cell_class(size, hidden_size, bias, dtype=dtype, device=device)

        super().__init__(make_cell, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional)
        self.mode = self.cell_class.__name__.removesuffix("Cell")
        self.parallel, self.method, self.chunk_size = parallel, method, chunk_size
        self.fused = True  # no torch kernel exists; True only silences options_repr's note

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None
                ) -> tuple[Tensor | PackedSequence, Tensor]:
        """``(output, h_n)`` from ``input`` and ``hx = h_0`` (zeros if None)."""
        prepared, state = self.prepare(input, hx)
        if self.parallel and prepared.batch_sizes is None:
            output, state = self._scanned(prepared, state)
        else:
            output, state = self.readable(prepared, state)
        return self.finish(prepared, output, state)

    def _scanned(self, prepared: Prepared, hx: tuple[Tensor, ...] | None
                 ) -> tuple[Tensor, tuple[Tensor, ...]]:
        def run(index: int, cell: nn.Module, x: Tensor, reverse: bool) -> tuple[Tensor, Tensor]:
            state = None if hx is None else HiddenState(hx[0][index])
            steps = x.flip(0) if reverse else x
            scanned = cell.parallel(steps, state, method=self.method, chunk_size=self.chunk_size)
            return (scanned.outputs.flip(0) if reverse else scanned.outputs), scanned.state.h

        output, finals = self.through_layers(prepared.x, run)  # x (T, B, I)
        return output, (torch.stack(finals),)

    def extra_repr(self) -> str:
        return self.options_repr({"num_layers": 1, "bias": True, "batch_first": False,
                                  "dropout": 0.0, "bidirectional": False, "parallel": True,
                                  "method": "linear", "chunk_size": None})


class MinGRU(_MinStack):
    """minGRU layers (``lstmlab.cells.min_rnn``) with ``torch.nn.GRU``'s interface."""

    cell_class = MinGRUCell


class MinLSTM(_MinStack):
    """minLSTM layers (``lstmlab.cells.min_rnn``) with ``torch.nn.GRU``'s interface (h only)."""

    cell_class = MinLSTMCell
