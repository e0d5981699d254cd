"""Recurrent Cascade-Correlation (Fahlman 1991) trained with Quickprop, a 1997 competitor.

Fahlman, "The Recurrent Cascade-Correlation Architecture", NIPS 3, 1991; quoted by Hochreiter &
Schmidhuber 1997, Table 1 (embedded Reber grammar: 50 % success, 182,000 sequences, 7-9 hidden
units). Cascade-Correlation: Fahlman & Lebiere 1990. Quickprop: Fahlman 1988
(:mod:`lstmlab.competitors._quickprop`).

The net grows one hidden unit at a time. Unit k sees the inputs, every earlier hidden unit at the
same step, a bias, and *itself one step back* (its only recurrent connection). Hidden units are
Fahlman's symmetric sigmoid in [-0.5, 0.5], outputs logistic (the 1997 tasks' targets lie in
[0, 1]; Fahlman's symmetric outputs with targets ±0.5 are the same unit shifted by 0.5):

    z_k(t)   = [x_t, V_1(t), ..., V_{k-1}(t), 1]                        features, (B, Z_k)
    V_k(t)   = sigmoid(z_k(t) @ w_k + s_k * V_k(t-1)) - 0.5,  V_k(0) = 0  hidden unit k
    y(t)     = sigmoid([x_t, V_1(t), ..., V_K(t), 1] @ U.T)              output units

Training alternates two phases, each by epochs over the whole fixed training set (Fahlman 1991,
§1), both with Quickprop, as in Fahlman's Cascade-Correlation code (whose defaults RCCConfig
takes; ``mu`` is Fahlman 1988's 1.75, the code's default is 2.0):

1. output phase: the hidden units frozen, U minimises E = sum_{p,o} (y_{p,o} - t_{p,o})^2 over the
   patterns p = (t, b) that carry an error signal. Quickprop's slope is Fahlman's
       dE/dU_{o,z} = sum_p e_{p,o} F_{p,z},  e_{p,o} = (y_{p,o} - t_{p,o}) (f'(net_{p,o}) + 0.1)
   (the "sigmoid prime offset" 0.1 keeps saturated outputs learning), with epsilon / P (P
   patterns) and weight decay 0.0001.
2. candidate phase: a pool of 8 candidate units, each wired like unit K+1, maximises the
   covariance of its activation V with the residual errors e of phase 1, normalised by
   SSE = sum_{p,o} e_{p,o}^2:

       S = sum_o | sum_p (V_p - mean V) (e_{p,o} - mean e_o) | / SSE,
       dS/dw = sum_o sign_o sum_p (e_{p,o} - mean e_o) dV_p/dw / SSE,

   where dV(t)/dw runs forward in time (RTRL for one self-recurrent unit), with
   V' = (V + 0.5)(0.5 - V) = 0.25 - V^2:
       dV(t)/dw = V'(t) * (z(t) + s * dV(t-1)/dw)
       dV(t)/ds = V'(t) * (V(t-1) + s * dV(t-1)/ds).
   Quickprop minimises -S (slope -dS/dw) with epsilon / (P * fan-in). The best candidate is
   installed with its input and self weights frozen, its output weights starting at minus its
   normalised covariance with each output's error, and phase 1 repeats.

A phase ends when its measure (E, or the best candidate's S) has not changed by more than
``change_threshold`` of its value for ``patience`` epochs, or after ``max_epochs`` (Fahlman's
"when no further improvement is seen"). Growth stops when ``solved(net)`` after a phase 1, at
``max_hidden`` units, or when the budget of presentations is spent.

Choices the papers leave to the implementation: the covariance sign of the current epoch (the C
code reuses the previous epoch's, one pass earlier), and the budget unit: one epoch presents every
training sequence once (the whole candidate pool sees it together), the unit of [H97] Table 1's
"number of sequences".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from lstmlab.competitors._quickprop import initial_state, quickprop_step


@dataclass(frozen=True)
class PhaseConfig:
    """Quickprop and stopping settings of one training phase (Fahlman's code: Output*/Input*)."""

    epsilon: float
    mu: float = 1.75
    decay: float = 0.0
    patience: int = 8
    change_threshold: float = 0.01
    max_epochs: int = 200


@dataclass(frozen=True)
class RCCConfig:
    """Growth and training settings; candidates start uniform in ±``weight_range``.

    Defaults are Fahlman's Cascade-Correlation code's (OutputEpsilon 0.35, OutputDecay 0.0001,
    OutputChangeThreshold 0.01; InputEpsilon 1.0, InputDecay 0, InputChangeThreshold 0.03;
    patience 8; 8 candidates; WeightRange 1.0; SigmoidPrimeOffset 0.1) with mu = 1.75
    (Fahlman 1988). ``max_hidden`` 20 is ours: [H97] reports nets of 7-9 hidden units.
    """

    max_hidden: int = 20
    candidates: int = 8
    weight_range: float = 1.0
    sigmoid_prime_offset: float = 0.1
    output: PhaseConfig = field(default_factory=lambda: PhaseConfig(epsilon=0.35, decay=0.0001))
    candidate: PhaseConfig = field(default_factory=lambda: PhaseConfig(
        epsilon=1.0, change_threshold=0.03))


def hidden_value(net: Tensor) -> Tensor:
    """Fahlman's symmetric sigmoid, in [-0.5, 0.5]."""
    return torch.sigmoid(net) - 0.5


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
                v = hidden_value(z[t] @ w + s * v)
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
        v_new = hidden_value(z[t] @ w.T + s * v)
        slope = 0.25 - v_new**2
        dv_dw = slope.unsqueeze(-1) * (z[t].unsqueeze(1) + s.unsqueeze(-1) * dv_dw)
        dv_ds = slope * (v + s * dv_ds)
        v = v_new
        values.append(v), grads_w.append(dv_dw), grads_s.append(dv_ds)
    return torch.stack(values), torch.stack(grads_w), torch.stack(grads_s)


def correlation(v: Tensor, residual: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """S per candidate (unnormalised) and the sign of each output's covariance.

    v (T, B, C) candidate values, residual (T, B, O) output errors, mask (T, B) patterns.
    Returns S (C,) and sign (C, O).
    """
    v_p, e_p = v[mask], residual[mask]                      # (P, C), (P, O)
    cov = (v_p - v_p.mean(0)).T @ (e_p - e_p.mean(0))       # (C, O)
    return cov.abs().sum(-1), torch.sign(cov)


def correlation_gradient(
    dv_dw: Tensor, dv_ds: Tensor, residual: Tensor, sign: Tensor, mask: Tensor
) -> tuple[Tensor, Tensor]:
    """dS/dw (C, Z) and dS/ds (C,) of the unnormalised S (see the module docstring)."""
    e_p = residual[mask]
    weight = (e_p - e_p.mean(0)) @ sign.T                   # (P, C): sum_o sign_o (e - mean e)
    return (weight.unsqueeze(-1) * dv_dw[mask]).sum(0), (weight * dv_ds[mask]).sum(0)


class _Patience:
    """Fahlman's stagnation test: stop once ``value`` has not moved by more than
    ``change_threshold`` of its last significant value for ``patience`` epochs. The output phase
    may stagnate from its start; the candidate phase only after its score has once changed
    significantly (Fahlman's TRAIN_INPUTS starts with quit = max_epochs), since Quickprop's first
    steps from small slopes are small."""

    def __init__(self, phase: PhaseConfig, wait_for_a_change: bool = False) -> None:
        self.phase, self.last = phase, None
        self.quit_epoch = phase.max_epochs if wait_for_a_change else phase.patience

    def stagnant(self, epoch: int, value: float) -> bool:
        if self.last is None:
            self.last = value
            return False
        if abs(value - self.last) > abs(self.last) * self.phase.change_threshold:
            self.last, self.quit_epoch = value, epoch + self.phase.patience
            return False
        return epoch >= self.quit_epoch


def output_errors(features: Tensor, weight: Tensor, targets: Tensor, offset: float
                  ) -> tuple[Tensor, Tensor]:
    """y - t and Fahlman's error e = (y - t)(y (1 - y) + offset), both (T, B, O)."""
    outputs = torch.sigmoid(features @ weight.T)
    difference = outputs - targets
    return difference, difference * (outputs * (1 - outputs) + offset)


def train_outputs(net: RCCNetwork, inputs: Tensor, targets: Tensor, mask: Tensor,
                  config: RCCConfig, max_epochs: int | None = None) -> tuple[Tensor, int]:
    """Output phase: Quickprop on U with the cascade frozen. Returns the errors e (T, B, O) of
    the trained outputs (the candidates' residuals) and the number of epochs run."""
    features = net.features(inputs)
    width = features.shape[-1]
    if net.output_weight is None:
        net.output_weight = features.new_zeros(net.output_size, width)
    if net.output_weight.shape != (net.output_size, width):
        raise ValueError(f"net.output_weight: expected shape {(net.output_size, width)}, "
                         f"received {tuple(net.output_weight.shape)}")
    phase, weight = config.output, net.output_weight
    f_p = features[mask]                                                   # (P, Z)
    t_p = targets[mask]
    epsilon = phase.epsilon / f_p.shape[0]
    state, patience = initial_state(weight), _Patience(phase)
    limit = phase.max_epochs if max_epochs is None else min(phase.max_epochs, max_epochs)
    epochs = 0
    while epochs < limit:
        difference, error = output_errors(f_p, weight, t_p, config.sigmoid_prime_offset)
        epochs += 1
        weight, state = quickprop_step(weight, error.T @ f_p, state, epsilon=epsilon,
                                       mu=phase.mu, decay=phase.decay)
        if patience.stagnant(epochs, float((difference**2).sum())):
            break
    net.output_weight = weight
    _, error = output_errors(features, weight, targets, config.sigmoid_prime_offset)
    return error, epochs


def add_hidden_unit(net: RCCNetwork, inputs: Tensor, residual: Tensor, mask: Tensor,
                    config: RCCConfig, generator: torch.Generator,
                    max_epochs: int | None = None) -> tuple[Tensor, int]:
    """Candidate phase: train the pool by Quickprop, install the best candidate; returns its
    normalised S and the number of epochs run."""
    z = net.features(inputs)                                 # [x, V_1..V_K, 1]
    low, high = -config.weight_range, config.weight_range
    size = config.candidates
    weights = torch.empty(size, z.shape[-1] + 1, dtype=z.dtype).uniform_(
        low, high, generator=generator)                      # [w, s]: (C, Z + 1)
    sse = float((residual[mask] ** 2).sum())
    phase = config.candidate
    epsilon = phase.epsilon / (int(mask.sum()) * weights.shape[1])
    state, patience = initial_state(weights), _Patience(phase, wait_for_a_change=True)
    limit = phase.max_epochs if max_epochs is None else min(phase.max_epochs, max_epochs)
    epochs = 0
    while epochs < limit:
        v, dv_dw, dv_ds = candidate_activations(z, weights[:, :-1], weights[:, -1])
        score, sign = correlation(v, residual, mask)
        grad_w, grad_s = correlation_gradient(dv_dw, dv_ds, residual, sign, mask)
        slope = -torch.cat([grad_w, grad_s.unsqueeze(-1)], dim=-1) / sse
        epochs += 1
        weights, state = quickprop_step(weights, slope, state, epsilon=epsilon, mu=phase.mu,
                                        decay=phase.decay)
        if patience.stagnant(epochs, float(score.max()) / sse):
            break
    v, _, _ = candidate_activations(z, weights[:, :-1], weights[:, -1])
    score, _ = correlation(v, residual, mask)
    best = int(score.argmax())
    net.hidden_in.append(weights[best, :-1].clone())
    net.hidden_self.append(weights[best, -1].clone())
    if net.output_weight is not None:
        # Fahlman's first guess for the new unit's output weights: minus its normalised
        # covariance with each output's error (INSTALL_NEW_UNIT, WeightMultiplier 1).
        v_p, e_p = v[mask][:, best], residual[mask]
        covariance = (v_p - v_p.mean()) @ (e_p - e_p.mean(0)) / sse             # (O,)
        old = net.output_weight
        net.output_weight = torch.cat([old[:, :-1], -covariance[:, None], old[:, -1:]], dim=1)
    return score[best] / sse, epochs


def train_rcc(inputs: Tensor, targets: Tensor, mask: Tensor, config: RCCConfig,
              generator: torch.Generator,
              solved: Callable[[RCCNetwork], bool] | None = None,
              budget: int | None = None) -> tuple[RCCNetwork, int]:
    """Grow and train on a fixed training set until ``solved(net)``, ``max_hidden`` units, or
    ``budget`` presentations.

    inputs (T, B, I), targets (T, B, O), mask (T, B) bool. Returns the net and the number of
    training-sequence presentations it took (epochs of both phases times B, never more than
    ``budget`` unless one epoch is), the budget unit of the 1997 tables.
    """
    if inputs.dim() != 3 or targets.dim() != 3 or inputs.shape[:2] != targets.shape[:2]:
        raise ValueError("inputs, targets: expected (T, B, I) and (T, B, O) with the same T, B, "
                         f"received {tuple(inputs.shape)} and {tuple(targets.shape)}")
    if mask.shape != inputs.shape[:2]:
        raise ValueError(f"mask: expected (T, B) = {tuple(inputs.shape[:2])}, "
                         f"received {tuple(mask.shape)}")
    sequences = inputs.shape[1]
    net = RCCNetwork(inputs.shape[-1], targets.shape[-1])
    presentations = 0

    def epochs_left() -> int | None:
        return None if budget is None else (budget - presentations) // sequences

    while True:  # the first output epoch runs even if one epoch is over a (--quick) budget
        left = epochs_left()
        if left is not None:
            left = max(left, int(not net.hidden_in))
        residual, epochs = train_outputs(net, inputs, targets, mask, config, left)
        presentations += epochs * sequences
        if (solved is not None and solved(net)) or len(net.hidden_in) >= config.max_hidden:
            return net, presentations
        if budget is not None and epochs_left() < 2:  # a unit needs a candidate and an output epoch
            return net, presentations
        _, epochs = add_hidden_unit(net, inputs, residual, mask, config, generator,
                                    epochs_left() - 1 if budget is not None else None)
        presentations += epochs * sequences
