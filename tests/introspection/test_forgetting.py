"""Discarded content against the per-step reference, and a planted forget event found."""

from __future__ import annotations

import pytest
import torch

from lstmlab.introspection import discarded, forget_events, trace


def test_discarded_equals_one_minus_f_times_previous_cell(lstm_reference):
    generator = torch.Generator().manual_seed(0)
    model = torch.nn.LSTM(3, 4, bidirectional=True).double()
    x = torch.randn(8, 3, 3, dtype=torch.float64, generator=generator)
    lengths = torch.tensor([8, 2, 5])
    hx = (torch.randn(2, 3, 4, dtype=torch.float64, generator=generator),
          torch.randn(2, 3, 4, dtype=torch.float64, generator=generator))
    result = trace(model, x, hx, lengths=lengths)
    reference = lstm_reference(model, x, hx, lengths)
    for direction in range(2):
        amounts = discarded(result.layers[0][direction])
        record = reference[(0, direction)]
        for b, n in enumerate(lengths.tolist()):
            for t in range(n):
                step_before = t - 1 if direction == 0 else t + 1
                first = step_before < 0 or step_before >= n
                c_prev = hx[1][direction, b] if first else record["c"][step_before, b]
                torch.testing.assert_close(amounts[t, b], (1 - record["f"][t, b]) * c_prev,
                                           rtol=0, atol=1e-12)
            assert amounts[n:, b].abs().sum() == 0


def planted_model():
    """One unit: it writes +1 at every step (i, g ~ 1) and forgets only when x = 1."""
    model = torch.nn.LSTM(1, 1).double()
    with torch.no_grad():
        model.weight_hh_l0.zero_()
        model.weight_ih_l0.copy_(torch.tensor([[0.0], [-40.0], [0.0], [0.0]]))
        model.bias_ih_l0.copy_(torch.tensor([20.0, 20.0, 20.0, 20.0]))
        model.bias_hh_l0.zero_()
    return model


def test_the_planted_reset_is_the_largest_forget_event():
    tokens = "the cat sat on the mat . she said".split()
    x = torch.zeros(len(tokens), 1, 1, dtype=torch.float64)
    x[6] = 1.0  # the full stop resets the cell
    layer = trace(planted_model(), x)[0]
    events = forget_events(layer, 3, tokens=tokens)
    assert (events[0].position, events[0].unit, events[0].token) == (6, 0, ".")
    # the cell had counted 6 writes; f = sigmoid(-20) ~ 2e-9 throws (nearly) all of it away
    assert events[0].previous_cell == pytest.approx(6.0, abs=1e-6)
    assert events[0].discarded == pytest.approx(6.0, abs=1e-6)
    assert abs(events[1].discarded) < 1e-6
    assert [e.position for e in events] == sorted(
        range(len(tokens)), key=lambda t: -abs(float(discarded(layer)[t, 0, 0])))[:3]


def test_forget_events_skip_masked_steps_and_check_arguments():
    x = torch.zeros(9, 2, 1, dtype=torch.float64)
    x[6, 1] = 1.0  # past sequence 1's end: never reported
    x[2, 0] = 1.0
    layer = trace(planted_model(), x, lengths=[9, 5])[0]
    events = forget_events(layer, 20, tokens=[list("abcdefghi"), list("vwxyz")])
    assert len(events) == 14  # the real steps only
    assert (events[0].position, events[0].batch, events[0].token) == (2, 0, "c")
    with pytest.raises(ValueError, match="count"):
        forget_events(layer, 0)
    with pytest.raises(ValueError, match="units"):
        forget_events(layer, units=[3])
    with pytest.raises(ValueError, match="tokens"):
        forget_events(layer, tokens=[["a"]])
