"""A generator's random words drawn ahead: a population's samplers without a torch call per draw.

A CPU ``torch.Generator`` is an MT19937 engine: every draw of ``torch.randint`` and
``torch.rand`` (float32) on it consumes 32-bit words of one stream, one word per element, and
turns each word into a number by a fixed rule (PyTorch's ``ATen/core/TransformationHelper.h``):

    torch.randint(low, high, (n,))    word % (high - low) + low        (high - low < 2**24)
    torch.rand(n)  (float32)          (word & 0xFFFFFF) * 2**-24

(wider ranges of ``randint`` take two words per element: not used here.) A 1997 population
trains each member on its own generator, one sequence per step, and each sequence costs a few
such draws: ~40 torch calls per step of 10 members, as much time as the C loop's training of
the ten. :class:`WordStream` instead draws a few thousand words at a time in one call
(``random_`` over the full int64 range: two words per element, ``hi << 32 | lo``), and the
samplers compute their numbers from the words by the rules above: the same sequences, and the
generator, once :meth:`WordStream.sync` has run, in the state the single draws leave it in.
``tests/tasks/test_words.py`` checks the words against NumPy's MT19937 (the same engine and
seeding), the rules against torch for every range up to 2**16 and every ``rand`` size a task
uses, and each task's ``sample_words`` against its ``sample(1, generator)`` draw for draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from lstmlab.tasks._batch import Batch, Task

#: The widest ``randint`` range served from one word each (torch's own limit is wider).
MAX_RANGE = 1 << 16
_UNIT = np.float32(2.0 ** -24)


class WordStream:
    """``generator``'s 32-bit words, drawn ``chunk`` (or more) at a time.

    While words are held ahead, the generator itself is ahead of what the draws have used:
    :meth:`sync` puts it back exactly where the draws so far leave it (before a checkpoint
    saves it, or before anyone draws from it directly); :meth:`discard` drops the words when
    the generator's state was replaced from outside (a checkpoint loaded)."""

    def __init__(self, generator: torch.Generator, chunk: int = 4096) -> None:
        if generator.device.type != "cpu":
            raise ValueError(f"generator: expected a CPU generator, received one on "
                             f"{generator.device}")
        if chunk < 2:
            raise ValueError(f"chunk: expected at least 2 words, received {chunk}")
        self.generator = generator
        self.chunk = chunk
        self._start: torch.Tensor | None = None  # the generator's state before the words
        self._words = np.empty(0, dtype=np.uint32)
        self._used = 0

    def take(self, n: int) -> np.ndarray:
        """The next ``n`` words (uint32; a view: read it before the next ``take``)."""
        if self._used + n > len(self._words):
            self._refill(n)
        used = self._used
        self._used = used + n
        return self._words[used:used + n]

    def ahead(self, n: int) -> np.ndarray:
        """The next ``n`` words without using them (a view; :meth:`advance` uses them)."""
        if self._used + n > len(self._words):
            self._refill(n)
        return self._words[self._used:self._used + n]

    def advance(self, n: int) -> None:
        """Use the next ``n`` words, after :meth:`ahead` of at least ``n``."""
        if self._used + n > len(self._words):
            raise ValueError(f"n: expected at most the {len(self._words) - self._used} words "
                             f"ahead, received {n}")
        self._used += n

    def word(self) -> int:
        """The next word."""
        if self._used == len(self._words):
            self._refill(1)
        self._used += 1
        return int(self._words[self._used - 1])

    def integers(self, low: int, high: int, n: int) -> np.ndarray:
        """``torch.randint(low, high, (n,), generator=g)``'s values (int64)."""
        span = high - low
        if not 0 < span <= MAX_RANGE:
            raise ValueError(f"low, high: expected 0 < high - low <= {MAX_RANGE}, received "
                             f"{low}, {high}")
        return (self.take(n) % np.uint32(span)).astype(np.int64) + low

    def uniform(self, n: int) -> np.ndarray:
        """``torch.rand(n, generator=g)``'s values (float32)."""
        return (self.take(n) & np.uint32(0xFFFFFF)).astype(np.float32) * _UNIT

    def sync(self) -> None:
        """Leave the generator in the state the draws so far leave it in; drop the words ahead."""
        if self._start is None:
            return
        self.generator.set_state(self._start)
        skip(self.generator, self._used)
        self.discard()

    def discard(self) -> None:
        """Forget the words ahead without touching the generator."""
        self._start, self._words, self._used = None, np.empty(0, dtype=np.uint32), 0

    def _refill(self, n: int) -> None:
        self.sync()
        self._start = self.generator.get_state()
        self._words = draw_words(self.generator, max(n, self.chunk))
        self._used = 0


def draw_words(generator: torch.Generator, n: int) -> np.ndarray:
    """The generator's next ``n`` words (rounded up to even: two per int64 drawn), in order."""
    pairs = torch.empty((n + 1) // 2, dtype=torch.int64)
    pairs.random_(-(1 << 63), None, generator=generator)  # the full range: hi << 32 | lo
    # little-endian int64: lo then hi in memory -> swap each pair into draw order
    return pairs.numpy().view(np.uint32).reshape(-1, 2)[:, ::-1].ravel()


def skip(generator: torch.Generator, n: int) -> None:
    """Advance ``generator`` by ``n`` words (``randint`` with a range of 2: one word each)."""
    if n:
        torch.randint(2, (n,), generator=generator)


def sample_words(tasks: Sequence[Task], streams: Sequence[WordStream]) -> Batch:
    """``sample_each(tasks, [s.generator for s in streams])``, bit for bit, from the streams'
    words where the tasks' class has a ``sample_words(tasks, streams)`` (it returns None where
    it cannot serve these tasks); otherwise the streams are synced and the generators draw."""
    from lstmlab.tasks._batch import sample_each

    if len(tasks) != len(streams):
        raise ValueError(f"tasks, streams: expected one task per stream, received "
                         f"{len(tasks)} and {len(streams)}")
    kind = type(tasks[0])
    method = _SAMPLERS.get(kind, _SAMPLERS)
    if method is _SAMPLERS:
        method = getattr(kind, "sample_words", None)
        # a subclass that draws otherwise (its own ``sample``) does not inherit the sampler
        if _owner(kind, "sample_words") is not _owner(kind, "sample"):
            method = None
        _SAMPLERS[kind] = method
    if method is not None and all(type(task) is kind for task in tasks):
        batch = method(tasks, streams)
        if batch is not None:
            return batch
    for stream in streams:
        stream.sync()
    return sample_each(tasks, [stream.generator for stream in streams])


#: Each task class's word sampler (None: it has none, or a subclass draws otherwise), looked
#: up once: a population samples at every step.
_SAMPLERS: dict[type, object] = {}


def _owner(kind: type, name: str) -> type | None:
    return next((base for base in kind.__mro__ if name in vars(base)), None)
