"""Experiments 4 and 5 and the modern adding problem against their definitions."""

import pytest
import torch
from scipy import stats

from lstmlab.tasks import Adding, AddingModern, Multiplication
from lstmlab.tasks._adding import BASELINE_MSE
from lstmlab.tasks._stopping import st3


def marked(batch, b):
    """Positions whose marker is +1 and their values, read off the inputs."""
    n = int(batch.lengths[b])
    positions = (batch.inputs[:n, b, 1] == 1.0).nonzero().flatten()
    return positions, batch.inputs[positions, b, 0]


def test_adding_layout_and_target():
    task = Adding(T=40)
    batch = task.sample(500, torch.Generator().manual_seed(0))
    for b in range(500):
        n = int(batch.lengths[b])
        positions, values = marked(batch, b)
        assert len(positions) == 2 and positions.max() <= 40 // 2 - 1
        markers = batch.inputs[:n, b, 1]
        assert markers[n - 1] == -1.0 and (markers[0] == -1.0) != (0 in positions.tolist())
        others = torch.ones(n, dtype=torch.bool)
        others[positions], others[0], others[n - 1] = False, False, False
        assert (markers[others] == 0).all()
        if 0 in positions.tolist():
            assert batch.inputs[0, b, 0] == 0.0  # "we set X1 to zero"
        torch.testing.assert_close(batch.targets[n - 1, b, 0], 0.5 + values.sum() / 4.0)
        assert batch.mask[:, b].nonzero().flatten().tolist() == [n - 1]
        assert batch.inputs[n:, b].abs().sum() == 0
    assert 40 <= int(batch.lengths.min()) and int(batch.lengths.max()) <= 44


def test_adding_marker_positions_follow_the_papers_distribution():
    T, n = 30, 20_000
    batch = Adding(T=T).sample(n, torch.Generator().manual_seed(1))
    half = T // 2
    # X1 uniform on 0..9, X2 uniform on the other T/2 - 1 positions of 0..T/2-1. The inputs
    # show the unordered pair {a < b}; P = ([a < 10] + [b < 10]) / (10 (T/2 - 1)).
    cells = [(a, b) for a in range(half) for b in range(a + 1, half) if a < 10]
    expected = [((a < 10) + (b < 10)) / (10 * (half - 1)) for a, b in cells]
    assert abs(sum(expected) - 1.0) < 1e-12
    index = {cell: k for k, cell in enumerate(cells)}
    observed = [0] * len(cells)
    marks = (batch.inputs[:half, :, 1] == 1.0).T.nonzero()
    pairs = marks[:, 1].view(n, 2)
    for a, b in pairs.tolist():
        observed[index[(a, b)]] += 1
    assert stats.chisquare(observed, [n * e for e in expected]).pvalue > 1e-3
    values = batch.inputs[1:, :, 0][batch.inputs[1:, :, 0] != 0].double().numpy()
    assert stats.kstest(values, stats.uniform(-1, 2).cdf).pvalue > 1e-3
    lengths = torch.bincount(batch.lengths - T, minlength=T // 10 + 1)
    assert lengths.shape == (4,) and stats.chisquare(lengths.numpy()).pvalue > 1e-3


def test_multiplication_values_and_target():
    batch = Multiplication(T=30).sample(3000, torch.Generator().manual_seed(2))
    first_marked = 0
    for b in range(3000):
        positions, values = marked(batch, b)
        if 0 in positions.tolist():
            first_marked += 1
            assert batch.inputs[0, b, 0] == 1.0  # "we set X1 to 1.0"
        n = int(batch.lengths[b])
        torch.testing.assert_close(batch.targets[n - 1, b, 0], values.prod())
    assert 0 < first_marked
    real = torch.arange(batch.steps).unsqueeze(1) < batch.lengths
    values = batch.inputs[1:, :, 0][real[1:]].double().numpy()
    assert stats.kstest(values, stats.uniform(0, 1).cdf).pvalue > 1e-3


def test_modern_adding_halves_and_sum():
    T, n = 20, 10_000
    task = AddingModern(T=T)
    batch = task.sample(n, torch.Generator().manual_seed(3))
    marks = (batch.inputs[..., 1] == 1.0).T.nonzero()[:, 1].view(n, 2)
    assert stats.chisquare(torch.bincount(marks[:, 0], minlength=T // 2).numpy()).pvalue > 1e-3
    assert stats.chisquare(torch.bincount(marks[:, 1] - T // 2, minlength=T // 2).numpy()
                           ).pvalue > 1e-3
    assert set(batch.inputs[..., 1].unique().tolist()) == {0.0, 1.0}
    sums = (batch.inputs[..., 0] * batch.inputs[..., 1]).sum(0)
    torch.testing.assert_close(batch.targets[-1, :, 0], sums)
    # Predicting 1 everywhere scores the memoryless MSE 1/6.
    ones = torch.ones_like(batch.targets)
    assert abs(float(task.errors(ones, batch).mean()) - BASELINE_MSE) < 0.01


def test_seeds():
    for task in (Adding(30), Multiplication(30), AddingModern(30)):
        x = task.sample(8, torch.Generator().manual_seed(1))
        y = task.sample(8, torch.Generator().manual_seed(1))
        z = task.sample(8, torch.Generator().manual_seed(2))
        torch.testing.assert_close(x.inputs, y.inputs, rtol=0, atol=0)
        assert x.inputs.shape != z.inputs.shape or not torch.equal(x.inputs, z.inputs)


def test_success_criterion_on_hand_made_predictions():
    for task in (Adding(30), Multiplication(30), AddingModern(30)):
        batch = task.sample(3, torch.Generator().manual_seed(4))
        outputs = batch.targets.clone()
        outputs[batch.lengths - 1, torch.arange(3), 0] += torch.tensor([0.039, -0.041, 0.0])
        outputs[0] += 5.0  # no error signal before the end
        assert task.is_correct(outputs, batch).tolist() == [True, False, True]


def test_st3_and_n_seq_window_rules():
    tracker = st3(0.01).tracker(members=2)
    for k in range(2000):
        tracker.update(torch.tensor([True, k != 1500]), torch.tensor([0.005, 0.005]))
        if k < 1999:
            assert not tracker.is_met().any()
    assert tracker.is_met().tolist() == [True, False]
    for _ in range(1501):
        tracker.update(torch.tensor([True, True]), torch.tensor([0.02, 0.005]))
    # Member 0's mean error is now above 0.01; member 1's wrong sequence left the window.
    assert tracker.is_met().tolist() == [False, True]
    n140, n13 = Multiplication().stopping
    window = n13.tracker()
    for k in range(2000):
        window.update(torch.tensor([k >= 12]), torch.tensor([0.1]))
    assert window.is_met().tolist() == [True]  # 12 wrong: "less than 13"
    assert n140.max_wrong == 139 and n140.window == 2000


def test_bad_T():
    with pytest.raises(ValueError, match="T"):
        Adding(T=21)


def _bits(tensor):
    # bitwise equality, so that 0.0 and -0.0 differ
    return tensor.view(torch.int32) if tensor.dtype == torch.float32 else tensor


@pytest.mark.parametrize("T", [22, 100, 1000])
def test_sample_each_equals_one_sample_per_generator_bit_for_bit(T):
    from lstmlab.tasks import Multiplication
    from lstmlab.tasks._batch import concat, sample_each

    for task in (Adding(T), Multiplication(T)):
        seeds = [3, 0, 17, 5, 11, 2, 8]
        fast = sample_each([task] * len(seeds), [torch.Generator().manual_seed(s) for s in seeds])
        slow = concat([task.sample(1, torch.Generator().manual_seed(s)) for s in seeds])
        for name in ("inputs", "targets", "mask", "lengths"):
            assert torch.equal(_bits(getattr(fast, name)), _bits(getattr(slow, name))), name
        # and the generators moved exactly as one sample each moves them
        after_fast = [torch.Generator().manual_seed(s) for s in seeds]
        sample_each([task] * len(seeds), after_fast)
        after_slow = [torch.Generator().manual_seed(s) for s in seeds]
        for g in after_slow:
            task.sample(1, g)
        assert all(torch.equal(a.get_state(), b.get_state())
                   for a, b in zip(after_fast, after_slow, strict=True))
