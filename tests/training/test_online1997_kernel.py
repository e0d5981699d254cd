"""The C loop of the 1997 online algorithm against the readable torch code (its reference)."""

from dataclasses import replace

import pytest
import torch
from test_online1997 import CONFIGS as TORCH_TEST_CONFIGS
from torch.testing import assert_close

from kernels_required import kernels_or_skip
from lstmlab.training import _online1997_kernel as online1997_kernel
from lstmlab.training._network1997 import (
    Network1997,
    map_weights,
    population_weights,
)
from lstmlab.training._network1997_table10 import EXPERIMENT_3
from lstmlab.training._online1997 import UpdateMode, forward_sequence, online_sequence
from lstmlab.training._pool import row, stack

kernels_or_skip(online1997_kernel.load(), "online1997.c")
F64 = torch.float64

# The small wirings of the torch code's tests, plus cell biases (Exp. 3).
CONFIGS = {**TORCH_TEST_CONFIGS, "exp3 cell biases": replace(EXPERIMENT_3, init_range=0.5)}


def setting(name, K, B, T=30, seed=0):
    network = Network1997(CONFIGS[name], dtype=F64)
    weights = population_weights(network, [torch.Generator().manual_seed(seed + k)
                                           for k in range(K)])
    gen = torch.Generator().manual_seed(100 + seed)
    config = network.config
    inputs = torch.randn(T, K, B, config.input_size, generator=gen, dtype=F64)
    targets = torch.rand(T, K, B, config.output_size, generator=gen, dtype=F64)
    mask = (torch.rand(T, K, B, generator=gen, dtype=F64) < 0.6).to(F64)
    mask[3] = 0  # a step without error for anyone
    return network, weights, inputs, targets, mask


def assert_same(a, b, tol=1e-11):
    assert_close(a.outputs, b.outputs, rtol=tol, atol=tol)
    assert_close(a.loss, b.loss, rtol=tol, atol=tol)
    for x, y in ((a.weights, b.weights), (a.gradient, b.gradient)):
        assert_close(map_weights(lambda t: t, x), map_weights(lambda t: t, y), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("mode", list(UpdateMode))
def test_the_kernel_equals_the_torch_code(name, mode):
    network, weights, inputs, targets, mask = setting(name, K=3, B=2)
    alpha = torch.tensor([0.5, 1.0, 0.0], dtype=F64)
    run = [online_sequence(network, weights, inputs, targets, mask, learning_rate=alpha,
                           mode=mode, compiled=compiled) for compiled in (True, False)]
    assert_same(*run)
    if mode is UpdateMode.STEP:  # the weights did move, and member 2 (alpha 0) did not
        assert not torch.equal(run[0].weights.weight_ho[0], weights.weight_ho[0])
        assert torch.equal(run[0].weights.weight_ho[2], weights.weight_ho[2])


@pytest.mark.parametrize("name", ["exp1 gate biases", "exp2a no output gate"])
def test_the_kernel_equals_the_torch_code_over_many_sequences(name):
    network, weights, *_ = setting(name, K=2, B=1)
    w = {True: weights, False: weights}
    for seed in range(20):
        _, _, inputs, targets, mask = setting(name, K=2, B=1, T=12, seed=seed)
        for compiled in (True, False):
            w[compiled] = online_sequence(network, w[compiled], inputs, targets, mask,
                                          learning_rate=0.5, compiled=compiled).weights
    assert_close(map_weights(lambda t: t, w[True]), map_weights(lambda t: t, w[False]),
                 rtol=1e-10, atol=1e-10)


def test_the_kernel_respects_the_trainable_mask():
    network, weights, inputs, targets, mask = setting("exp4 all biases", K=2, B=1)
    trainable = map_weights(lambda t: (torch.rand(t.shape, generator=torch.Generator()
                                                  .manual_seed(t.numel())) < 0.5).to(F64),
                            weights)
    run = [online_sequence(network, weights, inputs, targets, mask, learning_rate=1.0,
                           trainable=trainable, compiled=compiled) for compiled in (True, False)]
    assert_same(*run)
    frozen = trainable.weight_ho == 0
    assert torch.equal(run[0].weights.weight_ho[frozen], weights.weight_ho[frozen])


def test_a_member_is_bit_for_bit_the_same_in_any_population():
    network, weights, inputs, targets, mask = setting("exp1 gate biases", K=4, B=1)
    together = online_sequence(network, weights, inputs, targets, mask, learning_rate=0.5,
                               compiled=True)
    k = 2
    alone = online_sequence(network, stack([row(weights, k)]), inputs[:, k:k + 1],
                            targets[:, k:k + 1], mask[:, k:k + 1], learning_rate=0.5,
                            compiled=True)
    assert torch.equal(together.outputs[:, k:k + 1], alone.outputs)
    assert torch.equal(together.weights.cell.weight_hh[k:k + 1], alone.weights.cell.weight_hh)


def test_compiled_true_refuses_what_the_kernel_cannot_run():
    network, weights, inputs, targets, mask = setting("exp1 gate biases", K=1, B=1)
    with pytest.raises(ValueError, match="compiled=True"):
        online_sequence(network, map_weights(lambda t: t.float(), weights), inputs.float(),
                        targets.float(), mask.float(), compiled=True)


def test_one_hot_inputs_take_the_sparse_products_with_the_same_numbers():
    """Exp. 2a's inputs are one-hot: the kernel skips inputs that are zero for every b (and
    keeps those nonzero for some b only); the torch code multiplies everything."""
    network, weights, _, targets, mask = setting("exp2a no output gate", K=2, B=2, T=25)
    T, K, B, I = 25, 2, 2, network.config.input_size
    symbols = torch.randint(I, (T, K, B), generator=torch.Generator().manual_seed(7))
    inputs = torch.nn.functional.one_hot(symbols, I).to(F64)
    inputs[5] = 0  # a step where every input is zero
    inputs[9, :, 1] = 0  # zero for one b only
    for mode in UpdateMode:
        run = [online_sequence(network, weights, inputs, targets, mask, learning_rate=1.0,
                               mode=mode, compiled=compiled) for compiled in (True, False)]
        assert_same(*run)


@pytest.mark.parametrize("name", CONFIGS)
def test_traces_stop_after_the_last_error_with_the_same_numbers(name):
    """The kernel computes the traces only up to a member's last error step: member 0's errors
    end at step 9, member 1 has none at all (a check), member 2 errs at the end (Exp. 4)."""
    network, weights, inputs, targets, mask = setting(name, K=3, B=2, T=20)
    mask[10:, 0] = 0
    mask[:, 1] = 0
    mask[:, 2] = 0
    mask[-1, 2, 1] = 1
    for mode in UpdateMode:
        run = [online_sequence(network, weights, inputs, targets, mask, learning_rate=0.5,
                               mode=mode, compiled=compiled) for compiled in (True, False)]
        assert_same(*run)
    assert torch.equal(run[0].gradient.weight_ho[1], torch.zeros_like(weights.weight_ho[1]))


@pytest.mark.parametrize("name", CONFIGS)
def test_the_forward_pass_alone_is_the_training_loops_forward_bit_for_bit(name):
    """``forward_sequence`` (stopping and test sets): at every real step the outputs of
    ``online_sequence(compiled=True)`` exactly, 0 after each sequence's end; and the torch
    forward of the network (the reference) to 1e-13."""
    network, weights, inputs, targets, _ = setting(name, K=3, B=4, T=15)
    lengths = torch.tensor([[15, 1, 7, 0], [3, 15, 15, 9], [12, 2, 15, 5]])
    real = (torch.arange(15)[:, None, None] < lengths).to(F64)  # (T, K, B)
    inputs = inputs * real[..., None]  # padded as a task pads: zeros after the end
    quiet = torch.zeros_like(real)
    trained = online_sequence(network, weights, inputs, targets, quiet, mode=UpdateMode.NONE,
                              compiled=True)
    outputs = forward_sequence(network, weights, inputs, lengths)
    assert torch.equal(outputs * real[..., None], trained.outputs * real[..., None])
    assert torch.equal(outputs * (1 - real[..., None]), torch.zeros_like(outputs))
    for k in range(3):
        with torch.no_grad():
            reference, _ = network(inputs[:, k:k + 1],
                                   weights=stack([row(weights, k)]))
        assert_close(outputs[:, k] * real[:, k, :, None], reference[:, 0] * real[:, k, :, None],
                     rtol=0, atol=1e-13)


def test_the_forward_pass_refuses_wrong_shapes_and_what_the_kernel_cannot_run():
    network, weights, inputs, _, _ = setting("exp1 gate biases", K=2, B=3, T=5)
    with pytest.raises(ValueError, match=r"lengths must be \(2, 3\), got \(3,\)"):
        forward_sequence(network, weights, inputs, torch.tensor([5, 5, 5]))
    with pytest.raises(ValueError, match="forward_sequence: the C kernel needs float64"):
        forward_sequence(network, weights, inputs.float(), torch.full((2, 3), 5))
