"""Train every cell of the family on every task for several seeds; one stored row per trial.

A trial (task, cell, seed): Adam on batches of one random length in ``train_lengths`` with a
cross-entropy loss at every step, gradient norm clipped to 1; every ``eval_every`` steps the
per-step accuracy on a fixed validation batch of the longest train length, stopping early once
it reaches ``target``, or when it has not risen by 0.005 for ``patience`` steps (a cell that
cannot learn the task stops trying; one still learning goes on to ``max_steps``). Then the
final-step accuracy (the answer after the whole sequence) on ``test_batch`` fresh sequences
of each of ``test_lengths`` (the same sequences for every cell of a seed), and the trace
statistics of ``trace_stats`` on a recorded run of ``trace_length`` steps. Each finished
trial is appended as one JSON line to the store at once (``run`` skips the trials already
there: a killed run started again resumes).
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from lstmlab.bench.models import CELLS, BenchModel
from lstmlab.bench.tasks import TASKS, LabelledBatch
from lstmlab.bench.trace_stats import field_report
from lstmlab.errors import UserError


@dataclass(frozen=True)
class BenchConfig:
    """Sizes of a bench run; every trial of one store shares them (``key``)."""

    hidden_size: int = 32
    batch_size: int = 32
    learning_rate: float = 1e-2
    max_steps: int = 500
    eval_every: int = 50
    target: float = 0.999
    patience: int = 300
    train_lengths: tuple[int, int] = (3, 40)
    test_lengths: tuple[int, ...] = (40, 64, 128, 256)
    test_batch: int = 128
    trace_length: int = 128
    trace_batch: int = 32

    @classmethod
    def quick(cls) -> BenchConfig:
        """A smoke run of the same code in seconds (numbers not meaningful)."""
        return cls(hidden_size=8, batch_size=8, max_steps=4, eval_every=2, patience=2,
                   train_lengths=(3, 6), test_lengths=(6, 12), test_batch=8,
                   trace_length=12, trace_batch=4)

    def key(self) -> str:
        """A short stable digest of the sizes: rows of other sizes cannot mix into a store."""
        text = json.dumps(asdict(self), sort_keys=True)
        return f"{zlib.crc32(text.encode()):08x}"


def _generator(*parts: object) -> torch.Generator:
    return torch.Generator().manual_seed(zlib.crc32(repr(parts).encode()))


def _final_accuracy(model: BenchModel, batch: LabelledBatch) -> float:
    with torch.no_grad():
        logits = model(batch.inputs)[-1]
    return float((logits.argmax(-1) == batch.labels[-1]).double().mean())


def _rounded(value: float | list[float]) -> float | list[float]:
    return [round(v, 4) for v in value] if isinstance(value, list) else round(value, 4)


def run_trial(config: BenchConfig, task_name: str, cell: str, seed: int) -> dict:
    """Train and measure one trial; returns its row (module docstring)."""
    task = TASKS[task_name]
    started = time.perf_counter()
    torch.manual_seed(zlib.crc32(repr((cell, seed)).encode()))
    model = BenchModel(cell, task.input_size, config.hidden_size, task.classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    data = _generator(task_name, seed, "train")
    low, high = config.train_lengths
    validation = task.draw(high, 4 * config.batch_size, _generator(task_name, seed, "valid"))
    steps, train_accuracy, best, best_step = 0, 0.0, 0.0, 0
    while steps < config.max_steps:
        length = int(torch.randint(low, high + 1, (1,), generator=data))
        batch = task.draw(length, config.batch_size, data)
        logits = model(batch.inputs)
        loss = F.cross_entropy(logits.flatten(0, 1), batch.labels.flatten())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        steps += 1
        if steps % config.eval_every == 0 or steps == config.max_steps:
            with torch.no_grad():
                predicted = model(validation.inputs).argmax(-1)
            train_accuracy = float((predicted == validation.labels).double().mean())
            if train_accuracy >= best + 0.005:
                best, best_step = train_accuracy, steps
            if train_accuracy >= config.target or steps - best_step >= config.patience:
                break
    accuracy = {}
    for length in config.test_lengths:
        test = task.draw(length, config.test_batch, _generator(task_name, seed, "test", length))
        accuracy[str(length)] = round(_final_accuracy(model, test), 6)
    traced = task.draw(config.trace_length, config.trace_batch,
                       _generator(task_name, seed, "trace"))
    recording = model.trace(traced.inputs)
    named = {f"state.{k}": v for k, v in zip(recording.states._fields, recording.states,
                                               strict=True)}
    named.update({f"gate.{k}": v for k, v in zip(recording.gates._fields, recording.gates,
                                                 strict=True)})
    report = field_report(named, traced.latent, task.latent_classes, traced.symbol,
                          task.symbols, short=min(high, config.trace_length),
                          long_from=config.trace_length // 2)
    return {
        "task": task_name, "cell": cell, "seed": seed, "config": config.key(),
        "steps": steps, "train_accuracy": round(train_accuracy, 6), "accuracy": accuracy,
        "trace": {name: {key: _rounded(value) for key, value in entry.items()}
                  for name, entry in report.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }


def read_store(path: Path) -> list[dict]:
    """The rows of a store (JSON lines); a torn last line (a killed write) is ignored."""
    if not path.exists():
        return []
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number != len(lines) - 1:
                raise UserError(f"{path}: line {number + 1} is not a JSON row") from None
    return rows


def run(config: BenchConfig, store: Path, tasks: Iterable[str], cells: Iterable[str],
        seeds: Iterable[int], on_trial: Callable[[dict], None] | None = None) -> list[dict]:
    """Run every missing (task, cell, seed) trial, appending each row to ``store`` as it
    finishes; returns all rows of the store."""
    tasks, cells, seeds = list(tasks), list(cells), list(seeds)
    for name, chosen, known in (("task", tasks, TASKS), ("cell", cells, CELLS)):
        unknown = [c for c in chosen if c not in known]
        if unknown:
            raise UserError(f"{name}: expected some of {', '.join(known)}, got "
                            f"{', '.join(unknown)}")
    rows = read_store(store)
    other = {row["config"] for row in rows} - {config.key()}
    if other:
        raise UserError(f"{store} holds trials of other sizes (config {', '.join(other)}); "
                        "give another --out folder")
    done = {(row["task"], row["cell"], row["seed"]) for row in rows}
    store.parent.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        for task in tasks:
            for cell in cells:
                if (task, cell, seed) in done:
                    continue
                row = run_trial(config, task, cell, seed)
                with store.open("a", encoding="utf-8") as file:
                    file.write(json.dumps(row, sort_keys=True) + "\n")
                rows.append(row)
                if on_trial is not None:
                    on_trial(row)
    return rows
