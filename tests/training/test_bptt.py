"""Full BPTT against torch's own LSTM, and truncated BPTT(k) against autograd on a graph whose
state is detached every k steps (a separate hand-written loop)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from lstmlab.training import BPTT, TruncatedBPTT, sum_squared_error
from lstmlab.training._bptt import bptt_gradients, truncated_bptt_gradients


def detached_every_k(model, batch, truncation_length):
    """The reference: one pass over the sequence, the state cut at t = k, 2k, ...; one backward."""
    state = model.cell.initial_state(batch.inputs.shape[1], dtype=torch.float64)
    outputs = []
    for t, x_t in enumerate(batch.inputs):
        if t % truncation_length == 0:
            state = type(state)(*(field.detach() for field in state))
        state, _ = model.cell(x_t, state)
        outputs.append(model.readout(state.h))
    y = torch.sigmoid(torch.stack(outputs))
    loss = ((y - batch.targets).square().sum(-1) * batch.mask).sum() / batch.inputs.shape[1]
    names, params = zip(*model.named_parameters(), strict=True)
    return dict(zip(names, torch.autograd.grad(loss, params), strict=True))


@pytest.mark.parametrize("truncation_length", [1, 3, 4, 20])
def test_truncated_bptt_equals_detached_graph(truncation_length, model_builder, batch_builder):
    generator = torch.Generator().manual_seed(4)
    model = model_builder("peephole", 3, 4, 2, generator)
    batch = batch_builder(10, 2, 3, 2, generator)
    expected = detached_every_k(model, batch, truncation_length)
    received = truncated_bptt_gradients(model, batch, sum_squared_error, truncation_length)
    for key in expected:
        assert_close(received[key], expected[key], rtol=1e-12, atol=1e-12, msg=key)


def test_truncation_changes_the_gradient(model_builder, batch_builder):
    generator = torch.Generator().manual_seed(5)
    model = model_builder("lstm1997", 3, 4, 2, generator)
    batch = batch_builder(10, 2, 3, 2, generator)
    full = bptt_gradients(model, batch, sum_squared_error)
    assert_close(truncated_bptt_gradients(model, batch, sum_squared_error, 10),
                 full, rtol=1e-12, atol=1e-12)
    cut = truncated_bptt_gradients(model, batch, sum_squared_error, 2)
    assert (cut["cell.weight_hh"] - full["cell.weight_hh"]).abs().max() > 1e-6


def test_bptt_gradient_equals_torch_lstm(model_builder, batch_builder):
    """The peephole cell with zero peepholes is torch's LSTM; the gradients must match."""
    generator = torch.Generator().manual_seed(6)
    model = model_builder("peephole", 3, 4, 2, generator)
    with torch.no_grad():
        model.cell.weight_peephole.zero_()
    batch = batch_builder(6, 2, 3, 2, generator)
    reference = nn.LSTM(3, 4, dtype=torch.float64)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(reference, name + "_l0").copy_(getattr(model.cell, name))
    hs, _ = reference(batch.inputs)
    loss = sum_squared_error(torch.sigmoid(model.readout(hs)), batch.targets, batch.mask)
    loss.backward()
    received = bptt_gradients(model, batch, sum_squared_error)
    assert_close(received["cell.weight_hh"], reference.weight_hh_l0.grad, rtol=1e-12, atol=1e-12)
    assert_close(received["cell.bias_ih"], reference.bias_ih_l0.grad, rtol=1e-12, atol=1e-12)


def test_tbptt_online_update_is_one_sgd_step_per_chunk(model_builder, batch_builder):
    """With update_every_chunk, chunk 2 starts from chunk 1's state and sees updated weights."""
    generator = torch.Generator().manual_seed(7)
    model = model_builder("peephole", 2, 2, 1, generator)
    twin = model_builder("peephole", 2, 2, 1, torch.Generator().manual_seed(7))
    batch = batch_builder(8, 1, 2, 1, generator)
    TruncatedBPTT(4)(model, batch, sum_squared_error, torch.optim.SGD(model.parameters(), lr=0.3))
    # By hand: chunk 1 from the zero state, one SGD step, chunk 2 from chunk 1's final state.
    first, second = (type(batch)(batch.inputs[s], batch.targets[s], batch.mask[s], batch.lengths)
                     for s in (slice(0, 4), slice(4, 8)))
    with torch.no_grad():
        _, state = twin(first.inputs)  # made by the weights before the update
    for part, start in ((first, None), (second, state)):
        outputs, _ = twin(part.inputs, start)
        loss = sum_squared_error(outputs, part.targets, part.mask)
        grads = torch.autograd.grad(loss, list(twin.parameters()))
        with torch.no_grad():
            for p, g in zip(twin.parameters(), grads, strict=True):
                p -= 0.3 * g
    for (key, p), q in zip(model.named_parameters(), twin.parameters(), strict=True):
        assert_close(p, q, rtol=1e-12, atol=1e-12, msg=key)


def test_tbptt_skips_updates_on_chunks_without_error(model_builder, batch_builder):
    """Error only in the first of three chunks: with momentum, exactly one update is made (a
    step on a chunk without error would move the weights again through the momentum)."""
    generator = torch.Generator().manual_seed(8)
    model = model_builder("gru", 2, 3, 1, generator)
    twin = model_builder("gru", 2, 3, 1, torch.Generator().manual_seed(8))
    batch = batch_builder(9, 2, 2, 1, generator)
    mask = torch.zeros_like(batch.mask)
    mask[2] = True
    batch = type(batch)(batch.inputs, batch.targets, mask, batch.lengths)
    TruncatedBPTT(3)(model, batch, sum_squared_error,
                     torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9))
    first = type(batch)(batch.inputs[:3], batch.targets[:3], mask[:3], batch.lengths)
    BPTT()(twin, first, sum_squared_error, torch.optim.SGD(twin.parameters(), lr=0.3,
                                                          momentum=0.9))
    for (key, p), q in zip(model.named_parameters(), twin.parameters(), strict=True):
        assert_close(p, q, rtol=1e-12, atol=1e-12, msg=key)


def test_bptt_makes_no_update_on_a_batch_without_error(model_builder, batch_builder):
    """Adam after a step: a second batch with no error must not move the weights (a step with
    a zero gradient would, through Adam's first moment)."""
    generator = torch.Generator().manual_seed(9)
    model = model_builder("lstm", 2, 3, 1, generator)
    batch = batch_builder(5, 2, 2, 1, generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    BPTT()(model, batch, sum_squared_error, optimizer)
    before = [p.detach().clone() for p in model.parameters()]
    silent = type(batch)(batch.inputs, batch.targets, torch.zeros_like(batch.mask),
                         batch.lengths)
    BPTT()(model, silent, sum_squared_error, optimizer)
    for p, q in zip(model.parameters(), before, strict=True):
        assert torch.equal(p, q)
    BPTT()(model, batch, sum_squared_error, optimizer)  # with error it does move
    assert not all(torch.equal(p, q) for p, q in zip(model.parameters(), before, strict=True))


@pytest.mark.parametrize("truncation_length", [0, -3, 2.0, True])
def test_truncation_length_must_be_a_positive_int(truncation_length):
    with pytest.raises(ValueError, match="truncation_length"):
        TruncatedBPTT(truncation_length)
