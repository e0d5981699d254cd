"""ElmanCell against torch.nn.RNNCell (same weights, tanh and relu), gradcheck, bad input."""

import pytest
import torch
from torch.testing import assert_close

from lstmlab.cells import ElmanCell, ElmanGates, HiddenState

TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def _inputs(batch=3, input_size=4, hidden_size=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, input_size, dtype=torch.float64, generator=generator)
    h = torch.randn(batch, hidden_size, dtype=torch.float64, generator=generator)
    return x, h


@pytest.mark.parametrize(("nonlinearity", "bias"), [("tanh", True), ("relu", True),
                                                    ("tanh", False)])
def test_step_matches_torch_rnn_cell(nonlinearity, bias):
    torch.manual_seed(0)
    ours = ElmanCell(4, 5, bias=bias, nonlinearity=nonlinearity, dtype=torch.float64)
    theirs = torch.nn.RNNCell(4, 5, bias=bias, nonlinearity=nonlinearity, dtype=torch.float64)
    theirs.load_state_dict(ours.state_dict())
    x, h = _inputs()
    (h_ours,), (pre,) = ours(x, HiddenState(h))
    assert_close(h_ours, theirs(x, h), **TIGHT)
    expected_pre = x @ theirs.weight_ih.T + h @ theirs.weight_hh.T
    if bias:
        expected_pre = expected_pre + theirs.bias_ih + theirs.bias_hh
    assert_close(pre, expected_pre, **TIGHT)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_gradcheck(nonlinearity):
    torch.manual_seed(2)
    cell = ElmanCell(3, 4, nonlinearity=nonlinearity, dtype=torch.float64)
    x, h = _inputs(batch=2, input_size=3, hidden_size=4)
    names = [n for n, _ in cell.named_parameters()]

    def step(x, h, *weights):
        state, gates = torch.func.functional_call(
            cell, dict(zip(names, weights, strict=True)), (x, HiddenState(h)))
        return (*state, *gates)

    inputs = tuple(t.clone().requires_grad_() for t in (x, h, *cell.parameters()))
    assert torch.autograd.gradcheck(step, inputs)


def test_bad_input():
    with pytest.raises(ValueError, match=r"nonlinearity must be one of \['relu', 'tanh'\], "
                                         r"got 'sigmoid'"):
        ElmanCell(4, 5, nonlinearity="sigmoid")
    cell = ElmanCell(4, 5)
    state = cell.initial_state(3)
    assert isinstance(state, HiddenState)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 4\), got \(3, 1, 4\)"):
        cell(torch.zeros(3, 1, 4), state)
    with pytest.raises(ValueError, match=r"state.h must have shape \(3, 5\), got \(3, 4\)"):
        cell(torch.zeros(3, 4), HiddenState(torch.zeros(3, 4)))
    with pytest.raises(ValueError, match=r"x must have the parameters' dtype torch.float32"):
        cell(torch.zeros(3, 4, dtype=torch.float64), state)
    assert ElmanGates._fields == ("pre",)
