"""Run any cell over a sequence: ``unroll(cell, xs, state)``, the readable reference path.

Works for every cell that follows the ``Cell`` protocol of ``lstmlab.cells._state`` (the
standard LSTM, GRU and simple RNN cells, and the variants: peephole, CIFG, Greff's ablations,
the 1997 cell). Shapes: T time, B batch, I input, P the size of the cell's output ``h``.

    for t in 0, 1, ..., T-1   (T-1, ..., 0 when reverse=True):
        state_t, gates_t = cell(xs[t], state_{t-1})
        outputs[t] = state_t.h

Variable-length batches (``lengths`` (B,), sequence b holds steps 0 .. lengths[b]-1): at a
step t >= lengths[b] the state of sequence b stays frozen, its output and its recorded state
and gates are zero. The final state is then each sequence's state after its last real step,
exactly what ``torch.nn.LSTM`` returns for a ``PackedSequence``. With ``reverse=True`` the
padded steps come first and change nothing, so sequence b is read from step lengths[b]-1 down
to 0, again as torch's reverse direction does on packed input.

Recording (``record=True``): every step's state and gates, stacked along a new leading T axis
in input position order (index t is the step that read ``xs[t]``, in both directions): the same
NamedTuple types the cell returns, each field (T, B, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn


class Recording(NamedTuple):
    """``states`` and ``gates``: the cell's NamedTuple types, each field (T, B, ...)."""

    states: NamedTuple
    gates: NamedTuple


class Unrolled(NamedTuple):
    """``outputs`` (T, B, P), the final ``state`` (the cell's type), the ``recording`` (or
    None when ``record=False``)."""

    outputs: Tensor
    state: NamedTuple
    recording: Recording | None


def check_lengths(lengths: Tensor | Sequence[int], steps: int, batch_size: int) -> Tensor:
    """``lengths`` as an int64 CPU tensor (B,); ValueError unless every entry is in 0..T."""
    lengths = torch.as_tensor(lengths).to("cpu")
    if lengths.shape != (batch_size,) or lengths.is_floating_point() or lengths.is_complex():
        raise ValueError(
            f"lengths must be integers of shape ({batch_size},), "
            f"got {lengths.dtype} of shape {tuple(lengths.shape)}"
        )
    if bool((lengths < 0).any()) or bool((lengths > steps).any()):
        raise ValueError(f"lengths must lie in 0..{steps}, got {lengths.tolist()}")
    return lengths.long()


def _where(mask: Tensor, new: Tensor, old: Tensor) -> Tensor:
    """``new`` where ``mask`` (B,) is True, else ``old``; both (B, ...)."""
    return torch.where(mask.view(-1, *([1] * (new.dim() - 1))), new, old)


def unroll(
    cell: nn.Module, xs: Tensor, state: NamedTuple | None = None, *, record: bool = False,
    lengths: Tensor | Sequence[int] | None = None, reverse: bool = False,
) -> Unrolled:
    """Run ``cell`` over ``xs`` (T, B, I) from ``state`` (the cell's zero state by default).

    Returns ``Unrolled(outputs (T, B, P), final state, recording or None)``; see the module
    docstring for ``lengths``, ``reverse`` and the recording.
    """
    if not isinstance(xs, Tensor) or xs.dim() != 3 or xs.shape[2] != cell.input_size:
        received = tuple(xs.shape) if isinstance(xs, Tensor) else type(xs).__name__
        raise ValueError(f"xs must have shape (time, batch, {cell.input_size}), got {received}")
    steps, batch_size = xs.shape[0], xs.shape[1]
    if steps == 0:
        raise ValueError(f"xs must have at least one time step, got shape {tuple(xs.shape)}")
    if state is None:
        state = cell.initial_state(batch_size, dtype=xs.dtype, device=xs.device)
    masks = None
    if lengths is not None:
        lengths = check_lengths(lengths, steps, batch_size).to(xs.device)
        masks = torch.arange(steps, device=xs.device)[:, None] < lengths  # (T, B)
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    outputs: list[Tensor | None] = [None] * steps
    states: list[NamedTuple | None] = [None] * steps
    gates: list[NamedTuple | None] = [None] * steps
    for t in order:
        new_state, new_gates = cell(xs[t], state)
        if masks is not None:
            mask = masks[t]
            state = type(new_state)(*(_where(mask, n, o) for n, o in zip(new_state, state,
                                                                         strict=True)))
            new_state = type(new_state)(*(_where(mask, n, torch.zeros_like(n))
                                          for n in new_state))
            new_gates = type(new_gates)(*(_where(mask, g, torch.zeros_like(g))
                                          for g in new_gates))
        else:
            state = new_state
        outputs[t] = new_state.h
        if record:
            states[t], gates[t] = new_state, new_gates
    recording = None
    if record:
        recording = Recording(
            type(states[0])(*(torch.stack(field) for field in zip(*states, strict=True))),
            type(gates[0])(*(torch.stack(field) for field in zip(*gates, strict=True))),
        )
    return Unrolled(torch.stack(outputs), state, recording)
