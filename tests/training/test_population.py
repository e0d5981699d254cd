"""A population of K networks in lockstep ends, member by member, with the weights of K separate
``train`` runs (torch.optim, one network at a time), though members stop at different times."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from lstmlab.cells import LSTMCell
from lstmlab.training import (
    SGD,
    Adam,
    Member,
    PopulationConfig,
    SequenceModel,
    TrainConfig,
    sum_squared_error,
    train,
    train_population,
)
from lstmlab.training._batch import SequenceBatch
from lstmlab.training._population import LockstepBPTT, lockstep_forward, vmap_forward
from lstmlab.training._population_lstm import block_diagonal_lstm, stacked_lstm


def build(seed: int) -> SequenceModel:
    generator = torch.Generator().manual_seed(seed)
    cell = LSTMCell(2, 3, dtype=torch.float64)
    readout = nn.Linear(3, 2, dtype=torch.float64)
    with torch.no_grad():
        for p in [*cell.parameters(), *readout.parameters()]:
            p.copy_(torch.rand(p.shape, generator=generator, dtype=p.dtype) - 0.5)
    return SequenceModel(cell, readout, torch.sigmoid)


def sample(generator: torch.Generator) -> SequenceBatch:
    """Sequences of 3 to 7 steps (so members' batches differ in length); error at the end and
    in the middle, none at all in sequences of 4 steps (no update then, not even momentum)."""
    steps = int(torch.randint(3, 8, (), generator=generator))
    inputs = torch.randn(steps, 2, 2, generator=generator, dtype=torch.float64)
    targets = torch.sigmoid(inputs.cumsum(0)).flip(-1)
    mask = torch.zeros(steps, 2, dtype=torch.bool)
    mask[-1] = steps != 4
    mask[steps // 2] = steps != 4
    return SequenceBatch(inputs, targets, mask, torch.full((2,), steps))


PROBE = sample(torch.Generator().manual_seed(12345))


def stop_rule(k: int):
    """Member k stops after 6 + 3k steps, or earlier once its current weights do well on a fixed
    probe batch (a test-set criterion: it needs the network after the step)."""

    def stop(info) -> bool:
        with torch.no_grad():
            outputs, _ = info.current_model()(PROBE.inputs)
        probe_loss = float(sum_squared_error(outputs, PROBE.targets, PROBE.mask))
        return info.step >= 6 + 3 * k or probe_loss < 0.16

    return stop


@functools.cache
def separate_runs(optimizer, count: int, max_steps: int):
    """Each member trained alone by ``train`` (torch.optim), cached across parametrizations."""
    separate = []
    for k in range(count):
        model = build(k)
        result = train(model, sample, TrainConfig(max_steps=max_steps, optimizer=optimizer),
                       generator=torch.Generator().manual_seed(100 + k), stop=stop_rule(k))
        separate.append((model, result))
    return separate


@pytest.mark.parametrize("batched_forward",
                         [lockstep_forward, vmap_forward, stacked_lstm, block_diagonal_lstm],
                         ids=["default", "vmap", "stacked", "block-diagonal"])
@pytest.mark.parametrize("optimizer", [SGD(lr=0.5, momentum=0.9), Adam(lr=0.05)],
                         ids=["sgd-momentum", "adam"])
def test_population_equals_separate_runs(optimizer, batched_forward):
    count, max_steps = 8, 25
    separate = separate_runs(optimizer, count, max_steps)
    members = [Member(build(k), torch.Generator().manual_seed(100 + k), stop_rule(k))
               for k in range(count)]
    finished, reports = [], []

    def check_final(result):  # the model holds its final weights when the result arrives
        model, _ = separate[result.index]
        assert_close(members[result.index].model.readout.weight, model.readout.weight,
                     rtol=1e-10, atol=1e-10)
        finished.append(result)

    config = PopulationConfig(max_steps, optimizer, algorithm=LockstepBPTT(batched_forward))
    results = train_population(members, sample, config, on_result=check_final,
                               progress=reports.append)
    assert [r.active for r in reports] == [count - sum(r.steps <= s for r in results)
                                           for s in range(1, len(reports) + 1)]
    steps = [r.steps for r in results]
    assert len(set(steps)) >= 5, steps  # members really stop at different times
    assert [r.steps for r in finished] == sorted(steps)  # each reported as soon as final
    for k, (model, alone) in enumerate(separate):
        assert (results[k].steps, results[k].stopped) == (alone.steps, alone.stopped)
        assert results[k].loss == pytest.approx(alone.loss, rel=1e-10)
        for (key, p), q in zip(members[k].model.named_parameters(), model.parameters(),
                               strict=True):
            assert_close(p, q, rtol=1e-10, atol=1e-10, msg=f"member {k}: {key}")
    moved = (members[0].model.readout.weight - build(0).readout.weight).abs().max()
    assert moved > 1e-3  # training changed the weights, so the comparison has teeth


@pytest.mark.parametrize("batched_forward",
                         [lockstep_forward, vmap_forward, stacked_lstm, block_diagonal_lstm],
                         ids=["default", "vmap", "stacked", "block-diagonal"])
def test_diverged_member_stops_with_last_finite_weights(batched_forward):
    def poisoned(generator):
        batch = sample(generator)
        if generator.initial_seed() == 7:  # member 1's stream
            batch.inputs[0, 0, 0] = float("inf") if torch.rand((), generator=generator) < 0.3 \
                else batch.inputs[0, 0, 0]
        return batch

    members = [Member(build(k), torch.Generator().manual_seed(s)) for k, s in enumerate((6, 7))]
    config = PopulationConfig(20, SGD(lr=0.1), algorithm=LockstepBPTT(batched_forward))
    results = train_population(members, poisoned, config)
    assert results[1].diverged and not results[0].diverged
    assert results[0].steps == 20 and results[1].steps < 20
    assert all(bool(torch.isfinite(p).all()) for p in members[1].model.parameters())
    # Member 1 alone, stopped before its poisoned step, has the same weights.
    alone = build(1)
    train(alone, poisoned, TrainConfig(max_steps=results[1].steps, optimizer=SGD(lr=0.1)),
          generator=torch.Generator().manual_seed(7))
    for p, q in zip(members[1].model.parameters(), alone.parameters(), strict=True):
        assert_close(p, q, rtol=1e-10, atol=1e-10)


def test_members_must_share_an_architecture():
    other = SequenceModel(LSTMCell(2, 4, dtype=torch.float64), nn.Linear(4, 2, dtype=torch.float64))
    members = [Member(build(0), torch.Generator()), Member(other, torch.Generator())]
    with pytest.raises(ValueError, match=r"members\[1\].model"):
        train_population(members, sample, PopulationConfig(3, SGD(lr=0.1)))


def test_block_diagonal_needs_a_standard_lstm(model_builder):
    model = model_builder("peephole", 2, 3, 2, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="template.cell: expected an LSTMCell"):
        block_diagonal_lstm(model)
