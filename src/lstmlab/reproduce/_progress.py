"""A rich progress bar for ``run(config, progress=...)``, for the command line to use.

One bar per (experiment, method): trials done of trials asked for, training sequences seen in
this run, and the best recent training error of any running trial::

    with progress_bar() as report:
        results = run(config, progress=report)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from lstmlab.reproduce._runner import RunProgress


@contextmanager
def progress_bar(console: Console | None = None) -> Iterator[Callable[[RunProgress], None]]:
    """Yield a callback for :func:`lstmlab.reproduce.run` that draws one bar per pair."""
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("trials  {task.fields[sequences]:>12,} seqs  best error {task.fields[best]}"),
        TimeElapsedColumn(),
        console=console,
    )
    tasks: dict[tuple[str, str], TaskID] = {}

    def report(update: RunProgress) -> None:
        key = (update.experiment, update.method)
        best = "—" if update.best_error == float("inf") else f"{update.best_error:.4f}"
        if key not in tasks:
            tasks[key] = bars.add_task(
                f"exp {update.experiment} {update.method}", total=update.trials_total,
                sequences=0, best=best)
        bars.update(tasks[key], completed=update.trials_done, sequences=update.sequences_seen,
                    best=best)

    with bars:
        yield report
