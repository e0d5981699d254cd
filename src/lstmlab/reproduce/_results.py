"""The results of a reproduction run, apart from the runner that makes them and the tables
that render them (``lstmlab.reproduce._tables``, ``lstmlab.reproduce._html``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._method import TrialResult


@dataclass(frozen=True)
class MethodSummary:
    """The measured row of one method on one experiment (over the stored trials)."""

    method: str
    budget: int
    config_hash: str
    results: tuple[TrialResult, ...]

    @property
    def trials(self) -> int:
        return len(self.results)

    @property
    def successes(self) -> int:
        return sum(result.success for result in self.results)

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.trials if self.trials else None

    @property
    def mean_sequences(self) -> float | None:
        """Mean training sequences until success, over the successful trials (as [H97])."""
        done = [result.sequences for result in self.results if result.success]
        return sum(done) / len(done) if done else None

    @property
    def mean_test_error(self) -> float | None:
        errors = [result.test_error for result in self.results if result.success]
        return sum(errors) / len(errors) if errors else None

    @property
    def wall_time(self) -> float:
        """Mean wall time of a trial, seconds. In a population a trial's wall time is shared
        with the members that ran beside it, so K trials in lockstep each count the whole."""
        if not self.results:
            return 0.0
        return sum(result.wall_time for result in self.results) / self.trials


@dataclass(frozen=True)
class ExperimentResults:
    experiment: Experiment
    methods: tuple[MethodSummary, ...]


@dataclass(frozen=True)
class RunResults:
    experiments: tuple[ExperimentResults, ...]
    wall_time: float
    store: Path
    quick: bool
