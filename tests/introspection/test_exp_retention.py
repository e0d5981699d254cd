"""Retention under exponential gating: the sLSTM trace's shares, exact against the
decomposition of c_T and n_T, against the forget gates recomputed from the weights, and
independent of the stabilizer."""

import torch
import torch.nn.functional as F
from torch.testing import assert_close

from lstmlab.cells import SLSTMCell, SLSTMState
from lstmlab.introspection import decompose, exp_retention, trace_slstm
from lstmlab.layers import SLSTM, unroll

B, T, I, H = 3, 9, 4, 6
F64 = torch.float64


def _cell(seed=0):
    torch.manual_seed(seed)
    cell = SLSTMCell(I, H, num_heads=2, dtype=F64)
    with torch.no_grad():
        for parameter in cell.parameters():
            parameter.mul_(3)  # input gates far apart, so the stabilizer moves
    return cell


def test_weights_reconstruct_the_normalized_memory_and_the_output():
    """h_T = o_T * (sum_t weight_t z_t + initial_weight c_0 / n_0), the weights summing to 1."""
    cell = _cell()
    xs = torch.randn(T + 4, B, I, dtype=F64)
    _, start, _ = unroll(cell, xs[:4])  # a carried state with n_0 > 0
    layer = trace_slstm(cell, xs[4:], start)[0]
    shares = exp_retention(layer)
    memory = (shares.weight * layer.candidate).sum(0) + shares.initial_weight * start.c / start.n
    assert_close(memory, layer.cell[-1] / layer.normalizer[-1], rtol=1e-12, atol=1e-12)
    assert_close(layer.output[-1] * memory, layer.hidden[-1], rtol=1e-12, atol=1e-12)
    total = shares.weight.sum(0) + shares.initial_weight
    assert_close(total, torch.ones_like(total), rtol=1e-12, atol=1e-12)
    assert (shares.weight >= 0).all() and (shares.initial_weight > 0).all()


def test_decomposition_holds_with_stabilized_gates():
    """c_T = (prod f') c_0 + sum_t (prod_{s>t} f') i' z, the sigmoid LSTM's decomposition, holds
    term by term for the stabilized states (and from the empty state, where f'_1 = 0)."""
    cell = _cell(1)
    xs = torch.randn(T, B, I, dtype=F64)
    layer = trace_slstm(cell, xs)[0]
    parts = decompose(layer)
    assert_close(parts.initial + parts.contributions.sum(0), layer.cell[-1], rtol=1e-12,
                 atol=1e-12)
    shares = exp_retention(layer)
    assert_close(parts.contributions / layer.normalizer[-1],
                 shares.weight * layer.candidate, rtol=1e-12, atol=1e-12)
    assert_close(shares.initial_weight, torch.zeros(B, H, dtype=F64))


def test_forget_product_is_the_true_forget_gates_product():
    """prod_{s>t} f_s with f_s = sigmoid(pre_f_s) recomputed from the weights and the traced h:
    the stabilizer is gone from it."""
    cell = _cell(2)
    xs = torch.randn(T, B, I, dtype=F64)
    layer = trace_slstm(cell, xs)[0]
    h_prev = torch.cat([layer.initial_hidden[None], layer.hidden[:-1]])
    pre = F.linear(xs, cell.weight_ih, cell.bias_ih) + cell.bias_hh \
        + torch.stack([cell.recurrent(h) for h in h_prev])
    log_f = F.logsigmoid(pre.chunk(4, dim=2)[1])
    expected = torch.stack([log_f[t + 1:].sum(0).exp() for t in range(T)])
    assert_close(exp_retention(layer).forget_product, expected, rtol=1e-10, atol=1e-14)


def test_shares_do_not_depend_on_the_stabilizer():
    cell = _cell(3)
    xs = torch.randn(T + 3, B, I, dtype=F64)
    _, start, _ = unroll(cell, xs[:3])
    shift = 4 * torch.randn(B, H, dtype=F64)
    shifted = SLSTMState(start.h, start.c * (-shift).exp(), start.n * (-shift).exp(),
                         start.m + shift)
    a = exp_retention(trace_slstm(cell, xs[3:], start)[0])
    b = exp_retention(trace_slstm(cell, xs[3:], shifted)[0])
    for x, y in zip(a, b, strict=True):
        assert_close(x, y, rtol=1e-10, atol=1e-12)


def test_layer_trace_follows_the_model_both_directions():
    torch.manual_seed(4)
    model = SLSTM(I, H, num_layers=2, bidirectional=True, num_heads=3, dtype=F64)
    x = torch.randn(T, B, I, dtype=F64)
    output, (h_n, c_n, n_n, m_n) = model(x)
    traced = trace_slstm(model, x)
    assert_close(torch.cat([traced[1].hidden, traced.layers[1][1].hidden], 2), output)
    backward = traced.layers[1][1]
    assert_close(backward.cell[0], c_n[3])  # the reverse direction ends at position 0
    shares = exp_retention(backward)
    memory = (shares.weight * backward.candidate).sum(0)
    assert_close(memory, backward.cell[0] / backward.normalizer[0], rtol=1e-12, atol=1e-12)
