"""Quickprop: a hand-computed run on a parabola, the per-weight formulas written out once more
(as scalar Python, every branch), and the torch optimizer equal to the function."""

import pytest
import torch

from lstmlab.competitors import Quickprop
from lstmlab.competitors._quickprop import initial_state, quickprop_step


def _run(w0, slope_of, steps, **kwargs):
    w = torch.tensor([w0], dtype=torch.float64)
    state = initial_state(w)
    trace = []
    for _ in range(steps):
        w, state = quickprop_step(w, slope_of(w), state, **kwargs)
        trace.append((float(state.step), float(w)))
    return trace


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_steps_on_a_parabola_are_the_hand_computed_ones(sign):
    """E = (w - 3)^2, slope 2 (w - 3), w0 = 0, epsilon 0.1, mu 1.75 (shrink = 7/11); by hand:

    1. no previous step: -0.1 * (-6) = 0.6                                        -> w = 0.6
    2. s = -4.8 (same sign: linear 0.48); secant 0.6 * -4.8 / (-6 + 4.8) = 2.4 > 1.75 * 0.6,
       (s <= 7/11 * -6): capped at 1.05; step 1.53                                -> w = 2.13
    3. s = -1.74 (linear 0.174); s > 7/11 * -4.8, secant 1.53 * -1.74 / (-4.8 + 1.74) = 0.87;
       step 1.044                                                                 -> w = 3.174
    4. s = 0.348 (sign flipped: no linear term); secant 1.044 * 0.348 / (-1.74 - 0.348)
       = -0.174: the exact minimum of a parabola                                  -> w = 3
    The mirrored parabola (w + 3)^2 gives the mirrored steps (the d < 0 branches).
    """
    trace = _run(0.0, lambda w: 2 * (w - sign * 3), 4, epsilon=0.1, mu=1.75)
    expected = [(0.6, 0.6), (1.53, 2.13), (1.044, 3.174), (-0.174, 3.0)]
    torch.testing.assert_close(torch.tensor(trace, dtype=torch.float64),
                               sign * torch.tensor(expected, dtype=torch.float64))


def _written_out(w, slope, d, p, epsilon, mu, decay):
    """Fahlman's per-weight rule, branch by branch (the module docstring's pseudo-code)."""
    s = slope + decay * w
    shrink = mu / (1 + mu)
    step = 0.0
    if d < 0:
        if s > 0:
            step -= epsilon * s
        step += mu * d if (s >= shrink * p or p == s) else d * s / (p - s)
    elif d > 0:
        if s < 0:
            step -= epsilon * s
        step += mu * d if (s <= shrink * p or p == s) else d * s / (p - s)
    else:
        step -= epsilon * s
    return w + step, step, s


def test_every_branch_equals_the_written_out_rule():
    g = torch.Generator().manual_seed(0)
    n = 4000
    w = torch.randn(n, generator=g, dtype=torch.float64)
    slope = torch.randn(n, generator=g, dtype=torch.float64)
    d = torch.randn(n, generator=g, dtype=torch.float64)
    p = torch.randn(n, generator=g, dtype=torch.float64)
    d[:400] = 0.0                      # no previous step
    p[400:500] = slope[400:500]        # s = p exactly (decay 0 below for these)
    for decay in (0.0, 0.01):
        new, state = quickprop_step(w, slope, initial_state(w)._replace(step=d, slope=p),
                                    epsilon=0.35, mu=1.75, decay=decay)
        expected = torch.tensor([_written_out(*values, 0.35, 1.75, decay) for values in
                                 zip(w.tolist(), slope.tolist(), d.tolist(), p.tolist(),
                                     strict=True)], dtype=torch.float64)
        torch.testing.assert_close(new, expected[:, 0])
        torch.testing.assert_close(state.step, expected[:, 1])
        torch.testing.assert_close(state.slope, expected[:, 2])
    branches = {(bool(a < 0), bool(a > 0), bool(b)) for a, b in
                zip(d, slope * d < 0, strict=True)}
    assert len(branches) == 5   # d = 0, and d < 0 / d > 0 each with and without the linear term


def test_the_optimizer_takes_the_functions_steps_and_minimises_a_quadratic():
    g = torch.Generator().manual_seed(1)
    a = torch.randn(6, 6, generator=g, dtype=torch.float64)
    hessian = a @ a.T + 6 * torch.eye(6, dtype=torch.float64)
    target = torch.randn(6, generator=g, dtype=torch.float64)
    weight = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    optimizer = Quickprop([weight], epsilon=0.01, mu=1.75, decay=0.0)
    w, state = torch.zeros(6, dtype=torch.float64), initial_state(torch.zeros(6))
    for _ in range(200):
        optimizer.zero_grad()
        loss = 0.5 * (weight - target) @ hessian @ (weight - target)
        loss.backward()
        optimizer.step()
        w, state = quickprop_step(w, hessian @ (w - target), state, epsilon=0.01, mu=1.75)
        torch.testing.assert_close(weight.detach(), w)
    torch.testing.assert_close(weight.detach(), target, rtol=0, atol=1e-6)


def test_bad_arguments_are_named():
    w = torch.zeros(3)
    with pytest.raises(ValueError, match="slope"):
        quickprop_step(w, torch.zeros(4), initial_state(w), epsilon=0.1)
    with pytest.raises(ValueError, match="mu"):
        quickprop_step(w, w, initial_state(w), epsilon=0.1, mu=0.0)
