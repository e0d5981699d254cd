"""The reproduction runner: experiments × methods × trials, every trial stored as it finishes.

``run(config)`` walks the experiments and methods of a :class:`ReproduceConfig`. For each pair it
asks the store which seeds are already finished under the same settings (``config_hash``), hands
only the missing seeds to the method, and commits each result the moment the method yields it.
A run killed at any point and started again therefore skips what is done and loses nothing, and
ends with the same rows as an uninterrupted run (methods are deterministic per seed).
A method that can checkpoint its unfinished trials (``with_checkpoints(directory, config_hash)``,
e.g. ``lstm1997``) is given ``<out>/checkpoints`` and resumes them instead of restarting them;
with ``keep_nets`` it is also given ``<out>/nets``, where each finished trial's network is written
at its stop (what the probes' ``--checkpoints`` read).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lstmlab.errors import UserError
from lstmlab.native import numerics_tag
from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._fingerprint import canonical, code_version, config_hash
from lstmlab.reproduce._html import html_page
from lstmlab.reproduce._method import Method
from lstmlab.reproduce._results import ExperimentResults, MethodSummary, RunResults
from lstmlab.reproduce._store import TrialStore
from lstmlab.reproduce._tables import markdown_report

STORE_NAME = "trials.sqlite"
CHECKPOINT_DIR = "checkpoints"
NETS_DIR = "nets"


@dataclass(frozen=True)
class ReproduceConfig:
    """What to run. ``trials``/``budget`` of None mean the paper's (or, with ``quick``, the
    experiment's tiny ones). Trial k uses seed ``first_seed + k``. Everything goes under ``out``:
    the store ``trials.sqlite`` and the tables ``results.md`` / ``results.html``.
    ``report_only`` runs nothing: the tables show what the store already holds (e.g. while
    other processes are still filling it). ``keep_nets``: each finished ``lstm1997`` trial's
    network, as it was at its stop, is also written to ``out/nets`` (same file format as the
    checkpoints; the stored numbers do not change)."""

    experiments: tuple[Experiment, ...]
    methods: tuple[Method, ...]
    trials: int | None = None
    budget: int | None = None
    quick: bool = False
    out: Path = Path("reproduce")
    first_seed: int = 0
    write_tables: bool = True
    report_only: bool = False
    keep_nets: bool = False

    def __post_init__(self) -> None:
        if not self.experiments:
            raise ValueError("experiments: expected at least one experiment, received none")
        if not self.methods:
            raise ValueError("methods: expected at least one method, received none")
        for name, value in (("trials", self.trials), ("budget", self.budget)):
            if value is not None and value < 1:
                raise ValueError(f"{name}: expected a positive integer or None, received {value}")
        if self.keep_nets and not any(m.name == "lstm1997" for m in self.methods):
            raise UserError(
                "--keep-nets: expected with --method lstm1997 (the method whose trials are "
                "networks kept at their stops), received "
                f"{', '.join(m.name for m in self.methods)}")
        for experiment in self.experiments:
            others = [m.name for m in self.methods if experiment.method not in (None, m.name)]
            if others:  # another method would run the competitor's task with its own net
                raise UserError(
                    f"experiment {experiment.name}: expected --method {experiment.method} (a "
                    f"set-up of [H97]'s {experiment.method}), received {', '.join(others)}")

    def trials_for(self, experiment: Experiment) -> int:
        if self.trials is not None:
            return self.trials
        return experiment.quick_trials if self.quick else experiment.trials

    def budget_for(self, experiment: Experiment) -> int:
        if self.budget is not None:
            return self.budget
        return experiment.quick_budget if self.quick else experiment.budget


@dataclass(frozen=True)
class RunProgress:
    """A progress report: trials done of the current (experiment, method), training sequences
    presented in this run so far, and the best recent training error of any running trial."""

    experiment: str
    method: str
    trials_done: int
    trials_total: int
    sequences_seen: int
    best_error: float


def trial_config_hash(method: Method, experiment: Experiment, budget: int) -> tuple[str, str]:
    """The store key of every setting that changes a trial's numbers, and its description."""
    parts = (experiment.name, experiment.setup, experiment.eval_batch_size, method.name,
             method.fingerprint(experiment), budget)
    tag = numerics_tag()
    if tag is not None:  # kernels built with -march=native: numbers of this CPU only
        parts += (tag,)
    return config_hash(*parts), canonical(parts)


def run(
    config: ReproduceConfig, progress: Callable[[RunProgress], None] | None = None
) -> RunResults:
    """Run every missing trial of ``config``, storing each as it finishes; return all rows.

    ``progress`` is called after every finished trial and whenever a method reports.
    """
    started = time.perf_counter()
    report = progress or (lambda _: None)
    out = Path(config.out)
    store_path = out / STORE_NAME
    collected: list[ExperimentResults] = []
    with TrialStore(store_path) as store:
        for experiment in config.experiments:
            summaries = []
            for method in config.methods:
                summaries.append(_run_pair(config, store, experiment, method, report))
            collected.append(ExperimentResults(experiment, tuple(summaries)))
            if config.write_tables:
                _write_tables(config, collected, time.perf_counter() - started, store_path)
    results = RunResults(tuple(collected), time.perf_counter() - started, store_path, config.quick)
    if config.write_tables:
        _write_tables(config, collected, results.wall_time, store_path)
    return results


def _run_pair(
    config: ReproduceConfig,
    store: TrialStore,
    experiment: Experiment,
    method: Method,
    report: Callable[[RunProgress], None],
) -> MethodSummary:
    budget = config.budget_for(experiment)
    key, description = trial_config_hash(method, experiment, budget)
    store.describe_config(key, description)
    seeds = [config.first_seed + k for k in range(config.trials_for(experiment))]
    wanted = set(seeds)
    done = store.finished_seeds(experiment.name, method.name, key) & wanted
    missing: Sequence[int] = [seed for seed in seeds if seed not in done]
    state = {"done": len(done), "sequences": 0, "best": float("inf")}

    def emit() -> None:
        report(
            RunProgress(
                experiment.name, method.name, state["done"], len(seeds),
                state["sequences"], state["best"],
            )
        )

    def on_method_progress(sequences_seen: int, best_error: float) -> None:
        state["sequences"] = sequences_seen
        state["best"] = min(state["best"], best_error)
        emit()

    emit()
    if missing and not config.report_only:
        version = code_version()
        resumable = getattr(method, "with_checkpoints", None)
        kept = {"nets": Path(config.out) / NETS_DIR} if config.keep_nets else {}
        runnable = (resumable(Path(config.out) / CHECKPOINT_DIR, key, **kept) if resumable
                    else method)
        for result in runnable.run_trials(experiment, missing, budget, on_method_progress):
            if result.seed not in wanted:
                raise ValueError(
                    f"method {method.name!r}: expected results for seeds {sorted(missing)},"
                    f" received seed {result.seed}"
                )
            store.add(experiment.name, method.name, result.seed, key, result, version)
            state["done"] += 1
            emit()
    results = store.results(experiment.name, method.name, key, seeds=wanted)
    return MethodSummary(method.name, budget, key, tuple(results))


def _write_tables(
    config: ReproduceConfig,
    collected: list[ExperimentResults],
    wall_time: float,
    store_path: Path,
) -> None:
    partial = RunResults(tuple(collected), wall_time, store_path, config.quick)
    out = Path(config.out)
    _write_atomically(out / "results.md", markdown_report(partial))
    _write_atomically(out / "results.html", html_page(partial))


def _write_atomically(path: Path, text: str) -> None:
    # A run killed while writing must not leave half a table behind: write, then rename.
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text)
    os.replace(partial, path)
