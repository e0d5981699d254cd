"""The shared pieces of the torch-style cells: torch's draws, torch's names, independent zeros."""

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from lstmlab.cells import ElmanCell, GRUCell, LSTMCell, LSTMState, PeepholeLSTMCell
from lstmlab.cells._parameters import check_size, zero_state


@pytest.mark.parametrize(("ours", "theirs"), [
    (LSTMCell, nn.LSTMCell), (GRUCell, nn.GRUCell), (ElmanCell, nn.RNNCell),
])
@pytest.mark.parametrize("bias", [True, False])
def test_a_new_cell_draws_torchs_numbers_under_torchs_names(ours, theirs, bias):
    torch.manual_seed(11)
    expected = theirs(3, 5, bias).state_dict()
    torch.manual_seed(11)
    received = ours(3, 5, bias).state_dict()
    assert list(received) == list(expected)
    assert_close(dict(received), dict(expected), rtol=0, atol=0)


def test_reset_with_a_generator_repeats_and_stays_in_the_bound():
    cell = PeepholeLSTMCell(3, 4)
    cell.reset_parameters(torch.Generator().manual_seed(5))
    first = {name: p.clone() for name, p in cell.named_parameters()}
    cell.reset_parameters(torch.Generator().manual_seed(5))
    assert_close(dict(cell.named_parameters()), first, rtol=0, atol=0)
    assert max(p.abs().max().item() for p in cell.parameters()) <= 1 / 4 ** 0.5
    assert set(first) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_peephole"}


def test_zero_state_fields_are_separate_zeros_in_the_parameters_dtype():
    cell = LSTMCell(3, 4, dtype=torch.float64)
    state = zero_state(cell, LSTMState, (4, 4), 2, dtype=None, device=None)
    assert_close(state, LSTMState(torch.zeros(2, 4, dtype=torch.float64),
                                  torch.zeros(2, 4, dtype=torch.float64)), rtol=0, atol=0)
    state.h.add_(1)  # an in-place update of one field must not reach another
    assert_close(state.c, torch.zeros(2, 4, dtype=torch.float64), rtol=0, atol=0)


@pytest.mark.parametrize("value", [0, -1, 2.0, True, "3"])
def test_check_size_names_the_argument(value):
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1"):
        check_size("hidden_size", value)
