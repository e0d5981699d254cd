"""Experiment 3's noise, lengths and targets against [H97] §5.3, tested statistically."""

import math

import pytest
import torch
from scipy import stats

from lstmlab.tasks import TwoSequence
from lstmlab.tasks._two_sequence import SETUPS


def draw(variant, n=4000, T=50, N=3, seed=0):
    task = TwoSequence(variant, T=T, N=N)
    return task, task.sample(n, torch.Generator().manual_seed(seed))


def noise_after_signal(batch, N):
    x = batch.inputs[..., 0]
    real = torch.arange(x.shape[0]).unsqueeze(1) < batch.lengths
    real[:N] = False
    return x[real].double().numpy()


@pytest.mark.parametrize("variant", ["3a", "3b", "3c"])
def test_noise_is_gaussian_with_variance_0_2(variant):
    task, batch = draw(variant)
    noise = noise_after_signal(batch, 3)
    assert stats.kstest(noise, stats.norm(0, math.sqrt(0.2)).cdf).pvalue > 1e-3
    # A standard deviation of 0.2 (the common misreading) is rejected.
    assert stats.kstest(noise, stats.norm(0, 0.2).cdf).pvalue < 1e-6


def test_signal_elements_3a_exact_3b_noisy():
    _, batch = draw("3a", N=3)
    sign = 1.0 - 2.0 * batch.labels.float()
    torch.testing.assert_close(batch.inputs[:3, :, 0], sign.expand(3, -1), rtol=0, atol=0)
    _, batch = draw("3b", N=3, seed=1)
    sign = 1.0 - 2.0 * batch.labels.float()
    residual = (batch.inputs[:3, :, 0] - sign).flatten().double().numpy()
    assert stats.kstest(residual, stats.norm(0, math.sqrt(0.2)).cdf).pvalue > 1e-3
    assert stats.kstest(residual, stats.norm(0, 0.2).cdf).pvalue < 1e-6  # not a std of 0.2


def test_lengths_uniform_between_T_and_T_plus_T_over_10_and_classes_balanced():
    task, batch = draw("3a", T=100, n=5500, seed=2)
    counts = torch.bincount(batch.lengths - 100, minlength=11)
    assert counts.shape == (11,)  # lengths 100 .. 110 only
    assert stats.chisquare(counts.numpy()).pvalue > 1e-3
    assert stats.binomtest(int(batch.labels.sum()), 5500).pvalue > 1e-3
    # Zero input after the end, one error signal at the last real step.
    last = batch.lengths - 1
    assert batch.mask.sum() == 5500 and batch.mask[last, torch.arange(5500)].all()
    pad = torch.arange(batch.steps).unsqueeze(1) >= batch.lengths
    assert batch.inputs[..., 0][pad].abs().sum() == 0


def test_targets_3a_and_3c_target_noise_variance():
    _, batch = draw("3a", seed=3)
    expected = torch.where(batch.labels == 0, 1.0, 0.0)
    torch.testing.assert_close(batch.last(batch.targets)[:, 0], expected, rtol=0, atol=0)
    task, batch = draw("3c", n=6000, seed=4)
    noise = batch.last(batch.targets)[:, 0] - task.noise_free_targets(batch)
    torch.testing.assert_close(task.noise_free_targets(batch),
                               torch.where(batch.labels == 0, 0.2, 0.8), rtol=0, atol=0)
    noise = noise.double().numpy()
    assert stats.kstest(noise, stats.norm(0, math.sqrt(0.1)).cdf).pvalue > 1e-3  # st.dev. 0.32
    assert stats.kstest(noise, stats.norm(0, 0.1).cdf).pvalue < 1e-6  # not a std of 0.1


def test_seeds():
    task = TwoSequence("3b", T=30)
    x = task.sample(8, torch.Generator().manual_seed(1))
    y = task.sample(8, torch.Generator().manual_seed(1))
    z = task.sample(8, torch.Generator().manual_seed(2))
    torch.testing.assert_close(x.inputs, y.inputs, rtol=0, atol=0)
    assert x.inputs.shape != z.inputs.shape or not torch.equal(x.inputs, z.inputs)


def test_success_criteria_and_stopping_rules_on_hand_made_predictions():
    task, batch = draw("3a", n=4, seed=5)
    clean = task.noise_free_targets(batch)
    outputs = torch.zeros_like(batch.targets)
    outputs[batch.lengths - 1, torch.arange(4), 0] = clean + torch.tensor([0.19, -0.19, 0.21, 0.0])
    assert task.is_correct(outputs, batch).tolist() == [True, True, False, True]
    st1, st2 = task.stopping
    correct, errors = task.is_correct(outputs, batch), task.errors(outputs, batch)
    assert not st1.is_met(correct, errors)
    assert st1.is_met(correct[[0, 1, 3]], errors[[0, 1, 3]])
    assert not st2.is_met(correct[[0, 1, 3]], errors[[0, 1, 3]])  # mean error 0.127 >= 0.01
    assert st2.is_met(correct[[3]], errors[[3]])

    task, batch = draw("3c", n=3, seed=6)
    clean = task.noise_free_targets(batch)
    outputs = torch.zeros_like(batch.targets)
    outputs[batch.lengths - 1, torch.arange(3), 0] = clean + torch.tensor([0.09, -0.11, 0.0])
    # Judged against the noise-free target, whatever the noisy training target was.
    assert task.is_correct(outputs, batch).tolist() == [True, False, True]

    b_task = TwoSequence("3b")
    st1, st2 = b_task.stopping
    five_wrong = torch.tensor([False] * 5 + [True] * 251)
    assert st1.is_met(five_wrong, torch.full((256,), 0.03))
    assert not st1.is_met(torch.tensor([False] * 6 + [True] * 250), torch.zeros(256))
    assert not st2.is_met(five_wrong, torch.full((256,), 0.05))


def test_setup_table_10():
    assert SETUPS["3a"].input_gate_bias == (-1.0, -3.0, -5.0)
    assert SETUPS["3a"].output_gate_bias == (-2.0, -4.0, -6.0)
    assert SETUPS["3c"].learning_rate == 0.1


def test_bad_arguments():
    with pytest.raises(ValueError, match="variant"):
        TwoSequence("3d")
    with pytest.raises(ValueError, match="N"):
        TwoSequence("3a", T=10, N=10)
