"""2c's inputs are built with ``scatter_`` for speed: equal to the one-hot of the same draws.

The reference re-draws the task's random numbers in the task's order from an identically seeded
generator and one-hot codes them with ``torch.nn.functional.one_hot`` (the former code path).
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn.functional import one_hot

from lstmlab.tasks import VeryLongLag


@pytest.mark.parametrize(("q", "p", "size"), [(5, 3, 7), (30, 20, 16), (100, 1000, 3)])
def test_2c_inputs_are_the_one_hot_code_of_the_same_draws(q, p, size):
    task = VeryLongLag(q=q, p=p)
    batch = task.sample(size, torch.Generator().manual_seed(11))
    g = torch.Generator().manual_seed(11)
    uniform = torch.rand(size, generator=g, dtype=torch.float64)
    k = torch.floor(torch.log1p(-uniform) / math.log(0.9)).long()
    labels = torch.randint(2, (size,), generator=g)
    lengths = q + k + 3
    steps = int(lengths.max())
    symbols = torch.randint(p, (steps, size), generator=g)
    time = torch.arange(steps).unsqueeze(1)
    symbols[0], symbols[1] = p + 1, p + 2 + labels
    symbols = torch.where(time == (lengths - 1).unsqueeze(0), p, symbols)
    expected = one_hot(symbols, p + 4).float() * (time < lengths.unsqueeze(0)).unsqueeze(-1)
    assert batch.inputs.dtype == torch.float32
    torch.testing.assert_close(batch.inputs, expected, rtol=0, atol=0)
    assert torch.equal(batch.labels, labels) and torch.equal(batch.lengths, lengths)
