"""Recurrent Cascade-Correlation (Fahlman 1991), one of the 1997 paper's competitors.

Fahlman, "The Recurrent Cascade-Correlation Architecture", NIPS 3, 1991; quoted by Hochreiter &
Schmidhuber 1997, Table 1 (embedded Reber grammar: 50 % success, 182,000 sequences).

The net grows one hidden unit at a time. Unit k sees the inputs, every earlier hidden unit at the
same step, a bias, and *itself one step back* (its only recurrent connection):

    z_k(t)   = [x_t, V_1(t), ..., V_{k-1}(t), 1]                      features, (B, Z_k)
    V_k(t)   = tanh(z_k(t) @ w_k + s_k * V_k(t-1)),  V_k(0) = 0      hidden unit k
    y(t)     = sigmoid([x_t, V_1(t), ..., V_K(t), 1] @ U.T)          output units

Training alternates two phases (Fahlman 1991, §2; Fahlman & Lebiere 1990):
1. output phase: with the hidden units frozen, train U to minimise the squared error
   E = 1/2 sum_{t,b in mask} sum_o (y_o - target_o)^2.
2. candidate phase: a pool of candidate units, each wired like unit K+1, is trained to maximise
   the covariance of its activation V with the residual errors e_o = y_o - target_o over all
   patterns p = (t, b) that carry an error signal,

       S = sum_o | sum_p (V_p - mean V) (e_{p,o} - mean e_o) |,

   by gradient ascent with

       dS/dw = sum_o sign_o sum_p (e_{p,o} - mean e_o) dV_p/dw,

   where dV(t)/dw runs forward in time (RTRL for one self-recurrent unit):
       dV(t)/dw = tanh'(net(t)) * (z(t) + s * dV(t-1)/dw)
       dV(t)/ds = tanh'(net(t)) * (V(t-1) + s * dV(t-1)/ds).
   The best candidate is installed with its input weights frozen, and the output phase repeats.

Choices the 1991 paper leaves to the implementation (documented, and parameters of `RCCConfig`):
plain gradient steps (Adam for the output phase, gradient ascent for candidates) instead of
Quickprop, tanh hidden units, logistic outputs (the 1997 tasks' targets lie in [0, 1]).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor


@dataclass(frozen=True)
class RCCConfig:
    """Growth and training settings; ``weight_range``: candidates start in ±weight_range."""

    max_hidden: int = 8
    candidates: int = 8
    candidate_epochs: int = 100
    candidate_learning_rate: float = 0.05
    output_epochs: int = 200
    output_learning_rate: float = 0.05
    weight_range: float = 1.0


@dataclass
class RCCNetwork:
    """Frozen hidden units (``hidden_in[k]``: (Z_k,), ``hidden_self[k]``: scalar) and outputs U."""

    input_size: int
    output_size: int
    hidden_in: list[Tensor] = field(default_factory=list)
    hidden_self: list[Tensor] = field(default_factory=list)
    output_weight: Tensor | None = None

    def features(self, inputs: Tensor) -> Tensor:
        """The frozen cascade's features [x_t, V_1(t), ..., V_K(t), 1], (T, B, I+K+1)."""
        steps, batch, _ = inputs.shape
        columns = [inputs]
        for w, s in zip(self.hidden_in, self.hidden_self, strict=True):
            z = torch.cat([*columns, inputs.new_ones(steps, batch, 1)], dim=-1)
            v, values = inputs.new_zeros(batch), []
            for t in range(steps):
                v = torch.tanh(z[t] @ w + s * v)
                values.append(v)
            columns.append(torch.stack(values).unsqueeze(-1))
        return torch.cat([*columns, inputs.new_ones(steps, batch, 1)], dim=-1)

    def __call__(self, inputs: Tensor) -> Tensor:
        """Outputs (T, B, O) for inputs (T, B, I)."""
        if self.output_weight is None:
            raise ValueError("output_weight: expected trained output weights, received None "
                             "(call train_outputs first)")
        return torch.sigmoid(self.features(inputs) @ self.output_weight.T)


def candidate_activations(z: Tensor, w: Tensor, s: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """A pool of C candidates on features z (T, B, Z) with weights w (C, Z), self-weights s (C,).

    Returns V (T, B, C) and the forward sensitivities dV/dw (T, B, C, Z) and dV/ds (T, B, C).
    """
    steps, batch, _ = z.shape
    v = z.new_zeros(batch, w.shape[0])
    dv_dw = z.new_zeros(batch, *w.shape)
    dv_ds = z.new_zeros(batch, w.shape[0])
    values, grads_w, grads_s = [], [], []
    for t in range(steps):
        v_new = torch.tanh(z[t] @ w.T + s * v)
        slope = 1 - v_new**2
        dv_dw = slope.unsqueeze(-1) * (z[t].unsqueeze(1) + s.unsqueeze(-1) * dv_dw)
        dv_ds = slope * (v + s * dv_ds)
        v = v_new
        values.append(v), grads_w.append(dv_dw), grads_s.append(dv_ds)
    return torch.stack(values), torch.stack(grads_w), torch.stack(grads_s)


def correlation(v: Tensor, residual: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """S per candidate and the sign of each output's covariance.

    v (T, B, C) candidate values, residual (T, B, O) output errors, mask (T, B) patterns.
    Returns S (C,) and sign (C, O).
    """
    v_p, e_p = v[mask], residual[mask]                      # (P, C), (P, O)
    cov = (v_p - v_p.mean(0)).T @ (e_p - e_p.mean(0))       # (C, O)
    return cov.abs().sum(-1), torch.sign(cov)


def correlation_gradient(
    dv_dw: Tensor, dv_ds: Tensor, residual: Tensor, sign: Tensor, mask: Tensor
) -> tuple[Tensor, Tensor]:
    """dS/dw (C, Z) and dS/ds (C,) from the forward sensitivities (see the module docstring)."""
    e_p = residual[mask]
    weight = (e_p - e_p.mean(0)) @ sign.T                   # (P, C): sum_o sign_o (e - mean e)
    return (weight.unsqueeze(-1) * dv_dw[mask]).sum(0), (weight * dv_ds[mask]).sum(0)


def train_outputs(net: RCCNetwork, inputs: Tensor, targets: Tensor, mask: Tensor,
                  config: RCCConfig) -> Tensor:
    """Output phase: fit U on the frozen features; returns the residuals (T, B, O)."""
    features = net.features(inputs).detach()
    if net.output_weight is None or net.output_weight.shape[1] != features.shape[-1]:
        old = net.output_weight
        weight = features.new_zeros(net.output_size, features.shape[-1])
        if old is not None:  # keep what was learned; the new unit's column starts at 0
            weight[:, : old.shape[1] - 1] = old[:, :-1]
            weight[:, -1] = old[:, -1]
        net.output_weight = weight
    weight = net.output_weight.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([weight], lr=config.output_learning_rate)
    for _ in range(config.output_epochs):
        optimizer.zero_grad()
        outputs = torch.sigmoid(features @ weight.T)
        loss = 0.5 * ((outputs - targets)[mask] ** 2).sum()
        loss.backward()
        optimizer.step()
    net.output_weight = weight.detach()
    return (torch.sigmoid(features @ net.output_weight.T) - targets).detach()


def add_hidden_unit(net: RCCNetwork, inputs: Tensor, residual: Tensor, mask: Tensor,
                    config: RCCConfig, generator: torch.Generator) -> Tensor:
    """Candidate phase: train the pool, install the best candidate; returns its S."""
    features = net.features(inputs)
    z = features                                             # [x, V_1..V_K, 1]
    low, high = -config.weight_range, config.weight_range
    w = torch.empty(config.candidates, z.shape[-1], dtype=z.dtype).uniform_(
        low, high, generator=generator)
    s = torch.empty(config.candidates, dtype=z.dtype).uniform_(low, high, generator=generator)
    for _ in range(config.candidate_epochs):
        v, dv_dw, dv_ds = candidate_activations(z, w, s)
        _, sign = correlation(v, residual, mask)
        grad_w, grad_s = correlation_gradient(dv_dw, dv_ds, residual, sign, mask)
        patterns = mask.sum()
        w = w + config.candidate_learning_rate * grad_w / patterns
        s = s + config.candidate_learning_rate * grad_s / patterns
    v, _, _ = candidate_activations(z, w, s)
    score, _ = correlation(v, residual, mask)
    best = int(score.argmax())
    net.hidden_in.append(w[best].clone())
    net.hidden_self.append(s[best].clone())
    return score[best]


def train_rcc(inputs: Tensor, targets: Tensor, mask: Tensor, config: RCCConfig,
              generator: torch.Generator,
              solved: Callable[[RCCNetwork], bool] | None = None,
              budget: int | None = None) -> tuple[RCCNetwork, int]:
    """Grow and train on a fixed training set until ``solved(net)``, ``max_hidden`` units, or
    ``budget`` presentations.

    inputs (T, B, I), targets (T, B, O), mask (T, B) bool. Returns the net and the number of
    training-sequence presentations it took (epochs of both phases times B), the budget unit of
    the 1997 tables.
    """
    if inputs.dim() != 3 or targets.dim() != 3 or inputs.shape[:2] != targets.shape[:2]:
        raise ValueError("inputs, targets: expected (T, B, I) and (T, B, O) with the same T, B, "
                         f"received {tuple(inputs.shape)} and {tuple(targets.shape)}")
    if mask.shape != inputs.shape[:2]:
        raise ValueError(f"mask: expected (T, B) = {tuple(inputs.shape[:2])}, "
                         f"received {tuple(mask.shape)}")
    net = RCCNetwork(inputs.shape[-1], targets.shape[-1])
    presentations = 0
    while True:
        residual = train_outputs(net, inputs, targets, mask, config)
        presentations += config.output_epochs * inputs.shape[1]
        if (solved is not None and solved(net)) or len(net.hidden_in) >= config.max_hidden:
            return net, presentations
        if budget is not None and presentations >= budget:
            return net, presentations
        add_hidden_unit(net, inputs, residual, mask, config, generator)
        presentations += config.candidate_epochs * inputs.shape[1]
