"""Every gate and state of an LSTM at every step: the ``Trace``.

Shapes: T time, B batch, H hidden (cells per layer and direction), P projection size
(``proj_size``; P = H without one). All tensors are in *input position order*: index t is the
step that read input x_t, for both directions (as torch's output sequence is), so a reverse
direction processes t = T-1 first; ``reverse`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lstmlab.errors import UserError


class TraceError(UserError):
    """A model or input that cannot be traced (not a recurrent stack, wrong shape, a forward
    that calls none of its recurrent modules), said in one line."""


@dataclass(frozen=True)
class LayerTrace:
    """One layer and one direction.

    ``input, forget, candidate, output, cell``: (T, B, H), the activated gates i, f, g, o and the
    cell state c_t. ``hidden``: (T, B, P), h_t. ``initial_cell`` (B, H) and ``initial_hidden``
    (B, P): the state before the first processed step. ``mask``: (T, B) bool, True where step t
    lies inside sequence b (packed or padded batches); None when every step is real. Values at
    masked-out steps are zero, never invented.
    """

    input: Tensor
    forget: Tensor
    candidate: Tensor
    output: Tensor
    cell: Tensor
    hidden: Tensor
    initial_cell: Tensor
    initial_hidden: Tensor
    mask: Tensor | None = None
    reverse: bool = False


@dataclass(frozen=True)
class Trace:
    """All layers and directions: ``trace.layers[layer][direction]`` (direction 1 = reverse)."""

    layers: tuple[tuple[LayerTrace, ...], ...]

    def __getitem__(self, layer: int) -> LayerTrace:
        """The forward direction of ``layer``; use ``layers[layer][1]`` for the reverse one."""
        return self.layers[layer][0]

    @property
    def num_layers(self) -> int:
        return len(self.layers)


def step_mask(layer: LayerTrace) -> Tensor:
    """(T, B) bool: True at real steps (all True when the trace has no mask)."""
    if layer.mask is not None:
        return layer.mask
    return torch.ones(layer.forget.shape[:2], dtype=torch.bool, device=layer.forget.device)


def previous_cell(layer: LayerTrace) -> Tensor:
    """(T, B, H) c_{t-1}: the cell state each step started from, in input position order.

    Forward direction: c at position t-1 (``initial_cell`` at t = 0). Reverse direction: c at
    position t+1, or ``initial_cell`` at each sequence's last position (its first step). Zero at
    masked-out steps.
    """
    cell, start = layer.cell, layer.initial_cell.unsqueeze(0)
    mask = step_mask(layer)
    if not layer.reverse:
        previous = torch.cat([start, cell[:-1]])
    else:
        # position t+1 holds a real step of sequence b only if t+1 < length_b
        next_is_real = torch.cat([mask[1:], torch.zeros_like(mask[:1])]).unsqueeze(-1)
        previous = torch.where(next_is_real, torch.cat([cell[1:], start]), start)
    return previous * mask.unsqueeze(-1).to(cell.dtype)


def final_cell(layer: LayerTrace) -> Tensor:
    """(B, H) c after each sequence's last processed step (what ``c_n`` holds); ``initial_cell``
    for a sequence of length 0."""
    mask = step_mask(layer)
    if layer.reverse:
        last = torch.zeros(mask.shape[1], dtype=torch.long, device=mask.device)
    else:
        last = (mask.sum(0) - 1).clamp(min=0)  # (B,) position of each sequence's last step
    width = layer.cell.shape[-1]
    cell = layer.cell.gather(0, last.view(1, -1, 1).expand(1, -1, width))[0]
    return torch.where(mask.any(0).unsqueeze(-1), cell, layer.initial_cell)
