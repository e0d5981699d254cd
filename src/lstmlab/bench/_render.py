"""The bench table and the trace account, rendered from the store alone (byte for byte).

``render(rows)`` -> (markdown, csv): per task, a row per cell with means over seeds and their
95 % percentile-bootstrap intervals, the share of seeds that generalize with its Wilson
interval, and the trace account (``trace_stats``). No clock, path or machine enters the text,
so the same store gives the same files anywhere (tested against the committed ones).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from statistics import median

from lstmlab.bench._models import CELLS
from lstmlab.bench._tasks import TASKS
from lstmlab.stats import bootstrap_mean_interval, wilson_interval

GENERALIZES = 0.9
"""A seed generalizes when its final-step accuracy is at least this at every test length
beyond the longest train length."""

NAMES = {
    "lstm": "LSTM (forget gate, torch's kernel)", "lstm1997": "LSTM 1997 (no forget gate)",
    "gru": "GRU", "slstm": "sLSTM", "mlstm": "mLSTM", "minlstm": "minLSTM",
    "mingru": "minGRU", "elman": "Elman RNN",
}
CHANCE = {"parity": "1/2", "modular": "1/5", "revision": "about 1/4"}
LATENT = {"parity": "the running parity", "modular": "the running sum mod 5",
          "revision": "the value key 0 holds"}


def _mean(values: list[float]) -> tuple[float, float, float]:
    """Mean and bootstrap interval; a single seed has no interval (NaN bounds, shown as "-")."""
    if len(values) < 2:
        return sum(values) / len(values), float("nan"), float("nan")
    _, low, high = bootstrap_mean_interval(values)
    return sum(values) / len(values), low, high


def _cell(estimate: tuple[float, float, float]) -> str:
    if estimate[1] != estimate[1]:  # NaN: one seed, no interval
        return f"{estimate[0]:.2f} [-]"
    return f"{estimate[0]:.2f} [{estimate[1]:.2f}, {estimate[2]:.2f}]"


def _reading(short: float, long: float) -> str:
    """The trace's verdict from the best state field's probe accuracy (train lengths, beyond)."""
    if short >= 0.9 and long >= 0.9:
        return "linearly readable from the state at train lengths and beyond"
    if short >= 0.9:
        return "linearly readable at train lengths; the code degrades beyond them"
    return "not reliably readable from the state (probe < 0.9), even at train lengths"


def _average(trials: list[dict], field: str, key: str) -> list[float]:
    values = [t["trace"][field][key] for t in trials]
    return [sum(column) / len(values) for column in zip(*values, strict=True)]


def _csv_value(value: object) -> object:
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, list):
        return " ".join(f"{v:.6f}" for v in value)
    return value


def _groups(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[row["task"], row["cell"]].append(row)
    return groups


def summary(rows: list[dict], train_length: int) -> list[dict]:
    """One dict per (task, cell) in the order of ``TASKS`` and ``CELLS``: the CSV's rows."""
    table = []
    groups = _groups(rows)
    for task in TASKS:
        for cell in CELLS:
            trials = sorted(groups.get((task, cell), []), key=lambda r: r["seed"])
            if not trials:
                continue
            lengths = sorted(trials[0]["accuracy"], key=int)
            beyond = [length for length in lengths if int(length) > train_length]
            line: dict = {"task": task, "cell": cell, "seeds": len(trials)}
            mean, low, high = _mean([t["train_accuracy"] for t in trials])
            line.update(train_accuracy=mean, train_low=low, train_high=high)
            for length in lengths:
                mean, low, high = _mean([t["accuracy"][length] for t in trials])
                line.update({f"accuracy_{length}": mean, f"accuracy_{length}_low": low,
                             f"accuracy_{length}_high": high})
            solved = sum(all(t["accuracy"][length] >= GENERALIZES for length in beyond)
                         for t in trials)
            _, low, high = wilson_interval(solved, len(trials))
            line.update(generalized=solved, generalized_low=low, generalized_high=high,
                        median_steps=median(t["steps"] for t in trials))
            for name, entry in trials[0]["trace"].items():
                for key, value in entry.items():
                    if isinstance(value, list):
                        line[f"{name}.{key}"] = _average(trials, name, key)
                    else:
                        line[f"{name}.{key}"] = sum(t["trace"][name][key] for t in trials) / len(
                            trials)
            table.append(line)
    return table


def render(rows: list[dict], train_length: int = 40) -> tuple[str, str]:
    """(markdown, csv) of the bench from its store rows; see the module docstring."""
    table = summary(rows, train_length)
    out = ["# State tracking and storage revision: the LSTM family", "",
           "Generated by `lstmlab bench-tasks --render-only` from the store "
           "`state_tracking.trials.jsonl` beside this file (one row per trial); do not edit "
           "by hand.", "",
           "Published expectation (Beck et al. 2024, xLSTM, §4.1 \"Formal languages\", on "
           "tasks from Delétang et al. 2023): only cells with memory mixing (a recurrent "
           "connection from h into the gates: LSTM, sLSTM) solve parity and modular "
           "arithmetic and generalize in length; linear recurrences (mLSTM alone, and by the "
           "same argument minLSTM and minGRU, whose gates read only x_t) cannot.", "",
           "Tasks (`lstmlab.bench.TASKS`): running parity, running sum mod 5, key-value "
           "storage revision (4 keys re-assigned among 4 values, a query per step).",
           f"Train lengths 3-{train_length}; accuracy is the answer after the last step "
           "(final-step accuracy) at each test length, mean over seeds [95 % bootstrap "
           "interval]. *Generalizes*: seeds with final-step accuracy >= "
           f"{GENERALIZES} at every test length > {train_length} [95 % Wilson interval].", ""]
    for task in TASKS:
        lines = [line for line in table if line["task"] == task]
        if not lines:
            continue
        lengths = sorted((k.split("_")[1] for k in lines[0]
                          if k.startswith("accuracy_") and k.count("_") == 1), key=int)
        out += [f"## {task} (chance {CHANCE[task]})", "",
                "| cell | seeds | train acc. (per step, T=" + str(train_length) + ") | "
                + " | ".join(f"acc. T={length}" for length in lengths)
                + " | generalizes | median steps |",
                "|---|---|---|" + "---|" * len(lengths) + "---|---|"]
        for line in lines:
            accuracies = " | ".join(
                _cell((line[f"accuracy_{n}"], line[f"accuracy_{n}_low"],
                       line[f"accuracy_{n}_high"])) for n in lengths)
            out.append(
                f"| {NAMES[line['cell']]} | {line['seeds']} | "
                f"{_cell((line['train_accuracy'], line['train_low'], line['train_high']))} | "
                f"{accuracies} | {line['generalized']}/{line['seeds']} "
                f"[{line['generalized_low']:.2f}, {line['generalized_high']:.2f}] | "
                f"{line['median_steps']:g} |")
        out += ["", f"Trace account, {LATENT[task]} (`lstmlab.bench._trace_stats`, means over "
                "seeds of a recorded run of the trace length): *probe*, the accuracy of a "
                "ridge readout of it from each state field, fitted at train lengths, scored "
                "there -> past them; *unit*, the best unit's eta2 against it there -> past them"
                + ("; *flips*, how often that unit's centred value changes sign at a 1 / at a "
                   "0" if task == "parity" else "")
                + "; *gate*, the gate unit most driven by the symbol read (eta2) and its mean "
                "for each symbol.", "",
                "| cell | probe | unit | gate | reading |", "|---|---|---|---|---|"]
        for line in lines:
            states = sorted({k.split(".")[1] for k in line if k.startswith("state.")})
            probes = ", ".join(f"{s} {line[f'state.{s}.probe'][0]:.2f} -> "
                               f"{line[f'state.{s}.probe'][1]:.2f}" for s in states)
            # the field read best past the train lengths; among equals the one with the
            # clearest single unit (the flips are that unit's)
            best = max(states, key=lambda s: (round(line[f"state.{s}.probe"][1], 2),
                                              line[f"state.{s}.eta2"][0], s))
            unit = (f"{best} {line[f'state.{best}.eta2'][0]:.2f} -> "
                    f"{line[f'state.{best}.eta2'][1]:.2f}")
            if task == "parity":
                flips = line[f"state.{best}.flips"]
                unit += f"; flips {flips[1]:.2f} / {flips[0]:.2f}"
            gates = sorted({k.split(".")[1] for k in line if k.startswith("gate.")})
            driven = max(gates, key=lambda g: (line[f"gate.{g}.symbol_eta2"], g))
            means = " / ".join(f"{m:.2f}" for m in line[f"gate.{driven}.symbol_means"])
            gate = f"{driven} {line[f'gate.{driven}.symbol_eta2']:.2f}: {means}"
            out.append(f"| {NAMES[line['cell']]} | {probes} | {unit} | {gate} | "
                       f"{_reading(*line[f'state.{best}.probe'])} |")
        out.append("")
    buffer = io.StringIO()
    columns = sorted({key for line in table for key in line} - {"task", "cell"})
    writer = csv.DictWriter(buffer, ["task", "cell", *columns], lineterminator="\n")
    writer.writeheader()
    for line in table:
        writer.writerow({k: _csv_value(v) for k, v in line.items()})
    return "\n".join(out), buffer.getvalue()
