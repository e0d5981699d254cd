"""LayerNorm-LSTM against an independent implementation written here from Ba et al.'s equations
with ``torch.nn.LayerNorm`` modules, gradcheck in float64, and as ``cell=`` of the drop-in
LSTM (parameters named torch's way, a trace)."""

import torch
from torch import nn
from torch.testing import assert_close

from lstmlab.cells import LayerNormLSTMCell
from lstmlab.introspection import decompose, trace
from lstmlab.layers import LSTM, unroll

B, T, I, H = 3, 6, 4, 5


def _reference_run(cell: LayerNormLSTMCell, xs: torch.Tensor) -> torch.Tensor:
    """Ba et al.'s LN-LSTM from nn.LayerNorm modules and nn.Linear products, every gain and
    bias copied from ``cell``: (f, i, o, g) = LN(W_h h) + LN(W_x x) + b, c = s(f) c + s(i)
    tanh(g), h = s(o) tanh(LN(c))."""
    norm_x, norm_h, norm_c = nn.LayerNorm(4 * H), nn.LayerNorm(4 * H), nn.LayerNorm(H)
    for norm, name in ((norm_x, "ih"), (norm_h, "hh"), (norm_c, "cell")):
        norm.weight = getattr(cell, f"ln_{name}_weight")
        norm.bias = getattr(cell, f"ln_{name}_bias")
    h = c = torch.zeros(xs.shape[1], H)
    outputs = []
    for x in xs:
        total = norm_x(x @ cell.weight_ih.T) + norm_h(h @ cell.weight_hh.T) \
            + cell.bias_ih + cell.bias_hh
        i, f, g, o = total[:, :H], total[:, H:2 * H], total[:, 2 * H:3 * H], total[:, 3 * H:]
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(norm_c(c))
        outputs.append(h)
    return torch.stack(outputs)


def test_equals_independent_implementation_with_gradients():
    cell = LayerNormLSTMCell(I, H)
    with torch.no_grad():  # gains and biases away from 1 and 0, so each one matters
        for name in ("ih", "hh", "cell"):
            getattr(cell, f"ln_{name}_weight").uniform_(0.5, 1.5)
            getattr(cell, f"ln_{name}_bias").uniform_(-0.5, 0.5)
    xs = torch.randn(T, B, I)
    ours = unroll(cell, xs).outputs
    ours.sum().backward()
    ours_grads = [p.grad.clone() for p in cell.parameters()]
    cell.zero_grad()
    reference = _reference_run(cell, xs)
    reference.sum().backward()
    assert_close(ours, reference, rtol=1e-6, atol=1e-6)
    for mine, theirs in zip(ours_grads, (p.grad for p in cell.parameters()), strict=True):
        assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_gradcheck_float64():
    cell = LayerNormLSTMCell(3, 3, dtype=torch.float64)
    names = [name for name, _ in cell.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    xs = torch.randn(3, 2, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)

    def run(xs, h, c, *tensors):
        parameters = dict(zip(names, tensors, strict=True))
        state, out = (h, c), []
        for x in xs:
            state, gates = torch.func.functional_call(cell, parameters, (x, state))
            out.extend(state)
        return tuple(out)

    assert torch.autograd.gradcheck(run, (xs, h0, c0, *params), fast_mode=True)


def test_drop_in_layer_names_and_trace():
    torch.manual_seed(1)
    layer = LSTM(I, H, num_layers=2, cell=LayerNormLSTMCell)
    names = {name for name, _ in layer.named_parameters()}
    assert {"weight_ih_l1", "ln_cell_weight_l0", "ln_hh_bias_l1"} <= names
    x = torch.randn(T, B, I)
    output, (h_n, c_n) = layer(x)
    layer0 = trace(layer, x)[0]
    assert_close(layer0.hidden, unroll(layer.bound_cell(0), x).outputs)
    parts = decompose(layer0)  # c_T = (prod f) c_0 + sum_t (prod f) i_t g_t holds for it too
    assert_close(parts.initial + parts.contributions.sum(0), c_n[0], rtol=1e-5, atol=1e-6)
    assert_close(output[-1], h_n[1])
