"""The C loop's sparse steps (zero inputs skipped) against its dense steps, bit for bit.

``online_sequence(..., sparse=True)`` (the default) and ``forward_sequence(..., sparse=True)``
skip the columns of zero inputs in the hidden layer's products and trace updates; the dense
loop (``sparse=False``) adds the exact zeros. The two must give the same numbers exactly
(rtol = atol = 0), on one-hot nets (Exp. 2c) over many sequences, on steps that mix sparse and
dense, and where a weight is not finite (0 * inf is nan: the kernel must step densely then).
"""

from dataclasses import replace

import pytest
import torch
from test_online1997 import CONFIGS as TORCH_TEST_CONFIGS
from torch.testing import assert_close

from kernels_required import kernels_or_skip
from lstmlab.reproduce._lstm1997 import network_config
from lstmlab.tasks._long_lags import VeryLongLag
from lstmlab.training import _online1997_kernel as online1997_kernel
from lstmlab.training._network1997 import Network1997, map_weights, population_weights
from lstmlab.training._network1997_table10 import EXPERIMENT_3
from lstmlab.training._online1997 import UpdateMode, forward_sequence, online_sequence
from lstmlab.training._pool import stack

kernels_or_skip(online1997_kernel.load(), "online1997.c")
F64 = torch.float64
EXACT = {"rtol": 0, "atol": 0}
CONFIGS = {**TORCH_TEST_CONFIGS, "exp3 cell biases": replace(EXPERIMENT_3, init_range=0.5)}


def assert_identical(a, b):
    """Outputs, loss, weights and gradients equal bit for bit (nan where the other has nan)."""
    for x, y in ((a.outputs, b.outputs), (a.loss, b.loss)):
        assert_close(x, y, equal_nan=True, **EXACT)
    for x, y in ((a.weights, b.weights), (a.gradient, b.gradient)):
        assert_close(map_weights(lambda t: t, x), map_weights(lambda t: t, y), equal_nan=True,
                     **EXACT)


def one_hot_setting(name, T=40, K=2, B=2, seed=0):
    """A net of CONFIGS[name] with one-hot inputs (some steps all zero, some zero for one b
    only) and a few steps that are dense (more than half the inputs nonzero)."""
    network = Network1997(CONFIGS[name], dtype=F64)
    I, O = network.config.input_size, network.config.output_size
    weights = population_weights(network, [torch.Generator().manual_seed(seed + k)
                                           for k in range(K)])
    gen = torch.Generator().manual_seed(50 + seed)
    symbols = torch.randint(I, (T, K, B), generator=gen)
    inputs = torch.nn.functional.one_hot(symbols, I).to(F64)
    inputs[5] = 0
    inputs[9, :, 1] = 0
    inputs[12] = torch.randn(K, B, I, generator=gen, dtype=F64)  # a dense step
    targets = torch.rand(T, K, B, O, generator=gen, dtype=F64)
    mask = (torch.rand(T, K, B, generator=gen, dtype=F64) < 0.5).to(F64)
    return network, weights, inputs, targets, mask


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("mode", list(UpdateMode))
def test_sparse_steps_equal_dense_steps_bit_for_bit(name, mode):
    network, weights, inputs, targets, mask = one_hot_setting(name)
    alpha = torch.tensor([0.5, 2.0], dtype=F64)
    run = [online_sequence(network, weights, inputs, targets, mask, learning_rate=alpha,
                           mode=mode, compiled=True, sparse=sparse) for sparse in (True, False)]
    assert_identical(*run)
    if mode is not UpdateMode.NONE:  # the weights moved
        assert not torch.equal(run[0].weights.weight_ho, weights.weight_ho)


def test_sparse_steps_respect_the_trainable_mask_bit_for_bit():
    network, weights, inputs, targets, mask = one_hot_setting("exp2c no biases")
    trainable = map_weights(lambda t: (torch.rand(t.shape, generator=torch.Generator()
                                                  .manual_seed(t.numel())) < 0.5).to(F64),
                            weights)
    run = [online_sequence(network, weights, inputs, targets, mask, learning_rate=1.0,
                           trainable=trainable, compiled=True, sparse=sparse)
           for sparse in (True, False)]
    assert_identical(*run)


def two_c(q=12, p=30):
    task = VeryLongLag(q, p)
    return task, Network1997(network_config(task.setup), dtype=F64)


def test_a_2c_net_trained_sparse_is_the_dense_net_bit_for_bit_after_many_sequences():
    """Exp. 2c's own net and data (one-hot over p + 4 inputs, error at the sequence end only),
    30 sequences one at a time as the method presents them: weights, gradients, outputs and
    losses identical after every sequence."""
    task, network = two_c()
    start = stack([network.weights()])
    weights = {True: start, False: start}
    stream = {sparse: torch.Generator().manual_seed(3) for sparse in (True, False)}
    for _ in range(30):
        run = {}
        for sparse in (True, False):
            batch = task.sample(1, stream[sparse])
            run[sparse] = online_sequence(
                network, weights[sparse], batch.inputs.to(F64).unsqueeze(2),
                batch.targets.to(F64).unsqueeze(2), batch.mask.to(F64).unsqueeze(2),
                learning_rate=0.5, compiled=True, sparse=sparse)
            weights[sparse] = run[sparse].weights
        assert_identical(run[True], run[False])
    assert not torch.equal(weights[True].weight_ho, start.weight_ho)


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_a_weight_that_is_not_finite_gives_the_dense_numbers(value):
    """0 * inf and 0 * nan are nan: a dense step spreads a non-finite input weight even where
    its input is zero, so the kernel must not skip then. Also weights that become inf or nan
    in an update (alpha = inf) midway through the sequence."""
    network, weights, inputs, targets, mask = one_hot_setting("exp2c no biases")
    broken = map_weights(lambda t: t.clone(), weights)
    broken.cell.weight_ih[0, 1, 2] = value
    for w, alpha in ((broken, 0.5), (weights, float("inf"))):
        run = [online_sequence(network, w, inputs, targets, mask, learning_rate=alpha,
                               compiled=True, sparse=sparse) for sparse in (True, False)]
        assert run[0].outputs.isnan().any()
        assert not run[0].weights.cell.weight_ih.isfinite().all()
        assert_identical(*run)
        lengths = torch.full(inputs.shape[1:3], inputs.shape[0])
        forward = [forward_sequence(network, w, inputs, lengths, sparse=sparse)
                   for sparse in (True, False)]
        assert_close(*forward, equal_nan=True, **EXACT)


@pytest.mark.parametrize("name", CONFIGS)
def test_the_sparse_forward_pass_is_the_dense_one_bit_for_bit(name):
    network, weights, inputs, _, _ = one_hot_setting(name, T=20, K=2, B=3)
    lengths = torch.tensor([[20, 1, 7], [0, 20, 13]])
    real = (torch.arange(20)[:, None, None] < lengths).to(F64)
    inputs = inputs * real[..., None]
    outputs = [forward_sequence(network, weights, inputs, lengths, sparse=sparse)
               for sparse in (True, False)]
    assert_close(*outputs, **EXACT)


def test_a_2c_check_batch_forward_is_the_dense_one_bit_for_bit():
    task, network = two_c()
    weights = stack([network.weights()])
    batch = task.sample(16, torch.Generator().manual_seed(4))
    inputs = batch.inputs.to(F64).unsqueeze(1)
    outputs = [forward_sequence(network, weights, inputs, batch.lengths.unsqueeze(0),
                                sparse=sparse) for sparse in (True, False)]
    assert_close(*outputs, **EXACT)
