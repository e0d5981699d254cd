"""Every gate and state of an LSTM at every step: the ``Trace``.

Shapes: T time, B batch, H hidden (cells per layer and direction), P projection size
(``proj_size``; P = H without one). All tensors are in *input position order*: index t is the
step that read input x_t, for both directions (as torch's output sequence is), so a reverse
direction processes t = T-1 first; ``reverse`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


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
