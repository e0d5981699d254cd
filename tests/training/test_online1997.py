"""The 1997 online algorithm against autograd through the truncated graph and a slow reference."""

from dataclasses import replace

import pytest
import torch
from torch.testing import assert_close

from lstmlab.training._network1997 import (
    Network1997,
    NetworkWeights1997,
    map_weights,
    population_weights,
)
from lstmlab.training._network1997_table10 import (
    EXPERIMENT_1_3X2,
    EXPERIMENT_3,
    EXPERIMENT_4,
    experiment_2ab,
    experiment_2c,
)
from lstmlab.training._online1997 import UpdateMode, online_sequence
from lstmlab.training._pool import row, stack

F64 = torch.float64

# Small versions of the paper's wirings; init_range 0.5 and random biases so nothing is tiny.
CONFIGS = {
    "exp1 gate biases": replace(EXPERIMENT_1_3X2, input_size=3, output_size=2, init_range=0.5),
    "exp4 all biases": replace(EXPERIMENT_4, init_range=0.5, input_gate_bias=(-1.0, 0.5)),
    "exp2a no output gate": replace(experiment_2ab(3), init_range=0.5),
    "exp2c no biases": replace(experiment_2c(1), num_blocks=2, block_size=2, init_range=0.5),
}


def data(config, T, K, B, seed):
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(T, K, B, config.input_size, generator=gen, dtype=F64)
    targets = torch.rand(T, K, B, config.output_size, generator=gen, dtype=F64)
    mask = (torch.rand(T, K, B, generator=gen, dtype=F64) < 0.6).to(F64)
    return inputs, targets, mask


def flat(weights: NetworkWeights1997):
    return [w for w in (*weights.cell, *weights[1:]) if w is not None]


def parameters(network):
    cell = network.cell
    return [w for w in (cell.weight_ih, cell.weight_hh, cell.bias, network.weight_ho,
                        network.weight_io, network.bias_o) if w is not None]


@pytest.mark.parametrize("name", CONFIGS)
def test_accumulated_gradient_equals_autograd_through_the_truncated_graph(name):
    network = Network1997(CONFIGS[name], generator=torch.Generator().manual_seed(2), dtype=F64)
    inputs, targets, mask = data(network.config, T=50, K=1, B=2, seed=3)
    weights = stack([network.weights()])

    result = online_sequence(network, weights, inputs, targets, mask, learning_rate=0.3,
                             mode=UpdateMode.NONE)

    outputs, _ = network(inputs[:, 0])
    loss = 0.5 * ((outputs - targets[:, 0]).square() * mask[:, 0, :, None]).sum()
    expected = torch.autograd.grad(loss, parameters(network))
    assert_close(result.outputs[:, 0], outputs, rtol=1e-12, atol=1e-12)
    assert_close(result.loss[0], loss, rtol=1e-12, atol=1e-12)
    for got, want in zip(flat(row(result.gradient, 0)), expected, strict=True):
        assert_close(got, want, rtol=1e-9, atol=1e-9)
    for got, want in zip(flat(result.weights), flat(weights), strict=True):
        assert_close(got, want, rtol=0, atol=0)  # UpdateMode.NONE leaves them alone


def test_the_truncated_gradient_is_not_the_full_one():
    """Guards the test above: untruncated autograd must disagree with the online gradient."""
    config = replace(CONFIGS["exp1 gate biases"], truncate_gradient=False)
    network = Network1997(config, generator=torch.Generator().manual_seed(2), dtype=F64)
    inputs, targets, mask = data(config, T=20, K=1, B=2, seed=3)
    result = online_sequence(network, stack([network.weights()]), inputs, targets,
                             mask, mode=UpdateMode.NONE)
    outputs, _ = network(inputs[:, 0])
    loss = 0.5 * ((outputs - targets[:, 0]).square() * mask[:, 0, :, None]).sum()
    (full,) = torch.autograd.grad(loss, network.cell.weight_hh)
    assert (full - result.gradient.cell.weight_hh[0]).abs().max() > 1e-4


def slow_reference(network, weights, inputs, targets, mask, alpha):
    """Per-step updates the slow way: at every step t, autograd of E(t) through the truncated
    graph with respect to the weights in force at each earlier step tau (one leaf per step),
    summed over tau; then w <- w - alpha * that. O(T^2); only for short sequences."""
    current = [w.detach().clone() for w in flat(weights)]
    history = []
    state = network.initial_state(inputs.shape[1], dtype=F64)
    bias_mask = network.cell.bias_mask.to(F64)
    for x, target, m in zip(inputs, targets, mask, strict=True):
        leaves = [w.clone().requires_grad_() for w in current]
        history.extend(leaves)
        as_tuple = _unflatten(network, leaves, bias_mask)
        state, y, _ = network.step(x, state, as_tuple)
        error = 0.5 * ((y - target).square() * m[:, None]).sum()
        grads = torch.autograd.grad(error, history, retain_graph=True, materialize_grads=True)
        n = len(current)
        for i in range(n):
            current[i] = current[i] - alpha * sum(grads[i::n])
    return current


def _unflatten(network, leaves, bias_mask):
    it = iter(leaves)
    cell = network.cell
    weight_ih = next(it)
    weight_hh = next(it) if cell.weight_hh is not None else None
    bias = next(it) * bias_mask if cell.bias is not None else None
    weight_ho = next(it)
    weight_io = next(it) if network.weight_io is not None else None
    bias_o = next(it) if network.bias_o is not None else None
    return NetworkWeights1997(type(network.cell.weights())(weight_ih, weight_hh, bias),
                              weight_ho, weight_io, bias_o)


@pytest.mark.parametrize("name", ["exp1 gate biases", "exp2a no output gate"])
def test_per_step_updates_equal_the_slow_reference(name):
    network = Network1997(CONFIGS[name], generator=torch.Generator().manual_seed(4), dtype=F64)
    inputs, targets, mask = data(network.config, T=10, K=1, B=1, seed=5)
    weights = stack([network.weights()])
    result = online_sequence(network, weights, inputs, targets, mask, learning_rate=0.7,
                             mode=UpdateMode.STEP)
    expected = slow_reference(network, row(weights, 0), inputs[:, 0], targets[:, 0],
                              mask[:, 0], 0.7)
    moved = [(w - w0).abs().max() for w, w0 in zip(flat(result.weights), flat(weights),
                                                   strict=True)]
    assert max(moved) > 1e-2  # the updates did something
    for got, want in zip(flat(row(result.weights, 0)), expected, strict=True):
        assert_close(got, want, rtol=1e-10, atol=1e-10)


def test_sequence_mode_applies_the_summed_gradient_once():
    network = Network1997(CONFIGS["exp4 all biases"], generator=torch.Generator().manual_seed(6),
                          dtype=F64)
    inputs, targets, mask = data(network.config, T=15, K=2, B=1, seed=7)
    weights = population_weights(network, [torch.Generator().manual_seed(s) for s in (8, 9)])
    alpha = torch.tensor([0.5, 0.0], dtype=F64)
    result = online_sequence(network, weights, inputs, targets, mask, learning_rate=alpha,
                             mode=UpdateMode.SEQUENCE)
    for got, start, grad in zip(flat(result.weights), flat(weights), flat(result.gradient),
                                strict=True):
        assert_close(got[0], start[0] - 0.5 * grad[0], rtol=1e-12, atol=1e-12)
        assert_close(got[1], start[1], rtol=0, atol=0)  # alpha = 0 freezes member 1


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_population_equals_separate_runs_bit_for_bit(dtype):
    """Member k of a population of 4 (seeds in reverse slot order, own data, own alpha) ends
    with exactly the weights and outputs of a K = 1 run: a trial depends on its seed alone,
    so a resumed reproduction that regroups the seeds gets the same numbers."""
    network = Network1997(CONFIGS["exp1 gate biases"], dtype=dtype)
    seeds = (13, 12, 11, 10)
    weights = population_weights(network, [torch.Generator().manual_seed(s) for s in seeds])
    inputs, targets, mask = data(network.config, T=30, K=4, B=2, seed=14)
    inputs, targets, mask = inputs.to(dtype), targets.to(dtype), mask.to(dtype)
    alpha = torch.tensor([0.1, 0.2, 0.5, 1.0], dtype=dtype)
    together = online_sequence(network, weights, inputs, targets, mask, learning_rate=alpha)
    for k, seed in enumerate(seeds):
        alone_net = Network1997(network.config, generator=torch.Generator().manual_seed(seed),
                                dtype=dtype)
        alone = online_sequence(alone_net, stack([alone_net.weights()]),
                                inputs[:, k:k + 1], targets[:, k:k + 1], mask[:, k:k + 1],
                                learning_rate=alpha[k:k + 1])
        for got, want in zip(flat(row(together.weights, k)), flat(row(alone.weights, 0)),
                             strict=True):
            assert_close(got, want, rtol=0, atol=0)
        assert_close(together.outputs[:, k], alone.outputs[:, 0], rtol=0, atol=0)


def test_trainable_mask_freezes_exactly_the_masked_weights():
    """Exp 2a's staged construction: first only input-to-output weights learn."""
    network = Network1997(CONFIGS["exp2a no output gate"], dtype=F64,
                          generator=torch.Generator().manual_seed(15))
    weights = stack([network.weights()])
    inputs, targets, mask = data(network.config, T=12, K=1, B=1, seed=16)
    ones = map_weights(torch.ones_like, weights)
    free = online_sequence(network, weights, inputs, targets, mask, learning_rate=0.5)
    same = online_sequence(network, weights, inputs, targets, mask, learning_rate=0.5,
                           trainable=ones)
    zeros = map_weights(torch.zeros_like, weights)
    frozen_cell = ones._replace(cell=zeros.cell, weight_ho=zeros.weight_ho)
    staged = online_sequence(network, weights, inputs, targets, mask, learning_rate=0.5,
                             trainable=frozen_cell)
    for got, want in zip(flat(same.weights), flat(free.weights), strict=True):
        assert_close(got, want, rtol=0, atol=0)
    assert_close(staged.weights.cell.weight_ih, weights.cell.weight_ih, rtol=0, atol=0)
    assert_close(staged.weights.weight_ho, weights.weight_ho, rtol=0, atol=0)
    assert (staged.weights.weight_io - weights.weight_io).abs().max() > 1e-3


@pytest.mark.parametrize(("field", "shape", "match"), [
    ("inputs", (5, 1, 3), "inputs"),
    ("targets", (5, 1, 1, 3), "targets"),
    ("mask", (5, 2, 1), "mask"),
])
def test_bad_shapes_raise_value_errors(field, shape, match):
    network = Network1997(CONFIGS["exp1 gate biases"], dtype=F64)
    args = {"inputs": torch.zeros(5, 1, 1, 3, dtype=F64),
            "targets": torch.zeros(5, 1, 1, 2, dtype=F64), "mask": None}
    args[field] = torch.zeros(shape, dtype=F64)
    with pytest.raises(ValueError, match=match):
        online_sequence(network, stack([network.weights()]), **args)


@pytest.mark.slow
def test_learns_a_short_two_sequence_problem():
    """[H97] exp 3a shrunk to T = 10 (N = 1): the class sits in the first input, noise of
    variance 0.2 follows, the target (1 or 0) comes at the end. Exp 3's network, alpha = 1.0;
    four members learn online in lockstep until each misclassifies < 5 % of 256 fresh
    sequences (|error| >= 0.2), from all wrong at the start. About 10 s; the exact-gradient
    tests above are the default run's check of the same code."""
    network = Network1997(EXPERIMENT_3)
    weights = population_weights(network, [torch.Generator().manual_seed(s) for s in range(4)])
    gen = torch.Generator().manual_seed(123)

    def sequences(n, T=10, K=4):
        label = (torch.rand(K, n, generator=gen) < 0.5).float()
        inputs = torch.randn(T, K, n, 1, generator=gen) * 0.2 ** 0.5
        inputs[0, ..., 0] = 2 * label - 1
        targets = torch.zeros(T, K, n, 1)
        targets[-1, ..., 0] = label
        mask = torch.zeros(T, K, n)
        mask[-1] = 1
        return inputs, targets, mask

    def misclassified(weights):
        inputs, targets, _ = sequences(256)
        outputs, _ = network(inputs, weights=weights)
        return ((outputs[-1] - targets[-1]).abs() >= 0.2).flatten(1).sum(1)

    assert misclassified(weights).min() > 200
    for _ in range(3000):
        weights = online_sequence(network, weights, *sequences(1), learning_rate=1.0).weights
    assert misclassified(weights).max() < 13
