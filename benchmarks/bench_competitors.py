"""The 1997 competitors' training speed: the torch paths against the C kernels, same run.

Two tables, sequences per second on one thread (CPU time of this process by default, so other
jobs on a shared machine do not count; ``--clock wall`` for wall time):

1. *step*: ``learn(batch)`` alone, one training sequence at a time, for ``rtrl``, ``bptt``,
   ``elman`` and ``chunker`` on Experiments 1 (embedded Reber) and 2a (p = 100): the torch path
   (``fast=False``: ``WilliamsZipser``, ``BPTT``, ``TruncatedBPTT(1)``, ``Chunker.train_step``)
   against the kernels of ``fully_recurrent_kernel`` and ``chunker_kernel`` built with the
   portable default flags and with the opt-in ``-march=native`` (``LSTMLAB_NATIVE_ARCH=1``),
   on the same pre-drawn sequences, rounds interleaved, the median round reported;
2. *trial*: a whole trial as ``lstmlab reproduce`` runs it (drawing sequences, the stopping rule's
   checks), before (torch path, the plain task) and after (kernels, ``cached_task`` for 2a).
   Experiment 1's task caches its encodings itself, so there "before" runs on cached strings too.

``--quick``: fewer sequences. Without it the script takes a few minutes on a loaded 2-core
machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import torch

from kernel_build import kernel_build
from lstmlab.reproduce._cached_task import with_cached_encodings
from lstmlab.reproduce._method_table import METHODS as TABLE
from lstmlab.reproduce._registry import experiment
from lstmlab.reproduce._trial_loop import train_trials

METHODS = ("rtrl", "bptt", "elman", "chunker")


def clock(kind: str):
    return time.process_time if kind == "cpu" else time.perf_counter


def learner(name: str, exp, fast: bool, task):
    method = dataclasses.replace(TABLE[name](), fast=fast)
    build = method.build(exp) if name != "chunker" else method._learner
    return build(task, torch.Generator().manual_seed(0))[0]


#: The ways a sequence is trained: (fast, native_arch): the torch path, the kernel (portable
#: build), the kernel (-march=native build).
WAYS = ((False, False), (True, False), (True, True))


def step_rates(exp_name: str, sequences: int, rounds: int, now) -> dict[str, tuple[float, ...]]:
    """Median sequences/s of ``learn`` per method: torch path, kernel, kernel -march=native."""
    exp = with_cached_encodings(experiment(exp_name))
    task = exp.make_task(0)
    data = torch.Generator().manual_seed(1)
    batches = [task.sample(1, data) for _ in range(sequences)]
    rates: dict[str, tuple[list[float], ...]] = {m: ([], [], []) for m in METHODS}
    for _ in range(rounds):
        for name in METHODS:
            for k, (fast, native_arch) in enumerate(WAYS):
                with kernel_build(native_arch):
                    learn = learner(name, exp, fast, task)
                    learn(batches[0])  # warm-up (kernel build, first dispatch)
                    start = now()
                    for batch in batches:
                        learn(batch)
                    rates[name][k].append(len(batches) / (now() - start))
    return {m: tuple(statistics.median(way) for way in ways) for m, ways in rates.items()}


def trial_rates(exp_name: str, budget: int, now) -> dict[str, tuple[float, float]]:
    """Sequences/s of one trial of ``budget`` sequences: before (torch path, plain task) and
    after (kernels, cached encodings)."""
    exp = experiment(exp_name)
    rates = {}
    for name in METHODS:
        pair = []
        for fast in (False, True):
            method = dataclasses.replace(TABLE[name](), fast=fast)
            build = method.build(exp) if name != "chunker" else method._learner
            start = now()
            (result,) = train_trials(build, with_cached_encodings(exp) if fast else exp, [0],
                                     budget, lambda *_: None)
            pair.append(result.sequences / (now() - start))
        rates[name] = (pair[0], pair[1])
    return rates


def table(title: str, rates: dict[str, tuple[float, ...]]) -> None:
    print(f"\n{title}")
    if len(next(iter(rates.values()))) == 2:
        print("| method | torch path (seq/s) | kernel (seq/s) | speed-up |")
        print("|---|---:|---:|---:|")
        for name, (slow, fast) in rates.items():
            print(f"| {name} | {slow:,.0f} | {fast:,.0f} | {fast / slow:.1f}x |")
        return
    print("| method | torch path (seq/s) | kernel (seq/s) | kernel, -march=native (seq/s) | "
          "speed-up | native / portable |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (slow, fast, native) in rates.items():
        print(f"| {name} | {slow:,.0f} | {fast:,.0f} | {native:,.0f} | {fast / slow:.1f}x | "
              f"{native / fast:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(1)
    now = clock(args.clock)
    scale = 1 if args.quick else 4
    print(f"torch {torch.__version__}, 1 thread, clock: {args.clock}")
    for exp_name, sequences in (("1", 50 * scale), ("2a", 5 * scale)):
        rates = step_rates(exp_name, sequences, 3, now)
        table(f"step, Experiment {exp_name} ({sequences} sequences x 3 rounds, median)", rates)
    for exp_name, budget in (("1", 200 * scale), ("2a", 1000)):
        if args.quick and exp_name == "2a":
            continue
        table(f"trial, Experiment {exp_name} ({budget} sequences, checks included)",
              trial_rates(exp_name, budget, now))


if __name__ == "__main__":
    main()
