"""``SLSTM``: a stack of sLSTM cells with ``torch.nn.LSTM``'s interface, but its own state.

The sLSTM state is four tensors, (h, c, n, m) (``lstmlab.cells._slstm``), so ``hx`` is a
4-tuple and the layer returns all four: ``nn.LSTM``'s (h, c) cannot carry the normalizer and
the stabilizer, and a sequence cut in two would not continue where it stopped. Everything
else is ``lstmlab.layers.LSTM``'s: constructor, input layouts (batch_first, unbatched,
``PackedSequence``), layers joined by dropout, parameter names ``weight_ih_l0``, ...

    output, (h_n, c_n, n_n, m_n) = slstm(input, (h_0, c_0, n_0, m_0))   each (L*D, B, H)

``hx=None`` starts from the cell's initial state (h = c = n = 0, m = -inf).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from lstmlab.cells import SLSTMCell
from lstmlab.layers._stack import RecurrentStack


class SLSTM(RecurrentStack):
    """sLSTM layers over time; see the module docstring and ``lstmlab.cells._slstm``."""

    state_fields = ("h", "c", "n", "m")

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
        device: torch.device | str | None = None, dtype: torch.dtype | None = None, *,
        num_heads: int = 1,
    ) -> None:
        def make_cell(size: int) -> nn.Module:
            return SLSTMCell(size, hidden_size, bias, num_heads=num_heads, dtype=dtype,
                             device=device)

        super().__init__(make_cell, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional)
        self.mode = "SLSTM"
        self.num_heads = num_heads
        self.fused = True  # no fused kernel exists; True only silences options_repr's note

    def forward(
        self, input: Tensor | PackedSequence, hx: tuple[Tensor, ...] | None = None,
    ) -> tuple[Tensor | PackedSequence, tuple[Tensor, ...]]:
        """``(output, (h_n, c_n, n_n, m_n))`` from ``input`` and ``hx`` (module docstring)."""
        prepared, state = self.prepare(input, hx)
        output, state = self.readable(prepared, state)
        return self.finish(prepared, output, state)

    def extra_repr(self) -> str:
        return self.options_repr({"num_layers": 1, "bias": True, "batch_first": False,
                                  "dropout": 0.0, "bidirectional": False, "num_heads": 1})
