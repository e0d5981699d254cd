"""K independent networks trained in lockstep as one batched computation.

Each member k has its own initial weights θ_k, its own data stream (``sample(generator_k)``) and
its own stopping criterion. Their parameters are stacked along a leading axis K and the
algorithm runs for all of them at once, its optimizer's rule (:mod:`lstmlab.training._optimizers`)
moving each active member as its own ``torch.optim`` run would:

    for step = 1 .. max_steps while some member is active:
        batch_k = sample(generator_k)                 for the active members
        θ_k, opt_k, L_k, y_k = algorithm(θ_k, opt_k, batch_k)    active members only
        active_k = not stop_k(StepInfo(step, L_k, batch_k, y_k, ...)) and L_k, θ_k finite

:class:`LockstepBPTT` (the default): for standard LSTMs the forward pass is one batched
matrix product per step over the members' own stacked weights with a backward written by hand
(:func:`~lstmlab.training._population_lstm.stacked_lstm`; or one block-diagonal LSTM in torch's
fused kernel), for any other cell ``torch.func.vmap`` over a ``functional_call`` of the model;
one backward pass of ``sum_k L_k(θ_k)``
gives every member its own gradient (the members share no weights, so
``∂(sum_j L_j)/∂θ_k = ∂L_k/∂θ_k``); one update per batch.
:class:`~lstmlab.training._population_rtrl.LockstepRTRL`: exact RTRL for K members at once,
online or per batch.

A stopped member's weights and optimizer state freeze; the others go on. So member k ends with
the weights that ``train`` with the same algorithm gives it alone (up to summation order,
~1e-15 relative in float64).
Batches of different lengths are padded to the longest (zero inputs, mask False), which changes
no loss and no gradient. A member whose loss or weights turn non-finite stops with the weights
it had before that batch and ``diverged=True``.

A population writes no checkpoint: a member's result depends on its seed alone, so a runner
that was stopped re-runs the members it has no result for.

Shapes: K members, T time, B batch (equal for all members), I input, O output.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor
from torch.func import functional_call, vmap

from lstmlab.cells import LSTMCell
from lstmlab.training._batch import BatchLike, SequenceBatch, check_batch
from lstmlab.training._loop import StepInfo, StopCriterion
from lstmlab.training._losses import Loss, sum_squared_error
from lstmlab.training._model import SequenceModel
from lstmlab.training._optimizers import SGD, Adam, where_active
from lstmlab.training._pool import MemberPool, row
from lstmlab.training._population_lstm import stacked_lstm


@dataclass(frozen=True)
class Member:
    """One network of a population: its ``model`` (initial weights, updated in place at the
    end), its data ``generator`` and its stopping criterion."""

    model: SequenceModel
    generator: torch.Generator
    stop: StopCriterion | None = None


#: ``batched_forward(template) -> forward(params (K, ...), inputs (K, T, B, I)) -> (K, T, B, O)``
BatchedForward = Callable[[SequenceModel], Callable[[dict[str, Tensor], Tensor], Tensor]]


def vmap_forward(template: SequenceModel) -> Callable[[dict[str, Tensor], Tensor], Tensor]:
    """Any cell: ``torch.func.vmap`` over a ``functional_call`` of ``template``."""
    buffers = dict(template.named_buffers())

    def forward(params: dict[str, Tensor], inputs: Tensor) -> Tensor:
        outputs, _ = functional_call(template, {**params, **buffers}, (inputs,))
        return outputs

    return vmap(forward)


def lockstep_forward(template: SequenceModel) -> Callable[[dict[str, Tensor], Tensor], Tensor]:
    """The default: :func:`~lstmlab.training._population_lstm.stacked_lstm` (one batched matrix
    product per step, backward by hand) for LSTMCell without projection, :func:`vmap_forward`
    for any other cell."""
    cell = template.cell
    if type(cell) is LSTMCell and not cell.proj_size:
        return stacked_lstm(template)
    return vmap_forward(template)


#: The stacked parameters or optimizer state: name -> (K, ...).
Stacked = dict[str, Tensor]


class LockstepAlgorithm(Protocol):
    """One batch for all K members: ``data`` = (inputs, targets, mask), each (K, T, B, ...),
    ``active`` (K,) the members that may move. Returns the new parameters and optimizer state,
    each member's loss (K,) and outputs (K, T, B, O)."""

    def __call__(
        self, template: SequenceModel, params: Stacked, opt_state: Stacked,
        optimizer: SGD | Adam, active: Tensor, data: tuple[Tensor, Tensor, Tensor], loss: Loss,
    ) -> tuple[Stacked, Stacked, Tensor, Tensor]: ...


@dataclass(frozen=True)
class LockstepBPTT:
    """Full BPTT, one update per batch; ``batched_forward`` runs all members at once:
    :func:`lockstep_forward` (the default: the fastest of the following that keeps members
    apart), :func:`vmap_forward` for any cell,
    :func:`~lstmlab.training._population_lstm.stacked_lstm` for LSTMCell (batched matrix
    products, backward by hand), or
    :func:`~lstmlab.training._population_lstm.block_diagonal_lstm` for LSTMCell (fused kernel)."""

    batched_forward: BatchedForward = lockstep_forward

    def __call__(
        self, template: SequenceModel, params: Stacked, opt_state: Stacked,
        optimizer: SGD | Adam, active: Tensor, data: tuple[Tensor, Tensor, Tensor], loss: Loss,
    ) -> tuple[Stacked, Stacked, Tensor, Tensor]:
        losses, outputs, grads = _losses_and_grads(self.batched_forward(template), params, data,
                                                   loss)
        if not bool(torch.isfinite(losses[active]).all()) and self.batched_forward not in \
                _KEEPS_MEMBERS_APART:
            # A forward that mixes members (block-diagonal) spreads one member's NaN to all:
            # redo the batch with members kept apart, so only the culprit is called diverged.
            losses, outputs, grads = _losses_and_grads(vmap_forward(template), params, data,
                                                       loss)
        # As ``BPTT``: a member whose batch has no error makes no update (not even momentum).
        has_error = data[2].flatten(1).any(1)
        new_params, new_state = optimizer.update(params, grads, opt_state, active & has_error)
        return new_params, new_state, losses, outputs


#: Forwards in which one member's numbers never touch another's (no redo after a NaN).
_KEEPS_MEMBERS_APART = (vmap_forward, stacked_lstm, lockstep_forward)


@dataclass(frozen=True)
class PopulationConfig:
    """``max_steps`` batches per member at most; ``optimizer`` and ``loss`` as for ``train``;
    ``algorithm`` (:class:`LockstepBPTT` or
    :class:`~lstmlab.training._population_rtrl.LockstepRTRL`)."""

    max_steps: int
    optimizer: SGD | Adam
    loss: Loss = sum_squared_error
    algorithm: LockstepAlgorithm = field(default_factory=LockstepBPTT)

    def __post_init__(self) -> None:
        if not isinstance(self.max_steps, int) or self.max_steps < 0:
            raise ValueError(f"max_steps: expected an int >= 0, received {self.max_steps!r}")


@dataclass(frozen=True)
class PopulationProgress:
    """Reported after every step: ``active`` members still training, each member's last
    finite ``losses`` (NaN before its first step)."""

    step: int
    active: int
    losses: tuple[float, ...]


@dataclass(frozen=True)
class MemberResult:
    """``steps`` trained; ``stopped``: its criterion fired; ``loss``: its last finite loss;
    ``diverged``: its loss or weights turned non-finite at step ``steps + 1``."""

    index: int
    steps: int
    stopped: bool
    loss: float
    diverged: bool = False


@dataclass
class _Running:
    """A member in the pool: its index in ``members``, its Member, its last finite loss."""

    index: int
    member: Member
    loss: float = math.nan


def train_population(
    members: Sequence[Member],
    sample: Callable[[torch.Generator], BatchLike],
    config: PopulationConfig,
    *,
    on_result: Callable[[MemberResult], None] | None = None,
    progress: Callable[[PopulationProgress], None] | None = None,
) -> list[MemberResult]:
    """Train every member in lockstep; each member's model holds its final weights afterwards.

    ``on_result`` is called the moment a member is final (stopped, diverged or out of steps),
    ``progress`` after every step. The members in training are a
    :class:`~lstmlab.training._pool.MemberPool`, each with its parameters and optimizer state;
    a final member leaves it, so a step computes only the members still training.
    """
    if not members:
        raise ValueError("members: expected at least one Member, received none")
    template = members[0].model
    names = [name for name, _ in template.named_parameters()]
    for k, member in enumerate(members):
        shapes = [(n, p.shape) for n, p in member.model.named_parameters()]
        if shapes != [(n, p.shape) for n, p in template.named_parameters()]:
            raise ValueError(f"members[{k}].model: expected the parameters of members[0].model "
                             f"{[(n, tuple(s)) for n, s in shapes]}")
    params = {n: torch.stack([dict(m.model.named_parameters())[n].detach() for m in members])
              for n in names}
    opt_state = config.optimizer.init(params)
    pool: MemberPool[_Running, dict[str, Stacked]] = MemberPool()
    for k, member in enumerate(members):
        pool.join(_Running(k, member), {"params": row(params, k), "opt": row(opt_state, k)})
    results: list[MemberResult | None] = [None] * len(members)

    def finish(running: _Running, state: dict[str, Stacked], steps: int, stopped: bool,
               diverged: bool = False) -> None:
        """A member left: its model takes its final weights before anyone hears of it."""
        with torch.no_grad():
            for n, p in running.member.model.named_parameters():
                p.copy_(state["params"][n])
        results[running.index] = MemberResult(running.index, steps, stopped, running.loss,
                                              diverged)
        if on_result is not None:
            on_result(results[running.index])

    scratch = copy.deepcopy(template)

    def member_model(k: int) -> SequenceModel:
        """A copy of the network with pool member k's current weights (what ``train`` would
        hold)."""
        with torch.no_grad():
            for n, p in scratch.named_parameters():
                p.copy_(pool.row(k)["params"][n])
        return scratch

    step = 0
    while step < config.max_steps and len(pool):
        step += 1
        running = pool.records
        batches = [sample(r.member.generator) for r in running]
        for batch in batches:
            check_batch(batch)
        stacked = _stack(batches)
        data = (stacked.inputs, stacked.targets, stacked.mask)
        before = pool.stacked
        everyone = torch.ones(len(running), dtype=torch.bool, device=params[names[0]].device)
        new_params, new_state, member_losses, outputs = config.algorithm(
            template, before["params"], before["opt"], config.optimizer, everyone, data,
            config.loss)
        finite = torch.isfinite(member_losses)
        for p in new_params.values():
            finite &= torch.isfinite(p).flatten(1).all(1)
        # A member whose loss or weights turned non-finite keeps its weights of before.
        pool.update({"params": {n: where_active(finite, p, before["params"][n])
                                for n, p in new_params.items()},
                     "opt": {n: where_active(finite, s, before["opt"][n])
                             for n, s in new_state.items()}})
        leaving = []
        for k, (r, batch) in enumerate(zip(running, batches, strict=True)):
            if not finite[k]:
                leaving.append((k, step - 1, False, True))
                continue
            r.loss = float(member_losses[k])
            info = StepInfo(step, r.loss, batch, outputs[k, :batch.inputs.shape[0]],
                            functools.partial(member_model, k))
            if r.member.stop is not None and r.member.stop(info):
                leaving.append((k, step, True, False))
        gone = pool.leave([k for k, *_ in leaving])
        for (r, state), (_, steps, stopped, diverged) in zip(gone, leaving, strict=True):
            finish(r, state, steps, stopped, diverged)
        if progress is not None:
            losses = [math.nan if r is None else r.loss for r in results]
            for r in pool:
                losses[r.index] = r.loss
            progress(PopulationProgress(step, len(pool), tuple(losses)))
    for r, state in pool.leave(range(len(pool))):
        finish(r, state, step, stopped=False)
    return [r for r in results if r is not None]


def _losses_and_grads(
    forward: Callable[[dict[str, Tensor], Tensor], Tensor], params: dict[str, Tensor],
    data: tuple[Tensor, Tensor, Tensor], loss: Loss,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """Every member's loss (K,), outputs (K, T, B, O) and gradient (one backward of the sum)."""
    inputs, targets, mask = data
    leaves = {n: p.detach().requires_grad_() for n, p in params.items()}
    outputs = forward(leaves, inputs)
    member_losses = vmap(loss)(outputs, targets, mask)
    grads = torch.autograd.grad(member_losses.sum(), list(leaves.values()))
    return member_losses.detach(), outputs.detach(), dict(zip(leaves, grads, strict=True))


def _stack(batches: Sequence[BatchLike]) -> SequenceBatch:
    """Stack K batches along a new leading axis, padding time to the longest: (K, T, B, ...)."""
    steps = max(b.inputs.shape[0] for b in batches)
    sizes = {b.inputs.shape[1] for b in batches}
    if len(sizes) != 1:
        raise ValueError(f"sample: expected the same batch size B for every member, "
                         f"received {sorted(sizes)}")

    def pad(x: Tensor) -> Tensor:
        extra = steps - x.shape[0]
        return torch.cat([x, x.new_zeros((extra, *x.shape[1:]))]) if extra else x

    return SequenceBatch(*(torch.stack([pad(getattr(b, name)) for b in batches])
                           for name in ("inputs", "targets", "mask")),
                         torch.stack([b.lengths for b in batches]))
