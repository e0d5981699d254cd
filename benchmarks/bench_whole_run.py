"""A whole ``lstmlab reproduce`` run against its C kernel: member-sequences per CPU second.

For each experiment, a population of K = 10 networks (the runner's default), the paper's set-up,
float64, one thread:

- **kernel**: ``online_sequence`` alone (the C loop of ``online1997_kernel`` and its Python
  wrapper) on training batches drawn beforehand with the run's own sampler;
- **whole run**: ``Lstm1997Method.run_trials`` as ``lstmlab reproduce`` runs it: sampling
  (from each member's words drawn ahead), training, verdicts and errors, every member's
  ``Criterion`` (stopping-set checks included), curves, progress. Timed in steady state,
  after a warm-up, before any trial stops (the one test-set evaluation at a trial's end is
  left out, and so are the tasks' construction and the first encoding of Exp. 1's fixed
  strings).

The two are interleaved: the whole run is cut into rounds of ``--round`` member-sequences, and
after each round the kernel trains as many member-sequences (inside the run's progress
callback, its time not counted to the run). Each round gives a ratio of two CPU times
(``time.process_time``) measured within a second of each other, so a shared machine's changing
load moves both; the median round is printed, with the rates and the microseconds per
population step (K member-sequences) of both and of what the whole run adds to the kernel, and
the kernel's microseconds per member-step (one time step of one member's sequence, over the
real steps of the batches it trained in the rounds).
The goal (GitHub issue #15, item 4) is a ratio of at least 0.5.

``python benchmarks/bench_whole_run.py [--sequences N] [--warmup N] [--round N] [EXPERIMENT
...]`` (default 1 4 6a).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from lstmlab.reproduce import Lstm1997Method, Lstm1997Settings
from lstmlab.reproduce._lstm1997 import network_config
from lstmlab.reproduce._registry import experiment
from lstmlab.tasks._batch import sample_each
from lstmlab.training._network1997 import Network1997, population_weights
from lstmlab.training._online1997 import online_sequence

POPULATION = 10


class _Stop(Exception):
    pass


class _Kernel:
    """``online_sequence`` alone on the population's batches, drawn beforehand (cycled)."""

    def __init__(self, name: str, steps: int) -> None:
        exp = experiment(name)
        self.template = Network1997(network_config(exp.setup), dtype=torch.float64)
        generators = [torch.Generator().manual_seed(seed) for seed in range(POPULATION)]
        self.weights = population_weights(self.template, generators)
        tasks = [exp.make_task(seed) for seed in range(POPULATION)]
        self.learning_rate = exp.setup.learning_rate
        self.batches = []
        for _ in range(steps):
            batch = sample_each(tasks, generators)
            self.batches.append((batch.inputs.double().unsqueeze(2),
                                 batch.targets.double().unsqueeze(2), batch.mask.unsqueeze(2),
                                 int(batch.lengths.sum())))
        self.next = 0
        self.member_steps = 0  # real time steps of the member-sequences trained so far

    def train(self, member_sequences: int) -> float:
        """CPU seconds to train ``member_sequences`` (rounded up to whole population steps)."""
        start = time.process_time()
        for _ in range(-(-member_sequences // POPULATION)):
            inputs, targets, mask, member_steps = self.batches[self.next % len(self.batches)]
            self.next += 1
            self.member_steps += member_steps
            self.weights = online_sequence(self.template, self.weights, inputs, targets, mask,
                                           learning_rate=self.learning_rate).weights
        return time.process_time() - start


def measure(name: str, sequences: int, warmup: int, round_size: int
            ) -> tuple[list[tuple[int, float, int, float]], int]:
    """Rounds of (whole-run member-sequences, their CPU seconds, kernel member-sequences,
    theirs), interleaved, ``sequences`` member-sequences of the whole run in all; and the real
    time steps of the kernel's member-sequences."""
    kernel = _Kernel(name, steps=200)
    kernel.train(10 * POPULATION)  # warm
    kernel.member_steps = 0
    method = Lstm1997Method(Lstm1997Settings(population=POPULATION, report_every=10))
    rounds: list[tuple[int, float, int, float]] = []
    mark: list[float] = []  # [member-sequences, CPU time] at the round's start

    def progress(presented: int, _best: float) -> None:
        if presented < warmup:
            return
        now = time.process_time()
        if not mark:
            mark[:] = [presented, now]
            return
        if presented - mark[0] < round_size:
            return
        whole, seconds = presented - mark[0], now - mark[1]
        kernel_seconds = kernel.train(whole)
        rounds.append((whole, seconds, -(-whole // POPULATION) * POPULATION, kernel_seconds))
        if sum(r[0] for r in rounds) >= sequences:
            raise _Stop
        mark[:] = [presented, time.process_time()]

    try:
        for _ in method.run_trials(experiment(name), list(range(POPULATION)), 10**9, progress):
            raise RuntimeError(f"experiment {name}: a trial stopped while timing; use fewer "
                               "--sequences")
    except _Stop:
        pass
    return rounds, kernel.member_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiments", nargs="*", default=["1", "4", "6a"])
    parser.add_argument("--sequences", type=int, default=20_000,
                        help="member-sequences of the whole run timed per experiment")
    parser.add_argument("--warmup", type=int, default=20_000,
                        help="member-sequences of the whole run before its timing starts")
    parser.add_argument("--round", type=int, default=1_000,
                        help="member-sequences per round (whole run, then as many by the "
                             "kernel)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("experiment | kernel member-seqs/s | whole run member-seqs/s | whole / kernel "
          "(median round; min-max) | us per population step: kernel, whole run, added | "
          "kernel us per member-step")
    for name in args.experiments:
        rounds, member_steps = measure(name, args.sequences, args.warmup, args.round)
        ratios = sorted((w / ws) / (k / ks) for w, ws, k, ks in rounds)
        whole = sum(r[0] for r in rounds) / sum(r[1] for r in rounds)
        kernel_seconds = sum(r[3] for r in rounds)
        kernel = sum(r[2] for r in rounds) / kernel_seconds
        step_kernel, step_whole = 1e6 * POPULATION / kernel, 1e6 * POPULATION / whole
        print(f"{name} | {kernel:,.0f} | {whole:,.0f} | {statistics.median(ratios):.2f} "
              f"({ratios[0]:.2f}-{ratios[-1]:.2f}, {len(rounds)} rounds) | {step_kernel:,.0f}, "
              f"{step_whole:,.0f}, {step_whole - step_kernel:,.0f} | "
              f"{1e6 * kernel_seconds / member_steps:.3f}", flush=True)


if __name__ == "__main__":
    main()
