"""LSTMCell against torch.nn.LSTMCell / torch.nn.LSTM (same weights), gradcheck, bad input."""

import pytest
import torch
from torch.testing import assert_close

from lstmlab.cells import Gates, LSTMCell, LSTMState


def _inputs(batch=3, input_size=4, output_size=5, hidden_size=5, dtype=torch.float64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, input_size, dtype=dtype, generator=generator)
    h = torch.randn(batch, output_size, dtype=dtype, generator=generator)
    c = torch.randn(batch, hidden_size, dtype=dtype, generator=generator)
    return x, h, c


@pytest.mark.parametrize("bias", [True, False])
def test_step_matches_torch_lstm_cell(bias):
    torch.manual_seed(0)
    ours = LSTMCell(4, 5, bias=bias, dtype=torch.float64)
    theirs = torch.nn.LSTMCell(4, 5, bias=bias, dtype=torch.float64)
    theirs.load_state_dict(ours.state_dict())
    x, h, c = _inputs()
    (h_ours, c_ours), gates = ours(x, LSTMState(h, c))
    h_torch, c_torch = theirs(x, (h, c))
    assert_close(h_ours, h_torch, rtol=1e-12, atol=1e-12)
    assert_close(c_ours, c_torch, rtol=1e-12, atol=1e-12)
    # the gates against the equations, written independently from torch's weight layout
    pre = x @ theirs.weight_ih.T + h @ theirs.weight_hh.T
    if bias:
        pre = pre + theirs.bias_ih + theirs.bias_hh
    i, f, g, o = pre[:, :5].sigmoid(), pre[:, 5:10].sigmoid(), pre[:, 10:15].tanh(), \
        pre[:, 15:].sigmoid()
    assert isinstance(gates, Gates)
    assert_close(gates, Gates(i, f, g, o), rtol=1e-12, atol=1e-12)
    assert_close(c_ours, f * c + i * g, rtol=1e-12, atol=1e-12)


def test_projection_step_matches_torch_lstm():
    torch.manual_seed(1)
    ours = LSTMCell(4, 6, proj_size=3, dtype=torch.float64)
    theirs = torch.nn.LSTM(4, 6, proj_size=3, dtype=torch.float64)
    theirs.load_state_dict({f"{k}_l0": v for k, v in ours.state_dict().items()})
    x, h, c = _inputs(output_size=3, hidden_size=6)
    (h_ours, c_ours), _ = ours(x, LSTMState(h, c))
    _, (h_torch, c_torch) = theirs(x[None], (h[None], c[None]))
    assert_close(h_ours, h_torch[0], rtol=1e-12, atol=1e-12)
    assert_close(c_ours, c_torch[0], rtol=1e-12, atol=1e-12)
    assert ours.weight_hr.shape == (3, 6) and ours.weight_hh.shape == (24, 3)


def test_init_is_uniform_within_torch_bound_and_seeded():
    cell = LSTMCell(3, 16)
    bound = 1 / 16 ** 0.5
    for parameter in cell.parameters():
        assert parameter.abs().max() <= bound
    first, second = LSTMCell(3, 16), LSTMCell(3, 16)
    first.reset_parameters(torch.Generator().manual_seed(7))
    second.reset_parameters(torch.Generator().manual_seed(7))
    assert_close(first.state_dict(), second.state_dict(), rtol=0, atol=0)


@pytest.mark.parametrize("proj_size", [0, 2])
def test_gradcheck(proj_size):
    torch.manual_seed(2)
    cell = LSTMCell(3, 4, proj_size=proj_size, dtype=torch.float64)
    x, h, c = _inputs(batch=2, input_size=3, output_size=proj_size or 4, hidden_size=4)
    params = tuple(cell.parameters())

    def step(x, h, c, *weights):
        state = dict(zip([n for n, _ in cell.named_parameters()], weights, strict=True))
        new_state, gates = torch.func.functional_call(cell, state, (x, LSTMState(h, c)))
        return (*new_state, *gates)

    inputs = tuple(t.clone().requires_grad_() for t in (x, h, c, *params))
    assert torch.autograd.gradcheck(step, inputs)


def test_bad_input_is_a_value_error_naming_the_argument():
    cell = LSTMCell(4, 5, proj_size=2)
    state = cell.initial_state(3)
    assert state.h.shape == (3, 2) and state.c.shape == (3, 5)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 4\), got \(3, 7\)"):
        cell(torch.zeros(3, 7), state)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 4\), got \(4,\)"):
        cell(torch.zeros(4), state)
    with pytest.raises(ValueError, match=r"state.h must have shape \(3, 2\), got \(3, 5\)"):
        cell(torch.zeros(3, 4), LSTMState(torch.zeros(3, 5), state.c))
    with pytest.raises(ValueError, match=r"dtype torch.float32.*got torch.float64"):
        cell(torch.zeros(3, 4, dtype=torch.float64), state)
    with pytest.raises(ValueError, match=r"state.c must have x's dtype"):
        cell(torch.zeros(3, 4), LSTMState(state.h, state.c.double()))
    with pytest.raises(ValueError, match="proj_size must be smaller than hidden_size"):
        LSTMCell(4, 5, proj_size=5)
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1, got 0"):
        LSTMCell(4, 0)
