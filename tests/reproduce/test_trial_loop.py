"""The gradient methods' trials run through the one training loop, ``training.loop.train``.

The numbers of those trials are checked elsewhere against references: ``modern`` against a
plain loop written in ``test_modern_method.py``, the competitors' nets against their algorithms
applied by hand and their C kernels against the torch paths in ``tests/competitors``. Here: each
trial is one call of ``train`` on the trial's net, generator and optimizer, and the optimizer
setting ``modern`` configures builds the torch optimizer it names.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from reproduce_fakes import bit_experiment

from lstmlab.competitors import ChunkerMethod, rtrl_method
from lstmlab.reproduce import ModernMethod, ModernSettings
from lstmlab.reproduce import _trial_loop as trial_loop
from lstmlab.tasks._stopping import RecentWindowRule
from lstmlab.training._optimizers import TorchOptimizer

RULE = RecentWindowRule("ST3", window=20, max_mean_error=0.2)


@pytest.mark.parametrize("method", [
    ModernMethod(ModernSettings(hidden_size=4, batch_size=8)),
    dataclasses.replace(rtrl_method(), fast=False),
    ChunkerMethod(keep=50),
], ids=["modern", "rtrl", "chunker"])
def test_every_trial_is_one_call_of_the_training_loop(method, monkeypatch):
    calls, train = [], trial_loop.train

    def spy(model, sample, config, *, generator, stop):
        calls.append(config)
        return train(model, sample, config, generator=generator, stop=stop)

    monkeypatch.setattr(trial_loop, "train", spy)
    experiment = bit_experiment(RULE, budget=40)
    results = list(method.run_trials(experiment, [0, 1], 40, lambda n, e: None))
    assert len(calls) == len(results) == 2
    for config in calls:
        assert config.max_steps == 40 and config.check is None and not config.guard
    assert all(r.sequences <= 40 for r in results)


def test_a_torch_optimizer_setting_builds_the_class_it_names():
    """``TorchOptimizer(torch.optim.SGD, lr)`` takes the step SGD's rule says, θ - lr g."""
    weight = torch.tensor([1.0, -2.0], requires_grad=True)
    optimizer = TorchOptimizer(torch.optim.SGD, 0.1).build([weight])
    assert isinstance(optimizer, torch.optim.SGD)
    (weight.square().sum()).backward()                    # g = 2 θ
    optimizer.step()
    torch.testing.assert_close(weight.detach(), torch.tensor([0.8, -1.6]))
    assert isinstance(TorchOptimizer(torch.optim.Adam, 1e-3).build([weight]), torch.optim.Adam)
