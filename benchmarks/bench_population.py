"""Many tiny networks (the 1997 sizes): K in lockstep versus K runs one by one.

K = 32 LSTMs with I = H = 8 (one output unit), one sequence of T steps each per training step
(forward + full BPTT + SGD update, float32, one thread). Five ways to train all K networks for
the same number of steps:

1. lockstep: ``train_population`` as it comes (``lockstep_forward``: for LSTMCell,
   ``stacked_lstm``, one batched matrix product per step over the K members' own weights and a
   hand-written backward);
2. one by one, same algorithm: ``train`` on each network in turn (our cell, Python step loop);
3. lockstep with ``vmap_forward`` (what any other cell gets: vmap over a ``functional_call``);
4. lockstep fused: ``train_population`` with ``block_diagonal_lstm`` (the K nets as one
   block-diagonal LSTM in torch's fused kernel);
5. one by one, torch.nn.LSTM (oneDNN's fused kernel) + nn.Linear + torch.optim.SGD: for honesty.

Prints network-steps per second for each and the ratios (1)/(2) (goal >= 15x on CPU), (3)/(2)
and (4)/(5) (fused lockstep against the fastest one-by-one). Times are wall-clock, best of
``--repeats`` interleaved runs; the ratio columns also come as CPU-time ratios (``cpu``), which
a shared machine disturbs less. Then the same for exact RTRL (online
updates, the 1997 paper's competitor) on Elman nets: ``LockstepRTRL`` against ``train`` with
``RTRL`` one network at a time. ``--quick``: a small configuration.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from lstmlab.cells import ElmanCell, LSTMCell
from lstmlab.training import (
    RTRL,
    SGD,
    Member,
    PopulationConfig,
    SequenceModel,
    TrainConfig,
    train,
    train_population,
)
from lstmlab.training._batch import SequenceBatch
from lstmlab.training._population import LockstepBPTT, lockstep_forward, vmap_forward
from lstmlab.training._population_lstm import block_diagonal_lstm
from lstmlab.training._population_rtrl import LockstepRTRL

SIZE = 8


def build(seed: int) -> SequenceModel:
    torch.manual_seed(seed)
    return SequenceModel(LSTMCell(SIZE, SIZE), nn.Linear(SIZE, 1), torch.sigmoid)


def sampler(steps: int):
    def sample(generator: torch.Generator) -> SequenceBatch:
        inputs = torch.randn(steps, 1, SIZE, generator=generator)
        mask = torch.zeros(steps, 1, dtype=torch.bool)
        mask[-1] = True
        targets = (inputs[..., :1].sum(0, keepdim=True) > 0).float().expand(steps, 1, 1)
        return SequenceBatch(inputs, targets, mask, torch.full((1,), steps))

    return sample


def lockstep(count: int, steps: int, updates: int, forward=lockstep_forward) -> float:
    members = [Member(build(k), torch.Generator().manual_seed(k)) for k in range(count)]
    config = PopulationConfig(updates, SGD(lr=0.1), algorithm=LockstepBPTT(forward))
    start = time.perf_counter()
    train_population(members, sampler(steps), config)
    return time.perf_counter() - start


def lockstep_vmap(count: int, steps: int, updates: int) -> float:
    return lockstep(count, steps, updates, forward=vmap_forward)


def lockstep_fused(count: int, steps: int, updates: int) -> float:
    return lockstep(count, steps, updates, forward=block_diagonal_lstm)


def timed(run, *args) -> tuple[float, float]:
    """(wall seconds as ``run`` reports them, CPU seconds of this process around the call)."""
    cpu = time.process_time()
    wall = run(*args)
    return wall, time.process_time() - cpu


def one_by_one(count: int, steps: int, updates: int) -> float:
    start = time.perf_counter()
    for k in range(count):
        train(build(k), sampler(steps), TrainConfig(max_steps=updates, optimizer=SGD(lr=0.1)),
              generator=torch.Generator().manual_seed(k))
    return time.perf_counter() - start


def one_by_one_onednn(count: int, steps: int, updates: int) -> float:
    sample = sampler(steps)
    start = time.perf_counter()
    for k in range(count):
        torch.manual_seed(k)
        lstm, readout = nn.LSTM(SIZE, SIZE), nn.Linear(SIZE, 1)
        optimizer = torch.optim.SGD([*lstm.parameters(), *readout.parameters()], lr=0.1)
        generator = torch.Generator().manual_seed(k)
        for _ in range(updates):
            batch = sample(generator)
            optimizer.zero_grad()
            hs, _ = lstm(batch.inputs)
            y = torch.sigmoid(readout(hs))
            loss = ((y - batch.targets).square().sum(-1) * batch.mask).sum()
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start


def rtrl_lockstep(count: int, steps: int, updates: int) -> float:
    members = [Member(build_elman(k), torch.Generator().manual_seed(k)) for k in range(count)]
    config = PopulationConfig(updates, SGD(lr=0.1), algorithm=LockstepRTRL())
    start = time.perf_counter()
    train_population(members, sampler(steps), config)
    return time.perf_counter() - start


def rtrl_one_by_one(count: int, steps: int, updates: int) -> float:
    config = TrainConfig(max_steps=updates, optimizer=SGD(lr=0.1), algorithm=RTRL())
    start = time.perf_counter()
    for k in range(count):
        train(build_elman(k), sampler(steps), config, generator=torch.Generator().manual_seed(k))
    return time.perf_counter() - start


def build_elman(seed: int) -> SequenceModel:
    torch.manual_seed(seed)
    return SequenceModel(ElmanCell(SIZE, SIZE), nn.Linear(SIZE, 1), torch.sigmoid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small configuration, < 60 s")
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    count = args.members
    settings = [(100, 2)] if args.quick else [(100, 10), (1000, 3)]
    print(f"K = {count} networks, I = H = {SIZE}, float32, 1 thread; network-steps per second "
          f"(best of {args.repeats})")
    print(f"{'T':>5} {'updates':>7} {'lockstep':>9} {'1 by 1':>9} {'ratio':>7} {'cpu':>7} "
          f"{'vmap':>9} {'ratio':>7} {'fused':>9} {'oneDNN 1by1':>11} {'ratio':>7}")
    for steps, updates in settings:
        lockstep(2, steps, 1)  # warm-up (allocator, vmap, oneDNN primitives)
        lockstep_vmap(2, steps, 1)
        lockstep_fused(2, steps, 1)
        work = count * steps * updates
        # Best of `repeats` runs, interleaved, so a burst of load on a shared machine hurts less.
        runs = (lockstep, one_by_one, lockstep_vmap, lockstep_fused, one_by_one_onednn)
        best, best_cpu = [float("inf")] * len(runs), [float("inf")] * len(runs)
        for _ in range(args.repeats):
            for j, run in enumerate(runs):
                wall, cpu = timed(run, count, steps, updates)
                best[j], best_cpu[j] = min(best[j], wall), min(best_cpu[j], cpu)
        rates = [work / seconds for seconds in best]
        print(f"{steps:>5} {updates:>7} {rates[0]:>9.0f} {rates[1]:>9.0f} "
              f"{rates[0] / rates[1]:>6.1f}x {best_cpu[1] / best_cpu[0]:>6.1f}x "
              f"{rates[2]:>9.0f} {rates[2] / rates[1]:>6.1f}x "
              f"{rates[3]:>9.0f} {rates[4]:>11.0f} {rates[3] / rates[4]:>6.2f}x")
    steps, updates = (20, 1) if args.quick else (50, 2)
    rtrl_lockstep(2, steps, 1)  # warm-up
    best = [float("inf")] * 2
    for _ in range(args.repeats):
        for j, run in enumerate((rtrl_lockstep, rtrl_one_by_one)):
            best[j] = min(best[j], run(count, steps, updates))
    rates = [count * steps * updates / seconds for seconds in best]
    print(f"exact RTRL, online, Elman I = H = {SIZE}, T = {steps}: lockstep {rates[0]:.0f}, "
          f"one by one {rates[1]:.0f} network-steps per second, ratio {rates[0] / rates[1]:.1f}x")

if __name__ == "__main__":
    main()
