"""The population's batched LSTM (``stacked_lstm``: one bmm per step over K members' own
weights, backward written by hand) against torch: ``gradcheck`` of its hand-written backward in
float64, and every member's outputs and gradients against ``torch.nn.LSTM`` with that member's
weights, differentiated by autograd."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from lstmlab.cells import LSTMCell
from lstmlab.training import SequenceModel, sum_squared_error
from lstmlab.training._population import lockstep_forward, vmap_forward
from lstmlab.training._population_lstm import _StackedLSTM, stacked_lstm

COUNT, STEPS, BATCH, INPUTS, HIDDEN, OUTPUTS = 4, 6, 3, 2, 5, 2


def test_hand_written_backward_passes_gradcheck():
    generator = torch.Generator().manual_seed(0)

    def leaf(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_()

    xs = leaf(STEPS, COUNT, BATCH, INPUTS)
    weights = (leaf(COUNT, 4 * HIDDEN, INPUTS), leaf(COUNT, 4 * HIDDEN, HIDDEN),
               leaf(COUNT, 4 * HIDDEN))
    assert torch.autograd.gradcheck(_StackedLSTM.apply, (xs, *weights))


def population(bias: bool) -> tuple[SequenceModel, dict[str, torch.Tensor]]:
    """A template and K members' stacked parameters, each uniform in [-0.5, 0.5]."""
    generator = torch.Generator().manual_seed(1)
    template = SequenceModel(LSTMCell(INPUTS, HIDDEN, bias=bias, dtype=torch.float64),
                             nn.Linear(HIDDEN, OUTPUTS, dtype=torch.float64), torch.sigmoid)
    params = {name: torch.rand((COUNT, *p.shape), generator=generator, dtype=p.dtype) - 0.5
              for name, p in template.named_parameters()}
    return template, params


def torch_member(params: dict[str, torch.Tensor], k: int, bias: bool) -> nn.Module:
    """Member k as torch.nn.LSTM + nn.Linear (their own code, not ours)."""
    lstm = nn.LSTM(INPUTS, HIDDEN, bias=bias, dtype=torch.float64)
    readout = nn.Linear(HIDDEN, OUTPUTS, dtype=torch.float64)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(params["cell.weight_ih"][k])
        lstm.weight_hh_l0.copy_(params["cell.weight_hh"][k])
        if bias:
            lstm.bias_ih_l0.copy_(params["cell.bias_ih"][k])
            lstm.bias_hh_l0.copy_(params["cell.bias_hh"][k])
        readout.weight.copy_(params["readout.weight"][k])
        readout.bias.copy_(params["readout.bias"][k])
    return nn.ModuleDict({"lstm": lstm, "readout": readout})


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_every_member_equals_torch_lstm(bias):
    template, params = population(bias)
    generator = torch.Generator().manual_seed(2)
    inputs = torch.randn(COUNT, STEPS, BATCH, INPUTS, generator=generator, dtype=torch.float64)
    targets = torch.rand(COUNT, STEPS, BATCH, OUTPUTS, generator=generator, dtype=torch.float64)
    mask = torch.rand(COUNT, STEPS, BATCH, generator=generator) < 0.6
    leaves = {n: p.clone().requires_grad_() for n, p in params.items()}
    outputs = stacked_lstm(template)(leaves, inputs)
    total = sum(sum_squared_error(outputs[k], targets[k], mask[k]) for k in range(COUNT))
    grads = dict(zip(leaves, torch.autograd.grad(total, list(leaves.values())), strict=True))
    names = {"cell.weight_ih": "lstm.weight_ih_l0", "cell.weight_hh": "lstm.weight_hh_l0",
             "cell.bias_ih": "lstm.bias_ih_l0", "cell.bias_hh": "lstm.bias_hh_l0",
             "readout.weight": "readout.weight", "readout.bias": "readout.bias"}
    for k in range(COUNT):
        reference = torch_member(params, k, bias)
        hidden, _ = reference["lstm"](inputs[k])
        expected = torch.sigmoid(reference["readout"](hidden))
        assert_close(outputs[k], expected, rtol=1e-12, atol=1e-12)
        sum_squared_error(expected, targets[k], mask[k]).backward()
        theirs = dict(reference.named_parameters())
        for name, grad in grads.items():
            assert_close(grad[k], theirs[names[name]].grad, rtol=1e-12, atol=1e-12,
                         msg=f"member {k}: {name}")


def test_a_members_nan_stays_its_own():
    template, params = population(True)
    inputs = torch.randn(COUNT, STEPS, BATCH, INPUTS, dtype=torch.float64)
    clean = stacked_lstm(template)(params, inputs)
    inputs[1, 2, 0, 0] = float("nan")
    poisoned = stacked_lstm(template)(params, inputs)
    assert bool(poisoned[1].isnan().any())
    others = [0, 2, 3]
    assert_close(poisoned[others], clean[others], rtol=0, atol=0)


def test_default_forward_is_stacked_for_lstm_and_vmap_otherwise(model_builder):
    template, params = population(True)
    inputs = torch.randn(COUNT, STEPS, BATCH, INPUTS, dtype=torch.float64)
    assert_close(lockstep_forward(template)(params, inputs),
                 stacked_lstm(template)(params, inputs), rtol=0, atol=0)
    other = model_builder("peephole", INPUTS, HIDDEN, OUTPUTS, torch.Generator().manual_seed(3))
    stacked = {n: torch.stack([p.detach()] * 2) for n, p in other.named_parameters()}
    pair = torch.randn(2, STEPS, BATCH, INPUTS, dtype=torch.float64)
    assert_close(lockstep_forward(other)(stacked, pair), vmap_forward(other)(stacked, pair),
                 rtol=0, atol=0)
    with pytest.raises(ValueError, match="template.cell: expected an LSTMCell"):
        stacked_lstm(other)
