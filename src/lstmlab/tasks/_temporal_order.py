"""Experiment 6 of [H97]: temporal order (§5.6, Table 9).

Hochreiter & Schmidhuber 1997, §5.6. Local coding of 8 input symbols (``SYMBOLS`` order E, B,
a, b, c, d, X, Y is our choice). "The sequence starts with an E, ends with a B (the 'trigger
symbol') and otherwise consists of randomly chosen symbols from the set {a, b, c, d} except for
two elements at positions t1 and t2 that are either X or Y. The sequence length is randomly
chosen between 100 and 110, t1 is randomly chosen between 10 and 20, and t2 is randomly chosen
between 50 and 60." Classes: XX -> Q, XY -> R, YX -> S, YY -> U (6a). 6b has three relevant
positions, t1 in 10-20, t2 in 33-43, t3 in 66-76, and eight classes XXX -> Q, XXY -> R,
XYX -> S, XYY -> U, YXX -> V, YXY -> A, YYX -> B, YYY -> C.

Readings: all ranges are uniform over the integers, both ends included; positions count
sequence elements from 1 (E is element 1), which matches Table 10's minimal lags (6a: 100 - 60
= 40; 6b: 100 - 76 = 24). X or Y is a fair coin at each relevant position, so classes are
equally likely. With X = 0 and Y = 1 the class index is the binary number the relevant symbols
spell (6a: 2 s1 + s2; 6b: 4 s1 + 2 s2 + s3), which is the paper's class order.

Targets: one output unit per class, local binary target, error only at the sequence end (the
step that reads B). Correct: "the final absolute error of all output units is below 0.3".
Stopping: ST3(0.1), "average training error falls below 0.1 and the 2000 most recent sequences
were classified correctly"; then 2,560 fresh test sequences.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn.functional import one_hot

from lstmlab.cells import G2, H1
from lstmlab.tasks._batch import (
    Batch,
    final_abs_error,
    final_mean_abs_error,
    final_step_mask,
    final_verdicts,
    fresh_batches,
)
from lstmlab.tasks._published import PublishedRow
from lstmlab.tasks._setup import BiasedUnits, Connectivity, Setup1997
from lstmlab.tasks._stopping import st3
from lstmlab.tasks._words import WordStream

SYMBOLS = ("E", "B", "a", "b", "c", "d", "X", "Y")
CLASSES = {"6a": ("Q", "R", "S", "U"), "6b": ("Q", "R", "S", "U", "V", "A", "B", "C")}
#: The intervals of the relevant positions t1, t2 (, t3), counted from 1, inclusive.
INTERVALS = {"6a": ((10, 20), (50, 60)), "6b": ((10, 20), (33, 43), (66, 76))}


def _setup(name: str, blocks: int, outputs: int, weights: int, lr: float, trials: int,
           input_gate_bias: tuple[float, ...]) -> Setup1997:
    return Setup1997(
        experiment=name, blocks=blocks, block_size=2, input_size=8, output_size=outputs,
        weights=weights, connectivity=Connectivity.F, biased=BiasedUnits.ALL, output_gate=True,
        output_gate_bias=None, input_gate_bias=input_gate_bias, h=H1, g=G2, learning_rate=lr,
        init_range=0.1, trials=trials, test_size=2560, source="[H97] §5.6, Tables 9, 10, 11")


SETUPS = {
    "6a": _setup("6a", 2, 4, 156, 0.5, 20, (-2.0, -4.0)),
    "6b": _setup("6b", 3, 8, 308, 0.1, 10, (-2.0, -4.0, -6.0)),
}
#: Table 9's means are over all its trials, each "required to achieve the stopping criterion".
TABLE_9_ALL_REACHED = (
    'Table 9 caption: "The rightmost column gives the number of training sequences required to '
    'achieve the stopping criterion. The results for Task 6a are means of 20 trials; those for '
    'Task 6b of 10 trials."; §5.6: "the average test set error was always below 0.1"')
PUBLISHED = (
    PublishedRow("lstm1997", "6a", 20, None, 31_390, "1 of 2560 wrong", "[H97] Table 9",
                 TABLE_9_ALL_REACHED),
    PublishedRow("lstm1997", "6b", 10, None, 571_100, "2 of 2560 wrong", "[H97] Table 9",
                 TABLE_9_ALL_REACHED),
)


class TemporalOrder:
    """Task 6a (two relevant symbols) or 6b (three)."""

    input_size = len(SYMBOLS)

    def __init__(self, variant: str = "6a", min_length: int = 100, max_length: int = 110) -> None:
        if variant not in SETUPS:
            raise ValueError(f"variant: expected one of {sorted(SETUPS)}, received {variant!r}")
        last_relevant = INTERVALS[variant][-1][1]
        if not last_relevant < min_length <= max_length:
            raise ValueError(f"min_length, max_length: expected {last_relevant} < min_length <= "
                             f"max_length, received {min_length}, {max_length}")
        self.variant, self.min_length, self.max_length = variant, min_length, max_length
        self.output_size = len(CLASSES[variant])
        self.name = variant
        self.setup = SETUPS[variant]
        self.published = tuple(r for r in PUBLISHED if r.setting == variant)
        self.stopping = (st3(0.1),)
        self.test_size = 2560

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        lengths = torch.randint(self.min_length, self.max_length + 1, (batch_size,),
                                generator=generator)
        steps = int(lengths.max())
        rows = torch.arange(batch_size)
        symbols = 2 + torch.randint(4, (steps, batch_size), generator=generator)  # a, b, c, d
        symbols[0] = 0  # E
        labels = torch.zeros(batch_size, dtype=torch.long)
        for low, high in INTERVALS[self.variant]:
            position = torch.randint(low, high + 1, (batch_size,), generator=generator) - 1
            bit = torch.randint(2, (batch_size,), generator=generator)  # 0 = X, 1 = Y
            symbols[position, rows] = 6 + bit
            labels = 2 * labels + bit
        symbols[lengths - 1, rows] = 1  # B, the trigger
        real = torch.arange(steps).unsqueeze(1) < lengths
        inputs = one_hot(symbols, len(SYMBOLS)).float() * real.unsqueeze(-1)
        targets = torch.zeros(steps, batch_size, self.output_size)
        targets[lengths - 1, rows, labels] = 1.0
        return Batch(inputs, targets, final_step_mask(lengths, steps), lengths, labels=labels)

    @property
    def data_key(self) -> tuple:
        """Tasks with equal keys draw the same sequences from the same generator state."""
        return ("temporal order", self.variant, self.min_length, self.max_length)

    def sample_each(self, generators: Sequence[torch.Generator]) -> Batch:
        """One sequence per generator, equal to ``concat([sample(1, g) for g in ...])`` bit
        for bit: each generator makes the draws of ``sample(1, g)`` in their order, and the
        rest is done once for the population (tests/tasks/test_temporal_order.py)."""
        intervals = INTERVALS[self.variant]
        lengths, raws, positions, bits = [], [], [], []
        one = (1,)
        for generator in generators:
            length = int(torch.randint(self.min_length, self.max_length + 1, one,
                                       generator=generator))
            lengths.append(length)
            raws.append(torch.randint(4, (length,), generator=generator))
            for low, high in intervals:
                positions.append(torch.randint(low, high + 1, one, generator=generator))
                bits.append(torch.randint(2, one, generator=generator))
        raw = np.zeros((max(lengths), len(lengths)), dtype=np.int64)
        for k, values in enumerate(raws):
            raw[: lengths[k], k] = values.numpy()
        return self._assemble(lengths, raw, torch.cat(positions).numpy(),
                              torch.cat(bits).numpy())

    @classmethod
    def sample_words(cls, tasks: Sequence[TemporalOrder], streams: Sequence[WordStream]
                     ) -> Batch | None:
        """``sample_each`` from the members' words drawn ahead (``lstmlab.tasks._words``): the
        same draws, each ``randint`` one word; None unless the tasks share one ``data_key``."""
        if len({task.data_key for task in tasks}) != 1:
            return None
        self = tasks[0]
        intervals = INTERVALS[self.variant]
        spread, size = self.max_length - self.min_length + 1, len(streams)
        words = np.zeros((self.max_length, size), dtype=np.uint32)
        marks = np.empty((size, 2 * len(intervals)), dtype=np.uint32)
        lengths = []
        for k, stream in enumerate(streams):
            length = stream.word() % spread + self.min_length
            drawn = stream.take(length + 2 * len(intervals))
            words[:length, k] = drawn[:length]
            marks[k] = drawn[length:]  # per interval: randint(low, high + 1), randint(2)
            lengths.append(length)
        lows = np.array([low for low, _ in intervals], dtype=np.int64)
        spans = np.array([high - low + 1 for low, high in intervals], dtype=np.uint32)
        positions = (marks[:, 0::2] % spans).astype(np.int64) + lows
        bits = (marks[:, 1::2] % np.uint32(2)).astype(np.int64)
        raw = (words[: max(lengths)] % np.uint32(4)).astype(np.int64)  # randint(4, (length,))
        return self._assemble(lengths, raw, positions.ravel(), bits.ravel())

    def _assemble(self, lengths: list[int], raw: np.ndarray, positions: np.ndarray,
                  bits: np.ndarray) -> Batch:
        """The population's batch from each sequence's draws (``sample_each``): ``raw`` (steps,
        K) the ``randint(4, (length,))`` draws (anything after a sequence's end), ``positions``
        and ``bits`` (K * intervals,) member by member. In NumPy: integer and 0/1 values only,
        the same tensors as ``sample``'s torch code."""
        intervals = len(INTERVALS[self.variant])
        size, steps = len(lengths), raw.shape[0]
        ends, rows = np.array(lengths, dtype=np.int64) - 1, np.arange(size)
        symbols = 2 + raw  # (steps, K): a, b, c, d
        symbols[0] = 0  # E
        position = positions.reshape(size, intervals) - 1
        bit = bits.reshape(size, intervals)
        labels = np.zeros(size, dtype=np.int64)
        for j in range(intervals):
            symbols[position[:, j], rows] = 6 + bit[:, j]
            labels = 2 * labels + bit[:, j]
        symbols[ends, rows] = 1  # B, the trigger
        time = np.arange(steps)[:, None]
        inputs = np.zeros((steps, size, len(SYMBOLS)), dtype=np.float32)
        inputs[time, rows, symbols] = time <= ends  # one-hot, zero after each end
        targets = np.zeros((steps, size, self.output_size), dtype=np.float32)
        targets[ends, rows, labels] = 1.0
        return Batch(torch.from_numpy(inputs), torch.from_numpy(targets),
                     torch.from_numpy(time == ends), torch.from_numpy(ends + 1),
                     labels=torch.from_numpy(labels))

    def errors(self, outputs: Tensor, batch: Batch) -> Tensor:
        return final_mean_abs_error(outputs, batch)

    def is_correct(self, outputs: Tensor, batch: Batch) -> Tensor:
        return final_abs_error(outputs, batch) < 0.3

    def verdicts(self, outputs: Tensor, batch: Batch) -> tuple[list[bool], list[float]]:
        """``is_correct`` and ``errors`` as lists, in one pass (``final_verdicts``)."""
        return final_verdicts(outputs, batch, 0.3, mean_error=True)

    def test_batches(self, generator: torch.Generator, batch_size: int = 256) -> Iterator[Batch]:
        return fresh_batches(self.sample, self.test_size, generator, batch_size)

    def stopping_batches(self, generator: torch.Generator,
                         batch_size: int = 256) -> Iterator[Batch]:
        """ST3 is judged on the training stream; no separate set (empty)."""
        return iter(())
