"""GRUCell against torch.nn.GRUCell (same weights) and its equations, gradcheck, bad input."""

import pytest
import torch
from torch.testing import assert_close

from lstmlab.cells import GRUCell, GRUGates, HiddenState

TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def _inputs(batch=3, input_size=4, hidden_size=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, input_size, dtype=torch.float64, generator=generator)
    h = torch.randn(batch, hidden_size, dtype=torch.float64, generator=generator)
    return x, h


@pytest.mark.parametrize("bias", [True, False])
def test_step_matches_torch_gru_cell(bias):
    torch.manual_seed(0)
    ours = GRUCell(4, 5, bias=bias, dtype=torch.float64)
    theirs = torch.nn.GRUCell(4, 5, bias=bias, dtype=torch.float64)
    theirs.load_state_dict(ours.state_dict())
    x, h = _inputs()
    (h_ours,), gates = ours(x, HiddenState(h))
    assert_close(h_ours, theirs(x, h), **TIGHT)
    # the gates against torch's documented equations, written out block by block
    w_ih, w_hh = theirs.weight_ih.split(5), theirs.weight_hh.split(5)
    b_ih = theirs.bias_ih.split(5) if bias else (0, 0, 0)
    b_hh = theirs.bias_hh.split(5) if bias else (0, 0, 0)
    r = torch.sigmoid(x @ w_ih[0].T + b_ih[0] + h @ w_hh[0].T + b_hh[0])
    z = torch.sigmoid(x @ w_ih[1].T + b_ih[1] + h @ w_hh[1].T + b_hh[1])
    n = torch.tanh(x @ w_ih[2].T + b_ih[2] + r * (h @ w_hh[2].T + b_hh[2]))
    assert isinstance(gates, GRUGates)
    assert_close(gates, GRUGates(r, z, n), **TIGHT)
    assert_close(h_ours, (1 - z) * n + z * h, **TIGHT)


def test_gradcheck():
    torch.manual_seed(2)
    cell = GRUCell(3, 4, dtype=torch.float64)
    x, h = _inputs(batch=2, input_size=3, hidden_size=4)
    names = [n for n, _ in cell.named_parameters()]

    def step(x, h, *weights):
        state, gates = torch.func.functional_call(
            cell, dict(zip(names, weights, strict=True)), (x, HiddenState(h)))
        return (*state, *gates)

    inputs = tuple(t.clone().requires_grad_() for t in (x, h, *cell.parameters()))
    assert torch.autograd.gradcheck(step, inputs)


def test_bad_input():
    cell = GRUCell(4, 5)
    state = cell.initial_state(3)
    assert_close(state.h, torch.zeros(3, 5), rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 4\), got \(3, 2\)"):
        cell(torch.zeros(3, 2), state)
    with pytest.raises(ValueError, match=r"state.h must have shape \(3, 5\), got \(2, 5\)"):
        cell(torch.zeros(3, 4), HiddenState(torch.zeros(2, 5)))
    with pytest.raises(ValueError, match=r"x must have the parameters' dtype torch.float32"):
        cell(torch.zeros(3, 4, dtype=torch.float64), state)
