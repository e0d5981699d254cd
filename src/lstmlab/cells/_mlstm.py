"""The mLSTM of xLSTM: a matrix memory written by a covariance update, read by a query.

Source: Beck et al., "xLSTM: Extended Long Short-Term Memory", NeurIPS 2024, §2.3 (eqs. 19-27)
and Appendix A.3 (the parallel form, the stabilizer); the reference code is NX-AI/xlstm,
``xlstm/blocks/mlstm/backends.py``: ``recurrent_step_stabilized_simple`` (the step) and
``parallel_stabilized_simple`` (the parallel form), tested equal to ours (outputs and every
gradient) in ``tests/cells/test_mlstm.py``.

Shapes: B batch, I input, H hidden, K ``num_heads``, D = H / K per head, T time. Parameters:
``weight_ih`` (4H + 2K, I) and ``bias_ih`` (4H + 2K), row blocks q, k, v (H each), i, f (K each:
one scalar gate per head), o (H). No recurrent weights: the gates read only x_t, so the
recurrence is linear in the state and the whole sequence has a parallel form.

    q, k, v, pre_i, pre_f, pre_o = x_t @ weight_ih.T + bias_ih     split; q, k, v per head (D)
    k = k / sqrt(D)                                                the reference's key scaling
    log_f = logsigmoid(pre_f)
    m_t = max(log_f + m_{t-1}, pre_i)                              the stabilizer, (B, K)
    i_t = exp(pre_i - m_t)                                         i', (B, K)
    f_t = exp(log_f + m_{t-1} - m_t)                               f', (B, K)
    C_t = f_t * C_{t-1} + i_t * v_t k_t^T                          (B, K, D, D)
    n_t = f_t * n_{t-1} + i_t * k_t                                (B, K, D)
    h~_t = C_t q_t / (max(|n_t . q_t|, exp(-m_t)) + eps)           (B, K, D) -> (B, H)
    o_t = sigmoid(pre_o)
    h_t = o_t * h~_t

The reference stores C transposed (k v^T, read as q^T C); the numbers are the same. Its cell
feeds the gates from q, k, v rather than x_t (linear functions of x_t either way) and has no
output gate (its block gates the output outside the cell); eq. 26 of the paper has o_t. The
initial state is C = n = 0, m = 0, as the reference's step starts; eps = 1e-6 is its default.
Unstabilized, C_t exp(m_t) and n_t exp(m_t) are the paper's states, and h~_t is the paper's
C q / max(|n . q|, 1) up to eps: the stabilizer changes nothing but rounding when eps = 0.

Layer: ``lstmlab.layers.MLSTM`` (one ``MLSTMState`` per layer): a matrix state per head does
not fit nn.LSTM's (h, c) of (L, B, H) tensors, so this is not a ``cell=`` of ``LSTM``.

Parallel form (``parallel``), all T steps at once, for each head, from a carried state
(C_0, n_0, m_0) at time 0, with F_t = sum_{s<=t} log_f_s:

    logD[t, s] = F_t - F_s + pre_i_s   for s <= t, else -inf       the decay of step s's write
    m_t = max(F_t + m_0, max_s logD[t, s])                         equal to the step's m_t
    W[t, s] = exp(logD[t, s] - m_t),   w0_t = exp(F_t + m_0 - m_t)
    h~_t = (sum_s W[t, s] (q_t . k_s) v_s + w0_t C_0 q_t)
           / (max(|sum_s W[t, s] (q_t . k_s) + w0_t n_0 . q_t|, exp(-m_t)) + eps)

equal to T steps (tested). With m_0 = -inf (no memory) it is the reference's
``parallel_stabilized_simple``, whose stabilizer is the row maximum of logD.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmlab.cells._parameters import check_size, reset_uniform


class MLSTMState(NamedTuple):
    """``h`` (B, H) the output; ``C`` (B, K, D, D) the matrix memory (rows: value axis, columns:
    key axis); ``n`` (B, K, D) the normalizer; ``m`` (B, K) the stabilizer."""

    h: Tensor
    C: Tensor
    n: Tensor
    m: Tensor


class MLSTMGates(NamedTuple):
    """One step's gates and what it wrote: ``input`` i' and ``forget`` f' (B, K), ``output`` o
    (B, H), and ``query`` q, ``key`` k (scaled), ``value`` v (B, H)."""

    input: Tensor
    forget: Tensor
    output: Tensor
    query: Tensor
    key: Tensor
    value: Tensor


class Parallel(NamedTuple):
    """``outputs`` (T, B, H), the final ``state`` and the ``gates`` (each field (T, B, .))."""

    outputs: Tensor
    state: MLSTMState
    gates: MLSTMGates


class MLSTMCell(nn.Module):
    """One mLSTM step (``forward``) or a whole sequence at once (``parallel``); the equations
    are in the module docstring. ``num_heads`` must divide ``hidden_size``."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *, num_heads: int = 1,
        eps: float = 1e-6, dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        check_size("input_size", input_size)
        check_size("hidden_size", hidden_size)
        check_size("num_heads", num_heads)
        if hidden_size % num_heads:
            raise ValueError(f"num_heads must divide hidden_size ({hidden_size}), "
                             f"got {num_heads}")
        if isinstance(eps, bool) or not isinstance(eps, int | float) or eps < 0:
            raise ValueError(f"eps must be a number >= 0, got {eps!r}")
        self.input_size, self.hidden_size, self.num_heads = input_size, hidden_size, num_heads
        self.head_size, self.bias, self.eps = hidden_size // num_heads, bias, float(eps)
        rows = 4 * hidden_size + 2 * num_heads
        factory = {"dtype": dtype, "device": device}
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows, **factory))
        else:
            self.register_parameter("bias_ih", None)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.LSTM``."""
        reset_uniform(self, generator)

    def initial_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> MLSTMState:
        """Zeros: h (B, H), C (B, K, D, D), n (B, K, D), m (B, K)."""
        dtype = self.weight_ih.dtype if dtype is None else dtype
        device = self.weight_ih.device if device is None else device
        K, D = self.num_heads, self.head_size
        shapes = ((self.hidden_size,), (K, D, D), (K, D), (K,))
        return MLSTMState(*(torch.zeros(batch_size, *shape, dtype=dtype, device=device)
                            for shape in shapes))

    def _projections(self, x: Tensor) -> tuple[Tensor, ...]:
        """x (..., I) -> q, k (scaled), v (..., K, D), pre_i, pre_f (..., K), pre_o (..., H)."""
        if not isinstance(x, Tensor) or x.shape[-1] != self.input_size:
            received = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"x must end in the input size {self.input_size}, got {received}")
        H, K, D = self.hidden_size, self.num_heads, self.head_size
        q, k, v, pre_i, pre_f, pre_o = F.linear(x, self.weight_ih, self.bias_ih).split(
            [H, H, H, K, K, H], dim=-1)
        heads = (*x.shape[:-1], K, D)
        return (q.reshape(heads), k.reshape(heads) / math.sqrt(D), v.reshape(heads), pre_i,
                pre_f, pre_o)

    def forward(self, x: Tensor, state: MLSTMState) -> tuple[MLSTMState, MLSTMGates]:
        """One step: ``x`` (B, I), ``state`` at t-1 -> state at t and the gates."""
        _, C_prev, n_prev, m_prev = state
        q, k, v, pre_i, pre_f, pre_o = self._projections(x)
        log_f = F.logsigmoid(pre_f)
        m = torch.maximum(log_f + m_prev, pre_i)
        i = torch.exp(pre_i - m)
        f = torch.exp(log_f + m_prev - m)
        C = f[..., None, None] * C_prev + i[..., None, None] * (v[..., :, None] * k[..., None, :])
        n = f[..., None] * n_prev + i[..., None] * k
        numerator = (C @ q[..., None]).squeeze(-1)  # (B, K, D)
        denominator = torch.maximum((n * q).sum(-1).abs(), torch.exp(-m)) + self.eps
        o = torch.sigmoid(pre_o)
        h = o * (numerator / denominator[..., None]).flatten(-2)
        flat = (x.shape[0], self.hidden_size)
        return MLSTMState(h, C, n, m), MLSTMGates(i, f, o, q.reshape(flat), k.reshape(flat),
                                                  v.reshape(flat))

    def parallel(self, xs: Tensor, state: MLSTMState | None = None) -> Parallel:
        """All steps of ``xs`` (T, B, I) from ``state`` (the zero state if None) at once, by
        the parallel form of the module docstring: T calls of ``forward``, O(T^2) memory."""
        if not isinstance(xs, Tensor) or xs.dim() != 3 or xs.shape[0] == 0:
            received = tuple(xs.shape) if isinstance(xs, Tensor) else type(xs).__name__
            raise ValueError(f"xs must have shape (time >= 1, batch, {self.input_size}), "
                             f"got {received}")
        if state is None:
            state = self.initial_state(xs.shape[1], dtype=xs.dtype, device=xs.device)
        _, C0, n0, m0 = state
        q, k, v, pre_i, pre_f, pre_o = self._projections(xs)  # (T, B, K, D) and (T, B, K)
        steps = xs.shape[0]
        # head-major layout: (B, K, T, D) and (B, K, T)
        q, k, v = (t.permute(1, 2, 0, 3) for t in (q, k, v))
        pre_i, log_f = pre_i.permute(1, 2, 0), F.logsigmoid(pre_f).permute(1, 2, 0)
        cumulative = log_f.cumsum(-1)  # F_t
        causal = torch.ones(steps, steps, dtype=torch.bool, device=xs.device).tril()
        log_d = cumulative[..., :, None] - cumulative[..., None, :] + pre_i[..., None, :]
        log_d = log_d.masked_fill(~causal, float("-inf"))  # (B, K, T, T)
        log_initial = cumulative + m0[..., None]  # F_t + m_0, (B, K, T)
        m = torch.maximum(log_initial, log_d.amax(-1))  # (B, K, T)
        weights = torch.exp(log_d - m[..., None])
        initial = torch.exp(log_initial - m)
        scores = (q @ k.transpose(-1, -2)) * weights  # (B, K, T, T)
        numerator = scores @ v + initial[..., None] * (q @ C0.transpose(-1, -2))
        normalizer = scores.sum(-1) + initial * (q @ n0[..., None]).squeeze(-1)
        denominator = torch.maximum(normalizer.abs(), torch.exp(-m)) + self.eps
        o = torch.sigmoid(pre_o)  # (T, B, H)
        h_tilde = (numerator / denominator[..., None]).permute(2, 0, 1, 3).flatten(-2)
        outputs = o * h_tilde  # (T, B, H)
        # the final state: the last row of the weights, applied to the writes
        last = weights[..., -1, :]  # (B, K, T)
        C = (v.transpose(-1, -2) * last[..., None, :]) @ k \
            + initial[..., -1, None, None] * C0
        n = (last[..., None] * k).sum(-2) + initial[..., -1, None] * n0
        final = MLSTMState(outputs[-1], C, n, m[..., -1])
        i = torch.exp(pre_i - m)
        f_prev = torch.cat([m0[..., None], m[..., :-1]], dim=-1)
        f = torch.exp(log_f + f_prev - m)
        flat = (steps, xs.shape[1], self.hidden_size)
        gates = MLSTMGates(i.permute(2, 0, 1), f.permute(2, 0, 1), o,
                           *(t.permute(2, 0, 1, 3).reshape(flat) for t in (q, k, v)))
        return Parallel(outputs, final, gates)

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"bias={self.bias}, num_heads={self.num_heads}, eps={self.eps}")
