"""Losses over a time-first batch, counting only the steps the mask marks.

Shapes: T time, B batch, O output units; ``outputs`` and ``targets`` (T, B, O), ``mask`` (T, B).

- :func:`sum_squared_error`, the 1997 paper's eq. 16 ([H97] §5 intro):
  ``E(t) = sum_k (t^k(t) - y^k(t))^2`` with ``Δw = -α ∂E(t)/∂w`` (eq. 17), no factor 1/2.
  Here ``loss = sum_{t in mask} sum_k (targets - outputs)^2 / B``: summed over output units and
  error-carrying steps, averaged over the batch, so that B = 1 is the paper's online setting.
- :func:`cross_entropy`: ``loss = sum_{t in mask} -sum_k targets_k * log_softmax(outputs)_k / B``,
  ``outputs`` being logits (a readout without squashing).

Both are sums over steps, so the loss of a sequence is the sum of the losses of its steps: what
RTRL and truncated BPTT rely on when they take the loss step by step or chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

#: ``loss(outputs (T, B, O), targets (T, B, O), mask (T, B)) -> scalar``.
Loss = Callable[[Tensor, Tensor, Tensor], Tensor]


def _check_shapes(outputs: Tensor, targets: Tensor, mask: Tensor) -> None:
    """ValueError unless targets match outputs (T, B, O) and mask is (T, B): the arithmetic
    below would otherwise broadcast a mismatch (e.g. O = 1 against O = 7) into a wrong loss."""
    if tuple(targets.shape) != tuple(outputs.shape):
        raise ValueError(f"targets: expected the outputs' shape {tuple(outputs.shape)}, "
                         f"received {tuple(targets.shape)}")
    if tuple(mask.shape) != tuple(outputs.shape[:-1]):
        raise ValueError(f"mask: expected shape {tuple(outputs.shape[:-1])}, "
                         f"received {tuple(mask.shape)}")


def sum_squared_error(outputs: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """[H97] eq. 16 summed over masked steps and output units, averaged over the batch."""
    _check_shapes(outputs, targets, mask)
    squared = (targets - outputs).square().sum(-1)
    return torch.where(mask, squared, torch.zeros_like(squared)).sum() / outputs.shape[1]


def cross_entropy(outputs: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """Cross-entropy of logits ``outputs`` against class probabilities ``targets``."""
    _check_shapes(outputs, targets, mask)
    per_step = -(targets * torch.log_softmax(outputs, dim=-1)).sum(-1)
    return torch.where(mask, per_step, torch.zeros_like(per_step)).sum() / outputs.shape[1]


def binary_cross_entropy(outputs: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """``loss = sum_{t in mask} -sum_k (targets_k * log(outputs_k) + (1 - targets_k) *
    log(1 - outputs_k)) / B`` for ``outputs`` in (0, 1) (logistic units; each log is clamped at
    -100 as ``torch.nn.functional.binary_cross_entropy`` does): the loss of independent logistic
    output units, with targets in [0, 1]."""
    _check_shapes(outputs, targets, mask)
    per_unit = torch.nn.functional.binary_cross_entropy(outputs, targets, reduction="none")
    per_step = per_unit.sum(-1)
    return torch.where(mask, per_step, torch.zeros_like(per_step)).sum() / outputs.shape[1]
