"""Experiment 1's task with its fixed strings encoded once, for the competitors' trial loops.

``EmbeddedReber`` (``lstmlab.tasks.reber``) encodes strings into one-hot batches in Python at
every call: a training sequence costs about a millisecond to encode, and every check of the
stopping rule (every 100 sequences) re-encodes all 512 training and test strings. Once the
competitors train a sequence in a few microseconds (``fully_recurrent_kernel``), that encoding
is most of a trial's time. Its strings are fixed per trial, so :class:`CachedReber` encodes each
once and hands out the same batches: the same random draws from the same generator, hence the
same trial, only faster (the tests compare the two).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import torch

from lstmlab.reproduce.experiment import Experiment
from lstmlab.tasks.batch import Batch
from lstmlab.tasks.reber import EmbeddedReber, encode


class CachedReber:
    """``task`` (an ``EmbeddedReber``) with the batches of its fixed strings cached.

    ``sample(1, generator)`` draws the string index exactly as ``EmbeddedReber.sample`` does and
    returns that string's cached encoding; larger batches go to the task. ``stopping_batches``
    and ``test_batches`` (fixed sets; the generator is unused) are encoded once per batch size.
    Every other attribute is the task's. Batches handed out are shared: do not modify them.
    """

    def __init__(self, task: EmbeddedReber) -> None:
        self.task = task
        self._single = [encode([string]) for string in task.train_strings]
        self._sets: dict[tuple[str, int], list[Batch]] = {}

    def __getattr__(self, name: str):
        return getattr(self.task, name)

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        if batch_size != 1:
            return self.task.sample(batch_size, generator)
        pick = torch.randint(len(self.task.train_strings), (1,), generator=generator)
        return self._single[int(pick)]

    def _fixed(self, kind: str, batch_size: int) -> Iterator[Batch]:
        key = (kind, batch_size)
        if key not in self._sets:
            self._sets[key] = list(getattr(self.task, kind)(None, batch_size))
        return iter(self._sets[key])

    def stopping_batches(self, generator: torch.Generator | None = None,
                         batch_size: int = 256) -> Iterator[Batch]:
        return self._fixed("stopping_batches", batch_size)

    def test_batches(self, generator: torch.Generator | None = None,
                     batch_size: int = 256) -> Iterator[Batch]:
        return self._fixed("test_batches", batch_size)


def with_cached_encodings(experiment: Experiment) -> Experiment:
    """``experiment`` whose ``EmbeddedReber`` tasks come wrapped in :class:`CachedReber`
    (other tasks unchanged)."""
    make_task = experiment.make_task

    def make(seed: int):
        task = make_task(seed)
        return CachedReber(task) if isinstance(task, EmbeddedReber) else task

    return dataclasses.replace(experiment, make_task=make)
