"""Tiny deterministic stand-ins for the runner's tests, and a script entry for subprocess tests.

``FakeMethod`` needs no torch: a trial's numbers are a closed form of its seed, so a test knows
exactly what the store must hold. It runs its trials as a "population" and yields them in the
order they would finish (fewest sequences first), as a real population method does.

As a script: ``python reproduce_fakes.py OUT DELAY`` runs the fake experiments through
``lstmlab.reproduce.run`` with ``DELAY`` seconds of sleep per trial.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lstmlab.reproduce import Experiment, PublishedRow, ReproduceConfig, TrialResult, run


def fake_outcome(seed: int) -> TrialResult:
    """The closed form every fake trial follows."""
    success = seed % 3 != 0
    sequences = 100 + 37 * seed if success else 1000
    curve = tuple((step * 10, 1.0 / (step + 1 + seed)) for step in range(4))
    return TrialResult(seed, success, sequences, 0.001 * seed, 0.01, curve)


@dataclass(frozen=True)
class FakeSetup:
    learning_rate: float = 0.5


@dataclass
class FakeMethod:
    name: str = "fake"
    delay: float = 0.0
    calls: list | None = None

    def fingerprint(self, experiment: Experiment) -> object:
        return (experiment.setup,)

    def run_trials(self, experiment, seeds, budget, progress):
        if self.calls is not None:
            self.calls.append((experiment.name, tuple(seeds), budget))
        seen = 0
        for seed in sorted(seeds, key=lambda s: fake_outcome(s).sequences):
            time.sleep(self.delay)
            result = fake_outcome(seed)
            seen += result.sequences
            progress(seen, result.curve[-1][1])
            yield result


def fake_experiment(name: str = "4", trials: int = 6) -> Experiment:
    return Experiment(
        name=name,
        title=f"fake experiment {name}",
        make_task=lambda: None,
        setup=FakeSetup(),
        published=(
            PublishedRow("fake", "T = 100", 10, None, 74_000, "1 of 2560 wrong", "[H97] Table 7"),
            PublishedRow("rtrl", "p = 4", 18, 0.78, 1_043_000, "", "[H97] Table 2"),
        ),
        trials=trials,
        budget=5000,
        quick_trials=2,
        quick_budget=50,
    )


def main(out: str, delay: float) -> None:
    config = ReproduceConfig(
        experiments=(fake_experiment("4", 8), fake_experiment("6a", 8)),
        methods=(FakeMethod(delay=delay),),
        out=Path(out),
    )
    run(config)


if __name__ == "__main__":
    # Import ourselves by module name so the fakes' classes hash the same as in the tests
    # (as __main__ they would be named __main__.FakeSetup).
    import reproduce_fakes

    reproduce_fakes.main(sys.argv[1], float(sys.argv[2]))
