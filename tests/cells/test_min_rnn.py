"""minGRU and minLSTM: the parallel scans equal the step loop (a carried state, chunks, every
gradient), gradcheck in float64 for the step and both scans, the layers carry h_n."""

import pytest
import torch
from torch.testing import assert_close

from lstmlab.cells import MinGRUCell, MinLSTMCell
from lstmlab.cells.min_rnn import gpos, scan_linear, scan_log
from lstmlab.cells.state import HiddenState
from lstmlab.layers import MinGRU, MinLSTM, unroll

B, I, H = 3, 4, 6
CELLS = [MinGRUCell, MinLSTMCell]


def _grads(cell, xs, h0, run):
    xs, h0 = xs.clone().requires_grad_(), h0.clone().requires_grad_()
    cell.zero_grad()
    outputs = run(xs, h0)
    weights = torch.linspace(-1, 1, outputs.numel(), dtype=outputs.dtype).view_as(outputs)
    (outputs * weights).sum().backward()
    return outputs.detach(), xs.grad, h0.grad, [p.grad.clone() for p in cell.parameters()]


@pytest.mark.parametrize("cell_class", CELLS)
@pytest.mark.parametrize("method,chunk_size,dtype,tolerance", [
    ("linear", None, torch.float32, 1e-6),
    ("linear", 7, torch.float32, 1e-6),
    ("linear", 1, torch.float32, 1e-6),  # T = 1 chunks: the block length is 1
    ("log", None, torch.float64, 1e-10),
    ("log", 7, torch.float64, 1e-10),
    ("log", 7, torch.float32, 1e-5),  # float32 log space: see the module docstring
])
def test_parallel_equals_step_with_carried_state(cell_class, method, chunk_size, dtype,
                                                 tolerance):
    torch.manual_seed(0)
    cell = cell_class(I, H, dtype=dtype)
    xs = 2 * torch.randn(23, B, I, dtype=dtype)
    h0 = torch.randn(B, H, dtype=dtype)  # either sign: it enters the scan linearly
    step = _grads(cell, xs, h0, lambda x, h: unroll(cell, x, HiddenState(h)).outputs)
    scan = _grads(cell, xs, h0, lambda x, h: cell.parallel(
        x, HiddenState(h), method=method, chunk_size=chunk_size).outputs)
    assert_close(scan[0], step[0], rtol=tolerance, atol=tolerance)
    # gradients are sums over T * B terms, accumulated in another order by the two paths
    slack = 10 * tolerance if dtype == torch.float32 else tolerance
    for a, b in zip(step[1:3] + tuple(step[3]), scan[1:3] + tuple(scan[3]), strict=True):
        assert_close(b, a, rtol=slack, atol=slack)


@pytest.mark.parametrize("cell_class", CELLS)
def test_long_sequence_float32_linear_scan(cell_class):
    """At T = 1024 the blocked scan is as close to the float64 loop as the float32 loop is; the
    log-space scan, unchunked, is over 10x further (why the blocked scan is the default)."""
    torch.manual_seed(1)
    cell = cell_class(I, H)
    xs, h0 = 2 * torch.randn(1024, B, I), torch.rand(B, H)
    with torch.no_grad():
        truth = unroll(cell.double(), xs.double(), HiddenState(h0.double())).outputs
        cell.float()
        loop = unroll(cell, xs, HiddenState(h0)).outputs
        scanned = cell.parallel(xs, HiddenState(h0)).outputs
        logged = cell.parallel(xs, HiddenState(h0), method="log").outputs
    loop_error = (loop.double() - truth).abs().max()
    scan_error = (scanned.double() - truth).abs().max()
    assert scan_error <= max(2 * loop_error, 1e-6)
    assert (logged.double() - truth).abs().max() > 10 * scan_error
    assert_close(scanned, loop, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cell_class", CELLS)
def test_chunks_carry_the_state(cell_class):
    """Two calls, the second from the first's final state, = one call = the step loop."""
    torch.manual_seed(2)
    cell = cell_class(I, H)
    xs, h0 = torch.randn(30, B, I), torch.randn(B, H)
    whole = cell.parallel(xs, HiddenState(h0))
    first = cell.parallel(xs[:11], HiddenState(h0))
    second = cell.parallel(xs[11:], first.state)
    assert_close(torch.cat([first.outputs, second.outputs]), whole.outputs)
    assert_close(whole.state.h, unroll(cell, xs, HiddenState(h0)).state.h,
                 rtol=1e-6, atol=1e-6)


def test_carried_state_is_not_transformed():
    """The public listings' mistake, g(h_0) carried for h_0: every later h_t moves by
    (g(h_0) - h_0) * prod_{s<=t} a_s, 0.5 * prod a for h_0 >= 0 (0.27 after one step with
    a = 0.54). Ours carries h_0 itself; the test tells the two apart."""
    torch.manual_seed(3)
    cell = MinGRUCell(I, H, dtype=torch.float64)
    xs, h0 = torch.randn(5, B, I, dtype=torch.float64), torch.rand(B, H, dtype=torch.float64)
    sequential = unroll(cell, xs, HiddenState(h0)).outputs
    for method in ("linear", "log"):
        ours = cell.parallel(xs, HiddenState(h0), method=method).outputs
        assert_close(ours, sequential, rtol=1e-12, atol=1e-12)
    mistaken = cell.parallel(xs, HiddenState(gpos(h0)), method="log").outputs
    pre_z = torch.nn.functional.linear(xs, cell.weight_ih, cell.bias_ih).chunk(2, dim=2)[0]
    decay = torch.sigmoid(-pre_z).cumprod(0)  # prod_{s<=t} (1 - z_s)
    assert_close(mistaken - sequential, 0.5 * decay, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell_class", CELLS)
def test_gradcheck_step_and_scans(cell_class):
    torch.manual_seed(4)
    cell = cell_class(3, 2, dtype=torch.float64)
    names = [name for name, _ in cell.named_parameters()]
    xs = torch.randn(5, 2, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]

    def step(xs, h0, *tensors):
        parameters = dict(zip(names, tensors, strict=True))
        state, out = HiddenState(h0), []
        for x in xs:
            state, gates = torch.func.functional_call(cell, parameters, (x, state))
            out.extend([state.h, *gates])
        return tuple(out)

    def parallel(method, chunk_size):
        def run(xs, h0, *tensors):
            parameters = dict(zip(names, tensors, strict=True))
            return _call_parallel(cell, parameters, xs, h0, method, chunk_size)
        return run

    assert torch.autograd.gradcheck(step, (xs, h0, *params))
    for method, chunk_size in [("linear", None), ("linear", 2), ("log", None), ("log", 3)]:
        assert torch.autograd.gradcheck(parallel(method, chunk_size), (xs, h0, *params))


def _call_parallel(cell, parameters, xs, h0, method, chunk_size):
    """``cell.parallel`` with ``parameters`` swapped in (functional_call runs only forward)."""
    saved = {name: getattr(cell, name) for name in parameters}
    try:
        for name, tensor in parameters.items():
            cell._parameters[name] = tensor
        scanned = cell.parallel(xs, HiddenState(h0), method=method, chunk_size=chunk_size)
    finally:
        for name, tensor in saved.items():
            cell._parameters[name] = tensor
    return (scanned.outputs, *scanned.gates)


def test_scans_agree_on_any_sign():
    torch.manual_seed(5)
    a, b = torch.rand(17, 2, 3, dtype=torch.float64), torch.rand(17, 2, 3, dtype=torch.float64)
    h0 = torch.randn(2, 3, dtype=torch.float64)
    h, expected = h0, []
    for t in range(17):
        h = a[t] * h + b[t]
        expected.append(h)
    expected = torch.stack(expected)
    assert_close(scan_linear(a, b, h0), expected, rtol=1e-12, atol=1e-12)
    assert_close(scan_log(a.log(), b.log(), h0, 4), expected, rtol=1e-12, atol=1e-12)
    assert_close(scan_linear(a, -b, h0, 5), -scan_linear(a, b, -h0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layer_class", [MinGRU, MinLSTM])
def test_layer_parallel_equals_loop_and_carries_h(layer_class):
    torch.manual_seed(6)
    layer = layer_class(I, H, num_layers=2, bidirectional=True, batch_first=True)
    x, h0 = torch.randn(B, 12, I), torch.randn(4, B, H)
    out, h_n = layer(x, h0)
    layer.parallel = False
    out_loop, h_loop = layer(x, h0)
    assert_close(out, out_loop, rtol=1e-6, atol=1e-6)
    assert_close(h_n, h_loop, rtol=1e-6, atol=1e-6)
    names = {name for name, _ in layer.named_parameters()}
    assert names == {f"{p}_l{k}{d}" for p in ("weight_ih", "bias_ih") for k in (0, 1)
                     for d in ("", "_reverse")}


@pytest.mark.parametrize("parallel", [True, False], ids=["scan", "loop"])
@pytest.mark.parametrize("layer_class", [MinGRU, MinLSTM])
def test_dropout_acts_between_layers_only_in_training(layer_class, parallel):
    """dropout=1 zeroes layer 1's input in training mode: the same as evaluating with layer 1's
    input weights zeroed (both directions), and nothing in eval mode."""
    torch.manual_seed(8)
    layer = layer_class(I, H, num_layers=2, bidirectional=True, dropout=1.0,
                        dtype=torch.float64, parallel=parallel)
    x = torch.randn(7, B, I, dtype=torch.float64)
    out, h_n = layer.train()(x)
    kept, _ = layer.eval()(x)
    with torch.no_grad():
        layer.weight_ih_l1.zero_()
        layer.weight_ih_l1_reverse.zero_()
    expected, expected_h = layer(x)
    assert_close(out, expected, rtol=1e-12, atol=1e-12)
    assert_close(h_n, expected_h, rtol=1e-12, atol=1e-12)
    assert (kept - expected).abs().max() > 1e-3  # eval mode keeps layer 1's input


def test_bad_method_named():
    with pytest.raises(ValueError, match='method must be "linear" or "log"'):
        MinGRUCell(I, H).parallel(torch.randn(3, B, I), method="cuda")


@pytest.mark.parametrize("cell_class", CELLS)
@pytest.mark.parametrize("method", ["linear", "log"])
def test_parallel_gates_equal_the_recorded_steps(cell_class, method):
    """What ``unroll(record=True)`` records step by step, the scan returns for all steps."""
    torch.manual_seed(7)
    cell = cell_class(I, H, dtype=torch.float64)
    xs, h0 = torch.randn(9, B, I, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)
    recording = unroll(cell, xs, HiddenState(h0), record=True).recording
    scanned = cell.parallel(xs, HiddenState(h0), method=method)
    assert type(scanned.gates) is type(recording.gates)
    for a, b in zip(scanned.gates, recording.gates, strict=True):
        assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert_close(scanned.outputs, recording.states.h, rtol=1e-12, atol=1e-12)
