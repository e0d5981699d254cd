"""A whole ``lstmlab reproduce`` run against its C kernel: member-sequences per CPU second.

For each experiment, a population of K = 10 networks (the runner's default), the paper's set-up,
float64, one thread:

- **kernel**: ``online_sequence`` alone (the C loop of ``online1997_kernel``) on the
  population's training batches, drawn beforehand with the run's own sampler;
- **whole run**: ``Lstm1997Method.run_trials`` as ``lstmlab reproduce`` runs it: sampling,
  training, ``is_correct``/``errors``, every member's ``Criterion`` (stopping-set checks
  included), curves, progress. Timed in steady state, between two progress reports, before any
  trial stops, after a warm-up (the one test-set evaluation at a trial's end is left out, and
  so are the tasks' construction and the first encoding of Exp. 1's fixed strings).

Prints member-sequences per CPU second (``time.process_time``: the machine may be shared, and a
ratio of two CPU times measured in the same process is what to compare) and their ratio; the
goal (GitHub issue #15, item 4) is a ratio of at least 0.5.

``python benchmarks/bench_whole_run.py [--sequences N] [--warmup N] [EXPERIMENT ...]`` (default
1 4 6a).
"""

from __future__ import annotations

import argparse
import time

import torch

from lstmlab.reproduce.lstm1997 import Lstm1997Method, Lstm1997Settings, network_config
from lstmlab.reproduce.registry import experiment
from lstmlab.tasks.batch import sample_each
from lstmlab.training.network1997 import Network1997, population_weights
from lstmlab.training.online1997 import online_sequence

POPULATION = 10


class _Stop(Exception):
    pass


def whole_run_rate(name: str, sequences: int, warmup: int) -> float:
    """Member-sequences per CPU second of a whole run, from the first progress report after
    ``warmup`` member-sequences to the one after ``sequences`` more. The warm-up leaves out
    what a run does once: building the tasks (Exp. 1 draws its strings) and encoding each
    fixed string the first time it is drawn (cached from then on)."""
    method = Lstm1997Method(Lstm1997Settings(population=POPULATION, report_every=10))
    marks: list[tuple[int, float]] = []

    def progress(presented: int, _best: float) -> None:
        if presented < warmup:
            return
        marks.append((presented, time.process_time()))
        if presented - marks[0][0] >= sequences:
            raise _Stop

    try:
        for _ in method.run_trials(experiment(name), list(range(POPULATION)), 10**9, progress):
            raise RuntimeError(f"experiment {name}: a trial stopped while timing; use fewer "
                               "--sequences")
    except _Stop:
        pass
    (first, start), (last, end) = marks[0], marks[-1]
    return (last - first) / (end - start)


def kernel_rate(name: str, sequences: int) -> float:
    """Member-sequences per CPU second of ``online_sequence`` alone, same population."""
    exp = experiment(name)
    template = Network1997(network_config(exp.setup), dtype=torch.float64)
    generators = [torch.Generator().manual_seed(seed) for seed in range(POPULATION)]
    weights = population_weights(template, generators)
    tasks = [exp.make_task(seed) for seed in range(POPULATION)]
    steps = max(1, sequences // POPULATION)
    batches = []
    for _ in range(steps):
        batch = sample_each(tasks, generators)
        batches.append((batch.inputs.double().unsqueeze(2), batch.targets.double().unsqueeze(2),
                        batch.mask.unsqueeze(2)))
    start = time.process_time()
    for inputs, targets, mask in batches:
        weights = online_sequence(template, weights, inputs, targets, mask,
                                  learning_rate=exp.setup.learning_rate).weights
    return steps * POPULATION / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiments", nargs="*", default=["1", "4", "6a"])
    parser.add_argument("--sequences", type=int, default=20_000,
                        help="member-sequences timed per measurement")
    parser.add_argument("--warmup", type=int, default=20_000,
                        help="member-sequences of the whole run before its timing starts")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("experiment | kernel member-seqs/s | whole run member-seqs/s | whole / kernel")
    for name in args.experiments:
        kernel = kernel_rate(name, args.sequences)
        whole = whole_run_rate(name, args.sequences, args.warmup)
        print(f"{name} | {kernel:,.0f} | {whole:,.0f} | {whole / kernel:.2f}", flush=True)


if __name__ == "__main__":
    main()
