"""The RNN layer against torch.nn.RNN (tanh and relu): both paths, both load directions."""

import pytest
import torch
from layer_parity import Case, check_parity, make_pair
from torch.testing import assert_close

from lstmlab.layers import RNN

CASES = [
    Case(),
    Case(num_layers=2, bidirectional=True, dropout=0.3, given_hx=True,
         options={"nonlinearity": "relu"}),
    Case(num_layers=3, batch_first=True, bias=False, given_hx=True),
    Case(num_layers=2, bidirectional=True, batch_first=True, inputs="unbatched", given_hx=True),
    Case(num_layers=2, bidirectional=True, inputs="packed_unsorted", given_hx=True,
         options={"nonlinearity": "relu"}),
    Case(inputs="packed_sorted", batch_first=True),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "readable"])
@pytest.mark.parametrize("torch_to_ours", [True, False], ids=["torch->ours", "ours->torch"])
def test_float64_parity_with_torch(case, fused, torch_to_ours):
    ours, theirs = make_pair(RNN, torch.nn.RNN, case, torch.float64, fused, torch_to_ours)
    check_parity(ours, theirs, case, torch.float64, (4,))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "readable"])
def test_float32_parity_with_torch(case, fused):
    ours, theirs = make_pair(RNN, torch.nn.RNN, case, torch.float32, fused, True)
    check_parity(ours, theirs, case, torch.float32, (4,))


def test_constructor_is_torchs():
    torch.manual_seed(5)
    ours = RNN(3, 4, 2, "relu", False)  # nonlinearity and bias positional, as in torch
    torch.manual_seed(5)
    theirs = torch.nn.RNN(3, 4, 2, "relu", False)
    assert_close(ours.state_dict(), theirs.state_dict(), rtol=0, atol=0)
    for name in ("nonlinearity", "mode", "bias", "num_layers", "_flat_weights_names"):
        assert getattr(ours, name) == getattr(theirs, name), name
    with pytest.raises(ValueError, match=r"Unknown nonlinearity 'sigmoid'. Select from 'tanh' "
                                         r"or 'relu'."):
        RNN(3, 4, nonlinearity="sigmoid")
