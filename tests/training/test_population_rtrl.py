"""Lockstep RTRL: K members end with the weights of K separate ``train`` runs with RTRL (online
updates at every step with error, or one per batch), though they stop at different times."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from lstmlab.training import (
    RTRL,
    SGD,
    Adam,
    Member,
    PopulationConfig,
    TrainConfig,
    train,
    train_population,
)
from lstmlab.training._batch import SequenceBatch
from lstmlab.training._population_rtrl import LockstepRTRL


def sample(generator: torch.Generator) -> SequenceBatch:
    """2 sequences of 2 to 5 steps; error at step 1 and at the end, none in between."""
    steps = int(torch.randint(2, 6, (), generator=generator))
    inputs = torch.randn(steps, 2, 2, generator=generator, dtype=torch.float64)
    targets = torch.sigmoid(inputs.cumsum(0))
    mask = torch.zeros(steps, 2, dtype=torch.bool)
    mask[0] = True
    mask[-1] = True
    return SequenceBatch(inputs, targets, mask, torch.full((2,), steps))


@pytest.mark.parametrize(("cell", "online", "optimizer"), [
    ("gru", True, SGD(lr=0.5, momentum=0.9)),
    ("lstm1997", True, SGD(lr=1.0)),
    ("elman", False, Adam(lr=0.05)),
])
def test_lockstep_rtrl_equals_separate_runs(cell, online, optimizer, model_builder):
    count, max_steps = 4, 6

    def stop_rule(k):
        return lambda info: info.step >= 2 + k

    def build(k):
        return model_builder(cell, 2, 4, 2, torch.Generator().manual_seed(k))

    alone = []
    for k in range(count):
        model = build(k)
        settings = TrainConfig(max_steps=max_steps, optimizer=optimizer,
                               algorithm=RTRL(online=online))
        result = train(model, sample, settings, generator=torch.Generator().manual_seed(50 + k),
                       stop=stop_rule(k))
        alone.append((model, result))
    members = [Member(build(k), torch.Generator().manual_seed(50 + k), stop_rule(k))
               for k in range(count)]
    config = PopulationConfig(max_steps, optimizer, algorithm=LockstepRTRL(online=online))
    results = train_population(members, sample, config)
    assert [r.steps for r in results] == [2, 3, 4, 5]
    for k, (model, result) in enumerate(alone):
        assert results[k].loss == pytest.approx(result.loss, rel=1e-10)
        for (key, p), q in zip(members[k].model.named_parameters(), model.parameters(),
                               strict=True):
            assert_close(p, q, rtol=1e-10, atol=1e-10, msg=f"member {k}: {key}")
    start = build(0)
    moved = max(float((p - q).detach().abs().max()) for p, q in zip(
        members[0].model.parameters(), start.parameters(), strict=True))
    assert moved > 1e-3
