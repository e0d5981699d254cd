"""Quickprop (Fahlman 1988), the optimizer of Cascade-Correlation and Recurrent Cascade-Correlation.

Fahlman, "An empirical study of learning speed in back-propagation networks", CMU-CS-88-162,
1988 (also "Faster-learning variations on back-propagation", Proceedings of the 1988
Connectionist Models Summer School). RCC trains both its output weights and its candidate units
with it (Fahlman 1991, §1: "trained (using the Quickprop algorithm [Fahlman, 1988])").

Quickprop treats each weight w on its own. It fits a parabola through the current slope S(t)
and the previous slope S(t-1), measured one step Δw(t-1) apart, and jumps to its minimum, the
secant step

    Δw(t) = S(t) / (S(t-1) - S(t)) * Δw(t-1),

with three safeguards. Written out per weight, as in Fahlman's Cascade-Correlation code
(``QUICKPROP_UPDATE``); the names are the code's:

    s      = slope + decay * w            # decay: a weight-decay term added to the slope
    d, p   = Δw(t-1), S(t-1)               # previous step, previous (decayed) slope
    shrink = mu / (1 + mu)
    if d < 0:
        step = -epsilon * s if s > 0 else 0          # slope still says "down": add a linear term
        step += mu * d if s >= shrink * p            # parabola too flat or convex the wrong
                else d * s / (p - s)                 #   way: the maximum growth, mu times d
    elif d > 0:                                      # the mirror image
        step = -epsilon * s if s < 0 else 0
        step += mu * d if s <= shrink * p else d * s / (p - s)
    else:
        step = -epsilon * s                          # no previous step: gradient descent
    w, Δw(t), S(t) = w + step, step, s

``slope`` is dE/dw of the error to *minimise* (a maximiser, like RCC's candidates, passes
minus its gradient). ``mu`` is the maximum growth factor: a step is never more than ``mu``
times the previous one; Fahlman 1988 recommends 1.75 (his Cascade-Correlation code defaults to
2.0). The test ``s >= shrink * p`` is the closed form of "the secant step would exceed mu * d"
(d s / (p - s) >= mu d  <=>  s >= mu / (1 + mu) p for d < 0, p > s); it also catches a slope that
grew, where the parabola has no minimum ahead. One case the code leaves to floating point: s = p
exactly on the secant branch (d s / 0); here it takes the maximum step mu * d instead.

Sign convention of ``decay``: added as ``+ decay * w`` to dE/dw, i.e. the gradient of
E + decay / 2 * w^2 (Fahlman's code: OutputDecay = 0.0001, "keeps weights from growing too big").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import torch
from torch import Tensor


class QuickpropState(NamedTuple):
    """Per weight: the previous step Δw(t-1) and the previous (decayed) slope S(t-1)."""

    step: Tensor
    slope: Tensor


def initial_state(weight: Tensor) -> QuickpropState:
    """No step taken yet: the first update is plain gradient descent, -epsilon * slope."""
    return QuickpropState(torch.zeros_like(weight), torch.zeros_like(weight))


def quickprop_step(weight: Tensor, slope: Tensor, state: QuickpropState, *, epsilon: float,
                   mu: float = 1.75, decay: float = 0.0) -> tuple[Tensor, QuickpropState]:
    """One Quickprop update of every element of ``weight`` (any shape) from its ``slope``
    dE/dw (same shape). Returns the new weights and the state for the next call."""
    if slope.shape != weight.shape:
        raise ValueError(f"slope: expected the weight's shape {tuple(weight.shape)}, received "
                         f"{tuple(slope.shape)}")
    if mu <= 0 or epsilon < 0:
        raise ValueError(f"mu, epsilon: expected mu > 0 and epsilon >= 0, received {mu}, "
                         f"{epsilon}")
    s = slope + decay * weight
    d, p = state.step, state.slope
    shrink = mu / (1.0 + mu)
    down, up = d < 0, d > 0
    linear = torch.where((down & (s > 0)) | (up & (s < 0)) | (d == 0), -epsilon * s,
                         torch.zeros_like(s))
    too_big = torch.where(down, s >= shrink * p, s <= shrink * p)
    denominator = p - s
    flat = denominator == 0
    secant = d * s / torch.where(flat, torch.ones_like(denominator), denominator)
    quadratic = torch.where(too_big | flat, mu * d, secant)
    step = linear + torch.where(down | up, quadratic, torch.zeros_like(s))
    return weight + step, QuickpropState(step, s)


class Quickprop(torch.optim.Optimizer):
    """Quickprop as a ``torch.optim`` optimizer: each ``step()`` reads ``p.grad`` as the slope.

    It is a full-batch method: call ``step()`` once per epoch, with the gradient of the error
    summed over the whole training set (Fahlman 1988 trains by epochs).
    """

    def __init__(self, params: Iterable[Tensor], epsilon: float, mu: float = 1.75,
                 decay: float = 0.0) -> None:
        super().__init__(params, {"epsilon": epsilon, "mu": mu, "decay": decay})

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 (torch's signature)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                previous = QuickpropState(state["step"], state["slope"]) if state \
                    else initial_state(param)
                new, now = quickprop_step(param, param.grad, previous, epsilon=group["epsilon"],
                                          mu=group["mu"], decay=group["decay"])
                param.copy_(new)
                state["step"], state["slope"] = now.step, now.slope
        return loss
