"""Recurrent Cascade-Correlation with Quickprop: sensitivities against autograd, S gradient
against finite differences, each phase's first Quickprop step against autograd's gradient, the
stagnation rule by hand, and a memory unit grown where outputs alone fail."""

import pytest
import torch

from lstmlab.competitors import RCCConfig, RCCNetwork, train_rcc
from lstmlab.competitors._rcc import (
    PhaseConfig,
    _Patience,
    add_hidden_unit,
    candidate_activations,
    correlation,
    correlation_gradient,
    hidden_value,
    train_outputs,
)


def _problem(generator, steps=6, batch=5, inputs=3, outputs=2, candidates=4):
    z = torch.randn(steps, batch, inputs, generator=generator, dtype=torch.float64)
    w = torch.randn(candidates, inputs, generator=generator, dtype=torch.float64)
    s = torch.randn(candidates, generator=generator, dtype=torch.float64)
    residual = torch.randn(steps, batch, outputs, generator=generator, dtype=torch.float64)
    mask = torch.rand(steps, batch, generator=generator) < 0.7
    return z, w, s, residual, mask


def test_forward_sensitivities_equal_autograd():
    z, w, s, _, _ = _problem(torch.Generator().manual_seed(0))
    v, dv_dw, dv_ds = candidate_activations(z, w, s)
    jac_w, jac_s = torch.autograd.functional.jacobian(
        lambda w_, s_: candidate_activations(z, w_, s_)[0], (w, s))
    # jac_w: (T, B, C, C', Z) -> only C == C' is non-zero (candidates are independent)
    candidates = torch.arange(w.shape[0])
    torch.testing.assert_close(dv_dw, jac_w[:, :, candidates, candidates], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(dv_ds, jac_s[:, :, candidates, candidates], rtol=1e-10, atol=1e-12)


def test_candidate_correlation_gradient_matches_finite_differences():
    z, w, s, residual, mask = _problem(torch.Generator().manual_seed(1))
    v, dv_dw, dv_ds = candidate_activations(z, w, s)
    _, sign = correlation(v, residual, mask)
    grad_w, grad_s = correlation_gradient(dv_dw, dv_ds, residual, sign, mask)

    def score(w_, s_):
        return correlation(candidate_activations(z, w_, s_)[0], residual, mask)[0]

    eps = 1e-6
    numeric_w = torch.zeros_like(w)
    for c in range(w.shape[0]):
        for j in range(w.shape[1]):
            step = torch.zeros_like(w)
            step[c, j] = eps
            numeric_w[c, j] = (score(w + step, s)[c] - score(w - step, s)[c]) / (2 * eps)
    numeric_s = torch.stack([
        (score(w, s + eps * torch.eye(len(s))[c])[c] - score(w, s - eps * torch.eye(len(s))[c])[c])
        / (2 * eps) for c in range(len(s))])
    torch.testing.assert_close(grad_w, numeric_w, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(grad_s, numeric_s, rtol=1e-6, atol=1e-7)


def test_installed_unit_runs_in_the_network_exactly_as_it_did_as_a_candidate():
    g = torch.Generator().manual_seed(2)
    inputs = torch.randn(5, 4, 2, generator=g, dtype=torch.float64)
    targets = torch.rand(5, 4, 1, generator=g, dtype=torch.float64)
    mask = torch.ones(5, 4, dtype=torch.bool)
    config = RCCConfig(candidates=3, output=PhaseConfig(0.35, max_epochs=5),
                       candidate=PhaseConfig(1.0, max_epochs=5))
    net = RCCNetwork(2, 1)
    residual, _ = train_outputs(net, inputs, targets, mask, config)
    add_hidden_unit(net, inputs, residual, mask, config, g)
    z = torch.cat([inputs, torch.ones(5, 4, 1, dtype=torch.float64)], dim=-1)
    v, _, _ = candidate_activations(z, net.hidden_in[0][None], net.hidden_self[0][None])
    torch.testing.assert_close(net.features(inputs)[..., 2], v[..., 0])


def test_sensitivities_are_of_fahlmans_symmetric_sigmoid_unit():
    z = torch.tensor([[[1.0, -2.0]], [[0.5, 0.0]]], dtype=torch.float64)   # (T=2, B=1, Z=2)
    w = torch.tensor([[0.3, 0.4]], dtype=torch.float64)
    s = torch.tensor([0.7], dtype=torch.float64)
    v, _, _ = candidate_activations(z, w, s)
    v1 = 1 / (1 + torch.exp(torch.tensor(0.5, dtype=torch.float64))) - 0.5       # net -0.5
    v2 = 1 / (1 + torch.exp(-(0.15 + 0.7 * v1))) - 0.5
    torch.testing.assert_close(v[:, 0, 0], torch.stack([v1, v2]))
    torch.testing.assert_close(hidden_value(torch.tensor(0.0)), torch.tensor(0.0))


def test_the_output_phases_first_step_is_epsilon_over_patterns_times_autograds_gradient():
    """Quickprop starts as gradient descent; Fahlman's slope with offset 0 is half the gradient
    of E = sum (y - t)^2 over the masked patterns."""
    g = torch.Generator().manual_seed(3)
    inputs = torch.randn(4, 3, 2, generator=g, dtype=torch.float64)
    targets = torch.rand(4, 3, 2, generator=g, dtype=torch.float64)
    mask = torch.rand(4, 3, generator=g) < 0.6
    config = RCCConfig(sigmoid_prime_offset=0.0,
                       output=PhaseConfig(0.35, decay=0.0001, max_epochs=1))
    net = RCCNetwork(2, 2)
    net.output_weight = torch.randn(2, 3, generator=g, dtype=torch.float64)
    start = net.output_weight.clone().requires_grad_(True)
    features = net.features(inputs)
    loss = ((torch.sigmoid(features @ start.T) - targets)[mask] ** 2).sum()
    (gradient,) = torch.autograd.grad(loss, start)
    _, epochs = train_outputs(net, inputs, targets, mask, config)
    assert epochs == 1
    torch.testing.assert_close(net.output_weight, start.detach() - 0.35 / int(mask.sum())
                               * (gradient / 2 + 0.0001 * start.detach()))


def test_the_candidate_phases_first_step_ascends_the_normalised_correlation():
    g = torch.Generator().manual_seed(4)
    inputs = torch.randn(5, 4, 2, generator=g, dtype=torch.float64)
    residual = torch.randn(5, 4, 3, generator=g, dtype=torch.float64)
    mask = torch.rand(5, 4, generator=g) < 0.7
    config = RCCConfig(candidates=3, candidate=PhaseConfig(1.0, max_epochs=1))
    net = RCCNetwork(2, 3)
    _, epochs = add_hidden_unit(net, inputs, residual, mask, config,
                                torch.Generator().manual_seed(9))
    assert epochs == 1
    start = torch.empty(3, 4, dtype=torch.float64).uniform_(
        -1.0, 1.0, generator=torch.Generator().manual_seed(9))          # [w (Z = 3), s]
    z = torch.cat([inputs, torch.ones(5, 4, 1, dtype=torch.float64)], -1)   # no hidden unit yet
    weights = start.clone().requires_grad_(True)
    v, _, _ = candidate_activations(z, weights[:, :-1], weights[:, -1])
    sse = (residual[mask] ** 2).sum()
    score = correlation(v, residual, mask)[0] / sse
    (gradient,) = torch.autograd.grad(score.sum(), weights)
    stepped = start + 1.0 / (int(mask.sum()) * 4) * gradient
    best = int(correlation(candidate_activations(z, stepped[:, :-1], stepped[:, -1])[0],
                           residual, mask)[0].argmax())
    torch.testing.assert_close(net.hidden_in[0], stepped[best, :-1])
    torch.testing.assert_close(net.hidden_self[0], stepped[best, -1])


def test_a_phase_stops_after_patience_epochs_without_a_significant_change():
    patience = _Patience(PhaseConfig(1.0, patience=3, change_threshold=0.1))
    # 10 -> 5 (significant) -> 4.6, 4.7, 4.55 (within 10 % of 5) -> quits at epoch 2 + 3 = 5
    verdicts = [patience.stagnant(epoch, value)
                for epoch, value in enumerate([10.0, 5.0, 4.6, 4.7, 4.55], start=1)]
    assert verdicts == [False, False, False, False, True]
    flat = [5.0] * 6
    at_once = _Patience(PhaseConfig(1.0, patience=3, max_epochs=6))
    assert [at_once.stagnant(e, v) for e, v in enumerate(flat, 1)] == [False] * 2 + [True] * 4
    waiting = _Patience(PhaseConfig(1.0, patience=3, max_epochs=6), wait_for_a_change=True)
    assert [waiting.stagnant(e, v) for e, v in enumerate(flat, 1)] == [False] * 5 + [True]


def test_a_new_units_output_weights_start_at_minus_its_normalised_covariance():
    g = torch.Generator().manual_seed(5)
    inputs = torch.randn(5, 4, 2, generator=g, dtype=torch.float64)
    targets = torch.rand(5, 4, 3, generator=g, dtype=torch.float64)
    mask = torch.rand(5, 4, generator=g) < 0.7
    config = RCCConfig(candidates=2, output=PhaseConfig(0.35, max_epochs=3),
                       candidate=PhaseConfig(1.0, max_epochs=3))
    net = RCCNetwork(2, 3)
    residual, _ = train_outputs(net, inputs, targets, mask, config)
    before = net.output_weight.clone()
    add_hidden_unit(net, inputs, residual, mask, config, g)
    v = net.features(inputs)[..., 2][mask]
    e = residual[mask]
    covariance = ((v - v.mean())[:, None] * (e - e.mean(0))).sum(0) / (e**2).sum()
    torch.testing.assert_close(net.output_weight[:, :2], before[:, :2])
    torch.testing.assert_close(net.output_weight[:, 2], -covariance)
    torch.testing.assert_close(net.output_weight[:, 3], before[:, 2])


def test_rcc_grows_a_memory_unit_for_the_two_sequence_problem():
    """The class sits in x_0 only; outputs alone (no recurrence) cannot solve it at the end."""
    steps = 8
    inputs = torch.zeros(steps, 2, 1, dtype=torch.float64)
    inputs[0, 0, 0], inputs[0, 1, 0] = 1.0, -1.0
    targets = torch.tensor([1.0, 0.0], dtype=torch.float64).expand(steps, 2).unsqueeze(-1)
    mask = torch.zeros(steps, 2, dtype=torch.bool)
    mask[-1] = True

    def solved(net):
        return bool(((net(inputs) - targets)[mask].abs() < 0.2).all())

    config = RCCConfig(max_hidden=3)
    no_hidden = RCCNetwork(1, 1)
    train_outputs(no_hidden, inputs, targets, mask, config)
    assert not solved(no_hidden)
    net, presentations = train_rcc(inputs, targets, mask, config,
                                   torch.Generator().manual_seed(0), solved)
    assert solved(net) and 1 <= len(net.hidden_in) <= 3
    assert presentations % 2 == 0 and presentations <= (2 * 3 + 1) * 200 * 2
    small, spent = train_rcc(inputs, targets, mask, config, torch.Generator().manual_seed(0),
                             budget=30)
    assert spent <= 30


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="mask"):
        train_rcc(torch.zeros(3, 2, 1), torch.zeros(3, 2, 1), torch.ones(2, 3, dtype=torch.bool),
                  RCCConfig(), torch.Generator())
