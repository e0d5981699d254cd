"""Minimal private stand-ins for introspection calls that have not landed yet.

``lstmlab.introspection`` (retention, gradient flow, unit finding) is being written in
parallel; until it provides these, the reports use the readable definitions below. Each function is
the textbook definition, written once, for a single-layer, unidirectional torch.nn.LSTM/RNN
(weights under torch's names). Shapes: B batch, T time, I input, H hidden.

    LSTM (torch's order i, f, g, o):  z_t = x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh
        i, f, g, o = sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
    simple RNN:  h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


def _weights(layer: nn.Module) -> tuple[Tensor, Tensor, Tensor]:
    w_ih, w_hh = layer.weight_ih_l0, layer.weight_hh_l0
    bias = torch.zeros(w_ih.shape[0], dtype=w_ih.dtype)
    for name in ("bias_ih_l0", "bias_hh_l0"):
        if getattr(layer, name, None) is not None:
            bias = bias + getattr(layer, name)
    return w_ih, w_hh, bias


def hidden_gradients(layer: nn.Module, x: Tensor,
                     loss_of_hidden: Callable[[Tensor], Tensor]) -> Tensor:
    """dL/dh_t for every t (the total derivative, through all later steps), (T, B, H).

    ``L = loss_of_hidden(hs)`` for the h sequence hs (T, B, H) of the layer's first layer and
    forward direction on ``x`` (B, T, I). One backward pass: a zero perturbation is added to
    every h_t and L is differentiated with respect to the perturbations.
    """
    w_ih, w_hh, bias = _weights(layer)
    lstm = w_ih.shape[0] == 4 * w_hh.shape[1]
    batch, length, hidden = x.shape[0], x.shape[1], w_hh.shape[1]
    zeros = torch.zeros(length, batch, hidden, dtype=x.dtype, requires_grad=True)
    h = c = torch.zeros(batch, hidden, dtype=x.dtype)
    pre_x = x.detach() @ w_ih.T + bias
    hs = []
    for t in range(length):
        z = pre_x[:, t] + h @ w_hh.T
        if lstm:
            z_i, z_f, z_g, z_o = z.chunk(4, dim=-1)
            c = z_f.sigmoid() * c + z_i.sigmoid() * z_g.tanh()
            h = z_o.sigmoid() * c.tanh()
        else:
            h = z.tanh()
        h = h + zeros[t]
        hs.append(h)
    (grad,) = torch.autograd.grad(loss_of_hidden(torch.stack(hs)), zeros)
    return grad


def rank_units(values: Tensor, labels: Tensor) -> Tensor:
    """Point-biserial correlation of each unit with a binary label: ``values`` (N, H), ``labels``
    (N,) in {0, 1} -> (H,) correlations (sign says which label drives the unit up)."""
    v = values - values.mean(0)
    y = labels.to(values.dtype) - labels.to(values.dtype).mean()
    return (v * y[:, None]).sum(0) / (v.norm(dim=0) * y.norm()).clamp_min(1e-12)


def retention_matrix(forget: Tensor) -> Tensor:
    """``forget`` (T,) of one unit -> R (T, T): R[s, t] = prod_{r=s+1..t} f_r for t >= s (the
    fraction of step s's write i_s * g_s left in c_t), 0 below the diagonal."""
    log_f = forget.clamp_min(1e-30).log()
    cumulative = torch.cat([log_f.new_zeros(1), log_f.cumsum(0)])  # sum_{r<=t} log f_r at t+1
    r = (cumulative[1:][None, :] - cumulative[1:][:, None]).exp()
    return torch.triu(r)
