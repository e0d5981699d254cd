"""Every gate of a standard LSTM layer, recomputed exactly from the h sequence it returned.

Shapes: T time, B batch, I input, H hidden, P projection (P = H without ``proj_size``).
Everything here is in *processing order* (index t = the t-th step the direction took).

torch's fused kernel returns h_t for every step but not the gates. Because the gates at step t
depend only on x_t and h_{t-1}, all of them follow from the returned sequence in one pass
(torch.nn.LSTM's equations, Gers, Schmidhuber & Cummins 2000 with torch's two biases):

    pre_t = x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh      (all t in two batched products)
    i_t, f_t, g_t, o_t = sigmoid(pre_i), sigmoid(pre_f), tanh(pre_g), sigmoid(pre_o)
    c_t = f_t * c_{t-1} + i_t * g_t                            (linear recurrence, exact)
    h_t = o_t * tanh(c_t)            or, with proj_size,   h_t = (o_t * tanh(c_t)) @ W_hr.T

With a projection, h_{t-1} in the product is the projected (P-wide) state, exactly what the
kernel returns, so the gates need nothing else. The cell state cannot be read back from h:
o * tanh(c) is not invertible through the (P x H) projection (and even without one,
c = atanh(h / o) loses all precision where o or 1 - |tanh c| is small), so c always comes from
its linear recurrence, started at c0 (``_recurrence.py``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmlab.introspection._weights import StandardWeights


def reconstruct_gates(
    weights: StandardWeights, x: Tensor, hidden: Tensor, h0: Tensor
) -> Tensor:
    """The activated gates (T, B, 4H), order i, f, g, o, of the steps that produced ``hidden``.

    x (T, B, I) the layer input, hidden (T, B, P) the returned h_t, h0 (B, P) the state before
    step 0. Returns one buffer; slice it with ``split_gates``.
    """
    steps, batch, input_size = x.shape
    gate_width = weights.weight_ih.shape[0]
    h_prev = torch.cat([h0.unsqueeze(0), hidden[:-1]])  # (T, B, P): h_{t-1}
    x_rows = x.reshape(steps * batch, input_size)
    h_rows = h_prev.reshape(steps * batch, h_prev.shape[-1])
    if weights.bias_ih is None:
        pre = x_rows @ weights.weight_ih.T
    else:
        pre = torch.addmm(weights.bias_ih + weights.bias_hh, x_rows, weights.weight_ih.T)
    pre.addmm_(h_rows, weights.weight_hh.T)
    pre = pre.view(steps, batch, gate_width)
    hidden_size = gate_width // 4
    pre[..., : 2 * hidden_size].sigmoid_()
    pre[..., 2 * hidden_size : 3 * hidden_size].tanh_()
    pre[..., 3 * hidden_size :].sigmoid_()
    return pre


def split_gates(gates: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(..., 4H) -> i, f, g, o, each (..., H) (views, no copy)."""
    return tuple(gates.chunk(4, dim=-1))  # type: ignore[return-value]
