"""Where the sequences of an Experiment 2a trial go: the two phases of [H97] §5.2's sequential
construction, and within phase 2, when each of the two last-step output units is learned.

2a's last prediction is x or y, decided by the first symbol; every other target follows from the
current input. :func:`phase_times` trains the trials exactly as ``Lstm1997Method`` does (same
members, same data streams, same phase-1 mask and switch; the population is the seeds given) and
every ``every`` training sequences judges each net on 2a's two distinct sequences, recording per
seed the first such point at which

- ``x_unit`` / ``y_unit``: that output unit's last-step error is below 0.25 on both sequences;
- ``solved``: every output at every step is below 0.25 on both sequences (the stopping rule of
  2a judged on its two sequences, as ``cached_task`` does, at the resolution ``every``);

and ``fired_at``, the sequence after which the cell was added (``PlateauTracker.fired_at``).
Sequences count from the first presented one, as everywhere in ``reproduce``.

Why one unit is slow: the forces on the weights ``w_kc`` from the cell to units x and y. The
cell output y^c(t) is the same in both sequences up to what the first step wrote, so its size
at the last step tells x from y; unit x must weigh it with the sign of
``y^c_last(x) - y^c_last(y)``, unit y with the other sign. At the p - 1 steps before the last
(the middle steps) both units have target 0, and the cell output there is the drifted state:
``s_mid``, its mean over those steps and both sequences. The unit whose needed sign is the sign
of ``s_mid`` is *against the drift*: raising its weight raises its middle-step outputs too. At
every check after the first unit is learned the probe sums, for the unit against the drift,
eq. 22's descent direction on its ``w_kc``, ``e_k(t) y^c(t)`` (``e_k = f_k'(net_k)(t^k -
y^k)``, logistic f_k), over both sequences, once over the middle steps and once at the last
step; ``middle_force`` and ``last_force`` are their means over those checks (until that unit
is learned or the budget ends). A unit held back by its middle steps shows ``middle_force ~
-last_force``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from lstmlab.cells import IDENTITY
from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._lstm1997 import probe_training
from lstmlab.tasks import NoiseFreeLongLag
from lstmlab.tasks._long_lags import winner_steps
from lstmlab.training._network1997 import Network1997

THRESHOLD = 0.25  # 2a's ABS(0.25)


@dataclass(frozen=True)
class PhaseTimes:
    """One trial's milestones (sequences, counted from the first; None: not within budget),
    the unit against the drift when the first unit was learned (``"x"``/``"y"``), and that
    unit's mean forces after it (see the module docstring; None where not measured)."""

    seed: int
    fired_at: int | None
    x_unit: int | None
    y_unit: int | None
    solved: int | None
    against_drift: str | None = None
    middle_force: float | None = None
    last_force: float | None = None
    winner: int | None = None
    winner_high: int | None = None


def _pair(task: NoiseFreeLongLag) -> tuple[Tensor, Tensor, Tensor]:
    """2a's two sequences (label 0 = x, 1 = y): inputs (T, 2, I), targets (T, 2, O), mask."""
    found = task.sample(64, torch.Generator().manual_seed(0))
    first = [int(torch.nonzero(found.labels == label)[0]) for label in (0, 1)]
    return found.inputs[:, first], found.targets[:, first], found.mask[:, first]


def phase_times(experiment: Experiment, seeds: Sequence[int], budget: int,
                every: int = 250) -> list[PhaseTimes]:
    """Train ``seeds`` of ``experiment`` (2a or a reading of it) for at most ``budget``
    sequences each; see the module docstring."""
    task = experiment.make_task(0)
    if not isinstance(task, NoiseFreeLongLag) or task.random_middle:
        raise ValueError(f"experiment: expected 2a or a reading of it, received "
                         f"{experiment.name!r}")
    if experiment.setup.add_cells_after is None:
        raise ValueError(f"experiment {experiment.name!r}: expected a sequential construction "
                         "(setup.add_cells_after), received None")
    if budget < 1 or every < 1:
        raise ValueError(f"budget, every: expected >= 1, received {budget}, {every}")
    dtype = torch.float64
    inputs, targets, mask = (part.to(dtype) for part in _pair(task))
    last = task.p - 1  # the last step; units p - 1 (x) and p (y)
    found: list[dict[str, int | None]] = [
        {"x_unit": None, "y_unit": None, "solved": None, "winner": None, "winner_high": None}
        for _ in seeds]
    against: list[str | None] = [None] * len(seeds)
    measured: list[list[tuple[float, float]]] = [[] for _ in seeds]
    members: tuple = ()
    for point in probe_training(experiment, seeds, budget, every):
        presented, template, weights, members = point
        if presented == 0:
            continue
        outputs, cell_output = _run_pair(template, weights, inputs)
        error = (outputs - targets.unsqueeze(1)).abs() * mask.unsqueeze(1).unsqueeze(-1)
        push = forces(outputs, cell_output, targets, mask, (last, last + 1),
                      linear=experiment.setup.output_unit is IDENTITY)
        drift = cell_output[:last].mean(dim=(0, 2))  # (K,) s_mid
        x_sign = torch.sign(cell_output[last, :, 0] - cell_output[last, :, 1])
        winner, winner_high = winner_verdicts(outputs, targets, mask)
        marks = {"x_unit": error[last, :, :, last].amax(-1),
                 "y_unit": error[last, :, :, last + 1].amax(-1),
                 "solved": error.amax(dim=(0, 2, 3)),
                 "winner": (~winner).to(error.dtype), "winner_high": (~winner_high).to(error.dtype)}
        for name, worst in marks.items():
            for k, value in enumerate(worst.tolist()):
                if found[k][name] is None and value < THRESHOLD:
                    found[k][name] = presented
        for k in range(len(seeds)):
            first = found[k]["x_unit"] is not None or found[k]["y_unit"] is not None
            if first and against[k] is None:
                against[k] = "x" if float(x_sign[k] * drift[k]) > 0 else "y"
            if against[k] is not None and found[k][f"{against[k]}_unit"] is None:
                unit = 0 if against[k] == "x" else 1
                measured[k].append((float(push[:last, k, unit].sum()),
                                  float(push[last, k, unit])))
        if all(f["solved"] is not None for f in found):
            break
    return [PhaseTimes(m.seed, m.construction.fired_at, **f, against_drift=a,
                       middle_force=_mean([mid for mid, _ in pushes]),
                       last_force=_mean([end for _, end in pushes]))
            for m, f, a, pushes in zip(members, found, against, measured, strict=True)]


@dataclass(frozen=True)
class LastStep:
    """One net at one check, on 2a's two sequences (x: the sequence whose last target is
    unit x, y: the other): the last-step outputs of units x and y on each, the cell output
    y^c there on each, its mean over the middle steps of both, and the weights w_kc from the
    cell to units x and y."""

    seed: int
    sequences: int
    x_on_x: float
    y_on_x: float
    x_on_y: float
    y_on_y: float
    cell_last_x: float
    cell_last_y: float
    cell_middle: float
    w_xc: float
    w_yc: float


def last_step_trace(experiment: Experiment, seeds: Sequence[int], budget: int,
                    every: int) -> list[LastStep]:
    """Train ``seeds`` of ``experiment`` (2a or a reading) as ``reproduce`` does and every
    ``every`` sequences record :class:`LastStep` for each: what holds the last-step output
    units where they are (the saturated plateau of the text's reading)."""
    task = experiment.make_task(0)
    if not isinstance(task, NoiseFreeLongLag) or task.random_middle:
        raise ValueError(f"experiment: expected 2a or a reading of it, received "
                         f"{experiment.name!r}")
    if budget < 1 or every < 1:
        raise ValueError(f"budget, every: expected >= 1, received {budget}, {every}")
    inputs, _, _ = (part.to(torch.float64) for part in _pair(task))
    last = task.p - 1
    rows = []
    for presented, template, weights, members in probe_training(experiment, seeds, budget,
                                                                every):
        if presented == 0:
            continue
        outputs, cell = _run_pair(template, weights, inputs)
        for k, member in enumerate(members):
            w = weights.weight_ho[k]
            rows.append(LastStep(
                member.seed, presented, float(outputs[last, k, 0, last]),
                float(outputs[last, k, 0, last + 1]), float(outputs[last, k, 1, last]),
                float(outputs[last, k, 1, last + 1]), float(cell[last, k, 0]),
                float(cell[last, k, 1]), float(cell[:last, k].mean()),
                float(w[last, -1]), float(w[last + 1, -1])))
    return rows


def trace_table(rows: Sequence[LastStep]) -> str:
    """``rows`` as a Markdown table, by seed then sequences."""
    lines = ["| seed | sequences | x, y at the end of x | x, y at the end of y | y^c at the end "
             "(x, y) | y^c, middle mean | w_xc, w_yc |", "|---|---:|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r.seed, r.sequences)):
        lines.append(f"| {r.seed} | {r.sequences:,} | {r.x_on_x:.4f}, {r.y_on_x:.4f} | "
                     f"{r.x_on_y:.4f}, {r.y_on_y:.4f} | {r.cell_last_x:.2f}, "
                     f"{r.cell_last_y:.2f} | {r.cell_middle:.2f} | {r.w_xc:+.2f}, "
                     f"{r.w_yc:+.2f} |")
    return "\n".join(lines)


def winner_verdicts(outputs: Tensor, targets: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Two other judgements of the pair than 2a's ABS(0.25), (K,) bool each: ``winner``, at
    every step of both sequences the most active output unit is the target's (Exp. 1's
    criterion, [H97] §5.1); ``winner_high``, also above 1 - 0.25 there (the most active unit's
    absolute error below 0.25). ``outputs`` (T, K, B, O), ``targets`` (T, B, O) one-hot,
    ``mask`` (T, B)."""
    real = mask.unsqueeze(1).bool()  # (T, 1, B)
    right = winner_steps(outputs, targets.unsqueeze(1), real)  # (T, K, B)
    top_value = outputs.amax(-1)
    high = right & ((top_value > 1 - THRESHOLD) | ~real)
    return right.all(0).all(-1), high.all(0).all(-1)


def forces(outputs: Tensor, cell_output: Tensor, targets: Tensor, mask: Tensor,
           units: tuple[int, ...], linear: bool = False) -> Tensor:
    """Eq. 22's descent direction on the weights from the (one) cell to ``units``, per step
    and summed over the sequences: ``sum_b e_k(t) y^c(t)`` with ``e_k = y^k (1 - y^k)
    (t^k - y^k) mask`` (eq. 19, logistic output units), (T, K, len(units)).

    ``outputs`` (T, K, B, O), ``cell_output`` (T, K, B) y^c, ``targets`` (T, B, O) and ``mask``
    (T, B) shared by the members (``linear``: output units f_k the identity, f_k' = 1). Its
    sum over t is -dE/dw_kc for E the pair's eq. 16 (with
    the 1/2), at fixed weights."""
    chosen = list(units)
    y = outputs[..., chosen]
    slope = torch.ones_like(y) if linear else y * (1 - y)  # f_k' (linear: 1)
    e_k = slope * (targets[..., chosen].unsqueeze(1) - y) * mask[:, None, :, None]
    return (e_k * cell_output.unsqueeze(-1)).sum(2)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@torch.no_grad()
def _run_pair(template: Network1997, weights, inputs: Tensor) -> tuple[Tensor, Tensor]:
    """Outputs (T, K, 2, O) and the cell output y^c (T, K, 2) of every member on the pair
    ``inputs`` (T, 2, I): ``template.forward``'s steps, keeping y^c."""
    members = weights.weight_ho.shape[0]
    state = template.initial_state(2, population=members, dtype=inputs.dtype)
    outputs, cell_output = [], []
    for x in inputs.unsqueeze(1).expand(-1, members, -1, -1):
        state, y, _ = template.step(x, state, weights)
        outputs.append(y)
        cell_output.append(state.h[..., 0])
    return torch.stack(outputs), torch.stack(cell_output)


@dataclass(frozen=True)
class EndTimes:
    """One 2b trial: when the cell was added, the first check at which every one of the
    check's fresh sequences was right at its end (ABS(0.25), the criterion of 2b judged on
    ``size`` sequences instead of 10,000; None: not within budget), and the fraction right at
    the last check."""

    seed: int
    fired_at: int | None
    solved: int | None
    last_fraction: float


def end_times(experiment: Experiment, seeds: Sequence[int], budget: int, every: int,
              size: int) -> list[EndTimes]:
    """Train ``seeds`` of ``experiment`` (2b or a reading of it) as ``reproduce`` does and
    every ``every`` sequences judge each net at the sequence end on ``size`` fresh sequences
    (the same ones for every net at a check; drawn from a generator seeded with the check's
    sequence count)."""
    task = experiment.make_task(0)
    if not isinstance(task, NoiseFreeLongLag) or not task.random_middle:
        raise ValueError(f"experiment: expected 2b or a reading of it, received "
                         f"{experiment.name!r}")
    if budget < 1 or every < 1 or size < 1:
        raise ValueError(f"budget, every, size: expected >= 1, received {budget}, {every}, "
                         f"{size}")
    solved: list[int | None] = [None] * len(seeds)
    fraction = [0.0] * len(seeds)
    members: tuple = ()
    for point in probe_training(experiment, seeds, budget, every):
        presented, template, weights, members = point
        if presented == 0:
            continue
        check = task.sample(size, torch.Generator().manual_seed(presented))
        inputs = check.inputs.to(torch.float64).unsqueeze(1).expand(-1, len(seeds), -1, -1)
        with torch.no_grad():
            outputs, _ = template(inputs, weights=weights)  # (T, K, B, O)
        for k in range(len(seeds)):
            right = task.is_correct(outputs[:, k].to(check.targets.dtype), check)
            fraction[k] = float(right.float().mean())
            if solved[k] is None and bool(right.all()):
                solved[k] = presented
        if all(found is not None for found in solved):
            break
    return [EndTimes(m.seed, m.construction.fired_at if m.construction else None, found, part)
            for m, found, part in zip(members, solved, fraction, strict=True)]


def end_table(times: Sequence[EndTimes]) -> str:
    """``times`` as a Markdown table, with the count and mean of the solved ones."""
    lines = ["| seed | cell added after | all right at the end | fraction right, last check |",
             "|---|---|---|---|"]
    for t in times:
        added = "—" if t.fired_at is None else f"{t.fired_at:,}"
        solved = "—" if t.solved is None else f"{t.solved:,}"
        lines.append(f"| {t.seed} | {added} | {solved} | {t.last_fraction:.3f} |")
    reached = [t.solved for t in times if t.solved is not None]
    mean = f"{sum(reached) / len(reached):,.0f}" if reached else "—"
    lines += ["", f"- solved: {len(reached)} of {len(times)}, mean {mean}"]
    return "\n".join(lines)


def with_plateau(experiment: Experiment, window: int, min_decrease: float) -> Experiment:
    """``experiment`` with another plateau rule for the switch (a probe, not a stored row)."""
    from lstmlab.tasks import ErrorPlateau

    rule = ErrorPlateau(window=window, min_decrease=min_decrease)
    return replace(experiment, setup=replace(experiment.setup, add_cells_after=rule))


def with_input_gate_bias(experiment: Experiment, bias: float) -> Experiment:
    """``experiment`` whose input gates have bias weights starting at ``bias`` (a probe)."""
    from lstmlab.tasks import BiasedUnits
    from lstmlab.tasks._setup import weight_count

    setup = replace(experiment.setup, biased=BiasedUnits.GATES,
                    input_gate_bias=(bias,) * experiment.setup.blocks)
    return replace(experiment, setup=replace(setup, weights=weight_count(setup)))


def table(times: Sequence[PhaseTimes]) -> str:
    """``times`` as a Markdown table, with each milestone's count and mean over the seeds that
    reached it, phase 2's length (``solved - fired_at``), the unit against the drift with its
    mean forces, and in how many seeds that unit was learned after the other (or not at all)."""
    def cell(value: int | None) -> str:
        return "—" if value is None else f"{value:,}"

    def force(value: float | None) -> str:
        return "—" if value is None else f"{value:+.3f}"

    lines = ["| seed | cell added after | x unit | y unit | solved | solved - added "
             "| against the drift | its middle-step force | its last-step force |",
             "|---|---|---|---|---|---|---|---|---|"]
    for t in times:
        phase_two = None if t.solved is None or t.fired_at is None else t.solved - t.fired_at
        lines.append(f"| {t.seed} | {cell(t.fired_at)} | {cell(t.x_unit)} | {cell(t.y_unit)} "
                     f"| {cell(t.solved)} | {cell(phase_two)} | {t.against_drift or '—'} "
                     f"| {force(t.middle_force)} | {force(t.last_force)} |")
    columns = {
        "cell added after": [t.fired_at for t in times],
        "x unit": [t.x_unit for t in times], "y unit": [t.y_unit for t in times],
        "first unit": [min((u for u in (t.x_unit, t.y_unit) if u is not None), default=None)
                       for t in times],
        "second unit": [None if t.x_unit is None or t.y_unit is None
                        else max(t.x_unit, t.y_unit) for t in times],
        "solved": [t.solved for t in times],
        "winner (the most active unit right at every step)": [t.winner for t in times],
        "winner above 0.75": [t.winner_high for t in times],
        "solved - added": [t.solved - t.fired_at for t in times
                           if t.solved is not None and t.fired_at is not None]}
    lines.append("")
    for name, values in columns.items():
        reached = [v for v in values if v is not None]
        mean = f"{sum(reached) / len(reached):,.0f}" if reached else "—"
        lines.append(f"- {name}: {len(reached)} of {len(times)}, mean {mean}")
    for name in ("winner", "winner_high"):
        lines.append(f"- {name} by seed: " + ", ".join(cell(getattr(t, name)) for t in times))
    measured = [t for t in times if t.against_drift is not None]
    later = sum(_learned_later(t) for t in measured)
    lines.append(f"- the unit against the drift learned after the other or not at all: {later} "
                 f"of {len(measured)}")
    return "\n".join(lines)


def _learned_later(t: PhaseTimes) -> bool:
    """Whether ``t``'s unit against the drift was learned after the other unit (or never)."""
    own, other = (t.x_unit, t.y_unit) if t.against_drift == "x" else (t.y_unit, t.x_unit)
    return other is not None and (own is None or own > other)


def main(argv: Sequence[str] | None = None) -> str:
    """``python -m lstmlab.reproduce._construction_probe EXPERIMENT --seeds N --budget B
    [--every E] [--plateau WINDOW,MIN_DECREASE] [--learning-rate ALPHA]
    [--input-gate-bias B] [--sequence-updates] [--linear-output] [--end SIZE] [--trace]``:
    the table of :func:`table` (2b, with ``--end``: of :func:`end_table`; with ``--trace``: of
    :func:`trace_table`) for seeds 0..N-1 (trained on
    one thread, as one population). The options change the set-up for a screen (not a stored
    row): ``--input-gate-bias`` gives the input gate a bias weight starting at B,
    ``--sequence-updates`` sums a sequence's steps into one update, ``--linear-output`` makes
    the output units linear (f_k' = 1: a diagnosis of the logistic's slow tail, against the
    text's logistic units)."""
    import argparse

    from lstmlab.reproduce._method import torch_threads
    from lstmlab.reproduce._registry import experiment as named

    parser = argparse.ArgumentParser(prog="python -m lstmlab.reproduce._construction_probe")
    parser.add_argument("experiment")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, required=True)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--plateau", help="WINDOW,MIN_DECREASE (default: the set-up's rule)")
    parser.add_argument("--learning-rate", type=float, help="alpha (default: the set-up's)")
    parser.add_argument("--input-gate-bias", type=float,
                        help="the input gate's initial bias (default: the set-up's)")
    parser.add_argument("--sequence-updates", action="store_true",
                        help="one weight update per sequence (default: per step, eq. 17)")
    parser.add_argument("--end", type=int, metavar="SIZE",
                        help="2b: judge at the sequence end on SIZE fresh sequences")
    parser.add_argument("--linear-output", action="store_true",
                        help="linear output units (default: logistic, as the text)")
    parser.add_argument("--trace", action="store_true",
                        help="2a: the last-step outputs, cell output and w_kc at every check")
    args = parser.parse_args(argv)
    chosen = named(args.experiment)
    if args.learning_rate is not None:
        chosen = replace(chosen, setup=replace(chosen.setup, learning_rate=args.learning_rate))
    if args.input_gate_bias is not None:
        chosen = with_input_gate_bias(chosen, args.input_gate_bias)
    if args.sequence_updates:
        chosen = replace(chosen, setup=replace(chosen.setup, online=False))
    if args.linear_output:
        chosen = replace(chosen, setup=replace(chosen.setup, output_unit=IDENTITY))
    if args.plateau:
        window, min_decrease = args.plateau.split(",")
        chosen = with_plateau(chosen, int(window), float(min_decrease))
    with torch_threads(1):
        if args.end is not None:
            return end_table(end_times(chosen, range(args.seeds), args.budget, args.every,
                                       args.end))
        if args.trace:
            return trace_table(last_step_trace(chosen, range(args.seeds), args.budget,
                                               args.every))
        times = phase_times(chosen, range(args.seeds), args.budget, args.every)
    return table(times)


if __name__ == "__main__":
    import sys

    sys.stdout.write(main() + "\n")
