"""What an Experiment 3 (two-sequence) net holds: the class at the signal and at the end.

[H97] §5.3: the class is carried by the first N elements of a sequence of T to T + T/10 (1.0
for class 1, -1.0 for class 2; 3b adds Gaussian noise of variance 0.2 to them), every later
element is noise of variance 0.2, and the class is asked for at the end. A cell that takes the
class in at the first N steps also integrates, through the same input gate, the T steps of noise
after them (no forget gate): the class is the same size whatever T is, the noise's random walk
grows as sqrt(T).

:func:`two_sequence_states` unrolls K members over one batch (:func:`lstmlab.reproduce.
_adding_probe.unroll`, its two "marks" the first and the N-th step) and returns one
:class:`TwoSequenceState` per member: how much of the class target the cells' states hold
right after the N signal steps (``held_signal``) and at the end (``held_end``), each the R^2
of the target regressed on the states; how far the end states spread over the sequences
(``spread_end``, the noise's walk plus the class); the input gates over the sequence and at
the signal (a gate that opens there and shuts for the noise keeps the class), the output
weights and the error signal that reaches the cells at the end.

``python -m lstmlab.reproduce._two_sequence_probe EXPERIMENT --checkpoints PT ...`` reads the
member checkpoints of a run (``reproduce --out DIR``: ``DIR/checkpoints/*.pt``, or
``DIR/nets/*.pt`` with ``--keep-nets``, read with ``weights_only=True``); ``--seeds N
--budget B --every E`` trains seeds 0 to N - 1 as the run does (:func:`two_sequence_trace`) and
probes them every E sequences. ``--variant 3a`` runs the experiment's sequences without 3b's
noise on the class elements (:func:`with_variant`): seed for seed the same draws, so it
separates "one class element" from "noise on it".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from lstmlab.reproduce._adding_probe import FLAT, explained, saved_members, unroll
from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._lstm1997 import probe_training
from lstmlab.tasks import Batch
from lstmlab.tasks._two_sequence import TwoSequence
from lstmlab.training._network1997 import Network1997, NetworkWeights1997


@dataclass(frozen=True)
class TwoSequenceState:
    """One member: ``error`` mean |y - d| at the end (d the noise-free target); ``held_signal``
    and ``held_end`` the R^2 of d on the cell states after the N signal steps and at the end;
    ``state_end`` mean |s_c| and ``spread_end`` the cells' mean standard deviation of s_c over
    the sequences, at the end; ``flat_end`` the share of (sequence, cell) pairs with
    h'(s_c) < 0.1 there; ``gate_in`` each block's mean y^in over the steps, ``gate_signal`` at
    the N-th step (the last signal step); ``weight`` max |w_kc|; ``signal`` mean |dE/ds_c| at
    the end."""

    seed: int
    sequences: int
    error: float
    held_signal: float
    held_end: float
    state_end: float
    spread_end: float
    flat_end: float
    gate_in: tuple[float, ...]
    gate_signal: tuple[float, ...]
    weight: float
    signal: float


def _check_two_sequence(experiment: Experiment) -> TwoSequence:
    task = experiment.make_task(0)
    if not isinstance(task, TwoSequence):
        raise ValueError(f"experiment: expected 3a, 3b, 3c or a setting of them, received "
                         f"{experiment.name!r}")
    return task


def with_variant(experiment: Experiment, variant: str) -> Experiment:
    """``experiment`` with its task's variant replaced (T, N, set-up and seeds kept): an
    ablation, not a row of the paper. 3a and 3b have the same set-up (Table 10) and their
    sequences the same draws, so ``with_variant(3b@T=1000,N=1, "3a")`` trains each seed on the
    same sequences as 3b without the noise on the class elements."""
    task = _check_two_sequence(experiment)
    if variant not in ("3a", "3b", "3c"):
        raise ValueError(f"variant: expected 3a, 3b or 3c, received {variant!r}")
    if replace(TwoSequence(variant).setup, experiment=task.setup.experiment) != task.setup:
        raise ValueError(f"variant: {variant}'s set-up (Table 10) is not {task.variant}'s; "
                         f"expected a variant with the same set-up")
    return replace(experiment, name=f"{experiment.name} as {variant}",
                   make_task=lambda seed: TwoSequence(variant, T=task.T, N=task.N))


def two_sequence_states(template: Network1997, weights: NetworkWeights1997, batch: Batch,
                        task: TwoSequence, seeds: Sequence[int], sequences: Sequence[int],
                        ) -> list[TwoSequenceState]:
    """One :class:`TwoSequenceState` per member of ``weights`` (seed and sequences given)."""
    n = batch.inputs.shape[1]
    positions = torch.tensor([[0, task.N - 1]]).expand(n, 2)
    u = unroll(template, weights, batch, positions)
    target = task.noise_free_targets(batch).to(u.end.dtype)
    held_signal, held_end = explained(u.marks[1], target), explained(u.end, target)
    flat = (template.cell.h.derivative(u.end) < FLAT).to(u.end.dtype).mean((1, 2))
    return [TwoSequenceState(
        int(seed), int(trained), float((u.output[k] - target).abs().mean()),
        float(held_signal[k]), float(held_end[k]), float(u.end[k].abs().mean()),
        float(u.end[k].std(0).mean()), float(flat[k]),
        tuple(float(v) for v in u.gate_mean[k].mean(0)),
        tuple(float(v) for v in u.gate_marks[1, k].mean(0)),
        float(weights.weight_ho[k].abs().max()), float(u.signal[k].abs().mean()))
        for k, (seed, trained) in enumerate(zip(seeds, sequences, strict=True))]


def from_checkpoints(experiment: Experiment, paths: Sequence[Path], size: int = 500,
                     ) -> list[TwoSequenceState]:
    """:func:`two_sequence_states` for the members saved at ``paths``, on ``size`` sequences
    drawn with seed 0."""
    task = _check_two_sequence(experiment)
    if size < 2:
        raise ValueError(f"size: expected >= 2 sequences, received {size}")
    saved = saved_members(experiment, paths)
    return two_sequence_states(saved.template, saved.weights,
                               task.sample(size, torch.Generator().manual_seed(0)), task,
                               saved.seeds, saved.sequences)


def two_sequence_trace(experiment: Experiment, seeds: Sequence[int], budget: int, every: int,
                       size: int = 500) -> list[TwoSequenceState]:
    """Train ``seeds`` of ``experiment`` for ``budget`` sequences each, exactly as
    ``Lstm1997Method`` trains its members (no checks, no stopping); a
    :class:`TwoSequenceState` per seed at 0 and every ``every`` sequences, on ``size``
    sequences drawn with seed 0."""
    task = _check_two_sequence(experiment)
    if budget < 1 or every < 1 or size < 2:
        raise ValueError(f"budget, every, size: expected >= 1, >= 1, >= 2, received {budget}, "
                         f"{every}, {size}")
    check = task.sample(size, torch.Generator().manual_seed(0))
    states: list[TwoSequenceState] = []
    for presented, template, weights, _ in probe_training(experiment, seeds, budget, every):
        states += two_sequence_states(template, weights, check, task, seeds,
                                      [presented] * len(seeds))
    return states


def table(states: Sequence[TwoSequenceState]) -> str:
    """``states`` as a Markdown table, one row per member."""
    lines = ["| seed | sequences | mean abs err | R^2 target on s(signal) "
             "| R^2 target on s(end) | abs(s) end | sd(s) end | h'<0.1 end "
             "| y_in mean per block | y_in at signal per block | max abs(w_kc) "
             "| mean abs(dE/ds) |", "|" + "---|" * 12]
    for s in sorted(states, key=lambda s: (s.seed, s.sequences)):
        gates = " / ".join(f"{g:.3f}" for g in s.gate_in)
        at_signal = " / ".join(f"{g:.3f}" for g in s.gate_signal)
        lines.append(f"| {s.seed} | {s.sequences:,} | {s.error:.3f} | {s.held_signal:.3f} "
                     f"| {s.held_end:.3f} | {s.state_end:.2f} | {s.spread_end:.2f} "
                     f"| {s.flat_end:.2f} | {gates} | {at_signal} | {s.weight:.2g} "
                     f"| {s.signal:.2g} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    """``python -m lstmlab.reproduce._two_sequence_probe EXPERIMENT (--checkpoints PT ... |
    --seeds N --budget B --every E) [--size S]``: the table of :func:`table`."""
    import argparse

    from lstmlab.reproduce._method import torch_threads
    from lstmlab.reproduce._registry import experiment as named

    parser = argparse.ArgumentParser(prog="python -m lstmlab.reproduce._two_sequence_probe")
    parser.add_argument("experiment")
    parser.add_argument("--checkpoints", nargs="+", type=Path)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--budget", type=int, default=0)
    parser.add_argument("--every", type=int, default=10000)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--variant", help="train and probe EXPERIMENT's task as this variant "
                        "(3a, 3b: the same set-up and draws; an ablation, not a paper row)")
    args = parser.parse_args(argv)
    experiment = named(args.experiment)
    if args.variant:
        experiment = with_variant(experiment, args.variant)
    with torch_threads(1):
        if args.checkpoints:
            states = from_checkpoints(experiment, args.checkpoints, args.size)
        else:
            states = two_sequence_trace(experiment, range(args.seeds), args.budget,
                                        args.every, args.size)
    return table(states)


if __name__ == "__main__":
    import sys

    sys.stdout.write(main() + "\n")
