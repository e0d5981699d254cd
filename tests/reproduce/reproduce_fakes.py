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

import torch

from lstmlab.cells import G2, H1
from lstmlab.reproduce import Experiment, ReproduceConfig, TrialResult, run
from lstmlab.tasks import Batch, BiasedUnits, Connectivity, PublishedRow, Setup1997
from lstmlab.tasks._batch import final_abs_error, final_step_mask, fresh_batches


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


class BitTask:
    """Remember the sign of the first input for ``steps`` steps; target at the end only.

    A cheap stand-in with the ``lstmlab.tasks._batch.Task`` interface, so the methods' tests
    run in seconds. ``rule`` is its stopping rule.
    """

    input_size = 2
    output_size = 1
    name = "bit"
    published = ()
    test_size = 64

    def __init__(self, rule, steps: int = 4) -> None:
        self.stopping = (rule,)
        self.steps = steps
        self.setup = BIT_SETUP

    def sample(self, batch_size, generator):
        bits = torch.randint(2, (batch_size,), generator=generator).float()
        inputs = torch.zeros(self.steps, batch_size, 2)
        inputs[0, :, 0] = 2 * bits - 1
        inputs[:, :, 1] = 0.2 * torch.rand(self.steps, batch_size, generator=generator)
        targets = torch.zeros(self.steps, batch_size, 1)
        targets[-1, :, 0] = bits
        lengths = torch.full((batch_size,), self.steps)
        return Batch(inputs, targets, final_step_mask(lengths, self.steps), lengths, labels=bits)

    def test_batches(self, generator, batch_size=256):
        return fresh_batches(self.sample, self.test_size, generator, batch_size)

    def stopping_batches(self, generator, batch_size=256):
        return fresh_batches(self.sample, 32, generator, batch_size)

    def errors(self, outputs, batch):
        return final_abs_error(outputs, batch)

    def is_correct(self, outputs, batch):
        return self.errors(outputs, batch) < 0.3


BIT_SETUP = Setup1997(
    experiment="bit", blocks=2, block_size=1, input_size=2, output_size=1, weights=0,
    connectivity=Connectivity.F, biased=BiasedUnits.ALL, output_gate=True,
    output_gate_bias=None, input_gate_bias=(-1.0, -2.0), h=H1, g=G2, learning_rate=1.0,
    init_range=0.1, trials=3, test_size=64, source="a test stand-in")


def bit_experiment(rule, trials: int = 3, budget: int = 400) -> Experiment:
    return Experiment(name="bit", title="first-bit memory", make_task=lambda seed: BitTask(rule),
                      setup=BIT_SETUP, published=(), trials=trials, budget=budget)
