"""The GRU layer against torch.nn.GRU: both paths, both load directions, float64 and float32."""

import pytest
import torch
from layer_parity import Case, check_parity, make_pair
from torch.testing import assert_close

from lstmlab.layers import GRU

CASES = [
    Case(),
    Case(num_layers=2, bidirectional=True, dropout=0.3, given_hx=True),
    Case(num_layers=3, batch_first=True, bias=False, given_hx=True),
    Case(num_layers=2, bidirectional=True, batch_first=True, inputs="unbatched", given_hx=True),
    Case(inputs="unbatched"),
    Case(num_layers=2, bidirectional=True, dropout=0.5, inputs="packed_unsorted",
         given_hx=True),
    Case(bias=False, inputs="packed_sorted", batch_first=True),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "readable"])
@pytest.mark.parametrize("torch_to_ours", [True, False], ids=["torch->ours", "ours->torch"])
def test_float64_parity_with_torch(case, fused, torch_to_ours):
    ours, theirs = make_pair(GRU, torch.nn.GRU, case, torch.float64, fused, torch_to_ours)
    check_parity(ours, theirs, case, torch.float64, (4,))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "readable"])
def test_float32_parity_with_torch(case, fused):
    ours, theirs = make_pair(GRU, torch.nn.GRU, case, torch.float32, fused, True)
    check_parity(ours, theirs, case, torch.float32, (4,))


def test_same_seed_same_weights_and_attributes_as_torch():
    torch.manual_seed(5)
    ours = GRU(3, 4, 2, bidirectional=True)
    torch.manual_seed(5)
    theirs = torch.nn.GRU(3, 4, 2, bidirectional=True)
    assert_close(ours.state_dict(), theirs.state_dict(), rtol=0, atol=0)
    for name in ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                 "bidirectional", "mode", "_flat_weights_names"):
        assert getattr(ours, name) == getattr(theirs, name), name


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "readable"])
def test_dropout_in_training_mode(fused):
    # dropout=1 zeroes layer 1's input: torch in eval mode with weight_ih_l1 = 0 is the same
    ours = GRU(3, 4, num_layers=2, dropout=1.0, dtype=torch.float64, fused=fused)
    theirs = torch.nn.GRU(3, 4, num_layers=2, dtype=torch.float64).eval()
    theirs.load_state_dict(ours.state_dict())
    with torch.no_grad():
        theirs.weight_ih_l1.zero_()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    output, h_n = ours.train()(x)
    expected, expected_h = theirs(x)
    assert_close(output, expected, rtol=1e-10, atol=1e-10)
    assert_close(h_n, expected_h, rtol=1e-10, atol=1e-10)
