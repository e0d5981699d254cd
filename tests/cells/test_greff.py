"""Greff et al.'s ablations against the vanilla equations written out by hand, with the removed
part replaced by its constant, from the same weights; NP against torch.nn.LSTMCell."""

import pytest
import torch
from torch.testing import assert_close

from lstmlab.cells import (
    LSTMCell,
    LSTMState,
    NFGLSTMCell,
    NIAFLSTMCell,
    NIGLSTMCell,
    NOAFLSTMCell,
    NOGLSTMCell,
    NPLSTMCell,
    PeepholeLSTMCell,
)

B, I, H, T = 3, 5, 4, 6
EXACT = {"atol": 1e-12, "rtol": 1e-12}
GATES, PEEPHOLES = "ifgo", "ifo"


def _inputs(generator: torch.Generator) -> tuple[torch.Tensor, LSTMState]:
    xs = torch.randn(T, B, I, generator=generator, dtype=torch.float64)
    h0 = torch.randn(B, H, generator=generator, dtype=torch.float64)
    c0 = torch.randn(B, H, generator=generator, dtype=torch.float64)
    return xs, LSTMState(h0, c0)


def _vanilla(generator: torch.Generator) -> PeepholeLSTMCell:
    vanilla = PeepholeLSTMCell(I, H, dtype=torch.float64)
    vanilla.reset_parameters(generator)
    with torch.no_grad():
        vanilla.weight_peephole.mul_(4.0)  # large enough that a misplaced peephole would show
    return vanilla


def _reference_step(vanilla, x, h, c, *, i=None, f=None, o=None,
                    input_activation=torch.tanh, output_activation=torch.tanh):
    """The vanilla equations from the weights of ``vanilla``; a gate given as a number is fixed."""
    pre = x @ vanilla.weight_ih.T + vanilla.bias_ih + h @ vanilla.weight_hh.T + vanilla.bias_hh
    pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=1)
    p_i, p_f, p_o = vanilla.weight_peephole
    i = torch.sigmoid(pre_i + p_i * c) if i is None else torch.full_like(c, i)
    f = torch.sigmoid(pre_f + p_f * c) if f is None else torch.full_like(c, f)
    g = input_activation(pre_g)
    c_new = f * c + i * g
    o = torch.sigmoid(pre_o + p_o * c_new) if o is None else torch.full_like(c, o)
    return LSTMState(o * output_activation(c_new), c_new), (i, f, g, o)


def _load(cell, vanilla, gates: str, peepholes: str):
    """Give ``cell`` the blocks ``gates`` and peephole rows ``peepholes`` of ``vanilla``."""
    def blocks(tensor):
        parts = dict(zip(GATES, tensor.chunk(4), strict=True))
        return torch.cat([parts[gate] for gate in gates])

    state = {name: blocks(getattr(vanilla, name))
             for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    if peepholes:
        rows = dict(zip(PEEPHOLES, vanilla.weight_peephole, strict=True))
        state["weight_peephole"] = torch.stack([rows[gate] for gate in peepholes])
    cell.load_state_dict(state)
    return cell


IDENTITY = torch.nn.Identity()
CASES = [
    (NIGLSTMCell, "fgo", "fo", {"i": 1.0}),
    (NFGLSTMCell, "igo", "io", {"f": 1.0}),
    (NOGLSTMCell, "ifg", "if", {"o": 1.0}),
    (NIAFLSTMCell, "ifgo", "ifo", {"input_activation": IDENTITY}),
    (NOAFLSTMCell, "ifgo", "ifo", {"output_activation": IDENTITY}),
]


@pytest.mark.parametrize(("cls", "gates", "peepholes", "change"), CASES,
                         ids=[case[0].__name__ for case in CASES])
def test_ablation_matches_vanilla_equations_with_the_part_removed(cls, gates, peepholes, change):
    generator = torch.Generator().manual_seed(1)
    vanilla = _vanilla(generator)
    cell = _load(cls(I, H, dtype=torch.float64), vanilla, gates, peepholes)
    xs, state = _inputs(generator)
    reference = state
    for x in xs:
        reference, reference_gates = _reference_step(vanilla, x, *reference, **change)
        state, cell_gates = cell(x, state)
        assert_close(state, reference, **EXACT)
        # A removed gate is reported as its constant, ones, exactly.
        assert_close(tuple(cell_gates), reference_gates, **EXACT)


def test_nfg_equals_lstm_with_forget_gate_forced_open():
    generator = torch.Generator().manual_seed(2)
    lstm = torch.nn.LSTMCell(I, H, dtype=torch.float64)
    W_i, _, W_g, W_o = lstm.weight_ih.detach().chunk(4)
    R_i, _, R_g, R_o = lstm.weight_hh.detach().chunk(4)
    b_i, _, b_g, b_o = lstm.bias_ih.detach().chunk(4)
    d_i, _, d_g, d_o = lstm.bias_hh.detach().chunk(4)
    cell = NFGLSTMCell(I, H, dtype=torch.float64)
    cell.load_state_dict({
        "weight_ih": torch.cat([W_i, W_g, W_o]), "weight_hh": torch.cat([R_i, R_g, R_o]),
        "bias_ih": torch.cat([b_i, b_g, b_o]), "bias_hh": torch.cat([d_i, d_g, d_o]),
        "weight_peephole": torch.zeros(2, H, dtype=torch.float64),
    })
    xs, state = _inputs(generator)
    h, c = state
    for x in xs:
        # torch.nn.LSTMCell's equations with the forget gate held at f = 1.
        i = torch.sigmoid(x @ W_i.T + b_i + h @ R_i.T + d_i)
        g = torch.tanh(x @ W_g.T + b_g + h @ R_g.T + d_g)
        o = torch.sigmoid(x @ W_o.T + b_o + h @ R_o.T + d_o)
        c = 1.0 * c + i * g
        h = o * torch.tanh(c)
        state, gates = cell(x, state)
        assert_close(state, LSTMState(h, c), **EXACT)
        assert_close(gates.forget, torch.ones(B, H, dtype=torch.float64), atol=0.0, rtol=0.0)


def test_nog_output_is_tanh_of_the_cell():
    generator = torch.Generator().manual_seed(3)
    cell = NOGLSTMCell(I, H, dtype=torch.float64)
    cell.reset_parameters(generator)
    xs, state = _inputs(generator)
    for x in xs:
        state, gates = cell(x, state)
        assert_close(state.h, torch.tanh(state.c), atol=0.0, rtol=0.0)
        assert_close(gates.output, torch.ones(B, H, dtype=torch.float64), atol=0.0, rtol=0.0)


def test_np_equals_torch_lstmcell():
    generator = torch.Generator().manual_seed(4)
    reference = torch.nn.LSTMCell(I, H, dtype=torch.float64)
    cell = NPLSTMCell(I, H, dtype=torch.float64)
    cell.load_state_dict(reference.state_dict())  # the same keys, no mapping
    xs, state = _inputs(generator)
    h_ref, c_ref = state
    for x in xs:
        h_ref, c_ref = reference(x, (h_ref, c_ref))
        state, _ = cell(x, state)
        assert_close(state, LSTMState(h_ref, c_ref), **EXACT)


def test_np_equals_our_lstmcell():
    generator = torch.Generator().manual_seed(5)
    reference = LSTMCell(I, H, dtype=torch.float64)
    cell = NPLSTMCell(I, H, dtype=torch.float64)
    cell.load_state_dict(reference.state_dict())
    xs, state = _inputs(generator)
    reference_state = state
    for x in xs:
        reference_state, reference_gates = reference(x, reference_state)
        state, gates = cell(x, state)
        assert_close(state, reference_state, **EXACT)
        assert_close(gates, reference_gates, **EXACT)


@pytest.mark.parametrize("cls", [NIGLSTMCell, NFGLSTMCell, NOGLSTMCell, NIAFLSTMCell,
                                 NOAFLSTMCell, NPLSTMCell])
def test_bad_input_raises_value_error_naming_the_argument(cls):
    cell = cls(I, H)
    state = cell.initial_state(B)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 5\), got \(3, 2\)"):
        cell(torch.zeros(B, 2), state)
    with pytest.raises(ValueError, match=r"state.c must have shape \(3, 4\)"):
        cell(torch.zeros(B, I), LSTMState(state.h, torch.zeros(B)))
    with pytest.raises(ValueError, match="input_size must be an int >= 1, got 0"):
        cls(0, H)
