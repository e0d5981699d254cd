"""The training loop: one visible loop for every algorithm, with the chores done right.

    for step = done+1 .. max_steps:
        batch   = sample(generator)                       the task's data stream
        check(batch)                                      a malformed batch fails here, named
        outcome = algorithm(model, batch, loss, optimizer)  all the learning happens here
        if outcome.loss or a weight is not finite: raise NonFiniteError (last checkpoint kept)
        progress(TrainProgress(...))                      the CLI renders it; no print here
        if stop(StepInfo(...)): break                     the task's criterion
        every checkpoint_seconds (and at the end): save a checkpoint atomically

A checkpoint holds everything the rest of the run depends on: model and optimizer state, the data
generator's state, torch's global RNG state, the step counter, the elapsed time and the stopping
criterion's state (when it has ``state_dict``/``load_state_dict``). ``train`` with an existing
checkpoint at ``checkpoint_path`` resumes from it, so a run killed at any point and restarted ends
with the same weights as a run never stopped.

Every choice is an option of :class:`TrainConfig`, none a module global: the algorithm (BPTT,
truncated BPTT, RTRL, the 1997 online method, or any object following
:class:`~lstmlab.training._algorithm.Algorithm`, e.g. the tour's clipped next-word step), the
optimizer, the loss, how a batch is checked (``check``; the tour's batches are token matrices)
and whether a non-finite loss or weight ends the run (``guard``).

Every single-net training in the library runs here: the tour's language model, and every trial
of the 1997 reproductions' gradient methods (``modern`` and the competitors' RTRL, BPTT, Elman
and chunker, through ``lstmlab.reproduce._trial_loop.train_trials``, whose ``stop`` is the
trial's criterion and stopping rule). ``lstm1997``'s population trains many nets in lockstep
and has its own loop (``lstmlab.training._pool``).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmlab.training._algorithm import Algorithm
from lstmlab.training._batch import BatchLike, check_batch
from lstmlab.training._bptt import BPTT
from lstmlab.training._checkpoint import load_checkpoint, save_checkpoint
from lstmlab.training._losses import Loss, sum_squared_error
from lstmlab.training._optimizers import SGD, Adam, TorchOptimizer


class NonFiniteError(FloatingPointError):
    """The loss or a weight became NaN or infinite; the last good checkpoint is left intact."""


@dataclass(frozen=True)
class StepInfo:
    """What a stopping criterion sees after each step: the ``loss`` and the ``outputs``
    (T, B, O) made while learning on ``batch``; ``current_model()`` gives the network with the
    weights after the step (to check a test set; for a population member, a scratch copy)."""

    step: int
    loss: float
    batch: BatchLike
    outputs: Tensor
    current_model: Callable[[], nn.Module]


#: ``stop(info) -> True`` ends training (the task's success criterion).
StopCriterion = Callable[[StepInfo], bool]


@dataclass(frozen=True)
class TrainProgress:
    """Reported after every ``report_every`` steps and at the end."""

    step: int
    max_steps: int
    loss: float
    elapsed_seconds: float


@dataclass(frozen=True)
class TrainConfig:
    """How to train: ``max_steps`` batches at most (the budget), with ``algorithm``,
    ``optimizer`` and ``loss``; checkpoints every ``checkpoint_seconds`` of training time (and
    every ``checkpoint_steps`` steps when given) to ``checkpoint_path``, and at the end.
    ``check(batch)`` raises on a malformed batch (:func:`~lstmlab.training._batch.check_batch`,
    for time-first batches; None checks nothing, for batches of another kind). ``guard``: a
    non-finite loss or weight raises :class:`NonFiniteError`; without it training goes on (a
    caller whose stopping rule judges the outputs, e.g. a trial, sees the divergence there)."""

    max_steps: int
    optimizer: SGD | Adam | TorchOptimizer
    algorithm: Algorithm = field(default_factory=BPTT)
    loss: Loss = sum_squared_error
    checkpoint_path: Path | None = None
    checkpoint_seconds: float = 60.0
    checkpoint_steps: int | None = None
    report_every: int = 1
    check: Callable[[Any], None] | None = check_batch
    guard: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.max_steps, int) or self.max_steps < 0:
            raise ValueError(f"max_steps: expected an int >= 0, received {self.max_steps!r}")
        if self.checkpoint_steps is not None and self.checkpoint_steps < 1:
            raise ValueError(f"checkpoint_steps: expected >= 1, received {self.checkpoint_steps}")
        if self.report_every < 1:
            raise ValueError(f"report_every: expected >= 1, received {self.report_every}")


@dataclass(frozen=True)
class TrainResult:
    """``steps`` done in all (across resumes); ``stopped``: the criterion fired (success);
    ``resumed_from``: the step the last start resumed at (0 for a fresh run)."""

    steps: int
    stopped: bool
    loss: float
    elapsed_seconds: float
    resumed_from: int


def train(
    model: nn.Module,
    sample: Callable[[torch.Generator], BatchLike],
    config: TrainConfig,
    *,
    generator: torch.Generator,
    stop: StopCriterion | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place on batches ``sample(generator)``; see the module docstring.

    For a task of :mod:`lstmlab.tasks`, ``sample = functools.partial(task.sample, batch_size)``
    (batch_size 1 is the papers' online learning). ``model`` is usually a
    :class:`~lstmlab.training._model.SequenceModel`; any module the algorithm knows how to run
    will do (the tour's language model). A checkpoint at ``config.checkpoint_path``
    is resumed from; the returned ``steps`` count the steps of all starts together.
    """
    optimizer = config.optimizer.build(model.parameters())
    path = None if config.checkpoint_path is None else Path(config.checkpoint_path)
    step, elapsed, stopped, loss_value = 0, 0.0, False, math.nan
    if path is not None and path.exists():
        saved = load_checkpoint(path)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        generator.set_state(saved["generator"])
        torch.set_rng_state(saved["torch_rng"])
        if hasattr(stop, "load_state_dict"):
            stop.load_state_dict(saved["stop"])
        step, elapsed, stopped, loss_value = (saved["step"], saved["elapsed"], saved["stopped"],
                                              saved["loss"])
    resumed_from, saved_at = step, step
    started, last_save = time.monotonic() - elapsed, time.monotonic()

    def checkpoint() -> None:
        nonlocal last_save, saved_at
        if path is None:
            return
        payload = {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "generator": generator.get_state(), "torch_rng": torch.get_rng_state(),
            "step": step, "elapsed": time.monotonic() - started, "stopped": stopped,
            "loss": loss_value,
        }
        if hasattr(stop, "state_dict"):
            payload["stop"] = stop.state_dict()
        save_checkpoint(path, payload)
        last_save, saved_at = time.monotonic(), step

    while not stopped and step < config.max_steps:
        batch = sample(generator)
        if config.check is not None:
            config.check(batch)
        outcome = config.algorithm(model, batch, config.loss, optimizer)
        step += 1
        if config.guard:
            _guard(model, outcome.loss, step,
                   path if path is not None and path.exists() else None, saved_at)
        loss_value = float(outcome.loss)
        if stop is not None:
            stopped = bool(stop(StepInfo(step, loss_value, batch, outcome.outputs, lambda: model)))
        last = stopped or step == config.max_steps
        if progress is not None and (step % config.report_every == 0 or last):
            progress(TrainProgress(step, config.max_steps, loss_value, time.monotonic() - started))
        due = (config.checkpoint_steps is not None and step % config.checkpoint_steps == 0)
        if due or time.monotonic() - last_save >= config.checkpoint_seconds:
            checkpoint()
    if saved_at != step or (path is not None and not path.exists()):
        checkpoint()
    return TrainResult(step, stopped, loss_value, time.monotonic() - started, resumed_from)


def _guard(model: nn.Module, loss: Tensor, step: int, path: Path | None,
           saved_at: int) -> None:
    """Raise NonFiniteError when the loss or a weight is NaN or infinite."""
    bad = [name for name, p in model.named_parameters() if not bool(torch.isfinite(p).all())]
    if bool(torch.isfinite(loss)) and not bad:
        return
    kept = (f"the last good checkpoint (step {saved_at}) is kept at {os.fspath(path)}"
            if path is not None else "no checkpoint was written")
    what = f"loss = {float(loss)}" + (f", non-finite weights: {', '.join(bad)}" if bad else "")
    raise NonFiniteError(f"training diverged at step {step} ({what}); {kept}")
