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


def _reference(task, seed: int, budget: int, cell=torch.nn.LSTM, clip_norm=None,
               cross_entropy=False) -> tuple[bool, int, float]:
    generator = torch.Generator().manual_seed(seed)
    net = ModernNet(2, 8, 1, 1.0, generator, cell)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    tracker = RULE.tracker(1)
    seen = 0
    while seen < budget:
        batch = task.sample(min(8, budget - seen), generator)
        outputs, _ = net(batch.inputs)
        last = batch.last(outputs)
        target = batch.last(batch.targets)
        if cross_entropy:  # written out, not torch's function
            loss = -(target * last.log() + (1 - target) * (1 - last).log()).sum()
        else:
            loss = ((last - target) ** 2).sum()
        optimizer.zero_grad()
        (loss / batch.batch_size).backward()
        if clip_norm is not None:  # the global norm, scaled down to clip_norm
            grads = [p.grad for p in net.parameters()]
            norm = torch.sqrt(sum((g * g).sum() for g in grads))
            for g in grads:
                g.mul_(min(1.0, clip_norm / (float(norm) + 1e-6)))
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


@pytest.mark.parametrize(("cell", "clip_norm", "cross_entropy"), [
    (torch.nn.GRU, None, False), (torch.nn.LSTM, 0.05, False), (torch.nn.GRU, 0.05, True)])
def test_gru_clipping_and_cross_entropy_equal_the_plain_loop(cell, clip_norm, cross_entropy):
    from lstmlab.training._losses import binary_cross_entropy, sum_squared_error

    settings = ModernSettings(hidden_size=8, batch_size=8, learning_rate=1e-2, cell=cell,
                              clip_norm=clip_norm,
                              loss=binary_cross_entropy if cross_entropy else sum_squared_error)
    experiment = bit_experiment(RULE, budget=300)
    (result,) = ModernMethod(settings).run_trials(experiment, [1], 300, lambda n, e: None)
    with torch_threads(1):
        expected = _reference(experiment.make_task(1), 1, 300, cell, clip_norm, cross_entropy)
    assert (result.success, result.sequences) == expected[:2]
    assert result.test_error == pytest.approx(expected[2], abs=1e-12)


def test_gru_update_gate_starts_with_bias_one():
    net = ModernNet(3, 5, 2, 1.0, torch.Generator().manual_seed(0), torch.nn.GRU)
    update = slice(5, 10)  # gate order r, z, n
    total = net.recurrent.bias_ih_l0 + net.recurrent.bias_hh_l0
    torch.testing.assert_close(total[update], torch.ones(5), rtol=0, atol=0)


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


def test_clipped_bptt_steps_with_the_gradient_scaled_to_clip_norm():
    from lstmlab.reproduce._modern import ClippedBPTT
    from lstmlab.training import sum_squared_error

    batch = bit_experiment(RULE).make_task(0).sample(8, torch.Generator().manual_seed(5))

    def stepped(clip_norm):
        net = ModernNet(2, 5, 1, 1.0, torch.Generator().manual_seed(2))
        before = [p.detach().clone() for p in net.parameters()]
        optimizer = torch.optim.SGD(net.parameters(), lr=1.0)
        ClippedBPTT(clip_norm)(net, batch, sum_squared_error, optimizer)
        return before, [p.detach() for p in net.parameters()]

    before, plain = stepped(None)
    _, clipped = stepped(0.01)
    gradient = [b - a for b, a in zip(before, plain, strict=True)]  # lr 1: the gradient
    norm = torch.sqrt(sum((g * g).sum() for g in gradient))
    assert float(norm) > 0.01  # so clipping must change the step
    for b, a, g in zip(before, clipped, gradient, strict=True):
        torch.testing.assert_close(b - a, g * 0.01 / (norm + 1e-6))
