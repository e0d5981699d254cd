"""Where an Experiment 2c trial's memory cells sit while it learns: the drift of [H97] §4.

§4, "internal state drift": "If memory cell c_j's inputs are mostly positive or mostly negative,
then its internal state s_j will tend to drift away over time. This is potentially dangerous, for
the h'(s_j) will then adopt very small values, and the gradient will vanish." 2c's cells have no
biases (Table 10), but their recurrent inputs from the gates, which sit near 0.5, act as bias
units, and a trial reads q + 13 symbols on average before the trigger.

:func:`drift_trace` trains the seeds exactly as ``Lstm1997Method`` does (same members, same
training streams; the population is the seeds given) and every ``every`` sequences runs each
net on one fixed set of ``size`` fresh sequences (drawn once, seed 0), recording per seed

- ``correct``: the fraction of the set with both output units within 0.2 of their targets at
  the trigger step (2c's ABS(0.2));
- ``state``: the mean |s_c| over the cells at the trigger step, and ``flat``: the fraction of
  (sequence, cell) pairs there with h'(s_c) < 0.1 (h1's slope at 0 is 0.5; 0.1 is |s| > ~3.6);
- ``separation``: the largest, over the cells, |mean s_c(x) - mean s_c(y)| at the trigger step
  (how much of the second symbol the cells hold);
- ``weight``: the largest |w_kc| of the output units.

So a failing trial shows whether its cells drifted into h's flat ends (``flat`` near 1), or sit
unsaturated without holding the second symbol (``flat`` small, ``separation`` small).
:func:`from_checkpoints` takes the same snapshot of the members a run saved
(``reproduce --out DIR``: ``DIR/checkpoints/*.pt`` while it runs, ``DIR/nets/*.pt`` with
``--keep-nets`` after it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from lstmlab.reproduce._adding_probe import saved_members
from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._lstm1997 import probe_training
from lstmlab.tasks import Batch, VeryLongLag
from lstmlab.training._network1997 import Network1997, NetworkWeights1997

THRESHOLD = 0.2  # 2c's ABS(0.2)
FLAT = 0.1  # h'(s) below this counts as h's flat end


@dataclass(frozen=True)
class Snapshot:
    """One seed at one point (``sequences`` trained); see the module docstring."""

    seed: int
    sequences: int
    correct: float
    state: float
    flat: float
    separation: float
    weight: float


@torch.no_grad()
def trigger_states(template: Network1997, weights: NetworkWeights1997, batch: Batch,
                   ) -> tuple[Tensor, Tensor]:
    """Outputs (K, N, O) and cell states s_c (K, N, H) of every member at each sequence's last
    real step (2c's trigger step): ``template.step`` over the padded batch, each sequence read
    where it ends."""
    members = weights.weight_ho.shape[0]
    inputs = batch.inputs.to(weights.weight_ho.dtype)
    N = inputs.shape[1]
    state = template.initial_state(N, population=members, dtype=inputs.dtype)
    outputs = torch.zeros(members, N, template.config.output_size, dtype=inputs.dtype)
    states = torch.zeros(members, N, template.cell.hidden_size, dtype=inputs.dtype)
    last = batch.lengths - 1
    for t in range(int(batch.lengths.max())):
        state, y, _ = template.step(inputs[t].expand(members, -1, -1), state, weights)
        ending = last == t
        outputs[:, ending], states[:, ending] = y[:, ending], state.c[:, ending]
    return outputs, states


def _check_2c(experiment: Experiment) -> VeryLongLag:
    task = experiment.make_task(0)
    if not isinstance(task, VeryLongLag):
        raise ValueError(f"experiment: expected 2c or a reading of it, received "
                         f"{experiment.name!r}")
    return task


def snapshots(template: Network1997, weights: NetworkWeights1997, check: Batch,
              seeds: Sequence[int], sequences: Sequence[int]) -> list[Snapshot]:
    """One :class:`Snapshot` per member of ``weights`` (seed and sequences trained given) on
    the fixed set ``check``."""
    dtype = torch.float64
    targets = torch.nn.functional.one_hot(check.labels, 2).to(dtype)
    outputs, states = trigger_states(template, weights, check)
    right = ((outputs - targets).abs().amax(-1) < THRESHOLD).to(dtype).mean(-1)
    slope = template.cell.h.derivative(states)
    held = (states[:, check.labels == 0].mean(1) - states[:, check.labels == 1].mean(1))
    return [Snapshot(int(seed), int(trained), float(right[k]), float(states[k].abs().mean()),
                     float((slope[k] < FLAT).to(dtype).mean()), float(held[k].abs().max()),
                     float(weights.weight_ho[k].abs().max()))
            for k, (seed, trained) in enumerate(zip(seeds, sequences, strict=True))]


def drift_trace(experiment: Experiment, seeds: Sequence[int], budget: int, every: int = 2000,
                size: int = 1000) -> list[Snapshot]:
    """Train ``seeds`` of ``experiment`` (2c at any setting, or a reading of it) for
    ``budget`` sequences each; a :class:`Snapshot` per seed every ``every`` sequences."""
    task = _check_2c(experiment)
    if budget < 1 or every < 1 or size < 1:
        raise ValueError(f"budget, every, size: expected >= 1, received {budget}, {every}, "
                         f"{size}")
    check = task.sample(size, torch.Generator().manual_seed(0))
    found: list[Snapshot] = []
    for presented, template, weights, _ in probe_training(experiment, seeds, budget, every):
        if presented > 0:
            found += snapshots(template, weights, check, seeds, [presented] * len(seeds))
    return found


def from_checkpoints(experiment: Experiment, paths: Sequence[Path], size: int = 1000,
                     ) -> list[Snapshot]:
    """:func:`snapshots` of the members saved at ``paths`` (a run's ``DIR/checkpoints/*.pt``,
    read with ``weights_only=True``), on the set :func:`drift_trace` uses."""
    task = _check_2c(experiment)
    if size < 1:
        raise ValueError(f"size: expected >= 1, received {size}")
    saved = saved_members(experiment, paths)
    return snapshots(saved.template, saved.weights,
                     task.sample(size, torch.Generator().manual_seed(0)), saved.seeds,
                     saved.sequences)


def table(snapshots: Sequence[Snapshot]) -> str:
    """``snapshots`` as a Markdown table, one row per seed and point."""
    lines = ["| seed | sequences | correct | mean abs(s) at e | h' < 0.1 | separation "
             "| max abs(w_kc) |", "|---|---|---|---|---|---|---|"]
    for s in sorted(snapshots, key=lambda s: (s.seed, s.sequences)):
        lines.append(f"| {s.seed} | {s.sequences:,} | {s.correct:.3f} | {s.state:.2f} "
                     f"| {s.flat:.2f} | {s.separation:.2f} | {s.weight:.2f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    """``python -m lstmlab.reproduce._drift_probe EXPERIMENT (--seeds N --budget B [--every E]
    | --checkpoints PT ...) [--size S]``: the table of :func:`table` for seeds 0..N-1 (one
    thread, one population), or for the members of a run's checkpoints."""
    import argparse

    from lstmlab.reproduce._method import torch_threads
    from lstmlab.reproduce._registry import experiment as named

    parser = argparse.ArgumentParser(prog="python -m lstmlab.reproduce._drift_probe")
    parser.add_argument("experiment")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int)
    parser.add_argument("--every", type=int, default=2000)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--checkpoints", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if (args.budget is None) == (args.checkpoints is None):
        parser.error("expected --budget B (train and probe) or --checkpoints PT ..., "
                     "not both")
    with torch_threads(1):
        if args.checkpoints:
            found = from_checkpoints(named(args.experiment), args.checkpoints, args.size)
        else:
            found = drift_trace(named(args.experiment), range(args.seeds), args.budget,
                                args.every, args.size)
    return table(found)


if __name__ == "__main__":
    import sys

    sys.stdout.write(main() + "\n")
