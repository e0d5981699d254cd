"""``LSTM``: a drop-in for ``torch.nn.LSTM`` that runs any cell of the LSTM family.

Same constructor, call, return, attributes and ``state_dict`` keys as ``torch.nn.LSTM``
(``weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_hr_l0``, ``*_reverse``): a torch
state dict loads unchanged, and ours loads into torch's. Shapes: T time, B batch, I input,
H hidden, P ``proj_size`` (H without one), L ``num_layers``, D = 2 if ``bidirectional`` else 1.

    output, (h_n, c_n) = lstm(input, (h_0, c_0))     input (T, B, I), (B, T, I) with
                                                     batch_first, (T, I) unbatched, or packed;
    h_0, h_n (L*D, B, P); c_0, c_n (L*D, B, H)       output (T, B, D*P) (batch_first: (B, T, D*P))

Each layer and direction runs one cell (the equations are in ``lstmlab.cells._lstm``); layer k > 0
reads the concatenated outputs of layer k-1 (forward, reverse), through dropout in training.

Two paths, the same numbers (tested to 1e-10 in float64):
- fused (the default for the standard ``LSTMCell``): torch's own kernel ``torch._VF.lstm``
  (oneDNN on CPU, cuDNN on GPU), called with the flat weights exactly as ``torch.nn.LSTM`` does;
- readable (``fused=False``, and always for a variant ``cell=``): ``unroll`` over our cells,
  a Python loop over time whose every line is an equation of the cell's docstring.
``cell=`` takes the cell class (or any callable ``cell(input_size, hidden_size, bias, *, dtype,
device)``, e.g. a ``functools.partial``); its extra parameters appear as ``<name>_l{k}``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import _VF, Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from lstmlab.cells import LSTMCell
from lstmlab.errors import UserError
from lstmlab.layers._arguments import check_bool
from lstmlab.layers._stack import RecurrentStack


class LSTM(RecurrentStack):
    """``torch.nn.LSTM``'s interface over a chosen LSTM cell; see the module docstring."""

    state_fields = ("h", "c")

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
        proj_size: int = 0, device: torch.device | str | None = None,
        dtype: torch.dtype | None = None, *, cell: Callable[..., nn.Module] = LSTMCell,
        fused: bool | None = None,
    ) -> None:
        standard = cell is LSTMCell
        if fused is not None:
            check_bool("fused", fused)

        def make_cell(size: int) -> nn.Module:
            projection = {"proj_size": proj_size} if proj_size > 0 else {}
            made = cell(size, hidden_size, bias, **projection, dtype=dtype, device=device)
            # hx is nn.LSTM's (h, c); other state fields start from the cell's initial_state
            # (the 1997 cell's gate bookkeeping, reset per sequence by the paper). A cell without
            # c (minLSTM) cannot fill hx, and sLSTM's n = 0 and m = -inf would make its first
            # forget weight exp(log f + m_0 - m_1) = 0, silently discarding a given c_0: such
            # cells have layers of their own.
            fields = getattr(made.initial_state(1), "_fields", ())
            if fields[:2] != ("h", "c") or "n" in fields:
                raise UserError(f"cell={getattr(cell, '__name__', cell)}: LSTM carries the "
                                f"state (h, c) alone, this cell's state is {fields}; use its "
                                f"own layer (lstmlab.layers.SLSTM, MLSTM, MinLSTM, MinGRU)")
            return made

        # the arguments are checked (torch's checks, in torch's order) before any cell is made
        super().__init__(make_cell, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size)
        if fused and not standard:
            raise UserError(f"fused=True needs cell=LSTMCell (torch's kernel), got {cell!r}")
        self.mode = "LSTM"
        self.cell = cell
        self.fused = standard if fused is None else fused

    def forward(
        self, input: Tensor | PackedSequence, hx: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor | PackedSequence, tuple[Tensor, Tensor]]:
        """``(output, (h_n, c_n))`` from ``input`` and ``hx = (h_0, c_0)`` (zeros if None)."""
        prepared, state = self.prepare(input, hx)
        if self.fused:
            output, state = self.fused_path(prepared, state, _VF.lstm)
        else:
            output, state = self.readable(prepared, state)
        return self.finish(prepared, output, state)

    def extra_repr(self) -> str:
        cell = ("" if self.cell is LSTMCell
                else f", cell={getattr(self.cell, '__name__', self.cell)!r}")
        # torch's order: proj_size first
        return self.options_repr({"proj_size": 0, "num_layers": 1, "bias": True,
                                  "batch_first": False, "dropout": 0.0,
                                  "bidirectional": False}, cell)
