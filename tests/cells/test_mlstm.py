"""mLSTM against the reference, xlstm's PyTorch backends (``recurrent_step_stabilized_simple``
and ``parallel_stabilized_simple``), and its parallel form against its step.

The reference functions take q, k (unscaled), v (B, K, S, D) and the gate pre-activations
(B, K, S, 1); the test computes them from a copy of our ``weight_ih``/``bias_ih`` with the same
split, and multiplies the reference's h~ by our output gate, so every gradient compares.
"""

import pytest
import torch
import torch.nn.functional as F
from cell_references import require
from torch.testing import assert_close

from lstmlab.cells import MLSTMCell, MLSTMState
from lstmlab.layers import MLSTM, unroll

B, T, I, H, K = 2, 6, 5, 8, 2
D = H // K
# float32 at torch's initialization, to 1e-6; float64 with every weight tripled (gates far
# from 1/2, the stabilizer moving), to 1e-12: in float32 those larger values round beyond 1e-6 in
# the input gradient, in another order in the two codes (equal to 1e-12 in float64)
PRECISIONS = pytest.mark.parametrize("dtype,scale,tolerance", [
    (torch.float32, 1.0, 1e-6), (torch.float64, 3.0, 1e-12)])


@pytest.fixture
def default_dtype(request):
    previous = torch.get_default_dtype()
    yield lambda dtype: torch.set_default_dtype(dtype)
    torch.set_default_dtype(previous)


def _split(x, weight, bias):
    """The reference's inputs from ours: q, k, v (B, K, T, D); pre_i, pre_f (B, K, T, 1);
    o (T, B, H)."""
    q, k, v, pre_i, pre_f, pre_o = F.linear(x, weight, bias).split([H, H, H, K, K, H], -1)
    heads = [t.view(T, B, K, D).permute(1, 2, 0, 3) for t in (q, k, v)]
    gates = [t.permute(1, 2, 0).unsqueeze(-1) for t in (pre_i, pre_f)]
    return (*heads, *gates, torch.sigmoid(pre_o))


def _make(seed, scale):
    torch.manual_seed(seed)
    cell = MLSTMCell(I, H, num_heads=K)
    with torch.no_grad():
        cell.weight_ih.mul_(scale)
        cell.bias_ih.mul_(scale)
    return cell, torch.randn(T, B, I), torch.randn(T, B, H)


def _ours(cell, xs, weights, run):
    x = xs.clone().requires_grad_()
    cell.zero_grad()
    outputs = run(x)
    (outputs * weights).sum().backward()
    return outputs.detach(), x.grad, cell.weight_ih.grad.clone(), cell.bias_ih.grad.clone()


def _theirs(cell, xs, weights, run):
    x = xs.clone().requires_grad_()
    weight = cell.weight_ih.detach().clone().requires_grad_()
    bias = cell.bias_ih.detach().clone().requires_grad_()
    q, k, v, pre_i, pre_f, o = _split(x, weight, bias)
    h_tilde = run(q, k, v, pre_i, pre_f)  # (B, K, T, D)
    outputs = o * h_tilde.permute(2, 0, 1, 3).reshape(T, B, H)
    (outputs * weights).sum().backward()
    return outputs.detach(), x.grad, weight.grad, bias.grad


@PRECISIONS
def test_step_equals_xlstm_recurrent_step(default_dtype, dtype, scale, tolerance):
    require("xlstm")
    from xlstm.blocks.mlstm.backends import recurrent_step_stabilized_simple

    default_dtype(dtype)
    cell, xs, weights = _make(0, scale)
    ours = _ours(cell, xs, weights, lambda x: unroll(cell, x).outputs)

    def reference(q, k, v, pre_i, pre_f):
        C, n, m = torch.zeros(B, K, D, D), torch.zeros(B, K, D, 1), torch.zeros(B, K, 1, 1)
        outputs = []
        for t in range(T):
            h, (C, n, m) = recurrent_step_stabilized_simple(
                # clones: the reference squeezes its q, k, v in place
                C, n, m, q[:, :, t:t + 1].clone(), k[:, :, t:t + 1].clone(),
                v[:, :, t:t + 1].clone(),
                pre_i[:, :, t:t + 1], pre_f[:, :, t:t + 1])
            outputs.append(h.reshape(B, K, D))
        return torch.stack(outputs, dim=2)

    theirs = _theirs(cell, xs, weights, reference)
    for a, b in zip(ours, theirs, strict=True):
        assert_close(a, b, rtol=tolerance, atol=tolerance)


@PRECISIONS
def test_parallel_equals_xlstm_parallel(default_dtype, dtype, scale, tolerance):
    require("xlstm")
    from xlstm.blocks.mlstm.backends import parallel_stabilized_simple

    default_dtype(dtype)
    cell, xs, weights = _make(1, scale)
    no_memory = cell.initial_state(B)._replace(m=torch.full((B, K), float("-inf")))
    ours = _ours(cell, xs, weights, lambda x: cell.parallel(x, no_memory).outputs)
    theirs = _theirs(cell, xs, weights, lambda q, k, v, i, f: parallel_stabilized_simple(
        q, k, v, i, f))
    for a, b in zip(ours, theirs, strict=True):
        assert_close(a, b, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("eps", [1e-6, 0.0])
def test_parallel_equals_step_with_carried_state(eps):
    torch.manual_seed(2)
    cell = MLSTMCell(I, H, num_heads=K, eps=eps, dtype=torch.float64)
    xs = 2 * torch.randn(2 * T, B, I, dtype=torch.float64)
    _, start, _ = unroll(cell, xs[:T])  # a reachable carried state
    outputs, final, recording = unroll(cell, xs[T:], start, record=True)
    parallel = cell.parallel(xs[T:], start)
    assert_close(parallel.outputs, outputs, rtol=1e-10, atol=1e-12)
    for a, b in zip(parallel.state, final, strict=True):
        assert_close(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(parallel.gates, recording.gates, strict=True):
        assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_gradcheck_step_and_parallel():
    torch.manual_seed(3)
    cell = MLSTMCell(3, 4, num_heads=2, dtype=torch.float64)
    names = [name for name, _ in cell.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    xs = torch.randn(3, 2, 3, dtype=torch.float64, requires_grad=True)
    _, start, _ = unroll(cell, torch.randn(2, 2, 3, dtype=torch.float64))
    start = [t.detach().clone().requires_grad_() for t in start]

    def step(xs, *tensors):
        parameters = dict(zip(names, tensors[:len(names)], strict=True))
        state, out = MLSTMState(*tensors[len(names):]), []
        for x in xs:
            state, _ = torch.func.functional_call(cell, parameters, (x, state))
            out.extend(state)
        return tuple(out)

    def parallel(xs, *tensors):
        saved = dict(cell._parameters)
        try:
            cell._parameters.update(zip(names, tensors[:len(names)], strict=True))
            result = cell.parallel(xs, MLSTMState(*tensors[len(names):]))
        finally:
            cell._parameters.update(saved)
        return (result.outputs, *result.state)

    assert torch.autograd.gradcheck(step, (xs, *params, *start), fast_mode=True)
    assert torch.autograd.gradcheck(parallel, (xs, *params, *start), fast_mode=True)


def test_layer_chunks_equal_whole_and_loop():
    torch.manual_seed(4)
    layer = MLSTM(I, H, num_layers=2, num_heads=K, batch_first=True)
    x = torch.randn(B, 10, I)
    whole, state = layer(x)
    first, middle = layer(x[:, :4])
    second, end = layer(x[:, 4:], middle)
    assert_close(torch.cat([first, second], 1), whole, rtol=1e-5, atol=1e-6)
    layer.parallel = False
    loop, loop_state = layer(x)
    assert_close(loop, whole, rtol=1e-5, atol=1e-6)
    for a, b in zip(loop_state[1], state[1], strict=True):
        assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert {"weight_ih_l0", "bias_ih_l1"} == {n for n, _ in layer.named_parameters()} & {
        "weight_ih_l0", "bias_ih_l1"}
