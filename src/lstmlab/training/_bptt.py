"""Backpropagation through time, full and truncated (Werbos 1990; Williams & Peng 1990).

Full BPTT runs the whole batch forward, takes ``loss`` over all masked steps, and backpropagates
through every step: the exact gradient ``dL/dθ`` ([H97] §1: "computes exactly the same gradient as
offline RTRL").

Truncated BPTT(k) cuts the sequence into chunks of ``k = truncation_length`` steps. The state is
carried from chunk to chunk (the network runs on as if uncut) but detached at each chunk border,
so the gradient of chunk ``[t0, t0 + k)`` flows back at most to ``t0``:

    state_{t0} <- detach(state_{t0})
    y_{t0..t0+k-1}, state_{t0+k} = model(x_{t0..t0+k-1}, state_{t0})
    L_chunk = loss(y, targets_{t0..t0+k-1}, mask_{t0..t0+k-1});  L = sum over chunks of L_chunk

With ``update_every_chunk`` the weights change after every chunk that carries error (the usual
online use); without it the chunk gradients add up to the gradient of ``L`` on the graph cut
every k steps, and the weights change once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lstmlab.cells._parameters import check_size
from lstmlab.training._algorithm import StepOutcome
from lstmlab.training._batch import BatchLike
from lstmlab.training._losses import Loss
from lstmlab.training._model import SequenceModel, detach_state


def bptt_gradients(model: SequenceModel, batch: BatchLike, loss: Loss) -> dict[str, Tensor]:
    """The exact gradient of ``loss`` over the whole batch: parameter name -> dL/dθ."""
    outputs, _ = model(batch.inputs)
    value = loss(outputs, batch.targets, batch.mask)
    names, params = zip(*model.named_parameters(), strict=True)
    return dict(zip(names, torch.autograd.grad(value, params), strict=True))


def truncated_bptt_gradients(
    model: SequenceModel, batch: BatchLike, loss: Loss, truncation_length: int
) -> dict[str, Tensor]:
    """The gradient of BPTT(k) without weight updates: the chunk gradients summed."""
    check_size("truncation_length", truncation_length)
    grads = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    names, params = zip(*model.named_parameters(), strict=True)
    for chunk_loss, _ in _chunk_losses(model, batch, loss, truncation_length):
        for name, g in zip(names, torch.autograd.grad(chunk_loss, params), strict=True):
            grads[name] += g
    return grads


@dataclass(frozen=True)
class BPTT:
    """Full BPTT: one forward, one backward and one weight update per batch."""

    def __call__(
        self, model: SequenceModel, batch: BatchLike, loss: Loss, optimizer: torch.optim.Optimizer
    ) -> StepOutcome:
        optimizer.zero_grad()
        outputs, _ = model(batch.inputs)
        value = loss(outputs, batch.targets, batch.mask)
        value.backward()
        if bool(batch.mask.any()):  # a batch without error changes nothing, not even momentum
            optimizer.step()
        return StepOutcome(value.detach(), outputs.detach())


@dataclass(frozen=True)
class TruncatedBPTT:
    """BPTT(k): state carried across chunks of ``truncation_length`` steps, graph cut between."""

    truncation_length: int
    update_every_chunk: bool = True

    def __post_init__(self) -> None:
        check_size("truncation_length", self.truncation_length)

    def __call__(
        self, model: SequenceModel, batch: BatchLike, loss: Loss, optimizer: torch.optim.Optimizer
    ) -> StepOutcome:
        total = batch.inputs.new_zeros(())
        pieces = []
        optimizer.zero_grad()
        starts = range(0, batch.inputs.shape[0], self.truncation_length)
        chunks = _chunk_losses(model, batch, loss, self.truncation_length)
        for start, (chunk_loss, outputs) in zip(starts, chunks, strict=True):
            pieces.append(outputs.detach())
            chunk_loss.backward()
            total = total + chunk_loss.detach()
            # Online, a chunk without error changes nothing (not even through momentum).
            has_error = bool(batch.mask[start:start + self.truncation_length].any())
            if self.update_every_chunk and has_error:
                optimizer.step()
                optimizer.zero_grad()
        if not self.update_every_chunk:
            optimizer.step()
        return StepOutcome(total, torch.cat(pieces))


def _chunk_losses(model: SequenceModel, batch: BatchLike, loss: Loss, truncation_length: int):
    """Yield each chunk's loss and outputs; the state entering a chunk is cut from the graph.

    The caller must finish with a chunk's graph (backward or grad) before asking for the next,
    since an update in between changes the weights the next chunk reads.
    """
    state = None
    for start in range(0, batch.inputs.shape[0], truncation_length):
        stop = start + truncation_length
        if state is not None:
            state = detach_state(state)
        outputs, state = model(batch.inputs[start:stop], state)
        yield loss(outputs, batch.targets[start:stop], batch.mask[start:stop]), outputs
