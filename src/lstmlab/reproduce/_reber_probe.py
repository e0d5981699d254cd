"""Experiment 1's trials judged by other rules, from the same training: the paper's criterion,
the training strings alone, and the JKU LSTM simulator's stopping rule.

A stopping rule changes when a trial is judged, not what it is trained on, so one training run
per seed answers what every rule would have said. :func:`judge` trains ``seeds`` of an
Experiment 1 set-up (or a reading of it) exactly as ``Lstm1997Method`` does
(``probe_training``: the same weights, the same training strings in the same order) and every
``every`` sequences runs each net over its distinct training and test strings, recording per
seed the first such point at which

- ``paper``: every string is right by [H97] §5.1's criterion, "the output unit(s) corresponding
  to the possible next symbol(s) is(are) always the most active ones" (``most_active_correct``;
  the ``reproduce`` trial's own rule, so at ``every = 100`` this is its number of sequences);
- ``training``: every training string is right by that criterion (the test set ignored);
- ``simulator[(seq_max, stop_class)]``: the JKU simulator's stopping rule (its ``lstm.c``,
  ``comp_err`` and ``execute_act``): a training sequence is misclassified when at some step
  the largest absolute output error exceeds ``seq_max`` ("max. error for correct sequence"),
  and learning stops once fewer than ``stop_class`` training sequences per epoch are
  misclassified ("stop learning once wrong classifications per epoch <"). Here the 256
  training strings are counted with their repeats, each judged by the net of the check (the
  simulator counts each sequence of the epoch as it was trained, with the weights moving), and
  the errors are against the targets the net is trained on (one-hot next symbol unless the
  reading says otherwise). With each point: whether every string is right by the paper's
  criterion there (a stop the paper would call a success).

and, at the last check, the number of distinct strings wrong by the paper's criterion.
Sequences count from the first presented one, as everywhere in ``reproduce``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._lstm1997 import probe_training
from lstmlab.tasks import EmbeddedReber
from lstmlab.tasks._reber import SYMBOLS, encode, most_active_steps
from lstmlab.training._network1997 import Network1997, NetworkWeights1997

#: (seq_max, stop_class) of the simulator's rule judged by default: a stop with no wrong
#: training sequence, or with fewer than 13 (5 % of 256).
RULES: tuple[tuple[float, int], ...] = tuple(
    (seq_max, stop_class) for seq_max in (0.5, 0.6, 0.7, 0.8, 0.9) for stop_class in (1, 13))


@dataclass(frozen=True)
class Judged:
    """One seed: the first check (sequences; None: not within budget) at which each rule is
    met, and for the simulator's rules also whether every string was right by the paper's
    criterion there; ``wrong_at_end``: distinct strings wrong at the last check, of
    ``distinct`` (``distinct_training`` of them training strings)."""

    seed: int
    paper: int | None
    training: int | None
    simulator: dict[tuple[float, int], tuple[int | None, bool]]
    wrong_at_end: int
    distinct: int
    distinct_training: int = 0


def simulator_met(max_error: Tensor, repeats: Tensor, seq_max: float, stop_class: int) -> bool:
    """The simulator's stop: fewer than ``stop_class`` training sequences misclassified, a
    sequence misclassified when its largest absolute output error exceeds ``seq_max``;
    ``max_error`` (N,) per distinct training string, ``repeats`` (N,) how often each occurs in
    the training set."""
    if max_error.shape != repeats.shape or max_error.dim() != 1:
        raise ValueError(f"max_error, repeats: expected two (N,) tensors, received "
                         f"{tuple(max_error.shape)} and {tuple(repeats.shape)}")
    return int(repeats[max_error > seq_max].sum()) < stop_class


def _strings(task: EmbeddedReber) -> tuple[list[str], int, Tensor]:
    """The task's distinct training strings, then its distinct test strings; how many are
    training strings; how often each training string occurs in the training set."""
    training = sorted(set(task.train_strings))
    test = sorted(set(task.test_strings) - set(training))
    repeats = torch.tensor([task.train_strings.count(s) for s in training])
    return training + test, len(training), repeats


@dataclass(frozen=True)
class StringSet:
    """K seeds' distinct strings side by side (padded to ``width`` with a repeat of each seed's
    first, never read): inputs, targets, mask, choices (T, K, width, ...), which columns are
    real and which are training strings, and each seed's training-string repeats."""

    inputs: Tensor
    targets: Tensor
    mask: Tensor
    choices: Tensor
    real: Tensor
    trained: Tensor
    repeats: tuple[Tensor, ...]
    texts: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, tasks: Sequence[EmbeddedReber], dtype: torch.dtype = torch.float64
           ) -> StringSet:
        sets = [_strings(task) for task in tasks]
        K, width = len(sets), max(len(strings) for strings, _, _ in sets)
        padded = [s for strings, _, _ in sets
                  for s in strings + strings[:1] * (width - len(strings))]
        batch = encode(padded, tasks[0].targets)
        T = batch.inputs.shape[0]

        def split(x: Tensor) -> Tensor:  # (T, K * width, ...) -> (T, K, width, ...)
            return x.reshape(T, K, width, *x.shape[2:])

        real = torch.zeros(K, width, dtype=torch.bool)
        trained = torch.zeros(K, width, dtype=torch.bool)
        for k, (strings, n_train, _) in enumerate(sets):
            real[k, :len(strings)] = True
            trained[k, :n_train] = True
        return cls(split(batch.inputs).to(dtype), split(batch.targets).to(dtype),
                   split(batch.mask), split(batch.choices), real, trained,
                   tuple(repeats for _, _, repeats in sets),
                   tuple(tuple(strings) for strings, _, _ in sets))


@torch.no_grad()
def judge_now(template: Network1997, weights: NetworkWeights1997, strings: StringSet
              ) -> tuple[Tensor, Tensor]:
    """The K nets (``weights`` stacked) on their strings: (K, width) right by the paper's
    criterion (padding columns True) and each string's largest absolute output error."""
    outputs, _ = template(strings.inputs, weights=weights)  # (T, K, width, O)
    right = most_active_steps(outputs, strings.choices, strings.mask).all(0) | ~strings.real
    error = (outputs - strings.targets).abs() * strings.mask.unsqueeze(-1)
    return right, error.amax(dim=(0, 3))


def judge(experiment: Experiment, seeds: Sequence[int], budget: int, every: int = 100,
          rules: Sequence[tuple[float, int]] = RULES) -> list[Judged]:
    """Train ``seeds`` of ``experiment`` (Experiment 1 or a reading of it) for ``budget``
    sequences each and judge them every ``every``; see the module docstring."""
    tasks = [experiment.make_task(seed) for seed in seeds]
    if not all(isinstance(task, EmbeddedReber) for task in tasks):
        raise ValueError(f"experiment: expected Experiment 1 or a reading of it, received "
                         f"{experiment.name!r}")
    if budget < 1 or every < 1:
        raise ValueError(f"budget, every: expected >= 1, received {budget}, {every}")
    strings = StringSet.of(tasks)
    K = len(seeds)
    paper: list[int | None] = [None] * K
    training: list[int | None] = [None] * K
    simulator: list[dict[tuple[float, int], tuple[int | None, bool]]] = [
        {rule: (None, False) for rule in rules} for _ in seeds]
    right = torch.zeros_like(strings.real)
    for presented, template, weights, _ in probe_training(experiment, seeds, budget, every):
        if presented == 0:
            continue
        right, max_error = judge_now(template, weights, strings)
        for k in range(K):
            everything = bool(right[k].all())
            if paper[k] is None and everything:
                paper[k] = presented
            if training[k] is None and bool((right[k] | ~strings.trained[k]).all()):
                training[k] = presented
            repeats = strings.repeats[k]
            for rule in rules:
                if simulator[k][rule][0] is None and simulator_met(
                        max_error[k, :len(repeats)], repeats, *rule):
                    simulator[k][rule] = (presented, everything)
    return [Judged(seed, paper[k], training[k], simulator[k], int((~right[k]).sum()),
                   int(strings.real[k].sum()), int(strings.trained[k].sum()))
            for k, seed in enumerate(seeds)]


@dataclass(frozen=True)
class WrongContext:
    """Where one seed's net is wrong at the end: the steps whose last three symbols read are
    ``context`` (fewer at a string's start), ``wrong`` of the ``seen`` such steps over the
    distinct strings wrong by the paper's criterion, the symbols the grammar allows next
    there, and the mean outputs (``SYMBOLS``' order) at the wrong steps."""

    seed: int
    context: str
    allowed: str
    wrong: int
    seen: int
    outputs: tuple[float, ...]


@torch.no_grad()
def wrong_contexts(template: Network1997, weights: NetworkWeights1997, strings: StringSet,
                   seeds: Sequence[int]) -> list[WrongContext]:
    """Every (seed, context) with a wrong step, most wrong first within each seed."""
    outputs, _ = template(strings.inputs, weights=weights)  # (T, K, width, O)
    # plain lists: the loops below read them element by element
    step_right = most_active_steps(outputs, strings.choices, strings.mask
                                   ).permute(1, 2, 0).tolist()  # [k][n][t]
    choices = strings.choices.permute(1, 2, 0, 3).tolist()  # [k][n][t][o]
    found: list[WrongContext] = []
    for k, seed in enumerate(seeds):
        seen: dict[tuple[str, str], int] = {}
        wrong: dict[tuple[str, str], list[Tensor]] = {}
        for n, text in enumerate(strings.texts[k]):
            for t in range(len(text) - 1):
                allowed = "".join(s for s, on in zip(SYMBOLS, choices[k][n][t], strict=True)
                                  if on)
                key = (text[max(0, t - 2):t + 1], allowed)
                seen[key] = seen.get(key, 0) + 1
                if not step_right[k][n][t]:
                    wrong.setdefault(key, []).append(outputs[t, k, n])
        ranked = sorted(wrong.items(), key=lambda item: (-len(item[1]), item[0]))
        found += [WrongContext(seed, context, allowed, len(steps), seen[(context, allowed)],
                               tuple(float(v) for v in torch.stack(steps).mean(0)))
                  for (context, allowed), steps in ranked]
    return found


def where(experiment: Experiment, seeds: Sequence[int], budget: int) -> list[WrongContext]:
    """``wrong_contexts`` of ``seeds`` of ``experiment`` after ``budget`` sequences."""
    tasks = [experiment.make_task(seed) for seed in seeds]
    if not all(isinstance(task, EmbeddedReber) for task in tasks):
        raise ValueError(f"experiment: expected Experiment 1 or a reading of it, received "
                         f"{experiment.name!r}")
    strings = StringSet.of(tasks)
    for presented, template, weights, _ in probe_training(experiment, seeds, budget, budget):
        if presented == budget:
            return wrong_contexts(template, weights, strings, seeds)
    raise ValueError(f"budget: expected >= 1, received {budget}")


def where_table(found: Sequence[WrongContext], top: int = 3) -> str:
    """The ``top`` contexts of each seed as a Markdown table."""
    lines = ["| seed | after | allowed next | wrong / seen | mean outputs "
             + " ".join(SYMBOLS) + " |", "|---|---|---|---|---|"]
    shown: dict[int, int] = {}
    for c in found:
        shown[c.seed] = shown.get(c.seed, 0) + 1
        if shown[c.seed] <= top:
            lines.append(f"| {c.seed} | {c.context} | {c.allowed} | {c.wrong} / {c.seen} | "
                         + " ".join(f"{v:.2f}" for v in c.outputs) + " |")
    return "\n".join(lines)


def table(judged: Sequence[Judged]) -> str:
    """``judged`` as a Markdown table, one row per seed; a simulator entry is the stop's
    sequences with "ok" where every string was right there by the paper's criterion and "wrong"
    where not, "-" where the rule never fired."""
    rules = list(judged[0].simulator) if judged else []
    head = ["seed", "strings (training + test)", "paper", "training strings",
            "wrong at end"] + [
        f"sim. {seq_max} / < {stop}" for seq_max, stop in rules]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def when(value: int | None) -> str:
        return "-" if value is None else f"{value:,}"

    for j in judged:
        cells = [str(j.seed), f"{j.distinct_training} + {j.distinct - j.distinct_training}",
                 when(j.paper), when(j.training), f"{j.wrong_at_end} of {j.distinct}"]
        for rule in rules:
            at, ok = j.simulator[rule]
            cells.append("-" if at is None else f"{at:,} {'ok' if ok else 'wrong'}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    """``python -m lstmlab.reproduce._reber_probe EXPERIMENT --seeds N --budget B [--every E]``:
    the table of :func:`table` for seeds 0..N-1 (one thread, one population); with
    ``--where TOP`` instead :func:`where_table` at the budget."""
    import argparse

    from lstmlab.reproduce._method import torch_threads
    from lstmlab.reproduce._registry import experiment as named

    parser = argparse.ArgumentParser(prog="python -m lstmlab.reproduce._reber_probe")
    parser.add_argument("experiment")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, required=True)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--where", type=int, default=0, metavar="TOP",
                        help="instead: each seed's TOP contexts with wrong steps at the budget")
    args = parser.parse_args(argv)
    with torch_threads(1):
        if args.where:
            return where_table(where(named(args.experiment), range(args.seeds), args.budget),
                               args.where)
        judged = judge(named(args.experiment), range(args.seeds), args.budget, args.every)
    return table(judged)


if __name__ == "__main__":
    import sys

    sys.stdout.write(main() + "\n")
