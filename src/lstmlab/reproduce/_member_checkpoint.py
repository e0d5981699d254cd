"""Checkpoints of the ``lstm1997`` method's in-flight trials, so a killed run loses no work.

The runner already commits every finished trial; this module keeps the unfinished ones. Every
``CheckpointEvery.seconds`` of wall time (and/or every ``steps`` lockstep steps) each member of
the population (``lstmlab.training._pool.MemberPool``) is written to its own file; a member
whose seed has a checkpoint when it joins the pool resumes from it; a finished trial's file is
deleted once the runner has committed its row. Where the runner asks for them
(``reproduce --keep-nets``), a finished trial's network is also written, at its stop, to a
``nets`` folder beside ``checkpoints``, so that the probes can read the nets a run ended with.

What is saved: everything a member's future depends on, the pool's ``member_state_dict``.

- ``weights``: its row of the population's weights (one network, no leading K), as nested
  dicts of tensors;
- beside it, its record's ``state_dict()`` (``lstm1997``'s members: their ``Trial``'s and the
  construction's):
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from lstmlab.training._checkpoint import load_checkpoint
from lstmlab.training._pool import MemberPool

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
    #: Leave a finished trial's file for the caller to delete once it has stored the row
    #: (``OnRay``: a Ray task's results reach the store only after the task has returned,
    #: so a file deleted in the task would leave a finished but unstored trial unprotected).
    keep_finished: bool = False
    #: Where each finished trial's network, as it was at its stop, is written in the same
    #: format (``<nets>/<experiment>-<method>-<seed>-<config_hash>.pt``), for the probes'
    #: ``--checkpoints``; never read back by a run. None: not kept.
    nets: Path | None = None


class Member(Protocol):
    """What a pool member needs to be saved and restored: its seed names its file."""

    seed: int

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


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

    def save(self, pool: MemberPool[Member, Any]) -> None:
        """Write every member of ``pool``, each to its seed's file."""
        Path(self.place.directory).mkdir(parents=True, exist_ok=True)
        for k in range(len(pool)):
            self._write(pool, k, Path(self.place.directory))
        self._saved_at = time.monotonic()

    def keep_net(self, pool: MemberPool[Member, Any], k: int) -> Path | None:
        """Write member ``k`` of ``pool`` (a trial at its stop) to the place's ``nets`` folder;
        its path, or None where the place keeps no nets."""
        if self.place.nets is None:
            return None
        Path(self.place.nets).mkdir(parents=True, exist_ok=True)
        return self._write(pool, k, Path(self.place.nets))

    def _write(self, pool: MemberPool[Member, Any], k: int, folder: Path) -> Path:
        seed = pool.records[k].seed
        saved = pool.member_state_dict(k)
        path = folder / self.path(seed).name
        _save_atomically(path, {**self.identity, "seed": seed, "weights": saved["state"],
                                **saved["record"]})
        return path

    def join(self, pool: MemberPool[Member, Any], seed: int,
             build: Callable[[int], tuple[Member, Any]]) -> None:
        """Join ``build(seed)`` (a fresh record and state) to ``pool``, continued from the
        seed's checkpoint when it has a usable one."""
        path = self.path(seed)
        if path.exists():
            # Anything wrong with the file (unreadable, another trial's, other shapes) means it
            # is not used; the member is then rebuilt, as restoring may have begun.
            try:
                payload = load_checkpoint(path)
                expected = {**self.identity, "seed": seed}
                found = {name: payload.get(name) for name in expected}
                if found != expected:
                    raise ValueError(f"checkpoint: expected {expected}, received {found}")
                record, fresh = build(seed)
                pool.join_state_dict(record, fresh, {"state": payload["weights"],
                                                     "record": payload})
            except Exception as error:  # noqa: BLE001 - any failure: start the trial afresh
                rejected = path.with_name(path.name + ".rejected")
                os.replace(path, rejected)
                logger.warning("seed %d: checkpoint %s not used (%s: %s); moved to %s, the "
                               "trial starts from zero", seed, path, type(error).__name__, error,
                               rejected)
            else:
                logger.info("seed %d: resumed at %d sequences from %s", seed,
                            payload["criterion"]["sequences"], path)
                return
        pool.join(*build(seed))


def _save_atomically(path: Path, payload: dict[str, Any]) -> None:
    # A per-process temporary name: two processes sharing a store may save the same seed.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        torch.save(payload, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
