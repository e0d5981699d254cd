"""``GRU``: a drop-in for ``torch.nn.GRU`` with a readable path over ``GRUCell``.

Same constructor (``proj_size`` refused with torch's message), call, return, attributes and
``state_dict`` keys as ``torch.nn.GRU`` (``weight_ih_l0, weight_hh_l0, bias_ih_l0,
bias_hh_l0``, ``*_reverse``). Shapes: T time,
B batch, I input, H hidden, L ``num_layers``, D = 2 if ``bidirectional`` else 1.

    output, h_n = gru(input, h_0)      input (T, B, I), (B, T, I) with batch_first, (T, I)
                                       unbatched, or packed; h_0, h_n (L*D, B, H);
                                       output (T, B, D*H) (batch_first: (B, T, D*H))

The equations are in ``lstmlab.cells._gru``. Two paths, the same numbers: ``fused=True`` (the
default) calls torch's kernel ``torch._VF.gru`` as ``torch.nn.GRU`` does; ``fused=False``
runs ``unroll`` over our ``GRUCell``s.
"""

from __future__ import annotations

import torch
from torch import _VF, Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from lstmlab.cells import GRUCell
from lstmlab.layers._arguments import check_bool, check_no_projection
from lstmlab.layers._stack import RecurrentStack


class GRU(RecurrentStack):
    """``torch.nn.GRU``'s interface; see the module docstring."""

    state_fields = ("h",)

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
        device: torch.device | str | None = None, dtype: torch.dtype | None = None, *,
        fused: bool = True, proj_size: object = None,
    ) -> None:
        check_no_projection(proj_size)
        check_bool("fused", fused)

        def make_cell(size: int) -> nn.Module:
            return GRUCell(size, hidden_size, bias, dtype=dtype, device=device)

        super().__init__(make_cell, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional)
        self.mode = "GRU"
        self.fused = fused

    def forward(
        self, input: Tensor | PackedSequence, hx: Tensor | None = None,
    ) -> tuple[Tensor | PackedSequence, Tensor]:
        """``(output, h_n)`` from ``input`` and ``hx = h_0`` (zeros if None)."""
        prepared, state = self.prepare(input, hx)
        if self.fused:
            output, state = self.fused_path(prepared, state, _VF.gru)
        else:
            output, state = self.readable(prepared, state)
        return self.finish(prepared, output, state)

    def extra_repr(self) -> str:
        return self.options_repr({"num_layers": 1, "bias": True, "batch_first": False,
                                  "dropout": 0.0, "bidirectional": False})
