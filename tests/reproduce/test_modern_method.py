"""``modern`` against the recipe written out as a plain PyTorch loop, and its initialisation."""

from __future__ import annotations

import pytest
import torch
from reproduce_fakes import bit_experiment

from lstmlab.reproduce import ModernMethod, ModernSettings
from lstmlab.reproduce._method import torch_threads
from lstmlab.reproduce._modern import ModernNet
from lstmlab.reproduce._trial_loop import TEST_SEED_OFFSET
from lstmlab.tasks._stopping import RecentWindowRule

RULE = RecentWindowRule("ST3", window=20, max_mean_error=0.2)
SETTINGS = ModernSettings(hidden_size=8, batch_size=8, learning_rate=1e-2)


def _reference(task, seed: int, budget: int) -> tuple[bool, int, float]:
    generator = torch.Generator().manual_seed(seed)
    net = ModernNet(2, 8, 1, 1.0, generator)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    tracker = RULE.tracker(1)
    seen = 0
    while seen < budget:
        batch = task.sample(min(8, budget - seen), generator)
        outputs, _ = net(batch.inputs)
        last = batch.last(outputs)
        loss = ((last - batch.last(batch.targets)) ** 2).sum() / batch.batch_size
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        errors = (last - batch.last(batch.targets)).abs().amax(-1).detach()
        for error in errors:
            seen += 1
            tracker.update((error < 0.3).reshape(1), error.reshape(1))
            if bool(tracker.is_met()[0]):
                break
        if bool(tracker.is_met()[0]):
            break
    tests = list(task.test_batches(torch.Generator().manual_seed(seed + TEST_SEED_OFFSET)))
    with torch.no_grad():
        right = torch.cat([task.is_correct(net(b.inputs)[0], b) for b in tests])
    return bool(tracker.is_met()[0]), seen, 1.0 - float(right.double().mean())


def test_trials_equal_the_plain_loop():
    experiment = bit_experiment(RULE, budget=600)
    results = list(ModernMethod(SETTINGS).run_trials(experiment, [0, 1], 600,
                                                     lambda n, e: None))
    assert [r.seed for r in results] == [0, 1]
    for result in results:
        with torch_threads(1):
            expected = _reference(experiment.make_task(result.seed), result.seed, 600)
        assert (result.success, result.sequences) == expected[:2]
        assert result.test_error == pytest.approx(expected[2], abs=1e-12)
    assert all(r.success for r in results)


def test_forget_gate_starts_with_bias_one_and_matches_torch_lstm():
    net = ModernNet(3, 5, 2, 1.0, torch.Generator().manual_seed(0))
    forget = slice(5, 10)  # gate order i, f, g, o
    total = net.recurrent.bias_ih_l0 + net.recurrent.bias_hh_l0
    torch.testing.assert_close(total[forget], torch.ones(5), rtol=0, atol=0)
    inputs = torch.randn(7, 4, 3)
    reference = torch.nn.LSTM(3, 5)
    reference.load_state_dict(net.recurrent.state_dict())
    expected = torch.sigmoid(net.readout(reference(inputs)[0]))
    torch.testing.assert_close(net(inputs)[0], expected, rtol=1e-6, atol=1e-6)


def test_same_seed_same_weights_different_seed_different_weights():
    def draw(seed):
        return ModernNet(3, 5, 2, 1.0, torch.Generator().manual_seed(seed)).recurrent.weight_hh_l0

    torch.testing.assert_close(draw(3), draw(3), rtol=0, atol=0)
    assert not torch.equal(draw(3), draw(4))
