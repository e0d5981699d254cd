"""``MLSTM``: stacked mLSTM cells over a sequence; not ``nn.LSTM``'s interface.

An mLSTM's state holds a matrix per head (``lstmlab.cells.mlstm``), which no ``(h, c)`` tuple
of (L, B, H) tensors can carry, so this layer takes and returns one ``MLSTMState`` per layer:

    output, states = mlstm(input, states)    input (T, B, I) ((B, T, I) with batch_first);
                                             output (T, B, H); states: list of L MLSTMState

Parameters are named as the other stacks name them (``weight_ih_l0``, ``bias_ih_l0``, ...).
Each layer runs ``cell.parallel`` (``parallel=True``, the default: the whole sequence at once,
O(T^2) memory; ``chunk_size`` bounds it by running chunks one after the other, each from the
state the last one ended in) or the step loop ``unroll`` (``parallel=False``): the same numbers,
tested. Layers are joined by dropout in training mode, as torch's stacks.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmlab.cells.mlstm import MLSTMCell, MLSTMState
from lstmlab.cells.parameters import check_size
from lstmlab.layers.stack import RecurrentStack
from lstmlab.layers.unroll import unroll


class MLSTM(RecurrentStack):
    """mLSTM layers; see the module docstring."""

    state_fields = ("h",)

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0,
        device: torch.device | str | None = None, dtype: torch.dtype | None = None, *,
        num_heads: int = 1, eps: float = 1e-6, parallel: bool = True,
        chunk_size: int | None = None,
    ) -> None:
        if chunk_size is not None:
            check_size("chunk_size", chunk_size)

        def make_cell(size: int) -> nn.Module:
            return MLSTMCell(size, hidden_size, bias, num_heads=num_heads, eps=eps,
                             dtype=dtype, device=device)

        super().__init__(make_cell, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, False)
        self.mode, self.num_heads, self.eps = "MLSTM", num_heads, eps
        self.parallel, self.chunk_size = parallel, chunk_size
        self.fused = True  # no torch kernel exists; True only silences options_repr's note

    def forward(self, input: Tensor, states: list[MLSTMState] | None = None
                ) -> tuple[Tensor, list[MLSTMState]]:
        """``(output, states)`` from ``input`` and one state per layer (zeros if None)."""
        if not isinstance(input, Tensor) or input.dim() != 3 \
                or input.shape[-1] != self.input_size:
            received = tuple(input.shape) if isinstance(input, Tensor) else type(input)
            raise ValueError(f"input must have shape (time, batch, {self.input_size}) "
                             f"(batch_first: (batch, time, .)), got {received}")
        if states is not None and len(states) != self.num_layers:
            raise ValueError(f"states must hold one MLSTMState per layer ({self.num_layers}),"
                             f" got {len(states)}")
        x = input.transpose(0, 1) if self.batch_first else input

        def run(layer: int, cell: nn.Module, x: Tensor, reverse: bool) -> tuple[Tensor, object]:
            state = None if states is None else states[layer]
            if not self.parallel:
                output, state, _ = unroll(cell, x, state)
                return output, state
            size = self.chunk_size or x.shape[0]
            chunks = []
            for start in range(0, x.shape[0], size):
                outputs, state, _ = cell.parallel(x[start:start + size], state)
                chunks.append(outputs)
            return torch.cat(chunks), state

        x, finals = self.through_layers(x, run)  # one direction: reverse is never True
        return (x.transpose(0, 1) if self.batch_first else x), finals

    def extra_repr(self) -> str:
        return self.options_repr({"num_layers": 1, "bias": True, "batch_first": False,
                                  "dropout": 0.0, "num_heads": 1, "eps": 1e-6,
                                  "parallel": True, "chunk_size": None})
