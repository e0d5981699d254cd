"""The peephole (vanilla) LSTM against torch.nn.LSTMCell and the equations written out by hand."""

import pytest
import torch
from torch.testing import assert_close

from lstmlab.cells import LSTMCell, LSTMState, PeepholeLSTMCell

B, I, H, T = 3, 5, 4, 6
EXACT = {"atol": 1e-12, "rtol": 1e-12}


def _inputs(generator: torch.Generator) -> tuple[torch.Tensor, LSTMState]:
    xs = torch.randn(T, B, I, generator=generator, dtype=torch.float64)
    h0 = torch.randn(B, H, generator=generator, dtype=torch.float64)
    c0 = torch.randn(B, H, generator=generator, dtype=torch.float64)
    return xs, LSTMState(h0, c0)


def _reference_step(cell: PeepholeLSTMCell, x, h, c):
    """Gers & Schmidhuber (2000) / Greff et al. (2017) eqs., one gate at a time."""
    W_i, W_f, W_g, W_o = cell.weight_ih.chunk(4)
    R_i, R_f, R_g, R_o = cell.weight_hh.chunk(4)
    b = cell.bias_ih + cell.bias_hh if cell.bias else torch.zeros(4 * H, dtype=x.dtype)
    b_i, b_f, b_g, b_o = b.chunk(4)
    p_i, p_f, p_o = cell.weight_peephole
    i = torch.sigmoid(x @ W_i.T + h @ R_i.T + b_i + p_i * c)
    f = torch.sigmoid(x @ W_f.T + h @ R_f.T + b_f + p_f * c)
    g = torch.tanh(x @ W_g.T + h @ R_g.T + b_g)
    c_new = f * c + i * g
    o = torch.sigmoid(x @ W_o.T + h @ R_o.T + b_o + p_o * c_new)
    return o * torch.tanh(c_new), c_new, (i, f, g, o)


def test_zero_peepholes_equal_torch_lstmcell():
    generator = torch.Generator().manual_seed(1)
    reference = torch.nn.LSTMCell(I, H, dtype=torch.float64)
    cell = PeepholeLSTMCell(I, H, dtype=torch.float64)
    # torch's state_dict keys load as they are; only the peepholes are new.
    missing, unexpected = cell.load_state_dict(reference.state_dict(), strict=False)
    assert (missing, unexpected) == (["weight_peephole"], [])
    with torch.no_grad():
        cell.weight_peephole.zero_()
    xs, state = _inputs(generator)
    h_ref, c_ref = state
    for x in xs:
        h_ref, c_ref = reference(x, (h_ref, c_ref))
        state, _ = cell(x, state)
        assert_close(state.h, h_ref, **EXACT)
        assert_close(state.c, c_ref, **EXACT)


def test_zero_peepholes_equal_our_lstmcell():
    generator = torch.Generator().manual_seed(2)
    reference = LSTMCell(I, H, dtype=torch.float64)
    cell = PeepholeLSTMCell(I, H, dtype=torch.float64)
    cell.load_state_dict(reference.state_dict(), strict=False)
    with torch.no_grad():
        cell.weight_peephole.zero_()
    xs, state = _inputs(generator)
    ref_state = state
    for x in xs:
        ref_state, ref_gates = reference(x, ref_state)
        state, gates = cell(x, state)
        assert_close(state, ref_state, **EXACT)
        assert_close(gates, ref_gates, **EXACT)


@pytest.mark.parametrize("bias", [True, False])
def test_peepholes_match_the_equations(bias):
    generator = torch.Generator().manual_seed(3)
    cell = PeepholeLSTMCell(I, H, bias=bias, dtype=torch.float64)
    cell.reset_parameters(generator)
    # Peepholes large enough that placing one on the wrong c would show.
    with torch.no_grad():
        cell.weight_peephole.mul_(4.0)
    xs, state = _inputs(generator)
    h, c = state
    for x in xs:
        h, c, gates_ref = _reference_step(cell, x, h, c)
        state, gates = cell(x, state)
        assert_close(state, LSTMState(h, c), **EXACT)
        assert_close(tuple(gates), gates_ref, **EXACT)


def test_without_bias_has_no_bias_parameters():
    cell = PeepholeLSTMCell(I, H, bias=False)
    names = [name for name, _ in cell.named_parameters()]
    assert names == ["weight_ih", "weight_hh", "weight_peephole"]


def test_detach_peepholes_same_forward_gradient_only_through_the_carousel():
    generator = torch.Generator().manual_seed(4)
    full = PeepholeLSTMCell(I, H, dtype=torch.float64)
    full.reset_parameters(generator)
    detached = PeepholeLSTMCell(I, H, detach_peepholes=True, dtype=torch.float64)
    detached.load_state_dict(full.state_dict())
    x = torch.randn(B, I, generator=generator, dtype=torch.float64)
    h0 = torch.randn(B, H, generator=generator, dtype=torch.float64)
    c0 = torch.randn(B, H, generator=generator, dtype=torch.float64, requires_grad=True)

    state_full, gates_full = full(x, LSTMState(h0, c0))
    state_det, gates_det = detached(x, LSTMState(h0, c0))
    assert_close(state_det, state_full, atol=0.0, rtol=0.0)
    assert_close(gates_det, gates_full, atol=0.0, rtol=0.0)

    # i_t depends on c_{t-1} only through its peephole: d sum(i)/d c_{t-1} = i (1 - i) p_i.
    i = gates_full.input
    (grad_full,) = torch.autograd.grad(i.sum(), c0)
    assert_close(grad_full, i * (1 - i) * full.weight_peephole[0], **EXACT)
    (grad_det,) = torch.autograd.grad(gates_det.input.sum(), c0, allow_unused=True)
    assert grad_det is None  # not even a path in the graph
    # Through the carousel itself the error still flows: d sum(c_t)/d c_{t-1} = f_t.
    (grad_c,) = torch.autograd.grad(state_det.c.sum(), c0)
    assert_close(grad_c, gates_det.forget, **EXACT)
    # ... and the peephole weights still learn.
    (grad_p,) = torch.autograd.grad(gates_det.input.sum(), detached.weight_peephole)
    assert_close(grad_p[0], (i * (1 - i) * c0).sum(0), **EXACT)


def test_same_generator_seed_same_parameters():
    first, second = PeepholeLSTMCell(I, H), PeepholeLSTMCell(I, H)
    first.reset_parameters(torch.Generator().manual_seed(7))
    second.reset_parameters(torch.Generator().manual_seed(7))
    assert_close(first.state_dict(), second.state_dict(), atol=0.0, rtol=0.0)


def test_initial_state_is_zero_in_the_parameters_dtype():
    cell = PeepholeLSTMCell(I, H, dtype=torch.float64)
    state = cell.initial_state(B)
    assert_close(state, LSTMState(torch.zeros(B, H, dtype=torch.float64),
                                  torch.zeros(B, H, dtype=torch.float64)), atol=0.0, rtol=0.0)


def test_bad_input_raises_value_error_naming_the_argument():
    cell = PeepholeLSTMCell(I, H)
    state = cell.initial_state(B)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 5\), got \(3, 4\)"):
        cell(torch.zeros(B, I - 1), state)
    with pytest.raises(ValueError, match=r"x must have shape"):
        cell(torch.zeros(I), state)
    with pytest.raises(ValueError, match=r"state.c must have shape \(3, 4\)"):
        cell(torch.zeros(B, I), LSTMState(state.h, torch.zeros(B, H + 1)))
    with pytest.raises(ValueError, match="x must have the parameters' dtype torch.float32"):
        cell(torch.zeros(B, I, dtype=torch.float64), state)
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1, got 0"):
        PeepholeLSTMCell(I, 0)
    with pytest.raises(ValueError, match="input_size must be an int >= 1"):
        PeepholeLSTMCell(2.5, H)
