"""The training code on a real task's batches (Experiment 1, embedded Reber grammar): our eq. 16
loss equals the task's own, and a population of 1997 cells equals separate runs."""

from __future__ import annotations

import torch
from torch import nn
from torch.testing import assert_close

from lstmlab.cells import LSTM1997Cell
from lstmlab.tasks import EmbeddedReber
from lstmlab.tasks._batch import squared_error
from lstmlab.training import (
    RTRL,
    SGD,
    Member,
    PopulationConfig,
    SequenceModel,
    TrainConfig,
    sum_squared_error,
    train,
    train_population,
)
from lstmlab.training._population_rtrl import LockstepRTRL

TASK = EmbeddedReber("1-4", train_size=16, test_size=16)


def build(seed: int) -> SequenceModel:
    generator = torch.Generator().manual_seed(seed)
    cell = LSTM1997Cell(7, num_blocks=4, block_size=1, init_range=0.2, generator=generator,
                        output_gate_bias=(-1.0, -2.0, -3.0, -4.0), dtype=torch.float64)
    readout = nn.Linear(4, 7, bias=False, dtype=torch.float64)
    with torch.no_grad():
        readout.weight.uniform_(-0.2, 0.2, generator=generator)
    return SequenceModel(cell, readout, torch.sigmoid)


def sample(generator: torch.Generator):
    batch = TASK.sample(1, generator)
    return type(batch)(batch.inputs.double(), batch.targets.double(), batch.mask, batch.lengths,
                       batch.labels, batch.choices)


def test_loss_equals_the_tasks_eq16():
    batch = TASK.sample(4, torch.Generator().manual_seed(0))
    batch = type(batch)(batch.inputs.double(), batch.targets.double(), batch.mask, batch.lengths)
    with torch.no_grad():
        outputs, _ = build(0)(batch.inputs)
    assert_close(sum_squared_error(outputs, batch.targets, batch.mask),
                 squared_error(outputs, batch), rtol=1e-14, atol=0)


def test_population_of_1997_cells_on_reber_equals_separate_runs():
    def stop(info) -> bool:  # the task's verdict on the string just trained on
        return bool(TASK.is_correct(info.outputs, info.batch).all()) or info.step >= 6

    config = TrainConfig(max_steps=6, optimizer=SGD(lr=0.5))
    alone = []
    for k in range(3):
        model = build(k)
        train(model, sample, config, generator=torch.Generator().manual_seed(k), stop=stop)
        alone.append(model)
    members = [Member(build(k), torch.Generator().manual_seed(k), stop) for k in range(3)]
    train_population(members, sample, PopulationConfig(6, SGD(lr=0.5)))
    for member, model in zip(members, alone, strict=True):
        for p, q in zip(member.model.parameters(), model.parameters(), strict=True):
            assert_close(p, q, rtol=1e-10, atol=1e-10)


def test_online_rtrl_on_reber_equals_lockstep_rtrl():
    """The paper's RTRL competitor setting (weights updated at every step) on task batches:
    ``train`` with RTRL and the population's lockstep RTRL, two implementations, give the same
    weights, and training moved them."""
    config = TrainConfig(max_steps=2, optimizer=SGD(lr=0.1), algorithm=RTRL(online=True))
    alone = []
    for k in range(2):
        model = build(k)
        result = train(model, sample, config, generator=torch.Generator().manual_seed(k))
        assert result.steps == 2
        alone.append(model)
    members = [Member(build(k), torch.Generator().manual_seed(k)) for k in range(2)]
    train_population(members, sample, PopulationConfig(
        2, SGD(lr=0.1), algorithm=LockstepRTRL(online=True)))
    for member, model in zip(members, alone, strict=True):
        for p, q in zip(member.model.parameters(), model.parameters(), strict=True):
            assert_close(p, q, rtol=1e-10, atol=1e-10)
    moved = max(float((p - q).detach().abs().max())
                for p, q in zip(alone[0].parameters(), build(0).parameters(), strict=True))
    assert moved > 1e-4
