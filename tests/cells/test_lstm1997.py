"""The 1997 cell against a straight-line reference written from [H97] App. A.1 unit by unit."""

import math

import pytest
import torch
from torch.testing import assert_close

from lstmlab.cells.lstm1997 import LSTM1997Cell, LSTM1997Weights
from lstmlab.cells.squash import H1, IDENTITY, LOGISTIC
from lstmlab.cells.state import Cell

F64 = torch.float64
# The default float64 tolerance (1e-7) is far looser than these identities need.
EXACT = {"rtol": 0.0, "atol": 0.0}
TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def _logistic(x):
    return 1 / (1 + torch.exp(-x))


def reference_unroll(weight_ih, weight_hh, bias, xs, C, S, truncate):
    """[H97] App. A.1 literally: one unit at a time, senders y^u(t-1) in the order in, c, out.

    Returns y^c (T, B, C*S) and s_c (T, B, C*S). Truncation detaches y^u(t-1) where it enters
    net_{in_j}, net_{c_j^v}, net_{out_j}, and nowhere else.
    """
    T, B, _ = xs.shape
    y_in = [torch.zeros(B, dtype=F64) for _ in range(C)]
    y_out = [torch.zeros(B, dtype=F64) for _ in range(C)]
    y_c = [torch.zeros(B, dtype=F64) for _ in range(C * S)]
    s = [torch.zeros(B, dtype=F64) for _ in range(C * S)]
    hs, cs = [], []
    for t in range(T):
        senders = torch.stack(y_in + y_c + y_out, dim=1)
        if truncate:
            senders = senders.detach()

        def net(l, senders=senders, t=t):
            return xs[t] @ weight_ih[l] + senders @ weight_hh[l] + bias[l]

        new_in = [_logistic(net(j)) for j in range(C)]
        new_out = [_logistic(net(C + C * S + j)) for j in range(C)]
        for j in range(C):
            for v in range(S):
                u = j * S + v
                s[u] = s[u] + new_in[j] * (4 / (1 + torch.exp(-net(C + u))) - 2)  # eq. (5)
                y_c[u] = new_out[j] * (2 / (1 + torch.exp(-s[u])) - 1)  # eq. (4)
        y_in, y_out = new_in, new_out
        hs.append(torch.stack(y_c, 1))
        cs.append(torch.stack(s, 1))
    return torch.stack(hs), torch.stack(cs)


def unroll(cell, xs, weights=None):
    state = cell.initial_state(xs.shape[-2], dtype=xs.dtype)
    hs, cs = [], []
    for x in xs:
        state, _ = cell.step(x, state, weights or cell.weights())
        hs.append(state.h)
        cs.append(state.c)
    return torch.stack(hs), torch.stack(cs)


def make_cell(truncate, **kwargs):
    kwargs = {"cell_bias": True, "init_range": 0.5,
              "generator": torch.Generator().manual_seed(1), **kwargs}
    return LSTM1997Cell(3, 2, 2, truncate_gradient=truncate, dtype=F64, **kwargs)


@pytest.mark.parametrize("truncate", [False, True])
def test_values_and_gradients_equal_the_unit_by_unit_reference(truncate):
    cell = make_cell(truncate)
    xs = torch.randn(6, 2, 3, dtype=F64)
    probe_h, probe_c = torch.randn(6, 2, 4, dtype=F64), torch.randn(6, 2, 4, dtype=F64)
    params = [cell.weight_ih, cell.weight_hh, cell.bias]

    hs, cs = unroll(cell, xs)
    grads = torch.autograd.grad((hs * probe_h).sum() + (cs * probe_c).sum(), params)
    ref_h, ref_c = reference_unroll(*params, xs, 2, 2, truncate)
    ref_grads = torch.autograd.grad((ref_h * probe_h).sum() + (ref_c * probe_c).sum(), params)

    assert_close(hs, ref_h, rtol=1e-12, atol=1e-12)
    assert_close(cs, ref_c, rtol=1e-12, atol=1e-12)
    for grad, ref in zip(grads, ref_grads, strict=True):
        assert_close(grad, ref, rtol=1e-10, atol=1e-12)


def test_truncation_changes_the_gradient():
    """Guards the test above: the two versions must differ, or comparing them proves nothing."""
    xs = torch.randn(6, 2, 3, dtype=F64)
    grads = []
    for truncate in (False, True):
        cell = make_cell(truncate)
        hs, _ = unroll(cell, xs)
        grads.append(torch.autograd.grad(hs[-1].sum(), cell.weight_ih)[0])
    assert (grads[0] - grads[1]).abs().max() > 1e-4


def test_gradcheck_without_truncation():
    cell = make_cell(False)
    xs = torch.randn(3, 2, 3, dtype=F64, requires_grad=True)

    def run(xs, weight_ih, weight_hh, bias):
        return unroll(cell, xs, LSTM1997Weights(weight_ih, weight_hh, bias))

    inputs = (xs, cell.weight_ih.detach().clone().requires_grad_(),
              cell.weight_hh.detach().clone().requires_grad_(),
              cell.bias.detach().clone().requires_grad_())
    assert torch.autograd.gradcheck(run, inputs)


def test_truncated_error_flows_back_only_through_the_constant_error_carrousel():
    """App. A.2 eq. (35): d s_c(t) / d s_c(t-k) ~tr 1; nothing reaches y^u(t-k)."""
    cell = make_cell(True)
    state = cell.initial_state(2, dtype=F64)
    start = [field.clone().requires_grad_() for field in state]
    state = type(state)(*start)
    for x in torch.randn(5, 2, 3, dtype=F64):
        state, _ = cell(x, state)
    d_h, d_c, d_in, d_out = torch.autograd.grad(state.c.sum(), start, materialize_grads=True)
    assert_close(d_c, torch.ones_like(d_c), rtol=0, atol=0)
    for grad in (d_h, d_in, d_out):
        assert_close(grad, torch.zeros_like(grad), rtol=0, atol=0)


def test_gates_report_blocks_per_cell_and_no_forgetting():
    cell = make_cell(False)
    state, gates = cell(torch.randn(2, 3, dtype=F64), cell.initial_state(2, dtype=F64))
    assert_close(gates.forget, torch.ones(2, 4, dtype=F64), **EXACT)
    assert_close(gates.input, state.input.repeat_interleave(2, 1), **EXACT)
    assert_close(gates.output, state.output.repeat_interleave(2, 1), **EXACT)
    assert_close(state.c, gates.input * gates.candidate, **EXACT)  # s_c(0) = 0
    assert_close(state.h, gates.output * H1.fn(state.c), **EXACT)


def test_experiment_2a_cell_is_its_internal_state():
    """No output gate, h = identity, no recurrence: y^c = s_c (§5.2)."""
    cell = LSTM1997Cell(5, 1, output_gate=False, recurrent=False, gate_bias=False,
                        g=LOGISTIC, h=IDENTITY, dtype=F64)
    assert cell.weight_hh is None and cell.bias is None and cell.num_weights == 10
    hs, cs = unroll(cell, torch.randn(4, 3, 5, dtype=F64))
    assert_close(hs, cs, **EXACT)
    x = torch.randn(3, 5, dtype=F64)
    state, _ = cell(x, cell.initial_state(3, dtype=F64))
    w = cell.weight_ih
    assert_close(state.c[:, 0], torch.sigmoid(x @ w[0]) * torch.sigmoid(x @ w[1]), **TIGHT)


def test_initialisation_is_seeded_ranged_and_sets_the_papers_gate_biases():
    def build(seed):
        return LSTM1997Cell(7, 4, 1, init_range=0.2, output_gate_bias=(-1, -2, -3, -4),
                            generator=torch.Generator().manual_seed(seed), dtype=F64)

    cell, same, other = build(3), build(3), build(4)
    assert_close(cell.weight_hh, same.weight_hh, rtol=0, atol=0)
    assert not torch.equal(cell.weight_hh, other.weight_hh)
    assert cell.weight_ih.abs().max() <= 0.2 and cell.weight_hh.abs().max() <= 0.2
    assert_close(cell.bias[cell.output_rows], torch.tensor([-1.0, -2, -3, -4], dtype=F64), **EXACT)
    assert cell.bias[cell.input_rows].abs().max() <= 0.2
    assert_close(cell.weights().bias[cell.cell_rows], torch.zeros(4, dtype=F64), **EXACT)
    assert cell.num_weights == 12 * (7 + 12) + 8


def test_population_weights_step_like_separate_cells():
    cells = [make_cell(True, generator=None) for _ in range(3)]
    for seed, cell in enumerate(cells):
        cell.reset_parameters(0.5, generator=torch.Generator().manual_seed(seed))
    stacked = LSTM1997Weights(*(torch.stack(parts) for parts in zip(
        *(cell.weights() for cell in cells), strict=True)))
    xs = torch.randn(4, 3, 2, 3, dtype=F64)  # (T, K, B, I)
    state = cells[0].initial_state(2, dtype=F64, population=3)
    for x in xs:
        state, _ = cells[0].step(x, state, stacked)
    for k, cell in enumerate(cells):
        hs, cs = unroll(cell, xs[:, k])
        assert_close(state.h[k], hs[-1], rtol=1e-13, atol=1e-13)
        assert_close(state.c[k], cs[-1], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_blocks": 0}, "num_blocks"),
    ({"block_size": True}, "block_size"),  # a bool is not a size
    ({"input_gate_bias": (-1.0,)}, "input_gate_bias"),
    ({"output_gate_bias": (-1.0, -2.0), "output_gate": False}, "output_gate"),
    ({"input_gate_bias": (-1.0, -2.0), "gate_bias": False}, "gate_bias"),
    # init_range = 0 divided the random gate biases by zero; a negative one flipped the draws
    ({"init_range": 0.0, "random_gate_bias": 0.1}, "init_range must be a number > 0"),
    ({"init_range": -0.1}, "init_range"),
    ({"random_gate_bias": -0.1}, "random_gate_bias"),
])
def test_bad_arguments_raise_value_errors(kwargs, match):
    kwargs = {"input_size": 3, "num_blocks": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        LSTM1997Cell(**kwargs)


def test_a_step_on_bad_input_raises_a_value_error_naming_it():
    cell = LSTM1997Cell(3, 2, 2, dtype=F64)
    state = cell.initial_state(5)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 3\), got \(5, 4\)"):
        cell(torch.zeros(5, 4, dtype=F64), state)
    with pytest.raises(ValueError, match="x must have the parameters' dtype"):
        cell(torch.zeros(5, 3), state)
    with pytest.raises(ValueError, match=r"state.input must have shape \(5, 2\)"):
        cell(torch.zeros(5, 3, dtype=F64), state._replace(input=torch.zeros(5, 4, dtype=F64)))


def test_init_range_bounds_the_draws():
    cell = LSTM1997Cell(50, 3, 2, init_range=0.1, cell_bias=True,
                        generator=torch.Generator().manual_seed(0), dtype=F64)
    draws = torch.cat([cell.weight_ih.flatten(), cell.weight_hh.flatten()])
    assert draws.abs().max() <= 0.1
    # Uniform on [-0.1, 0.1] has standard deviation 0.1 / sqrt(3).
    assert abs(draws.std().item() - 0.1 / math.sqrt(3)) < 0.005


def test_follows_the_cell_protocol():
    cell = LSTM1997Cell(3, 2, 2)
    assert isinstance(cell, Cell)
    assert (cell.input_size, cell.hidden_size) == (3, 4)
    state = cell.initial_state(5, dtype=F64)
    assert state.h.shape == state.c.shape == (5, 4) and state.input.shape == (5, 2)


def test_initial_state_takes_the_parameters_dtype_and_device_by_default():
    """As every other cell: a state built without arguments matches the weights (meta device,
    so the test runs without a GPU)."""
    cell = LSTM1997Cell(3, 2, 2, dtype=F64).to("meta")
    for population in (None, 4):
        state = cell.initial_state(5, population=population)
        for field in state:
            assert (field.dtype, field.device.type) == (F64, "meta")


def test_initial_state_fields_are_separate_tensors():
    """An in-place update of h must not change c, nor one gate field the other."""
    state = LSTM1997Cell(3, 2, 2, dtype=F64).initial_state(5)
    state.h.add_(1)
    state.input.add_(1)
    assert_close(state.c, torch.zeros(5, 4, dtype=F64), **EXACT)
    assert_close(state.output, torch.zeros(5, 2, dtype=F64), **EXACT)


def test_for_layer_builds_a_drop_in_layer_whose_steps_are_the_cells():
    from lstmlab.layers import LSTM

    torch.manual_seed(0)
    layer = LSTM(3, 4, cell=LSTM1997Cell.for_layer(block_size=2), dtype=torch.float64)
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    outputs, (h, c) = layer(x)
    cell = LSTM1997Cell(3, 2, 2, gate_bias=True, dtype=torch.float64)
    cell.load_state_dict({name[: -len("_l0")]: value for name, value in layer.state_dict().items()})
    state = cell.initial_state(2)
    for t in range(6):
        state, _ = cell(x[t], state)
        torch.testing.assert_close(outputs[t], state.h, rtol=0, atol=1e-12)
    torch.testing.assert_close(c[0], state.c, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="hidden_size"):
        LSTM(3, 5, cell=LSTM1997Cell.for_layer(block_size=2))
