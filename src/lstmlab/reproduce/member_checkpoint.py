"""Checkpoints of the ``lstm1997`` method's in-flight trials, so a killed run loses no work.

The runner already commits every finished trial; this module keeps the unfinished ones. Every
``CheckpointEvery.seconds`` of wall time (and/or every ``steps`` lockstep steps) each member of
the population is written to its own file; a member whose seed has a checkpoint when it joins
resumes from it; a finished trial's file is deleted once the runner has committed its row.

What is saved: everything a member's future depends on.

- ``weights``: its row of the population's weights (one network, no leading K);
- ``generator``: its training stream (``task.sample`` draws from it) as ``get_state()``;
- ``criterion``: sequences seen, curve, error sums of the open curve point, recent error, the
  stopping-set generator and the recent-window tracker (``Criterion.state_dict``);
- ``construction``: the sequential construction of 2a/2b, the ``PlateauTracker`` state and
  the cell output weights held aside until phase 2 (``held_output``);
- ``task``: the task's ``state_dict()`` where it has one. The 1997 tasks hold none: they draw
  from the generator passed in, and their one cache (Experiment 1's encoded strings) is a pure
  function of the strings fixed by the seed;
- ``elapsed``: the wall time spent so far (the time after the last checkpoint is lost).

A member's numbers do not depend on the members beside it (``online_sequence`` is bit for bit
the same in any population), so a resumed member, in whatever population, continues exactly as
the uninterrupted one: same sequences, curve, success and test error.

Where: ``<out>/checkpoints/<experiment>-<method>-<seed>-<config_hash>.pt``, beside the store
but not in it. Checkpoints are rewritten every minute and thrown away at the end of a trial;
in the SQLite store each write would take the store's one write lock, which processes sharing
the store need for committing results, and grow its WAL. As files they are written with
``torch.save`` to a temporary name and ``os.replace``d (atomic: a kill leaves the old or the
new file, never half of one), read with ``torch.load(weights_only=True)`` (tensors and plain
types only), and deleting the folder is all it takes to start trials afresh. A kill between a
row's commit and its file's deletion leaves a stale file behind; the runner never hands a
finished seed to the method again, so it is never read.

A checkpoint that cannot be read or does not fit (other seed, config hash or format; weights or
tracker of other shapes) is not used: a warning is logged, the file is renamed ``*.rejected``
and the trial starts from zero. Its numbers are then still the right ones (same seed, same
trial); only time is lost, whereas refusing would stop a long unattended run over one file.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor

from lstmlab.reproduce.criteria import Criterion
from lstmlab.reproduce.sequential1997 import PlateauTracker
from lstmlab.training.checkpoint import load_checkpoint
from lstmlab.training.network1997 import NetworkWeights1997, map_weights, member

FORMAT = 1
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckpointEvery:
    """When in-flight trials are saved: every ``seconds`` of wall time and/or every ``steps``
    lockstep steps (None: not by that measure). Changes only speed, never numbers."""

    seconds: float | None = 60.0
    steps: int | None = None

    def __post_init__(self) -> None:
        if self.seconds is not None and not self.seconds >= 0:
            raise ValueError(f"seconds: expected >= 0 or None, received {self.seconds}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps: expected >= 1 or None, received {self.steps}")


@dataclass(frozen=True)
class CheckpointPlace:
    """Where the runner wants checkpoints: a folder, and the store's config hash of the
    (experiment, method, budget) whose trials are running."""

    directory: Path
    config_hash: str


class Member(Protocol):
    """What a population member of ``lstm1997`` exposes to be saved and restored."""

    seed: int
    task: Any
    generator: torch.Generator
    weights: NetworkWeights1997
    construction: PlateauTracker | None
    held_output: Tensor
    criterion: Criterion
    started: float


class MemberCheckpoints:
    """The checkpoint files of one (experiment, method, config hash)."""

    def __init__(self, place: CheckpointPlace, experiment: str, method: str,
                 every: CheckpointEvery) -> None:
        self.place, self.experiment, self.method, self.every = place, experiment, method, every
        self.identity = {"format": FORMAT, "experiment": experiment, "method": method,
                         "config_hash": place.config_hash}
        self._saved_at = time.monotonic()

    def path(self, seed: int) -> Path:
        return Path(self.place.directory) / (
            f"{self.experiment}-{self.method}-{seed}-{self.place.config_hash}.pt")

    def due(self, steps: int) -> bool:
        """Whether to save after lockstep step ``steps``."""
        by_steps = self.every.steps is not None and steps % self.every.steps == 0
        by_time = (self.every.seconds is not None
                   and time.monotonic() - self._saved_at >= self.every.seconds)
        return by_steps or by_time

    def save(self, members: Sequence[Member], weights: NetworkWeights1997) -> None:
        """Write every member (member k's weights are row k of ``weights``)."""
        Path(self.place.directory).mkdir(parents=True, exist_ok=True)
        for k, one in enumerate(members):
            _save_atomically(self.path(one.seed), self._payload(one, member(weights, k)))
        self._saved_at = time.monotonic()

    def _payload(self, one: Member, weights: NetworkWeights1997) -> dict[str, Any]:
        task_state = getattr(one.task, "state_dict", None)
        construction = None if one.construction is None else {
            "plateau": one.construction.state_dict(),
            "held_output": one.held_output.detach().clone()}
        return {**self.identity, "seed": one.seed,
                "weights": _weights_state(weights), "generator": one.generator.get_state(),
                "criterion": one.criterion.state_dict(), "construction": construction,
                "task": task_state() if task_state is not None else None,
                "elapsed": time.perf_counter() - one.started}

    def resume(self, seed: int, build: Callable[[int], Member]) -> Member:
        """``build(seed)``, continued from the seed's checkpoint when it has a usable one."""
        path = self.path(seed)
        if not path.exists():
            return build(seed)
        # Anything wrong with the file (unreadable, another trial's, other shapes) means it
        # is not used; the member is then rebuilt, as restoring may have begun.
        try:
            payload = load_checkpoint(path)
            restored = build(seed)
            self._restore(restored, payload)
        except Exception as error:  # noqa: BLE001 - any failure: start the trial afresh
            rejected = path.with_name(path.name + ".rejected")
            os.replace(path, rejected)
            logger.warning("seed %d: checkpoint %s not used (%s: %s); moved to %s, the trial "
                           "starts from zero", seed, path, type(error).__name__, error, rejected)
            return build(seed)
        logger.info("seed %d: resumed at %d sequences from %s", seed,
                    restored.criterion.sequences, path)
        return restored

    def _restore(self, one: Member, payload: dict[str, Any]) -> None:
        expected = {**self.identity, "seed": one.seed}
        found = {name: payload.get(name) for name in expected}
        if found != expected:
            raise ValueError(f"checkpoint: expected {expected}, received {found}")
        one.weights = _load_weights(payload["weights"], one.weights)
        one.generator.set_state(payload["generator"])
        one.criterion.load_state_dict(payload["criterion"])
        construction = payload["construction"]
        if (construction is None) != (one.construction is None):
            raise ValueError("checkpoint['construction']: expected "
                             f"{'none' if one.construction is None else 'a plateau state'}, "
                             f"received {'none' if construction is None else 'one'}")
        if construction is not None:
            held = construction["held_output"]
            _check_like(held, one.held_output, "held_output")
            one.construction.load_state_dict(construction["plateau"])
            one.held_output = held
        if payload["task"] is not None:
            one.task.load_state_dict(payload["task"])
        one.started = time.perf_counter() - float(payload["elapsed"])


def _weights_state(weights: NetworkWeights1997) -> dict[str, Any]:
    # clone: a row of the population shares its storage, which torch.save would write whole.
    copy = map_weights(lambda part: part.detach().clone(), weights)
    return {"cell": copy.cell._asdict(),
            **{name: getattr(copy, name) for name in NetworkWeights1997._fields[1:]}}


def _load_weights(state: dict[str, Any], like: NetworkWeights1997) -> NetworkWeights1997:
    """The saved weights, checked part by part against a fresh member's ``like``."""
    cell = {name: state["cell"][name] for name in like.cell._fields}
    rest = {name: state[name] for name in NetworkWeights1997._fields[1:]}
    for name, saved in (*cell.items(), *rest.items()):
        mine = getattr(like.cell, name) if name in cell else getattr(like, name)
        _check_like(saved, mine, f"weights.{name}")
    return NetworkWeights1997(type(like.cell)(**cell), **rest)


def _check_like(saved: Tensor | None, mine: Tensor | None, name: str) -> None:
    if saved is None and mine is None:
        return
    if (saved is None or mine is None or saved.shape != mine.shape
            or saved.dtype != mine.dtype):
        def describe(t: Tensor | None) -> str:
            return "None" if t is None else f"{t.dtype} of shape {tuple(t.shape)}"

        raise ValueError(f"checkpoint {name}: expected {describe(mine)}, received "
                         f"{describe(saved)}")


def _save_atomically(path: Path, payload: dict[str, Any]) -> None:
    # A per-process temporary name: two processes sharing a store may save the same seed.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        torch.save(payload, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
