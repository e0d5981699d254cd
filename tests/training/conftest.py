"""Shared builders for the training tests: real cells by name, models, and random batches."""

from __future__ import annotations

import importlib

import pytest
import torch
from torch import nn

from lstmlab.training import SequenceModel
from lstmlab.training._batch import SequenceBatch

# name -> (module, class, constructor(cls, input_size, hidden_size)); the module may not exist yet.
CELLS = {
    "lstm": ("lstmlab.cells", "LSTMCell", lambda cls, i, h: cls(i, h)),
    "lstm1997": ("lstmlab.cells._lstm1997", "LSTM1997Cell",
                 lambda cls, i, h: cls(i, num_blocks=2, block_size=h // 2, cell_bias=True)),
    "lstm1997_truncated": ("lstmlab.cells._lstm1997", "LSTM1997Cell",
                           lambda cls, i, h: cls(i, num_blocks=2, block_size=h // 2,
                                                 cell_bias=True, truncate_gradient=True)),
    "peephole": ("lstmlab.cells", "PeepholeLSTMCell", lambda cls, i, h: cls(i, h)),
    "gru": ("lstmlab.cells", "GRUCell", lambda cls, i, h: cls(i, h)),
    "elman": ("lstmlab.cells", "ElmanCell", lambda cls, i, h: cls(i, h)),
}


def build_cell(name: str, input_size: int, hidden_size: int, generator: torch.Generator):
    """The real cell ``name`` in float64 with every weight uniform in [-0.5, 0.5] from
    ``generator``; skips the test while the cell's module has not landed."""
    module_name, class_name, construct = CELLS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        pytest.skip(f"{module_name} not written yet")
    cell = construct(getattr(module, class_name), input_size, hidden_size).double()
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.rand(p.shape, generator=generator, dtype=p.dtype) - 0.5)
    return cell


def build_model(name: str, input_size: int, hidden_size: int, output_size: int,
                generator: torch.Generator, squash=torch.sigmoid) -> SequenceModel:
    cell = build_cell(name, input_size, hidden_size, generator)
    readout = nn.Linear(hidden_size, output_size, dtype=torch.float64)
    with torch.no_grad():
        for p in readout.parameters():
            p.copy_(torch.rand(p.shape, generator=generator, dtype=p.dtype) - 0.5)
    return SequenceModel(cell, readout, squash)


def random_batch(steps: int, batch_size: int, input_size: int, output_size: int,
                 generator: torch.Generator, error_every: int = 1) -> SequenceBatch:
    """Inputs in [-1, 1], targets in [0, 1], error on every ``error_every``-th step and the last."""
    inputs = 2 * torch.rand(steps, batch_size, input_size, generator=generator,
                            dtype=torch.float64) - 1
    targets = torch.rand(steps, batch_size, output_size, generator=generator, dtype=torch.float64)
    mask = torch.zeros(steps, batch_size, dtype=torch.bool)
    mask[error_every - 1::error_every] = True
    mask[-1] = True
    lengths = torch.full((batch_size,), steps)
    return SequenceBatch(inputs, targets, mask, lengths)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny matrices: a second thread only adds contention (badly so on a shared machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def model_builder():
    return build_model


@pytest.fixture
def batch_builder():
    return random_batch
