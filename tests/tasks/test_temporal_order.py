"""Experiment 6's sequences against [H97] §5.6: layout, intervals, balanced classes."""

import pytest
import torch
from scipy import stats

from lstmlab.tasks import TemporalOrder
from lstmlab.tasks._temporal_order import SYMBOLS

# The paper's class rules, written out: relevant symbols (in order) -> class name.
RULES = {
    "6a": {"XX": "Q", "XY": "R", "YX": "S", "YY": "U"},
    "6b": {"XXX": "Q", "XXY": "R", "XYX": "S", "XYY": "U", "YXX": "V", "YXY": "A", "YYX": "B",
           "YYY": "C"},
}
PAPER_INTERVALS = {"6a": [(10, 20), (50, 60)], "6b": [(10, 20), (33, 43), (66, 76)]}
CLASS_ORDER = {"6a": "QRSU", "6b": "QRSUVABC"}


@pytest.mark.parametrize("variant", ["6a", "6b"])
def test_layout_intervals_and_class_rules(variant):
    n = 4000
    task = TemporalOrder(variant)
    batch = task.sample(n, torch.Generator().manual_seed(0))
    first_position = []
    for b in range(n):
        length = int(batch.lengths[b])
        assert 100 <= length <= 110
        text = "".join(SYMBOLS[k] for k in batch.inputs[:length, b].argmax(-1).tolist())
        assert text[0] == "E" and text[-1] == "B"
        relevant = [(t + 1, s) for t, s in enumerate(text) if s in "XY"]  # positions from 1
        assert len(relevant) == len(PAPER_INTERVALS[variant])
        for (position, _), (low, high) in zip(relevant, PAPER_INTERVALS[variant], strict=True):
            assert low <= position <= high
        assert set(text[1:-1]) <= set("abcdXY")
        name = RULES[variant]["".join(s for _, s in relevant)]
        target = batch.targets[length - 1, b]
        assert target.sum() == 1 and CLASS_ORDER[variant][int(target.argmax())] == name
        assert int(batch.labels[b]) == CLASS_ORDER[variant].index(name)
        assert batch.mask[:, b].nonzero().flatten().tolist() == [length - 1]
        assert batch.inputs[length:, b].abs().sum() == 0
        first_position.append(relevant[0][0])
    classes = torch.bincount(batch.labels, minlength=task.output_size)
    assert stats.chisquare(classes.numpy()).pvalue > 1e-3
    positions = torch.bincount(torch.tensor(first_position) - 10, minlength=11)
    assert stats.chisquare(positions.numpy()).pvalue > 1e-3
    lengths = torch.bincount(batch.lengths - 100, minlength=11)
    assert stats.chisquare(lengths.numpy()).pvalue > 1e-3
    # The other elements are uniform on {a, b, c, d} (indices 2..5 of SYMBOLS).
    real = torch.arange(batch.steps).unsqueeze(1) < batch.lengths
    symbols = batch.inputs.argmax(-1)[real]
    counts = torch.bincount(symbols[(symbols >= 2) & (symbols <= 5)] - 2, minlength=4)
    assert stats.chisquare(counts.numpy()).pvalue > 1e-3


def test_seeds():
    task = TemporalOrder("6b")
    x = task.sample(8, torch.Generator().manual_seed(1))
    y = task.sample(8, torch.Generator().manual_seed(1))
    z = task.sample(8, torch.Generator().manual_seed(2))
    torch.testing.assert_close(x.inputs, y.inputs, rtol=0, atol=0)
    assert x.inputs.shape != z.inputs.shape or not torch.equal(x.inputs, z.inputs)


def test_success_criterion_on_hand_made_predictions():
    task = TemporalOrder("6a")
    batch = task.sample(3, torch.Generator().manual_seed(3))
    outputs = batch.targets * 0.5 + 0.25  # every final error 0.25 < 0.3
    assert task.is_correct(outputs, batch).all()
    last = batch.lengths - 1
    wrong_unit = (batch.labels + 1) % 4
    outputs[last[1], 1, wrong_unit[1]] = 0.31  # one wrong unit is enough to fail
    outputs[0, 2] = 1.0  # no error signal before the end
    assert task.is_correct(outputs, batch).tolist() == [True, False, True]


def test_bad_arguments():
    with pytest.raises(ValueError, match="variant"):
        TemporalOrder("6c")
    with pytest.raises(ValueError, match="min_length"):
        TemporalOrder("6b", min_length=70)


@pytest.mark.parametrize("variant", ["6a", "6b"])
def test_sample_each_equals_one_sample_per_generator_bit_for_bit(variant):
    from lstmlab.tasks._batch import concat, sample_each

    task = TemporalOrder(variant)
    seeds = [4, 0, 9, 13, 1, 7]
    fast_gens = [torch.Generator().manual_seed(s) for s in seeds]
    slow_gens = [torch.Generator().manual_seed(s) for s in seeds]
    for _ in range(3):  # consecutive steps: the generators stay in step too
        fast = sample_each([task] * len(seeds), fast_gens)
        slow = concat([task.sample(1, g) for g in slow_gens])
        for name in ("inputs", "targets", "mask", "lengths", "labels"):
            ours, theirs = getattr(fast, name), getattr(slow, name)
            assert ours.dtype == theirs.dtype and torch.equal(ours, theirs), name
            if ours.is_floating_point():
                assert torch.equal(torch.signbit(ours), torch.signbit(theirs)), name
