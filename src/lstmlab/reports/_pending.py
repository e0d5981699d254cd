"""Minimal private stand-ins for introspection calls that have not landed yet.

``lstmlab.introspection`` (trace, retention, gradient flow, unit finding) is being written in
parallel; until it provides these, the tour uses the readable equations below. Each function is
the textbook definition, written once, for a single-layer, unidirectional torch.nn.LSTM/RNN
(weights under torch's names). Shapes: B batch, T time, I input, H hidden.

    LSTM (torch's order i, f, g, o):  z_t = x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh
        i, f, g, o = sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
    simple RNN:  h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmlab.introspection.trace import LayerTrace


def _weights(layer: nn.Module) -> tuple[Tensor, Tensor, Tensor]:
    w_ih, w_hh = layer.weight_ih_l0, layer.weight_hh_l0
    bias = torch.zeros(w_ih.shape[0], dtype=w_ih.dtype)
    for name in ("bias_ih_l0", "bias_hh_l0"):
        if getattr(layer, name, None) is not None:
            bias = bias + getattr(layer, name)
    return w_ih, w_hh, bias


def lstm_trace(layer: nn.Module, x: Tensor) -> LayerTrace:
    """Every gate and state of a one-layer LSTM over ``x`` (B, T, I); tensors (T, B, H)."""
    w_ih, w_hh, bias = _weights(layer)
    with torch.no_grad():
        batch, hidden = x.shape[0], w_hh.shape[1]
        h = c = torch.zeros(batch, hidden, dtype=x.dtype)
        pre_x = x @ w_ih.T + bias
        rows: dict[str, list[Tensor]] = {k: [] for k in ("i", "f", "g", "o", "c", "h")}
        for t in range(x.shape[1]):
            z_i, z_f, z_g, z_o = (pre_x[:, t] + h @ w_hh.T).chunk(4, dim=-1)
            i, f, g, o = z_i.sigmoid(), z_f.sigmoid(), z_g.tanh(), z_o.sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
            for key, value in zip("ifgoch", (i, f, g, o, c, h), strict=True):
                rows[key].append(value)
    s = {k: torch.stack(v) for k, v in rows.items()}
    zeros = torch.zeros(batch, hidden, dtype=x.dtype)
    return LayerTrace(input=s["i"], forget=s["f"], candidate=s["g"], output=s["o"], cell=s["c"],
                      hidden=s["h"], initial_cell=zeros, initial_hidden=zeros)


def hidden_gradients(layer: nn.Module, head: nn.Module, x: Tensor, targets: Tensor,
                     steps: Tensor) -> Tensor:
    """dL/dh_t for every t (total derivative, through all later steps), (T, B, H).

    ``L = sum_b cross_entropy(head(h_{steps[b]}), targets[b])``: each sequence's loss at one
    step. Computed in one backward pass by adding a zero perturbation to every h_t.
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
    chosen = torch.stack(hs)[steps, torch.arange(batch)]
    loss = nn.functional.cross_entropy(head(chosen), targets, reduction="sum")
    (grad,) = torch.autograd.grad(loss, zeros)
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
