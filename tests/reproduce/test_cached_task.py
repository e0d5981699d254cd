"""Experiment 2a's cached sequences hand out the task's own batches and verdicts, draw for draw."""

import pytest
import torch

from lstmlab.competitors import fully_recurrent_net
from lstmlab.reproduce._cached_task import CachedLongLag, DrawnPair, with_cached_encodings
from lstmlab.reproduce._registry import experiment
from lstmlab.tasks import EmbeddedReber, NoiseFreeLongLag


def _assert_same(a, b):
    for field in ("inputs", "targets", "mask", "lengths", "choices"):
        torch.testing.assert_close(getattr(a, field), getattr(b, field), rtol=0, atol=0)


def test_only_2a_long_lag_tasks_are_wrapped():
    assert type(with_cached_encodings(experiment("1")).make_task(0)) is EmbeddedReber
    assert isinstance(with_cached_encodings(experiment("2a")).make_task(0), CachedLongLag)
    assert isinstance(with_cached_encodings(experiment("2b")).make_task(0), NoiseFreeLongLag)


def test_long_lag_samples_equal_the_tasks_and_checks_judge_every_draw():
    task = NoiseFreeLongLag(p=10)
    task.test_size = 900  # the stopping set's size too (10,000 in the paper)
    cached = CachedLongLag(task)
    ours, theirs = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    for _ in range(10):
        a, b = cached.sample(1, ours), task.sample(1, theirs)
        _assert_same(a, b)
        torch.testing.assert_close(a.labels, b.labels, rtol=0, atol=0)
    net = fully_recurrent_net(11, 2, 11, inputs_to_outputs=True, weight_range=3.0,
                              generator=torch.Generator().manual_seed(0))

    def evaluate(batch):
        return net(batch.inputs.double())[0]

    ours, theirs = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    pairs = zip(cached.stopping_batches(ours, 300), task.stopping_batches(theirs, 300),
                strict=True)
    verdicts, errors = [], []
    for a, b in pairs:
        assert isinstance(a, DrawnPair) and a.batch_size == 2
        torch.testing.assert_close(a.draws, b.labels, rtol=0, atol=0)
        errors.append(cached.errors(evaluate(a), a))
        torch.testing.assert_close(errors[-1], task.errors(evaluate(b), b), rtol=1e-12,
                                   atol=1e-12)
        verdicts.append(cached.is_correct(evaluate(a), a))
        torch.testing.assert_close(verdicts[-1], task.is_correct(evaluate(b), b), rtol=0, atol=0)
    assert torch.cat(verdicts).shape == (900,)
    assert torch.cat(errors).unique().numel() == 2  # x and y sequences, judged apart
    with pytest.raises(ValueError, match="task"):
        CachedLongLag(NoiseFreeLongLag(p=10, random_middle=True))
