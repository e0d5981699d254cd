"""The losses against their closed forms, and against the broadcasting a mismatch would cause."""

import pytest
import torch
from torch.testing import assert_close

from lstmlab.training import cross_entropy, sum_squared_error

F64 = torch.float64


def _data():
    generator = torch.Generator().manual_seed(0)
    outputs = torch.rand(4, 3, 2, dtype=F64, generator=generator)
    targets = torch.rand(4, 3, 2, dtype=F64, generator=generator)
    mask = torch.tensor([[1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 1, 0]], dtype=torch.bool)
    return outputs, targets, mask


def test_sum_squared_error_is_eq16_over_masked_steps_per_sequence():
    outputs, targets, mask = _data()
    expected = sum(float(((targets[t, b] - outputs[t, b]) ** 2).sum())
                   for t in range(4) for b in range(3) if mask[t, b]) / 3
    assert_close(sum_squared_error(outputs, targets, mask), torch.tensor(expected, dtype=F64),
                 rtol=1e-14, atol=0)


def test_cross_entropy_is_torchs_on_the_masked_steps():
    outputs, targets, mask = _data()
    targets = targets / targets.sum(-1, keepdim=True)
    expected = torch.nn.functional.cross_entropy(outputs[mask], targets[mask],
                                                 reduction="sum") / 3
    assert_close(cross_entropy(outputs, targets, mask), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("loss", [sum_squared_error, cross_entropy])
def test_a_shape_mismatch_is_a_value_error_not_a_broadcast(loss):
    outputs, targets, mask = _data()
    with pytest.raises(ValueError, match=r"targets: expected the outputs' shape \(4, 3, 1\)"):
        loss(outputs[..., :1], targets, mask)  # one output unit against two targets
    with pytest.raises(ValueError, match=r"targets: expected"):
        loss(outputs, targets[..., :1], mask)
    with pytest.raises(ValueError, match=r"mask: expected shape \(4, 3\), received \(4, 1\)"):
        loss(outputs, targets, mask[:, :1])
