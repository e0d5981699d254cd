"""What a gate reads: its pre-activation split exactly into the input, recurrent and bias terms.

For the standard LSTM (``torch.nn.LSTM``; ``lstmlab.layers.LSTM`` with the standard cell) the
forget gate of unit j at step t is

    f_t = sigmoid(pre_f),   pre_f = x_t @ W_f.T  +  h_{t-1} @ U_f.T  +  b_f
                                    \\_ input _/    \\_ recurrent _/    \\ bias

with W_f = ``weight_ih[H:2H]``, U_f = ``weight_hh[H:2H]`` and b_f = ``bias_ih[H:2H] +
bias_hh[H:2H]`` (torch's gate order i, f, g, o; the other gates take the other blocks). So
"what moves f at this word" has an exact answer in the model's own terms: the change of
``input`` is what the word itself does, the change of ``recurrent`` what the context held in
h_{t-1} does. x_t is the layer's input (the previous layer's (forward, reverse) h for layers
l > 0); h_{t-1} is the h that step actually read (the projected h with ``proj_size``, the next
position's h in a reverse direction, ``h0`` at each sequence's first step).

Shapes: T time, B batch, H hidden; every term is (T, B, H) in input position order, zero past
each sequence's end (``mask``), the bias (H,).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from lstmlab.introspection.fused import standard_weights
from lstmlab.introspection.intervention import GATE_FIELDS
from lstmlab.introspection.trace import LayerTrace, Trace, previous_cell, step_mask
from lstmlab.introspection.tracer import is_standard_lstm, prepare_input, trace


@dataclass(frozen=True)
class GateTerms:
    """``input`` x_t @ W.T and ``recurrent`` h_{t-1} @ U.T, (T, B, H); ``bias`` b, (H,);
    ``mask`` (T, B) bool or None, as in the trace."""

    input: Tensor
    recurrent: Tensor
    bias: Tensor
    mask: Tensor | None = None

    @property
    def total(self) -> Tensor:
        """(T, B, H) the pre-activation input + recurrent + bias (zero past the end)."""
        total = self.input + self.recurrent + self.bias
        if self.mask is None:
            return total
        return total * self.mask.unsqueeze(-1).to(total.dtype)


def previous_hidden(layer: LayerTrace) -> Tensor:
    """(T, B, P) the h_{t-1} each step read, in input position order (zero past the end)."""
    return previous_cell(dataclasses.replace(layer, cell=layer.hidden,
                                             initial_cell=layer.initial_hidden))


def gate_terms(
    model: nn.Module, x: Tensor, hx: tuple[Tensor, Tensor] | None = None, *,
    lengths: Tensor | Sequence[int] | None = None, gate: str = "forget",
    traced: Trace | None = None,
) -> tuple[tuple[GateTerms, ...], ...]:
    """Per layer and direction, the split of ``gate``'s pre-activation (module docstring).

    ``x``, ``hx`` and ``lengths`` as for ``trace``; pass ``traced = trace(model, x, ...)`` when
    it is already at hand. ``result[layer][direction].input`` is (T, B, H).
    """
    if gate not in GATE_FIELDS:
        raise ValueError(f"gate must be one of {GATE_FIELDS}, got {gate!r}")
    if not is_standard_lstm(model):
        raise ValueError("model must be a torch.nn.LSTM or an lstmlab.layers.LSTM with the "
                         f"standard cell, got {type(model).__name__}")
    if traced is None:
        traced = trace(model, x, hx, lengths=lengths)
    x, _, _ = prepare_input(model, x, lengths)
    block = GATE_FIELDS.index(gate)
    size = model.hidden_size
    rows = slice(block * size, (block + 1) * size)
    result = []
    layer_input = x.detach()
    with torch.no_grad():
        for layer, traces in enumerate(traced.layers):
            terms = []
            for direction, layer_trace in enumerate(traces):
                w = standard_weights(model, layer, direction)
                keep = step_mask(layer_trace).unsqueeze(-1).to(layer_input.dtype)
                from_input = layer_input @ w.weight_ih[rows].T * keep
                recurrent = previous_hidden(layer_trace) @ w.weight_hh[rows].T * keep
                bias = torch.zeros(size, dtype=layer_input.dtype, device=layer_input.device)
                if w.bias_ih is not None:
                    bias = w.bias_ih[rows] + w.bias_hh[rows]
                terms.append(GateTerms(from_input, recurrent, bias, layer_trace.mask))
            result.append(tuple(terms))
            layer_input = torch.cat([t.hidden for t in traces], dim=-1)
    return tuple(result)
