"""[H97]'s online truncated-gradient training: the C loop against the torch code, and both
against torch.nn.LSTM doing the same amount of work its own way.

One training sequence per member, K members in lockstep, the paper's networks (Exp. 1: 3 blocks
of 2 cells, 7 inputs and outputs, T = 12; Exp. 4: 2 blocks of 2 cells, T = 110), float64, one
thread. Three ways:

1. ``online_sequence(..., compiled=False)``: the readable torch code (the reference);
2. ``online_sequence(..., compiled=True)``: ``online1997_kernel``, the same equations in C,
   built with the portable default flags, and again with the opt-in ``-march=native`` build
   (``LSTMLAB_NATIVE_ARCH=1``), in the same run;
3. torch.nn.LSTM (hidden size = the 1997 net's cells) + nn.Linear, forward + backward + SGD step
   per sequence for each member in turn: what "just use torch" would cost. It is not the same
   algorithm (full BPTT, one update per sequence, not one per step); it is the yardstick the
   project measures speed against.

Prints member-sequences per second and the ratios, then the C loop's microseconds per
member-step (one member, one time step: forward pass and truncated-gradient update), portable
and ``-march=native`` in the same run: the kernel called directly with prepared arguments, the
slope between two population sizes (K and 4K members, one sequence each), so that the call's
fixed cost (Python, argument checks) cancels and what is left is the loop itself, with each
member's few kilobytes of weights, traces and gradients cached as a population of that size
allows. Repeats are interleaved (portable, native, portable, ...); the median is printed with
the spread (min-max).
``--quick``: fewer repetitions. ``--clock cpu`` counts this thread's CPU time instead of wall
time (steadier on a shared machine).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from kernel_build import kernel_build
from lstmlab.training import _online1997_kernel as online1997_kernel
from lstmlab.training._network1997 import Network1997, population_weights
from lstmlab.training._network1997_table10 import EXPERIMENT_1_3X2, EXPERIMENT_4
from lstmlab.training._online1997 import online_sequence

F64 = torch.float64


CLOCK = time.perf_counter  # --clock cpu: time.thread_time, immune to waiting for a core


def per_second(work, count: int, seconds: float = 1.0) -> float:
    """Runs of ``work`` per second (each does ``count`` member-sequences), timed >= seconds."""
    work()
    runs, start = 0, CLOCK()
    while (elapsed := CLOCK() - start) < seconds:
        work()
        runs += 1
    return runs * count / elapsed


def rates(config, T: int, K: int, seconds: float) -> list[float]:
    """Member-sequences / s: torch code, C loop (portable), C loop (-march=native),
    torch.nn.LSTM one member at a time."""
    network = Network1997(config, dtype=F64)
    weights = population_weights(network, [torch.Generator().manual_seed(k) for k in range(K)])
    gen = torch.Generator().manual_seed(0)
    inputs = torch.rand(T, K, 1, config.input_size, generator=gen, dtype=F64)
    targets = torch.rand(T, K, 1, config.output_size, generator=gen, dtype=F64)
    measured = []
    for compiled, native_arch in ((False, False), (True, False), (True, True)):
        with kernel_build(native_arch):
            measured.append(per_second(lambda c=compiled: online_sequence(
                network, weights, inputs, targets, learning_rate=0.1, compiled=c), K, seconds))
    lstm = nn.LSTM(config.input_size, network.cell.hidden_size, dtype=F64)
    head = nn.Linear(network.cell.hidden_size, config.output_size, dtype=F64)
    optimizer = torch.optim.SGD([*lstm.parameters(), *head.parameters()], lr=0.1)

    def torch_lstm() -> None:
        for k in range(K):
            optimizer.zero_grad()
            out, _ = lstm(inputs[:, k])
            loss = 0.5 * (torch.sigmoid(head(out)) - targets[:, k]).square().sum()
            loss.backward()
            optimizer.step()

    return [*measured, per_second(torch_lstm, K, seconds)]


def kernel_call(network, T: int, members: int, error: bool = True):
    """The C loop's call for one sequence per member (one update per step), with its
    arguments prepared once: ``online_sequence`` runs once with ``online1997_kernel.run``
    wrapped to keep what it was given, and the returned function calls ``run`` again with
    that (the weights move in place; the learning rate is 0.01 so that they stay where the
    paper's nets live; the work per step does not depend on it). ``error=False``: a mask of
    zeros, no error at any step, so the loop runs the forward pass alone."""
    config = network.config
    weights = population_weights(
        network, [torch.Generator().manual_seed(k) for k in range(members)])
    gen = torch.Generator().manual_seed(0)
    inputs = torch.rand(T, members, 1, config.input_size, generator=gen, dtype=F64)
    targets = torch.rand(T, members, 1, config.output_size, generator=gen, dtype=F64)
    captured = []
    run = online1997_kernel.run
    online1997_kernel.run = lambda *arguments: (captured.append(arguments), run(*arguments))
    try:
        online_sequence(network, weights, inputs, targets,
                        torch.full((T, members, 1), float(error), dtype=F64),
                        learning_rate=0.01, compiled=True)
    finally:
        online1997_kernel.run = run
    (arguments,) = captured
    return lambda: run(*arguments)


def micro_seconds_per_member_step(config, T: int, K: int, seconds: float,
                                  repeats: int) -> dict[str, list[float]]:
    """µs per member-step of the C loop: "portable", "forward" (portable, no error anywhere:
    the forward pass alone) and "native" (``-march=native``), each the slope of the time per
    call between K and 4K members, in ``repeats`` interleaved measurements (the call's fixed
    cost, Python and argument checks, cancels)."""
    network = Network1997(config, dtype=F64)
    measured: dict[str, list[float]] = {"portable": [], "forward": [], "native": []}
    for _ in range(repeats):
        for name, native_arch, error in (("portable", False, True), ("forward", False, False),
                                         ("native", True, True)):
            with kernel_build(native_arch):
                per_call = {m: m / per_second(kernel_call(network, T, m, error), m, seconds)
                            for m in (K, 4 * K)}
            measured[name].append((per_call[4 * K] - per_call[K]) / (3 * K * T) * 1e6)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: this thread's CPU time, for comparisons on a busy machine")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.perf_counter if args.clock == "wall" else time.thread_time
    torch.set_num_threads(1)
    seconds = 0.3 if args.quick else 2.0
    K = args.population
    print(f"K = {K} members, one sequence each, float64, 1 thread, {args.clock} clock; "
          "member-sequences / s")
    print("| network | torch code | C loop | C loop, -march=native | nn.LSTM | C / torch | "
          "C / nn.LSTM | native / portable C |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, config, T in (("Exp 1 (3x2), T=12", EXPERIMENT_1_3X2, 12),
                            ("Exp 4 (2x2), T=110", EXPERIMENT_4, 110)):
        torch_code, c_loop, c_native, torch_lstm = rates(config, T, K, seconds)
        print(f"| {name} | {torch_code:,.0f} | {c_loop:,.0f} | {c_native:,.0f} | "
              f"{torch_lstm:,.0f} | {c_loop / torch_code:.1f}x | {c_loop / torch_lstm:.1f}x | "
              f"{c_native / c_loop:.2f}x |")
    K_step = 10
    print(f"\nC loop, µs per member-step (slope between K = {K_step} and {4 * K_step} members; "
          f"median of {3 if args.quick else 7} interleaved repeats, min-max)")
    print("| network | portable | of which the forward pass (portable, no error) | "
          "-march=native |")
    print("|---|---:|---:|---:|")
    for name, config, T in (("Exp 1 (3x2), T=12", EXPERIMENT_1_3X2, 12),
                            ("Exp 4 (2x2), T=110", EXPERIMENT_4, 110)):
        us = micro_seconds_per_member_step(config, T, K_step, seconds / 2,
                                           3 if args.quick else 7)
        cells = [f"{statistics.median(v):.3f} ({min(v):.3f}-{max(v):.3f})" for v in us.values()]
        print(f"| {name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
