"""``Criterion.check`` stops evaluating a stopping set once the rule cannot be met, with the
same verdict as a full evaluation and the stopping-set generator left where a full check
leaves it (reference: the rule applied to every sequence of the set, evaluated by hand)."""

from __future__ import annotations

import pytest
import torch

from lstmlab.reproduce._criteria import Criterion
from lstmlab.tasks import Batch, VeryLongLag
from lstmlab.tasks._batch import final_abs_error, final_step_mask
from lstmlab.tasks._stopping import TestSetRule


class _Noise:
    """Stopping sets of 4 batches of 8 random one-step sequences; target 0.5."""

    def __init__(self, rule: TestSetRule) -> None:
        self.stopping = (rule,)

    def stopping_batches(self, generator, batch_size=8):
        for _ in range(4):
            inputs = torch.rand(1, batch_size, 1, generator=generator)
            lengths = torch.ones(batch_size, dtype=torch.long)
            yield Batch(inputs, torch.full_like(inputs, 0.5), final_step_mask(lengths, 1),
                        lengths)

    def errors(self, outputs, batch):
        return final_abs_error(outputs, batch)

    def is_correct(self, outputs, batch):
        return self.errors(outputs, batch) < 0.3


@pytest.mark.parametrize("max_wrong", [0, 3, 40])
@pytest.mark.parametrize("mean", [None, 0.2])
def test_early_exit_keeps_the_verdict_and_the_generator(max_wrong, mean):
    rule = TestSetRule("noise", max_wrong=max_wrong, max_mean_error=mean, check_every=1)
    task = _Noise(rule)
    for seed in range(6):
        calls = []

        def evaluate(batch, calls=calls):  # outputs = input: wrong where |x - 0.5| >= 0.3
            calls.append(batch)
            return batch.inputs

        criterion = Criterion(task, torch.Generator().manual_seed(seed), batch_size=8)
        verdict = criterion.check(evaluate)
        full = torch.Generator().manual_seed(seed)
        batches = list(task.stopping_batches(full, 8))
        errors = torch.cat([task.errors(b.inputs, b) for b in batches])
        wrong = int((errors >= 0.3).sum())
        expected = wrong <= max_wrong and (mean is None or float(errors.mean()) < mean)
        assert verdict == expected
        assert torch.equal(criterion.generator.get_state(), full.get_state())
        seen = 0
        for n, batch in enumerate(calls):  # evaluated only while the rule could still hold
            assert torch.equal(batch.inputs, batches[n].inputs)
            assert seen <= max_wrong
            seen += int((task.errors(batch.inputs, batch) >= 0.3).sum())
        assert len(calls) == 4 or seen > max_wrong
        if max_wrong == 0:  # 40 % of inputs are wrong: the first batch already settles it
            assert len(calls) == 1 and not verdict


def test_a_met_rule_sees_the_whole_set():
    rule = TestSetRule("noise", max_wrong=32, check_every=1)
    task = _Noise(rule)
    calls = []
    met = Criterion(task, torch.Generator().manual_seed(0), batch_size=8).check(
        lambda batch: calls.append(batch) or batch.inputs)
    assert met and len(calls) == 4


def test_the_criterions_window_decides_as_the_tensor_tracker_does_sequence_by_sequence():
    """Criterion keeps ST3's window in plain Python (``_Window``); WindowTracker, the tensor
    reference, must agree at every sequence, including the mean-error half at its boundary."""
    from lstmlab.reproduce._criteria import _Window
    from lstmlab.tasks._stopping import RecentWindowRule

    rule = RecentWindowRule("test", window=50, max_wrong=1, max_mean_error=0.01)
    reference, window = rule.tracker(1), _Window(rule)
    generator = torch.Generator().manual_seed(0)
    decisions = []
    for k in range(3000):
        # errors hover around the 0.01 bound; wrong verdicts come in bursts and die out
        error = float(0.0098 + 0.0004 * torch.rand((), generator=generator, dtype=torch.float64))
        right = not (k % 700 < 3 and k < 2000)
        reference.update(torch.tensor([right]), torch.tensor([error], dtype=torch.float64))
        window.update(right, error)
        expected = bool(reference.is_met()[0])
        assert window.is_met() == expected, k
        decisions.append(expected)
    assert any(decisions) and not all(decisions)  # the bound was crossed both ways
    state = window.state_dict()
    for name in ("correct", "errors", "seen"):
        assert torch.equal(state[name], getattr(reference, name))
    restored = _Window(rule)
    restored.load_state_dict(state)
    assert (restored.wrong, restored.seen, restored.is_met()) == (window.wrong, window.seen,
                                                                  window.is_met())


def test_a_failed_2c_check_skips_the_rest_by_its_draws_alone():
    """Exp. 2c: the first of 40 batches settles a failed check; the other 39 are only drawn
    (``FreshBatches.skip_rest``, no one-hot inputs built), and the next check sees the very
    sequences it sees after a check that evaluated everything."""
    task = VeryLongLag(q=5, p=10)
    assert task.test_size == 10_000

    def wrong(batch):  # every output 0: every sequence wrong
        calls.append(batch)
        return torch.zeros_like(batch.targets)

    calls = []
    criterion = Criterion(task, torch.Generator().manual_seed(4), batch_size=256)
    assert not criterion.check(wrong)
    assert len(calls) == 1
    full = torch.Generator().manual_seed(4)
    drawn = list(task.stopping_batches(full, 256))
    assert len(drawn) == 40 and torch.equal(calls[0].inputs, drawn[0].inputs)
    assert torch.equal(criterion.generator.get_state(), full.get_state())
    following = next(iter(task.stopping_batches(criterion.generator, 256)))
    assert torch.equal(following.inputs, task.sample(256, full).inputs)


def test_only_a_recent_window_rule_reads_the_training_verdicts():
    """``Criterion.reads_verdicts`` (the whole run skips the training verdicts where no member
    reads them): False for a test-set rule (Exp. 1) and no rule, True for ST3's window (Exp. 4),
    whose decision does change with them."""
    from lstmlab.reproduce._registry import experiment

    def criterion(name):
        return Criterion(experiment(name).make_task(0), torch.Generator())

    assert not criterion("1").reads_verdicts
    window = criterion("4")
    assert window.reads_verdicts
    no_rule = criterion("4")
    no_rule.rule, no_rule.tracker = None, None
    assert not no_rule.reads_verdicts
    # the window rule's decision reads ``right``: the same errors, all right or all wrong
    for right in (True, False):
        judged = criterion("4")
        met = [judged.observe_one(right, 0.0, lambda batch: None)
               for _ in range(judged.rule.window)]
        assert met[-1] is right and not any(met[:-1])
