"""The chunker's C update equals ``Chunker.train_step`` (float64)."""

import pytest
import torch

from kernels_required import needs_kernels
from lstmlab.competitors import Chunker, ChunkerConfig
from lstmlab.competitors import _chunker_kernel as chunker_kernel
from lstmlab.tasks import Batch, EmbeddedReber, NoiseFreeLongLag

needs_kernel = needs_kernels(chunker_kernel.load, "chunker.c")


@needs_kernel
@pytest.mark.parametrize("hidden", [1, 3])
@pytest.mark.parametrize("task", [NoiseFreeLongLag(p=8), EmbeddedReber("1-5")],
                         ids=["2a", "reber"])
def test_kernel_equals_train_step_over_several_sequences(task, hidden):
    # A large surprise threshold and learning rate so both levels see and learn something.
    config = ChunkerConfig(hidden_size=hidden, learning_rate=0.5, surprise=0.75, weight_range=1.0)
    fast, slow = (Chunker(task.input_size, config, torch.Generator().manual_seed(0),
                          output_size=task.output_size) for _ in range(2))
    data = torch.Generator().manual_seed(1)
    kept = []
    for k in range(6):
        batch = task.sample(1, data)
        inputs, targets = batch.inputs.double(), batch.targets.double()
        mask = batch.mask.clone()
        if k == 3:  # a step without error
            mask[2] = False
        batch = Batch(inputs, targets, mask, batch.lengths)
        prediction = chunker_kernel.train_chunker(fast, inputs, targets, mask, batch.lengths)
        run = slow.train_step(inputs, targets, mask, batch.lengths)
        torch.testing.assert_close(prediction, run["prediction"], rtol=1e-10, atol=1e-12)
        kept.append(run["unexpected"].float().mean())
    for (name, a), (_, b) in zip(fast.named_parameters(), slow.named_parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=name)
    assert 0 < float(torch.stack(kept).mean()) < 1  # C read some inputs, not all
    untrained = Chunker(task.input_size, config, torch.Generator().manual_seed(0),
                        output_size=task.output_size)
    assert not torch.equal(fast.chunker_readout.weight, untrained.chunker_readout.weight)


def test_falls_back_for_batches():
    task = NoiseFreeLongLag(p=4)
    net = Chunker(task.input_size, ChunkerConfig(), torch.Generator())
    batch = task.sample(2, torch.Generator())
    assert chunker_kernel.train_chunker(net, batch.inputs.double(), batch.targets.double(),
                                        batch.mask, batch.lengths) is None
