"""The copy (memory) task of Arjovsky, Shah & Bengio 2016 ([URNN], "Unitary Evolution Recurrent
Neural Networks", ICML 2016), the modern long-memory standard.

As coded in the authors' ``amarshah/complex_RNN/memory_problem.py`` (``generate_data``), for a
delay T and ``n_sequence`` = 10 symbols:

    input  = 10 symbols uniform on {1..8}, then T - 1 blanks (0), the marker 9, then 10 blanks
    target = T + 10 blanks (0), then the same 10 symbols

so every sequence has T + 20 steps. Inputs are one-hot over 10 values (0..9), outputs are 9
classes (0..8); the loss is cross-entropy at every step. The memoryless strategy (blank until
the marker, then uniform over the 8 symbols) scores ``10 log(8) / (T + 20)``
(:func:`memoryless_cross_entropy`); [URNN] reports that LSTMs land almost exactly on it except
at the shortest delay (curves, no table).

``targets`` are one-hot floats (T + 20, B, 9) like every other task; the class is
``targets.argmax(-1)``. ``outputs`` are logits. ``is_correct``: the argmax is right at every
step (our criterion; the paper plots cross-entropy only).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor
from torch.nn.functional import one_hot

from lstmlab.tasks._batch import Batch, check_outputs, fresh_batches, mean_cross_entropy
from lstmlab.tasks._published import PublishedRow
from lstmlab.tasks._setup import ModernSetup

BLANK, MARKER, ALPHABET = 0, 9, 8

SETUP = ModernSetup(
    optimizer=torch.optim.RMSprop, learning_rate=1e-3, batch_size=20, hidden_size=512,
    gradient_clip=1.0, forget_bias=1.0, train_size=100_000, test_size=10_000, iterations=20_000,
    loss=mean_cross_entropy,
    source="[URNN] amarshah/complex_RNN memory_problem.py and models.py (command-line defaults)")
PUBLISHED = (
    PublishedRow("lstm", "T in {100, 200, 300, 500}", None, None, None,
                 '"almost exactly the same cost as the memoryless strategy" except the shortest '
                 "delay; curves only", "[URNN] draft TeX §5.1, figures memory_{100,200,300,500}"),
)


def memoryless_cross_entropy(T: int, n_sequence: int = 10) -> float:
    """The baseline of [URNN]: ``n_sequence log(8) / (T + 2 n_sequence)`` per step."""
    return n_sequence * math.log(ALPHABET) / (T + 2 * n_sequence)


class CopyMemory:
    """The copy task with delay ``T`` (100, 200, 300, 500 in [URNN]'s figures)."""

    input_size = 10
    output_size = 9

    def __init__(self, T: int = 100, n_sequence: int = 10) -> None:
        if T < 1 or n_sequence < 1:
            raise ValueError(f"T, n_sequence: expected >= 1, received {T}, {n_sequence}")
        self.T, self.n_sequence = T, n_sequence
        self.name = f"copy T={T}"
        self.setup = SETUP
        self.published = PUBLISHED
        self.stopping = ()
        self.test_size = SETUP.test_size

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        T, n = self.T, self.n_sequence
        sequence = torch.randint(1, ALPHABET + 1, (n, batch_size), generator=generator)
        blanks = torch.zeros(T - 1, batch_size, dtype=torch.long)
        marker = torch.full((1, batch_size), MARKER)
        tail = torch.zeros(n, batch_size, dtype=torch.long)
        inputs = torch.cat([sequence, blanks, marker, tail])
        targets = torch.cat([torch.zeros(T + n, batch_size, dtype=torch.long), sequence])
        steps = T + 2 * n
        lengths = torch.full((batch_size,), steps)
        return Batch(one_hot(inputs, self.input_size).float(),
                     one_hot(targets, self.output_size).float(),
                     torch.ones(steps, batch_size, dtype=torch.bool), lengths)

    def errors(self, outputs: Tensor, batch: Batch) -> Tensor:
        """(B,) cross-entropy per step of each sequence."""
        check_outputs(outputs, batch)
        losses = torch.nn.functional.cross_entropy(
            outputs.permute(1, 2, 0), batch.targets.argmax(-1).T, reduction="none")
        return losses.mean(dim=1)

    def is_correct(self, outputs: Tensor, batch: Batch) -> Tensor:
        check_outputs(outputs, batch)
        return (outputs.argmax(-1) == batch.targets.argmax(-1)).all(dim=0)

    def test_batches(self, generator: torch.Generator, batch_size: int = 256) -> Iterator[Batch]:
        return fresh_batches(self.sample, self.test_size, generator, batch_size)

    def stopping_batches(self, generator: torch.Generator,
                         batch_size: int = 256) -> Iterator[Batch]:
        """No stopping rule in the paper (fixed budget): the test set judges success."""
        return self.test_batches(generator, batch_size)
