"""What an Experiment 4 (adding) net holds: cell states, gates, output weights, error signal.

[H97] §4, "internal state drift": "If memory cell c_j's inputs are mostly positive or mostly
negative, then its internal state s_j will tend to drift away over time. This is potentially
dangerous, for the h'(s_j) will then adopt very small values, and the gradient will vanish."
Exp. 4's cells read 1,000-1,100 steps of values uniform in [-1, 1] at T = 1000; whatever the
input gates let through adds up in s_c (no forget gate), a random walk plus a drift.

:func:`unroll` runs K members over one batch of adding sequences (padded, each read where it
ends) and returns per member and sequence the cell states s_c at the two marked steps and at
the end, the input gates at the marked steps and their mean over the sequence, the output gates
at the end, the output, and ``signal``: dE/ds_c at the end for E = (y - d)^2 / 2. With the
1997 truncated gradient and no forget gate, ds_c(T)/ds_c(t) = 1 along the constant error
carousel, so ``signal`` is exactly the error that reaches each cell at the marked steps (the
cell's input weights then change by signal * y^in(t) * g'(net_c(t)) * x(t)).

:func:`summarize` turns that into one :class:`AddingState` per member: the error, mean |s_c|
and the share in h's flat ends (h'(s) < 0.1) at the marks and the end, ``held``: the R^2 of
the target regressed on the cells' end states (how much of X1 + X2 the cells hold, whether or
not the output reads it), the input gates, the largest |w_kc|, and the mean |signal|.

:func:`checkpoint_weights` reads a trial's member checkpoint (``weights_only=True``) into
weights; :func:`adding_trace` trains seeds as ``Lstm1997Method`` does and probes them on the
way, so a plateau can be compared with its escape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._lstm1997 import network_config, probe_training
from lstmlab.tasks import Adding, Batch
from lstmlab.training._network1997 import Network1997, NetworkWeights1997, map_weights
from lstmlab.training._pool import load_nested, stack

FLAT = 0.1  # h'(s) below this counts as h's flat end (h1's slope at 0 is 0.5)


class Unrolled(NamedTuple):
    """Per member k and sequence n (cells H, blocks C): ``marks`` (2, K, N, H) s_c at the
    earlier and the later marked step, ``end`` (K, N, H) s_c at the last step, ``gate_marks``
    (2, K, N, C) y^in there, ``gate_mean`` (K, N, C) y^in averaged over the sequence's steps,
    ``gate_out`` (K, N, C) y^out at the end, ``output`` (K, N) y^k at the end, ``signal``
    (K, N, H) dE/ds_c at the end."""

    marks: Tensor
    end: Tensor
    gate_marks: Tensor
    gate_mean: Tensor
    gate_out: Tensor
    output: Tensor
    signal: Tensor


@dataclass(frozen=True)
class AddingState:
    """One member: ``error`` mean |y - d| at the end; ``state_*`` mean |s_c| and ``flat_*`` the
    share of (sequence, cell) pairs with h'(s_c) < 0.1, at the marks (both pooled) and the end;
    ``held`` R^2 of the target on the end states; ``gate_in`` the largest (over blocks) mean
    y^in over the steps, ``gate_marks`` the same at the marked steps; ``gate_out`` mean y^out at
    the end, ``gate_shut`` the smallest (over blocks) mean y^out there; ``weight`` max |w_kc|;
    ``signal`` mean |dE/ds_c| (over sequences and cells)."""

    seed: int
    sequences: int
    error: float
    state_marks: float
    state_end: float
    flat_marks: float
    flat_end: float
    held: float
    gate_in: float
    gate_marks: float
    gate_out: float
    gate_shut: float
    weight: float
    signal: float


@torch.no_grad()
def unroll(template: Network1997, weights: NetworkWeights1997, batch: Batch,
           positions: Tensor | None = None) -> Unrolled:
    """:class:`Unrolled` for (K, ...) ``weights`` over ``batch`` (padded sequences).
    ``positions`` (N, 2): the two steps of each sequence whose states ``marks`` holds; by
    default the two marked steps of adding sequences."""
    members = weights.weight_ho.shape[0]
    inputs = batch.inputs.to(weights.weight_ho.dtype)
    N, C = inputs.shape[1], template.cell.num_blocks
    if positions is None:
        marked = (inputs[..., 1] == 1.0).T  # (N, steps)
        positions = marked.nonzero()[:, 1].reshape(N, 2)  # two marks per sequence, in order
    state = template.initial_state(N, population=members, dtype=inputs.dtype)
    H = template.cell.hidden_size
    zeros = {"dtype": inputs.dtype}
    marks = torch.zeros(2, members, N, H, **zeros)
    gate_marks = torch.zeros(2, members, N, C, **zeros)
    gate_sum = torch.zeros(members, N, C, **zeros)
    end = torch.zeros(members, N, H, **zeros)
    gate_out = torch.zeros(members, N, C, **zeros)
    net_end = torch.zeros(members, N, **zeros)
    last = batch.lengths - 1
    for t in range(int(batch.lengths.max())):
        state, _, _ = template.step(inputs[t].expand(members, -1, -1), state, weights)
        running = t <= last
        gate_sum[:, running] += state.input[:, running]
        for j in range(2):
            here = positions[:, j] == t
            marks[j][:, here], gate_marks[j][:, here] = state.c[:, here], state.input[:, here]
        ending = last == t
        end[:, ending], gate_out[:, ending] = state.c[:, ending], state.output[:, ending]
        net = state.h @ weights.weight_ho.mT
        if weights.bias_o is not None:  # Table 10: 3a-3c's output unit has no bias
            net = net + weights.bias_o.unsqueeze(-2)
        net_end[:, ending] = net[:, ending, 0]
    squash = template.config.output_squash
    output = squash.fn(net_end)
    target = batch.targets[last, torch.arange(N), 0].to(inputs.dtype)
    # dE/ds_c(T) = (y - d) f_k'(net) w_kc y^out_c h'(s_c)
    delta = ((output - target) * squash.derivative(net_end)).unsqueeze(-1)
    out_cells = gate_out.repeat_interleave(template.cell.block_size, -1)
    slope = template.cell.h.derivative(end)
    signal = delta * weights.weight_ho[:, 0].unsqueeze(1) * out_cells * slope
    gate_mean = gate_sum / batch.lengths.to(inputs.dtype).unsqueeze(-1)
    return Unrolled(marks, end, gate_marks, gate_mean, gate_out, output, signal)


def explained(features: Tensor, target: Tensor) -> Tensor:
    """R^2 of ``target`` (N,) on ``features`` (K, N, H) plus an intercept, per member (K,)."""
    design = torch.cat([features, torch.ones_like(features[..., :1])], -1)
    fit = torch.linalg.lstsq(design, target.expand(features.shape[0], -1).unsqueeze(-1),
                             driver="gelsd").solution
    residual = target - (design @ fit).squeeze(-1)
    return 1 - residual.pow(2).sum(-1) / (target - target.mean()).pow(2).sum()


def summarize(template: Network1997, weights: NetworkWeights1997, batch: Batch,
              seeds: Sequence[int], sequences: Sequence[int]) -> list[AddingState]:
    """One :class:`AddingState` per member of ``weights`` (seed and sequences trained given)."""
    u = unroll(template, weights, batch)
    N = batch.inputs.shape[1]
    target = batch.targets[batch.lengths - 1, torch.arange(N), 0].to(u.end.dtype)
    slope = template.cell.h.derivative
    flat_marks = (slope(u.marks) < FLAT).to(u.end.dtype).mean((0, 2, 3))
    flat_end = (slope(u.end) < FLAT).to(u.end.dtype).mean((1, 2))
    held = explained(u.end, target)
    return [AddingState(
        int(seed), int(trained), float((u.output[k] - target).abs().mean()),
        float(u.marks[:, k].abs().mean()), float(u.end[k].abs().mean()), float(flat_marks[k]),
        float(flat_end[k]), float(held[k]), float(u.gate_mean[k].mean(0).max()),
        float(u.gate_marks[:, k].mean((0, 1)).max()), float(u.gate_out[k].mean()),
        float(u.gate_out[k].mean(0).min()),
        float(weights.weight_ho[k].abs().max()), float(u.signal[k].abs().mean()))
        for k, (seed, trained) in enumerate(zip(seeds, sequences, strict=True))]


def checkpoint_weights(path: Path, template: Network1997) -> tuple[int, int, NetworkWeights1997]:
    """(seed, sequences trained, weights) of one member checkpoint, read with
    ``weights_only=True`` and checked against ``template``'s shapes and dtype."""
    saved = torch.load(path, weights_only=True, map_location="cpu")
    weights = load_nested(saved["weights"], map_weights(torch.Tensor.detach, template.weights()))
    return int(saved["seed"]), int(saved["criterion"]["sequences"]), weights


class SavedMembers(NamedTuple):
    """A run's saved members, stacked: ``template`` (float64, the experiment's net),
    ``weights``, and per member its ``seeds`` and ``sequences`` trained."""

    template: Network1997
    weights: NetworkWeights1997
    seeds: tuple[int, ...]
    sequences: tuple[int, ...]


def saved_members(experiment: Experiment, paths: Sequence[Path]) -> SavedMembers:
    """The members saved at ``paths`` (a run's ``DIR/checkpoints/*.pt``, or with
    ``--keep-nets`` its ``DIR/nets/*.pt``; each read by :func:`checkpoint_weights`) for the
    probes' ``from_checkpoints``."""
    template = Network1997(network_config(experiment.setup), dtype=torch.float64)
    seeds, trained, drawn = zip(*(checkpoint_weights(p, template) for p in paths), strict=True)
    return SavedMembers(template, stack(drawn), seeds, trained)


def _check_adding(experiment: Experiment) -> Adding:
    task = experiment.make_task(0)
    if not isinstance(task, Adding):
        raise ValueError(f"experiment: expected 4 or a reading of it, received "
                         f"{experiment.name!r}")
    return task


def from_checkpoints(experiment: Experiment, paths: Sequence[Path], size: int = 500,
                     ) -> list[AddingState]:
    """:func:`summarize` for the members saved at ``paths`` (one trial store's checkpoints)."""
    task = _check_adding(experiment)
    saved = saved_members(experiment, paths)
    return summarize(saved.template, saved.weights,
                     task.sample(size, torch.Generator().manual_seed(0)), saved.seeds,
                     saved.sequences)


def adding_trace(experiment: Experiment, seeds: Sequence[int], budget: int, every: int,
                 size: int = 500) -> list[AddingState]:
    """Train ``seeds`` of ``experiment`` (4 at any setting, or a reading of it) for ``budget``
    sequences each, exactly as ``Lstm1997Method`` trains its members (no stopping); an
    :class:`AddingState` per seed at 0 and every ``every`` sequences."""
    task = _check_adding(experiment)
    if budget < 1 or every < 1 or size < 1:
        raise ValueError(f"budget, every, size: expected >= 1, received {budget}, {every}, "
                         f"{size}")
    check = task.sample(size, torch.Generator().manual_seed(0))
    states: list[AddingState] = []
    for presented, template, weights, _ in probe_training(experiment, seeds, budget, every):
        states += summarize(template, weights, check, seeds, [presented] * len(seeds))
    return states


def table(states: Sequence[AddingState]) -> str:
    """``states`` as a Markdown table, one row per seed and point."""
    lines = ["| seed | sequences | mean abs err | abs(s) marks | abs(s) end | h'<0.1 marks "
             "| h'<0.1 end | R^2 target on s(end) | y_in mean | y_in at marks | y_out end "
             "| min block y_out end | max abs(w_kc) | mean abs(dE/ds) |", "|" + "---|" * 14]
    for s in sorted(states, key=lambda s: (s.seed, s.sequences)):
        lines.append(f"| {s.seed} | {s.sequences:,} | {s.error:.3f} | {s.state_marks:.2f} "
                     f"| {s.state_end:.2f} | {s.flat_marks:.2f} | {s.flat_end:.2f} "
                     f"| {s.held:.3f} | {s.gate_in:.3f} | {s.gate_marks:.3f} "
                     f"| {s.gate_out:.3f} | {s.gate_shut:.3f} | {s.weight:.2g} "
                     f"| {s.signal:.2g} |")
    return "\n".join(lines)


def means(states: Sequence[AddingState]) -> str:
    """Per point (sequences trained) with at least two seeds: each column's mean over the seeds
    and its 95 % bootstrap interval, as Markdown table rows matching :func:`table`'s."""
    from dataclasses import astuple, fields

    from lstmlab.stats import bootstrap_mean_interval

    names = [f.name for f in fields(AddingState)][2:]
    lines = []
    for point in sorted({s.sequences for s in states}):
        here = [astuple(s)[2:] for s in states if s.sequences == point]
        if len(here) < 2:
            continue
        cells = []
        for j, _ in enumerate(names):
            m = bootstrap_mean_interval([row[j] for row in here])
            cells.append(f"{m.estimate:.3g} [{m.low:.3g}, {m.high:.3g}]")
        lines.append(f"| mean of {len(here)} | {point:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    """``python -m lstmlab.reproduce._adding_probe EXPERIMENT (--checkpoints PT ... |
    --seeds N --budget B --every E) [--size S] [--means]``: the table of :func:`table`
    (and :func:`means`)."""
    import argparse

    from lstmlab.reproduce._method import torch_threads
    from lstmlab.reproduce._registry import experiment as named

    parser = argparse.ArgumentParser(prog="python -m lstmlab.reproduce._adding_probe")
    parser.add_argument("experiment")
    parser.add_argument("--checkpoints", nargs="+", type=Path)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--budget", type=int, default=0)
    parser.add_argument("--every", type=int, default=10000)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--means", action="store_true",
                        help="add each point's means over the seeds, 95 %% bootstrap intervals")
    args = parser.parse_args(argv)
    with torch_threads(1):
        if args.checkpoints:
            states = from_checkpoints(named(args.experiment), args.checkpoints, args.size)
        else:
            states = adding_trace(named(args.experiment), range(args.seeds), args.budget,
                                  args.every, args.size)
    return table(states) + ("\n" + means(states) if args.means else "")


if __name__ == "__main__":
    import sys

    sys.stdout.write(main() + "\n")
