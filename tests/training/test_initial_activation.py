"""``initial_activation`` (the reading ``1:half-reset``): the gates and cells send 0.5 at a
sequence's first step, as the JKU simulator's ``reset_net`` leaves them; the internal states
start at 0. The C loop, its forward pass and the torch code against a forward written here from
[H97] App. A.1's equations, and the loop's gradient against autograd of that forward."""

from dataclasses import replace

import pytest
import torch
from torch.testing import assert_close

from kernels_required import kernels_or_skip
from lstmlab.reproduce._lstm1997 import network_config
from lstmlab.reproduce._registry import experiment
from lstmlab.training import _online1997_kernel as online1997_kernel
from lstmlab.training._network1997 import Network1997, population_weights
from lstmlab.training._online1997 import UpdateMode, forward_sequence, online_sequence

kernels_or_skip(online1997_kernel.load(), "online1997.c")
F64 = torch.float64


def exp1_network(start: float) -> Network1997:
    """Experiment 1's net (3 blocks x 2 cells, gate biases) with ``initial_activation``."""
    config = network_config(experiment("1").setup)
    return Network1997(replace(config, initial_activation=start), dtype=F64)


def reference(network: Network1997, weight_ih, weight_hh, bias, weight_ho, inputs, start):
    """Outputs (T, O) of one member on one sequence ``inputs`` (T, I): App. A.1 step by step,
    every net input from the previous step's activations, which are ``start`` at t = 0."""
    cell = network.cell
    C, S, H = cell.num_blocks, cell.block_size, cell.hidden_size
    bias = bias * cell.bias_mask  # the cells are not biased in Exp. 1
    sent = torch.full((C + H + C,), start, dtype=F64)  # y^in(t-1), y^c(t-1), y^out(t-1)
    s = torch.zeros(H, dtype=F64)
    outputs = []
    for x in inputs:
        net = weight_ih @ x + weight_hh @ sent + bias
        y_in, y_out = torch.sigmoid(net[:C]), torch.sigmoid(net[C + H:])
        g = 4 * torch.sigmoid(net[C:C + H]) - 2  # [H97] eq. 5
        s = s + y_in.repeat_interleave(S) * g
        y_c = y_out.repeat_interleave(S) * (2 * torch.sigmoid(s) - 1)  # eq. 4
        outputs.append(torch.sigmoid(weight_ho @ y_c))
        sent = torch.cat([y_in, y_c, y_out])
    return torch.stack(outputs)


def member(network: Network1997, T: int, seed: int = 0):
    weights = population_weights(network, [torch.Generator().manual_seed(seed)])
    gen = torch.Generator().manual_seed(10 + seed)
    symbols = torch.randint(7, (T,), generator=gen)
    inputs = torch.nn.functional.one_hot(symbols, 7).to(F64)
    targets = torch.rand(T, 7, generator=gen, dtype=F64)
    return weights, inputs, targets


@pytest.mark.parametrize("start", [0.0, 0.5])
def test_the_loop_its_forward_and_the_torch_code_equal_the_equations(start):
    network = exp1_network(start)
    weights, inputs, targets = member(network, T=7)
    cell = weights.cell
    expected = reference(network, cell.weight_ih[0], cell.weight_hh[0], cell.bias[0],
                         weights.weight_ho[0], inputs, start)
    shaped = inputs[:, None, None], targets[:, None, None]
    for compiled in (True, False):
        result = online_sequence(network, weights, *shaped, learning_rate=0.0,
                                 compiled=compiled)
        assert_close(result.outputs[:, 0, 0], expected, rtol=1e-12, atol=1e-12)
    checked = forward_sequence(network, weights, inputs[:, None, None], torch.tensor([[7]]))
    assert_close(checked[:, 0, 0], expected, rtol=1e-12, atol=1e-12)
    torch_forward, _ = network(inputs[:, None, None], weights=weights)
    assert_close(torch_forward[:, 0, 0], expected, rtol=1e-12, atol=1e-12)


def test_half_reset_changes_the_first_steps_and_not_the_default():
    """0.5 is not 0 (the test above could not tell them apart otherwise), and the default
    network is the text's: zero activations at t = 0."""
    assert network_config(experiment("1").setup).initial_activation == 0.0
    assert network_config(experiment("1:half-reset").setup).initial_activation == 0.5
    weights, inputs, _ = member(exp1_network(0.0), T=3)
    shaped = inputs[:, None, None]
    zero, half = (forward_sequence(exp1_network(a), weights, shaped, torch.tensor([[3]]))
                  for a in (0.0, 0.5))
    assert (zero - half).abs()[0].max() > 1e-4  # small weights at the start: ~1e-3


@pytest.mark.parametrize("compiled", [True, False])
def test_the_first_steps_gradient_is_autograds(compiled):
    """At T = 1 the truncated gradient is the whole gradient (no earlier step): the loop's
    sum_t dE(t)/dw equals autograd's through the forward above, so the 0.5 the gates and cells
    send enters the traces (eqs. 25, 27) and the output gates' step (eq. 22)."""
    network = exp1_network(0.5)
    weights, inputs, targets = member(network, T=1, seed=3)
    cell = weights.cell
    leaves = [w[0].clone().requires_grad_() for w in (cell.weight_ih, cell.weight_hh,
                                                      cell.bias, weights.weight_ho)]
    outputs = reference(network, *leaves, inputs, 0.5)
    (0.5 * (targets - outputs).square().sum()).backward()
    result = online_sequence(network, weights, inputs[:, None, None], targets[:, None, None],
                             learning_rate=0.5, mode=UpdateMode.STEP, compiled=compiled)
    got = result.gradient
    for mine, leaf in zip((got.cell.weight_ih, got.cell.weight_hh, got.cell.bias,
                           got.weight_ho), leaves, strict=True):
        assert_close(mine[0], leaf.grad * (network.cell.bias_mask if leaf.dim() == 1 else 1),
                     rtol=1e-12, atol=1e-12)
    assert got.cell.weight_hh[0].abs().max() > 1e-4  # the recurrent weights did learn
