"""The forget-gate LSTM, the one in ``torch.nn.LSTM``: bit-for-bit the same equations.

Sources: Gers, Schmidhuber & Cummins, "Learning to forget: continual prediction with LSTM",
Neural Computation 12(10):2451-2471, 2000, §2 (the forget gate added to the 1997 cell,
eqs. 2-4 there); Hochreiter & Schmidhuber, Neural Computation 9(8), 1997 (the cell itself);
the projection layer of Sak, Senior & Beaufays, "Long short-term memory recurrent neural
network architectures for large scale acoustic modeling", Interspeech 2014 (LSTMP, torch's
``proj_size``). torch's documentation of ``torch.nn.LSTM`` writes the same equations.

Shapes: B batch, I input, H hidden (cells), P projection (``proj_size``; P = H without one).
Gate order of the weight blocks: i, f, g, o (torch's). Parameters, torch's names and shapes:
``weight_ih`` (4H, I), ``weight_hh`` (4H, P), ``bias_ih``, ``bias_hh`` (4H), and
``weight_hr`` (P, H) only when ``proj_size > 0``.

    pre = x_t @ weight_ih.T + bias_ih + h_{t-1} @ weight_hh.T + bias_hh   split into i, f, g, o
    i_t = sigmoid(pre_i)
    f_t = sigmoid(pre_f)
    g_t = tanh(pre_g)
    o_t = sigmoid(pre_o)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)                       without projection, (B, H)
    h_t = (o_t * tanh(c_t)) @ weight_hr.T       with projection, (B, P)

Gers et al. (2000)'s symbols: y^{in} = i, y^{phi} = f (the forget gate), g(net_c) = g,
y^{out} = o, s_c = c, y^c = h; their bias and weight of each gate are the matching rows of
``bias_ih + bias_hh`` and ``weight_ih``/``weight_hh``.
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


class LSTMCell(nn.Module):
    """One step of the forget-gate LSTM; the equations are in the module docstring.

    ``cell(x, LSTMState(h, c)) -> (LSTMState(h, c), Gates(input, forget, candidate, output))``
    with ``x`` (B, I), ``h`` (B, P), ``c`` and every gate (B, H).
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, proj_size: int = 0, *,
        dtype: torch.dtype | None = None, device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        check_size("input_size", input_size)
        check_size("hidden_size", hidden_size)
        check_size("proj_size", proj_size, minimum=0)
        if proj_size >= hidden_size:
            raise ValueError(
                f"proj_size must be smaller than hidden_size ({hidden_size}), got {proj_size}"
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.proj_size = proj_size
        self.bias = bias
        output_size = proj_size if proj_size > 0 else hidden_size
        register_weights(self, 4, output_size, bias, dtype=dtype, device=device)
        if proj_size > 0:
            self.weight_hr = nn.Parameter(
                torch.empty(proj_size, hidden_size, dtype=dtype, device=device))
        else:
            self.register_parameter("weight_hr", None)
        self.reset_parameters()

    @property
    def output_size(self) -> int:
        """P: the size of ``h``, ``proj_size`` when there is a projection, else H."""
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.LSTM``."""
        reset_uniform(self, generator)

    def initial_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> LSTMState:
        """Zeros: ``h`` (batch_size, P), ``c`` (batch_size, H), in the parameters' dtype and
        device by default."""
        return zero_state(self, LSTMState, (self.output_size, self.hidden_size), batch_size,
                          dtype=dtype, device=device)

    def forward(self, x: Tensor, state: LSTMState) -> tuple[LSTMState, Gates]:
        """One step: ``x`` (B, I), ``state`` at t-1 -> state at t and the gates (B, H)."""
        check_step(x, self.weight_ih, self.input_size, state,
                   (self.output_size, self.hidden_size))
        h_prev, c_prev = state
        pre = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(
            h_prev, self.weight_hh, self.bias_hh
        )
        pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=1)
        i = torch.sigmoid(pre_i)
        f = torch.sigmoid(pre_f)
        g = torch.tanh(pre_g)
        o = torch.sigmoid(pre_o)
        c = f * c_prev + i * g
        h = o * torch.tanh(c)
        if self.weight_hr is not None:
            h = F.linear(h, self.weight_hr)
        return LSTMState(h, c), Gates(i, f, g, o)

    def extra_repr(self) -> str:
        projection = f", proj_size={self.proj_size}" if self.proj_size > 0 else ""
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"bias={self.bias}{projection}")
