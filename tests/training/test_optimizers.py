"""The functional optimizers keep their state where the parameters live.

Their numbers are checked against ``torch.optim`` through whole populations in
``test_population.py``; here only the device, on ``meta`` tensors so no GPU is needed: a step
counter on the CPU beside GPU parameters made ``update`` fail on its first call.
"""

import pytest
import torch

from lstmlab.training import SGD, Adam


@pytest.mark.parametrize("optimizer", [SGD(lr=0.1), SGD(lr=0.1, momentum=0.9), Adam()],
                         ids=["sgd", "momentum", "adam"])
def test_state_and_update_stay_on_the_parameters_device(optimizer):
    params = {"weight": torch.zeros(3, 4, 2, device="meta"),
              "bias": torch.zeros(3, 4, device="meta")}
    state = optimizer.init(params)
    active = torch.ones(3, dtype=torch.bool, device="meta")
    new_params, new_state = optimizer.update(params, params, state, active)
    for tensor in (*state.values(), *new_params.values(), *new_state.values()):
        assert tensor.device.type == "meta"
