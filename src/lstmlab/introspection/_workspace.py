"""The gates and cell states oneDNN's fused LSTM kernel keeps in its training workspace.

Shapes: T time, B batch, I input, H hidden. One forward-direction layer, no projection, float32
on CPU (the only case where torch runs oneDNN's RNN and ``torch.ops.aten.mkldnn_rnn_layer``
exists).

In training mode the kernel stores, for its own backward pass, everything it computed:
- the activated gates i, f, g, o of every step, laid out (T, B, ld) at the start of the
  workspace, with ld = 4H rounded up as oneDNN's ``get_good_ld`` does (to a 64-byte line, plus
  one line when ld is a multiple of 256 elements);
- the cell states, in a page-aligned section laid out (L + 1, T + 1, B, H) for this one layer
  (L = 1): c_t of steps t = 0 .. T-2 at [1, t + 1]; the last one, c_{T-1}, goes to the kernel's
  output ``cy`` instead.
That layout is oneDNN's, not a public contract. So nothing read here is trusted unchecked: the
gates must equal gates recomputed from scratch in the first and last batch row of the first and
the last step (whose offset (T-1) * B * ld + (B-1) * ld tests ld and both strides at once), and
the cell states must satisfy c_t = f_t * c_{t-1} + i_t * g_t at the first and the last step (the
last against ``cy``); where the cell section starts is searched once per layout. On any
mismatch the caller gets None and computes the value itself (``_reconstruct.py``,
``_recurrence.py``). Reading the workspace saves the second pass over the products (the gates)
and the T-step recurrence (the cells): a trace then costs about one training-mode forward.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmlab.introspection._weights import FusedResult, StandardWeights, step_gates

# oneDNN's RNN mode enum as torch passes it (RNN_RELU, RNN_TANH, LSTM, GRU).
_MKLDNN_LSTM_MODE = 2
_CHECK_TOLERANCE = 1e-4
_PAGE_BYTES = 4096
_MAX_CANDIDATES = 8
_HAS_LAYER_OP = hasattr(torch.ops.aten, "mkldnn_rnn_layer")


def can_read_workspace(weights: StandardWeights, x: Tensor) -> bool:
    """Whether torch runs this layer on oneDNN with a workspace we know how to read."""
    return (
        _HAS_LAYER_OP
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and weights.weight_hr is None
        and torch.backends.mkldnn.is_available()
        and torch.backends.mkldnn.enabled
        and x.numel() > 0
    )


def good_ld(width: int, itemsize: int) -> int:
    """oneDNN's leading dimension for a workspace row of ``width`` elements."""
    per_line = 64 // itemsize
    ld = -(-width // per_line) * per_line
    return ld + per_line if ld % 256 == 0 else ld


def _close(a: Tensor, b: Tensor) -> bool:
    """max |a - b| <= tol * (1 + max |b|): one reduction (allclose costs several passes and
    temporaries, which add up in a trace of a small layer); False on any NaN."""
    return bool((a - b).abs_().max() <= _CHECK_TOLERANCE * (1 + b.abs().max()))


# Where the cell section started in the last workspace of each layout (T, B, H, size): oneDNN
# places it the same way every time, so the search runs once per layout; a remembered place is
# used only after the same checks as a found one.
_CELL_STARTS: dict[tuple[int, int, int, int], int] = {}


def _cells(flat: Tensor, gates: Tensor, c0: Tensor, cy: Tensor) -> Tensor | None:
    """c (T, B, H) from the workspace ``flat`` (float view) and ``cy``, or None if not found."""
    steps, batch, width = gates.shape
    hidden_size = width // 4
    if steps == 1:
        return cy.unsqueeze(0)
    i, f, g, _ = gates.split(hidden_size, dim=-1)
    first = torch.addcmul(i[0] * g[0], f[0], c0)  # c_0 from c0, as the kernel computed it
    block = batch * hidden_size
    offset = (steps + 2) * block  # [1, 1] in (L + 1, T + 1, B, H): where c_0 sits
    stored = (steps - 1) * block
    page = _PAGE_BYTES // flat.element_size()
    layout = (steps, batch, hidden_size, flat.numel())

    def candidates():
        if layout in _CELL_STARTS:
            yield _CELL_STARTS[layout]
        starts = torch.arange(0, flat.numel() - offset - stored + 1, page)
        if starts.numel() == 0:
            return
        probes = flat[starts + offset]
        near = (probes - first[0, 0]).abs() <= _CHECK_TOLERANCE * (1 + first[0, 0].abs())
        yield from starts[near][:_MAX_CANDIDATES].tolist()

    for start in candidates():
        base = start + offset
        if base + stored + block > flat.numel():
            continue
        cells = flat[base: base + stored].view(steps - 1, batch, hidden_size)
        if _close(cells[0], first) and _close(cy, torch.addcmul(i[-1] * g[-1], f[-1], cells[-1])):
            _CELL_STARTS[layout] = start
            # slot [1, T] of the section is allocated but unused (the kernel writes its last
            # c to cy): put c_{T-1} there, so the T cell states are one view, not a copy
            flat[base + stored: base + stored + block].copy_(cy.reshape(-1))
            return flat[base: base + stored + block].view(steps, batch, hidden_size)
    return None


def workspace_run(
    weights: StandardWeights, x: Tensor, h0: Tensor, c0: Tensor
) -> FusedResult | None:
    """Run the layer in oneDNN's training mode; h (T, B, H) and, when they check out, the
    gates (T, B, 4H) and cells (T, B, H) from its workspace. None when the gates do not."""
    steps, batch, _ = x.shape
    hidden_size = weights.weight_hh.shape[1]
    gate_width = 4 * hidden_size
    bias_ih, bias_hh = weights.bias_ih, weights.bias_hh
    if bias_ih is None or bias_hh is None:
        bias_ih = bias_hh = x.new_zeros(gate_width)
    try:
        # oneDNN only keeps a workspace when autograd is on; nothing here requires grad, so no
        # graph is recorded.
        with torch.enable_grad():
            hidden, _, cy, workspace = torch.ops.aten.mkldnn_rnn_layer(
                x.contiguous(), weights.weight_ih, weights.weight_hh, bias_ih, bias_hh,
                h0.contiguous(), c0.contiguous(), False, [], _MKLDNN_LSTM_MODE, hidden_size, 1,
                True, False, False, True,
            )
    except RuntimeError:
        return None
    ld = good_ld(gate_width, x.element_size())
    if workspace is None or workspace.dtype != torch.uint8 or workspace.numel() < (
        steps * batch * ld * x.element_size()
    ):
        return None
    flat = workspace.view(x.dtype)
    gates = flat[: steps * batch * ld].view(steps, batch, ld)[..., :gate_width]
    # Rows (t, b) = (0, 0), (0, B-1), (T-1, 0), (T-1, B-1), every gate column: the last row's
    # offset, (T-1) * B * ld + (B-1) * ld, tests ld and both strides at once, the first the
    # start of the buffer, the columns the gate order. Recomputing whole steps instead would
    # cost 2/T of the forward's products at MKL's speed (~5 % of a trace at T = 100).
    rows = slice(None, None, max(batch - 1, 1))  # rows 0 and B-1 (a view, no gather)
    h_last = hidden[-2] if steps > 1 else h0
    recomputed = step_gates(weights, torch.cat([x[0, rows], x[-1, rows]]),
                            torch.cat([h0[rows], h_last[rows]]))
    if not _close(recomputed, torch.cat([gates[0, rows], gates[-1, rows]])):
        return None
    return FusedResult(hidden, gates, _cells(flat, gates, c0, cy))
