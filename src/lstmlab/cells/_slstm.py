"""The sLSTM of xLSTM: exponential input gate, a normalizer state and a stabilizer, heads.

Source: Beck, Pöppel, Spanring, Auer, Prudnikova, Kopp, Klambauer, Brandstetter & Hochreiter,
"xLSTM: Extended Long Short-Term Memory", NeurIPS 2024, §2.2 (eqs. 8-17, the stabilized form
eqs. 15-17); the reference code is NX-AI/xlstm, whose vanilla (pure PyTorch) step
``xlstm/blocks/slstm/src/vanilla/slstm.py`` these equations follow line by line (tested equal to
it, outputs, states and every gradient, in ``tests/cells/test_slstm.py``).

Shapes: B batch, I input, H hidden, K ``num_heads``, D = H / K units per head. Gate order of the
weight blocks: i, f, z, o (torch's i, f, g, o; the reference's order too). Parameters, torch's
names: ``weight_ih`` (4H, I), ``bias_ih``, ``bias_hh`` (4H), and the block-diagonal recurrence
``weight_hh`` (4H, D): row ``g*H + k*D + j`` (gate g, head k, unit j) reads only head k of
``h_{t-1}``, i.e. ``h_{t-1}[k*D:(k+1)*D]``. With K = 1 it is torch's dense (4H, H).

    pre = x_t @ weight_ih.T + bias_ih + R(h_{t-1}) + bias_hh      split into pre_i, pre_f,
          R(h)[g*H + k*D + j] = sum_l weight_hh[g*H + k*D + j, l] * h[k*D + l]    pre_z, pre_o
    log_f = logsigmoid(pre_f)                    the forget gate f_t = sigmoid(pre_f), in logs
    m_t = max(pre_i, log_f + m_{t-1})            the stabilizer
    i_t = exp(pre_i - m_t)                       i' (the stabilized exponential input gate)
    f_t = exp(log_f + m_{t-1} - m_t)             f'
    z_t = tanh(pre_z)                            the candidate
    o_t = sigmoid(pre_o)
    c_t = f_t * c_{t-1} + i_t * z_t
    n_t = f_t * n_{t-1} + i_t                    the normalizer
    h_t = o_t * c_t / n_t

Why the stabilizer changes nothing: the unstabilized states are C_t = c_t * exp(m_t) and
N_t = n_t * exp(m_t) (paper eqs. 8-14, with exp(pre_i) and sigmoid(pre_f) as gates), so
h_t = o_t * C_t / N_t = o_t * c_t / n_t for any choice of m. Both i' and f' are at most 1, so
nothing overflows. ``tests/cells/test_slstm.py::test_output_independent_of_stabilizer`` shifts m.

The initial state is h = c = n = 0 and m = -inf: an empty memory has no scale, so the first
step sets m_1 = pre_i and f'_1 = 0 (nothing to keep). The reference starts from m = 0 but takes
m_1 = pre_i whenever n = 0 (its ``torch.all(n == 0)`` branch), which gives the same states; its
f'_1 differs (it multiplies c_0 = n_0 = 0 there). Our step has no data-dependent branch, so
``torch.compile(fullgraph=True)`` and ``torch.export`` trace it.

Layer: ``lstmlab.layers.SLSTM`` (hx = (h, c, n, m)). Not a ``cell=`` of ``lstmlab.layers.LSTM``:
nn.LSTM's hx holds only (h, c), so n and m could neither be passed in nor returned, and a
given c_0 would meet n_0 = 0, m_0 = -inf and be dropped (f'_1 = 0).

Paper symbols -> ours: ĩ_t, f̃_t, z̃_t, õ_t = pre_i, pre_f, pre_z, pre_o; i'_t, f'_t = i, f;
z_t = z, c_t = c, n_t = n, m_t = m, h_t = h; the block-diagonal R of "heads" (§2.2, "sLSTM
memory mixing") = ``weight_hh``. The paper allows f = exp(f̃) too; the reference (and we) use
the sigmoid forget gate.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmlab.cells._parameters import check_size, check_step, reset_uniform
from lstmlab.cells._state import Gates


class SLSTMState(NamedTuple):
    """``h`` the output, ``c`` the cell, ``n`` the normalizer, ``m`` the stabilizer; each (B, H).
    The true (unstabilized) cell and normalizer are c * exp(m) and n * exp(m)."""

    h: Tensor
    c: Tensor
    n: Tensor
    m: Tensor


class SLSTMCell(nn.Module):
    """One sLSTM step; the equations are in the module docstring.

    ``cell(x, SLSTMState(h, c, n, m)) -> (SLSTMState, Gates(input=i', forget=f', candidate=z,
    output=o))``, ``x`` (B, I), every other tensor (B, H). ``num_heads`` must divide
    ``hidden_size``.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *, num_heads: int = 1,
        dtype: torch.dtype | None = None, device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        check_size("input_size", input_size)
        check_size("hidden_size", hidden_size)
        check_size("num_heads", num_heads)
        if hidden_size % num_heads:
            raise ValueError(f"num_heads must divide hidden_size ({hidden_size}), "
                             f"got {num_heads}")
        self.input_size, self.hidden_size, self.num_heads = input_size, hidden_size, num_heads
        self.head_size = hidden_size // num_heads
        self.bias = bias
        factory = {"dtype": dtype, "device": device}
        rows = 4 * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(rows, self.head_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows, **factory))
            self.bias_hh = nn.Parameter(torch.empty(rows, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.LSTM``."""
        reset_uniform(self, generator)

    def initial_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> SLSTMState:
        """h = c = n = 0 and m = -inf, each (batch_size, H) (module docstring)."""
        dtype = self.weight_ih.dtype if dtype is None else dtype
        device = self.weight_ih.device if device is None else device
        zeros = [torch.zeros(batch_size, self.hidden_size, dtype=dtype, device=device)
                 for _ in range(3)]
        m = torch.full((batch_size, self.hidden_size), float("-inf"), dtype=dtype,
                       device=device)
        return SLSTMState(*zeros, m)

    def recurrent(self, h: Tensor) -> Tensor:
        """R(h): (B, H) -> (B, 4H), head k of every gate block reading head k of ``h``."""
        K, D = self.num_heads, self.head_size
        blocks = self.weight_hh.view(4, K, D, D)  # [gate, head, unit j, input l]
        return torch.einsum("bkl,gkjl->bgkj", h.reshape(-1, K, D), blocks).reshape(
            h.shape[0], 4 * self.hidden_size)

    def forward(self, x: Tensor, state: SLSTMState) -> tuple[SLSTMState, Gates]:
        """One step: ``x`` (B, I), ``state`` at t-1 -> state at t and the gates (B, H)."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size,) * 4)
        h_prev, c_prev, n_prev, m_prev = state
        pre = F.linear(x, self.weight_ih, self.bias_ih) + self.recurrent(h_prev)
        if self.bias_hh is not None:
            pre = pre + self.bias_hh
        pre_i, pre_f, pre_z, pre_o = pre.chunk(4, dim=1)
        log_f = F.logsigmoid(pre_f)
        m = torch.maximum(pre_i, log_f + m_prev)
        i = torch.exp(pre_i - m)
        f = torch.exp(log_f + m_prev - m)
        z = torch.tanh(pre_z)
        o = torch.sigmoid(pre_o)
        c = f * c_prev + i * z
        n = f * n_prev + i
        h = o * c / n
        return SLSTMState(h, c, n, m), Gates(i, f, z, o)

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"bias={self.bias}, num_heads={self.num_heads}")
