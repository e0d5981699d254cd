"""The history compressor: what reaches the higher level, and 2a solved through it."""

import pytest
import torch

from lstmlab.competitors.chunker import (
    Chunker,
    ChunkerConfig,
    compress,
    surprises,
    unexpected_inputs,
)
from lstmlab.competitors.methods import ChunkerMethod
from lstmlab.tasks.batch import concat
from lstmlab.tasks.long_lags import NoiseFreeLongLag, VeryLongLag


def one_hot(symbols, size=4):
    return torch.nn.functional.one_hot(torch.tensor(symbols), size).double()


def test_the_higher_level_receives_exactly_the_unpredicted_inputs():
    # sequence 0 1 2 3 2 1 ; the lower net predicts "next = previous + 1 (mod 4)" confidently
    symbols = [0, 1, 2, 3, 2, 1]
    inputs = one_hot(symbols).unsqueeze(1)                           # (T, 1, I)
    targets = one_hot(symbols[1:] + [2]).unsqueeze(1)                # last: as predicted
    predictions = one_hot([(s + 1) % 4 for s in symbols]).unsqueeze(1) * 0.9 + 0.05
    missed = surprises(predictions, targets, surprise=0.3)
    # after 3 the net predicts 0 but 2 comes; after 2 it predicts 3 but 1 comes
    assert missed[:, 0].tolist() == [False, False, False, True, True, False]
    unexpected = unexpected_inputs(missed)
    assert unexpected[:, 0].tolist() == [True, False, False, False, True, True]
    ((times, seen),) = compress(inputs, unexpected)
    assert times.tolist() == [0, 4, 5]
    torch.testing.assert_close(seen, one_hot([0, 2, 1]))


def test_a_near_miss_below_the_surprise_threshold_is_not_passed_up():
    targets = one_hot([1]).unsqueeze(1)
    predictions = torch.tensor([[0.0, 0.75, 0.0, 0.0]]).double().unsqueeze(1)
    assert surprises(predictions, targets, 0.3)[:, 0].tolist() == [False]
    assert surprises(predictions, targets, 0.2)[:, 0].tolist() == [True]


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match="predictions"):
        surprises(torch.zeros(3, 1, 2), torch.zeros(3, 1, 4), 0.3)


def test_the_chunker_solves_a_short_experiment_2a_by_passing_up_only_two_symbols():
    """2a with p = 10: A learns the fixed middle; only the first symbol and the last reach C."""
    task = NoiseFreeLongLag(p=10)
    g = torch.Generator().manual_seed(0)
    net = Chunker(task.input_size, ChunkerConfig(learning_rate=1.0),
                  torch.Generator().manual_seed(0))
    for _ in range(1200):
        batch = task.sample(1, g)
        net.train_step(batch.inputs.double(), batch.targets.double(), batch.mask)
    test = task.sample(200, torch.Generator().manual_seed(1))
    with torch.no_grad():
        run = net(test.inputs.double(), test.targets.double())
    assert bool(task.is_correct(run["prediction"].float(), test).all())
    assert int(run["unexpected"].sum(0).max()) <= 2      # x_0, and at most the final symbol
    # Collapse: A's extra outputs have learned C's hidden state, mapped to [0, 1] (without
    # the collapse term they stay about 0.5 away; at initialisation 0.07).
    collapse = run["automatizer"][..., task.output_size:]
    gap = (collapse - (run["chunker_hidden"] + 1) / 2).abs().mean()
    assert gap < 0.01


def test_a_sequence_is_judged_alike_alone_and_in_a_padded_batch():
    """2c has random lengths: the time stamps C reads must not depend on the batch's T."""
    task = VeryLongLag(q=5, p=3)
    learn, evaluate = ChunkerMethod()._learner(task, torch.Generator().manual_seed(0))
    data = torch.Generator().manual_seed(1)
    for _ in range(20):
        learn(task.sample(1, data))
    alone = [task.sample(1, torch.Generator().manual_seed(s)) for s in range(6)]
    together = concat(alone)
    assert len(set(together.lengths.tolist())) > 1
    outputs = evaluate(together)
    for k, single in enumerate(alone):
        n = int(single.lengths[0])
        torch.testing.assert_close(outputs[:n, k], evaluate(single)[:, 0], rtol=0, atol=1e-6)
