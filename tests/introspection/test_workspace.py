"""The gates read from oneDNN's workspace are the gates, and the check guarding them works."""

from __future__ import annotations

import pytest
import torch

from lstmlab.introspection.fused import run_fused, standard_weights, step_gates
from lstmlab.introspection.reconstruct import reconstruct_gates
from lstmlab.introspection.recurrence import loop_recurrence

needs_workspace = pytest.mark.skipif(
    not (hasattr(torch.ops.aten, "mkldnn_rnn_layer") and torch.backends.mkldnn.is_available()),
    reason="torch built without oneDNN's RNN layer",
)


@needs_workspace
@pytest.mark.parametrize("hidden_size", [6, 64, 100])  # ld padded, ld % 256 == 0 bumped, odd
def test_workspace_gates_equal_reconstruction(hidden_size):
    generator = torch.Generator().manual_seed(hidden_size)
    model = torch.nn.LSTM(7, hidden_size)
    weights = standard_weights(model, 0, 0)
    x = torch.randn(11, 3, 7, generator=generator)
    h0 = torch.randn(3, hidden_size, generator=generator)
    c0 = torch.randn(3, hidden_size, generator=generator)
    fast = run_fused(weights, x, h0, c0, read_gates=True)
    assert fast.gates is not None, "the workspace path was not taken on a float32 CPU model"
    plain = run_fused(weights, x, h0, c0, read_gates=False)
    assert plain.gates is None
    torch.testing.assert_close(fast.hidden, plain.hidden, rtol=0, atol=1e-6)
    torch.testing.assert_close(fast.gates, reconstruct_gates(weights, x, plain.hidden, h0),
                               rtol=0, atol=1e-5)
    assert fast.cell is not None, "the cell states were not found in the workspace"
    i, f, g, _ = fast.gates.chunk(4, dim=-1)
    torch.testing.assert_close(fast.cell, loop_recurrence(f, i * g, c0), rtol=0, atol=1e-5)


@needs_workspace
@pytest.mark.parametrize("steps", [1, 2, 3])
def test_workspace_cells_of_short_sequences(steps):
    generator = torch.Generator().manual_seed(steps)
    model = torch.nn.LSTM(2, 5)
    x = torch.randn(steps, 4, 2, generator=generator)
    c0 = torch.randn(4, 5, generator=generator)
    fast = run_fused(standard_weights(model, 0, 0), x, torch.zeros(4, 5), c0)
    assert fast.cell is not None
    i, f, g, _ = fast.gates.chunk(4, dim=-1)
    torch.testing.assert_close(fast.cell, loop_recurrence(f, i * g, c0), rtol=0, atol=1e-6)


def test_no_workspace_for_float64_or_projection():
    model = torch.nn.LSTM(3, 4, proj_size=2)
    x = torch.randn(5, 2, 3)
    weights = standard_weights(model, 0, 0)
    assert run_fused(weights, x, torch.zeros(2, 2), torch.zeros(2, 4)).gates is None
    model64 = torch.nn.LSTM(3, 4).double()
    weights = standard_weights(model64, 0, 0)
    assert run_fused(weights, x.double(), torch.zeros(2, 4).double(),
                     torch.zeros(2, 4).double()).gates is None


def test_step_gates_are_torch_lstm_cell_gates():
    cell = torch.nn.LSTMCell(3, 4).double()
    model = torch.nn.LSTM(3, 4).double()
    model.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    c = torch.randn(2, 4, dtype=torch.float64)
    i, f, g, o = step_gates(standard_weights(model, 0, 0), x, h).chunk(4, dim=-1)
    h_next, c_next = cell(x, (h, c))
    torch.testing.assert_close(c_next, f * c + i * g, rtol=0, atol=1e-14)
    torch.testing.assert_close(h_next, o * torch.tanh(f * c + i * g), rtol=0, atol=1e-14)


@needs_workspace
def test_workspace_is_read_under_no_grad_and_inference_mode():
    model = torch.nn.LSTM(3, 4)
    weights, x, zeros = standard_weights(model, 0, 0), torch.randn(5, 2, 3), torch.zeros(2, 4)
    reference = run_fused(weights, x, zeros, zeros, read_gates=False).hidden
    for context in (torch.no_grad, torch.inference_mode):
        with context():
            result = run_fused(weights, x, zeros, zeros)
        assert result.gates is not None
        torch.testing.assert_close(result.hidden, reference, rtol=0, atol=1e-6)


@needs_workspace
@pytest.mark.parametrize("break_what", ["gate layout", "cell section"])
def test_a_misread_workspace_falls_back_to_reconstruction(monkeypatch, lstm_reference,
                                                          break_what):
    """If oneDNN ever lays its workspace out differently, the checks reject it and the trace
    is computed the plain way: still the right numbers."""
    from lstmlab.introspection import trace, workspace

    monkeypatch.setattr(workspace, "_CELL_STARTS", {})  # no place remembered from before
    if break_what == "gate layout":
        monkeypatch.setattr(workspace, "good_ld", lambda width, itemsize: width + 48)
    else:
        monkeypatch.setattr(workspace, "_PAGE_BYTES", 4096 + 4)
    generator = torch.Generator().manual_seed(9)
    model = torch.nn.LSTM(3, 64)
    x = torch.randn(6, 2, 3, generator=generator)
    weights, zeros = standard_weights(model, 0, 0), torch.zeros(2, 64)
    result = run_fused(weights, x, zeros, zeros)
    assert result.cell is None
    assert (result.gates is None) == (break_what == "gate layout")
    layer, reference = trace(model, x)[0], lstm_reference(model, x)[(0, 0)]
    torch.testing.assert_close(layer.cell, reference["c"], rtol=0, atol=1e-5)
    torch.testing.assert_close(layer.forget, reference["f"], rtol=0, atol=1e-5)


@needs_workspace
def test_a_remembered_cell_section_is_checked_before_use(monkeypatch):
    """The search for the cell section runs once per layout; a remembered start that does not
    check out (here: a wrong one planted) is passed over and the search finds the right one."""
    from lstmlab.introspection import workspace

    generator = torch.Generator().manual_seed(4)
    model = torch.nn.LSTM(3, 8)
    x = torch.randn(7, 5, 3, generator=generator)
    c0 = torch.randn(5, 8, generator=generator)
    weights = standard_weights(model, 0, 0)
    monkeypatch.setattr(workspace, "_CELL_STARTS", {})
    found = run_fused(weights, x, torch.zeros(5, 8), c0)
    (layout, start), = workspace._CELL_STARTS.items()
    workspace._CELL_STARTS[layout] = start + 1024  # one page off
    again = run_fused(weights, x, torch.zeros(5, 8), c0)
    assert workspace._CELL_STARTS[layout] == start
    i, f, g, _ = again.gates.chunk(4, dim=-1)
    expected = loop_recurrence(f, i * g, c0)
    torch.testing.assert_close(found.cell, expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(again.cell, expected, rtol=0, atol=1e-6)
