"""``RNN``: a drop-in for ``torch.nn.RNN`` (the simple / Elman net) over ``ElmanCell``.

Same constructor (``nonlinearity`` "tanh" or "relu", 4th positional as in torch; ``proj_size``
refused with torch's message), call,
return, attributes and ``state_dict`` keys as ``torch.nn.RNN``. Shapes: T time, B batch,
I input, H hidden, L ``num_layers``, D = 2 if ``bidirectional`` else 1.

    output, h_n = rnn(input, h_0)      input (T, B, I), (B, T, I) with batch_first, (T, I)
                                       unbatched, or packed; h_0, h_n (L*D, B, H);
                                       output (T, B, D*H) (batch_first: (B, T, D*H))

The equations are in ``lstmlab.cells.elman``. Two paths, the same numbers: ``fused=True`` (the
default) calls torch's kernel ``torch._VF.rnn_tanh`` / ``rnn_relu`` as ``torch.nn.RNN`` does;
``fused=False`` runs ``unroll`` over our ``ElmanCell``s.
"""

from __future__ import annotations

import torch
from torch import _VF, Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from lstmlab.cells.elman import NONLINEARITIES, ElmanCell
from lstmlab.errors import UserError
from lstmlab.layers.arguments import check_bool, check_no_projection
from lstmlab.layers.stack import RecurrentStack

FUSED = {"tanh": _VF.rnn_tanh, "relu": _VF.rnn_relu}


class RNN(RecurrentStack):
    """``torch.nn.RNN``'s interface; see the module docstring."""

    state_fields = ("h",)

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
        bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
        bidirectional: bool = False, device: torch.device | str | None = None,
        dtype: torch.dtype | None = None, *, fused: bool = True, proj_size: object = None,
    ) -> None:
        check_no_projection(proj_size)
        if not isinstance(nonlinearity, str) or nonlinearity not in NONLINEARITIES:
            raise UserError(f"Unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or "
                            "'relu'.")
        check_bool("fused", fused)

        def make_cell(size: int) -> nn.Module:
            return ElmanCell(size, hidden_size, bias, nonlinearity, dtype=dtype, device=device)

        super().__init__(make_cell, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional)
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        self.fused = fused

    def forward(
        self, input: Tensor | PackedSequence, hx: Tensor | None = None,
    ) -> tuple[Tensor | PackedSequence, Tensor]:
        """``(output, h_n)`` from ``input`` and ``hx = h_0`` (zeros if None)."""
        prepared, state = self.prepare(input, hx)
        if self.fused:
            output, state = self.fused_path(prepared, state, FUSED[self.nonlinearity])
        else:
            output, state = self.readable(prepared, state)
        return self.finish(prepared, output, state)

    def extra_repr(self) -> str:
        return self.options_repr({"num_layers": 1, "nonlinearity": "tanh", "bias": True,
                                  "batch_first": False, "dropout": 0.0, "bidirectional": False})
