"""What the training loop asks of a learning algorithm.

An algorithm takes one batch and does all of its learning on it, calling ``optimizer.step()`` as
often as it updates: once per batch (BPTT), once per chunk (truncated BPTT), once per step
carrying error (online RTRL, the 1997 online algorithm). It returns the batch's loss and the
outputs the network produced while learning, which is what the tasks' stopping criteria judge
([H97] §5: the training error of the sequences just seen).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import torch
from torch import Tensor

from lstmlab.training._batch import BatchLike
from lstmlab.training._losses import Loss
from lstmlab.training._model import SequenceModel


class StepOutcome(NamedTuple):
    """``loss`` (scalar, detached) and ``outputs`` (T, B, O), detached."""

    loss: Tensor
    outputs: Tensor


class Algorithm(Protocol):
    """``algorithm(model, batch, loss, optimizer) -> StepOutcome``; updates ``model`` in place."""

    def __call__(
        self, model: SequenceModel, batch: BatchLike, loss: Loss, optimizer: torch.optim.Optimizer
    ) -> StepOutcome: ...
