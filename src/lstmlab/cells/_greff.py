"""Greff et al. (2017)'s ablations of the vanilla LSTM, each named for what it removes.

Source: Greff, Srivastava, Koutnik, Steunebrink & Schmidhuber, "LSTM: A Search Space Odyssey",
IEEE TNNLS 28(10), 2017 (arXiv 1503.04069): eight variants of the vanilla LSTM (the
``peephole`` module), each differing from it by one change. Six of them are here:

    NIG   no input gate             i_t = 1
    NFG   no forget gate            f_t = 1
    NOG   no output gate            o_t = 1
    NIAF  no input activation       g_t = pre_g          (instead of tanh(pre_g))
    NOAF  no output activation      h_t = o_t * c_t      (instead of o_t * tanh(c_t))
    NP    no peepholes              p_i = p_f = p_o = 0: the LSTM of ``torch.nn.LSTMCell``

CIFG (f_t = 1 - i_t) is in ``cifg``, FGR (full gate recurrence) in ``fgr``. The Greff et al.
conclusions: the forget gate and the output activation are the critical parts; NP and CIFG
simplify the LSTM without hurting it.

The vanilla step every variant starts from (B batch, I input, H hidden; symbols as in
``peephole``: Greff's z = g, y = h, W = ``weight_ih``, R = ``weight_hh``, p = ``weight_peephole``):

    pre = x_t @ weight_ih.T + bias_ih + h_{t-1} @ weight_hh.T + bias_hh
    i_t = sigmoid(pre_i + p_i * c_{t-1})      f_t = sigmoid(pre_f + p_f * c_{t-1})
    g_t = tanh(pre_g)                         c_t = f_t * c_{t-1} + i_t * g_t
    o_t = sigmoid(pre_o + p_o * c_t)          h_t = o_t * tanh(c_t)

Parameters: a removed gate takes its weight block and its peephole with it. The blocks keep
torch's order i, f, g, o with the removed gate left out, and ``weight_peephole`` holds the
remaining gates' peepholes in the order i, f, o:

    cell          weight_ih / weight_hh / biases     weight_peephole
    NIGLSTMCell   (3H, .) blocks f, g, o             (2, H) rows p_f, p_o
    NFGLSTMCell   (3H, .) blocks i, g, o             (2, H) rows p_i, p_o
    NOGLSTMCell   (3H, .) blocks i, f, g             (2, H) rows p_i, p_f
    NIAFLSTMCell  (4H, .) blocks i, f, g, o          (3, H) rows p_i, p_f, p_o
    NOAFLSTMCell  (4H, .) blocks i, f, g, o          (3, H) rows p_i, p_f, p_o
    NPLSTMCell    (4H, .) blocks i, f, g, o          none

so NIAF and NOAF load a ``PeepholeLSTMCell``'s state dict and NP a ``torch.nn.LSTMCell``'s.
A removed gate is reported in the returned ``Gates`` as the constant it is (ones), so retention
and saturation read the same for every variant.
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


class _GreffCell(nn.Module):
    """Parameters, initialisation and zero state shared by the ablations; no equations here.

    ``blocks`` weight blocks of H rows each, ``peepholes`` rows of diagonal peephole weights.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool, *, blocks: int, peepholes: int,
        dtype: torch.dtype | None, device: torch.device | None,
    ) -> None:
        super().__init__()
        check_size("input_size", input_size)
        check_size("hidden_size", hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        register_weights(self, blocks, hidden_size, bias, dtype=dtype, device=device)
        if peepholes:
            self.weight_peephole = nn.Parameter(
                torch.empty(peepholes, hidden_size, dtype=dtype, device=device))
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

    def _pre(self, x: Tensor, h_prev: Tensor) -> Tensor:
        """``x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh``: (B, blocks * H)."""
        return F.linear(x, self.weight_ih, self.bias_ih) + F.linear(
            h_prev, self.weight_hh, self.bias_hh
        )

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"


class NIGLSTMCell(_GreffCell):
    """No input gate: ``i_t = 1``, so ``c_t = f_t * c_{t-1} + g_t``. Blocks f, g, o."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 dtype: torch.dtype | None = None, device: torch.device | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, blocks=3, peepholes=2,
                         dtype=dtype, device=device)

    def forward(self, x: Tensor, state: LSTMState) -> tuple[LSTMState, Gates]:
        """One step: ``x`` (B, I), ``state`` at t-1 (B, H) each -> state at t and the gates."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size, self.hidden_size))
        h_prev, c_prev = state
        pre_f, pre_g, pre_o = self._pre(x, h_prev).chunk(3, dim=1)
        p_f, p_o = self.weight_peephole
        i = torch.ones_like(c_prev)
        f = torch.sigmoid(pre_f + p_f * c_prev)
        g = torch.tanh(pre_g)
        c = f * c_prev + g
        o = torch.sigmoid(pre_o + p_o * c)
        h = o * torch.tanh(c)
        return LSTMState(h, c), Gates(i, f, g, o)


class NFGLSTMCell(_GreffCell):
    """No forget gate: ``f_t = 1``, so ``c_t = c_{t-1} + i_t * g_t``. Blocks i, g, o."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 dtype: torch.dtype | None = None, device: torch.device | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, blocks=3, peepholes=2,
                         dtype=dtype, device=device)

    def forward(self, x: Tensor, state: LSTMState) -> tuple[LSTMState, Gates]:
        """One step: ``x`` (B, I), ``state`` at t-1 (B, H) each -> state at t and the gates."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size, self.hidden_size))
        h_prev, c_prev = state
        pre_i, pre_g, pre_o = self._pre(x, h_prev).chunk(3, dim=1)
        p_i, p_o = self.weight_peephole
        i = torch.sigmoid(pre_i + p_i * c_prev)
        f = torch.ones_like(c_prev)
        g = torch.tanh(pre_g)
        c = c_prev + i * g
        o = torch.sigmoid(pre_o + p_o * c)
        h = o * torch.tanh(c)
        return LSTMState(h, c), Gates(i, f, g, o)


class NOGLSTMCell(_GreffCell):
    """No output gate: ``o_t = 1``, so ``h_t = tanh(c_t)``. Blocks i, f, g."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 dtype: torch.dtype | None = None, device: torch.device | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, blocks=3, peepholes=2,
                         dtype=dtype, device=device)

    def forward(self, x: Tensor, state: LSTMState) -> tuple[LSTMState, Gates]:
        """One step: ``x`` (B, I), ``state`` at t-1 (B, H) each -> state at t and the gates."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size, self.hidden_size))
        h_prev, c_prev = state
        pre_i, pre_f, pre_g = self._pre(x, h_prev).chunk(3, dim=1)
        p_i, p_f = self.weight_peephole
        i = torch.sigmoid(pre_i + p_i * c_prev)
        f = torch.sigmoid(pre_f + p_f * c_prev)
        g = torch.tanh(pre_g)
        c = f * c_prev + i * g
        o = torch.ones_like(c)
        h = torch.tanh(c)
        return LSTMState(h, c), Gates(i, f, g, o)


class NIAFLSTMCell(_GreffCell):
    """No input activation function: ``g_t = pre_g``, linear. Blocks i, f, g, o."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 dtype: torch.dtype | None = None, device: torch.device | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, blocks=4, peepholes=3,
                         dtype=dtype, device=device)

    def forward(self, x: Tensor, state: LSTMState) -> tuple[LSTMState, Gates]:
        """One step: ``x`` (B, I), ``state`` at t-1 (B, H) each -> state at t and the gates."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size, self.hidden_size))
        h_prev, c_prev = state
        pre_i, pre_f, pre_g, pre_o = self._pre(x, h_prev).chunk(4, dim=1)
        p_i, p_f, p_o = self.weight_peephole
        i = torch.sigmoid(pre_i + p_i * c_prev)
        f = torch.sigmoid(pre_f + p_f * c_prev)
        g = pre_g
        c = f * c_prev + i * g
        o = torch.sigmoid(pre_o + p_o * c)
        h = o * torch.tanh(c)
        return LSTMState(h, c), Gates(i, f, g, o)


class NOAFLSTMCell(_GreffCell):
    """No output activation function: ``h_t = o_t * c_t``, unbounded. Blocks i, f, g, o."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 dtype: torch.dtype | None = None, device: torch.device | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, blocks=4, peepholes=3,
                         dtype=dtype, device=device)

    def forward(self, x: Tensor, state: LSTMState) -> tuple[LSTMState, Gates]:
        """One step: ``x`` (B, I), ``state`` at t-1 (B, H) each -> state at t and the gates."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size, self.hidden_size))
        h_prev, c_prev = state
        pre_i, pre_f, pre_g, pre_o = self._pre(x, h_prev).chunk(4, dim=1)
        p_i, p_f, p_o = self.weight_peephole
        i = torch.sigmoid(pre_i + p_i * c_prev)
        f = torch.sigmoid(pre_f + p_f * c_prev)
        g = torch.tanh(pre_g)
        c = f * c_prev + i * g
        o = torch.sigmoid(pre_o + p_o * c)
        h = o * c
        return LSTMState(h, c), Gates(i, f, g, o)


class NPLSTMCell(_GreffCell):
    """No peepholes: the forget-gate LSTM of ``torch.nn.LSTMCell``. Blocks i, f, g, o."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 dtype: torch.dtype | None = None, device: torch.device | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, blocks=4, peepholes=0,
                         dtype=dtype, device=device)

    def forward(self, x: Tensor, state: LSTMState) -> tuple[LSTMState, Gates]:
        """One step: ``x`` (B, I), ``state`` at t-1 (B, H) each -> state at t and the gates."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size, self.hidden_size))
        h_prev, c_prev = state
        pre_i, pre_f, pre_g, pre_o = self._pre(x, h_prev).chunk(4, dim=1)
        i = torch.sigmoid(pre_i)
        f = torch.sigmoid(pre_f)
        g = torch.tanh(pre_g)
        c = f * c_prev + i * g
        o = torch.sigmoid(pre_o)
        h = o * torch.tanh(c)
        return LSTMState(h, c), Gates(i, f, g, o)
