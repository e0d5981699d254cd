"""What holds a ``3a:fixed-stopping-set`` (or ``3b:``) trial back: its stopping set, check by check.

The reading judges every check of a trial on one set of 256 sequences, the first stopping set
of the trial's criterion (drawn from ``seed + CHECK_SEED_OFFSET``, ``tasks._two_sequence``).
:func:`stopping_set_trace` trains the seeds exactly as ``Lstm1997Method`` does
(``probe_training``: the same members and training streams) and, at every check from ``start``
on (every ``check_every`` sequences, 100), judges each seed's net on that set, recording

- ``wrong``: the indices of the set's sequences misclassified (3a/3b: |output - target| >= 0.2
  at the sequence end), and ``mean_error``: the mean absolute error over the set;
- ``met``: whether the task's last stopping rule (ST2) is met on the set, so the first check
  with ``met`` is where the reading's trial stops (a check of the probe against the stored
  trials).

:func:`summary` reads a seed's checks before its stop: how many had more wrong sequences than
the rule allows, how many a mean error at or above the rule's bound, and the sequence wrong most
often, with its class and the sum of its noise elements (t > N), which a net that integrates its
input reads as evidence for a class.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._lstm1997 import _evaluate, probe_training
from lstmlab.reproduce._trial_loop import CHECK_SEED_OFFSET
from lstmlab.tasks import Batch
from lstmlab.tasks._two_sequence import TwoSequence
from lstmlab.training._pool import map_state


@dataclass(frozen=True)
class Check:
    """One seed's net on its stopping set after ``sequences`` training sequences."""

    seed: int
    sequences: int
    wrong: tuple[int, ...]
    mean_error: float
    met: bool


def stopping_set(experiment: Experiment, seed: int) -> Batch:
    """Seed ``seed``'s fixed stopping set: its criterion's first set, as the reading draws it
    (``experiment.eval_batch_size`` sequences a batch: 256 in one batch)."""
    task = _two_sequence(experiment)
    generator = torch.Generator().manual_seed(seed + CHECK_SEED_OFFSET)
    batches = list(task.stopping_batches(generator, experiment.eval_batch_size))
    if len(batches) != 1:
        raise ValueError(f"experiment: expected its 256 stopping sequences in one batch, "
                         f"received {len(batches)} (eval_batch_size "
                         f"{experiment.eval_batch_size})")
    return batches[0]


def stopping_set_trace(experiment: Experiment, seeds: Sequence[int], budget: int,
                       start: int = 0) -> list[Check]:
    """Train ``seeds`` for ``budget`` sequences; a :class:`Check` per seed at every check of
    the task's rule (every ``check_every`` sequences) from ``start`` on."""
    task = _two_sequence(experiment)
    if budget < 1 or start < 0:
        raise ValueError(f"budget, start: expected >= 1 and >= 0, received {budget}, {start}")
    rule = task.stopping[-1]
    sets = {seed: stopping_set(experiment, seed) for seed in seeds}
    checks = []
    for presented, template, weights, _ in probe_training(experiment, seeds, budget,
                                                          rule.check_every):
        if presented == 0 or presented < start:
            continue
        for k, seed in enumerate(seeds):
            batch = sets[seed]
            outputs = _evaluate(template, map_state(lambda part, k=k: part[k:k + 1], weights),
                                batch, kernel=True)
            right, errors = task.is_correct(outputs, batch), task.errors(outputs, batch)
            checks.append(Check(seed, presented, tuple((~right).nonzero().flatten().tolist()),
                                float(errors.mean()), rule.is_met(right, errors)))
    return checks


def summary(experiment: Experiment, checks: Sequence[Check]) -> str:
    """A Markdown table, one row per seed: where the rule is first met on the set, and of the
    checks before it, those with more wrong sequences than the rule allows and those with the
    mean error at or above its bound; the sequence wrong most often in them."""
    task = _two_sequence(experiment)
    rule = task.stopping[-1]
    lines = ["| seed | checks before the stop | first met | with more than "
             f"{rule.max_wrong} wrong | mean error >= {rule.max_mean_error} | wrong most often "
             "(index: checks) | its class | its noise sum |",
             "|---|---|---|---|---|---|---|---|"]
    by_seed: dict[int, list[Check]] = collections.defaultdict(list)
    for check in checks:
        by_seed[check.seed].append(check)
    for seed, mine in sorted(by_seed.items()):
        first = next((c.sequences for c in mine if c.met), None)
        before = [c for c in mine if first is None or c.sequences < first] or mine[:1]
        counts = collections.Counter(i for c in before for i in c.wrong)
        cells = ["—", "—", "—"]
        if counts:
            index, times = counts.most_common(1)[0]
            batch = stopping_set(experiment, seed)
            length = int(batch.lengths[index])
            noise = float(batch.inputs[task.N:length, index].sum())
            cells = [f"{index}: {times}", f"{int(batch.labels[index]) + 1}", f"{noise:+.2f}"]
        large = sum(rule.max_mean_error is not None and c.mean_error >= rule.max_mean_error
                    for c in before)
        lines.append(f"| {seed} | {before[0].sequences:,}-{before[-1].sequences:,} | "
                     f"{'not met' if first is None else f'{first:,}'} | "
                     f"{sum(len(c.wrong) > rule.max_wrong for c in before)} of {len(before)} | "
                     f"{large} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _two_sequence(experiment: Experiment) -> TwoSequence:
    task = experiment.make_task(0)
    if not isinstance(task, TwoSequence):
        raise ValueError(f"experiment: expected Exp. 3 (3a, 3b, 3c) or a setting or reading "
                         f"of it, received {experiment.name!r}")
    return task


def main(argv: Sequence[str] | None = None) -> str:
    """``python -m lstmlab.reproduce._stopping_set_probe EXPERIMENT --seeds 3,4,6 --budget B
    [--start S]``: :func:`summary` of those seeds (one thread, one population)."""
    import argparse

    from lstmlab.reproduce._method import torch_threads
    from lstmlab.reproduce._registry import experiment as named

    parser = argparse.ArgumentParser(prog="python -m lstmlab.reproduce._stopping_set_probe")
    parser.add_argument("experiment")
    parser.add_argument("--seeds", required=True, help="comma-separated, e.g. 3,4,6")
    parser.add_argument("--budget", type=int, required=True)
    parser.add_argument("--start", type=int, default=0)
    args = parser.parse_args(argv)
    experiment = named(args.experiment)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    with torch_threads(1):
        checks = stopping_set_trace(experiment, seeds, args.budget, args.start)
    return summary(experiment, checks)


if __name__ == "__main__":
    import sys

    sys.stdout.write(main() + "\n")
