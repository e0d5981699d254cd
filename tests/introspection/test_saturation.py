"""Saturation fractions counted by hand, with masked steps excluded."""

from __future__ import annotations

import pytest
import torch

from lstmlab.introspection import LayerTrace, saturation, trace


def test_fractions_counted_by_hand():
    forget = torch.tensor([[[0.05, 0.5]], [[0.95, 0.95]], [[0.5, 0.01]], [[0.99, 0.99]]])
    half = torch.full_like(forget, 0.5)
    mask = torch.tensor([[True], [True], [True], [False]])  # the last step is padding
    layer = LayerTrace(half, forget, half, half, half, half, half[0], half[0], mask)
    result = saturation(layer)
    torch.testing.assert_close(result["forget"].left, torch.tensor([1 / 3, 1 / 3]))
    torch.testing.assert_close(result["forget"].right, torch.tensor([1 / 3, 1 / 3]))
    torch.testing.assert_close(result["input"].left, torch.zeros(2))
    assert set(result) == {"input", "forget", "output"}
    with pytest.raises(ValueError, match="low and high"):
        saturation(layer, low=0.9, high=0.1)


def test_a_forget_bias_of_ten_right_saturates_the_forget_gate():
    model = torch.nn.LSTM(2, 3).double()
    with torch.no_grad():
        model.weight_ih_l0.mul_(0.1)
        model.bias_hh_l0[3:6] = 10.0  # f = sigmoid(~10) > 0.9999
    x = torch.randn(30, 4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    result = saturation(trace(model, x)[0])
    torch.testing.assert_close(result["forget"].right, torch.ones(3, dtype=torch.float64))
    torch.testing.assert_close(result["forget"].left, torch.zeros(3, dtype=torch.float64))
