"""``trace(model, x)``: every gate and state of any LSTM at every step, as a ``Trace``.

Accepts a plain ``torch.nn.LSTM`` as it is, and our ``lstmlab.layers.LSTM`` with any cell.
Shapes: T time, B batch, I input, H hidden, P projection (P = H without ``proj_size``),
L layers, D directions.

How each layer and direction is traced:
- the standard cell (torch's module, or ours with ``cell=LSTMCell``): torch's fused kernel runs
  the layer (``fused.py``); the gates and cell states come from the kernel's own workspace where
  that can be read and checked (``workspace.py``), otherwise the gates are reconstructed from
  the returned h sequence in one pass of batched products (``reconstruct.py``) and
  c_t = f_t * c_{t-1} + i_t * g_t by the faster exact solver of ``recurrence.py``. No per-step
  Python loop over the products.
- a variant cell (peephole, CIFG, 1997, ...): ``unroll(cell, x, record=True)``, which stacks the
  gates every step returns.
Layer l > 0 reads the concatenated (forward, reverse) h of layer l-1, as torch does; dropout
between layers acts only in training mode, so tracing a model in training mode with dropout > 0
is refused (the trace would not be the model's computation).

Variable lengths (a ``PackedSequence``, or a padded x with ``lengths``): sequence b holds steps
0 .. lengths[b]-1; the reverse direction reads it from lengths[b]-1 down to 0, as torch's
packed kernel does. Each direction runs in *processing order* (the reverse one on each sequence
flipped within its length), so the forward-direction kernel serves both; steps past a
sequence's end are computed on padding, then masked: their values are zero and
``LayerTrace.mask`` is False there. A trace is for analysis: it holds no autograd graph.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from lstmlab.cells.lstm import LSTMCell
from lstmlab.introspection.fused import run_fused, standard_weights
from lstmlab.introspection.reconstruct import reconstruct_gates, split_gates
from lstmlab.introspection.recurrence import linear_recurrence
from lstmlab.introspection.trace import LayerTrace, Trace
from lstmlab.layers.unroll import check_lengths, unroll


def is_standard_lstm(model: nn.Module) -> bool:
    """True for torch.nn.LSTM and for our LSTM with the standard cell (torch's equations)."""
    if isinstance(model, nn.LSTM):
        return True
    return getattr(model, "mode", None) == "LSTM" and getattr(model, "cell", None) is LSTMCell


def check_model(model: nn.Module) -> None:
    """ValueError unless ``model`` is an LSTM stack we can trace in its current mode."""
    if getattr(model, "mode", None) != "LSTM" or not hasattr(model, "num_layers"):
        raise ValueError(
            f"model must be a torch.nn.LSTM or an lstmlab.layers.LSTM, got {type(model).__name__}"
        )
    if model.training and model.dropout > 0 and model.num_layers > 1:
        raise ValueError(
            f"model has dropout={model.dropout} between layers and is in training mode, so a "
            "trace would not show the computation it is analysed for; call model.eval() first"
        )


def lengths_mask(lengths: Tensor, steps: int) -> Tensor:
    """(T, B) bool: True where step t lies inside sequence b (t < lengths[b])."""
    return torch.arange(steps, device=lengths.device)[:, None] < lengths[None, :]


def processing_index(steps: int, lengths: Tensor | None, reverse: bool) -> Tensor | None:
    """(T, B) long: for the reverse direction, the input position of each processing step
    (each sequence flipped within its length; padding stays put). Its own inverse. None when
    the order is the identity or a plain flip (``reorder`` handles those)."""
    if not reverse or lengths is None:
        return None
    position = torch.arange(steps, device=lengths.device)[:, None]
    return torch.where(position < lengths[None, :], lengths[None, :] - 1 - position, position)


def reorder(tensor: Tensor, index: Tensor | None, reverse: bool) -> Tensor:
    """Input order <-> processing order for (T, B, ...) ``tensor`` (the map is an involution)."""
    if not reverse:
        return tensor
    if index is None:
        return tensor.flip(0)
    return tensor.gather(0, index.view(*index.shape, *([1] * (tensor.dim() - 2)))
                         .expand_as(tensor))


def prepare_input(
    model: nn.Module, x: Tensor | PackedSequence, lengths: Tensor | Sequence[int] | None
) -> tuple[Tensor, Tensor | None, bool]:
    """``x`` as (T, B, I), the lengths (B,) or None, and whether x was unbatched."""
    if isinstance(x, PackedSequence):
        if lengths is not None:
            raise ValueError("lengths must be None for a PackedSequence (it carries its own)")
        x, lengths = pad_packed_sequence(x)  # (T, B, I), batch in the caller's order
        return x, lengths.to(x.device), False
    if not isinstance(x, Tensor) or x.dim() not in (2, 3) or x.shape[-1] != model.input_size:
        layout = "(batch, time, I)" if model.batch_first else "(time, batch, I)"
        received = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x must have shape {layout} or (time, I) with I = {model.input_size}, "
                         f"got {received}")
    unbatched = x.dim() == 2
    x = x.unsqueeze(1) if unbatched else (x.transpose(0, 1) if model.batch_first else x)
    if x.shape[0] == 0:
        raise ValueError(f"x must have at least one time step, got shape {tuple(x.shape)}")
    if lengths is not None:
        lengths = check_lengths(lengths, x.shape[0], x.shape[1]).to(x.device)
    return x, lengths, unbatched


def initial_states(
    model: nn.Module, hx: tuple[Tensor, Tensor] | None, x: Tensor, unbatched: bool
) -> tuple[Tensor, Tensor]:
    """h0 (L*D, B, P) and c0 (L*D, B, H), zeros when ``hx`` is None."""
    rows = model.num_layers * (2 if model.bidirectional else 1)
    sizes = (model.proj_size or model.hidden_size, model.hidden_size)
    if hx is None:
        return tuple(x.new_zeros(rows, x.shape[1], size) for size in sizes)  # type: ignore
    if not isinstance(hx, tuple | list) or len(hx) != 2:
        raise ValueError(f"hx must be a tuple (h0, c0), got {type(hx).__name__}")
    result = []
    for name, tensor, size in zip(("hx[0]", "hx[1]"), hx, sizes, strict=True):
        expected = (rows, size) if unbatched else (rows, x.shape[1], size)
        if not isinstance(tensor, Tensor) or tuple(tensor.shape) != expected:
            received = tuple(tensor.shape) if isinstance(tensor, Tensor) else type(tensor)
            raise ValueError(f"{name} must have shape {expected}, got {received}")
        result.append(tensor.detach().unsqueeze(1) if unbatched else tensor.detach())
    return tuple(result)  # type: ignore[return-value]


def _standard_direction(
    model: nn.Module, layer: int, direction: int, x: Tensor, h0: Tensor, c0: Tensor,
    lengths: Tensor | None, mask: Tensor | None, read_workspace: bool,
) -> LayerTrace:
    reverse = direction == 1
    index = processing_index(x.shape[0], lengths, reverse)
    weights = standard_weights(model, layer, direction)
    x_steps = reorder(x, index, reverse)
    fused = run_fused(weights, x_steps, h0, c0, read_gates=read_workspace)
    with torch.no_grad():
        gates = fused.gates
        if gates is None:
            gates = reconstruct_gates(weights, x_steps, fused.hidden, h0)
        cell = fused.cell
        if cell is None:
            i, f, g, _ = split_gates(gates)
            cell = linear_recurrence(f, i * g, c0)
        hidden = fused.hidden
        if mask is not None:
            keep = mask.unsqueeze(-1).to(gates.dtype)
            gates, cell, hidden = gates * keep, cell * keep, hidden * keep
        gates, cell, hidden = (reorder(t, index, reverse) for t in (gates, cell, hidden))
    i, f, g, o = split_gates(gates)
    return LayerTrace(i, f, g, o, cell, hidden, c0, h0, mask, reverse)


def _variant_direction(
    model: nn.Module, layer: int, direction: int, x: Tensor, h0: Tensor, c0: Tensor,
    lengths: Tensor | None, mask: Tensor | None,
) -> LayerTrace:
    directions = 2 if model.bidirectional else 1
    cell = model.bound_cell(layer * directions + direction)
    state = cell.initial_state(x.shape[1], dtype=x.dtype, device=x.device)
    state = state._replace(h=h0, c=c0)
    with torch.no_grad():
        _, _, recording = unroll(cell, x, state, record=True, lengths=lengths,
                                 reverse=direction == 1)
    states, gates = recording
    return LayerTrace(gates.input, gates.forget, gates.candidate, gates.output, states.c,
                      states.h, c0, h0, mask, direction == 1)


def trace(
    model: nn.Module, x: Tensor | PackedSequence, hx: tuple[Tensor, Tensor] | None = None, *,
    lengths: Tensor | Sequence[int] | None = None, read_workspace: bool = True,
) -> Trace:
    """The gates and states of ``model`` on ``x``: ``trace(model, x)[layer].forget`` is (T, B, H).

    ``x``: (T, B, I), (B, T, I) if ``model.batch_first``, unbatched (T, I), or a
    ``PackedSequence``; ``hx = (h0, c0)`` as the model takes it (zeros if None); ``lengths``
    (B,) for a padded ``x``. The Trace is always (T, B, ...) in input position order, batch in
    the caller's order. ``read_workspace=False`` forces the plain reconstruction (the readable
    reference path) where the kernel's workspace could have been read. Fields may be views into
    one buffer of the kernel's (no copies are made); clone a field before writing into it.
    """
    check_model(model)
    x, lengths, unbatched = prepare_input(model, x, lengths)
    reference = next(model.parameters())
    if x.dtype != reference.dtype or x.device != reference.device:
        raise ValueError(f"x must have the model's dtype {reference.dtype} and device "
                         f"{reference.device}, got {x.dtype} on {x.device}")
    h0_all, c0_all = initial_states(model, hx, x, unbatched)
    mask = None if lengths is None else lengths_mask(lengths, x.shape[0])
    standard = is_standard_lstm(model)
    directions = 2 if model.bidirectional else 1
    layers = []
    x = x.detach()
    for layer in range(model.num_layers):
        traces = []
        for direction in range(directions):
            row = layer * directions + direction
            if standard:
                layer_trace = _standard_direction(model, layer, direction, x, h0_all[row],
                                                  c0_all[row], lengths, mask, read_workspace)
            else:
                layer_trace = _variant_direction(model, layer, direction, x, h0_all[row],
                                                 c0_all[row], lengths, mask)
            traces.append(layer_trace)
        layers.append(tuple(traces))
        x = torch.cat([t.hidden for t in traces], dim=-1) if directions == 2 else traces[0].hidden
    return Trace(tuple(layers))
