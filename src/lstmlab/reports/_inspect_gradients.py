"""Gradient flow for ``inspect``: how far back the gradient of the last output reaches, in
bounded memory.

For a loss L on the last output, dL/dh_t for the last ``window`` positions needs only the
computation from there on: the re-run (``gradient_flow``) starts at position T - window from the
states the trace holds there (the forward direction's h and c at position T - window - 1; the
reverse direction starts at the last position anyway, from its own initial state), so the
numbers are exact and the cost is that of ``window`` steps, whatever T is. Shapes: T time,
B batch, L layers, D directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from lstmlab.introspection import gradient_flow


@dataclass(frozen=True)
class Stack:
    """One traced call of a recurrent module: its qualified name, kind ("LSTM" or "GRU"), the
    module, the input and initial state it was called with (its own layout), and the trace."""

    name: str
    kind: str
    module: nn.Module
    x: Tensor | PackedSequence
    hx: Any
    trace: Any


def _window_state(stack: Stack, start: int) -> Any:
    """The initial state for a re-run of positions start.. (module docstring), (L*D, B, .)."""
    if start == 0:
        return stack.hx
    hidden, cell = [], []
    for directions in stack.trace.layers:
        for layer in directions:
            forward = not layer.reverse
            hidden.append(layer.hidden[start - 1] if forward else layer.initial_hidden)
            if stack.kind == "LSTM":
                cell.append(layer.cell[start - 1] if forward else layer.initial_cell)
    if stack.kind == "GRU":
        return torch.stack(hidden)
    return torch.stack(hidden), torch.stack(cell)


def gradient_curves(stack: Stack, window: int) -> dict[str, np.ndarray] | None:
    """Mean ||dL/dh_{T-k}|| of each layer's forward direction, L = sum of the last output."""
    module, x = stack.module, stack.x
    if isinstance(x, PackedSequence):
        return None
    batch_first = module.batch_first
    steps = x.transpose(0, 1) if batch_first and x.dim() == 3 else x
    if steps.dim() == 2:  # unbatched (T, I)
        steps = steps.unsqueeze(1)
    start = max(0, steps.shape[0] - window)
    hx = _window_state(stack, start)
    if isinstance(hx, list):
        hx = tuple(hx)
    if hx is not None and start == 0 and x.dim() == 2:  # unbatched state (L*D, .)
        hx = hx.unsqueeze(1) if stack.kind == "GRU" else tuple(t.unsqueeze(1) for t in hx)
    window = steps[start:]
    if isinstance(module, nn.GRU):  # the re-run reads our GRU's cells: same weights
        from lstmlab.layers import GRU

        ours = GRU(module.input_size, module.hidden_size, module.num_layers, module.bias,
                   batch_first, 0.0, module.bidirectional, dtype=module.weight_ih_l0.dtype)
        ours.load_state_dict(module.state_dict())
        module = ours.eval()
    flow = gradient_flow(module, window.transpose(0, 1) if batch_first else window,
                         lambda output, state: (output[:, -1] if batch_first
                                                else output[-1]).sum(), hx)
    return {f"{stack.name + ' · ' if stack.name else ''}layer {k}":
            directions[0].hidden.norm(dim=-1).mean(1).flip(0).numpy()
            for k, directions in enumerate(flow.layers)}
