"""The CIFG LSTM: one gate decides both what is written and what is kept, f_t = 1 - i_t.

Source: Greff, Srivastava, Koutnik, Steunebrink & Schmidhuber, "LSTM: A Search Space Odyssey",
IEEE TNNLS 28(10), 2017 (arXiv 1503.04069), variant 7, "coupled input and forget gate": the
vanilla LSTM (``peephole``) with the forget gate replaced by ``f_t = 1 - i_t``, so a cell
takes in new content exactly where, and as much as, it lets old content go (the GRU's update
gate, Cho et al. 2014, couples keeping and writing the same way).

Direction of the coupling. Some reimplementations keep the forget gate and write
``i_t = 1 - f_t``; the two are the same family (``1 - sigmoid(a) = sigmoid(-a)``), only the sign of
the learned weights differs. We follow the CIFG variant as Greff et al. (2017, "LSTM: A Search
Space Odyssey", IEEE TNNLS 28(10)) define it: the input gate is computed, ``f_t = 1 - i_t``.

Shapes: B batch, I input, H hidden. Three weight blocks, in the order i, g, o (torch's order
without f): ``weight_ih`` (3H, I), ``weight_hh`` (3H, H), ``bias_ih``, ``bias_hh`` (3H);
with ``peepholes=True`` (the default, as in Greff et al.: vanilla plus coupling) also
``weight_peephole`` (2, H), rows ``p_i, p_o``; f has no peephole of its own.

    pre = x_t @ weight_ih.T + bias_ih + h_{t-1} @ weight_hh.T + bias_hh   split into i, g, o
    i_t = sigmoid(pre_i + p_i * c_{t-1})
    f_t = 1 - i_t
    g_t = tanh(pre_g)
    c_t = f_t * c_{t-1} + i_t * g_t
    o_t = sigmoid(pre_o + p_o * c_t)
    h_t = o_t * tanh(c_t)

Without peepholes the ``p_*`` terms are absent.
"""

from __future__ import annotations

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
from lstmlab.cells._state import Gates, LSTMState


class CIFGLSTMCell(nn.Module):
    """One step of the coupled-input-forget-gate LSTM; equations in the module docstring.

    ``cell(x, LSTMState(h, c)) -> (LSTMState(h, c), Gates(input, forget, candidate, output))``
    with ``x`` (B, I) and ``h, c`` (B, H); ``forget`` is ``1 - input``.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *,
        peepholes: bool = True, dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> None:
        super().__init__()
        check_size("input_size", input_size)
        check_size("hidden_size", hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.peepholes = peepholes
        register_weights(self, 3, hidden_size, bias, dtype=dtype, device=device)
        factory = {"dtype": dtype, "device": device}
        if peepholes:
            self.weight_peephole = nn.Parameter(torch.empty(2, hidden_size, **factory))
        else:
            self.register_parameter("weight_peephole", None)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.LSTMCell``."""
        reset_uniform(self, generator)

    def initial_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> LSTMState:
        """Zeros ``h, c`` (batch_size, H), in the parameters' dtype and device by default."""
        return zero_state(self, LSTMState, (self.hidden_size,) * 2, batch_size, dtype=dtype,
                          device=device)

    def forward(self, x: Tensor, state: LSTMState) -> tuple[LSTMState, Gates]:
        """One step: ``x`` (B, I), ``state`` at t-1 (B, H) each -> state at t and the gates."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size, self.hidden_size))
        h_prev, c_prev = state
        pre = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(
            h_prev, self.weight_hh, self.bias_hh
        )
        pre_i, pre_g, pre_o = pre.chunk(3, dim=1)
        if self.peepholes:
            p_i, p_o = self.weight_peephole
            pre_i = pre_i + p_i * c_prev
        i = torch.sigmoid(pre_i)
        f = 1 - i
        g = torch.tanh(pre_g)
        c = f * c_prev + i * g
        if self.peepholes:
            pre_o = pre_o + p_o * c
        o = torch.sigmoid(pre_o)
        h = o * torch.tanh(c)
        return LSTMState(h, c), Gates(i, f, g, o)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, bias={self.bias}, "
            f"peepholes={self.peepholes}"
        )
