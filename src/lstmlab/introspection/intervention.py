"""Interventions on an LSTM's gates, done exactly in the step recurrence.

Correlation of a unit's cell with a property shows that the unit *tracks* it; to show that a
gate *decides*, change the gate and watch the outcome. ``patched_run`` runs a standard LSTM
(``torch.nn.LSTM``, or ``lstmlab.layers.LSTM`` with the standard cell; any number of layers,
either direction, ``proj_size``, padded batches with ``lengths``) one step at a time with
torch's equations, and lets a ``patch`` replace the activated gates of every step before they
are used::

    pre        = x_t @ weight_ih.T + bias_ih + h_{t-1} @ weight_hh.T + bias_hh
    i, f, g, o = patch(layer, direction, positions, Gates(sigmoid(pre_i), sigmoid(pre_f),
                                                          tanh(pre_g), sigmoid(pre_o)))
    c_t        = f * c_{t-1} + i * g
    h_t        = o * tanh(c_t)            (then @ weight_hr.T with a projection)

so a clamped gate acts inside the recurrence: the changed c_t and h_t feed every later step,
and the later gates are the model's own response to the changed state. With the identity patch
the run is the model's own computation (tested against ``model(x)`` and ``trace``).

``Clamp(gate, units, value, where)`` is the common patch: set one gate of some units to a
constant at chosen steps, e.g. ``Clamp("forget", units, 1.0, where=subject_steps)`` (the cell
cannot discard at those steps) or ``Clamp("forget", units, 0.0, where=between)`` (forced
forgetting). Shapes: T time, B batch, I input, H hidden, P the size of h, D directions;
``where`` (T, B) bool in input position order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn

from lstmlab.cells.state import Gates
from lstmlab.introspection.fused import standard_weights
from lstmlab.introspection.trace import LayerTrace, Trace
from lstmlab.introspection.tracer import (
    initial_states,
    is_standard_lstm,
    lengths_mask,
    prepare_input,
    processing_index,
)

GATE_FIELDS = Gates._fields  # ("input", "forget", "candidate", "output")

# patch(layer, direction, positions, gates) -> gates; positions (B,) long: the input position
# each sequence reads at this step (for the reverse direction it differs between sequences).
GatePatch = Callable[[int, int, Tensor, Gates], Gates]


def identity_patch(layer: int, direction: int, positions: Tensor, gates: Gates) -> Gates:
    """Changes nothing: ``patched_run`` with it is the model's own run."""
    return gates


@dataclass(frozen=True)
class Clamp:
    """Set ``gate`` of ``units`` to ``value`` in layer ``layer``, direction ``direction``, at the
    steps where ``where`` (T, B) bool is True (every step when None)."""

    gate: str
    units: Sequence[int] | Tensor
    value: float
    where: Tensor | None = None
    layer: int = 0
    direction: int = 0

    def __post_init__(self) -> None:
        if self.gate not in GATE_FIELDS:
            raise ValueError(f"gate must be one of {GATE_FIELDS}, got {self.gate!r}")
        if self.where is not None and (self.where.dim() != 2 or self.where.dtype != torch.bool):
            raise ValueError(f"where must be a (T, B) bool tensor, got {self.where.dtype} of "
                             f"shape {tuple(self.where.shape)}")

    def __call__(self, layer: int, direction: int, positions: Tensor, gates: Gates) -> Gates:
        if layer != self.layer or direction != self.direction:
            return gates
        units = torch.as_tensor(self.units, dtype=torch.long, device=positions.device)
        old = getattr(gates, self.gate)
        if self.where is None:
            active = torch.ones(old.shape[0], dtype=torch.bool, device=old.device)
        else:
            active = self.where[positions, torch.arange(len(positions), device=old.device)]
        chosen = torch.zeros(old.shape[-1], dtype=torch.bool, device=old.device)
        chosen[units] = True
        new = torch.where(active[:, None] & chosen, torch.full_like(old, self.value), old)
        return gates._replace(**{self.gate: new})


def combine(*patches: GatePatch) -> GatePatch:
    """The patches applied one after the other (later ones see the earlier ones' gates)."""

    def patch(layer: int, direction: int, positions: Tensor, gates: Gates) -> Gates:
        for one in patches:
            gates = one(layer, direction, positions, gates)
        return gates

    return patch


class PatchedRun(NamedTuple):
    """``output`` (T, B, D*P) time-major, zero past each sequence's end; ``final`` (h_n, c_n)
    as the model returns them, (L*D, B, .); ``trace``: every gate (as patched) and state."""

    output: Tensor
    final: tuple[Tensor, Tensor]
    trace: Trace


def _direction(
    model: nn.Module, layer: int, direction: int, x: Tensor, h0: Tensor, c0: Tensor,
    lengths: Tensor | None, mask: Tensor | None, patch: GatePatch,
) -> tuple[LayerTrace, Tensor, Tensor]:
    w = standard_weights(model, layer, direction)
    steps, batch = x.shape[:2]
    reverse = direction == 1
    index = processing_index(steps, lengths, reverse)  # (T, B) position read at each step
    if index is None:
        order = torch.arange(steps - 1, -1, -1) if reverse else torch.arange(steps)
        index = order[:, None].expand(steps, batch)
    index = index.to(x.device)
    # x_t @ W_ih.T for every step at once; h_{t-1} @ W_hh.T needs the loop.
    from_input = x @ w.weight_ih.T
    if w.bias_ih is not None:
        from_input = from_input + w.bias_ih + w.bias_hh
    columns = torch.arange(batch, device=x.device)
    fields: dict[str, list[Tensor]] = {name: [None] * steps for name in (*GATE_FIELDS, "c", "h")}
    h, c = h0, c0
    for k in range(steps):
        positions = index[k]
        pre = from_input[positions, columns] + h @ w.weight_hh.T
        pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=-1)
        gates = Gates(torch.sigmoid(pre_i), torch.sigmoid(pre_f), torch.tanh(pre_g),
                      torch.sigmoid(pre_o))
        gates = patch(layer, direction, positions, gates)
        i, f, g, o = gates
        c_new = f * c + i * g
        h_new = o * torch.tanh(c_new)
        if w.weight_hr is not None:
            h_new = h_new @ w.weight_hr.T
        if mask is not None:
            active = mask[positions, columns][:, None]
            c, h = torch.where(active, c_new, c), torch.where(active, h_new, h)
        else:
            c, h = c_new, h_new
        for name, value in (*zip(GATE_FIELDS, gates, strict=True), ("c", c_new), ("h", h_new)):
            fields[name][k] = value
    # processing order -> input position order (the map is its own inverse per sequence)
    stacked = {}
    for name, values in fields.items():
        tensor = torch.stack(values)  # (T, B, .) in processing order
        out = torch.empty_like(tensor)
        out[index, columns[None, :].expand(steps, batch)] = tensor
        if mask is not None:
            out = out * mask.unsqueeze(-1).to(out.dtype)
        stacked[name] = out
    layer_trace = LayerTrace(stacked["input"], stacked["forget"], stacked["candidate"],
                             stacked["output"], stacked["c"], stacked["h"], c0, h0, mask, reverse)
    return layer_trace, h, c


def patched_run(
    model: nn.Module, x: Tensor, patch: GatePatch = identity_patch,
    hx: tuple[Tensor, Tensor] | None = None, *, lengths: Tensor | Sequence[int] | None = None,
) -> PatchedRun:
    """Run ``model`` on ``x`` step by step with every step's gates passed through ``patch``.

    ``x``: (T, B, I), (B, T, I) if ``model.batch_first``, or unbatched (T, I); ``hx = (h0, c0)``
    as the model takes it (zeros if None); ``lengths`` (B,) for a padded ``x``. Returns the
    output time-major and the trace in input position order. No autograd graph is kept.
    """
    if not is_standard_lstm(model):
        raise ValueError("model must be a torch.nn.LSTM or an lstmlab.layers.LSTM with the "
                         f"standard cell (torch's equations), got {type(model).__name__}")
    if model.training and model.dropout > 0 and model.num_layers > 1:
        raise ValueError(f"model has dropout={model.dropout} and is in training mode; call "
                         "model.eval() first so the run is the model's computation")
    x, lengths, unbatched = prepare_input(model, x, lengths)
    h0_all, c0_all = initial_states(model, hx, x, unbatched)
    mask = None if lengths is None else lengths_mask(lengths, x.shape[0]).to(x.device)
    directions = 2 if model.bidirectional else 1
    layers, finals_h, finals_c = [], [], []
    with torch.no_grad():
        layer_input = x.detach()
        for layer in range(model.num_layers):
            traces = []
            for direction in range(directions):
                row = layer * directions + direction
                layer_trace, h_n, c_n = _direction(model, layer, direction, layer_input,
                                                   h0_all[row], c0_all[row], lengths, mask,
                                                   patch)
                traces.append(layer_trace)
                finals_h.append(h_n)
                finals_c.append(c_n)
            layers.append(tuple(traces))
            layer_input = torch.cat([t.hidden for t in traces], dim=-1)
    final = (torch.stack(finals_h), torch.stack(finals_c))
    return PatchedRun(layer_input, final, Trace(tuple(layers)))
