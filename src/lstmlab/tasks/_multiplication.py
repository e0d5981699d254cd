"""Experiment 5 of [H97]: the multiplication problem (§5.5, Table 8).

Hochreiter & Schmidhuber 1997, §5.5: "Like the task in Section 5.4, except that the first
component of each pair is a real value randomly chosen from the interval [0, 1]. In the rare
case where the first pair of the input sequence gets marked, we set X1 to 1.0. The target at
sequence end is the product X1 x X2." The pairs, markers and lengths are those of
:mod:`lstmlab.tasks._adding` (same readings). Correct: absolute error at the end below 0.04.

Stopping (§5.5): "We test performance twice: as soon as less than n_seq of the 2000 most recent
training sequences lead to absolute errors exceeding 0.04, where n_seq = 140, and n_seq = 13",
each followed by a 2,560-sequence test: two window rules, met at up to 139 and 12 wrong.
Set-up: as Experiment 4 but learning rate 0.1 and input-gate biases "r" ([H97] Table 10 row 5).
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from lstmlab.tasks._adding import (
    marked_pairs_batch,
    marked_pairs_each,
    marked_pairs_words,
    pairs_setup,
)
from lstmlab.tasks._batch import Batch, final_abs_error, final_verdicts, fresh_batches
from lstmlab.tasks._published import PublishedRow
from lstmlab.tasks._stopping import RecentWindowRule
from lstmlab.tasks._words import WordStream

SETUP = pairs_setup("5", 0.1, None)
#: Table 8's means are over all 10 trials, each "required to achieve the stopping criterion".
TABLE_8_ALL_REACHED = (
    'Table 8 caption: "The rightmost column lists numbers of training sequences required to '
    'achieve the stopping criterion. All values are means of 10 trials."; §5.5: "the average '
    'test set error was always below 0.026 (0.013)"')
PUBLISHED = (
    PublishedRow("lstm1997", "T=100, n_seq=140", 10, None, 482_000,
                 "139 of 2560 wrong; test MSE 0.0223", "[H97] Table 8", TABLE_8_ALL_REACHED),
    PublishedRow("lstm1997", "T=100, n_seq=13", 10, None, 1_273_000,
                 "14 of 2560 wrong; test MSE 0.0139", "[H97] Table 8", TABLE_8_ALL_REACHED),
)


class Multiplication:
    """[H97] Experiment 5 with minimal length ``T`` (100 in Table 8)."""

    input_size = 2
    output_size = 1

    def __init__(self, T: int = 100) -> None:
        if T < 22 or T % 2:
            raise ValueError(f"T: expected an even length >= 22, received {T}")
        self.T = T
        self.name = f"5 multiplication T={T}"
        self.setup = SETUP
        self.published = PUBLISHED if T == 100 else ()
        self.stopping = tuple(RecentWindowRule(f"n_seq={n}", window=2000, max_wrong=n - 1)
                              for n in (140, 13))
        self.test_size = 2560

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        return marked_pairs_batch(self.T, batch_size, generator, low=0.0, first_pair_value=1.0,
                                  combine=operator.mul)

    @property
    def data_key(self) -> tuple:
        """Tasks with equal keys draw the same sequences from the same generator state."""
        return ("multiplication", self.T)

    def sample_each(self, generators: Sequence[torch.Generator]) -> Batch:
        """One sequence per generator, equal to ``concat([sample(1, g) for g in ...])``."""
        return marked_pairs_each(self.T, generators, low=0.0, first_pair_value=1.0,
                                 combine=operator.mul)

    @classmethod
    def sample_words(cls, tasks: Sequence[Multiplication], streams: Sequence[WordStream]
                     ) -> Batch | None:
        """``sample_each`` from the members' words drawn ahead (``lstmlab.tasks._words``); None
        unless every task draws the same sequences (one ``data_key``)."""
        if len({task.data_key for task in tasks}) != 1:
            return None
        return marked_pairs_words(tasks[0].T, streams, low=0.0, first_pair_value=1.0,
                                  combine=operator.mul)

    def errors(self, outputs: Tensor, batch: Batch) -> Tensor:
        return final_abs_error(outputs, batch)

    def is_correct(self, outputs: Tensor, batch: Batch) -> Tensor:
        return final_abs_error(outputs, batch) < 0.04

    def verdicts(self, outputs: Tensor, batch: Batch) -> tuple[list[bool], list[float]]:
        """``is_correct`` and ``errors`` as lists, in one pass (``final_verdicts``)."""
        return final_verdicts(outputs, batch, 0.04, mean_error=False)

    def test_batches(self, generator: torch.Generator, batch_size: int = 256) -> Iterator[Batch]:
        return fresh_batches(self.sample, self.test_size, generator, batch_size)

    def stopping_batches(self, generator: torch.Generator,
                         batch_size: int = 256) -> Iterator[Batch]:
        """The rules are judged on the training stream; no separate set (empty)."""
        return iter(())
