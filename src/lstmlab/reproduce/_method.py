"""The contract between the reproduction runner and a training method.

A *method* is anything that can train networks on an experiment's task until the experiment's
stopping rule fires or the budget runs out: the paper's LSTM (``lstm1997``), a modern LSTM
(``modern``), or a 1997 competitor (RTRL, BPTT, Elman, RCC, the chunker, random guessing). The
runner knows nothing about how a method learns; it hands over the seeds still missing from the
store and commits every :class:`TrialResult` the moment the method yields it.

A method may run its trials one after another or as a *population* (K networks trained in
lockstep as one batched computation) and yield each member's result as soon as that member
stops. Results must depend on the seed alone, never on which other seeds share the population,
so that a resumed run (which only runs the missing seeds) ends with the same numbers.

The budget is counted in training sequences presented, the unit of [H97]'s tables.

Optionally, a method with ``with_checkpoints(directory, config_hash) -> Method`` gets from the
runner a folder for checkpoints of its unfinished trials (``lstm1997``:
``lstmlab.reproduce._member_checkpoint``), and resumes them when run again. To checkpoint on Ray
as well (``OnRay``), it also takes ``keep_finished=True`` (leave a finished trial's file) and has
``discard_checkpoint(experiment, seed)``, which the driver calls once the row is stored. Given
``nets=FOLDER`` as well (``reproduce --keep-nets``), it writes each finished trial's network there
at its stop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import torch

if TYPE_CHECKING:
    from lstmlab.reproduce._experiment import Experiment

#: What a method calls while it trains: ``report(sequences_seen, best_error)``, where
#: ``sequences_seen`` counts the training sequences presented so far in this call, summed over the
#: members of a population, and ``best_error`` is the lowest recent training error of any member.
TrialProgress = Callable[[int, float], None]


@dataclass(frozen=True)
class TrialResult:
    """The outcome of one trial (one seed), as stored.

    ``sequences`` is the number of training sequences presented until the stopping rule fired
    (success) or until the budget ran out (failure). ``test_error`` is the fraction of fresh test
    sequences processed incorrectly after training (the "1 of 2560 wrong" of [H97] Tables 4-9).
    ``curve`` is the learning curve: (sequences seen, mean training error) pairs.
    """

    seed: int
    success: bool
    sequences: int
    test_error: float
    wall_time: float
    curve: tuple[tuple[int, float], ...] = field(default=(), compare=False)


@runtime_checkable
class Method(Protocol):
    """A way of training networks on the 1997 tasks.

    ``name`` is the method's key in the store and the tables (``"lstm1997"``, ``"modern"``).
    ``fingerprint(experiment)`` returns every setting that changes this method's numbers on that
    experiment (a frozen dataclass or a tuple of them); the runner hashes it into the store's
    ``config_hash`` so that changed settings never mix with old rows.
    ``run_trials`` trains one network per seed and yields each result as soon as it is final.
    """

    name: str

    def fingerprint(self, experiment: Experiment) -> object: ...

    def run_trials(
        self,
        experiment: Experiment,
        seeds: Sequence[int],
        budget: int,
        progress: TrialProgress,
    ) -> Iterable[TrialResult]: ...


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` intra-op threads (None: leave torch's setting), then
    restore. The 1997 networks are tiny: on a shared 2-core machine one thread per run is
    several times faster than threads contending for the cores."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
