"""[H97]'s LSTM forward written out from App. A.1, independent of lstmlab's cells: the
reference the probes' unrolls are checked against; and the members those tests probe."""

from __future__ import annotations

import torch


def forward_1997(weights, x, target, C, S, linear):
    """One sequence ``x`` (T, I), [H97] App. A.1 written out: y^in, g = 4 sigma - 2, s_c,
    h = 2 sigma - 1, y^c = y^out h(s_c), y^k = net_k (linear) or sigma(net_k), one output unit
    reading the cells. Returns s_c, y^in per step, y^out at the end, y^k at the end and
    dE/ds_c(end) for E = (y^k - target)^2 / 2, by autograd."""
    H = C * S
    W, V, b = weights.cell.weight_ih, weights.cell.weight_hh, weights.cell.bias
    y_in, y_c, y_out = torch.zeros(C, dtype=x.dtype), torch.zeros(H, dtype=x.dtype), \
        torch.zeros(C, dtype=x.dtype)
    s = torch.zeros(H, dtype=x.dtype)
    states, ins, outs = [], [], []
    for x_t in x:
        net = W @ x_t + V @ torch.cat([y_in, y_c, y_out]) + b
        y_in = torch.sigmoid(net[:C])
        g = 4 * torch.sigmoid(net[C:C + H]) - 2
        y_out = torch.sigmoid(net[C + H:])
        s = s + y_in.repeat_interleave(S) * g
        y_c = y_out.repeat_interleave(S) * (2 * torch.sigmoid(s) - 1)
        states.append(s), ins.append(y_in), outs.append(y_out)
    end = s.clone().requires_grad_(True)
    net_k = (y_out.repeat_interleave(S) * (2 * torch.sigmoid(end) - 1)) @ weights.weight_ho[0]
    if weights.bias_o is not None:
        net_k = net_k + weights.bias_o[0]
    y = net_k if linear else torch.sigmoid(net_k)
    (0.5 * (y - target) ** 2).backward()
    return torch.stack(states), torch.stack(ins), outs[-1], y.detach(), end.grad


def scaled_members(name: str, count: int = 2):
    """``count`` members of experiment ``name``'s [H97] net (seeds 0, 1, ...), their weights 3x
    the [-0.1, 0.1] draw so that states and gates move visibly: (template, stacked weights)."""
    from lstmlab.reproduce import _registry as registry
    from lstmlab.reproduce._lstm1997 import network_config
    from lstmlab.training._network1997 import Network1997
    from lstmlab.training._pool import stack

    template = Network1997(network_config(registry.experiment(name).setup),
                           dtype=torch.float64)
    drawn = []
    for s in range(count):
        weights = Network1997(template.config, generator=torch.Generator().manual_seed(s),
                              dtype=torch.float64).weights()
        bias_o = None if weights.bias_o is None else weights.bias_o.detach()
        drawn.append(type(weights)(type(weights.cell)(*(3 * w.detach() for w in weights.cell)),
                                   3 * weights.weight_ho.detach(), None, bias_o))
    return template, stack(drawn)
