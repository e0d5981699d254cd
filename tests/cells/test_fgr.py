"""The FGR LSTM: with zero gate-to-gate weights exactly the vanilla cell; otherwise the equations
written out by hand with the nine matrices one by one."""

import pytest
import torch
from torch.testing import assert_close

from lstmlab.cells import FGRLSTMCell, FGRState, LSTMState, PeepholeLSTMCell
from lstmlab.layers import unroll

B, I, H, T = 3, 5, 4, 6
EXACT = {"atol": 1e-12, "rtol": 1e-12}


def _cell(generator: torch.Generator) -> FGRLSTMCell:
    cell = FGRLSTMCell(I, H, dtype=torch.float64)
    cell.reset_parameters(generator)
    return cell


def _inputs(generator: torch.Generator) -> tuple[torch.Tensor, FGRState]:
    xs = torch.randn(T, B, I, generator=generator, dtype=torch.float64)
    h0, c0 = torch.randn(2, B, H, generator=generator, dtype=torch.float64)
    i0, f0, o0 = torch.rand(3, B, H, generator=generator, dtype=torch.float64)
    return xs, FGRState(h0, c0, i0, f0, o0)


def test_zero_gate_recurrence_equals_vanilla():
    generator = torch.Generator().manual_seed(1)
    cell = _cell(generator)
    with torch.no_grad():
        cell.weight_gates.zero_()
    vanilla = PeepholeLSTMCell(I, H, dtype=torch.float64)
    missing, unexpected = vanilla.load_state_dict(cell.state_dict(), strict=False)
    assert (missing, unexpected) == ([], ["weight_gates"])
    xs, state = _inputs(generator)
    vanilla_state = LSTMState(state.h, state.c)
    for x in xs:
        state, gates = cell(x, state)
        vanilla_state, vanilla_gates = vanilla(x, vanilla_state)
        assert_close(LSTMState(state.h, state.c), vanilla_state, **EXACT)
        assert_close(gates, vanilla_gates, **EXACT)


def test_matches_the_equations_with_nine_matrices():
    generator = torch.Generator().manual_seed(2)
    cell = _cell(generator)
    W_i, W_f, W_g, W_o = cell.weight_ih.chunk(4)
    R_i, R_f, R_g, R_o = cell.weight_hh.chunk(4)
    b_i, b_f, b_g, b_o = (cell.bias_ih + cell.bias_hh).chunk(4)
    p_i, p_f, p_o = cell.weight_peephole
    # R[a][b]: (H, H), from gate b at t-1 into gate a at t.
    R = {a: dict(zip("ifo", row.chunk(3, dim=1), strict=True))
         for a, row in zip("ifo", cell.weight_gates.chunk(3, dim=0), strict=True)}
    xs, state = _inputs(generator)
    h, c, i, f, o = state
    for x in xs:
        prev = {"i": i, "f": f, "o": o}

        def rec(a, prev=prev):
            return sum(prev[b] @ R[a][b].T for b in "ifo")

        i = torch.sigmoid(x @ W_i.T + h @ R_i.T + b_i + p_i * c + rec("i"))
        f = torch.sigmoid(x @ W_f.T + h @ R_f.T + b_f + p_f * c + rec("f"))
        g = torch.tanh(x @ W_g.T + h @ R_g.T + b_g)
        c = f * c + i * g
        o = torch.sigmoid(x @ W_o.T + h @ R_o.T + b_o + p_o * c + rec("o"))
        h = o * torch.tanh(c)
        state, gates = cell(x, state)
        assert_close(state, FGRState(h, c, i, f, o), **EXACT)
        assert_close(tuple(gates), (i, f, g, o), **EXACT)


def test_unroll_carries_the_previous_gates_and_freezes_finished_sequences():
    generator = torch.Generator().manual_seed(3)
    cell = _cell(generator)
    xs, state = _inputs(generator)
    lengths = [T, 2, 0]
    unrolled = unroll(cell, xs, state, lengths=lengths)
    for b, length in enumerate(lengths):
        expected = FGRState(*(field[b : b + 1] for field in state))
        for x in xs[:length]:
            expected, _ = cell(x[b : b + 1], expected)
        final = FGRState(*(field[b : b + 1] for field in unrolled.state))
        assert_close(final, expected, **EXACT)


def test_initial_state_is_all_zeros():
    state = FGRLSTMCell(I, H, dtype=torch.float64).initial_state(B)
    zeros = torch.zeros(B, H, dtype=torch.float64)
    assert_close(state, FGRState(zeros, zeros, zeros, zeros, zeros), atol=0.0, rtol=0.0)


def test_bad_input_raises_value_error_naming_the_argument():
    cell = FGRLSTMCell(I, H)
    state = cell.initial_state(B)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 5\), got \(3, 1\)"):
        cell(torch.zeros(B, 1), state)
    with pytest.raises(ValueError, match=r"state.forget must have shape \(3, 4\)"):
        cell(torch.zeros(B, I), state._replace(forget=torch.zeros(B, H - 1)))
    with pytest.raises(ValueError, match="state must be an FGRState.*got LSTMState"):
        cell(torch.zeros(B, I), LSTMState(state.h, state.c))
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1"):
        FGRLSTMCell(I, True)
