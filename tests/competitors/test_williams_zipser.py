"""The written-out RTRL of the competitors' net equals the generic exact RTRL (torch.func)."""

import pytest
import torch

from lstmlab.competitors import WilliamsZipser, fully_recurrent_net
from lstmlab.tasks import EmbeddedReber, NoiseFreeLongLag
from lstmlab.training import RTRL, cross_entropy, sum_squared_error


def _double(batch):
    return type(batch)(batch.inputs.double(), batch.targets.double(), batch.mask, batch.lengths)


@pytest.mark.parametrize("skip", [True, False])
@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("task", [NoiseFreeLongLag(p=6), EmbeddedReber("1-5")],
                         ids=["2a", "reber"])
def test_equals_generic_rtrl_over_several_sequences(task, online, skip):
    models = [fully_recurrent_net(task.input_size, 3, task.output_size, inputs_to_outputs=skip,
                                  weight_range=0.5, generator=torch.Generator().manual_seed(0))
              for _ in range(2)]
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.3) for m in models]
    data = torch.Generator().manual_seed(1)
    for _ in range(4):
        batch = _double(task.sample(2, data))
        ours = WilliamsZipser(online)(models[0], batch, sum_squared_error, optimizers[0])
        reference = RTRL(online)(models[1], batch, sum_squared_error, optimizers[1])
        torch.testing.assert_close(ours.outputs, reference.outputs, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(ours.loss, reference.loss, rtol=1e-10, atol=1e-12)
    for (name, a), (_, b) in zip(models[0].named_parameters(), models[1].named_parameters(),
                                 strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=name)
    assert not torch.equal(models[0].readout.weight,
                           fully_recurrent_net(task.input_size, 3, task.output_size,
                                               inputs_to_outputs=skip, weight_range=0.5,
                                               generator=torch.Generator().manual_seed(0)
                                               ).readout.weight)


def test_other_losses_are_refused():
    model = fully_recurrent_net(2, 2, 2, inputs_to_outputs=True, weight_range=0.1,
                                generator=torch.Generator())
    batch = _double(NoiseFreeLongLag(p=2).sample(1, torch.Generator()))
    with pytest.raises(ValueError, match="loss"):
        WilliamsZipser()(model, batch, cross_entropy, torch.optim.SGD(model.parameters(), 0.1))
