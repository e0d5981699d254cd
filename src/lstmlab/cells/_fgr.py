"""The FGR LSTM: full gate recurrence, every gate hears every gate's previous activation.

Source: Greff, Srivastava, Koutnik, Steunebrink & Schmidhuber, "LSTM: A Search Space Odyssey",
IEEE TNNLS 28(10), 2017 (arXiv 1503.04069), variant 8: "adds recurrent connections between all
the gates (nine additional recurrent weight matrices)", recalling the 1997 LSTM, whose gates
received the previous step of every unit of the recurrent layer, gates included. Greff et al.
found it no better than vanilla for its extra parameters. Our equations add the nine matrices
to the vanilla LSTM (``peephole``) the way a public reimplementation of all eight variants
does; the paper's own equations were not at hand to compare symbol by symbol.

Shapes: B batch, I input, H hidden. Parameters: the vanilla ones, ``weight_ih`` (4H, I),
``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh`` (4H) in torch's gate order i, f, g, o,
``weight_peephole`` (3, H) rows p_i, p_f, p_o; and ``weight_gates`` (3H, 3H), the nine (H, H)
matrices as blocks: block row a (the receiving gate) and block column b (the sending gate), both
in the order i, f, o, so block (a, b) carries b_{t-1} into gate a (Greff's R_{ba}).

The state carries the previous gates: ``FGRState(h, c, input, forget, output)``, each (B, H);
the initial state is all zeros (no gate activity before the first step).

    pre = x_t @ weight_ih.T + bias_ih + h_{t-1} @ weight_hh.T + bias_hh   split into i, f, g, o
    rec = [i_{t-1}, f_{t-1}, o_{t-1}] @ weight_gates.T                    split into i, f, o
    i_t = sigmoid(pre_i + p_i * c_{t-1} + rec_i)
    f_t = sigmoid(pre_f + p_f * c_{t-1} + rec_f)
    g_t = tanh(pre_g)
    c_t = f_t * c_{t-1} + i_t * g_t
    o_t = sigmoid(pre_o + p_o * c_t + rec_o)
    h_t = o_t * tanh(c_t)

With ``weight_gates`` = 0 the cell is exactly ``PeepholeLSTMCell``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmlab.cells._parameters import (
    check_size,
    check_step,
    register_weights,
    reset_uniform,
    zero_state,
)
from lstmlab.cells._state import Gates


class FGRState(NamedTuple):
    """``h``, ``c`` as in ``LSTMState``, plus the gates of the previous step, each (B, H)."""

    h: Tensor
    c: Tensor
    input: Tensor
    forget: Tensor
    output: Tensor


class FGRLSTMCell(nn.Module):
    """One step of the full-gate-recurrence LSTM; equations in the module docstring.

    ``cell(x, FGRState(h, c, i, f, o)) -> (FGRState(...), Gates(input, forget, candidate,
    output))`` with ``x`` (B, I) and every state tensor (B, H).
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *,
        dtype: torch.dtype | None = None, device: torch.device | None = None,
    ) -> None:
        super().__init__()
        check_size("input_size", input_size)
        check_size("hidden_size", hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        register_weights(self, 4, hidden_size, bias, dtype=dtype, device=device)
        factory = {"dtype": dtype, "device": device}
        self.weight_peephole = nn.Parameter(torch.empty(3, hidden_size, **factory))
        self.weight_gates = nn.Parameter(torch.empty(3 * hidden_size, 3 * hidden_size, **factory))
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.LSTMCell``."""
        reset_uniform(self, generator)

    def initial_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> FGRState:
        """All zeros (batch_size, H), in the parameters' dtype and device by default."""
        return zero_state(self, FGRState, (self.hidden_size,) * len(FGRState._fields),
                          batch_size, dtype=dtype, device=device)

    def forward(self, x: Tensor, state: FGRState) -> tuple[FGRState, Gates]:
        """One step: ``x`` (B, I), ``state`` at t-1 (B, H) each -> state at t and the gates."""
        if not isinstance(state, FGRState):
            raise ValueError(
                "state must be an FGRState(h, c, input, forget, output) (the gates of the "
                f"previous step feed this one), got {type(state).__name__}"
            )
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size,) * 5)
        h_prev, c_prev, i_prev, f_prev, o_prev = state
        pre = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(
            h_prev, self.weight_hh, self.bias_hh
        )
        pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=1)
        gates_prev = torch.cat([i_prev, f_prev, o_prev], dim=1)  # (B, 3H)
        rec_i, rec_f, rec_o = F.linear(gates_prev, self.weight_gates).chunk(3, dim=1)
        p_i, p_f, p_o = self.weight_peephole
        i = torch.sigmoid(pre_i + p_i * c_prev + rec_i)
        f = torch.sigmoid(pre_f + p_f * c_prev + rec_f)
        g = torch.tanh(pre_g)
        c = f * c_prev + i * g
        o = torch.sigmoid(pre_o + p_o * c + rec_o)
        h = o * torch.tanh(c)
        return FGRState(h, c, i, f, o), Gates(i, f, g, o)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"
