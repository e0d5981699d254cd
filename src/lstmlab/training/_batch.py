"""The batch a training algorithm consumes, whatever task made it.

Every task yields time-first batches (T time, B batch, I input, O output units):

    inputs   (T, B, I)   float
    targets  (T, B, O)   float (for cross-entropy: class probabilities, usually one-hot)
    mask     (T, B)      bool, the steps that carry an error signal
    lengths  (B,)        int, each sequence's true length (steps past it are padding)

The training code depends only on these four attributes (the :class:`BatchLike` protocol), never
on a task class: a task's ``lstmlab.tasks.Batch`` is one, and :class:`SequenceBatch` is a plain
container for code that builds batches by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor


@runtime_checkable
class BatchLike(Protocol):
    """Anything with time-first ``inputs``, ``targets``, ``mask`` and ``lengths``."""

    @property
    def inputs(self) -> Tensor: ...

    @property
    def targets(self) -> Tensor: ...

    @property
    def mask(self) -> Tensor: ...

    @property
    def lengths(self) -> Tensor: ...


@dataclass(frozen=True)
class SequenceBatch:
    """A concrete :class:`BatchLike`: ``inputs`` (T, B, I), ``targets`` (T, B, O),
    ``mask`` (T, B), ``lengths`` (B,)."""

    inputs: Tensor
    targets: Tensor
    mask: Tensor
    lengths: Tensor


def check_batch(batch: BatchLike) -> None:
    """Raise ValueError naming the attribute when ``batch`` is not a time-first batch."""
    missing = [name for name in ("inputs", "targets", "mask", "lengths")
               if not hasattr(batch, name)]
    if missing:
        raise ValueError(f"batch: expected a time-first batch, received a "
                         f"{type(batch).__name__} without {', '.join(missing)}")
    inputs, targets, mask, lengths = batch.inputs, batch.targets, batch.mask, batch.lengths
    if inputs.dim() != 3:
        raise ValueError(f"batch.inputs: expected (T, B, I), received shape {tuple(inputs.shape)}")
    steps, size = inputs.shape[:2]
    if targets.dim() != 3 or tuple(targets.shape[:2]) != (steps, size):
        raise ValueError(
            f"batch.targets: expected ({steps}, {size}, O), received shape {tuple(targets.shape)}"
        )
    if tuple(mask.shape) != (steps, size):
        raise ValueError(f"batch.mask: expected ({steps}, {size}), received {tuple(mask.shape)}")
    if mask.dtype != torch.bool:
        raise ValueError(f"batch.mask: expected dtype torch.bool, received {mask.dtype}")
    if tuple(lengths.shape) != (size,):
        raise ValueError(f"batch.lengths: expected ({size},), received {tuple(lengths.shape)}")
