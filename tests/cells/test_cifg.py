"""The CIFG LSTM: f = 1 - i exactly, and equal to a vanilla / torch LSTM whose forget weights are
the negated input weights (1 - sigmoid(a) = sigmoid(-a))."""

import pytest
import torch
from torch.testing import assert_close

from lstmlab.cells import CIFGLSTMCell, LSTMState, PeepholeLSTMCell

B, I, H, T = 3, 5, 4, 6
EXACT = {"atol": 1e-12, "rtol": 1e-12}


def _inputs(generator: torch.Generator) -> tuple[torch.Tensor, LSTMState]:
    xs = torch.randn(T, B, I, generator=generator, dtype=torch.float64)
    h0 = torch.randn(B, H, generator=generator, dtype=torch.float64)
    c0 = torch.randn(B, H, generator=generator, dtype=torch.float64)
    return xs, LSTMState(h0, c0)


def _four_blocks(three: torch.Tensor) -> torch.Tensor:
    """CIFG blocks (i, g, o) -> LSTM blocks (i, f, g, o) with f = -i, so sigmoid(f) = 1 - i."""
    i, g, o = three.chunk(3)
    return torch.cat([i, -i, g, o])


def _cifg(peepholes: bool, generator: torch.Generator) -> CIFGLSTMCell:
    cell = CIFGLSTMCell(I, H, peepholes=peepholes, dtype=torch.float64)
    cell.reset_parameters(generator)
    return cell


def test_forget_gate_is_exactly_one_minus_input():
    generator = torch.Generator().manual_seed(1)
    cell = _cifg(True, generator)
    xs, state = _inputs(generator)
    for x in xs:
        state, gates = cell(x, state)
        assert_close(gates.forget, 1 - gates.input, atol=0.0, rtol=0.0)


def test_equals_vanilla_with_forget_weights_the_negated_input_weights():
    generator = torch.Generator().manual_seed(2)
    cell = _cifg(True, generator)
    vanilla = PeepholeLSTMCell(I, H, dtype=torch.float64)
    p_i, p_o = cell.weight_peephole
    vanilla.load_state_dict({
        "weight_ih": _four_blocks(cell.weight_ih), "weight_hh": _four_blocks(cell.weight_hh),
        "bias_ih": _four_blocks(cell.bias_ih), "bias_hh": _four_blocks(cell.bias_hh),
        "weight_peephole": torch.stack([p_i, -p_i, p_o]),
    })
    xs, state = _inputs(generator)
    vanilla_state = state
    for x in xs:
        state, gates = cell(x, state)
        vanilla_state, vanilla_gates = vanilla(x, vanilla_state)
        assert_close(state, vanilla_state, **EXACT)
        assert_close(gates, vanilla_gates, **EXACT)


def test_without_peepholes_equals_torch_lstmcell_with_negated_input_weights():
    generator = torch.Generator().manual_seed(3)
    cell = _cifg(False, generator)
    assert [name for name, _ in cell.named_parameters()] == [
        "weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    reference = torch.nn.LSTMCell(I, H, dtype=torch.float64)
    reference.load_state_dict({name: _four_blocks(value)
                               for name, value in cell.state_dict().items()})
    xs, state = _inputs(generator)
    h_ref, c_ref = state
    for x in xs:
        state, _ = cell(x, state)
        h_ref, c_ref = reference(x, (h_ref, c_ref))
        assert_close(state, LSTMState(h_ref, c_ref), **EXACT)


def test_parameter_layout_is_three_blocks_and_two_peepholes():
    cell = CIFGLSTMCell(I, H, bias=False)
    shapes = {name: tuple(value.shape) for name, value in cell.named_parameters()}
    assert shapes == {"weight_ih": (3 * H, I), "weight_hh": (3 * H, H),
                      "weight_peephole": (2, H)}


def test_bad_input_raises_value_error_naming_the_argument():
    cell = CIFGLSTMCell(I, H)
    state = cell.initial_state(B)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 5\), got \(3, 6\)"):
        cell(torch.zeros(B, I + 1), state)
    with pytest.raises(ValueError, match=r"state.h must have shape \(2, 4\)"):
        cell(torch.zeros(2, I), state)
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1, got -1"):
        CIFGLSTMCell(I, -1)
