"""Experiment 2's generators against [H97] §5.2's definitions, tested statistically."""

import pytest
import torch
from scipy import stats

from lstmlab.tasks import NoiseFreeLongLag, VeryLongLag
from lstmlab.tasks._long_lags import TABLE_3, setup_2c
from lstmlab.tasks._setup import weight_count


def symbols(batch):
    """(T, B) input symbol indices, -1 after the end."""
    real = batch.inputs.sum(-1) > 0
    return torch.where(real, batch.inputs.argmax(-1), -1)


def test_2a_is_exactly_the_two_sequences():
    p = 7
    batch = NoiseFreeLongLag(p=p).sample(64, torch.Generator().manual_seed(0))
    for b in range(64):
        end = [p - 1, p][int(batch.labels[b])]  # x = a_p, y = a_{p+1}
        full = [end, *range(p - 1), end]
        assert symbols(batch)[:, b].tolist() == full[:-1]
        assert batch.targets[:, b].argmax(-1).tolist() == full[1:]
    assert batch.mask.all() and (batch.lengths == p).all()
    assert 16 < int(batch.labels.sum()) < 48


def test_2b_middle_is_uniform_over_a1_to_ap_minus_1_and_ends_match():
    p = 10
    batch = NoiseFreeLongLag(p=p, random_middle=True).sample(2000, torch.Generator().manual_seed(1))
    seq = symbols(batch)
    ends = p - 1 + batch.labels
    assert torch.equal(seq[0], ends)
    assert torch.equal(batch.targets[-1].argmax(-1), ends)
    middle = seq[1:]
    counts = torch.bincount(middle.flatten(), minlength=p + 1)
    assert counts[p - 1:].sum() == 0
    assert stats.chisquare(counts[: p - 1].numpy()).pvalue > 1e-3


def test_2b_end_errors_keeps_the_sequences_and_masks_all_but_the_last_step():
    """The reading 2b:end-errors: the same draws as 2b, error signals at the last step only."""
    p = 10
    plain = NoiseFreeLongLag(p=p, random_middle=True)
    ended = plain.with_end_errors()
    a, b = (task.sample(50, torch.Generator().manual_seed(3)) for task in (plain, ended))
    torch.testing.assert_close(b.inputs, a.inputs)
    torch.testing.assert_close(b.targets, a.targets)
    assert a.mask.all() and not plain.end_errors and ended.random_middle
    assert b.mask[-1].all() and not b.mask[:-1].any()


@pytest.mark.parametrize(("q", "p"), [(50, 50), (100, 20)])
def test_2c_layout(q, p):
    task = VeryLongLag(q=q, p=p)
    batch = task.sample(500, torch.Generator().manual_seed(2))
    seq = symbols(batch)
    e, b_sym, x = p, p + 1, p + 2
    for k in range(500):
        n = int(batch.lengths[k])
        row = seq[:n, k]
        assert row[0] == b_sym and row[1] == x + batch.labels[k] and row[-1] == e
        assert (row[2:-1] < p).all()  # only distractors a_1..a_p in between
        assert (seq[n:, k] == -1).all()
        assert batch.mask[:, k].nonzero().flatten().tolist() == [n - 1]
        assert batch.targets[n - 1, k].tolist() == [1.0 - batch.labels[k], float(batch.labels[k])]
    assert int(batch.lengths.min()) >= q + 3  # paper length (with the final symbol) >= q + 4
    distractors = seq[2:][(seq[2:] >= 0) & (seq[2:] < p)]
    assert stats.chisquare(torch.bincount(distractors, minlength=p).numpy()).pvalue > 1e-3


def test_2c_lengths_follow_the_geometric_law():
    q, n = 20, 8000
    batch = VeryLongLag(q=q, p=4).sample(n, torch.Generator().manual_seed(3))
    k = (batch.lengths + 1 - (q + 4)).numpy()  # paper length = lengths + 1 = q + k + 4
    observed = [(k == j).sum() for j in range(30)] + [(k >= 30).sum()]
    expected = [0.1 * 0.9**j for j in range(30)] + [0.9**30]
    assert stats.chisquare(observed, [n * e for e in expected]).pvalue > 1e-3
    # The procedure's mean: 4 + q + E[k] = q + 13 (the paper's "q + 14" is its arithmetic).
    assert abs(float(batch.lengths.double().mean()) + 1 - (q + 13)) < 4 * (90 / n) ** 0.5
    shifted = VeryLongLag(q=q, p=4, minimum_extra=1).sample(n, torch.Generator().manual_seed(3))
    assert int(shifted.lengths.min()) + 1 >= q + 5
    assert abs(float(shifted.lengths.double().mean()) + 1 - (q + 14)) < 4 * (90 / n) ** 0.5


def test_seeds():
    for task in (NoiseFreeLongLag(p=9, random_middle=True), VeryLongLag(q=20, p=10)):
        x = task.sample(16, torch.Generator().manual_seed(5))
        y = task.sample(16, torch.Generator().manual_seed(5))
        z = task.sample(16, torch.Generator().manual_seed(6))
        torch.testing.assert_close(x.inputs, y.inputs, rtol=0, atol=0)
        assert x.inputs.shape != z.inputs.shape or not torch.equal(x.inputs, z.inputs)


def test_success_criteria_on_hand_made_predictions():
    g = torch.Generator().manual_seed(4)
    a = NoiseFreeLongLag(p=6)
    batch = a.sample(4, g)
    near = batch.targets * 0.8 + 0.1  # every error 0.1 < 0.25
    assert a.is_correct(near, batch).all()
    wrong = near.clone()
    wrong[2, 1, 0] += 0.2  # error 0.3 in the middle: wrong for 2a, invisible to 2b's criterion
    assert a.is_correct(wrong, batch).tolist() == [True, False, True, True]
    b = NoiseFreeLongLag(p=6, random_middle=True)
    assert b.is_correct(wrong, batch).all()
    wrong[-1, 3, 0] += 0.2
    assert b.is_correct(wrong, batch).tolist() == [True, True, True, False]

    c = VeryLongLag(q=10, p=5)
    batch = c.sample(3, g)
    good = batch.targets * 0.7 + 0.15  # final errors 0.15 < 0.2
    assert c.is_correct(good, batch).all()
    bad = good.clone()
    bad[batch.lengths[0] - 1, 0, 1 - batch.labels[0]] = 0.25  # the other unit at 0.25
    bad[0, 1] = 9.0  # outputs before the end do not count
    assert c.is_correct(bad, batch).tolist() == [False, True, True]


def test_winner_criterion_on_hand_made_predictions():
    """The reading 2a:winner: right when the most active unit is the target's at every step
    (2a) or at the last (2b), however far from 1 it is; the training draws unchanged."""
    g = torch.Generator().manual_seed(4)
    a = NoiseFreeLongLag(p=6).with_winner()
    batch = a.sample(4, g)
    plain = NoiseFreeLongLag(p=6)
    torch.testing.assert_close(batch.inputs,
                               plain.sample(4, torch.Generator().manual_seed(4)).inputs)
    low = batch.targets * 0.3 + 0.1  # the target at 0.4, the rest at 0.1: errors 0.6 everywhere
    assert a.is_correct(low, batch).all() and not plain.is_correct(low, batch).any()
    wrong = low.clone()
    wrong[2, 1, 0] = 0.5  # unit 0 the most active at a middle step of sequence 1
    assert a.is_correct(wrong, batch).tolist() == [True, False, True, True]
    b = NoiseFreeLongLag(p=6, random_middle=True).with_winner()
    assert b.winner and b.random_middle and b.is_correct(wrong, batch).all()  # middle: not judged
    wrong[-1, 3] = 0.0
    wrong[-1, 3, (int(batch.targets[-1, 3].argmax()) + 1) % 7] = 0.2
    assert b.is_correct(wrong, batch).tolist() == [True, True, True, False]
    assert b.with_end_errors().winner and a.with_end_errors().winner


# [H97] Table 3's "# weights" column, by p (it does not depend on q).
TABLE_3_WEIGHTS = {50: 364, 100: 664, 200: 1264, 500: 3064, 1000: 6064}


def test_setups_match_the_papers_weight_counts():
    for q, p, _ in TABLE_3:
        assert setup_2c(q, p).weights == TABLE_3_WEIGHTS[p]
        assert weight_count(setup_2c(q, p)) == TABLE_3_WEIGHTS[p]
    assert weight_count(NoiseFreeLongLag(100).setup) == 10_504


def test_bad_arguments():
    with pytest.raises(ValueError, match="distractor_prob"):
        VeryLongLag(distractor_prob=1.0)
    with pytest.raises(ValueError, match="p"):
        NoiseFreeLongLag(p=1)


@pytest.mark.parametrize(("q", "p"), [(50, 50), (100, 7), (1000, 500)])
def test_2c_sample_each_equals_one_sample_per_generator_bit_for_bit(q, p):
    from lstmlab.tasks._batch import concat, sample_each

    task = VeryLongLag(q=q, p=p)
    seeds = [3, 0, 17, 5, 11, 2, 8]
    fast_generators = [torch.Generator().manual_seed(s) for s in seeds]
    fast = sample_each([task] * len(seeds), fast_generators)
    slow_generators = [torch.Generator().manual_seed(s) for s in seeds]
    slow = concat([task.sample(1, g) for g in slow_generators])
    assert len(set(fast.lengths.tolist())) > 1  # padding is exercised
    for name in ("inputs", "targets", "mask", "lengths", "labels"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert a.dtype == b.dtype and torch.equal(a, b), name
    # and the generators moved exactly as one sample each moves them
    assert all(torch.equal(a.get_state(), b.get_state())
               for a, b in zip(fast_generators, slow_generators, strict=True))
