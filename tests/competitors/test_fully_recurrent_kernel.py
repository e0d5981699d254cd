"""The C kernels train the competitors' net exactly as the torch paths do (float64)."""

import pytest
import torch

from kernels_required import needs_kernels
from lstmlab.competitors import WilliamsZipser, fully_recurrent_net
from lstmlab.competitors import _fully_recurrent_kernel as kernels
from lstmlab.tasks import Batch, EmbeddedReber, NoiseFreeLongLag
from lstmlab.training import BPTT, TruncatedBPTT, sum_squared_error

ALGORITHMS = {"rtrl": WilliamsZipser(online=True), "bptt": BPTT(), "elman": TruncatedBPTT(1)}
needs_kernel = needs_kernels(kernels.load, "fully_recurrent.c")


def _double(batch):
    return type(batch)(batch.inputs.double(), batch.targets.double(), batch.mask, batch.lengths)


def _net(task, hidden, skip):
    return fully_recurrent_net(task.input_size, hidden, task.output_size, inputs_to_outputs=skip,
                               weight_range=0.5, generator=torch.Generator().manual_seed(0))


@needs_kernel
@pytest.mark.parametrize("kind", sorted(ALGORITHMS))
@pytest.mark.parametrize("skip", [True, False])
@pytest.mark.parametrize("task", [NoiseFreeLongLag(p=6), EmbeddedReber("1-5")],
                         ids=["2a", "reber"])
def test_kernel_equals_torch_path_over_several_sequences(task, skip, kind):
    fast, slow = _net(task, 4, skip), _net(task, 4, skip)
    optimizer = torch.optim.SGD(slow.parameters(), lr=0.3)
    data = torch.Generator().manual_seed(1)
    for k in range(5):
        batch = _double(task.sample(1, data))
        if k == 2:  # a step without error in the middle: no update there
            mask = batch.mask.clone()
            mask[1] = False
            batch = Batch(batch.inputs, batch.targets, mask, batch.lengths)
        loss, outputs = kernels.train_sequence(kind, fast, batch.inputs, batch.targets,
                                               batch.mask, 0.3)
        reference = ALGORITHMS[kind](slow, batch, sum_squared_error, optimizer)
        torch.testing.assert_close(outputs, reference.outputs, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(loss, reference.loss, rtol=1e-10, atol=1e-12)
    for (name, a), (_, b) in zip(fast.named_parameters(), slow.named_parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=name)
    assert not torch.equal(fast.readout.weight, _net(task, 4, skip).readout.weight)


def test_kernel_kind_names_only_what_a_kernel_computes():
    assert [kernels.kernel_kind(a) for a in ALGORITHMS.values()] == list(ALGORITHMS)
    assert kernels.kernel_kind(WilliamsZipser(online=False)) is None
    assert kernels.kernel_kind(TruncatedBPTT(2)) is None
    assert kernels.kernel_kind(TruncatedBPTT(1, update_every_chunk=False)) is None


def test_falls_back_where_the_kernel_cannot_run():
    task = NoiseFreeLongLag(p=4)
    batch = task.sample(2, torch.Generator().manual_seed(0))
    single = task.sample(1, torch.Generator().manual_seed(0))
    net32 = fully_recurrent_net(task.input_size, 2, task.output_size, inputs_to_outputs=True,
                                weight_range=0.2, generator=torch.Generator(),
                                dtype=torch.float32)
    net64 = _net(task, 2, True)
    assert kernels.train_sequence("rtrl", net64, batch.inputs, batch.targets, batch.mask,
                                  0.1) is None
    assert kernels.train_sequence("rtrl", net32, single.inputs, single.targets, single.mask,
                                  0.1) is None
    with pytest.raises(ValueError, match="kind"):
        kernels.train_sequence("lstm", net64, single.inputs, single.targets, single.mask, 0.1)
