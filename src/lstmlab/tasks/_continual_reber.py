"""The continual embedded Reber grammar (CERG) of [G00] (Gers, Schmidhuber & Cummins 2000, §4).

Embedded Reber strings (:mod:`lstmlab.tasks._reber`, [H97] §5.1) follow each other in one
unbroken stream: after a string's final E comes the next string's B, with no reset of the net.
The net predicts the next symbol at every step (``targets`` the symbol that comes, ``choices``
every symbol the grammar allows, which after an E is B alone). ``lengths`` are the full stream.

Protocol ([G00] Table 2 footnotes): a network counts as a "perfect" solution when it predicts
**10 streams of 100,000 symbols** correctly; results are averages over **100** networks. From a
secondary summary of [G00], not yet checked against the paper: a training stream ends at the
first wrong prediction
or after 10^6 symbols, the net is tested after each training stream, at most 30,000 training
streams are used, and a prediction is correct when every output unit's squared error is below
0.49 -- which we read against the allowed-next indicator (``choices``): an allowed unit must
exceed 0.3, every other unit must stay below 0.7. ``threshold`` is a parameter.

Streams for online training: ``task.stream(batch_size, generator)`` returns a
:class:`ReberStream`; each ``next(steps)`` continues every member's stream where it stopped.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from lstmlab.cells import G2, H1
from lstmlab.tasks._batch import Batch, check_outputs
from lstmlab.tasks._published import PublishedRow
from lstmlab.tasks._reber import INDEX, SYMBOLS, Coins, embedded_reber
from lstmlab.tasks._setup import BiasedUnits, Connectivity, Setup1997
from lstmlab.tasks._stopping import TestSetRule

_BIAS = (-0.5, -1.0, -1.5, -2.0)


def _setup(decay: float | None) -> Setup1997:
    """4 blocks of 2 cells, 424 weights, forget-gate biases +0.5 .. +2.0 ([G00] §4, from the
    secondary summary of the module docstring)."""
    return Setup1997(
        experiment="CERG", blocks=4, block_size=2, input_size=7, output_size=7, weights=424,
        connectivity=Connectivity.G00, biased=BiasedUnits.GATES_AND_OUTPUTS, output_gate=True,
        output_gate_bias=_BIAS, input_gate_bias=_BIAS, forget_gate_bias=(0.5, 1.0, 1.5, 2.0),
        h=H1, g=G2, learning_rate=0.5, learning_rate_decay=decay, init_range=0.2, trials=100,
        test_size=10, max_sequences=30_000, reset_each_sequence=False,
        source="[G00] §4 and Table 2; set-up partly from a secondary summary (module docstring)")


SETUP = _setup(None)
SETUP_ALPHA_DECAY = _setup(0.99)
_PERFECT = "perfect = 10 streams of 100,000 symbols right; sequences = training streams"
PUBLISHED = (
    PublishedRow("lstm1997_external_reset", "CERG", 100, 0.74, 7_441,
                 "good 0 %; rest 26 % <31>; " + _PERFECT, "[G00] Table 2"),
    PublishedRow("lstm1997", "CERG", 100, 0.0, None,
                 "good 1 % <1,166>; rest 99 % <37>; " + _PERFECT, "[G00] Table 2"),
    PublishedRow("lstm1997_state_decay", "CERG", 100, 0.0, None,
                 "decay 0.9; good 0 %; rest 100 % <56>; " + _PERFECT, "[G00] Table 2"),
    PublishedRow("lstm_forget", "CERG", 100, 0.18, 18_889,
                 "good 29 % <39,171>; rest 53 % <145>; " + _PERFECT, "[G00] Table 2"),
    PublishedRow("lstm_forget_alpha_decay", "CERG", 100, 0.62, 14_087,
                 "good 6 % <68,464>; rest 32 % <30>; " + _PERFECT, "[G00] Table 2"),
)


class ReberStream:
    """``batch_size`` unbroken CERG streams drawn from ``generator``.

    Each member gets its own coin source, seeded from ``generator`` at construction, so the
    symbols a member sees do not depend on how the stream is cut into ``next`` calls.
    """

    def __init__(self, batch_size: int, generator: torch.Generator) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, received {batch_size}")
        seeds = torch.randint(2**62, (batch_size,), generator=generator).tolist()
        self.flips = [Coins(torch.Generator().manual_seed(seed)) for seed in seeds]
        self.pending: list[list[tuple[int, int]]] = [[] for _ in range(batch_size)]

    def _fill(self, member: int, need: int) -> None:
        queue = self.pending[member]
        while len(queue) < need:
            string, allowed = embedded_reber(self.flips[member])
            allowed[-1] = frozenset("B")  # the next string follows at once
            queue.extend((INDEX[s], sum(1 << INDEX[a] for a in nxt))
                         for s, nxt in zip(string, allowed, strict=True))

    def next(self, steps: int) -> Batch:
        """The next ``steps`` symbols of every stream, as a (steps, B, 7) batch."""
        if steps < 1:
            raise ValueError(f"steps: expected >= 1, received {steps}")
        symbols, masks = [], []
        for member, queue in enumerate(self.pending):
            self._fill(member, steps + 1)
            symbols.append([s for s, _ in queue[: steps + 1]])
            masks.append([m for _, m in queue[:steps]])
            del queue[:steps]
        symbols_t = torch.tensor(symbols).T  # (steps + 1, B)
        bits = torch.tensor(masks).T.unsqueeze(-1)  # (steps, B, 1)
        choices = (bits >> torch.arange(len(SYMBOLS))) & 1 == 1
        code = torch.nn.functional.one_hot(symbols_t, len(SYMBOLS)).float()
        batch_size = len(self.pending)
        return Batch(code[:-1], code[1:], torch.ones(steps, batch_size, dtype=torch.bool),
                     torch.full((batch_size,), steps), choices=choices)


class ContinualEmbeddedReber:
    """CERG of [G00]: ``sample`` gives whole test-length streams, ``stream`` online ones."""

    input_size = len(SYMBOLS)
    output_size = len(SYMBOLS)

    def __init__(self, stream_length: int = 100_000, threshold: float = 0.49,
                 alpha_decay: bool = False) -> None:
        self.stream_length, self.threshold = stream_length, threshold
        self.name = "CERG"
        self.setup = SETUP_ALPHA_DECAY if alpha_decay else SETUP
        self.published = PUBLISHED
        self.stopping = (TestSetRule("10 test streams right", check_every=1),)
        self.test_size = 10
        self.max_training_stream = 1_000_000

    def stream(self, batch_size: int, generator: torch.Generator) -> ReberStream:
        return ReberStream(batch_size, generator)

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        return ReberStream(batch_size, generator).next(self.stream_length)

    def step_correct(self, outputs: Tensor, batch: Batch) -> Tensor:
        """(T, B) True where every unit's squared error to the allowed-next indicator is below
        ``threshold``."""
        check_outputs(outputs, batch)
        return ((outputs - batch.choices.float()) ** 2 < self.threshold).all(dim=-1)

    def error_free_length(self, outputs: Tensor, batch: Batch) -> Tensor:
        """(B,) steps predicted right before the first mistake ([G00] Table 2's <...>)."""
        wrong = ~self.step_correct(outputs, batch)
        first = torch.where(wrong, torch.arange(batch.steps).unsqueeze(1), batch.steps)
        return first.amin(dim=0)

    def is_correct(self, outputs: Tensor, batch: Batch) -> Tensor:
        return self.step_correct(outputs, batch).all(dim=0)

    def errors(self, outputs: Tensor, batch: Batch) -> Tensor:
        """(B,) fraction of steps predicted wrong."""
        return 1.0 - self.step_correct(outputs, batch).float().mean(dim=0)

    def test_batches(self, generator: torch.Generator, batch_size: int = 256) -> Iterator[Batch]:
        for start in range(0, self.test_size, batch_size):
            yield self.sample(min(batch_size, self.test_size - start), generator)

    def stopping_batches(self, generator: torch.Generator,
                         batch_size: int = 256) -> Iterator[Batch]:
        return self.test_batches(generator, batch_size)
