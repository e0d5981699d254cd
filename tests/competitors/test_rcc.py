"""Recurrent Cascade-Correlation: sensitivities against autograd, S gradient against finite
differences, and a memory unit grown where outputs alone fail."""

import pytest
import torch

from lstmlab.competitors.rcc import (
    RCCConfig,
    RCCNetwork,
    add_hidden_unit,
    candidate_activations,
    correlation,
    correlation_gradient,
    train_outputs,
    train_rcc,
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
    config = RCCConfig(candidates=3, candidate_epochs=5, output_epochs=5)
    net = RCCNetwork(2, 1)
    residual = train_outputs(net, inputs, targets, mask, config)
    add_hidden_unit(net, inputs, residual, mask, config, g)
    z = torch.cat([inputs, torch.ones(5, 4, 1, dtype=torch.float64)], dim=-1)
    v, _, _ = candidate_activations(z, net.hidden_in[0][None], net.hidden_self[0][None])
    torch.testing.assert_close(net.features(inputs)[..., 2], v[..., 0])


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

    config = RCCConfig(max_hidden=3, candidates=8, candidate_epochs=60, output_epochs=300)
    no_hidden = RCCNetwork(1, 1)
    train_outputs(no_hidden, inputs, targets, mask, config)
    assert not solved(no_hidden)
    net, presentations = train_rcc(inputs, targets, mask, config,
                                   torch.Generator().manual_seed(0), solved)
    assert solved(net) and 1 <= len(net.hidden_in) <= 3
    assert presentations == (len(net.hidden_in) + 1) * 300 * 2 + len(net.hidden_in) * 60 * 2


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="mask"):
        train_rcc(torch.zeros(3, 2, 1), torch.zeros(3, 2, 1), torch.ones(2, 3, dtype=torch.bool),
                  RCCConfig(), torch.Generator())
