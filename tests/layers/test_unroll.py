"""unroll: recording equals stepping by hand; lengths freeze states; torch.nn.LSTM parity."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence
from torch.testing import assert_close

from lstmlab.cells import ElmanCell, Gates, GRUCell, HiddenState, LSTMCell, LSTMState
from lstmlab.layers import unroll

TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def _cell_and_inputs(steps=5, batch=3, seed=0):
    torch.manual_seed(seed)
    cell = LSTMCell(2, 4, dtype=torch.float64)
    xs = torch.randn(steps, batch, 2, dtype=torch.float64)
    state = LSTMState(torch.randn(batch, 4, dtype=torch.float64),
                      torch.randn(batch, 4, dtype=torch.float64))
    return cell, xs, state


@pytest.mark.parametrize("reverse", [False, True])
def test_recording_equals_stepping_by_hand(reverse):
    cell, xs, state = _cell_and_inputs()
    outputs, final, recording = unroll(cell, xs, state, record=True, reverse=reverse)
    hand_states, hand_gates = [None] * 5, [None] * 5
    for t in (range(4, -1, -1) if reverse else range(5)):
        state, gates = cell(xs[t], state)
        hand_states[t], hand_gates[t] = state, gates
    assert isinstance(recording.states, LSTMState) and isinstance(recording.gates, Gates)
    assert_close(recording.states.h, torch.stack([s.h for s in hand_states]), **TIGHT)
    assert_close(recording.states.c, torch.stack([s.c for s in hand_states]), **TIGHT)
    for name in Gates._fields:
        expected = torch.stack([getattr(g, name) for g in hand_gates])
        assert_close(getattr(recording.gates, name), expected, **TIGHT)
    assert_close(outputs, recording.states.h, **TIGHT)
    assert_close(final, state, **TIGHT)


def test_no_recording_by_default_and_zero_initial_state():
    cell, xs, _ = _cell_and_inputs()
    outputs, final, recording = unroll(cell, xs)
    assert recording is None
    expected, _, _ = unroll(cell, xs, cell.initial_state(3), record=True)
    assert_close(outputs, expected, **TIGHT)


@pytest.mark.parametrize("reverse", [False, True])
def test_lengths_freeze_the_state_and_zero_the_padding(reverse):
    cell, xs, state = _cell_and_inputs(steps=6, batch=3)
    lengths = [6, 2, 4]
    outputs, final, recording = unroll(cell, xs, state, record=True, lengths=lengths,
                                       reverse=reverse)
    for b, length in enumerate(lengths):
        single = LSTMState(state.h[b:b + 1], state.c[b:b + 1])
        alone, alone_final, alone_recording = unroll(
            cell, xs[:length, b:b + 1], single, record=True, reverse=reverse)
        assert_close(outputs[:length, b:b + 1], alone, **TIGHT)
        assert_close(final.h[b:b + 1], alone_final.h, **TIGHT)
        assert_close(final.c[b:b + 1], alone_final.c, **TIGHT)
        assert_close(recording.gates.forget[:length, b:b + 1], alone_recording.gates.forget,
                     **TIGHT)
        assert bool((outputs[length:, b] == 0).all())
        assert bool((recording.states.c[length:, b] == 0).all())
        assert bool((recording.gates.input[length:, b] == 0).all())


def test_lengths_match_torch_packed_sequence():
    cell, xs, state = _cell_and_inputs(steps=6, batch=3, seed=3)
    lengths = torch.tensor([3, 6, 1])
    theirs = torch.nn.LSTM(2, 4, bidirectional=True, dtype=torch.float64)
    forward_state = {f"{k}_l0": v for k, v in cell.state_dict().items()}
    backward_cell = LSTMCell(2, 4, dtype=torch.float64)
    backward_state = {f"{k}_l0_reverse": v for k, v in backward_cell.state_dict().items()}
    theirs.load_state_dict(forward_state | backward_state)
    packed = pack_padded_sequence(xs, lengths, enforce_sorted=False)
    hx = (torch.stack([state.h, -state.h]), torch.stack([state.c, -state.c]))
    _, (h_n, c_n) = theirs(packed, hx)
    _, forward_final, _ = unroll(cell, xs, state, lengths=lengths)
    backward_state = LSTMState(-state.h, -state.c)
    _, backward_final, _ = unroll(backward_cell, xs, backward_state, lengths=lengths,
                                  reverse=True)
    assert_close(forward_final.h, h_n[0], **TIGHT)
    assert_close(forward_final.c, c_n[0], **TIGHT)
    assert_close(backward_final.h, h_n[1], **TIGHT)
    assert_close(backward_final.c, c_n[1], **TIGHT)


def test_bad_input():
    cell, xs, state = _cell_and_inputs()
    with pytest.raises(ValueError, match=r"xs must have shape \(time, batch, 2\), got \(3, 2\)"):
        unroll(cell, xs[0], state)
    with pytest.raises(ValueError, match=r"xs must have shape \(time, batch, 2\), got \(5, 3, 4\)"):
        unroll(cell, torch.zeros(5, 3, 4, dtype=torch.float64), state)
    with pytest.raises(ValueError, match=r"lengths must lie in 0..5, got \[1, 6, 2\]"):
        unroll(cell, xs, state, lengths=[1, 6, 2])
    with pytest.raises(ValueError, match=r"lengths must be integers of shape \(3,\)"):
        unroll(cell, xs, state, lengths=[1, 2])
    with pytest.raises(ValueError, match="at least one time step"):
        unroll(cell, xs[:0], state)


@pytest.mark.parametrize("make_cell", [lambda: GRUCell(2, 4, dtype=torch.float64),
                                       lambda: ElmanCell(2, 4, dtype=torch.float64)],
                         ids=["gru", "elman"])
def test_recording_keeps_each_cells_types(make_cell):
    cell = make_cell()
    xs = torch.randn(4, 3, 2, dtype=torch.float64)
    outputs, final, recording = unroll(cell, xs, record=True, lengths=[4, 1, 3])
    state = cell.initial_state(3)
    for t in range(4):
        new_state, gates = cell(xs[t], state)
        alive = t < torch.tensor([4, 1, 3])
        state = HiddenState(torch.where(alive[:, None], new_state.h, state.h))
        assert type(recording.gates) is type(gates)
        for recorded, stepped in zip(recording.gates, gates, strict=True):
            assert_close(recorded[t], stepped * alive[:, None], **TIGHT)
        assert_close(outputs[t], new_state.h * alive[:, None], **TIGHT)
    assert isinstance(final, HiddenState)
    assert_close(final.h, state.h, **TIGHT)
