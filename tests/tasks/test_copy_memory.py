"""The copy task against the layout of Arjovsky et al.'s ``generate_data``."""

import math

import numpy as np
import torch
from scipy import stats

from lstmlab.tasks import CopyMemory
from lstmlab.tasks._batch import mean_cross_entropy
from lstmlab.tasks._copy_memory import memoryless_cross_entropy


def reference_layout(seq, T):
    """The authors' construction (memory_problem.py) for one sequence, in numpy."""
    n = len(seq)
    x = np.concatenate([seq, np.zeros(T - 1), [9], np.zeros(n)]).astype(int)
    y = np.concatenate([np.zeros(n), np.zeros(T), seq]).astype(int)
    return x, y


def test_layout_matches_the_authors_code():
    T = 12
    batch = CopyMemory(T=T).sample(50, torch.Generator().manual_seed(0))
    x = batch.inputs.argmax(-1)
    y = batch.targets.argmax(-1)
    assert batch.inputs.shape == (T + 20, 50, 10) and batch.targets.shape == (T + 20, 50, 9)
    for b in range(50):
        ref_x, ref_y = reference_layout(x[:10, b].numpy(), T)
        assert x[:, b].tolist() == ref_x.tolist() and y[:, b].tolist() == ref_y.tolist()
    assert batch.mask.all() and (batch.lengths == T + 20).all()


def test_symbols_uniform_on_1_to_8():
    batch = CopyMemory(T=5).sample(4000, torch.Generator().manual_seed(1))
    symbols = batch.inputs[:10].argmax(-1).flatten()
    counts = torch.bincount(symbols, minlength=10)
    assert counts[0] == 0 and counts[9] == 0
    assert stats.chisquare(counts[1:9].numpy()).pvalue > 1e-3


def test_memoryless_strategy_scores_the_papers_baseline():
    T = 30
    task = CopyMemory(T=T)
    batch = task.sample(64, torch.Generator().manual_seed(2))
    logits = torch.full_like(batch.targets, -1e4)
    logits[: T + 10, :, 0] = 0.0  # certain blank before the recall phase
    logits[T + 10:, :, 1:] = 0.0  # uniform over the 8 symbols during recall
    expected = 10 * math.log(8) / (T + 20)
    assert abs(memoryless_cross_entropy(T) - expected) < 1e-12
    torch.testing.assert_close(mean_cross_entropy(logits, batch), torch.tensor(expected),
                               rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(task.errors(logits, batch), torch.full((64,), expected),
                               rtol=1e-5, atol=1e-6)
    assert not task.is_correct(logits, batch).any()


def test_success_criterion_on_hand_made_predictions():
    task = CopyMemory(T=8)
    batch = task.sample(3, torch.Generator().manual_seed(3))
    perfect = batch.targets * 5.0
    assert task.is_correct(perfect, batch).all()
    wrong = perfect.clone()
    last = int(batch.targets[-1, 1].argmax())
    wrong[-1, 1, (last % 8) + 1] = 10.0  # recall one symbol wrong
    assert task.is_correct(wrong, batch).tolist() == [True, False, True]


def test_seeds():
    task = CopyMemory(T=10)
    x = task.sample(8, torch.Generator().manual_seed(1))
    y = task.sample(8, torch.Generator().manual_seed(1))
    z = task.sample(8, torch.Generator().manual_seed(2))
    torch.testing.assert_close(x.inputs, y.inputs, rtol=0, atol=0)
    assert not torch.equal(x.inputs, z.inputs)
