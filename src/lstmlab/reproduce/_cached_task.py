"""Experiment 2a with its two distinct sequences built once (the competitors, lstm1997 and modern),
and Experiment 1's stopping and test sets run on their distinct strings (lstm1997's C loop).

(Experiment 1 needs no wrapper: ``EmbeddedReber`` itself encodes each of its fixed strings
once, for every method.)

Experiment 2a has only two distinct sequences (``x`` and ``y`` then the fixed a_1 .. a_{p-1};
no random middle), yet its stopping rule draws 10,000 fresh ones at every check (every 1,000
training sequences): 2 x 10^8 floats of one-hot inputs and targets and a forward pass over all
of them. :class:`CachedLongLag` draws the same labels from the same generator, runs the net on
the two distinct sequences only (a :class:`DrawnPair` batch) and hands every drawn sequence the
verdict and error of its twin. A net processes equal sequences equally, so the stopping rule and
test error come out the same, up to the rounding of batched matrix products.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from lstmlab.reproduce._experiment import Experiment
from lstmlab.tasks import Batch, EmbeddedReber, NoiseFreeLongLag
from lstmlab.tasks._batch import concat
from lstmlab.tasks._reber import encode
from lstmlab.tasks._words import WordStream


@dataclass(frozen=True)
class DrawnPair(Batch):
    """2a's two distinct sequences (batch of 2: label 0 then 1) standing in for the sequences
    drawn with labels ``draws`` (N,): a net's outputs on it are judged by
    :meth:`CachedLongLag.is_correct` and :meth:`CachedLongLag.errors` as N verdicts."""

    draws: Tensor | None = None


class CachedLongLag:
    """``task`` (a ``NoiseFreeLongLag`` without random middle, i.e. 2a) with its two distinct
    sequences built once; see the module docstring. Every other attribute is the task's."""

    def __init__(self, task: NoiseFreeLongLag) -> None:
        if task.random_middle:
            raise ValueError("task: expected 2a (random_middle=False), received 2b")
        self.task = task
        found = task.sample(64, torch.Generator().manual_seed(0))
        first = [int(torch.nonzero(found.labels == label)[0]) for label in (0, 1)]
        self._pair = Batch(found.inputs[:, first], found.targets[:, first], found.mask[:, first],
                           found.lengths[first], labels=found.labels[first])
        pair = self._pair
        self._single = [Batch(pair.inputs[:, k:k + 1].contiguous(),
                              pair.targets[:, k:k + 1].contiguous(),
                              pair.mask[:, k:k + 1].contiguous(), pair.lengths[k:k + 1],
                              labels=pair.labels[k:k + 1]) for k in (0, 1)]

    def __getattr__(self, name: str):
        return getattr(self.task, name)

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        if batch_size != 1:
            return self.task.sample(batch_size, generator)
        label = torch.randint(2, (1,), generator=generator)   # NoiseFreeLongLag.sample's draw
        return self._single[int(label)]

    @classmethod
    def sample_words(cls, tasks: Sequence[CachedLongLag], streams: Sequence[WordStream]
                     ) -> Batch:
        """One sequence per member, its label ``sample(1, generator)``'s draw computed from one
        word of its stream (``lstmlab.tasks._words``): the same batch as ``sample_each``."""
        return concat([task._single[stream.word() % 2]
                       for task, stream in zip(tasks, streams, strict=True)])

    def test_batches(self, generator: torch.Generator, batch_size: int = 256) -> Iterator[Batch]:
        """The task's ``test_batches`` (``fresh_batches`` of ``test_size``), label for label."""
        pair = self._pair
        for start in range(0, self.task.test_size, batch_size):
            size = min(batch_size, self.task.test_size - start)
            draws = torch.randint(2, (size,), generator=generator)
            yield DrawnPair(pair.inputs, pair.targets, pair.mask, pair.lengths,
                            labels=pair.labels, draws=draws)

    def stopping_batches(self, generator: torch.Generator,
                         batch_size: int = 256) -> Iterator[Batch]:
        return self.test_batches(generator, batch_size)

    def _plain(self, batch: Batch) -> Batch:
        return Batch(batch.inputs, batch.targets, batch.mask, batch.lengths, labels=batch.labels)

    def errors(self, outputs: Tensor, batch: Batch) -> Tensor:
        if isinstance(batch, DrawnPair):
            return self.task.errors(outputs, self._plain(batch))[batch.draws]
        return self.task.errors(outputs, batch)

    def is_correct(self, outputs: Tensor, batch: Batch) -> Tensor:
        if isinstance(batch, DrawnPair):
            return self.task.is_correct(outputs, self._plain(batch))[batch.draws]
        return self.task.is_correct(outputs, batch)


@dataclass(frozen=True)
class DistinctStrings(Batch):
    """Exp. 1's distinct strings of one chunk of a stopping or test set, standing in for the
    chunk's N strings ``whole``: string n is distinct string ``draws[n]`` (N,). A net's outputs
    on it are judged by :meth:`DistinctReber.is_correct` (each distinct string's verdict handed
    out: min, max and comparisons are exact) and :meth:`DistinctReber.errors` (the outputs
    handed out to the N strings, ``outputs[:, draws]``, then judged on ``whole``, so the sum
    runs over the chunk's own (T, N) layout: torch's sum over T rounds by a column's place)."""

    draws: Tensor | None = None
    whole: Batch | None = None

    def parts(self) -> list[DistinctStrings]:
        """This chunk as two: its first ``PART`` distinct strings and the rest, each with the
        draws (the chunk's strings) that are its strings and no ``whole``: verdicts only
        (``Criterion.check`` counts the wrong strings part by part and stops at the part where
        too many are wrong; a check that fails on an untrained net then runs ~8 strings, not
        the chunk's ~100). Between them the parts hand out the chunk's verdicts, in another
        order. Built once per chunk (the chunks are kept, ``_DISTINCT``)."""
        cached = self.__dict__.get("_parts")
        if cached is None:
            cached = []
            for start, stop in ((0, PART), (PART, self.batch_size)):
                if start >= stop:
                    continue
                taken = (self.draws >= start) & (self.draws < stop)
                steps = int(self.lengths[start:stop].max())
                cached.append(DistinctStrings(
                    self.inputs[:steps, start:stop].contiguous(),
                    self.targets[:steps, start:stop].contiguous(),
                    self.mask[:steps, start:stop].contiguous(), self.lengths[start:stop],
                    choices=self.choices[:steps, start:stop].contiguous(),
                    draws=self.draws[taken] - start))
            object.__setattr__(self, "_parts", cached)  # frozen: kept beside the fields
        return cached


#: Distinct strings in a chunk's first part (``DistinctStrings.parts``).
PART = 8

#: Distinct-string chunks by (strings, targets, batch size): ``DistinctReber._chunks``.
_DISTINCT: dict[tuple, list[DistinctStrings]] = {}


class DistinctReber:
    """``task`` (an ``EmbeddedReber``) whose stopping and test sets are run on their distinct
    strings: chunk for chunk those of ``task.stopping_batches``/``test_batches`` (the training
    set is drawn with replacement, ~100 distinct strings among its 256; the test set ~170),
    every string then handed its twin's outputs and the chunk judged as a whole. Only for a net
    that processes every string on its own, whatever the batch around it (the C loop's forward
    pass, ``lstm1997`` with kernel checks): there the outputs, and so the stopping decisions
    and test errors, are bit for bit those of the whole chunk
    (tests/reproduce/test_cached_task.py). Encoded once per set of strings, for all members
    that share them."""

    def __init__(self, task: EmbeddedReber) -> None:
        self.task = task

    def __getattr__(self, name: str):
        return getattr(self.task, name)

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        return self.task.sample(batch_size, generator)

    @classmethod
    def sample_words(cls, tasks: Sequence[DistinctReber], streams: Sequence[WordStream]
                     ) -> Batch | None:
        return EmbeddedReber.sample_words([task.task for task in tasks], streams)

    def stopping_batches(self, generator: torch.Generator | None = None,
                         batch_size: int = 256) -> Iterator[Batch]:
        """``task.stopping_batches``: all training strings, then all test strings."""
        return iter(self._chunks(self.task.train_strings + self.task.test_strings, batch_size))

    def test_batches(self, generator: torch.Generator | None = None,
                     batch_size: int = 256) -> Iterator[Batch]:
        """``task.test_batches``: the test strings."""
        return iter(self._chunks(self.task.test_strings, batch_size))

    def _chunks(self, strings: list[str], batch_size: int) -> list[DistinctStrings]:
        key = (tuple(strings), self.task.targets, batch_size)
        chunks = _DISTINCT.get(key)
        if chunks is None:
            chunks = []
            for start in range(0, len(strings), batch_size):
                chunk = strings[start:start + batch_size]
                distinct = list(dict.fromkeys(chunk))  # in order of first appearance
                place = {string: k for k, string in enumerate(distinct)}
                batch = encode(distinct, self.task.targets)
                chunks.append(DistinctStrings(
                    batch.inputs, batch.targets, batch.mask, batch.lengths,
                    choices=batch.choices, draws=torch.tensor([place[s] for s in chunk]),
                    whole=encode(chunk, self.task.targets)))
            if len(_DISTINCT) >= 64:
                _DISTINCT.clear()
            _DISTINCT[key] = chunks
        return chunks

    def is_correct(self, outputs: Tensor, batch: Batch) -> Tensor:
        # the verdict's reductions are min, max and all: exact in any order, so the distinct
        # strings are judged alone and the verdicts handed out
        if isinstance(batch, DistinctStrings):
            plain = Batch(batch.inputs, batch.targets, batch.mask, batch.lengths,
                          choices=batch.choices)
            return self.task.is_correct(outputs, plain)[batch.draws]
        return self.task.is_correct(outputs, batch)

    def errors(self, outputs: Tensor, batch: Batch) -> Tensor:
        if isinstance(batch, DistinctStrings):
            if batch.whole is None:
                raise ValueError("batch: a part of a chunk (DistinctStrings.parts) has "
                                 "verdicts only; judge the errors on the whole chunk")
            return self.task.errors(outputs[:, batch.draws], batch.whole)
        return self.task.errors(outputs, batch)


def with_distinct_strings(experiment: Experiment) -> Experiment:
    """``experiment`` whose ``EmbeddedReber`` tasks (exact type) come wrapped in
    :class:`DistinctReber`; only for nets that process each string on its own (see there)."""
    make_task = experiment.make_task

    def make(seed: int):
        task = make_task(seed)
        return DistinctReber(task) if type(task) is EmbeddedReber else task

    return dataclasses.replace(experiment, make_task=make)


def with_cached_encodings(experiment: Experiment) -> Experiment:
    """``experiment`` whose 2a ``NoiseFreeLongLag`` tasks come wrapped in :class:`CachedLongLag`
    (other tasks, subclasses included, unchanged)."""
    make_task = experiment.make_task

    def make(seed: int):
        task = make_task(seed)
        # Exact type: a subclass may draw or judge its sequences otherwise.
        if type(task) is NoiseFreeLongLag and not task.random_middle:
            return CachedLongLag(task)
        return task

    return dataclasses.replace(experiment, make_task=make)
