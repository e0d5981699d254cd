"""Interventions in the step recurrence: the identity patch is the model's own run, and a clamp
changes exactly the clamped gate (the rest of that step unchanged; later steps only through the
state), checked against a plain loop over torch's equations written here."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmlab.introspection import Clamp, combine, patched_run, trace
from lstmlab.layers import LSTM

FIELDS = ("input", "forget", "candidate", "output", "cell", "hidden")


@pytest.mark.parametrize("make", [
    lambda: torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2),
    lambda: torch.nn.LSTM(3, 5, batch_first=True),
    lambda: LSTM(3, 5, num_layers=2, bidirectional=True),
])
def test_identity_patch_is_the_models_own_run(make):
    torch.manual_seed(0)
    model = make().double()
    x = torch.randn(7, 4, 3, dtype=torch.float64)
    lengths = torch.tensor([7, 3, 5, 1])
    run = patched_run(model, x.transpose(0, 1) if model.batch_first else x, lengths=lengths)
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    if model.batch_first:
        packed = pack_padded_sequence(x.transpose(0, 1), lengths, batch_first=True,
                                      enforce_sorted=False)
    output, (h_n, c_n) = model(packed)
    output, _ = pad_packed_sequence(output, total_length=7)
    torch.testing.assert_close(run.output, output, rtol=0, atol=1e-12)
    torch.testing.assert_close(run.final[0], h_n, rtol=0, atol=1e-12)
    torch.testing.assert_close(run.final[1], c_n, rtol=0, atol=1e-12)
    reference = trace(model, x.transpose(0, 1) if model.batch_first else x, lengths=lengths)
    for ours, theirs in zip(run.trace.layers, reference.layers, strict=True):
        for a, b in zip(ours, theirs, strict=True):
            for name in FIELDS:
                torch.testing.assert_close(getattr(a, name), getattr(b, name), rtol=0,
                                           atol=1e-12)


def _loop_with_forced_forget(model, x, units, step, value):
    """torch's LSTM equations one step at a time, f of ``units`` set to ``value`` at ``step``."""
    w_ih, w_hh = model.weight_ih_l0, model.weight_hh_l0
    b = model.bias_ih_l0 + model.bias_hh_l0
    h = c = torch.zeros(x.shape[1], model.hidden_size, dtype=x.dtype)
    hs = []
    for t in range(x.shape[0]):
        i, f, g, o = (x[t] @ w_ih.T + h @ w_hh.T + b).chunk(4, dim=-1)
        f = f.sigmoid()
        if t == step:
            f = f.clone()
            f[:, units] = value
        c = f * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        hs.append(h)
    return torch.stack(hs)


def test_a_clamp_changes_exactly_the_clamped_gate():
    torch.manual_seed(1)
    model = torch.nn.LSTM(3, 6).double()
    x = torch.randn(8, 5, 3, dtype=torch.float64)
    where = torch.zeros(8, 5, dtype=torch.bool)
    where[4] = True
    units = [1, 3]
    base = patched_run(model, x).trace[0]
    run = patched_run(model, x, Clamp("forget", units, 1.0, where=where))
    clamped = run.trace[0]
    others = [u for u in range(6) if u not in units]
    for name in FIELDS:  # steps before the clamp: bit for bit the same
        assert torch.equal(getattr(clamped, name)[:4], getattr(base, name)[:4]), name
    for name in ("input", "candidate", "output"):  # the clamped step: other gates unchanged
        assert torch.equal(getattr(clamped, name)[4], getattr(base, name)[4]), name
    assert torch.equal(clamped.forget[4][:, others], base.forget[4][:, others])
    assert torch.equal(clamped.forget[4][:, units], torch.ones(5, 2, dtype=torch.float64))
    # c and h change only in the clamped units at that step ...
    assert torch.equal(clamped.cell[4][:, others], base.cell[4][:, others])
    assert (clamped.cell[4][:, units] != base.cell[4][:, units]).all()
    # ... and every later step sees the changed state, through h_{t-1} in all its gates.
    assert (clamped.forget[5] - base.forget[5]).abs().min() > 0
    torch.testing.assert_close(run.output, _loop_with_forced_forget(model, x, units, 4, 1.0),
                               rtol=0, atol=1e-12)


def test_clamps_combine_and_address_one_layer_and_direction():
    torch.manual_seed(2)
    model = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    patch = combine(Clamp("forget", [0], 0.0, layer=1, direction=1),
                    Clamp("output", [2, 3], 0.5, layer=1, direction=1))
    run = patched_run(model, x, patch)
    base = patched_run(model, x)
    for layer in range(2):  # untouched layer 0 and forward direction of layer 1
        for direction in range(2 - layer):
            for name in FIELDS:
                assert torch.equal(getattr(run.trace.layers[layer][direction], name),
                                   getattr(base.trace.layers[layer][direction], name))
    reverse = run.trace.layers[1][1]
    assert torch.equal(reverse.forget[..., 0], torch.zeros(5, 2, dtype=torch.float64))
    assert torch.equal(reverse.output[..., 2:], torch.full((5, 2, 2), 0.5, dtype=torch.float64))


def test_where_follows_input_positions_in_the_reverse_direction():
    """A clamp at input position 2 acts on the step that reads x_2, whatever the length."""
    torch.manual_seed(3)
    model = torch.nn.LSTM(2, 3, bidirectional=True).double()
    x = torch.randn(6, 2, 2, dtype=torch.float64)
    lengths = torch.tensor([6, 4])
    where = torch.zeros(6, 2, dtype=torch.bool)
    where[2] = True
    run = patched_run(model, x, Clamp("input", [1], 0.0, where=where, direction=1),
                      lengths=lengths)
    base = patched_run(model, x, lengths=lengths)
    reverse, before = run.trace.layers[0][1], base.trace.layers[0][1]
    assert torch.equal(reverse.input[2, :, 1], torch.zeros(2, dtype=torch.float64))
    # positions read before position 2 in the reverse direction (3.. the end) are untouched
    assert torch.equal(reverse.cell[3:], before.cell[3:])
    assert (reverse.input[:2, :, 0] != before.input[:2, :, 0]).all()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="gate"):
        Clamp("cell", [0], 1.0)
    with pytest.raises(ValueError, match="where"):
        Clamp("forget", [0], 1.0, where=torch.zeros(3))
    with pytest.raises(ValueError, match="model"):
        patched_run(torch.nn.GRU(2, 3), torch.zeros(4, 1, 2))
