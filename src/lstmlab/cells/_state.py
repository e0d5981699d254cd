"""The states and gates that every cell step returns, and the interface a cell follows.

A cell step is ``cell(x_t, state) -> (new_state, gates)``: the new state and every gate of the
step, as named tuples, so ``(h, c)`` versus ``(c, h)`` can never bite and introspection needs no
hooks. Every state has a field ``h``: the output a layer passes on.

Shapes: B batch, I input, H hidden (per cell), P projection (``proj_size``; P = H without one).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol, runtime_checkable

import torch
from torch import Tensor


class LSTMState(NamedTuple):
    """``h`` (B, P) the output, ``c`` (B, H) the cell state (the 1997 paper's ``s_c``)."""

    h: Tensor
    c: Tensor


class Gates(NamedTuple):
    """The activated gates of one LSTM step, each (B, H): ``i, f, g, o`` in the equations.

    A variant without a gate reports the constant it uses (e.g. ``forget`` = 1 for the 1997
    cell), so retention and saturation read the same for every variant.
    """

    input: Tensor
    forget: Tensor
    candidate: Tensor
    output: Tensor


class HiddenState(NamedTuple):
    """The state of a GRU or simple RNN: ``h`` (B, H)."""

    h: Tensor


class GRUGates(NamedTuple):
    """The activated gates of one GRU step, each (B, H): ``r, z, n`` in torch's equations."""

    reset: Tensor
    update: Tensor
    candidate: Tensor


class ElmanGates(NamedTuple):
    """A simple RNN has no gates; it reports its pre-activation (B, H) so a trace is uniform."""

    pre: Tensor


@runtime_checkable
class Cell(Protocol):
    """What ``unroll`` and the training algorithms need of a cell (an ``nn.Module``)."""

    input_size: int
    hidden_size: int

    def initial_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> NamedTuple:
        """The zero state for a batch of ``batch_size``."""
        ...

    def __call__(self, x: Tensor, state: NamedTuple) -> tuple[NamedTuple, NamedTuple]:
        """One step: ``x`` (B, I) and the state at t-1 give the state at t and the gates."""
        ...
