"""The peephole LSTM: Greff et al. (2017)'s "vanilla" LSTM, forget gate plus peepholes.

Sources. Peepholes: Gers & Schmidhuber, "Recurrent nets that time and count", IJCNN 2000;
Gers, Schraudolph & Schmidhuber, "Learning precise timing with LSTM recurrent networks",
JMLR 3:115-143, 2002 (PDF p. 7: the gates of a block see its own cell state through weighted
"peephole" connections; i and f see s(t-1), o the freshly updated s(t)). Full-gradient
training: Graves & Schmidhuber, Neural Networks 18(5-6), 2005. Together they make the "vanilla"
LSTM of Greff, Srivastava, Koutnik, Steunebrink & Schmidhuber, "LSTM: A Search Space Odyssey",
IEEE TNNLS 28(10), 2017, §II, the baseline of its ablations (see ``cifg``, ``greff``, ``fgr``).

Shapes: B batch, I input, H hidden. Gate order of the weight blocks: i, f, g, o (torch's).
Parameters (torch's names where they mean the same thing as in ``torch.nn.LSTMCell``):
``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh`` (4H), and
``weight_peephole`` (3, H): its rows are the diagonal peephole weights ``p_i, p_f, p_o``.

    pre = x_t @ weight_ih.T + bias_ih + h_{t-1} @ weight_hh.T + bias_hh   split into i, f, g, o
    i_t = sigmoid(pre_i + p_i * c_{t-1})
    f_t = sigmoid(pre_f + p_f * c_{t-1})
    g_t = tanh(pre_g)
    c_t = f_t * c_{t-1} + i_t * g_t
    o_t = sigmoid(pre_o + p_o * c_t)        # the output gate peeps at the NEW cell state
    h_t = o_t * tanh(c_t)

Greff et al.'s symbols: block input z = g, block output y = h, W_* = rows of ``weight_ih``,
R_* = rows of ``weight_hh``, p_* = rows of ``weight_peephole``, b_* = ``bias_ih + bias_hh``.
With ``weight_peephole`` = 0 the cell is exactly ``torch.nn.LSTMCell``.

``detach_peepholes``: Gers et al. (2002), PDF p. 7: "During learning no error signals are
propagated back from gates via peephole connections to the CEC". With ``detach_peepholes=True`` the
peephole terms read ``c.detach()``: the forward numbers are unchanged, the peephole weights
still learn, but no gradient reaches the cell state through a gate. The default ``False`` is the
full gradient, as in Greff et al. (2017) and in today's frameworks.
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


class PeepholeLSTMCell(nn.Module):
    """One step of the vanilla (peephole) LSTM; the equations are in the module docstring.

    ``cell(x, LSTMState(h, c)) -> (LSTMState(h, c), Gates(input, forget, candidate, output))``
    with ``x`` (B, I) and ``h, c`` (B, H).
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *,
        detach_peepholes: bool = False, dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> None:
        super().__init__()
        check_size("input_size", input_size)
        check_size("hidden_size", hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.detach_peepholes = detach_peepholes
        register_weights(self, 4, hidden_size, bias, dtype=dtype, device=device)
        self.weight_peephole = nn.Parameter(
            torch.empty(3, hidden_size, dtype=dtype, device=device))
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
        pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=1)
        p_i, p_f, p_o = self.weight_peephole
        # What the gates see of the cell (B, H); detached, it passes no error back to the CEC.
        peep_prev = c_prev.detach() if self.detach_peepholes else c_prev
        i = torch.sigmoid(pre_i + p_i * peep_prev)
        f = torch.sigmoid(pre_f + p_f * peep_prev)
        g = torch.tanh(pre_g)
        c = f * c_prev + i * g
        peep = c.detach() if self.detach_peepholes else c
        o = torch.sigmoid(pre_o + p_o * peep)
        h = o * torch.tanh(c)
        return LSTMState(h, c), Gates(i, f, g, o)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, bias={self.bias}, "
            f"detach_peepholes={self.detach_peepholes}"
        )
