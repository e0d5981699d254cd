"""Exact RTRL against BPTT (the same gradient, [H97] §5 intro) and online RTRL against the
textbook equations of Williams & Zipser (1989) for a simple RNN."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from lstmlab.cells import ElmanGates, HiddenState
from lstmlab.training import RTRL, SequenceModel, cross_entropy, sum_squared_error
from lstmlab.training._batch import SequenceBatch
from lstmlab.training._bptt import bptt_gradients
from lstmlab.training._rtrl import rtrl_gradients


@pytest.mark.parametrize("name", ["lstm", "lstm1997", "peephole", "gru", "elman",
                                  "lstm1997_truncated"])
def test_rtrl_gradient_equals_bptt(name, model_builder, batch_builder):
    """For the truncated 1997 cell both sides differentiate the same cut graph ([H97] App. A.1)."""
    generator = torch.Generator().manual_seed(1)
    model = model_builder(name, 3, 4, 2, generator)
    batch = batch_builder(7, 3, 3, 2, generator, error_every=2)
    expected = bptt_gradients(model, batch, sum_squared_error)
    received = rtrl_gradients(model, batch, sum_squared_error)
    assert received.keys() == expected.keys()
    for key in expected:
        assert_close(received[key], expected[key], rtol=1e-9, atol=1e-9, msg=key)
    assert max(g.abs().max() for g in expected.values()) > 1e-3  # the test can fail


def test_rtrl_cross_entropy_equals_bptt(model_builder, batch_builder):
    generator = torch.Generator().manual_seed(2)
    model = model_builder("peephole", 2, 3, 4, generator, squash=None)
    batch = batch_builder(5, 2, 2, 4, generator)
    targets = torch.softmax(3 * batch.targets, dim=-1)
    batch = SequenceBatch(batch.inputs, targets, batch.mask, batch.lengths)
    expected = bptt_gradients(model, batch, cross_entropy)
    received = rtrl_gradients(model, batch, cross_entropy)
    for key in expected:
        assert_close(received[key], expected[key], rtol=1e-9, atol=1e-9, msg=key)


class TinyElman(nn.Module):
    """h_t = tanh(x_t @ weight_ih.T + h_{t-1} @ weight_hh.T + bias): the reference's net."""

    def __init__(self, input_size: int, hidden_size: int, generator: torch.Generator) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        draw = lambda *shape: nn.Parameter(  # noqa: E731
            torch.rand(*shape, generator=generator, dtype=torch.float64) - 0.5)
        self.weight_ih = draw(hidden_size, input_size)
        self.weight_hh = draw(hidden_size, hidden_size)
        self.bias = draw(hidden_size)

    def initial_state(self, batch_size, *, dtype=None, device=None):
        return HiddenState(torch.zeros(batch_size, self.hidden_size, dtype=dtype, device=device))

    def forward(self, x, state):
        pre = x @ self.weight_ih.T + state.h @ self.weight_hh.T + self.bias
        return HiddenState(torch.tanh(pre)), ElmanGates(pre)


def williams_zipser(cell, readout, batch, lr):
    """Online RTRL written out for TinyElman with logistic outputs, B = 1, plain SGD.

    z_t = [x_t, h_{t-1}, 1];  p^k_{ij}(t) = (1 - h_k(t)²) (Σ_l U_kl p^l_{ij}(t-1) + δ_ki z_j(t))
    y_t = σ(V h_t + d);  e_t = y_t - target_t;  ∂E/∂V = 2 e σ' h_t.T;  ∂E/∂W_ij = Σ_k δ_k p^k_ij
    with δ = V.T (2 e σ'), W = [weight_ih, weight_hh, bias]; every weight moves after each step.
    """
    W = torch.cat([cell.weight_ih, cell.weight_hh, cell.bias[:, None]], 1).detach().clone()
    V, d = readout.weight.detach().clone(), readout.bias.detach().clone()
    I, H = cell.input_size, cell.hidden_size
    p = torch.zeros(H, H, I + H + 1, dtype=torch.float64)
    h = torch.zeros(H, dtype=torch.float64)
    for t in range(batch.inputs.shape[0]):
        z = torch.cat([batch.inputs[t, 0], h, torch.ones(1, dtype=torch.float64)])
        h = torch.tanh(W @ z)
        U = W[:, I:I + H]
        direct = torch.zeros(H, H, I + H + 1, dtype=torch.float64)
        direct[torch.arange(H), torch.arange(H)] = z
        p = (1 - h**2)[:, None, None] * (torch.einsum("kl,lij->kij", U, p) + direct)
        if not batch.mask[t, 0]:
            continue
        y = torch.sigmoid(V @ h + d)
        out_delta = 2 * (y - batch.targets[t, 0]) * y * (1 - y)
        grad_W = torch.einsum("k,kij->ij", V.T @ out_delta, p)
        V, d = V - lr * torch.outer(out_delta, h), d - lr * out_delta
        W = W - lr * grad_W
    return W, V, d


def test_online_rtrl_matches_williams_zipser(batch_builder):
    generator = torch.Generator().manual_seed(3)
    cell = TinyElman(2, 3, generator)
    readout = nn.Linear(3, 2, dtype=torch.float64)
    model = SequenceModel(cell, readout, torch.sigmoid)
    batch = batch_builder(9, 1, 2, 2, generator, error_every=2)
    initial = torch.cat([cell.weight_ih, cell.weight_hh, cell.bias[:, None]], 1).detach().clone()
    W, V, d = williams_zipser(cell, readout, batch, lr=0.5)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    RTRL(online=True)(model, batch, sum_squared_error, optimizer)
    received = torch.cat([cell.weight_ih, cell.weight_hh, cell.bias[:, None]], 1).detach()
    assert_close(received, W, rtol=1e-12, atol=1e-12)
    assert_close(readout.weight.detach(), V, rtol=1e-12, atol=1e-12)
    assert_close(readout.bias.detach(), d, rtol=1e-12, atol=1e-12)
    assert (W - initial).abs().max() > 1e-3  # the weights did move
