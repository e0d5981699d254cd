"""``fresh_batches`` and ``FreshBatches.skip_rest``: skipping the batches not yet drawn leaves
the generator exactly where drawing them leaves it (reference: every batch drawn)."""

from __future__ import annotations

import pytest
import torch

from lstmlab.tasks import Batch, VeryLongLag
from lstmlab.tasks._batch import final_step_mask, fresh_batches


def _sample(n: int, generator: torch.Generator) -> Batch:
    steps = int(torch.randint(1, 5, (), generator=generator))
    inputs = torch.rand(steps, n, 2, generator=generator)
    lengths = torch.full((n,), steps)
    return Batch(inputs, inputs[..., :1], final_step_mask(lengths, steps), lengths)


def _draw(n: int, generator: torch.Generator) -> None:
    steps = int(torch.randint(1, 5, (), generator=generator))
    torch.rand(steps, n, 2, generator=generator)


@pytest.mark.parametrize("draw", [None, _draw])
@pytest.mark.parametrize("consumed", [0, 1, 3, 4])
def test_skip_rest_leaves_the_generator_where_drawing_every_batch_does(draw, consumed):
    full = torch.Generator().manual_seed(5)
    every = list(fresh_batches(_sample, 30, full, 8))  # 8, 8, 8, 6
    assert [b.batch_size for b in every] == [8, 8, 8, 6]
    skipping = torch.Generator().manual_seed(5)
    batches = fresh_batches(_sample, 30, skipping, 8, draw=draw)
    for n in range(consumed):
        assert torch.equal(next(batches).inputs, every[n].inputs)
    batches.skip_rest()
    assert torch.equal(skipping.get_state(), full.get_state())
    assert list(batches) == []
    assert torch.equal(_sample(3, skipping).inputs, _sample(3, full).inputs)


def test_fresh_batches_rejects_empty_sets():
    with pytest.raises(ValueError, match="total, batch_size"):
        fresh_batches(_sample, 0, torch.Generator(), 8)


@pytest.mark.parametrize(("q", "p", "size"), [(5, 3, 7), (40, 1000, 16)])
def test_2c_draw_makes_exactly_the_draws_of_sample(q, p, size):
    task = VeryLongLag(q=q, p=p)
    sampled, drawn = torch.Generator().manual_seed(2), torch.Generator().manual_seed(2)
    batch = task.sample(size, sampled)
    lengths, labels, symbols = task.draw(size, drawn)
    assert torch.equal(sampled.get_state(), drawn.get_state())
    assert torch.equal(batch.lengths, lengths) and torch.equal(batch.labels, labels)
    assert symbols.shape == (int(lengths.max()), size)
    # the distractors are what the inputs code between the prefix and the trigger
    middle = batch.inputs[2:-1].argmax(-1)
    real = torch.arange(2, batch.steps - 1).unsqueeze(1) < (lengths - 1).unsqueeze(0)
    assert torch.equal(middle[real], symbols[2:-1][real])
